//! Reading one stored MVT 2.1 tile: its layers, then, on demand, one
//! feature at a time, so that a query for one layer skips the others'
//! features unread and a malformed feature costs only itself.
//!
//! Section numbers (§) refer to
//! <https://github.com/mapbox/vector-tile-spec/tree/master/2.1>. The
//! protobuf is read with the encoder's reader (`mvt::pbf::read`), not a
//! crate: the tile is four fixed messages.

use geo_types::{
    Coord, Geometry, LineString, MultiLineString, MultiPoint, MultiPolygon, Point, Polygon,
};

use crate::feature::Value;
use crate::mvt::pbf::read::{try_fields, try_packed, unzigzag, Payload};

/// The extent of a layer that does not state one (§4.1).
const DEFAULT_EXTENT: u32 = 4096;

/// What is wrong with a tile, a layer or a feature.
pub(super) type Malformed = String;

/// One layer of a tile: its name, extent, keys and values decoded, its
/// features still encoded.
pub(super) struct TileLayer<'a> {
    pub name: &'a str,
    /// Tile units per tile side.
    pub extent: u32,
    pub keys: Vec<&'a str>,
    pub values: Vec<Value>,
    pub features: Vec<&'a [u8]>,
}

/// One feature, geometry in tile units (y down, §4.3.1).
#[derive(Debug)]
pub(super) struct TileFeature {
    pub id: Option<u64>,
    pub geometry: Geometry<f64>,
    /// (key index, value index) pairs, both checked against the layer.
    pub tags: Vec<(usize, usize)>,
}

/// The layers of an uncompressed tile (§4.1: `Tile.layers` is field 3).
pub(super) fn layers(tile: &[u8]) -> Result<Vec<TileLayer<'_>>, Malformed> {
    let mut layers = Vec::new();
    for field in try_fields(tile) {
        if let (3, Payload::Len(bytes)) = field.map_err(|e| format!("tile: {e}"))? {
            layers.push(layer(bytes)?);
        }
    }
    Ok(layers)
}

/// The layer called `name` of an uncompressed tile, `None` when it has
/// none. The other layers are only skimmed for their names: their keys,
/// values and features are not decoded, and damage in them is not this
/// layer's.
pub(super) fn layer_named<'a>(
    tile: &'a [u8],
    name: &str,
) -> Result<Option<TileLayer<'a>>, Malformed> {
    for field in try_fields(tile) {
        let (3, Payload::Len(bytes)) = field.map_err(|e| format!("tile: {e}"))? else {
            continue;
        };
        let named = try_fields(bytes)
            .any(|f| matches!(f, Ok((1, Payload::Len(n))) if n == name.as_bytes()));
        if named {
            return layer(bytes).map(Some);
        }
    }
    Ok(None)
}

/// A `Layer` message: name 1, features 2, keys 3, values 4, extent 5,
/// version 15 (§4.1).
fn layer(bytes: &[u8]) -> Result<TileLayer<'_>, Malformed> {
    let mut layer = TileLayer {
        name: "",
        extent: DEFAULT_EXTENT,
        keys: Vec::new(),
        values: Vec::new(),
        features: Vec::new(),
    };
    let mut named = false;
    for field in try_fields(bytes) {
        let field = field.map_err(|e| format!("layer: {e}"))?;
        match field {
            (1, Payload::Len(name)) => {
                layer.name = std::str::from_utf8(name).map_err(|_| "layer name is not UTF-8")?;
                named = true;
            }
            (2, Payload::Len(feature)) => layer.features.push(feature),
            (3, Payload::Len(key)) => layer
                .keys
                .push(std::str::from_utf8(key).map_err(|_| "layer key is not UTF-8")?),
            (4, Payload::Len(value_bytes)) => layer.values.push(value(value_bytes)?),
            (5, Payload::Varint(extent)) => {
                layer.extent = u32::try_from(extent)
                    .ok()
                    .filter(|&e| e > 0)
                    .ok_or_else(|| format!("layer extent {extent}"))?;
            }
            _ => {}
        }
    }
    if !named {
        return Err("a layer without a name (§4.1: required)".into());
    }
    Ok(layer)
}

