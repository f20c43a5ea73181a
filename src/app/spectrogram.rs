//! The spectrogram of the selected track: its log-mel as an image on a time axis in seconds
//! and a frequency axis in Hz on the mel scale, a dB colour bar, the playhead, click to seek;
//! under it, one conv1 filter's activation over the same time axis with its peak marked.

use egui_plot::{
    GridInput, GridMark, HoverPosition, Line, Plot, PlotImage, PlotPoint, Points, VLine,
};

use crate::audio::player::PlaybackState;
use crate::dsp::mel::{hz_to_mel, mel_to_hz};

use super::colormap::Colormap;
use super::spectrogram_data::{Activations, MelImage};
use super::state::{AppState, Command};

/// The spectrogram's highest frequency (the mel filterbank's fmax).
const FMAX_HZ: f64 = 11_025.0;

#[derive(Default)]
pub struct SpectrogramView {
    /// The conv1 filter shown under the spectrogram.
    pub filter: usize,
}

impl SpectrogramView {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        if let Some(filter) = state.show_filter.take() {
            self.filter = filter;
        }
        let (Some(project), Some(row)) = (state.project.clone(), state.selection) else {
            ui.centered_and_justified(|ui| {
                ui.label("Select a track in the library to see its spectrogram.")
            });
            return;
        };
        let Some(track) = project.tracks.get(row) else {
            return;
        };
        state.ensure_texture(ui.ctx());
        ui.horizontal(|ui| {
            ui.strong(format!("{} – {}", track.artist, track.title));
            ui.separator();
            let mut whole = state.whole_track;
            if ui
                .selectable_label(!whole, "Excerpt")
                .on_hover_text("The analysed middle 30 s (the stored features)")
                .clicked()
            {
                whole = false;
            }
            if ui
                .selectable_label(whole, "Whole track")
                .on_hover_text("The whole track, computed now in the background")
                .clicked()
            {
                whole = true;
            }
            if whole != state.whole_track {
                state.send(Command::ShowWholeTrack(whole));
            }
            ui.separator();
            let mut colormap = state.colormap;
            egui::ComboBox::from_id_salt("colormap")
                .selected_text(colormap.name())
                .show_ui(ui, |ui| {
                    for choice in Colormap::ALL {
                        ui.selectable_value(&mut colormap, choice, choice.name());
                    }
                })
                .response
                .on_hover_text("Colormap");
            if colormap != state.colormap {
                state.send(Command::SetColormap(colormap));
            }
        });
        let Some(mel) = &state.mel else { return };
        let row = mel.row;
        let image = match &mel.image {
            None => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label(if mel.whole {
                        "Computing the whole track's spectrogram…"
                    } else {
                        "Reading the excerpt's spectrogram…"
                    });
                });
                return;
            }
            Some(Err(error)) => {
                ui.label(error);
                return;
            }
            Some(Ok(image)) => image,
        };
        let Some(texture) = &mel.texture else { return };
        let playhead = state
            .player
            .as_ref()
            .filter(|_| state.now_playing == Some(row))
            .map(|player| (player.position_secs(), player.state()));
        if playhead.is_some_and(|(_, s)| s == PlaybackState::Playing) {
            // The playhead moves about a pixel every 50 ms on a 30-s excerpt.
            ui.ctx()
                .request_repaint_after(std::time::Duration::from_millis(50));
        }
        let activation_height = if project.conv1_filters.is_some() {
            150.0
        } else {
            0.0
        };
        let plot_height = (ui.available_height() - activation_height - 24.0).max(160.0);
        let time = TimeAxis {
            link: ui.scope_id().with("time"),
            span: time_span(image),
        };
        let colormap = state.colormap;
        let mut seek = None;
        ui.horizontal(|ui| {
            let width = ui.available_width() - COLOUR_BAR_WIDTH;
            ui.vertical(|ui| {
                ui.set_width(width);
                seek = spectrogram_plot(ui, texture, playhead.map(|p| p.0), plot_height, &time);
            });
            colour_bar(ui, image, colormap, plot_height);
        });
        if let Some(secs) = seek {
            // Click to seek: in the track playing, or start this one there.
            if state.now_playing == Some(row) {
                state.send(Command::SeekTo(secs));
            } else {
                state.send(Command::Play {
                    row,
                    from_secs: Some(secs),
                });
            }
        }
        if let Some(filters) = project.conv1_filters {
            self.activation_ui(ui, state, filters, playhead.map(|p| p.0), &time, row);
        }
    }

    fn activation_ui(
        &mut self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        filters: usize,
        playhead: Option<f64>,
        time: &TimeAxis,
        row: usize,
    ) {
        let mut play_from = None;
        ui.horizontal(|ui| {
            ui.label("conv1 filter");
            ui.add(egui::DragValue::new(&mut self.filter).range(0..=filters.saturating_sub(1)))
                .on_hover_text("Which first-layer filter's activation to show");
            if let Some((_, Ok(activations))) = &state.activations {
                if let Some((t, value)) = peak(activations, self.filter) {
                    let secs = activations.time_secs(t);
                    ui.label(format!("peak {value:.3} at {secs:.2} s"));
                    if ui
                        .button("Play from peak")
                        .on_hover_text("Play from a second before the filter's peak")
                        .clicked()
                    {
                        play_from = Some((secs - 1.0).max(0.0));
                    }
                }
            }
        });
        if let Some(secs) = play_from {
            state.send(Command::Play {
                row,
                from_secs: Some(secs),
            });
        }
        match &state.activations {
            Some((_, Ok(activations))) if self.filter < activations.conv1.nrows() => {
                let series: Vec<[f64; 2]> = activations
                    .conv1
                    .row(self.filter)
                    .iter()
                    .enumerate()
                    .map(|(t, &a)| [activations.time_secs(t), f64::from(a)])
                    .collect();
                let peak_point = peak(activations, self.filter)
                    .map(|(t, v)| [activations.time_secs(t), f64::from(v)]);
                // Under the spectrogram on the same time axis: as wide, the same axis
                // width on the left, the colour bar's width left empty on the right.
                let width = ui.available_width() - COLOUR_BAR_WIDTH;
                Plot::new("activation")
                    .height(ui.available_height().max(100.0))
                    .width(width)
                    .link_axis(time.link, [true, false])
                    .link_cursor(time.link, [true, false])
                    .include_x(time.span.0)
                    .include_x(time.span.1)
                    .set_margin_fraction(egui::vec2(0.0, 0.05))
                    .x_axis_label("time (s)")
                    .y_axis_label("activation")
                    .y_axis_min_width(Y_AXIS_WIDTH)
                    .allow_scroll(false)
                    .show(ui, |plot| {
                        plot.line(Line::new(format!("filter {}", self.filter), series));
                        if let Some(point) = peak_point {
                            plot.points(
                                Points::new("peak", vec![point])
                                    .radius(5.0)
                                    .color(egui::Color32::from_rgb(230, 80, 60)),
                            );
                        }
                        if let Some(secs) = playhead {
                            plot.vline(VLine::new("playhead", secs).color(egui::Color32::WHITE));
                        }
                    });
            }
            Some((_, Err(message))) => {
                ui.label(message);
            }
            _ => {}
        }
    }
}

