//! The map part of GetMap and GetFeatureInfo (06-042 §7.3.2, §7.4.2: a
//! GetFeatureInfo repeats the GetMap parameters of the map it was asked
//! about): layers and styles, CRS with its axis order, bbox, size, format,
//! transparency, background, exceptions format and resolution. Parsed into
//! the engine's `MapRequest`, or the service exception the spec names.

use std::sync::Arc;

use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::map::{Frame, MapRequest};
use tuilerie_engine::render::{MAX_SCALE, OGC_DPI};
use tuilerie_engine::{Bbox, Layer, TileFormat};

use super::exception::{rejected, Code, Version};
use crate::protocols::ows::Params;
use crate::reply::Reply;
use crate::AppState;

/// How exceptions are reported (06-042 §7.3.3.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exceptions {
    Xml,
    /// The message drawn into an image of the map's size and format.
    InImage,
    /// An empty image of the map's size and format.
    Blank,
}

/// An output image format of GetMap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ImageFormat {
    pub format: TileFormat,
    /// `image/png; mode=8bit`: a paletted PNG.
    pub png8: bool,
}

impl ImageFormat {
    /// The format a FORMAT value names (media types as GeoServer and
    /// MapServer accept them, parameters and case aside).
    pub(crate) fn named(name: &str) -> Option<Self> {
        let lower = name.to_ascii_lowercase().replace(' ', "");
        let png = |png8| {
            Some(ImageFormat {
                format: TileFormat::Png,
                png8,
            })
        };
        match lower.as_str() {
            "image/png" | "png" => png(false),
            "image/png;mode=8bit" | "image/png8" | "png8" => png(true),
            "image/jpeg" | "image/jpg" | "jpeg" | "jpg" => Some(ImageFormat {
                format: TileFormat::Jpeg,
                png8: false,
            }),
            "image/webp" | "webp" => Some(ImageFormat {
                format: TileFormat::Webp,
                png8: false,
            }),
            _ => None,
        }
    }

    /// The media type of the reply.
    pub(crate) fn mime_type(self) -> &'static str {
        self.format.mime_type()
    }
}

/// A parsed map: the layers (groups expanded), the engine's question and
/// how to answer failures.
pub(crate) struct MapParams {
    /// The names asked for in LAYERS (a group's name once).
    pub names: Vec<String>,
    pub layers: Vec<Arc<Layer>>,
    pub request: MapRequest,
    pub image: ImageFormat,
    pub exceptions: Exceptions,
}

/// What GetFeatureInfo may leave out of the map parameters: FORMAT (a
/// client has no use for it there; QGIS sends it, OWSLib may not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    GetMap,
    GetFeatureInfo,
}

/// The map parameters of `params`, or the exception to answer.
pub(crate) fn parse(
    state: &AppState,
    params: &Params,
    version: Version,
    operation: Operation,
) -> Result<MapParams, Box<Reply>> {
    let settings = &state.settings;

    let exceptions = exceptions(params);
    let (names, layers) = layers(state, params, version)?;
    styles(params, version, &names)?;

    // 1.3.0 says CRS, 1.1.1 SRS; a client mixing them up is answered.
    let (crs_param, other) = match version {
        Version::V130 => ("CRS", "SRS"),
        Version::V111 => ("SRS", "CRS"),
    };
    let crs_name = params
        .value(crs_param)
        .or_else(|| params.value(other))
        .ok_or_else(|| missing(version, crs_param))?;
    let crs = Crs::shared_named(crs_name).map_err(|e| {
        rejected(
            version,
            Code::InvalidCrs,
            Some(crs_param),
            &format!("{crs_name:?} is not a CRS this server knows: {e}"),
        )
    })?;

    let bbox_value = params
        .value("BBOX")
        .ok_or_else(|| missing(version, "BBOX"))?;
    let numbers: Vec<f64> = bbox_value
        .split(',')
        .map(|v| v.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| {
            invalid(
                version,
                "BBOX",
                format!("BBOX {bbox_value:?} is not four numbers"),
            )
        })?;
    let [a, b, c, d] = numbers[..] else {
        return Err(invalid(
            version,
            "BBOX",
            format!("BBOX {bbox_value:?} is not four numbers"),
        ));
    };
    // 06-042 §6.7.4: in 1.3.0 the BBOX follows the CRS's axis order, so
    // EPSG:4326 is latitude first; CRS:84 is its longitude-first twin.
    let swapped = version == Version::V130
        && crs.northing_first()
        && !crs_name.trim().eq_ignore_ascii_case("CRS:84");
    let coords = if swapped { [b, a, d, c] } else { [a, b, c, d] };
    let bbox = Bbox::new(crs, coords).map_err(|e| invalid(version, "BBOX", e.to_string()))?;

    let (frame, image) = frame(state, params, version, operation)?;
    let scale = dpi(params)
        .map_err(|text| invalid(version, "DPI", text))?
        .map_or(1.0, |dpi| dpi / OGC_DPI);

    Ok(MapParams {
        names,
        layers,
        request: MapRequest {
            bbox,
            frame,
            resampling: None,
            zoom: 0,
            scale,
            deadline: Deadline::after(settings.render_timeout),
        },
        image,
        exceptions,
    })
}

