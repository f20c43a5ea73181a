//! Kernel-4 convolutions by Winograd's minimal filtering F(m, 4) (Lavin & Gray 2016, 1-D):
//! `m` outputs from `m + 3` inputs with `m + 3` multiplications instead of `4·m`. Per tile,
//! inputs are transformed (`Bᵀ d`), multiplied pointwise by transformed kernels (`G g`) and
//! transformed back (`Aᵀ`); over channels, the pointwise products become `m + 3` GEMMs of
//! `[tiles, C] × [C, O]`, so the GEMM work drops to `(m + 3) / (4·m)` of direct convolution.
//!
//! The matrices come from Toom-Cook interpolation at the points 0, 1, -1, 2, -2, ..., ∞
//! (computed here in f64 rather than copied from a table); the transposition principle turns
//! Toom-Cook's linear convolution into the correlation a convnet computes.

use super::config::KERNEL_FRAMES;
use super::matmul::{matmul, MatrixView};

/// Output frames per tile. F(3, 4) does 6 multiplications for 3 outputs instead of 12 (half
/// the GEMM work); its float32 rounding stays within 6e-6 of the largest activation on the
/// reference vectors. F(4, 4) was 10% faster but reached 1.3e-5, F(6, 4) broke the 1e-4
/// agreement with PyTorch.
pub const TILE_FRAMES: usize = 3;

/// Transform matrices of F(m, 4), with n = m + 3 interpolation points.
#[derive(Debug, Clone)]
pub struct WinogradTransform {
    /// m
    pub tile: usize,
    /// n = m + 3
    pub points: usize,
    /// Bᵀ: [n, n], applied to n consecutive inputs.
    pub input: Vec<f64>,
    /// G: [n, 4], applied to a kernel.
    pub kernel: Vec<f64>,
    /// Aᵀ: [m, n], maps the n products to m outputs.
    pub output: Vec<f64>,
}

impl WinogradTransform {
    /// The transform for tiles of `tile` outputs.
    pub fn new(tile: usize) -> Self {
        let points = tile + KERNEL_FRAMES - 1;
        // Finite points 0, 1, -1, 2, -2, ...; the last point is ∞ (picks the leading
        // coefficient).
        let finite: Vec<f64> = (0..points - 1)
            .map(|i| {
                let magnitude = i.div_ceil(2) as f64;
                if i % 2 == 1 {
                    magnitude
                } else {
                    -magnitude
                }
            })
            .collect();
        // Row of powers of point p for a polynomial with `len` coefficients.
        let powers = |p: Option<f64>, len: usize| -> Vec<f64> {
            match p {
                Some(p) => (0..len).map(|i| p.powi(i as i32)).collect(),
                None => (0..len)
                    .map(|i| if i + 1 == len { 1.0 } else { 0.0 })
                    .collect(),
            }
        };
        let all: Vec<Option<f64>> = finite.into_iter().map(Some).chain([None]).collect();
        let vandermonde: Vec<f64> = all.iter().flat_map(|&p| powers(p, points)).collect();
        let inverse = invert(&vandermonde, points);
        // Bᵀ = V⁻ᵀ.
        let mut input = vec![0.0; points * points];
        for r in 0..points {
            for c in 0..points {
                input[r * points + c] = inverse[c * points + r];
            }
        }
        let kernel = all.iter().flat_map(|&p| powers(p, KERNEL_FRAMES)).collect();
        let tile_powers: Vec<f64> = all.iter().flat_map(|&p| powers(p, tile)).collect();
        let mut output = vec![0.0; tile * points];
        for i in 0..tile {
            for p in 0..points {
                output[i * points + p] = tile_powers[p * tile + i];
            }
        }
        Self {
            tile,
            points,
            input,
            kernel,
            output,
        }
    }
}

/// Inverse of a small non-singular n×n matrix by Gauss-Jordan elimination with partial
/// pivoting (the Vandermonde matrices here are at most 7×7 and well conditioned).
fn invert(matrix: &[f64], n: usize) -> Vec<f64> {
    let mut a = matrix.to_vec();
    let mut inverse: Vec<f64> = (0..n * n)
        .map(|i| if i / n == i % n { 1.0 } else { 0.0 })
        .collect();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&x, &y| a[x * n + col].abs().total_cmp(&a[y * n + col].abs()))
            .expect("col < n, so the range is not empty");
        for k in 0..n {
            a.swap(col * n + k, pivot * n + k);
            inverse.swap(col * n + k, pivot * n + k);
        }
        let scale = a[col * n + col];
        for k in 0..n {
            a[col * n + k] /= scale;
            inverse[col * n + k] /= scale;
        }
        for row in 0..n {
            let factor = a[row * n + col];
            if row != col && factor != 0.0 {
                for k in 0..n {
                    a[row * n + k] -= factor * a[col * n + k];
                    inverse[row * n + k] -= factor * inverse[col * n + k];
                }
            }
        }
    }
    inverse
}

