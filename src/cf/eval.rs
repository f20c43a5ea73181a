//! The held-out evaluation protocol of the NIPS 2013 paper: hide some listens, train on the
//! rest, and ask how well each user's hidden listens are ranked among the candidates.
//!
//! Two settings share one function, [`evaluate`]: *warm* (a fraction of every user's listens
//! is held out; every item the user did not train on is a candidate) and *cold-start* (some
//! items have all their listens held out; only those items are candidates, the paper's setting
//! for item factors predicted from audio). Scores come from factors (`u·v`, whoever computed
//! them: WMF, the convnet, a file) or from the `random` baseline.

use std::path::{Path, PathBuf};

use ndarray::{s, Array2, ArrayView2};
use rand::seq::index::sample;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;

use super::metrics::{user_metrics, Cutoffs, EvalTable, Metrics, UserMetrics};
use super::sparse::{CsrMatrix, PlayCounts, SparseError};

/// Scores held in memory at once per worker: users per block × items ≤ this.
const BLOCK_SCORES: usize = 1 << 22;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("hold-out fraction {0} is not in (0, 1)")]
    Fraction(f64),
    #[error("train is {train:?} (users × items) but held-out is {heldout:?}")]
    MatrixShapes {
        train: [usize; 2],
        heldout: [usize; 2],
    },
    #[error("{which} factors are [{rows} × {factors}], expected {expected} rows and {expected_factors} factors")]
    FactorShape {
        which: &'static str,
        rows: usize,
        factors: usize,
        expected: usize,
        expected_factors: usize,
    },
    #[error("{which} factor row {row} contains a value that is not finite")]
    NotFinite { which: &'static str, row: usize },
    #[error("candidate item {item} is out of range ({items} items)")]
    Candidate { item: u32, items: usize },
    #[error("no user has a held-out listen among the candidates: nothing to evaluate")]
    NoUsers,
    #[error("cannot start {threads} worker threads: {source}")]
    ThreadPool {
        threads: usize,
        source: rayon::ThreadPoolBuildError,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Sparse(#[from] SparseError),
}

/// Listens split into a training part and a held-out part (same shape, disjoint pairs).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub train: PlayCounts,
    pub heldout: PlayCounts,
}

/// Holds out `fraction` of each user's listened items (rounded, keeping at least one in
/// training so that every user with listens has factors), chosen at random from `seed`.
pub fn holdout_listens(counts: &PlayCounts, fraction: f64, seed: u64) -> Result<Split, EvalError> {
    check_fraction(fraction)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut train = Vec::with_capacity(counts.nnz());
    let mut heldout = Vec::new();
    let mut held = Vec::new();
    for (user, (items, plays)) in rows(counts.by_user()) {
        let n = items.len();
        let n_held = ((fraction * n as f64).round() as usize).min(n.saturating_sub(1));
        held.clear();
        held.resize(n, false);
        for k in sample(&mut rng, n, n_held) {
            held[k] = true;
        }
        for ((&item, &count), &is_held) in items.iter().zip(plays).zip(&held) {
            let target = if is_held { &mut heldout } else { &mut train };
            target.push((user, item, count));
        }
    }
    build_split(counts, train, heldout)
}

/// Cold start: holds out every listen of `fraction` of the items that have listens, chosen at
/// random from `seed`. Returns the split and the held-out items, ascending.
pub fn holdout_items(
    counts: &PlayCounts,
    fraction: f64,
    seed: u64,
) -> Result<(Split, Vec<u32>), EvalError> {
    check_fraction(fraction)?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let listened: Vec<u32> = rows(counts.by_item())
        .filter(|(_, (users, _))| !users.is_empty())
        .map(|(item, _)| item)
        .collect();
    let n_cold = (fraction * listened.len() as f64).round() as usize;
    let mut cold: Vec<u32> = sample(&mut rng, listened.len(), n_cold)
        .into_iter()
        .map(|k| listened[k])
        .collect();
    cold.sort_unstable();
    let mut train = Vec::with_capacity(counts.nnz());
    let mut heldout = Vec::new();
    for (user, (items, plays)) in rows(counts.by_user()) {
        for (&item, &count) in items.iter().zip(plays) {
            let target = if cold.binary_search(&item).is_ok() {
                &mut heldout
            } else {
                &mut train
            };
            target.push((user, item, count));
        }
    }
    Ok((build_split(counts, train, heldout)?, cold))
}

fn check_fraction(fraction: f64) -> Result<(), EvalError> {
    if fraction > 0.0 && fraction < 1.0 {
        Ok(())
    } else {
        Err(EvalError::Fraction(fraction))
    }
}

fn rows(m: &CsrMatrix) -> impl Iterator<Item = (u32, (&[u32], &[f32]))> {
    (0..m.rows()).map(move |r| (r as u32, m.row(r)))
}

fn build_split(
    counts: &PlayCounts,
    train: Vec<(u32, u32, f32)>,
    heldout: Vec<(u32, u32, f32)>,
) -> Result<Split, EvalError> {
    let (users, items) = (counts.users(), counts.items());
    Ok(Split {
        train: PlayCounts::from_triplets(users, items, train)?,
        heldout: PlayCounts::from_triplets(users, items, heldout)?,
    })
}

/// Where the scores of (user, item) pairs come from.
#[derive(Debug, Clone, Copy)]
pub enum Scorer<'a> {
    /// `users.row(u) · items.row(i)`; users: [users, F], items: [items, F].
    Factors {
        users: ArrayView2<'a, f32>,
        items: ArrayView2<'a, f32>,
    },
    /// Independent uniform scores, reproducible from the seed: the `random` baseline.
    Random { seed: u64 },
}

