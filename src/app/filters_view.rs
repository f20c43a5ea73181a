//! The filters view: every conv1 filter in the seed's rendering (the pixels of `deepcuts
//! filters`, one texture drawn cell by cell, zoomable), or every fc2 unit as a list, in index
//! or selectivity order, each with its saved name and what its playlist is most about.
//! Clicking one shows its playlists (max and mean for filters) and its naming help, and names
//! it in place (`analysis/names.tsv`).

use std::sync::Arc;

use egui_extras::{Column, TableBuilder};

use crate::analysis::describe::{Description, Facet, Selectivity};
use crate::analysis::filters::{separator_width, SEPARATOR_RGB};
use crate::analysis::names::Named;
use crate::analysis::playlists::PlaylistQuery;
use crate::analysis::results::FilterStat;

use super::results_data::{answer_or_wait, results_or_why, Request, ResultsData, PLAYLIST_TRACKS};
use super::state::{AppState, Command};
use super::track_list::{self, clock_secs, Entry, Heading, NUMBER};
use super::ViewKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Filters,
    Units,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    Index,
    Selectivity,
}

pub struct FiltersView {
    layer: Layer,
    order: Order,
    /// Screen pixels per weight.
    zoom: usize,
    /// The filter or unit clicked.
    chosen: Option<Named>,
    /// The name being edited, for `chosen`.
    name: String,
}

impl Default for FiltersView {
    fn default() -> Self {
        Self {
            layer: Layer::Filters,
            order: Order::Index,
            zoom: 2,
            chosen: None,
            name: String::new(),
        }
    }
}

/// Space between rows of filters.
const ROW_GAP: f32 = 8.0;

