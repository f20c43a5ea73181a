//! The app's state: the open project, the one selection, the player, the running job and what
//! background work returned. Views read it and send [`Command`]s; the app applies them between
//! frames ([`AppState::apply_pending`]), so data flows one way.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::analysis::regions::MapRegion;
use crate::audio::player::{PlaybackState, Player};
use crate::convnet::InferDevice;
use crate::pipeline::{self, RunOptions, Stage};
use crate::project::audio_import::scan_folders;
use crate::project::usage_import::{import_usage, UsageImport};
use crate::project::{cf_stage, Project};
use crate::usage::LogFormat;

use super::background::{self, JobEnd, Message, RunningJob, Sender};
use super::colormap::Colormap;
use super::job_progress::JobProgress;
use super::map_store::{MapCommand, MapStore};
use super::project_data::ProjectData;
use super::results_data::{Analysis, Request};
use super::spectrogram_data::{self, Activations, MelImage, NetCache};
use super::ViewKind;

/// What a view asks the app to do.
#[derive(Debug, Clone)]
pub enum Command {
    OpenProject(PathBuf),
    NewProject(PathBuf),
    AddAudio(PathBuf),
    ImportUsage {
        file: PathBuf,
        format: LogFormat,
        add_missing: bool,
    },
    ImportFactors(PathBuf),
    /// Select a track (`None` clears the selection).
    Select(Option<usize>),
    /// Play track `row` from `from_secs` (`None`: its analysed middle excerpt).
    Play {
        row: usize,
        from_secs: Option<f64>,
    },
    TogglePlay,
    SeekTo(f64),
    SeekBy(f64),
    SetVolume(f32),
    /// Show the whole track's spectrogram (else the analysed excerpt).
    ShowWholeTrack(bool),
    SetColormap(Colormap),
    /// Run `stage` now (`None`: every stage that is not done).
    StartJob {
        stage: Option<Stage>,
        options: RunOptions,
    },
    CancelJob,
    ShowView(ViewKind),
    DismissReport,
    /// Ask the analysis results something (computed in the background).
    Analysis(Request),
    /// Show conv1 filter `k`'s activation under the spectrogram (where a playlist entry
    /// peaked).
    ShowFilter(usize),
    /// Make the set of tracks chosen together (a box on the map) the current one (`None`
    /// clears it).
    SelectSet(Option<TrackSet>),
    Map(MapCommand),
}

/// Tracks chosen together (a box or lasso on the map), for a playlist view to list.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackSet {
    pub name: String,
    /// Track rows, ascending.
    pub rows: Vec<usize>,
    /// The region drawn: the set's playlist query.
    pub region: MapRegion,
}

/// The spectrogram of the selected track, as far as it is known.
pub struct MelState {
    pub row: usize,
    pub whole: bool,
    /// `None` while it is being computed.
    pub image: Option<Result<MelImage, String>>,
    /// The image as a texture, made on the UI thread when it arrives or the colormap changes.
    pub texture: Option<egui::TextureHandle>,
}

/// A report to show until dismissed (an import's counts and malformed lines).
pub struct Report {
    pub title: String,
    pub lines: Vec<String>,
}

pub struct AppState {
    sender: Sender,
    receiver: Receiver<Message>,
    commands: Vec<Command>,
    pub project: Option<Arc<ProjectData>>,
    /// The folder being opened, until it is read.
    pub loading: Option<PathBuf>,
    pub selection: Option<usize>,
    /// The current set of tracks (a map box selection).
    pub selection_set: Option<TrackSet>,
    /// The t-SNE maps and their job.
    pub map: MapStore,
    /// The player, once the audio output was tried.
    pub player: Option<Player>,
    /// The output's state in words ("no audio output: …" is a normal state).
    pub audio_status: String,
    /// The track loaded in the player.
    pub now_playing: Option<usize>,
    /// The status line: the latest thing worth saying.
    pub status: String,
    pub report: Option<Report>,
    pub job: Option<RunningJob>,
    pub jobs: JobProgress,
    pub mel: Option<MelState>,
    pub activations: Option<(usize, Result<Activations, String>)>,
    pub whole_track: bool,
    pub colormap: Colormap,
    pub recent: Vec<PathBuf>,
    /// A view to bring to the front (from `--view`, a key or a command), taken by the layout.
    pub show_view: Option<ViewKind>,
    /// The analysis results and the answers the analysis views asked for.
    pub analysis: Analysis,
    /// A conv1 filter for the spectrogram view to show, taken by it.
    pub show_filter: Option<usize>,
    net_cache: NetCache,
    /// Where jobs run the network: eframe's own device when it is a hardware GPU.
    pub inference_device: InferDevice,
    /// A project opened with this flag set starts its missing stages (the demo world).
    run_pipeline_on_open: bool,
}

