//! Training the convnet on the CPU with candle: minibatch SGD with Nesterov momentum, dropout
//! in the dense layers, random crops and SpecAugment masks (`augment`), a learning-rate
//! schedule, a running average of the weights, input normalisation computed on the training
//! set, validation loss each epoch, early stopping, atomic checkpoints and resume. A loader
//! thread reads excerpts and prepares the next batches (crops, normalisation, targets, dropout
//! masks) while the optimiser runs. Data comes through `ExcerptSource`, so any feature store
//! plugs in.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;
use std::time::Instant;

use candle_core::{DType, Device, Tensor, Var};
use ndarray::Array2;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::augment::mask_crop;
use super::config::{
    ConvnetConfig, CENTRE_CROP_OFFSET, CROP_FRAMES, EXCERPT_FRAMES, MAX_CROP_OFFSET,
};
use super::loss::{confidence, mse_loss, unit_norm, wpe_loss, WpeBatch};
use super::model::{swap_kernel_layout, ConvnetModel};
use super::optimiser::NesterovSgd;
use super::weight_average::WeightAverage;
use super::weights::{
    tensor_specs, write_tensor_file, ConvnetWeights, TensorFile, TensorSpec, WeightsError,
    CONFIG_METADATA_KEY,
};
use crate::track_issue::TrackIssue;

/// The best weights so far (by validation loss), in the output folder.
pub const WEIGHTS_FILE: &str = "weights.safetensors";
/// Weights, momentum and loop state after the last finished epoch, for resuming.
pub const CHECKPOINT_FILE: &str = "checkpoint.safetensors";
/// Per-epoch losses, JSON.
pub const HISTORY_FILE: &str = "history.json";
/// Name prefix of the weight average's parameters in the checkpoint.
const AVERAGE_PREFIX: &str = "average.";
/// Metadata key of the loop state in the checkpoint.
const STATE_METADATA_KEY: &str = "train_state";
/// Batches the loader prepares ahead of the optimiser.
const PREFETCH_BATCHES: usize = 2;
/// Floor of the per-bin input standard deviation, dB: a bin that is constant on the training
/// set (silence, a band above a synthetic signal) must not blow up inputs that vary later.
pub const MIN_INPUT_STD_DB: f32 = 1.0;

/// Why reading one excerpt failed, in the source's own words.
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

/// Where training reads log-mel excerpts. Implementations must be cheap to call from the
/// loader thread (a memory-mapped feature store, an in-memory array).
pub trait ExcerptSource: Sync {
    /// Number of tracks; valid track indices are `0..n_tracks()`.
    fn n_tracks(&self) -> usize;
    /// One track's excerpt: [646 frames, n_mels] time-major log-mel, dB.
    fn excerpt(&self, track: usize) -> Result<Array2<f32>, SourceError>;
}

/// What the network learns to predict.
#[derive(Debug, Clone)]
pub enum Objective {
    /// MSE to each track's CF factor vector scaled to unit norm. factors: [tracks, F].
    Mse { factors: Array2<f32> },
    /// The paper's weighted prediction error against fixed user factors.
    Wpe(WpeTargets),
}

/// Targets of the weighted prediction error.
#[derive(Debug, Clone)]
pub struct WpeTargets {
    /// Fixed user factors x_u: [users, F].
    pub user_factors: Array2<f32>,
    /// Per track: (user index, play count > 0) of every user who played it.
    pub plays: Vec<Vec<(u32, f32)>>,
    /// Confidence scale α of `1 + α·log(1 + r/ε)` (DESIGN.md default 2).
    pub alpha: f32,
    /// ε of the confidence (DESIGN.md default 1e-6).
    pub epsilon: f32,
}

/// Hyperparameters of a training run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainSettings {
    pub max_epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
    /// Dropout probability in the dense layers while training.
    pub dropout: f32,
    /// Stop after this many epochs without a better validation loss.
    pub patience: usize,
    /// Random crop offsets in 0..=47 (else the centre crop, as at inference).
    pub augment: bool,
    /// Seeds initial weights, shuffling, crops and dropout: a run is reproducible.
    pub seed: u64,
    /// Worker threads for the optimiser (0: one per core).
    pub threads: usize,
    /// Decay in [0, 1) of the running average of the weights that is validated and saved
    /// (`weight_average`); 0 validates and saves the trained weights themselves.
    #[serde(default)]
    pub average_decay: f64,
    /// SpecAugment-style masks per training crop: this many bands of up to an eighth of the
    /// mel bins and as many spans of up to a tenth of the frames are set to the bin's mean
    /// (0 after normalisation). 0: none.
    #[serde(default)]
    pub masks: usize,
    /// How the learning rate moves over the epochs.
    #[serde(default)]
    pub schedule: LrSchedule,
}

/// The learning rate of each epoch, from the settings' `learning_rate` (`deepcuts train
/// --schedule`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LrSchedule {
    /// The same rate every epoch.
    #[default]
    Constant,
    /// Half a cosine from the full rate at epoch 1 to near 0 after `max_epochs`
    /// (Loshchilov & Hutter 2017, without restarts): large steps while far from a minimum,
    /// small ones to settle into it.
    Cosine,
}

