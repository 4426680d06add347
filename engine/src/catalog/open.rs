//! What a layer serves from, and opening a file (other than a GeoPackage,
//! see `geopackage.rs`) into it by extension: the one place a new format
//! gets its arm.

use std::path::Path;
use std::sync::Arc;

use crate::error::Result;
use crate::metadata::TileSetMetadata;
use crate::raster::RasterLayer;
use crate::raster_style::StyleSpec;
use crate::source::{extension, open_archive, SourceContext, TileArchive};
use crate::vector::VectorLayer;

/// What a layer serves from: stored tiles, a raster rendered per request,
/// or features cut into vector tiles per request.
#[derive(Clone)]
pub enum LayerSource {
    Tiles(Arc<dyn TileArchive>),
    Raster(Arc<RasterLayer>),
    Features(Arc<VectorLayer>),
}

impl LayerSource {
    /// The source's own metadata.
    pub fn metadata(&self) -> &TileSetMetadata {
        match self {
            LayerSource::Tiles(archive) => archive.metadata(),
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
        _ => open_archive(path, ctx).map(LayerSource::Tiles),
    }
}