/// A `Value` message (§4.1): exactly one of string 1, float 2, double 3,
/// int64 4, uint64 5, sint64 6, bool 7; the last one present wins, as
/// protobuf's merge rule says.
fn value(bytes: &[u8]) -> Result<Value, Malformed> {
    let mut out = Value::Null;
    for field in try_fields(bytes) {
        out = match field.map_err(|e| format!("value: {e}"))? {
            (1, Payload::Len(s)) => Value::String(
                std::str::from_utf8(s)
                    .map_err(|_| "string value is not UTF-8")?
                    .to_owned(),
            ),
            (2, Payload::Fixed32(bits)) => Value::Float(f64::from(f32::from_bits(bits))),
            (3, Payload::Fixed64(bits)) => Value::Float(f64::from_bits(bits)),
            // int64 is two's complement in a varint: the cast is the decode.
            (4, Payload::Varint(v)) => Value::Int(v as i64),
            (5, Payload::Varint(v)) => i64::try_from(v).map_or(Value::Float(v as f64), Value::Int),
            (6, Payload::Varint(v)) => Value::Int(unzigzag(v)),
            (7, Payload::Varint(v)) => Value::Bool(v != 0),
            _ => out,
        };
    }
    Ok(out)
}

/// MVT geometry types (§4.3.4, `GeomType`).
const POINT: u64 = 1;
const LINESTRING: u64 = 2;
const POLYGON: u64 = 3;

impl TileLayer<'_> {
    /// Feature `index`: id 1, tags 2, type 3, geometry 4 (§4.2); an `Err`
    /// when it cannot be read or has no geometry to draw.
    pub fn feature(&self, index: usize) -> Result<TileFeature, Malformed> {
        let bytes = self.features.get(index).ok_or("no such feature")?;
        let (mut id, mut tags, mut kind, mut commands) = (None, Vec::new(), 0, Vec::new());
        for field in try_fields(bytes) {
            match field.map_err(|e| format!("feature: {e}"))? {
                (1, Payload::Varint(v)) => id = Some(v),
                (2, Payload::Len(packed)) => {
                    tags = try_packed(packed).map_err(|e| e.to_string())?
                }
                (3, Payload::Varint(v)) => kind = v,
                (4, Payload::Len(packed)) => {
                    commands = try_packed(packed).map_err(|e| e.to_string())?
                }
                _ => {}
            }
        }
        if tags.len() % 2 != 0 {
            return Err("an odd number of tags (§4.4)".into());
        }
        let tags = tags
            .chunks_exact(2)
            .map(|pair| {
                let (k, v) = (pair[0] as usize, pair[1] as usize);
                (k < self.keys.len() && v < self.values.len())
                    .then_some((k, v))
                    .ok_or_else(|| format!("tag ({k}, {v}) beyond the layer's keys or values"))
            })
            .collect::<Result<_, _>>()?;
        let parts = parts(&commands)?;
        let geometry = match kind {
            POINT => points(parts)?,
            LINESTRING => lines(parts)?,
            POLYGON => polygons(parts)?,
            other => return Err(format!("geometry type {other} (§4.3.4: unknown)")),
        };
        Ok(TileFeature { id, geometry, tags })
    }
}

/// Command ids (§4.3.3).
const MOVE_TO: u64 = 1;
const LINE_TO: u64 = 2;
const CLOSE_PATH: u64 = 7;

/// A run of points from one MoveTo up to the next, and whether a
/// ClosePath ended it.
struct Part {
    points: Vec<Coord<f64>>,
    closed: bool,
}