impl TrainSettings {
    /// The learning rate of `epoch` (1-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        match self.schedule {
            LrSchedule::Constant => self.learning_rate,
            LrSchedule::Cosine => {
                let done =
                    (epoch.saturating_sub(1) as f64 / self.max_epochs.max(1) as f64).min(1.0);
                self.learning_rate * 0.5 * (1.0 + (std::f64::consts::PI * done).cos())
            }
        }
    }
}

impl Default for TrainSettings {
    fn default() -> Self {
        Self {
            max_epochs: 100,
            batch_size: 32,
            learning_rate: 0.01,
            momentum: 0.9,
            weight_decay: 0.0,
            dropout: 0.5,
            patience: 5,
            augment: true,
            seed: 0,
            threads: 0,
            average_decay: 0.0,
            masks: 0,
            schedule: LrSchedule::Constant,
        }
    }
}

/// Which tracks train and which validate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Split {
    pub train: Vec<usize>,
    pub valid: Vec<usize>,
}

/// One epoch's figures (epoch 0: the untrained network's validation loss).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    pub epoch: usize,
    /// Mean training loss over the epoch (with dropout); none for epoch 0.
    pub train_loss: Option<f64>,
    pub valid_loss: f64,
    pub seconds: f64,
    /// Training examples per second (0 for epoch 0).
    pub examples_per_sec: f64,
}

/// Progress reports, for a progress bar or a plot.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainEvent {
    /// Computing the input normalisation: `done` of `total` training excerpts read.
    Statistics { done: usize, total: usize },
    /// A training (or validation) batch finished.
    Batch {
        epoch: usize,
        validation: bool,
        batch: usize,
        batches: usize,
        loss: f64,
    },
    /// An epoch finished (history and checkpoint are written).
    Epoch(EpochRecord),
    /// A track could not be used; it is left out from now on.
    Skipped(TrackIssue),
}

/// Why the loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopReason {
    MaxEpochs,
    EarlyStopped,
    Cancelled,
}

/// The result of `train`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub history: Vec<EpochRecord>,
    pub best_epoch: usize,
    pub best_valid_loss: f64,
    pub stop: StopReason,
    pub skipped: Vec<TrackIssue>,
    /// The best weights (`WEIGHTS_FILE` in the output folder).
    pub weights_path: PathBuf,
}

/// What can stop training.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("invalid training input: {0}")]
    Invalid(String),
    #[error("no usable training excerpt ({skipped} skipped)")]
    NoUsableTracks { skipped: usize },
    #[error("training diverged in epoch {epoch} (loss {loss}); try a lower learning rate")]
    Diverged { epoch: usize, loss: f64 },
    #[error("{path}: checkpoint does not match this run: {message}")]
    CheckpointMismatch { path: PathBuf, message: String },
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot start {threads} training threads: {message}")]
    Threads { threads: usize, message: String },
    #[error("tensor computation failed: {0}")]
    Candle(#[from] candle_core::Error),
}

/// Loop state stored in the checkpoint.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct LoopState {
    epochs_done: usize,
    /// The run ended by itself (last epoch or early stopping), not by an interruption.
    #[serde(default)]
    finished: bool,
    best_epoch: usize,
    best_valid_loss: Option<f64>,
    history: Vec<EpochRecord>,
    skipped: Vec<TrackIssue>,
    /// SGD steps the weight average has seen (its warm-up and its every-4th-step updates
    /// depend on them).
    #[serde(default)]
    average_steps: u64,
}

/// One prepared minibatch.
#[derive(Debug)]
pub struct PreparedBatch {
    /// Track indices in the batch.
    pub tracks: Vec<usize>,
    /// Normalised time-major crops: [batch, 599, n_mels].
    pub x: Tensor,
    pub target: BatchTarget,
    /// One per dense layer, [batch, width], entries 0 or 1/(1-p); none when evaluating.
    pub dropout_masks: Option<Vec<Tensor>>,
}

/// A batch's targets, with what its loss needs.
#[derive(Debug, Clone)]
pub enum BatchTarget {
    /// Unit-norm factor vectors: [batch, F].
    Mse(Tensor),
    Wpe {
        plays: WpeBatch,
        /// XᵀX over all users: [F, F].
        gram: Tensor,
        users: usize,
    },
}

impl BatchTarget {
    /// The objective's loss of a prediction: [batch, F] → scalar.
    pub fn loss(&self, prediction: &Tensor) -> candle_core::Result<Tensor> {
        match self {
            Self::Mse(target) => mse_loss(prediction, target),
            Self::Wpe { plays, gram, users } => wpe_loss(prediction, gram, plays, *users),
        }
    }
}

/// The model and its optimiser: one training step, or an evaluation.
#[derive(Debug)]
pub struct Trainer {
    model: ConvnetModel,
    optimiser: NesterovSgd,
    /// The running average of the weights, when the settings ask for one.
    average: Option<WeightAverage>,
}

