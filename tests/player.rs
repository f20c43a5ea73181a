//! The playback engine, driven through a capturing sink: what comes out is checked sample by
//! sample against the source (or, through the resampler, against the ideal signal).

mod common;

use std::f64::consts::PI;
use std::time::{Duration, Instant};

use deepcuts::audio::decode::AudioError;
use deepcuts::audio::player::{
    CaptureSink, FileSource, MemorySource, OutputFormat, PcmSource, PlaybackState, Player,
    PlayerError,
};

/// Frames per simulated device callback.
const PERIOD: usize = 480;

fn format(sample_rate_hz: u32, channels: usize) -> OutputFormat {
    OutputFormat {
        sample_rate_hz,
        channels,
    }
}

fn player_on(output: OutputFormat) -> (Player, CaptureSink) {
    let sink = CaptureSink::new(output);
    let player = Player::with_output(Box::new(sink.clone())).expect("a capture sink attaches");
    (player, sink)
}

/// Every sample distinct and exactly representable: sample k is k / 2^20.
fn ramp(samples: usize) -> Vec<f32> {
    (0..samples).map(|k| k as f32 / (1 << 20) as f32).collect()
}

fn memory(samples: Vec<f32>, rate_hz: u32, channels: usize) -> Box<dyn PcmSource> {
    Box::new(MemorySource::new(samples, rate_hz, channels).expect("valid audio"))
}

/// Plays device periods until `frames` frames of audio have arrived (waiting out the
/// decoder's start, which yields silence), or the player leaves `Playing`.
fn pull_audio(player: &Player, sink: &CaptureSink, frames: usize) -> usize {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut received = 0;
    while received < frames && player.state() == PlaybackState::Playing {
        let got = sink.pull(PERIOD.min(frames - received));
        received += got;
        if got == 0 {
            assert!(Instant::now() < deadline, "no audio arrived for 10 s");
            std::thread::sleep(Duration::from_millis(1));
        }
    }
    received
}

fn pull_to_end(player: &Player, sink: &CaptureSink) -> usize {
    pull_audio(player, sink, usize::MAX)
}

/// Least-squares fit of `amplitude × sin(2π f (t − lag))` over `signal[i]` at times
/// `start_secs + i / rate`: returns (amplitude, lag in frames at `rate_hz`, residual RMS).
fn fit_sine(signal: &[f32], start_secs: f64, rate_hz: f64, freq_hz: f64) -> (f64, f64, f64) {
    let n = signal.len() as f64;
    let phase = |i: usize| 2.0 * PI * freq_hz * (start_secs + i as f64 / rate_hz);
    let (mut a, mut b) = (0.0, 0.0);
    for (i, &y) in signal.iter().enumerate() {
        a += 2.0 / n * f64::from(y) * phase(i).sin();
        b += 2.0 / n * f64::from(y) * phase(i).cos();
    }
    let residual = signal
        .iter()
        .enumerate()
        .map(|(i, &y)| (f64::from(y) - a * phase(i).sin() - b * phase(i).cos()).powi(2))
        .sum::<f64>();
    let lag_frames = -b.atan2(a) / (2.0 * PI * freq_hz) * rate_hz;
    (a.hypot(b), lag_frames, (residual / n).sqrt())
}

/// Equality of sample sequences that reports the first difference rather than both.
#[track_caller]
fn assert_samples(actual: &[f32], expected: &[f32]) {
    assert_eq!(actual.len(), expected.len(), "sample count");
    if let Some(i) = actual.iter().zip(expected).position(|(a, e)| a != e) {
        panic!("sample {i}: {} instead of {}", actual[i], expected[i]);
    }
}

fn channel(interleaved: &[f32], channels: usize, index: usize) -> Vec<f32> {
    interleaved
        .iter()
        .skip(index)
        .step_by(channels)
        .copied()
        .collect()
}

#[test]
fn plays_the_source_exactly_at_the_same_rate() {
    let (mut player, sink) = player_on(format(48_000, 2));
    let source = ramp(2 * 48_000);
    player
        .load(memory(source.clone(), 48_000, 2))
        .expect("loads");
    assert_eq!(player.state(), PlaybackState::Stopped);
    player.play().expect("plays");
    let frames = pull_to_end(&player, &sink);
    assert_eq!(frames, 48_000);
    assert_samples(&sink.captured(), &source);
    assert_eq!(player.state(), PlaybackState::Ended);
    assert_eq!(player.position_secs(), 1.0);
    assert!(player.take_errors().is_empty());
}

