//! Finding and opening a wgpu adapter for compute: the list `deepcuts devices` prints, the
//! choice behind `--device gpu|gpu:NAME|auto`, and a device opened with the adapter's own
//! limits (the defaults cap storage buffers at 128 MiB, and on GL refuse compute outright).

use std::fmt;

use super::GpuError;

/// Quiets adapter listing outside a desktop session. Without `XDG_RUNTIME_DIR`, Mesa's implicit
/// Vulkan layer `VK_LAYER_MESA_device_select` tries to reach a Wayland compositor while adapters
/// are listed, and libwayland prints "error: XDG_RUNTIME_DIR is invalid or not set in the
/// environment." twice on every command that looks for a GPU. The layer only moves the display's
/// GPU to the front, and there is no display; [`list_adapters`] orders adapters itself. So in
/// that case the layer is switched off by its documented switch, `NODEVICE_SELECT=1`. Call this
/// first thing in `main`, before any thread exists (setting the environment is only sound then).
pub fn init_env() {
    if std::env::var_os("XDG_RUNTIME_DIR").is_none()
        && std::env::var_os("NODEVICE_SELECT").is_none()
    {
        std::env::set_var("NODEVICE_SELECT", "1");
    }
}

/// A device and queue to run compute on, with the adapter they came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GpuContext {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
}

/// An adapter as `deepcuts devices` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: wgpu::Backend,
    pub device_type: wgpu::DeviceType,
    pub driver: String,
}

impl AdapterSummary {
    pub fn from_info(info: &wgpu::AdapterInfo) -> Self {
        Self {
            name: info.name.clone(),
            backend: info.backend,
            device_type: info.device_type,
            driver: format!("{} {}", info.driver, info.driver_info)
                .trim()
                .to_owned(),
        }
    }

    /// Software rasterisers (lavapipe, WARP, SwiftShader): correct but slower than the CPU path.
    pub fn is_software(&self) -> bool {
        self.device_type == wgpu::DeviceType::Cpu
    }
}

impl fmt::Display for AdapterSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.device_type {
            wgpu::DeviceType::DiscreteGpu => "discrete GPU",
            wgpu::DeviceType::IntegratedGpu => "integrated GPU",
            wgpu::DeviceType::VirtualGpu => "virtual GPU",
            wgpu::DeviceType::Cpu => "software (CPU)",
            wgpu::DeviceType::Other => "other",
        };
        write!(f, "{} ({:?}, {kind})", self.name, self.backend)
    }
}

/// Which adapter to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdapterChoice {
    /// The fastest kind first: discrete, integrated, virtual, other, software.
    Fastest,
    /// The first adapter whose name contains this (case-insensitive).
    Named(String),
}

/// Backends searched: Vulkan, Metal, DX12 (`WGPU_BACKEND` overrides). GL is left out unless
/// asked for: its compute support is partial and eframe's GL limits refuse it.
fn backends() -> wgpu::Backends {
    wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY)
}

/// Every adapter wgpu sees, fastest kind first.
fn adapters() -> Vec<wgpu::Adapter> {
    let mut descriptor = wgpu::InstanceDescriptor::new_without_display_handle_from_env();
    descriptor.backends = backends();
    let instance = wgpu::Instance::new(descriptor);
    let mut adapters = pollster::block_on(instance.enumerate_adapters(backends()));
    adapters.sort_by_key(|adapter| speed_rank(adapter.get_info().device_type));
    adapters
}

fn speed_rank(device_type: wgpu::DeviceType) -> u8 {
    match device_type {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// The adapters `deepcuts devices` lists, in the order `--device gpu` tries them.
pub fn list_adapters() -> Vec<AdapterSummary> {
    adapters()
        .iter()
        .map(|adapter| AdapterSummary::from_info(&adapter.get_info()))
        .collect()
}

/// The adapter `choice` names, without opening it.
pub fn find(choice: &AdapterChoice) -> Result<wgpu::Adapter, GpuError> {
    let adapters = adapters();
    if adapters.is_empty() {
        return Err(GpuError::NoAdapter {
            backends: backends()
                .iter_names()
                .map(|(name, _)| name)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    match choice {
        AdapterChoice::Fastest => Ok(adapters.into_iter().next().expect("not empty")),
        AdapterChoice::Named(name) => {
            let wanted = name.to_lowercase();
            let available: Vec<String> = adapters.iter().map(|a| a.get_info().name).collect();
            adapters
                .into_iter()
                .find(|a| a.get_info().name.to_lowercase().contains(&wanted))
                .ok_or_else(|| GpuError::NoSuchAdapter {
                    name: name.clone(),
                    available: available.join(", "),
                })
        }
    }
}

/// Opens the adapter `choice` names with its own limits.
pub fn open(choice: &AdapterChoice) -> Result<GpuContext, GpuError> {
    open_adapter(find(choice)?)
}

/// Opens `adapter` with its own limits.
pub fn open_adapter(adapter: wgpu::Adapter) -> Result<GpuContext, GpuError> {
    let info = adapter.get_info();
    let descriptor = wgpu::DeviceDescriptor {
        label: Some("deepcuts compute"),
        required_limits: adapter.limits(),
        // For the per-kernel times of `bench infer` when the adapter has them.
        required_features: adapter.features() & wgpu::Features::TIMESTAMP_QUERY,
        ..Default::default()
    };
    let (device, queue) = pollster::block_on(adapter.request_device(&descriptor)).map_err(|e| {
        GpuError::OpenDevice {
            adapter: info.name.clone(),
            message: e.to_string(),
        }
    })?;
    Ok(GpuContext {
        device,
        queue,
        info,
    })
}
