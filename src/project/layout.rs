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
/// Which tracks train, validate and test the convnet: `track<TAB>train|valid|test`.
pub const SPLIT_TSV: &str = "split.tsv";
/// Cold-start WMF (test tracks' listens removed): item factors [tracks × F].
pub const COLDSTART_ITEM_FACTORS: &str = "cf/coldstart/item_factors.npy";
/// Cold-start WMF user factors [users × F], users in the catalog's order.
pub const COLDSTART_USER_FACTORS: &str = "cf/coldstart/user_factors.npy";
/// What the cold-start factors were computed from (to tell when they are stale), JSON.
pub const COLDSTART_META: &str = "cf/coldstart/meta.json";
/// The convnet's training folder: weights, checkpoint, history.
pub const MODEL_DIR: &str = "model";
/// The trained convnet (best validation loss).
pub const MODEL_WEIGHTS: &str = "model/weights.safetensors";
/// Per-epoch losses of training, JSON.
pub const MODEL_HISTORY: &str = "model/history.json";
/// Predicted factors [tracks × F].
pub const PREDICT_FACTORS: &str = "predict/factors.npy";
/// Per-filter maximum of conv1 over time [tracks × filters].
pub const PREDICT_CONV1_MAX: &str = "predict/conv1_max.npy";
/// Per-filter mean of conv1 over time [tracks × filters].
pub const PREDICT_CONV1_MEAN: &str = "predict/conv1_mean.npy";
/// conv1 output frame of each filter's maximum [tracks × filters] (uint32).
pub const PREDICT_CONV1_PEAK: &str = "predict/conv1_peak.npy";
/// Last dense layer (fc2) activations [tracks × units].
pub const PREDICT_FC2: &str = "predict/fc2.npy";
/// Which model made the predictions and which tracks have none, JSON.
pub const PREDICT_REPORT: &str = "predict/report.json";
/// The baseline fitted by the cold-start evaluation (see `baseline::model`).
pub const BASELINE_DIR: &str = "baseline";
/// Cold-start evaluation table.
pub const EVAL_COLDSTART: &str = "eval/coldstart.json";
/// The experiment report: the cold-start gap closed and the filter and unit shares, JSON.
pub const EVAL_REPORT: &str = "eval/report.json";
/// CF evaluation on cold-start tracks (all their listens held out): `random`, `wmf`.
pub const EVAL_CF_COLDSTART_TRACKS: &str = "eval/cf_coldstart_tracks.json";

/// t-SNE map of the predicted factors [tracks × 2] (NaN rows: tracks without predictions).
pub const MAP_TSNE: &str = "maps/tsne.npy";
/// The same map as `id,x,y`.
pub const MAP_TSNE_CSV: &str = "maps/tsne.csv";
/// What the map was made from (input size and time, parameters), JSON.
pub const MAP_TSNE_JSON: &str = "maps/tsne.json";
/// t-SNE map of the WMF item factors [tracks × 2] (NaN rows: tracks without listens).
pub const MAP_TSNE_CF: &str = "maps/tsne_cf.npy";
/// The CF map as `id,x,y`.
pub const MAP_TSNE_CF_CSV: &str = "maps/tsne_cf.csv";
/// What the CF map was made from, JSON.
pub const MAP_TSNE_CF_JSON: &str = "maps/tsne_cf.json";

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
