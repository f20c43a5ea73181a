//! The small, self-contained description a demo track is rendered from: style, the artist's
//! timbre and properties, key, tempo, seeds and length. Rendering needs nothing else (no world,
//! no catalog).

use serde::{Deserialize, Serialize};

use super::properties::Properties;
use super::styles::Style;
use super::theory::Key;
use crate::audio::ANALYSIS_RATE_HZ;

/// What a track is on its album. All but `Regular` are the atypical items the seed says
/// collaborative filtering recommends wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackKind {
    Regular,
    /// Opens an album: sparse, ambient, no beat.
    Intro,
    /// Closes an album: sparse, fading.
    Outro,
    /// A short sketch between songs.
    Interlude,
    /// Another artist's song, played in that song's style.
    Cover,
    /// One of the artist's songs redone in a club or beat style.
    Remix,
}

impl TrackKind {
    pub fn name(self) -> &'static str {
        match self {
            TrackKind::Regular => "regular",
            TrackKind::Intro => "intro",
            TrackKind::Outro => "outro",
            TrackKind::Interlude => "interlude",
            TrackKind::Cover => "cover",
            TrackKind::Remix => "remix",
        }
    }

    /// Intro, outro and interlude: sketches rather than songs.
    pub fn is_sketch(self) -> bool {
        matches!(
            self,
            TrackKind::Intro | TrackKind::Outro | TrackKind::Interlude
        )
    }
}

/// An artist's sound: every track of the artist uses these settings, so its tracks resemble
/// each other (and the network can learn the artist, as CF does). Values in [0, 1] unless the
/// name carries a unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timbre {
    /// Filter openness and partial rolloff.
    pub brightness: f32,
    /// Slower attacks.
    pub softness: f32,
    /// Spread of unison oscillators.
    pub detune_cents: f32,
    pub vibrato_rate_hz: f32,
    /// Vibrato depth relative to the style's norm (0.7 … 1.3).
    pub vibrato_amount: f32,
    /// Reverb send and room size.
    pub reverb: f32,
    /// Saturation.
    pub drive: f32,
    /// Shift of melodies and chords in semitones (a lower or higher singer or instrument).
    pub register_semitones: i8,
    /// Swing of off-beats.
    pub swing: f32,
    /// Rhythmic busyness of the accompaniment.
    pub busyness: f32,
    /// Drum kit: kick pitch multiplier, decay multiplier, snare and hat brightness.
    pub kick_tune: f32,
    pub kick_decay: f32,
    pub snare_tone: f32,
    pub hat_decay: f32,
    /// Which of the style's instrument variants the artist plays (e.g. pulse width, lead).
    pub variant: u8,
    /// The singer's voice: female formants when true.
    pub female: bool,
}

impl Timbre {
    /// The same timbre with every value in its documented range (non-finite values become the
    /// middle of it), so that a recipe read from a file cannot make the synth misbehave.
    pub fn sanitised(&self) -> Timbre {
        let fit = |x: f32, lo: f32, hi: f32| {
            if x.is_finite() {
                x.clamp(lo, hi)
            } else {
                0.5 * (lo + hi)
            }
        };
        Timbre {
            brightness: fit(self.brightness, 0.0, 1.0),
            softness: fit(self.softness, 0.0, 1.0),
            detune_cents: fit(self.detune_cents, 0.0, 50.0),
            vibrato_rate_hz: fit(self.vibrato_rate_hz, 3.0, 9.0),
            vibrato_amount: fit(self.vibrato_amount, 0.0, 2.0),
            reverb: fit(self.reverb, 0.0, 1.0),
            drive: fit(self.drive, 0.0, 1.0),
            register_semitones: self.register_semitones.clamp(-12, 12),
            swing: fit(self.swing, 0.0, 1.0),
            busyness: fit(self.busyness, 0.0, 1.0),
            kick_tune: fit(self.kick_tune, 0.5, 2.0),
            kick_decay: fit(self.kick_decay, 0.2, 3.0),
            snare_tone: fit(self.snare_tone, 0.0, 1.0),
            hat_decay: fit(self.hat_decay, 0.2, 3.0),
            variant: self.variant,
            female: self.female,
        }
    }
}

/// Everything that determines a track's audio. Beats fall at multiples of 60 / `tempo_bpm`
/// seconds from the start of the track; everything is in 4/4.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    /// The style it is arranged and played in.
    pub style: Style,
    /// The style its song was written in (differs from `style` for remixes).
    pub song_style: Style,
    pub kind: TrackKind,
    pub timbre: Timbre,
    /// What the performer adds over the style (vocals, vibrato, thirds, ambience, distortion,
    /// drone); absent in recipes written before properties existed, which then have none.
    #[serde(default)]
    pub properties: Properties,
    pub key: Key,
    pub tempo_bpm: f32,
    /// Fixes chords, melodies and form (shared by an original and its covers and remixes).
    pub song_seed: u64,
    /// Fixes the arrangement's details: fills, humanising, noise.
    pub performance_seed: u64,
    /// Length in samples at [`ANALYSIS_RATE_HZ`].
    pub length_samples: u64,
}

impl Recipe {
    pub fn duration_secs(&self) -> f64 {
        self.length_samples as f64 / f64::from(ANALYSIS_RATE_HZ)
    }

    /// First sample of the analysed middle excerpt: `max(0, (n - 661500) / 2)` (DESIGN.md).
    pub fn excerpt_start(&self) -> u64 {
        crate::audio::excerpt_start(self.length_samples as usize) as u64
    }
}