/// The parts of a command stream (§4.3.1–4.3.3): the cursor starts at
/// (0, 0) for each feature and each parameter moves it by a zigzag delta.
fn parts(commands: &[u64]) -> Result<Vec<Part>, Malformed> {
    let mut parts: Vec<Part> = Vec::new();
    let mut cursor = (0i64, 0i64);
    let mut i = 0;
    while let Some(&command) = commands.get(i) {
        i += 1;
        let (id, count) = (command & 7, (command >> 3) as usize);
        match id {
            MOVE_TO | LINE_TO => {
                let end = count
                    .checked_mul(2)
                    .and_then(|n| i.checked_add(n))
                    .filter(|&end| end <= commands.len())
                    .ok_or("a command with more points than the stream holds")?;
                if id == LINE_TO && parts.is_empty() {
                    return Err("LineTo before any MoveTo (§4.3.3.2)".into());
                }
                for pair in commands[i..end].chunks_exact(2) {
                    // Parameters are sint32 (§4.3.2): a wider delta is
                    // malformed, and the sum stays far from overflow.
                    let delta = |v: u64| {
                        i32::try_from(unzigzag(v))
                            .map(i64::from)
                            .map_err(|_| "a delta beyond 32 bits (§4.3.2)")
                    };
                    cursor = (cursor.0 + delta(pair[0])?, cursor.1 + delta(pair[1])?);
                    let point = Coord {
                        x: cursor.0 as f64,
                        y: cursor.1 as f64,
                    };
                    // A MoveTo of several points (MultiPoint) starts a part
                    // per point.
                    match (id, parts.last_mut()) {
                        (LINE_TO, Some(part)) => part.points.push(point),
                        _ => parts.push(Part {
                            points: vec![point],
                            closed: false,
                        }),
                    }
                }
                i = end;
            }
            CLOSE_PATH => match parts.last_mut() {
                Some(part) => part.closed = true,
                None => return Err("ClosePath before any MoveTo (§4.3.3.3)".into()),
            },
            other => return Err(format!("command id {other} (§4.3.3: unknown)")),
        }
    }
    Ok(parts)
}

/// Points: one MoveTo of one or more points (§4.3.4.2).
fn points(parts: Vec<Part>) -> Result<Geometry<f64>, Malformed> {
    let mut points: Vec<Point<f64>> = parts
        .into_iter()
        .flat_map(|p| p.points)
        .map(Point)
        .collect();
    match points.len() {
        0 => Err("a point feature without points".into()),
        1 => Ok(Geometry::Point(points.remove(0))),
        _ => Ok(Geometry::MultiPoint(MultiPoint(points))),
    }
}

/// Lines: MoveTo then LineTo, per line (§4.3.4.3); a part of one point
/// is malformed.
fn lines(parts: Vec<Part>) -> Result<Geometry<f64>, Malformed> {
    let mut lines = Vec::with_capacity(parts.len());
    for part in parts {
        if part.points.len() < 2 {
            return Err("a line of fewer than two points (§4.3.4.3)".into());
        }
        lines.push(LineString(part.points));
    }
    match lines.len() {
        0 => Err("a line feature without lines".into()),
        1 => Ok(Geometry::LineString(lines.remove(0))),
        _ => Ok(Geometry::MultiLineString(MultiLineString(lines))),
    }
}

/// Twice the ring's area by the surveyor's formula in tile coordinates:
/// positive for an exterior ring, negative for an interior one
/// (§4.3.4.4; clockwise as drawn, y down).
fn doubled_area(ring: &[Coord<f64>]) -> f64 {
    let closing = ring.first().zip(ring.last());
    ring.windows(2)
        .map(|w| (w[0], w[1]))
        .chain(closing.map(|(first, last)| (*last, *first)))
        .map(|(a, b)| a.x * b.y - b.x * a.y)
        .sum()
}

