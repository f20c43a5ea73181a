//! Rendering a recipe to samples: the score's parts are played, processed, mixed, sent through
//! echo and reverb, and soft-limited, chunk by chunk.
//!
//! A track is cut into chunks of [`CHUNK_SAMPLES`], aligned so that the analysed middle excerpt
//! is exactly three chunks. Each chunk is rendered on its own from a warm-up before its start
//! (long enough for reverb and echo tails to build up), so a chunk is a pure function of the
//! recipe and its index: any range renders identically to the same range of a full render,
//! and a player can start anywhere.

use std::io;
use std::path::Path;

use super::effects::{saturate, soft_limit, Biquad, Echo, Reverb};
use super::instruments::{render_note, Instrument, Note, SR};
use super::recipe::Recipe;
use super::rng::{derive_seed, noise_at};
use crate::audio::{ANALYSIS_RATE_HZ, EXCERPT_SAMPLES};

/// Samples per render chunk: a third of the analysed excerpt (10 s).
pub const CHUNK_SAMPLES: usize = EXCERPT_SAMPLES / 3;

/// Processing applied to a part's summed notes.
#[derive(Debug, Clone, Copy)]
pub(crate) enum PostFx {
    /// Vowel formants of a singing voice (the vowel of the latest note), female or male.
    Formants {
        female: bool,
    },
    /// Overdrive: gain into a saturator, then a tone lowpass.
    Drive {
        gain: f32,
        tone_hz: f32,
    },
    Lowpass {
        cutoff_hz: f32,
    },
    Highpass {
        cutoff_hz: f32,
    },
    /// Fixed body resonances (violin, saxophone, guitar body) mixed with the dry sound.
    Body {
        freqs_hz: [f32; 3],
        q: f32,
        mix: f32,
    },
    /// Side-chain pumping: the gain dips on every beat and recovers.
    Duck {
        depth: f32,
        beat_samples: f64,
        recover_secs: f32,
    },
}

