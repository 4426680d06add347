//! The layers of a vector tile archive (PMTiles, MBTiles of MVT) as
//! [`FeatureSource`]s, so that a WMS GetMap can draw them like any
//! GeoPackage table (issue 13).
//!
//! A query picks the zoom whose tiles, drawn at 256 pixels, match the
//! query's resolution ([`zoom_for`]), reads the tiles covering its box in
//! EPSG:3857 and decodes the one layer asked for, reprojecting each feature
//! into the query's CRS. Features are given back as the tiles hold them:
//! clipped to each tile and its buffer, so a feature across tiles comes
//! once per tile, a part each (the drawing clips; merging the parts back
//! would cost a union per feature and gains nothing on a map).
//!
//! Decoding uses no crate: the protobuf is read with the MVT encoder's
//! own reader (`mvt::pbf::read`), the geometry commands by `decode`.
//! Decompressed tiles are kept in a small cache shared by the layers of
//! one archive, since a map draws several layers from the same tiles.
//!
//! A tile that cannot be decompressed or parsed, or a feature that cannot
//! be decoded, is skipped and logged once; the rest of the query is
//! answered.

mod decode;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use geo_types::Geometry;
use rustc_hash::FxHashMap;

use crate::cache::{ByteLru, Weighed};
use crate::compression::{decode as decompress, MAX_DECODED_TILE_BYTES};
use crate::crs::{Crs, Transform};
use crate::error::{Error, Result};
use crate::feature::{reproject, visit_coords, Feature, Field, FieldType, Value};
use crate::metadata::valid_bounds;
use crate::source::{FeatureQuery, FeatureSource, TileArchive};
use crate::tile::{TileCoord, TileFormat};

/// Half the width of the EPSG:3857 world, in metres (π × 6378137).
const HALF_WORLD: f64 = 20_037_508.342_789_244;

/// The pixels a tile is drawn at when choosing its zoom: 256, the size of
/// the XYZ convention (z0 pixel = 156 543.03 m). Styles written for 512
/// pixels (MapLibre) would choose one zoom shallower; 256 reads the
/// deeper one, more detail rather than less.
pub const TILE_PIXELS: f64 = 256.0;

/// Most tiles one query reads: a 4096-pixel-wide map (a large GetMap) at
/// its zoom covers 16 × 16 tiles of 256 pixels; a query needing more reads
/// the next zoom up, a quarter as many tiles, so that the work of one query
/// stays bounded whatever its size.
pub const MAX_TILES_PER_QUERY: u64 = 256;

/// Bytes of decompressed tiles kept per archive: a few hundred typical
/// tiles, enough for every layer of one map to reuse the same tiles.
const TILE_CACHE_BYTES: usize = 32 << 20;

/// Most tiles tried at the minimum zoom for the layer names of an archive
/// whose metadata lists none.
const MAX_PROBED_TILES: u64 = 64;

/// Most skipped tiles and features logged per archive (then silently
/// skipped): a damaged archive needs repairing, not endless log lines.
const MAX_LOGGED: usize = 4096;

/// One MVT layer, by name, of a vector tile archive.
pub struct MvtArchiveLayer {
    archive: Arc<Archive>,
    name: String,
    description: Option<String>,
    fields: Vec<Field>,
    /// Field index by key name.
    field_index: FxHashMap<String, usize>,
    crs: Arc<Crs>,
    extent: Option<[f64; 4]>,
}

/// What the layers of one archive share.
struct Archive {
    tiles: Arc<dyn TileArchive>,
    /// Names the archive in errors and logs.
    path: PathBuf,
    inflated: ByteLru<TileCoord, Inflated>,
    logged: Mutex<HashSet<String>>,
}

/// A tile's bytes, decompressed.
struct Inflated(Vec<u8>);

impl Weighed for Inflated {
    fn weight(&self) -> usize {
        self.0.capacity()
    }
}

