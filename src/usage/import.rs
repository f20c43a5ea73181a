//! Aggregating listens into per-(user, track) play counts: users numbered as first met,
//! references resolved through a [`Matcher`], plays of the same pair summed. Memory grows with
//! the distinct pairs, users and unmatched tracks, never with the number of lines.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::atomic::{AtomicBool, Ordering};

use super::matching::{CatalogTrack, MatchedBy, Matcher, Resolution};
use super::{LineErrors, Listen, ListenReader, ReadError, TrackMap, TrackRef, UsageError};

/// Records, or bytes, between two looks at the cancel flag and two progress reports
/// (bytes too, so a file of long garbage lines still answers a cancel quickly).
const CHECK_EVERY_RECORDS: u64 = 1 << 14;
const CHECK_EVERY_BYTES: u64 = 1 << 24;

/// Choices for an import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportOptions {
    /// Make tracks the catalog lacks into new catalog entries (without audio), so their plays
    /// count; otherwise their plays are only tallied in the report.
    pub add_missing: bool,
    /// How many unmatched tracks the report lists, most played first.
    pub top_unmatched: usize,
    /// How many malformed lines the report quotes.
    pub max_error_examples: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            add_missing: false,
            top_unmatched: 20,
            max_error_examples: 20,
        }
    }
}

/// How far the reading of one file has got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportProgress {
    pub bytes_read: u64,
    /// The file's size, when known.
    pub total_bytes: Option<u64>,
    pub records_read: u64,
}

/// One (user, track) play count. `track` is a catalog row, or `catalog_len + i` for entry `i`
/// of [`Import::added`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlayCount {
    pub user: u32,
    pub track: u32,
    /// Plays summed over the log, saturating at `u32::MAX`.
    pub count: u32,
}

/// Listens that found a catalog track, by the key that found it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MatchCounts {
    pub by_id: u64,
    pub by_path: u64,
    pub by_artist_title: u64,
}

impl MatchCounts {
    pub fn total(&self) -> u64 {
        self.by_id + self.by_path + self.by_artist_title
    }
}

/// A track the catalog lacks, with the listens and plays that named it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnmatchedTrack {
    pub track: TrackRef,
    pub listens: u64,
    pub plays: u64,
}

/// What an import read and what became of it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ImportStats {
    /// Lines read (for a JSON array, elements), whatever became of them.
    pub lines_read: u64,
    /// Lines that were blank, comments or a header.
    pub skipped_lines: u64,
    /// Well-formed listens (a Taste Profile triplet is one listen of `count` plays).
    pub listens: u64,
    /// Plays in those listens.
    pub plays: u64,
    pub malformed: LineErrors,
    /// Listens that found a catalog track, and their plays.
    pub matched: MatchCounts,
    pub matched_plays: u64,
    /// Listens whose track the catalog lacks, and their plays (added to the catalog with
    /// `add_missing`, else left out of the play counts).
    pub unmatched_listens: u64,
    pub unmatched_plays: u64,
    /// Distinct tracks the catalog lacks.
    pub unmatched_tracks: usize,
    /// The most played of them, most plays first (ties: first met first).
    pub top_unmatched: Vec<UnmatchedTrack>,
    /// New catalog entries made (`add_missing`): all unmatched tracks, or none.
    pub added_tracks: usize,
}

/// The outcome of an import: the play-count matrix in triplet form and what to add to the catalog.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Import {
    /// User names; `PlayCount::user` indexes this. Only users with a counted play appear.
    pub users: Vec<String>,
    /// Sorted by (user, track), one per pair.
    pub plays: Vec<PlayCount>,
    /// New catalog entries without audio (`add_missing`), numbered after the catalog.
    pub added: Vec<TrackRef>,
    pub stats: ImportStats,
}

/// Reads any number of logs into one play-count matrix.
///
/// ```no_run
/// # use std::sync::atomic::AtomicBool;
/// # use deepcuts::usage::*;
/// # fn main() -> Result<(), UsageError> {
/// let catalog = [CatalogTrack { id: "t0", source: "a.mp3", artist: "A", title: "T" }];
/// let mut importer = Importer::new(catalog, None, ImportOptions::default());
/// let mut listens = ListenReader::open("log.tsv".as_ref(), LogFormat::LastFm1k, None)?;
/// importer.read(&mut listens, &mut |_progress| {}, &AtomicBool::new(false))?;
/// let import = importer.finish();
/// # Ok(()) }
/// ```
pub struct Importer<'m> {
    matcher: Matcher,
    map: Option<&'m TrackMap>,
    options: ImportOptions,
    users: HashMap<Box<str>, u32>,
    last_user: Option<(String, u32)>,
    counts: PlayCounts,
    /// (listens, plays) per unmatched slot.
    unmatched_counts: Vec<(u64, u64)>,
    stats: ImportStats,
}

