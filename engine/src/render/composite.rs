//! Layers into one image: Porter-Duff source-over of straight-alpha RGBA8
//! images, and flattening onto an opaque background (JPEG output, or a WMS
//! GetMap with TRANSPARENT=FALSE and a BGCOLOR).
//!
//! Integer arithmetic with rounding to nearest, a fast path for the common
//! transparent and opaque source pixels, and exact results for alpha 0 and
//! 255: these run on every pixel of every multi-layer map.

use crate::warp::Rgba;

/// `x / 255` rounded to nearest, exact for `x <= 255 * 255`.
fn div255(x: u32) -> u32 {
    let x = x + 128;
    (x + (x >> 8)) >> 8
}

/// Draws `src` over `dst` (source-over), both straight alpha.
///
/// # Panics
/// If the images differ in size: the caller made both for one request.
pub fn over(dst: &mut Rgba, src: &Rgba) {
    assert_eq!(
        (dst.width, dst.height, dst.data.len()),
        (src.width, src.height, src.data.len()),
        "composited images differ in size"
    );
    for (d, s) in dst.data.chunks_exact_mut(4).zip(src.data.chunks_exact(4)) {
        let (sa, da) = (u32::from(s[3]), u32::from(d[3]));
        if sa == 0 {
            continue;
        }
        if sa == 255 || da == 0 {
            d.copy_from_slice(s);
            continue;
        }
        // In units of 255²: the source's alpha plus what of the
        // destination's shows through.
        let inv = 255 - sa;
        let s_w = sa * 255;
        let d_w = da * inv;
        let alpha = s_w + d_w;
        for k in 0..3 {
            let c = u32::from(s[k]) * s_w + u32::from(d[k]) * d_w;
            // A weighted mean of two u8 values: at most 255.
            d[k] = ((c + alpha / 2) / alpha) as u8;
        }
        d[3] = div255(alpha) as u8;
    }
}

/// Puts every pixel of `img` over the opaque `background`; every alpha
/// becomes 255.
pub fn flatten(img: &mut Rgba, background: [u8; 3]) {
    let bg = background.map(u32::from);
    for p in img.data.chunks_exact_mut(4) {
        let a = u32::from(p[3]);
        match a {
            255 => {}
            0 => p[..3].copy_from_slice(&background),
            _ => {
                for k in 0..3 {
                    p[k] = div255(u32::from(p[k]) * a + bg[k] * (255 - a)) as u8;
                }
            }
        }
        p[3] = 255;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(pixels: &[[u8; 4]]) -> Rgba {
        Rgba {
            width: pixels.len(),
            height: 1,
            data: pixels.concat(),
        }
    }

    #[test]
    fn div255_rounds_to_nearest_over_its_whole_range() {
        for x in 0..=255 * 255 {
            assert_eq!(div255(x), (f64::from(x) / 255.0).round() as u32, "{x}");
        }
    }

    #[test]
    fn over_is_exact_for_transparent_and_opaque_sources() {
        let mut dst = image(&[[10, 20, 30, 40], [10, 20, 30, 40], [0, 0, 0, 0]]);
        let src = image(&[[200, 100, 50, 0], [200, 100, 50, 255], [1, 2, 3, 7]]);
        over(&mut dst, &src);
        assert_eq!(
            dst.data,
            image(&[[10, 20, 30, 40], [200, 100, 50, 255], [1, 2, 3, 7]]).data
        );
    }

    #[test]
    fn over_blends_partial_alpha_as_porter_duff_says() {
        // Half-transparent red over opaque blue: (128, 0, 127), opaque.
        // Half red over half blue (alpha 128 = 0.502 each): alpha
        // 0.502 + 0.502 × 0.498 = 0.752 (192), red 0.502 / 0.752 (170),
        // blue 0.25 / 0.752 (85).
        let mut dst = image(&[[0, 0, 255, 255], [0, 0, 255, 128], [0, 255, 0, 255]]);
        let src = image(&[[255, 0, 0, 128], [255, 0, 0, 128], [255, 0, 0, 64]]);
        over(&mut dst, &src);
        assert_eq!(dst.data[..4], [128, 0, 127, 255]);
        assert_eq!(dst.data[4..8], [170, 0, 85, 192]);
        // 64/255 red over opaque green: red 64, green 191.
        assert_eq!(dst.data[8..], [64, 191, 0, 255]);
    }

    #[test]
    fn over_agrees_with_the_float_formula_within_one_level() {
        let mut rng = crate::xorshift::XorShift(13);
        let mut pixel = || {
            let b = rng.next().to_le_bytes();
            [b[0], b[1], b[2], b[3]]
        };
        for _ in 0..10_000 {
            let (s, d) = (pixel(), pixel());
            let mut dst = image(&[d]);
            over(&mut dst, &image(&[s]));
            let (sa, da) = (f64::from(s[3]) / 255.0, f64::from(d[3]) / 255.0);
            let a = sa + da * (1.0 - sa);
            assert!(
                (dst.data[3] as f64 - a * 255.0).abs() <= 0.5 + 1e-9,
                "{s:?} over {d:?}"
            );
            if a > 0.0 {
                for k in 0..3 {
                    let c = (f64::from(s[k]) * sa + f64::from(d[k]) * da * (1.0 - sa)) / a;
                    assert!(
                        (f64::from(dst.data[k]) - c).abs() <= 0.5 + 1e-9,
                        "{s:?} over {d:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn flatten_puts_every_pixel_over_the_background_and_makes_it_opaque() {
        let mut img = image(&[
            [9, 9, 9, 0],
            [10, 20, 30, 255],
            [255, 0, 0, 128],
            [0, 0, 0, 0],
        ]);
        flatten(&mut img, [255, 255, 255]);
        assert_eq!(
            img.data,
            image(&[
                [255, 255, 255, 255],
                [10, 20, 30, 255],
                [255, 127, 127, 255],
                [255, 255, 255, 255]
            ])
            .data
        );
    }
}
