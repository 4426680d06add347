//! XYZ tiles, TileJSON and the catalog over HTTP, checked against what the
//! reference readers (Python `pmtiles`, Python `sqlite3`) find in the same
//! archives (`tests/fixtures/tiles.json`, recorded by `record_tiles.py`).

use hyper::{Method, StatusCode};
use tuilerie_tests::{fixture, reference, sample, sha256, TestServer};

fn zoom_of(zxy: &str) -> u8 {
    zxy.split('/')
        .next()
        .and_then(|z| z.parse().ok())
        .expect("z/x/y")
}

fn extension(format: &str) -> &'static str {
    match format {
        "mvt" | "pbf" => ".pbf",
        "png" => ".png",
        "webp" => ".webp",
        _ => "",
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_stored_tile_is_served_byte_for_byte_as_the_reference_reader_reads_it() {
    let server = TestServer::samples().await;
    let reference = reference();
    let mut checked = 0;
    for (layer, record) in reference.as_object().unwrap() {
        let ext = extension(record["format"].as_str().unwrap());
        for (zxy, tile) in record["tiles"].as_object().unwrap() {
            let path = format!("/{layer}/{zxy}{ext}");
            let gzipped = tile["gzip"].as_bool().unwrap();

            // A client that accepts gzip gets the stored bytes, untouched.
            let r = server
                .request(Method::GET, &path, &[("accept-encoding", "gzip, br")])
                .await;
            assert_eq!(r.status, StatusCode::OK, "{path}");
            assert_eq!(sha256(&r.body), tile["sha256"], "{path}");
            assert_eq!(
                r.header("content-encoding"),
                gzipped.then_some("gzip"),
                "{path}"
            );

            // One that does not gets them decoded.
            if gzipped {
                let r = server.get(&path).await;
                assert_eq!(r.status, StatusCode::OK, "{path}");
                assert_eq!(r.header("content-encoding"), None, "{path}");
                assert_eq!(sha256(&r.body), tile["decoded_sha256"], "{path}");
            }
            checked += 1;
        }
    }
    assert!(
        checked >= 400,
        "only {checked} tiles in the reference record"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_carry_their_media_type_and_the_url_extension_is_optional() {
    let server = TestServer::samples().await;
    for (path, media_type) in [
        ("/stamen_toner_raster_z3/2/1/1.png", "image/png"),
        ("/stamen_toner_raster_z3/2/1/1", "image/png"),
        ("/webp2/0/0/0.webp", "image/webp"),
        (
            "/protomaps_vector_firenze/0/0/0.pbf",
            "application/vnd.mapbox-vector-tile",
        ),
        (
            "/protomaps_vector_firenze/0/0/0.mvt",
            "application/vnd.mapbox-vector-tile",
        ),
        ("/world_cities/0/0/0", "application/vnd.mapbox-vector-tile"),
        ("/geography-class-png/1/1/0.png", "image/png"),
        ("/leaf/1/0/0", "application/octet-stream"),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::OK, "{path}");
        assert_eq!(r.header("content-type"), Some(media_type), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn mbtiles_rows_are_flipped_from_tms_to_xyz() {
    // geography-class z1: the northern tiles (y = 0) hold the Arctic, whose
    // stored row is 1. Byte equality with the reference (which flips rows
    // itself) is checked above; here the two rows must differ.
    let server = TestServer::samples().await;
    let north = server.get("/geography-class-png/1/0/0.png").await;
    let south = server.get("/geography-class-png/1/0/1.png").await;
    let reference = reference();
    let tiles = &reference["geography-class-png"]["tiles"];
    assert_eq!(sha256(&north.body), tiles["1/0/0"]["sha256"]);
    assert_ne!(north.body, south.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_vector_tile_is_204_and_a_missing_raster_tile_404() {
    let config = r#"
        [[layers]]
        id = "toner"
        path = "@SAMPLES@/stamen_toner_raster_z3.pmtiles"
        maxzoom = 5
    "#;
    let server = TestServer::start(config, &[sample("protomaps_vector_firenze.pmtiles")]).await;
    let reference = reference();
    for zxy in reference["protomaps_vector_firenze"]["absent"]
        .as_array()
        .unwrap()
    {
        let r = server
            .get(&format!(
                "/protomaps_vector_firenze/{}.pbf",
                zxy.as_str().unwrap()
            ))
            .await;
        assert_eq!(r.status, StatusCode::NO_CONTENT, "{zxy}");
        assert!(r.body.is_empty());
    }
    // z4 is inside the configured zooms but not in the archive.
    let r = server.get("/toner/4/3/3.png").await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(r.error().contains("no tile 4/3/3"), "{}", r.error());
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_vector_tiles_can_be_configured_as_200_with_an_empty_body() {
    let server = TestServer::start(
        "empty_vector_tiles = \"empty\"",
        &[sample("protomaps_vector_firenze.pmtiles")],
    )
    .await;
    let r = server.get("/protomaps_vector_firenze/1/0/0.pbf").await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.body.is_empty());
    assert_eq!(
        r.header("content-type"),
        Some("application/vnd.mapbox-vector-tile")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn etags_answer_if_none_match_with_304_per_representation() {
    let server = TestServer::samples().await;
    let path = "/protomaps_vector_firenze/10/544/373.pbf";
    let gz = [("accept-encoding", "gzip")];
    let first = server.request(Method::GET, path, &gz).await;
    let etag = first.header("etag").expect("etag").to_owned();
    assert_eq!(first.header("vary"), Some("Accept-Encoding"));

    let again = server
        .request(Method::GET, path, &[gz[0], ("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("etag"), Some(etag.as_str()));

    // The decoded representation has its own validator.
    let plain = server
        .request(Method::GET, path, &[("if-none-match", &etag)])
        .await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_ne!(plain.header("etag"), Some(etag.as_str()));

    // Another tile does not match.
    let other = server
        .request(
            Method::GET,
            "/protomaps_vector_firenze/0/0/0.pbf",
            &[gz[0], ("if-none-match", &etag)],
        )
        .await;
    assert_eq!(other.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn head_answers_like_get_without_a_body() {
    let server = TestServer::samples().await;
    let path = "/stamen_toner_raster_z3/3/4/2.png";
    let get = server.get(path).await;
    let head = server.request(Method::HEAD, path, &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(head.header("etag"), get.header("etag"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cache_control_and_cors_headers_follow_the_config() {
    let server = TestServer::samples().await;
    let r = server.get("/webp2/0/0/0.webp").await;
    assert_eq!(r.header("cache-control"), Some("public, max-age=3600"));
    assert_eq!(r.header("access-control-allow-origin"), Some("*"));

    let preflight = server
        .request(
            Method::OPTIONS,
            "/webp2/0/0/0.webp",
            &[
                ("origin", "https://map.example"),
                ("access-control-request-method", "GET"),
                ("access-control-request-headers", "if-none-match"),
            ],
        )
        .await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert!(preflight
        .header("access-control-allow-methods")
        .unwrap()
        .contains("GET"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("if-none-match")
    );

    let server = TestServer::start(
        "cache_control = \"no-cache\"\ncors = false",
        &[sample("webp2.pmtiles")],
    )
    .await;
    let r = server.get("/webp2/0/0/0.webp").await;
    assert_eq!(r.header("cache-control"), Some("no-cache"));
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test(flavor = "multi_thread")]
async fn tilejson_describes_a_vector_pmtiles_layer() {
    let server = TestServer::samples().await;
    let r = server.get("/protomaps_vector_firenze").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("application/json"));
    let tj = r.json();
    assert_eq!(tj["tilejson"], "3.0.0");
    let tiles = format!(
        "http://{}/protomaps_vector_firenze/{{z}}/{{x}}/{{y}}.pbf",
        server.addr
    );
    assert_eq!(tj["tiles"][0], tiles.as_str());
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 14);
    let bounds: Vec<f64> = serde_json::from_value(tj["bounds"].clone()).unwrap();
    // Florence.
    assert!(
        (bounds[0] - 11.154).abs() < 1e-3 && (bounds[3] - 43.8325).abs() < 1e-3,
        "{bounds:?}"
    );
    assert!(tj["attribution"]
        .as_str()
        .unwrap()
        .contains("OpenStreetMap"));
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert!(
        layers.contains(&"roads") && layers.contains(&"buildings"),
        "{layers:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn tilejson_of_mbtiles_reads_the_metadata_table_and_its_json() {
    let server = TestServer::samples().await;
    let tj = server.get("/world_cities").await.json();
    assert_eq!(tj["minzoom"], 0);
    assert_eq!(tj["maxzoom"], 6);
    // As `sqlite3 world_cities.mbtiles "select value from metadata where name = 'json'"` shows.
    assert_eq!(tj["vector_layers"][0]["id"], "cities");
    assert!(tj["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/world_cities/{z}/{x}/{y}.pbf"));

    let tj = server.get("/geography-class-png").await.json();
    assert_eq!(tj["name"], "Geography Class");
    assert!(tj["tiles"][0].as_str().unwrap().ends_with(".png"));
    assert!(tj.get("vector_layers").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn tilejson_urls_follow_proxy_headers() {
    let server = TestServer::samples().await;
    let r = server
        .request(
            Method::GET,
            "/webp2",
            &[
                ("forwarded", "proto=https;host=tiles.example.fr"),
                ("x-forwarded-prefix", "/tuiles"),
            ],
        )
        .await;
    assert_eq!(
        r.json()["tiles"][0],
        "https://tiles.example.fr/tuiles/webp2/{z}/{x}/{y}.webp"
    );
    let r = server
        .request(
            Method::GET,
            "/webp2",
            &[
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "geo.example"),
            ],
        )
        .await;
    assert_eq!(
        r.json()["tiles"][0],
        "https://geo.example/webp2/{z}/{x}/{y}.webp"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_layers_override_title_attribution_and_zooms() {
    let config = r#"
        public_url = "https://maps.example.org/base/"
        [[layers]]
        id = "toner"
        path = "@SAMPLES@/stamen_toner_raster_z3.pmtiles"
        title = "Toner"
        description = "Stamen Toner"
        attribution = "Map tiles by Stamen Design, under CC BY 3.0"
        minzoom = 1
        maxzoom = 2
    "#;
    let server = TestServer::start(config, &[]).await;
    let tj = server.get("/toner").await.json();
    assert_eq!(tj["name"], "Toner");
    assert_eq!(tj["description"], "Stamen Toner");
    assert_eq!(
        tj["attribution"],
        "Map tiles by Stamen Design, under CC BY 3.0"
    );
    assert_eq!(
        (tj["minzoom"].as_u64(), tj["maxzoom"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(
        tj["tiles"][0],
        "https://maps.example.org/base/toner/{z}/{x}/{y}.png"
    );
    assert_eq!(
        server.get("/toner/0/0/0.png").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        server.get("/toner/3/0/0.png").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(server.get("/toner/2/0/0.png").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_catalog_lists_every_layer_and_health_answers() {
    let server = TestServer::samples().await;
    let catalog = server.get("/catalog").await.json();
    let ids: Vec<&str> = catalog["tiles"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Every archive, every GeoTIFF (16-bit and float ones styled from
    // their value range) and every GeoPackage table GDAL lists, but for
    // those in NAD27 (EPSG:26711), whose datum shift needs grid files the
    // pure-Rust PROJ port does not have.
    let reference = reference();
    let archives = reference.as_object().unwrap().keys().cloned();
    let geotiffs = std::fs::read_dir(sample("cog")).unwrap().filter_map(|e| {
        let path = e.unwrap().path();
        let tiff = path.extension().is_some_and(|e| e == "tif" || e == "tiff");
        tiff.then(|| path.file_stem().unwrap().to_string_lossy().into_owned())
    });
    let gpkg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("gpkg.json")).unwrap()).unwrap();
    let tables = gpkg["samples"]
        .as_object()
        .unwrap()
        .values()
        .flat_map(|file| {
            ["feature_tables", "tile_pyramids"]
                .into_iter()
                .flat_map(|kind| {
                    file[kind]
                        .as_object()
                        .unwrap()
                        .iter()
                        .filter(|(_, t)| t["epsg"] != 26711 && t["srs"] != 26711)
                        .map(|(name, _)| name.clone())
                })
        });
    let mut expected: Vec<String> = archives.chain(geotiffs).chain(tables).collect();
    expected.sort_unstable();
    assert_eq!(ids, expected);
    assert_eq!(catalog["tiles"]["webp2"]["content_type"], "image/webp");
    let health = server.get("/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(&health.body[..], b"OK");
}

#[tokio::test(flavor = "multi_thread")]
async fn brotli_and_zstd_archives_pass_through_or_decode_to_the_same_vector_tiles() {
    // Built by tests/fixtures/make_codec_archives.py from world_cities.mbtiles.
    let server = TestServer::start("", &[fixture("codecs")]).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    let reference = reference();
    let tiles = reference["world_cities"]["tiles"].as_object().unwrap();
    for (layer, token) in [("world_cities_brotli", "br"), ("world_cities_zstd", "zstd")] {
        let tj = server.get(&format!("/{layer}")).await.json();
        assert_eq!(
            tj["vector_layers"][0]["id"], "cities",
            "{layer}: metadata decoded"
        );
        let mut checked = 0;
        let low_zooms = tiles.iter().filter(|(zxy, _)| zoom_of(zxy) <= 2);
        for (zxy, tile) in low_zooms {
            let path = format!("/{layer}/{zxy}.pbf");
            let plain = server.get(&path).await;
            assert_eq!(plain.status, StatusCode::OK, "{path}");
            assert_eq!(plain.header("content-encoding"), None);
            // The MVT bytes Python's gzip finds in the MBTiles tile.
            assert_eq!(sha256(&plain.body), tile["decoded_sha256"], "{path}");

            let encoded = server
                .request(
                    Method::GET,
                    &path,
                    &[("accept-encoding", &format!("gzip, {token}"))],
                )
                .await;
            assert_eq!(encoded.header("content-encoding"), Some(token), "{path}");
            assert_ne!(encoded.body, plain.body, "{path}");
            checked += 1;
        }
        assert_eq!(checked, 12, "{layer}"); // every tile of zooms 0-2
    }
}
