//! Simulated listening: listeners with tastes over styles, favourite artists and properties
//! (someone who plays slow minor-key songs in any style), a Zipf-like popularity of artists,
//! and sessions that play whole albums, a few favourite songs or a radio of the liked
//! properties. The play counts this produces are what collaborative filtering learns from,
//! so its structure follows styles, artists, albums and properties, as on a real service.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::catalog::{DemoAlbum, DemoArtist, DemoTrack};
use super::recipe::TrackKind;
use super::rng::{mix64, Rng};
use super::styles::Style;

/// Share of a listener's sessions spent outside their favourite styles.
const EXPLORATION: f64 = 0.12;
/// Chance that a style session plays a whole album rather than a few songs. Whole albums tie
/// an album's tracks together in the listening whatever they sound like; at 0.45 the
/// convnet closed 2–3 points less of the cold-start gap on two seeds (35% and 51%, against 38%
/// and 53%).
const ALBUM_SESSION: f64 = 0.15;
/// Chance that a track of an album session is actually played (skips).
const ALBUM_PLAY_THROUGH: f64 = 0.92;
/// Zipf exponent of artist popularity.
const ZIPF_EXPONENT: f64 = 0.6;
/// Width of a listener's fixed liking of each artist around 1 (0.8 … 1.2).
const LIKING_SPREAD: f64 = 0.4;
/// How much more a listener plays their favourite artists.
const FAVOURITE_BOOST: f64 = 8.0;
/// Share of listeners who like one or two properties whatever the style.
const PROPERTY_LISTENERS: f64 = 0.9;
/// Range of the share of such a listener's sessions chosen by property.
const PROPERTY_SESSIONS: (f64, f64) = (0.6, 1.0);
/// How much a song's appeal counts in a property session: `appeal^0.3`, so a radio by mood
/// plays the deep cuts that carry the mood too, not mostly the singles. With the full appeal
/// (exponent 1) which songs a fan plays is mostly popularity, which no audio model can hear
/// (with it, and 12 sessions a listener, the convnet closed ~30% of the baseline → upper-bound
/// gap on the default world; with this and [`MEDIAN_SESSIONS`], 45–55% on untuned seeds).
const RADIO_APPEAL_EXPONENT: f64 = 0.3;
/// Median sessions per listener (log-normal spread, 2 … 300): a listening history of months,
/// dense enough that a listener's plays show their taste rather than chance. With a median
/// of 12 the factors of a track with a handful of plays are mostly noise.
const MEDIAN_SESSIONS: f64 = 100.0;
/// Most sessions a listener has.
const MAX_SESSIONS: usize = 300;
/// The properties listeners seek out across styles: the music's key, mode and tempo (a
/// production's sound, its singing, distortion or reverb, goes with styles and artists, which
/// listeners choose already).
const LIKED_PROPERTIES: [&str; 5] = ["minor-key", "b-flat", "a-chord", "slow", "fast"];
/// Fewest songs a liked combination of properties must have; fewer, and only the first
/// property counts.
const MIN_PROPERTY_SONGS: usize = 20;
/// Songs a property session plays: this many at least, up to twice as many.
const PROPERTY_SESSION_SONGS: usize = 3;

/// What a listener likes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ListenerTaste {
    /// Share of sessions per style, in the order of [`Style::ALL`]; sums to 1.
    pub style_weights: Vec<f64>,
    /// Artists (indices) this listener favours.
    pub favourite_artists: Vec<usize>,
    /// Property tags this listener seeks out together (empty for most), e.g. "slow" and
    /// "minor-key".
    #[serde(default)]
    pub liked_properties: Vec<String>,
    /// Share of sessions that play songs with the liked properties, whatever the style or
    /// artist (a radio of slow minor-key songs).
    #[serde(default)]
    pub property_share: f64,
}

impl ListenerTaste {
    /// The style this listener plays most.
    pub fn top_style(&self) -> Style {
        let best = self
            .style_weights
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map_or(0, |(i, _)| i);
        Style::ALL[best]
    }
}

