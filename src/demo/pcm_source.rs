//! Demo tracks as a [`PcmSource`] for the player: rendered on demand, chunk by chunk, so
//! playback starts at once anywhere in the track.

use super::{Recipe, TrackRenderer};
use crate::audio::player::PcmSource;
use crate::audio::{AudioError, ANALYSIS_RATE_HZ};

/// Samples handed to the player per block (about 0.19 s).
const BLOCK_SAMPLES: usize = 4096;

/// A demo track streamed from its recipe, mono at 22050 Hz.
pub struct DemoSource {
    renderer: TrackRenderer,
    next_sample: usize,
}

impl DemoSource {
    pub fn new(recipe: &Recipe) -> Self {
        Self {
            renderer: TrackRenderer::new(recipe),
            next_sample: 0,
        }
    }
}

impl PcmSource for DemoSource {
    fn sample_rate_hz(&self) -> u32 {
        ANALYSIS_RATE_HZ
    }

    fn channels(&self) -> usize {
        1
    }

    fn seek_secs(&mut self, secs: f64) -> Result<(), AudioError> {
        let sample = (secs.max(0.0) * f64::from(ANALYSIS_RATE_HZ)).round() as usize;
        self.next_sample = sample.min(self.renderer.len_samples());
        Ok(())
    }

    fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        let len = self.renderer.len_samples();
        if self.next_sample >= len {
            return Ok(false);
        }
        let n = BLOCK_SAMPLES.min(len - self.next_sample);
        out.extend(self.renderer.render(self.next_sample, n));
        self.next_sample += n;
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_the_same_samples_as_a_render_from_any_start() {
        let recipe = crate::demo::track(1, 3).recipe;
        let mut source = DemoSource::new(&recipe);
        source.seek_secs(20.0).unwrap();
        let mut streamed = Vec::new();
        while streamed.len() < 3 * BLOCK_SAMPLES {
            assert!(source.read_block(&mut streamed).unwrap());
        }
        let direct = crate::demo::render(&recipe, 20 * 22050, streamed.len());
        assert_eq!(streamed, direct);
        source.seek_secs(1e6).unwrap();
        assert!(!source.read_block(&mut streamed).unwrap());
    }
}
