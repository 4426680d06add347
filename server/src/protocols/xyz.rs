//! Tiles by address: `GET /{layer}/{z}/{x}/{y}[.ext]` (XYZ: WebMercatorQuad,
//! origin top left, `y` growing south) and
//! `GET /{layer}/{tileMatrixSet}/{tileMatrix}/{col}/{row}[.ext]` in any set
//! the server offers (OGC TMS 2.0). Archives are stored in WebMercatorQuad
//! only; GeoTIFF layers render into any set.

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::StatusCode;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tuilerie_engine::compression::{decode, gzip, MAX_DECODED_TILE_BYTES};

use tuilerie_engine::catalog::LayerSource;
use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::map::{self, Frame, MapRequest};
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::tms::{TileMatrix, TileMatrixSets};
use tuilerie_engine::{Bbox, Encoding, ErrorKind, Layer, Tile, TileCoord, TileFormat};

use crate::cpu_pool::Overloaded;
use crate::negotiate::{accepts_encoding, none_match_hits};
use crate::reply::Reply;
use crate::tile_cache::{Rendered, TileKey};
use crate::{AppState, EmptyRasterTiles, EmptyVectorTiles, Settings};

/// The set XYZ URLs address.
pub const XYZ_SET: &str = "WebMercatorQuad";

/// The reply to a tile request for `layer` in tile matrix set `tms`, path
/// segments `matrix`, `col`, `row[.ext]`.
pub async fn reply(
    layer: &Arc<Layer>,
    tms: &str,
    (matrix, col, row): (&str, &str, &str),
    headers: &HeaderMap,
    state: &AppState,
) -> Reply {
    let settings = &state.settings;
    let mut address = match parse_address(layer, matrix, col, row) {
        Ok(parsed) => parsed,
        Err((kind, message)) => return Reply::failed(kind, message),
    };
    // A raster tile URL without an extension: the format the client's
    // Accept prefers (RFC 9110 §12.5.1), PNG when it has no preference.
    let negotiated = matches!(layer.source, LayerSource::Raster(_)) && !address.has_extension;
    if negotiated {
        let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
        address.format = preferred_image(accept);
    }
    let format = address.format;
    let meta = &layer.metadata;
    let tile = match &layer.source {
        LayerSource::Tiles(archive, _) => {
            let coord = match archive_coord(layer, tms, &address) {
                Ok(coord) => coord,
                Err((kind, message)) => return Reply::failed(kind, message),
            };
            match archive.get_tile(coord) {
                Ok(Some(tile)) => tile,
                Ok(None) if meta.format.is_vector() => return empty_vector_tile(layer, settings),
                Ok(None) => {
                    return Reply::failed(
                        ErrorKind::NotFound,
                        format!("layer {:?} has no tile {coord}", layer.id),
                    )
                }
                Err(e) => return Reply::from_engine(&e, &layer.id),
            }
        }
        LayerSource::Raster(raster) => match rendered(state, layer, raster, tms, &address).await {
            Ok(tile) => tile,
            Err(reply) => return reply,
        },
        LayerSource::Features(_) => {
            let accept = headers
                .get(header::ACCEPT_ENCODING)
                .and_then(|v| v.to_str().ok());
            let gzip_ok = accepts_encoding(accept, "gzip");
            match generated(state, layer, tms, &address, gzip_ok).await {
                Ok(Some(tile)) => tile,
                Ok(None) => return empty_vector_tile(layer, settings),
                Err(reply) => return reply,
            }
        }
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
        match decoded(state, layer, (tms, &address), &tile).await {
            Ok(reply) => reply,
            Err(reply) => return reply,
        }
    };
    if tile.encoding != Encoding::Identity {
        reply = reply.header(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    }
    if negotiated {
        reply = reply.header(header::VARY, HeaderValue::from_static("Accept"));
    }
    reply
        .header(
            header::ETAG,
            HeaderValue::from_str(&etag).expect("hex is a valid header"),
        )
        .header(header::CACHE_CONTROL, settings.cache_control.clone())
}

/// A tile's address in the URL, checked for syntax.
struct Address<'a> {
    matrix: &'a str,
    col: u32,
    row: u32,
    format: TileFormat,
    has_extension: bool,
}

