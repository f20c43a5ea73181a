//! A folder and file picker in plain egui over `std::fs::read_dir`: it works on any machine,
//! without GTK or a desktop portal (which `rfd` needs), and pairs with egui 0.37 (which the
//! file-dialog crates do not yet).

use std::path::{Path, PathBuf};

/// What the picker chooses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PickKind {
    /// An existing folder (or a new one, typed as a name).
    Folder,
    File,
}

/// An open picker.
pub struct Picker {
    pub title: String,
    kind: PickKind,
    dir: PathBuf,
    /// Folders then files of `dir`, or why it cannot be read.
    entries: Result<Vec<(String, bool)>, String>,
    /// A name typed for a new folder or chosen file.
    name: String,
}

/// What happened to the picker this frame.
pub enum PickerResult {
    Open,
    Cancelled,
    Picked(PathBuf),
}

impl Picker {
    pub fn new(title: impl Into<String>, kind: PickKind, start: &Path) -> Self {
        let mut picker = Self {
            title: title.into(),
            kind,
            dir: PathBuf::new(),
            entries: Ok(Vec::new()),
            name: String::new(),
        };
        picker.enter(start.to_owned());
        picker
    }

    fn enter(&mut self, dir: PathBuf) {
        self.entries = read_entries(&dir);
        self.dir = dir;
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> PickerResult {
        let mut result = PickerResult::Open;
        let mut open = true;
        egui::Window::new(self.title.as_str())
            .open(&mut open)
            .collapsible(false)
            .default_size([520.0, 420.0])
            .show(ctx, |ui| {
                ui.horizontal(|ui| {
                    if ui.button("Up").on_hover_text("Parent folder").clicked() {
                        if let Some(parent) = self.dir.parent().map(Path::to_owned) {
                            self.enter(parent);
                        }
                    }
                    if ui.button("Home").on_hover_text("Home folder").clicked() {
                        if let Some(home) = dirs::home_dir() {
                            self.enter(home);
                        }
                    }
                    ui.monospace(self.dir.display().to_string());
                });
                ui.separator();
                let mut enter = None;
                egui::ScrollArea::vertical()
                    .max_height(300.0)
                    .show(ui, |ui| match &self.entries {
                        Err(error) => {
                            ui.colored_label(ui.visuals().error_fg_color, error);
                        }
                        Ok(entries) => {
                            for (name, is_dir) in entries {
                                let label = if *is_dir {
                                    format!("{name}/")
                                } else {
                                    name.clone()
                                };
                                let selected = self.name == *name;
                                let response = ui.selectable_label(selected, label);
                                if response.double_clicked() && *is_dir {
                                    enter = Some(self.dir.join(name));
                                } else if response.clicked() {
                                    self.name = name.clone();
                                }
                            }
                        }
                    });
                if let Some(dir) = enter {
                    self.name.clear();
                    self.enter(dir);
                }
                ui.separator();
                ui.horizontal(|ui| {
                    ui.label(match self.kind {
                        PickKind::Folder => "folder",
                        PickKind::File => "file",
                    });
                    ui.text_edit_singleline(&mut self.name);
                    let choose = match self.kind {
                        PickKind::Folder => "Choose",
                        PickKind::File => "Open",
                    };
                    if ui.button(choose).clicked() {
                        let picked = if self.name.is_empty() {
                            self.dir.clone()
                        } else {
                            self.dir.join(&self.name)
                        };
                        let fits = match self.kind {
                            PickKind::Folder => !picked.is_file(),
                            PickKind::File => picked.is_file(),
                        };
                        if fits {
                            result = PickerResult::Picked(picked);
                        }
                    }
                    if ui.button("Cancel").clicked() {
                        result = PickerResult::Cancelled;
                    }
                });
            });
        if !open {
            result = PickerResult::Cancelled;
        }
        result
    }
}

/// The folder's entries, folders first, hidden ones left out, each group sorted by name.
fn read_entries(dir: &Path) -> Result<Vec<(String, bool)>, String> {
    let reader = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut entries: Vec<(String, bool)> = reader
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let is_dir = entry.file_type().ok()?.is_dir() || entry.path().is_dir();
            (!name.starts_with('.')).then_some((name, is_dir))
        })
        .collect();
    entries.sort_by(|a, b| {
        b.1.cmp(&a.1)
            .then_with(|| a.0.to_lowercase().cmp(&b.0.to_lowercase()))
    });
    Ok(entries)
}
