//! The project's analysis results as the analysis views see them: read once per project read
//! on a background thread by the same library calls the CLI makes (`ProjectResults`,
//! `Activations`, naming help, neighbour indexes, the outlier filter's data), and the answers
//! to the views' questions (a playlist, a track's neighbours, a query's judged
//! recommendations, a rename, an export), each computed on its own background thread and
//! kept until the project is read again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use crate::analysis::describe::{
    describe, order_by_selectivity, Background, Description, Selectivity,
};
use crate::analysis::filters::{render, RgbImage};
use crate::analysis::names::{Named, Names};
use crate::analysis::neighbours::{NeighbourIndexes, NeighbourLists};
use crate::analysis::outliers::{Judgement, OutlierData, OutlierQuery, DEFAULT_FLAG_SPREAD};
use crate::analysis::playlist_files::{write_playlists, PLAYLISTS_DIR};
use crate::analysis::playlists::{all_playlists, playlist, Activations, Playlist, PlaylistQuery};
use crate::analysis::results::{AnalysisError, Candidates, ProjectResults};
use crate::pipeline::Stage;

use super::background::{Message, Sender};

/// Tracks per playlist, the CLI's default (`-k 10`), so the app and `deepcuts describe` show
/// the same shares and selectivities.
pub const PLAYLIST_TRACKS: usize = 10;
/// Neighbours per list, the query included (`deepcuts neighbours` default).
pub const NEIGHBOURS: usize = 10;
/// CF recommendations judged per query (`deepcuts outliers` default).
pub const RECOMMENDATIONS: usize = 20;

/// Everything the analysis views read, loaded together.
pub struct ResultsData {
    pub results: ProjectResults,
    pub activations: Activations,
    /// Label frequencies of every predicted track (what naming help compares against).
    pub background: Background,
    /// conv1 as the seed draws it at one pixel per weight (`deepcuts filters --scale 1`), or
    /// why the weights cannot be drawn.
    pub filter_picture: Result<RgbImage, String>,
    /// Naming help of every filter's max playlist and every unit's playlist, by index.
    pub filters: Vec<Description>,
    pub units: Vec<Description>,
    /// What `deepcuts report` counts over them (low-level filters, style-selective units).
    pub filter_counts: Selectivity,
    pub unit_counts: Selectivity,
    /// Filter and unit indexes, most selective first.
    pub filters_by_selectivity: Vec<usize>,
    pub units_by_selectivity: Vec<usize>,
    pub neighbours: NeighbourIndexes,
    /// The outlier filter's data, or why there is none (no `cf` yet).
    pub outliers: Result<OutlierData, Unavailable>,
    /// The users the outlier filter can judge, by name.
    pub users: Vec<String>,
}

/// Why results are not there, and the stage that makes them.
#[derive(Debug, Clone)]
pub struct Unavailable {
    pub message: String,
    pub stage: Option<Stage>,
}

impl From<AnalysisError> for Unavailable {
    fn from(error: AnalysisError) -> Self {
        let stage = match &error {
            AnalysisError::Missing { stage, .. } | AnalysisError::Stale { stage, .. } => {
                Stage::ALL.into_iter().find(|s| s.name() == *stage)
            }
            _ => None,
        };
        Self {
            message: error.to_string(),
            stage,
        }
    }
}

