//! The log-mel spectrogram against librosa's output for the reference signals of
//! tests/data/mel (made by librosa 0.11; see tests/data/README.md).
#![allow(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::path::Path;

use deepcuts::dsp::mel::{MelSpectrogram, EXCERPT_FRAMES, N_MELS};
use ndarray::Array2;

const SIGNALS: [&str; 7] = [
    "chirp", "impulses", "long75s", "noise", "short2s", "silence", "sine440",
];

#[test]
fn matches_librosa_on_every_reference_signal() {
    let mut mel = MelSpectrogram::new();
    for name in SIGNALS {
        let dir = Path::new("tests/data/mel");
        // The whole path: decode the WAV, cut the middle 30 s, then the spectrogram.
        let excerpt = deepcuts::audio::load_excerpt(&dir.join(format!("{name}.wav"))).unwrap();
        assert_eq!(excerpt.source_rate_hz, 22050);
        let ours = mel.compute(&excerpt.samples);
        let reference: Array2<f32> =
            deepcuts::io::npy::read_finite_f32(&dir.join(format!("{name}.npy"))).unwrap();
        assert_eq!(ours.shape(), &[EXCERPT_FRAMES, N_MELS], "{name}");
        assert_eq!(reference.shape(), ours.shape(), "{name}");
        let (mut worst_80, mut worst_100) = (0.0f32, 0.0f32);
        for ((t, m), &r) in reference.indexed_iter() {
            let diff = (ours[[t, m]] - r).abs();
            if r > -80.0 {
                worst_80 = worst_80.max(diff);
            }
            if r > -100.0 {
                worst_100 = worst_100.max(diff);
            }
        }
        println!(
            "{name}: max |diff| {worst_80:.5} dB above -80 dB, {worst_100:.5} dB above -100 dB"
        );
        assert!(worst_80 <= 0.01, "{name}: {worst_80} dB above -80 dB");
        assert!(worst_100 <= 0.05, "{name}: {worst_100} dB above -100 dB");
    }
}

#[test]
fn the_mel_command_writes_librosas_excerpt_and_the_whole_track() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.npy");
    let run = |args: &[&str]| {
        let status = std::process::Command::new(env!("CARGO_BIN_EXE_deepcuts"))
            .args(args)
            .status()
            .unwrap();
        assert!(status.success(), "deepcuts {args:?}");
    };
    let wav = "tests/data/mel/long75s.wav";
    run(&["mel", wav, "--out", out.to_str().unwrap()]);
    let ours: Array2<f32> = deepcuts::io::npy::read_finite_f32(&out).unwrap();
    let reference: Array2<f32> =
        deepcuts::io::npy::read_finite_f32(Path::new("tests/data/mel/long75s.npy")).unwrap();
    let worst = ours
        .iter()
        .zip(reference.iter())
        .filter(|(_, r)| **r > -80.0)
        .map(|(o, r)| (o - r).abs())
        .fold(0.0f32, f32::max);
    assert!(worst <= 0.01, "{worst} dB");
    // --full: librosa gives 1 + n / hop frames for all 75 s (1653750 samples).
    run(&["mel", wav, "--out", out.to_str().unwrap(), "--full"]);
    let full: Array2<f32> = deepcuts::io::npy::read_finite_f32(&out).unwrap();
    assert_eq!(full.shape(), &[1 + 1_653_750 / 1024, N_MELS]);
}
