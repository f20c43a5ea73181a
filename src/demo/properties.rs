//! What an artist's music is like beyond its style: singing, a wide vibrato, harmony in thirds,
//! ringing ambience, distortion, a drone, an instrument borrowed from another style, its key
//! and its tempo. Each is drawn per artist with
//! odds that depend on the style, so most properties occur in several styles and vary within
//! one (the seed's first-layer filters found such properties "across quite varied genres").
//! Every property is a tag: naming help finds the filters that respond to one, and listeners
//! may like one whatever the style.

use serde::{Deserialize, Serialize};

use super::rng::Rng;
use super::styles::Style;
use super::theory::{Key, Mode, PC_A, PC_B_FLAT};

/// The properties an artist (or a remixer) brings to every track it plays.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Properties {
    /// A sung lead (rap in hip-hop; the whole texture in a choir).
    pub vocals: bool,
    /// The singer sings with a wide vibrato of 5–6.5 Hz.
    pub vibrato: bool,
    /// A second singer doubles the tune a diatonic third above.
    pub thirds: bool,
    /// A long, ringing reverb on everything.
    pub ambience: bool,
    /// The pitched instruments go through an overdrive.
    pub distortion: bool,
    /// A low tonic and fifth held under the whole track.
    pub drone: bool,
    /// An instrument another style is known for, played over this one's arrangement; absent
    /// in recipes written before it existed.
    #[serde(default)]
    pub featured: Option<Featured>,
}

/// An instrument figure a style is known for (every track of that style has it) that artists
/// of other styles feature too, as real pianos and fiddles turn up in many genres. It carries
/// the home style's trait tag, so a filter that hears pianos finds them in any style.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Featured {
    /// A ballad's piano: a bass note per half bar under arpeggiated chords.
    Piano,
    /// Country's fiddle playing the tune.
    Fiddle,
    /// Dub's skank: short chords on beats two and four.
    Skank,
    /// Chiptune's square-wave lead playing the tune.
    SquareLead,
}

impl Featured {
    /// Every featured instrument, in the order of [`Odds::featured`].
    pub const ALL: [Featured; 4] = [
        Featured::Piano,
        Featured::Fiddle,
        Featured::Skank,
        Featured::SquareLead,
    ];

    /// Its tag: the home style's trait.
    pub fn tag(self) -> &'static str {
        match self {
            Featured::Piano => "piano",
            Featured::Fiddle => "fiddle",
            Featured::Skank => "offbeat",
            Featured::SquareLead => "square-wave",
        }
    }

    /// The style every track of which has it in its own arrangement.
    pub fn home(self) -> Style {
        match self {
            Featured::Piano => Style::Ballad,
            Featured::Fiddle => Style::Country,
            Featured::Skank => Style::Dub,
            Featured::SquareLead => Style::Chiptune,
        }
    }
}

/// Tracks slower than this are tagged "slow" (beats per minute).
pub const SLOW_BELOW_BPM: f32 = 85.0;
/// Tracks at least this fast are tagged "fast" (beats per minute).
pub const FAST_FROM_BPM: f32 = 135.0;

/// Every property tag, as tracks carry them.
pub const PROPERTY_TAGS: [&str; 15] = [
    "vocals",
    "vibrato",
    "vocal-thirds",
    "ambience",
    "distortion",
    "drone",
    "piano",
    "fiddle",
    "offbeat",
    "square-wave",
    "minor-key",
    "b-flat",
    "a-chord",
    "slow",
    "fast",
];

/// A style's odds of each property for one of its artists (vibrato and thirds given vocals;
/// the key odds for the artist's main key; one featured instrument at most).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Odds {
    pub vocals: f64,
    pub vibrato: f64,
    pub thirds: f64,
    pub ambience: f64,
    pub distortion: f64,
    pub drone: f64,
    /// Each of [`Featured::ALL`] (0 in its home style, which always has it).
    pub featured: [f64; 4],
    /// A minor (or dorian) main key.
    pub minor: f64,
    /// A main key on B-flat.
    pub b_flat: f64,
    /// A main key on A.
    pub a: f64,
}

