//! Decoding with symphonia.
//!
//! TEMPORARY minimal stand-in written on the `player` branch so that the player's file source
//! compiles and can be tested; the decoding work replaces this file with the real one (same
//! signatures for [`AudioStream`] and [`AudioError`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::{Time, TimeBase, Timestamp};

/// Why a file could not be decoded; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{path}: cannot open: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Decode {
        path: PathBuf,
        source: SymphoniaError,
    },
    #[error("{path}: {what}")]
    Unsupported { path: PathBuf, what: &'static str },
}

/// A decoded audio file read block by block: interleaved f32 at the file's own rate.
pub struct AudioStream {
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    time_base: TimeBase,
    sample_rate_hz: u32,
    channels: usize,
    /// Frames of the next decoded packet to drop so that a seek lands exactly.
    skip_to_ts: Option<Timestamp>,
    scratch: Vec<f32>,
    warnings: Vec<String>,
}

impl AudioStream {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let decode_err = |source| AudioError::Decode {
            path: path.to_path_buf(),
            source,
        };
        let unsupported = |what| AudioError::Unsupported {
            path: path.to_path_buf(),
            what,
        };
        let file = File::open(path).map_err(|source| AudioError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        let stream = MediaSourceStream::new(Box::new(file), Default::default());
        let format = symphonia::default::get_probe()
            .probe(
                &Hint::new(),
                stream,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(decode_err)?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| unsupported("no audio track"))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|params| params.audio())
            .ok_or_else(|| unsupported("no audio codec parameters"))?;
        let sample_rate_hz = params
            .sample_rate
            .ok_or_else(|| unsupported("unknown sample rate"))?;
        let channels = params
            .channels
            .as_ref()
            .map(|channels| channels.count())
            .ok_or_else(|| unsupported("unknown channel count"))?;
        let time_base = track
            .time_base
            .or_else(|| TimeBase::try_from_recip(sample_rate_hz))
            .ok_or_else(|| unsupported("unknown time base"))?;
        let track_id = track.id;
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(params, &AudioDecoderOptions::default())
            .map_err(decode_err)?;
        Ok(Self {
            path: path.to_path_buf(),
            format,
            decoder,
            track_id,
            time_base,
            sample_rate_hz,
            channels,
            skip_to_ts: None,
            scratch: Vec::new(),
            warnings: Vec::new(),
        })
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Seeks so that the next block starts exactly at `secs`; returns that frame index.
    pub fn seek_secs(&mut self, secs: f64) -> Result<u64, AudioError> {
        let secs = secs.max(0.0);
        let time = Time::try_from_secs_f64(secs).ok_or(AudioError::Unsupported {
            path: self.path.clone(),
            what: "seek time out of range",
        })?;
        let seeked = self
            .format
            .seek(
                SeekMode::Accurate,
                SeekTo::Time {
                    time,
                    track_id: Some(self.track_id),
                },
            )
            .map_err(|source| AudioError::Decode {
                path: self.path.clone(),
                source,
            })?;
        self.decoder.reset();
        self.skip_to_ts = Some(seeked.required_ts);
        Ok((secs * f64::from(self.sample_rate_hz)).round() as u64)
    }

    /// Appends the next decoded block (interleaved f32); `Ok(false)` at the end of the stream.
    pub fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        loop {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => return Ok(false),
                Err(SymphoniaError::IoError(err))
                    if err.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    self.warnings
                        .push(format!("{}: truncated stream", self.path.display()));
                    return Ok(false);
                }
                Err(source) => {
                    return Err(AudioError::Decode {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            let decoded = match self.decoder.decode(&packet) {
                Ok(decoded) => decoded,
                Err(SymphoniaError::DecodeError(what)) => {
                    self.warnings.push(format!(
                        "{}: skipped a bad packet: {what}",
                        self.path.display()
                    ));
                    continue;
                }
                Err(source) => {
                    return Err(AudioError::Decode {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            decoded.copy_to_vec_interleaved(&mut self.scratch);
            let mut skip_frames = 0;
            if let Some(target) = self.skip_to_ts {
                let behind_ts = target.get() - packet.pts.get();
                let behind_secs = self
                    .time_base
                    .calc_time_saturating(Timestamp::new(behind_ts.max(0)))
                    .as_secs_f64();
                skip_frames = (behind_secs * f64::from(self.sample_rate_hz)).round() as usize;
                self.skip_to_ts = None;
            }
            let skip_samples = (skip_frames * self.channels).min(self.scratch.len());
            out.extend_from_slice(&self.scratch[skip_samples..]);
            return Ok(true);
        }
    }

    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}
