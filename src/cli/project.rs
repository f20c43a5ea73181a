//! `deepcuts new`, `add-audio` and `status`: making and inspecting project folders.

use std::path::PathBuf;

use super::{interrupt, progress, Outcome};
use crate::features::{self, Shard};
use crate::project::audio_import::scan_folders;
use crate::project::source::TrackSource;
use crate::project::{layout, Project};

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
    /// How many failed items to list.
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
    let (done, failed, pending) = store.counts();
    let pending_with_audio = pending.saturating_sub(tracks.len() - with_audio);
    let stale = if pending_with_audio > 0 {
        "  (stale: run `deepcuts features`)"
    } else {
        ""
    };
    println!("features  {done} done, {failed} failed, {pending_with_audio} to do{stale}");
    for (row, reason) in store.failures().iter().take(args.failures) {
        println!("          failed: track {row}: {reason}");
    }
    let layout = project.layout();
    let cf_state = if !layout.path(layout::ITEM_FACTORS).exists() {
        "missing: run `deepcuts cf`".to_owned()
    } else if cf_is_stale(&project) {
        "stale: the play counts changed since `deepcuts cf` ran".to_owned()
    } else {
        format!("present: {}", layout::ITEM_FACTORS)
    };
    println!("cf        {cf_state}");
    // Later stages are stale when an input they read changed after they ran (file times).
    let stages: [(&str, &str, &[&str], &str); 5] = [
        (
            "eval-cf",
            layout::EVAL_CF,
            &[layout::ITEM_FACTORS],
            "deepcuts eval-cf",
        ),
        ("split", layout::SPLIT_TSV, &[], "deepcuts train"),
        (
            "model",
            layout::MODEL_WEIGHTS,
            &[JOURNAL, layout::SPLIT_TSV],
            "deepcuts train",
        ),
        (
            "predict",
            layout::PREDICT_FACTORS,
            &[layout::MODEL_WEIGHTS, JOURNAL],
            "deepcuts predict",
        ),
        (
            "eval",
            layout::EVAL_COLDSTART,
            &[layout::PREDICT_FACTORS],
            "deepcuts eval",
        ),
    ];
    for (name, relative, inputs, command) in stages {
        println!(
            "{name:<9} {}",
            stage_state(layout, relative, inputs, command)
        );
    }
    Ok(Outcome::Success)
}

/// The feature journal, which changes whenever features are computed.
const JOURNAL: &str = "features/journal.tsv";

/// "present", "missing" or "stale" for the artifact at `relative`, compared with its inputs.
fn stage_state(layout: &layout::Layout, relative: &str, inputs: &[&str], command: &str) -> String {
    let modified = |relative: &str| {
        std::fs::metadata(layout.path(relative))
            .and_then(|m| m.modified())
            .ok()
    };
    let Some(written) = modified(relative) else {
        return format!("missing: run `{command}`");
    };
    match inputs
        .iter()
        .find(|input| modified(input).is_some_and(|t| t > written))
    {
        Some(input) => format!("stale: {input} changed since; run `{command}`"),
        None => format!("present: {relative}"),
    }
}

/// Whether the play counts changed after the last `cf` run (it records the change stamp it saw;
/// imported factors record none and are never stale by this test).
fn cf_is_stale(project: &Project) -> bool {
    let recorded = std::fs::read(project.layout().path(layout::CF_CONFIG))
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .and_then(|config| config.get("plays_changed").cloned());
    let current = project.catalog().meta("plays_changed").ok().flatten();
    match recorded {
        Some(serde_json::Value::String(seen)) => current.as_deref() != Some(seen.as_str()),
        Some(serde_json::Value::Null) => current.is_some(),
        _ => false,
    }
}
