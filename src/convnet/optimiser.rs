//! Minibatch SGD with Nesterov momentum (candle-nn's SGD has none), in PyTorch's formulation so
//! that learning rates carry over: v ← μ·v + g (+ λ·w), w ← w − η·(g + μ·v).

use candle_core::backprop::GradStore;
use candle_core::{Result, Tensor, Var};

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
    pub fn step(&mut self, grads: &GradStore) -> Result<()> {
        for (var, velocity) in self.vars.iter().zip(self.velocities.iter_mut()) {
            let Some(grad) = grads.get(var.as_tensor()) else {
                continue;
            };
            let grad = if self.weight_decay != 0.0 {
                grad.add(&var.as_tensor().affine(self.weight_decay, 0.0)?)?
            } else {
                grad.clone()
            };
            *velocity = velocity.affine(self.momentum, 0.0)?.add(&grad)?;
            let update = grad.add(&velocity.affine(self.momentum, 0.0)?)?;
            var.set(
                &var.as_tensor()
                    .sub(&update.affine(self.learning_rate, 0.0)?)?,
            )?;
        }
        Ok(())
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
