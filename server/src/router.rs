//! Routing: method and path to a protocol handler, plus what every reply
//! shares (CORS, the per-request log line).
//!
//! Routes: `/health`, `/catalog`, `/tileMatrixSets[/{id}]`, `/wms` (KVP
//! over GET, or a POST form), `/wmts` (KVP)
//! and `/wmts/1.0.0/...` (RESTful), `/{layer}`
//! (TileJSON), `/{layer}/{z}/{x}/{y}[.ext]` (XYZ tiles) and
//! `/{layer}/{tileMatrixSet}/{tileMatrix}/{col}/{row}[.ext]`. Layer ids never
//! contain `/` and cannot be `catalog`, `health`, `tileMatrixSets`, `wms` or `wmts`, so the
//! routes cannot collide.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body;
use hyper::header::{self, HeaderValue};
use hyper::http::request::Parts;
use hyper::{Method, Request, Response, StatusCode};

use crate::protocols::{catalog, tile_matrix_sets, tilejson, wms, wmts, xyz};
use crate::public_url::base_url;
use crate::reply::Reply;
use crate::AppState;

const ALLOWED_METHODS: &str = "GET, HEAD, OPTIONS";

/// `/wms` also takes its parameters as a POST form.
const WMS_METHODS: &str = "GET, HEAD, POST, OPTIONS";

/// The path of the WMS endpoint, the only one that accepts POST.
const WMS_PATH: &str = "/wms";

