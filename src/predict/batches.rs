//! The batched inference loop shared by project prediction and the cold-start evaluation: a
//! loader thread reads the next batch of excerpts while the network runs on the current one,
//! and on a GPU the next batch is submitted before the current one is read back.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use ndarray::{Array2, ArrayView2};

use crate::convnet::config::EXCERPT_FRAMES;
use crate::convnet::infer::{InferError, InferOptions};
use crate::convnet::{InferEngine, Pending};
use crate::track_issue::TrackIssue;

/// Batches the loader reads ahead of the network.
const PREFETCH_BATCHES: usize = 2;

/// Reads track `row`'s excerpt into `out` ([646 × n_mels] values, time-major), or says why
/// it cannot. Called from the loader thread.
pub type ReadExcerpt<'a> = dyn Fn(usize, &mut [f32]) -> Result<(), String> + Sync + 'a;

/// How to batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchOptions {
    /// Tracks per network call.
    pub batch: usize,
    /// Also compute conv1's per-filter max, mean and frame of the max.
    pub conv1_stats: bool,
}

impl Default for BatchOptions {
    fn default() -> Self {
        Self {
            batch: 64,
            conv1_stats: true,
        }
    }
}

/// The network's outputs for a list of rows; row k is the k-th requested row, zero where that
/// row was skipped.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPredictions {
    /// [rows, factors]
    pub factors: Array2<f32>,
    /// Last dense layer after ReLU (fc2 in the presets): [rows, units].
    pub last_dense: Array2<f32>,
    /// conv1 per-filter maximum over time: [rows, filters] (empty unless asked for).
    pub conv1_max: Array2<f32>,
    /// conv1 per-filter mean over time: [rows, filters] (empty unless asked for).
    pub conv1_mean: Array2<f32>,
    /// conv1 output frame of each filter's maximum: [rows, filters] (empty unless asked for).
    pub conv1_peak: Array2<u32>,
    /// Requested rows that could not be read, with the reason.
    pub skipped: Vec<TrackIssue>,
    /// Whether `cancel` stopped the loop (the outputs are then incomplete).
    pub cancelled: bool,
    /// Where the network ran, in words (`InferEngine::describe`), with why when `auto` fell
    /// back to the CPU.
    pub device: String,
}

/// One batch read by the loader.
struct LoadedBatch {
    /// Positions (into the requested rows) of the excerpts read.
    positions: Vec<usize>,
    /// Their excerpts, concatenated: [positions, 646, n_mels].
    values: Vec<f32>,
    skipped: Vec<TrackIssue>,
}

