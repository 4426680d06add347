//! XYZ tiles: `GET /{layer}/{z}/{x}/{y}[.ext]` in WebMercatorQuad with the
//! origin at the top left (OGC TMS 2.0 WebMercatorQuad; `y` grows south).

use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::StatusCode;
use std::sync::Arc;
use tuilerie_engine::compression::{decode, MAX_DECODED_TILE_BYTES};

use tuilerie_engine::crs::Crs;
use tuilerie_engine::encode::{encode, DEFAULT_JPEG_QUALITY};
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::source::LayerSource;
use tuilerie_engine::warp::{Request, Resampling};
use tuilerie_engine::{Encoding, Layer, Tile, TileCoord, TileFormat};

use crate::cpu_pool::Overloaded;
use crate::negotiate::{accepts_encoding, none_match_hits};
use crate::reply::Reply;
use crate::{AppState, EmptyVectorTiles, Settings};

/// The reply to a tile request for `layer`, path segments `z`, `x`, `y[.ext]`.
pub async fn reply(
    layer: &Layer,
    (z, x, y): (&str, &str, &str),
    headers: &HeaderMap,
    state: &AppState,
) -> Reply {
    let settings = &state.settings;
    let (coord, format) = match parse_coord(layer, z, x, y) {
        Ok(parsed) => parsed,
        Err((status, message)) => return Reply::error(status, message),
    };
    let meta = &layer.metadata;
    // Archives hold only their zooms; rasters render at any zoom (the
    // TileJSON zooms are advice to clients, as TiTiler's are).
    let is_archive = matches!(layer.source, LayerSource::Tiles(_));
    if is_archive && (coord.z < meta.minzoom || coord.z > meta.maxzoom) {
        return Reply::error(
            StatusCode::NOT_FOUND,
            format!(
                "zoom {} is outside layer {:?}'s zooms {}..={}",
                coord.z, layer.id, meta.minzoom, meta.maxzoom
            ),
        );
    }
    let tile = match &layer.source {
        LayerSource::Tiles(archive) => match archive.get_tile(coord) {
            Ok(Some(tile)) => tile,
            Ok(None) if meta.format.is_vector() => return empty_vector_tile(layer, settings),
            Ok(None) => {
                return Reply::error(
                    StatusCode::NOT_FOUND,
                    format!("layer {:?} has no tile {coord}", layer.id),
                )
            }
            Err(e) => return Reply::from_engine(&e, &layer.id),
        },
        LayerSource::Raster(raster) => match rendered(state, layer, raster, coord, format).await {
            Ok(tile) => tile,
            Err(reply) => return reply,
        },
    };

    let header = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    // Stored bytes go out as they are when the client accepts their
    // encoding; otherwise they are decoded, a different representation
    // with its own validator.
    let pass_through = tile
        .encoding
        .http_token()
        .is_none_or(|token| accepts_encoding(header(header::ACCEPT_ENCODING), token));
    let etag = format!(
        "\"{:016x}{}\"",
        tile.fingerprint,
        if pass_through { "" } else { "-identity" }
    );
    let mut reply = if none_match_hits(header(header::IF_NONE_MATCH), &etag) {
        Reply::empty(StatusCode::NOT_MODIFIED)
    } else if pass_through {
        let mut reply = Reply::new(StatusCode::OK, format.mime_type(), tile.data);
        if let Some(token) = tile.encoding.http_token() {
            reply = reply.header(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        }
        reply
    } else {
        match decoded(state, layer, coord, &tile).await {
            Ok(reply) => reply,
            Err(reply) => return reply,
        }
    };
    if tile.encoding != Encoding::Identity {
        reply = reply.header(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    reply
        .header(
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is a valid header"),
        )
        .header(header::CACHE_CONTROL, settings.cache_control.clone())
}

/// The WebMercatorQuad tile `coord` of a raster layer, warped and encoded
/// on the CPU pool; 404 when it lies outside the layer's extent.
async fn rendered(
    state: &AppState,
    layer: &Layer,
    raster: &Arc<RasterLayer>,
    coord: TileCoord,
    format: TileFormat,
) -> Result<Tile, Reply> {
    let bbox = web_mercator_bounds(coord);
    let [w, s, e, n] = raster.mercator_bounds;
    if bbox[0] >= e || bbox[2] <= w || bbox[1] >= n || bbox[3] <= s {
        return Err(Reply::error(
            StatusCode::NOT_FOUND,
            format!("tile {coord} is outside layer {:?}", layer.id),
        ));
    }
    let raster = Arc::clone(raster);
    let job = move || {
        let mercator = Crs::from_epsg(3857)?;
        let request = Request {
            bbox,
            crs: &mercator,
            width: 256,
            height: 256,
            resampling: Resampling::Bilinear,
        };
        let image = raster.render(&request)?;
        encode(&image, format, DEFAULT_JPEG_QUALITY)
    };
    let bytes = on_cpu_pool(state, layer, coord, job).await?;
    Ok(Tile::hashed(bytes.into(), Encoding::Identity))
}

/// Extent of an XYZ tile in EPSG:3857 metres (WebMercatorQuad, row 0 north).
fn web_mercator_bounds(coord: TileCoord) -> [f64; 4] {
    const HALF: f64 = 20_037_508.342_789_244;
    let size = 2.0 * HALF / f64::from(1u32 << coord.z);
    let (x, y) = (f64::from(coord.x), f64::from(coord.y));
    [
        -HALF + x * size,
        HALF - (y + 1.0) * size,
        -HALF + (x + 1.0) * size,
        HALF - y * size,
    ]
}

/// The tile decoded for a client that does not accept its stored encoding,
/// or the error reply. Inflating a large tile takes up to milliseconds, so
/// it runs on the CPU pool, off the reactor.
async fn decoded(
    state: &AppState,
    layer: &Layer,
    coord: TileCoord,
    tile: &Tile,
) -> Result<Reply, Reply> {
    let (data, encoding, path) = (tile.data.clone(), tile.encoding, layer.path.clone());
    let job = move || decode(encoding, &data, MAX_DECODED_TILE_BYTES, &path, "tile");
    let data = on_cpu_pool(state, layer, coord, job).await?;
    Ok(Reply::new(
        StatusCode::OK,
        layer.metadata.format.mime_type(),
        data.into(),
    ))
}

/// Runs an engine job on the CPU pool; its failure (an engine error, a
/// panic, or a full pool) as the reply to send.
async fn on_cpu_pool<T: Send + 'static>(
    state: &AppState,
    layer: &Layer,
    coord: TileCoord,
    job: impl FnOnce() -> tuilerie_engine::Result<T> + Send + 'static,
) -> Result<T, Reply> {
    match state.cpu.run(job).await {
        Ok(Some(Ok(value))) => Ok(value),
        Ok(Some(Err(e))) => Err(Reply::from_engine(&e, &layer.id)),
        Ok(None) => {
            tracing::error!(layer = %layer.id, %coord, "tile job panicked");
            Err(Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ))
        }
        Err(Overloaded) => Err(Reply::overloaded()),
    }
}

/// Why a tile path names no tile: the status and the message for the client.
type Rejection = (StatusCode, String);

/// The coordinate named by the path and the format to answer in, or why
/// there is none (400 or 404). Archives answer in their stored format (the
/// extension must name it); rasters in PNG, or JPEG or WebP by extension.
fn parse_coord(
    layer: &Layer,
    z: &str,
    x: &str,
    y: &str,
) -> Result<(TileCoord, TileFormat), Rejection> {
    let (y, ext) = match y.split_once('.') {
        Some((y, ext)) => (y, Some(ext)),
        None => (y, None),
    };
    let number = |s: &str, name: &str| {
        // Only plain decimal digits: "+1", " 1" or "0x1" are not tile numbers.
        if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err((
                StatusCode::BAD_REQUEST,
                format!("{name} {s:?} is not a tile number"),
            ));
        }
        s.parse::<u32>().map_err(|_| {
            (
                StatusCode::BAD_REQUEST,
                format!("{name} {s:?} is too large"),
            )
        })
    };
    let (zn, xn, yn) = (
        number(z, "zoom")?,
        number(x, "column x")?,
        number(y, "row y")?,
    );
    let mut format = layer.metadata.format;
    if let (LayerSource::Raster(_), Some(ext)) = (&layer.source, ext) {
        format = [TileFormat::Png, TileFormat::Jpeg, TileFormat::Webp]
            .into_iter()
            .find(|f| f.matches_extension(ext))
            .ok_or_else(|| {
                (
                    StatusCode::BAD_REQUEST,
                    format!(
                        "layer {:?} renders .png, .jpg or .webp tiles, not .{ext}",
                        layer.id
                    ),
                )
            })?;
    } else if let Some(ext) = ext {
        if !format.matches_extension(ext) {
            let expected = format
                .extension()
                .map_or("none".to_owned(), |e| format!(".{e}"));
            return Err((
                StatusCode::BAD_REQUEST,
                format!(
                    "layer {:?} serves {} tiles; extension .{ext} does not match (expected {expected})",
                    layer.id,
                    format.mime_type()
                ),
            ));
        }
    }
    let z = u8::try_from(zn).unwrap_or(u8::MAX);
    // Outside the matrix is "no such tile" (404), as for zooms out of range.
    let coord = TileCoord::new(z, xn, yn).map_err(|e| (StatusCode::NOT_FOUND, e.to_string()))?;
    Ok((coord, format))
}

fn empty_vector_tile(layer: &Layer, settings: &Settings) -> Reply {
    let reply = match settings.empty_vector_tiles {
        EmptyVectorTiles::NoContent => Reply::empty(StatusCode::NO_CONTENT),
        EmptyVectorTiles::Empty => Reply::new(
            StatusCode::OK,
            layer.metadata.format.mime_type(),
            bytes::Bytes::new(),
        ),
    };
    reply.header(header::CACHE_CONTROL, settings.cache_control.clone())
}
