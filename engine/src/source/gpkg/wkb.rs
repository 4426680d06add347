//! Well-Known Binary geometries (OGC 06-103r4 §8, ISO 13249-3) to
//! `geo-types`, as GeoPackage stores them after the blob header
//! (GeoPackage 1.3, clause 2.1.3.1.1).
//!
//! Read: Point, LineString, Polygon, MultiPoint, MultiLineString,
//! MultiPolygon, GeometryCollection, in either byte order (each nested
//! geometry has its own marker), 2D, Z, M and ZM by ISO codes (+1000, +2000,
//! +3000) or by the EWKB high bits (0x80000000 Z, 0x40000000 M, 0x20000000
//! SRID, whose value is skipped). Z and M are dropped. The non-linear types
//! of the geometry-types extension (Annex F.1) are linearized by [`arc`]
//! as finely as the caller's [`Stroke`] asks: CircularString and
//! CompoundCurve become a LineString, CurvePolygon a Polygon, MultiCurve a
//! MultiLineString, MultiSurface a MultiPolygon, with every nesting the
//! types allow (arcs in compound curves, any curve as a ring or a member,
//! curve polygons in multi-surfaces, curves in collections), which is
//! every one GDAL writes. Triangle (which GDAL also writes to GeoPackage)
//! becomes a Polygon, PolyhedralSurface and TIN a MultiPolygon of their
//! faces; the abstract Geometry, Curve and Surface codes are corrupt.
//!
//! A polygon ring with points must have at least 4 once closed (OGC
//! 06-103r4 §6.1.7.1, LinearRing): a ring of one to three points is
//! corrupt, as no polygon can be drawn from it (GDAL reads it as is).
//! Curves may stroke into at most [`MAX_STROKED`] vertices per geometry;
//! beyond, the geometry is refused as unsupported.
//!
//! Empty geometries: `POINT(NaN NaN)` (the GeoPackage encoding of an empty
//! point, clause 2.1.3.1.1) and anything with no coordinates at all become
//! an empty GeometryCollection, the one empty value every consumer of
//! `geo-types` handles; empty points inside a MultiPoint and empty members of
//! a GeometryCollection are left out. Bytes after the geometry are ignored.
//!
//! Bounded by construction: every count is checked against the bytes left
//! before anything is allocated (each element takes at least a known number
//! of bytes), nesting is limited to [`MAX_DEPTH`], and the parser never
//! indexes past its input.

use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};

use super::arc::{push_arc, Stroke};

/// Deepest nesting of collections read: real data nests two or three
/// levels (a collection of multi-polygons); 32 bounds the recursion (and
/// its stack) on hostile input.
pub(crate) const MAX_DEPTH: usize = 32;

/// Most vertices the arcs of one geometry may stroke into: 2²⁰ (16 MiB),
/// a thousand circles at the finest tolerance. Each arc is capped
/// ([`super::arc::MAX_SEGMENTS`]) but a blob can hold many: this bounds
/// what one feature of a few KB can cost.
pub(crate) const MAX_STROKED: usize = 1 << 20;

/// Why a geometry could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum GeometryError {
    /// The bytes do not follow the format.
    #[error("{0}")]
    Corrupt(String),
    /// A valid encoding this reader does not handle.
    #[error("{0}")]
    Unsupported(String),
}

type Result<T> = std::result::Result<T, GeometryError>;

fn corrupt<T>(detail: impl Into<String>) -> Result<T> {
    Err(GeometryError::Corrupt(detail.into()))
}

/// The geometry encoded in `wkb`, Z and M dropped, curves linearized as
/// `stroke` says.
pub(crate) fn parse(wkb: &[u8], stroke: Stroke) -> Result<Geometry<f64>> {
    let mut reader = Reader {
        data: wkb,
        pos: 0,
        stroke,
        stroked: 0,
    };
    let geometry = reader.geometry(0)?;
    Ok(if is_empty(&geometry) {
        empty()
    } else {
        geometry
    })
}

/// The empty geometry features carry when they have none (NULL, flagged
/// empty, no coordinates).
pub(crate) fn empty() -> Geometry<f64> {
    Geometry::GeometryCollection(GeometryCollection(Vec::new()))
}

/// The bounding box `[min_x, min_y, max_x, max_y]` of a geometry's
/// coordinates, `None` when it has none.
pub(crate) fn bounds(geometry: &Geometry<f64>) -> Option<[f64; 4]> {
    let mut b: Option<[f64; 4]> = None;
    for_each_coord(geometry, &mut |c| {
        let e = b.get_or_insert([c.x, c.y, c.x, c.y]);
        *e = [e[0].min(c.x), e[1].min(c.y), e[2].max(c.x), e[3].max(c.y)];
    });
    b
}

