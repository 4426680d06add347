//! Raster values at a point (RasterLayer::values_at, for WMS
//! GetFeatureInfo) against `gdallocationinfo -valonly`, recorded in
//! tests/fixtures/points.json by tests/fixtures/record_points.py: points
//! in each file's own CRS and in WGS 84, empty pixels (nodata, NaN, alpha,
//! mask) and a point outside.

use std::sync::Arc;

use tuilerie_engine::crs::Crs;
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::raster_style::StyleSpec;
use tuilerie_engine::source::archive_raster::ArchiveRaster;
use tuilerie_engine::source::mbtiles::MbTiles;
use tuilerie_engine::source::SourceContext;
use tuilerie_tests::{fixture, sample};

fn open(name: &str, ctx: &Arc<SourceContext>) -> RasterLayer {
    let path = sample(name);
    if name.ends_with(".mbtiles") {
        let archive = Arc::new(MbTiles::open(&path).unwrap());
        let source = ArchiveRaster::new(archive, Arc::clone(ctx)).unwrap();
        RasterLayer::new(Arc::new(source), &path, &StyleSpec::default()).unwrap()
    } else {
        RasterLayer::open(&path, Arc::clone(ctx), &StyleSpec::default()).unwrap()
    }
}

#[test]
fn values_at_points_are_gdallocationinfos_in_the_native_crs_and_in_wgs84() {
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("points.json")).unwrap()).unwrap();
    let ctx = SourceContext::new(1 << 20);
    let wgs84 = Crs::from_epsg(4326).unwrap();
    let (mut checked, mut empty) = (0, 0);
    let mut failures = Vec::new();
    for (name, file) in record.as_object().unwrap() {
        let layer = open(name, &ctx);
        let native = Crs::from_epsg(file["epsg"].as_u64().unwrap() as u32).unwrap();
        // JPEG blocks decode a few levels apart from libjpeg-turbo.
        let tolerance: f64 = if name.ends_with("cog_rgb.tif") {
            4.0
        } else {
            0.0
        };
        for point in file["points"].as_array().unwrap() {
            let expected: Option<Vec<f64>> =
                serde_json::from_value(point["values"].clone()).unwrap();
            for (crs, key) in [(&native, "native"), (&wgs84, "wgs84")] {
                let (x, y) = (
                    point[key][0].as_f64().unwrap(),
                    point[key][1].as_f64().unwrap(),
                );
                let ours = layer.values_at(crs, x, y).unwrap();
                let close = match (&ours, &expected) {
                    (None, None) => true,
                    (Some(a), Some(b)) => {
                        a.len() == b.len()
                            && a.iter().zip(b).all(|(p, q)| {
                                // gdallocationinfo prints 15 significant digits.
                                (p - q).abs() <= tolerance.max(1e-9 * q.abs())
                            })
                    }
                    _ => false,
                };
                if !close {
                    failures.push(format!(
                        "{name} pixel {} ({key} {x}, {y}): ours {ours:?}, GDAL {expected:?}",
                        point["pixel"]
                    ));
                }
                checked += 1;
                empty += usize::from(expected.is_none());
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // 8 files, 16 or 17 points each, in two CRSs.
    assert!(checked >= 2 * 8 * 16, "{checked} points checked");
    assert!(empty >= 2 * 14, "{empty} empty points checked");
}

#[test]
fn a_point_a_turn_away_from_a_0_to_360_grid_reads_the_same_pixel() {
    let ctx = SourceContext::new(1 << 20);
    let layer = open("cog/global_0_360.tif", &ctx);
    let wgs84 = Crs::from_epsg(4326).unwrap();
    // Pixels of 1° from 0°: red = column / 2, green = row, blue = 200.
    let east = layer.values_at(&wgs84, 350.5, 10.5).unwrap();
    let west = layer.values_at(&wgs84, -9.5, 10.5).unwrap();
    assert_eq!(east, Some(vec![175.0, 79.0, 200.0]));
    assert_eq!(west, east);
    assert_eq!(layer.values_at(&wgs84, 10.5, 95.0).unwrap(), None);
}

#[test]
fn a_point_that_is_not_finite_is_an_invalid_request() {
    let ctx = SourceContext::new(1 << 20);
    let layer = open("cog/cog.tif", &ctx);
    let wgs84 = Crs::from_epsg(4326).unwrap();
    let error = layer.values_at(&wgs84, f64::NAN, 0.0).unwrap_err();
    assert_eq!(error.kind(), tuilerie_engine::ErrorKind::InvalidRequest);
}
