//! Raster tile archives (PMTiles, MBTiles) drawn through the warp (issue
//! 13, WMS GetMap of every layer kind): a stored tile's own bbox renders
//! as the stored tile; other CRSs match gdalwarp over GDAL's MBTiles
//! driver (tests/fixtures/warp/archive/, by
//! tests/fixtures/record_warps.py); a world render of a city-sized archive
//! looks up the city's tiles only.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::raster_style::StyleSpec;
use tuilerie_engine::source::archive_raster::ArchiveRaster;
use tuilerie_engine::source::mbtiles::MbTiles;
use tuilerie_engine::source::pmtiles::PmTiles;
use tuilerie_engine::source::{RasterSource, SourceContext, TileArchive};
use tuilerie_engine::warp::{Request, Resampling};
use tuilerie_engine::{Bbox, ErrorKind, Result, Tile, TileCoord, TileFormat, TileSetMetadata};
use tuilerie_tests::{fixture, sample};

const HALF: f64 = 20_037_508.342_789_244;

/// The bbox of WebMercatorQuad tile z/x/y.
fn tile_bbox(z: u8, x: u32, y: u32) -> [f64; 4] {
    let size = 2.0 * HALF / f64::from(1u32 << z);
    let (x, y) = (f64::from(x), f64::from(y));
    [
        -HALF + x * size,
        HALF - (y + 1.0) * size,
        -HALF + (x + 1.0) * size,
        HALF - y * size,
    ]
}

/// A PNG as straight RGBA8, with the `png` crate alone (not the engine's
/// decoder): width, height, pixels.
fn decode_png(bytes: &[u8]) -> (usize, usize, Vec<u8>) {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let (w, h) = (info.width as usize, info.height as usize);
    let channels = info.color_type.samples();
    let rgba = buf[..w * h * channels]
        .chunks_exact(channels)
        .flat_map(|p| match p {
            [g] => [*g, *g, *g, 255],
            [g, a] => [*g, *g, *g, *a],
            [r, g, b] => [*r, *g, *b, 255],
            [r, g, b, a] => [*r, *g, *b, *a],
            _ => unreachable!("1 to 4 samples"),
        })
        .collect();
    (w, h, rgba)
}

fn layer(archive: Arc<dyn TileArchive>, ctx: &Arc<SourceContext>, name: &str) -> RasterLayer {
    let source = ArchiveRaster::new(archive, Arc::clone(ctx))
        .unwrap()
        .with_path(Path::new(name));
    RasterLayer::new(Arc::new(source), Path::new(name), &StyleSpec::default()).unwrap()
}

/// `bbox` in `crs`.
fn boxed(crs: &Crs, bbox: [f64; 4]) -> Bbox {
    Bbox::new(Crs::shared(crs.epsg).unwrap(), bbox).unwrap()
}

fn request(bbox: &Bbox, width: usize, height: usize) -> Request<'_> {
    Request {
        bbox,
        width,
        height,
        resampling: Resampling::Bilinear,
        deadline: Deadline::NONE,
    }
}

/// Largest channel difference between two RGBA images, ignoring the colour
/// of pixels transparent in both.
fn max_difference(a: &[u8], b: &[u8]) -> u8 {
    a.chunks_exact(4)
        .zip(b.chunks_exact(4))
        .map(|(p, q)| {
            if p[3] == 0 && q[3] == 0 {
                0
            } else {
                p.iter().zip(q).map(|(x, y)| x.abs_diff(*y)).max().unwrap()
            }
        })
        .max()
        .unwrap()
}

