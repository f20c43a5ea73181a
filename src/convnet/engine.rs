//! One inference interface over the CPU and GPU paths: the device choice (`--device
//! cpu|gpu|gpu:NAME|auto`), the engine it gives, and batches that can be started before the
//! previous one is read back.

use std::fmt;

use ndarray::{ArrayView2, ArrayView3, Axis};

use super::config::{ConvnetConfig, CENTRE_CROP_OFFSET, CROP_FRAMES, EXCERPT_FRAMES};
use super::infer::{
    check_crops, check_excerpts, CpuConvnet, InferError, InferOptions, InferOutputs,
};
use super::weights::ConvnetWeights;
use crate::gpu::convnet::{InputLayout, KernelTime};
use crate::gpu::{self, AdapterChoice, GpuContext, GpuConvnet, InFlight};

/// Where inference runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum InferDevice {
    /// A hardware GPU when there is one, else the CPU (a software adapter is slower than the
    /// CPU path, so `auto` never picks one).
    #[default]
    Auto,
    Cpu,
    /// A GPU adapter, software ones included: the fastest, or one by name.
    Gpu(AdapterChoice),
    /// A device the caller already has (the app's, shared with eframe); like `auto`, a
    /// failure falls back to the CPU.
    Shared(Box<GpuContext>),
}

impl std::str::FromStr for InferDevice {
    type Err = String;

    /// `auto`, `cpu`, `gpu` or `gpu:NAME` (part of an adapter's name, as `deepcuts devices`
    /// lists them), as given to `--device`.
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "gpu" => Ok(Self::Gpu(AdapterChoice::Fastest)),
            other => match other.strip_prefix("gpu:") {
                Some(adapter) if !adapter.is_empty() => {
                    Ok(Self::Gpu(AdapterChoice::Named(adapter.to_owned())))
                }
                _ => Err(format!(
                    "unknown device {other:?} (known: auto, cpu, gpu, gpu:NAME)"
                )),
            },
        }
    }
}

impl fmt::Display for InferDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Auto => write!(f, "auto"),
            Self::Cpu => write!(f, "cpu"),
            Self::Gpu(AdapterChoice::Fastest) => write!(f, "gpu"),
            Self::Gpu(AdapterChoice::Named(name)) => write!(f, "gpu:{name}"),
            Self::Shared(context) => write!(f, "gpu (shared device on {})", context.info.name),
        }
    }
}

/// The convnet on the CPU or on a GPU; every caller (predict, forward, eval, bench, the app)
/// takes this type.
#[derive(Debug)]
pub struct InferEngine {
    backend: Backend,
    /// Why `auto` chose what it chose, when it is worth telling.
    note: Option<String>,
    /// For `auto` on a GPU: what a run that fails on the GPU is retried with.
    cpu_fallback: Option<(Box<ConvnetWeights>, usize)>,
}

#[derive(Debug)]
enum Backend {
    Cpu(Box<CpuConvnet>),
    Gpu(Box<GpuConvnet>),
}

/// A batch started by `InferEngine::start_excerpts`; `finish` gives its outputs.
#[must_use = "a batch's outputs are only read by finish"]
pub enum Pending {
    Done(Box<InferOutputs>),
    Gpu(Box<InFlight>),
}

impl Pending {
    pub fn finish(self) -> Result<InferOutputs, InferError> {
        match self {
            Pending::Done(outputs) => Ok(*outputs),
            Pending::Gpu(in_flight) => Ok(in_flight.finish()?),
        }
    }
}

impl InferEngine {
    /// Prepares `weights` on `device`; the CPU path uses `threads` threads (at least 1).
    pub fn new(
        weights: &ConvnetWeights,
        device: &InferDevice,
        threads: usize,
    ) -> Result<Self, InferError> {
        let cpu = |note: Option<String>| -> Result<Self, InferError> {
            Ok(Self {
                backend: Backend::Cpu(Box::new(CpuConvnet::new(weights, threads)?)),
                note,
                cpu_fallback: None,
            })
        };
        // A GPU engine that retries failed runs on the CPU, or the CPU when it cannot start.
        let with_fallback = |gpu: Result<GpuConvnet, gpu::GpuError>| match gpu {
            Ok(gpu) => Ok(Self {
                backend: Backend::Gpu(Box::new(gpu)),
                note: None,
                cpu_fallback: Some((Box::new(weights.clone()), threads)),
            }),
            Err(error) => cpu(Some(error.to_string())),
        };
        match device {
            InferDevice::Cpu => cpu(None),
            InferDevice::Gpu(choice) => Ok(Self {
                backend: Backend::Gpu(Box::new(GpuConvnet::new(weights, choice)?)),
                note: None,
                cpu_fallback: None,
            }),
            InferDevice::Shared(context) => {
                with_fallback(GpuConvnet::with_context(weights, (**context).clone()))
            }
            InferDevice::Auto => match gpu::adapter::find(&AdapterChoice::Fastest) {
                Err(_) => cpu(Some("auto: no GPU adapter".into())),
                Ok(adapter) => {
                    let summary = gpu::AdapterSummary::from_info(&adapter.get_info());
                    if summary.is_software() {
                        cpu(Some(format!(
                            "auto: {} is a software adapter; --device gpu uses it",
                            summary.name
                        )))
                    } else {
                        // Opened as found: enumerating the adapters again costs as much.
                        with_fallback(
                            gpu::adapter::open_adapter(adapter)
                                .and_then(|context| GpuConvnet::with_context(weights, context)),
                        )
                    }
                }
            },
        }
    }

