//! The track list every analysis view shows (playlists, neighbours, judged recommendations):
//! one row per entry with its rank, a mark (overlap, flag), the track, its style and kind and
//! the view's own numbers. Every row has the same actions: a click selects the track and plays
//! it, from the entry's peak when it has one; the selected track is highlighted.

use egui_extras::{Column, TableBuilder};

use super::results_data::ResultsData;
use super::state::{AppState, Command};

/// One row.
pub struct Entry {
    pub id: u32,
    /// The view's numbers, one per extra column, already formatted.
    pub values: Vec<String>,
    /// Where to play from (a filter's peak); `None`: the analysed excerpt.
    pub peak_secs: Option<f64>,
    /// A short mark before the track and what it means (shown on hover).
    pub mark: Option<(&'static str, String)>,
    /// Draw the row's mark and track in the warning colour (a flagged outlier).
    pub warn: bool,
}

const ROW_HEIGHT: f32 = 20.0;

/// A column of the view's own: its heading and width in points.
pub type Heading = (&'static str, f32);

/// A number column's width.
pub const NUMBER: f32 = 64.0;

/// Draws `entries` under `headers` (one per value); returns the index of the row clicked,
/// after sending the select and play commands. Columns have fixed widths so lists drawn side
/// by side or one under another line up from the first frame.
pub fn show(
    ui: &mut egui::Ui,
    state: &mut AppState,
    data: &ResultsData,
    id_salt: &str,
    headers: &[Heading],
    entries: &[Entry],
) -> Option<usize> {
    let mut table = TableBuilder::new(ui)
        .id_salt(id_salt)
        .striped(true)
        .vscroll(false)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .column(Column::exact(24.0))
        .column(Column::exact(18.0))
        .column(Column::remainder().at_least(120.0).clip(true))
        .column(Column::exact(72.0).clip(true))
        .column(Column::exact(64.0).clip(true));
    for &(_, width) in headers {
        table = table.column(Column::exact(width).clip(true));
    }
    let mut clicked = None;
    table
        .header(ROW_HEIGHT, |mut header| {
            for heading in ["#", "", "track", "style", "kind"]
                .into_iter()
                .chain(headers.iter().map(|&(heading, _)| heading))
            {
                header.col(|ui| {
                    ui.strong(heading);
                });
            }
        })
        // Only the rows on screen are laid out: a map region's playlist can hold 100k tracks.
        .body(|body| {
            body.rows(ROW_HEIGHT, entries.len(), |mut row| {
                let index = row.index();
                let entry = &entries[index];
                let Some(track) = data.results.tracks.get(entry.id as usize) else {
                    return;
                };
                row.set_selected(state.selection == Some(entry.id as usize));
                let warn = entry.warn;
                row.col(|ui| {
                    cell(ui, (index + 1).to_string(), false);
                });
                row.col(|ui| {
                    if let Some((mark, meaning)) = &entry.mark {
                        cell(ui, *mark, warn).on_hover_text(meaning);
                    }
                });
                row.col(|ui| {
                    let playing = state.now_playing == Some(entry.id as usize);
                    let name = super::results_data::track_name(track);
                    let text = if playing { format!("» {name}") } else { name };
                    cell(ui, text, warn);
                });
                row.col(|ui| {
                    cell(ui, track.tags.first().cloned().unwrap_or_default(), false)
                        .on_hover_text(track.tags.join(", "));
                });
                row.col(|ui| {
                    let kind = match track.kind.as_str() {
                        "regular" => "",
                        kind => kind,
                    };
                    cell(ui, kind, warn);
                });
                for value in &entry.values {
                    row.col(|ui| {
                        cell(ui, value.as_str(), warn);
                    });
                }
                if row.response().clicked() {
                    clicked = Some(index);
                }
            });
        });
    if let Some(index) = clicked {
        play(state, &entries[index]);
    }
    clicked
}

/// Selects `entry`'s track and plays it from its peak (else its analysed excerpt).
pub fn play(state: &mut AppState, entry: &Entry) {
    let row = entry.id as usize;
    state.send(Command::Select(Some(row)));
    state.send(Command::Play {
        row,
        from_secs: entry.peak_secs,
    });
}

/// A cell's text, not selectable so that a click reaches the row; in the warning colour when
/// `warn` is set.
fn cell(ui: &mut egui::Ui, text: impl Into<String>, warn: bool) -> egui::Response {
    let mut text = egui::RichText::new(text.into());
    if warn {
        text = text.color(ui.visuals().warn_fg_color);
    }
    ui.add(egui::Label::new(text).selectable(false))
}

/// Seconds as `m:ss.s`.
pub fn clock_secs(secs: f64) -> String {
    let secs = secs.max(0.0);
    format!("{}:{:04.1}", (secs / 60.0).floor() as u64, secs % 60.0)
}
