//! The cold-start pipeline on projects: the split, the WMF targets without test listens, the
//! upper bound, predictions written for every track, `forward` against PyTorch, the
//! evaluation's ordering on a synthetic project, and a training run killed with SIGKILL and
//! resumed.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use deepcuts::cf::sparse::PlayCounts;
use deepcuts::cf::wmf::{confidence, WmfConfig};
use deepcuts::coldstart::factors::{hold_out_test_listens, load_or_fit};
use deepcuts::coldstart::upper_bound::solve_item_factors;
use deepcuts::coldstart::{
    eval_project, train_project, EvalOptions, ObjectiveKind, Part, SplitFractions, TrackSplit,
    TrainOptions,
};
use deepcuts::convnet::train::TrainSettings;
use deepcuts::convnet::{ConvnetConfig, ConvnetWeights, CpuConvnet, InferOptions};
use deepcuts::features::{self, Shard};
use deepcuts::io::npy;
use deepcuts::predict::{predict_project, PredictOptions};
use deepcuts::project::cf_stage::play_matrix;
use deepcuts::project::{layout, NewTrack, Project};
use ndarray::{Array2, Ix2};
use rand::{Rng, SeedableRng};

const STYLES: usize = 4;

/// The tiny network of tests/data/convnet with `factors` outputs.
fn tiny_config(factors: usize) -> ConvnetConfig {
    ConvnetConfig {
        n_mels: 128,
        filters: [8, 8, 16, 16],
        pools: [4, 2, 2],
        dense: vec![32, 32],
        factors,
    }
}

/// A track's style.
fn style(track: usize) -> usize {
    track % STYLES
}

/// A log-mel excerpt [646, 128] of a track of `style`: noise around -60 dB with its style's
/// block of 32 mel bins up to 30 dB louder, under a random envelope.
fn excerpt(track: usize) -> Vec<f32> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(track as u64);
    let mut values = Vec::with_capacity(646 * 128);
    for _ in 0..646 {
        let envelope: f32 = rng.random_range(0.3..1.0);
        for bin in 0..128 {
            let loud = bin / 32 == style(track);
            values.push(
                -60.0 + rng.random_range(-5.0..5.0) + if loud { 30.0 * envelope } else { 0.0 },
            );
        }
    }
    values
}

/// A project of `tracks` tracks whose features are the excerpts above (except the tracks in
/// `without_features`, and track 1 which failed) and whose `users` each listen mostly to
/// one style.
fn synthetic_project(
    dir: &Path,
    tracks: usize,
    users: usize,
    without_features: &[usize],
) -> Project {
    let mut project = Project::create(dir).unwrap();
    let new: Vec<NewTrack> = (0..tracks)
        .map(|i| NewTrack {
            source: format!("/synthetic/track{i}.wav"),
            title: format!("track {i}"),
            ..NewTrack::default()
        })
        .collect();
    project.add_tracks(&new).unwrap();
    let names: Vec<String> = (0..users).map(|u| format!("user{u}")).collect();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut plays = BTreeSet::new();
    for user in 0..users {
        let liked = user % STYLES;
        for _ in 0..12 {
            let pick = rng.random_range(0..tracks / STYLES) * STYLES + liked;
            plays.insert((user as u32, pick as u32, rng.random_range(1..5u32)));
        }
        // A little exploration.
        plays.insert((user as u32, rng.random_range(0..tracks) as u32, 1));
    }
    // One play per (user, track): the first drawn count.
    let mut seen = BTreeSet::new();
    let triplets: Vec<_> = plays
        .into_iter()
        .filter(|&(u, t, _)| seen.insert((u, t)))
        .collect();
    project.add_plays(&names, triplets).unwrap();
    let mut store = features::open_store(&project, Shard::ALL).unwrap();
    for track in (0..tracks).filter(|t| !without_features.contains(t) && *t != 1) {
        store.write_row(track, &excerpt(track)).unwrap();
    }
    store.fail_row(1, "track1.wav: not audio").unwrap();
    project
}

