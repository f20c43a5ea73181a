//! `deepcuts bench usage`: streaming a listening log shaped like the Million Song Dataset's
//! Taste Profile (48 million lines, ~47 songs per user, popularity-skewed songs from a pool of
//! 384k): lines per second, parsing alone and with matching and aggregation.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::atomic::AtomicBool;

use super::{process_cpu_secs, timed};
use crate::usage::{ImportOptions, Importer, ListenReader, LogFormat, UsageError};

/// What one run measured.
#[derive(Debug, Clone)]
pub struct UsageBenchReport {
    pub lines: u64,
    pub bytes: u64,
    pub wall_secs: f64,
    pub cpu_secs: Option<f64>,
    /// Users, tracks and (user, track) pairs after aggregation (`None` when only parsing).
    pub aggregated: Option<(usize, usize, usize)>,
}

/// Writes a synthetic Taste Profile file of `lines` lines (deterministic).
pub fn write_synthetic_taste_profile(path: &Path, lines: u64) -> std::io::Result<()> {
    const SONGS: u64 = 384_546;
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let (mut written, mut user) = (0, 0u64);
    while written < lines {
        let songs = (next() % 90 + 5).min(lines - written);
        for _ in 0..songs {
            // Squaring a uniform variate skews plays towards popular songs.
            let u = (next() % 1_000_000) as f64 / 1e6;
            let song = (u * u * SONGS as f64) as u64;
            let count = 1 + next() % 8 + u64::from(next() % 100 == 0) * (next() % 500);
            let user_hash = user.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            writeln!(out, "{user_hash:016x}{user:024x}\tSO{song:016X}\t{count}")?;
        }
        written += songs;
        user += 1;
    }
    out.flush()
}

/// Streams `path` (a Taste Profile file): parses only, or also aggregates every listen into
/// per-(user, track) counts (all tracks are new, as with `--add-missing` on an empty catalog).
pub fn bench_taste_profile(path: &Path, parse_only: bool) -> Result<UsageBenchReport, UsageError> {
    let bytes = std::fs::metadata(path)
        .map_err(|source| UsageError::Open {
            path: path.to_owned(),
            source,
        })?
        .len();
    let cpu_start = process_cpu_secs();
    let (result, wall) = timed(|| -> Result<_, UsageError> {
        let mut listens = ListenReader::open(path, LogFormat::TasteProfile, None)?;
        if parse_only {
            let lines = listens.by_ref().filter(Result::is_ok).count() as u64;
            return Ok((lines, None));
        }
        let options = ImportOptions {
            add_missing: true,
            ..ImportOptions::default()
        };
        let mut importer = Importer::new([], None, options);
        importer.read(&mut listens, &mut |_| {}, &AtomicBool::new(false))?;
        let import = importer.finish();
        let sizes = (import.users.len(), import.added.len(), import.plays.len());
        Ok((import.stats.lines_read, Some(sizes)))
    });
    let (lines, aggregated) = result?;
    Ok(UsageBenchReport {
        lines,
        bytes,
        wall_secs: wall.as_secs_f64(),
        cpu_secs: process_cpu_secs()
            .zip(cpu_start)
            .map(|(end, start)| end - start),
        aggregated,
    })
}
