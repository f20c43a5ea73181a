//! The playlists view: one playlist (a filter's max or mean activation, an fc2 unit, the
//! tracks similar to the selected one, a region selected on the map) with its scores and
//! naming help. Clicking an entry
//! plays it from where the filter peaked and points the spectrogram at that filter; the
//! audition steps through the playlist, a few seconds of each entry from its peak (Space
//! still pauses, and the audition waits); export writes the CLI's M3U8 and JSON files.

use crate::analysis::playlists::PlaylistQuery;
use crate::analysis::results::FilterStat;

use super::results_data::{answer_or_wait, results_or_why, Request, ResultsData};
use super::state::{AppState, Command};
use super::track_list::{self, clock_secs, play, Entry, Heading, NUMBER};

/// How long the audition plays each entry.
pub const AUDITION_SECS: f64 = 4.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    FilterMax,
    FilterMean,
    Unit,
    Similar,
    Region,
}

impl Kind {
    const ALL: [Kind; 5] = [
        Kind::FilterMax,
        Kind::FilterMean,
        Kind::Unit,
        Kind::Similar,
        Kind::Region,
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::FilterMax => "conv1 filter, max",
            Kind::FilterMean => "conv1 filter, mean",
            Kind::Unit => "fc2 unit",
            Kind::Similar => "similar to the selection",
            Kind::Region => "map selection",
        }
    }

    fn of(query: &PlaylistQuery) -> Self {
        match query {
            PlaylistQuery::Filter {
                stat: FilterStat::Max,
                ..
            } => Kind::FilterMax,
            PlaylistQuery::Filter {
                stat: FilterStat::Mean,
                ..
            } => Kind::FilterMean,
            PlaylistQuery::Unit { .. } => Kind::Unit,
            PlaylistQuery::Similar { .. } => Kind::Similar,
            PlaylistQuery::Region(_) => Kind::Region,
        }
    }
}

/// The audition's place: the entry playing, and whether its audio has started.
#[derive(Debug, Clone, Copy)]
struct Audition {
    entry: usize,
    started: bool,
}

#[derive(Default)]
pub struct PlaylistsView {
    audition: Option<Audition>,
}

