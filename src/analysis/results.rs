//! One shape-checked loader of a project's results for every analysis: the catalog's tracks
//! (tags, kind), `predict/*.npy`, `predict/report.json`, `split.tsv`, `cf/item_factors.npy` and
//! the conv1 weights. A missing or stale artifact is a typed error naming the stage that makes
//! it; NaN or wrong-shaped arrays are refused with the file named.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use ndarray::Array2;
use serde::Deserialize;

use super::tsne::stage::MapOf;
use crate::coldstart::split::{Part, SplitError, TrackSplit};
use crate::convnet::weights::WeightsError;
use crate::convnet::{ConvnetConfig, ConvnetWeights};
use crate::io::npy::{self, NpyError};
use crate::project::audio_source::TrackAudioError;
use crate::project::{layout, Layout, Project, ProjectError, Track};

/// What stops an analysis; names the file, index or track at fault.
#[derive(Debug, thiserror::Error)]
pub enum AnalysisError {
    #[error("{path}: missing (the `{stage}` stage makes it)")]
    Missing { path: PathBuf, stage: &'static str },
    #[error("{path}: stale, {reason} (the `{stage}` stage remakes it)")]
    Stale {
        path: PathBuf,
        reason: String,
        stage: &'static str,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{what} {index} is out of range: there are {count} (0 to {last})", last = count.saturating_sub(1))]
    OutOfRange {
        what: &'static str,
        index: usize,
        count: usize,
    },
    #[error("track {id} has no prediction (it has no features)")]
    NotPredicted { id: u32 },
    #[error("no tracks to choose from: {reason}")]
    NoCandidates { reason: String },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cancelled")]
    Cancelled,
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Weights(#[from] WeightsError),
    #[error(transparent)]
    Split(#[from] SplitError),
    #[error(transparent)]
    TrackAudio(#[from] TrackAudioError),
}

/// Which per-track conv1 statistic ranks a filter's tracks (DESIGN.md, "Activation playlists").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum FilterStat {
    /// The maximum over time: the filter fired somewhere in the excerpt.
    Max,
    /// The mean over time: the filter is active throughout (harmonic patterns).
    Mean,
}

impl FilterStat {
    pub const ALL: [FilterStat; 2] = [FilterStat::Max, FilterStat::Mean];

    pub fn name(self) -> &'static str {
        match self {
            FilterStat::Max => "max",
            FilterStat::Mean => "mean",
        }
    }
}

/// Which tracks a playlist may draw from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Candidates {
    /// Every track with a prediction.
    #[default]
    All,
    /// The test split's tracks with a prediction (the seed's playlists).
    Test,
}

impl Candidates {
    /// The name files and the CLI use (`all`, `test`).
    pub fn name(self) -> &'static str {
        match self {
            Candidates::All => "all",
            Candidates::Test => "test",
        }
    }
}

/// The part of `predict/report.json` the analyses read.
#[derive(Debug, Deserialize)]
struct PredictReportFile {
    model: PathBuf,
    config: ConvnetConfig,
    tracks: usize,
    skipped: Vec<SkippedRow>,
}

#[derive(Debug, Deserialize)]
struct SkippedRow {
    track: usize,
}

/// A project's tracks and the shape of its predictions, checked once; the arrays are read on
/// demand (a 100k-track project's fc2 alone is hundreds of MB).
#[derive(Debug, Clone)]
pub struct ProjectResults {
    layout: Layout,
    /// Row i of every array.
    pub tracks: Vec<Track>,
    /// Whether track i has predictions (the others' rows are zero).
    pub predicted: Vec<bool>,
    /// The weights that made the predictions.
    pub model: PathBuf,
    /// The network's configuration (filters, dense units, factors).
    pub config: ConvnetConfig,
}

impl ProjectResults {
    /// Opens the project in `dir` and checks that its predictions are there and current.
    pub fn open_dir(dir: &Path) -> Result<Self, AnalysisError> {
        Self::open(&Project::open(dir)?)
    }

