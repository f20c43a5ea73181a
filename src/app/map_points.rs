//! The map's points on the GPU: an egui_plot item whose shape is an `egui_wgpu` paint callback
//! drawing every point in one instanced draw (egui_plot would tessellate each marker on the CPU
//! every frame; PLATFORM.md). Positions go up once per map, colours once per colouring; each
//! frame only the 32-byte transform changes. egui_plot keeps the axes, grid and interaction.
//!
//! While the map is panned (same scale, shifted bounds) the points are drawn once into an image
//! twice the frame's size and that image is drawn shifted (`shaders/map_blit.wgsl`): one
//! rectangle a frame instead of every dot, which a software rasteriser (lavapipe) cannot shade
//! 100k times in 16 ms. The image is drawn again when the view leaves it; a still or zooming
//! map draws its dots directly.

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

/// Keep in sync with `Blit` in shaders/map_blit.wgsl (16 bytes).
#[repr(C)]
#[derive(Clone, Copy, Debug, bytemuck::Pod, bytemuck::Zeroable)]
struct BlitUniforms {
    uv_min: [f32; 2],
    uv_max: [f32; 2],
}

/// The cached image spans the frame plus this much of it on every side.
const CACHE_MARGIN: f64 = 0.5;

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
    blit_pipelines: HashMap<wgpu::TextureFormat, BlitPipeline>,
    slots: HashMap<u64, SlotBuffers>,
}

struct BlitPipeline {
    pipeline: wgpu::RenderPipeline,
    layout: wgpu::BindGroupLayout,
    sampler: wgpu::Sampler,
}

/// What a frame's dots depend on besides the bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
struct ViewKey {
    positions: u64,
    colours: u64,
    radius_px: f32,
    /// Pixels per map unit, x and y.
    scale: [f64; 2],
}

impl ViewKey {
    fn same_scale(&self, other: &ViewKey) -> bool {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
        self.positions == other.positions
            && self.colours == other.colours
            && self.radius_px == other.radius_px
            && close(self.scale[0], other.scale[0])
            && close(self.scale[1], other.scale[1])
    }
}

/// The points drawn into an image covering `covers` (map units, min and max corners).
struct PointsImage {
    key: ViewKey,
    covers: [[f64; 2]; 2],
    size_px: [u32; 2],
    blit_uniforms: wgpu::Buffer,
    /// Holds the image itself.
    blit_bind_group: wgpu::BindGroup,
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
    /// The previous frame's view: the same scale and other bounds means the map is panned.
    last_view: Option<(ViewKey, [[f64; 2]; 2])>,
    image: Option<PointsImage>,
    /// Whether this frame draws `image` rather than the dots.
    blit: bool,
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
    let pipeline = blended_pipeline(
        device,
        "map points",
        &shader,
        &layout,
        &[
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
        format,
    );
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
        encoder: &mut wgpu::CommandEncoder,
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
        // Made with the dots' pipeline, not at the first pan: a software renderer compiles
        // shaders when a pipeline is made, which would stall the frame a drag starts on.
        let blit = resources
            .blit_pipelines
            .entry(self.format)
            .or_insert_with(|| make_blit_pipeline(device, self.format));
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
        let uniforms = dot_uniforms(self.bounds, [frame_px.x, frame_px.y], radius_px);
        queue.write_buffer(&slot.uniforms, 0, bytemuck::bytes_of(&uniforms));

        let key = ViewKey {
            positions: self.positions.generation,
            colours: self.colours.generation,
            radius_px,
            scale: [
                f64::from(frame_px.x) / (max[0] - min[0]),
                f64::from(frame_px.y) / (max[1] - min[1]),
            ],
        };
        let panned = slot
            .last_view
            .replace((key, self.bounds))
            .is_some_and(|(last, bounds)| last.same_scale(&key) && bounds != self.bounds);
        // The image, once drawn for a pan, serves every frame with the same scale that it
        // covers (a drag has frames that do not move); a pan it does not cover draws a new one.
        let fits = slot.image.as_ref().is_some_and(|image| {
            image.key.same_scale(&key)
                && (0..2).all(|d| image.covers[0][d] <= min[d] && max[d] <= image.covers[1][d])
        });
        slot.blit = false;
        if slot.points > 0 && (fits || panned) {
            if !fits {
                let limit = device.limits().max_texture_dimension_2d;
                slot.image = Some(draw_image(
                    device,
                    queue,
                    encoder,
                    pipeline,
                    blit,
                    slot,
                    key,
                    self.bounds,
                    limit,
                ));
            }
            if let Some(image) = &slot.image {
                let blit = visible_uv(image.covers, image.size_px, key.scale, self.bounds);
                queue.write_buffer(&image.blit_uniforms, 0, bytemuck::bytes_of(&blit));
                slot.blit = true;
            }
        }
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
        if let (true, Some(image), Some(blit)) = (
            slot.blit,
            &slot.image,
            resources.blit_pipelines.get(&self.format),
        ) {
            render_pass.set_pipeline(&blit.pipeline);
            render_pass.set_bind_group(0, &image.blit_bind_group, &[]);
            render_pass.draw(0..6, 0..1);
            return;
        }
        draw_dots(
            render_pass,
            pipeline,
            &slot.bind_group,
            (positions, colours),
            slot.points,
        );
    }
}

