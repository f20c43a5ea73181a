//! The collaborative-filtering stage of a project: WMF on its play counts (`cf/`), the
//! held-out evaluation (`eval/cf.json`), and factors imported from elsewhere.

use std::path::Path;
use std::sync::atomic::AtomicBool;

use ndarray::Array2;

use super::layout::{self, Layout};
use super::source::TrackSource;
use super::{Project, ProjectError};
use crate::cf::eval::{self, Candidates, EvalError, Scorer};
use crate::cf::factors_import::{self, ImportError};
use crate::cf::metrics::{Cutoffs, EvalTable};
use crate::cf::sparse::{PlayCounts, SparseError};
use crate::cf::wmf::{self, Factors, IterationReport, WmfConfig, WmfError};
use crate::io::npy::{self, NpyError};

/// What went wrong in the CF stage.
#[derive(Debug, thiserror::Error)]
pub enum CfStageError {
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Sparse(#[from] SparseError),
    #[error(transparent)]
    Wmf(#[from] WmfError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {rows} rows of factors for {tracks} tracks; a .npy file has no ids, so its rows must be the project's tracks in order")]
    RowCount {
        path: std::path::PathBuf,
        rows: usize,
        tracks: usize,
    },
    #[error("{path}: none of its {ids} ids is a track of this project (ids are matched to track ids or log references)")]
    NoMatch {
        path: std::path::PathBuf,
        ids: usize,
    },
}

/// The project's play counts as a users × tracks matrix, with the user names.
pub fn play_matrix(project: &Project) -> Result<(PlayCounts, Vec<String>), CfStageError> {
    let tracks = project
        .catalog()
        .track_count()
        .map_err(ProjectError::from)?;
    let plays = project.catalog().plays().map_err(ProjectError::from)?;
    let triplets = plays.triplets.iter().map(|&(u, t, c)| (u, t, c as f32));
    let counts = PlayCounts::from_triplets(plays.users.len(), tracks, triplets)?;
    Ok((counts, plays.users))
}

/// What `cf` wrote.
#[derive(Debug)]
pub struct CfReport {
    pub users: usize,
    pub tracks: usize,
    pub nonzeros: usize,
    /// Listens held out for `eval-cf` (with `holdout`).
    pub heldout_nonzeros: usize,
}

/// Fits WMF on the project's plays (less a held-out fraction of each user's listens when
/// `holdout` is given, recorded for `eval-cf`) and writes `cf/item_factors.npy`,
/// `cf/user_factors.npy`, `cf/users.tsv` and `cf/config.json`.
pub fn fit_project(
    project: &Project,
    config: &WmfConfig,
    holdout: Option<f64>,
    progress: &mut dyn FnMut(&IterationReport),
    cancel: &AtomicBool,
) -> Result<CfReport, CfStageError> {
    let (counts, users) = play_matrix(project)?;
    let layout = project.layout();
    let (train, heldout) = match holdout {
        Some(fraction) => {
            let split = eval::holdout_listens(&counts, fraction, config.seed)?;
            (split.train, Some(split.heldout))
        }
        None => (counts, None),
    };
    let factors = wmf::fit(&train, config, progress, cancel)?;
    npy::write(&layout.path(layout::ITEM_FACTORS), &factors.items)?;
    npy::write(&layout.path(layout::USER_FACTORS), &factors.users)?;
    write_text(&layout.path(layout::USERS_TSV), &users_tsv(&users))?;
    let heldout_path = layout.path(layout::CF_HELDOUT);
    let heldout_nonzeros = match &heldout {
        Some(heldout) => {
            write_text(&heldout_path, &triplets_tsv(heldout))?;
            heldout.nnz()
        }
        None => {
            remove_if_present(&heldout_path)?;
            0
        }
    };
    let record = serde_json::json!({
        "wmf": config,
        "holdout": holdout,
        "plays_changed": project.catalog().meta("plays_changed").map_err(ProjectError::from)?,
    });
    write_text(
        &layout.path(layout::CF_CONFIG),
        &format!(
            "{}\n",
            serde_json::to_string_pretty(&record).unwrap_or_default()
        ),
    )?;
    Ok(CfReport {
        users: train.users(),
        tracks: train.items(),
        nonzeros: train.nnz(),
        heldout_nonzeros,
    })
}

/// The evaluation tables of `eval-cf`.
#[derive(Debug)]
pub struct CfEvaluation {
    /// Held-out listens ranked among each user's unseen tracks: `random` and `wmf`.
    pub heldout: EvalTable,
    /// Cold-start tracks (all their listens held out) ranked among themselves: WMF has no
    /// data for them, which is what the convnet is for.
    pub cold_start: EvalTable,
}

/// Evaluates WMF as in the NIPS 2013 paper: on held-out listens (the `cf --holdout` run's
/// when present, else a fresh fit holding out `fraction`), and on cold-start tracks (a fit
/// without any listen of `fraction` of the tracks). Writes `eval/cf.json` (held-out listens)
/// and `eval/cf_coldstart_tracks.json`.
pub fn evaluate_project(
    project: &Project,
    config: &WmfConfig,
    fraction: f64,
    progress: &mut dyn FnMut(&str, &IterationReport),
    cancel: &AtomicBool,
) -> Result<CfEvaluation, CfStageError> {
    let (counts, _) = play_matrix(project)?;
    let layout = project.layout();
    let cutoffs = Cutoffs::default();
    let (train, heldout, factors) = match saved_holdout_fit(layout, &counts)? {
        Some(saved) => saved,
        None => {
            let split = eval::holdout_listens(&counts, fraction, config.seed)?;
            let factors = wmf::fit(
                &split.train,
                config,
                &mut |r| progress("held-out", r),
                cancel,
            )?;
            (split.train, split.heldout, factors)
        }
    };
    let heldout_table = rank_methods(
        &train,
        &heldout,
        &factors,
        &Candidates::Unseen,
        config,
        cutoffs,
    )?;
    let (split, cold) = eval::holdout_items(&counts, fraction, config.seed)?;
    let factors = wmf::fit(
        &split.train,
        config,
        &mut |r| progress("cold-start", r),
        cancel,
    )?;
    let cold_table = rank_methods(
        &split.train,
        &split.heldout,
        &factors,
        &Candidates::Only(&cold),
        config,
        cutoffs,
    )?;
    eval::write_table(&layout.path(layout::EVAL_CF), &heldout_table)?;
    eval::write_table(&layout.path(layout::EVAL_CF_COLDSTART_TRACKS), &cold_table)?;
    Ok(CfEvaluation {
        heldout: heldout_table,
        cold_start: cold_table,
    })
}

fn rank_methods(
    train: &PlayCounts,
    heldout: &PlayCounts,
    factors: &Factors,
    candidates: &Candidates,
    config: &WmfConfig,
    cutoffs: Cutoffs,
) -> Result<EvalTable, CfStageError> {
    let mut table = EvalTable::new();
    let random = Scorer::Random { seed: config.seed };
    table.insert(
        "random".to_owned(),
        eval::evaluate(train, heldout, &random, candidates, cutoffs, config.threads)?,
    );
    let wmf = Scorer::Factors {
        users: factors.users.view(),
        items: factors.items.view(),
    };
    table.insert(
        "wmf".to_owned(),
        eval::evaluate(train, heldout, &wmf, candidates, cutoffs, config.threads)?,
    );
    Ok(table)
}

/// The `cf --holdout` run's training matrix, held-out listens and factors, when they exist
/// and match the current plays.
fn saved_holdout_fit(
    layout: &Layout,
    counts: &PlayCounts,
) -> Result<Option<(PlayCounts, PlayCounts, Factors)>, CfStageError> {
    let heldout_path = layout.path(layout::CF_HELDOUT);
    if !heldout_path.is_file() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(&heldout_path).map_err(|source| CfStageError::Io {
        path: heldout_path.clone(),
        source,
    })?;
    let heldout_triplets: Vec<(u32, u32, f32)> = text
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split('\t').map(str::parse::<u32>);
            match (fields.next(), fields.next(), fields.next()) {
                (Some(Ok(u)), Some(Ok(t)), Some(Ok(c))) => Some((u, t, c as f32)),
                _ => None,
            }
        })
        .collect();
    let users: Array2<f32> = npy::read_finite_f32(&layout.path(layout::USER_FACTORS))?;
    let items: Array2<f32> = npy::read_finite_f32(&layout.path(layout::ITEM_FACTORS))?;
    if users.nrows() != counts.users() || items.nrows() != counts.items() {
        return Ok(None);
    }
    let heldout = PlayCounts::from_triplets(
        counts.users(),
        counts.items(),
        heldout_triplets.iter().copied(),
    )?;
    let held: std::collections::HashSet<(u32, u32)> =
        heldout_triplets.iter().map(|&(u, t, _)| (u, t)).collect();
    let train = PlayCounts::from_triplets(
        counts.users(),
        counts.items(),
        counts
            .by_user()
            .triplets()
            .filter(|(u, t, _)| !held.contains(&(*u, *t))),
    )?;
    Ok(Some((train, heldout, Factors { users, items })))
}

