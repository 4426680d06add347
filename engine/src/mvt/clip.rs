//! Clipping to the buffered tile square, in floating-point tile units,
//! before simplification and rounding.
//!
//! The square is convex, so both lines and rings are clipped against its
//! four half-planes one after the other: a line is cut where it leaves a
//! half-plane (one part becomes several), a ring is clipped with
//! Sutherland–Hodgman, which keeps it one ring. Sutherland–Hodgman can leave
//! zero-width edges along the square's border where a concave ring leaves
//! and re-enters the tile; renderers fill those as nothing, and ST_AsMVTGeom
//! and tippecanoe emit the same. The alternative, a general polygon clipper
//! (Weiler–Atherton, Vatti), would split such rings exactly at the cost of a
//! much larger module.
//!
//! Inputs are finite but may be huge (up to `f64::MAX`): crossing points
//! are computed from halved coordinates so no difference overflows.

use super::parts::Parts;
use super::tile_geometry::Point;

/// The buffered tile square `[lo, hi]²` in tile units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Square {
    pub lo: f64,
    pub hi: f64,
}

impl Square {
    /// Whether `p` is inside or on the border.
    pub fn contains(&self, p: Point) -> bool {
        (self.lo..=self.hi).contains(&p[0]) && (self.lo..=self.hi).contains(&p[1])
    }

    /// The square's four sides as half-planes.
    fn sides(&self) -> [HalfPlane; 4] {
        [
            HalfPlane::new(0, self.lo, true),
            HalfPlane::new(0, self.hi, false),
            HalfPlane::new(1, self.lo, true),
            HalfPlane::new(1, self.hi, false),
        ]
    }

    /// Whether every point is inside: then clipping changes nothing.
    fn contains_all(&self, points: &[Point]) -> bool {
        points.iter().all(|&p| self.contains(p))
    }

    /// The parts of the polyline `line` inside the square, in order, into
    /// `out` (cleared; `spare` is working space). A part can be a single
    /// point where the line only touches the border.
    pub fn clip_line(&self, line: &[Point], out: &mut Parts<Point>, spare: &mut Parts<Point>) {
        out.clear();
        out.push(line);
        if self.contains_all(line) {
            return;
        }
        for side in self.sides() {
            spare.clear();
            out.iter().for_each(|part| side.clip_line(part, spare));
            std::mem::swap(out, spare);
        }
    }

    /// Clips the open ring `ring` (first point not repeated) to the square
    /// with Sutherland–Hodgman, in place (`spare` is working space); empty
    /// when nothing is inside.
    pub fn clip_ring(&self, ring: &mut Vec<Point>, spare: &mut Vec<Point>) {
        if self.contains_all(ring) {
            return;
        }
        for side in self.sides() {
            side.clip_ring(ring, spare);
            std::mem::swap(ring, spare);
        }
    }
}

/// The half-plane `p[axis] >= edge` (`keep_above`) or `p[axis] <= edge`.
#[derive(Debug, Clone, Copy)]
struct HalfPlane {
    axis: usize,
    edge: f64,
    keep_above: bool,
}

impl HalfPlane {
    fn new(axis: usize, edge: f64, keep_above: bool) -> Self {
        HalfPlane {
            axis,
            edge,
            keep_above,
        }
    }

    fn contains(&self, p: Point) -> bool {
        if self.keep_above {
            p[self.axis] >= self.edge
        } else {
            p[self.axis] <= self.edge
        }
    }

    /// Where the segment `a`–`b`, with one end on each side, crosses the
    /// edge; exactly on the edge along `axis`, between `a` and `b` along the
    /// other axis.
    fn crossing(&self, a: Point, b: Point) -> Point {
        let (ea, eb, edge) = (a[self.axis] * 0.5, b[self.axis] * 0.5, self.edge * 0.5);
        let t = (edge - ea) / (eb - ea);
        // eb - ea is non-zero unless both halves underflowed to the same value.
        let t = if t.is_nan() { 0.5 } else { t.clamp(0.0, 1.0) };
        let other = 1 - self.axis;
        let (oa, ob) = (a[other], b[other]);
        let mut p = [0.0; 2];
        p[self.axis] = self.edge;
        p[other] = (oa * (1.0 - t) + ob * t).clamp(oa.min(ob), oa.max(ob));
        p
    }