fn new_slot(
    device: &wgpu::Device,
    pipeline: &Pipeline,
    format: wgpu::TextureFormat,
) -> SlotBuffers {
    let (uniforms, bind_group) = dots_bind_group(device, pipeline, "map points");
    SlotBuffers {
        format,
        uniforms,
        bind_group,
        positions: None,
        colours: None,
        points: 0,
        last_view: None,
        image: None,
        blit: false,
    }
}

/// An empty uniform buffer of `size` bytes.
fn uniform_buffer(device: &wgpu::Device, label: &str, size: usize) -> wgpu::Buffer {
    device.create_buffer(&wgpu::BufferDescriptor {
        label: Some(label),
        size: size as u64,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    })
}

/// A buffer for the dots' [`Uniforms`] and the bind group the dots' pipeline reads it through.
fn dots_bind_group(
    device: &wgpu::Device,
    pipeline: &Pipeline,
    label: &str,
) -> (wgpu::Buffer, wgpu::BindGroup) {
    let uniforms = uniform_buffer(device, label, std::mem::size_of::<Uniforms>());
    let bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(label),
        layout: &pipeline.layout,
        entries: &[wgpu::BindGroupEntry {
            binding: 0,
            resource: uniforms.as_entire_binding(),
        }],
    });
    (uniforms, bind_group)
}

/// Records the slot's dots, one instanced draw, with the transform in `bind_group`.
fn draw_dots(
    pass: &mut wgpu::RenderPass<'_>,
    pipeline: &Pipeline,
    bind_group: &wgpu::BindGroup,
    (positions, colours): (&wgpu::Buffer, &wgpu::Buffer),
    points: u32,
) {
    pass.set_pipeline(&pipeline.pipeline);
    pass.set_bind_group(0, bind_group, &[]);
    pass.set_vertex_buffer(0, positions.slice(..));
    pass.set_vertex_buffer(1, colours.slice(..));
    pass.draw(0..6, 0..points);
}

/// The dots' transform for a target of `frame_px` pixels showing `bounds` (map units).
fn dot_uniforms(bounds: [[f64; 2]; 2], frame_px: [f32; 2], radius_px: f32) -> Uniforms {
    let [min, max] = bounds;
    Uniforms {
        origin: [min[0] as f32, min[1] as f32],
        scale: [
            (2.0 / (max[0] - min[0])) as f32,
            (2.0 / (max[1] - min[1])) as f32,
        ],
        half_size: [
            2.0 * radius_px / frame_px[0].max(1.0),
            2.0 * radius_px / frame_px[1].max(1.0),
        ],
        radius_px,
        padding: 0.0,
    }
}

