//! The 1-D convolution over time as a candle custom op whose forward pass and gradients are
//! long Winograd F(3, 4) / F(4, 3) products (`winograd.rs`: half the multiplications of
//! im2col GEMMs). candle 0.11.1's conv1d has a wrong weight gradient for batch > 1, and its
//! conv2d workaround runs the backward pass through scalar loops at about a tenth of
//! PyTorch's training speed on this model.
//!
//! Tensors are time-major, as in the inference path: the batch is one long signal
//! `[batch·L, C]` (tracks one after another), so each product covers the whole batch at once;
//! the `K − 1` output rows per track that straddle two tracks are dropped (forward) or given a
//! zero gradient (backward).
//!
//! Shapes: x [batch, L, C], weight [K, C, O] (tap-major), y [batch, L − K + 1, O], K = 4;
//! y[b, t, o] = Σ_{k, c} w[k, c, o] · x[b, t + k, c] (a correlation, as in PyTorch).

use candle_core::backend::BackendStorage;
use candle_core::{CpuStorage, CustomOp2, Layout, Result, Shape, Tensor};

use super::config::KERNEL_FRAMES;
use super::cpu_storage::{contiguous, dispatch2};
use super::matmul::Scalar;
use super::winograd::{self, WinogradConv};

/// Convolves x: [batch, L, C] with weight: [4, C, O] → [batch, L − 3, O], no bias.
/// Differentiable in both arguments.
pub fn conv_time(x: &Tensor, weight: &Tensor) -> Result<Tensor> {
    x.contiguous()?
        .apply_op2(&weight.contiguous()?, TemporalConv)
}

/// Sizes of one convolution.
#[derive(Debug, Clone, Copy)]
pub(super) struct Dims {
    pub batch: usize,
    pub frames: usize,
    pub channels: usize,
    pub outputs: usize,
}

impl Dims {
    /// From x: [batch, L, C] and weight: [4, C, O].
    pub fn new(x: &Shape, weight: &Shape) -> Result<Self> {
        let (batch, frames, channels) = x.dims3()?;
        let (taps, weight_channels, outputs) = weight.dims3()?;
        if weight_channels != channels || taps != KERNEL_FRAMES || frames < taps {
            candle_core::bail!("temporal-conv: input {x:?} and kernel {weight:?} do not fit");
        }
        Ok(Self {
            batch,
            frames,
            channels,
            outputs,
        })
    }

    pub fn frames_out(&self) -> usize {
        self.frames + 1 - KERNEL_FRAMES
    }

    /// Rows of the concatenated output signal: every window that fits in `batch·L` frames.
    pub fn rows(&self) -> usize {
        self.batch * self.frames + 1 - KERNEL_FRAMES
    }

    /// The kernel [4, C, O] as a Winograd layer from C channels to O outputs.
    fn layer<T: Scalar>(&self, w: &[T]) -> WinogradConv<T> {
        WinogradConv::tap_major(w, self.channels, self.outputs)
    }
}

/// y = conv(x, w).
struct TemporalConv;

