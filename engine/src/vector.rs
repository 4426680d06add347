//! Vector tiles made on the fly: the features of one or more feature
//! sources (GeoPackage feature tables) under a tile, reprojected into the
//! tile matrix set's CRS and encoded as one MVT layer per source.
//!
//! The query box is the tile grown by the encoder's buffer; the source
//! takes it into its CRS through a densified outline (an R-tree answers). Work per
//! tile is bounded by [`MAX_FEATURES_PER_TILE`]. Curves are stroked within
//! [`CURVE_TOLERANCE`] of a tile unit, measured in the table's CRS: a tile
//! holds positions rounded to its unit grid, so finer vertices would not
//! show and coarser ones would (facets); a feature that cannot be decoded
//! is left out of the tile (and logged once) rather than failing it.

use std::path::Path;
use std::sync::Arc;

use serde_json::json;

use crate::bbox::Bbox;
use crate::crs::{Crs, Transform};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::feature::FieldType;
use crate::metadata::{valid_bounds, TileSetMetadata};
use crate::mvt::{encode_tile, LayerEncoder, MvtOptions};
use crate::source::{FeatureQuery, FeatureSource};
use crate::tile::{TileFormat, MAX_ZOOM};

/// Most features one table may put in one tile: 250,000 polygons of ten
/// vertices are ~60 MB decoded, the worst a request may cost; a denser tile
/// is refused (`LimitExceeded`) rather than allowed to exhaust memory.
pub const MAX_FEATURES_PER_TILE: usize = 250_000;

/// Largest distance between an arc and its polyline, in tile units: a
/// quarter of the unit the encoder rounds positions to, so stroking adds
/// at most half of what rounding already moves a vertex.
const CURVE_TOLERANCE: f64 = 0.25;

/// One source, served as one MVT layer named after it, at its zooms.
pub struct VectorTable {
    pub source: Arc<dyn FeatureSource>,
    pub minzoom: u8,
    pub maxzoom: u8,
}

/// A tileset of one or more feature sources.
pub struct VectorLayer {
    tables: Vec<VectorTable>,
    options: MvtOptions,
    metadata: TileSetMetadata,
}

impl VectorLayer {
    /// The sources `tables`, in that order, encoded with `options`; `path`
    /// names the layer in errors.
    pub fn new(tables: Vec<VectorTable>, options: MvtOptions, path: &Path) -> Result<Self> {
        let invalid = |detail: String| Error::invalid(format!("{}: {detail}", path.display()));
        let tolerance_ok = options.tolerance.is_finite() && options.tolerance >= 0.0;
        if !options.params([0.0, 0.0, 1.0, 1.0]).is_usable() || !tolerance_ok {
            return Err(invalid(format!(
                "extent {} and buffer {} (extent ≥ 1, extent + 2 × buffer < 2³¹) \
                 or simplify {} (≥ 0) cannot encode tiles",
                options.extent, options.buffer, options.tolerance
            )));
        }
        if let Some(t) = tables.iter().find(|t| t.minzoom > t.maxzoom) {
            return Err(invalid(format!(
                "table {:?}: minzoom above maxzoom",
                t.source.name()
            )));
        }
        if tables.is_empty() {
            return Err(invalid("no feature table to serve".into()));
        }
        let metadata = metadata(&tables);
        Ok(VectorLayer {
            tables,
            options,
            metadata,
        })
    }

    /// TileJSON's view: MVT, bounds, zooms, `vector_layers` with fields.
    pub fn metadata(&self) -> &TileSetMetadata {
        &self.metadata
    }

    /// The sources, in drawing order.
    pub fn tables(&self) -> &[VectorTable] {
        &self.tables
    }

    /// The MVT tile (uncompressed) of `bbox` at `zoom`: one layer per
    /// source with features there; empty when none has any. Past
    /// `deadline` the query stops and the tile is abandoned.
    pub fn render(&self, bbox: &Bbox, zoom: u8, deadline: Deadline) -> Result<Vec<u8>> {
        let params = self.options.params(bbox.coords());
        // The buffer's share of the tile, on every side.
        let grow = f64::from(params.buffer) / f64::from(params.extent);
        let [x0, y0, x1, y1] = bbox.coords();
        let (dx, dy) = (bbox.width() * grow, bbox.height() * grow);
        let query = Bbox::new(
            Arc::clone(bbox.shared_crs()),
            [x0 - dx, y0 - dy, x1 + dx, y1 + dy],
        )?;
        // A tile unit, in the tile's CRS: curves are stroked within
        // CURVE_TOLERANCE of it.
        let unit = bbox.width().min(bbox.height()) / f64::from(params.extent);
        let query = FeatureQuery {
            bbox: &query,
            tolerance: CURVE_TOLERANCE * unit,
            max: MAX_FEATURES_PER_TILE,
            deadline,
        };
        let mut layers = Vec::new();
        for t in self
            .tables
            .iter()
            .filter(|t| (t.minzoom..=t.maxzoom).contains(&zoom))
        {
            let mut layer = LayerEncoder::new(t.source.name(), t.source.fields(), &params);
            t.source.features(&query, &mut |feature| {
                layer.add(feature);
            })?;
            layers.push(layer);
        }
        Ok(encode_tile(&layers))
    }
}

/// Bounds in WGS 84 (from the tables' `gpkg_contents` extents), the widest
/// zoom range, and `vector_layers` as TileJSON 3.0.0 §3.17 describes them,
/// field types named as tippecanoe and martin name them.
fn metadata(tables: &[VectorTable]) -> TileSetMetadata {
    let mut m = TileSetMetadata::new(TileFormat::Mvt);
    m.minzoom = tables.iter().map(|t| t.minzoom).min().unwrap_or(0);
    m.maxzoom = tables.iter().map(|t| t.maxzoom).max().unwrap_or(MAX_ZOOM);
    let wgs84 = Crs::from_epsg(4326).ok();
    let bounds = tables
        .iter()
        .filter_map(|t| {
            let source = &t.source;
            Some(Transform::new(source.crs(), wgs84.as_ref()?).bboxes(source.extent()?, 8))
        })
        .flatten()
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        });
    m.bounds = bounds.and_then(valid_bounds);
    m.description = tables
        .iter()
        .find_map(|t| t.source.description().map(str::to_owned));
    let layers: Vec<serde_json::Value> = tables
        .iter()
        .map(|t| {
            let fields: serde_json::Map<String, serde_json::Value> = t
                .source
                .fields()
                .iter()
                .map(|f| {
                    let kind = match f.field_type {
                        FieldType::Integer | FieldType::Real => "Number",
                        FieldType::Text => "String",
                        FieldType::Boolean => "Boolean",
                    };
                    (f.name.clone(), json!(kind))
                })
                .collect();
            let mut layer = json!({
                "id": t.source.name(),
                "fields": fields,
                "minzoom": t.minzoom,
                "maxzoom": t.maxzoom,
            });
            if let Some(d) = t.source.description() {
                layer["description"] = json!(d);
            }
            layer
        })
        .collect();
    m.vector_layers = Some(json!(layers));
    m
}
