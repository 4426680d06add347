//! Shared by the criterion benches: where the sample archives and the
//! load runs' generated files are, and WebMercatorQuad tile bounds.

use std::path::PathBuf;

use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::map::{Frame, MapRequest};
use tuilerie_engine::tms::TileMatrixSets;
use tuilerie_engine::{Bbox, TileFormat};

/// The server's allocator (see server/src/main.rs), for every bench: a
/// stage that allocates per tile or per feature costs here what it costs
/// in the server (glibc's allocator maps and faults in a fresh megabyte
/// buffer per tile).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A file of the repository's `data-samples/`.
pub fn sample(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data-samples")
        .join(name)
}

/// A file the load-run scripts generate under `target/bench/` (too large
/// for the repository), or `None`, said on stderr, when it has not been
/// made: `made_by` names the script.
pub fn generated(name: &str, made_by: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/bench")
        .join(name);
    if !path.exists() {
        eprintln!("{} missing: run {made_by}", path.display());
        return None;
    }
    Some(path)
}

/// The bounds `[min_x, min_y, max_x, max_y]` (EPSG:3857) of the
/// WebMercatorQuad tile `z/x/y`, from the engine's own tile matrix set.
pub fn tile_bbox(z: u8, x: u32, y: u32) -> [f64; 4] {
    let sets = TileMatrixSets::new(Vec::new()).expect("the registered sets");
    let web_mercator = sets.get("WebMercatorQuad").expect("WebMercatorQuad");
    let matrix = web_mercator.matrix(&z.to_string()).expect("a zoom of 0-24");
    matrix
        .tile_bounds(x, y, false)
        .expect("a tile of the matrix")
}

/// A WMS-sized map question: 1024 × 768 pixels of `metres_per_pixel`
/// centred on (`x`, `y`) in EPSG:3857, opaque over white, in `format`.
pub fn map_1024x768(x: f64, y: f64, metres_per_pixel: f64, format: TileFormat) -> MapRequest {
    let (w, h) = (1024.0 * metres_per_pixel, 768.0 * metres_per_pixel);
    MapRequest {
        bbox: Bbox::new(
            Crs::shared(3857).expect("EPSG:3857"),
            [x - w / 2.0, y - h / 2.0, x + w / 2.0, y + h / 2.0],
        )
        .expect("a finite box"),
        frame: Frame {
            width: 1024,
            height: 768,
            format,
            palette: false,
            transparent: false,
            background: [255, 255, 255],
            jpeg_quality: tuilerie_engine::encode::DEFAULT_JPEG_QUALITY,
        },
        resampling: None,
        zoom: 0,
        scale: 1.0,
        deadline: Deadline::NONE,
    }
}
