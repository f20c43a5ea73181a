//! The content baseline of the cold-start evaluation, after van den Oord, Dieleman and
//! Schrauwen (NIPS 2013): a linear (ridge) regression from a fixed, hand-designed track
//! representation to the CF factors — the bar the convnet has to clear.
//!
//! Two representations: the paper's *bag of words* (MFCCs with deltas of every frame,
//! vector-quantised by a k-means codebook, one codeword histogram per track) and *mel
//! statistics* (each mel band's mean and standard deviation over time).
//!
//! The module knows nothing of the project folder: excerpts come from any [`ExcerptSource`]
//! (the feature store, or a closure), targets are an array given by the caller. The baseline
//! fits the targets exactly as given; scale them to unit L2 norm first to compare with the
//! convnet, which is trained on unit-norm factors (DESIGN.md).
//!
//! ```text
//! fit:     train excerpts ─sample frames─► MFCC+Δ ─k-means─► codebook
//!          train/valid excerpts ─encode─► [n × dim] ─ridge, λ by valid MSE─► weights
//! predict: excerpt ─encode─► x ─► x·W + b  [F]
//! ```

pub mod batch;
pub mod bench;
pub mod bow;
pub mod codebook;
pub mod fit;
pub mod mel_stats;
pub mod mfcc;
pub mod model;
pub mod regression;

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use bow::HistogramScale;
pub use fit::{fit, FitReport, FitStage};
pub use model::{BaselineModel, Encoder, Prediction};

use crate::io::npy::NpyError;

/// Where the baseline reads log-mel excerpts. Called from worker threads.
pub trait ExcerptSource: Sync {
    /// Writes track `track`'s log-mel excerpt into `out` (`[EXCERPT_FRAMES × N_MELS]`
    /// values, time-major, dB as in `dsp::mel`), or says why it cannot, naming the file.
    fn read_excerpt(&self, track: usize, out: &mut [f32]) -> Result<(), String>;
}

impl<F> ExcerptSource for F
where
    F: Fn(usize, &mut [f32]) -> Result<(), String> + Sync,
{
    fn read_excerpt(&self, track: usize, out: &mut [f32]) -> Result<(), String> {
        self(track, out)
    }
}

/// Which track representation the regression sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FeatureConfig {
    /// Codeword histograms of MFCC frames (the paper's baseline).
    BagOfWords(BagOfWordsConfig),
    /// Per-band mean and standard deviation of the log-mel (`2 × 128` values).
    MelStatistics,
}

/// The bag-of-words settings. The defaults fit a few thousand tracks in seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BagOfWordsConfig {
    /// MFCCs per frame (librosa's default is 20).
    pub n_mfcc: usize,
    /// 0: MFCCs only; 1: with deltas; 2: with deltas and delta-deltas.
    pub delta_order: usize,
    /// Codewords k (the histogram's length).
    pub codebook_size: usize,
    /// Frames drawn at random from each training track to learn the codebook.
    pub frames_per_track: usize,
    /// At most this many frames are clustered: beyond it, a random subset of the training
    /// tracks gives frames (k-means costs frames × k × dim per iteration).
    pub max_codebook_frames: usize,
    /// Upper bound on Lloyd iterations.
    pub kmeans_iterations: usize,
    pub histogram: HistogramScale,
}

impl Default for BagOfWordsConfig {
    fn default() -> Self {
        Self {
            n_mfcc: 20,
            delta_order: 2,
            codebook_size: 256,
            frames_per_track: 100,
            max_codebook_frames: 300_000,
            kmeans_iterations: 30,
            histogram: HistogramScale::Sqrt,
        }
    }
}

/// Everything that decides a fit; stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaselineConfig {
    pub features: FeatureConfig,
    /// Ridge strengths tried on the validation split (on standardised features, so the same
    /// grid suits every feature set).
    pub ridge_lambdas: Vec<f64>,
    /// Seeds frame sampling and k-means, so a fit is reproducible.
    pub seed: u64,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        Self {
            features: FeatureConfig::BagOfWords(BagOfWordsConfig::default()),
            // 1e-4 … 1e3 in half decades.
            ridge_lambdas: (-8..=6).map(|e| 10f64.powf(e as f64 / 2.0)).collect(),
            seed: 0,
        }
    }
}

impl BaselineConfig {
    /// Refuses settings no fit can run with.
    pub fn validate(&self) -> Result<(), BaselineError> {
        let bad = |what: String| Err(BaselineError::Config(what));
        if self.ridge_lambdas.is_empty() {
            return bad("ridge_lambdas is empty".into());
        }
        if let Some(l) = self
            .ridge_lambdas
            .iter()
            .find(|l| !l.is_finite() || **l < 0.0)
        {
            return bad(format!("ridge λ {l} is not a finite number ≥ 0"));
        }
        if let FeatureConfig::BagOfWords(bow) = &self.features {
            if bow.codebook_size == 0 || bow.frames_per_track == 0 || bow.kmeans_iterations == 0 {
                return bad(format!(
                    "codebook_size ({}), frames_per_track ({}) and kmeans_iterations ({}) must \
                     be at least 1",
                    bow.codebook_size, bow.frames_per_track, bow.kmeans_iterations
                ));
            }
            if bow.max_codebook_frames < bow.codebook_size {
                return bad(format!(
                    "max_codebook_frames ({}) is below codebook_size ({})",
                    bow.max_codebook_frames, bow.codebook_size
                ));
            }
        }
        Ok(())
    }
}

/// What went wrong fitting, applying, saving or loading the baseline.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline settings: {0}")]
    Config(String),
    #[error("track {track} is out of range: the targets have {rows} rows")]
    TrackOutOfRange { track: usize, rows: usize },
    #[error("target of track {track}, factor {factor} is not finite ({value})")]
    TargetNotFinite {
        track: usize,
        factor: usize,
        value: f32,
    },
    #[error("{split} split: {usable} usable tracks, at least {needed} needed")]
    TooFewTracks {
        split: &'static str,
        usable: usize,
        needed: usize,
    },
    #[error("{frames} frames, at least {needed} needed")]
    TooFewFrames { frames: usize, needed: usize },
    #[error("the ridge system is singular for λ = {lambda}: use a positive λ")]
    Singular { lambda: f64 },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a baseline model description: {source}")]
    Json {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("{path}: {reason}")]
    ModelFile { path: PathBuf, reason: String },
}
