//! `deepcuts pipeline DIR`: every stage that is missing, stale or interrupted, in order, each
//! run as its own command would run; and `deepcuts` alone, which does that for the demo world.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use anyhow::Context;

use super::{interrupt, run_command, Outcome};
use crate::features::{self, Shard};
use crate::pipeline::{stage_status, Stage, StageState};
use crate::project::{layout, Project};

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
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    run_pipeline(&args)
}

/// `deepcuts` without a command: the demo world, made and brought up to date in the default
/// place (`$DEEPCUTS_DEMO_DIR`, else the user's data folder), then what to do with it.
pub fn demo_world() -> anyhow::Result<Outcome> {
    let dir = default_demo_dir()?;
    println!(
        "deepcuts: no command given, so here is the demo world in {} \
         (`deepcuts --help` lists the commands).",
        dir.display()
    );
    if !dir.join(layout::DATABASE).exists() {
        run_command([OsString::from("demo"), dir.clone().into()])?;
    }
    println!("Each stage is resumable: Ctrl-C stops it cleanly and running again continues.");
    let outcome = run_pipeline(&Args {
        dir: dir.clone(),
        until: Stage::Eval,
        config: None,
        epochs: None,
        threads: None,
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

/// Where the demo world lives when the user names no folder.
fn default_demo_dir() -> anyhow::Result<PathBuf> {
    if let Some(dir) = std::env::var_os("DEEPCUTS_DEMO_DIR") {
        return Ok(PathBuf::from(dir));
    }
    let data = dirs::data_dir()
        .context("no home folder to keep the demo world in: set DEEPCUTS_DEMO_DIR")?;
    Ok(data.join("deepcuts").join("demo"))
}

/// Runs the stages up to `args.until` that are not done. Stops at the first failing stage
/// (its error is the result) or interruption; stages that skipped bad items continue.
fn run_pipeline(args: &Args) -> anyhow::Result<Outcome> {
    let dir = args.dir.as_path();
    let cancel = interrupt::cancel_flag();
    let mut outcome = Outcome::Success;
    // No stage adds plays, so whether there are any is known up front.
    let has_plays = Project::open(dir)?.catalog().has_plays()?;
    for stage in Stage::ALL {
        let project = Project::open(dir)?;
        if stage.needs_plays() && !has_plays {
            println!(
                "no play counts: import a listening log (`deepcuts import-usage`) to go on \
                 past features"
            );
            break;
        }
        if stage.needs_features() && features::open_store(&project, Shard::ALL)?.counts().0 == 0 {
            println!(
                "no track has features (no audio): add audio (`deepcuts add-audio`) to go on \
                 past eval-cf"
            );
            break;
        }
        let state = stage_status(&project, stage)?.state;
        drop(project);
        let why = match &state {
            StageState::Done => {
                println!("== {}: up to date", stage.name());
                if stage == args.until {
                    break;
                }
                continue;
            }
            StageState::Missing => "not run yet".to_owned(),
            StageState::Stale(why) => format!("stale: {why}"),
            StageState::Interrupted { epochs_done } => {
                format!("interrupted after epoch {epochs_done}, resuming")
            }
        };
        let interrupted = matches!(state, StageState::Interrupted { .. });
        println!("== {} ({why})", stage.name());
        let words = stage_command(stage, interrupted, dir, args);
        let stage_outcome =
            run_command(&words).with_context(|| format!("pipeline stage `{}`", stage.name()))?;
        if cancel.load(Ordering::SeqCst) {
            println!("stopped: run the same command again to continue");
            return Ok(Outcome::SomeFailed);
        }
        if matches!(stage_outcome, Outcome::SomeFailed) {
            outcome = Outcome::SomeFailed;
        }
        if stage == args.until {
            break;
        }
    }
    Ok(outcome)
}

/// The command line that runs `stage` on `dir` with the pipeline's options.
fn stage_command(stage: Stage, resume: bool, dir: &Path, args: &Args) -> Vec<OsString> {
    let mut words: Vec<OsString> = vec![stage.name().into(), dir.into()];
    let mut option = |name: &str, value: Option<String>| {
        if let Some(value) = value {
            words.push(name.into());
            words.push(value.into());
        }
    };
    let threads = args.threads.map(|t| t.to_string());
    match stage {
        Stage::Features | Stage::Cf => option("--threads", threads),
        Stage::Train => {
            option("--threads", threads);
            option("--epochs", args.epochs.map(|e| e.to_string()));
            if resume {
                words.push("--resume".into());
            } else {
                option("--config", args.config.clone());
            }
        }
        Stage::EvalCf | Stage::Predict | Stage::Eval => {}
    }
    words
}
