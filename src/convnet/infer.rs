//! Fast CPU inference. Activations are kept time-major (`[frames, channels]`, the layout of
//! the stored log-mels) with all tracks of a chunk concatenated, so that each kernel-4
//! convolution runs over one long signal with time as the long GEMM dimension (the few output
//! rows that straddle two tracks are computed and ignored). Convolutions use Winograd F(3, 4)
//! (`winograd.rs`), which needs half the multiplications of a direct (im2col) GEMM.
//! Max-pooling, bias and ReLU are fused into one pass over the convolution output (pooling
//! first: max commutes with a per-channel bias and with ReLU). The batch is split into one
//! chunk per thread for the convolutions; the dense layers run on the whole batch with the
//! GEMM itself multithreaded. Buffers are kept between calls.

use std::sync::Mutex;

use ndarray::{Array2, Array3, ArrayView2, ArrayView3, Axis};
use rayon::prelude::*;

use super::config::{
    ConvnetConfig, CENTRE_CROP_OFFSET, CONV_LAYERS, CROP_FRAMES, EXCERPT_FRAMES, KERNEL_FRAMES,
};
use super::matmul::{matmul, MatrixView};
use super::model::L2_POOL_EPSILON;
use super::weights::{ConvnetWeights, LayerWeights};
use super::winograd::{self, WinogradConv, WinogradScratch};

/// Why inference could not run.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error("input {what} has shape {found:?}, expected {expected}")]
    InputShape {
        what: &'static str,
        found: Vec<usize>,
        expected: String,
    },
    #[error("cannot start {threads} inference threads: {message}")]
    Threads { threads: usize, message: String },
    #[error(transparent)]
    Gpu(#[from] crate::gpu::GpuError),
}

/// Which optional outputs to compute besides factors, pooled features and the last dense layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InferOptions {
    /// Full conv1 activations (large: batch × filters × 596 floats).
    pub conv1: bool,
    /// Per-filter conv1 summaries (max, mean, frame of the max), for activation playlists.
    pub conv1_stats: bool,
}

/// Per-track, per-filter summaries of conv1 after ReLU over its 596 output frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv1Stats {
    /// Maximum over time: [batch, filters].
    pub max: Array2<f32>,
    /// Mean over time: [batch, filters].
    pub mean: Array2<f32>,
    /// conv1 output frame of the maximum (first one on ties); it covers crop frames
    /// `peak..peak + 4`: [batch, filters].
    pub peak_frame: Array2<u32>,
}

/// Everything one inference pass returns.
#[derive(Debug, Clone, PartialEq)]
pub struct InferOutputs {
    /// Predicted factors: [batch, factors].
    pub factors: Array2<f32>,
    /// Global pooling (mean | max | L2): [batch, 3 × last filters].
    pub pooled: Array2<f32>,
    /// Last dense layer after ReLU: [batch, units].
    pub last_dense: Array2<f32>,
    /// conv1 after ReLU when asked for: [batch, filters, 596].
    pub conv1: Option<Array3<f32>>,
    /// conv1 summaries when asked for.
    pub conv1_stats: Option<Conv1Stats>,
}

/// A dense layer's weights transposed for GEMMs: `weight` is `[inputs, outputs]` row-major.
#[derive(Debug)]
struct PackedLayer {
    weight: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
}

impl PackedLayer {
    /// dense weight [out, in] → [in, out].
    fn dense(layer: &LayerWeights, inputs: usize, outputs: usize) -> Self {
        let mut weight = vec![0.0; inputs * outputs];
        for o in 0..outputs {
            for i in 0..inputs {
                weight[i * outputs + o] = layer.weight[o * inputs + i];
            }
        }
        Self {
            weight,
            bias: layer.bias.clone(),
            inputs,
            outputs,
        }
    }

    fn matrix(&self) -> MatrixView<'_, f32> {
        MatrixView::contiguous(&self.weight, self.inputs, self.outputs)
    }
}

