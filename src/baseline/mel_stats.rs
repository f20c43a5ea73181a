//! The "mel statistics" feature set: each mel band's mean and standard deviation over the
//! excerpt's frames. The simplest summary of timbre and its variability; no codebook to learn.

use ndarray::{Array1, ArrayView2, Axis};

/// logmel: `[frames, n_mels]` (dB) → `[2 · n_mels]`: the per-band means, then the per-band
/// (population) standard deviations.
pub fn mel_statistics(logmel: ArrayView2<f32>) -> Array1<f32> {
    let n_mels = logmel.ncols();
    let frames = logmel.nrows().max(1) as f64;
    let mut out = Array1::zeros(2 * n_mels);
    for (band, column) in logmel.axis_iter(Axis(1)).enumerate() {
        let mean = column.iter().map(|&v| v as f64).sum::<f64>() / frames;
        let var = column
            .iter()
            .map(|&v| (v as f64 - mean).powi(2))
            .sum::<f64>()
            / frames;
        out[band] = mean as f32;
        out[n_mels + band] = var.sqrt() as f32;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn means_then_standard_deviations_per_band() {
        let logmel = array![[1.0f32, -80.0], [3.0, -80.0], [5.0, -80.0], [7.0, -80.0]];
        let stats = mel_statistics(logmel.view());
        // Band 0: mean 4, variance (9 + 1 + 1 + 9) / 4 = 5.
        assert_eq!(stats[0], 4.0);
        assert_eq!(stats[1], -80.0);
        assert!((stats[2] - 5f32.sqrt()).abs() < 1e-6);
        assert_eq!(stats[3], 0.0);
    }
}