    /// Checks that `project`'s predictions are there and were made for its current tracks
    /// and, when made with the project's own model, after it was last trained.
    pub fn open(project: &Project) -> Result<Self, AnalysisError> {
        let layout = project.layout().clone();
        let tracks = project.catalog().tracks().map_err(ProjectError::from)?;
        let report_path = layout.path(layout::PREDICT_REPORT);
        let text = std::fs::read_to_string(&report_path).map_err(|_| AnalysisError::Missing {
            path: report_path.clone(),
            stage: "predict",
        })?;
        let report: PredictReportFile =
            serde_json::from_str(&text).map_err(|e| AnalysisError::Invalid {
                path: report_path.clone(),
                reason: format!("not a prediction report: {e}"),
            })?;
        if report.tracks != tracks.len() {
            return Err(AnalysisError::Stale {
                path: report_path,
                reason: format!(
                    "made for {} tracks, the catalog has {}",
                    report.tracks,
                    tracks.len()
                ),
                stage: "predict",
            });
        }
        let own_model = layout.path(layout::MODEL_WEIGHTS);
        if report.model == own_model && modified(&own_model) > modified(&report_path) {
            return Err(AnalysisError::Stale {
                path: report_path,
                reason: format!("{} was trained after it", own_model.display()),
                stage: "predict",
            });
        }
        let mut predicted = vec![true; tracks.len()];
        for skipped in &report.skipped {
            if let Some(flag) = predicted.get_mut(skipped.track) {
                *flag = false;
            }
        }
        Ok(Self {
            layout,
            tracks,
            predicted,
            model: report.model,
            config: report.config,
        })
    }

    /// Results given directly (benchmarks, tests): `tracks` with predictions where
    /// `predicted`, made by the project's own model of shape `config`.
    pub fn from_parts(
        root: &Path,
        tracks: Vec<Track>,
        predicted: Vec<bool>,
        config: ConvnetConfig,
    ) -> Self {
        let layout = Layout::new(root);
        Self {
            model: layout.path(layout::MODEL_WEIGHTS),
            layout,
            tracks,
            predicted,
            config,
        }
    }

    /// The project folder.
    pub fn root(&self) -> &Path {
        self.layout.root()
    }

    /// Number of conv1 filters.
    pub fn filters(&self) -> usize {
        self.config.filters[0]
    }

    /// Number of units of the last dense layer (fc2).
    pub fn units(&self) -> usize {
        self.config.dense.last().copied().unwrap_or(0)
    }

    /// The track with id `id`.
    pub fn track(&self, id: u32) -> Result<&Track, AnalysisError> {
        self.tracks
            .get(id as usize)
            .ok_or(AnalysisError::OutOfRange {
                what: "track",
                index: id as usize,
                count: self.tracks.len(),
            })
    }

    /// Checks that `id` names a track with a prediction.
    pub fn predicted_track(&self, id: u32) -> Result<&Track, AnalysisError> {
        let track = self.track(id)?;
        if self.predicted[id as usize] {
            Ok(track)
        } else {
            Err(AnalysisError::NotPredicted { id })
        }
    }

    /// Checks a conv1 filter index.
    pub fn check_filter(&self, filter: usize) -> Result<(), AnalysisError> {
        check_index("conv1 filter", filter, self.filters())
    }

    /// Checks an fc2 unit index.
    pub fn check_unit(&self, unit: usize) -> Result<(), AnalysisError> {
        check_index("fc2 unit", unit, self.units())
    }

    /// conv1 per-filter statistic `[tracks, filters]`.
    pub fn conv1(&self, stat: FilterStat) -> Result<Array2<f32>, AnalysisError> {
        let relative = match stat {
            FilterStat::Max => layout::PREDICT_CONV1_MAX,
            FilterStat::Mean => layout::PREDICT_CONV1_MEAN,
        };
        self.read_f32(relative, self.filters())
    }

    /// conv1 frame of each filter's maximum `[tracks, filters]`.
    pub fn conv1_peak(&self) -> Result<Array2<u32>, AnalysisError> {
        let path = self.existing(layout::PREDICT_CONV1_PEAK, "predict")?;
        let array: Array2<u32> = npy::read(&path)?;
        npy::check_shape(
            &path,
            array.shape(),
            &[Some(self.tracks.len()), Some(self.filters())],
        )?;
        Ok(array)
    }

    /// fc2 activations `[tracks, units]`.
    pub fn fc2(&self) -> Result<Array2<f32>, AnalysisError> {
        self.read_f32(layout::PREDICT_FC2, self.units())
    }

    /// Predicted factors `[tracks, F]`.
    pub fn predicted_factors(&self) -> Result<Array2<f32>, AnalysisError> {
        self.read_f32(layout::PREDICT_FACTORS, self.config.factors)
    }

    /// The t-SNE map of `of`: a point per track, NaN for unmapped tracks.
    pub fn map(&self, of: MapOf) -> Result<Vec<[f32; 2]>, AnalysisError> {
        let path = self.existing(of.outputs()[0], "tsne")?;
        let array: Array2<f32> = npy::read(&path)?;
        npy::check_shape(&path, array.shape(), &[Some(self.tracks.len()), Some(2)])?;
        Ok(array.rows().into_iter().map(|r| [r[0], r[1]]).collect())
    }

