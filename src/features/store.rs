//! The feature store: every track's log-mel excerpt in one float16 NumPy array, plus a journal
//! of which rows are done or failed.
//!
//! `mel.npy` is a plain `.npy` file of dtype `<f2` and shape `[rows, 646, 128]`, so
//! `numpy.load(path, mmap_mode='r')` opens it without reading it. Its header has a fixed size,
//! so the array grows in place as tracks are added. Rows are written in place (`pwrite`) and
//! then recorded in `journal.tsv` (`ROW<TAB>ok`, `ROW<TAB>ok<TAB>WARNING` when the audio decoded
//! with a problem, or `ROW<TAB>failed<TAB>REASON`; the last line for a row wins): a crash or
//! `kill -9` loses at most the rows not yet journaled, which the next run recomputes, and never
//! leaves a row marked done that was not written.
//!
//! A shard store (`--shard I/N`) holds rows `I-1, I-1+N, I-1+2N, …` of the full array densely.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use half::f16;

use crate::dsp::mel::{EXCERPT_FRAMES, N_MELS};
use crate::track_issue::TrackIssue;

/// Values in one row: a 646 × 128 excerpt.
pub const ROW_VALUES: usize = EXCERPT_FRAMES * N_MELS;
const ROW_BYTES: u64 = (ROW_VALUES * 2) as u64;
/// The `.npy` header, padded to a fixed size so the shape can be rewritten in place.
const HEADER_BYTES: u64 = 128;
const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";

/// The array file's name inside a store folder.
pub const ARRAY_FILE: &str = "mel.npy";
/// The journal's name inside a store folder.
pub const JOURNAL_FILE: &str = "journal.tsv";

/// What went wrong with a feature store; names the file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a deepcuts feature array ({reason})")]
    Format { path: PathBuf, reason: String },
    #[error("{path}: row {row} is outside this store")]
    Row { path: PathBuf, row: usize },
    #[error("{path}: row {row} has not been computed")]
    Missing { path: PathBuf, row: usize },
}

/// The state of one track's row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowStatus {
    Pending,
    Done,
    Failed(String),
}

/// Which rows of the full array a store holds: `first, first + step, …`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 0-based shard number (`I - 1` of `--shard I/N`).
    pub index: usize,
    /// Number of shards `N`.
    pub count: usize,
}

impl Shard {
    /// The whole array.
    pub const ALL: Shard = Shard { index: 0, count: 1 };

    /// Whether `row` of the full array belongs to this shard.
    pub fn contains(&self, row: usize) -> bool {
        row % self.count == self.index
    }

    /// Rows of this shard out of `total` rows.
    pub fn len(&self, total: usize) -> usize {
        (total + self.count - 1 - self.index) / self.count
    }

    /// Where full-array `row` sits in this shard's array.
    fn position(&self, row: usize) -> usize {
        row / self.count
    }
}

/// An open feature store (a folder holding `mel.npy` and `journal.tsv`).
pub struct FeatureStore {
    array_path: PathBuf,
    journal_path: PathBuf,
    array: File,
    journal: File,
    shard: Shard,
    /// Rows of the full array this store covers (the project's track count when opened).
    total_rows: usize,
    status: HashMap<usize, RowStatus>,
    /// What went wrong decoding rows that are done nonetheless.
    warnings: HashMap<usize, String>,
}

