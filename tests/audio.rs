//! Decoding, resampling and the analysed excerpt, checked against known signals: the committed
//! fixtures in tests/data/audio (made by make_fixtures.sh from two sines), WAVs generated here
//! with hound, and the librosa reference input tests/data/mel/long75s.wav.

use std::f64::consts::PI;
use std::path::{Path, PathBuf};

use deepcuts::audio::{
    excerpt_start, load_excerpt, load_full, probe_info, take_excerpt, AudioError, AudioStream,
    ANALYSIS_RATE_HZ, EXCERPT_SAMPLES,
};

const RATE: f64 = ANALYSIS_RATE_HZ as f64;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/audio")
        .join(name)
}

/// A committed fixture and what make_fixtures.sh put in it.
struct Fixture {
    file: &'static str,
    container: &'static str,
    codec: &'static str,
    rate_hz: u32,
    channels: usize,
    duration_secs: f64,
    lossless: bool,
}

const FIXTURES: &[Fixture] = &[
    Fixture {
        file: "tone_vorbis.ogg",
        container: "ogg",
        codec: "vorbis",
        rate_hz: 44_100,
        channels: 2,
        duration_secs: 2.5,
        lossless: false,
    },
    Fixture {
        file: "tone_mp3.mp3",
        container: "mp3",
        codec: "mp3",
        rate_hz: 44_100,
        channels: 2,
        duration_secs: 2.5,
        lossless: false,
    },
    Fixture {
        file: "tone_aac.m4a",
        container: "isomp4",
        codec: "aac",
        rate_hz: 44_100,
        channels: 2,
        duration_secs: 2.5,
        lossless: false,
    },
    Fixture {
        file: "tone_opus.opus",
        container: "ogg",
        codec: "opus",
        rate_hz: 48_000,
        channels: 2,
        duration_secs: 2.5,
        lossless: false,
    },
    Fixture {
        file: "tone_flac.flac",
        container: "flac",
        codec: "flac",
        rate_hz: 48_000,
        channels: 1,
        duration_secs: 1.5,
        lossless: true,
    },
    Fixture {
        file: "tone_alac.m4a",
        container: "isomp4",
        codec: "alac",
        rate_hz: 16_000,
        channels: 1,
        duration_secs: 1.0,
        lossless: true,
    },
    Fixture {
        file: "tone_s16.wav",
        container: "wave",
        codec: "pcm_s16le",
        rate_hz: 22_050,
        channels: 1,
        duration_secs: 1.0,
        lossless: true,
    },
    Fixture {
        file: "tone_f32.wav",
        container: "wave",
        codec: "pcm_f32le",
        rate_hz: 8_000,
        channels: 1,
        duration_secs: 1.2,
        lossless: true,
    },
    Fixture {
        file: "tone_s16be.aiff",
        container: "aiff",
        codec: "pcm_s16be",
        rate_hz: 11_025,
        channels: 1,
        duration_secs: 1.5,
        lossless: true,
    },
];

impl Fixture {
    /// Amplitude of each sine in the mono mix: stereo files hold one sine per channel, so
    /// averaging halves each.
    fn sine_amplitude(&self) -> f64 {
        if self.channels == 2 {
            0.125
        } else {
            0.25
        }
    }

    /// The fixture's signal, mono, at time `secs`.
    fn expected(&self, secs: f64) -> f64 {
        self.sine_amplitude() * ((2.0 * PI * 440.0 * secs).sin() + (2.0 * PI * 1000.0 * secs).sin())
    }
}

/// Amplitude of the sinusoid at `frequency_hz` in `samples` (22050 Hz), from a Hann-windowed
/// DFT evaluated at that one frequency.
fn amplitude_at(samples: &[f32], frequency_hz: f64) -> f64 {
    let n = samples.len();
    let (mut re, mut im, mut window_sum) = (0.0, 0.0, 0.0);
    for (i, &x) in samples.iter().enumerate() {
        let window = 0.5 - 0.5 * (2.0 * PI * i as f64 / n as f64).cos();
        let phase = 2.0 * PI * frequency_hz * i as f64 / RATE;
        re += f64::from(x) * window * phase.cos();
        im -= f64::from(x) * window * phase.sin();
        window_sum += window;
    }
    2.0 * (re * re + im * im).sqrt() / window_sum
}

