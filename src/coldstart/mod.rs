//! The cold-start experiment of the NIPS 2013 paper on a project: split the tracks, learn CF
//! factors without the test tracks' listens, train the convnet to predict them from audio
//! (`deepcuts train`), and rank each user's test-track listens with random scores, the
//! baseline, the convnet and the upper bound (`deepcuts eval`).
//!
//! ```text
//! split.tsv ─► plays without test listens ─WMF─► cf/coldstart/{item,user}_factors.npy
//!                 train/valid item factors (unit norm) ─► convnet (model/) and baseline
//!                 user factors · predicted test-track factors ─► AUC, mAP@500 (eval/coldstart.json)
//! ```
//!
//! The CLI and the GUI call [`train_project`] and [`eval_project`] with a progress callback
//! and a cancel flag.

pub mod eval_project;
pub mod excerpts;
pub mod factors;
pub mod split;
pub mod train_project;
pub mod upper_bound;

use std::path::PathBuf;

pub use eval_project::{eval_project, EvalOptions, EvalProgress, EvalReport};
pub use split::{Part, SplitFractions, TrackSplit};
pub use train_project::{
    train_project, ObjectiveKind, SplitOptions, TrainOptions, TrainPlan, TrainProgress, TrainReport,
};

use crate::baseline::BaselineError;
use crate::cf::eval::EvalError;
use crate::cf::sparse::SparseError;
use crate::cf::wmf::WmfError;
use crate::convnet::train::TrainError;
use crate::features::{FeaturesError, StoreError};
use crate::io::npy::NpyError;
use crate::predict::PredictError;
use crate::project::cf_stage::CfStageError;
use crate::project::{CatalogError, ProjectError};

/// What stopped a cold-start stage; names the file or the track at fault.
#[derive(Debug, thiserror::Error)]
pub enum ColdstartError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    CfStage(#[from] CfStageError),
    #[error(transparent)]
    Features(#[from] FeaturesError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Split(#[from] split::SplitError),
    #[error("play counts: {0}")]
    Sparse(#[from] SparseError),
    #[error(transparent)]
    Wmf(#[from] WmfError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Predict(#[from] PredictError),
    #[error("{path}: no split yet (training draws it)")]
    NoSplit { path: PathBuf },
    #[error("only {tracks} tracks have features")]
    NoFeatures { tracks: usize },
    #[error("the project has no listens outside the test tracks")]
    NoListens,
    #[error("{0}")]
    Unusable(String),
    #[error("invalid input: {0}")]
    Invalid(String),
    #[error(
        "item {item}: the upper bound's normal equations are not positive definite (λ = {lambda})"
    )]
    Singular { item: u32, lambda: f32 },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
}

impl From<CatalogError> for ColdstartError {
    fn from(error: CatalogError) -> Self {
        Self::Project(error.into())
    }
}
