//! Running a trained convnet: over every track of a project (predicted factors and the
//! activations the analysis views read, `predict/*.npy`) and over log-mel `.npy` files (for
//! checks against other implementations). Batches are read by a loader thread while the
//! network runs on the previous one; the network itself runs on all its threads.

pub mod batches;
pub mod files;
pub mod project;

use std::path::PathBuf;

use crate::convnet::infer::InferError;
use crate::convnet::weights::WeightsError;
use crate::convnet::{ConvnetWeights, InferDevice, InferEngine};
use crate::features::{FeaturesError, RowStatus};
use crate::io::npy::NpyError;
use crate::project::ProjectError;

pub use batches::{predict_rows, BatchOptions, RowPredictions};
pub use files::forward_files;
pub use project::{predict_project, PredictOptions, PredictReport};

/// What stopped a prediction; names the file where one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum PredictError {
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Features(#[from] FeaturesError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error("{path}: the model reads {model} mel bins, the project's features have {features}")]
    MelBins {
        path: PathBuf,
        model: usize,
        features: usize,
    },
    #[error("no mel files given")]
    NoInputs,
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Loads a weights file and prepares it for inference on `device`, the CPU path with
/// `threads` threads (0: one per core).
pub fn load_net(
    path: &std::path::Path,
    device: &InferDevice,
    threads: usize,
) -> Result<InferEngine, PredictError> {
    let weights = ConvnetWeights::load(path)?;
    let threads = if threads == 0 {
        std::thread::available_parallelism().map_or(1, usize::from)
    } else {
        threads
    };
    Ok(InferEngine::new(&weights, device, threads)?)
}

/// Why a track has no excerpt to run on, or `None` when its features are done.
pub fn missing_features(status: RowStatus) -> Option<String> {
    match status {
        RowStatus::Done => None,
        RowStatus::Pending => Some("no features yet".into()),
        RowStatus::Failed(reason) => Some(format!("feature extraction failed: {reason}")),
    }
}
