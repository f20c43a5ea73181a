//! The play-count matrix, users × items, kept both row-major by user (CSR) and by item (the
//! CSC of the same matrix, stored as the CSR of its transpose): WMF solves users from the first
//! and items from the second, each row a contiguous run.

/// Why a set of (user, item, count) triplets does not make a play-count matrix.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SparseError {
    #[error(
        "triplet {triplet}: user {user} or item {item} out of range for {users} users × {items} items"
    )]
    OutOfRange {
        triplet: usize,
        user: u32,
        item: u32,
        users: usize,
        items: usize,
    },
    #[error("triplet {triplet}: play count {count} is not a finite number ≥ 0")]
    BadCount { triplet: usize, count: f32 },
    #[error("{users} users × {items} items is too many: indices are 32-bit")]
    TooLarge { users: usize, items: usize },
}

/// A compressed sparse row matrix: row `r` holds the columns `indices[indptr[r]..indptr[r+1]]`
/// (ascending) with their `values`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix {
    rows: usize,
    cols: usize,
    indptr: Vec<usize>,
    indices: Vec<u32>,
    values: Vec<f32>,
}

impl CsrMatrix {
    /// Builds from (row, col, value) entries already checked to be in range; duplicates are
    /// summed and entries that sum to zero dropped.
    fn from_entries(rows: usize, cols: usize, entries: &[(u32, u32, f32)]) -> Self {
        // Counting sort by row, then sort each row by column: O(nnz log row_len).
        let mut counts = vec![0usize; rows + 1];
        for &(r, _, _) in entries {
            counts[r as usize + 1] += 1;
        }
        for r in 0..rows {
            counts[r + 1] += counts[r];
        }
        let mut next = counts.clone();
        let mut by_row = vec![(0u32, 0f32); entries.len()];
        for &(r, c, v) in entries {
            let slot = &mut next[r as usize];
            by_row[*slot] = (c, v);
            *slot += 1;
        }
        let mut indptr = Vec::with_capacity(rows + 1);
        let mut indices = Vec::with_capacity(entries.len());
        let mut values = Vec::with_capacity(entries.len());
        indptr.push(0);
        for r in 0..rows {
            let row = &mut by_row[counts[r]..counts[r + 1]];
            row.sort_unstable_by_key(|&(c, _)| c);
            let mut k = 0;
            while k < row.len() {
                let column = row[k].0;
                let mut sum = 0.0f32;
                while k < row.len() && row[k].0 == column {
                    sum += row[k].1;
                    k += 1;
                }
                if sum != 0.0 {
                    indices.push(column);
                    values.push(sum);
                }
            }
            indptr.push(indices.len());
        }
        Self {
            rows,
            cols,
            indptr,
            indices,
            values,
        }
    }

    pub fn rows(&self) -> usize {
        self.rows
    }

    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Number of stored (nonzero) entries.
    pub fn nnz(&self) -> usize {
        self.indices.len()
    }

    /// Row `r`: its column indices (ascending) and values. Panics if `r >= rows()`.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let span = self.indptr[r]..self.indptr[r + 1];
        (&self.indices[span.clone()], &self.values[span])
    }

    /// The same structure with every value mapped through `f` (e.g. counts to confidences).
    pub fn map_values(&self, f: impl Fn(f32) -> f32) -> Self {
        Self {
            values: self.values.iter().map(|&v| f(v)).collect(),
            ..self.clone()
        }
    }

    /// The entries as (row, col, value), row-major.
    pub fn triplets(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.rows).flat_map(move |r| {
            let (cols, values) = self.row(r);
            cols.iter()
                .zip(values)
                .map(move |(&c, &v)| (r as u32, c, v))
        })
    }
}

/// Play counts of `users` × `items`, indexed both ways.
#[derive(Debug, Clone, PartialEq)]
pub struct PlayCounts {
    by_user: CsrMatrix,
    by_item: CsrMatrix,
}

