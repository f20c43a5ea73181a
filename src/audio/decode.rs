//! Decoding any supported file with symphonia (plus libopus for Ogg Opus) into interleaved f32
//! blocks at the file's own rate, with sample-accurate seeking. Analysis and the player both
//! read audio through [`AudioStream`]; resampling and the excerpt live elsewhere.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_AC3, CODEC_ID_ATRAC1, CODEC_ID_ATRAC3, CODEC_ID_ATRAC3PLUS,
    CODEC_ID_ATRAC9, CODEC_ID_DCA, CODEC_ID_EAC3, CODEC_ID_MONKEYS_AUDIO, CODEC_ID_MUSEPACK,
    CODEC_ID_OPUS, CODEC_ID_SPEEX, CODEC_ID_TRUEHD, CODEC_ID_TTA, CODEC_ID_WAVPACK, CODEC_ID_WMA,
};
use symphonia::core::codecs::audio::{
    AudioCodecId, AudioCodecParameters, AudioDecoder, AudioDecoderOptions,
};
use symphonia::core::codecs::registry::CodecRegistry;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, SeekMode, SeekTo, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::{MetadataOptions, StandardTag};
use symphonia::core::units::{TimeBase, Timestamp};
use symphonia_adapter_libopus::OpusDecoder;

use super::mp4_edits;

/// What can go wrong reading an audio file. Every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    #[error("{}: cannot open: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: not a recognised audio format", path.display())]
    UnrecognisedFormat { path: PathBuf },
    #[error("{}: no audio track", path.display())]
    NoAudioTrack { path: PathBuf },
    #[error("{}: unsupported codec {codec}", path.display())]
    UnsupportedCodec { path: PathBuf, codec: String },
    #[error("{}: decode error: {source}", path.display())]
    Decode {
        path: PathBuf,
        #[source]
        source: SymphoniaError,
    },
    #[error("{}: cannot seek to {secs:.3} s: {source}", path.display())]
    Seek {
        path: PathBuf,
        secs: f64,
        #[source]
        source: SymphoniaError,
    },
    #[error("{}: the file ends before its first audio (truncated?)", path.display())]
    Truncated { path: PathBuf },
    #[error("{}: empty: no audio samples", path.display())]
    Empty { path: PathBuf },
}

/// What a file holds, as its container declares it.
#[derive(Clone, Debug, PartialEq)]
pub struct AudioInfo {
    /// Container short name as symphonia reports it ("ogg", "wav", "isomp4", ...).
    pub container: String,
    /// Codec short name ("vorbis", "mp3", "opus", "pcm_s16le", ...).
    pub codec: String,
    pub sample_rate_hz: u32,
    pub channels: usize,
    /// `None` when the container does not say how long the track is.
    pub duration_secs: Option<f64>,
    /// What the file's metadata says about the track.
    pub tags: Tags,
}

/// The descriptive tags the catalog keeps, from whatever metadata format the file carries
/// (ID3, Vorbis comments, MP4 atoms, RIFF INFO, …).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Tags {
    pub artist: Option<String>,
    pub title: Option<String>,
    pub album: Option<String>,
    pub genre: Option<String>,
}

impl Tags {
    /// The tags of the latest metadata revision of `reader`, media-level then per-track.
    fn read(reader: &mut dyn FormatReader) -> Self {
        let mut tags = Tags::default();
        let mut metadata = reader.metadata();
        let Some(revision) = metadata.skip_to_latest() else {
            return tags;
        };
        let containers =
            std::iter::once(&revision.media).chain(revision.per_track.iter().map(|t| &t.metadata));
        for tag in containers.flat_map(|c| &c.tags) {
            let (slot, value) = match &tag.std {
                Some(StandardTag::Artist(v)) => (&mut tags.artist, v),
                Some(StandardTag::TrackTitle(v)) => (&mut tags.title, v),
                Some(StandardTag::Album(v)) => (&mut tags.album, v),
                Some(StandardTag::Genre(v)) => (&mut tags.genre, v),
                _ => continue,
            };
            let value = value.trim();
            if slot.is_none() && !value.is_empty() {
                *slot = Some(value.to_owned());
            }
        }
        tags
    }
}

