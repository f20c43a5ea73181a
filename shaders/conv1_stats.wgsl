// Per-track, per-filter summaries of conv1 (after bias and ReLU) for the activation
// playlists: maximum over time, mean over time, and the output frame of the maximum (the
// first one on ties; frame p covers crop frames p..p + 4).
//
// Buffers: conv1 [tracks, frames, filters] f32 time-major → max [tracks, filters] f32,
//   mean [tracks, filters] f32, peak [tracks, filters] u32.
//
// One invocation per (track, filter), 64 per workgroup, looping over frames; consecutive
// invocations take consecutive filters so each frame's reads are coalesced.

struct Params {
    tracks: u32,
    frames: u32,
    filters: u32,
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> conv1: array<f32>;
@group(0) @binding(2) var<storage, read_write> max_out: array<f32>;
@group(0) @binding(3) var<storage, read_write> mean_out: array<f32>;
@group(0) @binding(4) var<storage, read_write> peak_out: array<u32>;

@compute @workgroup_size(64, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let index = (group.y * params.groups_x + group.x) * 64u + lane;
    if (index >= params.tracks * params.filters) {
        return;
    }
    let track = index / params.filters;
    let unit = index - track * params.filters;
    var sum = 0.0;
    var best = -1.0;
    var peak = 0u;
    for (var t = 0u; t < params.frames; t++) {
        let v = conv1[(track * params.frames + t) * params.filters + unit];
        sum += v;
        if (v > best) {
            best = v;
            peak = t;
        }
    }
    max_out[index] = best;
    mean_out[index] = sum / f32(params.frames);
    peak_out[index] = peak;
}