/// Polygons (§4.3.4.4): each ring is MoveTo, LineTo of two or more points,
/// ClosePath; an exterior ring starts a polygon and the interior rings
/// after it are its holes. Rings of zero area are dropped, as the spec
/// calls them invalid. The first ring's winding is taken as the
/// exterior's, as the reference decoder (mapbox-vector-tile) does, so that
/// version 1 tiles, which had no winding rule, read too.
fn polygons(parts: Vec<Part>) -> Result<Geometry<f64>, Malformed> {
    let mut polygons: Vec<Polygon<f64>> = Vec::new();
    let mut exterior_sign = 0.0;
    for part in parts {
        if part.points.len() < 3 || !part.closed {
            return Err("a ring of fewer than three points or without ClosePath (§4.3.4.4)".into());
        }
        let area = doubled_area(&part.points);
        if area == 0.0 {
            continue;
        }
        if exterior_sign == 0.0 {
            exterior_sign = area.signum();
        }
        let ring = LineString(part.points);
        match polygons.last_mut() {
            Some(polygon) if area.signum() != exterior_sign => {
                polygon.interiors_push(ring);
            }
            _ => polygons.push(Polygon::new(ring, Vec::new())),
        }
    }
    match polygons.len() {
        0 => Err("a polygon feature without a ring of non-zero area".into()),
        1 => Ok(Geometry::Polygon(polygons.remove(0))),
        _ => Ok(Geometry::MultiPolygon(MultiPolygon(polygons))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Command integer (§4.3.1).
    fn command(id: u64, count: u64) -> u64 {
        (count << 3) | id
    }

    fn zz(v: i64) -> u64 {
        ((v << 1) ^ (v >> 63)) as u64
    }

    /// The command stream of `rings`, one cursor throughout (§4.3.1).
    fn rings(rings: &[&[(i64, i64)]]) -> Vec<u64> {
        let (mut out, mut cursor) = (Vec::new(), (0, 0));
        for ring in rings {
            for (i, &p) in ring.iter().enumerate() {
                match i {
                    0 => out.push(command(MOVE_TO, 1)),
                    1 => out.push(command(LINE_TO, ring.len() as u64 - 1)),
                    _ => {}
                }
                out.extend([zz(p.0 - cursor.0), zz(p.1 - cursor.1)]);
                cursor = p;
            }
            out.push(command(CLOSE_PATH, 1));
        }
        out
    }

    #[test]
    fn an_exterior_ring_and_its_hole_read_as_one_polygon() {
        // §4.3.5.7's second polygon: exterior clockwise as drawn (y down),
        // positive area; the hole the other way.
        let exterior: &[(i64, i64)] = &[(11, 11), (20, 11), (20, 20), (11, 20)];
        let hole: &[(i64, i64)] = &[(13, 13), (13, 17), (17, 17), (17, 13)];
        let geometry = polygons(parts(&rings(&[exterior, hole])).unwrap()).unwrap();
        let Geometry::Polygon(polygon) = geometry else {
            panic!("{geometry:?}")
        };
        assert_eq!(polygon.interiors().len(), 1);
        assert_eq!(polygon.exterior().0[0], Coord { x: 11.0, y: 11.0 });
        assert_eq!(polygon.interiors()[0].0[1], Coord { x: 13.0, y: 17.0 });
        // Two exteriors: two polygons.
        let geometry = polygons(parts(&rings(&[exterior, exterior])).unwrap()).unwrap();
        assert!(matches!(geometry, Geometry::MultiPolygon(m) if m.0.len() == 2));
        // A ring of zero area is dropped.
        let flat: &[(i64, i64)] = &[(0, 0), (5, 0), (9, 0)];
        assert!(polygons(parts(&rings(&[flat])).unwrap()).is_err());
    }

    #[test]
    fn truncated_or_inconsistent_command_streams_are_errors_not_panics() {
        assert!(parts(&[command(MOVE_TO, 1), zz(1)]).is_err());
        assert!(parts(&[command(LINE_TO, 1), 2, 2]).is_err());
        assert!(parts(&[command(CLOSE_PATH, 1)]).is_err());
        assert!(parts(&[command(5, 1)]).is_err());
        assert!(parts(&[command(MOVE_TO, u64::MAX >> 3)]).is_err());
        assert!(parts(&[command(MOVE_TO, 1), u64::MAX, 0]).is_err());
        assert!(lines(parts(&[command(MOVE_TO, 1), 2, 2]).unwrap()).is_err());
        assert!(points(Vec::new()).is_err());
    }

    #[test]
    fn a_multipoint_is_one_move_to_of_several_points() {
        // §4.3.5.2: MoveTo(2) (5, 7) (3, 2).
        let geometry = points(parts(&[17, 10, 14, 3, 9]).unwrap()).unwrap();
        let Geometry::MultiPoint(points) = geometry else {
            panic!("{geometry:?}")
        };
        assert_eq!(points.0, [Point::new(5.0, 7.0), Point::new(3.0, 2.0)]);
    }

    #[test]
    fn every_prefix_of_a_tile_fails_cleanly() {
        // A layer named "l" with one point feature, cut at every length.
        let feature: Vec<u8> = vec![0x18, 1, 0x22, 3, 9, 4, 4];
        let mut layer = vec![0x0a, 1, b'l', 0x12, feature.len() as u8];
        layer.extend(&feature);
        let mut tile = vec![0x1a, layer.len() as u8];
        tile.extend(&layer);
        let whole = layers(&tile).unwrap();
        assert_eq!(whole[0].name, "l");
        assert_eq!(
            whole[0].feature(0).unwrap().geometry,
            Geometry::Point(Point::new(2.0, 2.0))
        );
        for cut in 1..tile.len() {
            if let Ok(layers) = layers(&tile[..cut]) {
                for layer in &layers {
                    for i in 0..layer.features.len() {
                        let _ = layer.feature(i);
                    }
                }
            }
        }
    }
}
