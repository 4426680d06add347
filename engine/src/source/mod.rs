//! Data sources, one folder per format. A format implements the traits it
//! can give: [`TileArchive`] for pre-encoded tiles (PMTiles, MBTiles).
//! Adding a format means one module here and one arm in [`open_archive`].

pub mod cog;
pub mod gpkg;
pub mod mbtiles;
pub mod pmtiles;
mod sqlite;

use std::path::Path;
use std::sync::Arc;

use crate::cache::ByteLru;
use crate::error::{Error, Result};
use crate::metadata::TileSetMetadata;
use crate::tile::{Tile, TileCoord};

/// Pre-encoded tiles by coordinate.
///
/// Reads are synchronous: an archive is a memory map or a SQLite file with
/// its pages memory-mapped, so a read is a lookup and a slice, microseconds,
/// cheaper than handing it to another thread. Rendering sources (later) run
/// on a bounded pool instead.
pub trait TileArchive: Send + Sync {
    /// The stored tile at `coord`, `Ok(None)` when the archive has none.
    fn get_tile(&self, coord: TileCoord) -> Result<Option<Tile>>;

    /// What the archive says about itself.
    fn metadata(&self) -> &TileSetMetadata;
}

/// Shared state the sources of one catalog use, bounded in bytes.
pub struct SourceContext {
    /// Parsed PMTiles leaf directories of every archive.
    pub pmtiles_directories: ByteLru<pmtiles::DirectoryKey, pmtiles::Directory>,
    /// Decoded GeoTIFF blocks of every file.
    pub cog_blocks: ByteLru<cog::BlockKey, cog::Block>,
}

/// Default bound of the decoded-block cache: 256 MiB holds ~1000 decoded
/// 256² RGBA blocks, the working set of a few busy layers, and is what
/// GDAL_CACHEMAX=256 gives a GDAL-based server.
pub const DEFAULT_BLOCK_CACHE_BYTES: usize = 256 << 20;

/// Default bound of the PMTiles leaf-directory cache: 64 MiB holds the leaves
/// of a planet-scale archive's hot zooms (a leaf is ~100–600 KiB parsed).
pub const DEFAULT_DIRECTORY_CACHE_BYTES: usize = 64 << 20;

impl SourceContext {
    /// A context whose directory cache holds at most the given number of
    /// bytes, and the block cache its default.
    pub fn new(directory_cache_bytes: usize) -> Arc<Self> {
        Self::with_block_cache(directory_cache_bytes, DEFAULT_BLOCK_CACHE_BYTES)
    }

    /// A context with both cache bounds given, in bytes.
    pub fn with_block_cache(directory_cache_bytes: usize, block_cache_bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            pmtiles_directories: ByteLru::new(directory_cache_bytes),
            cog_blocks: ByteLru::new(block_cache_bytes),
        })
    }
}

/// The whole file memory-mapped, as `Bytes` that slices share without
/// copying, and its modification time when the system gives one.
pub(crate) fn map_file(path: &Path) -> Result<(bytes::Bytes, Option<std::time::SystemTime>)> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    // SAFETY: the map is read-only. A file truncated under a running server
    // is the one case memory maps cannot defend against, the trade-off every
    // mmap-based tile server makes; files are expected to be replaced by
    // rename, which leaves this mapping intact.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    let modified = file.metadata().and_then(|m| m.modified()).ok();
    Ok((bytes::Bytes::from_owner(map), modified))
}

/// File extensions a layer source is discovered by.
pub const SOURCE_EXTENSIONS: &[&str] = &["pmtiles", "mbtiles", "tif", "tiff"];

/// What a layer serves from: stored tiles, or a raster rendered per request.
#[derive(Clone)]
pub enum LayerSource {
    Tiles(Arc<dyn TileArchive>),
    Raster(Arc<crate::raster::RasterLayer>),
}

impl LayerSource {
    /// The source's own metadata.
    pub fn metadata(&self) -> &TileSetMetadata {
        match self {
            LayerSource::Tiles(archive) => archive.metadata(),
            LayerSource::Raster(raster) => raster.metadata(),
        }
    }
}

/// Opens the source at `path`, choosing the format by file extension;
/// `style` applies to rasters.
pub fn open_source(
    path: &Path,
    style: &crate::raster_style::StyleSpec,
    ctx: &Arc<SourceContext>,
) -> Result<LayerSource> {
    match extension(path).as_deref() {
        Some("tif" | "tiff") => Ok(LayerSource::Raster(Arc::new(
            crate::raster::RasterLayer::open(path, Arc::clone(ctx), style)?,
        ))),
        _ => open_archive(path, ctx).map(LayerSource::Tiles),
    }
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

/// Opens the archive at `path`, choosing the format by file extension.
pub fn open_archive(path: &Path, ctx: &Arc<SourceContext>) -> Result<Arc<dyn TileArchive>> {
    match extension(path).as_deref() {
        Some("pmtiles") => Ok(Arc::new(pmtiles::PmTiles::open(path, Arc::clone(ctx))?)),
        Some("mbtiles") => Ok(Arc::new(mbtiles::MbTiles::open(path)?)),
        _ => Err(Error::Unsupported {
            path: path.to_owned(),
            detail: format!(
                "unknown file extension; sources end in .{}",
                SOURCE_EXTENSIONS.join(", .")
            ),
        }),
    }
}
