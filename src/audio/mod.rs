//! Audio in and out: decoding any supported file to mono at the analysis rate, cutting the
//! analysed middle excerpt, and playing tracks back.

pub mod decode;
pub mod excerpt;
mod mp4_edits;
pub mod player;
pub mod resample;
pub mod scan;

pub use decode::{probe_info, AudioError, AudioInfo, AudioStream, Tags};
pub use excerpt::{excerpt_start, load_excerpt, load_full, take_excerpt, Decoded};

/// The rate every analysis runs at (DESIGN.md).
pub const ANALYSIS_RATE_HZ: u32 = 22_050;
/// The analysed excerpt: the middle 30 s of a track, in samples at [`ANALYSIS_RATE_HZ`].
pub const EXCERPT_SAMPLES: usize = 30 * ANALYSIS_RATE_HZ as usize;
