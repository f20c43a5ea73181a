//! The library: every track of the project in a virtualised table (only the visible rows are
//! laid out, so 100k rows scroll like 100), searchable and sortable; clicking selects,
//! double-clicking plays the analysed excerpt.

use std::sync::Arc;

use egui_extras::{Column, TableBuilder};

use crate::features::RowStatus;

use super::project_data::ProjectData;
use super::state::{AppState, Command};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Row,
    Title,
    Artist,
    Album,
    Duration,
    Tags,
    Kind,
    Plays,
    Features,
}

/// The library's view state: the search text, the sort, and the row order they give.
pub struct LibraryView {
    pub search: String,
    sort: SortKey,
    ascending: bool,
    /// Track rows in display order, for `order_for` (the project, search and sort it came from).
    order: Vec<usize>,
    order_for: Option<(usize, String, SortKey, bool)>,
    /// Scroll to the selection on the next frame (after a keyboard move).
    scroll_to_selection: bool,
    /// Focus the search box on the next frame (`/`).
    pub focus_search: bool,
}

impl Default for LibraryView {
    fn default() -> Self {
        Self {
            search: String::new(),
            sort: SortKey::Row,
            ascending: true,
            order: Vec::new(),
            order_for: None,
            scroll_to_selection: false,
            focus_search: false,
        }
    }
}

/// A search as the library and the map read it: every word (case-insensitive) in a track's
/// title, artist, album, kind or tags.
pub struct SearchQuery {
    words: Vec<String>,
}

