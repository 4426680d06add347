//! Encoding rendered images: PNG (RGBA, or RGB when fully opaque: a quarter
//! smaller), JPEG (quality configurable, transparency dropped) and WebP
//! (lossless, the only WebP `image-webp` writes; lossy WebP would need
//! libwebp).

use crate::error::{Error, Result};
use crate::tile::TileFormat;
use crate::warp::Rgba;

/// JPEG quality unless configured: 85 is TiTiler's and MapServer's default
/// trade-off for orthophotos.
pub const DEFAULT_JPEG_QUALITY: u8 = 85;

/// `image` encoded as `format`.
pub fn encode(image: &Rgba, format: TileFormat, jpeg_quality: u8) -> Result<Vec<u8>> {
    let failed = |e: String| Error::Corrupt {
        path: "encoder".into(),
        format: "image",
        detail: e,
    };
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
            let mut encoder = png::Encoder::new(&mut out, w, h);
            encoder.set_color(if opaque {
                png::ColorType::Rgb
            } else {
                png::ColorType::Rgba
            });
            // Fast deflate: tiles are encoded per request; size matters less
            // than the CPU it takes.
            encoder.set_compression(png::Compression::Fast);
            let mut writer = encoder.write_header().map_err(|e| failed(e.to_string()))?;
            let data = if opaque { rgb() } else { image.data.clone() };
            writer
                .write_image_data(&data)
                .map_err(|e| failed(e.to_string()))?;
            writer.finish().map_err(|e| failed(e.to_string()))?;
        }
        TileFormat::Jpeg => {
            let encoder = jpeg_encoder::Encoder::new(&mut out, jpeg_quality.clamp(1, 100));
            encoder
                .encode(&rgb(), w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
                .map_err(|e| failed(e.to_string()))?;
        }
        TileFormat::Webp => {
            image_webp::WebPEncoder::new(&mut out)
                .encode(&image.data, w, h, image_webp::ColorType::Rgba8)
                .map_err(|e| failed(e.to_string()))?;
        }
        other => {
            return Err(Error::invalid(format!(
                "images cannot be encoded as {other:?}"
            )));
        }
    }
    Ok(out)
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

    #[test]
    fn png_round_trips_and_drops_alpha_only_when_opaque() {
        for alpha in [255, 100] {
            let bytes = encode(&image(alpha), TileFormat::Png, 85).unwrap();
            let mut reader = png::Decoder::new(std::io::Cursor::new(&bytes))
                .read_info()
                .unwrap();
            let mut buf = vec![0; reader.output_buffer_size().unwrap()];
            let info = reader.next_frame(&mut buf).unwrap();
            let expected = if alpha == 255 {
                png::ColorType::Rgb
            } else {
                png::ColorType::Rgba
            };
            assert_eq!(info.color_type, expected);
            assert_eq!(buf[..3], [0, 0, 255]);
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
