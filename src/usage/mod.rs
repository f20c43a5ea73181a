//! Listening logs in: streaming parsers for the usage-data formats researchers bring (the Million
//! Song Dataset Taste Profile, Last.fm 1K, ListenBrainz exports, a generic CSV), the matching of
//! their track references to catalog tracks, and the aggregation into per-(user, track) play
//! counts that weighted matrix factorisation consumes.
//!
//! Every parser streams: a [`ListenReader`] holds one line (or one JSON element) at a time, at
//! most [`MAX_RECORD_BYTES`], so a 48-million-line Taste Profile file reads in constant memory.
//! A malformed line is reported with its file and line number and skipped; reading goes on.
//! [`Importer`] then keeps memory proportional to the distinct (user, track) pairs, users and
//! unmatched tracks, never to the number of lines.

mod csv_log;
mod import;
mod lastfm_1k;
mod lines;
mod listenbrainz;
pub mod matching;
mod reader;
mod taste_profile;
pub mod timestamp;
mod track_map;

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

pub use import::{
    Import, ImportOptions, ImportProgress, ImportStats, Importer, MatchCounts, PlayCount,
    UnmatchedTrack,
};
pub use lines::MAX_RECORD_BYTES;
pub use matching::{CatalogTrack, MatchedBy, Matcher, Resolution};
pub use reader::ListenReader;
pub use track_map::{MapReport, TrackMap};

/// One listening event, or a play count, read from a log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listen {
    pub user: String,
    pub track: TrackRef,
    /// Plays this record stands for: the count of a Taste Profile triplet or a CSV count column;
    /// 1 for a timestamped listen. Always at least 1.
    pub count: u32,
}

/// Whatever a log says about which track was played. Parsers fill what the line carries and
/// leave the rest empty; every [`Listen`] has at least one of `ids`, `mbid`, `path`, `title`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrackRef {
    /// Identifiers, looked up among catalog ids, most specific first: the log's own id (MSD song
    /// id, ListenBrainz recording MSID, a CSV id). An unmatched entry also carries those a
    /// [`TrackMap`] added (the MSD track id).
    pub ids: Vec<String>,
    /// MusicBrainz recording id, also looked up among catalog ids.
    pub mbid: Option<String>,
    /// Audio file path, matched against catalog sources (see [`matching`]).
    pub path: Option<String>,
    pub artist: Option<String>,
    pub title: Option<String>,
}

impl TrackRef {
    /// True when the reference names a track by at least one key the matcher can use.
    pub fn has_key(&self) -> bool {
        !self.ids.is_empty() || self.mbid.is_some() || self.path.is_some() || self.title.is_some()
    }
}

/// The listening-log formats `deepcuts import-usage --format` accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LogFormat {
    /// Million Song Dataset Taste Profile triplets: `user<TAB>song_id<TAB>play_count`.
    TasteProfile,
    /// Last.fm 1K `userid-timestamp-artid-artname-traid-traname.tsv`: one listen per line.
    LastFm1k,
    /// ListenBrainz listens export: JSON lines, or one JSON array of listens.
    ListenBrainz,
    /// user, track, count-or-timestamp; see the `csv_log` module docs for the exact rules.
    Csv,
}

impl LogFormat {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [LogFormat; 4] = [
        LogFormat::TasteProfile,
        LogFormat::LastFm1k,
        LogFormat::ListenBrainz,
        LogFormat::Csv,
    ];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LogFormat::TasteProfile => "taste-profile",
            LogFormat::LastFm1k => "lastfm-1k",
            LogFormat::ListenBrainz => "listenbrainz",
            LogFormat::Csv => "csv",
        }
    }
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for LogFormat {
    type Err = UnknownFormat;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        LogFormat::ALL
            .into_iter()
            .find(|format| format.name() == name)
            .ok_or_else(|| UnknownFormat(name.to_owned()))
    }
}

/// A `--format` name that is not one of [`LogFormat::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown listening-log format {0:?}: expected taste-profile, lastfm-1k, listenbrainz or csv"
)]
pub struct UnknownFormat(pub String);

