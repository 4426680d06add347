//! Raster styling: warped data values to colours. Band selection, a linear
//! rescale per band (from the configuration, or from the file's value
//! range), named colormaps for one band, and hillshading for elevation.
//! 8-bit images need none of it and pass through unchanged.

use std::path::Path;

use crate::error::{Error, Result};
use crate::source::cog::SampleType;
use crate::source::RasterSource;
use crate::warp::{alpha_band, Rgba, Warped};

/// How a layer's pixels are resampled and coloured, as configured.
#[derive(Debug, Clone, Default)]
pub struct StyleSpec {
    /// GDAL's name of the resampling: near, bilinear (default), cubic,
    /// average.
    pub resampling: Option<String>,
    /// 1-based bands to show: one (grey or colormap) or three (RGB).
    pub bands: Option<Vec<usize>>,
    /// `[min, max]` per shown band, mapped linearly to 0–255.
    pub rescale: Option<Vec<[f64; 2]>>,
    /// A named colormap for one band: `greys`, `viridis`, `terrain`.
    pub colormap: Option<String>,
    /// Shade one band as elevation (metres), sun from the north-west at 45°.
    pub hillshade: bool,
}

/// A compiled style.
#[derive(Debug, Clone)]
pub struct Style {
    /// 0-based bands read from the file.
    pub bands: Vec<usize>,
    /// `(min, max)` per band; `None` passes 8-bit values through.
    rescale: Option<Vec<(f64, f64)>>,
    colormap: Option<Colormap>,
    hillshade: bool,
}

/// Named colormaps: stops `(position, [r, g, b])`, linearly interpolated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Colormap {
    Greys,
    /// matplotlib's viridis at eleven stops (its published hex values).
    Viridis,
    /// matplotlib's `terrain` segment data.
    Terrain,
}

impl Colormap {
    fn named(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "greys" | "gray" | "grey" => Some(Colormap::Greys),
            "viridis" => Some(Colormap::Viridis),
            "terrain" => Some(Colormap::Terrain),
            _ => None,
        }
    }

    fn stops(self) -> &'static [(f32, [f32; 3])] {
        match self {
            Colormap::Greys => &[(0.0, [0.0, 0.0, 0.0]), (1.0, [255.0, 255.0, 255.0])],
            Colormap::Viridis => &[
                (0.0, [68.0, 1.0, 84.0]),
                (0.1, [72.0, 36.0, 117.0]),
                (0.2, [65.0, 68.0, 135.0]),
                (0.3, [53.0, 95.0, 141.0]),
                (0.4, [42.0, 120.0, 142.0]),
                (0.5, [33.0, 145.0, 140.0]),
                (0.6, [34.0, 168.0, 132.0]),
                (0.7, [68.0, 191.0, 112.0]),
                (0.8, [122.0, 209.0, 81.0]),
                (0.9, [189.0, 223.0, 38.0]),
                (1.0, [253.0, 231.0, 37.0]),
            ],
            Colormap::Terrain => &[
                (0.0, [51.0, 51.0, 153.0]),
                (0.15, [0.0, 153.0, 255.0]),
                (0.25, [0.0, 204.0, 102.0]),
                (0.5, [255.0, 255.0, 153.0]),
                (0.75, [127.5, 91.8, 84.15]),
                (1.0, [255.0, 255.0, 255.0]),
            ],
        }
    }

    /// The colour of `t` in 0..=1.
    pub fn colour(self, t: f32) -> [u8; 3] {
        let stops = self.stops();
        let t = t.clamp(0.0, 1.0);
        let i = stops
            .iter()
            .position(|s| s.0 >= t)
            .unwrap_or(stops.len() - 1)
            .max(1);
        let ((t0, c0), (t1, c1)) = (stops[i - 1], stops[i]);
        let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 0.0 };
        [0, 1, 2].map(|k| (c0[k] + (c1[k] - c0[k]) * f).round() as u8)
    }
}

impl Style {
    /// Whether the style shows bands 1–3 as they are: a stored RGB image
    /// can then stand for a rendered one.
    pub fn is_identity(&self) -> bool {
        self.bands == [0, 1, 2]
            && self.rescale.is_none()
            && self.colormap.is_none()
            && !self.hillshade
    }

