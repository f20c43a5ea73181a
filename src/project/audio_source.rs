//! The audio of catalog tracks, whatever their source: decoded from files or synthesized by the
//! demo world. Demo recipes are generated once per world seed, not once per track.

use std::collections::HashMap;

use super::source::TrackSource;
use super::Track;
use crate::audio::player::{FileSource, PcmSource};
use crate::audio::{self, AudioError};
use crate::demo::{self, DemoSource, Recipe};

/// Resolves the audio of a fixed list of tracks (row i is track i).
pub struct TrackAudio {
    sources: Vec<TrackSource>,
    recipes: HashMap<(u64, usize), Recipe>,
}

impl TrackAudio {
    /// Prepares `tracks`: parses their sources and generates the recipes of demo tracks.
    pub fn new(tracks: &[Track]) -> Self {
        let sources: Vec<TrackSource> = tracks
            .iter()
            .map(|t| TrackSource::parse(&t.source))
            .collect();
        let mut last_index: HashMap<u64, usize> = HashMap::new();
        for source in &sources {
            if let TrackSource::Demo { seed, index } = *source {
                let last = last_index.entry(seed).or_default();
                *last = (*last).max(index);
            }
        }
        // The demo catalog is prefix-stable: a world as long as the largest index holds them all.
        let mut recipes = HashMap::new();
        for (seed, last) in last_index {
            let config = demo::WorldConfig {
                tracks: last + 1,
                users: 0,
                seed,
            };
            for track in demo::generate(&config).tracks {
                recipes.insert((seed, track.index), track.recipe);
            }
        }
        Self { sources, recipes }
    }

    /// The source of track `row`.
    pub fn source(&self, row: usize) -> Option<&TrackSource> {
        self.sources.get(row)
    }

    /// Whether track `row` has audio.
    pub fn has_audio(&self, row: usize) -> bool {
        self.source(row).is_some_and(TrackSource::has_audio)
    }

    /// The recipe of demo track `index` of world `seed`.
    pub fn recipe(&self, seed: u64, index: usize) -> Result<&Recipe, String> {
        self.recipes
            .get(&(seed, index))
            .ok_or_else(|| format!("demo:{seed}:{index}: no such demo track"))
    }

    /// Track `row`'s analysed excerpt (the middle 30 s, mono 22050 Hz), or why there is none.
    pub fn excerpt(&self, row: usize) -> Result<Vec<f32>, String> {
        match self.source(row) {
            None => Err(format!("track {row} is not in the catalog")),
            Some(TrackSource::File(path)) => audio::load_excerpt(path)
                .map(|decoded| decoded.samples)
                .map_err(|e| e.to_string()),
            Some(TrackSource::Demo { seed, index }) => {
                Ok(demo::render_excerpt(self.recipe(*seed, *index)?))
            }
            Some(source @ TrackSource::LogOnly(_)) => Err(format!(
                "{source}: no audio (known only from a listening log)"
            )),
        }
    }

    /// Track `row`'s whole audio (mono 22050 Hz), or why there is none; for the whole-track
    /// spectrogram.
    pub fn whole(&self, row: usize) -> Result<Vec<f32>, String> {
        match self.source(row) {
            None => Err(format!("track {row} is not in the catalog")),
            Some(TrackSource::File(path)) => audio::load_full(path)
                .map(|decoded| decoded.samples)
                .map_err(|e| e.to_string()),
            Some(TrackSource::Demo { seed, index }) => {
                let recipe = self.recipe(*seed, *index)?;
                Ok(demo::render(recipe, 0, recipe.length_samples as usize))
            }
            Some(source @ TrackSource::LogOnly(_)) => Err(format!(
                "{source}: no audio (known only from a listening log)"
            )),
        }
    }

    /// A stream of track `row` for the player.
    pub fn playable(&self, row: usize) -> Result<Box<dyn PcmSource>, String> {
        match self.source(row) {
            None => Err(format!("track {row} is not in the catalog")),
            Some(TrackSource::File(path)) => FileSource::open(path)
                .map(|s| Box::new(s) as Box<dyn PcmSource>)
                .map_err(|e: AudioError| e.to_string()),
            Some(TrackSource::Demo { seed, index }) => {
                Ok(Box::new(DemoSource::new(self.recipe(*seed, *index)?)))
            }
            Some(source @ TrackSource::LogOnly(_)) => Err(format!(
                "{source}: no audio (known only from a listening log)"
            )),
        }
    }
}
