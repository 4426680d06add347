//! WMS GetMap, GetFeatureInfo and GetLegendGraphic (issue 13) on the
//! sample data: every layer kind drawn, the cross-checks (a WMTS tile is
//! the GetMap of its bbox; 1.3.0 EPSG:4326 is 1.1.1 with its axes
//! swapped), the exceptions each bad parameter gets, and bounded answers
//! to absurd requests.

use hyper::StatusCode;
use tuilerie_tests::{png_rgba, text, wms_exception_code, Reply, TestServer};

/// Web Mercator's half world, metres.
const HALF: f64 = 20_037_508.342_789_244;

async fn get_map(server: &TestServer, query: &str) -> Reply {
    server
        .get(&format!("/wms?SERVICE=WMS&REQUEST=GetMap&{query}"))
        .await
}

/// A GetMap that must answer an image: its decoded RGBA.
async fn map_pixels(server: &TestServer, query: &str) -> Vec<u8> {
    let r = get_map(server, query).await;
    assert_eq!(r.status, StatusCode::OK, "{query}: {}", text(&r));
    assert_eq!(
        r.header("content-type"),
        Some("image/png"),
        "{query}: {}",
        text(&r)
    );
    png_rgba(&r.body)
}

fn opaque_share(rgba: &[u8]) -> f64 {
    let opaque = rgba.chunks_exact(4).filter(|p| p[3] > 0).count();
    opaque as f64 / (rgba.len() / 4) as f64
}

/// Largest channel difference over pixels opaque in either image.
fn max_difference(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len());
    a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .filter(|(p, q)| p[3] > 0 || q[3] > 0)
        .flat_map(|(p, q)| (0..4).map(move |c| p[c].abs_diff(q[c])))
        .max()
        .unwrap_or(0)
}

#[tokio::test]
async fn every_drawable_layer_kind_gives_a_map_with_data() {
    let server = TestServer::samples().await;
    // A COG, a GeoPackage pyramid, a raster MBTiles, a raster PMTiles, a
    // GeoPackage feature table and two MVT archives, each over its own
    // bounds (TileJSON's).
    for layer in [
        "cog_rgb",
        "small_world_and_byte",
        "geography-class-png",
        "stamen_toner_raster_z3",
        "countries",
        "protomaps_vector_firenze",
        "world_cities",
    ] {
        let b = server.bounds(layer).await;
        // WebMercator-bounded archives say ±85.05°; stay inside.
        let (south, north) = (b[1].max(-85.0), b[3].min(85.0));
        let query = format!(
            "VERSION=1.1.1&LAYERS={layer}&STYLES=&SRS=EPSG:4326&BBOX={},{},{},{}\
             &WIDTH=256&HEIGHT=128&FORMAT=image/png&TRANSPARENT=TRUE",
            b[0], south, b[2], north
        );
        let rgba = map_pixels(&server, &query).await;
        assert_eq!(rgba.len(), 256 * 128 * 4, "{layer}");
        let share = opaque_share(&rgba);
        // Cities are points: a few percent of a world map.
        let least = if layer == "world_cities" { 0.002 } else { 0.05 };
        assert!(
            share > least,
            "{layer}: only {share:.3} of the map has data"
        );
    }
}

/// Cross-check (issue 13 part 6): in 1.3.0 EPSG:4326 is latitude first;
/// the same map asked in 1.1.1 with longitude first is the same image.
#[tokio::test]
async fn a_130_geographic_map_is_the_111_map_with_its_axes_swapped() {
    let server = TestServer::samples().await;
    for layer in ["countries", "small_world_and_byte", "dateline_4326"] {
        let common = format!("LAYERS={layer}&STYLES=&WIDTH=300&HEIGHT=200&FORMAT=image/png");
        let v130 = map_pixels(
            &server,
            &format!("VERSION=1.3.0&{common}&CRS=EPSG:4326&BBOX=-60,-150,60,30"),
        )
        .await;
        let v111 = map_pixels(
            &server,
            &format!("VERSION=1.1.1&{common}&SRS=EPSG:4326&BBOX=-150,-60,30,60"),
        )
        .await;
        assert_eq!(max_difference(&v130, &v111), 0, "{layer}");
        // CRS:84 is the longitude-first twin in 1.3.0.
        let crs84 = map_pixels(
            &server,
            &format!("VERSION=1.3.0&{common}&CRS=CRS:84&BBOX=-150,-60,30,60"),
        )
        .await;
        assert_eq!(max_difference(&crs84, &v111), 0, "{layer}");
    }
}

