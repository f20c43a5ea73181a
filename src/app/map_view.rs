//! The map view: the t-SNE map of predicted factors (and of CF factors, toggled or side by
//! side), a point per track drawn on the GPU ([`super::map_points`]), coloured by a catalog
//! facet, plays or an activation, with a legend. Hover names the track, a click selects and
//! plays it, a dragged box or lasso makes the current track set (a region the Playlists view
//! lists), search dims what does not match. Without a map it offers the t-SNE job.

use std::sync::Arc;

use egui::Color32;
use egui_plot::{MarkerShape, Plot, PlotPoint, PlotTransform, Points};

use crate::analysis::describe::Facet;
use crate::analysis::playlists::PlaylistQuery;
use crate::analysis::regions::MapRegion;
use crate::analysis::tsne::stage::MapOf;
use crate::analysis::tsne::{TsneParams, TsneProgress};

use super::library::SearchQuery;
use super::map_data::{self, ColourBy, Colouring, Legend, LoadedMap, LoadedMaps};
use super::map_points::{MapPoints, Versioned};
use super::map_store::MapCommand;
use super::project_data::ProjectData;
use super::results_data::Request;
use super::state::{AppState, Command, TrackSet};
use super::ViewKind;

/// Which maps are on screen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Predicted,
    Cf,
    SideBySide,
}

/// What a drag on the map does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pan,
    /// Draws a box; the tracks inside become the current set.
    Box,
    /// Draws a free-hand outline; the tracks inside become the current set.
    Lasso,
}

/// The colours for one colouring, before search.
struct BaseColours {
    key: (usize, ColourBy, bool, bool),
    colouring: Colouring,
    generation: u64,
}

/// The colours drawn: the base colours with search applied, and the matches drawn on top.
struct Shaded {
    key: (u64, String),
    colours: Versioned<[Color32]>,
    /// Rows that match the search (empty without a search).
    matches: Vec<usize>,
    match_colours: Versioned<[Color32]>,
}

/// The positions of the matches on one map, for (its positions, the matches) generations.
type Overlay = ((u64, u64), Versioned<[[f32; 2]]>);

pub struct MapView {
    shown: Shown,
    colour_by: ColourBy,
    colour_blind: bool,
    pub search: String,
    /// Multiplies the automatic point size.
    size_scale: f32,
    tool: Tool,
    /// The region being dragged, map units: the press, then the pointer (box) or the path
    /// so far (lasso).
    drawing: Option<Vec<PlotPoint>>,
    base: Option<BaseColours>,
    shaded: Option<Shaded>,
    /// The t-SNE job's parameters.
    make_of: MapOf,
    perplexity: f64,
    iterations: usize,
    /// Each plot's screen transform last frame (predicted, CF).
    transforms: [Option<PlotTransform>; 2],
    /// Each map's matched positions.
    overlays: [Option<Overlay>; 2],
}

impl Default for MapView {
    fn default() -> Self {
        let defaults = TsneParams::default();
        Self {
            shown: Shown::Predicted,
            colour_by: ColourBy::Facet(Facet::Style),
            colour_blind: false,
            search: String::new(),
            size_scale: 1.0,
            tool: Tool::Pan,
            drawing: None,
            base: None,
            shaded: None,
            make_of: MapOf::Predicted,
            perplexity: defaults.perplexity,
            iterations: defaults.iterations,
            transforms: [None, None],
            overlays: [None, None],
        }
    }
}

/// Hover reach around the pointer, points.
const HOVER_RADIUS: f32 = 8.0;

/// A lasso takes a vertex each time the pointer moved this far, points.
const LASSO_STEP: f32 = 4.0;

/// How much of its colour a point that does not match the search keeps.
const DIMMED: f32 = 0.15;

fn slot(of: MapOf) -> usize {
    match of {
        MapOf::Predicted => 0,
        MapOf::Cf => 1,
    }
}

fn of_name(of: MapOf) -> &'static str {
    match of {
        MapOf::Predicted => "predicted factors",
        MapOf::Cf => "CF factors",
    }
}

