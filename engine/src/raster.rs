//! A raster layer: a raster source (a GeoTIFF, a GeoPackage tile pyramid)
//! with its CRS, rendered into any bbox of any CRS through the warp.
//! Opened once; renders share the block cache.

use std::path::Path;
use std::sync::Arc;

use crate::bbox::Bbox;
use crate::crs::{Crs, Transform};
use crate::error::{Error, Result};
use crate::metadata::{valid_bounds, TileSetMetadata};
use crate::raster_style::{Style, StyleSpec};
use crate::source::cog::Cog;
use crate::source::{RasterSource, SourceContext};
use crate::tile::TileFormat;
use crate::warp::{warp, Request, Resampling, Rgba, Warped};

/// WebMercatorQuad's cell size at zoom 0, metres.
const WEB_MERCATOR_Z0_CELL: f64 = 156_543.033_928_041;

/// A raster source ready to render.
pub struct RasterLayer {
    pub source: Arc<dyn RasterSource>,
    pub crs: Crs,
    style: Style,
    /// How tiles of this layer are resampled.
    pub resampling: Resampling,
    metadata: TileSetMetadata,
}

impl RasterLayer {
    /// Opens a georeferenced GeoTIFF in an EPSG CRS, styled by `spec`.
    pub fn open(path: &Path, ctx: Arc<SourceContext>, spec: &StyleSpec) -> Result<Self> {
        Self::new(Arc::new(Cog::open(path, ctx)?), path, spec)
    }

    /// A layer of a georeferenced `source` in an EPSG CRS, styled by
    /// `spec`; `path` names it in errors.
    pub fn new(source: Arc<dyn RasterSource>, path: &Path, spec: &StyleSpec) -> Result<Self> {
        let unsupported = |detail: String| Error::Unsupported {
            path: path.to_owned(),
            detail,
        };
        let gt = source
            .geotransform()
            .ok_or_else(|| unsupported("no georeferencing (geotransform)".into()))?;
        let style = Style::new(source.as_ref(), path, spec).map_err(|e| Error::InvalidRequest {
            detail: format!("{}: {e}", path.display()),
        })?;
        let resampling = match &spec.resampling {
            None => Resampling::Bilinear,
            Some(name) => Resampling::named(name).ok_or_else(|| Error::InvalidRequest {
                detail: format!(
                    "{}: resampling {name:?}: choose near, bilinear, cubic or average",
                    path.display()
                ),
            })?,
        };
        let epsg = source
            .epsg()
            .ok_or_else(|| unsupported("no EPSG code in the GeoKeys".into()))?;
        let crs = Crs::from_epsg(epsg).map_err(|e| unsupported(e.to_string()))?;

        // The outline (corners and edge midpoints) of the data, in WGS 84
        // and WebMercator: the full level, or the blocks holding data where
        // the source knows them (a GeoPackage pyramid's grid may run far
        // past its tiles: small_world_and_byte's to -370° of latitude).
        let levels = source.levels();
        let (w, h) = (f64::from(levels[0].width), f64::from(levels[0].height));
        let pixel = |c: f64, r: f64| (gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5]);
        let ([x0, x1], [y0, y1]) = match source.data_blocks(0) {
            Some([c0, r0, c1, r1]) => {
                let (bw, bh) = (
                    f64::from(levels[0].block_width),
                    f64::from(levels[0].block_height),
                );
                (
                    [f64::from(c0) * bw, (f64::from(c1 + 1) * bw).min(w)],
                    [f64::from(r0) * bh, (f64::from(r1 + 1) * bh).min(h)],
                )
            }
            None => ([0.0, w], [0.0, h]),
        };
        let outline: Vec<(f64, f64)> = [
            (0.0, 0.0),
            (0.5, 0.0),
            (1.0, 0.0),
            (1.0, 0.5),
            (1.0, 1.0),
            (0.5, 1.0),
            (0.0, 1.0),
            (0.0, 0.5),
        ]
        .iter()
        .map(|&(fc, fr)| pixel(x0 + fc * (x1 - x0), y0 + fr * (y1 - y0)))
        .collect();
        let mercator = Crs::from_epsg(3857)?;
        let wgs84 = Crs::from_epsg(4326)?;

        // Native resolution in WebMercator metres, at the centre.
        let mut centre = [pixel(w / 2.0, h / 2.0), pixel(w / 2.0 + 1.0, h / 2.0)];
        Transform::new(&crs, &mercator).apply(&mut centre);
        let res =
            ((centre[1].0 - centre[0].0).powi(2) + (centre[1].1 - centre[0].1).powi(2)).sqrt();
        let zoom_of = |res: f64| (WEB_MERCATOR_Z0_CELL / res).log2().round().clamp(0.0, 24.0) as u8;
        let coarsest = w / f64::from(levels[levels.len() - 1].width);

