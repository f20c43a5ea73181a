//! The content baseline (bag-of-words MFCC / mel statistics → ridge regression to the CF
//! factors): MFCCs against librosa (tests/data/baseline/reference.py), k-means on planted
//! clusters, ridge regression against a brute-force solve and a planted linear map, and the
//! whole fit on synthetic excerpts whose targets depend on which mel bands carry energy.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::path::Path;
use std::sync::atomic::AtomicBool;

use deepcuts::baseline::codebook::kmeans;
use deepcuts::baseline::mfcc::FrameFeatures;
use deepcuts::baseline::regression::{mse, select_ridge, RidgeProblem};
use deepcuts::baseline::{
    fit, BagOfWordsConfig, BaselineConfig, BaselineError, BaselineModel, FeatureConfig,
};
use deepcuts::dsp::mel::{EXCERPT_FRAMES, N_MELS};
use deepcuts::io::npy;
use ndarray::{s, Array1, Array2, Axis};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

fn read(path: &str) -> Array2<f32> {
    npy::read_finite_f32(Path::new(path)).unwrap()
}

/// A standard normal draw (Box-Muller), so the tests need no distribution crate.
fn normal(rng: &mut StdRng) -> f32 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    let v: f64 = rng.random();
    ((-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()) as f32
}

/// Largest absolute difference, and the largest reference magnitude, of two arrays.
fn worst(ours: ndarray::ArrayView2<f32>, reference: ndarray::ArrayView2<f32>) -> (f32, f32) {
    assert_eq!(ours.shape(), reference.shape());
    let diff = ours
        .iter()
        .zip(reference.iter())
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    let scale = reference.iter().map(|v| v.abs()).fold(0.0, f32::max);
    (diff, scale)
}

#[test]
fn mfcc_matches_librosa_on_the_sine() {
    let logmel = read("tests/data/mel/sine440.npy");
    let reference = read("tests/data/baseline/sine440_mfcc.npy");
    let ours = FrameFeatures::new(N_MELS, 20, 0)
        .unwrap()
        .compute(logmel.view())
        .unwrap();
    let (diff, scale) = worst(ours.view(), reference.view());
    println!("sine440 MFCC: max |diff| {diff} (max |value| {scale})");
    assert!(diff <= 1e-5 * scale, "{diff} vs {scale}");
}

#[test]
fn mfcc_and_deltas_match_librosa_on_the_chirp() {
    let logmel = read("tests/data/mel/chirp.npy");
    let reference = read("tests/data/baseline/chirp_mfcc_deltas.npy");
    let ours = FrameFeatures::new(N_MELS, 20, 2)
        .unwrap()
        .compute(logmel.view())
        .unwrap();
    assert_eq!(ours.shape(), &[EXCERPT_FRAMES, 60]);
    for (block, name) in ["mfcc", "delta", "delta-delta"].iter().enumerate() {
        let columns = s![.., block * 20..(block + 1) * 20];
        let (diff, scale) = worst(ours.slice(columns), reference.slice(columns));
        println!("chirp {name}: max |diff| {diff} (max |value| {scale})");
        // The MFCCs' rounding (~1e-5 of ~1000) carries into the deltas.
        assert!(diff <= 1e-5 * 1100.0, "{name}: {diff} vs {scale}");
    }
}