impl ResultsData {
    /// Reads `dir`'s results and prepares every list the views show at once.
    pub fn load(dir: &Path) -> Result<(Self, Names), Unavailable> {
        let results = ProjectResults::open_dir(dir)?;
        let activations = Activations::load(&results)?;
        let names = Names::load(dir)?;
        let candidates = results.candidates(Candidates::All)?;
        let background = Background::new(&results, &candidates);
        let filter_picture = results
            .conv1_weights(None)
            .map(|weights| {
                let order: Vec<usize> = (0..weights.filters).collect();
                render(&weights, &order, 1)
            })
            .map_err(|e| e.to_string());
        let never = AtomicBool::new(false);
        let lists = all_playlists(
            &results,
            &activations,
            Candidates::All,
            PLAYLIST_TRACKS,
            &never,
        )?;
        let describe_kind = |kind: &str| -> Vec<Description> {
            lists
                .iter()
                .filter(|list| list.query.kind() == kind)
                .map(|list| describe(&results, list, &background, &names))
                .collect()
        };
        let filters = describe_kind("filter-max");
        let units = describe_kind("unit");
        // The ranking `deepcuts filters --order selectivity` draws, from the same playlists.
        let filters_by_selectivity = order_by_selectivity(&filters);
        let units_by_selectivity = order_by_selectivity(&units);
        let neighbours = NeighbourIndexes::load(&results)?;
        let outliers = OutlierData::load(&results).map_err(Unavailable::from);
        let users = outliers.as_ref().map_or_else(
            |_| Vec::new(),
            |data| data.users().into_iter().map(str::to_owned).collect(),
        );
        Ok((
            Self {
                results,
                activations,
                background,
                filter_picture,
                filter_counts: Selectivity::count(&filters),
                unit_counts: Selectivity::count(&units),
                filters,
                units,
                filters_by_selectivity,
                units_by_selectivity,
                neighbours,
                outliers,
                users,
            },
            names,
        ))
    }

    /// Track `id` as "Artist – Title".
    pub fn track_name(&self, id: u32) -> String {
        self.results
            .tracks
            .get(id as usize)
            .map_or_else(|| format!("track {id}"), track_name)
    }
}

/// A track as "Artist – Title" (the title alone without an artist).
pub fn track_name(track: &crate::project::Track) -> String {
    if track.artist.is_empty() {
        track.title.clone()
    } else {
        format!("{} – {}", track.artist, track.title)
    }
}

/// A playlist and its naming help.
pub struct PlaylistAnswer {
    pub playlist: Playlist,
    pub description: Description,
}

/// What a view asks the analysis to compute or change.
#[derive(Debug, Clone)]
pub enum Request {
    Playlist(PlaylistQuery),
    Neighbours(u32),
    Outliers(OutlierQuery),
    /// Save `name` for a filter or unit (an empty name removes it).
    Rename {
        what: Named,
        name: String,
    },
    /// Write the playlist as `playlists/NAME.json` and `.m3u8`, as `deepcuts playlist` does.
    Export(PlaylistQuery),
    /// Make `query` the playlist the Playlists view shows (and compute it).
    Show(PlaylistQuery),
}

/// What a background thread answers.
pub enum Answer {
    Loaded(Box<Result<(ResultsData, Names), Unavailable>>),
    Playlist(PlaylistQuery, Result<PlaylistAnswer, String>),
    Neighbours(u32, Result<NeighbourLists, String>),
    Outliers(OutlierQuery, Result<Judgement, String>),
    Renamed(Result<Names, String>),
    /// The status line after an export.
    Exported(String),
}

/// An answer being computed (`None`) or computed.
pub type Pending<T> = Option<Result<Arc<T>, String>>;

/// The analysis store: the loaded results, the names, and every answer asked for so far.
#[derive(Default)]
pub struct Analysis {
    /// Counts project reads: answers to an older read are dropped.
    generation: u64,
    dir: Option<PathBuf>,
    /// `None` until the first read ends.
    pub data: Option<Result<Arc<ResultsData>, Unavailable>>,
    /// A read is under way (the old data stays until it ends).
    pub loading: bool,
    pub names: Names,
    /// [`ResultsData::filter_picture`] as a texture (nearest-neighbour, so zooming keeps the
    /// pixels square).
    pub filter_texture: Option<egui::TextureHandle>,
    pub playlists: HashMap<PlaylistQuery, Pending<PlaylistAnswer>>,
    pub neighbours: HashMap<u32, Pending<NeighbourLists>>,
    pub outliers: HashMap<OutlierQuery, Pending<Judgement>>,
    /// The playlist the Playlists view shows (`None`: the most selective filter's).
    pub shown_playlist: Option<PlaylistQuery>,
}

impl Analysis {
    /// Reads the results of the project in `dir` in the background.
    pub fn load(&mut self, sender: &Sender, dir: PathBuf) {
        self.generation += 1;
        self.loading = true;
        self.dir = Some(dir.clone());
        let generation = self.generation;
        sender.spawn("results", move |_| {
            Some(Message::Analysis {
                generation,
                answer: Answer::Loaded(Box::new(ResultsData::load(&dir))),
            })
        });
    }

