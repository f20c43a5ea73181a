//! Weighted matrix factorisation for implicit feedback (Hu, Koren and Volinsky 2008), the
//! CF model whose item factors the convnet learns to predict.
//!
//! Every (user, item) pair has a preference p (1 if the user played the item, else 0) and a
//! confidence c = 1 + α·log(1 + r/ε) for play count r (1 for unplayed pairs). WMF minimises
//!
//! ```text
//! L = Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ (Σ_u ‖x_u‖² + Σ_i ‖y_i‖²)
//! ```
//!
//! by alternating least squares: with the items fixed, each user row is an independent
//! F-dimensional least-squares problem `(YᵀY + λI + Yᵀ(C_u − I)Y) x_u = Yᵀ C_u p_u`, and the
//! other way round. As in the `implicit` library's CG solver, each row takes a few
//! conjugate-gradient steps warm-started from its previous factors, and the product with the
//! matrix is formed as `(YᵀY + λI) v + Σ_{i played} (c_ui − 1)(y_i·v) y_i` without building it,
//! so a row costs O(nnz_row·F + F²) per step and YᵀY is computed once per half-iteration.
//!
//! Rows are independent and each is written only from its own computation, and the Gram
//! matrices and the loss are summed over fixed blocks in a fixed order, so the result for a
//! seed does not depend on the number of threads.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use ndarray::Array2;
use pulp::{Simd, WithSimd};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::sparse::{CsrMatrix, PlayCounts};

/// Rows per block when summing Gram matrices and the loss: fixed, so that the order of the
/// floating-point sums (and so the result) does not depend on the thread count.
const SUM_BLOCK_ROWS: usize = 512;

/// Settings of a WMF run. The defaults are those of the paper authors' WMF code (DESIGN.md).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WmfConfig {
    /// F, the number of latent factors.
    pub factors: usize,
    /// Alternating iterations (each solves all users, then all items).
    pub iterations: usize,
    /// α in the confidence 1 + α·log(1 + r/ε).
    pub alpha: f32,
    /// ε in the confidence 1 + α·log(1 + r/ε).
    pub epsilon: f32,
    /// λ, the L2 regularisation weight.
    pub lambda: f32,
    /// Conjugate-gradient steps per row and half-iteration (`implicit` uses 3).
    pub cg_steps: usize,
    /// Seed of the random initial factors.
    pub seed: u64,
    /// Worker threads; 0 uses one per core.
    pub threads: usize,
    /// Computes the objective L after each iteration (one extra pass over the plays).
    pub compute_loss: bool,
}

impl Default for WmfConfig {
    fn default() -> Self {
        Self {
            factors: 40,
            iterations: 15,
            alpha: 2.0,
            epsilon: 1e-6,
            lambda: 1e-5,
            cg_steps: 3,
            seed: 0,
            threads: 0,
            compute_loss: true,
        }
    }
}

/// User and item factors; the score of a (user, item) pair is `users.row(u) · items.row(i)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Factors {
    /// [users, F]
    pub users: Array2<f32>,
    /// [items, F]
    pub items: Array2<f32>,
}

/// What one finished iteration reports to the progress callback.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterationReport {
    /// 1-based.
    pub iteration: usize,
    pub iterations: usize,
    /// Wall time of this iteration (including the loss when computed).
    pub secs: f64,
    /// The objective L after this iteration, when `compute_loss` is set.
    pub loss: Option<f64>,
}

/// Why WMF could not run.
#[derive(Debug, thiserror::Error)]
pub enum WmfError {
    #[error(
        "the play-count matrix has no plays ({users} users × {items} items): nothing to factorise"
    )]
    EmptyMatrix { users: usize, items: usize },
    #[error("invalid WMF setting: {0}")]
    Config(String),
    #[error("initial {which} factors have shape {found:?}, expected {expected:?}")]
    InitialShape {
        which: &'static str,
        found: [usize; 2],
        expected: [usize; 2],
    },
    #[error("initial {which} factors contain a value that is not finite")]
    InitialNotFinite { which: &'static str },
    #[error("cannot start {threads} worker threads: {source}")]
    ThreadPool {
        threads: usize,
        source: rayon::ThreadPoolBuildError,
    },
    #[error("WMF cancelled")]
    Cancelled,
}

