//! Vector tiles made on the fly from the load run's GeoPackage
//! (`benches/gpkg/make_gpkg.py`: 200,000 polygons in EPSG:3857): a whole
//! tile at z12, z14 and z16, the encoder alone (features read beforehand)
//! and the feature query alone (SQLite, R-tree, blob and WKB decoding).
//! Skipped when the GeoPackage has not been built. Run with
//! `cargo bench -p tuilerie-benches --bench vector`.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use tuilerie_benches::{generated, map_1024x768, tile_bbox};
use tuilerie_engine::catalog::{vector_layer, Layer, LayerSource, TableSpec};
use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::map;
use tuilerie_engine::mvt::{encode_tile, LayerEncoder, MvtOptions, TileParams};
use tuilerie_engine::source::gpkg::{GeoPackage, Selection};
use tuilerie_engine::vector::{VectorLayer, MAX_FEATURES_PER_TILE};
use tuilerie_engine::Bbox;
use tuilerie_engine::TileFormat;

/// One tile of each zoom of the load run, in the middle of the data.
const TILES: [(u8, u32, u32); 3] = [(12, 2103, 1460), (14, 8413, 5841), (16, 33649, 23383)];

/// The load run's GeoPackage, open, and its `parcels` table as a vector
/// layer; `None` (said on stderr) when it has not been built.
fn parcels() -> Option<(PathBuf, Arc<GeoPackage>, VectorLayer)> {
    let path = generated("parcels.gpkg", "benches/gpkg/make_gpkg.py")?;
    let gpkg = Arc::new(GeoPackage::open(&path).unwrap());
    let spec = TableSpec {
        name: "parcels".into(),
        ..TableSpec::default()
    };
    let layer = vector_layer(&gpkg, &[spec], MvtOptions::default()).unwrap();
    Some((path, gpkg, layer))
}

fn vector_tiles(c: &mut Criterion) {
    let Some((_, gpkg, layer)) = parcels() else {
        return;
    };
    let table = &gpkg.feature_tables()[0];
    let fields: Vec<usize> = (0..table.fields.len()).collect();
    let mercator = Crs::shared(3857).unwrap();
    let mut group = c.benchmark_group("vector_parcels");
    group.sample_size(20);
    for (z, x, y) in TILES {
        let bbox = tile_bbox(z, x, y);
        let tile = Bbox::new(Arc::clone(&mercator), bbox).unwrap();
        group.bench_function(format!("tile_z{z}"), |b| {
            b.iter(|| black_box(layer.render(&tile, z, Deadline::NONE).unwrap()))
        });
        let features = gpkg
            .features(table, Some(bbox), &fields, None, MAX_FEATURES_PER_TILE)
            .unwrap();
        group.bench_function(format!("encode_z{z}"), |b| {
            b.iter(|| {
                let params = TileParams::new(bbox);
                let mut layer = LayerEncoder::new("parcels", &table.fields, &params);
                features.iter().for_each(|f| {
                    layer.add(f);
                });
                black_box(encode_tile(&[layer]))
            })
        });
        group.bench_function(format!("query_z{z}"), |b| {
            b.iter(|| {
                let mut n = 0;
                let selection = Selection {
                    bbox: Some(bbox),
                    fields: &fields,
                    max: MAX_FEATURES_PER_TILE,
                    ..Selection::default()
                };
                gpkg.for_each_feature(table, &selection, &mut |f| {
                    n += f.values.len();
                })
                .unwrap();
                black_box(n)
            })
        });
    }
    group.finish();
}

/// A WMS map of the parcels (issue 13 part 8): 1024 × 768 PNG at 4 m per
/// pixel in EPSG:3857 (about 12 000 polygons), drawn in the plain style
/// and encoded, through the engine's one map entry point.
fn parcels_map(c: &mut Criterion) {
    let Some((path, _, vector)) = parcels() else {
        return;
    };
    let layer = Layer {
        id: "parcels".into(),
        path,
        metadata: vector.metadata().clone(),
        source: LayerSource::Features(Arc::new(vector)),
    };
    // Lyon, lon 4.85, lat 45.76, in metres.
    let (x, y) = (539_900.0, 5_741_500.0);
    let request = map_1024x768(x, y, 4.0, TileFormat::Png);
    let mut group = c.benchmark_group("map_parcels");
    group.sample_size(10);
    group.bench_function("1024x768_png_4m", |b| {
        b.iter(|| black_box(map::render(&[&layer], &request).unwrap()))
    });
    group.bench_function("1024x768_image_4m", |b| {
        b.iter(|| black_box(map::image(&[&layer], &request).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, vector_tiles, parcels_map);
criterion_main!(benches);
