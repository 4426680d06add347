//! Warping: the pixels of an output image (a bbox in some CRS, a size) from
//! a GeoTIFF in another CRS, as `gdalwarp` computes them.
//!
//! Output pixel centres are mapped to source pixel coordinates through the
//! CRS transform, computed exactly on a grid every [`GRID_STEP`] pixels (or
//! closer, until the interpolation is within [`MAX_ERROR`] of the exact
//! transform at every grid cell's centre) and interpolated linearly in
//! between, as GDAL's approximate transformer does. The overview is the
//! coarsest whose resolution is still at least the output's; then each
//! pixel is sampled (nearest, or bilinear over the valid neighbours) and
//! nodata becomes transparency.
//!
//! The work of a render is bounded by its output size: output pixels
//! whose kernel meets no source pixel are skipped, and a kernel wider than
//! [`MAX_TAPS`] source pixels along an axis (an output far coarser than
//! the coarsest overview: a low-zoom tile of a small image) samples
//! [`MAX_TAPS`] evenly spread positions instead of every pixel under it.
//! Without both, a z0 tile of a 74 m image cost days of CPU (issue 12).
//! The render checks its [`Deadline`] between rows.
//!
//! Output is data, not colour: up to three bands of values (any sample
//! type, as f32) and an alpha (0 = no data; a source alpha band is carried
//! through), which raster styling then turns into RGBA.
//!
//! Bilinear between two overview levels (radius ≤ 2) on 8-bit grey, grey +
//! alpha, RGB or RGBA pixels, the common case of imagery, has a path of
//! its own (issue 13 part 8, [`Sampler::plain_bilinear`]): an `N` × `N`
//! window (2 when not reducing, else 4; taps past the kernel weigh 0) read
//! from the block held last, checked with one test per pixel ([`Held`]);
//! f32 weights computed once per pixel and axis; each window row one
//! 16-byte load summed with SSE2 (x86-64 baseline) four lanes at a time,
//! then the columns with the x weights. Anything else (a window across
//! blocks or off the data, a mask, a transparent pixel, nodata) goes to
//! the general path; a test bounds the difference at 0.01 of a level.
//! Measured on `warp_ortho_l93_z16/bilinear` (a z16 tile of the 0.5 m
//! Lambert-93 JPEG COG, radius 1.67, styling included), old and new
//! binaries interleaved: 959 → 440 instructions per output pixel
//! (cachegrind, one thread), criterion on two busy cores 2.76–3.38 →
//! 1.69–1.99 ms (×0.6); a 1024 × 768 JPEG map at 0.7 m
//! (`map_ortho_3857`) 34–39 → 25.6–29 ms (×0.73).
//! What lost: the same kernel in portable Rust, over pixels or over a
//! row's bytes (no faster than the general path in CPU time: the
//! compiler converted each byte on its own and shuffled them into
//! vectors); 8-bit fixed-point weights (SSE2 has no 32-bit multiply, and
//! 1/256 weights over 16 taps can miss the 1-level bound: not built); rows
//! loaded through `bytemuck::pod_read_unaligned` (more instructions than
//! the padded copy). What the remaining ~440 instructions are, and so what
//! the 8 ns per pixel target needs: the window kernel ~290 (two floors and
//! the weights per axis, the SSE2 rows ~70, the x stage done lane by lane
//! ~60, bounds checks), the coordinate grid and row loop ~45, zeroing the
//! f32 output and the RGBA buffer ~20, identity styling ~15. Reaching
//! ~120 means working by runs of pixels rather than per pixel: stepping
//! taps and weights incrementally along a row, the x stage in vectors per
//! layout, and writing RGBA8 directly for identity styles instead of
//! `[f32; 4]` and a styling pass.

use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::bbox::Bbox;
use crate::crs::{bounds_of, Crs, Transform};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::rounding::{ceil, floor, round};
use crate::source::cog::{Block, SampleType};
use crate::source::{LevelShape, RasterSource};

/// Output pixels between two exactly transformed ones, at most.
pub const GRID_STEP: usize = 16;

/// Largest error of the interpolated transform, in full-resolution source
/// pixels. gdalwarp's default threshold is 0.125, but it interpolates along
/// each output row only (rows are exact); a grid interpolated both ways
/// needs a tighter bound to place edges where gdalwarp does (at 0.125, a
/// polar WebMercator tile of a world image differed on 6 % of pixels).
/// Transforms that are nearly affine over a tile, the common case, stay
/// at the 16-pixel grid.
pub const MAX_ERROR: f64 = 1.0 / 64.0;

/// Most source pixels a kernel reads along one axis. A wider kernel (a
/// reduction of more than 4 below the coarsest level, for bilinear) reads
/// this many evenly spread positions, each weighted by the kernel where it
/// stands (the midpoint rule), as GDAL's overview choice plus a bounded
/// kernel would: at most 64 taps per output pixel, against 4 to 16 for a
/// tile at the level's own resolution. The output is then an estimate of
/// the full kernel's, which at such reductions is a few output pixels of
/// a small image.
pub const MAX_TAPS: usize = 8;

/// Blocks one parallel job holds on to at most (about 64 MiB of 256²
/// RGBA blocks); past it, it lets go of them all and starts again.
const MAX_BLOCKS_HELD: usize = 256;

/// Output rows per parallel job: 64 rows of a 256-pixel tile keep every
/// core busy without splitting work finer than a block's height.
const ROWS_PER_JOB: usize = 64;

/// How output pixels take their value from source pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resampling {
    Nearest,
    /// Triangle kernel, widened when reducing (gdalwarp's `bilinear`).
    Bilinear,
    /// Keys cubic convolution (a = -0.5), widened when reducing.
    Cubic,
    /// Mean of the source pixels under the output pixel, weighted by the
    /// area each contributes.
    Average,
    /// Most frequent value of each band among the source pixels under the
    /// output pixel (classified rasters, land cover).
    Mode,
}

impl Resampling {
    /// The method named as GDAL names it (`near`, `bilinear`, `cubic`,
    /// `average`, `mode`).
    pub fn named(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "near" | "nearest" => Resampling::Nearest,
            "bilinear" => Resampling::Bilinear,
            "cubic" => Resampling::Cubic,
            "average" => Resampling::Average,
            "mode" => Resampling::Mode,
            _ => return None,
        })
    }
}

/// Warped data: per pixel up to three band values and an alpha (0–255,
/// 0 where there is no data), `[v0, v1, v2, alpha]`, row by row.
#[derive(Debug, Clone)]
pub struct Warped {
    pub width: usize,
    pub height: usize,
    pub pixels: Vec<[f32; 4]>,
    /// Output pixel size in the request's CRS units (for hillshading).
    pub cell_size: f64,
    /// What the render cost.
    pub work: Work,
}

/// The work of a render, counted as it runs: what bounds its time,
/// without the noise of a clock (tests assert on it).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Work {
    /// Source pixels read (kernel taps, copied pixels, mode votes).
    pub taps: u64,
    /// Blocks fetched (from the block cache or decoded), counted once per
    /// parallel job that used them.
    pub blocks: u64,
}

impl std::ops::Add for Work {
    type Output = Work;
    fn add(self, other: Work) -> Work {
        Work {
            taps: self.taps + other.taps,
            blocks: self.blocks + other.blocks,
        }
    }
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

/// What to render: `bbox` in `width × height` pixels.
pub struct Request<'a> {
    pub bbox: &'a Bbox,
    pub width: usize,
    pub height: usize,
    pub resampling: Resampling,
    /// When the render is abandoned (`Error::DeadlineExceeded`).
    pub deadline: Deadline,
}

/// The alpha band of a source, by GDAL's convention for 8-bit images:
/// the last of two (grey + alpha) or of four (RGBA) bands.
pub fn alpha_band(source: &dyn RasterSource) -> Option<usize> {
    let bands = source.bands();
    (source.sample_type() == SampleType::U8 && matches!(bands, 2 | 4)).then(|| bands - 1)
}

/// Warps `bands` (0-based, one to three) of `source`, whose CRS is
/// `source_crs`, into `request`.
pub fn warp(
    source: &dyn RasterSource,
    source_crs: &Crs,
    request: &Request,
    bands: &[usize],
) -> Result<Warped> {
    let unsupported = |detail: String| Error::Unsupported {
        path: "warp".into(),
        detail,
    };
    if bands.is_empty() || bands.len() > 3 || bands.iter().any(|&b| b >= source.bands()) {
        return Err(unsupported(format!(
            "bands {bands:?} of a {}-band image",
            source.bands()
        )));
    }
    let gt = source
        .geotransform()
        .ok_or_else(|| unsupported("the GeoTIFF has no georeferencing".into()))?;
    let (w, h) = (request.width, request.height);
    let full = source.levels()[0];
    let image = (f64::from(full.width), f64::from(full.height));
    let wrap = Wrap::of(source_crs, &gt, image.0);
    let (coords, _) = source_coordinates(request, source_crs, &gt, wrap, image)?;
    let steps = CentreSteps::of(&coords, w, h);
    let levels = source.levels();
    // The finer of the two axes' resolutions: a pixel wider than high (a
    // coalesced GNOSISGlobalGrid row) keeps its vertical detail.
    let level = choose_level(levels, steps.x.min(steps.y));
    let shape = levels[level];
    let factor_x = f64::from(levels[0].width) / f64::from(shape.width);
    let factor_y = f64::from(levels[0].height) / f64::from(shape.height);
    // On a grid aligned with the level's pixels every kernel puts all its
    // weight on the pixel under the centre: a copy of rows.
    let copy_from = aligned(&coords, w, (factor_x, factor_y));
    // Level pixels per output pixel, per axis: above 1, the kernels widen
    // to cover every source pixel, as gdalwarp's (dfXScale, dfYScale).
    let radius = ((steps.x / factor_x).max(1.0), (steps.y / factor_y).max(1.0));
    let mode_window = steps.corner_half_extent((factor_x, factor_y));
    let data = DataWindow::of(source, level);
    let method = request.resampling;
    let reach = |radius: f64, mode_half: f64| match method {
        Resampling::Mode => mode_half,
        _ => half_support(method, radius),
    };
    let footprint = Footprint::of(
        &data,
        (
            reach(radius.0, mode_window.0),
            reach(radius.1, mode_window.1),
        ),
    );
    let sparse = [radius.0, radius.1].iter().any(|&r| is_sparse(method, r));
    let mut pixels = vec![[0f32; 4]; w * h];
    // Bands of rows in parallel (rayon), each with its own block list.
    let work = pixels
        .par_chunks_mut(w * ROWS_PER_JOB)
        .zip(coords.par_chunks(w * ROWS_PER_JOB))
        .enumerate()
        .map(|(job, (out, coords))| -> Result<Work> {
            let mut sampler = Sampler::new(source, level, bands, radius, sparse, data);
            if let Some((x, y)) = copy_from {
                let first_row = y + (job * ROWS_PER_JOB) as i64;
                for (row, out) in (first_row..).zip(out.chunks_mut(w)) {
                    request.deadline.check("warp")?;
                    sampler.copy_row((x, row), out)?;
                }
                return Ok(sampler.work());
            }
            // One loop per method, each compiled on its own, and the
            // kernel kept out of line (`Sampler::kernel`): inlined into
            // one loop with the others, it made the nearest loop 8 %
            // slower (measured when aligned tiles still went through it:
            // warp_256/3857_aligned_bilinear 1.13 → 1.23 ms).
            let rows = Rows {
                width: w,
                factor: (factor_x, factor_y),
                footprint: &footprint,
                deadline: &request.deadline,
            };
            let s = &mut sampler;
            match method {
                Resampling::Nearest => rows.sample(out, coords, s, |s, c, r| s.nearest(c, r))?,
                Resampling::Mode => {
                    rows.sample(out, coords, s, |s, c, r| s.mode(c, r, mode_window))?
                }
                // The usual case between two overview levels has a loop of
                // its own (without the general kernel's dispatch), and
                // 8-bit pixels read as they are stored one tighter still.
                Resampling::Bilinear if radius.0 <= 2.0 && radius.1 <= 2.0 => {
                    match PlainLayout::of(source, bands) {
                        Some(layout) if radius == (1.0, 1.0) => {
                            plain_bilinear::<2, 8>(&rows, out, coords, s, layout)?
                        }
                        Some(layout) => plain_bilinear::<4, 16>(&rows, out, coords, s, layout)?,
                        None => rows.sample(out, coords, s, |s, c, r| s.small_bilinear(c, r))?,
                    }
                }
                method => rows.sample(out, coords, s, |s, c, r| s.kernel(c, r, method))?,
            }
            Ok(sampler.work())
        })
        .try_reduce(Work::default, |a, b| Ok(a + b))?;
    Ok(Warped {
        width: w,
        height: h,
        pixels,
        cell_size: request.bbox.width() / w as f64,
        work,
    })
}