/// The confidence of a play count: `1 + α·log(1 + r/ε)`.
pub fn confidence(count: f32, alpha: f32, epsilon: f32) -> f32 {
    1.0 + alpha * (count / epsilon).ln_1p()
}

/// Random initial factors, uniform in [0, 0.01) as in `implicit`, from `seed`.
pub fn initial_factors(users: usize, items: usize, factors: usize, seed: u64) -> Factors {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut random =
        |rows: usize| Array2::from_shape_simple_fn((rows, factors), || rng.random::<f32>() * 0.01);
    let users = random(users);
    let items = random(items);
    Factors { users, items }
}

/// Factorises `counts` from random initial factors (see [`fit_from`]).
pub fn fit(
    counts: &PlayCounts,
    config: &WmfConfig,
    progress: &mut dyn FnMut(&IterationReport),
    cancel: &AtomicBool,
) -> Result<Factors, WmfError> {
    check_config(config)?;
    let initial = initial_factors(counts.users(), counts.items(), config.factors, config.seed);
    fit_from(counts, initial, config, progress, cancel)
}

/// Factorises `counts` starting from `initial` factors (a previous run's, to resume or refine),
/// calling `progress` after every iteration and stopping with [`WmfError::Cancelled`] soon
/// after `cancel` is set. Users and items without plays get zero factors.
pub fn fit_from(
    counts: &PlayCounts,
    initial: Factors,
    config: &WmfConfig,
    progress: &mut dyn FnMut(&IterationReport),
    cancel: &AtomicBool,
) -> Result<Factors, WmfError> {
    check_config(config)?;
    if counts.nnz() == 0 {
        return Err(WmfError::EmptyMatrix {
            users: counts.users(),
            items: counts.items(),
        });
    }
    let f = config.factors;
    let mut users = FactorRows::from_array("user", &initial.users, [counts.users(), f])?;
    let mut items = FactorRows::from_array("item", &initial.items, [counts.items(), f])?;
    let to_confidence = |r: f32| confidence(r, config.alpha, config.epsilon);
    let by_user = counts.by_user().map_values(to_confidence);
    let by_item = counts.by_item().map_values(to_confidence);
    let pool = super::thread_pool(config.threads).map_err(|source| WmfError::ThreadPool {
        threads: config.threads,
        source,
    })?;
    // The loop stays on the caller's thread (the progress callback need not be Send); each
    // parallel step runs on the local pool.
    let mut item_gram = pool.install(|| gram(&items));
    for iteration in 1..=config.iterations {
        let start = Instant::now();
        let user_gram = pool.install(|| {
            solve_side(&by_user, &items, &item_gram, config, &mut users, cancel);
            gram(&users)
        });
        item_gram = pool.install(|| {
            solve_side(&by_item, &users, &user_gram, config, &mut items, cancel);
            gram(&items)
        });
        if cancel.load(Ordering::Relaxed) {
            return Err(WmfError::Cancelled);
        }
        let loss = config.compute_loss.then(|| {
            pool.install(|| {
                objective(
                    &by_user,
                    &users,
                    &items,
                    &user_gram,
                    &item_gram,
                    config.lambda,
                )
            })
        });
        progress(&IterationReport {
            iteration,
            iterations: config.iterations,
            secs: start.elapsed().as_secs_f64(),
            loss,
        });
    }
    Ok(Factors {
        users: users.into_array(),
        items: items.into_array(),
    })
}

