//! The t-SNE gradient, in openTSNE's scale (a quarter of `∂KL/∂y`):
//! `g_i = α Σ_j p_ij w_ij (y_i − y_j) − (1/Z) Σ_j w_ij² (y_i − y_j)`, with
//! `w_ij = 1 / (1 + |y_i − y_j|²)`, `Z = Σ_{i≠j} w_ij` and α the exaggeration. The attractive
//! sum runs over P's nonzeros; the repulsive one comes from [`Repulsion`].

use rayon::prelude::*;

use super::affinities::JointAffinities;
use super::interpolation::Repulsion;

/// Rows per task for the attractive forces (fixed: deterministic reductions).
const ROW_CHUNK: usize = 2048;

/// Gradient evaluation with its reusable buffers.
#[derive(Default)]
pub struct Gradient {
    repulsion: Repulsion,
    repulsive: Vec<f64>,
}

impl Gradient {
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes the gradient for the map `y` (`[points, 2]` row-major) into `gradient` (same
    /// shape) and returns the normaliser Z.
    pub fn compute(
        &mut self,
        y: &[f64],
        p: &JointAffinities,
        exaggeration: f64,
        gradient: &mut [f64],
    ) -> f64 {
        self.repulsive.resize(y.len(), 0.0);
        let z = self.repulsion.forces(y, &mut self.repulsive);
        let repulsive = &self.repulsive;
        gradient
            .par_chunks_mut(2 * ROW_CHUNK)
            .enumerate()
            .for_each(|(chunk, out)| {
                for (offset, g) in out.chunks_exact_mut(2).enumerate() {
                    let i = chunk * ROW_CHUNK + offset;
                    let (columns, values) = p.row(i);
                    let (yi1, yi2) = (y[2 * i], y[2 * i + 1]);
                    let (mut a1, mut a2) = (0.0, 0.0);
                    for (&j, &pij) in columns.iter().zip(values) {
                        let j = j as usize;
                        let (d1, d2) = (yi1 - y[2 * j], yi2 - y[2 * j + 1]);
                        let force = pij / (1.0 + d1 * d1 + d2 * d2);
                        a1 += force * d1;
                        a2 += force * d2;
                    }
                    g[0] = exaggeration * a1 - repulsive[2 * i] / z;
                    g[1] = exaggeration * a2 - repulsive[2 * i + 1] / z;
                }
            });
        z
    }
}

/// `KL(P ‖ Q)` in nats for the map `y`, given its normaliser `z`:
/// `Σ p log p − Σ p log w + log Z` over P's nonzeros (P sums to 1).
pub fn kl_divergence(y: &[f64], p: &JointAffinities, z: f64) -> f64 {
    let partial: Vec<f64> = (0..p.points())
        .collect::<Vec<_>>()
        .par_chunks(ROW_CHUNK)
        .map(|rows| {
            let mut sum = 0.0;
            for &i in rows {
                let (columns, values) = p.row(i);
                for (&j, &pij) in columns.iter().zip(values) {
                    let j = j as usize;
                    let (d1, d2) = (y[2 * i] - y[2 * j], y[2 * i + 1] - y[2 * j + 1]);
                    if pij > 0.0 {
                        sum += pij * (pij.ln() + (1.0 + d1 * d1 + d2 * d2).ln());
                    }
                }
            }
            sum
        })
        .collect();
    partial.into_iter().sum::<f64>() + z.ln()
}
