// Map points: one instanced draw, six vertices (two triangles) per point, each a round dot of
// `radius_px` pixels with an anti-aliased edge.
//
// Buffers (keep in sync with src/app/map_points.rs):
//   group 0, binding 0: Uniforms (32 bytes, below);
//   vertex buffer 0 (per instance): position, float32x2, map units;
//   vertex buffer 1 (per instance): colour, unorm8x4, premultiplied RGBA.
// The pass's viewport is the plot's frame, so clip space −1…1 spans the visible map bounds.

struct Uniforms {
    // Map units → clip space: clip = (position − origin) · scale − 1.
    origin: vec2<f32>,
    scale: vec2<f32>,
    // Half the dot's size in clip space, and its radius in pixels (for the edge's smoothing).
    half_size: vec2<f32>,
    radius_px: f32,
    _padding: f32,
};

@group(0) @binding(0) var<uniform> uniforms: Uniforms;

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    // The corner in units of the radius, −1…1.
    @location(0) corner: vec2<f32>,
    @location(1) colour: vec4<f32>,
};

@vertex
fn vs_main(
    @builtin(vertex_index) vertex: u32,
    @location(0) position: vec2<f32>,
    @location(1) colour: vec4<f32>,
) -> VertexOut {
    var corners = array<vec2<f32>, 6>(
        vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0),
        vec2(-1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, 1.0),
    );
    let corner = corners[vertex];
    let centre = (position - uniforms.origin) * uniforms.scale - vec2(1.0, 1.0);
    var out: VertexOut;
    out.clip = vec4(centre + corner * uniforms.half_size, 0.0, 1.0);
    out.corner = corner;
    out.colour = colour;
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    // Distance from the edge in pixels: full inside, fading over the last pixel.
    let edge_px = (1.0 - length(in.corner)) * uniforms.radius_px;
    let coverage = clamp(edge_px + 0.5, 0.0, 1.0);
    if coverage <= 0.0 {
        discard;
    }
    return in.colour * coverage;
}