fn rms(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, count) = values.fold((0.0, 0usize), |(s, c), v| (s + v * v, c + 1));
    (sum / count.max(1) as f64).sqrt()
}

/// A deterministic xorshift stream in [-0.5, 0.5).
fn noise(len: usize, mut state: u64) -> Vec<f32> {
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn write_wav_f32(path: &Path, rate_hz: u32, channels: u16, interleaved: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate_hz,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create test wav");
    for &x in interleaved {
        writer.write_sample(x).expect("write test wav");
    }
    writer.finalize().expect("finish test wav");
}

fn write_wav_i16(path: &Path, rate_hz: u32, channels: u16, interleaved: &[f32]) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate_hz,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).expect("create test wav");
    for &x in interleaved {
        writer
            .write_sample((x * 32767.0).round() as i16)
            .expect("write test wav");
    }
    writer.finalize().expect("finish test wav");
}

fn sine(frequency_hz: f64, rate_hz: u32, frames: usize, amplitude: f64) -> Vec<f32> {
    (0..frames)
        .map(|i| {
            (amplitude * (2.0 * PI * frequency_hz * i as f64 / f64::from(rate_hz)).sin()) as f32
        })
        .collect()
}

fn interleave(left: &[f32], right: &[f32]) -> Vec<f32> {
    left.iter().zip(right).flat_map(|(&l, &r)| [l, r]).collect()
}

/// All of a stream, interleaved at its native rate.
fn read_native(stream: &mut AudioStream) -> Vec<f32> {
    let mut all = Vec::new();
    while stream.read_block(&mut all).expect("decodes") {}
    all
}

/// Exact equality of two sample runs, reporting where they first differ rather than printing
/// them whole.
#[track_caller]
fn assert_same(actual: &[f32], expected: &[f32], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths differ");
    let differing = actual.iter().zip(expected).filter(|(a, b)| a != b).count();
    if let Some(first) = actual.iter().zip(expected).position(|(a, b)| a != b) {
        panic!(
            "{what}: {differing} samples differ, the first at {first} ({} vs {})",
            actual[first], expected[first]
        );
    }
}

fn assert_names_file(error: &AudioError, path: &Path) {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .expect("test paths have names");
    assert!(
        error.to_string().contains(name),
        "error does not name the file: {error}"
    );
}

// ---- every format ------------------------------------------------------------------------

#[test]
fn every_format_reports_its_rate_channels_and_duration() {
    for f in FIXTURES {
        let info = probe_info(&fixture(f.file)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(info.container, f.container, "{}", f.file);
        assert_eq!(info.codec, f.codec, "{}", f.file);
        assert_eq!(info.sample_rate_hz, f.rate_hz, "{}", f.file);
        assert_eq!(info.channels, f.channels, "{}", f.file);
        let duration = info
            .duration_secs
            .unwrap_or_else(|| panic!("{}: no duration", f.file));
        // AAC in MP4: without the encoder's priming, with the last packet decoded whole as
        // ffmpeg does (up to 1024 frames of padding; the reference tests check it exactly).
        let padding_secs = if f.codec == "aac" {
            1024.0 / f64::from(f.rate_hz)
        } else {
            0.0
        };
        assert!(
            (f.duration_secs - 1e-3..f.duration_secs + padding_secs + 1e-3).contains(&duration),
            "{}: {duration} s",
            f.file
        );
    }
}

#[test]
fn every_format_decodes_to_the_two_sines_at_22050_hz() {
    for f in FIXTURES {
        let decoded = load_full(&fixture(f.file)).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            decoded.warnings.is_empty(),
            "{}: {:?}",
            f.file,
            decoded.warnings
        );
        assert_eq!(decoded.source_rate_hz, f.rate_hz);
        let secs = decoded.samples.len() as f64 / RATE;
        assert!(
            (secs - f.duration_secs).abs() < 0.03,
            "{}: decoded {secs} s",
            f.file
        );

        // Spectrum of the middle 0.8 s: the two sines at their amplitude, nothing elsewhere.
        let middle = decoded.samples.len() / 2;
        let window = &decoded.samples[middle - 8_820..middle + 8_820];
        let amplitude = f.sine_amplitude();
        for frequency in [440.0, 1000.0] {
            let found = amplitude_at(window, frequency);
            assert!(
                (found - amplitude).abs() < 0.1 * amplitude,
                "{}: {frequency} Hz at amplitude {found}, expected {amplitude}",
                f.file
            );
        }
        for frequency in [250.0, 700.0, 1500.0, 2500.0, 3500.0] {
            let found = amplitude_at(window, frequency);
            assert!(
                found < 0.03 * amplitude,
                "{}: {frequency} Hz at {found}",
                f.file
            );
        }
    }
}