/// How far from its centre, in level pixels, the kernel of `method` with
/// radius `scale` reaches along one axis.
fn half_support(method: Resampling, scale: f64) -> f64 {
    match method {
        Resampling::Average => scale / 2.0,
        Resampling::Cubic => 2.0 * scale,
        Resampling::Bilinear | Resampling::Nearest | Resampling::Mode => scale,
    }
}

/// Whether a kernel of `method` with radius `scale` is wider than
/// [`MAX_TAPS`] pixels, and samples spread positions instead.
fn is_sparse(method: Resampling, scale: f64) -> bool {
    !matches!(method, Resampling::Nearest | Resampling::Mode)
        && 2.0 * half_support(method, scale) > MAX_TAPS as f64
}

/// The level pixels that may hold data, `[x0, x1) × [y0, y1)`: the
/// level, or the blocks the source says hold its data
/// ([`RasterSource::data_blocks`]).
#[derive(Debug, Clone, Copy)]
struct DataWindow {
    x: (i64, i64),
    y: (i64, i64),
}

impl DataWindow {
    fn of(source: &dyn RasterSource, level: usize) -> Self {
        let l = source.levels()[level];
        let (w, h) = (i64::from(l.width), i64::from(l.height));
        let (bw, bh) = (i64::from(l.block_width), i64::from(l.block_height));
        match source.data_blocks(level) {
            Some([c0, r0, c1, r1]) => DataWindow {
                x: (
                    (i64::from(c0) * bw).min(w),
                    ((i64::from(c1) + 1) * bw).min(w),
                ),
                y: (
                    (i64::from(r0) * bh).min(h),
                    ((i64::from(r1) + 1) * bh).min(h),
                ),
            },
            None => DataWindow {
                x: (0, w),
                y: (0, h),
            },
        }
    }

    #[inline]
    fn contains(&self, col: i64, row: i64) -> bool {
        col >= self.x.0 && col < self.x.1 && row >= self.y.0 && row < self.y.1
    }
}

/// Farthest a kernel reaches, in level pixels, 2⁵²: levels are at most 2³¹
/// pixels, and beyond this the taps' `i64` arithmetic would saturate. A
/// GeoTIFF's geotransform can put output pixels 1e19 pixels away (issue
/// 12: the `tiff` fuzz target's input in tests/fuzz/tiff/ overflowed
/// `bilinear_span` before far pixels were skipped by the footprint; this
/// bound keeps a kernel as wide as such a request from reaching there).
const MAX_REACH: f64 = (1u64 << 52) as f64;

/// The level pixels an output pixel's kernel can meet: the data window
/// grown by the kernel's reach (and a pixel) on every side. A centre
/// outside it has no source pixel with data under its kernel, and its
/// output pixel no data: it is skipped rather than sampled (most of a
/// low-zoom tile over a small image).
struct Footprint {
    x: (f64, f64),
    y: (f64, f64),
}

impl Footprint {
    fn of(data: &DataWindow, (reach_x, reach_y): (f64, f64)) -> Self {
        let grow = |(from, to): (i64, i64), reach: f64| {
            let reach = reach.min(MAX_REACH);
            (from as f64 - reach - 1.0, to as f64 + reach + 1.0)
        };
        Footprint {
            x: grow(data.x, reach_x),
            y: grow(data.y, reach_y),
        }
    }

    /// Whether a kernel centred at (`col`, `row`) (level pixels) may meet
    /// the level; false for NaN (a point the transform cannot place).
    #[inline]
    fn near(&self, col: f64, row: f64) -> bool {
        col > self.x.0 && col < self.x.1 && row > self.y.0 && row < self.y.1
    }
}

/// How one parallel job walks its rows of output pixels.
struct Rows<'r> {
    width: usize,
    /// Full-resolution pixels per level pixel, per axis.
    factor: (f64, f64),
    footprint: &'r Footprint,
    deadline: &'r Deadline,
}

impl Rows<'_> {
    /// Fills `out` with `sample` at each of `coords` (full-resolution pixel
    /// coordinates, divided by `factor` into the level's), row by row,
    /// checking the deadline before each; pixels whose kernel cannot meet
    /// the level (or whose coordinates are not finite) are left as they
    /// are.
    fn sample<'a>(
        &self,
        out: &mut [[f32; 4]],
        coords: &[(f64, f64)],
        sampler: &mut Sampler<'a>,
        mut sample: impl FnMut(&mut Sampler<'a>, f64, f64) -> Result<[f32; 4]>,
    ) -> Result<()> {
        let (factor_x, factor_y) = self.factor;
        // A division costs as much as a tap; where the factors are powers
        // of two (between a COG's overviews), multiplying by the inverse
        // gives the same coordinates exactly.
        let inverse = (power_of_two(factor_x) && power_of_two(factor_y))
            .then(|| (1.0 / factor_x, 1.0 / factor_y));
        for (out, coords) in out.chunks_mut(self.width).zip(coords.chunks(self.width)) {
            self.deadline.check("warp")?;
            for (pixel, &(col, row)) in out.iter_mut().zip(coords) {
                let (col, row) = match inverse {
                    Some((x, y)) => (col * x, row * y),
                    None => (col / factor_x, row / factor_y),
                };
                if self.footprint.near(col, row) {
                    *pixel = sample(sampler, col, row)?;
                }
            }
        }
        Ok(())
    }
}

/// How 8-bit pixels are laid out when the bands shown are the first of
/// each pixel, in order, followed by nothing or by the alpha band: grey,
/// grey + alpha, RGB, RGBA. Their bilinear kernel reads the block's bytes
/// as they are ([`Sampler::plain_bilinear`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PlainLayout {
    Grey,
    GreyAlpha,
    Rgb,
    Rgba,
}

impl PlainLayout {
    /// The layout of `bands` of `source`, or `None` where reading a pixel
    /// takes more than its bytes: other sample types, a nodata value a
    /// byte can hold, bands reordered or skipped.
    fn of(source: &dyn RasterSource, bands: &[usize]) -> Option<Self> {
        let byte_nodata = source
            .nodata()
            .is_some_and(|v| v.fract() == 0.0 && (0.0..=255.0).contains(&v));
        if source.sample_type() != SampleType::U8 || byte_nodata {
            return None;
        }
        let alpha = alpha_band(source);
        match (bands, source.bands(), alpha) {
            ([0], 1, None) => Some(PlainLayout::Grey),
            ([0], 2, Some(1)) => Some(PlainLayout::GreyAlpha),
            ([0, 1, 2], 3, None) => Some(PlainLayout::Rgb),
            ([0, 1, 2], 4, Some(3)) => Some(PlainLayout::Rgba),
            _ => None,
        }
    }
}

/// [`Rows::sample`] with [`Sampler::plain_bilinear`], an `N` × `N` window
/// (2 when neither axis reduces, else 4) read in rows of `L` bytes (4 RGBA
/// pixels at most), compiled once per layout.
fn plain_bilinear<const N: usize, const L: usize>(
    rows: &Rows,
    out: &mut [[f32; 4]],
    coords: &[(f64, f64)],
    s: &mut Sampler,
    layout: PlainLayout,
) -> Result<()> {
    match layout {
        PlainLayout::Grey => rows.sample(out, coords, s, |s, c, r| {
            s.plain_bilinear::<N, 1, L>(c, r, false)
        }),
        PlainLayout::GreyAlpha => rows.sample(out, coords, s, |s, c, r| {
            s.plain_bilinear::<N, 2, L>(c, r, true)
        }),
        PlainLayout::Rgb => rows.sample(out, coords, s, |s, c, r| {
            s.plain_bilinear::<N, 3, L>(c, r, false)
        }),
        PlainLayout::Rgba => rows.sample(out, coords, s, |s, c, r| {
            s.plain_bilinear::<N, 4, L>(c, r, true)
        }),
    }
}

/// Whether `x` is a power of two (1, 2, 0.5…): dividing by it and
/// multiplying by its inverse then give the same result.
fn power_of_two(x: f64) -> bool {
    x.is_normal() && x > 0.0 && x.to_bits() & ((1 << 52) - 1) == 0
}

