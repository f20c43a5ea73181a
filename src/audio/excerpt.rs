//! The audio every analysis sees: a file decoded to mono at [`ANALYSIS_RATE_HZ`], whole or just
//! its middle [`EXCERPT_SAMPLES`] (DESIGN.md). The excerpt is read by seeking, so a long file is
//! never decoded or held whole.

use std::path::Path;

use super::decode::{AudioError, AudioStream};
use super::resample::Resampler;
use super::{ANALYSIS_RATE_HZ, EXCERPT_SAMPLES};

/// Mono audio at [`ANALYSIS_RATE_HZ`].
#[derive(Clone, Debug)]
pub struct Decoded {
    /// samples: [n] mono at 22050 Hz.
    pub samples: Vec<f32>,
    pub source_rate_hz: u32,
    /// Problems that did not stop decoding, each naming the file.
    pub warnings: Vec<String>,
}

/// First sample of the middle excerpt of a track of `n_samples` at 22050 Hz (DESIGN.md):
/// `max(0, (n - 661500) / 2)`.
pub fn excerpt_start(n_samples: usize) -> usize {
    n_samples.saturating_sub(EXCERPT_SAMPLES) / 2
}

/// The middle [`EXCERPT_SAMPLES`] of audio already at 22050 Hz, zero-padded at the end when
/// shorter.
pub fn take_excerpt(samples: &[f32]) -> Vec<f32> {
    let start = excerpt_start(samples.len());
    let end = (start + EXCERPT_SAMPLES).min(samples.len());
    let mut excerpt = Vec::with_capacity(EXCERPT_SAMPLES);
    excerpt.extend_from_slice(&samples[start..end]);
    excerpt.resize(EXCERPT_SAMPLES, 0.0);
    excerpt
}

/// The whole track, mono at 22050 Hz.
pub fn load_full(path: &Path) -> Result<Decoded, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let mut pipeline = MonoPipeline::new(&stream, path)?;
    let mut samples = Vec::new();
    pipeline.run(&mut stream, &mut samples, None)?;
    pipeline.finish(stream, samples, Vec::new())
}

/// Exactly [`EXCERPT_SAMPLES`] samples: the middle 30 s at 22050 Hz, as
/// `take_excerpt(&load_full(path)?.samples)` would give, but decoding only the excerpt (plus
/// margins) after a seek. Falls back to a full decode, with a warning, when the container does
/// not give the track's length, the seek fails, or the audio ends before the excerpt does (the
/// declared length was wrong, so its middle was too: what decodes decides).
pub fn load_excerpt(path: &Path) -> Result<Decoded, AudioError> {
    let mut stream = AudioStream::open(path)?;
    let mut pipeline = MonoPipeline::new(&stream, path)?;
    let Some(native_frames) = stream.num_frames() else {
        let warning = format!(
            "{}: the container does not give the track's length; decoded the whole file to find \
             its middle",
            path.display()
        );
        return excerpt_of_full_decode(stream, pipeline, vec![warning]);
    };

    let source_rate = u64::from(stream.sample_rate_hz());
    let target_rate = u64::from(ANALYSIS_RATE_HZ);
    let declared_len = (native_frames * target_rate).div_ceil(source_rate);
    let start = excerpt_start(usize::try_from(declared_len).unwrap_or(usize::MAX)) as u64;
    // Start decoding on a resampler block boundary (so the resampled samples equal those of a
    // full decode) two blocks before the excerpt, the filter's run-in.
    let block = pipeline.resampler.block_frames() as u64;
    let start_native = start * source_rate / target_rate;
    let first_frame = start_native.saturating_sub(2 * block) / block * block;
    // Output sample 0 of this run is sample `first_output` of a full decode: block boundaries
    // lie on the output grid (block is a multiple of source_rate / gcd).
    let first_output = first_frame * target_rate / source_rate;
    if first_frame > 0 {
        if let Err(error) = stream.seek_frame(first_frame) {
            let warning = format!("{error}; decoded the whole file instead");
            let stream = AudioStream::open(path)?;
            return excerpt_of_full_decode(stream, pipeline, vec![warning]);
        }
    }

    let skip = (start - first_output) as usize;
    let wanted = skip + EXCERPT_SAMPLES;
    let mut samples = Vec::with_capacity(wanted);
    pipeline.run(&mut stream, &mut samples, Some(wanted))?;
    if start > 0 && samples.len() < wanted {
        // (The stream's own warnings say how it ended early; the full decode repeats them.)
        let stream = AudioStream::open(path)?;
        let pipeline = MonoPipeline::new(&stream, path)?;
        return excerpt_of_full_decode(stream, pipeline, Vec::new());
    }
    samples.truncate(wanted);
    let mut decoded = pipeline.finish(stream, samples, Vec::new())?;
    decoded.samples.drain(..skip.min(decoded.samples.len()));
    decoded.samples.resize(EXCERPT_SAMPLES, 0.0);
    Ok(decoded)
}

