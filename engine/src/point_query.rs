//! The values of a raster layer at a point, for WMS GetFeatureInfo: the
//! source's own band values (raw, before styling) of the full-resolution
//! pixel holding the point, as `gdallocationinfo -valonly` reports them.
//!
//! Read from the full resolution, not from the level a map at the
//! request's scale would use: GetFeatureInfo asks what the data says
//! there, and an overview's value is an average the data never held. The
//! cost is one block read (cached like a render's), whatever the scale.
//!
//! A pixel is empty (`None`) by the warp's rules, so that a point the map
//! shows transparent reports nothing: outside the image or its data
//! blocks, masked, every band at nodata, a NaN band, or alpha 0.

use crate::crs::{Crs, Transform};
use crate::error::{Error, Result};
use crate::raster::RasterLayer;
use crate::source::RasterSource;
use crate::warp::alpha_band;

impl RasterLayer {
    /// The band values (all bands, raw) of the full-resolution pixel
    /// holding (`x`, `y`) in `crs` (easting first); `None` where the layer
    /// has no data there.
    pub fn values_at(&self, crs: &Crs, x: f64, y: f64) -> Result<Option<Vec<f64>>> {
        if !(x.is_finite() && y.is_finite()) {
            return Err(Error::invalid(format!(
                "point ({x}, {y}) is not a finite coordinate"
            )));
        }
        let source = self.source.as_ref();
        let Some(gt) = source.geotransform() else {
            return Ok(None);
        };
        let mut point = [(x, y)];
        Transform::new(crs, &self.crs).apply(&mut point);
        let (sx, sy) = point[0];
        if !(sx.is_finite() && sy.is_finite()) {
            return Ok(None);
        }
        // A CRS that wraps at the antimeridian may place the point a turn
        // away from the image (a 0°–360° grid asked at -10°).
        let turn = self.crs.world_width().unwrap_or(0.0);
        let full = source.levels()[0];
        for shift in [0.0, turn, -turn] {
            if let Some((col, row)) = pixel_of(&gt, sx + shift, sy, full.width, full.height) {
                return pixel_values(source, col, row);
            }
            if turn == 0.0 {
                break;
            }
        }
        Ok(None)
    }
}

/// The pixel (column, row) of a geotransform holding (`x`, `y`), if
/// inside a `width × height` image.
fn pixel_of(gt: &[f64; 6], x: f64, y: f64, width: u32, height: u32) -> Option<(u32, u32)> {
    let det = gt[1] * gt[5] - gt[2] * gt[4];
    if det == 0.0 || !det.is_finite() {
        return None;
    }
    let (dx, dy) = (x - gt[0], y - gt[3]);
    let col = ((gt[5] * dx - gt[2] * dy) / det).floor();
    let row = ((gt[1] * dy - gt[4] * dx) / det).floor();
    let inside = (0.0..f64::from(width)).contains(&col) && (0.0..f64::from(height)).contains(&row);
    inside.then_some((col as u32, row as u32))
}

/// The band values of full-resolution pixel (`col`, `row`), `None` where
/// it is empty by the warp's rules.
fn pixel_values(source: &dyn RasterSource, col: u32, row: u32) -> Result<Option<Vec<f64>>> {
    let shape = source.levels()[0];
    let (block_col, block_row) = (col / shape.block_width, row / shape.block_height);
    if let Some([c0, r0, c1, r1]) = source.data_blocks(0) {
        if !(c0..=c1).contains(&block_col) || !(r0..=r1).contains(&block_row) {
            return Ok(None);
        }
    }
    let (x, y) = (
        (col % shape.block_width) as usize,
        (row % shape.block_height) as usize,
    );
    if let Some(mask) = source.read_mask_block(0, block_col, block_row)? {
        if mask.data.get(y * mask.width + x).is_none_or(|&m| m == 0) {
            return Ok(None);
        }
    }
    let block = source.read_block(0, block_col, block_row)?;
    let bands = block.bands;
    let end = (y * block.width + x + 1) * bands;
    if x >= block.width || y >= block.rows || end * block.sample_type.size() > block.data.len() {
        return Err(Error::Corrupt {
            path: "raster source".into(),
            format: "decoded block",
            detail: format!(
                "block ({block_col}, {block_row}) of level 0 is {}×{} pixels of {bands} bands: no pixel ({x}, {y})",
                block.width, block.rows
            ),
        });
    }
    let values: Vec<f64> = (end - bands..end).map(|i| block.value(i)).collect();
    let alpha = alpha_band(source);
    let data = || {
        values
            .iter()
            .enumerate()
            .filter(move |&(band, _)| Some(band) != alpha)
    };
    // Compared as f32, as the warp compares them.
    let nodata = source
        .nodata()
        .is_some_and(|nodata| data().all(|(_, &v)| v as f32 == nodata as f32));
    let nan = data().any(|(_, v)| v.is_nan());
    let transparent = alpha.is_some_and(|a| values[a] == 0.0);
    Ok((!(nodata || nan || transparent)).then_some(values))
}
