//! Turning folders of audio files into catalog entries: scan, probe each file for its
//! duration and tags, skip what is not audio and say why.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use super::NewTrack;
use crate::audio::{self, scan};

/// The result of describing the audio files under some folders.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// One entry a readable audio file, in path order.
    pub tracks: Vec<NewTrack>,
    /// Files or folders that could not be read, with the reason (names the file).
    pub skipped: Vec<String>,
    /// Whether the scan stopped early because it was cancelled.
    pub cancelled: bool,
}

/// Finds the audio files under `folders` and describes each from its metadata (title falls
/// back to the file name). `progress(done, total)` is called as files are probed.
pub fn scan_folders(
    folders: &[PathBuf],
    progress: &(dyn Fn(usize, usize) + Sync),
    cancel: &AtomicBool,
) -> ScanReport {
    let mut report = ScanReport::default();
    let mut files = Vec::new();
    for folder in folders {
        if !folder.exists() {
            report
                .skipped
                .push(format!("{}: no such file or folder", folder.display()));
            continue;
        }
        let (found, errors) = scan::find_audio_files(folder);
        files.extend(found);
        report.skipped.extend(
            errors
                .into_iter()
                .map(|(dir, e)| format!("{}: {e}", dir.display())),
        );
    }
    files.sort();
    files.dedup();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let total = files.len();
    progress(0, total);
    let described: Vec<Option<Result<NewTrack, String>>> = files
        .par_iter()
        .map(|path| {
            if cancel.load(Ordering::Relaxed) {
                return None;
            }
            let result = describe(path);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Some(result)
        })
        .collect();
    for result in described {
        match result {
            Some(Ok(track)) => report.tracks.push(track),
            Some(Err(reason)) => report.skipped.push(reason),
            None => report.cancelled = true,
        }
    }
    report
}

/// A catalog entry for one file, from its container's metadata.
fn describe(path: &Path) -> Result<NewTrack, String> {
    let info = audio::probe_info(path).map_err(|e| e.to_string())?;
    let absolute = std::fs::canonicalize(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tags = info.tags;
    Ok(NewTrack {
        source: absolute.to_string_lossy().into_owned(),
        artist: tags.artist.unwrap_or_default(),
        title: tags.title.unwrap_or(stem),
        album: tags.album.unwrap_or_default(),
        duration_secs: info.duration_secs,
        tags: tags.genre.into_iter().collect(),
        kind: String::new(),
    })
}
