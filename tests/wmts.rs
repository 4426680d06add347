//! WMTS 1.0.0: capabilities, GetTile in KVP and RESTful encodings (the
//! same bytes as the tile URL), and OWS exception reports.

use hyper::StatusCode;
use tuilerie_tests::{sample, TestServer};

async fn server() -> TestServer {
    TestServer::start(
        "",
        &[
            sample("cog/usda_naip_256_lzw_z3.tif"),
            sample("webp2.pmtiles"),
        ],
    )
    .await
}

fn text(r: &tuilerie_tests::Reply) -> String {
    String::from_utf8_lossy(&r.body).into_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn capabilities_list_layers_sets_limits_and_templates() {
    let server = server().await;
    for path in [
        "/wmts?SERVICE=WMTS&REQUEST=GetCapabilities",
        "/wmts?service=wmts&request=getcapabilities",
        "/wmts/1.0.0/WMTSCapabilities.xml",
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("content-type"), Some("application/xml"));
        let xml = text(&r);
        for needle in [
            "<ows:Identifier>usda_naip_256_lzw_z3</ows:Identifier>",
            "<ows:Identifier>webp2</ows:Identifier>",
            "<TileMatrixSet>WorldCRS84Quad</TileMatrixSet>",
            "<ows:SupportedCRS>urn:ogc:def:crs:EPSG::3857</ows:SupportedCRS>",
            "<WellKnownScaleSet>urn:ogc:def:wkss:OGC:1.0:GoogleMapsCompatible</WellKnownScaleSet>",
            "<TopLeftCorner>-180 90</TopLeftCorner>",
            // From the file's geotransform: x -13508563.13..-13507951.64,
            // y 5155524.70..5156747.68 m, 152.874 m per z18 tile.
            "<TileMatrixLimits><TileMatrix>18</TileMatrix><MinTileRow>97340</MinTileRow><MaxTileRow>97347</MaxTileRow><MinTileCol>42708</MinTileCol><MaxTileCol>42711</MaxTileCol></TileMatrixLimits>",
            &format!("template=\"http://{}/wmts/1.0.0/webp2/{{Style}}/{{TileMatrixSet}}/{{TileMatrix}}/{{TileRow}}/{{TileCol}}.webp\"", server.addr),
            "<Format>image/jpeg</Format>",
        ] {
            assert!(xml.contains(needle), "{path} lacks {needle}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn gettile_kvp_and_rest_give_the_tile_urls_bytes() {
    let server = server().await;
    let xyz = server.get("/usda_naip_256_lzw_z3/18/42710/97342.png").await;
    assert_eq!(xyz.status, StatusCode::OK);
    let kvp = server
        .get("/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=usda_naip_256_lzw_z3&STYLE=default&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX=18&TILEROW=97342&TILECOL=42710&FORMAT=image%2Fpng")
        .await;
    let rest = server
        .get("/wmts/1.0.0/usda_naip_256_lzw_z3/default/WebMercatorQuad/18/97342/42710.png")
        .await;
    assert_eq!((kvp.status, rest.status), (StatusCode::OK, StatusCode::OK));
    assert_eq!(kvp.body, xyz.body);
    assert_eq!(rest.body, xyz.body);
    let stored = server
        .get("/wmts/1.0.0/webp2/default/WebMercatorQuad/1/0/1.webp")
        .await;
    assert_eq!(stored.body, server.get("/webp2/1/1/0.webp").await.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn errors_are_ows_exception_reports_with_their_codes() {
    let server = server().await;
    let base = "/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&STYLE=default&TILEMATRIXSET=WebMercatorQuad&FORMAT=image/png";
    for (path, status, code, locator) in [
        (
            "/wmts?REQUEST=GetCapabilities",
            400,
            "MissingParameterValue",
            Some("SERVICE"),
        ),
        (
            "/wmts?SERVICE=WMS&REQUEST=GetCapabilities",
            400,
            "InvalidParameterValue",
            Some("SERVICE"),
        ),
        (
            "/wmts?SERVICE=WMTS&REQUEST=GetFeatureInfo",
            501,
            "OperationNotSupported",
            Some("REQUEST"),
        ),
        (
            &format!("{base}&LAYER=nope&TILEMATRIX=1&TILEROW=0&TILECOL=0"),
            400,
            "InvalidParameterValue",
            Some("LAYER"),
        ),
        (
            &format!("{base}&LAYER=webp2&TILEMATRIX=1&TILEROW=0"),
            400,
            "MissingParameterValue",
            Some("TILECOL"),
        ),
        (
            &format!("{base}&LAYER=webp2&TILEMATRIX=1&TILEROW=0&TILECOL=0")
                .replace("image/png", "image/gif"),
            400,
            "InvalidParameterValue",
            Some("FORMAT"),
        ),
        (
            &format!("{base}&LAYER=webp2&TILEMATRIX=7&TILEROW=0&TILECOL=0"),
            400,
            "InvalidParameterValue",
            Some("TILEMATRIX"),
        ),
        (
            &format!("{base}&LAYER=usda_naip_256_lzw_z3&TILEMATRIX=18&TILEROW=0&TILECOL=42710"),
            400,
            "TileOutOfRange",
            Some("TILEROW"),
        ),
        (
            "/wmts/1.0.0/webp2/default/LAMB93/0/0/0.webp",
            400,
            "InvalidParameterValue",
            Some("TILEMATRIXSET"),
        ),
        (
            "/wmts/1.0.0/webp2/fancy/WebMercatorQuad/0/0/0.webp",
            400,
            "InvalidParameterValue",
            Some("STYLE"),
        ),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status.as_u16(), status, "{path}: {}", text(&r));
        let xml = text(&r);
        assert!(
            xml.contains("<ExceptionReport xmlns=\"http://www.opengis.net/ows/1.1\""),
            "{xml}"
        );
        assert!(
            xml.contains(&format!("exceptionCode=\"{code}\"")),
            "{path}: {xml}"
        );
        if let Some(locator) = locator {
            assert!(
                xml.contains(&format!("locator=\"{locator}\"")),
                "{path}: {xml}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn service_metadata_comes_from_the_config_escaped() {
    let config = r#"
        [service]
        title = "Géoplateforme R&D"
        abstract = "Tuiles <ortho> de test"
        keywords = ["ortho", "Lambert-93"]
        access_constraints = "Licence Ouverte 2.0"
        provider_name = "IGN"
        provider_site = "https://www.ign.fr/"
        contact_email = "contact@example.fr"
    "#;
    let server = TestServer::start(config, &[sample("webp2.pmtiles")]).await;
    let xml = text(&server.get("/wmts/1.0.0/WMTSCapabilities.xml").await);
    for needle in [
        "<ows:Title>Géoplateforme R&amp;D</ows:Title>",
        "<ows:Abstract>Tuiles &lt;ortho&gt; de test</ows:Abstract>",
        "<ows:Keyword>Lambert-93</ows:Keyword>",
        "<ows:AccessConstraints>Licence Ouverte 2.0</ows:AccessConstraints>",
        "<ows:ProviderName>IGN</ows:ProviderName>",
        "<ows:ProviderSite xlink:href=\"https://www.ign.fr/\"/>",
        "<ows:ElectronicMailAddress>contact@example.fr</ows:ElectronicMailAddress>",
    ] {
        assert!(xml.contains(needle), "capabilities lack {needle}");
    }
}
