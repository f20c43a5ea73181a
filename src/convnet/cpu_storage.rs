//! Typed access to candle's CPU storages for the custom ops (`temporal_conv`, `pooling`,
//! `conv_block`, `dense`): each kernel is written once, generic over `f32` (training) and `f64`
//! (gradient checks), and run on whichever type its operands hold.

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, Layout, Result};

/// The contiguous data of a storage, or an error naming `op` for other layouts.
pub(super) fn contiguous<'a, T: candle_core::WithDType>(
    op: &str,
    storage: &'a CpuStorage,
    layout: &Layout,
) -> Result<&'a [T]> {
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: operands must be contiguous");
    };
    Ok(&storage.as_slice::<T>()?[start..end])
}

/// Runs the `f32` or `f64` instance of a kernel on two storages of the same type (`op` names
/// the kernel in the errors).
pub(super) fn dispatch2(
    op: &str,
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    run32: impl FnOnce(&[f32], &[f32]) -> Vec<f32>,
    run64: impl FnOnce(&[f64], &[f64]) -> Vec<f64>,
) -> Result<CpuStorage> {
    match (s1, s2) {
        (CpuStorage::F32(_), CpuStorage::F32(_)) => Ok(CpuStorage::F32(run32(
            contiguous(op, s1, l1)?,
            contiguous(op, s2, l2)?,
        ))),
        (CpuStorage::F64(_), CpuStorage::F64(_)) => Ok(CpuStorage::F64(run64(
            contiguous(op, s1, l1)?,
            contiguous(op, s2, l2)?,
        ))),
        _ => candle_core::bail!(
            "{op}: operands must both be f32 or both f64, got {:?} and {:?}",
            s1.dtype(),
            s2.dtype()
        ),
    }
}

/// Runs the `f32` or `f64` instance of a kernel on three storages of the same type (`op`
/// names the kernel in the errors).
pub(super) fn dispatch3(
    op: &str,
    (s1, l1): (&CpuStorage, &Layout),
    (s2, l2): (&CpuStorage, &Layout),
    (s3, l3): (&CpuStorage, &Layout),
    run32: impl FnOnce(&[f32], &[f32], &[f32]) -> Vec<f32>,
    run64: impl FnOnce(&[f64], &[f64], &[f64]) -> Vec<f64>,
) -> Result<CpuStorage> {
    match (s1, s2, s3) {
        (CpuStorage::F32(_), CpuStorage::F32(_), CpuStorage::F32(_)) => Ok(CpuStorage::F32(run32(
            contiguous(op, s1, l1)?,
            contiguous(op, s2, l2)?,
            contiguous(op, s3, l3)?,
        ))),
        (CpuStorage::F64(_), CpuStorage::F64(_), CpuStorage::F64(_)) => Ok(CpuStorage::F64(run64(
            contiguous(op, s1, l1)?,
            contiguous(op, s2, l2)?,
            contiguous(op, s3, l3)?,
        ))),
        _ => candle_core::bail!(
            "{op}: operands must all be f32 or all f64, got {:?}, {:?} and {:?}",
            s1.dtype(),
            s2.dtype(),
            s3.dtype()
        ),
    }
}