/// Cross-check (issue 13 part 6): a WMTS tile is the GetMap of its bbox
/// at 256 × 256 in the same CRS, for rasters rendered and stored.
#[tokio::test]
async fn a_wmts_tile_is_the_getmap_of_its_bbox() {
    let server = TestServer::samples().await;
    let tiles = [
        ("cog_rgb", 19, 109_554, 200_458),
        ("small_world_and_byte", 1, 1, 0),
    ];
    for (layer, z, x, y) in tiles {
        let tile = server
            .get(&format!("/{layer}/WebMercatorQuad/{z}/{x}/{y}.png"))
            .await;
        assert_eq!(tile.status, StatusCode::OK, "{layer}: {}", text(&tile));
        let size = 2.0 * HALF / f64::from(1u32 << z);
        let (x0, y1) = (-HALF + f64::from(x) * size, HALF - f64::from(y) * size);
        let query = format!(
            "VERSION=1.3.0&LAYERS={layer}&STYLES=&CRS=EPSG:3857&BBOX={x0},{},{},{y1}\
             &WIDTH=256&HEIGHT=256&FORMAT=image/png&TRANSPARENT=TRUE",
            y1 - size,
            x0 + size
        );
        let map = map_pixels(&server, &query).await;
        let tile = png_rgba(&tile.body);
        assert!(opaque_share(&tile) > 0.1, "{layer}: the tile is empty");
        // Same pixels within rounding (the bbox goes through decimal text).
        assert!(max_difference(&map, &tile) <= 1, "{layer}");
    }
}

#[tokio::test]
async fn layers_are_drawn_in_order_over_the_background() {
    let server = TestServer::samples().await;
    let common = "VERSION=1.1.1&STYLES=&SRS=EPSG:4326&BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180";
    // Opaque by default (TRANSPARENT=FALSE), over BGCOLOR.
    let ocean = map_pixels(
        &server,
        &format!("{common}&LAYERS=countries&FORMAT=image/png&BGCOLOR=0x0000FF"),
    )
    .await;
    // The middle of the Pacific, (-150°, 0°): pixel (30, 90).
    let at = |rgba: &[u8], i: usize, j: usize| -> [u8; 4] {
        let k = (j * 360 + i) * 4;
        [rgba[k], rgba[k + 1], rgba[k + 2], rgba[k + 3]]
    };
    assert_eq!(at(&ocean, 30, 90), [0, 0, 255, 255]);
    // Transparent where nothing is drawn when asked.
    let clear = map_pixels(
        &server,
        &format!("{common}&LAYERS=countries&FORMAT=image/png&TRANSPARENT=TRUE"),
    )
    .await;
    assert_eq!(at(&clear, 30, 90)[3], 0);
    // Brazil, (-50°, -10°): pixel (130, 100), drawn over the raster below.
    let raster = map_pixels(
        &server,
        &format!("{common}&LAYERS=geography-class-png&FORMAT=image/png"),
    )
    .await;
    let both = map_pixels(
        &server,
        &format!("{common}&LAYERS=geography-class-png,countries&FORMAT=image/png"),
    )
    .await;
    let reversed = map_pixels(
        &server,
        &format!("{common}&LAYERS=countries,geography-class-png&FORMAT=image/png"),
    )
    .await;
    assert_eq!(
        at(&both, 130, 100),
        at(&clear, 130, 100),
        "countries on top"
    );
    assert_eq!(
        at(&reversed, 130, 100),
        at(&raster, 130, 100),
        "raster on top"
    );
}

#[tokio::test]
async fn a_higher_dpi_draws_wider_strokes() {
    let server = TestServer::samples().await;
    let common = "VERSION=1.3.0&LAYERS=countries&STYLES=&CRS=CRS:84&BBOX=-10,35,30,60\
                  &WIDTH=400&HEIGHT=250&FORMAT=image/png&TRANSPARENT=TRUE";
    let dark = |rgba: &[u8]| {
        rgba.chunks_exact(4)
            .filter(|p| p[3] > 0 && p[0] < 64)
            .count()
    };
    let standard = dark(&map_pixels(&server, common).await);
    for dpi in ["DPI=272", "MAP_RESOLUTION=272", "FORMAT_OPTIONS=dpi:272"] {
        let wide = dark(&map_pixels(&server, &format!("{common}&{dpi}")).await);
        // Three times the standard 90.7 dpi: strokes three times as wide.
        assert!(
            wide as f64 > 2.0 * standard as f64,
            "{dpi}: {wide} dark pixels against {standard}"
        );
    }
}

