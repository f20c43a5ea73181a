//! Trustworthiness (Venna & Kaski 2001), as scikit-learn defines it: how many of each point's
//! `k` nearest neighbours on the map are strangers in the input space, weighted by how far
//! down the input-space ranking they are:
//!
//! `T(k) = 1 − 2 / (N k (2N − 3k − 1)) · Σ_i Σ_{j ∈ U_i} (r(i, j) − k)`,
//!
//! where `U_i` are i's map neighbours that are not among its `k` input neighbours and
//! `r(i, j)` is j's rank (1 = nearest, i itself excluded) by input distance. 1 is perfect.
//!
//! Exact and in `O(N)` memory: map neighbours by a sweep over the points sorted on the first
//! coordinate; ranks by counting, in full rows of input distances computed block by block with
//! the GEMM of [`neighbours`](super::neighbours). Ties in either space go to the lower index.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::neighbours::SquaredDistances;

/// Input rows per task: a block holds `ROW_BLOCK × N` distances.
const ROW_BLOCK: usize = 32;

/// Why trustworthiness cannot be computed.
#[derive(Debug, thiserror::Error)]
pub enum TrustworthinessError {
    #[error("the data has {data} rows and the map {map}")]
    RowCount { data: usize, map: usize },
    #[error("k = {k} must be at least 1 and below N / 2 = {half} (N = {points})")]
    NeighbourCount {
        k: usize,
        points: usize,
        half: usize,
    },
    #[error("the computation was cancelled")]
    Cancelled,
}

/// `T(k)` of `map` (`[points, 2]`) for `data` (`[points, dims]`); `1 ≤ k < N / 2`.
pub fn trustworthiness(
    data: ArrayView2<f32>,
    map: ArrayView2<f32>,
    k: usize,
    cancel: &AtomicBool,
) -> Result<f64, TrustworthinessError> {
    let points = data.nrows();
    if map.nrows() != points || map.ncols() != 2 {
        return Err(TrustworthinessError::RowCount {
            data: points,
            map: map.nrows(),
        });
    }
    if k == 0 || 2 * k >= points {
        return Err(TrustworthinessError::NeighbourCount {
            k,
            points,
            half: points / 2,
        });
    }
    let map_neighbours = map_neighbours(map, k);
    let distances = SquaredDistances::new(data);
    let mut penalty = 0u64;
    let wave = ROW_BLOCK * 4 * rayon::current_num_threads();
    for wave_start in (0..points).step_by(wave) {
        if cancel.load(Ordering::Relaxed) {
            return Err(TrustworthinessError::Cancelled);
        }
        let wave_end = (wave_start + wave).min(points);
        let blocks: Vec<usize> = (wave_start..wave_end).step_by(ROW_BLOCK).collect();
        penalty += blocks
            .par_iter()
            .map(|&first| {
                let last = (first + ROW_BLOCK).min(wave_end);
                let mut rows = vec![0.0f32; (last - first) * points];
                distances.scan(first..last, &mut |query, first_point, chunk| {
                    let start = (query - first) * points + first_point;
                    rows[start..start + chunk.len()].copy_from_slice(chunk);
                });
                (first..last)
                    .map(|i| {
                        let row = &rows[(i - first) * points..(i - first + 1) * points];
                        let strangers = &map_neighbours[i * k..(i + 1) * k];
                        rank_penalty(row, i, strangers, k)
                    })
                    .sum::<u64>()
            })
            .sum::<u64>();
    }
    let (n, k) = (points as f64, k as f64);
    Ok(1.0 - 2.0 / (n * k * (2.0 * n - 3.0 * k - 1.0)) * penalty as f64)
}

/// `Σ_j max(0, r(i, j) − k)` over i's map neighbours `candidates`, from i's row of input
/// distances: `r(i, j) = 1 + #{l ≠ i : d_il < d_ij, or d_il = d_ij and l < j}`.
fn rank_penalty(row: &[f32], i: usize, candidates: &[u32], k: usize) -> u64 {
    let thresholds: Vec<(f32, usize)> = candidates
        .iter()
        .map(|&j| (row[j as usize], j as usize))
        .collect();
    let highest = thresholds
        .iter()
        .map(|&(d, _)| d)
        .fold(f32::NEG_INFINITY, f32::max);
    let mut closer = vec![0usize; thresholds.len()];
    for (l, &d) in row.iter().enumerate() {
        if d > highest || l == i {
            continue;
        }
        for (count, &(t, j)) in closer.iter_mut().zip(&thresholds) {
            if d < t || (d == t && l < j) {
                *count += 1;
            }
        }
    }
    closer
        .iter()
        .map(|&c| (c + 1).saturating_sub(k) as u64)
        .sum()
}

/// Every point's `k` nearest other points on the map (`[points, 2]`): `[points, k]` row-major.
/// A sweep over the points sorted by the first coordinate stops once that coordinate alone is
/// farther than the k-th best distance.
fn map_neighbours(map: ArrayView2<f32>, k: usize) -> Vec<u32> {
    let points = map.nrows();
    let xy: Vec<[f64; 2]> = map
        .rows()
        .into_iter()
        .map(|r| [f64::from(r[0]), f64::from(r[1])])
        .collect();
    let mut order: Vec<usize> = (0..points).collect();
    order.sort_by(|&a, &b| xy[a][0].total_cmp(&xy[b][0]).then(a.cmp(&b)));
    let mut position = vec![0usize; points];
    for (p, &i) in order.iter().enumerate() {
        position[i] = p;
    }
    let mut out = vec![0u32; points * k];
    out.par_chunks_mut(k).enumerate().for_each(|(i, out)| {
        // (squared distance, index), ascending; ties to the lower index.
        let mut best: Vec<(f64, usize)> = Vec::with_capacity(k + 1);
        let consider = |j: usize, best: &mut Vec<(f64, usize)>| {
            let (dx, dy) = (xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]);
            let candidate = (dx * dx + dy * dy, j);
            if best.len() < k || candidate < best[k - 1] {
                let at = best.partition_point(|b| *b < candidate);
                best.insert(at, candidate);
                best.truncate(k);
            }
        };
        let worst = |best: &Vec<(f64, usize)>| {
            if best.len() < k {
                f64::INFINITY
            } else {
                best[k - 1].0
            }
        };
        let here = position[i];
        let (mut left, mut right) = (here, here + 1);
        loop {
            let gap = |p: usize| {
                let dx = xy[order[p]][0] - xy[i][0];
                dx * dx
            };
            let left_open = left > 0 && gap(left - 1) <= worst(&best);
            let right_open = right < points && gap(right) <= worst(&best);
            if !left_open && !right_open {
                break;
            }
            if left_open {
                left -= 1;
                consider(order[left], &mut best);
            }
            if right_open {
                consider(order[right], &mut best);
                right += 1;
            }
        }
        for (o, &(_, j)) in out.iter_mut().zip(&best) {
            *o = j as u32;
        }
    });
    out
}
