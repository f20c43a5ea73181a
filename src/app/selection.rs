//! The selection panel: what the selected track is, its state in the pipeline, and the actions
//! every list entry has (play, open in the spectrogram).

use crate::features::RowStatus;

use super::state::{AppState, Command};
use super::ViewKind;

pub fn ui(ui: &mut egui::Ui, state: &mut AppState) {
    ui.heading("Selection");
    ui.separator();
    let (Some(project), Some(row)) = (state.project.clone(), state.selection) else {
        ui.weak("No track selected. Click one in the library (Esc clears).");
        return;
    };
    let Some(track) = project.tracks.get(row) else {
        return;
    };
    ui.label(egui::RichText::new(&track.title).strong().size(16.0));
    ui.label(&track.artist);
    egui::Grid::new("track-facts")
        .num_columns(2)
        .spacing([8.0, 4.0])
        .show(ui, |ui| {
            let fact = |ui: &mut egui::Ui, name: &str, value: String| {
                ui.weak(name);
                ui.add(egui::Label::new(value).wrap());
                ui.end_row();
            };
            fact(ui, "album", track.album.clone());
            fact(ui, "id", track.id.to_string());
            fact(
                ui,
                "length",
                track.duration_secs.map_or("unknown".into(), |s| {
                    format!("{}:{:02}", s as u64 / 60, s as u64 % 60)
                }),
            );
            fact(
                ui,
                "kind",
                if track.kind.is_empty() {
                    "–".into()
                } else {
                    track.kind.clone()
                },
            );
            fact(ui, "tags", track.tags.join(", "));
            fact(ui, "plays", project.plays[row].to_string());
            fact(
                ui,
                "features",
                match &project.features[row] {
                    RowStatus::Done => "computed".into(),
                    RowStatus::Pending => "not computed yet".into(),
                    RowStatus::Failed(reason) => format!("failed: {reason}"),
                },
            );
            fact(ui, "source", track.source.clone());
        });
    ui.add_space(8.0);
    ui.horizontal_wrapped(|ui| {
        if ui
            .button("Play excerpt")
            .on_hover_text("Play the analysed middle 30 s (Enter)")
            .clicked()
        {
            state.send(Command::Play {
                row,
                from_secs: None,
            });
        }
        if ui
            .button("Play from start")
            .on_hover_text("Play the whole track from its beginning")
            .clicked()
        {
            state.send(Command::Play {
                row,
                from_secs: Some(0.0),
            });
        }
        if ui
            .button("Open spectrogram")
            .on_hover_text("Open this track in the spectrogram view")
            .clicked()
        {
            state.send(Command::ShowView(ViewKind::Spectrogram));
        }
    });
}