/// What `import-factors` did.
#[derive(Debug)]
pub struct ImportFactorsReport {
    pub tracks: usize,
    pub factors: usize,
    /// Tracks the file had no row for (their factors are zero).
    pub missing: usize,
    /// Ids in the file that match no track.
    pub unmatched_ids: Vec<String>,
}

/// Reads item factors computed elsewhere (`.npy` rows in track order; CSV or Spark's Parquet
/// with ids matched to track ids or log references) into `cf/item_factors.npy`. User factors
/// from an earlier `cf` run no longer match and are removed.
pub fn import_item_factors(
    project: &Project,
    file: &Path,
) -> Result<ImportFactorsReport, CfStageError> {
    let imported = factors_import::read_factors(file)?;
    let tracks = project.catalog().tracks().map_err(ProjectError::from)?;
    let width = imported.factors.ncols();
    let (items, missing, unmatched_ids) = match &imported.ids {
        None => {
            if imported.factors.nrows() != tracks.len() {
                return Err(CfStageError::RowCount {
                    path: file.to_owned(),
                    rows: imported.factors.nrows(),
                    tracks: tracks.len(),
                });
            }
            (imported.factors.clone(), 0, Vec::new())
        }
        Some(ids) => {
            let mut row_of_track = std::collections::HashMap::new();
            for track in &tracks {
                row_of_track.insert(track.id.to_string(), track.id as usize);
                if let TrackSource::LogOnly(reference) = TrackSource::parse(&track.source) {
                    row_of_track.insert(reference, track.id as usize);
                }
            }
            let mut items = Array2::<f32>::zeros((tracks.len(), width));
            let mut filled = vec![false; tracks.len()];
            let mut unmatched = Vec::new();
            for (r, id) in ids.iter().enumerate() {
                match row_of_track.get(id.trim()) {
                    Some(&row) => {
                        items.row_mut(row).assign(&imported.factors.row(r));
                        filled[row] = true;
                    }
                    None => unmatched.push(id.clone()),
                }
            }
            if unmatched.len() == ids.len() {
                return Err(CfStageError::NoMatch {
                    path: file.to_owned(),
                    ids: ids.len(),
                });
            }
            let missing = filled.iter().filter(|f| !**f).count();
            (items, missing, unmatched)
        }
    };
    let layout = project.layout();
    npy::write(&layout.path(layout::ITEM_FACTORS), &items)?;
    for stale in [layout::USER_FACTORS, layout::USERS_TSV, layout::CF_HELDOUT] {
        remove_if_present(&layout.path(stale))?;
    }
    let record = serde_json::json!({ "imported_from": file.display().to_string() });
    write_text(
        &layout.path(layout::CF_CONFIG),
        &format!(
            "{}\n",
            serde_json::to_string_pretty(&record).unwrap_or_default()
        ),
    )?;
    Ok(ImportFactorsReport {
        tracks: tracks.len(),
        factors: width,
        missing,
        unmatched_ids,
    })
}