#[test]
fn resamples_a_mono_source_to_a_stereo_output_at_another_rate() {
    let (mut player, sink) = player_on(format(48_000, 2));
    let tone_hz = 1000.0;
    let sine: Vec<f32> = (0..22_050)
        .map(|i| (0.5 * (2.0 * PI * tone_hz * i as f64 / 22_050.0).sin()) as f32)
        .collect();
    player.load(memory(sine, 22_050, 1)).expect("loads");
    player.play().expect("plays");
    // One second at 22.05 kHz is exactly 48 000 frames at 48 kHz.
    assert_eq!(pull_to_end(&player, &sink), 48_000);
    let captured = sink.captured();
    let (left, right) = (channel(&captured, 2, 0), channel(&captured, 2, 1));
    assert_samples(&left, &right);
    // 1 kHz is 2000 zero crossings a second: count them over 0.1..0.9 s.
    let crossings = left[4800..43_200]
        .windows(2)
        .filter(|pair| (pair[0] < 0.0) != (pair[1] < 0.0))
        .count();
    assert!((1599..=1601).contains(&crossings), "{crossings} crossings");
    let (amplitude, lag, residual) = fit_sine(&left[4800..43_200], 0.1, 48_000.0, tone_hz);
    assert!((amplitude - 0.5).abs() < 2e-3, "amplitude {amplitude}");
    assert!(lag.abs() < 0.5, "lag {lag} frames");
    assert!(residual < 1e-3, "residual {residual}");
}

#[test]
fn seeking_continues_from_the_target_and_the_position_follows() {
    let (mut player, sink) = player_on(format(48_000, 2));
    let source = ramp(2 * 48_000);
    player
        .load(memory(source.clone(), 48_000, 2))
        .expect("loads");
    player.play().expect("plays");
    assert_eq!(pull_audio(&player, &sink, 9600), 9600);
    assert_eq!(player.position_secs(), 0.2);
    for target_secs in [0.5, 0.1, 0.75] {
        let before = sink.captured_frames();
        player.seek_secs(target_secs);
        assert_eq!(player.position_secs(), target_secs);
        assert_eq!(player.state(), PlaybackState::Playing);
        assert_eq!(pull_audio(&player, &sink, 4800), 4800);
        let first = (target_secs * 48_000.0) as usize * 2;
        assert_samples(&sink.captured()[before * 2..], &source[first..first + 9600]);
        assert!((player.position_secs() - (target_secs + 0.1)).abs() < 1e-9);
    }
}

#[test]
fn seeking_through_the_resampler_lands_on_the_target() {
    // Four 0.5-s tones at 22.05 kHz mono, played at 44.1 kHz stereo.
    let tones_hz = [300.0, 600.0, 900.0, 1200.0];
    let source: Vec<f32> = (0..4 * 11_025)
        .map(|i| {
            let t = i as f64 / 22_050.0;
            (0.4 * (2.0 * PI * tones_hz[i / 11_025] * t).sin()) as f32
        })
        .collect();
    let (mut player, sink) = player_on(format(44_100, 2));
    player.load(memory(source, 22_050, 1)).expect("loads");
    player.play().expect("plays");
    pull_audio(&player, &sink, 4410);
    // Targets on the source's frame grid (sources seek to whole frames).
    for (target_secs, tone_hz) in [(1.0, 900.0), (0.6, 600.0), (1.6, 1200.0)] {
        let before = sink.captured_frames();
        player.seek_secs(target_secs);
        assert_eq!(pull_audio(&player, &sink, 13_230), 13_230);
        // Past the resampler's transient (a few ms), the audio is the target segment's tone
        // in the phase it has at the target time: sample i is at target + i / 44.1 kHz.
        let left = channel(&sink.captured()[before * 2..], 2, 0);
        let (amplitude, lag, residual) =
            fit_sine(&left[441..13_230], target_secs + 0.01, 44_100.0, tone_hz);
        assert!((amplitude - 0.4).abs() < 4e-3, "amplitude {amplitude}");
        assert!(
            lag.abs() < 0.5,
            "lag {lag} frames after a seek to {target_secs}"
        );
        assert!(
            residual < 2e-3,
            "residual {residual} after a seek to {target_secs}"
        );
        assert!((player.position_secs() - (target_secs + 0.3)).abs() < 1e-9);
    }
}

