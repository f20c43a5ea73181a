//! `deepcuts new`, `add-audio` and `status`: making and inspecting project folders.

use std::path::PathBuf;

use super::{interrupt, progress, Outcome};
use crate::features::{self, Shard};
use crate::pipeline::{stage_statuses, Stage, StageState};
use crate::project::audio_import::scan_folders;
use crate::project::source::TrackSource;
use crate::project::{layout, Project};
use crate::track_issue::TrackIssue;

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The project folder to create (created when missing; must not be a project yet).
    dir: PathBuf,
}

#[derive(Debug, clap::Args)]
pub struct AddAudioArgs {
    /// The project folder.
    dir: PathBuf,
    /// Folders (searched recursively) or files to add. Files already in the catalog (same
    /// absolute path) are skipped; files that are not audio are reported and skipped.
    #[arg(required = true)]
    folders: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// The project folder.
    dir: PathBuf,
    /// How many failed tracks (and how many tracks with warnings) to list.
    #[arg(long, default_value_t = 10)]
    failures: usize,
}

pub fn new(args: NewArgs) -> anyhow::Result<Outcome> {
    Project::create(&args.dir)?;
    println!("created project {}", args.dir.display());
    Ok(Outcome::Success)
}

pub fn add_audio(args: AddAudioArgs) -> anyhow::Result<Outcome> {
    let mut project = Project::open(&args.dir)?;
    let bar = progress::bar(0, "probing");
    let report = scan_folders(
        &args.folders,
        &|done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
        interrupt::cancel_flag(),
    );
    bar.finish_and_clear();
    let found = report.tracks.len();
    let added = project.add_tracks(&report.tracks)?;
    for reason in &report.skipped {
        eprintln!("skipped: {reason}");
    }
    println!(
        "{added} tracks added, {} already in the catalog, {} files skipped",
        found - added,
        report.skipped.len()
    );
    Ok(if report.cancelled {
        Outcome::SomeFailed
    } else {
        Outcome::Success
    })
}

/// Up to `limit` of a stage's track issues, indented under it, and how many more there are.
fn list_issues(what: &str, issues: &[TrackIssue], limit: usize) {
    for issue in issues.iter().take(limit) {
        println!("          {what}: {issue}");
    }
    if issues.len() > limit {
        println!("          … and {} more ({what})", issues.len() - limit);
    }
}

pub fn status(args: StatusArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let catalog = project.catalog();
    let tracks = catalog.tracks()?;
    let with_audio = tracks
        .iter()
        .filter(|t| TrackSource::parse(&t.source).has_audio())
        .count();
    let plays = catalog.plays()?;
    let listens: u64 = plays.triplets.iter().map(|&(_, _, c)| c as u64).sum();
    println!("project   {}", args.dir.display());
    println!(
        "tracks    {} ({with_audio} with audio, {} known only from listening logs)",
        tracks.len(),
        tracks.len() - with_audio
    );
    println!(
        "plays     {} users, {} user-track pairs, {listens} listens",
        plays.users.len(),
        plays.triplets.len()
    );
    let store = features::open_store(&project, Shard::ALL)?;
    let failures = store.failures();
    let warnings = store.warnings();
    let split = if project.layout().path(layout::SPLIT_TSV).exists() {
        format!("present: {}", layout::SPLIT_TSV)
    } else {
        "missing: `deepcuts train` draws it".to_owned()
    };
    for status in stage_statuses(&project)? {
        let stage = status.stage;
        let command = format!("deepcuts {} {}", stage.name(), args.dir.display());
        let state = match &status.state {
            StageState::Done if stage == Stage::Features => status.output.clone(),
            StageState::Done => format!("present: {}", status.output),
            StageState::Missing if stage == Stage::Features => {
                format!("{}: run `{command}`", status.output)
            }
            StageState::Missing => format!("missing: run `{command}`"),
            StageState::Stale(why) if stage == Stage::Features => {
                format!("{} (stale: {why}; run `{command}`)", status.output)
            }
            StageState::Stale(why) => format!("stale: {why}; run `{command}`"),
            StageState::Interrupted { epochs_done } => {
                format!("interrupted after epoch {epochs_done}: run `{command} --resume`")
            }
        };
        let name = match stage {
            Stage::Train => "model",
            other => other.name(),
        };
        println!("{name:<9} {state}");
        if stage == Stage::Features {
            list_issues("failed", &failures, args.failures);
            list_issues("warning", &warnings, args.failures);
        }
        if stage == Stage::EvalCf {
            println!("{:<9} {split}", "split");
        }
    }
    Ok(Outcome::Success)
}
