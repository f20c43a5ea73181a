//! The desktop app driven as a person would (egui_kittest, offscreen wgpu): open a project,
//! search the library and select a track, see its spectrogram, play and pause through a
//! capture sink, start and cancel a job; on a project whose predictions the test wrote: click
//! a filter and get its playlist (against a brute-force ranking), name it, play a playlist
//! entry from its peak (heard through the capture sink), see a track's neighbours query first
//! (against brute-force cosine) and its CF recommendations with the planted misfit flagged.
//! Snapshots of every view are in
//! `tests/snapshots/` (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deepcuts::analysis::names::{Named, Names};
use deepcuts::analysis::playlists::PlaylistQuery;
use deepcuts::app::{AppOptions, DeepcutsApp, TrackSet, ViewKind};
use deepcuts::audio::player::{CaptureSink, OutputFormat, PlaybackState, Player};
use deepcuts::convnet::{ConvnetConfig, ConvnetWeights};
use deepcuts::demo::WorldConfig;
use deepcuts::dsp::mel::MelSpectrogram;
use deepcuts::features::{self, RowStatus, Shard};
use deepcuts::io::npy;
use deepcuts::project::audio_source::TrackAudio;
use deepcuts::project::demo_project::create_demo_project;
use deepcuts::project::Project;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use ndarray::Array2;

/// Tracks whose features the fixture computes (of 30): the rest are left for a job to do.
const FEATURED: usize = 8;

/// How many of the project's 30 tracks have their features.
fn featured(dir: &Path) -> usize {
    let project = Project::open(dir).expect("opens");
    let store = features::open_store(&project, Shard::ALL).expect("store");
    (0..30)
        .filter(|&row| store.status(row) == RowStatus::Done)
        .count()
}

/// A demo project of 30 tracks and 20 listeners with the first `FEATURED` tracks' features, in
/// a folder under the target directory named relative to the package (snapshots show it).
fn project(name: &str) -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let dir = target
        .strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .map_or_else(|_| target.clone(), Path::to_owned)
        .join(format!("app-{name}"));
    if dir.exists() {
        std::fs::remove_dir_all(&dir).expect("the old fixture can be removed");
    }
    let config = WorldConfig {
        tracks: 30,
        users: 20,
        seed: 1,
    };
    let (project, _) = create_demo_project(&dir, &config).expect("the demo project is made");
    // The first FEATURED tracks' features, written row by row as the features stage would.
    let tracks = project.catalog().tracks().expect("tracks");
    let audio = TrackAudio::new(&tracks);
    let mut mel = MelSpectrogram::new();
    let mut store = features::open_store(&project, Shard::ALL).expect("store");
    for row in 0..FEATURED {
        let excerpt = audio.excerpt(row).expect("a demo excerpt");
        let values = mel.compute(&excerpt.samples);
        store
            .write_row(row, values.as_slice().expect("contiguous"))
            .expect("the row is written");
    }
    dir
}

fn capture_player() -> (Player, CaptureSink) {
    let sink = CaptureSink::new(OutputFormat {
        sample_rate_hz: 48_000,
        channels: 2,
    });
    let player = Player::with_output(Box::new(sink.clone())).expect("a capture sink attaches");
    (player, sink)
}

/// Tracks of the fixture.
const TRACKS: usize = 30;
const FILTERS: usize = 4;
const UNITS: usize = 6;
const FACTORS: usize = 3;
/// Tracks 0..CLUSTER sound alike and are listened to together.
const CLUSTER: usize = 20;
/// A track that sounds like nothing in the cluster but is listened to with it (an intro
/// or a cover, as the outlier filter means them).
const MISFIT: usize = 25;
/// Tracks without listens: zero WMF rows.
const NO_LISTENS: [usize; 2] = [28, 29];

/// A deterministic pseudo-random value in [0, 1) for `(i, j, salt)`.
fn noise(i: usize, j: usize, salt: usize) -> f32 {
    let mut x = (i as u64 * 2_654_435_761) ^ (j as u64 * 40_503) ^ (salt as u64 * 97_531);
    x ^= x >> 13;
    x = x.wrapping_mul(0x5bd1_e995);
    x ^= x >> 15;
    (x % 10_007) as f32 / 10_007.0
}

/// What the fixture's predictions are, so tests can rank them by brute force.
struct Predictions {
    conv1_max: Array2<f32>,
    conv1_peak: Array2<u32>,
    /// Predicted factors.
    audio: Array2<f32>,
    /// WMF item factors.
    cf: Array2<f32>,
}

