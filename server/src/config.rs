//! The TOML configuration: a thin serde layer, every option defaulted so that
//! zero configuration works. Documented option by option in `docs/config.md`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use tuilerie_engine::catalog::is_valid_id;
use tuilerie_engine::tile::MAX_ZOOM;
use tuilerie_engine::tms::{TileMatrixSet, TileMatrixSets};
use tuilerie_engine::LayerSpec;

/// Where the server listens when neither `--bind` nor `bind` says.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";

/// `Cache-Control` of tiles and TileJSON unless configured: an hour in
/// browsers and shared caches, as a compromise between freshness after a
/// data update and load on the server.
pub const DEFAULT_CACHE_CONTROL: &str = "public, max-age=3600";

/// How long one render may run unless configured: over three hundred
/// times the slowest ordinary tile in a release build (a dense z12 vector
/// tile, 30 ms; a reprojected raster tile takes under 10), room for debug
/// builds and loaded machines, and short enough that a pathological
/// request gives its CPU slot back within a client's patience.
pub const DEFAULT_RENDER_TIMEOUT_MS: u64 = 10_000;

/// Widest and tallest WMS GetMap image unless configured, pixels:
/// MapServer's `MAXSIZE` default, a 4096² RGBA buffer is 64 MiB, enough
/// for a print at 300 dpi of an A4 page's width (3508 px).
pub const DEFAULT_WMS_MAX_SIZE: u32 = 4096;

/// Most layers (a group counts as one) one WMS GetMap may name unless
/// configured: each is a render of its own, and 32 is far beyond what a
/// client stacks into one map while keeping a request's work bounded.
pub const DEFAULT_WMS_LAYER_LIMIT: u32 = 32;

/// The configuration file, as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Address to listen on, e.g. `"0.0.0.0:8080"`.
    pub bind: Option<SocketAddr>,
    /// Files or folders whose archives become layers by discovery.
    #[serde(default)]
    pub paths: Vec<PathBuf>,
    /// Layers named explicitly (`id` is required here).
    #[serde(default)]
    pub layers: Vec<LayerSpec>,
    /// `Cache-Control` header of tiles and TileJSON.
    pub cache_control: Option<String>,
    /// What a missing vector tile inside a layer's zooms answers.
    pub empty_vector_tiles: Option<EmptyVectorTiles>,
    /// What a rendered raster tile with no data at all answers.
    pub empty_raster_tiles: Option<EmptyRasterTiles>,
    /// Send CORS headers (`Access-Control-Allow-Origin: *`); default true.
    pub cors: Option<bool>,
    /// Public base URL (e.g. `https://tiles.example.org/maps`) used in
    /// TileJSON instead of the one derived from the request headers.
    pub public_url: Option<String>,
    /// Bound of the PMTiles leaf-directory cache, in MiB.
    pub directory_cache_mib: Option<usize>,
    /// Bound of the decoded GeoTIFF block cache, in MiB.
    pub block_cache_mib: Option<usize>,
    /// Quality (1–100) of rendered JPEG tiles.
    pub jpeg_quality: Option<u8>,
    /// Bound of the cache of rendered tiles, in MiB (0 disables it).
    pub tile_cache_mib: Option<usize>,
    /// CPU jobs (tile decoding) running or queued at once; more answer 503.
    pub max_cpu_jobs: Option<usize>,
    /// How long one render (a raster tile, a vector tile) may run before
    /// it is abandoned and answered 503, in milliseconds.
    pub render_timeout_ms: Option<u64>,
    /// Who runs the service, for OGC capabilities documents.
    #[serde(default)]
    pub service: ServiceMetadata,
    /// TMS 2.0 JSON files of custom tile matrix sets, offered beside the
    /// registered ones.
    #[serde(default)]
    pub tile_matrix_sets: Vec<PathBuf>,
    /// WMS layer groups, nested under the root layer.
    #[serde(default)]
    pub wms_groups: Vec<WmsGroup>,
}

/// The answer to a missing vector tile inside the layer's zoom range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyVectorTiles {
    /// `204 No Content` (MapLibre, OpenLayers and Leaflet treat it as empty).
    #[default]
    NoContent,
    /// `200 OK` with an empty body, for clients that reject 204.
    Empty,
}

