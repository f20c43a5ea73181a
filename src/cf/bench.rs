//! The CF benchmark: a synthetic play-count matrix with a popularity skew and a planted genre
//! structure, a held-out split shared with `bench/wmf_vs_implicit.py` through `.npy` triplets,
//! and a timed WMF fit evaluated with the same protocol as the factors the `implicit` library
//! computed on the same split (when the script has left them in the folder).
//!
//! Folder layout: `meta.json` ({"users", "items"}); `{train,test}_{users,items,counts}.npy`
//! triplets; `wmf_{user,item}_factors.npy` (ours); `implicit_{user,item}_factors.npy` and
//! `implicit.json` ({"secs_per_iteration": […]}) written by the script.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};

use super::eval::{evaluate, holdout_listens, Candidates, EvalError, Scorer, Split};
use super::metrics::{Cutoffs, EvalTable};
use super::sparse::{PlayCounts, SparseError};
use super::wmf::{fit, WmfConfig, WmfError};
use crate::io::npy::{self, NpyError};

/// Shape of the synthetic listening data.
#[derive(Debug, Clone, PartialEq)]
pub struct SyntheticConfig {
    pub users: usize,
    pub items: usize,
    /// Mean distinct items per user (the number of nonzeros is about users × this).
    pub mean_items_per_user: f64,
    /// Genres: each item has one, each user likes one to three.
    pub genres: usize,
    /// Probability that a listen is drawn from the user's genres rather than from the charts.
    pub taste: f64,
    pub seed: u64,
}

impl Default for SyntheticConfig {
    /// 20k users × 10k items, about 1M nonzeros.
    fn default() -> Self {
        Self {
            users: 20_000,
            items: 10_000,
            mean_items_per_user: 50.0,
            genres: 50,
            taste: 0.8,
            seed: 2013,
        }
    }
}

