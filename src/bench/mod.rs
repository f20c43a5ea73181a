//! Benchmarks behind `deepcuts bench …`: they measure and report, they never assert.

pub mod mel;

use std::time::{Duration, Instant};

/// Runs `work` and returns its result with the wall time it took.
pub fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed())
}
