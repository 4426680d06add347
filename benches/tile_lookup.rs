//! Tile lookup: from a coordinate to the stored bytes, per archive format.
//! Run with `cargo bench -p tuilerie-benches`; figures in benches/README.md.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use tuilerie_benches::sample;
use tuilerie_engine::source::pmtiles::tile_id;
use tuilerie_engine::source::{open_archive, SourceContext, DEFAULT_DIRECTORY_CACHE_BYTES};
use tuilerie_engine::{TileArchive, TileCoord};

/// Every tile of zooms `minzoom..=maxzoom` that the archive holds.
fn stored_coords(archive: &dyn TileArchive, maxzoom: u8) -> Vec<TileCoord> {
    let meta = archive.metadata();
    let mut coords = Vec::new();
    for z in meta.minzoom..=meta.maxzoom.min(maxzoom) {
        for x in 0..1u32 << z {
            for y in 0..1u32 << z {
                let c = TileCoord::new(z, x, y).expect("inside the matrix");
                if matches!(archive.get_tile(c), Ok(Some(_))) {
                    coords.push(c);
                }
            }
        }
    }
    coords
}

fn lookup(c: &mut Criterion) {
    let ctx = SourceContext::new(DEFAULT_DIRECTORY_CACHE_BYTES);
    let mut group = c.benchmark_group("get_tile");
    for (name, maxzoom) in [
        ("stamen_toner_raster_z3.pmtiles", 3),
        ("leaf.pmtiles", 1),
        ("world_cities.mbtiles", 5),
    ] {
        let archive = open_archive(&sample(name), &ctx).expect("sample archive");
        let coords = stored_coords(archive.as_ref(), maxzoom);
        assert!(!coords.is_empty(), "{name} has no tiles");
        group.throughput(Throughput::Elements(coords.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                for &c in &coords {
                    black_box(archive.get_tile(black_box(c)).expect("readable"));
                }
            })
        });
    }
    group.finish();

    let deep = TileCoord::new(20, 549_755, 381_774).expect("inside the matrix");
    c.bench_function("pmtiles_tile_id_z20", |b| {
        b.iter(|| tile_id(black_box(deep)))
    });
}

criterion_group!(benches, lookup);
criterion_main!(benches);
