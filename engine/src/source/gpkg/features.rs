//! Feature queries: rows of a feature table whose envelope meets a box,
//! through the R-tree when there is one, with their geometry decoded and
//! their attributes typed.
//!
//! The R-tree (Annex F.3) stores 32-bit floats rounded outwards, so it gives
//! candidates; each is then checked against the blob's own envelope (or,
//! without one, the decoded geometry's bounds). Both paths therefore return
//! exactly the rows whose envelope meets the box: through the index in the
//! order SQLite's plan gives (the R-tree's, or that of an index on a
//! filter's column; sorting them by id cost a fifth of the query), by a
//! scan in id order.
//!
//! A row whose geometry cannot be decoded is skipped and logged once
//! ([`Skipped`]); the others are answered.

use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::Connection;

use super::arc::Stroke;
use super::contents::quote;
use super::skipped::Skipped;
use super::wkb::{self, GeometryError};
use super::{blob, rtree_name, FeatureTable};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::feature::{Feature, FieldType, Geometry, Value};

/// Which features and attributes a query asks for, and how finely their
/// curves are stroked.
#[derive(Clone, Copy, Default)]
pub struct Selection<'a> {
    /// `[min_x, min_y, max_x, max_y]` in the table's SRS; `None` for all.
    pub bbox: Option<[f64; 4]>,
    /// Indices into the table's fields of the values wanted.
    pub fields: &'a [usize],
    /// An SQL expression on the table's columns, from the configuration.
    pub filter: Option<&'a str>,
    /// Most features answered; more is an error.
    pub max: usize,
    /// How curves become lines.
    pub stroke: Stroke,
    /// When the query is abandoned (checked every 256 rows read).
    pub deadline: Deadline,
}

/// Visits the features of `table` whose envelope meets `bbox` (all of them
/// when `None`) and that pass `filter` (an SQL expression on the table's
/// columns, from the server's configuration, never from a request), with
/// the values of `fields`; more than `max` is an error. Features whose
/// geometry cannot be decoded are skipped and noted in `skipped`.
pub(super) fn query(
    conn: &Connection,
    path: &Path,
    table: &FeatureTable,
    selection: &Selection,
    skipped: &Skipped,
    visit: &mut dyn FnMut(&mut Feature),
) -> Result<()> {
    let Selection {
        bbox,
        fields,
        filter,
        max,
        stroke,
        deadline,
    } = *selection;
    if let Some(b) = bbox {
        if !(b.iter().all(|v| v.is_finite()) && b[0] <= b[2] && b[1] <= b[3]) {
            return Err(Error::invalid(format!(
                "bounding box {b:?} is not finite and ordered [min_x, min_y, max_x, max_y]"
            )));
        }
    }
    let mut columns = vec![quote(&table.id_column), quote(&table.geometry_column)];
    for &i in fields {
        let Some(field) = table.fields.get(i) else {
            return Err(Error::invalid(format!(
                "table {:?} has {} fields, not {}",
                table.table,
                table.fields.len(),
                i + 1
            )));
        };
        columns.push(quote(&field.name));
    }
    let id = quote(&table.id_column);
    let indexed = bbox.is_some() && table.has_index;
    let filter = filter.map(|f| format!(" WHERE ({f})")).unwrap_or_default();
    let mut sql = format!(
        "SELECT {} FROM {}{filter}",
        columns.join(", "),
        quote(&table.table)
    );
    if !indexed {
        // A scan gives rows in id order; say so, as an index on a filter's
        // column would otherwise set the order.
        sql += &format!(" ORDER BY {id}");
    } else {
        // The R-tree's candidates joined to their rows (as GDAL does); the
        // filter stays inside the table's own query, where its column
        // names cannot clash with the R-tree's (id, minx…). Query box
        // [min_x, min_y, max_x, max_y] = ?1..?4.
        sql = format!(
            "SELECT t.* FROM {} r JOIN ({sql}) t ON t.{id} = r.id \
             WHERE r.minx <= ?3 AND r.maxx >= ?1 AND r.miny <= ?4 AND r.maxy >= ?2",
            quote(&rtree_name(&table.table, &table.geometry_column)),
        );
    }
    let sqlite = |source| Error::Sqlite {
        path: path.to_owned(),
        source,
    };
    let mut stmt = conn.prepare_cached(&sql).map_err(sqlite)?;
    let mut rows = match (indexed, bbox) {
        (true, Some(b)) => stmt.query(b),
        _ => stmt.query([]),
    }
    .map_err(sqlite)?;
    let mut count = 0;
    // One feature refilled row after row: its attribute vector and the
    // buffers of its text values are reused.
    let mut feature = Feature {
        id: None,
        geometry: wkb::empty(),
        values: vec![Value::Null; fields.len()],
    };
    let mut read = 0usize;
    while let Some(row) = rows.next().map_err(sqlite)? {
        read += 1;
        if read.is_multiple_of(256) {
            deadline.check("feature query")?;
        }
        let fid = match row.get_ref(0).map_err(sqlite)? {
            ValueRef::Integer(i) => Some(i),
            _ => None,
        };
        let geometry = match geometry(row.get_ref(1).map_err(sqlite)?, bbox, stroke) {
            Ok(Some(geometry)) => geometry,
            Ok(None) => continue,
            Err(e) => {
                skipped.note(path, &table.table, fid, &e);
                continue;
            }
        };
        if count == max {
            return Err(Error::TooManyFeatures {
                path: path.to_owned(),
                table: table.table.clone(),
                limit: max,
            });
        }
        for (k, (&i, slot)) in fields.iter().zip(&mut feature.values).enumerate() {
            let stored = row.get_ref(2 + k).map_err(sqlite)?;
            set_value(slot, stored, table.fields[i].field_type);
        }
        count += 1;
        // Ids are the integer primary key; negative ones have no u64.
        feature.id = fid.and_then(|i| u64::try_from(i).ok());
        feature.geometry = geometry;
        visit(&mut feature);
    }
    Ok(())
}

