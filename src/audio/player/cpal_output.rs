//! The sound device, through cpal: the host's default output device in its default format.

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{FromSample, SampleFormat, SizedSample, Stream, SupportedStreamConfig};

use super::output::{Output, OutputFormat};
use super::renderer::{ErrorReporter, Renderer};
use super::PlayerError;

/// The default output device of the default host (ALSA on Linux).
pub struct CpalOutput {
    device: cpal::Device,
    device_name: String,
    config: SupportedStreamConfig,
    stream: Option<Stream>,
}

impl CpalOutput {
    /// Finds the default output device and its preferred format. Without a device (no sound
    /// card, no sound server) this fails with [`PlayerError::NoDevice`]: a normal state.
    pub fn open_default() -> Result<Self, PlayerError> {
        let host = cpal::default_host();
        let device = host
            .default_output_device()
            .ok_or_else(|| PlayerError::NoDevice {
                device: format!("default of {}", host.id().name()),
                source: cpal::Error::with_message(
                    cpal::ErrorKind::DeviceNotAvailable,
                    "the audio host has no default output device",
                ),
            })?;
        let device_name = device
            .description()
            .map(|description| description.name().to_string())
            .unwrap_or_else(|_| "default".to_string());
        let config = device
            .default_output_config()
            .map_err(|source| PlayerError::NoDevice {
                device: device_name.clone(),
                source,
            })?;
        Ok(Self {
            device,
            device_name,
            config,
            stream: None,
        })
    }

    fn device_error(&self, action: &'static str, source: cpal::Error) -> PlayerError {
        PlayerError::Device {
            device: self.device_name.clone(),
            action,
            source,
        }
    }

    fn build<T>(&self, mut renderer: Renderer) -> Result<Stream, cpal::Error>
    where
        T: SizedSample + FromSample<f32>,
    {
        let reporter = renderer.error_reporter();
        let device_name = self.device_name.clone();
        // Grown only if the device asks for a larger buffer than ever before.
        let mut scratch: Vec<f32> = Vec::with_capacity(16_384);
        self.device.build_output_stream::<T, _, _>(
            self.config.config(),
            move |data: &mut [T], _info| {
                scratch.resize(data.len(), 0.0);
                renderer.render(&mut scratch);
                for (out, &sample) in data.iter_mut().zip(scratch.iter()) {
                    *out = T::from_sample(sample);
                }
            },
            move |error| report_stream_error(&reporter, &device_name, error),
            None,
        )
    }
}

/// Hands a failure of the running stream to the player. Under- and overruns are glitches the
/// listener hears, not failures to show, and a rerouted default device keeps playing.
fn report_stream_error(reporter: &ErrorReporter, device: &str, error: cpal::Error) {
    if matches!(
        error.kind(),
        cpal::ErrorKind::Xrun | cpal::ErrorKind::DeviceChanged
    ) {
        return;
    }
    reporter.report(PlayerError::Device {
        device: device.to_string(),
        action: "keep playing",
        source: error,
    });
}

impl Output for CpalOutput {
    fn format(&self) -> OutputFormat {
        OutputFormat {
            sample_rate_hz: self.config.sample_rate(),
            channels: usize::from(self.config.channels()),
        }
    }

    fn name(&self) -> String {
        self.device_name.clone()
    }

    fn attach(&mut self, renderer: Renderer) -> Result<(), PlayerError> {
        let stream = match self.config.sample_format() {
            SampleFormat::F32 => self.build::<f32>(renderer),
            SampleFormat::F64 => self.build::<f64>(renderer),
            SampleFormat::I8 => self.build::<i8>(renderer),
            SampleFormat::I16 => self.build::<i16>(renderer),
            SampleFormat::I24 => self.build::<cpal::I24>(renderer),
            SampleFormat::I32 => self.build::<i32>(renderer),
            SampleFormat::I64 => self.build::<i64>(renderer),
            SampleFormat::U8 => self.build::<u8>(renderer),
            SampleFormat::U16 => self.build::<u16>(renderer),
            SampleFormat::U24 => self.build::<cpal::U24>(renderer),
            SampleFormat::U32 => self.build::<u32>(renderer),
            SampleFormat::U64 => self.build::<u64>(renderer),
            other => {
                return Err(PlayerError::UnsupportedFormat {
                    device: self.device_name.clone(),
                    format: other.to_string(),
                })
            }
        }
        .map_err(|source| self.device_error("open a stream", source))?;
        self.stream = Some(stream);
        Ok(())
    }

    fn resume(&mut self) -> Result<(), PlayerError> {
        match &self.stream {
            Some(stream) => stream
                .play()
                .map_err(|source| self.device_error("start playing", source)),
            None => Err(PlayerError::NoOutput),
        }
    }

    fn pause(&mut self) -> Result<(), PlayerError> {
        match &self.stream {
            Some(stream) => stream
                .pause()
                .map_err(|source| self.device_error("pause", source)),
            None => Err(PlayerError::NoOutput),
        }
    }
}
