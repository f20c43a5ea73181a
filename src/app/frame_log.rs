//! `DEEPCUTS_FRAME_TIMES=FILE`: the real binary's frame times, for `scripts/app-timings.sh`.
//! One line per frame: eframe's measure of the previous frame (the UI, tessellation and
//! drawing, without waiting for vsync) and the wall time since the frame before, both in
//! milliseconds, then the Unix time of the frame in seconds (so a script can keep only the
//! frames drawn while it sent input); the second column shows how often the screen can change
//! on this machine's renderer and display, which tests under egui_kittest cannot.

use std::fs::File;
use std::io::Write;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// The env var naming the file.
const ENV: &str = "DEEPCUTS_FRAME_TIMES";

/// An open frame-time file.
pub struct FrameLog {
    file: File,
    last: Option<Instant>,
}

impl FrameLog {
    /// The log the environment asks for, if any; a file that cannot be made is said on stderr
    /// and the app runs without it.
    pub fn from_env() -> Option<Self> {
        let path = std::env::var_os(ENV)?;
        match File::create(&path) {
            Ok(file) => Some(Self { file, last: None }),
            Err(error) => {
                eprintln!("deepcuts: {ENV}={}: {error}", path.to_string_lossy());
                None
            }
        }
    }

    /// Appends the previous frame's time (eframe knows it once that frame is on screen).
    pub fn record(&mut self, info: &eframe::IntegrationInfo) {
        let now = Instant::now();
        let since = self.last.replace(now).map(|last| now - last);
        if let (Some(seconds), Some(since)) = (info.cpu_usage, since) {
            // One small unbuffered write a frame: the lines survive a killed process.
            let _ = writeln!(
                self.file,
                "{:.3} {:.3} {:.6}",
                seconds * 1000.0,
                since.as_secs_f64() * 1000.0,
                unix_seconds()
            );
        }
    }
}

/// Seconds since the Unix epoch, as `date +%s.%N` prints them.
fn unix_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |since| since.as_secs_f64())
}
