//! GetCapabilities: `WMT_MS_Capabilities` 1.1.1 (01-068r3 §7.1, validated
//! against `WMS_MS_Capabilities.dtd`) and `WMS_Capabilities` 1.3.0
//! (06-042 §7.2, `capabilities_1_3_0.xsd`), written with `format!` as the
//! WMTS capabilities are: the document is flat and its order fixed by the
//! schemas, which a writer crate would not check either.
//!
//! The layer tree: a root layer titled after the service, with no Name
//! (06-042 §7.2.4.6.2: a category, not requestable), holding the CRSs every
//! layer shares (children inherit them, §7.2.4.8); under it each
//! `[[wms_groups]]` group (named, so requestable, as GeoServer's layer
//! groups) holding its layers, then every catalog layer in no group.

use std::fmt::Write;

use hyper::StatusCode;
use tuilerie_engine::catalog::LayerSource;
use tuilerie_engine::crs::{in_lambert93_area, Crs, Transform};
use tuilerie_engine::Layer;

use super::exception::Version;
use crate::config::{InspireMetadata, ServiceMetadata, WmsGroup};
use crate::protocols::ows::escape;
use crate::reply::Reply;
use crate::AppState;

/// WebMercatorQuad's extent in latitude, the bounds of a layer that
/// states none.
const WORLD: [f64; 4] = [-180.0, -85.051_128_779_806_6, 180.0, 85.051_128_779_806_6];

/// The scale denominator of zoom 0 of 256-pixel WebMercator tiles with
/// OGC's standard 0.28 mm pixel (WMTS 1.0.0 Annex E.4, GoogleMapsCompatible).
const ZOOM0_SCALE: f64 = 559_082_264.028_717_8;

/// GetMap output formats. `image/png; mode=8bit` is MapServer's and
/// GeoServer's name for a paletted PNG.
const MAP_FORMATS: [&str; 4] = [
    "image/png",
    "image/jpeg",
    "image/webp",
    "image/png; mode=8bit",
];

/// GetFeatureInfo formats (GML as 1.1.1 clients name it).
const INFO_FORMATS: [&str; 4] = [
    "text/plain",
    "text/html",
    "application/json",
    "application/vnd.ogc.gml",
];

/// The CRSs every layer is offered in, besides its own (inherited from the
/// root layer): WebMercator, WGS 84, and in 1.3.0 CRS:84 (WGS 84 longitude
/// first, 06-042 Annex B.3).
const COMMON_CRS: [&str; 3] = ["EPSG:3857", "EPSG:4326", "CRS:84"];

/// The capabilities document of `version`.
pub(super) fn reply(state: &AppState, version: Version, base: &str) -> Reply {
    let doc = Document {
        state,
        version,
        base,
        service: &state.settings.service,
    };
    // 01-068r3 §6.5.3 and 06-042 §7.2.3.1.
    let content_type = match version {
        Version::V111 => "application/vnd.ogc.wms_xml",
        Version::V130 => "text/xml",
    };
    Reply::new(StatusCode::OK, content_type, doc.write().into())
}

/// What a capabilities document is written from.
struct Document<'a> {
    state: &'a AppState,
    version: Version,
    base: &'a str,
    service: &'a ServiceMetadata,
}

