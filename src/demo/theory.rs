//! Music theory the composer needs: keys, scales, chords, and voice leading, all on MIDI note
//! numbers (69 = A4 = 440 Hz) and pitch classes (0 = C … 11 = B).

use serde::{Deserialize, Serialize};

/// The scale a key uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Mode {
    Major,
    Minor,
    Dorian,
    Mixolydian,
}

impl Mode {
    /// Semitones above the tonic of the seven scale degrees.
    pub fn intervals(self) -> [u8; 7] {
        match self {
            Mode::Major => [0, 2, 4, 5, 7, 9, 11],
            Mode::Minor => [0, 2, 3, 5, 7, 8, 10],
            Mode::Dorian => [0, 2, 3, 5, 7, 9, 10],
            Mode::Mixolydian => [0, 2, 4, 5, 7, 9, 10],
        }
    }

    /// Whether the tonic triad is minor.
    pub fn is_minor(self) -> bool {
        matches!(self, Mode::Minor | Mode::Dorian)
    }

    pub fn name(self) -> &'static str {
        match self {
            Mode::Major => "major",
            Mode::Minor => "minor",
            Mode::Dorian => "dorian",
            Mode::Mixolydian => "mixolydian",
        }
    }
}

/// Pitch-class names, flats for the black keys (the seed speaks of a low B-flat).
pub const PITCH_CLASS_NAMES: [&str; 12] = [
    "C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B",
];

/// Pitch class of A.
pub const PC_A: u8 = 9;
/// Pitch class of B-flat.
pub const PC_B_FLAT: u8 = 10;

/// A tonic and a mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Key {
    /// Pitch class of the tonic, 0 = C … 11 = B.
    pub tonic_pc: u8,
    pub mode: Mode,
}

impl Key {
    /// e.g. "Bb minor".
    pub fn name(&self) -> String {
        format!(
            "{} {}",
            PITCH_CLASS_NAMES[usize::from(self.tonic_pc % 12)],
            self.mode.name()
        )
    }

    /// Pitch classes of the scale.
    pub fn scale_pcs(&self) -> Vec<u8> {
        self.mode
            .intervals()
            .iter()
            .map(|i| (self.tonic_pc % 12 + i) % 12)
            .collect()
    }
}

/// Chord qualities as semitone stacks above the root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Major,
    Minor,
    Major7,
    Minor7,
    Dominant7,
    Minor9,
    Sus4,
    Power,
}

impl Quality {
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Quality::Major => &[0, 4, 7],
            Quality::Minor => &[0, 3, 7],
            Quality::Major7 => &[0, 4, 7, 11],
            Quality::Minor7 => &[0, 3, 7, 10],
            Quality::Dominant7 => &[0, 4, 7, 10],
            Quality::Minor9 => &[0, 3, 7, 10, 14],
            Quality::Sus4 => &[0, 5, 7],
            Quality::Power => &[0, 7],
        }
    }
}

/// A chord relative to the key: its root in semitones above the tonic, and its quality.
/// Progressions are written this way so that one table serves every tonic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chord {
    pub root: u8,
    pub quality: Quality,
}

/// Shorthand for progression tables.
pub const fn ch(root: u8, quality: Quality) -> Chord {
    Chord { root, quality }
}

impl Chord {
    /// Pitch class of the root in `key`.
    pub fn root_pc(&self, key: Key) -> u8 {
        (key.tonic_pc % 12 + self.root) % 12
    }

    /// Pitch classes of the chord tones in `key`, root first.
    pub fn pcs(&self, key: Key) -> Vec<u8> {
        let root = self.root_pc(key);
        self.quality
            .intervals()
            .iter()
            .map(|i| (root + i) % 12)
            .collect()
    }
}

/// Frequency in Hz of a (fractional) MIDI note.
pub fn midi_to_hz(midi: f32) -> f32 {
    440.0 * ((midi - 69.0) / 12.0).exp2()
}

fn pc_of(midi: i32) -> u8 {
    midi.rem_euclid(12) as u8
}

/// The note nearest to `midi` whose pitch class is in `pcs` (ties go down).
pub fn nearest_in(midi: i32, pcs: &[u8]) -> i32 {
    (0..=6)
        .flat_map(|d| [midi - d, midi + d])
        .find(|&m| pcs.contains(&pc_of(m)))
        .unwrap_or(midi)
}

/// The lowest note at or above `midi` whose pitch class is `pc`.
pub fn at_or_above(midi: i32, pc: u8) -> i32 {
    midi + (i32::from(pc) - midi).rem_euclid(12)
}

/// Moves `steps` notes along the scale `pcs` from `midi` (snapped into the scale first).
pub fn scale_step(midi: i32, steps: i32, pcs: &[u8]) -> i32 {
    let mut note = nearest_in(midi, pcs);
    let dir = steps.signum();
    for _ in 0..steps.abs() {
        note += dir;
        while !pcs.contains(&pc_of(note)) {
            note += dir;
        }
    }
    note
}