/// Runs `net` on the excerpts of `rows`, read by `read(row, out)` ([646 × n_mels] values,
/// time-major) on a loader thread. A row that cannot be read is skipped with the reason.
/// `progress(done, total)` after each batch; stops early (`cancelled`) when `cancel` is set.
/// A GPU failure ends the run with an error naming the batch, except under `--device auto`,
/// where the run starts again on the CPU.
pub fn predict_rows(
    net: &InferEngine,
    read: &ReadExcerpt<'_>,
    rows: &[usize],
    options: BatchOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<RowPredictions, InferError> {
    match predict_rows_on(net, read, rows, options, progress, cancel) {
        Err(InferError::Gpu(error)) => match net.cpu_fallback() {
            Some(cpu) => {
                let cpu = cpu?;
                let mut out = predict_rows_on(&cpu, read, rows, options, progress, cancel)?;
                out.device = format!("{} ({error}; device auto retried on the CPU)", out.device);
                Ok(out)
            }
            None => Err(InferError::Gpu(error)),
        },
        other => other,
    }
}

fn predict_rows_on(
    net: &InferEngine,
    read: &ReadExcerpt<'_>,
    rows: &[usize],
    options: BatchOptions,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<RowPredictions, InferError> {
    let config = net.config();
    let mels = config.n_mels;
    let excerpt_values = EXCERPT_FRAMES * mels;
    let stats_width = if options.conv1_stats {
        config.filters[0]
    } else {
        0
    };
    let mut out = RowPredictions {
        factors: Array2::zeros((rows.len(), config.factors)),
        last_dense: Array2::zeros((rows.len(), config.last_dense())),
        conv1_max: Array2::zeros((rows.len(), stats_width)),
        conv1_mean: Array2::zeros((rows.len(), stats_width)),
        conv1_peak: Array2::zeros((rows.len(), stats_width)),
        skipped: Vec::new(),
        cancelled: false,
        device: net.describe(),
    };
    let batch = options.batch.max(1);
    let infer_options = InferOptions {
        conv1: false,
        conv1_stats: options.conv1_stats,
    };
    let mut done = 0;
    progress(0, rows.len());
    let mut store = |loaded: LoadedBatch, pending: Pending| -> Result<(), InferError> {
        let outputs = pending.finish()?;
        for (k, &position) in loaded.positions.iter().enumerate() {
            out.factors
                .row_mut(position)
                .assign(&outputs.factors.row(k));
            out.last_dense
                .row_mut(position)
                .assign(&outputs.last_dense.row(k));
            if let Some(stats) = &outputs.conv1_stats {
                out.conv1_max.row_mut(position).assign(&stats.max.row(k));
                out.conv1_mean.row_mut(position).assign(&stats.mean.row(k));
                out.conv1_peak
                    .row_mut(position)
                    .assign(&stats.peak_frame.row(k));
            }
        }
        done += loaded.positions.len() + loaded.skipped.len();
        out.skipped.extend(loaded.skipped);
        progress(done, rows.len());
        Ok(())
    };
    let mut failure = None;
    std::thread::scope(|scope| {
        let (sender, receiver) = sync_channel::<LoadedBatch>(PREFETCH_BATCHES);
        scope.spawn(move || {
            for (chunk_index, chunk) in rows.chunks(batch).enumerate() {
                if cancel.load(Ordering::Relaxed) {
                    break;
                }
                let mut loaded = LoadedBatch {
                    positions: Vec::with_capacity(chunk.len()),
                    values: vec![0.0; chunk.len() * excerpt_values],
                    skipped: Vec::new(),
                };
                let mut filled = 0;
                for (k, &row) in chunk.iter().enumerate() {
                    let position = chunk_index * batch + k;
                    let slot = &mut loaded.values[filled * excerpt_values..][..excerpt_values];
                    match read(row, slot).and_then(|()| check_finite(slot)) {
                        Ok(()) => {
                            loaded.positions.push(position);
                            filled += 1;
                        }
                        Err(reason) => loaded.skipped.push(TrackIssue::new(row, reason)),
                    }
                }
                loaded.values.truncate(filled * excerpt_values);
                if sender.send(loaded).is_err() {
                    break;
                }
            }
        });
        // One batch in flight while the next is started.
        let mut in_flight: Option<(LoadedBatch, Pending)> = None;
        for loaded in receiver.iter() {
            let views: Vec<ArrayView2<f32>> = loaded
                .values
                .chunks_exact(excerpt_values)
                .map(|values| {
                    ArrayView2::from_shape((EXCERPT_FRAMES, mels), values)
                        .expect("each slot holds one excerpt")
                })
                .collect();
            let pending = match net.start_excerpts(&views, infer_options) {
                Ok(pending) => pending,
                Err(error) => {
                    failure = Some(error);
                    break;
                }
            };
            drop(views);
            if let Some((previous, previous_pending)) = in_flight.replace((loaded, pending)) {
                if let Err(error) = store(previous, previous_pending) {
                    failure = Some(error);
                    break;
                }
            }
            if cancel.load(Ordering::Relaxed) {
                break;
            }
        }
        if failure.is_none() {
            if let Some((last, pending)) = in_flight.take() {
                failure = store(last, pending).err();
            }
        }
        // Dropping the receiver ends the loader at its next send.
    });
    if let Some(error) = failure {
        return Err(error);
    }
    out.cancelled = done < rows.len();
    Ok(out)
}

/// Names the first value of an excerpt that is not finite.
fn check_finite(values: &[f32]) -> Result<(), String> {
    match values.iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(index) => Err(format!(
            "excerpt value {} at frame {} is not finite",
            values[index],
            index / (values.len() / EXCERPT_FRAMES).max(1)
        )),
    }
}

/// A [tracks, width] array holding `values` [rows.len(), width] at `rows`, the default value
/// (zero) elsewhere: per-row results spread over a project's track rows.
pub fn scatter_rows<A: Clone + Default>(
    values: ArrayView2<A>,
    rows: &[usize],
    tracks: usize,
) -> Array2<A> {
    let mut full = Array2::from_elem((tracks, values.ncols()), A::default());
    for (row_values, &row) in values.outer_iter().zip(rows) {
        full.row_mut(row).assign(&row_values);
    }
    full
}