/// The items each user's held-out listens are ranked among.
#[derive(Debug, Clone, Copy)]
pub enum Candidates<'a> {
    /// Every item the user did not train on (warm evaluation).
    Unseen,
    /// Only these items, less any the user trained on (cold-start evaluation).
    Only(&'a [u32]),
}

/// Ranks, for every user, the candidates by score and averages the metrics over the users
/// with at least one held-out listen among their candidates (and one candidate without).
/// Runs on `threads` workers (0: one per core); the result does not depend on their number.
pub fn evaluate(
    train: &PlayCounts,
    heldout: &PlayCounts,
    scorer: &Scorer,
    candidates: &Candidates,
    cutoffs: Cutoffs,
    threads: usize,
) -> Result<Metrics, EvalError> {
    let (users, items) = (train.users(), train.items());
    if [heldout.users(), heldout.items()] != [users, items] {
        return Err(EvalError::MatrixShapes {
            train: [users, items],
            heldout: [heldout.users(), heldout.items()],
        });
    }
    if let Scorer::Factors {
        users: user_factors,
        items: item_factors,
    } = scorer
    {
        check_factors("user", user_factors, users, item_factors.ncols())?;
        check_factors("item", item_factors, items, user_factors.ncols())?;
    }
    let only: Option<Vec<u32>> = match candidates {
        Candidates::Unseen => None,
        Candidates::Only(list) => {
            if let Some(&item) = list.iter().find(|&&i| i as usize >= items) {
                return Err(EvalError::Candidate { item, items });
            }
            let mut list = list.to_vec();
            list.sort_unstable();
            list.dedup();
            Some(list)
        }
    };
    let block_users = (BLOCK_SCORES / items.max(1)).clamp(1, 64);
    let pool =
        super::thread_pool(threads).map_err(|source| EvalError::ThreadPool { threads, source })?;
    let per_block: Vec<Vec<UserMetrics>> = pool.install(|| {
        (0..users.div_ceil(block_users))
            .into_par_iter()
            .map(|block| {
                let first = block * block_users;
                let last = (first + block_users).min(users);
                let scores = block_scores(scorer, first..last, items);
                let mut out = Vec::new();
                let mut cand_scores = Vec::new();
                let mut cand_relevant = Vec::new();
                for (k, user) in (first..last).enumerate() {
                    gather_candidates(
                        train.by_user().row(user).0,
                        heldout.by_user().row(user).0,
                        only.as_deref(),
                        scores
                            .row(k)
                            .as_slice()
                            .expect("block_scores returns a row-major array"),
                        &mut cand_scores,
                        &mut cand_relevant,
                    );
                    out.extend(user_metrics(&cand_scores, &cand_relevant, &cutoffs));
                }
                out
            })
            .collect()
    });
    let per_user: Vec<UserMetrics> = per_block.into_iter().flatten().collect();
    Metrics::mean(&per_user, cutoffs).ok_or(EvalError::NoUsers)
}

