//! [`ListenReader`]: one log file as a stream of listens, whatever its format.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use super::csv_log::CsvParser;
use super::lastfm_1k::LastFm1kParser;
use super::lines::{LineReader, Record, MAX_RECORD_BYTES};
use super::listenbrainz::{self, JsonArrayReader, ListenBrainzParser};
use super::taste_profile::TasteProfileParser;
use super::{LineError, LineProblem, Listen, LogFormat, ReadError, UsageError};

/// One format's reading of one record (a line, or an element of a JSON array).
pub(crate) trait RecordParser {
    /// The listen in `record`; `Ok(None)` for a record that carries none (a blank line, a
    /// comment, a header).
    fn parse(&mut self, record: &[u8]) -> Result<Option<Listen>, LineProblem>;
}

/// Where records come from: lines, or the elements of one JSON array.
enum Records<R> {
    Lines(LineReader<R>),
    JsonArray(JsonArrayReader<R>),
}

impl<R: BufRead> Records<R> {
    fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        match self {
            Records::Lines(lines) => lines.next_line(),
            Records::JsonArray(elements) => elements.next_element(),
        }
    }

    fn bytes_read(&self) -> u64 {
        match self {
            Records::Lines(lines) => lines.bytes_read(),
            Records::JsonArray(elements) => elements.bytes_read(),
        }
    }
}

/// A listening log read as an iterator of listens, in file order, holding one record at a time.
///
/// A malformed record yields `Err(ReadError::Line)` and reading goes on; an I/O error yields
/// `Err(ReadError::Io)` and ends the iteration. Blank lines, comments and CSV headers yield
/// nothing and are counted in [`ListenReader::skipped_records`].
pub struct ListenReader<R> {
    path: PathBuf,
    records: Records<R>,
    parser: Box<dyn RecordParser + Send>,
    total_bytes: Option<u64>,
    records_read: u64,
    skipped_records: u64,
    finished: bool,
}

impl ListenReader<BufReader<File>> {
    /// Opens the log at `path`. `default_user` names the listener for formats whose records
    /// may not (ListenBrainz, CSV without a user column); without it, a ListenBrainz export's
    /// `user.json` gives the name, else the file's stem does.
    pub fn open(
        path: &Path,
        format: LogFormat,
        default_user: Option<&str>,
    ) -> Result<Self, UsageError> {
        let open_error = |source| UsageError::Open {
            path: path.to_owned(),
            source,
        };
        let file = File::open(path).map_err(open_error)?;
        let total_bytes = file.metadata().map_err(open_error)?.len();
        let default_user = match default_user {
            Some(user) => user.to_owned(),
            None => implied_user(path, format),
        };
        let mut reader = ListenReader::new(
            BufReader::with_capacity(1 << 18, file),
            path,
            format,
            &default_user,
        )?;
        reader.total_bytes = Some(total_bytes);
        Ok(reader)
    }
}

/// The listener a file implies when its records name none.
fn implied_user(path: &Path, format: LogFormat) -> String {
    let from_export = match format {
        LogFormat::ListenBrainz => listenbrainz::export_user_name(path),
        _ => None,
    };
    from_export
        .or_else(|| {
            let stem = path.file_stem()?.to_string_lossy();
            (!stem.is_empty()).then(|| stem.into_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

impl<R: BufRead> ListenReader<R> {
    /// Reads `format` from `inner`; `path` names the source in errors.
    pub fn new(
        mut inner: R,
        path: impl Into<PathBuf>,
        format: LogFormat,
        default_user: &str,
    ) -> Result<Self, UsageError> {
        let path = path.into();
        let parser: Box<dyn RecordParser + Send> = match format {
            LogFormat::TasteProfile => Box::new(TasteProfileParser),
            LogFormat::LastFm1k => Box::new(LastFm1kParser),
            LogFormat::ListenBrainz => Box::new(ListenBrainzParser::new(default_user)),
            LogFormat::Csv => Box::new(CsvParser::new(default_user)),
        };
        let json_array = format == LogFormat::ListenBrainz
            && listenbrainz::starts_with_array(&mut inner).map_err(|source| UsageError::Read {
                path: path.clone(),
                source,
            })?;
        let records = if json_array {
            Records::JsonArray(JsonArrayReader::new(inner, MAX_RECORD_BYTES))
        } else {
            Records::Lines(LineReader::new(inner, MAX_RECORD_BYTES))
        };
        Ok(ListenReader {
            path,
            records,
            parser,
            total_bytes: None,
            records_read: 0,
            skipped_records: 0,
            finished: false,
        })
    }

    /// The file this reader reads, as named in its errors.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes consumed so far, for progress against [`ListenReader::total_bytes`].
    pub fn bytes_read(&self) -> u64 {
        self.records.bytes_read()
    }

    /// The file's size, when the reader was opened from a file.
    pub fn total_bytes(&self) -> Option<u64> {
        self.total_bytes
    }

    /// Records (lines; elements of a JSON array) read so far, good, bad or skipped.
    pub fn records_read(&self) -> u64 {
        self.records_read
    }

    /// Records that carried no listen and no error: blank lines, comments, a CSV header.
    pub fn skipped_records(&self) -> u64 {
        self.skipped_records
    }
}

impl<R: BufRead> Iterator for ListenReader<R> {
    type Item = Result<Listen, ReadError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.finished {
            let record = match self.records.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => {
                    self.finished = true;
                    return None;
                }
                Err(source) => {
                    self.finished = true;
                    let path = self.path.clone();
                    return Some(Err(ReadError::Io { path, source }));
                }
            };
            self.records_read += 1;
            let line = record.line;
            match record.bytes.and_then(|bytes| self.parser.parse(bytes)) {
                Ok(Some(listen)) => return Some(Ok(listen)),
                Ok(None) => self.skipped_records += 1,
                Err(problem) => {
                    let path = self.path.clone();
                    let error = LineError {
                        path,
                        line,
                        problem,
                    };
                    return Some(Err(ReadError::Line(error)));
                }
            }
        }
        None
    }
}
