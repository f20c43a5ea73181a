//! Training objectives. The default is the MSE between the prediction and the item's CF factor
//! vector scaled to unit L2 norm (the norm carries popularity, which audio cannot predict).
//! The alternative is the paper's weighted prediction error (WPE) against fixed user factors:
//! WPE = Σ_u Σ_i c_ui (p_ui − x_u·y_i)², with p_ui = [r_ui > 0] and
//! c_ui = 1 + α·log(1 + r_ui/ε) (DESIGN.md's WMF confidence).

use candle_core::{Result, Tensor};

/// Mean squared error over all entries. prediction, target: [batch, factors].
pub fn mse_loss(prediction: &Tensor, target: &Tensor) -> Result<Tensor> {
    prediction.sub(target)?.sqr()?.mean_all()
}

/// Scales a factor vector to unit L2 norm (a zero vector stays zero).
pub fn unit_norm(factors: &[f32]) -> Vec<f32> {
    let norm = factors
        .iter()
        .map(|v| f64::from(*v).powi(2))
        .sum::<f64>()
        .sqrt();
    if norm > 0.0 {
        factors
            .iter()
            .map(|v| (f64::from(*v) / norm) as f32)
            .collect()
    } else {
        factors.to_vec()
    }
}

/// WMF confidence of a play count: `1 + α·log(1 + r/ε)`.
pub fn confidence(play_count: f32, alpha: f32, epsilon: f32) -> f32 {
    1.0 + alpha * (play_count / epsilon).ln_1p()
}

/// The plays of one batch for the WPE: one entry per (track in batch, user who played it).
#[derive(Debug, Clone)]
pub struct WpeBatch {
    /// Batch row of each pair: [pairs] (u32).
    pub rows: Tensor,
    /// The user's factors for each pair: [pairs, factors].
    pub user_factors: Tensor,
    /// c_ui of each pair: [pairs].
    pub confidences: Tensor,
}

/// WPE of a batch, divided by batch size × number of users (a mean, so learning rates do not
/// depend on the number of users). Computed without touching every user:
/// Σ_u c_ui (p_ui − x_u·y)² = yᵀ (XᵀX) y + Σ_{u played i} [c_ui (1 − x_u·y)² − (x_u·y)²],
/// since an unplayed pair has p = 0 and c = 1.
/// prediction: [batch, factors]; gram = XᵀX over all users: [factors, factors].
pub fn wpe_loss(
    prediction: &Tensor,
    gram: &Tensor,
    plays: &WpeBatch,
    users: usize,
) -> Result<Tensor> {
    let (batch, _) = prediction.dims2()?;
    let unplayed = prediction.matmul(gram)?.mul(prediction)?.sum_all()?;
    let total = if plays.rows.dims1()? == 0 {
        unplayed
    } else {
        let predicted = prediction.index_select(&plays.rows, 0)?;
        let scores = predicted.mul(&plays.user_factors)?.sum(1)?;
        let played = scores
            .affine(-1.0, 1.0)?
            .sqr()?
            .mul(&plays.confidences)?
            .sub(&scores.sqr()?)?
            .sum_all()?;
        unplayed.add(&played)?
    };
    total.affine(1.0 / (batch * users.max(1)) as f64, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{DType, Device};

    #[test]
    fn wpe_matches_the_sum_over_every_user() {
        // Brute force: Σ_u Σ_i c_ui (p_ui − x_u·y_i)² over the full users × items grid.
        let (users, items, factors) = (6, 3, 2);
        let x: Vec<f64> = (0..users * factors)
            .map(|i| ((i * 37) % 11) as f64 / 7.0 - 0.6)
            .collect();
        let y: Vec<f64> = (0..items * factors)
            .map(|i| ((i * 53) % 13) as f64 / 9.0 - 0.5)
            .collect();
        let plays: Vec<(usize, usize, f32)> =
            vec![(0, 0, 3.0), (2, 0, 1.0), (5, 1, 10.0), (1, 2, 2.0)];
        let (alpha, epsilon) = (2.0, 1e-6);
        let mut want = 0.0;
        for u in 0..users {
            for i in 0..items {
                let count = plays
                    .iter()
                    .find(|p| p.0 == u && p.1 == i)
                    .map_or(0.0, |p| p.2);
                let (p, c) = if count > 0.0 {
                    (1.0, f64::from(confidence(count, alpha, epsilon)))
                } else {
                    (0.0, 1.0)
                };
                let score: f64 = (0..factors)
                    .map(|f| x[u * factors + f] * y[i * factors + f])
                    .sum();
                want += c * (p - score).powi(2);
            }
        }
        want /= (items * users) as f64;

        let device = Device::Cpu;
        let xt = Tensor::from_slice(&x, (users, factors), &device).unwrap();
        let gram = xt.t().unwrap().matmul(&xt).unwrap();
        let prediction = Tensor::from_slice(&y, (items, factors), &device).unwrap();
        let rows: Vec<u32> = plays.iter().map(|p| p.1 as u32).collect();
        let user_rows: Vec<u32> = plays.iter().map(|p| p.0 as u32).collect();
        let confidences: Vec<f64> = plays
            .iter()
            .map(|p| f64::from(confidence(p.2, alpha, epsilon)))
            .collect();
        let batch = WpeBatch {
            rows: Tensor::new(rows.as_slice(), &device).unwrap(),
            user_factors: xt
                .index_select(&Tensor::new(user_rows.as_slice(), &device).unwrap(), 0)
                .unwrap(),
            confidences: Tensor::new(confidences.as_slice(), &device).unwrap(),
        };
        let got = wpe_loss(&prediction, &gram, &batch, users)
            .unwrap()
            .to_dtype(DType::F64)
            .unwrap()
            .to_scalar::<f64>()
            .unwrap();
        assert!((got - want).abs() < 1e-9 * want.abs(), "{got} vs {want}");
    }

    #[test]
    fn unit_norm_and_confidence_by_hand() {
        assert_eq!(unit_norm(&[3.0, 4.0]), vec![0.6, 0.8]);
        assert_eq!(unit_norm(&[0.0, 0.0]), vec![0.0, 0.0]);
        // 1 + 2·ln(1 + 1/1e-6)
        assert!((confidence(1.0, 2.0, 1e-6) - (1.0 + 2.0 * 1_000_001f32.ln())).abs() < 1e-4);
    }
}