/// The simulated listening: per-listener tastes and (listener, track, count) triples sorted by
/// listener then track.
pub(crate) struct Listening {
    pub tastes: Vec<ListenerTaste>,
    pub plays: Vec<(u32, u32, u32)>,
}

/// How much listeners play a track of an artist on its own (outside album sessions).
fn track_appeal(rng: &mut Rng, track: &DemoTrack) -> f64 {
    match track.kind {
        TrackKind::Intro | TrackKind::Outro | TrackKind::Interlude => 0.05,
        TrackKind::Cover => 0.6 * (0.6 * rng.normal()).exp(),
        TrackKind::Remix => 0.4 * (0.6 * rng.normal()).exp(),
        TrackKind::Regular => {
            let single = if track.track_number <= 3 { 1.8 } else { 1.0 };
            single * (0.8 * rng.normal()).exp()
        }
    }
}

/// Simulates `n_users` listeners of the catalog.
pub(crate) fn simulate(
    seed: u64,
    artists: &[DemoArtist],
    albums: &[DemoAlbum],
    tracks: &[DemoTrack],
    n_users: usize,
) -> Listening {
    let mut rng = Rng::derived(seed, &[0x115E]);
    let n_styles = Style::ALL.len();
    // Popularity: artists Zipf over a random ranking; styles mildly unequal.
    let mut ranking: Vec<usize> = (0..artists.len()).collect();
    rng.shuffle(&mut ranking);
    let mut artist_pop = vec![0.0; artists.len()];
    for (rank, &a) in ranking.iter().enumerate() {
        artist_pop[a] = 1.0 / (rank as f64 + 1.0).powf(ZIPF_EXPONENT);
    }
    let mut style_order: Vec<usize> = (0..n_styles).collect();
    rng.shuffle(&mut style_order);
    let mut style_pop = vec![0.0; n_styles];
    for (rank, &s) in style_order.iter().enumerate() {
        style_pop[s] = 1.0 / (rank as f64 + 1.0).sqrt();
    }
    let by_style: Vec<Vec<usize>> = (0..n_styles)
        .map(|s| {
            (0..artists.len())
                .filter(|&a| artists[a].style.index() == s)
                .collect()
        })
        .collect();
    // One pass over the albums (a scan per artist is quadratic in a million-track world).
    let mut albums_of: Vec<Vec<usize>> = vec![Vec::new(); artists.len()];
    for (b, album) in albums.iter().enumerate() {
        albums_of[album.artist].push(b);
    }
    let album_appeal: Vec<f64> = albums.iter().map(|_| (0.5 * rng.normal()).exp()).collect();
    let appeal: Vec<f64> = tracks.iter().map(|t| track_appeal(&mut rng, t)).collect();
    let tracks_of: Vec<Vec<usize>> = (0..artists.len())
        .map(|a| {
            albums_of[a]
                .iter()
                .flat_map(|&b| albums[b].first_track..albums[b].first_track + albums[b].track_count)
                .collect()
        })
        .collect();
    // Styles that have artists (a tiny catalog may lack some).
    let present: Vec<f64> = (0..n_styles)
        .map(|s| {
            if by_style[s].is_empty() {
                0.0
            } else {
                style_pop[s]
            }
        })
        .collect();

    // The liked properties some artist carries, as draw weights (1 or 0): the same for every
    // listener, so found once.
    let artist_tags: Vec<Vec<&str>> = artists.iter().map(DemoArtist::property_tags).collect();
    let likeable: Vec<f64> = LIKED_PROPERTIES
        .iter()
        .map(|tag| f64::from(u8::from(artist_tags.iter().any(|t| t.contains(tag)))))
        .collect();
    // A song's chance in a property session: its flattened appeal. Its artist's popularity
    // does not count: a listener after slow minor-key songs finds them by what they are, as a
    // radio or a search by mood does.
    let mut songs = SongsWith::new(
        tracks,
        appeal
            .iter()
            .map(|a| a.powf(RADIO_APPEAL_EXPONENT))
            .collect(),
    );
    let mut tastes = Vec::with_capacity(n_users);
    let mut plays = Vec::new();
    for user in 0..n_users {
        let mut rng = Rng::derived(seed, &[0x05E2, user as u64]);
        let taste = new_taste(&mut rng, &present, &by_style, &artist_pop, &likeable);
        let mut counts: HashMap<usize, u32> = HashMap::new();
        let sessions = ((MEDIAN_SESSIONS.ln() + 0.8 * rng.normal()).exp().round() as usize)
            .clamp(2, MAX_SESSIONS);
        let liked = songs.with(&taste.liked_properties);
        for _ in 0..sessions {
            if let Some(liked) = liked.filter(|_| rng.chance(taste.property_share)) {
                for _ in 0..PROPERTY_SESSION_SONGS + rng.below(PROPERTY_SESSION_SONGS + 1) {
                    *counts.entry(liked.draw(&mut rng)).or_default() += 1;
                }
                continue;
            }
            let candidates = &by_style[rng.weighted(&taste.style_weights)];
            if candidates.is_empty() {
                continue;
            }
            let weights: Vec<f64> = candidates
                .iter()
                .map(|&a| {
                    let favourite = taste.favourite_artists.contains(&a);
                    // A fixed per-listener liking of each artist, from a hash (no extra draws).
                    let unit = (mix64(seed ^ mix64(user as u64) ^ a as u64) >> 11) as f64
                        / (1u64 << 53) as f64;
                    let liking = 1.0 + LIKING_SPREAD * (unit - 0.5);
                    artist_pop[a] * liking * if favourite { FAVOURITE_BOOST } else { 1.0 }
                })
                .collect();
            let artist = candidates[rng.weighted(&weights)];
            if albums_of[artist].is_empty() {
                continue;
            }
            if rng.chance(ALBUM_SESSION) {
                let own: Vec<f64> = albums_of[artist].iter().map(|&b| album_appeal[b]).collect();
                let album = &albums[albums_of[artist][rng.weighted(&own)]];
                for t in album.first_track..album.first_track + album.track_count {
                    if rng.chance(ALBUM_PLAY_THROUGH) {
                        *counts.entry(t).or_default() += 1;
                    }
                }
            } else {
                let own = &tracks_of[artist];
                let weights: Vec<f64> = own.iter().map(|&t| appeal[t]).collect();
                for _ in 0..1 + rng.below(4) {
                    *counts.entry(own[rng.weighted(&weights)]).or_default() += 1;
                }
            }
        }
        let mut user_plays: Vec<(u32, u32, u32)> = counts
            .into_iter()
            .map(|(t, c)| (user as u32, t as u32, c))
            .collect();
        user_plays.sort_unstable();
        plays.extend(user_plays);
        tastes.push(taste);
    }
    Listening { tastes, plays }
}

