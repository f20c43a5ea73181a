//! The jobs view: every pipeline stage with its state, start and cancel with the main options,
//! the running step's progress with rate and time left, the live loss curves, and the
//! cold-start table once `eval` ran.

use egui_plot::{Legend, Line, Plot};

use crate::analysis::report::share_closed;
use crate::pipeline::{RunOptions, StageState, FIRST_PASS_TRACKS};

use super::job_progress::{clock, LastRun};
use super::project_data::StageRow;
use super::state::{AppState, Command};

/// The options the view offers, kept between runs.
pub struct JobsView {
    config: String,
    epochs: usize,
    factors: usize,
}

impl Default for JobsView {
    fn default() -> Self {
        Self {
            config: "small".into(),
            epochs: 80,
            factors: 40,
        }
    }
}

impl JobsView {
    fn options(&self) -> RunOptions {
        RunOptions {
            until: None,
            config: Some(self.config.clone()),
            epochs: Some(self.epochs),
            factors: Some(self.factors),
            threads: None,
            first_pass: Some(FIRST_PASS_TRACKS),
            // AppState::start_job puts its own device here.
            device: Default::default(),
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        let Some(project) = state.project.clone() else {
            ui.label("Open a project to run its pipeline.");
            return;
        };
        egui::ScrollArea::vertical().show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label("network");
                egui::ComboBox::from_id_salt("config")
                    .selected_text(self.config.as_str())
                    .show_ui(ui, |ui| {
                        for name in ["small", "paper"] {
                            ui.selectable_value(&mut self.config, name.to_owned(), name);
                        }
                    })
                    .response
                    .on_hover_text(
                        "The network a new training run uses (a resumed run keeps its own)",
                    );
                ui.label("epochs");
                ui.add(egui::DragValue::new(&mut self.epochs).range(1..=1000))
                    .on_hover_text(
                        "Most training epochs (it stops earlier when validation stops improving)",
                    );
                ui.label("WMF factors");
                ui.add(egui::DragValue::new(&mut self.factors).range(1..=512))
                    .on_hover_text("Latent factors of the cf stage");
                ui.separator();
                let running = state.job.is_some();
                if ui
                    .add_enabled(!running, egui::Button::new("Run all"))
                    .on_hover_text(
                        "Run every stage that is missing, stale or interrupted, in order",
                    )
                    .clicked()
                {
                    state.send(Command::StartJob {
                        stage: None,
                        options: self.options(),
                    });
                }
                if ui
                    .add_enabled(running, egui::Button::new("Cancel"))
                    .on_hover_text("Stop after the current items; what is finished is kept")
                    .clicked()
                {
                    state.send(Command::CancelJob);
                }
            });
            ui.add_space(6.0);
            self.stage_table(ui, state, &project);
            ui.add_space(6.0);
            if let Some(step) = &state.jobs.step {
                ui.horizontal(|ui| {
                    ui.strong(format!("{}: {}", step.stage.name(), step.step));
                    let rate = step
                        .rate_per_sec()
                        .map_or(String::new(), |r| format!(" · {r:.1}/s"));
                    let left = step
                        .time_left()
                        .map_or(String::new(), |d| format!(" · {} left", clock(d)));
                    ui.label(format!("{}/{}{rate}{left}", step.done, step.total));
                });
                ui.add(egui::ProgressBar::new(step.fraction()).show_percentage());
            }
            self.curves(ui, state, &project.history);
            if let Some(table) = &project.coldstart {
                ui.add_space(6.0);
                ui.strong("Cold-start evaluation (eval/coldstart.json)");
                egui::Grid::new("coldstart").striped(true).show(ui, |ui| {
                    for heading in ["method", "AUC", "mAP@500", "recall@50", "NDCG@50", "users"] {
                        ui.strong(heading);
                    }
                    ui.end_row();
                    for method in crate::coldstart::eval_project::METHODS {
                        if let Some(row) = table.get(method) {
                            ui.label(method);
                            for key in ["auc", "map500", "recall50", "ndcg50"] {
                                ui.label(row.get(key).map_or("–".into(), |v| format!("{v:.4}")));
                            }
                            ui.label(row.get("users").map_or("–".into(), |v| format!("{v:.0}")));
                            ui.end_row();
                        }
                    }
                });
                let closed = |key: &str| {
                    let value = |method: &str| table.get(method)?.get(key).copied();
                    share_closed(value("baseline")?, value("convnet")?, value("upper_bound")?)
                };
                if let (Some(auc), Some(map)) = (closed("auc"), closed("map500")) {
                    ui.label(format!(
                        "The convnet closes {:.0}% (AUC) and {:.0}% (mAP@500) of the gap from the \
                         baseline to the upper bound (deepcuts report).",
                        auc * 100.0,
                        map * 100.0
                    ));
                }
            }
            if !state.jobs.notes.is_empty() {
                ui.add_space(6.0);
                egui::CollapsingHeader::new(format!("Log ({} lines)", state.jobs.notes.len()))
                    .default_open(true)
                    .show(ui, |ui| {
                        for note in state.jobs.notes.iter().rev().take(30) {
                            ui.label(note);
                        }
                    });
            }
        });
    }

    fn stage_table(
        &self,
        ui: &mut egui::Ui,
        state: &mut AppState,
        project: &super::project_data::ProjectData,
    ) {
        let stages = match &project.stages {
            Ok(stages) => stages,
            Err(error) => {
                ui.colored_label(
                    ui.visuals().error_fg_color,
                    format!("Cannot read the pipeline's state: {error}"),
                );
                return;
            }
        };
        egui::Grid::new("stages")
            .striped(true)
            .num_columns(5)
            .spacing([12.0, 6.0])
            .show(ui, |ui| {
                for heading in ["stage", "state", "output", "last run", ""] {
                    ui.strong(heading);
                }
                ui.end_row();
                let mut said_why = false;
                for StageRow { status, blocked } in stages {
                    let stage = status.stage;
                    let running = state.jobs.running == Some(stage)
                        || state.job.as_ref().is_some_and(|j| j.stage == Some(stage));
                    ui.label(stage.name());
                    let (text, color) = if running {
                        ("running".to_owned(), ui.visuals().warn_fg_color)
                    } else if let Some(reason) = blocked
                        .as_ref()
                        .filter(|_| status.state != StageState::Done)
                    {
                        // The reason once, on the first stage it stops.
                        let text = if said_why {
                            "blocked".to_owned()
                        } else {
                            format!("blocked: {reason}")
                        };
                        said_why = true;
                        (text, ui.visuals().weak_text_color())
                    } else {
                        state_words(&status.state, ui.visuals())
                    };
                    let state_label = ui.colored_label(color, text);
                    // A stage that cannot run yet says why where its state is.
                    let blocked = blocked
                        .as_ref()
                        .filter(|_| status.state != StageState::Done);
                    if let Some(reason) = blocked {
                        state_label.on_hover_text(reason);
                    }
                    ui.label(&status.output);
                    match state.jobs.last_run.get(stage.name()) {
                        Some(LastRun::Finished(line)) => ui.label(line),
                        Some(LastRun::Cancelled(line)) => ui.label(format!("cancelled: {line}")),
                        Some(LastRun::Failed(error)) => ui
                            .colored_label(ui.visuals().error_fg_color, format!("failed: {error}")),
                        None => ui.label(""),
                    };
                    ui.horizontal(|ui| {
                        if running {
                            if ui
                                .button("Cancel")
                                .on_hover_text(format!(
                                    "Stop {} after the current items; what is finished is kept",
                                    stage.name()
                                ))
                                .clicked()
                            {
                                state.send(Command::CancelJob);
                            }
                        } else {
                            let label = match status.state {
                                StageState::Interrupted { .. } => "Resume",
                                StageState::Done => "Run again",
                                _ => "Start",
                            };
                            let hover = blocked.map_or_else(
                                || format!("Run {} now", stage.name()),
                                |reason| format!("Cannot run yet: {reason}"),
                            );
                            if ui
                                .add_enabled(
                                    state.job.is_none() && blocked.is_none(),
                                    egui::Button::new(label),
                                )
                                .on_disabled_hover_text(&hover)
                                .on_hover_text(hover)
                                .clicked()
                            {
                                state.send(Command::StartJob {
                                    stage: Some(stage),
                                    options: self.options(),
                                });
                            }
                        }
                    });
                    ui.end_row();
                }
            });
    }

    /// Training losses (the run in progress, else `model/history.json`) and the WMF objective.
    fn curves(
        &self,
        ui: &mut egui::Ui,
        state: &AppState,
        history: &[crate::convnet::train::EpochRecord],
    ) {
        let live = &state.jobs.epochs;
        let epochs: Vec<(usize, Option<f64>, f64)> = if live.is_empty() {
            history
                .iter()
                .map(|r| (r.epoch, r.train_loss, r.valid_loss))
                .collect()
        } else {
            live.clone()
        };
        let wmf = &state.jobs.wmf_losses;
        if epochs.is_empty() && wmf.is_empty() {
            ui.weak("Loss curves appear here while training (and WMF) run.");
            return;
        }
        // Full width, one under the other: half a view left egui_plot too few pixels per
        // tick to label the epochs.
        if !epochs.is_empty() {
            ui.strong("Training loss");
            let train: Vec<[f64; 2]> = epochs
                .iter()
                .filter_map(|&(e, t, _)| t.map(|t| [e as f64, t]))
                .collect();
            let valid: Vec<[f64; 2]> = epochs.iter().map(|&(e, _, v)| [e as f64, v]).collect();
            Plot::new("losses")
                .height(220.0)
                .legend(Legend::default())
                .x_axis_label("epoch")
                .y_axis_label("loss")
                .allow_scroll(false)
                .show(ui, |plot| {
                    plot.line(Line::new("train", train));
                    plot.line(Line::new("validation", valid));
                });
        }
        if !wmf.is_empty() {
            ui.strong("WMF objective per iteration");
            let points: Vec<[f64; 2]> = wmf.iter().map(|&(i, l)| [i as f64, l]).collect();
            Plot::new("wmf")
                .height(180.0)
                .x_axis_label("iteration")
                .y_axis_label("loss")
                .allow_scroll(false)
                .show(ui, |plot| {
                    plot.line(Line::new("WMF loss", points));
                });
        }
    }
}

/// A stage state in words and its colour.
fn state_words(state: &StageState, visuals: &egui::Visuals) -> (String, egui::Color32) {
    match state {
        StageState::Done => ("done".into(), egui::Color32::from_rgb(90, 170, 90)),
        StageState::Missing => ("missing".into(), visuals.weak_text_color()),
        StageState::Stale(why) => (format!("stale: {why}"), visuals.warn_fg_color),
        StageState::Interrupted { epochs_done } => (
            format!("interrupted after epoch {epochs_done}"),
            visuals.warn_fg_color,
        ),
    }
}
