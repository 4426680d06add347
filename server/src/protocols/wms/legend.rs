//! GetLegendGraphic (SLD 1.1.0, OGC 05-078r4 §10.2, as WMS servers offer
//! it): the legend of one layer's style as an image. Lenient as QGIS needs:
//! WIDTH and HEIGHT are optional (20 × 20 per entry, a taller ramp for a
//! colormap), and SCALE, BBOX, CRS/SRS, SLD_VERSION and RULE are accepted
//! and do not change the drawing (the default style has one look at every
//! scale).

use hyper::StatusCode;
use tuilerie_engine::map;

use super::exception::{exception, rejected, Code, Version};
use super::getmap::run;
use super::map_params::ImageFormat;
use crate::protocols::ows::Params;
use crate::reply::Reply;
use crate::AppState;

/// Largest legend side, pixels: a legend is a small image beside a map.
pub const MAX_LEGEND_SIZE: u32 = 2048;

/// The reply to a GetLegendGraphic.
pub(crate) async fn reply(state: &AppState, params: &Params, version: Version) -> Reply {
    let Some(name) = params.value("LAYER") else {
        return exception(
            version,
            Code::MissingParameterValue,
            Some("LAYER"),
            "parameter LAYER is missing",
        );
    };
    let Some(layer) = state.catalog.get(name).cloned() else {
        return exception(
            version,
            Code::LayerNotDefined,
            Some("LAYER"),
            &format!("layer {name:?} is not defined; see GetCapabilities"),
        );
    };
    if let Some(style) = params.value("STYLE") {
        if !style.eq_ignore_ascii_case("default") {
            return exception(
                version,
                Code::StyleNotDefined,
                Some("STYLE"),
                &format!("layer {name:?} has no style {style:?}; its style is \"default\""),
            );
        }
    }
    let format = params.value("FORMAT").unwrap_or("image/png");
    let Some(image) = ImageFormat::named(format) else {
        return exception(
            version,
            Code::InvalidFormat,
            Some("FORMAT"),
            &format!("FORMAT {format:?} is not offered: image/png, image/jpeg, image/webp"),
        );
    };
    let size = |name: &str| -> Result<Option<u32>, Box<Reply>> {
        let Some(value) = params.value(name) else {
            return Ok(None);
        };
        match value.trim().parse::<u32>() {
            Ok(n) if (1..=MAX_LEGEND_SIZE).contains(&n) => Ok(Some(n)),
            _ => Err(rejected(
                version,
                Code::InvalidParameterValue,
                Some(name),
                &format!("{name} {value:?} is not a whole number from 1 to {MAX_LEGEND_SIZE}"),
            )),
        }
    };
    let (width, height) = match (size("WIDTH"), size("HEIGHT")) {
        (Ok(w), Ok(h)) => (w, h),
        (Err(reply), _) | (_, Err(reply)) => return *reply,
    };
    let quality = state.settings.jpeg_quality;
    let shared = layer.clone();
    let job = move || {
        let legend = map::legend(&shared, width, height)?;
        map::encode_image(legend, image.format, image.png8, quality)
    };
    match run(state, std::slice::from_ref(&layer.id), job).await {
        Ok(bytes) => Reply::new(StatusCode::OK, image.mime_type(), bytes),
        Err(failed) => failed.report(version),
    }
}
