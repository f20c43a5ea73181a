//! The demo world's musical styles: what each one is called, the instruments and rhythms every
//! track of it carries (trait tags), its tempo range, its minor modes and its chord
//! progressions. How a style is arranged and played lives in `arrange.rs`; the properties its
//! artists draw with style-dependent odds (key, vibrato, distortion …) in `properties.rs`.

use serde::{Deserialize, Serialize};

use super::theory::Quality::{Dominant7, Major, Major7, Minor, Minor7, Minor9, Power, Sus4};
use super::theory::{ch, Chord, Mode};

/// A style of the demo world. Each one sounds different and carries some of the seed's traits
/// (see [`Style::traits`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Style {
    DeepHouse,
    HipHop,
    Chiptune,
    Choir,
    FolkDuet,
    Ballad,
    Ambient,
    NoiseRock,
    Drone,
    Dub,
    Country,
    SmoothJazz,
    Chamber,
    Gabber,
}

impl Style {
    /// Every style, in a fixed order (the index is [`Style::index`]).
    pub const ALL: [Style; 14] = [
        Style::DeepHouse,
        Style::HipHop,
        Style::Chiptune,
        Style::Choir,
        Style::FolkDuet,
        Style::Ballad,
        Style::Ambient,
        Style::NoiseRock,
        Style::Drone,
        Style::Dub,
        Style::Country,
        Style::SmoothJazz,
        Style::Chamber,
        Style::Gabber,
    ];

    /// Position in [`Style::ALL`].
    pub fn index(self) -> usize {
        Style::ALL
            .iter()
            .position(|&s| s == self)
            .expect("ALL lists every style")
    }