impl FiltersView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(data) = results_or_why(ui, state) else {
            return;
        };
        self.toolbar(ui, &data);
        let chosen = self.chosen;
        let order = self.ordered(&data);
        ui.columns(2, |columns| {
            egui::ScrollArea::vertical()
                .id_salt("filters-grid")
                .auto_shrink([false, false])
                .show(&mut columns[0], |ui| match self.layer {
                    Layer::Filters => self.grid(ui, state, &data, &order),
                    Layer::Units => self.unit_list(ui, state, &data, &order),
                });
            egui::ScrollArea::vertical()
                .id_salt("filters-detail")
                .auto_shrink([false, false])
                .show(&mut columns[1], |ui| match chosen {
                    Some(what) => self.detail(ui, state, &data, what),
                    None => {
                        ui.weak(match self.layer {
                            Layer::Filters => "Click a filter to hear what excites it and name it.",
                            Layer::Units => "Click a unit to hear what excites it and name it.",
                        });
                    }
                });
        });
    }

    fn toolbar(&mut self, ui: &mut egui::Ui, data: &ResultsData) {
        ui.horizontal(|ui| {
            ui.selectable_value(
                &mut self.layer,
                Layer::Filters,
                format!("conv1 filters ({})", data.results.filters()),
            )
            .on_hover_text("The first layer's filters, drawn as the seed draws them");
            ui.selectable_value(
                &mut self.layer,
                Layer::Units,
                format!("fc2 units ({})", data.results.units()),
            )
            .on_hover_text("The last dense layer's units");
            ui.separator();
            ui.label("order");
            ui.selectable_value(&mut self.order, Order::Index, "index");
            ui.selectable_value(&mut self.order, Order::Selectivity, "selectivity")
                .on_hover_text(
                    "Most selective first: how far each playlist's top style or trait is above \
                     its share of the collection (deepcuts filters --order selectivity)",
                );
            ui.separator();
            self.shares(ui, data);
            if self.layer == Layer::Filters {
                ui.separator();
                ui.label("zoom");
                ui.add(egui::Slider::new(&mut self.zoom, 1..=8).suffix(" px"))
                    .on_hover_text("Screen pixels per weight");
            }
        });
        ui.separator();
    }

    /// What `deepcuts report` counts: low-level filters, or style-selective units.
    fn shares(&self, ui: &mut egui::Ui, data: &ResultsData) {
        let (part, of, what, why) = match self.layer {
            Layer::Filters => {
                let s = data.filter_counts;
                (
                    s.low_level,
                    s.playlists,
                    "low-level",
                    format!(
                        "Filters whose top-{PLAYLIST_TRACKS} max playlist is at least {:.0}% one \
                         trait, {:.0} points above its share in the collection, while spanning \
                         at least {} styles (deepcuts report)",
                        Selectivity::SHARE * 100.0,
                        Selectivity::LOW_LEVEL_ABOVE_CHANCE * 100.0,
                        Selectivity::LOW_LEVEL_STYLES
                    ),
                )
            }
            Layer::Units => {
                let s = data.unit_counts;
                (
                    s.one_style,
                    s.playlists,
                    "style-selective",
                    format!(
                        "Units whose top-{PLAYLIST_TRACKS} playlist is at least {:.0}% one style \
                         (deepcuts report)",
                        Selectivity::SHARE * 100.0
                    ),
                )
            }
        };
        let percent = 100.0 * part as f64 / of.max(1) as f64;
        ui.label(format!("{what}: {part} of {of} ({percent:.0}%)"))
            .on_hover_text(why);
    }

    /// Filter or unit indexes in the chosen order.
    fn ordered(&self, data: &ResultsData) -> Vec<usize> {
        match (self.layer, self.order) {
            (Layer::Filters, Order::Index) => (0..data.results.filters()).collect(),
            (Layer::Units, Order::Index) => (0..data.results.units()).collect(),
            (Layer::Filters, Order::Selectivity) => data.filters_by_selectivity.clone(),
            (Layer::Units, Order::Selectivity) => data.units_by_selectivity.clone(),
        }
    }

    /// The filters as rows of pictures on the seed's dark red, wrapped to the width.
    fn grid(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        data: &ResultsData,
        order: &[usize],
    ) {
        let Some(texture) = state.analysis.filter_texture.clone() else {
            if let Err(why) = &data.filter_picture {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("The filters cannot be drawn: {why}"),
                );
            }
            return;
        };
        let filters = data.results.filters().max(1);
        let [width_px, height_px] = texture.size();
        // The texture is `deepcuts filters --scale 1`: filters of `frames` columns, one
        // separator column between them.
        let frames = (width_px + 1) / filters - 1;
        let zoom = self.zoom as f32;
        let cell = egui::vec2(frames as f32 * zoom, height_px as f32 * zoom);
        let separator = separator_width(self.zoom) as f32;
        let label_height = if cell.x >= 20.0 { 16.0 } else { 0.0 };
        let width = ui.available_width();
        let per_row = (((width + separator) / (cell.x + separator)).floor() as usize).max(1);
        let rows = order.len().div_ceil(per_row);
        let row_height = cell.y + label_height + ROW_GAP;
        // Room for the chosen filter's outline above the first row.
        ui.add_space(4.0);
        let (grid, _) = ui.allocate_exact_size(
            egui::vec2(width, rows as f32 * row_height),
            egui::Sense::hover(),
        );
        let [r, g, b] = SEPARATOR_RGB;
        let backdrop = egui::Color32::from_rgb(r, g, b);
        let uv_width = 1.0 / width_px as f32;
        for (row, slots) in order.chunks(per_row).enumerate() {
            let top = grid.top() + row as f32 * row_height;
            let strip = egui::Rect::from_min_size(
                egui::pos2(grid.left(), top),
                egui::vec2(
                    slots.len() as f32 * (cell.x + separator) - separator,
                    cell.y,
                ),
            );
            if !ui.is_rect_visible(strip.expand2(egui::vec2(0.0, label_height))) {
                continue;
            }
            ui.painter().rect_filled(strip, 0.0, backdrop);
            for (slot, &k) in slots.iter().enumerate() {
                let rect = egui::Rect::from_min_size(
                    egui::pos2(strip.left() + slot as f32 * (cell.x + separator), top),
                    cell,
                );
                let x0 = (k * (frames + 1)) as f32 * uv_width;
                let uv = egui::Rect::from_min_max(
                    egui::pos2(x0, 0.0),
                    egui::pos2(x0 + frames as f32 * uv_width, 1.0),
                );
                ui.painter()
                    .image(texture.id(), rect, uv, egui::Color32::WHITE);
                let what = Named::Filter(k);
                let response = ui
                    .interact(
                        rect,
                        ui.scope_id().with(("filter", k)),
                        egui::Sense::click(),
                    )
                    .on_hover_text(self.hover_text(state, data, what));
                response.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::Button, true, format!("filter {k}"))
                });
                if self.chosen == Some(what) {
                    ui.painter().rect_stroke(
                        rect.expand(1.5),
                        0.0,
                        egui::Stroke::new(2.5, egui::Color32::from_rgb(250, 200, 40)),
                        egui::StrokeKind::Outside,
                    );
                } else if response.hovered() {
                    ui.painter().rect_stroke(
                        rect.expand(1.0),
                        0.0,
                        egui::Stroke::new(1.5, ui.visuals().strong_text_color()),
                        egui::StrokeKind::Outside,
                    );
                }
                if label_height > 0.0 {
                    ui.painter().text(
                        egui::pos2(rect.center().x, rect.bottom() + 2.0),
                        egui::Align2::CENTER_TOP,
                        k.to_string(),
                        egui::FontId::proportional(12.0),
                        ui.visuals().text_color(),
                    );
                }
                if response.clicked() {
                    self.choose(state, what);
                }
            }
        }
    }

    /// The fc2 units as a table: index, name, what their playlist is most about.
    fn unit_list(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        data: &ResultsData,
        order: &[usize],
    ) {
        let mut clicked = None;
        TableBuilder::new(ui)
            .id_salt("units")
            .striped(true)
            .vscroll(false)
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::auto().at_least(60.0))
            .column(Column::auto().at_least(80.0).clip(true))
            .column(Column::remainder().clip(true))
            .header(20.0, |mut header| {
                for heading in ["unit", "name", "most about"] {
                    header.col(|ui| {
                        ui.strong(heading);
                    });
                }
            })
            .body(|body| {
                body.rows(20.0, order.len(), |mut row| {
                    let unit = order[row.index()];
                    let what = Named::Unit(unit);
                    row.col(|ui| {
                        if ui
                            .selectable_label(self.chosen == Some(what), format!("unit {unit}"))
                            .clicked()
                        {
                            clicked = Some(what);
                        }
                    });
                    row.col(|ui| {
                        ui.label(state.analysis.names.get(what).unwrap_or(""));
                    });
                    row.col(|ui| {
                        ui.label(summary(data.units.get(unit)));
                    });
                });
            });
        if let Some(what) = clicked {
            self.choose(state, what);
        }
    }

    fn hover_text(&self, state: &AppState, data: &ResultsData, what: Named) -> String {
        let (Named::Filter(k) | Named::Unit(k)) = what;
        let descriptions = match what {
            Named::Filter(_) => &data.filters,
            Named::Unit(_) => &data.units,
        };
        let name = state
            .analysis
            .names
            .get(what)
            .map_or(String::new(), |n| format!(" \"{n}\""));
        let kind = match what {
            Named::Filter(_) => "conv1 filter",
            Named::Unit(_) => "fc2 unit",
        };
        format!("{kind} {k}{name}\n{}", summary(descriptions.get(k)))
    }

    fn choose(&mut self, state: &mut AppState, what: Named) {
        self.chosen = Some(what);
        self.name = state.analysis.names.get(what).unwrap_or("").to_owned();
    }

    /// The chosen filter's or unit's name, playlists and naming help.
    fn detail(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        data: &Arc<ResultsData>,
        what: Named,
    ) {
        let (title, queries): (String, Vec<PlaylistQuery>) = match what {
            Named::Filter(filter) => (
                format!("conv1 filter {filter}"),
                FilterStat::ALL
                    .iter()
                    .map(|&stat| PlaylistQuery::Filter { filter, stat })
                    .collect(),
            ),
            Named::Unit(unit) => (
                format!("fc2 unit {unit}"),
                vec![PlaylistQuery::Unit { unit }],
            ),
        };
        ui.heading(title);
        ui.horizontal(|ui| {
            ui.label("name");
            let edit = ui.add(
                egui::TextEdit::singleline(&mut self.name)
                    .hint_text("what it responds to")
                    .desired_width(200.0),
            );
            let saved = state.analysis.names.get(what).unwrap_or("");
            let changed = self.name.trim() != saved;
            let enter = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if ui
                .add_enabled(changed, egui::Button::new("Save name"))
                .on_hover_text("Saved in analysis/names.tsv (Enter)")
                .clicked()
                || (enter && changed)
            {
                state.send(Command::Analysis(Request::Rename {
                    what,
                    name: self.name.clone(),
                }));
            }
        });
        for query in queries {
            ui.add_space(6.0);
            let pending = state.analysis.playlists.get(&query).cloned();
            let Some(answer) = answer_or_wait(ui, state, pending, Request::Playlist(query.clone()))
            else {
                continue;
            };
            ui.horizontal(|ui| {
                ui.strong(match &query {
                    PlaylistQuery::Filter { stat, .. } => format!("{} activation", stat.name()),
                    _ => "activation".to_owned(),
                });
                if ui
                    .small_button("Open in Playlists")
                    .on_hover_text("Audition or export this playlist")
                    .clicked()
                {
                    state.send(Command::Analysis(Request::Show(query.clone())));
                    state.send(Command::ShowView(ViewKind::Playlists));
                }
            });
            let entries: Vec<Entry> = answer
                .playlist
                .entries
                .iter()
                .map(|e| Entry {
                    id: e.id,
                    values: std::iter::once(format!("{:.3}", e.score))
                        .chain(e.peak_secs.map(clock_secs))
                        .collect(),
                    peak_secs: e.peak_secs,
                    mark: None,
                    warn: false,
                })
                .collect();
            let headers: &[Heading] = match &query {
                PlaylistQuery::Filter { .. } => &[("activation", NUMBER), ("peak", NUMBER)],
                _ => &[("activation", NUMBER)],
            };
            let salt = query.file_stem();
            if track_list::show(ui, state, data, &salt, headers, &entries).is_some() {
                if let PlaylistQuery::Filter { filter, .. } = query {
                    state.send(Command::ShowFilter(filter));
                }
            }
            naming_help(ui, &answer.description);
        }
    }
}