/// The odds of an artist of `style` (see [`Odds`]). Styles keep their character (dub is
/// mostly in B-flat, country mostly on A, ballads mostly sung with vibrato, noise rock and
/// gabber always distorted and minor over power chords, drone music always on a drone,
/// ambient and drone music always ringing; a choir's vibrato is its own, and chiptune's square
/// waves are clipped already) while most properties turn up in several styles.
pub fn odds(style: Style) -> Odds {
    let o = |vocals, vibrato, thirds, ambience, distortion, drone, minor, b_flat, a| Odds {
        vocals,
        vibrato,
        thirds,
        ambience,
        distortion,
        drone,
        featured: featured_odds(style),
        minor,
        b_flat,
        a,
    };
    match style {
        Style::DeepHouse => o(0.35, 0.25, 0.2, 0.2, 0.05, 0.1, 0.75, 0.1, 0.08),
        Style::HipHop => o(1.0, 0.0, 0.0, 0.1, 0.25, 0.1, 0.8, 0.1, 0.08),
        Style::Chiptune => o(0.15, 0.3, 0.3, 0.05, 0.0, 0.05, 0.35, 0.08, 0.1),
        Style::Choir => o(1.0, 0.0, 0.0, 0.6, 0.0, 0.25, 0.5, 0.1, 0.08),
        Style::FolkDuet => o(1.0, 0.15, 0.85, 0.15, 0.02, 0.2, 0.25, 0.08, 0.12),
        Style::Ballad => o(1.0, 0.8, 0.2, 0.35, 0.02, 0.05, 0.5, 0.08, 0.08),
        Style::Ambient => o(0.2, 0.35, 0.2, 1.0, 0.05, 0.45, 0.4, 0.1, 0.08),
        Style::NoiseRock => o(0.5, 0.1, 0.2, 0.1, 1.0, 0.25, 1.0, 0.1, 0.08),
        Style::Drone => o(0.15, 0.3, 0.1, 1.0, 0.3, 1.0, 1.0, 0.12, 0.08),
        Style::Dub => o(0.4, 0.2, 0.3, 0.4, 0.05, 0.1, 0.9, 0.6, 0.05),
        Style::Country => o(0.85, 0.3, 0.45, 0.1, 0.05, 0.15, 0.25, 0.05, 0.6),
        Style::SmoothJazz => o(0.35, 0.45, 0.2, 0.2, 0.02, 0.02, 0.35, 0.08, 0.08),
        Style::Chamber => o(0.35, 0.7, 0.2, 0.35, 0.0, 0.2, 0.5, 0.08, 0.08),
        Style::Gabber => o(0.2, 0.05, 0.05, 0.05, 1.0, 0.1, 1.0, 0.08, 0.08),
    }
}

/// The odds of each featured instrument (piano, fiddle, skank, square lead): pianos are common
/// in house, jazz, ambient and chamber music, fiddles in folk and ballads, skanks in hip-hop
/// and ska-like noise rock, square leads in gabber and house; a choir stays a cappella.
fn featured_odds(style: Style) -> [f64; 4] {
    match style {
        Style::DeepHouse => [0.3, 0.0, 0.2, 0.2],
        Style::HipHop => [0.25, 0.05, 0.25, 0.15],
        Style::Chiptune => [0.15, 0.05, 0.15, 0.0],
        Style::Choir => [0.0; 4],
        Style::FolkDuet => [0.2, 0.4, 0.1, 0.0],
        Style::Ballad => [0.0, 0.3, 0.0, 0.0],
        Style::Ambient => [0.3, 0.2, 0.0, 0.1],
        Style::NoiseRock => [0.1, 0.05, 0.2, 0.15],
        Style::Drone => [0.15, 0.2, 0.0, 0.05],
        Style::Dub => [0.15, 0.05, 0.0, 0.15],
        Style::Country => [0.2, 0.0, 0.1, 0.0],
        Style::SmoothJazz => [0.3, 0.15, 0.15, 0.05],
        Style::Chamber => [0.35, 0.0, 0.0, 0.0],
        Style::Gabber => [0.1, 0.0, 0.0, 0.35],
    }
}