    pub fn config(&self) -> &ConvnetConfig {
        match &self.backend {
            Backend::Cpu(net) => net.config(),
            Backend::Gpu(net) => net.config(),
        }
    }

    /// Where it runs, in words: `cpu (2 threads)` or `gpu NAME (backend, kind)`, with why
    /// when `auto` chose the CPU.
    pub fn describe(&self) -> String {
        let device = match &self.backend {
            Backend::Cpu(net) => format!("cpu ({} threads)", net.threads()),
            Backend::Gpu(net) => format!("gpu {}", net.adapter()),
        };
        match &self.note {
            Some(note) => format!("{device} [{note}]"),
            None => device,
        }
    }

    /// Whether it runs on a GPU.
    pub fn is_gpu(&self) -> bool {
        matches!(self.backend, Backend::Gpu(_))
    }

    /// The CPU engine a failed GPU run is retried with, for `auto` and a shared device.
    pub fn cpu_fallback(&self) -> Option<Result<Self, InferError>> {
        self.cpu_fallback.as_ref().map(|(weights, threads)| {
            Ok(Self {
                backend: Backend::Cpu(Box::new(CpuConvnet::new(weights, *threads)?)),
                note: None,
                cpu_fallback: None,
            })
        })
    }

    /// Runs the network on network-layout crops. x: [batch, n_mels, 599] (dB).
    pub fn run(
        &self,
        x: ArrayView3<'_, f32>,
        options: InferOptions,
    ) -> Result<InferOutputs, InferError> {
        match &self.backend {
            Backend::Cpu(net) => net.run(x, options),
            Backend::Gpu(net) => {
                check_crops(x, self.config().n_mels)?;
                // Time-major, as the kernels read it: [batch, 599, n_mels].
                let values: Vec<f32> = x.permuted_axes([0, 2, 1]).iter().copied().collect();
                let layout = InputLayout {
                    frames: CROP_FRAMES,
                    offset: 0,
                };
                Ok(net
                    .start(&values, x.len_of(Axis(0)), layout, options)?
                    .finish()?)
            }
        }
    }

    /// Runs the network on the centre crops of stored excerpts, each [646, n_mels] (dB).
    pub fn run_excerpts(
        &self,
        excerpts: &[ArrayView2<'_, f32>],
        options: InferOptions,
    ) -> Result<InferOutputs, InferError> {
        self.start_excerpts(excerpts, options)?.finish()
    }

    /// Per-kernel GPU times of one batch of excerpts (timestamp queries); `None` on the CPU
    /// or when the GPU has no timestamps.
    pub fn kernel_times(
        &self,
        excerpts: &[ArrayView2<'_, f32>],
    ) -> Result<Option<Vec<KernelTime>>, InferError> {
        match &self.backend {
            Backend::Cpu(_) => Ok(None),
            Backend::Gpu(net) => {
                check_excerpts(excerpts, self.config().n_mels)?;
                let values = concatenated(excerpts);
                Ok(net.kernel_times(&values, excerpts.len(), EXCERPT_LAYOUT)?)
            }
        }
    }

    /// Starts the network on excerpts as `run_excerpts` does; on a GPU it returns once the
    /// batch is submitted, so the caller can prepare the next one meanwhile.
    pub fn start_excerpts(
        &self,
        excerpts: &[ArrayView2<'_, f32>],
        options: InferOptions,
    ) -> Result<Pending, InferError> {
        match &self.backend {
            Backend::Cpu(net) => Ok(Pending::Done(Box::new(
                net.run_excerpts(excerpts, options)?,
            ))),
            Backend::Gpu(net) => {
                check_excerpts(excerpts, self.config().n_mels)?;
                let values = concatenated(excerpts);
                let in_flight = net.start(&values, excerpts.len(), EXCERPT_LAYOUT, options)?;
                Ok(Pending::Gpu(Box::new(in_flight)))
            }
        }
    }
}

/// Stored excerpts as the GPU reads them: the centre crop of [646, n_mels] arrays.
const EXCERPT_LAYOUT: InputLayout = InputLayout {
    frames: EXCERPT_FRAMES,
    offset: CENTRE_CROP_OFFSET,
};

/// Excerpts one after another: [excerpts, 646, n_mels].
fn concatenated(excerpts: &[ArrayView2<'_, f32>]) -> Vec<f32> {
    let mut values = Vec::with_capacity(excerpts.iter().map(|e| e.len()).sum());
    for excerpt in excerpts {
        values.extend(excerpt.iter().copied());
    }
    values
}
