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

/// Runs `work` and returns its result, its wall seconds and this process's CPU seconds (all
/// threads), which unlike wall time do not grow when other work shares the cores.
pub fn timed_with_cpu<T>(work: impl FnOnce() -> T) -> (T, f64, f64) {
    let cpu = process_cpu_secs().unwrap_or(0.0);
    let (out, wall) = timed(work);
    let cpu = process_cpu_secs().unwrap_or(0.0) - cpu;
    (out, wall.as_secs_f64(), cpu)
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

/// Peak resident memory of this process so far (Linux `VmHWM`), in bytes; `None` elsewhere.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak that [`peak_rss_bytes`] reports to the current resident size (Linux
/// `clear_refs` 5), so one process can measure several runs; false where unsupported.
pub fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}
