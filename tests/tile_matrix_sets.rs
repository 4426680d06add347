//! `/tileMatrixSets`: the registered sets and custom ones from the
//! configuration, in the OGC TMS 2.0 JSON encoding.

use hyper::StatusCode;
use tuilerie_tests::{fixture, TestServer};

#[tokio::test(flavor = "multi_thread")]
async fn the_list_links_every_registered_set() {
    let server = TestServer::start("", &[]).await;
    let r = server.get("/tileMatrixSets").await;
    assert_eq!(r.status, StatusCode::OK);
    let list = r.json();
    let sets = list["tileMatrixSets"].as_array().unwrap();
    let ids: Vec<&str> = sets.iter().map(|s| s["id"].as_str().unwrap()).collect();
    for id in [
        "WebMercatorQuad",
        "WorldCRS84Quad",
        "EuropeanETRS89_LAEAQuad",
        "UTM31WGS84Quad",
        "UPSArcticWGS84Quad",
        "UPSAntarcticWGS84Quad",
        "CanadianNAD83_LCC",
        "LAMB93",
        "GNOSISGlobalGrid",
        "CDB1GlobalGrid",
    ] {
        assert!(ids.contains(&id), "{id} missing from {ids:?}");
    }
    let wmq = sets.iter().find(|s| s["id"] == "WebMercatorQuad").unwrap();
    assert_eq!(
        wmq["links"][0]["href"],
        format!("http://{}/tileMatrixSets/WebMercatorQuad", server.addr).as_str()
    );
    assert_eq!(
        wmq["uri"],
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_set_is_served_in_the_tms_2_json_encoding() {
    let server = TestServer::start("", &[]).await;
    let tms = server.get("/tileMatrixSets/LAMB93").await.json();
    assert_eq!(tms["crs"], "http://www.opengis.net/def/crs/EPSG/0/2154");
    let z10 = &tms["tileMatrices"][10];
    assert_eq!(z10["id"], "10");
    assert_eq!(z10["cornerOfOrigin"], "topLeft");
    assert_eq!(z10["pointOfOrigin"], serde_json::json!([0.0, 12000000.0]));
    assert_eq!(
        (z10["matrixWidth"].as_u64(), z10["matrixHeight"].as_u64()),
        (Some(51), Some(232))
    );
    assert_eq!(
        server.get("/tileMatrixSets/Nope").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn custom_sets_from_the_config_are_served_as_given() {
    let path = fixture("tms/CustomLambert93.json");
    let config = format!("tile_matrix_sets = [{:?}]", path.display().to_string());
    let server = TestServer::start(&config, &[]).await;
    let served = server.get("/tileMatrixSets/CustomLambert93").await.json();
    let given: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    assert_eq!(served, given);
}

#[tokio::test(flavor = "multi_thread")]
async fn cdb1_global_grid_is_served_as_the_registry_defines_it() {
    let server = TestServer::start("", &[]).await;
    let served = server.get("/tileMatrixSets/CDB1GlobalGrid").await.json();
    let registry: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("tms/CDB1GlobalGrid.json")).unwrap())
            .unwrap();
    for key in ["id", "uri", "crs", "orderedAxes"] {
        assert_eq!(served[key], registry[key], "{key}");
    }
    let (ours, theirs) = (
        served["tileMatrices"].as_array().unwrap(),
        registry["tileMatrices"].as_array().unwrap(),
    );
    assert_eq!(ours.len(), theirs.len());
    for (m, r) in ours.iter().zip(theirs) {
        let id = &r["id"];
        assert_eq!(&m["id"], id);
        // Levels -10 to 21, tiles of 1 to 1024 pixels, matrices and
        // latitude zones exactly; the sizes as the registry prints them
        // (cell sizes to 4 significant digits from level 10 on).
        for key in [
            "cornerOfOrigin",
            "tileWidth",
            "tileHeight",
            "matrixWidth",
            "matrixHeight",
            "variableMatrixWidths",
        ] {
            assert_eq!(m[key], r[key], "{key} of matrix {id}");
        }
        for (key, tolerance) in [("scaleDenominator", 1e-12), ("cellSize", 1e-3)] {
            let (a, b) = (m[key].as_f64().unwrap(), r[key].as_f64().unwrap());
            assert!(
                (a - b).abs() <= tolerance * b,
                "{key} of matrix {id}: {a} vs {b}"
            );
        }
        let origin: Vec<f64> = serde_json::from_value(m["pointOfOrigin"].clone()).unwrap();
        assert_eq!(origin, [90.0, -180.0]);
    }
}