#[test]
fn the_split_is_seeded_disjoint_and_sized_and_survives_its_file() {
    let tracks: Vec<u32> = (0..1000).map(|i| i * 3 + 7).collect();
    let fractions = SplitFractions::default();
    let split = TrackSplit::random(&tracks, fractions, 42).unwrap();
    let mut reversed = tracks.clone();
    reversed.reverse();
    assert_eq!(TrackSplit::random(&reversed, fractions, 42).unwrap(), split);
    assert_ne!(TrackSplit::random(&tracks, fractions, 43).unwrap(), split);
    let parts: Vec<Vec<u32>> = Part::ALL.iter().map(|&p| split.tracks(p)).collect();
    assert_eq!(
        parts.iter().map(Vec::len).collect::<Vec<_>>(),
        [800, 100, 100]
    );
    let union: BTreeSet<u32> = parts.iter().flatten().copied().collect();
    assert_eq!(union.len(), 1000, "the parts are disjoint");
    assert_eq!(union, tracks.iter().copied().collect::<BTreeSet<_>>());
    // Not simply the first or last tracks: the test part is spread over the ids.
    assert!(parts[2].iter().any(|&t| t < 1500) && parts[2].iter().any(|&t| t > 1500));

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("split.tsv");
    split.write(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.starts_with("id\tsplit\n7\t"), "{}", &text[..20]);
    assert_eq!(TrackSplit::read(&path, 3010).unwrap(), split);
    assert!(
        TrackSplit::read(&path, 100).is_err(),
        "ids beyond the catalog"
    );
}

#[test]
fn wmf_targets_never_see_test_listens_and_are_reused_until_stale() {
    let dir = tempfile::tempdir().unwrap();
    let mut project = synthetic_project(&dir.path().join("p"), 80, 60, &[]);
    let tracks = 80;
    let split = TrackSplit::random(
        &(0..tracks as u32).collect::<Vec<_>>(),
        SplitFractions::default(),
        3,
    )
    .unwrap();
    let test: BTreeSet<u32> = split.tracks(Part::Test).into_iter().collect();
    let (counts, _) = play_matrix(&project).unwrap();
    let listens = hold_out_test_listens(&counts, &split).unwrap();
    // The WMF input holds every listen of the other tracks and none of the test tracks'.
    let train: Vec<_> = listens.train.by_user().triplets().collect();
    assert!(train.iter().all(|(_, t, _)| !test.contains(t)));
    let heldout: Vec<_> = listens.heldout.by_user().triplets().collect();
    assert!(!heldout.is_empty() && heldout.iter().all(|(_, t, _)| test.contains(t)));
    let mut all: Vec<_> = train.iter().chain(&heldout).copied().collect();
    all.sort_by_key(|&(u, t, _)| (u, t));
    assert_eq!(all, counts.by_user().triplets().collect::<Vec<_>>());

    let config = WmfConfig {
        factors: 6,
        iterations: 4,
        ..WmfConfig::default()
    };
    let cancel = AtomicBool::new(false);
    let fit = |project: &Project, listens: &PlayCounts| {
        let mut iterations = 0;
        let (factors, fitted) = load_or_fit(
            project.layout(),
            listens,
            &config,
            &mut |_| iterations += 1,
            &cancel,
        )
        .unwrap();
        (factors, fitted, iterations)
    };
    let (factors, fitted, iterations) = fit(&project, &listens.train);
    assert!(fitted && iterations == 4);
    assert_eq!(factors.items.dim(), (80, 6));
    for &t in &test {
        assert!(
            factors.items.row(t as usize).iter().all(|&v| v == 0.0),
            "test track {t}"
        );
    }
    let (again, fitted, iterations) = fit(&project, &listens.train);
    assert!(!fitted && iterations == 0, "fresh factors are reused");
    assert_eq!(again, factors);
    let saved: Array2<f32> =
        npy::read_finite_f32(&project.layout().path(layout::COLDSTART_ITEM_FACTORS)).unwrap();
    assert_eq!(saved, factors.items);
    // A new listen makes them stale.
    project
        .add_plays(&["user0".to_owned()], [(0, 2, 3)])
        .unwrap();
    let (counts, _) = play_matrix(&project).unwrap();
    let listens = hold_out_test_listens(&counts, &split).unwrap();
    let (_, fitted, _) = fit(&project, &listens.train);
    assert!(fitted, "stale factors are fitted again");
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting: a: [n, n].
fn gauss_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap();
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let factor = a[row][col] / a[col][col];
            let pivot_row = a[col].clone();
            for (v, p) in a[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *v -= factor * p;
            }
            b[row] -= factor * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    x
}

