//! Vector tiles made on the fly: the features of one or more tables
//! (GeoPackage feature tables) under a tile, reprojected into the tile
//! matrix set's CRS and encoded as one MVT layer per table.
//!
//! The query box is the tile grown by the encoder's buffer, taken into the
//! table's CRS through a densified outline; the R-tree answers it. Work per
//! tile is bounded by [`MAX_FEATURES_PER_TILE`]. Curves are stroked within
//! [`CURVE_TOLERANCE`] of a tile unit, measured in the table's CRS: a tile
//! holds positions rounded to its unit grid, so finer vertices would not
//! show and coarser ones would (facets); a feature that cannot be decoded
//! is left out of the tile (and logged once) rather than failing it.

use std::sync::Arc;

use geo_types::{Coord, Geometry};
use rustc_hash::FxHashSet;
use serde_json::json;

use crate::crs::{Crs, Transform};
use crate::deadline::Deadline;
use crate::error::{Error, Result};
use crate::feature::{Field, FieldType};
use crate::metadata::{valid_bounds, TileSetMetadata};
use crate::mvt::{encode_tile, LayerEncoder, MvtOptions};
use crate::source::gpkg::{FeatureTable, GeoPackage, Selection, Stroke};
use crate::tile::{TileFormat, MAX_ZOOM};

/// Most features one table may put in one tile: 250,000 polygons of ten
/// vertices are ~60 MB decoded, the worst a request may cost; a denser tile
/// is refused (`LimitExceeded`) rather than allowed to exhaust memory.
pub const MAX_FEATURES_PER_TILE: usize = 250_000;

/// Largest distance between an arc and its polyline, in tile units: a
/// quarter of the unit the encoder rounds positions to, so stroking adds
/// at most half of what rounding already moves a vertex.
const CURVE_TOLERANCE: f64 = 0.25;

/// Which table to serve and how: its attributes (all by default), a filter
/// (an SQL expression on its columns, as MapServer's native FILTER), and
/// the zooms it appears at.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TableSpec {
    pub name: String,
    pub fields: Option<Vec<String>>,
    pub filter: Option<String>,
    pub minzoom: Option<u8>,
    pub maxzoom: Option<u8>,
}

/// One table, served as one MVT layer named after it.
struct VectorTable {
    gpkg: Arc<GeoPackage>,
    table: FeatureTable,
    crs: Crs,
    /// Indices into `table.fields` of the attributes served, and those
    /// fields.
    field_indices: Vec<usize>,
    fields: Vec<Field>,
    filter: Option<String>,
    minzoom: u8,
    maxzoom: u8,
}

/// A tileset of one or more tables.
pub struct VectorLayer {
    tables: Vec<VectorTable>,
    options: MvtOptions,
    metadata: TileSetMetadata,
}

