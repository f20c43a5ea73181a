//! Generic CSV listening logs, for exports of any other service or player.
//!
//! **Records.** One record per line. The delimiter is a tab, a comma or a semicolon, chosen on
//! the first line that is neither blank nor a `#` comment. Fields may be quoted (`"a, b"`, with
//! `""` for a quote) but may not span lines. Fields are trimmed of surrounding blanks.
//!
//! **With a header** — the first line holds at least two of the column names below (any case;
//! blanks and hyphens read as underscores) — columns are found by name, in any order, and other
//! columns are ignored. When several names of one role are present the one listed first wins.
//!
//! | role | names |
//! |---|---|
//! | user | user, user_id, userid, username, user_name, listener |
//! | track | track, song, item |
//! | id | id, track_id, trackid, song_id, songid, item_id, recording_msid, msid |
//! | path | path, file, file_path, filepath, filename, location |
//! | artist | artist, artist_name, artistname |
//! | title | title, track_name, trackname, track_title, song_name, songname, name |
//! | mbid | mbid, recording_mbid, track_mbid, recording_id |
//! | count | count, plays, play_count, playcount, listens, listen_count, scrobbles |
//! | timestamp | timestamp, listened_at, played_at, uts, time, date, datetime, utc_time |
//!
//! The header must name a track (track, id, path, title or mbid). Without a user column every
//! row belongs to the reader's default user. A count column gives each row's plays; otherwise a
//! row is one play (and a timestamp column, when present, must hold valid times). When an
//! artist column is present, a `track` column is the title (as in Last.fm scrobble exports).
//!
//! **Without a header** a row is exactly `user, track, value`. The value column holds play
//! counts or listen times, decided on the first valid row: an ISO 8601 date-time, or a whole
//! number of at least [`MIN_EPOCH_SECS`] (a Unix time in seconds or milliseconds, 2001 on),
//! means timestamps (each row one play); a whole number from 1 below that means counts. Later
//! rows must hold the same kind.
//!
//! **The track column** (positional, or named `track`) is read as
//! 1. a path when it starts with `/`, `./`, `../`, `~/`, `file://`, `\\` or a drive (`C:\`,
//!    `C:/`), or ends with an audio file extension (`.mp3`, `.flac`, `.ogg`, …);
//! 2. otherwise `artist - title` when it contains ` - ` (split at the first one);
//! 3. otherwise a track id, looked up among catalog ids.

use super::reader::RecordParser;
use super::timestamp::{is_unix_time, parse_iso8601_secs, MIN_EPOCH_SECS};
use super::{as_text, non_empty, parse_count, LineProblem, Listen, TrackRef};

/// Most fields a row may have; more is garbage, not a listening log.
const MAX_FIELDS: usize = 64;

/// Delimiters tried, in order of preference.
const DELIMITERS: [u8; 3] = [b'\t', b',', b';'];

const USER_NAMES: &[&str] = &[
    "user",
    "user_id",
    "userid",
    "username",
    "user_name",
    "listener",
];
const TRACK_NAMES: &[&str] = &["track", "song", "item"];
const ID_NAMES: &[&str] = &[
    "id",
    "track_id",
    "trackid",
    "song_id",
    "songid",
    "item_id",
    "recording_msid",
    "msid",
];
const PATH_NAMES: &[&str] = &[
    "path",
    "file",
    "file_path",
    "filepath",
    "filename",
    "location",
];
const ARTIST_NAMES: &[&str] = &["artist", "artist_name", "artistname"];
const TITLE_NAMES: &[&str] = &[
    "title",
    "track_name",
    "trackname",
    "track_title",
    "song_name",
    "songname",
    "name",
];
const MBID_NAMES: &[&str] = &["mbid", "recording_mbid", "track_mbid", "recording_id"];
const COUNT_NAMES: &[&str] = &[
    "count",
    "plays",
    "play_count",
    "playcount",
    "listens",
    "listen_count",
    "scrobbles",
];
const TIMESTAMP_NAMES: &[&str] = &[
    "timestamp",
    "listened_at",
    "played_at",
    "uts",
    "time",
    "date",
    "datetime",
    "utc_time",
];

/// File extensions that make a track column a path.
const AUDIO_EXTENSIONS: &[&str] = &[
    "mp3", "flac", "ogg", "oga", "opus", "wav", "wave", "aif", "aiff", "aifc", "m4a", "mp4", "aac",
    "alac", "wma", "wv", "ape", "mpc", "mka", "webm",
];

/// What the value column of a headerless file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ValueKind {
    Count,
    Timestamp,
}

