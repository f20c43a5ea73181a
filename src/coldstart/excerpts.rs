//! The project's feature store as the excerpt source of the convnet's training and of the
//! baseline: row i of the store is track i.

use ndarray::Array2;

use crate::baseline;
use crate::convnet::train::{self, SourceError};
use crate::dsp::mel::{EXCERPT_FRAMES, N_MELS};
use crate::features::FeatureStore;

/// Reads track excerpts ([646, 128] log-mel, dB) from a feature store; safe to share between
/// threads.
pub struct StoreExcerpts<'a> {
    store: &'a FeatureStore,
    tracks: usize,
}

impl<'a> StoreExcerpts<'a> {
    /// The excerpts of `tracks` tracks (the project's track count) held in `store`.
    pub fn new(store: &'a FeatureStore, tracks: usize) -> Self {
        Self { store, tracks }
    }
}

impl train::ExcerptSource for StoreExcerpts<'_> {
    fn n_tracks(&self) -> usize {
        self.tracks
    }

    fn excerpt(&self, track: usize) -> Result<Array2<f32>, SourceError> {
        let mut values = vec![0.0; EXCERPT_FRAMES * N_MELS];
        self.store.read_row(track, &mut values)?;
        Ok(Array2::from_shape_vec((EXCERPT_FRAMES, N_MELS), values)
            .expect("a store row holds exactly one excerpt"))
    }
}

impl baseline::ExcerptSource for StoreExcerpts<'_> {
    fn read_excerpt(&self, track: usize, out: &mut [f32]) -> Result<(), String> {
        self.store.read_row(track, out).map_err(|e| e.to_string())
    }
}