impl Trainer {
    /// A float32 CPU model from `weights`, with fresh (zero) momentum.
    pub fn new(weights: &ConvnetWeights, settings: &TrainSettings) -> Result<Self, TrainError> {
        let model = ConvnetModel::from_weights(weights, DType::F32, &Device::Cpu)?;
        let vars: Vec<Var> = model
            .named_vars()
            .into_iter()
            .map(|(_, v)| v.clone())
            .collect();
        let optimiser = NesterovSgd::new(
            vars,
            settings.learning_rate,
            settings.momentum,
            settings.weight_decay,
        )?;
        let average = if settings.average_decay > 0.0 {
            let copy = ConvnetModel::from_weights(weights, DType::F32, &Device::Cpu)?;
            Some(WeightAverage::new(copy, settings.average_decay, 0))
        } else {
            None
        };
        Ok(Self {
            model,
            optimiser,
            average,
        })
    }

    /// The model being trained.
    pub fn model(&self) -> &ConvnetModel {
        &self.model
    }

    /// The model that is validated and saved: the weight average, or the trained model.
    pub fn validated_model(&self) -> &ConvnetModel {
        self.average
            .as_ref()
            .map_or(&self.model, WeightAverage::model)
    }

    /// Forward, backward and update on one batch; returns the batch loss (before the update).
    pub fn step(&mut self, batch: &PreparedBatch) -> Result<f64, TrainError> {
        let outputs =
            self.model
                .forward_normalised(&batch.x, batch.dropout_masks.as_deref(), false)?;
        let loss = batch.target.loss(&outputs.out)?;
        let grads = loss.backward()?;
        self.optimiser.step(&grads)?;
        if let Some(average) = &mut self.average {
            average.update(&self.model)?;
        }
        Ok(f64::from(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?))
    }

    /// The loss of the validated model on one batch, without dropout or update.
    pub fn evaluate(&self, batch: &PreparedBatch) -> Result<f64, TrainError> {
        let outputs = self
            .validated_model()
            .forward_normalised(&batch.x, None, false)?;
        let loss = batch.target.loss(&outputs.out)?.detach();
        Ok(f64::from(loss.to_dtype(DType::F32)?.to_scalar::<f32>()?))
    }
}

/// Objective data prepared once: unit-norm factors, or the users' Gram matrix.
#[derive(Debug)]
enum PreparedObjective<'a> {
    Mse {
        factors: Array2<f32>,
    },
    Wpe {
        targets: &'a WpeTargets,
        gram: Tensor,
    },
}

impl<'a> PreparedObjective<'a> {
    fn new(objective: &'a Objective) -> Result<Self, TrainError> {
        Ok(match objective {
            Objective::Mse { factors } => {
                let mut normed = factors.clone();
                for mut row in normed.rows_mut() {
                    let unit = unit_norm(&row.to_vec());
                    row.iter_mut().zip(unit).for_each(|(v, u)| *v = u);
                }
                Self::Mse { factors: normed }
            }
            Objective::Wpe(targets) => {
                let (users, factors) = targets.user_factors.dim();
                let data: Vec<f32> = targets.user_factors.iter().copied().collect();
                let x = Tensor::from_vec(data, (users, factors), &Device::Cpu)?;
                Self::Wpe {
                    targets,
                    gram: x.t()?.matmul(&x)?,
                }
            }
        })
    }

    /// Targets of the given tracks.
    fn batch_target(&self, tracks: &[usize]) -> candle_core::Result<BatchTarget> {
        match self {
            Self::Mse { factors } => {
                let width = factors.ncols();
                let data: Vec<f32> = tracks
                    .iter()
                    .flat_map(|&t| factors.row(t).to_vec())
                    .collect();
                Ok(BatchTarget::Mse(Tensor::from_vec(
                    data,
                    (tracks.len(), width),
                    &Device::Cpu,
                )?))
            }
            Self::Wpe { targets, gram } => {
                let (users, width) = targets.user_factors.dim();
                let mut rows = Vec::new();
                let mut user_factors: Vec<f32> = Vec::new();
                let mut confidences = Vec::new();
                for (row, &track) in tracks.iter().enumerate() {
                    for &(user, count) in &targets.plays[track] {
                        rows.push(row as u32);
                        user_factors.extend(targets.user_factors.row(user as usize).iter());
                        confidences.push(confidence(count, targets.alpha, targets.epsilon));
                    }
                }
                let pairs = rows.len();
                Ok(BatchTarget::Wpe {
                    plays: WpeBatch {
                        rows: Tensor::from_vec(rows, pairs, &Device::Cpu)?,
                        user_factors: Tensor::from_vec(user_factors, (pairs, width), &Device::Cpu)?,
                        confidences: Tensor::from_vec(confidences, pairs, &Device::Cpu)?,
                    },
                    gram: gram.clone(),
                    users,
                })
            }
        }
    }
}

/// Reads one excerpt and checks its shape and values.
fn read_excerpt(
    source: &dyn ExcerptSource,
    track: usize,
    n_mels: usize,
) -> Result<Array2<f32>, String> {
    let excerpt = source.excerpt(track).map_err(|e| e.to_string())?;
    if excerpt.dim() != (EXCERPT_FRAMES, n_mels) {
        return Err(format!(
            "excerpt has shape {:?}, expected [{EXCERPT_FRAMES}, {n_mels}]",
            excerpt.shape()
        ));
    }
    if let Some(((frame, bin), value)) = excerpt.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(format!(
            "excerpt value at frame {frame}, bin {bin} is {value}"
        ));
    }
    Ok(excerpt)
}

