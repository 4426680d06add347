//! Tuilerie's style model: MapLibre GL style JSON (style spec v8). SLD/SE
//! and QGIS QML converters will produce this model; the engine compiles it
//! into draw rules. Pure: no IO beyond parsing text.
//!
//! This first piece reads a style's skeleton (sources and layers, with the
//! references between them checked); paint and layout properties, filters
//! and expressions are kept as JSON until the renderer needs them typed.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use serde_json::Value;

/// A MapLibre style document (style spec, "Root").
#[derive(Debug, Clone, Deserialize)]
pub struct Style {
    pub version: u8,
    pub name: Option<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, Source>,
    #[serde(default)]
    pub layers: Vec<StyleLayer>,
}

/// A data source of a style (style spec, "Sources").
#[derive(Debug, Clone, Deserialize)]
pub struct Source {
    #[serde(rename = "type")]
    pub kind: SourceKind,
    /// A TileJSON URL.
    pub url: Option<String>,
    /// Tile URL templates, when given inline.
    pub tiles: Option<Vec<String>>,
}

/// The source types of the style spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SourceKind {
    Vector,
    Raster,
    RasterDem,
    Geojson,
    Image,
    Video,
}

/// A style layer (style spec, "Layers").
#[derive(Debug, Clone, Deserialize)]
pub struct StyleLayer {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: LayerKind,
    pub source: Option<String>,
    #[serde(rename = "source-layer")]
    pub source_layer: Option<String>,
    pub minzoom: Option<f64>,
    pub maxzoom: Option<f64>,
    pub filter: Option<Value>,
    #[serde(default)]
    pub paint: serde_json::Map<String, Value>,
    #[serde(default)]
    pub layout: serde_json::Map<String, Value>,
}

/// The layer types of the style spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LayerKind {
    Background,
    Fill,
    Line,
    Symbol,
    Raster,
    Circle,
    FillExtrusion,
    Heatmap,
    Hillshade,
    ColorRelief,
}

/// Why a style was rejected; messages name the layer or source at fault.
#[derive(Debug, thiserror::Error)]
pub enum StyleError {
    #[error("style JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("style version {0} is not supported; MapLibre styles are version 8")]
    Version(u8),
    #[error("layer id {0:?} is used twice")]
    DuplicateLayer(String),
    #[error("layer {layer:?} needs a source")]
    MissingSource { layer: String },
    #[error("layer {layer:?} uses source {source_id:?}, which the style does not define")]
    UnknownSource { layer: String, source_id: String },
}

impl Style {
    /// Parses and checks a style: version 8, unique layer ids, and every
    /// layer but `background` bound to a defined source.
    pub fn from_json(text: &str) -> Result<Style, StyleError> {
        let style: Style = serde_json::from_str(text)?;
        if style.version != 8 {
            return Err(StyleError::Version(style.version));
        }
        let mut seen = HashSet::new();
        for layer in &style.layers {
            if !seen.insert(layer.id.as_str()) {
                return Err(StyleError::DuplicateLayer(layer.id.clone()));
            }
            match (&layer.source, layer.kind) {
                (None, LayerKind::Background) => {}
                (None, _) => {
                    return Err(StyleError::MissingSource {
                        layer: layer.id.clone(),
                    })
                }
                (Some(source), _) if !style.sources.contains_key(source) => {
                    return Err(StyleError::UnknownSource {
                        layer: layer.id.clone(),
                        source_id: source.clone(),
                    })
                }
                _ => {}
            }
        }
        Ok(style)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(name: &str) -> String {
        let path = format!(
            "{}/../data-samples/styles/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(path).expect("sample style")
    }

    #[test]
    fn the_maplibre_demo_style_parses() {
        let style = Style::from_json(&sample("maplibre_demotiles.json")).unwrap();
        assert_eq!(style.sources["maplibre"].kind, SourceKind::Vector);
        assert_eq!(style.layers[0].kind, LayerKind::Background);
        assert!(style
            .layers
            .iter()
            .any(|l| l.source_layer.as_deref() == Some("countries")));
    }

    #[test]
    fn osm_liberty_mixes_raster_and_vector_sources() {
        let style = Style::from_json(&sample("osm-liberty-lite.json")).unwrap();
        let natural_earth = style
            .layers
            .iter()
            .find(|l| l.id == "natural_earth")
            .unwrap();
        assert_eq!(natural_earth.kind, LayerKind::Raster);
        assert_eq!(
            style.sources["natural_earth_shaded_relief"].kind,
            SourceKind::Raster
        );
        let water = style.layers.iter().find(|l| l.id == "water").unwrap();
        assert_eq!(water.source_layer.as_deref(), Some("water"));
        assert!(water.paint.contains_key("fill-color"));
    }

    #[test]
    fn broken_styles_are_rejected_with_the_culprit_named() {
        let v7 = r#"{"version": 7, "sources": {}, "layers": []}"#;
        assert!(matches!(Style::from_json(v7), Err(StyleError::Version(7))));
        let dangling = r#"{"version": 8, "sources": {},
            "layers": [{"id": "roads", "type": "line", "source": "osm"}]}"#;
        let err = Style::from_json(dangling).unwrap_err().to_string();
        assert!(
            err.contains("\"roads\"") && err.contains("\"osm\""),
            "{err}"
        );
        let twice = r#"{"version": 8, "layers": [{"id": "bg", "type": "background"},
            {"id": "bg", "type": "background"}]}"#;
        assert!(matches!(
            Style::from_json(twice),
            Err(StyleError::DuplicateLayer(_))
        ));
        assert!(Style::from_json("{\"version\": 8, \"layers\": [{\"id\": 1}]}").is_err());
    }
}
