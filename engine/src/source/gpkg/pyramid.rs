//! A GeoPackage tile pyramid read as a [`RasterSource`], for the warp: zoom
//! levels finest first, each stored tile a block decoded to RGBA (one table
//! may mix PNG and JPEG tiles: GDAL writes opaque tiles as JPEG and the
//! others as PNG), a missing tile a transparent block.
//!
//! Where the requested grid is the pyramid's, the layer sends the stored
//! tile ([`RasterSource::stored_block`]); the warp is for the rest.

use std::sync::Arc;

use bytes::Bytes;

use super::{GeoPackage, GpkgTileMatrix, TilePyramid};
use crate::error::{Error, Result};
use crate::source::cog::{Block, GeoTransform, SampleType};
use crate::source::image_block::rgba_block;
use crate::source::{block_cache_serial, LevelShape, RasterSource, SourceContext};

/// A tile pyramid and the matrices the warp can use.
pub struct PyramidSource {
    gpkg: Arc<GeoPackage>,
    pyramid: TilePyramid,
    /// Matrices whose extent is the tile matrix set's, finest first.
    matrices: Vec<GpkgTileMatrix>,
    levels: Vec<LevelShape>,
    /// The blocks of each level that hold tiles (see `data_blocks`).
    stored: Vec<[u32; 4]>,
    serial: u64,
    ctx: Arc<SourceContext>,
}

impl PyramidSource {
    /// The pyramid of `gpkg` named `pyramid`: its matrices that hold tiles,
    /// finest first, each a level covering the tile matrix set's bbox at the
    /// matrix's pixel size. A matrix narrower than the bbox (against the
    /// SHALL of GeoPackage 1.3 clause 2.2.7.1.1, as small_world_and_byte's
    /// z1 is) reads as missing, transparent, tiles beyond it; a pyramid
    /// with no tile at all is `Unsupported`.
    pub fn new(
        gpkg: Arc<GeoPackage>,
        pyramid: TilePyramid,
        ctx: Arc<SourceContext>,
    ) -> Result<Self> {
        let [min_x, min_y, max_x, max_y] = pyramid.bbox;
        let stored = gpkg.stored_zooms(&pyramid)?;
        let mut matrices: Vec<GpkgTileMatrix> = Vec::new();
        let mut levels = Vec::new();
        let mut spans = Vec::new();
        let mut sorted = pyramid.matrices.clone();
        sorted.sort_by_key(|m| std::cmp::Reverse(m.zoom));
        for m in sorted {
            let Some(&(_, span)) = stored.iter().find(|(zoom, _)| *zoom == m.zoom) else {
                continue;
            };
            // Pixels across the bbox at this matrix's resolution.
            let width = ((max_x - min_x) / m.pixel_x_size).round();
            let height = ((max_y - min_y) / m.pixel_y_size).round();
            let pixels = 1.0..=f64::from(u32::MAX);
            if !(pixels.contains(&width) && pixels.contains(&height)) {
                continue;
            }
            levels.push(LevelShape {
                width: width as u32,
                height: height as u32,
                block_width: m.tile_width,
                block_height: m.tile_height,
            });
            spans.push(span);
            matrices.push(m);
        }
        if matrices.is_empty() {
            return Err(Error::Unsupported {
                path: gpkg.path().to_owned(),
                detail: format!("tile table {:?} holds no tile", pyramid.table),
            });
        }
        Ok(PyramidSource {
            gpkg,
            pyramid,
            matrices,
            levels,
            stored: spans,
            serial: block_cache_serial(),
            ctx,
        })
    }

    /// The pyramid.
    pub fn pyramid(&self) -> &TilePyramid {
        &self.pyramid
    }
}

impl RasterSource for PyramidSource {
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
        let m = &self.matrices[0];
        let [min_x, _, _, max_y] = self.pyramid.bbox;
        Some([min_x, m.pixel_x_size, 0.0, max_y, 0.0, -m.pixel_y_size])
    }

    fn epsg(&self) -> Option<u32> {
        self.pyramid.srs.epsg
    }

    /// The span of the level's stored tiles: a pyramid of one city in a
    /// world-wide matrix set is millions of missing tiles around it, which
    /// a low-zoom render would otherwise look up one by one.
    fn data_blocks(&self, level: usize) -> Option<[u32; 4]> {
        self.stored.get(level).copied()
    }

    fn read_block(&self, level: usize, col: u32, row: u32) -> Result<Arc<Block>> {
        let m = self.matrices.get(level).ok_or_else(|| Error::NotFound {
            what: format!("level {level} of tile table {:?}", self.pyramid.table),
        })?;
        let key = (self.serial, level as u16, col, row);
        self.ctx.cog_blocks.get_or_insert_with(key, || {
            let stored = self.gpkg.read_tile(&self.pyramid, m.zoom, col, row)?;
            rgba_block(stored.as_deref(), m.tile_width, m.tile_height).map_err(|detail| {
                Error::Corrupt {
                    path: self.gpkg.path().to_owned(),
                    format: "GeoPackage",
                    detail: format!(
                        "tile table {:?}, tile {}/{col}/{row}: {detail}",
                        self.pyramid.table, m.zoom
                    ),
                }
            })
        })
    }

    fn read_mask_block(&self, _: usize, _: u32, _: u32) -> Result<Option<Arc<Block>>> {
        // Transparency is the tiles' own alpha.
        Ok(None)
    }

    fn stored_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Bytes>> {
        match self.matrices.get(level) {
            Some(m) => self.gpkg.read_tile(&self.pyramid, m.zoom, col, row),
            None => Ok(None),
        }
    }
}
