//! The desktop app driven as a person would (egui_kittest, offscreen wgpu): open a project,
//! search the library and select a track, see its spectrogram, play and pause through a
//! capture sink, start and cancel a job. Snapshots of the main views are in
//! `tests/snapshots/` (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deepcuts::app::{AppOptions, DeepcutsApp, ViewKind};
use deepcuts::audio::player::{CaptureSink, OutputFormat, PlaybackState, Player};
use deepcuts::demo::WorldConfig;
use deepcuts::dsp::mel::MelSpectrogram;
use deepcuts::features::{self, RowStatus, Shard};
use deepcuts::project::audio_source::TrackAudio;
use deepcuts::project::demo_project::create_demo_project;
use deepcuts::project::Project;
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;

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
            |ui, app: &mut DeepcutsApp| app.ui_root(ui),
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
