//! The one job runner: every stage of the pipeline, called as a library function, reporting
//! through one event type and stopping on one cancel flag. `deepcuts pipeline` prints the
//! events; the app sends them through a bounded channel to the UI. Both run exactly this code.
//!
//! The stage functions keep their own progress callbacks (each fits its stage: items done,
//! WMF iterations, training events); [`run_stage`] adapts each of them to [`Event`], so a
//! caller sees one vocabulary whatever runs. Cancelling is the stages' common convention: the
//! flag is polled between items, what was finished stays written (exactly as Ctrl-C in the
//! CLI), and the stage reports that it was cancelled.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{stage_status, PipelineError, Stage, StageState};
use crate::analysis::tsne::stage::{map_project, MapError, MapOf};
use crate::analysis::tsne::{TsneError, TsneParams, TsneProgress};
use crate::cf::wmf::{IterationReport, WmfConfig};
use crate::coldstart::{
    eval_project, train_project, EvalOptions, EvalProgress, ObjectiveKind, TrainOptions,
    TrainProgress,
};
use crate::convnet::train::{checkpoint_summary, EpochRecord, StopReason, TrainEvent};
use crate::convnet::{ConvnetConfig, ConvnetWeights, InferDevice};
use crate::features::{self, ExtractOptions, Shard};
use crate::predict::{predict_project, PredictOptions};
use crate::project::{cf_stage, layout, Project, ProjectError};

/// The first pass the app asks for: about 100 s of the demo world's features on 2 cores,
/// enough tracks for every filter's playlist and a map with all its clusters.
pub const FIRST_PASS_TRACKS: usize = 1000;

/// The options a person chooses for a run (everything else is each stage's default).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunOptions {
    /// The last stage to run (`None`: all of them).
    pub until: Option<Stage>,
    /// The network for a new training run: `small`, `paper` or a config file (default
    /// `small`; a resumed run keeps the interrupted run's unless one is given).
    pub config: Option<String>,
    /// Most training epochs.
    pub epochs: Option<usize>,
    /// WMF latent factors of the `cf` stage (default: WMF's 40).
    pub factors: Option<usize>,
    /// Worker threads (default: all cores).
    pub threads: Option<usize>,
    /// When the model is trained and more tracks than this lack features: compute a sample
    /// of this many spread over the collection first, then predict and map it, before the
    /// rest. The views fill in minutes before the whole collection is done (the app's first
    /// launch on the demo world); the later stages then run again on everything.
    pub first_pass: Option<usize>,
    /// Where `predict` and `eval` run the network.
    pub device: InferDevice,
}

/// What a running stage reports: one vocabulary for every stage.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// `stage` starts; `why` it runs (not run yet, stale because …, resuming).
    Started { stage: Stage, why: String },
    /// `stage`'s output is up to date; it is skipped.
    UpToDate { stage: Stage },
    /// `done` of `total` items of one step of `stage` (`step` names it: "features",
    /// "epoch 3", "baseline: codebook", …).
    Items {
        stage: Stage,
        step: String,
        done: usize,
        total: usize,
    },
    /// A WMF iteration finished (the `cf` and `eval-cf` fits and the cold-start fits of
    /// `train` and `eval`); the loss is there when the fit computes it.
    Wmf {
        stage: Stage,
        report: IterationReport,
    },
    /// A training epoch finished (its line of `model/history.json`).
    Epoch {
        record: EpochRecord,
        max_epochs: usize,
    },
    /// Something worth a line: the training plan, a track left out, a failed item.
    Note { stage: Stage, text: String },
    /// `stage` ended.
    Finished { stage: Stage, outcome: StageOutcome },
}

/// How a stage ended (it returned; errors are the `Err` of [`run_stage`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageOutcome {
    /// One line saying what it did, as its command prints it.
    pub summary: String,
    /// Items that failed and were skipped (bad audio files, unreadable excerpts).
    pub failed_items: usize,
    /// The cancel flag stopped it; what it finished is kept.
    pub cancelled: bool,
}

/// How a whole run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// Every stage up to `until` is done.
    Completed,
    /// The cancel flag stopped `stage`; running again resumes.
    Cancelled { stage: Stage },
    /// The project lacks an input the next stage needs (what to do is said).
    Blocked(String),
}