/// Full-resolution source pixel coordinates (fractional, pixel corners at
/// integers) of every output pixel centre, row by row.
fn source_coordinates(
    request: &Request,
    source_crs: &Crs,
    gt: &[f64; 6],
    wrap: Option<Wrap>,
    image: (f64, f64),
) -> Result<(Vec<(f64, f64)>, usize)> {
    let (w, h) = (request.width, request.height);
    let [min_x, min_y, max_x, max_y] = request.bbox.coords();
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
    let transform = Transform::new(request.bbox.crs(), source_crs);
    // Source pixel coordinates of output pixel positions (centres at +0.5).
    let exact = |pixels: Vec<(f64, f64)>| -> Vec<(f64, f64)> {
        let mut points: Vec<(f64, f64)> = pixels
            .into_iter()
            .map(|(i, j)| (min_x + i * res_x, max_y - j * res_y))
            .collect();
        transform.apply(&mut points);
        if let Some(wrap) = wrap {
            points.iter_mut().for_each(|p| p.0 = wrap.onto_image(p.0));
        }
        points.into_iter().map(to_pixel).collect()
    };
    // Exact transforms on a grid of every `step` pixels (and the edges),
    // the step halved until the centre of every grid cell interpolates to
    // within MAX_ERROR of its exact transform (GDAL's approximate
    // transformer bounds its error the same way).
    let mut step = GRID_STEP;
    let (grid_x, grid_y, grid) = loop {
        let grid_x: Vec<usize> = (0..w).step_by(step).chain([w - 1]).collect();
        let grid_y: Vec<usize> = (0..h).step_by(step).chain([h - 1]).collect();
        let corners = grid_y
            .iter()
            .flat_map(|&j| {
                grid_x
                    .iter()
                    .map(move |&i| (i as f64 + 0.5, j as f64 + 0.5))
            })
            .collect();
        let grid = exact(corners);
        if step == 1 {
            break (grid_x, grid_y, grid);
        }
        let gw = grid_x.len();
        let cells = |f: &mut dyn FnMut(usize, usize)| {
            for gj in 0..grid_y.len() - 1 {
                for gi in 0..gw - 1 {
                    f(gi, gj);
                }
            }
        };
        // Only cells near the image are checked: a pixel interpolated in
        // a cell lies within its corners' box, so a cell whose box, grown
        // by its own size (kernels reach a few pixels past it), misses the
        // image holds only pixels the sampling skips, however curved the
        // transform there (most of a low-zoom tile over a small image,
        // whose exact transform of every pixel cost 25 ms).
        let corners = |gi: usize, gj: usize| {
            let corner = |a: usize, b: usize| grid[b * gw + a];
            [
                corner(gi, gj),
                corner(gi + 1, gj),
                corner(gi, gj + 1),
                corner(gi + 1, gj + 1),
            ]
        };
        let near = |[x0, y0, x1, y1]: [f64; 4]| {
            let (gx, gy) = (x1 - x0, y1 - y0);
            x1 + gx >= 0.0 && x0 - gx <= image.0 && y1 + gy >= 0.0 && y0 - gy <= image.1
        };
        // Each checked cell with its corners' box (source pixels).
        let (mut checked, mut centres) = (Vec::new(), Vec::new());
        cells(&mut |gi, gj| {
            let cell = bounds_of(&corners(gi, gj)).filter(|&b| near(b));
            if let Some(cell) = cell {
                checked.push((gi, gj, cell));
                let i = (grid_x[gi] + grid_x[gi + 1]) as f64 / 2.0 + 0.5;
                let j = (grid_y[gj] + grid_y[gj + 1]) as f64 / 2.0 + 0.5;
                centres.push((i, j));
            }
        });
        let centres = exact(centres);
        let mut worst: f64 = 0.0;
        for (&(gi, gj, [x0, y0, x1, y1]), e) in checked.iter().zip(centres) {
            let [p, q, r, t] = corners(gi, gj);
            let mean = ((p.0 + q.0 + r.0 + t.0) / 4.0, (p.1 + q.1 + r.1 + t.1) / 4.0);
            let error = (mean.0 - e.0).abs().max((mean.1 - e.1).abs());
            // In source pixels, or in output pixels where those are larger
            // (a reduction): GDAL measures it in the pixels of the overview
            // it reads, and an error of 1/64 of an output pixel is out of
            // sight. Measured in full-resolution pixels, a z0 tile of a
            // 10 cm image refined down to an exact transform per pixel.
            let across = (grid_x[gi + 1] - grid_x[gi]).max(grid_y[gj + 1] - grid_y[gj]) as f64;
            let per_output_pixel = (x1 - x0).max(y1 - y0) / across;
            let error = error / per_output_pixel.max(1.0);
            if error.is_finite() {
                worst = worst.max(error);
            }
        }
        if worst <= MAX_ERROR {
            break (grid_x, grid_y, grid);
        }
        step /= 2;
    };
    let gw = grid_x.len();
    // An output row's or column's grid cell and its position in it; the
    // columns' are the same on every row, so found once (two divisions
    // per pixel otherwise).
    let cell = |k: usize, lines: &[usize]| {
        let g = (k / step).min(lines.len() - 2);
        let (k0, k1) = (lines[g], lines[g + 1]);
        let t = if k1 > k0 {
            (k - k0) as f64 / (k1 - k0) as f64
        } else {
            0.0
        };
        (g, t)
    };
    let columns: Vec<(usize, f64)> = (0..w).map(|i| cell(i, &grid_x)).collect();
    let lerp =
        |p: (f64, f64), q: (f64, f64), t: f64| (p.0 + (q.0 - p.0) * t, p.1 + (q.1 - p.1) * t);
    let mut coords = Vec::with_capacity(w * h);
    for j in 0..h {
        let (gj, ty) = cell(j, &grid_y);
        let (upper, lower) = (&grid[gj * gw..], &grid[(gj + 1) * gw..]);
        for &(gi, tx) in &columns {
            let top = lerp(upper[gi], upper[gi + 1], tx);
            let bottom = lerp(lower[gi], lower[gi + 1], tx);
            coords.push(lerp(top, bottom, ty));
        }
    }
    Ok((coords, step))
}

/// How x wraps around the world in a source's CRS (degrees, or a
/// cylindrical projection's metres), for images that cross the
/// antimeridian (x past 180°) or are laid out 0–360°: the transform gives
/// x in −180…180°, and a point west of the antimeridian may be the
/// image's x + 360.
#[derive(Debug, Clone, Copy)]
struct Wrap {
    width: f64,
    /// The image's x extent.
    left: f64,
    right: f64,
}

impl Wrap {
    /// The wrap of an image whose geotransform `gt` has rows along x
    /// (no rotation), `pixels` wide, in `crs`: `None` where x does not
    /// wrap, or the image lies within one turn centred on Greenwich
    /// (nothing to do).
    fn of(crs: &Crs, gt: &[f64; 6], pixels: f64) -> Option<Self> {
        let width = crs.world_width()?;
        let (a, b) = (gt[0], gt[0] + pixels * gt[1]);
        let (left, right) = (a.min(b), a.max(b));
        let inside = left >= -width / 2.0 && right <= width / 2.0;
        (gt[2] == 0.0 && !inside).then_some(Wrap { width, left, right })
    }

    /// `x`, or `x` a whole number of turns away, whichever is nearer the
    /// image.
    fn onto_image(&self, x: f64) -> f64 {
        let off = |v: f64| (self.left - v).max(v - self.right).max(0.0);
        let middle = (self.left + self.right) / 2.0;
        let turned = x + ((middle - x) / self.width).round() * self.width;
        if off(turned) < off(x) {
            turned
        } else {
            x
        }
    }
}

/// The whole numbers (a, b) such that every output pixel (i, j) lands on
/// the centre of level pixel (i + a, j + b), if there are: the same CRS,
/// resolution and pixel grid (a web-optimized COG asked for its own
/// tiles).
fn aligned(
    coords: &[(f64, f64)],
    w: usize,
    (factor_x, factor_y): (f64, f64),
) -> Option<(i64, i64)> {
    const EPSILON: f64 = 1e-6;
    let &(c0, r0) = coords.first()?;
    let (a, b) = (c0 / factor_x - 0.5, r0 / factor_y - 0.5);
    // Offsets beyond any level's size (2³¹) could overflow the copy's
    // arithmetic; such a request meets no pixel anyway.
    const FAR: f64 = (1u64 << 31) as f64;
    if (a - a.round()).abs() > EPSILON
        || (b - b.round()).abs() > EPSILON
        || a.abs() > FAR
        || b.abs() > FAR
    {
        return None;
    }
    // Row by row and by multiplication: a division per pixel (and two to
    // find its row and column) was a tenth of an aligned tile's time.
    let (to_level_x, to_level_y) = (1.0 / factor_x, 1.0 / factor_y);
    coords
        .chunks(w)
        .zip(0..)
        .all(|(row, j)| {
            row.iter().zip(0..).all(|(&(c, r), i)| {
                (c * to_level_x - 0.5 - a - f64::from(i)).abs() < EPSILON
                    && (r * to_level_y - 0.5 - b - f64::from(j)).abs() < EPSILON
            })
        })
        .then(|| (round(a), round(b)))
}

/// Where one output step right and one step down go in the source
/// (full-resolution pixels), at the tile's centre: tiles are nearly
/// affine, so these size the kernels and the mode window for the whole
/// tile.
struct CentreSteps {
    right: Option<(f64, f64)>,
    down: Option<(f64, f64)>,
    /// Their lengths: source pixels per output pixel along each output
    /// axis (1 where unknown).
    x: f64,
    y: f64,
}

impl CentreSteps {
    fn of(coords: &[(f64, f64)], w: usize, h: usize) -> Self {
        let k = (w / 2).min(w.saturating_sub(2)) + (h / 2).min(h.saturating_sub(2)) * w;
        let step = |to: usize| {
            let (a, b) = (coords.get(k)?, coords.get(to)?);
            let d = (b.0 - a.0, b.1 - a.1);
            let length = d.0.hypot(d.1);
            (length.is_finite() && length > 0.0).then_some(d)
        };
        let right = if w > 1 { step(k + 1) } else { None };
        let down = if h > 1 { step(k + w) } else { None };
        let length = |d: Option<(f64, f64)>| d.map(|d| d.0.hypot(d.1));
        let (x, y) = match (length(right), length(down)) {
            (Some(x), Some(y)) => (x, y),
            (Some(v), None) | (None, Some(v)) => (v, v),
            (None, None) => (1.0, 1.0),
        };
        CentreSteps { right, down, x, y }
    }

    /// Half the extent, in level pixels, of the box holding an output
    /// pixel's top-left and bottom-right corners taken into the source:
    /// the window GDAL's `mode` reads (one step right plus one step down).
    fn corner_half_extent(&self, (factor_x, factor_y): (f64, f64)) -> (f64, f64) {
        let (r, d) = (
            self.right.unwrap_or((self.x, 0.0)),
            self.down.unwrap_or((0.0, self.y)),
        );
        (
            ((r.0 + d.0) / factor_x / 2.0).abs(),
            ((r.1 + d.1) / factor_y / 2.0).abs(),
        )
    }
}

/// The value counted most often in `values` (`counts` is working space);
/// among equals, the first to reach that count, as GDAL's mode decides.
fn most_frequent(counts: &mut FxHashMap<u32, u32>, values: impl Iterator<Item = f32>) -> f32 {
    counts.clear();
    let (mut best, mut best_count) = (0.0, 0);
    for v in values {
        // Equal values count together: 0.0 and -0.0 are one.
        let key = if v == 0.0 { 0 } else { v.to_bits() };
        let count = counts.entry(key).or_insert(0);
        *count += 1;
        if *count > best_count {
            (best, best_count) = (v, *count);
        }
    }
    best
}

