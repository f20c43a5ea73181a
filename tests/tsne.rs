//! t-SNE: affinities, gradient and trustworthiness against brute-force and hand-worked
//! references; maps of planted clusters; determinism; the `deepcuts tsne` command on a
//! fabricated project folder.

#![allow(
    clippy::unwrap_used,
    reason = "tests fail loudly on any error; the inputs are fabricated here"
)]
#![allow(
    clippy::needless_range_loop,
    reason = "the brute-force references index matrices by i and j, as the formulas do"
)]

use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;

use deepcuts::analysis::tsne::affinities::{
    conditional_probabilities, symmetric_joint, JointAffinities,
};
use deepcuts::analysis::tsne::gradient::Gradient;
use deepcuts::analysis::tsne::neighbours::nearest_neighbours;
use deepcuts::analysis::tsne::trustworthiness::trustworthiness;
use deepcuts::analysis::tsne::{embed, TsneError, TsneParams};
use ndarray::{array, Array2};

/// A small deterministic pseudo-random generator (independent of the crate's).
struct Lcg(u64);

impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let u = 1.0 - self.uniform();
        let v = self.uniform();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

fn random_matrix(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = Lcg(seed);
    Array2::from_shape_fn((rows, cols), |_| rng.normal() as f32)
}

/// `clusters` Gaussian clusters of `per_cluster` points in `dims` dimensions, centres 20
/// apart on the axes, unit spread; with the label of every row.
fn planted_clusters(clusters: usize, per_cluster: usize, dims: usize) -> (Array2<f32>, Vec<usize>) {
    let mut rng = Lcg(7);
    let rows = clusters * per_cluster;
    let labels: Vec<usize> = (0..rows).map(|r| r % clusters).collect();
    let data = Array2::from_shape_fn((rows, dims), |(r, c)| {
        let centre = if c == labels[r] % dims { 20.0 } else { 0.0 };
        (centre + rng.normal()) as f32
    });
    (data, labels)
}

fn no_cancel() -> AtomicBool {
    AtomicBool::new(false)
}

fn quick_params(perplexity: f64, iterations: usize, threads: usize) -> TsneParams {
    TsneParams {
        perplexity,
        iterations,
        threads,
        ..TsneParams::default()
    }
}

fn squared_distance(data: &Array2<f32>, a: usize, b: usize) -> f64 {
    data.row(a)
        .iter()
        .zip(data.row(b))
        .map(|(x, y)| (f64::from(*x) - f64::from(*y)).powi(2))
        .sum()
}