impl std::fmt::Display for Address<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.matrix, self.col, self.row)
    }
}

/// The archive coordinate of an address: archives are WebMercatorQuad
/// pyramids, addressed by zoom, within the layer's zooms.
fn archive_coord(layer: &Layer, tms: &str, address: &Address) -> Result<TileCoord, Rejection> {
    if tms != XYZ_SET {
        return Err((
            ErrorKind::NotFound,
            format!(
                "layer {:?} is stored in {XYZ_SET} only, not {tms:?}",
                layer.id
            ),
        ));
    }
    let z = number(address.matrix, "zoom")?;
    let z = u8::try_from(z).unwrap_or(u8::MAX);
    // Outside the matrix is "no such tile" (404), as for zooms out of range.
    let coord = TileCoord::new(z, address.col, address.row)
        .map_err(|e| (ErrorKind::NotFound, e.to_string()))?;
    let meta = &layer.metadata;
    if coord.z < meta.minzoom || coord.z > meta.maxzoom {
        return Err((
            ErrorKind::NotFound,
            format!(
                "zoom {} is outside layer {:?}'s zooms {}..={}",
                coord.z, layer.id, meta.minzoom, meta.maxzoom
            ),
        ));
    }
    Ok(coord)
}

/// A raster layer's tile in any tile matrix set: from the rendered-tile
/// cache, or located (see `locate`) and made on the CPU pool (see
/// `render_job`). Rasters render at any zoom (the TileJSON zooms are advice
/// to clients, as TiTiler's are).
async fn rendered(
    state: &AppState,
    layer: &Arc<Layer>,
    raster: &Arc<RasterLayer>,
    tms_id: &str,
    address: &Address<'_>,
) -> Result<Tile, Reply> {
    let not_found = |message: String| Reply::failed(ErrorKind::NotFound, message);
    let key = cache_key(state, layer, tms_id, address);
    // A cached tile passed every check below when it was rendered: look it
    // up before parsing a CRS or transforming the layer's outline.
    let render = || async {
        let covers = |bbox: &Bbox| raster.intersects(bbox);
        let (bbox, matrix, zoom) =
            locate(state, layer, &covers, tms_id, address).map_err(|r| *r)?;
        let request = map_request(state, bbox, matrix, zoom, address.format);
        let (bytes, empty) = render_job(state, layer, request, address, None).await?;
        Ok(Rendered {
            tile: Tile::hashed(bytes, Encoding::Identity),
            empty,
        })
    };
    let Rendered { tile, empty } = cached_or_made(state, key, render).await?;
    if empty {
        let settings = &state.settings;
        match settings.empty_raster_tiles {
            EmptyRasterTiles::Transparent => {}
            EmptyRasterTiles::NoContent => {
                return Err(Reply::empty(StatusCode::NO_CONTENT)
                    .header(header::CACHE_CONTROL, settings.cache_control.clone()))
            }
            EmptyRasterTiles::NotFound => {
                return Err(not_found(format!(
                    "tile {address} of layer {:?} has no data",
                    layer.id
                )))
            }
        }
    }
    Ok(tile)
}

/// The tile of `key` from the rendered-tile cache, or made by `make` and
/// kept there. However many requests miss it at once, one makes it and the
/// others share its result (see `single_flight`), its error too unless the
/// CPU pool was full: that is one request's bad luck, and the next waiter
/// tries; any other error (no such tile, a corrupt source) would come again
/// for each waiter, one after the other.
async fn cached_or_made<F, Fut>(state: &AppState, key: TileKey, make: F) -> Result<Rendered, Reply>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Rendered, Reply>>,
{
    let cached = || state.rendered.get(&key).map(|hit| Rendered::clone(&hit));
    if let Some(hit) = cached() {
        return Ok(hit);
    }
    let flight = async {
        // Made and cached between the lookup above and this flight.
        if let Some(hit) = cached() {
            return Ok(Ok(hit));
        }
        match make().await {
            Ok(rendered) => {
                state.rendered.insert(key.clone(), rendered.clone());
                Ok(Ok(rendered))
            }
            Err(busy) if busy.is_overloaded() => Err(busy),
            Err(reply) => Ok(Err(reply)),
        }
    };
    state.rendering.run(key.clone(), || flight).await?
}

