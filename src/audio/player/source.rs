//! What the player plays: a seekable stream of interleaved f32 blocks at the source's own rate
//! and channel count, and its in-memory implementation.

use crate::audio::decode::AudioError;

use super::PlayerError;

/// A seekable stream of audio the player decodes ahead on its own thread.
///
/// Samples are interleaved f32, `[frames × channels]`, at [`PcmSource::sample_rate_hz`]; the
/// player converts them to the output's rate and channel count.
pub trait PcmSource: Send {
    fn sample_rate_hz(&self) -> u32;
    fn channels(&self) -> usize;
    /// Moves the stream so that the next block starts exactly at `secs` (clamped at 0); a time
    /// past the end leaves the stream at its end.
    fn seek_secs(&mut self, secs: f64) -> Result<(), AudioError>;
    /// Appends the next block of whole frames to `out`; `Ok(false)` once the stream has ended.
    fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError>;
}

/// Audio already in memory: a synthesized demo track, a test signal, an analysed excerpt.
#[derive(Debug, Clone)]
pub struct MemorySource {
    /// `[frames × channels]`, interleaved.
    samples: Vec<f32>,
    sample_rate_hz: u32,
    channels: usize,
    /// Index of the next frame [`PcmSource::read_block`] returns.
    next_frame: usize,
}

/// Frames per block: about 90 ms at 44.1 kHz, small enough to keep seeks and the first sound
/// quick, large enough that the decoder thread does not spin on tiny reads.
const BLOCK_FRAMES: usize = 4096;

impl MemorySource {
    /// `samples`: `[frames × channels]`, interleaved. Fails on a zero rate or channel count, or a
    /// sample count that is not a whole number of frames.
    pub fn new(
        samples: Vec<f32>,
        sample_rate_hz: u32,
        channels: usize,
    ) -> Result<Self, PlayerError> {
        if sample_rate_hz == 0 || channels == 0 {
            return Err(PlayerError::InvalidSource {
                reason: format!("in-memory audio at {sample_rate_hz} Hz with {channels} channels"),
            });
        }
        if !samples.len().is_multiple_of(channels) {
            return Err(PlayerError::InvalidSource {
                reason: format!(
                    "{} interleaved samples are not a whole number of {channels}-channel frames",
                    samples.len()
                ),
            });
        }
        Ok(Self {
            samples,
            sample_rate_hz,
            channels,
            next_frame: 0,
        })
    }

    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels
    }

    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate_hz)
    }
}

impl PcmSource for MemorySource {
    fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    fn channels(&self) -> usize {
        self.channels
    }

    fn seek_secs(&mut self, secs: f64) -> Result<(), AudioError> {
        let frame = (secs.max(0.0) * f64::from(self.sample_rate_hz)).round();
        // `as` saturates a huge or NaN time; NaN lands on frame 0.
        self.next_frame = (frame as usize).min(self.frames());
        Ok(())
    }

    fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        let end = (self.next_frame + BLOCK_FRAMES).min(self.frames());
        if self.next_frame == end {
            return Ok(false);
        }
        out.extend_from_slice(&self.samples[self.next_frame * self.channels..end * self.channels]);
        self.next_frame = end;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(source: &mut dyn PcmSource) -> Vec<f32> {
        let mut out = Vec::new();
        while source.read_block(&mut out).expect("memory never fails") {}
        out
    }

    #[test]
    fn blocks_concatenate_to_the_samples() {
        let samples: Vec<f32> = (0..2 * 10_000).map(|i| i as f32).collect();
        let mut source = MemorySource::new(samples.clone(), 8000, 2).expect("valid");
        assert_eq!(source.frames(), 10_000);
        assert_eq!(source.duration_secs(), 1.25);
        assert_eq!(read_all(&mut source), samples);
        let mut after_end = Vec::new();
        assert!(!source
            .read_block(&mut after_end)
            .expect("memory never fails"));
        assert!(after_end.is_empty());
    }

    #[test]
    fn seek_lands_on_the_frame_of_that_time() {
        let samples: Vec<f32> = (0..3 * 8000).map(|i| i as f32).collect();
        let mut source = MemorySource::new(samples, 8000, 3).expect("valid");
        // 0.25 s at 8 kHz is frame 2000, interleaved index 6000.
        source.seek_secs(0.25).expect("memory never fails");
        let rest = read_all(&mut source);
        assert_eq!(rest.len(), 3 * 6000);
        assert_eq!(rest[0], 6000.0);
        source.seek_secs(-3.0).expect("memory never fails");
        assert_eq!(read_all(&mut source)[0], 0.0);
        source.seek_secs(99.0).expect("memory never fails");
        assert!(read_all(&mut source).is_empty());
    }

    #[test]
    fn rejects_malformed_audio() {
        assert!(matches!(
            MemorySource::new(vec![0.0; 3], 8000, 2),
            Err(PlayerError::InvalidSource { .. })
        ));
        assert!(MemorySource::new(vec![0.0; 4], 0, 2).is_err());
        assert!(MemorySource::new(vec![0.0; 4], 8000, 0).is_err());
    }
}
