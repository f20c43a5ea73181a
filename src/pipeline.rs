//! Where a project stands in the pipeline features → cf → eval-cf → train → predict → tsne →
//! eval:
//! which stage's output is missing, stale (an input changed after it was written) or, for
//! training, interrupted. `deepcuts status` prints it; [`run`] (behind `deepcuts pipeline` and
//! the app's jobs) runs the stages it says are not done, in order.

mod run;

pub use run::{
    blocker, eval_options, resolve_config, run, run_stage, train_config, Event, Progress, RunEnd,
    RunOptions, RunReport, StageOutcome, FIRST_PASS_TRACKS,
};

use std::path::Path;
use std::time::SystemTime;

use crate::convnet::train::{checkpoint_summary, TrainError};
use crate::features::{self, FeaturesError, Shard};
use crate::project::source::TrackSource;
use crate::project::{layout, shipped_model, Project, ProjectError};

/// The stages, in the order they run (their command-line names are the commands').
/// Ordered as they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, clap::ValueEnum)]
pub enum Stage {
    Features,
    Cf,
    EvalCf,
    Train,
    Predict,
    /// The t-SNE map of the predicted factors (before `eval`, whose baselines take longer:
    /// the app's map fills in first).
    Tsne,
    Eval,
}

impl Stage {
    pub const ALL: [Stage; 7] = [
        Stage::Features,
        Stage::Cf,
        Stage::EvalCf,
        Stage::Train,
        Stage::Predict,
        Stage::Tsne,
        Stage::Eval,
    ];

    /// The stage's command name (`deepcuts NAME DIR` runs it).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Features => "features",
            Stage::Cf => "cf",
            Stage::EvalCf => "eval-cf",
            Stage::Train => "train",
            Stage::Predict => "predict",
            Stage::Tsne => "tsne",
            Stage::Eval => "eval",
        }
    }

    /// Whether the stage needs play counts (all but feature extraction do).
    pub fn needs_plays(self) -> bool {
        self != Stage::Features
    }

    /// Whether the stage needs computed features (the convnet's stages do).
    pub fn needs_features(self) -> bool {
        matches!(
            self,
            Stage::Train | Stage::Predict | Stage::Tsne | Stage::Eval
        )
    }
}

/// How far a stage is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StageState {
    /// Its output is there and newer than its inputs.
    Done,
    /// It never ran.
    Missing,
    /// It ran, but an input changed since (the reason says which).
    Stale(String),
    /// Training stopped (Ctrl-C, `kill -9`) before its last epoch or early stop: `train
    /// --resume` continues it.
    Interrupted { epochs_done: usize },
}

/// One stage's state and the artifact it is judged by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageStatus {
    pub stage: Stage,
    pub state: StageState,
    /// The output (relative to the project), or a summary for features.
    pub output: String,
}