/// The coarsest level whose pixels are no larger than the output's.
fn choose_level(levels: &[LevelShape], step: f64) -> usize {
    let full = f64::from(levels[0].width);
    let mut best = 0;
    for (i, level) in levels.iter().enumerate() {
        // A small tolerance so a level exactly at the output resolution wins
        // over rounding.
        if full / f64::from(level.width) <= step * 1.000_001 {
            best = i;
        }
    }
    best
}

/// The block the plain bilinear path reads from, and where the top-left
/// pixel of a window may be for the whole window to lie in it and in the
/// data (`[x.0, x.1) × [y.0, y.1)`, level pixels): one test per output
/// pixel instead of the data window's two and [`Sampler::block_holding`]'s.
#[derive(Debug, Clone, Copy)]
struct Held {
    x: (i64, i64),
    y: (i64, i64),
    /// Its index in [`Sampler::blocks`] and its top-left level pixel.
    index: usize,
    origin: (i64, i64),
}

impl Held {
    /// No block: holds no window.
    const NONE: Held = Held {
        x: (0, 0),
        y: (0, 0),
        index: 0,
        origin: (0, 0),
    };

    #[inline(always)]
    fn holds(&self, x0: i64, y0: i64) -> bool {
        x0 >= self.x.0 && x0 < self.x.1 && y0 >= self.y.0 && y0 < self.y.1
    }
}

/// Reads pixels of one level, keeping the blocks it used.
struct Sampler<'a> {
    source: &'a dyn RasterSource,
    level: usize,
    /// The level's size and block size.
    shape: LevelShape,
    /// The data bands read, 0-based.
    bands: &'a [usize],
    /// The source's alpha band, if it has one.
    alpha: Option<usize>,
    blocks: Vec<((u32, u32), Arc<Block>)>,
    /// The mask block of each of `blocks`, where the level has a mask.
    masks: Vec<Option<Arc<Block>>>,
    /// Half-width of the bilinear (triangle) kernel along each axis, in
    /// level pixels, and its inverse (a division per output pixel
    /// otherwise).
    radius: (f64, f64),
    inverse_radius: (f64, f64),
    /// Index in `blocks` of the block read last.
    last: usize,
    /// The block [`Self::plain_bilinear`] reads from.
    held: Held,
    /// The file's nodata value as a sample.
    nodata: Option<f32>,
    /// Reused buffers of kernel taps (position, weight) per axis.
    taps_x: Vec<(i64, f64)>,
    taps_y: Vec<(i64, f64)>,
    /// Reused by `mode`: the valid pixels of a window, and a value count.
    votes: Vec<[f32; 4]>,
    counts: FxHashMap<u32, u32>,
    /// Whether kernels sample spread positions ([`is_sparse`]): their
    /// taps are then not consecutive pixels.
    sparse: bool,
    /// Where the level may hold data: nothing outside is read.
    data: DataWindow,
    /// Source pixels read so far, and blocks fetched.
    taps: u64,
    fetched: u64,
}

impl<'a> Sampler<'a> {
    /// A sampler of `bands` of `level` with kernels of `radius` level
    /// pixels, holding no block yet.
    fn new(
        source: &'a dyn RasterSource,
        level: usize,
        bands: &'a [usize],
        radius: (f64, f64),
        sparse: bool,
        data: DataWindow,
    ) -> Self {
        Sampler {
            source,
            level,
            shape: source.levels()[level],
            bands,
            alpha: alpha_band(source),
            blocks: Vec::new(),
            masks: Vec::new(),
            radius,
            inverse_radius: (1.0 / radius.0, 1.0 / radius.1),
            last: 0,
            held: Held::NONE,
            nodata: source.nodata().map(|n| n as f32),
            taps_x: Vec::new(),
            taps_y: Vec::new(),
            votes: Vec::new(),
            counts: FxHashMap::default(),
            sparse,
            data,
            taps: 0,
            fetched: 0,
        }
    }
}