/// Reads the container header and checks that the codec can be decoded.
pub fn probe_info(path: &Path) -> Result<AudioInfo, AudioError> {
    AudioStream::open(path).map(|stream| stream.info)
}

/// Symphonia's decoders plus libopus, which symphonia lacks (PLATFORM.md, Audio).
static CODECS: LazyLock<CodecRegistry> = LazyLock::new(|| {
    let mut registry = CodecRegistry::new();
    symphonia::default::register_enabled_codecs(&mut registry);
    registry.register_audio_decoder::<OpusDecoder>();
    registry
});

/// Decoding in lossy codecs depends on the frames before (MDCT overlap, Opus's ~80 ms
/// convergence, and MP3's bit reservoir, which reaches up to 511 bytes back: 0.3 s of the
/// smallest frames, 8 kb/s at 16 kHz), so a seek starts decoding this long before the target
/// and discards the run-up.
const SEEK_PREROLL_SECS: f64 = 0.4;

/// symphonia's short name of the MP4/M4A reader.
const MP4_SHORT_NAME: &str = "isomp4";

/// Frames an AAC-LC packet decodes to.
const AAC_PACKET_FRAMES: u64 = 1024;

/// symphonia's short names of its MPEG audio (layer 1, 2, 3) reader.
const MPEG_AUDIO_SHORT_NAMES: [&str; 3] = ["mp1", "mp2", "mp3"];

/// Decoders may run past the container's declared length by their final packet's padding
/// (AAC in MP4 does); more than this means the header is wrong, not padded.
const OVERRUN_LIMIT_SECS: f64 = 0.2;

/// Silence inserted for skipped packets stops here: a longer jump in timestamps is a broken
/// timeline rather than a few lost packets.
const MAX_GAP_FILL_SECS: u64 = 10;

/// A streaming decoder for one file at its native rate.
///
/// Positions are frames on the track's timeline: frame 0 is the first audible frame (encoder
/// delay already removed), and a block's position comes from its packet timestamp.
pub struct AudioStream {
    path: PathBuf,
    reader: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    info: AudioInfo,
    time_base: Option<TimeBase>,
    /// Timestamp (in track timebase units) of timeline frame 0.
    origin_ts: i64,
    /// Playable frames on the timeline, when the container says (or, for MPEG audio, as
    /// counted at open).
    num_frames: Option<u64>,
    /// `num_frames` was counted from the packets: it, not the packets' end trims, ends the
    /// stream (see [`count_mpeg_frames`]).
    counted_length: bool,
    /// Timeline frame of the next frame `read_block` returns.
    position_frames: u64,
    /// Frames before this timeline position are dropped (the start, and after a seek).
    discard_before: u64,
    ended: bool,
    /// Frames decoded past the declared length, held back: encoder padding (dropped) if the
    /// stream ends within [`OVERRUN_LIMIT_SECS`], otherwise the header understated the length.
    overrun: Vec<f32>,
    trust_declared_end: bool,
    bad_packets: usize,
    /// A packet was skipped since the last block: the next block fills the gap.
    gap_pending: bool,
    /// Index into `warnings` of the bad-packet summary, once there is one.
    bad_packet_warning: Option<usize>,
    warnings: Vec<String>,
    scratch: Vec<f32>,
}

