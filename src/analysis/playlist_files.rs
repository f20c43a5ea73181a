//! Playlists as files researchers open elsewhere: `playlists/NAME.json` (DESIGN.md: kind,
//! query, tracks best first with id, title, score and, for filters, `peak_secs`) and
//! `playlists/NAME.m3u8` (extended M3U in UTF-8: `#EXTINF` with duration and "Artist - Title";
//! filter playlists start each entry at its peak with VLC's `#EXTVLCOPT:start-time`). Demo
//! tracks have no file, so they are rendered as WAV files into `playlists/audio/` when asked.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use super::playlists::{Playlist, QueryJson};
use super::results::{AnalysisError, ProjectResults};
use crate::io::atomic::write_bytes_atomic;
use crate::project::audio_source::TrackAudio;
use crate::project::source::TrackSource;
use crate::project::Track;

/// The folder playlists are written to, inside the project.
pub const PLAYLISTS_DIR: &str = "playlists";
/// Where demo tracks are rendered, inside [`PLAYLISTS_DIR`].
pub const AUDIO_DIR: &str = "audio";

#[derive(Serialize)]
struct PlaylistJson<'a> {
    kind: &'static str,
    query: QueryJson,
    title: String,
    from: &'static str,
    model: &'a Path,
    tracks: Vec<EntryJson<'a>>,
}

#[derive(Serialize)]
struct EntryJson<'a> {
    id: u32,
    artist: &'a str,
    title: &'a str,
    score: f32,
    #[serde(skip_serializing_if = "Option::is_none")]
    peak_secs: Option<f64>,
    /// What the M3U8 plays: the file, or the rendered WAV relative to the playlist folder.
    path: String,
}

/// The playlist as DESIGN.md's JSON.
pub fn to_json(results: &ProjectResults, playlist: &Playlist) -> String {
    let json = PlaylistJson {
        kind: playlist.query.kind(),
        query: playlist.query.json(),
        title: playlist.query.title(),
        from: playlist.from.name(),
        model: &results.model,
        tracks: playlist
            .entries
            .iter()
            .map(|entry| {
                let track = &results.tracks[entry.id as usize];
                EntryJson {
                    id: entry.id,
                    artist: &track.artist,
                    title: &track.title,
                    score: entry.score,
                    peak_secs: entry.peak_secs.map(|s| (s * 1000.0).round() / 1000.0),
                    path: media_path(track),
                }
            })
            .collect(),
    };
    serde_json::to_string_pretty(&json).expect("the playlist is plain data")
}

/// The playlist as extended M3U (UTF-8).
pub fn to_m3u8(results: &ProjectResults, playlist: &Playlist) -> String {
    let mut text = String::from("#EXTM3U\n");
    let _ = writeln!(text, "#PLAYLIST:{}", one_line(&playlist.query.title()));
    for entry in &playlist.entries {
        let track = &results.tracks[entry.id as usize];
        let seconds = track.duration_secs.map_or(-1, |d| d.round() as i64);
        let name = if track.artist.is_empty() {
            one_line(&track.title)
        } else {
            format!("{} - {}", one_line(&track.artist), one_line(&track.title))
        };
        let _ = writeln!(text, "#EXTINF:{seconds},{name}");
        if let Some(peak) = entry.peak_secs {
            let _ = writeln!(text, "#EXTVLCOPT:start-time={peak:.2}");
        }
        let _ = writeln!(text, "{}", media_path(track));
    }
    text
}

/// What an M3U8 entry plays: the audio file's absolute path, or the demo track's rendered WAV
/// relative to the playlist folder. Tracks without audio have no path and are written as
/// their log reference (players list them as missing).
fn media_path(track: &Track) -> String {
    match TrackSource::parse(&track.source) {
        TrackSource::File(path) => one_line(&path.to_string_lossy()),
        TrackSource::Demo { .. } => format!("{AUDIO_DIR}/{}", demo_wav_name(track.id)),
        TrackSource::LogOnly(reference) => one_line(&reference),
    }
}

