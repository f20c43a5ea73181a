//! State shared, without locks on the audio path, by the player (UI thread), the decoder
//! thread and the output's renderer (the device's real-time thread).
//!
//! # Seeking through a single-producer, single-consumer ring
//!
//! Only the consumer (the renderer) may drop samples from the ring, so a seek is a hand-shake
//! of epochs, all monotonic counters:
//! 1. the player bumps the requested epoch (in `control`) and sends the decoder a command;
//! 2. the decoder seeks its source, stops pushing old audio and publishes `decoder_epoch`;
//!    it then waits for step 3 before it pushes anything of the new epoch;
//! 3. the renderer, seeing `decoder_epoch` equal to the requested epoch ahead of its own epoch, clears
//!    the ring (all of it is old audio), zeroes `frames_played` and publishes `acked_epoch`.
//!
//! Until step 3 the renderer writes silence, so no old audio plays after a seek, and the
//! position is the seek target. Positions count only frames the output actually took.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;

use super::{PlaybackState, PlayerError};

/// At most this many unread errors are kept; a device that fails every callback must not
/// grow memory without bound.
const MAX_PENDING_ERRORS: usize = 16;

pub(super) struct Shared {
    /// The requested epoch and the playback state in one word, so that the renderer can end
    /// playback only if no seek or command came in between: `epoch << 8 | state`.
    control: AtomicU64,
    /// Linear gain as f32 bits.
    volume_bits: AtomicU32,
    pub(super) decoder_epoch: AtomicU64,
    pub(super) acked_epoch: AtomicU64,
    /// The epoch whose source the decoder has pushed completely.
    pub(super) finished_epoch: AtomicU64,
    /// Output frames of audio the output consumed since the acknowledged seek.
    pub(super) frames_played: AtomicU64,
    errors: Mutex<Vec<PlayerError>>,
}

fn pack(epoch: u64, state: PlaybackState) -> u64 {
    (epoch << 8) | state as u64
}

fn unpack(control: u64) -> (u64, PlaybackState) {
    (control >> 8, PlaybackState::from_u8((control & 0xff) as u8))
}

impl Shared {
    pub(super) fn new() -> Self {
        Self {
            control: AtomicU64::new(pack(0, PlaybackState::Stopped)),
            volume_bits: AtomicU32::new(1.0f32.to_bits()),
            decoder_epoch: AtomicU64::new(0),
            acked_epoch: AtomicU64::new(0),
            finished_epoch: AtomicU64::new(0),
            frames_played: AtomicU64::new(0),
            errors: Mutex::new(Vec::new()),
        }
    }

    /// The requested epoch and the playback state, read together.
    pub(super) fn control(&self) -> (u64, PlaybackState) {
        unpack(self.control.load(Ordering::Acquire))
    }

    pub(super) fn state(&self) -> PlaybackState {
        self.control().1
    }

    /// Sets the state; `new_epoch` also starts a new epoch (a seek or a load). Player only.
    pub(super) fn command(&self, state: PlaybackState, new_epoch: Option<u64>) {
        let _ = self
            .control
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |control| {
                let epoch = new_epoch.unwrap_or(control >> 8);
                Some(pack(epoch, state))
            });
    }

    /// Playing → Ended, only if still playing `epoch` (no command came in between).
    pub(super) fn mark_ended(&self, epoch: u64) {
        let _ = self.control.compare_exchange(
            pack(epoch, PlaybackState::Playing),
            pack(epoch, PlaybackState::Ended),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    pub(super) fn volume(&self) -> f32 {
        f32::from_bits(self.volume_bits.load(Ordering::Relaxed))
    }

    pub(super) fn set_volume(&self, gain: f32) {
        self.volume_bits.store(gain.to_bits(), Ordering::Relaxed);
    }

    /// Keeps an error for the player to hand out (never called from the render path).
    pub(super) fn report(&self, error: PlayerError) {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if errors.len() < MAX_PENDING_ERRORS {
            errors.push(error);
        }
    }

    pub(super) fn take_errors(&self) -> Vec<PlayerError> {
        let mut errors = self
            .errors
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        std::mem::take(&mut *errors)
    }
}