#[test]
fn rendering_the_bbox_of_a_stored_tile_reproduces_the_stored_tile() {
    let ctx = SourceContext::new(1 << 20);
    let mercator = Crs::from_epsg(3857).unwrap();
    let toner: Arc<dyn TileArchive> = Arc::new(
        PmTiles::open(&sample("stamen_toner_raster_z3.pmtiles"), Arc::clone(&ctx)).unwrap(),
    );
    let geography: Arc<dyn TileArchive> =
        Arc::new(MbTiles::open(&sample("geography-class-png.mbtiles")).unwrap());
    let mut compared = 0;
    for (name, archive) in [("toner", toner), ("geography-class", geography)] {
        let layer = layer(Arc::clone(&archive), &ctx, name);
        let meta = archive.metadata();
        for z in meta.minzoom..=meta.maxzoom {
            let n = 1u32 << z;
            // Every tile up to z2, and a diagonal of z3.
            let tiles: Vec<(u32, u32)> = if z <= 2 {
                (0..n * n).map(|i| (i % n, i / n)).collect()
            } else {
                (0..n).map(|i| (i, (i * 3) % n)).collect()
            };
            for (x, y) in tiles {
                let Some(stored) = archive.get_tile(TileCoord::new(z, x, y).unwrap()).unwrap()
                else {
                    continue;
                };
                let (w, h, expected) = decode_png(&stored.data);
                assert_eq!((w, h), (256, 256), "{name} {z}/{x}/{y}");
                let bbox = tile_bbox(z, x, y);
                let ours = layer
                    .render(&request(&boxed(&mercator, bbox), 256, 256))
                    .unwrap();
                let diff = max_difference(&ours.data, &expected);
                assert!(diff <= 1, "{name} {z}/{x}/{y}: channels differ by {diff}");
                // And the stored bytes go out as they are.
                let sent = layer
                    .stored_tile(&boxed(&mercator, bbox), 256, 256)
                    .unwrap();
                assert_eq!(
                    sent.as_deref(),
                    Some(&stored.data[..]),
                    "{name} {z}/{x}/{y}"
                );
                compared += 1;
            }
        }
    }
    // toner: 1 + 4 + 16 + 8, geography-class: 1 + 4.
    assert_eq!(compared, 34, "stored tiles compared");
}

#[test]
fn a_wgs84_render_of_a_raster_archive_matches_gdalwarp() {
    let ctx = SourceContext::new(1 << 20);
    let wgs84 = Crs::from_epsg(4326).unwrap();
    let archive = Arc::new(MbTiles::open(&sample("geography-class-png.mbtiles")).unwrap());
    let layer = layer(archive, &ctx, "geography-class-png.mbtiles");
    let mut report = Vec::new();
    for (bbox, name, resampling) in [
        (
            [-30.0, 20.0, 60.0, 70.0],
            "-30_20_60_70_bilinear",
            "bilinear",
        ),
        (
            [-179.5, -84.5, 179.5, 84.5],
            "-179.5_-84.5_179.5_84.5_near",
            "near",
        ),
    ] {
        let path = fixture(&format!("warp/archive/geography-class-png_4326_{name}.png"));
        let (w, h, theirs) = decode_png(&std::fs::read(&path).unwrap());
        let bbox = boxed(&wgs84, bbox);
        let mut request = request(&bbox, w, h);
        request.resampling = Resampling::named(resampling).unwrap();
        let ours = layer.render(&request).unwrap();
        assert!(!ours.is_empty(), "{name}: nothing drawn");
        let (mut alpha_differs, mut both, mut colour_differs, mut worst) = (0, 0, 0, 0);
        for (a, b) in ours.data.chunks_exact(4).zip(theirs.chunks_exact(4)) {
            if (a[3] == 0) != (b[3] == 0) {
                alpha_differs += 1;
            } else if a[3] > 0 {
                both += 1;
                let d = a.iter().zip(b).map(|(p, q)| p.abs_diff(*q)).max().unwrap();
                worst = worst.max(d);
                colour_differs += usize::from(d > 1);
            }
        }
        let pixels = (w * h) as f64;
        let alpha_share = alpha_differs as f64 / pixels;
        let colour_share = colour_differs as f64 / both.max(1) as f64;
        report.push(format!(
            "{name}: transparency differs on {:.2}% of pixels, colour by more than 1 on {:.2}% of {both} (worst {worst})",
            alpha_share * 100.0,
            colour_share * 100.0
        ));
        if alpha_share > 0.01 || colour_share > 0.02 {
            let actual = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../target/warp-actual/archive_{name}.png"));
            std::fs::create_dir_all(actual.parent().unwrap()).unwrap();
            let mut encoder =
                png::Encoder::new(std::fs::File::create(&actual).unwrap(), w as u32, h as u32);
            encoder.set_color(png::ColorType::Rgba);
            let mut writer = encoder.write_header().unwrap();
            writer.write_image_data(&ours.data).unwrap();
            panic!("{} (ours: {})", report.join("\n"), actual.display());
        }
    }
    println!("{}", report.join("\n"));
}

