//! Whole-tile tests: features in, protobuf out, decoded again with a
//! test-only reader independent of the writer.

use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};

use super::command::decode::{parts, Part};
use super::pbf::read::{fields, packed, unzigzag, Payload};
use super::quantise::twice_area;
use super::tile_geometry::TilePoint;
use super::*;
use crate::feature::{Feature, Field, FieldType, Value};
use crate::xorshift::XorShift;

const E: f64 = 4096.0;

/// Params whose CRS coordinates are tile coordinates with y flipped: a
/// point at tile (px, py) is at (px, E - py), see [`at`].
fn tile_params(buffer: u32, tolerance: f64) -> TileParams {
    TileParams {
        bbox: [0.0, 0.0, E, E],
        extent: 4096,
        buffer,
        tolerance,
    }
}

/// The CRS coordinate of the tile coordinate (px, py) under [`tile_params`].
fn at(px: f64, py: f64) -> Coord<f64> {
    Coord { x: px, y: E - py }
}

fn line(points: &[(f64, f64)]) -> LineString<f64> {
    LineString::new(points.iter().map(|&(x, y)| at(x, y)).collect())
}

fn polygon(exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> Polygon<f64> {
    Polygon::new(line(exterior), holes.iter().map(|h| line(h)).collect())
}

/// A geometry collection (geo-types has no `From` for it).
fn collection(members: Vec<Geometry<f64>>) -> Geometry<f64> {
    Geometry::GeometryCollection(GeometryCollection(members))
}

fn feature(geometry: impl Into<Geometry<f64>>) -> Feature {
    Feature {
        id: None,
        geometry: geometry.into(),
        values: Vec::new(),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum DecodedValue {
    String(String),
    Double(f64),
    Uint(u64),
    Sint(i64),
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq)]
struct DecodedFeature {
    id: Option<u64>,
    tags: Vec<u32>,
    geom_type: u64,
    geometry: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct DecodedLayer {
    version: u64,
    name: String,
    extent: u64,
    keys: Vec<String>,
    values: Vec<DecodedValue>,
    features: Vec<DecodedFeature>,
}

fn string(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn decode_value(message: &[u8]) -> DecodedValue {
    let fields = fields(message);
    assert_eq!(fields.len(), 1, "exactly one value field (§4.1)");
    match fields[0] {
        (1, Payload::Len(s)) => DecodedValue::String(string(s)),
        (3, Payload::Fixed64(bits)) => DecodedValue::Double(f64::from_bits(bits)),
        (5, Payload::Varint(u)) => DecodedValue::Uint(u),
        (6, Payload::Varint(z)) => DecodedValue::Sint(unzigzag(z)),
        (7, Payload::Varint(b)) => DecodedValue::Bool(b != 0),
        other => panic!("unexpected value field {other:?}"),
    }
}

fn decode_feature(message: &[u8]) -> DecodedFeature {
    let mut feature = DecodedFeature {
        id: None,
        tags: Vec::new(),
        geom_type: 0,
        geometry: Vec::new(),
    };
    for (field, payload) in fields(message) {
        match (field, payload) {
            (1, Payload::Varint(id)) => feature.id = Some(id),
            (2, Payload::Len(tags)) => {
                feature.tags = packed(tags).into_iter().map(|t| t as u32).collect()
            }
            (3, Payload::Varint(t)) => feature.geom_type = t,
            (4, Payload::Len(g)) => {
                feature.geometry = packed(g).into_iter().map(|c| c as u32).collect()
            }
            other => panic!("unexpected feature field {other:?}"),
        }
    }
    feature
}

fn decode_tile(tile: &[u8]) -> Vec<DecodedLayer> {
    fields(tile)
        .into_iter()
        .map(|(field, payload)| {
            let (3, Payload::Len(message)) = (field, payload) else {
                panic!("unexpected tile field {field}");
            };
            let mut layer = DecodedLayer::default();
            for (field, payload) in fields(message) {
                match (field, payload) {
                    (15, Payload::Varint(v)) => layer.version = v,
                    (1, Payload::Len(s)) => layer.name = string(s),
                    (2, Payload::Len(f)) => layer.features.push(decode_feature(f)),
                    (3, Payload::Len(s)) => layer.keys.push(string(s)),
                    (4, Payload::Len(v)) => layer.values.push(decode_value(v)),
                    (5, Payload::Varint(e)) => layer.extent = e,
                    other => panic!("unexpected layer field {other:?}"),
                }
            }
            layer
        })
        .collect()
}

/// The decoded features of a one-layer tile made of `features`.
fn encode_features(params: &TileParams, features: &[Feature]) -> Vec<DecodedFeature> {
    let mut layer = LayerEncoder::new("test", &[], params);
    for f in features {
        layer.add(f);
    }
    let tile = encode_tile(&[layer]);
    decode_tile(&tile)
        .pop()
        .map(|layer| layer.features)
        .unwrap_or_default()
}

/// The one feature `geometry` gives, decoded.
fn encode_one(params: &TileParams, geometry: impl Into<Geometry<f64>>) -> DecodedFeature {
    let mut features = encode_features(params, &[feature(geometry)]);
    assert_eq!(features.len(), 1, "{features:?}");
    features.remove(0)
}

fn rings(feature: &DecodedFeature) -> Vec<Vec<TilePoint>> {
    assert_eq!(feature.geom_type, 3);
    parts(&feature.geometry)
        .into_iter()
        .map(|part| {
            assert!(part.closed, "{part:?}");
            part.points
        })
        .collect()
}

fn sorted(mut points: Vec<TilePoint>) -> Vec<TilePoint> {
    points.sort_unstable();
    points
}

#[test]
fn the_spec_examples_come_out_of_the_whole_pipeline_exactly() {
    // MVT 2.1 §4.3.5, from geo-types geometries through clip, quantise and
    // orientation with no simplification.
    let params = tile_params(64, 0.0);
    let cases: Vec<(Geometry<f64>, u64, Vec<u32>)> = vec![
        (Point::from(at(25.0, 17.0)).into(), 1, vec![9, 50, 34]),
        (
            MultiPoint::new(vec![at(5.0, 7.0).into(), at(3.0, 2.0).into()]).into(),
            1,
            vec![17, 10, 14, 3, 9],
        ),
        (
            line(&[(2.0, 2.0), (2.0, 10.0), (10.0, 10.0)]).into(),
            2,
            vec![9, 4, 4, 18, 0, 16, 16, 0],
        ),
        (
            MultiLineString::new(vec![
                line(&[(2.0, 2.0), (2.0, 10.0), (10.0, 10.0)]),
                line(&[(1.0, 1.0), (3.0, 5.0)]),
            ])
            .into(),
            2,
            vec![9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8],
        ),
        (
            polygon(&[(3.0, 6.0), (8.0, 12.0), (20.0, 34.0), (3.0, 6.0)], &[]).into(),
            3,
            vec![9, 6, 12, 18, 10, 12, 24, 44, 15],
        ),
        (
            MultiPolygon::new(vec![
                polygon(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)], &[]),
                polygon(
                    &[(11.0, 11.0), (20.0, 11.0), (20.0, 20.0), (11.0, 20.0)],
                    &[&[(13.0, 13.0), (13.0, 17.0), (17.0, 17.0), (17.0, 13.0)]],
                ),
            ])
            .into(),
            3,
            vec![
                9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0, 0, 18, 17, 0, 15, 9, 4,
                13, 26, 0, 8, 8, 0, 0, 7, 15,
            ],
        ),
    ];
    for (geometry, geom_type, expected) in cases {
        let feature = encode_one(&params, geometry.clone());
        assert_eq!(feature.geom_type, geom_type, "{geometry:?}");
        assert_eq!(feature.geometry, expected, "{geometry:?}");
    }
}

#[test]
fn a_polygon_wound_the_wrong_way_is_reversed_keeping_its_first_point() {
    let params = tile_params(64, 0.0);
    let reversed = polygon(&[(3.0, 6.0), (20.0, 34.0), (8.0, 12.0)], &[]);
    let feature = encode_one(&params, reversed);
    assert_eq!(feature.geometry, [9, 6, 12, 18, 10, 12, 24, 44, 15]);
}

#[test]
fn the_bbox_maps_to_tile_coordinates_with_y_down() {
    // A Web Mercator-like tile: x in [1000, 3000], y in [5000, 7000].
    let params = TileParams {
        bbox: [1000.0, 5000.0, 3000.0, 7000.0],
        extent: 4096,
        buffer: 0,
        tolerance: 0.0,
    };
    // The north-west corner is (0, 0), the south-east corner (4096, 4096).
    let nw = encode_one(&params, Point::new(1000.0, 7000.0));
    assert_eq!(parts(&nw.geometry)[0].points, [[0, 0]]);
    let se = encode_one(&params, Point::new(3000.0, 5000.0));
    assert_eq!(parts(&se.geometry)[0].points, [[4096, 4096]]);
    let quarter = encode_one(&params, Point::new(1500.0, 6500.0));
    assert_eq!(parts(&quarter.geometry)[0].points, [[1024, 1024]]);
}

#[test]
fn points_outside_the_buffer_are_dropped() {
    let params = tile_params(64, 0.0);
    let points = MultiPoint::new(vec![
        at(-64.0, 100.0).into(),
        at(-65.0, 100.0).into(),
        at(100.0, 4161.0).into(),
        at(4160.0, 4160.0).into(),
    ]);
    let feature = encode_one(&params, points);
    let decoded: Vec<_> = parts(&feature.geometry)
        .into_iter()
        .map(|p| p.points)
        .collect();
    assert_eq!(decoded, [vec![[-64, 100]], vec![[4160, 4160]]]);
}

#[test]
fn a_line_crossing_the_tile_twice_becomes_two_parts_ending_on_the_buffer() {
    let params = tile_params(64, 0.0);
    let zigzag = line(&[
        (-500.0, 1000.0),
        (4600.0, 1000.0),
        (4600.0, 3000.0),
        (-500.0, 3000.0),
    ]);
    let feature = encode_one(&params, zigzag);
    assert_eq!(feature.geom_type, 2);
    let decoded: Vec<_> = parts(&feature.geometry)
        .into_iter()
        .map(|p| p.points)
        .collect();
    assert_eq!(
        decoded,
        [
            vec![[-64, 1000], [4160, 1000]],
            vec![[4160, 3000], [-64, 3000]]
        ]
    );
}

#[test]
fn a_polygon_larger_than_the_tile_becomes_the_buffered_square() {
    let params = tile_params(64, 1.0);
    let big = polygon(&[(-1e5, -1e5), (1e5, -1e5), (1e5, 1e5), (-1e5, 1e5)], &[]);
    let rings = rings(&encode_one(&params, big));
    assert_eq!(rings.len(), 1);
    assert_eq!(
        sorted(rings[0].clone()),
        [[-64, -64], [-64, 4160], [4160, -64], [4160, 4160]]
    );
    assert!(twice_area(&rings[0]) > 0);
}

#[test]
fn a_polygon_wholly_outside_is_dropped() {
    let params = tile_params(64, 0.0);
    let outside = polygon(&[(5000.0, 0.0), (6000.0, 0.0), (6000.0, 900.0)], &[]);
    let mut layer = LayerEncoder::new("test", &[], &params);
    assert!(!layer.add(&feature(outside)));
    assert!(layer.is_empty());
    assert!(
        encode_tile(&[layer]).is_empty(),
        "empty layers are not written"
    );
}

#[test]
fn holes_inside_are_kept_and_holes_outside_the_buffer_dropped() {
    let params = tile_params(64, 0.0);
    let inside: &[(f64, f64)] = &[
        (100.0, 100.0),
        (100.0, 200.0),
        (200.0, 200.0),
        (200.0, 100.0),
    ];
    let outside: &[(f64, f64)] = &[(5000.0, 100.0), (5100.0, 100.0), (5100.0, 200.0)];
    let exterior = [(-1e4, -1e4), (1e4, -1e4), (1e4, 1e4), (-1e4, 1e4)];
    let rings = rings(&encode_one(&params, polygon(&exterior, &[inside, outside])));
    assert_eq!(rings.len(), 2, "{rings:?}");
    assert_eq!(
        sorted(rings[1].clone()),
        [[100, 100], [100, 200], [200, 100], [200, 200]]
    );
    assert_eq!(twice_area(&rings[1]), -2 * 100 * 100);
}

#[test]
fn a_polygon_whose_exterior_vanishes_is_dropped_with_its_holes() {
    let params = tile_params(64, 0.0);
    // Invalid input on purpose: the hole is in the tile, its exterior not.
    let hole: &[(f64, f64)] = &[(100.0, 100.0), (100.0, 200.0), (200.0, 200.0)];
    let exterior = [(5000.0, 0.0), (6000.0, 0.0), (6000.0, 900.0)];
    let features = encode_features(&params, &[feature(polygon(&exterior, &[hole]))]);
    assert!(features.is_empty(), "{features:?}");
}

#[test]
fn winding_is_right_after_clipping_whatever_the_input_winding() {
    let params = tile_params(64, 0.0);
    // Exterior and hole both cross the left edge; each given in both
    // windings.
    let exterior = [
        (-500.0, 100.0),
        (1000.0, 100.0),
        (1000.0, 1000.0),
        (-500.0, 1000.0),
    ];
    let hole = [
        (-300.0, 300.0),
        (500.0, 300.0),
        (500.0, 600.0),
        (-300.0, 600.0),
    ];
    for reverse_exterior in [false, true] {
        for reverse_hole in [false, true] {
            let mut e = exterior.to_vec();
            let mut h = hole.to_vec();
            if reverse_exterior {
                e.reverse();
            }
            if reverse_hole {
                h.reverse();
            }
            let rings = rings(&encode_one(&params, polygon(&e, &[&h])));
            assert_eq!(rings.len(), 2);
            assert_eq!(twice_area(&rings[0]), 2 * 1064 * 900);
            assert_eq!(twice_area(&rings[1]), -2 * 564 * 300);
            assert!(rings[0].iter().all(|p| p[0] >= -64), "{rings:?}");
            assert!(rings[1].iter().any(|p| p[0] == -64), "{rings:?}");
        }
    }
}

/// A circle of `n` points in CRS coordinates, clockwise on screen (so its
/// area is positive in tile coordinates and it is not reversed).
fn circle(n: usize, radius: f64) -> Vec<Coord<f64>> {
    (0..n)
        .map(|i| {
            let t = i as f64 / n as f64 * std::f64::consts::TAU;
            at(2048.0 + radius * t.cos(), 2048.0 + radius * t.sin())
        })
        .collect()
}

/// Whether two segments cross at a point interior to both (an independent
/// floating-point version of the check in `topology`).
fn segments_cross(a: TilePoint, b: TilePoint, c: TilePoint, d: TilePoint) -> bool {
    let turn = |p: TilePoint, q: TilePoint, r: TilePoint| {
        ((q[0] - p[0]) as f64 * (r[1] - p[1]) as f64 - (q[1] - p[1]) as f64 * (r[0] - p[0]) as f64)
            .signum()
    };
    let nonzero = |s: f64| s != 0.0;
    let (t1, t2, t3, t4) = (turn(a, b, c), turn(a, b, d), turn(c, d, a), turn(c, d, b));
    [t1, t2, t3, t4].into_iter().all(nonzero) && t1 != t2 && t3 != t4
}

fn ring_crosses_itself(ring: &[TilePoint]) -> bool {
    let n = ring.len();
    (0..n).any(|i| {
        (i + 2..n).any(|j| {
            !(i == 0 && j == n - 1)
                && segments_cross(ring[i], ring[(i + 1) % n], ring[j], ring[(j + 1) % n])
        })
    })
}

fn distance_to_ring(p: [f64; 2], ring: &[TilePoint]) -> f64 {
    let f = |q: TilePoint| [q[0] as f64, q[1] as f64];
    (0..ring.len())
        .map(|i| {
            let (a, b) = (f(ring[i]), f(ring[(i + 1) % ring.len()]));
            super::simplify::segment_distance_squared(p, a, b).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
fn a_dense_circle_simplifies_to_few_points_within_the_tolerance() {
    let tolerance = 1.0;
    let params = tile_params(64, tolerance);
    let coords = circle(10_000, 1500.0);
    let ring = LineString::new(coords.clone());
    let rings = rings(&encode_one(&params, Polygon::new(ring, vec![])));
    assert_eq!(rings.len(), 1);
    let simplified = &rings[0];
    assert!(
        simplified.len() > 20 && simplified.len() < 300,
        "{} points",
        simplified.len()
    );
    // Douglas–Peucker error plus at most half a unit's diagonal of rounding.
    let bound = tolerance + std::f64::consts::FRAC_1_SQRT_2;
    let worst = coords
        .iter()
        .map(|c| distance_to_ring([c.x, E - c.y], simplified))
        .fold(0.0, f64::max);
    assert!(worst <= bound, "max distance {worst} > {bound}");
    assert!(!ring_crosses_itself(simplified));
    assert!(twice_area(simplified) > 0);
}

#[test]
fn a_tolerance_of_zero_keeps_every_distinct_quantised_point() {
    let params = tile_params(64, 0.0);
    let coords = circle(10_000, 1500.0);
    let mut expected: Vec<TilePoint> = Vec::new();
    for c in &coords {
        let q = [c.x.round() as i64, (E - c.y).round() as i64];
        if expected.last() != Some(&q) && expected.first() != Some(&q) {
            expected.push(q);
        }
    }
    let rings = rings(&encode_one(
        &params,
        Polygon::new(LineString::new(coords), vec![]),
    ));
    assert_eq!(rings, [expected]);
}

#[test]
fn a_line_is_simplified_within_the_tolerance_keeping_its_end_points() {
    let tolerance = 2.0;
    let params = tile_params(64, tolerance);
    let wave: Vec<(f64, f64)> = (0..=4000)
        .map(|i| (i as f64, 2048.0 + 300.0 * (i as f64 / 300.0).sin()))
        .collect();
    let feature = encode_one(&params, line(&wave));
    let decoded = parts(&feature.geometry);
    assert_eq!(decoded.len(), 1);
    let simplified = &decoded[0].points;
    assert!(simplified.len() < 200, "{} points", simplified.len());
    assert_eq!(simplified[0], [0, 2048]);
    assert_eq!(
        *simplified.last().unwrap(),
        [
            4000,
            2048 + (300.0f64 * (4000.0f64 / 300.0).sin()).round() as i64
        ]
    );
    let f = |q: TilePoint| [q[0] as f64, q[1] as f64];
    let bound = tolerance + std::f64::consts::FRAC_1_SQRT_2;
    for &(x, y) in &wave {
        let d = simplified
            .windows(2)
            .map(|w| super::simplify::segment_distance_squared([x, y], f(w[0]), f(w[1])).sqrt())
            .fold(f64::INFINITY, f64::min);
        assert!(d <= bound, "({x}, {y}) is {d} away");
    }
}

#[test]
fn simplification_that_would_push_a_hole_across_its_exterior_is_undone() {
    let params = tile_params(64, 5.0);
    // The exterior's top edge bulges 3 units up at x = 500; the hole's apex
    // sits in the bulge. Dropping the bulge (3 < 5) would cut the hole.
    let exterior = [
        (100.0, 100.0),
        (500.0, 97.0),
        (900.0, 100.0),
        (900.0, 900.0),
        (100.0, 900.0),
    ];
    let hole: &[(f64, f64)] = &[(480.0, 110.0), (500.0, 98.0), (520.0, 110.0)];
    let with_hole = rings(&encode_one(&params, polygon(&exterior, &[hole])));
    assert_eq!(with_hole.len(), 2);
    assert!(with_hole[0].contains(&[500, 97]), "{with_hole:?}");
    assert!(with_hole[1].contains(&[500, 98]), "{with_hole:?}");
    // Without the hole the same exterior is simplified.
    let alone = rings(&encode_one(&params, polygon(&exterior, &[])));
    assert_eq!(alone[0], [[100, 100], [900, 100], [900, 900], [100, 900]]);
}

fn fields_for_round_trip() -> Vec<Field> {
    let field = |name: &str, field_type| Field {
        name: name.into(),
        field_type,
    };
    vec![
        field("name", FieldType::Text),
        field("lanes", FieldType::Integer),
        field("width", FieldType::Real),
        field("oneway", FieldType::Boolean),
        field("delta", FieldType::Integer),
    ]
}

#[test]
fn a_tile_round_trips_through_an_independent_decoder() {
    let params = tile_params(64, 0.0);
    let mut roads = LayerEncoder::new("roads", &fields_for_round_trip(), &params);
    let road = line(&[(10.0, 10.0), (20.0, 10.0)]);
    assert!(roads.add(&Feature {
        id: Some(7),
        geometry: road.clone().into(),
        values: vec![
            Value::String("A1".into()),
            Value::Int(2),
            Value::Float(3.5),
            Value::Bool(true),
            Value::Int(-3),
        ],
    }));
    assert!(roads.add(&Feature {
        id: None,
        geometry: road.into(),
        values: vec![
            Value::String("A1".into()),
            Value::Null,
            Value::Float(2.0),
            Value::Bool(false),
            Value::Int(2),
        ],
    }));
    let empty = LayerEncoder::new("empty", &[], &params);
    let small = TileParams {
        extent: 512,
        ..params
    };
    let mut pois = LayerEncoder::new("pois", &[], &small);
    assert!(pois.add(&feature(Point::from(at(1.0, 1.0)))));
    assert_eq!((roads.len(), empty.len(), pois.len()), (2, 0, 1));

    let layers = decode_tile(&encode_tile(&[roads, empty, pois]));
    assert_eq!(layers.len(), 2, "the empty layer is left out");
    let (roads, pois) = (&layers[0], &layers[1]);
    assert_eq!(
        (roads.name.as_str(), roads.version, roads.extent),
        ("roads", 2, 4096)
    );
    assert_eq!(
        (pois.name.as_str(), pois.version, pois.extent),
        ("pois", 2, 512)
    );
    assert_eq!(roads.keys, ["name", "lanes", "width", "oneway", "delta"]);
    assert_eq!(
        roads.values,
        [
            DecodedValue::String("A1".into()),
            DecodedValue::Uint(2),
            DecodedValue::Double(3.5),
            DecodedValue::Bool(true),
            DecodedValue::Sint(-3),
            DecodedValue::Double(2.0),
            DecodedValue::Bool(false),
        ]
    );
    let (first, second) = (&roads.features[0], &roads.features[1]);
    assert_eq!((first.id, first.geom_type), (Some(7), 2));
    assert_eq!(first.tags, [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]);
    // Same name value, no lanes (null), delta 2 shares lanes' value 2.
    assert_eq!((second.id, second.geom_type), (None, 2));
    assert_eq!(second.tags, [0, 0, 2, 5, 3, 6, 4, 1]);
    assert_eq!(first.geometry, [9, 20, 20, 10, 20, 0]);
    // (1, 1) in a 4096 tile is (0, 0) at extent 512 after rounding.
    assert_eq!(pois.features[0].geometry, [9, 0, 0]);
}

#[test]
fn values_beyond_the_fields_are_ignored_and_missing_ones_are_null() {
    let params = tile_params(64, 0.0);
    let fields = &fields_for_round_trip()[..2];
    let mut layer = LayerEncoder::new("l", fields, &params);
    let point = Point::from(at(5.0, 5.0));
    let mut f = feature(point);
    f.values = vec![Value::Int(1), Value::Int(2), Value::Int(3)];
    assert!(layer.add(&f));
    f.values = vec![Value::String("x".into())];
    assert!(layer.add(&f));
    let decoded = decode_tile(&encode_tile(&[layer]));
    assert_eq!(decoded[0].keys, ["name", "lanes"]);
    assert_eq!(decoded[0].features[0].tags, [0, 0, 1, 1]);
    assert_eq!(decoded[0].features[1].tags, [0, 2]);
}

#[test]
fn a_geometry_collection_becomes_one_feature_per_type_with_the_id_on_the_first() {
    let params = tile_params(64, 0.0);
    let mixed = collection(vec![
        polygon(&[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)], &[]).into(),
        Point::from(at(1.0, 2.0)).into(),
        line(&[(0.0, 0.0), (5.0, 5.0)]).into(),
        collection(vec![Point::from(at(3.0, 4.0)).into()]),
    ]);
    let fields = &fields_for_round_trip()[..1];
    let mut layer = LayerEncoder::new("l", fields, &params);
    assert!(layer.add(&Feature {
        id: Some(42),
        geometry: mixed,
        values: vec![Value::String("mixed".into())],
    }));
    assert_eq!(layer.len(), 3);
    let features = &decode_tile(&encode_tile(&[layer]))[0].features;
    let summary: Vec<_> = features
        .iter()
        .map(|f| (f.id, f.geom_type, f.tags.clone()))
        .collect();
    assert_eq!(
        summary,
        [
            (Some(42), 1, vec![0, 0]),
            (None, 2, vec![0, 0]),
            (None, 3, vec![0, 0])
        ]
    );
    // The nested point joins the other one in a multipoint.
    assert_eq!(features[0].geometry, [17, 2, 4, 4, 4]);
}

#[test]
fn non_finite_coordinates_are_skipped() {
    let params = tile_params(64, 0.0);
    let nan = Coord {
        x: f64::NAN,
        y: 100.0,
    };
    let with_nan = LineString::new(vec![at(10.0, 10.0), nan, at(20.0, 10.0)]);
    assert_eq!(
        encode_one(&params, with_nan).geometry,
        [9, 20, 20, 10, 20, 0]
    );
    let ring = LineString::new(vec![
        at(0.0, 0.0),
        at(10.0, 0.0),
        Coord {
            x: f64::INFINITY,
            y: 5.0,
        },
        at(10.0, 10.0),
        at(0.0, 0.0),
    ]);
    let feature = encode_one(&params, Polygon::new(ring, vec![]));
    assert_eq!(rings(&feature), [vec![[0, 0], [10, 0], [10, 10]]]);
    let mut layer = LayerEncoder::new("l", &[], &params);
    assert!(!layer.add(&feature_at_nan()));
}

fn feature_at_nan() -> Feature {
    feature(Point::new(f64::NAN, f64::NAN))
}

#[test]
fn empty_geometries_give_no_feature() {
    let params = tile_params(64, 1.0);
    let empties: Vec<Geometry<f64>> = vec![
        LineString::new(vec![]).into(),
        Polygon::new(LineString::new(vec![]), vec![]).into(),
        MultiPoint::new(vec![]).into(),
        MultiLineString::new(vec![]).into(),
        MultiPolygon::new(vec![]).into(),
        collection(vec![]),
        collection(vec![collection(vec![])]),
        LineString::new(vec![at(1.0, 1.0)]).into(),
    ];
    let mut layer = LayerEncoder::new("l", &[], &params);
    for geometry in empties {
        assert!(!layer.add(&feature(geometry.clone())), "{geometry:?}");
    }
    assert!(layer.is_empty());
}

#[test]
fn rings_of_two_points_are_dropped() {
    let params = tile_params(64, 0.0);
    let mut layer = LayerEncoder::new("l", &[], &params);
    let two = polygon(&[(0.0, 0.0), (10.0, 10.0)], &[]);
    assert!(!layer.add(&feature(two)));
    let hole: &[(f64, f64)] = &[(2.0, 2.0), (3.0, 3.0)];
    let square = polygon(
        &[(0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0)],
        &[hole],
    );
    assert_eq!(rings(&encode_one(&params, square)).len(), 1);
}

#[test]
fn huge_coordinates_give_finite_clipped_geometry() {
    let params = tile_params(64, 1.0);
    for huge in [1e300, f64::MAX] {
        let big = Polygon::new(
            LineString::new(vec![
                Coord { x: -huge, y: -huge },
                Coord { x: huge, y: -huge },
                Coord { x: huge, y: huge },
                Coord { x: -huge, y: huge },
            ]),
            vec![],
        );
        let rings = rings(&encode_one(&params, big));
        assert_eq!(
            sorted(rings[0].clone()),
            [[-64, -64], [-64, 4160], [4160, -64], [4160, 4160]],
            "{huge}"
        );
        let across = LineString::new(vec![
            Coord {
                x: -huge,
                y: 2048.0,
            },
            Coord { x: huge, y: 2048.0 },
        ]);
        let parts = parts(&encode_one(&params, across).geometry);
        assert_eq!(parts[0].points, [[-64, 2048], [4160, 2048]], "{huge}");
    }
}

#[test]
fn unusable_params_drop_every_feature_without_panicking() {
    let point = feature(Point::new(1.0, 1.0));
    let usable = tile_params(64, 0.0);
    assert!(usable.is_usable());
    let unusable = [
        TileParams {
            bbox: [0.0, 0.0, 0.0, 10.0],
            ..usable
        },
        TileParams {
            bbox: [f64::NAN, 0.0, 10.0, 10.0],
            ..usable
        },
        TileParams {
            bbox: [-f64::MAX, 0.0, f64::MAX, 10.0],
            ..usable
        },
        TileParams {
            bbox: [0.0, 0.0, 1e-310, 10.0],
            ..usable
        },
        TileParams {
            extent: 0,
            ..usable
        },
        TileParams {
            buffer: u32::MAX,
            ..usable
        },
    ];
    for params in unusable {
        assert!(!params.is_usable(), "{params:?}");
        let mut layer = LayerEncoder::new("l", &[], &params);
        assert!(!layer.add(&point), "{params:?}");
    }
    // A NaN tolerance means no simplification.
    let nan_tolerance = TileParams {
        tolerance: f64::NAN,
        ..usable
    };
    let mut layer = LayerEncoder::new("l", &[], &nan_tolerance);
    assert!(layer.add(&point));
}

/// Random geometries for the fuzz test below, from the engine's test
/// generator.
impl XorShift {
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn float(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (self.next() >> 11) as f64 / (1u64 << 53) as f64 * (hi - lo)
    }

    /// A CRS coordinate, mostly around the tile, sometimes hostile.
    fn coord(&mut self, centre: [f64; 2], spread: f64) -> Coord<f64> {
        let mut value = |c: f64| match self.below(100) {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => -1e300,
            3 => 1e300,
            _ => c + self.float(-spread, spread),
        };
        Coord {
            x: value(centre[0]),
            y: value(centre[1]),
        }
    }

    /// A ring: a star-shaped one (often valid) or random points.
    fn ring(&mut self) -> LineString<f64> {
        let centre = [self.float(-2000.0, 6000.0), self.float(-2000.0, 6000.0)];
        let n = 3 + self.below(60) as usize;
        if self.below(2) == 0 {
            let radius = self.float(1.0, 3000.0);
            let coords = (0..n)
                .map(|i| {
                    let t = i as f64 / n as f64 * std::f64::consts::TAU;
                    let r = radius * self.float(0.5, 1.0);
                    Coord {
                        x: centre[0] + r * t.cos(),
                        y: centre[1] + r * t.sin(),
                    }
                })
                .collect();
            LineString::new(coords)
        } else {
            let spread = self.float(1.0, 4000.0);
            LineString::new((0..n).map(|_| self.coord(centre, spread)).collect())
        }
    }

    fn polygon(&mut self) -> Polygon<f64> {
        let holes = (0..self.below(3)).map(|_| self.ring()).collect();
        Polygon::new(self.ring(), holes)
    }

    fn geometry(&mut self, depth: u32) -> Geometry<f64> {
        match self.below(if depth > 0 { 6 } else { 5 }) {
            0 => {
                let n = self.below(5);
                MultiPoint::new(
                    (0..n)
                        .map(|_| self.coord([2048.0; 2], 3000.0).into())
                        .collect(),
                )
                .into()
            }
            1 => self.ring().into(),
            2 => self.polygon().into(),
            3 => MultiPolygon::new((0..self.below(3)).map(|_| self.polygon()).collect()).into(),
            4 => MultiLineString::new((0..self.below(3)).map(|_| self.ring()).collect()).into(),
            _ => collection(
                (0..self.below(4))
                    .map(|_| self.geometry(depth - 1))
                    .collect(),
            ),
        }
    }
}

/// Checks one decoded feature against §4.3.4 and the module's guarantees.
fn check_feature(feature: &DecodedFeature, params: &TileParams) {
    let lo = -i64::from(params.buffer);
    let hi = i64::from(params.extent) + i64::from(params.buffer);
    let parts: Vec<Part> = parts(&feature.geometry);
    assert!(!parts.is_empty());
    for part in &parts {
        for p in &part.points {
            assert!(
                (lo..=hi).contains(&p[0]) && (lo..=hi).contains(&p[1]),
                "{p:?}"
            );
        }
    }
    match feature.geom_type {
        1 => assert!(parts.iter().all(|p| p.points.len() == 1 && !p.closed)),
        2 => assert!(parts.iter().all(|p| p.points.len() >= 2 && !p.closed)),
        3 => {
            for (i, ring) in parts.iter().enumerate() {
                assert!(ring.closed);
                let points = &ring.points;
                assert_ne!(points.first(), points.last(), "closing point repeated");
                let mut distinct = points.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert!(distinct.len() >= 3, "{points:?}");
                let area = twice_area(points);
                assert_ne!(area, 0, "{points:?}");
                if i == 0 {
                    assert!(area > 0, "first ring must be an exterior: {points:?}");
                }
            }
        }
        other => panic!("geometry type {other}"),
    }
}

#[test]
fn random_geometries_never_panic_and_always_give_valid_rings() {
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut encoded = 0;
    for round in 0..400 {
        let params = TileParams {
            bbox: [0.0, 0.0, 4096.0, 4096.0],
            extent: [4096, 512, 256][round % 3],
            buffer: [0, 64, 8][round % 3],
            tolerance: [0.0, 0.5, 1.0, 8.0][round % 4],
        };
        let mut layer = LayerEncoder::new("fuzz", &[], &params);
        for _ in 0..8 {
            let geometry = rng.geometry(2);
            let id = rng.next();
            layer.add(&Feature {
                id: Some(id),
                geometry,
                values: Vec::new(),
            });
        }
        for layer in decode_tile(&encode_tile(&[layer])) {
            for feature in &layer.features {
                check_feature(feature, &params);
                encoded += 1;
            }
        }
    }
    // The generator aims most geometries at the tile: most rounds encode.
    assert!(encoded > 1000, "only {encoded} features encoded");
}
