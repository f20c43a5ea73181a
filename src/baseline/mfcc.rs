//! MFCCs from our log-mel frames, with librosa's conventions: `librosa.feature.mfcc(S=logmel)`
//! is an orthonormal DCT-II over the mel axis of a `power_to_db` spectrogram (no liftering),
//! and `librosa.feature.delta` a Savitzky-Golay derivative over 9 frames (mode `interp`).
//! The baseline quantises these frame vectors; MFCCs decorrelate the mel bands, so Euclidean
//! k-means on them behaves better than on raw dB bands.

use ndarray::{s, Array2, ArrayView2};

use super::BaselineError;

/// Frames in the Savitzky-Golay window of `librosa.feature.delta` (its default `width=9`).
pub const DELTA_WIDTH: usize = 9;
const DELTA_HALF: usize = DELTA_WIDTH / 2;

/// The orthonormal DCT-II matrix that maps `n_mels` log-mel values to the first `n_mfcc`
/// cepstral coefficients (`scipy.fftpack.dct(x, type=2, norm='ortho')[:n_mfcc]`).
/// Returned transposed for a time-major matmul: `[n_mels × n_mfcc]`.
pub fn dct2_ortho_matrix(n_mels: usize, n_mfcc: usize) -> Array2<f32> {
    let n = n_mels as f64;
    Array2::from_shape_fn((n_mels, n_mfcc), |(i, k)| {
        let scale = if k == 0 {
            (1.0 / n).sqrt()
        } else {
            (2.0 / n).sqrt()
        };
        let angle = std::f64::consts::PI * k as f64 * (2 * i + 1) as f64 / (2.0 * n);
        (scale * angle.cos()) as f32
    })
}

/// Frame-level features for the bag of words: `n_mfcc` MFCCs of each log-mel frame followed
/// by their deltas up to `delta_order` (0, 1 or 2), as `[mfcc | delta | delta-delta]`.
/// Built once, shared by every thread.
#[derive(Debug, Clone)]
pub struct FrameFeatures {
    /// `[n_mels × n_mfcc]`
    dct: Array2<f32>,
    delta_order: usize,
}

impl FrameFeatures {
    /// Plans the DCT. `n_mfcc` must be in `1..=n_mels` and `delta_order` at most 2.
    pub fn new(n_mels: usize, n_mfcc: usize, delta_order: usize) -> Result<Self, BaselineError> {
        if n_mfcc == 0 || n_mfcc > n_mels {
            return Err(BaselineError::Config(format!(
                "n_mfcc is {n_mfcc}; it must be between 1 and the {n_mels} mel bands"
            )));
        }
        if delta_order > 2 {
            return Err(BaselineError::Config(format!(
                "delta_order is {delta_order}; it must be 0, 1 or 2"
            )));
        }
        Ok(Self {
            dct: dct2_ortho_matrix(n_mels, n_mfcc),
            delta_order,
        })
    }

    /// Values per frame: `n_mfcc × (1 + delta_order)`.
    pub fn dim(&self) -> usize {
        self.dct.ncols() * (1 + self.delta_order)
    }

    /// logmel: `[frames, n_mels]` in dB → `[frames, dim]`. With deltas, at least
    /// [`DELTA_WIDTH`] frames are needed (a 30-s excerpt has 646).
    pub fn compute(&self, logmel: ArrayView2<f32>) -> Result<Array2<f32>, BaselineError> {
        if logmel.ncols() != self.dct.nrows() {
            return Err(BaselineError::Config(format!(
                "log-mel has {} bands, the MFCC plan expects {}",
                logmel.ncols(),
                self.dct.nrows()
            )));
        }
        let mfcc = logmel.dot(&self.dct);
        if self.delta_order == 0 {
            return Ok(mfcc);
        }
        let frames = mfcc.nrows();
        let n_mfcc = mfcc.ncols();
        let mut out = Array2::zeros((frames, self.dim()));
        out.slice_mut(s![.., ..n_mfcc]).assign(&mfcc);
        for order in 1..=self.delta_order {
            let d = delta(mfcc.view(), order)?;
            out.slice_mut(s![.., order * n_mfcc..(order + 1) * n_mfcc])
                .assign(&d);
        }
        Ok(out)
    }
}

