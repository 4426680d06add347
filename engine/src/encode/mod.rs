//! Encoding rendered images: PNG in the smallest colour type that holds
//! the tile exactly (grey when opaque and grey, paletted up to 256 colours,
//! else RGB when opaque, else RGBA), JPEG (transparency dropped) and WebP
//! (lossless, the only WebP `image-webp` writes; lossy WebP would need
//! libwebp); 8-bit PNG for WMS `image/png; mode=8bit` in [`png8`].
//!
//! `jpeg-encoder` runs with its `simd` feature (AVX2 forward DCT and colour
//! conversion, detected at run time, scalar elsewhere): a 1024 × 768 JPEG
//! map of the orthophoto (criterion `map_ortho_3857`) took 28.8 ms without
//! it and 23.8 ms with it, A/B on the same machine.

mod png8;

pub use png8::encode_png8;

use crate::error::{Error, Result};
use crate::tile::TileFormat;
use crate::warp::Rgba;

/// JPEG quality unless configured: 85 is TiTiler's and MapServer's default
/// trade-off for orthophotos.
pub const DEFAULT_JPEG_QUALITY: u8 = 85;

/// `image` encoded as `format`.
pub fn encode(image: &Rgba, format: TileFormat, jpeg_quality: u8) -> Result<Vec<u8>> {
    let (w, h) = (image.width as u32, image.height as u32);
    let opaque = image.data.chunks_exact(4).all(|p| p[3] == 255);
    let rgb = || -> Vec<u8> {
        image
            .data
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect()
    };
    let mut out = Vec::new();
    match format {
        TileFormat::Png => {
            let grey = opaque
                && image
                    .data
                    .chunks_exact(4)
                    .all(|p| p[0] == p[1] && p[1] == p[2]);
            return if grey {
                let data: Vec<u8> = image.data.chunks_exact(4).map(|p| p[0]).collect();
                write_png(image, png::ColorType::Grayscale, &[], &data)
            } else if let Some((palette, indices)) = palette(&image.data) {
                write_png(image, png::ColorType::Indexed, &palette, &indices)
            } else if opaque {
                write_png(image, png::ColorType::Rgb, &[], &rgb())
            } else {
                write_png(image, png::ColorType::Rgba, &[], &image.data)
            };
        }
        TileFormat::Jpeg => {
            let encoder = jpeg_encoder::Encoder::new(&mut out, jpeg_quality.clamp(1, 100));
            encoder
                .encode(&rgb(), w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .map_err(failed)?;
        }
        TileFormat::Webp => {
            image_webp::WebPEncoder::new(&mut out)
                .encode(&image.data, w, h, image_webp::ColorType::Rgba8)
                .map_err(failed)?;
        }
        other => {
            return Err(Error::invalid(format!(
                "images cannot be encoded as {other:?}"
            )));
        }
    }
    Ok(out)
}

/// An encoder's failure as an error naming the encoder.
fn failed(e: impl std::fmt::Display) -> Error {
    Error::Corrupt {
        path: "encoder".into(),
        format: "image",
        detail: e.to_string(),
    }
}

/// A PNG of `image`'s size holding `data` as `color`; `palette` is used
/// (with a tRNS chunk when some entry is not opaque) for `Indexed`.
fn write_png(
    image: &Rgba,
    color: png::ColorType,
    palette: &[[u8; 4]],
    data: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, image.width as u32, image.height as u32);
    // Fast deflate: tiles are encoded per request; size matters less than
    // the CPU it takes.
    encoder.set_compression(png::Compression::Fast);
    encoder.set_color(color);
    if color == png::ColorType::Indexed {
        encoder.set_palette(
            palette
                .iter()
                .flat_map(|c| [c[0], c[1], c[2]])
                .collect::<Vec<_>>(),
        );
        if palette.iter().any(|c| c[3] != 255) {
            encoder.set_trns(palette.iter().map(|c| c[3]).collect::<Vec<_>>());
        }
    }
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(data).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(out)
}

/// The image as at most 256 colours and one index per pixel, or `None`
/// when it has more (photographs give up within the first few hundred
/// pixels, so the attempt costs little).
fn palette(rgba: &[u8]) -> Option<(Vec<[u8; 4]>, Vec<u8>)> {
    let mut colours: Vec<[u8; 4]> = Vec::new();
    let mut lookup: std::collections::HashMap<[u8; 4], u8> = std::collections::HashMap::new();
    let mut indices = Vec::with_capacity(rgba.len() / 4);
    for p in rgba.chunks_exact(4) {
        let c = [p[0], p[1], p[2], p[3]];
        let index = match lookup.get(&c) {
            Some(&i) => i,
            None if colours.len() == 256 => return None,
            None => {
                let i = colours.len() as u8;
                colours.push(c);
                lookup.insert(c, i);
                i
            }
        };
        indices.push(index);
    }
    Some((colours, indices))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(alpha: u8) -> Rgba {
        Rgba {
            width: 16,
            height: 8,
            data: (0..16 * 8)
                .flat_map(|i| [i as u8, 2 * i as u8, 255 - i as u8, alpha])
                .collect(),
        }
    }

    /// Decodes a PNG to straight RGBA, and says the colour type it was
    /// stored in and its number of palette entries.
    pub(super) fn decode(bytes: &[u8]) -> (png::ColorType, usize, Rgba) {
        let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().unwrap();
        let stored = reader.info().color_type;
        let entries = reader.info().palette.as_ref().map_or(0, |p| p.len() / 3);
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        let data = match info.color_type {
            png::ColorType::Rgba => buf,
            png::ColorType::Rgb => buf
                .chunks_exact(3)
                .flat_map(|p| [p[0], p[1], p[2], 255])
                .collect(),
            png::ColorType::Grayscale => buf.iter().flat_map(|&g| [g, g, g, 255]).collect(),
            other => panic!("{other:?}"),
        };
        let (width, height) = (info.width as usize, info.height as usize);
        (
            stored,
            entries,
            Rgba {
                width,
                height,
                data,
            },
        )
    }

    #[test]
    fn png_takes_the_smallest_exact_colour_type() {
        let many = |alpha: u8| Rgba {
            width: 32,
            height: 32,
            data: (0..32 * 32u32)
                .flat_map(|i| [i as u8, (i / 4) as u8, 7, alpha])
                .collect(),
        };
        let grey = Rgba {
            width: 16,
            height: 8,
            data: (0..128u8).flat_map(|i| [i, i, i, 255]).collect(),
        };
        for (img, stored) in [
            (image(255), png::ColorType::Indexed),
            (image(100), png::ColorType::Indexed),
            (grey, png::ColorType::Grayscale),
            (many(255), png::ColorType::Rgb),
            (many(100), png::ColorType::Rgba),
        ] {
            let (got, _, decoded) = decode(&encode(&img, TileFormat::Png, 85).unwrap());
            assert_eq!(got, stored);
            assert_eq!(decoded.data, img.data, "{stored:?} must round-trip exactly");
        }
    }

    #[test]
    fn jpeg_and_webp_carry_their_signatures() {
        let jpeg = encode(&image(255), TileFormat::Jpeg, 85).unwrap();
        assert_eq!(TileFormat::sniff(&jpeg), TileFormat::Jpeg);
        let webp = encode(&image(128), TileFormat::Webp, 85).unwrap();
        assert_eq!(TileFormat::sniff(&webp), TileFormat::Webp);
        assert!(encode(&image(255), TileFormat::Mvt, 85).is_err());
    }
}
