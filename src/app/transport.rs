//! The transport bar: play/pause, seek bar, position, volume and the output's state, over the
//! player engine (`audio::player`); the status line sits at its right.

use std::time::Duration;

use crate::audio::player::PlaybackState;

use super::job_progress::clock;
use super::state::{AppState, Command};

pub fn ui(ui: &mut egui::Ui, state: &mut AppState) {
    ui.horizontal(|ui| {
        let playing_row = state.now_playing;
        let (position, playback, volume) = match &state.player {
            Some(player) => (player.position_secs(), player.state(), player.volume()),
            None => (0.0, PlaybackState::Stopped, 1.0),
        };
        let has_output = state.player.as_ref().is_some_and(|p| p.has_output());
        let playing = playback == PlaybackState::Playing;
        let (icon, tip) = if playing {
            ("Pause", "Pause (Space)")
        } else {
            ("Play", "Play the selection (Space)")
        };
        if ui
            .add_enabled(
                has_output,
                egui::Button::new(egui::RichText::new(icon).size(16.0)),
            )
            .on_hover_text(tip)
            .on_disabled_hover_text(&state.audio_status)
            .clicked()
        {
            state.send(Command::TogglePlay);
        }
        let duration = playing_row
            .and_then(|row| state.project.as_ref().map(|p| p.duration_secs(row)))
            .unwrap_or(0.0);
        let mut seek = position.min(duration.max(position));
        let slider = ui.add_enabled(
            playing_row.is_some() && duration > 0.0,
            egui::Slider::new(&mut seek, 0.0..=duration.max(1.0))
                .show_value(false)
                .trailing_fill(true),
        );
        if slider.drag_stopped() || (slider.changed() && !slider.dragged()) {
            state.send(Command::SeekTo(seek));
        }
        slider.on_hover_text("Seek (←/→: 5 s)");
        ui.monospace(format!(
            "{} / {}",
            clock(Duration::from_secs_f64(position.max(0.0))),
            clock(Duration::from_secs_f64(duration.max(0.0)))
        ));
        if let (Some(row), Some(project)) = (playing_row, &state.project) {
            if let Some(track) = project.tracks.get(row) {
                ui.label(format!("{} – {}", track.artist, track.title));
            }
        }
        ui.separator();
        ui.label("Volume");
        let mut gain = volume;
        if ui
            .add(egui::Slider::new(&mut gain, 0.0..=1.0).show_value(false))
            .on_hover_text("Volume")
            .changed()
        {
            state.send(Command::SetVolume(gain));
        }
        ui.separator();
        ui.label(&state.audio_status);
        if playing {
            // The position moves: redraw at the playhead's pace, not continuously.
            ui.ctx().request_repaint_after(Duration::from_millis(100));
        }
    });
}

/// The status line: the latest message (the running job's progress is in the top bar).
pub fn status_line(ui: &mut egui::Ui, state: &AppState) {
    ui.label(&state.status);
}
