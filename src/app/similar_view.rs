//! The similar view: the selected track's nearest tracks by the audio (cosine of predicted
//! factors) and by the listening data (cosine of WMF factors) side by side, the query first
//! in each, tracks in both lists marked; every entry plays on a click.

use std::sync::Arc;

use crate::analysis::neighbours::NeighbourLists;
use crate::analysis::top_k::Scored;

use super::results_data::{results_or_why, Request, ResultsData};
use super::state::{AppState, Command};
use super::track_list::{self, Entry, NUMBER};

#[derive(Default)]
pub struct SimilarView;

impl SimilarView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(data) = results_or_why(ui, state) else {
            return;
        };
        let Some(row) = state.selection else {
            ui.label("Select a track (in the library or any list) to see its neighbours.");
            return;
        };
        let track = row as u32;
        let lists = match state.analysis.neighbours.get(&track) {
            None => {
                state.send(Command::Analysis(Request::Neighbours(track)));
                return;
            }
            Some(None) => {
                ui.spinner();
                return;
            }
            Some(Some(Err(error))) => {
                ui.heading(format!("No neighbours for {}", data.track_name(track)));
                ui.label(error);
                return;
            }
            Some(Some(Ok(lists))) => Arc::clone(lists),
        };
        ui.heading(format!("Neighbours of {}", data.track_name(track)));
        let overlap = lists.overlap();
        ui.label(match &lists.cf {
            Some(_) => format!(
                "* in both lists: {} of {}",
                overlap.len(),
                lists.audio.len().saturating_sub(1)
            ),
            None => String::new(),
        });
        ui.add_space(4.0);
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.columns(2, |columns| {
                columns[0].strong("By the audio (predicted factors)");
                list(
                    &mut columns[0],
                    state,
                    &data,
                    "audio",
                    &lists.audio,
                    &overlap,
                );
                columns[1].strong("By the listening data (WMF factors)");
                match &lists.cf {
                    Some(cf) => list(&mut columns[1], state, &data, "cf", cf, &overlap),
                    None => {
                        columns[1].label(no_cf_reason(&data, &lists));
                    }
                }
            });
        });
    }
}

/// One neighbour list, query first, overlap marked.
fn list(
    ui: &mut egui::Ui,
    state: &mut AppState,
    data: &ResultsData,
    salt: &str,
    scored: &[Scored],
    overlap: &[u32],
) {
    let entries: Vec<Entry> = scored
        .iter()
        .enumerate()
        .map(|(rank, &(id, score))| Entry {
            id,
            values: vec![format!("{score:.3}")],
            peak_secs: None,
            mark: if rank == 0 {
                Some(("Q", "the query".to_owned()))
            } else if overlap.contains(&id) {
                Some(("*", "in both lists".to_owned()))
            } else {
                None
            },
            warn: false,
        })
        .collect();
    track_list::show(ui, state, data, salt, &[("cosine", NUMBER)], &entries);
}

/// Why a track has no CF neighbours.
fn no_cf_reason(data: &ResultsData, lists: &NeighbourLists) -> String {
    if data.neighbours.cf.is_none() {
        "No CF factors yet: run the cf stage (Jobs view).".into()
    } else {
        format!(
            "No CF neighbours: {} has no listens, so only its audio places it.",
            data.track_name(lists.query)
        )
    }
}
