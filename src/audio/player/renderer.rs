//! The consumer end of the player: fills an output's buffers from the ring, on the output's
//! own (real-time) thread. It never blocks, allocates or locks.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::Thread;

use ringbuf::traits::{Consumer, Observer};
use ringbuf::HeapCons;

use super::shared::Shared;
use super::{PlaybackState, PlayerError};

/// Pulls decoded audio out of the player for one output. Outputs get it from
/// [`super::Output::attach`] and call [`Renderer::render`] for every buffer they play.
pub struct Renderer {
    ring: HeapCons<f32>,
    shared: Arc<Shared>,
    channels: usize,
    /// The epoch whose audio is in the ring (see `shared`'s module notes).
    epoch: u64,
    decoder: Thread,
}

/// Hands errors that an output meets on its own threads (a device that fails mid-stream) to
/// the player, which gives them to its owner through [`super::Player::take_errors`].
#[derive(Clone)]
pub struct ErrorReporter {
    shared: Arc<Shared>,
}

impl ErrorReporter {
    pub fn report(&self, error: PlayerError) {
        self.shared.report(error);
    }
}

impl Renderer {
    pub(super) fn new(
        ring: HeapCons<f32>,
        shared: Arc<Shared>,
        channels: usize,
        decoder: Thread,
    ) -> Self {
        Self {
            ring,
            shared,
            channels,
            epoch: 0,
            decoder,
        }
    }

    pub fn error_reporter(&self) -> ErrorReporter {
        ErrorReporter {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Fills `out` (`[frames × channels]`, interleaved, in the output's format) with the next
    /// audio at the current volume, and silence where there is none (paused, stopped, a seek
    /// in progress, the decoder behind). Returns the frames of audio written: they come first,
    /// and only they advance the position.
    pub fn render(&mut self, out: &mut [f32]) -> usize {
        let (requested, state) = self.shared.control();
        if !self.catch_up_with_seek(requested) || state != PlaybackState::Playing {
            out.fill(0.0);
            return 0;
        }
        let channels = self.channels;
        let available = self.ring.occupied_len() / channels * channels;
        let wanted = out.len() / channels * channels;
        let popped = self.ring.pop_slice(&mut out[..available.min(wanted)]);
        let volume = self.shared.volume();
        if volume != 1.0 {
            out[..popped].iter_mut().for_each(|x| *x *= volume);
        }
        out[popped..].fill(0.0);
        let frames = popped / channels;
        self.shared
            .frames_played
            .fetch_add(frames as u64, Ordering::AcqRel);
        if self.ring.occupied_len() < self.ring.capacity().get() / 2 {
            self.decoder.unpark();
        }
        if popped < wanted
            && self.shared.finished_epoch.load(Ordering::Acquire) == self.epoch
            && self.ring.is_empty()
        {
            self.shared.mark_ended(self.epoch);
        }
        frames
    }

    /// Completes a pending seek to epoch `requested` if the decoder is ready for it; false
    /// while one is pending.
    fn catch_up_with_seek(&mut self, requested: u64) -> bool {
        if requested == self.epoch {
            return true;
        }
        if self.shared.decoder_epoch.load(Ordering::Acquire) != requested {
            return false;
        }
        // The decoder has switched to `requested` and pushes nothing until the ack below,
        // so everything in the ring is from earlier epochs.
        self.ring.clear();
        self.epoch = requested;
        self.shared.frames_played.store(0, Ordering::Release);
        self.shared.acked_epoch.store(requested, Ordering::Release);
        self.decoder.unpark();
        true
    }
}
