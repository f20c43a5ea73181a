//! `deepcuts train`: the project's convnet, trained on its split to predict the cold-start CF
//! factors (library: `coldstart::train_project`).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use indicatif::ProgressBar;

use super::{interrupt, progress, Outcome};
use crate::coldstart::{
    train_project, ObjectiveKind, SplitOptions, TrainOptions, TrainPlan, TrainProgress,
};
use crate::convnet::train::{LrSchedule, StopReason, TrainEvent};
use crate::convnet::weight_average;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder (with features and play counts).
    dir: PathBuf,
    /// Network size: `small`, `paper`, or a JSON/TOML config file [default: `small`, or with
    /// `--resume` the interrupted run's].
    #[arg(long)]
    config: Option<String>,
    /// Most epochs (training stops earlier when the validation loss stops improving).
    #[arg(long)]
    epochs: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    batch: Option<usize>,
    /// Learning rate of SGD (default: 1 for mse, 1e-4 for wpe).
    #[arg(long)]
    lr: Option<f64>,
    /// Nesterov momentum.
    #[arg(long)]
    momentum: Option<f64>,
    /// Dropout probability in the dense layers.
    #[arg(long)]
    dropout: Option<f32>,
    /// Epochs without a better validation loss before stopping.
    #[arg(long)]
    patience: Option<usize>,
    /// Decay of the running average of the weights that is validated and saved (0: the
    /// trained weights themselves).
    #[arg(long, default_value_t = weight_average::DEFAULT_DECAY)]
    average_decay: f64,
    /// L2 penalty on the weights, added to their gradient.
    #[arg(long)]
    weight_decay: Option<f64>,
    /// SpecAugment-style masks per training crop: N bands of mel bins and N spans of frames
    /// hidden (0: none).
    #[arg(long)]
    masks: Option<usize>,
    /// How the learning rate moves over the epochs: the same throughout, or down a half
    /// cosine to near 0 at the last epoch.
    #[arg(long, value_enum)]
    schedule: Option<LrSchedule>,
    /// What to minimise: MSE to the unit-norm factors, or the paper's weighted prediction error.
    #[arg(long, value_enum, default_value_t = ObjectiveKind::Mse)]
    objective: ObjectiveKind,
    /// Continue the interrupted run in model/ (same config and split).
    #[arg(long)]
    resume: bool,
    /// Seed of the split (when one is drawn), the initial weights, crops and dropout.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Draw a new train/valid/test split even if split.tsv exists.
    #[arg(long, conflicts_with = "resume")]
    new_split: bool,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let project = crate::project::Project::open(&args.dir)?;
    let config = crate::pipeline::train_config(&project, args.config.as_deref(), args.resume)
        .with_context(|| {
            format!(
                "--config {}: not `small`, `paper` or a config file",
                args.config.as_deref().unwrap_or("small")
            )
        })?;
    let mut options = TrainOptions::new(config, args.objective);
    let settings = &mut options.settings;
    settings.max_epochs = args.epochs.unwrap_or(settings.max_epochs);
    settings.batch_size = args.batch.unwrap_or(settings.batch_size);
    settings.learning_rate = args.lr.unwrap_or(settings.learning_rate);
    settings.momentum = args.momentum.unwrap_or(settings.momentum);
    settings.patience = args.patience.unwrap_or(settings.patience);
    settings.dropout = args.dropout.unwrap_or(settings.dropout);
    settings.average_decay = args.average_decay;
    settings.weight_decay = args.weight_decay.unwrap_or(settings.weight_decay);
    settings.masks = args.masks.unwrap_or(settings.masks);
    settings.schedule = args.schedule.unwrap_or(settings.schedule);
    settings.seed = args.seed;
    settings.threads = args.threads.unwrap_or(0);
    options.wmf.threads = settings.threads;
    options.resume = args.resume;
    options.split = SplitOptions {
        seed: args.seed,
        redraw: args.new_split,
        ..SplitOptions::default()
    };
    let max_epochs = options.settings.max_epochs;
    let started = Instant::now();
    let mut display = Display::default();
    let report = train_project(
        &project,
        &options,
        &mut |event| display.show(event, max_epochs),
        interrupt::cancel_flag(),
    );
    display.clear();
    let report = report?;
    let outcome = &report.outcome;
    let minutes = started.elapsed().as_secs_f64() / 60.0;
    let stop = match outcome.stop {
        StopReason::MaxEpochs => "the last epoch",
        StopReason::EarlyStopped => "early stopping",
        StopReason::Cancelled => "interruption",
    };
    println!(
        "stopped by {stop} after {:.1} min; best epoch {} (validation loss {:.5}): {}",
        minutes,
        outcome.best_epoch,
        outcome.best_valid_loss,
        outcome.weights_path.display()
    );
    if !outcome.skipped.is_empty() {
        println!(
            "{} tracks could not be read and were left out",
            outcome.skipped.len()
        );
    }
    if outcome.stop == StopReason::Cancelled {
        println!(
            "resume with: deepcuts train {} --resume (same --config)",
            args.dir.display()
        );
        return Ok(Outcome::SomeFailed);
    }
    println!("next: deepcuts eval {}", args.dir.display());
    Ok(Outcome::Success)
}

