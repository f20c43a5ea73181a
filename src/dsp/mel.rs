//! Log-mel spectrograms with exactly librosa's conventions (DESIGN.md):
//! `power_to_db(melspectrogram(y, sr=22050, n_fft=2048, hop_length=1024, window='hann',
//! center=True, pad_mode='constant', power=2.0, n_mels=128, fmin=0, fmax=11025, htk=False,
//! norm='slaney'), ref=1.0, amin=1e-10, top_db=None)`.
//!
//! The plan (FFT, window, filterbank) is built once and shared; each [`MelSpectrogram`] owns its
//! scratch buffers, so clone one per thread and nothing allocates inside the frame loop.

use std::sync::Arc;

use ndarray::Array2;
use realfft::num_complex::Complex;
use realfft::{RealFftPlanner, RealToComplex};

use crate::audio::{ANALYSIS_RATE_HZ, EXCERPT_SAMPLES};

/// FFT length in samples.
pub const N_FFT: usize = 2048;
/// Hop between frames in samples.
pub const HOP_LENGTH: usize = 1024;
/// Number of mel bands.
pub const N_MELS: usize = 128;
/// Frequency bins of one FFT frame.
pub const N_BINS: usize = N_FFT / 2 + 1;
/// Frames of a 30-s excerpt: `1 + 661500 / 1024`.
pub const EXCERPT_FRAMES: usize = frame_count(EXCERPT_SAMPLES);
/// The floor of the power spectrum before the logarithm (librosa's `amin`).
const AMIN: f32 = 1e-10;

/// Frames librosa's centred STFT gives for `n_samples` samples.
pub const fn frame_count(n_samples: usize) -> usize {
    1 + n_samples / HOP_LENGTH
}

/// One mel band's triangle: the weights of the FFT bins `first_bin..first_bin + weights.len()`.
#[derive(Debug, Clone)]
struct MelBand {
    first_bin: usize,
    weights: Vec<f32>,
}

/// What every thread shares: the FFT plan, the window and the filterbank.
struct MelPlan {
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    bands: Vec<MelBand>,
}

/// A log-mel spectrogram extractor. Cheap to clone (the plan is shared); a clone per thread.
#[derive(Clone)]
pub struct MelSpectrogram {
    plan: Arc<MelPlan>,
    frame: Vec<f64>,
    /// The signal in f64, converted once rather than once per overlapping frame.
    signal: Vec<f64>,
    spectrum: Vec<Complex<f64>>,
    power: Vec<f32>,
    scratch: Vec<Complex<f64>>,
}

impl Default for MelSpectrogram {
    fn default() -> Self {
        Self::new()
    }
}

impl MelSpectrogram {
    /// Plans the FFT and builds the filterbank for DESIGN.md's parameters.
    pub fn new() -> Self {
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(N_FFT);
        let spectrum = fft.make_output_vec();
        let scratch = fft.make_scratch_vec();
        let plan = MelPlan {
            window: periodic_hann(N_FFT),
            bands: slaney_filterbank(ANALYSIS_RATE_HZ as f64, N_FFT, N_MELS),
            fft,
        };
        Self {
            plan: Arc::new(plan),
            frame: vec![0.0; N_FFT],
            signal: Vec::new(),
            spectrum,
            power: vec![0.0; N_BINS],
            scratch,
        }
    }

    /// Log-mel spectrogram in dB of mono 22050-Hz `samples`.
    /// Returns `[frame_count(samples.len()), N_MELS]`, time-major.
    pub fn compute(&mut self, samples: &[f32]) -> Array2<f32> {
        let frames = frame_count(samples.len());
        let mut out = Array2::<f32>::zeros((frames, N_MELS));
        let mut signal = std::mem::take(&mut self.signal);
        signal.clear();
        signal.extend(samples.iter().map(|&s| f64::from(s)));
        for (t, mut row) in out.outer_iter_mut().enumerate() {
            let row = row
                .as_slice_mut()
                .expect("rows of a standard-layout array are contiguous");
            self.frame_into(&signal, t, row);
        }
        self.signal = signal;
        out
    }

