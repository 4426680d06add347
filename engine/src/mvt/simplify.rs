//! Douglas–Peucker simplification in floating-point tile units.
//!
//! Each removed point lies within `tolerance` of the segment that replaces
//! it, and end points are kept. The subdivision runs on an explicit stack,
//! so a line of millions of points cannot exhaust the thread's stack.
//! Visvalingam–Whyatt was the alternative; Douglas–Peucker bounds the
//! distance, which is the guarantee a tile renderer cares about.

use super::parts::Parts;
use super::tile_geometry::Point;

/// Douglas–Peucker with its working buffers, kept from feature to feature.
#[derive(Debug, Default, Clone)]
pub(super) struct Simplifier {
    /// A ring closed again.
    closed: Vec<Point>,
    keep: Vec<bool>,
    stack: Vec<(usize, usize)>,
}

impl Simplifier {
    /// `line` simplified: its first and last points, and every point
    /// farther than `tolerance` from the simplified segment that would
    /// otherwise replace it.
    /// Into `out` (cleared).
    pub fn line(&mut self, line: &[Point], tolerance: f64, out: &mut Vec<Point>) {
        self.mark(line, tolerance);
        out.clear();
        out.extend(kept(line, &self.keep));
    }

    /// The open ring `ring` simplified as the closed line from its first
    /// point round to it again, so the first point stays, appended to
    /// `out` as one part, open too; it may have fewer than three points
    /// (the ring was thinner than `tolerance`).
    pub fn ring(&mut self, ring: &[Point], tolerance: f64, out: &mut Parts<Point>) {
        let mut closed = std::mem::take(&mut self.closed);
        closed.clear();
        closed.extend_from_slice(ring);
        closed.extend(ring.first());
        self.mark(&closed, tolerance);
        out.push_iter(kept(ring, &self.keep));
        self.closed = closed;
    }

    /// Sets `keep[i]` for the points of `line` Douglas–Peucker keeps.
    /// The subdivision runs on an explicit stack.
    fn mark(&mut self, line: &[Point], tolerance: f64) {
        let n = line.len();
        self.keep.clear();
        self.keep.resize(n, n < 3);
        if n < 3 {
            return;
        }
        self.keep[0] = true;
        self.keep[n - 1] = true;
        let limit = tolerance * tolerance;
        self.stack.clear();
        self.stack.push((0, n - 1));
        while let Some((first, last)) = self.stack.pop() {
            let segment = Segment::new(line[first], line[last]);
            let mut farthest = (0.0, first);
            for (i, &p) in line[first + 1..last].iter().enumerate() {
                let d = segment.scaled_distance_squared(p);
                if d > farthest.0 {
                    farthest = (d, first + 1 + i);
                }
            }
            let (d, i) = farthest;
            if d > limit * segment.scale {
                self.keep[i] = true;
                self.stack.push((first, i));
                self.stack.push((i, last));
            }
        }
    }
}

/// The points of `points` whose `keep` is set.
fn kept<'a>(points: &'a [Point], keep: &'a [bool]) -> impl Iterator<Item = Point> + 'a {
    points
        .iter()
        .zip(keep)
        .filter_map(|(&p, &kept)| kept.then_some(p))
}

/// A segment measured against many points: squared distances come out
/// multiplied by `scale` (the squared length, or 1 for a segment that is a
/// point), which orders them the same and spares a division per point.
struct Segment {
    a: Point,
    b: Point,
    d: Point,
    scale: f64,
}

impl Segment {
    fn new(a: Point, b: Point) -> Self {
        let d = [b[0] - a[0], b[1] - a[1]];
        let length_squared = d[0] * d[0] + d[1] * d[1];
        let scale = if length_squared > 0.0 {
            length_squared
        } else {
            1.0
        };
        Segment { a, b, d, scale }
    }

    /// `scale` times the squared distance from `p` to the nearest point of
    /// the segment (to `a` when the segment is a point, as it is for a
    /// closed ring's first subdivision).
    fn scaled_distance_squared(&self, p: Point) -> f64 {
        let (a, b, d) = (self.a, self.b, self.d);
        let squared = |q: Point| (p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2);
        let along = (p[0] - a[0]) * d[0] + (p[1] - a[1]) * d[1];
        if along <= 0.0 {
            squared(a) * self.scale
        } else if along >= self.scale {
            squared(b) * self.scale
        } else {
            let cross = d[0] * (p[1] - a[1]) - d[1] * (p[0] - a[0]);
            cross * cross
        }
    }
}

/// The squared distance from `p` to the segment `a`–`b`.
#[cfg(test)]
pub(super) fn segment_distance_squared(p: Point, a: Point, b: Point) -> f64 {
    let segment = Segment::new(a, b);
    segment.scaled_distance_squared(p) / segment.scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn simplify_line(line: &[Point], tolerance: f64) -> Vec<Point> {
        let mut out = Vec::new();
        Simplifier::default().line(line, tolerance, &mut out);
        out
    }

    fn simplify_ring(ring: &[Point], tolerance: f64) -> Vec<Point> {
        let mut out = Parts::default();
        Simplifier::default().ring(ring, tolerance, &mut out);
        out.get(0).to_vec()
    }

    #[test]
    fn collinear_points_are_removed_and_end_points_kept() {
        let line: Vec<Point> = (0..=10).map(|i| [i as f64, 0.0]).collect();
        assert_eq!(simplify_line(&line, 0.5), vec![[0.0, 0.0], [10.0, 0.0]]);
    }

    #[test]
    fn a_point_farther_than_the_tolerance_is_kept() {
        // (5, 1.4) is 0.096 from the segment (0, 0)-(10, 3).
        let line = [[0.0, 0.0], [5.0, 1.4], [10.0, 3.0], [20.0, 0.0]];
        assert_eq!(
            simplify_line(&line, 1.0),
            vec![[0.0, 0.0], [10.0, 3.0], [20.0, 0.0]]
        );
        assert_eq!(simplify_line(&line, 0.05), line.to_vec());
    }

    #[test]
    fn a_ring_keeps_its_first_point_and_corners() {
        let ring = [
            [0.0, 0.0],
            [5.0, 0.1],
            [10.0, 0.0],
            [10.0, 10.0],
            [0.0, 10.0],
        ];
        assert_eq!(
            simplify_ring(&ring, 1.0),
            vec![[0.0, 0.0], [10.0, 0.0], [10.0, 10.0], [0.0, 10.0]]
        );
    }

    #[test]
    fn a_ring_thinner_than_the_tolerance_collapses() {
        let ring = [[0.0, 0.0], [100.0, 0.5], [200.0, 0.0], [100.0, -0.5]];
        assert!(simplify_ring(&ring, 1.0).len() < 3);
    }

    #[test]
    fn segment_distance_measures_to_the_nearest_point_of_the_segment() {
        assert_eq!(
            segment_distance_squared([5.0, 3.0], [0.0, 0.0], [10.0, 0.0]),
            9.0
        );
        assert_eq!(
            segment_distance_squared([13.0, 4.0], [0.0, 0.0], [10.0, 0.0]),
            25.0
        );
        assert_eq!(
            segment_distance_squared([3.0, 4.0], [0.0, 0.0], [0.0, 0.0]),
            25.0
        );
    }
}
