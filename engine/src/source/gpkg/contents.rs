//! What a GeoPackage holds, read once at open: its SRSs, then each row of
//! `gpkg_contents` (GeoPackage 1.3, clause 1.1.3) as a [`TilePyramid`]
//! (data_type `tiles`, clause 2.2) or a [`FeatureTable`] (`features`,
//! clause 2.1). Other data types (`attributes`, gridded coverages, vector
//! tiles) are skipped. A table that cannot be read goes to the failed list
//! with its error; the others stay usable.
//!
//! Every name read from the file is untrusted: it reaches SQL only through
//! [`quote`].

use std::collections::HashMap;
use std::path::Path;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, Row};

use super::srs::{epsg_code, Srs};
use super::{FeatureTable, GpkgTileMatrix, TilePyramid};
use crate::error::{Error, Result};
use crate::feature::{Field, FieldType};
use crate::tile::TileFormat;

/// `format` of this module's [`Error::Corrupt`]s.
pub(super) const FORMAT: &str = "GeoPackage";

/// An SQL identifier, double-quoted with inner `"` doubled (SQLite, "SQLite
/// Keywords"), so a name read from the file cannot end the identifier.
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The tables of a GeoPackage, those that opened and those that did not.
pub(super) struct Contents {
    pub pyramids: Vec<TilePyramid>,
    pub feature_tables: Vec<FeatureTable>,
    pub failed: Vec<(String, Error)>,
}

/// What the checks of one table need to know of the whole file.
struct Schema<'a> {
    path: &'a Path,
    /// `sqlite_master` tables and views by lowercase name, with their SQL.
    tables: HashMap<String, String>,
    srs: HashMap<i64, Srs>,
}

/// One row of `gpkg_contents`.
struct ContentsRow {
    table: String,
    data_type: String,
    identifier: Option<String>,
    description: Option<String>,
    bbox: Option<[f64; 4]>,
    srs_id: Option<i64>,
}

/// Reads the tables of the GeoPackage behind `conn`.
pub(super) fn read(conn: &Connection, path: &Path) -> Result<Contents> {
    let schema = Schema::read(conn, path)?;
    let mut contents = Contents {
        pyramids: Vec::new(),
        feature_tables: Vec::new(),
        failed: Vec::new(),
    };
    for row in schema.contents_rows(conn)? {
        let result = match row.data_type.to_ascii_lowercase().as_str() {
            "features" => schema
                .feature_table(conn, &row)
                .map(|t| contents.feature_tables.push(t)),
            "tiles" => schema
                .pyramid(conn, &row)
                .map(|p| contents.pyramids.push(p)),
            other => {
                tracing::debug!(path = %path.display(), table = %row.table, data_type = other,
                    "skipping GeoPackage table of a data type not served");
                Ok(())
            }
        };
        if let Err(e) = result {
            contents.failed.push((row.table, e));
        }
    }
    Ok(contents)
}

fn text(row: &Row, i: usize) -> rusqlite::Result<Option<String>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        _ => None,
    })
}

fn real(row: &Row, i: usize) -> rusqlite::Result<Option<f64>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Real(v) => Some(v),
        ValueRef::Integer(v) => Some(v as f64),
        _ => None,
    })
}

fn integer(row: &Row, i: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match row.get_ref(i)? {
        ValueRef::Integer(v) => Some(v),
        _ => None,
    })
}

/// `[min_x, min_y, max_x, max_y]` from four columns from `first`, when all
/// are finite numbers and min ≤ max.
fn bbox(row: &Row, first: usize) -> rusqlite::Result<Option<[f64; 4]>> {
    let mut b = [0.0; 4];
    for (k, v) in b.iter_mut().enumerate() {
        match real(row, first + k)? {
            Some(x) if x.is_finite() => *v = x,
            _ => return Ok(None),
        }
    }
    Ok((b[0] <= b[2] && b[1] <= b[3]).then_some(b))
}

