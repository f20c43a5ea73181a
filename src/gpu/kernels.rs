//! The WGSL compute kernels of the convnet (sources in `shaders/`, each with its buffer
//! layouts in a header comment) and their pipelines.

use super::GpuError;

/// One kernel's WGSL source.
#[derive(Debug, Clone, Copy)]
pub struct KernelSource {
    pub name: &'static str,
    pub wgsl: &'static str,
}

pub const NORMALISE: KernelSource = KernelSource {
    name: "normalise",
    wgsl: include_str!("../../shaders/normalise.wgsl"),
};
pub const CONV_GEMM: KernelSource = KernelSource {
    name: "conv_gemm",
    wgsl: include_str!("../../shaders/conv_gemm.wgsl"),
};
pub const MAX_POOL: KernelSource = KernelSource {
    name: "max_pool",
    wgsl: include_str!("../../shaders/max_pool.wgsl"),
};
pub const GLOBAL_POOL: KernelSource = KernelSource {
    name: "global_pool",
    wgsl: include_str!("../../shaders/global_pool.wgsl"),
};
pub const CONV1_STATS: KernelSource = KernelSource {
    name: "conv1_stats",
    wgsl: include_str!("../../shaders/conv1_stats.wgsl"),
};

/// Every kernel, for validation in tests.
pub const ALL: [KernelSource; 5] = [NORMALISE, CONV_GEMM, MAX_POOL, GLOBAL_POOL, CONV1_STATS];

/// Side of the square output tile one `conv_gemm` workgroup computes (shaders/conv_gemm.wgsl).
pub const GEMM_TILE: usize = 128;
/// Invocations per workgroup of the element-wise kernels (normalise, max_pool).
pub const ELEMENTWISE_GROUP: usize = 256;
/// Invocations per workgroup of the per-channel reductions (global_pool, conv1_stats).
pub const REDUCTION_GROUP: usize = 64;
/// Most workgroups along one dispatch dimension (WebGPU's guaranteed limit); larger grids
/// are folded into y and the kernels unfold them with their `groups_x` parameter.
const MAX_GROUPS_X: usize = 65_535;

/// The grid for `groups` workgroups: (x, y) with x · y ≥ groups.
pub fn fold_grid(groups: usize) -> (u32, u32) {
    let x = groups.clamp(1, MAX_GROUPS_X);
    (x as u32, groups.div_ceil(x).max(1) as u32)
}

/// The compiled pipelines, created once per device.
#[derive(Debug)]
pub struct Pipelines {
    pub normalise: wgpu::ComputePipeline,
    pub conv_gemm: wgpu::ComputePipeline,
    pub max_pool: wgpu::ComputePipeline,
    pub global_pool: wgpu::ComputePipeline,
    pub conv1_stats: wgpu::ComputePipeline,
}

impl Pipelines {
    pub fn new(device: &wgpu::Device, adapter: &str) -> Result<Self, GpuError> {
        let build = |kernel: KernelSource| {
            let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
            let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
                label: Some(kernel.name),
                source: wgpu::ShaderSource::Wgsl(kernel.wgsl.into()),
            });
            let pipeline = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(kernel.name),
                layout: None,
                module: &module,
                entry_point: Some("main"),
                compilation_options: Default::default(),
                cache: None,
            });
            match pollster::block_on(scope.pop()) {
                None => Ok(pipeline),
                Some(error) => Err(GpuError::Kernel {
                    kernel: kernel.name,
                    adapter: adapter.to_owned(),
                    message: error.to_string(),
                }),
            }
        };
        Ok(Self {
            normalise: build(NORMALISE)?,
            conv_gemm: build(CONV_GEMM)?,
            max_pool: build(MAX_POOL)?,
            global_pool: build(GLOBAL_POOL)?,
            conv1_stats: build(CONV1_STATS)?,
        })
    }
}
