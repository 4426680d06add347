//! Tile matrix sets as OGC API – Tiles publishes them: `GET /tileMatrixSets`
//! lists them with links, `GET /tileMatrixSets/{id}` gives one in the TMS 2.0
//! JSON encoding.

use hyper::header;
use hyper::StatusCode;
use serde_json::json;
use tuilerie_engine::tms::TileMatrixSets;

use crate::reply::Reply;
use crate::Settings;

/// The list of sets, each with a `self` link under `base`.
pub fn list(sets: &TileMatrixSets, base: &str, settings: &Settings) -> Reply {
    let items: Vec<_> = sets
        .iter()
        .map(|tms| {
            json!({
                "id": tms.id,
                "title": tms.title,
                "uri": tms.uri,
                "crs": tms.crs,
                "links": [{
                    "rel": "self",
                    "type": "application/json",
                    "href": format!("{base}/tileMatrixSets/{}", tms.id),
                }],
            })
        })
        .collect();
    Reply::json(StatusCode::OK, &json!({ "tileMatrixSets": items }))
        .header(header::CACHE_CONTROL, settings.cache_control.clone())
}

/// One set's definition, or 404.
pub fn one(sets: &TileMatrixSets, id: &str, settings: &Settings) -> Reply {
    match sets.get(id) {
        Some(tms) => match serde_json::to_value(tms) {
            Ok(doc) => Reply::json(StatusCode::OK, &doc)
                .header(header::CACHE_CONTROL, settings.cache_control.clone()),
            Err(e) => Reply::error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        },
        None => Reply::error(
            StatusCode::NOT_FOUND,
            format!("tile matrix set {id:?} not found; see /tileMatrixSets"),
        ),
    }
}