impl Sampler<'_> {
    /// What this sampler has done so far.
    fn work(&self) -> Work {
        Work {
            taps: self.taps,
            blocks: self.fetched,
        }
    }

    /// The index in `blocks` of block `key` of the level, read if needed.
    #[inline]
    fn block(&mut self, key: (u32, u32)) -> Result<usize> {
        // Blocks are borrowed, not their Arc cloned per sample: a reference
        // count touched per tap by every thread costs more than the tap.
        // Neighbouring taps mostly hit the block used last.
        if self.blocks.get(self.last).is_some_and(|(k, _)| *k == key) {
            return Ok(self.last);
        }
        self.last = match self.blocks.iter().position(|(k, _)| *k == key) {
            Some(i) => i,
            None => {
                // The blocks kept are those near the pixels being read; a
                // render that wanders over many (a wide reduction of a
                // large image without overviews) lets go of the old ones
                // rather than hold them all: the block cache keeps the
                // hot ones.
                if self.blocks.len() >= MAX_BLOCKS_HELD {
                    self.blocks.clear();
                    self.masks.clear();
                    self.held = Held::NONE;
                }
                self.fetched += 1;
                let b = self.source.read_block(self.level, key.0, key.1)?;
                let mask = self.source.read_mask_block(self.level, key.0, key.1)?;
                self.blocks.push((key, b));
                self.masks.push(mask);
                self.blocks.len() - 1
            }
        };
        Ok(self.last)
    }

    /// The index in `blocks` and the top-left level pixel of the block
    /// holding every pixel from (`x0`, `y0`) to (`x1`, `y1`), inside the
    /// level; `None` when they span blocks. The block used last is tried
    /// first: neighbouring output pixels mostly stay in it, and it needs
    /// no division (four per output pixel otherwise).
    #[inline]
    fn block_holding(
        &mut self,
        (x0, y0): (i64, i64),
        (x1, y1): (i64, i64),
    ) -> Result<Option<(usize, (i64, i64))>> {
        let (bw, bh) = (
            i64::from(self.shape.block_width),
            i64::from(self.shape.block_height),
        );
        if let Some(((col, row), _)) = self.blocks.get(self.last) {
            let (ox, oy) = (i64::from(*col) * bw, i64::from(*row) * bh);
            if x0 >= ox && y0 >= oy && x1 < ox + bw && y1 < oy + bh {
                return Ok(Some((self.last, (ox, oy))));
            }
        }
        let (col, row) = (x0 / bw, y0 / bh);
        if col != x1 / bw || row != y1 / bh {
            return Ok(None);
        }
        let index = self.block((col as u32, row as u32))?;
        Ok(Some((index, (col * bw, row * bh))))
    }

    /// `[v0, v1, v2, alpha]` of pixel (`x`, `y`) of block `index`, or
    /// `None` where it is nodata or transparent.
    #[inline]
    fn read(&self, index: usize, x: usize, y: usize) -> Option<[f32; 4]> {
        let block = &self.blocks[index].1;
        // The per-dataset mask, where the file has one, says no data first.
        if self.masks[index]
            .as_ref()
            .is_some_and(|m| m.data[y * m.width + x] == 0)
        {
            return None;
        }
        let pixel = (y * block.width + x) * block.bands;
        let n = self.bands.len();
        let mut out = [0f32; 4];
        if block.sample_type == SampleType::U8 {
            // No per-sample type dispatch for the common case.
            let p = &block.data[pixel..pixel + block.bands];
            for (o, &band) in out.iter_mut().zip(self.bands) {
                *o = f32::from(p[band]);
            }
        } else {
            for (o, &band) in out.iter_mut().zip(self.bands) {
                *o = sample(block, pixel + band);
            }
        }
        // GDAL treats a pixel as nodata when every band equals the value.
        if self
            .nodata
            .is_some_and(|nodata| out[..n].iter().all(|&v| v == nodata))
            || out[..n].iter().any(|v| v.is_nan())
        {
            return None;
        }
        out[3] = match self.alpha {
            Some(a) => sample(block, pixel + a),
            None => 255.0,
        };
        (out[3] > 0.0).then_some(out)
    }

    /// `[v0, v1, v2, alpha]` of source pixel (`col`, `row`) of the level,
    /// or `None` outside the image, where it is nodata, or transparent.
    #[inline]
    fn pixel(&mut self, col: i64, row: i64) -> Result<Option<[f32; 4]>> {
        let l = self.shape;
        if !self.data.contains(col, row) {
            return Ok(None);
        }
        let (col, row) = (col as u32, row as u32);
        let (bw, bh) = (l.block_width, l.block_height);
        let index = self.block((col / bw, row / bh))?;
        Ok(self.read(index, (col % bw) as usize, (row % bh) as usize))
    }

    /// Level row `y` from column `x` on, into `out`, one level pixel per
    /// output pixel (an aligned grid); pixels outside the level are left
    /// as they are. Blocks are found once per run of pixels in them.
    fn copy_row(&mut self, (x, y): (i64, i64), out: &mut [[f32; 4]]) -> Result<()> {
        let l = self.shape;
        if !(self.data.y.0..self.data.y.1).contains(&y) {
            return Ok(());
        }
        let (bw, bh) = (i64::from(l.block_width), i64::from(l.block_height));
        let end = (x + out.len() as i64).min(self.data.x.1);
        let mut col = x.max(self.data.x.0);
        while col < end {
            let block_col = col / bw;
            let run_end = ((block_col + 1) * bw).min(end);
            let index = self.block((block_col as u32, (y / bh) as u32))?;
            let (first, in_block) = (block_col * bw, (y % bh) as usize);
            let run = &mut out[(col - x) as usize..(run_end - x) as usize];
            self.taps += run.len() as u64;
            let block = &self.blocks[index].1;
            if self.masks[index].is_none() && self.every_byte_valid(block) {
                // Bytes as they are: the rules of `read` cannot drop any.
                let stride = block.bands;
                let from = (in_block * block.width + (col - first) as usize) * stride;
                let bytes = &block.data[from..from + run.len() * stride];
                for (pixel, p) in run.iter_mut().zip(bytes.chunks_exact(stride)) {
                    let mut value = [0.0, 0.0, 0.0, 255.0];
                    for (v, &band) in value.iter_mut().zip(self.bands) {
                        *v = f32::from(p[band]);
                    }
                    *pixel = value;
                }
            } else {
                for (pixel, c) in run.iter_mut().zip(col..) {
                    if let Some(p) = self.read(index, (c - first) as usize, in_block) {
                        *pixel = p;
                    }
                }
            }
            col = run_end;
        }
        Ok(())
    }

    /// Whether every pixel of `block` (without a mask) is valid and
    /// opaque: 8-bit samples, no alpha band, no nodata value a byte can
    /// hold.
    fn every_byte_valid(&self, block: &Block) -> bool {
        block.sample_type == SampleType::U8 && self.alpha.is_none() && self.byte_nodata().is_none()
    }

    /// The nodata value as a byte; `None` without one, or where no byte
    /// can hold it (so that no byte matches it).
    fn byte_nodata(&self) -> Option<u8> {
        self.nodata
            .filter(|v| v.fract() == 0.0 && (0.0..=255.0).contains(v))
            .map(|v| v as u8)
    }

    fn nearest(&mut self, col: f64, row: f64) -> Result<[f32; 4]> {
        self.taps += 1;
        Ok(self.pixel(floor(col), floor(row))?.unwrap_or([0.0; 4]))
    }

    /// GDAL's `mode` (GDAL 3.6 GWKModeThread): each band's most frequent
    /// value among the valid pixels of the window `half` level pixels
    /// either side of (`col`, `row`), every pixel one vote; a tie goes to
    /// the value that reached the count first, scanning rows then columns.
    /// No data when no pixel of the window is valid.
    fn mode(&mut self, col: f64, row: f64, half: (f64, f64)) -> Result<[f32; 4]> {
        let l = self.shape;
        // Outside the level, no data, as for nearest (GDAL's bump below
        // would vote pixel 0 for a centre just left of or above the image,
        // never for one right of or below it).
        if !((0.0..f64::from(l.width)).contains(&col) && (0.0..f64::from(l.height)).contains(&row))
        {
            return Ok([0.0; 4]);
        }
        // [floor(c - h), ceil(c + h)) within the level, never empty
        // inside it, as GDAL rounds the pixel's transformed corners; a
        // window wider than MAX_TAPS votes with every n-th pixel, at most
        // MAX_TAPS of them.
        let window = |c: f64, h: f64, size: u32| {
            let size = i64::from(size);
            let lo = floor(c - h + 1e-10).max(0);
            let mut hi = ceil(c + h - 1e-10).min(size);
            if lo == hi && hi < size {
                hi += 1;
            }
            let stride = ((hi - lo) as usize).div_ceil(MAX_TAPS).max(1);
            (lo..hi).step_by(stride)
        };
        let mut votes = std::mem::take(&mut self.votes);
        votes.clear();
        for y in window(row, half.1, l.height) {
            for x in window(col, half.0, l.width) {
                self.taps += 1;
                votes.extend(self.pixel(x, y)?);
            }
        }
        let mut out = [0.0; 4];
        if !votes.is_empty() {
            for band in 0..self.bands.len() {
                out[band] = most_frequent(&mut self.counts, votes.iter().map(|p| p[band]));
            }
            out[3] = 255.0;
        }
        self.votes = votes;
        Ok(out)
    }

    /// The source pixels (index, weight) along one axis for an output
    /// pixel centred at `c` (level pixel coordinates, pixel `p` covering
    /// `[p, p + 1)`), `scale` output-to-source pixels (at least 1) and
    /// `inverse` its inverse.
    fn taps(method: Resampling, c: f64, scale: f64, inverse: f64, out: &mut Vec<(i64, f64)>) {
        out.clear();
        if is_sparse(method, scale) {
            return Self::sparse_taps(method, c, scale, inverse, out);
        }
        // Distance of pixel `p`'s centre from `c`, in kernel units.
        let distance = |p: i64| ((p as f64 + 0.5 - c) * inverse).abs();
        // One loop per method: a match inside the loop costs as much as
        // the weights.
        match method {
            Resampling::Average => {
                let (from, to) = (c - scale / 2.0, c + scale / 2.0);
                for p in floor(from)..=ceil(to) {
                    let w = to.min(p as f64 + 1.0) - from.max(p as f64);
                    if w > 1e-12 {
                        out.push((p, w));
                    }
                }
            }
            Resampling::Cubic => {
                for p in floor(c - 0.5 - 2.0 * scale)..=ceil(c - 0.5 + 2.0 * scale) {
                    out.push((p, keys(distance(p))));
                }
                // Zero weights trimmed at the ends only: the taps stay
                // consecutive pixels, as `rgb_kernel` reads them (the
                // weight is 0 at distance 1 too, inside a widened kernel).
                let zero = |t: &(i64, f64)| t.1.abs() <= 1e-12;
                let end = out.iter().rposition(|t| !zero(t)).map_or(0, |i| i + 1);
                out.truncate(end);
                let start = out.iter().position(|t| !zero(t)).unwrap_or(0);
                out.drain(..start);
            }
            // Nearest and mode never reach the kernel: bilinear taps.
            Resampling::Bilinear | Resampling::Nearest | Resampling::Mode => {
                out.extend(bilinear_taps(c, scale, inverse));
            }
        }
    }

    /// [`MAX_TAPS`] taps spread evenly over a kernel too wide to read
    /// whole: the pixel under the centre of each of MAX_TAPS equal
    /// stretches of its support, weighted by the kernel at that centre.
    /// The stretches are wider than a pixel, so the pixels are distinct
    /// and in order, but not consecutive.
    fn sparse_taps(
        method: Resampling,
        c: f64,
        scale: f64,
        inverse: f64,
        out: &mut Vec<(i64, f64)>,
    ) {
        let half = half_support(method, scale);
        let stretch = 2.0 * half / MAX_TAPS as f64;
        for k in 0..MAX_TAPS {
            let t = c - half + (k as f64 + 0.5) * stretch;
            let d = ((t - c) * inverse).abs();
            let w = match method {
                Resampling::Average => 1.0,
                Resampling::Cubic => keys(d),
                Resampling::Bilinear | Resampling::Nearest | Resampling::Mode => 1.0 - d,
            };
            out.push((floor(t), w));
        }
    }

    /// A kernel resampling (bilinear, cubic, average) over the valid pixels
    /// under it, weights renormalised over the valid ones; no data when
    /// the valid ones carry less than half the kernel's weight, as GDAL
    /// decides at nodata edges.
    #[inline(never)] // see `warp`: it slows the other methods' loops
    fn kernel(&mut self, col: f64, row: f64, method: Resampling) -> Result<[f32; 4]> {
        let (sx, sy) = self.radius;
        let (mut xs, mut ys) = (
            std::mem::take(&mut self.taps_x),
            std::mem::take(&mut self.taps_y),
        );
        Self::taps(method, col, sx, self.inverse_radius.0, &mut xs);
        Self::taps(method, row, sy, self.inverse_radius.1, &mut ys);
        let result = self.kernel_over(&xs, &ys);
        (self.taps_x, self.taps_y) = (xs, ys);
        result
    }

    /// Bilinear reducing by up to 2 (radius ≤ 2): at most 4 taps per
    /// axis, kept on the stack.
    #[inline]
    fn small_bilinear(&mut self, col: f64, row: f64) -> Result<[f32; 4]> {
        let xs = SmallTaps::bilinear(col, self.radius.0, self.inverse_radius.0);
        let ys = SmallTaps::bilinear(row, self.radius.1, self.inverse_radius.1);
        self.kernel_over(xs.as_slice(), ys.as_slice())
    }

    /// [`Self::small_bilinear`] over pixels of `S` bytes laid out as a
    /// [`PlainLayout`] (`alpha`: the last byte is the alpha band), read
    /// from an `N` × `N` window of one block: the taps past the kernel's
    /// end weigh 0. Where the window leaves the block or the data, the
    /// block has a mask, or (with alpha) a pixel of the window is
    /// transparent, the general path decides.
    #[inline(always)]
    fn plain_bilinear<const N: usize, const S: usize, const L: usize>(
        &mut self,
        col: f64,
        row: f64,
        alpha: bool,
    ) -> Result<[f32; 4]> {
        let (x0, wx) = window_taps::<N>(col, self.radius.0, self.inverse_radius.0);
        let (y0, wy) = window_taps::<N>(row, self.radius.1, self.inverse_radius.1);
        if !self.held.holds(x0, y0) && !self.hold::<N, S>(x0, y0)? {
            return self.small_bilinear(col, row);
        }
        let (index, (bx, by)) = (self.held.index, self.held.origin);
        let block = &self.blocks[index].1;
        let row_bytes = block.width * S;
        let at = (y0 - by) as usize * row_bytes + (x0 - bx) as usize * S;
        match window_kernel::<N, S, L>(&block.data, at, row_bytes, wx, wy, alpha) {
            Some(v) => {
                // The window's pixels, read whether they weigh or not.
                self.taps += (N * N) as u64;
                Ok(match (S, alpha) {
                    (1, _) => [v[0], 0.0, 0.0, 255.0],
                    (2, _) => [v[0], 0.0, 0.0, v[1]],
                    (3, _) => [v[0], v[1], v[2], 255.0],
                    _ => [v[0], v[1], v[2], v[S - 1]],
                })
            }
            None => self.small_bilinear(col, row),
        }
    }

    /// Makes the block holding the `N` × `N` window from (`x0`, `y0`) the
    /// [`Held`] one, if the window lies in one block, inside the data, and
    /// that block's pixels are `S` bytes without a mask.
    #[inline(never)] // once per block a run of pixels enters
    fn hold<const N: usize, const S: usize>(&mut self, x0: i64, y0: i64) -> Result<bool> {
        let far = (x0 + N as i64 - 1, y0 + N as i64 - 1);
        if !(self.data.contains(x0, y0) && self.data.contains(far.0, far.1)) {
            return Ok(false);
        }
        let Some((index, (bx, by))) = self.block_holding((x0, y0), far)? else {
            return Ok(false);
        };
        let block = &self.blocks[index].1;
        if self.masks[index].is_some() || block.bands != S || block.sample_type != SampleType::U8 {
            return Ok(false);
        }
        let (bw, bh) = (block.width as i64, block.rows as i64);
        let reach = N as i64 - 1;
        self.held = Held {
            x: (bx.max(self.data.x.0), (bx + bw).min(self.data.x.1) - reach),
            y: (by.max(self.data.y.0), (by + bh).min(self.data.y.1) - reach),
            index,
            origin: (bx, by),
        };
        Ok(true)
    }

    /// The kernel over taps `xs` × `ys` (level pixel, weight).
    #[inline]
    fn kernel_over(&mut self, xs: &[(i64, f64)], ys: &[(i64, f64)]) -> Result<[f32; 4]> {
        self.taps += (xs.len() * ys.len()) as u64;
        let mut sum = [0f64; 4];
        let (mut weight, mut total) = (0.0, 0.0);
        let mut add = |p: Option<[f32; 4]>, w: f64| {
            total += w;
            if let Some(p) = p {
                for (s, v) in sum.iter_mut().zip(p) {
                    *s += w * f64::from(v);
                }
                weight += w;
            }
        };
        let (x0, x1, y0, y1) = match (xs.first(), xs.last(), ys.first(), ys.last()) {
            (Some(a), Some(b), Some(c), Some(d)) => (a.0, b.0, c.0, d.0),
            _ => (0, -1, 0, -1),
        };
        let inside = self.data.contains(x0, y0) && self.data.contains(x1, y1);
        let one_block = if inside {
            self.block_holding((x0, y0), (x1, y1))?
        } else {
            None
        };
        if let Some((index, (bx, by))) = one_block {
            // Every tap in one block: found once.
            if self.blocks[index].1.sample_type == SampleType::U8 {
                return Ok(self.kernel_u8(index, xs, ys, (bx, by)));
            }
            for &(py, wy) in ys {
                for &(px, wx) in xs {
                    add(
                        self.read(index, (px - bx) as usize, (py - by) as usize),
                        wy * wx,
                    );
                }
            }
        } else {
            for &(py, wy) in ys {
                for &(px, wx) in xs {
                    add(self.pixel(px, py)?, wy * wx);
                }
            }
        }
        Ok(normalise(sum, weight, total))
    }

    /// [`Self::kernel`] over taps that all fall in block `index` of 8-bit
    /// samples, whose top-left pixel is `origin` in the level: the same
    /// rules as [`Self::read`] (mask, nodata on every band, alpha 0), read
    /// straight from the bytes. Most imagery takes this path, and the
    /// general one's per-tap sample-type dispatch and `Option`s cost it
    /// four times as much.
    fn kernel_u8(
        &self,
        index: usize,
        xs: &[(i64, f64)],
        ys: &[(i64, f64)],
        origin: (i64, i64),
    ) -> [f32; 4] {
        let block = &self.blocks[index].1;
        let mask = self.masks[index].as_deref();
        let (data, stride, n) = (&block.data[..], block.bands, self.bands.len());
        let nodata = self.byte_nodata();
        let plain = match (self.bands, mask, nodata, self.alpha) {
            // Spread taps are not a run of pixels, as `rgb_kernel` reads.
            ([b0, b1, b2], None, None, None) if !self.sparse => Some([*b0, *b1, *b2]),
            _ => None,
        };
        if let Some([b0, b1, b2]) = plain {
            let width = block.width;
            // Plain RGB compiled on its own: constant offsets, no bounds
            // check per sample.
            return if stride == 3 && (b0, b1, b2) == (0, 1, 2) {
                rgb_kernel(data, width, 3, [0, 1, 2], xs, ys, origin)
            } else {
                rgb_kernel(data, width, stride, [b0, b1, b2], xs, ys, origin)
            };
        }
        let mut sum = [0f64; 4];
        let (mut weight, mut total) = (0.0, 0.0);
        for &(py, wy) in ys {
            let y = (py - origin.1) as usize;
            for &(px, wx) in xs {
                let w = wy * wx;
                total += w;
                let x = (px - origin.0) as usize;
                if mask.is_some_and(|m| m.data[y * m.width + x] == 0) {
                    continue;
                }
                let i = y * block.width + x;
                let p = &data[i * stride..(i + 1) * stride];
                if nodata.is_some_and(|v| self.bands.iter().all(|&b| p[b] == v)) {
                    continue;
                }
                let alpha = self.alpha.map_or(255, |a| p[a]);
                if alpha == 0 {
                    continue;
                }
                for (s, &b) in sum[..n].iter_mut().zip(self.bands) {
                    *s += w * f64::from(p[b]);
                }
                sum[3] += w * f64::from(alpha);
                weight += w;
            }
        }
        normalise(sum, weight, total)
    }
}

