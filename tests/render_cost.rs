//! The cost of a rendered tile is bounded by its size at every zoom
//! (issue 12, part 0): a low-zoom tile of a small image once cost hours of
//! CPU, growing fourfold per zoom out. Cost is counted as work (source
//! pixels read, blocks fetched), not time, so the bound holds on any
//! machine.

use tuilerie_engine::catalog::discover;
use tuilerie_engine::catalog::LayerSource;
use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::source::SourceContext;
use tuilerie_engine::warp::{Request, Resampling, Work};
use tuilerie_engine::Bbox;
use tuilerie_engine::Catalog;
use tuilerie_tests::samples;

const HALF: f64 = 20_037_508.342_789_244;

/// The WebMercatorQuad tile at `zoom` holding (`lon`, `lat`), as a bbox.
fn tile_around(lon: f64, lat: f64, zoom: u8) -> [f64; 4] {
    let n = f64::from(1u32 << zoom);
    let x = ((lon + 180.0) / 360.0 * n).floor().clamp(0.0, n - 1.0);
    let lat = lat.clamp(-85.0, 85.0).to_radians();
    let y = ((1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / std::f64::consts::PI) / 2.0 * n)
        .floor()
        .clamp(0.0, n - 1.0);
    let size = 2.0 * HALF / n;
    let (x0, y1) = (-HALF + x * size, HALF - y * size);
    [x0, y1 - size, x0 + size, y1]
}

#[test]
fn a_low_zoom_tile_costs_no_more_than_a_few_native_tiles() {
    let ctx = SourceContext::new(64 << 20);
    let (catalog, _) = Catalog::load(discover(&samples()).unwrap(), &ctx);
    let mercator = Crs::from_epsg(3857).unwrap();
    let mut checked = 0;
    let mut report = Vec::new();
    for layer in catalog.layers() {
        let LayerSource::Raster(raster) = &layer.source else {
            continue;
        };
        let metadata = raster.metadata();
        let Some([w, s, e, n]) = metadata.bounds else {
            continue;
        };
        let (lon, lat) = ((w + e) / 2.0, (s + n) / 2.0);
        // A tile that fails (the sample with a corrupt block) costs
        // nothing to count.
        let work = |zoom: u8, resampling| -> Option<Work> {
            let request = Request {
                bbox: &Bbox::new(
                    Crs::shared(mercator.epsg).unwrap(),
                    tile_around(lon, lat, zoom),
                )
                .unwrap(),
                width: 256,
                height: 256,
                resampling,
                deadline: Deadline::NONE,
            };
            raster.warped(&request).ok().map(|w| w.work)
        };
        for resampling in [
            Resampling::Bilinear,
            Resampling::Cubic,
            Resampling::Average,
            Resampling::Mode,
        ] {
            // A tile at the layer's own resolution reads 4 to 81 source
            // pixels per output pixel by method: the reference is that of
            // a tile it covers whole.
            let Some(native) = work(metadata.maxzoom, resampling) else {
                continue;
            };
            let reference = native.taps.max(256 * 256 * 16);
            for zoom in (0..=8).rev() {
                let Some(cost) = work(zoom, resampling) else {
                    continue;
                };
                report.push(format!(
                    "{} {resampling:?} z{zoom}: {} taps, {} blocks (native z{}: {} taps, {} blocks)",
                    layer.id, cost.taps, cost.blocks, metadata.maxzoom, native.taps, native.blocks
                ));
                assert!(cost.taps <= 4 * reference, "{}", report.last().unwrap());
            }
        }
        checked += 1;
    }
    println!("{}", report.join("\n"));
    // Every GeoTIFF of data-samples/cog/ and the GeoPackage pyramids.
    assert!(checked >= 20, "{checked} raster layers checked");
}