    /// Computes frame `t` of `samples` into `row` ([N_MELS] dB values).
    fn frame_into(&mut self, samples: &[f64], t: usize, row: &mut [f32]) {
        // Centred frames: frame t covers samples t*hop - n_fft/2 .. t*hop + n_fft/2, zero outside.
        let start = (t * HOP_LENGTH) as isize - (N_FFT / 2) as isize;
        let first = (-start).clamp(0, N_FFT as isize) as usize;
        let last = (samples.len() as isize - start).clamp(first as isize, N_FFT as isize) as usize;
        self.frame[..first].fill(0.0);
        self.frame[last..].fill(0.0);
        let inside = &samples[(start + first as isize) as usize..(start + last as isize) as usize];
        for ((x, w), &s) in self.frame[first..last]
            .iter_mut()
            .zip(&self.plan.window[first..last])
            .zip(inside)
        {
            *x = s * w;
        }
        // librosa windows and transforms in float64 (a float64 window times float32 frames);
        // a float32 FFT is 0.05 dB off on quiet bins of a chirp, f64 agrees to 1e-5 dB.
        self.plan
            .fft
            .process_with_scratch(&mut self.frame, &mut self.spectrum, &mut self.scratch)
            .expect("buffers were made by the plan, so their lengths match");
        for (p, c) in self.power.iter_mut().zip(&self.spectrum) {
            *p = c.norm_sqr() as f32;
        }
        for (value, band) in row.iter_mut().zip(&self.plan.bands) {
            let bins = &self.power[band.first_bin..band.first_bin + band.weights.len()];
            *value = 10.0 * dot(bins, &band.weights).max(AMIN).log10();
        }
    }
}

