//! Project folders through the `deepcuts` command, as a researcher scripts them: demo world →
//! features → cf → eval-cf; audio folders with tags; listening logs; kill -9 and resume.
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use deepcuts::demo;
use deepcuts::dsp::mel::MelSpectrogram;
use deepcuts::features::store::ROW_VALUES;
use deepcuts::features::{open_store, RowStatus, Shard};
use deepcuts::project::Project;
use ndarray::Array2;

fn deepcuts(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let output = deepcuts(args);
    assert!(
        output.status.success(),
        "deepcuts {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// The stored excerpt of `row` against the spectrogram of the demo track rendered directly.
fn assert_row_is_the_demo_tracks_spectrogram(project: &Project, row: usize, seed: u64) {
    let store = open_store(project, Shard::ALL).unwrap();
    let mut stored = vec![0.0; ROW_VALUES];
    store.read_row(row, &mut stored).unwrap();
    let recipe = demo::track(seed, row).recipe;
    let direct = MelSpectrogram::new().compute(&demo::render_excerpt(&recipe));
    for (a, b) in stored.iter().zip(direct.iter()) {
        // float16 keeps 11 significant bits.
        assert!(
            (a - b).abs() <= b.abs() / 1024.0 + 1e-3,
            "row {row}: {a} vs {b}"
        );
    }
}

#[test]
fn a_demo_world_goes_from_catalog_to_cf_evaluation() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("demo");
    let p = project_dir.to_str().unwrap();
    ok(&["demo", p, "--tracks", "48", "--users", "300", "--seed", "5"]);
    let tracks_tsv = std::fs::read_to_string(project_dir.join("tracks.tsv")).unwrap();
    assert_eq!(tracks_tsv.lines().count(), 49);
    assert!(tracks_tsv
        .lines()
        .nth(1)
        .unwrap()
        .starts_with("0\tdemo:5:0\t"));

    let out = ok(&["features", p]);
    assert!(out.starts_with("48 computed"), "{out}");
    let project = Project::open(&project_dir).unwrap();
    assert_row_is_the_demo_tracks_spectrogram(&project, 17, 5);

    ok(&["cf", p, "--factors", "8", "--iters", "6"]);
    let items: Array2<f32> =
        deepcuts::io::npy::read_finite_f32(&project_dir.join("cf/item_factors.npy")).unwrap();
    let users: Array2<f32> =
        deepcuts::io::npy::read_finite_f32(&project_dir.join("cf/user_factors.npy")).unwrap();
    assert_eq!(items.shape(), &[48, 8]);
    assert_eq!(users.nrows(), 300);
    let users_tsv = std::fs::read_to_string(project_dir.join("cf/users.tsv")).unwrap();
    assert_eq!(users_tsv.lines().count(), 301);

    ok(&["eval-cf", p, "--factors", "8", "--iters", "6"]);
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project_dir.join("eval/cf.json")).unwrap()).unwrap();
    let metric = |method: &str, name: &str| table[method][name].as_f64().unwrap();
    // Listeners stick to styles, albums and moods: WMF must beat chance by far. (With 48
    // tracks every candidate is within 50, so recall@50 is 1 for all methods; AUC and mAP
    // tell. A listener plays many of 48 tracks, so chance's mAP is high already: WMF must
    // close most of the distance from it to a perfect 1.)
    let random_map = metric("random", "map500");
    assert!(
        metric("wmf", "map500") - random_map > 0.6 * (1.0 - random_map),
        "{table}"
    );
    assert!(metric("wmf", "auc") > 0.8, "{table}");
    assert!((metric("random", "auc") - 0.5).abs() < 0.1, "{table}");

    let status = ok(&["status", p]);
    assert!(
        status.contains("features  48 done, 0 failed, 0 to do"),
        "{status}"
    );
    assert!(status.contains("cf        present"), "{status}");
}