/// Play counts where item popularity follows a Zipf law (item i has weight 1/(i+10)^0.9) and
/// each user listens mostly within a few genres: a low-rank structure WMF should recover.
/// Users get 5 + Exp(mean − 5) distinct items.
pub fn synthetic_play_counts(config: &SyntheticConfig) -> Result<PlayCounts, SparseError> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(config.seed);
    let genres = config.genres.max(1);
    let weight = |item: usize| 1.0 / (item as f64 + 10.0).powf(0.9);
    let genre_of: Vec<usize> = (0..config.items)
        .map(|_| rng.random_range(0..genres))
        .collect();
    // Cumulative popularity, over all items and per genre, for inverse-CDF sampling.
    let cumulative = |items: &mut dyn Iterator<Item = usize>| {
        let mut total = 0.0;
        items
            .map(|i| {
                total += weight(i);
                (total, i as u32)
            })
            .collect::<Vec<_>>()
    };
    let charts = cumulative(&mut (0..config.items));
    let by_genre: Vec<Vec<(f64, u32)>> = (0..genres)
        .map(|g| cumulative(&mut (0..config.items).filter(|&i| genre_of[i] == g)))
        .collect();
    let draw = |table: &[(f64, u32)], rng: &mut rand::rngs::StdRng| -> Option<u32> {
        let total = table.last()?.0;
        let x = rng.random::<f64>() * total;
        let k = table.partition_point(|&(c, _)| c < x).min(table.len() - 1);
        Some(table[k].1)
    };
    let mut triplets = Vec::new();
    let mut chosen = std::collections::HashMap::new();
    for user in 0..config.users {
        let liked: Vec<usize> = (0..rng.random_range(1..=3))
            .map(|_| rng.random_range(0..genres))
            .collect();
        let extra = -(1.0 - rng.random::<f64>()).ln() * (config.mean_items_per_user - 5.0);
        let distinct = ((5.0 + extra) as usize).min(config.items / 2);
        chosen.clear();
        for _ in 0..distinct * 20 {
            if chosen.len() >= distinct {
                break;
            }
            let table = if rng.random::<f64>() < config.taste {
                &by_genre[liked[rng.random_range(0..liked.len())]]
            } else {
                &charts
            };
            if let Some(item) = draw(table, &mut rng) {
                // Play counts: a geometric number of plays per listen.
                let plays = 1 + (-(1.0 - rng.random::<f64>()).ln() * 2.0) as u32;
                *chosen.entry(item).or_insert(0u32) += plays;
            }
        }
        let mut items: Vec<_> = chosen.iter().map(|(&i, &c)| (i, c)).collect();
        items.sort_unstable();
        triplets.extend(items.into_iter().map(|(i, c)| (user as u32, i, c as f32)));
    }
    PlayCounts::from_triplets(config.users, config.items, triplets)
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error(transparent)]
    Npy(#[from] NpyError),
    #[error(transparent)]
    Sparse(#[from] SparseError),
    #[error(transparent)]
    Eval(#[from] EvalError),
    #[error(transparent)]
    Wmf(#[from] WmfError),
    #[error("{path}: {message}")]
    File { path: PathBuf, message: String },
}

/// Generates the synthetic data, holds out `holdout` of each user's listens and writes the
/// split into `dir`.
pub fn prepare(dir: &Path, synthetic: &SyntheticConfig, holdout: f64) -> Result<Split, BenchError> {
    let counts = synthetic_play_counts(synthetic)?;
    let split = holdout_listens(&counts, holdout, synthetic.seed)?;
    write_triplets(dir, "train", &split.train)?;
    write_triplets(dir, "test", &split.heldout)?;
    let meta = serde_json::json!({"users": counts.users(), "items": counts.items()});
    let path = dir.join("meta.json");
    crate::io::atomic::write_bytes_atomic(&path, meta.to_string().as_bytes()).map_err(|e| {
        BenchError::File {
            path,
            message: e.to_string(),
        }
    })?;
    Ok(split)
}

/// Writes `{name}_users.npy`, `{name}_items.npy` (int32) and `{name}_counts.npy` (float32).
fn write_triplets(dir: &Path, name: &str, counts: &PlayCounts) -> Result<(), NpyError> {
    let triplets: Vec<_> = counts.by_user().triplets().collect();
    let column = |f: fn(&(u32, u32, f32)) -> i32| triplets.iter().map(f).collect::<Array1<i32>>();
    npy::write(
        &dir.join(format!("{name}_users.npy")),
        &column(|t| t.0 as i32),
    )?;
    npy::write(
        &dir.join(format!("{name}_items.npy")),
        &column(|t| t.1 as i32),
    )?;
    let plays: Array1<f32> = triplets.iter().map(|t| t.2).collect();
    npy::write(&dir.join(format!("{name}_counts.npy")), &plays)
}

fn read_triplets(
    dir: &Path,
    name: &str,
    users: usize,
    items: usize,
) -> Result<PlayCounts, BenchError> {
    let read =
        |column: &str| npy::read::<i32, ndarray::Ix1>(&dir.join(format!("{name}_{column}.npy")));
    let (u, i) = (read("users")?, read("items")?);
    let c = npy::read::<f32, ndarray::Ix1>(&dir.join(format!("{name}_counts.npy")))?;
    if u.len() != i.len() || u.len() != c.len() || u.iter().chain(&i).any(|&v| v < 0) {
        return Err(BenchError::File {
            path: dir.join(format!("{name}_*.npy")),
            message: "triplet columns differ in length or hold negative indices".to_owned(),
        });
    }
    let triplets = u
        .iter()
        .zip(&i)
        .zip(&c)
        .map(|((&u, &i), &c)| (u as u32, i as u32, c));
    Ok(PlayCounts::from_triplets(users, items, triplets)?)
}

/// What one benchmark run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BenchReport {
    pub users: usize,
    pub items: usize,
    pub train_nnz: usize,
    /// Our WMF, wall seconds per iteration.
    pub wmf_secs_per_iteration: Vec<f64>,
    /// implicit's, when the script has run.
    pub implicit_secs_per_iteration: Option<Vec<f64>>,
    /// `random`, `wmf` and (when present) `implicit`.
    pub metrics: EvalTable,
}

/// Reads the split `dir` holds, fits WMF with `config` (saving the factors), and evaluates
/// it, the random baseline and implicit's factors (when present) on the held-out listens.
pub fn run(
    dir: &Path,
    config: &WmfConfig,
    progress: &mut dyn FnMut(&super::wmf::IterationReport),
    cancel: &AtomicBool,
) -> Result<BenchReport, BenchError> {
    let meta_path = dir.join("meta.json");
    let meta: serde_json::Value = std::fs::read(&meta_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
        .map_err(|message| BenchError::File {
            path: meta_path.clone(),
            message,
        })?;
    let dim = |key: &str| {
        meta[key]
            .as_u64()
            .map(|v| v as usize)
            .ok_or_else(|| BenchError::File {
                path: meta_path.clone(),
                message: format!("no `{key}` count"),
            })
    };
    let (users, items) = (dim("users")?, dim("items")?);
    let train = read_triplets(dir, "train", users, items)?;
    let test = read_triplets(dir, "test", users, items)?;
    let mut secs = Vec::new();
    let factors = fit(
        &train,
        config,
        &mut |report| {
            secs.push(report.secs);
            progress(report);
        },
        cancel,
    )?;
    npy::write(&dir.join("wmf_user_factors.npy"), &factors.users)?;
    npy::write(&dir.join("wmf_item_factors.npy"), &factors.items)?;

    let cutoffs = Cutoffs::default();
    let score = |scorer: Scorer| {
        evaluate(
            &train,
            &test,
            &scorer,
            &Candidates::Unseen,
            cutoffs,
            config.threads,
        )
    };
    let mut metrics = EvalTable::new();
    metrics.insert("random".to_owned(), score(Scorer::Random { seed: 0 })?);
    metrics.insert(
        "wmf".to_owned(),
        score(Scorer::Factors {
            users: factors.users.view(),
            items: factors.items.view(),
        })?,
    );
    let mut implicit_secs = None;
    let implicit_users = dir.join("implicit_user_factors.npy");
    if implicit_users.exists() {
        let u: Array2<f32> = npy::read_finite_f32(&implicit_users)?;
        let v: Array2<f32> = npy::read_finite_f32(&dir.join("implicit_item_factors.npy"))?;
        metrics.insert(
            "implicit".to_owned(),
            score(Scorer::Factors {
                users: u.view(),
                items: v.view(),
            })?,
        );
        let timing = std::fs::read(dir.join("implicit.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok());
        implicit_secs = timing.and_then(|t| {
            t["secs_per_iteration"]
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
        });
    }
    Ok(BenchReport {
        users,
        items,
        train_nnz: train.nnz(),
        wmf_secs_per_iteration: secs,
        implicit_secs_per_iteration: implicit_secs,
        metrics,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_data_has_the_requested_size_and_skew() {
        let config = SyntheticConfig {
            users: 400,
            items: 300,
            mean_items_per_user: 20.0,
            ..SyntheticConfig::default()
        };
        let counts = synthetic_play_counts(&config).unwrap();
        let per_user = counts.nnz() as f64 / 400.0;
        assert!((15.0..25.0).contains(&per_user), "{per_user}");
        // Popularity skew: the first tenth of the items gets far more listeners than the last.
        let listeners = |range: std::ops::Range<usize>| -> usize {
            range.map(|i| counts.by_item().row(i).0.len()).sum()
        };
        assert!(listeners(0..30) > 3 * listeners(270..300));
        assert_eq!(synthetic_play_counts(&config).unwrap(), counts);
    }
}
