//! ListenBrainz listens exports. The user-data export (a zip) holds `listens/YEAR/MONTH.jsonl`,
//! one JSON listen per line, and `user.json` with the user name; older web exports and API
//! dumps are one JSON array of the same listens, with a `user_name` in each. A listen:
//!
//! ```json
//! {"listened_at": 1700000000, "recording_msid": "…",
//!  "track_metadata": {"artist_name": "…", "track_name": "…", "release_name": "…",
//!    "additional_info": {"recording_mbid": "…", "recording_msid": "…", …},
//!    "mbid_mapping": {"recording_mbid": "…", …}}}
//! ```
//!
//! Read here: `user_name` (else the reader's default user), `listened_at` (required: a Unix
//! time, possibly fractional, or an ISO 8601 string), `artist_name`, `track_name`, the recording
//! MSID (top level, in `track_metadata`, or in `additional_info`) as the track's id, and the
//! recording MBID (`additional_info`, else `mbid_mapping`). Each listen counts one play.

use std::fs;
use std::io::{self, BufRead, Read};
use std::path::Path;

use serde_json::{Map, Value};

use super::lines::Record;
use super::reader::RecordParser;
use super::timestamp::{is_unix_time, parse_iso8601_secs, MAX_EPOCH_MILLIS};
use super::{non_empty, LineProblem, Listen, TrackRef};

/// Parses one JSON listen.
pub(crate) struct ListenBrainzParser {
    default_user: String,
}

impl ListenBrainzParser {
    pub fn new(default_user: &str) -> Self {
        ListenBrainzParser {
            default_user: default_user.to_owned(),
        }
    }
}

impl RecordParser for ListenBrainzParser {
    fn parse(&mut self, record: &[u8]) -> Result<Option<Listen>, LineProblem> {
        if record.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        let value: Value = serde_json::from_slice(record).map_err(|error| LineProblem::Json {
            message: error.to_string(),
        })?;
        let Value::Object(listen) = value else {
            return Err(LineProblem::Json {
                message: "a listen must be a JSON object".to_owned(),
            });
        };
        check_listened_at(listen.get("listened_at"))?;
        let metadata = match listen.get("track_metadata") {
            Some(Value::Object(metadata)) => metadata,
            _ => {
                return Err(LineProblem::MissingField {
                    field: "track_metadata object",
                })
            }
        };
        let additional_info = object(metadata.get("additional_info"));
        let mbid_mapping = object(metadata.get("mbid_mapping"));
        let msid = text(listen.get("recording_msid"))
            .or_else(|| text(metadata.get("recording_msid")))
            .or_else(|| text(additional_info.and_then(|info| info.get("recording_msid"))));
        let mbid = text(additional_info.and_then(|info| info.get("recording_mbid")))
            .or_else(|| text(mbid_mapping.and_then(|mapping| mapping.get("recording_mbid"))));
        let track = TrackRef {
            ids: msid.into_iter().collect(),
            mbid,
            path: None,
            artist: text(metadata.get("artist_name")),
            title: text(metadata.get("track_name")),
        };
        if !track.has_key() {
            return Err(LineProblem::NoTrack);
        }
        let user = text(listen.get("user_name")).unwrap_or_else(|| self.default_user.clone());
        Ok(Some(Listen {
            user,
            track,
            count: 1,
        }))
    }
}

/// A listen must say when it was heard; a record without it (a "playing now") is no listen.
fn check_listened_at(value: Option<&Value>) -> Result<(), LineProblem> {
    let value = match value {
        None | Some(Value::Null) => {
            return Err(LineProblem::MissingField {
                field: "listened_at",
            })
        }
        Some(value) => value,
    };
    let valid = match value {
        Value::Number(number) => number
            .as_f64()
            .is_some_and(|secs| (0.0..=MAX_EPOCH_MILLIS as f64).contains(&secs)),
        Value::String(text) => is_unix_time(text) || parse_iso8601_secs(text).is_some(),
        _ => false,
    };
    if valid {
        Ok(())
    } else {
        Err(LineProblem::BadTimestamp {
            value: LineProblem::quote(&value.to_string()),
        })
    }
}

fn object(value: Option<&Value>) -> Option<&Map<String, Value>> {
    value.and_then(Value::as_object)
}

/// A non-empty string field; other JSON types count as absent.
fn text(value: Option<&Value>) -> Option<String> {
    value.and_then(Value::as_str).and_then(non_empty)
}

/// True when the stream's first non-blank byte (after a UTF-8 byte-order mark) opens a JSON
/// array. Looks only at the buffered bytes and consumes nothing.
pub(crate) fn starts_with_array(reader: &mut impl BufRead) -> io::Result<bool> {
    let buffered = loop {
        match reader.fill_buf() {
            Ok(buffered) => break buffered,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(error),
        }
    };
    let buffered = buffered.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(buffered);
    Ok(buffered.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'['))
}

