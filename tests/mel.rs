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

fn read_wav(path: &Path) -> Vec<f32> {
    let mut reader = hound::WavReader::open(path).unwrap();
    assert_eq!(reader.spec().sample_rate, 22050);
    reader.samples::<f32>().map(|s| s.unwrap()).collect()
}

fn excerpt(samples: &[f32]) -> Vec<f32> {
    let len = 661_500;
    let start = samples.len().saturating_sub(len) / 2;
    let mut out: Vec<f32> = samples[start..].iter().copied().take(len).collect();
    out.resize(len, 0.0);
    out
}

#[test]
fn matches_librosa_on_every_reference_signal() {
    let mut mel = MelSpectrogram::new();
    for name in SIGNALS {
        let dir = Path::new("tests/data/mel");
        let samples = read_wav(&dir.join(format!("{name}.wav")));
        let ours = mel.compute(&excerpt(&samples));
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
