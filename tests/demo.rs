//! The synthesized demo world: determinism, rendering, loudness, the seed's traits measured in
//! the audio with plain DFTs, catalog invariants and the structure of the simulated listening.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use deepcuts::audio::{ANALYSIS_RATE_HZ, EXCERPT_SAMPLES};
use deepcuts::demo::{
    self, format_source, generate, parse_source, render, render_excerpt, DemoTrack, DemoWorld,
    Featured, Properties, Recipe, Style, TrackKind, TrackRenderer, WorldConfig, CHUNK_SAMPLES,
};
use realfft::{RealFftPlanner, RealToComplex};

const SR: f64 = ANALYSIS_RATE_HZ as f64;

/// A world with about eight artists per style, so that most properties turn up in several.
fn small_world(seed: u64) -> DemoWorld {
    generate(&WorldConfig {
        tracks: 1500,
        users: 600,
        seed,
    })
}

/// Regular tracks of `style`, at most one per artist first, then more.
fn tracks_of(world: &DemoWorld, style: Style, n: usize) -> Vec<&DemoTrack> {
    let regular: Vec<&DemoTrack> = world
        .tracks
        .iter()
        .filter(|t| t.style == style && t.kind == TrackKind::Regular)
        .collect();
    let mut seen = HashSet::new();
    let mut picked: Vec<&DemoTrack> = regular
        .iter()
        .copied()
        .filter(|t| seen.insert(t.artist_index))
        .take(n)
        .collect();
    for t in regular {
        if picked.len() >= n {
            break;
        }
        if !picked.iter().any(|p| p.index == t.index) {
            picked.push(t);
        }
    }
    picked
}

fn has(track: &DemoTrack, tag: &str) -> bool {
    track.tags.iter().any(|t| t == tag)
}

/// Up to `n` regular tracks for which `keep` holds, one per artist, taking the styles in
/// turn so that as many styles as possible are represented.
fn spread(world: &DemoWorld, n: usize, keep: impl Fn(&DemoTrack) -> bool) -> Vec<&DemoTrack> {
    let mut per_style: Vec<Vec<&DemoTrack>> = vec![Vec::new(); Style::ALL.len()];
    let mut seen = HashSet::new();
    for t in &world.tracks {
        if t.kind == TrackKind::Regular && keep(t) && seen.insert(t.artist_index) {
            per_style[t.style.index()].push(t);
        }
    }
    let mut picked = Vec::new();
    for round in 0.. {
        let before = picked.len();
        for tracks in &per_style {
            if picked.len() < n {
                picked.extend(tracks.get(round));
            }
        }
        if picked.len() == before || picked.len() >= n {
            break;
        }
    }
    picked
}

fn styles_in(tracks: &[&DemoTrack]) -> usize {
    tracks.iter().map(|t| t.style).collect::<HashSet<_>>().len()
}

/// The same recipe with one property switched.
fn with(recipe: &Recipe, set: impl Fn(&mut Properties)) -> Recipe {
    let mut r = *recipe;
    set(&mut r.properties);
    r
}

// ----- spectra -----

struct Spectra {
    planner: RealFftPlanner<f64>,
}

impl Spectra {
    fn new() -> Self {
        Self {
            planner: RealFftPlanner::new(),
        }
    }

    fn plan(&mut self, n: usize) -> Arc<dyn RealToComplex<f64>> {
        self.planner.plan_fft_forward(n)
    }

    /// Power spectrum of `x` (rectangular window), bins of SR / len Hz.
    fn power(&mut self, x: &[f32]) -> Vec<f64> {
        let fft = self.plan(x.len());
        let mut input: Vec<f64> = x.iter().map(|&v| f64::from(v)).collect();
        let mut out = fft.make_output_vec();
        fft.process(&mut input, &mut out)
            .expect("buffers sized by the plan");
        out.iter().map(|c| c.norm_sqr()).collect()
    }

    /// Magnitude spectra of Hann-windowed frames: [frames][win / 2 + 1].
    fn frames(&mut self, x: &[f32], win: usize, hop: usize) -> Vec<Vec<f64>> {
        let fft = self.plan(win);
        let hann: Vec<f64> = (0..win)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / win as f64).cos())
            .collect();
        let mut out = fft.make_output_vec();
        (0..x.len().saturating_sub(win) / hop)
            .map(|f| {
                let mut frame: Vec<f64> = (0..win)
                    .map(|i| f64::from(x[f * hop + i]) * hann[i])
                    .collect();
                fft.process(&mut frame, &mut out)
                    .expect("buffers sized by the plan");
                out.iter().map(|c| c.norm()).collect()
            })
            .collect()
    }
}

fn midi_hz(midi: f64) -> f64 {
    440.0 * ((midi - 69.0) / 12.0).exp2()
}

/// Power within a quarter tone of `freq_hz`.
fn band_power(power: &[f64], n: usize, freq_hz: f64) -> f64 {
    let lo = (freq_hz * 2f64.powf(-1.0 / 24.0) * n as f64 / SR).ceil() as usize;
    let hi = (freq_hz * 2f64.powf(1.0 / 24.0) * n as f64 / SR).floor() as usize;
    power[lo..=hi.min(power.len() - 1)].iter().sum()
}

/// Largest magnitude within ±3% of `freq_hz` in a frame of `win` samples.
fn peak_near(frame: &[f64], win: usize, freq_hz: f64) -> f64 {
    let bin = |f: f64| (f * win as f64 / SR).round() as usize;
    let (lo, hi) = (
        bin(freq_hz * 0.97),
        bin(freq_hz * 1.03).min(frame.len() - 1),
    );
    frame[lo..=hi.max(lo)].iter().fold(0.0, |m, &v| m.max(v))
}

// ----- determinism and rendering -----

#[test]
fn the_same_seed_makes_the_same_world_and_another_seed_another() {
    let a = small_world(7);
    let b = small_world(7);
    assert_eq!(a, b);
    let c = small_world(8);
    assert_ne!(a.tracks[0].recipe, c.tracks[0].recipe);
    assert_ne!(a.plays, c.plays);
    let range = (3 * CHUNK_SAMPLES / 2, 30_000);
    let x = render(&a.tracks[5].recipe, range.0, range.1);
    let y = render(&b.tracks[5].recipe, range.0, range.1);
    assert_eq!(
        x.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
        y.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
    );
    let z = render(&c.tracks[5].recipe, range.0, range.1);
    assert_ne!(x, z);
}

#[test]
fn the_catalog_is_prefix_stable_and_sources_name_tracks() {
    let big = small_world(3);
    let small = generate(&WorldConfig {
        tracks: 250,
        users: 10,
        seed: 3,
    });
    assert_eq!(small.tracks[..], big.tracks[..250]);
    for index in [0, 77, 249] {
        let source = format_source(3, index);
        let (seed, i) = parse_source(&source).unwrap();
        assert_eq!(demo::track(seed, i), big.tracks[index]);
    }
    assert!(parse_source("demo:3").is_err());
}

