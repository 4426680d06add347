//! The engine's one question: *these layers, this box in this CRS, this
//! size, this format* → an encoded image (or, for a feature layer asked
//! for a vector tile, MVT bytes). A WMTS or XYZ tile and a WMS GetMap are
//! the same question; the protocols parse into a [`MapRequest`], call
//! [`render`] on the CPU pool, and tiles add caching around it.
//!
//! Behind it: the stored-tile shortcut (a tile on a raster's own grid sent
//! as stored), the warp (rasters), the feature cut (MVT) and drawing
//! (features in a map image), then compositing in layer order and encoding.
//!
//! Memory: layers render in parallel, as many at once as fit in
//! [`MAP_MEMORY_BUDGET`] at about [`BYTES_PER_PIXEL_PER_LAYER`] each, and are
//! composited in order as they finish; so a request's memory is bounded by
//! its size (which the protocols bound) whatever its number of layers.

use std::sync::Arc;

use bytes::Bytes;
use geo_types::Geometry;
use rayon::prelude::*;

use crate::bbox::Bbox;
use crate::catalog::{Layer, LayerSource};
use crate::deadline::Deadline;
use crate::encode::{encode, encode_png8};
use crate::error::{Error, Result};
use crate::feature::visit_coords;
use crate::render::composite::{flatten, over};
use crate::render::legend::GeometryKind;
use crate::render::plain::{draw, PlainStyle};
use crate::render::Canvas;
use crate::source::FeatureQuery;
use crate::tile::TileFormat;
use crate::vector::{VectorLayer, MAX_FEATURES_PER_TILE};
use crate::warp::{Request, Resampling, Rgba};

/// Pixels around the map whose features are drawn too: wider than the
/// default style's strokes and point radius.
const DRAW_MARGIN: f32 = 8.0;

/// Memory a map may hold in layer images being rendered at once.
pub const MAP_MEMORY_BUDGET: usize = 512 << 20;

/// What one layer's render holds per output pixel at its peak: the warped
/// values (four `f32`) and the styled RGBA.
pub const BYTES_PER_PIXEL_PER_LAYER: usize = 20;

/// The most pixels one map may have: 8192 × 8192, a quarter of
/// [`MAP_MEMORY_BUDGET`] per layer. Protocols set tighter limits of their
/// own (WMS MaxWidth/MaxHeight); this one holds whatever they say.
pub const MAX_MAP_PIXELS: usize = 8192 * 8192;

/// The image side of a map: its size and how it is encoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    pub width: u32,
    pub height: u32,
    /// PNG, JPEG or WebP; MVT for a feature layer's vector tile.
    pub format: TileFormat,
    /// A PNG of at most 256 colours (WMS `image/png; mode=8bit`).
    pub palette: bool,
    /// Whether pixels without data stay transparent (PNG, WebP); when not,
    /// the map is drawn over `background`. JPEG is always opaque.
    pub transparent: bool,
    /// The colour under the map when it is not transparent.
    pub background: [u8; 3],
    pub jpeg_quality: u8,
}

/// A map to render.
#[derive(Clone)]
pub struct MapRequest {
    pub bbox: Bbox,
    pub frame: Frame,
    /// How rasters are resampled; each layer's own when `None`.
    pub resampling: Option<Resampling>,
    /// The zoom of a vector tile (its tile matrix's rank in the set).
    pub zoom: u8,
    /// Device pixels per standard 0.28 mm pixel (a WMS DPI over
    /// [`crate::render::OGC_DPI`]): strokes and symbols scale by it.
    pub scale: f32,
    pub deadline: Deadline,
}

/// An encoded map.
pub struct Map {
    pub bytes: Bytes,
    /// Whether no layer put anything in it (a tile of no data).
    pub empty: bool,
}

/// Renders `layers`, bottom first, as `request` asks.
pub fn render(layers: &[&Layer], request: &MapRequest) -> Result<Map> {
    let (width, height) = (request.frame.width as usize, request.frame.height as usize);
    if width == 0 || height == 0 || width * height > MAX_MAP_PIXELS {
        return Err(Error::invalid(format!(
            "a map of {width} × {height} pixels: sizes run from 1 to {MAX_MAP_PIXELS} pixels"
        )));
    }
    if request.frame.format == TileFormat::Mvt {
        return vector_tile(layers, request);
    }
    if let Some(stored) = stored_tile(layers, request)? {
        return Ok(Map {
            bytes: stored,
            empty: false,
        });
    }
    let image = image(layers, request)?;
    let empty = image.is_empty();
    Ok(Map {
        bytes: encode_map(image, &request.frame)?,
        empty,
    })
}

