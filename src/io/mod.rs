//! Reading and writing artifacts: atomic writes and NumPy `.npy` arrays.

pub mod atomic;
pub mod npy;
