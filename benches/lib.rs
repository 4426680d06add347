//! Shared by the criterion benches: where the sample archives and the
//! load runs' generated files are, and WebMercatorQuad tile bounds.

use std::path::PathBuf;

use tuilerie_engine::tms::TileMatrixSets;

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
