//! WMS 1.1.1 and 1.3.0 (issue 13): GetCapabilities, version negotiation,
//! the POST form, service exception reports, and hostile requests.

use hyper::{Method, StatusCode};
use tuilerie_tests::{samples, text, wms_exception_code as exception_code, TestServer};

/// The ids `/catalog` lists.
async fn catalog_ids(server: &TestServer) -> Vec<String> {
    let catalog = server.get("/catalog").await.json();
    let ids: Vec<String> = catalog["tiles"]
        .as_object()
        .expect("tiles")
        .keys()
        .cloned()
        .collect();
    assert!(ids.len() > 10, "{ids:?}");
    ids
}

/// The attributes of `<BoundingBox CRS="crs" .../>` inside the layer
/// named `layer`, as numbers.
fn bounding_box(xml: &str, layer: &str, attribute: &str, crs: &str) -> [f64; 4] {
    let start = xml
        .find(&format!("<Name>{layer}</Name>"))
        .unwrap_or_else(|| panic!("no layer {layer}"));
    let rest = &xml[start..];
    let tag = format!("<BoundingBox {attribute}=\"{crs}\"");
    let b = &rest[rest
        .find(&tag)
        .unwrap_or_else(|| panic!("{layer}: no {tag}"))..];
    let b = &b[..b.find("/>").unwrap()];
    let value = |name: &str| -> f64 {
        let v = &b[b.find(&format!(" {name}=\"")).unwrap() + name.len() + 3..];
        v[..v.find('"').unwrap()].parse().unwrap()
    };
    [value("minx"), value("miny"), value("maxx"), value("maxy")]
}

