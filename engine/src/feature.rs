//! Features as sources give them and vector tiles take them: a geometry in
//! the source's CRS (x = easting or longitude), an optional id, and
//! attribute values in the order of the layer's [`Field`]s.
//!
//! Geometries are `geo-types` (the shared vocabulary of Rust geo crates,
//! no algorithms pulled in); Z and M are dropped when read, since neither
//! MVT nor 2D rendering carries them.

pub use geo_types::Geometry;

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
