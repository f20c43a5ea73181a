// Max-pooling over time in non-overlapping windows (the tail that does not fill a window is
// dropped). Bias and ReLU were applied by the convolution: max commutes with both.
//
// Buffers (f32, time-major): input [tracks, frames_in, channels] →
//   out [tracks, frames_in / width, channels].
//
// One invocation per output value, 256 per workgroup, grid folded into y past 65535
// workgroups; consecutive invocations take consecutive channels, so reads are coalesced.

struct Params {
    tracks: u32,
    frames_in: u32,
    channels: u32,
    width: u32,
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> input: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let index = (group.y * params.groups_x + group.x) * 256u + lane;
    let frames_out = params.frames_in / params.width;
    let per_track = frames_out * params.channels;
    if (index >= params.tracks * per_track) {
        return;
    }
    let track = index / per_track;
    let rest = index - track * per_track;
    let t = rest / params.channels;
    let channel = rest - t * params.channels;
    var source = (track * params.frames_in + t * params.width) * params.channels + channel;
    var best = input[source];
    for (var w = 1u; w < params.width; w++) {
        source += params.channels;
        best = max(best, input[source]);
    }
    out[index] = best;
}
