//! The layers of vector tile archives as feature sources (issue 13): the
//! features of real tiles of data-samples/ against what an independent
//! decoder (`mapbox-vector-tile`, recorded by
//! tests/fixtures/record_mvt_features.py) finds in them; the bound on the
//! tiles one query reads; the same features whatever the query's CRS;
//! gzip'd, uncompressed and damaged tiles in temporary MBTiles.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use geo_types::{Coord, Geometry};
use tuilerie_engine::crs::{Crs, Transform};
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::feature::{Feature, Value};
use tuilerie_engine::source::mvt_archive::{MvtArchiveLayer, MAX_TILES_PER_QUERY};
use tuilerie_engine::source::{open_archive, FeatureQuery, FeatureSource, SourceContext};
use tuilerie_engine::{Bbox, ErrorKind, TileArchive, TileCoord, TileSetMetadata};
use tuilerie_tests::{capture_logs, fixture, gunzip, sample};

/// Half the EPSG:3857 world, in metres.
const HALF_WORLD: f64 = 20_037_508.342_789_244;

fn archive(path: &Path) -> Arc<dyn TileArchive> {
    open_archive(path, &SourceContext::new(1 << 20)).expect("archive opens")
}

fn layers(path: &Path) -> Vec<MvtArchiveLayer> {
    MvtArchiveLayer::layers_at(archive(path), path).expect("an MVT archive")
}

/// The box of `coord` in EPSG:3857.
fn tile_box(coord: TileCoord) -> [f64; 4] {
    let size = 2.0 * HALF_WORLD / f64::from(1u32 << coord.z);
    let left = -HALF_WORLD + f64::from(coord.x) * size;
    let top = HALF_WORLD - f64::from(coord.y) * size;
    [left, top - size, left + size, top]
}

/// Half a pixel of zoom `z` drawn at 256 pixels a tile, in metres: the
/// tolerance of a map drawn at that zoom's scale.
fn tolerance_at(z: u8) -> f64 {
    0.5 * 2.0 * HALF_WORLD / (256.0 * f64::from(1u32 << z))
}

/// The features `source` gives for `coords` in EPSG:`epsg` at `tolerance`.
fn query(source: &dyn FeatureSource, epsg: u32, coords: [f64; 4], tolerance: f64) -> Vec<Feature> {
    let bbox = Bbox::new(Crs::shared(epsg).unwrap(), coords).unwrap();
    let query = FeatureQuery {
        bbox: &bbox,
        tolerance,
        max: 1_000_000,
        deadline: Deadline::NONE,
    };
    let mut out = Vec::new();
    source
        .features(&query, &mut |f| out.push(f.clone()))
        .expect("query answered");
    out
}

fn first_coord(geometry: &Geometry<f64>) -> Coord<f64> {
    match geometry {
        Geometry::Point(p) => p.0,
        Geometry::MultiPoint(m) => m.0[0].0,
        Geometry::LineString(l) => l.0[0],
        Geometry::MultiLineString(m) => m.0[0].0[0],
        Geometry::Polygon(p) => p.exterior().0[0],
        Geometry::MultiPolygon(m) => m.0[0].exterior().0[0],
        other => panic!("unexpected geometry {other:?}"),
    }
}

fn type_name(geometry: &Geometry<f64>) -> &'static str {
    match geometry {
        Geometry::Point(_) => "Point",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::LineString(_) => "LineString",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        _ => "other",
    }
}

/// A decoded value as the JSON the Python decoder wrote for it.
fn json(value: &Value) -> serde_json::Value {
    match value {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => (*b).into(),
        Value::Int(i) => (*i).into(),
        Value::Float(f) => (*f).into(),
        Value::String(s) => s.as_str().into(),
    }
}