impl PlayCounts {
    /// Builds the matrix from (user, item, count) triplets; duplicates are summed and pairs
    /// whose counts sum to zero are dropped (a zero count is no preference: confidence 1,
    /// exactly as if absent). Counts must be finite and ≥ 0.
    pub fn from_triplets(
        users: usize,
        items: usize,
        triplets: impl IntoIterator<Item = (u32, u32, f32)>,
    ) -> Result<Self, SparseError> {
        if u32::try_from(users).is_err() || u32::try_from(items).is_err() {
            return Err(SparseError::TooLarge { users, items });
        }
        let mut entries = Vec::new();
        for (triplet, (user, item, count)) in triplets.into_iter().enumerate() {
            if user as usize >= users || item as usize >= items {
                return Err(SparseError::OutOfRange {
                    triplet,
                    user,
                    item,
                    users,
                    items,
                });
            }
            if !count.is_finite() || count < 0.0 {
                return Err(SparseError::BadCount { triplet, count });
            }
            if count > 0.0 {
                entries.push((user, item, count));
            }
        }
        let by_user = CsrMatrix::from_entries(users, items, &entries);
        for entry in &mut entries {
            *entry = (entry.1, entry.0, entry.2);
        }
        let by_item = CsrMatrix::from_entries(items, users, &entries);
        Ok(Self { by_user, by_item })
    }

    /// Rows are users, columns items.
    pub fn by_user(&self) -> &CsrMatrix {
        &self.by_user
    }

    /// Rows are items, columns users (the CSC of [`by_user`](Self::by_user)).
    pub fn by_item(&self) -> &CsrMatrix {
        &self.by_item
    }

    pub fn users(&self) -> usize {
        self.by_user.rows
    }

    pub fn items(&self) -> usize {
        self.by_user.cols
    }

    /// Number of (user, item) pairs with plays.
    pub fn nnz(&self) -> usize {
        self.by_user.nnz()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_duplicates_and_agrees_both_ways() {
        let triplets = [
            (1, 2, 3.0),
            (0, 0, 1.0),
            (1, 2, 2.0),
            (1, 0, 4.0),
            (0, 2, 0.0),
            (2, 1, 1.5),
        ];
        let m = PlayCounts::from_triplets(3, 3, triplets).unwrap();
        assert_eq!(m.nnz(), 4);
        assert_eq!(m.by_user().row(0), (&[0u32][..], &[1.0f32][..]));
        assert_eq!(m.by_user().row(1), (&[0u32, 2][..], &[4.0f32, 5.0][..]));
        assert_eq!(m.by_user().row(2), (&[1u32][..], &[1.5f32][..]));
        assert_eq!(m.by_item().row(0), (&[0u32, 1][..], &[1.0f32, 4.0][..]));
        assert_eq!(m.by_item().row(1), (&[2u32][..], &[1.5f32][..]));
        assert_eq!(m.by_item().row(2), (&[1u32][..], &[5.0f32][..]));
        // Dense reconstruction from either index is the same matrix.
        let mut dense_u = [[0.0f32; 3]; 3];
        for (u, i, v) in m.by_user().triplets() {
            dense_u[u as usize][i as usize] = v;
        }
        let mut dense_i = [[0.0f32; 3]; 3];
        for (i, u, v) in m.by_item().triplets() {
            dense_i[u as usize][i as usize] = v;
        }
        assert_eq!(dense_u, dense_i);
        assert_eq!(dense_u, [[1.0, 0.0, 0.0], [4.0, 0.0, 5.0], [0.0, 1.5, 0.0]]);
    }

    #[test]
    fn refuses_bad_triplets_naming_them() {
        let err = PlayCounts::from_triplets(2, 2, [(0, 0, 1.0), (0, 2, 1.0)]).unwrap_err();
        assert_eq!(
            err,
            SparseError::OutOfRange {
                triplet: 1,
                user: 0,
                item: 2,
                users: 2,
                items: 2
            }
        );
        let err = PlayCounts::from_triplets(2, 2, [(1, 1, -1.0)]).unwrap_err();
        assert!(matches!(err, SparseError::BadCount { triplet: 0, .. }));
        assert!(PlayCounts::from_triplets(2, 2, [(1, 1, f32::NAN)]).is_err());
        let empty = PlayCounts::from_triplets(0, 0, []).unwrap();
        assert_eq!((empty.users(), empty.items(), empty.nnz()), (0, 0, 0));
    }
}
