//! A fitted baseline: how an excerpt becomes a feature vector, the linear map to the factors,
//! and the fit's report. Applies to any track, and saves to a folder of `.npy` arrays plus a
//! `model.json` that NumPy and any JSON reader open directly:
//!
//! | file | what |
//! |---|---|
//! | `model.json` | `{"format": "deepcuts-baseline", "version": 1, "config": …, "report": …}` |
//! | `weights.npy` | `[dim, F]` float32: prediction = features · weights + bias |
//! | `bias.npy`, `target_mean.npy` | `[F]` float32 |
//! | `codebook.npy` | bag of words only: `[k, n_mfcc · (1 + delta_order)]`, standardised units |
//! | `frame_mean.npy`, `frame_scale.npy` | bag of words only: the frame standardisation `[dim]` |
//!
//! Arrays are written first and `model.json` last, each atomically.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::batch::map_excerpts;
use super::bow::BagOfWordsEncoder;
use super::codebook::Codebook;
use super::fit::FitReport;
use super::mel_stats::mel_statistics;
use super::mfcc::FrameFeatures;
use super::regression::LinearMap;
use super::{BaselineConfig, BaselineError, ExcerptSource, FeatureConfig};
use crate::dsp::mel::N_MELS;
use crate::io::{atomic, npy};
use crate::track_issue::TrackIssue;

const FORMAT: &str = "deepcuts-baseline";
const VERSION: u32 = 1;
const MODEL_FILE: &str = "model.json";

/// How an excerpt becomes one fixed-length feature vector.
#[derive(Debug, Clone)]
pub enum Encoder {
    BagOfWords(Box<BagOfWordsEncoder>),
    MelStatistics,
}

impl Encoder {
    /// logmel: `[frames, N_MELS]` (dB) → `[dim]`.
    pub fn encode(&self, logmel: ArrayView2<f32>) -> Result<Array1<f32>, BaselineError> {
        match self {
            Encoder::BagOfWords(bow) => bow.encode(logmel),
            Encoder::MelStatistics => Ok(mel_statistics(logmel)),
        }
    }

    /// Length of a feature vector.
    pub fn dim(&self) -> usize {
        match self {
            Encoder::BagOfWords(bow) => bow.codebook.len(),
            Encoder::MelStatistics => 2 * N_MELS,
        }
    }
}

/// A fitted baseline.
#[derive(Debug, Clone)]
pub struct BaselineModel {
    pub config: BaselineConfig,
    pub encoder: Encoder,
    /// Features `[dim]` → factors `[F]`.
    pub map: LinearMap,
    /// `[F]`: the training mean of the targets, given for tracks that cannot be read.
    pub target_mean: Array1<f32>,
    pub report: FitReport,
}

/// Predicted factors for a list of tracks.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// `[tracks, F]`, row i for the i-th requested track. A skipped track's row holds the
    /// training mean of the targets (what a model that knows nothing of it would say).
    pub factors: Array2<f32>,
    /// Tracks whose excerpt could not be used, with the reason.
    pub skipped: Vec<TrackIssue>,
}

/// `model.json`.
#[derive(Serialize, Deserialize)]
struct ModelFile {
    format: String,
    version: u32,
    config: BaselineConfig,
    report: FitReport,
}

impl BaselineModel {
    /// Number of factors F.
    pub fn factors(&self) -> usize {
        self.map.bias.len()
    }

    /// The factors of one excerpt. logmel: `[frames, N_MELS]` (dB) → `[F]`.
    pub fn predict_excerpt(&self, logmel: ArrayView2<f32>) -> Result<Array1<f32>, BaselineError> {
        let x = self.encoder.encode(logmel)?.insert_axis(Axis(0));
        Ok(self.map.apply(x.view()).index_axis_move(Axis(0), 0))
    }

    /// Predicts the factors of `tracks` read from `source`, in parallel. Bad tracks are
    /// skipped and listed. `progress(done, total)` on the calling thread.
    pub fn predict(
        &self,
        source: &dyn ExcerptSource,
        tracks: &[usize],
        progress: &mut dyn FnMut(usize, usize),
        cancel: &AtomicBool,
    ) -> Result<Prediction, BaselineError> {
        let results = map_excerpts(
            source,
            tracks,
            |_, excerpt| self.predict_excerpt(excerpt),
            progress,
            cancel,
        )?;
        let mut factors = Array2::zeros((tracks.len(), self.factors()));
        let mut skipped = Vec::new();
        for ((mut row, &track), result) in factors.outer_iter_mut().zip(tracks).zip(results) {
            match result {
                Ok(prediction) => row.assign(&prediction),
                Err(reason) => {
                    row.assign(&self.target_mean);
                    skipped.push(TrackIssue { track, reason });
                }
            }
        }
        Ok(Prediction { factors, skipped })
    }

