//! `deepcuts train`: the convnet of a project, trained on its split to predict the cold-start
//! CF factors of its tracks (see the module above). Writes `split.tsv` (when drawn),
//! `cf/coldstart/*` (when missing or stale) and `model/` (`weights.safetensors`,
//! `checkpoint.safetensors`, `history.json`, through `convnet::train`).

use std::sync::atomic::AtomicBool;

use ndarray::Array2;

use super::excerpts::StoreExcerpts;
use super::factors::{hold_out_test_listens, load_or_fit};
use super::split::{Part, SplitFractions, TrackSplit};
use super::ColdstartError;
use crate::cf::eval::Split as ListenSplit;
use crate::cf::wmf::{Factors, IterationReport, WmfConfig};
use crate::convnet::train::{
    self, Objective, TrainEvent, TrainJob, TrainOutcome, TrainSettings, WpeTargets,
};
use crate::convnet::{weight_average, ConvnetConfig};
use crate::features::{self, FeatureStore, Shard};
use crate::predict::missing_features;
use crate::project::cf_stage::play_matrix;
use crate::project::{layout, Project};
use crate::track_issue::TrackIssue;

/// What the network is trained to minimise (`deepcuts train --objective`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ObjectiveKind {
    /// MSE to the unit-norm WMF item factors (DESIGN.md).
    #[default]
    Mse,
    /// The paper's weighted prediction error against the fixed WMF user factors.
    Wpe,
}

/// How the split is drawn when there is none (or a new one is asked for). The default: seed
/// 0, 80/10/10.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SplitOptions {
    pub seed: u64,
    pub fractions: SplitFractions,
    /// Draw a new split even when `split.tsv` exists (not with `resume`).
    pub redraw: bool,
}

/// Everything `train_project` needs besides progress and cancellation.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub config: ConvnetConfig,
    pub settings: TrainSettings,
    pub objective: ObjectiveKind,
    /// Continue from `model/checkpoint.safetensors` when it exists.
    pub resume: bool,
    pub split: SplitOptions,
    /// The cold-start WMF (its `factors` must equal `config.factors`).
    pub wmf: WmfConfig,
}

/// Training settings for a project of a few thousand tracks on a CPU: the default demo world
/// trains a useful `small` model with them in minutes on two cores.
pub fn project_settings(objective: ObjectiveKind) -> TrainSettings {
    // Tuned on the default demo world (small config). The MSE of 40 unit-norm factors has
    // small gradients, so plain SGD needs a large step; the WPE sums over users whose WMF
    // factors are large (λ = 1e-5), so it needs a small one (1e-3 already diverges). Light
    // dropout learns faster than 0.5 and the validation loss still improves until ~70 epochs
    // (~5 minutes).
    TrainSettings {
        max_epochs: 80,
        batch_size: 32,
        learning_rate: match objective {
            ObjectiveKind::Mse => 1.0,
            ObjectiveKind::Wpe => 1e-4,
        },
        momentum: 0.9,
        dropout: 0.1,
        // The validation loss of so large a step plateaus for 10 epochs and more before it
        // improves again (seed 307: stopped at epoch 51, best 41; with 20, best 70 and the
        // AUC gap closed 44% → 48%); 20 mostly runs the 80 epochs.
        patience: 20,
        // The iterates of so large a step jump around the minimum; their average is nearer
        // it (`convnet::weight_average`).
        average_decay: weight_average::DEFAULT_DECAY,
        // The network is limited by its data (training loss well below validation loss):
        // hiding two mel bands and two moments per crop (`convnet::augment`) closed 46 → 50%
        // and 51 → 56% of the AUC gap on seeds 101 and 211, 49 → 48% on 307 (with the
        // patience above); four underfit in 80 epochs (45% on 101).
        masks: 2,
        ..TrainSettings::default()
    }
}

impl TrainOptions {
    /// The defaults for `config` and `objective`: [`project_settings`], DESIGN.md's WMF with
    /// the config's factor count, a new run, the default split.
    pub fn new(config: ConvnetConfig, objective: ObjectiveKind) -> Self {
        let wmf = WmfConfig {
            factors: config.factors,
            ..WmfConfig::default()
        };
        Self {
            config,
            settings: project_settings(objective),
            objective,
            resume: false,
            split: SplitOptions::default(),
            wmf,
        }
    }
}

/// What training will run on, reported before the first epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainPlan {
    /// Whether `split.tsv` was drawn now (else read).
    pub split_drawn: bool,
    /// Tracks in the split's train, valid and test parts.
    pub split_sizes: [usize; 3],
    /// Whether the cold-start factors were fitted now (else reused).
    pub factors_fitted: bool,
    /// Tracks that train and validate the network.
    pub train_tracks: usize,
    pub valid_tracks: usize,
    /// Training and validation tracks left out, with the reason.
    pub left_out: Vec<TrackIssue>,
}

/// Progress of `train_project`.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainProgress {
    /// A cold-start WMF iteration finished.
    Wmf(IterationReport),
    /// The data are ready; training starts.
    Ready(TrainPlan),
    /// From the training loop.
    Train(TrainEvent),
}

/// The result of `train_project`.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainReport {
    pub plan: TrainPlan,
    pub outcome: TrainOutcome,
}