fn demo_wav_name(id: u32) -> String {
    format!("{id:06}.wav")
}

/// A field on one line: M3U has no escaping, so line breaks and control characters become
/// spaces.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// What [`write_playlists`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteReport {
    /// `NAME.json` and `NAME.m3u8` of each playlist.
    pub files: Vec<PathBuf>,
    /// Demo WAVs rendered now.
    pub rendered: usize,
    /// Demo tracks listed whose WAV is not there (rendering was not asked for).
    pub unrendered: usize,
}

/// Writes each `(name, playlist)` as `dir/NAME.json` and `dir/NAME.m3u8` (atomically), and,
/// with `render_demo`, the WAV of every demo track they list that is not rendered yet.
pub fn write_playlists(
    results: &ProjectResults,
    dir: &Path,
    playlists: &[(String, Playlist)],
    render_demo: bool,
    cancel: &AtomicBool,
) -> Result<WriteReport, AnalysisError> {
    let write = |path: PathBuf, text: String| -> Result<PathBuf, AnalysisError> {
        write_bytes_atomic(&path, text.as_bytes())
            .map_err(|source| AnalysisError::Write {
                path: path.clone(),
                source,
            })
            .map(|()| path)
    };
    // In parallel: each atomic write waits for its fsync, and thousands of small files
    // (`--all` on a large network) spend most of their time there.
    let files: Vec<Vec<PathBuf>> = playlists
        .par_iter()
        .map(|(name, playlist)| {
            Ok(vec![
                write(dir.join(format!("{name}.json")), to_json(results, playlist))?,
                write(dir.join(format!("{name}.m3u8")), to_m3u8(results, playlist))?,
            ])
        })
        .collect::<Result<_, AnalysisError>>()?;
    let mut report = WriteReport {
        files: files.into_iter().flatten().collect(),
        ..WriteReport::default()
    };
    let mut demo_ids: Vec<u32> = playlists
        .iter()
        .flat_map(|(_, p)| p.entries.iter().map(|e| e.id))
        .filter(|&id| {
            matches!(
                TrackSource::parse(&results.tracks[id as usize].source),
                TrackSource::Demo { .. }
            )
        })
        .collect();
    demo_ids.sort_unstable();
    demo_ids.dedup();
    let audio_dir = dir.join(AUDIO_DIR);
    demo_ids.retain(|&id| !audio_dir.join(demo_wav_name(id)).is_file());
    if render_demo {
        report.rendered = render_demo_wavs(results, &audio_dir, &demo_ids, cancel)?;
    } else {
        report.unrendered = demo_ids.len();
    }
    Ok(report)
}

/// Renders demo tracks `ids` into `audio_dir/ID.wav`, in parallel; returns how many.
fn render_demo_wavs(
    results: &ProjectResults,
    audio_dir: &Path,
    ids: &[u32],
    cancel: &AtomicBool,
) -> Result<usize, AnalysisError> {
    if ids.is_empty() {
        return Ok(0);
    }
    std::fs::create_dir_all(audio_dir).map_err(|source| AnalysisError::Write {
        path: audio_dir.to_owned(),
        source,
    })?;
    let audio = TrackAudio::new(&results.tracks);
    ids.par_iter()
        .map(|&id| {
            if cancel.load(Ordering::Relaxed) {
                return Err(AnalysisError::Cancelled);
            }
            let path = audio_dir.join(demo_wav_name(id));
            let TrackSource::Demo { seed, index } =
                TrackSource::parse(&results.tracks[id as usize].source)
            else {
                return Ok(0);
            };
            let recipe = audio.recipe(seed, index)?;
            crate::demo::write_wav(&path, recipe)
                .map_err(|source| AnalysisError::Write { path, source })?;
            Ok(1)
        })
        .sum()
}