#[tokio::test]
async fn jpeg_and_webp_maps_decode_to_the_asked_size() {
    let server = TestServer::samples().await;
    let common = "VERSION=1.3.0&LAYERS=geography-class-png&STYLES=&CRS=EPSG:3857\
                  &BBOX=-20037508,-10000000,20037508,10000000&WIDTH=320&HEIGHT=160";
    for (format, mime, magic) in [
        ("image/jpeg", "image/jpeg", &b"\xFF\xD8\xFF"[..]),
        ("image/webp", "image/webp", &b"RIFF"[..]),
        ("image/png;%20mode=8bit", "image/png", &b"\x89PNG"[..]),
    ] {
        let r = get_map(&server, &format!("{common}&FORMAT={format}")).await;
        assert_eq!(r.status, StatusCode::OK, "{format}");
        assert_eq!(
            r.header("content-type"),
            Some(mime),
            "{format}: {}",
            text(&r)
        );
        assert!(r.body.starts_with(magic), "{format}");
    }
    // 8-bit: an indexed PNG (colour type 3 in IHDR), close to the full one.
    let png8 = get_map(&server, &format!("{common}&FORMAT=image/png8")).await;
    assert_eq!(png8.body[25], 3, "colour type");
    let full = map_pixels(&server, &format!("{common}&FORMAT=image/png")).await;
    let quantised = png_rgba(&png8.body);
    let error: u64 = full
        .iter()
        .zip(&quantised)
        .map(|(a, b)| u64::from(a.abs_diff(*b)))
        .sum();
    let mean = error as f64 / full.len() as f64;
    assert!(mean < 4.0, "mean error {mean:.2} per channel");
}

#[tokio::test]
async fn a_post_form_is_the_same_getmap() {
    let server = TestServer::samples().await;
    let query = "SERVICE=WMS&REQUEST=GetMap&VERSION=1.1.1&LAYERS=countries&STYLES=\
                 &SRS=EPSG:4326&BBOX=-180,-90,180,90&WIDTH=120&HEIGHT=60&FORMAT=image/png";
    let got = server.get(&format!("/wms?{query}")).await;
    let posted = server
        .post(
            "/wms",
            "application/x-www-form-urlencoded",
            query.to_owned(),
        )
        .await;
    assert_eq!(posted.status, StatusCode::OK, "{}", text(&posted));
    assert_eq!(posted.body, got.body);
}