/// A kernel-4 convolution layer prepared for Winograd: transformed kernels, bias.
#[derive(Debug)]
pub struct WinogradConv {
    transform: WinogradTransform,
    /// G g per point: [n, C, O].
    kernels: Vec<f32>,
    pub channels: usize,
    pub outputs: usize,
}

/// Reusable buffers of one convolution call.
#[derive(Debug, Default)]
pub struct WinogradScratch {
    /// Transformed inputs of a block: [n, block tiles, C].
    transformed: Vec<f32>,
    /// Pointwise products of a block: [n, block tiles, O].
    products: Vec<f32>,
}

/// Tiles processed together, so that a block's transformed inputs and products stay in cache.
const BLOCK_TILES: usize = 256;

impl WinogradConv {
    /// weight: PyTorch layout [outputs, channels, 4].
    pub fn new(weight: &[f32], channels: usize, outputs: usize) -> Self {
        let transform = WinogradTransform::new(TILE_FRAMES);
        let n = transform.points;
        let mut kernels = vec![0.0; n * channels * outputs];
        for o in 0..outputs {
            for c in 0..channels {
                let taps = &weight[(o * channels + c) * KERNEL_FRAMES..][..KERNEL_FRAMES];
                for p in 0..n {
                    let value: f64 = (0..KERNEL_FRAMES)
                        .map(|k| transform.kernel[p * KERNEL_FRAMES + k] * f64::from(taps[k]))
                        .sum();
                    kernels[(p * channels + c) * outputs + o] = value as f32;
                }
            }
        }
        Self {
            transform,
            kernels,
            channels,
            outputs,
        }
    }

    /// Output frames computed for `frames_out` wanted ones: rounded up to whole tiles.
    pub fn padded_outputs(frames_out: usize) -> usize {
        frames_out.div_ceil(TILE_FRAMES) * TILE_FRAMES
    }

    /// Input frames read for `frames_out` wanted outputs: `padded_outputs + 3`.
    pub fn padded_inputs(frames_out: usize) -> usize {
        Self::padded_outputs(frames_out) + KERNEL_FRAMES - 1
    }

    /// Correlates a time-major signal with the kernels, no bias:
    /// y[t, o] = Σ_{k, c} x[t + k, c] · w[o, c, k] for t < padded_outputs(frames_out).
    /// x: [padded_inputs(frames_out), C], y: [padded_outputs(frames_out), O].
    pub fn forward(
        &self,
        x: &[f32],
        frames_out: usize,
        y: &mut [f32],
        scratch: &mut WinogradScratch,
        threads: usize,
    ) {
        let (m, n) = (self.transform.tile, self.transform.points);
        let (channels, outputs) = (self.channels, self.outputs);
        let tiles = frames_out.div_ceil(m);
        assert!(
            x.len() >= Self::padded_inputs(frames_out) * channels && y.len() >= tiles * m * outputs,
            "winograd: buffers shorter than the padded signal"
        );
        let input: Vec<f32> = self.transform.input.iter().map(|&v| v as f32).collect();
        let output: Vec<f32> = self.transform.output.iter().map(|&v| v as f32).collect();
        scratch.transformed.resize(n * BLOCK_TILES * channels, 0.0);
        scratch.products.resize(n * BLOCK_TILES * outputs, 0.0);
        for first in (0..tiles).step_by(BLOCK_TILES) {
            let block = BLOCK_TILES.min(tiles - first);
            // U[p, j, c] = Σ_q Bᵀ[p, q] · x[(first + j)·m + q, c]
            for j in 0..block {
                let start = (first + j) * m * channels;
                let window = &x[start..start + n * channels];
                for p in 0..n {
                    let u =
                        &mut scratch.transformed[(p * BLOCK_TILES + j) * channels..][..channels];
                    combine(u, &input[p * n..(p + 1) * n], window.chunks_exact(channels));
                }
            }
            // M[p] = U[p] · K[p]: [block, C] × [C, O].
            for p in 0..n {
                let lhs = MatrixView::contiguous(
                    &scratch.transformed[p * BLOCK_TILES * channels..],
                    block,
                    channels,
                );
                let rhs = MatrixView::contiguous(
                    &self.kernels[p * channels * outputs..],
                    channels,
                    outputs,
                );
                matmul(
                    &mut scratch.products[p * BLOCK_TILES * outputs..],
                    outputs,
                    1,
                    lhs,
                    rhs,
                    false,
                    threads,
                );
            }
            // y[(first + j)·m + i, o] = Σ_p Aᵀ[i, p] · M[p, j, o]
            for j in 0..block {
                for i in 0..m {
                    let row = &mut y[((first + j) * m + i) * outputs..][..outputs];
                    let products = (0..n)
                        .map(|p| &scratch.products[(p * BLOCK_TILES + j) * outputs..][..outputs]);
                    combine(row, &output[i * n..(i + 1) * n], products);
                }
            }
        }
    }
}

