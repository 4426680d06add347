//! A GeoPackage feature table as a [`FeatureSource`]: the table, its CRS,
//! the attributes served and the configured filter, with the query that
//! takes a box in any CRS to the table's (split at the antimeridian),
//! strokes curves as finely as the caller's tolerance asks, and gives
//! features back in the caller's CRS.

use std::sync::Arc;

use rustc_hash::FxHashSet;

use super::{FeatureTable, GeoPackage, Selection, Stroke};
use crate::crs::{Crs, Transform};
use crate::error::{Error, Result};
use crate::feature::{reproject, Feature, Field};
use crate::source::{FeatureQuery, FeatureSource};

/// One feature table of a GeoPackage, ready to query.
pub struct GpkgTable {
    gpkg: Arc<GeoPackage>,
    table: FeatureTable,
    crs: Arc<Crs>,
    /// Indices into `table.fields` of the attributes served, and those fields.
    field_indices: Vec<usize>,
    fields: Vec<Field>,
    filter: Option<String>,
}

impl GpkgTable {
    /// The table `name` of `gpkg`, serving the attributes `fields` (all when
    /// `None`) of the rows that pass `filter` (an SQL expression on its
    /// columns, from the configuration, checked here so that a bad one is
    /// the layer's error at load rather than every request's).
    pub fn new(
        gpkg: Arc<GeoPackage>,
        name: &str,
        fields: Option<&[String]>,
        filter: Option<&str>,
    ) -> Result<Self> {
        let path = gpkg.path().to_owned();
        let invalid = |detail: String| Error::invalid(format!("{}: {detail}", path.display()));
        let table = gpkg
            .feature_tables()
            .iter()
            .find(|t| t.table == name)
            .cloned()
            .ok_or_else(|| invalid(format!("no feature table {name:?}")))?;
        // srs_id 0 is the "undefined geographic" SRS (GeoPackage 1.3
        // clause 1.1.2.1.2): longitude and latitude, read as WGS 84 as
        // GDAL and QGIS read it.
        let epsg = table.srs.epsg.or((table.srs.srs_id == 0).then_some(4326));
        let unsupported = |detail: String| Error::Unsupported {
            path: path.clone(),
            detail: format!("table {name:?}: {detail}"),
        };
        let epsg = epsg.ok_or_else(|| unsupported("its SRS has no EPSG code".into()))?;
        let crs = Crs::shared(epsg).map_err(|e| unsupported(e.to_string()))?;
        let field_indices: Vec<usize> = match fields {
            None => (0..table.fields.len()).collect(),
            Some(names) => names
                .iter()
                .map(|wanted| {
                    table
                        .fields
                        .iter()
                        .position(|f| &f.name == wanted)
                        .ok_or_else(|| invalid(format!("table {name:?} has no field {wanted:?}")))
                })
                .collect::<Result<_>>()?,
        };
        let source = GpkgTable {
            fields: field_indices
                .iter()
                .map(|&i| table.fields[i].clone())
                .collect(),
            gpkg,
            table,
            crs,
            field_indices,
            filter: filter.map(str::to_owned),
        };
        // A filter SQLite cannot run: ask for a box far from any data.
        if let Some(filter) = &source.filter {
            let far = Selection {
                bbox: Some([1e300, 1e300, 1e300, 1e300]),
                fields: &source.field_indices,
                filter: Some(filter),
                max: 1,
                stroke: Stroke::Gdal,
                ..Selection::default()
            };
            source
                .gpkg
                .for_each_feature(&source.table, &far, &mut |_| {})?;
        }
        Ok(source)
    }
}

impl FeatureSource for GpkgTable {
    fn name(&self) -> &str {
        &self.table.table
    }

    fn description(&self) -> Option<&str> {
        self.table.description.as_deref()
    }

    fn fields(&self) -> &[Field] {
        &self.fields
    }

    fn crs(&self) -> &Crs {
        &self.crs
    }

    fn geometry_type(&self) -> &str {
        &self.table.geometry_type
    }

    fn extent(&self) -> Option<[f64; 4]> {
        self.table.bbox
    }

    fn features(&self, query: &FeatureQuery, visit: &mut dyn FnMut(&mut Feature)) -> Result<()> {
        let crs = query.bbox.crs();
        // Two boxes where the query crosses the table's antimeridian: a
        // feature in both (a country across it) is visited once.
        let (boxes, scale) = query.boxes_in(&self.crs);
        if boxes.is_empty() {
            return Ok(());
        }
        // The tolerance in the table's units.
        let stroke = Stroke::Within(query.tolerance * scale);
        let transform = Transform::new(&self.crs, crs);
        let reprojected = self.crs.epsg != crs.epsg;
        let mut seen = FxHashSet::default();
        for &source_bbox in &boxes {
            let selection = Selection {
                bbox: Some(source_bbox),
                fields: &self.field_indices,
                filter: self.filter.as_deref(),
                max: query.max,
                stroke,
                deadline: query.deadline,
            };
            self.gpkg
                .for_each_feature(&self.table, &selection, &mut |feature| {
                    if boxes.len() > 1 && feature.id.is_some_and(|id| !seen.insert(id)) {
                        return;
                    }
                    if reprojected {
                        reproject(&mut feature.geometry, &transform);
                    }
                    visit(feature);
                })?;
        }
        Ok(())
    }
}
