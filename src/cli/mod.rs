//! The command-line interface: argument parsing, progress bars and printing; every command
//! calls the same library functions the GUI does.

mod app;
mod bench;
mod bench_convnet;
mod cf;
mod demo;
mod devices;
mod eval;
mod features;
mod filters;
mod info;
mod interrupt;
mod mel;
mod neighbours;
mod pipeline;
mod play;
mod playlist;
mod predict;
mod progress;
mod project;
mod report;
mod train;
mod tsne;
mod usage;

use std::process::ExitCode;

use clap::Parser;

/// deepcuts: content-based music recommendation with convnets. Predicts where a track sits in
/// a collaborative-filtering latent space from its audio alone, and shows what the network
/// learned.
#[derive(Debug, Parser)]
#[command(name = "deepcuts", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Container, codec, sample rate, channels and duration of audio files, one line a file.
    Info(info::Args),
    /// The log-mel spectrogram of a file's middle 30 s (or the whole track) as a NumPy .npy.
    Mel(mel::Args),
    /// Make a complete project from the synthesized demo world, or export its audio.
    Demo(demo::Args),
    /// Create a project folder.
    New(project::NewArgs),
    /// Add the audio files under folders to a project's catalog.
    AddAudio(project::AddAudioArgs),
    /// Play a track through the default audio output.
    Play(play::Args),
    /// What a project holds, what is stale and what failed.
    Status(project::StatusArgs),
    /// Import a listening log (play counts) into a project.
    ImportUsage(usage::Args),
    /// Weighted matrix factorisation (implicit ALS) of the play counts: cf/*_factors.npy.
    Cf(cf::CfArgs),
    /// Evaluate WMF on held-out listens and on cold-start tracks: eval/cf.json.
    EvalCf(cf::EvalCfArgs),
    /// Use item factors computed elsewhere (.npy, CSV, Spark's Parquet) as cf/item_factors.npy.
    ImportFactors(cf::ImportFactorsArgs),
    /// Compute the log-mel excerpt of every track (parallel, resumable; `--shard I/N`).
    Features(features::FeaturesArgs),
    /// Combine feature shards computed with `features --shard I/N` into the project.
    MergeFeatures(features::MergeArgs),
    /// Train the convnet to predict the project's cold-start CF factors from audio.
    Train(train::Args),
    /// Predicted factors and activations of every track (predict/*.npy).
    Predict(predict::PredictArgs),
    /// Run a network on log-mel .npy files and write its predictions as one .npy.
    Forward(predict::ForwardArgs),
    /// The cold-start table: random, baseline, convnet and upper bound (AUC, mAP@500).
    Eval(eval::Args),
    /// Draw the first-layer filters as a PNG (negative red, positive blue).
    Filters(filters::Args),
    /// The tracks that most excite a conv1 filter or fc2 unit, or are nearest a track:
    /// playlists/NAME.json and .m3u8 (filter entries start where the filter peaked).
    Playlist(playlist::PlaylistArgs),
    /// Naming help: the styles, traits, kinds and artists a filter's or unit's playlist shares.
    Describe(playlist::DescribeArgs),
    /// The experiment report: the cold-start gap the convnet closes, the share of low-level
    /// conv1 filters and of style-selective fc2 units, each against its goal: eval/report.json.
    Report(report::Args),
    /// A track's nearest tracks by audio (predicted factors) and by listening data (WMF).
    Neighbours(neighbours::NeighboursArgs),
    /// CF recommendations whose audio does not fit (intros, outros, covers, remixes…).
    Outliers(neighbours::OutliersArgs),
    /// Run every stage that is missing, stale or interrupted, in order (features → cf →
    /// eval-cf → train → predict → tsne → eval); resumable.
    Pipeline(pipeline::Args),
    /// The desktop app on a project (`--view NAME` opens it on a view).
    App(app::Args),
    /// t-SNE map of the predicted (or CF) factors: maps/tsne.npy, .csv, .json; or of any .npy.
    Tsne(tsne::Args),
    /// The GPU adapters inference can use (`--device gpu:NAME`), and what `auto` picks.
    Devices(devices::Args),
    /// Measure the speed of a stage.
    #[command(subcommand)]
    Bench(bench::Command),
}

