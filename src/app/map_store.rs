//! The map's part of the app state: the loaded maps (read again whenever the project is read
//! again), activation values fetched for colouring, and the t-SNE job. The map view reads it and
//! sends [`MapCommand`]s.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::analysis::tsne::stage::MapOf;
use crate::analysis::tsne::{TsneParams, TsneProgress};

use super::background::Sender;
use super::map_data::{self, ColourBy, LoadedMaps, MapMessage};
use super::project_data::ProjectData;

/// What the map view asks the app to do.
#[derive(Debug, Clone)]
pub enum MapCommand {
    /// Make `of`'s map with `params` (perplexity, iterations) in the background.
    Make {
        of: MapOf,
        params: TsneParams,
    },
    Cancel,
    /// Read an activation colouring's values.
    Values(ColourBy),
    /// Export `of`'s map with these `[tracks]` colours and legend labels.
    Export {
        of: MapOf,
        colours: Arc<[egui::Color32]>,
        labels: Arc<[String]>,
    },
}

/// The running t-SNE job.
pub struct MapJob {
    pub of: MapOf,
    pub cancel: Arc<AtomicBool>,
    pub progress: Option<TsneProgress>,
    pub started: Instant,
}

#[derive(Default)]
pub struct MapStore {
    /// The maps of the project last read (kept on screen while newer ones load).
    pub maps: Option<Arc<LoadedMaps>>,
    /// Activation values by colouring, for `maps`' project.
    pub values: HashMap<ColourBy, Result<Arc<[f32]>, String>>,
    pub job: Option<MapJob>,
}

impl MapStore {
    /// Whether the maps of the open project are still being read.
    pub fn is_loading(&self, project: &ProjectData) -> bool {
        self.maps
            .as_ref()
            .is_none_or(|maps| maps.dir != project.dir)
    }

    /// Applies `command`; returns what the status line should say.
    pub fn apply(
        &mut self,
        command: MapCommand,
        sender: &Sender,
        project: Option<&Arc<ProjectData>>,
    ) -> Option<String> {
        let Some(project) = project else {
            return Some("open a project first".into());
        };
        match command {
            MapCommand::Make { of, params } => {
                if self.job.is_some() {
                    return Some("a map is being made: cancel it first".into());
                }
                let cancel = Arc::new(AtomicBool::new(false));
                map_data::start_map_job(
                    sender,
                    project.dir.clone(),
                    of,
                    params,
                    Arc::clone(&cancel),
                );
                self.job = Some(MapJob {
                    of,
                    cancel,
                    progress: None,
                    started: Instant::now(),
                });
                Some("t-SNE map: starting".into())
            }
            MapCommand::Cancel => {
                let job = self.job.as_ref()?;
                job.cancel.store(true, Ordering::SeqCst);
                Some("t-SNE map: cancelling (the old map stays)".into())
            }
            MapCommand::Values(by) => {
                if let std::collections::hash_map::Entry::Vacant(entry) = self.values.entry(by) {
                    entry.insert(Err("reading…".into()));
                    map_data::request_values(sender, project.dir.clone(), by);
                }
                None
            }
            MapCommand::Export {
                of,
                colours,
                labels,
            } => {
                let map = self.maps.clone()?;
                let project = Arc::clone(project);
                sender.spawn("map-export", move |_| {
                    let exported = match map.get(of) {
                        Some(loaded) => map_data::export(&project, loaded, &colours, &labels, 2000),
                        None => Err("no map to export".into()),
                    };
                    Some(super::background::Message::Map(MapMessage::Exported(
                        exported,
                    )))
                });
                Some("exporting the map…".into())
            }
        }
    }

    /// Takes in a background result; returns what the status line should say and whether the
    /// project's maps must be read again.
    pub fn receive(&mut self, message: MapMessage) -> (Option<String>, bool) {
        match message {
            MapMessage::Loaded(maps) => {
                let changed = self.maps.as_ref().is_none_or(|old| old.dir != maps.dir);
                if changed {
                    self.values.clear();
                }
                let problem = maps.problems.first().cloned();
                self.maps = Some(Arc::from(maps));
                (problem.filter(|p| !p.starts_with("no activations")), false)
            }
            MapMessage::Values { by, values } => {
                let status = values.as_ref().err().cloned();
                self.values.insert(by, values.map(Arc::from));
                (status, false)
            }
            MapMessage::Progress(progress) => {
                if let Some(job) = &mut self.job {
                    job.progress = Some(progress);
                }
                (None, false)
            }
            MapMessage::Made(made) => {
                self.job = None;
                let status = match made {
                    Ok(map) if map.reused => format!(
                        "t-SNE map: {} is current for these parameters (kept)",
                        map.path.display()
                    ),
                    Ok(map) => format!(
                        "t-SNE map: {} written ({} of {} tracks mapped)",
                        map.path.display(),
                        map.tracks - map.unmapped.len(),
                        map.tracks
                    ),
                    Err(error) => format!("t-SNE map: {error}"),
                };
                (Some(status), true)
            }
            MapMessage::Exported(result) => (Some(result.unwrap_or_else(|e| e)), false),
        }
    }
}