#[test]
fn the_upper_bound_solves_the_item_objective_exactly() {
    let (users, items, f) = (30, 6, 5);
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    let user_factors = Array2::from_shape_fn((users, f), |_| rng.random_range(-1.0f32..1.0));
    let mut triplets = Vec::new();
    for item in 0..items as u32 - 1 {
        for user in 0..users as u32 {
            if rng.random_bool(0.3) {
                triplets.push((user, item, rng.random_range(1..20) as f32));
            }
        }
    }
    let listens = PlayCounts::from_triplets(users, items, triplets).unwrap();
    let config = WmfConfig {
        factors: f,
        lambda: 0.5,
        ..WmfConfig::default()
    };
    let wanted = [4u32, 0, 5, 2];
    let solved = solve_item_factors(&listens, user_factors.view(), &wanted, &config).unwrap();
    assert_eq!(solved.dim(), (4, f));
    for (k, &item) in wanted.iter().enumerate() {
        // The dense normal equations over every user: Σ_u c_ui x_u x_uᵀ + λI and Σ_u c_ui p_ui x_u.
        let mut c = vec![1.0f64; users];
        let mut p = vec![0.0f64; users];
        let (played_by, counts) = listens.by_item().row(item as usize);
        for (&u, &count) in played_by.iter().zip(counts) {
            c[u as usize] = f64::from(confidence(count, config.alpha, config.epsilon));
            p[u as usize] = 1.0;
        }
        let x = |u: usize, i: usize| f64::from(user_factors[[u, i]]);
        let a: Vec<Vec<f64>> = (0..f)
            .map(|i| {
                (0..f)
                    .map(|j| {
                        (0..users).map(|u| c[u] * x(u, i) * x(u, j)).sum::<f64>()
                            + if i == j { 0.5 } else { 0.0 }
                    })
                    .collect()
            })
            .collect();
        let b: Vec<f64> = (0..f)
            .map(|i| (0..users).map(|u| c[u] * p[u] * x(u, i)).sum())
            .collect();
        let expected = gauss_solve(a, b);
        for i in 0..f {
            let got = f64::from(solved[[k, i]]);
            assert!(
                (got - expected[i]).abs() <= 1e-4 * (1.0 + expected[i].abs()),
                "item {item}, factor {i}: {got} vs {}",
                expected[i]
            );
        }
        if item == 5 {
            assert!(played_by.is_empty() && solved.row(k).iter().all(|&v| v == 0.0));
        }
    }
    let wrong = Array2::zeros((users + 1, f));
    assert!(solve_item_factors(&listens, wrong.view(), &wanted, &config).is_err());
}

