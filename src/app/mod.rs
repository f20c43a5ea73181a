//! The desktop app (eframe + egui): panels around tiled views, one selection every view
//! reflects, a transport bar and a status line. It runs the CLI's library functions on
//! background threads and never computes on the UI thread.
//!
//! ```text
//! ┌ top bar: Project ▾ View ▾ Help · project · running job ────────────────────┐
//! │ library (left) │ views (egui_tiles): Library Spectrogram Jobs   │ selection │
//! │                │ Filters Playlists Similar Outliers            │           │
//! ├ transport: ▶ seek position volume output · status line ────────────────────┤
//! ```
//!
//! [`state::AppState`] is the store: views read it and send [`state::Command`]s, applied between
//! frames; background threads report through [`background::Sender`] (a bounded channel that
//! wakes the UI).

mod background;
mod colormap;
mod filters_view;
mod frame_log;
mod job_progress;
mod jobs_view;
mod library;
mod map_data;
mod map_points;
mod map_store;
mod map_view;
mod outliers_view;
mod picker;
mod playlists_view;
mod project_data;
mod results_data;
mod selection;
mod similar_view;
pub mod spatial_index;
mod spectrogram;
mod spectrogram_data;
mod state;
mod top_bar;
mod track_list;
mod transport;

use std::path::PathBuf;

use crate::audio::player::Player;
use crate::convnet::InferDevice;
use crate::gpu::GpuContext;

pub use state::{AppState, Command, TrackSet};

/// The centre views.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
pub enum ViewKind {
    Library,
    Map,
    Filters,
    Playlists,
    Spectrogram,
    Similar,
    Outliers,
    Jobs,
}

impl ViewKind {
    /// In the tab bar's order (APP.md): the keys 1–8 follow it.
    pub const ALL: [ViewKind; 8] = [
        ViewKind::Library,
        ViewKind::Map,
        ViewKind::Filters,
        ViewKind::Playlists,
        ViewKind::Spectrogram,
        ViewKind::Similar,
        ViewKind::Outliers,
        ViewKind::Jobs,
    ];

    pub fn title(self) -> &'static str {
        match self {
            ViewKind::Library => "Library",
            ViewKind::Spectrogram => "Spectrogram",
            ViewKind::Jobs => "Jobs",
            ViewKind::Map => "Map",
            ViewKind::Filters => "Filters",
            ViewKind::Playlists => "Playlists",
            ViewKind::Similar => "Similar",
            ViewKind::Outliers => "Outliers",
        }
    }
}

/// How the app starts.
#[derive(Debug, Clone, Default)]
pub struct AppOptions {
    /// The project to open (`None`: the last one, else nothing).
    pub dir: Option<PathBuf>,
    /// Run the project's missing stages once it is open (and make it first if it is missing:
    /// the demo world on `deepcuts` without arguments).
    pub run_pipeline: bool,
    /// The view to show first.
    pub view: Option<ViewKind>,
}

/// What survives a restart (eframe's storage): projects and the layout. Column widths are in
/// egui's own memory, which eframe stores too.
#[derive(serde::Serialize, serde::Deserialize)]
struct Persisted {
    last_project: Option<PathBuf>,
    recent: Vec<PathBuf>,
    tree: egui_tiles::Tree<ViewKind>,
}

/// The app: the state, the views' own state and the layout.
pub struct DeepcutsApp {
    pub state: AppState,
    tree: egui_tiles::Tree<ViewKind>,
    top_bar: top_bar::TopBar,
    library: library::LibraryView,
    spectrogram: spectrogram::SpectrogramView,
    jobs: jobs_view::JobsView,
    analysis: AnalysisViews,
    /// Frame times for `DEEPCUTS_FRAME_TIMES`.
    frame_log: Option<frame_log::FrameLog>,
}

/// The analysis views' own state.
#[derive(Default)]
struct AnalysisViews {
    filters: filters_view::FiltersView,
    playlists: playlists_view::PlaylistsView,
    similar: similar_view::SimilarView,
    outliers: outliers_view::OutliersView,
    map: map_view::MapView,
}

impl DeepcutsApp {
    /// The app on `ctx`, restoring what `storage` kept; `player` replaces the default audio
    /// output (tests pass a capture sink's).
    pub fn new(
        ctx: &egui::Context,
        storage: Option<&dyn eframe::Storage>,
        options: AppOptions,
        player: Option<Player>,
    ) -> Self {
        let persisted: Option<Persisted> =
            storage.and_then(|s| eframe::get_value(s, eframe::APP_KEY));
        let mut state = AppState::new(ctx, player);
        let (tree, last_project) = match persisted {
            Some(p) => {
                state.recent = p.recent;
                // A layout saved by a version without some view would hide it: start afresh.
                let tree = if has_every_view(&p.tree) {
                    p.tree
                } else {
                    default_tree()
                };
                (tree, p.last_project)
            }
            None => (default_tree(), None),
        };
        if let Some(dir) = options.dir.or(last_project) {
            state.open(dir, options.run_pipeline);
        }
        state.show_view = options.view;
        Self {
            state,
            tree,
            top_bar: top_bar::TopBar::default(),
            library: library::LibraryView::default(),
            spectrogram: spectrogram::SpectrogramView::default(),
            jobs: jobs_view::JobsView::default(),
            analysis: AnalysisViews::default(),
            frame_log: frame_log::FrameLog::from_env(),
        }
    }

