//! `deepcuts play DIR ID [--start SECS] [--secs N]`: audition a track through the default
//! audio output (the analysed middle 30 s with `--excerpt`).

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::Context;

use super::{interrupt, Outcome};
use crate::audio::player::{PlaybackState, Player};
use crate::audio::{excerpt_start, ANALYSIS_RATE_HZ};
use crate::project::audio_source::TrackAudio;
use crate::project::Project;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The project folder.
    dir: PathBuf,
    /// The track id (row of tracks.tsv).
    id: u32,
    /// Where to start, in seconds.
    #[arg(long, conflicts_with = "excerpt")]
    start: Option<f64>,
    /// Start at the analysed excerpt (the middle 30 s) and play it.
    #[arg(long)]
    excerpt: bool,
    /// How long to play, in seconds (default: to the end, or 30 s with --excerpt).
    #[arg(long)]
    secs: Option<f64>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let tracks = project.catalog().tracks()?;
    let track = tracks
        .get(args.id as usize)
        .with_context(|| format!("no track {} in {}", args.id, args.dir.display()))?;
    let audio = TrackAudio::new(std::slice::from_ref(track));
    let source = audio.playable(0)?;
    let start_secs = if args.excerpt {
        let n = (track.duration_secs.unwrap_or(0.0) * f64::from(ANALYSIS_RATE_HZ)) as usize;
        excerpt_start(n) as f64 / f64::from(ANALYSIS_RATE_HZ)
    } else {
        args.start.unwrap_or(0.0)
    };
    let secs = args.secs.or(args.excerpt.then_some(30.0));
    let mut player = Player::open_default()?;
    player.load(source)?;
    player.seek_secs(start_secs);
    player.play()?;
    eprintln!(
        "playing {} - {} from {start_secs:.1} s (Ctrl-C stops)",
        track.artist, track.title
    );
    let cancel = interrupt::cancel_flag();
    while player.state() == PlaybackState::Playing && !cancel.load(Ordering::Relaxed) {
        if secs.is_some_and(|secs| player.position_secs() >= start_secs + secs) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    player.stop();
    for error in player.take_errors() {
        eprintln!("error: {error}");
    }
    Ok(Outcome::Success)
}
