//! Frame times of the app with a 100k-track library (not asserted; prints figures):
//!
//!     cargo bench --bench app_frames [-- TRACKS]
//!
//! Makes (once) a demo project of TRACKS tracks (default 100 000) under the target folder, opens
//! the library view offscreen with egui_kittest and wgpu (lavapipe on a machine without a GPU),
//! and times 300 frames — layout, tessellation and rendering — scrolling the table a page or a
//! row per frame, as a person holding Page Down and ↓ would.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use deepcuts::app::{AppOptions, DeepcutsApp, ViewKind};
use deepcuts::audio::player::{CaptureSink, OutputFormat, Player};
use deepcuts::demo::WorldConfig;
use deepcuts::project::demo_project::create_demo_project;
use egui_kittest::Harness;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let tracks: usize = match std::env::args().skip(1).find(|a| !a.starts_with("--")) {
        Some(n) => n.parse()?,
        None => 100_000,
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/tmp")
        .join(format!("app-frames-{tracks}"));
    if !dir.join("deepcuts.sqlite").exists() {
        let config = WorldConfig {
            tracks,
            users: 20,
            seed: 1,
        };
        create_demo_project(&dir, &config)?;
    }
    let sink = CaptureSink::new(OutputFormat {
        sample_rate_hz: 48_000,
        channels: 2,
    });
    let player = Player::with_output(Box::new(sink))?;
    let options = AppOptions {
        dir: Some(dir),
        view: Some(ViewKind::Library),
        ..Default::default()
    };
    let mut harness = Harness::builder()
        .with_size([1280.0, 800.0])
        .wgpu()
        .build_ui_state(
            |ui, app: &mut DeepcutsApp| app.ui_offscreen(ui),
            DeepcutsApp::new(&egui::Context::default(), None, options, Some(player)),
        );
    let opened = Instant::now();
    while harness.state().state.project.is_none() {
        if opened.elapsed() > Duration::from_secs(120) {
            return Err("the project did not open within 2 minutes".into());
        }
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    println!(
        "{tracks}-track project read in {:.2} s (background thread)",
        opened.elapsed().as_secs_f64()
    );
    harness.run_steps(3);
    // egui's side (input, layout, tessellation) and the renderer's (lavapipe rasterising and
    // the read-back kittest adds) are timed apart: the second depends on the rasteriser.
    let mut ui_times = Vec::new();
    let mut frame_times = Vec::new();
    for frame in 0..300 {
        let started = Instant::now();
        let key = if frame % 2 == 0 {
            egui::Key::PageDown
        } else {
            egui::Key::ArrowDown
        };
        harness.key_press(key);
        harness.step();
        ui_times.push(started.elapsed());
        harness.render()?;
        frame_times.push(started.elapsed());
    }
    for (what, times) in [
        ("egui (layout + tessellation)", &mut ui_times),
        (
            "whole frame (+ wgpu render and read-back)",
            &mut frame_times,
        ),
    ] {
        times.sort();
        let at =
            |q: f64| times[((times.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1e3;
        println!(
            "library of {tracks} tracks, 1280×800, {} frames scrolled, {what}: median {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            times.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
    Ok(())
}
