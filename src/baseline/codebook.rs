//! The codebook of the bag of words: k-means (Lloyd's iterations from a k-means++ start,
//! seeded, parallel over blocks of points). Distances go through a matrix product,
//! `‖x − c‖² = ‖x‖² − 2 x·c + ‖c‖²`, so assigning a whole excerpt is one small matmul.

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::BaselineError;

/// Points handled together in one matmul.
const BLOCK_ROWS: usize = 512;

/// k codewords in the space of (standardised) frame features.
#[derive(Debug, Clone)]
pub struct Codebook {
    /// `[k, dim]`
    centroids: Array2<f32>,
    /// `[k]`: ‖c‖² of each centroid.
    sq_norms: Array1<f32>,
}

/// The outcome of [`kmeans`].
#[derive(Debug, Clone)]
pub struct KMeansFit {
    pub codebook: Codebook,
    /// Lloyd iterations run.
    pub iterations: usize,
    /// Whether the assignments stopped changing before `max_iterations`.
    pub converged: bool,
}

impl Codebook {
    /// centroids: `[k, dim]`, k ≥ 1.
    pub fn new(centroids: Array2<f32>) -> Self {
        let sq_norms = centroids.map_axis(Axis(1), |c| c.dot(&c));
        Self {
            centroids,
            sq_norms,
        }
    }

    /// `[k, dim]`
    pub fn centroids(&self) -> ArrayView2<'_, f32> {
        self.centroids.view()
    }

    /// Number of codewords.
    pub fn len(&self) -> usize {
        self.centroids.nrows()
    }

    /// Whether the codebook has no codewords (never true for one made by [`kmeans`]).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Feature dimension.
    pub fn dim(&self) -> usize {
        self.centroids.ncols()
    }

    /// The nearest codeword of every point (ties go to the lowest index).
    /// points: `[n, dim]` → `[n]`.
    pub fn assign(&self, points: ArrayView2<f32>) -> Vec<u32> {
        let mut labels = vec![0u32; points.nrows()];
        let mut sq_distances = vec![0f32; points.nrows()];
        self.assign_into(points, &mut labels, &mut sq_distances);
        labels
    }

    /// Nearest codeword and squared distance to it, for every point, in parallel by blocks.
    fn assign_into(&self, points: ArrayView2<f32>, labels: &mut [u32], sq_distances: &mut [f32]) {
        labels
            .par_chunks_mut(BLOCK_ROWS)
            .zip(sq_distances.par_chunks_mut(BLOCK_ROWS))
            .enumerate()
            .for_each(|(block, (labels, sq_distances))| {
                let start = block * BLOCK_ROWS;
                let rows = points.slice(s![start..start + labels.len(), ..]);
                let mut dots = rows.dot(&self.centroids.t());
                for (i, mut partial) in dots.outer_iter_mut().enumerate() {
                    // ‖c‖² − 2 x·c: the squared distance less ‖x‖², which all c share.
                    partial.zip_mut_with(&self.sq_norms, |d, &norm| *d = norm - 2.0 * *d);
                    let row = rows.row(i);
                    let (best, partial) = argmin(
                        partial
                            .as_slice()
                            .expect("a row of a fresh matmul result is contiguous"),
                    );
                    labels[i] = best;
                    sq_distances[i] = (row.dot(&row) + partial).max(0.0);
                }
            });
    }
}

/// Index and value of the smallest entry (the first on ties; `(0, ∞)` when empty). Two
/// passes that both vectorise: the minimum over eight running lanes, then the first block of
/// eight that holds it.
fn argmin(values: &[f32]) -> (u32, f32) {
    const LANES: usize = 8;
    let smaller = |a: f32, b: f32| if b < a { b } else { a };
    let mut lanes = [f32::INFINITY; LANES];
    let chunks = values.chunks_exact(LANES);
    let tail = chunks.remainder();
    for chunk in chunks.clone() {
        let chunk: &[f32; LANES] = chunk.try_into().expect("chunks_exact gives LANES values");
        for lane in 0..LANES {
            lanes[lane] = smaller(lanes[lane], chunk[lane]);
        }
    }
    let min = lanes
        .iter()
        .chain(tail)
        .copied()
        .fold(f32::INFINITY, smaller);
    let block = chunks
        .clone()
        .position(|chunk| chunk.iter().fold(false, |hit, &v| hit | (v == min)))
        .unwrap_or(values.len() / LANES);
    let index = values[block * LANES..]
        .iter()
        .position(|&v| v == min)
        .map_or(0, |i| block * LANES + i);
    (index as u32, min)
}