impl MvtArchiveLayer {
    /// One source per layer of `archive`, named in errors and logs by its
    /// metadata name.
    pub fn layers(archive: Arc<dyn TileArchive>) -> Result<Vec<MvtArchiveLayer>> {
        let label = archive
            .metadata()
            .name
            .clone()
            .unwrap_or_else(|| "vector tile archive".into());
        Self::layers_at(archive, Path::new(&label))
    }

    /// One source per layer of `archive`, the file at `path`: the layers
    /// its metadata lists in `vector_layers` (TileJSON 3.0.0 §3.3), else
    /// those of the first tile found at its minimum zoom.
    pub fn layers_at(archive: Arc<dyn TileArchive>, path: &Path) -> Result<Vec<MvtArchiveLayer>> {
        let metadata = archive.metadata();
        if metadata.format != TileFormat::Mvt {
            return Err(Error::Unsupported {
                path: path.to_owned(),
                detail: format!(
                    "tiles are {:?}, not MVT: not a source of features",
                    metadata.format
                ),
            });
        }
        let crs = Crs::shared(3857)?;
        let extent = metadata
            .bounds
            .and_then(valid_bounds)
            .and_then(|[w, s, e, n]| {
                let wgs84 = Crs::shared(4326).ok()?;
                Transform::new(&wgs84, &crs).bounds(&[(w, s), (e, n)])
            });
        let shared = Arc::new(Archive {
            tiles: Arc::clone(&archive),
            path: path.to_owned(),
            inflated: ByteLru::new(TILE_CACHE_BYTES),
            logged: Mutex::default(),
        });
        let declared = match &metadata.vector_layers {
            Some(serde_json::Value::Array(layers)) if !layers.is_empty() => {
                layers.iter().filter_map(declared_layer).collect()
            }
            _ => shared.probed_layers(metadata.minzoom, metadata.bounds)?,
        };
        Ok(declared
            .into_iter()
            .map(
                |Declared {
                     name,
                     description,
                     fields,
                 }| MvtArchiveLayer {
                    archive: Arc::clone(&shared),
                    description: description.or_else(|| metadata.description.clone()),
                    field_index: fields
                        .iter()
                        .enumerate()
                        .map(|(i, f): (usize, &Field)| (f.name.clone(), i))
                        .collect(),
                    fields,
                    name,
                    crs: Arc::clone(&crs),
                    extent,
                },
            )
            .collect())
    }
}

/// A layer as the archive declares it, before it is a source.
struct Declared {
    name: String,
    description: Option<String>,
    fields: Vec<Field>,
}

/// A layer's name, description and fields from its `vector_layers` entry:
/// `Number` is read as real, `String` as text, `Boolean` as boolean (any
/// case; other types as text). `None` when it has no `id`.
fn declared_layer(entry: &serde_json::Value) -> Option<Declared> {
    let name = entry.get("id")?.as_str()?.to_owned();
    let description = entry
        .get("description")
        .and_then(|d| d.as_str())
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let mut fields: Vec<Field> = entry
        .get("fields")
        .and_then(|f| f.as_object())
        .into_iter()
        .flatten()
        .map(|(name, kind)| Field {
            name: name.clone(),
            field_type: match kind.as_str().map(str::to_ascii_lowercase).as_deref() {
                Some("number") => FieldType::Real,
                Some("boolean") => FieldType::Boolean,
                _ => FieldType::Text,
            },
        })
        .collect();
    fields.sort_by(|a, b| a.name.cmp(&b.name));
    Some(Declared {
        name,
        description,
        fields,
    })
}

