//! The demo catalog: artists (each with a style and a timbre), their albums and tracks, with
//! intros, outros, interludes, covers and remixes among the songs.
//!
//! The catalog is generated artist by artist from the world seed, so it is prefix-stable:
//! track `i` is the same whatever the catalog's size, and `demo:<seed>:<i>` names one track.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::names;
use super::properties::{self, Properties};
use super::recipe::{Recipe, Timbre, TrackKind};
use super::rng::{derive_seed, Rng};
use super::styles::Style;
use super::theory::Key;
use crate::audio::ANALYSIS_RATE_HZ;

/// Chance that an album opens with an intro.
pub const INTRO_RATE: f64 = 0.35;
/// Chance that an album closes with an outro.
pub const OUTRO_RATE: f64 = 0.25;
/// Chance that an album has an interlude between its songs.
pub const INTERLUDE_RATE: f64 = 0.3;
/// Chance that an album has a cover of another artist's song.
pub const COVER_RATE: f64 = 0.3;
/// Chance that an album (not an artist's first) ends with a remix of one of the artist's songs.
pub const REMIX_RATE: f64 = 0.35;

/// Trait tags of intros, outros and interludes, whatever the style.
pub const SKETCH_TRAITS: &[&str] = &["pads", "reverb"];

/// Chance that a song is in its artist's main key (else in any of its keys).
const MAIN_KEY_SHARE: f64 = 0.8;

/// Shortest track, in seconds.
pub const MIN_DURATION_SECS: f64 = 60.0;

/// An artist: a style, a sound and properties that all its tracks share.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoArtist {
    pub name: String,
    pub style: Style,
    pub timbre: Timbre,
    pub properties: Properties,
    /// The tempo its songs cluster around.
    pub tempo_bpm: f32,
    /// The keys it writes in, all in one mode (most songs in the first).
    pub keys: Vec<Key>,
}

impl DemoArtist {
    /// The property tags of the artist's usual track: its properties, main key and tempo.
    pub fn property_tags(&self) -> Vec<&'static str> {
        properties::performance_tags(&self.properties, self.keys[0], self.tempo_bpm).collect()
    }
}

/// An album: a contiguous run of tracks by one artist.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoAlbum {
    pub title: String,
    pub artist: usize,
    /// Index of its first track.
    pub first_track: usize,
    pub track_count: usize,
}

/// A track of the catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DemoTrack {
    pub index: usize,
    pub artist: String,
    pub artist_index: usize,
    pub title: String,
    pub album: String,
    pub album_index: usize,
    /// Position on the album, from 1.
    pub track_number: usize,
    /// The style the track sounds like (for a remix the remix style; for a cover the original's).
    pub style: Style,
    pub kind: TrackKind,
    /// The original a cover or remix is made from.
    pub original: Option<usize>,
    pub duration_secs: f64,
    /// Style name, trait words (the style's, or [`SKETCH_TRAITS`] for sketches), property tags
    /// ([`track_tags`]) and the kind for atypical tracks.
    pub tags: Vec<String>,
    pub recipe: Recipe,
}

/// Generates the first `n_tracks` tracks of the world `seed`, with their artists and albums.
pub(crate) fn generate_catalog(
    seed: u64,
    n_tracks: usize,
) -> (Vec<DemoArtist>, Vec<DemoAlbum>, Vec<DemoTrack>) {
    let mut artists: Vec<DemoArtist> = Vec::new();
    let mut albums: Vec<DemoAlbum> = Vec::new();
    let mut tracks: Vec<DemoTrack> = Vec::new();
    let mut round: Vec<Style> = Vec::new();
    // Looked up instead of scanned: a million-track world has 50k artists and covers.
    let mut names: HashSet<String> = HashSet::new();
    let mut originals = Originals::default();
    while tracks.len() < n_tracks {
        let a = artists.len();
        originals.artist_start = originals.regular.len();
        if a.is_multiple_of(Style::ALL.len()) {
            // Styles come round in shuffled rounds, so every style has as many artists.
            round = Style::ALL.to_vec();
            Rng::derived(seed, &[0x5717, a as u64]).shuffle(&mut round);
        }
        let style = round[a % Style::ALL.len()];
        let mut rng = Rng::derived(seed, &[0xA127, a as u64]);
        let artist = new_artist(&mut rng, style, &mut names);
        artists.push(artist);
        let n_albums = 1 + rng.weighted(&[0.35, 0.4, 0.25]);
        for album_number in 0..n_albums {
            if tracks.len() >= n_tracks {
                break;
            }
            add_album(
                seed,
                &mut rng,
                a,
                album_number,
                &artists,
                (&mut albums, &mut tracks, &mut originals),
                n_tracks,
            );
        }
    }
    (artists, albums, tracks)
}

/// Regular tracks made so far, in order, and where the current artist's begin. Each artist's
/// tracks are made together, so a cover draws on the prefix (other artists' songs) and a remix
/// on the rest (the artist's own).
#[derive(Debug, Default)]
struct Originals {
    regular: Vec<usize>,
    artist_start: usize,
}