/// The split of `project`: `split.tsv` when present (unless `options.redraw`), else drawn
/// from the tracks with features and written. Returns it and whether it was drawn now.
pub fn load_or_draw_split(
    project: &Project,
    store: &FeatureStore,
    options: &SplitOptions,
) -> Result<(TrackSplit, bool), ColdstartError> {
    let path = project.layout().path(layout::SPLIT_TSV);
    let tracks = project.catalog().track_count()?;
    if path.exists() && !options.redraw {
        return Ok((TrackSplit::read(&path, tracks)?, false));
    }
    let featured: Vec<u32> = (0..tracks)
        .filter(|&row| missing_features(store.status(row)).is_none())
        .map(|row| row as u32)
        .collect();
    if featured.len() < 3 {
        return Err(ColdstartError::NoFeatures {
            tracks: featured.len(),
        });
    }
    let split = TrackSplit::random(&featured, options.fractions, options.seed)?;
    split.write(&path)?;
    Ok((split, true))
}

/// The project's listens split by the test part, and the cold-start factors (reused when
/// fresh, else fitted and saved).
pub(crate) fn coldstart_factors(
    project: &Project,
    split: &TrackSplit,
    wmf: &WmfConfig,
    progress: &mut dyn FnMut(&IterationReport),
    cancel: &AtomicBool,
) -> Result<(ListenSplit, Factors, bool), ColdstartError> {
    let (counts, _) = play_matrix(project)?;
    let listens = hold_out_test_listens(&counts, split)?;
    let (factors, fitted) = load_or_fit(project.layout(), &listens.train, wmf, progress, cancel)?;
    Ok((listens, factors, fitted))
}

/// The tracks of `part` that can be learned from: with features and a non-zero target (some
/// listens outside the test tracks). The others go to `left_out` with the reason.
pub(crate) fn learnable_tracks(
    split: &TrackSplit,
    part: Part,
    store: &FeatureStore,
    items: &Array2<f32>,
    left_out: &mut Vec<TrackIssue>,
) -> Vec<usize> {
    let mut kept = Vec::new();
    for track in split.tracks(part).into_iter().map(|t| t as usize) {
        let reason = missing_features(store.status(track)).or_else(|| {
            let zero = items.row(track).iter().all(|&v| v == 0.0);
            zero.then(|| "no listens, so no CF factors to learn".to_owned())
        });
        match reason {
            None => kept.push(track),
            Some(reason) => left_out.push(TrackIssue { track, reason }),
        }
    }
    kept
}

/// Trains the project's convnet; see the module documentation. Reports through `progress`;
/// returns after the last finished epoch is saved when `cancel` is set.
pub fn train_project(
    project: &Project,
    options: &TrainOptions,
    progress: &mut (dyn FnMut(TrainProgress) + Send),
    cancel: &AtomicBool,
) -> Result<TrainReport, ColdstartError> {
    if options.resume && options.split.redraw {
        return Err(ColdstartError::Invalid(
            "a resumed run must keep its split: drop the request for a new split".into(),
        ));
    }
    if options.wmf.factors != options.config.factors {
        return Err(ColdstartError::Invalid(format!(
            "the WMF has {} factors but the network predicts {}",
            options.wmf.factors, options.config.factors
        )));
    }
    let store = features::open_store(project, Shard::ALL)?;
    let (split, split_drawn) = load_or_draw_split(project, &store, &options.split)?;
    let (listens, factors, factors_fitted) = coldstart_factors(
        project,
        &split,
        &options.wmf,
        &mut |report| progress(TrainProgress::Wmf(*report)),
        cancel,
    )?;
    let mut left_out = Vec::new();
    let train_tracks = learnable_tracks(&split, Part::Train, &store, &factors.items, &mut left_out);
    let valid_tracks = learnable_tracks(&split, Part::Valid, &store, &factors.items, &mut left_out);
    if train_tracks.is_empty() || valid_tracks.is_empty() {
        return Err(ColdstartError::Unusable(format!(
            "{} training and {} validation tracks have features and listens: both need some",
            train_tracks.len(),
            valid_tracks.len()
        )));
    }
    let plan = TrainPlan {
        split_drawn,
        split_sizes: Part::ALL.map(|part| split.tracks(part).len()),
        factors_fitted,
        train_tracks: train_tracks.len(),
        valid_tracks: valid_tracks.len(),
        left_out,
    };
    progress(TrainProgress::Ready(plan.clone()));

    let objective = match options.objective {
        ObjectiveKind::Mse => Objective::Mse {
            factors: factors.items,
        },
        ObjectiveKind::Wpe => Objective::Wpe(WpeTargets {
            user_factors: factors.users,
            plays: (0..listens.train.items())
                .map(|track| {
                    let (users, counts) = listens.train.by_item().row(track);
                    users.iter().copied().zip(counts.iter().copied()).collect()
                })
                .collect(),
            alpha: options.wmf.alpha,
            epsilon: options.wmf.epsilon,
        }),
    };
    let tracks = project.catalog().track_count()?;
    let source = StoreExcerpts::new(&store, tracks);
    let out_dir = project.layout().path(layout::MODEL_DIR);
    let job = TrainJob {
        config: &options.config,
        settings: &options.settings,
        source: &source,
        objective: &objective,
        split: &train::Split {
            train: train_tracks,
            valid: valid_tracks,
        },
        out_dir: &out_dir,
        resume: options.resume,
    };
    let outcome = train::train(
        &job,
        &mut |event| progress(TrainProgress::Train(event)),
        cancel,
    )?;
    Ok(TrainReport { plan, outcome })
}
