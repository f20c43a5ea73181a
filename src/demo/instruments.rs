//! Synthesis models for single notes: subtractive synth voices (also the singing voice's source),
//! additive partials (plucked strings, piano, organ), two-operator FM (electric piano, bells),
//! drums and noise textures.
//!
//! A note can be rendered from any sample onwards: oscillator phases and envelopes have closed
//! forms in the time since note-on, so a chunk that starts in the middle of a long note sets its
//! state directly; only filters start from rest, which the chunk's warm-up absorbs.

use std::f64::consts::{LN_2, TAU};

use super::effects::{round_fast, saturate, sin_turns, wrap_unit, Biquad, OnePole, Svf};
use super::rng::{mix64, noise_at};
use super::theory::midi_to_hz;
use crate::audio::ANALYSIS_RATE_HZ;

/// The render rate as f32 and f64.
pub(crate) const SR: f32 = ANALYSIS_RATE_HZ as f32;
const SR64: f64 = ANALYSIS_RATE_HZ as f64;

/// Notes stop after this many time constants of decay: 40 dB down, inaudible under a mix.
const TAIL_TIME_CONSTANTS: f32 = 4.6;

/// Samples per control block: envelopes, vibrato and filter cutoffs are evaluated at block
/// edges and interpolated inside.
const BLOCK: usize = 32;

/// One note of a part, in absolute samples of the track.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Note {
    /// Note-on.
    pub start: i64,
    /// Samples the note is held.
    pub gate: i64,
    /// First sample after the note has died away (set from the instrument's tail).
    pub end: i64,
    /// Pitch as a (fractional) MIDI note; drums read it as a tuning offset.
    pub midi: f32,
    /// Loudness in [0, 1].
    pub velocity: f32,
    /// Vowel sung on this note (index into the formant tables), for voice parts.
    pub vowel: u8,
    /// Per-note randomness (vibrato phase, detune jitter, noise stream).
    pub seed: u32,
}

/// Attack–decay–sustain–release amplitude, evaluated in closed form.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Envelope {
    pub attack_secs: f32,
    pub decay_secs: f32,
    pub sustain: f32,
    pub release_secs: f32,
}

impl Envelope {
    pub(crate) const fn new(attack: f32, decay: f32, sustain: f32, release: f32) -> Self {
        Self {
            attack_secs: attack,
            decay_secs: decay,
            sustain,
            release_secs: release,
        }
    }

    /// Amplitude `t` seconds after note-on of a note held `gate` seconds.
    fn at(&self, t: f32, gate: f32) -> f32 {
        let held = |t: f32| {
            let attack = self.attack_secs.max(5e-4);
            if t < attack {
                t / attack
            } else {
                self.sustain
                    + (1.0 - self.sustain) * (-(t - attack) / self.decay_secs.max(1e-3)).exp()
            }
        };
        if t < gate {
            held(t)
        } else {
            held(gate) * (-(t - gate) / self.release_secs.max(1e-3)).exp()
        }
    }

    /// Seconds after note-off until the release is 40 dB down; a note that decays to silence
    /// while held (sustain 0) ends by then too.
    fn tail_secs(&self, gate_secs: f32) -> f32 {
        let release = TAIL_TIME_CONSTANTS * self.release_secs;
        if self.sustain <= 0.0 {
            let decayed = self.attack_secs + TAIL_TIME_CONSTANTS * self.decay_secs - gate_secs;
            release.min(decayed.max(0.0))
        } else {
            release
        }
    }
}

/// Oscillator waveforms of the subtractive voice.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wave {
    Saw,
    /// Pulse with this duty cycle (0.5 is a square: odd harmonics only).
    Pulse(f32),
    /// The NES's 4-bit stepped triangle.
    SteppedTriangle,
    Sine,
}

/// Periodic pitch modulation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Vibrato {
    pub rate_hz: f32,
    /// Peak deviation in cents.
    pub depth_cents: f32,
}

/// A lowpass whose cutoff follows the key and an exponentially decaying envelope.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FilterEnv {
    pub cutoff_hz: f32,
    /// Cutoff multiplier per octave above A3 (1 = follows the pitch).
    pub key_track: f32,
    /// The cutoff at note-on is `cutoff · (1 + amount)`.
    pub env_amount: f32,
    pub decay_secs: f32,
    pub resonance_q: f32,
}

/// The subtractive voice: unison band-limited oscillators, breath noise, a lowpass.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SynthVoice {
    pub wave: Wave,
    pub unison: u8,
    pub detune_cents: f32,
    /// Level of a sine an octave below (weight for basses).
    pub sub: f32,
    /// Breath/aspiration noise level relative to the oscillators.
    pub noise: f32,
    pub filter: Option<FilterEnv>,
    pub amp: Envelope,
    pub vibrato: Vibrato,
    /// The pitch starts this many cents off and slides in (singers' scoops, hoover bends).
    pub scoop_cents: f32,
    pub scoop_secs: f32,
}

