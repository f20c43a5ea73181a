//! Songwriting: the time grid, the form (sections), the chords of every bar and the melodies.
//! A song is fixed by its song seed and song style, so that a cover or a remix of it keeps its
//! chords and tunes while the arrangement (`arrange.rs`) changes around them.

use super::rng::Rng;
use super::styles::Style;
use super::theory::{nearest_in, scale_step, Chord, Key};

/// Where notes fall in samples: tempo, swing and bars of four beats.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Grid {
    pub beat_samples: f64,
    /// Delay of the off-beat sixteenths (or eighths), as a fraction of that note value.
    pub swing: f64,
    /// Swing eighths (jazz, shuffle) rather than sixteenths.
    pub swing_eighths: bool,
}

/// Sixteenth notes per bar (everything is in 4/4).
pub(crate) const STEPS_PER_BAR: u32 = 16;

impl Grid {
    pub(crate) fn new(tempo_bpm: f32, sample_rate_hz: f32) -> Self {
        Self {
            beat_samples: 60.0 / f64::from(tempo_bpm) * f64::from(sample_rate_hz),
            swing: 0.0,
            swing_eighths: false,
        }
    }

    pub(crate) fn bar_samples(&self) -> f64 {
        4.0 * self.beat_samples
    }

    /// Samples in `steps` sixteenths.
    pub(crate) fn steps(&self, steps: f64) -> i64 {
        (steps * self.beat_samples / 4.0).round() as i64
    }

    /// The sample of sixteenth `step` (may be fractional) of bar `bar`, swung.
    pub(crate) fn at(&self, bar: u32, step: f64) -> i64 {
        let mut position = f64::from(bar) * 16.0 + step;
        if step.fract() == 0.0 {
            let s = step as i64;
            if self.swing_eighths && s % 4 == 2 {
                position += self.swing * 2.0;
            } else if !self.swing_eighths && s % 2 == 1 {
                position += self.swing;
            }
        }
        (position * self.beat_samples / 4.0).round() as i64
    }
}

/// The parts of a song's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionKind {
    Intro,
    Verse,
    Chorus,
    Bridge,
    Build,
    Main,
    Breakdown,
    Outro,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Section {
    pub kind: SectionKind,
    pub start_bar: u32,
    pub bars: u32,
    /// 0 = sparse (pads only) … 3 = everything playing.
    pub energy: u8,
}

/// How a style lays out its sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormFamily {
    /// Intro, verses and choruses, a bridge, an outro.
    Song,
    /// Intro, build, main, a breakdown two thirds in, main, outro (dance music).
    Club,
    /// Intro, long verses and hooks (hip-hop).
    Verses,
    /// Slowly alternating sections that rise and fall (ambient, drone).
    Flowing,
    /// One sparse section (intros, outros, interludes).
    Sparse,
}

/// Lays out `total_bars` bars in sections of `unit` bars.
pub(crate) fn build_form(family: FormFamily, total_bars: u32, unit: u32) -> Vec<Section> {
    use SectionKind::*;
    let unit = unit.max(1);
    let mut plan: Vec<(SectionKind, u32, u8)> = Vec::new();
    let outro = unit.min(total_bars / 4);
    let body = total_bars - outro;
    let mut used = 0;
    let push =
        |plan: &mut Vec<(SectionKind, u32, u8)>, used: &mut u32, kind, bars: u32, energy: u8| {
            let bars = bars.min(body - *used);
            if bars > 0 {
                plan.push((kind, bars, energy));
                *used += bars;
            }
        };
    match family {
        FormFamily::Sparse => push(&mut plan, &mut used, Intro, body, 0),
        FormFamily::Song => {
            push(&mut plan, &mut used, Intro, unit.min(4).max(unit / 2), 1);
            let cycle = [
                (Verse, 2, 2),
                (Chorus, 2, 3),
                (Verse, 2, 2),
                (Chorus, 2, 3),
                (Bridge, 1, 2),
            ];
            for &(kind, units, energy) in cycle.iter().cycle() {
                if used >= body {
                    break;
                }
                push(&mut plan, &mut used, kind, units * unit, energy);
            }
        }
        FormFamily::Club => {
            push(&mut plan, &mut used, Intro, unit, 1);
            push(&mut plan, &mut used, Build, unit, 2);
            // The breakdown comes after two thirds, past the analysed middle 30 s.
            let breakdown_at = body * 2 / 3;
            while used < breakdown_at {
                push(&mut plan, &mut used, Main, unit, 3);
            }
            push(&mut plan, &mut used, Breakdown, unit, 1);
            while used < body {
                push(&mut plan, &mut used, Main, unit, 3);
            }
        }
        FormFamily::Verses => {
            push(&mut plan, &mut used, Intro, unit, 1);
            for &(kind, units, energy) in [(Verse, 4, 2), (Chorus, 2, 3)].iter().cycle() {
                if used >= body {
                    break;
                }
                push(&mut plan, &mut used, kind, units * unit, energy);
            }
        }
        FormFamily::Flowing => {
            push(&mut plan, &mut used, Intro, unit, 1);
            for &(kind, energy) in [(Verse, 2), (Chorus, 3), (Bridge, 2), (Chorus, 3)]
                .iter()
                .cycle()
            {
                if used >= body {
                    break;
                }
                push(&mut plan, &mut used, kind, 2 * unit, energy);
            }
        }
    }
    if outro > 0 {
        plan.push((
            Outro,
            outro,
            if family == FormFamily::Sparse { 0 } else { 1 },
        ));
    }
    let mut start_bar = 0;
    plan.into_iter()
        .map(|(kind, bars, energy)| {
            let section = Section {
                kind,
                start_bar,
                bars,
                energy,
            };
            start_bar += bars;
            section
        })
        .collect()
}

