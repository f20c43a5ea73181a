//! Reading a log one line at a time in bounded memory. A line longer than the cap is reported
//! and skipped, not buffered, so a file without newlines cannot exhaust memory.

use std::io::{self, BufRead};

use super::LineProblem;

/// The longest line (or JSON array element) kept in memory; a longer one is reported as
/// [`LineProblem::TooLong`] and skipped. Real records are under a few kilobytes.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// One record handed to a format's parser: where it starts and its bytes (or why it has none).
pub(crate) struct Record<'a> {
    /// 1-based line number of the record's first byte.
    pub line: u64,
    pub bytes: Result<&'a [u8], LineProblem>,
}

/// Splits a byte stream into lines (`\n`, with a trailing `\r` removed), counting lines and
/// bytes consumed. A UTF-8 byte-order mark at the start of the stream is dropped.
pub(crate) struct LineReader<R> {
    inner: R,
    line: Vec<u8>,
    line_no: u64,
    bytes_read: u64,
    max_bytes: usize,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max_bytes: usize) -> Self {
        LineReader {
            inner,
            line: Vec::new(),
            line_no: 0,
            bytes_read: 0,
            max_bytes,
        }
    }

    /// Bytes consumed from the stream so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// The next line, `None` at the end of the stream.
    pub fn next_line(&mut self) -> io::Result<Option<Record<'_>>> {
        self.line.clear();
        let mut started = false;
        let mut too_long = false;
        loop {
            let available = match self.inner.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(error),
            };
            if available.is_empty() {
                if !started {
                    return Ok(None);
                }
                break;
            }
            started = true;
            let newline = memchr::memchr(b'\n', available);
            let chunk = &available[..newline.unwrap_or(available.len())];
            if !too_long {
                if self.line.len() + chunk.len() > self.max_bytes {
                    too_long = true;
                    self.line.clear();
                } else {
                    self.line.extend_from_slice(chunk);
                }
            }
            let used = newline.map_or(available.len(), |at| at + 1);
            self.inner.consume(used);
            self.bytes_read += used as u64;
            if newline.is_some() {
                break;
            }
        }
        self.line_no += 1;
        let line = self.line_no;
        if too_long {
            return Ok(Some(Record {
                line,
                bytes: Err(LineProblem::TooLong {
                    max_bytes: self.max_bytes,
                }),
            }));
        }
        let mut bytes = self.line.as_slice();
        if line == 1 {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        Ok(Some(Record {
            line,
            bytes: Ok(bytes),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every line of `input` as text (or its problem), read through a tiny buffer so lines
    /// straddle buffer refills.
    fn read_all(input: &[u8], max_bytes: usize) -> Vec<(u64, Result<String, LineProblem>)> {
        let mut reader = LineReader::new(io::BufReader::with_capacity(3, input), max_bytes);
        let mut lines = Vec::new();
        while let Some(record) = reader.next_line().unwrap() {
            let text = record
                .bytes
                .map(|bytes| String::from_utf8_lossy(bytes).into_owned());
            lines.push((record.line, text));
        }
        assert_eq!(reader.bytes_read(), input.len() as u64);
        lines
    }

    #[test]
    fn splits_lines_like_the_standard_library() {
        let input = "\u{feff}first\r\nsecond\n\nthird without newline";
        let expected: Vec<_> = input
            .trim_start_matches('\u{feff}')
            .lines()
            .enumerate()
            .map(|(i, line)| (i as u64 + 1, Ok(line.to_owned())))
            .collect();
        assert_eq!(read_all(input.as_bytes(), 100), expected);
    }

    #[test]
    fn empty_input_has_no_lines() {
        assert!(read_all(b"", 100).is_empty());
        assert_eq!(read_all(b"\n", 100), vec![(1, Ok(String::new()))]);
    }

    #[test]
    fn overlong_lines_are_reported_and_skipped() {
        let input = format!("short\n{}\nafter\n{}", "x".repeat(50), "y".repeat(11));
        let lines = read_all(input.as_bytes(), 10);
        let too_long = Err(LineProblem::TooLong { max_bytes: 10 });
        assert_eq!(
            lines,
            vec![
                (1, Ok("short".to_owned())),
                (2, too_long.clone()),
                (3, Ok("after".to_owned())),
                (4, too_long),
            ]
        );
    }

    #[test]
    fn a_line_of_exactly_the_cap_is_kept() {
        let lines = read_all(b"0123456789\n", 10);
        assert_eq!(lines, vec![(1, Ok("0123456789".to_owned()))]);
    }
}
