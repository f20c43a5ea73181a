//! Arranging a song in a style: which instruments play, with which patterns, in which
//! sections, and how they are mixed. The artist's [`Timbre`] sets the instruments' details, so
//! one artist's tracks share a sound; the song (chords and tunes) comes from `compose.rs`.
//! This module holds the arranger's tools; `patches.rs` the instruments shaped by the timbre;
//! `per_style.rs` one arrangement per style; `figures.rs` the figures a style is known for and
//! others feature; `layers.rs` what the artist's properties add.

mod figures;
mod layers;
mod patches;
mod per_style;

use super::compose::{
    build_form, pattern_hits, FormFamily, Grid, MelodyNote, Section, SectionKind, Song,
    STEPS_PER_BAR,
};
use super::instruments::{Envelope, Instrument, Note, SynthVoice, Vibrato, Wave, SR};
use super::properties::Properties;
use super::recipe::{Recipe, Timbre};
use super::rng::Rng;
use super::styles::Style;
use super::synth::{part_seed, EchoSettings, Part, PostFx, ReverbSettings, Score};
use super::theory::{at_or_above, scale_step, voice_chord, Chord, Key};

/// Tempo limits of a playable recipe.
const MIN_TEMPO_BPM: f32 = 30.0;
const MAX_TEMPO_BPM: f32 = 300.0;
/// The longest track rendered: two hours.
const MAX_LENGTH_SAMPLES: u64 = 2 * 3600 * crate::audio::ANALYSIS_RATE_HZ as u64;

/// Seconds left after the last bar for the final chord to ring and the fade.
const TAIL_SECS: f64 = 3.0;

/// Builds the score of a recipe.
pub(crate) fn arrange(recipe: &Recipe) -> Score {
    let mut a = Arranger::new(recipe);
    if recipe.kind.is_sketch() {
        per_style::sketch(&mut a);
    } else {
        match recipe.style {
            Style::DeepHouse => per_style::deep_house(&mut a),
            Style::HipHop => per_style::hip_hop(&mut a),
            Style::Chiptune => per_style::chiptune(&mut a),
            Style::Choir => per_style::choir(&mut a),
            Style::FolkDuet => per_style::folk_duet(&mut a),
            Style::Ballad => per_style::ballad(&mut a),
            Style::Ambient => per_style::ambient(&mut a),
            Style::NoiseRock => per_style::noise_rock(&mut a),
            Style::Drone => per_style::drone(&mut a),
            Style::Dub => per_style::dub(&mut a),
            Style::Country => per_style::country(&mut a),
            Style::SmoothJazz => per_style::smooth_jazz(&mut a),
            Style::Chamber => per_style::chamber(&mut a),
            Style::Gabber => per_style::gabber(&mut a),
        }
        a.add_properties(recipe.style);
    }
    a.finish()
}

/// The arranger's working state: the track's grid, form and chords, and the parts so far.
struct Arranger {
    t: Timbre,
    properties: Properties,
    key: Key,
    grid: Grid,
    song: Song,
    total_bars: u32,
    form: Vec<Section>,
    /// One chord per bar.
    chords: Vec<Chord>,
    rng: Rng,
    performance_seed: u64,
    parts: Vec<Part>,
    reverb: Option<ReverbSettings>,
    echo: Option<EchoSettings>,
    master_gain: f32,
    length_samples: i64,
    /// Timing jitter of played notes, in seconds (0 for sequenced styles).
    humanise_secs: f64,
}

/// Options of a melody line.
#[derive(Clone, Copy)]
struct Line {
    center: i32,
    span: i32,
    min_energy: u8,
    /// Fraction of each note's written length that is held.
    gate: f64,
    velocity: f32,
    /// Diatonic steps added to every note (2 = a third above, 7 = an octave).
    shift_steps: i32,
}

impl Line {
    fn new(center: i32, min_energy: u8) -> Self {
        Self {
            center,
            span: 7,
            min_energy,
            gate: 0.95,
            velocity: 0.8,
            shift_steps: 0,
        }
    }
}

