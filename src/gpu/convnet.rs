//! The convnet on a GPU. Weights are uploaded once; the buffers and bind groups of a batch
//! size are made once and kept (made again only for a larger batch); each batch is one
//! command buffer: normalise → per conv layer a GEMM (+ bias + ReLU) then max-pool or global
//! pooling, conv1's summaries off conv1's output, → dense layers → output. Activations stay
//! time-major (`[tracks, frames, channels]`) as on the CPU, which makes each convolution an
//! implicit GEMM (shaders/conv_gemm.wgsl).
//!
//! `start` uploads a batch and submits it without waiting; `InFlight::finish` waits for its
//! results. A caller that starts the next batch before finishing the current one keeps the GPU
//! busy while the host copies data in and out (the queue runs batches in order, so the shared
//! activation buffers are never used by two batches at once).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, MutexGuard};

use ndarray::{Array2, Array3};
use wgpu::util::DeviceExt;

use super::adapter::{self, AdapterChoice, AdapterSummary, GpuContext};
use super::kernels::{self, fold_grid, Pipelines};
use super::GpuError;
use crate::convnet::config::{ConvnetConfig, CROP_FRAMES, KERNEL_FRAMES};
use crate::convnet::infer::{Conv1Stats, InferOptions, InferOutputs};
use crate::convnet::weights::ConvnetWeights;

/// Bytes of every kernel's parameter block (the largest has 8 u32).
const PARAMS_BYTES: u64 = 32;

/// The convnet's weights on the device, in the layouts the kernels read.
#[derive(Debug)]
struct DeviceWeights {
    mean: wgpu::Buffer,
    inv_std: wgpu::Buffer,
    /// Per conv layer: weights [4 · inputs, filters] (GEMM B), bias [filters].
    convs: Vec<(wgpu::Buffer, wgpu::Buffer)>,
    /// Dense layers then the output layer: weights [inputs, outputs], bias [outputs].
    dense: Vec<(wgpu::Buffer, wgpu::Buffer)>,
}

/// What a step of the network does; its parameters follow from the batch size.
#[derive(Debug, Clone, Copy)]
enum StepKind {
    Normalise,
    Gemm {
        rows_per_track: usize,
        track_stride: usize,
        row_stride: usize,
        k: usize,
        n: usize,
        relu: bool,
    },
    MaxPool {
        frames_in: usize,
        channels: usize,
        width: usize,
    },
    GlobalPool {
        frames: usize,
        channels: usize,
    },
    Conv1Stats {
        frames: usize,
        filters: usize,
    },
}

/// One dispatch with its own parameter buffer and bind group.
#[derive(Debug)]
struct Step {
    /// What it computes, for per-kernel times: `conv1`, `conv1 pool`, `fc1`, …
    label: String,
    kind: StepKind,
    params: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
}

/// One kernel's time on the GPU.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelTime {
    /// `normalise`, `conv1`, `conv1 stats`, `conv1 max-pool`, …, `global pool`, `fc1`, `out`.
    pub label: String,
    pub seconds: f64,
    /// Floating-point operations (GEMMs; 0 for the memory-bound kernels).
    pub flops: f64,
}

/// Where the input crop sits in the uploaded arrays.
#[derive(Debug, Clone, Copy)]
pub struct InputLayout {
    /// Frames per uploaded track (646 for stored excerpts, 599 for crops).
    pub frames: usize,
    /// First frame of the crop.
    pub offset: usize,
}

/// Buffers for batches of up to `capacity` tracks.
#[derive(Debug)]
struct Workspace {
    capacity: usize,
    input_frames: usize,
    input: wgpu::Buffer,
    steps: Vec<Step>,
    conv1: wgpu::Buffer,
    stats: [wgpu::Buffer; 3],
    pooled: wgpu::Buffer,
    last_dense: wgpu::Buffer,
    factors: wgpu::Buffer,
}

/// The convnet ready for inference on one GPU device.
#[derive(Debug)]
pub struct GpuConvnet {
    config: ConvnetConfig,
    context: GpuContext,
    adapter: AdapterSummary,
    pipelines: Pipelines,
    weights: DeviceWeights,
    workspace: Mutex<Option<Workspace>>,
    /// Batches started so far (errors name the batch).
    started: AtomicUsize,
}