impl Schema<'_> {
    fn read<'a>(conn: &Connection, path: &'a Path) -> Result<Schema<'a>> {
        let tables: HashMap<String, String> = conn
            .prepare("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'view')")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok((
                        text(r, 0)?.unwrap_or_default().to_ascii_lowercase(),
                        text(r, 1)?.unwrap_or_default(),
                    ))
                })?
                .collect()
            })
            .map_err(|e| match e.sqlite_error_code() {
                Some(rusqlite::ErrorCode::NotADatabase) => Error::Corrupt {
                    path: path.to_owned(),
                    format: FORMAT,
                    detail: format!("not an SQLite database ({e})"),
                },
                _ => Error::Sqlite {
                    path: path.to_owned(),
                    source: e,
                },
            })?;
        let missing: Vec<&str> = ["gpkg_contents", "gpkg_spatial_ref_sys"]
            .into_iter()
            .filter(|t| !tables.contains_key(*t))
            .collect();
        if !missing.is_empty() {
            return Err(Error::Unsupported {
                path: path.to_owned(),
                detail: format!(
                    "not a GeoPackage: an SQLite file without {}",
                    missing.join(" or ")
                ),
            });
        }
        let mut schema = Schema {
            path,
            tables,
            srs: HashMap::new(),
        };
        schema.srs = schema.read_srs(conn)?;
        Ok(schema)
    }

    fn corrupt(&self, detail: String) -> Error {
        Error::Corrupt {
            path: self.path.to_owned(),
            format: FORMAT,
            detail,
        }
    }

    fn has_table(&self, name: &str) -> bool {
        self.tables.contains_key(&name.to_ascii_lowercase())
    }

    /// `gpkg_spatial_ref_sys`: rows without an integer id are ignored.
    fn read_srs(&self, conn: &Connection) -> Result<HashMap<i64, Srs>> {
        let sql = "SELECT srs_id, organization, organization_coordsys_id, definition \
                   FROM gpkg_spatial_ref_sys";
        let rows: Vec<Option<Srs>> = conn
            .prepare(sql)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    let Some(srs_id) = integer(r, 0)? else {
                        return Ok(None);
                    };
                    let definition = text(r, 3)?.unwrap_or_default();
                    let epsg =
                        epsg_code(srs_id, text(r, 1)?.as_deref(), integer(r, 2)?, &definition);
                    Ok(Some(Srs {
                        srs_id,
                        epsg,
                        definition,
                    }))
                })?
                .collect()
            })
            .map_err(|e| self.corrupt(format!("unreadable gpkg_spatial_ref_sys ({e})")))?;
        Ok(rows.into_iter().flatten().map(|s| (s.srs_id, s)).collect())
    }

    /// The SRS of a table, `srs_id` as given by `source`
    /// (`gpkg_geometry_columns` for features, `gpkg_tile_matrix_set` for
    /// tiles). `gpkg_contents.srs_id` SHALL agree (clause 1.1.3.1.1); some
    /// writers put 4326 there regardless (Web Mercator tiles in rivers.gpkg),
    /// which is logged and otherwise ignored.
    fn srs(&self, row: &ContentsRow, srs_id: i64, source: &str) -> Result<Srs> {
        let table = &row.table;
        let srs = self.srs.get(&srs_id).cloned().ok_or_else(|| {
            self.corrupt(format!(
                "table {table:?}: srs_id {srs_id} is not in gpkg_spatial_ref_sys"
            ))
        })?;
        if row.srs_id != Some(srs_id) {
            tracing::warn!(path = %self.path.display(), table = %table, contents = ?row.srs_id,
                srs_id, "gpkg_contents and {source} disagree on the SRS; using {source}'s");
        }
        Ok(srs)
    }

    /// The rows of `gpkg_contents`, in table order; rows without a table
    /// name or data type are skipped (nothing could name them).
    fn contents_rows(&self, conn: &Connection) -> Result<Vec<ContentsRow>> {
        let sql = "SELECT table_name, data_type, identifier, description, \
                   min_x, min_y, max_x, max_y, srs_id FROM gpkg_contents";
        let rows: Vec<Option<ContentsRow>> = conn
            .prepare(sql)
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    let (Some(table), Some(data_type)) = (text(r, 0)?, text(r, 1)?) else {
                        return Ok(None);
                    };
                    Ok(Some(ContentsRow {
                        table,
                        data_type,
                        identifier: text(r, 2)?,
                        description: text(r, 3)?,
                        bbox: bbox(r, 4)?,
                        srs_id: integer(r, 8)?,
                    }))
                })?
                .collect()
            })
            .map_err(|e| self.corrupt(format!("unreadable gpkg_contents ({e})")))?;
        Ok(rows.into_iter().flatten().collect())
    }

    /// A `features` row: its geometry column, SRS, columns and index.
    fn feature_table(&self, conn: &Connection, row: &ContentsRow) -> Result<FeatureTable> {
        let table = &row.table;
        let corrupt = |detail: String| self.corrupt(format!("table {table:?}: {detail}"));
        if table.contains('\0') {
            return Err(corrupt("a table name with a NUL character".into()));
        }
        if !self.has_table("gpkg_geometry_columns") {
            return Err(corrupt("no gpkg_geometry_columns table".into()));
        }
        let sql = "SELECT column_name, geometry_type_name, srs_id FROM gpkg_geometry_columns \
                   WHERE table_name = ?1 COLLATE NOCASE";
        let geometry_row = conn
            .query_row(sql, [table], |r| {
                Ok((text(r, 0)?, text(r, 1)?, integer(r, 2)?))
            })
            .optional()
            .map_err(|e| corrupt(format!("unreadable gpkg_geometry_columns ({e})")))?;
        let Some((Some(geometry_column), geometry_type, Some(srs_id))) = geometry_row else {
            return Err(corrupt(
                "no geometry column and srs_id in gpkg_geometry_columns".into(),
            ));
        };
        let srs = self.srs(row, srs_id, "gpkg_geometry_columns")?;

        let columns = table_info(conn, table).map_err(|e| corrupt(format!("{e}")))?;
        if columns.is_empty() {
            return Err(corrupt(
                "listed in gpkg_contents but not in the database".into(),
            ));
        }
        let Some(geometry) = columns
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(&geometry_column))
        else {
            return Err(corrupt(format!("no geometry column {geometry_column:?}")));
        };
        let keys: Vec<&Column> = columns.iter().filter(|c| c.pk).collect();
        let id = match keys[..] {
            [key] if key.declared.eq_ignore_ascii_case("INTEGER") => key,
            _ => {
                return Err(Error::Unsupported {
                    path: self.path.to_owned(),
                    detail: format!(
                        "table {table:?}: no INTEGER PRIMARY KEY column to identify \
                         features by (GeoPackage 1.3 Requirement 29)"
                    ),
                })
            }
        };
        let fields = columns
            .iter()
            .filter(|c| c.cid != id.cid && c.cid != geometry.cid)
            .filter_map(|c| {
                field_type(&c.declared).map(|field_type| Field {
                    name: c.name.clone(),
                    field_type,
                })
            })
            .collect();

        let has_index = self.has_rtree(conn, table, &geometry_column);
        if !has_index {
            tracing::warn!(path = %self.path.display(), table = %table,
                "GeoPackage feature table without an R-tree spatial index: \
                 area queries read the whole table");
        }
        Ok(FeatureTable {
            table: table.clone(),
            identifier: row.identifier.clone(),
            description: row.description.clone(),
            geometry_column: geometry.name.clone(),
            geometry_type: geometry_type.unwrap_or_default().to_ascii_uppercase(),
            srs,
            bbox: row.bbox,
            id_column: id.name.clone(),
            fields,
            has_index,
        })
    }

    /// Whether the R-tree of the spatial-index extension (Annex F.3) is
    /// there and queryable: a virtual table `rtree_<t>_<c>` with the columns
    /// id, minx, maxx, miny, maxy. The `gpkg_extensions` row is not required:
    /// some writers omit it, and the table itself is what queries need.
    fn has_rtree(&self, conn: &Connection, table: &str, column: &str) -> bool {
        let name = super::rtree_name(table, column);
        let is_rtree = self
            .tables
            .get(&name.to_ascii_lowercase())
            .is_some_and(|sql| sql.to_ascii_lowercase().contains("rtree"));
        let probe = format!(
            "SELECT id FROM {} WHERE minx <= 0 AND maxx >= 0 AND miny <= 0 AND maxy >= 0 LIMIT 0",
            quote(&name)
        );
        is_rtree && conn.prepare(&probe).is_ok()
    }

    /// A `tiles` row: its tile matrix set, matrices and tile format.
    fn pyramid(&self, conn: &Connection, row: &ContentsRow) -> Result<TilePyramid> {
        let table = &row.table;
        let corrupt = |detail: String| self.corrupt(format!("table {table:?}: {detail}"));
        if table.contains('\0') {
            return Err(corrupt("a table name with a NUL character".into()));
        }
        for required in ["gpkg_tile_matrix_set", "gpkg_tile_matrix"] {
            if !self.has_table(required) {
                return Err(corrupt(format!("no {required} table")));
            }
        }
        let sql = "SELECT srs_id, min_x, min_y, max_x, max_y FROM gpkg_tile_matrix_set \
                   WHERE table_name = ?1 COLLATE NOCASE";
        let set = conn
            .query_row(sql, [table], |r| Ok((integer(r, 0)?, bbox(r, 1)?)))
            .optional()
            .map_err(|e| corrupt(format!("unreadable gpkg_tile_matrix_set ({e})")))?;
        let (srs_id, bbox) = match set {
            None => return Err(corrupt("no row in gpkg_tile_matrix_set".into())),
            Some((Some(srs_id), Some(bbox))) if bbox[0] < bbox[2] && bbox[1] < bbox[3] => {
                (srs_id, bbox)
            }
            Some(_) => {
                return Err(corrupt(
                    "gpkg_tile_matrix_set has no srs_id or an empty bounding box".into(),
                ))
            }
        };
        let srs = self.srs(row, srs_id, "gpkg_tile_matrix_set")?;
        let matrices = tile_matrices(conn, table).map_err(corrupt)?;
        if matrices.is_empty() {
            return Err(corrupt("no rows in gpkg_tile_matrix".into()));
        }
        let format = first_tile(conn, table)
            .map_err(|e| corrupt(format!("unreadable tile table ({e})")))?
            .map_or(TileFormat::Unknown, |data| TileFormat::sniff(&data));
        Ok(TilePyramid {
            table: table.clone(),
            identifier: row.identifier.clone(),
            description: row.description.clone(),
            srs,
            bbox,
            matrices,
            format,
        })
    }
}