impl Arranger {
    fn new(recipe: &Recipe) -> Self {
        // Recipes may come from files: keep every number in a range the synth can play.
        let tempo_bpm = if recipe.tempo_bpm.is_finite() {
            recipe.tempo_bpm.clamp(MIN_TEMPO_BPM, MAX_TEMPO_BPM)
        } else {
            MIN_TEMPO_BPM
        };
        let length_samples = recipe.length_samples.min(MAX_LENGTH_SAMPLES) as i64;
        let key = Key {
            tonic_pc: recipe.key.tonic_pc % 12,
            ..recipe.key
        };
        let grid = Grid::new(tempo_bpm, SR);
        let bar_secs = grid.bar_samples() / f64::from(SR);
        let usable_secs = length_samples as f64 / f64::from(SR) - TAIL_SECS;
        let total_bars = ((usable_secs / bar_secs).floor() as u32).max(2);
        Self {
            t: recipe.timbre.sanitised(),
            properties: recipe.properties,
            key,
            grid,
            song: Song::new(recipe.song_seed, recipe.song_style, key),
            total_bars,
            form: Vec::new(),
            chords: Vec::new(),
            rng: Rng::derived(recipe.performance_seed, &[0xA11A]),
            performance_seed: recipe.performance_seed,
            parts: Vec::new(),
            reverb: None,
            echo: None,
            master_gain: 1.0,
            length_samples,
            humanise_secs: 0.0,
        }
    }

    fn bar_secs(&self) -> f64 {
        self.grid.bar_samples() / f64::from(SR)
    }

    /// Lays out the form in sections of `unit` bars and the chords, each lasting
    /// `bars_per_chord` bars.
    fn layout(&mut self, family: FormFamily, unit: u32, bars_per_chord: u32) {
        self.form = build_form(family, self.total_bars, unit);
        self.chords = self.song.chords_per_bar(&self.form, bars_per_chord);
    }

    /// Section unit: four bars, or eight when bars are short.
    fn unit(&self) -> u32 {
        if self.bar_secs() < 2.2 {
            8
        } else {
            4
        }
    }

    fn part(&mut self, instrument: Instrument, gain: f32, reverb_send: f32) -> usize {
        let index = self.parts.len();
        self.parts.push(Part {
            instrument,
            notes: Vec::new(),
            gain,
            reverb_send,
            echo_send: 0.0,
            post: Vec::new(),
            seed: part_seed(self.performance_seed, index),
        });
        index
    }

    /// A pad: unfiltered detuned oscillators through one lowpass for the whole part (a pad's
    /// filter hardly moves, and one filter per part costs far less than one per note).
    #[allow(clippy::too_many_arguments, reason = "a pad patch has this many knobs")]
    fn pad_part(
        &mut self,
        wave: Wave,
        unison: u8,
        detune_cents: f32,
        cutoff_hz: f32,
        amp: Envelope,
        vibrato: Vibrato,
        gain: f32,
        reverb_send: f32,
    ) -> usize {
        let patch = Instrument::Synth(SynthVoice {
            wave,
            unison,
            detune_cents,
            sub: 0.0,
            noise: 0.0,
            filter: None,
            amp,
            vibrato,
            scoop_cents: 0.0,
            scoop_secs: 0.0,
        });
        let part = self.part(patch, gain, reverb_send);
        self.post(part, PostFx::Lowpass { cutoff_hz });
        part
    }

    /// A singing part: the voice source, a gentle lowpass, then the vowels' formants.
    fn singer_part(
        &mut self,
        source: Instrument,
        female: bool,
        gain: f32,
        reverb_send: f32,
    ) -> usize {
        let part = self.part(source, gain, reverb_send);
        let cutoff_hz = 2500.0 + 3000.0 * self.t.brightness;
        self.post(part, PostFx::Lowpass { cutoff_hz });
        self.post(part, PostFx::Formants { female });
        part
    }

    fn post(&mut self, part: usize, fx: PostFx) {
        self.parts[part].post.push(fx);
    }

