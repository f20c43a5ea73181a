//! `deepcuts bench …`: speed figures, printed.

use std::path::PathBuf;

use anyhow::Context;

use super::{interrupt, progress, Outcome};
use crate::audio::scan::find_audio_files;
use crate::baseline::{BagOfWordsConfig, BaselineConfig, FeatureConfig};
use crate::bench::mel::{self as mel_bench, StageFigures};
use crate::cf::bench::SyntheticConfig;
use crate::cf::wmf::WmfConfig;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Decode + resample and log-mel throughput, measured separately, on one thread and on all
    /// threads; on synthesized audio when no files are given.
    Mel(MelArgs),
    /// Convnet inference throughput (tracks/s) on random weights and inputs.
    Infer(super::bench_convnet::InferArgs),
    /// Convnet training throughput (examples/s): forward, backward and update.
    Train(super::bench_convnet::TrainArgs),
    /// WMF time per iteration and held-out accuracy on a 20k-user × 10k-item synthetic
    /// problem (`prepare` it once; bench/wmf_vs_implicit.py runs the `implicit` library on the
    /// same files for the comparison).
    #[command(subcommand)]
    Cf(CfCommand),
    /// Fit time and accuracy of the cold-start content baseline on synthetic excerpts.
    Baseline(BaselineArgs),
    /// Every playlist of a large project (ranked and written) and similar-track queries over
    /// up to 1M tracks, on random activations.
    Analysis(AnalysisArgs),
    /// Listening-log import speed on a synthetic Taste Profile file (run under
    /// `/usr/bin/time -v` for peak memory).
    Usage(UsageArgs),
    /// t-SNE time, peak memory and trustworthiness on clustered synthetic points
    /// (bench/tsne_peers.py runs openTSNE and scikit-learn on the same points).
    Tsne(super::tsne::BenchArgs),
}

#[derive(Debug, clap::Args)]
pub struct AnalysisArgs {
    /// Tracks of the synthetic project for the playlists.
    #[arg(long, default_value_t = 100_000)]
    tracks: usize,
    /// Tracks searched by the similar-track queries.
    #[arg(long, default_value_t = 1_000_000)]
    similar_tracks: usize,
    /// The network's layer sizes: paper (256 filters, 2048 units) or small (64, 256).
    #[arg(long, default_value = "paper")]
    config: String,
}

#[derive(Debug, clap::Args)]
pub struct UsageArgs {
    /// Lines of the synthetic file (48,373,586 in the real Taste Profile).
    #[arg(long, default_value_t = 5_000_000)]
    lines: u64,
    /// Only parse (no matching or aggregation).
    #[arg(long)]
    parse_only: bool,
}

#[derive(Debug, clap::Subcommand)]
pub enum CfCommand {
    /// Write the synthetic play counts and their held-out split into DIR (.npy triplets).
    Prepare {
        /// Folder for the data.
        dir: PathBuf,
    },
    /// Fit WMF on DIR's training split and evaluate it (and implicit's factors when present).
    Run {
        /// Folder made by `prepare`.
        dir: PathBuf,
        /// Worker threads.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Also compute the loss after every iteration (slower).
        #[arg(long)]
        loss: bool,
    },
}

#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    /// Synthetic tracks.
    #[arg(long, default_value_t = 3000)]
    tracks: usize,
    /// Feature set: bow (bag-of-words MFCC) or mel-stats (per-band mean and std).
    #[arg(long, default_value = "bow")]
    features: String,
    /// Codebook size of the bag of words.
    #[arg(long, default_value_t = 256)]
    codebook: usize,
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
        Command::Cf(command) => run_cf(command),
        Command::Baseline(args) => run_baseline(args),
        Command::Analysis(args) => run_analysis(args),
        Command::Usage(args) => run_usage(args),
        Command::Tsne(args) => super::tsne::bench(args),
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
    let cpu = figures
        .cpu_ms_per_track_one_thread
        .map_or(String::new(), |ms| format!(", {ms:.2} ms CPU"));
    println!(
        "{name}: {:.2} ms/track on 1 thread{cpu} ({:.0}x real time); {:.2} ms/track on {} threads ({:.0}x real time); {} tracks",
        figures.ms_per_track_one_thread,
        figures.realtime_one_thread(),
        figures.ms_per_track_all_threads,
        figures.threads,
        figures.realtime_all_threads(),
        figures.tracks,
    );
}