/// The kernel over taps `xs` × `ys` (level pixel, weight; neither empty)
/// of three bands `bands` of an 8-bit block `width` pixels wide, pixels
/// `stride` bytes apart, whose top-left pixel is `origin` in the level,
/// every tap valid: the tight loop of RGB imagery. The kernel is
/// separable: each row's taps are summed with the x weights, then the
/// rows with their y weights; f32 sums of bytes are exact enough for
/// 8-bit output, and the three bands fit one vector register.
#[inline(always)] // into each of its two calls, specialised there
fn rgb_kernel(
    data: &[u8],
    width: usize,
    stride: usize,
    bands: [usize; 3],
    xs: &[(i64, f64)],
    ys: &[(i64, f64)],
    origin: (i64, i64),
) -> [f32; 4] {
    debug_assert!(
        consecutive(xs) && consecutive(ys),
        "taps are consecutive pixels"
    );
    let first = (xs[0].0 - origin.0) as usize * stride;
    let span = xs.len() * stride;
    let (mut sum, mut weight_y) = ([0f32; 3], 0f32);
    for &(py, wy) in ys {
        let at = (py - origin.1) as usize * width * stride + first;
        let mut across = [0f32; 3];
        for (p, &(_, wx)) in data[at..at + span].chunks_exact(stride).zip(xs) {
            let wx = wx as f32;
            for (a, &b) in across.iter_mut().zip(&bands) {
                *a += wx * f32::from(p[b]);
            }
        }
        let wy = wy as f32;
        for (s, a) in sum.iter_mut().zip(across) {
            *s += wy * a;
        }
        weight_y += wy;
    }
    let inverse = 1.0 / (weight_y * xs.iter().map(|t| t.1 as f32).sum::<f32>());
    [sum[0] * inverse, sum[1] * inverse, sum[2] * inverse, 255.0]
}

/// Bilinear taps along one axis as a window of `N` pixels from the first
/// of [`bilinear_taps`]: its first pixel and the `N` weights (0 past the
/// kernel's last pixel, which is at most `N - 1` on). Weights are f32,
/// from the f64 distance of the first tap: within 1e-6 of the f64 path's.
#[inline(always)]
fn window_taps<const N: usize>(c: f64, scale: f64, inverse: f64) -> (i64, [f32; N]) {
    let first = floor(c - 0.5 - scale) + 1;
    let d0 = ((first as f64 + 0.5 - c) * inverse) as f32;
    let inverse = inverse as f32;
    let mut weights = [0f32; N];
    for (k, w) in weights.iter_mut().enumerate() {
        *w = (1.0 - (d0 + k as f32 * inverse).abs()).max(0.0);
    }
    (first, weights)
}

/// The normalised kernel `wx` × `wy` over the `N` × `N` pixels of `S`
/// bytes from byte `at` of 8-bit `data`, rows `row_bytes` apart; `None`
/// where the window's rows, read `L` bytes each (`L` ≥ `N·S`, a vector's
/// worth), are not inside `data` or, with `alpha`, one of its pixels is
/// transparent (the rules of [`Sampler::read`] drop it). Rows are summed
/// first ([`weighted_rows`]), then each pixel's column with its x weight.
#[inline(always)]
fn window_kernel<const N: usize, const S: usize, const L: usize>(
    data: &[u8],
    at: usize,
    row_bytes: usize,
    wx: [f32; N],
    wy: [f32; N],
    alpha: bool,
) -> Option<[f32; S]> {
    debug_assert!(N * S <= L && (L == 8 || L == 16));
    let window = data.get(at..at + (N - 1) * row_bytes + L)?;
    if alpha {
        for j in 0..N {
            let bytes = &window[j * row_bytes..j * row_bytes + N * S];
            if bytes.iter().skip(S - 1).step_by(S).any(|&a| a == 0) {
                return None;
            }
        }
    }
    let columns = weighted_rows::<N, L>(window, row_bytes, wy)?;
    let mut sum = [0f32; S];
    for (pixel, &w) in columns.chunks_exact(S).zip(&wx) {
        for (s, v) in sum.iter_mut().zip(pixel) {
            *s += w * v;
        }
    }
    let inverse = 1.0 / (wx.iter().sum::<f32>() * wy.iter().sum::<f32>());
    Some(sum.map(|v| v * inverse))
}

/// Σ_j `wy[j]` · byte `i` of row `j` of `window` (rows `row_bytes` apart),
/// for each of the first `L` (8 or 16) bytes of a row, with SSE2, which
/// every x86-64 CPU has: a row is one load, widened to four f32 vectors,
/// multiplied and added. Written portably, over pixels or over a row's
/// bytes, the compiler assembled each row byte by byte (a scalar
/// conversion and shuffles per byte) and the kernel was no faster than
/// the general path's.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn weighted_rows<const N: usize, const L: usize>(
    window: &[u8],
    row_bytes: usize,
    wy: [f32; N],
) -> Option<[f32; L]> {
    use std::arch::x86_64::*;
    let mut rows = [<__m128i as bytemuck::Zeroable>::zeroed(); N];
    for (j, row) in rows.iter_mut().enumerate() {
        let bytes: &[u8; L] = window[j * row_bytes..].first_chunk()?;
        let mut padded = [0u8; 16];
        padded[..L].copy_from_slice(bytes);
        *row = bytemuck::cast(padded);
    }
    // SAFETY: these intrinsics need only SSE and SSE2, which the x86-64
    // baseline every build targets includes, and touch no memory.
    let sums = unsafe {
        let zero = _mm_setzero_si128();
        let mut sums = [_mm_setzero_ps(); 4];
        for (&row, &w) in rows.iter().zip(&wy) {
            let (low, high) = (_mm_unpacklo_epi8(row, zero), _mm_unpackhi_epi8(row, zero));
            let lanes = [
                _mm_unpacklo_epi16(low, zero),
                _mm_unpackhi_epi16(low, zero),
                _mm_unpacklo_epi16(high, zero),
                _mm_unpackhi_epi16(high, zero),
            ];
            let w = _mm_set1_ps(w);
            for (sum, lane) in sums.iter_mut().zip(lanes).take(L / 4) {
                *sum = _mm_add_ps(*sum, _mm_mul_ps(_mm_cvtepi32_ps(lane), w));
            }
        }
        sums
    };
    let mut out = [0f32; L];
    for (o, sum) in out.chunks_exact_mut(4).zip(sums) {
        o.copy_from_slice(&bytemuck::cast::<__m128, [f32; 4]>(sum));
    }
    Some(out)
}

/// [`weighted_rows`] elsewhere.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn weighted_rows<const N: usize, const L: usize>(
    window: &[u8],
    row_bytes: usize,
    wy: [f32; N],
) -> Option<[f32; L]> {
    let mut out = [0f32; L];
    for (j, &w) in wy.iter().enumerate() {
        let bytes: &[u8; L] = window.get(j * row_bytes..)?.first_chunk()?;
        for (o, &byte) in out.iter_mut().zip(bytes) {
            *o += w * f32::from(byte);
        }
    }
    Some(out)
}

/// Keys' cubic convolution weight (1981, a = -0.5, as GDAL's cubic) at
/// distance `d` in kernel units.
fn keys(d: f64) -> f64 {
    if d < 1.0 {
        (1.5 * d - 2.5) * d * d + 1.0
    } else if d < 2.0 {
        ((-0.5 * d + 2.5) * d - 4.0) * d + 2.0
    } else {
        0.0
    }
}

/// Whether taps are consecutive pixels, as [`Sampler::taps`] makes them.
fn consecutive(taps: &[(i64, f64)]) -> bool {
    taps.windows(2).all(|t| t[1].0 == t[0].0 + 1)
}

/// The first and last pixel under a bilinear kernel of radius `scale`
/// centred at `c`.
#[inline]
fn bilinear_span(c: f64, scale: f64) -> (i64, i64) {
    (floor(c - 0.5 - scale) + 1, ceil(c - 0.5 + scale) - 1)
}