/// Issue 13 part 5: each bad parameter gets its exception code, in each
/// version's form, and names are case-insensitive.
#[tokio::test]
async fn each_bad_getmap_parameter_gets_its_exception_code() {
    let server = TestServer::samples().await;
    let good = "LAYERS=countries&STYLES=&BBOX=-180,-90,180,90&WIDTH=64&HEIGHT=32&FORMAT=image/png";
    let cases: &[(&str, &str, &str)] = &[
        ("1.3.0", "LAYERS=nope", "LayerNotDefined"),
        ("1.3.0", "STYLES=fancy", "StyleNotDefined"),
        ("1.3.0", "STYLES=,", "StyleNotDefined"),
        ("1.3.0", "CRS=EPSG:999999", "InvalidCRS"),
        ("1.1.1", "SRS=EPSG:999999", "InvalidSRS"),
        ("1.3.0", "CRS=AUTO2:42001,1,0,0", "InvalidCRS"),
        ("1.3.0", "FORMAT=image/gif", "InvalidFormat"),
        ("1.3.0", "BBOX=10,0,0,10", "InvalidParameterValue"),
        ("1.3.0", "BBOX=0,0,NaN,10", "InvalidParameterValue"),
        ("1.3.0", "BBOX=0,0,1e400,10", "InvalidParameterValue"),
        ("1.3.0", "BBOX=1,2,3", "InvalidParameterValue"),
        ("1.3.0", "WIDTH=100000", "InvalidParameterValue"),
        ("1.3.0", "WIDTH=0", "InvalidParameterValue"),
        ("1.3.0", "HEIGHT=-5", "InvalidParameterValue"),
        ("1.3.0", "TRANSPARENT=maybe", "InvalidParameterValue"),
        ("1.3.0", "BGCOLOR=red", "InvalidParameterValue"),
        ("1.3.0", "DPI=0", "InvalidParameterValue"),
    ];
    for (version, change, code) in cases {
        let (name, _) = change.split_once('=').unwrap();
        let base: Vec<&str> = good
            .split('&')
            .filter(|kv| !kv.starts_with(&format!("{name}=")))
            .collect();
        let crs = if *version == "1.3.0" {
            "CRS=CRS:84"
        } else {
            "SRS=EPSG:4326"
        };
        let crs = if name == "CRS" || name == "SRS" {
            ""
        } else {
            crs
        };
        let query = format!("VERSION={version}&{}&{crs}&{change}", base.join("&"));
        let r = get_map(&server, &query).await;
        assert_eq!(wms_exception_code(&r, version), *code, "{query}");
    }
    // Missing parameters, with lower-case names for the rest.
    for missing in ["bbox", "width", "format", "crs"] {
        let query: Vec<String> = format!("version=1.3.0&crs=CRS:84&{good}")
            .split('&')
            .map(str::to_ascii_lowercase)
            .filter(|kv| !kv.starts_with(&format!("{missing}=")))
            .collect();
        let r = get_map(&server, &query.join("&")).await;
        assert_eq!(
            wms_exception_code(&r, "1.3.0"),
            "MissingParameterValue",
            "{missing}"
        );
    }
}

#[tokio::test]
async fn blank_exceptions_answer_an_image_of_the_map() {
    let server = TestServer::samples().await;
    let r = get_map(
        &server,
        "VERSION=1.3.0&LAYERS=leaf&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000\
         &WIDTH=50&HEIGHT=40&FORMAT=image/png&TRANSPARENT=TRUE&EXCEPTIONS=BLANK",
    )
    .await;
    // `leaf` holds vector tiles, which maps cannot draw yet: an error,
    // answered as an empty image of the map's size.
    assert_eq!(r.header("content-type"), Some("image/png"), "{}", text(&r));
    let rgba = png_rgba(&r.body);
    assert_eq!(rgba.len(), 50 * 40 * 4);
    assert_eq!(opaque_share(&rgba), 0.0);
    // In the image: the message written, in dark pixels.
    let r = get_map(
        &server,
        "VERSION=1.3.0&LAYERS=leaf&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000\
         &WIDTH=300&HEIGHT=100&FORMAT=image/png&EXCEPTIONS=INIMAGE",
    )
    .await;
    assert_eq!(r.header("content-type"), Some("image/png"), "{}", text(&r));
    let rgba = png_rgba(&r.body);
    assert_eq!(rgba.len(), 300 * 100 * 4);
    let dark = rgba
        .chunks_exact(4)
        .filter(|p| p[3] > 0 && p[0] < 100)
        .count();
    assert!(dark > 100, "{dark} dark pixels: no message drawn");
    // A bad request, in the image too when its size and format are good;
    // as a report when they are not.
    let r = get_map(
        &server,
        "VERSION=1.3.0&LAYERS=nope&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000\
         &WIDTH=300&HEIGHT=100&FORMAT=image/jpeg&EXCEPTIONS=application/vnd.ogc.se_inimage",
    )
    .await;
    assert_eq!(r.header("content-type"), Some("image/jpeg"), "{}", text(&r));
    let r = get_map(
        &server,
        "VERSION=1.3.0&LAYERS=nope&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000\
         &WIDTH=0&HEIGHT=100&FORMAT=image/jpeg&EXCEPTIONS=INIMAGE",
    )
    .await;
    assert_eq!(wms_exception_code(&r, "1.3.0"), "LayerNotDefined");
    // The same as XML names the failure.
    let xml = get_map(
        &server,
        "VERSION=1.3.0&LAYERS=leaf&STYLES=&CRS=EPSG:3857&BBOX=0,0,1000,1000\
         &WIDTH=50&HEIGHT=40&FORMAT=image/png",
    )
    .await;
    assert_eq!(wms_exception_code(&xml, "1.3.0"), "OperationNotSupported");
}

