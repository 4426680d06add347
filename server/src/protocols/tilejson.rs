//! TileJSON 3.0.0 for a layer: `GET /{layer}`.

use hyper::header;
use hyper::StatusCode;
use serde_json::{json, Map, Value};
use tuilerie_engine::{Layer, TileFormat};

use crate::reply::Reply;
use crate::Settings;

/// TileJSON 3.0.0 §3.3: bounds default to the WebMercator world.
const WORLD_BOUNDS: [f64; 4] = [-180.0, -85.051_128_779_806_6, 180.0, 85.051_128_779_806_6];

/// The XYZ tile URL template of a layer.
pub fn tiles_url(layer: &Layer, base: &str) -> String {
    let ext = layer
        .metadata
        .format
        .extension()
        .map_or(String::new(), |e| format!(".{e}"));
    format!("{base}/{}/{{z}}/{{x}}/{{y}}{ext}", layer.id)
}

/// The TileJSON document of `layer`, with URLs under `base`.
pub fn document(layer: &Layer, base: &str) -> Value {
    let meta = &layer.metadata;
    let bounds = meta.bounds.unwrap_or(WORLD_BOUNDS);
    let center = meta.center.unwrap_or_else(|| {
        [
            (bounds[0] + bounds[2]) / 2.0,
            (bounds[1] + bounds[3]) / 2.0,
            f64::from(meta.minzoom),
        ]
    });
    let mut doc = Map::new();
    doc.insert("tilejson".into(), json!("3.0.0"));
    doc.insert("tiles".into(), json!([tiles_url(layer, base)]));
    doc.insert(
        "name".into(),
        json!(meta.name.as_deref().unwrap_or(&layer.id)),
    );
    let optional = [
        ("description", &meta.description),
        ("attribution", &meta.attribution),
        ("version", &meta.version),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            doc.insert(key.into(), json!(v));
        }
    }
    doc.insert("scheme".into(), json!("xyz"));
    doc.insert("minzoom".into(), json!(meta.minzoom));
    doc.insert("maxzoom".into(), json!(meta.maxzoom));
    doc.insert("bounds".into(), json!(bounds));
    doc.insert("center".into(), json!(center));
    if meta.format == TileFormat::Mvt {
        // Required for vector tilesets (TileJSON 3.0.0 §3.2); an archive that
        // does not list its layers gets an empty list rather than none.
        doc.insert(
            "vector_layers".into(),
            meta.vector_layers.clone().unwrap_or_else(|| json!([])),
        );
    }
    Value::Object(doc)
}

/// The TileJSON reply.
pub fn reply(layer: &Layer, base: &str, settings: &Settings) -> Reply {
    Reply::json(StatusCode::OK, &document(layer, base))
        .header(header::CACHE_CONTROL, settings.cache_control.clone())
}