#[test]
fn predict_writes_every_array_with_rows_from_the_network() {
    let dir = tempfile::tempdir().unwrap();
    let project = synthetic_project(&dir.path().join("p"), 24, 10, &[5, 17]);
    let config = tiny_config(7);
    let weights = ConvnetWeights::init(&config, 11);
    let model = dir.path().join("elsewhere.safetensors");
    weights.save(&model).unwrap();
    let options = PredictOptions {
        model: Some(model.clone()),
        batch: 5,
        threads: 2,
        ..PredictOptions::default()
    };
    let cancel = AtomicBool::new(false);
    let report = predict_project(&project, &options, &mut |_, _| {}, &cancel).unwrap();
    assert_eq!(
        (report.tracks, report.predicted, report.cancelled),
        (24, 21, false)
    );
    let skipped: Vec<usize> = report.skipped.iter().map(|s| s.track).collect();
    assert_eq!(skipped, [1, 5, 17]);
    assert!(report.skipped[0].reason.contains("not audio"));

    let read = |name: &str| -> Array2<f32> {
        npy::read_finite_f32::<Ix2>(&project.layout().path(name)).unwrap()
    };
    let factors = read(layout::PREDICT_FACTORS);
    let conv1_max = read(layout::PREDICT_CONV1_MAX);
    let conv1_mean = read(layout::PREDICT_CONV1_MEAN);
    let fc2 = read(layout::PREDICT_FC2);
    let peak: Array2<u32> = npy::read(&project.layout().path(layout::PREDICT_CONV1_PEAK)).unwrap();
    assert_eq!(factors.dim(), (24, 7));
    assert_eq!(conv1_max.dim(), (24, 8));
    assert_eq!(conv1_mean.dim(), (24, 8));
    assert_eq!(peak.dim(), (24, 8));
    assert_eq!(fc2.dim(), (24, 32));

    // The network run directly, one track at a time, on the stored excerpts.
    let net = CpuConvnet::new(&weights, 1).unwrap();
    let store = features::open_store(&project, Shard::ALL).unwrap();
    let options = InferOptions {
        conv1: true,
        conv1_stats: false,
    };
    for track in 0..24 {
        if skipped.contains(&track) {
            assert!(factors.row(track).iter().all(|&v| v == 0.0));
            continue;
        }
        let mut values = vec![0.0; 646 * 128];
        store.read_row(track, &mut values).unwrap();
        let excerpt = Array2::from_shape_vec((646, 128), values).unwrap();
        let out = net.run_excerpts(&[excerpt.view()], options).unwrap();
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-4 * (1.0 + b.abs());
        for (a, b) in factors.row(track).iter().zip(out.factors.row(0)) {
            assert!(close(*a, *b), "track {track}: factor {a} vs {b}");
        }
        for (a, b) in fc2.row(track).iter().zip(out.last_dense.row(0)) {
            assert!(close(*a, *b), "track {track}: fc2 {a} vs {b}");
        }
        // Max, mean and frame of the max from the full conv1 activations [1, 8, 596].
        let conv1 = out.conv1.unwrap();
        for filter in 0..8 {
            let series = conv1.slice(ndarray::s![0, filter, ..]);
            let max = series.fold(f32::MIN, |m, &v| m.max(v));
            let mean = series.sum() / series.len() as f32;
            assert!(close(conv1_max[[track, filter]], max));
            assert!(close(conv1_mean[[track, filter]], mean));
            let frame = peak[[track, filter]] as usize;
            assert!(
                frame < 596 && close(series[frame], max),
                "track {track} filter {filter}"
            );
        }
    }
    let report_json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(project.layout().path(layout::PREDICT_REPORT)).unwrap(),
    )
    .unwrap();
    assert_eq!(report_json["predicted"], 21);
    assert_eq!(report_json["skipped"][1]["track"], 5);
}

fn deepcuts() -> Command {
    Command::new(env!("CARGO_BIN_EXE_deepcuts"))
}

