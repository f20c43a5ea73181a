//! The cold-start upper bound: the test tracks' WMF factors solved from their own listens with
//! the user factors held fixed — one exact ALS item half-step, with WMF's confidence weights
//! and λ. No content model can know more about a track than its listens tell.
//!
//! For item i with users X [users × F], played by users u with confidences c_ui:
//! `(XᵀX + λI + Σ_u (c_ui − 1) x_u x_uᵀ) y_i = Σ_u c_ui x_u`, solved exactly (Cholesky, f64).

use ndarray::{Array2, ArrayView2};

use super::ColdstartError;
use crate::cf::sparse::PlayCounts;
use crate::cf::wmf::{confidence, WmfConfig};

/// The factors of `items` ([items.len(), F], in that order) that minimise WMF's item objective
/// on `listens` (users × items play counts) with `user_factors` [users, F] fixed. An item
/// without listens gets zero factors.
pub fn solve_item_factors(
    listens: &PlayCounts,
    user_factors: ArrayView2<f32>,
    items: &[u32],
    config: &WmfConfig,
) -> Result<Array2<f32>, ColdstartError> {
    let (users, f) = user_factors.dim();
    if users != listens.users() {
        return Err(ColdstartError::Invalid(format!(
            "user factors have {users} rows but the listens have {} users",
            listens.users()
        )));
    }
    if let Some(&item) = items.iter().find(|&&i| i as usize >= listens.items()) {
        return Err(ColdstartError::Invalid(format!(
            "item {item} is out of range ({} items)",
            listens.items()
        )));
    }
    let x: Vec<f64> = user_factors.iter().map(|&v| f64::from(v)).collect();
    // XᵀX + λI, once: [F, F].
    let mut gram = vec![0.0f64; f * f];
    for row in x.chunks_exact(f) {
        add_outer(&mut gram, row, 1.0);
    }
    for k in 0..f {
        gram[k * f + k] += f64::from(config.lambda);
    }
    let mut solved = Array2::zeros((items.len(), f));
    let mut a = vec![0.0f64; f * f];
    let mut b = vec![0.0f64; f];
    for (mut out, &item) in solved.outer_iter_mut().zip(items) {
        let (played_by, counts) = listens.by_item().row(item as usize);
        if played_by.is_empty() {
            continue;
        }
        a.copy_from_slice(&gram);
        b.fill(0.0);
        for (&user, &count) in played_by.iter().zip(counts) {
            let c = f64::from(confidence(count, config.alpha, config.epsilon));
            let row = &x[user as usize * f..(user as usize + 1) * f];
            add_outer(&mut a, row, c - 1.0);
            for (bk, xk) in b.iter_mut().zip(row) {
                *bk += c * xk;
            }
        }
        if !cholesky_solve(&mut a, &mut b, f) {
            return Err(ColdstartError::Singular {
                item,
                lambda: config.lambda,
            });
        }
        for (o, v) in out.iter_mut().zip(&b) {
            *o = *v as f32;
        }
    }
    Ok(solved)
}

/// m += w · v vᵀ; m: [n, n] row-major.
fn add_outer(m: &mut [f64], v: &[f64], w: f64) {
    let n = v.len();
    for (i, &vi) in v.iter().enumerate() {
        let wi = w * vi;
        for (mij, &vj) in m[i * n..(i + 1) * n].iter_mut().zip(v) {
            *mij += wi * vj;
        }
    }
}

/// Solves a x = b in place (b becomes x) for symmetric positive definite a: [n, n] row-major,
/// overwritten by its Cholesky factor. False when a is not positive definite.
fn cholesky_solve(a: &mut [f64], b: &mut [f64], n: usize) -> bool {
    for j in 0..n {
        let mut d = a[j * n + j];
        for k in 0..j {
            d -= a[j * n + k] * a[j * n + k];
        }
        if !(d > 0.0 && d.is_finite()) {
            return false;
        }
        let d = d.sqrt();
        a[j * n + j] = d;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / d;
        }
    }
    // L z = b, then Lᵀ x = z.
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= a[i * n + k] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= a[k * n + i] * b[k];
        }
        b[i] = s / a[i * n + i];
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves_a_hand_worked_system() {
        // [[4, 2], [2, 3]] x = [2, 5] → x = [-0.5, 2].
        let mut a = vec![4.0, 2.0, 2.0, 3.0];
        let mut b = vec![2.0, 5.0];
        assert!(cholesky_solve(&mut a, &mut b, 2));
        assert!(
            (b[0] + 0.5).abs() < 1e-12 && (b[1] - 2.0).abs() < 1e-12,
            "{b:?}"
        );
        let mut singular = vec![1.0, 1.0, 1.0, 1.0];
        assert!(!cholesky_solve(&mut singular, &mut [1.0, 1.0], 2));
    }
}