/// The objective L of `factors` on `counts` (see the module documentation), computed
/// independently of a fit: for tests and for comparing factors from elsewhere.
pub fn loss(counts: &PlayCounts, factors: &Factors, config: &WmfConfig) -> Result<f64, WmfError> {
    let f = factors.users.ncols();
    let users = FactorRows::from_array("user", &factors.users, [counts.users(), f])?;
    let items = FactorRows::from_array("item", &factors.items, [counts.items(), f])?;
    let by_user = counts
        .by_user()
        .map_values(|r| confidence(r, config.alpha, config.epsilon));
    Ok(objective(
        &by_user,
        &users,
        &items,
        &gram(&users),
        &gram(&items),
        config.lambda,
    ))
}

fn check_config(config: &WmfConfig) -> Result<(), WmfError> {
    let bad = |what: &str| Err(WmfError::Config(what.to_owned()));
    if config.factors == 0 {
        return bad("factors must be at least 1");
    }
    if !(config.alpha.is_finite() && config.alpha >= 0.0) {
        return bad("alpha must be a finite number ≥ 0");
    }
    if !(config.epsilon.is_finite() && config.epsilon > 0.0) {
        return bad("epsilon must be a finite number > 0");
    }
    if !(config.lambda.is_finite() && config.lambda >= 0.0) {
        return bad("lambda must be a finite number ≥ 0");
    }
    if config.cg_steps == 0 {
        return bad("cg_steps must be at least 1");
    }
    Ok(())
}

/// A factor matrix as contiguous rows of `factors` values: the layout the kernels index.
struct FactorRows {
    data: Vec<f32>,
    factors: usize,
}

impl FactorRows {
    /// Copies `array` [rows, F] after checking its shape against `expected` and its values.
    fn from_array(
        which: &'static str,
        array: &Array2<f32>,
        expected: [usize; 2],
    ) -> Result<Self, WmfError> {
        let found = [array.nrows(), array.ncols()];
        if found != expected {
            return Err(WmfError::InitialShape {
                which,
                found,
                expected,
            });
        }
        if array.iter().any(|v| !v.is_finite()) {
            return Err(WmfError::InitialNotFinite { which });
        }
        Ok(Self {
            data: array.iter().copied().collect(),
            factors: expected[1],
        })
    }

    fn row(&self, r: usize) -> &[f32] {
        &self.data[r * self.factors..(r + 1) * self.factors]
    }

    fn into_array(self) -> Array2<f32> {
        let rows = self.data.len() / self.factors;
        Array2::from_shape_vec((rows, self.factors), self.data)
            .expect("data holds rows × factors values by construction")
    }
}

/// `Σ_r y_r y_rᵀ` over the rows of `rows`: [F, F], row-major, summed per fixed block of rows.
fn gram(rows: &FactorRows) -> Vec<f32> {
    let f = rows.factors;
    let partials: Vec<Vec<f32>> = rows
        .data
        .par_chunks(f * SUM_BLOCK_ROWS)
        .map(|block| pulp::Arch::new().dispatch(GramBlock { block, factors: f }))
        .collect();
    let mut total = vec![0.0f64; f * f];
    for partial in &partials {
        for (t, p) in total.iter_mut().zip(partial) {
            *t += f64::from(*p);
        }
    }
    total.into_iter().map(|v| v as f32).collect()
}

struct GramBlock<'a> {
    block: &'a [f32],
    factors: usize,
}

impl WithSimd for GramBlock<'_> {
    type Output = Vec<f32>;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> Vec<f32> {
        let f = self.factors;
        let mut g = vec![0.0f32; f * f];
        for y in self.block.chunks_exact(f) {
            for (a, g_row) in g.chunks_exact_mut(f).enumerate() {
                axpy(simd, y[a], y, g_row);
            }
        }
        g
    }
}