impl CustomOp2 for TemporalConv {
    fn name(&self) -> &'static str {
        "temporal-conv"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = Dims::new(l1.shape(), l2.shape())?;
        let storage = dispatch2(
            "temporal-conv",
            (s1, l1),
            (s2, l2),
            |x, w| forward(x, w, d),
            |x, w| forward(x, w, d),
        )?;
        Ok((storage, Shape::from((d.batch, d.frames_out(), d.outputs))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _y: &Tensor,
        grad_y: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let d = Dims::new(x.shape(), weight.shape())?;
        // grad_y laid out like the concatenated signal, zero on the straddling rows.
        let grad_rows = grad_y.contiguous()?.apply_op1_no_bwd(&Spread { dims: d })?;
        // The network's input needs no gradient: skip that product for conv1.
        let grad_x = if x.track_op() {
            Some(grad_rows.apply_op2_no_bwd(weight, &InputGradient { dims: d })?)
        } else {
            None
        };
        let grad_weight = x.apply_op2_no_bwd(&grad_rows, &WeightGradient { dims: d })?;
        Ok((grad_x, Some(grad_weight)))
    }
}

/// One GEMM for the whole batch, then the straddling rows are dropped.
fn forward<T: Scalar>(x: &[T], w: &[T], d: Dims) -> Vec<T> {
    let rows = output_rows(x, w, d);
    let track = d.frames_out() * d.outputs;
    (0..d.batch)
        .flat_map(|b| &rows[b * d.frames * d.outputs..][..track])
        .copied()
        .collect()
}

/// The convolution of the whole batch as one signal: [rows, O], track b's output frame t in
/// row b·L + t (the rows in between straddle two tracks).
pub(super) fn output_rows<T: Scalar>(x: &[T], w: &[T], d: Dims) -> Vec<T> {
    let mut rows = d.layer(w).correlate(x, d.rows());
    rows.truncate(d.rows() * d.outputs);
    rows
}

/// grad_y [batch, L', O] → [batch·L − K + 1, O] with zero straddling rows.
struct Spread {
    dims: Dims,
}

impl candle_core::CustomOp1 for Spread {
    fn name(&self) -> &'static str {
        "temporal-conv-spread"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> Result<(CpuStorage, Shape)> {
        let d = self.dims;
        fn spread<T: Scalar>(g: &[T], d: Dims) -> Vec<T> {
            let mut rows = vec![T::ZERO; d.rows() * d.outputs];
            let track = d.frames_out() * d.outputs;
            for (b, block) in g.chunks_exact(track).enumerate() {
                rows[b * d.frames * d.outputs..][..track].copy_from_slice(block);
            }
            rows
        }
        let out = match storage {
            CpuStorage::F32(_) => {
                CpuStorage::F32(spread(contiguous("temporal-conv", storage, layout)?, d))
            }
            CpuStorage::F64(_) => {
                CpuStorage::F64(spread(contiguous("temporal-conv", storage, layout)?, d))
            }
            other => candle_core::bail!("temporal-conv: unsupported type {:?}", other.dtype()),
        };
        Ok((out, Shape::from((d.rows(), d.outputs))))
    }
}

/// ∂/∂x: grad_x[s, :] = Σ_k grad_rows[s − k, :] · W_kᵀ.
pub(super) struct InputGradient {
    pub dims: Dims,
}

impl CustomOp2 for InputGradient {
    fn name(&self) -> &'static str {
        "temporal-conv-input-gradient"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.dims;
        let storage = dispatch2(
            "temporal-conv",
            (s1, l1),
            (s2, l2),
            |g, w| input_gradient(g, w, d),
            |g, w| input_gradient(g, w, d),
        )?;
        Ok((storage, Shape::from((d.batch, d.frames, d.channels))))
    }
}

/// A correlation of the gradient rows, given K − 1 zero rows in front (and behind), with the
/// flipped, transposed kernel: tap j weighs output o into channel c by w[K − 1 − j, c, o].
fn input_gradient<T: Scalar>(grad_rows: &[T], w: &[T], d: Dims) -> Vec<T> {
    let frames = d.batch * d.frames;
    let pad = (KERNEL_FRAMES - 1) * d.outputs;
    let mut padded = vec![T::ZERO; pad];
    padded.extend_from_slice(&grad_rows[..d.rows() * d.outputs]);
    padded.resize(pad + frames * d.outputs, T::ZERO);
    let flipped = WinogradConv::flipped_transpose(w, d.channels, d.outputs);
    let mut grad_x = flipped.correlate(&padded, frames);
    grad_x.truncate(frames * d.channels);
    grad_x
}

/// ∂/∂w[k, c, o] = Σ_r x[r + k, c] · grad_rows[r, o]: [K, C, O], over the whole batch.
pub(super) struct WeightGradient {
    pub dims: Dims,
}

impl CustomOp2 for WeightGradient {
    fn name(&self) -> &'static str {
        "temporal-conv-weight-gradient"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let d = self.dims;
        let storage = dispatch2(
            "temporal-conv",
            (s1, l1),
            (s2, l2),
            |x, g| weight_gradient(x, g, d),
            |x, g| weight_gradient(x, g, d),
        )?;
        Ok((storage, Shape::from((KERNEL_FRAMES, d.channels, d.outputs))))
    }
}

fn weight_gradient<T: Scalar>(x: &[T], grad_rows: &[T], d: Dims) -> Vec<T> {
    winograd::weight_gradient(x, d.channels, grad_rows, d.outputs, d.rows())
}
