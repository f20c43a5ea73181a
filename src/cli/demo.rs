//! `deepcuts demo DIR …` and `deepcuts demo export-wav DIR OUT`.

use std::path::PathBuf;
use std::sync::atomic::Ordering;

use anyhow::Context;

use super::{interrupt, progress, Outcome};
use crate::demo::{self, WorldConfig};
use crate::project::demo_project::create_demo_project;
use crate::project::source::TrackSource;
use crate::project::Project;

/// Make a complete project from the synthesized demo world (catalog and play counts; audio is
/// synthesized on demand), or export its tracks as WAV files.
#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<DemoCommand>,
    /// The project folder to create.
    dir: Option<PathBuf>,
    /// Number of tracks.
    #[arg(long, default_value_t = WorldConfig::default().tracks)]
    tracks: usize,
    /// Number of simulated listeners.
    #[arg(long, default_value_t = WorldConfig::default().users)]
    users: usize,
    /// World seed: the same seed gives the same catalog, plays and audio.
    #[arg(long, default_value_t = WorldConfig::default().seed)]
    seed: u64,
}

#[derive(Debug, clap::Subcommand)]
enum DemoCommand {
    /// Write demo tracks of a project as 32-bit float WAV files (22050 Hz mono).
    ExportWav(ExportArgs),
}

#[derive(Debug, clap::Args)]
struct ExportArgs {
    /// The project folder.
    dir: PathBuf,
    /// The folder to write into (created when missing).
    out: PathBuf,
    /// Only these track ids (comma-separated); default: every demo track.
    #[arg(long, value_delimiter = ',')]
    ids: Vec<u32>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    match args.command {
        Some(DemoCommand::ExportWav(export)) => export_wav(export),
        None => {
            let dir = args
                .dir
                .context("give the project folder to create: deepcuts demo DIR")?;
            let config = WorldConfig {
                tracks: args.tracks,
                users: args.users,
                seed: args.seed,
            };
            anyhow::ensure!(config.tracks > 0, "--tracks must be at least 1");
            let started = std::time::Instant::now();
            let (_, world) = create_demo_project(&dir, &config)?;
            let listens: u64 = world.plays.iter().map(|p| u64::from(p.2)).sum();
            println!(
                "demo world (seed {}) in {}: {} tracks by {} artists on {} albums, {} listeners, {} listens; {:.1} s",
                config.seed,
                dir.display(),
                world.tracks.len(),
                world.artists.len(),
                world.albums.len(),
                world.users.len(),
                listens,
                started.elapsed().as_secs_f64()
            );
            println!("next: deepcuts features {}", dir.display());
            Ok(Outcome::Success)
        }
    }
}

fn export_wav(args: ExportArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let tracks = project.catalog().tracks()?;
    let selected: Vec<&crate::project::Track> = if args.ids.is_empty() {
        tracks.iter().collect()
    } else {
        let mut selected = Vec::new();
        for id in &args.ids {
            selected.push(
                tracks
                    .get(*id as usize)
                    .with_context(|| format!("no track {id} in {}", args.dir.display()))?,
            );
        }
        selected
    };
    let demo_tracks: Vec<(&crate::project::Track, u64, usize)> = selected
        .into_iter()
        .filter_map(|t| match TrackSource::parse(&t.source) {
            TrackSource::Demo { seed, index } => Some((t, seed, index)),
            _ => None,
        })
        .collect();
    anyhow::ensure!(!demo_tracks.is_empty(), "no demo tracks selected");
    let audio = crate::project::audio_source::TrackAudio::new(&tracks);
    let bar = progress::bar(demo_tracks.len() as u64, "export-wav");
    let cancel = interrupt::cancel_flag();
    for (track, seed, index) in demo_tracks {
        if cancel.load(Ordering::Relaxed) {
            break;
        }
        let name = sanitise(&format!(
            "{:05} {} - {}",
            track.id, track.artist, track.title
        ));
        let path = args.out.join(format!("{name}.wav"));
        let recipe = audio.recipe(seed, index)?;
        demo::write_wav(&path, recipe)?;
        bar.inc(1);
    }
    bar.finish_and_clear();
    println!(
        "wrote {} WAV files to {}",
        bar.position(),
        args.out.display()
    );
    Ok(Outcome::Success)
}

/// A file name without path separators or control characters.
fn sanitise(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect()
}