#[test]
fn every_format_lines_up_with_the_source_signal_in_time() {
    // Sample i of the decoded audio must be the signal at i / 22050 s: encoder delay removed
    // (MP3's LAME tag, Vorbis's first packet, Opus's pre-skip) and the resampler's delay
    // compensated. A one-sample shift leaves a residual of ~0.04 here.
    for f in FIXTURES {
        let samples = load_full(&fixture(f.file))
            .unwrap_or_else(|e| panic!("{e}"))
            .samples;
        let edge = 2_205; // skip 0.1 s at both ends, where the encoders ramp
        let residual = |lag: usize| {
            rms((edge..samples.len() - edge)
                .map(|i| f64::from(samples[i]) - f.expected((i as f64 - lag as f64) / RATE)))
        };
        let tolerance = if f.lossless {
            1e-3
        } else {
            0.1 * f.sine_amplitude()
        };
        if f.codec == "aac" {
            // ffmpeg's AAC encoder at 48 kb/s loses more (ffmpeg's own decoder shows the same
            // residual), so this check stands on the best lag alone.
            let tolerance = 0.3 * f.sine_amplitude();
            // The MP4 edit list drops the 1024 priming frames: the signal is in place (a
            // one-sample shift costs ~0.04 here, far less than this encoder's noise, so the
            // best lag is asserted too).
            let (lag, best) = (0..=1_056)
                .map(|lag| (lag, residual(lag)))
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .expect("non-empty range");
            assert_eq!(lag, 0, "{}: best fit at lag {lag}", f.file);
            assert!(best < tolerance, "{}: residual {best} at lag {lag}", f.file);
        } else {
            let found = residual(0);
            assert!(found < tolerance, "{}: residual {found} at lag 0", f.file);
        }
    }
}

#[test]
fn every_format_seeks_to_the_exact_frame() {
    // The block after `seek_secs(t)` must be the full decode's frames from round(t·rate) on.
    for f in FIXTURES {
        let path = fixture(f.file);
        let mut stream = AudioStream::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let full = read_native(&mut stream);
        for target_secs in [0.37, 0.71] {
            let mut stream = AudioStream::open(&path).unwrap_or_else(|e| panic!("{e}"));
            let position = stream
                .seek_secs(target_secs)
                .unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                position,
                (target_secs * f64::from(f.rate_hz)).round() as u64
            );
            let mut after = Vec::new();
            while after.len() < f.rate_hz as usize / 4 * f.channels {
                assert!(
                    stream.read_block(&mut after).expect("decodes"),
                    "{}: ended",
                    f.file
                );
            }
            let start = position as usize * f.channels;
            let expected = &full[start..start + after.len()];
            if f.lossless {
                assert_same(&after, expected, &format!("{} at {target_secs} s", f.file));
            } else {
                let difference = rms(after.iter().zip(expected).map(|(a, b)| f64::from(a - b)));
                // A misplaced seek would differ by about the signal's rms (0.125).
                assert!(
                    difference < 0.01,
                    "{} at {target_secs} s: rms difference {difference}",
                    f.file
                );
            }
        }
    }
}

#[test]
fn seeking_past_the_end_is_an_error_and_leaves_the_stream_usable() {
    for f in FIXTURES {
        let path = fixture(f.file);
        let mut stream = AudioStream::open(&path).unwrap_or_else(|e| panic!("{e}"));
        let error = stream.seek_secs(100.0).expect_err("past the end");
        assert!(matches!(error, AudioError::Seek { .. }), "{error}");
        assert_names_file(&error, &path);
        let mut block = Vec::new();
        assert!(
            stream.read_block(&mut block).expect("still decodes"),
            "{}",
            f.file
        );
    }
}