/// The convnet ready for CPU inference, with its own thread pool.
#[derive(Debug)]
pub struct CpuConvnet {
    config: ConvnetConfig,
    input_mean: Vec<f32>,
    /// 1 / input.std: [n_mels].
    input_inv_std: Vec<f32>,
    convs: Vec<WinogradConv>,
    /// Per conv layer: [filters].
    conv_biases: Vec<Vec<f32>>,
    dense: Vec<PackedLayer>,
    out: PackedLayer,
    threads: usize,
    pool: rayon::ThreadPool,
    /// Buffers of finished calls, taken by the next ones.
    scratch: Mutex<Vec<ChunkScratch>>,
}

/// Buffers for one chunk's convolution stage.
#[derive(Debug, Default)]
struct ChunkScratch {
    /// Layer input: [frames, channels] time-major.
    x: Vec<f32>,
    /// Convolution output: [frames, filters].
    y: Vec<f32>,
    winograd: WinogradScratch,
}

/// One chunk's conv-stage results.
struct ChunkFeatures {
    /// [tracks, 3 × last filters]
    pooled: Vec<f32>,
    /// [tracks, filters, 596] when asked for.
    conv1: Vec<f32>,
    /// [tracks, filters] each, when asked for.
    conv1_max: Vec<f32>,
    conv1_mean: Vec<f32>,
    conv1_peak: Vec<u32>,
}