/// Solves every row of `solved` given the other side's factors `fixed`, with confidences
/// `conf` (rows of `solved` × rows of `fixed`) and `fixed_gram` = fixedᵀ fixed.
fn solve_side(
    conf: &CsrMatrix,
    fixed: &FactorRows,
    fixed_gram: &[f32],
    config: &WmfConfig,
    solved: &mut FactorRows,
    cancel: &AtomicBool,
) {
    let f = fixed.factors;
    let mut regularised = fixed_gram.to_vec();
    for k in 0..f {
        regularised[k * f + k] += config.lambda;
    }
    let arch = pulp::Arch::new();
    solved.data.par_chunks_mut(f).enumerate().for_each_init(
        || CgScratch::new(f),
        |scratch, (row, x)| {
            if cancel.load(Ordering::Relaxed) {
                return;
            }
            let (indices, confidences) = conf.row(row);
            if indices.is_empty() {
                // No plays: the minimiser of λ‖x‖² + Σ_i (x·y_i)² is 0.
                x.fill(0.0);
                return;
            }
            arch.dispatch(RowSolve {
                indices,
                confidences,
                fixed,
                gram: &regularised,
                cg_steps: config.cg_steps,
                x,
                scratch,
            });
        },
    );
}

/// Per-worker vectors of the conjugate-gradient iteration, [F] each.
struct CgScratch {
    residual: Vec<f32>,
    direction: Vec<f32>,
    product: Vec<f32>,
}

impl CgScratch {
    fn new(factors: usize) -> Self {
        Self {
            residual: vec![0.0; factors],
            direction: vec![0.0; factors],
            product: vec![0.0; factors],
        }
    }
}

/// A few CG steps on one row's normal equations, from the row's current factors `x`.
struct RowSolve<'a> {
    indices: &'a [u32],
    confidences: &'a [f32],
    fixed: &'a FactorRows,
    /// fixedᵀ fixed + λI, [F, F]
    gram: &'a [f32],
    cg_steps: usize,
    x: &'a mut [f32],
    scratch: &'a mut CgScratch,
}

impl WithSimd for RowSolve<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        let Self {
            indices,
            confidences,
            fixed,
            gram,
            cg_steps,
            x,
            scratch,
        } = self;
        let CgScratch {
            residual: r,
            direction: p,
            product: ap,
        } = scratch;
        let rows = PlayedRows {
            indices,
            confidences,
            fixed,
            gram,
        };
        // r = b − A x = −(YᵀY + λI) x + Σ_i (c_i − (c_i − 1) y_i·x) y_i
        rows.product(simd, -1.0, x, r, |c, d| c - (c - 1.0) * d);
        p.copy_from_slice(r);
        let mut rs_old = dot(simd, r, r);
        for _ in 0..cg_steps {
            if rs_old < 1e-20 {
                break;
            }
            // Ap = (YᵀY + λI) p + Σ_i (c_i − 1)(y_i·p) y_i
            rows.product(simd, 1.0, p, ap, |c, d| (c - 1.0) * d);
            let curvature = dot(simd, p, ap);
            if curvature.is_nan() || curvature <= 0.0 {
                // Only rounding can make A look singular here; stop rather than divide.
                break;
            }
            let step = rs_old / curvature;
            axpy(simd, step, p, x);
            axpy(simd, -step, ap, r);
            let rs_new = dot(simd, r, r);
            let beta = rs_new / rs_old;
            for (pk, rk) in p.iter_mut().zip(r.iter()) {
                *pk = rk + beta * *pk;
            }
            rs_old = rs_new;
        }
    }
}

/// The fixed side's rows that one solved row played, with their confidences, and the fixed
/// side's regularised Gram matrix.
struct PlayedRows<'a> {
    indices: &'a [u32],
    confidences: &'a [f32],
    fixed: &'a FactorRows,
    /// fixedᵀ fixed + λI, [F, F] row-major
    gram: &'a [f32],
}

