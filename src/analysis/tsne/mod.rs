//! t-SNE maps (van der Maaten & Hinton 2008) of factor vectors, as openTSNE computes them by
//! default (Poličar et al.; Linderman et al. 2019's FFT-accelerated interpolation), with exact
//! nearest neighbours:
//!
//! 1. [`neighbours`]: the exact `3·perplexity` nearest neighbours of every point, by blocked
//!    GEMM (squared Euclidean distances);
//! 2. [`affinities`]: Gaussian conditional probabilities calibrated to the perplexity by
//!    bisection, symmetrised into a sparse joint distribution P;
//! 3. [`init`]: PCA initialisation scaled to a standard deviation of 1e-4 on the first axis,
//!    plus a seeded jitter of 1e-6;
//! 4. [`optimiser`]: gradient descent with momentum and per-coordinate gains, early
//!    exaggeration first, the [`gradient`] computed with attractive forces over P's nonzeros and
//!    repulsive forces by polynomial interpolation on a grid and FFT convolution
//!    ([`interpolation`]), O(N) per iteration.
//!
//! Why not the `bhtsne` crate the design names: it has the same algorithms (and its FIt-SNE
//! mode was the model for ours), but it cannot be cancelled mid-run, panics on bad input, and
//! seeds a random initialisation; `deepcuts bench tsne --bhtsne` measures it beside this code.
//!
//! [`trustworthiness`] measures how well a map keeps each point's neighbours (Venna & Kaski).
//! Every step is deterministic for a seed: parallel work is split into fixed chunks and reduced
//! in a fixed order, so the thread count does not change the result either.

pub mod affinities;
pub mod bench;
pub mod gradient;
pub mod init;
pub mod interpolation;
pub mod neighbours;
pub mod optimiser;
pub mod stage;
pub mod trustworthiness;

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{Array2, ArrayView2};

/// How to compute a map. The defaults are openTSNE's, except `iterations` (openTSNE runs 750).
#[derive(Debug, Clone, PartialEq)]
pub struct TsneParams {
    /// The effective number of neighbours each point's Gaussian covers; `3·perplexity`
    /// nearest neighbours are used. At most `(points − 1) / 3` (see [`max_perplexity`]).
    pub perplexity: f64,
    /// Gradient-descent iterations in all, the early-exaggeration ones included.
    pub iterations: usize,
    /// The factor P is multiplied by during the first iterations, so clusters form first.
    pub early_exaggeration: f64,
    /// How many of the `iterations` use `early_exaggeration`.
    pub exaggeration_iterations: usize,
    /// Step size; `None`: openTSNE's "auto", points / exaggeration in each phase.
    pub learning_rate: Option<f64>,
    pub init: Init,
    /// Seeds the initial jitter (PCA) or the initial positions (random).
    pub seed: u64,
    /// Worker threads; 0: one per core.
    pub threads: usize,
}

impl Default for TsneParams {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            iterations: 1000,
            early_exaggeration: 12.0,
            exaggeration_iterations: 250,
            learning_rate: None,
            init: Init::Pca,
            seed: 1,
            threads: 0,
        }
    }
}

/// Where the points start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Init {
    /// The first two principal components, scaled to std 1e-4 on the first (openTSNE's
    /// default): keeps the global layout of the data and makes the map reproducible.
    Pca,
    /// Gaussian noise of std 1e-4 (the original recipe).
    Random,
}

/// Where a run is, for progress bars.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TsneProgress {
    /// `done` of `points` rows have their nearest neighbours.
    Neighbours { done: usize, points: usize },
    /// `done` of `iterations` gradient steps taken; every 50 iterations and after the last,
    /// `kl_divergence` (nats, of the unexaggerated P) of the map the last step started from.
    Iteration {
        done: usize,
        iterations: usize,
        kl_divergence: Option<f64>,
    },
}

