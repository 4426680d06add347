//! One module per protocol: each parses its requests into engine questions
//! and writes the engine's answers in its own words.

pub mod catalog;
mod ows;
pub mod tile_matrix_sets;
pub mod tilejson;
pub mod wms;
pub mod wmts;
pub mod xyz;
