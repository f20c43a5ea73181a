//! Signal-processing building blocks of the synthesizer: a fast sine, filters, saturation, the
//! master soft limiter, a tempo-synced echo and a Freeverb-style reverb. All run in f32 at the
//! analysis rate; all state lives in the structs, so a chunk renders from a fresh state.

use std::f32::consts::{PI, TAU};

/// Rounds to the nearest integer (ties to even) for |x| < 2^22, without a libm call, so that
/// loops using it vectorise.
#[inline]
pub(crate) fn round_fast(x: f32) -> f32 {
    const MAGIC: f32 = 12_582_912.0; // 1.5 · 2^23
    (x + MAGIC) - MAGIC
}

/// The fractional part of a non-negative `x` below 2^31, without a libm call.
#[inline]
pub(crate) fn wrap_unit(x: f32) -> f32 {
    x - (x as i32) as f32
}

/// sin(2π·turns) for |turns| < 2^22, to about 4e-6 (a 9th-order odd polynomial after folding
/// into a quarter turn): cheap, branch-free so that loops vectorise, and identical on every
/// machine, unlike libm.
#[inline]
pub(crate) fn sin_turns(turns: f32) -> f32 {
    let t = turns - round_fast(turns); // [-0.5, 0.5]
                                       // Fold into [-0.25, 0.25] with the same sine: |t| > 1/4 maps to 1/2 - |t|.
    let t = (0.25 - (0.25 - t.abs()).abs()).copysign(t);
    let x = t * TAU;
    let x2 = x * x;
    x * (1.0
        + x2 * (-1.0 / 6.0 + x2 * (1.0 / 120.0 + x2 * (-1.0 / 5040.0 + x2 * (1.0 / 362_880.0)))))
}

/// A smooth saturator: tanh's shape as a rational function, exactly ±1 beyond |x| = 3.
#[inline]
pub(crate) fn saturate(x: f32) -> f32 {
    let x = x.clamp(-3.0, 3.0);
    let x2 = x * x;
    x * (27.0 + x2) / (27.0 + 9.0 * x2)
}

/// Where the master limiter starts to bend the signal.
const LIMIT_KNEE: f32 = 0.75;

/// The master soft limiter: the identity below the knee, a saturating curve above it that never
/// reaches 1, so the mix cannot clip whatever the arrangement does.
#[inline]
pub(crate) fn soft_limit(x: f32) -> f32 {
    let a = x.abs();
    if a <= LIMIT_KNEE {
        x
    } else {
        let room = 1.0 - LIMIT_KNEE;
        // saturate() reaches 1 only at 3: the output stays below 1 while (a - knee) / room < 3,
        // and the clamp inside saturate keeps it at most 1 beyond.
        let bent = LIMIT_KNEE + room * saturate((a - LIMIT_KNEE) / room) * 0.999;
        bent.copysign(x)
    }
}

/// A one-pole lowpass (6 dB/octave), for tone controls and smoothing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct OnePole {
    coeff: f32,
    state: f32,
}

impl OnePole {
    pub(crate) fn lowpass(cutoff_hz: f32, sample_rate_hz: f32) -> Self {
        let coeff = (-TAU * cutoff_hz / sample_rate_hz).exp();
        Self { coeff, state: 0.0 }
    }

    #[inline]
    pub(crate) fn process(&mut self, x: f32) -> f32 {
        self.state = x + self.coeff * (self.state - x);
        self.state
    }
}

/// A biquad in transposed direct form II with the RBJ cookbook designs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Biquad {
    b0: f32,
    b1: f32,
    b2: f32,
    a1: f32,
    a2: f32,
    z1: f32,
    z2: f32,
}

impl Biquad {
    fn from_normalised(b: [f32; 3], a: [f32; 3]) -> Self {
        Self {
            b0: b[0] / a[0],
            b1: b[1] / a[0],
            b2: b[2] / a[0],
            a1: a[1] / a[0],
            a2: a[2] / a[0],
            z1: 0.0,
            z2: 0.0,
        }
    }

