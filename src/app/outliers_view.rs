//! The outliers view (the seed's proposed use): a user's or the selected track's CF
//! recommendations, each judged by how much its audio sounds like the query; the ones far
//! below the rest of their list are flagged, with the distance and the track's kind as the
//! explanation, so a researcher can hear why an intro or a cover would be filtered out.

use crate::analysis::outliers::{OutlierQuery, DEFAULT_FLAG_SPREAD};

use super::results_data::{answer_or_wait, results_or_why, unavailable_ui, Request};
use super::state::AppState;
use super::track_list::{self, Entry, NUMBER};

#[derive(Default)]
pub struct OutliersView {
    /// The user whose recommendations are judged; `None`: the selected track's.
    user: Option<String>,
}

impl OutliersView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(data) = results_or_why(ui, state) else {
            return;
        };
        if let Err(why) = &data.outliers {
            unavailable_ui(ui, state, why);
            return;
        }
        ui.horizontal(|ui| {
            ui.label("recommendations for");
            egui::ComboBox::from_id_salt("outlier-query")
                .selected_text(self.user.as_deref().unwrap_or("the selected track"))
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut self.user, None, "the selected track");
                    for user in &data.users {
                        ui.selectable_value(&mut self.user, Some(user.clone()), user);
                    }
                })
                .response
                .on_hover_text("Whose CF recommendations: the selected track's nearest WMF neighbours, or a user's top items");
        });
        let query = match (&self.user, state.selection) {
            (Some(user), _) => OutlierQuery::User(user.clone()),
            (None, Some(row)) => OutlierQuery::Track(row as u32),
            (None, None) => {
                ui.label("Select a track, or choose a user.");
                return;
            }
        };
        let pending = state.analysis.outliers.get(&query).cloned();
        let Some(judgement) = answer_or_wait(ui, state, pending, Request::Outliers(query.clone()))
        else {
            return;
        };
        ui.heading(match &query {
            OutlierQuery::User(user) => format!("CF recommendations for {user}"),
            OutlierQuery::Track(id) => format!("CF neighbours of {}", data.track_name(*id)),
        });
        let flagged = judgement.items.iter().filter(|j| j.flagged).count();
        ui.label(format!(
            "{flagged} of {} flagged: their audio lies more than {DEFAULT_FLAG_SPREAD:.0} robust \
             standard deviations below the list's median similarity to {}",
            judgement.items.len(),
            match query {
                OutlierQuery::User(_) => "the closest track the user played",
                OutlierQuery::Track(_) => "the query",
            }
        ));
        ui.add_space(4.0);
        let entries: Vec<Entry> = judgement
            .items
            .iter()
            .map(|j| Entry {
                id: j.id,
                values: vec![
                    format!("{:.3}", j.cf_score),
                    format!("{:.3}", j.audio_similarity),
                    format!("{:.1} σ", j.spread_below),
                    format!(
                        "sounds less like it than {:.0}% of the collection",
                        j.audio_rank * 100.0
                    ),
                ],
                peak_secs: None,
                mark: j
                    .flagged
                    .then(|| ("!", "flagged: the audio does not fit the list".to_owned())),
                warn: j.flagged,
            })
            .collect();
        egui::ScrollArea::vertical().show(ui, |ui| {
            track_list::show(
                ui,
                state,
                &data,
                "outliers",
                &[
                    ("CF score", NUMBER),
                    ("audio cos", NUMBER),
                    ("below list", NUMBER),
                    ("why", 270.0),
                ],
                &entries,
            );
        });
    }
}