    /// The style of `source` (the file `path`) under `spec`: 8-bit images
    /// show their grey or RGB bands as they are; other types need a
    /// rescale, from `spec` or from the value range of the source's
    /// coarsest level that has valid values.
    pub fn new(source: &dyn RasterSource, path: &Path, spec: &StyleSpec) -> Result<Self> {
        let invalid = |detail: String| Error::InvalidRequest { detail };
        let data_bands = source.bands() - usize::from(alpha_band(source).is_some());
        let bands: Vec<usize> = match &spec.bands {
            Some(b) => b.iter().map(|&b| b.wrapping_sub(1)).collect(),
            None if data_bands >= 3 => vec![0, 1, 2],
            None => vec![0],
        };
        if !matches!(bands.len(), 1 | 3) || bands.iter().any(|&b| b >= source.bands()) {
            return Err(invalid(format!(
                "bands {:?}: choose one or three of the file's {} bands (1-based)",
                spec.bands,
                source.bands()
            )));
        }
        let colormap = match &spec.colormap {
            Some(name) => Some(Colormap::named(name).ok_or_else(|| {
                invalid(format!(
                    "colormap {name:?}: choose greys, viridis or terrain"
                ))
            })?),
            None => None,
        };
        if (colormap.is_some() || spec.hillshade) && bands.len() != 1 {
            return Err(invalid(
                "a colormap or hillshade needs exactly one band".into(),
            ));
        }
        let rescale = match &spec.rescale {
            Some(r)
                if r.len() == bands.len()
                    && r.iter()
                        .all(|[a, b]| a.is_finite() && b.is_finite() && a < b) =>
            {
                Some(r.iter().map(|&[a, b]| (a, b)).collect())
            }
            Some(r) => {
                return Err(invalid(format!(
                    "rescale {r:?}: give one increasing [min, max] per shown band"
                )))
            }
            None if source.sample_type() == SampleType::U8 || spec.hillshade => None,
            None => {
                let ranges: Vec<_> = bands.iter().map(|&b| value_range(source, b)).collect();
                if ranges.iter().any(Option::is_none) {
                    // Served all the same: its tiles are transparent.
                    tracing::warn!(path = %path.display(),
                        "no valid value to rescale in the levels scanned: the layer's tiles \
                         are transparent unless `rescale` is configured");
                }
                Some(
                    ranges
                        .into_iter()
                        .map(|r| r.unwrap_or(EMPTY_RANGE))
                        .collect(),
                )
            }
        };
        Ok(Style {
            bands,
            rescale,
            colormap,
            hillshade: spec.hillshade,
        })
    }

    /// The colormap one band is shown through, when it is.
    pub fn colormap(&self) -> Option<Colormap> {
        self.colormap.filter(|_| !self.hillshade)
    }

    /// The colours of `warped`.
    pub fn apply(&self, warped: &Warped) -> Rgba {
        if self.is_identity() {
            return identity_rgb(warped);
        }
        let shade = self.hillshade.then(|| hillshade(warped));
        let mut data = Vec::with_capacity(warped.pixels.len() * 4);
        for (i, p) in warped.pixels.iter().enumerate() {
            // Values are non-negative here: +0.5 and truncation round as
            // `round()` does, without a libm call per pixel.
            let alpha = (p[3] + 0.5).clamp(0.0, 255.0) as u8;
            if alpha == 0 {
                data.extend_from_slice(&[0; 4]);
                continue;
            }
            let level = |band: usize| -> f32 {
                match &self.rescale {
                    Some(r) => {
                        let (lo, hi) = r[band];
                        ((f64::from(p[band]) - lo) / (hi - lo)).clamp(0.0, 1.0) as f32
                    }
                    None => p[band] / 255.0,
                }
            };
            let rgb = match (&shade, self.colormap, self.bands.len()) {
                (Some(s), _, _) => [s[i]; 3],
                (None, Some(map), _) => map.colour(level(0)),
                (None, None, 1) => [(level(0) * 255.0 + 0.5) as u8; 3],
                (None, None, _) => [0, 1, 2].map(|b| (level(b) * 255.0 + 0.5) as u8),
            };
            data.extend_from_slice(&[rgb[0], rgb[1], rgb[2], alpha]);
        }
        Rgba {
            width: warped.width,
            height: warped.height,
            data,
        }
    }
}

