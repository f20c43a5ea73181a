//! Decode speed and seek accuracy on real files (not asserted; prints figures).
//!
//!     cargo bench --bench decode -- FILE...
//!
//! For each file: the time of `load_excerpt` (seeking; best of 5), of `load_full` (best of 3),
//! and how far the seeking excerpt is from the excerpt cut from the full decode.

use std::path::Path;
use std::time::{Duration, Instant};

use deepcuts::audio::{load_excerpt, load_full, probe_info, take_excerpt};

fn best_of<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let value = f();
        best = best.min(start.elapsed());
        last = Some(value);
    }
    (best, last.expect("runs > 0"))
}

fn main() {
    let paths: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if paths.is_empty() {
        eprintln!("usage: cargo bench --bench decode -- FILE...");
        return;
    }
    println!(
        "{:<28} {:>7} {:>9} {:>8} {:>11} {:>9} {:>10} {:>10}",
        "file", "codec", "rate_hz", "secs", "excerpt_ms", "full_ms", "max_diff", "rms_diff"
    );
    for path in &paths {
        let path = Path::new(path);
        let info = match probe_info(path) {
            Ok(info) => info,
            Err(error) => {
                println!("{error}");
                continue;
            }
        };
        let (excerpt_time, excerpt) = best_of(5, || load_excerpt(path));
        let (full_time, full) = best_of(3, || load_full(path));
        let (Ok(excerpt), Ok(full)) = (excerpt, full) else {
            println!("{}: decoding failed", path.display());
            continue;
        };
        let reference = take_excerpt(&full.samples);
        let diffs = excerpt
            .samples
            .iter()
            .zip(&reference)
            .map(|(a, b)| f64::from(a - b).abs());
        let (max_diff, sum_sq) = diffs.fold((0.0f64, 0.0f64), |(m, s), d| (m.max(d), s + d * d));
        let rms_diff = (sum_sq / reference.len() as f64).sqrt();
        let name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into());
        println!(
            "{:<28} {:>7} {:>9} {:>8.1} {:>11.1} {:>9.1} {:>10.2e} {:>10.2e}",
            name,
            info.codec,
            info.sample_rate_hz,
            full.samples.len() as f64 / 22_050.0,
            excerpt_time.as_secs_f64() * 1e3,
            full_time.as_secs_f64() * 1e3,
            max_diff,
            rms_diff
        );
        for warning in excerpt.warnings.iter().chain(&full.warnings) {
            println!("  warning: {warning}");
        }
    }
}
