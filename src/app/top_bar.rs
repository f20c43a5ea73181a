//! The top bar: the Project menu (open, new, recent, add audio, import a listening log or
//! factors — each the CLI's library call, run in the background), the View and Help menus,
//! and the running job in one line.

use std::path::PathBuf;

use crate::usage::LogFormat;

use super::job_progress::clock;
use super::picker::{PickKind, Picker, PickerResult};
use super::state::{AppState, Command};
use super::ViewKind;

/// What a picker is choosing for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Open,
    New,
    AddAudio,
    ImportUsage,
    ImportFactors,
}

/// The top bar's dialogs.
#[derive(Default)]
pub struct TopBar {
    picker: Option<(Purpose, Picker)>,
    usage_format: Option<LogFormat>,
    add_missing: bool,
    show_help: bool,
}

impl TopBar {
    pub fn ui(&mut self, ui: &mut egui::Ui, state: &mut AppState) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("Project", |ui| {
                let start = state
                    .project
                    .as_ref()
                    .map(|p| p.dir.clone())
                    .or_else(dirs::home_dir)
                    .unwrap_or_else(|| PathBuf::from("/"));
                if ui.button("Open…").clicked() {
                    self.pick(
                        Purpose::Open,
                        "Open a project folder",
                        PickKind::Folder,
                        &start,
                    );
                }
                if ui.button("New…").clicked() {
                    self.pick(
                        Purpose::New,
                        "New project: choose or name a folder",
                        PickKind::Folder,
                        &start,
                    );
                }
                ui.menu_button("Recent", |ui| {
                    if state.recent.is_empty() {
                        ui.weak("none yet");
                    }
                    for dir in state.recent.clone() {
                        if ui.button(dir.display().to_string()).clicked() {
                            state.send(Command::OpenProject(dir));
                        }
                    }
                });
                ui.separator();
                let open = state.project.is_some();
                if ui
                    .add_enabled(open, egui::Button::new("Add audio folder…"))
                    .clicked()
                {
                    self.pick(
                        Purpose::AddAudio,
                        "Add the audio files under a folder",
                        PickKind::Folder,
                        &start,
                    );
                }
                ui.add_enabled_ui(open, |ui| {
                    ui.menu_button("Import listening log", |ui| {
                        for format in LogFormat::ALL {
                            if ui.button(format.name()).clicked() {
                                self.usage_format = Some(format);
                                self.pick(
                                    Purpose::ImportUsage,
                                    &format!("Import a listening log ({})", format.name()),
                                    PickKind::File,
                                    &start,
                                );
                            }
                        }
                        ui.checkbox(
                            &mut self.add_missing,
                            "add unmatched tracks (without audio)",
                        );
                    });
                });
                if ui
                    .add_enabled(open, egui::Button::new("Import CF factors…"))
                    .clicked()
                {
                    self.pick(
                        Purpose::ImportFactors,
                        "Import item factors (.npy, CSV/TSV, Parquet)",
                        PickKind::File,
                        &start,
                    );
                }
            });
            ui.menu_button("View", |ui| {
                for (index, view) in ViewKind::ALL.into_iter().enumerate() {
                    if ui
                        .button(format!("{}  ({})", view.title(), index + 1))
                        .clicked()
                    {
                        state.send(Command::ShowView(view));
                    }
                }
            });
            if ui.button("Help").clicked() {
                self.show_help = !self.show_help;
            }
            ui.separator();
            if let Some(project) = &state.project {
                ui.label(egui::RichText::new(project.dir.display().to_string()).strong());
            }
            if let Some(step) = &state.jobs.step {
                ui.separator();
                let left = step
                    .time_left()
                    .map_or(String::new(), |d| format!(" · {} left", clock(d)));
                ui.label(format!(
                    "jobs: {} {} {}/{}{left}",
                    step.stage.name(),
                    step.step,
                    step.done,
                    step.total
                ));
                ui.add(
                    egui::ProgressBar::new(step.fraction())
                        .desired_width(100.0)
                        .corner_radius(2),
                );
            } else if state.job.is_some() {
                ui.separator();
                ui.spinner();
            }
        });
        self.dialogs(ui.ctx(), state);
    }

    fn pick(&mut self, purpose: Purpose, title: &str, kind: PickKind, start: &std::path::Path) {
        self.picker = Some((purpose, Picker::new(title, kind, start)));
    }

    fn dialogs(&mut self, ctx: &egui::Context, state: &mut AppState) {
        if let Some((purpose, picker)) = &mut self.picker {
            match picker.ui(ctx) {
                PickerResult::Open => {}
                PickerResult::Cancelled => self.picker = None,
                PickerResult::Picked(path) => {
                    let command = match purpose {
                        Purpose::Open => Some(Command::OpenProject(path)),
                        Purpose::New => Some(Command::NewProject(path)),
                        Purpose::AddAudio => Some(Command::AddAudio(path)),
                        Purpose::ImportUsage => {
                            self.usage_format.map(|format| Command::ImportUsage {
                                file: path,
                                format,
                                add_missing: self.add_missing,
                            })
                        }
                        Purpose::ImportFactors => Some(Command::ImportFactors(path)),
                    };
                    if let Some(command) = command {
                        state.send(command);
                    }
                    self.picker = None;
                }
            }
        }
        if let Some(report) = &state.report {
            let mut open = true;
            egui::Window::new(report.title.as_str())
                .open(&mut open)
                .default_width(520.0)
                .show(ctx, |ui| {
                    egui::ScrollArea::vertical()
                        .max_height(320.0)
                        .show(ui, |ui| {
                            for line in &report.lines {
                                ui.label(line);
                            }
                        });
                });
            if !open {
                state.send(Command::DismissReport);
            }
        }
        if self.show_help {
            egui::Window::new("Keyboard")
                .open(&mut self.show_help)
                .show(ctx, |ui| {
                    egui::Grid::new("keys").show(ui, |ui| {
                        for (key, what) in [
                            ("Space", "play / pause"),
                            ("Left / Right", "seek 5 s"),
                            ("Up / Down", "move the selection in the library"),
                            ("Enter", "play the selection's excerpt"),
                            ("/", "search the library"),
                            ("1 – 7", "switch views (as in the View menu)"),
                            ("Esc", "clear the selection"),
                        ] {
                            ui.monospace(key);
                            ui.label(what);
                            ui.end_row();
                        }
                    });
                });
        }
    }
}