impl FeatureStore {
    /// Opens the store in `dir`, creating it when missing, sized for `total_rows` tracks of the
    /// full array (a store only grows).
    pub fn open(dir: &Path, total_rows: usize, shard: Shard) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| io_err(dir, source))?;
        let array_path = dir.join(ARRAY_FILE);
        let journal_path = dir.join(JOURNAL_FILE);
        let array = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&array_path)
            .map_err(|source| io_err(&array_path, source))?;
        let existing_rows = read_rows(&array, &array_path)?;
        let rows = shard.len(total_rows).max(existing_rows.unwrap_or(0));
        if existing_rows != Some(rows) {
            write_header(&array, rows).map_err(|source| io_err(&array_path, source))?;
            array
                .set_len(HEADER_BYTES + rows as u64 * ROW_BYTES)
                .map_err(|source| io_err(&array_path, source))?;
        }
        let (status, warnings) = read_journal(&journal_path)?;
        let journal = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(|source| io_err(&journal_path, source))?;
        Ok(Self {
            array_path,
            journal_path,
            array,
            journal,
            shard,
            total_rows: total_rows.max(rows * shard.count),
            status,
            warnings,
        })
    }

    /// The rows of the full array this store is responsible for.
    pub fn shard(&self) -> Shard {
        self.shard
    }

    /// The state of full-array `row`.
    pub fn status(&self, row: usize) -> RowStatus {
        self.status.get(&row).cloned().unwrap_or(RowStatus::Pending)
    }

    /// Rows of this store that are done / failed / pending.
    pub fn counts(&self) -> (usize, usize, usize) {
        let (mut done, mut failed) = (0, 0);
        for (&row, status) in &self.status {
            if !self.shard.contains(row) || row >= self.total_rows {
                continue;
            }
            match status {
                RowStatus::Done => done += 1,
                RowStatus::Failed(_) => failed += 1,
                RowStatus::Pending => {}
            }
        }
        let total = self.shard.len(self.total_rows);
        (done, failed, total.saturating_sub(done + failed))
    }

    /// Failed rows with their reasons, in row order.
    pub fn failures(&self) -> Vec<TrackIssue> {
        let mut failed: Vec<_> = self
            .status
            .iter()
            .filter_map(|(&row, s)| match s {
                RowStatus::Failed(reason) => Some(TrackIssue::new(row, reason.as_str())),
                _ => None,
            })
            .collect();
        failed.sort_by_key(|issue| issue.track);
        failed
    }

    /// Done rows whose audio decoded with a problem (truncated, packets skipped, …), with the
    /// warning, in row order.
    pub fn warnings(&self) -> Vec<TrackIssue> {
        let mut warned: Vec<_> = self
            .warnings
            .iter()
            .map(|(&row, warning)| TrackIssue::new(row, warning.as_str()))
            .collect();
        warned.sort_by_key(|issue| issue.track);
        warned
    }

    fn offset(&self, row: usize) -> Result<u64, StoreError> {
        if !self.shard.contains(row) || row >= self.total_rows {
            return Err(StoreError::Row {
                path: self.array_path.clone(),
                row,
            });
        }
        Ok(HEADER_BYTES + self.shard.position(row) as u64 * ROW_BYTES)
    }

    /// Writes full-array `row` (`mel`: [646 × 128] values, time-major) and journals it done.
    pub fn write_row(&mut self, row: usize, mel: &[f32]) -> Result<(), StoreError> {
        self.write_row_warned(row, mel, None)
    }

    /// Writes full-array `row` like [`Self::write_row`], journaling the decoder's `warning`
    /// with it when there is one.
    pub fn write_row_warned(
        &mut self,
        row: usize,
        mel: &[f32],
        warning: Option<&str>,
    ) -> Result<(), StoreError> {
        debug_assert_eq!(mel.len(), ROW_VALUES);
        let offset = self.offset(row)?;
        let mut bytes = Vec::with_capacity(ROW_BYTES as usize);
        for &v in mel {
            bytes.extend_from_slice(&f16::from_f32(v).to_le_bytes());
        }
        self.array
            .write_all_at(&bytes, offset)
            .map_err(|source| io_err(&self.array_path, source))?;
        self.journal_done(row, warning)
    }

    /// Journals `row` done, with its warning if any.
    fn journal_done(&mut self, row: usize, warning: Option<&str>) -> Result<(), StoreError> {
        match warning {
            Some(warning) => {
                let warning = one_line(warning);
                self.journal_line(row, &format!("ok\t{warning}"))?;
                self.warnings.insert(row, warning);
            }
            None => {
                self.journal_line(row, "ok")?;
                self.warnings.remove(&row);
            }
        }
        self.status.insert(row, RowStatus::Done);
        Ok(())
    }

    /// Journals full-array `row` as failed with `reason`.
    pub fn fail_row(&mut self, row: usize, reason: &str) -> Result<(), StoreError> {
        let reason = one_line(reason);
        self.journal_line(row, &format!("failed\t{reason}"))?;
        self.status.insert(row, RowStatus::Failed(reason));
        self.warnings.remove(&row);
        Ok(())
    }

    fn journal_line(&mut self, row: usize, what: &str) -> Result<(), StoreError> {
        // One write call per line: a kill can cut only the last line, which reading ignores.
        self.journal
            .write_all(format!("{row}\t{what}\n").as_bytes())
            .map_err(|source| io_err(&self.journal_path, source))
    }

    /// Reads full-array `row` into `out` ([646 × 128] values, time-major).
    pub fn read_row(&self, row: usize, out: &mut [f32]) -> Result<(), StoreError> {
        if self.status(row) != RowStatus::Done {
            return Err(StoreError::Missing {
                path: self.array_path.clone(),
                row,
            });
        }
        let mut bytes = vec![0u8; ROW_BYTES as usize];
        self.read_raw(row, &mut bytes)?;
        for (v, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            *v = f16::from_le_bytes([pair[0], pair[1]]).to_f32();
        }
        Ok(())
    }

    fn read_raw(&self, row: usize, bytes: &mut [u8]) -> Result<(), StoreError> {
        let offset = self.offset(row)?;
        self.array
            .read_exact_at(bytes, offset)
            .map_err(|source| io_err(&self.array_path, source))
    }

    /// Copies every done row of `shard` into this (full) store; returns how many.
    pub fn merge(&mut self, shard: &FeatureStore) -> Result<usize, StoreError> {
        let mut bytes = vec![0u8; ROW_BYTES as usize];
        let mut rows: Vec<_> = shard.status.iter().collect();
        rows.sort_by_key(|(row, _)| **row);
        let mut merged = 0;
        for (&row, status) in rows {
            match status {
                RowStatus::Done => {
                    shard.read_raw(row, &mut bytes)?;
                    let offset = self.offset(row)?;
                    self.array
                        .write_all_at(&bytes, offset)
                        .map_err(|source| io_err(&self.array_path, source))?;
                    self.journal_done(row, shard.warnings.get(&row).map(String::as_str))?;
                    merged += 1;
                }
                RowStatus::Failed(reason) => self.fail_row(row, reason)?,
                RowStatus::Pending => {}
            }
        }
        Ok(merged)
    }
}

