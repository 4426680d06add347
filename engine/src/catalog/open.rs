//! What a layer serves from, and opening a file (other than a GeoPackage,
//! see `geopackage.rs`) into it by extension: the one place a new format
//! gets its arm.

use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::metadata::TileSetMetadata;
use crate::mvt::MvtOptions;
use crate::raster::RasterLayer;
use crate::raster_style::StyleSpec;
use crate::source::archive_raster::ArchiveRaster;
use crate::source::mvt_archive::MvtArchiveLayer;
use crate::source::{extension, open_archive, SourceContext, TileArchive};
use crate::tile::{TileFormat, MAX_ZOOM};
use crate::vector::{VectorLayer, VectorTable};

/// What a layer serves from: stored tiles, a raster rendered per request,
/// or features cut into vector tiles per request.
#[derive(Clone)]
pub enum LayerSource {
    /// Stored tiles, and the view maps in other grids and CRSs are drawn
    /// from: a raster for an archive of images, features for one of MVT.
    Tiles(Arc<dyn TileArchive>, Option<Drawn>),
    Raster(Arc<RasterLayer>),
    Features(Arc<VectorLayer>),
}

/// What maps draw an archive's layer from.
#[derive(Clone)]
pub enum Drawn {
    Raster(Arc<RasterLayer>),
    Features(Arc<VectorLayer>),
}

impl LayerSource {
    /// The raster maps draw this layer from, when it is one.
    pub fn raster(&self) -> Option<&Arc<RasterLayer>> {
        match self {
            LayerSource::Raster(raster) | LayerSource::Tiles(_, Some(Drawn::Raster(raster))) => {
                Some(raster)
            }
            _ => None,
        }
    }

    /// The features maps draw (and GetFeatureInfo queries) this layer
    /// from, when it has features.
    pub fn features(&self) -> Option<&Arc<VectorLayer>> {
        match self {
            LayerSource::Features(vector)
            | LayerSource::Tiles(_, Some(Drawn::Features(vector))) => Some(vector),
            _ => None,
        }
    }

    /// The source's own metadata.
    pub fn metadata(&self) -> &TileSetMetadata {
        match self {
            LayerSource::Tiles(archive, _) => archive.metadata(),
            LayerSource::Raster(raster) => raster.metadata(),
            LayerSource::Features(vector) => vector.metadata(),
        }
    }
}

/// Whether `path` names a GeoPackage, whose tables become layers of their
/// own (see `geopackage.rs`).
pub(super) fn is_geopackage(path: &Path) -> bool {
    extension(path).as_deref() == Some("gpkg")
}

/// The source of the file at `path`, by its extension; `style` applies to
/// rasters.
pub(super) fn open_file(
    path: &Path,
    style: &StyleSpec,
    ctx: &Arc<SourceContext>,
) -> Result<LayerSource> {
    match extension(path).as_deref() {
        Some("tif" | "tiff") => Ok(LayerSource::Raster(Arc::new(RasterLayer::open(
            path,
            Arc::clone(ctx),
            style,
        )?))),
        _ => {
            let archive = open_archive(path, ctx)?;
            let drawn = drawn(&archive, path, style, ctx);
            Ok(LayerSource::Tiles(archive, drawn))
        }
    }
}

/// What maps draw an archive from: its raster view for images, its MVT
/// layers as feature sources for vector tiles; `None` (logged) where the
/// archive's tiles cannot be read so: its stored tiles are still served.
fn drawn(
    archive: &Arc<dyn TileArchive>,
    path: &Path,
    style: &StyleSpec,
    ctx: &Arc<SourceContext>,
) -> Option<Drawn> {
    let view = match archive.metadata().format {
        TileFormat::Png | TileFormat::Jpeg | TileFormat::Webp => {
            ArchiveRaster::new(Arc::clone(archive), Arc::clone(ctx))
                .and_then(|source| RasterLayer::new(Arc::new(source.with_path(path)), path, style))
                .map(|layer| Drawn::Raster(Arc::new(layer)))
        }
        TileFormat::Mvt => {
            MvtArchiveLayer::layers_at(Arc::clone(archive), path).and_then(|layers| {
                let tables = layers
                    .into_iter()
                    .map(|layer| VectorTable {
                        source: Arc::new(layer),
                        minzoom: 0,
                        maxzoom: MAX_ZOOM,
                    })
                    .collect();
                let vector = VectorLayer::new(tables, MvtOptions::default(), path)?;
                Ok(Drawn::Features(Arc::new(vector)))
            })
        }
        _ => return None,
    };
    match view {
        Ok(view) => Some(view),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error,
                "stored tiles served, but maps cannot draw this archive");
            None
        }
    }
}