impl VectorLayer {
    /// The tables of `gpkg` named by `specs`, in that order, encoded with
    /// `options`.
    pub fn new(gpkg: Arc<GeoPackage>, specs: &[TableSpec], options: MvtOptions) -> Result<Self> {
        let path = gpkg.path().to_owned();
        let invalid = |detail: String| Error::invalid(format!("{}: {detail}", path.display()));
        let tolerance_ok = options.tolerance.is_finite() && options.tolerance >= 0.0;
        if !options.params([0.0, 0.0, 1.0, 1.0]).is_usable() || !tolerance_ok {
            return Err(invalid(format!(
                "extent {} and buffer {} (extent ≥ 1, extent + 2 × buffer < 2³¹) \
                 or simplify {} (≥ 0) cannot encode tiles",
                options.extent, options.buffer, options.tolerance
            )));
        }
        let mut tables = Vec::new();
        for spec in specs {
            let table = gpkg
                .feature_tables()
                .iter()
                .find(|t| t.table == spec.name)
                .cloned()
                .ok_or_else(|| invalid(format!("no feature table {:?}", spec.name)))?;
            // srs_id 0 is the "undefined geographic" SRS (GeoPackage 1.3
            // clause 1.1.2.1.2): longitude and latitude, read as WGS 84 as
            // GDAL and QGIS read it.
            let epsg = table.srs.epsg.or((table.srs.srs_id == 0).then_some(4326));
            let epsg = epsg.ok_or_else(|| Error::Unsupported {
                path: path.clone(),
                detail: format!("table {:?}: its SRS has no EPSG code", table.table),
            })?;
            let crs = Crs::from_epsg(epsg).map_err(|e| Error::Unsupported {
                path: path.clone(),
                detail: format!("table {:?}: {e}", table.table),
            })?;
            let field_indices: Vec<usize> = match &spec.fields {
                None => (0..table.fields.len()).collect(),
                Some(names) => names
                    .iter()
                    .map(|name| {
                        table
                            .fields
                            .iter()
                            .position(|f| &f.name == name)
                            .ok_or_else(|| {
                                invalid(format!("table {:?} has no field {name:?}", table.table))
                            })
                    })
                    .collect::<Result<_>>()?,
            };
            let (minzoom, maxzoom) = (spec.minzoom.unwrap_or(0), spec.maxzoom.unwrap_or(MAX_ZOOM));
            if minzoom > maxzoom {
                return Err(invalid(format!(
                    "table {:?}: minzoom above maxzoom",
                    table.table
                )));
            }
            let vector_table = VectorTable {
                fields: field_indices
                    .iter()
                    .map(|&i| table.fields[i].clone())
                    .collect(),
                gpkg: Arc::clone(&gpkg),
                table,
                crs,
                field_indices,
                filter: spec.filter.clone(),
                minzoom,
                maxzoom,
            };
            // A filter that SQLite cannot run is the layer's error now, not
            // every tile's later: ask for a box far from any data.
            if let Some(filter) = &vector_table.filter {
                let far = Selection {
                    bbox: Some([1e300, 1e300, 1e300, 1e300]),
                    fields: &vector_table.field_indices,
                    filter: Some(filter),
                    max: 1,
                    stroke: Stroke::Gdal,
                    ..Selection::default()
                };
                gpkg.for_each_feature(&vector_table.table, &far, &mut |_| {})?;
            }
            tables.push(vector_table);
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

    /// The MVT tile (uncompressed) of `bbox` (easting first, in `crs`) at
    /// `zoom`: one layer per table with features there; empty when none
    /// has any. Past `deadline` the query stops and the tile is abandoned.
    pub fn render(
        &self,
        crs: &Crs,
        bbox: [f64; 4],
        zoom: u8,
        deadline: Deadline,
    ) -> Result<Vec<u8>> {
        let params = self.options.params(bbox);
        // The buffer's share of the tile, on every side.
        let grow = f64::from(params.buffer) / f64::from(params.extent);
        let (dx, dy) = ((bbox[2] - bbox[0]) * grow, (bbox[3] - bbox[1]) * grow);
        let query = [bbox[0] - dx, bbox[1] - dy, bbox[2] + dx, bbox[3] + dy];
        let mut layers = Vec::new();
        for t in self
            .tables
            .iter()
            .filter(|t| (t.minzoom..=t.maxzoom).contains(&zoom))
        {
            let transform = Transform::new(&t.crs, crs);
            // Two boxes where the query crosses the table's antimeridian:
            // a feature in both (a country across it) is added once.
            let boxes = Transform::new(crs, &t.crs).bboxes(query, 8);
            if boxes.is_empty() {
                continue;
            }
            let mut added = FxHashSet::default();
            let mut layer = LayerEncoder::new(&t.table.table, &t.fields, &params);
            let reprojected = t.crs.epsg != crs.epsg;
            // A tile unit in the table's CRS: the query box spans the tile
            // and its buffers (in one or two pieces); the narrower side,
            // where reprojection makes units unequal.
            let units = f64::from(params.extent) + 2.0 * f64::from(params.buffer);
            let across: f64 = boxes.iter().map(|b| b[2] - b[0]).sum();
            let down = boxes.iter().map(|b| b[3] - b[1]).fold(0.0, f64::max);
            let stroke = Stroke::Within(CURVE_TOLERANCE * across.min(down) / units);
            for &source_bbox in &boxes {
                let selection = Selection {
                    bbox: Some(source_bbox),
                    fields: &t.field_indices,
                    filter: t.filter.as_deref(),
                    max: MAX_FEATURES_PER_TILE,
                    stroke,
                    deadline,
                };
                t.gpkg
                    .for_each_feature(&t.table, &selection, &mut |feature| {
                        if boxes.len() > 1 && feature.id.is_some_and(|id| !added.insert(id)) {
                            return;
                        }
                        if reprojected {
                            reproject(&mut feature.geometry, &transform);
                        }
                        layer.add(feature);
                    })?;
            }
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
        .filter_map(|t| Some(Transform::new(&t.crs, wgs84.as_ref()?).bboxes(t.table.bbox?, 8)))
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
    m.description = tables.iter().find_map(|t| t.table.description.clone());
    let layers: Vec<serde_json::Value> = tables
        .iter()
        .map(|t| {
            let fields: serde_json::Map<String, serde_json::Value> = t
                .fields
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
                "id": t.table.table,
                "fields": fields,
                "minzoom": t.minzoom,
                "maxzoom": t.maxzoom,
            });
            if let Some(d) = &t.table.description {
                layer["description"] = json!(d);
            }
            layer
        })
        .collect();
    m.vector_layers = Some(json!(layers));
    m
}

/// Moves every coordinate of `geometry` through `transform`.
fn reproject(geometry: &mut Geometry<f64>, transform: &Transform) {
    let mut points = Vec::new();
    visit_coords(geometry, &mut |c| points.push((c.x, c.y)));
    transform.apply(&mut points);
    let mut moved = points.into_iter();
    visit_coords(geometry, &mut |c| {
        if let Some((x, y)) = moved.next() {
            *c = Coord { x, y };
        }
    });
}

/// Calls `f` on every coordinate of `geometry`, in a fixed order.
fn visit_coords(geometry: &mut Geometry<f64>, f: &mut dyn FnMut(&mut Coord<f64>)) {
    let line = |l: &mut geo_types::LineString<f64>, f: &mut dyn FnMut(&mut Coord<f64>)| {
        l.0.iter_mut().for_each(&mut *f);
    };
    let polygon = |p: &mut geo_types::Polygon<f64>, f: &mut dyn FnMut(&mut Coord<f64>)| {
        p.exterior_mut(|e| line(e, f));
        p.interiors_mut(|rings| rings.iter_mut().for_each(|r| line(r, f)));
    };
    match geometry {
        Geometry::Point(p) => f(&mut p.0),
        Geometry::Line(l) => {
            f(&mut l.start);
            f(&mut l.end);
        }
        Geometry::LineString(l) => line(l, f),
        Geometry::Polygon(p) => polygon(p, f),
        Geometry::MultiPoint(m) => m.0.iter_mut().for_each(|p| f(&mut p.0)),
        Geometry::MultiLineString(m) => m.0.iter_mut().for_each(|l| line(l, f)),
        Geometry::MultiPolygon(m) => m.0.iter_mut().for_each(|p| polygon(p, f)),
        Geometry::GeometryCollection(c) => c.0.iter_mut().for_each(|g| visit_coords(g, f)),
        Geometry::Rect(r) => {
            let mut p = r.to_polygon();
            polygon(&mut p, f);
            *geometry = Geometry::Polygon(p);
        }
        Geometry::Triangle(t) => {
            let mut p = t.to_polygon();
            polygon(&mut p, f);
            *geometry = Geometry::Polygon(p);
        }
    }
}