#[test]
fn the_pipeline_runs_what_is_not_done_and_deepcuts_alone_opens_the_demo_world() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("demo");
    let p = project_dir.to_str().unwrap();
    ok(&["demo", p, "--tracks", "60", "--users", "80", "--seed", "3"]);
    let out = ok(&["pipeline", p, "--until", "cf", "--threads", "1"]);
    assert!(out.contains("== features (not run yet)"), "{out}");
    assert!(out.contains("== cf (not run yet)"), "{out}");
    assert!(project_dir.join("cf/item_factors.npy").is_file());
    assert!(
        !project_dir.join("eval/cf.json").exists(),
        "--until cf: {out}"
    );

    let out = ok(&["pipeline", p, "--epochs", "2", "--threads", "1"]);
    for stage in ["features", "cf"] {
        assert!(out.contains(&format!("== {stage}: up to date")), "{out}");
    }
    for stage in ["eval-cf", "train", "predict", "tsne", "eval"] {
        assert!(out.contains(&format!("== {stage} (not run yet)")), "{out}");
    }
    // The map: a finite point for each of the 60 tracks (all have audio and predictions).
    let map: Array2<f32> = ndarray_npy::read_npy(project_dir.join("maps/tsne.npy")).unwrap();
    assert_eq!(map.shape(), &[60, 2]);
    assert!(map.iter().all(|v| v.is_finite()));
    let table: serde_json::Value =
        serde_json::from_slice(&std::fs::read(project_dir.join("eval/coldstart.json")).unwrap())
            .unwrap();
    assert!(table["convnet"]["auc"].is_f64(), "{table}");
    let status = ok(&["status", p]);
    for stage in ["eval-cf", "model", "predict", "tsne", "eval"] {
        assert!(
            status.contains(&format!("\n{stage:<9} present: ")),
            "{status}"
        );
    }

    assert_gpu_predictions_match_cpu(p, &project_dir);

    // New listens make the factors, and everything learned from them, stale.
    let weights = project_dir.join("model/weights.safetensors");
    let trained = std::fs::metadata(&weights).unwrap().modified().unwrap();
    let log = dir.path().join("log.csv");
    std::fs::write(&log, "user,track,count\nnewcomer,3,5\n").unwrap();
    ok(&["import-usage", p, log.to_str().unwrap(), "--format", "csv"]);
    let status = ok(&["status", p]);
    assert!(
        status.contains("cf        stale: the play counts changed"),
        "{status}"
    );

    // `deepcuts` alone brings the demo world in DEEPCUTS_DEMO_DIR up to date.
    let output = Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .env("DEEPCUTS_DEMO_DIR", &project_dir)
        .env("RAYON_NUM_THREADS", "1")
        // No display: the terminal pipeline, not the app.
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{out}");
    assert!(out.contains("here is the demo world"), "{out}");
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("no display"),
        "it says why there is no window"
    );
    assert!(out.contains("== features: up to date"), "{out}");
    for stage in ["cf", "eval-cf"] {
        assert!(
            out.contains(&format!("== {stage} (stale: the play counts changed"))
                || out.contains(&format!("== {stage} (stale: cf/item_factors.npy changed")),
            "{stage}: {out}"
        );
    }
    assert!(
        out.contains("== train (stale: cf/item_factors.npy changed since)"),
        "{out}"
    );
    assert!(out.contains("The demo world is ready"), "{out}");
    assert!(std::fs::metadata(&weights).unwrap().modified().unwrap() > trained);
    let again = ok(&["pipeline", p]);
    assert_eq!(again.matches(": up to date").count(), 7, "{again}");
}