    fn add(&mut self, part: usize, start: i64, gate: i64, midi: f32, velocity: f32, vowel: u8) {
        let jitter = if self.humanise_secs > 0.0 {
            (self.rng.normal() * self.humanise_secs * f64::from(SR)) as i64
        } else {
            0
        };
        let start = (start + jitter).max(0);
        let gate = gate.max(1);
        let end = start + self.parts[part].instrument.sounding_samples(gate);
        let seed = self.rng.next_u64() as u32;
        self.parts[part].notes.push(Note {
            start,
            gate,
            end,
            midi,
            velocity,
            vowel,
            seed,
        });
    }

    fn sections(&self) -> Vec<Section> {
        self.form.clone()
    }

    fn chord(&self, bar: u32) -> Chord {
        self.chords[(bar as usize).min(self.chords.len() - 1)]
    }

    /// The root of the chord at `bar`, at or above `low`.
    fn root(&self, bar: u32, low: i32) -> i32 {
        at_or_above(low, self.chord(bar).root_pc(self.key))
    }

    /// Plays a sixteen-step pattern in every bar, chosen by the section's energy; the last bar
    /// before a new section plays `fill` instead when one is given.
    fn drums(&mut self, part: usize, by_energy: [&str; 4], fill: &str, velocity: f32) {
        for s in self.sections() {
            let pattern = by_energy[usize::from(s.energy.min(3))];
            for bar in s.start_bar..s.start_bar + s.bars {
                let last = bar + 1 == s.start_bar + s.bars && bar + 1 < self.total_bars;
                let p = if last && !fill.is_empty() && s.energy >= 2 {
                    fill
                } else {
                    pattern
                };
                for (step, v) in pattern_hits(p) {
                    let at = self.grid.at(bar, f64::from(step));
                    let gate = self.grid.steps(1.0);
                    let accent = 1.0 - 0.12 * self.rng.unit() as f32;
                    self.add(part, at, gate, 0.0, velocity * v * accent, 0);
                }
            }
        }
    }

    /// A one-off drum hit at the start of each section of at least `min_energy` (crashes).
    fn section_hits(&mut self, part: usize, min_energy: u8, velocity: f32) {
        for s in self.sections() {
            if s.energy >= min_energy && s.start_bar > 0 {
                let at = self.grid.at(s.start_bar, 0.0);
                self.add(part, at, self.grid.steps(1.0), 0.0, velocity, 0);
            }
        }
    }

    /// A bass line: `riff` lists (step, length in steps, semitones above the root); a step of
    /// 16 or more reaches into the next bar of a two-bar riff.
    fn bass(
        &mut self,
        part: usize,
        low: i32,
        riff: &[(u32, u32, i32)],
        min_energy: u8,
        velocity: f32,
    ) {
        for s in self.sections() {
            if s.energy < min_energy || s.kind == SectionKind::Breakdown {
                continue;
            }
            let mut bar = s.start_bar;
            while bar < s.start_bar + s.bars {
                for &(step, len, interval) in riff {
                    let b = bar + step / STEPS_PER_BAR;
                    if b >= s.start_bar + s.bars {
                        break;
                    }
                    let midi = self.root(b, low) + interval;
                    let at = self.grid.at(b, f64::from(step % STEPS_PER_BAR));
                    let gate = self.grid.steps(f64::from(len) * 0.9);
                    self.add(part, at, gate, midi as f32, velocity, 0);
                }
                bar += if riff.iter().any(|r| r.0 >= STEPS_PER_BAR) {
                    2
                } else {
                    1
                };
            }
        }
    }

    /// A walking bass: root, two chord or scale tones, then a chromatic approach to the next
    /// bar's root, one per beat.
    fn walking_bass(&mut self, part: usize, low: i32, min_energy: u8, velocity: f32) {
        let scale = self.key.scale_pcs();
        for s in self.sections() {
            if s.energy < min_energy {
                continue;
            }
            for bar in s.start_bar..s.start_bar + s.bars {
                let root = self.root(bar, low);
                let next_root = self.root((bar + 1).min(self.total_bars - 1), low);
                let third = scale_step(root, 2, &scale);
                let fifth = root + 7;
                let approach = if next_root > root {
                    next_root - 1
                } else {
                    next_root + 1
                };
                let walk = [
                    root,
                    if self.rng.chance(0.5) {
                        third
                    } else {
                        root + 12
                    },
                    fifth,
                    approach,
                ];
                for (beat, &midi) in walk.iter().enumerate() {
                    let at = self.grid.at(bar, 4.0 * beat as f64);
                    let gate = self.grid.steps(3.6);
                    let v = velocity * if beat == 0 { 1.0 } else { 0.85 };
                    self.add(part, at, gate, midi as f32, v, 0);
                }
            }
        }
    }

