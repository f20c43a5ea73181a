//! `deepcuts bench mel`: decode + resample and log-mel throughput, measured separately, on one
//! thread and on all threads.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rayon::prelude::*;

use super::{thread_cpu_secs, timed};
use crate::audio::{self, ANALYSIS_RATE_HZ, EXCERPT_SAMPLES};
use crate::dsp::mel::MelSpectrogram;

/// Throughput of one stage over a set of tracks.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StageFigures {
    /// Tracks processed (each once per run).
    pub tracks: usize,
    /// Wall-clock milliseconds per track on one thread.
    pub ms_per_track_one_thread: f64,
    /// CPU milliseconds per track of that thread (robust to other load on the machine).
    pub cpu_ms_per_track_one_thread: Option<f64>,
    /// Wall-clock milliseconds per track with all threads busy.
    pub ms_per_track_all_threads: f64,
    /// Threads used for the parallel run.
    pub threads: usize,
    /// Seconds of audio processed per track (the 30-s excerpt, or the decoded length).
    pub audio_secs_per_track: f64,
}

impl StageFigures {
    /// Figures of `tracks` 30-s excerpts from the one-thread run (wall time and that thread's
    /// CPU seconds) and the all-threads run.
    fn of_excerpts(tracks: usize, one: Duration, cpu_secs: Option<f64>, all: Duration) -> Self {
        let n = tracks as f64;
        Self {
            tracks,
            ms_per_track_one_thread: one.as_secs_f64() * 1000.0 / n,
            cpu_ms_per_track_one_thread: cpu_secs.map(|secs| secs * 1000.0 / n),
            ms_per_track_all_threads: all.as_secs_f64() * 1000.0 / n,
            threads: rayon::current_num_threads(),
            audio_secs_per_track: EXCERPT_SAMPLES as f64 / ANALYSIS_RATE_HZ as f64,
        }
    }

    /// Seconds of audio per second of wall time, on one thread.
    pub fn realtime_one_thread(&self) -> f64 {
        self.audio_secs_per_track / (self.ms_per_track_one_thread / 1000.0)
    }

    /// Seconds of audio per second of wall time, on all threads.
    pub fn realtime_all_threads(&self) -> f64 {
        self.audio_secs_per_track / (self.ms_per_track_all_threads / 1000.0)
    }
}

/// The outcome of `bench mel`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MelBenchReport {
    /// Decoding, downmixing, resampling and cutting the middle 30 s of each file.
    pub decode: Option<StageFigures>,
    /// Log-mel spectrogram of a 30-s excerpt (decoding excluded).
    pub mel: StageFigures,
    /// Files that failed to decode, with the reason.
    pub failures: Vec<String>,
}

/// Runs `work` on this thread: its result, the wall time and this thread's CPU seconds.
fn timed_with_thread_cpu<T>(work: impl FnOnce() -> T) -> (T, Duration, Option<f64>) {
    let cpu_start = thread_cpu_secs();
    let (out, wall) = timed(work);
    let cpu = thread_cpu_secs()
        .zip(cpu_start)
        .map(|(end, start)| end - start);
    (out, wall, cpu)
}

/// Measures the mel stage on `excerpts` (each [`EXCERPT_SAMPLES`] long).
pub fn bench_mel_stage(excerpts: &[Vec<f32>]) -> StageFigures {
    let mut mel = MelSpectrogram::new();
    // One warm-up pass so page faults and lazy plan set-up are not timed.
    std::hint::black_box(mel.compute(&excerpts[0]));
    let ((), one, cpu) = timed_with_thread_cpu(|| {
        for x in excerpts {
            std::hint::black_box(mel.compute(x));
        }
    });
    let (_, all) = timed(|| {
        excerpts
            .par_iter()
            .map_init(
                || mel.clone(),
                |mel, x| std::hint::black_box(mel.compute(x)).len(),
            )
            .sum::<usize>()
    });
    StageFigures::of_excerpts(excerpts.len(), one, cpu, all)
}

/// Measures decoding of the middle excerpt of each file; returns the figures, the excerpts
/// (for the mel stage) and the failures.
pub fn bench_decode_stage(files: &[PathBuf]) -> (Option<StageFigures>, Vec<Vec<f32>>, Vec<String>) {
    let (results, one, cpu) = timed_with_thread_cpu(|| {
        files
            .iter()
            .map(|f| audio::load_excerpt(f))
            .collect::<Vec<_>>()
    });
    let mut excerpts = Vec::new();
    let mut failures = Vec::new();
    for result in results {
        match result {
            Ok(decoded) => excerpts.push(decoded.samples),
            Err(e) => failures.push(e.to_string()),
        }
    }
    if excerpts.is_empty() {
        return (None, excerpts, failures);
    }
    let (_, all) = timed(|| {
        files
            .par_iter()
            .filter_map(|f| audio::load_excerpt(f).ok())
            .count()
    });
    let figures = StageFigures::of_excerpts(excerpts.len(), one, cpu, all);
    (Some(figures), excerpts, failures)
}

/// Writes `count` synthesized 4-minute 44.1-kHz stereo 16-bit WAV files into `dir`, so the
/// decode stage has something realistic to resample when the user gives no files.
pub fn write_synthetic_tracks(dir: &Path, count: usize) -> std::io::Result<Vec<PathBuf>> {
    const RATE_HZ: u32 = 44_100;
    const SECONDS: usize = 240;
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: RATE_HZ,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    (0..count)
        .map(|i| {
            let path = dir.join(format!("synthetic-{i:03}.wav"));
            let mut writer =
                hound::WavWriter::create(&path, spec).map_err(std::io::Error::other)?;
            let base_hz = 110.0 * (1.0 + i as f32 * 0.25);
            for n in 0..RATE_HZ as usize * SECONDS {
                let t = n as f32 / RATE_HZ as f32;
                let tone = (0..4)
                    .map(|h| {
                        (std::f32::consts::TAU * base_hz * (h + 1) as f32 * t).sin()
                            / (h + 1) as f32
                    })
                    .sum::<f32>();
                let value = (tone * 0.25 * i16::MAX as f32) as i16;
                writer.write_sample(value).map_err(std::io::Error::other)?;
                writer
                    .write_sample(value / 2)
                    .map_err(std::io::Error::other)?;
            }
            writer.finalize().map_err(std::io::Error::other)?;
            Ok(path)
        })
        .collect()
}
