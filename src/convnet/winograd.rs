//! Kernel-4 convolutions by Winograd's minimal filtering F(m, r) (Lavin & Gray 2016, 1-D):
//! `m` outputs of an `r`-tap correlation from `m + r − 1` inputs with `m + r − 1`
//! multiplications instead of `m·r`. Per tile, inputs are transformed (`Bᵀ d`), multiplied
//! pointwise by transformed kernels (`G g`) and transformed back (`Aᵀ`); over channels, the
//! pointwise products become `m + r − 1` GEMMs, so the GEMM work drops to `(m + 3) / (4·m)` of
//! a direct (im2col) convolution: half for the F(3, 4) used here.
//!
//! All three products of training run this way, not only inference's forward pass: the
//! forward pass and the input gradient (a correlation of the zero-padded output gradient with
//! the flipped, transposed kernel) by F(3, 4), the weight gradient (four taps, each a
//! correlation of the input with the output gradient) by F(4, 3), whose pointwise products
//! summed over tiles are `[C, tiles] × [tiles, O]` GEMMs.
//!
//! The matrices come from Toom-Cook interpolation at the points 0, 1, -1, 2, -2, ..., ∞
//! (computed here in f64 rather than copied from a table); the transposition principle turns
//! Toom-Cook's linear convolution into the correlation a convnet computes.

use rayon::prelude::*;

use super::config::KERNEL_FRAMES;
use super::matmul::{matmul, MatrixView, Scalar};

/// Output frames per tile. F(3, 4) does 6 multiplications for 3 outputs instead of 12 (half
/// the GEMM work); its float32 rounding stays within 6e-6 of the largest activation on the
/// reference vectors. F(4, 4) was 10% faster but reached 1.3e-5, F(6, 4) broke the 1e-4
/// agreement with PyTorch.
pub const TILE_FRAMES: usize = 3;

/// Interpolation points of F(3, 4) and of F(4, 3).
const POINTS: usize = TILE_FRAMES + KERNEL_FRAMES - 1;

/// Tiles processed together, so that a block's transformed inputs and products stay in cache.
const BLOCK_TILES: usize = 256;

/// Transform matrices of F(m, r), with n = m + r − 1 interpolation points.
#[derive(Debug, Clone)]
pub struct WinogradTransform {
    /// n = m + r − 1
    pub points: usize,
    /// Bᵀ: [n, n], applied to n consecutive inputs.
    pub input: Vec<f64>,
    /// G: [n, r], applied to a kernel.
    pub kernel: Vec<f64>,
    /// Aᵀ: [m, n], maps the n products to m outputs.
    pub output: Vec<f64>,
}

impl WinogradTransform {
    /// The transform for tiles of `tile` outputs of a `taps`-tap correlation.
    pub fn new(tile: usize, taps: usize) -> Self {
        let points = tile + taps - 1;
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
        let kernel = all.iter().flat_map(|&p| powers(p, taps)).collect();
        let tile_powers: Vec<f64> = all.iter().flat_map(|&p| powers(p, tile)).collect();
        let mut output = vec![0.0; tile * points];
        for i in 0..tile {
            for p in 0..points {
                output[i * points + p] = tile_powers[p * tile + i];
            }
        }
        Self {
            points,
            input,
            kernel,
            output,
        }
    }
}