/// Per-mel-bin mean and standard deviation (floored at `MIN_INPUT_STD_DB`) over every frame
/// of the training excerpts. Unreadable excerpts are returned as skipped.
fn input_statistics(
    source: &dyn ExcerptSource,
    tracks: &[usize],
    n_mels: usize,
    progress: &mut (dyn FnMut(TrainEvent) + Send),
    cancel: &AtomicBool,
) -> Result<Option<InputStatistics>, TrainError> {
    let mut sum = vec![0.0f64; n_mels];
    let mut sum_squares = vec![0.0f64; n_mels];
    let mut frames = 0usize;
    let mut skipped = Vec::new();
    for (done, &track) in tracks.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Ok(None);
        }
        match read_excerpt(source, track, n_mels) {
            Ok(excerpt) => {
                for frame in excerpt.rows() {
                    for ((s, q), &v) in sum.iter_mut().zip(&mut sum_squares).zip(frame) {
                        *s += f64::from(v);
                        *q += f64::from(v) * f64::from(v);
                    }
                }
                frames += EXCERPT_FRAMES;
            }
            Err(reason) => {
                let skip = TrackIssue { track, reason };
                progress(TrainEvent::Skipped(skip.clone()));
                skipped.push(skip);
            }
        }
        progress(TrainEvent::Statistics {
            done: done + 1,
            total: tracks.len(),
        });
    }
    if frames == 0 {
        return Err(TrainError::NoUsableTracks {
            skipped: skipped.len(),
        });
    }
    let count = frames as f64;
    let mean: Vec<f32> = sum.iter().map(|s| (s / count) as f32).collect();
    let std = sum
        .iter()
        .zip(&sum_squares)
        .map(|(s, q)| {
            let mean = s / count;
            ((q / count - mean * mean).max(0.0).sqrt() as f32).max(MIN_INPUT_STD_DB)
        })
        .collect();
    Ok(Some(InputStatistics { mean, std, skipped }))
}

/// Per-mel-bin input statistics of the training set, and the excerpts that could not be read.
struct InputStatistics {
    mean: Vec<f32>,
    std: Vec<f32>,
    skipped: Vec<TrackIssue>,
}

/// What the loader needs to prepare batches.
struct Loader<'a> {
    source: &'a dyn ExcerptSource,
    objective: &'a PreparedObjective<'a>,
    config: &'a ConvnetConfig,
    mean: &'a [f32],
    /// 1 / std: [n_mels].
    inv_std: Vec<f32>,
    /// Random crops and dropout when training; centre crops and none when evaluating.
    training: bool,
    settings: &'a TrainSettings,
}

/// A batch, or the tracks of it that could not be read.
struct LoadedBatch {
    batch: Option<PreparedBatch>,
    skipped: Vec<TrackIssue>,
}

impl Loader<'_> {
    fn prepare(
        &self,
        tracks: &[usize],
        rng: &mut rand::rngs::StdRng,
    ) -> candle_core::Result<LoadedBatch> {
        let mels = self.config.n_mels;
        let mut kept = Vec::with_capacity(tracks.len());
        let mut skipped = Vec::new();
        let mut x = Vec::with_capacity(tracks.len() * mels * CROP_FRAMES);
        for &track in tracks {
            match read_excerpt(self.source, track, mels) {
                Ok(excerpt) => {
                    let offset = if self.training && self.settings.augment {
                        rng.random_range(0..=MAX_CROP_OFFSET)
                    } else {
                        CENTRE_CROP_OFFSET
                    };
                    // [599, mels] time-major, normalised per mel bin.
                    let crop = excerpt.slice(ndarray::s![offset..offset + CROP_FRAMES, ..]);
                    let start = x.len();
                    for frame in crop.rows() {
                        x.extend(
                            frame
                                .iter()
                                .zip(self.mean)
                                .zip(&self.inv_std)
                                .map(|((v, mean), inv_std)| (v - mean) * inv_std),
                        );
                    }
                    if self.training {
                        mask_crop(&mut x[start..], mels, self.settings.masks, rng);
                    }
                    kept.push(track);
                }
                Err(reason) => skipped.push(TrackIssue { track, reason }),
            }
        }
        if kept.is_empty() {
            return Ok(LoadedBatch {
                batch: None,
                skipped,
            });
        }
        let rows = kept.len();
        let dropout_masks = if self.training && self.settings.dropout > 0.0 {
            let keep = 1.0 - self.settings.dropout;
            let masks = self
                .config
                .dense
                .iter()
                .map(|&width| {
                    let mask: Vec<f32> = (0..rows * width)
                        .map(|_| {
                            if rng.random::<f32>() < keep {
                                1.0 / keep
                            } else {
                                0.0
                            }
                        })
                        .collect();
                    Tensor::from_vec(mask, (rows, width), &Device::Cpu)
                })
                .collect::<candle_core::Result<Vec<_>>>()?;
            Some(masks)
        } else {
            None
        };
        Ok(LoadedBatch {
            batch: Some(PreparedBatch {
                target: self.objective.batch_target(&kept)?,
                x: Tensor::from_vec(x, (rows, CROP_FRAMES, mels), &Device::Cpu)?,
                tracks: kept,
                dropout_masks,
            }),
            skipped,
        })
    }
}

