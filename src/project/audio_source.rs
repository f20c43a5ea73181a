//! The audio of catalog tracks, whatever their source: decoded from files or synthesized by the
//! demo world. Demo recipes are generated once per world seed, not once per track.

use std::collections::HashMap;

use super::source::TrackSource;
use super::Track;
use crate::audio::player::{FileSource, PcmSource};
use crate::audio::{self, AudioError, Decoded, ANALYSIS_RATE_HZ};
use crate::demo::{self, DemoSource, Recipe};

/// Why a catalog track has no audio to give. Each variant names the track or its file.
#[derive(Debug, thiserror::Error)]
pub enum TrackAudioError {
    #[error("track {row} is not in the catalog")]
    NotInCatalog { row: usize },
    #[error("demo:{seed}:{index}: no such demo track")]
    NoSuchDemoTrack { seed: u64, index: usize },
    /// `reference`: the track's `log:…` source.
    #[error("{reference}: no audio (known only from a listening log)")]
    LogOnly { reference: String },
    #[error(transparent)]
    Audio(#[from] AudioError),
}

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
    pub fn recipe(&self, seed: u64, index: usize) -> Result<&Recipe, TrackAudioError> {
        self.recipes
            .get(&(seed, index))
            .ok_or(TrackAudioError::NoSuchDemoTrack { seed, index })
    }

    /// Track `row`'s analysed excerpt (the middle 30 s, mono 22050 Hz) with the decoder's
    /// warnings (a damaged file decodes, but its middle may not be the true one), or why there
    /// is none.
    pub fn excerpt(&self, row: usize) -> Result<Decoded, TrackAudioError> {
        match self.source(row) {
            None => Err(TrackAudioError::NotInCatalog { row }),
            Some(TrackSource::File(path)) => Ok(audio::load_excerpt(path)?),
            Some(TrackSource::Demo { seed, index }) => Ok(Decoded {
                samples: demo::render_excerpt(self.recipe(*seed, *index)?),
                source_rate_hz: ANALYSIS_RATE_HZ,
                warnings: Vec::new(),
            }),
            Some(source @ TrackSource::LogOnly(_)) => Err(TrackAudioError::LogOnly {
                reference: source.to_string(),
            }),
        }
    }

    /// Track `row`'s whole audio (mono 22050 Hz), or why there is none; for the whole-track
    /// spectrogram.
    pub fn whole(&self, row: usize) -> Result<Vec<f32>, TrackAudioError> {
        match self.source(row) {
            None => Err(TrackAudioError::NotInCatalog { row }),
            Some(TrackSource::File(path)) => Ok(audio::load_full(path)?.samples),
            Some(TrackSource::Demo { seed, index }) => {
                let recipe = self.recipe(*seed, *index)?;
                Ok(demo::render(recipe, 0, recipe.length_samples as usize))
            }
            Some(source @ TrackSource::LogOnly(_)) => Err(TrackAudioError::LogOnly {
                reference: source.to_string(),
            }),
        }
    }

    /// A stream of track `row` for the player.
    pub fn playable(&self, row: usize) -> Result<Box<dyn PcmSource>, TrackAudioError> {
        match self.source(row) {
            None => Err(TrackAudioError::NotInCatalog { row }),
            Some(TrackSource::File(path)) => Ok(Box::new(FileSource::open(path)?)),
            Some(TrackSource::Demo { seed, index }) => {
                Ok(Box::new(DemoSource::new(self.recipe(*seed, *index)?)))
            }
            Some(source @ TrackSource::LogOnly(_)) => Err(TrackAudioError::LogOnly {
                reference: source.to_string(),
            }),
        }
    }
}