/// Whether `geometry` has no coordinate, stopping at the first. A walk of
/// its own rather than a visit of every coordinate by `for_each_coord`,
/// which made the query of a z14 tile 6 % slower.
fn is_empty(geometry: &Geometry<f64>) -> bool {
    let polygon_empty = |p: &Polygon<f64>| {
        p.exterior().0.is_empty() && p.interiors().iter().all(|r| r.0.is_empty())
    };
    match geometry {
        Geometry::Point(_) | Geometry::Line(_) | Geometry::Rect(_) | Geometry::Triangle(_) => false,
        Geometry::LineString(l) => l.0.is_empty(),
        Geometry::Polygon(p) => polygon_empty(p),
        Geometry::MultiPoint(m) => m.0.is_empty(),
        Geometry::MultiLineString(m) => m.0.iter().all(|l| l.0.is_empty()),
        Geometry::MultiPolygon(m) => m.0.iter().all(polygon_empty),
        Geometry::GeometryCollection(g) => g.0.iter().all(is_empty),
    }
}

fn for_each_coord(geometry: &Geometry<f64>, f: &mut impl FnMut(Coord)) {
    let polygon = |p: &Polygon<f64>, f: &mut dyn FnMut(Coord)| {
        let rings = std::iter::once(p.exterior()).chain(p.interiors());
        rings.flat_map(|r| r.0.iter().copied()).for_each(f);
    };
    match geometry {
        Geometry::Point(p) => f(p.0),
        Geometry::Line(l) => [l.start, l.end].into_iter().for_each(f),
        Geometry::LineString(l) => l.0.iter().copied().for_each(f),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPoint(m) => m.0.iter().for_each(|p| f(p.0)),
        Geometry::MultiLineString(m) => m.0.iter().flat_map(|l| &l.0).copied().for_each(f),
        Geometry::MultiPolygon(m) => m.0.iter().for_each(|p| polygon(p, f)),
        Geometry::GeometryCollection(g) => g.0.iter().for_each(|g| for_each_coord(g, f)),
        Geometry::Rect(r) => [r.min(), r.max()].into_iter().for_each(f),
        Geometry::Triangle(t) => t.to_array().into_iter().for_each(f),
    }
}

/// WKB type codes (OGC 06-103r4 Table 7; ISO 13249-3 for the curves).
mod code {
    pub const POINT: u32 = 1;
    pub const LINESTRING: u32 = 2;
    pub const POLYGON: u32 = 3;
    pub const MULTIPOINT: u32 = 4;
    pub const MULTILINESTRING: u32 = 5;
    pub const MULTIPOLYGON: u32 = 6;
    pub const GEOMETRYCOLLECTION: u32 = 7;
    pub const CIRCULARSTRING: u32 = 8;
    pub const COMPOUNDCURVE: u32 = 9;
    pub const CURVEPOLYGON: u32 = 10;
    pub const MULTICURVE: u32 = 11;
    pub const MULTISURFACE: u32 = 12;
    pub const POLYHEDRALSURFACE: u32 = 15;
    pub const TIN: u32 = 16;
    pub const TRIANGLE: u32 = 17;
}

/// The smallest encoded geometry: byte order, type, an empty count.
const MIN_GEOMETRY: usize = 1 + 4 + 4;

#[derive(Clone, Copy)]
enum Order {
    Big,
    Little,
}

impl Order {
    /// The double stored in `b` in this byte order.
    fn f64(self, b: [u8; 8]) -> f64 {
        match self {
            Order::Big => f64::from_be_bytes(b),
            Order::Little => f64::from_le_bytes(b),
        }
    }
}