    /// The tag and display name, e.g. "deep-house".
    pub fn name(self) -> &'static str {
        match self {
            Style::DeepHouse => "deep-house",
            Style::HipHop => "hip-hop",
            Style::Chiptune => "chiptune",
            Style::Choir => "choir",
            Style::FolkDuet => "folk-duet",
            Style::Ballad => "ballad",
            Style::Ambient => "ambient",
            Style::NoiseRock => "noise-rock",
            Style::Drone => "drone",
            Style::Dub => "dub",
            Style::Country => "country",
            Style::SmoothJazz => "smooth-jazz",
            Style::Chamber => "chamber",
            Style::Gabber => "gabber",
        }
    }

    /// The style named `name` (as [`Style::name`] spells it).
    pub fn from_name(name: &str) -> Option<Style> {
        Style::ALL.iter().copied().find(|s| s.name() == name)
    }

    /// Trait words every track of the style carries: its instruments and rhythms (bass drums,
    /// four-on-the-floor, hip-hop beats, chiptune, choirs …). The properties that vary by
    /// artist (vibrato, thirds, ambience, distortion, drone, key, tempo) are in
    /// `properties.rs`.
    pub fn traits(self) -> &'static [&'static str] {
        match self {
            Style::DeepHouse => &["four-on-the-floor", "bass-drum", "seventh-chords"],
            Style::HipHop => &["hip-hop-beat", "bass-drum", "rap", "vinyl"],
            Style::Chiptune => &["8-bit", "square-wave", "arpeggio"],
            Style::Choir => &["choir", "a-cappella"],
            Style::FolkDuet => &["acoustic-guitar"],
            Style::Ballad => &["piano"],
            Style::Ambient => &["bells", "pads"],
            Style::NoiseRock => &["noise", "bass-drum", "guitar"],
            Style::Drone => &["low-pitch"],
            Style::Dub => &["low-pitch", "echo", "offbeat"],
            Style::Country => &["acoustic-guitar", "fiddle"],
            Style::SmoothJazz => &["saxophone", "swing", "seventh-chords"],
            Style::Chamber => &["strings", "classical"],
            Style::Gabber => &["four-on-the-floor", "bass-drum", "hardcore"],
        }
    }

    /// Range of tempi its artists play at, in beats per minute: wide enough in most styles
    /// that slow and fast artists ([`super::properties::tempo_tag`]) occur in several.
    pub fn tempo_range_bpm(self) -> (f32, f32) {
        match self {
            Style::DeepHouse => (112.0, 126.0),
            Style::HipHop => (72.0, 100.0),
            Style::Chiptune => (110.0, 175.0),
            Style::Choir => (56.0, 96.0),
            Style::FolkDuet => (70.0, 140.0),
            Style::Ballad => (56.0, 92.0),
            Style::Ambient => (56.0, 96.0),
            Style::NoiseRock => (100.0, 170.0),
            Style::Drone => (50.0, 70.0),
            Style::Dub => (64.0, 90.0),
            Style::Country => (76.0, 150.0),
            Style::SmoothJazz => (72.0, 140.0),
            Style::Chamber => (56.0, 140.0),
            Style::Gabber => (160.0, 195.0),
        }
    }

    /// The minor modes its minor-key artists write in.
    pub fn minor_modes(self) -> &'static [Mode] {
        match self {
            Style::DeepHouse | Style::Dub => &[Mode::Minor, Mode::Dorian],
            _ => &[Mode::Minor],
        }
    }

    /// Chord loops the style writes songs with, for a key in `mode`. One chord per bar; the
    /// arrangement may split or stretch bars.
    pub(crate) fn progressions(self, mode: Mode) -> &'static [&'static [Chord]] {
        let minor = mode.is_minor();
        match (self, minor) {
            (Style::DeepHouse, false) => {
                const {
                    &[
                        &[ch(0, Major7), ch(0, Major7), ch(5, Major7), ch(5, Major7)],
                        &[
                            ch(0, Major7),
                            ch(9, Minor7),
                            ch(2, Minor7),
                            ch(7, Dominant7),
                        ],
                        &[
                            ch(0, Major7),
                            ch(4, Minor7),
                            ch(5, Major7),
                            ch(7, Dominant7),
                        ],
                    ]
                }
            }
            (Style::HipHop, false) => {
                const {
                    &[
                        &[ch(0, Major7), ch(0, Major7), ch(5, Major7), ch(5, Major7)],
                        &[ch(0, Major), ch(9, Minor), ch(5, Major), ch(7, Major)],
                        &[
                            ch(2, Minor7),
                            ch(7, Dominant7),
                            ch(0, Major7),
                            ch(0, Major7),
                        ],
                    ]
                }
            }
            (Style::Dub, false) => {
                const {
                    &[
                        &[ch(0, Major), ch(0, Major), ch(5, Major), ch(0, Major)],
                        &[ch(0, Major), ch(0, Major), ch(7, Major), ch(0, Major)],
                        &[ch(0, Major), ch(5, Major), ch(0, Major), ch(7, Major)],
                    ]
                }
            }
            (Style::Ambient, true) => {
                const {
                    &[
                        &[ch(0, Minor7), ch(0, Minor7), ch(8, Major7), ch(8, Major7)],
                        &[ch(0, Minor9), ch(5, Minor7), ch(8, Major7), ch(3, Major7)],
                        &[ch(0, Minor7), ch(10, Sus4), ch(8, Major7), ch(0, Minor7)],
                    ]
                }
            }
            (Style::DeepHouse, true) => {
                const {
                    &[
                        &[ch(0, Minor9), ch(0, Minor9), ch(5, Minor7), ch(5, Minor7)],
                        &[ch(0, Minor7), ch(8, Major7), ch(10, Major), ch(7, Minor7)],
                        &[
                            ch(0, Minor9),
                            ch(5, Dominant7),
                            ch(0, Minor9),
                            ch(5, Dominant7),
                        ],
                        &[ch(0, Minor7), ch(3, Major7), ch(5, Minor7), ch(7, Minor7)],
                    ]
                }
            }
            (Style::HipHop, true) => {
                const {
                    &[
                        &[ch(0, Minor7), ch(0, Minor7), ch(8, Major7), ch(8, Major7)],
                        &[ch(0, Minor), ch(5, Minor), ch(8, Major), ch(7, Major)],
                        &[ch(0, Minor7), ch(5, Minor7), ch(0, Minor7), ch(5, Minor7)],
                        &[ch(0, Minor9), ch(10, Major), ch(8, Major7), ch(7, Minor7)],
                    ]
                }
            }
            (Style::Dub, true) => {
                const {
                    &[
                        &[ch(0, Minor), ch(0, Minor), ch(5, Minor), ch(0, Minor)],
                        &[ch(0, Minor), ch(0, Minor), ch(0, Minor), ch(10, Major)],
                        &[ch(0, Minor), ch(0, Minor), ch(8, Major), ch(10, Major)],
                        &[ch(0, Minor7), ch(0, Minor7), ch(0, Minor7), ch(5, Minor7)],
                    ]
                }
            }
            (Style::Country, false) => {
                const {
                    &[
                        &[ch(0, Major), ch(0, Major), ch(5, Major), ch(0, Major)],
                        &[ch(0, Major), ch(5, Major), ch(0, Major), ch(7, Major)],
                        &[ch(0, Major), ch(7, Major), ch(0, Major), ch(5, Major)],
                        &[ch(0, Major), ch(0, Major), ch(7, Major), ch(0, Major)],
                    ]
                }
            }
            (Style::Country, true) => {
                const {
                    &[
                        &[ch(0, Minor), ch(0, Minor), ch(5, Minor), ch(0, Minor)],
                        &[ch(0, Minor), ch(10, Major), ch(0, Minor), ch(7, Major)],
                        &[ch(0, Minor), ch(5, Minor), ch(0, Minor), ch(7, Major)],
                    ]
                }
            }
            (Style::SmoothJazz, false) => {
                const {
                    &[
                        &[
                            ch(2, Minor7),
                            ch(7, Dominant7),
                            ch(0, Major7),
                            ch(0, Major7),
                        ],
                        &[
                            ch(0, Major7),
                            ch(9, Minor7),
                            ch(2, Minor7),
                            ch(7, Dominant7),
                        ],
                        &[
                            ch(4, Minor7),
                            ch(9, Minor7),
                            ch(2, Minor7),
                            ch(7, Dominant7),
                        ],
                        &[ch(5, Major7), ch(4, Minor7), ch(2, Minor7), ch(0, Major7)],
                    ]
                }
            }
            (Style::SmoothJazz, true) => {
                const {
                    &[
                        &[
                            ch(0, Minor7),
                            ch(5, Minor7),
                            ch(10, Dominant7),
                            ch(3, Major7),
                        ],
                        &[
                            ch(0, Minor9),
                            ch(8, Major7),
                            ch(2, Minor7),
                            ch(7, Dominant7),
                        ],
                    ]
                }
            }
            (Style::NoiseRock, _) | (Style::Gabber, _) => {
                const {
                    &[
                        &[ch(0, Power), ch(8, Power), ch(10, Power), ch(0, Power)],
                        &[ch(0, Power), ch(5, Power), ch(10, Power), ch(3, Power)],
                        &[ch(0, Power), ch(10, Power), ch(8, Power), ch(10, Power)],
                        &[ch(0, Power), ch(0, Power), ch(3, Power), ch(5, Power)],
                    ]
                }
            }
            (Style::Drone, _) => {
                const {
                    &[
                        &[ch(0, Power), ch(0, Power), ch(0, Power), ch(0, Power)],
                        &[ch(0, Minor), ch(0, Minor), ch(5, Minor), ch(0, Minor)],
                        &[ch(0, Power), ch(0, Power), ch(8, Major), ch(0, Power)],
                    ]
                }
            }
            (Style::Ambient, false) => {
                const {
                    &[
                        &[ch(0, Major7), ch(0, Major7), ch(5, Major7), ch(5, Major7)],
                        &[ch(0, Major), ch(7, Sus4), ch(9, Minor7), ch(5, Major7)],
                        &[ch(9, Minor7), ch(5, Major7), ch(0, Major7), ch(7, Sus4)],
                    ]
                }
            }
            (Style::Chiptune, false) => {
                const {
                    &[
                        &[ch(0, Major), ch(7, Major), ch(9, Minor), ch(5, Major)],
                        &[ch(9, Minor), ch(5, Major), ch(0, Major), ch(7, Major)],
                        &[ch(0, Major), ch(5, Major), ch(7, Major), ch(0, Major)],
                        &[ch(0, Major), ch(9, Minor), ch(5, Major), ch(7, Major)],
                    ]
                }
            }
            (_, false) => {
                const {
                    &[
                        &[ch(0, Major), ch(7, Major), ch(9, Minor), ch(5, Major)],
                        &[ch(0, Major), ch(9, Minor), ch(5, Major), ch(7, Major)],
                        &[ch(0, Major), ch(5, Major), ch(0, Major), ch(7, Major)],
                        &[ch(0, Major), ch(4, Minor), ch(5, Major), ch(7, Major)],
                        &[ch(9, Minor), ch(5, Major), ch(0, Major), ch(7, Major)],
                    ]
                }
            }
            (_, true) => {
                const {
                    &[
                        &[ch(0, Minor), ch(8, Major), ch(3, Major), ch(10, Major)],
                        &[ch(0, Minor), ch(5, Minor), ch(7, Major), ch(0, Minor)],
                        &[ch(0, Minor), ch(10, Major), ch(8, Major), ch(7, Major)],
                        &[ch(0, Minor), ch(8, Major), ch(5, Minor), ch(7, Major)],
                    ]
                }
            }
        }
    }

    /// Styles a remix is made in (club and beat styles, as remixes usually are).
    pub(crate) fn remix_styles() -> &'static [Style] {
        &[
            Style::DeepHouse,
            Style::HipHop,
            Style::Dub,
            Style::Chiptune,
            Style::Gabber,
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for style in Style::ALL {
            assert_eq!(Style::from_name(style.name()), Some(style));
            assert_eq!(Style::ALL[style.index()], style);
        }
        let mut names: Vec<_> = Style::ALL.iter().map(|s| s.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Style::ALL.len());
    }

    #[test]
    fn the_seed_traits_are_all_carried_by_some_style_or_artist() {
        let seed_traits = [
            "vibrato",
            "vocal-thirds",
            "ambience",
            "bass-drum",
            "noise",
            "distortion",
            "b-flat",
            "drone",
            "a-chord",
            "8-bit",
            "choir",
            "four-on-the-floor",
            "hip-hop-beat",
        ];
        for t in seed_traits {
            assert!(
                Style::ALL.iter().any(|s| s.traits().contains(&t))
                    || super::super::properties::PROPERTY_TAGS.contains(&t),
                "nothing carries {t}"
            );
        }
    }

    #[test]
    fn the_b_flat_and_a_chord_styles_loops_rest_on_the_tonic() {
        // Dub's and country's loops spend at least half their bars on the tonic, so their
        // usual keys (B-flat, A) are heard.
        for style in [Style::Country, Style::Dub] {
            for mode in [Mode::Major, Mode::Minor, Mode::Dorian] {
                for prog in style.progressions(mode) {
                    let tonic_bars = prog.iter().filter(|c| c.root == 0).count();
                    assert!(tonic_bars * 2 >= prog.len(), "{style:?} {prog:?}");
                }
            }
        }
    }
}
