//! Pixel drawing for map images: vector geometries onto a canvas, layers
//! composited into one image, and legend graphics, for WMS GetMap and
//! GetLegendGraphic (issue 13), and error messages drawn into images (WMS
//! INIMAGE exceptions): a plain default style until the MapLibre
//! style renderer exists, which will build on the same canvas.
//!
//! Decision: [`tiny_skia`] rasterises. It is the field's pure-Rust 2D
//! rasteriser (a port of Skia's CPU backend): anti-aliased paths with
//! even-odd and non-zero fills, strokes with joins and caps, dashes and
//! patterns, which is everything a map style needs short of text. It
//! builds without C code, and with `default-features = false` it brings five
//! small crates besides itself (its PNG codec stays out: `encode` writes
//! images). It is on 0.11.4; 0.12.0 is out, and moving to it is a change of
//! its own.
//! The alternative that lost: `vello_cpu`, faster on paper but younger and
//! still changing its API; it is worth benchmarking once the style renderer
//! draws real maps. Drawing our own scanline filler would repeat what
//! tiny-skia has tested against Skia.
//!
//! Units: geometries arrive in pixel coordinates of the output image
//! (x right, y down, f64), already transformed from their CRS. Images leave
//! as [`crate::warp::Rgba`], straight (not premultiplied) alpha.

mod canvas;
pub mod composite;
pub mod legend;
pub mod message;
pub mod plain;

pub use canvas::{Canvas, MAX_CANVAS_BYTES, MAX_SCALE, OGC_DPI};
