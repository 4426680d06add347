//! Tuilerie's HTTP layer: a thin translation from HTTP requests to engine
//! questions and from engine answers to bytes and headers. No pixel is
//! touched here except as encoded bytes.

pub mod config;
mod cpu_pool;
mod negotiate;
mod protocols;
mod public_url;
mod reply;
mod router;
mod single_flight;
mod tile_cache;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::HeaderValue;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tuilerie_engine::catalog::{discover, LoadFailure};
use tuilerie_engine::encode::DEFAULT_JPEG_QUALITY;
use tuilerie_engine::source::{
    SourceContext, DEFAULT_BLOCK_CACHE_BYTES, DEFAULT_DIRECTORY_CACHE_BYTES,
};
use tuilerie_engine::tms::TileMatrixSets;
use tuilerie_engine::{Catalog, LayerSpec};

pub use config::{ConfigFile, EmptyRasterTiles, EmptyVectorTiles};
pub use cpu_pool::{CpuPool, DEFAULT_MAX_JOBS};
/// Answers one request without a connection: what [`serve`] runs per
/// request, public so that fuzzing can route requests without sockets.
pub use router::handle;

/// A client that sends no complete request header within this time is
/// disconnected, so idle or slow connections cannot pin server memory.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Server settings after merging the config file and the command line.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `Cache-Control` of tiles and TileJSON.
    pub cache_control: HeaderValue,
    pub empty_vector_tiles: EmptyVectorTiles,
    pub empty_raster_tiles: EmptyRasterTiles,
    pub cors: bool,
    pub public_url: Option<String>,
    /// CPU jobs (tile decoding) running or queued at once.
    pub max_cpu_jobs: usize,
    /// What capabilities documents say about the service.
    pub service: config::ServiceMetadata,
    /// Quality of rendered JPEG tiles.
    pub jpeg_quality: u8,
    /// Bound of the rendered-tile cache, bytes.
    pub tile_cache_bytes: usize,
    /// How long one render may run before it is abandoned (503).
    pub render_timeout: Duration,
    /// Widest WMS GetMap image, pixels (`[service] max_width`).
    pub max_width: u32,
    /// Tallest WMS GetMap image, pixels (`[service] max_height`).
    pub max_height: u32,
    /// Most layers one WMS GetMap may name, a group counting as one
    /// (`[service] layer_limit`).
    pub layer_limit: u32,
    /// WMS layer groups (`[[wms_groups]]`), in configuration order.
    pub wms_groups: Vec<config::WmsGroup>,
}

impl Settings {
    /// Settings from a config file, defaulted where it is silent.
    pub fn from_config(config: &ConfigFile) -> Self {
        let service = &config.service;
        Settings {
            cache_control: config
                .cache_control
                .as_deref()
                .and_then(|cc| HeaderValue::from_str(cc).ok())
                .unwrap_or(HeaderValue::from_static(config::DEFAULT_CACHE_CONTROL)),
            empty_vector_tiles: config.empty_vector_tiles.unwrap_or_default(),
            empty_raster_tiles: config.empty_raster_tiles.unwrap_or_default(),
            cors: config.cors.unwrap_or(true),
            public_url: config
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_owned()),
            max_cpu_jobs: config.max_cpu_jobs.unwrap_or(DEFAULT_MAX_JOBS),
            service: config.service.clone(),
            jpeg_quality: config.jpeg_quality.unwrap_or(DEFAULT_JPEG_QUALITY),
            tile_cache_bytes: config
                .tile_cache_mib
                .map_or(tile_cache::DEFAULT_TILE_CACHE_BYTES, |mib| mib << 20),
            render_timeout: Duration::from_millis(
                config
                    .render_timeout_ms
                    .unwrap_or(config::DEFAULT_RENDER_TIMEOUT_MS),
            ),
            max_width: service.max_width.unwrap_or(config::DEFAULT_WMS_MAX_SIZE),
            max_height: service.max_height.unwrap_or(config::DEFAULT_WMS_MAX_SIZE),
            layer_limit: service
                .layer_limit
                .unwrap_or(config::DEFAULT_WMS_LAYER_LIMIT),
            wms_groups: config.wms_groups.clone(),
        }
    }
}

/// Everything a request handler reads; immutable once serving starts.
pub struct AppState {
    pub catalog: Catalog,
    pub tile_matrix_sets: TileMatrixSets,
    pub settings: Settings,
    pub(crate) cpu: CpuPool,
    pub(crate) rendered: tile_cache::TileCache,
    /// Tiles missing from `rendered` that a request is making, and how
    /// that went.
    pub(crate) rendering: single_flight::SingleFlight<
        tile_cache::TileKey,
        Result<tile_cache::Rendered, reply::Reply>,
    >,
    /// Renders abandoned at their deadline since start-up.
    pub abandoned_renders: AtomicU64,
}

impl AppState {
    pub fn new(catalog: Catalog, tile_matrix_sets: TileMatrixSets, settings: Settings) -> Self {
        AppState {
            cpu: CpuPool::new(settings.max_cpu_jobs),
            rendered: tile_cache::TileCache::new(settings.tile_cache_bytes),
            rendering: Default::default(),
            abandoned_renders: AtomicU64::new(0),
            catalog,
            tile_matrix_sets,
            settings,
        }
    }
}

/// Builds the catalog from the config file's layers and paths plus extra
/// paths (from the command line). Returns the failures to report; the
/// catalog holds every layer that loaded.
pub fn build_catalog(config: &ConfigFile, extra_paths: &[PathBuf]) -> (Catalog, Vec<LoadFailure>) {
    let cache_bytes = config
        .directory_cache_mib
        .map_or(DEFAULT_DIRECTORY_CACHE_BYTES, |mib| mib << 20);
    let block_bytes = config
        .block_cache_mib
        .map_or(DEFAULT_BLOCK_CACHE_BYTES, |mib| mib << 20);
    let ctx = SourceContext::with_block_cache(cache_bytes, block_bytes);
    let mut specs: Vec<LayerSpec> = config.layers.clone();
    let mut failures = Vec::new();
    for path in config.paths.iter().chain(extra_paths) {
        match discover(path) {
            Ok(found) => specs.extend(found),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot read path");
                failures.push(LoadFailure {
                    id: path.display().to_string(),
                    error: tuilerie_engine::Error::Io {
                        path: path.clone(),
                        source: e,
                    },
                });
            }
        }
    }
    let (catalog, more) = Catalog::load(specs, &ctx);
    failures.extend(more);
    (catalog, failures)
}

/// Serves HTTP/1.1 on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let local: SocketAddr = listener.local_addr()?;
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors and the like: back off, keep serving.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => return Ok(()),
        };
        // Tiles are small replies; waiting for Nagle costs up to 40 ms each.
        let _ = stream.set_nodelay(true);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let state = Arc::clone(&state);
                async move {
                    Ok::<_, std::convert::Infallible>(router::handle(&state, req, local).await)
                }
            });
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service);
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
    }
}