/// What can go wrong reading a project's state.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Features(#[from] FeaturesError),
    #[error(transparent)]
    Train(#[from] TrainError),
    #[error(transparent)]
    CfStage(#[from] crate::project::cf_stage::CfStageError),
    #[error(transparent)]
    Coldstart(#[from] crate::coldstart::ColdstartError),
    #[error(transparent)]
    Predict(#[from] crate::predict::PredictError),
    #[error(transparent)]
    Config(#[from] crate::convnet::config::ConfigError),
    #[error(transparent)]
    Weights(#[from] crate::convnet::weights::WeightsError),
    #[error(transparent)]
    Map(#[from] crate::analysis::tsne::stage::MapError),
}

/// The feature journal, which changes whenever features are computed.
const JOURNAL: &str = "features/journal.tsv";

/// The state of every stage of `project`, in run order.
pub fn stage_statuses(project: &Project) -> Result<Vec<StageStatus>, PipelineError> {
    Stage::ALL
        .into_iter()
        .map(|stage| stage_status(project, stage))
        .collect()
}

/// The state of one stage of `project`.
pub fn stage_status(project: &Project, stage: Stage) -> Result<StageStatus, PipelineError> {
    // Later stages are stale when an input they read changed after they ran (file times).
    // The model reads the CF factors through its own cold-start fit of the same plays, so
    // a refitted `cf` (new listens) makes it stale too.
    let (output, inputs): (&str, &[&str]) = match stage {
        Stage::Features => return features_status(project),
        Stage::Cf => return cf_status(project),
        Stage::EvalCf => (layout::EVAL_CF, &[layout::ITEM_FACTORS]),
        Stage::Train => (
            layout::MODEL_WEIGHTS,
            &[JOURNAL, layout::SPLIT_TSV, layout::ITEM_FACTORS],
        ),
        Stage::Predict => (layout::PREDICT_FACTORS, &[layout::MODEL_WEIGHTS, JOURNAL]),
        Stage::Tsne => (layout::MAP_TSNE, &[layout::PREDICT_FACTORS]),
        Stage::Eval => (layout::EVAL_COLDSTART, &[layout::PREDICT_FACTORS]),
    };
    let layout = project.layout();
    if stage == Stage::Train && shipped_model::is_installed(layout) {
        return Ok(StageStatus {
            stage,
            state: StageState::Done,
            output: format!("{output} (shipped: trained on the default demo world)"),
        });
    }
    let mut state = file_state(layout.root(), output, inputs);
    if stage == Stage::Train && state == StageState::Done {
        if let Some(summary) = checkpoint_summary(&layout.path(layout::MODEL_DIR))? {
            if !summary.finished {
                state = StageState::Interrupted {
                    epochs_done: summary.epochs_done,
                };
            }
        }
    }
    Ok(StageStatus {
        stage,
        state,
        output: output.to_owned(),
    })
}

/// Features are done when every track with audio has a computed (or failed) row.
fn features_status(project: &Project) -> Result<StageStatus, PipelineError> {
    let tracks = project.catalog().tracks().map_err(ProjectError::from)?;
    let with_audio = tracks
        .iter()
        .filter(|t| TrackSource::parse(&t.source).has_audio())
        .count();
    let store = features::open_store(project, Shard::ALL)?;
    let (done, failed, pending) = store.counts();
    let to_do = pending.saturating_sub(tracks.len() - with_audio);
    let state = match (to_do, done + failed) {
        (0, _) => StageState::Done,
        (_, 0) => StageState::Missing,
        _ => StageState::Stale(format!("{to_do} tracks to do")),
    };
    Ok(StageStatus {
        stage: Stage::Features,
        state,
        output: format!("{done} done, {failed} failed, {to_do} to do"),
    })
}

/// The CF factors are stale when the play counts changed after `cf` ran (it records the
/// change stamp it saw; imported factors record none and are never stale by this test).
fn cf_status(project: &Project) -> Result<StageStatus, PipelineError> {
    let layout = project.layout();
    let state = if !layout.path(layout::ITEM_FACTORS).exists() {
        StageState::Missing
    } else {
        let recorded = std::fs::read(layout.path(layout::CF_CONFIG))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|config| config.get("plays_changed").cloned());
        let current = project
            .catalog()
            .meta("plays_changed")
            .map_err(ProjectError::from)?;
        let stale = match recorded {
            Some(serde_json::Value::String(seen)) => current.as_deref() != Some(seen.as_str()),
            Some(serde_json::Value::Null) => current.is_some(),
            _ => false,
        };
        if stale {
            StageState::Stale("the play counts changed".into())
        } else {
            StageState::Done
        }
    };
    Ok(StageStatus {
        stage: Stage::Cf,
        state,
        output: layout::ITEM_FACTORS.to_owned(),
    })
}

/// Missing, stale or done for the artifact at `output`, by the modification times of its
/// inputs (an input that does not exist does not make it stale).
fn file_state(root: &Path, output: &str, inputs: &[&str]) -> StageState {
    let modified = |relative: &str| -> Option<SystemTime> {
        std::fs::metadata(root.join(relative))
            .and_then(|m| m.modified())
            .ok()
    };
    let Some(written) = modified(output) else {
        return StageState::Missing;
    };
    match inputs
        .iter()
        .find(|input| modified(input).is_some_and(|t| t > written))
    {
        Some(input) => StageState::Stale(format!("{input} changed since")),
        None => StageState::Done,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_output_older_than_an_input_is_stale_and_a_missing_input_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(file_state(root, "out", &["in"]), StageState::Missing);
        std::fs::write(root.join("in"), "a").unwrap();
        std::fs::write(root.join("out"), "b").unwrap();
        let past = SystemTime::now() - std::time::Duration::from_secs(60);
        let out = std::fs::File::options()
            .write(true)
            .open(root.join("out"))
            .unwrap();
        assert_eq!(file_state(root, "out", &["in", "absent"]), StageState::Done);
        out.set_modified(past).unwrap();
        assert_eq!(
            file_state(root, "out", &["absent", "in"]),
            StageState::Stale("in changed since".into())
        );
    }
}