#[test]
fn planted_clusters_stay_together_on_the_map() {
    let (data, labels) = planted_clusters(5, 60, 10);
    let map = embed(
        data.view(),
        &quick_params(15.0, 500, 2),
        &mut |_| {},
        &no_cancel(),
    )
    .unwrap();
    assert_eq!(map.dim(), (300, 2));
    let t = trustworthiness(data.view(), map.view(), 10, &no_cancel()).unwrap();
    assert!(t >= 0.95, "trustworthiness {t}");
    let centroids: Vec<[f64; 2]> = (0..5)
        .map(|c| {
            let rows: Vec<usize> = (0..300).filter(|&r| labels[r] == c).collect();
            let n = rows.len() as f64;
            [
                rows.iter().map(|&r| f64::from(map[[r, 0]])).sum::<f64>() / n,
                rows.iter().map(|&r| f64::from(map[[r, 1]])).sum::<f64>() / n,
            ]
        })
        .collect();
    for (r, &label) in labels.iter().enumerate() {
        let d = |c: &[f64; 2]| (f64::from(map[[r, 0]]) - c[0]).hypot(f64::from(map[[r, 1]]) - c[1]);
        let own = d(&centroids[label]);
        for (c, centroid) in centroids.iter().enumerate() {
            assert!(
                c == label || own < d(centroid),
                "point {r} is nearer cluster {c}"
            );
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_map_on_any_thread_count() {
    let data = random_matrix(400, 6, 3);
    let run = |seed, threads| {
        let params = TsneParams {
            seed,
            ..quick_params(10.0, 120, threads)
        };
        embed(data.view(), &params, &mut |_| {}, &no_cancel()).unwrap()
    };
    let first = run(1, 2);
    assert_eq!(first, run(1, 2));
    assert_eq!(first, run(1, 1));
    assert_ne!(first, run(2, 2));
}

#[test]
fn cancelling_stops_with_a_typed_error_and_bad_input_is_refused() {
    let data = random_matrix(100, 4, 5);
    let cancel = AtomicBool::new(true);
    let err = embed(
        data.view(),
        &quick_params(10.0, 50, 1),
        &mut |_| {},
        &cancel,
    )
    .unwrap_err();
    assert!(matches!(err, TsneError::Cancelled), "{err}");
    let mut bad = data.clone();
    bad[[7, 2]] = f32::NAN;
    let err = embed(
        bad.view(),
        &quick_params(10.0, 50, 1),
        &mut |_| {},
        &no_cancel(),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TsneError::NotFinite {
                row: 7,
                column: 2,
                ..
            }
        ),
        "{err}"
    );
    let err = embed(
        data.view(),
        &quick_params(40.0, 50, 1),
        &mut |_| {},
        &no_cancel(),
    )
    .unwrap_err();
    assert!(matches!(err, TsneError::PerplexityTooLarge { .. }), "{err}");
}

/// Brute force: all other points, σ by bisection on log σ, perplexity as 2^(entropy in bits).
fn brute_force_conditional(data: &Array2<f32>, i: usize, perplexity: f64) -> Vec<f64> {
    let n = data.nrows();
    let distribution = |log_sigma: f64| -> Vec<f64> {
        let two_sigma2 = 2.0 * (2.0 * log_sigma).exp();
        let weights: Vec<f64> = (0..n)
            .map(|j| {
                if j == i {
                    0.0
                } else {
                    (-squared_distance(data, i, j) / two_sigma2).exp()
                }
            })
            .collect();
        let sum: f64 = weights.iter().sum();
        weights.iter().map(|w| w / sum).collect()
    };
    let perplexity_of = |p: &[f64]| {
        let bits: f64 = p.iter().filter(|&&v| v > 0.0).map(|v| -v * v.log2()).sum();
        2f64.powf(bits)
    };
    let (mut low, mut high) = (-20.0f64, 20.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (low + high);
        if perplexity_of(&distribution(mid)) > perplexity {
            high = mid;
        } else {
            low = mid;
        }
    }
    distribution(0.5 * (low + high))
}

#[test]
fn affinities_match_a_brute_force_perplexity_search() {
    let data = random_matrix(40, 3, 11);
    let n = data.nrows();
    let neighbours =
        nearest_neighbours(data.view(), n - 1, &rayon_pool(), &mut |_| {}, &no_cancel()).unwrap();
    // Neighbours: every other point, by ascending distance.
    for i in 0..n {
        let (indices, squared) = neighbours.row(i);
        let mut expected: Vec<usize> = (0..n).filter(|&j| j != i).collect();
        expected.sort_by(|&a, &b| {
            squared_distance(&data, i, a).total_cmp(&squared_distance(&data, i, b))
        });
        assert_eq!(
            indices.iter().map(|&j| j as usize).collect::<Vec<_>>(),
            expected
        );
        for (&j, &d) in indices.iter().zip(squared) {
            assert!((f64::from(d) - squared_distance(&data, i, j as usize)).abs() < 1e-4);
        }
    }
    let perplexity = 8.0;
    let conditional = conditional_probabilities(&neighbours, perplexity);
    let mut dense = vec![vec![0.0f64; n]; n];
    for i in 0..n {
        let (indices, _) = neighbours.row(i);
        let row = &conditional[i * (n - 1)..(i + 1) * (n - 1)];
        assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let reference = brute_force_conditional(&data, i, perplexity);
        for (&j, &p) in indices.iter().zip(row) {
            assert!(
                (p - reference[j as usize]).abs() < 1e-6,
                "p({j}|{i}) {p} vs {}",
                reference[j as usize]
            );
            dense[i][j as usize] = p;
        }
        let entropy: f64 = row.iter().filter(|&&p| p > 0.0).map(|p| -p * p.ln()).sum();
        assert!((entropy.exp() - perplexity).abs() < 1e-6);
    }
    // The joint distribution: (p_j|i + p_i|j) / 2N, symmetric, summing to 1.
    let joint = symmetric_joint(&neighbours, &conditional);
    let mut total = 0.0;
    for i in 0..n {
        let (columns, values) = joint.row(i);
        assert!(columns.windows(2).all(|w| w[0] < w[1]));
        for (&j, &p) in columns.iter().zip(values) {
            let j = j as usize;
            assert!((p - (dense[i][j] + dense[j][i]) / (2.0 * n as f64)).abs() < 1e-15);
            total += p;
        }
    }
    assert!((total - 1.0).abs() < 1e-12);
}

fn rayon_pool() -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap()
}

/// Relative errors of Z and of the gradient that `evaluator` computes for the map `y`, against
/// the exact O(N²) sums: w_ij = 1 / (1 + d²), Z = Σ_{i≠j} w, g_i = Σ_j (α p_ij − w_ij / Z)
/// w_ij (y_i − y_j).
fn gradient_errors(
    evaluator: &mut Gradient,
    y: &[f64],
    joint: &JointAffinities,
    exaggeration: f64,
) -> (f64, f64) {
    let n = joint.points();
    let mut gradient = vec![0.0; 2 * n];
    let z = rayon_pool().install(|| evaluator.compute(y, joint, exaggeration, &mut gradient));
    let mut p = vec![vec![0.0; n]; n];
    for i in 0..n {
        let (columns, values) = joint.row(i);
        for (&j, &v) in columns.iter().zip(values) {
            p[i][j as usize] = v;
        }
    }
    let w = |i: usize, j: usize| {
        let (a, b) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
        1.0 / (1.0 + a * a + b * b)
    };
    let exact_z: f64 = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| w(i, j))
        .sum();
    let (mut error, mut norm) = (0.0f64, 0.0f64);
    for i in 0..n {
        for axis in 0..2 {
            let exact: f64 = (0..n)
                .filter(|&j| j != i)
                .map(|j| {
                    (exaggeration * p[i][j] - w(i, j) / exact_z)
                        * w(i, j)
                        * (y[2 * i + axis] - y[2 * j + axis])
                })
                .sum();
            error += (gradient[2 * i + axis] - exact).powi(2);
            norm += exact * exact;
        }
    }
    ((z - exact_z).abs() / exact_z, (error / norm).sqrt())
}

