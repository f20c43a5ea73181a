//! Gradient descent as openTSNE 1.0 runs it: two phases (early exaggeration, then none), each
//! starting with zero momentum buffer and unit gains; momentum 0.8; delta-bar-delta gains
//! (+0.2 when the gradient flips sign against the last update, ×0.8 otherwise, at least 0.01);
//! learning rate points / exaggeration unless given; each point's step clipped to length 5;
//! the map re-centred after every step.

use std::sync::atomic::AtomicBool;

use rayon::prelude::*;

use super::affinities::JointAffinities;
use super::gradient::{kl_divergence, Gradient};
use super::{check_cancel, TsneError, TsneParams, TsneProgress};

const MOMENTUM: f64 = 0.8;
const MIN_GAIN: f64 = 0.01;
const MAX_STEP: f64 = 5.0;
/// How often the KL divergence is reported (it costs a logarithm per nonzero of P).
const KL_EVERY: usize = 50;
/// Points per task (fixed: deterministic reductions).
const POINT_CHUNK: usize = 4096;

/// Runs `params.iterations` steps from `start` (`[points, 2]` row-major) in `pool` and returns
/// the map.
pub fn optimise(
    start: Vec<f64>,
    p: &JointAffinities,
    params: &TsneParams,
    pool: &rayon::ThreadPool,
    progress: &mut dyn FnMut(TsneProgress),
    cancel: &AtomicBool,
) -> Result<Vec<f64>, TsneError> {
    let points = start.len() / 2;
    let mut y = start;
    let mut gradient = vec![0.0f64; y.len()];
    let mut update = vec![0.0f64; y.len()];
    let mut gains = vec![1.0f64; y.len()];
    let mut evaluator = Gradient::new();
    let exaggerated = params.exaggeration_iterations.min(params.iterations);
    for iteration in 0..params.iterations {
        check_cancel(cancel)?;
        let exaggeration = if iteration < exaggerated {
            params.early_exaggeration
        } else {
            1.0
        };
        if iteration == exaggerated {
            // openTSNE's second phase starts afresh.
            update.fill(0.0);
            gains.fill(1.0);
        }
        let learning_rate = params.learning_rate.unwrap_or(points as f64 / exaggeration);
        let done = iteration + 1;
        let report_kl = done % KL_EVERY == 0 || done == params.iterations;
        let kl_divergence = pool.install(|| {
            let z = evaluator.compute(&y, p, exaggeration, &mut gradient);
            let kl = report_kl.then(|| kl_divergence(&y, p, z));
            step(&mut y, &gradient, &mut update, &mut gains, learning_rate);
            recentre(&mut y);
            kl
        });
        progress(TsneProgress::Iteration {
            done,
            iterations: params.iterations,
            kl_divergence,
        });
    }
    Ok(y)
}

/// One update with momentum, gains and step clipping.
fn step(y: &mut [f64], gradient: &[f64], update: &mut [f64], gains: &mut [f64], rate: f64) {
    y.par_chunks_mut(2 * POINT_CHUNK)
        .zip(gradient.par_chunks(2 * POINT_CHUNK))
        .zip(update.par_chunks_mut(2 * POINT_CHUNK))
        .zip(gains.par_chunks_mut(2 * POINT_CHUNK))
        .for_each(|(((y, gradient), update), gains)| {
            for (((y, g), u), gain) in y
                .chunks_exact_mut(2)
                .zip(gradient.chunks_exact(2))
                .zip(update.chunks_exact_mut(2))
                .zip(gains.chunks_exact_mut(2))
            {
                for axis in 0..2 {
                    gain[axis] = if sign(g[axis]) != sign(u[axis]) {
                        gain[axis] + 0.2
                    } else {
                        gain[axis] * 0.8 + MIN_GAIN
                    };
                    u[axis] = MOMENTUM * u[axis] - rate * gain[axis] * g[axis];
                }
                // Not `hypot`: a libm call per point, and no overflow to guard against here.
                let norm = (u[0] * u[0] + u[1] * u[1]).sqrt();
                if norm > MAX_STEP {
                    u[0] *= MAX_STEP / norm;
                    u[1] *= MAX_STEP / norm;
                }
                y[0] += u[0];
                y[1] += u[1];
            }
        });
}

/// −1, 0 or 1, as numpy's `sign` (a zero update differs from any nonzero gradient).
fn sign(v: f64) -> i8 {
    i8::from(v > 0.0) - i8::from(v < 0.0)
}

/// Subtracts the mean (summed in fixed chunks, in order).
fn recentre(y: &mut [f64]) {
    let points = (y.len() / 2).max(1) as f64;
    let partial: Vec<[f64; 2]> = y
        .par_chunks(2 * POINT_CHUNK)
        .map(|chunk| {
            chunk
                .chunks_exact(2)
                .fold([0.0, 0.0], |s, v| [s[0] + v[0], s[1] + v[1]])
        })
        .collect();
    let sum = partial
        .iter()
        .fold([0.0, 0.0], |s, v| [s[0] + v[0], s[1] + v[1]]);
    let mean = [sum[0] / points, sum[1] / points];
    y.par_chunks_mut(2).for_each(|v| {
        v[0] -= mean[0];
        v[1] -= mean[1];
    });
}