/// Dot radius in points for a map of `points`: smaller as the map fills up.
fn auto_radius(points: usize) -> f32 {
    match points {
        0..=5_000 => 3.5,
        5_001..=50_000 => 2.5,
        50_001..=300_000 => 1.8,
        _ => 1.2,
    }
}

impl MapView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(project) = state.project.clone() else {
            ui.centered_and_justified(|ui| ui.label(state.no_project_text()));
            return;
        };
        let maps = state.map.maps.clone().filter(|m| m.dir == project.dir);
        self.controls(ui, state, &project, maps.as_deref());
        self.job_row(ui, state, maps.as_deref());
        ui.separator();
        let Some(maps) = maps else {
            ui.centered_and_justified(|ui| ui.label("Reading the maps…"));
            return;
        };
        let wanted: &[MapOf] = match self.shown {
            Shown::Predicted => &[MapOf::Predicted],
            Shown::Cf => &[MapOf::Cf],
            Shown::SideBySide => &[MapOf::Predicted, MapOf::Cf],
        };
        self.refresh_colours(state, &project);
        egui::Panel::right("map-legend")
            .frame(super::unfilled(egui::Frame::side_top_panel(ui.style())))
            .resizable(true)
            .default_size(220.0)
            .min_size(160.0)
            .show(ui, |ui| self.side_panel(ui, state, &project));
        ui.columns(wanted.len(), |columns| {
            for (ui, &of) in columns.iter_mut().zip(wanted) {
                match maps.get(of) {
                    Some(map) => self.plot(ui, state, &project, map),
                    None => self.no_map(ui, state, of),
                }
            }
        });
    }

    /// Where track `row` is drawn on the predicted map (else the CF map), in screen points,
    /// when it is on screen: for tests and scripted use.
    pub fn screen_position(&self, state: &AppState, row: usize) -> Option<egui::Pos2> {
        let maps = state.map.maps.as_ref()?;
        [MapOf::Predicted, MapOf::Cf].into_iter().find_map(|of| {
            let transform = self.transforms[slot(of)].as_ref()?;
            let p = *maps.get(of)?.positions.data.get(row)?;
            let pos = transform.position_from_point(&PlotPoint::new(p[0], p[1]));
            transform.frame().contains(pos).then_some(pos)
        })
    }

    fn controls(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        project: &ProjectData,
        maps: Option<&LoadedMaps>,
    ) {
        ui.horizontal_wrapped(|ui| {
            ui.label("Map");
            for (shown, name, tip) in [
                (
                    Shown::Predicted,
                    "Predicted",
                    "t-SNE of the convnet's predicted factors",
                ),
                (
                    Shown::Cf,
                    "CF",
                    "t-SNE of the listening data's factors (tracks with listens)",
                ),
                (
                    Shown::SideBySide,
                    "Side by side",
                    "Both maps, predicted on the left",
                ),
            ] {
                ui.selectable_value(&mut self.shown, shown, name)
                    .on_hover_text(tip);
            }
            ui.separator();
            let (filters, units) = maps.map_or((0, 0), |m| (m.filters, m.units));
            egui::ComboBox::from_label("colour by")
                .selected_text(self.colour_by.name())
                .show_ui(ui, |ui| {
                    for facet in Facet::ALL {
                        ui.selectable_value(
                            &mut self.colour_by,
                            ColourBy::Facet(facet),
                            facet.name(),
                        );
                    }
                    ui.selectable_value(&mut self.colour_by, ColourBy::Plays, "plays");
                });
            let filter = match self.colour_by {
                ColourBy::Filter(k) => Some(k),
                _ => None,
            };
            if let Some(k) = activation_picker(
                ui,
                filter,
                filters,
                (
                    "filter ",
                    "Colour by a conv1 filter's maximum over the excerpt",
                ),
                ("conv1", "Colour by this conv1 filter"),
            ) {
                self.colour_by = ColourBy::Filter(k);
            }
            let unit = match self.colour_by {
                ColourBy::Unit(k) => Some(k),
                _ => None,
            };
            if let Some(k) = activation_picker(
                ui,
                unit,
                units,
                ("unit ", "Colour by an fc2 unit's activation"),
                ("fc2", "Colour by this fc2 unit"),
            ) {
                self.colour_by = ColourBy::Unit(k);
            }
            ui.checkbox(&mut self.colour_blind, "Colour-blind palette")
                .on_hover_text("Okabe–Ito's 7 colours instead of Tableau's");
        });
        ui.horizontal_wrapped(|ui| {
            ui.label("Search").on_hover_text(
                "Highlight tracks whose title, artist, album, kind or tags contain every word",
            );
            ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("search the map")
                    .desired_width(160.0),
            );
            if let Some(shaded) = &self.shaded {
                if !self.search.trim().is_empty() {
                    ui.label(format!("{} matches", shaded.matches.len()));
                }
            }
            ui.separator();
            for (tool, name, tip) in [
                (Tool::Pan, "Pan", "Drag moves the map, the wheel zooms"),
                (
                    Tool::Box,
                    "Box select",
                    "Drag a box to make a set (a playlist) of the tracks inside",
                ),
                (
                    Tool::Lasso,
                    "Lasso select",
                    "Draw round tracks to make a set (a playlist) of those inside",
                ),
            ] {
                ui.selectable_value(&mut self.tool, tool, name)
                    .on_hover_text(tip);
            }
            ui.add(egui::Slider::new(&mut self.size_scale, 0.5..=3.0).text("point size"));
            let exportable = maps.is_some_and(|m| self.exported_map(m).is_some());
            if ui
                .add_enabled(exportable, egui::Button::new("Export PNG + CSV"))
                .on_hover_text("Write maps/tsne_view.png and .csv (points, colours, labels)")
                .clicked()
            {
                if let (Some(maps), Some(base)) = (maps, &self.base) {
                    if let Some(map) = self.exported_map(maps) {
                        let values = state
                            .map
                            .values
                            .get(&self.colour_by)
                            .and_then(|v| v.as_ref().ok());
                        let labels = map_data::colour_labels(
                            project,
                            self.colour_by,
                            values.map(|v| &v[..]),
                        );
                        state.send(Command::Map(MapCommand::Export {
                            of: map.of,
                            colours: Arc::from(base.colouring.colours.clone()),
                            labels: Arc::from(labels),
                        }));
                    }
                }
            }
        });
    }

    /// The map an export writes: the one shown (the predicted one side by side).
    fn exported_map<'m>(&self, maps: &'m LoadedMaps) -> Option<&'m LoadedMap> {
        match self.shown {
            Shown::Cf => maps.get(MapOf::Cf),
            Shown::Predicted | Shown::SideBySide => maps.get(MapOf::Predicted),
        }
    }

    /// The t-SNE job: its parameters and start button, or its progress and cancel.
    fn job_row(&mut self, ui: &mut egui::Ui, state: &mut AppState, maps: Option<&LoadedMaps>) {
        ui.horizontal_wrapped(|ui| {
            if let Some(job) = &state.map.job {
                let (fraction, what) = job_progress(job.progress);
                let elapsed = job.started.elapsed().as_secs_f32();
                let left = if fraction > 0.02 {
                    format!(
                        ", about {:.0} s left",
                        elapsed * (1.0 - fraction) / fraction
                    )
                } else {
                    String::new()
                };
                ui.label(format!("Making the t-SNE map of {}:", of_name(job.of)));
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(220.0)
                        .text(format!("{what}{left}")),
                );
                if ui
                    .button("Cancel")
                    .on_hover_text("Stop; the old map stays")
                    .clicked()
                {
                    state.send(Command::Map(MapCommand::Cancel));
                }
                ui.ctx()
                    .request_repaint_after(std::time::Duration::from_millis(250));
                return;
            }
            // Until the maps are read it is not known whether the form should start open.
            let Some(maps) = maps else { return };
            let has_map = maps.predicted.is_some() || maps.cf.is_some();
            egui::CollapsingHeader::new("New map")
                .default_open(!has_map)
                .show(ui, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.label("of");
                        ui.selectable_value(
                            &mut self.make_of,
                            MapOf::Predicted,
                            "predicted factors",
                        );
                        ui.selectable_value(&mut self.make_of, MapOf::Cf, "CF factors");
                        ui.add(
                            egui::DragValue::new(&mut self.perplexity)
                                .range(2.0..=200.0)
                                .prefix("perplexity "),
                        )
                        .on_hover_text("Effective neighbours per point (3× as many are used)");
                        ui.add(
                            egui::DragValue::new(&mut self.iterations)
                                .range(300..=10_000)
                                .prefix("iterations "),
                        )
                        .on_hover_text("Gradient steps, the 250 of early exaggeration included");
                        if ui.button("Make t-SNE map").clicked() {
                            self.start_job(state, self.make_of);
                        }
                    });
                });
        });
    }

    fn start_job(&self, state: &mut AppState, of: MapOf) {
        let params = TsneParams {
            perplexity: self.perplexity,
            iterations: self.iterations,
            ..TsneParams::default()
        };
        state.send(Command::Map(MapCommand::Make { of, params }));
    }

    /// A map that does not exist yet: why, and the job that makes it.
    fn no_map(&mut self, ui: &mut egui::Ui, state: &mut AppState, of: MapOf) {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() / 3.0);
            ui.label(egui::RichText::new(format!("No map of the {} yet", of_name(of))).size(16.0));
            if state.map.job.is_none()
                && ui
                    .button(format!("Make t-SNE map ({})", of_name(of)))
                    .on_hover_text(format!(
                        "deepcuts tsne DIR{} with perplexity {} and {} iterations",
                        if of == MapOf::Cf { " --of cf" } else { "" },
                        self.perplexity,
                        self.iterations
                    ))
                    .clicked()
            {
                self.start_job(state, of);
            }
        });
    }

    /// Remakes the base colours when the colouring or the project changed, and the drawn
    /// colours when those or the search changed.
    fn refresh_colours(&mut self, state: &mut AppState, project: &Arc<ProjectData>) {
        let values = match self.colour_by {
            ColourBy::Filter(_) | ColourBy::Unit(_) => {
                match state.map.values.get(&self.colour_by) {
                    None => {
                        state.send(Command::Map(MapCommand::Values(self.colour_by)));
                        None
                    }
                    Some(Ok(values)) => Some(Arc::clone(values)),
                    Some(Err(_)) => None,
                }
            }
            ColourBy::Facet(_) | ColourBy::Plays => None,
        };
        let key = (
            Arc::as_ptr(project) as usize,
            self.colour_by,
            self.colour_blind,
            values.is_some(),
        );
        if self.base.as_ref().is_none_or(|b| b.key != key) {
            let colouring = match (self.colour_by, &values) {
                (ColourBy::Facet(facet), _) => {
                    map_data::categorical(project, facet, self.colour_blind)
                }
                (ColourBy::Plays, _) => {
                    let plays: Vec<f32> = project.plays.iter().map(|&p| p as f32).collect();
                    map_data::continuous(&plays, true)
                }
                (_, Some(values)) => map_data::continuous(values, false),
                // Until the values arrive: every point grey.
                (_, None) => map_data::continuous(&vec![f32::NAN; project.tracks.len()], false),
            };
            self.base = Some(BaseColours {
                key,
                colouring,
                generation: map_data::next_generation(),
            });
        }
        let Some(base) = &self.base else { return };
        let shade_key = (base.generation, self.search.clone());
        if self.shaded.as_ref().is_some_and(|s| s.key == shade_key) {
            return;
        }
        let query = SearchQuery::new(&self.search);
        let mut colours = base.colouring.colours.clone();
        let mut matches = Vec::new();
        if !query.is_empty() {
            for (row, colour) in colours.iter_mut().enumerate() {
                if project.tracks.get(row).is_some_and(|t| query.matches(t)) {
                    matches.push(row);
                } else {
                    *colour = colour.gamma_multiply(DIMMED);
                }
            }
        }
        let match_colours: Vec<Color32> = matches.iter().map(|&row| colours[row]).collect();
        self.shaded = Some(Shaded {
            key: shade_key,
            colours: Versioned {
                generation: map_data::next_generation(),
                data: Arc::from(colours),
            },
            matches,
            match_colours: Versioned {
                generation: map_data::next_generation(),
                data: Arc::from(match_colours),
            },
        });
    }

    fn plot(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        project: &ProjectData,
        map: &LoadedMap,
    ) {
        let Some(shaded) = &self.shaded else { return };
        let radius = auto_radius(map.mapped) * self.size_scale;
        let positions = &map.positions.data;
        let ctx = ui.ctx().clone();
        let index = slot(map.of) as u64;
        let points = MapPoints::new(
            &ctx,
            index,
            map.positions.clone(),
            shaded.colours.clone(),
            map.bounds,
            radius,
        );
        // Matches again on top, so that dimmed points drawn later do not hide them.
        let cache = &mut self.overlays[slot(map.of)];
        let cache_key = (map.positions.generation, shaded.match_colours.generation);
        if cache.as_ref().is_none_or(|(key, _)| *key != cache_key) {
            let matched: Vec<[f32; 2]> = shaded.matches.iter().map(|&row| positions[row]).collect();
            let matched = Versioned {
                generation: map_data::next_generation(),
                data: Arc::from(matched),
            };
            *cache = Some((cache_key, matched));
        }
        let overlay = cache
            .as_ref()
            .filter(|_| !shaded.matches.is_empty())
            .map(|(_, matched)| {
                MapPoints::new(
                    &ctx,
                    index + 2,
                    matched.clone(),
                    shaded.match_colours.clone(),
                    map.bounds,
                    radius + 1.0,
                )
            });
        let ring = state
            .selection
            .and_then(|row| positions.get(row))
            .filter(|p| p[0].is_finite() && p[1].is_finite())
            .map(|p| [f64::from(p[0]), f64::from(p[1])]);
        let ring_colour = ui.visuals().strong_text_color();
        let response = Plot::new(("map", index))
            .data_aspect(1.0)
            // egui_plot's x labels want 60 px apart; t-SNE's short numbers fit in 30.
            .custom_x_axes(vec![egui_plot::AxisHints::new_x()
                .label(format!("t-SNE 1 ({})", of_name(map.of)))
                .label_spacing(30.0..=50.0)])
            .y_axis_label("t-SNE 2")
            .show_x(false)
            .show_y(false)
            .allow_drag(self.tool == Tool::Pan)
            .allow_boxed_zoom(false)
            .show(ui, |plot_ui| {
                plot_ui.add(points);
                if let Some(overlay) = overlay {
                    plot_ui.add(overlay);
                }
                if let Some(ring) = ring {
                    plot_ui.points(
                        Points::new("selected", vec![ring])
                            .shape(MarkerShape::Circle)
                            .filled(false)
                            .radius(radius + 5.0)
                            .color(ring_colour)
                            .allow_hover(false),
                    );
                }
            });
        let transform = response.transform;
        self.transforms[slot(map.of)] = Some(transform);
        let plot = &response.response;
        // Hover: the nearest point within reach, by on-screen distance.
        let hovered = plot.hover_pos().and_then(|pos| {
            let at = transform.value_from_position(pos);
            let [dx, dy] = transform.dpos_dvalue();
            map.grid.nearest(
                positions,
                [at.x as f32, at.y as f32],
                [dx.abs() as f32, dy.abs() as f32],
                HOVER_RADIUS.max(radius),
            )
        });
        if let (Some(row), None) = (hovered, &self.drawing) {
            if let Some(track) = project.tracks.get(row) {
                let style = Facet::Style
                    .labels(track)
                    .first()
                    .copied()
                    .unwrap_or("no style");
                egui::Tooltip::always_open(
                    ctx.clone(),
                    ui.layer_id(),
                    plot.id,
                    egui::PopupAnchor::Pointer,
                )
                .show(|ui| {
                    ui.label(
                        egui::RichText::new(format!("{} – {}", track.artist, track.title)).strong(),
                    );
                    ui.label(format!("style: {style}"));
                });
            }
            if plot.clicked() {
                state.send(Command::Select(Some(row)));
                state.send(Command::Play {
                    row,
                    from_secs: None,
                });
            }
        }
        if self.tool != Tool::Pan {
            self.select_drag(ui, state, map, &transform, plot);
        }
    }

    /// Box or lasso: a drag draws the region; on release the tracks inside become the
    /// current set, exactly those `deepcuts playlist --region` takes.
    fn select_drag(
        &mut self,
        ui: &egui::Ui,
        state: &mut AppState,
        map: &LoadedMap,
        transform: &PlotTransform,
        plot: &egui::Response,
    ) {
        if plot.drag_started() {
            // The drag is recognised a few pixels after the press: the region starts at the press.
            let origin = ui.input(|i| i.pointer.press_origin());
            self.drawing = origin
                .or(plot.interact_pointer_pos())
                .map(|p| vec![transform.value_from_position(p)]);
        }
        let Some(path) = &mut self.drawing else {
            return;
        };
        if let Some(now) = plot.interact_pointer_pos().or(plot.hover_pos()) {
            let value = transform.value_from_position(now);
            match self.tool {
                Tool::Lasso => {
                    let last = path.last().map(|p| transform.position_from_point(p));
                    if last.is_none_or(|last| last.distance(now) >= LASSO_STEP) {
                        path.push(value);
                    }
                }
                _ => {
                    path.truncate(1);
                    path.push(value);
                }
            }
        }
        let stroke = egui::Stroke::new(1.5, ui.visuals().strong_text_color());
        let painter = ui.painter().with_clip_rect(*transform.frame());
        let on_screen: Vec<egui::Pos2> = path
            .iter()
            .map(|p| transform.position_from_point(p))
            .collect();
        match (self.tool, on_screen.as_slice()) {
            (Tool::Box, [from, .., to]) => {
                painter.rect_stroke(
                    egui::Rect::from_two_pos(*from, *to),
                    0.0,
                    stroke,
                    egui::StrokeKind::Middle,
                );
            }
            (Tool::Lasso, [_, _, ..]) => {
                painter.add(egui::Shape::closed_line(on_screen, stroke));
            }
            _ => {}
        }
        if !plot.drag_stopped() {
            return;
        }
        let vertices: Vec<[f32; 2]> = path.iter().map(|p| [p.x as f32, p.y as f32]).collect();
        self.drawing = None;
        let region = match (self.tool, vertices.as_slice()) {
            (Tool::Box, [from, .., to]) => MapRegion::bounding(map.of, *from, *to),
            (Tool::Lasso, [_, _, _, ..]) => match MapRegion::new(map.of, vertices) {
                Ok(region) => region,
                Err(_) => return,
            },
            // A click, or a lasso too short to enclose anything.
            _ => return,
        };
        let (min, max) = region.bounds();
        let positions = &map.positions.data;
        let rows: Vec<usize> = map
            .grid
            .within(positions, min, max)
            .into_iter()
            .filter(|&row| region.contains(positions[row]))
            .collect();
        state.send(Command::SelectSet(Some(TrackSet {
            name: format!(
                "map {} ({}): {} tracks",
                region.shape(),
                of_name(map.of),
                rows.len()
            ),
            rows,
            region,
        })));
    }

    /// The legend, then the current track set.
    fn side_panel(&mut self, ui: &mut egui::Ui, state: &mut AppState, project: &ProjectData) {
        ui.strong(format!("Colour: {}", self.colour_by.name()));
        if let Some(Err(why)) = state.map.values.get(&self.colour_by) {
            ui.weak(why);
        }
        if let Some(base) = &self.base {
            legend_ui(ui, &base.colouring.legend);
        }
        ui.separator();
        let Some(set) = state.selection_set.clone() else {
            ui.weak("Box or lasso select to make a set of tracks.");
            return;
        };
        ui.strong(&set.name);
        ui.horizontal(|ui| {
            if ui
                .small_button("Open as playlist")
                .on_hover_text("Audition or export it in the Playlists view, most typical first")
                .clicked()
            {
                state.send(Command::Analysis(Request::Show(PlaylistQuery::Region(
                    set.region.clone(),
                ))));
                state.send(Command::ShowView(ViewKind::Playlists));
            }
            if ui
                .small_button("Clear")
                .on_hover_text("Forget this set")
                .clicked()
            {
                state.send(Command::SelectSet(None));
            }
        });
        egui::ScrollArea::vertical()
            .id_salt("map-set")
            .auto_shrink([false; 2])
            .show_rows(ui, 18.0, set.rows.len(), |ui, range| {
                for &row in &set.rows[range] {
                    let Some(track) = project.tracks.get(row) else {
                        continue;
                    };
                    let selected = state.selection == Some(row);
                    let entry = ui
                        .selectable_label(selected, format!("{} – {}", track.artist, track.title))
                        .on_hover_text("Click: select · double-click: play");
                    if entry.clicked() {
                        state.send(Command::Select(Some(row)));
                    }
                    if entry.double_clicked() {
                        state.send(Command::Play {
                            row,
                            from_secs: None,
                        });
                    }
                }
            });
    }
}