/// A batch submitted to the GPU; `finish` waits for its outputs.
#[must_use = "a batch's outputs are only read by finish"]
pub struct InFlight {
    context: GpuContext,
    adapter: String,
    batch_number: usize,
    tracks: usize,
    submission: wgpu::SubmissionIndex,
    readback: Readback,
    /// Per output, its (offset, floats) in `readback`.
    sections: Sections,
    dims: Dims,
}

/// A buffer (`MAP_READ`) asked to be mapped once the submitted work that fills it is done.
struct Readback {
    buffer: wgpu::Buffer,
    mapped: mpsc::Receiver<Result<(), wgpu::BufferAsyncError>>,
}

impl Readback {
    fn request(buffer: wgpu::Buffer) -> Self {
        let (sender, mapped) = mpsc::channel();
        buffer.map_async(wgpu::MapMode::Read, .., move |result| {
            // The receiver is gone only when the batch was abandoned.
            let _ = sender.send(result);
        });
        Self { buffer, mapped }
    }

    /// Waits for `submission` and the mapping; the buffer's bytes, or why they cannot be read.
    fn wait(
        &self,
        device: &wgpu::Device,
        submission: wgpu::SubmissionIndex,
    ) -> Result<wgpu::BufferView, String> {
        device
            .poll(wgpu::PollType::Wait {
                submission_index: Some(submission),
                timeout: None,
            })
            .map_err(|e| e.to_string())?;
        self.mapped
            .recv()
            .map_err(|_| "the readback was dropped".to_owned())?
            .map_err(|e| e.to_string())?;
        self.buffer.get_mapped_range(..).map_err(|e| e.to_string())
    }
}

#[derive(Debug, Clone, Copy)]
struct Dims {
    factors: usize,
    pooled: usize,
    units: usize,
    filters: usize,
    conv1_frames: usize,
}

#[derive(Debug, Clone, Copy)]
struct Sections {
    factors: (u64, usize),
    pooled: (u64, usize),
    last_dense: (u64, usize),
    stats: Option<[(u64, usize); 3]>,
    conv1: Option<(u64, usize)>,
}

fn f32_buffer(device: &wgpu::Device, label: &str, values: &[f32]) -> wgpu::Buffer {
    device.create_buffer_init(&wgpu::util::BufferInitDescriptor {
        label: Some(label),
        contents: bytemuck::cast_slice(values),
        usage: wgpu::BufferUsages::STORAGE,
    })
}