#[test]
fn each_recorded_tile_gives_the_features_mapbox_vector_tile_decodes() {
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("mvt_features.json")).unwrap()).unwrap();
    let mut checked = 0;
    for (key, tile_layers) in record.as_object().unwrap() {
        let (file, z_x_y) = key.split_once(' ').unwrap();
        let [z, x, y] = <[u32; 3]>::try_from(
            z_x_y
                .split('/')
                .map(|n| n.parse().unwrap())
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let coord = TileCoord::new(z as u8, x, y).unwrap();
        let sources = layers(&sample(file));
        for source in &sources {
            let Some(expected) = tile_layers.get(source.name()) else {
                continue;
            };
            let what = format!("{key}, layer {}", source.name());
            let features = query(source, 3857, tile_box(coord), tolerance_at(coord.z));
            assert_eq!(
                features.len() as u64,
                expected["meeting"].as_u64().unwrap(),
                "{what}: features meeting the tile"
            );
            if z == 0 {
                // The box of three worlds: the buffer beyond the world's
                // edge too, so every feature of the tile.
                let all = query(
                    source,
                    3857,
                    [
                        -3.0 * HALF_WORLD,
                        -3.0 * HALF_WORLD,
                        3.0 * HALF_WORLD,
                        3.0 * HALF_WORLD,
                    ],
                    tolerance_at(0),
                );
                assert_eq!(
                    all.len() as u64,
                    expected["count"].as_u64().unwrap(),
                    "{what}: every feature"
                );
            }
            let first = &features[0];
            let reference = &expected["first"];
            // The reference decoder reports a feature without an id as id 0,
            // protobuf's default (test_fixture_1's feature has none).
            let id = reference["id"].as_u64().filter(|&id| id != 0);
            assert_eq!(first.id.filter(|&id| id != 0), id, "{what}: first id");
            assert_eq!(type_name(&first.geometry), reference["type"], "{what}");
            // Metres within 1e-6 relative of the reference's conversion.
            let c = first_coord(&first.geometry);
            let metres = &reference["metres"];
            for (got, want) in [(c.x, &metres[0]), (c.y, &metres[1])] {
                let want = want.as_f64().unwrap();
                assert!(
                    (got - want).abs() <= 1e-6 * want.abs().max(1.0),
                    "{what}: {got} m, reference {want} m"
                );
            }
            // Back in tile units: the reference's integers, exactly.
            let [left, _, _, top] = tile_box(coord);
            let unit =
                2.0 * HALF_WORLD / f64::from(1u32 << z) / expected["extent"].as_f64().unwrap();
            let units = [(c.x - left) / unit, (top - c.y) / unit];
            for (got, want) in units
                .iter()
                .zip(reference["tile_units"].as_array().unwrap())
            {
                assert!((got - got.round()).abs() < 1e-6, "{what}: {got}");
                assert_eq!(
                    got.round() as i64,
                    want.as_i64().unwrap(),
                    "{what}: tile units"
                );
            }
            // Declared fields by key name; missing ones are null.
            let properties = reference["properties"].as_object().unwrap();
            for (field, value) in source.fields().iter().zip(&first.values) {
                let want = properties.get(&field.name).cloned().unwrap_or_default();
                assert_eq!(json(value), want, "{what}: field {}", field.name);
            }
            checked += 1;
        }
    }
    // firenze z0: 3 layers, z14: 9 of its 10 (landuse is not in its
    // vector_layers); world_cities: 2 tiles; test_fixture_1: 1.
    assert_eq!(checked, 3 + 9 + 2 + 1);
}

/// An archive that counts the tiles asked of it.
struct Counting {
    inner: Arc<dyn TileArchive>,
    calls: AtomicUsize,
}

impl TileArchive for Counting {
    fn get_tile(&self, coord: TileCoord) -> tuilerie_engine::Result<Option<tuilerie_engine::Tile>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.inner.get_tile(coord)
    }

    fn metadata(&self) -> &TileSetMetadata {
        self.inner.metadata()
    }
}

#[test]
fn a_world_query_reads_at_most_256_tiles_whatever_its_resolution() {
    let path = sample("protomaps_vector_firenze.pmtiles");
    let world = [-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD];
    for (tolerance, most, least) in [
        // One metre a pixel would be zoom 14's 268 million tiles: zoom 4's
        // 256 are read instead.
        (
            0.5,
            MAX_TILES_PER_QUERY as usize,
            MAX_TILES_PER_QUERY as usize,
        ),
        // A 256-pixel world map: zoom 0, one tile.
        (tolerance_at(0), 1, 1),
    ] {
        let counting = Arc::new(Counting {
            inner: archive(&path),
            calls: AtomicUsize::new(0),
        });
        let sources = MvtArchiveLayer::layers_at(counting.clone(), &path).unwrap();
        let earth = sources.iter().find(|s| s.name() == "earth").unwrap();
        let features = query(earth, 3857, world, tolerance);
        let calls = counting.calls.load(Ordering::Relaxed);
        assert!(
            (least..=most).contains(&calls),
            "tolerance {tolerance}: {calls} tiles read"
        );
        assert!(!features.is_empty());
    }
}

