//! What an artist's [`Properties`] add over any style's arrangement: a singer (with a wide
//! vibrato, and a second voice a third above, when the artist has them), a drone, a featured
//! instrument, distortion and a ringing ambience. The styles that sing in their own way
//! (choir, folk duet, ballad, hip-hop's rap) call [`Arranger::sing`] or shape their voices
//! themselves.

use super::super::instruments::Instrument;
use super::super::properties::Properties;
use super::super::styles::Style;
use super::super::synth::{PostFx, ReverbSettings};
use super::patches::{organ, voice};
use super::{Arranger, Line};

/// Vibrato depth of a singer with the vibrato property, in cents (before the timbre's amount).
const WIDE_VIBRATO_CENTS: f32 = 70.0;
/// Vibrato depth of a singer without it.
const PLAIN_VIBRATO_CENTS: f32 = 10.0;
/// The ringing ambience: at least this reverb decay, in seconds, …
const AMBIENCE_DECAY_SECS: f32 = 7.0;
/// … at least this send on every part …
const AMBIENCE_SEND: f32 = 1.0;
/// … and the master gain scaled by this, as the long tail adds up to several times the dry
/// sound's energy.
const AMBIENCE_MASTER: f32 = 0.6;

/// Whether the style's own arrangement carries its vocals (so no singer is added).
fn sings_itself(style: Style) -> bool {
    matches!(
        style,
        Style::Choir | Style::FolkDuet | Style::Ballad | Style::HipHop
    )
}

impl Arranger {
    /// Sings the song's tune around MIDI `center`, in sections of at least `min_energy`: the
    /// lead (with a wide vibrato when the artist has one), and the same tune a diatonic third
    /// above when the artist sings in thirds.
    pub(super) fn sing(&mut self, center: i32, span: i32, min_energy: u8, gain: f32, send: f32) {
        let t = self.t;
        let cents = if self.properties.vibrato {
            WIDE_VIBRATO_CENTS
        } else {
            PLAIN_VIBRATO_CENTS
        };
        let line = Line {
            span,
            ..Line::new(center, min_energy)
        };
        let lead = self.singer_part(voice(&t, cents, 1, 0.05), t.female, gain, send);
        self.melody(lead, line);
        if self.properties.thirds {
            let harmony = self.singer_part(voice(&t, cents, 1, 0.05), t.female, 0.85 * gain, send);
            self.melody(
                harmony,
                Line {
                    shift_steps: 2,
                    ..line
                },
            );
        }
    }

    /// Adds the layers of the artist's properties to the style's arrangement of `style`.
    pub(super) fn add_properties(&mut self, style: Style) {
        let Properties {
            vocals,
            distortion,
            drone,
            ambience,
            featured,
            ..
        } = self.properties;
        let t = self.t;
        if vocals && !sings_itself(style) {
            let center = if t.female { 67 } else { 58 } + i32::from(t.register_semitones / 2);
            self.sing(center, 7, 2, 0.5, 0.3);
        }
        if drone {
            // The tonic (in MIDI 33–44, A1–G#2), its fifth and octave, held from the first bar
            // to the last.
            let part = self.part(organ(&t, 2.0, 3.0), 1.0, 0.3);
            let tonic = 33 + i32::from((self.key.tonic_pc + 3) % 12);
            let at = self.grid.at(0, 0.0);
            let gate = self.grid.at(self.total_bars, 0.0) - at;
            for (midi, velocity) in [(tonic, 0.9), (tonic + 7, 0.6), (tonic + 12, 0.5)] {
                self.add(part, at, gate, midi as f32, velocity, 0);
            }
        }
        // Its home style plays it already. Added after the other parts, so that a recipe with
        // and without it renders those the same.
        if let Some(featured) = featured.filter(|f| f.home() != style) {
            self.feature(featured);
        }
        // Noise rock and gabber distort in their own arrangements.
        if distortion && !matches!(style, Style::NoiseRock | Style::Gabber) {
            let fx = PostFx::Drive {
                gain: 20.0 + 30.0 * t.drive,
                tone_hz: 3000.0 + 3000.0 * t.brightness,
            };
            for part in &mut self.parts {
                let pitched =
                    !matches!(part.instrument, Instrument::Drum(_) | Instrument::Noise(_));
                let sung = part
                    .post
                    .iter()
                    .any(|fx| matches!(fx, PostFx::Formants { .. }));
                if pitched && !sung {
                    part.post.push(fx);
                    // The saturator raises the level; keep the mix about where it was.
                    part.gain *= 0.6;
                }
            }
        }
        if ambience {
            let decay_secs = self.reverb.map_or(AMBIENCE_DECAY_SECS, |r| {
                r.decay_secs.max(AMBIENCE_DECAY_SECS)
            }) + 2.0 * t.reverb;
            self.reverb = Some(ReverbSettings {
                decay_secs,
                size: 1.5,
                damping: 0.25,
            });
            for part in &mut self.parts {
                part.reverb_send = part.reverb_send.max(AMBIENCE_SEND);
            }
            self.master_gain *= AMBIENCE_MASTER;
        }
    }
}