/// `predict --device gpu` (lavapipe in CI) writes the arrays `--device cpu` writes, row for
/// row; without a Vulkan driver `gpu` is a clear error and `auto` runs on the CPU.
fn assert_gpu_predictions_match_cpu(p: &str, dir: &Path) {
    use deepcuts::project::layout;
    let read = |name: &str| -> Array2<f32> { ndarray_npy::read_npy(dir.join(name)).unwrap() };
    let read_peaks =
        || -> Array2<u32> { ndarray_npy::read_npy(dir.join(layout::PREDICT_CONV1_PEAK)).unwrap() };
    let arrays = [
        layout::PREDICT_FACTORS,
        layout::PREDICT_CONV1_MAX,
        layout::PREDICT_CONV1_MEAN,
        layout::PREDICT_FC2,
    ];
    let out = ok(&["predict", p, "--device", "cpu", "--threads", "1"]);
    assert!(out.contains(" on cpu (1 threads)"), "{out}");
    let cpu: Vec<Array2<f32>> = arrays.iter().map(|name| read(name)).collect();
    let cpu_peaks = read_peaks();
    // Batches of 7: the last one is partial.
    let out = ok(&["predict", p, "--device", "gpu", "--batch", "7"]);
    assert!(out.contains(" on gpu "), "{out}");
    for (name, want) in arrays.iter().zip(&cpu) {
        let got = read(name);
        assert_eq!(got.dim(), want.dim(), "{name}");
        let scale = want.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        let worst = got
            .iter()
            .zip(want)
            .map(|(g, w)| (g - w).abs())
            .fold(0.0f32, f32::max);
        assert!(
            scale > 0.0 && worst <= 1e-4 * scale,
            "{name}: {worst} vs {scale}"
        );
    }
    // Frames of the max: the same, but for near-ties that another summation order may break
    // the other way.
    let gpu_peaks = read_peaks();
    let same = gpu_peaks
        .iter()
        .zip(&cpu_peaks)
        .filter(|(g, c)| g == c)
        .count();
    assert!(
        same as f64 >= 0.99 * cpu_peaks.len() as f64,
        "{same} of {} peak frames agree",
        cpu_peaks.len()
    );

    let without_vulkan = |device: &str| {
        Command::new(env!("CARGO_BIN_EXE_deepcuts"))
            .args(["predict", p, "--device", device])
            .env("VK_ICD_FILENAMES", "/nonexistent")
            .output()
            .unwrap()
    };
    let refused = without_vulkan("gpu");
    assert_eq!(refused.status.code(), Some(1));
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("no GPU adapter found") && message.contains("--device cpu"),
        "{message}"
    );
    let auto = without_vulkan("auto");
    assert!(auto.status.success());
    let out = String::from_utf8_lossy(&auto.stdout);
    assert!(out.contains(" on cpu ("), "{out}");

    // The adapters as `deepcuts devices` lists them; one asked for by a name none has.
    let devices = ok(&["devices"]);
    let first = devices.lines().next().unwrap();
    let name = first
        .strip_prefix("0: ")
        .and_then(|rest| rest.split(" (").next())
        .unwrap_or_else(|| panic!("{devices}"));
    assert!(devices.contains("--device auto runs on"), "{devices}");
    // Outside a desktop session the listing says nothing on stderr (no libwayland complaint
    // from Mesa's device-select layer).
    let headless = Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .arg("devices")
        .env_remove("XDG_RUNTIME_DIR")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("NODEVICE_SELECT")
        .output()
        .unwrap();
    assert!(headless.status.success());
    assert_eq!(String::from_utf8_lossy(&headless.stdout), devices);
    assert!(
        headless.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&headless.stderr)
    );
    let named = ok(&["predict", p, "--device", &format!("gpu:{name}")]);
    assert!(named.contains(&format!(" on gpu {name}")), "{named}");
    let unknown = deepcuts(&["predict", p, "--device", "gpu:no such card"]);
    assert_eq!(unknown.status.code(), Some(1));
    let message = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        message.contains("no GPU adapter named like \"no such card\"") && message.contains(name),
        "{message}"
    );
}

#[test]
fn test_tracks_without_held_out_listens_are_left_out_of_eval_not_failed() {
    // Two listeners over 100 tracks: some test tracks get no held-out listen to rank (1 of 10
    // on this seed).
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().to_str().unwrap();
    ok(&["demo", p, "--tracks", "100", "--users", "2", "--seed", "1"]);
    // The run succeeds (status 0) and says how many were ranked and left out.
    let out = ok(&["pipeline", p, "--epochs", "1", "--threads", "1"]);
    let line = out
        .lines()
        .find(|l| l.contains("left out: no held-out listens, or no features"))
        .unwrap_or_else(|| panic!("no left-out count: {out}"));
    let number = |text: &str| text.trim().parse::<usize>().unwrap();
    let (ranked, rest) = line.split_once(" test tracks (").unwrap();
    let left_out = number(rest.split_once(" left out").unwrap().0);
    let split = std::fs::read_to_string(dir.path().join("split.tsv")).unwrap();
    let test_tracks = split.lines().filter(|l| l.ends_with("\ttest")).count();
    assert!(left_out > 0, "{line}");
    assert_eq!(number(ranked) + left_out, test_tracks, "{line}");
}

