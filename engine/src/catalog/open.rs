//! What a layer serves from, and opening a file (other than a GeoPackage,
//! see `geopackage.rs`) into it by extension: the one place a new format
//! gets its arm.

use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::metadata::TileSetMetadata;
use crate::raster::RasterLayer;
use crate::raster_style::StyleSpec;
use crate::source::archive_raster::ArchiveRaster;
use crate::source::{extension, open_archive, SourceContext, TileArchive};
use crate::tile::TileFormat;
use crate::vector::VectorLayer;

/// What a layer serves from: stored tiles, a raster rendered per request,
/// or features cut into vector tiles per request.
#[derive(Clone)]
pub enum LayerSource {
    /// Stored tiles, and for an archive of images its raster view, which
    /// maps in other grids and CRSs are drawn from.
    Tiles(Arc<dyn TileArchive>, Option<Arc<RasterLayer>>),
    Raster(Arc<RasterLayer>),
    Features(Arc<VectorLayer>),
}

impl LayerSource {
    /// The raster maps draw this layer from, when it is one.
    pub fn raster(&self) -> Option<&Arc<RasterLayer>> {
        match self {
            LayerSource::Raster(raster) | LayerSource::Tiles(_, Some(raster)) => Some(raster),
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
            let raster = raster_view(&archive, path, style, ctx);
            Ok(LayerSource::Tiles(archive, raster))
        }
    }
}

/// The raster view of an archive of images; `None` for vector tiles, and
/// (logged) where the archive's tiles cannot be read as a raster: its
/// stored tiles are still served.
fn raster_view(
    archive: &Arc<dyn TileArchive>,
    path: &Path,
    style: &StyleSpec,
    ctx: &Arc<SourceContext>,
) -> Option<Arc<RasterLayer>> {
    if !matches!(
        archive.metadata().format,
        TileFormat::Png | TileFormat::Jpeg | TileFormat::Webp
    ) {
        return None;
    }
    let view = ArchiveRaster::new(Arc::clone(archive), Arc::clone(ctx))
        .and_then(|source| RasterLayer::new(Arc::new(source.with_path(path)), path, style));
    match view {
        Ok(layer) => Some(Arc::new(layer)),
        Err(error) => {
            tracing::warn!(path = %path.display(), %error,
                "stored tiles served, but maps cannot draw this archive");
            None
        }
    }
}
