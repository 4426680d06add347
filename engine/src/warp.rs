//! Warping: the pixels of an output image (a bbox in some CRS, a size) from
//! a GeoTIFF in another CRS, as `gdalwarp` computes them.
//!
//! Output pixel centres are mapped to source pixel coordinates through the
//! CRS transform, computed exactly on a grid every [`GRID_STEP`] pixels and
//! interpolated linearly in between (GDAL's approximate transformer does
//! the same, with an error bound of 0.125 pixel). The overview is the
//! coarsest whose resolution is still at least the output's; then each
//! pixel is sampled (nearest, or bilinear over the valid neighbours) and
//! nodata becomes transparency.
//!
//! Output is straight-alpha RGBA8. Sources are 8-bit grey, grey + alpha,
//! RGB or RGBA for now; other sample types need raster styling first.

use std::sync::Arc;

use crate::crs::{Crs, Transform};
use crate::error::{Error, Result};
use crate::source::cog::{Block, Cog, SampleType};

/// Output pixels between two exactly transformed ones.
pub const GRID_STEP: usize = 16;

/// How output pixels take their value from source pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resampling {
    Nearest,
    Bilinear,
}

/// An output image: `width × height` straight-alpha RGBA8 pixels.
#[derive(Debug, Clone)]
pub struct Rgba {
    pub width: usize,
    pub height: usize,
    pub data: Vec<u8>,
}

impl Rgba {
    /// Whether every pixel is fully transparent.
    pub fn is_empty(&self) -> bool {
        self.data.chunks_exact(4).all(|p| p[3] == 0)
    }
}

/// What to render: `bbox` = `[min_x, min_y, max_x, max_y]` in `crs`
/// (easting first), `width × height` pixels.
pub struct Request<'a> {
    pub bbox: [f64; 4],
    pub crs: &'a Crs,
    pub width: usize,
    pub height: usize,
    pub resampling: Resampling,
}

/// Why the warp cannot render `cog`, if it cannot: it needs georeferencing
/// and 8-bit grey, grey + alpha, RGB or RGBA samples.
pub fn unrenderable(cog: &Cog) -> Option<String> {
    if cog.sample_type != SampleType::U8 || !(1..=4).contains(&cog.bands) {
        return Some(format!(
            "{} {:?} band(s) need raster styling (rescale, colormap), not supported yet",
            cog.bands, cog.sample_type
        ));
    }
    cog.geotransform
        .is_none()
        .then(|| "no georeferencing (geotransform)".to_owned())
}

/// Renders `request` from `cog`, whose CRS is `cog_crs`.
pub fn warp(cog: &Cog, cog_crs: &Crs, request: &Request) -> Result<Rgba> {
    let gt = match (unrenderable(cog), cog.geotransform) {
        (None, Some(gt)) => gt,
        (reason, _) => {
            return Err(Error::Unsupported {
                path: "warp".into(),
                detail: reason.unwrap_or_default(),
            })
        }
    };
    let (w, h) = (request.width, request.height);
    let coords = source_coordinates(request, cog_crs, &gt)?;
    let step = source_step(&coords, w, h);
    let level = choose_level(cog, step);
    let factor_x = f64::from(cog.levels[0].width) / f64::from(cog.levels[level].width);
    let factor_y = f64::from(cog.levels[0].height) / f64::from(cog.levels[level].height);
    let mut sampler = Sampler {
        cog,
        level,
        blocks: Vec::new(),
        // Output pixels per level pixel: above 1, the bilinear kernel
        // widens to cover every source pixel, as gdalwarp's does.
        radius: (step / factor_x).max(1.0),
    };
    let mut out = vec![0u8; w * h * 4];
    for (i, pixel) in out.chunks_exact_mut(4).enumerate() {
        let (col, row) = coords[i];
        if !col.is_finite() {
            continue;
        }
        let (col, row) = (col / factor_x, row / factor_y);
        let rgba = match request.resampling {
            Resampling::Nearest => sampler.nearest(col, row)?,
            Resampling::Bilinear => sampler.bilinear(col, row)?,
        };
        pixel.copy_from_slice(&rgba);
    }
    Ok(Rgba {
        width: w,
        height: h,
        data: out,
    })
}

/// Full-resolution source pixel coordinates (fractional, pixel corners at
/// integers) of every output pixel centre, row by row.
fn source_coordinates(request: &Request, cog_crs: &Crs, gt: &[f64; 6]) -> Result<Vec<(f64, f64)>> {
    let (w, h) = (request.width, request.height);
    let [min_x, min_y, max_x, max_y] = request.bbox;
    let (res_x, res_y) = ((max_x - min_x) / w as f64, (max_y - min_y) / h as f64);
    // Inverse of the affine geotransform.
    let det = gt[1] * gt[5] - gt[2] * gt[4];
    let to_pixel = |(x, y): (f64, f64)| {
        let (dx, dy) = (x - gt[0], y - gt[3]);
        (
            (dx * gt[5] - dy * gt[2]) / det,
            (dy * gt[1] - dx * gt[4]) / det,
        )
    };
    // Exact transforms on a grid of every GRID_STEP pixels (and the edges).
    let grid_x: Vec<usize> = (0..w).step_by(GRID_STEP).chain([w - 1]).collect();
    let grid_y: Vec<usize> = (0..h).step_by(GRID_STEP).chain([h - 1]).collect();
    let mut grid: Vec<(f64, f64)> = grid_y
        .iter()
        .flat_map(|&j| {
            grid_x.iter().map(move |&i| {
                (
                    min_x + (i as f64 + 0.5) * res_x,
                    max_y - (j as f64 + 0.5) * res_y,
                )
            })
        })
        .collect();
    Transform::new(request.crs, cog_crs).apply(&mut grid);
    let grid: Vec<(f64, f64)> = grid.into_iter().map(to_pixel).collect();
    let gw = grid_x.len();
    let mut coords = Vec::with_capacity(w * h);
    for j in 0..h {
        let gj = (j / GRID_STEP).min(grid_y.len() - 2);
        let (j0, j1) = (grid_y[gj], grid_y[gj + 1]);
        let ty = if j1 > j0 {
            (j - j0) as f64 / (j1 - j0) as f64
        } else {
            0.0
        };
        for i in 0..w {
            let gi = (i / GRID_STEP).min(gw - 2);
            let (i0, i1) = (grid_x[gi], grid_x[gi + 1]);
            let tx = if i1 > i0 {
                (i - i0) as f64 / (i1 - i0) as f64
            } else {
                0.0
            };
            let at = |a: usize, b: usize| grid[b * gw + a];
            let lerp = |p: (f64, f64), q: (f64, f64), t: f64| {
                (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t)
            };
            let top = lerp(at(gi, gj), at(gi + 1, gj), tx);
            let bottom = lerp(at(gi, gj + 1), at(gi + 1, gj + 1), tx);
            coords.push(lerp(top, bottom, ty));
        }
    }
    Ok(coords)
}