/// `image` encoded as `frame` asks: over its background unless
/// transparent (JPEG never is), in its format.
pub fn encode_map(mut image: Rgba, frame: &Frame) -> Result<Bytes> {
    if !frame.transparent || frame.format == TileFormat::Jpeg {
        flatten(&mut image, frame.background);
    }
    encode_image(image, frame.format, frame.palette, frame.jpeg_quality)
}

/// `image` in `format` (a `palette` PNG has at most 256 colours); a JPEG
/// over white where the image is not opaque.
pub fn encode_image(
    mut image: Rgba,
    format: TileFormat,
    palette: bool,
    jpeg_quality: u8,
) -> Result<Bytes> {
    if format == TileFormat::Jpeg {
        flatten(&mut image, [255, 255, 255]);
    }
    if palette && format == TileFormat::Png {
        return Ok(encode_png8(&image)?.into());
    }
    Ok(encode(&image, format, jpeg_quality)?.into())
}

/// The image of an exception asked for in the map (WMS
/// `EXCEPTIONS=INIMAGE`): `text` written over the map's background (or
/// transparent), in the frame's size and format.
pub fn message_map(frame: &Frame, text: &str) -> Result<Bytes> {
    let background = (!frame.transparent).then_some(frame.background);
    let image = crate::render::message::message(
        frame.width as usize,
        frame.height as usize,
        text,
        background,
    )?;
    encode_map(image, frame)
}

/// An empty map of the frame's size and format (WMS `EXCEPTIONS=BLANK`).
pub fn blank_map(frame: &Frame) -> Result<Bytes> {
    encode_map(blank(frame), frame)
}

/// The layers drawn and composited into one straight-alpha image.
pub fn image(layers: &[&Layer], request: &MapRequest) -> Result<Rgba> {
    let (width, height) = (request.frame.width as usize, request.frame.height as usize);
    let pixels = width * height;
    let at_once = (MAP_MEMORY_BUDGET / (pixels * BYTES_PER_PIXEL_PER_LAYER)).max(1);
    // The bottom layer's image is the map (nothing under it to composite).
    let mut map: Option<Rgba> = None;
    for chunk in layers.chunks(at_once) {
        let images: Vec<Result<Rgba>> = chunk
            .par_iter()
            .map(|layer| layer_image(layer, request))
            .collect();
        for image in images {
            let image = image?;
            match &mut map {
                None => map = Some(image),
                Some(map) => over(map, &image),
            }
        }
    }
    Ok(map.unwrap_or_else(|| blank(&request.frame)))
}

/// One layer's image.
fn layer_image(layer: &Layer, request: &MapRequest) -> Result<Rgba> {
    if let Some(raster) = layer.source.raster() {
        if !raster.intersects(&request.bbox) {
            return Ok(blank(&request.frame));
        }
        return raster.render(&Request {
            bbox: &request.bbox,
            width: request.frame.width as usize,
            height: request.frame.height as usize,
            resampling: request.resampling.unwrap_or(raster.resampling),
            deadline: request.deadline,
        });
    }
    match layer.source.features() {
        Some(vector) => draw_features(vector, request),
        None => Err(undrawable(layer)),
    }
}

/// The error for a layer maps cannot draw: an archive whose tiles could
/// not be read as a raster or as features when it was opened (logged then).
fn undrawable(layer: &Layer) -> Error {
    Error::Unsupported {
        path: layer.path.clone(),
        detail: format!(
            "layer {:?}: its stored tiles cannot be drawn into a map",
            layer.id
        ),
    }
}

/// A feature layer drawn in the plain default style (until styles come):
/// the features meeting the map grown by [`DRAW_MARGIN`] pixels (a stroke
/// or point just outside still shows its edge), curves within half a
/// pixel, moved into pixel coordinates and drawn.
fn draw_features(vector: &VectorLayer, request: &MapRequest) -> Result<Rgba> {
    let bbox = &request.bbox;
    let [x0, y0, x1, y1] = bbox.coords();
    let (res_x, res_y) = (
        bbox.width() / f64::from(request.frame.width),
        bbox.height() / f64::from(request.frame.height),
    );
    let margin = f64::from(DRAW_MARGIN * request.scale);
    let grown = Bbox::new(
        Arc::clone(bbox.shared_crs()),
        [
            x0 - margin * res_x,
            y0 - margin * res_y,
            x1 + margin * res_x,
            y1 + margin * res_y,
        ],
    )?;
    let query = FeatureQuery {
        bbox: &grown,
        tolerance: 0.5 * res_x.min(res_y),
        max: MAX_FEATURES_PER_TILE,
        deadline: request.deadline,
    };
    let mut canvas = Canvas::new(
        request.frame.width as usize,
        request.frame.height as usize,
        request.scale,
    )?;
    for table in vector.tables() {
        let mut geometries = Vec::new();
        table.source.features(&query, &mut |feature| {
            let mut geometry = std::mem::replace(
                &mut feature.geometry,
                Geometry::GeometryCollection(Default::default()),
            );
            visit_coords(&mut geometry, &mut |c| {
                c.x = (c.x - x0) / res_x;
                c.y = (y1 - c.y) / res_y;
            });
            geometries.push(geometry);
        })?;
        request.deadline.check("drawing features")?;
        let style = PlainStyle {
            outline_polygons: !table.source.cut_at_tiles(),
            ..PlainStyle::default()
        };
        draw(&mut canvas, &geometries, &style);
    }
    Ok(canvas.into_rgba())
}

