//! Work off the UI thread: each task runs a library call on its own thread and sends its result
//! through one bounded channel that wakes the UI; the app drains it between frames.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use crate::audio::player::{PcmSource, Player};
use crate::pipeline::{Event, RunReport, Stage, StageOutcome};

use super::map_data::MapMessage;
use super::project_data::ProjectData;
use super::results_data::Answer;
use super::spectrogram_data::{Activations, MelImage};

/// Results the background threads hand to the app.
pub enum Message {
    /// The audio output is open, or why there is none.
    Player(Result<Player, String>),
    /// A project was read (after opening, creating or changing it).
    Project(Result<Box<ProjectData>, String>),
    /// A project change (import, add audio) finished; the lines report it.
    Report { title: String, lines: Vec<String> },
    /// Track `row`'s audio is ready to play from `from_secs`.
    Playable {
        row: usize,
        from_secs: f64,
        source: Result<Box<dyn PcmSource>, String>,
    },
    /// A log-mel image of track `row` (`whole`: the whole track, else the excerpt).
    Mel {
        row: usize,
        whole: bool,
        image: Result<MelImage, String>,
    },
    /// conv1 activations of track `row`'s excerpt.
    Activations {
        row: usize,
        activations: Result<Activations, String>,
    },
    /// An answer of the analysis results to project read `generation`.
    Analysis { generation: u64, answer: Answer },
    /// An event of the running job.
    Job(Event),
    /// The running job ended.
    JobEnded(Result<JobEnd, String>),
    /// The map view's background work (maps read, values, the t-SNE job, an export).
    Map(MapMessage),
}

/// How a job ended.
pub enum JobEnd {
    Stage(Stage, StageOutcome),
    Pipeline(RunReport),
}

/// Capacity of the channel: a burst of progress events waits here; a full channel makes the
/// sender wait (backpressure), never the UI.
const CHANNEL_CAPACITY: usize = 1024;

/// How soon progress is drawn: at most one frame a second for it, because a frame drawn in
/// software costs about 0.1 s of CPU that a job on two cores needs more (drawn at every
/// feature row, the UI took a core and the first launch's features went at half speed).
const PROGRESS_REPAINT: std::time::Duration = std::time::Duration::from_secs(1);

/// The sending side, cloned into every task; each send asks the UI to repaint.
#[derive(Clone)]
pub struct Sender {
    channel: SyncSender<Message>,
    ctx: egui::Context,
}

impl Sender {
    /// A channel whose messages wake `ctx`.
    pub fn new(ctx: egui::Context) -> (Self, Receiver<Message>) {
        let (channel, receiver) = std::sync::mpsc::sync_channel(CHANNEL_CAPACITY);
        (Self { channel, ctx }, receiver)
    }

    /// Sends `message`, waiting while the channel is full; a closed app drops it.
    pub fn send(&self, message: Message) {
        // The UI may be gone (closed window): nothing is left to tell.
        let _ = self.channel.send(message);
        self.ctx.request_repaint();
    }

    /// Asks for another frame (a command waits to be applied).
    pub fn wake(&self) {
        self.ctx.request_repaint();
    }

    /// Sends `message` unless the channel is full (progress that the next one replaces); the
    /// UI shows it within [`PROGRESS_REPAINT`].
    pub fn offer(&self, message: Message) {
        match self.channel.try_send(message) {
            Ok(()) => self.ctx.request_repaint_after(PROGRESS_REPAINT),
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
        }
    }

    /// Runs `task` on a new named thread and sends what it returns.
    pub fn spawn(
        &self,
        name: &str,
        task: impl FnOnce(&Sender) -> Option<Message> + Send + 'static,
    ) {
        let sender = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("deepcuts-{name}"))
            .spawn(move || {
                if let Some(message) = task(&sender) {
                    sender.send(message);
                }
            });
        if let Err(error) = spawned {
            self.send(Message::Report {
                title: "Cannot start work".into(),
                lines: vec![format!("{name}: cannot start a thread: {error}")],
            });
        }
    }
}

/// A job in flight: which, and the flag that cancels it.
pub struct RunningJob {
    /// The stage it runs, `None` for the whole pipeline.
    pub stage: Option<Stage>,
    pub cancel: Arc<AtomicBool>,
}

/// Reads `dir` as a project on a background thread.
pub fn load_project(sender: &Sender, dir: PathBuf) {
    sender.spawn("load", move |_| {
        Some(Message::Project(
            ProjectData::load(&dir)
                .map(Box::new)
                .map_err(|e| e.to_string()),
        ))
    });
}
