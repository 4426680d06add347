//! GetFeatureInfo (06-042 §7.4): what lies under pixel (I, J) (1.1.1: X,
//! Y) of a map. Feature layers answer the features within a few pixels of
//! it (`BUFFER`, GeoServer's name, default [`DEFAULT_BUFFER`]), at most
//! FEATURE_COUNT of them per layer; raster layers the band values of the
//! pixel under it (a DEM's elevation). Formats: text/plain and text/html
//! (MapServer's layout), application/json (GeoJSON, geometries in the
//! map's CRS as GeoServer gives them) and application/vnd.ogc.gml
//! (MapServer's `msGMLOutput`, GML 2).

use std::fmt::Write;
use std::sync::Arc;

use hyper::StatusCode;
use serde_json::{json, Map, Value as Json};
use tuilerie_engine::catalog::LayerSource;
use tuilerie_engine::feature::{geojson_geometry, Value};
use tuilerie_engine::feature_info::{features_at, Hit};
use tuilerie_engine::Layer;

use super::exception::{rejected, Code, Version};
use super::getmap::run;
use super::map_params::{self, Operation};
use crate::protocols::ows::{escape, Params};
use crate::reply::Reply;
use crate::AppState;

/// Pixels around the point within which a feature is hit: QGIS and
/// GeoServer users click within a few pixels of a line or point.
pub const DEFAULT_BUFFER: f64 = 4.0;

/// Most features answered per layer, whatever FEATURE_COUNT asks.
pub const MAX_FEATURE_COUNT: usize = 1000;

/// The answer formats, by INFO_FORMAT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum InfoFormat {
    Text,
    Html,
    GeoJson,
    Gml,
}

impl InfoFormat {
    fn named(name: &str) -> Option<Self> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "text/plain" => InfoFormat::Text,
            "text/html" => InfoFormat::Html,
            "application/json" | "application/geo+json" | "geojson" => InfoFormat::GeoJson,
            "application/vnd.ogc.gml" | "gml" | "text/xml" | "application/xml" => InfoFormat::Gml,
            _ => return None,
        })
    }

    fn mime_type(self) -> &'static str {
        match self {
            InfoFormat::Text => "text/plain; charset=utf-8",
            InfoFormat::Html => "text/html; charset=utf-8",
            InfoFormat::GeoJson => "application/json",
            InfoFormat::Gml => "application/vnd.ogc.gml",
        }
    }
}

/// What one queried layer has under the point.
enum Found {
    Features(Vec<Hit>),
    /// Band values of the pixel, `None` where there is no data.
    Values(Option<Vec<f64>>),
}

/// The reply to a GetFeatureInfo.
pub(crate) async fn reply(state: &AppState, params: &Params, version: Version) -> Reply {
    let map = match map_params::parse(state, params, version, Operation::GetFeatureInfo) {
        Ok(map) => map,
        Err(reply) => return *reply,
    };
    let query = match parse(params, version, &map.names, &map.layers, &map.request) {
        Ok(query) => query,
        Err(reply) => return *reply,
    };
    let Query {
        layers,
        format,
        point,
        count,
    } = query;
    let request = map.request.clone();
    let names: Vec<String> = layers.iter().map(|l| l.id.clone()).collect();
    let job = move || {
        let bbox = &request.bbox;
        let res = (bbox.width() / f64::from(request.frame.width))
            .min(bbox.height() / f64::from(request.frame.height));
        let tolerance = DEFAULT_BUFFER * f64::from(request.scale) * res;
        layers
            .iter()
            .map(|layer| {
                let found = match layer.source.features() {
                    Some(vector) => Found::Features(features_at(
                        vector,
                        bbox,
                        point,
                        tolerance,
                        count,
                        request.deadline,
                    )?),
                    None => match layer.source.raster() {
                        Some(raster) => {
                            Found::Values(raster.values_at(bbox.crs(), point.0, point.1)?)
                        }
                        None => Found::Features(Vec::new()),
                    },
                };
                Ok((Arc::clone(layer), found))
            })
            .collect::<tuilerie_engine::Result<Vec<_>>>()
    };
    match run(state, &names, job).await {
        Ok(found) => {
            let body = match format {
                InfoFormat::Text => text(&found),
                InfoFormat::Html => html(&found),
                InfoFormat::GeoJson => geojson(&found, point).to_string(),
                InfoFormat::Gml => gml(&found),
            };
            Reply::new(StatusCode::OK, format.mime_type(), body.into())
        }
        Err(failed) => failed.report(version),
    }
}

/// The query part of a GetFeatureInfo.
struct Query {
    layers: Vec<Arc<Layer>>,
    format: InfoFormat,
    /// The centre of the pixel asked about, in the map's CRS.
    point: (f64, f64),
    count: usize,
}

