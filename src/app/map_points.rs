//! The map's points on the GPU: an egui_plot item whose shape is an `egui_wgpu` paint callback
//! drawing every point in one instanced draw (egui_plot would tessellate each marker on the CPU
//! every frame; PLATFORM.md). Positions go up once per map, colours once per colouring; each
//! frame only the 32-byte transform changes. egui_plot keeps the axes, grid and interaction.

use std::collections::HashMap;
use std::ops::RangeInclusive;
use std::sync::Arc;

use eframe::egui_wgpu::{self, wgpu};
use egui_plot::{PlotBounds, PlotGeometry, PlotItem, PlotItemBase, PlotTransform};

/// Keep in sync with `Uniforms` in shaders/map_points.wgsl (32 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct Uniforms {
    origin: [f32; 2],
    scale: [f32; 2],
    half_size: [f32; 2],
    radius_px: f32,
    padding: f32,
}

const _: () = assert!(std::mem::size_of::<Uniforms>() == 32);

/// Data uploaded once and named by a generation number, so a buffer is replaced only when the
/// data behind it changed.
pub struct Versioned<T: ?Sized> {
    pub generation: u64,
    pub data: Arc<T>,
}

// Not derived: the derive would ask `T: Clone`, which a slice is not.
impl<T: ?Sized> Clone for Versioned<T> {
    fn clone(&self) -> Self {
        Self {
            generation: self.generation,
            data: Arc::clone(&self.data),
        }
    }
}

/// The format egui draws into, stored in the context by [`set_target_format`]. Offscreen
/// renderers (egui_kittest) use egui-wgpu's default without a surface, `Rgba8Unorm`.
pub fn target_format(ctx: &egui::Context) -> wgpu::TextureFormat {
    ctx.data(|d| d.get_temp(format_id()))
        .unwrap_or(wgpu::TextureFormat::Rgba8Unorm)
}

/// Records the window's framebuffer format (eframe's `wgpu_render_state.target_format`).
pub fn set_target_format(ctx: &egui::Context, format: wgpu::TextureFormat) {
    ctx.data_mut(|d| d.insert_temp(format_id(), format));
}

fn format_id() -> egui::Id {
    egui::Id::unique("deepcuts-map-target-format")
}

/// The points of one map as a plot item.
pub struct MapPoints {
    base: PlotItemBase,
    /// Which map (several can be on screen, each with its own buffers).
    slot: u64,
    /// `[points]` positions in map units; NaN rows are skipped by the grid, drawn off-screen.
    positions: Versioned<[[f32; 2]]>,
    /// `[points]` premultiplied RGBA.
    colours: Versioned<[egui::Color32]>,
    bounds: PlotBounds,
    radius_px: f32,
    format: wgpu::TextureFormat,
}

impl MapPoints {
    /// `bounds` are the map's extent (for the plot's auto-fit).
    pub fn new(
        ctx: &egui::Context,
        slot: u64,
        positions: Versioned<[[f32; 2]]>,
        colours: Versioned<[egui::Color32]>,
        bounds: PlotBounds,
        radius_px: f32,
    ) -> Self {
        Self {
            base: PlotItemBase::new(format!("map points {slot}")),
            slot,
            positions,
            colours,
            bounds,
            radius_px,
            format: target_format(ctx),
        }
    }
}

impl PlotItem for MapPoints {
    fn shapes(&self, _ui: &egui::Ui, transform: &PlotTransform, shapes: &mut Vec<egui::Shape>) {
        let frame = *transform.frame();
        let bounds = transform.bounds();
        let callback = PointsCallback {
            slot: self.slot,
            positions: self.positions.clone(),
            colours: self.colours.clone(),
            bounds: [bounds.min(), bounds.max()],
            frame_points: frame.size(),
            radius_px: self.radius_px,
            format: self.format,
        };
        shapes.push(egui_wgpu::Callback::new_paint_callback(frame, callback).into());
    }

    fn initialize(&mut self, _x_range: RangeInclusive<f64>) {}

    fn color(&self) -> egui::Color32 {
        egui::Color32::GRAY
    }

    fn geometry(&self) -> PlotGeometry<'_> {
        // Hover is the map view's (a spatial index), not egui_plot's scan.
        PlotGeometry::None
    }

    fn bounds(&self) -> PlotBounds {
        self.bounds
    }

    fn base(&self) -> &PlotItemBase {
        &self.base
    }

    fn base_mut(&mut self) -> &mut PlotItemBase {
        &mut self.base
    }

    fn allow_hover(&self) -> bool {
        false
    }
}

struct PointsCallback {
    slot: u64,
    positions: Versioned<[[f32; 2]]>,
    colours: Versioned<[egui::Color32]>,
    /// Visible map bounds, min and max corners.
    bounds: [[f64; 2]; 2],
    /// The plot frame's size in points.
    frame_points: egui::Vec2,
    radius_px: f32,
    format: wgpu::TextureFormat,
}

/// The pipeline (made once per target format) and each slot's buffers, kept in egui-wgpu's
/// callback resources between frames.
#[derive(Default)]
struct Resources {
    pipelines: HashMap<wgpu::TextureFormat, Pipeline>,
    slots: HashMap<u64, SlotBuffers>,
}

struct Pipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
}

struct SlotBuffers {
    format: wgpu::TextureFormat,
    uniforms: wgpu::Buffer,
    bind_group: wgpu::BindGroup,
    positions: Option<(u64, wgpu::Buffer)>,
    colours: Option<(u64, wgpu::Buffer)>,
    points: u32,
}