/// Answers one request. Archive reads are memory-map lookups done here
/// (see `TileArchive`); CPU-heavy work goes through the state's `CpuPool`.
pub async fn handle<B>(
    state: &AppState,
    req: Request<B>,
    local: SocketAddr,
) -> Response<Full<Bytes>>
where
    B: Body<Data = Bytes>,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let started = Instant::now();
    let (req, body) = req.into_parts();
    let method = req.method.clone();
    let mut reply = match method {
        Method::GET | Method::HEAD => route(state, &req, local, None).await,
        Method::OPTIONS => preflight(&req),
        Method::POST if req.uri.path() == WMS_PATH => match wms::form(&req.headers, body).await {
            Ok(form) => route(state, &req, local, Some(&form)).await,
            Err(reply) => reply,
        },
        _ => Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not supported"),
        )
        .header(header::ALLOW, allowed_methods(&req)),
    };
    if state.settings.cors {
        reply.headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    tracing::debug!(
        method = %method,
        path = req.uri.path(),
        status = reply.status.as_u16(),
        bytes = reply.body.len(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    reply.into_response(method == Method::HEAD)
}

/// The methods a path accepts.
fn allowed_methods(req: &Parts) -> HeaderValue {
    HeaderValue::from_static(if req.uri.path() == WMS_PATH {
        WMS_METHODS
    } else {
        ALLOWED_METHODS
    })
}

/// The reply to a GET (or HEAD); `form` is the body of a POST to `/wms`,
/// which replaces the query string.
async fn route(state: &AppState, req: &Parts, local: SocketAddr, form: Option<&str>) -> Reply {
    let path = req.uri.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let base = || {
        base_url(
            state.settings.public_url.as_deref(),
            &req.uri,
            &req.headers,
            &local.to_string(),
        )
    };
    let query = req.uri.query().unwrap_or("");
    match segments.as_slice() {
        ["health"] => Reply::new(StatusCode::OK, "text/plain", Bytes::from_static(b"OK")),
        ["catalog"] => catalog::reply(&state.catalog, &base()),
        ["wms"] => wms::kvp(state, form.unwrap_or(query), &base()).await,
        ["wmts"] => wmts::kvp(state, query, &req.headers, &base()).await,
        ["wmts", "1.0.0", rest @ ..] => wmts::rest(state, rest, &req.headers, &base()).await,
        ["tileMatrixSets"] => {
            tile_matrix_sets::list(&state.tile_matrix_sets, &base(), &state.settings)
        }
        ["tileMatrixSets", id] => {
            tile_matrix_sets::one(&state.tile_matrix_sets, id, &state.settings)
        }
        [id] if !id.is_empty() => match state.catalog.get(id) {
            Some(layer) => tilejson::reply(layer, &base(), &state.settings),
            None => unknown_layer(id),
        },
        [id, z, x, y] => match state.catalog.get(id) {
            Some(layer) => xyz::reply(layer, xyz::XYZ_SET, (z, x, y), &req.headers, state).await,
            None => unknown_layer(id),
        },
        [id, tms, matrix, col, row] => match state.catalog.get(id) {
            Some(layer) => xyz::reply(layer, tms, (matrix, col, row), &req.headers, state).await,
            None => unknown_layer(id),
        },
        _ => Reply::error(
            StatusCode::NOT_FOUND,
            format!("no route for {path:?}; see /catalog for the layers and their URLs"),
        ),
    }
}

fn unknown_layer(id: &str) -> Reply {
    Reply::error(
        StatusCode::NOT_FOUND,
        format!("layer {id:?} not found; see /catalog"),
    )
}

/// A CORS preflight (Fetch standard, "CORS-preflight request").
fn preflight(req: &Parts) -> Reply {
    let requested = req
        .headers
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static("*"));
    Reply::empty(StatusCode::NO_CONTENT)
        .header(header::ALLOW, allowed_methods(req))
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, allowed_methods(req))
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, requested)
        .header(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{build_catalog, ConfigFile, Settings};

    /// A deterministic generator, so a failing input can be replayed.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
            from[self.next() as usize % from.len()]
        }
    }

    #[tokio::test(flavor = "multi_thread")]
    async fn no_path_or_header_makes_the_router_panic_or_fail_unexpectedly() {
        let samples =
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../data-samples"));
        let config = ConfigFile::default();
        let (catalog, _) = build_catalog(&config, &[samples]);
        let sets = tuilerie_engine::tms::TileMatrixSets::new(vec![]).unwrap();
        let state = AppState::new(catalog, sets, Settings::from_config(&config));
        let local: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let segments = [
            "",
            "protomaps_vector_firenze",
            "world_cities",
            "webp2",
            "leaf",
            "catalog",
            "health",
            "0",
            "1",
            "14",
            "8704",
            "5972",
            "255",
            "4294967295",
            "99999999999",
            "-1",
            "+1",
            "0.pbf",
            "1.png",
            "2.webp.",
            ".",
            "..",
            "%2e%2e",
            "%00",
            "é",
            "a.b.c",
            "0x10",
            "wms",
            "wms?request=GetCapabilities",
            "wms?SERVICE=WMS&REQUEST=GetMap",
        ];
        let accept = [
            "gzip",
            "br;q=0",
            "*;q=0.5, gzip;q=0",
            "identity",
            ";;;,,,",
            "q=",
            "zstd",
        ];
        let etags = ["*", "\"x\"", "W/", ",", "\"\""];
        let mut rng = XorShift(0xDEAD_BEEF_CAFE_F00D);
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..3000 {
            let path: String = (0..rng.next() % 6)
                .map(|_| format!("/{}", rng.pick(&segments)))
                .collect();
            let path = if path.is_empty() {
                "/".to_owned()
            } else {
                path
            };
            let Ok(uri) = path.parse::<hyper::Uri>() else {
                continue;
            };
            let method = rng.pick(&["GET", "HEAD", "OPTIONS", "POST"]);
            let req = Request::builder()
                .method(method)
                .uri(uri)
                .header("accept-encoding", rng.pick(&accept))
                .header("if-none-match", rng.pick(&etags))
                .header(
                    "forwarded",
                    rng.pick(&["proto=https;host=a.b", "host=\"", ";;", "for=x"]),
                )
                .header("content-type", "application/x-www-form-urlencoded")
                .body(String::from("REQUEST=GetCapabilities&VERSION=1.1.1"))
                .unwrap();
            let response = handle(&state, req, local).await;
            let status = response.status().as_u16();
            seen.insert(status);
            assert!(
                [200, 204, 304, 400, 404, 405].contains(&status),
                "{method} {path}: {status}"
            );
        }
        // The inputs reach every kind of answer, not just the first 404.
        for status in [200, 204, 400, 404, 405] {
            assert!(seen.contains(&status), "no {status} among {seen:?}");
        }
    }
}