/// Seeks and pauses fired at a device that pulls on its own thread, as a user clicking about
/// would: every stretch of audio that arrives must be the source played on from the start or
/// from one of the seek targets, in the order they were asked for; never old audio.
#[test]
fn rapid_seeks_against_a_running_output_never_play_stale_audio() {
    let (mut player, sink) = player_on(format(48_000, 1));
    player
        .load(memory(ramp(48_000 * 60), 48_000, 1))
        .expect("loads");
    player.play().expect("plays");
    let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let device = {
        let (sink, running) = (sink.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(std::sync::atomic::Ordering::Relaxed) {
                sink.pull(256);
                std::thread::sleep(Duration::from_micros(300));
            }
        })
    };
    let mut targets = Vec::new();
    for i in 0..150u64 {
        // Targets on a 1/50 s grid so that they are whole frames; pseudo-random order.
        let target_frame = (i * 7919 % 2900) * 960;
        player.seek_secs(target_frame as f64 / 48_000.0);
        targets.push(target_frame);
        if i % 10 == 3 {
            player.pause();
            std::thread::sleep(Duration::from_millis(2));
            player.play().expect("resumes");
        }
        std::thread::sleep(Duration::from_micros(200 + (i % 7) * 400));
    }
    std::thread::sleep(Duration::from_millis(100));
    running.store(false, std::sync::atomic::Ordering::Relaxed);
    device.join().expect("the device thread ends");

    let frames: Vec<u64> = sink
        .captured()
        .iter()
        .map(|&x| (f64::from(x) * f64::from(1u32 << 20)) as u64)
        .collect();
    assert!(
        frames.len() > 48_000,
        "only {} frames arrived",
        frames.len()
    );
    let mut starts = vec![frames[0]];
    for pair in frames.windows(2) {
        if pair[1] != pair[0] + 1 {
            starts.push(pair[1]);
        }
    }
    // Each stretch starts at the start or a target, in the order they were asked for.
    let mut origins = vec![0];
    origins.extend(&targets);
    let mut next = 0;
    for &start in &starts {
        let found = origins[next..].iter().position(|&origin| origin == start);
        let offset = found.unwrap_or_else(|| {
            panic!("audio jumped to frame {start}, which is no pending seek target")
        });
        next += offset + 1;
    }
    let last = *targets.last().expect("seeked");
    assert_eq!(
        *starts.last().expect("audio arrived"),
        last,
        "the last seek wins"
    );
    let played_since = frames.len() - frames.iter().rposition(|&f| f == last).expect("found");
    let expected_secs = (last as f64 + played_since as f64) / 48_000.0;
    assert!((player.position_secs() - expected_secs).abs() < 1e-9);
}

#[test]
fn pause_stops_audio_and_position_and_resume_continues() {
    let (mut player, sink) = player_on(format(48_000, 1));
    let source = ramp(48_000);
    player
        .load(memory(source.clone(), 48_000, 1))
        .expect("loads");
    player.play().expect("plays");
    pull_audio(&player, &sink, 4800);
    player.pause();
    assert_eq!(player.state(), PlaybackState::Paused);
    assert!(!sink.is_running(), "the output was stopped");
    assert_eq!(player.position_secs(), 0.1);
    for _ in 0..20 {
        assert_eq!(sink.pull(PERIOD), 0);
    }
    assert_eq!(sink.captured_frames(), 4800);
    assert_eq!(player.position_secs(), 0.1);
    player.play().expect("resumes");
    assert_eq!(pull_audio(&player, &sink, 2400), 2400);
    assert_samples(&sink.captured(), &source[..7200]);
    assert_eq!(player.position_secs(), 0.15);
}

#[test]
fn pause_holds_on_an_output_that_cannot_pause() {
    let sink = CaptureSink::new(format(48_000, 1)).with_failing_pause();
    let mut player = Player::with_output(Box::new(sink.clone())).expect("attaches");
    let source = ramp(48_000);
    player
        .load(memory(source.clone(), 48_000, 1))
        .expect("loads");
    player.play().expect("plays");
    pull_audio(&player, &sink, 4800);
    player.pause();
    assert_eq!(player.state(), PlaybackState::Paused);
    assert!(sink.is_running(), "this output goes on pulling");
    let silent_before = sink.silent_frames();
    for _ in 0..20 {
        assert_eq!(sink.pull(PERIOD), 0, "only silence while paused");
    }
    assert_eq!(sink.silent_frames(), silent_before + 20 * PERIOD as u64);
    assert_eq!(player.position_secs(), 0.1);
    player.play().expect("resumes");
    pull_audio(&player, &sink, 2400);
    assert_samples(&sink.captured(), &source[..7200]);
}