/// The fixture project with predictions written as `deepcuts predict` writes them (a tiny
/// network's weights, `predict/*.npy`, `predict/report.json`) and WMF item factors: the
/// cluster's audio factors lie close to one direction, the others' anywhere; the WMF factors
/// follow the audio except the misfit's, which sits in the cluster.
fn analysed_project(name: &str, filters: usize) -> (PathBuf, Predictions) {
    let dir = project(name);
    let config = ConvnetConfig {
        n_mels: 128,
        filters: [filters, 4, 4, 4],
        pools: [4, 2, 2],
        dense: vec![5, UNITS],
        factors: FACTORS,
    };
    let model = dir.join("model/weights.safetensors");
    ConvnetWeights::init(&config, 1)
        .save(&model)
        .expect("weights");
    let activations = |columns: usize, salt: usize| {
        Array2::from_shape_fn((TRACKS, columns), |(i, j)| noise(i, j, salt) * 3.0)
    };
    let audio = Array2::from_shape_fn((TRACKS, FACTORS), |(i, j)| {
        if i < CLUSTER {
            [1.0, 0.5, -0.3][j] + (noise(i, j, 7) - 0.5) * 0.1
        } else {
            noise(i, j, 8) - 0.5 - if j == 0 { 0.6 } else { 0.0 }
        }
    });
    let cf = Array2::from_shape_fn((TRACKS, FACTORS), |(i, j)| {
        if NO_LISTENS.contains(&i) {
            0.0
        } else if i == MISFIT {
            audio[[0, j]] + 0.01
        } else {
            audio[[i, j]] + (noise(i, j, 9) - 0.5) * 0.05
        }
    });
    let predictions = Predictions {
        conv1_max: activations(filters, 1),
        conv1_peak: Array2::from_shape_fn((TRACKS, filters), |(i, j)| {
            ((i * 13 + j * 7) % 596) as u32
        }),
        audio,
        cf,
    };
    npy::write(&dir.join("predict/conv1_max.npy"), &predictions.conv1_max).expect("write");
    npy::write(
        &dir.join("predict/conv1_mean.npy"),
        &activations(filters, 2),
    )
    .expect("write");
    npy::write(&dir.join("predict/conv1_peak.npy"), &predictions.conv1_peak).expect("write");
    npy::write(&dir.join("predict/fc2.npy"), &activations(UNITS, 3)).expect("write");
    npy::write(&dir.join("predict/factors.npy"), &predictions.audio).expect("write");
    npy::write(&dir.join("cf/item_factors.npy"), &predictions.cf).expect("write");
    let report = serde_json::json!({
        "model": model,
        "config": config,
        "tracks": TRACKS,
        "predicted": TRACKS,
        "skipped": [],
        "cancelled": false,
    });
    std::fs::write(dir.join("predict/report.json"), report.to_string()).expect("report");
    (dir, predictions)
}

/// The `k` rows with the highest `score`, ties to the lower row.
fn brute_force_top(
    k: usize,
    score: impl Fn(usize) -> f64,
    rows: impl Iterator<Item = usize>,
) -> Vec<usize> {
    let mut all: Vec<(usize, f64)> = rows.map(|r| (r, score(r))).collect();
    all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    all.into_iter().take(k).map(|(r, _)| r).collect()
}

fn cosine(m: &Array2<f32>, a: usize, b: usize) -> f64 {
    let (x, y) = (m.row(a), m.row(b));
    let dot: f64 = x
        .iter()
        .zip(y)
        .map(|(p, q)| f64::from(*p) * f64::from(*q))
        .sum();
    let norm =
        |v: ndarray::ArrayView1<f32>| v.iter().map(|p| f64::from(*p).powi(2)).sum::<f64>().sqrt();
    dot / (norm(x) * norm(y))
}

/// "Artist – Title" of track `row`, as the analysis lists show it.
fn listed_name(dir: &Path, row: usize) -> String {
    let project = Project::open(dir).expect("opens");
    let track = project.catalog().tracks().expect("tracks").swap_remove(row);
    format!("{} – {}", track.artist, track.title)
}

/// Waits until the analysis results are read.
fn wait_for_results(harness: &mut Harness<'_, DeepcutsApp>) {
    step_until(harness, "the analysis results", |app| {
        app.state.analysis.data.is_some()
    });
    if let Some(Err(why)) = &harness.state().state.analysis.data {
        panic!("the analysis results cannot be read: {}", why.message);
    }
}

fn harness(dir: &Path, view: ViewKind, player: Player) -> Harness<'static, DeepcutsApp> {
    let options = AppOptions {
        dir: Some(dir.to_owned()),
        view: Some(view),
        ..Default::default()
    };
    Harness::builder()
        .with_size([1280.0, 800.0])
        .wgpu()
        .build_ui_state(
            |ui, app: &mut DeepcutsApp| app.ui_offscreen(ui),
            DeepcutsApp::new(&egui::Context::default(), None, options, Some(player)),
        )
}

/// Steps the app until `done` holds (background threads report meanwhile), at most 30 s.
fn step_until(
    harness: &mut Harness<'_, DeepcutsApp>,
    what: &str,
    done: impl Fn(&DeepcutsApp) -> bool,
) {
    let started = Instant::now();
    while !done(harness.state()) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "timed out waiting for {what}"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let the views draw what arrived.
    harness.run_steps(3);
}

