//! What the app knows of an open project: read once on a background thread by the same
//! library calls the CLI's `status` makes, and read again after a job or an import changed it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::convnet::train::EpochRecord;
use crate::convnet::ConvnetWeights;
use crate::features::{self, RowStatus, Shard};
use crate::pipeline::{self, StageStatus};
use crate::project::audio_source::TrackAudio;
use crate::project::{layout, Project, Track};

/// One row of an evaluation table (`eval/coldstart.json`): metric name → value.
pub type MetricsRow = BTreeMap<String, f64>;

/// A snapshot of a project, shared read-only by every view.
pub struct ProjectData {
    pub dir: PathBuf,
    pub tracks: Vec<Track>,
    /// Listens of each track, summed over users.
    pub plays: Vec<u64>,
    /// Each track's feature state.
    pub features: Vec<RowStatus>,
    /// Every stage's state, or why it could not be read.
    pub stages: Result<Vec<StageRow>, String>,
    /// The training history (`model/history.json`), empty before training.
    pub history: Vec<EpochRecord>,
    /// The cold-start table (`eval/coldstart.json`): method → metrics, once `eval` ran.
    pub coldstart: Option<BTreeMap<String, MetricsRow>>,
    /// The network whose conv1 activations are shown: the one the predictions were made with
    /// (`predict --model` may name one trained elsewhere), else the project's own.
    pub network: Option<PathBuf>,
    /// conv1's filter count when that network is there (its activations can be shown).
    pub conv1_filters: Option<usize>,
    /// Problems met reading optional artifacts (a corrupt history, unreadable weights).
    pub warnings: Vec<String>,
    /// The audio of every track (files and demo recipes), for playback and whole-track mels.
    pub audio: Arc<TrackAudio>,
}

/// A stage's state and, when the project lacks an input it needs, why it cannot run yet.
pub struct StageRow {
    pub status: StageStatus,
    pub blocked: Option<String>,
}

fn stage_rows(project: &Project) -> Result<Vec<StageRow>, pipeline::PipelineError> {
    pipeline::stage_statuses(project)?
        .into_iter()
        .map(|status| {
            let blocked = pipeline::blocker(project, status.stage)?;
            Ok(StageRow { status, blocked })
        })
        .collect()
}

/// Why a project could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Project(#[from] crate::project::ProjectError),
    #[error(transparent)]
    Features(#[from] crate::features::FeaturesError),
}

impl ProjectData {
    /// Reads the project in `dir`. Optional artifacts that are missing are left empty; ones
    /// that cannot be read are named in `warnings`.
    pub fn load(dir: &Path) -> Result<Self, LoadError> {
        let project = Project::open(dir)?;
        let catalog = project.catalog();
        let tracks = catalog
            .tracks()
            .map_err(crate::project::ProjectError::from)?;
        let mut plays = vec![0u64; tracks.len()];
        for (_, track, count) in catalog
            .plays()
            .map_err(crate::project::ProjectError::from)?
            .triplets
        {
            if let Some(total) = plays.get_mut(track as usize) {
                *total += u64::from(count);
            }
        }
        let store = features::open_store(&project, Shard::ALL)?;
        let features = (0..tracks.len()).map(|row| store.status(row)).collect();
        let stages = stage_rows(&project).map_err(|e| e.to_string());
        let mut warnings = Vec::new();
        let history = read_json(&project, layout::MODEL_HISTORY, &mut warnings).unwrap_or_default();
        let coldstart = read_json(&project, layout::EVAL_COLDSTART, &mut warnings);
        let network = network_path(&project, &mut warnings);
        let conv1_filters = network
            .as_ref()
            .and_then(|path| match ConvnetWeights::load(path) {
                Ok(weights) => Some(weights.config.filters[0]),
                Err(error) => {
                    warnings.push(format!("the trained network cannot be read: {error}"));
                    None
                }
            });
        let audio = Arc::new(TrackAudio::new(&tracks));
        Ok(Self {
            dir: dir.to_owned(),
            tracks,
            plays,
            features,
            stages,
            history,
            coldstart,
            network,
            conv1_filters,
            warnings,
            audio,
        })
    }

    /// The track's duration in seconds, 0 when unknown.
    pub fn duration_secs(&self, row: usize) -> f64 {
        self.tracks
            .get(row)
            .and_then(|t| t.duration_secs)
            .unwrap_or(0.0)
    }

    /// Where the analysed middle excerpt of track `row` starts, in seconds.
    pub fn excerpt_start_secs(&self, row: usize) -> f64 {
        let rate = f64::from(crate::audio::ANALYSIS_RATE_HZ);
        crate::audio::excerpt_start((self.duration_secs(row) * rate) as usize) as f64 / rate
    }
}

/// The network the predictions were made with when its file is there, else the project's
/// trained network when there is one.
fn network_path(project: &Project, warnings: &mut Vec<String>) -> Option<PathBuf> {
    #[derive(serde::Deserialize)]
    struct PredictedWith {
        model: PathBuf,
    }
    let predicted_with: Option<PredictedWith> =
        read_json(project, layout::PREDICT_REPORT, warnings);
    let own = project.layout().path(layout::MODEL_WEIGHTS);
    predicted_with
        .map(|report| report.model)
        .filter(|model| model.is_file())
        .or_else(|| own.is_file().then_some(own))
}

/// The JSON artifact at `relative`, `None` when it is missing; a warning when it is unreadable.
fn read_json<T: serde::de::DeserializeOwned>(
    project: &Project,
    relative: &str,
    warnings: &mut Vec<String>,
) -> Option<T> {
    let path = project.layout().path(relative);
    let bytes = std::fs::read(&path).ok()?;
    match serde_json::from_slice(&bytes) {
        Ok(value) => Some(value),
        Err(error) => {
            warnings.push(format!("{relative} is unreadable: {error}"));
            None
        }
    }
}