/// A dot product with four independent sums, so it vectorises.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut sums = [0.0f32; 4];
    let (a4, b4) = (a.chunks_exact(4), b.chunks_exact(4));
    let tail: f32 = a4
        .remainder()
        .iter()
        .zip(b4.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a4.zip(b4) {
        for lane in 0..4 {
            sums[lane] += x[lane] * y[lane];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// The periodic Hann window of scipy's `get_window('hann', n, fftbins=True)`.
fn periodic_hann(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / n as f64).cos())
        .collect()
}

/// Hz to mel on the Slaney scale (librosa's `hz_to_mel(htk=False)`): linear below 1 kHz,
/// logarithmic above.
pub fn hz_to_mel(hz: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    if hz >= MIN_LOG_HZ {
        min_log_mel + (hz / MIN_LOG_HZ).ln() / log_step
    } else {
        hz / F_SP
    }
}

/// Mel to Hz on the Slaney scale, the inverse of [`hz_to_mel`].
pub fn mel_to_hz(mel: f64) -> f64 {
    const F_SP: f64 = 200.0 / 3.0;
    const MIN_LOG_HZ: f64 = 1000.0;
    let min_log_mel = MIN_LOG_HZ / F_SP;
    let log_step = 6.4f64.ln() / 27.0;
    if mel >= min_log_mel {
        MIN_LOG_HZ * (log_step * (mel - min_log_mel)).exp()
    } else {
        F_SP * mel
    }
}

/// Centre frequencies in Hz of the `n_mels` bands (librosa's `mel_frequencies(n_mels + 2)`
/// without the two edges), for labelling axes.
pub fn band_centres_hz() -> Vec<f64> {
    band_edges_hz(N_MELS, ANALYSIS_RATE_HZ as f64 / 2.0)[1..=N_MELS].to_vec()
}

/// `n_mels + 2` frequencies equally spaced on the mel scale from 0 to `fmax_hz`.
fn band_edges_hz(n_mels: usize, fmax_hz: f64) -> Vec<f64> {
    let max_mel = hz_to_mel(fmax_hz);
    (0..n_mels + 2)
        .map(|i| mel_to_hz(max_mel * i as f64 / (n_mels + 1) as f64))
        .collect()
}

/// librosa's `filters.mel(sr, n_fft, n_mels, fmin=0, fmax=sr/2, htk=False, norm='slaney')`,
/// computed in f64 as librosa does and stored sparsely (each triangle spans a few bins).
fn slaney_filterbank(sample_rate_hz: f64, n_fft: usize, n_mels: usize) -> Vec<MelBand> {
    let n_bins = n_fft / 2 + 1;
    let fft_freqs: Vec<f64> = (0..n_bins)
        .map(|k| k as f64 * sample_rate_hz / n_fft as f64)
        .collect();
    let edges = band_edges_hz(n_mels, sample_rate_hz / 2.0);
    (0..n_mels)
        .map(|m| {
            let (lo, centre, hi) = (edges[m], edges[m + 1], edges[m + 2]);
            // Slaney normalisation: each triangle has unit area.
            let norm = 2.0 / (hi - lo);
            let weights: Vec<f64> = fft_freqs
                .iter()
                .map(|&f| {
                    let rising = (f - lo) / (centre - lo);
                    let falling = (hi - f) / (hi - centre);
                    rising.min(falling).max(0.0) * norm
                })
                .collect();
            let first_bin = weights.iter().position(|&w| w > 0.0).unwrap_or(0);
            let last_bin = weights.iter().rposition(|&w| w > 0.0).unwrap_or(0);
            MelBand {
                first_bin,
                weights: weights[first_bin..=last_bin.max(first_bin)]
                    .iter()
                    .map(|&w| w as f32)
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excerpt_has_646_frames() {
        assert_eq!(EXCERPT_FRAMES, 646);
        assert_eq!(frame_count(0), 1);
        assert_eq!(frame_count(1023), 1);
        assert_eq!(frame_count(1024), 2);
    }

    #[test]
    fn slaney_scale_matches_hand_computed_points() {
        // Linear part: 200/3 Hz per mel; 1 kHz is mel 15; 6.4 kHz is 27 log steps above.
        assert!((hz_to_mel(200.0 / 3.0) - 1.0).abs() < 1e-12);
        assert!((hz_to_mel(1000.0) - 15.0).abs() < 1e-12);
        assert!((hz_to_mel(6400.0) - 42.0).abs() < 1e-9);
        for hz in [0.0, 440.0, 999.0, 1000.0, 5000.0, 11025.0] {
            assert!((mel_to_hz(hz_to_mel(hz)) - hz).abs() < 1e-9);
        }
    }

    #[test]
    fn filterbank_triangles_have_unit_area_and_cover_the_spectrum() {
        let bands = slaney_filterbank(22050.0, 2048, 128);
        let bin_hz = 22050.0 / 2048.0;
        for (m, band) in bands.iter().enumerate() {
            assert!(!band.weights.is_empty(), "band {m} is empty");
            assert!(band.weights.iter().all(|&w| w > 0.0));
            // Sum of weights x bin width approximates the unit area of a triangle
            // that spans several bins (the narrow low bands span ~1-2 bins only).
            if band.weights.len() >= 8 {
                let area: f64 = band.weights.iter().map(|&w| w as f64 * bin_hz).sum();
                assert!((area - 1.0).abs() < 0.05, "band {m}: area {area}");
            }
        }
        let last = bands.last().unwrap();
        assert!(last.first_bin + last.weights.len() <= N_BINS);
    }

    #[test]
    fn silence_is_the_floor_and_a_sine_peaks_in_its_band() {
        let mut mel = MelSpectrogram::new();
        let silent = mel.compute(&vec![0.0; 22050]);
        assert!(silent.iter().all(|&v| v == -100.0));
        let sine: Vec<f32> = (0..22050)
            .map(|i| (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / 22050.0).sin())
            .collect();
        let spec = mel.compute(&sine);
        let row = spec.row(10);
        let peak = row
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        let centres = band_centres_hz();
        let nearest = centres
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - 1000.0).abs().total_cmp(&(b.1 - 1000.0).abs()))
            .unwrap()
            .0;
        assert!(
            peak.abs_diff(nearest) <= 1,
            "peak {peak}, 1 kHz band {nearest}"
        );
    }
}
