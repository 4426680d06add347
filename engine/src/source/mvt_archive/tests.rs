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
    let declared = declared_layer(&entry).unwrap();
    assert_eq!(declared.name, "roads");
    assert_eq!(declared.description, None);
    let typed: Vec<_> = declared
        .fields
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

/// An archive of one uncompressed tile at 0/0/0.
struct OneTile {
    data: Vec<u8>,
    metadata: crate::metadata::TileSetMetadata,
}

impl TileArchive for OneTile {
    fn get_tile(&self, coord: TileCoord) -> Result<Option<crate::tile::Tile>> {
        Ok((coord == TileCoord::new(0, 0, 0)?).then(|| {
            crate::tile::Tile::hashed(
                bytes::Bytes::from(self.data.clone()),
                crate::tile::Encoding::Identity,
            )
        }))
    }

    fn metadata(&self) -> &crate::metadata::TileSetMetadata {
        &self.metadata
    }
}

/// A length-delimited protobuf field.
fn len_field(field: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = vec![field << 3 | 2, bytes.len() as u8];
    out.extend(bytes);
    out
}

#[test]
fn a_feature_that_cannot_be_decoded_is_skipped_and_the_others_answered() {
    // Layer "l": keys "name", "other"; values "a", 7. Feature 1: id 5, a
    // point (2, 2) tagged name = "a", other = 7. Feature 2: a point whose
    // MoveTo lacks its y. Feature 3: a point without tags.
    let good = [
        &[0x08, 5][..],
        &len_field(2, &[0, 0, 1, 1]),
        &[0x18, 1],
        &len_field(4, &[9, 4, 4]),
    ]
    .concat();
    let bad = [&[0x18, 1][..], &len_field(4, &[9, 4])].concat();
    let bare = [&[0x18, 1][..], &len_field(4, &[9, 8, 8])].concat();
    let layer = [
        len_field(1, b"l"),
        len_field(2, &good),
        len_field(2, &bad),
        len_field(2, &bare),
        len_field(3, b"name"),
        len_field(3, b"other"),
        len_field(4, &len_field(1, b"a")),
        len_field(4, &[0x20, 7]),
        vec![0x28, 0x80, 0x20], // extent 4096
    ]
    .concat();
    let mut metadata = crate::metadata::TileSetMetadata::new(TileFormat::Mvt);
    metadata.maxzoom = 0;
    metadata.vector_layers = Some(serde_json::json!([
        {"id": "l", "fields": {"name": "String", "missing": "Number"}}
    ]));
    let archive = Arc::new(OneTile {
        data: len_field(3, &layer),
        metadata,
    });
    let layers = MvtArchiveLayer::layers(archive).unwrap();
    let bbox = crate::Bbox::new(
        Crs::shared(3857).unwrap(),
        [-HALF_WORLD, -HALF_WORLD, HALF_WORLD, HALF_WORLD],
    )
    .unwrap();
    let query = FeatureQuery {
        bbox: &bbox,
        tolerance: 1e5,
        max: 10,
        deadline: crate::deadline::Deadline::NONE,
    };
    let mut features = Vec::new();
    layers[0]
        .features(&query, &mut |f| features.push(f.clone()))
        .unwrap();
    assert_eq!(features.len(), 2, "{features:?}");
    assert_eq!(features[0].id, Some(5));
    // Fields sorted by name: "missing" (no such key: null), "name".
    assert_eq!(features[0].values, [Value::Null, Value::String("a".into())]);
    assert_eq!(features[1].values, [Value::Null, Value::Null]);
    let unit = 2.0 * HALF_WORLD / 4096.0;
    assert_eq!(
        features[0].geometry,
        Geometry::Point(geo_types::Point::new(
            -HALF_WORLD + 2.0 * unit,
            HALF_WORLD - 2.0 * unit
        ))
    );
}