/// `text` fit for one journal field: tabs and line breaks become spaces.
fn one_line(text: &str) -> String {
    text.replace(['\t', '\n', '\r'], " ")
}

fn io_err(path: &Path, source: std::io::Error) -> StoreError {
    StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The `.npy` header for `rows` rows, padded to [`HEADER_BYTES`].
fn header(rows: usize) -> Vec<u8> {
    let dict = format!(
        "{{'descr': '<f2', 'fortran_order': False, 'shape': ({rows}, {EXCERPT_FRAMES}, {N_MELS}), }}"
    );
    let mut bytes = MAGIC.to_vec();
    let text_len = HEADER_BYTES as usize - MAGIC.len() - 2;
    bytes.extend_from_slice(&(text_len as u16).to_le_bytes());
    bytes.extend_from_slice(dict.as_bytes());
    bytes.resize(HEADER_BYTES as usize - 1, b' ');
    bytes.push(b'\n');
    bytes
}

fn write_header(file: &File, rows: usize) -> std::io::Result<()> {
    file.write_all_at(&header(rows), 0)
}

/// The row count of an existing array file, or None for a new (empty) file.
fn read_rows(file: &File, path: &Path) -> Result<Option<usize>, StoreError> {
    let len = file
        .metadata()
        .map_err(|source| io_err(path, source))?
        .len();
    if len == 0 {
        return Ok(None);
    }
    let format_err = |reason: &str| StoreError::Format {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mut head = vec![0u8; HEADER_BYTES as usize];
    file.read_exact_at(&mut head, 0)
        .map_err(|_| format_err("shorter than its header"))?;
    if !head.starts_with(MAGIC) {
        return Err(format_err("not a version 1.0 .npy file"));
    }
    let text = std::str::from_utf8(&head[MAGIC.len() + 2..])
        .map_err(|_| format_err("header is not text"))?;
    let expected_tail = format!(", {EXCERPT_FRAMES}, {N_MELS}), }}");
    let rows = text
        .strip_prefix("{'descr': '<f2', 'fortran_order': False, 'shape': (")
        .and_then(|rest| rest.split_once(&expected_tail))
        .and_then(|(rows, _)| rows.parse::<usize>().ok())
        .ok_or_else(|| format_err("header is not float16 [rows, 646, 128]"))?;
    if len < HEADER_BYTES + rows as u64 * ROW_BYTES {
        return Err(format_err("shorter than its shape says"));
    }
    Ok(Some(rows))
}

/// Rows' states and done rows' warnings, as a journal records them.
type Journal = (HashMap<usize, RowStatus>, HashMap<usize, String>);

/// Replays the journal; the last line for a row wins, an incomplete last line is ignored.
fn read_journal(path: &Path) -> Result<Journal, StoreError> {
    let mut status = HashMap::new();
    let mut warnings = HashMap::new();
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((status, warnings)),
        Err(source) => return Err(io_err(path, source)),
    };
    let mut reader = BufReader::new(file);
    let mut line = String::new();
    loop {
        line.clear();
        let read = reader
            .read_line(&mut line)
            .map_err(|source| io_err(path, source))?;
        if read == 0 || !line.ends_with('\n') {
            break;
        }
        let mut fields = line.trim_end_matches('\n').splitn(3, '\t');
        let row = fields.next().and_then(|r| r.parse::<usize>().ok());
        match (row, fields.next()) {
            (Some(row), Some("ok")) => {
                status.insert(row, RowStatus::Done);
                match fields.next() {
                    Some(warning) => warnings.insert(row, warning.to_owned()),
                    None => warnings.remove(&row),
                };
            }
            (Some(row), Some("failed")) => {
                let reason = fields.next().unwrap_or("").to_owned();
                status.insert(row, RowStatus::Failed(reason));
                warnings.remove(&row);
            }
            _ => {}
        }
    }
    Ok((status, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_of(value: f32) -> Vec<f32> {
        (0..ROW_VALUES).map(|i| value + (i % 7) as f32).collect()
    }

    #[test]
    fn rows_round_trip_through_float16_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FeatureStore::open(dir.path(), 3, Shard::ALL).unwrap();
        store.write_row(2, &row_of(-40.0)).unwrap();
        store.fail_row(0, "bad.mp3: not audio").unwrap();
        drop(store);
        let store = FeatureStore::open(dir.path(), 5, Shard::ALL).unwrap();
        assert_eq!(store.counts(), (1, 1, 3));
        let mut out = vec![0.0; ROW_VALUES];
        store.read_row(2, &mut out).unwrap();
        // -40 + k for k < 7 are exact in float16.
        assert_eq!(out, row_of(-40.0));
        assert!(matches!(
            store.read_row(1, &mut out),
            Err(StoreError::Missing { row: 1, .. })
        ));
        assert_eq!(store.failures(), [TrackIssue::new(0, "bad.mp3: not audio")]);
    }

    #[test]
    fn warnings_are_journaled_with_their_rows_and_merged_from_shards() {
        let dir = tempfile::tempdir().unwrap();
        let shard = Shard { index: 0, count: 2 };
        let mut part = FeatureStore::open(&dir.path().join("shard"), 4, shard).unwrap();
        part.write_row_warned(0, &row_of(0.0), Some("cut.ogg: stream ends\tearly"))
            .unwrap();
        part.write_row_warned(2, &row_of(2.0), Some("x.mp3: skipped 1 packet"))
            .unwrap();
        // Computed again without a problem (the user replaced the file): the warning goes.
        part.write_row(2, &row_of(2.0)).unwrap();
        let journal = std::fs::read_to_string(dir.path().join("shard").join(JOURNAL_FILE));
        assert_eq!(
            journal.unwrap(),
            "0\tok\tcut.ogg: stream ends early\n2\tok\tx.mp3: skipped 1 packet\n2\tok\n"
        );
        drop(part);
        let part = FeatureStore::open(&dir.path().join("shard"), 4, shard).unwrap();
        let expected = [TrackIssue::new(0, "cut.ogg: stream ends early")];
        assert_eq!(part.warnings(), expected);
        assert_eq!(part.counts(), (2, 0, 0));
        let mut full = FeatureStore::open(&dir.path().join("full"), 4, Shard::ALL).unwrap();
        full.merge(&part).unwrap();
        assert_eq!(full.warnings(), expected);
        assert_eq!(full.status(0), RowStatus::Done);
    }

    #[test]
    fn the_array_follows_the_npy_format_specification() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = FeatureStore::open(dir.path(), 2, Shard::ALL).unwrap();
        store.write_row(1, &row_of(1.5)).unwrap();
        let bytes = std::fs::read(dir.path().join(ARRAY_FILE)).unwrap();
        // Magic, version 1.0, little-endian header length, then the dict padded with spaces
        // and a newline so the data starts at a multiple of 64 bytes (NumPy's NEP 1).
        assert_eq!(&bytes[..8], b"\x93NUMPY\x01\x00");
        let header_len = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
        assert_eq!((10 + header_len) % 64, 0);
        let dict = std::str::from_utf8(&bytes[10..10 + header_len]).unwrap();
        assert_eq!(
            dict.trim_end(),
            "{'descr': '<f2', 'fortran_order': False, 'shape': (2, 646, 128), }"
        );
        assert!(dict.ends_with('\n'));
        assert_eq!(bytes.len(), 10 + header_len + 2 * 646 * 128 * 2);
        // Row 1, value 3 is 1.5 + 3 = 4.5 = 0x4480 in IEEE half precision.
        let at = 10 + header_len + (646 * 128 + 3) * 2;
        assert_eq!(&bytes[at..at + 2], &[0x80, 0x44]);
    }

    #[test]
    fn a_cut_journal_line_is_ignored_and_the_last_line_wins() {
        let dir = tempfile::tempdir().unwrap();
        drop(FeatureStore::open(dir.path(), 4, Shard::ALL).unwrap());
        std::fs::write(
            dir.path().join(JOURNAL_FILE),
            "0\tfailed\tx\n0\tok\n1\tok\n3\to",
        )
        .unwrap();
        let store = FeatureStore::open(dir.path(), 4, Shard::ALL).unwrap();
        assert_eq!(store.status(0), RowStatus::Done);
        assert_eq!(store.status(3), RowStatus::Pending);
    }

    #[test]
    fn shards_hold_every_nth_row_and_merge_into_the_full_array() {
        let dir = tempfile::tempdir().unwrap();
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        assert_eq!(
            shards.iter().map(|s| s.len(7)).collect::<Vec<_>>(),
            [3, 2, 2]
        );
        let mut full = FeatureStore::open(&dir.path().join("full"), 7, Shard::ALL).unwrap();
        for shard in &shards {
            let path = dir.path().join(format!("shard{}", shard.index));
            let mut store = FeatureStore::open(&path, 7, *shard).unwrap();
            for row in (0..7).filter(|r| shard.contains(*r)) {
                store.write_row(row, &row_of(row as f32)).unwrap();
            }
            assert!(store
                .write_row((shard.index + 1) % 3, &row_of(0.0))
                .is_err());
            full.merge(&store).unwrap();
        }
        let mut out = vec![0.0; ROW_VALUES];
        for row in 0..7 {
            full.read_row(row, &mut out).unwrap();
            assert_eq!(out, row_of(row as f32), "row {row}");
        }
    }

    #[test]
    fn a_foreign_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(ARRAY_FILE), b"hello").unwrap();
        let err = FeatureStore::open(dir.path(), 1, Shard::ALL).err().unwrap();
        assert!(
            err.to_string()
                .contains("mel.npy: not a deepcuts feature array"),
            "{err}"
        );
    }
}