/// The `[service]` table: what OGC capabilities say about the service
/// (OWS Common 1.1 ServiceIdentification and ServiceProvider; WMS 1.3.0
/// `Service`, OGC 06-042 §7.2.4.2) and the WMS limits they announce.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceMetadata {
    pub title: Option<String>,
    #[serde(rename = "abstract")]
    pub summary: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    pub fees: Option<String>,
    pub access_constraints: Option<String>,
    /// The organization running the service (WMS `ContactOrganization`).
    pub provider_name: Option<String>,
    pub provider_site: Option<String>,
    pub contact_email: Option<String>,
    /// The service's own web page (WMS `Service/OnlineResource`); default:
    /// `provider_site`, else the server's base URL.
    pub online_resource: Option<String>,
    /// A person to contact (WMS `ContactPerson`).
    pub contact_person: Option<String>,
    /// That person's position (WMS `ContactPosition`).
    pub contact_position: Option<String>,
    /// Telephone (WMS `ContactVoiceTelephone`).
    pub contact_phone: Option<String>,
    /// Fax (WMS `ContactFacsimileTelephone`).
    pub contact_fax: Option<String>,
    /// Postal address (WMS `ContactAddress`): written when `address` or
    /// `city` is set, the other fields empty where not given.
    pub address_type: Option<String>,
    pub address: Option<String>,
    pub city: Option<String>,
    pub state_or_province: Option<String>,
    pub post_code: Option<String>,
    pub country: Option<String>,
    /// Most layers one GetMap may name (WMS `LayerLimit`).
    pub layer_limit: Option<u32>,
    /// Widest GetMap image, pixels (WMS `MaxWidth`).
    pub max_width: Option<u32>,
    /// Tallest GetMap image, pixels (WMS `MaxHeight`).
    pub max_height: Option<u32>,
    /// CRSs offered by every WMS layer beyond the defaults, e.g.
    /// `["EPSG:3035"]`.
    #[serde(default)]
    pub extra_crs: Vec<String>,
    /// INSPIRE view service extended capabilities (WMS 1.3.0 only).
    pub inspire: Option<InspireMetadata>,
}

/// The `[service.inspire]` table: INSPIRE Technical Guidance for View
/// Services 3.11, scenario 1 (a link to the service's metadata record).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InspireMetadata {
    /// URL of the service's ISO 19139 metadata record (e.g. a CSW
    /// GetRecordById request).
    pub metadata_url: String,
    /// ISO 639-2/B code of the default language; default `"eng"`.
    pub default_language: Option<String>,
    /// Other languages the service supports.
    #[serde(default)]
    pub supported_languages: Vec<String>,
    /// Language of this response; default: the default language.
    pub response_language: Option<String>,
}

impl InspireMetadata {
    /// The default language, `eng` unless configured.
    pub fn default_language(&self) -> &str {
        self.default_language.as_deref().unwrap_or("eng")
    }

    /// The language capabilities are written in.
    pub fn response_language(&self) -> &str {
        self.response_language
            .as_deref()
            .unwrap_or_else(|| self.default_language())
    }
}

/// A `[[wms_groups]]` table: a named WMS layer grouping catalog layers,
/// requestable by its name as GeoServer's layer groups are.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WmsGroup {
    pub name: String,
    pub title: Option<String>,
    #[serde(rename = "abstract")]
    pub summary: Option<String>,
    /// Catalog layer ids, drawn in this order (first at the bottom).
    pub layers: Vec<String>,
}

/// The answer to a rendered raster tile that is fully transparent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum EmptyRasterTiles {
    /// The transparent tile, `200` (what web maps draw without complaint).
    #[default]
    Transparent,
    /// `204 No Content`.
    NoContent,
    /// `404 Not Found`, as for tiles outside the layer.
    NotFound,
}

/// A configuration error, with the file and what is wrong (the TOML
/// parser's message carries the line and column).
#[derive(Debug, thiserror::Error)]
#[error("config file {path}: {message}")]
pub struct ConfigError {
    pub path: PathBuf,
    pub message: String,
}

impl ConfigFile {
    /// Reads and checks a configuration file. Relative paths in it are
    /// taken relative to the file's folder.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| error(e.to_string()))?;
        let mut config: ConfigFile = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
        config.check().map_err(error)?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in &mut config.paths {
            *p = base.join(&*p);
        }
        for layer in &mut config.layers {
            layer.path = base.join(&layer.path);
        }
        for tms in &mut config.tile_matrix_sets {
            *tms = base.join(&*tms);
        }
        Ok(config)
    }

    /// The registered tile matrix sets plus the custom ones this file
    /// names; an unreadable or invalid one is a configuration error.
    pub fn tile_matrix_sets(&self, path: &Path) -> Result<TileMatrixSets, ConfigError> {
        let error = |message: String| ConfigError {
            path: path.to_owned(),
            message,
        };
        let custom = self
            .tile_matrix_sets
            .iter()
            .map(|file| {
                let text = std::fs::read_to_string(file)
                    .map_err(|e| error(format!("tile matrix set {}: {e}", file.display())))?;
                TileMatrixSet::from_json(&text, &file.display().to_string())
                    .map_err(|e| error(e.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        TileMatrixSets::new(custom).map_err(|e| error(e.to_string()))
    }

    fn check(&self) -> Result<(), String> {
        for layer in &self.layers {
            let Some(id) = &layer.id else {
                return Err(format!("the layer of {} needs an id", layer.path.display()));
            };
            if !is_valid_id(id) {
                return Err(format!(
                    "layer id {id:?} must be letters, digits, '-', '_' or '.', \
                     and not a reserved name (catalog, health, tileMatrixSets, wmts, wms)"
                ));
            }
            for z in [layer.minzoom, layer.maxzoom].into_iter().flatten() {
                if z > MAX_ZOOM {
                    return Err(format!("layer {id:?}: zoom {z} is above {MAX_ZOOM}"));
                }
            }
            if let (Some(min), Some(max)) = (layer.minzoom, layer.maxzoom) {
                if min > max {
                    return Err(format!(
                        "layer {id:?}: minzoom {min} is above maxzoom {max}"
                    ));
                }
            }
        }
        if let Some(cc) = &self.cache_control {
            hyper::header::HeaderValue::from_str(cc)
                .map_err(|_| format!("cache_control {cc:?} is not a valid header value"))?;
        }
        if self.jpeg_quality.is_some_and(|q| !(1..=100).contains(&q)) {
            return Err("jpeg_quality must be between 1 and 100".into());
        }
        if self.max_cpu_jobs == Some(0) {
            return Err("max_cpu_jobs must be at least 1".into());
        }
        if self.render_timeout_ms == Some(0) {
            return Err("render_timeout_ms must be at least 1".into());
        }
        self.check_wms()?;
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "public_url {url:?} must start with http:// or https://"
                ));
            }
        }
        Ok(())
    }
}

