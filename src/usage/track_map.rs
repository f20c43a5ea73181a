//! `--map FILE`: what a log's bare ids stand for. A Taste Profile names songs only by MSD song
//! id; the map supplies their MSD track ids, artists and titles (or audio paths) so that they
//! can be matched to a catalog and, with `--add-missing`, added to it with names.
//!
//! Accepted lines (blank lines and `#` comments are skipped):
//! - the MSD `unique_tracks.txt` form `TRACKID<SEP>SONGID<SEP>ARTIST<SEP>TITLE`, with the
//!   literal separator `<SEP>`: both ids map to the entry;
//! - `ID<TAB>PATH`: the id's audio file;
//! - `ID<TAB>ARTIST<TAB>TITLE`.
//!
//! When an id appears twice (an MSD song has several track ids), its first line wins.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use super::lines::{LineReader, MAX_RECORD_BYTES};
use super::{
    as_text, non_empty, split_fields, LineError, LineErrors, LineProblem, TrackRef, UsageError,
};

/// Ids → what is known of their tracks.
#[derive(Debug, Default)]
pub struct TrackMap {
    index: HashMap<Box<str>, u32>,
    entries: Vec<TrackRef>,
}

/// How reading a map went.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MapReport {
    pub lines_read: u64,
    /// Entries kept (an entry whose ids were all taken by earlier lines is dropped).
    pub entries: usize,
    pub malformed: LineErrors,
}

impl TrackMap {
    /// Reads the map at `path`; malformed lines are skipped and reported, up to
    /// `max_error_examples` of them by example.
    pub fn load(path: &Path, max_error_examples: usize) -> Result<(Self, MapReport), UsageError> {
        let file = File::open(path).map_err(|source| UsageError::Open {
            path: path.to_owned(),
            source,
        })?;
        Self::from_reader(
            BufReader::with_capacity(1 << 18, file),
            path,
            max_error_examples,
        )
    }

    /// Reads a map from `reader`; `path` names it in errors.
    pub fn from_reader<R: BufRead>(
        reader: R,
        path: &Path,
        max_error_examples: usize,
    ) -> Result<(Self, MapReport), UsageError> {
        let mut map = TrackMap::default();
        let mut report = MapReport::default();
        let mut lines = LineReader::new(reader, MAX_RECORD_BYTES);
        loop {
            let record = match lines.next_line() {
                Ok(Some(record)) => record,
                Ok(None) => break,
                Err(source) => {
                    return Err(UsageError::Read {
                        path: path.to_owned(),
                        source,
                    })
                }
            };
            report.lines_read += 1;
            let line = record.line;
            match record.bytes.and_then(parse_line) {
                Ok(Some(entry)) => map.insert(entry),
                Ok(None) => {}
                Err(problem) => {
                    let error = LineError {
                        path: path.to_owned(),
                        line,
                        problem,
                    };
                    report.malformed.push(error, max_error_examples);
                }
            }
        }
        report.entries = map.entries.len();
        Ok((map, report))
    }

    fn insert(&mut self, entry: TrackRef) {
        let Ok(index) = u32::try_from(self.entries.len()) else {
            return;
        };
        let mut used = false;
        for id in &entry.ids {
            if !self.index.contains_key(id.as_str()) {
                self.index.insert(id.as_str().into(), index);
                used = true;
            }
        }
        if used {
            self.entries.push(entry);
        }
    }

    /// What the map knows of `id`.
    pub fn get(&self, id: &str) -> Option<&TrackRef> {
        let &index = self.index.get(id)?;
        self.entries.get(index as usize)
    }

    /// The entry for the first of `track`'s ids (then its MBID) that the map knows.
    pub fn lookup(&self, track: &TrackRef) -> Option<&TrackRef> {
        track
            .ids
            .iter()
            .chain(&track.mbid)
            .find_map(|id| self.get(id))
    }

    /// Entries (distinct tracks) in the map.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// One map line; `Ok(None)` for blanks and comments.
fn parse_line(record: &[u8]) -> Result<Option<TrackRef>, LineProblem> {
    let text = as_text(record)?;
    let content = text.trim();
    if content.is_empty() || content.starts_with('#') {
        return Ok(None);
    }
    let entry = if text.contains("<SEP>") {
        let [track_id, song_id, artist, title] =
            split_fields::<4>(text.split("<SEP>"), "4 <SEP>-separated")?;
        TrackRef {
            ids: [track_id, song_id]
                .into_iter()
                .filter_map(non_empty)
                .collect(),
            mbid: None,
            path: None,
            artist: non_empty(artist),
            title: non_empty(title),
        }
    } else {
        let fields: Vec<&str> = text.split('\t').collect();
        match fields.as_slice() {
            [id, path] => TrackRef {
                ids: non_empty(id).into_iter().collect(),
                path: Some(non_empty(path).ok_or(LineProblem::EmptyField { field: "path" })?),
                ..TrackRef::default()
            },
            [id, artist, title] => TrackRef {
                ids: non_empty(id).into_iter().collect(),
                artist: non_empty(artist),
                title: Some(non_empty(title).ok_or(LineProblem::EmptyField { field: "title" })?),
                ..TrackRef::default()
            },
            _ => {
                return Err(LineProblem::FieldCount {
                    expected: "2 or 3 tab-separated (or 4 <SEP>-separated)",
                    found: fields.len(),
                })
            }
        }
    };
    if entry.ids.is_empty() {
        return Err(LineProblem::EmptyField { field: "id" });
    }
    Ok(Some(entry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_line_form() {
        let text = "# a comment\n\
                    TRMMMYQ128F932D901<SEP>SOQMMHC12AB0180CBB<SEP>Faster Pussy cat<SEP>Silent Night\n\
                    TRSECOND0000000001<SEP>SOQMMHC12AB0180CBB<SEP>Other<SEP>Dup\n\
                    SOPATH\t/music/a.mp3\n\
                    SONAME\tArtist\tTitle\n\
                    bad line\n\
                    \t/music/x.mp3\n";
        let (map, report) = TrackMap::from_reader(text.as_bytes(), Path::new("m.txt"), 10).unwrap();
        assert_eq!(report.lines_read, 7);
        assert_eq!(report.entries, 4);
        assert_eq!(map.len(), 4);
        let silent = map.get("SOQMMHC12AB0180CBB").unwrap();
        assert_eq!(silent.title.as_deref(), Some("Silent Night"));
        assert_eq!(silent.ids, ["TRMMMYQ128F932D901", "SOQMMHC12AB0180CBB"]);
        assert_eq!(map.get("TRMMMYQ128F932D901"), Some(silent));
        assert_eq!(
            map.get("TRSECOND0000000001").unwrap().title.as_deref(),
            Some("Dup")
        );
        assert_eq!(
            map.get("SOPATH").unwrap().path.as_deref(),
            Some("/music/a.mp3")
        );
        assert_eq!(map.get("SONAME").unwrap().artist.as_deref(), Some("Artist"));
        let lines: Vec<u64> = report.malformed.examples.iter().map(|e| e.line).collect();
        assert_eq!(lines, [6, 7]);
        assert_eq!(report.malformed.count, 2);
    }
}