/// A seed for one phase of one epoch, so a resumed run replays the same crops and dropout.
fn phase_seed(seed: u64, epoch: usize, phase: u64) -> u64 {
    seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ phase.wrapping_mul(0xBF58_476D_1CE4_E5B9)
}

/// Mean loss of a phase, or the cancellation.
enum PhaseResult {
    Done { mean_loss: f64, examples: usize },
    Cancelled,
}

/// The training run: its inputs, paths and state.
struct Run<'a> {
    config: &'a ConvnetConfig,
    settings: &'a TrainSettings,
    source: &'a dyn ExcerptSource,
    objective: PreparedObjective<'a>,
    split: &'a Split,
    out_dir: &'a Path,
    state: LoopState,
    bad: HashSet<usize>,
}

impl Run<'_> {
    /// Runs one pass over `tracks` with a loader thread feeding batches.
    fn phase(
        &mut self,
        trainer: &mut Trainer,
        tracks: &[usize],
        epoch: usize,
        training: bool,
        progress: &mut (dyn FnMut(TrainEvent) + Send),
        cancel: &AtomicBool,
    ) -> Result<PhaseResult, TrainError> {
        let (mean, std) = trainer.model().input_normalisation()?;
        let loader = Loader {
            source: self.source,
            objective: &self.objective,
            config: self.config,
            mean: &mean,
            inv_std: std.iter().map(|s| 1.0 / s).collect(),
            training,
            settings: self.settings,
        };
        let batch_size = self.settings.batch_size;
        let batches = tracks.len().div_ceil(batch_size);
        let seed = phase_seed(self.settings.seed, epoch, u64::from(training));
        let mut loss_sum = 0.0;
        let mut examples = 0;
        let mut cancelled = false;
        let mut failure = None;
        std::thread::scope(|scope| {
            let (sender, receiver) = sync_channel(PREFETCH_BATCHES);
            let loader = &loader;
            scope.spawn(move || {
                let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
                for chunk in tracks.chunks(batch_size) {
                    if cancel.load(Ordering::Relaxed) {
                        break;
                    }
                    let loaded = loader.prepare(chunk, &mut rng);
                    let stop = loaded.is_err();
                    if sender.send(loaded).is_err() || stop {
                        break;
                    }
                }
            });
            for (index, loaded) in receiver.iter().enumerate() {
                let result = loaded.map_err(TrainError::from).and_then(|loaded| {
                    for skip in loaded.skipped {
                        self.bad.insert(skip.track);
                        progress(TrainEvent::Skipped(skip.clone()));
                        self.state.skipped.push(skip);
                    }
                    let Some(batch) = loaded.batch else {
                        return Ok(());
                    };
                    let loss = if training {
                        trainer.step(&batch)?
                    } else {
                        trainer.evaluate(&batch)?
                    };
                    if !loss.is_finite() {
                        return Err(TrainError::Diverged { epoch, loss });
                    }
                    loss_sum += loss * batch.tracks.len() as f64;
                    examples += batch.tracks.len();
                    progress(TrainEvent::Batch {
                        epoch,
                        validation: !training,
                        batch: index + 1,
                        batches,
                        loss,
                    });
                    Ok(())
                });
                if let Err(error) = result {
                    failure = Some(error);
                    break;
                }
                if cancel.load(Ordering::Relaxed) {
                    cancelled = true;
                    break;
                }
            }
            // Dropping the receiver here ends the loader at its next send.
        });
        if let Some(error) = failure {
            return Err(error);
        }
        if cancelled || cancel.load(Ordering::Relaxed) {
            return Ok(PhaseResult::Cancelled);
        }
        if examples == 0 {
            return Err(TrainError::NoUsableTracks {
                skipped: self.bad.len(),
            });
        }
        Ok(PhaseResult::Done {
            mean_loss: loss_sum / examples as f64,
            examples,
        })
    }

    fn usable(&self, tracks: &[usize]) -> Vec<usize> {
        tracks
            .iter()
            .copied()
            .filter(|t| !self.bad.contains(t))
            .collect()
    }

    fn weights_path(&self) -> PathBuf {
        self.out_dir.join(WEIGHTS_FILE)
    }

    /// Writes the checkpoint (weights, momentum, weight average, loop state) and the history,
    /// atomically.
    fn save_checkpoint(&mut self, trainer: &Trainer) -> Result<(), TrainError> {
        let weights = trainer.model().to_weights()?;
        let velocities: Vec<Vec<f32>> = parameter_specs(self.config)
            .iter()
            .zip(trainer.optimiser.velocities())
            .map(|(spec, v)| ConvnetModel::file_layout(&spec.name, v))
            .collect::<candle_core::Result<_>>()?;
        let mut tensors = weights.tensors();
        let momentum_specs: Vec<TensorSpec> = parameter_specs(self.config)
            .into_iter()
            .map(|spec| TensorSpec {
                name: format!("momentum.{}", spec.name),
                shape: spec.shape,
            })
            .collect();
        tensors.extend(
            momentum_specs
                .into_iter()
                .zip(velocities.iter().map(Vec::as_slice)),
        );
        let average = trainer
            .average
            .as_ref()
            .map(|average| average.model().to_weights())
            .transpose()?;
        if let Some(average) = &average {
            let parameters = average
                .tensors()
                .into_iter()
                .filter(|(spec, _)| !spec.name.starts_with("input."));
            tensors.extend(parameters.map(|(spec, data)| {
                let name = format!("{AVERAGE_PREFIX}{}", spec.name);
                (
                    TensorSpec {
                        name,
                        shape: spec.shape,
                    },
                    data,
                )
            }));
        }
        self.state.average_steps = trainer.average.as_ref().map_or(0, WeightAverage::steps);
        let mut metadata = weights.metadata();
        let state = serde_json::to_string(&self.state)
            .expect("the loop state is plain numbers and strings");
        metadata.insert(STATE_METADATA_KEY.to_owned(), state);
        write_tensor_file(&self.out_dir.join(CHECKPOINT_FILE), &tensors, &metadata)?;
        let path = self.out_dir.join(HISTORY_FILE);
        let history = serde_json::to_vec_pretty(&self.state.history)
            .expect("epoch records are plain numbers");
        crate::io::atomic::write_bytes_atomic(&path, &history)
            .map_err(|source| TrainError::Write { path, source })
    }

    fn outcome(&self, stop: StopReason) -> TrainOutcome {
        TrainOutcome {
            history: self.state.history.clone(),
            best_epoch: self.state.best_epoch,
            best_valid_loss: self.state.best_valid_loss.unwrap_or(f64::INFINITY),
            stop,
            skipped: self.state.skipped.clone(),
            weights_path: self.weights_path(),
        }
    }

    /// Records an epoch; saves the weights when the validation loss is the best so far.
    fn record(&mut self, trainer: &Trainer, record: EpochRecord) -> Result<(), TrainError> {
        let improved = self
            .state
            .best_valid_loss
            .is_none_or(|best| record.valid_loss < best);
        if improved {
            self.state.best_valid_loss = Some(record.valid_loss);
            self.state.best_epoch = record.epoch;
            trainer
                .validated_model()
                .to_weights()?
                .save(&self.weights_path())?;
        }
        self.state.epochs_done = record.epoch;
        self.state.history.push(record);
        Ok(())
    }

    fn early_stop_due(&self) -> bool {
        self.state.epochs_done >= self.state.best_epoch + self.settings.patience.max(1)
    }
}

