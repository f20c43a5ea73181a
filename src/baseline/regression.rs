//! Ridge regression from track features to the target factors, the regularisation chosen on
//! a validation split.
//!
//! Features are standardised with the training mean and standard deviation, targets centred,
//! and the intercept is not penalised: for standardised `Xs` and centred `Yc` (n rows) the
//! weights minimise `‖Xs·W − Yc‖² / n + λ‖W‖²`, i.e. solve `(XsᵀXs/n + λI) W = XsᵀYc/n` by
//! Cholesky. `XsᵀXs/n` has a unit diagonal, so λ means the same thing for every feature set.
//! The fitted map is folded back into the original feature units (`x·W + b`).

use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::{s, Array1, Array2, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::BaselineError;

/// Rows standardised at a time while accumulating the normal equations.
const CHUNK_ROWS: usize = 2048;

/// An affine map `x ↦ x·W + b` in the original feature units.
#[derive(Debug, Clone, PartialEq)]
pub struct LinearMap {
    /// `[dim, F]`
    pub weights: Array2<f32>,
    /// `[F]`
    pub bias: Array1<f32>,
}

impl LinearMap {
    /// x: `[n, dim]` → `[n, F]`.
    pub fn apply(&self, x: ArrayView2<f32>) -> Array2<f32> {
        x.dot(&self.weights) + &self.bias
    }
}

/// The normal equations of one training set in standardised units, built once and solved for
/// any number of λ.
#[derive(Debug, Clone)]
pub struct RidgeProblem {
    /// `[dim]`
    x_mean: Array1<f64>,
    /// `[dim]`: standard deviation, or 1 for a constant feature (which then stays 0).
    x_scale: Array1<f64>,
    /// `[F]`
    y_mean: Array1<f64>,
    /// `[dim, dim]`: XsᵀXs / n
    gram: Array2<f64>,
    /// `[dim, F]`: XsᵀYc / n
    cross: Array2<f64>,
}

impl RidgeProblem {
    /// x: `[n, dim]`, y: `[n, F]`, n ≥ 1.
    pub fn new(x: ArrayView2<f32>, y: ArrayView2<f32>) -> Result<Self, BaselineError> {
        let n = x.nrows();
        if n != y.nrows() {
            return Err(BaselineError::Config(format!(
                "{n} feature rows but {} target rows",
                y.nrows()
            )));
        }
        if n == 0 {
            return Err(BaselineError::TooFewTracks {
                split: "train",
                usable: 0,
                needed: 1,
            });
        }
        let to_f64 = |a: ArrayView2<f32>| a.mapv(|v| v as f64);
        let (dim, factors) = (x.ncols(), y.ncols());
        let x_mean = mean_rows(x);
        let y_mean = mean_rows(y);
        let mut x_var = Array1::<f64>::zeros(dim);
        for row in x.outer_iter() {
            x_var.zip_mut_with(&row, |v, &xi| *v += (xi as f64).powi(2));
        }
        let x_scale = (x_var / n as f64 - x_mean.mapv(|m| m * m)).mapv(|var| {
            let sd = var.max(0.0).sqrt();
            if sd > 1e-12 {
                sd
            } else {
                1.0
            }
        });
        let mut gram = Array2::<f64>::zeros((dim, dim));
        let mut cross = Array2::<f64>::zeros((dim, factors));
        for start in (0..n).step_by(CHUNK_ROWS) {
            let end = (start + CHUNK_ROWS).min(n);
            let xs = (to_f64(x.slice(s![start..end, ..])) - &x_mean) / &x_scale;
            let yc = to_f64(y.slice(s![start..end, ..])) - &y_mean;
            gram += &xs.t().dot(&xs);
            cross += &xs.t().dot(&yc);
        }
        gram /= n as f64;
        cross /= n as f64;
        Ok(Self {
            x_mean,
            x_scale,
            y_mean,
            gram,
            cross,
        })
    }

    /// The ridge solution for `lambda` ≥ 0, in original feature units.
    pub fn solve(&self, lambda: f64) -> Result<LinearMap, BaselineError> {
        let mut a = self.gram.clone();
        a.diag_mut().mapv_inplace(|d| d + lambda);
        let w = cholesky_solve(a, self.cross.clone()).ok_or(BaselineError::Singular { lambda })?;
        let weights = w / self.x_scale.view().insert_axis(Axis(1));
        let bias = &self.y_mean - &self.x_mean.dot(&weights);
        Ok(LinearMap {
            weights: weights.mapv(|v| v as f32),
            bias: bias.mapv(|v| v as f32),
        })
    }
}

/// Column means in f64. a: `[n, d]` → `[d]`.
fn mean_rows(a: ArrayView2<f32>) -> Array1<f64> {
    let mut sum = Array1::<f64>::zeros(a.ncols());
    for row in a.outer_iter() {
        sum.zip_mut_with(&row, |s, &v| *s += v as f64);
    }
    sum / a.nrows().max(1) as f64
}

/// Solves `A X = B` for symmetric positive definite `A` by Cholesky (`A = L Lᵀ`); `None`
/// when `A` is not positive definite. a: `[d, d]`, b: `[d, m]` → `[d, m]`.
fn cholesky_solve(mut a: Array2<f64>, mut b: Array2<f64>) -> Option<Array2<f64>> {
    let d = a.nrows();
    // Factor in place: the lower triangle becomes L.
    for j in 0..d {
        let mut diag = a[[j, j]];
        for k in 0..j {
            diag -= a[[j, k]] * a[[j, k]];
        }
        if !diag.is_finite() || diag <= 0.0 {
            return None;
        }
        let l_jj = diag.sqrt();
        a[[j, j]] = l_jj;
        for i in j + 1..d {
            let mut v = a[[i, j]];
            for k in 0..j {
                v -= a[[i, k]] * a[[j, k]];
            }
            a[[i, j]] = v / l_jj;
        }
    }
    // Forward substitution L Z = B, then back substitution Lᵀ X = Z, column by column of B.
    for mut column in b.axis_iter_mut(Axis(1)) {
        for i in 0..d {
            let mut v = column[i];
            for k in 0..i {
                v -= a[[i, k]] * column[k];
            }
            column[i] = v / a[[i, i]];
        }
        for i in (0..d).rev() {
            let mut v = column[i];
            for k in i + 1..d {
                v -= a[[k, i]] * column[k];
            }
            column[i] = v / a[[i, i]];
        }
    }
    Some(b)
}

/// Mean squared error over every entry. prediction, target: `[n, F]`.
pub fn mse(prediction: ArrayView2<f32>, target: ArrayView2<f32>) -> f64 {
    let sum: f64 = prediction
        .iter()
        .zip(target.iter())
        .map(|(&p, &t)| (p as f64 - t as f64).powi(2))
        .sum();
    sum / prediction.len().max(1) as f64
}

/// The validation error of one λ.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LambdaScore {
    pub lambda: f64,
    pub valid_mse: f64,
}