fn make_pipeline(device: &wgpu::Device, format: wgpu::TextureFormat) -> Pipeline {
    let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("map points"),
        source: wgpu::ShaderSource::Wgsl(include_str!("shaders/map_points.wgsl").into()),
    });
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("map points"),
        entries: &[wgpu::BindGroupLayoutEntry {
            binding: 0,
            visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
            ty: wgpu::BindingType::Buffer {
                ty: wgpu::BufferBindingType::Uniform,
                has_dynamic_offset: false,
                min_binding_size: None,
            },
            count: None,
        }],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("map points"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some("map points"),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: &shader,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers: &[
                Some(wgpu::VertexBufferLayout {
                    array_stride: 8,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &wgpu::vertex_attr_array![0 => Float32x2],
                }),
                Some(wgpu::VertexBufferLayout {
                    array_stride: 4,
                    step_mode: wgpu::VertexStepMode::Instance,
                    attributes: &wgpu::vertex_attr_array![1 => Unorm8x4],
                }),
            ],
        },
        fragment: Some(wgpu::FragmentState {
            module: &shader,
            entry_point: Some("fs_main"),
            compilation_options: Default::default(),
            targets: &[Some(wgpu::ColorTargetState {
                format,
                blend: Some(wgpu::BlendState::PREMULTIPLIED_ALPHA_BLENDING),
                write_mask: wgpu::ColorWrites::ALL,
            })],
        }),
        primitive: wgpu::PrimitiveState::default(),
        depth_stencil: None,
        multisample: wgpu::MultisampleState::default(),
        multiview_mask: None,
        cache: None,
    });
    Pipeline { pipeline, layout }
}

/// A vertex buffer holding `bytes`.
fn vertex_buffer(device: &wgpu::Device, queue: &wgpu::Queue, bytes: &[u8]) -> wgpu::Buffer {
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("map points"),
        size: (bytes.len() as u64).max(4),
        usage: wgpu::BufferUsages::VERTEX | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    queue.write_buffer(&buffer, 0, bytes);
    buffer
}

impl egui_wgpu::CallbackTrait for PointsCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        screen: &egui_wgpu::ScreenDescriptor,
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if !resources.contains::<Resources>() {
            resources.insert(Resources::default());
        }
        let Some(resources) = resources.get_mut::<Resources>() else {
            return Vec::new();
        };
        let pipeline = resources
            .pipelines
            .entry(self.format)
            .or_insert_with(|| make_pipeline(device, self.format));
        let slot = resources
            .slots
            .entry(self.slot)
            .or_insert_with(|| new_slot(device, pipeline, self.format));
        if slot.format != self.format {
            *slot = new_slot(device, pipeline, self.format);
        }
        if slot.positions.as_ref().map(|p| p.0) != Some(self.positions.generation) {
            let bytes: &[u8] = bytemuck::cast_slice(&self.positions.data);
            slot.positions = Some((
                self.positions.generation,
                vertex_buffer(device, queue, bytes),
            ));
        }
        if slot.colours.as_ref().map(|c| c.0) != Some(self.colours.generation) {
            let bytes: &[u8] = bytemuck::cast_slice(&self.colours.data);
            slot.colours = Some((self.colours.generation, vertex_buffer(device, queue, bytes)));
        }
        slot.points = self.positions.data.len().min(self.colours.data.len()) as u32;
        let [min, max] = self.bounds;
        let frame_px = self.frame_points * screen.pixels_per_point;
        let radius_px = self.radius_px * screen.pixels_per_point;
        let uniforms = Uniforms {
            origin: [min[0] as f32, min[1] as f32],
            scale: [
                (2.0 / (max[0] - min[0])) as f32,
                (2.0 / (max[1] - min[1])) as f32,
            ],
            half_size: [
                2.0 * radius_px / frame_px.x.max(1.0),
                2.0 * radius_px / frame_px.y.max(1.0),
            ],
            radius_px,
            padding: 0.0,
        };
        queue.write_buffer(&slot.uniforms, 0, bytemuck::bytes_of(&uniforms));
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        render_pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        let Some(resources) = resources.get::<Resources>() else {
            return;
        };
        let (Some(pipeline), Some(slot)) = (
            resources.pipelines.get(&self.format),
            resources.slots.get(&self.slot),
        ) else {
            return;
        };
        let (Some((_, positions)), Some((_, colours))) = (&slot.positions, &slot.colours) else {
            return;
        };
        if slot.points == 0 {
            return;
        }
        render_pass.set_pipeline(&pipeline.pipeline);
        render_pass.set_bind_group(0, &slot.bind_group, &[]);
        render_pass.set_vertex_buffer(0, positions.slice(..));
        render_pass.set_vertex_buffer(1, colours.slice(..));
        render_pass.draw(0..6, 0..slot.points);
    }
}

fn new_slot(
    device: &wgpu::Device,
    pipeline: &Pipeline,
    format: wgpu::TextureFormat,
) -> SlotBuffers {
    let uniforms = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("map points uniforms"),
        size: std::mem::size_of::<Uniforms>() as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("map points"),
        layout: &pipeline.layout,
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: uniforms.as_entire_binding(),
        }],
    });
    SlotBuffers {
        format,
        uniforms,
        bind_group,
        positions: None,
        colours: None,
        points: 0,
    }
}