fn check_factors(
    which: &'static str,
    factors: &ArrayView2<f32>,
    expected: usize,
    expected_factors: usize,
) -> Result<(), EvalError> {
    if factors.nrows() != expected || factors.ncols() != expected_factors {
        return Err(EvalError::FactorShape {
            which,
            rows: factors.nrows(),
            factors: factors.ncols(),
            expected,
            expected_factors,
        });
    }
    match factors
        .rows()
        .into_iter()
        .position(|row| row.iter().any(|v| !v.is_finite()))
    {
        Some(row) => Err(EvalError::NotFinite { which, row }),
        None => Ok(()),
    }
}

/// Scores of every item for the users `range`: [users in range, items], row-major.
fn block_scores(scorer: &Scorer, range: std::ops::Range<usize>, items: usize) -> Array2<f32> {
    match scorer {
        Scorer::Factors {
            users,
            items: item_factors,
        } => {
            let scores = users.slice(s![range, ..]).dot(&item_factors.t());
            // The product may come out column-major; candidates are gathered from rows.
            if scores.is_standard_layout() {
                scores
            } else {
                scores.as_standard_layout().into_owned()
            }
        }
        Scorer::Random { seed } => {
            let mut scores = Array2::zeros((range.len(), items));
            for (mut row, user) in scores.rows_mut().into_iter().zip(range) {
                // One stream per user, so the scores do not depend on the blocking.
                let user_seed = seed ^ (user as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                let mut rng = rand::rngs::StdRng::seed_from_u64(user_seed);
                row.iter_mut().for_each(|v| *v = rng.random::<f32>());
            }
            scores
        }
    }
}

/// Fills the candidates' scores and relevance for one user: the candidate items (all, or
/// `only`) less the user's training items; relevant = held out. All index lists ascending.
fn gather_candidates(
    trained: &[u32],
    held: &[u32],
    only: Option<&[u32]>,
    scores: &[f32],
    cand_scores: &mut Vec<f32>,
    cand_relevant: &mut Vec<bool>,
) {
    cand_scores.clear();
    cand_relevant.clear();
    let mut t = 0;
    let mut h = 0;
    let mut push = |item: u32| {
        while t < trained.len() && trained[t] < item {
            t += 1;
        }
        if t < trained.len() && trained[t] == item {
            return;
        }
        while h < held.len() && held[h] < item {
            h += 1;
        }
        cand_scores.push(scores[item as usize]);
        cand_relevant.push(h < held.len() && held[h] == item);
    };
    match only {
        None => (0..scores.len() as u32).for_each(&mut push),
        Some(list) => list.iter().for_each(|&item| push(item)),
    }
}

/// Writes an evaluation table as pretty JSON, atomically (`eval/cf.json`, `eval/coldstart.json`).
pub fn write_table(path: &Path, table: &EvalTable) -> Result<(), EvalError> {
    crate::io::atomic::write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, table).map_err(std::io::Error::other)?;
        w.write_all(b"\n")
    })
    .map_err(|source| EvalError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn counts(users: usize, items: usize, t: &[(u32, u32, f32)]) -> PlayCounts {
        PlayCounts::from_triplets(users, items, t.iter().copied()).unwrap()
    }

    #[test]
    fn holdout_is_a_partition_keeping_one_training_listen() {
        let mut t = Vec::new();
        for u in 0..50u32 {
            for i in 0..(u % 9) {
                t.push((u, (i * 7 + u) % 40, 1.0 + i as f32));
            }
        }
        let all = counts(50, 40, &t);
        let split = holdout_listens(&all, 0.3, 7).unwrap();
        for u in 0..50 {
            let (train, _) = split.train.by_user().row(u);
            let (held, _) = split.heldout.by_user().row(u);
            let n = all.by_user().row(u).0.len();
            assert_eq!(train.len() + held.len(), n);
            assert_eq!(
                held.len(),
                ((0.3 * n as f64).round() as usize).min(n.saturating_sub(1))
            );
            assert!(held.iter().all(|i| !train.contains(i)));
        }
        let mut merged: Vec<_> = split.train.by_user().triplets().collect();
        merged.extend(split.heldout.by_user().triplets());
        merged.sort_by_key(|&(u, i, _)| (u, i));
        assert_eq!(merged, all.by_user().triplets().collect::<Vec<_>>());
        assert_eq!(holdout_listens(&all, 0.3, 7).unwrap(), split);
        assert_ne!(holdout_listens(&all, 0.3, 8).unwrap(), split);
        assert!(holdout_listens(&all, 1.0, 7).is_err());
    }

    #[test]
    fn cold_items_lose_all_their_listens() {
        let t: Vec<_> = (0..30u32)
            .flat_map(|u| (0..10u32).map(move |i| (u, i, 1.0)))
            .collect();
        let all = counts(30, 12, &t);
        let (split, cold) = holdout_items(&all, 0.2, 1).unwrap();
        assert_eq!(cold.len(), 2); // 20% of the 10 items with listens
        assert!(cold.iter().all(|&i| i < 10));
        for &i in &cold {
            assert!(split.train.by_item().row(i as usize).0.is_empty());
            assert_eq!(split.heldout.by_item().row(i as usize).0.len(), 30);
        }
        assert_eq!(split.train.nnz() + split.heldout.nnz(), all.nnz());
    }

    #[test]
    fn candidates_exclude_training_items_and_mark_held_out_ones() {
        let scores = [0.0f32, 0.1, 0.2, 0.3, 0.4, 0.5];
        let (mut s, mut r) = (Vec::new(), Vec::new());
        gather_candidates(&[1, 4], &[2, 5], None, &scores, &mut s, &mut r);
        assert_eq!(s, [0.0, 0.2, 0.3, 0.5]);
        assert_eq!(r, [false, true, false, true]);
        gather_candidates(&[1, 4], &[2, 5], Some(&[1, 2, 3]), &scores, &mut s, &mut r);
        assert_eq!(s, [0.2, 0.3]);
        assert_eq!(r, [true, false]);
    }

    #[test]
    fn evaluates_factor_scores_against_a_brute_force_ranking() {
        // 2 users, 5 items, F = 1: scores are u·v, so the rankings are easy to write down.
        let train = counts(2, 5, &[(0, 0, 1.0), (1, 4, 1.0)]);
        let heldout = counts(2, 5, &[(0, 3, 1.0), (1, 1, 1.0), (1, 2, 1.0)]);
        let users = array![[1.0f32], [-1.0]];
        let items = array![[0.5f32], [0.1], [0.2], [0.4], [0.3]];
        let scorer = Scorer::Factors {
            users: users.view(),
            items: items.view(),
        };
        let cutoffs = Cutoffs {
            map: 2,
            recall: 1,
            ndcg: 2,
        };
        let m = evaluate(&train, &heldout, &scorer, &Candidates::Unseen, cutoffs, 1).unwrap();
        // User 0 ranks items 1..=4 as 3, 4, 2, 1: held-out 3 first → all metrics 1.
        // User 1 ranks 0..=3 by −v: 1, 2, 3, 0; held-out 1, 2 come first: AUC, AP@2 and
        // NDCG@2 are 1 but recall@1 is 1/2. Means over the two users:
        assert_eq!(
            (m.auc, m.map, m.recall, m.ndcg, m.users),
            (1.0, 1.0, 0.75, 1.0, 2)
        );
        // Cold start among items {0, 2, 3} only: user 0 ranks 3, 2 (0 was trained): AUC 1;
        // user 1 ranks 2, 3, 0 with held-out 2 → AUC 1, AP@2 = 1, recall@1 = 1.
        let m = evaluate(
            &train,
            &heldout,
            &scorer,
            &Candidates::Only(&[3, 0, 2]),
            cutoffs,
            2,
        )
        .unwrap();
        assert_eq!((m.auc, m.users), (1.0, 2));
        let bad = Candidates::Only(&[9]);
        assert!(matches!(
            evaluate(&train, &heldout, &scorer, &bad, cutoffs, 1),
            Err(EvalError::Candidate { item: 9, .. })
        ));
    }
}