#[test]
fn the_pipeline_on_a_listening_log_alone_stops_before_the_convnet() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("log-only");
    let p = project_dir.to_str().unwrap();
    ok(&["new", p]);
    let out = ok(&["pipeline", p]);
    assert!(out.contains("no play counts"), "{out}");
    let mut log = String::from("user,track,count\n");
    for user in 0..30 {
        for track in 0..30 {
            if (user + track) % 3 == 0 {
                log.push_str(&format!("u{user},Artist - Song {track},2\n"));
            }
        }
    }
    let log_path = dir.path().join("log.csv");
    std::fs::write(&log_path, log).unwrap();
    let log_arg = log_path.to_str().unwrap();
    ok(&[
        "import-usage",
        p,
        log_arg,
        "--format",
        "csv",
        "--add-missing",
    ]);
    let out = ok(&["pipeline", p]);
    assert!(out.contains("== features: up to date"), "{out}");
    assert!(out.contains("== eval-cf (not run yet)"), "{out}");
    assert!(out.contains("no track has features"), "{out}");
    assert!(project_dir.join("cf/item_factors.npy").is_file());
    assert!(!project_dir.join("model").exists(), "{out}");
}

#[test]
fn features_resume_after_kill_9_without_redoing_finished_tracks() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("demo");
    let p = project_dir.to_str().unwrap();
    let tracks = 60;
    ok(&[
        "demo",
        p,
        "--tracks",
        &tracks.to_string(),
        "--users",
        "10",
        "--seed",
        "3",
    ]);
    let journal = project_dir.join("features/journal.tsv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .args(["features", p, "--threads", "1"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    let journaled = |path: &Path| {
        std::fs::read_to_string(path)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    while journaled(&journal) < 3 {
        assert!(started.elapsed() < Duration::from_secs(120), "no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "finished before it could be killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    let done_before = journaled(&journal);
    assert!(done_before < tracks, "everything finished before the kill");

    let out = ok(&["features", p]);
    let project = Project::open(&project_dir).unwrap();
    let store = open_store(&project, Shard::ALL).unwrap();
    assert_eq!(store.counts(), (tracks, 0, 0));
    // Only the tracks not journaled before the kill were computed again.
    let expected = format!("{} computed", tracks - done_before);
    assert!(out.starts_with(&expected), "{out} (expected {expected})");
    assert!(
        out.contains(&format!("{done_before} already done")),
        "{out}"
    );
    // Rows from before and after the kill are both right.
    for row in [0, tracks - 1] {
        assert_eq!(store.status(row), RowStatus::Done);
        assert_row_is_the_demo_tracks_spectrogram(&project, row, 3);
    }
}

#[test]
fn shards_computed_apart_merge_into_the_full_store() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("demo");
    let p = project_dir.to_str().unwrap();
    ok(&["demo", p, "--tracks", "7", "--users", "5", "--seed", "9"]);
    for shard in ["1/2", "2/2"] {
        ok(&["features", p, "--shard", shard]);
    }
    let shard_dirs = ["shard-1-of-2", "shard-2-of-2"].map(|name| {
        project_dir
            .join("features")
            .join(name)
            .to_str()
            .unwrap()
            .to_owned()
    });
    ok(&["merge-features", p, &shard_dirs[0], &shard_dirs[1]]);
    let project = Project::open(&project_dir).unwrap();
    assert_eq!(
        open_store(&project, Shard::ALL).unwrap().counts(),
        (7, 0, 0)
    );
    assert_row_is_the_demo_tracks_spectrogram(&project, 4, 9);
    let bad = deepcuts(&["features", p, "--shard", "3/2"]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn audio_folders_are_added_with_their_tags_and_bad_files_reported() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("p");
    let p = project_dir.to_str().unwrap();
    ok(&["new", p]);
    let music = dir.path().join("music");
    std::fs::create_dir_all(music.join("sub")).unwrap();
    for name in ["tagged.mp3", "tagged.flac", "tagged.m4a", "tagged.ogg"] {
        std::fs::copy(
            Path::new("tests/data/audio/tagged").join(name),
            music.join("sub").join(name),
        )
        .unwrap();
    }
    std::fs::write(music.join("broken.mp3"), b"this is not audio at all").unwrap();
    std::fs::write(music.join("notes.txt"), b"ignored: not an audio extension").unwrap();
    let output = deepcuts(&["add-audio", p, music.to_str().unwrap()]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stdout.contains("4 tracks added, 0 already in the catalog, 1 files skipped"),
        "{stdout}"
    );
    assert!(
        stderr.contains("broken.mp3: not a recognised audio format"),
        "{stderr}"
    );
    let project = Project::open(&project_dir).unwrap();
    for track in project.catalog().tracks().unwrap() {
        assert_eq!(
            (
                track.artist.as_str(),
                track.title.as_str(),
                track.album.as_str()
            ),
            ("Ann Example", "Tagged Tone", "Fixtures"),
            "{}",
            track.source
        );
        assert_eq!(track.tags, ["Test Tones"]);
        assert!((track.duration_secs.unwrap() - 0.5).abs() < 0.06);
    }
    // Adding the same folder again adds nothing.
    let again = ok(&["add-audio", p, music.to_str().unwrap()]);
    assert!(
        again.contains("0 tracks added, 4 already in the catalog"),
        "{again}"
    );
    // Features of the 0.5-s clips: padded to 30 s, computed.
    assert!(ok(&["features", p]).starts_with("4 computed"));
}

#[test]
fn a_listening_log_adds_play_counts_and_reports_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("demo");
    let p = project_dir.to_str().unwrap();
    ok(&["demo", p, "--tracks", "5", "--users", "3", "--seed", "2"]);
    let project = Project::open(&project_dir).unwrap();
    let tracks = project.catalog().tracks().unwrap();
    let before = project.catalog().plays().unwrap();
    drop(project);
    ok(&["cf", p, "--factors", "2", "--iters", "2"]);
    assert!(ok(&["status", p]).contains("cf        present"));
    let log = dir.path().join("log.tsv");
    std::fs::write(
        &log,
        format!(
            "newcomer\t{}\t4\nnewcomer\t1\t2\nbroken line\nnewcomer\tSOUNKNOWN12\t7\n",
            tracks[3].id
        ),
    )
    .unwrap();
    let output = deepcuts(&[
        "import-usage",
        p,
        log.to_str().unwrap(),
        "--format",
        "taste-profile",
        "--add-missing",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("log.tsv:3: expected 3 tab-separated fields"),
        "{stderr}"
    );
    let project = Project::open(&project_dir).unwrap();
    let after = project.catalog().plays().unwrap();
    let newcomer = after.users.iter().position(|u| u == "newcomer").unwrap() as u32;
    let mine: Vec<(u32, u32)> = after
        .triplets
        .iter()
        .filter(|t| t.0 == newcomer)
        .map(|t| (t.1, t.2))
        .collect();
    assert_eq!(mine, [(1, 2), (3, 4), (5, 7)]);
    assert_eq!(after.triplets.len(), before.triplets.len() + 3);
    let added = &project.catalog().tracks().unwrap()[5];
    assert_eq!(added.source, "log:SOUNKNOWN12");
    let status = ok(&["status", p]);
    assert!(
        status.contains("6 (5 with audio, 1 known only from listening logs)"),
        "{status}"
    );
}

#[test]
fn a_truncated_file_is_computed_with_its_warning_in_the_report_the_journal_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let project_dir = dir.path().join("p");
    let p = project_dir.to_str().unwrap();
    ok(&["new", p]);
    let music = dir.path().join("music");
    std::fs::create_dir_all(&music).unwrap();
    let whole = std::fs::read("tests/data/audio/tone_vorbis.ogg").unwrap();
    std::fs::write(music.join("cut.ogg"), &whole[..whole.len() * 4 / 5]).unwrap();
    std::fs::copy("tests/data/audio/tone_flac.flac", music.join("fine.flac")).unwrap();
    ok(&["add-audio", p, music.to_str().unwrap()]);

    // Done, not failed (the audio before the cut is real), but said so.
    let output = deepcuts(&["features", p]);
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stdout.starts_with("2 computed"), "{stdout}");
    assert!(stdout.contains("1 with warnings"), "{stdout}");
    let warning = stderr
        .lines()
        .find(|line| line.starts_with("warning: track "))
        .unwrap_or_else(|| panic!("no warning in {stderr}"));
    assert!(warning.contains("cut.ogg: stream ends early"), "{warning}");

    let journal = std::fs::read_to_string(project_dir.join("features/journal.tsv")).unwrap();
    let cut_line = journal
        .lines()
        .find(|line| line.contains("cut.ogg"))
        .unwrap_or_else(|| panic!("{journal}"));
    assert_eq!(cut_line.split('\t').nth(1), Some("ok"), "{cut_line}");
    assert_eq!(journal.lines().count(), 2, "{journal}");

    let status = ok(&["status", p]);
    assert!(
        status.contains("features  2 done, 0 failed, 0 to do"),
        "{status}"
    );
    assert!(
        status.contains(warning.trim_start_matches("warning: ")),
        "{status}"
    );
}