#[test]
fn search_select_see_the_spectrogram_and_play_and_pause() {
    let dir = project("library");
    let (player, sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Library, player);
    step_until(&mut harness, "the project", |app| {
        app.state.project.is_some()
    });
    assert_eq!(
        harness.state().state.selection,
        Some(0),
        "the first track is selected"
    );
    harness.get_by_label("30 of 30 tracks");
    harness.snapshot("library");

    // Search for the third track's title and pick it from the table.
    let project = Project::open(&dir).expect("opens");
    let tracks = project.catalog().tracks().expect("tracks");
    let wanted = &tracks[2];
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .focus();
    harness.run_steps(1);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text(&wanted.title);
    harness.run_steps(2);
    assert!(
        harness.query_by_label("30 of 30 tracks").is_none(),
        "the search leaves out tracks that do not match"
    );
    harness
        .get_all_by_label(&wanted.title)
        .next()
        .expect("the track is listed")
        .click();
    harness.run_steps(2);
    let row = harness
        .state()
        .state
        .selection
        .expect("a track is selected");
    let wanted = &tracks[row];
    assert!(wanted.title.contains(&tracks[2].title), "{wanted:?}");

    // Its spectrogram: the stored excerpt, with the track's name over it.
    harness.get_by_label("Spectrogram").click();
    step_until(&mut harness, "the spectrogram", |app| {
        app.state
            .mel
            .as_ref()
            .is_some_and(|m| m.row == row && m.texture.is_some())
    });
    harness.get_by_label(&format!("{} – {}", wanted.artist, wanted.title));
    harness.get_by_label("Excerpt");
    harness.snapshot("spectrogram");

    // Play the excerpt from the selection panel; the capture sink receives audio.
    harness.get_by_label("Play excerpt").click();
    step_until(&mut harness, "playback", |app| {
        app.state
            .player
            .as_ref()
            .is_some_and(|p| p.state() == PlaybackState::Playing)
    });
    let mut pulled = 0;
    for _ in 0..200 {
        pulled += sink.pull(1024);
        if pulled > 4096 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(pulled > 4096, "audio reached the output ({pulled} frames)");
    let position = harness
        .state()
        .state
        .player
        .as_ref()
        .map_or(0.0, Player::position_secs);
    let excerpt_start =
        deepcuts::audio::excerpt_start((wanted.duration_secs.unwrap_or(0.0) * 22_050.0) as usize)
            as f64
            / 22_050.0;
    assert!(
        position >= excerpt_start && position < excerpt_start + 1.0,
        "playing from the excerpt at {excerpt_start} s, not {position} s"
    );

    // Space pauses; the sink then gets only silence.
    harness.key_press(egui::Key::Space);
    harness.run_steps(2);
    assert_eq!(
        harness.state().state.player.as_ref().map(Player::state),
        Some(PlaybackState::Paused)
    );
    assert_eq!(sink.pull(1024), 0, "nothing plays while paused");
}

#[test]
fn starting_and_cancelling_a_job_keeps_what_it_finished() {
    let dir = project("jobs");
    let (player, _sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Jobs, player);
    step_until(&mut harness, "the project", |app| {
        app.state.project.is_some()
    });
    assert_eq!(featured(&dir), FEATURED);
    harness.get_by_label_contains(&format!("{} to do", 30 - FEATURED));
    harness.snapshot("jobs");

    // The features stage is the first row's Start button.
    harness
        .get_all_by_label("Start")
        .next()
        .expect("a Start button")
        .click();
    harness.run_steps(2);
    harness.get_by_label("running");
    // The stage's own Cancel (the view's top bar has one for any job).
    harness
        .get_all_by_label("Cancel")
        .last()
        .expect("a Cancel button")
        .click_accesskit();
    step_until(&mut harness, "the job to end", |app| {
        app.state.job.is_none()
    });
    step_until(&mut harness, "the project to be read again", |app| {
        !app.state.is_busy()
    });
    assert!(
        harness
            .query_all_by_label_contains("cancelled")
            .next()
            .is_some(),
        "the view says the run was cancelled: status {:?}, notes {:?}",
        harness.state().state.status,
        harness.state().state.jobs.notes
    );
    assert!(harness.query_by_label("running").is_none());

    // What finished before the cancel is kept, and some work remains.
    let done = featured(&dir);
    assert!(
        (FEATURED..30).contains(&done),
        "{done} tracks have features after the cancelled run"
    );
}

#[test]
fn clicking_a_filter_lists_its_playlists_and_naming_it_saves_the_name() {
    let (dir, predictions) = analysed_project("filters", FILTERS);
    let (player, _sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Filters, player);
    wait_for_results(&mut harness);
    harness.get_by_label("conv1 filters (4)");
    // The toolbar's share of low-level filters is `deepcuts report`'s.
    let report = std::process::Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .args(["report", &dir.to_string_lossy()])
        .output()
        .expect("deepcuts report runs");
    assert!(
        report.status.success(),
        "{}",
        String::from_utf8_lossy(&report.stderr)
    );
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("eval/report.json")).expect("the report"),
    )
    .expect("JSON");
    let low_level = json["filters"]["low_level"].as_u64().expect("a count");
    harness.get_by_label(&format!(
        "low-level: {low_level} of 4 ({:.0}%)",
        100.0 * low_level as f64 / 4.0
    ));
    // The grid's picture is the CLI's, pixel for pixel.
    let png = dir.join("filters.png");
    let cli = std::process::Command::new(env!("CARGO_BIN_EXE_deepcuts"))
        .args(["filters", &dir.to_string_lossy(), "--scale", "1", "--out"])
        .arg(&png)
        .output()
        .expect("deepcuts filters runs");
    assert!(
        cli.status.success(),
        "{}",
        String::from_utf8_lossy(&cli.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(
        std::fs::File::open(&png).expect("the PNG"),
    ));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut pixels = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut pixels).expect("one frame");
    pixels.truncate(info.buffer_size());
    let app = harness.state().state.analysis.ready().expect("results");
    let picture = app.filter_picture.as_ref().expect("the filters are drawn");
    assert_eq!(
        (picture.width, picture.height),
        (info.width as usize, info.height as usize)
    );
    assert!(picture.pixels == pixels, "the app draws the CLI's pixels");
    harness.get_by_label("filter 2").click();
    step_until(&mut harness, "filter 2's playlists", |app| {
        !app.state.analysis.is_busy() && app.state.analysis.playlists.len() == 2
    });
    harness.get_by_label("conv1 filter 2");
    // The max playlist is the ten tracks with the highest conv1 max of filter 2, in order.
    let expected = brute_force_top(10, |r| f64::from(predictions.conv1_max[[r, 2]]), 0..TRACKS);
    let shown: Vec<usize> = harness
        .state()
        .state
        .analysis
        .playlists
        .iter()
        .find(|(query, _)| query.file_stem() == "filter-2-max")
        .and_then(|(_, answer)| answer.clone()?.ok())
        .expect("the max playlist")
        .playlist
        .entries
        .iter()
        .map(|e| e.id as usize)
        .collect();
    assert_eq!(shown, expected);
    for &row in &expected {
        assert!(
            harness
                .query_all_by_label(&listed_name(&dir, row))
                .next()
                .is_some(),
            "track {row} is listed"
        );
    }
    harness
        .get_all_by_label_contains("naming help")
        .next()
        .expect("naming help");
    harness.snapshot("filters");

    // Name it in place; the name lands in analysis/names.tsv.
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .focus();
    harness.run_steps(1);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text("bright swing");
    harness.run_steps(1);
    harness.get_by_label("Save name").click();
    step_until(&mut harness, "the name to be saved", |app| {
        app.state.analysis.names.get(Named::Filter(2)) == Some("bright swing")
    });
    let saved = Names::load(&dir).expect("names.tsv reads");
    assert_eq!(saved.get(Named::Filter(2)), Some("bright swing"));
    assert_eq!(saved.get(Named::Filter(1)), None);
}

