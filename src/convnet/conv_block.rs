//! A convolution and the max-pooling, bias and ReLU after it as one candle op, for training:
//! y = ReLU(max-pool(conv(x, w), width) + bias). Composed of `conv_time` and `pool_bias_relu`,
//! the convolution's output (the network's largest activation: conv1's is [batch, 596,
//! filters]) is a graph node, so candle's backward pass zero-fills a gradient of its size, adds
//! the pooling's gradient into it, and the convolution copies it into its own layout: about a
//! fifth of a training step. Fused, the forward pass pools straight from the convolution's
//! output rows and remembers where each window's maximum was; the backward pass scatters the
//! gradient into those rows in one pass and runs the convolution's two gradient products
//! (`temporal_conv.rs`) on them.
//!
//! Shapes as in `temporal_conv.rs` and `pooling.rs`: x [batch, L, C], weight [K, C, O],
//! bias [O] → y [batch, (L − K + 1) / width, O].

use std::cell::OnceCell;
use std::sync::{Arc, OnceLock};

use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use rayon::prelude::*;

use super::cpu_storage::{dispatch2, dispatch3};
use super::pooling::{self, Element};
use super::temporal_conv::{self, InputGradient, WeightGradient};

/// y = ReLU(max-pool(conv(x, weight), width) + bias); differentiable in all three.
pub fn conv_pool_bias_relu(
    x: &Tensor,
    weight: &Tensor,
    bias: &Tensor,
    width: usize,
) -> Result<Tensor> {
    if width == 0 {
        candle_core::bail!("conv-block: the pooling width must be positive");
    }
    x.contiguous()?.apply_op3(
        &weight.contiguous()?,
        &bias.contiguous()?,
        ConvBlock {
            width,
            argmax: OnceLock::new(),
        },
    )
}

struct ConvBlock {
    width: usize,
    /// Per output, [batch, windows, O] flat: the index into the convolution's output rows
    /// (`[rows · O]` flat) of its window's first maximum. Written by the forward pass for the
    /// backward pass.
    argmax: OnceLock<Arc<[u32]>>,
}

impl ConvBlock {
    fn dims(&self, x: &Shape, weight: &Shape) -> Result<(temporal_conv::Dims, pooling::Dims)> {
        let conv = temporal_conv::Dims::new(x, weight)?;
        if conv.frames_out() < self.width {
            candle_core::bail!(
                "conv-block: {} output frames cannot fill a pooling window of {}",
                conv.frames_out(),
                self.width
            );
        }
        if conv.rows() * conv.outputs > u32::MAX as usize {
            candle_core::bail!("conv-block: batch too large ({} output rows)", conv.rows());
        }
        let pool = pooling::Dims {
            batch: conv.batch,
            frames: conv.frames_out(),
            channels: conv.outputs,
            width: self.width,
        };
        Ok((conv, pool))
    }
}

/// Pools the convolution's output rows of each track (row stride O, track stride L·O): the
/// outputs and the flat row index of each output's maximum (the first, as `pool_bias_relu`
/// takes). Frame by frame over whole rows, so that the comparisons run along contiguous
/// channels.
fn pool_rows<T: Element>(
    rows: &[T],
    bias: &[T],
    conv: temporal_conv::Dims,
    pool: pooling::Dims,
) -> (Vec<T>, Vec<u32>) {
    let channels = pool.channels;
    let track_out = pool.windows() * channels;
    let stride = conv.frames * channels;
    let mut y = vec![T::ZERO; pool.batch * track_out];
    let mut argmax = vec![0u32; pool.batch * track_out];
    y.par_chunks_mut(track_out)
        .zip(argmax.par_chunks_mut(track_out))
        .enumerate()
        .for_each(|(b, (out, at))| {
            let track = &rows[b * stride..];
            for (j, (best, best_frame)) in out
                .chunks_exact_mut(channels)
                .zip(at.chunks_exact_mut(channels))
                .enumerate()
            {
                let first = j * pool.width;
                best.copy_from_slice(&track[first * channels..][..channels]);
                best_frame.fill(first as u32);
                for t in first + 1..first + pool.width {
                    let frame = &track[t * channels..][..channels];
                    // Selects rather than branches, so that the loop vectorises.
                    for ((best, at), &v) in best.iter_mut().zip(best_frame.iter_mut()).zip(frame) {
                        let greater = v > *best;
                        *best = if greater { v } else { *best };
                        *at = if greater { t as u32 } else { *at };
                    }
                }
                for (c, ((value, at), &bias)) in best
                    .iter_mut()
                    .zip(best_frame.iter_mut())
                    .zip(bias)
                    .enumerate()
                {
                    let v = *value + bias;
                    *value = if v > T::ZERO { v } else { T::ZERO };
                    *at = (b * stride + *at as usize * channels + c) as u32;
                }
            }
        });
    (y, argmax)
}

