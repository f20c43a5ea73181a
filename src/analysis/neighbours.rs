//! Nearest tracks by cosine similarity (DESIGN.md, "Similarity"), over predicted factors (what
//! the audio says) or WMF factors (what the listening data says), and the two lists side by
//! side with their overlap (`deepcuts neighbours`).

use ndarray::ArrayView2;
use rayon::prelude::*;

use super::results::{AnalysisError, ProjectResults};
use super::top_k::{Scored, TopK};

/// Unit-length copies of a factor matrix's rows, for cosine search. Rows that are absent (no
/// prediction, no listens) or zero are never returned.
#[derive(Debug, Clone)]
pub struct CosineIndex {
    dims: usize,
    /// Row-major `[tracks, dims]`, each present row of length 1, absent rows zero.
    unit: Vec<f32>,
    present: Vec<bool>,
}

impl CosineIndex {
    /// vectors: `[tracks, dims]`; `present[i]` says whether row i may be returned.
    pub fn new(vectors: ArrayView2<f32>, present: &[bool]) -> Self {
        let dims = vectors.ncols();
        let mut unit = vec![0.0f32; vectors.nrows() * dims];
        let mut kept = vec![false; vectors.nrows()];
        for (i, row) in vectors.rows().into_iter().enumerate() {
            if !present.get(i).copied().unwrap_or(false) {
                continue;
            }
            let norm = row
                .iter()
                .map(|&x| f64::from(x) * f64::from(x))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                for (out, &x) in unit[i * dims..(i + 1) * dims].iter_mut().zip(row) {
                    *out = (f64::from(x) / norm) as f32;
                }
                kept[i] = true;
            }
        }
        Self {
            dims,
            unit,
            present: kept,
        }
    }

    /// Over every track's predicted factors (tracks without a prediction are never returned).
    pub fn of_predictions(results: &ProjectResults) -> Result<Self, AnalysisError> {
        Ok(Self::new(
            results.predicted_factors()?.view(),
            &results.predicted,
        ))
    }

    /// Over every row of `vectors` `[tracks, dims]` that is not zero (WMF factors: a track
    /// without listens has a zero row).
    pub fn of_nonzero(vectors: ArrayView2<f32>) -> Self {
        Self::new(vectors, &vec![true; vectors.nrows()])
    }

    /// Length of each vector.
    pub fn dims(&self) -> usize {
        self.dims
    }

    /// Number of rows (tracks).
    pub fn len(&self) -> usize {
        self.present.len()
    }

    pub fn is_empty(&self) -> bool {
        self.present.is_empty()
    }

    /// Whether track `id` has a (non-zero) vector.
    pub fn contains(&self, id: u32) -> bool {
        self.present.get(id as usize).copied().unwrap_or(false)
    }

    /// The ids of every present row.
    pub fn ids(&self) -> Vec<u32> {
        (0..self.present.len() as u32)
            .filter(|&i| self.present[i as usize])
            .collect()
    }

    /// Unit vector of track `id` (zero when absent).
    pub fn vector(&self, id: u32) -> &[f32] {
        let at = id as usize * self.dims;
        &self.unit[at..at + self.dims]
    }

    /// Cosine similarity of two tracks (0 when either is absent).
    pub fn similarity(&self, a: u32, b: u32) -> f32 {
        dot(self.vector(a), self.vector(b))
    }

    /// `query` first, then the `k - 1` candidates most similar to it (the query excluded),
    /// with their cosine similarity. The query must be present.
    pub fn nearest(&self, query: u32, candidates: &[u32], k: usize) -> Vec<Scored> {
        if k == 0 {
            return Vec::new();
        }
        let mut list = vec![(query, self.similarity(query, query))];
        let others = candidates.iter().copied().filter(|&id| id != query);
        list.extend(self.nearest_to(self.vector(query), others, k - 1));
        list
    }

    /// The `k` present candidates most similar to the unit vector `target`, best first; in
    /// parallel over blocks of candidates (a 1M-track search is one pass of 40-float dots).
    pub fn nearest_to(
        &self,
        target: &[f32],
        candidates: impl Iterator<Item = u32>,
        k: usize,
    ) -> Vec<Scored> {
        const BLOCK: usize = 16_384;
        let candidates: Vec<u32> = candidates.filter(|&id| self.contains(id)).collect();
        let partial: Vec<Vec<Scored>> = candidates
            .par_chunks(BLOCK)
            .map(|block| {
                let mut top = TopK::new(k);
                for &id in block {
                    top.push(id, dot(target, self.vector(id)));
                }
                top.into_sorted()
            })
            .collect();
        super::top_k::top_k(partial.into_iter().flatten(), k)
    }
}