/// A matrix of coefficients in the element type of the data.
fn cast<T: Scalar>(matrix: &[f64]) -> Vec<T> {
    matrix.iter().map(|&v| T::from_f64(v)).collect()
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

/// Output frames computed for `frames_out` wanted ones: rounded up to whole tiles.
pub fn padded_outputs(frames_out: usize) -> usize {
    frames_out.div_ceil(TILE_FRAMES) * TILE_FRAMES
}

/// A kernel-4 convolution layer prepared for Winograd F(3, 4): its transformed kernels.
#[derive(Debug)]
pub struct WinogradConv<T = f32> {
    /// Bᵀ and Aᵀ of F(3, 4), in T.
    input: Vec<T>,
    output: Vec<T>,
    /// G g per point, [n, C, O]; [n, O, C] (read transposed) for a `flipped_transpose`.
    kernels: Vec<T>,
    transposed: bool,
    pub channels: usize,
    pub outputs: usize,
}

/// Reusable buffers of one convolution call.
#[derive(Debug)]
pub struct WinogradScratch<T = f32> {
    /// Transformed inputs of a block: [n, block tiles, C].
    transformed: Vec<T>,
    /// Pointwise products of a block: [n, block tiles, O].
    products: Vec<T>,
    /// The last tile's inputs, zero-padded past the end of the signal.
    tail: Vec<T>,
}

// By hand: a derived Default would ask T for one, which empty buffers do not need.
impl<T> Default for WinogradScratch<T> {
    fn default() -> Self {
        Self {
            transformed: Vec::new(),
            products: Vec::new(),
            tail: Vec::new(),
        }
    }
}

impl<T: Scalar> WinogradConv<T> {
    /// weight: PyTorch layout [outputs, channels, 4].
    pub fn new(weight: &[T], channels: usize, outputs: usize) -> Self {
        let mut tap_major = vec![T::ZERO; weight.len()];
        for (i, &w) in weight.iter().enumerate() {
            let (o, c, k) = (
                i / (channels * KERNEL_FRAMES),
                i / KERNEL_FRAMES % channels,
                i % KERNEL_FRAMES,
            );
            tap_major[(k * channels + c) * outputs + o] = w;
        }
        Self::tap_major(&tap_major, channels, outputs)
    }

    /// weight: tap-major [4, channels, outputs], the training layout.
    pub fn tap_major(weight: &[T], channels: usize, outputs: usize) -> Self {
        Self::transformed(weight, channels, outputs, false)
    }

    /// The layer from `outputs` channels to `channels` outputs whose tap k is tap 3 − k of
    /// weight [4, channels, outputs], transposed: it correlates a layer's output gradient,
    /// padded with 3 zero frames in front, into its input gradient.
    pub fn flipped_transpose(weight: &[T], channels: usize, outputs: usize) -> Self {
        let mut layer = Self::transformed(weight, channels, outputs, true);
        (layer.channels, layer.outputs) = (outputs, channels);
        layer
    }

    /// G g per point from the tap-major weight, with the taps in reverse order if `flip`:
    /// one combination of whole [C, O] taps per point, on the current rayon pool.
    fn transformed(weight: &[T], channels: usize, outputs: usize, flip: bool) -> Self {
        let transform = WinogradTransform::new(TILE_FRAMES, KERNEL_FRAMES);
        let g: Vec<T> = cast(&transform.kernel);
        let size = channels * outputs;
        assert_eq!(
            weight.len(),
            KERNEL_FRAMES * size,
            "winograd: kernel of the wrong size"
        );
        let mut kernels = vec![T::ZERO; POINTS * size];
        kernels
            .par_chunks_mut(size)
            .enumerate()
            .for_each(|(p, kernel)| {
                let taps = (0..KERNEL_FRAMES).map(|k| {
                    let tap = if flip { KERNEL_FRAMES - 1 - k } else { k };
                    &weight[tap * size..][..size]
                });
                combine(kernel, &g[p * KERNEL_FRAMES..][..KERNEL_FRAMES], taps);
            });
        Self {
            input: cast(&transform.input),
            output: cast(&transform.output),
            kernels,
            transposed: flip,
            channels,
            outputs,
        }
    }

    /// The transformed kernel of point p as the [C, O] right operand of a GEMM.
    fn kernel(&self, p: usize) -> MatrixView<'_, T> {
        let size = self.channels * self.outputs;
        let data = &self.kernels[p * size..][..size];
        if self.transposed {
            MatrixView::contiguous(data, self.outputs, self.channels).t()
        } else {
            MatrixView::contiguous(data, self.channels, self.outputs)
        }
    }

    /// Correlates a time-major signal with the kernels, no bias:
    /// y[t, o] = Σ_{k, c} x[t + k, c] · w[o, c, k] for t < padded_outputs(frames_out), x read
    /// as zero past its end. x: [≥ frames_out + 3, C], y: [padded_outputs(frames_out), O].
    /// Blocks of tiles one after another, each block's GEMMs on `threads` threads.
    pub fn forward(
        &self,
        x: &[T],
        frames_out: usize,
        y: &mut [T],
        scratch: &mut WinogradScratch<T>,
        threads: usize,
    ) {
        self.check_signal(x, frames_out);
        assert!(
            y.len() >= padded_outputs(frames_out) * self.outputs,
            "winograd: output buffer shorter than the padded outputs"
        );
        let y = &mut y[..padded_outputs(frames_out) * self.outputs];
        self.run(x, 0, y, scratch, threads);
    }

    /// As `forward`, with the tiles split into one run per thread of the current rayon pool
    /// (its blocks' GEMMs on that thread): y [padded_outputs(frames_out), O].
    pub fn correlate(&self, x: &[T], frames_out: usize) -> Vec<T> {
        self.check_signal(x, frames_out);
        let tiles = frames_out.div_ceil(TILE_FRAMES);
        let per_run = tiles_per_run(tiles);
        let mut y = vec![T::ZERO; tiles * TILE_FRAMES * self.outputs];
        y.par_chunks_mut(per_run * TILE_FRAMES * self.outputs)
            .enumerate()
            .for_each(|(run, y)| {
                self.run(x, run * per_run, y, &mut WinogradScratch::default(), 1);
            });
        y
    }

    /// Panics unless x holds the `frames_out + 3` frames that `frames_out` outputs read (a
    /// caller's bug: shapes come from validated configs and tensors).
    fn check_signal(&self, x: &[T], frames_out: usize) {
        assert!(
            x.len() >= (frames_out + KERNEL_FRAMES - 1) * self.channels,
            "winograd: signal shorter than its outputs"
        );
    }

    /// The output rows of the tiles from `first` on that fill y ([tiles·3, O]), a block of
    /// `BLOCK_TILES` at a time.
    fn run(
        &self,
        x: &[T],
        first: usize,
        y: &mut [T],
        scratch: &mut WinogradScratch<T>,
        threads: usize,
    ) {
        let (channels, outputs) = (self.channels, self.outputs);
        let (m, n) = (TILE_FRAMES, POINTS);
        let WinogradScratch {
            transformed,
            products,
            tail,
        } = scratch;
        for (b, y) in y.chunks_mut(BLOCK_TILES * m * outputs).enumerate() {
            let first = first + b * BLOCK_TILES;
            let block = y.len() / (m * outputs);
            transformed.resize(n * block * channels, T::ZERO);
            products.resize(n * block * outputs, T::ZERO);
            // U[p, j, c] = Σ_q Bᵀ[p, q] · x[(first + j)·m + q, c]
            for j in 0..block {
                let window = window(x, (first + j) * m * channels, n * channels, tail);
                for p in 0..n {
                    combine(
                        &mut transformed[(p * block + j) * channels..][..channels],
                        &self.input[p * n..(p + 1) * n],
                        window.chunks_exact(channels),
                    );
                }
            }
            // M[p] = U[p] · K[p]: [block, C] × [C, O].
            for p in 0..n {
                let lhs =
                    MatrixView::contiguous(&transformed[p * block * channels..], block, channels);
                matmul(
                    &mut products[p * block * outputs..],
                    outputs,
                    1,
                    lhs,
                    self.kernel(p),
                    false,
                    threads,
                );
            }
            // y[j·m + i, o] = Σ_p Aᵀ[i, p] · M[p, j, o]
            for (j, tile) in y.chunks_exact_mut(m * outputs).enumerate() {
                for (i, row) in tile.chunks_exact_mut(outputs).enumerate() {
                    let products =
                        (0..n).map(|p| &products[(p * block + j) * outputs..][..outputs]);
                    combine(row, &self.output[i * n..(i + 1) * n], products);
                }
            }
        }
    }
}

