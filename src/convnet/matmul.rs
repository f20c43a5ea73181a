//! Matrix products over the `gemm` crate (the same kernels candle uses), behind a safe,
//! bounds-checked interface. What a tensor library does not offer is needed here: operands
//! with arbitrary strides, even with overlapping rows (an im2col view of a time-major signal,
//! row stride `C` for rows `4·C` long), and strided destinations, so that transposed weights
//! (dense layers, the input gradient's Winograd kernels) and products accumulated into a
//! block of a larger buffer need no copies.

/// Element types the GEMM kernels support.
pub trait Scalar:
    Copy + Send + Sync + PartialEq + std::ops::AddAssign + std::ops::Mul<Output = Self> + 'static
{
    const ZERO: Self;
    const ONE: Self;

    /// A constant computed in f64 (Winograd's transform coefficients), rounded to this type.
    fn from_f64(value: f64) -> Self;
}

impl Scalar for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn from_f64(value: f64) -> Self {
        value as f32
    }
}

impl Scalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn from_f64(value: f64) -> Self {
        value
    }
}

/// A strided matrix view: element (row r, column c) is `data[r * row_stride + c * col_stride]`.
/// Elements may be shared between positions (overlapping rows) because the view is only read.
#[derive(Debug, Clone, Copy)]
pub struct MatrixView<'a, T> {
    pub data: &'a [T],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
    pub col_stride: usize,
}

impl<'a, T> MatrixView<'a, T> {
    /// A contiguous row-major matrix: `rows × cols`.
    pub fn contiguous(data: &'a [T], rows: usize, cols: usize) -> Self {
        Self::strided(data, rows, cols, cols, 1)
    }

    pub fn strided(
        data: &'a [T],
        rows: usize,
        cols: usize,
        row_stride: usize,
        col_stride: usize,
    ) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride,
            col_stride,
        }
    }

    /// The transpose, as a view of the same data.
    pub fn t(self) -> Self {
        Self::strided(
            self.data,
            self.cols,
            self.rows,
            self.col_stride,
            self.row_stride,
        )
    }
}

