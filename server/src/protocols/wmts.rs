//! OGC WMTS 1.0.0 (07-057r7): GetCapabilities and GetTile, in KVP
//! (`/wmts?SERVICE=WMTS&REQUEST=...`) and RESTful encodings
//! (`/wmts/1.0.0/WMTSCapabilities.xml`,
//! `/wmts/1.0.0/{layer}/{style}/{TileMatrixSet}/{TileMatrix}/{TileRow}/{TileCol}.{ext}`).
//!
//! A GetTile is the same question as a tile URL: it is answered by the tile
//! protocol's code, its errors rewritten as OWS exception reports
//! (OWS Common 1.1 §8, WMTS 1.0.0 Table 28 for codes and statuses).

use std::fmt::Write;

use hyper::header::HeaderMap;
use hyper::StatusCode;
use tuilerie_engine::catalog::LayerSource;
use tuilerie_engine::crs::{in_lambert93_area, Crs, Transform};
use tuilerie_engine::tms::{CornerOfOrigin, TileMatrixSet};
use tuilerie_engine::{Layer, TileFormat};

use super::ows::{self, escape, exception, invalid, missing, Params, XML};
use super::xyz;
use crate::config::ServiceMetadata;
use crate::reply::Reply;
use crate::AppState;

/// `GET /wmts?...`
pub async fn kvp(state: &AppState, query: &str, headers: &HeaderMap, base: &str) -> Reply {
    let params = Params::parse(query);
    macro_rules! require {
        ($name:literal) => {
            match params.value($name) {
                Some(v) => v,
                None => return missing($name),
            }
        };
    }
    let service = require!("SERVICE");
    if !service.eq_ignore_ascii_case("WMTS") {
        return invalid("SERVICE", format!("service {service:?} is not WMTS"));
    }
    let request = require!("REQUEST");
    if request.eq_ignore_ascii_case("GetCapabilities") {
        return capabilities(state, base);
    }
    if !request.eq_ignore_ascii_case("GetTile") {
        return exception(
            StatusCode::NOT_IMPLEMENTED,
            "OperationNotSupported",
            Some("REQUEST"),
            &format!("request {request:?} is not supported; use GetCapabilities or GetTile"),
        );
    }
    if let Some(v) = params.get("VERSION").filter(|v| *v != "1.0.0") {
        return invalid("VERSION", format!("version {v:?} is not 1.0.0"));
    }
    let format = require!("FORMAT");
    let Some(ext) = [
        TileFormat::Png,
        TileFormat::Jpeg,
        TileFormat::Webp,
        TileFormat::Mvt,
    ]
    .into_iter()
    .find(|f| f.mime_type() == format)
    .and_then(TileFormat::extension) else {
        return invalid("FORMAT", format!("format {format:?} is not offered"));
    };
    let address = TileRequest {
        layer: require!("LAYER"),
        style: require!("STYLE"),
        tms: require!("TILEMATRIXSET"),
        matrix: require!("TILEMATRIX"),
        row: require!("TILEROW"),
        col: require!("TILECOL"),
        ext,
    };
    tile(state, &address, headers).await
}

/// A GetTile's parameters, as given.
struct TileRequest<'a> {
    layer: &'a str,
    style: &'a str,
    tms: &'a str,
    matrix: &'a str,
    row: &'a str,
    col: &'a str,
    ext: &'a str,
}

/// `GET /wmts/1.0.0/...`: the capabilities document or a tile.
pub async fn rest(state: &AppState, path: &[&str], headers: &HeaderMap, base: &str) -> Reply {
    match path {
        ["WMTSCapabilities.xml"] => capabilities(state, base),
        [layer, style, tms, matrix, row, col_ext] => {
            let Some((col, ext)) = col_ext.split_once('.') else {
                return invalid("TileCol", format!("{col_ext:?} has no format extension"));
            };
            let address = TileRequest {
                layer,
                style,
                tms,
                matrix,
                row,
                col,
                ext,
            };
            tile(state, &address, headers).await
        }
        _ => exception(
            StatusCode::NOT_FOUND,
            "InvalidParameterValue",
            None,
            "not a WMTS 1.0.0 RESTful resource; see /wmts/1.0.0/WMTSCapabilities.xml",
        ),
    }
}