impl ConfigFile {
    /// The WMS options: limits at least 1, groups with valid unique names
    /// naming at least one layer, CRSs by EPSG code, ISO 639-2/B languages.
    fn check_wms(&self) -> Result<(), String> {
        let service = &self.service;
        for (name, value) in [
            ("layer_limit", service.layer_limit),
            ("max_width", service.max_width),
            ("max_height", service.max_height),
        ] {
            if value == Some(0) {
                return Err(format!("service.{name} must be at least 1"));
            }
        }
        for crs in &service.extra_crs {
            let code = crs.strip_prefix("EPSG:").map(str::parse::<u32>);
            if !matches!(code, Some(Ok(_))) {
                return Err(format!(
                    "service.extra_crs: {crs:?} is not of the form \"EPSG:<code>\""
                ));
            }
        }
        if let Some(inspire) = &service.inspire {
            let languages = [inspire.default_language(), inspire.response_language()];
            for lang in languages
                .into_iter()
                .chain(inspire.supported_languages.iter().map(String::as_str))
            {
                if !(lang.len() == 3 && lang.bytes().all(|b| b.is_ascii_lowercase())) {
                    return Err(format!(
                        "service.inspire: language {lang:?} is not an ISO 639-2/B code such as \"eng\""
                    ));
                }
            }
        }
        for (i, group) in self.wms_groups.iter().enumerate() {
            if !is_valid_id(&group.name) {
                return Err(format!(
                    "wms_groups: name {:?} must be letters, digits, '-', '_' or '.'",
                    group.name
                ));
            }
            if self.wms_groups[..i].iter().any(|g| g.name == group.name) {
                return Err(format!("wms_groups: name {:?} is used twice", group.name));
            }
            if group.layers.is_empty() {
                return Err(format!("wms_groups: group {:?} has no layers", group.name));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, String> {
        let c: ConfigFile = toml::from_str(text).map_err(|e| e.to_string())?;
        c.check()?;
        Ok(c)
    }

    #[test]
    fn a_full_config_parses() {
        let c = parse(
            r#"
            bind = "0.0.0.0:9000"
            paths = ["tiles/"]
            cache_control = "no-cache"
            empty_vector_tiles = "empty"
            [[layers]]
            id = "firenze"
            path = "firenze.pmtiles"
            title = "Firenze"
            minzoom = 2
            maxzoom = 14
            "#,
        )
        .unwrap();
        assert_eq!(c.bind.unwrap().port(), 9000);
        assert_eq!(c.empty_vector_tiles, Some(EmptyVectorTiles::Empty));
        assert_eq!(c.layers[0].maxzoom, Some(14));
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let err = parse("bind = \"127.0.0.1:1\"\nlayerz = []\n").unwrap_err();
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("unknown field `layerz`"), "{err}");
        let err = parse("[[layers]]\nid = \"a\"\npath = \"x\"\nminzoom = \"two\"\n").unwrap_err();
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn semantic_errors_name_the_layer() {
        let err = parse("[[layers]]\npath = \"x.pmtiles\"\n").unwrap_err();
        assert!(err.contains("x.pmtiles needs an id"), "{err}");
        let err = parse("[[layers]]\nid = \"a b\"\npath = \"x\"\n").unwrap_err();
        assert!(err.contains("\"a b\""), "{err}");
        let err =
            parse("[[layers]]\nid = \"a\"\npath = \"x\"\nminzoom = 5\nmaxzoom = 3\n").unwrap_err();
        assert!(err.contains("minzoom 5 is above maxzoom 3"), "{err}");
        assert!(parse("jpeg_quality = 0")
            .unwrap_err()
            .contains("jpeg_quality"));
        for bad in [
            "[service]\nmax_width = 0",
            "[service]\nextra_crs = [\"3035\"]",
            "[service.inspire]\nmetadata_url = \"x\"\ndefault_language = \"en\"",
            "[[wms_groups]]\nname = \"a b\"\nlayers = [\"x\"]",
            "[[wms_groups]]\nname = \"g\"\nlayers = []",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let err = parse("cache_control = \"a\\nb\"").unwrap_err();
        assert!(err.contains("cache_control"), "{err}");
    }
}
