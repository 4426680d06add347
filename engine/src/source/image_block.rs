//! Stored image tiles (PNG, JPEG, WebP) decoded into RGBA blocks: what a
//! tile pyramid, GeoPackage or archive, gives the warp. One decoder for all
//! of them, so that a tile reads the same whatever holds it; the pixels are
//! straight (not premultiplied) alpha, as the files store them.

use std::io::Cursor;

use crate::source::cog::{Block, SampleType};
use crate::tile::TileFormat;

/// The block of a `width × height` tile stored as `stored` (a PNG, JPEG or
/// WebP file), decoded to 4 bands of RGBA8; a missing tile (`None`) is a
/// transparent block. A tile of another size, or one that does not decode,
/// is an error saying why (the caller names the tile and the file).
pub(crate) fn rgba_block(stored: Option<&[u8]>, width: u32, height: u32) -> Result<Block, String> {
    let (w, h) = (width as usize, height as usize);
    let data = match stored {
        Some(bytes) => decode_rgba(bytes, w, h)?,
        None => vec![0; w * h * 4],
    };
    Ok(Block {
        width: w,
        rows: h,
        bands: 4,
        sample_type: SampleType::U8,
        data,
    })
}

/// The size in pixels of a stored PNG, JPEG or WebP tile, read from its
/// header without decoding the pixels; `None` when it is none of these or
/// the header does not parse.
pub(crate) fn image_size(bytes: &[u8]) -> Option<(u32, u32)> {
    match TileFormat::sniff(bytes) {
        TileFormat::Png => {
            let reader = png::Decoder::new(Cursor::new(bytes)).read_info().ok()?;
            Some((reader.info().width, reader.info().height))
        }
        TileFormat::Jpeg => {
            let mut decoder =
                zune_jpeg::JpegDecoder::new(zune_core::bytestream::ZCursor::new(bytes));
            decoder.decode_headers().ok()?;
            let (w, h) = decoder.dimensions()?;
            Some((u32::try_from(w).ok()?, u32::try_from(h).ok()?))
        }
        TileFormat::Webp => image_webp::WebPDecoder::new(Cursor::new(bytes))
            .ok()
            .map(|d| d.dimensions()),
        _ => None,
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
