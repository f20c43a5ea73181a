//! t-SNE as a project stage (`deepcuts tsne DIR`) and over any `.npy` matrix.
//!
//! A project's map is `maps/tsne.npy` (`--of predicted`, from `predict/factors.npy`) or
//! `maps/tsne_cf.npy` (`--of cf`, from `cf/item_factors.npy`): float32 `[tracks, 2]`, row i
//! track i of `tracks.tsv`, NaN rows for tracks without a vector (no predictions: the tracks
//! `predict/report.json` lists; no listens: an all-zero row of item factors). Beside it
//! `.csv` (`id,x,y`, empty coordinates for those tracks) and `.json`: the fingerprint of the
//! input (its size and modification time) and the parameters, written last, so that a map is
//! reused while both match and recomputed when the predictions change.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::UNIX_EPOCH;

use ndarray::{Array2, Axis};
use serde::{Deserialize, Serialize};

use super::{embed, TsneError, TsneParams, TsneProgress};
use crate::io::atomic::write_bytes_atomic;
use crate::io::npy::{self, NpyError};
use crate::project::layout;

/// Which vectors a project's map shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum MapOf {
    /// The convnet's predicted factors (predict/factors.npy) → maps/tsne.*
    Predicted,
    /// The WMF item factors of tracks with listens (cf/item_factors.npy) → maps/tsne_cf.*
    Cf,
}

impl MapOf {
    /// The input array, relative to the project.
    pub fn input(self) -> &'static str {
        match self {
            MapOf::Predicted => layout::PREDICT_FACTORS,
            MapOf::Cf => layout::ITEM_FACTORS,
        }
    }

    /// The map, its CSV and its fingerprint, relative to the project.
    pub fn outputs(self) -> [&'static str; 3] {
        match self {
            MapOf::Predicted => [
                layout::MAP_TSNE,
                layout::MAP_TSNE_CSV,
                layout::MAP_TSNE_JSON,
            ],
            MapOf::Cf => [
                layout::MAP_TSNE_CF,
                layout::MAP_TSNE_CF_CSV,
                layout::MAP_TSNE_CF_JSON,
            ],
        }
    }

    /// The command that makes the input.
    fn stage(self) -> &'static str {
        match self {
            MapOf::Predicted => "deepcuts predict DIR",
            MapOf::Cf => "deepcuts cf DIR (or deepcuts import-factors DIR FILE)",
        }
    }
}

/// Why a map could not be made; every variant names the file or the stage to run.
#[derive(Debug, thiserror::Error)]
pub enum MapError {
    #[error("{path} is missing: run `{stage}` first")]
    MissingInput { path: PathBuf, stage: &'static str },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Tsne { path: PathBuf, source: TsneError },
}

impl MapError {
    /// Whether the user stopped the run (nothing was written).
    pub fn is_cancelled(&self) -> bool {
        matches!(
            self,
            MapError::Tsne {
                source: TsneError::Cancelled,
                ..
            }
        )
    }
}

/// What the map was made from; the `.json` beside the map.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    pub of: MapOf,
    /// The input, relative to the project.
    pub input: String,
    pub input_bytes: u64,
    /// Modification time of the input, nanoseconds since the Unix epoch.
    pub input_modified_ns: u128,
    pub perplexity: f64,
    pub iterations: usize,
    pub early_exaggeration: f64,
    pub exaggeration_iterations: usize,
    pub learning_rate: Option<f64>,
    pub seed: u64,
    /// Ids of the tracks without a vector (NaN rows).
    pub unmapped: Vec<String>,
}

/// What `map_project` did.
#[derive(Debug, Clone, PartialEq)]
pub struct ProjectMap {
    pub of: MapOf,
    /// The map written (or reused), `[tracks, 2]`.
    pub path: PathBuf,
    pub tracks: usize,
    /// Ids of the tracks without a vector (NaN rows).
    pub unmapped: Vec<String>,
    /// The existing map matched the input and parameters and was kept.
    pub reused: bool,
}

