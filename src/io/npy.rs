//! NumPy `.npy` arrays, the format of every per-track array in a project (DESIGN.md).
//! Reads check the shape and refuse NaN or infinite values, naming the file.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use ndarray::{ArrayBase, Data, Dimension};
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyExt, ReadableElement, WritableElement, WriteNpyExt};

/// What went wrong reading or writing a `.npy` file; always names the file.
#[derive(Debug, thiserror::Error)]
pub enum NpyError {
    #[error("{path}: cannot read: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a valid .npy array of the expected type and rank: {source}")]
    Parse {
        path: PathBuf,
        source: ndarray_npy::ReadNpyError,
    },
    #[error("{path}: {reason}")]
    Header { path: PathBuf, reason: String },
    #[error("{path}: shape {found:?}, expected {expected}")]
    Shape {
        path: PathBuf,
        found: Vec<usize>,
        expected: String,
    },
    #[error("{path}: value at flat index {index} is not finite ({value})")]
    NotFinite {
        path: PathBuf,
        index: usize,
        value: f32,
    },
    #[error("{path}: cannot write: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Reads an array of any element type and rank `D`. The header is checked against the file's
/// length first, so a garbled header is an error, never a huge allocation.
pub fn read<A, D>(path: &Path) -> Result<ndarray::Array<A, D>, NpyError>
where
    A: ReadableElement,
    D: Dimension,
{
    let bytes = read_bytes(path)?;
    let (header, data_offset) = checked_header::<D>(path, &bytes)?;
    check_data_length(path, &bytes, &header, data_offset, std::mem::size_of::<A>())?;
    parse(path, &bytes)
}

/// Reads a float32 or float64 (converted) array of rank `D`.
pub fn read_as_f32<D: Dimension>(path: &Path) -> Result<ndarray::Array<f32, D>, NpyError> {
    let bytes = read_bytes(path)?;
    let (header, data_offset) = checked_header::<D>(path, &bytes)?;
    let descriptor = header.type_descriptor.to_string();
    match descriptor.trim_matches('\'') {
        "<f4" | ">f4" => {
            check_data_length(path, &bytes, &header, data_offset, 4)?;
            parse(path, &bytes)
        }
        "<f8" | ">f8" => {
            check_data_length(path, &bytes, &header, data_offset, 8)?;
            parse::<f64, D>(path, &bytes).map(|a| a.mapv(|v| v as f32))
        }
        other => Err(NpyError::Header {
            path: path.to_owned(),
            reason: format!("element type {other}, expected float32 or float64"),
        }),
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, NpyError> {
    std::fs::read(path).map_err(|source| NpyError::Open {
        path: path.to_owned(),
        source,
    })
}

fn parse<A: ReadableElement, D: Dimension>(
    path: &Path,
    bytes: &[u8],
) -> Result<ndarray::Array<A, D>, NpyError> {
    ndarray::Array::<A, D>::read_npy(bytes).map_err(|source| NpyError::Parse {
        path: path.to_owned(),
        source,
    })
}

/// Parses the header after checking magic, version, declared length and nesting (deep nesting
/// would exhaust the header parser's stack), and checks the rank against `D`. Returns the
/// header and the offset of the data.
fn checked_header<D: Dimension>(path: &Path, bytes: &[u8]) -> Result<(Header, u64), NpyError> {
    const MAGIC: &[u8] = b"\x93NUMPY";
    let bad = |reason: String| NpyError::Header {
        path: path.to_owned(),
        reason,
    };
    if bytes.len() < 10 || !bytes.starts_with(MAGIC) {
        return Err(bad("not a .npy file (no \\x93NUMPY magic)".to_owned()));
    }
    let (header_len, start): (usize, usize) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unsupported .npy format version".to_owned())),
    };
    let Some(text) = bytes.get(start..start.saturating_add(header_len)) else {
        return Err(bad("truncated .npy header".to_owned()));
    };
    let nesting = text
        .iter()
        .filter(|&&b| matches!(b, b'(' | b'[' | b'{'))
        .count();
    if nesting > 8 {
        return Err(bad(
            ".npy header is not that of a plain numeric array".to_owned()
        ));
    }
    let mut cursor = Cursor::new(bytes);
    let header =
        Header::from_reader(&mut cursor).map_err(|e| bad(format!("bad .npy header: {e}")))?;
    if let Some(rank) = D::NDIM {
        if header.shape.len() != rank {
            return Err(bad(format!(
                "shape {:?}, expected {rank} dimensions",
                header.shape
            )));
        }
    }
    Ok((header, cursor.position()))
}

/// Checks that the data the header declares (`element_bytes` each) is what the file holds.
fn check_data_length(
    path: &Path,
    bytes: &[u8],
    header: &Header,
    data_offset: u64,
    element_bytes: usize,
) -> Result<(), NpyError> {
    let data_bytes = bytes.len() as u64 - data_offset;
    let expected = header
        .shape
        .iter()
        .try_fold(element_bytes as u64, |acc, &d| acc.checked_mul(d as u64));
    if expected == Some(data_bytes) {
        return Ok(());
    }
    Err(NpyError::Header {
        path: path.to_owned(),
        reason: format!(
            "shape {:?} needs {} bytes of data, the file has {data_bytes}",
            header.shape,
            expected.map_or("too many".to_owned(), |e| e.to_string())
        ),
    })
}

/// Reads a float32 array and refuses NaN and infinities.
pub fn read_finite_f32<D: Dimension>(path: &Path) -> Result<ndarray::Array<f32, D>, NpyError> {
    let array = read::<f32, D>(path)?;
    if let Some((index, &value)) = array.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(NpyError::NotFinite {
            path: path.to_owned(),
            index,
            value,
        });
    }
    Ok(array)
}

/// Checks that `shape` matches `expected`, where `None` accepts any length on that axis.
pub fn check_shape(
    path: &Path,
    shape: &[usize],
    expected: &[Option<usize>],
) -> Result<(), NpyError> {
    let matches = shape.len() == expected.len()
        && shape
            .iter()
            .zip(expected)
            .all(|(s, e)| e.is_none_or(|e| e == *s));
    if matches {
        return Ok(());
    }
    let described: Vec<String> = expected
        .iter()
        .map(|e| e.map_or("any".to_owned(), |e| e.to_string()))
        .collect();
    Err(NpyError::Shape {
        path: path.to_owned(),
        found: shape.to_vec(),
        expected: format!("[{}]", described.join(", ")),
    })
}

/// Writes an array atomically (temp file + rename).
pub fn write<A, S, D>(path: &Path, array: &ArrayBase<S, D>) -> Result<(), NpyError>
where
    A: WritableElement,
    S: Data<Elem = A>,
    D: Dimension,
{
    super::atomic::write_atomic(path, |w| array.write_npy(w).map_err(std::io::Error::other))
        .map_err(|source| NpyError::Write {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array2};

    #[test]
    fn round_trips_and_reads_numpy_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let a: Array2<f32> = array![[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]];
        write(&path, &a).unwrap();
        let b: Array2<f32> = read_finite_f32(&path).unwrap();
        assert_eq!(a, b);
        // A file written by numpy itself (librosa's reference output).
        let reference: Array2<f32> =
            read_finite_f32(Path::new("tests/data/mel/sine440.npy")).unwrap();
        assert_eq!(reference.shape(), &[646, 128]);
    }

    #[test]
    fn refuses_nan_and_wrong_shapes_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nan.npy");
        write(&path, &array![[1.0f32, f32::NAN]]).unwrap();
        let err = read_finite_f32::<ndarray::Ix2>(&path).unwrap_err();
        assert!(err.to_string().contains("nan.npy"), "{err}");
        assert!(matches!(err, NpyError::NotFinite { index: 1, .. }));
        let err = check_shape(&path, &[3, 4], &[None, Some(128)]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("{}: shape [3, 4], expected [any, 128]", path.display())
        );
        assert!(read::<f32, ndarray::Ix1>(&path).is_err());
    }

    #[test]
    fn garbled_headers_are_errors_not_allocations() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.npy");
        // A valid header claiming 10^12 float32 values, with 8 bytes of data.
        let dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }";
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        let padded = format!("{dict:<117}\n");
        bytes.extend_from_slice(&(padded.len() as u16).to_le_bytes());
        bytes.extend_from_slice(padded.as_bytes());
        bytes.extend_from_slice(&[0; 8]);
        std::fs::write(&path, &bytes).unwrap();
        let err = read::<f32, ndarray::Ix2>(&path).unwrap_err();
        assert!(err.to_string().contains("the file has 8"), "{err}");
        std::fs::write(&path, b"\x93NUMPY\x01\x00\xff\xff{").unwrap();
        assert!(read::<f32, ndarray::Ix2>(&path).is_err());
    }

    #[test]
    fn float64_arrays_read_as_float32() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f64.npy");
        write(&path, &array![[0.5f64, -2.0]]).unwrap();
        let a: Array2<f32> = read_as_f32(&path).unwrap();
        assert_eq!(a, array![[0.5f32, -2.0]]);
    }
}