    fn omega(freq_hz: f32, sample_rate_hz: f32) -> (f32, f32) {
        let w = TAU * (freq_hz / sample_rate_hz).clamp(1e-4, 0.49);
        (w.cos(), w.sin())
    }

    pub(crate) fn lowpass(freq_hz: f32, q: f32, sample_rate_hz: f32) -> Self {
        let (cos, sin) = Self::omega(freq_hz, sample_rate_hz);
        let alpha = sin / (2.0 * q);
        Self::from_normalised(
            [(1.0 - cos) / 2.0, 1.0 - cos, (1.0 - cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    pub(crate) fn highpass(freq_hz: f32, q: f32, sample_rate_hz: f32) -> Self {
        let (cos, sin) = Self::omega(freq_hz, sample_rate_hz);
        let alpha = sin / (2.0 * q);
        Self::from_normalised(
            [(1.0 + cos) / 2.0, -(1.0 + cos), (1.0 + cos) / 2.0],
            [1.0 + alpha, -2.0 * cos, 1.0 - alpha],
        )
    }

    /// Band-pass with 0 dB gain at the centre.
    pub(crate) fn bandpass(freq_hz: f32, q: f32, sample_rate_hz: f32) -> Self {
        let (cos, sin) = Self::omega(freq_hz, sample_rate_hz);
        let alpha = sin / (2.0 * q);
        Self::from_normalised([alpha, 0.0, -alpha], [1.0 + alpha, -2.0 * cos, 1.0 - alpha])
    }

    /// Replaces the coefficients, keeping the state (for slowly moving filters).
    pub(crate) fn retune(&mut self, other: &Biquad) {
        self.b0 = other.b0;
        self.b1 = other.b1;
        self.b2 = other.b2;
        self.a1 = other.a1;
        self.a2 = other.a2;
    }

    #[inline]
    pub(crate) fn process(&mut self, x: f32) -> f32 {
        let y = self.b0 * x + self.z1;
        self.z1 = self.b1 * x - self.a1 * y + self.z2;
        self.z2 = self.b2 * x - self.a2 * y;
        y
    }

    pub(crate) fn process_buffer(&mut self, buffer: &mut [f32]) {
        for x in buffer {
            *x = self.process(*x);
        }
    }
}

/// A state-variable filter (Simper's trapezoidal form): stable while its cutoff moves every few
/// samples, which the synth voices' filter envelopes need. Returns the lowpass output.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Svf {
    k: f32,
    a1: f32,
    a2: f32,
    a3: f32,
    ic1: f32,
    ic2: f32,
}

impl Svf {
    pub(crate) fn new(resonance_q: f32) -> Self {
        Self {
            k: 1.0 / resonance_q.max(0.5),
            ..Self::default()
        }
    }

    /// Sets the cutoff; costs a tan, so callers update it once per block.
    pub(crate) fn set_cutoff(&mut self, cutoff_hz: f32, sample_rate_hz: f32) {
        let ratio = (cutoff_hz / sample_rate_hz).clamp(1e-4, 0.45);
        let g = (PI * ratio).tan();
        self.a1 = 1.0 / (1.0 + g * (g + self.k));
        self.a2 = g * self.a1;
        self.a3 = g * self.a2;
    }

    #[inline]
    pub(crate) fn lowpass(&mut self, x: f32) -> f32 {
        let v3 = x - self.ic2;
        let v1 = self.a1 * self.ic1 + self.a2 * v3;
        let v2 = self.ic2 + self.a2 * self.ic1 + self.a3 * v3;
        self.ic1 = 2.0 * v1 - self.ic1;
        self.ic2 = 2.0 * v2 - self.ic2;
        v2
    }
}

/// A feedback delay synced to the tempo (the dub echo): each repeat darker than the last.
pub(crate) struct Echo {
    line: Vec<f32>,
    pos: usize,
    feedback: f32,
    tone: OnePole,
}

impl Echo {
    pub(crate) fn new(delay_samples: usize, feedback: f32, sample_rate_hz: f32) -> Self {
        Self {
            line: vec![0.0; delay_samples.max(1)],
            pos: 0,
            feedback: feedback.clamp(0.0, 0.9),
            tone: OnePole::lowpass(2500.0, sample_rate_hz),
        }
    }

    /// Adds the echoes of `input` into `output`.
    pub(crate) fn process(&mut self, input: &[f32], output: &mut [f32]) {
        for (x, out) in input.iter().zip(output.iter_mut()) {
            let delayed = self.line[self.pos];
            *out += delayed;
            self.line[self.pos] = self.tone.process(x + self.feedback * delayed);
            self.pos += 1;
            if self.pos == self.line.len() {
                self.pos = 0;
            }
        }
    }
}

struct Comb {
    line: Vec<f32>,
    pos: usize,
    damp_state: f32,
}

struct Allpass {
    line: Vec<f32>,
    pos: usize,
}

/// Freeverb (Jezar's Schroeder–Moorer design: eight damped combs in parallel, four allpasses in
/// series), its delays scaled from 44.1 kHz to the render rate and by a room size.
pub(crate) struct Reverb {
    combs: Vec<Comb>,
    allpasses: Vec<Allpass>,
    feedback: f32,
    damping: f32,
}

const COMB_DELAYS_44K: [usize; 8] = [1116, 1188, 1277, 1356, 1422, 1491, 1557, 1617];
const ALLPASS_DELAYS_44K: [usize; 4] = [556, 441, 341, 225];

impl Reverb {
    /// `decay_secs` is the RT60 of the combs; `size` scales the delays (0.5 small … 1.5 hall);
    /// `damping` in [0, 1) darkens the tail.
    pub(crate) fn new(decay_secs: f32, size: f32, damping: f32, sample_rate_hz: f32) -> Self {
        let scale = sample_rate_hz / 44_100.0 * size;
        let combs: Vec<Comb> = COMB_DELAYS_44K
            .iter()
            .map(|&d| Comb {
                line: vec![0.0; ((d as f32 * scale) as usize).max(1)],
                pos: 0,
                damp_state: 0.0,
            })
            .collect();
        let mean_delay_secs = combs.iter().map(|c| c.line.len()).sum::<usize>() as f32
            / combs.len() as f32
            / sample_rate_hz;
        // RT60: the comb gain g loses 60 dB over decay_secs: g^(decay/delay) = 10^-3.
        let feedback = 10f32
            .powf(-3.0 * mean_delay_secs / decay_secs.max(0.05))
            .min(0.97);
        let allpasses = ALLPASS_DELAYS_44K
            .iter()
            .map(|&d| Allpass {
                line: vec![0.0; ((d as f32 * sample_rate_hz / 44_100.0) as usize).max(1)],
                pos: 0,
            })
            .collect();
        Self {
            combs,
            allpasses,
            feedback,
            damping: damping.clamp(0.0, 0.95),
        }
    }

    /// Adds the reverberated `input` into `output`.
    pub(crate) fn process(&mut self, input: &[f32], output: &mut [f32]) {
        let (feedback, damping) = (self.feedback, self.damping);
        for (x, out) in input.iter().zip(output.iter_mut()) {
            // Freeverb's fixed input gain keeps the comb sum near unity.
            let x = x * 0.03;
            let mut sum = 0.0;
            for comb in &mut self.combs {
                let y = comb.line[comb.pos];
                comb.damp_state = y + damping * (comb.damp_state - y);
                comb.line[comb.pos] = x + feedback * comb.damp_state;
                comb.pos += 1;
                if comb.pos == comb.line.len() {
                    comb.pos = 0;
                }
                sum += y;
            }
            for ap in &mut self.allpasses {
                let delayed = ap.line[ap.pos];
                ap.line[ap.pos] = sum + 0.5 * delayed;
                sum = delayed - sum;
                ap.pos += 1;
                if ap.pos == ap.line.len() {
                    ap.pos = 0;
                }
            }
            *out += sum;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SR: f32 = 22_050.0;

    #[test]
    fn fast_sine_matches_libm() {
        for i in -20_000..20_000 {
            let turns = i as f32 * 0.000_37;
            let reference = (f64::from(turns) * std::f64::consts::TAU).sin() as f32;
            assert!((sin_turns(turns) - reference).abs() < 2e-5, "at {turns}");
        }
    }

    #[test]
    fn soft_limit_is_transparent_below_the_knee_and_never_reaches_one() {
        assert_eq!(soft_limit(0.5), 0.5);
        assert_eq!(soft_limit(-0.7), -0.7);
        let mut previous = 0.0;
        for i in 0..100_000 {
            let x = i as f32 * 0.001;
            let y = soft_limit(x);
            assert!(y < 1.0, "{x} -> {y}");
            assert!(y >= previous, "not monotonic at {x}");
            assert_eq!(soft_limit(-x), -y);
            previous = y;
        }
        assert!(soft_limit(f32::MAX) < 1.0);
    }

    fn gain_at(filter: Biquad, freq_hz: f32) -> f32 {
        let mut f = filter;
        let n = 8192;
        let mut peak = 0.0f32;
        for i in 0..n {
            let y = f.process((TAU * freq_hz * i as f32 / SR).sin());
            if i > n / 2 {
                peak = peak.max(y.abs());
            }
        }
        peak
    }

    #[test]
    fn biquads_pass_and_stop_where_designed() {
        let lp = Biquad::lowpass(500.0, 0.707, SR);
        assert!((gain_at(lp, 50.0) - 1.0).abs() < 0.02);
        assert!(gain_at(lp, 5000.0) < 0.02);
        let hp = Biquad::highpass(2000.0, 0.707, SR);
        assert!(gain_at(hp, 100.0) < 0.01);
        assert!((gain_at(hp, 8000.0) - 1.0).abs() < 0.05);
        let bp = Biquad::bandpass(1000.0, 5.0, SR);
        assert!((gain_at(bp, 1000.0) - 1.0).abs() < 0.02);
        assert!(gain_at(bp, 3000.0) < 0.1);
    }

    #[test]
    fn svf_lowpass_halves_power_at_cutoff() {
        let mut svf = Svf::new(0.707);
        svf.set_cutoff(1000.0, SR);
        let n = 16_384;
        let mut peak = 0.0f32;
        for i in 0..n {
            let y = svf.lowpass((TAU * 1000.0 * i as f32 / SR).sin());
            if i > n / 2 {
                peak = peak.max(y.abs());
            }
        }
        assert!(
            (peak - std::f32::consts::FRAC_1_SQRT_2).abs() < 0.02,
            "{peak}"
        );
    }

    #[test]
    fn reverb_decays_at_its_rt60() {
        let decay_secs = 1.5;
        let mut reverb = Reverb::new(decay_secs, 1.0, 0.0, SR);
        let n = (SR * 4.0) as usize;
        let mut input = vec![0.0; n];
        input[0] = 1.0;
        let mut out = vec![0.0; n];
        reverb.process(&input, &mut out);
        let energy = |from: f32, to: f32| -> f32 {
            out[(from * SR) as usize..(to * SR) as usize]
                .iter()
                .map(|x| x * x)
                .sum()
        };
        // Energy falls 60 dB per RT60: compare two 0.5-s windows 1 s apart: -40 dB over 1 s.
        let drop_db = 10.0 * (energy(0.5, 1.0) / energy(1.5, 2.0)).log10();
        assert!((drop_db - 60.0 / decay_secs).abs() < 6.0, "{drop_db} dB");
    }

    #[test]
    fn echo_repeats_at_its_delay_with_feedback() {
        let mut echo = Echo::new(100, 0.5, SR);
        let mut input = vec![0.0; 400];
        input[0] = 1.0;
        let mut out = vec![0.0; 400];
        echo.process(&input, &mut out);
        let first = out.iter().position(|&x| x.abs() > 0.01);
        assert_eq!(first, Some(100));
        let e1: f32 = out[100..200].iter().map(|x| x.abs()).sum();
        let e2: f32 = out[200..300].iter().map(|x| x.abs()).sum();
        // Each repeat is half the last (the lowpass keeps DC gain 1 and spreads the impulse).
        assert!((e2 / e1 - 0.5).abs() < 0.05, "{}", e2 / e1);
    }
}