impl PlayedRows<'_> {
    /// `out = sign · G v + Σ_i weight(c_i, y_i·v) y_i` over the played rows y_i: the product
    /// that both the residual and every CG step form, O(F² + nnz·F).
    ///
    /// When F is a small multiple of the SIMD width, `v` and `out` are held in registers
    /// ([`Self::product_fixed`]); otherwise they stay in memory.
    #[inline(always)]
    fn product<S: Simd>(
        &self,
        simd: S,
        sign: f32,
        v: &[f32],
        out: &mut [f32],
        weight: impl Fn(f32, f32) -> f32,
    ) {
        let lanes = std::mem::size_of::<S::f32s>() / std::mem::size_of::<f32>();
        if v.len().is_multiple_of(lanes) {
            match v.len() / lanes {
                1 => return self.product_fixed::<S, 1>(simd, sign, v, out, weight),
                2 => return self.product_fixed::<S, 2>(simd, sign, v, out, weight),
                3 => return self.product_fixed::<S, 3>(simd, sign, v, out, weight),
                4 => return self.product_fixed::<S, 4>(simd, sign, v, out, weight),
                5 => return self.product_fixed::<S, 5>(simd, sign, v, out, weight),
                6 => return self.product_fixed::<S, 6>(simd, sign, v, out, weight),
                _ => {}
            }
        }
        out.fill(0.0);
        for (&vk, g_row) in v.iter().zip(self.gram.chunks_exact(v.len())) {
            axpy(simd, sign * vk, g_row, out);
        }
        for (&i, &c) in self.indices.iter().zip(self.confidences) {
            let y = self.fixed.row(i as usize);
            axpy(simd, weight(c, dot(simd, y, v)), y, out);
        }
    }

    /// [`Self::product`] for F = N SIMD vectors exactly.
    #[inline(always)]
    fn product_fixed<S: Simd, const N: usize>(
        &self,
        simd: S,
        sign: f32,
        v_scalars: &[f32],
        out: &mut [f32],
        weight: impl Fn(f32, f32) -> f32,
    ) {
        let f = v_scalars.len();
        let (v_head, _) = S::as_simd_f32s(v_scalars);
        let v: [S::f32s; N] = std::array::from_fn(|k| v_head[k]);
        let mut acc = [simd.splat_f32s(0.0); N];
        // G is symmetric: G v = Σ_k v_k G_k over its rows.
        for (&vk, g_row) in v_scalars.iter().zip(self.gram.chunks_exact(f)) {
            let (g_head, _) = S::as_simd_f32s(g_row);
            let scale = simd.splat_f32s(sign * vk);
            for k in 0..N {
                acc[k] = simd.mul_add_f32s(scale, g_head[k], acc[k]);
            }
        }
        for (&i, &c) in self.indices.iter().zip(self.confidences) {
            let (y_head, _) = S::as_simd_f32s(self.fixed.row(i as usize));
            let y: [S::f32s; N] = std::array::from_fn(|k| y_head[k]);
            let mut even = simd.splat_f32s(0.0);
            let mut odd = simd.splat_f32s(0.0);
            for k in (0..N).step_by(2) {
                even = simd.mul_add_f32s(y[k], v[k], even);
                if k + 1 < N {
                    odd = simd.mul_add_f32s(y[k + 1], v[k + 1], odd);
                }
            }
            let w = simd.splat_f32s(weight(c, simd.reduce_sum_f32s(simd.add_f32s(even, odd))));
            for k in 0..N {
                acc[k] = simd.mul_add_f32s(w, y[k], acc[k]);
            }
        }
        let (out_head, _) = S::as_mut_simd_f32s(out);
        out_head[..N].copy_from_slice(&acc);
    }
}

/// `a · b` for equal lengths.
#[inline(always)]
fn dot<S: Simd>(simd: S, a: &[f32], b: &[f32]) -> f32 {
    let (a_head, a_tail) = S::as_simd_f32s(a);
    let (b_head, b_tail) = S::as_simd_f32s(b);
    let mut even = simd.splat_f32s(0.0);
    let mut odd = simd.splat_f32s(0.0);
    let mut pairs_a = a_head.chunks_exact(2);
    let mut pairs_b = b_head.chunks_exact(2);
    for (pa, pb) in (&mut pairs_a).zip(&mut pairs_b) {
        even = simd.mul_add_f32s(pa[0], pb[0], even);
        odd = simd.mul_add_f32s(pa[1], pb[1], odd);
    }
    for (va, vb) in pairs_a.remainder().iter().zip(pairs_b.remainder()) {
        even = simd.mul_add_f32s(*va, *vb, even);
    }
    let mut sum = simd.reduce_sum_f32s(simd.add_f32s(even, odd));
    for (va, vb) in a_tail.iter().zip(b_tail) {
        sum += va * vb;
    }
    sum
}

