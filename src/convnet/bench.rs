//! Throughput benchmarks behind `deepcuts bench infer` and `deepcuts bench train`: random
//! weights and inputs of a given config, timed for at least a given duration. They return
//! figures; the CLI prints them (its last line `N tracks/s`).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use candle_core::{Device, Tensor};
use ndarray::Array3;
use rand::{Rng, SeedableRng};

use super::config::{ConvnetConfig, CROP_FRAMES, EXCERPT_FRAMES};
use super::engine::{InferDevice, InferEngine};
use super::infer::{InferError, InferOptions};
use super::loss::unit_norm;
use super::train::{BatchTarget, PreparedBatch, TrainError, TrainSettings, Trainer};
use super::weight_average;
use super::weights::ConvnetWeights;
use crate::gpu::convnet::KernelTime;

/// Measured inference throughput.
#[derive(Debug, Clone, PartialEq)]
pub struct InferBenchFigures {
    /// The device that ran, in words.
    pub device: String,
    pub batch: usize,
    pub threads: usize,
    /// Timed batches (after one warm-up batch).
    pub batches: usize,
    pub elapsed_secs: f64,
    pub tracks_per_sec: f64,
    /// Arithmetic rate of the whole network (2 × multiply-adds per second), GFLOP/s.
    pub gflops: f64,
    /// On a GPU with timestamp queries: each kernel's time on one batch.
    pub kernels: Option<Vec<KernelTime>>,
    /// The device's fp32 peak, GFLOP/s, when given: rates are also shown as a share of it.
    pub peak_gflops: Option<f64>,
}

impl fmt::Display for InferBenchFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "device {}, batch {}, {} threads: {} batches in {:.2} s, {:.1} ms/batch, {:.0} GFLOP/s",
            self.device,
            self.batch,
            self.threads,
            self.batches,
            self.elapsed_secs,
            1e3 * self.elapsed_secs / self.batches as f64,
            self.gflops
        )?;
        if let Some(kernels) = &self.kernels {
            let share = |gflops: f64| {
                self.peak_gflops
                    .map(|peak| format!(" ({:.1}% of peak)", 100.0 * gflops / peak))
                    .unwrap_or_default()
            };
            writeln!(f, "GPU time per kernel, one batch (timestamp queries):")?;
            for kernel in kernels {
                write!(f, "  {:<16} {:>9.3} ms", kernel.label, 1e3 * kernel.seconds)?;
                if kernel.flops > 0.0 {
                    let gflops = kernel.flops / kernel.seconds.max(1e-12) / 1e9;
                    write!(f, "  {gflops:>8.0} GFLOP/s{}", share(gflops))?;
                }
                writeln!(f)?;
            }
            let convs: Vec<&KernelTime> = kernels
                .iter()
                .filter(|k| k.flops > 0.0 && k.label.starts_with("conv"))
                .collect();
            let seconds: f64 = convs.iter().map(|k| k.seconds).sum();
            let flops: f64 = convs.iter().map(|k| k.flops).sum();
            let total: f64 = kernels.iter().map(|k| k.seconds).sum();
            let gflops = flops / seconds.max(1e-12) / 1e9;
            writeln!(
                f,
                "  convolutions: {:.3} ms of {:.3} ms, {gflops:.0} GFLOP/s{}",
                1e3 * seconds,
                1e3 * total,
                share(gflops)
            )?;
        }
        if let Some(peak) = self.peak_gflops {
            writeln!(
                f,
                "whole network: {:.1}% of the {peak:.0} GFLOP/s peak",
                100.0 * self.gflops / peak
            )?;
        }
        write!(f, "{:.1} tracks/s", self.tracks_per_sec)
    }
}

/// Random crops in the range of real log-mels: [batch, n_mels, 599] dB.
pub fn random_crops(config: &ConvnetConfig, batch: usize, seed: u64) -> Array3<f32> {
    random_decibels((batch, config.n_mels, CROP_FRAMES), seed)
}