/// How a song style writes melodies.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MelodyStyle {
    /// Onsets fall on multiples of this many sixteenths.
    pub unit: u32,
    /// Chance of a note starting at each position.
    pub density: f64,
    /// Fraction of the time to the next onset that a note is held.
    pub legato: f64,
    /// Chance of a leap (a third or more) instead of a step.
    pub leap: f64,
}

impl MelodyStyle {
    pub(crate) fn for_style(style: Style) -> Self {
        let (unit, density, legato, leap) = match style {
            Style::Ballad => (2, 0.45, 0.95, 0.25),
            Style::Choir => (4, 0.75, 1.0, 0.15),
            Style::FolkDuet => (2, 0.6, 0.9, 0.2),
            Style::Chiptune => (1, 0.55, 0.8, 0.35),
            Style::SmoothJazz => (1, 0.45, 0.85, 0.3),
            Style::Country => (2, 0.6, 0.85, 0.25),
            Style::Chamber => (2, 0.65, 0.95, 0.3),
            Style::HipHop => (2, 0.5, 0.7, 0.3),
            Style::Ambient | Style::Drone => (4, 0.4, 1.0, 0.4),
            Style::DeepHouse | Style::Gabber | Style::Dub | Style::NoiseRock => {
                (2, 0.45, 0.6, 0.35)
            }
        };
        Self {
            unit,
            density,
            legato,
            leap,
        }
    }
}

/// One note of a motif: onset and length in sixteenths, scale steps from the previous note.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MotifNote {
    pub onset: u32,
    pub len: u32,
    pub step: i32,
    pub vowel: u8,
}

/// A two-bar melodic idea.
#[derive(Debug, Clone)]
pub(crate) struct Motif {
    pub notes: Vec<MotifNote>,
}

/// Vowels of the formant tables: a, e, i, o, u.
pub(crate) const VOWELS: u8 = 5;

const MOTIF_STEPS: u32 = 2 * STEPS_PER_BAR;

impl Motif {
    pub(crate) fn new(rng: &mut Rng, style: &MelodyStyle) -> Self {
        let unit = style.unit.max(1);
        let mut onsets: Vec<u32> = (0..MOTIF_STEPS - unit)
            .step_by(unit as usize)
            .filter(|&p| {
                let strong = p % 8 == 0;
                p == 0
                    || rng.chance(if strong {
                        style.density + 0.25
                    } else {
                        style.density
                    })
            })
            .collect();
        // Leave the end of the second bar free for a held phrase ending.
        if onsets.len() >= 3 {
            onsets.retain(|&p| p < MOTIF_STEPS - 4);
        }
        let mut notes = Vec::with_capacity(onsets.len());
        for (i, &onset) in onsets.iter().enumerate() {
            let next = onsets.get(i + 1).copied().unwrap_or(MOTIF_STEPS);
            let gap = next - onset;
            let len = ((f64::from(gap) * style.legato).round() as u32).clamp(1, gap);
            let step = if i == 0 {
                0
            } else if rng.chance(style.leap) {
                *rng.pick(&[-4, -3, -2, 2, 3, 4])
            } else {
                *rng.pick(&[-1, -1, 1, 1, 0, 1, -1, 2, -2])
            };
            let vowel = rng.below(usize::from(VOWELS)) as u8;
            notes.push(MotifNote {
                onset,
                len,
                step,
                vowel,
            });
        }
        Self { notes }
    }