/// Bilinear taps along one axis (see [`Sampler::taps`]): the weight is
/// positive exactly for the pixel centres strictly within `scale` of `c`,
/// from the first after c - scale to the last before c + scale (at most
/// 2·scale + 1 of them), no test per tap.
fn bilinear_taps(c: f64, scale: f64, inverse: f64) -> impl Iterator<Item = (i64, f64)> {
    let (first, last) = bilinear_span(c, scale);
    (first..=last).map(move |p| (p, bilinear_weight(p, c, inverse)))
}

/// The bilinear weight of pixel `p` for a kernel centred at `c` whose
/// radius is `1 / inverse`.
#[inline]
fn bilinear_weight(p: i64, c: f64, inverse: f64) -> f64 {
    1.0 - ((p as f64 + 0.5 - c) * inverse).abs()
}

/// Up to four kernel taps on the stack: a bilinear kernel of radius 2 or
/// less.
struct SmallTaps {
    taps: [(i64, f64); 4],
    len: usize,
}

impl SmallTaps {
    /// [`bilinear_taps`], all four weights computed without a branch (the
    /// ones past `len` are not used).
    #[inline]
    fn bilinear(c: f64, scale: f64, inverse: f64) -> Self {
        debug_assert!(scale <= 2.0);
        let (first, last) = bilinear_span(c, scale);
        let mut taps = [(0, 0.0); 4];
        for (k, tap) in (0..).zip(&mut taps) {
            let p = first + k;
            *tap = (p, bilinear_weight(p, c, inverse));
        }
        SmallTaps {
            taps,
            len: (last - first + 1).clamp(0, 4) as usize,
        }
    }

    fn as_slice(&self) -> &[(i64, f64)] {
        &self.taps[..self.len]
    }
}

/// The weighted mean of the valid taps, or no data when they carry less
/// than half the kernel's weight (GDAL's rule at nodata edges).
fn normalise(sum: [f64; 4], weight: f64, total: f64) -> [f32; 4] {
    if weight.abs() < 1e-9 || weight < 0.5 * total {
        return [0.0; 4];
    }
    let inverse = 1.0 / weight;
    sum.map(|v| (v * inverse) as f32)
}