    /// The loaded results, if any.
    pub fn ready(&self) -> Option<&Arc<ResultsData>> {
        self.data.as_ref().and_then(|d| d.as_ref().ok())
    }

    /// Whether an answer is still expected.
    pub fn is_busy(&self) -> bool {
        self.loading
            || self.playlists.values().any(Option::is_none)
            || self.neighbours.values().any(Option::is_none)
            || self.outliers.values().any(Option::is_none)
    }

    /// Computes what `request` asks in the background, unless it is known or under way.
    pub fn request(&mut self, sender: &Sender, request: Request) {
        let Some(data) = self.ready().cloned() else {
            return;
        };
        let generation = self.generation;
        let send = move |answer: Answer| Some(Message::Analysis { generation, answer });
        match request {
            Request::Show(query) => {
                self.shown_playlist = Some(query.clone());
                self.request(sender, Request::Playlist(query));
            }
            Request::Playlist(query) => {
                if self.playlists.contains_key(&query) {
                    return;
                }
                self.playlists.insert(query.clone(), None);
                let names = self.names.clone();
                sender.spawn("playlist", move |_| {
                    let answer = playlist(
                        &data.results,
                        &data.activations,
                        query.clone(),
                        Candidates::All,
                        match query {
                            // A selection on the map lists every track inside.
                            PlaylistQuery::Region(_) => usize::MAX,
                            _ => PLAYLIST_TRACKS,
                        },
                    )
                    .map(|playlist| PlaylistAnswer {
                        description: describe(&data.results, &playlist, &data.background, &names),
                        playlist,
                    })
                    .map_err(|e| e.to_string());
                    send(Answer::Playlist(query, answer))
                });
            }
            Request::Neighbours(track) => {
                if self.neighbours.contains_key(&track) {
                    return;
                }
                self.neighbours.insert(track, None);
                sender.spawn("neighbours", move |_| {
                    let lists = data
                        .neighbours
                        .lists(&data.results, track, NEIGHBOURS)
                        .map_err(|e| e.to_string());
                    send(Answer::Neighbours(track, lists))
                });
            }
            Request::Outliers(query) => {
                if self.outliers.contains_key(&query) {
                    return;
                }
                self.outliers.insert(query.clone(), None);
                sender.spawn("outliers", move |_| {
                    let judgement = match &data.outliers {
                        Ok(outliers) => outliers
                            .judge(&data.results, &query, RECOMMENDATIONS, DEFAULT_FLAG_SPREAD)
                            .map_err(|e| e.to_string()),
                        Err(why) => Err(why.message.clone()),
                    };
                    send(Answer::Outliers(query, judgement))
                });
            }
            Request::Rename { what, name } => {
                let Some(dir) = self.dir.clone() else { return };
                sender.spawn("rename", move |_| {
                    // Read the file again: another process (or the CLI) may have named others.
                    let saved = Names::load(&dir).and_then(|mut names| {
                        names.set(what, &name);
                        names.save(&dir).map(|()| names)
                    });
                    send(Answer::Renamed(saved.map_err(|e| e.to_string())))
                });
            }
            Request::Export(query) => {
                let Some(Some(Ok(answer))) = self.playlists.get(&query).cloned() else {
                    return;
                };
                sender.spawn("export", move |_| {
                    let folder = data.results.root().join(PLAYLISTS_DIR);
                    let named = [(query.file_stem(), answer.playlist.clone())];
                    let line = match write_playlists(
                        &data.results,
                        &folder,
                        &named,
                        true,
                        &AtomicBool::new(false),
                    ) {
                        Ok(report) => format!(
                            "wrote {}",
                            report
                                .files
                                .iter()
                                .map(|f| f.display().to_string())
                                .collect::<Vec<_>>()
                                .join(" and ")
                        ),
                        Err(error) => format!("export failed: {error}"),
                    };
                    send(Answer::Exported(line))
                });
            }
        }
    }