    /// Writes the model into folder `dir` (created when missing); see the module docs.
    pub fn save(&self, dir: &Path) -> Result<(), BaselineError> {
        npy::write(&dir.join("weights.npy"), &self.map.weights)?;
        npy::write(&dir.join("bias.npy"), &self.map.bias)?;
        npy::write(&dir.join("target_mean.npy"), &self.target_mean)?;
        if let Encoder::BagOfWords(bow) = &self.encoder {
            npy::write(&dir.join("codebook.npy"), &bow.codebook.centroids())?;
            npy::write(&dir.join("frame_mean.npy"), &bow.frame_mean)?;
            npy::write(&dir.join("frame_scale.npy"), &bow.frame_scale)?;
        }
        let description = ModelFile {
            format: FORMAT.into(),
            version: VERSION,
            config: self.config.clone(),
            report: self.report.clone(),
        };
        let path = dir.join(MODEL_FILE);
        let json =
            serde_json::to_vec_pretty(&description).map_err(|source| BaselineError::Json {
                path: path.clone(),
                source,
            })?;
        atomic::write_bytes_atomic(&path, &json)
            .map_err(|source| BaselineError::Io { path, source })
    }

    /// Reads a model written by [`save`](Self::save), checking every array's shape.
    pub fn load(dir: &Path) -> Result<Self, BaselineError> {
        let path = dir.join(MODEL_FILE);
        let bytes = std::fs::read(&path).map_err(|source| BaselineError::Io {
            path: path.clone(),
            source,
        })?;
        let description: ModelFile =
            serde_json::from_slice(&bytes).map_err(|source| BaselineError::Json {
                path: path.clone(),
                source,
            })?;
        if description.format != FORMAT || description.version != VERSION {
            return Err(BaselineError::ModelFile {
                path,
                reason: format!(
                    "format {:?} version {}, expected {FORMAT:?} version {VERSION}",
                    description.format, description.version
                ),
            });
        }
        let config = description.config;
        config.validate().map_err(|e| BaselineError::ModelFile {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let encoder = match &config.features {
            FeatureConfig::MelStatistics => Encoder::MelStatistics,
            FeatureConfig::BagOfWords(bow) => {
                let frames = FrameFeatures::new(N_MELS, bow.n_mfcc, bow.delta_order)?;
                let dim = frames.dim();
                let centroids: Array2<f32> =
                    read_checked(dir, "codebook.npy", &[Some(bow.codebook_size), Some(dim)])?;
                let frame_scale: Array1<f32> = read_checked(dir, "frame_scale.npy", &[Some(dim)])?;
                if let Some(bad) = frame_scale.iter().find(|&&s| s <= 0.0) {
                    return Err(BaselineError::ModelFile {
                        path: dir.join("frame_scale.npy"),
                        reason: format!("scale {bad} is not positive"),
                    });
                }
                Encoder::BagOfWords(Box::new(BagOfWordsEncoder {
                    frames,
                    frame_mean: read_checked(dir, "frame_mean.npy", &[Some(dim)])?,
                    frame_scale,
                    codebook: Codebook::new(centroids),
                    scale: bow.histogram,
                }))
            }
        };
        let weights: Array2<f32> = read_checked(dir, "weights.npy", &[Some(encoder.dim()), None])?;
        let factors = weights.ncols();
        let bias = read_checked(dir, "bias.npy", &[Some(factors)])?;
        let target_mean = read_checked(dir, "target_mean.npy", &[Some(factors)])?;
        Ok(Self {
            config,
            encoder,
            map: LinearMap { weights, bias },
            target_mean,
            report: description.report,
        })
    }
}

/// Reads a finite float32 array of the expected shape (`None`: any length on that axis).
fn read_checked<D: ndarray::Dimension>(
    dir: &Path,
    name: &str,
    shape: &[Option<usize>],
) -> Result<ndarray::Array<f32, D>, BaselineError> {
    let path = dir.join(name);
    let array = npy::read_finite_f32::<D>(&path)?;
    npy::check_shape(&path, array.shape(), shape)?;
    Ok(array)
}