#[test]
fn rendering_a_range_equals_the_same_range_of_a_full_render() {
    let world = small_world(11);
    // Styles with long reverb and echo tails, a sketch, and a beat style.
    let mut picks: Vec<&DemoTrack> = [Style::Ambient, Style::Dub, Style::DeepHouse]
        .iter()
        .map(|&s| tracks_of(&world, s, 1)[0])
        .collect();
    picks.push(world.tracks.iter().find(|t| t.kind.is_sketch()).unwrap());
    for track in picks {
        let n = track.recipe.length_samples as usize;
        let full = render(&track.recipe, 0, n + 10_000);
        assert!(full[n..].iter().all(|&v| v == 0.0), "silence after the end");
        let excerpt_start = track.recipe.excerpt_start() as usize;
        let ranges = [
            (0, 1000),
            (excerpt_start, EXCERPT_SAMPLES),
            (excerpt_start - 12_345, 50_000),
            (CHUNK_SAMPLES + 17, 2 * CHUNK_SAMPLES),
            (n - 3000, 10_000),
        ];
        for (start, len) in ranges {
            let part = render(&track.recipe, start, len);
            assert_eq!(part.len(), len);
            for (i, (&a, &b)) in part.iter().zip(&full[start..start + len]).enumerate() {
                assert!(
                    a.to_bits() == b.to_bits(),
                    "{} at {}: {a} vs {b}",
                    track.style.name(),
                    start + i
                );
            }
        }
        assert_eq!(
            render_excerpt(&track.recipe),
            full[excerpt_start..excerpt_start + EXCERPT_SAMPLES]
        );
        // A player reading small pieces in order gets the same samples.
        let mut renderer = TrackRenderer::new(&track.recipe);
        let mut at = excerpt_start - 40_000;
        while at < excerpt_start + 60_000 {
            let piece = renderer.render(at, 4096);
            assert_eq!(piece, full[at..at + 4096]);
            at += 4096;
        }
    }
}

#[test]
fn wav_export_writes_the_rendered_track() {
    let world = small_world(5);
    let track = world
        .tracks
        .iter()
        .find(|t| t.kind == TrackKind::Interlude)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("interlude.wav");
    demo::write_wav(&path, &track.recipe).unwrap();
    let mut reader = hound::WavReader::open(&path).unwrap();
    assert_eq!(reader.spec().sample_rate, ANALYSIS_RATE_HZ);
    assert_eq!(reader.spec().channels, 1);
    let samples: Vec<f32> = reader.samples::<f32>().map(|s| s.unwrap()).collect();
    assert_eq!(samples.len() as u64, track.recipe.length_samples);
    assert!(track.duration_secs >= 60.0);
    let start = 7 * CHUNK_SAMPLES / 3;
    assert_eq!(
        samples[start..start + 1000],
        render(&track.recipe, start, 1000)[..]
    );
}

// ----- loudness -----

#[test]
fn no_style_or_kind_clips_and_none_is_silent() {
    let world = small_world(21);
    let mut picks: Vec<&DemoTrack> = Style::ALL
        .iter()
        .flat_map(|&s| tracks_of(&world, s, 2))
        .collect();
    for kind in [
        TrackKind::Intro,
        TrackKind::Outro,
        TrackKind::Interlude,
        TrackKind::Cover,
        TrackKind::Remix,
    ] {
        picks.extend(world.tracks.iter().filter(|t| t.kind == kind).take(2));
    }
    for track in picks {
        let x = render_excerpt(&track.recipe);
        let peak = x.iter().fold(0f32, |m, v| m.max(v.abs()));
        let rms = (x.iter().map(|v| f64::from(v * v)).sum::<f64>() / x.len() as f64).sqrt();
        assert!(
            peak <= 1.0,
            "{} #{}: peak {peak}",
            track.style.name(),
            track.index
        );
        assert!(x.iter().all(|v| v.is_finite()));
        assert!(
            rms > 0.03,
            "{} #{} ({:?}): rms {rms}",
            track.style.name(),
            track.index,
            track.kind
        );
    }
}

// ----- the seed's traits, measured in the audio -----

#[test]
fn dub_in_b_flat_sits_on_a_low_b_flat() {
    let world = small_world(31);
    let mut spectra = Spectra::new();
    let tracks = spread(&world, 3, |t| t.style == Style::Dub && has(t, "b-flat"));
    assert!(tracks.len() >= 2);
    for track in tracks {
        let x = render_excerpt(&track.recipe);
        let power = spectra.power(&x);
        // Strongest semitone between 41 Hz (E1) and 131 Hz (C3): B-flat, 58.27 or 116.54 Hz.
        let strongest = (28..=48)
            .max_by(|&a, &b| {
                band_power(&power, x.len(), midi_hz(f64::from(a))).total_cmp(&band_power(
                    &power,
                    x.len(),
                    midi_hz(f64::from(b)),
                ))
            })
            .unwrap();
        assert!(
            strongest == 34 || strongest == 46,
            "#{}: strongest MIDI {strongest}",
            track.index
        );
    }
}

/// Power per pitch class over MIDI 45–84 (A2–C6).
fn chroma(spectra: &mut Spectra, x: &[f32]) -> [f64; 12] {
    let power = spectra.power(x);
    let mut chroma = [0f64; 12];
    for midi in 45..=84 {
        chroma[midi % 12] += band_power(&power, x.len(), midi_hz(midi as f64));
    }
    chroma
}

/// Krumhansl and Kessler's probe-tone ratings of the twelve pitch classes above the tonic in
/// a major and a minor key (Krumhansl 1990): the standard key-finding profiles.
const MAJOR_PROFILE: [f64; 12] = [
    6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88,
];
const MINOR_PROFILE: [f64; 12] = [
    6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17,
];

fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (ma, mb) = (mean(a), mean(b));
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let norm = |v: &[f64], m: f64| v.iter().map(|x| (x - m).powi(2)).sum::<f64>().sqrt();
    cov / (norm(a, ma) * norm(b, mb))
}

/// The key Krumhansl and Schmuckler's key-finding hears in `x`, as (tonic, minor): the one of
/// the 24 whose profile, rotated to its tonic, correlates best with the chroma's magnitudes.
fn estimated_key(spectra: &mut Spectra, x: &[f32]) -> (usize, bool) {
    let chroma = chroma(spectra, x).map(f64::sqrt);
    let score = |&(tonic, minor): &(usize, bool)| {
        let relative: Vec<f64> = (0..12).map(|i| chroma[(tonic + i) % 12]).collect();
        correlation(
            &relative,
            if minor {
                &MINOR_PROFILE
            } else {
                &MAJOR_PROFILE
            },
        )
    };
    (0..24)
        .map(|k| (k % 12, k >= 12))
        .max_by(|a, b| score(a).total_cmp(&score(b)))
        .expect("24 keys")
}

#[test]
fn b_flat_and_a_chord_tracks_are_heard_in_their_keys_in_any_style() {
    let world = small_world(32);
    let mut spectra = Spectra::new();
    for (tag, pc) in [("b-flat", 10), ("a-chord", 9)] {
        let tracks = spread(&world, 6, |t| has(t, tag));
        assert!(
            styles_in(&tracks) >= 4,
            "{tag} in {} styles",
            styles_in(&tracks)
        );
        // The key heard is the track's or its relative (the same scale from another tonic, the
        // key-finder's usual slip); chance is one in twelve.
        let heard: Vec<(usize, bool)> = tracks
            .iter()
            .map(|t| estimated_key(&mut spectra, &render_excerpt(&t.recipe)))
            .collect();
        let right = tracks
            .iter()
            .zip(&heard)
            .filter(|(t, &(tonic, minor))| {
                let relative = if t.recipe.key.mode.is_minor() {
                    (pc + 3) % 12
                } else {
                    (pc + 9) % 12
                };
                tonic == pc || (tonic == relative && minor != t.recipe.key.mode.is_minor())
            })
            .count();
        assert!(right >= 5, "{tag}: keys heard {heard:?}");
    }
}

/// Pitch salience per pitch class over MIDI 45–80, summed over 93-ms frames: each pitch's
/// first five harmonics weighted 1/h (subharmonic summation), so a note's own harmonics (the
/// fifth harmonic of the tonic is a major third) count for less than notes played.
fn pitch_chroma(spectra: &mut Spectra, x: &[f32]) -> [f64; 12] {
    let win = 4096;
    let mut chroma = [0f64; 12];
    for f in spectra.frames(x, win, win) {
        for midi in 45..=80 {
            let salience: f64 = (1..=5)
                .map(|h| {
                    let hz = f64::from(h) * midi_hz(f64::from(midi));
                    peak_near(&f, win, hz) / f64::from(h)
                })
                .sum();
            chroma[(midi % 12) as usize] += salience;
        }
    }
    chroma
}