/// Trainable parameters' names and file shapes (tensor_specs without the input statistics).
fn parameter_specs(config: &ConvnetConfig) -> Vec<TensorSpec> {
    tensor_specs(config)
        .into_iter()
        .filter(|spec| !spec.name.starts_with("input."))
        .collect()
}

/// Checks the inputs of `train` against each other.
fn validate(job: &TrainJob<'_>) -> Result<(), TrainError> {
    let TrainJob {
        config,
        settings,
        source,
        objective,
        split,
        ..
    } = *job;
    let invalid = |message: String| Err(TrainError::Invalid(message));
    config
        .validate("training config")
        .map_err(|e| TrainError::Invalid(e.to_string()))?;
    let tracks = source.n_tracks();
    if split.train.is_empty() || split.valid.is_empty() {
        return invalid("the training and validation sets must both be non-empty".into());
    }
    if let Some(bad) = split
        .train
        .iter()
        .chain(&split.valid)
        .find(|&&t| t >= tracks)
    {
        return invalid(format!(
            "track {bad} in the split, but the source has {tracks} tracks"
        ));
    }
    if settings.batch_size == 0
        || !(0.0..1.0).contains(&settings.dropout)
        || settings.learning_rate.is_nan()
        || settings.learning_rate <= 0.0
        || !(0.0..1.0).contains(&settings.momentum)
        || !(0.0..1.0).contains(&settings.average_decay)
    {
        return invalid(format!(
            "settings need batch_size ≥ 1, 0 ≤ dropout < 1, learning_rate > 0, \
             0 ≤ momentum < 1 and 0 ≤ average_decay < 1 (got {settings:?})"
        ));
    }
    match objective {
        Objective::Mse { factors } => {
            if factors.dim() != (tracks, config.factors) {
                return invalid(format!(
                    "target factors have shape {:?}, expected [{tracks}, {}]",
                    factors.shape(),
                    config.factors
                ));
            }
            if let Some(((t, f), v)) = factors.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return invalid(format!("target factor [{t}, {f}] is {v}"));
            }
        }
        Objective::Wpe(targets) => {
            let (users, width) = targets.user_factors.dim();
            if width != config.factors || targets.plays.len() != tracks {
                return invalid(format!(
                    "user factors [{users}, {width}] and plays of {} tracks do not fit \
                     {tracks} tracks and {} factors",
                    targets.plays.len(),
                    config.factors
                ));
            }
            if targets.user_factors.iter().any(|v| !v.is_finite()) {
                return invalid("user factors contain a non-finite value".into());
            }
            if !(targets.alpha >= 0.0 && targets.epsilon > 0.0) {
                return invalid("WPE needs alpha ≥ 0 and epsilon > 0".into());
            }
            for (track, plays) in targets.plays.iter().enumerate() {
                if let Some(&(user, count)) = plays
                    .iter()
                    .find(|&&(u, c)| u as usize >= users || !(c > 0.0 && c.is_finite()))
                {
                    return invalid(format!(
                        "track {track}: play (user {user}, count {count}) needs a user below \
                         {users} and a positive count"
                    ));
                }
            }
        }
    }
    Ok(())
}