/// Progress bars and per-epoch lines.
#[derive(Default)]
struct Display {
    bar: Option<ProgressBar>,
    best_valid_loss: Option<f64>,
}

impl Display {
    /// The bar labelled `what` with `len` steps, made when the label changes.
    fn bar(&mut self, what: &str, len: usize) -> &ProgressBar {
        if self.bar.as_ref().is_some_and(|b| b.message() != what) {
            self.clear();
        }
        let bar = self
            .bar
            .get_or_insert_with(|| progress::bar(len as u64, what));
        bar.set_length(len as u64);
        bar
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn show(&mut self, event: TrainProgress, max_epochs: usize) {
        match event {
            TrainProgress::Wmf(report) => {
                self.bar("cold-start WMF", report.iterations)
                    .set_position(report.iteration as u64);
            }
            TrainProgress::Ready(plan) => {
                self.clear();
                print_plan(&plan);
            }
            TrainProgress::Train(TrainEvent::Statistics { done, total }) => {
                self.bar("input stats", total).set_position(done as u64);
            }
            TrainProgress::Train(TrainEvent::Batch {
                epoch,
                validation,
                batch,
                batches,
                ..
            }) => {
                let what = if validation {
                    format!("valid {epoch}")
                } else {
                    format!("epoch {epoch}")
                };
                self.bar(&what, batches).set_position(batch as u64);
            }
            TrainProgress::Train(TrainEvent::Epoch(record)) => {
                self.clear();
                let best = self.best_valid_loss.is_none_or(|b| record.valid_loss < b);
                if best {
                    self.best_valid_loss = Some(record.valid_loss);
                }
                let train = record
                    .train_loss
                    .map_or("-".to_owned(), |l| format!("{l:.5}"));
                println!(
                    "epoch {:>3}/{max_epochs}: train loss {train}, validation loss {:.5}{}, {:.1} s{}",
                    record.epoch,
                    record.valid_loss,
                    if best { " *" } else { "" },
                    record.seconds,
                    if record.examples_per_sec > 0.0 {
                        format!(" ({:.0} examples/s)", record.examples_per_sec)
                    } else {
                        String::new()
                    }
                );
            }
            TrainProgress::Train(TrainEvent::Skipped(skip)) => {
                self.clear();
                eprintln!("skipped track {}: {}", skip.track, skip.reason);
            }
        }
    }
}

fn print_plan(plan: &TrainPlan) {
    let [train, valid, test] = plan.split_sizes;
    println!(
        "split ({}): {train} train, {valid} valid, {test} test tracks; cold-start factors {}",
        if plan.split_drawn {
            "drawn now, split.tsv"
        } else {
            "from split.tsv"
        },
        if plan.factors_fitted {
            "fitted now"
        } else {
            "reused"
        }
    );
    if !plan.left_out.is_empty() {
        println!(
            "{} training/validation tracks left out (e.g. track {}: {})",
            plan.left_out.len(),
            plan.left_out[0].track,
            plan.left_out[0].reason
        );
    }
    println!(
        "training on {} tracks, validating on {}",
        plan.train_tracks, plan.valid_tracks
    );
}