    /// Where track `row` is drawn on the map view, in screen points, when it was on screen
    /// last frame (tests and scripts drive the map with it).
    pub fn map_point_on_screen(&self, row: usize) -> Option<egui::Pos2> {
        self.analysis.map.screen_position(&self.state, row)
    }

    /// [`Self::ui_root`] over the panel colour, for renderers that clear to transparent
    /// (egui_kittest); the window clears to it ([`eframe::App::clear_color`]).
    pub fn ui_offscreen(&mut self, ui: &mut egui::Ui) {
        ui.painter()
            .rect_filled(ui.max_rect(), 0.0, ui.visuals().panel_fill);
        self.ui_root(ui);
    }

    /// One frame: apply what arrived and what views asked, then draw every panel.
    pub fn ui_root(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        self.state.apply_pending(&ctx);
        self.keyboard(&ctx);
        if let Some(view) = self.state.show_view.take() {
            self.tree.make_active(
                |_, tile| matches!(tile, egui_tiles::Tile::Pane(pane) if *pane == view),
            );
        }
        let bar = unfilled(egui::Frame::side_top_panel(ui.style()));
        egui::Panel::top("top")
            .frame(bar)
            .show(ui, |ui| self.top_bar.ui(ui, &mut self.state));
        egui::Panel::bottom("transport").frame(bar).show(ui, |ui| {
            ui.add_space(2.0);
            transport::ui(ui, &mut self.state);
            ui.separator();
            transport::status_line(ui, &self.state);
        });
        egui::Panel::right("selection")
            .frame(bar)
            .resizable(true)
            .default_size(260.0)
            .show(ui, |ui| selection::ui(ui, &mut self.state));
        let central = unfilled(egui::Frame::central_panel(ui.style()));
        egui::CentralPanel::default().frame(central).show(ui, |ui| {
            let mut behavior = Behavior {
                state: &mut self.state,
                library: &mut self.library,
                spectrogram: &mut self.spectrogram,
                jobs: &mut self.jobs,
                analysis: &mut self.analysis,
            };
            self.tree.ui(&mut behavior, ui);
        });
    }

    /// The app-wide keys (APP.md), when no text field has the keyboard.
    fn keyboard(&mut self, ctx: &egui::Context) {
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        let pressed = |key| ctx.input(|i| i.key_pressed(key));
        if pressed(egui::Key::Space) {
            self.state.send(Command::TogglePlay);
        }
        if pressed(egui::Key::ArrowLeft) {
            self.state.send(Command::SeekBy(-5.0));
        }
        if pressed(egui::Key::ArrowRight) {
            self.state.send(Command::SeekBy(5.0));
        }
        if pressed(egui::Key::Escape) {
            self.state.send(Command::Select(None));
        }
        if pressed(egui::Key::Slash) {
            self.library.focus_search = true;
            self.state.send(Command::ShowView(ViewKind::Library));
        }
        const VIEW_KEYS: [egui::Key; 8] = [
            egui::Key::Num1,
            egui::Key::Num2,
            egui::Key::Num3,
            egui::Key::Num4,
            egui::Key::Num5,
            egui::Key::Num6,
            egui::Key::Num7,
            egui::Key::Num8,
        ];
        for (key, view) in VIEW_KEYS.into_iter().zip(ViewKind::ALL) {
            if pressed(key) {
                self.state.send(Command::ShowView(view));
            }
        }
    }

    fn persisted(&self) -> Persisted {
        Persisted {
            last_project: self.state.project.as_ref().map(|p| p.dir.clone()),
            recent: self.state.recent.clone(),
            tree: self.tree.clone(),
        }
    }
}

/// A panel frame without its fill: the window's clear colour is the panel colour, and on a
/// software rasterizer every full-window fill costs tens of milliseconds (lavapipe on this
/// 2-core machine: one 1280x800 fill 40-85 ms; the five stacked panel fills made every frame
/// 120 ms, where an empty eframe window takes 7).
pub(crate) fn unfilled(frame: egui::Frame) -> egui::Frame {
    frame.fill(egui::Color32::TRANSPARENT)
}

/// Every view as a tab.
fn default_tree() -> egui_tiles::Tree<ViewKind> {
    egui_tiles::Tree::new_tabs(egui::Id::unique("views"), ViewKind::ALL.to_vec())
}

