//! GeoPackage 1.3 (OGC 12-128r18): the reading layer. A GeoPackage is an
//! SQLite file; it is opened read-only through the connection pool MBTiles
//! uses (`source/sqlite.rs`), and what it holds is read
//! once at open into plain structs shared by all readers.
//!
//! ```text
//! GeoPackage::open(path) -> Result<GeoPackage>
//!   .tile_pyramids()  -> &[TilePyramid]      data_type 'tiles'
//!   .feature_tables() -> &[FeatureTable]     data_type 'features'
//!   .failed_tables()  -> &[(String, Error)]  tables that did not open, and why
//!   .read_tile(&pyramid, zoom, col, row) -> Result<Option<Bytes>>   stored bytes
//!   .features(&table, bbox, &fields, filter, max) -> Result<Vec<Feature>>  envelope ∩ bbox
//!   .for_each_feature(&table, &Selection, visit) -> Result<()>           the same, streamed
//! ```
//!
//! Decisions:
//! - Open fails only when the file is not a GeoPackage at all (not SQLite:
//!   `Corrupt`; SQLite without `gpkg_contents`/`gpkg_spatial_ref_sys`, e.g.
//!   an MBTiles file: `Unsupported`) or its SRS and contents tables are
//!   unreadable. A bad table (unknown srs_id, missing geometry column, no
//!   tile matrix, non-positive sizes...) lands in [`GeoPackage::failed_tables`]
//!   with its error, so the caller logs it and serves the others.
//! - SRS: a feature table's is `gpkg_geometry_columns.srs_id`, a pyramid's
//!   `gpkg_tile_matrix_set.srs_id`; `gpkg_contents.srs_id` SHALL agree and
//!   a warning is logged when it does not (some writers put 4326 there for
//!   Web Mercator tiles). EPSG codes: see [`srs::epsg_code`].
//! - Tiles: `tile_row` counts from the top (row 0 is the northernmost, clause
//!   2.2.7 "tile origin at the upper left"), unlike MBTiles. A position
//!   outside its matrix, or a zoom without a matrix, is absent (`Ok(None)`).
//! - Features: through the R-tree `rtree_<table>_<column>` when the file has
//!   it (without one the open logs a warning per table and queries scan the
//!   table); each candidate is checked against the blob envelope. NULL and
//!   empty geometries are returned as an empty GeometryCollection when no
//!   box is asked for (their attributes are data) and never meet a box (as
//!   the R-tree leaves them out). Curves are linearized (`arc.rs`), as
//!   finely as the query's [`Stroke`] says. A feature whose geometry cannot
//!   be decoded is skipped and logged once per table and id
//!   (`skipped.rs`): it used to fail the query, and so every tile it
//!   touched, for one bad row (issue 12).
//! - Attributes: every column but the primary key and the geometry, typed
//!   from the declared column type; BLOB columns are left out (see
//!   `features.rs` for how stored values are coerced).
//!
//! Not covered: gridded coverages, vector tiles and attributes tables (their
//! rows are skipped), the deprecated ExtendedGeoPackageBinary encoding,
//! views without an INTEGER PRIMARY KEY.
//!
//! rusqlite with the `bundled` SQLite is what MBTiles already uses, and
//! bundles the R-tree module; a GeoPackage-specific crate would add a
//! second SQLite binding for what is a few queries.

mod arc;
mod blob;
mod contents;
mod features;
mod pyramid;
mod skipped;
mod srs;
mod table;
mod wkb;

use std::path::Path;

use bytes::Bytes;
use rusqlite::types::ValueRef;
use rusqlite::OptionalExtension;

use super::sqlite::SqlitePool;
use crate::error::{Error, Result};
use crate::feature::{Feature, Field};
use crate::tile::TileFormat;

pub use arc::Stroke;
pub use features::blob_geometry;
pub use features::Selection;
pub use pyramid::PyramidSource;
pub use srs::{epsg_code, Srs};
pub use table::GpkgTable;
pub use wkb::GeometryError;

/// An open GeoPackage: its tables, read at open, and a connection pool.
pub struct GeoPackage {
    pool: SqlitePool,
    pyramids: Vec<TilePyramid>,
    feature_tables: Vec<FeatureTable>,
    failed: Vec<(String, Error)>,
    skipped: skipped::Skipped,
}