/// The songs carrying each liked combination of property tags, found once per combination
/// (a million-track world has a few dozen combinations and thousands of listeners).
struct SongsWith<'a> {
    tracks: &'a [DemoTrack],
    /// A song's weight in a property session, per track.
    weight: Vec<f64>,
    cache: HashMap<Vec<String>, Option<Songs>>,
}

/// Songs to draw from, with the running sum of their weights.
struct Songs {
    ids: Vec<usize>,
    cumulative: Vec<f64>,
}

impl Songs {
    /// One song, with chance proportional to its weight.
    fn draw(&self, rng: &mut Rng) -> usize {
        let x = rng.unit() * self.cumulative.last().copied().unwrap_or(0.0);
        let at = self
            .cumulative
            .partition_point(|&c| c <= x)
            .min(self.ids.len() - 1);
        self.ids[at]
    }
}

impl<'a> SongsWith<'a> {
    /// Songs of `tracks`, each drawn with chance proportional to its `weight` ([tracks]).
    fn new(tracks: &'a [DemoTrack], weight: Vec<f64>) -> Self {
        Self {
            tracks,
            weight,
            cache: HashMap::new(),
        }
    }

    /// The songs (not intros, outros or interludes) carrying every tag of `liked` (only its
    /// first when fewer than [`MIN_PROPERTY_SONGS`] carry them all); `None` when `liked` is
    /// empty or no song carries it.
    fn with(&mut self, liked: &[String]) -> Option<&Songs> {
        let tracks = self.tracks;
        let carrying = |tags: &[String]| -> Vec<usize> {
            (0..tracks.len())
                .filter(|&t| {
                    !tracks[t].kind.is_sketch()
                        && tags.iter().all(|tag| tracks[t].tags.contains(tag))
                })
                .collect()
        };
        self.cache
            .entry(liked.to_vec())
            .or_insert_with(|| {
                let first = liked.first()?;
                let mut ids = carrying(liked);
                if ids.len() < MIN_PROPERTY_SONGS {
                    ids = carrying(std::slice::from_ref(first));
                }
                let cumulative: Vec<f64> = ids
                    .iter()
                    .scan(0.0, |sum, &t| {
                        *sum += self.weight[t];
                        Some(*sum)
                    })
                    .collect();
                (!ids.is_empty()).then_some(Songs { ids, cumulative })
            })
            .as_ref()
    }
}

