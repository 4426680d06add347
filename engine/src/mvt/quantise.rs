//! Rounding clipped, simplified geometry to integer tile coordinates, and
//! the ring rules of MVT 2.1 §4.3.4.4 that only make sense on integers:
//! no repeated consecutive points, at least three distinct points, non-zero
//! area, exterior rings with positive area and interior rings negative.

use super::parts::Parts;
use super::tile_geometry::{Point, TilePoint};
use crate::rounding::round;

/// Rounds every point into `out` (cleared) and drops consecutive
/// duplicates.
fn round_dedup(points: &[Point], out: &mut Vec<TilePoint>) {
    out.clear();
    for p in points {
        // Clipped coordinates lie in the buffered square, well inside i64;
        // `as` saturates anyway.
        let q = [round(p[0]), round(p[1])];
        if out.last() != Some(&q) {
            out.push(q);
        }
    }
}

/// The line rounded into `out`, without repeated points (§4.3.3.2 forbids
/// zero-length `LineTo`); false when fewer than two distinct points are
/// left.
pub(super) fn quantise_line(line: &[Point], out: &mut Vec<TilePoint>) -> bool {
    round_dedup(line, out);
    out.len() >= 2
}

/// The open ring rounded into `out`, without repeated points (also across
/// the wrap), and twice its area; `None` when it has fewer than three
/// points or zero area, which §4.3.4.4 does not allow.
fn quantise_ring(ring: &[Point], out: &mut Vec<TilePoint>) -> Option<i128> {
    round_dedup(ring, out);
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    let area = twice_area(out);
    (out.len() >= 3 && area != 0).then_some(area)
}

/// The polygon `rings` (exterior first) quantised and oriented into `out`
/// (cleared), holes that vanish dropped; false when the exterior vanishes.
/// `ring` is working space.
pub(super) fn quantise_polygon(
    rings: &Parts<Point>,
    ring: &mut Vec<TilePoint>,
    out: &mut Parts<TilePoint>,
) -> bool {
    out.clear();
    for (i, r) in rings.iter().enumerate() {
        let exterior = i == 0;
        if let Some(area) = quantise_ring(r, ring) {
            orient(ring, area, exterior);
            out.push(ring);
        } else if exterior {
            return false;
        }
    }
    out.len() > 0
}

/// Twice the signed area of the open ring by the surveyor's formula, in
/// tile coordinates (y down): positive for a ring that turns clockwise on
/// screen, which §4.3.4.4 requires of exterior rings.
///
/// Quantised points lie in the buffered tile, within ±2³¹ (checked when the
/// tile frame is built): each cross product fits in an `i64`, and only
/// their sum needs 128 bits.
pub(super) fn twice_area(ring: &[TilePoint]) -> i128 {
    let Some(&last) = ring.last() else {
        return 0;
    };
    let mut a = last;
    let mut sum = 0i128;
    for &b in ring {
        sum += i128::from(a[0] * b[1] - b[0] * a[1]);
        a = b;
    }
    sum
}

/// Reverses `ring`, whose doubled area is `area`, if needed so that its
/// area is positive (`exterior`) or negative (interior), keeping its first
/// point first.
pub(super) fn orient(ring: &mut [TilePoint], area: i128, exterior: bool) {
    if (exterior && area < 0) || (!exterior && area > 0) {
        if let Some(rest) = ring.get_mut(1..) {
            rest.reverse();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quantise_line(line: &[Point]) -> Option<Vec<TilePoint>> {
        let mut out = Vec::new();
        super::quantise_line(line, &mut out).then_some(out)
    }

    fn quantise_ring(ring: &[Point]) -> Option<Vec<TilePoint>> {
        let mut out = Vec::new();
        super::quantise_ring(ring, &mut out).map(|_| out)
    }

    #[test]
    fn the_spec_polygon_example_has_positive_area() {
        // MVT 2.1 §4.3.5.5: (3,6) (8,12) (20,34) is a valid exterior ring.
        assert_eq!(twice_area(&[[3, 6], [8, 12], [20, 34]]), 38);
        // §4.3.5.7: the hole (13,13) (13,17) (17,17) (17,13) is negative.
        assert_eq!(twice_area(&[[13, 13], [13, 17], [17, 17], [17, 13]]), -32);
    }

    #[test]
    fn rounding_drops_repeated_points_and_the_closing_point() {
        let ring = [
            [0.2, 0.0],
            [0.4, 0.1],
            [10.0, 0.0],
            [10.0, 10.0],
            [0.0, 9.6],
            [-0.3, 0.2],
        ];
        assert_eq!(
            quantise_ring(&ring),
            Some(vec![[0, 0], [10, 0], [10, 10], [0, 10]])
        );
    }

    #[test]
    fn rings_of_two_points_or_zero_area_are_dropped() {
        assert_eq!(quantise_ring(&[[0.0, 0.0], [5.0, 5.0]]), None);
        assert_eq!(quantise_ring(&[[0.0, 0.0], [5.0, 5.0], [10.0, 10.0]]), None);
        assert_eq!(quantise_ring(&[[0.0, 0.0], [0.1, 0.2], [0.3, 0.1]]), None);
    }

    #[test]
    fn lines_need_two_distinct_points() {
        assert_eq!(quantise_line(&[[1.0, 1.0], [1.2, 0.9]]), None);
        assert_eq!(
            quantise_line(&[[1.0, 1.0], [1.2, 0.9], [3.0, 1.0]]),
            Some(vec![[1, 1], [3, 1]])
        );
    }

    #[test]
    fn orient_reverses_only_when_needed_and_keeps_the_first_point() {
        let orient = |ring: &mut Vec<TilePoint>, exterior| {
            let area = twice_area(ring);
            super::orient(ring, area, exterior);
        };
        let mut ring = vec![[0, 0], [0, 10], [10, 10], [10, 0]];
        assert!(twice_area(&ring) < 0);
        orient(&mut ring, true);
        assert_eq!(ring, [[0, 0], [10, 0], [10, 10], [0, 10]]);
        orient(&mut ring, true);
        assert_eq!(ring, [[0, 0], [10, 0], [10, 10], [0, 10]]);
        orient(&mut ring, false);
        assert!(twice_area(&ring) < 0);
        assert_eq!(ring[0], [0, 0]);
    }
}