/// A GetTile: checked against the capabilities, then answered as a tile
/// URL is, errors turned into exception reports.
async fn tile(state: &AppState, request: &TileRequest<'_>, headers: &HeaderMap) -> Reply {
    let TileRequest {
        layer: layer_id,
        style,
        tms: tms_id,
        matrix,
        row,
        col,
        ext,
    } = *request;
    let Some(layer) = state.catalog.get(layer_id) else {
        return invalid("LAYER", format!("layer {layer_id:?} is not offered"));
    };
    if style != "default" {
        return invalid(
            "STYLE",
            format!("style {style:?} is not offered; use \"default\""),
        );
    }
    let sets = offered_sets(state, layer);
    let Some((tms, limits)) = sets.iter().find(|(t, _)| t.id == tms_id) else {
        return invalid(
            "TILEMATRIXSET",
            format!("layer {layer_id:?} is not offered in {tms_id:?}"),
        );
    };
    let Some(limit) = limits.iter().find(|l| l.matrix == matrix) else {
        return invalid(
            "TILEMATRIX",
            format!(
                "{:?} is not a tile matrix of {tms_id} for this layer",
                matrix
            ),
        );
    };
    let (Ok(r), Ok(c)) = (row.parse::<u32>(), col.parse::<u32>()) else {
        return invalid(
            "TILEROW",
            format!("TileRow {row:?} or TileCol {col:?} is not a number"),
        );
    };
    if !(limit.min_row..=limit.max_row).contains(&r)
        || !(limit.min_col..=limit.max_col).contains(&c)
    {
        return exception(
            StatusCode::BAD_REQUEST,
            "TileOutOfRange",
            Some(if (limit.min_row..=limit.max_row).contains(&r) {
                "TILECOL"
            } else {
                "TILEROW"
            }),
            &format!("tile {matrix}/{r}/{c} is outside the layer's limits in {tms_id}"),
        );
    }
    let reply = xyz::reply(
        layer,
        &tms.id,
        (matrix, col, &format!("{row}.{ext}")),
        headers,
        state,
    )
    .await;
    ows::from_tile_reply(reply)
}

/// One matrix's tile range for a layer (WMTS TileMatrixLimits).
struct Limit {
    matrix: String,
    min_col: u32,
    max_col: u32,
    min_row: u32,
    max_row: u32,
}

/// The sets a layer is offered in, each with its matrices' limits.
/// Archives and vector layers: WebMercatorQuad, their zooms. Rasters
/// (GeoTIFFs, GeoPackage tile pyramids): WebMercatorQuad,
/// WorldCRS84Quad, the UTM set of a UTM file, LAMB93 for a file in France,
/// CanadianNAD83_LCC in Canada, the UPS sets near the poles, and every
/// custom set.
fn offered_sets<'a>(state: &'a AppState, layer: &Layer) -> Vec<(&'a TileMatrixSet, Vec<Limit>)> {
    let sets = &state.tile_matrix_sets;
    let meta = &layer.metadata;
    let mut ids: Vec<String> = vec![xyz::XYZ_SET.to_owned()];
    if let LayerSource::Raster(raster) = &layer.source {
        ids.push("WorldCRS84Quad".into());
        let epsg = raster.crs.epsg;
        if (32601..=32660).contains(&epsg) {
            ids.push(format!("UTM{:02}WGS84Quad", epsg - 32600));
        }
        let in_france = meta.bounds.is_some_and(in_lambert93_area);
        if epsg == 2154 || in_france {
            ids.push("LAMB93".into());
        }
        // The registry's regional sets, for layers inside their region.
        let inside = |[w0, s0, e0, n0]: [f64; 4]| {
            meta.bounds
                .is_some_and(|[w, s, e, n]| w >= w0 && e <= e0 && s >= s0 && n <= n0)
        };
        if epsg == 3978 || inside([-141.0, 40.0, -47.0, 86.0]) {
            ids.push("CanadianNAD83_LCC".into());
        }
        if epsg == 5041 || inside([-180.0, 60.0, 180.0, 90.0]) {
            ids.push("UPSArcticWGS84Quad".into());
        }
        if epsg == 5042 || inside([-180.0, -90.0, 180.0, -60.0]) {
            ids.push("UPSAntarcticWGS84Quad".into());
        }
        ids.extend(sets.custom().map(|t| t.id.clone()));
    }
    ids.iter()
        .filter_map(|id| sets.get(id))
        .map(|tms| {
            let zooms = match layer.source {
                LayerSource::Tiles(..) | LayerSource::Features(_) => {
                    Some(meta.minzoom..=meta.maxzoom)
                }
                LayerSource::Raster(_) => None,
            };
            (tms, limits(tms, meta.bounds, zooms))
        })
        // WMTS counts rows from the top only (07-057r7 §6.1), and its tile
        // matrices have no coalesced rows (TMS 2.0 §6.1.5).
        .filter(|(tms, l)| {
            !l.is_empty()
                && tms.tile_matrices.iter().all(|m| {
                    m.corner_of_origin == CornerOfOrigin::TopLeft
                        && m.variable_matrix_widths.is_empty()
                })
        })
        .collect()
}