/// Draws the slot's dots into a new image covering `bounds` and `CACHE_MARGIN` of it on every
/// side (at most `limit` pixels a side), recorded on `encoder` before egui's pass.
#[allow(clippy::too_many_arguments)]
fn draw_image(
    device: &wgpu::Device,
    queue: &wgpu::Queue,
    encoder: &mut wgpu::CommandEncoder,
    pipeline: &Pipeline,
    blit: &BlitPipeline,
    slot: &SlotBuffers,
    key: ViewKey,
    bounds: [[f64; 2]; 2],
    limit: u32,
) -> PointsImage {
    let (covers, size_px) = image_extent(bounds, key.scale, limit);
    let texture = device.create_texture(&wgpu::TextureDescriptor {
        label: Some("map points image"),
        size: wgpu::Extent3d {
            width: size_px[0],
            height: size_px[1],
            depth_or_array_layers: 1,
        },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: slot.format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | wgpu::TextureUsages::TEXTURE_BINDING,
        view_formats: &[],
    });
    let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
    let (uniforms, points_bind_group) = dots_bind_group(device, pipeline, "map image dots");
    queue.write_buffer(
        &uniforms,
        0,
        bytemuck::bytes_of(&dot_uniforms(
            covers,
            size_px.map(|p| p as f32),
            key.radius_px,
        )),
    );
    let blit_uniforms = uniform_buffer(
        device,
        "map image blit",
        std::mem::size_of::<BlitUniforms>(),
    );
    let blit_bind_group = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some("map image blit"),
        layout: &blit.layout,
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: blit_uniforms.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: wgpu::BindingResource::TextureView(&view),
            },
            wgpu::BindGroupEntry {
                binding: 2,
                resource: wgpu::BindingResource::Sampler(&blit.sampler),
            },
        ],
    });
    if let (Some((_, positions)), Some((_, colours))) = (&slot.positions, &slot.colours) {
        let mut pass = encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
            label: Some("map points image"),
            color_attachments: &[Some(wgpu::RenderPassColorAttachment {
                view: &view,
                depth_slice: None,
                resolve_target: None,
                ops: wgpu::Operations {
                    load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT),
                    store: wgpu::StoreOp::Store,
                },
            })],
            depth_stencil_attachment: None,
            timestamp_writes: None,
            occlusion_query_set: None,
            multiview_mask: None,
        });
        draw_dots(
            &mut pass,
            pipeline,
            &points_bind_group,
            (positions, colours),
            slot.points,
        );
    }
    PointsImage {
        key,
        covers,
        size_px,
        blit_uniforms,
        blit_bind_group,
    }
}

/// The map rectangle (min and max corners) and pixel size of an image drawn at `scale` pixels
/// per unit around `bounds`, with `CACHE_MARGIN` of the frame on every side (at most `limit`
/// pixels a side).
fn image_extent(bounds: [[f64; 2]; 2], scale: [f64; 2], limit: u32) -> ([[f64; 2]; 2], [u32; 2]) {
    let [min, max] = bounds;
    let mut covers = [[0.0; 2]; 2];
    let mut size_px = [0u32; 2];
    for d in 0..2 {
        let frame = (max[d] - min[d]) * scale[d];
        let wanted = (frame * (1.0 + 2.0 * CACHE_MARGIN)).ceil();
        size_px[d] = (wanted as u32).clamp(1, limit);
        // The image keeps the frame's scale; the margin is what the size leaves.
        let margin = (f64::from(size_px[d]) / scale[d] - (max[d] - min[d])) / 2.0;
        covers[0][d] = min[d] - margin;
        covers[1][d] = max[d] + margin;
    }
    (covers, size_px)
}

/// Texture coordinates of the plot frame's top-left and bottom-right corners when it shows
/// `bounds`, in an image covering `covers` with `size_px` pixels at `scale` pixels per unit.
fn visible_uv(
    covers: [[f64; 2]; 2],
    size_px: [u32; 2],
    scale: [f64; 2],
    bounds: [[f64; 2]; 2],
) -> BlitUniforms {
    let [[left, _], [_, top]] = covers;
    let [w, h] = size_px.map(f64::from);
    let u = |x: f64| ((x - left) * scale[0] / w) as f32;
    // Map y points up, image rows down.
    let v = |y: f64| ((top - y) * scale[1] / h) as f32;
    let [min, max] = bounds;
    BlitUniforms {
        uv_min: [u(min[0]), v(max[1])],
        uv_max: [u(max[0]), v(min[1])],
    }
}

