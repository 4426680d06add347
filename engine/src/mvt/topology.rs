//! Checks that simplification kept a polygon's rings apart, in exact
//! integer arithmetic on quantised coordinates (so rounding cannot make a
//! check lie).
//!
//! What is checked is deliberately narrow: no two edges of a polygon's
//! rings *properly* cross (meet at a point interior to both, at an angle),
//! and every hole has a vertex inside its exterior. Touching vertices and
//! collinear overlaps are allowed, because Sutherland–Hodgman clipping
//! already produces them along the tile border (see `clip`) and rejecting
//! them would undo simplification of every concave polygon cut by the tile
//! edge. The check runs only on simplified polygons; a polygon that fails
//! it is encoded unsimplified instead.
//!
//! A small polygon's edges are compared pair by pair. Larger ones are
//! swept in order of their smallest x, each edge compared only with the
//! edges whose x-range overlaps it: near O(n log n) for the usual ring,
//! O(n²) at worst (many long edges spanning the same x).

use super::parts::Parts;
use super::tile_geometry::TilePoint;

/// The sign of the turn `a` → `b` → `c`: positive, negative or zero when
/// collinear. Coordinates are below 2³² so the products fit in `i128`.
fn turn(a: TilePoint, b: TilePoint, c: TilePoint) -> i128 {
    let (abx, aby) = (i128::from(b[0] - a[0]), i128::from(b[1] - a[1]));
    let (acx, acy) = (i128::from(c[0] - a[0]), i128::from(c[1] - a[1]));
    (abx * acy - aby * acx).signum()
}

/// Whether the segments `a`–`b` and `c`–`d` cross at a point interior to
/// both (touching and collinear overlap are not crossings).
fn properly_cross(a: TilePoint, b: TilePoint, c: TilePoint, d: TilePoint) -> bool {
    turn(a, b, c) * turn(a, b, d) < 0 && turn(c, d, a) * turn(c, d, b) < 0
}

/// One ring edge for the sweep.
#[derive(Debug, Clone, Copy)]
struct Edge {
    ring: usize,
    /// The number of edges of its ring.
    ring_len: usize,
    index: usize,
    a: TilePoint,
    b: TilePoint,
}

impl Edge {
    fn min_x(&self) -> i64 {
        self.a[0].min(self.b[0])
    }

    fn max_x(&self) -> i64 {
        self.a[0].max(self.b[0])
    }

    /// Whether the edges are consecutive in the same ring (they share a
    /// vertex by construction).
    fn neighbours(&self, other: &Edge) -> bool {
        let apart = self.index.abs_diff(other.index);
        self.ring == other.ring && (apart == 1 || apart == self.ring_len - 1)
    }

    /// Whether the edges properly cross; their boxes are compared first,
    /// which settles most pairs.
    fn crosses(&self, other: &Edge) -> bool {
        let apart = |axis: usize| {
            let (lo, hi) = (
                self.a[axis].min(self.b[axis]),
                self.a[axis].max(self.b[axis]),
            );
            other.a[axis].max(other.b[axis]) < lo || other.a[axis].min(other.b[axis]) > hi
        };
        !apart(0)
            && !apart(1)
            && !self.neighbours(other)
            && properly_cross(self.a, self.b, other.a, other.b)
    }
}

/// Up to this many edges, comparing every pair (at most 496) costs less
/// than sorting them for the sweep: the rule for the cadastre, buildings
/// and land cover polygons tiles are mostly made of.
const PAIRWISE_MAX_EDGES: usize = 32;

/// The crossing check with its working buffers, kept from polygon to
/// polygon.
#[derive(Debug, Default, Clone)]
pub(super) struct Sweep {
    edges: Vec<Edge>,
    active: Vec<Edge>,
}

impl Sweep {
    /// Whether any two edges of the open rings properly cross. Edges that
    /// share a vertex in the same ring are neighbours and are not compared.
    pub fn rings_cross(&mut self, rings: &Parts<TilePoint>) -> bool {
        self.edges.clear();
        for (ring_index, ring) in rings.iter().enumerate() {
            let n = ring.len();
            self.edges.extend((0..n).map(|i| Edge {
                ring: ring_index,
                ring_len: n,
                index: i,
                a: ring[i],
                b: ring[(i + 1) % n],
            }));
        }
        if self.edges.len() <= PAIRWISE_MAX_EDGES {
            self.any_pair_crosses()
        } else {
            self.sweep_crosses()
        }
    }

    fn any_pair_crosses(&self) -> bool {
        let edges = &self.edges;
        (0..edges.len()).any(|i| edges[i + 1..].iter().any(|other| edges[i].crosses(other)))
    }

    fn sweep_crosses(&mut self) -> bool {
        self.edges.sort_unstable_by_key(Edge::min_x);
        self.active.clear();
        for &edge in &self.edges {
            self.active.retain(|other| other.max_x() >= edge.min_x());
            if self.active.iter().any(|other| edge.crosses(other)) {
                return true;
            }
            self.active.push(edge);
        }
        false
    }
}

