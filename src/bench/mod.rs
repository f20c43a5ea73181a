//! Benchmarks behind `deepcuts bench …`: they measure and report, they never assert.

pub mod mel;
pub mod usage;

use std::time::{Duration, Instant};

/// Runs `work` and returns its result with the wall time it took.
pub fn timed<T>(work: impl FnOnce() -> T) -> (T, Duration) {
    let start = Instant::now();
    let out = work();
    (out, start.elapsed())
}

/// User + system CPU time of this process, all threads, from Linux's `/proc/self/stat`
/// (fields 14 and 15, in clock ticks of 1/100 s); `None` elsewhere.
pub fn process_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
    let utime: f64 = fields.nth(11)?.parse().ok()?;
    let stime: f64 = fields.next()?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

/// CPU time of the calling thread (Linux `/proc/thread-self/schedstat`): unlike wall time it
/// does not grow when other processes share the cores, so one-thread figures stay comparable
/// on a busy machine.
pub fn thread_cpu_secs() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: f64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(nanos / 1e9)
}
