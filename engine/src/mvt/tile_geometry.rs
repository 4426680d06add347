//! A feature's geometry as it goes into a tile: transformed to tile units,
//! clipped, simplified, quantised and sorted into the three geometry types
//! MVT has (§4.3.4): points, lines and polygons.

use geo_types::{Coord, Geometry, LineString, Polygon};

use super::clip::Square;
use super::quantise::{orient, quantise_line, quantise_ring};
use super::simplify::{simplify_line, simplify_ring};
use super::topology::{holes_inside, rings_cross};
use super::TileParams;

/// A point in floating-point tile units (x right, y down).
pub(super) type Point = [f64; 2];

/// A point in integer tile coordinates, as encoded.
pub(super) type TilePoint = [i64; 2];

/// [`TileParams`] checked and turned into the transform, clip square and
/// tolerance the pipeline uses.
#[derive(Debug, Clone, Copy)]
pub(super) struct TileFrame {
    min_x: f64,
    max_y: f64,
    scale_x: f64,
    scale_y: f64,
    square: Square,
    tolerance: f64,
}

impl TileFrame {
    /// The frame for `params`, or `None` when no feature could be encoded
    /// with them: a bbox that is not finite or has no area (or so little
    /// that the scale to tile units overflows), an extent of 0,
    /// or an extent plus buffers of 2³¹ or more (deltas must fit the 32-bit
    /// zigzag parameters of §4.3.2). A negative or NaN tolerance means none.
    pub fn new(params: &TileParams) -> Option<TileFrame> {
        let [min_x, min_y, max_x, max_y] = params.bbox;
        let (width, height) = (max_x - min_x, max_y - min_y);
        let span = u64::from(params.extent) + 2 * u64::from(params.buffer);
        let usable = width.is_finite()
            && height.is_finite()
            && width > 0.0
            && height > 0.0
            && params.extent > 0
            && span <= i32::MAX as u64;
        if !usable {
            return None;
        }
        let extent = f64::from(params.extent);
        let buffer = f64::from(params.buffer);
        let (scale_x, scale_y) = (extent / width, extent / height);
        // A subnormal width or height overflows the scale.
        if !(scale_x.is_finite() && scale_y.is_finite()) {
            return None;
        }
        Some(TileFrame {
            min_x,
            max_y,
            scale_x,
            scale_y,
            square: Square {
                lo: -buffer,
                hi: extent + buffer,
            },
            tolerance: if params.tolerance > 0.0 {
                params.tolerance
            } else {
                0.0
            },
        })
    }

    /// `c` in tile units (§4.3: y grows downwards), `None` when not finite.
    fn tile_point(&self, c: Coord<f64>) -> Option<Point> {
        let p = [
            (c.x - self.min_x) * self.scale_x,
            (self.max_y - c.y) * self.scale_y,
        ];
        (p[0].is_finite() && p[1].is_finite()).then_some(p)
    }

    /// The finite points of `coords` in tile units.
    fn tile_points(&self, coords: &[Coord<f64>]) -> Vec<Point> {
        coords.iter().filter_map(|&c| self.tile_point(c)).collect()
    }

    /// The ring `ring` in tile units, open (closing point removed).
    fn tile_ring(&self, ring: &LineString<f64>) -> Vec<Point> {
        let mut points = self.tile_points(&ring.0);
        if points.len() > 1 && points.first() == points.last() {
            points.pop();
        }
        points
    }
}

/// A feature's geometry ready for command encoding, one list per MVT
/// geometry type; a plain geometry fills one of them, a collection can
/// fill all three.
#[derive(Debug, Default, Clone, PartialEq)]
pub(super) struct TileGeometry {
    /// Points inside the buffered tile.
    pub points: Vec<TilePoint>,
    /// Lines of two or more points without consecutive repeats.
    pub lines: Vec<Vec<TilePoint>>,
    /// Polygons: an exterior ring (positive area) then its interior rings
    /// (negative area), each open, of three or more points.
    pub polygons: Vec<Vec<Vec<TilePoint>>>,
}