/// Maps a project's predicted (or CF) factors, or reuses the map when its fingerprint matches.
/// Nothing is written when the run fails or is cancelled.
pub fn map_project(
    dir: &Path,
    of: MapOf,
    params: &TsneParams,
    progress: &mut dyn FnMut(TsneProgress),
    cancel: &AtomicBool,
) -> Result<ProjectMap, MapError> {
    let layout = layout::Layout::new(dir);
    let input = layout.path(of.input());
    let metadata = std::fs::metadata(&input).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => MapError::MissingInput {
            path: input.clone(),
            stage: of.stage(),
        },
        _ => MapError::Read {
            path: input.clone(),
            source,
        },
    })?;
    let ids = read_track_ids(&layout.path(layout::TRACKS_TSV))?;
    let factors: Array2<f32> = npy::read_finite_f32(&input)?;
    npy::check_shape(&input, factors.shape(), &[Some(ids.len()), None])?;
    let without = match of {
        MapOf::Predicted => tracks_without_predictions(&layout.path(layout::PREDICT_REPORT))?,
        MapOf::Cf => factors
            .axis_iter(Axis(0))
            .enumerate()
            .filter(|(_, row)| row.iter().all(|&v| v == 0.0))
            .map(|(i, _)| i)
            .collect(),
    };
    let mut mapped = vec![true; ids.len()];
    for &row in &without {
        if let Some(m) = mapped.get_mut(row) {
            *m = false;
        }
    }
    let unmapped: Vec<String> = (0..ids.len())
        .filter(|&i| !mapped[i])
        .map(|i| ids[i].clone())
        .collect();
    let modified = metadata
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let fingerprint = Fingerprint {
        of,
        input: of.input().to_owned(),
        input_bytes: metadata.len(),
        input_modified_ns: modified,
        perplexity: params.perplexity,
        iterations: params.iterations,
        early_exaggeration: params.early_exaggeration,
        exaggeration_iterations: params.exaggeration_iterations,
        learning_rate: params.learning_rate,
        seed: params.seed,
        unmapped: unmapped.clone(),
    };
    let [map_path, csv_path, json_path] = of.outputs().map(|p| layout.path(p));
    let report = |reused| ProjectMap {
        of,
        path: map_path.clone(),
        tracks: ids.len(),
        unmapped: unmapped.clone(),
        reused,
    };
    if is_current(&json_path, &map_path, &fingerprint, ids.len()) {
        return Ok(report(true));
    }
    let rows: Vec<usize> = (0..ids.len()).filter(|&i| mapped[i]).collect();
    let selected = factors.select(Axis(0), &rows);
    let embedded =
        embed(selected.view(), params, progress, cancel).map_err(|source| MapError::Tsne {
            path: input.clone(),
            source,
        })?;
    let mut map = Array2::from_elem((ids.len(), 2), f32::NAN);
    for (position, &row) in rows.iter().enumerate() {
        map.row_mut(row).assign(&embedded.row(position));
    }
    npy::write(&map_path, &map)?;
    write_text(&csv_path, &map_csv(&ids, &map))?;
    let json = serde_json::to_string_pretty(&fingerprint).expect("the fingerprint is plain data");
    write_text(&json_path, &json)?;
    Ok(report(false))
}

/// Maps any float32 (or float64) matrix `[points, dims]` in `input` to `[points, 2]` in
/// `output`. NaN or infinite values are refused, naming the file.
pub fn map_file(
    input: &Path,
    output: &Path,
    params: &TsneParams,
    progress: &mut dyn FnMut(TsneProgress),
    cancel: &AtomicBool,
) -> Result<(), MapError> {
    let data: Array2<f32> = npy::read_as_f32(input)?;
    let map = embed(data.view(), params, progress, cancel).map_err(|source| MapError::Tsne {
        path: input.to_owned(),
        source,
    })?;
    npy::write(output, &map)?;
    Ok(())
}

/// Whether the map at `map_path` was made from exactly `fingerprint` and has `tracks` rows.
fn is_current(json_path: &Path, map_path: &Path, fingerprint: &Fingerprint, tracks: usize) -> bool {
    let Ok(text) = std::fs::read_to_string(json_path) else {
        return false;
    };
    let Ok(saved) = serde_json::from_str::<Fingerprint>(&text) else {
        return false;
    };
    saved == *fingerprint
        && npy::read::<f32, ndarray::Ix2>(map_path).is_ok_and(|m| m.dim() == (tracks, 2))
}

/// The first column of every line of `tracks.tsv` after the header.
fn read_track_ids(path: &Path) -> Result<Vec<String>, MapError> {
    let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => MapError::MissingInput {
            path: path.to_owned(),
            stage: "deepcuts new DIR",
        },
        _ => MapError::Read {
            path: path.to_owned(),
            source,
        },
    })?;
    let mut lines = text.lines();
    if lines.next().is_none_or(|header| !header.starts_with("id")) {
        return Err(MapError::Malformed {
            path: path.to_owned(),
            reason: "no header line starting with `id`".to_owned(),
        });
    }
    Ok(lines
        .filter(|line| !line.is_empty())
        .map(|line| line.split('\t').next().unwrap_or_default().to_owned())
        .collect())
}

/// The rows `predict/report.json` lists as skipped (no features, or a failed read).
fn tracks_without_predictions(path: &Path) -> Result<Vec<usize>, MapError> {
    #[derive(Deserialize)]
    struct Report {
        skipped: Vec<Skipped>,
    }
    #[derive(Deserialize)]
    struct Skipped {
        track: usize,
    }
    let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => MapError::MissingInput {
            path: path.to_owned(),
            stage: MapOf::Predicted.stage(),
        },
        _ => MapError::Read {
            path: path.to_owned(),
            source,
        },
    })?;
    let report: Report = serde_json::from_str(&text).map_err(|e| MapError::Malformed {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(report.skipped.iter().map(|s| s.track).collect())
}

/// `id,x,y` lines after a header; empty coordinates for NaN rows.
fn map_csv(ids: &[String], map: &Array2<f32>) -> String {
    let mut csv = String::from("id,x,y\n");
    for (id, row) in ids.iter().zip(map.rows()) {
        let quoted = if id.contains([',', '"', '\n']) {
            format!("\"{}\"", id.replace('"', "\"\""))
        } else {
            id.clone()
        };
        if row[0].is_nan() {
            csv.push_str(&format!("{quoted},,\n"));
        } else {
            csv.push_str(&format!("{quoted},{},{}\n", row[0], row[1]));
        }
    }
    csv
}

fn write_text(path: &Path, text: &str) -> Result<(), MapError> {
    write_bytes_atomic(path, text.as_bytes()).map_err(|source| MapError::Write {
        path: path.to_owned(),
        source,
    })
}