#[test]
fn a_query_in_epsg_4326_gives_the_features_of_the_same_query_in_epsg_3857() {
    let wgs84 = Crs::shared(4326).unwrap();
    let mercator = Crs::shared(3857).unwrap();
    let degrees = [11.2, 43.75, 11.3, 43.8];
    let metres = Transform::new(&wgs84, &mercator)
        .bounds(&[(degrees[0], degrees[1]), (degrees[2], degrees[3])])
        .unwrap();
    // 25 m, half a pixel inside zoom 12's band; in degrees of longitude
    // (the narrower side's scale, as the source converts it).
    let tolerance = 25.0;
    let metres_per_degree = 2.0 * HALF_WORLD / 360.0;
    let mut total = 0;
    for source in &layers(&sample("protomaps_vector_firenze.pmtiles")) {
        let in_metres = query(source, 3857, metres, tolerance);
        let in_degrees = query(source, 4326, degrees, tolerance / metres_per_degree);
        let ids = |features: &[Feature]| {
            let mut ids: Vec<_> = features.iter().map(|f| f.id).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&in_metres), ids(&in_degrees), "layer {}", source.name());
        // The same points, in each CRS.
        for (m, d) in in_metres.iter().zip(&in_degrees) {
            let (c, mut p) = (first_coord(&m.geometry), [(0.0, 0.0)]);
            let g = first_coord(&d.geometry);
            p[0] = (g.x, g.y);
            Transform::new(&wgs84, &mercator).apply(&mut p);
            assert!(
                (p[0].0 - c.x).abs() < 1e-6 * c.x.abs().max(1.0),
                "{c:?} {p:?}"
            );
            assert!(
                (p[0].1 - c.y).abs() < 1e-6 * c.y.abs().max(1.0),
                "{c:?} {p:?}"
            );
        }
        total += in_metres.len();
    }
    assert!(total > 1000, "{total} features around Florence at zoom 12");
}

#[test]
fn past_the_feature_limit_or_the_deadline_a_query_fails_with_its_kind() {
    let sources = layers(&sample("protomaps_vector_firenze.pmtiles"));
    let buildings = sources.iter().find(|s| s.name() == "buildings").unwrap();
    let coord = TileCoord::new(14, 8704, 5972).unwrap();
    let bbox = Bbox::new(Crs::shared(3857).unwrap(), tile_box(coord)).unwrap();
    for (max, deadline, kind) in [
        (10, Deadline::NONE, ErrorKind::LimitExceeded),
        (
            1_000_000,
            Deadline::after(Duration::ZERO),
            ErrorKind::Timeout,
        ),
    ] {
        let query = FeatureQuery {
            bbox: &bbox,
            tolerance: tolerance_at(14),
            max,
            deadline,
        };
        let error = buildings.features(&query, &mut |_| {}).unwrap_err();
        assert_eq!(error.kind(), kind, "{error}");
        assert!(
            error.to_string().contains("buildings") || kind == ErrorKind::Timeout,
            "{error}"
        );
    }
}

