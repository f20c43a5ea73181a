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

/// Frame times with a 100k-track library, laid out and rendered offscreen by wgpu (lavapipe
/// on a machine without a GPU), scrolling the table a page per frame. Prints figures; run with
/// `cargo test --release --test app -- --ignored --nocapture frame_times`.
#[test]
#[ignore = "a measurement: makes a 100k-track project and renders 300 frames"]
fn frame_times_with_a_100k_track_library() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app-100k");
    if !dir.join("deepcuts.sqlite").exists() {
        let config = WorldConfig {
            tracks: 100_000,
            users: 20,
            seed: 1,
        };
        create_demo_project(&dir, &config).expect("the 100k-track project is made");
    }
    let (player, _sink) = capture_player();
    let mut harness = harness(&dir, ViewKind::Library, player);
    step_until(&mut harness, "the project", |app| {
        app.state.project.is_some()
    });
    harness.get_by_label("100000 of 100000 tracks");
    let mut times = Vec::new();
    for frame in 0..300 {
        let started = Instant::now();
        let key = if frame % 2 == 0 {
            egui::Key::PageDown
        } else {
            egui::Key::ArrowDown
        };
        harness.key_press(key);
        harness.step();
        harness.render().expect("the frame renders");
        times.push(started.elapsed());
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    println!(
        "100k-track library, 1280×800, {} frames: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        at(0.5),
        at(0.99),
        at(1.0)
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
    let screen = screen_of(&harness);
    // A box over map x ∈ [0.6, 3.7], y ∈ [0.5, 2.9], dragged corner to corner.
    let (from, to) = ([0.6, 2.9], [3.7, 0.5]);
    let expected: Vec<usize> = (0..30)
        .filter(|&row| {
            let p = lattice(row);
            (0.6..=3.7).contains(&p[0]) && (0.5..=2.9).contains(&p[1])
        })
        .collect();
    assert!(expected.len() > 5, "the box holds several points");
    harness.hover_at(screen(from));
    harness.run_steps(1);
    harness.drag_at(screen(from));
    harness.run_steps(1);
    for step in 1..=5 {
        let t = step as f32 / 5.0;
        let m = [
            from[0] + (to[0] - from[0]) * t,
            from[1] + (to[1] - from[1]) * t,
        ];
        harness.hover_at(screen(m));
        harness.run_steps(1);
    }
    harness.drop_at(screen(to));
    harness.run_steps(3);
    let set = harness
        .state()
        .state
        .selection_set
        .clone()
        .expect("the box made a set");
    assert_eq!(set.rows, expected);
    harness.get_by_label_contains(&format!("{} tracks", expected.len()));
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