impl Archive {
    /// The layers, and their keys as fields typed by their first value, of
    /// the first tile found at `minzoom` among at most [`MAX_PROBED_TILES`]
    /// tiles over `bounds` (the world when unknown).
    fn probed_layers(&self, minzoom: u8, bounds: Option<[f64; 4]>) -> Result<Vec<Declared>> {
        let crs = Crs::shared(3857)?;
        let wgs84 = Crs::shared(4326)?;
        let area = bounds
            .and_then(valid_bounds)
            .and_then(|[w, s, e, n]| Transform::new(&wgs84, &crs).bounds(&[(w, s), (e, n)]))
            .unwrap_or([-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD]);
        for coord in covering(&[area], minzoom).take(MAX_PROBED_TILES as usize) {
            let Some(tile) = self.inflated(coord)? else {
                continue;
            };
            let layers = decode::layers(&tile.0).map_err(|detail| Error::Corrupt {
                path: self.path.clone(),
                format: "MVT tile",
                detail: format!("tile {coord}: {detail}"),
            })?;
            return Ok(layers
                .iter()
                .map(|layer| {
                    let mut fields = Vec::<Field>::new();
                    for feature in 0..layer.features.len() {
                        let Ok(feature) = layer.feature(feature) else {
                            continue;
                        };
                        for (k, v) in feature.tags {
                            if fields.iter().all(|f| f.name != layer.keys[k]) {
                                fields.push(Field {
                                    name: layer.keys[k].to_owned(),
                                    field_type: match layer.values[v] {
                                        Value::Bool(_) => FieldType::Boolean,
                                        Value::Int(_) | Value::Float(_) => FieldType::Real,
                                        _ => FieldType::Text,
                                    },
                                });
                            }
                        }
                    }
                    fields.sort_by(|a, b| a.name.cmp(&b.name));
                    Declared {
                        name: layer.name.to_owned(),
                        description: None,
                        fields,
                    }
                })
                .collect());
        }
        Err(Error::Unsupported {
            path: self.path.clone(),
            detail: format!(
                "no vector_layers in the metadata and no tile among the first \
                 {MAX_PROBED_TILES} at zoom {minzoom} to list the layers from"
            ),
        })
    }

    /// The tile at `coord` decompressed, through the cache; `Ok(None)`
    /// when the archive has none, `Err(Corrupt)` when it cannot be
    /// decompressed.
    fn inflated(&self, coord: TileCoord) -> Result<Option<Arc<Inflated>>> {
        if let Some(hit) = self.inflated.get(&coord) {
            return Ok(Some(hit));
        }
        let Some(tile) = self.tiles.get_tile(coord)? else {
            return Ok(None);
        };
        self.inflated
            .get_or_insert_with(coord, || {
                decompress(
                    tile.encoding,
                    &tile.data,
                    MAX_DECODED_TILE_BYTES,
                    &self.path,
                    "MVT tile",
                )
                .map(Inflated)
            })
            .map(Some)
    }

    /// Logs `what` once (per archive, up to [`MAX_LOGGED`] distinct ones).
    fn skipped(&self, what: String) {
        // A poisoned lock only means another thread panicked while logging.
        let mut logged = self.logged.lock().unwrap_or_else(|e| e.into_inner());
        if logged.len() >= MAX_LOGGED || logged.contains(&what) {
            return;
        }
        tracing::warn!(path = %self.path.display(), "{what}: skipped");
        logged.insert(what);
        if logged.len() == MAX_LOGGED {
            tracing::warn!(path = %self.path.display(),
                "{MAX_LOGGED} skipped tiles and features logged; further ones go unlogged");
        }
    }
}

/// The zoom whose tile pixels ([`TILE_PIXELS`] per tile) are the finest no
/// finer than `metres_per_pixel`, within `minzoom..=maxzoom` (past
/// `maxzoom`, its tiles are read and drawn larger).
pub fn zoom_for(metres_per_pixel: f64, minzoom: u8, maxzoom: u8) -> u8 {
    let z0 = 2.0 * HALF_WORLD / TILE_PIXELS;
    // A hair of slack, so that a resolution computed as exactly a zoom's
    // does not round one zoom deeper.
    let z = ((z0 / metres_per_pixel).log2() - 1e-9).ceil();
    let z = if z.is_nan() || z > f64::from(maxzoom) {
        f64::from(maxzoom)
    } else {
        z.max(f64::from(minzoom))
    };
    z as u8
}

