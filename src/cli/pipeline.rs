//! `deepcuts pipeline DIR`: every stage that is missing, stale or interrupted, in order, run by
//! the library's `pipeline::run` (the app's jobs run the same); and `deepcuts` alone, which does
//! that for the demo world (or opens the app on it when there is a display).

use std::path::PathBuf;

use anyhow::Context;
use indicatif::ProgressBar;

use super::predict::DeviceArgs;
use super::{interrupt, progress, Outcome};
use crate::convnet::InferDevice;
use crate::pipeline::{self, Event, RunEnd, RunOptions, Stage};
use crate::project::layout;
use crate::project::shipped_model::create_default_demo_project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder.
    dir: PathBuf,
    /// Stop after this stage.
    #[arg(long, value_enum, default_value_t = Stage::Eval)]
    until: Stage,
    /// Network size for a new training run: `small`, `paper`, or a config file.
    #[arg(long)]
    config: Option<String>,
    /// Most training epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// With a trained model: features of this many tracks spread over the collection first,
    /// then their predictions and map, then the rest (the app's first launch does 1000).
    #[arg(long, value_name = "TRACKS")]
    first_pass: Option<usize>,
    #[command(flatten)]
    device: DeviceArgs,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    run_pipeline(&args)
}

/// `deepcuts` without a command: the demo world, made and brought up to date in the default
/// place (`$DEEPCUTS_DEMO_DIR`, else the user's data folder), then what to do with it.
pub fn demo_world() -> anyhow::Result<Outcome> {
    let dir = default_demo_dir()?;
    if crate::app::has_display() {
        let options = crate::app::AppOptions {
            dir: Some(dir.clone()),
            run_pipeline: true,
            ..Default::default()
        };
        match crate::app::run(options) {
            Ok(()) => return Ok(Outcome::Success),
            Err(error) => eprintln!("deepcuts: {error}; running the pipeline on the terminal"),
        }
    } else {
        eprintln!(
            "deepcuts: no display (neither DISPLAY nor WAYLAND_DISPLAY is set), so no window: \
             running the pipeline on the terminal"
        );
    }
    println!(
        "deepcuts: no command given, so here is the demo world in {} \
         (`deepcuts --help` lists the commands).",
        dir.display()
    );
    ensure_demo_world(&dir)?;
    println!("Each stage is resumable: Ctrl-C stops it cleanly and running again continues.");
    let outcome = run_pipeline(&Args {
        dir: dir.clone(),
        until: Stage::Eval,
        config: None,
        epochs: None,
        threads: None,
        first_pass: None,
        device: DeviceArgs {
            device: InferDevice::Auto,
        },
    })?;
    if matches!(outcome, Outcome::Success) {
        let d = dir.display();
        println!("\nThe demo world is ready. Next:");
        println!("  deepcuts status {d}              what the project holds");
        println!("  deepcuts play {d} 0 --excerpt    listen to a track (ids are in tracks.tsv)");
        println!("  numpy.load('{d}/predict/factors.npy')  the predicted factors");
    }
    Ok(outcome)
}

/// Makes the default demo world in `dir` unless it is there.
fn ensure_demo_world(dir: &std::path::Path) -> anyhow::Result<()> {
    if !dir.join(layout::DATABASE).exists() {
        println!("making the demo world in {}…", dir.display());
        create_default_demo_project(dir)?;
    }
    Ok(())
}

/// Where the demo world lives when the user names no folder.
fn default_demo_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DEEPCUTS_DEMO_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let data = dirs::data_dir()
        .context("no home folder to keep the demo world in: set DEEPCUTS_DEMO_DIR")?;
    Ok(data.join("deepcuts").join("demo"))
}

/// Runs the stages up to `args.until` that are not done through the library's runner,
/// printing its events: a bar per step, a line per epoch, note and summary lines.
fn run_pipeline(args: &Args) -> anyhow::Result<Outcome> {
    let options = RunOptions {
        until: Some(args.until),
        config: args.config.clone(),
        epochs: args.epochs,
        factors: None,
        threads: args.threads,
        first_pass: args.first_pass,
        device: args.device.device.clone(),
    };
    let mut printer = Printer::default();
    let report = pipeline::run(
        &args.dir,
        &options,
        &mut |event| printer.show(event),
        interrupt::cancel_flag(),
    );
    printer.clear();
    let report = report.context("pipeline")?;
    match report.end {
        RunEnd::Completed if !report.some_failed => Ok(Outcome::Success),
        RunEnd::Completed => Ok(Outcome::SomeFailed),
        RunEnd::Blocked(reason) => {
            println!("{reason}");
            Ok(Outcome::Success)
        }
        RunEnd::Cancelled { stage } => {
            println!(
                "stopped during {}: run the same command again to continue",
                stage.name()
            );
            Ok(Outcome::SomeFailed)
        }
    }
}

/// Prints pipeline events on the terminal.
#[derive(Default)]
struct Printer {
    bar: Option<ProgressBar>,
}

impl Printer {
    /// The bar labelled `step`, made anew when the step changes.
    fn bar(&mut self, step: &str) -> &ProgressBar {
        if self.bar.as_ref().is_some_and(|b| b.message() != step) {
            self.clear();
        }
        self.bar.get_or_insert_with(|| progress::bar(0, step))
    }

    fn clear(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    fn show(&mut self, event: Event) {
        match event {
            Event::Started { stage, why } => println!("== {} ({why})", stage.name()),
            Event::UpToDate { stage } => println!("== {}: up to date", stage.name()),
            Event::Items {
                step, done, total, ..
            } => {
                let bar = self.bar(&step);
                bar.set_length(total as u64);
                bar.set_position(done as u64);
            }
            Event::Wmf { report, .. } => {
                let bar = self.bar("wmf");
                bar.set_length(report.iterations as u64);
                bar.set_position(report.iteration as u64);
            }
            Event::Epoch { record, max_epochs } => {
                self.clear();
                let train = record
                    .train_loss
                    .map_or("-".to_owned(), |l| format!("{l:.5}"));
                println!(
                    "epoch {:>3}/{max_epochs}: train loss {train}, validation loss {:.5}, {:.1} s",
                    record.epoch, record.valid_loss, record.seconds
                );
            }
            Event::Note { text, .. } => {
                self.clear();
                println!("{text}");
            }
            Event::Finished { outcome, .. } => {
                self.clear();
                println!("{}", outcome.summary);
            }
        }
    }
}