impl Document<'_> {
    fn v130(&self) -> bool {
        self.version == Version::V130
    }

    /// The element naming a CRS: `CRS` in 1.3.0, `SRS` in 1.1.1.
    fn crs_tag(&self) -> &'static str {
        if self.v130() {
            "CRS"
        } else {
            "SRS"
        }
    }

    fn write(&self) -> String {
        let mut xml = String::with_capacity(16 * 1024);
        if self.v130() {
            let inspire = self.service.inspire.is_some();
            let _ = write!(
                xml,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
                 <WMS_Capabilities version=\"1.3.0\" updateSequence=\"0\" xmlns=\"http://www.opengis.net/wms\" \
                 xmlns:sld=\"http://www.opengis.net/sld\" xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
                 xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"{} \
                 xsi:schemaLocation=\"http://www.opengis.net/wms http://schemas.opengis.net/wms/1.3.0/capabilities_1_3_0.xsd \
                 http://www.opengis.net/sld http://schemas.opengis.net/sld/1.1.0/sld_capabilities.xsd{}\">\n",
                if inspire {
                    " xmlns:inspire_common=\"http://inspire.ec.europa.eu/schemas/common/1.0\" \
                     xmlns:inspire_vs=\"http://inspire.ec.europa.eu/schemas/inspire_vs/1.0\""
                } else {
                    ""
                },
                if inspire {
                    " http://inspire.ec.europa.eu/schemas/inspire_vs/1.0 \
                     http://inspire.ec.europa.eu/schemas/inspire_vs/1.0/inspire_vs.xsd"
                } else {
                    ""
                }
            );
        } else {
            xml.push_str(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n\
                 <!DOCTYPE WMT_MS_Capabilities SYSTEM \"http://schemas.opengis.net/wms/1.1.1/WMS_MS_Capabilities.dtd\">\n\
                 <WMT_MS_Capabilities version=\"1.1.1\" updateSequence=\"0\">\n",
            );
        }
        self.service_section(&mut xml);
        xml.push_str("<Capability>\n");
        self.requests(&mut xml);
        if self.v130() {
            xml.push_str("<Exception><Format>XML</Format><Format>INIMAGE</Format><Format>BLANK</Format></Exception>\n");
            if let Some(inspire) = &self.service.inspire {
                inspire_capabilities(&mut xml, inspire);
            }
        } else {
            xml.push_str("<Exception><Format>application/vnd.ogc.se_xml</Format><Format>application/vnd.ogc.se_inimage</Format><Format>application/vnd.ogc.se_blank</Format></Exception>\n");
        }
        self.layers(&mut xml);
        xml.push_str("</Capability>\n");
        xml.push_str(if self.v130() {
            "</WMS_Capabilities>\n"
        } else {
            "</WMT_MS_Capabilities>\n"
        });
        xml
    }

    /// The `Service` section (06-042 §7.2.4.2, 01-068r3 §7.1.4.2).
    fn service_section(&self, xml: &mut String) {
        let s = self.service;
        let _ = write!(
            xml,
            "<Service>\n<Name>{}</Name>\n<Title>{}</Title>\n",
            if self.v130() { "WMS" } else { "OGC:WMS" },
            escape(s.title.as_deref().unwrap_or("Tuilerie"))
        );
        optional(xml, "Abstract", s.summary.as_deref());
        keywords(xml, &s.keywords);
        let site = s
            .online_resource
            .clone()
            .or_else(|| s.provider_site.clone())
            .unwrap_or_else(|| format!("{}/wms?", self.base));
        online_resource(xml, &site);
        xml.push('\n');
        self.contact(xml);
        optional(xml, "Fees", s.fees.as_deref());
        optional(xml, "AccessConstraints", s.access_constraints.as_deref());
        // 1.1.1 has no element for the limits (its DTD ends with
        // AccessConstraints).
        if self.v130() {
            let settings = &self.state.settings;
            let _ = writeln!(
                xml,
                "<LayerLimit>{}</LayerLimit><MaxWidth>{}</MaxWidth><MaxHeight>{}</MaxHeight>",
                settings.layer_limit, settings.max_width, settings.max_height
            );
        }
        xml.push_str("</Service>\n");
    }

    /// `ContactInformation`, when anything about a contact is configured.
    fn contact(&self, xml: &mut String) {
        let s = self.service;
        let address = [
            &s.address_type,
            &s.address,
            &s.city,
            &s.state_or_province,
            &s.post_code,
            &s.country,
        ];
        let person = s.contact_person.is_some() || s.provider_name.is_some();
        let has_address = s.address.is_some() || s.city.is_some();
        let anything = person
            || has_address
            || [
                &s.contact_position,
                &s.contact_phone,
                &s.contact_fax,
                &s.contact_email,
            ]
            .iter()
            .any(|v| v.is_some());
        if !anything {
            return;
        }
        xml.push_str("<ContactInformation>\n");
        let text = |v: &Option<String>| escape(v.as_deref().unwrap_or(""));
        if person {
            // Both children are mandatory (06-042 Annex E): an unknown one
            // is written empty.
            let _ = writeln!(
                xml,
                "<ContactPersonPrimary><ContactPerson>{}</ContactPerson><ContactOrganization>{}</ContactOrganization></ContactPersonPrimary>",
                text(&s.contact_person),
                text(&s.provider_name)
            );
        }
        optional(xml, "ContactPosition", s.contact_position.as_deref());
        if has_address {
            xml.push_str("<ContactAddress>");
            let names = [
                "AddressType",
                "Address",
                "City",
                "StateOrProvince",
                "PostCode",
                "Country",
            ];
            for (name, value) in names.iter().zip(address) {
                let value = match (*name, value) {
                    ("AddressType", None) => "postal".to_owned(),
                    _ => text(value),
                };
                let _ = write!(xml, "<{name}>{value}</{name}>");
            }
            xml.push_str("</ContactAddress>\n");
        }
        optional(xml, "ContactVoiceTelephone", s.contact_phone.as_deref());
        optional(xml, "ContactFacsimileTelephone", s.contact_fax.as_deref());
        optional(
            xml,
            "ContactElectronicMailAddress",
            s.contact_email.as_deref(),
        );
        xml.push_str("</ContactInformation>\n");
    }

    /// The `Request` section: each operation's formats and URLs.
    fn requests(&self, xml: &mut String) {
        let capabilities_format = if self.v130() {
            "text/xml"
        } else {
            "application/vnd.ogc.wms_xml"
        };
        xml.push_str("<Request>\n");
        self.operation(xml, "GetCapabilities", &[capabilities_format]);
        self.operation(xml, "GetMap", &MAP_FORMATS);
        self.operation(xml, "GetFeatureInfo", &INFO_FORMATS);
        // 1.3.0 has no GetLegendGraphic of its own: SLD 1.1's schema adds
        // it as a `wms:_ExtendedOperation` (sld_capabilities.xsd), which is
        // how MapServer and GeoServer declare it. 1.1.1's DTD lists it.
        let legend = if self.v130() {
            "sld:GetLegendGraphic"
        } else {
            "GetLegendGraphic"
        };
        self.operation(xml, legend, &["image/png"]);
        xml.push_str("</Request>\n");
    }

    fn operation(&self, xml: &mut String, name: &str, formats: &[&str]) {
        let _ = write!(xml, "<{name}>");
        for f in formats {
            let _ = write!(xml, "<Format>{}</Format>", escape(f));
        }
        // 06-042 §6.3.3: the URL prefix ends in `?` (or `&`).
        let url = format!("{}/wms?", self.base);
        xml.push_str("<DCPType><HTTP><Get>");
        online_resource(xml, &url);
        xml.push_str("</Get><Post>");
        online_resource(xml, &url);
        let _ = writeln!(xml, "</Post></HTTP></DCPType></{name}>");
    }

    /// The root layer and everything under it.
    fn layers(&self, xml: &mut String) {
        let catalog = &self.state.catalog;
        let groups: Vec<(&WmsGroup, Vec<&Layer>)> = self
            .state
            .settings
            .wms_groups
            .iter()
            // A group named like a layer would make the name ambiguous.
            .filter(|g| catalog.get(&g.name).is_none())
            .map(|g| {
                let members = g
                    .layers
                    .iter()
                    .filter_map(|id| catalog.get(id).map(|l| &**l))
                    .collect();
                (g, members)
            })
            .filter(|(_, members): &(_, Vec<_>)| !members.is_empty())
            .collect();
        let all: Vec<&Layer> = catalog.layers().collect();
        let title = self.service.title.as_deref().unwrap_or("Tuilerie");
        let _ = writeln!(xml, "<Layer>\n<Title>{}</Title>", escape(title));
        optional(xml, "Abstract", self.service.summary.as_deref());
        let common: Vec<&str> = COMMON_CRS
            .iter()
            .copied()
            .filter(|c| self.v130() || *c != "CRS:84")
            .chain(self.service.extra_crs.iter().map(String::as_str))
            .collect();
        for crs in &common {
            let _ = writeln!(xml, "<{0}>{1}</{0}>", self.crs_tag(), escape(crs));
        }
        self.extent(xml, union(all.iter().map(|l| bounds(l))), &common, None);
        for (group, members) in &groups {
            self.group(xml, group, members, &common);
        }
        for layer in all {
            let grouped = groups
                .iter()
                .any(|(_, members)| members.iter().any(|m| m.id == layer.id));
            if !grouped {
                self.layer(xml, layer, &common);
            }
        }
        xml.push_str("</Layer>\n");
    }

    /// A `[[wms_groups]]` group: a named layer over its members.
    fn group(&self, xml: &mut String, group: &WmsGroup, members: &[&Layer], common: &[&str]) {
        let title = group.title.as_deref().unwrap_or(&group.name);
        open_layer(xml, &group.name, title, group.summary.as_deref());
        self.extent(xml, union(members.iter().map(|l| bounds(l))), common, None);
        // No Style here: styles are inherited, and a child may not
        // redefine an inherited one's name (06-042 §7.2.4.6.5), so the
        // members keep their own `default`.
        for layer in members {
            self.layer(xml, layer, common);
        }
        xml.push_str("</Layer>\n");
    }

    /// One catalog layer (06-042 §7.2.4.6).
    fn layer(&self, xml: &mut String, layer: &Layer, common: &[&str]) {
        let meta = &layer.metadata;
        let title = meta.name.as_deref().unwrap_or(&layer.id);
        open_layer(xml, &layer.id, title, meta.description.as_deref());
        keywords(xml, &layer_keywords(layer));
        let own = own_crs(layer);
        for crs in &own {
            let _ = writeln!(xml, "<{0}>{1}</{0}>", self.crs_tag(), crs);
        }
        let crs: Vec<&str> = common
            .iter()
            .copied()
            .chain(own.iter().map(String::as_str))
            .collect();
        self.extent(xml, bounds(layer), &crs, native_box(layer));
        if let Some(attribution) = &meta.attribution {
            let _ = writeln!(
                xml,
                "<Attribution><Title>{}</Title></Attribution>",
                escape(attribution)
            );
        }
        if let Some(url) = &meta.metadata_url {
            let kind = if self.v130() {
                "ISO19115:2003"
            } else {
                "TC211"
            };
            let _ = write!(
                xml,
                "<MetadataURL type=\"{kind}\"><Format>text/xml</Format>"
            );
            online_resource(xml, url);
            xml.push_str("</MetadataURL>\n");
        }
        self.style(xml, &layer.id);
        self.scales(xml, layer);
        xml.push_str("</Layer>\n");
    }

    /// The geographic box and one `BoundingBox` per CRS, in that CRS's
    /// axis order in 1.3.0 (06-042 §6.7.3.3: EPSG:4326 is latitude
    /// first), easting first in 1.1.1 (01-068r3 §6.5.6). A CRS the box
    /// cannot be transformed into gets no `BoundingBox`. `native`, a
    /// raster's own CRS and grid extent, narrows the box in that CRS: the
    /// WGS 84 box transformed back is a box around a box, wider than the
    /// data, and a tile pyramid's grid may run past its data, so the box
    /// written is the intersection of the two (in a projected CRS only: a
    /// geographic grid may run past the antimeridian, where the WGS 84 box
    /// is made whole).
    fn extent(
        &self,
        xml: &mut String,
        [w, s, e, n]: [f64; 4],
        crs: &[&str],
        native: Option<(String, [f64; 4])>,
    ) {
        if self.v130() {
            let _ = writeln!(
                xml,
                "<EX_GeographicBoundingBox><westBoundLongitude>{w}</westBoundLongitude><eastBoundLongitude>{e}</eastBoundLongitude><southBoundLatitude>{s}</southBoundLatitude><northBoundLatitude>{n}</northBoundLatitude></EX_GeographicBoundingBox>"
            );
        } else {
            let _ = writeln!(
                xml,
                "<LatLonBoundingBox minx=\"{w}\" miny=\"{s}\" maxx=\"{e}\" maxy=\"{n}\"/>"
            );
        }
        let Ok(wgs84) = Crs::from_epsg(4326) else {
            return;
        };
        for name in crs {
            let (box_, swap) = if *name == "CRS:84" {
                ([w, s, e, n], false)
            } else {
                let Ok(target) = Crs::from_name(name) else {
                    continue;
                };
                let Some(mut b) = transformed([w, s, e, n], &wgs84, &target) else {
                    continue;
                };
                let projected = !target.is_geographic();
                if let Some((_, grid)) = native.as_ref().filter(|(c, _)| projected && c == name) {
                    // Both contain the data: their intersection is tighter.
                    // (Not in longitudes, where a grid may run past 180°.)
                    let cut = [
                        b[0].max(grid[0]),
                        b[1].max(grid[1]),
                        b[2].min(grid[2]),
                        b[3].min(grid[3]),
                    ];
                    if cut[0] < cut[2] && cut[1] < cut[3] {
                        b = cut;
                    }
                }
                (b, self.v130() && target.northing_first())
            };
            let [x0, y0, x1, y1] = if swap {
                [box_[1], box_[0], box_[3], box_[2]]
            } else {
                box_
            };
            let _ = writeln!(
                xml,
                "<BoundingBox {}=\"{}\" minx=\"{x0}\" miny=\"{y0}\" maxx=\"{x1}\" maxy=\"{y1}\"/>",
                self.crs_tag(),
                escape(name)
            );
        }
    }

    /// The one style, `default`, with its legend (SLD 1.1 GetLegendGraphic).
    fn style(&self, xml: &mut String, name: &str) {
        let url = format!(
            "{}/wms?SERVICE=WMS&REQUEST=GetLegendGraphic&VERSION={}&FORMAT=image/png&LAYER={}",
            self.base,
            self.version.as_str(),
            name
        );
        xml.push_str("<Style><Name>default</Name><Title>Default</Title><LegendURL width=\"20\" height=\"20\"><Format>image/png</Format>");
        online_resource(xml, &url);
        xml.push_str("</LegendURL></Style>\n");
    }

    /// The scales the layer is drawn at: not coarser than its lowest zoom
    /// (a map of a larger area would need more tiles than it is worth;
    /// below zoom 1 there is no bound). No finer bound: past its highest
    /// zoom a layer is drawn from that zoom's data (overzoom), as tile
    /// clients do.
    fn scales(&self, xml: &mut String, layer: &Layer) {
        let minzoom = layer.metadata.minzoom;
        if minzoom == 0 {
            return;
        }
        let max = ZOOM0_SCALE / f64::from(1u32 << minzoom.min(30));
        if self.v130() {
            let _ = writeln!(xml, "<MaxScaleDenominator>{max}</MaxScaleDenominator>");
        } else {
            // ScaleHint is a pixel's diagonal in metres (01-068r3 §7.1.4.6.9).
            let diagonal = max * 0.000_28 * std::f64::consts::SQRT_2;
            let _ = writeln!(xml, "<ScaleHint min=\"0\" max=\"{diagonal}\"/>");
        }
    }
}