#[test]
fn volume_scales_the_samples() {
    let (mut player, sink) = player_on(format(48_000, 2));
    let source = ramp(2 * 48_000);
    player
        .load(memory(source.clone(), 48_000, 2))
        .expect("loads");
    player.set_volume(0.25);
    player.play().expect("plays");
    pull_audio(&player, &sink, 4800);
    player.set_volume(1.0);
    pull_audio(&player, &sink, 4800);
    let captured = sink.captured();
    let quarter: Vec<f32> = source[..9600].iter().map(|x| x * 0.25).collect();
    assert_samples(&captured[..9600], &quarter);
    assert_samples(&captured[9600..], &source[9600..19_200]);
    player.set_volume(3.0);
    assert_eq!(player.volume(), 1.0);
    player.set_volume(-1.0);
    assert_eq!(player.volume(), 0.0);
    player.set_volume(f32::NAN);
    assert_eq!(player.volume(), 0.0);
}

#[test]
fn stop_goes_back_to_the_start() {
    let (mut player, sink) = player_on(format(48_000, 1));
    let source = ramp(48_000);
    player
        .load(memory(source.clone(), 48_000, 1))
        .expect("loads");
    player.play().expect("plays");
    pull_audio(&player, &sink, 9600);
    player.stop();
    assert_eq!(player.state(), PlaybackState::Stopped);
    assert_eq!(player.position_secs(), 0.0);
    assert_eq!(sink.pull(PERIOD), 0);
    player.play().expect("plays again");
    pull_audio(&player, &sink, 960);
    assert_samples(&sink.captured()[9600..], &source[..960]);
}

#[test]
fn the_end_is_reported_and_play_starts_over() {
    let (mut player, sink) = player_on(format(8000, 1));
    let source = ramp(1000);
    player.load(memory(source.clone(), 8000, 1)).expect("loads");
    player.play().expect("plays");
    assert_eq!(pull_to_end(&player, &sink), 1000);
    assert_eq!(player.state(), PlaybackState::Ended);
    assert_eq!(player.position_secs(), 0.125);
    assert_eq!(sink.pull(PERIOD), 0, "nothing after the end");
    player.play().expect("plays again");
    assert_eq!(player.state(), PlaybackState::Playing);
    assert_eq!(pull_to_end(&player, &sink), 1000);
    assert_samples(&sink.captured(), &[source.clone(), source].concat());
}

#[test]
fn seeking_after_the_end_waits_paused_there() {
    let (mut player, sink) = player_on(format(8000, 1));
    let source = ramp(8000);
    player.load(memory(source.clone(), 8000, 1)).expect("loads");
    player.play().expect("plays");
    pull_to_end(&player, &sink);
    player.seek_secs(0.5);
    assert_eq!(player.state(), PlaybackState::Paused);
    assert_eq!(player.position_secs(), 0.5);
    player.play().expect("plays");
    pull_audio(&player, &sink, 800);
    assert_samples(&sink.captured()[8000..], &source[4000..4800]);
}

#[test]
fn playback_can_start_at_any_offset() {
    let (mut player, sink) = player_on(format(22_050, 1));
    let source = ramp(10 * 22_050);
    player
        .load(memory(source.clone(), 22_050, 1))
        .expect("loads");
    player.seek_secs(7.3);
    assert_eq!(player.state(), PlaybackState::Stopped);
    assert_eq!(player.position_secs(), 7.3);
    player.play().expect("plays");
    pull_audio(&player, &sink, 2205);
    // 7.3 s at 22.05 kHz is frame 160 965.
    assert_samples(&sink.captured(), &source[160_965..160_965 + 2205]);
    assert!((player.position_secs() - 7.4).abs() < 1e-9);
}

