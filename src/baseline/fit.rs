//! Fitting the baseline: learn the codebook on frames sampled from the training tracks,
//! encode the training and validation tracks, and choose the ridge λ on the validation split.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::atomic::AtomicBool;

use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use super::batch::map_excerpts;
use super::bow::{column_mean_and_scale, standardise, BagOfWordsEncoder};
use super::codebook::kmeans;
use super::mfcc::FrameFeatures;
use super::model::{BaselineModel, Encoder};
use super::regression::{mse, select_ridge, LambdaScore};
use super::{BagOfWordsConfig, BaselineConfig, BaselineError, ExcerptSource, FeatureConfig};
use crate::dsp::mel::{EXCERPT_FRAMES, N_MELS};
use crate::track_issue::TrackIssue;

/// The stages of a fit, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FitStage {
    /// Reading training excerpts and drawing frames for the codebook.
    SamplingFrames,
    /// k-means iterations.
    Clustering,
    /// Reading the training and validation excerpts and encoding them.
    Encoding,
    /// Ridge fits, one per λ.
    Regression,
}

impl fmt::Display for FitStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            FitStage::SamplingFrames => "sampling frames",
            FitStage::Clustering => "k-means",
            FitStage::Encoding => "encoding tracks",
            FitStage::Regression => "ridge regression",
        })
    }
}

/// What a fit found; stored with the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitReport {
    /// The ridge λ kept.
    pub lambda: f64,
    /// Validation MSE (mean over tracks and factors) with that λ.
    pub valid_mse: f64,
    /// Validation MSE of predicting the training mean for every track: the bar to beat.
    pub valid_mse_of_mean: f64,
    /// Validation MSE of every λ tried.
    pub lambda_scores: Vec<LambdaScore>,
    /// Training and validation tracks used (after skipping bad ones).
    pub train_tracks: usize,
    pub valid_tracks: usize,
    /// Frames the codebook was learned from, Lloyd iterations, and whether they converged
    /// (0, 0, true for mel statistics).
    pub codebook_frames: usize,
    pub kmeans_iterations: usize,
    pub kmeans_converged: bool,
    /// Tracks whose excerpt could not be used, with the reason.
    pub skipped: Vec<TrackIssue>,
}

/// Fits the baseline. `targets`: `[tracks, F]`, row i the target factors of track i (fitted as
/// given: scale rows to unit norm beforehand to match the convnet's training target);
/// `train` and `valid` index its rows and the `source`'s tracks. The codebook and the weights
/// are learned on `train` only; `valid` only picks λ. Bad excerpts are skipped and
/// listed in the report. `progress(stage, done, total)` runs on the calling thread; returns
/// `Err(Cancelled)` soon after `cancel` is set.
pub fn fit(
    source: &dyn ExcerptSource,
    train: &[usize],
    valid: &[usize],
    targets: &Array2<f32>,
    config: &BaselineConfig,
    progress: &mut dyn FnMut(FitStage, usize, usize),
    cancel: &AtomicBool,
) -> Result<BaselineModel, BaselineError> {
    config.validate()?;
    check_split(train, "train", targets)?;
    check_split(valid, "valid", targets)?;
    let mut skipped = BTreeMap::new();
    let (encoder, clustering) = match &config.features {
        FeatureConfig::MelStatistics => (Encoder::MelStatistics, Clustering::NONE),
        FeatureConfig::BagOfWords(bow) => {
            let (encoder, clustering) = learn_bag_of_words(
                source,
                train,
                bow,
                config.seed,
                progress,
                cancel,
                &mut skipped,
            )?;
            (Encoder::BagOfWords(Box::new(encoder)), clustering)
        }
    };

    let all: Vec<usize> = train.iter().chain(valid).copied().collect();
    let mut train_encoded = map_excerpts(
        source,
        &all,
        |_, excerpt| encoder.encode(excerpt),
        &mut |done, total| progress(FitStage::Encoding, done, total),
        cancel,
    )?;
    let valid_encoded = train_encoded.split_off(train.len());
    let (train_x, train_y) = usable_rows(train, train_encoded, targets, &mut skipped);
    let (valid_x, valid_y) = usable_rows(valid, valid_encoded, targets, &mut skipped);
    for (split, rows, needed) in [("train", train_x.nrows(), 2), ("valid", valid_x.nrows(), 1)] {
        if rows < needed {
            return Err(BaselineError::TooFewTracks {
                split,
                usable: rows,
                needed,
            });
        }
    }

    let selection = select_ridge(
        train_x.view(),
        train_y.view(),
        valid_x.view(),
        valid_y.view(),
        &config.ridge_lambdas,
        &mut |done, total| progress(FitStage::Regression, done, total),
        cancel,
    )?;
    let target_mean = train_y
        .mean_axis(Axis(0))
        .expect("the training split has at least 2 usable rows");
    let mean_prediction = Array2::from_shape_fn(valid_y.raw_dim(), |(_, f)| target_mean[f]);
    let report = FitReport {
        lambda: selection.lambda,
        valid_mse: selection.valid_mse,
        valid_mse_of_mean: mse(mean_prediction.view(), valid_y.view()),
        lambda_scores: selection.scores,
        train_tracks: train_x.nrows(),
        valid_tracks: valid_x.nrows(),
        codebook_frames: clustering.frames,
        kmeans_iterations: clustering.iterations,
        kmeans_converged: clustering.converged,
        skipped: skipped
            .into_iter()
            .map(|(track, reason)| TrackIssue { track, reason })
            .collect(),
    };
    Ok(BaselineModel {
        config: config.clone(),
        encoder,
        map: selection.map,
        target_mean,
        report,
    })
}