/// Sample `index` of a block as f32 (through f64, which holds every
/// sample type exactly: one rounding, as a direct cast).
#[inline]
pub(crate) fn sample(block: &Block, index: usize) -> f32 {
    block.value(index) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 4 × 4 8-bit image of `bands` bands in EPSG:3857 covering x 0..4,
    /// y 0..4, in square blocks of `block` pixels; sample `b` of pixel `k`
    /// (row by row) is `k · bands + b + 1`.
    /// With `noise`, 64 × 64 in 32-pixel blocks instead, every sample a
    /// random byte; with an alpha band (2 or 4 bands), one pixel in 16
    /// transparent.
    struct Tiny {
        levels: Vec<LevelShape>,
        bands: usize,
        nodata: Option<f64>,
        noise: bool,
    }

    impl Tiny {
        fn new(bands: usize) -> Self {
            Self::blocks(bands, 4, None)
        }

        fn blocks(bands: usize, block: u32, nodata: Option<f64>) -> Self {
            let shape = LevelShape {
                width: 4,
                height: 4,
                block_width: block,
                block_height: block,
            };
            Tiny {
                levels: vec![shape],
                bands,
                nodata,
                noise: false,
            }
        }

        fn noise(bands: usize) -> Self {
            let shape = LevelShape {
                width: 64,
                height: 64,
                block_width: 32,
                block_height: 32,
            };
            Tiny {
                levels: vec![shape],
                bands,
                nodata: None,
                noise: true,
            }
        }

        /// Block (`col`, `row`) of [`Tiny::noise`].
        fn noise_block(&self, col: u32, row: u32) -> Vec<u8> {
            let mut random = crate::xorshift::XorShift(u64::from(col * 7 + row * 131 + 1));
            let mut data: Vec<u8> = (0..32 * 32 * self.bands)
                .map(|_| random.next() as u8)
                .collect();
            if alpha_band(self).is_some() {
                for pixel in data.chunks_exact_mut(self.bands) {
                    let alpha = &mut pixel[self.bands - 1];
                    *alpha = if *alpha % 16 == 0 { 0 } else { *alpha | 1 };
                }
            }
            data
        }
    }

    impl RasterSource for Tiny {
        fn levels(&self) -> &[LevelShape] {
            &self.levels
        }
        fn bands(&self) -> usize {
            self.bands
        }
        fn sample_type(&self) -> SampleType {
            SampleType::U8
        }
        fn nodata(&self) -> Option<f64> {
            self.nodata
        }
        fn geotransform(&self) -> Option<[f64; 6]> {
            Some([0.0, 1.0, 0.0, f64::from(self.levels[0].height), 0.0, -1.0])
        }
        fn epsg(&self) -> Option<u32> {
            Some(3857)
        }
        fn read_block(&self, _: usize, col: u32, row: u32) -> Result<Arc<Block>> {
            let size = self.levels[0].block_width as usize;
            let (x0, y0) = (col as usize * size, row as usize * size);
            let data = if self.noise {
                self.noise_block(col, row)
            } else {
                let mut data = Vec::new();
                for y in y0..y0 + size {
                    for x in x0..x0 + size {
                        let k = y * 4 + x;
                        data.extend((0..self.bands).map(|b| (k * self.bands + b + 1) as u8));
                    }
                }
                data
            };
            Ok(Arc::new(Block {
                width: size,
                rows: size,
                bands: self.bands,
                sample_type: SampleType::U8,
                data,
            }))
        }
        fn read_mask_block(&self, _: usize, _: u32, _: u32) -> Result<Option<Arc<Block>>> {
            Ok(None)
        }
    }

    /// [`Sampler::plain_bilinear`] with the window and pixel size of
    /// `bands` bands (grey, grey + alpha, RGB, RGBA).
    fn plain<const N: usize, const L: usize>(s: &mut Sampler, c: f64, r: f64) -> [f32; 4] {
        match s.source.bands() {
            1 => s.plain_bilinear::<N, 1, L>(c, r, false),
            2 => s.plain_bilinear::<N, 2, L>(c, r, true),
            3 => s.plain_bilinear::<N, 3, L>(c, r, false),
            _ => s.plain_bilinear::<N, 4, L>(c, r, true),
        }
        .unwrap()
    }

    #[test]
    fn the_plain_bilinear_path_is_within_a_level_of_the_general_one() {
        // Issue 13: the 8-bit path (f32 weights, SSE2 sums of whole rows)
        // against the general one (f64 weights, tap by tap) at random
        // positions in random bytes, inside blocks, across them, over the
        // edges and over transparent pixels: they agree to a hundredth of
        // a level (measured: a few thousandths), so the bytes styling makes
        // of them differ by at most 1 (a value at a rounding boundary).
        let mut random = crate::xorshift::XorShift(2154);
        let mut uniform =
            |lo: f64, hi: f64| lo + (hi - lo) * (random.next() >> 11) as f64 / 2f64.powi(53);
        for bands in 1..=4 {
            let source = Tiny::noise(bands);
            let shown: &[usize] = if bands < 3 { &[0] } else { &[0, 1, 2] };
            assert!(PlainLayout::of(&source, shown).is_some(), "{bands} bands");
            let data = DataWindow::of(&source, 0);
            for radius in [(1.0, 1.0), (1.3, 1.7), (2.0, 2.0), (1.0, 2.0)] {
                let mut fast = Sampler::new(&source, 0, shown, radius, false, data);
                let mut general = Sampler::new(&source, 0, shown, radius, false, data);
                for _ in 0..4000 {
                    let (c, r) = (uniform(-3.0, 67.0), uniform(-3.0, 67.0));
                    let expected = general.small_bilinear(c, r).unwrap();
                    let actual = if radius == (1.0, 1.0) {
                        plain::<2, 8>(&mut fast, c, r)
                    } else {
                        plain::<4, 16>(&mut fast, c, r)
                    };
                    let byte = |v: f32| (v + 0.5).clamp(0.0, 255.0) as u8;
                    for (a, e) in actual.iter().zip(expected) {
                        assert!(
                            (a - e).abs() < 0.01 && byte(*a).abs_diff(byte(e)) <= 1,
                            "{bands} bands, radius {radius:?} at ({c}, {r}): {actual:?} against {expected:?}"
                        );
                    }
                }
                // The plain path read from a block of its own, not only
                // through the general one.
                assert!(fast.held.x.0 < fast.held.x.1, "{bands} bands, {radius:?}");
            }
        }
    }

    #[test]
    fn a_request_on_the_image_grid_copies_its_pixels_band_by_band() {
        // Output pixel (i, j) on level pixel (i + 1, j + 2): x 1..3, y 0..2.
        let crs = Crs::from_epsg(3857).unwrap();
        for method in [Resampling::Nearest, Resampling::Bilinear, Resampling::Cubic] {
            let request = Request {
                bbox: &Bbox::new(Crs::shared(crs.epsg).unwrap(), [1.0, 0.0, 3.0, 2.0]).unwrap(),
                width: 2,
                height: 2,
                resampling: method,
                deadline: Deadline::NONE,
            };
            for bands in [vec![0, 1, 2], vec![2, 0]] {
                let warped = warp(&Tiny::new(3), &crs, &request, &bands).unwrap();
                for (k, pixel) in warped.pixels.iter().enumerate() {
                    let source = (k / 2 + 2) * 4 + k % 2 + 1;
                    let mut expected = [0.0, 0.0, 0.0, 255.0];
                    for (e, &b) in expected.iter_mut().zip(&bands) {
                        *e = (source * 3 + b + 1) as f32;
                    }
                    assert_eq!(*pixel, expected, "{method:?}, bands {bands:?}, pixel {k}");
                }
            }
        }
    }

    #[test]
    fn a_copy_across_blocks_and_off_the_image_keeps_reads_rules() {
        // Output pixel (i, j) of [-1, -1, 3, 3] on level pixel (i - 1,
        // j + 1): a column left of the image and a row below it stay
        // transparent; 2 × 2 blocks; a byte nodata (5) sends the copy
        // through `read`, which drops the grey pixel worth 5 (level
        // pixel 4) and keeps RGB pixels with a 5 in one band only.
        let crs = Crs::from_epsg(3857).unwrap();
        let request = Request {
            bbox: &Bbox::new(Crs::shared(crs.epsg).unwrap(), [-1.0, -1.0, 3.0, 3.0]).unwrap(),
            width: 4,
            height: 4,
            resampling: Resampling::Bilinear,
            deadline: Deadline::NONE,
        };
        for (bands, nodata) in [(3, None), (3, Some(5.0)), (1, Some(5.0))] {
            let source = Tiny::blocks(bands, 2, nodata);
            let chosen: Vec<usize> = (0..bands).collect();
            let warped = warp(&source, &crs, &request, &chosen).unwrap();
            for (k, pixel) in warped.pixels.iter().enumerate() {
                let (i, j) = (k % 4, k / 4);
                let mut expected = [0.0; 4];
                if i >= 1 && j <= 2 {
                    let p = (j + 1) * 4 + i - 1;
                    expected[3] = 255.0;
                    for (b, e) in expected.iter_mut().enumerate().take(bands) {
                        *e = (p * bands + b + 1) as f32;
                    }
                    if bands == 1 && nodata == Some(f64::from(expected[0])) {
                        expected = [0.0; 4];
                    }
                }
                assert_eq!(
                    *pixel, expected,
                    "{bands} bands, nodata {nodata:?}, pixel ({i}, {j})"
                );
            }
        }
    }

    #[test]
    fn kernel_taps_are_consecutive_pixels_even_where_a_weight_is_zero() {
        // Keys' cubic weight is 0 at distance 1: inside a kernel widened by
        // 2 (pixels 29 and 33 around 31.5) or by 1.5 (pixel 2 around 4.0).
        let mut taps = Vec::new();
        Sampler::taps(Resampling::Cubic, 31.5, 2.0, 1.0 / 2.0, &mut taps);
        let pixels: Vec<i64> = taps.iter().map(|t| t.0).collect();
        assert_eq!(pixels, (28..=34).collect::<Vec<_>>());
        assert_eq!(taps[1].1, 0.0);
        assert_eq!(taps[5].1, 0.0);
        for (method, c, scale) in [
            (Resampling::Cubic, 4.0, 1.5),
            (Resampling::Cubic, 5.2, 1.0),
            (Resampling::Average, 10.3, 2.5),
            (Resampling::Bilinear, 7.25, 1.66),
        ] {
            Sampler::taps(method, c, scale, 1.0 / scale, &mut taps);
            assert!(
                consecutive(&taps),
                "{method:?} at {c}, scale {scale}: {taps:?}"
            );
            let nonzero = |t: Option<&(i64, f64)>| t.is_some_and(|t| t.1.abs() > 1e-12);
            assert!(nonzero(taps.first()) && nonzero(taps.last()), "{taps:?}");
        }
    }

    #[test]
    fn a_kernel_wider_than_max_taps_reads_spread_pixels_in_order() {
        let mut taps = Vec::new();
        for (method, scale) in [
            (Resampling::Bilinear, 100.0),
            (Resampling::Cubic, 2.5),
            (Resampling::Average, 1e6),
        ] {
            Sampler::taps(method, 5000.5, scale, 1.0 / scale, &mut taps);
            assert_eq!(taps.len(), MAX_TAPS, "{method:?}");
            let reach = half_support(method, scale);
            assert!(
                taps.windows(2).all(|t| t[1].0 > t[0].0)
                    && taps
                        .iter()
                        .all(|t| (t.0 as f64 + 0.5 - 5000.5).abs() <= reach + 1.0)
                    && taps
                        .iter()
                        .all(|t| t.1 > 0.0 || method == Resampling::Cubic),
                "{method:?} {taps:?}"
            );
            // Symmetric about the centre, as the kernel is.
            let sum_left: f64 = taps[..MAX_TAPS / 2].iter().map(|t| t.1).sum();
            let sum_right: f64 = taps[MAX_TAPS / 2..].iter().map(|t| t.1).sum();
            assert!((sum_left - sum_right).abs() < 1e-9, "{method:?} {taps:?}");
        }
    }

    #[test]
    fn a_tile_far_coarser_than_the_image_reads_a_bounded_number_of_pixels() {
        // A 4 × 4 image in a request a million times wider: the kernels of
        // the few output pixels around it (5 × 5 for cubic, whose kernel
        // reaches two output pixels away) meet it, and every other is
        // skipped.
        let crs = Crs::from_epsg(3857).unwrap();
        for resampling in [
            Resampling::Nearest,
            Resampling::Bilinear,
            Resampling::Cubic,
            Resampling::Average,
            Resampling::Mode,
        ] {
            let request = Request {
                bbox: &Bbox::new(Crs::shared(crs.epsg).unwrap(), [-4e6, -4e6, 4e6, 4e6]).unwrap(),
                width: 64,
                height: 64,
                resampling,
                deadline: Deadline::NONE,
            };
            let warped = warp(&Tiny::new(1), &crs, &request, &[0]).unwrap();
            assert!(
                warped.work.taps <= 25 * (MAX_TAPS * MAX_TAPS) as u64,
                "{resampling:?}: {:?}",
                warped.work
            );
        }
    }

    #[test]
    fn longitudes_wrap_onto_images_across_the_antimeridian_or_in_0_to_360() {
        let wgs84 = Crs::from_epsg(4326).unwrap();
        // 0–360° at 1°: -10° is column 350; 10° stays.
        let global = Wrap::of(&wgs84, &[0.0, 1.0, 0.0, 90.0, 0.0, -1.0], 360.0).unwrap();
        assert_eq!(global.onto_image(-10.0), 350.0);
        assert_eq!(global.onto_image(10.0), 10.0);
        // 170°–190°: -178° is 182°; 175° and a point far from both stay.
        let dateline = Wrap::of(&wgs84, &[170.0, 0.1, 0.0, -10.0, 0.0, -0.1], 200.0).unwrap();
        assert_eq!(dateline.onto_image(-178.0), 182.0);
        assert_eq!(dateline.onto_image(175.0), 175.0);
        assert_eq!(dateline.onto_image(0.0), 0.0);
        // An image within -180…180 needs nothing, nor one in metres of a
        // CRS that does not wrap.
        assert!(Wrap::of(&wgs84, &[-10.0, 0.1, 0.0, 10.0, 0.0, -0.1], 200.0).is_none());
        let l93 = Crs::from_epsg(2154).unwrap();
        assert!(Wrap::of(&l93, &[1e7, 1.0, 0.0, 7e6, 0.0, -1.0], 1e3).is_none());
    }

    #[test]
    fn a_render_past_its_deadline_is_abandoned() {
        let crs = Crs::from_epsg(3857).unwrap();
        let request = Request {
            bbox: &Bbox::new(Crs::shared(crs.epsg).unwrap(), [0.0, 0.0, 4.0, 4.0]).unwrap(),
            width: 8,
            height: 8,
            resampling: Resampling::Bilinear,
            deadline: Deadline::after(std::time::Duration::ZERO),
        };
        let error = warp(&Tiny::new(1), &crs, &request, &[0]).unwrap_err();
        assert_eq!(error.kind(), crate::ErrorKind::Timeout);
    }

    #[test]
    fn every_method_leaves_the_same_margin_around_the_image() {
        // 12 × 12 half-pixels over x, y -1..5: the outer two on each side
        // are centred outside the image.
        let crs = Crs::from_epsg(3857).unwrap();
        for resampling in [Resampling::Nearest, Resampling::Bilinear, Resampling::Mode] {
            let request = Request {
                bbox: &Bbox::new(Crs::shared(crs.epsg).unwrap(), [-1.0, -1.0, 5.0, 5.0]).unwrap(),
                width: 12,
                height: 12,
                resampling,
                deadline: Deadline::NONE,
            };
            let warped = warp(&Tiny::new(1), &crs, &request, &[0]).unwrap();
            let opaque = |i: usize, j: usize| warped.pixels[j * 12 + i][3] > 0.0;
            for k in 0..12 {
                let outside = !(2..10).contains(&k);
                for (i, j) in [(k, 5), (5, k)] {
                    assert_eq!(opaque(i, j), !outside, "{resampling:?} at ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn mode_ties_go_to_the_value_that_reached_the_count_first() {
        let mut counts = FxHashMap::default();
        let mut mode = |values: &[f32]| most_frequent(&mut counts, values.iter().copied());
        assert_eq!(mode(&[1.0, 2.0, 2.0, 1.0]), 2.0);
        assert_eq!(mode(&[1.0, 2.0]), 1.0);
        assert_eq!(mode(&[3.0, 3.0, 1.0, 1.0, 1.0]), 1.0);
        assert_eq!(mode(&[1.0, 0.0, -0.0]), 0.0);
        assert_eq!(mode(&[7.0]), 7.0);
    }

    const HALF: f64 = 20_037_508.342_789_244;

    /// Every interpolated pixel against its exact transform: the largest
    /// error (source pixels) and the grid step used.
    fn interpolation_error(bbox: [f64; 4], source: &Crs, gt: [f64; 6]) -> (f64, usize) {
        let mercator = Crs::from_epsg(3857).unwrap();
        let request = Request {
            bbox: &Bbox::new(Crs::shared(mercator.epsg).unwrap(), bbox).unwrap(),
            width: 256,
            height: 256,
            resampling: Resampling::Bilinear,
            deadline: Deadline::NONE,
        };
        let (coords, step) = source_coordinates(&request, source, &gt, None, (1e9, 1e9)).unwrap();
        let res = (bbox[2] - bbox[0]) / 256.0;
        let mut exact: Vec<(f64, f64)> = (0..256 * 256)
            .map(|k| {
                let (i, j) = ((k % 256) as f64 + 0.5, (k / 256) as f64 + 0.5);
                (bbox[0] + i * res, bbox[3] - j * res)
            })
            .collect();
        Transform::new(&mercator, source).apply(&mut exact);
        let worst = coords
            .iter()
            .zip(exact)
            .map(|(&(c, r), (x, y))| {
                let (ec, er) = ((x - gt[0]) / gt[1], (y - gt[3]) / gt[5]);
                (c - ec).abs().max((r - er).abs())
            })
            .fold(0.0, f64::max);
        (worst, step)
    }

    #[test]
    fn a_nearly_affine_transform_keeps_the_coarse_grid() {
        // A z16 tile over Lyon from a 0.5 m Lambert-93 image.
        let l93 = Crs::from_epsg(2154).unwrap();
        let size = 2.0 * HALF / 65536.0;
        let bbox = [
            -HALF + 33650.0 * size,
            HALF - 23378.0 * size,
            -HALF + 33651.0 * size,
            HALF - 23377.0 * size,
        ];
        let gt = [840_000.0, 0.5, 0.0, 6_525_000.0, 0.0, -0.5];
        let (error, step) = interpolation_error(bbox, &l93, gt);
        assert_eq!(step, GRID_STEP);
        assert!(error < MAX_ERROR, "{error}");
    }

    #[test]
    fn a_polar_tile_refines_the_grid_until_the_error_is_bounded() {
        // WebMercatorQuad z1 tile (0, 0) from a 0.9° world image: latitude
        // is far from linear in y up there.
        let wgs84 = Crs::from_epsg(4326).unwrap();
        let gt = [-180.0, 0.9, 0.0, 90.0, 0.0, -0.9];
        let (error, step) = interpolation_error([-HALF, 0.0, 0.0, HALF], &wgs84, gt);
        assert!(step < GRID_STEP, "step {step}");
        // The bound is checked at cell centres; elsewhere in a cell the
        // error stays of the same order.
        assert!(error < 2.0 * MAX_ERROR, "{error}");
    }
}
