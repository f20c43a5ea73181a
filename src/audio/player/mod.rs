//! Playing tracks back: play, pause, stop, seek, volume and position, from any offset, to the
//! sound device or to a capturing sink.
//!
//! ```text
//! PcmSource ─► decoder thread ─► Converter ─► lock-free ring ─► Renderer ─► Output
//!  (file, memory)  (reads ahead,   (resample,    (f32, output      (output's    (cpal device,
//!                   parks when      map channels)  format)          RT thread)   capture sink)
//!                   the ring is full)
//! ```
//!
//! A [`Player`] is owned by one thread (the UI's) and none of its calls blocks: commands go to
//! the decoder thread through a channel, state is shared through atomics. "No audio" is a
//! normal state: [`Player::open_default`] fails with [`PlayerError::NoDevice`] on a machine
//! without a sound device, and [`Player::without_output`] gives a player whose calls all work
//! and play nothing.
//!
//! ```no_run
//! use deepcuts::audio::player::{MemorySource, Player, PlayerError};
//!
//! # fn main() -> Result<(), PlayerError> {
//! let (mut player, audio_status) = match Player::open_default() {
//!     Ok(player) => (player, None),
//!     // Shown once in the status bar; the app goes on without sound.
//!     Err(error) => (Player::without_output(), Some(error.to_string())),
//! };
//! let excerpt = MemorySource::new(vec![0.0; 30 * 22_050], 22_050, 1)?;
//! if player.has_output() {
//!     player.load(Box::new(excerpt))?;
//!     player.seek_secs(12.5); // where a filter peaked
//!     player.play()?;
//! }
//! // Each UI frame while playing: player.position_secs(), player.state().
//! # let _ = audio_status;
//! # Ok(())
//! # }
//! ```

mod capture;
mod convert;
mod cpal_output;
mod decoder;
mod file_source;
mod output;
mod renderer;
mod shared;
mod source;

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use ringbuf::traits::Split;
use ringbuf::HeapRb;

use crate::audio::decode::AudioError;

pub use capture::CaptureSink;
pub use cpal_output::CpalOutput;
pub use file_source::FileSource;
pub use output::{Output, OutputFormat};
pub use renderer::{ErrorReporter, Renderer};
pub use source::{MemorySource, PcmSource};

use convert::Converter;
use decoder::{Command, Decoder};
use shared::Shared;

/// Seconds of converted audio the decoder keeps ahead of the output. Seeks, pauses and
/// volume changes do not wait for it to drain, so it can be generous.
const RING_SECS: f64 = 0.5;

/// Why the player cannot do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum PlayerError {
    /// No usable output device: the host has none, or the default one cannot be opened (no
    /// sound card, no sound server). Playback is unavailable; everything else works.
    #[error("no audio output ({device}): {source}")]
    NoDevice { device: String, source: cpal::Error },
    /// The output device failed at `action`.
    #[error("audio output {device}: cannot {action}: {source}")]
    Device {
        device: String,
        action: &'static str,
        source: cpal::Error,
    },
    #[error("audio output {device}: unsupported sample format {format}")]
    UnsupportedFormat { device: String, format: String },
    /// The player was made without an output.
    #[error("no audio output: playback is unavailable")]
    NoOutput,
    #[error("nothing is loaded to play")]
    NothingLoaded,
    /// The source's format cannot be played (zero rate or channels, malformed samples).
    #[error("cannot play this audio: {reason}")]
    InvalidSource { reason: String },
    /// Reading the source failed while playing: playback of it ends there.
    #[error(transparent)]
    Source(#[from] AudioError),
    #[error("cannot start the audio decoder thread: {0}")]
    Thread(#[source] std::io::Error),
    /// The decoder thread is gone (a source panicked while decoding): this player is
    /// unusable; make a new one.
    #[error("the audio decoder thread has stopped")]
    DecoderStopped,
}

/// What the player is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PlaybackState {
    /// Not started since the last load or stop; [`Player::play`] starts at the position.
    Stopped,
    Playing,
    Paused,
    /// The source played to its end.
    Ended,
}

impl PlaybackState {
    fn from_u8(value: u8) -> Self {
        match value {
            1 => Self::Playing,
            2 => Self::Paused,
            3 => Self::Ended,
            _ => Self::Stopped,
        }
    }
}

/// Plays one source at a time to one output.
pub struct Player {
    engine: Option<Engine>,
    /// Linear gain in [0, 1].
    volume: f32,
}

/// The machinery behind a player that has an output.
struct Engine {
    output: Box<dyn Output>,
    format: OutputFormat,
    shared: Arc<Shared>,
    commands: Sender<Command>,
    decoder: Option<JoinHandle<()>>,
    /// The epoch of the last load or seek (only the player starts epochs).
    epoch: u64,
    /// Where that load or seek started, in source seconds.
    origin_secs: f64,
    loaded: bool,
}

