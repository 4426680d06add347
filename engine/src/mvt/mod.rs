//! Mapbox Vector Tile 2.1 encoding: features in a tile matrix set's CRS in,
//! an uncompressed protobuf tile out.
//!
//! <https://github.com/mapbox/vector-tile-spec/tree/master/2.1>; section
//! numbers (§) below refer to it.
//!
//! Each feature goes through one pipeline, each stage its own module:
//! transform to tile units (`tile_geometry`, y down per §4.3) → clip to the
//! buffered tile square in floating point (`clip`) → Douglas–Peucker
//! (`simplify`) → round to integers and apply the ring rules (`quantise`)
//! → check simplification kept the polygon's rings apart (`topology`) →
//! geometry commands (`command`) → protobuf (`layer`, `pbf`).
//!
//! Two dependencies were left out on purpose:
//! - the `geo` crate: of its algorithms this needs only clipping against a
//!   rectangle and Douglas–Peucker, both short, while `geo` brings a large
//!   tree (robust predicates, rstar, spade…) and general boolean operations
//!   far slower than clipping to a square;
//! - `prost`/protobuf code generation: a tile is four fixed messages whose
//!   encoding is varints, zigzag, packed fields and length prefixes, about a
//!   hundred lines (`pbf`), against a build script and a runtime crate.
//!
//! # What the output guarantees
//! - Every coordinate lies in `[-buffer, extent + buffer]`; non-finite
//!   input coordinates are skipped (a line or ring joins their neighbours).
//! - Lines have at least two points and no zero-length `LineTo`.
//! - Rings have at least three distinct points, no consecutive repeats and
//!   non-zero area; exterior rings have positive area and interior rings
//!   negative by the surveyor's formula in tile coordinates (§4.3.4.4); a
//!   polygon whose exterior vanishes is dropped with its holes.
//! - A simplified polygon has no properly crossing edges and each hole has
//!   a vertex inside its exterior; otherwise it is encoded unsimplified.
//!
//! # What it does not
//! - Validity the input lacked: a self-intersecting input polygon stays
//!   self-intersecting, and rounding to integers can make rings touch or
//!   (rarely, in slivers under one unit) cross.
//! - Sutherland–Hodgman leaves zero-width edges along the tile border
//!   where a concave ring leaves and re-enters the tile (see `clip`).
//! - The polygons of one multipolygon are not checked against each other
//!   after simplification, nor holes against each other.
//! - Layer names are not checked for uniqueness in [`encode_tile`] (§4.1
//!   requires it): the caller names the layers.

mod clip;
mod command;
mod layer;
mod parts;
pub(crate) mod pbf;
mod quantise;
mod simplify;
mod tile_geometry;
mod topology;

#[cfg(test)]
mod tests;

pub use layer::LayerEncoder;

/// The default extent, in tile units per tile side: 4096, the default of
/// `extent` in MVT 2.1's `vector_tile.proto`, eight units per pixel on a
/// 512-pixel tile.
pub const DEFAULT_EXTENT: u32 = 4096;

/// The default buffer around the tile, in extent units: 64 (1/64 of the
/// tile's side, 8 pixels on a 512-pixel tile) is wide enough for line
/// joins and strokes to meet seamlessly at tile edges while adding little
/// data.
pub const DEFAULT_BUFFER: u32 = 64;

/// The default simplification tolerance, in extent units: one unit, which
/// is 1/8 pixel on a 512-pixel tile and so invisible.
pub const DEFAULT_TOLERANCE: f64 = 1.0;

/// How a layer's tiles are encoded (MVT 2.1 §4.1 `extent`): tile units
/// per side, the margin kept around the tile, and the Douglas–Peucker
/// tolerance, both in tile units (0: no simplification).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MvtOptions {
    pub extent: u32,
    pub buffer: u32,
    pub tolerance: f64,
}

impl Default for MvtOptions {
    fn default() -> Self {
        MvtOptions {
            extent: DEFAULT_EXTENT,
            buffer: DEFAULT_BUFFER,
            tolerance: DEFAULT_TOLERANCE,
        }
    }
}

impl MvtOptions {
    /// The params of the tile `bbox`.
    pub fn params(&self, bbox: [f64; 4]) -> TileParams {
        TileParams {
            bbox,
            extent: self.extent,
            buffer: self.buffer,
            tolerance: self.tolerance,
        }
    }
}

/// Where a tile is and how finely it is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TileParams {
    /// `[min_x, min_y, max_x, max_y]` of the tile in the features' CRS
    /// (x east, y north).
    pub bbox: [f64; 4],
    /// Tile units per side (§4.1 `extent`); 4096 by default.
    pub extent: u32,
    /// Margin kept around the tile, in extent units, so that clipped
    /// geometry draws seamlessly across tile edges.
    pub buffer: u32,
    /// Douglas–Peucker tolerance in extent units; 0 (or negative, or NaN)
    /// keeps every distinct quantised point.
    pub tolerance: f64,
}

impl TileParams {
    /// Params for the tile `bbox` with the default extent, buffer and
    /// tolerance.
    pub fn new(bbox: [f64; 4]) -> Self {
        MvtOptions::default().params(bbox)
    }

    /// Whether features can be encoded with these params: the bbox is
    /// finite with positive width and height (large enough that the scale
    /// to tile units stays finite), the extent is positive, and
    /// `extent + 2 * buffer` is below 2³¹ (§4.3.2's parameters are 32-bit).
    /// A [`LayerEncoder`] with unusable params drops every feature.
    pub fn is_usable(&self) -> bool {
        tile_geometry::TileFrame::new(self).is_some()
    }
}

/// The encoded tile (uncompressed protobuf `Tile`, §4.1) with the non-empty
/// layers, in order.
pub fn encode_tile(layers: &[LayerEncoder]) -> Vec<u8> {
    /// `Tile.layers` in `vector_tile.proto`.
    const LAYERS: u32 = 3;
    let mut out = Vec::new();
    for layer in layers.iter().filter(|layer| !layer.is_empty()) {
        layer.encode(&mut out, LAYERS);
    }
    out
}