/// Everything a training run needs besides progress and cancellation.
#[derive(Clone, Copy)]
pub struct TrainJob<'a> {
    pub config: &'a ConvnetConfig,
    pub settings: &'a TrainSettings,
    pub source: &'a dyn ExcerptSource,
    pub objective: &'a Objective,
    pub split: &'a Split,
    /// Where `weights.safetensors`, `checkpoint.safetensors` and `history.json` go.
    pub out_dir: &'a Path,
    /// Continue from `checkpoint.safetensors` when it exists.
    pub resume: bool,
}

/// Trains a convnet of `job.config` on `job.split` of `job.source`, writing
/// `weights.safetensors` (best so far), `checkpoint.safetensors` and `history.json` into
/// `job.out_dir` after every epoch. With `job.resume` and an existing checkpoint, continues
/// after its last finished epoch (the checkpoint's config must equal `job.config`). Reports
/// through `progress`; returns early, with the last finished epoch saved, when `cancel` is set.
pub fn train(
    job: &TrainJob<'_>,
    progress: &mut (dyn FnMut(TrainEvent) + Send),
    cancel: &AtomicBool,
) -> Result<TrainOutcome, TrainError> {
    validate(job)?;
    let threads = job.settings.threads;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("deepcuts-train-{i}"))
        .build()
        .map_err(|e| TrainError::Threads {
            threads,
            message: e.to_string(),
        })?;
    let mut run = Run {
        config: job.config,
        settings: job.settings,
        source: job.source,
        objective: PreparedObjective::new(job.objective)?,
        split: job.split,
        out_dir: job.out_dir,
        state: LoopState::default(),
        bad: HashSet::new(),
    };
    pool.install(|| train_loop(&mut run, job.resume, progress, cancel))
}

fn train_loop(
    run: &mut Run<'_>,
    resume: bool,
    progress: &mut (dyn FnMut(TrainEvent) + Send),
    cancel: &AtomicBool,
) -> Result<TrainOutcome, TrainError> {
    let checkpoint = run.out_dir.join(CHECKPOINT_FILE);
    let mut trainer = if resume && checkpoint.exists() {
        let (trainer, state) = load_checkpoint(&checkpoint, run.config, run.settings)?;
        run.bad = state.skipped.iter().map(|s| s.track).collect();
        run.state = state;
        trainer
    } else {
        let mut weights = ConvnetWeights::init(run.config, run.settings.seed);
        let Some(InputStatistics { mean, std, skipped }) = input_statistics(
            run.source,
            &run.split.train,
            run.config.n_mels,
            progress,
            cancel,
        )?
        else {
            return Ok(run.outcome(StopReason::Cancelled));
        };
        weights.input_mean = mean;
        weights.input_std = std;
        run.bad = skipped.iter().map(|s| s.track).collect();
        run.state.skipped = skipped;
        Trainer::new(&weights, run.settings)?
    };

    if run.state.history.is_empty() {
        let start = Instant::now();
        let valid = run.usable(&run.split.valid);
        match run.phase(&mut trainer, &valid, 0, false, progress, cancel)? {
            PhaseResult::Cancelled => return Ok(run.outcome(StopReason::Cancelled)),
            PhaseResult::Done { mean_loss, .. } => {
                let record = EpochRecord {
                    epoch: 0,
                    train_loss: None,
                    valid_loss: mean_loss,
                    seconds: start.elapsed().as_secs_f64(),
                    examples_per_sec: 0.0,
                };
                run.record(&trainer, record.clone())?;
                run.save_checkpoint(&trainer)?;
                progress(TrainEvent::Epoch(record));
            }
        }
    }

    loop {
        let epoch = run.state.epochs_done + 1;
        let stop = if run.early_stop_due() {
            Some(StopReason::EarlyStopped)
        } else if epoch > run.settings.max_epochs {
            Some(StopReason::MaxEpochs)
        } else {
            None
        };
        if let Some(stop) = stop {
            if !run.state.finished {
                run.state.finished = true;
                run.save_checkpoint(&trainer)?;
            }
            return Ok(run.outcome(stop));
        }
        // A finished run resumed with more epochs (or patience) goes on.
        run.state.finished = false;
        let start = Instant::now();
        let mut order = run.usable(&run.split.train);
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(phase_seed(
            run.settings.seed,
            epoch,
            2,
        )));
        trainer.optimiser.learning_rate = run.settings.learning_rate_at(epoch);
        let (train_loss, examples) =
            match run.phase(&mut trainer, &order, epoch, true, progress, cancel)? {
                PhaseResult::Cancelled => return Ok(run.outcome(StopReason::Cancelled)),
                PhaseResult::Done {
                    mean_loss,
                    examples,
                } => (mean_loss, examples),
            };
        let train_secs = start.elapsed().as_secs_f64();
        let valid = run.usable(&run.split.valid);
        let valid_loss = match run.phase(&mut trainer, &valid, epoch, false, progress, cancel)? {
            PhaseResult::Cancelled => return Ok(run.outcome(StopReason::Cancelled)),
            PhaseResult::Done { mean_loss, .. } => mean_loss,
        };
        let record = EpochRecord {
            epoch,
            train_loss: Some(train_loss),
            valid_loss,
            seconds: start.elapsed().as_secs_f64(),
            examples_per_sec: examples as f64 / train_secs.max(1e-9),
        };
        run.record(&trainer, record.clone())?;
        run.save_checkpoint(&trainer)?;
        progress(TrainEvent::Epoch(record));
    }
}