/// `y += alpha · x` for equal lengths.
#[inline(always)]
fn axpy<S: Simd>(simd: S, alpha: f32, x: &[f32], y: &mut [f32]) {
    let (x_head, x_tail) = S::as_simd_f32s(x);
    let (y_head, y_tail) = S::as_mut_simd_f32s(y);
    let alpha_v = simd.splat_f32s(alpha);
    for (vy, vx) in y_head.iter_mut().zip(x_head) {
        *vy = simd.mul_add_f32s(alpha_v, *vx, *vy);
    }
    for (vy, vx) in y_tail.iter_mut().zip(x_tail) {
        *vy += alpha * vx;
    }
}

/// L = Σ_{u,i} c_ui (p_ui − x_u·y_i)² + λ(‖X‖² + ‖Y‖²), as
/// `Σ_all (x·y)²  +  Σ_played [c (1 − x·y)² − (x·y)²]  +  λ(tr XᵀX + tr YᵀY)`,
/// where `Σ_all (x_u·y_i)² = Σ_ab (XᵀX)_ab (YᵀY)_ab`: one pass over the plays.
fn objective(
    conf: &CsrMatrix,
    users: &FactorRows,
    items: &FactorRows,
    user_gram: &[f32],
    item_gram: &[f32],
    lambda: f32,
) -> f64 {
    let f = users.factors;
    let blocks: Vec<f64> = (0..conf.rows().div_ceil(SUM_BLOCK_ROWS))
        .into_par_iter()
        .map(|block| {
            let first = block * SUM_BLOCK_ROWS;
            pulp::Arch::new().dispatch(PlayedLoss {
                conf,
                users,
                items,
                rows: first..(first + SUM_BLOCK_ROWS).min(conf.rows()),
            })
        })
        .collect();
    let played: f64 = blocks.iter().sum();
    let all_pairs: f64 = user_gram
        .iter()
        .zip(item_gram)
        .map(|(a, b)| f64::from(*a) * f64::from(*b))
        .sum();
    let trace = |g: &[f32]| (0..f).map(|k| f64::from(g[k * f + k])).sum::<f64>();
    all_pairs + played + f64::from(lambda) * (trace(user_gram) + trace(item_gram))
}

/// `Σ_played [c (1 − x·y)² − (x·y)²]` over the users `rows`.
struct PlayedLoss<'a> {
    conf: &'a CsrMatrix,
    users: &'a FactorRows,
    items: &'a FactorRows,
    rows: std::ops::Range<usize>,
}

