//! `deepcuts bench tsne`: maps of clustered synthetic points, timed, with peak memory and
//! trustworthiness; the same points go to `bench/tsne_peers.py` (openTSNE, scikit-learn) as
//! `.npy`, and the `bhtsne` crate can run beside this implementation for the comparison that
//! decided to replace it.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use ndarray::{Array2, ArrayView2};
use rand::{Rng, SeedableRng};

use super::trustworthiness::{trustworthiness, TrustworthinessError};
use super::{embed, TsneError, TsneParams, TsneProgress};
use crate::bench::{peak_rss_bytes, reset_peak_rss};

/// The neighbourhood size of the reported trustworthiness.
pub const TRUSTWORTHINESS_K: usize = 10;

/// Synthetic factor-like data: Gaussian clusters of unequal sizes and widths.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusteredPoints {
    pub points: usize,
    pub dims: usize,
    pub clusters: usize,
    pub seed: u64,
}

impl Default for ClusteredPoints {
    fn default() -> Self {
        Self {
            points: 10_000,
            dims: 40,
            clusters: 20,
            seed: 2014,
        }
    }
}

impl ClusteredPoints {
    /// `[points, dims]`: cluster centres are standard normal in every dimension, each cluster's
    /// spread is uniform in [0.5, 1.5] per dimension, so neighbouring clusters overlap a little
    /// (a map cannot be perfect), and cluster sizes vary by up to 3×.
    pub fn generate(&self) -> Array2<f32> {
        let mut rng = rand::rngs::StdRng::seed_from_u64(self.seed);
        let clusters = self.clusters.max(1);
        let normal = |rng: &mut rand::rngs::StdRng| -> f64 {
            let u: f64 = 1.0 - rng.random::<f64>();
            let v: f64 = rng.random::<f64>();
            (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
        };
        let centres: Vec<Vec<f64>> = (0..clusters)
            .map(|_| (0..self.dims).map(|_| normal(&mut rng)).collect())
            .collect();
        let spreads: Vec<f64> = (0..clusters).map(|_| rng.random_range(0.5..1.5)).collect();
        let weights: Vec<f64> = (0..clusters).map(|_| rng.random_range(1.0..3.0)).collect();
        let total: f64 = weights.iter().sum();
        let mut data = Array2::zeros((self.points, self.dims));
        for mut row in data.rows_mut() {
            let mut pick = rng.random::<f64>() * total;
            let cluster = weights
                .iter()
                .position(|&w| {
                    pick -= w;
                    pick < 0.0
                })
                .unwrap_or(clusters - 1);
            for (v, &c) in row.iter_mut().zip(&centres[cluster]) {
                *v = (c + spreads[cluster] * normal(&mut rng)) as f32;
            }
        }
        data
    }
}

/// One method's figures.
#[derive(Debug, Clone, PartialEq)]
pub struct MapFigures {
    pub method: String,
    pub map: Array2<f32>,
    /// Wall time of the whole map (neighbours included).
    pub secs: f64,
    /// Peak resident memory of the process during the run (bytes), where measurable.
    pub peak_rss_bytes: Option<u64>,
    pub trustworthiness: f64,
}

/// Why a benchmark stopped.
#[derive(Debug, thiserror::Error)]
pub enum TsneBenchError {
    #[error(transparent)]
    Tsne(#[from] TsneError),
    #[error("trustworthiness: {0}")]
    Trustworthiness(#[from] TrustworthinessError),
}

/// Maps `data` with this crate's t-SNE and scores it.
pub fn run_deepcuts(
    data: ArrayView2<f32>,
    params: &TsneParams,
    progress: &mut dyn FnMut(TsneProgress),
    cancel: &AtomicBool,
) -> Result<MapFigures, TsneBenchError> {
    measure("deepcuts", data, cancel, || {
        embed(data, params, progress, cancel)
    })
}

/// How the `bhtsne` crate computes repulsion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BhtsneMethod {
    /// Barnes-Hut, θ = 0.5.
    BarnesHut,
    /// FIt-SNE interpolation.
    Interpolation,
}

/// Maps `data` with the `bhtsne` crate (its vantage-point tree, random initialisation and
/// default learning rate) and scores it. It cannot be cancelled once started.
pub fn run_bhtsne(
    data: ArrayView2<f32>,
    params: &TsneParams,
    method: BhtsneMethod,
    cancel: &AtomicBool,
) -> Result<MapFigures, TsneBenchError> {
    let name = match method {
        BhtsneMethod::BarnesHut => "bhtsne (Barnes-Hut)",
        BhtsneMethod::Interpolation => "bhtsne (FIt-SNE)",
    };
    let rows: Vec<Vec<f32>> = data.rows().into_iter().map(|r| r.to_vec()).collect();
    let samples: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let pool = super::thread_pool(params.threads)?;
    measure(name, data, cancel, || {
        let euclidean = |a: &&[f32], b: &&[f32]| -> f32 {
            a.iter()
                .zip(b.iter())
                .map(|(x, y)| (x - y) * (x - y))
                .sum::<f32>()
                .sqrt()
        };
        let flat = pool.install(|| {
            let mut tsne = bhtsne::tSNE::<f32, &[f32], 2>::new(&samples);
            tsne.perplexity(params.perplexity as f32)
                .epochs(params.iterations);
            match method {
                BhtsneMethod::BarnesHut => tsne.barnes_hut(0.5, euclidean),
                BhtsneMethod::Interpolation => tsne.fit_sne(euclidean),
            };
            tsne.embedding()
        });
        Ok(Array2::from_shape_fn((samples.len(), 2), |(i, a)| {
            flat[2 * i + a]
        }))
    })
}

/// Times `compute`, records the peak memory it reached, then scores its map (untimed, on all
/// cores).
fn measure(
    method: &str,
    data: ArrayView2<f32>,
    cancel: &AtomicBool,
    compute: impl FnOnce() -> Result<Array2<f32>, TsneError>,
) -> Result<MapFigures, TsneBenchError> {
    let peak_measurable = reset_peak_rss();
    let start = Instant::now();
    let map = compute()?;
    let secs = start.elapsed().as_secs_f64();
    let peak_rss_bytes = peak_rss_bytes().filter(|_| peak_measurable);
    let trustworthiness = trustworthiness(data, map.view(), TRUSTWORTHINESS_K, cancel)?;
    Ok(MapFigures {
        method: method.to_owned(),
        map,
        secs,
        peak_rss_bytes,
        trustworthiness,
    })
}
