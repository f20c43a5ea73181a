//! Input-space affinities: for each point a Gaussian over its nearest neighbours whose
//! precision is found by bisection so that the distribution's perplexity `exp(H)` is the one
//! asked for (as openTSNE: tolerance 1e-8 on the entropy, at most 200 steps), then the
//! symmetric joint distribution `p_ij = (p_j|i + p_i|j) / 2N`, stored sparse.

use rayon::prelude::*;

use super::neighbours::Neighbours;

/// Entropy tolerance (nats) and step limit of the bisection.
const ENTROPY_TOLERANCE: f64 = 1e-8;
const MAX_BISECTION_STEPS: usize = 200;

/// The conditional distributions `p_j|i` over each point's neighbours: `[points, k]`, in the
/// order of `neighbours`; every row sums to 1 and has perplexity `perplexity` (unless its
/// distances make that impossible, e.g. all equal: then the closest the bisection got).
pub fn conditional_probabilities(neighbours: &Neighbours, perplexity: f64) -> Vec<f64> {
    let k = neighbours.k;
    let mut probabilities = vec![0.0f64; neighbours.indices.len()];
    if k == 0 {
        return probabilities;
    }
    let target_entropy = perplexity.ln();
    probabilities
        .par_chunks_mut(k)
        .enumerate()
        .for_each(|(row, out)| {
            let (_, squared) = neighbours.row(row);
            calibrate_row(squared, target_entropy, out);
        });
    probabilities
}

/// Fills `out` with `exp(−β·d)` normalised, for squared distances `d` (ascending), β chosen by
/// bisection so that the entropy is `target_entropy`.
fn calibrate_row(squared: &[f32], target_entropy: f64, out: &mut [f64]) {
    // Distances relative to the nearest: the same distribution, no underflow for far points.
    let nearest = f64::from(squared[0]);
    let mut beta = 1.0f64;
    let (mut low, mut high) = (0.0f64, f64::INFINITY);
    for _ in 0..MAX_BISECTION_STEPS {
        let mut sum = 0.0;
        let mut weighted = 0.0;
        for (p, &d) in out.iter_mut().zip(squared) {
            let shifted = f64::from(d) - nearest;
            *p = (-beta * shifted).exp();
            sum += *p;
            weighted += shifted * *p;
        }
        let entropy = sum.ln() + beta * weighted / sum;
        if (entropy - target_entropy).abs() < ENTROPY_TOLERANCE {
            break;
        }
        if entropy > target_entropy {
            // Too flat: sharpen.
            low = beta;
            beta = if high.is_infinite() {
                beta * 2.0
            } else {
                (beta + high) / 2.0
            };
        } else {
            high = beta;
            beta = (beta + low) / 2.0;
        }
    }
    let sum: f64 = out.iter().sum();
    for p in out.iter_mut() {
        *p /= sum;
    }
}

/// A symmetric joint distribution over pairs of points, compressed sparse rows: row `i`'s
/// entries are `columns[row_starts[i]..row_starts[i + 1]]` (ascending) with `values`; the
/// values of all rows sum to 1.
#[derive(Debug, Clone, PartialEq)]
pub struct JointAffinities {
    /// `[points + 1]`.
    pub row_starts: Vec<usize>,
    pub columns: Vec<u32>,
    pub values: Vec<f64>,
}

impl JointAffinities {
    pub fn points(&self) -> usize {
        self.row_starts.len() - 1
    }

    /// Row `i`'s columns and values.
    pub fn row(&self, i: usize) -> (&[u32], &[f64]) {
        let span = self.row_starts[i]..self.row_starts[i + 1];
        (&self.columns[span.clone()], &self.values[span])
    }
}

/// `p_ij = (p_j|i + p_i|j) / 2N` from the conditional distributions over `neighbours`.
pub fn symmetric_joint(neighbours: &Neighbours, conditional: &[f64]) -> JointAffinities {
    let points = neighbours.points();
    let k = neighbours.k;
    let scale = 1.0 / (2.0 * points as f64);
    // Every directed edge i → j lands in row i and in row j: count, place, then merge the
    // duplicates (j → i also present) row by row.
    let mut counts = vec![0usize; points + 1];
    for (i, row) in neighbours.indices.chunks_exact(k.max(1)).enumerate() {
        counts[i + 1] += row.len();
        for &j in row {
            counts[j as usize + 1] += 1;
        }
    }
    let mut starts = counts;
    for i in 0..points {
        starts[i + 1] += starts[i];
    }
    let mut fill = starts.clone();
    let mut entries = vec![(0u32, 0.0f64); starts[points]];
    for (i, row) in neighbours.indices.chunks_exact(k.max(1)).enumerate() {
        for (&j, &p) in row.iter().zip(&conditional[i * k..(i + 1) * k]) {
            let value = p * scale;
            entries[fill[i]] = (j, value);
            fill[i] += 1;
            entries[fill[j as usize]] = (i as u32, value);
            fill[j as usize] += 1;
        }
    }
    // Sort and merge each row in place; `merged[i]` is how many distinct columns remain.
    let mut rows: Vec<&mut [(u32, f64)]> = Vec::with_capacity(points);
    let mut rest = entries.as_mut_slice();
    for i in 0..points {
        let (row, tail) = rest.split_at_mut(starts[i + 1] - starts[i]);
        rows.push(row);
        rest = tail;
    }
    let merged: Vec<usize> = rows
        .into_par_iter()
        .map(|row| {
            row.sort_unstable_by_key(|&(column, _)| column);
            let mut kept = 0;
            for read in 0..row.len() {
                if kept > 0 && row[kept - 1].0 == row[read].0 {
                    row[kept - 1].1 += row[read].1;
                } else {
                    row[kept] = row[read];
                    kept += 1;
                }
            }
            kept
        })
        .collect();
    let mut row_starts = Vec::with_capacity(points + 1);
    row_starts.push(0);
    let total: usize = merged.iter().sum();
    let mut columns = Vec::with_capacity(total);
    let mut values = Vec::with_capacity(total);
    for (i, &kept) in merged.iter().enumerate() {
        for &(column, value) in &entries[starts[i]..starts[i] + kept] {
            columns.push(column);
            values.push(value);
        }
        row_starts.push(columns.len());
    }
    JointAffinities {
        row_starts,
        columns,
        values,
    }
}