/// The geometry of a row if its envelope meets `bbox`: NULL and empty
/// geometries are the empty collection and meet no box.
fn geometry(
    value: ValueRef,
    bbox: Option<[f64; 4]>,
    stroke: Stroke,
) -> Result<Option<Geometry<f64>>, GeometryError> {
    let data = match value {
        ValueRef::Null => return Ok(bbox.is_none().then(wkb::empty)),
        ValueRef::Blob(data) => data,
        _ => {
            return Err(GeometryError::Corrupt(format!(
                "geometry stored as {}, not a blob",
                value.data_type()
            )))
        }
    };
    blob_geometry(data, bbox, stroke)
}

/// The geometry of a GeoPackage geometry blob (header and WKB, clause
/// 2.1.3.1.1) if its envelope meets `bbox` (any when `None`), curves
/// stroked as `stroke` says: what each feature row's blob goes through,
/// public so that fuzzing and tools can read a blob without a database.
pub fn blob_geometry(
    data: &[u8],
    bbox: Option<[f64; 4]>,
    stroke: Stroke,
) -> Result<Option<Geometry<f64>>, GeometryError> {
    let blob = blob::parse(data)?;
    if blob.empty {
        return Ok(bbox.is_none().then(wkb::empty));
    }
    let Some(bbox) = bbox else {
        return wkb::parse(blob.wkb, stroke).map(Some);
    };
    let meets =
        |e: [f64; 4]| e[0] <= bbox[2] && e[2] >= bbox[0] && e[1] <= bbox[3] && e[3] >= bbox[1];
    if let Some(envelope) = blob.envelope {
        if !meets(envelope) {
            return Ok(None);
        }
        return wkb::parse(blob.wkb, stroke).map(Some);
    }
    let geometry = wkb::parse(blob.wkb, stroke)?;
    Ok(wkb::bounds(&geometry)
        .filter(|e| meets(*e))
        .map(|_| geometry))
}

/// Puts [`value`] of `stored` in `slot`, reusing the buffer of a text
/// value already there for a text column's new text.
fn set_value(slot: &mut Value, stored: ValueRef, declared: FieldType) {
    if let (Value::String(s), ValueRef::Text(t), FieldType::Text) = (&mut *slot, stored, declared) {
        if let Ok(text) = std::str::from_utf8(t) {
            s.clear();
            s.push_str(text);
            return;
        }
    }
    *slot = value(stored, declared);
}

