//! Minibatch SGD with Nesterov momentum (candle-nn's SGD has none), in PyTorch's formulation so
//! that learning rates carry over: v ← μ·v + g (+ λ·w), w ← w − η·(g + μ·v).

use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp3, Layout, Result, Tensor, Var};

/// Optimiser state: one velocity per parameter.
#[derive(Debug)]
pub struct NesterovSgd {
    vars: Vec<Var>,
    velocities: Vec<Tensor>,
    pub learning_rate: f64,
    pub momentum: f64,
    pub weight_decay: f64,
}

impl NesterovSgd {
    /// Zero velocities for `vars`.
    pub fn new(
        vars: Vec<Var>,
        learning_rate: f64,
        momentum: f64,
        weight_decay: f64,
    ) -> Result<Self> {
        let velocities = vars
            .iter()
            .map(|v| v.as_tensor().zeros_like())
            .collect::<Result<_>>()?;
        Ok(Self {
            vars,
            velocities,
            learning_rate,
            momentum,
            weight_decay,
        })
    }

    /// The velocities, in the order of the vars given to `new`.
    pub fn velocities(&self) -> &[Tensor] {
        &self.velocities
    }

    /// Replaces the velocities (resuming from a checkpoint); shapes must match the vars.
    pub fn set_velocities(&mut self, velocities: Vec<Tensor>) -> Result<()> {
        for (var, velocity) in self.vars.iter().zip(&velocities) {
            if var.shape() != velocity.shape() {
                candle_core::bail!(
                    "velocity shape {:?} does not match parameter shape {:?}",
                    velocity.shape(),
                    var.shape()
                );
            }
        }
        self.velocities = velocities;
        Ok(())
    }

    /// One update from the gradients of a loss; parameters without a gradient are untouched.
    /// Each parameter takes two in-place passes (velocity, then weights) instead of a chain
    /// of tensor operations that each allocate: the paper model has 9.4 M parameters.
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        let update = Update {
            learning_rate: self.learning_rate,
            momentum: self.momentum,
            weight_decay: self.weight_decay,
        };
        for (var, velocity) in self.vars.iter().zip(&self.velocities) {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            let grad = grad.contiguous()?;
            velocity.inplace_op3(&grad, var.as_tensor(), &VelocityPass(update))?;
            var.as_tensor()
                .inplace_op3(&grad, velocity, &WeightPass(update))?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
struct Update {
    learning_rate: f64,
    momentum: f64,
    weight_decay: f64,
}

/// v ← μ·v + g + λ·w (in place on v; operands: g, w).
struct VelocityPass(Update);

/// w ← w − η·(g + λ·w + μ·v) (in place on w; operands: g, v).
struct WeightPass(Update);

/// The element range of a contiguous operand, or an error.
fn range(layout: &Layout) -> Result<std::ops::Range<usize>> {
    match layout.contiguous_offsets() {
        Some((start, end)) => Ok(start..end),
        None => candle_core::bail!("optimiser: operands must be contiguous"),
    }
}

/// `dst[i] = pass(dst[i], a[i], b[i])` over three contiguous operands of one size.
fn apply<T: Copy>(
    dst: &mut [T],
    a: &[T],
    b: &[T],
    ranges: [std::ops::Range<usize>; 3],
    pass: impl Fn(T, T, T) -> T,
) -> Result<()> {
    let [r1, r2, r3] = ranges;
    if r1.len() != r2.len() || r1.len() != r3.len() {
        candle_core::bail!("optimiser: parameter, gradient and velocity sizes differ");
    }
    for ((d, &a), &b) in dst[r1].iter_mut().zip(&a[r2]).zip(&b[r3]) {
        *d = pass(*d, a, b);
    }
    Ok(())
}

/// Runs `pass(dst, a, b)` element-wise on f32 (computed in f64) or f64 storages.
fn elementwise(
    s1: &mut CpuStorage,
    l1: &Layout,
    s2: &CpuStorage,
    l2: &Layout,
    s3: &CpuStorage,
    l3: &Layout,
    pass: impl Fn(f64, f64, f64) -> f64,
) -> Result<()> {
    let ranges = [range(l1)?, range(l2)?, range(l3)?];
    match (s1, s2, s3) {
        (CpuStorage::F32(d), CpuStorage::F32(a), CpuStorage::F32(b)) => {
            apply(d, a, b, ranges, |d, a, b| {
                pass(f64::from(d), f64::from(a), f64::from(b)) as f32
            })
        }
        (CpuStorage::F64(d), CpuStorage::F64(a), CpuStorage::F64(b)) => {
            apply(d, a, b, ranges, &pass)
        }
        _ => candle_core::bail!(
            "optimiser: parameters, gradients and velocities must all be f32 or all f64"
        ),
    }
}

impl InplaceOp3 for VelocityPass {
    fn name(&self) -> &'static str {
        "nesterov-velocity"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<()> {
        let Update {
            momentum,
            weight_decay,
            ..
        } = self.0;
        elementwise(s1, l1, s2, l2, s3, l3, |v, g, w| {
            momentum * v + g + weight_decay * w
        })
    }
}

impl InplaceOp3 for WeightPass {
    fn name(&self) -> &'static str {
        "nesterov-weights"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<()> {
        let Update {
            learning_rate,
            momentum,
            weight_decay,
        } = self.0;
        elementwise(s1, l1, s2, l2, s3, l3, |w, g, v| {
            w - learning_rate * (g + weight_decay * w + momentum * v)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::Device;

    #[test]
    fn follows_the_nesterov_recurrence_by_hand() {
        // f(w) = w², g = 2w; η = 0.1, μ = 0.9, w0 = 1.
        // step 1: g = 2, v = 2, w = 1 - 0.1·(2 + 1.8) = 0.62
        // step 2: g = 1.24, v = 1.8 + 1.24 = 3.04, w = 0.62 - 0.1·(1.24 + 2.736) = 0.2224
        let w = Var::new(&[1.0f64], &Device::Cpu).unwrap();
        let mut sgd = NesterovSgd::new(vec![w.clone()], 0.1, 0.9, 0.0).unwrap();
        for want in [0.62, 0.2224] {
            let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
            sgd.step(&loss.backward().unwrap()).unwrap();
            let got = w.as_tensor().to_vec1::<f64>().unwrap()[0];
            assert!((got - want).abs() < 1e-12, "{got} vs {want}");
        }
        // Weight decay adds λ·w to the gradient: g = 2w + 0.5w at w = 1 → v = 2.5, w = 1 - 0.1·(2.5 + 2.25).
        let w = Var::new(&[1.0f64], &Device::Cpu).unwrap();
        let mut sgd = NesterovSgd::new(vec![w.clone()], 0.1, 0.9, 0.5).unwrap();
        let loss = w.as_tensor().sqr().unwrap().sum_all().unwrap();
        sgd.step(&loss.backward().unwrap()).unwrap();
        let got = w.as_tensor().to_vec1::<f64>().unwrap()[0];
        assert!((got - 0.525).abs() < 1e-12, "{got}");
    }
}
