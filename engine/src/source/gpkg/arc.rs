//! Circular arcs to polylines, for the non-linear geometry types of the
//! GeoPackage geometry-types extension (GeoPackage 1.3, Annex F.1;
//! ISO 13249-3 SQL/MM `CircularString`).
//!
//! An arc is given by three points: start, any point on the arc, end. It is
//! replaced by vertices on its circle at equal angles, from the exact start
//! to the exact end (the middle point is on the circle but not necessarily
//! a vertex). Three collinear points are an arc of infinite radius: the
//! straight segments through them. Start equal to end is a full circle
//! whose diameter is start–middle, walked counter-clockwise (SQL/MM leaves
//! the direction open; GDAL walks it counter-clockwise too).
//!
//! How many vertices: a [`Stroke`]. Without a tile (reading features for
//! themselves) the step is GDAL's default, 4°, so both readers draw alike.
//! For a tile the step follows a chord error tied to the tile's resolution
//! (`Stroke::Within`, a fraction of a tile unit in the data's units), as a
//! renderer would: the same arc gets few vertices at low zooms, where it
//! spans a few pixels, and enough at high zooms that no facet shows, where
//! a fixed 4° leaves facets of `r (1 - cos 2°)`, 6 units of a 4096-unit
//! tile for an arc as wide as the tile. Either way an arc keeps at least
//! one vertex per 45° (a circle stays a ring) and at most
//! [`MAX_SEGMENTS`]: an arc of a huge circle cannot make millions.

use geo_types::Coord;

/// GDAL's default step between the vertices of a linearized arc
/// (`OGR_ARC_STEPSIZE`), in degrees.
pub(crate) const STEP_DEGREES: f64 = 4.0;

/// Widest step whatever the tolerance: 8 vertices per circle.
const MAX_STEP_DEGREES: f64 = 45.0;

/// Most segments one arc becomes: 1024 keep a circle as wide as 25 tiles
/// within half a unit of a 4096-unit tile (the chord error of a step is
/// `r (1 - cos(π / 1024))`, 4.7e-6 r), and bound what one arc can cost.
pub(crate) const MAX_SEGMENTS: usize = 1024;

/// How finely arcs are cut into segments.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Stroke {
    /// GDAL's default: vertices at most [`STEP_DEGREES`] apart.
    #[default]
    Gdal,
    /// Vertices close enough that the polyline stays within this distance
    /// of the arc (in the data's units; not finite or not positive is
    /// [`Stroke::Gdal`]).
    Within(f64),
}

impl Stroke {
    /// The number of equal segments for an arc of `radius` sweeping
    /// `sweep` radians (finite, nonzero).
    fn segments(self, radius: f64, sweep: f64) -> usize {
        let step = match self {
            // The chord error of a step θ is r (1 - cos(θ/2)).
            Stroke::Within(e) if e.is_finite() && e > 0.0 => {
                2.0 * (1.0 - (e / radius).min(1.0)).acos()
            }
            _ => STEP_DEGREES.to_radians(),
        };
        let n = (sweep.abs() / step.min(MAX_STEP_DEGREES.to_radians())).ceil();
        // A step that underflowed to 0 makes n infinite: the cap.
        if n >= MAX_SEGMENTS as f64 {
            MAX_SEGMENTS
        } else {
            (n as usize).max(1)
        }
    }
}

/// Collinearity threshold: `|cross(p1 - p0, p2 - p0)|` below this share of
/// `|p1 - p0| |p2 - p0|` (the sine of the angle at p0) makes a straight line.
/// 1e-12 radians keeps the circumcentre's rounding error far below the
/// coordinates' own precision.
const COLLINEAR: f64 = 1e-12;

/// Appends the polyline of the arc `p0`–`p1`–`p2`, cut as `stroke` says, to
/// `out`, which already ends with `p0`: the vertices after the start,
/// ending exactly at `p2`.
pub(crate) fn push_arc(p0: Coord, p1: Coord, p2: Coord, stroke: Stroke, out: &mut Vec<Coord>) {
    let Some((center, radius, start, sweep)) = circle(p0, p1, p2) else {
        // Degenerate: a straight line through the three points.
        out.push(p1);
        out.push(p2);
        return;
    };
    let segments = stroke.segments(radius, sweep);
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
        stroked(p0, p1, p2, Stroke::Gdal)
    }

    fn stroked(p0: Coord, p1: Coord, p2: Coord, stroke: Stroke) -> Vec<Coord> {
        let mut out = vec![p0];
        push_arc(p0, p1, p2, stroke, &mut out);
        out
    }

    /// Largest distance from the arc of `center` and `radius` to the
    /// middle of a segment of `points` (the chord's farthest point).
    fn chord_error(points: &[Coord], center: Coord, radius: f64) -> f64 {
        points
            .windows(2)
            .map(|s| {
                let m = (s[0] + s[1]) / 2.0;
                radius - (m.x - center.x).hypot(m.y - center.y)
            })
            .fold(0.0, f64::max)
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

    #[test]
    fn a_tolerance_sets_the_chord_error_and_so_the_vertex_count() {
        // Issue 12: a half circle of radius 1000, stroked for tiles whose
        // unit is 1, 0.1 and 10: the finer the tile, the more vertices, and
        // the polyline is within the tolerance every time.
        let (p0, p1, p2) = (c(0.0, 0.0), c(1000.0, 1000.0), c(2000.0, 0.0));
        let mut counts = Vec::new();
        for tolerance in [10.0, 1.0, 0.1] {
            let out = stroked(p0, p1, p2, Stroke::Within(tolerance));
            assert_on_circle(&out, c(1000.0, 0.0), 1000.0);
            let error = chord_error(&out, c(1000.0, 0.0), 1000.0);
            assert!(error <= tolerance, "{error} > {tolerance}");
            // Not needlessly fine either: within a quarter of it.
            assert!(error > tolerance / 4.0, "{error} ≪ {tolerance}");
            counts.push(out.len());
        }
        assert_eq!(counts, [13, 37, 113]);
        // GDAL's 4° here: 45 segments, a chord error of 0.6.
        let gdal = arc(p0, p1, p2);
        assert_eq!(gdal.len(), 46);
        assert!((chord_error(&gdal, c(1000.0, 0.0), 1000.0) - 0.609).abs() < 1e-3);
    }

    #[test]
    fn a_coarse_tolerance_keeps_a_circle_a_ring_of_eight_segments() {
        let out = stroked(c(0.0, 0.0), c(2.0, 0.0), c(0.0, 0.0), Stroke::Within(100.0));
        assert_eq!(out.len(), 9);
        assert_eq!(out[0], out[8]);
    }

    #[test]
    fn a_hostile_arc_is_capped_at_max_segments() {
        // A circle of radius 1e12 at a tolerance of 1e-9: about 10^11
        // segments by the tolerance.
        let far = c(2e12, 0.0);
        let out = stroked(c(0.0, 0.0), far, c(0.0, 0.0), Stroke::Within(1e-9));
        assert_eq!(out.len(), MAX_SEGMENTS + 1);
        let tiny = stroked(c(0.0, 0.0), far, c(0.0, 0.0), Stroke::Within(1e-300));
        assert_eq!(tiny.len(), MAX_SEGMENTS + 1);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let out = stroked(c(0.0, 0.0), c(1.0, 1.0), c(2.0, 0.0), Stroke::Within(bad));
            assert_eq!(out.len(), 46, "{bad}: GDAL's step");
        }
    }
}
