//! Convnet inference on a GPU through wgpu (Vulkan, Metal, DX12; lavapipe in CI): adapter
//! choice, the WGSL kernels in `shaders/`, and an engine that returns exactly what the CPU
//! path (`convnet::infer`) returns.

pub mod adapter;
pub mod convnet;
pub mod kernels;

pub use adapter::{list_adapters, AdapterChoice, AdapterSummary, GpuContext};
pub use convnet::{GpuConvnet, InFlight};

/// Why the GPU could not be used, or failed.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    #[error(
        "no GPU adapter found (searched wgpu's {backends} backends; is a Vulkan driver \
         installed?): use --device cpu or auto"
    )]
    NoAdapter { backends: String },
    #[error("no GPU adapter named like {name:?}; adapters: {available}")]
    NoSuchAdapter { name: String, available: String },
    #[error("cannot open GPU adapter {adapter}: {message}")]
    OpenDevice { adapter: String, message: String },
    #[error("GPU kernel {kernel} was rejected by {adapter}: {message}")]
    Kernel {
        kernel: &'static str,
        adapter: String,
        message: String,
    },
    #[error("GPU {adapter} failed on batch {batch} ({tracks} tracks): {message}")]
    Batch {
        adapter: String,
        batch: usize,
        tracks: usize,
        message: String,
    },
}
