//! `deepcuts import-usage DIR FILE --format …`

use std::path::PathBuf;

use super::{interrupt, progress, Outcome};
use crate::project::usage_import::{import_usage, UsageImport};
use crate::project::Project;
use crate::usage::LogFormat;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder.
    dir: PathBuf,
    /// The listening log.
    file: PathBuf,
    /// The log's format: taste-profile (MSD triplets), lastfm-1k, listenbrainz (JSON lines
    /// export), csv (user, track, count or timestamp).
    #[arg(long, value_parser = parse_format)]
    format: LogFormat,
    /// A file mapping the log's ids to artist + title or paths (e.g. the MSD's
    /// unique_tracks.txt, or ID<TAB>PATH / ID<TAB>ARTIST<TAB>TITLE lines).
    #[arg(long)]
    map: Option<PathBuf>,
    /// Add the tracks the log names that match no catalog track, as tracks without audio, so
    /// collaborative filtering can use a log alone.
    #[arg(long)]
    add_missing: bool,
    /// The user of a single-user log when the file does not name one (default: from the
    /// export, else the file name).
    #[arg(long)]
    user: Option<String>,
}

fn parse_format(text: &str) -> Result<LogFormat, String> {
    text.parse::<LogFormat>().map_err(|e| e.to_string())
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut project = Project::open(&args.dir)?;
    let request = UsageImport {
        file: &args.file,
        format: args.format,
        map: args.map.as_deref(),
        add_missing: args.add_missing,
        user: args.user.as_deref(),
    };
    let bar = progress::bytes_bar(&args.file.display().to_string());
    let report = import_usage(
        &mut project,
        &request,
        &mut |p| {
            if let Some(total) = p.total_bytes {
                bar.set_length(total);
            }
            bar.set_position(p.bytes_read);
        },
        interrupt::cancel_flag(),
    )?;
    bar.finish_and_clear();
    let stats = &report.stats;
    for error in &stats.malformed.examples {
        eprintln!("malformed: {error}");
    }
    if stats.malformed.count > stats.malformed.examples.len() as u64 {
        eprintln!(
            "malformed: … and {} more lines",
            stats.malformed.count - stats.malformed.examples.len() as u64
        );
    }
    println!(
        "{} lines read, {} listens ({} plays), {} malformed lines skipped",
        stats.lines_read, stats.listens, stats.plays, stats.malformed.count
    );
    println!(
        "matched {} listens (by id {}, by path {}, by artist+title {}); {} unmatched listens of {} tracks",
        stats.matched.total(),
        stats.matched.by_id,
        stats.matched.by_path,
        stats.matched.by_artist_title,
        stats.unmatched_listens,
        stats.unmatched_tracks
    );
    if !args.add_missing {
        for unmatched in &stats.top_unmatched {
            let t = &unmatched.track;
            let name = t
                .ids
                .first()
                .cloned()
                .or_else(|| t.path.clone())
                .unwrap_or_else(|| {
                    format!(
                        "{} - {}",
                        t.artist.as_deref().unwrap_or("?"),
                        t.title.as_deref().unwrap_or("?")
                    )
                });
            eprintln!("unmatched: {name} ({} plays)", unmatched.plays);
        }
    }
    println!(
        "{} tracks added, {} users, {} user-track play counts added",
        report.tracks_added, report.users, report.pairs
    );
    Ok(Outcome::Success)
}