/// A geometry's header: byte order, base type code, doubles per point.
struct Header {
    order: Order,
    code: u32,
    dims: usize,
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    stroke: Stroke,
    /// Vertices the arcs read so far became, against [`MAX_STROKED`].
    stroked: usize,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos.checked_add(N).filter(|&e| e <= self.data.len());
        let Some(chunk) = end.and_then(|end| self.data.get(self.pos..end)) else {
            return corrupt(format!(
                "truncated at byte {} of {}",
                self.pos,
                self.data.len()
            ));
        };
        let mut out = [0; N];
        out.copy_from_slice(chunk);
        self.pos += N;
        Ok(out)
    }

    fn u32(&mut self, order: Order) -> Result<u32> {
        let b = self.bytes::<4>()?;
        Ok(match order {
            Order::Big => u32::from_be_bytes(b),
            Order::Little => u32::from_le_bytes(b),
        })
    }

    fn f64(&mut self, order: Order) -> Result<f64> {
        Ok(order.f64(self.bytes::<8>()?))
    }

    /// A count of elements that take at least `min_bytes` each, checked
    /// against the bytes left so a hostile count cannot allocate.
    fn count(&mut self, order: Order, min_bytes: usize, what: &str) -> Result<usize> {
        let n = self.u32(order)? as usize;
        let left = self.data.len() - self.pos.min(self.data.len());
        match n.checked_mul(min_bytes) {
            Some(need) if need <= left => Ok(n),
            _ => corrupt(format!(
                "{n} {what} at byte {} need at least {min_bytes} bytes each, {left} left",
                self.pos - 4
            )),
        }
    }

    fn header(&mut self) -> Result<Header> {
        let order = match self.bytes::<1>()? {
            [0] => Order::Big,
            [1] => Order::Little,
            [b] => return corrupt(format!("byte order marker {b} at byte {}", self.pos - 1)),
        };
        let raw = self.u32(order)?;
        if raw & 0x2000_0000 != 0 {
            // EWKB SRID: the blob header already says the SRS.
            self.u32(order)?;
        }
        let iso = raw & 0x1FFF_FFFF;
        let (z, m) = match iso / 1000 {
            0 => (false, false),
            1 => (true, false),
            2 => (false, true),
            3 => (true, true),
            _ => return corrupt(format!("geometry type code {raw:#x}")),
        };
        let z = z || raw & 0x8000_0000 != 0;
        let m = m || raw & 0x4000_0000 != 0;
        Ok(Header {
            order,
            code: iso % 1000,
            dims: 2 + z as usize + m as usize,
        })
    }

    /// One coordinate, Z and M skipped.
    fn coord(&mut self, h: &Header) -> Result<Coord> {
        let x = self.f64(h.order)?;
        let y = self.f64(h.order)?;
        for _ in 2..h.dims {
            self.f64(h.order)?;
        }
        Ok(Coord { x, y })
    }

    /// The coordinate of a Point, `None` for the empty point (NaN, NaN).
    fn point(&mut self, h: &Header) -> Result<Option<Point<f64>>> {
        let c = self.coord(h)?;
        Ok((!(c.x.is_nan() && c.y.is_nan())).then_some(Point(c)))
    }

    /// A counted sequence of coordinates (NaNs inside lines are kept).
    fn points(&mut self, h: &Header) -> Result<Vec<Coord>> {
        let stride = 8 * h.dims;
        let n = self.count(h.order, stride, "points")?;
        // `count` checked the bytes are there: read them in one slice.
        let end = self.pos + n * stride;
        let number = |b: &[u8]| h.order.f64(b.try_into().expect("8 bytes"));
        let points = self.data[self.pos..end]
            .chunks_exact(stride)
            .map(|c| Coord {
                x: number(&c[..8]),
                y: number(&c[8..16]),
            })
            .collect();
        self.pos = end;
        Ok(points)
    }

    fn geometry(&mut self, depth: usize) -> Result<Geometry<f64>> {
        let h = self.nested(depth)?;
        self.body(&h, depth)
    }

    /// The header of a geometry nested `depth` levels deep.
    fn nested(&mut self, depth: usize) -> Result<Header> {
        if depth > MAX_DEPTH {
            return corrupt(format!("geometries nested deeper than {MAX_DEPTH}"));
        }
        self.header()
    }

    fn body(&mut self, h: &Header, depth: usize) -> Result<Geometry<f64>> {
        Ok(match h.code {
            code::POINT => self.point(h)?.map_or_else(empty, Geometry::Point),
            code::LINESTRING | code::CIRCULARSTRING | code::COMPOUNDCURVE => {
                Geometry::LineString(LineString(self.curve_body(h, depth)?))
            }
            code::POLYGON | code::CURVEPOLYGON | code::TRIANGLE => {
                Geometry::Polygon(self.surface_body(h, depth)?)
            }
            code::MULTIPOINT => {
                let n = self.count(h.order, MIN_GEOMETRY, "points")?;
                let mut points = Vec::with_capacity(n);
                for _ in 0..n {
                    let member = self.member(depth, &[code::POINT])?;
                    points.extend(self.point(&member)?);
                }
                Geometry::MultiPoint(MultiPoint(points))
            }
            code::MULTILINESTRING | code::MULTICURVE => {
                let allowed: &[u32] = if h.code == code::MULTILINESTRING {
                    &[code::LINESTRING]
                } else {
                    &[code::LINESTRING, code::CIRCULARSTRING, code::COMPOUNDCURVE]
                };
                let n = self.count(h.order, MIN_GEOMETRY, "curves")?;
                let mut lines = Vec::with_capacity(n);
                for _ in 0..n {
                    let member = self.member(depth, allowed)?;
                    lines.push(LineString(self.curve_body(&member, depth + 1)?));
                }
                Geometry::MultiLineString(MultiLineString(lines))
            }
            code::MULTIPOLYGON | code::MULTISURFACE | code::POLYHEDRALSURFACE | code::TIN => {
                let allowed: &[u32] = match h.code {
                    code::MULTISURFACE => &[code::POLYGON, code::CURVEPOLYGON],
                    code::TIN => &[code::TRIANGLE],
                    _ => &[code::POLYGON],
                };
                let n = self.count(h.order, MIN_GEOMETRY, "surfaces")?;
                let mut polygons = Vec::with_capacity(n);
                for _ in 0..n {
                    let member = self.member(depth, allowed)?;
                    polygons.push(self.surface_body(&member, depth + 1)?);
                }
                Geometry::MultiPolygon(MultiPolygon(polygons))
            }
            code::GEOMETRYCOLLECTION => {
                let n = self.count(h.order, MIN_GEOMETRY, "geometries")?;
                let mut members = Vec::with_capacity(n);
                for _ in 0..n {
                    let member = self.geometry(depth + 1)?;
                    if !is_empty(&member) {
                        members.push(member);
                    }
                }
                Geometry::GeometryCollection(GeometryCollection(members))
            }
            other => return corrupt(format!("geometry type code {other} is not a geometry")),
        })
    }

    /// The header of a member of a collection, which must have one of the
    /// `allowed` types.
    fn member(&mut self, depth: usize, allowed: &[u32]) -> Result<Header> {
        let at = self.pos;
        let h = self.nested(depth + 1)?;
        if allowed.contains(&h.code) {
            Ok(h)
        } else {
            corrupt(format!(
                "member of type {} at byte {at} where {allowed:?} are allowed",
                h.code
            ))
        }
    }

    /// The vertices of a LineString, CircularString or CompoundCurve.
    fn curve_body(&mut self, h: &Header, depth: usize) -> Result<Vec<Coord>> {
        match h.code {
            code::LINESTRING => self.points(h),
            code::CIRCULARSTRING => {
                let at = self.pos;
                let line = circular_string(&self.points(h)?, self.stroke).ok_or_else(|| {
                    GeometryError::Corrupt(format!(
                        "circular string at byte {at} has an even number of points or fewer than 3"
                    ))
                })?;
                self.stroked += line.len();
                if self.stroked > MAX_STROKED {
                    return Err(GeometryError::Unsupported(format!(
                        "curves stroked into more than {MAX_STROKED} vertices"
                    )));
                }
                Ok(line)
            }
            _ => {
                let n = self.count(h.order, MIN_GEOMETRY, "curves")?;
                let mut out: Vec<Coord> = Vec::new();
                for _ in 0..n {
                    let member = self.member(depth, &[code::LINESTRING, code::CIRCULARSTRING])?;
                    let part = self.curve_body(&member, depth + 1)?;
                    // Consecutive parts share their junction point.
                    let skip = usize::from(out.last().is_some() && out.last() == part.first());
                    out.extend(part.into_iter().skip(skip));
                }
                Ok(out)
            }
        }
    }

    /// The rings of a Polygon (LineStrings without headers) or of a
    /// CurvePolygon (curves with headers).
    fn surface_body(&mut self, h: &Header, depth: usize) -> Result<Polygon<f64>> {
        let at = self.pos;
        let rings = if h.code != code::CURVEPOLYGON {
            let n = self.count(h.order, 4, "rings")?;
            let mut rings = Vec::with_capacity(n);
            for _ in 0..n {
                rings.push(LineString(self.points(h)?));
            }
            rings
        } else {
            let allowed = [code::LINESTRING, code::CIRCULARSTRING, code::COMPOUNDCURVE];
            let n = self.count(h.order, MIN_GEOMETRY, "rings")?;
            let mut rings = Vec::with_capacity(n);
            for _ in 0..n {
                let member = self.member(depth, &allowed)?;
                rings.push(LineString(self.curve_body(&member, depth + 1)?));
            }
            rings
        };
        for (i, ring) in rings.iter().enumerate() {
            let n = ring.0.len();
            let closed_len = n + usize::from(ring.0.first() != ring.0.last());
            if n > 0 && closed_len < 4 {
                return corrupt(format!(
                    "ring {i} of the polygon at byte {at} has {n} points, \
                     fewer than the 4 of a closed linear ring"
                ));
            }
        }
        let mut rings = rings.into_iter();
        let exterior = rings.next().unwrap_or_else(|| LineString(Vec::new()));
        Ok(Polygon::new(exterior, rings.collect()))
    }
}