#[test]
fn a_playlist_entry_plays_from_the_moment_its_filter_peaked() {
    let (dir, predictions) = analysed_project("playlists", FILTERS);
    // The source's own rate and channels: the player passes the samples through unchanged.
    let sink = CaptureSink::new(OutputFormat {
        sample_rate_hz: 22_050,
        channels: 1,
    });
    let player = Player::with_output(Box::new(sink.clone())).expect("a capture sink attaches");
    let mut harness = harness(&dir, ViewKind::Filters, player);
    wait_for_results(&mut harness);
    // From filter 1's playlists to the Playlists view.
    harness.get_by_label("filter 1").click();
    step_until(&mut harness, "filter 1's playlists", |app| {
        !app.state.analysis.is_busy() && app.state.analysis.playlists.len() == 2
    });
    harness
        .get_all_by_label("Open in Playlists")
        .next()
        .expect("the max playlist's button")
        .click();
    harness.run_steps(3);
    harness.get_by_label("conv1 filter 1, max activation");
    harness.snapshot("playlists");

    // The third entry, clicked.
    let expected = brute_force_top(10, |r| f64::from(predictions.conv1_max[[r, 1]]), 0..TRACKS);
    let row = expected[2];
    harness.get_by_label(&listed_name(&dir, row)).click();
    step_until(&mut harness, "playback", |app| {
        app.state.now_playing == Some(row)
            && app
                .state
                .player
                .as_ref()
                .is_some_and(|p| p.state() == PlaybackState::Playing)
    });
    assert_eq!(harness.state().state.selection, Some(row));
    // The peak by hand: conv1 frame f covers crop frames f .. f + 4, i.e. excerpt frames
    // 23 + f .. 27 + f (the centre crop), centred on 24.5 + f hops of 1024 samples after the
    // excerpt's start (the middle 30 s of the track).
    let project = Project::open(&dir).expect("opens");
    let track = project.catalog().tracks().expect("tracks").swap_remove(row);
    let samples = (track.duration_secs.expect("a length") * 22_050.0).round() as usize;
    let excerpt_start = deepcuts::audio::excerpt_start(samples) as f64 / 22_050.0;
    let frame = f64::from(predictions.conv1_peak[[row, 1]]);
    let peak = excerpt_start + (24.5 + frame) * 1024.0 / 22_050.0;
    let mut pulled = 0;
    for _ in 0..200 {
        pulled += sink.pull(1024);
        if pulled >= 8192 {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(pulled >= 8192, "audio reached the output ({pulled} frames)");
    let position = harness
        .state()
        .state
        .player
        .as_ref()
        .map_or(0.0, Player::position_secs);
    assert!(
        position >= peak && position < peak + 1.0,
        "playing from the peak at {peak:.3} s, not {position:.3} s"
    );
    // What was heard is the track's audio from the peak on.
    let heard = sink.captured();
    let tracks = project.catalog().tracks().expect("tracks");
    let whole = TrackAudio::new(&tracks)
        .whole(row)
        .expect("the demo track renders");
    let at = (peak * 22_050.0).round() as usize;
    let window = 4096;
    let correlation = |offset: usize| {
        let reference = &whole[offset..offset + window];
        let dot: f64 = heard[..window]
            .iter()
            .zip(reference)
            .map(|(a, b)| f64::from(*a) * f64::from(*b))
            .sum();
        let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
        dot / (norm(&heard[..window]) * norm(reference)).max(1e-12)
    };
    assert!(
        correlation(at) > 0.99,
        "the first samples heard are the track's from its peak (correlation {:.3})",
        correlation(at)
    );
    // The spectrogram is pointed at the filter that peaked.
    assert_eq!(harness.state().state.show_filter, Some(1));

    // The audition plays the first entry from its peak, then, after its few seconds, the
    // second from its own; Space pauses it where it is.
    let peak_of = |row: usize| {
        let track = &tracks[row];
        let samples = (track.duration_secs.expect("a length") * 22_050.0).round() as usize;
        deepcuts::audio::excerpt_start(samples) as f64 / 22_050.0
            + (24.5 + f64::from(predictions.conv1_peak[[row, 1]])) * 1024.0 / 22_050.0
    };
    harness.get_by_label("Audition").click();
    let playing = |row: usize| {
        move |app: &DeepcutsApp| {
            app.state.now_playing == Some(row)
                && app
                    .state
                    .player
                    .as_ref()
                    .is_some_and(|p| p.state() == PlaybackState::Playing)
        }
    };
    step_until(&mut harness, "the first entry", playing(expected[0]));
    let position = |harness: &Harness<'_, DeepcutsApp>| {
        harness
            .state()
            .state
            .player
            .as_ref()
            .map_or(0.0, Player::position_secs)
    };
    let first = position(&harness);
    assert!(
        (peak_of(expected[0])..peak_of(expected[0]) + 0.5).contains(&first),
        "the audition starts at the first entry's peak {:.3} s, not {first:.3} s",
        peak_of(expected[0])
    );
    harness.key_press(egui::Key::Space);
    harness.run_steps(2);
    assert_eq!(sink.pull(1024), 0, "Space pauses the audition");
    assert_eq!(harness.state().state.now_playing, Some(expected[0]));
    harness.key_press(egui::Key::Space);
    harness.run_steps(2);
    let started = Instant::now();
    let mut reached = first;
    while harness.state().state.now_playing != Some(expected[1]) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the audition moves on"
        );
        sink.pull(2048);
        if harness.state().state.now_playing == Some(expected[0]) {
            reached = reached.max(position(&harness));
        }
        harness.step();
    }
    step_until(&mut harness, "the second entry", playing(expected[1]));
    let played = reached - first;
    assert!(
        (3.9..4.5).contains(&played),
        "the first entry played {played:.2} s, about four"
    );
    let second = position(&harness);
    assert!(
        (peak_of(expected[1])..peak_of(expected[1]) + 0.5).contains(&second),
        "the second entry plays from its peak {:.3} s, not {second:.3} s",
        peak_of(expected[1])
    );
    assert_eq!(harness.state().state.selection, Some(expected[1]));
}

