//! Resolving a log's track references to catalog tracks.
//!
//! A [`TrackRef`] is tried key by key, most specific first; the first key that finds a catalog
//! track decides:
//! 1. **id**: each of its `ids`, then its `mbid`, against catalog ids (exact, case-sensitive);
//! 2. **path**: against catalog sources, after [`normalise_path`]: equal paths match, and so
//!    do two paths of which one is a whole-component suffix of the other (`A/b.mp3` matches
//!    `/home/me/Music/A/b.mp3`); when several sources qualify, the one sharing the most
//!    components wins and a tie matches none;
//! 3. **artist + title**: [`artist_title_key`] of both sides equal.
//!
//! When two catalog tracks share a key, the first in catalog order owns it. A reference that
//! finds no catalog track becomes an *unmatched* entry, indexed by all its keys, so later
//! references to the same track (by any of those keys) are counted together; with
//! `--add-missing` these entries become new catalog tracks.

use std::collections::HashMap;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

use super::TrackRef;

/// What the project catalog tells the matcher about one track (a row of `tracks.tsv`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CatalogTrack<'a> {
    pub id: &'a str,
    /// Audio file path, or `demo:…` for a synthesized track.
    pub source: &'a str,
    pub artist: &'a str,
    pub title: &'a str,
}

/// Which key found a catalog track.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchedBy {
    Id,
    Path,
    ArtistTitle,
}

/// Where a reference landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resolution {
    /// Catalog track `track` (its row in the catalog), found by `by`.
    Catalog { track: u32, by: MatchedBy },
    /// Unmatched entry `slot` of [`Matcher::unmatched`]; `new` when this reference created it.
    Unmatched { slot: u32, new: bool },
}

/// The catalog's keys, plus the unmatched entries met so far. Entries are numbered catalog
/// rows first, then unmatched slots (`catalog_len + slot`), so one index serves both.
#[derive(Debug, Default)]
pub struct Matcher {
    catalog_len: u32,
    ids: HashMap<Box<str>, u32>,
    paths: HashMap<Box<str>, u32>,
    /// File name → (entry, normalised path) of every entry with that file name.
    file_names: HashMap<Box<str>, Vec<(u32, Box<str>)>>,
    artist_titles: HashMap<Box<str>, u32>,
    unmatched: Vec<TrackRef>,
}