/// The polyline of a CircularString (arcs of three points sharing their
/// ends), `None` unless it has no points or an odd number of at least 3.
fn circular_string(points: &[Coord], stroke: Stroke) -> Option<Vec<Coord>> {
    let Some((&first, rest)) = points.split_first() else {
        return Some(Vec::new());
    };
    if rest.is_empty() || rest.len() % 2 != 0 {
        return None;
    }
    let mut out = vec![first];
    let mut start = first;
    for pair in rest.chunks_exact(2) {
        push_arc(start, pair[0], pair[1], stroke, &mut out);
        start = pair[1];
    }
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use geo_types::{coord, line_string, point, polygon};

    use crate::xorshift::XorShift;

    /// A WKB writer for tests: geometries as nested builders.
    pub(crate) struct Wkb {
        pub bytes: Vec<u8>,
        big: bool,
    }

    impl Wkb {
        pub fn new(big: bool) -> Self {
            Wkb {
                bytes: Vec::new(),
                big,
            }
        }
        pub fn header(mut self, code: u32) -> Self {
            self.bytes.push(if self.big { 0 } else { 1 });
            self.u32(code)
        }
        /// A number given in both byte orders.
        fn number<const N: usize>(mut self, le: [u8; N], be: [u8; N]) -> Self {
            self.bytes
                .extend_from_slice(if self.big { &be } else { &le });
            self
        }
        pub fn u32(self, v: u32) -> Self {
            self.number(v.to_le_bytes(), v.to_be_bytes())
        }
        pub fn f64s(self, values: &[f64]) -> Self {
            values
                .iter()
                .fold(self, |w, v| w.number(v.to_le_bytes(), v.to_be_bytes()))
        }
        pub fn raw(mut self, bytes: &[u8]) -> Self {
            self.bytes.extend_from_slice(bytes);
            self
        }
        /// A geometry with `points` (x, y, ...) under `code`.
        pub fn points(self, code: u32, dims: usize, coords: &[f64]) -> Self {
            self.header(code)
                .u32((coords.len() / dims) as u32)
                .f64s(coords)
        }
    }

    fn little() -> Wkb {
        Wkb::new(false)
    }

    /// Reads with GDAL's default stroke, as the cases below count on.
    fn parse(wkb: &[u8]) -> Result<Geometry<f64>> {
        super::parse(wkb, Stroke::Gdal)
    }

    #[test]
    fn points_are_read_in_both_byte_orders_with_z_and_m_dropped() {
        for big in [false, true] {
            let w = |code| Wkb::new(big).header(code);
            let cases = [
                (w(1).f64s(&[1.0, 2.0]), "2D"),
                (w(1001).f64s(&[1.0, 2.0, 3.0]), "ISO Z"),
                (w(2001).f64s(&[1.0, 2.0, 4.0]), "ISO M"),
                (w(3001).f64s(&[1.0, 2.0, 3.0, 4.0]), "ISO ZM"),
                (w(0x8000_0001).f64s(&[1.0, 2.0, 3.0]), "EWKB Z"),
                (w(0x4000_0001).f64s(&[1.0, 2.0, 4.0]), "EWKB M"),
                (w(0xC000_0001).f64s(&[1.0, 2.0, 3.0, 4.0]), "EWKB ZM"),
                (w(0xA000_0001).u32(4326).f64s(&[1.0, 2.0, 3.0]), "EWKB SRID"),
            ];
            for (wkb, name) in cases {
                let g = parse(&wkb.bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(g, Geometry::Point(point!(x: 1.0, y: 2.0)), "{name}");
            }
        }
    }

    #[test]
    fn linear_types_and_collections_are_read() {
        let line = little().points(1002, 3, &[0.0, 0.0, 9.0, 1.0, 1.0, 9.0]);
        assert_eq!(
            parse(&line.bytes).unwrap(),
            Geometry::LineString(line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)])
        );
        // A big-endian polygon whose ring is not closed gets closed.
        let square = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0];
        let poly = Wkb::new(true).header(3).u32(1).u32(4).f64s(&square);
        let expected =
            polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 1.0, y: 1.0), (x: 0.0, y: 1.0)];
        assert_eq!(
            parse(&poly.bytes).unwrap(),
            Geometry::Polygon(expected.clone())
        );
        // Members carry their own byte order.
        let multi = little()
            .header(6)
            .u32(2)
            .raw(&poly.bytes)
            .raw(&Wkb::new(false).header(3).u32(0).bytes);
        let Geometry::MultiPolygon(m) = parse(&multi.bytes).unwrap() else {
            panic!("not a multipolygon")
        };
        assert_eq!(m.0.len(), 2);
        assert_eq!(m.0[0], expected);
        let collection = little()
            .header(7)
            .u32(3)
            .raw(&little().header(1).f64s(&[5.0, 6.0]).bytes)
            .raw(&little().header(1).f64s(&[f64::NAN, f64::NAN]).bytes)
            .raw(
                &little()
                    .header(1004)
                    .u32(1)
                    .raw(&little().header(1001).f64s(&[1.0, 2.0, 3.0]).bytes)
                    .bytes,
            );
        assert_eq!(
            parse(&collection.bytes).unwrap(),
            Geometry::GeometryCollection(GeometryCollection(vec![
                Geometry::Point(point!(x: 5.0, y: 6.0)),
                Geometry::MultiPoint(MultiPoint(vec![point!(x: 1.0, y: 2.0)])),
            ]))
        );
    }

    #[test]
    fn multipoints_hold_point_members_and_drop_empty_ones() {
        let multi = little()
            .header(4)
            .u32(3)
            .raw(&little().header(1).f64s(&[1.0, 2.0]).bytes)
            .raw(&Wkb::new(true).header(1001).f64s(&[3.0, 4.0, 5.0]).bytes)
            .raw(&little().header(1).f64s(&[f64::NAN, f64::NAN]).bytes);
        assert_eq!(
            parse(&multi.bytes).unwrap(),
            Geometry::MultiPoint(MultiPoint(vec![
                point!(x: 1.0, y: 2.0),
                point!(x: 3.0, y: 4.0)
            ]))
        );
        let wrong = little()
            .header(4)
            .u32(1)
            .raw(&little().points(2, 2, &[0.0, 0.0, 1.0, 1.0]).bytes);
        assert!(matches!(
            parse(&wrong.bytes),
            Err(GeometryError::Corrupt(_))
        ));
    }

    #[test]
    fn empty_geometries_become_an_empty_collection() {
        let cases = [
            little().header(1).f64s(&[f64::NAN, f64::NAN]),
            little().header(2).u32(0),
            little().header(3).u32(0),
            little().header(4).u32(0),
            little().header(7).u32(0),
            little().header(8).u32(0),
            little()
                .header(6)
                .u32(1)
                .raw(&little().header(3).u32(0).bytes),
        ];
        for wkb in cases {
            assert_eq!(parse(&wkb.bytes).unwrap(), empty());
        }
    }

    #[test]
    fn curves_are_linearized_into_linear_types() {
        let arc = [0.0, 0.0, 1.0, 1.0, 2.0, 0.0];
        let circular = little().points(8, 2, &arc);
        let Geometry::LineString(l) = parse(&circular.bytes).unwrap() else {
            panic!("not a line")
        };
        assert_eq!(l.0.len(), 46);
        assert_eq!(l.0[45], coord! {x: 2.0, y: 0.0});
        // CompoundCurve: a segment, then an arc, sharing (2, 0).
        let compound = little()
            .header(1009)
            .u32(2)
            .raw(
                &little()
                    .points(1002, 3, &[-1.0, 0.0, 7.0, 0.0, 0.0, 7.0])
                    .bytes,
            )
            .raw(
                &little()
                    .points(1008, 3, &[0.0, 0.0, 7.0, 1.0, 1.0, 7.0, 2.0, 0.0, 7.0])
                    .bytes,
            );
        let Geometry::LineString(c) = parse(&compound.bytes).unwrap() else {
            panic!("not a line")
        };
        assert_eq!(c.0.len(), 47);
        assert_eq!(c.0[0], coord! {x: -1.0, y: 0.0});
        assert_eq!(c.0[1], coord! {x: 0.0, y: 0.0});
        // CurvePolygon with a full-circle ring.
        let ring = little().points(8, 2, &[0.0, 0.0, 2.0, 0.0, 0.0, 0.0]);
        let curve_polygon = little().header(10).u32(1).raw(&ring.bytes);
        let Geometry::Polygon(p) = parse(&curve_polygon.bytes).unwrap() else {
            panic!("not a polygon")
        };
        assert_eq!(p.exterior().0.len(), 91);
        assert!(p.exterior().is_closed());
        // MultiCurve and MultiSurface.
        let multi_curve = little()
            .header(11)
            .u32(2)
            .raw(&little().points(2, 2, &[0.0, 0.0, 1.0, 1.0]).bytes)
            .raw(&circular.bytes);
        assert!(matches!(
            parse(&multi_curve.bytes).unwrap(),
            Geometry::MultiLineString(m) if m.0.len() == 2 && m.0[1].0.len() == 46
        ));
        let multi_surface = little().header(12).u32(2).raw(&curve_polygon.bytes).raw(
            &little()
                .header(3)
                .u32(1)
                .u32(4)
                .f64s(&[0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0])
                .bytes,
        );
        assert!(matches!(
            parse(&multi_surface.bytes).unwrap(),
            Geometry::MultiPolygon(m) if m.0.len() == 2 && m.0[0].exterior().0.len() == 91
        ));
    }

    #[test]
    fn malformed_curves_and_unknown_types_are_errors() {
        let corrupt_cases = [
            (
                "even circular string",
                little().points(8, 2, &[0.0, 0.0, 1.0, 1.0]),
            ),
            (
                "one-point circular string",
                little().points(8, 2, &[0.0, 0.0]),
            ),
            (
                "point in a compound curve",
                little()
                    .header(9)
                    .u32(1)
                    .raw(&little().header(1).f64s(&[0.0, 0.0]).bytes),
            ),
            ("abstract Geometry", little().header(0)),
            ("abstract Curve", little().header(13)),
            ("unknown code", little().header(99)),
            ("dimension 4000", little().header(4001)),
            (
                "byte order 2",
                Wkb {
                    bytes: vec![2, 1, 0, 0, 0],
                    big: false,
                },
            ),
        ];
        for (name, wkb) in corrupt_cases {
            assert!(
                matches!(parse(&wkb.bytes), Err(GeometryError::Corrupt(_))),
                "{name}"
            );
        }
    }

    /// The ISO code offset for `dims` doubles per point (M alone when
    /// `m` and 3 dimensions).
    fn iso_offset(dims: usize, m: bool) -> u32 {
        match (dims, m) {
            (2, _) => 0,
            (3, false) => 1000,
            (3, true) => 2000,
            _ => 3000,
        }
    }

    /// A geometry of `code` + the ISO offset of `dims`, its points `xy`
    /// with Z and M (if any) set to 7.
    fn points_in(code: u32, dims: usize, m: bool, xy: &[(f64, f64)]) -> Vec<u8> {
        let mut coords = Vec::new();
        for &(x, y) in xy {
            coords.extend([x, y]);
            coords.extend(std::iter::repeat_n(7.0, dims - 2));
        }
        little()
            .points(code + iso_offset(dims, m), dims, &coords)
            .bytes
    }

    #[test]
    fn every_curve_nesting_gdal_writes_is_read_in_2d_z_m_and_zm() {
        // Issue 12: each nesting of the geometry-types extension, with the
        // members carrying the ISO code of their parent's dimensions.
        for (dims, m) in [(2, false), (3, false), (3, true), (4, true)] {
            let at = format!("{dims} doubles, M {m}");
            let iso = |code: u32| code + iso_offset(dims, m);
            let arc = points_in(8, dims, m, &[(0.0, 0.0), (1.0, 1.0), (2.0, 0.0)]);
            let line = points_in(2, dims, m, &[(2.0, 0.0), (0.0, 0.0)]);
            // CompoundCurve ring: the arc, then back along the diameter.
            let compound = little().header(iso(9)).u32(2).raw(&arc).raw(&line).bytes;
            let curve_polygon = little().header(iso(10)).u32(1).raw(&compound).bytes;
            let circle = points_in(8, dims, m, &[(0.0, 0.0), (2.0, 0.0), (0.0, 0.0)]);
            let circle_polygon = little().header(iso(10)).u32(1).raw(&circle).bytes;
            let cases: Vec<(&str, Vec<u8>, usize)> = vec![
                ("circular string", arc.clone(), 46),
                ("compound curve", compound.clone(), 47),
                (
                    "curve polygon with a compound ring",
                    curve_polygon.clone(),
                    47,
                ),
                (
                    "multicurve of an arc and a compound curve",
                    little()
                        .header(iso(11))
                        .u32(2)
                        .raw(&arc)
                        .raw(&compound)
                        .bytes,
                    46 + 47,
                ),
                (
                    "multisurface of curve polygons",
                    little()
                        .header(iso(12))
                        .u32(2)
                        .raw(&curve_polygon)
                        .raw(&circle_polygon)
                        .bytes,
                    47 + 91,
                ),
                (
                    "collection of an arc and a curve polygon",
                    little()
                        .header(iso(7))
                        .u32(2)
                        .raw(&arc)
                        .raw(&curve_polygon)
                        .bytes,
                    46 + 47,
                ),
            ];
            for (name, wkb, vertices) in cases {
                let g = parse(&wkb).unwrap_or_else(|e| panic!("{at} {name}: {e}"));
                let mut n = 0;
                for_each_coord(&g, &mut |c| {
                    let on = (c.x - 1.0).hypot(c.y) <= 1.0 + 1e-12;
                    assert!(on && (0.0..=2.0).contains(&c.x), "{at} {name}: {c:?}");
                    n += 1;
                });
                assert_eq!(n, vertices, "{at} {name}");
            }
        }
    }

    #[test]
    fn triangles_tins_and_polyhedral_surfaces_are_polygons() {
        let face = [0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 0.0];
        let triangle = little().header(17).u32(1).u32(4).f64s(&face).bytes;
        let polygon = little().header(3).u32(1).u32(4).f64s(&face).bytes;
        let expected = polygon![(x: 0.0, y: 0.0), (x: 1.0, y: 0.0), (x: 0.0, y: 1.0)];
        assert_eq!(
            parse(&triangle).unwrap(),
            Geometry::Polygon(expected.clone())
        );
        let tin = little()
            .header(16)
            .u32(2)
            .raw(&triangle)
            .raw(&triangle)
            .bytes;
        let surface = little().header(15).u32(1).raw(&polygon).bytes;
        assert_eq!(
            parse(&tin).unwrap(),
            Geometry::MultiPolygon(MultiPolygon(vec![expected.clone(), expected.clone()]))
        );
        assert_eq!(
            parse(&surface).unwrap(),
            Geometry::MultiPolygon(MultiPolygon(vec![expected]))
        );
        // A TIN holds triangles only.
        let wrong = little().header(16).u32(1).raw(&polygon).bytes;
        assert!(matches!(parse(&wrong), Err(GeometryError::Corrupt(_))));
    }

    #[test]
    fn rings_of_fewer_than_four_points_once_closed_are_corrupt() {
        // Issue 12: no polygon can be drawn from them.
        let ring = |coords: &[f64]| {
            little()
                .header(3)
                .u32(1)
                .u32((coords.len() / 2) as u32)
                .f64s(coords)
                .bytes
        };
        for coords in [
            &[1.0, 1.0][..],
            &[0.0, 0.0, 1.0, 1.0],
            &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
        ] {
            let err = parse(&ring(coords)).unwrap_err();
            assert!(matches!(err, GeometryError::Corrupt(_)), "{coords:?}");
            assert!(err.to_string().contains("fewer than the 4"), "{err}");
        }
        // Three points not closed close into a triangle.
        assert!(parse(&ring(&[0.0, 0.0, 1.0, 0.0, 0.0, 1.0])).is_ok());
        // A compound ring that goes there and back is no better.
        let there_and_back = little()
            .header(10)
            .u32(1)
            .raw(
                &little()
                    .header(9)
                    .u32(2)
                    .raw(&little().points(2, 2, &[0.0, 0.0, 1.0, 1.0]).bytes)
                    .raw(&little().points(2, 2, &[1.0, 1.0, 0.0, 0.0]).bytes)
                    .bytes,
            )
            .bytes;
        assert!(matches!(
            parse(&there_and_back),
            Err(GeometryError::Corrupt(_))
        ));
    }

    #[test]
    fn a_stroke_tolerance_sets_how_finely_curves_are_read() {
        let arc = little()
            .points(8, 2, &[0.0, 0.0, 1000.0, 1000.0, 2000.0, 0.0])
            .bytes;
        let count = |stroke| match super::parse(&arc, stroke).unwrap() {
            Geometry::LineString(l) => l.0.len(),
            other => panic!("{other:?}"),
        };
        assert_eq!(count(Stroke::Gdal), 46);
        assert!(count(Stroke::Within(10.0)) < 46);
        assert!(count(Stroke::Within(0.1)) > 46);
    }

    #[test]
    fn many_finely_stroked_arcs_in_one_geometry_are_refused() {
        // 1100 full circles of radius 1e9 at a tolerance of 1e-3: 1024
        // segments each, over 2^20 in all.
        let mut coords = Vec::new();
        for _ in 0..1100 {
            coords.extend([0.0, 0.0, 2e9, 0.0]);
        }
        coords.extend([0.0, 0.0]);
        let wkb = little().points(8, 2, &coords).bytes;
        let err = super::parse(&wkb, Stroke::Within(1e-3)).unwrap_err();
        assert!(matches!(err, GeometryError::Unsupported(_)), "{err}");
        // At GDAL's step they are 90 segments each: read.
        assert!(super::parse(&wkb, Stroke::Gdal).is_ok());
    }

    #[test]
    fn huge_counts_fail_before_allocating() {
        for code in [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] {
            let wkb = little().header(code).u32(u32::MAX).f64s(&[1.0; 4]);
            assert!(
                matches!(parse(&wkb.bytes), Err(GeometryError::Corrupt(_))),
                "{code}"
            );
        }
        let ring = little().header(3).u32(1).u32(0x1000_0000);
        let err = parse(&ring.bytes).unwrap_err();
        assert!(err.to_string().contains("268435456 points"), "{err}");
    }

    #[test]
    fn nesting_is_limited() {
        let mut wkb = little().header(1).f64s(&[1.0, 2.0]).bytes;
        for _ in 0..MAX_DEPTH {
            wkb = little().header(7).u32(1).raw(&wkb).bytes;
        }
        assert!(parse(&wkb).is_ok());
        let deeper = little().header(7).u32(1).raw(&wkb).bytes;
        let err = parse(&deeper).unwrap_err();
        assert!(err.to_string().contains("nested deeper"), "{err}");
    }

    #[test]
    fn bounds_cover_every_coordinate() {
        let g = parse(
            &little()
                .header(7)
                .u32(2)
                .raw(&little().header(1).f64s(&[5.0, -6.0]).bytes)
                .raw(&little().points(2, 2, &[0.0, 1.0, -2.0, 3.0]).bytes)
                .bytes,
        )
        .unwrap();
        assert_eq!(bounds(&g), Some([-2.0, -6.0, 5.0, 3.0]));
        assert_eq!(bounds(&empty()), None);
    }

    /// Valid blobs of every type, to be truncated and corrupted.
    pub(crate) fn corpus() -> Vec<Vec<u8>> {
        let arc = [0.0, 0.0, 1.0, 1.0, 2.0, 0.0];
        let square = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let poly = little().header(3).u32(1).u32(4).f64s(&square).bytes;
        let circ = little().points(8, 2, &arc).bytes;
        vec![
            little().header(1001).f64s(&[1.0, 2.0, 3.0]).bytes,
            Wkb::new(true).points(2, 2, &square).bytes,
            poly.clone(),
            little().header(6).u32(2).raw(&poly).raw(&poly).bytes,
            little().header(7).u32(2).raw(&poly).raw(&circ).bytes,
            little()
                .header(9)
                .u32(2)
                .raw(&circ)
                .raw(&little().points(2, 2, &[2.0, 0.0, 3.0, 0.0]).bytes)
                .bytes,
            little()
                .header(12)
                .u32(1)
                .raw(&little().header(10).u32(1).raw(&circ).bytes)
                .bytes,
            little().header(11).u32(2).raw(&circ).raw(&circ).bytes,
        ]
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        for wkb in corpus() {
            assert!(parse(&wkb).is_ok());
            for len in 0..wkb.len() {
                // A prefix may be a complete shorter geometry (a point
                // cut after its coordinates); it must never panic.
                if let Ok(g) = parse(&wkb[..len]) {
                    let _ = bounds(&g);
                }
            }
        }
    }

    #[test]
    fn flipped_bits_and_random_bytes_never_panic() {
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for wkb in corpus() {
            for _ in 0..2000 {
                let mut bytes = wkb.clone();
                for _ in 0..1 + rng.next() % 4 {
                    let i = (rng.next() % bytes.len() as u64) as usize;
                    bytes[i] ^= 1 << (rng.next() % 8);
                }
                if let Ok(g) = parse(&bytes) {
                    let _ = bounds(&g);
                }
            }
        }
        for _ in 0..2000 {
            let len = (rng.next() % 64) as usize;
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let _ = parse(&bytes);
        }
    }
}