/// The `username` in the `user.json` of the export `path` belongs to: next to it, or two or
/// three folders up (`listens/YEAR/MONTH.jsonl`).
pub(crate) fn export_user_name(path: &Path) -> Option<String> {
    /// `user.json` is one short line; anything longer is not it.
    const MAX_USER_JSON_BYTES: u64 = 1 << 16;
    path.ancestors().skip(1).take(3).find_map(|folder| {
        let file = fs::File::open(folder.join("user.json")).ok()?;
        let mut bytes = Vec::new();
        file.take(MAX_USER_JSON_BYTES)
            .read_to_end(&mut bytes)
            .ok()?;
        let value: Value = serde_json::from_slice(&bytes).ok()?;
        text(value.get("username"))
    })
}

/// Where the scanner is in the array.
#[derive(Clone, Copy)]
enum Scan {
    /// Between elements: skipping blanks, commas and the array's brackets.
    Between,
    /// Inside an object or array element.
    Nested {
        depth: u32,
        in_string: bool,
        escaped: bool,
    },
    /// Inside a string element.
    Text { escaped: bool },
    /// Inside a number, literal or garbage, which ends at a blank, comma or bracket.
    Bare,
}

/// Splits a JSON array of listens into its elements without parsing them, so one element at a
/// time is in memory (at most `max_bytes`; a longer one is reported and skipped). It tracks
/// strings and nesting only; each element is then parsed on its own, so a garbled element costs
/// that element. A value still open at the end of the stream is reported.
pub(crate) struct JsonArrayReader<R> {
    inner: R,
    element: Vec<u8>,
    line_no: u64,
    bytes_read: u64,
    max_bytes: usize,
}