#[test]
fn an_archive_of_other_tiles_is_not_a_feature_source() {
    let path = sample("leaf.pmtiles");
    let error = MvtArchiveLayer::layers_at(archive(&path), &path)
        .err()
        .expect("leaf.pmtiles holds no MVT");
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

/// A copy of world_cities.mbtiles down to zoom 1 in a temporary file,
/// `damage` applied to each tile (XYZ coordinate, stored bytes) first:
/// `None` leaves the tile out. `json` keeps the metadata's vector_layers.
fn world_cities_copy(
    name: &str,
    json: bool,
    damage: impl Fn(TileCoord, Vec<u8>) -> Option<Vec<u8>>,
) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tuilerie-mvt-archive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.mbtiles"));
    let _ = std::fs::remove_file(&path);
    let source = rusqlite::Connection::open(sample("world_cities.mbtiles")).unwrap();
    let copy = rusqlite::Connection::open(&path).unwrap();
    copy.execute_batch(
        "CREATE TABLE metadata (name text, value text);
         CREATE TABLE tiles (zoom_level integer, tile_column integer, tile_row integer, tile_data blob);",
    )
    .unwrap();
    let mut rows = source.prepare("SELECT name, value FROM metadata").unwrap();
    let metadata = rows
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap();
    for row in metadata {
        let (key, value) = row.unwrap();
        let value = if key == "maxzoom" { "1".into() } else { value };
        if json || key != "json" {
            copy.execute("INSERT INTO metadata VALUES (?1, ?2)", (key, value))
                .unwrap();
        }
    }
    let mut rows = source
        .prepare(
            "SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles WHERE zoom_level <= 1",
        )
        .unwrap();
    let tiles = rows
        .query_map([], |r| {
            Ok((
                r.get::<_, u8>(0)?,
                r.get::<_, u32>(1)?,
                r.get::<_, u32>(2)?,
                r.get::<_, Vec<u8>>(3)?,
            ))
        })
        .unwrap();
    for row in tiles {
        let (z, x, tms_row, data) = row.unwrap();
        let coord = TileCoord::new(z, x, (1 << z) - 1 - tms_row).unwrap();
        if let Some(data) = damage(coord, data) {
            copy.execute(
                "INSERT INTO tiles VALUES (?1, ?2, ?3, ?4)",
                (z, x, tms_row, data),
            )
            .unwrap();
        }
    }
    path
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

/// The (id, first coordinate) of each feature, sorted: features compared
/// across archives.
fn summary(features: &[Feature]) -> Vec<(Option<u64>, [i64; 2])> {
    let mut out: Vec<_> = features
        .iter()
        .map(|f| {
            let c = first_coord(&f.geometry);
            (
                f.id,
                [(c.x * 1e3).round() as i64, (c.y * 1e3).round() as i64],
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn uncompressed_tiles_read_as_their_gzip_originals() {
    let path = world_cities_copy("identity", true, |_, data| Some(gunzip(&data)));
    let original = sample("world_cities.mbtiles");
    for coord in [
        TileCoord::new(0, 0, 0).unwrap(),
        TileCoord::new(1, 1, 0).unwrap(),
    ] {
        let plain = query(
            &layers(&path)[0],
            3857,
            tile_box(coord),
            tolerance_at(coord.z),
        );
        let gzipped = query(
            &layers(&original)[0],
            3857,
            tile_box(coord),
            tolerance_at(coord.z),
        );
        assert!(!plain.is_empty());
        assert_eq!(plain, gzipped, "tile {coord}");
    }
}

#[test]
fn a_truncated_or_corrupt_tile_is_skipped_and_logged_once() {
    let truncated = TileCoord::new(1, 0, 1).unwrap();
    let garbage = TileCoord::new(1, 1, 1).unwrap();
    let damaged = world_cities_copy("damaged", true, |coord, data| {
        Some(if coord == truncated {
            data[..data.len() / 2].to_vec()
        } else if coord == garbage {
            // A valid gzip stream of bytes that are no protobuf: a layer
            // field (3) whose length runs past the end.
            gzip(&[0x1a, 0x7f, 0x0a])
        } else {
            data
        })
    });
    let without = world_cities_copy("without", true, |coord, data| {
        (coord != truncated && coord != garbage).then_some(data)
    });
    let world = [-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD];
    let (_guard, logs) = capture_logs();
    let cities = &layers(&damaged)[0];
    let first = query(cities, 3857, world, tolerance_at(1));
    let again = query(cities, 3857, world, tolerance_at(1));
    let expected = query(&layers(&without)[0], 3857, world, tolerance_at(1));
    assert!(!expected.is_empty());
    assert_eq!(summary(&first), summary(&expected));
    assert_eq!(first, again);
    let text = logs.text();
    for coord in [truncated, garbage] {
        let lines = text
            .lines()
            .filter(|l| l.contains(&format!("tile {coord}")))
            .count();
        assert_eq!(lines, 1, "tile {coord} logged once:\n{text}");
    }
}

#[test]
fn an_archive_without_vector_layers_lists_the_layers_of_its_first_tile() {
    let path = world_cities_copy("no-vector-layers", false, |_, data| Some(data));
    let sources = layers(&path);
    let names: Vec<_> = sources.iter().map(|s| s.name()).collect();
    assert_eq!(names, ["cities"]);
    let fields: BTreeMap<_, _> = sources[0]
        .fields()
        .iter()
        .map(|f| (f.name.as_str(), f.field_type))
        .collect();
    assert_eq!(
        fields,
        BTreeMap::from([("name", tuilerie_engine::feature::FieldType::Text)])
    );
    let features = query(
        &sources[0],
        3857,
        tile_box(TileCoord::new(0, 0, 0).unwrap()),
        tolerance_at(0),
    );
    assert_eq!(features.len(), 68);
}
