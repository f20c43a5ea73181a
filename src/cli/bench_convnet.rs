//! `deepcuts bench infer` and `bench train`: the convnet's throughput on random weights and
//! inputs (library: `convnet::bench`). The last line reads `N tracks/s` (`N examples/s`).

use std::time::Duration;

use super::predict::DeviceArgs;
use super::{interrupt, Outcome};
use crate::convnet::bench::{bench_infer, bench_train};
use crate::pipeline::resolve_config;

#[derive(Debug, clap::Args)]
pub struct InferArgs {
    /// Network size: `paper`, `small`, or a JSON/TOML config file.
    #[arg(long, default_value = "paper")]
    config: String,
    #[command(flatten)]
    device: DeviceArgs,
    /// Tracks per batch.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds to measure for.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
    /// The device's fp32 peak in GFLOP/s (e.g. 67000 for an H100 SXM): rates are also
    /// printed as a share of it.
    #[arg(long)]
    peak_gflops: Option<f64>,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Network size: `paper`, `small`, or a JSON/TOML config file.
    #[arg(long, default_value = "paper")]
    config: String,
    /// Examples per step.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Seconds to measure for.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,
}

fn threads(requested: Option<usize>) -> usize {
    requested.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

fn duration(secs: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| anyhow::anyhow!("--secs {secs}: not a duration"))
}

pub fn infer(args: InferArgs) -> anyhow::Result<Outcome> {
    let config = resolve_config(&args.config)?;
    let figures = bench_infer(
        &config,
        &args.device.device,
        args.batch,
        threads(args.threads),
        duration(args.secs)?,
        args.peak_gflops,
        interrupt::cancel_flag(),
    )?;
    println!("inference, config {}:", args.config);
    println!("{figures}");
    Ok(Outcome::Success)
}

pub fn train(args: TrainArgs) -> anyhow::Result<Outcome> {
    let config = resolve_config(&args.config)?;
    let figures = bench_train(
        &config,
        args.batch,
        threads(args.threads),
        duration(args.secs)?,
        interrupt::cancel_flag(),
    )?;
    println!("training, config {}:", args.config);
    println!("{figures}");
    Ok(Outcome::Success)
}
