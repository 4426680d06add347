//! The `tuilerie` binary: command line, logging, start-up.

use std::io::IsTerminal;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::prelude::*;
use tuilerie_engine::tms::TileMatrixSets;
use tuilerie_server::config::{ConfigFile, DEFAULT_BIND};
use tuilerie_server::{build_catalog, serve, AppState, Settings};

/// Tuilerie: a tile and map server for the files producers already have.
#[derive(Parser)]
#[command(version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log level of Tuilerie's own messages: error, warn, info, debug (one
    /// line per request) or trace.
    #[arg(long, global = true, env = "TUILERIE_LOG", default_value = "info")]
    log_level: LevelFilter,
}

#[derive(Subcommand)]
enum Command {
    /// Serve tiles over HTTP: XYZ tiles at /{layer}/{z}/{x}/{y}, TileJSON at
    /// /{layer}, the layer list at /catalog and a health check at /health.
    ///
    /// With no PATH and no --config, serves the sample data in
    /// `data-samples/` on 127.0.0.1:8080.
    Serve {
        /// Archive files (.pmtiles, .mbtiles) or folders searched for them.
        /// Each file becomes a layer named after the file.
        paths: Vec<PathBuf>,

        /// TOML configuration file naming layers and server options
        /// (see docs/config.md).
        #[arg(long, short)]
        config: Option<PathBuf>,

        /// Address to listen on [default: 127.0.0.1:8080, or `bind` from the
        /// config file].
        #[arg(long, short)]
        bind: Option<SocketAddr>,

        /// Threads serving requests [default: one per core].
        #[arg(long)]
        threads: Option<std::num::NonZeroUsize>,
    },
}

/// The sample data served when nothing else is named: `data-samples/` in
/// the working folder, else the one in the source tree this was built from.
fn default_paths() -> Vec<PathBuf> {
    let local = PathBuf::from("data-samples");
    if local.is_dir() {
        return vec![local];
    }
    vec![PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../data-samples"
    ))]
}

/// mimalloc: vector tiles made on the fly allocate per feature and per
/// ring; glibc's allocator took a fifth of their CPU time.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = Targets::new()
        .with_target("tuilerie", cli.log_level)
        .with_default(LevelFilter::WARN.min(cli.log_level));
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal()),
        )
        .with(filter)
        .init();

    let Command::Serve {
        paths,
        config,
        bind,
        threads,
    } = cli.command;
    let loaded = match &config {
        Some(path) => ConfigFile::load(path).and_then(|c| {
            let sets = c.tile_matrix_sets(path)?;
            Ok((c, sets))
        }),
        None => Ok((
            ConfigFile::default(),
            TileMatrixSets::new(vec![]).expect("the registered sets have distinct ids"),
        )),
    };
    let (config_file, tile_matrix_sets) = match loaded {
        Ok(loaded) => loaded,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let paths = if paths.is_empty() && config.is_none() {
        default_paths()
    } else {
        paths
    };
    let (catalog, failures) = build_catalog(&config_file, &paths);
    if catalog.is_empty() {
        tracing::warn!("no layer could be loaded; serving an empty catalog");
    }
    tracing::info!(
        layers = catalog.len(),
        disabled = failures.len(),
        "catalog ready"
    );
    let settings = Settings::from_config(&config_file);
    let state = Arc::new(AppState::new(catalog, tile_matrix_sets, settings));
    let bind = bind
        .or(config_file.bind)
        .unwrap_or_else(|| DEFAULT_BIND.parse().expect("valid default address"));

    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(n) = threads {
        builder.worker_threads(n.get());
    }
    // CPU jobs run on the blocking threads, one per core: more would only
    // time-slice the same cores (the job bound is in CpuPool).
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    builder.max_blocking_threads(cores);
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::bind(bind).await {
            Ok(l) => l,
            Err(e) => {
                eprintln!("error: cannot listen on {bind}: {e}");
                return ExitCode::FAILURE;
            }
        };
        tracing::info!("listening on http://{bind}/ (layers at http://{bind}/catalog)");
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down");
        };
        match serve(listener, state, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