    /// Appends the parts of `line` inside the half-plane to `out`.
    fn clip_line(&self, line: &[Point], out: &mut Parts<Point>) {
        if let Some(&first) = line.first() {
            if self.contains(first) {
                out.push_point(first);
            }
        }
        for pair in line.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            match (self.contains(a), self.contains(b)) {
                (true, true) => out.push_point(b),
                (true, false) => {
                    out.push_point(self.crossing(a, b));
                    out.end_part();
                }
                (false, true) => {
                    out.push_point(self.crossing(a, b));
                    out.push_point(b);
                }
                (false, false) => {}
            }
        }
        out.end_part();
    }

    /// One Sutherland–Hodgman step: the open ring clipped to the half-plane.
    fn clip_ring(&self, ring: &[Point], out: &mut Vec<Point>) {
        out.clear();
        let Some(&last) = ring.last() else {
            return;
        };
        let mut a = last;
        for &b in ring {
            match (self.contains(a), self.contains(b)) {
                (true, true) => out.push(b),
                (true, false) => out.push(self.crossing(a, b)),
                (false, true) => {
                    out.push(self.crossing(a, b));
                    out.push(b);
                }
                (false, false) => {}
            }
            a = b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SQUARE: Square = Square {
        lo: -64.0,
        hi: 4160.0,
    };

    #[test]
    fn a_line_inside_is_returned_whole() {
        let line = [[0.0, 0.0], [100.0, 50.0], [4096.0, 4096.0]];
        assert_eq!(clip_line(&line), vec![line.to_vec()]);
    }

    #[test]
    fn a_line_crossing_the_tile_twice_becomes_two_parts_ending_on_the_buffer() {
        let line = [
            [-500.0, 1000.0],
            [4600.0, 1000.0],
            [4600.0, 3000.0],
            [-500.0, 3000.0],
        ];
        let parts = clip_line(&line);
        assert_eq!(
            parts,
            vec![
                vec![[-64.0, 1000.0], [4160.0, 1000.0]],
                vec![[4160.0, 3000.0], [-64.0, 3000.0]],
            ]
        );
    }

    #[test]
    fn a_diagonal_line_is_cut_where_it_crosses_the_border() {
        // y = x / 2 + 100 from x = -1000 to x = 1000: enters at x = -64.
        let parts = clip_line(&[[-1000.0, -400.0], [1000.0, 600.0]]);
        assert_eq!(parts.len(), 1);
        let [entry, end] = parts[0][..] else {
            panic!("{parts:?}")
        };
        assert_eq!(entry[0], -64.0);
        assert!((entry[1] - 68.0).abs() < 1e-9, "{entry:?}");
        assert_eq!(end, [1000.0, 600.0]);
    }

    #[test]
    fn a_line_wholly_outside_gives_no_part() {
        let parts = clip_line(&[[-1000.0, -1000.0], [-100.0, -5000.0]]);
        assert!(parts.is_empty(), "{parts:?}");
    }

    fn clip_line(line: &[Point]) -> Vec<Vec<Point>> {
        let (mut out, mut spare) = (Parts::default(), Parts::default());
        SQUARE.clip_line(line, &mut out, &mut spare);
        out.iter().map(<[Point]>::to_vec).collect()
    }

    fn clip_ring(ring: &[Point]) -> Vec<Point> {
        let mut ring = ring.to_vec();
        SQUARE.clip_ring(&mut ring, &mut Vec::new());
        ring
    }

    #[test]
    fn a_ring_larger_than_the_tile_becomes_the_buffered_square() {
        let ring = [[-1e6, -1e6], [1e6, -1e6], [1e6, 1e6], [-1e6, 1e6]];
        let mut clipped = clip_ring(&ring);
        clipped.sort_by(|a, b| a.partial_cmp(b).unwrap());
        assert_eq!(
            clipped,
            vec![
                [-64.0, -64.0],
                [-64.0, 4160.0],
                [4160.0, -64.0],
                [4160.0, 4160.0]
            ]
        );
    }

    #[test]
    fn a_ring_wholly_outside_vanishes() {
        let ring = [[5000.0, 0.0], [6000.0, 0.0], [6000.0, 100.0]];
        assert!(clip_ring(&ring).is_empty());
    }

    #[test]
    fn huge_coordinates_clip_to_finite_points_on_the_border() {
        let m = f64::MAX;
        let parts = clip_line(&[[-m, 2048.0], [m, 2048.0]]);
        assert_eq!(parts, vec![vec![[-64.0, 2048.0], [4160.0, 2048.0]]]);
        let ring = clip_ring(&[[-m, -m], [m, -m], [m, m], [-m, m]]);
        assert_eq!(ring.len(), 4);
        assert!(ring.iter().all(|&p| SQUARE.contains(p)), "{ring:?}");
    }
}