/// A raster archive of one city (Florence) at z12–z16 whose every tile in
/// its bounds is the same PNG; counts its lookups.
struct CityArchive {
    metadata: TileSetMetadata,
    tile: Tile,
    lookups: AtomicUsize,
}

impl CityArchive {
    fn new(minzoom: u8, maxzoom: u8, tile: Tile) -> Self {
        let mut metadata = TileSetMetadata::new(TileFormat::Png);
        metadata.minzoom = minzoom;
        metadata.maxzoom = maxzoom;
        metadata.bounds = Some([11.15, 43.72, 11.35, 43.82]);
        CityArchive {
            metadata,
            tile,
            lookups: AtomicUsize::new(0),
        }
    }
}

impl TileArchive for CityArchive {
    fn get_tile(&self, _: TileCoord) -> Result<Option<Tile>> {
        self.lookups.fetch_add(1, Ordering::Relaxed);
        Ok(Some(self.tile.clone()))
    }

    fn metadata(&self) -> &TileSetMetadata {
        &self.metadata
    }
}

fn toner_tile(ctx: &Arc<SourceContext>) -> Tile {
    let toner = PmTiles::open(&sample("stamen_toner_raster_z3.pmtiles"), Arc::clone(ctx)).unwrap();
    toner
        .get_tile(TileCoord::new(3, 4, 2).unwrap())
        .unwrap()
        .unwrap()
}

#[test]
fn a_world_render_of_a_city_archive_looks_up_only_the_city_tiles() {
    let ctx = SourceContext::new(1 << 20);
    let archive = Arc::new(CityArchive::new(12, 16, toner_tile(&ctx)));
    let layer = layer(archive.clone(), &ctx, "city");
    let opened = archive.lookups.load(Ordering::Relaxed);
    let mercator = Crs::from_epsg(3857).unwrap();
    let wgs84 = Crs::from_epsg(4326).unwrap();
    // Worlds, where the city is less than a pixel, and the z10 tile
    // holding it, where it is drawn.
    for (crs, bbox, width, height, drawn) in [
        (&mercator, tile_bbox(0, 0, 0), 256, 256, false),
        (&wgs84, [-180.0, -90.0, 180.0, 90.0], 512, 256, false),
        (&mercator, tile_bbox(10, 544, 373), 256, 256, true),
    ] {
        let before = archive.lookups.load(Ordering::Relaxed);
        let warped = layer
            .warped(&request(&boxed(crs, bbox), width, height))
            .unwrap();
        let lookups = archive.lookups.load(Ordering::Relaxed) - before;
        println!("{crs:?} {bbox:?}: {lookups} lookups, {:?}", warped.work);
        // The city is 3 × 2 tiles at z12, the coarsest level; the world at
        // z12 is 16.7 million.
        assert!(lookups <= 6, "{crs:?}: {lookups} lookups");
        assert!(warped.work.blocks <= 6 * 4, "{crs:?}: {:?}", warped.work);
        // render_cost.rs's bound: four times a native tile's reference.
        assert!(
            warped.work.taps <= 4 * 256 * 256 * 16,
            "{crs:?}: {:?}",
            warped.work
        );
        if drawn {
            assert!(
                warped.pixels.iter().any(|p| p[3] > 0.0),
                "the city is drawn"
            );
        }
    }
    assert!(opened <= 5 * 5, "{opened} lookups to measure the tile size");
}