#[test]
fn kmeans_recovers_well_separated_planted_clusters() {
    let mut rng = StdRng::seed_from_u64(11);
    let (clusters, per_cluster, dim) = (6, 300, 5);
    // Centres on distinct corners of a big cube, so every pair is at least 40 apart.
    let centres = Array2::from_shape_fn((clusters, dim), |(c, j)| {
        if ((c + 1) >> (j % 3)) & 1 == 1 {
            20.0
        } else {
            -20.0
        }
    });
    let mut order: Vec<usize> = (0..clusters * per_cluster).collect();
    order.shuffle(&mut rng);
    let truth: Vec<usize> = order.iter().map(|&i| i / per_cluster).collect();
    let points = Array2::from_shape_fn((truth.len(), dim), |(i, j)| {
        centres[[truth[i], j]] + 0.5 * normal(&mut rng)
    });
    for seed in 0..4 {
        let cancel = AtomicBool::new(false);
        let fit = kmeans(points.view(), clusters, 50, seed, &mut |_, _| {}, &cancel).unwrap();
        assert!(fit.converged, "seed {seed}");
        let labels = fit.codebook.assign(points.view());
        // Every planted cluster lands on one codeword of its own.
        let mut label_of = vec![None; clusters];
        for (&t, &l) in truth.iter().zip(&labels) {
            assert_eq!(
                *label_of[t].get_or_insert(l),
                l,
                "seed {seed}: cluster {t} split"
            );
        }
        let mut used: Vec<u32> = label_of.iter().map(|l| l.unwrap()).collect();
        used.sort_unstable();
        used.dedup();
        assert_eq!(used.len(), clusters, "seed {seed}: clusters merged");
        // And its centroid is the cluster's centre, up to the noise of 300 points.
        for (t, l) in label_of.iter().enumerate() {
            let centroid = fit.codebook.centroids().row(l.unwrap() as usize).to_owned();
            let error = (&centroid - &centres.row(t))
                .mapv(f32::abs)
                .fold(0.0, |a: f32, &b| a.max(b));
            assert!(error < 0.15, "seed {seed}: centre {t} off by {error}");
        }
    }
}

/// Solves the ridge problem in original units by Gauss-Jordan elimination on the augmented
/// normal equations [XᵀX/n + λS², Xᵀ1/n; 1ᵀX/n, 1] [W; b] = [XᵀY/n; 1ᵀY/n], S the feature
/// standard deviations (the penalty on standardised weights, written in original units).
fn brute_force_ridge(x: &Array2<f64>, y: &Array2<f64>, lambda: f64) -> (Array2<f64>, Array1<f64>) {
    let (n, d, f) = (x.nrows() as f64, x.ncols(), y.ncols());
    let mut a = Array2::<f64>::zeros((d + 1, d + 1 + f));
    let std = x.std_axis(Axis(0), 0.0);
    for i in 0..d {
        for j in 0..d {
            a[[i, j]] = x.column(i).dot(&x.column(j)) / n;
        }
        a[[i, i]] += lambda * std[i] * std[i];
        a[[i, d]] = x.column(i).sum() / n;
        a[[d, i]] = a[[i, d]];
        for k in 0..f {
            a[[i, d + 1 + k]] = x.column(i).dot(&y.column(k)) / n;
        }
    }
    a[[d, d]] = 1.0;
    for k in 0..f {
        a[[d, d + 1 + k]] = y.column(k).sum() / n;
    }
    for col in 0..=d {
        let pivot = (col..=d)
            .max_by(|&p, &q| a[[p, col]].abs().total_cmp(&a[[q, col]].abs()))
            .unwrap();
        for j in 0..a.ncols() {
            a.swap([col, j], [pivot, j]);
        }
        let p = a[[col, col]];
        a.row_mut(col).mapv_inplace(|v| v / p);
        for r in 0..=d {
            if r != col {
                let factor = a[[r, col]];
                let pivot_row = a.row(col).to_owned();
                a.row_mut(r).scaled_add(-factor, &pivot_row);
            }
        }
    }
    (
        a.slice(s![..d, d + 1..]).to_owned(),
        a.slice(s![d, d + 1..]).to_owned(),
    )
}

#[test]
fn ridge_matches_a_brute_force_solve() {
    let mut rng = StdRng::seed_from_u64(5);
    let (n, d, f) = (40, 6, 3);
    let scales = [1.0, 10.0, 0.1, 3.0, 50.0, 0.5];
    let x = Array2::from_shape_fn((n, d), |(_, j)| scales[j] * normal(&mut rng) + j as f32);
    let y = Array2::from_shape_fn((n, f), |_| normal(&mut rng));
    let problem = RidgeProblem::new(x.view(), y.view()).unwrap();
    for lambda in [0.0, 0.01, 0.3, 10.0] {
        let map = problem.solve(lambda).unwrap();
        let (w, b) = brute_force_ridge(&x.mapv(f64::from), &y.mapv(f64::from), lambda);
        for ((i, k), &want) in w.indexed_iter() {
            let got = map.weights[[i, k]] as f64;
            let tol = 1e-4 * (want.abs() + 1.0 / scales[i] as f64);
            assert!(
                (got - want).abs() < tol,
                "λ {lambda}: w[{i},{k}] {got} vs {want}"
            );
        }
        for (k, &want) in b.iter().enumerate() {
            assert!(
                (map.bias[k] as f64 - want).abs() < 1e-3,
                "λ {lambda}: b[{k}]"
            );
        }
    }
}

