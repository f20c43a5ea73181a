//! Exact nearest neighbours by brute force: squared Euclidean distances of a block of query
//! rows to every point, as `|q|² + |x|² − 2·q·x` with the dot products from a GEMM
//! (`convnet::matmul`), column chunk by column chunk.
//!
//! Why brute force rather than a vantage-point tree (bhtsne's choice): on 40-dimensional
//! factors a VP-tree prunes little, while the GEMM runs near the machine's peak; 100k points
//! take seconds. Approximate methods (openTSNE's Annoy) would be faster still at 1M points but
//! change the affinities; exactness keeps the map a function of the data alone.

use std::ops::Range;
use std::sync::atomic::AtomicBool;

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::{check_cancel, TsneError};
use crate::convnet::matmul::{matmul, MatrixView};

/// Query rows per task: large enough for an efficient GEMM, small enough that a wave of tasks
/// reports progress and notices cancellation often.
const QUERY_BLOCK: usize = 128;
/// Points per GEMM call: a `QUERY_BLOCK × COLUMN_CHUNK` block of distances stays in L2.
const COLUMN_CHUNK: usize = 2048;

/// Every point's `k` nearest other points, nearest first (ties: lower index first).
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    pub k: usize,
    /// `[points, k]`, row-major: the neighbours' row indices.
    pub indices: Vec<u32>,
    /// `[points, k]`: squared Euclidean distances, ascending along each row.
    pub squared_distances: Vec<f32>,
}

impl Neighbours {
    pub fn points(&self) -> usize {
        self.indices.len().checked_div(self.k).unwrap_or(0)
    }

    /// Point `row`'s neighbour indices and squared distances.
    pub fn row(&self, row: usize) -> (&[u32], &[f32]) {
        let span = row * self.k..(row + 1) * self.k;
        (&self.indices[span.clone()], &self.squared_distances[span])
    }
}

/// Squared distances from any rows of a data matrix to all of its rows, in blocks.
pub struct SquaredDistances {
    /// `[points, dims]`, row-major.
    data: Vec<f32>,
    dims: usize,
    /// `|x|²` of every row.
    norms: Vec<f32>,
}

impl SquaredDistances {
    /// data: `[points, dims]`.
    pub fn new(data: ArrayView2<f32>) -> Self {
        let dims = data.ncols();
        let data: Vec<f32> = data.iter().copied().collect();
        let norms = if dims == 0 {
            vec![0.0; data.len()]
        } else {
            data.chunks_exact(dims)
                .map(|row| row.iter().map(|v| v * v).sum())
                .collect()
        };
        Self { data, dims, norms }
    }

    pub fn points(&self) -> usize {
        self.norms.len()
    }

    /// Calls `visit(query, first_point, distances)` for every row in `queries` and every chunk
    /// of points in order, `distances[c]` being the squared distance from `query` to point
    /// `first_point + c` (clamped at 0 against rounding). Runs on this thread.
    pub fn scan(&self, queries: Range<usize>, visit: &mut dyn FnMut(usize, usize, &[f32])) {
        let points = self.points();
        let rows = queries.len();
        if rows == 0 {
            return;
        }
        let lhs = MatrixView::contiguous(
            &self.data[queries.start * self.dims..queries.end * self.dims],
            rows,
            self.dims,
        );
        let mut block = vec![0.0f32; rows * COLUMN_CHUNK.min(points)];
        for first in (0..points).step_by(COLUMN_CHUNK) {
            let columns = COLUMN_CHUNK.min(points - first);
            let rhs = MatrixView::contiguous(
                &self.data[first * self.dims..(first + columns) * self.dims],
                columns,
                self.dims,
            )
            .t();
            let dots = &mut block[..rows * columns];
            matmul(dots, columns, 1, lhs, rhs, false, 1);
            let point_norms = &self.norms[first..first + columns];
            for (offset, row) in dots.chunks_exact_mut(columns).enumerate() {
                let query = queries.start + offset;
                let query_norm = self.norms[query];
                for (d, &norm) in row.iter_mut().zip(point_norms) {
                    *d = (query_norm + norm - 2.0 * *d).max(0.0);
                }
                visit(query, first, row);
            }
        }
    }
}