/// The tile ranges of every matrix covering `bounds` (WGS 84), in the
/// zoom range when one is given (matrix ids are zooms then).
fn limits(
    tms: &TileMatrixSet,
    bounds: Option<[f64; 4]>,
    zooms: Option<std::ops::RangeInclusive<u8>>,
) -> Vec<Limit> {
    let [w, s, e, n] =
        bounds.unwrap_or([-180.0, -85.051_128_779_806_6, 180.0, 85.051_128_779_806_6]);
    let (xm, ym) = ((w + e) / 2.0, (s + n) / 2.0);
    let mut outline = vec![
        (w, s),
        (xm, s),
        (e, s),
        (e, ym),
        (e, n),
        (xm, n),
        (w, n),
        (w, ym),
    ];
    let (Ok(wgs84), Ok(crs)) = (Crs::from_epsg(4326), Crs::from_name(&tms.crs)) else {
        return Vec::new();
    };
    Transform::new(&wgs84, &crs).apply(&mut outline);
    let pts: Vec<(f64, f64)> = outline.into_iter().filter(|p| p.0.is_finite()).collect();
    if pts.is_empty() {
        return Vec::new();
    }
    let (x0, x1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.0), b.max(p.0)));
    let (y0, y1) = pts
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.1), b.max(p.1)));
    tms.tile_matrices
        .iter()
        .filter(|m| {
            zooms
                .as_ref()
                .is_none_or(|z| m.id.parse::<u8>().is_ok_and(|id| z.contains(&id)))
        })
        .filter_map(|m| {
            // Columns run east and rows south from the origin, whatever
            // the CRS's axis order (so from (northing, easting) in
            // EPSG:4326 and EPSG:3035).
            let [ox, oy] = m.origin_xy(tms.northing_first());
            let (tw, th) = m.tile_span();
            // The first tile holding the low edge; the last holding the
            // high edge, an edge on a tile boundary (within a millionth of a
            // tile: the WGS 84 round trip blurs it) belonging to one tile.
            let first = |v: f64, max: u32| (v + 1e-6).floor().clamp(0.0, f64::from(max - 1)) as u32;
            let last =
                |v: f64, max: u32| ((v - 1e-6).ceil() - 1.0).clamp(0.0, f64::from(max - 1)) as u32;
            let (c0, c1) = (
                first((x0 - ox) / tw, m.matrix_width),
                last((x1 - ox) / tw, m.matrix_width),
            );
            // Only top-left sets reach here (see offered_sets): rows grow
            // away from the top.
            let (r0, r1) = (
                first((oy - y1) / th, m.matrix_height),
                last((oy - y0) / th, m.matrix_height),
            );
            let outside = x1 < ox
                || x0 > ox + tw * f64::from(m.matrix_width)
                || y0 > oy
                || y1 < oy - th * f64::from(m.matrix_height);
            (!outside).then(|| Limit {
                matrix: m.id.clone(),
                min_col: c0,
                max_col: c1,
                min_row: r0,
                max_row: r1,
            })
        })
        .collect()
}