#[test]
fn minor_key_tracks_sound_minor_in_any_style() {
    let world = small_world(38);
    let mut spectra = Spectra::new();
    // Noise rock, gabber and drone music play power chords, with no third to hear.
    let thirds_heard =
        |t: &DemoTrack| !matches!(t.style, Style::NoiseRock | Style::Gabber | Style::Drone);
    let minor = spread(&world, 8, |t| has(t, "minor-key") && thirds_heard(t));
    let major = spread(&world, 8, |t| !has(t, "minor-key") && thirds_heard(t));
    assert!(styles_in(&minor) >= 5 && styles_in(&major) >= 5);
    let mut wrong = Vec::new();
    for track in minor.iter().chain(&major) {
        let chroma = pitch_chroma(&mut spectra, &render_excerpt(&track.recipe));
        let tonic = usize::from(track.recipe.key.tonic_pc);
        let relative: Vec<f64> = (0..12).map(|i| chroma[(tonic + i) % 12]).collect();
        let sounds_minor =
            correlation(&relative, &MINOR_PROFILE) > correlation(&relative, &MAJOR_PROFILE);
        if sounds_minor != has(track, "minor-key") {
            wrong.push(format!("{} #{}", track.style.name(), track.index));
        }
    }
    assert!(wrong.len() <= 2, "sound the other mode: {wrong:?}");
}

/// Fraction of the beats in the excerpt where low-frequency (40–160 Hz) energy jumps: the
/// 46 ms after the beat against the 46 ms ending 10 ms before it.
fn low_onsets_per_beat(spectra: &mut Spectra, recipe: &Recipe) -> f64 {
    let x = render_excerpt(recipe);
    let start = recipe.excerpt_start() as f64;
    let (win, hop) = (1024, 64);
    let frames = spectra.frames(&x, win, hop);
    let low: Vec<f64> = frames
        .iter()
        .map(|f| (2..=7).map(|b| f[b] * f[b]).sum()) // bins of 21.5 Hz: 43–151 Hz
        .collect();
    let beat = 60.0 / f64::from(recipe.tempo_bpm) * SR;
    let first = (start / beat).ceil() as usize;
    let mut beats = 0;
    let mut onsets = 0;
    for k in first.. {
        let at = k as f64 * beat - start;
        // A frame covering [at, at + win) against one ending 10 ms before the beat.
        let after = (at / hop as f64).round() as usize;
        let before_end = at - 0.01 * SR;
        if before_end < win as f64 {
            continue;
        }
        let before = ((before_end - win as f64) / hop as f64).round() as usize;
        if after >= low.len() {
            break;
        }
        beats += 1;
        if low[after] > 2.0 * low[before] {
            onsets += 1;
        }
    }
    onsets as f64 / beats as f64
}

#[test]
fn four_on_the_floor_styles_kick_on_every_beat_and_hip_hop_does_not() {
    let world = small_world(33);
    let mut spectra = Spectra::new();
    for style in [Style::DeepHouse, Style::Gabber] {
        // Kicks with no drone holding the low end between them.
        for track in spread(&world, 3, |t| {
            t.style == style && !has(t, "drone") && !has(t, "ambience")
        }) {
            let rate = low_onsets_per_beat(&mut spectra, &track.recipe);
            assert!(
                rate >= 0.9,
                "{} #{}: onsets on {rate} of beats",
                style.name(),
                track.index
            );
        }
    }
    for track in tracks_of(&world, Style::HipHop, 3) {
        let rate = low_onsets_per_beat(&mut spectra, &track.recipe);
        assert!(
            rate <= 0.75,
            "hip-hop #{}: onsets on {rate} of beats",
            track.index
        );
    }
}

/// Fraction of frames whose strongest peak in 250–1200 Hz has a stronger third harmonic than
/// second: a square wave has odd harmonics only.
fn odd_harmonic_frames(spectra: &mut Spectra, x: &[f32]) -> f64 {
    let win = 4096;
    let frames = spectra.frames(x, win, 2048);
    let bin_hz = SR / win as f64;
    let (lo, hi) = ((250.0 / bin_hz) as usize, (1200.0 / bin_hz) as usize);
    let mut odd = 0;
    let mut counted = 0;
    for frame in &frames {
        let (peak, level) = (lo..hi).fold((lo, 0.0), |best, b| {
            if frame[b] > best.1 {
                (b, frame[b])
            } else {
                best
            }
        });
        if level < 1e-3 {
            continue;
        }
        let f = peak as f64 * bin_hz;
        counted += 1;
        if peak_near(frame, win, 3.0 * f) > peak_near(frame, win, 2.0 * f) {
            odd += 1;
        }
    }
    odd as f64 / counted.max(1) as f64
}

#[test]
fn chiptune_leads_are_square_waves_with_odd_harmonics() {
    let world = small_world(34);
    let mut spectra = Spectra::new();
    // Leads without a singer or an overdrive on top.
    let plain = |t: &DemoTrack| !has(t, "vocals") && !has(t, "distortion");
    for track in spread(&world, 3, |t| t.style == Style::Chiptune && plain(t)) {
        let odd = odd_harmonic_frames(&mut spectra, &render_excerpt(&track.recipe));
        assert!(
            odd > 0.6,
            "chiptune #{}: odd-dominant frames {odd}",
            track.index
        );
    }
    for style in [Style::Chamber, Style::SmoothJazz] {
        let track = spread(&world, 1, |t| {
            t.style == style && plain(t) && !has(t, "vibrato")
        })[0];
        let odd = odd_harmonic_frames(&mut spectra, &render_excerpt(&track.recipe));
        assert!(
            odd < 0.45,
            "{} #{}: odd-dominant frames {odd}",
            style.name(),
            track.index
        );
    }
}

/// Pitch wobble of the strongest partial in 200–1500 Hz over held notes: (median standard
/// deviation in cents, median rate of the wobble in Hz).
fn pitch_wobble(spectra: &mut Spectra, x: &[f32]) -> (f64, f64) {
    let (win, hop) = (2048, 128);
    let frames = spectra.frames(x, win, hop);
    let bin_hz = SR / win as f64;
    let (lo, hi) = ((200.0 / bin_hz) as usize, (1500.0 / bin_hz) as usize);
    // Peak frequency per frame, refined by parabolic interpolation, in cents.
    let track: Vec<f64> = frames
        .iter()
        .map(|f| {
            let b = (lo..hi)
                .max_by(|&a, &b| f[a].total_cmp(&f[b]))
                .expect("a non-empty band");
            let (l, c, r) = (f[b - 1].ln(), f[b].ln(), f[b + 1].ln());
            let offset = 0.5 * (l - r) / (l - 2.0 * c + r);
            1200.0 * ((b as f64 + offset) * bin_hz).log2()
        })
        .collect();
    // Held notes: runs of frames that stay within 1.5 semitones of the run's start.
    let frame_secs = hop as f64 / SR;
    let min_len = (0.35 / frame_secs) as usize;
    let mut deviations = Vec::new();
    let mut rates = Vec::new();
    let mut start = 0;
    while start < track.len() {
        let mut end = start + 1;
        while end < track.len() && (track[end] - track[start]).abs() < 150.0 {
            end += 1;
        }
        if end - start >= min_len {
            let run = &track[start..end];
            let mean = run.iter().sum::<f64>() / run.len() as f64;
            let dev: Vec<f64> = run.iter().map(|v| v - mean).collect();
            let std = (dev.iter().map(|d| d * d).sum::<f64>() / dev.len() as f64).sqrt();
            // Crossings of the track smoothed over 41 ms (7 hops), so that tracking noise does
            // not count as wobble (a 6.5-Hz vibrato's period is 154 ms).
            let smooth: Vec<f64> = dev
                .windows(7)
                .map(|w| w.iter().sum::<f64>() / 7.0)
                .collect();
            let crossings = smooth.windows(2).filter(|w| w[0] * w[1] < 0.0).count();
            deviations.push(std);
            rates.push(crossings as f64 / 2.0 / (run.len() as f64 * frame_secs));
        }
        start = end;
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(0.0)
    };
    (median(&mut deviations), median(&mut rates))
}

