//! GeoTIFF layers served as XYZ tiles: warped, encoded, and the same pixels
//! as gdalwarp's tile (tests/fixtures/warp/) and as the engine's own warp.

use hyper::{Method, StatusCode};
use tuilerie_tests::{capture_logs, fixture, png_rgba, sample, TestServer};

/// Pixels whose transparency differs, or, opaque in both, whose channels
/// differ by more than one level.
fn differing_pixels(ours: &[u8], theirs: &[u8]) -> usize {
    ours.chunks_exact(4)
        .zip(theirs.chunks_exact(4))
        .filter(|(a, b)| {
            (a[3] == 0) != (b[3] == 0)
                || (a[3] > 0 && a.iter().zip(b.iter()).any(|(p, q)| p.abs_diff(*q) > 1))
        })
        .count()
}

/// The WebMercatorQuad tile (column, row) at zoom `z` holding a WGS 84 point.
fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let row = (1.0 - lat.to_radians().tan().asinh() / std::f64::consts::PI) / 2.0 * n;
    (((lon + 180.0) / 360.0 * n) as u32, row as u32)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_webmercator_tile_equals_gdalwarps_within_tolerance() {
    let server = TestServer::start("", &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
    let r = server.get("/usda_naip_256_lzw_z3/18/42710/97342.png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert!(r.header("etag").is_some());
    let ours = png_rgba(&r.body);
    assert!(
        ours.chunks_exact(4).any(|p| p[3] == 0),
        "the tile has transparent parts"
    );
    let gdal = png_rgba(
        &std::fs::read(fixture(
            "warp/usda_naip_256_lzw_z3_18_42710_97342_bilinear.png",
        ))
        .unwrap(),
    );
    let differing = differing_pixels(&ours, &gdal);
    assert!(
        differing as f64 / 65536.0 < 0.01,
        "{differing} pixels differ from gdalwarp's"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn raster_tiles_come_in_png_jpeg_and_webp() {
    let server = TestServer::start("", &[sample("cog/cog_rgb.tif")]).await;
    let tj = server.get("/cog_rgb").await.json();
    assert!(tj["tiles"][0]
        .as_str()
        .unwrap()
        .ends_with("/cog_rgb/{z}/{x}/{y}.png"));
    let tile = "/cog_rgb/18/54777/100229";
    for (ext, media_type) in [
        ("", "image/png"),
        (".png", "image/png"),
        (".jpg", "image/jpeg"),
        (".jpeg", "image/jpeg"),
        (".webp", "image/webp"),
    ] {
        let r = server.get(&format!("{tile}{ext}")).await;
        assert_eq!(r.status, StatusCode::OK, "{ext}");
        assert_eq!(r.header("content-type"), Some(media_type), "{ext}");
        assert!(r.body.len() > 100, "{ext}");
    }
    let r = server.get(&format!("{tile}.pbf")).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.error().contains(".png, .jpg or .webp"), "{}", r.error());
    // A tile far from the image: 404, not an empty render.
    assert_eq!(
        server.get("/cog_rgb/18/0/0.png").await.status,
        StatusCode::NOT_FOUND
    );
    // Conditional requests work as for stored tiles.
    let etag = server
        .get(&format!("{tile}.png"))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    let again = server
        .request(
            Method::GET,
            &format!("{tile}.png"),
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
}

#[tokio::test(flavor = "multi_thread")]
async fn tilejson_of_a_geotiff_gives_its_extent_and_native_zoom() {
    let server = TestServer::start("", &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
    let tj = server.get("/usda_naip_256_lzw_z3").await.json();
    // 0.597 m pixels: WebMercatorQuad zoom 18; GDAL's extent: lon -121.349..-121.344.
    assert_eq!(tj["maxzoom"], 18);
    let bounds: Vec<f64> = serde_json::from_value(tj["bounds"].clone()).unwrap();
    assert!(
        (bounds[0] + 121.3494873).abs() < 1e-6 && (bounds[2] + 121.3439941).abs() < 1e-6,
        "{bounds:?}"
    );
}

/// The 16-bit web.tif scaled 5088..37037 to 0..255.
const WEB16: &str = r#"
    [[layers]]
    id = "web16"
    path = "@SAMPLES@/cog/web.tif"
    rescale = [[5088, 37037]]
"#;

/// Asserts that fewer than 1 % of the pixels of the 256² PNG `ours` differ
/// from the reference `fixture` (see [`differing_pixels`]).
fn assert_like_reference(ours: &[u8], reference: &str) {
    let ours = png_rgba(ours);
    let theirs = png_rgba(&std::fs::read(fixture(reference)).unwrap());
    let differing = differing_pixels(&ours, &theirs);
    assert!(
        differing as f64 / 65536.0 < 0.01,
        "{differing} pixels differ from {reference}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_16_bit_layer_rescaled_as_configured_matches_gdal() {
    let server = TestServer::start(WEB16, &[]).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    let r = server.get("/web16/8/74/91.png").await;
    assert_eq!(r.status, StatusCode::OK);
    // gdalwarp -r bilinear -dstalpha, then gdal_translate -scale 5088 37037 0 255.
    assert_like_reference(&r.body, "warp/styled/web_8_74_91.png");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_coalesced_gnosis_tile_matches_gdal_and_both_its_columns_name_it() {
    let server = TestServer::start(WEB16, &[]).await;
    // GNOSISGlobalGrid (EPSG:4326, latitude first) level 8, row 125:
    // columns 296 and 297 are one tile, lon -75.9375..-75.234375.
    let r = server.get("/web16/GNOSISGlobalGrid/8/296/125.png").await;
    assert_eq!(r.status, StatusCode::OK);
    let other = server.get("/web16/GNOSISGlobalGrid/8/297/125.png").await;
    assert_eq!(other.body, r.body);
    assert_like_reference(&r.body, "warp/styled/web_gnosis_8_296_125.png");
    // Column 298 starts the next tile.
    let next = server.get("/web16/GNOSISGlobalGrid/8/298/125.png").await;
    assert_ne!(next.body, r.body);
    // WMTS 1.0 has no coalesced rows: the set is not offered there.
    let caps = server
        .get("/wmts?SERVICE=WMTS&REQUEST=GetCapabilities")
        .await;
    let caps = String::from_utf8_lossy(&caps.body);
    assert!(caps.contains("web16") && !caps.contains("GNOSISGlobalGrid"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cdb1_tile_of_a_negative_level_matches_gdal() {
    let server = TestServer::start(WEB16, &[]).await;
    // CDB1GlobalGrid level -2: one-degree tiles of 256 pixels from
    // (90°, -180°), latitude first; row 43, column 104 is lat 46..47,
    // lon -76..-75.
    let r = server.get("/web16/CDB1GlobalGrid/-2/104/43.png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_like_reference(&r.body, "warp/styled/web_cdb1_-2_104_43.png");
    let outside = server.get("/web16/CDB1GlobalGrid/-2/360/43.png").await;
    assert_eq!(outside.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread")]
async fn hillshade_of_a_lambert_93_dsm_matches_gdaldem() {
    let config = r#"
        [[layers]]
        id = "dsm"
        path = "@SAMPLES@/cog/ign_mns_hydro_0299_L93_float32_deflate_pred3_cog.tif"
        hillshade = true
    "#;
    let server = TestServer::start(config, &[]).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    let r = server.get("/dsm/15/16166/11364.png").await;
    assert_eq!(r.status, StatusCode::OK);
    let ours = png_rgba(&r.body);
    let gdal =
        png_rgba(&std::fs::read(fixture("warp/styled/ign_15_16166_11364_hillshade.png")).unwrap());
    // gdaldem marks the DSM's edges and nodata 0; compare where both shade,
    // away from the outline where neighbours differ.
    let (mut compared, mut off) = (0, 0);
    for y in 1..255 {
        for x in 1..255 {
            let i = (y * 256 + x) * 4;
            let interior = (-1i32..=1).all(|dy| {
                (-1i32..=1).all(|dx| {
                    ours[(((y as i32 + dy) * 256 + x as i32 + dx) * 4 + 3) as usize] == 255
                })
            });
            if interior && gdal[i] > 0 {
                compared += 1;
                if ours[i].abs_diff(gdal[i]) > 2 {
                    off += 1;
                }
            }
        }
    }
    assert!(
        compared > 10_000,
        "only {compared} shaded pixels to compare"
    );
    assert!(
        off as f64 / (compared as f64) < 0.02,
        "{off} of {compared} shaded pixels differ by > 2 levels"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unstyled_16_bit_layers_use_the_files_value_range_and_bad_styles_are_refused() {
    let config = r#"
        [[layers]]
        id = "viridis"
        path = "@SAMPLES@/cog/cog_int16.tif"
        colormap = "viridis"
        [[layers]]
        id = "bad"
        path = "@SAMPLES@/cog/cog.tif"
        colormap = "rainbow"
    "#;
    let server = TestServer::start(config, &[sample("cog/cog.tif")]).await;
    assert_eq!(server.failures.len(), 1);
    let message = server.failures[0].error.to_string();
    assert!(
        message.contains("rainbow") && message.contains("cog.tif"),
        "{message}"
    );
    let tj = server.get("/cog").await.json();
    let (lon, lat) = {
        let b: Vec<f64> = serde_json::from_value(tj["bounds"].clone()).unwrap();
        ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0)
    };
    let z = 8;
    let (x, y) = tile_of(lon, lat, z);
    for layer in ["cog", "viridis"] {
        let r = server.get(&format!("/{layer}/{z}/{x}/{y}.png")).await;
        assert_eq!(r.status, StatusCode::OK, "{layer}");
        let rgba = png_rgba(&r.body);
        let opaque: Vec<&[u8]> = rgba.chunks_exact(4).filter(|p| p[3] == 255).collect();
        assert!(
            opaque.len() > 1000,
            "{layer}: {} opaque pixels",
            opaque.len()
        );
        // Grey for the default style; viridis colours (never grey) otherwise.
        let grey = opaque
            .iter()
            .filter(|p| p[0] == p[1] && p[1] == p[2])
            .count();
        if layer == "cog" {
            assert_eq!(grey, opaque.len(), "{layer}");
        } else {
            assert!(grey * 10 < opaque.len(), "{layer}: {grey} grey pixels");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_in_other_tile_matrix_sets_match_gdalwarp() {
    let server = TestServer::start("", &[sample("cog/cog_uint8_rgb_nodata.tif")]).await;
    // WorldCRS84Quad z7 column 128 row 64: lon 0..1.40625, lat -1.40625..0.
    let r = server
        .get("/cog_uint8_rgb_nodata/WorldCRS84Quad/7/128/64.png")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let ours = png_rgba(&r.body);
    let gdal = png_rgba(
        &std::fs::read(fixture(
            "warp/crs84/cog_uint8_rgb_nodata_7_128_64_bilinear.png",
        ))
        .unwrap(),
    );
    let differing = differing_pixels(&ours, &gdal);
    assert!(
        differing as f64 / 65536.0 < 0.01,
        "{differing} pixels differ from gdalwarp's"
    );
    assert!(ours.chunks_exact(4).any(|p| p[3] == 0) && ours.chunks_exact(4).any(|p| p[3] == 255));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_webmercatorquad_route_gives_the_xyz_tile() {
    let server = TestServer::start("", &[sample("cog/cog_rgb.tif"), sample("webp2.pmtiles")]).await;
    for (xyz, tms) in [
        (
            "/cog_rgb/18/54777/100229.png",
            "/cog_rgb/WebMercatorQuad/18/54777/100229.png",
        ),
        ("/webp2/1/1/0.webp", "/webp2/WebMercatorQuad/1/1/0.webp"),
    ] {
        let (a, b) = (server.get(xyz).await, server.get(tms).await);
        assert_eq!(
            (a.status, b.status),
            (StatusCode::OK, StatusCode::OK),
            "{tms}"
        );
        assert_eq!(a.body, b.body, "{tms}");
    }
    for (path, words) in [
        (
            "/cog_rgb/Nope/18/0/0.png",
            "tile matrix set \"Nope\" not found",
        ),
        (
            "/cog_rgb/LAMB93/99/0/0.png",
            "LAMB93 has no tile matrix \"99\"",
        ),
        ("/cog_rgb/LAMB93/0/5/0.png", "outside the LAMB93 matrix"),
        ("/cog_rgb/LAMB93/0/0/0.png", "outside layer"),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.error().contains(words), "{path}: {}", r.error());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_without_extension_follow_accept_and_empty_tiles_follow_the_config() {
    let path = "/usda_naip_256_lzw_z3/18/42710/97342";
    let server = TestServer::start("", &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
    let webp = server
        .request(Method::GET, path, &[("accept", "image/webp,*/*;q=0.8")])
        .await;
    assert_eq!(webp.header("content-type"), Some("image/webp"));
    assert_eq!(webp.header("vary"), Some("Accept"));
    let plain = server.get(path).await;
    assert_eq!(plain.header("content-type"), Some("image/png"));

    // Column 42708 lies inside the extent but the file is transparent there.
    let empty = "/usda_naip_256_lzw_z3/18/42708/97342.png";
    let r = server.get(empty).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(png_rgba(&r.body).chunks_exact(4).all(|p| p[3] == 0));
    for (setting, status) in [
        ("no-content", StatusCode::NO_CONTENT),
        ("not-found", StatusCode::NOT_FOUND),
    ] {
        let config = format!("empty_raster_tiles = \"{setting}\"");
        let server = TestServer::start(&config, &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
        assert_eq!(server.get(empty).await.status, status, "{setting}");
        assert_eq!(server.get(path).await.status, StatusCode::OK, "{setting}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn jpeg_quality_is_configurable() {
    let tile = "/usda_naip_256_lzw_z3/18/42710/97342.jpg";
    let mut sizes = Vec::new();
    for quality in [20, 95] {
        let config = format!("jpeg_quality = {quality}");
        let server = TestServer::start(&config, &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
        let r = server.get(tile).await;
        assert_eq!(r.header("content-type"), Some("image/jpeg"));
        sizes.push(r.body.len());
    }
    assert!(
        sizes[0] < sizes[1],
        "quality 20 gives {} bytes, 95 gives {}",
        sizes[0],
        sizes[1]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_tiles_keep_their_format_and_bytes_with_or_without_the_cache() {
    let tile = "/usda_naip_256_lzw_z3/18/42710/97342";
    let mut bodies = Vec::new();
    for config in ["", "tile_cache_mib = 0"] {
        let server = TestServer::start(config, &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
        for ext in ["png", "jpg", "png", "webp", "jpg"] {
            let r = server.get(&format!("{tile}.{ext}")).await;
            let expected = match ext {
                "png" => "image/png",
                "jpg" => "image/jpeg",
                _ => "image/webp",
            };
            assert_eq!(r.header("content-type"), Some(expected), "{config:?} {ext}");
            bodies.push(r.body);
        }
    }
    // Repeats answer the same bytes, cached or rendered again.
    assert_eq!(bodies[0], bodies[2]);
    assert_eq!(bodies[1], bodies[4]);
    assert_eq!(bodies[..5], bodies[5..]);
}

/// A web-optimized JPEG COG (tests/fixtures/make_web_jpeg_cog.sh: GDAL's
/// GoogleMapsCompatible tiling of RGB.byte.tif, 256² JPEG blocks at z9)
/// asked for a tile of its own grid: as JPEG, the stored block itself (its
/// pixels decode exactly as the block does, which a re-encoded tile's
/// would not); as PNG, the block's pixels copied without resampling.
#[tokio::test(flavor = "multi_thread")]
async fn a_web_optimized_jpeg_cog_serves_its_blocks_as_tiles() {
    use tuilerie_engine::source::cog::Cog;
    use tuilerie_engine::source::SourceContext;

    let file = fixture("web_jpeg_cog.tif");
    let server = TestServer::start("", std::slice::from_ref(&file)).await;
    let cog = Cog::open(&file, SourceContext::new(1 << 20)).unwrap();
    // Origin (-8844681.42, 2974317.64), 305.748 m cells: block (2, 1) of
    // the full resolution is z9 tile (143 + 2, 218 + 1).
    let block = cog.read_block(0, 2, 1).unwrap();
    let decode_jpeg = |bytes: &[u8]| {
        let options = zune_core::options::DecoderOptions::default()
            .jpeg_set_out_colorspace(zune_core::colorspace::ColorSpace::RGB);
        let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
            zune_core::bytestream::ZCursor::new(bytes),
            options,
        );
        decoder.decode().unwrap()
    };
    let jpeg = server.get("/web_jpeg_cog/9/145/219.jpg").await;
    assert_eq!(jpeg.status, StatusCode::OK);
    assert_eq!(decode_jpeg(&jpeg.body), block.data);
    // A tile off the grid (WorldCRS84Quad) is rendered, not a block.
    let other = server
        .get("/web_jpeg_cog/WorldCRS84Quad/8/145/92.jpg")
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_ne!(decode_jpeg(&other.body).len(), 0);
    let png = server.get("/web_jpeg_cog/9/145/219.png").await;
    let rgb: Vec<u8> = png_rgba(&png.body)
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    assert_eq!(rgb, block.data);
}

/// Issue 12: GDAL's JPEG-compressed RGBA GeoTIFFs (`-co COMPRESS=JPEG` on
/// an RGBA input: four components stored as they are, the fourth alpha)
/// answered 500 ("JPEG with 4 U8 samples"). Their tiles are gdalwarp's,
/// transparency included, nearest and bilinear.
#[tokio::test(flavor = "multi_thread")]
async fn an_rgba_jpeg_geotiff_serves_tiles_like_gdalwarps_issue_12() {
    let config = r#"
        [[layers]]
        id = "rgba_jpeg_near"
        path = "@SAMPLES@/cog/usda_naip_rgba_jpeg.tif"
        resampling = "near"
    "#;
    let server = TestServer::start(config, &[sample("cog/usda_naip_rgba_jpeg.tif")]).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    for (layer, reference) in [
        (
            "rgba_jpeg_near",
            "warp/usda_naip_rgba_jpeg_18_42712_97343_near.png",
        ),
        (
            "usda_naip_rgba_jpeg",
            "warp/usda_naip_rgba_jpeg_18_42712_97343_bilinear.png",
        ),
    ] {
        let r = server.get(&format!("/{layer}/18/42712/97343.png")).await;
        assert_eq!(r.status, StatusCode::OK, "{layer}");
        let rgba = png_rgba(&r.body);
        assert!(
            rgba.chunks_exact(4).any(|p| p[3] == 0) && rgba.chunks_exact(4).any(|p| p[3] == 255),
            "{layer}: transparent and opaque parts"
        );
        assert_like_reference(&r.body, reference);
    }
}

/// Issue 12: a float raster whose overviews hold no valid value (its few
/// valid pixels missed by nearest-neighbour overviews) was disabled ("the
/// file has no valid values to rescale"). Its default rescale now comes
/// from the coarsest level that has valid values, here the full
/// resolution: the tile holding its lowest and highest pixels is GDAL's,
/// scaled from GDAL's exact minimum and maximum.
#[tokio::test(flavor = "multi_thread")]
async fn a_sparse_float_geotiff_is_rescaled_from_the_level_holding_its_values_issue_12() {
    let config = r#"
        [[layers]]
        id = "sparse"
        path = "@SAMPLES@/cog/ign_mns_sparse_float32.tif"
        resampling = "near"
    "#;
    let server = TestServer::start(config, &[]).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    let r = server.get("/sparse/15/16165/11364.png").await;
    assert_eq!(r.status, StatusCode::OK);
    let ours = png_rgba(&r.body);
    let theirs = png_rgba(
        &std::fs::read(fixture("warp/styled/ign_sparse_15_16165_11364_near.png")).unwrap(),
    );
    let opaque = |tile: &[u8]| -> Vec<(usize, u8)> {
        tile.chunks_exact(4)
            .enumerate()
            .filter(|(_, p)| p[3] == 255)
            .map(|(i, p)| (i, p[0]))
            .collect()
    };
    let (ours, theirs) = (opaque(&ours), opaque(&theirs));
    // The lowest pixel black, the highest white, where GDAL puts them.
    assert!(
        theirs.iter().any(|p| p.1 == 0) && theirs.iter().any(|p| p.1 == 255),
        "{theirs:?}"
    );
    assert_eq!(ours, theirs);
}

/// Issue 12: a float raster with no valid value anywhere is served, its
/// tiles transparent, with a warning naming the file, not disabled.
#[tokio::test(flavor = "current_thread")]
async fn a_geotiff_with_no_valid_value_is_served_transparent_with_a_warning_issue_12() {
    let (_guard, logs) = capture_logs();
    let path = sample("cog/ign_mns_nodata_float32.tif");
    let server = TestServer::start("", std::slice::from_ref(&path)).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    let log = logs.text();
    let warning = log
        .lines()
        .find(|l| l.contains("no valid value to rescale"))
        .unwrap_or_else(|| panic!("no warning in {log}"));
    assert!(
        warning.contains("WARN") && warning.contains("ign_mns_nodata_float32.tif"),
        "{warning}"
    );
    let r = server
        .get("/ign_mns_nodata_float32/15/16165/11364.png")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(png_rgba(&r.body).chunks_exact(4).all(|p| p[3] == 0));
}

/// Issue 12: a GeoTIFF with one damaged block (its zlib header overwritten
/// after GDAL wrote it): the tiles needing that block fail with the status
/// of corrupt data, every other tile is served, and the log names the
/// file, level and block once however many requests hit it.
#[tokio::test(flavor = "current_thread")]
async fn a_corrupt_block_fails_only_its_tiles_and_is_logged_once_issue_12() {
    let (_guard, logs) = capture_logs();
    let server =
        TestServer::start("", &[sample("cog/cog_uint8_rgb_nodata_corrupt_block.tif")]).await;
    assert!(server.failures.is_empty(), "{:?}", server.failures);
    let tj = server
        .get("/cog_uint8_rgb_nodata_corrupt_block")
        .await
        .json();
    // Two zooms past the file's (one tile there): 4 × 4 blocks in ~ 5 × 5 tiles.
    let z = tj["maxzoom"].as_u64().unwrap() as u32 + 2;
    let b: Vec<f64> = serde_json::from_value(tj["bounds"].clone()).unwrap();
    let ((west, north), (east, south)) = (tile_of(b[0], b[3], z), tile_of(b[2], b[1], z));
    let (mut served, mut failed) = (0, 0);
    for _round in 0..2 {
        for y in north..=south {
            for x in west..=east {
                let r = server
                    .get(&format!(
                        "/cog_uint8_rgb_nodata_corrupt_block/{z}/{x}/{y}.png"
                    ))
                    .await;
                if r.status == StatusCode::OK {
                    assert!(png_rgba(&r.body).chunks_exact(4).any(|p| p[3] == 255));
                    served += 1;
                } else {
                    assert_eq!(r.status, StatusCode::INTERNAL_SERVER_ERROR);
                    assert!(!r.error().contains(".tif"), "no path to the client");
                    failed += 1;
                }
            }
        }
    }
    assert!(
        served > failed && failed >= 2,
        "{served} served, {failed} failed"
    );
    // The TileJSON's centre tile (what tests/clients/tilejson_client.py
    // asks for) is read from an overview, undamaged.
    let [lon, lat, zoom] = [0, 1, 2].map(|i| tj["center"][i].as_f64().unwrap());
    let (x, y) = tile_of(lon, lat, zoom as u32);
    let centre = format!("/cog_uint8_rgb_nodata_corrupt_block/{zoom}/{x}/{y}.png");
    assert_eq!(server.get(&centre).await.status, StatusCode::OK, "{centre}");
    let log = logs.text();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("request failed"))
        .collect();
    assert_eq!(lines.len(), 1, "{log}");
    assert!(
        lines[0].contains("cog_uint8_rgb_nodata_corrupt_block.tif")
            && lines[0].contains("level 0, block 1,1"),
        "{}",
        lines[0]
    );
}

/// Issue 12, part 0: a render past `render_timeout_ms` is abandoned and
/// answered 503 without Retry-After (the same render would time out
/// again; a full CPU pool's 503 has one), counted in the log; the layer
/// keeps serving once the deadline allows.
#[tokio::test]
async fn a_render_past_its_deadline_answers_503_and_is_counted() {
    let (_guard, logs) = capture_logs();
    let path = "/usda_naip_256_lzw_z3/18/42710/97342.png";
    let quick = TestServer::start(
        "render_timeout_ms = 1\ntile_cache_mib = 0",
        &[sample("cog/usda_naip_256_lzw_z3.tif")],
    )
    .await;
    for n in 1..=2 {
        let reply = quick.get(path).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(reply.header("retry-after").is_none());
        assert!(reply.error().contains("took longer than the server allows"));
        let log = logs.text();
        assert!(
            log.lines()
                .any(|l| l.contains("WARN") && l.contains(&format!("abandoned={n}"))),
            "{log}"
        );
    }
    let patient = TestServer::start("", &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
    assert_eq!(patient.get(path).await.status, StatusCode::OK);
}
