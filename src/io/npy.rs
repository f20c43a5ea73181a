//! NumPy `.npy` arrays, the format of every per-track array in a project (DESIGN.md).
//! Reads check the shape and refuse NaN or infinite values, naming the file.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use ndarray::{ArrayBase, Data, Dimension};
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

/// Reads an array of any element type and rank `D`.
pub fn read<A, D>(path: &Path) -> Result<ndarray::Array<A, D>, NpyError>
where
    A: ReadableElement,
    D: Dimension,
{
    let file = File::open(path).map_err(|source| NpyError::Open {
        path: path.to_owned(),
        source,
    })?;
    ndarray::Array::<A, D>::read_npy(BufReader::new(file)).map_err(|source| NpyError::Parse {
        path: path.to_owned(),
        source,
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
}
