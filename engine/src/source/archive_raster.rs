//! A raster tile archive (PMTiles or MBTiles of PNG, JPEG or WebP tiles)
//! read as a [`RasterSource`], so that the warp can draw it in any CRS, bbox
//! and size (WMS GetMap), as it draws GeoTIFFs and GeoPackage pyramids.
//!
//! The archive is an XYZ WebMercatorQuad pyramid: each zoom from `maxzoom`
//! down to `minzoom` is a level (finest first) `tile · 2^z` pixels square
//! over the whole EPSG:3857 square, each stored tile a block decoded to
//! RGBA (straight alpha), a missing tile a transparent block. Zooms whose
//! level would be wider than `u32::MAX` pixels (past z23 for 256-pixel
//! tiles, z22 for 512) are left out: the finest level is then the deepest
//! that fits, and deeper tiles are not read.
//!
//! The tile size is that of the first stored tile found (probing at most a
//! few tiles per zoom inside the metadata bounds), 256 when none is found.
//! An archive's metadata has no tile size field to trust instead (PMTiles
//! v3 has none; MBTiles 1.3 has none).
//!
//! The alternative that lost: resampling stored tiles as images (one
//! decoded tile at a time, as a tile cache does) would have been a second
//! warp; going through [`RasterSource`] gives WMS the warp's resampling,
//! CRS transforms, antimeridian handling and work bounds for free, and
//! shares the decoding with GeoPackage pyramids ([`super::image_block`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::compression::{self, MAX_DECODED_TILE_BYTES};
use crate::error::{Error, Result};
use crate::source::cog::{Block, GeoTransform, SampleType};
use crate::source::image_block::{image_size, rgba_block};
use crate::source::{block_cache_serial, LevelShape, RasterSource, SourceContext, TileArchive};
use crate::tile::{Encoding, TileCoord, TileFormat};

/// Half the side of the WebMercatorQuad square, metres (EPSG:3857).
const HALF: f64 = 20_037_508.342_789_244;

/// WebMercator's latitude limit, degrees: the square's top and bottom.
const MAX_LATITUDE: f64 = 85.051_128_779_806_59;

/// Tile size assumed when no stored tile can be found to measure.
const DEFAULT_TILE_SIZE: u32 = 256;

/// Largest tile side accepted, pixels: a 4096² RGBA block is 64 MiB, the
/// block limit of GeoTIFFs ([`crate::source::cog::MAX_BLOCK_BYTES`]).
const MAX_TILE_SIZE: u32 = 4096;

/// Tiles looked up per zoom, at most, to find one to measure.
const PROBES_PER_ZOOM: usize = 5;

/// A raster tile archive as pixels by block.
pub struct ArchiveRaster {
    archive: Arc<dyn TileArchive>,
    /// Names the archive in errors.
    path: PathBuf,
    tile_size: u32,
    /// The zoom of level 0.
    top_zoom: u8,
    levels: Vec<LevelShape>,
    /// Per level, the tiles inside the metadata bounds (see `data_blocks`).
    spans: Vec<Option<[u32; 4]>>,
    serial: u64,
    ctx: Arc<SourceContext>,
}