/// A column of `PRAGMA table_info`.
struct Column {
    cid: i64,
    name: String,
    declared: String,
    pk: bool,
}

fn table_info(conn: &Connection, table: &str) -> rusqlite::Result<Vec<Column>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({})", quote(table)))?;
    let rows = stmt.query_map([], |r| {
        Ok(Column {
            cid: integer(r, 0)?.unwrap_or(-1),
            name: text(r, 1)?.unwrap_or_default(),
            declared: text(r, 2)?.unwrap_or_default().trim().to_owned(),
            pk: integer(r, 5)?.unwrap_or(0) > 0,
        })
    })?;
    rows.collect()
}

/// The field type of a declared column type (GeoPackage 1.3 clause 1.1.1.1.3,
/// table "GeoPackage Data Types"), `None` for BLOBs and geometries, which are
/// not attributes.
/// Other declarations follow SQLite's affinity rules (Datatypes In SQLite
/// §3.1), NUMERIC affinity as Real.
pub(super) fn field_type(declared: &str) -> Option<FieldType> {
    let upper = declared.to_ascii_uppercase();
    let base = upper.split('(').next().unwrap_or_default().trim();
    match base {
        "BOOLEAN" => Some(FieldType::Boolean),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "INTEGER" => Some(FieldType::Integer),
        "FLOAT" | "DOUBLE" | "REAL" => Some(FieldType::Real),
        "TEXT" | "DATE" | "DATETIME" => Some(FieldType::Text),
        "" | "BLOB" => None,
        // Geometry type names (clause 2.1.4, Annex F.1): a second geometry
        // column ("POINT" would otherwise have INTEGER affinity).
        "GEOMETRY" | "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOINT" | "MULTILINESTRING"
        | "MULTIPOLYGON" | "GEOMETRYCOLLECTION" | "CIRCULARSTRING" | "COMPOUNDCURVE"
        | "CURVEPOLYGON" | "MULTICURVE" | "MULTISURFACE" | "CURVE" | "SURFACE" => None,
        _ if base.contains("INT") => Some(FieldType::Integer),
        _ if ["CHAR", "CLOB", "TEXT"].iter().any(|t| base.contains(t)) => Some(FieldType::Text),
        _ if base.contains("BLOB") => None,
        _ => Some(FieldType::Real),
    }
}

