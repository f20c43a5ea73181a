//! An output without a device: it plays only when asked to ([`CaptureSink::pull`]) and keeps
//! every frame of audio it receives, so tests drive the real player at a pace of their choosing
//! and check exactly what came out.

use std::sync::{Arc, Mutex, MutexGuard};

use super::output::{Output, OutputFormat};
use super::renderer::Renderer;
use super::PlayerError;

/// A capturing output. Clones share one sink: give one to the player, keep one to drive it.
#[derive(Clone)]
pub struct CaptureSink {
    format: OutputFormat,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    renderer: Option<Renderer>,
    running: bool,
    /// Behave like ALSA's null device: `pause` fails and the sink keeps pulling.
    pause_fails: bool,
    /// Every frame of audio received, `[frames × channels]`.
    captured: Vec<f32>,
    /// Frames of silence the renderer wrote instead of audio.
    silent_frames: u64,
    buffer: Vec<f32>,
}

impl CaptureSink {
    pub fn new(format: OutputFormat) -> Self {
        Self {
            format,
            inner: Arc::new(Mutex::new(Inner {
                renderer: None,
                running: false,
                pause_fails: false,
                captured: Vec::new(),
                silent_frames: 0,
                buffer: Vec::new(),
            })),
        }
    }

    /// A sink whose `pause` fails and which goes on pulling, like a device that cannot pause.
    pub fn with_failing_pause(self) -> Self {
        self.lock().pause_fails = true;
        self
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Plays one device buffer of `frames` frames, as a sound card's callback would. Returns the
    /// frames of audio received (the rest of the buffer was silence); 0 without asking the
    /// renderer when the sink is stopped or not attached.
    pub fn pull(&self, frames: usize) -> usize {
        let mut inner = self.lock();
        let Inner {
            renderer,
            running,
            captured,
            silent_frames,
            buffer,
            ..
        } = &mut *inner;
        let (Some(renderer), true) = (renderer.as_mut(), *running) else {
            return 0;
        };
        buffer.resize(frames * self.format.channels, 0.0);
        let audio_frames = renderer.render(buffer);
        captured.extend_from_slice(&buffer[..audio_frames * self.format.channels]);
        *silent_frames += (frames - audio_frames) as u64;
        audio_frames
    }

    /// Everything received so far, `[frames × channels]`.
    pub fn captured(&self) -> Vec<f32> {
        self.lock().captured.clone()
    }

    pub fn captured_frames(&self) -> usize {
        self.lock().captured.len() / self.format.channels
    }

    pub fn silent_frames(&self) -> u64 {
        self.lock().silent_frames
    }

    pub fn is_running(&self) -> bool {
        self.lock().running
    }
}

impl Output for CaptureSink {
    fn format(&self) -> OutputFormat {
        self.format
    }

    fn name(&self) -> String {
        "capture sink".to_string()
    }

    fn attach(&mut self, renderer: Renderer) -> Result<(), PlayerError> {
        self.lock().renderer = Some(renderer);
        Ok(())
    }

    fn resume(&mut self) -> Result<(), PlayerError> {
        self.lock().running = true;
        Ok(())
    }

    fn pause(&mut self) -> Result<(), PlayerError> {
        let mut inner = self.lock();
        if inner.pause_fails {
            return Err(PlayerError::Device {
                device: "capture sink".to_string(),
                action: "pause",
                source: cpal::Error::with_message(
                    cpal::ErrorKind::UnsupportedOperation,
                    "this sink cannot pause (it imitates ALSA's null device)",
                ),
            });
        }
        inner.running = false;
        Ok(())
    }
}