/// Why a map could not be computed.
#[derive(Debug, thiserror::Error)]
pub enum TsneError {
    #[error("the computation was cancelled")]
    Cancelled,
    #[error("value at row {row}, column {column} is not finite ({value})")]
    NotFinite {
        row: usize,
        column: usize,
        value: f32,
    },
    #[error(
        "perplexity {perplexity} is too large for {points} points (at most {max:.2}: 3·perplexity \
         neighbours per point)"
    )]
    PerplexityTooLarge {
        perplexity: f64,
        points: usize,
        max: f64,
    },
    #[error("invalid parameter: {0}")]
    Parameter(String),
    #[error("cannot start {threads} worker threads: {reason}")]
    Threads { threads: usize, reason: String },
}

/// The largest usable perplexity for `points` points: `3·perplexity` neighbours must exist.
pub fn max_perplexity(points: usize) -> f64 {
    points.saturating_sub(1) as f64 / 3.0
}

/// Returns `Err(Cancelled)` once `cancel` is set: called at least once per iteration and per
/// block of neighbour rows.
fn check_cancel(cancel: &AtomicBool) -> Result<(), TsneError> {
    if cancel.load(Ordering::Relaxed) {
        Err(TsneError::Cancelled)
    } else {
        Ok(())
    }
}

/// The t-SNE map of `data` (`[points, dims]`, finite): `[points, 2]`, centred on the origin.
/// Deterministic for `params` (seed and threads included). `progress` is called on the calling
/// thread; `cancel` is checked at least once per iteration.
pub fn embed(
    data: ArrayView2<f32>,
    params: &TsneParams,
    progress: &mut dyn FnMut(TsneProgress),
    cancel: &AtomicBool,
) -> Result<Array2<f32>, TsneError> {
    validate(data, params)?;
    let points = data.nrows();
    if points < 2 {
        return Ok(Array2::zeros((points, 2)));
    }
    let pool = thread_pool(params.threads)?;
    // Stages run in `pool`; progress is reported from this thread between parallel sections.
    let neighbour_count = ((3.0 * params.perplexity) as usize).clamp(1, points - 1);
    let neighbours = neighbours::nearest_neighbours(
        data,
        neighbour_count,
        &pool,
        &mut |done| progress(TsneProgress::Neighbours { done, points }),
        cancel,
    )?;
    let joint = pool.install(|| {
        let conditional = affinities::conditional_probabilities(&neighbours, params.perplexity);
        affinities::symmetric_joint(&neighbours, &conditional)
    });
    drop(neighbours);
    check_cancel(cancel)?;
    let start = pool.install(|| init::initial_positions(data, params.init, params.seed));
    let map = optimiser::optimise(start, &joint, params, &pool, progress, cancel)?;
    Ok(Array2::from_shape_fn((points, 2), |(row, axis)| {
        map[2 * row + axis] as f32
    }))
}

/// Checks the input and the parameters before any work: every value finite, perplexity usable.
/// A pool of `threads` workers for one run (deterministic results need a fixed count).
pub(crate) fn thread_pool(threads: usize) -> Result<rayon::ThreadPool, TsneError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| TsneError::Threads {
            threads,
            reason: e.to_string(),
        })
}

fn validate(data: ArrayView2<f32>, params: &TsneParams) -> Result<(), TsneError> {
    if let Some(((row, column), &value)) = data.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(TsneError::NotFinite { row, column, value });
    }
    if !(params.perplexity.is_finite() && params.perplexity > 0.0) {
        return Err(TsneError::Parameter(format!(
            "perplexity must be positive, not {}",
            params.perplexity
        )));
    }
    let points = data.nrows();
    if points >= 2 && params.perplexity > max_perplexity(points) {
        return Err(TsneError::PerplexityTooLarge {
            perplexity: params.perplexity,
            points,
            max: max_perplexity(points),
        });
    }
    if !(params.early_exaggeration.is_finite() && params.early_exaggeration > 0.0) {
        return Err(TsneError::Parameter(format!(
            "early exaggeration must be positive, not {}",
            params.early_exaggeration
        )));
    }
    if let Some(rate) = params.learning_rate {
        if !(rate.is_finite() && rate > 0.0) {
            return Err(TsneError::Parameter(format!(
                "learning rate must be positive, not {rate}"
            )));
        }
    }
    Ok(())
}