impl CustomOp3 for ConvBlock {
    fn name(&self) -> &'static str {
        "conv-block"
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
        let (conv, pool) = self.dims(l1.shape(), l2.shape())?;
        if l3.shape().dims1()? != conv.outputs {
            candle_core::bail!(
                "conv-block: bias {:?} does not fit kernel {:?}",
                l3.shape(),
                l2.shape()
            );
        }
        /// The outputs; the maxima's positions go to `argmax`.
        fn run<T: Element>(
            (x, w, bias): (&[T], &[T], &[T]),
            (conv, pool): (temporal_conv::Dims, pooling::Dims),
            argmax: &OnceCell<Vec<u32>>,
        ) -> Vec<T> {
            let rows = temporal_conv::output_rows(x, w, conv);
            let (y, at) = pool_rows(&rows, bias, conv, pool);
            let _ = argmax.set(at);
            y
        }
        let argmax = OnceCell::new();
        let storage = dispatch3(
            "conv-block",
            (s1, l1),
            (s2, l2),
            (s3, l3),
            |x, w, b| run((x, w, b), (conv, pool), &argmax),
            |x, w, b| run((x, w, b), (conv, pool), &argmax),
        )?;
        let Some(argmax) = argmax.into_inner() else {
            candle_core::bail!("conv-block: the kernel did not run");
        };
        if self.argmax.set(argmax.into()).is_err() {
            candle_core::bail!("conv-block: an op instance runs forward once");
        }
        Ok((
            storage,
            Shape::from((pool.batch, pool.windows(), pool.channels)),
        ))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        y: &Tensor,
        grad_y: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (conv, pool) = self.dims(x.shape(), weight.shape())?;
        let Some(argmax) = self.argmax.get() else {
            candle_core::bail!("conv-block: backward before forward");
        };
        let scatter = Scatter {
            rows: conv.rows() * conv.outputs,
            outputs: conv.outputs,
            track_rows: conv.frames * conv.outputs,
            track_out: pool.windows() * pool.channels,
            argmax: argmax.clone(),
        };
        let both = y.apply_op2_no_bwd(&grad_y.contiguous()?, &scatter)?;
        let grad_rows = both
            .narrow(0, 0, scatter.rows)?
            .reshape((conv.rows(), conv.outputs))?;
        let grad_bias = both.narrow(0, scatter.rows, conv.outputs)?;
        // The network's input needs no gradient: skip that product for conv1.
        let grad_x = if x.track_op() {
            Some(grad_rows.apply_op2_no_bwd(weight, &InputGradient { dims: conv })?)
        } else {
            None
        };
        let grad_weight = x.apply_op2_no_bwd(&grad_rows, &WeightGradient { dims: conv })?;
        Ok((grad_x, Some(grad_weight), Some(grad_bias)))
    }
}

/// From y and grad_y, the gradient of the output rows and of the bias, concatenated in one flat
/// tensor: [rows · O + O]. An active output (y > 0) sends its gradient to its window's maximum
/// and to its channel's bias; everything else is zero.
struct Scatter {
    /// Elements of the output rows: [rows · O].
    rows: usize,
    outputs: usize,
    /// Elements of one track's output rows (L · O) and of its outputs (windows · O).
    track_rows: usize,
    track_out: usize,
    argmax: Arc<[u32]>,
}

impl CustomOp2 for Scatter {
    fn name(&self) -> &'static str {
        "conv-block-scatter"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let outputs = self.argmax.len();
        if l1.shape().elem_count() != outputs || l2.shape().elem_count() != outputs {
            candle_core::bail!("conv-block: gradient of the wrong size");
        }
        fn run<T: Element>(y: &[T], grad_y: &[T], op: &Scatter) -> Vec<T> {
            let mut grads = vec![T::ZERO; op.rows + op.outputs];
            let (grad_rows, grad_bias) = grads.split_at_mut(op.rows);
            // Track b's maxima lie in rows b·L … b·L + L − 1: one block of rows per task.
            grad_rows
                .par_chunks_mut(op.track_rows)
                .zip(y.par_chunks(op.track_out))
                .zip(grad_y.par_chunks(op.track_out))
                .zip(op.argmax.par_chunks(op.track_out))
                .enumerate()
                .for_each(|(b, (((block, y), grad_y), argmax))| {
                    for ((&v, &g), &at) in y.iter().zip(grad_y).zip(argmax) {
                        if v > T::ZERO {
                            block[at as usize - b * op.track_rows] += g;
                        }
                    }
                });
            pooling::add_bias_gradient(grad_bias, y, grad_y);
            grads
        }
        let storage = dispatch2(
            "conv-block-scatter",
            (s1, l1),
            (s2, l2),
            |y, grad_y| run(y, grad_y, self),
            |y, grad_y| run(y, grad_y, self),
        )?;
        Ok((storage, Shape::from(self.rows + self.outputs)))
    }
}