/// Every index must be a row of `targets`, with finite values; the split must not be empty.
fn check_split(
    tracks: &[usize],
    split: &'static str,
    targets: &Array2<f32>,
) -> Result<(), BaselineError> {
    if tracks.is_empty() {
        return Err(BaselineError::TooFewTracks {
            split,
            usable: 0,
            needed: 1,
        });
    }
    for &track in tracks {
        if track >= targets.nrows() {
            return Err(BaselineError::TrackOutOfRange {
                track,
                rows: targets.nrows(),
            });
        }
        if let Some((factor, &value)) = targets
            .row(track)
            .iter()
            .enumerate()
            .find(|(_, v)| !v.is_finite())
        {
            return Err(BaselineError::TargetNotFinite {
                track,
                factor,
                value,
            });
        }
    }
    Ok(())
}

/// Stacks the encoded tracks that succeeded with their targets; records the others.
/// → (`[n, dim]`, `[n, F]`).
fn usable_rows(
    tracks: &[usize],
    encoded: Vec<Result<Array1<f32>, String>>,
    targets: &Array2<f32>,
    skipped: &mut BTreeMap<usize, String>,
) -> (Array2<f32>, Array2<f32>) {
    let mut rows = Vec::new();
    let mut kept = Vec::new();
    for (&track, result) in tracks.iter().zip(encoded) {
        match result {
            Ok(x) => {
                rows.push(x);
                kept.push(track);
            }
            Err(reason) => {
                skipped.entry(track).or_insert(reason);
            }
        }
    }
    let dim = rows.first().map_or(0, |r| r.len());
    let views: Vec<_> = rows.iter().map(|r| r.view()).collect();
    let x = if views.is_empty() {
        Array2::zeros((0, dim))
    } else {
        ndarray::stack(Axis(0), &views).expect("every encoded track has the encoder's length")
    };
    (x, targets.select(Axis(0), &kept))
}

/// How the codebook was learned.
struct Clustering {
    frames: usize,
    iterations: usize,
    converged: bool,
}

impl Clustering {
    /// No codebook (mel statistics).
    const NONE: Clustering = Clustering {
        frames: 0,
        iterations: 0,
        converged: true,
    };
}

/// Draws frames from (a subset of) the training tracks, standardises them and clusters them.
fn learn_bag_of_words(
    source: &dyn ExcerptSource,
    train: &[usize],
    config: &BagOfWordsConfig,
    seed: u64,
    progress: &mut dyn FnMut(FitStage, usize, usize),
    cancel: &AtomicBool,
    skipped: &mut BTreeMap<usize, String>,
) -> Result<(BagOfWordsEncoder, Clustering), BaselineError> {
    let frames = FrameFeatures::new(N_MELS, config.n_mfcc, config.delta_order)?;
    let per_track = config.frames_per_track.min(EXCERPT_FRAMES);
    let n_tracks = train
        .len()
        .min((config.max_codebook_frames / per_track).max(1));
    let mut rng = StdRng::seed_from_u64(seed);
    let mut chosen = rand::seq::index::sample(&mut rng, train.len(), n_tracks).into_vec();
    chosen.sort_unstable();
    let tracks: Vec<usize> = chosen.into_iter().map(|i| train[i]).collect();

    let sampled = map_excerpts(
        source,
        &tracks,
        |track, excerpt| {
            let features = frames.compute(excerpt)?;
            // Seeded per track, so the sample does not depend on thread scheduling.
            let mut rng =
                StdRng::seed_from_u64(seed ^ (track as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let mut rows =
                rand::seq::index::sample(&mut rng, features.nrows(), per_track).into_vec();
            rows.sort_unstable();
            Ok(features.select(Axis(0), &rows))
        },
        &mut |done, total| progress(FitStage::SamplingFrames, done, total),
        cancel,
    )?;
    let mut blocks = Vec::new();
    for (&track, result) in tracks.iter().zip(sampled) {
        match result {
            Ok(block) => blocks.push(block),
            Err(reason) => {
                skipped.entry(track).or_insert(reason);
            }
        }
    }
    let views: Vec<ArrayView2<f32>> = blocks.iter().map(|b| b.view()).collect();
    if views.len() * per_track < config.codebook_size {
        return Err(BaselineError::TooFewFrames {
            frames: views.len() * per_track,
            needed: config.codebook_size,
        });
    }
    let points = ndarray::concatenate(Axis(0), &views).expect("every block has the frame dim");
    drop(blocks);
    let (frame_mean, frame_scale) = column_mean_and_scale(points.view());
    let points = standardise(points, &frame_mean, &frame_scale);
    let fit = kmeans(
        points.view(),
        config.codebook_size,
        config.kmeans_iterations,
        seed,
        &mut |done, total| progress(FitStage::Clustering, done, total),
        cancel,
    )?;
    let encoder = BagOfWordsEncoder {
        frames,
        frame_mean,
        frame_scale,
        codebook: fit.codebook,
        scale: config.histogram,
    };
    let clustering = Clustering {
        frames: points.nrows(),
        iterations: fit.iterations,
        converged: fit.converged,
    };
    Ok((encoder, clustering))
}