/// The tiles of zoom `z` whose interior meets one of `boxes` (EPSG:3857,
/// clamped to the world), each once.
fn covering(boxes: &[[f64; 4]], z: u8) -> impl Iterator<Item = TileCoord> + '_ {
    let ranges: Vec<[u32; 4]> = boxes.iter().filter_map(|&b| tile_range(b, z)).collect();
    let mut seen = HashSet::new();
    ranges
        .into_iter()
        .flat_map(move |[x0, y0, x1, y1]| {
            (y0..=y1)
                .flat_map(move |y| (x0..=x1).map(move |x| (x, y)))
                .filter_map(move |(x, y)| TileCoord::new(z, x, y).ok())
                .collect::<Vec<_>>()
        })
        .filter(move |c| seen.insert(*c))
}

/// `[min_col, min_row, max_col, max_row]` of zoom `z` meeting `bbox`'s
/// interior (a box along a tile edge does not take the tile beyond);
/// `None` when it misses the world.
fn tile_range(bbox: [f64; 4], z: u8) -> Option<[u32; 4]> {
    let n = f64::from(1u32 << z);
    let size = 2.0 * HALF_WORLD / n;
    let clamp = |v: f64| v.clamp(-HALF_WORLD, HALF_WORLD);
    let [x0, y0, x1, y1] = bbox.map(clamp);
    if !(x0 < x1 && y0 < y1) {
        return None;
    }
    let last = n - 1.0;
    // A box computed to lie on a tile edge may miss it by a rounding
    // error: a billionth of a tile is taken as on the edge.
    const SNAP: f64 = 1e-9;
    let col0 = ((x0 + HALF_WORLD) / size + SNAP).floor().clamp(0.0, last);
    let col1 = ((x1 + HALF_WORLD) / size - SNAP).ceil() - 1.0;
    let row0 = ((HALF_WORLD - y1) / size + SNAP).floor().clamp(0.0, last);
    let row1 = ((HALF_WORLD - y0) / size - SNAP).ceil() - 1.0;
    let (col1, row1) = (col1.clamp(col0, last), row1.clamp(row0, last));
    Some([col0 as u32, row0 as u32, col1 as u32, row1 as u32])
}

/// How many tiles of zoom `z` [`covering`] gives at most.
fn tile_count(boxes: &[[f64; 4]], z: u8) -> u64 {
    boxes
        .iter()
        .filter_map(|&b| tile_range(b, z))
        .map(|[x0, y0, x1, y1]| u64::from(x1 - x0 + 1) * u64::from(y1 - y0 + 1))
        .sum()
}

impl FeatureSource for MvtArchiveLayer {
    fn name(&self) -> &str {
        &self.name
    }

    fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    fn fields(&self) -> &[Field] {
        &self.fields
    }

    fn crs(&self) -> &Crs {
        &self.crs
    }

    fn geometry_type(&self) -> &str {
        "GEOMETRY"
    }

    fn cut_at_tiles(&self) -> bool {
        true
    }

    fn extent(&self) -> Option<[f64; 4]> {
        self.extent
    }