        let mut metadata = TileSetMetadata::new(TileFormat::Png);
        metadata.bounds = Transform::new(&crs, &wgs84)
            .bounds(&outline)
            .and_then(valid_bounds);
        if res.is_finite() && res > 0.0 {
            metadata.maxzoom = zoom_of(res);
            metadata.minzoom = zoom_of(res * coarsest).min(metadata.maxzoom);
        }
        Ok(RasterLayer {
            source,
            crs,
            style,
            resampling,
            metadata,
        })
    }

    /// The layer with `format` as its default tile format (a GeoPackage
    /// pyramid's stored format, so that its tiles go out as stored).
    pub fn with_format(mut self, format: TileFormat) -> Self {
        if matches!(
            format,
            TileFormat::Png | TileFormat::Jpeg | TileFormat::Webp
        ) {
            self.metadata.format = format;
        }
        self
    }

    /// The stored image that is exactly the `width × height` tile `bbox`:
    /// when a level's blocks are the tile's size
    /// and cell size and one of them has its corner on the tile's, that
    /// block as the source stores it ([`RasterSource::stored_block`]), if
    /// the layer's style shows the bands as they are.
    /// `None`: the tile has to be rendered.
    pub fn stored_tile(
        &self,
        bbox: &Bbox,
        width: u32,
        height: u32,
    ) -> Result<Option<bytes::Bytes>> {
        let (crs, bbox) = (bbox.crs(), bbox.coords());
        let Some(gt) = self.source.geotransform() else {
            return Ok(None);
        };
        if crs.epsg != self.crs.epsg || gt[2] != 0.0 || gt[4] != 0.0 || !self.style.is_identity() {
            return Ok(None);
        }
        let levels = self.source.levels();
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * b.abs();
        let (cell_x, cell_y) = (
            (bbox[2] - bbox[0]) / f64::from(width),
            (bbox[3] - bbox[1]) / f64::from(height),
        );
        for (level, shape) in levels.iter().enumerate() {
            let level_x = gt[1] * f64::from(levels[0].width) / f64::from(shape.width);
            let level_y = -gt[5] * f64::from(levels[0].height) / f64::from(shape.height);
            if shape.block_width != width
                || shape.block_height != height
                || !close(level_x, cell_x)
                || !close(level_y, cell_y)
            {
                continue;
            }
            // The tile's top-left corner in blocks of the level.
            let col = (bbox[0] - gt[0]) / (level_x * f64::from(width));
            let row = (gt[3] - bbox[3]) / (level_y * f64::from(height));
            let (across, down) = shape.blocks();
            if (col - col.round()).abs() > 1e-6
                || (row - row.round()).abs() > 1e-6
                || col < 0.0
                || row < 0.0
                || col.round() >= f64::from(across)
                || row.round() >= f64::from(down)
            {
                continue;
            }
            return self
                .source
                .stored_block(level, col.round() as u32, row.round() as u32);
        }
        Ok(None)
    }

    /// The colormap the layer shows its band through, when it does.
    pub fn colormap(&self) -> Option<crate::raster_style::Colormap> {
        self.style.colormap()
    }

    /// What the layer says about itself (format PNG, bounds, zooms).
    pub fn metadata(&self) -> &TileSetMetadata {
        &self.metadata
    }

    /// Whether `bbox` may hold pixels of the layer, judged in WGS 84 from
    /// its outline (a bbox the transform cannot place is assumed to).
    pub fn intersects(&self, bbox: &Bbox) -> bool {
        let Some([w, s, e, n]) = self.metadata.bounds else {
            return true;
        };
        let Ok(wgs84) = Crs::from_epsg(4326) else {
            return true;
        };
        // Corners and edge midpoints.
        let boxes = Transform::new(bbox.crs(), &wgs84).bboxes(bbox.coords(), 2);
        boxes.is_empty()
            || boxes
                .iter()
                .any(|&[tw, ts, te, tn]| !(tw >= e || te <= w || ts >= n || tn <= s))
    }

    /// Renders `request`.
    pub fn render(&self, request: &Request) -> Result<Rgba> {
        Ok(self.style.apply(&self.warped(request)?))
    }

    /// The data of `request` before styling, with what it cost.
    pub fn warped(&self, request: &Request) -> Result<Warped> {
        warp(self.source.as_ref(), &self.crs, request, &self.style.bands)
    }
}
