//! The catalog: layer id → layer, built from explicit layer specs and from
//! files discovered in folders. A file that fails to open disables its layer
//! with a logged error; every other layer is still served. Layers are built
//! here (`open.rs`, `geopackage.rs`) from the sources of `source/`, which
//! know nothing of layers.

mod geopackage;
mod open;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::Error;
use crate::metadata::TileSetMetadata;
use crate::source::{SourceContext, SOURCE_EXTENSIONS};

pub use geopackage::vector_layer;
pub use open::{Drawn, LayerSource};

/// A layer as configured (a `[[layers]]` table of the config file, or a
/// discovered file): a file and what to say about it. Options left `None`
/// come from the file's own metadata.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// The id in URLs; derived from the file name when `None`.
    pub id: Option<String>,
    pub path: PathBuf,
    pub title: Option<String>,
    pub description: Option<String>,
    pub attribution: Option<String>,
    pub minzoom: Option<u8>,
    pub maxzoom: Option<u8>,
    /// GeoTIFF rendering (ignored for archives): near, bilinear, cubic,
    /// average.
    pub resampling: Option<String>,
    /// GeoTIFF styling (ignored for archives): 1-based bands to show.
    pub bands: Option<Vec<usize>>,
    /// GeoTIFF styling: `[min, max]` per shown band, mapped to 0–255.
    pub rescale: Option<Vec<[f64; 2]>>,
    /// GeoTIFF styling: `greys`, `viridis` or `terrain` for one band.
    pub colormap: Option<String>,
    /// GeoTIFF styling: shade one band as elevation.
    #[serde(default)]
    pub hillshade: bool,
    /// GeoPackage tables served together as one vector tileset (one MVT
    /// layer each), or the one tile pyramid to serve.
    #[serde(default)]
    pub tables: Vec<TableSpec>,
    /// Vector tiles made from features: tile units per side (4096), the
    /// margin around the tile (64) and the simplification tolerance (1),
    /// both in tile units.
    pub extent: Option<u32>,
    pub buffer: Option<u32>,
    pub simplify: Option<f64>,
    /// URL of the layer's ISO 19115 / 19139 metadata record (WMS
    /// capabilities `MetadataURL`).
    pub metadata_url: Option<String>,
}

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

impl LayerSpec {
    /// The encoding of a vector layer made from features.
    pub fn mvt(&self) -> crate::mvt::MvtOptions {
        let default = crate::mvt::MvtOptions::default();
        crate::mvt::MvtOptions {
            extent: self.extent.unwrap_or(default.extent),
            buffer: self.buffer.unwrap_or(default.buffer),
            tolerance: self.simplify.unwrap_or(default.tolerance),
        }
    }

    /// The styling options of a GeoTIFF layer.
    pub fn style(&self) -> crate::raster_style::StyleSpec {
        crate::raster_style::StyleSpec {
            resampling: self.resampling.clone(),
            bands: self.bands.clone(),
            rescale: self.rescale.clone(),
            colormap: self.colormap.clone(),
            hillshade: self.hillshade,
        }
    }
}

/// A served layer: a source and its metadata, with config overrides applied.
pub struct Layer {
    pub id: String,
    pub path: PathBuf,
    pub source: LayerSource,
    /// The source's metadata with the layer's overrides applied.
    pub metadata: TileSetMetadata,
}

/// A layer that could not be loaded, kept to report at start-up.
#[derive(Debug)]
pub struct LoadFailure {
    pub id: String,
    pub error: Error,
}

/// Layers by id, in id order.
#[derive(Default)]
pub struct Catalog {
    layers: BTreeMap<String, Arc<Layer>>,
}

/// Ids that would shadow a route of the server.
pub const RESERVED_IDS: &[&str] = &[
    "catalog",
    "health",
    "tileMatrixSets",
    "wmts",
    "wms",
    "favicon.ico",
];

/// Deepest folder level searched by discovery.
const MAX_DISCOVERY_DEPTH: usize = 8;

impl Catalog {
    /// Loads every spec. Specs without an id get one from the file stem,
    /// made unique with a numeric suffix.
    pub fn load(specs: Vec<LayerSpec>, ctx: &Arc<SourceContext>) -> (Catalog, Vec<LoadFailure>) {
        let mut catalog = Catalog::default();
        let mut failures = Vec::new();
        for spec in specs {
            if open::is_geopackage(&spec.path) {
                catalog.load_geopackage(&spec, ctx, &mut failures);
                continue;
            }
            let id = match &spec.id {
                Some(id) => id.clone(),
                None => catalog.unique_id(&spec.path),
            };
            let opened = open::open_file(&spec.path, &spec.style(), ctx);
            catalog.insert(id, &spec, opened, &mut failures);
        }
        (catalog, failures)
    }

    /// The layers of a GeoPackage: one per table, named after it, unless
    /// the spec names tables to serve together (then one, with the spec's
    /// id or the file's name).
    fn load_geopackage(
        &mut self,
        spec: &LayerSpec,
        ctx: &Arc<SourceContext>,
        failures: &mut Vec<LoadFailure>,
    ) {
        match geopackage::open_layers(&spec.path, &spec.tables, &spec.style(), spec.mvt(), ctx) {
            Ok(layers) => {
                let count = layers.len();
                for (table, opened) in layers {
                    let id = match (&spec.id, spec.tables.is_empty()) {
                        // Named tables, or a file of one table: the spec's id.
                        (Some(id), false) => id.clone(),
                        (Some(id), true) if count == 1 => id.clone(),
                        (None, false) => self.unique_id(&spec.path),
                        _ => self.unique_name(&table),
                    };
                    self.insert(id, spec, opened, failures);
                }
            }
            Err(error) => {
                let id = spec
                    .id
                    .clone()
                    .unwrap_or_else(|| self.unique_id(&spec.path));
                tracing::error!(layer = %id, error = %error, "layer disabled");
                failures.push(LoadFailure { id, error });
            }
        }
    }