/// Full-resolution source pixels per output pixel, from the distance
/// between the two horizontally adjacent output pixels at the centre.
fn source_step(coords: &[(f64, f64)], w: usize, h: usize) -> f64 {
    let centre = w / 2 + (h / 2) * w;
    let (a, b) = (coords[centre.saturating_sub(1)], coords[centre]);
    let step = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    if step.is_finite() && step > 0.0 {
        step
    } else {
        1.0
    }
}

/// The coarsest level whose pixels are no larger than the output's.
fn choose_level(cog: &Cog, step: f64) -> usize {
    let full = f64::from(cog.levels[0].width);
    let mut best = 0;
    for (i, level) in cog.levels.iter().enumerate() {
        // A small tolerance so a level exactly at the output resolution wins
        // over rounding.
        if full / f64::from(level.width) <= step * 1.000_001 {
            best = i;
        }
    }
    best
}

/// Reads pixels of one level, keeping the blocks it used.
struct Sampler<'a> {
    cog: &'a Cog,
    level: usize,
    blocks: Vec<((u32, u32), Arc<Block>)>,
    /// Half-width of the bilinear (triangle) kernel, in level pixels.
    radius: f64,
}

impl Sampler<'_> {
    /// The RGBA value of source pixel (`col`, `row`) of the level, or
    /// `None` outside the image or where it is nodata or transparent.
    fn pixel(&mut self, col: i64, row: i64) -> Result<Option<[u8; 4]>> {
        let l = &self.cog.levels[self.level];
        if col < 0 || row < 0 || col >= i64::from(l.width) || row >= i64::from(l.height) {
            return Ok(None);
        }
        let (col, row) = (col as u32, row as u32);
        let key = (col / l.block_width, row / l.block_height);
        let block = match self.blocks.iter().find(|(k, _)| *k == key) {
            Some((_, b)) => Arc::clone(b),
            None => {
                let b = self.cog.read_block(self.level, key.0, key.1)?;
                self.blocks.push((key, Arc::clone(&b)));
                b
            }
        };
        let (x, y) = (
            (col % l.block_width) as usize,
            (row % l.block_height) as usize,
        );
        let at = (y * block.width + x) * block.bands;
        let s = &block.data[at..at + block.bands];
        let rgba = match block.bands {
            1 => [s[0], s[0], s[0], 255],
            2 => [s[0], s[0], s[0], s[1]],
            3 => [s[0], s[1], s[2], 255],
            _ => [s[0], s[1], s[2], s[3]],
        };
        let nodata = self
            .cog
            .nodata
            .filter(|n| (0.0..=255.0).contains(n))
            .map(|n| n as u8);
        // GDAL treats a pixel as nodata when every band equals the value.
        if nodata.is_some_and(|n| s.iter().take(3).all(|&v| v == n)) || rgba[3] == 0 {
            return Ok(None);
        }
        Ok(Some(rgba))
    }

    fn nearest(&mut self, col: f64, row: f64) -> Result<[u8; 4]> {
        Ok(self
            .pixel(col.floor() as i64, row.floor() as i64)?
            .unwrap_or([0; 4]))
    }

    /// Bilinear: a triangle kernel over the valid pixel centres within
    /// `radius` (the four nearest when not reducing), weights renormalised
    /// over the valid ones; transparent when the valid ones carry less than
    /// half the kernel's weight, as GDAL decides at nodata edges.
    fn bilinear(&mut self, col: f64, row: f64) -> Result<[u8; 4]> {
        let r = self.radius;
        let (x, y) = (col - 0.5, row - 0.5);
        let mut sum = [0f64; 4];
        let (mut weight, mut total) = (0.0, 0.0);
        for py in (y - r).ceil() as i64..=(y + r).floor() as i64 {
            let wy = 1.0 - (py as f64 - y).abs() / r;
            if wy <= 0.0 {
                continue;
            }
            for px in (x - r).ceil() as i64..=(x + r).floor() as i64 {
                let w = wy * (1.0 - (px as f64 - x).abs() / r);
                if w <= 0.0 {
                    continue;
                }
                total += w;
                if let Some(p) = self.pixel(px, py)? {
                    for c in 0..4 {
                        sum[c] += w * f64::from(p[c]);
                    }
                    weight += w;
                }
            }
        }
        if weight < 1e-9 || weight < 0.5 * total {
            return Ok([0; 4]);
        }
        Ok(sum.map(|v| (v / weight).round().clamp(0.0, 255.0) as u8))
    }
}