impl<R: BufRead> JsonArrayReader<R> {
    pub fn new(inner: R, max_bytes: usize) -> Self {
        JsonArrayReader {
            inner,
            element: Vec::new(),
            line_no: 1,
            bytes_read: 0,
            max_bytes,
        }
    }

    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next element, `None` after the last.
    pub fn next_element(&mut self) -> io::Result<Option<Record<'_>>> {
        self.element.clear();
        let mut scan = Scan::Between;
        let mut start_line = self.line_no;
        let mut too_long = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                let bytes = match scan {
                    Scan::Between => return Ok(None),
                    Scan::Bare if !too_long => Ok(self.element.as_slice()),
                    Scan::Bare => Err(LineProblem::TooLong {
                        max_bytes: self.max_bytes,
                    }),
                    Scan::Nested { .. } | Scan::Text { .. } => Err(LineProblem::UnterminatedJson),
                };
                return Ok(Some(Record {
                    line: start_line,
                    bytes,
                }));
            }
            let mut used = 0;
            let mut complete = false;
            for &byte in available {
                let at_line = self.line_no;
                let offset = self.bytes_read + used as u64;
                used += 1;
                if byte == b'\n' {
                    self.line_no += 1;
                }
                let keep = match &mut scan {
                    Scan::Between => {
                        if byte.is_ascii_whitespace()
                            || matches!(byte, b',' | b'[' | b']')
                            || (offset < 3 && matches!(byte, 0xEF | 0xBB | 0xBF))
                        {
                            false
                        } else {
                            start_line = at_line;
                            scan = match byte {
                                b'{' => Scan::Nested {
                                    depth: 1,
                                    in_string: false,
                                    escaped: false,
                                },
                                b'"' => Scan::Text { escaped: false },
                                _ => Scan::Bare,
                            };
                            true
                        }
                    }
                    Scan::Nested {
                        depth,
                        in_string,
                        escaped,
                    } => {
                        if *in_string {
                            if *escaped {
                                *escaped = false;
                            } else if byte == b'\\' {
                                *escaped = true;
                            } else if byte == b'"' {
                                *in_string = false;
                            }
                        } else {
                            match byte {
                                b'"' => *in_string = true,
                                b'{' | b'[' => *depth += 1,
                                b'}' | b']' => {
                                    *depth -= 1;
                                    complete = *depth == 0;
                                }
                                _ => {}
                            }
                        }
                        true
                    }
                    Scan::Text { escaped } => {
                        if *escaped {
                            *escaped = false;
                        } else if byte == b'\\' {
                            *escaped = true;
                        } else if byte == b'"' {
                            complete = true;
                        }
                        true
                    }
                    Scan::Bare => {
                        let ends = byte.is_ascii_whitespace() || matches!(byte, b',' | b']');
                        complete = ends;
                        !ends
                    }
                };
                if keep && !too_long {
                    if self.element.len() < self.max_bytes {
                        self.element.push(byte);
                    } else {
                        too_long = true;
                        self.element.clear();
                    }
                }
                if complete {
                    break;
                }
            }
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if complete {
                let bytes = if too_long {
                    Err(LineProblem::TooLong {
                        max_bytes: self.max_bytes,
                    })
                } else {
                    Ok(self.element.as_slice())
                };
                return Ok(Some(Record {
                    line: start_line,
                    bytes,
                }));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elements(input: &str, max_bytes: usize) -> Vec<(u64, Result<String, LineProblem>)> {
        let mut reader =
            JsonArrayReader::new(io::BufReader::with_capacity(4, input.as_bytes()), max_bytes);
        let mut out = Vec::new();
        while let Some(record) = reader.next_element().unwrap() {
            let text = record.bytes.map(|b| String::from_utf8(b.to_vec()).unwrap());
            out.push((record.line, text));
        }
        assert_eq!(reader.bytes_read(), input.len() as u64);
        out
    }

    #[test]
    fn splits_a_pretty_printed_array_with_tricky_strings() {
        let input = "[\n  {\"a\": \"}]\\\"{\", \"b\": [1, {\"c\": 2}]},\n  {\"d\": \"x\"}\n]\n";
        assert_eq!(
            elements(input, 1000),
            vec![
                (
                    2,
                    Ok("{\"a\": \"}]\\\"{\", \"b\": [1, {\"c\": 2}]}".to_owned())
                ),
                (3, Ok("{\"d\": \"x\"}".to_owned())),
            ]
        );
    }

    #[test]
    fn scalars_are_elements_and_open_values_are_reported() {
        assert_eq!(
            elements("[1, \"s,]\", true]", 100),
            vec![
                (1, Ok("1".to_owned())),
                (1, Ok("\"s,]\"".to_owned())),
                (1, Ok("true".to_owned())),
            ]
        );
        assert_eq!(
            elements("[{\"a\": 1},\n{\"b\": [", 100),
            vec![
                (1, Ok("{\"a\": 1}".to_owned())),
                (2, Err(LineProblem::UnterminatedJson)),
            ]
        );
    }

    #[test]
    fn overlong_elements_are_skipped_whole() {
        let input = format!("[{{\"a\": \"{}\"}}, {{\"b\": 1}}]", "x".repeat(100));
        assert_eq!(
            elements(&input, 20),
            vec![
                (1, Err(LineProblem::TooLong { max_bytes: 20 })),
                (1, Ok("{\"b\": 1}".to_owned())),
            ]
        );
    }

    #[test]
    fn detects_the_array_form() {
        for (input, array) in [
            ("\u{feff}  \n[{}]", true),
            ("[]", true),
            ("{\"listened_at\": 1}\n", false),
            ("", false),
        ] {
            let mut reader = io::BufReader::new(input.as_bytes());
            assert_eq!(starts_with_array(&mut reader).unwrap(), array, "{input:?}");
        }
    }

    fn parse(json: &str) -> Result<Option<Listen>, LineProblem> {
        ListenBrainzParser::new("fallback").parse(json.as_bytes())
    }

    #[test]
    fn reads_the_current_export_form() {
        let json = r#"{"inserted_at": 1700000100, "listened_at": 1700000000.0,
            "recording_msid": "msid-1", "track_metadata": {"artist_name": "Acid King",
            "track_name": "2 Wheel Nation", "release_name": "III",
            "additional_info": {"duration_ms": 323000},
            "mbid_mapping": {"recording_mbid": "mbid-1", "artists": []}}}"#;
        let listen = parse(json).unwrap().unwrap();
        assert_eq!(listen.user, "fallback");
        assert_eq!(listen.count, 1);
        assert_eq!(
            listen.track,
            TrackRef {
                ids: vec!["msid-1".into()],
                mbid: Some("mbid-1".into()),
                path: None,
                artist: Some("Acid King".into()),
                title: Some("2 Wheel Nation".into()),
            }
        );
    }

    #[test]
    fn reads_the_older_form() {
        let json = r#"{"user_name": "rob", "listened_at": 1500000000,
            "track_metadata": {"artist_name": "deadmau5", "track_name": "Everything Before",
            "additional_info": {"recording_msid": "msid-2", "recording_mbid": "mbid-2"},
            "mbid_mapping": null}}"#;
        let listen = parse(json).unwrap().unwrap();
        assert_eq!(listen.user, "rob");
        assert_eq!(listen.track.ids, ["msid-2"]);
        assert_eq!(listen.track.mbid.as_deref(), Some("mbid-2"));
    }

    #[test]
    fn reports_what_is_wrong() {
        let meta = r#""track_metadata": {"artist_name": "A", "track_name": "T"}"#;
        assert_eq!(
            parse(&format!("{{{meta}}}")),
            Err(LineProblem::MissingField {
                field: "listened_at"
            })
        );
        assert_eq!(
            parse(&format!(r#"{{"listened_at": -5, {meta}}}"#)),
            Err(LineProblem::BadTimestamp { value: "-5".into() })
        );
        assert_eq!(
            parse(&format!(r#"{{"listened_at": "soon", {meta}}}"#)),
            Err(LineProblem::BadTimestamp {
                value: "\"soon\"".into()
            })
        );
        assert_eq!(
            parse(r#"{"listened_at": 1}"#),
            Err(LineProblem::MissingField {
                field: "track_metadata object"
            })
        );
        assert_eq!(
            parse(r#"{"listened_at": 1, "track_metadata": {"artist_name": "A"}}"#),
            Err(LineProblem::NoTrack)
        );
        assert!(matches!(parse("[1, 2]"), Err(LineProblem::Json { .. })));
        assert!(matches!(
            parse(r#"{"listened_at": 1, "track_me"#),
            Err(LineProblem::Json { .. })
        ));
        assert_eq!(parse("  "), Ok(None));
    }
}
