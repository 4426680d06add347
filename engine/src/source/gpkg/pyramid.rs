//! A GeoPackage tile pyramid read as a [`RasterSource`], for the warp: zoom
//! levels finest first, each stored tile a block decoded to RGBA (one table
//! may mix PNG and JPEG tiles: GDAL writes opaque tiles as JPEG and the
//! others as PNG), a missing tile a transparent block.
//!
//! Where the requested grid is the pyramid's, the layer sends the stored
//! tile ([`RasterSource::stored_block`]); the warp is for the rest.

use std::io::Cursor;
use std::sync::Arc;

use bytes::Bytes;

use super::{GeoPackage, GpkgTileMatrix, TilePyramid};
use crate::error::{Error, Result};
use crate::source::cog::{Block, GeoTransform, SampleType};
use crate::source::{block_cache_serial, LevelShape, RasterSource, SourceContext};
use crate::tile::TileFormat;

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
            let (w, h) = (m.tile_width as usize, m.tile_height as usize);
            let data = match self.gpkg.read_tile(&self.pyramid, m.zoom, col, row)? {
                Some(bytes) => decode_rgba(&bytes, w, h).map_err(|detail| Error::Corrupt {
                    path: self.gpkg.path().to_owned(),
                    format: "GeoPackage",
                    detail: format!(
                        "tile table {:?}, tile {}/{col}/{row}: {detail}",
                        self.pyramid.table, m.zoom
                    ),
                })?,
                None => vec![0; w * h * 4],
            };
            Ok(Block {
                width: w,
                rows: h,
                bands: 4,
                sample_type: SampleType::U8,
                data,
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

/// A PNG, JPEG or WebP tile of `width × height` pixels as RGBA8; another
/// size is an error (and is found before the pixels are allocated).
fn decode_rgba(bytes: &[u8], width: usize, height: usize) -> Result<Vec<u8>, String> {
    let size_error = |w: usize, h: usize| format!("{w}×{h} pixels, not {width}×{height}");
    match TileFormat::sniff(bytes) {
        TileFormat::Png => {
            let mut decoder = png::Decoder::new(Cursor::new(bytes));
            decoder.set_transformations(png::Transformations::normalize_to_color8());
            let mut reader = decoder.read_info().map_err(|e| format!("PNG: {e}"))?;
            let (w, h) = (reader.info().width as usize, reader.info().height as usize);
            if (w, h) != (width, height) {
                return Err(size_error(w, h));
            }
            let mut buf = vec![0; reader.output_buffer_size().ok_or("PNG: too large")?];
            let frame = reader
                .next_frame(&mut buf)
                .map_err(|e| format!("PNG: {e}"))?;
            let pixels = &buf[..frame.buffer_size()];
            Ok(match frame.color_type {
                png::ColorType::Rgba => pixels.to_vec(),
                png::ColorType::Rgb => expand(pixels, 3, |p| [p[0], p[1], p[2], 255]),
                png::ColorType::GrayscaleAlpha => expand(pixels, 2, |p| [p[0], p[0], p[0], p[1]]),
                png::ColorType::Grayscale => expand(pixels, 1, |p| [p[0], p[0], p[0], 255]),
                png::ColorType::Indexed => return Err("PNG: palette left unexpanded".into()),
            })
        }
        TileFormat::Jpeg => {
            use zune_core::colorspace::ColorSpace;
            let options = zune_core::options::DecoderOptions::default()
                .set_max_width(width)
                .set_max_height(height)
                .jpeg_set_out_colorspace(ColorSpace::RGB);
            let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
                zune_core::bytestream::ZCursor::new(bytes),
                options,
            );
            let pixels = decoder.decode().map_err(|e| format!("JPEG: {e:?}"))?;
            match decoder.dimensions() {
                Some((w, h)) if (w, h) == (width, height) => {
                    Ok(expand(&pixels, 3, |p| [p[0], p[1], p[2], 255]))
                }
                Some((w, h)) => Err(size_error(w, h)),
                None => Err("JPEG: no dimensions".into()),
            }
        }
        TileFormat::Webp => {
            let mut decoder = image_webp::WebPDecoder::new(Cursor::new(bytes))
                .map_err(|e| format!("WebP: {e}"))?;
            let (w, h) = decoder.dimensions();
            if (w as usize, h as usize) != (width, height) {
                return Err(size_error(w as usize, h as usize));
            }
            let channels = if decoder.has_alpha() { 4 } else { 3 };
            let mut pixels = vec![0u8; width * height * channels];
            decoder
                .read_image(&mut pixels)
                .map_err(|e| format!("WebP: {e}"))?;
            Ok(if channels == 4 {
                pixels
            } else {
                expand(&pixels, 3, |p| [p[0], p[1], p[2], 255])
            })
        }
        other => Err(format!("a {other:?} tile is not an image")),
    }
}

/// Pixels of `n` bytes each turned into RGBA by `f`.
fn expand(pixels: &[u8], n: usize, f: impl Fn(&[u8]) -> [u8; 4]) -> Vec<u8> {
    pixels.chunks_exact(n).flat_map(f).collect()
}