/// The rendered-tile cache's key of a tile.
fn cache_key(state: &AppState, layer: &Layer, tms_id: &str, address: &Address<'_>) -> TileKey {
    (
        layer.id.clone(),
        tms_id.to_owned(),
        address.matrix.to_owned(),
        canonical_col(&state.tile_matrix_sets, tms_id, address),
        address.row,
        address.format,
    )
}

/// The column that names the tile at `address`: in a coalesced row (TMS
/// 2.0 §6.1.5) every column of a tile names it, and they share its cache
/// entry rather than each render it again.
fn canonical_col(sets: &TileMatrixSets, tms_id: &str, address: &Address<'_>) -> u32 {
    let coalesce = sets
        .get(tms_id)
        .and_then(|tms| tms.matrix(address.matrix))
        .map_or(1, |m| m.coalesce(address.row));
    address.col - address.col % coalesce
}

/// Where a rendered tile lies: its bbox, its matrix and the matrix's zoom
/// (its rank in the set); 404 for an unknown set or matrix, or a tile
/// outside the matrix or what the layer `covers`.
fn locate<'a>(
    state: &'a AppState,
    layer: &Layer,
    covers: &dyn Fn(&Bbox) -> bool,
    tms_id: &str,
    address: &Address<'_>,
) -> Result<(Bbox, &'a TileMatrix, u8), Box<Reply>> {
    let not_found = |message: String| Box::new(Reply::failed(ErrorKind::NotFound, message));
    let tms = state.tile_matrix_sets.get(tms_id).ok_or_else(|| {
        not_found(format!(
            "tile matrix set {tms_id:?} not found; see /tileMatrixSets"
        ))
    })?;
    let (zoom, matrix) = tms
        .tile_matrices
        .iter()
        .enumerate()
        .find(|(_, m)| m.id == address.matrix)
        .ok_or_else(|| not_found(format!("{tms_id} has no tile matrix {:?}", address.matrix)))?;
    // Easting first, as the warp wants, whatever the CRS's axis order.
    let bbox = matrix
        .tile_bounds(address.col, address.row, tms.northing_first())
        .ok_or_else(|| not_found(format!("tile {address} is outside the {tms_id} matrix")))?;
    let engine_error = |e| Box::new(Reply::from_engine(&e, &layer.id));
    let crs = Crs::shared_named(&tms.crs).map_err(engine_error)?;
    let bbox = Bbox::new(crs, bbox).map_err(engine_error)?;
    if !covers(&bbox) {
        return Err(not_found(format!(
            "tile {address} is outside layer {:?}",
            layer.id
        )));
    }
    let zoom = u8::try_from(zoom).unwrap_or(u8::MAX);
    Ok((bbox, matrix, zoom))
}

/// The engine's question for a tile of `matrix` in `format`.
fn map_request(
    state: &AppState,
    bbox: Bbox,
    matrix: &TileMatrix,
    zoom: u8,
    format: TileFormat,
) -> MapRequest {
    MapRequest {
        bbox,
        frame: Frame {
            width: matrix.tile_width,
            height: matrix.tile_height,
            format,
            palette: false,
            transparent: true,
            background: [255, 255, 255],
            jpeg_quality: state.settings.jpeg_quality,
        },
        resampling: None,
        zoom,
        scale: 1.0,
        deadline: Deadline::after(state.settings.render_timeout),
    }
}

/// A vector layer's tile in any tile matrix set: from the rendered-tile
/// cache, or cut from its tables on the CPU pool, gzip'd when the client
/// accepts it (the cache keeps what the first client got: a later client
/// that does not accept gzip gets it inflated, as stored archive tiles);
/// `Ok(None)` when no feature falls in the tile.
async fn generated(
    state: &AppState,
    layer: &Arc<Layer>,
    tms_id: &str,
    address: &Address<'_>,
    gzip_ok: bool,
) -> Result<Option<Tile>, Reply> {
    let key = cache_key(state, layer, tms_id, address);
    let cut = || async {
        let (bbox, matrix, zoom) =
            locate(state, layer, &|_| true, tms_id, address).map_err(|r| *r)?;
        let request = map_request(state, bbox, matrix, zoom, TileFormat::Mvt);
        let kind = Some(in_place_kind("cut", layer, tms_id, address));
        let (bytes, empty) = render_job(state, layer, request, address, kind).await?;
        let tile = if empty || !gzip_ok {
            Tile::hashed(bytes, Encoding::Identity)
        } else {
            Tile::hashed(gzip(&bytes).into(), Encoding::Gzip)
        };
        Ok(Rendered { empty, tile })
    };
    let Rendered { tile, empty } = cached_or_made(state, key, cut).await?;
    Ok((!empty).then_some(tile))
}

