//! Raster stages, one bench each: block decoding per compression (cache
//! disabled so every read decodes), warping a 256² WebMercatorQuad tile,
//! and encoding it (and a 1024×768 WMS-sized image as PNG and 8-bit PNG). Run with `cargo bench -p tuilerie-benches --bench render`.

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use tuilerie_benches::{generated, map_1024x768, sample, tile_bbox};
use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::encode::{encode, encode_png8};
use tuilerie_engine::map;
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::raster_style::StyleSpec;
use tuilerie_engine::source::cog::Cog;
use tuilerie_engine::source::SourceContext;
use tuilerie_engine::warp::{Request, Resampling, Rgba};
use tuilerie_engine::TileFormat;
use tuilerie_engine::{Bbox, Catalog, LayerSpec};

/// Benches rendering the 256² WebMercatorQuad tile `bbox` of `layer`.
fn bench_tile(
    group: &mut BenchmarkGroup<WallTime>,
    name: &str,
    layer: &RasterLayer,
    bbox: [f64; 4],
    resampling: Resampling,
) {
    let mercator = Crs::from_epsg(3857).unwrap();
    let request = Request {
        bbox: &Bbox::new(Crs::shared(mercator.epsg).unwrap(), bbox).unwrap(),
        width: 256,
        height: 256,
        resampling,
        deadline: Deadline::NONE,
    };
    group.bench_function(name, |b| {
        b.iter(|| black_box(layer.render(&request).expect("render")))
    });
}

fn decode(c: &mut Criterion) {
    // A zero-byte block cache keeps nothing: every read decodes.
    let ctx = SourceContext::with_block_cache(0, 0);
    let mut group = c.benchmark_group("decode_block");
    for (name, file, level) in [
        ("none_rgba_128", "usda_naip_128_none_z2.tif", 0),
        ("lzw_rgba_256", "usda_naip_256_lzw_z3.tif", 0),
        ("deflate_pred2_u16_256", "web.tif", 0),
        (
            "deflate_pred3_f32_128",
            "ign_mns_hydro_0299_L93_float32_deflate_pred3_cog.tif",
            0,
        ),
        ("zstd_rgba_16", "rgba8_cog.tiff", 0),
        ("jpeg_ycbcr_128", "cog_rgb.tif", 0),
        ("webp_rgba_512", "usda_naip_512_webp_z5.tif", 4),
    ] {
        let cog = Cog::open(&sample(&format!("cog/{file}")), ctx.clone()).expect("sample");
        group.bench_function(name, |b| {
            b.iter(|| black_box(cog.read_block(level, 0, 0).expect("block")))
        });
    }
    // A 512² block of the load run's orthophoto (RGB JPEG q85, 4:2:0):
    // what a tile pays for each block the cache no longer holds.
    if let Some(path) = generated("ortho_l93.tif", "benches/cog/make_cog.py") {
        let cog = Cog::open(&path, ctx).expect("benchmark COG");
        group.bench_function("jpeg_ortho_512", |b| {
            b.iter(|| black_box(cog.read_block(0, 16, 16).expect("block")))
        });
    }
    group.finish();
}

