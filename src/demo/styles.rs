//! The demo world's musical styles: what each one is called, the traits it carries (the features
//! the seed's filter playlists found), its tempo and key habits and its chord progressions.
//! How a style is arranged and played lives in `arrange.rs`.

use serde::{Deserialize, Serialize};

use super::theory::Quality::{Dominant7, Major, Major7, Minor, Minor7, Minor9, Power, Sus4};
use super::theory::{ch, Chord, Key, Mode, PC_A, PC_B_FLAT};

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

    /// Trait words the style's audio carries: the features of the seed's filter playlists
    /// (vibrato singing, vocal thirds, ringing ambience, bass drums, noise/distortion, low
    /// B-flat, drones, A chords, chiptune, choirs, four-on-the-floor, hip-hop beats).
    pub fn traits(self) -> &'static [&'static str] {
        match self {
            Style::DeepHouse => &["four-on-the-floor", "bass-drum", "seventh-chords"],
            Style::HipHop => &["hip-hop-beat", "bass-drum", "rap", "vinyl"],
            Style::Chiptune => &["8-bit", "square-wave", "arpeggio"],
            Style::Choir => &["choir", "a-cappella", "reverb"],
            Style::FolkDuet => &["vocal-thirds", "vocals", "acoustic-guitar"],
            Style::Ballad => &["vibrato", "vocals", "piano"],
            Style::Ambient => &["ambience", "reverb", "bells"],
            Style::NoiseRock => &["noise", "distortion", "bass-drum", "guitar"],
            Style::Drone => &["drone", "low-pitch"],
            Style::Dub => &["b-flat", "low-pitch", "echo", "offbeat"],
            Style::Country => &["a-chord", "acoustic-guitar", "fiddle"],
            Style::SmoothJazz => &["saxophone", "swing", "seventh-chords"],
            Style::Chamber => &["strings", "classical", "vibrato"],
            Style::Gabber => &["four-on-the-floor", "bass-drum", "distortion", "hardcore"],
        }
    }

    /// Range of tempi its artists play at, in beats per minute.
    pub fn tempo_range_bpm(self) -> (f32, f32) {
        match self {
            Style::DeepHouse => (118.0, 125.0),
            Style::HipHop => (84.0, 96.0),
            Style::Chiptune => (130.0, 168.0),
            Style::Choir => (60.0, 80.0),
            Style::FolkDuet => (88.0, 118.0),
            Style::Ballad => (60.0, 76.0),
            Style::Ambient => (60.0, 84.0),
            Style::NoiseRock => (128.0, 160.0),
            Style::Drone => (50.0, 66.0),
            Style::Dub => (66.0, 80.0),
            Style::Country => (100.0, 130.0),
            Style::SmoothJazz => (84.0, 104.0),
            Style::Chamber => (62.0, 100.0),
            Style::Gabber => (170.0, 195.0),
        }
    }

    /// The keys an artist of this style may prefer: the B-flat style is always in B-flat and
    /// the A-chord style always in A; the others draw tonics freely with these modes.
    pub fn key_choices(self) -> KeyChoices {
        match self {
            Style::Dub => KeyChoices::Fixed(&[
                Key {
                    tonic_pc: PC_B_FLAT,
                    mode: Mode::Minor,
                },
                Key {
                    tonic_pc: PC_B_FLAT,
                    mode: Mode::Dorian,
                },
            ]),
            Style::Country => KeyChoices::Fixed(&[
                Key {
                    tonic_pc: PC_A,
                    mode: Mode::Major,
                },
                Key {
                    tonic_pc: PC_A,
                    mode: Mode::Major,
                },
                Key {
                    tonic_pc: PC_A,
                    mode: Mode::Minor,
                },
            ]),
            Style::DeepHouse => KeyChoices::Modes(&[Mode::Minor, Mode::Dorian]),
            Style::HipHop | Style::NoiseRock | Style::Gabber | Style::Drone => {
                KeyChoices::Modes(&[Mode::Minor])
            }
            Style::Chiptune => KeyChoices::Modes(&[Mode::Major, Mode::Major, Mode::Minor]),
            Style::Ambient | Style::FolkDuet | Style::SmoothJazz => {
                KeyChoices::Modes(&[Mode::Major])
            }
            Style::Choir | Style::Ballad | Style::Chamber => {
                KeyChoices::Modes(&[Mode::Major, Mode::Minor])
            }
        }
    }

    /// Chord loops the style writes songs with, for a key in `mode`. One chord per bar; the
    /// arrangement may split or stretch bars.
    pub(crate) fn progressions(self, mode: Mode) -> &'static [&'static [Chord]] {
        let minor = mode.is_minor();
        match (self, minor) {
            (Style::DeepHouse, _) => {
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
            (Style::HipHop, _) => {
                const {
                    &[
                        &[ch(0, Minor7), ch(0, Minor7), ch(8, Major7), ch(8, Major7)],
                        &[ch(0, Minor), ch(5, Minor), ch(8, Major), ch(7, Major)],
                        &[ch(0, Minor7), ch(5, Minor7), ch(0, Minor7), ch(5, Minor7)],
                        &[ch(0, Minor9), ch(10, Major), ch(8, Major7), ch(7, Minor7)],
                    ]
                }
            }
            (Style::Dub, _) => {
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
            (Style::Ambient, _) => {
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

/// How an artist of a style picks its keys.
#[derive(Debug, Clone, Copy)]
pub enum KeyChoices {
    /// Only these keys (duplicates weight the draw).
    Fixed(&'static [Key]),
    /// Any tonic, in one of these modes (duplicates weight the draw).
    Modes(&'static [Mode]),
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
    fn the_seed_traits_are_all_carried_by_some_style() {
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
                Style::ALL.iter().any(|s| s.traits().contains(&t)),
                "no style carries {t}"
            );
        }
    }

    #[test]
    fn fixed_key_styles_stay_in_their_keys() {
        let KeyChoices::Fixed(dub) = Style::Dub.key_choices() else {
            panic!("dub has fixed keys");
        };
        assert!(dub.iter().all(|k| k.tonic_pc == PC_B_FLAT));
        let KeyChoices::Fixed(country) = Style::Country.key_choices() else {
            panic!("country has fixed keys");
        };
        assert!(country.iter().all(|k| k.tonic_pc == PC_A));
        // The A-chord and B-flat styles' loops spend at least half their bars on the tonic.
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
