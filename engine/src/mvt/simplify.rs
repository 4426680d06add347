//! Douglas–Peucker simplification in floating-point tile units.
//!
//! Each removed point lies within `tolerance` of the segment that replaces
//! it, and end points are kept. The subdivision runs on an explicit stack,
//! so a line of millions of points cannot exhaust the thread's stack.
//! Visvalingam–Whyatt was the alternative; Douglas–Peucker bounds the
//! distance, which is the guarantee a tile renderer cares about.

use super::tile_geometry::Point;

/// `line` simplified with Douglas–Peucker: its first and last points, and
/// every point farther than `tolerance` from the simplified segment that
/// would otherwise replace it.
pub(super) fn simplify_line(line: &[Point], tolerance: f64) -> Vec<Point> {
    let n = line.len();
    if n < 3 {
        return line.to_vec();
    }
    let limit = tolerance * tolerance;
    let mut keep = vec![false; n];
    keep[0] = true;
    keep[n - 1] = true;
    let mut stack = vec![(0, n - 1)];
    while let Some((first, last)) = stack.pop() {
        let (a, b) = (line[first], line[last]);
        let mut farthest = (0.0, first);
        for (i, &p) in line.iter().enumerate().take(last).skip(first + 1) {
            let d = segment_distance_squared(p, a, b);
            if d > farthest.0 {
                farthest = (d, i);
            }
        }
        let (d, i) = farthest;
        if d > limit {
            keep[i] = true;
            stack.push((first, i));
            stack.push((i, last));
        }
    }
    line.iter()
        .zip(keep)
        .filter_map(|(&p, kept)| kept.then_some(p))
        .collect()
}

/// The open ring `ring` simplified as the closed line from its first point
/// round to it again, so the first point stays; the result is open too and
/// may have fewer than three points (the ring was thinner than `tolerance`).
pub(super) fn simplify_ring(ring: &[Point], tolerance: f64) -> Vec<Point> {
    let Some(&first) = ring.first() else {
        return Vec::new();
    };
    let mut closed = ring.to_vec();
    closed.push(first);
    let mut simplified = simplify_line(&closed, tolerance);
    simplified.pop();
    simplified
}

/// The squared distance from `p` to the segment `a`–`b` (to `a` when the
/// segment is a point, as it is for a closed ring's first subdivision).
pub(super) fn segment_distance_squared(p: Point, a: Point, b: Point) -> f64 {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    let length_squared = dx * dx + dy * dy;
    let t = if length_squared > 0.0 {
        (((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length_squared).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (ex, ey) = (a[0] + t * dx - p[0], a[1] + t * dy - p[1]);
    ex * ex + ey * ey
}

#[cfg(test)]
mod tests {
    use super::*;

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