/// One tile rendered by the engine on the CPU pool (`kind`: see
/// `in_place_kind`): the bytes, and whether the tile holds no data at all.
async fn render_job(
    state: &AppState,
    layer: &Arc<Layer>,
    request: MapRequest,
    address: &Address<'_>,
    kind: Option<u64>,
) -> Result<(Bytes, bool), Reply> {
    let shared = Arc::clone(layer);
    let job = move || {
        let map = map::render(&[&shared], &request)?;
        Ok((map.bytes, map.empty))
    };
    on_cpu_pool(state, layer, address, kind, job).await
}

/// The tile decoded for a client that does not accept its stored encoding,
/// or the error reply. Inflating a large tile takes up to milliseconds, so
/// it runs on the CPU pool, off the reactor.
async fn decoded(
    state: &AppState,
    layer: &Layer,
    (tms_id, address): (&str, &Address<'_>),
    tile: &Tile,
) -> Result<Reply, Reply> {
    let (data, encoding, path) = (tile.data.clone(), tile.encoding, layer.path.clone());
    let job = move || decode(encoding, &data, MAX_DECODED_TILE_BYTES, &path, "tile");
    let kind = Some(in_place_kind("inflate", layer, tms_id, address));
    let data = on_cpu_pool(state, layer, address, kind, job).await?;
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
    address: &Address<'_>,
    kind: Option<u64>,
    job: impl FnOnce() -> tuilerie_engine::Result<T> + Send + 'static,
) -> Result<T, Reply> {
    match state.cpu.run(kind, job).await {
        Ok(Some(Ok(value))) => Ok(value),
        Ok(Some(Err(e))) => {
            if e.kind() == ErrorKind::Timeout {
                let count = state.abandoned_renders.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(layer = %layer.id, %address, abandoned = count, "{e}");
            }
            Err(Reply::from_engine(&e, &layer.id))
        }
        Ok(None) => {
            tracing::error!(layer = %layer.id, %address, "tile job panicked");
            Err(Reply::error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ))
        }
        Err(Overloaded) => Err(Reply::overloaded()),
    }
}

/// The kind of a job that may run in place (see `CpuPool::run`): one
/// `job` (cutting a vector tile, inflating a stored one) on one layer's
/// tiles of one matrix in one format, which cost about the same. Only for
/// jobs that do not wait on other threads' work: a raster job can wait
/// for a block another thread is decoding, and for its own rayon tasks,
/// and must not hold a reactor thread meanwhile (tried: p99 of
/// web-optimized JPEG tiles 8.8 → 15 ms, no CPU saved). A vector tile
/// reads a read-only GeoPackage through its own pooled connection; it
/// would wait only on a writer holding the file's lock, which served
/// files do not have. (Stored tiles are read on the reactor anyway: a
/// PMTiles leaf directory another thread is parsing is waited for there,
/// a fraction of a millisecond.)
fn in_place_kind(job: &str, layer: &Layer, tms_id: &str, address: &Address<'_>) -> u64 {
    let mut hasher = std::hash::DefaultHasher::new();
    (job, &layer.id, tms_id, address.matrix, address.format).hash(&mut hasher);
    hasher.finish()
}

/// Why a tile path names no tile: the status and the message for the client.
type Rejection = (ErrorKind, String);