impl WithSimd for PlayedLoss<'_> {
    type Output = f64;

    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) -> f64 {
        let mut sum = 0.0f64;
        for u in self.rows {
            let x = self.users.row(u);
            let (indices, confidences) = self.conf.row(u);
            for (&i, &c) in indices.iter().zip(confidences) {
                let s = f64::from(dot(simd, x, self.items.row(i as usize)));
                sum += f64::from(c) * (1.0 - s) * (1.0 - s) - s * s;
            }
        }
        sum
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confidence_follows_the_formula() {
        assert_eq!(confidence(0.0, 2.0, 1e-6), 1.0);
        let expected = 1.0 + 2.0 * (1.0f64 + 3.0 / 1e-6).ln();
        assert!((f64::from(confidence(3.0, 2.0, 1e-6)) - expected).abs() < 1e-4);
    }

    /// Runs `dot` and `axpy` through the dispatched SIMD path.
    struct KernelProbe<'a> {
        a: &'a [f32],
        b: &'a [f32],
    }

    impl WithSimd for KernelProbe<'_> {
        type Output = (f32, Vec<f32>);
        fn with_simd<S: Simd>(self, simd: S) -> (f32, Vec<f32>) {
            let mut y = self.b.to_vec();
            axpy(simd, 2.0, self.a, &mut y);
            (dot(simd, self.a, self.b), y)
        }
    }

    #[test]
    fn kernels_match_plain_loops_for_any_length() {
        for n in [1usize, 7, 8, 13, 16, 40, 45] {
            let a: Vec<f32> = (0..n).map(|k| (k as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..n).map(|k| (k as f32 * 0.11).cos()).collect();
            let (d, y) = pulp::Arch::new().dispatch(KernelProbe { a: &a, b: &b });
            let expected: f64 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| f64::from(*x) * f64::from(*y))
                .sum();
            assert!((f64::from(d) - expected).abs() < 1e-5, "n = {n}");
            for k in 0..n {
                assert!(
                    (y[k] - (b[k] + 2.0 * a[k])).abs() < 1e-6,
                    "n = {n}, k = {k}"
                );
            }
        }
    }

    struct ProductProbe<'a> {
        rows: PlayedRows<'a>,
        v: &'a [f32],
    }

    impl WithSimd for ProductProbe<'_> {
        type Output = Vec<f32>;
        fn with_simd<S: Simd>(self, simd: S) -> Vec<f32> {
            let mut out = vec![f32::NAN; self.v.len()];
            self.rows
                .product(simd, -1.0, self.v, &mut out, |c, d| c - (c - 1.0) * d);
            out
        }
    }

    /// Both the register-held path (F a multiple of the SIMD width) and the in-memory one.
    #[test]
    fn product_matches_a_plain_loop_for_any_factor_count() {
        for f in [3usize, 8, 16, 24, 40, 44, 64] {
            let value = |k: usize| ((k * 7919 % 101) as f32 - 50.0) / 50.0;
            let fixed = FactorRows {
                data: (0..10 * f).map(value).collect(),
                factors: f,
            };
            let gram: Vec<f32> = (0..f * f)
                .map(|k| value(k / f + k % f)) // symmetric
                .collect();
            let v: Vec<f32> = (0..f).map(|k| value(k + 3)).collect();
            let indices = [1u32, 4, 9];
            let confidences = [2.0f32, 30.0, 1.5];
            let rows = PlayedRows {
                indices: &indices,
                confidences: &confidences,
                fixed: &fixed,
                gram: &gram,
            };
            let got = pulp::Arch::new().dispatch(ProductProbe { rows, v: &v });
            for a in 0..f {
                let mut expected: f64 = -(0..f)
                    .map(|b| f64::from(gram[a * f + b]) * f64::from(v[b]))
                    .sum::<f64>();
                for (&i, &c) in indices.iter().zip(&confidences) {
                    let y = fixed.row(i as usize);
                    let d: f64 = y
                        .iter()
                        .zip(&v)
                        .map(|(p, q)| f64::from(*p) * f64::from(*q))
                        .sum();
                    let c = f64::from(c);
                    expected += (c - (c - 1.0) * d) * f64::from(y[a]);
                }
                let got = f64::from(got[a]);
                assert!(
                    (got - expected).abs() < 1e-4 * expected.abs().max(1.0),
                    "f {f}, {a}"
                );
            }
        }
    }

    #[test]
    fn gram_is_the_sum_of_outer_products() {
        let rows = FactorRows {
            data: (0..3 * 1100)
                .map(|k| ((k % 17) as f32 - 8.0) * 0.1)
                .collect(),
            factors: 3,
        };
        let g = gram(&rows);
        for a in 0..3 {
            for b in 0..3 {
                let expected: f64 = (0..1100)
                    .map(|r| f64::from(rows.row(r)[a]) * f64::from(rows.row(r)[b]))
                    .sum();
                assert!(
                    (f64::from(g[a * 3 + b]) - expected).abs() < 1e-3 * expected.abs().max(1.0)
                );
            }
        }
    }
}