impl TileGeometry {
    /// `geometry` transformed, clipped, simplified and quantised. Nested
    /// collections are walked with an explicit stack, not recursion.
    pub fn new(geometry: &Geometry<f64>, frame: &TileFrame) -> TileGeometry {
        let mut out = TileGeometry::default();
        let mut stack = vec![geometry];
        while let Some(geometry) = stack.pop() {
            match geometry {
                Geometry::Point(p) => out.add_point(p.0, frame),
                Geometry::MultiPoint(mp) => mp.iter().for_each(|p| out.add_point(p.0, frame)),
                Geometry::Line(l) => out.add_line(&[l.start, l.end], frame),
                Geometry::LineString(ls) => out.add_line(&ls.0, frame),
                Geometry::MultiLineString(mls) => {
                    mls.iter().for_each(|ls| out.add_line(&ls.0, frame))
                }
                Geometry::Polygon(p) => out.add_polygon(p, frame),
                Geometry::MultiPolygon(mp) => mp.iter().for_each(|p| out.add_polygon(p, frame)),
                Geometry::Rect(r) => out.add_polygon(&r.to_polygon(), frame),
                Geometry::Triangle(t) => out.add_polygon(&t.to_polygon(), frame),
                // Reversed so members come off the stack in order.
                Geometry::GeometryCollection(gc) => stack.extend(gc.0.iter().rev()),
            }
        }
        out
    }

    /// Whether nothing is left to encode.
    pub fn is_empty(&self) -> bool {
        self.points.is_empty() && self.lines.is_empty() && self.polygons.is_empty()
    }

    fn add_point(&mut self, c: Coord<f64>, frame: &TileFrame) {
        if let Some(p) = frame.tile_point(c).filter(|&p| frame.square.contains(p)) {
            self.points.push([p[0].round() as i64, p[1].round() as i64]);
        }
    }

    fn add_line(&mut self, coords: &[Coord<f64>], frame: &TileFrame) {
        let line = frame.tile_points(coords);
        for part in frame.square.clip_line(&line) {
            let part = if frame.tolerance > 0.0 {
                simplify_line(&part, frame.tolerance)
            } else {
                part
            };
            self.lines.extend(quantise_line(&part));
        }
    }

    /// Clips every ring, then simplifies; a simplified polygon whose rings
    /// now cross, or with a hole outside its exterior, is quantised
    /// unsimplified instead (see `topology` for what is checked).
    fn add_polygon(&mut self, polygon: &Polygon<f64>, frame: &TileFrame) {
        let exterior = frame.square.clip_ring(&frame.tile_ring(polygon.exterior()));
        if exterior.len() < 3 {
            return;
        }
        let mut rings = vec![exterior];
        rings.extend(
            polygon
                .interiors()
                .iter()
                .map(|ring| frame.square.clip_ring(&frame.tile_ring(ring)))
                .filter(|ring| ring.len() >= 3),
        );
        let quantised = if frame.tolerance > 0.0 {
            let simplified: Vec<Vec<Point>> = rings
                .iter()
                .map(|ring| simplify_ring(ring, frame.tolerance))
                .collect();
            match quantise_polygon(&simplified) {
                Some(q) if !rings_cross(&q) && holes_inside(&q) => Some(q),
                // The exterior is thinner than the tolerance: drop it.
                None => None,
                Some(_) => quantise_polygon(&rings),
            }
        } else {
            quantise_polygon(&rings)
        };
        self.polygons.extend(quantised);
    }
}

/// The polygon's rings quantised and oriented, holes that vanish dropped;
/// `None` when the exterior `rings[0]` vanishes.
fn quantise_polygon(rings: &[Vec<Point>]) -> Option<Vec<Vec<TilePoint>>> {
    let (exterior, holes) = rings.split_first()?;
    let mut exterior = quantise_ring(exterior)?;
    orient(&mut exterior, true);
    let mut out = vec![exterior];
    for hole in holes {
        if let Some(mut hole) = quantise_ring(hole) {
            orient(&mut hole, false);
            out.push(hole);
        }
    }
    Some(out)
}