/// Width of the y axes' tick labels, the same for the spectrogram and the activation under it
/// so that their time axes line up.
const Y_AXIS_WIDTH: f32 = 60.0;

/// Room right of the spectrogram for its colour bar (and right of the activation, to match).
const COLOUR_BAR_WIDTH: f32 = 70.0;

/// The filter's largest activation: (conv1 frame, value).
fn peak(activations: &Activations, filter: usize) -> Option<(usize, f32)> {
    if filter >= activations.conv1.nrows() {
        return None;
    }
    activations
        .conv1
        .row(filter)
        .iter()
        .copied()
        .enumerate()
        .fold(None, |best: Option<(usize, f32)>, (t, value)| match best {
            Some((_, b)) if b >= value => best,
            _ => Some((t, value)),
        })
}

/// The time axis the spectrogram and the activation under it share.
struct TimeAxis {
    /// egui_plot's link group: zooming or panning one moves the other.
    link: egui::Id,
    /// Seconds the image spans.
    span: (f64, f64),
}

/// Seconds `image` spans: frame t is centred at start + t·hop, so half a hop either side.
fn time_span(image: &MelImage) -> (f64, f64) {
    let x0 = image.start_secs - super::spectrogram_data::HOP_SECS / 2.0;
    (x0, x0 + image.duration_secs())
}