/// The map fitted on the training split with the λ that did best on the validation split.
#[derive(Debug, Clone)]
pub struct RidgeSelection {
    pub map: LinearMap,
    pub lambda: f64,
    pub valid_mse: f64,
    /// Every λ tried, in the order given.
    pub scores: Vec<LambdaScore>,
}

/// Fits the training split once per λ in `lambdas` and keeps the one with the lowest
/// validation MSE (the first on ties). `progress(done, total)` after each λ.
/// train_x: `[n, dim]`, train_y: `[n, F]`, valid_x: `[m, dim]`, valid_y: `[m, F]`.
pub fn select_ridge(
    train_x: ArrayView2<f32>,
    train_y: ArrayView2<f32>,
    valid_x: ArrayView2<f32>,
    valid_y: ArrayView2<f32>,
    lambdas: &[f64],
    progress: &mut dyn FnMut(usize, usize),
    cancel: &AtomicBool,
) -> Result<RidgeSelection, BaselineError> {
    let problem = RidgeProblem::new(train_x, train_y)?;
    let mut best: Option<RidgeSelection> = None;
    let mut scores = Vec::with_capacity(lambdas.len());
    for (i, &lambda) in lambdas.iter().enumerate() {
        if cancel.load(Ordering::Relaxed) {
            return Err(BaselineError::Cancelled);
        }
        let map = problem.solve(lambda)?;
        let valid_mse = mse(map.apply(valid_x).view(), valid_y);
        scores.push(LambdaScore { lambda, valid_mse });
        if best.as_ref().is_none_or(|b| valid_mse < b.valid_mse) {
            best = Some(RidgeSelection {
                map,
                lambda,
                valid_mse,
                scores: Vec::new(),
            });
        }
        progress(i + 1, lambdas.len());
    }
    let mut best = best.ok_or_else(|| BaselineError::Config("no ridge λ to try".into()))?;
    best.scores = scores;
    Ok(best)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn one_feature_matches_the_hand_worked_solution() {
        // x = [1, 2, 3], y = [2, 4, 7]: var(x) = 2/3, cov(x, y) = 5/3. With standardised x the
        // slope is cov / (var · (1 + λ)): 2.5 for λ = 0, 2 for λ = 1/4; the bias is
        // mean(y) − slope · mean(x) = 13/3 − 2 · 2 = 1/3.
        let x = array![[1.0f32], [2.0], [3.0]];
        let y = array![[2.0f32], [4.0], [7.0]];
        let problem = RidgeProblem::new(x.view(), y.view()).unwrap();
        let ols = problem.solve(0.0).unwrap();
        assert!((ols.weights[[0, 0]] - 2.5).abs() < 1e-6);
        assert!((ols.bias[0] - (13.0 / 3.0 - 5.0)).abs() < 1e-6);
        let ridge = problem.solve(0.25).unwrap();
        assert!((ridge.weights[[0, 0]] - 2.0).abs() < 1e-6);
        assert!((ridge.bias[0] - 1.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn cholesky_solves_a_known_system() {
        // A = [[4, 2], [2, 3]], b = A·[1, −2] = [0, −4].
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let b = array![[0.0], [-4.0]];
        let x = cholesky_solve(a, b).unwrap();
        assert!((x[[0, 0]] - 1.0).abs() < 1e-12 && (x[[1, 0]] + 2.0).abs() < 1e-12);
        assert!(cholesky_solve(array![[1.0, 2.0], [2.0, 1.0]], array![[1.0], [1.0]]).is_none());
    }

    #[test]
    fn a_constant_feature_gets_no_weight_and_no_singularity() {
        let x = array![[1.0f32, 5.0], [2.0, 5.0], [3.0, 5.0]];
        let y = array![[1.0f32], [2.0], [3.0]];
        let map = RidgeProblem::new(x.view(), y.view())
            .unwrap()
            .solve(1e-9)
            .unwrap();
        assert_eq!(map.weights[[1, 0]], 0.0);
        assert!((map.weights[[0, 0]] - 1.0).abs() < 1e-6);
        let err = RidgeProblem::new(x.view(), y.view())
            .unwrap()
            .solve(0.0)
            .unwrap_err();
        assert!(matches!(err, BaselineError::Singular { .. }));
    }
}
