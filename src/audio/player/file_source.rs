//! Playing an audio file: the decoding module's block stream behind the [`PcmSource`] trait.

use std::path::Path;

use crate::audio::decode::{AudioError, AudioStream};

use super::source::PcmSource;

/// An audio file decoded on the player's decoder thread as it plays.
pub struct FileSource {
    stream: AudioStream,
}

impl FileSource {
    /// Opens and probes the file (quick: no audio is decoded yet).
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        Ok(Self {
            stream: AudioStream::open(path)?,
        })
    }
}

impl PcmSource for FileSource {
    fn sample_rate_hz(&self) -> u32 {
        self.stream.sample_rate_hz()
    }

    fn channels(&self) -> usize {
        self.stream.channels()
    }

    fn seek_secs(&mut self, secs: f64) -> Result<(), AudioError> {
        self.stream.seek_secs(secs.max(0.0)).map(|_frame| ())
    }

    fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        self.stream.read_block(out)
    }
}
