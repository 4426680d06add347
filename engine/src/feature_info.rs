//! What is under a point of a map (WMS GetFeatureInfo): the features of a
//! vector layer within a tolerance of it. (A raster's band values under
//! the point: `RasterLayer::values_at`.)
//!
//! The hit test is exact on the features' geometry in the map's CRS: a
//! polygon is hit inside (even-odd, so holes are not) or within the
//! tolerance of its outline, a line within the tolerance, a point within
//! it. The tolerance is given in pixels by the caller (QGIS and GeoServer
//! use a few pixels) and measured in the map's units, so the answer does
//! not depend on the data's CRS.

use std::sync::Arc;

use geo_types::{Coord, Geometry, LineString, Polygon};

use crate::bbox::Bbox;
use crate::deadline::Deadline;
use crate::error::Result;
use crate::feature::{Feature, Field};
use crate::source::{FeatureQuery, FeatureSource};
use crate::vector::VectorLayer;

/// Most candidate features read around one point: the query box is a few
/// pixels wide, so more means a pathological layer (millions of features
/// stacked on a pixel); the answer is then refused rather than unbounded.
pub const MAX_CANDIDATES: usize = 100_000;

/// One feature under the point, with the source it came from.
pub struct Hit {
    pub source: Arc<dyn FeatureSource>,
    /// Its geometry in the map's CRS.
    pub feature: Feature,
}

impl Hit {
    /// The attributes of the feature, by field.
    pub fn attributes(&self) -> impl Iterator<Item = (&Field, &crate::feature::Value)> {
        self.source.fields().iter().zip(&self.feature.values)
    }
}

/// The features of `layer` at `point` (in `map`'s CRS) within `tolerance`
/// (map units), at most `max`, in drawing order (bottom source first, as
/// the source gives them).
pub fn features_at(
    layer: &VectorLayer,
    map: &Bbox,
    point: (f64, f64),
    tolerance: f64,
    max: usize,
    deadline: Deadline,
) -> Result<Vec<Hit>> {
    let (x, y) = point;
    let around = Bbox::new(
        Arc::clone(map.shared_crs()),
        [x - tolerance, y - tolerance, x + tolerance, y + tolerance],
    )?;
    let query = FeatureQuery {
        bbox: &around,
        tolerance: tolerance / 4.0,
        max: MAX_CANDIDATES,
        deadline,
    };
    let mut hits = Vec::new();
    for table in layer.tables() {
        if hits.len() >= max {
            break;
        }
        table.source.features(&query, &mut |feature| {
            if hits.len() < max && hit(&feature.geometry, Coord { x, y }, tolerance) {
                hits.push(Hit {
                    source: Arc::clone(&table.source),
                    feature: feature.clone(),
                });
            }
        })?;
    }
    Ok(hits)
}

/// Whether `geometry` is within `tolerance` of `p` (or contains it).
fn hit(geometry: &Geometry<f64>, p: Coord<f64>, tolerance: f64) -> bool {
    let near_line = |line: &LineString<f64>| {
        line.0
            .windows(2)
            .any(|s| segment_distance(p, s[0], s[1]) <= tolerance)
            || (line.0.len() == 1 && segment_distance(p, line.0[0], line.0[0]) <= tolerance)
    };
    let polygon = |poly: &Polygon<f64>| {
        let rings = std::iter::once(poly.exterior()).chain(poly.interiors());
        let crossings = rings.clone().filter(|r| inside(r, p)).count();
        crossings % 2 == 1 || rings.into_iter().any(near_line)
    };
    match geometry {
        Geometry::Point(q) => segment_distance(p, q.0, q.0) <= tolerance,
        Geometry::MultiPoint(m) => m.iter().any(|q| segment_distance(p, q.0, q.0) <= tolerance),
        Geometry::Line(l) => segment_distance(p, l.start, l.end) <= tolerance,
        Geometry::LineString(l) => near_line(l),
        Geometry::MultiLineString(m) => m.iter().any(near_line),
        Geometry::Polygon(poly) => polygon(poly),
        Geometry::MultiPolygon(m) => m.iter().any(polygon),
        Geometry::GeometryCollection(c) => c.iter().any(|g| hit(g, p, tolerance)),
        Geometry::Rect(r) => polygon(&r.to_polygon()),
        Geometry::Triangle(t) => polygon(&t.to_polygon()),
    }
}

/// Distance from `p` to the segment `a`–`b`.
fn segment_distance(p: Coord<f64>, a: Coord<f64>, b: Coord<f64>) -> f64 {
    let (dx, dy) = (b.x - a.x, b.y - a.y);
    let length2 = dx * dx + dy * dy;
    let t = if length2 > 0.0 {
        (((p.x - a.x) * dx + (p.y - a.y) * dy) / length2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (cx, cy) = (a.x + t * dx, a.y + t * dy);
    ((p.x - cx).powi(2) + (p.y - cy).powi(2)).sqrt()
}

/// Whether `p` is inside the closed `ring` (crossing number).
fn inside(ring: &LineString<f64>, p: Coord<f64>) -> bool {
    let mut odd = false;
    for s in ring.0.windows(2) {
        let (a, b) = (s[0], s[1]);
        if (a.y > p.y) != (b.y > p.y) && p.x < a.x + (p.y - a.y) / (b.y - a.y) * (b.x - a.x) {
            odd = !odd;
        }
    }
    odd
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo_types::{line_string, point, polygon};

    #[test]
    fn a_polygon_is_hit_inside_and_near_its_outline_but_not_in_its_hole() {
        let square = Geometry::Polygon(polygon!(
            exterior: [(x: 0.0, y: 0.0), (x: 10.0, y: 0.0), (x: 10.0, y: 10.0), (x: 0.0, y: 10.0), (x: 0.0, y: 0.0)],
            interiors: [[(x: 4.0, y: 4.0), (x: 6.0, y: 4.0), (x: 6.0, y: 6.0), (x: 4.0, y: 6.0), (x: 4.0, y: 4.0)]],
        ));
        let at = |x, y, tol| hit(&square, Coord { x, y }, tol);
        assert!(at(1.0, 1.0, 0.0));
        assert!(!at(5.0, 5.0, 0.5), "the hole");
        assert!(at(5.0, 5.0, 1.5), "near the hole's edge");
        assert!(at(10.5, 5.0, 0.6) && !at(10.5, 5.0, 0.4));
        assert!(!at(20.0, 20.0, 1.0));
    }

    #[test]
    fn lines_and_points_are_hit_within_the_tolerance() {
        let line = Geometry::LineString(line_string![(x: 0.0, y: 0.0), (x: 10.0, y: 0.0)]);
        assert!(hit(&line, Coord { x: 5.0, y: 0.9 }, 1.0));
        assert!(!hit(&line, Coord { x: 5.0, y: 1.1 }, 1.0));
        assert!(!hit(&line, Coord { x: 11.5, y: 0.0 }, 1.0), "past its end");
        let p = Geometry::Point(point!(x: 3.0, y: 4.0));
        assert!(hit(&p, Coord { x: 0.0, y: 0.0 }, 5.0));
        assert!(!hit(&p, Coord { x: 0.0, y: 0.0 }, 4.9));
    }
}