impl Matcher {
    /// Indexes `catalog`, whose tracks are numbered 0, 1, … in iteration order. Empty fields
    /// give no key. Catalogs of more than `u32::MAX` tracks are cut at that many.
    pub fn new<'a>(catalog: impl IntoIterator<Item = CatalogTrack<'a>>) -> Self {
        let mut matcher = Matcher::default();
        for (entry, track) in (0..u32::MAX).zip(catalog) {
            if !track.id.is_empty() {
                matcher.insert_id(track.id, entry);
            }
            if !track.source.is_empty() {
                matcher.insert_path(track.source, entry);
            }
            matcher.insert_artist_title(Some(track.artist), Some(track.title), entry);
            matcher.catalog_len = entry + 1;
        }
        matcher
    }

    /// Catalog tracks indexed.
    pub fn catalog_len(&self) -> u32 {
        self.catalog_len
    }

    /// Unmatched entries so far, in the order they were met.
    pub fn unmatched(&self) -> &[TrackRef] {
        &self.unmatched
    }

    /// The unmatched entries, consuming the matcher.
    pub fn into_unmatched(self) -> Vec<TrackRef> {
        self.unmatched
    }

    /// Finds the catalog track `track` refers to, by the rules in the module docs. `mapped`
    /// is what a [`super::TrackMap`] knows of the same track: its ids are tried after the
    /// reference's own, and its path, artist and title fill the reference's empty fields. A
    /// reference that finds no catalog track lands on the unmatched entry sharing one of its
    /// keys, or creates one. `None` only when the unmatched entries reach `u32::MAX`.
    pub fn resolve(&mut self, track: &TrackRef, mapped: Option<&TrackRef>) -> Option<Resolution> {
        let catalog_len = self.catalog_len;
        let mut unmatched_hit = None;
        let mut consider = |entry: u32, by: MatchedBy| {
            if entry < catalog_len {
                return Some(Resolution::Catalog { track: entry, by });
            }
            unmatched_hit.get_or_insert(entry - catalog_len);
            None
        };
        let ids = [Some(track), mapped]
            .into_iter()
            .flatten()
            .flat_map(|source| source.ids.iter().chain(&source.mbid));
        for id in ids {
            if let Some(&entry) = self.ids.get(id.as_str()) {
                if let Some(found) = consider(entry, MatchedBy::Id) {
                    return Some(found);
                }
            }
        }
        let path = track.path.as_ref().or(mapped.and_then(|m| m.path.as_ref()));
        if let Some(entry) = path.and_then(|path| self.find_path(path)) {
            if let Some(found) = consider(entry, MatchedBy::Path) {
                return Some(found);
            }
        }
        let artist = track
            .artist
            .as_ref()
            .or(mapped.and_then(|m| m.artist.as_ref()));
        let title = track
            .title
            .as_ref()
            .or(mapped.and_then(|m| m.title.as_ref()));
        let key = artist_title_key(
            artist.map_or("", String::as_str),
            title.map_or("", String::as_str),
        );
        if let Some(&entry) = key.and_then(|key| self.artist_titles.get(key.as_str())) {
            if let Some(found) = consider(entry, MatchedBy::ArtistTitle) {
                return Some(found);
            }
        }
        if let Some(slot) = unmatched_hit {
            return Some(Resolution::Unmatched { slot, new: false });
        }
        let slot = u32::try_from(self.unmatched.len()).ok()?;
        let entry = catalog_len.checked_add(slot)?;
        let mut merged = track.clone();
        if let Some(mapped) = mapped {
            for id in &mapped.ids {
                if !merged.ids.contains(id) {
                    merged.ids.push(id.clone());
                }
            }
            merged.mbid = merged.mbid.or_else(|| mapped.mbid.clone());
            merged.path = merged.path.or_else(|| mapped.path.clone());
            merged.artist = merged.artist.or_else(|| mapped.artist.clone());
            merged.title = merged.title.or_else(|| mapped.title.clone());
        }
        for id in merged.ids.iter().chain(&merged.mbid) {
            self.insert_id(id, entry);
        }
        if let Some(path) = &merged.path {
            self.insert_path(path, entry);
        }
        self.insert_artist_title(merged.artist.as_deref(), merged.title.as_deref(), entry);
        self.unmatched.push(merged);
        Some(Resolution::Unmatched { slot, new: true })
    }

    fn insert_id(&mut self, id: &str, entry: u32) {
        self.ids.entry(id.into()).or_insert(entry);
    }

    fn insert_path(&mut self, path: &str, entry: u32) {
        let path = normalise_path(path);
        if path.is_empty() || self.paths.contains_key(path.as_str()) {
            return;
        }
        self.file_names
            .entry(file_name(&path).into())
            .or_default()
            .push((entry, path.as_str().into()));
        self.paths.insert(path.into(), entry);
    }

    fn insert_artist_title(&mut self, artist: Option<&str>, title: Option<&str>, entry: u32) {
        if let Some(key) = artist_title_key(artist.unwrap_or(""), title.unwrap_or("")) {
            self.artist_titles.entry(key.into()).or_insert(entry);
        }
    }

    /// The entry whose path matches `path` by the path rule of the module docs.
    fn find_path(&self, path: &str) -> Option<u32> {
        let path = normalise_path(path);
        if let Some(&entry) = self.paths.get(path.as_str()) {
            return Some(entry);
        }
        let candidates = self.file_names.get(file_name(&path))?;
        // Rank: catalog entries before unmatched ones, then more shared components.
        let mut best: Option<((bool, usize), u32)> = None;
        let mut tied = false;
        for (entry, candidate) in candidates {
            let Some(shared) = suffix_components(candidate, &path) else {
                continue;
            };
            let rank = (*entry < self.catalog_len, shared);
            match best {
                Some((best_rank, _)) if rank < best_rank => {}
                Some((best_rank, _)) if rank == best_rank => tied = true,
                _ => {
                    best = Some((rank, *entry));
                    tied = false;
                }
            }
        }
        best.filter(|_| !tied).map(|(_, entry)| entry)
    }
}