/// Column positions found in a header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Columns {
    user: Option<usize>,
    track: Option<usize>,
    id: Option<usize>,
    path: Option<usize>,
    artist: Option<usize>,
    title: Option<usize>,
    mbid: Option<usize>,
    count: Option<usize>,
    timestamp: Option<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    Named { delimiter: u8, columns: Columns },
    Positional { delimiter: u8, value: ValueKind },
}

/// A row split into fields, with csv-core doing the quoting rules.
struct Fields {
    reader: csv_core::Reader,
    delimiter: u8,
    output: Vec<u8>,
    ends: [usize; MAX_FIELDS],
    count: usize,
}

impl Fields {
    fn new() -> Self {
        Fields {
            reader: Self::reader_for(b','),
            delimiter: b',',
            output: Vec::new(),
            ends: [0; MAX_FIELDS],
            count: 0,
        }
    }

    /// A reader for one delimiter; a lone `\n` ends records, so `\r` is plain data.
    fn reader_for(delimiter: u8) -> csv_core::Reader {
        csv_core::ReaderBuilder::new()
            .delimiter(delimiter)
            .terminator(csv_core::Terminator::Any(b'\n'))
            .build()
    }

    /// Splits `line` (one record, no newline) at `delimiter`; returns the field count.
    fn split(&mut self, line: &str, delimiter: u8) -> Result<usize, LineProblem> {
        if delimiter != self.delimiter {
            self.reader = Self::reader_for(delimiter);
            self.delimiter = delimiter;
        }
        // Unquoting only ever shortens a field, so the line's length always suffices.
        if self.output.len() < line.len() {
            self.output.resize(line.len(), 0);
        }
        self.reader.reset();
        let input = line.as_bytes();
        let (mut result, _, written, mut ends) =
            self.reader
                .read_record(input, &mut self.output, &mut self.ends);
        if result == csv_core::ReadRecordResult::InputEmpty {
            // An empty input tells csv-core the data ended, which closes the last field.
            let (end_result, _, _, more_ends) =
                self.reader
                    .read_record(&[], &mut self.output[written..], &mut self.ends[ends..]);
            result = end_result;
            ends += more_ends;
        }
        match result {
            csv_core::ReadRecordResult::Record | csv_core::ReadRecordResult::End => {
                self.count = ends;
                Ok(ends)
            }
            csv_core::ReadRecordResult::OutputEndsFull => Err(LineProblem::FieldCount {
                expected: "at most 64",
                found: line.bytes().filter(|&b| b == delimiter).count() + 1,
            }),
            // Neither can happen: the input ended and the output had room for all of it.
            csv_core::ReadRecordResult::InputEmpty | csv_core::ReadRecordResult::OutputFull => {
                Err(LineProblem::FieldCount {
                    expected: "a complete CSV record",
                    found: ends,
                })
            }
        }
    }

    /// Field `index` of the last split, trimmed; empty when the row is shorter.
    fn get(&self, index: usize) -> Result<&str, LineProblem> {
        if index >= self.count {
            return Ok("");
        }
        let start = if index == 0 { 0 } else { self.ends[index - 1] };
        let bytes = &self.output[start..self.ends[index]];
        Ok(as_text(bytes)?.trim())
    }
}

/// Parses the generic CSV format described in the module docs.
pub(crate) struct CsvParser {
    default_user: String,
    layout: Option<Layout>,
    fields: Fields,
}

impl CsvParser {
    pub fn new(default_user: &str) -> Self {
        CsvParser {
            default_user: default_user.to_owned(),
            layout: None,
            fields: Fields::new(),
        }
    }

    /// Decides the layout from the first content line: a header, or a valid positional row.
    fn detect(&mut self, line: &str) -> Result<Option<Listen>, LineProblem> {
        for delimiter in DELIMITERS {
            self.fields.split(line, delimiter)?;
            let names: Vec<String> = (0..self.fields.count)
                .map(|index| self.fields.get(index).map(column_name))
                .collect::<Result<_, _>>()?;
            if let Some(columns) = Columns::from_header(&names)? {
                self.layout = Some(Layout::Named { delimiter, columns });
                return Ok(None);
            }
        }
        let mut found = 0;
        for delimiter in DELIMITERS {
            let fields = self.fields.split(line, delimiter)?;
            found = found.max(fields);
            if fields == 3 {
                let value_text = self.fields.get(2)?;
                let value = classify_value(value_text).ok_or_else(|| LineProblem::BadCount {
                    value: LineProblem::quote(value_text),
                })?;
                let listen = self.positional(value)?;
                self.layout = Some(Layout::Positional { delimiter, value });
                return Ok(Some(listen));
            }
        }
        Err(LineProblem::FieldCount {
            expected: "3 (user, track, count or time) or a header naming",
            found,
        })
    }