/// Whether `tree` has a pane for every view.
fn has_every_view(tree: &egui_tiles::Tree<ViewKind>) -> bool {
    ViewKind::ALL.iter().all(|view| {
        tree.tiles
            .iter()
            .any(|(_, tile)| matches!(tile, egui_tiles::Tile::Pane(pane) if pane == view))
    })
}

struct Behavior<'a> {
    state: &'a mut AppState,
    library: &'a mut library::LibraryView,
    spectrogram: &'a mut spectrogram::SpectrogramView,
    jobs: &'a mut jobs_view::JobsView,
    analysis: &'a mut AnalysisViews,
}

impl egui_tiles::Behavior<ViewKind> for Behavior<'_> {
    fn tab_title_for_pane(&mut self, pane: &ViewKind) -> egui::WidgetText {
        pane.title().into()
    }

    fn pane_ui(
        &mut self,
        ui: &mut egui::Ui,
        _tile_id: egui_tiles::TileId,
        pane: &mut ViewKind,
    ) -> egui_tiles::UiResponse {
        unfilled(egui::Frame::central_panel(ui.style())).show(ui, |ui| match pane {
            ViewKind::Library => self.library.ui(ui, self.state),
            ViewKind::Spectrogram => self.spectrogram.ui(ui, self.state),
            ViewKind::Jobs => self.jobs.ui(ui, self.state),
            ViewKind::Filters => self.analysis.filters.ui(ui, self.state),
            ViewKind::Playlists => self.analysis.playlists.ui(ui, self.state),
            ViewKind::Similar => self.analysis.similar.ui(ui, self.state),
            ViewKind::Outliers => self.analysis.outliers.ui(ui, self.state),
            ViewKind::Map => self.analysis.map.ui(ui, self.state),
        });
        egui_tiles::UiResponse::None
    }

    fn simplification_options(&self) -> egui_tiles::SimplificationOptions {
        egui_tiles::SimplificationOptions {
            all_panes_must_have_tabs: true,
            ..Default::default()
        }
    }
}

impl eframe::App for DeepcutsApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        if let Some(log) = &mut self.frame_log {
            log.record(frame.info());
        }
        self.ui_root(ui);
    }

    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, eframe::APP_KEY, &self.persisted());
    }
}

/// Why the app could not run.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No display (neither `DISPLAY` nor `WAYLAND_DISPLAY`), or the window could not open.
    #[error("cannot open a window: {0}")]
    NoWindow(String),
}

/// Whether a display server is named in the environment (winit needs one).
pub fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|name| std::env::var_os(name).is_some_and(|v| !v.is_empty()))
}

/// Opens the window and runs the app until it is closed.
pub fn run(options: AppOptions) -> Result<(), AppError> {
    if !has_display() {
        return Err(AppError::NoWindow(
            "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)".into(),
        ));
    }
    let mut native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("deepcuts")
            .with_inner_size([1280.0, 800.0])
            .with_min_inner_size([800.0, 500.0]),
        ..Default::default()
    };
    // On the GL backend egui-wgpu asks for WebGL2 limits; ask for the adapter's own instead
    // (PLATFORM.md), so a later compute pipeline works on eframe's device.
    native.wgpu_options.wgpu_setup = egui_wgpu_setup();
    eframe::run_native(
        "deepcuts",
        native,
        Box::new(move |cc| {
            let mut app = DeepcutsApp::new(&cc.egui_ctx, cc.storage, options, None);
            if let Some(render_state) = &cc.wgpu_render_state {
                map_points::set_target_format(&cc.egui_ctx, render_state.target_format);
                // Inference shares eframe's device when it is a hardware GPU (a software one
                // is slower than the CPU path).
                let info = render_state.adapter.get_info();
                if info.device_type != eframe::wgpu::DeviceType::Cpu {
                    app.state.inference_device = InferDevice::Shared(Box::new(GpuContext {
                        device: render_state.device.clone(),
                        queue: render_state.queue.clone(),
                        info,
                    }));
                }
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|error| AppError::NoWindow(error.to_string()))
}

/// eframe's wgpu device with the adapter's limits (keeping 2-D textures at 8192).
fn egui_wgpu_setup() -> eframe::egui_wgpu::WgpuSetup {
    let mut setup = eframe::egui_wgpu::WgpuSetupCreateNew::without_display_handle();
    setup.device_descriptor = std::sync::Arc::new(|adapter: &eframe::wgpu::Adapter| {
        let mut limits = adapter.limits();
        limits.max_texture_dimension_2d = limits.max_texture_dimension_2d.min(8192);
        eframe::wgpu::DeviceDescriptor {
            label: Some("deepcuts"),
            required_limits: limits,
            ..Default::default()
        }
    });
    eframe::egui_wgpu::WgpuSetup::CreateNew(setup)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_layout_missing_a_view_is_not_restored() {
        let old = egui_tiles::Tree::new_tabs(
            egui::Id::unique("old"),
            vec![ViewKind::Library, ViewKind::Jobs],
        );
        assert!(!has_every_view(&old));
        assert!(has_every_view(&default_tree()));
    }
}
