//! Repulsive forces of 2-D t-SNE in O(N) per iteration by FFT-accelerated interpolation
//! (Linderman et al. 2019, "Fast interpolation-based t-SNE", as FIt-SNE and openTSNE do it).
//!
//! The repulsion on point i is `Σ_j w_ij² (y_i − y_j)` and the normaliser is
//! `Z = Σ_{i≠j} w_ij`, with `w_ij = 1 / (1 + |y_i − y_j|²)`. Both follow from four sums
//! `φ_c(i) = Σ_j K(y_i, y_j) q_c(j)` with the single kernel `K = w²` and charges
//! `q = (1, y_j1, y_j2, |y_j|²)`, because `w = w²·(1 + |y_i − y_j|²)`. Each sum is computed by
//! spreading the charges onto a regular grid (Lagrange interpolation with 3 nodes per box and
//! boxes about one unit wide), convolving the grid with the kernel by 2-D FFT, and
//! interpolating back. The grid grows with the map's extent, not with N.
//!
//! Why hand-written rather than bhtsne's: the same method, but the grid work runs in the
//! current rayon pool in fixed chunks (deterministic for any thread count), reuses its plans,
//! buffers and the kernel's spectrum across iterations, skips the FFTs of the zero half of each
//! padded grid, and runs its FFTs in f32 (the interpolation's own error, ~1e-2, dwarfs their
//! rounding; tests/tsne.rs measures both against exact sums).

use std::sync::Arc;

use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use rustfft::num_complex::Complex;
use rustfft::{Fft, FftPlanner};

/// Interpolation nodes per box and axis.
const NODES_PER_BOX: usize = 3;
/// Box width in map units, and the fewest boxes per axis: openTSNE's 1 and 50. Measured on 10k
/// clustered points, 1.5 and 25 cost 40% less CPU for a trustworthiness 0.0004 lower, but the
/// gradient error on small maps grows to 4% (tests/tsne.rs), so openTSNE's values stay.
const BOX_WIDTH: f64 = 1.0;
const MIN_BOXES: usize = 50;
/// At most this many boxes per axis (an FFT of 6·600 = 3600 points per axis, ~100 MB of
/// spectra); maps wider than 600 units get wider boxes.
const MAX_BOXES: usize = 600;
/// Points per task when interpolating: fixed, so the reduction of Z does not depend on the
/// number of threads.
const POINT_CHUNK: usize = 4096;

/// The precision of the grid FFTs, the bulk of the work.
type Fx = f32;
type Cx = Complex<Fx>;

/// The four charge sums (see the module documentation).
const CHARGES: usize = 4;

/// Plans, grids and spectra reused from one iteration to the next.
#[derive(Default)]
pub struct Repulsion {
    plans: Option<Plans>,
    /// `[CHARGES][nodes × nodes]`: charges on the grid, then (in place) the potentials.
    grids: Vec<Vec<f64>>,
    /// The kernel's 2-D spectrum (real), column-major `[fft_len / 2 + 1][fft_len]`.
    kernel_spectrum: Vec<Fx>,
    /// The FFT length and node spacing (bits) `kernel_spectrum` was made for.
    kernel_of: Option<(usize, u64)>,
    /// The kernel's distinct rows, `[nodes][fft_len]`.
    kernel_rows: Vec<f64>,
    /// Work array for one charge's spectrum, row-major `[fft_len][fft_len / 2 + 1]`.
    row_spectrum: Vec<Cx>,
    /// The same spectrum, column-major `[fft_len / 2 + 1][fft_len]`.
    column_spectrum: Vec<Cx>,
    /// Per point: grid node of its box's first node on each axis, and the interpolation
    /// weights of the box's 3 nodes on each axis.
    stencils: Vec<Stencil>,
}

#[derive(Clone, Copy, Default)]
struct Stencil {
    first_node: [usize; 2],
    weights: [[f64; NODES_PER_BOX]; 2],
}

struct Plans {
    fft_len: usize,
    rows_forward: Arc<dyn RealToComplex<Fx>>,
    rows_inverse: Arc<dyn ComplexToReal<Fx>>,
    columns_forward: Arc<dyn Fft<Fx>>,
    columns_inverse: Arc<dyn Fft<Fx>>,
}

impl Plans {
    fn new(fft_len: usize) -> Self {
        let mut real = RealFftPlanner::<Fx>::new();
        let mut complex = FftPlanner::<Fx>::new();
        Self {
            fft_len,
            rows_forward: real.plan_fft_forward(fft_len),
            rows_inverse: real.plan_fft_inverse(fft_len),
            columns_forward: complex.plan_fft_forward(fft_len),
            columns_inverse: complex.plan_fft_inverse(fft_len),
        }
    }
}