/// Recent projects remembered.
const MAX_RECENT: usize = 8;

impl AppState {
    /// A state with no project; `player` is the output to use, or `None` to open the default
    /// device in the background.
    pub fn new(ctx: &egui::Context, player: Option<Player>) -> Self {
        let (sender, receiver) = Sender::new(ctx.clone());
        let (player, audio_status) = match player {
            Some(player) => {
                let status = output_status(&player);
                (Some(player), status)
            }
            None => {
                // Probing ALSA can take a moment: the window does not wait for it.
                sender.spawn("audio", |_| {
                    Some(Message::Player(
                        Player::open_default().map_err(|e| e.to_string()),
                    ))
                });
                (None, "opening the audio output…".to_owned())
            }
        };
        Self {
            sender,
            receiver,
            commands: Vec::new(),
            project: None,
            loading: None,
            selection: None,
            selection_set: None,
            map: MapStore::default(),
            player,
            audio_status,
            now_playing: None,
            status: String::new(),
            report: None,
            job: None,
            jobs: JobProgress::default(),
            mel: None,
            activations: None,
            whole_track: false,
            colormap: Colormap::Magma,
            recent: Vec::new(),
            show_view: None,
            analysis: Analysis::default(),
            show_filter: None,
            net_cache: NetCache::default(),
            inference_device: InferDevice::Auto,
            run_pipeline_on_open: false,
        }
    }

    /// Asks for `command` to run before the next frame (which it asks for).
    pub fn send(&mut self, command: Command) {
        self.commands.push(command);
        self.sender.wake();
    }

    /// Opens `dir`; with `run_pipeline`, its missing stages start once it is read (the demo
    /// world on first launch), and a missing demo world is made first.
    pub fn open(&mut self, dir: PathBuf, run_pipeline: bool) {
        self.run_pipeline_on_open = run_pipeline;
        if run_pipeline && !dir.join(crate::project::layout::DATABASE).exists() {
            self.loading = Some(dir.clone());
            self.status = format!("making the demo world in {}…", dir.display());
            self.sender.spawn("demo", move |sender| {
                if let Err(error) = crate::project::shipped_model::create_default_demo_project(&dir)
                {
                    return Some(Message::Project(Err(error.to_string())));
                }
                background::load_project(sender, dir);
                None
            });
        } else {
            self.send(Command::OpenProject(dir));
        }
    }

    /// What a view without a project says: the folder being opened, or how to open one.
    pub fn no_project_text(&self) -> String {
        match &self.loading {
            Some(dir) => format!("Opening {}…", dir.display()),
            None => "No project open: Project > Open or New.".to_owned(),
        }
    }

    /// Whether background work is still expected to report (for tests and the frame loop).
    pub fn is_busy(&self) -> bool {
        self.loading.is_some()
            || self.job.is_some()
            || self.analysis.is_busy()
            || self.mel.as_ref().is_some_and(|m| m.image.is_none())
    }

    /// Takes in what background threads sent and applies the views' commands.
    pub fn apply_pending(&mut self, ctx: &egui::Context) {
        // A budget keeps a flood of progress events from holding up the frame.
        let deadline = Instant::now() + Duration::from_millis(4);
        loop {
            if Instant::now() >= deadline {
                // More may be waiting: the next frame takes it.
                ctx.request_repaint();
                break;
            }
            match self.receiver.try_recv() {
                Ok(message) => self.receive(ctx, message),
                Err(_) => break,
            }
        }
        for command in std::mem::take(&mut self.commands) {
            self.apply(command);
        }
        self.request_track_views();
        if let Some(player) = &self.player {
            for error in player.take_errors() {
                self.status = format!("playback: {error}");
            }
        }
    }