/// The result of [`run`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub end: RunEnd,
    /// Whether some stage skipped failed items.
    pub some_failed: bool,
}

/// The callback every stage reports through. It runs on the thread that runs the stage (and
/// training's loader threads hand it events), hence `Send`.
pub type Progress<'a> = &'a mut (dyn FnMut(Event) + Send);

/// Runs every stage up to `options.until` that is missing, stale or interrupted, in order.
/// Stops at the first failing stage (its error is the result), at a cancelled one, or where
/// the project lacks an input (no plays, no features).
pub fn run(
    dir: &Path,
    options: &RunOptions,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<RunReport, PipelineError> {
    let mut some_failed = false;
    if let Some(tracks) = options.first_pass {
        if let Some(end) = first_pass(dir, tracks, options, progress, cancel, &mut some_failed)? {
            return Ok(RunReport { end, some_failed });
        }
    }
    for stage in Stage::ALL {
        let project = Project::open(dir)?;
        if let Some(reason) = blocker(&project, stage)? {
            return Ok(RunReport {
                end: RunEnd::Blocked(reason),
                some_failed,
            });
        }
        let state = stage_status(&project, stage)?.state;
        drop(project);
        if state == StageState::Done {
            progress(Event::UpToDate { stage });
        } else {
            let outcome = run_stage(dir, stage, options, progress, cancel)?;
            some_failed |= outcome.failed_items > 0;
            if outcome.cancelled || cancel.load(Ordering::SeqCst) {
                return Ok(RunReport {
                    end: RunEnd::Cancelled { stage },
                    some_failed,
                });
            }
        }
        if options.until == Some(stage) {
            break;
        }
    }
    Ok(RunReport {
        end: RunEnd::Completed,
        some_failed,
    })
}

/// The first pass of [`RunOptions::first_pass`]: features of a sample of `tracks`, then
/// `predict` and `tsne`, when the model is trained and there is more than that to do and the
/// run goes as far as the map. Returns how the run ended when it stopped here (cancelled).
fn first_pass(
    dir: &Path,
    tracks: usize,
    options: &RunOptions,
    progress: Progress<'_>,
    cancel: &AtomicBool,
    some_failed: &mut bool,
) -> Result<Option<RunEnd>, PipelineError> {
    let project = Project::open(dir)?;
    let pending = features::open_store(&project, Shard::ALL)?.counts().2;
    let wanted = options.until.is_none_or(|until| until >= Stage::Tsne)
        && pending > tracks
        && project.catalog().has_plays().map_err(ProjectError::from)?
        && stage_status(&project, Stage::Train)?.state == StageState::Done;
    drop(project);
    if !wanted {
        return Ok(None);
    }
    for (stage, sample) in [
        (Stage::Features, Some(tracks)),
        (Stage::Predict, None),
        (Stage::Tsne, None),
    ] {
        let outcome = stage_run(dir, stage, options, sample, progress, cancel)?;
        *some_failed |= outcome.failed_items > 0;
        if outcome.cancelled || cancel.load(Ordering::SeqCst) {
            return Ok(Some(RunEnd::Cancelled { stage }));
        }
    }
    Ok(None)
}

/// Why `stage` cannot run on `project` yet, when it cannot: no play counts (all but
/// features), or no features at all (the convnet's stages).
pub fn blocker(project: &Project, stage: Stage) -> Result<Option<String>, PipelineError> {
    if stage.needs_plays() && !project.catalog().has_plays().map_err(ProjectError::from)? {
        return Ok(Some(
            "no play counts: import a listening log to go on past features".into(),
        ));
    }
    if stage.needs_features() && features::open_store(project, Shard::ALL)?.counts().0 == 0 {
        return Ok(Some(
            "no track has features (no audio): add audio to go on past eval-cf".into(),
        ));
    }
    Ok(None)
}

/// Runs `stage` on the project in `dir` now, whatever its state (training resumes an
/// interrupted run), reporting through `progress`; returns how it ended.
pub fn run_stage(
    dir: &Path,
    stage: Stage,
    options: &RunOptions,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<StageOutcome, PipelineError> {
    stage_run(dir, stage, options, None, progress, cancel)
}

/// [`run_stage`], computing the features of only a sample of tracks when `sample` is given
/// (the first pass).
fn stage_run(
    dir: &Path,
    stage: Stage,
    options: &RunOptions,
    sample: Option<usize>,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<StageOutcome, PipelineError> {
    let project = Project::open(dir)?;
    let state = stage_status(&project, stage)?.state;
    let why = match &state {
        StageState::Done => "asked to run again".to_owned(),
        StageState::Missing => "not run yet".to_owned(),
        StageState::Stale(why) => format!("stale: {why}"),
        StageState::Interrupted { epochs_done } => {
            format!("interrupted after epoch {epochs_done}, resuming")
        }
    };
    let why = match sample {
        Some(tracks) => format!(
            "first pass: {tracks} tracks spread over the collection, so that predictions and \
             the map come early; {why}"
        ),
        None => why,
    };
    progress(Event::Started { stage, why });
    let resume = matches!(state, StageState::Interrupted { .. });
    let threads = options.threads.unwrap_or(0);
    let outcome = match stage {
        Stage::Features => run_features(&project, options, sample, progress, cancel)?,
        Stage::Cf => {
            let config = WmfConfig {
                factors: options.factors.unwrap_or(WmfConfig::default().factors),
                threads,
                // The jobs view plots the objective per iteration.
                compute_loss: true,
                ..WmfConfig::default()
            };
            let report = cf_stage::fit_project(
                &project,
                &config,
                None,
                &mut |report| {
                    progress(Event::Wmf {
                        stage,
                        report: *report,
                    })
                },
                cancel,
            )?;
            StageOutcome {
                summary: format!(
                    "WMF: {} users × {} tracks, {} nonzeros, {} factors",
                    report.users, report.tracks, report.nonzeros, config.factors
                ),
                failed_items: 0,
                cancelled: cancel.load(Ordering::SeqCst),
            }
        }
        Stage::EvalCf => {
            let config = WmfConfig {
                threads,
                ..WmfConfig::default()
            };
            let evaluation = cf_stage::evaluate_project(
                &project,
                &config,
                0.2,
                &mut |_, report| {
                    progress(Event::Wmf {
                        stage,
                        report: *report,
                    })
                },
                cancel,
            )?;
            let auc = |table: &crate::cf::metrics::EvalTable| {
                table.get("wmf").map_or(f64::NAN, |m| m.auc)
            };
            StageOutcome {
                summary: format!(
                    "WMF AUC {:.4} on held-out listens, {:.4} on cold-start tracks",
                    auc(&evaluation.heldout),
                    auc(&evaluation.cold_start)
                ),
                failed_items: 0,
                cancelled: cancel.load(Ordering::SeqCst),
            }
        }
        Stage::Train => run_train(&project, options, resume, progress, cancel)?,
        Stage::Predict => {
            let predict_options = PredictOptions {
                threads,
                device: options.device.clone(),
                ..PredictOptions::default()
            };
            let report = predict_project(
                &project,
                &predict_options,
                &mut |done, total| {
                    progress(Event::Items {
                        stage,
                        step: "predict".into(),
                        done,
                        total,
                    })
                },
                cancel,
            )?;
            StageOutcome {
                summary: if report.cancelled {
                    "interrupted: nothing written".into()
                } else {
                    format!(
                        "{} of {} tracks predicted on {}; {} without features",
                        report.predicted,
                        report.tracks,
                        report.device,
                        report.skipped.len()
                    )
                },
                failed_items: 0,
                cancelled: report.cancelled,
            }
        }
        Stage::Tsne => run_tsne(dir, progress, cancel)?,
        Stage::Eval => run_eval(&project, threads, &options.device, progress, cancel)?,
    };
    progress(Event::Finished {
        stage,
        outcome: outcome.clone(),
    });
    Ok(outcome)
}

/// The map of the predicted factors with the default parameters (`deepcuts tsne DIR`); a
/// project too small for the default perplexity gets the largest usable one.
fn run_tsne(
    dir: &Path,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<StageOutcome, PipelineError> {
    let stage = Stage::Tsne;
    let mut report = |event| {
        let (step, done, total) = match event {
            TsneProgress::Neighbours { done, points } => ("nearest neighbours", done, points),
            TsneProgress::Iteration {
                done, iterations, ..
            } => ("iterations", done, iterations),
        };
        progress(Event::Items {
            stage,
            step: step.into(),
            done,
            total,
        })
    };
    let mut params = TsneParams::default();
    let mut result = map_project(dir, MapOf::Predicted, &params, &mut report, cancel);
    if let Err(MapError::Tsne {
        source: TsneError::PerplexityTooLarge { max, .. },
        ..
    }) = result
    {
        params.perplexity = max;
        result = map_project(dir, MapOf::Predicted, &params, &mut report, cancel);
    }
    match result {
        Ok(map) => Ok(StageOutcome {
            summary: format!(
                "{}: {} of {} tracks mapped (perplexity {:.1})",
                layout::MAP_TSNE,
                map.tracks - map.unmapped.len(),
                map.tracks,
                params.perplexity
            ),
            failed_items: 0,
            cancelled: false,
        }),
        Err(error) if error.is_cancelled() => Ok(StageOutcome {
            summary: "interrupted: nothing written".into(),
            failed_items: 0,
            cancelled: true,
        }),
        Err(error) => Err(error.into()),
    }
}

fn run_features(
    project: &Project,
    options: &RunOptions,
    sample: Option<usize>,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<StageOutcome, PipelineError> {
    let started = std::time::Instant::now();
    let report = features::compute(
        project,
        Shard::ALL,
        ExtractOptions {
            retry_failed: false,
            threads: options.threads,
            sample,
        },
        &mut |done, total| {
            progress(Event::Items {
                stage: Stage::Features,
                step: "features".into(),
                done,
                total,
            })
        },
        cancel,
    )?;
    for (label, issues) in [("warning", &report.warned), ("failed", &report.failed)] {
        for issue in issues {
            progress(Event::Note {
                stage: Stage::Features,
                text: format!("{label}: {issue}"),
            });
        }
    }
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    Ok(StageOutcome {
        summary: format!(
            "{} computed ({:.1} tracks/s; {} with warnings), {} already done, {} failed",
            report.computed,
            report.computed as f64 / secs,
            report.warned.len(),
            report.already_done,
            report.failed.len()
        ),
        failed_items: report.failed.len(),
        cancelled: report.cancelled,
    })
}

/// The network of a training run: the one named, else the interrupted run's when resuming,
/// else `small`.
pub fn train_config(
    project: &Project,
    name: Option<&str>,
    resume: bool,
) -> Result<ConvnetConfig, PipelineError> {
    match (name, resume) {
        (Some(name), _) => resolve_config(name),
        (None, true) => match checkpoint_summary(&project.layout().path(layout::MODEL_DIR))? {
            Some(checkpoint) => Ok(checkpoint.config),
            None => Ok(ConvnetConfig::preset("small")?),
        },
        (None, false) => Ok(ConvnetConfig::preset("small")?),
    }
}

/// A preset name (`small`, `paper`) or a config file.
pub fn resolve_config(name: &str) -> Result<ConvnetConfig, PipelineError> {
    match name {
        "small" | "paper" => Ok(ConvnetConfig::preset(name)?),
        path => Ok(ConvnetConfig::from_file(Path::new(path))?),
    }
}

fn run_train(
    project: &Project,
    options: &RunOptions,
    resume: bool,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<StageOutcome, PipelineError> {
    // The config names a new run's network; a resumed run keeps the interrupted run's.
    let name = if resume {
        None
    } else {
        options.config.as_deref()
    };
    let config = train_config(project, name, resume)?;
    let mut train_options = TrainOptions::new(config, ObjectiveKind::Mse);
    let settings = &mut train_options.settings;
    settings.max_epochs = options.epochs.unwrap_or(settings.max_epochs);
    settings.threads = options.threads.unwrap_or(0);
    train_options.wmf.threads = settings.threads;
    train_options.resume = resume;
    let max_epochs = train_options.settings.max_epochs;
    let stage = Stage::Train;
    let mut skipped = 0;
    let report = train_project(
        project,
        &train_options,
        &mut |event| match event {
            TrainProgress::Wmf(report) => progress(Event::Wmf { stage, report }),
            TrainProgress::Ready(plan) => {
                let [train, valid, test] = plan.split_sizes;
                progress(Event::Note {
                    stage,
                    text: format!(
                        "split: {train} train, {valid} valid, {test} test tracks; training on \
                         {}, validating on {} ({} left out)",
                        plan.train_tracks,
                        plan.valid_tracks,
                        plan.left_out.len()
                    ),
                });
            }
            TrainProgress::Train(TrainEvent::Statistics { done, total }) => {
                progress(Event::Items {
                    stage,
                    step: "input statistics".into(),
                    done,
                    total,
                })
            }
            TrainProgress::Train(TrainEvent::Batch {
                epoch,
                validation,
                batch,
                batches,
                ..
            }) => progress(Event::Items {
                stage,
                step: if validation {
                    format!("validation {epoch}")
                } else {
                    format!("epoch {epoch}")
                },
                done: batch,
                total: batches,
            }),
            TrainProgress::Train(TrainEvent::Epoch(record)) => {
                progress(Event::Epoch { record, max_epochs })
            }
            TrainProgress::Train(TrainEvent::Skipped(skip)) => {
                skipped += 1;
                progress(Event::Note {
                    stage,
                    text: format!("skipped track {}: {}", skip.track, skip.reason),
                })
            }
        },
        cancel,
    )?;
    let outcome = &report.outcome;
    let stop = match outcome.stop {
        StopReason::MaxEpochs => "the last epoch",
        StopReason::EarlyStopped => "early stopping",
        StopReason::Cancelled => "interruption (resumable)",
    };
    Ok(StageOutcome {
        summary: format!(
            "stopped by {stop}; best epoch {} (validation loss {:.5})",
            outcome.best_epoch, outcome.best_valid_loss
        ),
        failed_items: skipped,
        cancelled: outcome.stop == StopReason::Cancelled,
    })
}

/// The evaluation options for the network in `weights`: the cold-start WMF's factor count
/// follows the network's output.
pub fn eval_options(weights: PathBuf, threads: usize) -> Result<EvalOptions, PipelineError> {
    let factors = ConvnetWeights::load(&weights)?.config.factors;
    let mut options = EvalOptions::new(factors);
    options.model = Some(weights);
    options.threads = threads;
    options.wmf.threads = threads;
    Ok(options)
}

fn run_eval(
    project: &Project,
    threads: usize,
    device: &InferDevice,
    progress: Progress<'_>,
    cancel: &AtomicBool,
) -> Result<StageOutcome, PipelineError> {
    let mut options = eval_options(project.layout().path(layout::MODEL_WEIGHTS), threads)?;
    options.device = device.clone();
    let stage = Stage::Eval;
    let mut items = |step: String, done: usize, total: usize| {
        progress(Event::Items {
            stage,
            step,
            done,
            total,
        })
    };
    let report = eval_project(
        project,
        &options,
        &mut |event| match event {
            EvalProgress::Wmf(r) => items("cold-start WMF".into(), r.iteration, r.iterations),
            EvalProgress::Baseline { stage, done, total } => {
                items(format!("baseline: {stage}"), done, total)
            }
            EvalProgress::Convnet { done, total } => items("convnet".into(), done, total),
            EvalProgress::Scoring(method) => items(format!("ranking: {method}"), 0, 1),
        },
        cancel,
    )?;
    let auc = |method: &str| report.table.get(method).map_or(f64::NAN, |m| m.auc);
    let left_out = match report.left_out.len() {
        0 => String::new(),
        n => format!(" ({n} left out: no held-out listens, or no features)"),
    };
    Ok(StageOutcome {
        summary: format!(
            "{} test tracks{left_out}: AUC random {:.3}, baseline {:.3}, convnet {:.3}, upper \
             bound {:.3}",
            report.test_tracks,
            auc("random"),
            auc("baseline"),
            auc("convnet"),
            auc("upper_bound")
        ),
        // Test tracks without held-out listens cannot be ranked, which is no failure (a
        // test track without features failed in the features stage and counted there).
        failed_items: 0,
        cancelled: cancel.load(Ordering::SeqCst),
    })
}