#[test]
fn loading_replaces_what_was_playing() {
    let (mut player, sink) = player_on(format(48_000, 1));
    player
        .load(memory(vec![0.5; 48_000], 48_000, 1))
        .expect("loads");
    player.play().expect("plays");
    pull_audio(&player, &sink, 4800);
    let second = ramp(48_000);
    player
        .load(memory(second.clone(), 48_000, 1))
        .expect("loads");
    assert_eq!(player.state(), PlaybackState::Stopped);
    assert_eq!(player.position_secs(), 0.0);
    player.play().expect("plays");
    pull_audio(&player, &sink, 4800);
    assert_samples(&sink.captured()[4800..], &second[..4800]);
}

#[test]
fn a_player_without_output_works_and_plays_nothing() {
    let mut player = Player::without_output();
    assert!(!player.has_output());
    assert!(player.output().is_none());
    assert_eq!(player.position_secs(), 0.0);
    assert_eq!(player.state(), PlaybackState::Stopped);
    assert!(matches!(
        player.load(memory(ramp(100), 8000, 1)),
        Err(PlayerError::NoOutput)
    ));
    assert!(matches!(player.play(), Err(PlayerError::NoOutput)));
    player.seek_secs(3.0);
    player.pause();
    player.stop();
    player.set_volume(0.5);
    assert_eq!(player.volume(), 0.5);
    assert_eq!(player.position_secs(), 0.0);
    assert_eq!(player.state(), PlaybackState::Stopped);
    assert!(player.take_errors().is_empty());
}

#[test]
fn commands_before_anything_is_loaded_are_harmless() {
    let (mut player, sink) = player_on(format(48_000, 2));
    assert!(matches!(player.play(), Err(PlayerError::NothingLoaded)));
    player.seek_secs(2.0);
    player.pause();
    player.stop();
    assert_eq!(player.position_secs(), 0.0);
    assert_eq!(sink.pull(PERIOD), 0);
}

#[test]
fn unplayable_sources_are_refused() {
    let (mut player, _sink) = player_on(format(48_000, 2));
    struct Silent;
    impl PcmSource for Silent {
        fn sample_rate_hz(&self) -> u32 {
            0
        }
        fn channels(&self) -> usize {
            1
        }
        fn seek_secs(&mut self, _secs: f64) -> Result<(), AudioError> {
            Ok(())
        }
        fn read_block(&mut self, _out: &mut Vec<f32>) -> Result<bool, AudioError> {
            Ok(false)
        }
    }
    assert!(matches!(
        player.load(Box::new(Silent)),
        Err(PlayerError::InvalidSource { .. })
    ));
    assert!(matches!(player.play(), Err(PlayerError::NothingLoaded)));
}

/// A source that fails after its first block, with a real decoding error.
struct FailingSource {
    blocks_left: usize,
    error: Option<AudioError>,
}

impl PcmSource for FailingSource {
    fn sample_rate_hz(&self) -> u32 {
        8000
    }
    fn channels(&self) -> usize {
        1
    }
    fn seek_secs(&mut self, _secs: f64) -> Result<(), AudioError> {
        Ok(())
    }
    fn read_block(&mut self, out: &mut Vec<f32>) -> Result<bool, AudioError> {
        if self.blocks_left == 0 {
            return match self.error.take() {
                Some(error) => Err(error),
                None => Ok(false),
            };
        }
        self.blocks_left -= 1;
        out.extend(std::iter::repeat_n(0.25, 800));
        Ok(true)
    }
}

#[test]
fn a_source_failing_mid_stream_ends_playback_and_is_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("gone.flac");
    let error = FileSource::open(&missing).err().expect("no such file");
    let (mut player, sink) = player_on(format(8000, 1));
    player
        .load(Box::new(FailingSource {
            blocks_left: 2,
            error: Some(error),
        }))
        .expect("loads");
    player.play().expect("plays");
    assert_eq!(pull_to_end(&player, &sink), 1600, "the good blocks play");
    assert_eq!(player.state(), PlaybackState::Ended);
    let errors = player.take_errors();
    assert_eq!(errors.len(), 1);
    assert!(matches!(errors[0], PlayerError::Source(_)));
    assert!(errors[0].to_string().contains("gone.flac"), "{}", errors[0]);
    assert!(
        player.take_errors().is_empty(),
        "each error is handed out once"
    );
}

/// A source whose decoder panics, as a decoding library might on a malformed file.
struct PanickingSource;