/// MissingParameterValue for `name`.
fn missing(version: Version, name: &str) -> Box<Reply> {
    rejected(
        version,
        Code::MissingParameterValue,
        Some(name),
        &format!("parameter {name} is missing"),
    )
}

/// InvalidParameterValue for `name`, saying why.
fn invalid(version: Version, name: &str, text: String) -> Box<Reply> {
    rejected(version, Code::InvalidParameterValue, Some(name), &text)
}

/// EXCEPTIONS (06-042 §7.3.3.11): how a GetMap's errors are answered.
pub(crate) fn exceptions(params: &Params) -> Exceptions {
    match params.value("EXCEPTIONS").map(str::to_ascii_lowercase) {
        Some(e) if e.ends_with("inimage") => Exceptions::InImage,
        Some(e) if e.ends_with("blank") => Exceptions::Blank,
        // XML, application/vnd.ogc.se_xml, text/xml; anything else falls
        // back to XML, as MapServer does.
        _ => Exceptions::Xml,
    }
}

/// The image side of a map: WIDTH, HEIGHT, FORMAT, TRANSPARENT, BGCOLOR.
pub(crate) fn frame(
    state: &AppState,
    params: &Params,
    version: Version,
    operation: Operation,
) -> Result<(Frame, ImageFormat), Box<Reply>> {
    let settings = &state.settings;
    let size = |name: &str, max: u32| -> Result<u32, Box<Reply>> {
        let value = params.value(name).ok_or_else(|| missing(version, name))?;
        match value.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(invalid(
                version,
                name,
                format!("{name} {value:?} is not a whole number from 1 to {max}"),
            )),
        }
    };
    let width = size("WIDTH", settings.max_width)?;
    let height = size("HEIGHT", settings.max_height)?;

    let image = match (params.value("FORMAT"), operation) {
        (Some(name), _) => ImageFormat::named(name).ok_or_else(|| {
            rejected(
                version,
                Code::InvalidFormat,
                Some("FORMAT"),
                &format!(
                    "FORMAT {name:?} is not offered: image/png, image/png; mode=8bit, \
                     image/jpeg, image/webp"
                ),
            )
        })?,
        (None, Operation::GetFeatureInfo) => ImageFormat {
            format: TileFormat::Png,
            png8: false,
        },
        (None, Operation::GetMap) => return Err(missing(version, "FORMAT")),
    };

    let transparent = match params.value("TRANSPARENT") {
        None => false,
        Some(v) if v.eq_ignore_ascii_case("true") => true,
        Some(v) if v.eq_ignore_ascii_case("false") => false,
        Some(v) => {
            return Err(invalid(
                version,
                "TRANSPARENT",
                format!("TRANSPARENT {v:?} is neither TRUE nor FALSE"),
            ))
        }
    };
    let background = match params.value("BGCOLOR") {
        None => [255, 255, 255],
        Some(v) => colour(v)
            .ok_or_else(|| invalid(version, "BGCOLOR", format!("BGCOLOR {v:?} is not 0xRRGGBB")))?,
    };
    let frame = Frame {
        width,
        height,
        format: image.format,
        palette: image.png8,
        transparent,
        background,
        jpeg_quality: settings.jpeg_quality,
    };
    Ok((frame, image))
}

/// The names LAYERS gives and the layers they stand for.
type Named = (Vec<String>, Vec<Arc<Layer>>);

/// LAYERS: catalog layers and groups (a group is its layers, in order), at
/// most `layer_limit` names.
fn layers(state: &AppState, params: &Params, version: Version) -> Result<Named, Box<Reply>> {
    let value = params.value("LAYERS").ok_or_else(|| {
        rejected(
            version,
            Code::LayerNotDefined,
            Some("LAYERS"),
            "parameter LAYERS is missing or empty",
        )
    })?;
    let names: Vec<String> = value.split(',').map(|n| n.trim().to_owned()).collect();
    let limit = state.settings.layer_limit as usize;
    if names.len() > limit {
        return Err(rejected(
            version,
            Code::InvalidParameterValue,
            Some("LAYERS"),
            &format!(
                "{} layers asked for; this server draws at most {limit} (LayerLimit)",
                names.len()
            ),
        ));
    }
    let mut layers = Vec::new();
    for name in &names {
        if let Some(layer) = state.catalog.get(name) {
            layers.push(Arc::clone(layer));
        } else if let Some(group) = state.settings.wms_groups.iter().find(|g| &g.name == name) {
            layers.extend(
                group
                    .layers
                    .iter()
                    .filter_map(|id| state.catalog.get(id).map(Arc::clone)),
            );
        } else {
            return Err(rejected(
                version,
                Code::LayerNotDefined,
                Some("LAYERS"),
                &format!("layer {name:?} is not defined; see GetCapabilities"),
            ));
        }
    }
    Ok((names, layers))
}

