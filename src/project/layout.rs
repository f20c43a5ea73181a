//! The public layout of a project folder (DESIGN.md, README.md): every path a stage reads or
//! writes, in one place.

use std::path::{Path, PathBuf};

/// Catalog and play counts.
pub const DATABASE: &str = "deepcuts.sqlite";
/// The track list; row i is row i of every per-track array.
pub const TRACKS_TSV: &str = "tracks.tsv";
/// Cached log-mel excerpts.
pub const FEATURES_DIR: &str = "features";
/// WMF item factors [tracks × F].
pub const ITEM_FACTORS: &str = "cf/item_factors.npy";
/// WMF user factors [users × F].
pub const USER_FACTORS: &str = "cf/user_factors.npy";
/// User names, row i of `USER_FACTORS`.
pub const USERS_TSV: &str = "cf/users.tsv";
/// Settings of the WMF run that wrote `cf/` (and the play-count stamp it saw).
pub const CF_CONFIG: &str = "cf/config.json";
/// Listens `cf --holdout` kept out of training: `user, track, count` (user = row of users.tsv).
pub const CF_HELDOUT: &str = "cf/heldout.tsv";
/// CF evaluation on held-out listens: `random`, `wmf`.
pub const EVAL_CF: &str = "eval/cf.json";
/// CF evaluation on cold-start tracks (all their listens held out): `random`, `wmf`.
pub const EVAL_CF_COLDSTART_TRACKS: &str = "eval/cf_coldstart_tracks.json";

/// Paths of one project folder.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Self {
        Self {
            root: root.to_owned(),
        }
    }

    /// The project folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `relative` (one of this module's constants) inside the project.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.root.join(relative)
    }
}
