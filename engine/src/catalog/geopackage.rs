//! A GeoPackage's tables as the catalog's layers.

use std::path::Path;
use std::sync::Arc;

use super::{LayerSource, TableSpec};
use crate::error::{Error, Result};
use crate::mvt::MvtOptions;
use crate::raster::RasterLayer;
use crate::raster_style::StyleSpec;
use crate::source::gpkg::{GeoPackage, GpkgTable, PyramidSource, TilePyramid};
use crate::source::SourceContext;
use crate::tile::MAX_ZOOM;
use crate::vector::{VectorLayer, VectorTable};

/// The layers of a GeoPackage, as (table or id, source): the tables named
/// in `tables` as one vector layer (or, when the one name is a tile
/// pyramid's, that pyramid), or else every tile pyramid and every feature
/// table as a layer of its own. Tables that could not be read come back as
/// errors beside the others.
pub(super) fn open_layers(
    path: &Path,
    tables: &[TableSpec],
    style: &StyleSpec,
    mvt: MvtOptions,
    ctx: &Arc<SourceContext>,
) -> Result<Vec<(String, Result<LayerSource>)>> {
    let gpkg = Arc::new(GeoPackage::open(path)?);
    let pyramid = |p: &TilePyramid| -> Result<LayerSource> {
        let source = Arc::new(PyramidSource::new(
            Arc::clone(&gpkg),
            p.clone(),
            Arc::clone(ctx),
        )?);
        let layer = RasterLayer::new(source, path, style)?.with_format(p.format);
        Ok(LayerSource::Raster(Arc::new(layer)))
    };
    let features = |specs: &[TableSpec]| -> Result<LayerSource> {
        Ok(LayerSource::Features(Arc::new(vector_layer(
            &gpkg, specs, mvt,
        )?)))
    };
    if let [only] = tables {
        if let Some(p) = gpkg.tile_pyramids().iter().find(|p| p.table == only.name) {
            return Ok(vec![(p.table.clone(), pyramid(p))]);
        }
    }
    if !tables.is_empty() {
        let id = tables
            .iter()
            .map(|t| t.name.as_str())
            .collect::<Vec<_>>()
            .join(",");
        return Ok(vec![(id, features(tables))]);
    }
    let mut layers: Vec<(String, Result<LayerSource>)> = gpkg
        .tile_pyramids()
        .iter()
        .map(|p| (p.table.clone(), pyramid(p)))
        .collect();
    for t in gpkg.feature_tables() {
        let spec = TableSpec {
            name: t.table.clone(),
            ..TableSpec::default()
        };
        layers.push((t.table.clone(), features(&[spec])));
    }
    for (table, error) in gpkg.failed_tables() {
        layers.push((
            table.clone(),
            Err(Error::Unsupported {
                path: path.to_owned(),
                detail: format!("table {table:?}: {error}"),
            }),
        ));
    }
    if layers.is_empty() {
        return Err(Error::Unsupported {
            path: path.to_owned(),
            detail: "no tile or feature table in gpkg_contents".into(),
        });
    }
    Ok(layers)
}

/// The feature tables of `gpkg` that `specs` name, as one vector layer (one
/// MVT layer each, in that order), encoded with `mvt`.
pub fn vector_layer(
    gpkg: &Arc<GeoPackage>,
    specs: &[TableSpec],
    mvt: MvtOptions,
) -> Result<VectorLayer> {
    let tables = specs
        .iter()
        .map(|spec| {
            let table = GpkgTable::new(
                Arc::clone(gpkg),
                &spec.name,
                spec.fields.as_deref(),
                spec.filter.as_deref(),
            )?;
            Ok(VectorTable {
                source: Arc::new(table),
                minzoom: spec.minzoom.unwrap_or(0),
                maxzoom: spec.maxzoom.unwrap_or(MAX_ZOOM),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    VectorLayer::new(tables, mvt, gpkg.path())
}
