//! Matrix products over the `gemm` crate (the same kernels candle uses), behind a safe,
//! bounds-checked interface. The fast inference path needs what a tensor library does not
//! offer: a left operand whose rows overlap (the im2col view of a time-major signal, row
//! stride `C` for rows `4·C` long) so that a convolution is one GEMM without copying.

/// A row-major matrix view: element (row r, column c) is `data[r * row_stride + c]`.
/// Rows may overlap (`row_stride < cols`) because the view is only read.
#[derive(Debug, Clone, Copy)]
pub struct MatrixView<'a> {
    pub data: &'a [f32],
    pub rows: usize,
    pub cols: usize,
    pub row_stride: usize,
}

impl<'a> MatrixView<'a> {
    /// A contiguous matrix: `rows × cols` with row stride `cols`.
    pub fn contiguous(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_stride: cols,
        }
    }

    /// Whether every element lies inside `data`.
    fn in_bounds(&self) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + self.cols <= self.data.len()
    }
}

/// `dst = lhs · rhs`, where `dst` is row-major `lhs.rows × rhs.cols` with row stride
/// `dst_row_stride`, computed on `threads` threads of the current rayon pool (1: this one).
///
/// Panics when the shapes disagree or a view runs past its slice: callers derive every shape
/// from a validated config, so that is a bug in this crate, never bad input.
pub fn matmul(
    dst: &mut [f32],
    dst_row_stride: usize,
    lhs: MatrixView<'_>,
    rhs: MatrixView<'_>,
    threads: usize,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    assert_eq!(rhs.rows, k, "matmul: inner dimensions differ");
    assert!(
        lhs.in_bounds() && rhs.in_bounds(),
        "matmul: operand view out of bounds"
    );
    assert!(
        dst_row_stride >= n && (m == 0 || n == 0 || (m - 1) * dst_row_stride + n <= dst.len()),
        "matmul: destination too small or rows overlap"
    );
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        for row in dst.chunks_mut(dst_row_stride).take(m) {
            row[..n].fill(0.0);
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
                  lies in `dst`, with distinct destination elements (dst_row_stride >= n)"
    )]
    // SAFETY: see the reason above; `dst` is borrowed mutably for the whole call, so no other
    // reference aliases it, and the operands are shared borrows that outlive the call.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            stride(dst_row_stride),
            false,
            lhs.data.as_ptr(),
            1,
            stride(lhs.row_stride),
            rhs.data.as_ptr(),
            1,
            stride(rhs.row_stride),
            0.0,
            1.0,
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
    fn naive(lhs: MatrixView<'_>, rhs: MatrixView<'_>) -> Vec<f64> {
        let mut out = vec![0.0; lhs.rows * rhs.cols];
        for r in 0..lhs.rows {
            for c in 0..rhs.cols {
                out[r * rhs.cols + c] = (0..lhs.cols)
                    .map(|j| {
                        f64::from(lhs.data[r * lhs.row_stride + j])
                            * f64::from(rhs.data[j * rhs.row_stride + c])
                    })
                    .sum();
            }
        }
        out
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
        let lhs = MatrixView {
            data: &signal,
            rows: frames - 3,
            cols: 4 * channels,
            row_stride: channels,
        };
        let rhs = MatrixView::contiguous(&weights, 4 * channels, outputs);
        for threads in [1, 2] {
            let mut dst = vec![f32::NAN; (frames - 3) * outputs];
            matmul(&mut dst, outputs, lhs, rhs, threads);
            for (got, want) in dst.iter().zip(naive(lhs, rhs)) {
                assert!((f64::from(*got) - want).abs() <= 1e-4 * want.abs().max(1.0));
            }
        }
    }
}
