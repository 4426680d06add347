//! Hostile archives: each must fail with a clear error, never panic or hang,
//! and must not stop the other layers from being served.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tuilerie_engine::source::{open_archive, SourceContext};
use tuilerie_engine::{ErrorKind, TileCoord};
use tuilerie_tests::{hostile, reference, sample, TestServer, XorShift};

#[test]
fn every_file_of_the_hostile_corpus_fails_to_open_with_a_message_naming_it() {
    let ctx = SourceContext::new(1 << 20);
    let cases = [
        ("empty.pmtiles", ErrorKind::Corrupt, "not a PMTiles archive"),
        (
            "invalid.pmtiles",
            ErrorKind::Corrupt,
            "not a PMTiles archive",
        ),
        (
            "world_cities_v2.pmtiles",
            ErrorKind::Unsupported,
            "PMTiles v2",
        ),
        ("empty.mbtiles", ErrorKind::Corrupt, "no readable tiles"),
        ("not_sqlite.mbtiles", ErrorKind::Corrupt, "not a database"),
        (
            "no_tiles_table.mbtiles",
            ErrorKind::Corrupt,
            "no such table: tiles",
        ),
        (
            "tiles_wrong_columns.mbtiles",
            ErrorKind::Corrupt,
            "no readable tiles",
        ),
    ];
    for (name, kind, words) in cases {
        let err = match open_archive(&hostile(name), &ctx) {
            Ok(_) => panic!("{name} opened"),
            Err(e) => e,
        };
        let message = err.to_string();
        assert_eq!(err.kind(), kind, "{name}: {message}");
        assert!(message.contains(name), "{name}: {message}");
        assert!(message.contains(words), "{name}: {message}");
    }
}

/// Opens `bytes` as an archive and reads every tile the reference knows of
/// `layer`: any result is fine but a panic, and it must end quickly.
fn read_everything(dir: &Path, name: &str, bytes: &[u8], coords: &[TileCoord]) {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let ctx = SourceContext::new(1 << 20);
    if let Ok(archive) = open_archive(&path, &ctx) {
        for &c in coords {
            let _ = archive.get_tile(c);
        }
    }
}

fn coords_of(layer: &str) -> Vec<TileCoord> {
    let reference = reference();
    let record = &reference[layer];
    let known = record["tiles"].as_object().unwrap().keys();
    let absent = record["absent"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap());
    known
        .map(String::as_str)
        .chain(absent)
        .map(|zxy| {
            let n: Vec<u32> = zxy.split('/').map(|n| n.parse().unwrap()).collect();
            TileCoord::new(n[0] as u8, n[1], n[2]).unwrap()
        })
        .collect()
}

#[test]
fn truncated_and_bit_flipped_pmtiles_never_panic() {
    let dir = std::env::temp_dir().join(format!("tuilerie-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let started = Instant::now();
    for layer in ["leaf", "test_fixture_1", "stamen_toner_raster_z3"] {
        let original = std::fs::read(sample(&format!("{layer}.pmtiles"))).unwrap();
        let coords = coords_of(layer);
        let name = format!("{layer}.pmtiles");
        // Every truncation of the header and root directory.
        for len in 0..original.len().min(600) {
            read_everything(&dir, &name, &original[..len], &coords);
        }
        // Random byte changes, concentrated where the structures are.
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..400 {
            let mut bytes = original.clone();
            for _ in 0..1 + rng.next_u64() % 4 {
                let at = (rng.next_u64() as usize) % bytes.len().min(2048);
                bytes[at] = rng.next_u64() as u8;
            }
            read_everything(&dir, &name, &bytes, &coords);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    // A hang would show as minutes; this is a guard, not a benchmark.
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_files_disable_their_layer_and_the_others_keep_serving() {
    let hostile_dir: PathBuf = hostile("");
    let server = TestServer::start("", &[hostile_dir, sample("webp2.pmtiles")]).await;
    assert_eq!(server.failures.len(), 7, "{:?}", server.failures);
    for failure in &server.failures {
        assert!(!failure.error.to_string().is_empty());
    }
    let catalog = server.get("/catalog").await.json();
    let ids: Vec<&String> = catalog["tiles"].as_object().unwrap().keys().collect();
    assert_eq!(ids, ["webp2"]);
    assert_eq!(server.get("/webp2/1/1/1.webp").await.status, 200);
    assert_eq!(server.get("/invalid/0/0/0").await.status, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_path_is_reported_and_does_not_stop_the_server() {
    let server = TestServer::start(
        "",
        &[sample("does-not-exist.pmtiles"), sample("webp2.pmtiles")],
    )
    .await;
    assert_eq!(server.failures.len(), 1);
    assert!(server.failures[0]
        .error
        .to_string()
        .contains("does-not-exist.pmtiles"));
    assert_eq!(server.get("/webp2/0/0/0.webp").await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_zooms_that_leave_nothing_to_serve_disable_the_layer() {
    let config = r#"
        [[layers]]
        id = "toner"
        path = "@SAMPLES@/stamen_toner_raster_z3.pmtiles"
        minzoom = 10
    "#;
    let server = TestServer::start(config, &[sample("webp2.pmtiles")]).await;
    assert_eq!(server.failures.len(), 1);
    let message = server.failures[0].error.to_string();
    assert!(
        message.contains("minzoom 10 is above maxzoom 3"),
        "{message}"
    );
    assert_eq!(server.get("/toner").await.status, 404);
    assert_eq!(server.get("/webp2/0/0/0.webp").await.status, 200);
}