/// Squared Euclidean distance, in eight independent partial sums so that it vectorises.
fn sq_distance(a: &[f32], b: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut sums = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    for (x, y) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            let d = x[lane] - y[lane];
            sums[lane] += d * d;
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// k-means++ seeding (Arthur & Vassilvitskii 2007): each next centre is a point drawn with
/// probability proportional to its squared distance from the centres chosen so far.
/// points: `[n, dim]`, standard layout → `[k, dim]`.
fn kmeans_plus_plus(points: ArrayView2<f32>, k: usize, rng: &mut StdRng) -> Array2<f32> {
    let n = points.nrows();
    let flat = points
        .as_slice()
        .expect("kmeans passes points in standard layout");
    let dim = points.ncols();
    let point = |i: usize| &flat[i * dim..(i + 1) * dim];
    let mut centroids = Array2::zeros((k, dim));
    let mut chosen = rng.random_range(0..n);
    let mut nearest = vec![f32::INFINITY; n];
    for c in 0..k {
        if c > 0 {
            let total: f64 = nearest.iter().map(|&d| d as f64).sum();
            chosen = if total > 0.0 {
                let mut target = rng.random::<f64>() * total;
                // The last point with a positive distance absorbs rounding at the end.
                let mut pick = nearest.iter().rposition(|&d| d > 0.0).unwrap_or(0);
                for (i, &d) in nearest.iter().enumerate() {
                    if d > 0.0 && target < d as f64 {
                        pick = i;
                        break;
                    }
                    target -= d as f64;
                }
                pick
            } else {
                // Every point sits on a centre already (fewer distinct points than k).
                rng.random_range(0..n)
            };
        }
        let centre = point(chosen);
        centroids.row_mut(c).assign(&ndarray::aview1(centre));
        nearest
            .par_chunks_mut(BLOCK_ROWS)
            .enumerate()
            .for_each(|(block, nearest)| {
                for (i, d) in nearest.iter_mut().enumerate() {
                    *d = d.min(sq_distance(point(block * BLOCK_ROWS + i), centre));
                }
            });
    }
    centroids
}

/// Clusters `points` into `k` codewords: k-means++ seeding from `seed`, then Lloyd's
/// iterations until no assignment changes or `max_iterations` have run. A cluster left empty
/// takes the point farthest from its centroid. `progress(iteration, max_iterations)` after
/// each iteration; `cancel` is checked between iterations.
/// points: `[n, dim]`, n ≥ k ≥ 1.
pub fn kmeans(
    points: ArrayView2<f32>,
    k: usize,
    max_iterations: usize,
    seed: u64,
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<KMeansFit, BaselineError> {
    let n = points.nrows();
    if k == 0 || n < k {
        return Err(BaselineError::TooFewFrames {
            frames: n,
            needed: k.max(1),
        });
    }
    let points = points.as_standard_layout();
    let mut rng = StdRng::seed_from_u64(seed);
    let mut codebook = Codebook::new(kmeans_plus_plus(points.view(), k, &mut rng));
    let mut labels = vec![u32::MAX; n];
    let mut next = vec![0u32; n];
    let mut sq_distances = vec![0f32; n];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < max_iterations {
        if cancel.load(Ordering::Relaxed) {
            return Err(BaselineError::Cancelled);
        }
        codebook.assign_into(points.view(), &mut next, &mut sq_distances);
        if next == labels {
            converged = true;
            break;
        }
        std::mem::swap(&mut labels, &mut next);
        iterations += 1;
        codebook = Codebook::new(update_centroids(
            points.view(),
            &mut labels,
            &mut sq_distances,
            k,
        ));
        progress(iterations, max_iterations);
    }
    Ok(KMeansFit {
        codebook,
        iterations,
        converged,
    })
}

/// The mean of each cluster's points; an empty cluster is moved onto the point farthest from
/// its centroid (which then joins it, so the same point is never taken twice). Parallel over
/// clusters, each summed in point order, so the result does not depend on thread scheduling.
/// points: `[n, dim]`; labels, sq_distances: `[n]` → `[k, dim]`.
fn update_centroids(
    points: ArrayView2<f32>,
    labels: &mut [u32],
    sq_distances: &mut [f32],
    k: usize,
) -> Array2<f32> {
    let dim = points.ncols();
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &label) in labels.iter().enumerate() {
        members[label as usize].push(i);
    }
    let means: Vec<Vec<f32>> = members
        .par_iter()
        .map(|members| {
            let mut sum = vec![0f64; dim];
            for &i in members {
                for (s, &x) in sum.iter_mut().zip(points.row(i)) {
                    *s += x as f64;
                }
            }
            let count = members.len().max(1) as f64;
            sum.into_iter().map(|s| (s / count) as f32).collect()
        })
        .collect();
    let mut centroids = Array2::from_shape_fn((k, dim), |(c, j)| means[c][j]);
    let empty: Vec<usize> = (0..k).filter(|&c| members[c].is_empty()).collect();
    if !empty.is_empty() {
        let mut farthest: Vec<usize> = (0..points.nrows()).collect();
        farthest.sort_by(|&a, &b| sq_distances[b].total_cmp(&sq_distances[a]));
        for (&c, &i) in empty.iter().zip(&farthest) {
            centroids.row_mut(c).assign(&points.row(i));
            labels[i] = c as u32;
            sq_distances[i] = 0.0;
        }
    }
    centroids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squared_distance_matches_the_definition() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| (i * i) as f32 * 0.1).collect();
        let want: f64 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| ((x - y) as f64).powi(2))
            .sum();
        assert!((sq_distance(&a, &b) as f64 - want).abs() < 1e-3 * want);
        assert_eq!(sq_distance(&[1.0, 2.0], &[4.0, 6.0]), 25.0);
    }

    #[test]
    fn argmin_takes_the_first_of_equal_minima() {
        assert_eq!(argmin(&[]), (0, f32::INFINITY));
        assert_eq!(argmin(&[3.0, 1.0, 2.0]), (1, 1.0));
        let mut values = vec![5.0f32; 37];
        values[29] = -1.0;
        values[13] = -1.0;
        values[36] = -1.0;
        assert_eq!(argmin(&values), (13, -1.0));
        values[36] = -2.0;
        assert_eq!(argmin(&values), (36, -2.0));
    }

    #[test]
    fn assignment_matches_a_brute_force_nearest_search() {
        let mut rng = StdRng::seed_from_u64(3);
        let points = Array2::from_shape_fn((1500, 7), |_| rng.random_range(-2.0f32..2.0));
        let centroids = Array2::from_shape_fn((13, 7), |_| rng.random_range(-2.0f32..2.0));
        let labels = Codebook::new(centroids.clone()).assign(points.view());
        for (i, row) in points.outer_iter().enumerate() {
            let distances: Vec<f32> = centroids
                .outer_iter()
                .map(|c| sq_distance(row.as_slice().unwrap(), c.as_slice().unwrap()))
                .collect();
            let best = distances[labels[i] as usize];
            assert!(distances.iter().all(|&d| best <= d + 1e-4), "point {i}");
        }
    }

    #[test]
    fn fewer_points_than_clusters_is_an_error_and_cancel_stops() {
        let points = Array2::<f32>::zeros((3, 2));
        let cancel = AtomicBool::new(false);
        let err = kmeans(points.view(), 4, 10, 0, &mut |_, _| {}, &cancel).unwrap_err();
        assert!(matches!(err, BaselineError::TooFewFrames { frames: 3, .. }));
        let cancel = AtomicBool::new(true);
        let err = kmeans(points.view(), 2, 10, 0, &mut |_, _| {}, &cancel).unwrap_err();
        assert!(matches!(err, BaselineError::Cancelled));
    }

    #[test]
    fn identical_points_fill_every_cluster_without_failing() {
        // Fewer distinct points than clusters: seeding and empty-cluster repair must cope.
        let points = Array2::from_shape_fn((10, 2), |(i, _)| (i % 2) as f32);
        let cancel = AtomicBool::new(false);
        let fit = kmeans(points.view(), 4, 10, 1, &mut |_, _| {}, &cancel).unwrap();
        assert_eq!(fit.codebook.len(), 4);
        for c in fit.codebook.centroids().iter() {
            assert!(*c == 0.0 || *c == 1.0, "{c}");
        }
    }
}
