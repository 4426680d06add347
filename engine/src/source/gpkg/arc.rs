//! Circular arcs to polylines, for the non-linear geometry types of the
//! GeoPackage geometry-types extension (GeoPackage 1.3, Annex F.1;
//! ISO 13249-3 SQL/MM `CircularString`).
//!
//! An arc is given by three points: start, any point on the arc, end. It is
//! replaced by vertices on its circle at equal angles, at most
//! [`STEP_DEGREES`] apart, from the exact start to the exact end (the middle
//! point is on the circle but not necessarily a vertex). Three collinear
//! points are an arc of infinite radius: the straight segments through them.
//! Start equal to end is a full circle whose diameter is start–middle,
//! walked counter-clockwise (SQL/MM leaves the direction open; GDAL walks it
//! counter-clockwise too).
//!
//! The alternative that lost: a chord-error bound (vertices placed so that
//! the polyline is within a distance of the arc) adapts to the radius, but
//! needs a tolerance in the data's units, which a reader does not know.

use geo_types::Coord;

/// Largest angle between two vertices of a linearized arc, in degrees:
/// GDAL's default (`OGR_ARC_STEPSIZE`), so both readers draw alike. The
/// polyline is within `r (1 - cos 2°) ≈ 6.1e-4 r` of the arc, and an arc
/// becomes at most 90 segments: a blob can grow at most 45 times (two
/// 16-byte points in, 90 out).
pub(crate) const STEP_DEGREES: f64 = 4.0;

/// Collinearity threshold: `|cross(p1 - p0, p2 - p0)|` below this share of
/// `|p1 - p0| |p2 - p0|` (the sine of the angle at p0) makes a straight line.
/// 1e-12 radians keeps the circumcentre's rounding error far below the
/// coordinates' own precision.
const COLLINEAR: f64 = 1e-12;

/// Appends the polyline of the arc `p0`–`p1`–`p2` to `out`, which already
/// ends with `p0`: the vertices after the start, ending exactly at `p2`.
pub(crate) fn push_arc(p0: Coord, p1: Coord, p2: Coord, out: &mut Vec<Coord>) {
    let Some((center, radius, start, sweep)) = circle(p0, p1, p2) else {
        // Degenerate: a straight line through the three points.
        out.push(p1);
        out.push(p2);
        return;
    };
    let step = STEP_DEGREES.to_radians();
    // `sweep` is finite and at most 2π, so this is at most 90.
    let segments = (sweep.abs() / step).ceil().max(1.0) as usize;
    for k in 1..segments {
        let angle = start + sweep * k as f64 / segments as f64;
        out.push(Coord {
            x: center.x + radius * angle.cos(),
            y: center.y + radius * angle.sin(),
        });
    }
    out.push(p2);
}