fn warp_and_encode(c: &mut Criterion) {
    let ctx = SourceContext::new(256 << 20);
    let mercator = Crs::from_epsg(3857).unwrap();
    let naip = RasterLayer::open(
        &sample("cog/usda_naip_256_lzw_z3.tif"),
        ctx.clone(),
        &StyleSpec::default(),
    )
    .unwrap();
    let utm = RasterLayer::open(
        &sample("cog/cog_rgb.tif"),
        ctx.clone(),
        &StyleSpec::default(),
    )
    .unwrap();
    let web = RasterLayer::open(
        &sample("cog/image_web_z5_z11.tif"),
        ctx,
        &StyleSpec::default(),
    )
    .unwrap();
    let mut group = c.benchmark_group("warp_256");
    for (name, layer, bbox, resampling) in [
        (
            "3857_to_3857_nearest",
            &naip,
            tile_bbox(18, 42710, 97342),
            Resampling::Nearest,
        ),
        (
            "3857_to_3857_bilinear",
            &naip,
            tile_bbox(18, 42710, 97342),
            Resampling::Bilinear,
        ),
        (
            // A web-optimized COG on its own grid: a copy.
            "3857_aligned_bilinear",
            &web,
            tile_bbox(11, 400, 784),
            Resampling::Bilinear,
        ),
        (
            "utm_to_3857_bilinear",
            &utm,
            tile_bbox(18, 54777, 100229),
            Resampling::Bilinear,
        ),
    ] {
        bench_tile(&mut group, name, layer, bbox, resampling);
    }
    group.finish();

    let image = render_bilinear(&utm, mercator.epsg, tile_bbox(18, 54777, 100229), 256, 256);
    let mut group = c.benchmark_group("encode_256");
    for (name, format) in [
        ("png", TileFormat::Png),
        ("jpeg", TileFormat::Jpeg),
        ("webp_lossless", TileFormat::Webp),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| black_box(encode(&image, format, 85).expect("encode")))
        });
    }
    group.finish();

    // A WMS GetMap size, `image/png; mode=8bit`: the orthophoto sample
    // upsampled to 1024×768 in its own CRS (UTM 13N), quantized to 256
    // colours; plain PNG beside it for comparison.
    let bbox = [519467.5, 4311634.97, 519524.88, 4311669.77];
    let image = render_bilinear(&utm, 26913, bbox, 1024, 768);
    let mut group = c.benchmark_group("encode_1024x768");
    group.bench_function("png8", |b| {
        b.iter(|| black_box(encode_png8(&image).expect("encode")))
    });
    group.bench_function("png", |b| {
        b.iter(|| black_box(encode(&image, TileFormat::Png, 85).expect("encode")))
    });
    group.finish();
}

/// `layer` rendered on `bbox` (in EPSG:`epsg`) at `width × height`,
/// bilinear: the image the encoding benches encode.
fn render_bilinear(
    layer: &RasterLayer,
    epsg: u32,
    bbox: [f64; 4],
    width: usize,
    height: usize,
) -> Rgba {
    let request = Request {
        bbox: &Bbox::new(Crs::shared(epsg).unwrap(), bbox).unwrap(),
        width,
        height,
        resampling: Resampling::Bilinear,
        deadline: Deadline::NONE,
    };
    layer.render(&request).unwrap()
}

/// The load run's case in isolation: a z16 WebMercatorQuad tile from the
/// 16k² Lambert-93 JPEG COG (`benches/cog/make_cog.py`), blocks already in
/// the cache, so what is timed is the warp and the styling. Skipped when the
/// COG has not been built.
fn warp_ortho(c: &mut Criterion) {
    let Some(path) = generated("ortho_l93.tif", "benches/cog/make_cog.py") else {
        return;
    };
    let ctx = SourceContext::new(256 << 20);
    let layer = RasterLayer::open(&path, ctx, &StyleSpec::default()).unwrap();
    let mut group = c.benchmark_group("warp_ortho_l93_z16");
    for (name, resampling) in [
        ("nearest", Resampling::Nearest),
        ("bilinear", Resampling::Bilinear),
        ("cubic", Resampling::Cubic),
    ] {
        let bbox = tile_bbox(16, 33650, 23377);
        bench_tile(&mut group, name, &layer, bbox, resampling);
    }
    group.finish();
}

/// A WMS GetMap of the load run (`benches/wms/run.sh`): a 1024 × 768
/// JPEG of the same orthophoto in EPSG:3857 at 0.7 m per pixel over Lyon,
/// through `map::render`, so the warp, the styling and the encoding are
/// timed together (blocks already in the cache, as in a warm server).
fn map_ortho(c: &mut Criterion) {
    let Some(path) = generated("ortho_l93.tif", "benches/cog/make_cog.py") else {
        return;
    };
    let ctx = SourceContext::new(256 << 20);
    let spec = LayerSpec {
        id: Some("ortho".into()),
        path,
        ..LayerSpec::default()
    };
    let (catalog, failures) = Catalog::load(vec![spec], &ctx);
    assert!(failures.is_empty(), "{failures:?}");
    let layer = catalog.get("ortho").expect("the ortho layer");
    // 4.85° E 45.76° N, in the middle of the image.
    let (x, y) = (539_898.0, 5_741_900.0);
    let request = map_1024x768(x, y, 0.7, TileFormat::Jpeg);
    let mut group = c.benchmark_group("map_ortho_3857");
    group.sample_size(20);
    group.bench_function("1024x768_0.7m_jpeg", |b| {
        b.iter(|| black_box(map::render(&[&**layer], &request).expect("render")))
    });
    group.finish();
}

criterion_group!(benches, decode, warp_and_encode, warp_ortho, map_ortho);
criterion_main!(benches);
