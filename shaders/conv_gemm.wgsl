// 1-D convolution (kernel 4, stride 1, no padding) + bias + ReLU as an implicit GEMM over
// (time × batch); the dense layers run through the same kernel (a dense layer is a kernel-1
// convolution over one frame), so there is one GEMM to tune.
//
// C[m, n] = epilogue(Σ_k A[m, k] · B[k, n] + bias[n])
//
// Buffers (f32, row-major):
//   a      activations, time-major per track: [tracks, frames_in, channels_in].
//          GEMM row m = track · rows_per_track + t reads the K = kernel · channels_in
//          values starting at track · track_stride + t · row_stride: for a convolution
//          (row_stride = channels_in, track_stride = frames_in · channels_in) that window is
//          frames t..t+4 of the track, contiguous because activations are time-major, so no
//          im2col copy is made; for a dense layer rows_per_track = 1, track_stride = K.
//   b      weights packed [K, N]: b[(tap · channels_in + c) · N + o] = W[o, c, tap].
//   bias   [N].
//   c      output [M, N] = [tracks, frames_out, channels_out], time-major like a.
//
// Tiling: a workgroup of 16 × 16 invocations computes a 128 × 128 tile of C; each
// invocation keeps an 8 × 8 register block (rows ty·4 + {0..3} and 64 + ty·4 + {0..3},
// columns tx·4 + {0..3} and 64 + tx·4 + {0..3}) as 16 vec4 accumulators. K advances 8 at
// a time through workgroup memory (2 × 8 × 128 floats = 8 KiB), stored as vec4 so that the
// inner loop reads 4 vec4 (2 broadcast from A, 2 from B) per 64 multiply-adds. Rows, columns
// and K outside the matrix are read as zero and not written.

struct Params {
    m: u32,
    n: u32,
    k: u32,
    rows_per_track: u32,
    track_stride: u32,
    row_stride: u32,
    // 1: ReLU after the bias; 0: linear.
    relu: u32,
    // Workgroups along x of the dispatch (the grid is folded into y past 65535).
    groups_x: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;

const TILE: u32 = 128u;
const TILE_K: u32 = 8u;
// vec4 blocks across a tile.
const BLOCKS: u32 = 32u;

// [TILE_K][TILE / 4] vec4: a_tile[kk * 32 + r] holds rows 4r..4r+3 at k0 + kk.
var<workgroup> a_tile: array<vec4<f32>, 256>;
// [TILE_K][TILE / 4] vec4: b_tile[kk * 32 + q] holds columns 4q..4q+3 at k0 + kk.
var<workgroup> b_tile: array<vec4<f32>, 256>;

// Where GEMM row `row` starts in `a` (one integer division, done once per row, not per load).
fn a_row_start(row: u32) -> u32 {
    let track = row / params.rows_per_track;
    let t = row - track * params.rows_per_track;
    return track * params.track_stride + t * params.row_stride;
}

fn a_at(start: u32, row: u32, k: u32) -> f32 {
    if (row >= params.m || k >= params.k) {
        return 0.0;
    }
    return a[start + k];
}

fn b_at(k: u32, col: u32) -> f32 {
    if (k >= params.k || col >= params.n) {
        return 0.0;
    }
    return b[k * params.n + col];
}

@compute @workgroup_size(16, 16, 1)
fn main(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_id) local: vec3<u32>,
    @builtin(local_invocation_index) lane: u32,
) {
    // Tiles: x walks the columns of C, the rest the rows.
    let column_tiles = (params.n + TILE - 1u) / TILE;
    let flat = group.y * params.groups_x + group.x;
    let tile_row = (flat / column_tiles) * TILE;
    let tile_col = (flat % column_tiles) * TILE;
    if (tile_row >= params.m) {
        return;
    }
    let tx = local.x;
    let ty = local.y;

    var acc: array<vec4<f32>, 16>;
    for (var i = 0u; i < 16u; i++) {
        acc[i] = vec4<f32>(0.0);
    }

    // Loading: lane → (kk, 4-row block) for A, (kk, 4-column block) for B.
    let a_kk = lane % TILE_K;
    let a_block = lane / TILE_K;
    let b_kk = lane / BLOCKS;
    let b_block = lane % BLOCKS;
    let a_row = tile_row + a_block * 4u;
    let b_col = tile_col + b_block * 4u;
    let a_start = vec4<u32>(
        a_row_start(a_row),
        a_row_start(a_row + 1u),
        a_row_start(a_row + 2u),
        a_row_start(a_row + 3u),
    );

    for (var k0 = 0u; k0 < params.k; k0 += TILE_K) {
        let ka = k0 + a_kk;
        a_tile[a_kk * BLOCKS + a_block] = vec4<f32>(
            a_at(a_start.x, a_row, ka),
            a_at(a_start.y, a_row + 1u, ka),
            a_at(a_start.z, a_row + 2u, ka),
            a_at(a_start.w, a_row + 3u, ka),
        );
        let kb = k0 + b_kk;
        b_tile[b_kk * BLOCKS + b_block] = vec4<f32>(
            b_at(kb, b_col),
            b_at(kb, b_col + 1u),
            b_at(kb, b_col + 2u),
            b_at(kb, b_col + 3u),
        );
        workgroupBarrier();
        for (var kk = 0u; kk < TILE_K; kk++) {
            let a0 = a_tile[kk * BLOCKS + ty];
            let a1 = a_tile[kk * BLOCKS + 16u + ty];
            let b0 = b_tile[kk * BLOCKS + tx];
            let b1 = b_tile[kk * BLOCKS + 16u + tx];
            for (var i = 0u; i < 4u; i++) {
                acc[2u * i] = fma(vec4<f32>(a0[i]), b0, acc[2u * i]);
                acc[2u * i + 1u] = fma(vec4<f32>(a0[i]), b1, acc[2u * i + 1u]);
                acc[8u + 2u * i] = fma(vec4<f32>(a1[i]), b0, acc[8u + 2u * i]);
                acc[8u + 2u * i + 1u] = fma(vec4<f32>(a1[i]), b1, acc[8u + 2u * i + 1u]);
            }
        }
        workgroupBarrier();
    }

    for (var i = 0u; i < 8u; i++) {
        let row = tile_row + (i / 4u) * 64u + ty * 4u + (i % 4u);
        if (row >= params.m) {
            continue;
        }
        for (var half = 0u; half < 2u; half++) {
            let col0 = tile_col + half * 64u + tx * 4u;
            let value = acc[2u * i + half];
            for (var j = 0u; j < 4u; j++) {
                let col = col0 + j;
                if (col < params.n) {
                    var y = value[j] + bias[col];
                    if (params.relu != 0u) {
                        y = max(y, 0.0);
                    }
                    c[row * params.n + col] = y;
                }
            }
        }
    }
}