impl Properties {
    /// Draws an artist's properties with `style`'s odds.
    pub(crate) fn draw(rng: &mut Rng, style: Style) -> Properties {
        let odds = odds(style);
        let vocals = rng.chance(odds.vocals);
        let vibrato = rng.chance(odds.vibrato) && vocals;
        let thirds = rng.chance(odds.thirds) && vocals;
        Properties {
            vocals,
            vibrato,
            thirds,
            ambience: rng.chance(odds.ambience),
            distortion: rng.chance(odds.distortion),
            drone: rng.chance(odds.drone),
            featured: draw_featured(rng, &odds.featured),
        }
    }

    /// The tags of the properties that are present.
    pub fn tags(&self) -> impl Iterator<Item = &'static str> {
        [
            (self.vocals, "vocals"),
            (self.vibrato, "vibrato"),
            (self.thirds, "vocal-thirds"),
            (self.ambience, "ambience"),
            (self.distortion, "distortion"),
            (self.drone, "drone"),
        ]
        .into_iter()
        .filter_map(|(on, tag)| on.then_some(tag))
        .chain(self.featured.map(Featured::tag))
    }
}

/// One of [`Featured::ALL`] with the chances `odds` (summing to at most 1), or none.
fn draw_featured(rng: &mut Rng, odds: &[f64; 4]) -> Option<Featured> {
    let none = (1.0 - odds.iter().sum::<f64>()).max(0.0);
    let weights = [odds[0], odds[1], odds[2], odds[3], none];
    Featured::ALL.get(rng.weighted(&weights)).copied()
}

/// An artist's main key: B-flat or A with the style's odds (any other tonic otherwise), minor
/// with the style's odds (in one of `minor_modes`).
pub(crate) fn draw_main_key(rng: &mut Rng, style: Style) -> Key {
    let odds = odds(style);
    let tonic_pc = if rng.chance(odds.b_flat) {
        PC_B_FLAT
    } else if rng.chance(odds.a) {
        PC_A
    } else {
        let others: Vec<u8> = (0..12)
            .filter(|&pc| pc != PC_A && pc != PC_B_FLAT)
            .collect();
        *rng.pick(&others)
    };
    let mode = if rng.chance(odds.minor) {
        *rng.pick(style.minor_modes())
    } else {
        Mode::Major
    };
    Key { tonic_pc, mode }
}

/// The tags of a key: "minor-key", "b-flat" (tonic B-flat), "a-chord" (tonic A).
pub fn key_tags(key: Key) -> impl Iterator<Item = &'static str> {
    [
        (key.mode.is_minor(), "minor-key"),
        (key.tonic_pc % 12 == PC_B_FLAT, "b-flat"),
        (key.tonic_pc % 12 == PC_A, "a-chord"),
    ]
    .into_iter()
    .filter_map(|(on, tag)| on.then_some(tag))
}

/// The tags of a performance: its properties', its key's and its tempo's.
pub fn performance_tags(
    properties: &Properties,
    key: Key,
    tempo_bpm: f32,
) -> impl Iterator<Item = &'static str> {
    properties
        .tags()
        .chain(key_tags(key))
        .chain(tempo_tag(tempo_bpm))
}

