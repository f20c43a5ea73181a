//! The producer end of the player: a thread that reads the source ahead, converts it to the
//! output's format and pushes it into the ring. It sleeps (parked) whenever it cannot make
//! progress: ring full, source finished, waiting for the renderer, or no track.

use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, TryRecvError};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use ringbuf::traits::{Observer, Producer};
use ringbuf::HeapProd;

use super::convert::Converter;
use super::shared::Shared;
use super::source::PcmSource;
use super::{PlaybackState, PlayerError};

pub(super) enum Command {
    /// Play `source` from its start, as epoch `epoch`.
    Load {
        source: Box<dyn PcmSource>,
        converter: Box<Converter>,
        epoch: u64,
    },
    /// Continue the current source from `secs`, as epoch `epoch`.
    Seek {
        secs: f64,
        epoch: u64,
    },
    Shutdown,
}

/// What one step of work achieved.
enum Step {
    Progress,
    /// Nothing to do until something changes: park.
    Idle,
}

struct Track {
    source: Box<dyn PcmSource>,
    converter: Converter,
    /// The source has no more audio (or failed); the converter's tail is staged.
    source_done: bool,
    /// All audio is in the ring and `finished_epoch` says so.
    finished: bool,
}

pub(super) struct Decoder {
    commands: Receiver<Command>,
    ring: HeapProd<f32>,
    shared: Arc<Shared>,
    out_channels: usize,
    /// The longest the thread sleeps while playing without being woken: a safety net only,
    /// since every event that gives it work also unparks it.
    playing_park: Duration,
    track: Option<Track>,
    epoch: u64,
    /// Converted audio waiting for room in the ring, `[frames × out_channels]`, from `staged`.
    staging: Vec<f32>,
    staged: usize,
    /// Scratch for one source block, `[frames × source channels]`.
    block: Vec<f32>,
}

impl Decoder {
    pub(super) fn new(
        commands: Receiver<Command>,
        ring: HeapProd<f32>,
        shared: Arc<Shared>,
        out_channels: usize,
        playing_park: Duration,
    ) -> Self {
        Self {
            commands,
            ring,
            shared,
            out_channels,
            playing_park,
            track: None,
            epoch: 0,
            staging: Vec::new(),
            staged: 0,
            block: Vec::new(),
        }
    }

    pub(super) fn run(mut self) {
        loop {
            loop {
                match self.commands.try_recv() {
                    Ok(command) => {
                        if !self.apply(command) {
                            return;
                        }
                    }
                    Err(TryRecvError::Disconnected) => return,
                    Err(TryRecvError::Empty) => break,
                }
            }
            if let Step::Idle = self.step() {
                if self.shared.state() == PlaybackState::Playing {
                    thread::park_timeout(self.playing_park);
                } else {
                    thread::park();
                }
            }
        }
    }

    /// Carries out `command`; false when it is time to stop.
    fn apply(&mut self, command: Command) -> bool {
        match command {
            Command::Load {
                source,
                converter,
                epoch,
            } => {
                self.track = Some(Track {
                    source,
                    converter: *converter,
                    source_done: false,
                    finished: false,
                });
                self.start_epoch(epoch);
            }
            Command::Seek { secs, epoch } => {
                if let Some(track) = &mut self.track {
                    track.converter.reset();
                    track.source_done = false;
                    track.finished = false;
                    if let Err(error) = track.source.seek_secs(secs) {
                        self.shared.report(PlayerError::Source(error));
                        track.source_done = true;
                    }
                }
                self.start_epoch(epoch);
            }
            Command::Shutdown => return false,
        }
        true
    }

    fn start_epoch(&mut self, epoch: u64) {
        self.staging.clear();
        self.staged = 0;
        self.epoch = epoch;
        self.shared.decoder_epoch.store(epoch, Ordering::Release);
    }

    fn step(&mut self) -> Step {
        let Some(track) = &mut self.track else {
            return Step::Idle;
        };
        if self.shared.acked_epoch.load(Ordering::Acquire) != self.epoch {
            return Step::Idle;
        }
        if self.staged < self.staging.len() {
            // Whole frames only, so the renderer never sees half a frame.
            let room = self.ring.vacant_len() / self.out_channels * self.out_channels;
            let end = (self.staged + room).min(self.staging.len());
            self.staged += self.ring.push_slice(&self.staging[self.staged..end]);
            if self.staged < self.staging.len() {
                return Step::Idle;
            }
            self.staging.clear();
            self.staged = 0;
            return Step::Progress;
        }
        if track.source_done {
            if !track.finished {
                track.finished = true;
                self.shared
                    .finished_epoch
                    .store(self.epoch, Ordering::Release);
            }
            return Step::Idle;
        }
        self.block.clear();
        match track.source.read_block(&mut self.block) {
            Ok(true) => track.converter.process(&self.block, &mut self.staging),
            Ok(false) => {
                track.converter.finish(&mut self.staging);
                track.source_done = true;
            }
            Err(error) => {
                self.shared.report(PlayerError::Source(error));
                track.converter.finish(&mut self.staging);
                track.source_done = true;
            }
        }
        Step::Progress
    }
}