/// `librosa.feature.delta(x.T, width=9, order, mode='interp').T` for order 1 or 2.
/// x: `[frames, coefficients]` → same shape.
///
/// The Savitzky-Golay derivative of polynomial order `order` over 9 frames is a fixed
/// correlation: the slope `Σ k·x[t+k] / 60` (order 1) or twice the quadratic coefficient
/// `2·Σ (k² − 20/3)·x[t+k] / 308` (order 2), k = −4..=4. Mode `interp` fits the same
/// polynomial to the first (last) 9 frames, whose derivative of that order is constant, so
/// the 4 edge frames at each end repeat the nearest interior value.
pub fn delta(x: ArrayView2<f32>, order: usize) -> Result<Array2<f32>, BaselineError> {
    if !(1..=2).contains(&order) {
        return Err(BaselineError::Config(format!(
            "delta order is {order}; it must be 1 or 2"
        )));
    }
    let frames = x.nrows();
    if frames < DELTA_WIDTH {
        return Err(BaselineError::TooFewFrames {
            frames,
            needed: DELTA_WIDTH,
        });
    }
    let half = DELTA_HALF as i64;
    let weights: Vec<f32> = (-half..=half)
        .map(|k| {
            let k = k as f64;
            let w = match order {
                1 => k / 60.0,
                _ => 2.0 * (k * k - 20.0 / 3.0) / 308.0,
            };
            w as f32
        })
        .collect();
    let mut out = Array2::zeros(x.raw_dim());
    for t in DELTA_HALF..frames - DELTA_HALF {
        let mut row = out.row_mut(t);
        for (k, &w) in weights.iter().enumerate() {
            row.scaled_add(w, &x.row(t + k - DELTA_HALF));
        }
    }
    let first = out.row(DELTA_HALF).to_owned();
    let last = out.row(frames - DELTA_HALF - 1).to_owned();
    for t in 0..DELTA_HALF {
        out.row_mut(t).assign(&first);
        out.row_mut(frames - 1 - t).assign(&last);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn dct_of_a_known_vector_matches_the_hand_computed_one() {
        // X_k = s_k Σ x_n cos(π k (2n+1) / 8), s_0 = 1/2, s_k = 1/√2, for x = [1, 2, 3, 4]:
        // X_0 = 10/2 = 5; X_1 = (cos π/8 + 2 cos 3π/8 − 3 cos 3π/8 − 4 cos π/8)/√2
        //     = −(3 cos π/8 + cos 3π/8)/√2; X_2 = (1 − 2 − 3 + 4) cos(π/4)/√2 = 0;
        // X_3 = (cos 3π/8 − 2 cos π/8 + 3 cos π/8 − 4 cos 3π/8)/√2 = (cos π/8 − 3 cos 3π/8)/√2.
        let (c1, c3) = (
            (std::f64::consts::PI / 8.0).cos(),
            (3.0 * std::f64::consts::PI / 8.0).cos(),
        );
        let expected = [
            5.0,
            -(3.0 * c1 + c3) / 2f64.sqrt(),
            0.0,
            (c1 - 3.0 * c3) / 2f64.sqrt(),
        ];
        let x = array![[1.0f32, 2.0, 3.0, 4.0]];
        let got = x.dot(&dct2_ortho_matrix(4, 4));
        for (g, e) in got.iter().zip(expected) {
            assert!((*g as f64 - e).abs() < 1e-6, "{got} vs {expected:?}");
        }
        assert!((expected[1] + 2.230442).abs() < 1e-6);
    }

    #[test]
    fn the_full_dct_is_orthonormal() {
        let d = dct2_ortho_matrix(128, 128);
        let gram = d.t().dot(&d);
        for ((i, j), &v) in gram.indexed_iter() {
            let want = if i == j { 1.0 } else { 0.0 };
            assert!((v - want).abs() < 1e-5, "({i}, {j}) = {v}");
        }
    }

    #[test]
    fn deltas_of_polynomials_in_time_are_their_derivatives() {
        // x(t) = 3t + 1 → delta 3 everywhere; x(t) = t² → delta 2t inside, delta-delta 2.
        let frames = 20;
        let x = Array2::from_shape_fn((frames, 2), |(t, c)| {
            let t = t as f32;
            if c == 0 {
                3.0 * t + 1.0
            } else {
                t * t
            }
        });
        let d1 = delta(x.view(), 1).unwrap();
        let d2 = delta(x.view(), 2).unwrap();
        for t in 0..frames {
            assert!((d1[[t, 0]] - 3.0).abs() < 1e-5);
            assert!((d2[[t, 1]] - 2.0).abs() < 1e-4, "{}", d2[[t, 1]]);
            let inner = t.clamp(4, frames - 5) as f32;
            assert!((d1[[t, 1]] - 2.0 * inner).abs() < 1e-4, "t {t}");
        }
    }

    #[test]
    fn refuses_bad_plans_and_short_inputs() {
        assert!(FrameFeatures::new(128, 0, 0).is_err());
        assert!(FrameFeatures::new(128, 129, 0).is_err());
        assert!(FrameFeatures::new(128, 13, 3).is_err());
        let plan = FrameFeatures::new(8, 4, 2).unwrap();
        assert_eq!(plan.dim(), 12);
        let short = Array2::<f32>::zeros((8, 8));
        assert!(matches!(
            plan.compute(short.view()),
            Err(BaselineError::TooFewFrames { frames: 8, .. })
        ));
        assert!(plan.compute(Array2::<f32>::zeros((20, 7)).view()).is_err());
    }
}
