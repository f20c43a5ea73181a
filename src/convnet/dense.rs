//! A dense layer as one candle op, for training: y = x · Wᵀ + b, with ReLU for the hidden
//! layers. Composed of candle ops (transpose, matmul, broadcast add, ReLU) the weight's
//! gradient comes out of the matmul transposed and is copied back element by element, a strided
//! copy of the largest parameters (fc2: 2048 × 2048) every step; here it is computed in the
//! weight's own [out, in] layout by one GEMM.
//!
//! Shapes: x [batch, in], weight [out, in] (PyTorch's layout), bias [out] → y [batch, out].

use candle_core::{CpuStorage, CustomOp3, Layout, Result, Shape, Tensor};

use super::cpu_storage::dispatch3;
use super::matmul::{matmul, MatrixView};
use super::pooling::Element;

/// y = x · weightᵀ + bias, then ReLU when `relu`; differentiable in all three.
pub fn dense(x: &Tensor, weight: &Tensor, bias: &Tensor, relu: bool) -> Result<Tensor> {
    x.contiguous()?
        .apply_op3(&weight.contiguous()?, &bias.contiguous()?, Dense { relu })
}

struct Dense {
    relu: bool,
}

fn forward<T: Element>(
    x: &[T],
    w: &[T],
    bias: &[T],
    (batch, inputs, outputs): (usize, usize, usize),
    relu: bool,
) -> Vec<T> {
    let mut y = vec![T::ZERO; batch * outputs];
    let weight_t = MatrixView::contiguous(w, outputs, inputs).t();
    matmul(
        &mut y,
        outputs,
        1,
        MatrixView::contiguous(x, batch, inputs),
        weight_t,
        false,
        rayon::current_num_threads(),
    );
    for row in y.chunks_exact_mut(outputs) {
        for (value, &b) in row.iter_mut().zip(bias) {
            let v = *value + b;
            *value = if !relu || v > T::ZERO { v } else { T::ZERO };
        }
    }
    y
}

impl CustomOp3 for Dense {
    fn name(&self) -> &'static str {
        "dense"
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
        let (batch, inputs) = l1.shape().dims2()?;
        let (outputs, weight_inputs) = l2.shape().dims2()?;
        if weight_inputs != inputs || l3.shape().dims1()? != outputs {
            candle_core::bail!(
                "dense: input {:?}, weight {:?} and bias {:?} do not fit",
                l1.shape(),
                l2.shape(),
                l3.shape()
            );
        }
        let dims = (batch, inputs, outputs);
        let relu = self.relu;
        let storage = dispatch3(
            "dense",
            (s1, l1),
            (s2, l2),
            (s3, l3),
            |x, w, b| forward(x, w, b, dims, relu),
            |x, w, b| forward(x, w, b, dims, relu),
        )?;
        Ok((storage, Shape::from((batch, outputs))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        weight: &Tensor,
        _bias: &Tensor,
        y: &Tensor,
        grad_y: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        // Through the ReLU: only active outputs pass their gradient.
        let grad = if self.relu {
            grad_y.mul(&y.gt(0.0)?.to_dtype(y.dtype())?)?
        } else {
            grad_y.clone()
        };
        let grad_x = grad.matmul(weight)?;
        // gradᵀ · x is [out, in], the weight's layout: one contiguous GEMM result.
        let grad_weight = grad.t()?.matmul(x)?;
        let grad_bias = grad.sum(0)?;
        Ok((Some(grad_x), Some(grad_weight), Some(grad_bias)))
    }
}
