//! The instrument figures a style is known for, which artists of other styles may feature
//! ([`Featured`]): the home style's arrangement and a featuring artist's play the same figure,
//! so the instrument sounds alike wherever it turns up.

use super::super::properties::Featured;
use super::super::synth::PostFx;
use super::patches::{fiddle, piano, pulse, skank};
use super::{Arranger, Line};

impl Arranger {
    /// A ballad's piano: the root and its octave on the half bars (from MIDI 36) under the
    /// chord arpeggiated in eighths between MIDI 55 and 72, in every section.
    pub(super) fn piano_accompaniment(&mut self, gain: f32, send: f32) {
        let part = self.part(piano(&self.t), gain, send);
        self.bass(part, 36, &[(0, 8, 0), (8, 8, 12)], 0, 0.7);
        self.arp(part, (55, 72), 2, 0, 0.45);
    }

    /// Country's fiddle: the tune around MIDI 74 (in the artist's register) in sections of at
    /// least `min_energy`, through a violin body's resonances.
    pub(super) fn fiddle_tune(&mut self, gain: f32, send: f32, min_energy: u8) {
        let part = self.part(fiddle(&self.t), gain, send);
        self.post(
            part,
            PostFx::Body {
                freqs_hz: [450.0, 1200.0, 2900.0],
                q: 2.5,
                mix: 0.6,
            },
        );
        let center = 74 + i32::from(self.t.register_semitones / 2);
        self.melody(part, Line::new(center, min_energy));
    }

    /// Dub's skank: short, high-passed chords (MIDI 58–72) on beats two and four, sent into
    /// the echo where the track has one.
    pub(super) fn skank(&mut self, gain: f32, send: f32) {
        let part = self.part(skank(&self.t), gain, send);
        self.parts[part].echo_send = 0.35;
        self.post(part, PostFx::Highpass { cutoff_hz: 350.0 });
        let offbeats = "....x.......x...";
        self.comp(
            part,
            (58, 72),
            3,
            ["", offbeats, offbeats, offbeats],
            1.0,
            0.0,
            0.8,
        );
    }

    /// Chiptune's lead: the tune around MIDI 74 (in the artist's register) on a square wave,
    /// odd harmonics only, in sections of at least `min_energy`.
    pub(super) fn square_lead(&mut self, gain: f32, min_energy: u8) {
        let part = self.part(pulse(0.5, 12.0 * self.t.vibrato_amount), gain, 0.0);
        let center = 74 + i32::from(self.t.register_semitones / 2);
        self.melody(
            part,
            Line {
                gate: 0.85,
                ..Line::new(center, min_energy)
            },
        );
    }

    /// Plays `featured` over another style's arrangement, louder than in its home style (it
    /// is featured, over busier mixes), in every section.
    pub(super) fn feature(&mut self, featured: Featured) {
        match featured {
            Featured::Piano => self.piano_accompaniment(0.7, 0.3),
            Featured::Fiddle => self.fiddle_tune(0.5, 0.2, 0),
            Featured::Skank => self.skank(0.8, 0.2),
            Featured::SquareLead => self.square_lead(0.6, 0),
        }
    }
}