impl<'m> Importer<'m> {
    /// An importer matching against `catalog` (rows numbered from 0 in iteration order), with
    /// `map` to enrich bare ids.
    pub fn new<'a>(
        catalog: impl IntoIterator<Item = CatalogTrack<'a>>,
        map: Option<&'m TrackMap>,
        options: ImportOptions,
    ) -> Self {
        Importer {
            matcher: Matcher::new(catalog),
            map,
            options,
            users: HashMap::new(),
            last_user: None,
            counts: PlayCounts::default(),
            unmatched_counts: Vec::new(),
            stats: ImportStats::default(),
        }
    }

    /// Reads every listen of `listens`. Malformed lines are counted and quoted in the stats;
    /// an I/O error or `cancel` stops the read with an error, keeping what was read before.
    /// `progress` hears every few thousand lines and at the end.
    pub fn read<R: BufRead>(
        &mut self,
        listens: &mut ListenReader<R>,
        progress: &mut dyn FnMut(ImportProgress),
        cancel: &AtomicBool,
    ) -> Result<(), UsageError> {
        let lines_before = (listens.records_read(), listens.skipped_records());
        let report = |listens: &ListenReader<R>, progress: &mut dyn FnMut(ImportProgress)| {
            progress(ImportProgress {
                bytes_read: listens.bytes_read(),
                total_bytes: listens.total_bytes(),
                records_read: listens.records_read(),
            })
        };
        let next_check = |listens: &ListenReader<R>| {
            (
                listens.records_read() + CHECK_EVERY_RECORDS,
                listens.bytes_read() + CHECK_EVERY_BYTES,
            )
        };
        let mut check_at = next_check(listens);
        let outcome = loop {
            if listens.records_read() >= check_at.0 || listens.bytes_read() >= check_at.1 {
                check_at = next_check(listens);
                if cancel.load(Ordering::Relaxed) {
                    break Err(UsageError::Cancelled {
                        path: listens.path().to_owned(),
                    });
                }
                report(listens, progress);
            }
            match listens.next() {
                None => break Ok(()),
                Some(Ok(listen)) => {
                    if let Err(what) = self.add(listen) {
                        break Err(UsageError::TooMany {
                            path: listens.path().to_owned(),
                            what,
                        });
                    }
                }
                Some(Err(ReadError::Line(error))) => {
                    let max = self.options.max_error_examples;
                    self.stats.malformed.push(error, max);
                }
                Some(Err(ReadError::Io { path, source })) => {
                    break Err(UsageError::Read { path, source })
                }
            }
        };
        self.stats.lines_read += listens.records_read() - lines_before.0;
        self.stats.skipped_lines += listens.skipped_records() - lines_before.1;
        report(listens, progress);
        outcome
    }

    /// Counts one listen; `Err` names what overflowed `u32` indices.
    fn add(&mut self, listen: Listen) -> Result<(), &'static str> {
        let count = u64::from(listen.count);
        self.stats.listens += 1;
        self.stats.plays += count;
        let mapped = self.map.and_then(|map| map.lookup(&listen.track));
        let resolution = self
            .matcher
            .resolve(&listen.track, mapped)
            .ok_or("unmatched tracks")?;
        let track = match resolution {
            Resolution::Catalog { track, by } => {
                let matched = &mut self.stats.matched;
                match by {
                    MatchedBy::Id => matched.by_id += 1,
                    MatchedBy::Path => matched.by_path += 1,
                    MatchedBy::ArtistTitle => matched.by_artist_title += 1,
                }
                self.stats.matched_plays += count;
                track
            }
            Resolution::Unmatched { slot, new } => {
                if new {
                    self.unmatched_counts.push((0, 0));
                }
                if let Some((listens, plays)) = self.unmatched_counts.get_mut(slot as usize) {
                    *listens += 1;
                    *plays += count;
                }
                self.stats.unmatched_listens += 1;
                self.stats.unmatched_plays += count;
                if !self.options.add_missing {
                    return Ok(());
                }
                // resolve() only hands out slots whose catalog_len + slot fits in u32.
                self.matcher.catalog_len() + slot
            }
        };
        let user = self.user_index(listen.user).ok_or("users")?;
        self.counts.add(user, track, listen.count);
        Ok(())
    }

    /// The index of user `name`, numbering new users as met. Logs group a user's lines
    /// together, so the last user is remembered and most lines skip the table.
    fn user_index(&mut self, name: String) -> Option<u32> {
        if let Some((last, index)) = &self.last_user {
            if *last == name {
                return Some(*index);
            }
        }
        let index = match self.users.get(name.as_str()) {
            Some(&index) => index,
            None => {
                let index = u32::try_from(self.users.len()).ok()?;
                self.users.insert(name.as_str().into(), index);
                index
            }
        };
        self.last_user = Some((name, index));
        Some(index)
    }

    /// The matrix and report of everything read.
    pub fn finish(self) -> Import {
        let mut stats = self.stats;
        let mut users = vec![String::new(); self.users.len()];
        for (name, index) in self.users {
            users[index as usize] = name.into();
        }
        let unmatched = self.matcher.into_unmatched();
        let mut ranked: Vec<usize> = (0..unmatched.len()).collect();
        let counts = &self.unmatched_counts;
        let plays_of = |slot: usize| counts.get(slot).copied().unwrap_or((0, 0));
        ranked.sort_by_key(|&slot| {
            let (listens, plays) = plays_of(slot);
            (std::cmp::Reverse(plays), std::cmp::Reverse(listens), slot)
        });
        stats.top_unmatched = ranked
            .iter()
            .take(self.options.top_unmatched)
            .map(|&slot| {
                let (listens, plays) = plays_of(slot);
                UnmatchedTrack {
                    track: unmatched[slot].clone(),
                    listens,
                    plays,
                }
            })
            .collect();
        stats.unmatched_tracks = unmatched.len();
        let added = if self.options.add_missing {
            unmatched
        } else {
            Vec::new()
        };
        stats.added_tracks = added.len();
        Import {
            users,
            plays: self.counts.finish(),
            added,
            stats,
        }
    }
}

