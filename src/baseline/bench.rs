//! The baseline benchmark: fit and predict on synthetic excerpts held in memory as float16,
//! the feature store's element type, so reading costs what a warm store costs. Measures and
//! reports; never asserts.
//!
//! Track i belongs to one of 16 classes, whose 8 mel bands are 30 dB louder in a random 60 %
//! of the frames, over a per-track spectral tilt and ±5 dB noise; its target is the class's
//! prototype plus noise, scaled to unit norm. Splits: 80 % train, 10 % valid, 10 % test.

use std::sync::atomic::AtomicBool;
use std::time::Instant;

use half::f16;
use ndarray::{Array2, Axis};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::fit::FitStage;
use super::regression::mse;
use super::{fit, BaselineConfig, BaselineError, FitReport};
use crate::dsp::mel::{EXCERPT_FRAMES, N_MELS};

const CLASSES: usize = 16;

/// The figures of one run.
#[derive(Debug, Clone)]
pub struct BenchReport {
    pub tracks: usize,
    pub threads: usize,
    /// Making the synthetic excerpts (not part of the fit).
    pub generate_secs: f64,
    pub fit_secs: f64,
    /// CPU time (all threads) of the fit, when the platform reports it (Linux).
    pub fit_cpu_secs: Option<f64>,
    /// Wall and CPU time of each fit stage, in order.
    pub stage_secs: Vec<StageTime>,
    pub predict_tracks_per_sec: f64,
    /// Test MSE of the baseline and of predicting the training mean.
    pub test_mse: f64,
    pub test_mse_of_mean: f64,
    pub fit: FitReport,
}

/// The time one fit stage took.
#[derive(Debug, Clone, Copy)]
pub struct StageTime {
    pub stage: FitStage,
    pub wall_secs: f64,
    pub cpu_secs: Option<f64>,
}

/// A point in time, on the wall clock and in this process's CPU time.
#[derive(Clone, Copy)]
struct Stamp {
    wall: Instant,
    cpu_secs: Option<f64>,
}

impl Stamp {
    fn now() -> Self {
        Self {
            wall: Instant::now(),
            cpu_secs: crate::bench::process_cpu_secs(),
        }
    }

    /// (wall, CPU) seconds since `self`.
    fn elapsed(&self) -> (f64, Option<f64>) {
        let now = Stamp::now();
        let cpu = now.cpu_secs.zip(self.cpu_secs).map(|(b, a)| b - a);
        ((now.wall - self.wall).as_secs_f64(), cpu)
    }
}

/// Runs the benchmark on `tracks` synthetic tracks with `factors` target factors.
pub fn run(
    tracks: usize,
    factors: usize,
    config: &BaselineConfig,
) -> Result<BenchReport, BaselineError> {
    let start = Instant::now();
    let excerpts: Vec<Vec<f16>> = (0..tracks).into_par_iter().map(synthetic_excerpt).collect();
    let targets = synthetic_targets(tracks, factors);
    let generate_secs = start.elapsed().as_secs_f64();
    let source = |track: usize, out: &mut [f32]| -> Result<(), String> {
        let excerpt = excerpts
            .get(track)
            .ok_or_else(|| format!("no synthetic track {track}"))?;
        for (o, v) in out.iter_mut().zip(excerpt) {
            *o = v.to_f32();
        }
        Ok(())
    };
    let (train_end, valid_end) = (tracks * 8 / 10, tracks * 9 / 10);
    let train: Vec<usize> = (0..train_end).collect();
    let valid: Vec<usize> = (train_end..valid_end).collect();
    let test: Vec<usize> = (valid_end..tracks).collect();
    let cancel = AtomicBool::new(false);

    let mut stage_secs: Vec<StageTime> = Vec::new();
    let mut stage_start = Stamp::now();
    let fit_start = stage_start;
    let model = fit(
        &source,
        &train,
        &valid,
        &targets,
        config,
        &mut |stage, _, _| {
            if stage_secs.last().map(|s| s.stage) != Some(stage) {
                if let Some(last) = stage_secs.last_mut() {
                    (last.wall_secs, last.cpu_secs) = stage_start.elapsed();
                }
                stage_secs.push(StageTime {
                    stage,
                    wall_secs: 0.0,
                    cpu_secs: None,
                });
                stage_start = Stamp::now();
            }
        },
        &cancel,
    )?;
    let (fit_secs, fit_cpu_secs) = fit_start.elapsed();
    if let Some(last) = stage_secs.last_mut() {
        (last.wall_secs, last.cpu_secs) = stage_start.elapsed();
    }

    let start = Instant::now();
    let prediction = model.predict(&source, &test, &mut |_, _| {}, &cancel)?;
    let predict_tracks_per_sec = test.len() as f64 / start.elapsed().as_secs_f64();
    let test_targets = targets.select(Axis(0), &test);
    let mean = Array2::from_shape_fn(test_targets.raw_dim(), |(_, f)| model.target_mean[f]);
    Ok(BenchReport {
        tracks,
        threads: rayon::current_num_threads(),
        generate_secs,
        fit_secs,
        fit_cpu_secs,
        stage_secs,
        predict_tracks_per_sec,
        test_mse: mse(prediction.factors.view(), test_targets.view()),
        test_mse_of_mean: mse(mean.view(), test_targets.view()),
        fit: model.report,
    })
}

/// One track's log-mel excerpt, `[EXCERPT_FRAMES × N_MELS]` time-major, as float16.
fn synthetic_excerpt(track: usize) -> Vec<f16> {
    let mut rng = StdRng::seed_from_u64(track as u64);
    let band = (track % CLASSES) * (N_MELS / CLASSES);
    let tilt_db: f32 = rng.random_range(-30.0..0.0);
    let mut out = Vec::with_capacity(EXCERPT_FRAMES * N_MELS);
    for _ in 0..EXCERPT_FRAMES {
        let on = rng.random_bool(0.6);
        for m in 0..N_MELS {
            let mut v = -50.0 + tilt_db * m as f32 / N_MELS as f32 + rng.random_range(-5.0..5.0);
            if on && (band..band + N_MELS / CLASSES).contains(&m) {
                v += 30.0;
            }
            out.push(f16::from_f32(v));
        }
    }
    out
}

/// Class prototype plus noise, each row scaled to unit norm. → `[tracks, factors]`.
fn synthetic_targets(tracks: usize, factors: usize) -> Array2<f32> {
    let mut rng = StdRng::seed_from_u64(u64::MAX);
    let prototypes = Array2::from_shape_fn((CLASSES, factors), |_| rng.random_range(-1.0f32..1.0));
    let mut targets = Array2::from_shape_fn((tracks, factors), |(i, f)| {
        prototypes[[i % CLASSES, f]] + rng.random_range(-0.5..0.5)
    });
    for mut row in targets.outer_iter_mut() {
        let norm = row.dot(&row).sqrt().max(f32::MIN_POSITIVE);
        row /= norm;
    }
    targets
}