/// Where `p` lies against the open ring: `Some(true)` inside, `Some(false)`
/// outside, `None` on its boundary. Crossing-number test, exact.
pub(super) fn inside_ring(p: TilePoint, ring: &[TilePoint]) -> Option<bool> {
    let Some(&last) = ring.last() else {
        return Some(false);
    };
    let mut inside = false;
    let mut a = last;
    for &b in ring {
        let on_x = p[0] >= a[0].min(b[0]) && p[0] <= a[0].max(b[0]);
        let on_y = p[1] >= a[1].min(b[1]) && p[1] <= a[1].max(b[1]);
        if on_x && on_y && turn(a, b, p) == 0 {
            return None;
        }
        // Count edges crossing the ray from p towards +x; half-open in y so
        // a vertex on the ray counts once.
        if (a[1] > p[1]) != (b[1] > p[1]) {
            // p is left of the edge when turn(low, high, p) > 0 with low
            // the end with the smaller y.
            let (low, high) = if a[1] < b[1] { (a, b) } else { (b, a) };
            if turn(low, high, p) > 0 {
                inside = !inside;
            }
        }
        a = b;
    }
    Some(inside)
}

/// Whether the holes (`rings[1..]`) each have a vertex inside the exterior
/// `rings[0]`: with no crossings, that means the hole is inside it. A hole
/// with every vertex on the exterior's boundary passes.
pub(super) fn holes_inside(rings: &Parts<TilePoint>) -> bool {
    if rings.len() == 0 {
        return true;
    }
    let exterior = rings.get(0);
    rings.iter().skip(1).all(|hole| {
        hole.iter()
            .find_map(|&p| inside_ring(p, exterior))
            .unwrap_or(true)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: [TilePoint; 4] = [[0, 0], [10, 0], [10, 10], [0, 10]];

    fn rings_cross(rings: &[Vec<TilePoint>]) -> bool {
        Sweep::default().rings_cross(&Parts::of(rings))
    }

    fn holes_inside(rings: &[Vec<TilePoint>]) -> bool {
        super::holes_inside(&Parts::of(rings))
    }

    #[test]
    fn a_square_does_not_cross_itself() {
        assert!(!rings_cross(&[SQUARE.to_vec()]));
    }

    #[test]
    fn a_bow_tie_crosses_itself() {
        assert!(rings_cross(&[vec![[0, 0], [10, 10], [10, 0], [0, 10]]]));
    }

    #[test]
    fn touching_and_collinear_overlap_along_a_border_are_allowed() {
        // An arch whose base was outside y >= 0, as Sutherland–Hodgman
        // leaves it: the edges (0,0)-(6,0) and (4,0)-(2,0) overlap.
        let ring = vec![
            [0, 5],
            [0, 0],
            [6, 0],
            [6, 5],
            [4, 5],
            [4, 0],
            [2, 0],
            [2, 5],
        ];
        assert!(!rings_cross(&[ring]));
        let touching_hole = vec![[0, 0], [5, 3], [3, 5]];
        assert!(!rings_cross(&[SQUARE.to_vec(), touching_hole]));
    }

    #[test]
    fn a_hole_crossing_its_exterior_is_found() {
        let hole = vec![[5, 5], [15, 5], [15, 6]];
        assert!(rings_cross(&[SQUARE.to_vec(), hole]));
    }

    #[test]
    fn the_sweep_and_the_pairwise_check_agree() {
        // One or two star-shaped rings of 5 to 20 edges around random
        // centres on a small grid: a ring alone is mostly simple, two rings
        // often cross, and rounding to the grid makes touches and collinear
        // overlaps common.
        let mut rng = crate::xorshift::XorShift(0x5eed);
        let mut crossing = 0;
        for _ in 0..2000 {
            let rings: Vec<Vec<TilePoint>> = (0..1 + rng.next() % 2)
                .map(|_| {
                    let n = 5 + rng.next() % 16;
                    let centre = [(rng.next() % 20) as f64, (rng.next() % 20) as f64];
                    (0..n)
                        .map(|k| {
                            let angle = std::f64::consts::TAU * k as f64 / n as f64;
                            let radius = 3.0 + (rng.next() % 8) as f64;
                            [
                                (centre[0] + radius * angle.cos()).round() as i64,
                                (centre[1] + radius * angle.sin()).round() as i64,
                            ]
                        })
                        .collect()
                })
                .collect();
            let mut sweep = Sweep::default();
            sweep.rings_cross(&Parts::of(&rings));
            let pairwise = sweep.any_pair_crosses();
            assert_eq!(sweep.sweep_crosses(), pairwise, "{rings:?}");
            crossing += usize::from(pairwise);
        }
        // Both outcomes were exercised.
        assert!((200..1800).contains(&crossing), "{crossing}");
    }

    #[test]
    fn inside_ring_tells_inside_outside_and_boundary() {
        assert_eq!(inside_ring([5, 5], &SQUARE), Some(true));
        assert_eq!(inside_ring([15, 5], &SQUARE), Some(false));
        assert_eq!(inside_ring([-1, 0], &SQUARE), Some(false));
        assert_eq!(inside_ring([10, 5], &SQUARE), None);
        assert_eq!(inside_ring([0, 0], &SQUARE), None);
    }

    #[test]
    fn a_hole_outside_its_exterior_is_found() {
        let outside = vec![[20, 20], [30, 20], [30, 30]];
        assert!(!holes_inside(&[SQUARE.to_vec(), outside]));
        let inside = vec![[0, 0], [5, 2], [2, 5]];
        assert!(holes_inside(&[SQUARE.to_vec(), inside]));
    }
}