impl ArchiveRaster {
    /// The archive's zooms as levels; `Unsupported` when its tiles are not
    /// PNG, JPEG or WebP (vector tiles), are not square, or every zoom's
    /// level is wider than `u32::MAX` pixels.
    pub fn new(archive: Arc<dyn TileArchive>, ctx: Arc<SourceContext>) -> Result<Self> {
        let meta = archive.metadata();
        let path = PathBuf::from(meta.name.as_deref().unwrap_or("raster tile archive"));
        let unsupported = |detail: String| Error::Unsupported {
            path: path.clone(),
            detail,
        };
        if !matches!(
            meta.format,
            TileFormat::Png | TileFormat::Jpeg | TileFormat::Webp
        ) {
            return Err(unsupported(format!(
                "{:?} tiles: only PNG, JPEG and WebP archives can be rendered as rasters",
                meta.format
            )));
        }
        let (minzoom, maxzoom) = (
            meta.minzoom.min(meta.maxzoom),
            meta.maxzoom.max(meta.minzoom),
        );
        let bounds = meta.bounds;
        let tile_size = measure_tile(archive.as_ref(), &path, minzoom, maxzoom, bounds)?
            .unwrap_or(DEFAULT_TILE_SIZE);
        // The deepest zoom whose level is at most u32::MAX pixels wide.
        let deepest = (0..=maxzoom)
            .rev()
            .find(|&z| (u64::from(tile_size) << z) <= u64::from(u32::MAX))
            .filter(|&z| z >= minzoom)
            .ok_or_else(|| {
                unsupported(format!(
                    "zoom {minzoom} of {tile_size}-pixel tiles is wider than 2^32 pixels"
                ))
            })?;
        if deepest < maxzoom {
            tracing::warn!(archive = %path.display(), maxzoom, deepest,
                "raster archive rendered from zoom {deepest} at most: deeper levels would be wider than 2^32 pixels");
        }
        let zooms = (minzoom..=deepest).rev();
        Ok(ArchiveRaster {
            levels: zooms
                .clone()
                .map(|z| LevelShape {
                    width: tile_size << z,
                    height: tile_size << z,
                    block_width: tile_size,
                    block_height: tile_size,
                })
                .collect(),
            spans: zooms.map(|z| bounds.map(|b| tile_span(b, z))).collect(),
            archive,
            path,
            tile_size,
            top_zoom: deepest,
            serial: block_cache_serial(),
            ctx,
        })
    }

    /// The same source, naming `path` in its errors (the archive's own
    /// name, or "raster tile archive", otherwise).
    pub fn with_path(mut self, path: &Path) -> Self {
        self.path = path.to_owned();
        self
    }

    /// The side of the archive's tiles, pixels.
    pub fn tile_size(&self) -> u32 {
        self.tile_size
    }

    /// The tile of `level` at block (`col`, `row`).
    fn coord(&self, level: usize, col: u32, row: u32) -> Result<TileCoord> {
        let z = u8::try_from(level)
            .ok()
            .filter(|_| level < self.levels.len())
            .map(|l| self.top_zoom - l)
            .ok_or_else(|| Error::NotFound {
                what: format!("level {level} of {}", self.path.display()),
            })?;
        TileCoord::new(z, col, row)
    }

    /// The stored image of `coord`, without the content encoding an
    /// archive may have put on it.
    fn image(&self, coord: TileCoord) -> Result<Option<Bytes>> {
        let Some(tile) = self.archive.get_tile(coord)? else {
            return Ok(None);
        };
        Ok(Some(match tile.encoding {
            Encoding::Identity => tile.data,
            encoding => Bytes::from(compression::decode(
                encoding,
                &tile.data,
                MAX_DECODED_TILE_BYTES,
                &self.path,
                "raster tile",
            )?),
        }))
    }
}

/// The side of a stored tile, from the first found among a few per zoom
/// (the centre and corners of the bounds, or of the world); `None` when
/// none is. Tiles that are not square, or larger than [`MAX_TILE_SIZE`],
/// are `Unsupported`.
fn measure_tile(
    archive: &dyn TileArchive,
    path: &Path,
    minzoom: u8,
    maxzoom: u8,
    bounds: Option<[f64; 4]>,
) -> Result<Option<u32>> {
    for z in minzoom..=maxzoom {
        let [c0, r0, c1, r1] =
            bounds.map_or([0, 0, (1 << z) - 1, (1 << z) - 1], |b| tile_span(b, z));
        let probes = [
            ((c0 + c1) / 2, (r0 + r1) / 2),
            (c0, r0),
            (c1, r0),
            (c0, r1),
            (c1, r1),
        ];
        for (x, y) in probes.into_iter().take(PROBES_PER_ZOOM) {
            let Some(tile) = archive.get_tile(TileCoord::new(z, x, y)?)? else {
                continue;
            };
            let data = match tile.encoding {
                Encoding::Identity => tile.data.to_vec(),
                encoding => compression::decode(
                    encoding,
                    &tile.data,
                    MAX_DECODED_TILE_BYTES,
                    path,
                    "raster tile",
                )?,
            };
            return match image_size(&data) {
                Some((w, h)) if w == h && (1..=MAX_TILE_SIZE).contains(&w) => Ok(Some(w)),
                Some((w, h)) => Err(Error::Unsupported {
                    path: path.to_owned(),
                    detail: format!(
                        "tile {z}/{x}/{y} is {w}×{h} pixels: tiles must be square, at most {MAX_TILE_SIZE}"
                    ),
                }),
                None => Err(Error::Corrupt {
                    path: path.to_owned(),
                    format: "raster tile archive",
                    detail: format!("tile {z}/{x}/{y} is not a readable PNG, JPEG or WebP"),
                }),
            };
        }
    }
    Ok(None)
}