    /// The same rhythm with the last notes' contour redrawn (the answer to a phrase).
    pub(crate) fn varied(&self, rng: &mut Rng) -> Self {
        let mut notes = self.notes.clone();
        let n = notes.len();
        for note in notes.iter_mut().skip(n.saturating_sub(2)) {
            note.step = *rng.pick(&[-2, -1, 1, 2, -3]);
        }
        Self { notes }
    }
}

/// A realised melody note, in bars and sixteenths.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MelodyNote {
    pub bar: u32,
    pub step: u32,
    pub len_steps: u32,
    pub midi: i32,
    pub vowel: u8,
}

/// A song's tunes for one kind of section: an idea, its answer, and a closing idea.
#[derive(Debug, Clone)]
pub(crate) struct Tune {
    pub call: Motif,
    pub answer: Motif,
    pub close: Motif,
}

impl Tune {
    pub(crate) fn new(rng: &mut Rng, style: &MelodyStyle) -> Self {
        let call = Motif::new(rng, style);
        let answer = call.varied(rng);
        let close = Motif::new(rng, style);
        Self {
            call,
            answer,
            close,
        }
    }

    /// Realises the tune over bars `[start_bar, start_bar + bars)` against `chords` (one per
    /// bar of the track), around `center` (MIDI) within ± `span` semitones: steps walk the
    /// scale, notes on strong beats land on chord tones, each eight bars end on the chord root.
    pub(crate) fn realise(
        &self,
        key: Key,
        chords: &[Chord],
        start_bar: u32,
        bars: u32,
        center: i32,
        span: i32,
    ) -> Vec<MelodyNote> {
        let scale = key.scale_pcs();
        let mut out = Vec::new();
        let slots = bars.div_ceil(2);
        let mut pitch = center;
        for slot in 0..slots {
            let motif = match slot % 4 {
                1 => &self.answer,
                3 => &self.close,
                _ => &self.call,
            };
            let slot_bar = start_bar + 2 * slot;
            if slot % 4 == 0 {
                pitch = center;
            }
            let phrase_end = slot % 4 == 3 || slot + 1 == slots;
            let n = motif.notes.len();
            for (i, m) in motif.notes.iter().enumerate() {
                let bar = slot_bar + m.onset / STEPS_PER_BAR;
                if bar >= start_bar + bars {
                    break;
                }
                let chord = chords[(bar as usize).min(chords.len() - 1)];
                let chord_pcs = chord.pcs(key);
                let mut next = scale_step(pitch, m.step, &scale);
                if next > center + span || next < center - span {
                    next = scale_step(pitch, -m.step, &scale);
                }
                let strong = m.onset % 8 == 0 || m.len >= 6;
                if strong {
                    next = nearest_in(next, &chord_pcs);
                }
                let mut len = m.len;
                if phrase_end && i + 1 == n {
                    next = nearest_in(next, &[chord.root_pc(key)]);
                    len = (MOTIF_STEPS - m.onset).max(len);
                }
                // Octave shifts keep the pitch class (and so the chord tone).
                if next > center + span + 2 {
                    next -= 12;
                } else if next < center - span - 2 {
                    next += 12;
                }
                pitch = next;
                out.push(MelodyNote {
                    bar,
                    step: m.onset % STEPS_PER_BAR,
                    len_steps: len,
                    midi: pitch,
                    vowel: m.vowel,
                });
            }
        }
        out
    }
}

/// Everything a song fixes: its chord loops and tunes for each kind of section.
#[derive(Debug, Clone)]
pub(crate) struct Song {
    pub verse_chords: &'static [Chord],
    pub chorus_chords: &'static [Chord],
    pub bridge_chords: &'static [Chord],
    pub verse_tune: Tune,
    pub chorus_tune: Tune,
    pub bridge_tune: Tune,
}

impl Song {
    pub(crate) fn new(seed: u64, song_style: Style, key: Key) -> Self {
        let mut rng = Rng::derived(seed, &[0x5049]);
        let progressions = song_style.progressions(key.mode);
        let verse_chords = *rng.pick(progressions);
        let chorus_chords = *rng.pick(progressions);
        let bridge_chords = *rng.pick(progressions);
        let melody = MelodyStyle::for_style(song_style);
        let verse_tune = Tune::new(&mut rng, &melody);
        let chorus_tune = Tune::new(&mut rng, &melody);
        let bridge_tune = Tune::new(&mut rng, &melody);
        Self {
            verse_chords,
            chorus_chords,
            bridge_chords,
            verse_tune,
            chorus_tune,
            bridge_tune,
        }
    }