fn storage(device: &wgpu::Device, label: &str, floats: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: (floats.max(1) * 4) as u64,
        usage: wgpu::BufferUsages::STORAGE
            | wgpu::BufferUsages::COPY_SRC
            | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// conv weight [out, in, 4] → GEMM B [4 · in, out] with row tap · in + c.
fn pack_conv(weight: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
    let mut packed = vec![0.0; weight.len()];
    for o in 0..outputs {
        for c in 0..inputs {
            for tap in 0..KERNEL_FRAMES {
                packed[(tap * inputs + c) * outputs + o] =
                    weight[(o * inputs + c) * KERNEL_FRAMES + tap];
            }
        }
    }
    packed
}

/// dense weight [out, in] → GEMM B [in, out].
fn pack_dense(weight: &[f32], inputs: usize, outputs: usize) -> Vec<f32> {
    let mut packed = vec![0.0; weight.len()];
    for o in 0..outputs {
        for i in 0..inputs {
            packed[i * outputs + o] = weight[o * inputs + i];
        }
    }
    packed
}

impl StepKind {
    /// Floating-point operations for `tracks` tracks, counting a multiply-add as 2 (GEMMs
    /// only; the other kernels are memory-bound and count 0).
    fn flops(self, tracks: usize) -> f64 {
        match self {
            StepKind::Gemm {
                rows_per_track,
                k,
                n,
                ..
            } => 2.0 * (tracks * rows_per_track) as f64 * n as f64 * k as f64,
            _ => 0.0,
        }
    }

    /// The kernel's parameter words and workgroup count for `tracks` tracks.
    fn params(self, tracks: usize, input: InputLayout, mels: usize) -> (Vec<u32>, usize) {
        let words = |values: &[usize]| values.iter().map(|&v| v as u32).collect::<Vec<_>>();
        match self {
            StepKind::Normalise => {
                let values = tracks * CROP_FRAMES * mels;
                let groups = values.div_ceil(kernels::ELEMENTWISE_GROUP);
                let grid = fold_grid(groups).0 as usize;
                (
                    words(&[tracks, input.frames, input.offset, CROP_FRAMES, mels, grid]),
                    groups,
                )
            }
            StepKind::Gemm {
                rows_per_track,
                track_stride,
                row_stride,
                k,
                n,
                relu,
            } => {
                let m = tracks * rows_per_track;
                let groups = m.div_ceil(kernels::GEMM_TILE) * n.div_ceil(kernels::GEMM_TILE);
                let grid = fold_grid(groups).0 as usize;
                (
                    words(&[
                        m,
                        n,
                        k,
                        rows_per_track,
                        track_stride,
                        row_stride,
                        usize::from(relu),
                        grid,
                    ]),
                    groups,
                )
            }
            StepKind::MaxPool {
                frames_in,
                channels,
                width,
            } => {
                let values = tracks * (frames_in / width) * channels;
                let groups = values.div_ceil(kernels::ELEMENTWISE_GROUP);
                let grid = fold_grid(groups).0 as usize;
                (words(&[tracks, frames_in, channels, width, grid]), groups)
            }
            StepKind::GlobalPool { frames, channels }
            | StepKind::Conv1Stats {
                frames,
                filters: channels,
            } => {
                let groups = (tracks * channels).div_ceil(kernels::REDUCTION_GROUP);
                let grid = fold_grid(groups).0 as usize;
                (words(&[tracks, frames, channels, grid]), groups)
            }
        }
    }
}

impl GpuConvnet {
    /// Opens the adapter `choice` names and prepares `weights` on it.
    pub fn new(weights: &ConvnetWeights, choice: &AdapterChoice) -> Result<Self, GpuError> {
        Self::with_context(weights, adapter::open(choice)?)
    }

    /// Prepares `weights` on a device the caller already has (the app shares eframe's).
    pub fn with_context(weights: &ConvnetWeights, context: GpuContext) -> Result<Self, GpuError> {
        let adapter = AdapterSummary::from_info(&context.info);
        let pipelines = Pipelines::new(&context.device, &adapter.name)?;
        let config = weights.config.clone();
        let device = &context.device;
        let inputs = config.conv_inputs();
        let shapes = config.dense_shapes();
        let (last_in, last_out) = shapes[shapes.len() - 1];
        let mut dense: Vec<(wgpu::Buffer, wgpu::Buffer)> = weights
            .dense
            .iter()
            .zip(&shapes)
            .map(|(layer, &(i, o))| {
                (
                    f32_buffer(device, "dense weight", &pack_dense(&layer.weight, i, o)),
                    f32_buffer(device, "dense bias", &layer.bias),
                )
            })
            .collect();
        dense.push((
            f32_buffer(
                device,
                "out weight",
                &pack_dense(&weights.out.weight, last_in, last_out),
            ),
            f32_buffer(device, "out bias", &weights.out.bias),
        ));
        let device_weights = DeviceWeights {
            mean: f32_buffer(device, "input mean", &weights.input_mean),
            inv_std: f32_buffer(
                device,
                "input 1/std",
                &weights
                    .input_std
                    .iter()
                    .map(|s| 1.0 / s)
                    .collect::<Vec<_>>(),
            ),
            convs: weights
                .convs
                .iter()
                .enumerate()
                .map(|(i, layer)| {
                    (
                        f32_buffer(
                            device,
                            "conv weight",
                            &pack_conv(&layer.weight, inputs[i], config.filters[i]),
                        ),
                        f32_buffer(device, "conv bias", &layer.bias),
                    )
                })
                .collect(),
            dense,
        };
        Ok(Self {
            config,
            adapter,
            pipelines,
            weights: device_weights,
            context,
            workspace: Mutex::new(None),
            started: AtomicUsize::new(0),
        })
    }

    pub fn config(&self) -> &ConvnetConfig {
        &self.config
    }

    /// The adapter it runs on.
    pub fn adapter(&self) -> &AdapterSummary {
        &self.adapter
    }

    /// Uploads `tracks` tracks of raw log-mels (`input`: [tracks, layout.frames, n_mels] dB,
    /// time-major) and submits the network on their crops without waiting.
    pub fn start(
        &self,
        input: &[f32],
        tracks: usize,
        layout: InputLayout,
        options: InferOptions,
    ) -> Result<InFlight, GpuError> {
        let batch_number = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let failed = |message: String| GpuError::Batch {
            adapter: self.adapter.name.clone(),
            batch: batch_number,
            tracks,
            message,
        };
        let mels = self.config.n_mels;
        debug_assert_eq!(input.len(), tracks * layout.frames * mels);
        let device = &self.context.device;
        let queue = &self.context.queue;
        let memory_scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation_scope = device.push_error_scope(wgpu::ErrorFilter::Validation);

        let slot = self.prepare(input, tracks, layout).map_err(failed)?;
        let workspace = slot.as_ref().expect("prepared");
        let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor {
            label: Some("convnet batch"),
        });
        self.encode_steps(&mut encoder, workspace, tracks, layout, options, None);

        let dims = Dims {
            factors: self.config.factors,
            pooled: self.config.pooled_features(),
            units: self.config.last_dense(),
            filters: self.config.filters[0],
            conv1_frames: self.config.conv_lengths()[0],
        };
        // The outputs asked for, packed one after another into one readback buffer.
        let mut offset = 0u64;
        let mut take = |floats: usize| {
            let at = (offset, floats);
            offset += (floats * 4) as u64;
            at
        };
        let sections = Sections {
            factors: take(tracks * dims.factors),
            pooled: take(tracks * dims.pooled),
            last_dense: take(tracks * dims.units),
            stats: options
                .conv1_stats
                .then(|| [(); 3].map(|()| take(tracks * dims.filters))),
            conv1: options
                .conv1
                .then(|| take(tracks * dims.conv1_frames * dims.filters)),
        };
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("convnet readback"),
            size: offset.max(4),
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut copy = |buffer: &wgpu::Buffer, (at, floats): (u64, usize)| {
            if floats > 0 {
                encoder.copy_buffer_to_buffer(buffer, 0, &readback, at, (floats * 4) as u64);
            }
        };
        copy(&workspace.factors, sections.factors);
        copy(&workspace.pooled, sections.pooled);
        copy(&workspace.last_dense, sections.last_dense);
        if let Some(stats) = sections.stats {
            for (buffer, at) in workspace.stats.iter().zip(stats) {
                copy(buffer, at);
            }
        }
        if let Some(at) = sections.conv1 {
            copy(&workspace.conv1, at);
        }
        // Submitted under the lock: the parameter writes above land with the next submit, so
        // another thread's batch must not write its own in between.
        let submission = queue.submit(Some(encoder.finish()));
        drop(slot);
        let readback = Readback::request(readback);
        let errors = [
            pollster::block_on(validation_scope.pop()),
            pollster::block_on(memory_scope.pop()),
        ];
        if let Some(error) = errors.into_iter().flatten().next() {
            return Err(failed(error.to_string()));
        }
        Ok(InFlight {
            context: self.context.clone(),
            adapter: self.adapter.name.clone(),
            batch_number,
            tracks,
            submission,
            readback,
            sections,
            dims,
        })
    }

    /// The workspace, large enough for `tracks` tracks of `layout`, with their input
    /// uploaded; held locked until the batch is submitted.
    fn prepare(
        &self,
        input: &[f32],
        tracks: usize,
        layout: InputLayout,
    ) -> Result<MutexGuard<'_, Option<Workspace>>, String> {
        let mut slot = self
            .workspace
            .lock()
            .map_err(|_| "an earlier batch panicked".to_owned())?;
        if slot
            .as_ref()
            .is_none_or(|w| w.capacity < tracks || w.input_frames < layout.frames)
        {
            *slot = Some(self.workspace(tracks.max(1), layout.frames.max(CROP_FRAMES)));
        }
        let workspace = slot.as_ref().expect("made above");
        self.context
            .queue
            .write_buffer(&workspace.input, 0, bytemuck::cast_slice(input));
        Ok(slot)
    }

    /// Records the network's dispatches for `tracks` tracks (their parameters written to the
    /// queue): one compute pass, or one per step with its start and end written to
    /// `timestamps` (2 queries per step). Returns the steps recorded.
    fn encode_steps<'w>(
        &self,
        encoder: &mut wgpu::CommandEncoder,
        workspace: &'w Workspace,
        tracks: usize,
        layout: InputLayout,
        options: InferOptions,
        timestamps: Option<&wgpu::QuerySet>,
    ) -> Vec<&'w Step> {
        let steps: Vec<&Step> = workspace
            .steps
            .iter()
            .filter(|s| options.conv1_stats || !matches!(s.kind, StepKind::Conv1Stats { .. }))
            .collect();
        let grids: Vec<(u32, u32)> = steps
            .iter()
            .map(|step| {
                let (words, groups) = step.kind.params(tracks, layout, self.config.n_mels);
                self.context
                    .queue
                    .write_buffer(&step.params, 0, bytemuck::cast_slice(&words));
                fold_grid(groups)
            })
            .collect();
        let dispatch = |pass: &mut wgpu::ComputePass<'_>, step: &Step, (x, y): (u32, u32)| {
            pass.set_pipeline(self.pipeline(step.kind));
            pass.set_bind_group(0, &step.bind_group, &[]);
            pass.dispatch_workgroups(x, y, 1);
        };
        match timestamps {
            None => {
                let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                    label: Some("convnet"),
                    timestamp_writes: None,
                });
                for (step, &grid) in steps.iter().zip(&grids) {
                    dispatch(&mut pass, step, grid);
                }
            }
            Some(query_set) => {
                for (index, (step, &grid)) in steps.iter().zip(&grids).enumerate() {
                    let first = 2 * index as u32;
                    let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                        label: Some(&step.label),
                        timestamp_writes: Some(wgpu::ComputePassTimestampWrites {
                            query_set,
                            beginning_of_pass_write_index: Some(first),
                            end_of_pass_write_index: Some(first + 1),
                        }),
                    });
                    dispatch(&mut pass, step, grid);
                }
            }
        }
        steps
    }

    /// Per-kernel GPU times of one batch (`input` as for `start`), from timestamp queries;
    /// `None` when the device has none (its adapter lacks them, or it was opened without).
    pub fn kernel_times(
        &self,
        input: &[f32],
        tracks: usize,
        layout: InputLayout,
    ) -> Result<Option<Vec<KernelTime>>, GpuError> {
        let failed = |message: String| GpuError::Batch {
            adapter: self.adapter.name.clone(),
            batch: 0,
            tracks,
            message,
        };
        let device = &self.context.device;
        if !device.features().contains(wgpu::Features::TIMESTAMP_QUERY) {
            return Ok(None);
        }
        let slot = self.prepare(input, tracks, layout).map_err(failed)?;
        let workspace = slot.as_ref().expect("prepared");
        let queries = 2 * workspace.steps.len() as u32;
        let query_set = device.create_query_set(&wgpu::QuerySetDescriptor {
            label: Some("kernel times"),
            ty: wgpu::QueryType::Timestamp,
            count: queries,
        });
        let bytes = u64::from(queries) * 8;
        let resolved = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kernel times"),
            size: bytes,
            usage: wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC,
            mapped_at_creation: false,
        });
        let readback = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("kernel times readback"),
            size: bytes,
            usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let mut encoder = device.create_command_encoder(&Default::default());
        let options = InferOptions {
            conv1: false,
            conv1_stats: true,
        };
        let steps = self.encode_steps(
            &mut encoder,
            workspace,
            tracks,
            layout,
            options,
            Some(&query_set),
        );
        let used = 2 * steps.len() as u32;
        encoder.resolve_query_set(&query_set, 0..used, &resolved, 0);
        encoder.copy_buffer_to_buffer(&resolved, 0, &readback, 0, u64::from(used) * 8);
        let submission = self.context.queue.submit(Some(encoder.finish()));
        let readback = Readback::request(readback);
        let view = readback.wait(device, submission).map_err(failed)?;
        let ticks: Vec<u64> = bytemuck::pod_collect_to_vec(&view);
        let period_ns = f64::from(self.context.queue.get_timestamp_period());
        Ok(Some(
            steps
                .iter()
                .zip(ticks.chunks_exact(2))
                .map(|(step, pair)| KernelTime {
                    label: step.label.clone(),
                    seconds: pair[1].saturating_sub(pair[0]) as f64 * period_ns * 1e-9,
                    flops: step.kind.flops(tracks),
                })
                .collect(),
        ))
    }

    fn pipeline(&self, kind: StepKind) -> &wgpu::ComputePipeline {
        match kind {
            StepKind::Normalise => &self.pipelines.normalise,
            StepKind::Gemm { .. } => &self.pipelines.conv_gemm,
            StepKind::MaxPool { .. } => &self.pipelines.max_pool,
            StepKind::GlobalPool { .. } => &self.pipelines.global_pool,
            StepKind::Conv1Stats { .. } => &self.pipelines.conv1_stats,
        }
    }
}