fn users_tsv(users: &[String]) -> String {
    let mut text = String::from("row\tuser\n");
    for (row, user) in users.iter().enumerate() {
        text.push_str(&format!(
            "{row}\t{}\n",
            user.replace(['\t', '\n', '\r'], " ")
        ));
    }
    text
}

fn triplets_tsv(counts: &PlayCounts) -> String {
    let mut text = String::from("user\ttrack\tcount\n");
    for (user, track, count) in counts.by_user().triplets() {
        text.push_str(&format!("{user}\t{track}\t{count}\n"));
    }
    text
}

fn write_text(path: &Path, text: &str) -> Result<(), CfStageError> {
    crate::io::atomic::write_bytes_atomic(path, text.as_bytes()).map_err(|source| {
        CfStageError::Io {
            path: path.to_owned(),
            source,
        }
    })
}

fn remove_if_present(path: &Path) -> Result<(), CfStageError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(CfStageError::Io {
            path: path.to_owned(),
            source: e,
        }),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::NewTrack;

    /// Two groups of users who each play one half of the tracks.
    fn clustered_project(dir: &Path) -> Project {
        let mut project = Project::create(dir).unwrap();
        let tracks: Vec<NewTrack> = (0..40)
            .map(|i| NewTrack {
                source: format!("/music/{i}.ogg"),
                ..NewTrack::default()
            })
            .collect();
        project.add_tracks(&tracks).unwrap();
        let users: Vec<String> = (0..60).map(|u| format!("u{u}")).collect();
        let triplets = (0..60u32).flat_map(|u| {
            let half = u % 2;
            (0..40u32)
                .filter(move |t| t % 2 == half && (t * 7 + u * 3) % 5 != 0)
                .map(move |t| (u, t, 1 + (t + u) % 4))
        });
        project.add_plays(&users, triplets).unwrap();
        project
    }

    #[test]
    fn fit_writes_factors_users_and_the_holdout() {
        let dir = tempfile::tempdir().unwrap();
        let project = clustered_project(dir.path());
        let config = WmfConfig {
            factors: 4,
            iterations: 5,
            ..WmfConfig::default()
        };
        let report = fit_project(
            &project,
            &config,
            Some(0.2),
            &mut |_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let layout = project.layout();
        let items: Array2<f32> = npy::read_finite_f32(&layout.path(layout::ITEM_FACTORS)).unwrap();
        let users: Array2<f32> = npy::read_finite_f32(&layout.path(layout::USER_FACTORS)).unwrap();
        assert_eq!(items.shape(), &[40, 4]);
        assert_eq!(users.shape(), &[60, 4]);
        let users_tsv = std::fs::read_to_string(layout.path(layout::USERS_TSV)).unwrap();
        assert_eq!(users_tsv.lines().nth(1), Some("0\tu0"));
        let heldout = std::fs::read_to_string(layout.path(layout::CF_HELDOUT)).unwrap();
        assert_eq!(heldout.lines().count() - 1, report.heldout_nonzeros);
        let (counts, _) = play_matrix(&project).unwrap();
        assert_eq!(report.nonzeros + report.heldout_nonzeros, counts.nnz());
    }

    #[test]
    fn wmf_beats_random_on_held_out_listens_but_not_on_cold_tracks() {
        let dir = tempfile::tempdir().unwrap();
        let project = clustered_project(dir.path());
        let config = WmfConfig {
            factors: 4,
            iterations: 8,
            ..WmfConfig::default()
        };
        let evaluation = evaluate_project(
            &project,
            &config,
            0.25,
            &mut |_, _| {},
            &AtomicBool::new(false),
        )
        .unwrap();
        let auc = |table: &EvalTable, method: &str| table[method].auc;
        assert!(
            auc(&evaluation.heldout, "wmf") > 0.9,
            "{:?}",
            evaluation.heldout
        );
        assert!((auc(&evaluation.heldout, "random") - 0.5).abs() < 0.15);
        // WMF never saw the cold tracks: their factors are zero, every score ties, AUC is ½.
        assert_eq!(auc(&evaluation.cold_start, "wmf"), 0.5);
        let written: EvalTable =
            serde_json::from_slice(&std::fs::read(project.layout().path(layout::EVAL_CF)).unwrap())
                .unwrap();
        assert_eq!(written, evaluation.heldout);
    }

    #[test]
    fn imported_factors_are_matched_by_id_and_missing_tracks_reported() {
        let dir = tempfile::tempdir().unwrap();
        let project = clustered_project(&dir.path().join("p"));
        let csv = dir.path().join("factors.csv");
        std::fs::write(&csv, "id,f1,f2\n3,0.5,1.5\n7,-1,2\nnot-a-track,9,9\n").unwrap();
        let report = import_item_factors(&project, &csv).unwrap();
        assert_eq!((report.tracks, report.factors, report.missing), (40, 2, 38));
        assert_eq!(report.unmatched_ids, ["not-a-track"]);
        let items: Array2<f32> =
            npy::read_finite_f32(&project.layout().path(layout::ITEM_FACTORS)).unwrap();
        assert_eq!(items.row(3).to_vec(), [0.5, 1.5]);
        assert_eq!(items.row(7).to_vec(), [-1.0, 2.0]);
        assert_eq!(items.row(0).to_vec(), [0.0, 0.0]);
        let npy_path = dir.path().join("short.npy");
        npy::write(&npy_path, &Array2::<f32>::ones((5, 2))).unwrap();
        let err = import_item_factors(&project, &npy_path).unwrap_err();
        assert!(
            err.to_string().contains("5 rows of factors for 40 tracks"),
            "{err}"
        );
    }
}