#[test]
fn a_stream_can_move_to_a_decoding_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<AudioStream>();
}

#[test]
fn short_files_give_a_padded_excerpt_equal_to_the_full_decode() {
    for f in FIXTURES {
        let path = fixture(f.file);
        let full = load_full(&path).unwrap_or_else(|e| panic!("{e}"));
        let excerpt = load_excerpt(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(excerpt.samples.len(), EXCERPT_SAMPLES);
        assert_eq!(
            &excerpt.samples[..full.samples.len()],
            &full.samples[..],
            "{}",
            f.file
        );
        assert!(excerpt.samples[full.samples.len()..]
            .iter()
            .all(|&x| x == 0.0));
    }
}

// ---- resampling and channels --------------------------------------------------------------

#[test]
fn analysis_rate_audio_passes_through_bit_exactly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("noise22050.wav");
    let samples = noise(3 * 22_050 + 17, 5);
    write_wav_f32(&path, 22_050, 1, &samples);
    assert_same(
        &load_full(&path).expect("decodes").samples,
        &samples,
        "22050 Hz noise",
    );
}

#[test]
fn an_8_khz_sine_keeps_its_frequency_after_resampling() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("sine8k.wav");
    write_wav_i16(&path, 8_000, 1, &sine(1_000.0, 8_000, 16_000, 0.5));
    let decoded = load_full(&path).expect("decodes");
    assert_eq!(decoded.source_rate_hz, 8_000);
    assert_eq!(decoded.samples.len(), 44_100);
    // 1000 Hz over the 1.8 s between 0.1 s and 1.9 s crosses zero 3600 times.
    let middle = &decoded.samples[2_205..44_100 - 2_205];
    let crossings = middle
        .windows(2)
        .filter(|w| (w[0] < 0.0) != (w[1] < 0.0))
        .count();
    assert!(
        (3_599..=3_601).contains(&crossings),
        "{crossings} zero crossings"
    );
    assert!((amplitude_at(middle, 1_000.0) - 0.5).abs() < 0.01);
    assert!(amplitude_at(middle, 2_000.0) < 0.005);
}

#[test]
fn stereo_channels_are_averaged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let left = sine(500.0, 48_000, 96_000, 0.5);
    let inverted: Vec<f32> = left.iter().map(|x| -x).collect();
    let silent = vec![0.0; left.len()];

    // Opposite channels cancel exactly.
    let path = dir.path().join("cancel48k.wav");
    write_wav_f32(&path, 48_000, 2, &interleave(&left, &inverted));
    let decoded = load_full(&path).expect("decodes");
    assert_eq!(decoded.samples.len(), 44_100);
    assert!(decoded.samples.iter().all(|&x| x == 0.0));

    // One silent channel halves the amplitude.
    let path = dir.path().join("half48k.wav");
    write_wav_f32(&path, 48_000, 2, &interleave(&left, &silent));
    let decoded = load_full(&path).expect("decodes");
    let found = amplitude_at(&decoded.samples[2_205..41_895], 500.0);
    assert!((found - 0.25).abs() < 0.005, "amplitude {found}");
}

// ---- the excerpt of long files ------------------------------------------------------------

#[test]
fn the_librosa_reference_long_file_gives_its_middle_30_s() {
    // tests/data/mel/long75s.wav: 75 s at 22050 Hz, whose excerpt starts at sample 496125.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/mel/long75s.wav");
    let mut reader = hound::WavReader::open(&path).expect("reference wav");
    let samples: Vec<f32> = reader
        .samples::<f32>()
        .collect::<Result<_, _>>()
        .expect("reads");
    assert_eq!(excerpt_start(samples.len()), 496_125);
    let excerpt = load_excerpt(&path).expect("decodes");
    assert!(excerpt.warnings.is_empty(), "{:?}", excerpt.warnings);
    assert_eq!(
        excerpt.samples,
        &samples[496_125..496_125 + EXCERPT_SAMPLES]
    );
}