/// A transparent image of the frame's size.
fn blank(frame: &Frame) -> Rgba {
    let (width, height) = (frame.width as usize, frame.height as usize);
    Rgba {
        width,
        height,
        data: vec![0; width * height * 4],
    }
}

/// The stored image of a single raster layer that is exactly the request
/// (see [`crate::raster::RasterLayer::stored_tile`]), in the asked format.
fn stored_tile(layers: &[&Layer], request: &MapRequest) -> Result<Option<Bytes>> {
    let [layer] = layers else {
        return Ok(None);
    };
    let LayerSource::Raster(raster) = &layer.source else {
        return Ok(None);
    };
    if !request.frame.transparent || request.resampling.is_some_and(|r| r != raster.resampling) {
        return Ok(None);
    }
    let stored = raster.stored_tile(&request.bbox, request.frame.width, request.frame.height)?;
    Ok(stored.filter(|bytes| TileFormat::sniff(bytes) == request.frame.format))
}

/// The MVT tile of one feature layer (uncompressed; empty when no feature
/// falls in it).
fn vector_tile(layers: &[&Layer], request: &MapRequest) -> Result<Map> {
    let [layer] = layers else {
        return Err(Error::invalid("a vector tile is cut from one layer"));
    };
    let LayerSource::Features(vector) = &layer.source else {
        return Err(Error::invalid(format!(
            "layer {:?} has no features to cut vector tiles from",
            layer.id
        )));
    };
    let tile = vector.render(&request.bbox, request.zoom, request.deadline)?;
    Ok(Map {
        empty: tile.is_empty(),
        bytes: tile.into(),
    })
}

/// Height of a colour ramp legend when the client gives none: tall enough
/// to read the ramp, as GeoServer's raster legends are.
const RAMP_HEIGHT: usize = 100;

/// The legend graphic of `layer` (WMS GetLegendGraphic), `width` ×
/// `height` per entry (20 × 20 unless given, as GeoServer draws rules): a
/// raster shown through a colormap is its ramp (maximum at the top); any
/// other raster a thumbnail of its extent; a feature layer one swatch per
/// kind of geometry its sources declare.
pub fn legend(layer: &Layer, width: Option<u32>, height: Option<u32>) -> Result<Rgba> {
    let width = width.unwrap_or(20) as usize;
    if let Some(raster) = layer.source.raster() {
        if let Some(colormap) = raster.colormap() {
            let height = height.map_or(RAMP_HEIGHT, |h| h as usize);
            return crate::render::legend::ramp(colormap, width, height);
        }
        let height = height.unwrap_or(20);
        // A raster without bounds is drawn over the world.
        let bounds = layer
            .metadata
            .bounds
            .unwrap_or([-180.0, -90.0, 180.0, 90.0]);
        let request = MapRequest {
            bbox: Bbox::new(crate::crs::Crs::shared(4326)?, bounds)?,
            frame: Frame {
                width: width as u32,
                height,
                format: TileFormat::Png,
                palette: false,
                transparent: true,
                background: [255, 255, 255],
                jpeg_quality: crate::encode::DEFAULT_JPEG_QUALITY,
            },
            resampling: None,
            zoom: 0,
            scale: 1.0,
            deadline: Deadline::NONE,
        };
        return layer_image(layer, &request);
    }
    let Some(vector) = layer.source.features() else {
        return Err(undrawable(layer));
    };
    let mut kinds = Vec::new();
    for table in vector.tables() {
        for kind in kinds_of(table.source.geometry_type()) {
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
    }
    let height = height.unwrap_or(20) as usize;
    crate::render::legend::swatches(&PlainStyle::default(), &kinds, width, height)
}

/// The kinds of geometry a Simple Features type name allows.
fn kinds_of(geometry_type: &str) -> Vec<GeometryKind> {
    let name = geometry_type.to_ascii_uppercase();
    if name.contains("POLYGON") || name.contains("SURFACE") {
        vec![GeometryKind::Polygon]
    } else if name.contains("LINE") || name.contains("CURVE") {
        vec![GeometryKind::Line]
    } else if name.contains("POINT") {
        vec![GeometryKind::Point]
    } else {
        vec![
            GeometryKind::Polygon,
            GeometryKind::Line,
            GeometryKind::Point,
        ]
    }
}
