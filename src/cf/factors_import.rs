//! Reading item factors computed elsewhere — at internet scale CF comes from an existing engine
//! (DESIGN.md): NumPy `.npy` ([items × F], float32 or float64), CSV/TSV (`id, f1, f2, …`, with
//! or without a header line) and Parquet as Spark MLlib's ALS writes `itemFactors` (columns
//! `id` int and `features` array<float>, one file or a folder of `part-*.parquet` files).
//!
//! Every reader checks what it reads (shape, ragged rows, NaN, duplicate ids) and answers bad
//! bytes with an error naming the file and the line or row, never a panic.

use std::fmt;
use std::fs::File;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use parquet::basic::Type as PhysicalType;
use parquet::column::reader::ColumnReader;
use parquet::file::reader::{FileReader, RowGroupReader};
use parquet::file::serialized_reader::SerializedFileReader;

/// Records per read from a Parquet column: bounds the memory a lying page header can claim.
const PARQUET_BATCH_RECORDS: usize = 4096;

/// Reads every record of a column chunk, collecting its definition and repetition levels.
fn read_column<T: parquet::data_type::DataType>(
    mut reader: parquet::column::reader::ColumnReaderImpl<T>,
    def_levels: &mut Vec<i16>,
    rep_levels: &mut Vec<i16>,
) -> parquet::errors::Result<Vec<T::T>> {
    let mut values = Vec::new();
    while reader
        .read_records(
            PARQUET_BATCH_RECORDS,
            Some(def_levels),
            Some(rep_levels),
            &mut values,
        )?
        .0
        > 0
    {}
    Ok(values)
}

/// Factors read from a file: row r of `factors` belongs to `ids[r]` (None for `.npy`, whose
/// rows are in the project's track order).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFactors {
    pub ids: Option<Vec<String>>,
    /// [items, F]
    pub factors: Array2<f32>,
}

/// Where in a file a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Location {
    File,
    /// 1-based text line.
    Line(u64),
    /// 0-based row of a Parquet file.
    Row(u64),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => Ok(()),
            Location::Line(line) => write!(f, ": line {line}"),
            Location::Row(row) => write!(f, ": row {row}"),
        }
    }
}

/// Why a factor file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}{at}: {message}")]
    Invalid {
        path: PathBuf,
        at: Location,
        message: String,
    },
}

fn invalid(path: &Path, at: Location, message: impl Into<String>) -> ImportError {
    ImportError::Invalid {
        path: path.to_owned(),
        at,
        message: message.into(),
    }
}