#[test]
fn ridge_recovers_a_planted_linear_map_from_noisy_data() {
    let mut rng = StdRng::seed_from_u64(9);
    let (n_train, n_valid, d, f, noise) = (2000, 500, 8, 4, 0.05f32);
    let truth_w = Array2::from_shape_fn((d, f), |_| normal(&mut rng));
    let truth_b = Array1::from_shape_fn(f, |_| normal(&mut rng));
    let mut sample = |n: usize| {
        let x = Array2::from_shape_fn((n, d), |_| normal(&mut rng));
        let noise = Array2::from_shape_fn((n, f), |_| noise * normal(&mut rng));
        let y = x.dot(&truth_w) + &truth_b + noise;
        (x, y)
    };
    let (train_x, train_y) = sample(n_train);
    let (valid_x, valid_y) = sample(n_valid);
    let lambdas = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0];
    let cancel = AtomicBool::new(false);
    let selection = select_ridge(
        train_x.view(),
        train_y.view(),
        valid_x.view(),
        valid_y.view(),
        &lambdas,
        &mut |_, _| {},
        &cancel,
    )
    .unwrap();
    let w_error = (&selection.map.weights - &truth_w)
        .mapv(f32::abs)
        .fold(0.0f32, |a, &b| a.max(b));
    let b_error = (&selection.map.bias - &truth_b)
        .mapv(f32::abs)
        .fold(0.0f32, |a, &b| a.max(b));
    println!(
        "λ {}: |ΔW| {w_error}, |Δb| {b_error}, valid MSE {}",
        selection.lambda, selection.valid_mse
    );
    assert!(w_error < 0.01 && b_error < 0.01, "{w_error} {b_error}");
    assert!(selection.lambda <= 1e-2, "λ {}", selection.lambda);
    // The validation error is the noise variance, and the path shows over-regularisation.
    let noise_var = (noise * noise) as f64;
    assert!(
        (selection.valid_mse / noise_var - 1.0).abs() < 0.15,
        "{}",
        selection.valid_mse
    );
    assert_eq!(selection.scores.len(), lambdas.len());
    assert!(selection.scores.last().unwrap().valid_mse > 10.0 * selection.valid_mse);
}

/// Synthetic excerpts: track i belongs to class `i % 8`, whose 16 mel bands carry energy
/// (+40 dB over a uniform −65…−55 dB noise floor, in a random 70 % of the frames); its target is the
/// class's prototype plus noise, scaled to unit norm.
struct World {
    targets: Array2<f32>,
}

const CLASSES: usize = 8;
const FACTORS: usize = 10;
const BAD_READ: usize = 5;
const BAD_VALUE: usize = 330;

impl World {
    fn new(tracks: usize) -> Self {
        let mut rng = StdRng::seed_from_u64(1);
        let prototypes = Array2::from_shape_fn((CLASSES, FACTORS), |_| normal(&mut rng));
        let mut targets = Array2::from_shape_fn((tracks, FACTORS), |(i, f)| {
            prototypes[[i % CLASSES, f]] + 0.3 * normal(&mut rng)
        });
        for mut row in targets.outer_iter_mut() {
            let norm = row.dot(&row).sqrt();
            row /= norm;
        }
        Self { targets }
    }

