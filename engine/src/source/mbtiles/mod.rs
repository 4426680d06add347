//! MBTiles 1.3 archives: SQLite, opened read-only, through the small pool of
//! connections of [`SqlitePool`] (pages memory-mapped by SQLite itself).

use std::path::Path;

use bytes::Bytes;
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::metadata::{valid_bounds, valid_center, TileSetMetadata};
use crate::source::sqlite::SqlitePool;
use crate::source::TileArchive;
use crate::tile::{Encoding, Tile, TileCoord, TileFormat, MAX_ZOOM};

const TILE_QUERY: &str =
    "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3";

/// An open MBTiles archive.
pub struct MbTiles {
    pool: SqlitePool,
    metadata: TileSetMetadata,
}

impl MbTiles {
    /// Opens `path` read-only and reads its `metadata` table.
    pub fn open(path: &Path) -> Result<Self> {
        let archive = MbTiles {
            pool: SqlitePool::new(path),
            metadata: TileSetMetadata::new(TileFormat::Unknown),
        };
        let metadata = archive.read_metadata(&*archive.pool.get()?)?;
        Ok(MbTiles {
            metadata,
            ..archive
        })
    }

    /// The `metadata` table as TileSetMetadata (MBTiles 1.3 "Metadata"):
    /// missing zooms come from the `tiles` table, a missing `format` from the
    /// signature of a stored tile.
    fn read_metadata(&self, conn: &Connection) -> Result<TileSetMetadata> {
        let not_mbtiles = |e: rusqlite::Error| Error::Corrupt {
            path: self.pool.path().to_owned(),
            format: "MBTiles archive",
            detail: format!("no readable tiles/metadata tables ({e})"),
        };
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT name, value FROM metadata")
            .and_then(|mut stmt| {
                stmt.query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                    ))
                })?
                .collect()
            })
            .map_err(not_mbtiles)?;
        let value = |key: &str| {
            rows.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.trim())
                .filter(|v| !v.is_empty())
        };
        let numbers = |key: &str| -> Option<Vec<f64>> {
            value(key)?
                .split(',')
                .map(|n| n.trim().parse().ok())
                .collect()
        };

        let sample: Option<Vec<u8>> = conn
            .query_row("SELECT tile_data FROM tiles LIMIT 1", [], |r| r.get(0))
            .optional()
            .map_err(not_mbtiles)?;
        let zooms: (Option<u8>, Option<u8>) = conn
            .query_row(
                "SELECT min(zoom_level), max(zoom_level) FROM tiles",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(not_mbtiles)?;
        let format = value("format")
            .and_then(TileFormat::from_mbtiles_name)
            .or_else(|| sample.as_deref().map(sniff_format))
            .unwrap_or(TileFormat::Unknown);

        let mut meta = TileSetMetadata::new(format);
        meta.name = value("name").map(str::to_owned);
        meta.description = value("description").map(str::to_owned);
        meta.attribution = value("attribution").map(str::to_owned);
        meta.version = value("version").map(str::to_owned);
        let zoom = |key: &str, fallback: Option<u8>| {
            value(key)
                .and_then(|v| v.parse::<u8>().ok())
                .or(fallback)
                .map(|z| z.min(MAX_ZOOM))
        };
        meta.minzoom = zoom("minzoom", zooms.0).unwrap_or(0);
        meta.maxzoom = zoom("maxzoom", zooms.1)
            .unwrap_or(MAX_ZOOM)
            .max(meta.minzoom);
        meta.bounds = numbers("bounds")
            .and_then(|b| <[f64; 4]>::try_from(b).ok())
            .and_then(valid_bounds);
        meta.center = numbers("center")
            .and_then(|c| <[f64; 3]>::try_from(c).ok())
            .and_then(valid_center);
        if let Some(json) = value("json") {
            match serde_json::from_str::<serde_json::Value>(json) {
                Ok(json) => meta.merge_json(&json),
                Err(e) => tracing::warn!(path = %self.pool.path().display(), error = %e,
                    "ignoring unreadable MBTiles metadata json"),
            }
        }
        Ok(meta)
    }
}

/// The format of a stored tile: an image signature, or vector tiles when the
/// bytes are gzip'd (MBTiles 1.3 stores `pbf` tiles gzip-compressed).
fn sniff_format(data: &[u8]) -> TileFormat {
    match (TileFormat::sniff(data), Encoding::sniff_gzip(data)) {
        (TileFormat::Unknown, Encoding::Gzip) => TileFormat::Mvt,
        (format, _) => format,
    }
}

impl TileArchive for MbTiles {
    fn get_tile(&self, coord: TileCoord) -> Result<Option<Tile>> {
        let conn = self.pool.get()?;
        // MBTiles rows follow TMS: row 0 is the southernmost.
        let data: Option<Vec<u8>> = conn
            .prepare_cached(TILE_QUERY)
            .and_then(|mut stmt| {
                stmt.query_row((coord.z, coord.x, coord.tms_y()), |r| r.get(0))
                    .optional()
            })
            .map_err(|e| self.pool.error(e))?;
        Ok(data.map(|data| {
            let encoding = Encoding::sniff_gzip(&data);
            Tile::hashed(Bytes::from(data), encoding)
        }))
    }

    fn metadata(&self) -> &TileSetMetadata {
        &self.metadata
    }
}