/// A `gpkg_tile_matrix` row as stored: zoom, matrix and tile sizes, pixel
/// sizes.
type MatrixRow = ([Option<i64>; 5], [Option<f64>; 2]);

/// The rows of `gpkg_tile_matrix` for `table` by zoom, checked: zoom not
/// negative, every size positive (clause 2.2.7.1.2, "Table Data Values").
fn tile_matrices(conn: &Connection, table: &str) -> Result<Vec<GpkgTileMatrix>, String> {
    let sql = "SELECT zoom_level, matrix_width, matrix_height, tile_width, tile_height, \
               pixel_x_size, pixel_y_size FROM gpkg_tile_matrix \
               WHERE table_name = ?1 COLLATE NOCASE ORDER BY zoom_level";
    let rows: Vec<MatrixRow> = conn
        .prepare(sql)
        .and_then(|mut stmt| {
            stmt.query_map([table], |r| {
                let mut ints = [None; 5];
                for (k, v) in ints.iter_mut().enumerate() {
                    *v = integer(r, k)?;
                }
                Ok((ints, [real(r, 5)?, real(r, 6)?]))
            })?
            .collect()
        })
        .map_err(|e| format!("unreadable gpkg_tile_matrix ({e})"))?;
    rows.into_iter()
        .map(|(ints, sizes)| {
            let zoom = ints[0].and_then(|z| u32::try_from(z).ok());
            let positive =
                |v: Option<i64>| v.and_then(|v| u32::try_from(v).ok()).filter(|&v| v > 0);
            let pixel = |v: Option<f64>| v.filter(|v| v.is_finite() && *v > 0.0);
            match (
                zoom,
                [ints[1], ints[2], ints[3], ints[4]].map(positive),
                sizes.map(pixel),
            ) {
                (Some(zoom), [Some(mw), Some(mh), Some(tw), Some(th)], [Some(px), Some(py)]) => {
                    Ok(GpkgTileMatrix {
                        zoom,
                        matrix_width: mw,
                        matrix_height: mh,
                        tile_width: tw,
                        tile_height: th,
                        pixel_x_size: px,
                        pixel_y_size: py,
                    })
                }
                _ => Err(format!(
                    "gpkg_tile_matrix row {ints:?} {sizes:?}: sizes must be positive"
                )),
            }
        })
        .collect()
}