/// Largest integer magnitude an f64 holds exactly.
const EXACT_F64_INT: u64 = 1 << 53;

/// An attribute as stored (SQLite is dynamically typed: a column holds
/// whatever was written) converted to its column's declared type when no
/// information is lost; otherwise kept as stored. Blobs in attribute
/// columns are not attribute values: Null.
pub(super) fn value(stored: ValueRef, declared: FieldType) -> Value {
    match (stored, declared) {
        (ValueRef::Null | ValueRef::Blob(_), _) => Value::Null,
        (ValueRef::Integer(i), FieldType::Integer) => Value::Int(i),
        (ValueRef::Integer(i), FieldType::Real) if i.unsigned_abs() <= EXACT_F64_INT => {
            Value::Float(i as f64)
        }
        (ValueRef::Integer(0), FieldType::Boolean) => Value::Bool(false),
        (ValueRef::Integer(1), FieldType::Boolean) => Value::Bool(true),
        (ValueRef::Integer(i), FieldType::Text) => Value::String(i.to_string()),
        (ValueRef::Integer(i), _) => Value::Int(i),
        (ValueRef::Real(f), FieldType::Integer)
            if f.fract() == 0.0
                && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
        {
            Value::Int(f as i64)
        }
        (ValueRef::Real(f), FieldType::Boolean) if f == 0.0 || f == 1.0 => Value::Bool(f == 1.0),
        // Rust prints the shortest string that reads back as the same f64.
        (ValueRef::Real(f), FieldType::Text) => Value::String(f.to_string()),
        (ValueRef::Real(f), _) => Value::Float(f),
        (ValueRef::Text(t), _) => {
            // Valid UTF-8 is checked at SIMD speed; the lossy path is slow.
            let s = match std::str::from_utf8(t) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(t),
            };
            // A number written as text, if it reads back to the same text.
            match declared {
                FieldType::Integer => match s.parse::<i64>() {
                    Ok(i) if i.to_string() == s => return Value::Int(i),
                    _ => {}
                },
                FieldType::Real => match s.parse::<f64>() {
                    Ok(f) if f.is_finite() && f.to_string() == s => return Value::Float(f),
                    _ => {}
                },
                FieldType::Text | FieldType::Boolean => {}
            }
            Value::String(s.into_owned())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_take_their_declared_type_when_nothing_is_lost() {
        use FieldType::*;
        use ValueRef as V;
        let cases = [
            (V::Integer(7), Integer, Value::Int(7)),
            (V::Integer(7), Real, Value::Float(7.0)),
            (V::Integer(1 << 60), Real, Value::Int(1 << 60)),
            (V::Integer(1), Boolean, Value::Bool(true)),
            (V::Integer(0), Boolean, Value::Bool(false)),
            (V::Integer(2), Boolean, Value::Int(2)),
            (V::Integer(-3), Text, Value::String("-3".into())),
            (V::Real(3.0), Integer, Value::Int(3)),
            (V::Real(3.5), Integer, Value::Float(3.5)),
            (V::Real(1e300), Integer, Value::Float(1e300)),
            (V::Real(1.0), Boolean, Value::Bool(true)),
            (V::Real(0.5), Text, Value::String("0.5".into())),
            (V::Text(b"12"), Integer, Value::Int(12)),
            (V::Text(b"012"), Integer, Value::String("012".into())),
            (V::Text(b"1.5"), Real, Value::Float(1.5)),
            (V::Text(b"1.50"), Real, Value::String("1.50".into())),
            (V::Text(b"true"), Boolean, Value::String("true".into())),
            (
                V::Text(b"2014-06-07"),
                Text,
                Value::String("2014-06-07".into()),
            ),
            (V::Text(b"\xff"), Text, Value::String("\u{fffd}".into())),
            (V::Blob(b"x"), Text, Value::Null),
            (V::Null, Integer, Value::Null),
        ];
        for (stored, declared, expected) in cases {
            assert_eq!(
                value(stored, declared),
                expected,
                "{stored:?} as {declared:?}"
            );
        }
    }
}
