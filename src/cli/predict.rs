//! `deepcuts predict` (the convnet over a project) and `deepcuts forward` (over log-mel
//! `.npy` files); library: `predict`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;

use super::{interrupt, progress, Outcome};
use crate::convnet::InferDevice;
use crate::predict::{forward_files, load_net, predict_project, PredictOptions};
use crate::project::{layout, Project};

/// `--device`, shared by every command that runs the network.
#[derive(Debug, clap::Args)]
pub struct DeviceArgs {
    /// Where the network runs: auto (a hardware GPU if there is one, else the CPU), cpu, gpu
    /// (the fastest adapter, software ones too) or gpu:NAME (see `deepcuts devices`).
    #[arg(long, default_value = "auto")]
    pub device: InferDevice,
}

#[derive(Debug, clap::Args)]
pub struct PredictArgs {
    /// The project folder.
    dir: PathBuf,
    /// Weights to apply (default: the project's model/weights.safetensors); a network trained
    /// elsewhere, e.g. on another collection, predicts this one's tracks (cold start).
    #[arg(long)]
    model: Option<PathBuf>,
    #[command(flatten)]
    device: DeviceArgs,
    /// Tracks per network call.
    #[arg(long, default_value_t = PredictOptions::default().batch)]
    batch: usize,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

#[derive(Debug, clap::Args)]
pub struct ForwardArgs {
    /// The weights (safetensors with the config in its metadata).
    #[arg(long)]
    model: PathBuf,
    /// Log-mel excerpts, [646, 128] float .npy files (as `deepcuts mel` writes them).
    #[arg(required = true)]
    mels: Vec<PathBuf>,
    /// Where to write the predictions, [files × factors] float32 .npy, row i for the i-th file.
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    device: DeviceArgs,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
}

pub fn predict(args: PredictArgs) -> anyhow::Result<Outcome> {
    let project = Project::open(&args.dir)?;
    let options = PredictOptions {
        model: args.model,
        device: args.device.device,
        threads: args.threads.unwrap_or(0),
        batch: args.batch,
    };
    let bar = progress::bar(0, "predict");
    let started = Instant::now();
    let report = predict_project(
        &project,
        &options,
        &mut |done, total| {
            bar.set_length(total as u64);
            bar.set_position(done as u64);
        },
        interrupt::cancel_flag(),
    );
    bar.finish_and_clear();
    let report = report?;
    if report.cancelled {
        println!("interrupted: nothing written");
        return Ok(Outcome::SomeFailed);
    }
    let secs = started.elapsed().as_secs_f64();
    for skip in report.skipped.iter().take(10) {
        eprintln!("no prediction for track {}: {}", skip.track, skip.reason);
    }
    if report.skipped.len() > 10 {
        eprintln!("… and {} more", report.skipped.len() - 10);
    }
    println!(
        "{} of {} tracks predicted with {} on {} in {secs:.1} s ({:.0} tracks/s); {} without (zero rows, listed in {})",
        report.predicted,
        report.tracks,
        report.model.display(),
        report.device,
        report.predicted as f64 / secs.max(1e-9),
        report.skipped.len(),
        layout::PREDICT_REPORT
    );
    println!(
        "wrote {}, {}, {}, {}, {}",
        layout::PREDICT_FACTORS,
        layout::PREDICT_CONV1_MAX,
        layout::PREDICT_CONV1_MEAN,
        layout::PREDICT_CONV1_PEAK,
        layout::PREDICT_FC2
    );
    Ok(Outcome::Success)
}

pub fn forward(args: ForwardArgs) -> anyhow::Result<Outcome> {
    let net = load_net(&args.model, &args.device.device, args.threads.unwrap_or(0))?;
    eprintln!("running on {}", net.describe());
    let factors = forward_files(&net, &args.mels)?;
    crate::io::npy::write(&args.out, &factors)
        .with_context(|| format!("writing {}", args.out.display()))?;
    println!(
        "{} files → {} [{} × {}]",
        args.mels.len(),
        args.out.display(),
        factors.nrows(),
        factors.ncols()
    );
    Ok(Outcome::Success)
}
