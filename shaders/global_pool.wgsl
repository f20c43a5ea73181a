// Global temporal pooling of the last convolution (after bias and ReLU): per channel the
// mean, the max and the L2 norm sqrt(Σ x² + 1e-12) over all frames, concatenated in that
// order (DESIGN.md).
//
// Buffers (f32): input [tracks, frames, channels] time-major → out [tracks, 3 · channels].
//
// One invocation per (track, channel), 64 per workgroup, looping over frames; consecutive
// invocations take consecutive channels so each frame's reads are coalesced.

struct Params {
    tracks: u32,
    frames: u32,
    channels: u32,
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let index = (group.y * params.groups_x + group.x) * 64u + lane;
    if (index >= params.tracks * params.channels) {
        return;
    }
    let track = index / params.channels;
    let channel = index - track * params.channels;
    var sum = 0.0;
    var best = 0.0;
    var squares = 0.0;
    for (var t = 0u; t < params.frames; t++) {
        let v = input[(track * params.frames + t) * params.channels + channel];
        sum += v;
        best = max(best, v);
        squares += v * v;
    }
    let base = track * 3u * params.channels + channel;
    out[base] = sum / f32(params.frames);
    out[base + params.channels] = best;
    out[base + 2u * params.channels] = sqrt(squares + 1e-12);
}