impl PcmSource for PanickingSource {
    fn sample_rate_hz(&self) -> u32 {
        8000
    }
    fn channels(&self) -> usize {
        1
    }
    fn seek_secs(&mut self, _secs: f64) -> Result<(), AudioError> {
        Ok(())
    }
    fn read_block(&mut self, _out: &mut Vec<f32>) -> Result<bool, AudioError> {
        panic!("a decoder bug (this panic is expected by the test)");
    }
}

#[test]
fn a_panicking_decoder_ends_playback_with_an_error() {
    let (mut player, sink) = player_on(format(8000, 1));
    player.load(Box::new(PanickingSource)).expect("loads");
    player.play().expect("plays");
    pull_to_end(&player, &sink);
    assert_eq!(player.state(), PlaybackState::Ended);
    let errors = player.take_errors();
    assert!(
        matches!(errors[..], [PlayerError::DecoderStopped]),
        "{errors:?}"
    );
    assert!(matches!(player.play(), Err(PlayerError::DecoderStopped)));
    player.stop();
    assert!(matches!(player.play(), Err(PlayerError::DecoderStopped)));
    assert!(matches!(
        player.load(memory(ramp(100), 8000, 1)),
        Err(PlayerError::DecoderStopped)
    ));
}

#[test]
fn a_wav_file_plays_and_seeks() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("ramp.wav");
    let spec = hound::WavSpec {
        channels: 2,
        sample_rate: 44_100,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let source = ramp(2 * 44_100);
    let mut writer = hound::WavWriter::create(&path, spec).expect("writes a wav");
    for &sample in &source {
        writer.write_sample(sample).expect("writes a sample");
    }
    writer.finalize().expect("finishes the wav");

    let (mut player, sink) = player_on(format(44_100, 2));
    let file = FileSource::open(&path).expect("opens the wav");
    assert_eq!((file.sample_rate_hz(), file.channels()), (44_100, 2));
    player.load(Box::new(file)).expect("loads");
    player.seek_secs(0.5);
    player.play().expect("plays");
    pull_to_end(&player, &sink);
    assert_samples(&sink.captured(), &source[44_100..]);
    assert_eq!(player.position_secs(), 1.0);
}

#[test]
fn a_file_that_is_not_audio_gives_an_error_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("notes.txt");
    std::fs::write(&path, "not audio at all\n").expect("writes");
    let error = FileSource::open(&path).err().expect("not audio");
    assert!(error.to_string().contains("notes.txt"), "{error}");
}

#[test]
fn an_idle_player_uses_no_cpu() {
    let output = // Alone in a child process, so that measuring the process is not disturbed by the other
    // tests.
    common::run_ignored_alone("idle_player_child", std::iter::empty::<(&str, &str)>());
    for line in output.lines().filter(|line| line.contains("cpu over")) {
        println!("{line}");
    }
}

/// CPU time (user + system) this process has used, from /proc (Linux counts in 1/100 s).
fn process_cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("Linux /proc");
    let after_name = &stat[stat.rfind(')').expect("stat has a name") + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // Fields 14 and 15 of stat(5), counted from the state field (3).
    let ticks: u64 =
        fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime");
    ticks as f64 / 100.0
}

#[test]
#[ignore = "run alone in a child process by an_idle_player_uses_no_cpu"]
fn idle_player_child() {
    assert!(
        std::env::var_os(common::CHILD_ENV).is_some(),
        "run through an_idle_player_uses_no_cpu"
    );
    let (mut player, sink) = player_on(format(48_000, 2));
    player
        .load(memory(ramp(2 * 48_000 * 60), 48_000, 2))
        .expect("loads");
    player.play().expect("plays");
    pull_audio(&player, &sink, PERIOD);
    // Playing, but the output takes nothing: the decoder fills the ring and sleeps.
    std::thread::sleep(Duration::from_millis(200));
    let start = process_cpu_secs();
    std::thread::sleep(Duration::from_secs(1));
    let full_ring = process_cpu_secs() - start;
    player.pause();
    std::thread::sleep(Duration::from_millis(100));
    let start = process_cpu_secs();
    std::thread::sleep(Duration::from_secs(1));
    let paused = process_cpu_secs() - start;
    println!("cpu over 1 s: ring full {full_ring:.2} s, paused {paused:.2} s");
    assert!(
        full_ring <= 0.03,
        "busy while the ring is full: {full_ring} s"
    );
    assert!(paused <= 0.03, "busy while paused: {paused} s");
}