impl SearchQuery {
    pub fn new(text: &str) -> Self {
        Self {
            words: text
                .to_lowercase()
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }

    /// Whether the query has no words (everything matches).
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    pub fn matches(&self, track: &crate::project::Track) -> bool {
        self.words.iter().all(|word| {
            [&track.title, &track.artist, &track.album, &track.kind]
                .iter()
                .any(|field| field.to_lowercase().contains(word.as_str()))
                || track
                    .tags
                    .iter()
                    .any(|tag| tag.to_lowercase().contains(word.as_str()))
        })
    }
}

/// Row height: text of 14 px with room around it.
const ROW_HEIGHT: f32 = 20.0;

impl LibraryView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(project) = state.project.clone() else {
            ui.centered_and_justified(|ui| ui.label(state.no_project_text()));
            return;
        };
        ui.horizontal(|ui| {
            ui.label("Search")
                .on_hover_text("Search titles, artists, albums, tags and kinds");
            let search = ui.add(
                egui::TextEdit::singleline(&mut self.search)
                    .hint_text("search ( / )")
                    .desired_width(f32::INFINITY),
            );
            if std::mem::take(&mut self.focus_search) {
                search.request_focus();
            }
        });
        self.refresh_order(&project);
        ui.label(format!(
            "{} of {} tracks",
            self.order.len(),
            project.tracks.len()
        ));
        self.keyboard(ui, state);
        self.table(ui, state, &project);
    }

    /// Recomputes the row order when the project, the search or the sort changed.
    fn refresh_order(&mut self, project: &Arc<ProjectData>) {
        let key = (
            Arc::as_ptr(project) as usize,
            self.search.clone(),
            self.sort,
            self.ascending,
        );
        if self.order_for.as_ref() == Some(&key) {
            return;
        }
        let query = SearchQuery::new(&self.search);
        let mut order: Vec<usize> = (0..project.tracks.len())
            .filter(|&row| query.matches(&project.tracks[row]))
            .collect();
        let tracks = &project.tracks;
        match self.sort {
            SortKey::Row => {}
            SortKey::Title => order.sort_by_cached_key(|&r| tracks[r].title.to_lowercase()),
            SortKey::Artist => order.sort_by_cached_key(|&r| tracks[r].artist.to_lowercase()),
            SortKey::Album => order.sort_by_cached_key(|&r| tracks[r].album.to_lowercase()),
            SortKey::Tags => order.sort_by_cached_key(|&r| tracks[r].tags.join(",")),
            SortKey::Kind => order.sort_by_cached_key(|&r| tracks[r].kind.clone()),
            SortKey::Duration => order.sort_by(|&a, &b| {
                project
                    .duration_secs(a)
                    .total_cmp(&project.duration_secs(b))
            }),
            SortKey::Plays => order.sort_by_key(|&r| project.plays[r]),
            SortKey::Features => order.sort_by_key(|&r| feature_rank(&project.features[r])),
        }
        if !self.ascending {
            order.reverse();
        }
        self.order = order;
        self.order_for = Some(key);
    }

    /// ↑/↓ move the selection through the rows as shown; Enter plays it.
    fn keyboard(&mut self, ui: &egui::Ui, state: &mut AppState) {
        if ui.ctx().egui_wants_keyboard_input() {
            return;
        }
        let (up, down, enter) = ui.input(|i| {
            (
                i.key_pressed(egui::Key::ArrowUp),
                i.key_pressed(egui::Key::ArrowDown),
                i.key_pressed(egui::Key::Enter),
            )
        });
        if up || down {
            let position = state
                .selection
                .and_then(|row| self.order.iter().position(|&r| r == row));
            let next = match (position, down) {
                (None, _) => 0,
                (Some(p), true) => (p + 1).min(self.order.len().saturating_sub(1)),
                (Some(p), false) => p.saturating_sub(1),
            };
            if let Some(&row) = self.order.get(next) {
                state.send(Command::Select(Some(row)));
                self.scroll_to_selection = true;
            }
        }
        if enter {
            if let Some(row) = state.selection {
                state.send(Command::Play {
                    row,
                    from_secs: None,
                });
            }
        }
    }

    fn table(&mut self, ui: &mut egui::Ui, state: &mut AppState, project: &ProjectData) {
        let mut table = TableBuilder::new(ui)
            .id_salt("library")
            .striped(true)
            .resizable(true)
            .sense(egui::Sense::click())
            .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
            .column(Column::initial(200.0).at_least(60.0).clip(true))
            .column(Column::initial(140.0).at_least(50.0).clip(true))
            .column(Column::initial(140.0).at_least(50.0).clip(true))
            .column(Column::initial(56.0).at_least(40.0))
            .column(Column::initial(140.0).at_least(40.0).clip(true))
            .column(Column::initial(80.0).at_least(40.0).clip(true))
            .column(Column::initial(56.0).at_least(40.0))
            .column(Column::remainder().at_least(60.0).clip(true));
        if std::mem::take(&mut self.scroll_to_selection) {
            if let Some(position) = state
                .selection
                .and_then(|row| self.order.iter().position(|&r| r == row))
            {
                table = table.scroll_to_row(position, None);
            }
        }
        let headers = [
            ("Title", SortKey::Title),
            ("Artist", SortKey::Artist),
            ("Album", SortKey::Album),
            ("Length", SortKey::Duration),
            ("Tags / style", SortKey::Tags),
            ("Kind", SortKey::Kind),
            ("Plays", SortKey::Plays),
            ("Features", SortKey::Features),
        ];
        let mut clicked = None;
        let mut played = None;
        table
            .header(ROW_HEIGHT + 4.0, |mut header| {
                for (name, key) in headers {
                    header.col(|ui| {
                        let arrow = match (self.sort == key, self.ascending) {
                            (true, true) => " ^",
                            (true, false) => " v",
                            (false, _) => "",
                        };
                        let button = ui
                            .add(
                                egui::Button::new(
                                    egui::RichText::new(format!("{name}{arrow}")).strong(),
                                )
                                .frame(false),
                            )
                            .on_hover_text(format!("Sort by {}", name.to_lowercase()));
                        if button.clicked() {
                            if self.sort == key {
                                self.ascending = !self.ascending;
                            } else {
                                self.sort = key;
                                self.ascending = true;
                            }
                        }
                    });
                }
            })
            .body(|body| {
                body.rows(ROW_HEIGHT, self.order.len(), |mut row| {
                    let track_row = self.order[row.index()];
                    let track = &project.tracks[track_row];
                    row.set_selected(state.selection == Some(track_row));
                    row.col(|ui| {
                        let playing = state.now_playing == Some(track_row);
                        let title = if playing {
                            format!("» {}", track.title)
                        } else {
                            track.title.clone()
                        };
                        cell(ui, title);
                    });
                    row.col(|ui| cell(ui, &track.artist));
                    row.col(|ui| cell(ui, &track.album));
                    row.col(|ui| {
                        cell(
                            ui,
                            track.duration_secs.map_or("–".to_owned(), |secs| {
                                format!("{}:{:02}", secs as u64 / 60, secs as u64 % 60)
                            }),
                        )
                    });
                    row.col(|ui| cell(ui, track.tags.join(", ")));
                    row.col(|ui| cell(ui, &track.kind));
                    row.col(|ui| cell(ui, project.plays[track_row].to_string()));
                    row.col(|ui| match &project.features[track_row] {
                        RowStatus::Done => cell(ui, "done"),
                        RowStatus::Pending => cell(ui, egui::RichText::new("pending").weak()),
                        RowStatus::Failed(reason) => {
                            let text = egui::RichText::new(format!("failed: {reason}"))
                                .color(ui.visuals().error_fg_color);
                            ui.add(egui::Label::new(text).selectable(false))
                                .on_hover_text(reason);
                        }
                    });
                    let response = row.response();
                    if response.double_clicked() {
                        played = Some(track_row);
                    } else if response.clicked() {
                        clicked = Some(track_row);
                    }
                });
            });
        if let Some(row) = clicked {
            state.send(Command::Select(Some(row)));
        }
        if let Some(row) = played {
            state.send(Command::Select(Some(row)));
            state.send(Command::Play {
                row,
                from_secs: None,
            });
        }
    }
}

/// A table cell's text: not selectable, so a click reaches the row (select, double-click play).
fn cell(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) {
    ui.add(egui::Label::new(text).selectable(false));
}

/// Failed tracks first when sorting by feature state, then pending, then done.
fn feature_rank(status: &RowStatus) -> u8 {
    match status {
        RowStatus::Failed(_) => 0,
        RowStatus::Pending => 1,
        RowStatus::Done => 2,
    }
}