/// Three 8-bit bands shown as they are, the common case (orthophotos):
/// each sample rounded to a byte, without the general path's per-pixel
/// closure and style dispatch (a fifth of a nearest tile's time otherwise).
fn identity_rgb(warped: &Warped) -> Rgba {
    // Values are in 0..=255 here: +0.5 and truncation round as `round()`
    // does, without a libm call. Into a zeroed buffer, each pixel one
    // 32-bit store masked to 0 where transparent, rather than pushed with
    // a branch: 62 instructions per pixel before, counted with cachegrind
    // on warp_ortho_l93_z16 (10 with SSE2).
    let mut data = vec![0; warped.pixels.len() * 4];
    for (out, &p) in data.chunks_exact_mut(4).zip(&warped.pixels) {
        let pixel = rounded_bytes(p);
        let opaque = if pixel >> 24 == 0 { 0 } else { u32::MAX };
        out.copy_from_slice(&(pixel & opaque).to_le_bytes());
    }
    Rgba {
        width: warped.width,
        height: warped.height,
        data,
    }
}

/// The four values `p` (in 0..=255, or NaN) rounded half up to bytes, NaN
/// to 0, as a little-endian word: with SSE2 (every x86-64 CPU), one add,
/// one truncation and two saturating packs for the four.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn rounded_bytes(p: [f32; 4]) -> u32 {
    use std::arch::x86_64::*;
    let values: __m128 = bytemuck::cast(p);
    // SAFETY: these intrinsics need only SSE and SSE2, which the x86-64
    // baseline every build targets includes, and touch no memory.
    let bytes = unsafe {
        let words = _mm_cvttps_epi32(_mm_add_ps(values, _mm_set1_ps(0.5)));
        let halves = _mm_packs_epi32(words, words);
        _mm_cvtsi128_si32(_mm_packus_epi16(halves, halves))
    };
    bytes as u32
}

/// [`rounded_bytes`] elsewhere.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn rounded_bytes(p: [f32; 4]) -> u32 {
    u32::from_le_bytes(p.map(|v| (v + 0.5).clamp(0.0, 255.0) as u8))
}

/// Samples a default rescale may read at open beyond the coarsest level:
/// finer levels are scanned, coarsest first, only while each holds at most
/// this many pixels (a 4096² level: 64 MiB of f32, a fraction of a second).
const SCAN_PIXELS: u64 = 1 << 24;

/// The rescale of a band with no valid value in the levels scanned: any
/// increasing range does, its pixels being all transparent.
const EMPTY_RANGE: (f64, f64) = (0.0, 1.0);

/// The minimum and maximum valid value of 0-based `band`, from the coarsest
/// level that has any (cheap, and what TiTiler's default statistics
/// approximate too). Not the coarsest level alone: a sparse raster's
/// overviews, made by nearest neighbour, may miss every valid pixel (issue
/// 12). `None`: no valid value in the levels scanned (see [`SCAN_PIXELS`]).
/// A block that cannot be read is skipped: the tiles that need it fail on
/// their own, and the rest of the layer is served.
fn value_range(source: &dyn RasterSource, band: usize) -> Option<(f64, f64)> {
    let levels = source.levels();
    let scanned = levels.iter().enumerate().rev().filter(|(i, l)| {
        *i == levels.len() - 1 || u64::from(l.width) * u64::from(l.height) <= SCAN_PIXELS
    });
    for (level, l) in scanned {
        let (across, down) = l.blocks();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for row in 0..down {
            for col in 0..across {
                let block = match source.read_block(level, col, row) {
                    Ok(block) => block,
                    Err(error) => {
                        tracing::warn!(%error, level, col, row, "block skipped by the default rescale");
                        continue;
                    }
                };
                let rows = block.rows.min((l.height - row * l.block_height) as usize);
                let cols = block.width.min((l.width - col * l.block_width) as usize);
                for y in 0..rows {
                    for x in 0..cols {
                        let v = f64::from(crate::warp::sample(
                            &block,
                            (y * block.width + x) * block.bands + band,
                        ));
                        if v.is_finite() && source.nodata().is_none_or(|n| v != n) {
                            lo = lo.min(v);
                            hi = hi.max(v);
                        }
                    }
                }
            }
        }
        if lo < hi {
            return Some((lo, hi));
        } else if lo.is_finite() {
            return Some((lo, lo + 1.0));
        }
    }
    None
}