#[test]
fn zooms_whose_level_would_be_wider_than_u32_are_left_out() {
    let ctx = SourceContext::new(1 << 20);
    let archive = Arc::new(CityArchive::new(20, 30, toner_tile(&ctx)));
    let source = ArchiveRaster::new(archive, ctx).unwrap();
    let levels = source.levels();
    assert_eq!(levels.len(), 4, "z23 to z20");
    assert_eq!(levels[0].width, 256 << 23);
    assert_eq!(levels[3].width, 256 << 20);
    let gt = source.geotransform().unwrap();
    assert_eq!(gt[1], 2.0 * HALF / f64::from(256u32 << 23));
}

#[test]
fn a_corrupt_stored_tile_fails_its_block_as_corrupt() {
    let ctx = SourceContext::new(1 << 20);
    let good = toner_tile(&ctx);
    let archive = Arc::new(CityArchive::new(12, 13, good));
    let source = ArchiveRaster::new(archive.clone(), Arc::clone(&ctx)).unwrap();
    // The same archive, its tiles cut short after the size was measured.
    let mut broken = CityArchive::new(12, 13, archive.tile.clone());
    broken.tile.data = archive.tile.data.slice(..20);
    let broken = ArchiveRaster::new(Arc::new(broken), Arc::clone(&ctx));
    let error = broken
        .err()
        .expect("a tile whose header is cut is refused at open");
    assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
    // A PNG whose header parses but whose pixels are cut short.
    let mut cut = CityArchive::new(12, 13, archive.tile.clone());
    cut.tile.data = archive.tile.data.slice(..archive.tile.data.len() / 2);
    let cut = ArchiveRaster::new(Arc::new(cut), Arc::clone(&ctx))
        .unwrap()
        .with_path(Path::new("cut.pmtiles"));
    let [c0, r0, _, _] = cut.data_blocks(0).unwrap();
    let error = cut.read_block(0, c0, r0).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Corrupt, "{error}");
    let message = error.to_string();
    assert!(
        message.contains("cut.pmtiles") && message.contains("13/"),
        "{message}"
    );
    assert!(source.read_block(0, c0, r0).is_ok());
}

#[test]
fn a_vector_archive_is_not_a_raster_source() {
    let ctx = SourceContext::new(1 << 20);
    let vector = PmTiles::open(
        &sample("protomaps_vector_firenze.pmtiles"),
        Arc::clone(&ctx),
    );
    let error = ArchiveRaster::new(Arc::new(vector.unwrap()), ctx)
        .err()
        .expect("vector tiles refused");
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{error}");
}

#[test]
fn a_webp_archive_renders_its_stored_tiles() {
    let ctx = SourceContext::new(1 << 20);
    let mercator = Crs::from_epsg(3857).unwrap();
    let archive: Arc<dyn TileArchive> =
        Arc::new(PmTiles::open(&sample("webp2.pmtiles"), Arc::clone(&ctx)).unwrap());
    let layer = layer(Arc::clone(&archive), &ctx, "webp2.pmtiles");
    // Its tiles are 512 pixels: the 512 × 512 z0 tile is the stored one.
    let source = ArchiveRaster::new(Arc::clone(&archive), Arc::clone(&ctx)).unwrap();
    assert_eq!(source.tile_size(), 512);
    let rendered = layer
        .render(&request(&boxed(&mercator, tile_bbox(0, 0, 0)), 512, 512))
        .unwrap();
    assert!(!rendered.is_empty());
    let sent = layer
        .stored_tile(&boxed(&mercator, tile_bbox(0, 0, 0)), 512, 512)
        .unwrap();
    let stored = archive.get_tile(TileCoord::new(0, 0, 0).unwrap()).unwrap();
    assert_eq!(sent, stored.map(|t| t.data));
}