/// The start of a named layer, up to its abstract. Rasters answer
/// GetFeatureInfo with band values, vectors with features, and a group
/// with its members': every layer is queryable.
fn open_layer(xml: &mut String, name: &str, title: &str, summary: Option<&str>) {
    let _ = writeln!(
        xml,
        "<Layer queryable=\"1\">\n<Name>{}</Name>\n<Title>{}</Title>",
        escape(name),
        escape(title)
    );
    optional(xml, "Abstract", summary);
}

/// `<name>value</name>` when there is a value.
fn optional(xml: &mut String, name: &str, value: Option<&str>) {
    if let Some(v) = value {
        let _ = writeln!(xml, "<{name}>{}</{name}>", escape(v));
    }
}

/// A `KeywordList`, when there are keywords.
fn keywords(xml: &mut String, words: &[String]) {
    if words.is_empty() {
        return;
    }
    xml.push_str("<KeywordList>");
    for k in words {
        let _ = write!(xml, "<Keyword>{}</Keyword>", escape(k));
    }
    xml.push_str("</KeywordList>\n");
}

/// An `OnlineResource` link.
fn online_resource(xml: &mut String, href: &str) {
    let _ = write!(
        xml,
        "<OnlineResource xmlns:xlink=\"http://www.w3.org/1999/xlink\" xlink:type=\"simple\" xlink:href=\"{}\"/>",
        escape(href)
    );
}

