//! Top-k selection: the k best-scoring tracks of one score list, or of every column of a
//! `[tracks, columns]` activation matrix in one row-major pass (all playlists of a layer at
//! once). Ties go to the lower track id, so results are deterministic.

use ndarray::ArrayView2;
use rayon::prelude::*;

/// A track and its score.
pub type Scored = (u32, f32);

/// The best `k` of a stream of scored tracks, kept sorted best first. k is small (a playlist),
/// so a sorted vector with a rejection threshold beats a heap.
#[derive(Debug, Clone)]
pub struct TopK {
    k: usize,
    best: Vec<Scored>,
}

impl TopK {
    pub fn new(k: usize) -> Self {
        Self {
            k,
            best: Vec::with_capacity(k + 1),
        }
    }

    /// Offers a track; NaN scores are never kept.
    pub fn push(&mut self, id: u32, score: f32) {
        if self.k == 0 || score.is_nan() {
            return;
        }
        if self.best.len() == self.k {
            let &(last_id, last_score) = self.best.last().expect("k > 0 entries");
            if !better((id, score), (last_id, last_score)) {
                return;
            }
        }
        let at = self.best.partition_point(|&e| better(e, (id, score)));
        self.best.insert(at, (id, score));
        self.best.truncate(self.k);
    }

    /// The kept tracks, best first.
    pub fn into_sorted(self) -> Vec<Scored> {
        self.best
    }
}

/// Whether `a` ranks before `b`: higher score, then lower id.
fn better(a: Scored, b: Scored) -> bool {
    a.1 > b.1 || (a.1 == b.1 && a.0 < b.0)
}

/// The best `k` of `(id, score)` pairs, best first.
pub fn top_k(scores: impl IntoIterator<Item = Scored>, k: usize) -> Vec<Scored> {
    let mut top = TopK::new(k);
    for (id, score) in scores {
        top.push(id, score);
    }
    top.into_sorted()
}

/// For every column of `values` `[tracks, columns]`, the best `k` of the rows `ids`, best
/// first. Columns are split into blocks across threads; each block reads the rows in order,
/// so memory is streamed once per block.
pub fn top_k_columns(values: ArrayView2<f32>, ids: &[u32], k: usize) -> Vec<Vec<Scored>> {
    const BLOCK: usize = 32;
    let columns = values.ncols();
    let blocks: Vec<usize> = (0..columns).step_by(BLOCK).collect();
    blocks
        .into_par_iter()
        .flat_map_iter(|start| {
            let end = (start + BLOCK).min(columns);
            let mut tops: Vec<TopK> = (start..end).map(|_| TopK::new(k)).collect();
            for &id in ids {
                let row = values.row(id as usize);
                for (top, column) in tops.iter_mut().zip(start..end) {
                    top.push(id, row[column]);
                }
            }
            tops.into_iter().map(TopK::into_sorted)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Brute force: sort everything by (score desc, id asc), keep k.
    fn sorted_prefix(mut all: Vec<Scored>, k: usize) -> Vec<Scored> {
        all.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        all.truncate(k);
        all
    }

    #[test]
    fn matches_a_full_sort_with_ties_and_nan() {
        let scores: Vec<Scored> = (0..200u32)
            .map(|i| {
                (
                    i,
                    if i % 17 == 0 {
                        f32::NAN
                    } else {
                        ((i * 37) % 23) as f32
                    },
                )
            })
            .collect();
        let finite: Vec<Scored> = scores.iter().copied().filter(|s| !s.1.is_nan()).collect();
        for k in [0, 1, 5, 10, 23, 500] {
            assert_eq!(top_k(scores.clone(), k), sorted_prefix(finite.clone(), k));
        }
    }

    #[test]
    fn columns_match_per_column_brute_force() {
        let (rows, cols) = (300, 70);
        let values = Array2::from_shape_fn((rows, cols), |(r, c)| {
            ((r * 7919 + c * 104_729) % 1009) as f32 / 1009.0
        });
        let ids: Vec<u32> = (0..rows as u32).filter(|i| i % 3 != 1).collect();
        let tops = top_k_columns(values.view(), &ids, 10);
        assert_eq!(tops.len(), cols);
        for (c, top) in tops.iter().enumerate() {
            let all = ids.iter().map(|&i| (i, values[[i as usize, c]])).collect();
            assert_eq!(top, &sorted_prefix(all, 10), "column {c}");
        }
    }
}
