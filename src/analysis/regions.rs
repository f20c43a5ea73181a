//! Regions of a project's t-SNE map (a box or a lasso drawn on it) and the tracks inside: what
//! the map view's selections and `deepcuts playlist --region` share, so both take exactly the
//! same tracks.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::tsne::stage::MapOf;

/// A region of the map of `of`, in map units: two vertices are the opposite corners of a box
/// (edges inside), three or more a polygon (a lasso; even-odd rule, so a path that crosses
/// itself takes what it encloses an odd number of times).
#[derive(Debug, Clone)]
pub struct MapRegion {
    pub of: MapOf,
    vertices: Arc<[[f32; 2]]>,
}

/// Why a region cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegionError {
    #[error("a region needs 2 corners (a box) or at least 3 vertices (a polygon), got {0}")]
    Vertices(usize),
    #[error("vertex {index} is not a pair of finite numbers: `{text}` (write X,Y)")]
    Vertex { index: usize, text: String },
}

impl MapRegion {
    /// The box between corners `a` and `b` (any two opposite corners).
    pub fn bounding(of: MapOf, a: [f32; 2], b: [f32; 2]) -> Self {
        Self {
            of,
            vertices: Arc::new([a, b]),
        }
    }

    /// A box (2 vertices) or polygon (3 or more) of finite vertices.
    pub fn new(of: MapOf, vertices: Vec<[f32; 2]>) -> Result<Self, RegionError> {
        if vertices.len() < 2 {
            return Err(RegionError::Vertices(vertices.len()));
        }
        if let Some(index) = vertices
            .iter()
            .position(|v| !(v[0].is_finite() && v[1].is_finite()))
        {
            let v = vertices[index];
            return Err(RegionError::Vertex {
                index,
                text: format!("{},{}", v[0], v[1]),
            });
        }
        Ok(Self {
            of,
            vertices: vertices.into(),
        })
    }

    /// Parses `X,Y X,Y …` (vertices separated by spaces or semicolons), as `--region` takes.
    pub fn parse(of: MapOf, text: &str) -> Result<Self, RegionError> {
        let vertices = text
            .split(|c: char| c.is_whitespace() || c == ';')
            .filter(|part| !part.is_empty())
            .enumerate()
            .map(|(index, part)| {
                let bad = || RegionError::Vertex {
                    index,
                    text: part.to_owned(),
                };
                let (x, y) = part.split_once(',').ok_or_else(bad)?;
                let number = |s: &str| s.trim().parse::<f32>().map_err(|_| bad());
                Ok([number(x)?, number(y)?])
            })
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(of, vertices)
    }

    pub fn vertices(&self) -> &[[f32; 2]] {
        &self.vertices
    }

    pub fn is_box(&self) -> bool {
        self.vertices.len() == 2
    }

    /// The smallest box around the region: (min, max) corners.
    pub fn bounds(&self) -> ([f32; 2], [f32; 2]) {
        let mut min = [f32::INFINITY; 2];
        let mut max = [f32::NEG_INFINITY; 2];
        for v in self.vertices.iter() {
            for axis in 0..2 {
                min[axis] = min[axis].min(v[axis]);
                max[axis] = max[axis].max(v[axis]);
            }
        }
        (min, max)
    }

    /// Whether map point `p` is inside (never for non-finite points: unmapped tracks).
    pub fn contains(&self, p: [f32; 2]) -> bool {
        if !(p[0].is_finite() && p[1].is_finite()) {
            return false;
        }
        let (min, max) = self.bounds();
        let in_box = (min[0]..=max[0]).contains(&p[0]) && (min[1]..=max[1]).contains(&p[1]);
        if self.is_box() || !in_box {
            return in_box;
        }
        // Even-odd rule: count the edges a ray from p towards +x crosses.
        let mut inside = false;
        let n = self.vertices.len();
        for i in 0..n {
            let (a, b) = (self.vertices[i], self.vertices[(i + 1) % n]);
            if (a[1] > p[1]) != (b[1] > p[1]) {
                let x = a[0] + (p[1] - a[1]) / (b[1] - a[1]) * (b[0] - a[0]);
                if p[0] < x {
                    inside = !inside;
                }
            }
        }
        inside
    }

    /// The rows of `positions` (`[tracks]` map points) inside, ascending.
    pub fn inside(&self, positions: &[[f32; 2]]) -> Vec<u32> {
        (0..positions.len() as u32)
            .filter(|&row| self.contains(positions[row as usize]))
            .collect()
    }

