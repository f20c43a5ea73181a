//! The network `deepcuts train` makes on the default demo world, shipped in `assets/demo-model/`
//! so that the app's filters, playlists and map are populated minutes after the first launch
//! instead of after the half hour training takes on two cores.
//!
//! `assets/demo-model/manifest.json` names the world it was trained on, the checksums of that
//! world's `tracks.tsv` and of the shipped files, and the command that reproduces the weights
//! bit for bit. A project made by [`create_default_demo_project`] gets the weights, the split
//! they were trained with and their loss history, and `model/origin.json`: while the weights
//! are the shipped ones, the `train` stage counts as done whatever the files' times (as
//! imported CF factors do); training again replaces them and the stage is judged by time again.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::demo_project::create_demo_project;
use super::layout::{self, Layout};
use super::{Project, ProjectError};
use crate::demo::WorldConfig;
use crate::io::atomic::write_bytes_atomic;

/// The shipped weights (DESIGN.md's safetensors names, `small` network).
pub const WEIGHTS: &[u8] = include_bytes!("../../assets/demo-model/weights.safetensors");
/// The split the weights were trained with (`split.tsv`).
pub const SPLIT: &[u8] = include_bytes!("../../assets/demo-model/split.tsv");
/// The training run's per-epoch losses (`model/history.json`).
pub const HISTORY: &[u8] = include_bytes!("../../assets/demo-model/history.json");
/// What the weights were trained on and how to make them again (JSON, [`Manifest`]).
pub const MANIFEST: &str = include_str!("../../assets/demo-model/manifest.json");

/// Marks a project's model as the shipped one.
pub const ORIGIN: &str = "model/origin.json";

/// `assets/demo-model/manifest.json`.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct Manifest {
    /// The demo world the network was trained on.
    pub world: WorldConfig,
    /// SHA-256 (hex) of that world's `tracks.tsv`: a changed demo generator needs a new model.
    pub tracks_sha256: String,
    pub weights_sha256: String,
    pub split_sha256: String,
    /// The commands that reproduce `weights.safetensors` bit for bit.
    pub reproduce: String,
}

impl Manifest {
    /// The shipped manifest.
    pub fn shipped() -> Result<Self, serde_json::Error> {
        serde_json::from_str(MANIFEST)
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// Makes the default demo world in `dir` with the shipped network in place (what `deepcuts`
/// and the app do on first launch; `deepcuts demo DIR` makes the world alone).
pub fn create_default_demo_project(dir: &Path) -> Result<Project, ProjectError> {
    let (project, _) = create_demo_project(dir, &WorldConfig::default())?;
    install(project.layout())?;
    Ok(project)
}

/// Writes the shipped weights, split and history into the project at `layout`, and the
/// origin marker last (each file whole or not at all).
fn install(layout: &Layout) -> Result<(), ProjectError> {
    let write = |relative: &str, bytes: &[u8]| {
        let path = layout.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|source| ProjectError::Io {
                path: parent.to_owned(),
                source,
            })?;
        }
        write_bytes_atomic(&path, bytes).map_err(|source| ProjectError::Io { path, source })
    };
    write(layout::SPLIT_TSV, SPLIT)?;
    write(layout::MODEL_HISTORY, HISTORY)?;
    write(layout::MODEL_WEIGHTS, WEIGHTS)?;
    write(ORIGIN, MANIFEST.as_bytes())
}

/// Whether the project's model is the shipped one, untouched since it was installed.
pub fn is_installed(layout: &Layout) -> bool {
    layout.path(ORIGIN).is_file()
        && std::fs::read(layout.path(layout::MODEL_WEIGHTS)).is_ok_and(|bytes| bytes == WEIGHTS)
}