/// The bytes of a stored tile, to tell the format; also checks that the
/// tile table has the columns of clause 2.2.8 (`read_tile` queries them).
fn first_tile(conn: &Connection, table: &str) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare(&super::tile_query(table))?;
    let sql = format!("SELECT tile_data FROM {} LIMIT 1", quote(table));
    conn.query_row(&sql, [], |r| {
        Ok(match r.get_ref(0)? {
            ValueRef::Blob(b) => Some(b.to_vec()),
            _ => None,
        })
    })
    .optional()
    .map(Option::flatten)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_quotes_doubled() {
        assert_eq!(quote("rivers"), "\"rivers\"");
        assert_eq!(
            quote("a\"; DROP TABLE x; --"),
            "\"a\"\"; DROP TABLE x; --\""
        );
    }

    #[test]
    fn declared_types_map_to_field_types() {
        let cases = [
            ("INTEGER", Some(FieldType::Integer)),
            ("mediumint", Some(FieldType::Integer)),
            ("TINYINT", Some(FieldType::Integer)),
            ("BIGINT", Some(FieldType::Integer)),
            ("BOOLEAN", Some(FieldType::Boolean)),
            ("REAL", Some(FieldType::Real)),
            ("DOUBLE", Some(FieldType::Real)),
            ("FLOAT", Some(FieldType::Real)),
            ("NUMERIC", Some(FieldType::Real)),
            ("TEXT", Some(FieldType::Text)),
            ("TEXT(254)", Some(FieldType::Text)),
            ("VARCHAR(10)", Some(FieldType::Text)),
            ("DATE", Some(FieldType::Text)),
            ("DATETIME", Some(FieldType::Text)),
            ("BLOB", None),
            ("BLOB(100)", None),
            ("", None),
            ("POINT", None),
            ("MULTIPOLYGON", None),
        ];
        for (declared, expected) in cases {
            assert_eq!(field_type(declared), expected, "{declared}");
        }
    }
}