#[tokio::test(flavor = "multi_thread")]
async fn versions_are_negotiated_as_06_042_clause_6_2_4_says() {
    let server = TestServer::samples().await;
    for (query, root, content_type) in [
        ("", "<WMS_Capabilities version=\"1.3.0\"", "text/xml"),
        (
            "&VERSION=1.3.0",
            "<WMS_Capabilities version=\"1.3.0\"",
            "text/xml",
        ),
        (
            "&VERSION=1.1.1",
            "<WMT_MS_Capabilities version=\"1.1.1\"",
            "application/vnd.ogc.wms_xml",
        ),
        // Between the two: the highest below.
        (
            "&VERSION=1.2.0",
            "<WMT_MS_Capabilities version=\"1.1.1\"",
            "application/vnd.ogc.wms_xml",
        ),
        // Above the highest: the highest.
        (
            "&VERSION=2.0.0",
            "<WMS_Capabilities version=\"1.3.0\"",
            "text/xml",
        ),
        (
            "&VERSION=1.10.0",
            "<WMS_Capabilities version=\"1.3.0\"",
            "text/xml",
        ),
        // Below the lowest: the lowest.
        (
            "&VERSION=1.0.0",
            "<WMT_MS_Capabilities version=\"1.1.1\"",
            "application/vnd.ogc.wms_xml",
        ),
        // WMS 1.0 clients say WMTVER, and `capabilities`.
        (
            "&WMTVER=1.0.8",
            "<WMT_MS_Capabilities version=\"1.1.1\"",
            "application/vnd.ogc.wms_xml",
        ),
    ] {
        let r = server
            .get(&format!("/wms?SERVICE=WMS&REQUEST=GetCapabilities{query}"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{query}");
        assert_eq!(r.header("content-type"), Some(content_type), "{query}");
        assert!(text(&r).contains(root), "{query}: {}", &text(&r)[..300]);
    }
    let old = server.get("/wms?REQUEST=capabilities&WMTVER=1.0.0").await;
    assert!(text(&old).contains("<WMT_MS_Capabilities version=\"1.1.1\""));
    let bad = server
        .get("/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION=one")
        .await;
    assert_eq!(exception_code(&bad, "1.3.0"), "InvalidParameterValue");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_catalog_layer_is_named_with_its_crss_and_boxes_in_both_versions() {
    let server = TestServer::samples().await;
    let ids = catalog_ids(&server).await;
    for (version, crs) in [("1.3.0", "CRS"), ("1.1.1", "SRS")] {
        let xml = text(
            &server
                .get(&format!(
                    "/wms?SERVICE=WMS&REQUEST=GetCapabilities&VERSION={version}"
                ))
                .await,
        );
        for id in &ids {
            assert!(
                xml.contains(&format!("<Name>{id}</Name>")),
                "{version}: {id}"
            );
            let b = bounding_box(&xml, id, crs, "EPSG:3857");
            assert!(b[0] < b[2] && b[1] < b[3], "{version} {id}: {b:?}");
        }
        // The shared CRSs sit once on the root layer, inherited below it.
        for code in ["EPSG:3857", "EPSG:4326"] {
            assert!(xml.contains(&format!("<{crs}>{code}</{crs}>")), "{version}");
        }
        assert_eq!(
            xml.contains("<CRS>CRS:84</CRS>"),
            version == "1.3.0",
            "CRS:84 is 1.3.0's"
        );
        for needle in [
            "<Format>image/png; mode=8bit</Format>",
            "<Format>application/vnd.ogc.gml</Format>",
            "GetLegendGraphic>",
            "queryable=\"1\"",
            "<Name>default</Name>",
        ] {
            assert!(xml.contains(needle), "{version} lacks {needle}");
        }
        let legend = format!("REQUEST=GetLegendGraphic&amp;VERSION={version}&amp;FORMAT=image/png&amp;LAYER=world_cities\"");
        assert!(xml.contains(&legend), "{version}: {legend}");
    }
    // A layer in France is offered in Lambert-93, a UTM GeoTIFF in its zone.
    let xml = text(&server.get("/wms?REQUEST=GetCapabilities").await);
    assert!(xml.contains("<CRS>EPSG:2154</CRS>"));
    assert!(xml.contains("<CRS>EPSG:26913</CRS>") || xml.contains("<CRS>EPSG:32621</CRS>"));
    assert!(xml.contains(
        "<LayerLimit>32</LayerLimit><MaxWidth>4096</MaxWidth><MaxHeight>4096</MaxHeight>"
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn epsg_4326_boxes_are_latitude_first_in_1_3_0_only() {
    let server = TestServer::samples().await;
    let get = |v: &'static str| {
        let server = &server;
        async move {
            text(
                &server
                    .get(&format!("/wms?REQUEST=GetCapabilities&VERSION={v}"))
                    .await,
            )
        }
    };
    let (v130, v111) = (get("1.3.0").await, get("1.1.1").await);
    // The NAIP sample lies at 42° N, 121° W.
    let layer = "usda_naip_256_lzw_z3";
    let lat_first = bounding_box(&v130, layer, "CRS", "EPSG:4326");
    let lon_first = bounding_box(&v111, layer, "SRS", "EPSG:4326");
    assert!(
        lat_first[0] > 41.0 && lat_first[1] < -121.0,
        "{lat_first:?}"
    );
    assert_eq!(
        lat_first,
        [lon_first[1], lon_first[0], lon_first[3], lon_first[2]]
    );
    // CRS:84 is longitude first, like the 1.1.1 box.
    assert_eq!(bounding_box(&v130, layer, "CRS", "CRS:84"), lon_first);
    // WebMercator is easting first in both.
    assert_eq!(
        bounding_box(&v130, layer, "CRS", "EPSG:3857"),
        bounding_box(&v111, layer, "SRS", "EPSG:3857")
    );
}

/// Issue 13 (found by tests/clients/owslib_client.py): a raster's
/// `BoundingBox` in its own CRS was its WGS 84 box transformed back, a box
/// around a box (68 m too wide on each side for the 1 km Lambert-93 DEM);
/// it is the grid's extent, as GDAL reads it (tests/fixtures/cogs.json).
#[tokio::test(flavor = "multi_thread")]
async fn a_rasters_box_in_its_own_crs_is_its_extent_as_gdal_reads_it() {
    let server = TestServer::samples().await;
    let v130 = text(
        &server
            .get("/wms?REQUEST=GetCapabilities&VERSION=1.3.0")
            .await,
    );
    let v111 = text(
        &server
            .get("/wms?REQUEST=GetCapabilities&VERSION=1.1.1")
            .await,
    );
    let fixture = samples().parent().unwrap().join("tests/fixtures/cogs.json");
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture).unwrap()).unwrap();
    let mut compared = 0;
    for (name, r) in reference.as_object().unwrap() {
        let id = name.trim_end_matches(".tiff").trim_end_matches(".tif");
        let epsg = r["epsg"].as_u64().unwrap_or(0);
        let crs = format!("EPSG:{epsg}");
        // EPSG:4326 boxes are made whole across the antimeridian, not cut.
        if [0, 4326].contains(&epsg) || !v130.contains(&format!("<Name>{id}</Name>")) {
            continue;
        }
        let gt: Vec<f64> = r["geotransform"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let (w, h) = (r["width"].as_f64().unwrap(), r["height"].as_f64().unwrap());
        let gdal = [gt[0], gt[3] + h * gt[5], gt[0] + w * gt[1], gt[3]];
        // A hundredth of a pixel.
        let tolerance = gt[1].abs().min(gt[5].abs()) / 100.0;
        for (xml, attribute) in [(&v130, "CRS"), (&v111, "SRS")] {
            let ours = bounding_box(xml, id, attribute, &crs);
            assert!(
                ours.iter()
                    .zip(gdal)
                    .all(|(a, b)| (a - b).abs() <= tolerance),
                "{id} {attribute}={crs}: {ours:?}, GDAL's extent {gdal:?}"
            );
        }
        compared += 1;
    }
    assert!(compared >= 5, "only {compared} layers compared");
}

#[tokio::test(flavor = "multi_thread")]
async fn parameter_names_are_case_insensitive_and_service_may_be_omitted() {
    let server = TestServer::samples().await;
    for query in [
        "service=wms&request=getcapabilities&version=1.1.1",
        "Service=WMS&Request=GetCapabilities&Version=1.1.1",
        "REQUEST=GetCapabilities&VERSION=1.1.1",
    ] {
        let r = server.get(&format!("/wms?{query}")).await;
        assert!(
            text(&r).contains("<WMT_MS_Capabilities version=\"1.1.1\""),
            "{query}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_post_form_is_read_like_a_query_and_is_bounded() {
    let server = TestServer::samples().await;
    let form = "application/x-www-form-urlencoded";
    let r = server
        .post(
            "/wms",
            form,
            "SERVICE=WMS&REQUEST=GetCapabilities&VERSION=1.1.1",
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(text(&r).contains("<WMT_MS_Capabilities version=\"1.1.1\""));
    let charset = server
        .post(
            "/wms",
            &format!("{form}; charset=UTF-8"),
            "request=GetCapabilities",
        )
        .await;
    assert!(text(&charset).contains("<WMS_Capabilities"));
    // Not a form, too large: exceptions, not a hang or a crash.
    let json = server.post("/wms", "application/json", "{}").await;
    assert_eq!(exception_code(&json, "1.3.0"), "InvalidParameterValue");
    let mut large = b"REQUEST=GetCapabilities&LAYERS=".to_vec();
    large.resize(65 * 1024, b'a');
    let large = server.post("/wms", form, large).await;
    assert_eq!(exception_code(&large, "1.3.0"), "InvalidParameterValue");
    assert!(text(&large).contains("64 KiB"));
    // POST is /wms's only.
    let other = server.post("/catalog", form, "a=b").await;
    assert_eq!(other.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(other.header("allow"), Some("GET, HEAD, OPTIONS"));
    let preflight = server.request(Method::OPTIONS, "/wms", &[]).await;
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, HEAD, POST, OPTIONS")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_service_exception_reports_with_their_codes() {
    let server = TestServer::samples().await;
    for (query, version, code) in [
        ("SERVICE=WMS", "1.3.0", "MissingParameterValue"),
        ("", "1.3.0", "MissingParameterValue"),
        (
            "SERVICE=WMS&VERSION=1.1.1",
            "1.1.1",
            "MissingParameterValue",
        ),
        (
            "SERVICE=WFS&REQUEST=GetCapabilities",
            "1.3.0",
            "InvalidParameterValue",
        ),
        // GetMap and GetFeatureInfo are served: without LAYERS they name
        // the missing layer (as MapServer and GeoServer do).
        (
            "SERVICE=WMS&REQUEST=GetMap&VERSION=1.3.0",
            "1.3.0",
            "LayerNotDefined",
        ),
        (
            "SERVICE=WMS&REQUEST=GetFeatureInfo&VERSION=1.1.1",
            "1.1.1",
            "LayerNotDefined",
        ),
        (
            "SERVICE=WMS&REQUEST=DescribeLayer",
            "1.3.0",
            "OperationNotSupported",
        ),
    ] {
        let r = server.get(&format!("/wms?{query}")).await;
        assert_eq!(exception_code(&r, version), code, "{query}");
    }
    let r = server.get("/wms?REQUEST=GetMap&VERSION=1.3.0").await;
    assert!(text(&r).contains("xmlns=\"http://www.opengis.net/ogc\""));
    assert!(text(&r).contains("locator=\"LAYERS\""));
    let r = server.get("/wms?REQUEST=GetMap&VERSION=1.1.1").await;
    assert!(text(&r).contains("exception_1_1_1.dtd"));
    assert!(
        !text(&r).contains("locator="),
        "the 1.1.1 DTD has no locator"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_queries_give_exceptions_not_panics() {
    let server = TestServer::samples().await;
    let huge = format!("/wms?REQUEST=GetMap&LAYERS={}", "a,".repeat(30_000));
    for path in [
        huge.as_str(),
        "/wms?REQUEST=%FF%FE%00&SERVICE=%C3%28",
        "/wms?SERVICE=%FFWMS&REQUEST=GetCapabilities",
        "/wms?REQUEST=GetCapabilities&VERSION=%",
        "/wms?REQUEST=GetCapabilities&VERSION=99999999999999999999.0.0",
        "/wms?%=%&&&==&REQUEST",
        "/wms?REQUEST=GetCapabilities&VERSION=1.3.0.%00",
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{}", &path[..path.len().min(80)]);
        let body = text(&r);
        assert!(
            body.contains("<ServiceExceptionReport") || body.contains("_Capabilities version="),
            "{}: {body}",
            &path[..path.len().min(80)]
        );
    }
    let bytes = server
        .post(
            "/wms",
            "application/x-www-form-urlencoded",
            &b"REQUEST=\xff\xfe\x00&SERVICE=WMS"[..],
        )
        .await;
    assert_eq!(exception_code(&bytes, "1.3.0"), "OperationNotSupported");
    // And the server still answers.
    assert_eq!(server.get("/health").await.status, StatusCode::OK);
}

/// The service section and groups of a configured server.
const CONFIG: &str = r#"
[service]
title = "Cartes & <données>"
abstract = "Sample layers"
keywords = ["tiles", "wms"]
fees = "none"
access_constraints = "none"
provider_name = "Tuilerie"
contact_person = "A. Person"
contact_position = "Maintainer"
contact_email = "maps@example.org"
contact_phone = "+33 1 23 45 67 89"
city = "Paris"
country = "France"
max_width = 2048
layer_limit = 4
extra_crs = ["EPSG:3035"]

[service.inspire]
metadata_url = "https://catalog.example.org/csw?SERVICE=CSW&REQUEST=GetRecordById&ID=x"
default_language = "fre"
supported_languages = ["eng"]

[[wms_groups]]
name = "basemaps"
title = "Base maps"
layers = ["world_cities", "webp2", "no_such_layer"]
"#;

#[tokio::test(flavor = "multi_thread")]
async fn configured_metadata_groups_and_inspire_are_written() {
    let server = TestServer::start(CONFIG, &[samples()]).await;
    let v130 = text(&server.get("/wms?REQUEST=GetCapabilities").await);
    for needle in [
        "<Title>Cartes &amp; &lt;données&gt;</Title>",
        "<KeywordList><Keyword>tiles</Keyword><Keyword>wms</Keyword></KeywordList>",
        "<ContactPersonPrimary><ContactPerson>A. Person</ContactPerson><ContactOrganization>Tuilerie</ContactOrganization></ContactPersonPrimary>",
        "<ContactAddress><AddressType>postal</AddressType><Address></Address><City>Paris</City>",
        "<ContactVoiceTelephone>+33 1 23 45 67 89</ContactVoiceTelephone>",
        "<LayerLimit>4</LayerLimit><MaxWidth>2048</MaxWidth><MaxHeight>4096</MaxHeight>",
        "<CRS>EPSG:3035</CRS>",
        "<Name>basemaps</Name>\n<Title>Base maps</Title>",
        "<inspire_vs:ExtendedCapabilities>",
        "<inspire_common:URL>https://catalog.example.org/csw?SERVICE=CSW&amp;REQUEST=GetRecordById&amp;ID=x</inspire_common:URL>",
        "<inspire_common:DefaultLanguage><inspire_common:Language>fre</inspire_common:Language></inspire_common:DefaultLanguage><inspire_common:SupportedLanguage><inspire_common:Language>eng</inspire_common:Language></inspire_common:SupportedLanguage>",
        "<inspire_common:ResponseLanguage><inspire_common:Language>fre</inspire_common:Language></inspire_common:ResponseLanguage>",
    ] {
        assert!(v130.contains(needle), "lacks {needle}");
    }
    // The group holds its layers, which are not repeated at the root.
    let group = &v130[v130.find("<Name>basemaps</Name>").unwrap()..];
    assert!(group.find("<Name>webp2</Name>") < group.find("<Name>leaf</Name>"));
    assert_eq!(v130.matches("<Name>world_cities</Name>").count(), 1);
    // EPSG:3035 is northing first: its 1.3.0 box has y (northing) as x.
    let laea = bounding_box(&v130, "protomaps_vector_firenze", "CRS", "EPSG:3035");
    let v111 = text(
        &server
            .get("/wms?REQUEST=GetCapabilities&VERSION=1.1.1")
            .await,
    );
    let laea111 = bounding_box(&v111, "protomaps_vector_firenze", "SRS", "EPSG:3035");
    assert_eq!(laea, [laea111[1], laea111[0], laea111[3], laea111[2]]);
    // INSPIRE and the 1.3.0 limits are 1.3.0's only.
    assert!(!v111.contains("inspire"));
    assert!(!v111.contains("LayerLimit"));
    validate_with_xmllint(&v130, &v111);
}

/// Validates both documents against the official schemas (MapProxy's
/// copies) when xmllint and MapProxy are installed (CI installs both, see
/// `.ci/run`; tests/clients/wms_schema_check.py does the same for the
/// default configuration).
fn validate_with_xmllint(v130: &str, v111: &str) {
    use std::process::Command;
    let schemas = Command::new("python3")
        .args([
            "-c",
            "import mapproxy, os; print(os.path.join(os.path.dirname(mapproxy.__file__), 'test', 'schemas'))",
        ])
        .output();
    let xmllint = Command::new("xmllint").arg("--version").output();
    let (Ok(schemas), Ok(xmllint)) = (schemas, xmllint) else {
        eprintln!("xmllint or python3 missing: schema validation skipped");
        return;
    };
    if !schemas.status.success() || !xmllint.status.success() {
        eprintln!("MapProxy's schemas or xmllint missing: schema validation skipped");
        return;
    }
    let schemas = std::path::PathBuf::from(String::from_utf8_lossy(&schemas.stdout).trim());
    let dir = std::env::temp_dir().join(format!("tuilerie-wms-xsd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let driver = dir.join("driver.xsd");
    let imports: String = [
        (
            "http://www.opengis.net/wms",
            "wms/1.3.0/capabilities_1_3_0.xsd",
        ),
        (
            "http://www.opengis.net/sld",
            "sld/1.1.0/sld_capabilities.xsd",
        ),
        (
            "http://inspire.ec.europa.eu/schemas/inspire_vs/1.0",
            "inspire/inspire_vs/1.0/inspire_vs.xsd",
        ),
    ]
    .iter()
    .map(|(ns, path)| {
        format!(
            "<xs:import namespace=\"{ns}\" schemaLocation=\"{}\"/>",
            schemas.join(path).display()
        )
    })
    .collect();
    std::fs::write(
        &driver,
        format!("<?xml version=\"1.0\"?><xs:schema xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"urn:tuilerie:driver\">{imports}</xs:schema>"),
    )
    .unwrap();
    let dtd = schemas.join("wms/1.1.1/WMS_MS_Capabilities.dtd");
    for (name, doc, args) in [
        (
            "v130.xml",
            v130,
            vec!["--schema".to_owned(), driver.display().to_string()],
        ),
        (
            "v111.xml",
            v111,
            vec!["--dtdvalid".to_owned(), dtd.display().to_string()],
        ),
    ] {
        let file = dir.join(name);
        std::fs::write(&file, doc).unwrap();
        let out = Command::new("xmllint")
            .args(["--nonet", "--noout"])
            .args(&args)
            .arg(&file)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{name} is not valid:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
