//! `deepcuts eval`: the paper's cold-start table on a project. Each user's listens of the test
//! tracks are ranked among all evaluated test tracks by `x_u · y_i`, with the cold-start WMF
//! user factors x_u and item factors y_i from
//! - `random`: uniform scores;
//! - `baseline`: the ridge regression from bag-of-words MFCC (or mel statistics) features,
//!   fitted here on the training tracks' unit-norm factors (saved in `baseline/`);
//! - `convnet`: the trained network's predictions;
//! - `upper_bound`: the factors the test tracks' own listens give (one ALS half-step).
//!
//! Test tracks need features and at least one listen; users need at least one listen outside
//! the test tracks (else their factors are zero and every method ties). The table goes to
//! `eval/coldstart.json`.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use ndarray::Array2;

use super::excerpts::StoreExcerpts;
use super::split::{Part, TrackSplit};
use super::train_project::{coldstart_factors, learnable_tracks};
use super::upper_bound::solve_item_factors;
use super::ColdstartError;
use crate::baseline::{self, BaselineConfig, BaselineError, FitStage};
use crate::cf::eval::{evaluate, write_table, Candidates, Scorer};
use crate::cf::metrics::{Cutoffs, EvalTable};
use crate::cf::sparse::PlayCounts;
use crate::cf::wmf::{IterationReport, WmfConfig};
use crate::convnet::loss::unit_norm;
use crate::convnet::InferDevice;
use crate::features::{self, Shard};
use crate::predict::batches::scatter_rows;
use crate::predict::{load_net, missing_features, predict_rows, BatchOptions};
use crate::project::{layout, Project};
use crate::track_issue::TrackIssue;

/// The methods of the table, in the paper's order.
pub const METHODS: [&str; 4] = ["random", "baseline", "convnet", "upper_bound"];

/// How to evaluate.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The convnet's weights; `None`: the project's `model/weights.safetensors`.
    pub model: Option<PathBuf>,
    pub device: InferDevice,
    pub baseline: BaselineConfig,
    /// The cold-start WMF; must be the one training used for its saved factors to be reused.
    pub wmf: WmfConfig,
    /// Worker threads (0: one per core).
    pub threads: usize,
    /// Seed of the random scores.
    pub random_seed: u64,
}

impl EvalOptions {
    /// DESIGN.md's WMF with `factors` factors, the bag-of-words baseline.
    pub fn new(factors: usize) -> Self {
        Self {
            model: None,
            device: InferDevice::Auto,
            baseline: BaselineConfig::default(),
            wmf: WmfConfig {
                factors,
                ..WmfConfig::default()
            },
            threads: 0,
            random_seed: 0,
        }
    }
}

