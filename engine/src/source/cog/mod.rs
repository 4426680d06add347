//! Cloud-Optimized GeoTIFF (and plain tiled or striped GeoTIFF), read
//! through a memory map.
//!
//! At open the directories are parsed once into [`Level`]s: the full
//! resolution image and its overviews (reduced-resolution IFDs, largest
//! first); then a block is a slice of the map, decompressed and
//! un-predicted into native-endian samples and kept in the catalog's
//! byte-bounded block cache.
//!
//! Covered: classic TIFF and BigTIFF, either byte order; tiles and strips;
//! chunky and planar layouts; no compression, DEFLATE, LZW, PackBits, ZSTD;
//! predictors 2 and 3; 8-, 16-, 32- and 64-bit integer and float samples;
//! GeoKeys to an EPSG code; ModelTiepoint+ModelPixelScale or
//! ModelTransformation; GDAL_NODATA; JPEG blocks of 8-bit samples, with or
//! without JPEGTables (YCbCr to RGB; grey, RGB and RGB + alpha as stored;
//! CMYK and 12-bit JPEG refused at open, see `decode::JpegColour`); WebP
//! blocks of 8-bit samples; LERC blocks of any sample type, bare
//! or in DEFLATE or ZSTD (GDAL's LercParameters tag), with their validity
//! masks read as GDAL reads them (see `decode`); 1-bit per-dataset masks.

mod decode;
mod geo;
mod ifd;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use crate::cache::Weighed;
use crate::error::{Error, Result};
use crate::source::{block_cache_serial, map_file, LevelShape, RasterSource, SourceContext};

pub use decode::SampleType;
use decode::{decode_block, Compression, JpegColour, Layout};
pub use geo::GeoTransform;
use ifd::{ByteOrder, Ifd};

const NEW_SUBFILE_TYPE: u16 = 254;
const IMAGE_WIDTH: u16 = 256;
const IMAGE_LENGTH: u16 = 257;
const BITS_PER_SAMPLE: u16 = 258;
const COMPRESSION: u16 = 259;
const PHOTOMETRIC: u16 = 262;
const STRIP_OFFSETS: u16 = 273;
const SAMPLES_PER_PIXEL: u16 = 277;
const ROWS_PER_STRIP: u16 = 278;
const STRIP_BYTE_COUNTS: u16 = 279;
const PLANAR_CONFIGURATION: u16 = 284;
const PREDICTOR: u16 = 317;
const TILE_WIDTH: u16 = 322;
const TILE_LENGTH: u16 = 323;
const TILE_OFFSETS: u16 = 324;
const TILE_BYTE_COUNTS: u16 = 325;
const EXTRA_SAMPLES: u16 = 338;
const SAMPLE_FORMAT: u16 = 339;
const JPEG_TABLES: u16 = 347;
const GDAL_NODATA: u16 = 42113;
/// GDAL's `[LERC version, additional compression]` (libtiff `tif_lerc.c`).
const LERC_PARAMETERS: u16 = 50674;
/// ExtraSamples value of unassociated (straight) alpha (TIFF 6.0 §18).
const UNASSOCIATED_ALPHA: u64 = 2;

/// NewSubfileType bits (TIFF 6.0 §8): a reduced-resolution image, a mask.
const REDUCED_RESOLUTION: u64 = 1;
const TRANSPARENCY_MASK: u64 = 4;

/// Largest decoded block, 64 MiB: a 4096² block of four f32 bands. A file
/// claiming more is refused at open rather than allocated per request.
pub const MAX_BLOCK_BYTES: usize = 64 << 20;

/// Key of a decoded block in the shared cache: (file serial, level, col, row).
pub type BlockKey = (u64, u16, u32, u32);

/// One resolution of the image (or of its mask).
#[derive(Debug, Clone)]
pub struct Level {
    pub width: u32,
    pub height: u32,
    /// Block size: the tile size, or the image width × RowsPerStrip.
    pub block_width: u32,
    pub block_height: u32,
    offsets: Vec<u64>,
    byte_counts: Vec<u64>,
    compression: Compression,
    predictor: u64,
    /// Tiles (all blocks whole) or strips (the last one may be short).
    tiled: bool,
    /// A 1-bit transparency mask: rows of packed bits, decoded to 0 or 255.
    one_bit: bool,
    /// Samples per pixel, stored together (chunky) or as planes.
    samples: usize,
    planar: bool,
    sample_type: SampleType,
    jpeg_tables: Option<Vec<u8>>,
    /// The last sample is unassociated alpha (ExtraSamples), in a chunky
    /// layout: a LERC block may store it as its validity mask.
    alpha_last: bool,
}