#[test]
fn similar_lists_start_with_the_query_and_mark_the_overlap() {
    let (dir, predictions) = analysed_project("similar", FILTERS);
    let (player, _sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Similar, player);
    wait_for_results(&mut harness);
    step_until(&mut harness, "track 0's neighbours", |app| {
        !app.state.analysis.is_busy() && !app.state.analysis.neighbours.is_empty()
    });
    let lists = harness
        .state()
        .state
        .analysis
        .neighbours
        .get(&0)
        .and_then(|l| l.clone()?.ok())
        .expect("track 0's neighbours");
    let audio: Vec<usize> = lists.audio.iter().map(|&(id, _)| id as usize).collect();
    let cf: Vec<usize> = lists
        .cf
        .as_ref()
        .expect("track 0 has listens")
        .iter()
        .map(|&(id, _)| id as usize)
        .collect();
    // Query first, then brute-force cosine over the other tracks (with listens, for CF).
    let mut want_audio = vec![0];
    want_audio.extend(brute_force_top(
        9,
        |r| cosine(&predictions.audio, 0, r),
        1..TRACKS,
    ));
    let mut want_cf = vec![0];
    want_cf.extend(brute_force_top(
        9,
        |r| cosine(&predictions.cf, 0, r),
        (1..TRACKS).filter(|r| !NO_LISTENS.contains(r)),
    ));
    assert_eq!(audio, want_audio);
    assert_eq!(cf, want_cf);
    // The query heads both lists on screen; each track in both is marked in both.
    assert_eq!(
        harness.query_all_by_label("Q").count(),
        2,
        "the query is marked first in each list"
    );
    let both = want_audio[1..]
        .iter()
        .filter(|r| want_cf[1..].contains(r))
        .count();
    assert_eq!(harness.query_all_by_label("*").count(), 2 * both);
    harness.get_by_label(&format!("* in both lists: {both} of 9"));
    harness.snapshot("similar");
}