fn excerpt_of_full_decode(
    mut stream: AudioStream,
    mut pipeline: MonoPipeline,
    warnings: Vec<String>,
) -> Result<Decoded, AudioError> {
    let mut samples = Vec::new();
    pipeline.run(&mut stream, &mut samples, None)?;
    let mut decoded = pipeline.finish(stream, samples, warnings)?;
    decoded.samples = take_excerpt(&decoded.samples);
    Ok(decoded)
}

/// Decoded blocks → channel average → resampler, with buffers reused across blocks.
struct MonoPipeline {
    path: std::path::PathBuf,
    channels: usize,
    source_rate_hz: u32,
    resampler: Resampler,
    /// Native frames decoded so far.
    frames_decoded: u64,
    block: Vec<f32>,
    mono: Vec<f32>,
}

impl MonoPipeline {
    fn new(stream: &AudioStream, path: &Path) -> Result<Self, AudioError> {
        let resampler =
            Resampler::new(stream.sample_rate_hz(), ANALYSIS_RATE_HZ).map_err(|error| {
                AudioError::UnsupportedCodec {
                    path: path.to_path_buf(),
                    codec: format!("{} ({error})", stream.info().codec),
                }
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            channels: stream.channels(),
            source_rate_hz: stream.sample_rate_hz(),
            resampler,
            frames_decoded: 0,
            block: Vec::new(),
            mono: Vec::new(),
        })
    }

    /// Decodes into `out` until the stream ends (then flushes the resampler) or `out` holds
    /// `limit` samples.
    fn run(
        &mut self,
        stream: &mut AudioStream,
        out: &mut Vec<f32>,
        limit: Option<usize>,
    ) -> Result<(), AudioError> {
        loop {
            if limit.is_some_and(|limit| out.len() >= limit) {
                return Ok(());
            }
            self.block.clear();
            if !stream.read_block(&mut self.block)? {
                self.resampler.finish(out);
                return Ok(());
            }
            mix_to_mono(&self.block, self.channels, &mut self.mono);
            self.frames_decoded += self.mono.len() as u64;
            self.resampler.process(&self.mono, out);
        }
    }

    fn finish(
        self,
        stream: AudioStream,
        samples: Vec<f32>,
        mut warnings: Vec<String>,
    ) -> Result<Decoded, AudioError> {
        if self.frames_decoded == 0 {
            return Err(AudioError::Empty { path: self.path });
        }
        warnings.extend_from_slice(stream.warnings());
        Ok(Decoded {
            samples,
            source_rate_hz: self.source_rate_hz,
            warnings,
        })
    }
}

/// interleaved: [frames, channels] → mono: [frames], the mean over channels.
fn mix_to_mono(interleaved: &[f32], channels: usize, mono: &mut Vec<f32>) {
    mono.clear();
    if channels == 1 {
        mono.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    mono.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_start_follows_design_formula() {
        assert_eq!(excerpt_start(0), 0);
        assert_eq!(excerpt_start(EXCERPT_SAMPLES), 0);
        assert_eq!(excerpt_start(EXCERPT_SAMPLES - 1), 0);
        assert_eq!(excerpt_start(EXCERPT_SAMPLES + 1), 0);
        assert_eq!(excerpt_start(EXCERPT_SAMPLES + 3), 1);
        // tests/data/mel/README: a 75-s track starts its excerpt at sample 496125.
        assert_eq!(excerpt_start(75 * 22_050), 496_125);
    }

    #[test]
    fn take_excerpt_cuts_the_middle_and_pads_short_audio() {
        let long: Vec<f32> = (0..EXCERPT_SAMPLES + 10).map(|i| i as f32).collect();
        let excerpt = take_excerpt(&long);
        assert_eq!(excerpt.len(), EXCERPT_SAMPLES);
        assert_eq!(excerpt[0], 5.0);
        assert_eq!(excerpt[EXCERPT_SAMPLES - 1], (EXCERPT_SAMPLES + 4) as f32);

        let short = [1.0, 2.0, 3.0];
        let excerpt = take_excerpt(&short);
        assert_eq!(excerpt.len(), EXCERPT_SAMPLES);
        assert_eq!(&excerpt[..3], &short);
        assert!(excerpt[3..].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn mono_mix_is_the_channel_mean() {
        let mut mono = Vec::new();
        mix_to_mono(&[1.0, 3.0, -2.0, 2.0, 0.5, 0.25], 2, &mut mono);
        assert_eq!(mono, vec![2.0, 0.0, 0.375]);
        mix_to_mono(&[0.3, 0.6, 0.9], 3, &mut mono);
        assert!((mono[0] - 0.6).abs() < 1e-7);
    }
}