    fn receive(&mut self, ctx: &egui::Context, message: Message) {
        match message {
            Message::Player(result) => match result {
                Ok(player) => {
                    self.audio_status = output_status(&player);
                    self.player = Some(player);
                }
                Err(error) => {
                    self.audio_status = "no audio output".into();
                    // Said once; the app goes on without sound.
                    self.status = format!("{error}: playback is off, everything else works");
                    self.player = Some(Player::without_output());
                }
            },
            Message::Project(result) => self.project_loaded(result),
            Message::Report { title, lines } => {
                self.status = lines.first().cloned().unwrap_or_default();
                self.report = Some(Report { title, lines });
                self.reload();
            }
            Message::Playable {
                row,
                from_secs,
                source,
            } => self.start_playing(row, from_secs, source),
            Message::Mel { row, whole, image } => {
                if let Some(mel) = &mut self.mel {
                    if mel.row == row && mel.whole == whole {
                        mel.texture = image
                            .as_ref()
                            .ok()
                            .map(|image| super::colormap::texture(ctx, image, self.colormap));
                        mel.image = Some(image);
                    }
                }
            }
            Message::Activations { row, activations } => {
                if self.selection == Some(row) {
                    self.activations = Some((row, activations));
                }
            }
            Message::Analysis { generation, answer } => {
                if let Some(line) = self.analysis.receive(ctx, generation, answer) {
                    self.status = line;
                }
            }
            Message::Job(event) => {
                // The views fill in as each stage's results arrive, not at the end of a run.
                let finished = matches!(&event, pipeline::Event::Finished { outcome, .. } if !outcome.cancelled);
                self.jobs.apply(event);
                if finished {
                    self.reload();
                }
            }
            Message::Map(message) => {
                let (status, reload) = self.map.receive(message);
                if let Some(status) = status {
                    self.status = status;
                }
                if reload {
                    self.reload();
                }
            }
            Message::JobEnded(result) => {
                let cancelled = self
                    .job
                    .take()
                    .is_some_and(|job| job.cancel.load(Ordering::SeqCst));
                match result {
                    Ok(JobEnd::Stage(stage, outcome)) => {
                        self.status = format!("{}: {}", stage.name(), outcome.summary);
                    }
                    Ok(JobEnd::Pipeline(report)) => {
                        self.status = match report.end {
                            pipeline::RunEnd::Completed => "pipeline: every stage is done".into(),
                            pipeline::RunEnd::Cancelled { stage } => format!(
                                "pipeline: stopped during {}; start it again to continue",
                                stage.name()
                            ),
                            pipeline::RunEnd::Blocked(reason) => format!("pipeline: {reason}"),
                        };
                    }
                    Err(error) => {
                        self.status = format!("job failed: {error}");
                        self.jobs.failed(error);
                    }
                }
                if cancelled {
                    self.status
                        .push_str(" (cancelled; what was finished is kept)");
                }
                self.jobs.ended();
                self.reload();
            }
        }
    }

    fn project_loaded(&mut self, result: Result<Box<ProjectData>, String>) {
        let dir = self.loading.take();
        match result {
            Ok(data) => {
                let reopened = self.project.as_ref().is_some_and(|p| p.dir == data.dir);
                if !reopened {
                    self.status = format!("{}: {} tracks", data.dir.display(), data.tracks.len());
                    self.selection = (!data.tracks.is_empty()).then_some(0);
                    self.selection_set = None;
                    self.mel = None;
                    self.activations = None;
                    self.remember(data.dir.clone());
                }
                if let Some(warning) = data.warnings.first() {
                    self.status = warning.clone();
                }
                if let Err(error) = &data.stages {
                    self.status = format!("cannot read the pipeline's state: {error}");
                }
                // Artifacts may have changed: the views ask again.
                if reopened {
                    if self.mel.as_ref().is_some_and(|mel| !mel.whole) {
                        self.mel = None;
                    }
                    self.activations = None;
                }
                // Predictions and maps may have changed with the project.
                self.analysis.load(&self.sender, data.dir.clone());
                let data: Arc<ProjectData> = Arc::from(data);
                super::map_data::request_maps(&self.sender, &data);
                self.project = Some(data);
                if std::mem::take(&mut self.run_pipeline_on_open) {
                    let options = RunOptions {
                        first_pass: Some(pipeline::FIRST_PASS_TRACKS),
                        ..RunOptions::default()
                    };
                    self.start_job(None, options);
                }
            }
            Err(error) => {
                let name = dir.map_or(String::new(), |d| format!("{}: ", d.display()));
                self.status = format!("{name}{error}");
            }
        }
    }