impl GpuConvnet {
    /// Buffers, steps and bind groups for batches of up to `capacity` tracks of up to
    /// `input_frames` frames.
    fn workspace(&self, capacity: usize, input_frames: usize) -> Workspace {
        let config = &self.config;
        let device = &self.context.device;
        let mels = config.n_mels;
        let weights = &self.weights;
        let mut steps = Vec::new();
        let mut step = |label: String,
                        kind: StepKind,
                        pipeline: &wgpu::ComputePipeline,
                        buffers: &[&wgpu::Buffer]| {
            let params = device.create_buffer(&wgpu::BufferDescriptor {
                label: Some("kernel params"),
                size: PARAMS_BYTES,
                usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
                mapped_at_creation: false,
            });
            let entries: Vec<wgpu::BindGroupEntry> = std::iter::once(&params)
                .chain(buffers.iter().copied())
                .enumerate()
                .map(|(binding, buffer)| wgpu::BindGroupEntry {
                    binding: binding as u32,
                    resource: buffer.as_entire_binding(),
                })
                .collect();
            let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("kernel buffers"),
                layout: &pipeline.get_bind_group_layout(0),
                entries: &entries,
            });
            steps.push(Step {
                label,
                kind,
                params,
                bind_group,
            });
        };

        let input = storage(device, "input", capacity * input_frames * mels);
        let normalised = storage(device, "normalised", capacity * CROP_FRAMES * mels);
        step(
            "normalise".into(),
            StepKind::Normalise,
            &self.pipelines.normalise,
            &[&input, &weights.mean, &weights.inv_std, &normalised],
        );
        let lengths = config.conv_lengths();
        let inputs = config.conv_inputs();
        let filters0 = config.filters[0];
        let stats = [
            storage(device, "conv1 max", capacity * filters0),
            storage(device, "conv1 mean", capacity * filters0),
            storage(device, "conv1 peak", capacity * filters0),
        ];
        let pooled = storage(device, "pooled", capacity * config.pooled_features());
        let mut conv_outputs = Vec::new();
        let mut layer_input = normalised;
        let mut frames_in = CROP_FRAMES;
        for (layer, (weight, bias)) in weights.convs.iter().enumerate() {
            let (channels, filters, frames_out) =
                (inputs[layer], config.filters[layer], lengths[layer]);
            let output = storage(device, "conv output", capacity * frames_out * filters);
            let name = format!("conv{}", layer + 1);
            step(
                name.clone(),
                StepKind::Gemm {
                    rows_per_track: frames_out,
                    track_stride: frames_in * channels,
                    row_stride: channels,
                    k: KERNEL_FRAMES * channels,
                    n: filters,
                    relu: true,
                },
                &self.pipelines.conv_gemm,
                &[&layer_input, weight, bias, &output],
            );
            if layer == 0 {
                step(
                    format!("{name} stats"),
                    StepKind::Conv1Stats {
                        frames: frames_out,
                        filters,
                    },
                    &self.pipelines.conv1_stats,
                    &[&output, &stats[0], &stats[1], &stats[2]],
                );
            }
            match config.pools.get(layer) {
                Some(&width) => {
                    let frames = frames_out / width;
                    let next = storage(device, "pooled frames", capacity * frames * filters);
                    step(
                        format!("{name} max-pool"),
                        StepKind::MaxPool {
                            frames_in: frames_out,
                            channels: filters,
                            width,
                        },
                        &self.pipelines.max_pool,
                        &[&output, &next],
                    );
                    frames_in = frames;
                    conv_outputs.push(output);
                    layer_input = next;
                }
                None => {
                    step(
                        "global pool".into(),
                        StepKind::GlobalPool {
                            frames: frames_out,
                            channels: filters,
                        },
                        &self.pipelines.global_pool,
                        &[&output, &pooled],
                    );
                    conv_outputs.push(output);
                }
            }
        }
        let shapes = config.dense_shapes();
        let mut dense_input = &pooled;
        let mut dense_outputs = Vec::new();
        for (layer, (weight, bias)) in weights.dense.iter().enumerate() {
            // shapes: the dense layers then the output layer, as `weights.dense` here.
            let last = layer == weights.dense.len() - 1;
            let (inputs, outputs) = shapes[layer];
            let output = storage(device, "dense output", capacity * outputs);
            step(
                if last {
                    "out".into()
                } else {
                    format!("fc{}", layer + 1)
                },
                StepKind::Gemm {
                    rows_per_track: 1,
                    track_stride: inputs,
                    row_stride: 0,
                    k: inputs,
                    n: outputs,
                    relu: !last,
                },
                &self.pipelines.conv_gemm,
                &[dense_input, weight, bias, &output],
            );
            dense_outputs.push(output);
            dense_input = dense_outputs.last().expect("just pushed");
        }
        let factors = dense_outputs.pop().expect("the output layer");
        let last_dense = dense_outputs.pop().unwrap_or_else(|| pooled.clone());
        Workspace {
            capacity,
            input_frames,
            input,
            steps,
            conv1: conv_outputs.swap_remove(0),
            stats,
            pooled,
            last_dense,
            factors,
        }
    }
}