impl CpuConvnet {
    /// Repacks `weights` and starts `threads` worker threads (at least 1).
    pub fn new(weights: &ConvnetWeights, threads: usize) -> Result<Self, InferError> {
        let threads = threads.max(1);
        let config = weights.config.clone();
        let inputs = config.conv_inputs();
        let convs = (0..CONV_LAYERS)
            .map(|i| WinogradConv::new(&weights.convs[i].weight, inputs[i], config.filters[i]))
            .collect();
        let conv_biases = weights.convs.iter().map(|l| l.bias.clone()).collect();
        let shapes = config.dense_shapes();
        let dense = weights
            .dense
            .iter()
            .zip(&shapes)
            .map(|(w, &(i, o))| PackedLayer::dense(w, i, o))
            .collect();
        let (last_in, last_out) = shapes[shapes.len() - 1];
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("deepcuts-infer-{i}"))
            .build()
            .map_err(|e| InferError::Threads {
                threads,
                message: e.to_string(),
            })?;
        Ok(Self {
            input_mean: weights.input_mean.clone(),
            input_inv_std: weights.input_std.iter().map(|s| 1.0 / s).collect(),
            out: PackedLayer::dense(&weights.out, last_in, last_out),
            config,
            convs,
            conv_biases,
            dense,
            threads,
            pool,
            scratch: Mutex::new(Vec::new()),
        })
    }

    pub fn config(&self) -> &ConvnetConfig {
        &self.config
    }

    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Runs the network on network-layout crops. x: [batch, n_mels, 599] (dB).
    pub fn run(
        &self,
        x: ArrayView3<'_, f32>,
        options: InferOptions,
    ) -> Result<InferOutputs, InferError> {
        check_crops(x, self.config.n_mels)?;
        let (batch, mels, _) = x.dim();
        self.run_with(batch, options, |track, rows| {
            // rows: [599, n_mels] time-major.
            for (c, band) in x.index_axis(Axis(0), track).outer_iter().enumerate() {
                for (t, &value) in band.iter().enumerate() {
                    rows[t * mels + c] = value;
                }
            }
        })
    }

    /// Runs the network on the centre crops of stored excerpts, each [646, n_mels] (dB).
    pub fn run_excerpts(
        &self,
        excerpts: &[ArrayView2<'_, f32>],
        options: InferOptions,
    ) -> Result<InferOutputs, InferError> {
        let mels = self.config.n_mels;
        check_excerpts(excerpts, mels)?;
        self.run_with(excerpts.len(), options, |track, rows| {
            let crop = excerpts[track].slice(ndarray::s![
                CENTRE_CROP_OFFSET..CENTRE_CROP_OFFSET + CROP_FRAMES,
                ..
            ]);
            for (row, frame) in rows.chunks_exact_mut(mels).zip(crop.rows()) {
                for (value, &x) in row.iter_mut().zip(frame) {
                    *value = x;
                }
            }
        })
    }

    /// Runs the network on `batch` tracks; `fill(track, rows)` writes one track's raw crop
    /// time-major into rows: [599, n_mels].
    fn run_with(
        &self,
        batch: usize,
        options: InferOptions,
        fill: impl Fn(usize, &mut [f32]) + Sync,
    ) -> Result<InferOutputs, InferError> {
        let config = &self.config;
        let chunks = self.threads.min(batch).max(1);
        let chunk_tracks = batch.div_ceil(chunks).max(1);
        let gemm_threads = (self.threads / chunks).max(1);
        let starts: Vec<usize> = (0..batch).step_by(chunk_tracks).collect();
        let features: Vec<ChunkFeatures> = self.pool.install(|| {
            starts
                .par_iter()
                .map(|&start| {
                    let tracks = chunk_tracks.min(batch - start);
                    self.conv_features(start, tracks, options, gemm_threads, &fill)
                })
                .collect()
        });

        let filters = config.filters[0];
        let conv1_frames = config.conv_lengths()[0];
        let gather = |part: fn(&ChunkFeatures) -> &[f32], width: usize| {
            let data: Vec<f32> = features
                .iter()
                .flat_map(|f| part(f).iter().copied())
                .collect();
            Array2::from_shape_vec((batch, width), data)
                .expect("each chunk returns tracks × width values")
        };
        let pooled = gather(|f| &f.pooled, config.pooled_features());
        let conv1 = options.conv1.then(|| {
            let data: Vec<f32> = features
                .iter()
                .flat_map(|f| f.conv1.iter().copied())
                .collect();
            Array3::from_shape_vec((batch, filters, conv1_frames), data)
                .expect("each chunk returns tracks × filters × frames values")
        });
        let conv1_stats = options.conv1_stats.then(|| {
            let peaks: Vec<u32> = features
                .iter()
                .flat_map(|f| f.conv1_peak.iter().copied())
                .collect();
            Conv1Stats {
                max: gather(|f| &f.conv1_max, filters),
                mean: gather(|f| &f.conv1_mean, filters),
                peak_frame: Array2::from_shape_vec((batch, filters), peaks)
                    .expect("each chunk returns tracks × filters peaks"),
            }
        });

        let (last_dense, factors) = self.pool.install(|| self.dense_head(&pooled));
        Ok(InferOutputs {
            factors,
            pooled,
            last_dense,
            conv1,
            conv1_stats,
        })
    }

    /// The convolution stage for tracks `start..start + tracks`: normalised input, four
    /// convolutions with fused pooling, global pooling.
    fn conv_features(
        &self,
        start: usize,
        tracks: usize,
        options: InferOptions,
        gemm_threads: usize,
        fill: &(impl Fn(usize, &mut [f32]) + Sync),
    ) -> ChunkFeatures {
        let config = &self.config;
        let mels = config.n_mels;
        let mut scratch = self.take_scratch();
        let ChunkScratch { x, y, winograd } = &mut scratch;
        // x: [tracks × frames, channels], time-major, tracks concatenated (Winograd reads
        // the last tile's missing frames as zeros).
        x.resize(tracks * CROP_FRAMES * mels, 0.0);
        for (track, rows) in x.chunks_exact_mut(CROP_FRAMES * mels).enumerate() {
            fill(start + track, rows);
            for row in rows.chunks_exact_mut(mels) {
                for ((value, mean), inv_std) in row
                    .iter_mut()
                    .zip(&self.input_mean)
                    .zip(&self.input_inv_std)
                {
                    *value = (*value - mean) * inv_std;
                }
            }
        }
        let mut features = ChunkFeatures {
            pooled: vec![0.0; tracks * config.pooled_features()],
            conv1: Vec::new(),
            conv1_max: Vec::new(),
            conv1_mean: Vec::new(),
            conv1_peak: Vec::new(),
        };
        let lengths = config.conv_lengths();
        let mut frames_in = CROP_FRAMES;
        for (layer_index, (conv, bias)) in self.convs.iter().zip(&self.conv_biases).enumerate() {
            let outputs = conv.outputs;
            let frames_out = lengths[layer_index];
            // y: row track·frames_in + t is output frame t of that track for t < frames_out,
            // a row straddling two tracks (or padding) otherwise.
            let rows_out = tracks * frames_in - (KERNEL_FRAMES - 1);
            let rows_computed = winograd::padded_outputs(rows_out);
            y.resize(rows_computed * outputs, 0.0);
            conv.forward(x, rows_out, y, winograd, gemm_threads);
            let track_rows = |track: usize| {
                let begin = track * frames_in * outputs;
                &y[begin..begin + frames_out * outputs]
            };
            if layer_index == 0 {
                conv1_outputs(
                    &mut features,
                    options,
                    tracks,
                    frames_out,
                    &track_rows,
                    bias,
                );
            }
            match config.pools.get(layer_index) {
                Some(&width) => {
                    let pooled_frames = frames_out / width;
                    let rows = tracks * pooled_frames;
                    x.resize(rows * outputs, 0.0);
                    for (track, out_rows) in x.chunks_exact_mut(pooled_frames * outputs).enumerate()
                    {
                        max_pool_bias_relu(track_rows(track), out_rows, width, bias);
                    }
                    frames_in = pooled_frames;
                }
                None => {
                    let width = config.pooled_features();
                    for (track, pooled) in features.pooled.chunks_exact_mut(width).enumerate() {
                        global_pool_bias_relu(track_rows(track), pooled, bias);
                    }
                }
            }
        }
        self.return_scratch(scratch);
        features
    }

    fn take_scratch(&self) -> ChunkScratch {
        self.scratch
            .lock()
            .map(|mut buffers| buffers.pop().unwrap_or_default())
            .unwrap_or_default()
    }

    fn return_scratch(&self, scratch: ChunkScratch) {
        if let Ok(mut buffers) = self.scratch.lock() {
            buffers.push(scratch);
        }
    }

    /// Dense layers and output on the whole batch. pooled: [batch, features] →
    /// (last dense [batch, units], factors [batch, factors]).
    fn dense_head(&self, pooled: &Array2<f32>) -> (Array2<f32>, Array2<f32>) {
        let batch = pooled.nrows();
        let mut h: Vec<f32> = pooled.iter().copied().collect();
        let apply = |layer: &PackedLayer, h: &[f32], relu: bool| {
            let mut y = vec![0.0; batch * layer.outputs];
            let lhs = MatrixView::contiguous(h, batch, layer.inputs);
            matmul(
                &mut y,
                layer.outputs,
                1,
                lhs,
                layer.matrix(),
                false,
                self.threads,
            );
            for row in y.chunks_exact_mut(layer.outputs) {
                for (v, b) in row.iter_mut().zip(&layer.bias) {
                    *v += b;
                    if relu {
                        *v = v.max(0.0);
                    }
                }
            }
            y
        };
        for layer in &self.dense {
            h = apply(layer, &h, true);
        }
        let factors = apply(&self.out, &h, false);
        let units = self.config.last_dense();
        (
            Array2::from_shape_vec((batch, units), h).expect("dense output is batch × units"),
            Array2::from_shape_vec((batch, self.config.factors), factors)
                .expect("output layer is batch × factors"),
        )
    }
}