/// Reads factors, choosing the reader by extension: `.npy`; `.csv`, `.tsv`, `.txt`;
/// `.parquet` or a folder (Spark's `itemFactors/` of part files).
pub fn read_factors(path: &Path) -> Result<ImportedFactors, ImportError> {
    if path.is_dir() {
        return read_parquet(path);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("npy") => Ok(ImportedFactors {
            ids: None,
            factors: read_npy(path)?,
        }),
        Some("csv" | "tsv" | "txt") => read_csv(path),
        Some("parquet") => read_parquet(path),
        _ => Err(invalid(
            path,
            Location::File,
            "unknown factor file type (expected .npy, .csv, .tsv, .txt, .parquet or a folder of Parquet parts)",
        )),
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, ImportError> {
    std::fs::read(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// .npy

/// Reads a 2-D `.npy` array of float32 or float64 (converted) as [items, F].
pub fn read_npy(path: &Path) -> Result<Array2<f32>, ImportError> {
    let factors = crate::io::npy::read_as_f32(path)
        .map_err(|e| invalid(path, Location::File, e.to_string()))?;
    check_factor_matrix(path, &factors)?;
    Ok(factors)
}

/// Refuses empty matrices and values that are not finite.
fn check_factor_matrix(path: &Path, factors: &Array2<f32>) -> Result<(), ImportError> {
    if factors.nrows() == 0 || factors.ncols() == 0 {
        return Err(invalid(
            path,
            Location::File,
            format!(
                "no factors (shape [{}, {}])",
                factors.nrows(),
                factors.ncols()
            ),
        ));
    }
    if let Some(row) = factors
        .rows()
        .into_iter()
        .position(|r| r.iter().any(|v| !v.is_finite()))
    {
        return Err(invalid(
            path,
            Location::File,
            format!("row {row} has a value that is not finite"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// CSV / TSV

/// Reads `id, f1, …, fF` rows (comma-separated, or tab-separated when the first line has a
/// tab). The first line is a header when its factor fields are not all numbers.
pub fn read_csv(path: &Path) -> Result<ImportedFactors, ImportError> {
    let bytes = read_bytes(path)?;
    let first_line = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let delimiter = if first_line.contains(&b'\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .trim(csv::Trim::All)
        .from_reader(&bytes[..]);
    let mut ids = Vec::new();
    let mut values = Vec::new();
    let mut factors = None;
    let mut record = csv::StringRecord::new();
    let mut first = true;
    let mut seen = std::collections::HashMap::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let line = e.position().map_or(line, |p| p.line());
                return Err(invalid(path, Location::Line(line), e.to_string()));
            }
        }
        let line = record.position().map_or(line, |p| p.line());
        let at = Location::Line(line);
        if record.len() == 1 && record.get(0).is_some_and(str::is_empty) {
            continue; // a blank line
        }
        let parsed: Result<Vec<f32>, _> = record.iter().skip(1).map(str::parse::<f32>).collect();
        let is_first = std::mem::take(&mut first);
        let row = match parsed {
            Ok(row) => row,
            Err(_) if is_first => continue, // a header line
            Err(_) => {
                let field = record
                    .iter()
                    .skip(1)
                    .position(|f| f.parse::<f32>().is_err())
                    .map_or(0, |k| k + 2);
                return Err(invalid(path, at, format!("field {field} is not a number")));
            }
        };
        if row.is_empty() {
            return Err(invalid(path, at, "an id without factors"));
        }
        match factors {
            None => factors = Some(row.len()),
            Some(f) if f != row.len() => {
                return Err(invalid(
                    path,
                    at,
                    format!("{} factors, but earlier lines have {f}", row.len()),
                ))
            }
            Some(_) => {}
        }
        if row.iter().any(|v| !v.is_finite()) {
            return Err(invalid(path, at, "a factor is not finite"));
        }
        let id = record.get(0).unwrap_or_default().to_owned();
        if let Some(previous) = seen.insert(id.clone(), line) {
            return Err(invalid(
                path,
                at,
                format!("id {id:?} already on line {previous}"),
            ));
        }
        ids.push(id);
        values.extend(row);
    }
    let factors = factors.ok_or_else(|| invalid(path, Location::File, "no factor rows"))?;
    let factors = Array2::from_shape_vec((ids.len(), factors), values)
        .map_err(|e| invalid(path, Location::File, e.to_string()))?;
    Ok(ImportedFactors {
        ids: Some(ids),
        factors,
    })
}

// ---------------------------------------------------------------------------------------------
// Parquet (Spark MLlib ALS `itemFactors`)

/// Reads Spark ALS factors: one Parquet file, or a folder whose `*.parquet` files (in name
/// order) are the parts of one table. Columns: `id` (int32 or int64) and `features`, a list of
/// float (or double); rows may come in any id order.
pub fn read_parquet(path: &Path) -> Result<ImportedFactors, ImportError> {
    let files = if path.is_dir() {
        let mut parts: Vec<PathBuf> = std::fs::read_dir(path)
            .map_err(|source| ImportError::Io {
                path: path.to_owned(),
                source,
            })?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        parts.sort();
        if parts.is_empty() {
            return Err(invalid(
                path,
                Location::File,
                "folder has no .parquet files",
            ));
        }
        parts
    } else {
        vec![path.to_owned()]
    };
    let mut table = FactorTable::default();
    for file in &files {
        // parquet 60 still panics on some corrupt pages (e.g. a dictionary-encoded page with no
        // dictionary): contain that as an error about this file. The partial table is dropped.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_parquet_file(file, &mut table)
        }))
        .unwrap_or_else(|panic| {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Err(invalid(
                file,
                Location::File,
                format!("corrupt Parquet data ({reason})"),
            ))
        })?;
    }
    let factors = table
        .factors
        .ok_or_else(|| invalid(path, Location::File, "no factor rows"))?;
    let rows = table.ids.len();
    let factors = Array2::from_shape_vec((rows, factors), table.values)
        .map_err(|e| invalid(path, Location::File, e.to_string()))?;
    Ok(ImportedFactors {
        ids: Some(table.ids.iter().map(i64::to_string).collect()),
        factors,
    })
}

#[derive(Default)]
struct FactorTable {
    ids: Vec<i64>,
    values: Vec<f32>,
    factors: Option<usize>,
    seen: std::collections::HashSet<i64>,
}

fn read_parquet_file(path: &Path, table: &mut FactorTable) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Io {
        path: path.to_owned(),
        source,
    })?;
    let whole = |message: String| invalid(path, Location::File, message);
    let reader = SerializedFileReader::new(file)
        .map_err(|e| whole(format!("not a readable Parquet file: {e}")))?;
    check_chunk_ranges(path, reader.metadata())?;
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let find = |name: &str| {
        schema
            .columns()
            .iter()
            .position(|c| c.path().parts().first().is_some_and(|p| p == name))
    };
    let (Some(id_column), Some(features_column)) = (find("id"), find("features")) else {
        return Err(whole(
            "expected columns `id` and `features` (Spark ALS itemFactors)".to_owned(),
        ));
    };
    let id_descr = schema.column(id_column);
    let features_descr = schema.column(features_column);
    if id_descr.max_rep_level() != 0
        || !matches!(
            id_descr.physical_type(),
            PhysicalType::INT32 | PhysicalType::INT64
        )
    {
        return Err(whole("column `id` is not an integer".to_owned()));
    }
    if features_descr.max_rep_level() != 1
        || !matches!(
            features_descr.physical_type(),
            PhysicalType::FLOAT | PhysicalType::DOUBLE
        )
    {
        return Err(whole(
            "column `features` is not a list of floats".to_owned(),
        ));
    }
    let first_row = table.ids.len() as u64;
    for g in 0..reader.num_row_groups() {
        let group = reader
            .get_row_group(g)
            .map_err(|e| whole(format!("row group {g}: {e}")))?;
        let group_first_row = table.ids.len() as u64 - first_row;
        let ids = read_ids(path, &*group, id_column, group_first_row)?;
        let lists = read_lists(path, &*group, features_column, group_first_row)?;
        if ids.len() != lists.len() {
            return Err(whole(format!(
                "row group {g}: {} ids but {} feature lists",
                ids.len(),
                lists.len()
            )));
        }
        for (id, list) in ids.into_iter().zip(lists) {
            let at = Location::Row(table.ids.len() as u64 - first_row);
            match table.factors {
                None => table.factors = Some(list.len()),
                Some(f) if f != list.len() => {
                    return Err(invalid(
                        path,
                        at,
                        format!("{} features, but earlier rows have {f}", list.len()),
                    ))
                }
                Some(_) => {}
            }
            if list.is_empty() {
                return Err(invalid(path, at, "empty features"));
            }
            if list.iter().any(|v| !v.is_finite()) {
                return Err(invalid(path, at, "a feature is not finite"));
            }
            if !table.seen.insert(id) {
                return Err(invalid(path, at, format!("id {id} appears twice")));
            }
            table.ids.push(id);
            table.values.extend(list);
        }
    }
    Ok(())
}

/// Checks every column chunk's byte range against the file before reading: the parquet crate
/// asserts on negative offsets, and a garbled footer can hold any.
fn check_chunk_ranges(
    path: &Path,
    metadata: &parquet::file::metadata::ParquetMetaData,
) -> Result<(), ImportError> {
    let file_len = std::fs::metadata(path)
        .map_err(|source| ImportError::Io {
            path: path.to_owned(),
            source,
        })?
        .len();
    for (g, group) in metadata.row_groups().iter().enumerate() {
        for column in group.columns() {
            let start = column
                .dictionary_page_offset()
                .unwrap_or_else(|| column.data_page_offset());
            let len = column.compressed_size();
            let inside = u64::try_from(start)
                .ok()
                .zip(u64::try_from(len).ok())
                .and_then(|(start, len)| start.checked_add(len))
                .is_some_and(|end| end <= file_len);
            if !inside || group.num_rows() < 0 {
                return Err(invalid(
                    path,
                    Location::File,
                    format!("row group {g}: column chunk outside the file (corrupt footer)"),
                ));
            }
        }
    }
    Ok(())
}

/// The `id` column of one row group, widened to i64. `first_row` numbers rows in errors.
fn read_ids(
    path: &Path,
    group: &dyn RowGroupReader,
    column: usize,
    first_row: u64,
) -> Result<Vec<i64>, ImportError> {
    let reader = group
        .get_column_reader(column)
        .map_err(|e| invalid(path, Location::File, format!("column `id`: {e}")))?;
    let bad = |e: parquet::errors::ParquetError| {
        invalid(path, Location::File, format!("column `id`: {e}"))
    };
    let mut def_levels = Vec::new();
    let mut rep_levels = Vec::new();
    let ids: Vec<i64> = match reader {
        ColumnReader::Int32ColumnReader(r) => read_column(r, &mut def_levels, &mut rep_levels)
            .map_err(bad)?
            .into_iter()
            .map(i64::from)
            .collect(),
        ColumnReader::Int64ColumnReader(r) => {
            read_column(r, &mut def_levels, &mut rep_levels).map_err(bad)?
        }
        _ => {
            return Err(invalid(
                path,
                Location::File,
                "column `id` is not an integer",
            ))
        }
    };
    // A nullable id column has definition levels; a null id leaves a level below the max.
    let max_def = group
        .metadata()
        .schema_descr()
        .column(column)
        .max_def_level();
    if max_def > 0 {
        if let Some(row) = def_levels.iter().position(|&d| d < max_def) {
            return Err(invalid(
                path,
                Location::Row(first_row + row as u64),
                "id is null",
            ));
        }
    }
    Ok(ids)
}

/// The `features` column of one row group: one list per row, rebuilt from the repetition
/// levels (0 starts a row). Null lists, null elements and empty lists are refused.
fn read_lists(
    path: &Path,
    group: &dyn RowGroupReader,
    column: usize,
    first_row: u64,
) -> Result<Vec<Vec<f32>>, ImportError> {
    let reader = group
        .get_column_reader(column)
        .map_err(|e| invalid(path, Location::File, format!("column `features`: {e}")))?;
    let bad = |e: parquet::errors::ParquetError| {
        invalid(path, Location::File, format!("column `features`: {e}"))
    };
    let mut def_levels = Vec::new();
    let mut rep_levels = Vec::new();
    let values: Vec<f32> = match reader {
        ColumnReader::FloatColumnReader(r) => {
            read_column(r, &mut def_levels, &mut rep_levels).map_err(bad)?
        }
        ColumnReader::DoubleColumnReader(r) => read_column(r, &mut def_levels, &mut rep_levels)
            .map_err(bad)?
            .into_iter()
            .map(|v| v as f32)
            .collect(),
        _ => {
            return Err(invalid(
                path,
                Location::File,
                "column `features` is not a list of floats",
            ))
        }
    };
    let max_def = group
        .metadata()
        .schema_descr()
        .column(column)
        .max_def_level();
    if def_levels.len() != rep_levels.len() {
        return Err(invalid(
            path,
            Location::File,
            "column `features`: repetition and definition levels disagree",
        ));
    }
    let mut lists: Vec<Vec<f32>> = Vec::new();
    let mut next_value = values.iter();
    for (&def, &rep) in def_levels.iter().zip(&rep_levels) {
        if rep == 0 {
            lists.push(Vec::new());
        }
        let row = first_row + lists.len().saturating_sub(1) as u64;
        let Some(list) = lists.last_mut() else {
            return Err(invalid(
                path,
                Location::File,
                "column `features` does not start with a new row",
            ));
        };
        if def < max_def {
            return Err(invalid(
                path,
                Location::Row(row),
                "features is null, empty or has a null element",
            ));
        }
        let Some(&value) = next_value.next() else {
            return Err(invalid(
                path,
                Location::Row(row),
                "column `features` has fewer values than levels",
            ));
        };
        list.push(value);
    }
    Ok(lists)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;
    use proptest::prelude::*;

    const FIXTURE: &str = "tests/data/cf/item_factors.parquet";
    const SPARK_FOLDER: &str = "tests/data/cf/itemFactors";

    /// The fixture script's values: features[k] = id / 8 + k − 1.5.
    fn expected_row(id: i32) -> Vec<f32> {
        (0..4).map(|k| id as f32 / 8.0 + k as f32 - 1.5).collect()
    }

    fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    #[test]
    fn reads_spark_item_factors_from_a_file_and_a_folder() {
        let read = read_factors(Path::new(FIXTURE)).unwrap();
        let ids = [10, 3, 7, 42, 0];
        assert_eq!(
            read.ids.unwrap(),
            ids.iter().map(i32::to_string).collect::<Vec<_>>()
        );
        assert_eq!(read.factors.shape(), &[5, 4]);
        for (row, id) in read.factors.rows().into_iter().zip(ids) {
            assert_eq!(row.to_vec(), expected_row(id));
        }
        let read = read_factors(Path::new(SPARK_FOLDER)).unwrap();
        let ids = [5, 1, 9, 2, 8];
        assert_eq!(
            read.ids.unwrap(),
            ids.iter().map(i32::to_string).collect::<Vec<_>>()
        );
        for (row, id) in read.factors.rows().into_iter().zip(ids) {
            assert_eq!(row.to_vec(), expected_row(id));
        }
    }

    #[test]
    fn parquet_problems_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        // The same part twice: every id appears twice.
        let part =
            std::fs::read(Path::new(SPARK_FOLDER).join("part-00000-c000.snappy.parquet")).unwrap();
        write(dir.path(), "a.parquet", &part);
        write(dir.path(), "b.parquet", &part);
        let err = read_factors(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("b.parquet: row 0: id 5 appears twice"),
            "{err}"
        );
        let empty = tempfile::tempdir().unwrap();
        let err = read_factors(empty.path()).unwrap_err().to_string();
        assert!(err.contains("no .parquet files"), "{err}");
        let path = write(dir.path(), "c.parquet", b"PAR1 not really PAR1");
        let err = read_factors(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
    }

    /// Single-byte corruptions of the fixture that made parquet 60.1 panic (found by the
    /// proptest below): a negative column-chunk offset in the footer, and a data page that
    /// claims dictionary encoding with no dictionary.
    #[test]
    fn known_parquet_crate_panics_become_errors() {
        let dir = tempfile::tempdir().unwrap();
        let original = std::fs::read(FIXTURE).unwrap();
        for (offset, value, message) in [
            (614, 155, "column chunk outside the file"),
            (716, 196, "corrupt Parquet data"),
        ] {
            let mut bytes = original.clone();
            bytes[offset] = value;
            let path = write(dir.path(), "bad.parquet", &bytes);
            let err = read_factors(&path).unwrap_err().to_string();
            assert!(
                err.contains("bad.parquet") && err.contains(message),
                "{err}"
            );
        }
    }

    #[test]
    fn reads_npy_float32_and_float64() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f32.npy");
        let a = array![[1.0f32, 2.0], [3.0, 4.5], [-1.0, 0.25]];
        crate::io::npy::write(&path, &a).unwrap();
        let read = read_factors(&path).unwrap();
        assert_eq!((read.ids, read.factors), (None, a));
        let path = dir.path().join("f64.npy");
        crate::io::npy::write(&path, &array![[1.5f64, -2.0]]).unwrap();
        assert_eq!(read_npy(&path).unwrap(), array![[1.5f32, -2.0]]);
    }

    #[test]
    fn npy_problems_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let npy = |name: &str| dir.path().join(name);
        crate::io::npy::write(&npy("int.npy"), &array![[1i32, 2]]).unwrap();
        crate::io::npy::write(&npy("vector.npy"), &array![1.0f32, 2.0]).unwrap();
        crate::io::npy::write(&npy("nan.npy"), &array![[1.0f32], [f32::NAN]]).unwrap();
        crate::io::npy::write(&npy("empty.npy"), &Array2::<f32>::zeros((0, 40))).unwrap();
        for (name, message) in [
            ("int.npy", "element type <i4"),
            ("vector.npy", "expected 2 dimensions"),
            ("nan.npy", "row 1 has a value that is not finite"),
            ("empty.npy", "no factors"),
        ] {
            let err = read_npy(&npy(name)).unwrap_err().to_string();
            assert!(err.contains(name) && err.contains(message), "{err}");
        }
        // Truncated data: the header promises more than the file holds.
        let path = dir.path().join("short.npy");
        crate::io::npy::write(&path, &Array2::<f32>::ones((10, 4))).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let err = read_npy(&path).unwrap_err().to_string();
        assert!(
            err.contains("needs 160 bytes of data, the file has 157"),
            "{err}"
        );
    }

    #[test]
    fn reads_csv_and_tsv_with_or_without_a_header() {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in [
            ("h.csv", "id,f1,f2\nsong-a,1.5,-2\nsong-b, 0.25 ,3e-1\n"),
            ("n.csv", " \nsong-a,1.5,-2\n\nsong-b,0.25,0.3\n"),
            ("t.tsv", "track\tx\ty\nsong-a\t1.5\t-2\nsong-b\t0.25\t0.3"),
            ("q.csv", "\"song-a\",1.5,-2\r\n\"song-b\",0.25,0.3\r\n"),
        ] {
            let read = read_factors(&write(dir.path(), name, text.as_bytes())).unwrap();
            assert_eq!(read.ids.unwrap(), ["song-a", "song-b"], "{name}");
            assert_eq!(read.factors, array![[1.5f32, -2.0], [0.25, 0.3]], "{name}");
        }
    }

    #[test]
    fn csv_problems_name_the_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        for (text, message) in [
            (
                "id,a,b\nx,1,2\ny,1\n",
                "line 3: 1 factors, but earlier lines have 2",
            ),
            ("x,1,2\ny,1,oops\n", "line 2: field 3 is not a number"),
            ("x,1,2\nx,3,4\n", "line 2: id \"x\" already on line 1"),
            ("x,1,NaN\n", "line 1: a factor is not finite"),
            ("id,f1\n", "no factor rows"),
            ("", "no factor rows"),
            ("x\n", "line 1: an id without factors"),
            ("x,1\ny,\u{0}\u{ff}\n", "line 2"),
        ] {
            let path = write(dir.path(), "f.csv", text.as_bytes());
            let err = read_factors(&path).unwrap_err().to_string();
            assert!(
                err.starts_with(&path.display().to_string()) && err.contains(message),
                "{text:?}: {err}"
            );
        }
        let path = write(dir.path(), "f.bin", b"");
        assert!(read_factors(&path)
            .unwrap_err()
            .to_string()
            .contains("unknown"));
    }

    /// Up to `n` random byte changes and an optional truncation of `original`.
    fn garble(original: &[u8], edits: &[(usize, u8)], cut: Option<usize>) -> Vec<u8> {
        let mut bytes = original.to_vec();
        for &(at, value) in edits {
            if !bytes.is_empty() {
                let k = at % bytes.len();
                bytes[k] = value;
            }
        }
        if let Some(cut) = cut {
            bytes.truncate(cut % (bytes.len() + 1));
        }
        bytes
    }

    fn valid_npy() -> Vec<u8> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.npy");
        crate::io::npy::write(&path, &array![[1.0f32, 2.0], [3.0, 4.0]]).unwrap();
        std::fs::read(path).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn random_bytes_are_errors_never_panics(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
        ) {
            let dir = tempfile::tempdir().unwrap();
            for name in ["r.npy", "r.csv", "r.parquet"] {
                let path = write(dir.path(), name, &bytes);
                // Any outcome but a panic; random bytes are rarely a valid file.
                let _ = read_factors(&path);
            }
            let mut parquet_like = b"PAR1".to_vec();
            parquet_like.extend(&bytes);
            parquet_like.extend((bytes.len() as u32).to_le_bytes());
            parquet_like.extend(b"PAR1");
            prop_assert!(read_parquet(&write(dir.path(), "p.parquet", &parquet_like)).is_err());
        }

        #[test]
        fn garbled_valid_files_are_errors_or_reads_never_panics(
            edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
            cut in proptest::option::of(any::<usize>()),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let sources = [
                ("g.parquet", std::fs::read(FIXTURE).unwrap()),
                ("g.npy", valid_npy()),
                ("g.csv", b"id,a,b\nx,1.5,2\ny,3,4.25\n".to_vec()),
            ];
            for (name, original) in sources {
                let path = write(dir.path(), name, &garble(&original, &edits, cut));
                if let Ok(read) = read_factors(&path) {
                    // Whatever survives garbling is still a consistent, finite matrix.
                    prop_assert!(read.factors.iter().all(|v| v.is_finite()));
                    if let Some(ids) = read.ids {
                        prop_assert_eq!(ids.len(), read.factors.nrows());
                    }
                }
            }
        }
    }
}
