//! What the app remembers of jobs: the running one's step, rate and time left, the live loss
//! curves, and how each stage last ended. Fed by the pipeline's events; read by the jobs view
//! and the top bar.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::pipeline::{Event, Stage};

/// Progress of the step that is running now.
pub struct StepProgress {
    pub stage: Stage,
    pub step: String,
    pub done: usize,
    pub total: usize,
    /// When this step was first seen, and how many items were done then.
    started: Instant,
    done_at_start: usize,
}

impl StepProgress {
    /// Items per second since the step started, once there is something to measure.
    pub fn rate_per_sec(&self) -> Option<f64> {
        let secs = self.started.elapsed().as_secs_f64();
        let items = self.done.saturating_sub(self.done_at_start);
        (secs > 0.5 && items > 0).then(|| items as f64 / secs)
    }

    /// Time left at the current rate.
    pub fn time_left(&self) -> Option<Duration> {
        let rate = self.rate_per_sec()?;
        Some(Duration::from_secs_f64(
            self.total.saturating_sub(self.done) as f64 / rate,
        ))
    }

    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f32 / self.total as f32).min(1.0)
        }
    }
}

/// How a stage's last run in this session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LastRun {
    Finished(String),
    Cancelled(String),
    Failed(String),
}

/// Everything the job views read.
#[derive(Default)]
pub struct JobProgress {
    /// The stage running now (`None` between stages or with no job).
    pub running: Option<Stage>,
    pub step: Option<StepProgress>,
    /// (epoch, train loss, validation loss) of the run in progress.
    pub epochs: Vec<(usize, Option<f64>, f64)>,
    /// WMF objective per iteration of the last `cf` fit.
    pub wmf_losses: Vec<(usize, f64)>,
    pub last_run: BTreeMap<&'static str, LastRun>,
    /// Notes of the current job (failed items, the training plan), newest last.
    pub notes: Vec<String>,
}

/// Notes kept: the newest ones matter, and a run over many bad files must not grow without end.
const MAX_NOTES: usize = 200;

impl JobProgress {
    /// Takes in one event of the running job.
    pub fn apply(&mut self, event: Event) {
        match event {
            Event::Started { stage, why } => {
                self.running = Some(stage);
                self.step = None;
                if stage == Stage::Train {
                    self.epochs.clear();
                }
                if stage == Stage::Cf {
                    self.wmf_losses.clear();
                }
                self.note(format!("{}: started ({why})", stage.name()));
            }
            Event::UpToDate { stage } => self.note(format!("{}: up to date", stage.name())),
            Event::Items {
                stage,
                step,
                done,
                total,
            } => self.progress(stage, step, done, total),
            Event::Wmf { stage, report } => {
                if stage == Stage::Cf {
                    if let Some(loss) = report.loss {
                        self.wmf_losses.push((report.iteration, loss));
                    }
                }
                self.progress(
                    stage,
                    "WMF iterations".into(),
                    report.iteration,
                    report.iterations,
                );
            }
            Event::Epoch { record, .. } => {
                self.epochs
                    .push((record.epoch, record.train_loss, record.valid_loss));
            }
            Event::Note { stage, text } => self.note(format!("{}: {text}", stage.name())),
            Event::Finished { stage, outcome } => {
                let line = outcome.summary.clone();
                self.note(format!("{}: {line}", stage.name()));
                let last = if outcome.cancelled {
                    LastRun::Cancelled(line)
                } else {
                    LastRun::Finished(line)
                };
                self.last_run.insert(stage.name(), last);
                self.running = None;
                self.step = None;
            }
        }
    }

    /// The job ended with `error` while `stage` ran (if one did).
    pub fn failed(&mut self, error: String) {
        if let Some(stage) = self.running.take() {
            self.last_run
                .insert(stage.name(), LastRun::Failed(error.clone()));
            self.note(format!("{}: failed: {error}", stage.name()));
        }
        self.step = None;
    }

    /// The job thread is gone: nothing runs any more.
    pub fn ended(&mut self) {
        self.running = None;
        self.step = None;
    }

    fn progress(&mut self, stage: Stage, step: String, done: usize, total: usize) {
        match &mut self.step {
            Some(current) if current.stage == stage && current.step == step => {
                current.done = done;
                current.total = total;
            }
            slot => {
                *slot = Some(StepProgress {
                    stage,
                    step,
                    done,
                    total,
                    started: Instant::now(),
                    done_at_start: done,
                })
            }
        }
    }

    fn note(&mut self, text: String) {
        if self.notes.len() == MAX_NOTES {
            self.notes.remove(0);
        }
        self.notes.push(text);
    }
}

/// `m:ss` (or `h:mm:ss`).
pub fn clock(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs >= 3600 {
        format!("{}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
    } else {
        format!("{}:{:02}", secs / 60, secs % 60)
    }
}
