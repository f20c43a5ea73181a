//! `deepcuts forward`: the network on log-mel `.npy` files (`[646, n_mels]` excerpts as
//! `deepcuts mel` writes them, centre crop), for checks against other implementations.

use std::path::PathBuf;

use ndarray::{Array2, Ix2};

use super::PredictError;
use crate::convnet::config::EXCERPT_FRAMES;
use crate::convnet::infer::InferOptions;
use crate::convnet::InferEngine;
use crate::io::npy;

/// Files per network call.
const BATCH_FILES: usize = 64;

/// Predicted factors of each excerpt file, row i for `mels[i]`: [files, factors]. Any file
/// that is not a finite float `[646, n_mels]` array stops the run with an error naming it.
pub fn forward_files(net: &InferEngine, mels: &[PathBuf]) -> Result<Array2<f32>, PredictError> {
    if mels.is_empty() {
        return Err(PredictError::NoInputs);
    }
    let n_mels = net.config().n_mels;
    let mut factors = Array2::zeros((mels.len(), net.config().factors));
    for (chunk_index, chunk) in mels.chunks(BATCH_FILES).enumerate() {
        let excerpts = chunk
            .iter()
            .map(|path| {
                let excerpt = npy::read_finite_f32::<Ix2>(path)?;
                npy::check_shape(path, excerpt.shape(), &[Some(EXCERPT_FRAMES), Some(n_mels)])?;
                Ok(excerpt)
            })
            .collect::<Result<Vec<_>, PredictError>>()?;
        let views: Vec<_> = excerpts.iter().map(|e| e.view()).collect();
        let outputs = net.run_excerpts(&views, InferOptions::default())?;
        let first = chunk_index * BATCH_FILES;
        factors
            .slice_mut(ndarray::s![first..first + chunk.len(), ..])
            .assign(&outputs.factors);
    }
    Ok(factors)
}