/// The tiles of zoom `z` that `bounds` (WGS 84 `[west, south, east,
/// north]`, ordered) touches, `[min_x, min_y, max_x, max_y]`.
fn tile_span([west, south, east, north]: [f64; 4], z: u8) -> [u32; 4] {
    let n = f64::from(1u32 << z);
    let last = n - 1.0;
    let column = |lon: f64| (lon + 180.0) / 360.0 * n;
    let row = |lat: f64| {
        let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
        (1.0 - lat.tan().asinh() / std::f64::consts::PI) / 2.0 * n
    };
    // Floor on the low side; ceil - 1 on the high side, so that a bound on
    // a tile edge does not reach the next tile.
    let low = |v: f64| v.floor().clamp(0.0, last);
    let high = |v: f64, low: f64| (v.ceil() - 1.0).clamp(low, last);
    let (x0, y0) = (low(column(west)), low(row(north)));
    let (x1, y1) = (high(column(east), x0), high(row(south), y0));
    [x0 as u32, y0 as u32, x1 as u32, y1 as u32]
}

impl RasterSource for ArchiveRaster {
    fn levels(&self) -> &[LevelShape] {
        &self.levels
    }

    fn bands(&self) -> usize {
        4
    }

    fn sample_type(&self) -> SampleType {
        SampleType::U8
    }

    fn nodata(&self) -> Option<f64> {
        None
    }

    fn geotransform(&self) -> Option<GeoTransform> {
        let res = 2.0 * HALF / f64::from(self.levels[0].width);
        Some([-HALF, res, 0.0, HALF, 0.0, -res])
    }

    fn epsg(&self) -> Option<u32> {
        Some(3857)
    }

    /// The tiles inside the metadata bounds: an archive of one city is,
    /// at its zooms, millions of missing tiles around it, which a
    /// low-zoom render would otherwise look up one by one.
    fn data_blocks(&self, level: usize) -> Option<[u32; 4]> {
        self.spans.get(level).copied().flatten()
    }

    fn read_block(&self, level: usize, col: u32, row: u32) -> Result<Arc<Block>> {
        let coord = self.coord(level, col, row)?;
        let key = (self.serial, level as u16, col, row);
        self.ctx.cog_blocks.get_or_insert_with(key, || {
            let stored = self.image(coord)?;
            rgba_block(stored.as_deref(), self.tile_size, self.tile_size).map_err(|detail| {
                Error::Corrupt {
                    path: self.path.clone(),
                    format: "raster tile archive",
                    detail: format!("tile {coord}: {detail}"),
                }
            })
        })
    }

    fn read_mask_block(&self, _: usize, _: u32, _: u32) -> Result<Option<Arc<Block>>> {
        // Transparency is the tiles' own alpha.
        Ok(None)
    }

    fn stored_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Bytes>> {
        match self.coord(level, col, row) {
            Ok(coord) => self.image(coord),
            Err(_) => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tile_span_covers_the_tiles_its_bounds_touch_and_no_more() {
        let world = [-180.0, -85.0511, 180.0, 85.0511];
        assert_eq!(tile_span(world, 0), [0, 0, 0, 0]);
        assert_eq!(tile_span(world, 3), [0, 0, 7, 7]);
        // Florence (11.25° E, 43.77° N) at z14: one tile (8704, 5972).
        let point = [11.2558, 43.7696, 11.2559, 43.7697];
        let [x0, y0, x1, y1] = tile_span(point, 14);
        assert_eq!((x0, x1), (8704, 8704));
        assert_eq!(y0, y1);
        // A bound on a tile edge (0° longitude, 0° latitude) stops there.
        assert_eq!(tile_span([-180.0, 0.0, 0.0, 85.0], 1), [0, 0, 0, 0]);
    }
}