/// The CRS as WMTS capabilities name it (a URN).
fn crs_urn(uri: &str) -> String {
    if uri.ends_with("/OGC/1.3/CRS84") {
        return "urn:ogc:def:crs:OGC:1.3:CRS84".into();
    }
    match uri.rsplit_once("/EPSG/0/") {
        Some((_, code)) => format!("urn:ogc:def:crs:EPSG::{code}"),
        None => uri.to_owned(),
    }
}

/// The formats a layer answers GetTile in.
fn formats(layer: &Layer) -> Vec<TileFormat> {
    match layer.source {
        LayerSource::Tiles(..) | LayerSource::Features(_) => vec![layer.metadata.format],
        LayerSource::Raster(_) => vec![TileFormat::Png, TileFormat::Jpeg, TileFormat::Webp],
    }
}

/// ServiceIdentification and ServiceProvider (OWS Common 1.1 §7.4) from the
/// `[service]` configuration.
fn service_metadata(xml: &mut String, service: &ServiceMetadata) {
    let element = |xml: &mut String, name: &str, value: &Option<String>| {
        if let Some(v) = value {
            let _ = write!(xml, "<ows:{name}>{}</ows:{name}>", escape(v));
        }
    };
    xml.push_str("<ows:ServiceIdentification>");
    element(
        xml,
        "Title",
        &Some(service.title.clone().unwrap_or_else(|| "Tuilerie".into())),
    );
    element(xml, "Abstract", &service.summary);
    if !service.keywords.is_empty() {
        xml.push_str("<ows:Keywords>");
        for k in &service.keywords {
            let _ = write!(xml, "<ows:Keyword>{}</ows:Keyword>", escape(k));
        }
        xml.push_str("</ows:Keywords>");
    }
    xml.push_str("<ows:ServiceType>OGC WMTS</ows:ServiceType><ows:ServiceTypeVersion>1.0.0</ows:ServiceTypeVersion>");
    element(xml, "Fees", &service.fees);
    element(xml, "AccessConstraints", &service.access_constraints);
    xml.push_str("</ows:ServiceIdentification>\n");
    if service.provider_name.is_some()
        || service.provider_site.is_some()
        || service.contact_email.is_some()
    {
        xml.push_str("<ows:ServiceProvider>");
        element(xml, "ProviderName", &service.provider_name);
        if let Some(site) = &service.provider_site {
            let _ = write!(xml, "<ows:ProviderSite xlink:href=\"{}\"/>", escape(site));
        }
        xml.push_str("<ows:ServiceContact>");
        if let Some(email) = &service.contact_email {
            let _ = write!(
                xml,
                "<ows:ContactInfo><ows:Address><ows:ElectronicMailAddress>{}</ows:ElectronicMailAddress></ows:Address></ows:ContactInfo>",
                escape(email)
            );
        }
        xml.push_str("</ows:ServiceContact></ows:ServiceProvider>\n");
    }
}

