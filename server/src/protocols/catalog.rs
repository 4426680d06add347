//! The catalog: `GET /catalog` lists every layer with its format and URLs,
//! keyed by id under `tiles` as martin's catalog is, so tools written for
//! martin read it.

use hyper::StatusCode;
use serde_json::{json, Map};
use tuilerie_engine::Catalog;

use super::tilejson::tiles_url;
use crate::reply::Reply;

/// The catalog reply, with URLs under `base`.
pub fn reply(catalog: &Catalog, base: &str) -> Reply {
    let mut tiles = Map::new();
    for layer in catalog.layers() {
        let meta = &layer.metadata;
        tiles.insert(
            layer.id.clone(),
            json!({
                "name": meta.name.as_deref().unwrap_or(&layer.id),
                "description": meta.description,
                "attribution": meta.attribution,
                "content_type": meta.format.mime_type(),
                "format": meta.format,
                "minzoom": meta.minzoom,
                "maxzoom": meta.maxzoom,
                "tilejson": format!("{base}/{}", layer.id),
                "tiles": tiles_url(layer, base),
            }),
        );
    }
    Reply::json(StatusCode::OK, &json!({ "tiles": tiles }))
}
