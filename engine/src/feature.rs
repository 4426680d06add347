//! Features as sources give them and vector tiles take them: a geometry in
//! the source's CRS (x = easting or longitude), an optional id, and
//! attribute values in the order of the layer's [`Field`]s.
//!
//! Geometries are `geo-types` (the shared vocabulary of Rust geo crates,
//! no algorithms pulled in); Z and M are dropped when read, since neither
//! MVT nor 2D rendering carries them.

pub use geo_types::Geometry;

use geo_types::{Coord, LineString, Polygon};

use crate::crs::Transform;

/// The type of an attribute, as declared by the source (GeoPackage column
/// types map onto these) and as TileJSON `vector_layers` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FieldType {
    Integer,
    Real,
    Text,
    Boolean,
}

/// One attribute column of a feature layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub field_type: FieldType,
}

/// An attribute value; `Null` values are left out of encoded features.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    String(String),
}

/// A feature: `values[i]` is the value of the layer's `fields[i]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    pub id: Option<u64>,
    pub geometry: Geometry<f64>,
    pub values: Vec<Value>,
}

/// Calls `f` on every coordinate of `geometry`, in a fixed order.
pub(crate) fn visit_coords(geometry: &mut Geometry<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
    let line = |l: &mut geo_types::LineString<f64>, f: &mut dyn FnMut(&mut Coord<f64>)| {
        l.0.iter_mut().for_each(&mut *f);
    };
    let polygon = |p: &mut geo_types::Polygon<f64>, f: &mut dyn FnMut(&mut Coord<f64>)| {
        p.exterior_mut(|e| line(e, f));
        p.interiors_mut(|rings| rings.iter_mut().for_each(|r| line(r, f)));
    };
    match geometry {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start);
            f(&mut l.end);
        }
        Geometry::LineString(l) => line(l, f),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPoint(m) => m.0.iter_mut().for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(m) => m.0.iter_mut().for_each(|l| line(l, f)),
        Geometry::MultiPolygon(m) => m.0.iter_mut().for_each(|p| polygon(p, f)),
        Geometry::GeometryCollection(c) => c.0.iter_mut().for_each(|g| visit_coords(g, f)),
        Geometry::Rect(r) => {
            let mut p = r.to_polygon();
            polygon(&mut p, f);
            *geometry = Geometry::Polygon(p);
        }
        Geometry::Triangle(t) => {
            let mut p = t.to_polygon();
            polygon(&mut p, f);
            *geometry = Geometry::Polygon(p);
        }
    }
}

/// Moves every coordinate of `geometry` through `transform`.
pub(crate) fn reproject(geometry: &mut Geometry<f64>, transform: &Transform) {
    let mut points = Vec::new();
    visit_coords(geometry, &mut |c| points.push((c.x, c.y)));
    transform.apply(&mut points);
    let mut moved = points.into_iter();
    visit_coords(geometry, &mut |c| {
        if let Some((x, y)) = moved.next() {
            *c = Coord { x, y };
        }
    });
}

/// A geometry as GeoJSON (RFC 7946 §3.1), coordinates as they are.
pub fn geojson_geometry(geometry: &Geometry<f64>) -> serde_json::Value {
    let point = |c: &Coord<f64>| serde_json::json!([c.x, c.y]);
    let line = |l: &LineString<f64>| serde_json::Value::Array(l.0.iter().map(point).collect());
    let polygon = |p: &Polygon<f64>| {
        serde_json::Value::Array(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(line)
                .collect(),
        )
    };
    let (kind, coordinates) = match geometry {
        Geometry::Point(p) => ("Point", point(&p.0)),
        Geometry::MultiPoint(m) => ("MultiPoint", m.iter().map(|p| point(&p.0)).collect()),
        Geometry::Line(l) => (
            "LineString",
            serde_json::json!([point(&l.start), point(&l.end)]),
        ),
        Geometry::LineString(l) => ("LineString", line(l)),
        Geometry::MultiLineString(m) => ("MultiLineString", m.iter().map(line).collect()),
        Geometry::Polygon(p) => ("Polygon", polygon(p)),
        Geometry::MultiPolygon(m) => ("MultiPolygon", m.iter().map(polygon).collect()),
        Geometry::Rect(r) => ("Polygon", polygon(&r.to_polygon())),
        Geometry::Triangle(t) => ("Polygon", polygon(&t.to_polygon())),
        Geometry::GeometryCollection(c) => {
            let members: Vec<serde_json::Value> = c.iter().map(geojson_geometry).collect();
            return serde_json::json!({"type": "GeometryCollection", "geometries": members});
        }
    };
    serde_json::json!({"type": kind, "coordinates": coordinates})
}