/// Play counts kept as a vector of pairs that is sorted and merged whenever it fills its
/// allocation, and doubled only when merging frees less than half of it: it holds two to four
/// times the distinct pairs (12 bytes each), however many listens repeat them.
#[derive(Debug, Default)]
struct PlayCounts {
    pairs: Vec<PlayCount>,
}

impl PlayCounts {
    /// The smallest allocation, in pairs, so small imports do not merge constantly.
    const MIN_CAPACITY: usize = 1 << 16;

    fn add(&mut self, user: u32, track: u32, count: u32) {
        let capacity = self.pairs.capacity();
        if self.pairs.len() == capacity {
            if capacity < Self::MIN_CAPACITY {
                self.pairs
                    .reserve_exact(Self::MIN_CAPACITY - self.pairs.len());
            } else {
                self.merge();
                if self.pairs.len() * 2 > capacity {
                    self.pairs.reserve_exact(capacity * 2 - self.pairs.len());
                }
            }
        }
        self.pairs.push(PlayCount { user, track, count });
    }

    /// Sorts by (user, track) and sums the plays of equal pairs.
    fn merge(&mut self) {
        self.pairs
            .sort_unstable_by_key(|pair| (pair.user, pair.track));
        let mut kept = 0;
        for read in 0..self.pairs.len() {
            let pair = self.pairs[read];
            if kept > 0 {
                let last = &mut self.pairs[kept - 1];
                if (last.user, last.track) == (pair.user, pair.track) {
                    last.count = last.count.saturating_add(pair.count);
                    continue;
                }
            }
            self.pairs[kept] = pair;
            kept += 1;
        }
        self.pairs.truncate(kept);
    }

    fn finish(mut self) -> Vec<PlayCount> {
        self.merge();
        self.pairs.shrink_to_fit();
        self.pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (64-bit LCG), enough to scatter test pairs.
    fn lcg(state: &mut u64) -> u32 {
        *state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (*state >> 33) as u32
    }

    #[test]
    fn play_counts_agree_with_a_hash_map() {
        let mut counts = PlayCounts::default();
        let mut reference: HashMap<(u32, u32), u64> = HashMap::new();
        let mut state = 7;
        // Enough pairs to force several merges and growths.
        for _ in 0..400_000 {
            let user = lcg(&mut state) % 300;
            let track = lcg(&mut state) % 700;
            let count = lcg(&mut state) % 5 + 1;
            counts.add(user, track, count);
            *reference.entry((user, track)).or_default() += u64::from(count);
        }
        let mut expected: Vec<PlayCount> = reference
            .into_iter()
            .map(|((user, track), count)| PlayCount {
                user,
                track,
                count: count as u32,
            })
            .collect();
        expected.sort();
        assert_eq!(counts.finish(), expected);
    }

    #[test]
    fn play_counts_saturate() {
        let mut counts = PlayCounts::default();
        counts.add(0, 0, u32::MAX);
        counts.add(0, 0, 5);
        assert_eq!(
            counts.finish(),
            [PlayCount {
                user: 0,
                track: 0,
                count: u32::MAX
            }]
        );
    }

    #[test]
    fn memory_stays_near_the_distinct_pairs() {
        let mut counts = PlayCounts::default();
        // A million listens of only 100 distinct pairs.
        for i in 0..1_000_000u32 {
            counts.add(i % 10, i % 100, 1);
        }
        assert!(counts.pairs.capacity() <= 2 * PlayCounts::MIN_CAPACITY);
    }
}