#[test]
fn forward_agrees_with_pytorch_and_names_bad_files() {
    let dir = tempfile::tempdir().unwrap();
    let names = [
        "chirp", "impulses", "long75s", "noise", "short2s", "silence", "sine440",
    ];
    let mels: Vec<PathBuf> = names
        .iter()
        .map(|n| Path::new("tests/data/mel").join(format!("{n}.npy")))
        .collect();
    for (config, device) in ["tiny", "small"]
        .into_iter()
        .flat_map(|config| ["cpu", "gpu"].map(|device| (config, device)))
    {
        let out = dir.path().join(format!("{config}.{device}.npy"));
        let status = deepcuts()
            .args(["forward", "--device", device, "--model"])
            .arg(format!("tests/data/convnet/{config}.safetensors"))
            .args(&mels)
            .arg("--out")
            .arg(&out)
            .status()
            .unwrap();
        assert!(status.success());
        let got: Array2<f32> = npy::read_finite_f32(&out).unwrap();
        let want: Array2<f32> =
            npy::read_finite_f32(Path::new(&format!("tests/data/convnet/{config}.out.npy")))
                .unwrap();
        assert_eq!(got.dim(), want.dim());
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(&want)
            .fold(0.0f32, |m, (g, w)| m.max((g - w).abs()));
        assert!(
            worst <= 1e-4 * scale,
            "{config} on {device}: {worst} vs scale {scale}"
        );
    }
    // A spectrogram of the wrong length.
    let short = dir.path().join("short.npy");
    npy::write(&short, &Array2::<f32>::zeros((100, 128))).unwrap();
    let output = deepcuts()
        .args(["forward", "--model", "tests/data/convnet/tiny.safetensors"])
        .arg(&short)
        .arg("--out")
        .arg(dir.path().join("x.npy"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        stderr.contains("short.npy") && stderr.contains("[100, 128]"),
        "{stderr}"
    );
}

fn quick_settings(max_epochs: usize) -> TrainSettings {
    TrainSettings {
        max_epochs,
        batch_size: 16,
        learning_rate: 0.05,
        dropout: 0.2,
        patience: max_epochs,
        seed: 5,
        threads: 2,
        ..TrainSettings::default()
    }
}

#[test]
fn eval_ranks_random_below_content_below_the_upper_bound() {
    let dir = tempfile::tempdir().unwrap();
    let project = synthetic_project(&dir.path().join("p"), 200, 160, &[3]);
    let cancel = AtomicBool::new(false);
    let mut options = TrainOptions::new(tiny_config(8), ObjectiveKind::Mse);
    options.settings = quick_settings(8);
    options.wmf.iterations = 8;
    let report = train_project(&project, &options, &mut |_| {}, &cancel).unwrap();
    // Track 1 failed and 3 has no features: neither is split.
    let split = TrackSplit::read(&project.layout().path(layout::SPLIT_TSV), 200).unwrap();
    assert_eq!(split.len(), 198);
    assert!(split.part(1).is_none() && split.part(3).is_none());
    assert_eq!(report.plan.split_sizes, [158, 20, 20]);
    let history = &report.outcome.history;
    assert!(
        report.outcome.best_valid_loss < 0.8 * history[0].valid_loss,
        "{history:?}"
    );

    let mut options = EvalOptions::new(8);
    options.baseline.features = deepcuts::baseline::FeatureConfig::MelStatistics;
    options.wmf.iterations = 8;
    let report = eval_project(&project, &options, &mut |_| {}, &cancel).unwrap();
    assert!(!report.factors_fitted, "training's factors are reused");
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(project.layout().path(layout::EVAL_COLDSTART)).unwrap(),
    )
    .unwrap();
    let metric = |method: &str, key: &str| json[method][key].as_f64().unwrap();
    for method in ["random", "baseline", "convnet", "upper_bound"] {
        assert!((metric(method, "auc") - report.table[method].auc).abs() < 1e-12);
        assert!(json[method]["map500"].is_f64());
    }
    // Random scores rank at chance; a user's held-out listens are of their style, which the
    // audio shows plainly, so both content models rank far better; the listens themselves
    // (the upper bound) best of all.
    assert!((metric("random", "auc") - 0.5).abs() < 0.1, "{json}");
    for method in ["baseline", "convnet"] {
        assert!(metric(method, "auc") > 0.75, "{method}: {json}");
        assert!(
            metric(method, "map500") > metric("random", "map500"),
            "{json}"
        );
    }
    assert!(metric("upper_bound", "auc") > 0.9, "{json}");
    assert!(
        metric("upper_bound", "map500") > metric("baseline", "map500"),
        "{json}"
    );
    assert!(report.test_tracks >= 15 && report.test_tracks <= 20);
}