/// What a t-SNE run has done: an overall fraction (neighbours a tenth, iterations the rest) and
/// words.
fn job_progress(progress: Option<TsneProgress>) -> (f32, String) {
    match progress {
        None => (0.0, "reading the factors".into()),
        Some(TsneProgress::Neighbours { done, points }) => (
            0.1 * done as f32 / points.max(1) as f32,
            format!("neighbours {done}/{points}"),
        ),
        Some(TsneProgress::Iteration {
            done,
            iterations,
            kl_divergence,
        }) => (
            0.1 + 0.9 * done as f32 / iterations.max(1) as f32,
            format!(
                "iteration {done}/{iterations}{}",
                kl_divergence.map_or(String::new(), |kl| format!(", KL {kl:.3}"))
            ),
        ),
    }
}

fn legend_ui(ui: &mut egui::Ui, legend: &Legend) {
    match legend {
        Legend::Categories(categories) => {
            egui::ScrollArea::vertical()
                .id_salt("map-legend")
                .max_height(ui.available_height() * 0.55)
                .show_rows(ui, 18.0, categories.len(), |ui, range| {
                    for category in &categories[range] {
                        ui.horizontal(|ui| {
                            let (rect, _) = ui
                                .allocate_exact_size(egui::vec2(12.0, 12.0), egui::Sense::hover());
                            ui.painter()
                                .circle_filled(rect.center(), 5.5, category.colour);
                            ui.label(&category.label);
                            ui.weak(category.tracks.to_string());
                        });
                    }
                });
            let grey = categories
                .iter()
                .filter(|c| c.colour == map_data::OTHER)
                .count();
            if grey > 0 {
                ui.weak(format!("{grey} in grey (beyond the palette or unlabelled)"));
            }
        }
        Legend::Scale { min, max, log } => {
            let (rect, _) = ui.allocate_exact_size(
                egui::vec2(ui.available_width().min(180.0), 14.0),
                egui::Sense::hover(),
            );
            let steps = 64;
            for i in 0..steps {
                let t = i as f32 / (steps - 1) as f32;
                let x0 = egui::lerp(rect.x_range(), i as f32 / steps as f32);
                let x1 = egui::lerp(rect.x_range(), (i + 1) as f32 / steps as f32);
                ui.painter().rect_filled(
                    egui::Rect::from_x_y_ranges(x0..=x1, rect.y_range()),
                    0.0,
                    super::colormap::Colormap::Viridis.color(t),
                );
            }
            ui.horizontal(|ui| {
                ui.label(format!("{min:.3}"));
                ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                    ui.label(format!("{max:.3}"))
                });
            });
            if *log {
                ui.weak("log scale (log 1 + value)");
            }
        }
    }
}

/// A number field and a button choosing one of `count` activations (conv1 filters or fc2
/// units) to colour by, showing `current` (else 0); `Some(k)` when the field changed or the
/// button was clicked. Nothing is drawn when there are none. `field` and `button`: each one's
/// text and hover text.
fn activation_picker(
    ui: &mut egui::Ui,
    current: Option<usize>,
    count: usize,
    field: (&str, &str),
    button: (&str, &str),
) -> Option<usize> {
    if count == 0 {
        return None;
    }
    let mut k = current.unwrap_or(0);
    let changed = ui
        .add(
            egui::DragValue::new(&mut k)
                .range(0..=count - 1)
                .prefix(field.0),
        )
        .on_hover_text(field.1)
        .changed();
    let clicked = ui.small_button(button.0).on_hover_text(button.1).clicked();
    (changed || clicked).then_some(k)
}
