//! `deepcuts info FILE…`

use std::path::PathBuf;

use super::Outcome;
use crate::audio;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Audio files to describe.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// Prints `path  container  codec  rate  channels  duration` for each file (tab-separated);
/// failures go to stderr, and the status is 1 when any file failed.
pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut failed = 0;
    for path in &args.files {
        match audio::probe_info(path) {
            Ok(info) => {
                let duration = info
                    .duration_secs
                    .map_or("unknown".to_owned(), |secs| format!("{secs:.3} s"));
                println!(
                    "{}\t{}\t{}\t{} Hz\t{} ch\t{}",
                    path.display(),
                    info.container,
                    info.codec,
                    info.sample_rate_hz,
                    info.channels,
                    duration
                );
            }
            Err(error) => {
                eprintln!("error: {error}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} files failed", args.files.len());
        return Ok(Outcome::SomeFailed);
    }
    Ok(Outcome::Success)
}
