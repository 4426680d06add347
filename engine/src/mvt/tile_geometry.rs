//! A feature's geometry as it goes into a tile: transformed to tile units,
//! clipped, simplified, quantised and written as the commands of the three
//! geometry types MVT has (§4.3.4): points, lines and polygons.

use geo_types::{Coord, Geometry, LineString, Polygon};

use super::clip::Square;
use super::command::CommandWriter;
use super::parts::Parts;
use super::quantise::{quantise_line, quantise_polygon};
use super::simplify::Simplifier;
use super::topology::{holes_inside, Sweep};
use super::TileParams;
use crate::rounding::round;

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

    /// The finite points of `coords` in tile units, into `out` (cleared).
    fn tile_points(&self, coords: &[Coord<f64>], out: &mut Vec<Point>) {
        out.clear();
        out.extend(coords.iter().filter_map(|&c| self.tile_point(c)));
    }

    /// The ring `ring` in tile units into `out` (cleared), open (closing
    /// point removed).
    fn tile_ring(&self, ring: &LineString<f64>, out: &mut Vec<Point>) {
        self.tile_points(&ring.0, out);
        if out.len() > 1 && out.first() == out.last() {
            out.pop();
        }
    }
}

/// A feature's geometry as the command streams of the three MVT geometry
/// types: a plain geometry fills one of them, a collection can fill all
/// three. Kept by the layer encoder and reused for every feature, with the
/// pipeline's working buffers.
#[derive(Debug, Default, Clone)]
pub(super) struct TileGeometry {
    /// Points inside the buffered tile, written as one `MoveTo` at the end.
    points: Vec<TilePoint>,
    point_commands: CommandWriter,
    /// Lines of two or more points without consecutive repeats.
    line_commands: CommandWriter,
    /// Polygons: an exterior ring (positive area) then its interior rings
    /// (negative area), each of three or more points.
    polygon_commands: CommandWriter,
    scratch: Scratch,
}

/// The polygon pipeline's buffers.
#[derive(Debug, Default, Clone)]
struct Scratch {
    /// A ring or line in tile units, then clipped; `spare` is the ring
    /// clipper's, and holds a simplified line part.
    ring: Vec<Point>,
    spare: Vec<Point>,
    /// A polygon's clipped rings, then simplified, then quantised; a
    /// line's clipped parts (in `clipped`, `simplified` the clipper's).
    clipped: Parts<Point>,
    simplified: Parts<Point>,
    quantised: Parts<TilePoint>,
    quantised_ring: Vec<TilePoint>,
    simplifier: Simplifier,
    sweep: Sweep,
}

impl TileGeometry {
    /// Replaces the commands with those of `geometry`, transformed,
    /// clipped, simplified and quantised. Nested collections are walked
    /// with an explicit stack, not recursion.
    pub fn encode(&mut self, geometry: &Geometry<f64>, frame: &TileFrame) {
        self.points.clear();
        self.point_commands.clear();
        self.line_commands.clear();
        self.polygon_commands.clear();
        if let Geometry::GeometryCollection(_) = geometry {
            let mut stack = vec![geometry];
            while let Some(geometry) = stack.pop() {
                match geometry {
                    // Reversed so members come off the stack in order.
                    Geometry::GeometryCollection(gc) => stack.extend(gc.0.iter().rev()),
                    other => self.add(other, frame),
                }
            }
        } else {
            self.add(geometry, frame);
        }
        self.point_commands.points(&self.points);
    }

    /// The `MoveTo` commands of the points.
    pub fn points(&self) -> &[u32] {
        self.point_commands.commands()
    }

    pub fn lines(&self) -> &[u32] {
        self.line_commands.commands()
    }

    pub fn polygons(&self) -> &[u32] {
        self.polygon_commands.commands()
    }

    /// Whether nothing is left to encode.
    pub fn is_empty(&self) -> bool {
        self.points().is_empty() && self.lines().is_empty() && self.polygons().is_empty()
    }

    /// Adds a geometry that is not a collection.
    fn add(&mut self, geometry: &Geometry<f64>, frame: &TileFrame) {
        match geometry {
            Geometry::Point(p) => self.add_point(p.0, frame),
            Geometry::MultiPoint(mp) => mp.iter().for_each(|p| self.add_point(p.0, frame)),
            Geometry::Line(l) => self.add_line(&[l.start, l.end], frame),
            Geometry::LineString(ls) => self.add_line(&ls.0, frame),
            Geometry::MultiLineString(mls) => mls.iter().for_each(|ls| self.add_line(&ls.0, frame)),
            Geometry::Polygon(p) => self.add_polygon(p, frame),
            Geometry::MultiPolygon(mp) => mp.iter().for_each(|p| self.add_polygon(p, frame)),
            Geometry::Rect(r) => self.add_polygon(&r.to_polygon(), frame),
            Geometry::Triangle(t) => self.add_polygon(&t.to_polygon(), frame),
            Geometry::GeometryCollection(_) => unreachable!("collections are walked in encode"),
        }
    }

    fn add_point(&mut self, c: Coord<f64>, frame: &TileFrame) {
        if let Some(p) = frame.tile_point(c).filter(|&p| frame.square.contains(p)) {
            self.points.push([round(p[0]), round(p[1])]);
        }
    }

    fn add_line(&mut self, coords: &[Coord<f64>], frame: &TileFrame) {
        let s = &mut self.scratch;
        frame.tile_points(coords, &mut s.ring);
        // The line's parts inside the square, in `clipped`.
        frame
            .square
            .clip_line(&s.ring, &mut s.clipped, &mut s.simplified);
        for part in s.clipped.iter() {
            let part = if frame.tolerance > 0.0 {
                s.simplifier.line(part, frame.tolerance, &mut s.spare);
                &s.spare[..]
            } else {
                part
            };
            if quantise_line(part, &mut s.quantised_ring) {
                self.line_commands.line(&s.quantised_ring);
            }
        }
    }

    /// Clips every ring, then simplifies; a simplified polygon whose rings
    /// now cross, or with a hole outside its exterior, is quantised
    /// unsimplified instead (see `topology` for what is checked).
    fn add_polygon(&mut self, polygon: &Polygon<f64>, frame: &TileFrame) {
        let s = &mut self.scratch;
        s.clipped.clear();
        let rings = std::iter::once(polygon.exterior()).chain(polygon.interiors());
        for (i, ring) in rings.enumerate() {
            frame.tile_ring(ring, &mut s.ring);
            frame.square.clip_ring(&mut s.ring, &mut s.spare);
            if s.ring.len() >= 3 {
                s.clipped.push(&s.ring);
            } else if i == 0 {
                return;
            }
        }
        let kept = if frame.tolerance > 0.0 {
            s.simplified.clear();
            for ring in s.clipped.iter() {
                s.simplifier.ring(ring, frame.tolerance, &mut s.simplified);
            }
            // Nothing removed: the check would fall back to the same rings.
            let unchanged = s.simplified.point_count() == s.clipped.point_count();
            // An exterior thinner than the tolerance vanishes: dropped.
            quantise_polygon(&s.simplified, &mut s.quantised_ring, &mut s.quantised)
                && (unchanged
                    || !s.sweep.rings_cross(&s.quantised) && holes_inside(&s.quantised)
                    || quantise_polygon(&s.clipped, &mut s.quantised_ring, &mut s.quantised))
        } else {
            quantise_polygon(&s.clipped, &mut s.quantised_ring, &mut s.quantised)
        };
        if kept {
            s.quantised
                .iter()
                .for_each(|r| self.polygon_commands.ring(r));
        }
    }
}