impl Player {
    /// A player on the default sound device. Fails with [`PlayerError::NoDevice`] where there is
    /// none; use [`Player::without_output`] then.
    pub fn open_default() -> Result<Self, PlayerError> {
        Self::with_output(Box::new(CpalOutput::open_default()?))
    }

    /// A player on `output`; starts the decoder thread.
    pub fn with_output(output: Box<dyn Output>) -> Result<Self, PlayerError> {
        let format = output.format();
        if format.sample_rate_hz == 0 || format.channels == 0 {
            return Err(PlayerError::UnsupportedFormat {
                device: output.name(),
                format: format!(
                    "{} Hz with {} channels",
                    format.sample_rate_hz, format.channels
                ),
            });
        }
        let ring_frames = (f64::from(format.sample_rate_hz) * RING_SECS).ceil() as usize;
        let (producer, consumer) = HeapRb::<f32>::new(ring_frames * format.channels).split();
        let shared = Arc::new(Shared::new());
        let (commands, receiver) = mpsc::channel();
        let decoder = Decoder::new(
            receiver,
            producer,
            Arc::clone(&shared),
            format.channels,
            Duration::from_secs_f64(RING_SECS / 4.0),
        );
        let decoder_shared = Arc::clone(&shared);
        let handle = thread::Builder::new()
            .name("deepcuts-player-decoder".to_string())
            .spawn(move || {
                // A decoder library that panics on a malformed file must not leave the player
                // silently "playing" nothing: say so, and end.
                if panic::catch_unwind(AssertUnwindSafe(|| decoder.run())).is_err() {
                    decoder_shared.report(PlayerError::DecoderStopped);
                    decoder_shared.command(PlaybackState::Ended, None);
                }
            })
            .map_err(PlayerError::Thread)?;
        let renderer = Renderer::new(
            consumer,
            Arc::clone(&shared),
            format.channels,
            handle.thread().clone(),
        );
        let mut engine = Engine {
            output,
            format,
            shared,
            commands,
            decoder: Some(handle),
            epoch: 0,
            origin_secs: 0.0,
            loaded: false,
        };
        // On failure, dropping the engine stops the decoder thread.
        engine.output.attach(renderer)?;
        Ok(Self {
            engine: Some(engine),
            volume: 1.0,
        })
    }

    /// A player without any output: every call works, nothing plays, the position stays 0,
    /// and [`Player::load`] and [`Player::play`] say [`PlayerError::NoOutput`].
    pub fn without_output() -> Self {
        Self {
            engine: None,
            volume: 1.0,
        }
    }

    pub fn has_output(&self) -> bool {
        self.engine.is_some()
    }

    /// The output's name and format, if there is an output.
    pub fn output(&self) -> Option<(String, OutputFormat)> {
        self.engine
            .as_ref()
            .map(|engine| (engine.output.name(), engine.format))
    }

    /// Replaces whatever was loaded with `source`, stopped at its start. To start elsewhere
    /// (an excerpt, a moment of interest), [`Player::seek_secs`] before [`Player::play`].
    pub fn load(&mut self, source: Box<dyn PcmSource>) -> Result<(), PlayerError> {
        let engine = self.engine.as_mut().ok_or(PlayerError::NoOutput)?;
        engine.check_decoder()?;
        let (rate_hz, channels) = (source.sample_rate_hz(), source.channels());
        if rate_hz == 0 || channels == 0 {
            return Err(PlayerError::InvalidSource {
                reason: format!("a source at {rate_hz} Hz with {channels} channels"),
            });
        }
        let converter = Box::new(Converter::new(rate_hz, channels, engine.format)?);
        engine.halt_output();
        let epoch = engine.start_epoch(PlaybackState::Stopped, 0.0);
        engine.send(Command::Load {
            source,
            converter,
            epoch,
        })?;
        engine.loaded = true;
        Ok(())
    }

    /// Plays from the position; after the end, from the start again.
    pub fn play(&mut self) -> Result<(), PlayerError> {
        let engine = self.engine.as_mut().ok_or(PlayerError::NoOutput)?;
        if !engine.loaded {
            return Err(PlayerError::NothingLoaded);
        }
        engine.check_decoder()?;
        let before = engine.shared.state();
        match before {
            PlaybackState::Playing => return Ok(()),
            PlaybackState::Ended => {
                let epoch = engine.start_epoch(PlaybackState::Playing, 0.0);
                engine.send(Command::Seek { secs: 0.0, epoch })?;
            }
            PlaybackState::Stopped | PlaybackState::Paused => {
                engine.shared.command(PlaybackState::Playing, None);
            }
        }
        if let Err(error) = engine.output.resume() {
            engine.shared.command(before, None);
            return Err(error);
        }
        engine.wake_decoder();
        Ok(())
    }

