//! Initial positions. PCA (openTSNE's default): the data projected on its first two principal
//! axes, scaled so the first coordinate has standard deviation 1e-4, plus Gaussian jitter of
//! 1% of that (seeded) so that equal points do not start on top of each other.
//!
//! The principal axes come from the `dims × dims` covariance (accumulated over row blocks by
//! GEMM, so memory stays `O(dims²)`) by subspace iteration with a Rayleigh–Ritz step: two
//! vectors are all a map needs, and this avoids a dense eigensolver dependency.

use ndarray::ArrayView2;
use rand::{Rng, SeedableRng};

use super::Init;
use crate::convnet::matmul::{matmul, MatrixView};

/// Standard deviation of the first coordinate at the start (openTSNE's `rescale`).
const INITIAL_STD: f64 = 1e-4;
/// Jitter, relative to `INITIAL_STD` (openTSNE's `jitter` scale).
const JITTER: f64 = 0.01;
/// Rows per covariance block.
const ROW_BLOCK: usize = 4096;
const MAX_SUBSPACE_STEPS: usize = 1000;

/// Starting map `[points, 2]` row-major.
pub fn initial_positions(data: ArrayView2<f32>, init: Init, seed: u64) -> Vec<f64> {
    let points = data.nrows();
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut map = match init {
        Init::Pca => principal_coordinates(data, &mut rng),
        Init::Random => vec![0.0; 2 * points],
    };
    let std = column_std(&map);
    // Random start, or data without variance: noise alone.
    let (scale, noise) = if std > 0.0 {
        (INITIAL_STD / std, INITIAL_STD * JITTER)
    } else {
        (0.0, INITIAL_STD)
    };
    for v in &mut map {
        *v = *v * scale + noise * gaussian(&mut rng);
    }
    map
}

/// Standard deviation of the first coordinate of a `[points, 2]` map.
fn column_std(map: &[f64]) -> f64 {
    let points = (map.len() / 2).max(1) as f64;
    let mean = map.iter().step_by(2).sum::<f64>() / points;
    (map.iter()
        .step_by(2)
        .map(|v| (v - mean) * (v - mean))
        .sum::<f64>()
        / points)
        .sqrt()
}

/// A standard normal sample (Box–Muller).
fn gaussian(rng: &mut impl Rng) -> f64 {
    let u: f64 = 1.0 - rng.random::<f64>();
    let v: f64 = rng.random::<f64>();
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// The centred data projected on its first two principal axes, `[points, 2]` row-major; each
/// axis's sign fixed so that its largest component is positive.
fn principal_coordinates(data: ArrayView2<f32>, rng: &mut impl Rng) -> Vec<f64> {
    let (points, dims) = data.dim();
    if dims == 0 {
        return vec![0.0; 2 * points];
    }
    let mut mean = vec![0.0f64; dims];
    for row in data.rows() {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    for m in &mut mean {
        *m /= points as f64;
    }
    // Covariance (unnormalised): Σ over row blocks of Xᵀ X, centred, in f64.
    let mut covariance = vec![0.0f64; dims * dims];
    let mut block = Vec::with_capacity(ROW_BLOCK * dims);
    for first in (0..points).step_by(ROW_BLOCK) {
        let rows = ROW_BLOCK.min(points - first);
        block.clear();
        for row in data.rows().into_iter().skip(first).take(rows) {
            block.extend(row.iter().zip(&mean).map(|(&v, m)| f64::from(v) - m));
        }
        let x = MatrixView::contiguous(&block, rows, dims);
        // One thread: GEMM's parallel split would change the summation order with the thread
        // count, and the map must not. N·dims² flops are little next to the rest.
        matmul(&mut covariance, dims, 1, x.t(), x, true, 1);
    }
    let axes = top_two_eigenvectors(&covariance, dims, rng);
    let mut map = vec![0.0f64; 2 * points];
    for (row, out) in data.rows().into_iter().zip(map.chunks_exact_mut(2)) {
        for (o, axis) in out.iter_mut().zip(&axes) {
            *o = row
                .iter()
                .zip(&mean)
                .zip(axis)
                .map(|((&v, m), a)| (f64::from(v) - m) * a)
                .sum();
        }
    }
    map
}

/// The eigenvectors of the two largest eigenvalues of a symmetric positive semi-definite
/// `dims × dims` matrix, by subspace iteration from a random start, then a Rayleigh–Ritz
/// rotation within the subspace.
fn top_two_eigenvectors(matrix: &[f64], dims: usize, rng: &mut impl Rng) -> [Vec<f64>; 2] {
    let multiply = |v: &[f64]| -> Vec<f64> {
        matrix
            .chunks_exact(dims)
            .map(|row| row.iter().zip(v).map(|(a, b)| a * b).sum())
            .collect()
    };
    let mut basis = [
        (0..dims).map(|_| gaussian(rng)).collect::<Vec<f64>>(),
        (0..dims).map(|_| gaussian(rng)).collect::<Vec<f64>>(),
    ];
    orthonormalise(&mut basis);
    for _ in 0..MAX_SUBSPACE_STEPS {
        let mut next = [multiply(&basis[0]), multiply(&basis[1])];
        orthonormalise(&mut next);
        let change: f64 = (0..2)
            .map(|a| 1.0 - dot(&next[a], &basis[a]).abs())
            .sum::<f64>();
        basis = next;
        if change < 1e-12 {
            break;
        }
    }
    // Rayleigh–Ritz: the 2 × 2 projected matrix's eigenvectors rotate the basis onto the axes.
    let projected: Vec<Vec<f64>> = basis.iter().map(|b| multiply(b)).collect();
    let h = [
        [dot(&basis[0], &projected[0]), dot(&basis[0], &projected[1])],
        [dot(&basis[1], &projected[0]), dot(&basis[1], &projected[1])],
    ];
    let angle = 0.5 * (2.0 * h[0][1]).atan2(h[0][0] - h[1][1]);
    let (s, c) = angle.sin_cos();
    let mut axes = [
        basis[0]
            .iter()
            .zip(&basis[1])
            .map(|(a, b)| c * a + s * b)
            .collect::<Vec<f64>>(),
        basis[0]
            .iter()
            .zip(&basis[1])
            .map(|(a, b)| -s * a + c * b)
            .collect::<Vec<f64>>(),
    ];
    for axis in &mut axes {
        let largest = axis
            .iter()
            .copied()
            .fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
        if largest < 0.0 {
            axis.iter_mut().for_each(|v| *v = -*v);
        }
    }
    axes
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Gram–Schmidt on two vectors (a zero vector stays zero).
fn orthonormalise(basis: &mut [Vec<f64>; 2]) {
    let normalise = |v: &mut Vec<f64>| {
        let norm = dot(v, v).sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
    };
    normalise(&mut basis[0]);
    let projection = dot(&basis[0], &basis[1]);
    let [first, second] = basis;
    for (s, f) in second.iter_mut().zip(first.iter()) {
        *s -= projection * f;
    }
    normalise(&mut basis[1]);
}