    /// "box" or "lasso", for titles.
    pub fn shape(&self) -> &'static str {
        if self.is_box() {
            "box"
        } else {
            "lasso"
        }
    }

    /// A short stable name for files: eight hex digits of the vertices' hash (FNV-1a, so the
    /// name does not change between builds or platforms).
    pub fn key(&self) -> String {
        let mut hash: u32 = 0x811c_9dc5;
        for byte in self
            .vertices
            .iter()
            .flat_map(|v| [v[0].to_bits(), v[1].to_bits()])
            .flat_map(u32::to_le_bytes)
        {
            hash = (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193);
        }
        format!("{hash:08x}")
    }

    fn bits(&self) -> impl Iterator<Item = u32> + '_ {
        self.vertices
            .iter()
            .flat_map(|v| [v[0].to_bits(), v[1].to_bits()])
    }
}

/// Equal when drawn on the same map through the same vertices, bit for bit (so regions can key
/// the app's answers).
impl PartialEq for MapRegion {
    fn eq(&self, other: &Self) -> bool {
        self.of == other.of && self.bits().eq(other.bits())
    }
}

impl Eq for MapRegion {}

impl Hash for MapRegion {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.of.hash(state);
        for bits in self.bits() {
            bits.hash(state);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(vertices: &[[f32; 2]]) -> MapRegion {
        MapRegion::new(MapOf::Predicted, vertices.to_vec()).expect("a region")
    }

    #[test]
    fn a_box_takes_its_edges_from_any_two_opposite_corners() {
        let from_top_right = region(&[[3.0, 2.0], [1.0, 0.0]]);
        let from_bottom_left = region(&[[1.0, 0.0], [3.0, 2.0]]);
        for b in [from_top_right, from_bottom_left] {
            assert!(b.contains([2.0, 1.0]));
            assert!(b.contains([1.0, 0.0]), "a corner is inside");
            assert!(b.contains([3.0, 1.5]), "an edge is inside");
            assert!(!b.contains([3.01, 1.0]));
            assert!(!b.contains([2.0, -0.01]));
            assert!(
                !b.contains([f32::NAN, 1.0]),
                "unmapped tracks are never inside"
            );
        }
    }

    #[test]
    fn a_concave_lasso_leaves_out_its_notch() {
        // An L: the unit square's [0, 2] × [0, 2] minus its top-right quarter.
        let l = region(&[
            [0.0, 0.0],
            [2.0, 0.0],
            [2.0, 1.0],
            [1.0, 1.0],
            [1.0, 2.0],
            [0.0, 2.0],
        ]);
        assert!(l.contains([0.5, 0.5]));
        assert!(l.contains([1.5, 0.5]));
        assert!(l.contains([0.5, 1.5]));
        assert!(!l.contains([1.5, 1.5]), "the notch is outside");
        assert!(!l.contains([2.5, 0.5]));
        assert!(!l.contains([-0.5, 1.0]));
        let points = [[0.5, 0.5], [1.5, 1.5], [0.5, 1.9], [3.0, 3.0], [1.9, 0.1]];
        assert_eq!(l.inside(&points), vec![0, 2, 4]);
    }

    #[test]
    fn a_self_crossing_lasso_takes_what_it_encloses_an_odd_number_of_times() {
        // A bow tie: two triangles meeting at (1, 1).
        let bow = region(&[[0.0, 0.0], [2.0, 2.0], [2.0, 0.0], [0.0, 2.0]]);
        assert!(bow.contains([0.2, 1.0]));
        assert!(bow.contains([1.8, 1.0]));
        assert!(!bow.contains([1.0, 0.2]));
        assert!(!bow.contains([1.0, 1.8]));
    }

    #[test]
    fn parsing_names_the_bad_vertex() {
        let parsed = MapRegion::parse(MapOf::Cf, "0,0; 2.5,0 1,-3").expect("parses");
        assert_eq!(parsed.vertices(), &[[0.0, 0.0], [2.5, 0.0], [1.0, -3.0]]);
        assert_eq!(parsed.of, MapOf::Cf);
        assert_eq!(
            MapRegion::parse(MapOf::Cf, "0,0 1;2"),
            Err(RegionError::Vertex {
                index: 1,
                text: "1".into()
            })
        );
        assert_eq!(
            MapRegion::parse(MapOf::Cf, "0,0"),
            Err(RegionError::Vertices(1))
        );
        assert!(MapRegion::parse(MapOf::Cf, "0,0 inf,1").is_err());
    }

    #[test]
    fn equal_regions_share_a_key_and_others_do_not() {
        let a = region(&[[0.0, 0.0], [1.0, 1.0]]);
        let b = region(&[[0.0, 0.0], [1.0, 1.0]]);
        let c = region(&[[0.0, 0.0], [1.0, 1.5]]);
        assert_eq!(a, b);
        assert_eq!(a.key(), b.key());
        assert_ne!(a, c);
        assert_ne!(a.key(), c.key());
        assert_ne!(a, MapRegion::bounding(MapOf::Cf, [0.0, 0.0], [1.0, 1.0]));
    }
}