    fn remember(&mut self, dir: PathBuf) {
        self.recent.retain(|d| *d != dir);
        self.recent.insert(0, dir);
        self.recent.truncate(MAX_RECENT);
    }

    /// Reads the open project again (after a job or an import changed it).
    fn reload(&mut self) {
        if let Some(project) = &self.project {
            background::load_project(&self.sender, project.dir.clone());
        }
    }

    fn apply(&mut self, command: Command) {
        match command {
            Command::OpenProject(dir) => {
                self.status = format!("opening {}…", dir.display());
                self.loading = Some(dir.clone());
                background::load_project(&self.sender, dir);
            }
            Command::NewProject(dir) => {
                self.loading = Some(dir.clone());
                self.sender.spawn("new", move |sender| match Project::create(&dir) {
                    Ok(_) => {
                        background::load_project(sender, dir);
                        None
                    }
                    Err(error) => Some(Message::Project(Err(error.to_string()))),
                });
            }
            Command::AddAudio(folder) => self.change_project("add audio", move |dir| {
                let mut project = Project::open(dir).map_err(|e| e.to_string())?;
                let report = scan_folders(
                    std::slice::from_ref(&folder),
                    &|_, _| {},
                    &AtomicBool::new(false),
                );
                let found = report.tracks.len();
                let added = project
                    .add_tracks(&report.tracks)
                    .map_err(|e| e.to_string())?;
                let mut lines = vec![format!(
                    "{added} tracks added from {}, {} already in the catalog, {} files skipped",
                    folder.display(),
                    found - added,
                    report.skipped.len()
                )];
                lines.extend(report.skipped.iter().map(|reason| format!("skipped: {reason}")));
                Ok(lines)
            }),
            Command::ImportUsage {
                file,
                format,
                add_missing,
            } => self.change_project("import listening log", move |dir| {
                let mut project = Project::open(dir).map_err(|e| e.to_string())?;
                let request = UsageImport {
                    file: &file,
                    format,
                    map: None,
                    add_missing,
                    user: None,
                };
                let report = import_usage(&mut project, &request, &mut |_| {}, &AtomicBool::new(false))
                    .map_err(|e| e.to_string())?;
                let stats = &report.stats;
                let mut lines = vec![
                    format!(
                        "{}: {} lines, {} listens ({} plays), {} malformed lines skipped",
                        file.display(),
                        stats.lines_read,
                        stats.listens,
                        stats.plays,
                        stats.malformed.count
                    ),
                    format!(
                        "matched {} listens; {} unmatched listens of {} tracks",
                        stats.matched.total(),
                        stats.unmatched_listens,
                        stats.unmatched_tracks
                    ),
                ];
                lines.extend(
                    stats
                        .malformed
                        .examples
                        .iter()
                        .map(|error| format!("malformed: {error}")),
                );
                Ok(lines)
            }),
            Command::ImportFactors(file) => self.change_project("import factors", move |dir| {
                let project = Project::open(dir).map_err(|e| e.to_string())?;
                let report =
                    cf_stage::import_item_factors(&project, &file).map_err(|e| e.to_string())?;
                let mut lines = vec![format!(
                    "{} factors for {} tracks written to cf/item_factors.npy; {} tracks had no row, {} ids matched no track",
                    report.factors,
                    report.tracks,
                    report.missing,
                    report.unmatched_ids.len()
                )];
                lines.extend(
                    report
                        .unmatched_ids
                        .iter()
                        .take(20)
                        .map(|id| format!("unmatched id: {id}")),
                );
                Ok(lines)
            }),
            Command::Select(row) => {
                if self.selection != row {
                    self.selection = row;
                    self.activations = None;
                }
            }
            Command::Play { row, from_secs } => self.play(row, from_secs),
            Command::TogglePlay => self.toggle_play(),
            Command::SeekTo(secs) => {
                if let Some(player) = &mut self.player {
                    player.seek_secs(secs);
                }
            }
            Command::SeekBy(delta) => {
                if let Some(player) = &mut self.player {
                    let target = (player.position_secs() + delta).max(0.0);
                    player.seek_secs(target);
                }
            }
            Command::SetVolume(gain) => {
                if let Some(player) = &mut self.player {
                    player.set_volume(gain);
                }
            }
            Command::ShowWholeTrack(whole) => self.whole_track = whole,
            Command::SetColormap(colormap) => {
                self.colormap = colormap;
                // The texture is remade from the same values.
                if let Some(mel) = &mut self.mel {
                    mel.texture = None;
                }
            }
            Command::StartJob { stage, options } => self.start_job(stage, options),
            Command::CancelJob => {
                if let Some(job) = &self.job {
                    job.cancel.store(true, Ordering::SeqCst);
                    self.status = "cancelling: finishing the current items and saving…".into();
                }
            }
            Command::ShowView(view) => self.show_view = Some(view),
            Command::DismissReport => self.report = None,
            Command::Analysis(request) => self.analysis.request(&self.sender, request),
            Command::ShowFilter(filter) => self.show_filter = Some(filter),
            Command::SelectSet(set) => self.selection_set = set,
            Command::Map(command) => {
                if let Some(status) = self.map.apply(command, &self.sender, self.project.as_ref()) {
                    self.status = status;
                }
            }
        }
    }

