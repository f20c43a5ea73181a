//! A uniform grid over a map's points, for hover (the nearest point within a few pixels) and box
//! selection (every point inside a rectangle) without a scan per frame.
//!
//! Why our own: the points never move once a map is loaded, queries are 2-D boxes and nearest
//! within a small radius, and a bucket grid in compressed rows (cell start offsets + point
//! indices, two allocations) answers both in a few cells. The kd-tree crates (`kiddo`,
//! `kdtree`) would add a dependency for a heavier structure that needs an extra pass for box
//! queries.

/// The grid: points bucketed by cell, cells in row-major order.
pub struct PointGrid {
    /// Lower-left corner of cell (0, 0), map units.
    origin: [f32; 2],
    /// Cell width and height, map units (> 0).
    cell: [f32; 2],
    columns: usize,
    rows: usize,
    /// `starts[c]..starts[c + 1]` indexes `points` for cell c.
    starts: Vec<u32>,
    /// Point indices grouped by cell.
    points: Vec<u32>,
}

/// Points per cell on average: a few, so a query visits few cells and few points per cell.
const POINTS_PER_CELL: f32 = 4.0;

impl PointGrid {
    /// A grid over `positions` (map units); non-finite points (unmapped tracks) are left out.
    pub fn new(positions: &[[f32; 2]]) -> Self {
        let finite = |p: &[f32; 2]| p[0].is_finite() && p[1].is_finite();
        let mut min = [f32::INFINITY; 2];
        let mut max = [f32::NEG_INFINITY; 2];
        let mut count = 0usize;
        for p in positions.iter().filter(|p| finite(p)) {
            for axis in 0..2 {
                min[axis] = min[axis].min(p[axis]);
                max[axis] = max[axis].max(p[axis]);
            }
            count += 1;
        }
        if count == 0 {
            min = [0.0; 2];
            max = [1.0; 2];
        }
        let extent = [(max[0] - min[0]).max(1e-6), (max[1] - min[1]).max(1e-6)];
        // Square-ish cells so that a round hover radius covers few cells either way.
        let cells = (count as f32 / POINTS_PER_CELL).max(1.0);
        let side = (extent[0] * extent[1] / cells).sqrt();
        let columns = ((extent[0] / side).ceil() as usize).clamp(1, 4096);
        let rows = ((extent[1] / side).ceil() as usize).clamp(1, 4096);
        let mut grid = Self {
            origin: min,
            cell: [extent[0] / columns as f32, extent[1] / rows as f32],
            columns,
            rows,
            starts: vec![0; columns * rows + 1],
            points: Vec::with_capacity(count),
        };
        let cells_of: Vec<Option<usize>> = positions
            .iter()
            .map(|p| finite(p).then(|| grid.cell_of(*p)))
            .collect();
        for cell in cells_of.iter().flatten() {
            grid.starts[cell + 1] += 1;
        }
        for c in 0..grid.columns * grid.rows {
            grid.starts[c + 1] += grid.starts[c];
        }
        let mut next = grid.starts.clone();
        grid.points.resize(count, 0);
        for (index, cell) in cells_of.iter().enumerate() {
            if let Some(cell) = cell {
                grid.points[next[*cell] as usize] = index as u32;
                next[*cell] += 1;
            }
        }
        grid
    }

    /// Column and row of `p`, clamped to the grid.
    fn column_row(&self, p: [f32; 2]) -> (usize, usize) {
        let at = |axis: usize, count: usize| {
            let i = ((p[axis] - self.origin[axis]) / self.cell[axis]).floor();
            if i.is_nan() {
                0
            } else {
                (i.max(0.0) as usize).min(count - 1)
            }
        };
        (at(0, self.columns), at(1, self.rows))
    }

    fn cell_of(&self, p: [f32; 2]) -> usize {
        let (column, row) = self.column_row(p);
        row * self.columns + column
    }

    /// Calls `visit` with every point index in the cells that overlap `[min, max]`.
    fn for_cells(&self, min: [f32; 2], max: [f32; 2], mut visit: impl FnMut(u32)) {
        let (c0, r0) = self.column_row(min);
        let (c1, r1) = self.column_row(max);
        if c0 > c1 || r0 > r1 {
            return;
        }
        for row in r0..=r1 {
            let first = row * self.columns;
            let span = self.starts[first + c0] as usize..self.starts[first + c1 + 1] as usize;
            self.points[span].iter().copied().for_each(&mut visit);
        }
    }