impl InFlight {
    /// Waits for the batch and reads its outputs back.
    pub fn finish(self) -> Result<InferOutputs, GpuError> {
        let failed = |message: String| GpuError::Batch {
            adapter: self.adapter.clone(),
            batch: self.batch_number,
            tracks: self.tracks,
            message,
        };
        let view = self
            .readback
            .wait(&self.context.device, self.submission.clone())
            .map_err(failed)?;
        let floats = |(at, len): (u64, usize)| -> Vec<f32> {
            bytemuck::pod_collect_to_vec(&view[at as usize..at as usize + len * 4])
        };
        let tracks = self.tracks;
        let dims = self.dims;
        let matrix = |section, width| {
            Array2::from_shape_vec((tracks, width), floats(section)).expect("tracks × width read")
        };
        let factors = matrix(self.sections.factors, dims.factors);
        let pooled = matrix(self.sections.pooled, dims.pooled);
        let last_dense = matrix(self.sections.last_dense, dims.units);
        let conv1_stats = self.sections.stats.map(|[max, mean, peak]| {
            let peaks: Vec<u32> =
                bytemuck::pod_collect_to_vec(&view[peak.0 as usize..peak.0 as usize + peak.1 * 4]);
            Conv1Stats {
                max: matrix(max, dims.filters),
                mean: matrix(mean, dims.filters),
                peak_frame: Array2::from_shape_vec((tracks, dims.filters), peaks)
                    .expect("tracks × filters read"),
            }
        });
        // conv1 comes back time-major [tracks, frames, filters]; callers get [tracks, filters, frames].
        let conv1 = self.sections.conv1.map(|section| {
            let time_major =
                Array3::from_shape_vec((tracks, dims.conv1_frames, dims.filters), floats(section))
                    .expect("tracks × frames × filters read");
            time_major
                .permuted_axes([0, 2, 1])
                .as_standard_layout()
                .into_owned()
        });
        drop(view);
        self.readback.buffer.unmap();
        Ok(InferOutputs {
            factors,
            pooled,
            last_dense,
            conv1,
            conv1_stats,
        })
    }
}