    /// Chords on a sixteen-step rhythm, voiced with `voices` notes in [lo, hi] and led
    /// smoothly from bar to bar; each hit lasts `gate_steps` sixteenths (or to the next hit if
    /// 0); `strum_secs` spreads the notes of a hit like a strummed guitar.
    #[allow(
        clippy::too_many_arguments,
        reason = "a comping pattern has this many knobs"
    )]
    fn comp(
        &mut self,
        part: usize,
        (lo, hi): (i32, i32),
        voices: usize,
        rhythm: [&str; 4],
        gate_steps: f64,
        strum_secs: f64,
        velocity: f32,
    ) {
        let mut voicing: Vec<i32> = Vec::new();
        for s in self.sections() {
            let pattern = rhythm[usize::from(s.energy.min(3))];
            for bar in s.start_bar..s.start_bar + s.bars {
                let pcs = self.chord(bar).pcs(self.key);
                voicing = voice_chord(&voicing, &pcs, voices, lo, hi);
                let hits: Vec<(u32, f32)> = pattern_hits(pattern).collect();
                for (i, &(step, v)) in hits.iter().enumerate() {
                    let next = hits.get(i + 1).map_or(STEPS_PER_BAR, |h| h.0);
                    let gate = if gate_steps > 0.0 {
                        gate_steps
                    } else {
                        f64::from(next - step)
                    };
                    let at = self.grid.at(bar, f64::from(step));
                    // Up-strokes (on off-beats) go from the top string down.
                    let up = step % 4 == 2;
                    for (n, &midi) in voicing.iter().enumerate() {
                        let order = if up { voicing.len() - 1 - n } else { n };
                        let offset = (strum_secs * f64::from(SR) * order as f64) as i64;
                        let g = self.grid.steps(gate) - offset;
                        self.add(part, at + offset, g, midi as f32, velocity * v, 0);
                    }
                }
            }
        }
    }

    /// Sustained chords, one voicing per chord change, in sections with energy in `energies`.
    fn pad(
        &mut self,
        part: usize,
        (lo, hi): (i32, i32),
        voices: usize,
        energies: [bool; 4],
        velocity: f32,
        vowel: u8,
    ) {
        let mut voicing: Vec<i32> = Vec::new();
        let mut held: Option<(u32, Vec<i32>, Chord)> = None;
        let bars: Vec<(u32, bool)> = self
            .sections()
            .iter()
            .flat_map(|s| {
                let on = energies[usize::from(s.energy.min(3))];
                (s.start_bar..s.start_bar + s.bars).map(move |b| (b, on))
            })
            .collect();
        let flush = |this: &mut Self, held: &mut Option<(u32, Vec<i32>, Chord)>, end_bar: u32| {
            if let Some((start, notes, _)) = held.take() {
                let at = this.grid.at(start, 0.0);
                let gate = this.grid.at(end_bar, 0.0) - at;
                for midi in notes {
                    this.add(part, at, gate, midi as f32, velocity, vowel);
                }
            }
        };
        for (bar, on) in bars {
            let chord = self.chord(bar);
            let same = held.as_ref().is_some_and(|h| h.2 == chord);
            if !on || !same {
                flush(self, &mut held, bar);
            }
            if on && held.is_none() {
                voicing = voice_chord(&voicing, &chord.pcs(self.key), voices, lo, hi);
                held = Some((bar, voicing.clone(), chord));
            }
        }
        flush(self, &mut held, self.total_bars);
    }

    /// Arpeggios: the chord's tones in [lo, hi] cycled upwards every `unit` sixteenths.
    fn arp(&mut self, part: usize, (lo, hi): (i32, i32), unit: u32, min_energy: u8, velocity: f32) {
        for s in self.sections() {
            if s.energy < min_energy {
                continue;
            }
            for bar in s.start_bar..s.start_bar + s.bars {
                let pcs = self.chord(bar).pcs(self.key);
                let tones: Vec<i32> = (lo..=hi)
                    .filter(|m| pcs.contains(&(m.rem_euclid(12) as u8)))
                    .collect();
                if tones.is_empty() {
                    continue;
                }
                for (i, step) in (0..STEPS_PER_BAR).step_by(unit as usize).enumerate() {
                    let midi = tones[i % tones.len()];
                    let at = self.grid.at(bar, f64::from(step));
                    let gate = self.grid.steps(f64::from(unit) * 0.7);
                    self.add(part, at, gate, midi as f32, velocity, 0);
                }
            }
        }
    }

    /// The song's tunes for each section, realised against the chords.
    fn melody_notes(&self, line: &Line) -> Vec<MelodyNote> {
        let mut notes = Vec::new();
        let scale = self.key.scale_pcs();
        for s in &self.form {
            if s.energy < line.min_energy || s.kind == SectionKind::Outro {
                continue;
            }
            let (_, tune) = self.song.material(s.kind);
            // Choruses lift the tune a minor third.
            let lift = if matches!(s.kind, SectionKind::Chorus | SectionKind::Main) {
                3
            } else {
                0
            };
            let realised = tune.realise(
                self.key,
                &self.chords,
                s.start_bar,
                s.bars,
                line.center + lift,
                line.span,
            );
            notes.extend(realised.into_iter().map(|mut n| {
                n.midi = scale_step(n.midi, line.shift_steps, &scale);
                n
            }));
        }
        notes
    }

    /// Plays the song's melody on `part`.
    fn melody(&mut self, part: usize, line: Line) {
        for n in self.melody_notes(&line) {
            let at = self.grid.at(n.bar, f64::from(n.step));
            let gate = self.grid.steps(f64::from(n.len_steps) * line.gate);
            let accent = if n.step % 8 == 0 { 1.0 } else { 0.85 };
            self.add(
                part,
                at,
                gate,
                n.midi as f32,
                line.velocity * accent,
                n.vowel,
            );
        }
    }

    /// One long note per section of at least `min_energy` (textures, drones).
    fn hold(&mut self, part: usize, min_energy: u8, midi: f32, velocity: f32) {
        for s in self.sections() {
            if s.energy >= min_energy {
                let at = self.grid.at(s.start_bar, 0.0);
                let gate = self.grid.at(s.start_bar + s.bars, 0.0) - at;
                self.add(part, at, gate, midi, velocity, 0);
            }
        }
    }

    fn finish(self) -> Score {
        Score {
            parts: self
                .parts
                .into_iter()
                .filter(|p| !p.notes.is_empty())
                .collect(),
            reverb: self.reverb,
            echo: self.echo,
            master_gain: self.master_gain,
            length_samples: self.length_samples,
            fade_out_secs: TAIL_SECS as f32 * 0.8,
            hiss_seed: part_seed(self.performance_seed, usize::MAX),
        }
    }

    fn set_reverb(&mut self, decay_secs: f32, size: f32, damping: f32) {
        self.reverb = Some(ReverbSettings {
            decay_secs,
            size,
            damping,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::recipe::TrackKind;
    use crate::demo::theory::Mode;

    fn timbre() -> Timbre {
        Timbre {
            brightness: 0.5,
            softness: 0.5,
            detune_cents: 10.0,
            vibrato_rate_hz: 5.5,
            vibrato_amount: 1.0,
            reverb: 0.5,
            drive: 0.5,
            register_semitones: 0,
            swing: 0.5,
            busyness: 0.5,
            kick_tune: 1.0,
            kick_decay: 1.0,
            snare_tone: 0.5,
            hat_decay: 1.0,
            variant: 1,
            female: true,
        }
    }

    fn recipe(style: Style, kind: TrackKind, seed: u64) -> Recipe {
        let (lo, hi) = style.tempo_range_bpm();
        Recipe {
            style,
            song_style: style,
            kind,
            timbre: timbre(),
            properties: Properties::default(),
            key: Key {
                tonic_pc: 2,
                mode: Mode::Minor,
            },
            tempo_bpm: 0.5 * (lo + hi),
            song_seed: seed,
            performance_seed: seed + 1,
            length_samples: 150 * 22_050,
        }
    }

    #[test]
    fn every_style_and_kind_places_its_notes_inside_the_track() {
        for style in Style::ALL {
            for kind in [TrackKind::Regular, TrackKind::Intro, TrackKind::Interlude] {
                let r = recipe(style, kind, 3);
                let score = arrange(&r);
                assert!(score.parts.len() >= 2, "{style:?} {kind:?}");
                for part in &score.parts {
                    assert!(!part.notes.is_empty());
                    for n in &part.notes {
                        assert!(
                            n.start >= 0 && n.start < score.length_samples,
                            "{style:?} {n:?}"
                        );
                        assert!(n.gate > 0 && n.end > n.start);
                        assert!(n.velocity > 0.0 && n.velocity <= 1.5);
                        if !matches!(part.instrument, Instrument::Drum(_) | Instrument::Noise(_)) {
                            assert!((20.0..110.0).contains(&n.midi), "{style:?} {n:?}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn sketches_have_neither_beat_nor_bass() {
        for style in Style::ALL {
            let score = arrange(&recipe(style, TrackKind::Outro, 5));
            for part in &score.parts {
                assert!(!matches!(part.instrument, Instrument::Drum(_)), "{style:?}");
                assert!(
                    part.notes.iter().all(|n| n.midi >= 40.0 || n.midi == 0.0),
                    "{style:?}"
                );
            }
        }
    }

    /// Parts with a singer's formants.
    fn voices(score: &Score) -> Vec<&Part> {
        score
            .parts
            .iter()
            .filter(|p| {
                p.post
                    .iter()
                    .any(|fx| matches!(fx, PostFx::Formants { .. }))
            })
            .collect()
    }

    #[test]
    fn a_singer_in_thirds_is_joined_by_a_voice_a_third_above() {
        for (seed, style) in [
            Style::FolkDuet,
            Style::Country,
            Style::DeepHouse,
            Style::Dub,
        ]
        .into_iter()
        .enumerate()
        {
            let mut r = recipe(style, TrackKind::Regular, seed as u64);
            r.properties.vocals = true;
            assert_eq!(voices(&arrange(&r)).len(), 1, "{style:?} sung alone");
            r.properties.thirds = true;
            let score = arrange(&r);
            let voices = voices(&score);
            assert_eq!(voices.len(), 2, "{style:?} in thirds");
            let (lead, harmony) = (&voices[0].notes, &voices[1].notes);
            assert_eq!(lead.len(), harmony.len());
            for (l, h) in lead.iter().zip(harmony.iter()) {
                // Same syllable, sung together (humanised by a few milliseconds) …
                assert!((l.start - h.start).abs() < (0.04 * SR) as i64);
                assert_eq!(l.vowel, h.vowel);
                // … a diatonic third apart: three or four semitones.
                let interval = h.midi - l.midi;
                assert!(interval == 3.0 || interval == 4.0, "{interval}");
            }
        }
    }

    #[test]
    fn absurd_recipes_still_arrange_and_render() {
        let mut r = recipe(Style::Dub, TrackKind::Regular, 1);
        r.tempo_bpm = f32::NAN;
        r.key.tonic_pc = 200;
        r.timbre.brightness = f32::INFINITY;
        r.timbre.detune_cents = -5.0;
        r.length_samples = 1;
        let score = arrange(&r);
        assert_eq!(score.length_samples, 1);
        let x = crate::demo::render(&r, 0, 100);
        assert!(x.iter().all(|v| v.is_finite()));
        r.length_samples = 61 * 22_050;
        r.tempo_bpm = 1e9;
        let x = crate::demo::render(&r, 30 * 22_050, 22_050);
        assert!(x.iter().all(|v| v.is_finite() && v.abs() <= 1.0));
    }
}