#[test]
fn bad_projects_and_arguments_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nothing-here");
    let output = deepcuts(&["status", missing.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a deepcuts project"), "{stderr}");
    // The library says what is wrong; the command line adds what to run.
    assert!(
        stderr.contains("create one with `deepcuts new`"),
        "{stderr}"
    );
    let p = dir.path().join("p");
    ok(&["new", p.to_str().unwrap()]);
    let again = deepcuts(&["new", p.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&again.stderr).contains("already a deepcuts project"));
    let output = deepcuts(&[
        "import-usage",
        p.to_str().unwrap(),
        "/no/such/log",
        "--format",
        "csv",
    ]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/no/such/log"));
}

#[test]
fn the_shipped_demo_model_is_the_network_trained_on_the_default_world() {
    use deepcuts::coldstart::split::{Part, TrackSplit};
    use deepcuts::convnet::infer::InferOptions;
    use deepcuts::convnet::InferDevice;
    use deepcuts::pipeline::{stage_status, Stage, StageState};
    use deepcuts::project::shipped_model::{self, sha256_hex, Manifest};

    let manifest = Manifest::shipped().unwrap();
    assert_eq!(manifest.world, demo::WorldConfig::default());
    assert_eq!(sha256_hex(shipped_model::WEIGHTS), manifest.weights_sha256);
    assert_eq!(sha256_hex(shipped_model::SPLIT), manifest.split_sha256);

    // The world it claims: today's default demo world has the catalog it was trained on (a
    // changed generator needs the model made again with `manifest.reproduce`).
    let dir = tempfile::tempdir().unwrap();
    let project = shipped_model::create_default_demo_project(&dir.path().join("demo")).unwrap();
    let tracks_tsv = std::fs::read(project.layout().path("tracks.tsv")).unwrap();
    assert_eq!(sha256_hex(&tracks_tsv), manifest.tracks_sha256);
    let status = stage_status(&project, Stage::Train).unwrap();
    assert_eq!(status.state, StageState::Done, "{status:?}");

    // It loads, and on test tracks it never trained on it tells styles apart: each track's
    // nearest other track by cosine of predicted factors shares its style far above chance.
    let split =
        TrackSplit::read(&project.layout().path("split.tsv"), manifest.world.tracks).unwrap();
    let world = demo::generate(&manifest.world);
    let styles = ["dub", "gabber", "ambient", "smooth-jazz"];
    let mut picked: Vec<(usize, &str)> = Vec::new();
    for style in styles {
        let of_style = world.tracks.iter().filter(|t| {
            t.tags.first().map(String::as_str) == Some(style)
                && t.kind == demo::TrackKind::Regular
                && split.part(t.index as u32) == Some(Part::Test)
        });
        picked.extend(of_style.take(10).map(|t| (t.index, style)));
    }
    assert_eq!(picked.len(), 40, "10 test tracks of each style");
    let mut mel = MelSpectrogram::new();
    let excerpts: Vec<Array2<f32>> = picked
        .iter()
        .map(|&(index, _)| mel.compute(&demo::render_excerpt(&world.tracks[index].recipe)))
        .collect();
    let net = deepcuts::predict::load_net(
        &project.layout().path("model/weights.safetensors"),
        &InferDevice::Cpu,
        1,
    )
    .unwrap();
    let views: Vec<_> = excerpts.iter().map(|e| e.view()).collect();
    let factors = net
        .run_excerpts(&views, InferOptions::default())
        .unwrap()
        .factors;
    let unit: Vec<Vec<f32>> = factors
        .rows()
        .into_iter()
        .map(|row| {
            let norm = row.dot(&row).sqrt();
            row.iter().map(|v| v / norm).collect()
        })
        .collect();
    let cosine =
        |a: usize, b: usize| -> f32 { unit[a].iter().zip(&unit[b]).map(|(x, y)| x * y).sum() };
    let correct = (0..picked.len())
        .filter(|&a| {
            let nearest = (0..picked.len())
                .filter(|&b| b != a)
                .max_by(|&b, &c| cosine(a, b).total_cmp(&cosine(a, c)))
                .unwrap();
            picked[nearest].1 == picked[a].1
        })
        .count();
    assert!(
        correct as f64 / picked.len() as f64 >= 0.75,
        "{correct} of {} test tracks have a nearest neighbour of their style (chance 1/4)",
        picked.len()
    );
}

#[test]
fn a_first_pass_predicts_and_maps_a_spread_sample_before_the_rest() {
    use deepcuts::pipeline::{self, stage_status, Event, RunEnd, RunOptions, Stage, StageState};
    use deepcuts::project::shipped_model;
    use std::sync::atomic::{AtomicBool, Ordering};

    // The default demo world with its shipped model: trained, no features yet.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("demo");
    shipped_model::create_default_demo_project(&root).unwrap();
    let options = RunOptions {
        first_pass: Some(8),
        threads: Some(1),
        ..RunOptions::default()
    };
    // Stop when the whole collection's features start, after the first map.
    let cancel = AtomicBool::new(false);
    let mut events = Vec::new();
    let report = pipeline::run(
        &root,
        &options,
        &mut |event| {
            if let Event::Started { why, .. } = &event {
                cancel.store(why.starts_with("stale"), Ordering::SeqCst);
            }
            match &event {
                Event::Started { stage, why } => events.push((*stage, why.clone())),
                Event::Finished { stage, .. } => events.push((*stage, "done".into())),
                _ => {}
            }
        },
        &cancel,
    )
    .unwrap();
    assert_eq!(
        report.end,
        RunEnd::Cancelled {
            stage: Stage::Features
        },
        "{events:?}"
    );
    let order: Vec<Stage> = events.iter().map(|(stage, _)| *stage).collect();
    use Stage::{Features, Predict, Tsne};
    assert_eq!(
        order,
        [Features, Features, Predict, Predict, Tsne, Tsne, Features, Features],
        "{events:?}"
    );
    assert!(
        events[0]
            .1
            .starts_with("first pass: 8 tracks spread over the collection"),
        "{events:?}"
    );
    let tracks = demo::WorldConfig::default().tracks;
    let rest = format!("{} tracks to do", tracks - 8);
    assert!(
        events[6].1.starts_with(&format!("stale: {rest}")),
        "{events:?}"
    );

    // The sample: every (tracks/8)th track, from the first.
    let sample: Vec<usize> = (0..8).map(|i| i * tracks / 8).collect();
    let project = Project::open(&root).unwrap();
    let store = open_store(&project, Shard::ALL).unwrap();
    let done: Vec<usize> = (0..tracks)
        .filter(|&row| store.status(row) == RowStatus::Done)
        .collect();
    assert_eq!(done, sample);
    // Predictions for those tracks only; the others are listed as without features.
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(root.join("predict/report.json")).unwrap()).unwrap();
    assert_eq!(report["predicted"], 8, "{report}");
    assert_eq!(report["skipped"].as_array().unwrap().len(), tracks - 8);
    // The map: a point for each of them and none for the rest.
    let map: Array2<f32> = ndarray_npy::read_npy(root.join("maps/tsne.npy")).unwrap();
    let mapped: Vec<usize> = (0..tracks)
        .filter(|&row| map.row(row).iter().all(|v| v.is_finite()))
        .collect();
    assert_eq!(mapped, sample);
    // Both are up to date with the features there are; the features are not done.
    for stage in [Predict, Tsne] {
        assert_eq!(
            stage_status(&project, stage).unwrap().state,
            StageState::Done
        );
    }
    assert_eq!(
        stage_status(&project, Features).unwrap().state,
        StageState::Stale(rest)
    );
}