#[test]
fn the_seeking_excerpt_equals_the_excerpt_of_a_full_decode() {
    // Resampled sources too: the seek starts on a resampler block boundary, so the samples are
    // the very ones a full decode produces.
    let dir = tempfile::tempdir().expect("temp dir");
    let cases = [
        ("long44k_s16_stereo.wav", 44_100, 2, 70.3, false),
        ("long48k_f32_stereo.wav", 48_000, 2, 41.7, true),
        ("long22k_f32_mono.wav", 22_050, 1, 33.0, true),
    ];
    for (name, rate, channels, secs, float) in cases {
        let path = dir.path().join(name);
        let frames = (secs * f64::from(rate)) as usize;
        let signal: Vec<f32> = noise(frames * channels, 9)
            .iter()
            .zip(sine(330.0, rate, frames * channels, 0.4))
            .map(|(n, s)| 0.3 * n + s)
            .collect();
        if float {
            write_wav_f32(&path, rate, channels as u16, &signal);
        } else {
            write_wav_i16(&path, rate, channels as u16, &signal);
        }
        let full = load_full(&path).expect("decodes");
        let excerpt = load_excerpt(&path).expect("decodes");
        assert!(
            excerpt.warnings.is_empty(),
            "{name}: {:?}",
            excerpt.warnings
        );
        assert_eq!(excerpt.samples.len(), EXCERPT_SAMPLES);
        assert!(
            excerpt_start(full.samples.len()) > 0,
            "{name} is long enough to seek"
        );
        assert_same(&excerpt.samples, &take_excerpt(&full.samples), name);
    }
}

#[test]
fn a_long_lossy_file_gives_the_middle_of_its_chirp() {
    // chirp32_opus.opus (make_fixtures.sh): 32 s of 0.5·sin(2π(200 t + 28.125 t²)).
    let path = fixture("chirp32_opus.opus");
    let excerpt = load_excerpt(&path).expect("decodes");
    assert!(excerpt.warnings.is_empty(), "{:?}", excerpt.warnings);
    let full = load_full(&path).expect("decodes");
    assert_eq!(full.samples.len(), 32 * 22_050);
    let start = excerpt_start(full.samples.len());
    assert_eq!(start, 22_050);

    // The seek lands where a full decode puts the excerpt. libopus restarts there and its
    // state never quite matches a decoder that ran from the start (at 6 kb/s the two differ
    // by ~1e-3 rms throughout, -50 dB under the signal); a misplaced excerpt would differ by
    // about the signal's own rms, 0.35.
    let reference = take_excerpt(&full.samples);
    let differences = excerpt
        .samples
        .iter()
        .zip(&reference)
        .map(|(a, b)| f64::from(a - b));
    let difference = rms(differences);
    assert!(difference < 5e-3, "rms difference {difference}");

    // And the excerpt is the chirp from 1 s on: sample i is the signal at (start + i) / 22050.
    // At 6 kb/s Opus codes this with SILK at 8 kHz, which leaves a fraction of a sample of
    // phase error (ffmpeg's decoder shows it too), so the best fit may sit one sample off;
    // a misplaced excerpt fits nowhere near (residual ~0.5, the signal's rms being 0.35).
    let residual = |lag: i64| {
        rms(excerpt.samples.iter().enumerate().map(|(i, &x)| {
            let t = (start as i64 + i as i64 - lag) as f64 / RATE;
            f64::from(x) - 0.5 * (2.0 * PI * (200.0 * t + 28.125 * t * t)).sin()
        }))
    };
    let (lag, best) = (-3..=3)
        .map(|lag| (lag, residual(lag)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("non-empty range");
    assert!(
        lag.abs() <= 1 && best < 0.2,
        "best fit at lag {lag}: residual {best}"
    );
}

// ---- against the reference decoders ----------------------------------------------------------

/// One file of tests/data/audio/reference (made by its make.sh) and what ffmpeg decoded from it.
struct ReferenceDecode {
    file: String,
    rate_hz: u32,
    /// ffmpeg's decoded sample count (mono files).
    samples: u64,
    /// ffmpeg's first decoded samples: where the reference decoder puts sample 0.
    head: Vec<f32>,
}

fn reference_decodes() -> Vec<ReferenceDecode> {
    let dir = fixture("reference");
    let table = std::fs::read_to_string(dir.join("reference.tsv")).expect("reference.tsv");
    table
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            let file = fields[0].to_owned();
            let stem = file.rsplit_once('.').expect("an extension").0;
            let head = std::fs::read(dir.join(format!("{stem}.head.f32")))
                .expect("head reference")
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            ReferenceDecode {
                rate_hz: fields[1].parse().expect("rate"),
                samples: fields[2].parse().expect("sample count"),
                file,
                head,
            }
        })
        .collect()
}