impl AudioStream {
    pub fn open(path: &Path) -> Result<Self, AudioError> {
        let open_error = |source| AudioError::Open {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let metadata = file.metadata().map_err(open_error)?;
        if !metadata.is_file() {
            let not_file = std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file");
            return Err(open_error(not_file));
        }
        if metadata.len() == 0 {
            return Err(AudioError::Empty {
                path: path.to_path_buf(),
            });
        }
        let mut reader = probe(
            path,
            MediaSourceStream::new(Box::new(file), Default::default()),
        )
        .map_err(|error| match error {
            SymphoniaError::Unsupported(_) => AudioError::UnrecognisedFormat {
                path: path.to_path_buf(),
            },
            // A reader took the header but the data ran out before its first audio.
            SymphoniaError::IoError(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => {
                AudioError::Truncated {
                    path: path.to_path_buf(),
                }
            }
            SymphoniaError::IoError(source) => AudioError::Open {
                path: path.to_path_buf(),
                source,
            },
            source => AudioError::Decode {
                path: path.to_path_buf(),
                source,
            },
        })?;

        let track =
            reader
                .default_track(TrackType::Audio)
                .ok_or_else(|| AudioError::NoAudioTrack {
                    path: path.to_path_buf(),
                })?;
        let Some(CodecParameters::Audio(params)) = track.codec_params.as_ref() else {
            return Err(AudioError::NoAudioTrack {
                path: path.to_path_buf(),
            });
        };
        let mut params = params.clone();
        let track_id = track.id;
        let time_base = track.time_base;
        let start_ts = track.start_ts.get();
        let track_frames = track.num_frames;
        let track_duration = track.duration;
        let (delay, padding) = (track.delay, track.padding);

        // libopus' adapter trims Opus pre-skip from whichever packet it decodes first, which is
        // wrong after a seek; Ogg Opus timestamps include the pre-skip, so the stream drops it
        // by timestamp instead (like any other frames before the timeline's start).
        let mut pre_skip_frames = 0;
        if params.codec == CODEC_ID_OPUS {
            pre_skip_frames = take_opus_pre_skip(&mut params);
        }

        let decoder = CODECS
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|error| match error {
                SymphoniaError::Unsupported(_) => AudioError::UnsupportedCodec {
                    path: path.to_path_buf(),
                    codec: codec_name(params.codec),
                },
                source => AudioError::Decode {
                    path: path.to_path_buf(),
                    source,
                },
            })?;

        let sample_rate_hz = params.sample_rate.unwrap_or(0);
        let channels = params.channels.as_ref().map_or(0, |c| c.count());
        if sample_rate_hz == 0 || channels == 0 {
            return Err(AudioError::UnsupportedCodec {
                path: path.to_path_buf(),
                codec: format!(
                    "{} without a declared sample rate or channel count",
                    decoder.codec_info().short_name
                ),
            });
        }

        // Demuxers put timestamp 0 at the first playable frame, leading encoder delay at
        // negative timestamps (MP3, Vorbis), except Ogg Opus, whose granules count the
        // pre-skip; a stream cut from a live one starts at a positive timestamp.
        let mut origin_ts = start_ts.max(0) + pre_skip_frames as i64;
        let mut num_frames = track_frames
            .map(|frames| frames.saturating_sub(pre_skip_frames))
            .or_else(|| {
                let secs = time_base?.calc_duration(track_duration?)?.as_secs_f64();
                Some((secs * f64::from(sample_rate_hz)).round() as u64)
            });
        // MP4 marks AAC's priming with an edit list that symphonia leaves to us; the timeline
        // then starts where the edit does, like Opus's pre-skip above (and, as in ffmpeg, runs
        // to the end of the last packet: see mp4_edits).
        let short_name = reader.format_info().short_name;
        if short_name == MP4_SHORT_NAME {
            if params.codec == CODEC_ID_AAC {
                // The sample table shortens the last packet to the end of the audio, but the
                // decoder (ffmpeg's, and ours) gives it whole.
                num_frames = num_frames.map(|n| n.next_multiple_of(AAC_PACKET_FRAMES));
            }
            if let Some(media_start) = mp4_edits::media_start(path, track_id) {
                origin_ts += i64::try_from(media_start).unwrap_or(0);
                num_frames = num_frames.map(|n| n.saturating_sub(media_start));
            }
        }
        let counted_length = MPEG_AUDIO_SHORT_NAMES.contains(&short_name);
        let mut warnings = Vec::new();
        if counted_length {
            let counted = count_mpeg_frames(
                reader.as_mut(),
                track_id,
                delay.unwrap_or(0),
                padding.unwrap_or(0),
            )
            .map_err(|source| AudioError::Decode {
                path: path.to_path_buf(),
                source,
            })?;
            // With LAME's header the declared length is the encoder's own count, not an
            // estimate: falling short of it means the file was cut.
            let rate = u64::from(sample_rate_hz);
            if let (Some(counted), Some(declared), Some(_)) = (counted, num_frames, delay) {
                if counted + rate / 10 < declared {
                    warnings.push(format!(
                        "{}: the frames in the file end at {:.3} s but its header declares \
                         {:.3} s (damaged or truncated file?)",
                        path.display(),
                        counted as f64 / rate as f64,
                        declared as f64 / rate as f64
                    ));
                }
            }
            num_frames = counted.or(num_frames);
        }
        let tags = Tags::read(reader.as_mut());
        let info = AudioInfo {
            tags,
            container: reader.format_info().short_name.to_string(),
            codec: decoder.codec_info().short_name.to_string(),
            sample_rate_hz,
            channels,
            duration_secs: num_frames.map(|n| n as f64 / f64::from(sample_rate_hz)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            reader,
            decoder,
            track_id,
            info,
            time_base,
            origin_ts,
            num_frames,
            counted_length,
            position_frames: 0,
            discard_before: 0,
            ended: false,
            overrun: Vec::new(),
            trust_declared_end: true,
            bad_packets: 0,
            gap_pending: false,
            bad_packet_warning: None,
            warnings,
            scratch: Vec::new(),
        })
    }

    pub fn info(&self) -> &AudioInfo {
        &self.info
    }

    pub fn sample_rate_hz(&self) -> u32 {
        self.info.sample_rate_hz
    }

    pub fn channels(&self) -> usize {
        self.info.channels
    }

    /// Playable frames at the native rate, when the container says.
    pub(crate) fn num_frames(&self) -> Option<u64> {
        self.num_frames
    }

    /// Problems that did not stop decoding (a truncated stream, skipped bad packets).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Seeks so the next block starts exactly at `secs` (samples before it trimmed); returns the
    /// position in frames at the native rate.
    pub fn seek_secs(&mut self, secs: f64) -> Result<u64, AudioError> {
        let target = (secs.max(0.0) * f64::from(self.info.sample_rate_hz)).round() as u64;
        self.seek_frame(target)
    }

    /// Seeks so the next block starts exactly at timeline frame `target`.
    pub(crate) fn seek_frame(&mut self, target: u64) -> Result<u64, AudioError> {
        let rate = f64::from(self.info.sample_rate_hz);
        let seek_error = |source| AudioError::Seek {
            path: self.path.clone(),
            secs: target as f64 / rate,
            source,
        };
        let preroll = (SEEK_PREROLL_SECS * rate) as u64;
        let ts = self
            .frames_to_ts(target.saturating_sub(preroll))
            .ok_or_else(|| seek_error(SymphoniaError::SeekError(unseekable())))?;
        self.reader
            .seek(
                SeekMode::Accurate,
                SeekTo::Timestamp {
                    ts: Timestamp::new(ts),
                    track_id: self.track_id,
                },
            )
            .map_err(seek_error)?;
        self.decoder.reset();
        self.overrun.clear();
        self.position_frames = target;
        self.discard_before = target;
        self.ended = false;
        self.gap_pending = false;
        Ok(target)
    }

    /// Appends the next decoded block of interleaved f32 samples to `out`; Ok(false) at the end
    /// of the stream.
    pub fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        while !self.ended {
            let mut packet = match self.reader.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => {
                    self.ended = true;
                    self.check_declared_length();
                    break;
                }
                Err(SymphoniaError::IoError(error))
                    if error.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    self.warnings.push(format!(
                        "{}: stream ends early (truncated file?); kept the {:.3} s decoded before",
                        self.path.display(),
                        self.position_frames as f64 / f64::from(self.info.sample_rate_hz)
                    ));
                    self.ended = true;
                    break;
                }
                Err(SymphoniaError::ResetRequired) => {
                    self.warnings.push(format!(
                        "{}: the stream changes its track layout part-way (chained stream); \
                         stopped there",
                        self.path.display()
                    ));
                    self.ended = true;
                    break;
                }
                // Damage the demuxer cannot read past: keep what decoded, if anything did.
                Err(source @ SymphoniaError::DecodeError(_)) if self.position_frames > 0 => {
                    self.warnings.push(format!(
                        "{}: stopped at {:.3} s on damaged data ({source}); kept what decoded \
                         before",
                        self.path.display(),
                        self.position_frames as f64 / f64::from(self.info.sample_rate_hz)
                    ));
                    self.ended = true;
                    break;
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
            if self.counted_length {
                // symphonia trims at the length it estimated; `emit` cuts at the counted one.
                packet.trim_end = symphonia::core::units::Duration::ZERO;
            } else {
                self.keep_end_trim_at_the_end(&mut packet);
            }
            // The timeline frame of the packet's first (trimmed) frame.
            let packet_frame = self.ts_to_frames(packet.pts.get() + packet.trim_start.get() as i64);
            // Run-up after a seek: such packets may lack their references, so their failures
            // are expected.
            let in_preroll = self.in_preroll(packet_frame, packet.dur.get());
            let buffer = match self.decoder.decode(&packet) {
                Ok(buffer) => buffer,
                Err(error @ (SymphoniaError::DecodeError(_) | SymphoniaError::IoError(_))) => {
                    if !in_preroll {
                        self.note_bad_packet(&error);
                    }
                    continue;
                }
                Err(source) => {
                    return Err(AudioError::Decode {
                        path: self.path.clone(),
                        source,
                    })
                }
            };
            let frames = buffer.frames();
            if frames == 0 {
                continue;
            }
            let channels = buffer.spec().channels().count();
            if channels != self.info.channels {
                return Err(AudioError::UnsupportedCodec {
                    path: self.path.clone(),
                    codec: format!(
                        "{} with a channel count that changes mid-stream ({} to {channels})",
                        self.info.codec, self.info.channels
                    ),
                });
            }
            // Drop frames before the wanted position (the timeline's start, or a seek target).
            let skip = match packet_frame {
                Some(first) if first < self.discard_before as i64 => {
                    (self.discard_before as i64 - first).min(frames as i64) as usize
                }
                _ => 0,
            };
            if skip == frames {
                continue;
            }
            buffer.copy_to_vec_interleaved(&mut self.scratch);
            self.discard_before = 0;
            self.fill_skipped_packets(packet_frame, out);
            if self.emit(skip, out) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Passes the decoded frames in `scratch` from frame `skip` on to `out`, holding back those
    /// past the declared length (see `overrun`). Returns whether `out` grew.
    fn emit(&mut self, skip: usize, out: &mut Vec<f32>) -> bool {
        let channels = self.info.channels;
        let block = &self.scratch[skip * channels..];
        let Some(declared) = self.num_frames.filter(|_| self.trust_declared_end) else {
            out.extend_from_slice(block);
            self.position_frames += (block.len() / channels) as u64;
            return true;
        };
        let room = declared.saturating_sub(self.position_frames) as usize;
        let (now, past_end) = block.split_at((room * channels).min(block.len()));
        out.extend_from_slice(now);
        self.position_frames += (now.len() / channels) as u64;
        self.overrun.extend_from_slice(past_end);
        let overrun_frames = self.overrun.len() / channels;
        if overrun_frames as f64 > OVERRUN_LIMIT_SECS * f64::from(self.info.sample_rate_hz) {
            self.warnings.push(format!(
                "{}: the audio runs past the {:.3} s its header declares; decoding on to the end",
                self.path.display(),
                declared as f64 / f64::from(self.info.sample_rate_hz)
            ));
            self.trust_declared_end = false;
            out.append(&mut self.overrun);
            self.position_frames += overrun_frames as u64;
            return true;
        }
        !now.is_empty()
    }

    /// Formats without a well-defined end (MP3) just stop when cut short: compare the end
    /// with the length the header declared.
    fn check_declared_length(&mut self) {
        let rate = u64::from(self.info.sample_rate_hz);
        // Decoders may differ from the header by a packet or so; a tenth of a second is a cut.
        if let Some(declared) = self
            .num_frames
            .filter(|&n| self.position_frames + rate / 10 < n)
        {
            self.warnings.push(format!(
                "{}: audio ends at {:.3} s but the header declares {:.3} s (damaged or \
                 truncated file?)",
                self.path.display(),
                self.position_frames as f64 / rate as f64,
                declared as f64 / rate as f64
            ));
        }
    }

    /// Trimming at the end of a packet is only right at the end of the stream (encoder
    /// padding). Some Ogg files (e.g. ffmpeg's Vorbis) carry page granules that run ahead of
    /// their packets now and then, and symphonia turns each into a mid-stream trim that drops
    /// real audio; keep those frames.
    fn keep_end_trim_at_the_end(&self, packet: &mut symphonia::core::packet::Packet) {
        let (Some(num_frames), Some(time_base)) = (self.num_frames, self.time_base) else {
            return;
        };
        if packet.trim_end.is_zero() {
            return;
        }
        let end_ts = packet.pts.get() + packet.block_dur().get() as i64;
        let end_frame = scale(
            i128::from(end_ts - self.origin_ts),
            time_base,
            self.info.sample_rate_hz,
        );
        if end_frame < i128::from(num_frames) {
            packet.dur = packet.dur.saturating_add(packet.trim_end);
            packet.trim_end = symphonia::core::units::Duration::ZERO;
        }
    }

    /// Whether a packet lies wholly before the position a seek asked for.
    fn in_preroll(&self, packet_frame: Option<i64>, duration: u64) -> bool {
        let end = packet_frame.map(|first| first + self.ts_duration_to_frames(duration));
        self.discard_before > 0 && end.is_some_and(|end| end <= self.discard_before as i64)
    }

    /// After packets were skipped, silence stands in for them, so that what follows keeps its
    /// place in time (`first_frame`: the timeline position of the block about to be emitted).
    fn fill_skipped_packets(&mut self, first_frame: Option<i64>, out: &mut Vec<f32>) {
        if !std::mem::take(&mut self.gap_pending) {
            return;
        }
        let Some(first) = first_frame.and_then(|first| u64::try_from(first).ok()) else {
            return;
        };
        let limit = u64::from(self.info.sample_rate_hz) * MAX_GAP_FILL_SECS;
        let gap = first.saturating_sub(self.position_frames).min(limit);
        out.resize(out.len() + gap as usize * self.info.channels, 0.0);
        self.position_frames += gap;
    }

    fn note_bad_packet(&mut self, error: &SymphoniaError) {
        self.gap_pending = true;
        self.bad_packets += 1;
        let message = format!(
            "{}: skipped {} packet(s) that failed to decode (last: {error})",
            self.path.display(),
            self.bad_packets
        );
        match self.bad_packet_warning {
            Some(index) => self.warnings[index] = message,
            None => {
                self.bad_packet_warning = Some(self.warnings.len());
                self.warnings.push(message);
            }
        }
    }

    /// Timeline frame of a timestamp; `None` without a timebase.
    fn ts_to_frames(&self, ts: i64) -> Option<i64> {
        let time_base = self.time_base?;
        let ticks = i128::from(ts - self.origin_ts);
        Some(scale(ticks, time_base, self.info.sample_rate_hz) as i64)
    }

    fn ts_duration_to_frames(&self, ticks: u64) -> i64 {
        self.time_base.map_or(0, |time_base| {
            scale(i128::from(ticks), time_base, self.info.sample_rate_hz) as i64
        })
    }

    /// Timestamp of a timeline frame; `None` without a timebase.
    fn frames_to_ts(&self, frames: u64) -> Option<i64> {
        let time_base = self.time_base?;
        // ts = frames / rate / (numer / denom), rounded down so an accurate seek lands at or
        // before the frame.
        let numer = i128::from(time_base.numer.get());
        let denom = i128::from(time_base.denom.get());
        let ticks = i128::from(frames) * denom / (numer * i128::from(self.info.sample_rate_hz));
        i64::try_from(ticks)
            .ok()
            .map(|ticks| ticks + self.origin_ts)
    }
}

/// `ticks · numer / denom · rate`, rounded to the nearest frame.
fn scale(ticks: i128, time_base: TimeBase, rate_hz: u32) -> i128 {
    let numer = i128::from(time_base.numer.get()) * i128::from(rate_hz);
    let denom = i128::from(time_base.denom.get());
    (ticks * numer * 2 + denom).div_euclid(denom * 2)
}

/// The playable frames of an MPEG audio stream, counted from its packets, with `reader` left
/// at the start again; `None` for a stream of fewer than two packets.
///
/// The header's length is not to be trusted: without a Xing header it is estimated from the
/// first frame's bitrate (off by a frame or more for CBR, by minutes for VBR), and a Xing count
/// goes stale when a file is cut. symphonia trims packets at that estimate, while ffmpeg and
/// libsndfile decode every frame, less LAME's encoder delay and padding when the header gives
/// them. Demuxing reads only the frames, which is cheap next to decoding them.
fn count_mpeg_frames(
    reader: &mut dyn FormatReader,
    track_id: u32,
    delay: u32,
    padding: u32,
) -> Result<Option<u64>, SymphoniaError> {
    // Timestamps count frames from the first audible one (the delay's are negative), and
    // each packet's pts is the previous one's plus its frame's length, fixed within a stream.
    let (mut last_pts, mut frame_len) = (None::<i64>, None::<i64>);
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // Damage ends the count where it will end the decode.
            Err(SymphoniaError::IoError(_) | SymphoniaError::DecodeError(_)) => break,
            Err(error) => return Err(error),
        };
        if packet.track_id != track_id {
            continue;
        }
        let pts = packet.pts.get();
        if let Some(last) = last_pts {
            frame_len = Some(pts - last);
        }
        last_pts = Some(pts);
    }
    let start = Timestamp::new(-i64::from(delay));
    reader.seek(
        SeekMode::Accurate,
        SeekTo::Timestamp {
            ts: start,
            track_id,
        },
    )?;
    let end = last_pts.zip(frame_len).map(|(pts, len)| pts + len);
    Ok(end.map(|end| u64::try_from(end - i64::from(padding)).unwrap_or(0)))
}

