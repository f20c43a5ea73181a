//! WMF and its evaluation, checked against independent references: a dense direct solve of
//! every row's normal equations, a brute-force objective over all (user, item) pairs, a planted
//! low-rank structure, and hand-built perfect and random rankings.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers: a failed unwrap is a failed test with a backtrace"
)]
#![allow(
    clippy::needless_range_loop,
    reason = "the dense reference solver reads best as the textbook index loops"
)]

use std::sync::atomic::AtomicBool;

use deepcuts::cf::eval::{evaluate, holdout_items, holdout_listens, Candidates, EvalError, Scorer};
use deepcuts::cf::metrics::Cutoffs;
use deepcuts::cf::sparse::PlayCounts;
use deepcuts::cf::wmf::{
    confidence, fit, fit_from, initial_factors, loss, Factors, IterationReport, WmfConfig, WmfError,
};
use ndarray::Array2;
use rand::{Rng, SeedableRng};

fn rng(seed: u64) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed)
}

fn random_counts(users: usize, items: usize, density: f64, seed: u64) -> PlayCounts {
    let mut rng = rng(seed);
    let mut triplets = Vec::new();
    for u in 0..users as u32 {
        for i in 0..items as u32 {
            if rng.random::<f64>() < density {
                triplets.push((u, i, rng.random_range(1..20) as f32));
            }
        }
    }
    PlayCounts::from_triplets(users, items, triplets).unwrap()
}

/// Users in `clusters` groups; each listens to `per_user` random items of its own cluster
/// (items are split evenly among clusters) and `noise` random items elsewhere.
/// Returns the counts and the cluster of every user and item.
fn planted(
    users: usize,
    items: usize,
    clusters: usize,
    per_user: usize,
    noise: usize,
    seed: u64,
) -> (PlayCounts, Vec<usize>, Vec<usize>) {
    let mut rng = rng(seed);
    let item_cluster: Vec<usize> = (0..items).map(|i| i % clusters).collect();
    let user_cluster: Vec<usize> = (0..users).map(|u| u % clusters).collect();
    let mut triplets = Vec::new();
    for u in 0..users {
        let own: Vec<u32> = (0..items as u32)
            .filter(|&i| item_cluster[i as usize] == user_cluster[u])
            .collect();
        for k in rand::seq::index::sample(&mut rng, own.len(), per_user.min(own.len())) {
            triplets.push((u as u32, own[k], rng.random_range(1..10) as f32));
        }
        for _ in 0..noise {
            triplets.push((u as u32, rng.random_range(0..items as u32), 1.0));
        }
    }
    let counts = PlayCounts::from_triplets(users, items, triplets).unwrap();
    (counts, user_cluster, item_cluster)
}

fn no_progress() -> impl FnMut(&IterationReport) {
    |_| {}
}