/// QUERY_LAYERS, INFO_FORMAT, I/J (X/Y), FEATURE_COUNT.
fn parse(
    params: &Params,
    version: Version,
    names: &[String],
    map_layers: &[Arc<Layer>],
    request: &tuilerie_engine::map::MapRequest,
) -> Result<Query, Box<Reply>> {
    let query_layers = params.value("QUERY_LAYERS").ok_or_else(|| {
        rejected(
            version,
            Code::MissingParameterValue,
            Some("QUERY_LAYERS"),
            "parameter QUERY_LAYERS is missing",
        )
    })?;
    let mut layers = Vec::new();
    for name in query_layers.split(',').map(str::trim) {
        // A layer of the map, or of a group the map names (06-042 §7.4.3.3).
        let found: Vec<&Arc<Layer>> = map_layers.iter().filter(|l| l.id == name).collect();
        if found.is_empty() && !names.iter().any(|n| n == name) {
            return Err(rejected(
                version,
                Code::LayerNotDefined,
                Some("QUERY_LAYERS"),
                &format!("query layer {name:?} is not one of LAYERS"),
            ));
        }
        let queried: Vec<&Arc<Layer>> = if found.is_empty() {
            map_layers.iter().collect()
        } else {
            found
        };
        for layer in queried {
            if matches!(layer.source, LayerSource::Tiles(_, None)) {
                return Err(rejected(
                    version,
                    Code::LayerNotQueryable,
                    Some("QUERY_LAYERS"),
                    &format!(
                        "layer {:?} holds vector tiles, which cannot be queried",
                        layer.id
                    ),
                ));
            }
            if !layers.iter().any(|l: &Arc<Layer>| l.id == layer.id) {
                layers.push(Arc::clone(layer));
            }
        }
    }
    let format = match params.value("INFO_FORMAT") {
        None => InfoFormat::Text,
        Some(name) => InfoFormat::named(name).ok_or_else(|| {
            rejected(
                version,
                Code::InvalidFormat,
                Some("INFO_FORMAT"),
                &format!(
                    "INFO_FORMAT {name:?} is not offered: text/plain, text/html, \
                     application/json, application/vnd.ogc.gml"
                ),
            )
        })?,
    };
    let (i_name, j_name) = match version {
        Version::V130 => ("I", "J"),
        Version::V111 => ("X", "Y"),
    };
    let pixel = |name: &str, other: &str, size: u32| -> Result<u32, Box<Reply>> {
        let value = params.value(name).or_else(|| params.value(other));
        let Some(value) = value else {
            return Err(rejected(
                version,
                Code::MissingParameterValue,
                Some(name),
                &format!("parameter {name} is missing"),
            ));
        };
        match value.trim().parse::<u32>() {
            Ok(n) if n < size => Ok(n),
            _ => Err(rejected(
                version,
                Code::InvalidPoint,
                Some(name),
                &format!(
                    "{name} {value:?} is not a pixel of the map (0 to {})",
                    size - 1
                ),
            )),
        }
    };
    let i = pixel(
        i_name,
        if i_name == "I" { "X" } else { "I" },
        request.frame.width,
    )?;
    let j = pixel(
        j_name,
        if j_name == "J" { "Y" } else { "J" },
        request.frame.height,
    )?;
    let [x0, _, _, y1] = request.bbox.coords();
    let point = (
        x0 + (f64::from(i) + 0.5) * request.bbox.width() / f64::from(request.frame.width),
        y1 - (f64::from(j) + 0.5) * request.bbox.height() / f64::from(request.frame.height),
    );
    let count = match params.value("FEATURE_COUNT") {
        None => 1,
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if n >= 1 => n.min(MAX_FEATURE_COUNT),
            _ => {
                return Err(rejected(
                    version,
                    Code::InvalidParameterValue,
                    Some("FEATURE_COUNT"),
                    &format!("FEATURE_COUNT {v:?} is not a whole number from 1"),
                ))
            }
        },
    };
    Ok(Query {
        layers,
        format,
        point,
        count,
    })
}

/// A value as text, as MapServer writes it.
fn plain(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.clone(),
    }
}

/// What one result is: a feature (with its id when it has one) or a
/// raster's pixel.
#[derive(Clone, Copy)]
enum Subject {
    Feature(Option<u64>),
    Pixel,
}

impl Subject {
    /// How text and HTML name it.
    fn caption(self) -> String {
        match self {
            Subject::Feature(Some(id)) => format!("Feature {id}"),
            Subject::Feature(None) => "Feature".to_owned(),
            Subject::Pixel => "Pixel".to_owned(),
        }
    }
}