/// INSPIRE view service extended capabilities, scenario 1: a link to the
/// service metadata, the languages (Technical Guidance for View Services
/// 3.11, §4.2.3 and Annex C).
fn inspire_capabilities(xml: &mut String, inspire: &InspireMetadata) {
    let language = |xml: &mut String, element: &str, lang: &str| {
        let _ = write!(
            xml,
            "<inspire_common:{element}><inspire_common:Language>{}</inspire_common:Language></inspire_common:{element}>",
            escape(lang)
        );
    };
    let _ = write!(
        xml,
        "<inspire_vs:ExtendedCapabilities>\n<inspire_common:MetadataUrl><inspire_common:URL>{}</inspire_common:URL><inspire_common:MediaType>application/vnd.ogc.csw.GetRecordByIdResponse_xml</inspire_common:MediaType></inspire_common:MetadataUrl>\n<inspire_common:SupportedLanguages>",
        escape(&inspire.metadata_url)
    );
    language(xml, "DefaultLanguage", inspire.default_language());
    for lang in &inspire.supported_languages {
        language(xml, "SupportedLanguage", lang);
    }
    xml.push_str("</inspire_common:SupportedLanguages>\n");
    language(xml, "ResponseLanguage", inspire.response_language());
    xml.push_str("\n</inspire_vs:ExtendedCapabilities>\n");
}