/// The epochs recorded in `model/history.json`.
fn history(dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read(dir.join("model/history.json"))
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

#[test]
fn training_survives_kill_9_and_ctrl_c_and_continues_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("p");
    drop(synthetic_project(&project_dir, 100, 80, &[]));
    let config = dir.path().join("tiny.json");
    std::fs::write(&config, serde_json::to_string(&tiny_config(6)).unwrap()).unwrap();
    let train = |resume: bool| {
        let mut command = deepcuts();
        command.arg("train").arg(&project_dir);
        // A resumed run takes the interrupted run's config from its checkpoint.
        if !resume {
            command.arg("--config").arg(&config);
        }
        command
            .args([
                "--epochs",
                "60",
                "--patience",
                "60",
                "--batch",
                "8",
                "--lr",
                "0.05",
            ])
            .args(["--threads", "1"]);
        if resume {
            command.arg("--resume");
        }
        command
    };
    // Waits until the history has `epochs` records, the child still running.
    let wait_for = |child: &mut std::process::Child, epochs: usize| {
        let started = Instant::now();
        while history(&project_dir).len() < epochs {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "no checkpoint"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "training ended before the signal"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    let mut child = train(false)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&mut child, 3);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let killed = history(&project_dir);
    assert!(project_dir.join("model/checkpoint.safetensors").is_file());
    assert!(killed.len() < 61, "killed mid-run");

    // Resumed, then Ctrl-C (SIGINT): it saves the finished epochs and says how to go on.
    let mut child = train(true)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(&mut child, killed.len() + 2);
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("--resume"), "{stdout}");
    let before = history(&project_dir);
    assert!(before.len() >= killed.len() + 2 && before.len() < 61);
    assert_eq!(before[..killed.len()], killed[..]);

    let status = deepcuts().arg("status").arg(&project_dir).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(
        status.contains(&format!(
            "model     interrupted after epoch {}",
            before.len() - 1
        )),
        "{status}"
    );

    let output = train(true).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let after = history(&project_dir);
    let epochs: Vec<u64> = after.iter().map(|r| r["epoch"].as_u64().unwrap()).collect();
    assert_eq!(
        epochs,
        (0..=60).collect::<Vec<_>>(),
        "each epoch once, in order"
    );
    assert_eq!(
        after[..before.len()],
        before[..],
        "the finished epochs are kept"
    );
    let valid = |r: &serde_json::Value| r["valid_loss"].as_f64().unwrap();
    let best = after.iter().map(valid).fold(f64::MAX, f64::min);
    assert!(
        best < valid(&after[0]),
        "training lowers the validation loss"
    );
    assert!(project_dir.join("split.tsv").is_file());
    // The weights are a loadable model of the asked-for config.
    let weights = ConvnetWeights::load(&project_dir.join("model/weights.safetensors")).unwrap();
    assert_eq!(weights.config, tiny_config(6));
    let status = deepcuts().arg("status").arg(&project_dir).output().unwrap();
    let status = String::from_utf8_lossy(&status.stdout);
    assert!(status.contains("model     present"), "{status}");

    // The trained project through the other commands.
    for args in [&["predict"][..], &["eval", "--baseline", "mel-stats"]] {
        let output = deepcuts().args(args).arg(&project_dir).output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{args:?}: {stdout}");
    }
    let factors: Array2<f32> =
        npy::read_finite_f32(&project_dir.join(layout::PREDICT_FACTORS)).unwrap();
    assert_eq!(factors.dim(), (100, 6));
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project_dir.join(layout::EVAL_COLDSTART)).unwrap())
            .unwrap();
    for method in ["random", "baseline", "convnet", "upper_bound"] {
        assert!(table[method]["auc"].is_f64(), "{table}");
    }
}