fn run_cf(command: CfCommand) -> anyhow::Result<Outcome> {
    match command {
        CfCommand::Prepare { dir } => {
            let split = crate::cf::bench::prepare(&dir, &SyntheticConfig::default(), 0.2)?;
            println!(
                "{}: {} users × {} items, {} train / {} held-out nonzeros",
                dir.display(),
                split.train.users(),
                split.train.items(),
                split.train.nnz(),
                split.heldout.nnz()
            );
        }
        CfCommand::Run { dir, threads, loss } => {
            let config = WmfConfig {
                threads,
                compute_loss: loss,
                ..WmfConfig::default()
            };
            let bar = progress::bar(config.iterations as u64, "wmf");
            let report = crate::cf::bench::run(
                &dir,
                &config,
                &mut |r| {
                    let loss = r
                        .loss
                        .map(|l| format!(", loss {l:.6e}"))
                        .unwrap_or_default();
                    progress::note(
                        &bar,
                        format!(
                            "wmf iteration {:2}: {:.1} ms{loss}",
                            r.iteration,
                            r.secs * 1e3
                        ),
                    );
                    bar.set_position(r.iteration as u64);
                },
                interrupt::cancel_flag(),
            )?;
            bar.finish_and_clear();
            let median_ms = |secs: &[f64]| {
                let mut sorted = secs.to_vec();
                sorted.sort_by(f64::total_cmp);
                sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN) * 1e3
            };
            println!(
                "{} users × {} items, {} train nonzeros, {} factors, {} CG steps, {threads} threads",
                report.users, report.items, report.train_nnz, config.factors, config.cg_steps
            );
            let ours = median_ms(&report.wmf_secs_per_iteration);
            println!("deepcuts wmf: {ours:.1} ms/iteration (median)");
            if let Some(implicit) = &report.implicit_secs_per_iteration {
                let theirs = median_ms(implicit);
                println!(
                    "implicit:     {theirs:.1} ms/iteration (median); time ratio {:.2}",
                    ours / theirs
                );
            }
            super::cf::print_table(&report.metrics);
            let json = serde_json::to_string_pretty(&report)?;
            crate::io::atomic::write_bytes_atomic(&dir.join("report.json"), json.as_bytes())
                .with_context(|| format!("writing {}", dir.join("report.json").display()))?;
        }
    }
    Ok(Outcome::Success)
}

fn run_baseline(args: BaselineArgs) -> anyhow::Result<Outcome> {
    let features = match args.features.as_str() {
        "bow" => FeatureConfig::BagOfWords(BagOfWordsConfig {
            codebook_size: args.codebook,
            ..BagOfWordsConfig::default()
        }),
        "mel-stats" => FeatureConfig::MelStatistics,
        other => anyhow::bail!("unknown feature set {other:?}: bow or mel-stats"),
    };
    let config = BaselineConfig {
        features,
        ..BaselineConfig::default()
    };
    let report = crate::baseline::bench::run(args.tracks, 40, &config)?;
    let cpu = |secs: Option<f64>| secs.map_or("?".into(), |s| format!("{s:.2}"));
    println!(
        "{} tracks, {} threads: generated in {:.2} s; fit in {:.2} s wall, {} s CPU",
        report.tracks,
        report.threads,
        report.generate_secs,
        report.fit_secs,
        cpu(report.fit_cpu_secs)
    );
    for stage in &report.stage_secs {
        println!(
            "  {}: {:.2} s wall, {} s CPU",
            stage.stage,
            stage.wall_secs,
            cpu(stage.cpu_secs)
        );
    }
    let fit = &report.fit;
    println!(
        "predict: {:.0} tracks/s; valid MSE {:.4} (mean {:.4}), test MSE {:.4} (mean {:.4})",
        report.predict_tracks_per_sec,
        fit.valid_mse,
        fit.valid_mse_of_mean,
        report.test_mse,
        report.test_mse_of_mean
    );
    Ok(Outcome::Success)
}

fn run_usage(args: UsageArgs) -> anyhow::Result<Outcome> {
    let scratch = tempfile::tempdir().context("creating a temporary folder")?;
    let path = scratch.path().join("train_triplets.txt");
    eprintln!("writing {} synthetic Taste Profile lines…", args.lines);
    crate::bench::usage::write_synthetic_taste_profile(&path, args.lines)
        .with_context(|| format!("writing {}", path.display()))?;
    let report = crate::bench::usage::bench_taste_profile(&path, args.parse_only)?;
    let what = match report.aggregated {
        None => "parse".to_owned(),
        Some((users, tracks, pairs)) => {
            format!("import ({users} users, {tracks} tracks, {pairs} pairs)")
        }
    };
    let per_sec = |secs: f64| report.lines as f64 / secs / 1e6;
    println!(
        "taste-profile {what}: {} lines, {:.0} MB in {:.2} s = {:.2} M lines/s",
        report.lines,
        report.bytes as f64 / 1e6,
        report.wall_secs,
        per_sec(report.wall_secs)
    );
    if let Some(cpu) = report.cpu_secs {
        println!("  CPU {cpu:.2} s = {:.2} M lines/s", per_sec(cpu));
    }
    Ok(Outcome::Success)
}

fn run_analysis(args: AnalysisArgs) -> anyhow::Result<Outcome> {
    use crate::analysis::bench;
    let config = match args.config.as_str() {
        "paper" => crate::convnet::ConvnetConfig::paper(),
        "small" => crate::convnet::ConvnetConfig::small(),
        other => anyhow::bail!("--config {other}: expected paper or small"),
    };
    let dir = tempfile::tempdir()?;
    let playlists = bench::playlists(args.tracks, &config, 10, dir.path())?;
    println!(
        "playlists: {} tracks, {} playlists of 10 ({} filters x max/mean, {} units): rank {:.2} s (CPU {:.2} s), write JSON + M3U8 {:.2} s (CPU {:.2} s), total {:.2} s",
        playlists.tracks,
        playlists.playlists,
        config.filters[0],
        config.dense.last().copied().unwrap_or(0),
        playlists.rank_secs,
        playlists.rank_cpu_secs,
        playlists.write_secs,
        playlists.write_cpu_secs,
        playlists.rank_secs + playlists.write_secs
    );
    let similar = bench::similar(args.similar_tracks, config.factors, 50, 10);
    println!(
        "similar: {} tracks x {} factors: index {:.2} s; top-10 query median {:.1} ms, max {:.1} ms (CPU {:.1} ms a query)",
        similar.tracks, similar.dims, similar.build_secs, similar.median_ms, similar.max_ms, similar.cpu_ms
    );
    Ok(Outcome::Success)
}