/// An artist of `style` whose name is not in `taken` (which gets it).
fn new_artist(rng: &mut Rng, style: Style, taken: &mut HashSet<String>) -> DemoArtist {
    let mut name = names::artist_name(rng, style);
    for attempt in 2.. {
        if !taken.contains(&name) {
            break;
        }
        name = if attempt < 6 {
            names::artist_name(rng, style)
        } else {
            format!("{} {}", names::artist_name(rng, style), attempt)
        };
    }
    let (lo, hi) = style.tempo_range_bpm();
    let main = properties::draw_main_key(rng, style);
    let mut keys = vec![main];
    keys.extend((0..2).map(|_| Key {
        tonic_pc: rng.below(12) as u8,
        mode: main.mode,
    }));
    taken.insert(name.clone());
    DemoArtist {
        name,
        style,
        timbre: new_timbre(rng),
        properties: Properties::draw(rng, style),
        tempo_bpm: rng.range_f32(lo, hi),
        keys,
    }
}

/// A random artist sound. Artists of a style share their instruments and, within limits,
/// their production (brightness, reverb, drive): what sets one apart is as much its songs'
/// keys, tempi, register and feel as its tone colour, as in most genres.
fn new_timbre(rng: &mut Rng) -> Timbre {
    Timbre {
        brightness: rng.range_f32(0.35, 0.75),
        softness: rng.range_f32(0.2, 0.8),
        detune_cents: rng.range_f32(3.0, 18.0),
        vibrato_rate_hz: rng.range_f32(5.0, 6.5),
        vibrato_amount: rng.range_f32(0.8, 1.25),
        reverb: rng.range_f32(0.2, 0.7),
        drive: rng.range_f32(0.2, 0.7),
        register_semitones: rng.between(-5, 5) as i8,
        swing: rng.range_f32(0.0, 1.0),
        busyness: rng.range_f32(0.0, 1.0),
        kick_tune: rng.range_f32(0.85, 1.2),
        kick_decay: rng.range_f32(0.7, 1.4),
        snare_tone: rng.range_f32(0.2, 0.9),
        hat_decay: rng.range_f32(0.6, 1.6),
        variant: rng.below(6) as u8,
        female: rng.chance(0.5),
    }
}

/// Lays out one album's kinds: optional intro, songs with perhaps an interlude and a cover,
/// perhaps a remix, optional outro.
fn album_kinds(rng: &mut Rng, songs: usize, may_remix: bool) -> Vec<TrackKind> {
    let mut kinds = vec![TrackKind::Regular; songs];
    if rng.chance(COVER_RATE) {
        let at = 1 + rng.below(songs - 1);
        kinds[at] = TrackKind::Cover;
    }
    if rng.chance(INTERLUDE_RATE) {
        let at = 2 + rng.below(songs - 3);
        kinds.insert(at, TrackKind::Interlude);
    }
    if rng.chance(INTRO_RATE) {
        kinds.insert(0, TrackKind::Intro);
    }
    if may_remix && rng.chance(REMIX_RATE) {
        kinds.push(TrackKind::Remix);
    }
    if rng.chance(OUTRO_RATE) {
        kinds.push(TrackKind::Outro);
    }
    kinds
}

#[allow(
    clippy::too_many_arguments,
    reason = "the catalog under construction, passed in parts"
)]
fn add_album(
    seed: u64,
    rng: &mut Rng,
    artist_index: usize,
    album_number: usize,
    artists: &[DemoArtist],
    (albums, tracks, originals): (&mut Vec<DemoAlbum>, &mut Vec<DemoTrack>, &mut Originals),
    n_tracks: usize,
) {
    let artist = &artists[artist_index];
    let album_index = albums.len();
    let album_title = names::album_title(rng);
    let first_track = tracks.len();
    let songs = 7 + rng.below(5);
    let kinds = album_kinds(rng, songs, album_number > 0);
    for (position, kind) in kinds.into_iter().enumerate() {
        if tracks.len() >= n_tracks {
            break;
        }
        let index = tracks.len();
        let mut track_rng = Rng::derived(seed, &[0x78AC, index as u64]);
        let made = match kind {
            TrackKind::Cover => cover(
                &mut track_rng,
                artist,
                &originals.regular[..originals.artist_start],
                tracks,
            ),
            TrackKind::Remix => remix(
                &mut track_rng,
                &originals.regular[originals.artist_start..],
                tracks,
            ),
            _ => None,
        };
        // Without an original to draw on, the slot holds a song of the artist's own.
        let (kind, recipe, song_title, original) = match made {
            Some((kind, recipe, title, original)) => (kind, recipe, title, Some(original)),
            None => {
                let kind = if kind.is_sketch() {
                    kind
                } else {
                    TrackKind::Regular
                };
                let recipe = own_recipe(&mut track_rng, artist, kind, seed, index);
                (kind, recipe, names::track_title(&mut track_rng), None)
            }
        };
        let title = match kind {
            TrackKind::Intro => "Intro".to_string(),
            TrackKind::Outro => "Outro".to_string(),
            TrackKind::Interlude => format!("Interlude ({})", names::track_title(&mut track_rng)),
            _ => song_title,
        };
        let mut tags = track_tags(&recipe);
        if kind == TrackKind::Regular {
            originals.regular.push(index);
        } else {
            tags.push(kind.name().to_string());
        }
        tracks.push(DemoTrack {
            index,
            artist: artist.name.clone(),
            artist_index,
            title,
            album: album_title.clone(),
            album_index,
            track_number: position + 1,
            style: recipe.style,
            kind,
            original,
            duration_secs: recipe.duration_secs(),
            tags,
            recipe,
        });
    }
    albums.push(DemoAlbum {
        title: album_title,
        artist: artist_index,
        first_track,
        track_count: tracks.len() - first_track,
    });
}