#[test]
fn outliers_flag_the_cf_recommendation_that_sounds_like_nothing_in_the_list() {
    let (dir, _predictions) = analysed_project("outliers", FILTERS);
    let (player, _sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Outliers, player);
    wait_for_results(&mut harness);
    step_until(&mut harness, "track 0's judged recommendations", |app| {
        !app.state.analysis.is_busy() && !app.state.analysis.outliers.is_empty()
    });
    let judgement = harness
        .state()
        .state
        .analysis
        .outliers
        .values()
        .next()
        .and_then(|j| j.clone()?.ok())
        .expect("a judgement");
    // Track 0's CF neighbours are the rest of its cluster and the misfit planted in it.
    let mut recommended: Vec<usize> = judgement.items.iter().map(|j| j.id as usize).collect();
    recommended.sort_unstable();
    let mut want: Vec<usize> = (1..CLUSTER).collect();
    want.push(MISFIT);
    assert_eq!(recommended, want);
    let flagged: Vec<usize> = judgement
        .items
        .iter()
        .filter(|j| j.flagged)
        .map(|j| j.id as usize)
        .collect();
    assert_eq!(flagged, vec![MISFIT], "only the misfit is flagged");
    assert_eq!(harness.query_all_by_label("!").count(), 1);
    harness.get_by_label(&listed_name(&dir, MISFIT));
    harness.snapshot("outliers");
}

/// Frame times of the filters view with 256 filters (the paper network's conv1), laid out
/// and rendered offscreen by wgpu (lavapipe without a GPU), hovering a different filter each
/// frame; prints the median and the 99th percentile. Checks the grid: equal cells, filter
/// k + 1 right of filter k or starting the next row.
#[test]
fn filters_view_with_256_filters_frame_times() {
    let (dir, _) = analysed_project("filters-256", 256);
    let (player, _sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Filters, player);
    wait_for_results(&mut harness);
    harness.get_by_label("conv1 filters (256)");
    harness.run_steps(2);
    let cells: Vec<egui::Rect> = (0..256)
        .filter_map(|k| Some(harness.query_by_label(&format!("filter {k}"))?.rect()))
        .collect();
    assert!(cells.len() >= 64, "{} filters are on screen", cells.len());
    for pair in cells.windows(2) {
        assert!((pair[0].size() - pair[1].size()).length() < 0.5, "{pair:?}");
        let next_in_row = pair[1].left() > pair[0].right() && pair[1].top() == pair[0].top();
        let next_row = pair[1].top() > pair[0].bottom() && pair[1].left() <= pair[0].left();
        assert!(next_in_row || next_row, "{pair:?}");
    }
    // The app's frame (input, layout, tessellation) and the offscreen render with its
    // readback, timed apart: the second is lavapipe's, whatever the view.
    let (mut frames, mut renders) = (Vec::new(), Vec::new());
    for frame in 0..20 {
        harness.hover_at(cells[frame % cells.len()].center());
        let started = Instant::now();
        harness.step();
        frames.push(started.elapsed());
        let started = Instant::now();
        harness.render().expect("the frame renders");
        renders.push(started.elapsed());
    }
    let quantiles = |mut times: Vec<Duration>| {
        times.sort();
        let at =
            |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
        format!("median {:.1} ms, p99 {:.1} ms", at(0.5), at(0.99))
    };
    println!(
        "filters view, 256 filters, 1280×800, 20 frames: app frame {}; offscreen render {}",
        quantiles(frames),
        quantiles(renders)
    );
}

/// Map coordinates of the fixture's 30 tracks: a 6 × 5 lattice, one unit apart, each point
/// nudged by a different small amount so that no two share an x or a y.
fn lattice(row: usize) -> [f32; 2] {
    let nudge = row as f32 * 0.013;
    [(row % 6) as f32 + nudge, (row / 6) as f32 - nudge]
}

/// The fixture with `maps/tsne.npy` written directly (no t-SNE run): track i at `lattice(i)`.
fn project_with_map(name: &str) -> PathBuf {
    let dir = project(name);
    let map = ndarray::Array2::from_shape_fn((30, 2), |(row, axis)| lattice(row)[axis]);
    deepcuts::io::npy::write(&dir.join("maps/tsne.npy"), &map).expect("the map is written");
    dir
}

/// Opens the map view on `dir` and waits until every track is on screen.
fn map_harness(dir: &Path) -> Harness<'static, DeepcutsApp> {
    let (player, _sink) = capture_player();
    let mut harness = harness(dir, ViewKind::Map, player);
    step_until(&mut harness, "the map on screen", |app| {
        (0..30).all(|row| app.map_point_on_screen(row).is_some())
    });
    harness
}

