//! Feature extraction: the log-mel excerpt of every track with audio, cached in the project's
//! `features/` folder (format in [`store`]).

pub mod extract;
pub mod store;

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use crate::project::audio_source::TrackAudio;
use crate::project::{layout, Project, ProjectError};
pub use extract::{ExtractOptions, ExtractReport};
pub use store::{FeatureStore, RowStatus, Shard, StoreError};

/// What went wrong computing a project's features.
#[derive(Debug, thiserror::Error)]
pub enum FeaturesError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The folder of the project's store, or of one shard's (`features/shard-I-of-N`).
pub fn store_dir(project: &Project, shard: Shard) -> PathBuf {
    let dir = project.layout().path(layout::FEATURES_DIR);
    if shard == Shard::ALL {
        dir
    } else {
        dir.join(format!("shard-{}-of-{}", shard.index + 1, shard.count))
    }
}

/// Opens the project's feature store (or a shard's), sized for its current tracks.
pub fn open_store(project: &Project, shard: Shard) -> Result<FeatureStore, FeaturesError> {
    let tracks = project
        .catalog()
        .track_count()
        .map_err(ProjectError::from)?;
    Ok(FeatureStore::open(
        &store_dir(project, shard),
        tracks,
        shard,
    )?)
}

/// Computes the features of every track of `shard` that has audio and is not done yet.
pub fn compute(
    project: &Project,
    shard: Shard,
    options: ExtractOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<ExtractReport, FeaturesError> {
    let tracks = project.catalog().tracks().map_err(ProjectError::from)?;
    let audio = TrackAudio::new(&tracks);
    let rows: Vec<usize> = (0..tracks.len())
        .filter(|&row| shard.contains(row) && audio.has_audio(row))
        .collect();
    let mut store = open_store(project, shard)?;
    let load = |row: usize| audio.excerpt(row);
    Ok(extract::extract(
        &mut store, &rows, load, options, progress, cancel,
    )?)
}
