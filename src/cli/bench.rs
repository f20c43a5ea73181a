//! `deepcuts bench …`: speed figures, printed.

use std::path::PathBuf;

use anyhow::Context;

use super::Outcome;
use crate::audio::scan::find_audio_files;
use crate::bench::mel::{self as mel_bench, StageFigures};

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Decode + resample and log-mel throughput, measured separately, on one thread and on all
    /// threads; on synthesized audio when no files are given.
    Mel(MelArgs),
    /// Convnet inference throughput (tracks/s) on random weights and inputs.
    Infer(super::bench_convnet::InferArgs),
    /// Convnet training throughput (examples/s): forward, backward and update.
    Train(super::bench_convnet::TrainArgs),
}

#[derive(Debug, clap::Args)]
pub struct MelArgs {
    /// Audio files or folders (searched recursively).
    paths: Vec<PathBuf>,
    /// How many tracks to use (the first N files found; synthesized tracks when none given).
    #[arg(long)]
    tracks: Option<usize>,
}

pub fn run(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Mel(args) => run_mel(args),
        Command::Infer(args) => super::bench_convnet::infer(args),
        Command::Train(args) => super::bench_convnet::train(args),
    }
}

fn run_mel(args: MelArgs) -> anyhow::Result<Outcome> {
    let scratch = tempfile::tempdir().context("creating a temporary folder")?;
    let files = if args.paths.is_empty() {
        let count = args.tracks.unwrap_or(4);
        eprintln!("no files given: synthesizing {count} four-minute 44.1-kHz stereo WAV files");
        mel_bench::write_synthetic_tracks(scratch.path(), count)
            .context("writing synthetic tracks")?
    } else {
        let mut files = Vec::new();
        for path in &args.paths {
            let (found, errors) = find_audio_files(path);
            for (dir, error) in errors {
                eprintln!("warning: {}: {error}", dir.display());
            }
            files.extend(found);
        }
        files.truncate(args.tracks.unwrap_or(usize::MAX));
        files
    };
    anyhow::ensure!(!files.is_empty(), "no audio files found");
    eprintln!("decoding the middle 30 s of {} files…", files.len());
    let (decode, mut excerpts, failures) = mel_bench::bench_decode_stage(&files);
    for failure in &failures {
        eprintln!("error: {failure}");
    }
    anyhow::ensure!(!excerpts.is_empty(), "no file decoded");
    // Enough excerpts for a stable mel figure: repeat the decoded ones.
    let distinct = excerpts.len();
    while excerpts.len() < 64 {
        excerpts.push(excerpts[excerpts.len() % distinct].clone());
    }
    let mel = mel_bench::bench_mel_stage(&excerpts);
    if let Some(decode) = &decode {
        print_stage("decode+resample (30-s excerpt)", decode);
    }
    print_stage("log-mel (30-s excerpt)", &mel);
    Ok(if failures.is_empty() {
        Outcome::Success
    } else {
        Outcome::SomeFailed
    })
}

fn print_stage(name: &str, figures: &StageFigures) {
    println!(
        "{name}: {:.2} ms/track on 1 thread ({:.0}x real time); {:.2} ms/track on {} threads ({:.0}x real time); {} tracks",
        figures.ms_per_track_one_thread,
        figures.realtime_one_thread(),
        figures.ms_per_track_all_threads,
        figures.threads,
        figures.realtime_all_threads(),
        figures.tracks,
    );
}