    fn features(&self, query: &FeatureQuery, visit: &mut dyn FnMut(&mut Feature)) -> Result<()> {
        let crs = query.bbox.crs();
        let (boxes, scale) = query.boxes_in(&self.crs);
        if boxes.is_empty() {
            return Ok(());
        }
        // The query's pixel (twice the tolerance) in metres.
        let metadata = self.archive.tiles.metadata();
        let mut z = zoom_for(
            2.0 * query.tolerance * scale,
            metadata.minzoom,
            metadata.maxzoom,
        );
        while tile_count(&boxes, z) > MAX_TILES_PER_QUERY {
            if z <= metadata.minzoom {
                // Coarser than the archive's coarsest tiles allow: the
                // layer is not drawn at this scale, as a web map leaves a
                // source out below its minimum zoom.
                tracing::debug!(path = %self.archive.path.display(), layer = %self.name,
                    "query needs more than {MAX_TILES_PER_QUERY} tiles even at zoom {z}: nothing read");
                return Ok(());
            }
            z -= 1;
        }
        let to_query = Transform::new(&self.crs, crs);
        let mut count = 0;
        for coord in covering(&boxes, z) {
            query.deadline.check("reading vector archive tiles")?;
            let tile = match self.archive.inflated(coord) {
                Ok(Some(tile)) => tile,
                Ok(None) => continue,
                Err(e) if e.kind() == crate::ErrorKind::Corrupt => {
                    self.archive.skipped(format!("tile {coord}: {e}"));
                    continue;
                }
                Err(e) => return Err(e),
            };
            let layer = match decode::layer_named(&tile.0, &self.name) {
                Ok(Some(layer)) => layer,
                Ok(None) => continue,
                Err(e) => {
                    self.archive
                        .skipped(format!("tile {coord}: corrupt MVT: {e}"));
                    continue;
                }
            };
            let placement = Placement::new(coord, layer.extent);
            let fields: Vec<Option<usize>> = layer
                .keys
                .iter()
                .map(|k| self.field_index.get(*k).copied())
                .collect();
            for index in 0..layer.features.len() {
                let decoded = match layer.feature(index) {
                    Ok(feature) => feature,
                    Err(e) => {
                        self.archive.skipped(format!(
                            "tile {coord}, layer {:?}, feature #{index}: {e}",
                            self.name
                        ));
                        continue;
                    }
                };
                let mut geometry = decoded.geometry;
                placement.to_metres(&mut geometry);
                let Some(envelope) = envelope(&mut geometry) else {
                    continue;
                };
                if !boxes.iter().any(|b| meets(b, &envelope)) {
                    continue;
                }
                count += 1;
                if count > query.max {
                    return Err(Error::TooManyFeatures {
                        path: self.archive.path.clone(),
                        table: self.name.clone(),
                        limit: query.max,
                    });
                }
                if self.crs.epsg != crs.epsg {
                    reproject(&mut geometry, &to_query);
                }
                let mut values = vec![Value::Null; self.fields.len()];
                for (k, v) in decoded.tags {
                    if let Some(&Some(field)) = fields.get(k) {
                        values[field] = layer.values[v].clone();
                    }
                }
                visit(&mut Feature {
                    id: decoded.id,
                    geometry,
                    values,
                });
            }
        }
        Ok(())
    }
}

/// Where a tile's units lie in EPSG:3857: its top-left corner and the
/// metres per unit (tile origin top left, y down, §4.3.1).
struct Placement {
    left: f64,
    top: f64,
    unit: f64,
}

impl Placement {
    fn new(coord: TileCoord, extent: u32) -> Self {
        let size = 2.0 * HALF_WORLD / f64::from(1u32 << coord.z);
        Placement {
            left: -HALF_WORLD + f64::from(coord.x) * size,
            top: HALF_WORLD - f64::from(coord.y) * size,
            unit: size / f64::from(extent),
        }
    }

    /// Moves `geometry` from tile units to EPSG:3857 metres.
    fn to_metres(&self, geometry: &mut Geometry<f64>) {
        visit_coords(geometry, &mut |c| {
            c.x = self.left + c.x * self.unit;
            c.y = self.top - c.y * self.unit;
        });
    }
}

/// The bounding box of `geometry`, `None` when it has no coordinate.
fn envelope(geometry: &mut Geometry<f64>) -> Option<[f64; 4]> {
    let mut bounds: Option<[f64; 4]> = None;
    visit_coords(geometry, &mut |c| {
        let b = bounds.get_or_insert([c.x, c.y, c.x, c.y]);
        *b = [b[0].min(c.x), b[1].min(c.y), b[2].max(c.x), b[3].max(c.y)];
    });
    bounds
}

/// Whether two boxes meet (touching counts).
fn meets(a: &[f64; 4], b: &[f64; 4]) -> bool {
    a[0] <= b[2] && b[0] <= a[2] && a[1] <= b[3] && b[1] <= a[3]
}

#[cfg(test)]
mod tests;