/// The screen position of map coordinates, from a linear fit through where two tracks are
/// drawn (an independent check of the plot's transform).
fn screen_of(harness: &Harness<'_, DeepcutsApp>) -> impl Fn([f32; 2]) -> egui::Pos2 {
    let (a, b) = (0, 29);
    let (pa, pb) = (
        harness.state().map_point_on_screen(a).expect("on screen"),
        harness.state().map_point_on_screen(b).expect("on screen"),
    );
    let (ma, mb) = (lattice(a), lattice(b));
    let sx = (pb.x - pa.x) / (mb[0] - ma[0]);
    let sy = (pb.y - pa.y) / (mb[1] - ma[1]);
    move |m: [f32; 2]| egui::pos2(pa.x + (m[0] - ma[0]) * sx, pa.y + (m[1] - ma[1]) * sy)
}

/// Drags the mouse along `path` (map units; `steps` moves an edge) with the map's current
/// tool, and returns the set the drag selected.
fn drag_along(harness: &mut Harness<'_, DeepcutsApp>, path: &[[f32; 2]], steps: usize) -> TrackSet {
    let screen = screen_of(harness);
    harness.hover_at(screen(path[0]));
    harness.run_steps(1);
    harness.drag_at(screen(path[0]));
    harness.run_steps(1);
    for edge in path.windows(2) {
        for step in 1..=steps {
            let t = step as f32 / steps as f32;
            let m = [
                edge[0][0] + (edge[1][0] - edge[0][0]) * t,
                edge[0][1] + (edge[1][1] - edge[0][1]) * t,
            ];
            harness.hover_at(screen(m));
            harness.run_steps(1);
        }
    }
    harness.drop_at(screen(path[path.len() - 1]));
    harness.run_steps(3);
    harness
        .state()
        .state
        .selection_set
        .clone()
        .expect("the drag made a set")
}

#[test]
fn map_hover_names_the_track_and_a_click_selects_it() {
    let dir = project_with_map("map-hover");
    let mut harness = map_harness(&dir);
    let tracks = Project::open(&dir)
        .expect("opens")
        .catalog()
        .tracks()
        .expect("tracks");
    let row = 14;
    let at = harness.state().map_point_on_screen(row).expect("on screen");
    // A pixel or two off the point still finds it.
    harness.hover_at(at + egui::vec2(1.5, -1.0));
    harness.run_steps(3);
    let wanted = &tracks[row];
    harness.get_by_label(&format!("{} – {}", wanted.artist, wanted.title));
    harness.get_by_label(&format!("style: {}", wanted.tags[0]));

    harness.drag_at(at);
    harness.run_steps(1);
    harness.drop_at(at);
    harness.run_steps(3);
    assert_eq!(harness.state().state.selection, Some(row));
}

#[test]
fn map_box_select_takes_exactly_the_points_inside() {
    let dir = project_with_map("map-box");
    let mut harness = map_harness(&dir);
    harness.get_by_label("Box select").click();
    harness.run_steps(2);
    // A box over map x ∈ [0.6, 3.7], y ∈ [0.5, 2.9], dragged corner to corner.
    let (from, to) = ([0.6, 2.9], [3.7, 0.5]);
    let expected: Vec<usize> = (0..30)
        .filter(|&row| {
            let p = lattice(row);
            (0.6..=3.7).contains(&p[0]) && (0.5..=2.9).contains(&p[1])
        })
        .collect();
    assert!(expected.len() > 5, "the box holds several points");
    let set = drag_along(&mut harness, &[from, to], 5);
    assert_eq!(set.rows, expected);
    harness.get_by_label_contains(&format!("{} tracks", expected.len()));
}

#[test]
fn map_lasso_takes_exactly_the_points_inside_and_opens_them_as_a_playlist() {
    let (dir, _) = analysed_project("map-lasso", FILTERS);
    let map = ndarray::Array2::from_shape_fn((30, 2), |(row, axis)| lattice(row)[axis]);
    npy::write(&dir.join("maps/tsne.npy"), &map).expect("the map is written");
    let mut harness = map_harness(&dir);
    wait_for_results(&mut harness);
    harness.get_by_label("Lasso select").click();
    harness.run_steps(2);
    // An L: map x ∈ (0.5, 4.5) × y ∈ (0.5, 1.5), and x ∈ (0.5, 1.5) × y ∈ (0.5, 3.5); every
    // lattice point is at least 0.1 from its edges.
    let corners = [
        [0.5, 0.5],
        [4.5, 0.5],
        [4.5, 1.5],
        [1.5, 1.5],
        [1.5, 3.5],
        [0.5, 3.5],
        [0.5, 0.5],
    ];
    let inside = |p: [f32; 2]| {
        let within = |v: f32, lo: f32, hi: f32| v > lo && v < hi;
        (within(p[0], 0.5, 4.5) && within(p[1], 0.5, 1.5))
            || (within(p[0], 0.5, 1.5) && within(p[1], 0.5, 3.5))
    };
    let expected: Vec<usize> = (0..30).filter(|&row| inside(lattice(row))).collect();
    assert!(expected.len() > 5, "the L holds several points");
    let set = drag_along(&mut harness, &corners, 8);
    assert_eq!(set.rows, expected);
    harness.get_by_label(&format!(
        "map lasso (predicted factors): {} tracks",
        expected.len()
    ));

    // The set as a playlist: every track inside, shown in the Playlists view.
    harness.get_by_label("Open as playlist").click();
    let query = PlaylistQuery::Region(set.region.clone());
    step_until(&mut harness, "the region's playlist", |app| {
        matches!(app.state.analysis.playlists.get(&query), Some(Some(Ok(_))))
    });
    harness.run_steps(2);
    let Some(Some(Ok(answer))) = harness
        .state()
        .state
        .analysis
        .playlists
        .get(&query)
        .cloned()
    else {
        unreachable!("waited for above")
    };
    let mut ids: Vec<usize> = answer
        .playlist
        .entries
        .iter()
        .map(|e| e.id as usize)
        .collect();
    ids.sort_unstable();
    assert_eq!(ids, expected);
    harness.get_by_label("lasso on the predicted map");
    harness.get_by_label("typical");
    harness.snapshot("playlist_region");
}