/// Solves A x = b by Gaussian elimination with partial pivoting, in f64.
fn solve_dense(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&r, &s| a[r][col].abs().total_cmp(&a[s][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row][col] / a[col][col];
            for k in col..n {
                a[row][k] -= factor * a[col][k];
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let tail: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / a[row][row];
    }
    x
}

/// One exact ALS half-step: every row of the solved side from the dense normal equations
/// `(Σ_j c_rj y_j y_jᵀ + λI) x_r = Σ_j c_rj p_rj y_j` over *all* columns j (c = 1, p = 0 where
/// nothing was played), with `conf[r][j]` the confidence of played pairs.
fn exact_half_step(conf: &[Vec<Option<f64>>], fixed: &Array2<f64>, lambda: f64) -> Array2<f64> {
    let f = fixed.ncols();
    let mut solved = Array2::zeros((conf.len(), f));
    for (r, row) in conf.iter().enumerate() {
        let mut a = vec![vec![0.0; f]; f];
        let mut b = vec![0.0; f];
        for (j, c) in row.iter().enumerate() {
            let (c, p) = c.map_or((1.0, 0.0), |c| (c, 1.0));
            for m in 0..f {
                b[m] += c * p * fixed[[j, m]];
                for n in 0..f {
                    a[m][n] += c * fixed[[j, m]] * fixed[[j, n]];
                }
            }
        }
        for (m, a_row) in a.iter_mut().enumerate() {
            a_row[m] += lambda;
        }
        for (m, v) in solve_dense(a, b).into_iter().enumerate() {
            solved[[r, m]] = v;
        }
    }
    solved
}

/// With enough CG steps every row reaches its exact least-squares solution, so WMF must agree
/// with exact ALS from the same start. F = 5 and 16 take the kernels' in-memory and
/// register-held paths (the latter needs F to be a multiple of the SIMD width).
#[test]
fn cg_with_many_steps_agrees_with_a_dense_direct_solve() {
    for f in [5, 16] {
        agrees_with_exact_als(f);
    }
}

fn agrees_with_exact_als(f: usize) {
    let (users, items) = (30, 25);
    let counts = random_counts(users, items, 0.2, 1);
    let config = WmfConfig {
        factors: f,
        iterations: 3,
        cg_steps: 60,
        threads: 2,
        ..WmfConfig::default()
    };
    let initial = initial_factors(users, items, f, 5);
    // Reference: exact ALS in f64 from the same initial factors.
    let mut conf = vec![vec![None; items]; users];
    for (u, i, r) in counts.by_user().triplets() {
        conf[u as usize][i as usize] = Some(f64::from(confidence(r, config.alpha, config.epsilon)));
    }
    let conf_t: Vec<Vec<Option<f64>>> = (0..items)
        .map(|i| (0..users).map(|u| conf[u][i]).collect())
        .collect();
    let mut x = initial.users.mapv(f64::from);
    let mut y = initial.items.mapv(f64::from);
    for _ in 0..config.iterations {
        x = exact_half_step(&conf, &y, f64::from(config.lambda));
        y = exact_half_step(&conf_t, &x, f64::from(config.lambda));
    }
    let got = fit_from(
        &counts,
        initial,
        &config,
        &mut no_progress(),
        &AtomicBool::new(false),
    )
    .unwrap();
    for (ours, exact) in [(&got.users, &x), (&got.items, &y)] {
        let scale = exact.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let worst = ours
            .iter()
            .zip(exact)
            .fold(0.0f64, |m, (a, b)| m.max((f64::from(*a) - b).abs()));
        assert!(
            worst < 1e-4 * scale,
            "F = {f}: max |ours − exact| = {worst}, scale {scale}"
        );
    }
}

/// Σ_{u,i} c (p − x·y)² + λ(‖X‖² + ‖Y‖²), summed over every pair.
fn brute_force_loss(counts: &PlayCounts, factors: &Factors, config: &WmfConfig) -> f64 {
    let mut played = vec![vec![None; counts.items()]; counts.users()];
    for (u, i, r) in counts.by_user().triplets() {
        played[u as usize][i as usize] = Some(confidence(r, config.alpha, config.epsilon));
    }
    let mut total = 0.0f64;
    for (u, row) in played.iter().enumerate() {
        for (i, c) in row.iter().enumerate() {
            let s: f64 = factors
                .users
                .row(u)
                .iter()
                .zip(factors.items.row(i))
                .map(|(a, b)| f64::from(*a) * f64::from(*b))
                .sum();
            let (c, p) = c.map_or((1.0, 0.0), |c| (f64::from(c), 1.0));
            total += c * (p - s) * (p - s);
        }
    }
    let norms: f64 = factors
        .users
        .iter()
        .chain(factors.items.iter())
        .map(|v| f64::from(*v) * f64::from(*v))
        .sum();
    total + f64::from(config.lambda) * norms
}

#[test]
fn loss_decreases_monotonically_and_matches_a_brute_force_sum() {
    let (counts, _, _) = planted(200, 150, 5, 15, 3, 2);
    let config = WmfConfig {
        factors: 10,
        iterations: 12,
        threads: 2,
        ..WmfConfig::default()
    };
    let mut losses = Vec::new();
    let factors = fit(
        &counts,
        &config,
        &mut |report| losses.push(report.loss.unwrap()),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(losses.len(), 12);
    let initial = loss(
        &counts,
        &initial_factors(200, 150, 10, config.seed),
        &config,
    )
    .unwrap();
    let mut previous = initial;
    for (k, &l) in losses.iter().enumerate() {
        assert!(
            l <= previous * (1.0 + 1e-6),
            "iteration {}: {l} after {previous}",
            k + 1
        );
        previous = l;
    }
    assert!(losses[11] < 0.5 * initial, "{losses:?} from {initial}");
    let exact = brute_force_loss(&counts, &factors, &config);
    let last = losses[11];
    assert!(
        (last - exact).abs() < 1e-4 * exact,
        "reported {last}, brute force {exact}"
    );
}

#[test]
fn recovers_a_planted_structure_far_above_random() {
    let (counts, _, _) = planted(400, 320, 8, 20, 2, 3);
    let split = holdout_listens(&counts, 0.25, 4).unwrap();
    let config = WmfConfig {
        factors: 16,
        iterations: 10,
        threads: 2,
        ..WmfConfig::default()
    };
    let factors = fit(
        &split.train,
        &config,
        &mut no_progress(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let cutoffs = Cutoffs::default();
    let run = |scorer: Scorer| {
        evaluate(
            &split.train,
            &split.heldout,
            &scorer,
            &Candidates::Unseen,
            cutoffs,
            2,
        )
        .unwrap()
    };
    let wmf = run(Scorer::Factors {
        users: factors.users.view(),
        items: factors.items.view(),
    });
    let random = run(Scorer::Random { seed: 1 });
    // 25% of ~22 listens held out per user, 40 items per cluster: the held-out cluster items
    // fit in the top 50 of ~300 candidates, noise listens do not.
    assert!(wmf.recall > 0.7 && wmf.auc > 0.85, "{wmf:?}");
    assert!(
        random.recall < 0.3 && (random.auc - 0.5).abs() < 0.05,
        "{random:?}"
    );
    assert!(wmf.recall > 3.0 * random.recall && wmf.map > 5.0 * random.map);
    assert_eq!(wmf.users, random.users);
}

#[test]
fn result_does_not_depend_on_the_thread_count() {
    // More users than one summation block (512 rows), so block sums run in parallel too.
    let (counts, _, _) = planted(1300, 600, 6, 12, 2, 5);
    let run = |threads| {
        let config = WmfConfig {
            factors: 12,
            iterations: 4,
            threads,
            seed: 9,
            ..WmfConfig::default()
        };
        let mut losses = Vec::new();
        let f = fit(
            &counts,
            &config,
            &mut |r| losses.push(r.loss),
            &AtomicBool::new(false),
        )
        .unwrap();
        (f, losses)
    };
    let one = run(1);
    assert_eq!(run(2), one);
    assert_eq!(run(3), one);
}

#[test]
fn users_and_items_without_plays_get_zero_factors() {
    // User 2 and item 3 have no plays; user 1 only plays item 0.
    let counts =
        PlayCounts::from_triplets(4, 5, [(0, 0, 3.0), (0, 1, 1.0), (1, 0, 2.0), (3, 4, 7.0)])
            .unwrap();
    let config = WmfConfig {
        factors: 3,
        iterations: 5,
        threads: 1,
        ..WmfConfig::default()
    };
    let f = fit(
        &counts,
        &config,
        &mut no_progress(),
        &AtomicBool::new(false),
    )
    .unwrap();
    assert!(f.users.iter().chain(f.items.iter()).all(|v| v.is_finite()));
    assert!(f.users.row(2).iter().all(|&v| v == 0.0));
    assert!(f.items.row(3).iter().all(|&v| v == 0.0));
    // The played pairs score higher than the unplayed ones of the same user.
    let score = |u: usize, i: usize| f.users.row(u).dot(&f.items.row(i));
    assert!(score(0, 0) > score(0, 4) && score(3, 4) > score(3, 0));
}

#[test]
fn an_empty_matrix_and_bad_settings_are_clear_errors() {
    let cancel = AtomicBool::new(false);
    let empty = PlayCounts::from_triplets(10, 10, []).unwrap();
    let err = fit(&empty, &WmfConfig::default(), &mut no_progress(), &cancel).unwrap_err();
    assert!(matches!(
        err,
        WmfError::EmptyMatrix {
            users: 10,
            items: 10
        }
    ));
    assert!(err.to_string().contains("no plays"), "{err}");
    let zero = PlayCounts::from_triplets(0, 0, []).unwrap();
    assert!(fit(&zero, &WmfConfig::default(), &mut no_progress(), &cancel).is_err());

    let counts = random_counts(5, 5, 0.5, 1);
    for bad in [
        WmfConfig {
            factors: 0,
            ..WmfConfig::default()
        },
        WmfConfig {
            epsilon: 0.0,
            ..WmfConfig::default()
        },
        WmfConfig {
            lambda: f32::NAN,
            ..WmfConfig::default()
        },
        WmfConfig {
            cg_steps: 0,
            ..WmfConfig::default()
        },
    ] {
        let err = fit(&counts, &bad, &mut no_progress(), &cancel).unwrap_err();
        assert!(matches!(err, WmfError::Config(_)), "{err}");
    }
    let wrong = initial_factors(5, 4, 40, 0);
    let err = fit_from(
        &counts,
        wrong,
        &WmfConfig::default(),
        &mut no_progress(),
        &cancel,
    )
    .unwrap_err();
    assert!(
        matches!(err, WmfError::InitialShape { which: "item", .. }),
        "{err}"
    );
}

#[test]
fn cancelling_stops_with_an_error() {
    let counts = random_counts(20, 20, 0.3, 2);
    let cancel = AtomicBool::new(false);
    let mut seen = 0;
    let err = fit(
        &counts,
        &WmfConfig {
            iterations: 10,
            threads: 1,
            ..WmfConfig::default()
        },
        &mut |report| {
            seen = report.iteration;
            if report.iteration == 2 {
                cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            }
        },
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(err, WmfError::Cancelled));
    assert_eq!(seen, 2);
}

/// One-hot cluster vectors: user u and item i score 1 when in the same cluster, else 0.
fn oracle(clusters: &[usize], k: usize) -> Array2<f32> {
    Array2::from_shape_fn((clusters.len(), k), |(r, c)| f32::from(clusters[r] == c))
}

#[test]
fn a_perfect_ranking_scores_one_and_a_random_one_half() {
    // Each user listens to 10 of the 20 items of its cluster; hold out the other 10 in full,
    // so the held-out items are exactly the unseen items of the user's cluster.
    let clusters = 5;
    let items = 100;
    let users = 2000;
    let item_cluster: Vec<usize> = (0..items).map(|i| i % clusters).collect();
    let user_cluster: Vec<usize> = (0..users).map(|u| u % clusters).collect();
    let mut train = Vec::new();
    let mut held = Vec::new();
    let mut rng = rng(7);
    for u in 0..users {
        let own: Vec<u32> = (0..items as u32)
            .filter(|&i| item_cluster[i as usize] == user_cluster[u])
            .collect();
        let chosen: Vec<usize> = rand::seq::index::sample(&mut rng, own.len(), 10).into_vec();
        for (k, &i) in own.iter().enumerate() {
            let target = if chosen.contains(&k) {
                &mut train
            } else {
                &mut held
            };
            target.push((u as u32, i, 1.0));
        }
    }
    let train = PlayCounts::from_triplets(users, items, train).unwrap();
    let held = PlayCounts::from_triplets(users, items, held).unwrap();
    let (user_f, item_f) = (
        oracle(&user_cluster, clusters),
        oracle(&item_cluster, clusters),
    );
    let perfect = Scorer::Factors {
        users: user_f.view(),
        items: item_f.view(),
    };
    let m = evaluate(
        &train,
        &held,
        &perfect,
        &Candidates::Unseen,
        Cutoffs::default(),
        2,
    )
    .unwrap();
    assert_eq!(
        (m.auc, m.map, m.recall, m.ndcg, m.users),
        (1.0, 1.0, 1.0, 1.0, users)
    );

    let m = evaluate(
        &train,
        &held,
        &Scorer::Random { seed: 3 },
        &Candidates::Unseen,
        Cutoffs::default(),
        2,
    )
    .unwrap();
    // 2000 users, each AUC over 10 × 80 pairs: the mean of a random ranking is 0.5 ± ~0.003.
    assert!((m.auc - 0.5).abs() < 0.01, "{m:?}");
    // Recall@50 of a random ranking of 90 candidates with 10 relevant: 50/90.
    assert!((m.recall - 50.0 / 90.0).abs() < 0.02, "{m:?}");
}

#[test]
fn cold_start_ranks_only_the_held_out_items() {
    // Every user plays all 40 items of its cluster, so a cluster's cold items are all held out.
    let (counts, user_cluster, item_cluster) = planted(300, 200, 5, 40, 0, 11);
    let (split, cold) = holdout_items(&counts, 0.2, 12).unwrap();
    assert_eq!(cold.len(), 40);
    // WMF never saw the cold items: their factors are zero and every cold score ties (AUC ½).
    let config = WmfConfig {
        factors: 10,
        iterations: 5,
        threads: 2,
        ..WmfConfig::default()
    };
    let f = fit(
        &split.train,
        &config,
        &mut no_progress(),
        &AtomicBool::new(false),
    )
    .unwrap();
    let only = Candidates::Only(&cold);
    let cutoffs = Cutoffs::default();
    let wmf = Scorer::Factors {
        users: f.users.view(),
        items: f.items.view(),
    };
    let m = evaluate(&split.train, &split.heldout, &wmf, &only, cutoffs, 2).unwrap();
    assert_eq!(m.auc, 0.5);
    // Item factors that know the clusters (what a perfect audio model would predict) rank
    // every user's cold listens first among the cold items.
    let (user_f, item_f) = (oracle(&user_cluster, 5), oracle(&item_cluster, 5));
    let predicted = Scorer::Factors {
        users: user_f.view(),
        items: item_f.view(),
    };
    let m = evaluate(&split.train, &split.heldout, &predicted, &only, cutoffs, 2).unwrap();
    assert_eq!((m.auc, m.map, m.ndcg), (1.0, 1.0, 1.0));
    // Mismatched shapes are refused.
    let short = Array2::<f32>::zeros((3, 5));
    let bad = Scorer::Factors {
        users: short.view(),
        items: item_f.view(),
    };
    assert!(matches!(
        evaluate(&split.train, &split.heldout, &bad, &only, cutoffs, 1),
        Err(EvalError::FactorShape { which: "user", .. })
    ));
}