impl Level {
    /// Its size and block size.
    pub fn shape(&self) -> LevelShape {
        LevelShape {
            width: self.width,
            height: self.height,
            block_width: self.block_width,
            block_height: self.block_height,
        }
    }

    /// Blocks across and down.
    pub fn blocks(&self) -> (u32, u32) {
        self.shape().blocks()
    }
}

/// A decoded block: `rows × width` pixels of `bands` samples each,
/// pixel-interleaved, native byte order. Edge tiles keep their padding;
/// the last strip has only the rows that remain.
#[derive(Debug)]
pub struct Block {
    pub width: usize,
    pub rows: usize,
    pub bands: usize,
    pub sample_type: SampleType,
    pub data: Vec<u8>,
}

impl Block {
    /// Sample `index` (pixel × bands + band) as f64, which holds every
    /// sample type exactly. Panics past the block's data: callers index
    /// within `rows × width × bands`.
    #[inline]
    pub fn value(&self, index: usize) -> f64 {
        let size = self.sample_type.size();
        let b = &self.data[index * size..(index + 1) * size];
        match self.sample_type {
            SampleType::U8 => f64::from(b[0]),
            SampleType::I8 => f64::from(b[0] as i8),
            SampleType::U16 => f64::from(u16::from_ne_bytes([b[0], b[1]])),
            SampleType::I16 => f64::from(i16::from_ne_bytes([b[0], b[1]])),
            SampleType::U32 => f64::from(u32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
            SampleType::I32 => f64::from(i32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
            SampleType::F32 => f64::from(f32::from_ne_bytes([b[0], b[1], b[2], b[3]])),
            SampleType::F64 => f64::from_ne_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        }
    }
}

impl Weighed for Block {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>() + self.data.len()
    }
}

/// An open GeoTIFF.
pub struct Cog {
    path: PathBuf,
    data: Bytes,
    order: ByteOrder,
    /// Full resolution first, then overviews, largest first.
    pub levels: Vec<Level>,
    /// The shape of each of `levels`, as [`RasterSource`] gives them.
    shapes: Vec<LevelShape>,
    /// The per-dataset mask (TIFF 6.0 §8 transparency mask) of each level,
    /// where the file has one with the level's size and blocks.
    masks: Vec<Option<Level>>,
    pub bands: usize,
    pub sample_type: SampleType,
    pub epsg: Option<u32>,
    pub geotransform: Option<GeoTransform>,
    pub nodata: Option<f64>,
    pub big_tiff: bool,
    serial: u64,
    ctx: Arc<SourceContext>,
}

impl Cog {
    /// Maps `path` and parses every directory.
    pub fn open(path: &Path, ctx: Arc<SourceContext>) -> Result<Self> {
        let (data, _) = map_file(path)?;
        Self::from_bytes(path, data, ctx)
    }

    /// Parses every directory of the GeoTIFF in `data`, whatever holds it
    /// (a memory map, or bytes a fuzzer made); `path` names it in errors.
    pub fn from_bytes(path: &Path, data: Bytes, ctx: Arc<SourceContext>) -> Result<Self> {
        let corrupt = |detail: String| Error::Corrupt {
            path: path.to_owned(),
            format: "GeoTIFF",
            detail,
        };
        let (order, big_tiff, ifds) = ifd::parse(&data).map_err(corrupt)?;
        let unsupported = |detail: String| Error::Unsupported {
            path: path.to_owned(),
            detail,
        };
        let first = &ifds[0];
        let mut levels = Vec::new();
        let mut mask_levels: Vec<Level> = Vec::new();
        for (i, d) in ifds.iter().enumerate() {
            let kind = d.uint(NEW_SUBFILE_TYPE).unwrap_or(0);
            // Thumbnails and other pages are not part of the pyramid.
            if i > 0 && kind & (REDUCED_RESOLUTION | TRANSPARENCY_MASK) == 0 {
                continue;
            }
            let level = parse_level(d, data.len() as u64).map_err(|e| match e {
                LevelError::Unsupported(e) => unsupported(format!("directory {i}: {e}")),
                LevelError::Corrupt(e) => corrupt(format!("directory {i}: {e}")),
            })?;
            if kind & TRANSPARENCY_MASK != 0 {
                mask_levels.push(level);
            } else {
                levels.push(level);
            }
        }
        if levels.is_empty() {
            return Err(corrupt(
                "the first directory is a mask, not an image".into(),
            ));
        }
        let (bands, sample_type) = (levels[0].samples, levels[0].sample_type);
        if let Some(odd) = levels
            .iter()
            .find(|l| l.samples != bands || l.sample_type != sample_type)
        {
            return Err(corrupt(format!(
                "an overview has {} {:?} samples, the image {bands} {sample_type:?}",
                odd.samples, odd.sample_type
            )));
        }
        levels[1..].sort_by_key(|l| std::cmp::Reverse(u64::from(l.width) * u64::from(l.height)));
        // A mask serves the level of its size when it shares its blocks.
        let masks = levels
            .iter()
            .map(|l| {
                mask_levels
                    .iter()
                    .find(|m| {
                        (m.width, m.height, m.block_width, m.block_height)
                            == (l.width, l.height, l.block_width, l.block_height)
                    })
                    .cloned()
            })
            .collect();
        let nodata = first
            .ascii(GDAL_NODATA)
            .and_then(|s| s.trim().parse::<f64>().ok());
        Ok(Cog {
            epsg: geo::epsg(first).map_err(unsupported)?,
            geotransform: geo::geotransform(first).map_err(corrupt)?,
            path: path.to_owned(),
            data,
            order,
            shapes: levels.iter().map(Level::shape).collect(),
            levels,
            masks,
            bands,
            sample_type,
            nodata,
            big_tiff,
            serial: block_cache_serial(),
            ctx,
        })
    }