/// What is wrong with one line (or JSON element) of a log; the line is skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineProblem {
    #[error("not valid UTF-8 (bad byte at column {})", .valid_up_to + 1)]
    InvalidUtf8 { valid_up_to: usize },
    #[error("longer than {max_bytes} bytes")]
    TooLong { max_bytes: usize },
    #[error("expected {expected} fields, found {found}")]
    FieldCount {
        expected: &'static str,
        found: usize,
    },
    #[error("empty {field}")]
    EmptyField { field: &'static str },
    #[error("play count {value:?} is not a whole number from 1 to 4294967295")]
    BadCount { value: String },
    #[error("timestamp {value:?} is neither ISO 8601 nor a Unix time")]
    BadTimestamp { value: String },
    #[error("invalid JSON: {message}")]
    Json { message: String },
    #[error("no {field}")]
    MissingField { field: &'static str },
    #[error("names no track (no id, MBID, path or title)")]
    NoTrack,
    #[error("JSON value not closed before the end of the file")]
    UnterminatedJson,
}

/// Longest excerpt of offending input quoted in a [`LineProblem`], in characters.
const QUOTE_CHARS: usize = 60;

impl LineProblem {
    /// Quotes `value` for a message, cut short so garbage cannot flood a report.
    fn quote(value: &str) -> String {
        match value.char_indices().nth(QUOTE_CHARS) {
            Some((cut, _)) => format!("{}…", &value[..cut]),
            None => value.to_owned(),
        }
    }
}

/// A malformed line: which file, which line (1-based; for a JSON array, the line where the
/// element starts) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {problem}", path.display())]
pub struct LineError {
    pub path: PathBuf,
    pub line: u64,
    pub problem: LineProblem,
}

/// What a [`ListenReader`] yields instead of a listen.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// This line is skipped; reading goes on with the next.
    #[error(transparent)]
    Line(#[from] LineError),
    /// The file could not be read further; the reader ends after this.
    #[error("cannot read {}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// Errors that stop an import.
#[derive(Debug, thiserror::Error)]
pub enum UsageError {
    #[error("cannot open {}: {source}", path.display())]
    Open { path: PathBuf, source: io::Error },
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("import of {} cancelled", path.display())]
    Cancelled { path: PathBuf },
    #[error("{}: more than {} {what}", path.display(), u32::MAX)]
    TooMany { path: PathBuf, what: &'static str },
}

/// Malformed lines met while reading: how many, and the first few for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LineErrors {
    pub count: u64,
    /// The first `max_examples` errors, in file order.
    pub examples: Vec<LineError>,
}

impl LineErrors {
    /// Counts `error`, keeping it as an example while fewer than `max_examples` are kept.
    pub fn push(&mut self, error: LineError, max_examples: usize) {
        self.count += 1;
        if self.examples.len() < max_examples {
            self.examples.push(error);
        }
    }
}

/// Splits `record` as UTF-8 text, the shared first step of the text formats.
fn as_text(record: &[u8]) -> Result<&str, LineProblem> {
    std::str::from_utf8(record).map_err(|error| LineProblem::InvalidUtf8 {
        valid_up_to: error.valid_up_to(),
    })
}

/// Parses a play count: a whole number from 1 to `u32::MAX`.
fn parse_count(text: &str) -> Result<u32, LineProblem> {
    match text.parse::<u32>() {
        Ok(count) if count >= 1 => Ok(count),
        _ => Err(LineProblem::BadCount {
            value: LineProblem::quote(text),
        }),
    }
}

/// Takes exactly `N` fields from `parts` (a `str::split` of a line).
fn split_fields<'t, const N: usize>(
    mut parts: impl Iterator<Item = &'t str>,
    expected: &'static str,
) -> Result<[&'t str; N], LineProblem> {
    let mut fields = [""; N];
    for (found, field) in fields.iter_mut().enumerate() {
        match parts.next() {
            Some(part) => *field = part,
            None => return Err(LineProblem::FieldCount { expected, found }),
        }
    }
    match parts.count() {
        0 => Ok(fields),
        extra => Err(LineProblem::FieldCount {
            expected,
            found: N + extra,
        }),
    }
}

/// `Some(text)` owned, or `None` when it is empty after trimming.
fn non_empty(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_names_round_trip() {
        for format in LogFormat::ALL {
            assert_eq!(format.name().parse::<LogFormat>(), Ok(format));
        }
        assert!("lastfm".parse::<LogFormat>().is_err());
    }

    #[test]
    fn counts_must_be_positive_u32() {
        assert_eq!(parse_count("1"), Ok(1));
        assert_eq!(parse_count("4294967295"), Ok(u32::MAX));
        for bad in [
            "0",
            "-1",
            "4294967296",
            "1.5",
            "",
            " 3",
            "99999999999999999999999",
        ] {
            assert!(parse_count(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn fields_are_split_exactly() {
        assert_eq!(
            split_fields::<3>("a\tb\tc".split('\t'), "3"),
            Ok(["a", "b", "c"])
        );
        assert_eq!(
            split_fields::<2>("a<SEP>".split("<SEP>"), "2"),
            Ok(["a", ""])
        );
        for (text, found) in [("a\tb", 2), ("a\tb\tc\td\te", 5), ("", 1)] {
            assert_eq!(
                split_fields::<3>(text.split('\t'), "3"),
                Err(LineProblem::FieldCount {
                    expected: "3",
                    found
                }),
                "{text:?}"
            );
        }
    }

    #[test]
    fn quotes_are_cut_on_char_boundaries() {
        let long = "é".repeat(100);
        let quoted = LineProblem::quote(&long);
        assert_eq!(quoted.chars().count(), QUOTE_CHARS + 1);
        assert!(quoted.ends_with('…'));
        assert_eq!(LineProblem::quote("short"), "short");
    }
}