/// Voices a chord as `n` notes within [lo, hi], moving as little as possible from `previous`
/// (smooth voice leading); with no previous voicing it stacks upwards from `lo`. Every chord
/// tone appears at least once when `n` allows. Returned sorted, lowest first.
pub fn voice_chord(previous: &[i32], pcs: &[u8], n: usize, lo: i32, hi: i32) -> Vec<i32> {
    let candidates: Vec<i32> = (lo..=hi).filter(|&m| pcs.contains(&pc_of(m))).collect();
    if candidates.is_empty() || n == 0 {
        return Vec::new();
    }
    let mut voicing: Vec<i32> = if previous.len() == n {
        previous
            .iter()
            .map(|&p| {
                *candidates
                    .iter()
                    .min_by_key(|&&c| ((c - p).abs(), c))
                    .expect("candidates is not empty")
            })
            .collect()
    } else {
        // Close position from the lowest root at or above `lo`.
        let root = at_or_above(lo, pcs[0]);
        let mut notes = Vec::with_capacity(n);
        let mut m = root;
        while notes.len() < n && m <= hi + 24 {
            if pcs.contains(&pc_of(m)) {
                notes.push(if m > hi { m - 12 } else { m });
            }
            m += 1;
        }
        notes
    };
    // Make sure each chord tone sounds, replacing doubled notes by the missing tones.
    for &pc in pcs.iter().take(n) {
        if voicing.iter().any(|&m| pc_of(m) == pc) {
            continue;
        }
        let doubled = (0..voicing.len()).find(|&i| {
            voicing
                .iter()
                .filter(|&&m| pc_of(m) == pc_of(voicing[i]))
                .count()
                > 1
        });
        if let Some(i) = doubled {
            let near = nearest_in(voicing[i], &[pc]);
            voicing[i] = if near < lo {
                near + 12
            } else if near > hi {
                near - 12
            } else {
                near
            };
        }
    }
    voicing.sort_unstable();
    voicing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a4_is_440_hz_and_low_b_flat_is_58_27_hz() {
        assert!((midi_to_hz(69.0) - 440.0).abs() < 1e-3);
        // Bb1 = MIDI 34: 440 · 2^(-35/12) = 58.2705 Hz.
        assert!((midi_to_hz(34.0) - 58.2705).abs() < 1e-3);
        assert_eq!(PITCH_CLASS_NAMES[usize::from(PC_B_FLAT)], "Bb");
        assert_eq!(PITCH_CLASS_NAMES[usize::from(PC_A)], "A");
    }

    #[test]
    fn chords_spell_their_tones() {
        let a_major = Key {
            tonic_pc: PC_A,
            mode: Mode::Major,
        };
        // I, IV, V in A major: A C# E, D F# A, E G# B.
        assert_eq!(ch(0, Quality::Major).pcs(a_major), vec![9, 1, 4]);
        assert_eq!(ch(5, Quality::Major).pcs(a_major), vec![2, 6, 9]);
        assert_eq!(ch(7, Quality::Major).pcs(a_major), vec![4, 8, 11]);
        let bb_minor = Key {
            tonic_pc: PC_B_FLAT,
            mode: Mode::Minor,
        };
        assert_eq!(ch(0, Quality::Minor).pcs(bb_minor), vec![10, 1, 5]);
        assert_eq!(bb_minor.name(), "Bb minor");
        assert_eq!(bb_minor.scale_pcs(), vec![10, 0, 1, 3, 5, 6, 8]);
    }

    #[test]
    fn scale_steps_walk_the_scale() {
        let c_major = [0, 2, 4, 5, 7, 9, 11];
        assert_eq!(scale_step(60, 1, &c_major), 62);
        assert_eq!(scale_step(60, 2, &c_major), 64);
        assert_eq!(scale_step(60, 3, &c_major), 65);
        assert_eq!(scale_step(60, -1, &c_major), 59);
        assert_eq!(scale_step(60, 7, &c_major), 72);
        // A note outside the scale snaps first (C#4 → C4, ties down), then steps.
        assert_eq!(scale_step(61, 1, &c_major), 62);
        assert_eq!(nearest_in(66, &[0, 4, 7]), 67);
        assert_eq!(at_or_above(60, 9), 69);
    }

    #[test]
    fn voicings_contain_the_chord_and_move_smoothly() {
        let c = [0u8, 4, 7];
        let f = [5u8, 9, 0];
        let first = voice_chord(&[], &c, 3, 55, 72);
        assert_eq!(first, vec![60, 64, 67]);
        let next = voice_chord(&first, &f, 3, 55, 72);
        // C E G → C F A: the common tone stays, the others move by at most two semitones.
        assert_eq!(next, vec![60, 65, 69]);
        let four = voice_chord(&[], &[2, 5, 9, 0], 4, 50, 70);
        for pc in [2u8, 5, 9, 0] {
            assert!(
                four.iter().any(|&m| m.rem_euclid(12) as u8 == pc),
                "{four:?}"
            );
        }
        assert!(four.iter().all(|&m| (50..=70).contains(&m)));
    }
}