/// Components shared by two normalised paths when one is a whole-component suffix of the other
/// (an absolute path is a suffix only of itself).
fn suffix_components(a: &str, b: &str) -> Option<usize> {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    let is_suffix = short == long
        || (!short.starts_with('/')
            && long.ends_with(short)
            && long.as_bytes()[long.len() - short.len() - 1] == b'/');
    is_suffix.then(|| short.split('/').filter(|part| !part.is_empty()).count())
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The form in which paths are compared: `file://` dropped, `\` read as `/`, empty and `.`
/// components removed (a leading `/` kept). Case is kept: file systems differ on it.
pub fn normalise_path(path: &str) -> String {
    let path = path.trim();
    let path = path.strip_prefix("file://").unwrap_or(path);
    let path = path.replace('\\', "/");
    let mut normalised = String::with_capacity(path.len());
    if path.starts_with('/') {
        normalised.push('/');
    }
    for component in path.split('/').filter(|c| !c.is_empty() && *c != ".") {
        if !normalised.is_empty() && !normalised.ends_with('/') {
            normalised.push('/');
        }
        normalised.push_str(component);
    }
    normalised
}

/// The form in which artist names and titles are compared: Unicode compatibility-decomposed
/// (NFKD) with accents and other combining marks dropped, lower-cased, `&` read as "and",
/// apostrophes dropped (`don't` = `dont`), every other run of non-alphanumeric characters read
/// as one space, trimmed. Text that would come out empty (a title like `!!!`) is kept
/// lower-cased and trimmed instead.
pub fn normalise_text(text: &str) -> String {
    /// Appends a character of a word, after one space when a gap precedes it.
    fn push_word_char(normalised: &mut String, c: char, gap: &mut bool) {
        if *gap && !normalised.is_empty() {
            normalised.push(' ');
        }
        *gap = false;
        normalised.extend(c.to_lowercase());
    }
    let mut normalised = String::with_capacity(text.len());
    let mut gap = false;
    let mut fold = |c: char| match c {
        '&' => {
            gap = true;
            for letter in "and".chars() {
                push_word_char(&mut normalised, letter, &mut gap);
            }
            gap = true;
        }
        '\'' | '\u{2019}' | '`' | '\u{b4}' | '\u{2bc}' => {}
        c if c.is_alphanumeric() => push_word_char(&mut normalised, c, &mut gap),
        _ => gap = true,
    };
    if text.is_ascii() {
        text.chars().for_each(&mut fold);
    } else {
        text.nfkd()
            .filter(|c| !is_combining_mark(*c))
            .for_each(&mut fold);
    }
    if normalised.is_empty() {
        return text.trim().to_lowercase();
    }
    normalised
}

/// The artist + title key: both [`normalise_text`]ed, a leading "the " dropped from the artist,
/// joined by U+001F. `None` when the title is empty (an artist alone names no track); an
/// empty artist is allowed and matches only other empty artists.
pub fn artist_title_key(artist: &str, title: &str) -> Option<String> {
    let title = normalise_text(title);
    if title.is_empty() {
        return None;
    }
    let artist = normalise_text(artist);
    let artist = artist.strip_prefix("the ").unwrap_or(&artist);
    Some(format!("{artist}\u{1f}{title}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_normalisation() {
        let cases = [
            ("  Beyoncé ", "beyonce"),
            ("Simon & Garfunkel", "simon and garfunkel"),
            ("Simon&Garfunkel", "simon and garfunkel"),
            ("Don't Stop Me Now", "dont stop me now"),
            ("Don’t  Stop—Me…Now!", "dont stop me now"),
            ("ＡＢＣ", "abc"),
            ("Sigur Rós", "sigur ros"),
            ("!!!", "!!!"),
            ("Motörhead", "motorhead"),
            ("Björk\tGuðmundsdóttir", "bjork guðmundsdottir"),
        ];
        for (text, expected) in cases {
            assert_eq!(normalise_text(text), expected, "{text}");
        }
    }

    #[test]
    fn artist_title_keys() {
        assert_eq!(
            artist_title_key("The Beatles", "Let It Be"),
            artist_title_key("beatles", "let it be!")
        );
        assert_ne!(
            artist_title_key("The The", "Uncertain Smile"),
            artist_title_key("", "Uncertain Smile")
        );
        assert_eq!(artist_title_key("Artist", "  "), None);
        assert_eq!(artist_title_key("", "Intro"), Some("\u{1f}intro".into()));
    }

    #[test]
    fn path_normalisation() {
        let cases = [
            ("/home//me/./a.mp3", "/home/me/a.mp3"),
            ("C:\\Music\\A\\b.flac", "C:/Music/A/b.flac"),
            ("file:///m/a.ogg", "/m/a.ogg"),
            ("./A/b.mp3", "A/b.mp3"),
            ("A/../b.mp3", "A/../b.mp3"),
        ];
        for (path, expected) in cases {
            assert_eq!(normalise_path(path), expected, "{path}");
        }
    }

    #[test]
    fn component_suffixes() {
        assert_eq!(suffix_components("A/b.mp3", "/home/me/A/b.mp3"), Some(2));
        assert_eq!(suffix_components("/home/me/A/b.mp3", "A/b.mp3"), Some(2));
        assert_eq!(suffix_components("b.mp3", "b.mp3"), Some(1));
        assert_eq!(suffix_components("XA/b.mp3", "/m/A/b.mp3"), None);
        assert_eq!(suffix_components("/x/A/b.mp3", "/y/A/b.mp3"), None);
        assert_eq!(suffix_components("/A/b.mp3", "/m/A/b.mp3"), None);
    }

    fn catalog() -> Vec<CatalogTrack<'static>> {
        vec![
            CatalogTrack {
                id: "t0",
                source: "/music/A/one.mp3",
                artist: "A",
                title: "One",
            },
            CatalogTrack {
                id: "t1",
                source: "/music/B/one.mp3",
                artist: "B",
                title: "One",
            },
            CatalogTrack {
                id: "t2",
                source: "/other/B/one.mp3",
                artist: "A",
                title: "One",
            },
        ]
    }

    fn path_ref(path: &str) -> TrackRef {
        TrackRef {
            path: Some(path.into()),
            ..TrackRef::default()
        }
    }

    #[test]
    fn paths_resolve_by_unique_longest_suffix() {
        let mut matcher = Matcher::new(catalog());
        let catalog_hit = |track| {
            Some(Resolution::Catalog {
                track,
                by: MatchedBy::Path,
            })
        };
        assert_eq!(
            matcher.resolve(&path_ref("A/one.mp3"), None),
            catalog_hit(0)
        );
        assert_eq!(
            matcher.resolve(&path_ref("/music/B/one.mp3"), None),
            catalog_hit(1)
        );
        assert_eq!(
            matcher.resolve(&path_ref("music/B/one.mp3"), None),
            catalog_hit(1)
        );
        // "B/one.mp3" is a suffix of two catalog paths sharing 2 components each: a tie.
        assert_eq!(
            matcher.resolve(&path_ref("B/one.mp3"), None),
            Some(Resolution::Unmatched { slot: 0, new: true })
        );
    }

    #[test]
    fn first_catalog_track_owns_a_shared_artist_title() {
        let mut matcher = Matcher::new(catalog());
        let by_name = TrackRef {
            artist: Some("a".into()),
            title: Some("ONE".into()),
            ..TrackRef::default()
        };
        assert_eq!(
            matcher.resolve(&by_name, None),
            Some(Resolution::Catalog {
                track: 0,
                by: MatchedBy::ArtistTitle
            })
        );
    }

    #[test]
    fn a_catalog_key_beats_an_unmatched_entry_found_first() {
        let mut matcher = Matcher::new(catalog());
        let first = TrackRef {
            ids: vec!["x".into()],
            ..TrackRef::default()
        };
        assert_eq!(
            matcher.resolve(&first, None),
            Some(Resolution::Unmatched { slot: 0, new: true })
        );
        let second = TrackRef {
            ids: vec!["x".into()],
            artist: Some("B".into()),
            title: Some("One".into()),
            ..TrackRef::default()
        };
        assert_eq!(
            matcher.resolve(&second, None),
            Some(Resolution::Catalog {
                track: 1,
                by: MatchedBy::ArtistTitle
            })
        );
        assert_eq!(
            matcher.resolve(&first, None),
            Some(Resolution::Unmatched {
                slot: 0,
                new: false
            })
        );
    }
}