/// Harmonic partials with per-partial exponential decay: strings, piano, organ.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PartialVoice {
    pub partials: u8,
    /// Partial k has amplitude k^-rolloff.
    pub rolloff: f32,
    /// Decay time constant of the fundamental (infinite for an organ).
    pub decay_secs: f32,
    /// Higher partials decay faster: partial k decays (1 + damping·(k-1)) times as fast.
    pub damping: f32,
    /// Where along the string it is plucked (0 = no comb shaping): removes partials with nodes
    /// there, the hollow sound of a guitar.
    pub pluck_position: f32,
    pub amp: Envelope,
}

/// Two-operator FM: carrier at the pitch, modulator at `ratio` times it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FmVoice {
    pub ratio: f32,
    /// Modulation index (radians) at note-on …
    pub index: f32,
    /// … decaying to `index · index_sustain` with this time constant.
    pub index_sustain: f32,
    pub index_decay_secs: f32,
    pub amp: Envelope,
}

/// Drum sounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DrumKind {
    Kick,
    Snare,
    Clap,
    ClosedHat,
    OpenHat,
    Ride,
    Crash,
    Rim,
    Shaker,
    Brush,
    Tom,
    /// 8-bit noise channel: sample-and-hold noise with a stepped envelope.
    ChipNoise,
}

/// A drum with its kit settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Drum {
    pub kind: DrumKind,
    /// Pitch multiplier (1 = the default tuning).
    pub tune: f32,
    /// Decay multiplier.
    pub decay: f32,
    /// Brightness in [0, 1].
    pub tone: f32,
    /// Distortion in [0, 1] (the gabber kick).
    pub drive: f32,
}

/// Filtered noise textures: wind, feedback hiss, vinyl crackle.
#[derive(Debug, Clone, Copy)]
pub(crate) struct NoiseVoice {
    pub center_hz: f32,
    pub q: f32,
    /// Slow sweep of the band centre.
    pub sweep_hz: f32,
    pub sweep_depth: f32,
    /// Clicks per second (vinyl crackle).
    pub crackle_per_sec: f32,
    pub amp: Envelope,
}

/// What a part plays its notes with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Instrument {
    Synth(SynthVoice),
    Partials(PartialVoice),
    Fm(FmVoice),
    Drum(Drum),
    Noise(NoiseVoice),
}

impl Instrument {
    /// Samples a note of `gate` samples sounds for (gate plus the ringing tail).
    pub(crate) fn sounding_samples(&self, gate: i64) -> i64 {
        let gate_secs = gate as f32 / SR;
        let tail_secs = match self {
            Instrument::Synth(v) => v.amp.tail_secs(gate_secs),
            Instrument::Partials(v) => {
                let decayed = TAIL_TIME_CONSTANTS * v.decay_secs - gate_secs;
                v.amp.tail_secs(gate_secs).min(decayed.max(0.0))
            }
            Instrument::Fm(v) => v.amp.tail_secs(gate_secs),
            Instrument::Drum(d) => return (d.length_secs() * SR) as i64,
            Instrument::Noise(v) => v.amp.tail_secs(gate_secs),
        };
        gate + (tail_secs * SR) as i64 + 1
    }
}

/// Renders `note` into `buffer`, whose first sample is the track's sample `buffer_start`.
/// `seed` is the part's noise stream.
pub(crate) fn render_note(
    instrument: &Instrument,
    note: &Note,
    buffer_start: i64,
    buffer: &mut [f32],
    seed: u64,
) {
    let from = note.start.max(buffer_start);
    let to = note.end.min(buffer_start + buffer.len() as i64);
    if from >= to {
        return;
    }
    let out = &mut buffer[(from - buffer_start) as usize..(to - buffer_start) as usize];
    let ctx = NoteCtx {
        note,
        first: from - note.start,
        from,
        seed: mix64(seed ^ u64::from(note.seed)),
    };
    match instrument {
        Instrument::Synth(v) => v.render(&ctx, out),
        Instrument::Partials(v) => v.render(&ctx, out),
        Instrument::Fm(v) => v.render(&ctx, out),
        Instrument::Drum(d) => d.render(&ctx, out),
        Instrument::Noise(v) => v.render(&ctx, out),
    }
}

/// Where a render of one note starts.
struct NoteCtx<'a> {
    note: &'a Note,
    /// Samples since note-on at the first output sample.
    first: i64,
    /// Absolute sample of the first output sample (for stateless noise).
    from: i64,
    seed: u64,
}

