//! A raster layer: a GeoTIFF with its CRS, rendered into any bbox of any
//! CRS through the warp. Opened once; renders share the block cache.

use std::path::Path;
use std::sync::Arc;

use crate::crs::{Crs, Transform};
use crate::error::{Error, Result};
use crate::metadata::{valid_bounds, TileSetMetadata};
use crate::source::cog::Cog;
use crate::source::SourceContext;
use crate::tile::TileFormat;
use crate::warp::{unrenderable, warp, Request, Rgba};

/// WebMercatorQuad's cell size at zoom 0, metres.
const WEB_MERCATOR_Z0_CELL: f64 = 156_543.033_928_041;

/// A GeoTIFF ready to render.
pub struct RasterLayer {
    pub cog: Cog,
    pub crs: Crs,
    metadata: TileSetMetadata,
    /// Extent in EPSG:3857 metres, `[min_x, min_y, max_x, max_y]`.
    pub mercator_bounds: [f64; 4],
}

impl RasterLayer {
    /// Opens a GeoTIFF the warp can render: georeferenced, an EPSG CRS,
    /// 8-bit grey, grey+alpha, RGB or RGBA.
    pub fn open(path: &Path, ctx: Arc<SourceContext>) -> Result<Self> {
        let cog = Cog::open(path, ctx)?;
        let unsupported = |detail: String| Error::Unsupported {
            path: path.to_owned(),
            detail,
        };
        let gt = match (unrenderable(&cog), cog.geotransform) {
            (None, Some(gt)) => gt,
            (reason, _) => return Err(unsupported(reason.unwrap_or_default())),
        };
        let epsg = cog
            .epsg
            .ok_or_else(|| unsupported("no EPSG code in the GeoKeys".into()))?;
        let crs = Crs::from_epsg(epsg).map_err(|e| unsupported(e.to_string()))?;

        // The outline (corners and edge midpoints) in WGS 84 and WebMercator.
        let (w, h) = (
            f64::from(cog.levels[0].width),
            f64::from(cog.levels[0].height),
        );
        let pixel = |c: f64, r: f64| (gt[0] + c * gt[1] + r * gt[2], gt[3] + c * gt[4] + r * gt[5]);
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
        .map(|&(fc, fr)| pixel(fc * w, fr * h))
        .collect();
        let extent = |to: &Crs| {
            let mut pts = outline.clone();
            Transform::new(&crs, to).apply(&mut pts);
            pts.iter()
                .filter(|p| p.0.is_finite())
                .fold([f64::MAX, f64::MAX, f64::MIN, f64::MIN], |b, p| {
                    [b[0].min(p.0), b[1].min(p.1), b[2].max(p.0), b[3].max(p.1)]
                })
        };
        let mercator = Crs::from_epsg(3857)?;
        let mercator_bounds = extent(&mercator);
        let wgs84 = Crs::from_epsg(4326)?;

        // Native resolution in WebMercator metres, at the centre.
        let mut centre = [pixel(w / 2.0, h / 2.0), pixel(w / 2.0 + 1.0, h / 2.0)];
        Transform::new(&crs, &mercator).apply(&mut centre);
        let res =
            ((centre[1].0 - centre[0].0).powi(2) + (centre[1].1 - centre[0].1).powi(2)).sqrt();
        let zoom_of = |res: f64| (WEB_MERCATOR_Z0_CELL / res).log2().round().clamp(0.0, 24.0) as u8;
        let coarsest = w / f64::from(cog.levels[cog.levels.len() - 1].width);

        let mut metadata = TileSetMetadata::new(TileFormat::Png);
        metadata.bounds = valid_bounds(extent(&wgs84));
        if res.is_finite() && res > 0.0 {
            metadata.maxzoom = zoom_of(res);
            metadata.minzoom = zoom_of(res * coarsest).min(metadata.maxzoom);
        }
        Ok(RasterLayer {
            cog,
            crs,
            metadata,
            mercator_bounds,
        })
    }

    /// What the layer says about itself (format PNG, bounds, zooms).
    pub fn metadata(&self) -> &TileSetMetadata {
        &self.metadata
    }

    /// Renders `request`.
    pub fn render(&self, request: &Request) -> Result<Rgba> {
        warp(&self.cog, &self.crs, request)
    }
}
