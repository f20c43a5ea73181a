//! Map view frame times and hover lookups (not asserted; prints figures).
//!
//!     cargo bench --bench map_frames -- [POINTS...]      (default: 100000 1000000)
//!
//! For each size: a project of that many tracks (synthetic catalog rows, so the library holds
//! them all) with a clustered map written to `maps/tsne.npy`, opened in the app on the map
//! view (egui_kittest, offscreen wgpu: lavapipe on a machine without a GPU). Each frame drags
//! the map a few pixels (panning) and is laid out and rendered; median and 99th percentile of
//! 120 frames. Then the spatial index's hover lookup, 100 000 queries at random places.

use std::path::Path;
use std::time::{Duration, Instant};

use deepcuts::app::spatial_index::PointGrid;
use deepcuts::app::{AppOptions, DeepcutsApp, ViewKind};
use deepcuts::audio::player::{CaptureSink, OutputFormat, Player};
use deepcuts::project::{NewTrack, Project};
use egui_kittest::Harness;

/// A fixed-seed xorshift in [0, 1).
struct Random(u64);

impl Random {
    fn next(&mut self) -> f32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// `points` positions in 40 Gaussian-ish clusters (sums of uniforms), like a t-SNE map.
fn clustered(points: usize) -> Vec<[f32; 2]> {
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let centres: Vec<[f32; 2]> = (0..40)
        .map(|_| [random.next() * 100.0 - 50.0, random.next() * 100.0 - 50.0])
        .collect();
    (0..points)
        .map(|i| {
            let c = centres[i % centres.len()];
            let mut jitter = || (0..4).map(|_| random.next()).sum::<f32>() * 2.0 - 4.0;
            [c[0] + jitter(), c[1] + jitter()]
        })
        .collect()
}

fn make_project(dir: &Path, positions: &[[f32; 2]]) {
    if dir.exists() {
        std::fs::remove_dir_all(dir).expect("the old project can be removed");
    }
    let mut project = Project::create(dir).expect("the project is made");
    let styles = [
        "dub", "gabber", "chiptune", "bossa", "drone", "polka", "grime", "raga",
    ];
    let tracks: Vec<NewTrack> = (0..positions.len())
        .map(|i| NewTrack {
            source: format!("synthetic:{i}"),
            artist: format!("Artist {}", i % 5000),
            title: format!("Track {i}"),
            album: format!("Album {}", i % 20000),
            duration_secs: Some(180.0),
            tags: vec![styles[i % 40 % styles.len()].to_owned()],
            kind: String::new(),
        })
        .collect();
    project.add_tracks(&tracks).expect("the tracks are added");
    let map = ndarray::Array2::from_shape_fn((positions.len(), 2), |(i, axis)| positions[i][axis]);
    deepcuts::io::npy::write(&dir.join("maps/tsne.npy"), &map).expect("the map is written");
}

fn quantiles(mut times: Vec<Duration>) -> (f64, f64) {
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
    (at(0.5), at(0.99))
}

fn frames(dir: &Path, points: usize) {
    let player = Player::with_output(Box::new(CaptureSink::new(OutputFormat {
        sample_rate_hz: 48_000,
        channels: 2,
    })))
    .expect("a capture sink attaches");
    let options = AppOptions {
        dir: Some(dir.to_owned()),
        view: Some(ViewKind::Map),
        ..Default::default()
    };
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .wgpu()
        .build_ui_state(
            |ui, app: &mut DeepcutsApp| app.ui_offscreen(ui),
            DeepcutsApp::new(&egui::Context::default(), None, options, Some(player)),
        );
    let started = Instant::now();
    while harness.state().map_point_on_screen(points / 2).is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "the map never showed"
        );
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    println!(
        "{points} points: project open and map drawn after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    harness
        .render()
        .expect("the first frame renders (buffers upload)");
    let centre = egui::pos2(500.0, 450.0);
    harness.hover_at(centre);
    harness.step();
    harness.drag_at(centre);
    harness.step();
    let (mut times, mut layouts) = (Vec::new(), Vec::new());
    for frame in 0..120 {
        // Back and forth, 4 px a frame.
        let offset = ((frame % 40) as f32 - 20.0).abs() * 4.0;
        let started = Instant::now();
        harness.hover_at(centre + egui::vec2(offset, offset * 0.5));
        harness.step();
        layouts.push(started.elapsed());
        harness.render().expect("the frame renders");
        times.push(started.elapsed());
    }
    harness.drop_at(centre);
    let (median, p99) = quantiles(times);
    let (layout_median, layout_p99) = quantiles(layouts);
    println!(
        "{points} points, panning, 1280×800: frame (layout + render + readback) median {median:.1} ms, \
         p99 {p99:.1} ms; layout alone median {layout_median:.1} ms, p99 {layout_p99:.1} ms"
    );
}

fn hover_lookups(positions: &[[f32; 2]]) {
    let started = Instant::now();
    let grid = PointGrid::new(positions);
    let built = started.elapsed();
    let mut random = Random(7);
    let queries: Vec<[f32; 2]> = (0..100_000)
        .map(|_| [random.next() * 110.0 - 55.0, random.next() * 110.0 - 55.0])
        .collect();
    // A whole map on an 800-pixel plot: about 7 pixels a unit; 8-pixel reach.
    let mut times = Vec::with_capacity(queries.len());
    let mut found = 0;
    for q in &queries {
        let started = Instant::now();
        found += usize::from(grid.nearest(positions, *q, [7.0, 7.0], 8.0).is_some());
        times.push(started.elapsed());
    }
    let (median, p99) = quantiles(times);
    println!(
        "{} points: grid built in {:.0} ms; hover lookup median {:.4} ms, p99 {:.4} ms ({found} of {} found a point)",
        positions.len(),
        built.as_secs_f64() * 1e3,
        median,
        p99,
        queries.len()
    );
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        sizes
    };
    for points in sizes {
        let dir = std::env::temp_dir().join(format!("deepcuts-map-bench-{points}"));
        let positions = clustered(points);
        let started = Instant::now();
        make_project(&dir, &positions);
        println!(
            "{points} points: project made in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        hover_lookups(&positions);
        frames(&dir, points);
    }
}