/// The spectrogram image on time × mel axes; returns the time clicked, if any.
fn spectrogram_plot(
    ui: &mut egui::Ui,
    texture: &egui::TextureHandle,
    playhead: Option<f64>,
    height: f32,
    time: &TimeAxis,
) -> Option<f64> {
    let mel_max = hz_to_mel(FMAX_HZ);
    let (x0, x1) = time.span;
    let response = Plot::new("spectrogram")
        .height(height)
        .link_axis(time.link, [true, false])
        .link_cursor(time.link, [true, false])
        .x_axis_label("time (s)")
        .y_axis_label("frequency (Hz, mel scale)")
        .y_axis_min_width(Y_AXIS_WIDTH)
        .y_grid_spacer(hz_grid)
        .y_axis_formatter(|mark, _| hz_label(mel_to_hz(mark.value)))
        .label_formatter(|hover| {
            let (HoverPosition::NearDataPoint { position, .. }
            | HoverPosition::Elsewhere { position }) = hover;
            Some(format!(
                "{:.2} s\n{:.0} Hz",
                position.x,
                mel_to_hz(position.y)
            ))
        })
        .include_y(0.0)
        .include_y(mel_max)
        .include_x(x0)
        .include_x(x1)
        .set_margin_fraction(egui::vec2(0.0, 0.0))
        .allow_scroll(false)
        // Grid lines would cut across the image; the Hz ticks are on the axis.
        .show_grid(false)
        .show(ui, |plot| {
            plot.image(PlotImage::new(
                "log-mel",
                texture.id(),
                PlotPoint::new((x0 + x1) / 2.0, mel_max / 2.0),
                egui::vec2((x1 - x0) as f32, mel_max as f32),
            ));
            if let Some(secs) = playhead {
                plot.vline(
                    VLine::new("playhead", secs)
                        .color(egui::Color32::WHITE)
                        .width(1.5),
                );
            }
            plot.response()
                .clicked()
                .then(|| plot.pointer_coordinate())
                .flatten()
        });
    response.inner.map(|point| point.x.max(0.0))
}

/// Grid lines at round frequencies, placed on the mel scale.
fn hz_grid(input: GridInput) -> Vec<GridMark> {
    const MARKS_HZ: [f64; 11] = [
        100.0, 200.0, 500.0, 1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0, 8000.0, 10_000.0,
    ];
    let (low, high) = input.bounds;
    MARKS_HZ
        .iter()
        .map(|&hz| hz_to_mel(hz))
        .filter(|mel| (low..=high).contains(mel))
        .map(|value| GridMark {
            value,
            step_size: input.base_step_size.max(1.0) * 100.0,
        })
        .collect()
}

fn hz_label(hz: f64) -> String {
    if hz >= 1000.0 {
        format!("{:.0}k", hz / 1000.0)
    } else {
        format!("{hz:.0}")
    }
}

/// A vertical bar of the colormap labelled with its dB range.
fn colour_bar(ui: &mut egui::Ui, image: &MelImage, colormap: Colormap, height: f32) {
    ui.vertical(|ui| {
        ui.label(format!("{:.0} dB", image.max_db));
        let bar_height = (height - 48.0).max(40.0);
        let (rect, response) =
            ui.allocate_exact_size(egui::vec2(18.0, bar_height), egui::Sense::hover());
        let steps = 64;
        for i in 0..steps {
            let t = i as f32 / (steps - 1) as f32;
            let y1 = rect.bottom() - rect.height() * i as f32 / steps as f32;
            let y0 = rect.bottom() - rect.height() * (i + 1) as f32 / steps as f32;
            ui.painter().rect_filled(
                egui::Rect::from_x_y_ranges(rect.x_range(), y0..=y1),
                0.0,
                colormap.color(t),
            );
        }
        response.on_hover_text(format!(
            "log-mel power, {:.0} to {:.0} dB ({})",
            image.min_db,
            image.max_db,
            colormap.name()
        ));
        ui.label(format!("{:.0} dB", image.min_db));
    });
}