    fn excerpt(track: usize, out: &mut [f32]) -> Result<(), String> {
        if track == BAD_READ {
            return Err("track5.mp3: no suitable format reader found".into());
        }
        let mut rng = StdRng::seed_from_u64(1000 + track as u64);
        let band = (track % CLASSES) * (N_MELS / CLASSES);
        for (t, frame) in out.chunks_exact_mut(N_MELS).enumerate() {
            let on = rng.random_bool(0.7);
            for (m, v) in frame.iter_mut().enumerate() {
                *v = rng.random_range(-65.0..-55.0);
                if on && (band..band + N_MELS / CLASSES).contains(&m) {
                    *v += 40.0;
                }
            }
            if track == BAD_VALUE && t == 17 {
                frame[3] = f32::NAN;
            }
        }
        Ok(())
    }
}

fn small_bag_of_words() -> BaselineConfig {
    BaselineConfig {
        features: FeatureConfig::BagOfWords(BagOfWordsConfig {
            codebook_size: 32,
            frames_per_track: 50,
            kmeans_iterations: 20,
            ..BagOfWordsConfig::default()
        }),
        ..BaselineConfig::default()
    }
}

#[test]
fn end_to_end_the_baseline_beats_the_mean_on_held_out_tracks() {
    let world = World::new(400);
    let train: Vec<usize> = (0..240).collect();
    let valid: Vec<usize> = (240..320).collect();
    let test: Vec<usize> = (320..400).collect();
    let test_targets = world.targets.select(Axis(0), &test);
    let cancel = AtomicBool::new(false);
    let source = World::excerpt;
    for config in [
        small_bag_of_words(),
        BaselineConfig {
            features: FeatureConfig::MelStatistics,
            ..BaselineConfig::default()
        },
    ] {
        let mut stages = Vec::new();
        let model = fit(
            &source,
            &train,
            &valid,
            &world.targets,
            &config,
            &mut |stage, done, total| {
                if done == total {
                    stages.push(stage)
                }
            },
            &cancel,
        )
        .unwrap();
        let report = &model.report;
        assert_eq!(report.skipped.len(), 1);
        assert_eq!(report.skipped[0].track, BAD_READ);
        assert!(report.skipped[0].reason.contains("track5.mp3"));
        assert_eq!((report.train_tracks, report.valid_tracks), (239, 80));
        assert!(
            report.valid_mse < 0.5 * report.valid_mse_of_mean,
            "{report:?}"
        );
        assert!(!stages.is_empty());

        let prediction = model
            .predict(&source, &test, &mut |_, _| {}, &cancel)
            .unwrap();
        assert_eq!(prediction.factors.shape(), &[test.len(), FACTORS]);
        assert_eq!(prediction.skipped.len(), 1);
        assert_eq!(prediction.skipped[0].track, BAD_VALUE);
        assert!(prediction.skipped[0].reason.contains("frame 17, band 3"));
        let bad_row = BAD_VALUE - test[0];
        assert_eq!(prediction.factors.row(bad_row), model.target_mean);

        let ours = mse(prediction.factors.view(), test_targets.view());
        let mean = Array2::from_shape_fn(test_targets.raw_dim(), |(_, f)| model.target_mean[f]);
        let of_mean = mse(mean.view(), test_targets.view());
        println!(
            "{:?}: test MSE {ours:.4} vs {of_mean:.4} predicting the mean; λ {}",
            config.features, report.lambda
        );
        assert!(ours < 0.4 * of_mean, "{ours} vs {of_mean}");

        // Saved and loaded, the model predicts exactly the same.
        let dir = tempfile::tempdir().unwrap();
        model.save(dir.path()).unwrap();
        let loaded = BaselineModel::load(dir.path()).unwrap();
        let again = loaded
            .predict(&source, &test, &mut |_, _| {}, &cancel)
            .unwrap();
        assert_eq!(again.factors, prediction.factors);
        // (serde_json's reader may round the last bit of an f64.)
        let (a, b) = (&loaded.report, &model.report);
        assert_eq!(
            (&a.skipped, a.train_tracks, a.valid_tracks),
            (&b.skipped, b.train_tracks, b.valid_tracks)
        );
        assert!((a.lambda / b.lambda - 1.0).abs() < 1e-12);
        assert!((a.valid_mse / b.valid_mse - 1.0).abs() < 1e-12);
        assert_eq!(loaded.config, model.config);
    }
}