/// ∂/∂w of a kernel-4 correlation whose first `rows` output rows have the gradient g:
/// grad_w[k, c, o] = Σ_{r < rows} x[r + k, c] · g[r, o], tap-major [4, C, O]. x: [≥ rows + 3,
/// C] (read as zero past its end), g: [≥ rows, O]. By F(4, 3) over tiles of 3 rows: per point
/// p, M[p] = Σ_tiles (Bᵀ x)[p]ᵀ (G g)[p] is a GEMM over the tiles, and grad_w[k] = Σ_p Aᵀ[k, p]
/// M[p]. The tiles are split into one run per thread of the current rayon pool, summed in
/// order, so the result does not depend on scheduling; it does, in its last bits, on the
/// number of threads (training is bit-reproducible for a given `--threads`).
pub fn weight_gradient<T: Scalar>(
    x: &[T],
    channels: usize,
    g: &[T],
    outputs: usize,
    rows: usize,
) -> Vec<T> {
    assert!(
        x.len() >= (rows + KERNEL_FRAMES - 1) * channels && g.len() >= rows * outputs,
        "winograd: weight gradient operands shorter than their rows"
    );
    let transform = WinogradTransform::new(KERNEL_FRAMES, TILE_FRAMES);
    let (m, n) = (TILE_FRAMES, POINTS);
    let (input, kernel): (Vec<T>, Vec<T>) = (cast(&transform.input), cast(&transform.kernel));
    let g = &g[..rows * outputs];
    let tiles = rows.div_ceil(m);
    let per_run = tiles_per_run(tiles);
    let runs = tiles.div_ceil(per_run);
    let sums: Vec<Vec<T>> = (0..runs)
        .into_par_iter()
        .map(|run| {
            let mut sum = vec![T::ZERO; n * channels * outputs];
            let (mut u, mut v, mut x_tail, mut g_tail) =
                (Vec::new(), Vec::new(), Vec::new(), Vec::new());
            let end = ((run + 1) * per_run).min(tiles);
            for first in (run * per_run..end).step_by(BLOCK_TILES) {
                let block = BLOCK_TILES.min(end - first);
                u.resize(n * block * channels, T::ZERO);
                v.resize(n * block * outputs, T::ZERO);
                for j in 0..block {
                    let start = (first + j) * m;
                    // U[p, j, c] = Σ_q Bᵀ[p, q] · x[start + q, c]
                    let xs = window(x, start * channels, n * channels, &mut x_tail);
                    // V[p, j, o] = Σ_i G[p, i] · g[start + i, o]
                    let gs = window(g, start * outputs, m * outputs, &mut g_tail);
                    for p in 0..n {
                        combine(
                            &mut u[(p * block + j) * channels..][..channels],
                            &input[p * n..(p + 1) * n],
                            xs.chunks_exact(channels),
                        );
                        combine(
                            &mut v[(p * block + j) * outputs..][..outputs],
                            &kernel[p * m..(p + 1) * m],
                            gs.chunks_exact(outputs),
                        );
                    }
                }
                // M[p] += U[p]ᵀ · V[p]: [C, block] × [block, O].
                for p in 0..n {
                    let lhs = MatrixView::contiguous(&u[p * block * channels..], block, channels);
                    let rhs = MatrixView::contiguous(&v[p * block * outputs..], block, outputs);
                    matmul(
                        &mut sum[p * channels * outputs..],
                        outputs,
                        1,
                        lhs.t(),
                        rhs,
                        true,
                        1,
                    );
                }
            }
            sum
        })
        .collect();
    let mut total = vec![T::ZERO; n * channels * outputs];
    for sum in &sums {
        for (t, &s) in total.iter_mut().zip(sum) {
            *t += s;
        }
    }
    let output: Vec<T> = cast(&transform.output);
    let mut grad_w = vec![T::ZERO; KERNEL_FRAMES * channels * outputs];
    for (k, tap) in grad_w.chunks_exact_mut(channels * outputs).enumerate() {
        let products = total.chunks_exact(channels * outputs);
        combine(tap, &output[k * n..(k + 1) * n], products);
    }
    grad_w
}