#[test]
fn vibrato_tracks_sing_with_a_wide_regular_vibrato_in_any_style() {
    // Added singers with a vibrato and nothing after them are rare: a full-sized world.
    let world = generate(&WorldConfig {
        seed: 35,
        ..WorldConfig::default()
    });
    let mut spectra = Spectra::new();
    let mut failures: Vec<String> = Vec::new();
    // A wide vibrato (against the plain leads' < 15 cents below) at about the singers' rate.
    let mut check = |track: &DemoTrack, x: &[f32], stem: bool, spectra: &mut Spectra| {
        let (cents, rate_hz) = pitch_wobble(spectra, x);
        if !(cents > 18.0 && (4.0..8.5).contains(&rate_hz)) {
            failures.push(format!(
                "{} #{} (stem: {stem}): wobble {cents} cents at {rate_hz} Hz",
                track.style.name(),
                track.index
            ));
        }
    };
    // A singer added over the arrangement (and nothing after it: no drone, no featured
    // instrument) is the exact difference of the renders with and without vocals.
    let sung = spread(&world, 5, |t| {
        has(t, "vibrato")
            && has(t, "vocals")
            && !has(t, "drone")
            && t.recipe.properties.featured.is_none()
            && !matches!(
                t.style,
                Style::FolkDuet | Style::Ballad | Style::Choir | Style::HipHop
            )
    });
    assert!(styles_in(&sung) >= 3, "{}", styles_in(&sung));
    for track in sung {
        let mix = render_excerpt(&track.recipe);
        let bare = render_excerpt(&with(&track.recipe, |p| {
            p.vocals = false;
            p.vibrato = false;
            p.thirds = false;
        }));
        check(track, &difference(&mix, &bare), true, &mut spectra);
    }
    // Solo ballad singers stand out in their mix.
    for track in spread(&world, 3, |t| {
        t.style == Style::Ballad && has(t, "vibrato") && !has(t, "vocal-thirds")
    }) {
        check(track, &render_excerpt(&track.recipe), false, &mut spectra);
    }
    // Without a singer or a vibrato, the leads hold their pitch.
    let plain = spread(&world, 3, |t| {
        !has(t, "vocals")
            && !has(t, "vibrato")
            && matches!(t.style, Style::Country | Style::Chiptune | Style::Dub)
    });
    assert!(styles_in(&plain) >= 2);
    for track in plain {
        let (cents, _) = pitch_wobble(&mut spectra, &render_excerpt(&track.recipe));
        if cents >= 15.0 {
            failures.push(format!(
                "{} #{}: wobble {cents} cents without a vibrato",
                track.style.name(),
                track.index
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The most salient pitch (MIDI 45–90) of each 93-ms frame whose energy is at least a tenth
/// of the loudest frame's; `None` for quieter frames. Salience is the sum of the magnitudes at
/// a pitch's first five harmonics weighted 1/h (subharmonic summation).
fn sung_pitches(spectra: &mut Spectra, x: &[f32]) -> Vec<Option<i32>> {
    let win = 2048;
    let frames = spectra.frames(x, win, win);
    let energy: Vec<f64> = frames
        .iter()
        .map(|f| f.iter().map(|m| m * m).sum())
        .collect();
    let loudest = energy.iter().copied().fold(0.0, f64::max);
    frames
        .iter()
        .zip(&energy)
        .map(|(f, &e)| {
            (e >= 0.1 * loudest).then(|| {
                let salience = |midi: i32| -> f64 {
                    (1..=5)
                        .map(|h| {
                            let hz = f64::from(h) * midi_hz(f64::from(midi));
                            peak_near(f, win, hz) / f64::from(h)
                        })
                        .sum()
                };
                (45..=90)
                    .max_by(|&a, &b| salience(a).total_cmp(&salience(b)))
                    .expect("a range of pitches")
            })
        })
        .collect()
}

fn difference(a: &[f32], b: &[f32]) -> Vec<f32> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

#[test]
fn vocal_thirds_add_a_voice_a_third_above_in_any_style() {
    // Singing in thirds over an added singer is rare: look in a full-sized world.
    let world = generate(&WorldConfig {
        seed: 39,
        ..WorldConfig::default()
    });
    let mut spectra = Spectra::new();
    let mut failures: Vec<String> = Vec::new();
    // Styles whose singer is added over the arrangement, without a drone or a featured
    // instrument after it: there the voices' stems are exact differences of renders (the
    // singer's parts come last).
    let tracks = spread(&world, 5, |t| {
        has(t, "vocal-thirds")
            && !has(t, "drone")
            && t.recipe.properties.featured.is_none()
            && !matches!(
                t.style,
                Style::FolkDuet | Style::Ballad | Style::Choir | Style::HipHop
            )
    });
    assert!(styles_in(&tracks) >= 3, "{}", styles_in(&tracks));
    for track in tracks {
        let duet = render_excerpt(&track.recipe);
        let solo = render_excerpt(&with(&track.recipe, |p| p.thirds = false));
        let bare = render_excerpt(&with(&track.recipe, |p| {
            p.thirds = false;
            p.vocals = false;
            p.vibrato = false;
        }));
        let lead = sung_pitches(&mut spectra, &difference(&solo, &bare));
        let harmony = sung_pitches(&mut spectra, &difference(&duet, &solo));
        let intervals: Vec<i32> = lead
            .iter()
            .zip(&harmony)
            .filter_map(|(l, h)| Some(h.as_ref()? - l.as_ref()?))
            .collect();
        let thirds = intervals
            .iter()
            .filter(|i| matches!(i.rem_euclid(12), 3 | 4))
            .count();
        // Chance would put one interval in six at three or four semitones.
        if intervals.len() < 20 || thirds * 2 < intervals.len() {
            failures.push(format!(
                "{} #{}: {thirds} of {} sung frames a third apart",
                track.style.name(),
                track.index,
                intervals.len()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Energy of `x` in the 46 ms after each beat of `recipe`'s grid in its excerpt, split into
/// the beats on one and three and those on two and four: (1 and 3, 2 and 4).
fn energy_after_beats(recipe: &Recipe, x: &[f32]) -> (f64, f64) {
    let start = recipe.excerpt_start() as f64;
    let beat = 60.0 / f64::from(recipe.tempo_bpm) * SR;
    let window = (0.046 * SR) as usize;
    let mut by_parity = [0.0; 2];
    for k in (start / beat).ceil() as usize.. {
        let at = (k as f64 * beat - start) as usize;
        let Some(frame) = x.get(at..at + window) else {
            break;
        };
        by_parity[k % 2] += power(frame);
    }
    (by_parity[0], by_parity[1])
}

/// Share of the frames with a salient pitch (see [`sung_pitches`]) whose pitch is in `key`'s
/// scale, and how many frames had one.
fn in_key_share(spectra: &mut Spectra, x: &[f32], key: deepcuts::demo::Key) -> (f64, usize) {
    let scale: Vec<i32> = key
        .mode
        .intervals()
        .iter()
        .map(|&i| (i32::from(key.tonic_pc) + i32::from(i)) % 12)
        .collect();
    let pitches: Vec<i32> = sung_pitches(spectra, x).into_iter().flatten().collect();
    let in_key = pitches
        .iter()
        .filter(|p| scale.contains(&p.rem_euclid(12)))
        .count();
    (in_key as f64 / pitches.len().max(1) as f64, pitches.len())
}

fn power(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v).powi(2)).sum()
}

#[test]
fn featured_instruments_play_their_home_styles_figure_in_other_styles() {
    // Skanks are rare outside dub (and noise rock's are distorted): a full-sized world.
    let world = generate(&WorldConfig {
        seed: 44,
        ..WorldConfig::default()
    });
    let mut spectra = Spectra::new();
    let mut failures: Vec<String> = Vec::new();
    for featured in Featured::ALL {
        // Without an overdrive, the stem is the home style's figure as it is played there.
        let tracks = spread(&world, 4, |t| {
            t.recipe.properties.featured == Some(featured) && !has(t, "distortion")
        });
        assert!(
            styles_in(&tracks) >= 3 && tracks.iter().all(|t| t.style != featured.home()),
            "{featured:?} in {} styles",
            styles_in(&tracks)
        );
        for track in tracks {
            let mix = render_excerpt(&track.recipe);
            let bare = render_excerpt(&with(&track.recipe, |p| p.featured = None));
            let stem = difference(&mix, &bare);
            let mut fail = |what: String| {
                failures.push(format!(
                    "{featured:?} in {} #{}: {what}",
                    track.style.name(),
                    track.index
                ))
            };
            // Heard, not buried: at least a twentieth of the mix's power (−13 dB).
            let share = power(&stem) / power(&mix);
            if share < 0.05 {
                fail(format!("{share:.3} of the power"));
            }
            match featured {
                Featured::Skank => {
                    let (one_three, two_four) = energy_after_beats(&track.recipe, &stem);
                    if two_four < 4.0 * one_three {
                        fail(format!(
                            "after beats 2 and 4 {two_four}, 1 and 3 {one_three}"
                        ));
                    }
                }
                Featured::SquareLead => {
                    let odd = odd_harmonic_frames(&mut spectra, &stem);
                    if odd <= 0.6 {
                        fail(format!("odd-dominant frames {odd}"));
                    }
                }
                Featured::Piano | Featured::Fiddle => {
                    // Chance would put 7 in 12 pitches in the scale.
                    let (in_key, pitched) = in_key_share(&mut spectra, &stem, track.recipe.key);
                    if pitched < 40 || in_key < 0.85 {
                        fail(format!("{in_key:.2} of {pitched} pitched frames in key"));
                    }
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Share of power below 200 Hz, and how much that low power changes from one 93-ms hop to the
/// next, relative to its mean (how much the low end pulses, as opposed to slow swells; frames
/// of 186 ms average out the beating of low partials a few hertz apart).
fn low_share_and_pulsing(x: &[f32]) -> (f64, f64) {
    let mut spectra = Spectra::new();
    let power = spectra.power(x);
    let bin_hz = SR / x.len() as f64;
    let low: f64 = power[..(200.0 / bin_hz) as usize].iter().sum();
    let total: f64 = power.iter().sum();
    let win = 4096;
    let top_bin = (200.0 * win as f64 / SR) as usize;
    let energies: Vec<f64> = spectra
        .frames(x, win, win / 2)
        .iter()
        .map(|f| f[1..=top_bin].iter().map(|m| m * m).sum())
        .collect();
    let mean = energies.iter().sum::<f64>() / energies.len() as f64;
    let change = energies
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .sum::<f64>()
        / (energies.len() - 1) as f64;
    (low / total, change / mean)
}

#[test]
fn drones_are_low_and_steady() {
    let world = small_world(36);
    let mut steadiest_beat = f64::INFINITY;
    for style in [
        Style::DeepHouse,
        Style::NoiseRock,
        Style::HipHop,
        Style::Gabber,
    ] {
        // A beat without a drone or a long reverb under it.
        let track = spread(&world, 1, |t| {
            t.style == style && !has(t, "drone") && !has(t, "ambience")
        })[0];
        let (_, pulsing) = low_share_and_pulsing(&render_excerpt(&track.recipe));
        steadiest_beat = steadiest_beat.min(pulsing);
    }
    for track in tracks_of(&world, Style::Drone, 3) {
        let (low, pulsing) = low_share_and_pulsing(&render_excerpt(&track.recipe));
        assert!(
            low > 0.5,
            "drone #{}: {low} of the power below 200 Hz",
            track.index
        );
        assert!(
            pulsing < 0.25,
            "drone #{}: low end varies by {pulsing}",
            track.index
        );
        assert!(
            pulsing < steadiest_beat,
            "drone #{} {:?}: {pulsing} vs beats {steadiest_beat}",
            track.index,
            track.tags
        );
    }
}

/// Power at the fifth above the track's tonic in its lowest octave (the tonic in MIDI 33–44)
/// in 186-ms frames: the 10th percentile (its quietest moments) and the median. A bass line
/// plays the tonic itself often and would beat against a drone there.
fn low_fifth_power(spectra: &mut Spectra, recipe: &Recipe) -> (f64, f64) {
    let x = render_excerpt(recipe);
    let win = 4096;
    let tonic = (33..=44)
        .find(|m| m % 12 == i32::from(recipe.key.tonic_pc))
        .expect("every pitch class is in an octave");
    let freq = midi_hz(f64::from(tonic + 7));
    let mut levels: Vec<f64> = spectra
        .frames(&x, win, win)
        .iter()
        .map(|f| peak_near(f, win, freq).powi(2))
        .collect();
    levels.sort_by(f64::total_cmp);
    (levels[levels.len() / 10], levels[levels.len() / 2])
}

#[test]
fn drone_tracks_hold_a_low_tonic_in_any_style() {
    let world = small_world(40);
    let mut spectra = Spectra::new();
    let mut failures: Vec<String> = Vec::new();
    let tracks = spread(&world, 5, |t| has(t, "drone") && t.style != Style::Drone);
    assert!(styles_in(&tracks) >= 3, "{}", styles_in(&tracks));
    for track in tracks {
        // A drone fills the low fifth's quiet moments: between bass notes, chord changes, breaks.
        let (floor, median) = low_fifth_power(&mut spectra, &track.recipe);
        let bare = with(&track.recipe, |p| p.drone = false);
        let (bare_floor, bare_median) = low_fifth_power(&mut spectra, &bare);
        if !(floor > 2.0 * bare_floor && floor > 0.2 * median) {
            failures.push(format!(
                "{} #{}: low fifth's 10th percentile {floor} (median {median}), \
                 {bare_floor} (median {bare_median}) without the drone",
                track.style.name(),
                track.index
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks that tracks tagged `tag` (of styles other than `own_way`, which carry it in their
/// own arrangement or always) have a flatter spectrum in `lo_hz`–`hi_hz`, by more than `ratio`,
/// than the same recipes with the property switched off by `off`.
fn flatter_with(
    seed: u64,
    tag: &str,
    own_way: &[Style],
    off: fn(&mut Properties),
    (lo_hz, hi_hz): (f64, f64),
    ratio: f64,
) {
    let world = small_world(seed);
    let mut spectra = Spectra::new();
    let mut failures: Vec<String> = Vec::new();
    let tracks = spread(&world, 6, |t| has(t, tag) && !own_way.contains(&t.style));
    assert!(
        styles_in(&tracks) >= 3,
        "{tag} in {} styles",
        styles_in(&tracks)
    );
    for track in tracks {
        let with_it = flatness(&mut spectra, &render_excerpt(&track.recipe), lo_hz, hi_hz);
        let without_recipe = with(&track.recipe, off);
        let without = flatness(&mut spectra, &render_excerpt(&without_recipe), lo_hz, hi_hz);
        if with_it <= ratio * without {
            failures.push(format!(
                "{} #{}: spectral flatness at {lo_hz}–{hi_hz} Hz {with_it} with {tag}, {without} \
                 without",
                track.style.name(),
                track.index
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn distorted_tracks_are_noisier_in_any_style() {
    // An overdrive's harmonics and intermodulation fill the spectrum between partials. Noise
    // rock and gabber are always distorted, in their own way.
    flatter_with(
        42,
        "distortion",
        &[Style::NoiseRock, Style::Gabber],
        |p| p.distortion = false,
        (300.0, 3000.0),
        1.3,
    );
}

#[test]
fn ambient_tracks_ring_on_in_any_style() {
    // Earlier notes ring on under later ones and fill the spectrum between the partials.
    // Ambient and drone music always ring, and dub's echo rings on already; a choir's held
    // chords ring on in the partials they already sound, which flatness cannot tell.
    flatter_with(
        43,
        "ambience",
        &[Style::Ambient, Style::Drone, Style::Choir, Style::Dub],
        |p| p.ambience = false,
        (200.0, 2000.0),
        1.15,
    );
}

/// Mean spectral flatness (geometric over arithmetic mean of power) in `lo_hz`–`hi_hz`.
/// Powers below ten times the recording's mean hiss count as that: the hiss fills between the
/// partials of every track alike.
fn flatness(spectra: &mut Spectra, x: &[f32], lo_hz: f64, hi_hz: f64) -> f64 {
    let win = 2048;
    let frames = spectra.frames(x, win, 2048);
    let bin_hz = SR / win as f64;
    let (lo, hi) = ((lo_hz / bin_hz) as usize, (hi_hz / bin_hz) as usize);
    // A bin's mean power: white noise uniform in ±a has variance a²/3, and a Hann window of
    // `win` sums w² to 3·win/8.
    let hiss = f64::from(demo::HISS_AMPLITUDE).powi(2) * win as f64 / 8.0;
    let values: Vec<f64> = frames
        .iter()
        .map(|f| {
            let p: Vec<f64> = f[lo..hi].iter().map(|m| (m * m).max(10.0 * hiss)).collect();
            let geo = (p.iter().map(|v| v.ln()).sum::<f64>() / p.len() as f64).exp();
            geo / (p.iter().sum::<f64>() / p.len() as f64)
        })
        .collect();
    values.iter().sum::<f64>() / values.len() as f64
}

#[test]
fn noise_rock_is_noisier_than_the_tonal_styles() {
    let world = small_world(37);
    let mut spectra = Spectra::new();
    let noisy: Vec<f64> = tracks_of(&world, Style::NoiseRock, 2)
        .iter()
        .map(|t| flatness(&mut spectra, &render_excerpt(&t.recipe), 1000.0, 8000.0))
        .collect();
    for style in [
        Style::Chiptune,
        Style::Choir,
        Style::Ballad,
        Style::Chamber,
        Style::Country,
    ] {
        let track = spread(&world, 1, |t| {
            t.style == style && !has(t, "distortion") && !has(t, "ambience")
        })[0];
        let tonal = flatness(&mut spectra, &render_excerpt(&track.recipe), 1000.0, 8000.0);
        for &n in &noisy {
            assert!(
                n > 1.5 * tonal,
                "noise-rock {n} vs {} {tonal}",
                style.name()
            );
        }
    }
}

/// Spectral features of 10 s from the middle: mean and spread over time of log power in 20
/// log-spaced bands, and the mean of its frame-to-frame change (rhythm).
fn features(spectra: &mut Spectra, recipe: &Recipe) -> Vec<f64> {
    let start = recipe.excerpt_start() as usize + 10 * ANALYSIS_RATE_HZ as usize;
    let x = render(recipe, start, 10 * ANALYSIS_RATE_HZ as usize);
    let win = 2048;
    let frames = spectra.frames(&x, win, 512);
    let bin_hz = SR / win as f64;
    let edges: Vec<usize> = (0..=20)
        .map(|i| ((40.0 * 2f64.powf(i as f64 * 0.4)) / bin_hz) as usize)
        .collect();
    let bands: Vec<Vec<f64>> = frames
        .iter()
        .map(|f| {
            edges
                .windows(2)
                .map(|e| {
                    (f[e[0]..e[1].max(e[0] + 1)]
                        .iter()
                        .map(|m| m * m)
                        .sum::<f64>()
                        + 1e-9)
                        .log10()
                })
                .collect()
        })
        .collect();
    let n = bands.len() as f64;
    let mut out = Vec::new();
    for b in 0..20 {
        let mean = bands.iter().map(|f| f[b]).sum::<f64>() / n;
        let spread = (bands.iter().map(|f| (f[b] - mean).powi(2)).sum::<f64>() / n).sqrt();
        let change = bands
            .windows(2)
            .map(|w| (w[1][b] - w[0][b]).abs())
            .sum::<f64>()
            / n;
        out.extend([mean, spread, change]);
    }
    out
}

fn distance(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).powi(2))
        .sum::<f64>()
        .sqrt()
}

#[test]
fn styles_are_told_apart_by_their_spectra_and_artists_keep_their_sound() {
    let world = small_world(41);
    let mut spectra = Spectra::new();
    let per_style = 5;
    let mut labelled: Vec<(Style, usize, Vec<f64>)> = Vec::new();
    // Each style's own arrangement: a featured instrument is another style's on purpose.
    for style in Style::ALL {
        for track in tracks_of(&world, style, per_style) {
            let own = with(&track.recipe, |p| p.featured = None);
            labelled.push((style, track.artist_index, features(&mut spectra, &own)));
        }
    }
    // Leave-one-out nearest centroid: 14 styles, chance is 7%.
    let mut correct = 0;
    for (i, (style, _, f)) in labelled.iter().enumerate() {
        let predicted = Style::ALL
            .iter()
            .min_by(|&&a, &&b| {
                let centroid = |s: Style| -> Vec<f64> {
                    let members: Vec<&Vec<f64>> = labelled
                        .iter()
                        .enumerate()
                        .filter(|(j, (t, _, _))| *j != i && *t == s)
                        .map(|(_, (_, _, g))| g)
                        .collect();
                    (0..f.len())
                        .map(|d| members.iter().map(|g| g[d]).sum::<f64>() / members.len() as f64)
                        .collect()
                };
                distance(f, &centroid(a)).total_cmp(&distance(f, &centroid(b)))
            })
            .unwrap();
        if predicted == style {
            correct += 1;
        }
    }
    // Ten times chance: band statistics alone tell most styles apart.
    let accuracy = correct as f64 / labelled.len() as f64;
    assert!(accuracy >= 0.7, "nearest-centroid accuracy {accuracy}");

    // Two tracks of one artist sound closer than tracks of two artists of the same style.
    let mut same = Vec::new();
    let mut other = Vec::new();
    for style in [
        Style::DeepHouse,
        Style::Ballad,
        Style::NoiseRock,
        Style::SmoothJazz,
    ] {
        let tracks: Vec<&DemoTrack> = world
            .tracks
            .iter()
            .filter(|t| t.style == style && t.kind == TrackKind::Regular)
            .collect();
        let by_artist: Vec<Vec<&DemoTrack>> = {
            let mut map: HashMap<usize, Vec<&DemoTrack>> = HashMap::new();
            for t in &tracks {
                map.entry(t.artist_index).or_default().push(t);
            }
            let mut groups: Vec<Vec<&DemoTrack>> =
                map.into_values().filter(|g| g.len() >= 2).collect();
            groups.sort_by_key(|g| g[0].index);
            groups
        };
        let (a, b) = (&by_artist[0], &by_artist[1]);
        let fa0 = features(&mut spectra, &a[0].recipe);
        let fa1 = features(&mut spectra, &a[1].recipe);
        let fb0 = features(&mut spectra, &b[0].recipe);
        same.push(distance(&fa0, &fa1));
        other.push(distance(&fa0, &fb0));
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&same) < mean(&other),
        "same artist {same:?} vs other {other:?}"
    );
}

// ----- the catalog -----

#[test]
fn the_catalog_has_every_style_and_well_formed_albums() {
    let world = generate(&WorldConfig::default());
    assert_eq!(world.tracks.len(), WorldConfig::default().tracks);
    let styles: HashSet<Style> = world.tracks.iter().map(|t| t.style).collect();
    assert_eq!(styles.len(), Style::ALL.len());
    for style in Style::ALL {
        let n = world
            .tracks
            .iter()
            .filter(|t| t.style == style && t.kind == TrackKind::Regular)
            .count();
        assert!(n >= 100, "{}: {n} regular tracks", style.name());
    }
    for (i, t) in world.tracks.iter().enumerate() {
        assert_eq!(t.index, i);
        assert!(t.duration_secs >= 60.0);
        assert_eq!(t.tags[0], t.style.name());
        assert_eq!(t.style, t.recipe.style);
        assert_eq!(t.kind, t.recipe.kind);
        assert!(t.tags.iter().any(|g| g == t.kind.name()) == (t.kind != TrackKind::Regular));
        let traits = if t.kind.is_sketch() {
            demo::SKETCH_TRAITS
        } else {
            t.style.traits()
        };
        assert!(
            traits.iter().all(|w| t.tags.iter().any(|g| g == w)),
            "{:?}",
            t.tags
        );
        // A regular track carries exactly its artist's property tags, and the tags of its own
        // key and tempo, which mostly are the artist's.
        if t.kind == TrackKind::Regular {
            let artist = &world.artists[t.artist_index];
            let p = artist.properties;
            for (on, tag) in [
                (p.vocals, "vocals"),
                (p.vibrato, "vibrato"),
                (p.thirds, "vocal-thirds"),
                (p.ambience, "ambience"),
                (p.distortion, "distortion"),
                (p.drone, "drone"),
                (t.recipe.key.mode.is_minor(), "minor-key"),
                (t.recipe.key.tonic_pc == 10, "b-flat"),
                (t.recipe.key.tonic_pc == 9, "a-chord"),
                (t.recipe.tempo_bpm < demo::SLOW_BELOW_BPM, "slow"),
                (t.recipe.tempo_bpm >= demo::FAST_FROM_BPM, "fast"),
            ] {
                assert_eq!(has(t, tag), on, "{tag} in {:?}", t.tags);
            }
        }
        assert_eq!(t.artist, world.artists[t.artist_index].name);
        assert_eq!(t.album, world.albums[t.album_index].title);
    }
    // Albums: contiguous, one artist, intro first, outro last, atypical items at their rates.
    let full_albums = &world.albums[..world.albums.len() - 1];
    let share = |kind: TrackKind| {
        full_albums
            .iter()
            .filter(|a| {
                world.tracks[a.first_track..a.first_track + a.track_count]
                    .iter()
                    .any(|t| t.kind == kind)
            })
            .count() as f64
            / full_albums.len() as f64
    };
    for (kind, rate) in [
        (TrackKind::Intro, demo::INTRO_RATE),
        (TrackKind::Outro, demo::OUTRO_RATE),
        (TrackKind::Interlude, demo::INTERLUDE_RATE),
        (TrackKind::Cover, demo::COVER_RATE),
    ] {
        let observed = share(kind);
        assert!(
            (observed - rate).abs() < 0.1,
            "{kind:?}: {observed} of albums, expected {rate}"
        );
    }
    assert!(share(TrackKind::Remix) > 0.1);
    let mut next = 0;
    for album in &world.albums {
        assert_eq!(album.first_track, next);
        next += album.track_count;
        let tracks = &world.tracks[album.first_track..album.first_track + album.track_count];
        for (position, t) in tracks.iter().enumerate() {
            assert_eq!(t.artist_index, album.artist);
            assert_eq!(t.track_number, position + 1);
            if t.kind == TrackKind::Intro {
                assert_eq!(position, 0);
            }
            if t.kind == TrackKind::Outro {
                assert_eq!(position + 1, tracks.len());
            }
        }
    }
    assert_eq!(next, world.tracks.len());
}

#[test]
fn covers_and_remixes_reference_their_originals() {
    let world = generate(&WorldConfig::default());
    let mut covers = 0;
    let mut remixes = 0;
    for t in &world.tracks {
        match t.kind {
            TrackKind::Cover => {
                covers += 1;
                let o = &world.tracks[t.original.unwrap()];
                assert_eq!(o.kind, TrackKind::Regular);
                assert_ne!(
                    o.artist_index, t.artist_index,
                    "a cover is of another artist's song"
                );
                assert_eq!(
                    (o.recipe.song_seed, o.recipe.key, o.recipe.style),
                    (t.recipe.song_seed, t.recipe.key, t.recipe.style)
                );
                assert_eq!(
                    t.recipe.timbre, world.artists[t.artist_index].timbre,
                    "played with the coverer's sound"
                );
                assert_eq!(
                    t.recipe.properties, world.artists[t.artist_index].properties,
                    "and the coverer's properties"
                );
                assert_eq!(o.title, t.title);
            }
            TrackKind::Remix => {
                remixes += 1;
                let o = &world.tracks[t.original.unwrap()];
                assert_eq!(o.kind, TrackKind::Regular);
                assert_eq!(o.artist_index, t.artist_index);
                assert_eq!(o.recipe.song_seed, t.recipe.song_seed);
                assert_ne!(o.recipe.style, t.recipe.style, "a remix changes the style");
                assert!(t.title.starts_with(&o.title) && t.title.ends_with("Remix)"));
            }
            _ => assert_eq!(t.original, None),
        }
        if let Some(original) = t.original {
            assert!(original < t.index);
        }
    }
    assert!(
        covers > 50 && remixes > 30,
        "{covers} covers, {remixes} remixes"
    );
}

// ----- the listening -----

#[test]
fn plays_are_skewed_towards_popular_tracks() {
    let world = generate(&WorldConfig::default());
    let mut per_track = vec![0u64; world.tracks.len()];
    for &(u, t, c) in &world.plays {
        assert!(c >= 1);
        assert!((u as usize) < world.users.len());
        per_track[t as usize] += u64::from(c);
    }
    assert!(
        world
            .plays
            .windows(2)
            .all(|w| (w[0].0, w[0].1) < (w[1].0, w[1].1)),
        "sorted, no duplicates"
    );
    let total: u64 = per_track.iter().sum();
    per_track.sort_unstable_by(|a, b| b.cmp(a));
    let top = per_track[..per_track.len() / 10].iter().sum::<u64>() as f64 / total as f64;
    // At least three times their share: popular artists and singles still draw most plays
    // outside the mood radios, which flatten a song's appeal (0.33 on the default world).
    assert!(top > 0.3, "top 10% of tracks take {top} of the plays");
    let users_with_plays: HashSet<u32> = world.plays.iter().map(|p| p.0).collect();
    assert_eq!(users_with_plays.len(), world.users.len());
}

#[test]
fn listeners_concentrate_on_their_favourite_styles() {
    let world = generate(&WorldConfig::default());
    let mut per_user: Vec<HashMap<Style, u64>> = vec![HashMap::new(); world.users.len()];
    for &(u, t, c) in &world.plays {
        *per_user[u as usize]
            .entry(world.tracks[t as usize].style)
            .or_default() += u64::from(c);
    }
    let mut top_shares = Vec::new();
    let mut agree = 0;
    let mut agree_top = 0;
    let mut counted = 0;
    for (user, styles) in per_user.iter().enumerate() {
        let total: u64 = styles.values().sum();
        // Listeners who seek out properties spread over styles (the next test).
        if total < 20 || !world.tastes[user].liked_properties.is_empty() {
            continue;
        }
        let (&most, &count) = styles.iter().max_by_key(|(_, &c)| c).unwrap();
        top_shares.push(count as f64 / total as f64);
        counted += 1;
        // Remixes sound like their remix style: compare with the listener's two loved styles.
        let mut loved: Vec<(usize, f64)> = world.tastes[user]
            .style_weights
            .iter()
            .copied()
            .enumerate()
            .collect();
        loved.sort_by(|a, b| b.1.total_cmp(&a.1));
        if loved[..2].iter().any(|&(s, _)| Style::ALL[s] == most) {
            agree += 1;
        }
        if world.tastes[user].top_style() == most {
            agree_top += 1;
        }
    }
    let mean_top = top_shares.iter().sum::<f64>() / top_shares.len() as f64;
    assert!(
        mean_top > 0.5,
        "the most played style takes {mean_top} of a listener's plays"
    );
    assert!(
        agree as f64 / counted as f64 > 0.9,
        "{agree} of {counted} play their loved styles most"
    );
    assert!(
        agree_top as f64 / counted as f64 > 0.75,
        "{agree_top} of {counted} play their favourite style most"
    );
}

#[test]
fn listeners_who_like_a_property_play_it_across_styles() {
    let world = generate(&WorldConfig::default());
    let mut fans = 0;
    let mut lift = 0.0;
    let mut styles_heard = 0.0;
    for (user, taste) in world.tastes.iter().enumerate() {
        let Some(liked) = taste.liked_properties.first() else {
            continue;
        };
        let plays: Vec<&(u32, u32, u32)> = world
            .plays
            .iter()
            .filter(|p| p.0 as usize == user)
            .collect();
        let total: u32 = plays.iter().map(|p| p.2).sum();
        if total < 20 {
            continue;
        }
        let carrying: Vec<&DemoTrack> = plays
            .iter()
            .map(|p| &world.tracks[p.1 as usize])
            .filter(|t| has(t, liked))
            .collect();
        let share = plays
            .iter()
            .filter(|p| has(&world.tracks[p.1 as usize], liked))
            .map(|p| p.2)
            .sum::<u32>() as f64
            / f64::from(total);
        let background = world.tracks.iter().filter(|t| has(t, liked)).count() as f64
            / world.tracks.len() as f64;
        fans += 1;
        lift += share - background;
        styles_heard += styles_in(&carrying) as f64;
    }
    assert!(fans > 300, "{fans} listeners like a property");
    let (lift, styles_heard) = (lift / f64::from(fans), styles_heard / f64::from(fans));
    assert!(
        lift > 0.25,
        "their plays carry it {lift} more often than the catalog"
    );
    assert!(
        styles_heard >= 2.5,
        "they hear it in {styles_heard} styles on average"
    );
}

#[test]
fn properties_vary_within_styles_and_cross_them() {
    let world = generate(&WorldConfig::default());
    for tag in demo::PROPERTY_TAGS {
        // Styles where some artists have it and others do not.
        let mut varies = 0;
        let mut present = 0;
        for style in Style::ALL {
            let artists: Vec<bool> = world
                .artists
                .iter()
                .filter(|a| a.style == style)
                .map(|a| a.property_tags().contains(&tag))
                .collect();
            let with = artists.iter().filter(|&&x| x).count();
            present += usize::from(with > 0);
            varies += usize::from(with > 0 && with < artists.len());
        }
        assert!(present >= 4, "{tag} in {present} styles");
        assert!(varies >= 3, "{tag} varies within {varies} styles");
    }
}

#[test]
fn albums_are_heard_in_sessions() {
    let world = generate(&WorldConfig::default());
    let mut listeners: Vec<HashSet<u32>> = vec![HashSet::new(); world.tracks.len()];
    for &(u, t, _) in &world.plays {
        listeners[t as usize].insert(u);
    }
    let jaccard = |a: usize, b: usize| {
        let (x, y) = (&listeners[a], &listeners[b]);
        if x.is_empty() && y.is_empty() {
            return 0.0;
        }
        x.intersection(y).count() as f64 / x.union(y).count() as f64
    };
    let mut same_album = Vec::new();
    let mut same_style_other_artist = Vec::new();
    for album in world.albums.iter().take(150) {
        let (a, b) = (album.first_track, album.first_track + album.track_count - 1);
        same_album.push(jaccard(a, b));
        let style = world.tracks[a].style;
        if let Some(other) = world.tracks.iter().find(|t| {
            t.style == style && t.artist_index != album.artist && t.kind == TrackKind::Regular
        }) {
            same_style_other_artist.push(jaccard(a, other.index));
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    // Most style sessions play a few songs, some a whole album.
    assert!(
        mean(&same_album) > 2.5 * mean(&same_style_other_artist),
        "same album {} vs same style {}",
        mean(&same_album),
        mean(&same_style_other_artist)
    );
    // Intros are heard in album sessions: their listeners also played the album's songs.
    let mut with_album = 0;
    let mut total = 0;
    for album in &world.albums {
        let range = album.first_track..album.first_track + album.track_count;
        let intro = &world.tracks[album.first_track];
        if intro.kind != TrackKind::Intro {
            continue;
        }
        for &u in &listeners[intro.index] {
            total += 1;
            if range.clone().skip(1).any(|t| listeners[t].contains(&u)) {
                with_album += 1;
            }
        }
    }
    assert!(
        with_album as f64 / total as f64 > 0.9,
        "{with_album} of {total}"
    );
}

#[test]
fn chunk_boundaries_do_not_click() {
    // Each chunk renders from its own warm-up: the seams must not stand out from the music.
    let world = small_world(12);
    for style in [Style::Ambient, Style::Dub, Style::Choir, Style::Drone] {
        let track = tracks_of(&world, style, 1)[0];
        let n = track.recipe.length_samples as usize;
        let x = render(&track.recipe, 0, n);
        let mut steps: Vec<f32> = x.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
        let renderer = TrackRenderer::new(&track.recipe);
        let mut seams = Vec::new();
        let mut at = renderer.next_chunk_boundary(0);
        while at < n {
            seams.push(steps[at - 1]);
            at = renderer.next_chunk_boundary(at);
        }
        steps.sort_by(f32::total_cmp);
        let p999 = steps[steps.len() * 999 / 1000];
        for seam in seams {
            assert!(
                seam <= p999,
                "{}: step {seam} at a seam, 99.9th percentile {p999}",
                style.name()
            );
        }
    }
}

#[test]
fn a_wav_that_cannot_be_written_is_an_error_naming_the_file() {
    let world = small_world(5);
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("track.wav");
    let err = demo::write_wav(&path, &world.tracks[0].recipe).unwrap_err();
    assert!(err.to_string().contains("track.wav"), "{err}");
}

/// Listening to a demo track: the player, fed by the on-demand renderer, delivers the track's
/// own samples from the moment asked for (a sink at the track's rate passes them through).
#[test]
fn a_demo_track_plays_through_the_player_from_any_moment() {
    use deepcuts::audio::player::{CaptureSink, OutputFormat, PlaybackState, Player};
    use deepcuts::demo::DemoSource;

    let recipe = demo::track(4, 11).recipe;
    let sink = CaptureSink::new(OutputFormat {
        sample_rate_hz: ANALYSIS_RATE_HZ,
        channels: 1,
    });
    let mut player = Player::with_output(Box::new(sink.clone())).unwrap();
    player.load(Box::new(DemoSource::new(&recipe))).unwrap();
    let start_secs = 42.0;
    player.seek_secs(start_secs);
    player.play().unwrap();
    let wanted = ANALYSIS_RATE_HZ as usize; // one second
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while sink.captured_frames() < wanted && player.state() == PlaybackState::Playing {
        if sink.pull(512) == 0 {
            assert!(std::time::Instant::now() < deadline, "no audio arrived");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    let captured = sink.captured();
    let expected = render(&recipe, (start_secs * SR) as usize, captured.len());
    assert!(captured.len() >= wanted);
    assert_eq!(captured, expected);
    assert!((player.position_secs() - start_secs - captured.len() as f64 / SR).abs() < 1e-6);
}
