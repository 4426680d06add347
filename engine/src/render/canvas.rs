//! The surface vector drawing goes onto: a tiny-skia pixmap (premultiplied
//! RGBA8) of a checked size, with the scale that turns style pixels into
//! image pixels.

use std::path::PathBuf;

use tiny_skia::Pixmap;

use crate::error::{Error, Result};
use crate::warp::Rgba;

/// Largest canvas, 256 MiB of RGBA (an 8192 × 8192 image): twice the side
/// of MapServer's default MAXSIZE of 4096, so a protocol's own, smaller
/// size limit is what a client meets; this one only bounds memory.
pub const MAX_CANVAS_BYTES: usize = 256 << 20;

/// Largest scale: 16 is about 1450 DPI, beyond any printer a WMS client
/// asks for; a larger one would only multiply the stroking work.
pub const MAX_SCALE: f32 = 16.0;

/// The DPI at which the scale is 1: OGC SE's standardized rendering pixel
/// of 0.28 mm (25.4 / 0.28 ≈ 90.7 DPI, what GeoServer and MapServer
/// assume). A WMS request with DPI=180 draws at scale 180 / `OGC_DPI`.
pub const OGC_DPI: f32 = 25.4 / 0.28;

/// A `width × height` drawing surface. Style sizes (stroke widths, point
/// radii, in pixels) are multiplied by `scale`: the pixel ratio of a
/// high-density tile, or a WMS DPI over [`OGC_DPI`].
pub struct Canvas {
    pub(super) pixmap: Pixmap,
    scale: f32,
}

impl Canvas {
    /// A transparent canvas; refuses an empty or oversized image and a
    /// scale that is not a finite number in `(0, MAX_SCALE]`.
    pub fn new(width: usize, height: usize, scale: f32) -> Result<Self> {
        let (w, h) = checked_size(width, height)?;
        if !(scale > 0.0 && scale <= MAX_SCALE) {
            return Err(Error::invalid(format!(
                "scale {scale}: must be above 0 and at most {MAX_SCALE}"
            )));
        }
        let pixmap = Pixmap::new(w, h).ok_or_else(|| too_large(width, height))?;
        Ok(Canvas { pixmap, scale })
    }

    /// The factor style sizes are multiplied by.
    pub fn scale(&self) -> f32 {
        self.scale
    }

    /// The drawing as straight-alpha RGBA: each colour is un-premultiplied
    /// with rounding to nearest, and a fully transparent pixel is 0,0,0,0.
    pub fn into_rgba(self) -> Rgba {
        let width = self.pixmap.width() as usize;
        let height = self.pixmap.height() as usize;
        let mut data = self.pixmap.take();
        for p in data.chunks_exact_mut(4) {
            let a = u32::from(p[3]);
            match a {
                0 => p.copy_from_slice(&[0; 4]),
                255 => {}
                _ => {
                    for c in &mut p[..3] {
                        // Premultiplied values never exceed alpha; min()
                        // keeps a rounding slip from wrapping.
                        *c = ((u32::from(*c) * 255 + a / 2) / a).min(255) as u8;
                    }
                }
            }
        }
        Rgba {
            width,
            height,
            data,
        }
    }
}

/// `width × height` as tiny-skia's sizes, refusing an empty image
/// (`InvalidRequest`) and one over [`MAX_CANVAS_BYTES`] (`LimitExceeded`).
pub(super) fn checked_size(width: usize, height: usize) -> Result<(u32, u32)> {
    if width == 0 || height == 0 {
        return Err(Error::invalid(format!(
            "image of {width}×{height} pixels: width and height must be at least 1"
        )));
    }
    let bytes = width.checked_mul(height).and_then(|n| n.checked_mul(4));
    match (bytes, u32::try_from(width), u32::try_from(height)) {
        (Some(b), Ok(w), Ok(h)) if b <= MAX_CANVAS_BYTES => Ok((w, h)),
        _ => Err(too_large(width, height)),
    }
}

fn too_large(width: usize, height: usize) -> Error {
    Error::LimitExceeded {
        path: PathBuf::from(format!("{width}×{height} image")),
        what: "its RGBA buffer",
        limit: MAX_CANVAS_BYTES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn an_empty_or_huge_canvas_is_refused_with_the_right_kind() {
        let kind = |w, h| Canvas::new(w, h, 1.0).err().map(|e| e.kind());
        assert_eq!(kind(0, 10), Some(ErrorKind::InvalidRequest));
        assert_eq!(kind(10, 0), Some(ErrorKind::InvalidRequest));
        assert_eq!(kind(8193, 8192), Some(ErrorKind::LimitExceeded));
        assert_eq!(kind(usize::MAX, 2), Some(ErrorKind::LimitExceeded));
        assert_eq!(kind(1, 1), None);
    }

    #[test]
    fn a_scale_that_is_not_a_positive_finite_number_up_to_the_limit_is_refused() {
        for scale in [0.0, -1.0, f32::NAN, f32::INFINITY, MAX_SCALE * 2.0] {
            assert!(Canvas::new(4, 4, scale).is_err(), "scale {scale}");
        }
        assert_eq!(
            Canvas::new(4, 4, MAX_SCALE).map(|c| c.scale()).ok(),
            Some(MAX_SCALE)
        );
    }

    #[test]
    fn into_rgba_unpremultiplies_with_rounding_and_zeroes_transparent_pixels() {
        let mut canvas = Canvas::new(3, 1, 1.0).unwrap();
        let px = canvas.pixmap.data_mut();
        // Premultiplied (50, 25, 0, 100) is straight 127.5 → 128, 63.75 → 64.
        px[..4].copy_from_slice(&[50, 25, 0, 100]);
        px[4..8].copy_from_slice(&[10, 20, 30, 255]);
        px[8..12].copy_from_slice(&[0, 0, 0, 0]);
        let rgba = canvas.into_rgba();
        assert_eq!((rgba.width, rgba.height), (3, 1));
        assert_eq!(rgba.data, [128, 64, 0, 100, 10, 20, 30, 255, 0, 0, 0, 0]);
    }
}