/// What a training checkpoint says about its run.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckpointSummary {
    pub config: ConvnetConfig,
    pub epochs_done: usize,
    /// False when the run was interrupted (Ctrl-C, `kill -9`): `--resume` continues it.
    pub finished: bool,
}

/// The summary of `dir`'s checkpoint, `None` when there is none.
pub fn checkpoint_summary(dir: &Path) -> Result<Option<CheckpointSummary>, TrainError> {
    let path = dir.join(CHECKPOINT_FILE);
    if !path.exists() {
        return Ok(None);
    }
    let (config, state) = checkpoint_config_and_state(&TensorFile::read_metadata(&path)?, &path)?;
    Ok(Some(CheckpointSummary {
        config,
        epochs_done: state.epochs_done,
        finished: state.finished,
    }))
}

/// The config and loop state in a checkpoint's metadata.
fn checkpoint_config_and_state(
    metadata: &HashMap<String, String>,
    path: &Path,
) -> Result<(ConvnetConfig, LoopState), TrainError> {
    let mismatch = |message: String| TrainError::CheckpointMismatch {
        path: path.to_owned(),
        message,
    };
    let stored = metadata
        .get(CONFIG_METADATA_KEY)
        .ok_or_else(|| mismatch("no config in the metadata".into()))?;
    let config = ConvnetConfig::from_json(stored, &path.display().to_string())
        .map_err(WeightsError::from)?;
    let state = metadata
        .get(STATE_METADATA_KEY)
        .ok_or_else(|| mismatch("no training state in the metadata".into()))
        .and_then(|json| {
            serde_json::from_str(json).map_err(|e| mismatch(format!("training state: {e}")))
        })?;
    Ok((config, state))
}

/// Restores the model, momentum and loop state from a checkpoint written by `save_checkpoint`.
fn load_checkpoint(
    path: &Path,
    config: &ConvnetConfig,
    settings: &TrainSettings,
) -> Result<(Trainer, LoopState), TrainError> {
    let mismatch = |message: String| TrainError::CheckpointMismatch {
        path: path.to_owned(),
        message,
    };
    let mut file = TensorFile::read(path)?;
    let (stored, state) = checkpoint_config_and_state(&file.metadata, path)?;
    if &stored != config {
        return Err(mismatch(format!(
            "it was trained with {stored:?}, this run asks for {config:?}"
        )));
    }
    let weights = ConvnetWeights::from_tensors(config, |spec| file.take(spec))?;
    let mut trainer = Trainer::new(&weights, settings)?;
    let velocities = parameter_specs(config)
        .into_iter()
        .map(|spec| {
            let data = file.take(&TensorSpec {
                name: format!("momentum.{}", spec.name),
                shape: spec.shape.clone(),
            })?;
            let velocity = Tensor::from_vec(data, spec.shape.as_slice(), &Device::Cpu)?;
            Ok(if spec.shape.len() == 3 {
                swap_kernel_layout(&velocity)?
            } else {
                velocity
            })
        })
        .collect::<Result<Vec<_>, TrainError>>()?;
    trainer.optimiser.set_velocities(velocities)?;
    if settings.average_decay > 0.0 {
        // A checkpoint of a run without an average starts one at its weights.
        let mut missing = false;
        // The average shares the trained weights' input normalisation.
        let trained: HashMap<String, &[f32]> = weights
            .tensors()
            .into_iter()
            .map(|(spec, data)| (spec.name, data))
            .collect();
        let averaged = ConvnetWeights::from_tensors(config, |spec| {
            if spec.name.starts_with("input.") {
                return Ok(trained[&spec.name].to_vec());
            }
            let stored = TensorSpec {
                name: format!("{AVERAGE_PREFIX}{}", spec.name),
                shape: spec.shape.clone(),
            };
            file.take(&stored).or_else(|error| match error {
                WeightsError::Missing { .. } => {
                    missing = true;
                    Ok(Vec::new())
                }
                other => Err(other),
            })
        })?;
        let (averaged, steps) = if missing {
            (weights.clone(), 0)
        } else {
            (averaged, state.average_steps)
        };
        let model = ConvnetModel::from_weights(&averaged, DType::F32, &Device::Cpu)?;
        trainer.average = Some(WeightAverage::new(model, settings.average_decay, steps));
    }
    Ok((trainer, state))
}