/// STYLES: empty (every layer's default), or one entry per layer, each
/// empty or `default`, the one style each layer offers (06-042 §7.3.3.4).
fn styles(params: &Params, version: Version, names: &[String]) -> Result<(), Box<Reply>> {
    let Some(value) = params.value("STYLES") else {
        return Ok(());
    };
    let styles: Vec<&str> = value.split(',').map(str::trim).collect();
    if styles.len() != names.len() {
        return Err(rejected(
            version,
            Code::StyleNotDefined,
            Some("STYLES"),
            &format!(
                "STYLES names {} styles for {} layers; give one per layer, or none",
                styles.len(),
                names.len()
            ),
        ));
    }
    for (style, name) in styles.iter().zip(names) {
        if !(style.is_empty() || style.eq_ignore_ascii_case("default")) {
            return Err(rejected(
                version,
                Code::StyleNotDefined,
                Some("STYLES"),
                &format!("layer {name:?} has no style {style:?}; its style is \"default\""),
            ));
        }
    }
    Ok(())
}

/// A `0xRRGGBB` colour (also `#RRGGBB` or bare hex, as servers accept).
fn colour(value: &str) -> Option<[u8; 3]> {
    let hex = value
        .strip_prefix("0x")
        .or_else(|| value.strip_prefix("0X"))
        .or_else(|| value.strip_prefix('#'))
        .unwrap_or(value);
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    Some([channel(0)?, channel(2)?, channel(4)?])
}

/// The resolution a client asks for, in dots per inch: `DPI` (GeoServer),
/// `MAP_RESOLUTION` (QGIS Server) or `FORMAT_OPTIONS=dpi:n` (GeoServer,
/// MapServer); QGIS sends all three. `None` when none is given.
fn dpi(params: &Params) -> Result<Option<f32>, String> {
    let from_options = params.value("FORMAT_OPTIONS").and_then(|options| {
        options.split(';').find_map(|option| {
            let (key, value) = option.split_once(':')?;
            key.trim().eq_ignore_ascii_case("dpi").then_some(value)
        })
    });
    let Some(value) = params
        .value("DPI")
        .or_else(|| params.value("MAP_RESOLUTION"))
        .or(from_options)
    else {
        return Ok(None);
    };
    let max = MAX_SCALE * OGC_DPI;
    match value.trim().parse::<f32>() {
        Ok(dpi) if dpi > 0.0 && dpi <= max => Ok(Some(dpi)),
        _ => Err(format!(
            "resolution {value:?} is not a number of dots per inch above 0 and at most {max:.0}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named_as_servers_accept_them() {
        let png8 = ImageFormat::named("image/png; mode=8bit").unwrap();
        assert!(png8.png8 && png8.format == TileFormat::Png);
        assert!(ImageFormat::named("IMAGE/PNG8").unwrap().png8);
        assert_eq!(
            ImageFormat::named("image/jpeg").unwrap().format,
            TileFormat::Jpeg
        );
        assert!(ImageFormat::named("image/gif").is_none());
        assert!(ImageFormat::named("").is_none());
    }

    #[test]
    fn background_colours_are_hex_triplets() {
        assert_eq!(colour("0xFF8000"), Some([255, 128, 0]));
        assert_eq!(colour("#00ff00"), Some([0, 255, 0]));
        assert_eq!(colour("0xFFF"), None);
        assert_eq!(colour("0xGG0000"), None);
        assert_eq!(colour("0x00é000"), None);
    }

    #[test]
    fn the_resolution_comes_from_any_of_the_three_names() {
        let dpi_of = |q: &str| dpi(&Params::parse(q));
        assert_eq!(dpi_of(""), Ok(None));
        assert_eq!(dpi_of("DPI=180"), Ok(Some(180.0)));
        assert_eq!(dpi_of("map_resolution=96"), Ok(Some(96.0)));
        assert_eq!(
            dpi_of("FORMAT_OPTIONS=antialias:full;dpi:300"),
            Ok(Some(300.0))
        );
        assert!(dpi_of("DPI=0").is_err());
        assert!(dpi_of("DPI=1e9").is_err());
        assert!(dpi_of("DPI=NaN").is_err());
    }
}