impl NoteCtx<'_> {
    fn secs(&self, offset: usize) -> f32 {
        (self.first + offset as i64) as f32 / SR
    }

    fn gate_secs(&self) -> f32 {
        self.note.gate as f32 / SR
    }

    fn hash_unit(&self, label: u64) -> f64 {
        (mix64(self.seed ^ label) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Phase (in cycles) of an oscillator at `tau` seconds after note-on: frequency `freq_hz`,
/// with a sinusoidal vibrato and an exponential scoop into the pitch, integrated in closed form.
fn phase_at(freq_hz: f64, tau: f64, vib: (f64, f64, f64), scoop: (f64, f64)) -> f64 {
    let (depth_rel, rate_hz, vib_phase) = vib;
    let (scoop_rel, scoop_secs) = scoop;
    let mut p = tau;
    if depth_rel > 0.0 && rate_hz > 0.0 {
        let w = TAU * rate_hz;
        p += depth_rel / w * (vib_phase.cos() - (w * tau + vib_phase).cos());
    }
    if scoop_rel != 0.0 && scoop_secs > 0.0 {
        p += scoop_rel * scoop_secs * (1.0 - (-tau / scoop_secs).exp());
    }
    freq_hz * p
}

/// PolyBLEP residual of a unit upward step at phase 0, branch-free (for vectorised loops).
#[inline]
fn poly_blep(t: f32, dt: f32, inv_dt: f32) -> f32 {
    let a = t * inv_dt; // near the start of the cycle
    let b = (t - 1.0) * inv_dt; // near its end
    let start = if t < dt { a + a - a * a - 1.0 } else { 0.0 };
    let end = if t > 1.0 - dt {
        b * b + b + b + 1.0
    } else {
        0.0
    };
    start + end
}

/// Adds one oscillator's block to `out`: phase `t0` (cycles, in [0, 1)) advancing `dt` per
/// sample. Phases are computed from the block start, not accumulated, so the loops vectorise.
fn add_wave(wave: Wave, t0: f32, dt: f32, level: f32, out: &mut [f32]) {
    let inv_dt = 1.0 / dt.max(1e-6);
    let phase = |i: usize| wrap_unit(t0 + i as f32 * dt);
    match wave {
        Wave::Saw => {
            for (i, o) in out.iter_mut().enumerate() {
                let t = phase(i);
                *o += level * (2.0 * t - 1.0 - poly_blep(t, dt, inv_dt));
            }
        }
        Wave::Pulse(duty) => {
            let dc = 2.0 * duty - 1.0;
            for (i, o) in out.iter_mut().enumerate() {
                let t = phase(i);
                let naive = if t < duty { 1.0 } else { -1.0 };
                let fall = wrap_unit(t + 1.0 - duty);
                *o += level * (naive + poly_blep(t, dt, inv_dt) - poly_blep(fall, dt, inv_dt) - dc);
            }
        }
        Wave::SteppedTriangle => {
            for (i, o) in out.iter_mut().enumerate() {
                let tri = 1.0 - 4.0 * (phase(i) - 0.5).abs();
                *o += level * round_fast(tri * 7.5) / 7.5;
            }
        }
        Wave::Sine => {
            for (i, o) in out.iter_mut().enumerate() {
                *o += level * sin_turns(phase(i));
            }
        }
    }
}

#[inline]
fn frac(x: f64) -> f32 {
    (x - x.floor()) as f32
}

impl SynthVoice {
    fn render(&self, ctx: &NoteCtx, out: &mut [f32]) {
        const MAX_UNISON: usize = 7;
        let n = usize::from(self.unison).clamp(1, MAX_UNISON);
        let base_hz = f64::from(midi_to_hz(ctx.note.midi));
        let cents_rel = LN_2 / 1200.0;
        let mut freq = [0f64; MAX_UNISON];
        let mut vib = [(0f64, 0f64, 0f64); MAX_UNISON];
        for u in 0..n {
            let spread = if n > 1 {
                u as f64 / (n - 1) as f64 * 2.0 - 1.0
            } else {
                0.0
            };
            let jitter = ctx.hash_unit(u as u64 + 100) - 0.5;
            let cents = f64::from(self.detune_cents) * (spread + 0.3 * jitter);
            freq[u] = base_hz * (cents * cents_rel).exp();
            vib[u] = (
                f64::from(self.vibrato.depth_cents) * cents_rel,
                f64::from(self.vibrato.rate_hz)
                    * (1.0 + 0.06 * (ctx.hash_unit(u as u64 + 200) - 0.5)),
                TAU * ctx.hash_unit(u as u64 + 300),
            );
        }
        let scoop = (
            -f64::from(self.scoop_cents) * cents_rel,
            f64::from(self.scoop_secs),
        );
        let gain = ctx.note.velocity / (n as f32).sqrt();
        let gate = ctx.gate_secs();
        let mut svf = self.filter.map(|f| Svf::new(f.resonance_q));
        let key_ratio = (base_hz / 220.0) as f32;

        let mut phase = [0f64; MAX_UNISON];
        for u in 0..n {
            phase[u] = phase_at(freq[u], ctx.secs(0) as f64, vib[u], scoop);
        }
        let mut env0 = self.amp.at(ctx.secs(0), gate);
        for (b, block) in out.chunks_mut(BLOCK).enumerate() {
            let len = block.len();
            let t1 = ctx.secs(b * BLOCK + len);
            let env1 = self.amp.at(t1, gate);
            if let (Some(svf), Some(f)) = (svf.as_mut(), self.filter.as_ref()) {
                let t0 = ctx.secs(b * BLOCK);
                let cutoff = f.cutoff_hz
                    * key_ratio.powf(f.key_track)
                    * (1.0 + f.env_amount * (-t0 / f.decay_secs.max(1e-3)).exp());
                svf.set_cutoff(cutoff, SR);
            }
            let mut osc = [0f32; BLOCK];
            for u in 0..n {
                let next = phase_at(freq[u], f64::from(t1), vib[u], scoop);
                let dt = ((next - phase[u]) / len as f64) as f32;
                add_wave(self.wave, frac(phase[u]), dt, 1.0, &mut osc[..len]);
                if u == 0 && self.sub > 0.0 {
                    add_wave(
                        Wave::Sine,
                        frac(phase[0] * 0.5),
                        0.5 * dt,
                        self.sub,
                        &mut osc[..len],
                    );
                }
                phase[u] = next;
            }
            if self.noise > 0.0 {
                let level = self.noise * (n as f32).sqrt();
                for (i, o) in osc.iter_mut().take(len).enumerate() {
                    *o += level * noise_at(ctx.seed, ctx.from + (b * BLOCK + i) as i64);
                }
            }
            let step = (env1 - env0) / len as f32;
            for (i, (y, o)) in block.iter_mut().zip(osc.iter()).enumerate() {
                let filtered = match svf.as_mut() {
                    Some(svf) => svf.lowpass(*o),
                    None => *o,
                };
                *y += gain * (env0 + step * i as f32) * filtered;
            }
            env0 = env1;
        }
    }
}

/// Samples per group of the additive voice: partial amplitudes are constant within a group and
/// the samples of a group are computed side by side (vectorised).
const GROUP: usize = 8;

impl PartialVoice {
    fn render(&self, ctx: &NoteCtx, out: &mut [f32]) {
        const MAX_PARTIALS: usize = 16;
        let f0 = f64::from(midi_to_hz(ctx.note.midi));
        let nyquist_safe = 0.45 * SR64;
        let k_max = usize::from(self.partials)
            .clamp(1, MAX_PARTIALS)
            .min((nyquist_safe / f0).floor().max(1.0) as usize);
        let t0 = ctx.secs(0);
        let mut amp = [0f32; MAX_PARTIALS];
        let mut ratio = [1f32; MAX_PARTIALS];
        let mut norm = 0.0;
        for k in 0..k_max {
            let kf = (k + 1) as f32;
            let mut a = kf.powf(-self.rolloff);
            if self.pluck_position > 0.0 {
                a *= (std::f32::consts::PI * kf * self.pluck_position)
                    .sin()
                    .abs()
                    + 0.05;
            }
            norm += a;
            let rate = (1.0 + self.damping * (kf - 1.0)) / self.decay_secs.max(1e-3);
            // Amplitude at the centre of each group; decays by ratio per group.
            ratio[k] = (-rate * GROUP as f32 / SR).exp();
            amp[k] = a * (-rate * (t0 + 0.5 * GROUP as f32 / SR)).exp();
        }
        // Partials fall silent from the top: only those still above -80 dB are computed.
        let floor = 1e-4 * norm;
        let mut active = k_max;
        let gain = ctx.note.velocity / norm.max(1e-6) * 1.6;
        let gate = ctx.gate_secs();
        let mut t = frac(ctx.first as f64 * f0 / SR64);
        let dt = (f0 / SR64) as f32;
        let mut env0 = self.amp.at(t0, gate);
        for (b, block) in out.chunks_mut(BLOCK).enumerate() {
            let len = block.len();
            let env1 = self.amp.at(ctx.secs(b * BLOCK + len), gate);
            let step = (env1 - env0) / len as f32;
            for (g, group) in block.chunks_mut(GROUP).enumerate() {
                while active > 1 && amp[active - 1] < floor {
                    active -= 1;
                }
                let mut s1 = [0f32; GROUP];
                let mut two_c = [0f32; GROUP];
                for j in 0..GROUP {
                    let p = wrap_unit(t + j as f32 * dt);
                    s1[j] = sin_turns(p);
                    two_c[j] = 2.0 * sin_turns(p + 0.25);
                }
                // sin(kθ) by the Chebyshev recurrence, eight samples side by side.
                let mut prev = [0f32; GROUP];
                let mut cur = s1;
                let mut acc = [0f32; GROUP];
                for k in 0..active {
                    let a = amp[k];
                    for j in 0..GROUP {
                        acc[j] += a * cur[j];
                        let next = two_c[j] * cur[j] - prev[j];
                        prev[j] = cur[j];
                        cur[j] = next;
                    }
                    amp[k] *= ratio[k];
                }
                for (j, y) in group.iter_mut().enumerate() {
                    let i = g * GROUP + j;
                    *y += gain * (env0 + step * i as f32) * acc[j];
                }
                t = wrap_unit(t + GROUP as f32 * dt);
            }
            env0 = env1;
        }
    }
}

impl FmVoice {
    fn render(&self, ctx: &NoteCtx, out: &mut [f32]) {
        let f0 = f64::from(midi_to_hz(ctx.note.midi));
        let fm = f0 * f64::from(self.ratio);
        let first = ctx.first as f64;
        let mut tc = frac(first * f0 / SR64);
        let mut tm = frac(first * fm / SR64);
        let (dc, dm) = ((f0 / SR64) as f32, (fm / SR64) as f32);
        let gate = ctx.gate_secs();
        let to_turns = 1.0 / std::f32::consts::TAU;
        let index_at = |t: f32| {
            self.index
                * (self.index_sustain
                    + (1.0 - self.index_sustain) * (-t / self.index_decay_secs.max(1e-3)).exp())
                * to_turns
        };
        let mut env0 = self.amp.at(ctx.secs(0), gate);
        let mut idx0 = index_at(ctx.secs(0));
        let gain = ctx.note.velocity;
        for (b, block) in out.chunks_mut(BLOCK).enumerate() {
            let len = block.len();
            let t1 = ctx.secs(b * BLOCK + len);
            let (env1, idx1) = (self.amp.at(t1, gate), index_at(t1));
            let (de, di) = ((env1 - env0) / len as f32, (idx1 - idx0) / len as f32);
            for (i, y) in block.iter_mut().enumerate() {
                let fi = i as f32;
                let index = idx0 + di * fi;
                let modulator = sin_turns(wrap_unit(tm + fi * dm));
                let carrier = sin_turns(wrap_unit(tc + fi * dc) + index * modulator);
                *y += gain * (env0 + de * fi) * carrier;
            }
            tc = wrap_unit(tc + len as f32 * dc);
            tm = wrap_unit(tm + len as f32 * dm);
            env0 = env1;
            idx0 = idx1;
        }
    }
}

/// Frequencies of the six square oscillators of a TR-808-style cymbal, in Hz.
const METAL_HZ: [f32; 6] = [205.3, 304.4, 369.6, 522.7, 540.0, 800.0];

impl Drum {
    /// How long the drum rings, in seconds.
    fn length_secs(&self) -> f32 {
        let base = match self.kind {
            DrumKind::Kick => 0.45,
            DrumKind::Snare => 0.35,
            DrumKind::Clap => 0.35,
            DrumKind::ClosedHat => 0.12,
            DrumKind::OpenHat => 0.6,
            DrumKind::Ride => 1.6,
            DrumKind::Crash => 2.5,
            DrumKind::Rim => 0.08,
            DrumKind::Shaker => 0.2,
            DrumKind::Brush => 0.35,
            DrumKind::Tom => 0.6,
            DrumKind::ChipNoise => 0.25,
        };
        base * self.decay.max(0.1) * (1.0 + 1.5 * self.drive)
    }

    fn render(&self, ctx: &NoteCtx, out: &mut [f32]) {
        let vel = ctx.note.velocity;
        let tune = self.tune * (ctx.note.midi / 12.0).exp2();
        let decay = self.decay.max(0.1);
        let start_tau = ctx.first as f32 / SR;
        let noise = |i: usize| noise_at(ctx.seed, ctx.from + i as i64);
        match self.kind {
            DrumKind::Kick | DrumKind::Tom => {
                let (f_end, f_start, sweep_secs, body_secs) = if self.kind == DrumKind::Kick {
                    (48.0 * tune, 150.0 * tune, 0.035, 0.16 * decay)
                } else {
                    (110.0 * tune, 170.0 * tune, 0.05, 0.22 * decay)
                };
                // Phase of an exponential pitch sweep, in closed form.
                let df = f_start - f_end;
                let mut sweep = Decay::new(sweep_secs, start_tau);
                let mut amp = Decay::new(body_secs, start_tau);
                let mut click = Decay::new(0.004, start_tau);
                let drive = 1.0 + 10.0 * self.drive;
                let mut tone = OnePole::lowpass(1500.0 + 6000.0 * self.tone, SR);
                for (i, y) in out.iter_mut().enumerate() {
                    let tau = start_tau + i as f32 / SR;
                    let phase = f_end * tau + df * sweep_secs * (1.0 - sweep.next());
                    let x =
                        sin_turns(phase) * amp.next() + 0.3 * self.tone * click.next() * noise(i);
                    let shaped = if self.drive > 0.0 {
                        saturate(x * drive) * (1.0 - 0.3 * self.drive)
                    } else {
                        x
                    };
                    *y += vel * tone.process(shaped);
                }
            }
            DrumKind::Snare | DrumKind::Clap | DrumKind::Brush => {
                let (center, q, noise_secs, body_level) = match self.kind {
                    DrumKind::Snare => (2200.0 + 2500.0 * self.tone, 0.6, 0.14 * decay, 0.7),
                    DrumKind::Clap => (1100.0 + 600.0 * self.tone, 1.6, 0.11 * decay, 0.0),
                    _ => (2500.0 + 2000.0 * self.tone, 0.5, 0.16 * decay, 0.0),
                };
                let mut band = Biquad::bandpass(center, q, SR);
                let body_hz = 185.0 * tune;
                let mut body = Decay::new(0.05, start_tau);
                let mut tail = Decay::new(noise_secs, start_tau);
                // Claps: three quick bursts 11 ms apart, each decaying over 5 ms.
                let burst_at = [0.0f32, 0.011, 0.023];
                let burst_ratio = (-1.0 / (0.005 * SR)).exp();
                let mut bursts = burst_at.map(|t0| {
                    if start_tau >= t0 {
                        (-(start_tau - t0) / 0.005).exp()
                    } else {
                        0.0
                    }
                });
                for (i, y) in out.iter_mut().enumerate() {
                    let tau = start_tau + i as f32 / SR;
                    let decaying = tail.next();
                    let env = match self.kind {
                        DrumKind::Clap => {
                            let mut sum = 0.0;
                            for (b, t0) in bursts.iter_mut().zip(burst_at) {
                                if tau >= t0 {
                                    *b = if *b == 0.0 { 1.0 } else { *b * burst_ratio };
                                }
                                sum += *b;
                            }
                            sum + 0.5 * decaying
                        }
                        DrumKind::Brush => (tau / 0.02).min(1.0) * decaying,
                        _ => decaying,
                    };
                    let snap = band.process(noise(i)) * env * 2.2;
                    let tone = body_level * body.next() * sin_turns(tau * body_hz);
                    *y += vel * (snap + tone);
                }
            }
            DrumKind::ClosedHat | DrumKind::OpenHat | DrumKind::Ride | DrumKind::Crash => {
                let (decay_secs, hp_hz, metal_mult, metal_level) = match self.kind {
                    DrumKind::ClosedHat => (0.035 * decay, 7000.0, 1.0, 0.6),
                    DrumKind::OpenHat => (0.22 * decay, 6500.0, 1.0, 0.6),
                    DrumKind::Ride => (0.45 * decay, 4000.0, 1.7, 1.0),
                    _ => (0.8 * decay, 3500.0, 1.3, 0.5),
                };
                let mut hp = Biquad::highpass(hp_hz * (0.8 + 0.4 * self.tone), 0.7, SR);
                let freqs = METAL_HZ.map(|hz| hz * metal_mult * tune);
                let mut env = Decay::new(decay_secs, start_tau);
                for (i, y) in out.iter_mut().enumerate() {
                    let tau = start_tau + i as f32 / SR;
                    // Six detuned square waves: the metallic clang of an analogue cymbal.
                    let metal: f32 = freqs
                        .iter()
                        .map(|f| if wrap_unit(tau * f) < 0.5 { 1.0 } else { -1.0 })
                        .sum();
                    let x = metal_level * metal / 6.0 + noise(i);
                    *y += vel * 0.7 * hp.process(x) * env.next();
                }
            }
            DrumKind::Rim => {
                let mut env = Decay::new(0.012, start_tau);
                for (i, y) in out.iter_mut().enumerate() {
                    let tau = start_tau + i as f32 / SR;
                    let x = sin_turns(tau * 1700.0 * tune) + 0.6 * sin_turns(tau * 820.0 * tune);
                    *y += vel * 0.6 * x * env.next();
                }
            }
            DrumKind::Shaker => {
                let mut hp = Biquad::highpass(5500.0 + 2000.0 * self.tone, 0.7, SR);
                let mut env = Decay::new(0.045 * decay, start_tau);
                for (i, y) in out.iter_mut().enumerate() {
                    let tau = start_tau + i as f32 / SR;
                    let attack = (tau / 0.012).min(1.0);
                    *y += vel * 0.8 * hp.process(noise(i)) * attack * env.next();
                }
            }
            DrumKind::ChipNoise => {
                // The NES noise channel: a new random level every `hold` samples, 16 volumes.
                let hold = if self.tone > 0.5 { 1 } else { 3 };
                let mut env = Decay::new(0.06 * decay, start_tau);
                for (i, y) in out.iter_mut().enumerate() {
                    let level = round_fast(env.next() * 15.0) / 15.0;
                    let n = noise_at(ctx.seed, (ctx.from + i as i64) / hold);
                    *y += vel * 0.8 * level * n.signum();
                }
            }
        }
    }
}

/// An exponential decay e^(-t/τ) stepped sample by sample from its value at `start_secs`.
struct Decay {
    value: f32,
    ratio: f32,
}

impl Decay {
    fn new(time_constant_secs: f32, start_secs: f32) -> Self {
        Self {
            value: (-start_secs / time_constant_secs).exp(),
            ratio: (-1.0 / (time_constant_secs * SR)).exp(),
        }
    }

    #[inline]
    fn next(&mut self) -> f32 {
        let v = self.value;
        self.value *= self.ratio;
        v
    }
}

impl NoiseVoice {
    fn render(&self, ctx: &NoteCtx, out: &mut [f32]) {
        let gate = ctx.gate_secs();
        let mut band = Biquad::bandpass(self.center_hz, self.q, SR);
        let mut click_tone = OnePole::lowpass(3000.0, SR);
        let click_chance = self.crackle_per_sec / SR;
        let crackle_seed = mix64(ctx.seed ^ 0xC7AC);
        let mut env0 = self.amp.at(ctx.secs(0), gate);
        let gain = ctx.note.velocity * (self.q.max(0.3)).sqrt();
        let sweep_phase = ctx.hash_unit(7) as f32;
        for (b, block) in out.chunks_mut(BLOCK).enumerate() {
            let len = block.len();
            let t0 = ctx.secs(b * BLOCK);
            let env1 = self.amp.at(ctx.secs(b * BLOCK + len), gate);
            if self.sweep_depth > 0.0 {
                let wobble = sin_turns(t0 * self.sweep_hz + sweep_phase);
                let center = self.center_hz * (self.sweep_depth * wobble).exp2();
                band.retune(&Biquad::bandpass(center, self.q, SR));
            }
            let step = (env1 - env0) / len as f32;
            for (i, y) in block.iter_mut().enumerate() {
                let at = ctx.from + (b * BLOCK + i) as i64;
                let mut x = gain * band.process(noise_at(ctx.seed, at));
                if click_chance > 0.0 {
                    let u = 0.5 + 0.5 * noise_at(crackle_seed, at);
                    let click = if u < click_chance {
                        noise_at(ctx.seed ^ 1, at) * 4.0
                    } else {
                        0.0
                    };
                    x += click - click_tone.process(click);
                }
                *y += (env0 + step * i as f32) * x;
            }
            env0 = env1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn note(midi: f32, secs: f32) -> Note {
        let gate = (secs * SR) as i64;
        Note {
            start: 0,
            gate,
            end: gate,
            midi,
            velocity: 1.0,
            vowel: 0,
            seed: 1,
        }
    }

    /// Magnitude of the DFT of `x` at `freq_hz` (a single-bin Goertzel-free direct sum).
    fn dft_mag(x: &[f32], freq_hz: f32) -> f32 {
        let (mut re, mut im) = (0f64, 0f64);
        for (i, &v) in x.iter().enumerate() {
            let w = std::f64::consts::TAU * f64::from(freq_hz) * i as f64 / SR64;
            re += f64::from(v) * w.cos();
            im -= f64::from(v) * w.sin();
        }
        ((re * re + im * im).sqrt() / x.len() as f64) as f32
    }

    fn plain_synth(wave: Wave) -> SynthVoice {
        SynthVoice {
            wave,
            unison: 1,
            detune_cents: 0.0,
            sub: 0.0,
            noise: 0.0,
            filter: None,
            amp: Envelope::new(0.001, 1.0, 1.0, 0.05),
            vibrato: Vibrato {
                rate_hz: 0.0,
                depth_cents: 0.0,
            },
            scoop_cents: 0.0,
            scoop_secs: 0.0,
        }
    }

    #[test]
    fn square_wave_has_odd_harmonics_only() {
        let inst = Instrument::Synth(plain_synth(Wave::Pulse(0.5)));
        let n = note(57.0, 1.0); // A3, 220 Hz
        let mut buf = vec![0.0; SR as usize];
        render_note(&inst, &n, 0, &mut buf, 5);
        let h: Vec<f32> = (1..=5).map(|k| dft_mag(&buf, 220.0 * k as f32)).collect();
        // A square wave's harmonics: 1, 0, 1/3, 0, 1/5 of the fundamental.
        assert!((h[2] / h[0] - 1.0 / 3.0).abs() < 0.03, "{h:?}");
        assert!((h[4] / h[0] - 1.0 / 5.0).abs() < 0.03, "{h:?}");
        assert!(h[1] < 0.01 * h[0] && h[3] < 0.01 * h[0], "{h:?}");
    }

    #[test]
    fn saw_wave_has_all_harmonics_falling_as_one_over_k() {
        let inst = Instrument::Synth(plain_synth(Wave::Saw));
        let n = note(57.0, 1.0);
        let mut buf = vec![0.0; SR as usize];
        render_note(&inst, &n, 0, &mut buf, 5);
        let h1 = dft_mag(&buf, 220.0);
        for k in 2..=4 {
            let hk = dft_mag(&buf, 220.0 * k as f32);
            assert!(
                (hk / h1 - 1.0 / k as f32).abs() < 0.03,
                "harmonic {k}: {}",
                hk / h1
            );
        }
    }

    #[test]
    fn rendering_from_the_middle_of_a_note_continues_it() {
        // Oscillator phase, vibrato and envelopes are closed forms: a render that starts late
        // matches the full render (up to float rounding), except through filters.
        let mut voice = plain_synth(Wave::Saw);
        voice.vibrato = Vibrato {
            rate_hz: 5.5,
            depth_cents: 60.0,
        };
        voice.scoop_cents = 80.0;
        voice.scoop_secs = 0.05;
        voice.unison = 3;
        voice.detune_cents = 12.0;
        for inst in [
            Instrument::Synth(voice),
            Instrument::Fm(FmVoice {
                ratio: 3.5,
                index: 2.0,
                index_sustain: 0.2,
                index_decay_secs: 0.3,
                amp: Envelope::new(0.001, 0.8, 0.0, 0.4),
            }),
            Instrument::Partials(PartialVoice {
                partials: 10,
                rolloff: 1.0,
                decay_secs: 1.0,
                damping: 0.3,
                pluck_position: 0.2,
                amp: Envelope::new(0.002, 10.0, 1.0, 0.2),
            }),
        ] {
            let mut n = note(60.0, 1.5);
            n.end = inst.sounding_samples(n.gate);
            let len = n.end as usize;
            let mut full = vec![0.0; len];
            render_note(&inst, &n, 0, &mut full, 9);
            let offset = 12_345usize;
            let mut late = vec![0.0; len - offset];
            render_note(&inst, &n, offset as i64, &mut late, 9);
            let peak = full.iter().fold(0f32, |m, x| m.max(x.abs()));
            let worst = full[offset..]
                .iter()
                .zip(&late)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()));
            assert!(worst < 0.02 * peak, "{inst:?}: {worst} vs peak {peak}");
        }
    }

    #[test]
    fn envelopes_follow_their_closed_form() {
        let env = Envelope::new(0.1, 0.2, 0.5, 0.3);
        assert!((env.at(0.05, 1.0) - 0.5).abs() < 1e-6);
        assert!((env.at(0.1, 1.0) - 1.0).abs() < 1e-6);
        assert!((env.at(0.3, 1.0) - (0.5 + 0.5 * (-1.0f32).exp())).abs() < 1e-6);
        let at_release = env.at(1.0, 1.0);
        assert!((env.at(1.3, 1.0) - at_release * (-1.0f32).exp()).abs() < 1e-6);
    }

    #[test]
    fn kick_energy_is_low_and_hat_energy_is_high() {
        let kit = |kind| Drum {
            kind,
            tune: 1.0,
            decay: 1.0,
            tone: 0.5,
            drive: 0.0,
        };
        let band_energy = |kind, lo: f32, hi: f32| -> f32 {
            let inst = Instrument::Drum(kit(kind));
            let mut n = note(0.0, 0.05);
            n.end = inst.sounding_samples(n.gate);
            let mut buf = vec![0.0; 8192];
            render_note(&inst, &n, 0, &mut buf, 3);
            let bins = (lo as usize..hi as usize).step_by(25);
            bins.map(|f| dft_mag(&buf, f as f32).powi(2)).sum()
        };
        let kick_low = band_energy(DrumKind::Kick, 30.0, 200.0);
        let kick_high = band_energy(DrumKind::Kick, 5000.0, 10_000.0);
        assert!(kick_low > 100.0 * kick_high);
        let hat_low = band_energy(DrumKind::ClosedHat, 30.0, 200.0);
        let hat_high = band_energy(DrumKind::ClosedHat, 5000.0, 10_000.0);
        assert!(hat_high > 100.0 * hat_low);
    }
}
