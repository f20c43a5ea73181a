// Input normalisation: the network's crop of each excerpt, per mel bin (x − mean) / std.
//
// Buffers (f32, row-major, time-major like the stored log-mels):
//   excerpts  [tracks, frames_in, mels] dB; the crop is frames offset..offset + frames.
//   mean      [mels], inv_std [mels] (1 / input.std).
//   out       [tracks, frames, mels].
//
// One invocation per output value, 256 per workgroup; the grid is folded into y past 65535
// workgroups. Memory-bound: consecutive invocations read and write consecutive values.

struct Params {
    tracks: u32,
    frames_in: u32,
    offset: u32,
    frames: u32,
    mels: u32,
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> excerpts: array<f32>;
@group(0) @binding(2) var<storage, read> mean: array<f32>;
@group(0) @binding(3) var<storage, read> inv_std: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(256, 1, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    let index = (group.y * params.groups_x + group.x) * 256u + lane;
    let per_track = params.frames * params.mels;
    if (index >= params.tracks * per_track) {
        return;
    }
    let track = index / per_track;
    let rest = index - track * per_track;
    let t = rest / params.mels;
    let mel = rest - t * params.mels;
    let source = (track * params.frames_in + params.offset + t) * params.mels + mel;
    out[index] = (excerpts[source] - mean[mel]) * inv_std[mel];
}