fn new_taste(
    rng: &mut Rng,
    style_pop: &[f64],
    by_style: &[Vec<usize>],
    artist_pop: &[f64],
    likeable: &[f64],
) -> ListenerTaste {
    let n_loved = 1 + rng.weighted(&[0.6, 0.3, 0.1]);
    let loved = rng.weighted_distinct(style_pop, n_loved);
    let present = style_pop.iter().filter(|&&p| p > 0.0).count().max(1) as f64;
    let mut weights: Vec<f64> = style_pop
        .iter()
        .map(|&p| if p > 0.0 { EXPLORATION / present } else { 0.0 })
        .collect();
    let shares: Vec<f64> = loved.iter().map(|_| rng.range(0.5, 1.0)).collect();
    let total: f64 = shares.iter().sum();
    for (&s, share) in loved.iter().zip(&shares) {
        weights[s] += (1.0 - EXPLORATION) * share / total;
    }
    let mut favourite_artists = Vec::new();
    for &s in &loved {
        let candidates = &by_style[s];
        let pops: Vec<f64> = candidates.iter().map(|&a| artist_pop[a]).collect();
        for _ in 0..2 + rng.below(3) {
            let a = candidates[rng.weighted(&pops)];
            if !favourite_artists.contains(&a) {
                favourite_artists.push(a);
            }
        }
    }
    // Every such property that some artists carry is as likely to be liked.
    let mut liked_properties: Vec<String> = Vec::new();
    let mut property_share = 0.0;
    if rng.chance(PROPERTY_LISTENERS) {
        let n_liked = 1 + usize::from(rng.chance(0.4));
        liked_properties = rng
            .weighted_distinct(likeable, n_liked)
            .into_iter()
            .map(|p| LIKED_PROPERTIES[p].to_string())
            .collect();
        property_share = rng.range(PROPERTY_SESSIONS.0, PROPERTY_SESSIONS.1);
    }
    ListenerTaste {
        style_weights: weights,
        favourite_artists,
        liked_properties,
        property_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn songs_are_drawn_in_proportion_to_their_weights() {
        let songs = Songs {
            ids: vec![10, 20, 30],
            cumulative: vec![1.0, 3.0, 6.0],
        };
        let mut rng = Rng::new(7);
        let n = 60_000;
        let mut counts: HashMap<usize, usize> = HashMap::new();
        for _ in 0..n {
            *counts.entry(songs.draw(&mut rng)).or_default() += 1;
        }
        for (id, weight) in [(10, 1.0), (20, 2.0), (30, 3.0)] {
            let share = counts[&id] as f64 / n as f64;
            assert!((share - weight / 6.0).abs() < 0.01, "{id}: {share}");
        }
    }
}
