//! `deepcuts predict`: the convnet over every track of a project with features, writing
//! `predict/factors.npy` [tracks × F], `predict/conv1_max.npy`, `conv1_mean.npy` (float32) and
//! `conv1_peak.npy` (uint32, the conv1 output frame of the maximum; frame t covers excerpt
//! frames `23 + t .. 23 + t + 4`) [tracks × filters], `predict/fc2.npy` [tracks × units], and
//! `predict/report.json` (the model, and the tracks without predictions, whose rows are zero).
//! Nothing is written when the run is cancelled.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use super::batches::{predict_rows, scatter_rows, BatchOptions};
use super::{load_net, missing_features, PredictError};
use crate::convnet::ConvnetConfig;
use crate::convnet::InferDevice;
use crate::features::{self, Shard};
use crate::io::npy;
use crate::project::{layout, Project, ProjectError};
use crate::track_issue::TrackIssue;

/// How to predict.
#[derive(Debug, Clone, PartialEq)]
pub struct PredictOptions {
    /// The weights to apply (trained here or on another collection); `None`: the project's
    /// `model/weights.safetensors`.
    pub model: Option<PathBuf>,
    pub device: InferDevice,
    /// Inference threads (0: one per core).
    pub threads: usize,
    /// Tracks per network call.
    pub batch: usize,
}

impl Default for PredictOptions {
    fn default() -> Self {
        Self {
            model: None,
            device: InferDevice::Auto,
            threads: 0,
            batch: BatchOptions::default().batch,
        }
    }
}

/// What a prediction run did; also written as `predict/report.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PredictReport {
    pub model: PathBuf,
    pub config: ConvnetConfig,
    /// Tracks in the project (rows of every array).
    pub tracks: usize,
    pub predicted: usize,
    /// Where the network ran (`InferEngine::describe`).
    pub device: String,
    /// Tracks without predictions (zero rows), with the reason.
    pub skipped: Vec<TrackIssue>,
    /// Whether Ctrl-C (or the GUI) stopped the run; nothing was written then.
    pub cancelled: bool,
}

/// Predicts every track of `project` that has features; see the module documentation.
/// `progress(done, total)` after each batch.
pub fn predict_project(
    project: &Project,
    options: &PredictOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<PredictReport, PredictError> {
    let layout = project.layout();
    let model = options
        .model
        .clone()
        .unwrap_or_else(|| layout.path(layout::MODEL_WEIGHTS));
    let net = load_net(&model, &options.device, options.threads)?;
    let config = net.config().clone();
    if config.n_mels != crate::dsp::mel::N_MELS {
        return Err(PredictError::MelBins {
            path: model,
            model: config.n_mels,
            features: crate::dsp::mel::N_MELS,
        });
    }
    let tracks = project
        .catalog()
        .track_count()
        .map_err(ProjectError::from)?;
    let store = features::open_store(project, Shard::ALL)?;
    let mut skipped = Vec::new();
    let mut rows = Vec::new();
    for row in 0..tracks {
        match missing_features(store.status(row)) {
            None => rows.push(row),
            Some(reason) => skipped.push(TrackIssue { track: row, reason }),
        }
    }
    let read = |row: usize, out: &mut [f32]| store.read_row(row, out).map_err(|e| e.to_string());
    let batch_options = BatchOptions {
        batch: options.batch,
        conv1_stats: true,
    };
    let predictions = predict_rows(&net, &read, &rows, batch_options, progress, cancel)?;
    skipped.extend(predictions.skipped.iter().cloned());
    skipped.sort_by_key(|s| s.track);
    let report = PredictReport {
        model,
        config,
        tracks,
        predicted: rows.len() - predictions.skipped.len(),
        device: predictions.device.clone(),
        skipped,
        cancelled: predictions.cancelled,
    };
    if report.cancelled {
        return Ok(report);
    }
    let write = |relative: &str, values: &ndarray::Array2<f32>| {
        npy::write(
            &layout.path(relative),
            &scatter_rows(values.view(), &rows, tracks),
        )
    };
    write(layout::PREDICT_FACTORS, &predictions.factors)?;
    write(layout::PREDICT_CONV1_MAX, &predictions.conv1_max)?;
    write(layout::PREDICT_CONV1_MEAN, &predictions.conv1_mean)?;
    write(layout::PREDICT_FC2, &predictions.last_dense)?;
    npy::write(
        &layout.path(layout::PREDICT_CONV1_PEAK),
        &scatter_rows(predictions.conv1_peak.view(), &rows, tracks),
    )?;
    let path = layout.path(layout::PREDICT_REPORT);
    let json = serde_json::to_vec_pretty(&report).expect("the report is plain data");
    crate::io::atomic::write_bytes_atomic(&path, &json)
        .map_err(|source| PredictError::Write { path, source })?;
    Ok(report)
}