/// A tile pyramid user data table (clause 2.2) and its tile matrices.
#[derive(Debug, Clone, PartialEq)]
pub struct TilePyramid {
    /// The table name, as in `gpkg_contents`.
    pub table: String,
    pub identifier: Option<String>,
    pub description: Option<String>,
    /// The SRS of `gpkg_tile_matrix_set`.
    pub srs: Srs,
    /// The extent of tile (0, 0)'s top-left corner to the far corner of the
    /// matrices, `[min_x, min_y, max_x, max_y]` from `gpkg_tile_matrix_set`.
    pub bbox: [f64; 4],
    /// The matrices by ascending zoom.
    pub matrices: Vec<GpkgTileMatrix>,
    /// The format of a stored tile (`Unknown` when empty or not an image).
    pub format: TileFormat,
}

/// One row of `gpkg_tile_matrix`, checked positive.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpkgTileMatrix {
    pub zoom: u32,
    pub matrix_width: u32,
    pub matrix_height: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    /// Size of a pixel in SRS units.
    pub pixel_x_size: f64,
    pub pixel_y_size: f64,
}

/// A vector feature user data table (clause 2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureTable {
    /// The table name, as in `gpkg_contents`.
    pub table: String,
    pub identifier: Option<String>,
    pub description: Option<String>,
    pub geometry_column: String,
    /// `gpkg_geometry_columns.geometry_type_name`, uppercase (e.g.
    /// `MULTIPOLYGON`, `GEOMETRY`).
    pub geometry_type: String,
    /// The SRS of `gpkg_geometry_columns`.
    pub srs: Srs,
    /// The `gpkg_contents` extent, when set (informative, not checked).
    pub bbox: Option<[f64; 4]>,
    /// The INTEGER PRIMARY KEY column: the feature ids.
    pub id_column: String,
    /// Attribute columns: every column except the key and the geometry,
    /// BLOB columns left out.
    pub fields: Vec<Field>,
    /// Whether the R-tree spatial index is there and used.
    pub has_index: bool,
}

/// The R-tree of a geometry column (Annex F.3): `rtree_<t>_<c>`.
fn rtree_name(table: &str, column: &str) -> String {
    format!("rtree_{table}_{column}")
}

/// The tile lookup of clause 2.2.8 for a pyramid table.
fn tile_query(table: &str) -> String {
    format!(
        "SELECT tile_data FROM {} WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
        contents::quote(table)
    )
}

impl GeoPackage {
    /// Opens `path` read-only and reads its tables. A SQLite file without
    /// `gpkg_contents` and `gpkg_spatial_ref_sys` (an MBTiles file, say) is
    /// `Unsupported`; a file that is not SQLite is `Corrupt`.
    pub fn open(path: &Path) -> Result<Self> {
        let pool = SqlitePool::new(path);
        let contents = contents::read(&*pool.get()?, path)?;
        Ok(GeoPackage {
            pool,
            pyramids: contents.pyramids,
            feature_tables: contents.feature_tables,
            failed: contents.failed,
            skipped: skipped::Skipped::default(),
        })
    }

    /// The file this GeoPackage was opened from.
    pub fn path(&self) -> &Path {
        self.pool.path()
    }

    /// The tile pyramids that opened, in `gpkg_contents` order.
    pub fn tile_pyramids(&self) -> &[TilePyramid] {
        &self.pyramids
    }

    /// The feature tables that opened, in `gpkg_contents` order.
    pub fn feature_tables(&self) -> &[FeatureTable] {
        &self.feature_tables
    }

    /// Tables that could not be opened (unknown srs_id, missing geometry
    /// column, bad tile matrix...), by name with the error, so the caller can
    /// log them and keep the others.
    pub fn failed_tables(&self) -> &[(String, Error)] {
        &self.failed
    }