/// Tiles per run when `tiles` are split into one run per thread of the current rayon pool:
/// even shares (the last layers have only a few hundred tiles, too few to leave to rayon's
/// splitting of 256-tile blocks), each run with its own scratch buffers.
fn tiles_per_run(tiles: usize) -> usize {
    tiles.div_ceil(rayon::current_num_threads().max(1)).max(1)
}

/// The `len` elements of `signal` from `start`, copied into `tail` and zero-padded where they
/// run past its end.
fn window<'s, T: Scalar>(
    signal: &'s [T],
    start: usize,
    len: usize,
    tail: &'s mut Vec<T>,
) -> &'s [T] {
    if start + len <= signal.len() {
        return &signal[start..start + len];
    }
    tail.clear();
    tail.extend_from_slice(&signal[start.min(signal.len())..]);
    tail.resize(len, T::ZERO);
    tail
}

/// dst = Σ_q coefficients[q] · vectors[q], skipping zero coefficients.
fn combine<'v, T: Scalar>(
    dst: &mut [T],
    coefficients: &[T],
    vectors: impl Iterator<Item = &'v [T]>,
) {
    let mut first = true;
    for (&coefficient, vector) in coefficients.iter().zip(vectors) {
        if coefficient == T::ZERO {
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
        dst.fill(T::ZERO);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Deterministic values in [-2, 2) and [-1, 1), spread without a pattern a GEMM could hide.
    fn signal(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 2654435761) % 1000) as f32 / 250.0 - 2.0)
            .collect()
    }

    fn weights(len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 40503) % 997) as f32 / 500.0 - 1.0)
            .collect()
    }

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

    fn assert_close(got: &[f32], want: &[f64]) {
        for (i, (got, want)) in got.iter().zip(want).enumerate() {
            assert!(
                (f64::from(*got) - want).abs() < 1e-5 * want.abs().max(1.0),
                "element {i}: {got} vs {want}"
            );
        }
    }

    #[test]
    fn transforms_compute_a_correlation_for_several_tile_sizes() {
        // y_i = Σ_k g_k d_{i+k} through Aᵀ[(G g) ⊙ (Bᵀ d)], checked in f64: the kernel-4
        // tiles of the convolutions and the 3-tap F(4, 3) of the weight gradient.
        let cases = [(1, 4), (2, 4), (3, 4), (4, 4), (4, 3), (2, 3)];
        for (tile, taps) in cases {
            let t = WinogradTransform::new(tile, taps);
            let g: Vec<f64> = (0..taps).map(|k| (k as f64 * 1.3).cos() * 2.0).collect();
            let d: Vec<f64> = (0..t.points).map(|i| (i as f64 * 0.37).sin()).collect();
            let gg: Vec<f64> = (0..t.points)
                .map(|p| (0..taps).map(|k| t.kernel[p * taps + k] * g[k]).sum())
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
                let want: f64 = (0..taps).map(|k| g[k] * d[i + k]).sum();
                assert!(
                    (got - want).abs() < 1e-9,
                    "F({tile}, {taps}), output {i}: {got} vs {want}"
                );
            }
        }
    }

    #[test]
    fn layer_matches_direct_correlation() {
        // Odd lengths and more tiles than one block exercise block edges, and a signal of
        // exactly frames_out + 3 frames the zero-padded last tile.
        let (channels, outputs, frames_out) = (7, 5, 2 * BLOCK_TILES * TILE_FRAMES + 4);
        let x = signal((frames_out + KERNEL_FRAMES - 1) * channels);
        let weight = weights(outputs * channels * KERNEL_FRAMES);
        let conv = WinogradConv::new(&weight, channels, outputs);
        let want = direct(&x, &weight, channels, outputs, frames_out);
        let mut y = vec![f32::NAN; padded_outputs(frames_out) * outputs];
        conv.forward(&x, frames_out, &mut y, &mut WinogradScratch::default(), 1);
        assert_close(&y[..frames_out * outputs], &want);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(3)
            .build()
            .unwrap();
        let y = pool.install(|| conv.correlate(&x, frames_out));
        assert_eq!(y.len(), padded_outputs(frames_out) * outputs);
        assert_close(&y[..frames_out * outputs], &want);
    }

    #[test]
    fn weight_gradient_matches_direct_sums() {
        // grad_w[k, c, o] = Σ_r x[r + k, c] · g[r, o] in f64; rows not a whole number of
        // tiles, over several blocks, split over 1, 2 and 3 threads.
        let (channels, outputs, rows) = (6, 4, 3 * BLOCK_TILES * TILE_FRAMES + 2);
        let x = signal((rows + KERNEL_FRAMES - 1) * channels);
        let g = weights(rows * outputs);
        let mut want = vec![0.0; KERNEL_FRAMES * channels * outputs];
        for k in 0..KERNEL_FRAMES {
            for c in 0..channels {
                for o in 0..outputs {
                    want[(k * channels + c) * outputs + o] = (0..rows)
                        .map(|r| {
                            f64::from(x[(r + k) * channels + c]) * f64::from(g[r * outputs + o])
                        })
                        .sum();
                }
            }
        }
        // Sums of ~2300 products of magnitude ≤ 2: absolute tolerance scaled to their size.
        let scale = want.iter().fold(1.0f64, |a, &b| a.max(b.abs()));
        for threads in 1..=3 {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool.install(|| weight_gradient(&x, channels, &g, outputs, rows));
            assert_eq!(got.len(), want.len());
            for (i, (got, want)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (f64::from(*got) - want).abs() < 1e-5 * scale,
                    "{threads} threads, element {i}: {got} vs {want}"
                );
            }
        }
    }
}