/// Whether every element of a `rows × cols` matrix with these strides lies in `len` elements.
fn in_bounds(len: usize, rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> bool {
    rows == 0 || cols == 0 || (rows - 1) * row_stride + (cols - 1) * col_stride < len
}

/// Whether distinct positions map to distinct elements (rows laid out one after another, or
/// columns one after another).
fn injective(rows: usize, cols: usize, row_stride: usize, col_stride: usize) -> bool {
    rows <= 1 && (cols <= 1 || col_stride >= 1)
        || cols <= 1 && row_stride >= 1
        || col_stride >= 1 && row_stride >= cols * col_stride
        || row_stride >= 1 && col_stride >= rows * row_stride
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` with `accumulate`, where `dst` is the
/// `lhs.rows × rhs.cols` matrix at `dst[r * dst_row_stride + c * dst_col_stride]`, computed on
/// `threads` threads of the current rayon pool (1: this thread only).
///
/// Panics when the shapes disagree, a view runs past its slice or destination positions share
/// an element: callers derive every shape from a validated config or from tensor shapes they
/// checked, so that is a bug in this crate, never bad input.
pub fn matmul<T: Scalar>(
    dst: &mut [T],
    dst_row_stride: usize,
    dst_col_stride: usize,
    lhs: MatrixView<'_, T>,
    rhs: MatrixView<'_, T>,
    accumulate: bool,
    threads: usize,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    assert!(
        in_bounds(lhs.data.len(), m, k, lhs.row_stride, lhs.col_stride)
            && in_bounds(rhs.data.len(), k, n, rhs.row_stride, rhs.col_stride),
        "matmul: operand view out of bounds"
    );
    assert!(
        in_bounds(dst.len(), m, n, dst_row_stride, dst_col_stride)
            && injective(m, n, dst_row_stride, dst_col_stride),
        "matmul: destination out of bounds or positions overlap"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for c in 0..n {
                    dst[r * dst_row_stride + c * dst_col_stride] = T::ZERO;
                }
            }
        }
        return;
    }
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    let stride = |s: usize| isize::try_from(s).expect("a slice stride fits in isize");
    #[allow(
        unsafe_code,
        reason = "gemm takes raw pointers and strides; the asserts above prove that every \
                  element it reads lies in `lhs.data`/`rhs.data` and every element it writes \
                  lies in `dst`, with distinct positions writing distinct elements"
    )]
    // SAFETY: see the reason above; `dst` is borrowed mutably for the whole call, so no other
    // reference aliases it, and the operands are shared borrows that outlive the call. `T` is
    // f32 or f64 (the sealed-by-use `Scalar` impls), which gemm supports.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            stride(dst_col_stride),
            stride(dst_row_stride),
            accumulate,
            lhs.data.as_ptr(),
            stride(lhs.col_stride),
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            stride(rhs.col_stride),
            stride(rhs.row_stride),
            T::ONE,
            T::ONE,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The textbook triple loop, as the independent reference.
    fn naive(lhs: MatrixView<'_, f32>, rhs: MatrixView<'_, f32>) -> Vec<f64> {
        let at = |v: &MatrixView<'_, f32>, r: usize, c: usize| {
            f64::from(v.data[r * v.row_stride + c * v.col_stride])
        };
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] =
                    (0..lhs.cols).map(|j| at(&lhs, r, j) * at(&rhs, j, c)).sum();
            }
        }
        out
    }

    fn close(got: f32, want: f64) -> bool {
        (f64::from(got) - want).abs() <= 1e-4 * want.abs().max(1.0)
    }

    #[test]
    fn overlapping_rows_give_the_im2col_product() {
        // A time-major signal [frames, channels]; rows of length 4·channels starting every
        // `channels` values are the im2col matrix of a kernel-4 convolution.
        let (frames, channels, outputs) = (37, 5, 6);
        let signal: Vec<f32> = (0..frames * channels)
            .map(|i| ((i * 7919) % 23) as f32 - 11.0)
            .collect();
        let weights: Vec<f32> = (0..4 * channels * outputs)
            .map(|i| ((i * 104729) % 17) as f32 * 0.25 - 2.0)
            .collect();
        let lhs = MatrixView::strided(&signal, frames - 3, 4 * channels, channels, 1);
        let rhs = MatrixView::contiguous(&weights, 4 * channels, outputs);
        for threads in [1, 2] {
            let mut dst = vec![f32::NAN; (frames - 3) * outputs];
            matmul(&mut dst, outputs, 1, lhs, rhs, false, threads);
            for (got, want) in dst.iter().zip(naive(lhs, rhs)) {
                assert!(close(*got, want));
            }
        }
    }

    #[test]
    fn strided_destination_and_accumulation() {
        // dst is the transpose of a 3 × 4 block inside a larger buffer; accumulate twice.
        let a: Vec<f32> = (0..15).map(|i| i as f32 * 0.5 - 3.0).collect();
        let b: Vec<f32> = (0..20).map(|i| (i % 7) as f32 - 2.0).collect();
        let lhs = MatrixView::contiguous(&a, 3, 5);
        let rhs = MatrixView::strided(&b, 5, 4, 1, 5); // columns of a 4 × 5 matrix
        let mut dst = vec![0.0f32; 40];
        matmul(&mut dst, 1, 10, lhs, rhs, false, 1);
        matmul(&mut dst, 1, 10, lhs, rhs, true, 1);
        let want = naive(lhs, rhs);
        for r in 0..3 {
            for c in 0..4 {
                assert!(close(dst[r + 10 * c], 2.0 * want[r * 4 + c]));
            }
        }
        assert_eq!(dst.iter().filter(|v| **v != 0.0).count(), 12);
    }
}
