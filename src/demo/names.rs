//! Names for the demo world's artists, albums and tracks, drawn from word lists with patterns
//! that suit each style ("DJ …" for club music, "… String Quartet" for chamber music).

use super::rng::Rng;
use super::styles::Style;

const ADJECTIVES: &[&str] = &[
    "Amber",
    "Broken",
    "Velvet",
    "Silent",
    "Golden",
    "Hollow",
    "Electric",
    "Distant",
    "Crimson",
    "Quiet",
    "Neon",
    "Paper",
    "Wild",
    "Glass",
    "Northern",
    "Lonely",
    "Bright",
    "Midnight",
    "Faded",
    "Iron",
    "Silver",
    "Secret",
    "Gentle",
    "Burning",
    "Frozen",
    "Sunken",
    "Restless",
    "Little",
    "Endless",
    "Hidden",
    "Slow",
    "Blue",
    "Wandering",
    "Tender",
    "Dusty",
    "Static",
];

const NOUNS: &[&str] = &[
    "River",
    "Harbour",
    "Signal",
    "Garden",
    "Mirror",
    "Lantern",
    "Satellite",
    "Meadow",
    "Engine",
    "Feather",
    "Window",
    "Orchard",
    "Canyon",
    "Compass",
    "Echo",
    "Horizon",
    "Ember",
    "Tide",
    "Machine",
    "Valley",
    "Station",
    "Letter",
    "Comet",
    "Forest",
    "Island",
    "Thunder",
    "Shadow",
    "Highway",
    "Cathedral",
    "Circuit",
    "Moth",
    "Season",
    "Ocean",
    "Chapel",
    "Winter",
    "Fever",
    "Planet",
    "Sparrow",
    "Cloud",
    "Lighthouse",
];

const VERBS: &[&str] = &[
    "Dancing", "Falling", "Waiting", "Running", "Drifting", "Burning", "Calling", "Dreaming",
    "Holding", "Leaving", "Rising", "Singing", "Breaking", "Chasing", "Counting", "Turning",
];

const FIRST_NAMES: &[&str] = &[
    "Ada", "Bruno", "Clara", "Dario", "Elena", "Felix", "Greta", "Hugo", "Iris", "Jonas", "Kira",
    "Luca", "Maya", "Nico", "Olga", "Pablo", "Rosa", "Sami", "Tess", "Viktor", "Wren", "Yara",
    "Zeno", "Lena", "Otis", "June", "Marlon", "Nell", "Rufus", "Stella",
];

const SURNAMES: &[&str] = &[
    "Abernathy",
    "Bellamy",
    "Castell",
    "Dorsey",
    "Everett",
    "Fontaine",
    "Garrison",
    "Holloway",
    "Ingram",
    "Jansen",
    "Keller",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Prescott",
    "Quintero",
    "Ramsay",
    "Sorensen",
    "Thorne",
    "Underwood",
    "Varga",
    "Whitfield",
    "Yates",
];

const PLACES: &[&str] = &[
    "Ashford",
    "Bremen",
    "Coldwater",
    "Dunmore",
    "Elmstead",
    "Fairhaven",
    "Glenrock",
    "Harwich",
    "Kingsbridge",
    "Linden",
    "Marlow",
    "Northgate",
    "Oakhurst",
    "Riverton",
    "Stonebury",
];

/// A name for an artist of `style`.
pub(crate) fn artist_name(rng: &mut Rng, style: Style) -> String {
    let adj = *rng.pick(ADJECTIVES);
    let noun = *rng.pick(NOUNS);
    let first = *rng.pick(FIRST_NAMES);
    let surname = *rng.pick(SURNAMES);
    let place = *rng.pick(PLACES);
    let second = *rng.pick(FIRST_NAMES);
    let patterns: Vec<String> = match style {
        Style::DeepHouse => vec![
            format!("DJ {first}"),
            format!("{adj} {noun}"),
            format!("{first} & {second}"),
        ],
        Style::HipHop => vec![
            format!("MC {first}"),
            format!("Lil {noun}"),
            format!("{first} {surname}"),
            format!("{adj} {noun} Crew"),
        ],
        Style::Chiptune => vec![
            format!("Pixel {noun}"),
            format!("{noun}Tracker"),
            format!("8-Bit {noun}"),
            format!("{first}Chip"),
        ],
        Style::Choir => vec![
            format!("{place} Chamber Choir"),
            format!("The {place} Singers"),
            format!("Voices of {place}"),
        ],
        Style::FolkDuet => vec![
            format!("{first} & {second}"),
            format!("The {surname} Sisters"),
            format!("The {surname} Brothers"),
        ],
        Style::Ballad => vec![format!("{first} {surname}")],
        Style::Ambient => vec![
            format!("{adj} {noun}"),
            format!("{noun} Fields"),
            format!("{first} {surname}"),
        ],
        Style::NoiseRock => vec![
            format!("{adj} {noun}s"),
            format!("The {noun}s"),
            format!("{noun} {noun}"),
        ],
        Style::Drone => vec![
            format!("{adj} Monolith"),
            format!("{noun} Drone Unit"),
            format!("{adj} {noun}"),
        ],
        Style::Dub => vec![
            format!("King {first}"),
            format!("{noun} Sound System"),
            format!("{first} Dub Station"),
        ],
        Style::Country => vec![
            format!("{first} {surname}"),
            format!("The {surname} Band"),
            format!("{first} & the {noun}s"),
        ],
        Style::SmoothJazz => vec![
            format!("The {first} {surname} Quartet"),
            format!("{first} {surname}"),
        ],
        Style::Chamber => vec![
            format!("{surname} String Quartet"),
            format!("{place} Ensemble"),
            format!("{place} Strings"),
        ],
        Style::Gabber => vec![
            format!("DJ {noun}"),
            format!("{noun}core"),
            format!("The {adj} {noun}"),
        ],
    };
    rng.pick(&patterns).clone()
}

/// An album title.
pub(crate) fn album_title(rng: &mut Rng) -> String {
    let adj = *rng.pick(ADJECTIVES);
    let noun = *rng.pick(NOUNS);
    let other = *rng.pick(NOUNS);
    let verb = *rng.pick(VERBS);
    let patterns = [
        format!("{adj} {noun}"),
        format!("The {noun} and the {other}"),
        format!("{noun}s"),
        format!("{verb} {noun}s"),
        format!("{noun} of {other}s"),
    ];
    rng.pick(&patterns).clone()
}

/// A song title.
pub(crate) fn track_title(rng: &mut Rng) -> String {
    let adj = *rng.pick(ADJECTIVES);
    let noun = *rng.pick(NOUNS);
    let verb = *rng.pick(VERBS);
    let first = *rng.pick(FIRST_NAMES);
    let patterns = [
        format!("{adj} {noun}"),
        format!("{verb} in the {noun}"),
        noun.to_string(),
        format!("{first}'s {noun}"),
        verb.to_string(),
        format!("The {adj} {noun}"),
        format!("{noun} Song"),
    ];
    rng.pick(&patterns).clone()
}