/// Random stored excerpts in the range of real log-mels: [batch, 646, n_mels] dB.
pub fn random_excerpts(config: &ConvnetConfig, batch: usize, seed: u64) -> Array3<f32> {
    random_decibels((batch, EXCERPT_FRAMES, config.n_mels), seed)
}

/// Values uniform in -80..0 dB, the range of real log-mels.
fn random_decibels(shape: (usize, usize, usize), seed: u64) -> Array3<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array3::from_shape_simple_fn(shape, || rng.random_range(-80.0..0.0))
}

/// Times inference of `config` on `device` on batches of `batch` random excerpts (the CPU
/// path with `threads` threads), for at least `min_duration` (and at least 3 batches), or
/// until `cancel` is set. Batches are pipelined as in `predict`: the next one is started
/// before the current one is read back. On a GPU with timestamp queries, one more batch is
/// timed kernel by kernel.
pub fn bench_infer(
    config: &ConvnetConfig,
    device: &InferDevice,
    batch: usize,
    threads: usize,
    min_duration: Duration,
    peak_gflops: Option<f64>,
    cancel: &AtomicBool,
) -> Result<InferBenchFigures, InferError> {
    let batch = batch.max(1);
    let weights = ConvnetWeights::init(config, 1);
    let net = InferEngine::new(&weights, device, threads)?;
    let excerpts = random_excerpts(config, batch, 2);
    let views: Vec<_> = excerpts.outer_iter().collect();
    let options = InferOptions::default();
    net.run_excerpts(&views, options)?;
    let start = Instant::now();
    let mut batches = 1;
    let mut pending = net.start_excerpts(&views, options)?;
    while (batches < 3 || start.elapsed() < min_duration) && !cancel.load(Ordering::Relaxed) {
        let next = net.start_excerpts(&views, options)?;
        pending.finish()?;
        pending = next;
        batches += 1;
    }
    pending.finish()?;
    let elapsed_secs = start.elapsed().as_secs_f64().max(1e-9);
    let kernels = net.kernel_times(&views)?;
    let tracks_per_sec = (batches * batch) as f64 / elapsed_secs;
    Ok(InferBenchFigures {
        device: net.describe(),
        batch,
        threads: threads.max(1),
        batches,
        elapsed_secs,
        tracks_per_sec,
        gflops: tracks_per_sec * config.forward_flops() / 1e9,
        kernels,
        peak_gflops,
    })
}

/// Measured training throughput (forward, backward and update on the CPU with candle).
#[derive(Debug, Clone, PartialEq)]
pub struct TrainBenchFigures {
    pub batch: usize,
    pub threads: usize,
    /// Timed steps (after one warm-up step).
    pub steps: usize,
    pub elapsed_secs: f64,
    pub examples_per_sec: f64,
}

impl fmt::Display for TrainBenchFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "training on cpu (candle), batch {}, {} threads: {} steps in {:.2} s, {:.1} ms/step",
            self.batch,
            self.threads,
            self.steps,
            self.elapsed_secs,
            1e3 * self.elapsed_secs / self.steps as f64
        )?;
        write!(f, "{:.1} examples/s", self.examples_per_sec)
    }
}