/// Progress of `eval_project`.
#[derive(Debug, Clone, PartialEq)]
pub enum EvalProgress {
    /// A cold-start WMF iteration finished (the saved factors were missing or stale).
    Wmf(IterationReport),
    /// Fitting the baseline.
    Baseline {
        stage: FitStage,
        done: usize,
        total: usize,
    },
    /// Running the convnet on the test tracks.
    Convnet { done: usize, total: usize },
    /// Ranking with one method.
    Scoring(&'static str),
}

/// The result of `eval_project`.
#[derive(Debug, Clone, PartialEq)]
pub struct EvalReport {
    /// Method → metrics (also written to `eval/coldstart.json`).
    pub table: EvalTable,
    /// Test tracks ranked.
    pub test_tracks: usize,
    /// Test tracks left out, with the reason.
    pub left_out: Vec<TrackIssue>,
    /// Whether the cold-start factors had to be fitted now (the model was then trained on
    /// other targets, or not at all).
    pub factors_fitted: bool,
    /// The baseline's fit.
    pub baseline: baseline::FitReport,
}

/// Runs the cold-start evaluation of `project`; see the module documentation.
pub fn eval_project(
    project: &Project,
    options: &EvalOptions,
    progress: &mut dyn FnMut(EvalProgress),
    cancel: &AtomicBool,
) -> Result<EvalReport, ColdstartError> {
    let layout = project.layout();
    let split_path = layout.path(layout::SPLIT_TSV);
    if !split_path.exists() {
        return Err(ColdstartError::NoSplit { path: split_path });
    }
    let tracks = project.catalog().track_count()?;
    let split = TrackSplit::read(&split_path, tracks)?;
    let store = features::open_store(project, Shard::ALL)?;
    let model_path = options
        .model
        .clone()
        .unwrap_or_else(|| layout.path(layout::MODEL_WEIGHTS));
    // Load the network first: a missing model is an error before any long work.
    let net = load_net(&model_path, &options.device, options.threads)?;
    if net.config().factors != options.wmf.factors {
        return Err(ColdstartError::Invalid(format!(
            "{}: the network predicts {} factors, the cold-start WMF has {}",
            model_path.display(),
            net.config().factors,
            options.wmf.factors
        )));
    }
    let (listens, factors, factors_fitted) = coldstart_factors(
        project,
        &split,
        &options.wmf,
        &mut |report| progress(EvalProgress::Wmf(*report)),
        cancel,
    )?;

    let mut left_out = Vec::new();
    let mut test_tracks = Vec::new();
    for track in split.tracks(Part::Test) {
        let reason = missing_features(store.status(track as usize)).or_else(|| {
            let listened = !listens.heldout.by_item().row(track as usize).0.is_empty();
            (!listened).then(|| "no listens to rank".to_owned())
        });
        match reason {
            None => test_tracks.push(track),
            Some(reason) => left_out.push(TrackIssue {
                track: track as usize,
                reason,
            }),
        }
    }
    if test_tracks.len() < 2 {
        return Err(ColdstartError::Unusable(format!(
            "{} test tracks have features and listens: at least 2 are needed to rank",
            test_tracks.len()
        )));
    }
    let heldout = ranked_listens(&listens.train, &listens.heldout, &test_tracks)?;
    let rows: Vec<usize> = test_tracks.iter().map(|&t| t as usize).collect();
    let source = StoreExcerpts::new(&store, tracks);

    // (b) The baseline, on the unit-norm factors of the tracks the convnet learned from.
    let mut unused = Vec::new();
    let train = learnable_tracks(&split, Part::Train, &store, &factors.items, &mut unused);
    let valid = learnable_tracks(&split, Part::Valid, &store, &factors.items, &mut unused);
    let mut targets = factors.items.clone();
    for mut row in targets.rows_mut() {
        let unit = unit_norm(
            row.as_slice()
                .expect("an owned array's rows are contiguous"),
        );
        row.assign(&ndarray::ArrayView1::from(&unit));
    }
    let model = baseline::fit(
        &source,
        &train,
        &valid,
        &targets,
        &options.baseline,
        &mut |stage, done, total| progress(EvalProgress::Baseline { stage, done, total }),
        cancel,
    )
    .map_err(cancelled)?;
    model.save(&layout.path(layout::BASELINE_DIR))?;
    let baseline_factors = model
        .predict(&source, &rows, &mut |_, _| {}, cancel)
        .map_err(cancelled)?
        .factors;

    // (c) The convnet.
    let read = |row: usize, out: &mut [f32]| store.read_row(row, out).map_err(|e| e.to_string());
    let predictions = predict_rows(
        &net,
        &read,
        &rows,
        BatchOptions {
            conv1_stats: false,
            ..BatchOptions::default()
        },
        &mut |done, total| progress(EvalProgress::Convnet { done, total }),
        cancel,
    )
    .map_err(crate::predict::PredictError::from)?;
    if predictions.cancelled {
        return Err(ColdstartError::Cancelled);
    }
    if let Some(issue) = predictions.skipped.first() {
        return Err(ColdstartError::Unusable(format!("test {issue}")));
    }

    // (d) The upper bound.
    let upper = solve_item_factors(
        &listens.heldout,
        factors.users.view(),
        &test_tracks,
        &options.wmf,
    )?;

    let mut table = EvalTable::new();
    let scored: [(&'static str, Option<&Array2<f32>>); 4] = [
        ("random", None),
        ("baseline", Some(&baseline_factors)),
        ("convnet", Some(&predictions.factors)),
        ("upper_bound", Some(&upper)),
    ];
    for (method, test_factors) in scored {
        if cancel.load(Ordering::Relaxed) {
            return Err(ColdstartError::Cancelled);
        }
        progress(EvalProgress::Scoring(method));
        let items = test_factors.map(|f| scatter_rows(f.view(), &rows, tracks));
        let scorer = match &items {
            None => Scorer::Random {
                seed: options.random_seed,
            },
            Some(items) => Scorer::Factors {
                users: factors.users.view(),
                items: items.view(),
            },
        };
        let metrics = evaluate(
            &listens.train,
            &heldout,
            &scorer,
            &Candidates::Only(&test_tracks),
            Cutoffs::default(),
            options.threads,
        )?;
        table.insert(method.to_owned(), metrics);
    }
    write_table(&layout.path(layout::EVAL_COLDSTART), &table)?;
    Ok(EvalReport {
        table,
        test_tracks: test_tracks.len(),
        left_out,
        factors_fitted,
        baseline: model.report,
    })
}

fn cancelled(error: BaselineError) -> ColdstartError {
    match error {
        BaselineError::Cancelled => ColdstartError::Cancelled,
        other => other.into(),
    }
}

/// The held-out listens that are ranked: those of `test_tracks` by users with at least one
/// listen in `train` (a user without one has zero factors, and every method would tie).
fn ranked_listens(
    train: &PlayCounts,
    heldout: &PlayCounts,
    test_tracks: &[u32],
) -> Result<PlayCounts, ColdstartError> {
    let triplets = heldout.by_user().triplets().filter(|&(user, track, _)| {
        !train.by_user().row(user as usize).0.is_empty()
            && test_tracks.binary_search(&track).is_ok()
    });
    Ok(PlayCounts::from_triplets(
        heldout.users(),
        heldout.items(),
        triplets,
    )?)
}