    /// The zoom levels of `pyramid` holding at least one tile, each with
    /// the columns and rows its tiles span, `[min_col, min_row, max_col,
    /// max_row]` (the unique index on zoom, column and row answers this
    /// without reading tiles).
    pub fn stored_zooms(&self, pyramid: &TilePyramid) -> Result<Vec<(u32, [u32; 4])>> {
        let conn = self.pool.get()?;
        let sql = format!(
            "SELECT zoom_level, min(tile_column), min(tile_row), max(tile_column), \
             max(tile_row) FROM {} GROUP BY zoom_level",
            contents::quote(&pyramid.table)
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| self.pool.error(e))?;
        let zooms = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    [r.get::<_, i64>(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
                ))
            })
            .map_err(|e| self.pool.error(e))?;
        let mut out = Vec::new();
        for zoom in zooms {
            let (zoom, span) = zoom.map_err(|e| self.pool.error(e))?;
            // Negative columns or rows name no tile of the matrix.
            let span = span.map(|v| u32::try_from(v.max(0)).unwrap_or(u32::MAX));
            if let Ok(zoom) = u32::try_from(zoom) {
                out.push((zoom, span));
            }
        }
        Ok(out)
    }

    /// The stored bytes of a tile (PNG, JPEG or WebP as stored), `Ok(None)`
    /// when there is none. `row` counts from the top (GeoPackage 1.3 clause
    /// 2.2.7: tile (0, 0) is the upper-left one).
    pub fn read_tile(
        &self,
        pyramid: &TilePyramid,
        zoom: u32,
        col: u32,
        row: u32,
    ) -> Result<Option<Bytes>> {
        let inside = pyramid
            .matrices
            .iter()
            .any(|m| m.zoom == zoom && col < m.matrix_width && row < m.matrix_height);
        if !inside {
            return Ok(None);
        }
        let conn = self.pool.get()?;
        let mut stmt = conn
            .prepare_cached(&tile_query(&pyramid.table))
            .map_err(|e| self.pool.error(e))?;
        let stored = stmt
            .query_row((zoom, col, row), |r| {
                Ok(match r.get_ref(0)? {
                    ValueRef::Blob(b) => Ok(Some(Bytes::copy_from_slice(b))),
                    ValueRef::Null => Ok(None),
                    other => Err(other.data_type()),
                })
            })
            .optional()
            .map_err(|e| self.pool.error(e))?;
        match stored {
            None => Ok(None),
            Some(Ok(tile)) => Ok(tile),
            Some(Err(data_type)) => Err(Error::Corrupt {
                path: self.pool.path().to_owned(),
                format: contents::FORMAT,
                detail: format!(
                    "table {:?}: tile {zoom}/{col}/{row} is stored as {data_type}, not a blob",
                    pyramid.table
                ),
            }),
        }
    }

    /// Features whose envelope meets `bbox` (`[min_x, min_y, max_x, max_y]`
    /// in the table's SRS; `None` for all) and passing `filter` (an SQL
    /// expression from the configuration), in id order (in no set order
    /// when `bbox` is given and the table has an R-tree), with the values of
    /// `fields` (indices into `table.fields`), curves stroked at GDAL's
    /// default step. More than `max_features` is
    /// [`Error::TooManyFeatures`]; a box that is not finite and ordered or a
    /// field index out of range is `InvalidRequest`; a feature whose
    /// geometry cannot be decoded is left out (and logged once).
    pub fn features(
        &self,
        table: &FeatureTable,
        bbox: Option<[f64; 4]>,
        fields: &[usize],
        filter: Option<&str>,
        max_features: usize,
    ) -> Result<Vec<Feature>> {
        let selection = Selection {
            bbox,
            fields,
            filter,
            max: max_features,
            stroke: Stroke::Gdal,
            ..Selection::default()
        };
        let mut out = Vec::new();
        self.for_each_feature(table, &selection, &mut |f| out.push(f.clone()))?;
        Ok(out)
    }

    /// [`Self::features`] as `selection` says, handed to `visit` one by one
    /// as SQLite reads them: a tile of 25 000 polygons never holds them all
    /// at once. The feature is refilled for the next row: `visit` keeps what
    /// it needs.
    pub fn for_each_feature(
        &self,
        table: &FeatureTable,
        selection: &Selection,
        visit: &mut dyn FnMut(&mut Feature),
    ) -> Result<()> {
        let conn = self.pool.get()?;
        let path = self.pool.path();
        features::query(&conn, path, table, selection, &self.skipped, visit)
    }
}