    /// Adds the layer `id` opened from `spec`, or records why it could not
    /// be (an id used twice is an error too).
    fn insert(
        &mut self,
        id: String,
        spec: &LayerSpec,
        opened: crate::error::Result<LayerSource>,
        failures: &mut Vec<LoadFailure>,
    ) {
        if self.layers.contains_key(&id) {
            failures.push(LoadFailure {
                id: id.clone(),
                error: Error::invalid(format!(
                    "layer id {id:?} is used twice (second: {})",
                    spec.path.display()
                )),
            });
            return;
        }
        let opened = opened.and_then(|source| {
            let metadata = apply_overrides(source.metadata().clone(), spec)?;
            Ok((source, metadata))
        });
        match opened {
            Ok((source, metadata)) => {
                tracing::info!(layer = %id, path = %spec.path.display(),
                    format = ?metadata.format, "layer loaded");
                let layer = Layer {
                    id: id.clone(),
                    path: spec.path.clone(),
                    source,
                    metadata,
                };
                self.layers.insert(id, Arc::new(layer));
            }
            Err(error) => {
                tracing::error!(layer = %id, error = %error, "layer disabled");
                failures.push(LoadFailure { id, error });
            }
        }
    }

    /// The layer with this id (shared: a render on another thread holds it).
    pub fn get(&self, id: &str) -> Option<&Arc<Layer>> {
        self.layers.get(id)
    }

    /// Every layer, in id order.
    pub fn layers(&self) -> impl Iterator<Item = &Layer> {
        self.layers.values().map(|layer| &**layer)
    }

    pub fn len(&self) -> usize {
        self.layers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.layers.is_empty()
    }

    fn unique_id(&self, path: &Path) -> String {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default();
        self.unique_name(&stem)
    }

    /// `name` made a valid id no layer has yet.
    fn unique_name(&self, name: &str) -> String {
        let mut base = sanitize_id(name);
        if RESERVED_IDS.contains(&base.as_str()) {
            base.push_str("-layer");
        }
        let mut id = base.clone();
        let mut n = 2;
        while self.layers.contains_key(&id) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// The archive's metadata with the spec's overrides; an error when the
/// zooms they leave are empty.
fn apply_overrides(mut meta: TileSetMetadata, spec: &LayerSpec) -> Result<TileSetMetadata, Error> {
    if spec.title.is_some() {
        meta.name = spec.title.clone();
    }
    if spec.description.is_some() {
        meta.description = spec.description.clone();
    }
    if spec.attribution.is_some() {
        meta.attribution = spec.attribution.clone();
    }
    if spec.metadata_url.is_some() {
        meta.metadata_url = spec.metadata_url.clone();
    }
    meta.minzoom = spec.minzoom.unwrap_or(meta.minzoom);
    meta.maxzoom = spec.maxzoom.unwrap_or(meta.maxzoom);
    if meta.minzoom > meta.maxzoom {
        return Err(Error::invalid(format!(
            "{}: minzoom {} is above maxzoom {} once the configured zooms are applied",
            spec.path.display(),
            meta.minzoom,
            meta.maxzoom
        )));
    }
    Ok(meta)
}

/// Whether `id` is usable as a layer id in URLs: non-empty ASCII letters,
/// digits, `-`, `_` and `.` (not starting with a dot), and not reserved.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('.')
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !RESERVED_IDS.contains(&id)
}

/// A file stem made into a valid id: other characters become `_`.
fn sanitize_id(stem: &str) -> String {
    let id: String = stem
        .chars()
        .take(128)
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let id = id.trim_start_matches('.');
    if id.is_empty() {
        "layer".to_owned()
    } else {
        id.to_owned()
    }
}

/// Layer specs for `path`: the file itself, or every archive found under a
/// folder (sorted, hidden entries skipped, symlinks followed to a bounded depth).
pub fn discover(path: &Path) -> std::io::Result<Vec<LayerSpec>> {
    let mut files = Vec::new();
    if path.is_dir() {
        walk(path, 0, &mut files)?;
    } else {
        std::fs::metadata(path)?;
        files.push(path.to_owned());
    }
    Ok(files
        .into_iter()
        .map(|path| LayerSpec {
            path,
            ..LayerSpec::default()
        })
        .collect())
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if depth < MAX_DISCOVERY_DEPTH {
                walk(&path, depth + 1, out)?;
            }
        } else if has_source_extension(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn has_source_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| SOURCE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_file_names_are_url_safe() {
        assert_eq!(sanitize_id("stamen toner(raster)"), "stamen_toner_raster_");
        assert_eq!(sanitize_id("..hidden"), "hidden");
        assert_eq!(sanitize_id(""), "layer");
        assert!(is_valid_id("osm-bright_v2.1"));
        assert!(!is_valid_id("../etc"));
        assert!(!is_valid_id("catalog"));
        assert!(!is_valid_id(""));
    }
}
