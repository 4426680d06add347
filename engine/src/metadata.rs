//! What a tileset says about itself, gathered from the archive at open time
//! and later merged with the layer's configuration into TileJSON.

use crate::tile::{TileFormat, MAX_ZOOM};

/// Tileset metadata in WGS 84 longitude/latitude degrees (TileJSON 3.0.0 axis
/// order: longitude first).
#[derive(Debug, Clone)]
pub struct TileSetMetadata {
    pub format: TileFormat,
    pub name: Option<String>,
    pub description: Option<String>,
    pub attribution: Option<String>,
    pub version: Option<String>,
    pub minzoom: u8,
    pub maxzoom: u8,
    /// `[west, south, east, north]`.
    pub bounds: Option<[f64; 4]>,
    /// `[longitude, latitude, zoom]`.
    pub center: Option<[f64; 3]>,
    /// TileJSON `vector_layers`, as the archive stores them.
    pub vector_layers: Option<serde_json::Value>,
    /// URL of an ISO 19115 / 19139 metadata record about the data (from
    /// configuration only).
    pub metadata_url: Option<String>,
}

impl TileSetMetadata {
    /// Metadata with nothing known but the format, over every zoom level.
    pub fn new(format: TileFormat) -> Self {
        Self {
            format,
            name: None,
            description: None,
            attribution: None,
            version: None,
            minzoom: 0,
            maxzoom: MAX_ZOOM,
            bounds: None,
            center: None,
            vector_layers: None,
            metadata_url: None,
        }
    }

    /// Copies the name, description, attribution, version and vector layers
    /// found in a metadata JSON object (PMTiles metadata, MBTiles `json`).
    pub fn merge_json(&mut self, json: &serde_json::Value) {
        let text = |key: &str| json.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        self.name = text("name").or(self.name.take());
        self.description = text("description").or(self.description.take());
        self.attribution = text("attribution").or(self.attribution.take());
        self.version = text("version").or(self.version.take());
        if let Some(layers) = json.get("vector_layers").filter(|v| v.is_array()) {
            self.vector_layers = Some(layers.clone());
        }
    }
}

/// Bounds checked to be finite, ordered and within WGS 84 limits; `None`
/// otherwise (a tileset with nonsense bounds is served as if unbounded).
pub fn valid_bounds(b: [f64; 4]) -> Option<[f64; 4]> {
    let [w, s, e, n] = b;
    let ok = b.iter().all(|v| v.is_finite())
        && (-180.0..=180.0).contains(&w)
        && (-180.0..=180.0).contains(&e)
        && (-90.0..=90.0).contains(&s)
        && (-90.0..=90.0).contains(&n)
        && w < e
        && s < n;
    ok.then_some(b)
}

/// A center checked like [`valid_bounds`], zoom clamped to the tileset's.
pub fn valid_center(c: [f64; 3]) -> Option<[f64; 3]> {
    let [lon, lat, z] = c;
    let ok = c.iter().all(|v| v.is_finite())
        && (-180.0..=180.0).contains(&lon)
        && (-90.0..=90.0).contains(&lat)
        && (0.0..=f64::from(MAX_ZOOM)).contains(&z);
    ok.then_some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_must_be_ordered_and_within_wgs84() {
        assert!(valid_bounds([-10.0, -5.0, 10.0, 5.0]).is_some());
        assert!(valid_bounds([10.0, -5.0, -10.0, 5.0]).is_none());
        assert!(valid_bounds([-190.0, -5.0, 10.0, 5.0]).is_none());
        assert!(valid_bounds([0.0, 0.0, 0.0, 0.0]).is_none());
        assert!(valid_bounds([f64::NAN, 0.0, 1.0, 1.0]).is_none());
    }

    #[test]
    fn json_metadata_fills_text_fields_and_vector_layers() {
        let mut m = TileSetMetadata::new(TileFormat::Mvt);
        m.merge_json(&serde_json::json!({
            "name": "n", "attribution": "© OSM", "vector_layers": [{"id": "roads"}]
        }));
        assert_eq!(m.name.as_deref(), Some("n"));
        assert_eq!(m.attribution.as_deref(), Some("© OSM"));
        assert_eq!(m.vector_layers.unwrap()[0]["id"], "roads");
    }
}