/// "slow" below [`SLOW_BELOW_BPM`], "fast" from [`FAST_FROM_BPM`], nothing between.
pub fn tempo_tag(tempo_bpm: f32) -> Option<&'static str> {
    if tempo_bpm < SLOW_BELOW_BPM {
        Some("slow")
    } else if tempo_bpm >= FAST_FROM_BPM {
        Some("fast")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odds_are_probabilities_and_most_properties_span_several_styles() {
        for style in Style::ALL {
            let o = odds(style);
            for p in [
                o.vocals,
                o.vibrato,
                o.thirds,
                o.ambience,
                o.distortion,
                o.drone,
                o.minor,
                o.b_flat,
                o.a,
            ] {
                assert!((0.0..=1.0).contains(&p), "{style:?}");
            }
        }
        // Count the styles where a property is at least somewhat common (≥ 20%).
        let common =
            |f: fn(&Odds) -> f64| Style::ALL.iter().filter(|&&s| f(&odds(s)) >= 0.2).count();
        assert!(common(|o| o.vocals * o.vibrato) >= 3);
        assert!(common(|o| o.vocals * o.thirds) >= 3);
        assert!(common(|o| o.ambience) >= 3);
        assert!(common(|o| o.distortion) >= 3);
        assert!(common(|o| o.drone) >= 3);
        for (i, featured) in Featured::ALL.into_iter().enumerate() {
            assert_eq!(odds(featured.home()).featured[i], 0.0, "{featured:?}");
            let elsewhere = Style::ALL
                .iter()
                .filter(|&&s| odds(s).featured[i] >= 0.15)
                .count();
            assert!(elsewhere >= 3, "{featured:?} in {elsewhere} styles");
        }
        for style in Style::ALL {
            assert!(odds(style).featured.iter().sum::<f64>() <= 1.0, "{style:?}");
        }
    }

    #[test]
    fn drawn_properties_follow_their_odds() {
        let mut rng = Rng::new(5);
        let n = 4000;
        let mut b_flat = 0;
        let mut a = 0;
        let mut vibrato_without_vocals = 0;
        for _ in 0..n {
            if draw_main_key(&mut rng, Style::Dub).tonic_pc == PC_B_FLAT {
                b_flat += 1;
            }
            if draw_main_key(&mut rng, Style::Country).tonic_pc == PC_A {
                a += 1;
            }
            let p = Properties::draw(&mut rng, Style::Country);
            if p.vibrato && !p.vocals {
                vibrato_without_vocals += 1;
            }
        }
        let share = |k: usize| k as f64 / n as f64;
        assert!((share(b_flat) - 0.6).abs() < 0.03, "{}", share(b_flat));
        // A when not B-flat: 0.95 × 0.6.
        assert!((share(a) - 0.57).abs() < 0.03, "{}", share(a));
        assert_eq!(vibrato_without_vocals, 0);
    }

    #[test]
    fn keys_and_tempi_tag_as_documented() {
        let tags = |tonic_pc, mode| key_tags(Key { tonic_pc, mode }).collect::<Vec<_>>();
        assert_eq!(tags(10, Mode::Minor), ["minor-key", "b-flat"]);
        assert_eq!(tags(9, Mode::Major), ["a-chord"]);
        assert_eq!(tags(0, Mode::Dorian), ["minor-key"]);
        assert!(tags(2, Mode::Major).is_empty());
        assert_eq!(tempo_tag(84.9), Some("slow"));
        assert_eq!(tempo_tag(85.0), None);
        assert_eq!(tempo_tag(135.0), Some("fast"));
        for tag in ["minor-key", "b-flat", "a-chord", "slow", "fast"] {
            assert!(PROPERTY_TAGS.contains(&tag));
        }
        let all = Properties {
            vocals: true,
            vibrato: true,
            thirds: true,
            ambience: true,
            distortion: true,
            drone: true,
            featured: Some(Featured::Piano),
        };
        assert!(all.tags().all(|t| PROPERTY_TAGS.contains(&t)));
        assert_eq!(all.tags().count(), 7);
        for featured in Featured::ALL {
            assert!(PROPERTY_TAGS.contains(&featured.tag()));
            assert!(featured.home().traits().contains(&featured.tag()));
        }
    }
}
