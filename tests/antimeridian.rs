//! Rasters across the antimeridian (issue 12, part 1): an image from 170°
//! to 190° east and one laid out 0–360°, made by
//! tests/fixtures/make_antimeridian_samples.py with each pixel's column and
//! row in its red and green. A WebMercatorQuad tile on either side of 180°
//! (or of 0°) must show the columns found by taking the pixel's longitude
//! onto the image by whole turns; before, the tiles west of 180° (east of
//! 0°) came out empty.

use std::f64::consts::PI;
use std::sync::Arc;

use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::raster_style::StyleSpec;
use tuilerie_engine::source::SourceContext;
use tuilerie_engine::warp::{Request, Resampling};
use tuilerie_engine::Bbox;
use tuilerie_tests::sample;

const HALF: f64 = 20_037_508.342_789_244;

/// An image in EPSG:4326 whose pixel (col, row) has red `col / red_step`
/// and green `row`.
struct Image {
    file: &'static str,
    left: f64,
    top: f64,
    cell: f64,
    width: f64,
    height: f64,
    red_step: f64,
}

/// Pixels checked in tile z/x/y of `image` (nearest): every pixel centre
/// that falls on the image, but near no edge of its pixels, must show that
/// pixel.
fn checked_pixels(image: &Image, z: u8, x: u32, y: u32) -> usize {
    let ctx = SourceContext::new(1 << 20);
    let layer =
        RasterLayer::open(&sample(image.file), Arc::clone(&ctx), &StyleSpec::default()).unwrap();
    let mercator = Crs::from_epsg(3857).unwrap();
    let size = 2.0 * HALF / f64::from(1u32 << z);
    let (x0, y1) = (-HALF + f64::from(x) * size, HALF - f64::from(y) * size);
    let request = Request {
        bbox: &Bbox::new(
            Crs::shared(mercator.epsg).unwrap(),
            [x0, y1 - size, x0 + size, y1],
        )
        .unwrap(),
        width: 256,
        height: 256,
        resampling: Resampling::Nearest,
        deadline: Deadline::NONE,
    };
    let rgba = layer.render(&request).unwrap();
    let mut checked = 0;
    for j in 0..256 {
        for i in 0..256 {
            let mx = x0 + (i as f64 + 0.5) * size / 256.0;
            let my = y1 - (j as f64 + 0.5) * size / 256.0;
            let lon = mx / HALF * 180.0;
            let lat = (my / HALF * PI).sinh().atan().to_degrees();
            // The longitude onto the image, by whole turns.
            let lon = image.left + (lon - image.left).rem_euclid(360.0);
            let col = (lon - image.left) / image.cell;
            let row = (image.top - lat) / image.cell;
            let off_edge = |v: f64| (v - v.round()).abs() > 0.05;
            if !(0.0..image.width).contains(&col)
                || !(0.0..image.height).contains(&row)
                || !off_edge(col)
                || !off_edge(row)
            {
                continue;
            }
            let p = &rgba.data[(j * 256 + i) * 4..][..4];
            let expected = [
                (col.floor() / image.red_step).floor() as u8,
                row.floor() as u8,
            ];
            assert_eq!(
                (p[0], p[1], p[3]),
                (expected[0], expected[1], 255),
                "{} z{z}/{x}/{y} pixel ({i}, {j}) at {lon:.3}°, {lat:.3}°",
                image.file
            );
            checked += 1;
        }
    }
    checked
}

#[test]
fn an_image_across_the_antimeridian_shows_on_both_sides_of_it() {
    let image = Image {
        file: "cog/dateline_4326.tif",
        left: 170.0,
        top: -10.0,
        cell: 0.1,
        width: 200.0,
        height: 100.0,
        red_step: 1.0,
    };
    // z3: x = 7 is 135°…180°, x = 0 is −180°…−135°; y = 4 holds 10°–20° S.
    let east = checked_pixels(&image, 3, 7, 4);
    let west = checked_pixels(&image, 3, 0, 4);
    assert!(east > 2000 && west > 2000, "east {east}, west {west}");
}

#[test]
fn an_image_in_0_to_360_degrees_shows_west_of_greenwich() {
    let image = Image {
        file: "cog/global_0_360.tif",
        left: 0.0,
        top: 90.0,
        cell: 1.0,
        width: 360.0,
        height: 180.0,
        red_step: 2.0,
    };
    // z1: x = 0 is the western hemisphere (180°–360° of the image), x = 1
    // the eastern; z2 x = 1 ends at 0°, x = 2 starts there.
    for (z, x, y) in [(1, 0, 0), (1, 1, 1), (2, 1, 1), (2, 2, 1)] {
        let checked = checked_pixels(&image, z, x, y);
        assert!(checked > 20_000, "z{z}/{x}/{y}: {checked} pixels");
    }
}