    /// Block (`col`, `row`) of `level` (0 = full resolution), decoded, from
    /// the shared cache when it is there.
    pub fn read_block(&self, level: usize, col: u32, row: u32) -> Result<Arc<Block>> {
        let l = self.levels.get(level).ok_or_else(|| Error::NotFound {
            what: format!("overview level {level} of {}", self.path.display()),
        })?;
        let key = (self.serial, level as u16, col, row);
        self.ctx
            .cog_blocks
            .get_or_insert_with(key, || self.decode(l, &format!("level {level}"), col, row))
    }

    /// Block (`col`, `row`) of the mask of `level`: one byte per pixel, 0
    /// (no data) or 255; `None` when the level has no mask.
    pub fn read_mask_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Arc<Block>>> {
        let Some(Some(mask)) = self.masks.get(level) else {
            return Ok(None);
        };
        // Mask blocks share the cache, apart from the image's by the level key.
        let key = (self.serial, 0x8000 | level as u16, col, row);
        self.ctx
            .cog_blocks
            .get_or_insert_with(key, || {
                self.decode(mask, &format!("mask of level {level}"), col, row)
            })
            .map(Some)
    }

    /// Block (`col`, `row`) of `level` as a JPEG file, when it is stored
    /// as one and can stand for the tile it covers: three-sample chunky
    /// JPEG, wholly inside the image, not sparse, and with no pixel masked.
    fn jpeg_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Bytes>> {
        let Some(l) = self.levels.get(level) else {
            return Ok(None);
        };
        let (across, down) = l.blocks();
        let whole = (col + 1) * l.block_width <= l.width && (row + 1) * l.block_height <= l.height;
        if !matches!(l.compression, Compression::Jpeg(_))
            || l.planar
            || l.samples != 3
            || !whole
            || col >= across
            || row >= down
        {
            return Ok(None);
        }
        let index = (row * across + col) as usize;
        let (offset, len) = (l.offsets[index], l.byte_counts[index]);
        if len == 0 {
            return Ok(None);
        }
        if let Some(mask) = self.read_mask_block(level, col, row)? {
            if mask.data.contains(&0) {
                return Ok(None);
            }
        }
        let raw = &self.data[offset as usize..(offset + len) as usize];
        Ok(Some(Bytes::from(decode::jpeg_stream(
            raw,
            l.jpeg_tables.as_deref(),
        ))))
    }