    /// WMF item factors `[tracks, F]` (any F), or `None` when `cf` has not run.
    pub fn cf_factors(&self) -> Result<Option<Array2<f32>>, AnalysisError> {
        let path = self.layout.path(layout::ITEM_FACTORS);
        if !path.is_file() {
            return Ok(None);
        }
        let array: Array2<f32> = npy::read_finite_f32(&path)?;
        npy::check_shape(&path, array.shape(), &[Some(self.tracks.len()), None])?;
        Ok(Some(array))
    }

    /// The train/valid/test split, or `None` when no model was trained here.
    pub fn split(&self) -> Result<Option<TrackSplit>, AnalysisError> {
        let path = self.layout.path(layout::SPLIT_TSV);
        if !path.is_file() {
            return Ok(None);
        }
        Ok(Some(TrackSplit::read(&path, self.tracks.len())?))
    }

    /// The ids of the tracks a playlist may draw from, ascending.
    pub fn candidates(&self, from: Candidates) -> Result<Vec<u32>, AnalysisError> {
        let predicted = (0..self.tracks.len() as u32).filter(|&id| self.predicted[id as usize]);
        let ids: Vec<u32> = match from {
            Candidates::All => predicted.collect(),
            Candidates::Test => {
                let split = self.split()?.ok_or_else(|| AnalysisError::Missing {
                    path: self.layout.path(layout::SPLIT_TSV),
                    stage: "train",
                })?;
                predicted
                    .filter(|&id| split.part(id) == Some(Part::Test))
                    .collect()
            }
        };
        if ids.is_empty() {
            return Err(AnalysisError::NoCandidates {
                reason: format!("no track with a prediction in `{from:?}`").to_lowercase(),
            });
        }
        Ok(ids)
    }

    /// The conv1 weights of `model` (default: the weights that made the predictions), checked
    /// against the predictions' filter count.
    pub fn conv1_weights(&self, model: Option<&Path>) -> Result<Conv1Weights, AnalysisError> {
        let path = model.unwrap_or(&self.model);
        let weights = ConvnetWeights::load(path)?;
        let filters = weights.config.filters[0];
        if filters != self.filters() {
            return Err(AnalysisError::Invalid {
                path: path.to_owned(),
                reason: format!(
                    "conv1 has {filters} filters, the predictions have {} (made with {})",
                    self.filters(),
                    self.model.display()
                ),
            });
        }
        Conv1Weights::from_weights(&weights)
    }

    fn existing(&self, relative: &str, stage: &'static str) -> Result<PathBuf, AnalysisError> {
        let path = self.layout.path(relative);
        if path.is_file() {
            Ok(path)
        } else {
            Err(AnalysisError::Missing { path, stage })
        }
    }

    /// Reads a float32 `[tracks, columns]` array of `predict/`, refusing NaN.
    fn read_f32(&self, relative: &str, columns: usize) -> Result<Array2<f32>, AnalysisError> {
        let path = self.existing(relative, "predict")?;
        let array: Array2<f32> = npy::read_finite_f32(&path)?;
        npy::check_shape(
            &path,
            array.shape(),
            &[Some(self.tracks.len()), Some(columns)],
        )?;
        Ok(array)
    }
}

/// The first convolution's kernels: `weight[filter][mel][frame]` as in `conv1.weight`
/// `[filters, n_mels, 4]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Conv1Weights {
    pub filters: usize,
    pub n_mels: usize,
    pub frames: usize,
    /// Row-major `[filters, n_mels, frames]`.
    pub weight: Vec<f32>,
}

impl Conv1Weights {
    pub fn from_weights(weights: &ConvnetWeights) -> Result<Self, AnalysisError> {
        let filters = weights.config.filters[0];
        let n_mels = weights.config.n_mels;
        let conv1 = weights
            .convs
            .first()
            .ok_or_else(|| AnalysisError::Invalid {
                path: PathBuf::from("conv1.weight"),
                reason: "the network has no convolution".into(),
            })?;
        let frames = conv1.weight.len() / (filters * n_mels).max(1);
        Ok(Self {
            filters,
            n_mels,
            frames,
            weight: conv1.weight.clone(),
        })
    }

    /// Filter `k`'s weight at mel band `mel` and frame `frame`.
    pub fn at(&self, k: usize, mel: usize, frame: usize) -> f32 {
        self.weight[(k * self.n_mels + mel) * self.frames + frame]
    }
}

fn check_index(what: &'static str, index: usize, count: usize) -> Result<(), AnalysisError> {
    if index < count {
        Ok(())
    } else {
        Err(AnalysisError::OutOfRange { what, index, count })
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}