/// The image format an `Accept` value prefers among those rendered: the
/// highest quality value, exact types over `image/*` over `*/*`, PNG on ties
/// and when nothing matches.
fn preferred_image(accept: Option<&str>) -> TileFormat {
    let Some(accept) = accept else {
        return TileFormat::Png;
    };
    let quality = |mime: &str| -> f32 {
        let mut best: Option<(u8, f32)> = None;
        for item in accept.split(',') {
            let mut parts = item.split(';');
            let range = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let specificity = match range.as_str() {
                r if r == mime => 2,
                "image/*" => 1,
                "*/*" => 0,
                _ => continue,
            };
            if best.is_none_or(|(s, _)| specificity > s) {
                best = Some((specificity, q));
            }
        }
        best.map_or(0.0, |(_, q)| q)
    };
    let mut chosen = (TileFormat::Png, 0.0);
    for format in [TileFormat::Png, TileFormat::Webp, TileFormat::Jpeg] {
        let q = quality(format.mime_type());
        if q > chosen.1 {
            chosen = (format, q);
        }
    }
    chosen.0
}

/// A tile number: plain decimal digits ("+1", " 1" or "0x1" are not).
fn number(s: &str, name: &str) -> Result<u32, Rejection> {
    if s.is_empty() || s.len() > 10 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err((
            ErrorKind::InvalidRequest,
            format!("{name} {s:?} is not a tile number"),
        ));
    }
    s.parse::<u32>().map_err(|_| {
        (
            ErrorKind::InvalidRequest,
            format!("{name} {s:?} is too large"),
        )
    })
}

/// The address named by the path and the format to answer in, or why
/// there is none (400). Archives answer in their stored format (the
/// extension must name it); rasters in PNG, or JPEG or WebP by extension.
fn parse_address<'a>(
    layer: &Layer,
    matrix: &'a str,
    col: &str,
    row: &str,
) -> Result<Address<'a>, Rejection> {
    let (row, ext) = match row.split_once('.') {
        Some((row, ext)) => (row, Some(ext)),
        None => (row, None),
    };
    let (col, row) = (number(col, "column x")?, number(row, "row y")?);
    let mut format = layer.metadata.format;
    if let (LayerSource::Raster(_), Some(ext)) = (&layer.source, ext) {
        format = [TileFormat::Png, TileFormat::Jpeg, TileFormat::Webp]
            .into_iter()
            .find(|f| f.matches_extension(ext))
            .ok_or_else(|| {
                (
                    ErrorKind::InvalidRequest,
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
                ErrorKind::InvalidRequest,
                format!(
                    "layer {:?} serves {} tiles; extension .{ext} does not match (expected {expected})",
                    layer.id,
                    format.mime_type()
                ),
            ));
        }
    }
    Ok(Address {
        matrix,
        col,
        row,
        format,
        has_extension: ext.is_some(),
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_columns_of_a_coalesced_tile_share_one_cache_entry() {
        let sets = TileMatrixSets::new(Vec::new()).unwrap();
        let col = |tms: &str, matrix: &str, col, row| {
            let address = Address {
                matrix,
                col,
                row,
                format: TileFormat::Png,
                has_extension: true,
            };
            canonical_col(&sets, tms, &address)
        };
        // GNOSISGlobalGrid level 2: row 0 coalesces 4 columns, row 1 two.
        assert_eq!(col("GNOSISGlobalGrid", "2", 7, 0), 4);
        assert_eq!(col("GNOSISGlobalGrid", "2", 7, 1), 6);
        assert_eq!(col("GNOSISGlobalGrid", "2", 7, 3), 7);
        assert_eq!(col("WebMercatorQuad", "2", 3, 0), 3);
        assert_eq!(col("Nope", "2", 3, 0), 3);
    }

    #[test]
    fn accept_picks_the_preferred_rendered_format() {
        assert_eq!(preferred_image(None), TileFormat::Png);
        assert_eq!(
            preferred_image(Some("image/webp,*/*;q=0.8")),
            TileFormat::Webp
        );
        assert_eq!(
            preferred_image(Some("image/jpeg;q=0.9, image/png;q=0.5")),
            TileFormat::Jpeg
        );
        assert_eq!(preferred_image(Some("image/*")), TileFormat::Png);
        assert_eq!(
            preferred_image(Some("image/*, image/png;q=0")),
            TileFormat::Webp
        );
        assert_eq!(preferred_image(Some("text/html")), TileFormat::Png);
    }
}