/// The tags a recipe's audio earns: the style's name and traits, the performer's properties,
/// the key's and the tempo's. Sketches are pads in a wash of reverb whatever the style: they
/// carry [`SKETCH_TRAITS`] and their key's tags only.
pub(crate) fn track_tags(recipe: &Recipe) -> Vec<String> {
    let mut tags = vec![recipe.style.name()];
    if recipe.kind.is_sketch() {
        tags.extend(SKETCH_TRAITS);
        tags.extend(properties::key_tags(recipe.key));
    } else {
        tags.extend(recipe.style.traits());
        tags.extend(properties::performance_tags(
            &recipe.properties,
            recipe.key,
            recipe.tempo_bpm,
        ));
    }
    tags.into_iter().map(str::to_string).collect()
}

fn length_samples(secs: f64) -> u64 {
    (secs.max(MIN_DURATION_SECS) * f64::from(ANALYSIS_RATE_HZ)).round() as u64
}

/// A track of the artist's own: a song (or a sketch) in its style, key and tempo.
fn own_recipe(
    rng: &mut Rng,
    artist: &DemoArtist,
    kind: TrackKind,
    seed: u64,
    index: usize,
) -> Recipe {
    let key = if rng.chance(MAIN_KEY_SHARE) {
        artist.keys[0]
    } else {
        *rng.pick(&artist.keys)
    };
    let secs = match kind {
        TrackKind::Intro => rng.range(60.0, 90.0),
        TrackKind::Outro => rng.range(60.0, 120.0),
        TrackKind::Interlude => rng.range(60.0, 80.0),
        _ => rng.range(140.0, 280.0),
    };
    Recipe {
        style: artist.style,
        song_style: artist.style,
        kind,
        timbre: artist.timbre,
        properties: artist.properties,
        key,
        tempo_bpm: artist.tempo_bpm * rng.range_f32(0.98, 1.02),
        song_seed: derive_seed(seed, &[0x5096, index as u64]),
        performance_seed: derive_seed(seed, &[0x9E7F, index as u64]),
        length_samples: length_samples(secs),
    }
}

/// A cover: an earlier regular song by another artist (one of `candidates`), in its style,
/// key and tempo, with this artist's sound and properties.
fn cover(
    rng: &mut Rng,
    artist: &DemoArtist,
    candidates: &[usize],
    tracks: &[DemoTrack],
) -> Option<(TrackKind, Recipe, String, usize)> {
    if candidates.is_empty() {
        return None;
    }
    let original = &tracks[*rng.pick(candidates)];
    let recipe = Recipe {
        kind: TrackKind::Cover,
        timbre: artist.timbre,
        properties: artist.properties,
        performance_seed: rng.next_u64(),
        length_samples: length_samples(original.duration_secs * rng.range(0.9, 1.1)),
        ..original.recipe
    };
    Some((
        TrackKind::Cover,
        recipe,
        original.title.clone(),
        original.index,
    ))
}

/// A remix: an earlier regular song of the same artist (one of `candidates`) redone in a club
/// or beat style by a remixer with a sound and properties of their own, in the original's
/// key or the remixer's.
fn remix(
    rng: &mut Rng,
    candidates: &[usize],
    tracks: &[DemoTrack],
) -> Option<(TrackKind, Recipe, String, usize)> {
    if candidates.is_empty() {
        return None;
    }
    let original = &tracks[*rng.pick(candidates)];
    let styles: Vec<Style> = Style::remix_styles()
        .iter()
        .copied()
        .filter(|&s| s != original.recipe.style)
        .collect();
    let style = *rng.pick(&styles);
    let (lo, hi) = style.tempo_range_bpm();
    let key = if rng.chance(0.5) {
        original.recipe.key
    } else {
        properties::draw_main_key(rng, style)
    };
    let recipe = Recipe {
        style,
        key,
        kind: TrackKind::Remix,
        timbre: new_timbre(rng),
        properties: Properties::draw(rng, style),
        tempo_bpm: rng.range_f32(lo, hi),
        performance_seed: rng.next_u64(),
        length_samples: length_samples(rng.range(180.0, 330.0)),
        ..original.recipe
    };
    let title = format!("{} ({} Remix)", original.title, display_name(style));
    Some((TrackKind::Remix, recipe, title, original.index))
}

/// "deep-house" → "Deep House".
fn display_name(style: Style) -> String {
    style
        .name()
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map_or_else(String::new, |f| f.to_uppercase().chain(c).collect())
        })
        .collect::<Vec<_>>()
        .join(" ")
}