#[test]
fn the_interpolated_gradient_matches_the_exact_one() {
    let data = random_matrix(300, 5, 13);
    let n = data.nrows();
    let neighbours =
        nearest_neighbours(data.view(), 30, &rayon_pool(), &mut |_| {}, &no_cancel()).unwrap();
    let joint = symmetric_joint(&neighbours, &conditional_probabilities(&neighbours, 10.0));
    // Four clusters `spread` units apart: as wide as a finished map (boxes of one unit), then
    // as wide as one mid-optimisation (50 narrower boxes), then narrower still (the same grid
    // with a new spacing), all through one evaluator, which keeps the kernel's spectrum while
    // the grid and the spacing are unchanged.
    let mut evaluator = Gradient::new();
    for (spread, z_limit, gradient_limit) in
        [(40.0, 2e-2, 4e-2), (8.0, 1e-2, 1e-2), (6.0, 1e-2, 1e-2)]
    {
        let mut rng = Lcg(17);
        let y: Vec<f64> = (0..2 * n)
            .map(|k| spread * ((k / 2 % 4) as f64 - 1.5) * ((k % 2) as f64) + 3.0 * rng.normal())
            .collect();
        let (z_error, gradient_error) = gradient_errors(&mut evaluator, &y, &joint, 4.0);
        eprintln!("spread {spread}: Z error {z_error:.5}, gradient error {gradient_error:.5}");
        assert!(
            z_error < z_limit,
            "spread {spread}: relative Z error {z_error}"
        );
        assert!(
            gradient_error < gradient_limit,
            "spread {spread}: relative gradient error {gradient_error}"
        );
    }
}

#[test]
fn trustworthiness_of_a_hand_worked_example() {
    // Input on a line at 0, 1, 3, 7. Input ranks (1 = nearest): from 0: 1, 3, 7 → points 1, 2, 3;
    // from 1: 0, 2, 3; from 2: 1, 0, 3; from 3: 2, 1, 0.
    let data = array![[0.0f32], [1.0], [3.0], [7.0]];
    // The map puts them at 0, 2.5, 4.5 and 1 on a line: map nearest neighbours (k = 1) are
    // 0 → 3 (input rank 3), 1 → 3 (rank 3), 2 → 1 (rank 1), 3 → 0 (rank 3).
    let map = array![[0.0f32, 0.0], [2.5, 0.0], [4.5, 0.0], [1.0, 0.0]];
    // Penalties (rank − k) 2 + 2 + 0 + 2 = 6; T = 1 − 2 / (n k (2n − 3k − 1)) · 6
    // = 1 − 2 / (4 · 1 · 4) · 6 = 0.25.
    let t = trustworthiness(data.view(), map.view(), 1, &no_cancel()).unwrap();
    assert!((t - 0.25).abs() < 1e-12, "{t}");
    // A map that keeps the order is perfect.
    let faithful = array![[0.0f32, 5.0], [1.0, 5.0], [3.0, 5.0], [7.0, 5.0]];
    assert_eq!(
        trustworthiness(data.view(), faithful.view(), 1, &no_cancel()).unwrap(),
        1.0
    );
    assert!(trustworthiness(data.view(), map.view(), 2, &no_cancel()).is_err());
}

fn deepcuts(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .args(args)
        .output()
        .expect("the binary runs")
}

