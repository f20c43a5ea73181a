//! The bag of words: a track becomes the histogram of the codewords its frames fall on,
//! normalised by the number of frames so that excerpt length does not matter.

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use super::codebook::Codebook;
use super::mfcc::FrameFeatures;
use super::BaselineError;

/// How histogram counts are scaled before the regression.
///
/// (A tf-idf weighting is not offered: idf multiplies each column by a constant, which the
/// regression's per-feature standardisation removes again.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HistogramScale {
    /// Relative frequency of each codeword (sums to 1).
    Frequency,
    /// Square root of the relative frequency (the Hellinger map): damps the few codewords
    /// that dominate every track, which suits a linear model better.
    Sqrt,
}

/// labels: `[frames]`, each below `codebook_size` → `[codebook_size]`.
pub fn histogram(labels: &[u32], codebook_size: usize, scale: HistogramScale) -> Array1<f32> {
    let mut counts = Array1::<f32>::zeros(codebook_size);
    for &label in labels {
        counts[label as usize] += 1.0;
    }
    let total = labels.len().max(1) as f32;
    counts.mapv_inplace(|c| match scale {
        HistogramScale::Frequency => c / total,
        HistogramScale::Sqrt => (c / total).sqrt(),
    });
    counts
}

/// The fitted bag-of-words representation: frame features, their standardisation (learned on
/// the codebook's frames, so no coefficient dominates the distances) and the codebook.
#[derive(Debug, Clone)]
pub struct BagOfWordsEncoder {
    pub frames: FrameFeatures,
    /// `[dim]`
    pub frame_mean: Array1<f32>,
    /// `[dim]`: standard deviation, or 1 for a constant coefficient.
    pub frame_scale: Array1<f32>,
    /// `[k, dim]` in standardised units.
    pub codebook: Codebook,
    pub scale: HistogramScale,
}

impl BagOfWordsEncoder {
    /// logmel: `[frames, n_mels]` → `[k]`.
    pub fn encode(&self, logmel: ArrayView2<f32>) -> Result<Array1<f32>, BaselineError> {
        let frames = standardise(
            self.frames.compute(logmel)?,
            &self.frame_mean,
            &self.frame_scale,
        );
        let labels = self.codebook.assign(frames.view());
        Ok(histogram(&labels, self.codebook.len(), self.scale))
    }
}

/// `(x − mean) / scale` row by row. x: `[n, dim]`; mean, scale: `[dim]`.
pub fn standardise(mut x: Array2<f32>, mean: &Array1<f32>, scale: &Array1<f32>) -> Array2<f32> {
    for mut row in x.outer_iter_mut() {
        row -= mean;
        row /= scale;
    }
    x
}

/// Per-column mean and standard deviation (1 where a column is constant), in f64.
/// x: `[n, dim]` → (`[dim]`, `[dim]`).
pub fn column_mean_and_scale(x: ArrayView2<f32>) -> (Array1<f32>, Array1<f32>) {
    let n = x.nrows().max(1) as f64;
    let mut sum = Array1::<f64>::zeros(x.ncols());
    let mut sum_sq = Array1::<f64>::zeros(x.ncols());
    for row in x.outer_iter() {
        sum.zip_mut_with(&row, |s, &v| *s += v as f64);
        sum_sq.zip_mut_with(&row, |s, &v| *s += (v as f64).powi(2));
    }
    let mean = sum / n;
    let scale = (sum_sq / n - mean.mapv(|m| m * m)).mapv(|var| {
        let sd = var.max(0.0).sqrt();
        if sd > 1e-6 {
            sd as f32
        } else {
            1.0
        }
    });
    (mean.mapv(|m| m as f32), scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_codewords_and_normalises() {
        let labels = [2, 0, 2, 2];
        let h = histogram(&labels, 4, HistogramScale::Frequency);
        assert_eq!(h.to_vec(), vec![0.25, 0.0, 0.75, 0.0]);
        let h = histogram(&labels, 4, HistogramScale::Sqrt);
        assert_eq!(h.to_vec(), vec![0.5, 0.0, 0.75f32.sqrt(), 0.0]);
        assert_eq!(
            histogram(&[], 2, HistogramScale::Sqrt).to_vec(),
            vec![0.0, 0.0]
        );
    }

    #[test]
    fn standardisation_gives_zero_mean_unit_variance_and_leaves_constants_at_zero() {
        let x = ndarray::array![[1.0f32, 7.0], [3.0, 7.0], [5.0, 7.0]];
        let (mean, scale) = column_mean_and_scale(x.view());
        assert_eq!(mean.to_vec(), vec![3.0, 7.0]);
        // Population variance of [1, 3, 5] is 8/3.
        assert!((scale[0] - (8.0f32 / 3.0).sqrt()).abs() < 1e-6);
        assert_eq!(scale[1], 1.0);
        let z = standardise(x, &mean, &scale);
        assert!((z[[0, 0]] + 1.2247449).abs() < 1e-5);
        assert_eq!(z.column(1).to_vec(), vec![0.0; 3]);
    }
}