fn unseekable() -> symphonia::core::errors::SeekErrorKind {
    symphonia::core::errors::SeekErrorKind::Unseekable
}

/// Finds the container reader for `source`, with the file's extension as a hint.
fn probe(
    path: &Path,
    source: MediaSourceStream<'static>,
) -> Result<Box<dyn FormatReader>, SymphoniaError> {
    let mut hint = Hint::new();
    if let Some(extension) = path.extension().and_then(|e| e.to_str()) {
        hint.with_extension(extension);
    }
    symphonia::default::get_probe().probe(
        &hint,
        source,
        FormatOptions::default(),
        MetadataOptions::default(),
    )
}

/// Reads the pre-skip (48 kHz frames) from the OpusHead in `params.extra_data` and zeroes it
/// there, so the libopus adapter does not trim it a second time.
fn take_opus_pre_skip(params: &mut AudioCodecParameters) -> u64 {
    // OpusHead: "OpusHead", version (1 byte), channels (1 byte), pre-skip (u16 LE) at byte 10.
    const PRE_SKIP: std::ops::Range<usize> = 10..12;
    match params.extra_data.as_deref_mut() {
        Some(head) if head.len() >= PRE_SKIP.end && head.starts_with(b"OpusHead") => {
            let pre_skip = u16::from_le_bytes([head[PRE_SKIP.start], head[PRE_SKIP.start + 1]]);
            head[PRE_SKIP].fill(0);
            u64::from(pre_skip)
        }
        _ => 0,
    }
}

/// A readable name for a codec the registry cannot decode.
fn codec_name(codec: AudioCodecId) -> String {
    let known = [
        (CODEC_ID_AC3, "AC-3"),
        (CODEC_ID_EAC3, "E-AC-3"),
        (CODEC_ID_DCA, "DTS"),
        (CODEC_ID_TRUEHD, "Dolby TrueHD"),
        (CODEC_ID_WMA, "Windows Media Audio"),
        (CODEC_ID_SPEEX, "Speex"),
        (CODEC_ID_MUSEPACK, "Musepack"),
        (CODEC_ID_WAVPACK, "WavPack"),
        (CODEC_ID_MONKEYS_AUDIO, "Monkey's Audio"),
        (CODEC_ID_TTA, "TTA"),
        (CODEC_ID_ATRAC1, "ATRAC1"),
        (CODEC_ID_ATRAC3, "ATRAC3"),
        (CODEC_ID_ATRAC3PLUS, "ATRAC3plus"),
        (CODEC_ID_ATRAC9, "ATRAC9"),
    ];
    known.iter().find(|(id, _)| *id == codec).map_or_else(
        || format!("(symphonia codec id {codec})"),
        |(_, name)| name.to_string(),
    )
}