    /// A headerless row, already split: `user, track, value`.
    fn positional(&self, value: ValueKind) -> Result<Listen, LineProblem> {
        let user = self.fields.get(0)?;
        if user.is_empty() {
            return Err(LineProblem::EmptyField { field: "user" });
        }
        let track = self.fields.get(1)?;
        if track.is_empty() {
            return Err(LineProblem::EmptyField { field: "track" });
        }
        let value_text = self.fields.get(2)?;
        let count = match value {
            ValueKind::Count => parse_count(value_text)?,
            ValueKind::Timestamp => {
                check_timestamp(value_text)?;
                1
            }
        };
        Ok(Listen {
            user: user.to_owned(),
            track: classify_track(track),
            count,
        })
    }

    /// A row of a file with a header, already split.
    fn named(&self, columns: &Columns) -> Result<Listen, LineProblem> {
        let field = |column: Option<usize>| -> Result<Option<&str>, LineProblem> {
            match column {
                Some(index) => Ok(Some(self.fields.get(index)?)),
                None => Ok(None),
            }
        };
        let user = match field(columns.user)? {
            Some("") => return Err(LineProblem::EmptyField { field: "user" }),
            Some(user) => user.to_owned(),
            None => self.default_user.clone(),
        };
        let mut track = TrackRef {
            ids: field(columns.id)?.and_then(non_empty).into_iter().collect(),
            mbid: field(columns.mbid)?.and_then(non_empty),
            path: field(columns.path)?.and_then(non_empty),
            artist: field(columns.artist)?.and_then(non_empty),
            title: field(columns.title)?.and_then(non_empty),
        };
        if let Some(value) = field(columns.track)?.filter(|value| !value.is_empty()) {
            if columns.artist.is_some() && columns.title.is_none() {
                track.title = Some(value.to_owned());
            } else {
                merge_missing(&mut track, classify_track(value));
            }
        }
        if !track.has_key() {
            return Err(LineProblem::NoTrack);
        }
        let count = match (field(columns.count)?, field(columns.timestamp)?) {
            (Some(""), _) => return Err(LineProblem::EmptyField { field: "count" }),
            (Some(count), _) => parse_count(count)?,
            (None, Some(time)) => {
                check_timestamp(time)?;
                1
            }
            (None, None) => 1,
        };
        Ok(Listen { user, track, count })
    }
}

impl RecordParser for CsvParser {
    fn parse(&mut self, record: &[u8]) -> Result<Option<Listen>, LineProblem> {
        let line = as_text(record)?;
        let content = line.trim();
        if content.is_empty() || content.starts_with('#') {
            return Ok(None);
        }
        match self.layout {
            None => self.detect(line),
            Some(Layout::Named { delimiter, columns }) => {
                self.fields.split(line, delimiter)?;
                self.named(&columns).map(Some)
            }
            Some(Layout::Positional { delimiter, value }) => {
                let found = self.fields.split(line, delimiter)?;
                if found != 3 {
                    return Err(LineProblem::FieldCount {
                        expected: "3",
                        found,
                    });
                }
                self.positional(value).map(Some)
            }
        }
    }
}

impl Columns {
    /// The columns of `names` when it is a header (at least two known names), `None` when it
    /// is not; an error for a header that names no track.
    fn from_header(names: &[String]) -> Result<Option<Columns>, LineProblem> {
        let all_roles = [
            USER_NAMES,
            TRACK_NAMES,
            ID_NAMES,
            PATH_NAMES,
            ARTIST_NAMES,
            TITLE_NAMES,
            MBID_NAMES,
            COUNT_NAMES,
            TIMESTAMP_NAMES,
        ];
        let known = names
            .iter()
            .filter(|name| all_roles.iter().any(|role| role.contains(&name.as_str())))
            .count();
        if known < 2 {
            return Ok(None);
        }
        let find = |role: &[&str]| {
            role.iter()
                .find_map(|wanted| names.iter().position(|name| name == wanted))
        };
        let columns = Columns {
            user: find(USER_NAMES),
            track: find(TRACK_NAMES),
            id: find(ID_NAMES),
            path: find(PATH_NAMES),
            artist: find(ARTIST_NAMES),
            title: find(TITLE_NAMES),
            mbid: find(MBID_NAMES),
            count: find(COUNT_NAMES),
            timestamp: find(TIMESTAMP_NAMES),
        };
        let names_track = [
            columns.track,
            columns.id,
            columns.path,
            columns.title,
            columns.mbid,
        ]
        .iter()
        .any(Option::is_some);
        if names_track {
            Ok(Some(columns))
        } else {
            Err(LineProblem::MissingField {
                field: "track column in the header (track, id, path, title or mbid)",
            })
        }
    }
}

