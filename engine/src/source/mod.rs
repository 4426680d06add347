//! Data sources, one folder per format. A format implements the traits it
//! can give: [`TileArchive`] for pre-encoded tiles (PMTiles, MBTiles),
//! [`RasterSource`] for pixels by block (GeoTIFF, GeoPackage tile
//! pyramids, raster archives through [`archive_raster`]), [`FeatureSource`]
//! for features in a box (GeoPackage feature tables, the layers of MVT
//! archives through [`mvt_archive`]). Sources never build
//! layers: the catalog does (`catalog/open.rs`). Adding a format means one
//! module here and one arm there.

pub mod archive_raster;
pub mod cog;
pub mod gpkg;
mod image_block;
pub mod mbtiles;
pub mod mvt_archive;
pub mod pmtiles;
mod sqlite;

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::bbox::Bbox;
use crate::cache::ByteLru;
use crate::crs::{Crs, Transform};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::feature::{Feature, Field};
use crate::metadata::TileSetMetadata;
use crate::source::cog::{Block, GeoTransform, SampleType};
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

/// The size of one resolution of a [`RasterSource`] and of its blocks, in
/// pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelShape {
    pub width: u32,
    pub height: u32,
    pub block_width: u32,
    pub block_height: u32,
}

impl LevelShape {
    /// Blocks across and down.
    pub fn blocks(&self) -> (u32, u32) {
        (
            self.width.div_ceil(self.block_width),
            self.height.div_ceil(self.block_height),
        )
    }
}

/// Pixels by block, at several resolutions of the same extent: what the
/// warp reads. Blocks are decoded once into the catalog's block cache.
pub trait RasterSource: Send + Sync {
    /// Resolutions, full first, then coarser ones covering the same extent.
    fn levels(&self) -> &[LevelShape];
    /// Samples per pixel (an alpha band included).
    fn bands(&self) -> usize;
    fn sample_type(&self) -> SampleType;
    /// The value that marks a pixel as empty, when the source has one.
    fn nodata(&self) -> Option<f64>;
    /// The full resolution's affine geotransform (GDAL order).
    fn geotransform(&self) -> Option<GeoTransform>;
    /// The CRS, as an EPSG code.
    fn epsg(&self) -> Option<u32>;
    /// Block (`col`, `row`) of `level`, decoded.
    fn read_block(&self, level: usize, col: u32, row: u32) -> Result<Arc<Block>>;
    /// The transparency mask of that block (0 = empty), where there is one.
    fn read_mask_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Arc<Block>>>;

    /// The blocks of `level` outside which there is no data, `[min_col,
    /// min_row, max_col, max_row]`, where the source knows it holds less
    /// than the whole level: the warp reads nothing outside them. `None`:
    /// the whole level may hold data.
    fn data_blocks(&self, _level: usize) -> Option<[u32; 4]> {
        None
    }

    /// That block as an image file (JPEG, PNG, WebP) that can be sent as
    /// the tile it covers without decoding: a JPEG COG's block with its
    /// tables, a GeoPackage's stored tile. `None` when it is not stored so,
    /// or has transparency of its own to apply.
    fn stored_block(&self, _level: usize, _col: u32, _row: u32) -> Result<Option<bytes::Bytes>> {
        Ok(None)
    }
}

/// What a feature query asks for: the features whose envelope meets
/// `bbox`, given back in its CRS.
pub struct FeatureQuery<'a> {
    pub bbox: &'a Bbox,
    /// Largest distance between a curve and the polyline that stands for
    /// it, in the units of `bbox`'s CRS.
    pub tolerance: f64,
    /// Most features answered; more is `LimitExceeded` (a bound on one
    /// request's memory and time).
    pub max: usize,
    /// When the query is abandoned.
    pub deadline: Deadline,
}

impl FeatureQuery<'_> {
    /// The query's box in `crs` (two boxes where it crosses `crs`'s
    /// antimeridian, none where the transform places no point) and how
    /// many units of `crs` one unit of the query's CRS spans: the narrower
    /// side's scale, where reprojection makes units unequal.
    pub(crate) fn boxes_in(&self, crs: &Crs) -> (Vec<[f64; 4]>, f64) {
        let boxes = Transform::new(self.bbox.crs(), crs).bboxes(self.bbox.coords(), 8);
        let across: f64 = boxes.iter().map(|b| b[2] - b[0]).sum();
        let down = boxes.iter().map(|b| b[3] - b[1]).fold(0.0, f64::max);
        let scale = (across / self.bbox.width()).min(down / self.bbox.height());
        (boxes, scale)
    }
}

/// Features in a box, with their attributes: what vector tiles are cut
/// from and maps are drawn from.
pub trait FeatureSource: Send + Sync {
    /// The name the features go by (an MVT layer's name).
    fn name(&self) -> &str;
    /// What the source says about itself, when it says anything.
    fn description(&self) -> Option<&str>;
    /// The attributes of every feature, in the order of `Feature::values`.
    fn fields(&self) -> &[Field];
    /// The CRS features are stored in.
    fn crs(&self) -> &Crs;
    /// The declared geometry type, an OGC Simple Features name in capitals
    /// (`MULTIPOLYGON`, `POINT`, `GEOMETRY` when any).
    fn geometry_type(&self) -> &str;
    /// Whether features come cut at tile edges (an archive of vector
    /// tiles): a feature across tiles comes as one piece per tile, with
    /// edges along the cuts that are not the feature's own.
    fn cut_at_tiles(&self) -> bool {
        false
    }
    /// The extent of the features in [`FeatureSource::crs`], when known.
    fn extent(&self) -> Option<[f64; 4]>;
    /// Visits the features whose envelope meets `query.bbox`, reprojected
    /// into its CRS; a feature that cannot be read is left out (and
    /// logged), not the query failed.
    fn features(&self, query: &FeatureQuery, visit: &mut dyn FnMut(&mut Feature)) -> Result<()>;
}

/// A number no other raster source of the process has: the first part of
/// its keys in the shared block cache.
pub(crate) fn block_cache_serial() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
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
pub const SOURCE_EXTENSIONS: &[&str] = &["pmtiles", "mbtiles", "tif", "tiff", "gpkg"];

pub(crate) fn extension(path: &Path) -> Option<String> {
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