/// The `k` nearest neighbours of every row of `data` (`[points, dims]`), excluding itself;
/// `k < points`. `progress(rows_done)` after each wave of blocks, on the calling thread;
/// `cancel` checked between waves. Parallel over blocks of query rows in `pool`.
pub fn nearest_neighbours(
    data: ArrayView2<f32>,
    k: usize,
    pool: &rayon::ThreadPool,
    progress: &mut dyn FnMut(usize),
    cancel: &AtomicBool,
) -> Result<Neighbours, TsneError> {
    let distances = SquaredDistances::new(data);
    let points = distances.points();
    let k = k.min(points.saturating_sub(1));
    let mut indices = vec![0u32; points * k];
    let mut squared = vec![0.0f32; points * k];
    if k == 0 {
        return Ok(Neighbours {
            k,
            indices,
            squared_distances: squared,
        });
    }
    let wave_rows = QUERY_BLOCK * 4 * pool.current_num_threads();
    for wave_start in (0..points).step_by(wave_rows) {
        check_cancel(cancel)?;
        let wave_end = (wave_start + wave_rows).min(points);
        let wave_indices = &mut indices[wave_start * k..wave_end * k];
        let wave_squared = &mut squared[wave_start * k..wave_end * k];
        pool.install(|| {
            search_wave(&distances, wave_start, k, wave_indices, wave_squared);
        });
        progress(wave_end);
    }
    Ok(Neighbours {
        k,
        indices,
        squared_distances: squared,
    })
}

/// The neighbours of the rows from `first_row` on that `indices` and `squared` (`[rows, k]`)
/// hold, in parallel over blocks of rows.
fn search_wave(
    distances: &SquaredDistances,
    first_row: usize,
    k: usize,
    indices: &mut [u32],
    squared: &mut [f32],
) {
    indices
        .par_chunks_mut(QUERY_BLOCK * k)
        .zip(squared.par_chunks_mut(QUERY_BLOCK * k))
        .enumerate()
        .for_each(|(block, (block_indices, block_squared))| {
            let first = first_row + block * QUERY_BLOCK;
            let rows = block_indices.len() / k;
            let mut best: Vec<Nearest> = (0..rows).map(|_| Nearest::new(k)).collect();
            distances.scan(first..first + rows, &mut |query, first_point, row| {
                let nearest = &mut best[query - first];
                for (offset, &d) in row.iter().enumerate() {
                    let point = first_point + offset;
                    if d < nearest.worst() && point != query {
                        nearest.insert(d, point as u32);
                    }
                }
            });
            for (r, nearest) in best.iter().enumerate() {
                block_indices[r * k..(r + 1) * k].copy_from_slice(&nearest.indices);
                block_squared[r * k..(r + 1) * k].copy_from_slice(&nearest.distances);
            }
        });
}

/// The `k` smallest distances seen so far, sorted ascending (a sorted array: inserts are rare
/// once it has filled, so the O(k) shift costs less than a heap's bookkeeping).
struct Nearest {
    distances: Vec<f32>,
    indices: Vec<u32>,
}

impl Nearest {
    fn new(k: usize) -> Self {
        Self {
            distances: vec![f32::INFINITY; k],
            indices: vec![u32::MAX; k],
        }
    }

    fn worst(&self) -> f32 {
        self.distances[self.distances.len() - 1]
    }

    /// Inserts a candidate closer than the worst kept. Candidates arrive in increasing index
    /// order, so placing it after equal distances keeps ties in index order.
    fn insert(&mut self, distance: f32, index: u32) {
        let at = self.distances.partition_point(|&d| d <= distance);
        let last = self.distances.len() - 1;
        self.distances.copy_within(at..last, at + 1);
        self.indices.copy_within(at..last, at + 1);
        self.distances[at] = distance;
        self.indices[at] = index;
    }
}