impl PlaylistsView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(data) = results_or_why(ui, state) else {
            return;
        };
        let query = state
            .analysis
            .shown_playlist
            .clone()
            .unwrap_or(PlaylistQuery::Filter {
                filter: data.filters_by_selectivity.first().copied().unwrap_or(0),
                stat: FilterStat::Max,
            });
        if let Some(next) = self.chooser(ui, state, &data, &query) {
            self.audition = None;
            state.send(Command::Analysis(Request::Show(next)));
        }
        let pending = state.analysis.playlists.get(&query).cloned();
        let Some(answer) = answer_or_wait(ui, state, pending, Request::Show(query.clone())) else {
            return;
        };
        let entries: Vec<Entry> = answer
            .playlist
            .entries
            .iter()
            .enumerate()
            .map(|(rank, e)| Entry {
                id: e.id,
                values: std::iter::once(format!("{:.3}", e.score))
                    .chain(e.peak_secs.map(clock_secs))
                    .collect(),
                peak_secs: e.peak_secs,
                mark: match (&query, rank) {
                    (PlaylistQuery::Similar { .. }, 0) => Some(("Q", "the query".to_owned())),
                    _ => None,
                }
                .or_else(|| {
                    (self.audition.is_some_and(|a| a.entry == rank))
                        .then(|| (">", "auditioning".to_owned()))
                }),
                warn: false,
            })
            .collect();
        ui.horizontal(|ui| {
            let name = query
                .named()
                .and_then(|what| state.analysis.names.get(what))
                .map_or(String::new(), |n| format!(" \"{n}\""));
            ui.heading(format!("{}{name}", query.title()));
            ui.separator();
            let auditioning = self.audition.is_some();
            if ui
                .selectable_label(auditioning, "Audition")
                .on_hover_text(format!(
                    "Play {AUDITION_SECS:.0} s of each entry from its peak, one after the other \
                     (Space pauses)"
                ))
                .clicked()
            {
                if auditioning {
                    self.audition = None;
                } else if !entries.is_empty() {
                    self.audition = Some(Audition {
                        entry: 0,
                        started: false,
                    });
                    play(state, &entries[0]);
                }
            }
            if ui
                .button("Export M3U8 + JSON")
                .on_hover_text(format!(
                    "Write playlists/{0}.m3u8 and playlists/{0}.json, as deepcuts playlist does",
                    query.file_stem()
                ))
                .clicked()
            {
                state.send(Command::Analysis(Request::Export(query.clone())));
            }
        });
        if let Some((facet, label)) = answer.description.top() {
            ui.label(format!(
                "most about {} {}: {:.0}% of the playlist, {:.0}% of the collection (selectivity {:.2}); {} {}",
                facet.name(),
                label.label,
                label.share * 100.0,
                label.background * 100.0,
                label.selectivity,
                answer.description.styles,
                if answer.description.styles == 1 { "style" } else { "styles" }
            ));
        }
        ui.add_space(4.0);
        let headers: &[Heading] = match &query {
            PlaylistQuery::Filter { .. } => &[("activation", NUMBER), ("peak", NUMBER)],
            PlaylistQuery::Unit { .. } => &[("activation", NUMBER)],
            PlaylistQuery::Similar { .. } => &[("cosine", NUMBER)],
            PlaylistQuery::Region(_) => &[("typical", NUMBER)],
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            if track_list::show(ui, state, &data, "playlist", headers, &entries).is_some() {
                self.audition = None;
                if let PlaylistQuery::Filter { filter, .. } = &query {
                    let filter = *filter;
                    state.send(Command::ShowFilter(filter));
                }
            }
        });
        self.step_audition(ui, state, &entries);
    }

    /// The playlist's kind and index; returns a new query when the researcher changed it.
    fn chooser(
        &self,
        ui: &mut egui::Ui,
        state: &AppState,
        data: &ResultsData,
        query: &PlaylistQuery,
    ) -> Option<PlaylistQuery> {
        let mut kind = Kind::of(query);
        let mut index = match *query {
            PlaylistQuery::Filter { filter, .. } => filter,
            PlaylistQuery::Unit { unit } => unit,
            PlaylistQuery::Similar { .. } | PlaylistQuery::Region(_) => 0,
        };
        let region = state.selection_set.as_ref().map(|set| set.region.clone());
        ui.horizontal(|ui| {
            ui.label("playlist");
            egui::ComboBox::from_id_salt("playlist-kind")
                .selected_text(kind.name())
                .show_ui(ui, |ui| {
                    for choice in Kind::ALL {
                        let possible = choice != Kind::Region || region.is_some();
                        ui.add_enabled_ui(possible, |ui| {
                            ui.selectable_value(&mut kind, choice, choice.name())
                                .on_disabled_hover_text(
                                    "Draw a box or lasso on the map first (Map view)",
                                );
                        });
                    }
                })
                .response
                .on_hover_text("Which playlist: a filter's or a unit's top tracks, the tracks nearest the selected one, or those selected on the map");
            let count = match kind {
                Kind::FilterMax | Kind::FilterMean => data.results.filters(),
                Kind::Unit => data.results.units(),
                Kind::Similar | Kind::Region => 0,
            };
            if count > 0 {
                ui.add(egui::DragValue::new(&mut index).range(0..=count - 1))
                    .on_hover_text("Which filter or unit");
            }
        });
        ui.separator();
        let next = match kind {
            Kind::FilterMax => PlaylistQuery::Filter {
                filter: index,
                stat: FilterStat::Max,
            },
            Kind::FilterMean => PlaylistQuery::Filter {
                filter: index,
                stat: FilterStat::Mean,
            },
            Kind::Unit => PlaylistQuery::Unit { unit: index },
            Kind::Similar => PlaylistQuery::Similar {
                track: state.selection.unwrap_or(0) as u32,
            },
            // The region shown stays until another kind is chosen, even when the map's
            // selection changed since (its "Open as playlist" shows the new one).
            Kind::Region => match (query, region) {
                (PlaylistQuery::Region(_), _) | (_, None) => query.clone(),
                (_, Some(region)) => PlaylistQuery::Region(region),
            },
        };
        (next != *query).then_some(next)
    }

    /// Moves the audition on once its entry played [`AUDITION_SECS`] (by the player's
    /// position, so a pause holds it), and ends it when the researcher plays something else.
    fn step_audition(&mut self, ui: &egui::Ui, state: &mut AppState, entries: &[Entry]) {
        let Some(audition) = &mut self.audition else {
            return;
        };
        let Some(entry) = entries.get(audition.entry) else {
            self.audition = None;
            return;
        };
        let row = entry.id as usize;
        let playing_it = state.now_playing == Some(row);
        if !audition.started {
            audition.started = playing_it;
        } else if !playing_it {
            // Something else was played: the researcher took over.
            self.audition = None;
            return;
        }
        ui.ctx()
            .request_repaint_after(std::time::Duration::from_millis(100));
        let Some(player) = &state.player else { return };
        if !audition.started {
            return;
        }
        let from = entry.peak_secs.unwrap_or_else(|| {
            state
                .project
                .as_ref()
                .map_or(0.0, |p| p.excerpt_start_secs(row))
        });
        let ended = player.state() == crate::audio::player::PlaybackState::Ended;
        if player.position_secs() >= from + AUDITION_SECS || ended {
            let next = audition.entry + 1;
            match entries.get(next) {
                Some(entry) => {
                    *audition = Audition {
                        entry: next,
                        started: false,
                    };
                    play(state, entry);
                }
                None => {
                    self.audition = None;
                    state.send(Command::TogglePlay);
                }
            }
        }
    }
}
