use super::*;

#[test]
fn the_zoom_is_the_shallowest_whose_pixels_are_as_fine_as_the_query() {
    let z0 = 2.0 * HALF_WORLD / TILE_PIXELS;
    assert!((z0 - 156_543.033_928).abs() < 1e-5);
    assert_eq!(zoom_for(z0, 0, 14), 0);
    assert_eq!(zoom_for(z0 / 1024.0, 0, 14), 10);
    // A hair coarser than zoom 10's pixel still reads zoom 10; a hair
    // finer, zoom 11.
    assert_eq!(zoom_for(z0 / 1024.0 * 1.01, 0, 14), 10);
    assert_eq!(zoom_for(z0 / 1024.0 * 0.99, 0, 14), 11);
    // Clamped to the archive's zooms: overzoom reads its deepest tiles.
    assert_eq!(zoom_for(0.01, 0, 14), 14);
    assert_eq!(zoom_for(1e9, 3, 14), 3);
    assert_eq!(zoom_for(f64::NAN, 3, 14), 14);
    assert_eq!(zoom_for(0.0, 3, 14), 14);
}

#[test]
fn a_box_along_tile_edges_covers_only_the_tiles_inside() {
    // The north-west quarter of the world at zoom 1 is tile 1/0/0.
    let quarter = [-HALF_WORLD, 0.0, 0.0, HALF_WORLD];
    assert_eq!(tile_range(quarter, 1), Some([0, 0, 0, 0]));
    assert_eq!(tile_range(quarter, 2), Some([0, 0, 1, 1]));
    // Beyond the world: clamped; outside it entirely: none.
    let beyond = [
        -3.0 * HALF_WORLD,
        -3.0 * HALF_WORLD,
        3.0 * HALF_WORLD,
        3.0 * HALF_WORLD,
    ];
    assert_eq!(tile_range(beyond, 3), Some([0, 0, 7, 7]));
    assert_eq!(tile_count(&[beyond], 3), 64);
    assert_eq!(
        tile_range([2.0 * HALF_WORLD, 0.0, 3.0 * HALF_WORLD, 1.0], 3),
        None
    );
    // Two boxes sharing a tile list it once.
    let tiles: Vec<_> = covering(&[quarter, quarter], 1).collect();
    assert_eq!(tiles, [TileCoord::new(1, 0, 0).unwrap()]);
}

#[test]
fn tile_units_become_metres_from_the_top_left_corner() {
    let placement = Placement::new(TileCoord::new(1, 1, 1).unwrap(), 4096);
    let mut point = Geometry::Point(geo_types::Point::new(0.0, 0.0));
    placement.to_metres(&mut point);
    assert_eq!(point, Geometry::Point(geo_types::Point::new(0.0, 0.0)));
    let mut corner = Geometry::Point(geo_types::Point::new(4096.0, 4096.0));
    placement.to_metres(&mut corner);
    assert_eq!(
        corner,
        Geometry::Point(geo_types::Point::new(HALF_WORLD, -HALF_WORLD))
    );
}

#[test]
fn vector_layers_fields_are_typed_by_their_declared_type() {
    let entry = serde_json::json!({
        "id": "roads", "description": "",
        "fields": {"name": "String", "lanes": "number", "oneway": "Boolean", "x": "Mixed"}
    });
    let (name, description, fields) = declared_layer(&entry).unwrap();
    assert_eq!(name, "roads");
    assert_eq!(description, None);
    let typed: Vec<_> = fields
        .iter()
        .map(|f| (f.name.as_str(), f.field_type))
        .collect();
    assert_eq!(
        typed,
        [
            ("lanes", FieldType::Real),
            ("name", FieldType::Text),
            ("oneway", FieldType::Boolean),
            ("x", FieldType::Text)
        ]
    );
    assert!(declared_layer(&serde_json::json!({"fields": {}})).is_none());
}