/// Dot product with eight independent accumulators, so the compiler vectorises it (a plain
/// `zip().sum()` is a serial chain of float additions).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0.0f32; 8];
    let chunks = a.len() / 8 * 8;
    for (x, y) in a[..chunks].chunks_exact(8).zip(b[..chunks].chunks_exact(8)) {
        for lane in 0..8 {
            lanes[lane] += x[lane] * y[lane];
        }
    }
    let tail: f32 = a[chunks..]
        .iter()
        .zip(&b[chunks..])
        .map(|(x, y)| x * y)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// A track's audio and CF neighbours side by side.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourLists {
    pub query: u32,
    /// Nearest by predicted factors, query first.
    pub audio: Vec<Scored>,
    /// Nearest by WMF factors, query first; `None` when the track has no listens (or `cf`
    /// has not run).
    pub cf: Option<Vec<Scored>>,
}

impl NeighbourLists {
    /// Tracks (other than the query) in both lists.
    pub fn overlap(&self) -> Vec<u32> {
        let Some(cf) = &self.cf else {
            return Vec::new();
        };
        self.audio
            .iter()
            .skip(1)
            .map(|&(id, _)| id)
            .filter(|id| cf.iter().skip(1).any(|(c, _)| c == id))
            .collect()
    }
}

/// The two cosine indexes of a project: predicted factors and WMF factors.
#[derive(Debug, Clone)]
pub struct NeighbourIndexes {
    pub audio: CosineIndex,
    /// `None` when `cf` has not run.
    pub cf: Option<CosineIndex>,
}

impl NeighbourIndexes {
    pub fn load(results: &ProjectResults) -> Result<Self, AnalysisError> {
        Ok(Self {
            audio: CosineIndex::of_predictions(results)?,
            cf: results
                .cf_factors()?
                .map(|factors| CosineIndex::of_nonzero(factors.view())),
        })
    }

    /// `track`'s `k` audio and CF neighbours (each list `k` long, query first).
    pub fn lists(
        &self,
        results: &ProjectResults,
        track: u32,
        k: usize,
    ) -> Result<NeighbourLists, AnalysisError> {
        results.predicted_track(track)?;
        let audio = self.audio.nearest(track, &self.audio.ids(), k);
        let cf = self
            .cf
            .as_ref()
            .filter(|cf| cf.contains(track))
            .map(|cf| cf.nearest(track, &cf.ids(), k));
        Ok(NeighbourLists {
            query: track,
            audio,
            cf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn dot_matches_a_plain_sum() {
        let a: Vec<f32> = (0..43).map(|i| (i as f32 * 0.37).sin()).collect();
        let b: Vec<f32> = (0..43).map(|i| (i as f32 * 0.11).cos()).collect();
        let plain: f64 = a
            .iter()
            .zip(&b)
            .map(|(x, y)| f64::from(*x) * f64::from(*y))
            .sum();
        assert!((f64::from(dot(&a, &b)) - plain).abs() < 1e-5);
    }

    #[test]
    fn nearest_is_brute_force_cosine_query_first() {
        let (n, d) = (500, 7);
        let vectors = Array2::from_shape_fn((n, d), |(i, j)| {
            (((i * 31 + j * 17) % 13) as f32 - 6.0) * if i % 50 == 0 { 0.0 } else { 1.0 }
        });
        let present: Vec<bool> = (0..n).map(|i| i % 7 != 3).collect();
        let index = CosineIndex::new(vectors.view(), &present);
        let cosine = |a: usize, b: usize| {
            let (x, y) = (vectors.row(a), vectors.row(b));
            let dot: f64 = x.iter().zip(y).map(|(p, q)| f64::from(*p * *q)).sum();
            let nx: f64 = x.iter().map(|p| f64::from(p * p)).sum::<f64>().sqrt();
            let ny: f64 = y.iter().map(|p| f64::from(p * p)).sum::<f64>().sqrt();
            dot / (nx * ny)
        };
        let query = 5u32;
        let candidates: Vec<u32> = (0..n as u32).collect();
        let list = index.nearest(query, &candidates, 10);
        assert_eq!(list[0].0, query);
        // Brute force over present, non-zero rows other than the query.
        let mut expected: Vec<(u32, f64)> = (0..n)
            .filter(|&i| present[i] && i % 50 != 0 && i != query as usize)
            .map(|i| (i as u32, cosine(query as usize, i)))
            .collect();
        expected.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        for ((id, score), (want_id, want)) in list[1..].iter().zip(&expected) {
            assert!((f64::from(*score) - want).abs() < 1e-5);
            // Equal similarities may swap; the score must match at that rank.
            if (f64::from(*score) - want).abs() < 1e-6 && id != want_id {
                assert!((cosine(query as usize, *id as usize) - want).abs() < 1e-5);
            }
        }
        assert!(list.iter().all(|(id, _)| present[*id as usize]));
    }
}
