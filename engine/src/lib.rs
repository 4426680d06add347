//! Tuilerie's rendering core: tile sources, the catalog of layers, and
//! everything that turns a question about a map into bytes. No HTTP here:
//! host names, query strings and status codes stay in the server crate.

pub mod bbox;
pub mod cache;
pub mod catalog;
pub mod compression;
pub mod crs;
pub mod deadline;
pub mod encode;
pub mod error;
pub mod feature;
pub mod feature_info;
pub mod map;
pub mod metadata;
pub mod mvt;
pub mod point_query;
pub mod raster;
pub mod raster_style;
pub mod render;
mod rounding;
pub mod source;
pub mod tile;
pub mod tms;
pub mod vector;
pub mod warp;
#[cfg(test)]
mod xorshift;

pub use bbox::Bbox;
pub use catalog::{Catalog, Layer, LayerSpec};
pub use error::{Error, ErrorKind, Result};
pub use metadata::TileSetMetadata;
pub use source::TileArchive;
pub use tile::{Encoding, Tile, TileCoord, TileFormat};