/// What a command reports when it finished: success, or some items failed (after listing all).
pub enum Outcome {
    Success,
    SomeFailed,
}

/// Parses the arguments, runs the command and maps its outcome to an exit status:
/// 0 on success, 1 when the command (or some of its items) failed, 2 for usage errors.
pub fn main() -> ExitCode {
    crate::convnet::init_threads();
    crate::gpu::adapter::init_env();
    let cli = Cli::parse();
    let result = match cli.command {
        // Given nothing, deepcuts shows the demo world: in the app, or on the terminal when
        // there is no display.
        None => pipeline::demo_world(),
        Some(command) => dispatch(command),
    };
    match result {
        Ok(Outcome::Success) => ExitCode::SUCCESS,
        Ok(Outcome::SomeFailed) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("error: {}", describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// Runs one command.
fn dispatch(command: Command) -> anyhow::Result<Outcome> {
    match command {
        Command::Info(args) => info::run(args),
        Command::Mel(args) => mel::run(args),
        Command::Demo(args) => demo::run(args),
        Command::New(args) => project::new(args),
        Command::AddAudio(args) => project::add_audio(args),
        Command::Play(args) => play::run(args),
        Command::Status(args) => project::status(args),
        Command::ImportUsage(args) => usage::run(args),
        Command::Cf(args) => cf::cf(args),
        Command::EvalCf(args) => cf::eval_cf(args),
        Command::ImportFactors(args) => cf::import_factors(args),
        Command::Features(args) => features::run(args),
        Command::MergeFeatures(args) => features::merge(args),
        Command::Train(args) => train::run(args),
        Command::Predict(args) => predict::predict(args),
        Command::Forward(args) => predict::forward(args),
        Command::Eval(args) => eval::run(args),
        Command::Filters(args) => filters::run(args),
        Command::Playlist(args) => playlist::playlist_command(args),
        Command::Describe(args) => playlist::describe_command(args),
        Command::Report(args) => report::run(args),
        Command::Neighbours(args) => neighbours::neighbours(args),
        Command::Outliers(args) => neighbours::outliers(args),
        Command::Pipeline(args) => pipeline::run(args),
        Command::App(args) => app::run(args),
        Command::Tsne(args) => tsne::run(args),
        Command::Devices(args) => devices::run(args),
        Command::Bench(command) => bench::run(command),
    }
}

/// The error and its causes on one line, skipping a cause whose text the message already
/// holds (many library errors quote their source).
fn describe(error: &anyhow::Error) -> String {
    let mut message = error.to_string();
    for cause in error.chain().skip(1) {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
    }
    if let Some(step) = error.chain().find_map(next_step) {
        message.push_str("; ");
        message.push_str(&step);
    }
    message
}

/// The command that fixes an error, for the errors one command's output fixes: the library's
/// messages say what is wrong and leave this to the CLI (the app offers its own buttons).
fn next_step(cause: &(dyn std::error::Error + 'static)) -> Option<String> {
    use crate::analysis::AnalysisError;
    use crate::coldstart::ColdstartError;
    use crate::project::ProjectError;
    let step = |stage: &str| Some(format!("run `deepcuts {stage}` first"));
    match cause.downcast_ref::<ColdstartError>() {
        Some(ColdstartError::NoSplit { .. }) => return step("train"),
        Some(ColdstartError::NoFeatures { .. }) => return step("features"),
        Some(ColdstartError::NoListens) => {
            return Some("import a listening log with `deepcuts import-usage` first".into())
        }
        _ => {}
    }
    match cause.downcast_ref::<AnalysisError>() {
        Some(AnalysisError::Missing { stage, .. } | AnalysisError::Stale { stage, .. }) => {
            return step(stage)
        }
        Some(AnalysisError::NotPredicted { .. }) => {
            return Some("run `deepcuts features` and `deepcuts predict` first".into())
        }
        _ => {}
    }
    match cause.downcast_ref::<ProjectError>() {
        Some(ProjectError::NotAProject { .. }) => Some("create one with `deepcuts new`".into()),
        _ => None,
    }
}