/// Times training steps of `config` (MSE objective, dropout 0.5, Nesterov SGD, weight average)
/// on one batch of `batch` random normalised crops with `threads` threads, for at least
/// `min_duration` (and at least 3 steps), or until `cancel` is set.
pub fn bench_train(
    config: &ConvnetConfig,
    batch: usize,
    threads: usize,
    min_duration: Duration,
    cancel: &AtomicBool,
) -> Result<TrainBenchFigures, TrainError> {
    let batch = batch.max(1);
    let threads = threads.max(1);
    // The weight average as `deepcuts train` keeps it, so the figures are the real loop's.
    let settings = TrainSettings {
        threads,
        average_decay: weight_average::DEFAULT_DECAY,
        ..TrainSettings::default()
    };
    let mut rng = rand::rngs::StdRng::seed_from_u64(3);
    let mut uniform = |len: usize, range: std::ops::Range<f32>| -> Vec<f32> {
        (0..len).map(|_| rng.random_range(range.clone())).collect()
    };
    let x = uniform(batch * config.n_mels * CROP_FRAMES, -2.0..2.0);
    let targets: Vec<f32> = uniform(batch * config.factors, -1.0..1.0)
        .chunks(config.factors)
        .flat_map(unit_norm)
        .collect();
    let masks = config
        .dense
        .iter()
        .map(|&width| {
            let mask: Vec<f32> = uniform(batch * width, 0.0..1.0)
                .into_iter()
                .map(|u| if u < 0.5 { 2.0 } else { 0.0 })
                .collect();
            Tensor::from_vec(mask, (batch, width), &Device::Cpu)
        })
        .collect::<candle_core::Result<Vec<_>>>()?;
    let prepared = PreparedBatch {
        tracks: (0..batch).collect(),
        x: Tensor::from_vec(x, (batch, CROP_FRAMES, config.n_mels), &Device::Cpu)?,
        target: BatchTarget::Mse(Tensor::from_vec(
            targets,
            (batch, config.factors),
            &Device::Cpu,
        )?),
        dropout_masks: Some(masks),
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| TrainError::Threads {
            threads,
            message: e.to_string(),
        })?;
    pool.install(|| {
        let mut trainer = Trainer::new(&ConvnetWeights::init(config, 1), &settings)?;
        trainer.step(&prepared)?;
        let start = Instant::now();
        let mut steps = 0;
        while (steps < 3 || start.elapsed() < min_duration) && !cancel.load(Ordering::Relaxed) {
            trainer.step(&prepared)?;
            steps += 1;
        }
        let elapsed_secs = start.elapsed().as_secs_f64().max(1e-9);
        Ok(TrainBenchFigures {
            batch,
            threads,
            steps,
            elapsed_secs,
            examples_per_sec: (steps * batch) as f64 / elapsed_secs,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_parse() {
        use crate::gpu::AdapterChoice;
        assert_eq!("auto".parse::<InferDevice>(), Ok(InferDevice::Auto));
        assert_eq!("cpu".parse::<InferDevice>(), Ok(InferDevice::Cpu));
        assert_eq!(
            "gpu".parse::<InferDevice>(),
            Ok(InferDevice::Gpu(AdapterChoice::Fastest))
        );
        assert_eq!(
            "gpu:llvmpipe".parse::<InferDevice>(),
            Ok(InferDevice::Gpu(AdapterChoice::Named("llvmpipe".into())))
        );
        for bad in ["tpu", "gpu:", "GPU"] {
            assert!(bad
                .parse::<InferDevice>()
                .unwrap_err()
                .contains("auto, cpu, gpu"));
        }
    }

    #[test]
    fn benchmarks_report_consistent_figures() {
        // A tiny config and a zero duration: three timed batches (steps), figures that agree
        // with each other and a last line "N tracks/s" (examples/s).
        let config = ConvnetConfig {
            n_mels: 16,
            filters: [4, 4, 4, 4],
            pools: [4, 2, 2],
            dense: vec![8],
            factors: 3,
        };
        let cancel = AtomicBool::new(false);
        let infer = bench_infer(
            &config,
            &InferDevice::Cpu,
            4,
            2,
            Duration::ZERO,
            None,
            &cancel,
        )
        .unwrap();
        assert_eq!(
            (infer.batches, infer.batch, infer.device.as_str()),
            (3, 4, "cpu (2 threads)")
        );
        let rate = (infer.batches * infer.batch) as f64 / infer.elapsed_secs;
        assert!((infer.tracks_per_sec - rate).abs() < 1e-9 * rate);
        assert!(infer
            .to_string()
            .lines()
            .last()
            .unwrap()
            .ends_with(" tracks/s"));
        let train = bench_train(&config, 4, 2, Duration::ZERO, &cancel).unwrap();
        assert_eq!(train.steps, 3);
        assert!(train.to_string().ends_with(" examples/s"));
    }
}