/// A layer's WGS 84 bounds, the WebMercator world when it states none.
fn bounds(layer: &Layer) -> [f64; 4] {
    layer.metadata.bounds.unwrap_or(WORLD)
}

/// The box covering every box, the world when there are none.
fn union(boxes: impl Iterator<Item = [f64; 4]>) -> [f64; 4] {
    boxes
        .reduce(|a, b| {
            [
                a[0].min(b[0]),
                a[1].min(b[1]),
                a[2].max(b[2]),
                a[3].max(b[3]),
            ]
        })
        .unwrap_or(WORLD)
}

/// The CRSs a layer is offered in beyond the common ones: the CRS of its
/// data, and Lambert-93 for data in France.
fn own_crs(layer: &Layer) -> Vec<String> {
    let mut own = Vec::new();
    if let LayerSource::Raster(raster) = &layer.source {
        if ![3857, 4326].contains(&raster.crs.epsg) {
            own.push(format!("EPSG:{}", raster.crs.epsg));
        }
    }
    if layer.metadata.bounds.is_some_and(in_lambert93_area) && !own.iter().any(|c| c == "EPSG:2154")
    {
        own.push("EPSG:2154".into());
    }
    own
}

/// A raster layer's CRS name and the extent of its full-resolution grid in
/// that CRS, easting first (a pyramid's whole tile matrix, which may run
/// past the data); `None` for other layers and rotated grids.
fn native_box(layer: &Layer) -> Option<(String, [f64; 4])> {
    let LayerSource::Raster(raster) = &layer.source else {
        return None;
    };
    let gt = raster.source.geotransform()?;
    let full = raster.source.levels().first()?;
    if gt[2] != 0.0 || gt[4] != 0.0 {
        return None;
    }
    let xs = [gt[0], gt[0] + f64::from(full.width) * gt[1]];
    let ys = [gt[3], gt[3] + f64::from(full.height) * gt[5]];
    let extent = [
        xs[0].min(xs[1]),
        ys[0].min(ys[1]),
        xs[0].max(xs[1]),
        ys[0].max(ys[1]),
    ];
    extent
        .iter()
        .all(|v| v.is_finite())
        .then(|| (format!("EPSG:{}", raster.crs.epsg), extent))
}