#[test]
fn mp3_and_mp4_decode_to_the_reference_decoders_length_and_start() {
    // Every MPEG version with and without LAME's gapless header, and AAC and ALAC in MP4:
    // the same number of samples as ffmpeg (and libsndfile, where it reads the file) and
    // sample 0 at the same place, so the middle excerpt is the one librosa cuts.
    let references = reference_decodes();
    assert!(references.len() >= 20, "the whole reference set is listed");
    let mut wrong = Vec::new();
    for reference in &references {
        let path = fixture("reference").join(&reference.file);
        let mut stream = AudioStream::open(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            stream.sample_rate_hz(),
            reference.rate_hz,
            "{}",
            reference.file
        );
        assert_eq!(stream.channels(), 1, "{}", reference.file);
        let declared = stream
            .info()
            .duration_secs
            .map(|secs| (secs * f64::from(reference.rate_hz)).round() as u64);
        let samples = read_native(&mut stream);
        assert!(stream.warnings().is_empty(), "{:?}", stream.warnings());
        // The shift that best lines our start up with ffmpeg's.
        let head = &reference.head;
        let residual = |lag: i64| {
            rms((0..head.len() as i64).filter_map(|i| {
                let ours = samples.get(usize::try_from(i + lag).ok()?)?;
                Some(f64::from(ours - head[i as usize]))
            }))
        };
        let (lag, best) = (-1_200..=1_200)
            .map(|lag| (lag, residual(lag)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .expect("non-empty range");
        // Decoders of the same bitstream agree to float rounding (AAC's to 1e-3); a one-sample
        // shift of this chirp leaves a residual above 0.01.
        let agrees = samples.len() as u64 == reference.samples
            && declared == Some(reference.samples)
            && lag == 0
            && best < 2e-3;
        if !agrees {
            wrong.push(format!(
                "{}: {} samples (declared {declared:?}), ffmpeg {}; best lag {lag} (residual \
                 {best:.2e})",
                reference.file,
                samples.len(),
                reference.samples
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_vbr_mp3_without_a_header_gives_the_excerpt_of_its_decoded_length() {
    // The first frame's bitrate suggests 3.5 s; ffmpeg decodes 34 s. The seeking excerpt must
    // find the middle of what decodes.
    let reference = reference_decodes()
        .into_iter()
        .find(|r| r.file == "lame_16000_vbr_noxing_34s.mp3")
        .expect("listed");
    let path = fixture("reference").join(&reference.file);
    let full = load_full(&path).expect("decodes");
    let expected_len = (reference.samples * 22_050).div_ceil(u64::from(reference.rate_hz));
    assert_eq!(full.samples.len() as u64, expected_len);
    let excerpt = load_excerpt(&path).expect("decodes");
    assert!(excerpt.warnings.is_empty(), "{:?}", excerpt.warnings);
    assert_same(
        &excerpt.samples,
        &take_excerpt(&full.samples),
        &reference.file,
    );
}

#[test]
fn a_file_shorter_than_its_header_says_gives_the_middle_of_what_decodes() {
    // A WAV cut at 34 s whose header still declares 40 s: the excerpt the header's length
    // points to (from 5 s) runs past the end, so the middle is found in what decodes (from 2 s).
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("cut40.wav");
    let frames = 40 * 22_050;
    let signal: Vec<f32> = noise(frames, 3)
        .iter()
        .zip(sine(330.0, 22_050, frames, 0.4))
        .map(|(n, s)| 0.3 * n + s)
        .collect();
    write_wav_i16(&path, 22_050, 1, &signal);
    let bytes = std::fs::read(&path).expect("written");
    let kept = 44 + 2 * 34 * 22_050;
    std::fs::write(&path, &bytes[..kept]).expect("cut");

    let full = load_full(&path).expect("decodes");
    assert_eq!(full.samples.len(), 34 * 22_050);
    let excerpt = load_excerpt(&path).expect("decodes");
    assert_same(&excerpt.samples, &take_excerpt(&full.samples), "cut40.wav");
    assert!(
        excerpt.warnings.iter().any(|w| w.contains("cut40.wav")),
        "{:?}",
        excerpt.warnings
    );
}

// ---- bad input ----------------------------------------------------------------------------

#[test]
fn a_zero_byte_file_is_reported_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nothing.wav");
    std::fs::write(&path, b"").expect("write");
    for error in [load_excerpt(&path).err(), probe_info(&path).err()] {
        let error = error.expect("a zero-byte file is an error");
        assert!(matches!(error, AudioError::Empty { .. }), "{error}");
        assert_names_file(&error, &path);
    }
}

#[test]
fn a_missing_file_cannot_be_opened() {
    let path = Path::new("/nonexistent/deepcuts/missing.flac");
    let error = load_full(path).expect_err("missing");
    assert!(matches!(error, AudioError::Open { .. }), "{error}");
    assert_names_file(&error, path);
}

#[test]
fn a_truncated_ogg_yields_what_decoded_before_the_damage_with_a_warning() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = std::fs::read(fixture("tone_vorbis.ogg")).expect("fixture");
    let path = dir.path().join("cut.ogg");
    std::fs::write(&path, &whole[..whole.len() * 4 / 5]).expect("write");

    let full = load_full(&fixture("tone_vorbis.ogg"))
        .expect("decodes")
        .samples;
    let cut = load_full(&path).expect("a truncated file still decodes");
    assert!(!cut.warnings.is_empty());
    assert!(
        cut.warnings.iter().all(|w| w.contains("cut.ogg")),
        "{:?}",
        cut.warnings
    );
    let secs = cut.samples.len() as f64 / RATE;
    assert!(secs > 0.8 && secs < 2.0, "kept {secs} s");
    // What decoded is the start of the track (the last resampler block may differ: the
    // filter saw the end of the data there).
    let kept = cut.samples.len() - 1_024;
    assert_same(
        &cut.samples[..kept],
        &full[..kept],
        "the part before the cut",
    );

    // The damaged file has lost its length too: the excerpt falls back to a full decode.
    let excerpt = load_excerpt(&path).expect("decodes");
    assert_eq!(excerpt.samples.len(), EXCERPT_SAMPLES);
    assert!(excerpt
        .warnings
        .iter()
        .any(|w| w.contains("decoded the whole file")));
}

#[test]
fn a_truncated_mp3_decodes_with_a_warning() {
    // MP3 has no end marker: the cut shows only against the length the header declares.
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = std::fs::read(fixture("tone_mp3.mp3")).expect("fixture");
    let path = dir.path().join("cut.mp3");
    std::fs::write(&path, &whole[..whole.len() * 3 / 5]).expect("write");
    let cut = load_full(&path).expect("a truncated file still decodes");
    let secs = cut.samples.len() as f64 / RATE;
    assert!(secs > 1.0 && secs < 2.0, "kept {secs} s");
    assert!(
        cut.warnings
            .iter()
            .any(|w| w.contains("cut.mp3") && w.contains("declares")),
        "{:?}",
        cut.warnings
    );
}

#[test]
fn a_packet_that_fails_to_decode_is_skipped_reported_and_replaced_by_silence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut bytes = std::fs::read(fixture("tone_aac.m4a")).expect("fixture");
    let middle = bytes.len() / 2;
    for byte in &mut bytes[middle..middle + 40] {
        *byte ^= 0x5a;
    }
    let path = dir.path().join("damaged.m4a");
    std::fs::write(&path, &bytes).expect("write");

    let intact = load_full(&fixture("tone_aac.m4a"))
        .expect("decodes")
        .samples;
    let damaged = load_full(&path).expect("damage in one packet is not fatal");
    assert!(
        damaged
            .warnings
            .iter()
            .any(|w| w.contains("damaged.m4a") && w.contains("skipped 1 packet")),
        "{:?}",
        damaged.warnings
    );
    // The lost packet's time is kept (silence), so everything after it stays in place.
    assert_eq!(damaged.samples.len(), intact.len());
    let quarter = intact.len() / 4;
    assert_same(
        &damaged.samples[..quarter],
        &intact[..quarter],
        "before the damage",
    );
    // (After it the decoder's state, e.g. its noise-substitution generator, may differ in
    // the last digits; most in the encoder's padding after the 2.5 s of signal, which the
    // last packet, decoded whole as ffmpeg does, carries. That is left out.)
    let signal_end = (2.5 * RATE) as usize;
    let after = damaged.samples[3 * quarter..signal_end]
        .iter()
        .zip(&intact[3 * quarter..signal_end]);
    let (at, largest) =
        after
            .map(|(a, b)| (a - b).abs())
            .enumerate()
            .fold(
                (0, 0.0f32),
                |best, (i, d)| if d > best.1 { (i, d) } else { best },
            );
    assert!(
        largest < 1e-3,
        "after the damage: difference {largest} at {} of {}",
        3 * quarter + at,
        intact.len()
    );
}

#[test]
fn an_ogg_cut_before_its_first_audio_is_reported_truncated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let whole = std::fs::read(fixture("tone_vorbis.ogg")).expect("fixture");
    let path = dir.path().join("stub.ogg");
    std::fs::write(&path, &whole[..whole.len() * 2 / 5]).expect("write");
    let error = load_full(&path).expect_err("no audio to decode");
    assert!(matches!(error, AudioError::Truncated { .. }), "{error}");
    assert_names_file(&error, &path);
}

#[test]
fn random_bytes_named_mp3_are_not_recognised() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("noise.mp3");
    let bytes: Vec<u8> = noise(40_000, 77)
        .iter()
        .map(|x| ((x + 0.5) * 256.0) as u8)
        .collect();
    std::fs::write(&path, bytes).expect("write");
    let error = load_excerpt(&path).expect_err("random bytes are not audio");
    assert!(
        matches!(error, AudioError::UnrecognisedFormat { .. }),
        "{error}"
    );
    assert_eq!(
        error.to_string(),
        format!("{}: not a recognised audio format", path.display())
    );
}

#[test]
fn text_and_images_are_not_recognised() {
    let dir = tempfile::tempdir().expect("temp dir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "artist\ttitle\nsomeone\tsomething\n").expect("write");
    // A PNG signature and the start of an IHDR chunk.
    let png = dir.path().join("cover.png");
    let mut image =
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x02".to_vec();
    image.resize(300, 0);
    std::fs::write(&png, image).expect("write");
    for path in [text, png] {
        let error = load_full(&path).expect_err("not audio");
        assert!(
            matches!(error, AudioError::UnrecognisedFormat { .. }),
            "{error}"
        );
        assert_names_file(&error, &path);
    }
}

#[test]
fn an_unsupported_codec_is_named() {
    // Matroska that symphonia reads, holding AC-3 that it cannot decode.
    let path = fixture("tone_ac3.mka");
    let error = load_excerpt(&path).expect_err("AC-3 is not supported");
    match &error {
        AudioError::UnsupportedCodec { codec, .. } => assert_eq!(codec, "AC-3"),
        other => panic!("wrong error: {other}"),
    }
    assert_names_file(&error, &path);
    assert!(
        error.to_string().ends_with("unsupported codec AC-3"),
        "{error}"
    );
}

#[test]
fn a_very_short_clip_is_zero_padded() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("blip.wav");
    write_wav_f32(&path, 44_100, 1, &sine(1_000.0, 44_100, 8_820, 0.5));
    let excerpt = load_excerpt(&path).expect("decodes");
    assert_eq!(excerpt.samples.len(), EXCERPT_SAMPLES);
    assert!((amplitude_at(&excerpt.samples[441..3_969], 1_000.0) - 0.5).abs() < 0.01);
    assert!(excerpt.samples[4_410..].iter().all(|&x| x == 0.0));
}

#[test]
fn a_silent_file_decodes_to_silence() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("silence.wav");
    write_wav_i16(&path, 44_100, 2, &vec![0.0; 2 * 44_100 * 3]);
    let excerpt = load_excerpt(&path).expect("silence is valid audio");
    assert!(excerpt.warnings.is_empty());
    assert!(excerpt.samples.iter().all(|&x| x == 0.0));
}

#[test]
fn a_wav_with_a_header_but_no_samples_is_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("header_only.wav");
    write_wav_i16(&path, 44_100, 1, &[]);
    let error = load_excerpt(&path).expect_err("no samples");
    assert!(matches!(error, AudioError::Empty { .. }), "{error}");
    assert_names_file(&error, &path);
}