/// A pipeline drawing `shader`'s `vs_main` / `fs_main` with premultiplied-alpha blending
/// into `format`, as egui does.
fn blended_pipeline(
    device: &wgpu::Device,
    label: &str,
    shader: &wgpu::ShaderModule,
    layout: &wgpu::BindGroupLayout,
    buffers: &[Option<wgpu::VertexBufferLayout<'_>>],
    format: wgpu::TextureFormat,
) -> wgpu::RenderPipeline {
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some(label),
        bind_group_layouts: &[Some(layout)],
        immediate_size: 0,
    });
    device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
        label: Some(label),
        layout: Some(&pipeline_layout),
        vertex: wgpu::VertexState {
            module: shader,
            entry_point: Some("vs_main"),
            compilation_options: Default::default(),
            buffers,
        },
        fragment: Some(wgpu::FragmentState {
            module: shader,
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
    })
}

fn make_blit_pipeline(device: &wgpu::Device, format: wgpu::TextureFormat) -> BlitPipeline {
    let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("map image blit"),
        source: wgpu::ShaderSource::Wgsl(include_str!("shaders/map_blit.wgsl").into()),
    });
    let entry = |binding: u32, ty: wgpu::BindingType| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
        ty,
        count: None,
    };
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("map image blit"),
        entries: &[
            entry(
                0,
                wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: false,
                    min_binding_size: None,
                },
            ),
            entry(
                1,
                wgpu::BindingType::Texture {
                    sample_type: wgpu::TextureSampleType::Float { filterable: true },
                    view_dimension: wgpu::TextureViewDimension::D2,
                    multisampled: false,
                },
            ),
            entry(
                2,
                wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
            ),
        ],
    });
    let pipeline = blended_pipeline(device, "map image blit", &shader, &layout, &[], format);
    let sampler = device.create_sampler(&wgpu::SamplerDescriptor {
        label: Some("map image"),
        mag_filter: wgpu::FilterMode::Nearest,
        min_filter: wgpu::FilterMode::Nearest,
        ..Default::default()
    });
    BlitPipeline {
        pipeline,
        layout,
        sampler,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_point_lands_on_the_same_pixel_drawn_directly_or_through_the_panned_image() {
        // The image is drawn around one view and shown for another with the same scale: each
        // map point must appear where the direct drawing of that view puts it.
        let frame_px = [731.0, 517.0];
        let drawn_for = [[-12.3, 4.0], [57.9, 41.5]];
        let scale = [
            frame_px[0] / (drawn_for[1][0] - drawn_for[0][0]),
            frame_px[1] / (drawn_for[1][1] - drawn_for[0][1]),
        ];
        let (covers, size_px) = image_extent(drawn_for, scale, 8192);
        assert!(size_px[0] >= 1462 && size_px[1] >= 1034, "{size_px:?}");
        for shift in [[0.0, 0.0], [20.5, -7.25], [-30.0, 15.0]] {
            let bounds = [
                [drawn_for[0][0] + shift[0], drawn_for[0][1] + shift[1]],
                [drawn_for[1][0] + shift[0], drawn_for[1][1] + shift[1]],
            ];
            assert!((0..2).all(|d| covers[0][d] <= bounds[0][d] && bounds[1][d] <= covers[1][d]));
            let uv = visible_uv(covers, size_px, scale, bounds);
            for point in [[0.0, 20.0], [13.7, 30.1], [45.0, 24.5]] {
                // Direct: frame pixels from the top-left corner.
                let direct = [
                    (point[0] - bounds[0][0]) * scale[0],
                    (bounds[1][1] - point[1]) * scale[1],
                ];
                // Through the image: its texture coordinate, then the frame pixel the blit's
                // linear map from frame to texture sends there.
                let texel = [
                    (point[0] - covers[0][0]) * scale[0] / f64::from(size_px[0]),
                    (covers[1][1] - point[1]) * scale[1] / f64::from(size_px[1]),
                ];
                for d in 0..2 {
                    let (lo, hi) = (f64::from(uv.uv_min[d]), f64::from(uv.uv_max[d]));
                    let via_image = (texel[d] - lo) / (hi - lo) * frame_px[d];
                    assert!(
                        (via_image - direct[d]).abs() < 0.01,
                        "shift {shift:?} point {point:?} axis {d}: {via_image} vs {}",
                        direct[d]
                    );
                }
            }
        }
    }
}
