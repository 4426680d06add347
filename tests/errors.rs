//! Every error path of the HTTP layer: the right status, a JSON message
//! that says what is wrong, and a server that keeps serving afterwards.

use hyper::{Method, StatusCode};
use tuilerie_tests::TestServer;

#[tokio::test(flavor = "multi_thread")]
async fn unknown_layers_and_routes_are_404_with_a_json_error() {
    let server = TestServer::samples().await;
    for (path, words) in [
        ("/nope", "layer \"nope\" not found"),
        ("/nope/0/0/0.pbf", "layer \"nope\" not found"),
        ("/", "no route"),
        ("/webp2/0/0", "no route"),
        ("/webp2/a/0/0/0/0", "no route"),
        ("/webp2/LAMB93/0/0/0", "stored in WebMercatorQuad only"),
        ("/catalog/extra", "no route"),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(r.header("content-type"), Some("application/json"), "{path}");
        assert!(r.error().contains(words), "{path}: {}", r.error());
        assert_eq!(r.json()["status"], 404);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn tiles_outside_the_zooms_or_the_matrix_are_404() {
    let server = TestServer::samples().await;
    for (path, words) in [
        ("/stamen_toner_raster_z3/4/0/0.png", "outside layer"),
        ("/world_cities/7/0/0.pbf", "outside layer"),
        (
            "/stamen_toner_raster_z3/2/4/0.png",
            "outside the 4×4 matrix",
        ),
        (
            "/stamen_toner_raster_z3/2/0/4.png",
            "outside the 4×4 matrix",
        ),
        ("/stamen_toner_raster_z3/31/0/0.png", "beyond the deepest"),
        ("/stamen_toner_raster_z3/255/0/0.png", "beyond the deepest"),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{path}");
        assert!(r.error().contains(words), "{path}: {}", r.error());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_coordinates_and_extensions_are_400() {
    let server = TestServer::samples().await;
    for (path, words) in [
        ("/webp2/a/0/0.webp", "zoom \"a\" is not a tile number"),
        ("/webp2/0/-1/0.webp", "column x \"-1\""),
        ("/webp2/0/0/+0.webp", "row y \"+0\""),
        ("/webp2/0/0/.webp", "row y \"\""),
        ("/webp2/0/0x0/0.webp", "column x"),
        ("/webp2/0/99999999999/0.webp", "not a tile number"),
        ("/webp2/0/4294967296/0.webp", "too large"),
        (
            "/webp2/0/0/0.png",
            "extension .png does not match (expected .webp)",
        ),
        ("/webp2/0/0/0.webp.exe", "extension .webp.exe"),
        ("/protomaps_vector_firenze/0/0/0.jpg", "expected .pbf"),
        ("/leaf/0/0/0.png", "expected none"),
    ] {
        let r = server.get(path).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(r.error().contains(words), "{path}: {}", r.error());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn other_methods_are_405_with_allow() {
    let server = TestServer::samples().await;
    for method in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
        let r = server
            .request(method.clone(), "/webp2/0/0/0.webp", &[])
            .await;
        assert_eq!(r.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn hostile_requests_get_an_error_and_the_server_keeps_serving() {
    let server = TestServer::samples().await;
    let long = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(200_000));
    let requests: Vec<Vec<u8>> = vec![
        b"GET /../../../etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /webp2/0/0/0%00.webp HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".to_vec(),
        b"NOT HTTP AT ALL\r\n\r\n".to_vec(),
        b"GET / HTTP/9.9\r\n\r\n".to_vec(),
        b"\x00\x01\x02\x03".to_vec(),
        long.into_bytes(),
    ];
    for request in &requests {
        let reply = server.raw(request).await;
        let status: u16 = reply
            .get(9..12)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                panic!(
                    "no status line for {:?}: {reply:?}",
                    String::from_utf8_lossy(&request[..request.len().min(40)])
                )
            });
        assert!(
            (400..500).contains(&status),
            "{status} for {:?}",
            String::from_utf8_lossy(&request[..40.min(request.len())])
        );
    }
    assert_eq!(server.get("/webp2/0/0/0.webp").await.status, StatusCode::OK);

    // A Host that is not text is ignored, not echoed.
    let reply = server
        .raw(b"GET /webp2 HTTP/1.1\r\nHost: \xff\xfe\r\nConnection: close\r\n\r\n")
        .await;
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(
        reply.contains(&format!("\"http://{}/webp2/", server.addr)),
        "{reply}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_host_headers_do_not_reach_the_tilejson() {
    let server = TestServer::samples().await;
    let r = server
        .request(
            Method::GET,
            "/webp2",
            &[
                ("x-forwarded-host", "evil.example/\"><script>"),
                ("x-forwarded-proto", "ftp"),
            ],
        )
        .await;
    let url = r.json()["tiles"][0].as_str().unwrap().to_owned();
    assert_eq!(
        url,
        format!("http://{}/webp2/{{z}}/{{x}}/{{y}}.webp", server.addr)
    );
}