    /// Takes in an answer; returns a line for the status bar when there is one to say.
    pub fn receive(
        &mut self,
        ctx: &egui::Context,
        generation: u64,
        answer: Answer,
    ) -> Option<String> {
        if generation != self.generation {
            return None;
        }
        match answer {
            Answer::Loaded(loaded) => {
                self.loading = false;
                self.playlists.clear();
                self.neighbours.clear();
                self.outliers.clear();
                self.filter_texture = None;
                match *loaded {
                    Ok((data, names)) => {
                        self.names = names;
                        if let Ok(picture) = &data.filter_picture {
                            self.filter_texture = Some(ctx.load_texture(
                                "conv1-filters",
                                egui::ColorImage::from_rgb(
                                    [picture.width, picture.height],
                                    &picture.pixels,
                                ),
                                egui::TextureOptions::NEAREST,
                            ));
                        }
                        self.data = Some(Ok(Arc::new(data)));
                    }
                    Err(why) => self.data = Some(Err(why)),
                }
                None
            }
            Answer::Playlist(query, answer) => {
                self.playlists.insert(query, Some(answer.map(Arc::new)));
                None
            }
            Answer::Neighbours(track, lists) => {
                self.neighbours.insert(track, Some(lists.map(Arc::new)));
                None
            }
            Answer::Outliers(query, judgement) => {
                self.outliers.insert(query, Some(judgement.map(Arc::new)));
                None
            }
            Answer::Renamed(saved) => match saved {
                Ok(names) => {
                    self.names = names;
                    Some("name saved in analysis/names.tsv".into())
                }
                Err(error) => Some(format!("cannot save the name: {error}")),
            },
            Answer::Exported(line) => Some(line),
        }
    }
}

/// An answer of the store, when it is computed. Otherwise the view shows what there is
/// instead: nothing yet (and `ask` is sent, when it was never asked), a spinner while it is
/// computed, or its error.
pub fn answer_or_wait<T>(
    ui: &mut egui::Ui,
    state: &mut super::AppState,
    pending: Option<Pending<T>>,
    ask: Request,
) -> Option<Arc<T>> {
    match pending {
        None => {
            state.send(super::Command::Analysis(ask));
            None
        }
        Some(None) => {
            ui.spinner();
            None
        }
        Some(Some(Err(error))) => {
            ui.colored_label(ui.visuals().error_fg_color, error);
            None
        }
        Some(Some(Ok(answer))) => Some(answer),
    }
}

/// What an analysis view shows when there are no results: why, and the job that makes them.
/// Returns the results when they are there.
pub fn results_or_why(ui: &mut egui::Ui, state: &mut super::AppState) -> Option<Arc<ResultsData>> {
    if state.project.is_none() {
        ui.label("Open a project to see what its network learned.");
        return None;
    }
    match &state.analysis.data {
        Some(Ok(data)) => Some(Arc::clone(data)),
        None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading the predictions…");
            });
            None
        }
        Some(Err(why)) => {
            let why = why.clone();
            unavailable_ui(ui, state, &why);
            None
        }
    }
}

/// Says why something is not there and offers the job that makes it.
pub fn unavailable_ui(ui: &mut egui::Ui, state: &mut super::AppState, why: &Unavailable) {
    let heading = match why.stage {
        Some(Stage::Predict) => "No predictions yet — run predict".to_owned(),
        Some(stage) => format!("Not there yet — run {}", stage.name()),
        None => "The results cannot be read".to_owned(),
    };
    ui.heading(heading);
    ui.label(&why.message);
    if let Some(stage) = why.stage {
        let idle = state.job.is_none();
        ui.horizontal(|ui| {
            let run_stage = ui
                .add_enabled(idle, egui::Button::new(format!("Run {}", stage.name())))
                .on_hover_text(format!(
                    "Start the {} stage now (the Jobs view shows its progress)",
                    stage.name()
                ));
            let run_all = ui
                .add_enabled(idle, egui::Button::new("Run every missing stage"))
                .on_hover_text("Run the pipeline: every stage that is missing or stale");
            let stage = if run_stage.clicked() {
                Some(Some(stage))
            } else {
                run_all.clicked().then_some(None)
            };
            if let Some(stage) = stage {
                state.send(super::Command::StartJob {
                    stage,
                    options: crate::pipeline::RunOptions::default(),
                });
            }
        });
    }
}