/// A description in a line: its most selective style or trait.
fn summary(description: Option<&Description>) -> String {
    match description.and_then(Description::top) {
        Some((facet, label)) => format!(
            "{} {} {:.0}% (collection {:.0}%, selectivity {:.2})",
            facet.name(),
            label.label,
            label.share * 100.0,
            label.background * 100.0,
            label.selectivity
        ),
        None => "–".into(),
    }
}

/// Each facet's most frequent labels with their share, the collection's and the selectivity.
fn naming_help(ui: &mut egui::Ui, description: &Description) {
    let styles = description.styles;
    egui::CollapsingHeader::new(format!(
        "naming help: {} ({styles} {})",
        summary(Some(description)),
        if styles == 1 { "style" } else { "styles" }
    ))
    .id_salt(("naming", description.query.file_stem()))
    .default_open(true)
    .show(ui, |ui| {
        for facet in Facet::ALL {
            let Some(shares) = description.facet(facet) else {
                continue;
            };
            if shares.labels.is_empty() {
                continue;
            }
            // Wrapped, so a long artist name never widens the view past its column.
            ui.horizontal_wrapped(|ui| {
                ui.weak(facet.name());
                for l in shares.labels.iter().take(4) {
                    ui.label(format!(
                        "{} {:.0}% ({:.0}%, {:+.2})",
                        l.label,
                        l.share * 100.0,
                        l.background * 100.0,
                        l.selectivity
                    ))
                    .on_hover_text("share of the playlist (share of the collection, selectivity)");
                }
            });
        }
    });
}