/// tracks.tsv with `tracks` rows, predict/factors.npy (3 clusters, `missing` rows zero) and
/// predict/report.json listing `missing`, as `deepcuts predict` leaves them.
fn fabricate_project(dir: &Path, tracks: usize, missing: &[usize]) {
    let mut tsv = String::from("id\tsource\tartist\ttitle\talbum\tduration\ttags\n");
    for i in 0..tracks {
        tsv.push_str(&format!(
            "{i}\t/music/{i}.ogg\tArtist\tTitle {i}\tAlbum\t30.000\t\n"
        ));
    }
    std::fs::write(dir.join("tracks.tsv"), tsv).unwrap();
    let mut rng = Lcg(23);
    let factors = Array2::from_shape_fn((tracks, 8), |(r, c)| {
        if missing.contains(&r) {
            0.0
        } else {
            (if c == r % 3 { 10.0 } else { 0.0 } + rng.normal()) as f32
        }
    });
    deepcuts::io::npy::write(&dir.join("predict/factors.npy"), &factors).unwrap();
    let skipped: Vec<String> = missing
        .iter()
        .map(|t| format!("{{\"track\": {t}, \"reason\": \"no features\"}}"))
        .collect();
    std::fs::write(
        dir.join("predict/report.json"),
        format!(
            "{{\"tracks\": {tracks}, \"skipped\": [{}]}}",
            skipped.join(", ")
        ),
    )
    .unwrap();
}

#[test]
fn the_tsne_command_maps_a_project_marks_missing_tracks_and_reuses_the_map() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let project = root.to_str().unwrap();
    std::fs::write(root.join("tracks.tsv"), "id\tsource\n0\t/a.ogg\n").unwrap();
    let out = deepcuts(&["tsne", project]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("deepcuts predict"),
        "{out:?}"
    );

    fabricate_project(root, 60, &[5, 17]);
    let args = [
        "tsne",
        project,
        "--perplexity",
        "5",
        "--iters",
        "200",
        "--threads",
        "2",
    ];
    let out = deepcuts(&args);
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("58 of 60 tracks mapped") && stdout.contains("5, 17"),
        "{stdout}"
    );
    let map: Array2<f32> = deepcuts::io::npy::read(&root.join("maps/tsne.npy")).unwrap();
    assert_eq!(map.dim(), (60, 2));
    for r in 0..60 {
        let nan = map.row(r).iter().all(|v| v.is_nan());
        assert_eq!(nan, r == 5 || r == 17, "row {r}");
        assert!(nan || map.row(r).iter().all(|v| v.is_finite()));
    }
    let csv = std::fs::read_to_string(root.join("maps/tsne.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 61);
    assert_eq!(lines[0], "id,x,y");
    assert_eq!(lines[6], "5,,");
    let fields: Vec<f32> = lines[1]
        .split(',')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(fields, map.row(0).to_vec());

    // Same input and parameters: reused, file untouched.
    let modified = std::fs::metadata(root.join("maps/tsne.npy"))
        .unwrap()
        .modified()
        .unwrap();
    let out = deepcuts(&args);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("reused"),
        "{out:?}"
    );
    assert_eq!(
        std::fs::metadata(root.join("maps/tsne.npy"))
            .unwrap()
            .modified()
            .unwrap(),
        modified
    );
    // New predictions (one more track without features): computed again.
    std::thread::sleep(std::time::Duration::from_millis(20));
    fabricate_project(root, 60, &[5, 17, 30]);
    let out = deepcuts(&args);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("written") && stdout.contains("57 of 60"),
        "{stdout}"
    );

    // --input/--out maps any matrix; NaN is refused naming the file, and nothing is written.
    let input = root.join("x.npy");
    let mut x = random_matrix(50, 4, 29);
    deepcuts::io::npy::write(&input, &x).unwrap();
    let output = root.join("y.npy");
    let out = deepcuts(&[
        "tsne",
        "--input",
        input.to_str().unwrap(),
        "--out",
        output.to_str().unwrap(),
        "--perplexity",
        "5",
        "--iters",
        "100",
    ]);
    assert!(out.status.success(), "{out:?}");
    let y: Array2<f32> = deepcuts::io::npy::read(&output).unwrap();
    assert_eq!(y.dim(), (50, 2));
    x[[3, 1]] = f32::NAN;
    deepcuts::io::npy::write(&input, &x).unwrap();
    std::fs::remove_file(&output).unwrap();
    let out = deepcuts(&[
        "tsne",
        "--input",
        input.to_str().unwrap(),
        "--out",
        output.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("x.npy"),
        "{out:?}"
    );
    assert!(!output.exists());
}
