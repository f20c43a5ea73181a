// The map's points as a cached image, drawn shifted while the map is panned (the points are
// drawn into the image once; panning then costs one textured rectangle instead of every dot,
// which a software rasteriser cannot shade 100k times per frame in 16 ms).
//
// Buffers (keep in sync with src/app/map_points.rs):
//   group 0, binding 0: Blit (16 bytes): the visible part of the image, texture coordinates
//     of the plot frame's top-left and bottom-right corners;
//   group 0, binding 1: the image (premultiplied RGBA, the target's format);
//   group 0, binding 2: a nearest-texel sampler (the image is drawn at its own scale).
// The pass's viewport is the plot's frame: six vertices cover it.

struct Blit {
    uv_min: vec2<f32>,
    uv_max: vec2<f32>,
};

@group(0) @binding(0) var<uniform> blit: Blit;
@group(0) @binding(1) var image: texture_2d<f32>;
@group(0) @binding(2) var image_sampler: sampler;

struct VertexOut {
    @builtin(position) clip: vec4<f32>,
    @location(0) uv: vec2<f32>,
};

@vertex
fn vs_main(@builtin(vertex_index) vertex: u32) -> VertexOut {
    var corners = array<vec2<f32>, 6>(
        vec2(-1.0, -1.0), vec2(1.0, -1.0), vec2(1.0, 1.0),
        vec2(-1.0, -1.0), vec2(1.0, 1.0), vec2(-1.0, 1.0),
    );
    let corner = corners[vertex];
    var out: VertexOut;
    out.clip = vec4(corner, 0.0, 1.0);
    // Clip y points up, texture v down.
    out.uv = mix(blit.uv_min, blit.uv_max, vec2((corner.x + 1.0) * 0.5, (1.0 - corner.y) * 0.5));
    return out;
}

@fragment
fn fs_main(in: VertexOut) -> @location(0) vec4<f32> {
    return textureSample(image, image_sampler, in.uv);
}