/// The circle of an arc: centre, radius, angle of `p0` and the signed sweep
/// to `p2` through `p1` (positive counter-clockwise), or `None` when the
/// points do not define one (collinear, repeated, not finite).
fn circle(p0: Coord, p1: Coord, p2: Coord) -> Option<(Coord, f64, f64, f64)> {
    use std::f64::consts::TAU;
    if p0 == p2 {
        // A full circle: p1 is diametrically opposite p0.
        if p0 == p1 {
            return None;
        }
        let center = Coord {
            x: (p0.x + p1.x) / 2.0,
            y: (p0.y + p1.y) / 2.0,
        };
        let radius = (p0.x - center.x).hypot(p0.y - center.y);
        let start = (p0.y - center.y).atan2(p0.x - center.x);
        return (radius.is_finite() && start.is_finite()).then_some((center, radius, start, TAU));
    }
    // Circumcentre, relative to p0.
    let b = p1 - p0;
    let c = p2 - p0;
    let cross = b.x * c.y - b.y * c.x;
    let lengths = b.x.hypot(b.y) * c.x.hypot(c.y);
    if !lengths.is_finite() || cross.is_nan() || cross.abs() <= COLLINEAR * lengths {
        return None;
    }
    let (bb, cc) = (b.x * b.x + b.y * b.y, c.x * c.x + c.y * c.y);
    let d = 2.0 * cross;
    let u = Coord {
        x: (c.y * bb - b.y * cc) / d,
        y: (b.x * cc - c.x * bb) / d,
    };
    let center = p0 + u;
    let radius = u.x.hypot(u.y);
    let angle = |p: Coord| (p.y - center.y).atan2(p.x - center.x);
    let (start, end) = (angle(p0), angle(p2));
    // p0 → p1 → p2 turns left: the arc runs counter-clockwise.
    let sweep = if cross > 0.0 {
        (end - start).rem_euclid(TAU)
    } else {
        -(start - end).rem_euclid(TAU)
    };
    (radius.is_finite() && sweep.is_finite()).then_some((center, radius, start, sweep))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(x: f64, y: f64) -> Coord {
        Coord { x, y }
    }

    fn arc(p0: Coord, p1: Coord, p2: Coord) -> Vec<Coord> {
        let mut out = vec![p0];
        push_arc(p0, p1, p2, &mut out);
        out
    }

    fn assert_on_circle(points: &[Coord], center: Coord, radius: f64) {
        for p in points {
            let r = (p.x - center.x).hypot(p.y - center.y);
            assert!((r - radius).abs() < 1e-12, "{p:?} at {r}, not {radius}");
        }
    }

    #[test]
    fn a_half_circle_is_45_segments_on_the_circle_ending_exactly() {
        let out = arc(c(0.0, 0.0), c(1.0, 1.0), c(2.0, 0.0));
        assert_eq!(out.len(), 46);
        assert_eq!(out[0], c(0.0, 0.0));
        assert_eq!(out[45], c(2.0, 0.0));
        assert_on_circle(&out, c(1.0, 0.0), 1.0);
        // Clockwise through the top: the midpoint vertex is (1, 1).
        assert!((out[22] - c(1.0, 1.0)).x.abs() < 0.04 && out[22].y > 0.99);
    }

    #[test]
    fn an_arc_turning_left_runs_counter_clockwise_through_its_middle_point() {
        let out = arc(c(0.0, 0.0), c(1.0, -1.0), c(2.0, 0.0));
        assert_on_circle(&out, c(1.0, 0.0), 1.0);
        assert!(out[1..out.len() - 1].iter().all(|p| p.y < 0.0));
    }

    #[test]
    fn a_three_quarter_arc_takes_the_long_way_round() {
        // From (1,0) counter-clockwise through (-1,0) to (0,-1): 270°.
        let out = arc(c(1.0, 0.0), c(-1.0, 0.0), c(0.0, -1.0));
        assert_eq!(out.len(), 68 + 1);
        assert_on_circle(&out, c(0.0, 0.0), 1.0);
        assert!(out.iter().any(|p| p.y > 0.999));
    }

    #[test]
    fn a_full_circle_has_its_diameter_from_start_to_middle() {
        let out = arc(c(0.0, 0.0), c(4.0, 0.0), c(0.0, 0.0));
        assert_eq!(out.len(), 91);
        assert_eq!(out[90], c(0.0, 0.0));
        assert_on_circle(&out, c(2.0, 0.0), 2.0);
    }

    #[test]
    fn collinear_or_repeated_points_are_straight_segments() {
        let line = arc(c(0.0, 0.0), c(1.0, 1.0), c(2.0, 2.0));
        assert_eq!(line, vec![c(0.0, 0.0), c(1.0, 1.0), c(2.0, 2.0)]);
        let point = arc(c(1.0, 1.0), c(1.0, 1.0), c(1.0, 1.0));
        assert_eq!(point.len(), 3);
        let nan = arc(c(0.0, 0.0), c(f64::NAN, 1.0), c(2.0, 0.0));
        assert_eq!(nan.len(), 3);
    }

    #[test]
    fn a_small_arc_of_a_huge_circle_stays_bounded() {
        let out = arc(c(0.0, 0.0), c(1.0, 1e-9), c(2.0, 0.0));
        assert!(out.len() <= 91);
        assert_eq!(*out.last().unwrap(), c(2.0, 0.0));
    }
}