impl Repulsion {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `forces[2i..2i+2] = Σ_j w_ij² (y_i − y_j)` for the map `y` (`[points, 2]`
    /// row-major) and returns `Z = Σ_{i≠j} w_ij`.
    pub fn forces(&mut self, y: &[f64], forces: &mut [f64]) -> f64 {
        let (low, high) = y
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        let extent = (high - low).max(1e-6);
        let boxes = five_smooth_at_least(
            ((extent / BOX_WIDTH).ceil() as usize).clamp(MIN_BOXES, MAX_BOXES),
        );
        // Boxes exactly BOX_WIDTH wide once the map is wide enough, rather than stretched to
        // the extent: the kernel's spectrum depends only on the grid and the box width, so it is
        // then reused until the grid grows (it cost a tenth of a map's time when remade each step).
        let box_width =
            if extent >= (MIN_BOXES as f64) * BOX_WIDTH && boxes as f64 * BOX_WIDTH >= extent {
                BOX_WIDTH
            } else {
                extent / boxes as f64
            };
        let nodes = boxes * NODES_PER_BOX;
        let spacing = box_width / NODES_PER_BOX as f64;
        self.locate(y, low, box_width, boxes);
        self.spread(y, nodes);
        self.prepare_fft(2 * nodes, spacing, nodes);
        for charge in 0..CHARGES {
            let mut grid = std::mem::take(&mut self.grids[charge]);
            self.convolve(&mut grid, nodes);
            self.grids[charge] = grid;
        }
        // Fixed chunks summed in order: the same Z for any number of threads.
        let z: f64 = self.gather(y, forces, nodes).into_iter().sum();
        z.max(f64::MIN_POSITIVE)
    }

    /// Each point's box and interpolation weights.
    fn locate(&mut self, y: &[f64], low: f64, box_width: f64, boxes: usize) {
        let points = y.len() / 2;
        self.stencils.resize(points, Stencil::default());
        self.stencils
            .par_chunks_mut(POINT_CHUNK)
            .enumerate()
            .for_each(|(chunk, stencils)| {
                for (offset, stencil) in stencils.iter_mut().enumerate() {
                    let i = chunk * POINT_CHUNK + offset;
                    for axis in 0..2 {
                        let position = (y[2 * i + axis] - low) / box_width;
                        let index = (position.floor() as usize).min(boxes - 1);
                        stencil.first_node[axis] = index * NODES_PER_BOX;
                        stencil.weights[axis] = lagrange_weights(position - index as f64);
                    }
                }
            });
    }

    /// Spreads the four charges of every point onto its 3 × 3 nodes (one task per charge).
    fn spread(&mut self, y: &[f64], nodes: usize) {
        self.grids.resize_with(CHARGES, Vec::new);
        let stencils = &self.stencils;
        self.grids
            .par_iter_mut()
            .enumerate()
            .for_each(|(charge, grid)| {
                grid.clear();
                grid.resize(nodes * nodes, 0.0);
                for (i, stencil) in stencils.iter().enumerate() {
                    let q = charge_of(charge, y[2 * i], y[2 * i + 1]);
                    let [row0, col0] = stencil.first_node;
                    for (a, &wa) in stencil.weights[0].iter().enumerate() {
                        let row = &mut grid[(row0 + a) * nodes + col0..][..NODES_PER_BOX];
                        let wq = wa * q;
                        for (cell, &wb) in row.iter_mut().zip(&stencil.weights[1]) {
                            *cell += wq * wb;
                        }
                    }
                }
            });
    }

    /// Plans for `fft_len`, buffers, and the spectrum of the kernel `w²` sampled at node
    /// offsets `(a, b)·spacing`, wrapped circularly (offsets up to `nodes − 1` each way).
    ///
    /// The wrapped kernel is real and even on both axes, so its spectrum is real and even too:
    /// only the `nodes` distinct rows are transformed, and the columns by real FFTs.
    fn prepare_fft(&mut self, fft_len: usize, spacing: f64, nodes: usize) {
        if self.kernel_of == Some((fft_len, spacing.to_bits())) {
            return;
        }
        self.kernel_of = Some((fft_len, spacing.to_bits()));
        if self.plans.as_ref().is_none_or(|p| p.fft_len != fft_len) {
            self.plans = Some(Plans::new(fft_len));
        }
        let half = fft_len / 2 + 1;
        self.row_spectrum.resize(fft_len * half, Cx::default());
        self.column_spectrum.resize(fft_len * half, Cx::default());
        self.kernel_spectrum.resize(fft_len * half, 0.0);
        let Some(plans) = self.plans.as_ref() else {
            return;
        };
        // Row `a` (offset a), columns wrapped: offsets 0..nodes, a zero at `nodes`, then back.
        let mut kernel_rows = std::mem::take(&mut self.kernel_rows);
        kernel_rows.resize(nodes * fft_len, 0.0);
        kernel_rows
            .par_chunks_mut(fft_len)
            .enumerate()
            .for_each(|(a, row)| {
                let a2 = (a * a) as f64;
                for b in 0..nodes {
                    let d2 = (a2 + (b * b) as f64) * spacing * spacing;
                    let value = 1.0 / ((1.0 + d2) * (1.0 + d2));
                    row[b] = value;
                    if b > 0 {
                        row[fft_len - b] = value;
                    }
                }
                row[nodes] = 0.0;
            });
        rows_forward(
            plans,
            &mut self.row_spectrum[..nodes * half],
            &kernel_rows,
            fft_len,
        );
        self.kernel_rows = kernel_rows;
        // Column `v` over all rows: the distinct rows' (real) spectra, mirrored.
        let rows = &self.row_spectrum;
        self.kernel_spectrum
            .par_chunks_mut(fft_len)
            .enumerate()
            .for_each_init(
                || {
                    (
                        vec![0.0 as Fx; fft_len],
                        vec![Cx::default(); half],
                        vec![Cx::default(); plans.rows_forward.get_scratch_len()],
                    )
                },
                |(column, spectrum, scratch), (v, out)| {
                    for (u, value) in column.iter_mut().enumerate() {
                        let row = match u {
                            u if u < nodes => Some(u),
                            u if u > nodes => Some(fft_len - u),
                            _ => None,
                        };
                        *value = row.map_or(0.0, |row| rows[row * half + v].re);
                    }
                    plans
                        .rows_forward
                        .process_with_scratch(column, spectrum, scratch)
                        .expect("buffer lengths come from the plan");
                    for (u, value) in out.iter_mut().enumerate() {
                        *value = spectrum[u.min(fft_len - u)].re;
                    }
                },
            );
    }

    /// Replaces the `nodes × nodes` grid by its circular convolution with the kernel (the
    /// padding makes it linear over the grid).
    fn convolve(&mut self, grid: &mut [f64], nodes: usize) {
        let Some(plans) = self.plans.as_ref() else {
            return;
        };
        let fft_len = plans.fft_len;
        let half = fft_len / 2 + 1;
        // Rows at and beyond `nodes` are zero: only the first `nodes` rows need transforms.
        rows_forward(plans, &mut self.row_spectrum[..nodes * half], grid, nodes);
        // Columns, zero-padded below row `nodes`.
        transpose(
            &self.row_spectrum[..nodes * half],
            half,
            &mut self.column_spectrum,
            fft_len,
            nodes,
        );
        let kernel = &self.kernel_spectrum;
        self.column_spectrum
            .par_chunks_mut(fft_len)
            .zip(kernel.par_chunks(fft_len))
            .for_each_init(
                || vec![Cx::default(); plans.columns_forward.get_inplace_scratch_len()],
                |scratch, (column, kernel_column)| {
                    column[nodes..].fill(Cx::default());
                    plans.columns_forward.process_with_scratch(column, scratch);
                    for (value, &k) in column.iter_mut().zip(kernel_column) {
                        *value *= k;
                    }
                    plans.columns_inverse.process_with_scratch(column, scratch);
                },
            );
        // Only the first `nodes` rows of the result are potentials on the grid.
        transpose(
            &self.column_spectrum,
            fft_len,
            &mut self.row_spectrum[..nodes * half],
            half,
            half,
        );
        let norm = 1.0 / (fft_len * fft_len) as f64;
        self.row_spectrum[..nodes * half]
            .par_chunks_mut(half)
            .zip(grid.par_chunks_mut(nodes))
            .for_each_init(
                || {
                    (
                        vec![0.0 as Fx; fft_len],
                        vec![Cx::default(); plans.rows_inverse.get_scratch_len()],
                    )
                },
                |(real, scratch), (spectrum, out)| {
                    // The result is real: the DC and Nyquist terms' imaginary parts are rounding.
                    spectrum[0].im = 0.0;
                    spectrum[half - 1].im = 0.0;
                    plans
                        .rows_inverse
                        .process_with_scratch(spectrum, real, scratch)
                        .expect("buffer lengths come from the plan");
                    for (o, &v) in out.iter_mut().zip(real.iter()) {
                        *o = f64::from(v) * norm;
                    }
                },
            );
    }

    /// Interpolates the potentials back to the points, writes the forces and returns the
    /// per-chunk partial sums of `Σ_j w_ij` (self term excluded).
    fn gather(&self, y: &[f64], forces: &mut [f64], nodes: usize) -> Vec<f64> {
        let grids = &self.grids;
        forces
            .par_chunks_mut(2 * POINT_CHUNK)
            .zip(self.stencils.par_chunks(POINT_CHUNK))
            .enumerate()
            .map(|(chunk, (forces, stencils))| {
                let mut z = 0.0;
                for (offset, (force, stencil)) in
                    forces.chunks_exact_mut(2).zip(stencils).enumerate()
                {
                    let i = chunk * POINT_CHUNK + offset;
                    let mut phi = [0.0f64; CHARGES];
                    let [row0, col0] = stencil.first_node;
                    for (a, &wa) in stencil.weights[0].iter().enumerate() {
                        for (b, &wb) in stencil.weights[1].iter().enumerate() {
                            let node = (row0 + a) * nodes + col0 + b;
                            let w = wa * wb;
                            for (p, grid) in phi.iter_mut().zip(grids) {
                                *p += w * grid[node];
                            }
                        }
                    }
                    let (y1, y2) = (y[2 * i], y[2 * i + 1]);
                    force[0] = y1 * phi[0] - phi[1];
                    force[1] = y2 * phi[0] - phi[2];
                    // Σ_j w² (1 + |y_i − y_j|²) = Σ_j w, minus the self term w_ii = 1.
                    z += (1.0 + y1 * y1 + y2 * y2) * phi[0] - 2.0 * (y1 * phi[1] + y2 * phi[2])
                        + phi[3]
                        - 1.0;
                }
                z
            })
            .collect()
    }
}

/// Charge `c` of a point at `(y1, y2)`: 1, y1, y2, |y|².
fn charge_of(charge: usize, y1: f64, y2: f64) -> f64 {
    match charge {
        0 => 1.0,
        1 => y1,
        2 => y2,
        _ => y1 * y1 + y2 * y2,
    }
}

/// Lagrange basis of the nodes at `(m + ½) / 3`, m = 0, 1, 2, evaluated at `u` ∈ [0, 1].
fn lagrange_weights(u: f64) -> [f64; NODES_PER_BOX] {
    let t = [1.0 / 6.0, 0.5, 5.0 / 6.0];
    let mut w = [1.0f64; NODES_PER_BOX];
    for (m, weight) in w.iter_mut().enumerate() {
        for (n, &tn) in t.iter().enumerate() {
            if n != m {
                *weight *= (u - tn) / (t[m] - tn);
            }
        }
    }
    w
}

/// Real-to-complex FFTs of the rows of `values` (`[rows][width]`, `width` ≤ `fft_len`,
/// zero-padded to `fft_len`) into `spectrum` (row-major, `fft_len / 2 + 1` a row).
fn rows_forward(plans: &Plans, spectrum: &mut [Cx], values: &[f64], width: usize) {
    let fft_len = plans.fft_len;
    spectrum
        .par_chunks_mut(fft_len / 2 + 1)
        .zip(values.par_chunks(width))
        .for_each_init(
            || {
                (
                    vec![0.0 as Fx; fft_len],
                    vec![Cx::default(); plans.rows_forward.get_scratch_len()],
                )
            },
            |(real, scratch), (out, row)| {
                for (r, &v) in real.iter_mut().zip(row) {
                    *r = v as Fx;
                }
                real[width..].fill(0.0);
                plans
                    .rows_forward
                    .process_with_scratch(real, out, scratch)
                    .expect("buffer lengths come from the plan");
            },
        );
}

/// Side of the square tiles [`transpose`] copies, so that both the rows read and the rows
/// written stay in cache.
const TILE: usize = 16;

/// `to[i·to_stride + j] = from[j·from_stride + i]` for every row `i` of `to` (`to.len() /
/// to_stride` of them) and `j < columns`, tile by tile.
fn transpose(from: &[Cx], from_stride: usize, to: &mut [Cx], to_stride: usize, columns: usize) {
    to.par_chunks_mut(TILE * to_stride)
        .enumerate()
        .for_each(|(tile_row, out)| {
            let i0 = tile_row * TILE;
            let rows = out.len() / to_stride;
            for j0 in (0..columns).step_by(TILE) {
                for j in j0..(j0 + TILE).min(columns) {
                    let source = &from[j * from_stride + i0..][..rows];
                    for (i, &value) in source.iter().enumerate() {
                        out[i * to_stride + j] = value;
                    }
                }
            }
        });
}

/// The smallest number ≥ `n` with no prime factor above 5 (FFT sizes rustfft handles fastest).
fn five_smooth_at_least(n: usize) -> usize {
    (n.max(1)..)
        .find(|&m| {
            let mut r = m;
            for p in [2, 3, 5] {
                while r % p == 0 {
                    r /= p;
                }
            }
            r == 1
        })
        .unwrap_or(n)
}