    /// Runs `change` (a library call that modifies the project) in the background and shows
    /// its report; the project is read again afterwards.
    fn change_project(
        &mut self,
        what: &'static str,
        change: impl FnOnce(&std::path::Path) -> Result<Vec<String>, String> + Send + 'static,
    ) {
        let Some(project) = &self.project else {
            self.status = format!("{what}: open or create a project first");
            return;
        };
        if self.job.is_some() {
            self.status = format!("{what}: wait for the running job to end (or cancel it)");
            return;
        }
        let dir = project.dir.clone();
        self.status = format!("{what}…");
        self.sender.spawn("change", move |_| {
            let lines =
                change(&dir).unwrap_or_else(|error| vec![format!("{what} failed: {error}")]);
            Some(Message::Report {
                title: what.to_owned(),
                lines,
            })
        });
    }

    fn start_job(&mut self, stage: Option<Stage>, options: RunOptions) {
        let Some(project) = &self.project else {
            self.status = "open a project first".into();
            return;
        };
        if self.job.is_some() {
            self.status = "a job is running: cancel it first".into();
            return;
        }
        let dir = project.dir.clone();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&cancel);
        let options = RunOptions {
            device: self.inference_device.clone(),
            ..options
        };
        self.job = Some(RunningJob { stage, cancel });
        self.jobs.notes.clear();
        self.status = match stage {
            Some(stage) => format!("{}: starting", stage.name()),
            None => "pipeline: running every stage that is not done".into(),
        };
        self.sender.spawn("job", move |sender| {
            let events = sender.clone();
            let mut progress = move |event: pipeline::Event| {
                // Item counts come fast and each replaces the last: drop them when the UI lags.
                if matches!(event, pipeline::Event::Items { .. }) {
                    events.offer(Message::Job(event));
                } else {
                    events.send(Message::Job(event));
                }
            };
            let result = match stage {
                Some(stage) => pipeline::run_stage(&dir, stage, &options, &mut progress, &flag)
                    .map(|outcome| JobEnd::Stage(stage, outcome)),
                None => pipeline::run(&dir, &options, &mut progress, &flag).map(JobEnd::Pipeline),
            };
            Some(Message::JobEnded(result.map_err(|e| e.to_string())))
        });
    }

    fn play(&mut self, row: usize, from_secs: Option<f64>) {
        let Some(project) = &self.project else { return };
        if !self.player.as_ref().is_some_and(Player::has_output) {
            self.status = format!("cannot play: {}", self.audio_status);
            return;
        }
        let from_secs = from_secs.unwrap_or_else(|| project.excerpt_start_secs(row));
        let audio = Arc::clone(&project.audio);
        // Opening a file probes it: not on the UI thread.
        self.sender.spawn("open-audio", move |_| {
            Some(Message::Playable {
                row,
                from_secs,
                source: audio.playable(row).map_err(|e| e.to_string()),
            })
        });
    }

    fn start_playing(
        &mut self,
        row: usize,
        from_secs: f64,
        source: Result<Box<dyn crate::audio::player::PcmSource>, String>,
    ) {
        let Some(player) = &mut self.player else {
            return;
        };
        let started = source.and_then(|source| {
            player.load(source).map_err(|e| e.to_string())?;
            player.seek_secs(from_secs);
            player.play().map_err(|e| e.to_string())
        });
        match started {
            Ok(()) => self.now_playing = Some(row),
            Err(error) => self.status = format!("cannot play track {row}: {error}"),
        }
    }

    fn toggle_play(&mut self) {
        let Some(player) = &mut self.player else {
            return;
        };
        match (player.state(), self.now_playing) {
            (PlaybackState::Playing, _) => player.pause(),
            (_, Some(row)) if Some(row) == self.selection || self.selection.is_none() => {
                if let Err(error) = player.play() {
                    self.status = format!("cannot play: {error}");
                }
            }
            _ => {
                if let Some(row) = self.selection {
                    self.play(row, None);
                }
            }
        }
    }

    /// Asks for the selected track's spectrogram and activations when they are not there.
    fn request_track_views(&mut self) {
        let (Some(project), Some(row)) = (&self.project, self.selection) else {
            return;
        };
        if row >= project.tracks.len() {
            return;
        }
        let whole = self.whole_track;
        let current = self
            .mel
            .as_ref()
            .is_some_and(|m| m.row == row && m.whole == whole);
        if !current {
            self.mel = Some(MelState {
                row,
                whole,
                image: None,
                texture: None,
            });
            let dir = project.dir.clone();
            let excerpt_start = project.excerpt_start_secs(row);
            let audio = Arc::clone(&project.audio);
            self.sender.spawn("mel", move |_| {
                let image = if whole {
                    spectrogram_data::whole_track(&audio, row)
                } else {
                    spectrogram_data::stored_excerpt(&dir, row, excerpt_start)
                };
                Some(Message::Mel { row, whole, image })
            });
        }
        if let (None, Some(weights), Some(_)) =
            (&self.activations, &project.network, project.conv1_filters)
        {
            let weights = weights.clone();
            self.activations = Some((row, Err("computing conv1 activations…".into())));
            let dir = project.dir.clone();
            let excerpt_start = project.excerpt_start_secs(row);
            let cache = self.net_cache.clone();
            self.sender.spawn("activations", move |_| {
                let activations = spectrogram_data::stored_excerpt(&dir, row, excerpt_start)
                    .and_then(|mel| {
                        spectrogram_data::activations(
                            &cache,
                            &weights,
                            mel.values.view(),
                            excerpt_start,
                        )
                    });
                Some(Message::Activations { row, activations })
            });
        }
    }

    /// Makes the spectrogram texture when it is missing (after a colormap change).
    pub fn ensure_texture(&mut self, ctx: &egui::Context) {
        let colormap = self.colormap;
        if let Some(mel) = &mut self.mel {
            if mel.texture.is_none() {
                if let Some(Ok(image)) = &mel.image {
                    mel.texture = Some(super::colormap::texture(ctx, image, colormap));
                }
            }
        }
    }
}

/// The output's name and format, as the transport bar shows it.
fn output_status(player: &Player) -> String {
    match player.output() {
        Some((name, format)) => format!(
            "output: {name} ({} kHz, {} ch)",
            format.sample_rate_hz as f64 / 1000.0,
            format.channels
        ),
        None => "no audio output".into(),
    }
}