#[test]
fn fits_are_reproducible_and_cancellable() {
    let world = World::new(120);
    let train: Vec<usize> = (0..80).collect();
    let valid: Vec<usize> = (80..120).collect();
    let cancel = AtomicBool::new(false);
    let source = World::excerpt;
    let config = small_bag_of_words();
    let fit_once = || {
        fit(
            &source,
            &train,
            &valid,
            &world.targets,
            &config,
            &mut |_, _, _| {},
            &cancel,
        )
        .unwrap()
    };
    let (a, b) = (fit_once(), fit_once());
    assert_eq!(a.map, b.map);
    assert_eq!(a.report, b.report);
    let cancelled = AtomicBool::new(true);
    let result = fit(
        &source,
        &train,
        &valid,
        &world.targets,
        &config,
        &mut |_, _, _| {},
        &cancelled,
    );
    assert!(matches!(result, Err(BaselineError::Cancelled)));
}

#[test]
fn bad_inputs_get_clear_errors() {
    let world = World::new(40);
    let cancel = AtomicBool::new(false);
    let source = World::excerpt;
    let config = small_bag_of_words();
    let run = |train: &[usize], valid: &[usize], targets: &Array2<f32>, config: &BaselineConfig| {
        fit(
            &source,
            train,
            valid,
            targets,
            config,
            &mut |_, _, _| {},
            &cancel,
        )
        .unwrap_err()
    };
    let train: Vec<usize> = (0..30).collect();
    let err = run(&train, &[35, 99], &world.targets, &config);
    assert_eq!(
        err.to_string(),
        "track 99 is out of range: the targets have 40 rows"
    );
    let mut targets = world.targets.clone();
    targets[[31, 2]] = f32::NAN;
    let err = run(&train, &[31], &targets, &config);
    assert_eq!(
        err.to_string(),
        "target of track 31, factor 2 is not finite (NaN)"
    );
    assert!(matches!(
        run(&train, &[], &world.targets, &config),
        BaselineError::TooFewTracks { split: "valid", .. }
    ));
    // Only the unreadable track in the validation split.
    let err = run(&train, &[BAD_READ], &world.targets, &config);
    assert_eq!(
        err.to_string(),
        "valid split: 0 usable tracks, at least 1 needed"
    );
    // A codebook larger than the frames there are to cluster.
    let mut huge = small_bag_of_words();
    if let FeatureConfig::BagOfWords(bow) = &mut huge.features {
        bow.codebook_size = 5000;
        bow.frames_per_track = 10;
    }
    assert!(matches!(
        run(&train, &[31], &world.targets, &huge),
        BaselineError::TooFewFrames { .. }
    ));
    let no_lambdas = BaselineConfig {
        ridge_lambdas: vec![],
        ..small_bag_of_words()
    };
    assert!(matches!(
        run(&train, &[31], &world.targets, &no_lambdas),
        BaselineError::Config(_)
    ));
}

#[test]
fn loading_a_damaged_model_names_the_file() {
    let world = World::new(60);
    let train: Vec<usize> = (0..40).collect();
    let valid: Vec<usize> = (40..60).collect();
    let cancel = AtomicBool::new(false);
    let model = fit(
        &World::excerpt,
        &train,
        &valid,
        &world.targets,
        &small_bag_of_words(),
        &mut |_, _, _| {},
        &cancel,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    model.save(dir.path()).unwrap();
    npy::write(
        &dir.path().join("codebook.npy"),
        &Array2::<f32>::zeros((31, 60)),
    )
    .unwrap();
    let err = BaselineModel::load(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("codebook.npy") && err.contains("[31, 60]"),
        "{err}"
    );
    std::fs::write(dir.path().join("model.json"), "{\"format\": 3").unwrap();
    let err = BaselineModel::load(dir.path()).unwrap_err().to_string();
    assert!(err.contains("model.json"), "{err}");
    let err = BaselineModel::load(&dir.path().join("missing"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing/model.json"), "{err}");
}