    /// Block (`col`, `row`) of `l`, which errors name as `level` (its
    /// level, or its level's mask).
    fn decode(&self, l: &Level, level: &str, col: u32, row: u32) -> Result<Block> {
        let (across, down) = l.blocks();
        if col >= across || row >= down {
            return Err(Error::invalid(format!(
                "block {col},{row} is outside the {across}×{down} blocks of {level} of {}",
                self.path.display()
            )));
        }
        let index = (row * across + col) as usize;
        let per_plane = (across * down) as usize;
        // Tiles are always whole; only the last strip is short.
        let rows = if l.tiled {
            l.block_height
        } else {
            l.block_height.min(l.height - row * l.block_height)
        } as usize;
        let planes = if l.planar { l.samples } else { 1 };
        // A 1-bit mask row is width / 8 bytes, rounded up (TIFF 6.0 §3).
        let row_units = if l.one_bit {
            (l.block_width as usize).div_ceil(8)
        } else {
            l.block_width as usize
        };
        let layout = |samples| Layout {
            compression: l.compression,
            predictor: l.predictor,
            sample_type: l.sample_type,
            order: self.order,
            width: row_units,
            rows,
            samples,
            jpeg_tables: l.jpeg_tables.as_deref(),
            nodata: self.nodata,
            alpha_last: l.alpha_last,
        };
        let corrupt = |detail: String| Error::Corrupt {
            path: self.path.clone(),
            format: "GeoTIFF",
            detail: format!("{level}, block {col},{row}: {detail}"),
        };
        let mut decoded = Vec::with_capacity(planes);
        for p in 0..planes {
            let i = p * per_plane + index;
            let (offset, len) = (l.offsets[i], l.byte_counts[i]);
            let samples = if l.planar { 1 } else { l.samples };
            if len == 0 {
                // A sparse block (GDAL's SPARSE_OK): nodata, else zeros.
                let fill = l.sample_type.to_ne_bytes(self.nodata.unwrap_or(0.0));
                decoded.push(fill.repeat(rows * row_units * samples));
                continue;
            }
            let raw = &self.data[offset as usize..(offset + len) as usize];
            decoded.push(decode_block(raw, &layout(samples)).map_err(corrupt)?);
        }
        let data = if l.one_bit {
            unpack_bits(
                &decoded.pop().unwrap_or_default(),
                l.block_width as usize,
                row_units,
            )
        } else if planes == 1 {
            decoded.pop().unwrap_or_default()
        } else {
            interleave(&decoded, l.sample_type.size())
        };
        Ok(Block {
            width: l.block_width as usize,
            rows,
            bands: l.samples,
            sample_type: l.sample_type,
            data,
        })
    }
}

/// Rows of packed bits (most significant first) into one byte per pixel:
/// 255 where the bit is set, 0 elsewhere.
fn unpack_bits(packed: &[u8], width: usize, row_bytes: usize) -> Vec<u8> {
    packed
        .chunks_exact(row_bytes)
        .flat_map(|row| {
            (0..width).map(move |x| {
                if row[x / 8] & (0x80 >> (x % 8)) != 0 {
                    255
                } else {
                    0
                }
            })
        })
        .collect()
}

/// Planes (one band each) into pixel-interleaved samples.
fn interleave(planes: &[Vec<u8>], size: usize) -> Vec<u8> {
    let n = planes[0].len() / size;
    let mut out = Vec::with_capacity(n * size * planes.len());
    for i in 0..n {
        for plane in planes {
            out.extend_from_slice(&plane[i * size..(i + 1) * size]);
        }
    }
    out
}

/// Why a directory cannot be a level.
enum LevelError {
    Unsupported(String),
    Corrupt(String),
}

impl From<String> for LevelError {
    fn from(e: String) -> Self {
        LevelError::Corrupt(e)
    }
}

/// A level from its directory; offsets are checked against the file.
fn parse_level(d: &Ifd, file_len: u64) -> std::result::Result<Level, LevelError> {
    let need = |tag: u16, name: &str| d.uint(tag).ok_or_else(|| format!("no {name} tag"));
    let width = need(IMAGE_WIDTH, "ImageWidth")?;
    let height = need(IMAGE_LENGTH, "ImageLength")?;
    let samples = d.uint(SAMPLES_PER_PIXEL).unwrap_or(1);
    let bits = d.uint(BITS_PER_SAMPLE).unwrap_or(1);
    let format = d.uint(SAMPLE_FORMAT).unwrap_or(1);
    let mut compression = Compression::from_code(d.uint(COMPRESSION).unwrap_or(1))
        .map_err(LevelError::Unsupported)?;
    let predictor = d.uint(PREDICTOR).unwrap_or(1);
    if let Compression::Lerc(_) = compression {
        let packing = decode::LercPacking::from_parameters(d.uints(LERC_PARAMETERS))
            .map_err(LevelError::Unsupported)?;
        compression = Compression::Lerc(packing);
        if predictor != 1 {
            return Err(LevelError::Unsupported(format!(
                "predictor {predictor} with LERC"
            )));
        }
    }
    // A transparency mask is 1-bit; its rows unpack to bytes.
    let one_bit = bits == 1 && samples == 1;
    let planar = d.uint(PLANAR_CONFIGURATION) == Some(2) && samples > 1;
    if let Compression::Jpeg(_) = compression {
        // Refused here, by name, rather than as a failure of every block.
        let per_block = if planar { 1 } else { samples };
        let photometric = d.uint(PHOTOMETRIC).unwrap_or(1);
        compression = Compression::Jpeg(
            JpegColour::of(bits, per_block, photometric).map_err(LevelError::Unsupported)?,
        );
    }
    let sample_type = if one_bit {
        SampleType::U8
    } else {
        SampleType::from_tags(bits, format).map_err(LevelError::Unsupported)?
    };
    let tiled = d.uint(TILE_WIDTH).is_some();
    let (block_width, block_height, offsets, counts) =
        match (d.uint(TILE_WIDTH), d.uint(TILE_LENGTH)) {
            (Some(w), Some(h)) => (w, h, d.uints(TILE_OFFSETS), d.uints(TILE_BYTE_COUNTS)),
            _ => (
                width,
                d.uint(ROWS_PER_STRIP).unwrap_or(height).min(height),
                d.uints(STRIP_OFFSETS),
                d.uints(STRIP_BYTE_COUNTS),
            ),
        };
    let in_range = |v: u64| (1..=1 << 31).contains(&v);
    if ![width, height, block_width, block_height]
        .into_iter()
        .all(in_range)
        || !(1..=64).contains(&samples)
    {
        return Err(LevelError::Corrupt(format!(
            "image {width}×{height}, blocks {block_width}×{block_height}, {samples} samples"
        )));
    }
    let block_bytes = [block_height, samples, sample_type.size() as u64]
        .into_iter()
        .fold(block_width, u64::saturating_mul);
    if block_bytes > MAX_BLOCK_BYTES as u64 {
        return Err(LevelError::Unsupported(format!(
            "blocks of {block_bytes} bytes exceed {MAX_BLOCK_BYTES}"
        )));
    }
    let planes = if planar { samples } else { 1 };
    let blocks = width
        .div_ceil(block_width)
        .saturating_mul(height.div_ceil(block_height))
        .saturating_mul(planes);
    let (Some(offsets), Some(counts)) = (offsets, counts) else {
        return Err(LevelError::Corrupt(
            "no block offsets or byte counts".into(),
        ));
    };
    if offsets.len() as u64 != blocks || counts.len() as u64 != blocks {
        return Err(LevelError::Corrupt(format!(
            "{} offsets and {} byte counts for {blocks} blocks",
            offsets.len(),
            counts.len()
        )));
    }
    if let Some((o, c)) = offsets
        .iter()
        .zip(counts)
        .find(|(o, c)| o.checked_add(**c).is_none_or(|end| end > file_len))
    {
        return Err(LevelError::Corrupt(format!(
            "block at {o} of {c} bytes runs past the end of the file"
        )));
    }
    Ok(Level {
        width: width as u32,
        height: height as u32,
        block_width: block_width as u32,
        block_height: block_height as u32,
        offsets: offsets.to_vec(),
        byte_counts: counts.to_vec(),
        compression,
        predictor,
        tiled,
        one_bit,
        samples: samples as usize,
        planar,
        sample_type,
        jpeg_tables: d.undefined(JPEG_TABLES).map(<[u8]>::to_vec),
        alpha_last: !planar
            && d.uints(EXTRA_SAMPLES).and_then(<[u64]>::last) == Some(&UNASSOCIATED_ALPHA),
    })
}

impl RasterSource for Cog {
    fn levels(&self) -> &[LevelShape] {
        &self.shapes
    }

    fn bands(&self) -> usize {
        self.bands
    }

    fn sample_type(&self) -> SampleType {
        self.sample_type
    }

    fn nodata(&self) -> Option<f64> {
        self.nodata
    }

    fn geotransform(&self) -> Option<GeoTransform> {
        self.geotransform
    }

    fn epsg(&self) -> Option<u32> {
        self.epsg
    }

    fn read_block(&self, level: usize, col: u32, row: u32) -> Result<Arc<Block>> {
        Cog::read_block(self, level, col, row)
    }

    fn read_mask_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Arc<Block>>> {
        Cog::read_mask_block(self, level, col, row)
    }

    fn stored_block(&self, level: usize, col: u32, row: u32) -> Result<Option<Bytes>> {
        self.jpeg_block(level, col, row)
    }
}
