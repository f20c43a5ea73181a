//! The audio of a catalog track, whatever its source: decoded from a file or synthesized by the
//! demo world.

use super::source::TrackSource;
use crate::audio;

/// The track's analysed excerpt (the middle 30 s, mono 22050 Hz), or why there is none.
pub fn load_excerpt(source: &TrackSource) -> Result<Vec<f32>, String> {
    match source {
        TrackSource::File(path) => audio::load_excerpt(path)
            .map(|decoded| decoded.samples)
            .map_err(|e| e.to_string()),
        TrackSource::Demo { .. } => Err(format!(
            "{source}: the demo synthesizer is not built in yet"
        )),
        TrackSource::LogOnly(_) => Err(format!(
            "{source}: no audio (known only from a listening log)"
        )),
    }
}