/// Absurd requests get an exception or a bounded answer, never a hang:
/// a box a thousand worlds wide, a box of a millimetre, the largest size.
#[tokio::test]
async fn absurd_maps_are_answered_in_bounded_time() {
    let server = TestServer::samples().await;
    let started = std::time::Instant::now();
    for bbox in [
        "-2e10,-2e10,2e10,2e10",
        "100000,6000000,100000.001,6000000.001",
    ] {
        for layer in ["cog_rgb", "countries", "geography-class-png", "nocog"] {
            let r = get_map(
                &server,
                &format!(
                    "VERSION=1.3.0&LAYERS={layer}&STYLES=&CRS=EPSG:3857&BBOX={bbox}\
                     &WIDTH=512&HEIGHT=512&FORMAT=image/png"
                ),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{layer} {bbox}: {}", text(&r));
        }
    }
    let r = get_map(
        &server,
        "VERSION=1.3.0&LAYERS=countries&STYLES=&CRS=CRS:84&BBOX=-180,-90,180,90\
         &WIDTH=4096&HEIGHT=4096&FORMAT=image/png",
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", text(&r));
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
}

async fn feature_info(server: &TestServer, query: &str) -> Reply {
    server
        .get(&format!("/wms?SERVICE=WMS&REQUEST=GetFeatureInfo&{query}"))
        .await
}

#[tokio::test]
async fn feature_info_names_the_country_under_the_pixel_in_every_format() {
    let server = TestServer::samples().await;
    // A 360 × 180 world map: pixel (182, 43) is at 2.5° E, 46.5° N.
    let v130 = "VERSION=1.3.0&LAYERS=countries&QUERY_LAYERS=countries&STYLES=&CRS=EPSG:4326\
                &BBOX=-90,-180,90,180&WIDTH=360&HEIGHT=180&I=182&J=43";
    let v111 = "VERSION=1.1.1&LAYERS=countries&QUERY_LAYERS=countries&STYLES=&SRS=EPSG:4326\
                &BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&X=182&Y=43";
    for query in [v130, v111] {
        let json = feature_info(&server, &format!("{query}&INFO_FORMAT=application/json")).await;
        assert_eq!(json.header("content-type"), Some("application/json"));
        let json = json.json();
        let features = json["features"].as_array().unwrap();
        assert_eq!(features.len(), 1, "{json}");
        assert_eq!(features[0]["properties"]["name"], "France");
        assert_eq!(features[0]["geometry"]["type"], "MultiPolygon");
        for (format, needle) in [
            ("text/plain", "name = 'France'"),
            ("text/html", "<td>France</td>"),
            ("application/vnd.ogc.gml", "<name>France</name>"),
        ] {
            let r = feature_info(&server, &format!("{query}&INFO_FORMAT={format}")).await;
            assert!(text(&r).contains(needle), "{format}: {}", text(&r));
        }
    }
    // The ocean: no feature.
    let ocean = feature_info(
        &server,
        &format!(
            "{}&INFO_FORMAT=application/json",
            v130.replace("I=182&J=43", "I=30&J=90")
        ),
    )
    .await
    .json();
    assert_eq!(ocean["features"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn feature_info_of_a_dem_is_its_value_under_the_pixel() {
    let server = TestServer::samples().await;
    let layer = "ign_mns_hydro_0299_L93_float32_deflate_pred3_cog";
    let bounds = server.bounds(layer).await;
    let (lon, lat) = ((bounds[0] + bounds[2]) / 2.0, (bounds[1] + bounds[3]) / 2.0);
    let d = 0.0005;
    let query = format!(
        "VERSION=1.3.0&LAYERS={layer}&QUERY_LAYERS={layer}&STYLES=&CRS=CRS:84\
         &BBOX={},{},{},{}&WIDTH=101&HEIGHT=101&I=50&J=50&INFO_FORMAT=application/json",
        lon - d,
        lat - d,
        lon + d,
        lat + d
    );
    let json = feature_info(&server, &query).await.json();
    let value = json["features"][0]["properties"]["band_1"]
        .as_f64()
        .unwrap_or_else(|| panic!("{json}"));
    // An elevation of the sample's area (Lambert-93 DEM, metres).
    assert!((-100.0..5000.0).contains(&value), "{value}");
}

#[tokio::test]
async fn each_bad_feature_info_parameter_gets_its_exception_code() {
    let server = TestServer::samples().await;
    let map = "VERSION=1.3.0&LAYERS=countries,leaf&STYLES=,&CRS=CRS:84&BBOX=-180,-90,180,90\
               &WIDTH=360&HEIGHT=180";
    for (change, code) in [
        ("QUERY_LAYERS=countries&I=400&J=10", "InvalidPoint"),
        ("QUERY_LAYERS=countries&I=-1&J=10", "InvalidPoint"),
        ("QUERY_LAYERS=countries&I=10", "MissingParameterValue"),
        ("QUERY_LAYERS=cog&I=1&J=1", "LayerNotDefined"),
        ("QUERY_LAYERS=leaf&I=1&J=1", "LayerNotQueryable"),
        (
            "QUERY_LAYERS=countries&I=1&J=1&INFO_FORMAT=image/png",
            "InvalidFormat",
        ),
        (
            "QUERY_LAYERS=countries&I=1&J=1&FEATURE_COUNT=0",
            "InvalidParameterValue",
        ),
    ] {
        let r = feature_info(&server, &format!("{map}&{change}")).await;
        assert_eq!(wms_exception_code(&r, "1.3.0"), code, "{change}");
    }
}

#[tokio::test]
async fn legends_are_images_of_the_layer_style() {
    let server = TestServer::samples().await;
    let server = &server;
    let legend = |query: &'static str| async move {
        server
            .get(&format!(
                "/wms?SERVICE=WMS&REQUEST=GetLegendGraphic&VERSION=1.3.0&{query}"
            ))
            .await
    };
    // Polygons: one 20 × 20 swatch; sizes as asked.
    let r = legend("LAYER=countries&FORMAT=image/png").await;
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(png_rgba(&r.body).len(), 20 * 20 * 4);
    let r = legend("LAYER=countries&FORMAT=image/png&WIDTH=30&HEIGHT=10&SCALE=5000").await;
    assert_eq!(png_rgba(&r.body).len(), 30 * 10 * 4);
    // A mixed-geometry table: a swatch per kind.
    let r = legend("LAYER=geometry2d").await;
    assert_eq!(png_rgba(&r.body).len(), 20 * 60 * 4, "{}", text(&r));
    // A raster: its thumbnail.
    let r = legend("LAYER=small_world_and_byte").await;
    assert!(opaque_share(&png_rgba(&r.body)) > 0.2);
    let r = legend("LAYER=nope").await;
    assert_eq!(wms_exception_code(&r, "1.3.0"), "LayerNotDefined");
    let r = legend("LAYER=countries&STYLE=fancy").await;
    assert_eq!(wms_exception_code(&r, "1.3.0"), "StyleNotDefined");
    let r = legend("LAYER=countries&WIDTH=99999").await;
    assert_eq!(wms_exception_code(&r, "1.3.0"), "InvalidParameterValue");
}

/// Archives of vector tiles are queried as their tiles hold them: a
/// feature without an MVT id is still named a feature, with its values.
#[tokio::test]
async fn feature_info_of_an_mvt_archive_reads_its_tiles() {
    let server = TestServer::samples().await;
    // Paris, (2.35° E, 48.85° N), on a 360 × 180 world map: pixel (182, 41).
    let r = feature_info(
        &server,
        "VERSION=1.3.0&LAYERS=world_cities&QUERY_LAYERS=world_cities&STYLES=&CRS=CRS:84\
         &BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&I=182&J=41&INFO_FORMAT=text/plain",
    )
    .await;
    let body = text(&r);
    assert!(body.contains("  Feature:\n    name = 'Paris'"), "{body}");
    let json = feature_info(
        &server,
        "VERSION=1.3.0&LAYERS=world_cities&QUERY_LAYERS=world_cities&STYLES=&CRS=CRS:84\
         &BBOX=-180,-90,180,90&WIDTH=360&HEIGHT=180&I=182&J=41&INFO_FORMAT=application/json",
    )
    .await
    .json();
    let point = &json["features"][0]["geometry"]["coordinates"];
    let (lon, lat) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
    // Where the z0–z1 tile's 4096 units put it: within a few km.
    assert!(
        (lon - 2.35).abs() < 0.2 && (lat - 48.85).abs() < 0.2,
        "{json}"
    );
}
