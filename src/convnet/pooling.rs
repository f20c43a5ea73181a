//! Max-pooling over time fused with the bias and ReLU that follow each convolution, as one
//! candle op with its own gradient. Composed from candle ops, these are four graph nodes over
//! the largest activations of the network (reshape, max, broadcast add, ReLU), each allocating
//! and zero-filling gradients in the backward pass; fused they are one pass each way.
//!
//! Pooling first is exact: max commutes with adding a per-channel constant and with ReLU.
//! x: [batch, L, C] (time-major) → y[b, j, c] = max(0, bias[c] + max_{q < w} x[b, j·w + q, c]),
//! [batch, L / w, C]; a trailing partial window is dropped (as PyTorch). Width 1 is bias + ReLU.

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::{dispatch2, dispatch3};
use super::matmul::Scalar;

/// y = ReLU(max-pool(x, width) + bias). x: [batch, L, C], bias: [C] → [batch, L / width, C].
pub fn pool_bias_relu(x: &Tensor, bias: &Tensor, width: usize) -> Result<Tensor> {
    if width == 0 {
        candle_core::bail!("pool-bias-relu: width must be positive");
    }
    x.contiguous()?
        .apply_op2(&bias.contiguous()?, PoolBiasRelu { width })
}

/// Elements that support the comparisons and arithmetic of the kernels.
pub(super) trait Element: Scalar + PartialOrd + std::ops::Add<Output = Self> {}
impl<T: Scalar + PartialOrd + std::ops::Add<Output = T>> Element for T {}

#[derive(Debug, Clone, Copy)]
pub(super) struct Dims {
    pub batch: usize,
    pub frames: usize,
    pub channels: usize,
    pub width: usize,
}

impl Dims {
    pub fn windows(&self) -> usize {
        self.frames / self.width
    }

    /// Frame (within the track) of the first maximum of window j, channel c.
    fn argmax<T: Element>(&self, track: &[T], window: usize, channel: usize) -> usize {
        let first = window * self.width;
        (first + 1..first + self.width).fold(first, |best, t| {
            if track[t * self.channels + channel] > track[best * self.channels + channel] {
                t
            } else {
                best
            }
        })
    }
}

struct PoolBiasRelu {
    width: usize,
}

impl CustomOp2 for PoolBiasRelu {
    fn name(&self) -> &'static str {
        "pool-bias-relu"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (batch, frames, channels) = l1.shape().dims3()?;
        if l2.shape().dims1()? != channels || frames < self.width {
            candle_core::bail!(
                "pool-bias-relu: input {:?} and bias {:?} do not fit",
                l1.shape(),
                l2.shape()
            );
        }
        let d = Dims {
            batch,
            frames,
            channels,
            width: self.width,
        };
        fn run<T: Element + candle_core::WithDType>(x: &[T], bias: &[T], d: Dims) -> Vec<T> {
            let mut y = vec![T::ZERO; d.batch * d.windows() * d.channels];
            y.par_chunks_mut(d.windows() * d.channels)
                .zip(x.par_chunks(d.frames * d.channels))
                .for_each(|(out, track)| {
                    for (j, row) in out.chunks_exact_mut(d.channels).enumerate() {
                        for (c, (value, &b)) in row.iter_mut().zip(bias).enumerate() {
                            let v = track[d.argmax(track, j, c) * d.channels + c] + b;
                            *value = if v > T::ZERO { v } else { T::ZERO };
                        }
                    }
                });
            y
        }
        let storage = dispatch2(
            "pool-bias-relu",
            (s1, l1),
            (s2, l2),
            |x, bias| run(x, bias, d),
            |x, bias| run(x, bias, d),
        )?;
        Ok((storage, Shape::from((batch, d.windows(), channels))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        _bias: &Tensor,
        y: &Tensor,
        grad_y: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let (batch, frames, channels) = x.dims3()?;
        let d = Dims {
            batch,
            frames,
            channels,
            width: self.width,
        };
        let both = x.apply_op3_no_bwd(y, &grad_y.contiguous()?, &Backward { dims: d })?;
        let size = batch * frames * channels;
        let grad_x = both
            .narrow(0, 0, size)?
            .reshape((batch, frames, channels))?;
        let grad_bias = both.narrow(0, size, channels)?;
        Ok((Some(grad_x), Some(grad_bias)))
    }
}

/// Adds to `grad_bias` [C] the gradient of a bias under a ReLU: for each channel, the sum of
/// `grad_y` over the active outputs (`y` > 0). y, grad_y: [rows, C].
pub(super) fn add_bias_gradient<T: Element>(grad_bias: &mut [T], y: &[T], grad_y: &[T]) {
    let channels = grad_bias.len();
    for (row, grad_row) in y.chunks_exact(channels).zip(grad_y.chunks_exact(channels)) {
        for ((total, &v), &g) in grad_bias.iter_mut().zip(row).zip(grad_row) {
            if v > T::ZERO {
                *total += g;
            }
        }
    }
}

/// Gradients of x and bias, concatenated in one flat tensor: [batch·L·C + C]. The gradient of
/// an active output (y > 0) goes to the first maximum of its window and to the bias.
struct Backward {
    dims: Dims,
}

impl CustomOp3 for Backward {
    fn name(&self) -> &'static str {
        "pool-bias-relu-backward"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.dims;
        fn run<T: Element + candle_core::WithDType>(
            x: &[T],
            y: &[T],
            grad_y: &[T],
            d: Dims,
        ) -> Vec<T> {
            let track_in = d.frames * d.channels;
            let track_out = d.windows() * d.channels;
            let mut grads = vec![T::ZERO; d.batch * track_in + d.channels];
            let (grad_x, grad_bias) = grads.split_at_mut(d.batch * track_in);
            grad_x
                .par_chunks_mut(track_in)
                .zip(x.par_chunks(track_in))
                .zip(y.par_chunks(track_out).zip(grad_y.par_chunks(track_out)))
                .for_each(|((grad_track, track), (y_track, grad_y_track))| {
                    for j in 0..d.windows() {
                        for c in 0..d.channels {
                            let out = j * d.channels + c;
                            if y_track[out] > T::ZERO {
                                let t = d.argmax(track, j, c);
                                grad_track[t * d.channels + c] += grad_y_track[out];
                            }
                        }
                    }
                });
            add_bias_gradient(grad_bias, y, grad_y);
            grads
        }
        let storage = dispatch3(
            "pool-bias-relu-backward",
            (s1, l1),
            (s2, l2),
            (s3, l3),
            |x, y, grad_y| run(x, y, grad_y, d),
            |x, y, grad_y| run(x, y, grad_y, d),
        )?;
        Ok((
            storage,
            Shape::from(d.batch * d.frames * d.channels + d.channels),
        ))
    }
}