/// Horn's hillshade of band 0 (GDAL's `gdaldem hillshade` defaults:
/// azimuth 315°, altitude 45°, z factor 1), on the output grid. Missing
/// neighbours take the centre value.
fn hillshade(warped: &Warped) -> Vec<u8> {
    let (w, h) = (warped.width, warped.height);
    let z = |x: usize, y: usize, centre: f32| {
        let p = warped.pixels[y * w + x];
        if p[3] > 0.0 {
            p[0]
        } else {
            centre
        }
    };
    let zenith = (90.0f64 - 45.0).to_radians();
    let azimuth = (360.0f64 - 315.0 + 90.0).rem_euclid(360.0).to_radians();
    let cs = warped.cell_size.abs().max(f64::MIN_POSITIVE);
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let c = warped.pixels[y * w + x][0];
            let (xl, xr, yu, yd) = (
                x.saturating_sub(1),
                (x + 1).min(w - 1),
                y.saturating_sub(1),
                (y + 1).min(h - 1),
            );
            let (a, b, cc) = (z(xl, yu, c), z(x, yu, c), z(xr, yu, c));
            let (d, f) = (z(xl, y, c), z(xr, y, c));
            let (g, hh, i) = (z(xl, yd, c), z(x, yd, c), z(xr, yd, c));
            let dzdx = f64::from((cc + 2.0 * f + i) - (a + 2.0 * d + g)) / (8.0 * cs);
            let dzdy = f64::from((g + 2.0 * hh + i) - (a + 2.0 * b + cc)) / (8.0 * cs);
            let slope = (dzdx * dzdx + dzdy * dzdy).sqrt().atan();
            let aspect = dzdy.atan2(-dzdx);
            let shade =
                zenith.cos() * slope.cos() + zenith.sin() * slope.sin() * (azimuth - aspect).cos();
            out[y * w + x] = (255.0 * shade).round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_bytes_round_half_up_and_clamp_as_the_portable_formula() {
        let portable = |v: f32| (v + 0.5).clamp(0.0, 255.0) as u8;
        for v in [
            0.0,
            0.49,
            0.5,
            1.5,
            127.499,
            127.5,
            254.5,
            254.9,
            255.0,
            255.4,
            -0.4,
            -3.0,
            300.0,
            f32::NAN,
        ] {
            let bytes = rounded_bytes([v, 255.0 - v, 1.0, v]).to_le_bytes();
            let expected = [portable(v), portable(255.0 - v), 1, portable(v)];
            assert_eq!(bytes, expected, "{v}");
        }
    }

    #[test]
    fn colormaps_hit_their_published_ends() {
        assert_eq!(Colormap::Viridis.colour(0.0), [68, 1, 84]);
        assert_eq!(Colormap::Viridis.colour(1.0), [253, 231, 37]);
        assert_eq!(Colormap::Viridis.colour(0.5), [33, 145, 140]);
        assert_eq!(Colormap::Greys.colour(0.5), [128, 128, 128]);
        assert_eq!(Colormap::Terrain.colour(-3.0), [51, 51, 153]);
    }

    fn grid(values: impl Fn(usize, usize) -> f32) -> Warped {
        let pixels = (0..9)
            .flat_map(|y| (0..9).map(move |x| (x, y)))
            .map(|(x, y)| [values(x, y), 0.0, 0.0, 255.0])
            .collect();
        Warped {
            width: 9,
            height: 9,
            pixels,
            cell_size: 10.0,
            work: Default::default(),
        }
    }

    #[test]
    fn flat_ground_is_lit_at_the_sun_altitude_and_slopes_facing_it_brighter() {
        // Flat: cos(zenith) = sin(45°) → 180.
        assert_eq!(hillshade(&grid(|_, _| 100.0))[40], 180);
        // Ground rising to the east faces west, towards a north-west sun:
        // brighter than flat; ground rising to the west, darker.
        let rising_east = hillshade(&grid(|x, _| x as f32 * 5.0))[40];
        let rising_west = hillshade(&grid(|x, _| (8 - x) as f32 * 5.0))[40];
        assert!(
            rising_east > 180 && rising_west < 180,
            "{rising_east} {rising_west}"
        );
    }
}