#[test]
fn map_search_highlights_matches_and_dims_the_rest() {
    let dir = project_with_map("map-search");
    let mut harness = map_harness(&dir);
    let tracks = Project::open(&dir)
        .expect("opens")
        .catalog()
        .tracks()
        .expect("tracks");
    // The first track's style: some tracks share it, others do not.
    let word = tracks[0].tags[0].clone();
    let matching: Vec<usize> = (0..30)
        .filter(|&row| {
            let t = &tracks[row];
            let word = word.to_lowercase();
            [&t.title, &t.artist, &t.album, &t.kind]
                .iter()
                .any(|f| f.to_lowercase().contains(&word))
                || t.tags.iter().any(|tag| tag.to_lowercase().contains(&word))
        })
        .collect();
    assert!(!matching.is_empty() && matching.len() < 30);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .focus();
    harness.run_steps(1);
    harness
        .get_by_role(egui::accesskit::Role::TextInput)
        .type_text(&word);
    harness.run_steps(3);
    harness.get_by_label(&format!("{} matches", matching.len()));

    // Pixels: a match keeps its colour, the rest fade into the background.
    harness.remove_cursor();
    harness.run_steps(2);
    let image = harness.render().expect("renders");
    let pixel = |pos: egui::Pos2| {
        let p = image.get_pixel(pos.x.round() as u32, pos.y.round() as u32);
        [i32::from(p[0]), i32::from(p[1]), i32::from(p[2])]
    };
    let background =
        pixel(harness.state().map_point_on_screen(0).expect("on screen") + egui::vec2(0.0, 25.0));
    let contrast = |row: usize| {
        let p = pixel(harness.state().map_point_on_screen(row).expect("on screen"));
        (0..3)
            .map(|c| (p[c] - background[c]).abs())
            .max()
            .unwrap_or(0)
    };
    let weakest_match = matching.iter().map(|&row| contrast(row)).min().unwrap_or(0);
    assert!(
        weakest_match > 60,
        "every match stands out ({weakest_match})"
    );
    for row in (0..30).filter(|row| !matching.contains(row)) {
        assert!(
            contrast(row) < weakest_match / 2,
            "other {row} is dimmed ({} against matches' {weakest_match})",
            contrast(row)
        );
    }
}

#[test]
fn map_view_snapshot_and_no_map_offers_the_job() {
    let dir = project_with_map("map-snapshot");
    let mut harness = map_harness(&dir);
    harness.get_by_label("Colour: style");
    harness.snapshot("map");

    // The CF map is not made yet: the view says so and offers the job.
    harness.get_by_label("CF").click();
    harness.run_steps(3);
    harness.get_by_label("No map of the CF factors yet");
    harness.get_by_label("Make t-SNE map (CF factors)");
}

#[test]
fn map_export_writes_the_points_as_csv_and_png() {
    let dir = project_with_map("map-export");
    let mut harness = map_harness(&dir);
    harness.get_by_label("Export PNG + CSV").click();
    step_until(&mut harness, "the export", |app| {
        app.state.status.starts_with("map exported")
    });
    let csv = std::fs::read_to_string(dir.join("maps/tsne_view.csv")).expect("the CSV");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,artist,title,x,y,colour");
    assert_eq!(lines.len(), 31, "a header and a line per track");
    let tracks = Project::open(&dir)
        .expect("opens")
        .catalog()
        .tracks()
        .expect("tracks");
    for (row, line) in lines[1..].iter().enumerate() {
        let fields: Vec<&str> = line.split(',').collect();
        let n = fields.len();
        let (x, y): (f32, f32) = (
            fields[n - 3].parse().expect("x"),
            fields[n - 2].parse().expect("y"),
        );
        assert_eq!([x, y], lattice(row), "line {row}: {line}");
        assert_eq!(fields[n - 1], tracks[row].tags[0], "the style colours it");
    }
    let png = std::fs::File::open(dir.join("maps/tsne_view.png")).expect("the PNG");
    let info = png::Decoder::new(std::io::BufReader::new(png))
        .read_info()
        .expect("a PNG")
        .info()
        .clone();
    assert_eq!((info.width, info.height), (2000, 2000));
}