    /// The point nearest to `at` by on-screen distance, if within `radius_px`. `px_per_unit`
    /// converts map units to pixels on each axis (a plot can stretch x and y differently).
    pub fn nearest(
        &self,
        positions: &[[f32; 2]],
        at: [f32; 2],
        px_per_unit: [f32; 2],
        radius_px: f32,
    ) -> Option<usize> {
        let reach = [radius_px / px_per_unit[0], radius_px / px_per_unit[1]];
        let mut best: Option<(f32, u32)> = None;
        self.for_cells(
            [at[0] - reach[0], at[1] - reach[1]],
            [at[0] + reach[0], at[1] + reach[1]],
            |i| {
                let p = positions[i as usize];
                let dx = (p[0] - at[0]) * px_per_unit[0];
                let dy = (p[1] - at[1]) * px_per_unit[1];
                let d2 = dx * dx + dy * dy;
                // Ties go to the lower index, as a scan in order would choose.
                if d2 <= radius_px * radius_px
                    && best.is_none_or(|(b, j)| d2 < b || (d2 == b && i < j))
                {
                    best = Some((d2, i));
                }
            },
        );
        best.map(|(_, i)| i as usize)
    }

    /// Every point with `min ≤ p ≤ max` on both axes, ascending.
    pub fn within(&self, positions: &[[f32; 2]], min: [f32; 2], max: [f32; 2]) -> Vec<usize> {
        let mut inside = Vec::new();
        self.for_cells(min, max, |i| {
            let p = positions[i as usize];
            if p[0] >= min[0] && p[0] <= max[0] && p[1] >= min[1] && p[1] <= max[1] {
                inside.push(i as usize);
            }
        });
        inside.sort_unstable();
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Clustered points with duplicates and NaN rows, from a fixed-seed generator.
    fn points(count: usize) -> Vec<[f32; 2]> {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 40) as f32 / (1u64 << 24) as f32
        };
        (0..count)
            .map(|i| match i % 10 {
                0 => [f32::NAN, f32::NAN],
                1 => [3.0, -2.0],
                2..=5 => [next() * 0.5 + 10.0, next() * 0.5 - 7.0],
                _ => [next() * 40.0 - 20.0, next() * 10.0 - 5.0],
            })
            .collect()
    }

    #[test]
    fn box_queries_match_a_scan() {
        let positions = points(5000);
        let grid = PointGrid::new(&positions);
        let boxes = [
            ([-30.0, -30.0], [30.0, 30.0]),
            ([9.9, -7.1], [10.2, -6.8]),
            ([3.0, -2.0], [3.0, -2.0]),
            ([-1.0, -1.0], [1.0, 0.5]),
            ([50.0, 50.0], [60.0, 60.0]),
        ];
        for (min, max) in boxes {
            let expected: Vec<usize> = (0..positions.len())
                .filter(|&i| {
                    let p = positions[i];
                    p[0] >= min[0] && p[0] <= max[0] && p[1] >= min[1] && p[1] <= max[1]
                })
                .collect();
            assert_eq!(
                grid.within(&positions, min, max),
                expected,
                "{min:?}–{max:?}"
            );
        }
    }

    #[test]
    fn nearest_matches_a_scan() {
        let positions = points(5000);
        let grid = PointGrid::new(&positions);
        let scale = [20.0, 35.0];
        let radius = 6.0;
        for k in 0..400 {
            let at = [k as f32 * 0.11 - 22.0, (k % 37) as f32 * 0.3 - 8.0];
            let expected = (0..positions.len())
                .filter(|&i| positions[i][0].is_finite())
                .map(|i| {
                    let dx = (positions[i][0] - at[0]) * scale[0];
                    let dy = (positions[i][1] - at[1]) * scale[1];
                    (dx * dx + dy * dy, i)
                })
                .filter(|&(d2, _)| d2 <= radius * radius)
                .min_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)))
                .map(|(_, i)| i);
            assert_eq!(
                grid.nearest(&positions, at, scale, radius),
                expected,
                "{at:?}"
            );
        }
    }

    #[test]
    fn empty_and_single_point_maps() {
        let none: Vec<[f32; 2]> = vec![[f32::NAN, 1.0]];
        let grid = PointGrid::new(&none);
        assert_eq!(
            grid.within(&none, [-1e9, -1e9], [1e9, 1e9]),
            Vec::<usize>::new()
        );
        let one = vec![[2.0, 2.0]];
        let grid = PointGrid::new(&one);
        assert_eq!(grid.nearest(&one, [2.0, 2.1], [10.0, 10.0], 2.0), Some(0));
        assert_eq!(grid.nearest(&one, [2.0, 2.5], [10.0, 10.0], 2.0), None);
    }
}