/// Keywords of a layer: the names of a vector layer's feature layers.
fn layer_keywords(layer: &Layer) -> Vec<String> {
    let Some(serde_json::Value::Array(layers)) = &layer.metadata.vector_layers else {
        return Vec::new();
    };
    layers
        .iter()
        .filter_map(|l| l.get("id").and_then(|id| id.as_str()).map(str::to_owned))
        .collect()
}

/// `[w, s, e, n]` in `target`, easting first, through its densified
/// outline; a box split at the antimeridian is made whole again (a
/// capabilities box is a min/max, 06-042 §7.2.4.6.6). Latitudes are held
/// within WebMercator's for it: its poles are at infinity.
fn transformed(wgs84_box: [f64; 4], wgs84: &Crs, target: &Crs) -> Option<[f64; 4]> {
    let [w, mut s, e, mut n] = wgs84_box;
    if target.epsg == 3857 {
        s = s.max(WORLD[1]);
        n = n.min(WORLD[3]);
    }
    let boxes = Transform::new(wgs84, target).bboxes([w, s, e, n], 16);
    let all = union(boxes.iter().copied());
    (!boxes.is_empty() && all.iter().all(|v| v.is_finite())).then_some(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_transformed_through_their_outline() {
        let (wgs84, mercator) = (Crs::from_epsg(4326).unwrap(), Crs::from_epsg(3857).unwrap());
        let world = transformed([-180.0, -90.0, 180.0, 90.0], &wgs84, &mercator).unwrap();
        assert!(
            (world[2] - 20_037_508.342_789_244).abs() < 1e-3,
            "{world:?}"
        );
        assert!((world[3] - 20_037_508.342_789_244).abs() < 1.0, "{world:?}");
        let lambert = Crs::from_epsg(2154).unwrap();
        let paris = transformed([2.2, 48.8, 2.5, 48.9], &wgs84, &lambert).unwrap();
        assert!(paris[0] > 640_000.0 && paris[2] < 670_000.0, "{paris:?}");
    }

    #[test]
    fn zoom_scales_follow_the_standard_pixel() {
        // 06-042 and WMTS Annex E.4: zoom 0 is 559082264.0287178.
        let z10 = ZOOM0_SCALE / 1024.0;
        assert!((z10 - 545_978.773_465_544_7).abs() < 1e-6);
    }
}
