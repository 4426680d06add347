//! Rendered tiles, kept in a byte-bounded LRU (DESIGN: "rendered tiles
//! live in LRU caches bounded in bytes"): a tile rendered once is served
//! again for the price of a lookup, until memory pressure evicts it.

use tuilerie_engine::cache::{ByteLru, Weighed};
use tuilerie_engine::{Tile, TileFormat};

/// Default bound, 64 MiB: some 600 PNG tiles of an orthophoto, the hot
/// tiles of a busy map view.
pub const DEFAULT_TILE_CACHE_BYTES: usize = 64 << 20;

/// Everything a rendered tile depends on besides the server's settings:
/// layer, tile matrix set, matrix, column, row and format.
pub type TileKey = (String, String, String, u32, u32, TileFormat);

/// A rendered, encoded tile and whether it held no data at all.
#[derive(Clone)]
pub struct Rendered {
    pub tile: Tile,
    pub empty: bool,
}

impl Weighed for Rendered {
    fn weight(&self) -> usize {
        // The bytes, the key's strings and the bookkeeping, roughly.
        self.tile.data.len() + 256
    }
}

/// The cache of rendered tiles.
pub type TileCache = ByteLru<TileKey, Rendered>;
