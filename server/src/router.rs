//! Routing: method and path to a protocol handler, plus what every reply
//! shares (CORS, the per-request log line).
//!
//! Routes: `/health`, `/catalog`, `/{layer}` (TileJSON) and
//! `/{layer}/{z}/{x}/{y}[.ext]` (XYZ tiles). Layer ids never contain `/`
//! and cannot be `catalog` or `health`, so the routes cannot collide.

use std::net::SocketAddr;
use std::time::Instant;

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::protocols::{catalog, tilejson, xyz};
use crate::public_url::base_url;
use crate::reply::Reply;
use crate::AppState;

const ALLOWED_METHODS: &str = "GET, HEAD, OPTIONS";

/// Answers one request. Archive reads are memory-map lookups done here
/// (see `TileArchive`); CPU-heavy work goes through the state's `CpuPool`.
pub async fn handle(
    state: &AppState,
    req: Request<Incoming>,
    local: SocketAddr,
) -> Response<Full<Bytes>> {
    let started = Instant::now();
    let method = req.method().clone();
    let reply = match method {
        Method::GET | Method::HEAD => route(state, &req, local).await,
        Method::OPTIONS => preflight(&req),
        _ => Reply::error(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("method {method} is not supported"),
        )
        .header(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS)),
    };
    let mut reply = reply;
    if state.settings.cors {
        reply.headers.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    tracing::debug!(
        method = %method,
        path = req.uri().path(),
        status = reply.status.as_u16(),
        bytes = reply.body.len(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    reply.into_response(method == Method::HEAD)
}

async fn route(state: &AppState, req: &Request<Incoming>, local: SocketAddr) -> Reply {
    let path = req.uri().path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let base = || {
        base_url(
            state.settings.public_url.as_deref(),
            req.uri(),
            req.headers(),
            &local.to_string(),
        )
    };
    match segments.as_slice() {
        ["health"] => Reply::new(StatusCode::OK, "text/plain", Bytes::from_static(b"OK")),
        ["catalog"] => catalog::reply(&state.catalog, &base()),
        [id] if !id.is_empty() => match state.catalog.get(id) {
            Some(layer) => tilejson::reply(layer, &base(), &state.settings),
            None => unknown_layer(id),
        },
        [id, z, x, y] => match state.catalog.get(id) {
            Some(layer) => xyz::reply(layer, (z, x, y), req.headers(), state).await,
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
fn preflight(req: &Request<Incoming>) -> Reply {
    let requested = req
        .headers()
        .get(header::ACCESS_CONTROL_REQUEST_HEADERS)
        .cloned()
        .unwrap_or(HeaderValue::from_static("*"));
    Reply::empty(StatusCode::NO_CONTENT)
        .header(header::ALLOW, HeaderValue::from_static(ALLOWED_METHODS))
        .header(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(ALLOWED_METHODS),
        )
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, requested)
        .header(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        )
}
