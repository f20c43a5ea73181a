//! Throughput benchmarks behind `deepcuts bench infer` and `deepcuts bench train`: random
//! weights and inputs of a given config, timed for at least a given duration. They return
//! figures; the CLI prints them (its last line `N tracks/s`).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use ndarray::Array3;
use rand::{Rng, SeedableRng};

use super::config::{ConvnetConfig, CROP_FRAMES};
use super::infer::{CpuConvnet, InferError, InferOptions};
use super::weights::ConvnetWeights;

/// Where inference runs. `Auto` picks the CPU until the GPU path exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum InferDevice {
    #[default]
    Auto,
    Cpu,
}

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
        write!(f, "{:.1} tracks/s", self.tracks_per_sec)
    }
}

/// Random crops in the range of real log-mels: [batch, n_mels, 599] dB.
pub fn random_crops(config: &ConvnetConfig, batch: usize, seed: u64) -> Array3<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    Array3::from_shape_simple_fn((batch, config.n_mels, CROP_FRAMES), || {
        rng.random_range(-80.0..0.0)
    })
}

/// Times CPU inference of `config` on batches of `batch` random crops with `threads` threads,
/// for at least `min_duration` (and at least 3 batches), or until `cancel` is set.
pub fn bench_infer(
    config: &ConvnetConfig,
    device: InferDevice,
    batch: usize,
    threads: usize,
    min_duration: Duration,
    cancel: &AtomicBool,
) -> Result<InferBenchFigures, InferError> {
    let device_name = match device {
        InferDevice::Auto | InferDevice::Cpu => "cpu",
    };
    let weights = ConvnetWeights::init(config, 1);
    let net = CpuConvnet::new(&weights, threads)?;
    let crops = random_crops(config, batch.max(1), 2);
    net.run(crops.view(), InferOptions::default())?;
    let start = Instant::now();
    let mut batches = 0;
    while (batches < 3 || start.elapsed() < min_duration) && !cancel.load(Ordering::Relaxed) {
        net.run(crops.view(), InferOptions::default())?;
        batches += 1;
    }
    let elapsed_secs = start.elapsed().as_secs_f64().max(1e-9);
    let tracks_per_sec = (batches * batch.max(1)) as f64 / elapsed_secs;
    Ok(InferBenchFigures {
        device: device_name.to_owned(),
        batch: batch.max(1),
        threads: threads.max(1),
        batches,
        elapsed_secs,
        tracks_per_sec,
        gflops: tracks_per_sec * config.forward_flops() / 1e9,
    })
}