/// Checks network-layout crops: [batch, n_mels, 599].
pub(crate) fn check_crops(x: ArrayView3<'_, f32>, mels: usize) -> Result<(), InferError> {
    if x.dim().1 != mels || x.dim().2 != CROP_FRAMES {
        return Err(InferError::InputShape {
            what: "crops",
            found: x.shape().to_vec(),
            expected: format!("[batch, {mels}, {CROP_FRAMES}]"),
        });
    }
    Ok(())
}

/// Checks stored excerpts: each [646, n_mels].
pub(crate) fn check_excerpts(
    excerpts: &[ArrayView2<'_, f32>],
    mels: usize,
) -> Result<(), InferError> {
    match excerpts.iter().find(|e| e.dim() != (EXCERPT_FRAMES, mels)) {
        Some(bad) => Err(InferError::InputShape {
            what: "excerpt",
            found: bad.shape().to_vec(),
            expected: format!("[{EXCERPT_FRAMES}, {mels}]"),
        }),
        None => Ok(()),
    }
}

/// Max over non-overlapping windows of `width` frames, then bias and ReLU.
/// rows: [frames, channels] → out: [frames / width, channels].
fn max_pool_bias_relu(rows: &[f32], out: &mut [f32], width: usize, bias: &[f32]) {
    let channels = bias.len();
    for (window, out_row) in rows
        .chunks_exact(width * channels)
        .zip(out.chunks_exact_mut(channels))
    {
        out_row.copy_from_slice(&window[..channels]);
        for frame in window.chunks_exact(channels).skip(1) {
            for (m, &v) in out_row.iter_mut().zip(frame) {
                *m = m.max(v);
            }
        }
        for (m, &b) in out_row.iter_mut().zip(bias) {
            *m = (*m + b).max(0.0);
        }
    }
}

/// Bias and ReLU, then per channel mean, max and L2 over all frames.
/// rows: [frames, channels] → pooled: [3 × channels] (mean | max | L2).
fn global_pool_bias_relu(rows: &[f32], pooled: &mut [f32], bias: &[f32]) {
    let channels = bias.len();
    let frames = rows.len() / channels;
    let (mean, rest) = pooled.split_at_mut(channels);
    let (max, l2) = rest.split_at_mut(channels);
    mean.fill(0.0);
    max.fill(0.0);
    l2.fill(0.0);
    for frame in rows.chunks_exact(channels) {
        for o in 0..channels {
            let v = (frame[o] + bias[o]).max(0.0);
            mean[o] += v;
            max[o] = max[o].max(v);
            l2[o] += v * v;
        }
    }
    for o in 0..channels {
        mean[o] /= frames as f32;
        l2[o] = (f64::from(l2[o]) + L2_POOL_EPSILON).sqrt() as f32;
    }
}

/// Fills conv1 activations and/or their summaries from conv1's GEMM output.
fn conv1_outputs<'y>(
    features: &mut ChunkFeatures,
    options: InferOptions,
    tracks: usize,
    frames: usize,
    track_rows: &impl Fn(usize) -> &'y [f32],
    bias: &[f32],
) {
    let filters = bias.len();
    if options.conv1 {
        features.conv1 = vec![0.0; tracks * filters * frames];
        for (track, out) in features
            .conv1
            .chunks_exact_mut(filters * frames)
            .enumerate()
        {
            for (t, row) in track_rows(track).chunks_exact(filters).enumerate() {
                for (o, (&v, &b)) in row.iter().zip(bias).enumerate() {
                    out[o * frames + t] = (v + b).max(0.0);
                }
            }
        }
    }
    if options.conv1_stats {
        features.conv1_max = vec![0.0; tracks * filters];
        features.conv1_mean = vec![0.0; tracks * filters];
        features.conv1_peak = vec![0; tracks * filters];
        for track in 0..tracks {
            let range = track * filters..(track + 1) * filters;
            let max = &mut features.conv1_max[range.clone()];
            let peak = &mut features.conv1_peak[range.clone()];
            let mut sum = vec![0.0f32; filters];
            max.fill(f32::NEG_INFINITY);
            for (t, row) in track_rows(track).chunks_exact(filters).enumerate() {
                for o in 0..filters {
                    let v = (row[o] + bias[o]).max(0.0);
                    sum[o] += v;
                    if v > max[o] {
                        max[o] = v;
                        peak[o] = t as u32;
                    }
                }
            }
            for (mean, s) in features.conv1_mean[range].iter_mut().zip(&sum) {
                *mean = s / frames as f32;
            }
        }
    }
}