    /// The chord loop and tune of a kind of section.
    pub(crate) fn material(&self, kind: SectionKind) -> (&'static [Chord], &Tune) {
        match kind {
            SectionKind::Chorus | SectionKind::Main => (self.chorus_chords, &self.chorus_tune),
            SectionKind::Bridge | SectionKind::Breakdown => (self.bridge_chords, &self.bridge_tune),
            _ => (self.verse_chords, &self.verse_tune),
        }
    }

    /// One chord per bar of the form; each chord of a loop lasts `bars_per_chord` bars.
    pub(crate) fn chords_per_bar(&self, form: &[Section], bars_per_chord: u32) -> Vec<Chord> {
        let mut chords = Vec::new();
        for section in form {
            let (progression, _) = self.material(section.kind);
            for bar in 0..section.bars {
                let index = (bar / bars_per_chord.max(1)) as usize % progression.len();
                chords.push(progression[index]);
            }
        }
        chords
    }
}

/// A sixteen-step drum or rhythm pattern: 'x' accent, 'o' normal, '-' ghost, '.' rest.
pub(crate) fn pattern_hits(pattern: &str) -> impl Iterator<Item = (u32, f32)> + '_ {
    pattern.bytes().enumerate().filter_map(|(i, c)| {
        let velocity = match c {
            b'x' => 1.0,
            b'o' => 0.7,
            b'-' => 0.35,
            _ => return None,
        };
        Some((i as u32, velocity))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::theory::Mode;

    #[test]
    fn forms_cover_every_bar_once() {
        for family in [
            FormFamily::Song,
            FormFamily::Club,
            FormFamily::Verses,
            FormFamily::Flowing,
            FormFamily::Sparse,
        ] {
            for total in [20, 37, 64, 150] {
                let form = build_form(family, total, 8);
                let mut next = 0;
                for s in &form {
                    assert_eq!(s.start_bar, next, "{family:?} {total}");
                    assert!(s.bars > 0);
                    next += s.bars;
                }
                assert_eq!(next, total, "{family:?}");
            }
        }
        // Club music breaks down after two thirds, not in the analysed middle.
        for total in [60, 90, 128, 170] {
            let club = build_form(FormFamily::Club, total, 8);
            let outro = total / 4;
            if let Some(breakdown) = club.iter().find(|s| s.kind == SectionKind::Breakdown) {
                assert!(
                    breakdown.start_bar >= (total - outro.min(8)) * 2 / 3,
                    "{club:?}"
                );
            }
        }
    }

    #[test]
    fn swing_delays_only_offbeats() {
        let mut grid = Grid::new(120.0, 22_050.0);
        grid.swing = 0.5;
        let sixteenth = grid.beat_samples / 4.0;
        assert_eq!(grid.at(0, 0.0), 0);
        assert_eq!(grid.at(0, 1.0), (1.5 * sixteenth).round() as i64);
        assert_eq!(grid.at(1, 2.0), (18.0 * sixteenth).round() as i64);
        grid.swing_eighths = true;
        assert_eq!(grid.at(0, 1.0), sixteenth.round() as i64);
        assert_eq!(grid.at(0, 2.0), (3.0 * sixteenth).round() as i64);
    }

    #[test]
    fn melodies_stay_in_range_and_land_on_chord_tones() {
        let key = Key {
            tonic_pc: 7,
            mode: Mode::Major,
        };
        for seed in 0..20 {
            let song = Song::new(seed, Style::FolkDuet, key);
            let form = build_form(FormFamily::Song, 40, 4);
            let chords = song.chords_per_bar(&form, 1);
            let (_, tune) = song.material(SectionKind::Verse);
            let melody = tune.realise(key, &chords, 0, 16, 67, 7);
            assert!(!melody.is_empty());
            for note in &melody {
                assert!((67 - 9..=67 + 9).contains(&note.midi), "{note:?}");
                if note.step % 8 == 0 {
                    let pcs = chords[note.bar as usize].pcs(key);
                    assert!(pcs.contains(&(note.midi.rem_euclid(12) as u8)), "{note:?}");
                }
            }
        }
    }

    #[test]
    fn pattern_strings_parse() {
        let hits: Vec<_> = pattern_hits("x...o...-...x...").collect();
        assert_eq!(hits, vec![(0, 1.0), (4, 0.7), (8, 0.35), (12, 1.0)]);
    }
}