/// The capabilities document (WMTS 1.0.0 §7.1).
fn capabilities(state: &AppState, base: &str) -> Reply {
    let kvp = escape(&format!("{base}/wmts?"));
    let mut xml = String::new();
    let _ = write!(
        xml,
        r#"<?xml version="1.0" encoding="UTF-8"?>
<Capabilities xmlns="http://www.opengis.net/wmts/1.0" xmlns:ows="http://www.opengis.net/ows/1.1" xmlns:xlink="http://www.w3.org/1999/xlink" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://www.opengis.net/wmts/1.0 http://schemas.opengis.net/wmts/1.0/wmtsGetCapabilities_response.xsd" version="1.0.0">
"#
    );
    service_metadata(&mut xml, &state.settings.service);
    xml.push_str("<ows:OperationsMetadata>\n");
    for op in ["GetCapabilities", "GetTile"] {
        let _ = writeln!(
            xml,
            r#"<ows:Operation name="{op}"><ows:DCP><ows:HTTP><ows:Get xlink:href="{kvp}"><ows:Constraint name="GetEncoding"><ows:AllowedValues><ows:Value>KVP</ows:Value></ows:AllowedValues></ows:Constraint></ows:Get></ows:HTTP></ows:DCP></ows:Operation>"#
        );
    }
    xml.push_str("</ows:OperationsMetadata>\n<Contents>\n");
    let mut used: Vec<&TileMatrixSet> = Vec::new();
    for layer in state.catalog.layers() {
        let sets = offered_sets(state, layer);
        if sets.is_empty() {
            continue;
        }
        let meta = &layer.metadata;
        let [w, s, e, n] =
            meta.bounds
                .unwrap_or([-180.0, -85.051_128_779_806_6, 180.0, 85.051_128_779_806_6]);
        let id = escape(&layer.id);
        let _ = write!(
            xml,
            "<Layer><ows:Title>{}</ows:Title><ows:WGS84BoundingBox><ows:LowerCorner>{w} {s}</ows:LowerCorner><ows:UpperCorner>{e} {n}</ows:UpperCorner></ows:WGS84BoundingBox><ows:Identifier>{id}</ows:Identifier>\n<Style isDefault=\"true\"><ows:Identifier>default</ows:Identifier></Style>\n",
            escape(meta.name.as_deref().unwrap_or(&layer.id))
        );
        for f in formats(layer) {
            let _ = writeln!(xml, "<Format>{}</Format>", f.mime_type());
        }
        for (tms, limits) in &sets {
            let _ = write!(
                xml,
                "<TileMatrixSetLink><TileMatrixSet>{}</TileMatrixSet><TileMatrixSetLimits>",
                escape(&tms.id)
            );
            for l in limits {
                let _ = write!(
                    xml,
                    "<TileMatrixLimits><TileMatrix>{}</TileMatrix><MinTileRow>{}</MinTileRow><MaxTileRow>{}</MaxTileRow><MinTileCol>{}</MinTileCol><MaxTileCol>{}</MaxTileCol></TileMatrixLimits>",
                    escape(&l.matrix), l.min_row, l.max_row, l.min_col, l.max_col
                );
            }
            xml.push_str("</TileMatrixSetLimits></TileMatrixSetLink>\n");
            if !used.iter().any(|t| t.id == tms.id) {
                used.push(tms);
            }
        }
        for f in formats(layer) {
            let ext = f.extension().unwrap_or("bin");
            let _ = writeln!(
                xml,
                "<ResourceURL format=\"{}\" resourceType=\"tile\" template=\"{}/wmts/1.0.0/{id}/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/{{TileCol}}.{ext}\"/>",
                f.mime_type(),
                escape(base)
            );
        }
        xml.push_str("</Layer>\n");
    }
    for tms in used {
        let _ = write!(
            xml,
            "<TileMatrixSet><ows:Identifier>{}</ows:Identifier><ows:SupportedCRS>{}</ows:SupportedCRS>",
            escape(&tms.id),
            escape(&crs_urn(&tms.crs))
        );
        if tms.id == "WebMercatorQuad" {
            xml.push_str("<WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>");
        }
        xml.push('\n');
        for m in &tms.tile_matrices {
            // TopLeftCorner is in the CRS's axis order, as pointOfOrigin is.
            let [o0, o1] = m.point_of_origin;
            let _ = writeln!(
                xml,
                "<TileMatrix><ows:Identifier>{}</ows:Identifier><ScaleDenominator>{}</ScaleDenominator><TopLeftCorner>{o0} {o1}</TopLeftCorner><TileWidth>{}</TileWidth><TileHeight>{}</TileHeight><MatrixWidth>{}</MatrixWidth><MatrixHeight>{}</MatrixHeight></TileMatrix>",
                escape(&m.id), m.scale_denominator, m.tile_width, m.tile_height, m.matrix_width, m.matrix_height
            );
        }
        xml.push_str("</TileMatrixSet>\n");
    }
    xml.push_str("</Contents>\n</Capabilities>\n");
    Reply::new(StatusCode::OK, XML, xml.into())
}