/// One result as text: what it is and its attributes as (name, value)
/// pairs.
type Row = (Subject, Vec<(String, String)>);

/// The results of one layer: a feature's fields, or a pixel's bands
/// `band_1`… (GDAL's band numbering).
fn rows(found: &Found) -> Vec<Row> {
    match found {
        Found::Features(hits) => hits
            .iter()
            .map(|hit| {
                let attributes = hit
                    .attributes()
                    .map(|(field, value)| (field.name.clone(), plain(value)))
                    .collect();
                (Subject::Feature(hit.feature.id), attributes)
            })
            .collect(),
        Found::Values(Some(values)) => vec![(
            Subject::Pixel,
            values
                .iter()
                .enumerate()
                .map(|(b, v)| (format!("band_{}", b + 1), v.to_string()))
                .collect(),
        )],
        Found::Values(None) => Vec::new(),
    }
}

fn text(found: &[(Arc<Layer>, Found)]) -> String {
    let mut out = String::from("GetFeatureInfo results:\n");
    for (layer, found) in found {
        let _ = writeln!(out, "\nLayer '{}'", layer.id);
        for (subject, attributes) in rows(found) {
            let _ = writeln!(out, "  {}:", subject.caption());
            for (name, value) in attributes {
                let _ = writeln!(out, "    {name} = '{value}'");
            }
        }
    }
    out
}

fn html(found: &[(Arc<Layer>, Found)]) -> String {
    let mut out = String::from(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>GetFeatureInfo</title></head><body>\n",
    );
    for (layer, found) in found {
        let _ = writeln!(out, "<h2>{}</h2>", escape(&layer.id));
        for (subject, attributes) in rows(found) {
            let _ = writeln!(out, "<table>\n<caption>{}</caption>", subject.caption());
            for (name, value) in attributes {
                let _ = writeln!(
                    out,
                    "<tr><th>{}</th><td>{}</td></tr>",
                    escape(&name),
                    escape(&value)
                );
            }
            out.push_str("</table>\n");
        }
    }
    out.push_str("</body></html>\n");
    out
}

/// A value as JSON.
fn json_value(value: &Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Bool(b) => json!(b),
        Value::Int(i) => json!(i),
        Value::Float(f) => json!(f),
        Value::String(s) => json!(s),
    }
}

fn geojson(found: &[(Arc<Layer>, Found)], point: (f64, f64)) -> Json {
    let mut features = Vec::new();
    for (layer, found) in found {
        match found {
            Found::Features(hits) => {
                for hit in hits {
                    let properties: Map<String, Json> = hit
                        .attributes()
                        .map(|(field, value)| (field.name.clone(), json_value(value)))
                        .collect();
                    let mut feature = json!({
                        "type": "Feature",
                        "geometry": geojson_geometry(&hit.feature.geometry),
                        "properties": properties,
                        "layer": layer.id,
                    });
                    if let Some(id) = hit.feature.id {
                        feature["id"] = json!(format!("{}.{id}", layer.id));
                    }
                    features.push(feature);
                }
            }
            Found::Values(Some(values)) => {
                let properties: Map<String, Json> = values
                    .iter()
                    .enumerate()
                    .map(|(b, v)| (format!("band_{}", b + 1), json!(v)))
                    .collect();
                features.push(json!({
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": [point.0, point.1]},
                    "properties": properties,
                    "layer": layer.id,
                }));
            }
            Found::Values(None) => {}
        }
    }
    json!({"type": "FeatureCollection", "features": features})
}

/// A name usable as an XML element name: other characters become `_`.
fn element(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

fn gml(found: &[(Arc<Layer>, Found)]) -> String {
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <msGMLOutput xmlns:gml=\"http://www.opengis.net/gml\" \
         xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
    );
    for (layer, found) in found {
        let name = element(&layer.id);
        let _ = writeln!(
            out,
            "<{name}_layer>\n<gml:name>{}</gml:name>",
            escape(&layer.id)
        );
        for (subject, attributes) in rows(found) {
            match subject {
                Subject::Feature(Some(id)) => {
                    let _ = writeln!(out, "<{name}_feature fid=\"{id}\">");
                }
                _ => {
                    let _ = writeln!(out, "<{name}_feature>");
                }
            }
            for (field, value) in attributes {
                let tag = element(&field);
                let _ = writeln!(out, "<{tag}>{}</{tag}>", escape(&value));
            }
            let _ = writeln!(out, "</{name}_feature>");
        }
        let _ = writeln!(out, "</{name}_layer>");
    }
    out.push_str("</msGMLOutput>\n");
    out
}
