//! Shared by the criterion benches: where the sample archives and the
//! load runs' generated files are, and WebMercatorQuad tile bounds.

use std::path::PathBuf;

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

/// Half the side of the WebMercatorQuad square, in metres.
const HALF: f64 = 20_037_508.342_789_244;

/// The bounds `[min_x, min_y, max_x, max_y]` (EPSG:3857) of the
/// WebMercatorQuad tile `z/x/y`.
pub fn tile_bbox(z: u8, x: u32, y: u32) -> [f64; 4] {
    let size = 2.0 * HALF / 2f64.powi(i32::from(z));
    let (x, y) = (f64::from(x), f64::from(y));
    [
        -HALF + x * size,
        HALF - (y + 1.0) * size,
        -HALF + (x + 1.0) * size,
        HALF - y * size,
    ]
}