/// One instrument's line and how it is mixed.
#[derive(Debug, Clone)]
pub(crate) struct Part {
    pub instrument: Instrument,
    /// Sorted by start.
    pub notes: Vec<Note>,
    pub gain: f32,
    pub reverb_send: f32,
    pub echo_send: f32,
    pub post: Vec<PostFx>,
    /// Seed of the part's noise.
    pub seed: u64,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct ReverbSettings {
    pub decay_secs: f32,
    pub size: f32,
    pub damping: f32,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct EchoSettings {
    pub delay_samples: usize,
    pub feedback: f32,
}

/// A track ready to render: parts, effects, master gain and length.
#[derive(Debug, Clone)]
pub(crate) struct Score {
    pub parts: Vec<Part>,
    pub reverb: Option<ReverbSettings>,
    pub echo: Option<EchoSettings>,
    pub master_gain: f32,
    pub length_samples: i64,
    pub fade_out_secs: f32,
    /// Seed of the recording's noise floor ([`HISS_AMPLITUDE`]).
    pub hiss_seed: u64,
}

/// The recording's noise floor: white noise of this amplitude (uniform, so −58 dBFS RMS),
/// about −40 dB in every band of the log-mel (the Slaney-normalised mel power of white noise
/// of variance σ² is ≈ 71 σ²). Real recordings are never digitally silent. Without it the
/// silences of sparse styles (ballads, folk duets, dub) sit at the log-mel's −100 dB floor,
/// so every onset there is an extreme that tops the first-layer filters' max-activation
/// playlists whatever the filter detects (with it, 4–7 points more of them were low-level on
/// two seeds).
pub const HISS_AMPLITUDE: f32 = 2.05e-3;

impl Score {
    /// Samples rendered before a chunk so that reverb and echo have built up: their tails
    /// from earlier are then at least ~36 dB down.
    fn warmup_samples(&self) -> i64 {
        let reverb = self.reverb.map_or(0.0, |r| 0.6 * r.decay_secs);
        let echo = self.echo.map_or(0.0, |e| {
            // Repeats until 45 dB down: feedback^n = 10^(-45/20).
            let repeats = (-2.25 / e.feedback.max(0.05).log10()).min(12.0);
            repeats * e.delay_samples as f32 / SR
        });
        (reverb.max(echo).clamp(0.25, 4.0) * SR) as i64
    }

    pub(crate) fn sort_notes(&mut self) {
        for part in &mut self.parts {
            part.notes.sort_by_key(|n| n.start);
        }
    }
}

/// Renders ranges of one track, keeping its score and the last chunk it rendered.
pub struct TrackRenderer {
    score: Score,
    /// Chunk boundaries are `anchor + k · CHUNK_SAMPLES`.
    anchor: i64,
    warmup: i64,
    /// Longest note of each part, to find the notes that reach into a chunk.
    longest: Vec<i64>,
    cached: Option<(i64, Vec<f32>)>,
}

impl TrackRenderer {
    pub fn new(recipe: &Recipe) -> Self {
        let mut score = super::arrange::arrange(recipe);
        score.sort_notes();
        let anchor = (recipe.excerpt_start() % CHUNK_SAMPLES as u64) as i64;
        let warmup = score.warmup_samples();
        let longest = score
            .parts
            .iter()
            .map(|p| p.notes.iter().map(|n| n.end - n.start).max().unwrap_or(0))
            .collect();
        Self {
            score,
            anchor,
            warmup,
            longest,
            cached: None,
        }
    }

    /// Length of the track in samples.
    pub fn len_samples(&self) -> usize {
        self.score.length_samples as usize
    }

    /// The first chunk boundary after `sample`: reading up to it costs one chunk render, so a
    /// player that reads in such pieces renders every chunk once.
    pub fn next_chunk_boundary(&self, sample: usize) -> usize {
        let chunk = CHUNK_SAMPLES as i64;
        let index = (sample as i64 - self.anchor).div_euclid(chunk);
        (self.anchor + (index + 1) * chunk) as usize
    }

    /// Samples `[start, start + n)` of the track at 22050 Hz; zeros past its end.
    pub fn render(&mut self, start: usize, n: usize) -> Vec<f32> {
        let mut out = vec![0.0; n];
        let clamp = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
        let (start, end) = (clamp(start), clamp(start.saturating_add(n)));
        let end_in_track = end.min(self.score.length_samples);
        let chunk = CHUNK_SAMPLES as i64;
        let mut at = start;
        while at < end_in_track {
            let index = (at - self.anchor).div_euclid(chunk);
            let chunk_start = self.anchor + index * chunk;
            let chunk_end = (chunk_start + chunk).min(end_in_track);
            let samples = self.chunk(index);
            let from = (at - chunk_start) as usize;
            let to = (chunk_end - chunk_start) as usize;
            out[(at - start) as usize..(chunk_end - start) as usize]
                .copy_from_slice(&samples[from..to]);
            at = chunk_end;
        }
        out
    }

    fn chunk(&mut self, index: i64) -> &[f32] {
        let fresh = !matches!(&self.cached, Some((cached, _)) if *cached == index);
        if fresh {
            let start = self.anchor + index * CHUNK_SAMPLES as i64;
            let samples = self.render_chunk(start);
            self.cached = Some((index, samples));
        }
        &self.cached.as_ref().expect("the chunk was just cached").1
    }

    /// Renders `[chunk_start, chunk_start + CHUNK_SAMPLES)` from a warm-up before it.
    fn render_chunk(&self, chunk_start: i64) -> Vec<f32> {
        let score = &self.score;
        let span_start = chunk_start - self.warmup;
        let span_len = CHUNK_SAMPLES + self.warmup as usize;
        let span_end = span_start + span_len as i64;
        let mut mix = vec![0.0f32; span_len];
        let mut reverb_in = vec![0.0f32; if score.reverb.is_some() { span_len } else { 0 }];
        let mut echo_in = vec![0.0f32; if score.echo.is_some() { span_len } else { 0 }];
        let mut part_buf = vec![0.0f32; span_len];
        for (part, &longest) in score.parts.iter().zip(&self.longest) {
            let first = part
                .notes
                .partition_point(|n| n.start < span_start - longest);
            let mut any = false;
            part_buf.fill(0.0);
            for note in part.notes[first..]
                .iter()
                .take_while(|n| n.start < span_end)
            {
                if note.end > span_start {
                    render_note(&part.instrument, note, span_start, &mut part_buf, part.seed);
                    any = true;
                }
            }
            if !any {
                continue;
            }
            for fx in &part.post {
                apply_post(fx, &mut part_buf, span_start, &part.notes[first..]);
            }
            let sends = [
                (&mut mix, part.gain),
                (&mut reverb_in, part.gain * part.reverb_send),
                (&mut echo_in, part.gain * part.echo_send),
            ];
            for (bus, level) in sends {
                if level > 0.0 && !bus.is_empty() {
                    for (b, x) in bus.iter_mut().zip(&part_buf) {
                        *b += level * x;
                    }
                }
            }
        }
        if let Some(echo) = score.echo {
            let mut echoes = vec![0.0f32; span_len];
            Echo::new(echo.delay_samples, echo.feedback, SR).process(&echo_in, &mut echoes);
            for (i, e) in echoes.iter().enumerate() {
                mix[i] += e;
                if let Some(r) = reverb_in.get_mut(i) {
                    *r += 0.5 * e;
                }
            }
        }
        if let Some(r) = score.reverb {
            Reverb::new(r.decay_secs, r.size, r.damping, SR).process(&reverb_in, &mut mix);
        }
        let warmup = self.warmup as usize;
        let fade_in = 0.01 * SR;
        let fade_out = score.fade_out_secs * SR;
        mix[warmup..]
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let t = chunk_start + i as i64;
                if t < 0 || t >= score.length_samples {
                    return 0.0;
                }
                let from_end = (score.length_samples - t) as f32;
                let fade = (t as f32 / fade_in).min(1.0) * (from_end / fade_out).min(1.0).powi(2);
                let hiss = HISS_AMPLITUDE * noise_at(score.hiss_seed, t);
                soft_limit((x * score.master_gain + hiss) * fade)
            })
            .collect()
    }
}