    /// Pauses at the position. A device that cannot pause keeps running silent.
    pub fn pause(&mut self) {
        if let Some(engine) = &mut self.engine {
            if engine.shared.state() == PlaybackState::Playing {
                engine.shared.command(PlaybackState::Paused, None);
                engine.halt_output();
            }
        }
    }

    /// Stops and goes back to the start.
    pub fn stop(&mut self) {
        if let Some(engine) = &mut self.engine {
            if engine.loaded {
                engine.halt_output();
                let epoch = engine.start_epoch(PlaybackState::Stopped, 0.0);
                // A stopped decoder thread is reported by the next load or play.
                let _ = engine.send(Command::Seek { secs: 0.0, epoch });
            }
        }
    }

    /// Moves to `secs` in the source (clamped at 0; NaN is ignored). Playing continues from
    /// there without playing anything older; after the end, the player waits paused there.
    pub fn seek_secs(&mut self, secs: f64) {
        let Some(engine) = &mut self.engine else {
            return;
        };
        if !engine.loaded || secs.is_nan() {
            return;
        }
        let secs = secs.max(0.0);
        let state = match engine.shared.state() {
            PlaybackState::Ended => {
                engine.halt_output();
                PlaybackState::Paused
            }
            state => state,
        };
        let epoch = engine.start_epoch(state, secs);
        // A stopped decoder thread is reported by the next load or play.
        let _ = engine.send(Command::Seek { secs, epoch });
    }

    /// Seconds into the source: the last seek's target plus the audio the output has taken
    /// since. 0 without an output or a source.
    pub fn position_secs(&self) -> f64 {
        let Some(engine) = &self.engine else {
            return 0.0;
        };
        if engine.shared.acked_epoch.load(Ordering::Acquire) != engine.epoch {
            return engine.origin_secs;
        }
        let frames = engine.shared.frames_played.load(Ordering::Acquire);
        engine.origin_secs + frames as f64 / f64::from(engine.format.sample_rate_hz)
    }

    /// Linear gain, clamped to [0, 1]; NaN is ignored. Takes effect within one output buffer.
    pub fn set_volume(&mut self, gain: f32) {
        if gain.is_nan() {
            return;
        }
        self.volume = gain.clamp(0.0, 1.0);
        if let Some(engine) = &self.engine {
            engine.shared.set_volume(self.volume);
        }
    }

    pub fn volume(&self) -> f32 {
        self.volume
    }

    pub fn state(&self) -> PlaybackState {
        self.engine
            .as_ref()
            .map_or(PlaybackState::Stopped, |engine| engine.shared.state())
    }

    /// Errors met while playing, on other threads (a source that fails to decode, a device
    /// that fails mid-stream), each handed out once.
    pub fn take_errors(&self) -> Vec<PlayerError> {
        self.engine
            .as_ref()
            .map_or_else(Vec::new, |engine| engine.shared.take_errors())
    }
}

impl Engine {
    /// Starts a new epoch at `origin_secs` in state `state`; returns its number.
    fn start_epoch(&mut self, state: PlaybackState, origin_secs: f64) -> u64 {
        self.epoch += 1;
        self.origin_secs = origin_secs;
        self.shared.command(state, Some(self.epoch));
        self.epoch
    }

    fn send(&mut self, command: Command) -> Result<(), PlayerError> {
        self.commands
            .send(command)
            .map_err(|_| PlayerError::DecoderStopped)?;
        self.wake_decoder();
        Ok(())
    }

    fn check_decoder(&self) -> Result<(), PlayerError> {
        match &self.decoder {
            Some(decoder) if !decoder.is_finished() => Ok(()),
            _ => Err(PlayerError::DecoderStopped),
        }
    }

    fn wake_decoder(&self) {
        if let Some(decoder) = &self.decoder {
            decoder.thread().unpark();
        }
    }

    /// Stops the output pulling audio. If it cannot (a device without pause), it keeps
    /// running and the renderer, seeing the state, writes silence: nothing is lost.
    fn halt_output(&mut self) {
        let _ = self.output.pause();
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        let _ = self.output.pause();
        let _ = self.commands.send(Command::Shutdown);
        if let Some(decoder) = self.decoder.take() {
            decoder.thread().unpark();
            // A panicked decoder has nothing left to clean up.
            let _ = decoder.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The app may keep its player anywhere, including in state moved across threads.
    #[test]
    fn a_player_can_move_between_threads() {
        fn assert_send<T: Send>() {}
        assert_send::<Player>();
        assert_send::<CaptureSink>();
    }
}