/// dst = Σ_q coefficients[q] · vectors[q], skipping zero coefficients.
fn combine<'v>(dst: &mut [f32], coefficients: &[f32], vectors: impl Iterator<Item = &'v [f32]>) {
    let mut first = true;
    for (&coefficient, vector) in coefficients.iter().zip(vectors) {
        if coefficient == 0.0 {
            continue;
        }
        if first {
            for (d, &v) in dst.iter_mut().zip(vector) {
                *d = coefficient * v;
            }
            first = false;
        } else {
            for (d, &v) in dst.iter_mut().zip(vector) {
                *d += coefficient * v;
            }
        }
    }
    if first {
        dst.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Direct correlation in f64, the independent reference.
    fn direct(
        x: &[f32],
        weight: &[f32],
        channels: usize,
        outputs: usize,
        frames_out: usize,
    ) -> Vec<f64> {
        let mut y = vec![0.0; frames_out * outputs];
        for t in 0..frames_out {
            for o in 0..outputs {
                y[t * outputs + o] = (0..channels)
                    .flat_map(|c| (0..KERNEL_FRAMES).map(move |k| (c, k)))
                    .map(|(c, k)| {
                        f64::from(x[(t + k) * channels + c])
                            * f64::from(weight[(o * channels + c) * KERNEL_FRAMES + k])
                    })
                    .sum();
            }
        }
        y
    }

    #[test]
    fn transforms_compute_a_correlation_for_several_tile_sizes() {
        // y_i = Σ_k g_k d_{i+k} through Aᵀ[(G g) ⊙ (Bᵀ d)], checked in f64.
        let g = [0.3, -1.2, 0.7, 2.0];
        for tile in 1..=4 {
            let t = WinogradTransform::new(tile);
            let d: Vec<f64> = (0..t.points).map(|i| (i as f64 * 0.37).sin()).collect();
            let gg: Vec<f64> = (0..t.points)
                .map(|p| (0..4).map(|k| t.kernel[p * 4 + k] * g[k]).sum())
                .collect();
            let bd: Vec<f64> = (0..t.points)
                .map(|p| {
                    (0..t.points)
                        .map(|q| t.input[p * t.points + q] * d[q])
                        .sum()
                })
                .collect();
            for i in 0..tile {
                let got: f64 = (0..t.points)
                    .map(|p| t.output[i * t.points + p] * gg[p] * bd[p])
                    .sum();
                let want: f64 = (0..4).map(|k| g[k] * d[i + k]).sum();
                assert!(
                    (got - want).abs() < 1e-9,
                    "tile {tile}, output {i}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn layer_matches_direct_correlation() {
        // Odd lengths and more tiles than one block exercise padding and block edges.
        let (channels, outputs, frames_out) = (7, 5, 2 * BLOCK_TILES + 3);
        let frames_in = WinogradConv::padded_inputs(frames_out);
        let x: Vec<f32> = (0..frames_in * channels)
            .map(|i| ((i * 2654435761) % 1000) as f32 / 250.0 - 2.0)
            .collect();
        let weight: Vec<f32> = (0..outputs * channels * KERNEL_FRAMES)
            .map(|i| ((i * 40503) % 997) as f32 / 500.0 - 1.0)
            .collect();
        let conv = WinogradConv::new(&weight, channels, outputs);
        let mut y = vec![f32::NAN; WinogradConv::padded_outputs(frames_out) * outputs];
        conv.forward(&x, frames_out, &mut y, &mut WinogradScratch::default(), 1);
        let want = direct(&x, &weight, channels, outputs, frames_out);
        for (got, want) in y.iter().zip(&want) {
            assert!(
                (f64::from(*got) - want).abs() < 1e-5 * want.abs().max(1.0),
                "{got} vs {want}"
            );
        }
    }
}