/// Formant centre frequencies (Hz) and levels (linear) of the vowels a, e, i, o, u: the
/// standard bass and soprano tables (as in Csound's FOF examples), first four formants.
const FORMANTS_MALE: [[(f32, f32); 4]; 5] = [
    [
        (600.0, 1.0),
        (1040.0, 0.447),
        (2250.0, 0.355),
        (2450.0, 0.355),
    ],
    [
        (400.0, 1.0),
        (1620.0, 0.251),
        (2400.0, 0.355),
        (2800.0, 0.251),
    ],
    [
        (250.0, 1.0),
        (1750.0, 0.032),
        (2600.0, 0.158),
        (3050.0, 0.079),
    ],
    [(400.0, 1.0), (750.0, 0.282), (2400.0, 0.089), (2600.0, 0.1)],
    [(350.0, 1.0), (600.0, 0.1), (2400.0, 0.025), (2675.0, 0.04)],
];
const FORMANTS_FEMALE: [[(f32, f32); 4]; 5] = [
    [
        (800.0, 1.0),
        (1150.0, 0.501),
        (2900.0, 0.025),
        (3900.0, 0.1),
    ],
    [(350.0, 1.0), (2000.0, 0.1), (2800.0, 0.178), (3600.0, 0.01)],
    [
        (270.0, 1.0),
        (2140.0, 0.251),
        (2950.0, 0.05),
        (3900.0, 0.05),
    ],
    [
        (450.0, 1.0),
        (800.0, 0.282),
        (2830.0, 0.079),
        (3800.0, 0.079),
    ],
    [
        (325.0, 1.0),
        (700.0, 0.158),
        (2700.0, 0.018),
        (3800.0, 0.01),
    ],
];

/// Samples between formant and duck updates.
const FX_BLOCK: usize = 64;

fn apply_post(fx: &PostFx, buf: &mut [f32], span_start: i64, notes: &[Note]) {
    match *fx {
        PostFx::Formants { female } => formants(buf, span_start, notes, female),
        PostFx::Drive { gain, tone_hz } => {
            let mut tone = Biquad::lowpass(tone_hz, 0.7, SR);
            for x in buf.iter_mut() {
                *x = tone.process(saturate(*x * gain));
            }
        }
        PostFx::Lowpass { cutoff_hz } => Biquad::lowpass(cutoff_hz, 0.7, SR).process_buffer(buf),
        PostFx::Highpass { cutoff_hz } => Biquad::highpass(cutoff_hz, 0.7, SR).process_buffer(buf),
        PostFx::Body { freqs_hz, q, mix } => {
            let mut bands = freqs_hz.map(|f| Biquad::bandpass(f, q, SR));
            for x in buf.iter_mut() {
                let resonant: f32 = bands.iter_mut().map(|b| b.process(*x)).sum();
                *x = (1.0 - mix) * *x + mix * 2.0 * resonant;
            }
        }
        PostFx::Duck {
            depth,
            beat_samples,
            recover_secs,
        } => {
            let recover = recover_secs * SR;
            for (b, block) in buf.chunks_mut(FX_BLOCK).enumerate() {
                let t = (span_start + (b * FX_BLOCK) as i64) as f64;
                let since_beat = t.rem_euclid(beat_samples) as f32;
                let gain = 1.0 - depth * (-since_beat / recover).exp();
                for x in block {
                    *x *= gain;
                }
            }
        }
    }
}

