//! GeoTIFF layers served as XYZ tiles: warped, encoded, and the same pixels
//! as gdalwarp's tile (tests/fixtures/warp/) and as the engine's own warp.

use hyper::{Method, StatusCode};
use tuilerie_tests::{fixture, sample, TestServer};

fn decode_png(bytes: &[u8]) -> (png::ColorType, Vec<u8>) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (256, 256));
    (info.color_type, buf)
}

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

#[tokio::test(flavor = "multi_thread")]
async fn a_webmercator_tile_equals_gdalwarps_within_tolerance() {
    let server = TestServer::start("", &[sample("cog/usda_naip_256_lzw_z3.tif")]).await;
    let r = server.get("/usda_naip_256_lzw_z3/18/42710/97342.png").await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert!(r.header("etag").is_some());
    let (colour, ours) = decode_png(&r.body);
    assert_eq!(
        colour,
        png::ColorType::Rgba,
        "the tile has transparent parts"
    );
    let (_, gdal) = decode_png(
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

#[tokio::test(flavor = "multi_thread")]
async fn geotiffs_that_need_styling_are_disabled_with_the_reason() {
    let server =
        TestServer::start("", &[sample("cog/cog.tif"), sample("cog/rgba8_cog.tiff")]).await;
    assert_eq!(server.failures.len(), 1);
    let message = server.failures[0].error.to_string();
    assert!(
        message.contains("cog.tif") && message.contains("raster styling"),
        "{message}"
    );
    assert_eq!(server.get("/rgba8_cog").await.status, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_in_other_tile_matrix_sets_match_gdalwarp() {
    let server = TestServer::start("", &[sample("cog/cog_uint8_rgb_nodata.tif")]).await;
    // WorldCRS84Quad z7 column 128 row 64: lon 0..1.40625, lat -1.40625..0.
    let r = server
        .get("/cog_uint8_rgb_nodata/WorldCRS84Quad/7/128/64.png")
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let (_, ours) = decode_png(&r.body);
    let (_, gdal) = decode_png(
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
