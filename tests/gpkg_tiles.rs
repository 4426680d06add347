//! GeoPackage layers over HTTP: tables as layers, vector tiles made on the
//! fly (composition, attribute selection, filters, gzip, empty tiles), tile
//! pyramids served as stored or rendered, and bad files that disable only
//! themselves. Geometry and attributes are checked against GDAL by
//! tests/clients/gpkg_client.py, which CI runs against the server.

use std::collections::BTreeSet;
use std::sync::Arc;

use hyper::StatusCode;
use tuilerie_engine::catalog::{vector_layer, TableSpec};
use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::mvt::MvtOptions;
use tuilerie_engine::source::gpkg::GeoPackage;
use tuilerie_engine::Bbox;
use tuilerie_tests::{fixture, gunzip, png_rgba, sample, TestServer};

/// One layer of a decoded MVT tile: its name, keys, feature ids, extent
/// and each feature's geometry commands.
#[derive(Debug, Default)]
struct MvtLayer {
    name: String,
    keys: Vec<String>,
    ids: Vec<u64>,
    extent: u64,
    geometries: Vec<Vec<u64>>,
}

/// The points of a geometry's commands (§4.3: MoveTo 1 and LineTo 2 carry
/// zigzag deltas from a cursor; ClosePath 7 carries none).
fn points(commands: &[u64]) -> Vec<(i64, i64)> {
    let unzigzag = |v: u64| (v >> 1) as i64 ^ -((v & 1) as i64);
    let (mut i, mut cursor, mut out) = (0, (0, 0), Vec::new());
    while i < commands.len() {
        let (id, count) = (commands[i] & 7, commands[i] >> 3);
        i += 1;
        if id == 1 || id == 2 {
            for _ in 0..count {
                cursor = (
                    cursor.0 + unzigzag(commands[i]),
                    cursor.1 + unzigzag(commands[i + 1]),
                );
                out.push(cursor);
                i += 2;
            }
        }
    }
    out
}

/// The protobuf varint at the start of `data`, which moves past it.
fn varint(data: &mut &[u8]) -> u64 {
    let mut value = 0;
    for shift in (0..64).step_by(7) {
        let byte = data[0];
        *data = &data[1..];
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            break;
        }
    }
    value
}

/// Protobuf fields of `data` (MVT 2.1 uses varints and length-delimited
/// fields only): (field number, varint or bytes).
fn fields(mut data: &[u8]) -> Vec<(u64, Result<u64, &[u8]>)> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let key = varint(&mut data);
        match key & 7 {
            0 => out.push((key >> 3, Ok(varint(&mut data)))),
            2 => {
                let len = varint(&mut data) as usize;
                out.push((key >> 3, Err(&data[..len])));
                data = &data[len..];
            }
            wire => panic!("wire type {wire} in an MVT tile"),
        }
    }
    out
}

