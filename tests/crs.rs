//! CRS transforms against PROJ (tests/fixtures/crs.json, recorded through
//! GDAL's osr by tests/fixtures/record_crs.py).

use tuilerie_engine::crs::{Crs, Transform};
use tuilerie_tests::fixture;

#[test]
fn transforms_agree_with_proj() {
    let cases: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("crs.json")).unwrap()).unwrap();
    for case in cases.as_array().unwrap() {
        let (from, to) = (
            case["from"].as_u64().unwrap() as u32,
            case["to"].as_u64().unwrap() as u32,
        );
        let (src, dst) = (Crs::from_epsg(from).unwrap(), Crs::from_epsg(to).unwrap());
        let mut points: Vec<(f64, f64)> = serde_json::from_value(case["points"].clone()).unwrap();
        let expected: Vec<(f64, f64)> = serde_json::from_value(case["expected"].clone()).unwrap();
        Transform::new(&src, &dst).apply(&mut points);
        // Same datum: a millimetre (or 1e-8°). NAD83 → WGS 84 goes through
        // a Helmert shift here and PROJ's own choice there: 2 m.
        let tolerance = match (from, dst.is_geographic()) {
            (26913, _) => 2.0,
            (_, true) => 1e-8,
            _ => 1e-3,
        };
        for (got, want) in points.iter().zip(&expected) {
            let err = (got.0 - want.0).abs().max((got.1 - want.1).abs());
            assert!(
                err <= tolerance,
                "EPSG:{from} → EPSG:{to}: {got:?} vs PROJ {want:?} (off by {err})"
            );
        }
    }
}