/// Filters a voice part through the formants of the vowel being sung, gliding between vowels.
fn formants(buf: &mut [f32], span_start: i64, notes: &[Note], female: bool) {
    let table = if female {
        &FORMANTS_FEMALE
    } else {
        &FORMANTS_MALE
    };
    let vowel_at = |t: i64, from: &mut usize| -> usize {
        while *from + 1 < notes.len() && notes[*from + 1].start <= t {
            *from += 1;
        }
        usize::from(notes.get(*from).map_or(0, |n| n.vowel)) % table.len()
    };
    let mut cursor = 0;
    let first = table[vowel_at(span_start, &mut cursor)];
    let mut freqs = first.map(|(f, _)| f);
    let mut levels = first.map(|(_, l)| l);
    let bandwidth_hz = [70.0, 90.0, 120.0, 130.0];
    let design = |f: f32, k: usize| Biquad::bandpass(f, f / bandwidth_hz[k], SR);
    let mut bands: [Biquad; 4] = std::array::from_fn(|k| design(freqs[k], k));
    // One-pole glide of the formants between vowels, ~30 ms.
    let coeff = (-(FX_BLOCK as f32) / (0.03 * SR)).exp();
    for (b, block) in buf.chunks_mut(FX_BLOCK).enumerate() {
        let target = table[vowel_at(span_start + (b * FX_BLOCK) as i64, &mut cursor)];
        for k in 0..4 {
            freqs[k] = target[k].0 + coeff * (freqs[k] - target[k].0);
            levels[k] = target[k].1 + coeff * (levels[k] - target[k].1);
            bands[k].retune(&design(freqs[k], k));
        }
        for x in block {
            let input = *x;
            let mut y = 0.0;
            for k in 0..4 {
                y += levels[k] * bands[k].process(input);
            }
            *x = 3.0 * y;
        }
    }
}

/// Renders samples `[start_sample, start_sample + n_samples)` of a track at 22050 Hz mono.
pub fn render(recipe: &Recipe, start_sample: usize, n_samples: usize) -> Vec<f32> {
    TrackRenderer::new(recipe).render(start_sample, n_samples)
}

/// The analysed middle 30 s ([`EXCERPT_SAMPLES`] samples from [`Recipe::excerpt_start`]).
pub fn render_excerpt(recipe: &Recipe) -> Vec<f32> {
    render(recipe, recipe.excerpt_start() as usize, EXCERPT_SAMPLES)
}

/// Renders the whole track and writes it as a 32-bit float mono WAV at 22050 Hz, atomically
/// (a failed write leaves no partial file); the error names the file.
pub fn write_wav(path: &Path, recipe: &Recipe) -> io::Result<()> {
    let mut renderer = TrackRenderer::new(recipe);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: ANALYSIS_RATE_HZ,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    let total = renderer.len_samples();
    let mut bytes = io::Cursor::new(Vec::with_capacity(total * 4 + 64));
    {
        let mut writer = hound::WavWriter::new(&mut bytes, spec).map_err(io::Error::other)?;
        let mut at = 0;
        while at < total {
            let n = renderer.next_chunk_boundary(at).min(total) - at;
            for x in renderer.render(at, n) {
                writer.write_sample(x).map_err(io::Error::other)?;
            }
            at += n;
        }
        writer.finalize().map_err(io::Error::other)?;
    }
    crate::io::atomic::write_bytes_atomic(path, &bytes.into_inner())
        .map_err(|e| io::Error::new(e.kind(), format!("writing {}: {e}", path.display())))
}

/// Seed of part `index`'s noise for a performance.
pub(crate) fn part_seed(performance_seed: u64, index: usize) -> u64 {
    derive_seed(performance_seed, &[0x9A47, index as u64])
}