/// The layers of an MVT tile (§4.1: layers are field 3 of the tile; name
/// 1, features 2, keys 3 of a layer; id 1 of a feature).
fn mvt_layers(tile: &[u8]) -> Vec<MvtLayer> {
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
    fields(tile)
        .into_iter()
        .filter(|(n, _)| *n == 3)
        .map(|(_, layer)| {
            let mut out = MvtLayer::default();
            for (n, v) in fields(layer.unwrap_err()) {
                match (n, v) {
                    (1, Err(name)) => out.name = text(name),
                    (3, Err(key)) => out.keys.push(text(key)),
                    (5, Ok(extent)) => out.extent = extent,
                    (2, Err(feature)) => {
                        for (n, v) in fields(feature) {
                            match (n, v) {
                                (1, Ok(id)) => out.ids.push(id),
                                (4, Err(packed)) => out.geometries.push(fields_packed(packed)),
                                _ => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
            out
        })
        .collect()
}

/// The varints of a packed field.
fn fields_packed(mut data: &[u8]) -> Vec<u64> {
    let mut out = Vec::new();
    while !data.is_empty() {
        out.push(varint(&mut data));
    }
    out
}

/// Ids of the fires the SQL `condition` selects, read with SQLite itself.
fn fire_ids(condition: &str) -> BTreeSet<u64> {
    let db = rusqlite::Connection::open_with_flags(
        sample("gpkg/ynp_fires_1984_2022.gpkg"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut stmt = db
        .prepare(&format!("SELECT fid FROM mtbs_perims WHERE {condition}"))
        .unwrap();
    let ids = stmt.query_map([], |r| r.get::<_, i64>(0)).unwrap();
    ids.map(|id| id.unwrap() as u64).collect()
}

const CONFIG: &str = r#"
[[layers]]
id = "sample"
path = "@SAMPLES@/gpkg/gdal_sample_v1.2_spatial_index_extension.gpkg"
tables = [{ name = "point2d", fields = ["intfield", "strfield"] }, { name = "linestring2d" }]

[[layers]]
id = "fires"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims" }]

[[layers]]
id = "recent_fires"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims", fields = ["incid_name", "ig_year"], filter = "ig_year >= 2000" }]

[[layers]]
id = "fires_512"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims" }]
extent = 512
buffer = 0
simplify = 0

[[layers]]
id = "fires_unsimplified"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims" }]
simplify = 0

[[layers]]
id = "bad_extent"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims" }]
extent = 0

[[layers]]
id = "bad_filter"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims", filter = "no_such_column > 1" }]

[[layers]]
id = "bad_field"
path = "@SAMPLES@/gpkg/ynp_fires_1984_2022.gpkg"
tables = [{ name = "mtbs_perims", fields = ["no_such_field"] }]
"#;

/// The z5 tile holding all of Yellowstone.
const YNP: &str = "5/6/11.pbf";

#[tokio::test(flavor = "multi_thread")]
async fn every_table_of_a_geopackage_is_a_layer_with_its_fields_in_tilejson() {
    let server = TestServer::start("", &[sample("gpkg")]).await;
    let tilejson = server.get("/mtbs_perims").await.json();
    assert_eq!(
        tilejson["tiles"][0].as_str().unwrap().rsplit('.').next(),
        Some("pbf")
    );
    let layers = tilejson["vector_layers"].as_array().unwrap();
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0]["id"], "mtbs_perims");
    assert_eq!(layers[0]["fields"]["ig_year"], "Number");
    assert_eq!(layers[0]["fields"]["incid_name"], "String");
    let [w, s, e, n] = [0, 1, 2, 3].map(|i| tilejson["bounds"][i].as_f64().unwrap());
    assert!(
        w < -110.5 && e > -110.5 && s < 44.6 && n > 44.6,
        "{:?}",
        tilejson["bounds"]
    );
    // The pyramids are layers too, in their stored format.
    let pyramid = server.get("/TILESosmds").await.json();
    assert_eq!(
        pyramid["tiles"][0].as_str().unwrap().rsplit('.').next(),
        Some("png")
    );
    // Only the NAD27 tables (no datum grids in the pure-Rust PROJ) fail.
    let mut failed: Vec<&str> = server.failures.iter().map(|f| f.id.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(failed, ["byte_jpeg", "byte_png", "utm"]);
}

/// Clients asking for the same tile at once share one cut of it (see the
/// server's `single_flight`), gzip'd or not as its first client accepted:
/// every client gets the same tile, never gzip'd unless it accepts gzip,
/// with or without the rendered-tile cache.
#[tokio::test(flavor = "multi_thread")]
async fn concurrent_requests_for_one_tile_each_get_it_in_an_encoding_they_accept() {
    let path = format!("/mtbs_perims/{YNP}");
    for config in ["", "tile_cache_mib = 0"] {
        let server = TestServer::start(config, &[sample("gpkg")]).await;
        let gzip = [("accept-encoding", "gzip")];
        let get = |gzip_ok: bool| {
            let headers: &[(&str, &str)] = if gzip_ok { &gzip } else { &[] };
            server.request(hyper::Method::GET, &path, headers)
        };
        let (a, b, c, d, e, f) = tokio::join!(
            get(true),
            get(false),
            get(true),
            get(false),
            get(false),
            get(true)
        );
        let plain = server.get(&path).await.body;
        assert!(!plain.is_empty());
        let replies = [
            (a, true),
            (b, false),
            (c, true),
            (d, false),
            (e, false),
            (f, true),
        ];
        for (i, (r, gzip_ok)) in replies.into_iter().enumerate() {
            assert_eq!(r.status, StatusCode::OK, "{config:?} request {i}");
            let gzipped = r.header("content-encoding") == Some("gzip");
            assert!(gzip_ok || !gzipped, "{config:?} request {i}: gzip unasked");
            let body = if gzipped {
                gunzip(&r.body)
            } else {
                r.body.to_vec()
            };
            assert_eq!(body, plain, "{config:?} request {i}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vector_tiles_are_gzipped_when_accepted_and_absent_where_no_feature_is() {
    let server = TestServer::start("", &[sample("gpkg")]).await;
    let path = format!("/mtbs_perims/{YNP}");
    let gz = server
        .request(hyper::Method::GET, &path, &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert_eq!(
        gz.header("content-type"),
        Some("application/vnd.mapbox-vector-tile")
    );
    let plain = server.get(&path).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(gunzip(&gz.body), plain.body);
    let layers = mvt_layers(&plain.body);
    assert_eq!(layers.len(), 1);
    assert_eq!(layers[0].name, "mtbs_perims");
    assert!(layers[0].ids.len() > 40, "{} fires", layers[0].ids.len());
    // The other side of the world: no content.
    assert_eq!(
        server.get("/mtbs_perims/5/20/11.pbf").await.status,
        StatusCode::NO_CONTENT
    );
    // The same tile through the TMS route.
    let tms = server.get("/mtbs_perims/WebMercatorQuad/5/6/11").await;
    assert_eq!(tms.body, plain.body);
}

#[tokio::test(flavor = "multi_thread")]
async fn configured_tables_compose_one_tileset_with_their_fields_and_filters() {
    let server = TestServer::start(CONFIG, &[]).await;
    // A filter or a field the table does not have disables its layer only.
    let mut failed: Vec<&str> = server.failures.iter().map(|f| f.id.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(failed, ["bad_extent", "bad_field", "bad_filter"]);

    let tilejson = server.get("/sample").await.json();
    let layers = tilejson["vector_layers"].as_array().unwrap();
    let ids: Vec<&str> = layers.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["point2d", "linestring2d"]);
    let point_fields = layers[0]["fields"].as_object().unwrap();
    assert_eq!(
        point_fields.keys().collect::<Vec<_>>(),
        ["intfield", "strfield"]
    );
    let tile = gunzip(
        &server
            .request(
                hyper::Method::GET,
                "/sample/0/0/0.pbf",
                &[("accept-encoding", "gzip")],
            )
            .await
            .body,
    );
    let tile_layers = mvt_layers(&tile);
    let names: Vec<&str> = tile_layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["point2d", "linestring2d"]);
    assert!(tile_layers[0]
        .keys
        .iter()
        .all(|k| k == "intfield" || k == "strfield"));

    let all: BTreeSet<u64> = mvt_layers(&server.get(&format!("/fires/{YNP}")).await.body)[0]
        .ids
        .iter()
        .copied()
        .collect();
    let recent = mvt_layers(&server.get(&format!("/recent_fires/{YNP}")).await.body);
    let recent_ids: BTreeSet<u64> = recent[0].ids.iter().copied().collect();
    let expected: BTreeSet<u64> = all
        .intersection(&fire_ids("ig_year >= 2000"))
        .copied()
        .collect();
    assert!(!recent_ids.is_empty() && recent_ids.len() < all.len());
    assert_eq!(recent_ids, expected);
    let mut keys = recent[0].keys.clone();
    keys.sort_unstable();
    assert_eq!(keys, ["ig_year", "incid_name"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn extent_buffer_and_simplification_are_configurable() {
    let server = TestServer::start(CONFIG, &[]).await;
    let layer = |path: String| {
        let server = &server;
        async move { mvt_layers(&server.get(&path).await.body).remove(0) }
    };
    let all = |l: &MvtLayer| {
        l.geometries
            .iter()
            .flat_map(|g| points(g))
            .collect::<Vec<_>>()
    };
    // A z8 tile inside the park, fire perimeters across its edges.
    let (default, small) = (
        layer("/fires/8/49/92.pbf".into()).await,
        layer("/fires_512/8/49/92.pbf".into()).await,
    );
    assert_eq!((default.extent, small.extent), (4096, 512));
    // Without a buffer, features lying only in it are left out.
    assert!(!small.ids.is_empty() && small.ids.len() <= default.ids.len());
    assert!(small.ids.iter().all(|id| default.ids.contains(id)));
    // No buffer: clipped on the 512-unit tile's edges; the default tile
    // reaches into its 64-unit buffer.
    let inside = |&(x, y): &(i64, i64), hi| (0..=hi).contains(&x) && (0..=hi).contains(&y);
    let small_points = all(&small);
    assert!(small_points.iter().all(|p| inside(p, 512)));
    assert!(small_points
        .iter()
        .any(|&(x, y)| [x, y].iter().any(|v| *v == 0 || *v == 512)));
    assert!(all(&default).iter().any(|p| !inside(p, 4096)));
    // Without simplification, more vertices, and no polygon thinner than
    // the tolerance vanishes.
    let (simplified, unsimplified) = (
        layer(format!("/fires/{YNP}")).await,
        layer(format!("/fires_unsimplified/{YNP}")).await,
    );
    assert!(simplified
        .ids
        .iter()
        .all(|id| unsimplified.ids.contains(id)));
    let (before, after) = (all(&unsimplified).len(), all(&simplified).len());
    assert!(
        2 * before > 3 * after,
        "{before} vertices unsimplified, {after} simplified"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pyramid_is_served_as_stored_on_its_grid_and_rendered_elsewhere() {
    let server = TestServer::start("", &[sample("gpkg/rivers.gpkg")]).await;
    let db = rusqlite::Connection::open_with_flags(
        sample("gpkg/rivers.gpkg"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    // GeoPackage rows count from the top, as XYZ rows do.
    let stored: Vec<u8> = db
        .query_row(
            "SELECT tile_data FROM TILESosmds WHERE zoom_level = 2 AND tile_column = 1 AND tile_row = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let png = server.get("/TILESosmds/2/1/2.png").await;
    assert_eq!(png.status, StatusCode::OK);
    assert_eq!(png.body, stored);
    // Another format on the same grid, and another grid: rendered.
    let jpeg = server.get("/TILESosmds/2/1/2.jpg").await;
    assert_eq!(
        (jpeg.status, &jpeg.body[..3]),
        (StatusCode::OK, &b"\xff\xd8\xff"[..])
    );
    let crs84 = server.get("/TILESosmds/WorldCRS84Quad/1/1/0.png").await;
    assert_eq!(crs84.status, StatusCode::OK);
    let mut reader = png::Decoder::new(std::io::Cursor::new(&crs84.body[..]))
        .read_info()
        .unwrap();
    let mut pixels = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((info.width, info.height), (256, 256));
    // Beyond z3 the pyramid has no tiles: z4 is rendered from z3's.
    let deeper = server.get("/TILESosmds/4/2/5.png").await;
    assert_eq!(deeper.status, StatusCode::OK);
    assert_ne!(deeper.body, stored);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_geopackage_disables_itself_and_the_rest_keeps_serving() {
    let dir = std::env::temp_dir().join(format!("tuilerie-gpkg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // An MBTiles file under a .gpkg name, and a file that is not SQLite.
    std::fs::copy(sample("world_cities.mbtiles"), dir.join("not_a_gpkg.gpkg")).unwrap();
    std::fs::write(dir.join("garbage.gpkg"), b"this is not a database").unwrap();
    // A fire whose geometry blob is cut short.
    let corrupt = dir.join("corrupt.gpkg");
    std::fs::copy(sample("gpkg/ynp_fires_1984_2022.gpkg"), &corrupt).unwrap();
    let db = rusqlite::Connection::open(&corrupt).unwrap();
    for trigger in db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
    {
        db.execute(&format!("DROP TRIGGER \"{}\"", trigger.unwrap()), [])
            .unwrap();
    }
    db.execute(
        "UPDATE mtbs_perims SET geom = substr(geom, 1, 20) WHERE fid = 5",
        [],
    )
    .unwrap();
    drop(db);
    std::fs::copy(sample("gpkg/rivers.gpkg"), dir.join("rivers.gpkg")).unwrap();

    let server = TestServer::start("", std::slice::from_ref(&dir)).await;
    let mut failed: Vec<&str> = server.failures.iter().map(|f| f.id.as_str()).collect();
    failed.sort_unstable();
    assert_eq!(failed, ["garbage", "not_a_gpkg"]);
    // Issue 12: the corrupt fire is left out of the tiles it is in (the
    // log names the table and the feature, once); the rest of the file and
    // the other files keep serving.
    let broken = server.get(&format!("/mtbs_perims/{YNP}")).await;
    assert_eq!(broken.status, StatusCode::OK);
    let ids = &mvt_layers(&broken.body)[0].ids;
    assert!(!ids.contains(&5) && ids.len() > 40, "{ids:?}");
    assert_eq!(
        server.get("/mtbs_perims/5/20/11.pbf").await.status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        server.get("/TILESosmds/0/0/0.png").await.status,
        StatusCode::OK
    );
    assert_eq!(
        server.get("/FEATURESriversds/0/0/0.pbf").await.status,
        StatusCode::OK
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// small_world_and_byte (EPSG:4326, tiles only at z1, whose matrix covers
/// half of the set's bbox) warped into WebMercatorQuad z1 tiles, against
/// GDAL's GPKG raster driver + gdalwarp (tests/fixtures/record_warps.py).
#[tokio::test(flavor = "multi_thread")]
async fn a_pyramid_in_another_crs_is_warped_as_gdal_warps_it() {
    let server = TestServer::start("", &[sample("gpkg/small_world_and_byte.gpkg")]).await;
    for (x, y) in [(0, 0), (1, 1)] {
        let reply = server
            .get(&format!("/small_world_and_byte/1/{x}/{y}.png"))
            .await;
        assert_eq!(reply.status, StatusCode::OK);
        let ours = png_rgba(&reply.body);
        let reference = format!("warp/gpkg/small_world_and_byte_1_{x}_{y}_bilinear.png");
        let theirs = png_rgba(&std::fs::read(fixture(&reference)).unwrap());
        let (mut alpha, mut colour, mut opaque) = (0, 0, 0);
        for (a, b) in ours.chunks_exact(4).zip(theirs.chunks_exact(4)) {
            if (a[3] == 0) != (b[3] == 0) {
                alpha += 1;
            } else if a[3] > 0 {
                opaque += 1;
                colour += usize::from(a.iter().zip(b).any(|(p, q)| p.abs_diff(*q) > 1));
            }
        }
        assert!(opaque > 20_000, "{reference}: {opaque} opaque pixels");
        assert!(
            alpha <= 655,
            "{reference}: transparency differs on {alpha} pixels"
        );
        assert!(
            colour * 50 <= opaque,
            "{reference}: colour differs on {colour} of {opaque}"
        );
    }
}

/// The position of tile unit (`px`, `py`) of WebMercatorQuad tile
/// `z`/`x`/`y` (extent 4096) in longitude and latitude.
fn lon_lat(z: u8, x: u32, y: u32, (px, py): (i64, i64)) -> (f64, f64) {
    let n = f64::from(1u32 << z) * 4096.0;
    let (u, v) = (
        (f64::from(x) * 4096.0 + px as f64) / n,
        (f64::from(y) * 4096.0 + py as f64) / n,
    );
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * v)).sinh().atan();
    (u * 360.0 - 180.0, lat.to_degrees())
}

/// The ids of a table's features in the tiles `paths`, all answered 200.
async fn ids_in(server: &TestServer, table: &str, paths: &[&str]) -> BTreeSet<u64> {
    let mut ids = BTreeSet::new();
    for path in paths {
        let reply = server.get(&format!("/{table}/{path}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{table}/{path}");
        let layers = mvt_layers(&reply.body);
        assert_eq!(layers.len(), 1, "{table}/{path}");
        ids.extend(&layers[0].ids);
    }
    ids
}

/// Issue 12: curves_and_broken.gpkg (made by
/// tests/fixtures/make_curves_and_broken_gpkg.py). Every curve type GDAL
/// writes, in 2D, Z, M and ZM, is served in the tiles it touches; the
/// features of `broken` that cannot be decoded are left out of theirs and
/// the others served. GDAL's MVT driver reads the same tiles in
/// tests/clients/gpkg_client.py.
#[tokio::test(flavor = "multi_thread")]
async fn curves_are_served_and_undecodable_features_are_left_out_of_their_tiles() {
    let server = TestServer::start("", &[sample("gpkg/curves_and_broken.gpkg")]).await;
    assert!(server.failures.is_empty());
    // The data straddles the edge between rows 351 and 352 of z10.
    let z10 = ["10/518/351.pbf", "10/518/352.pbf"];
    let curves = ids_in(&server, "curves", &z10).await;
    assert_eq!(curves, (1..=15).collect());
    let broken = ids_in(&server, "broken", &z10[1..]).await;
    assert_eq!(broken, BTreeSet::from([1, 6, 8]));
    // Asked again (the log line is written once), the same.
    let again = ids_in(&server, "broken", &["10/518/352.pbf?again"]).await;
    assert_eq!(again, broken);
}

/// Issue 12: arcs are stroked for the tile's resolution. At z16 the
/// circle of `curves` feature 7 (centre 2.31° E 48.90° N, radius 0.01° in
/// the table's degrees) is 7,457 units wide: at GDAL's fixed 4° step its
/// chords would sag 4.5 units inside it. Every segment of the served ring
/// inside the tile keeps its middle within 2 units of the true circle:
/// stroking sags a quarter unit, simplification moves it by up to 1, and
/// rounding both ends moves the middle by up to 0.71 (measured in
/// longitude units, which are the tile's along the radius here).
#[tokio::test(flavor = "multi_thread")]
async fn arcs_are_stroked_finely_enough_for_the_tile_they_are_in() {
    let server = TestServer::start("", &[sample("gpkg/curves_and_broken.gpkg")]).await;
    let (z, x, y) = (16, 33190, 22534);
    let reply = server.get(&format!("/curves/{z}/{x}/{y}.pbf")).await;
    assert_eq!(reply.status, StatusCode::OK);
    let layer = mvt_layers(&reply.body).remove(0);
    let seven = layer.ids.iter().position(|&id| id == 7).expect("feature 7");
    let ring = points(&layer.geometries[seven]);
    // A degree of longitude in tile units, here.
    let unit = 360.0 / (f64::from(1u32 << z) * 4096.0);
    let inside = |p: &(i64, i64)| (1..4096).contains(&p.0) && (1..4096).contains(&p.1);
    let mut checked = 0;
    for s in ring.windows(2).filter(|s| s.iter().all(inside)) {
        let middle = ((s[0].0 + s[1].0) / 2, (s[0].1 + s[1].1) / 2);
        let (lon, lat) = lon_lat(z, x, y, middle);
        let off = ((lon - 2.31).hypot(lat - 48.90) - 0.01).abs() / unit;
        assert!(
            off <= 2.0,
            "segment {s:?} has its middle {off:.2} units off the arc"
        );
        checked += 1;
    }
    assert!(checked >= 10, "{checked} segments of the arc in the tile");
}

/// Issue 12: Natural Earth's countries (EPSG:4326) in the tiles at the
/// east edge of WebMercatorQuad. Their buffered box reaches past 180°; the
/// transform gives those points back near −180°, and a min/max of the
/// outline then left out everything east of 160° at z1 (New Zealand,
/// 166.5°–178.5°). GDAL's MVT driver reads the same tiles in
/// tests/clients/gpkg_client.py.
#[tokio::test(flavor = "multi_thread")]
async fn countries_next_to_the_antimeridian_are_in_the_tiles_at_the_world_edge() {
    let server = TestServer::start("", &[sample("gpkg/ne_110m_countries.gpkg")]).await;
    let (fiji, new_zealand) = (54u64, 121u64);
    let db = rusqlite::Connection::open(sample("gpkg/ne_110m_countries.gpkg")).unwrap();
    let name = |fid: i64| -> String {
        db.query_row("SELECT name FROM countries WHERE fid = ?", [fid], |r| {
            r.get(0)
        })
        .unwrap()
    };
    assert_eq!(
        (name(54).as_str(), name(121).as_str()),
        ("Fiji", "New Zealand")
    );
    for path in ["1/1/1.pbf", "2/3/2.pbf", "3/7/4.pbf"] {
        let ids = ids_in(&server, "countries", &[path]).await;
        assert!(
            ids.contains(&fiji) && ids.contains(&new_zealand),
            "{path}: {ids:?}"
        );
    }
    // The far side of the antimeridian: New Zealand is not there.
    let west = ids_in(&server, "countries", &["1/0/1.pbf"]).await;
    assert!(
        !west.contains(&new_zealand) && west.contains(&fiji),
        "{west:?}"
    );
}

/// Issue 12, part 0: a vector tile's query stops at the render deadline
/// (checked every 256 rows read) and the tile is abandoned with a Timeout
/// error, which the server answers 503. The countries, copied four times
/// over (708 rows under the z0 tile), in a temporary copy.
#[test]
fn a_vector_tile_past_its_deadline_is_abandoned() {
    let dir = std::env::temp_dir().join(format!("tuilerie-deadline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("countries.gpkg");
    std::fs::copy(sample("gpkg/ne_110m_countries.gpkg"), &path).unwrap();
    let db = rusqlite::Connection::open(&path).unwrap();
    // GDAL's R-tree triggers call its own SQL functions: dropped, and the
    // copies' envelopes written by hand.
    let triggers: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for t in triggers {
        db.execute(&format!("DROP TRIGGER \"{t}\""), []).unwrap();
    }
    for n in [177, 354] {
        db.execute_batch(&format!(
            "INSERT INTO countries (geom, name, iso_a3) SELECT geom, name, iso_a3 FROM countries;
             INSERT INTO rtree_countries_geom
               SELECT id + {n}, minx, maxx, miny, maxy FROM rtree_countries_geom;"
        ))
        .unwrap();
    }
    drop(db);
    let gpkg = Arc::new(GeoPackage::open(&path).unwrap());
    let spec = TableSpec {
        name: "countries".into(),
        ..TableSpec::default()
    };
    let layer = vector_layer(&gpkg, &[spec], MvtOptions::default()).unwrap();
    const HALF: f64 = 20_037_508.342_789_244;
    let world = [-HALF, -HALF, HALF, HALF];
    assert!(!layer
        .render(
            &Bbox::new(Crs::shared(3857).unwrap(), world).unwrap(),
            0,
            Deadline::NONE
        )
        .unwrap()
        .is_empty());
    let late = Deadline::after(std::time::Duration::ZERO);
    let error = layer
        .render(
            &Bbox::new(Crs::shared(3857).unwrap(), world).unwrap(),
            0,
            late,
        )
        .unwrap_err();
    assert_eq!(error.kind(), tuilerie_engine::ErrorKind::Timeout, "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A pyramid whose grid is the world but whose tiles cover a city block
/// (denver: one z16 tile) is bounded by its tiles, not by its grid: WMS
/// capabilities and TileJSON say where the data is (issue 13).
#[tokio::test]
async fn a_pyramid_is_bounded_by_its_stored_tiles_not_its_grid() {
    let server = TestServer::start("", &[sample("gpkg/denver_tile.gpkg")]).await;
    let b = server.bounds("denver").await;
    // gpkg_contents' extent of the data, and a z16 tile's width around it.
    let data = [
        -104.852_550_154_91,
        39.644_539_385_085_4,
        -104.823_310_939_416,
        39.670_844_788_921_3,
    ];
    let tile = 360.0 / f64::from(1u32 << 16);
    for k in 0..2 {
        assert!(b[k] <= data[k] && data[k] - b[k] < tile, "{b:?}");
        assert!(
            b[k + 2] >= data[k + 2] && b[k + 2] - data[k + 2] < tile,
            "{b:?}"
        );
    }
}