/// A header cell as compared with the known names.
fn column_name(cell: &str) -> String {
    cell.trim()
        .chars()
        .map(|c| match c {
            ' ' | '-' => '_',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether a headerless file's third column holds times or counts, judged on one value.
fn classify_value(text: &str) -> Option<ValueKind> {
    if parse_iso8601_secs(text).is_some() {
        return Some(ValueKind::Timestamp);
    }
    let whole = text.split_once('.').map_or(text, |(whole, _)| whole);
    match whole.parse::<u64>() {
        Ok(number) if is_unix_time(text) && number >= MIN_EPOCH_SECS => Some(ValueKind::Timestamp),
        Ok(number) if number >= 1 && whole == text => Some(ValueKind::Count),
        _ => None,
    }
}

fn check_timestamp(text: &str) -> Result<(), LineProblem> {
    if is_unix_time(text) || parse_iso8601_secs(text).is_some() {
        Ok(())
    } else {
        Err(LineProblem::BadTimestamp {
            value: LineProblem::quote(text),
        })
    }
}

/// Reads a track column by the rules in the module docs.
fn classify_track(text: &str) -> TrackRef {
    if looks_like_path(text) {
        return TrackRef {
            path: Some(text.to_owned()),
            ..TrackRef::default()
        };
    }
    if let Some((artist, title)) = text.split_once(" - ") {
        if let (Some(artist), Some(title)) = (non_empty(artist), non_empty(title)) {
            return TrackRef {
                artist: Some(artist),
                title: Some(title),
                ..TrackRef::default()
            };
        }
    }
    TrackRef {
        ids: vec![text.to_owned()],
        ..TrackRef::default()
    }
}

fn looks_like_path(text: &str) -> bool {
    let bytes = text.as_bytes();
    let drive = bytes.len() >= 3
        && bytes[0].is_ascii_alphabetic()
        && bytes[1] == b':'
        && matches!(bytes[2], b'\\' | b'/');
    let rooted = ["/", "./", "../", "~/", "file://", "\\\\"]
        .iter()
        .any(|prefix| text.starts_with(prefix));
    let audio_extension = text.rsplit_once('.').is_some_and(|(stem, extension)| {
        !stem.is_empty()
            && AUDIO_EXTENSIONS
                .iter()
                .any(|known| extension.eq_ignore_ascii_case(known))
    });
    drive || rooted || audio_extension
}

/// Fills the fields of `track` that are empty from `other`.
fn merge_missing(track: &mut TrackRef, other: TrackRef) {
    track.ids.extend(other.ids);
    track.mbid = track.mbid.take().or(other.mbid);
    track.path = track.path.take().or(other.path);
    track.artist = track.artist.take().or(other.artist);
    track.title = track.title.take().or(other.title);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Vec<Result<Option<Listen>, LineProblem>> {
        let mut parser = CsvParser::new("me");
        text.lines()
            .map(|line| parser.parse(line.as_bytes()))
            .collect()
    }

    fn track_id(id: &str) -> TrackRef {
        TrackRef {
            ids: vec![id.to_owned()],
            ..TrackRef::default()
        }
    }

    #[test]
    fn track_column_rules() {
        for path in [
            "/music/a.mp3",
            "./a",
            "~/x",
            "C:\\Music\\x.flac",
            "d:/x",
            "Artist - Title.FLAC",
            "file:///m/a",
        ] {
            assert_eq!(classify_track(path).path.as_deref(), Some(path), "{path}");
        }
        let split = classify_track("AC/DC - Back in Black - Live");
        assert_eq!(split.artist.as_deref(), Some("AC/DC"));
        assert_eq!(split.title.as_deref(), Some("Back in Black - Live"));
        for id in ["SOAKIMP12A8C130995", "Artist-Title", " - x", "song.txt"] {
            assert_eq!(classify_track(id), track_id(id), "{id}");
        }
    }

    #[test]
    fn value_column_rules() {
        let cases = [
            ("3", Some(ValueKind::Count)),
            ("999999999", Some(ValueKind::Count)),
            ("1000000000", Some(ValueKind::Timestamp)),
            ("1700000000123", Some(ValueKind::Timestamp)),
            ("1700000000.5", Some(ValueKind::Timestamp)),
            ("99999999999999999999999", None),
            ("2009-05-04T23:08:57Z", Some(ValueKind::Timestamp)),
            ("0", None),
            ("2.5", None),
            ("-3", None),
            ("many", None),
        ];
        for (text, kind) in cases {
            assert_eq!(classify_value(text), kind, "{text}");
        }
    }

    #[test]
    fn headerless_counts_with_quoting() {
        let rows = parse_all("u1,\"Simon, Paul - Graceland\",3\nu2,SO1,2\nu3,SO1,2009-05-04");
        let first = rows[0].clone().unwrap().unwrap();
        assert_eq!(first.user, "u1");
        assert_eq!(first.track.artist.as_deref(), Some("Simon, Paul"));
        assert_eq!(first.count, 3);
        assert_eq!(rows[1].clone().unwrap().unwrap().track, track_id("SO1"));
        assert_eq!(
            rows[2],
            Err(LineProblem::BadCount {
                value: "2009-05-04".into()
            })
        );
    }

    #[test]
    fn headerless_timestamps_and_other_delimiters() {
        let rows = parse_all("u1;A - T;1241478537\nu1;A - T;2009-05-04T23:08:57Z\nu1;A - T;7x");
        assert_eq!(rows[0].clone().unwrap().unwrap().count, 1);
        assert_eq!(rows[1].clone().unwrap().unwrap().count, 1);
        assert_eq!(
            rows[2],
            Err(LineProblem::BadTimestamp { value: "7x".into() })
        );
        let tabs = parse_all("u\tx, y\t4");
        assert_eq!(tabs[0].clone().unwrap().unwrap().track, track_id("x, y"));
    }

    #[test]
    fn layout_waits_for_a_valid_first_row() {
        let rows = parse_all("# exported\nu1,SO1,0\nu1,SO1\nu1,SO1,5\nu1,SO2,6,7");
        assert_eq!(rows[0], Ok(None));
        assert_eq!(rows[1], Err(LineProblem::BadCount { value: "0".into() }));
        assert!(matches!(
            rows[2],
            Err(LineProblem::FieldCount { found: 2, .. })
        ));
        assert_eq!(rows[3].clone().unwrap().unwrap().count, 5);
        assert_eq!(
            rows[4],
            Err(LineProblem::FieldCount {
                expected: "3",
                found: 4
            })
        );
    }

    #[test]
    fn header_with_a_lastfm_scrobble_layout() {
        let text = "uts,utc_time,artist,artist_mbid,album,album_mbid,track,track_mbid\n\
                    1612130520,\"31 Jan 2021, 22:02\",Burial,,Untrue,,Archangel,mb-1\n\
                    1612130521,x,Burial,,Untrue,,,";
        let rows = parse_all(text);
        assert_eq!(rows[0], Ok(None));
        let listen = rows[1].clone().unwrap().unwrap();
        assert_eq!(listen.user, "me");
        assert_eq!(listen.count, 1);
        assert_eq!(
            listen.track,
            TrackRef {
                ids: vec![],
                mbid: Some("mb-1".into()),
                path: None,
                artist: Some("Burial".into()),
                title: Some("Archangel".into()),
            }
        );
        assert_eq!(rows[2], Err(LineProblem::NoTrack));
    }

    #[test]
    fn header_with_counts_and_paths() {
        let rows =
            parse_all("Play Count;User;File Path\n4;ann;/m/a.ogg\n;ann;/m/b.ogg\n2;;/m/c.ogg");
        let listen = rows[1].clone().unwrap().unwrap();
        assert_eq!((listen.user.as_str(), listen.count), ("ann", 4));
        assert_eq!(listen.track.path.as_deref(), Some("/m/a.ogg"));
        assert_eq!(rows[2], Err(LineProblem::EmptyField { field: "count" }));
        assert_eq!(rows[3], Err(LineProblem::EmptyField { field: "user" }));
    }

    #[test]
    fn header_without_a_track_is_reported() {
        let rows = parse_all("user,count\nu,3");
        assert!(matches!(rows[0], Err(LineProblem::MissingField { .. })));
    }

    #[test]
    fn too_many_fields_is_an_error_not_a_panic() {
        let line = vec!["x"; 200].join(",");
        assert!(matches!(
            parse_all(&line)[0],
            Err(LineProblem::FieldCount { found: 200, .. })
        ));
    }
}
