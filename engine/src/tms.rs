//! Tile matrix sets, as OGC Two Dimensional Tile Matrix Set 2.0 (17-083r4)
//! models them, with its JSON encoding for serde.
//!
//! The registered quad sets are generated from their defining parameters
//! (origin, level-0 cell size, level-0 matrix size; each level halves the
//! cell size and doubles the matrix; GNOSISGlobalGrid's coalesced rows by
//! their rule; CDB1GlobalGrid by its levels and latitude zones), and
//! checked in the tests against the values of the OGC registry. Irregular
//! sets (the registry's CanadianNAD83_LCC, IGN's `LAMB93`) list their scale
//! denominators and matrix sizes as published.
//! Custom sets come from TMS 2.0 JSON files.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// OGC's standardized rendering pixel size, 0.28 mm (TMS 2.0 §6.1.1).
pub const PIXEL_SIZE_METRES: f64 = 0.000_28;

/// Metres per degree on the WGS 84 semi-major axis, used by TMS 2.0 to
/// relate cell sizes in degrees to scale denominators (2π·6378137/360).
pub const METRES_PER_DEGREE: f64 = 6_378_137.0 * std::f64::consts::TAU / 360.0;

/// A tile matrix set (TMS 2.0 §7.2) in its JSON encoding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TileMatrixSet {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The CRS as a URI, e.g. `http://www.opengis.net/def/crs/EPSG/0/3857`.
    pub crs: String,
    /// Axis names in the CRS's order; `pointOfOrigin` follows this order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ordered_axes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub well_known_scale_set: Option<String>,
    pub tile_matrices: Vec<TileMatrix>,
}

/// One tile matrix (zoom level) of a set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TileMatrix {
    pub id: String,
    pub scale_denominator: f64,
    /// Cell (pixel) size in CRS units.
    pub cell_size: f64,
    #[serde(default)]
    pub corner_of_origin: CornerOfOrigin,
    /// The corner of the matrix, in the CRS's axis order.
    pub point_of_origin: [f64; 2],
    pub tile_width: u32,
    pub tile_height: u32,
    pub matrix_width: u32,
    pub matrix_height: u32,
    /// Rows whose tiles are wider (TMS 2.0 §6.1.5): none for most sets.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variable_matrix_widths: Vec<VariableMatrixWidth>,
}

/// Rows `min_tile_row..=max_tile_row` of a matrix whose tiles each cover
/// `coalesce` columns (TMS 2.0 §6.1.5): a geographic grid keeps its tiles
/// about as wide on the ground as they are high towards the poles. The
/// columns keep their numbering: with a coalescence of 4, tile columns 0 to
/// 3 are one tile (4 to 7 the next), whose canonical column is the first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariableMatrixWidth {
    pub coalesce: u32,
    pub min_tile_row: u32,
    pub max_tile_row: u32,
}

/// Which corner `pointOfOrigin` is; rows count away from it (TMS 2.0 §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CornerOfOrigin {
    #[default]
    TopLeft,
    BottomLeft,
}

impl TileMatrixSet {
    /// Whether the CRS's first axis is northing or latitude (EPSG:3035,
    /// EPSG:4326 as opposed to CRS84): `pointOfOrigin` and bounds then come
    /// northing first.
    pub fn northing_first(&self) -> bool {
        self.ordered_axes.first().is_some_and(|a| {
            matches!(
                a.to_ascii_lowercase().as_str(),
                "y" | "n" | "lat" | "latitude" | "northing"
            )
        })
    }

    /// The matrix with this id.
    pub fn matrix(&self, id: &str) -> Option<&TileMatrix> {
        self.tile_matrices.iter().find(|m| m.id == id)
    }

    /// Parses and checks a TMS 2.0 JSON document; `source` names it in errors.
    pub fn from_json(text: &str, source: &str) -> Result<Self> {
        let invalid = |detail: String| Error::InvalidRequest {
            detail: format!("tile matrix set {source}: {detail}"),
        };
        let tms: TileMatrixSet = serde_json::from_str(text).map_err(|e| invalid(e.to_string()))?;
        tms.check().map_err(invalid)?;
        Ok(tms)
    }

    /// The invariants every set must hold, whatever its source.
    fn check(&self) -> std::result::Result<(), String> {
        if self.id.is_empty()
            || !self
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err(format!(
                "id {:?} must be letters, digits, '-', '_' or '.'",
                self.id
            ));
        }
        if self.tile_matrices.is_empty() {
            return Err("no tile matrices".into());
        }
        let mut seen = std::collections::HashSet::new();
        for m in &self.tile_matrices {
            if !seen.insert(m.id.as_str()) {
                return Err(format!("tile matrix id {:?} is used twice", m.id));
            }
            let finite = [
                m.scale_denominator,
                m.cell_size,
                m.point_of_origin[0],
                m.point_of_origin[1],
            ]
            .iter()
            .all(|v| v.is_finite());
            if !finite || m.cell_size <= 0.0 || m.scale_denominator <= 0.0 {
                return Err(format!(
                    "tile matrix {:?}: sizes must be positive and finite",
                    m.id
                ));
            }
            if m.tile_width == 0
                || m.tile_height == 0
                || m.matrix_width == 0
                || m.matrix_height == 0
            {
                return Err(format!(
                    "tile matrix {:?}: tile and matrix sizes must be at least 1",
                    m.id
                ));
            }
            if m.tile_width > 4096 || m.tile_height > 4096 {
                return Err(format!(
                    "tile matrix {:?}: tiles larger than 4096 pixels",
                    m.id
                ));
            }
            m.check_variable_widths()
                .map_err(|detail| format!("tile matrix {:?}: {detail}", m.id))?;
        }
        Ok(())
    }
}

impl TileMatrix {
    /// Matrix `id` of a registered set: 256-pixel tiles counted from a
    /// top-left origin, `(matrix_width, matrix_height)` tiles.
    fn top_left_256(
        id: impl ToString,
        scale_denominator: f64,
        cell_size: f64,
        origin: [f64; 2],
        (matrix_width, matrix_height): (u32, u32),
    ) -> Self {
        TileMatrix {
            id: id.to_string(),
            scale_denominator,
            cell_size,
            corner_of_origin: CornerOfOrigin::TopLeft,
            point_of_origin: origin,
            tile_width: 256,
            tile_height: 256,
            matrix_width,
            matrix_height,
            variable_matrix_widths: Vec::new(),
        }
    }

    /// How many columns one tile of `row` covers: 1 but in the coalesced
    /// rows of a variable-width matrix.
    pub fn coalesce(&self, row: u32) -> u32 {
        self.variable_matrix_widths
            .iter()
            .find(|v| (v.min_tile_row..=v.max_tile_row).contains(&row))
            .map_or(1, |v| v.coalesce)
    }

    /// Coalescence factors of at least 2 that divide the matrix width, over
    /// rows inside the matrix, no row listed twice.
    fn check_variable_widths(&self) -> std::result::Result<(), String> {
        let mut rows: Vec<(u32, u32)> = Vec::new();
        for v in &self.variable_matrix_widths {
            if v.coalesce < 2 || !self.matrix_width.is_multiple_of(v.coalesce) {
                return Err(format!(
                    "coalesce {} must be 2 or more and divide the matrix width {}",
                    v.coalesce, self.matrix_width
                ));
            }
            if v.min_tile_row > v.max_tile_row || v.max_tile_row >= self.matrix_height {
                return Err(format!(
                    "coalesced rows {}..={} are not rows of the matrix",
                    v.min_tile_row, v.max_tile_row
                ));
            }
            rows.push((v.min_tile_row, v.max_tile_row));
        }
        rows.sort_unstable();
        if rows.windows(2).any(|w| w[1].0 <= w[0].1) {
            return Err("coalesced row ranges overlap".into());
        }
        Ok(())
    }

    /// The extent of tile (`col`, `row`), easting (or longitude) first:
    /// `[min_x, min_y, max_x, max_y]`, or `None` outside the matrix.
    /// Columns run east and rows away from the corner of origin whatever
    /// the CRS's axis order; `northing_first` says `pointOfOrigin` is
    /// (northing, easting), as in EPSG:4326 and EPSG:3035. In a coalesced
    /// row, the tile that covers `col` (TMS 2.0 §6.1.5: every column of a
    /// coalesced tile points to it).
    pub fn tile_bounds(&self, col: u32, row: u32, northing_first: bool) -> Option<[f64; 4]> {
        if col >= self.matrix_width || row >= self.matrix_height {
            return None;
        }
        let [ox, oy] = self.origin_xy(northing_first);
        let coalesce = self.coalesce(row);
        let (w, h) = self.tile_span();
        let min_x = ox + f64::from(col - col % coalesce) * w;
        let (min_y, max_y) = match self.corner_of_origin {
            CornerOfOrigin::TopLeft => (oy - f64::from(row + 1) * h, oy - f64::from(row) * h),
            CornerOfOrigin::BottomLeft => (oy + f64::from(row) * h, oy + f64::from(row + 1) * h),
        };
        Some([min_x, min_y, min_x + w * f64::from(coalesce), max_y])
    }

    /// A (not coalesced) tile's width and height in CRS units.
    pub fn tile_span(&self) -> (f64, f64) {
        (
            f64::from(self.tile_width) * self.cell_size,
            f64::from(self.tile_height) * self.cell_size,
        )
    }

    /// `pointOfOrigin` easting first.
    pub fn origin_xy(&self, northing_first: bool) -> [f64; 2] {
        let [o0, o1] = self.point_of_origin;
        if northing_first {
            [o1, o0]
        } else {
            [o0, o1]
        }
    }
}

/// Parameters of a quad set: every level halves the cell size of the
/// previous one and doubles its matrix.
#[derive(Clone)]
struct Quad {
    id: String,
    title: String,
    crs: String,
    axes: [&'static str; 2],
    well_known_scale_set: Option<&'static str>,
    origin: [f64; 2],
    /// Cell size and matrix size of the first level.
    first_cell: f64,
    first_matrix: (u32, u32),
    levels: std::ops::RangeInclusive<u32>,
    metres_per_unit: f64,
}

impl Quad {
    fn build(self) -> TileMatrixSet {
        let first = *self.levels.start();
        let tile_matrices = self
            .levels
            .map(|z| {
                let k = z - first;
                let cell_size = self.first_cell / f64::from(1u32 << k);
                TileMatrix::top_left_256(
                    z,
                    cell_size * self.metres_per_unit / PIXEL_SIZE_METRES,
                    cell_size,
                    self.origin,
                    (self.first_matrix.0 << k, self.first_matrix.1 << k),
                )
            })
            .collect();
        TileMatrixSet {
            uri: Some(format!(
                "http://www.opengis.net/def/tilematrixset/OGC/1.0/{}",
                self.id
            )),
            id: self.id,
            title: Some(self.title),
            crs: self.crs,
            ordered_axes: self.axes.iter().map(|a| (*a).to_owned()).collect(),
            well_known_scale_set: self.well_known_scale_set.map(str::to_owned),
            tile_matrices,
        }
    }
}

/// GNOSISGlobalGrid: EPSG:4326 (latitude first) from (90°, -180°), four by
/// two tiles of 90° at level 0, levels 0..=28, whose rows coalesce towards
/// the poles (see [`gnosis_coalesced_rows`]).
fn gnosis_global_grid() -> TileMatrixSet {
    let mut set = Quad {
        id: "GNOSISGlobalGrid".into(),
        title: "GNOSIS Global Grid".into(),
        crs: epsg(4326),
        axes: ["Lat", "Lon"],
        well_known_scale_set: Some("http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad"),
        origin: [90.0, -180.0],
        first_cell: 90.0 / 256.0,
        first_matrix: (4, 2),
        levels: 0..=28,
        metres_per_unit: METRES_PER_DEGREE,
    }
    .build();
    for (z, matrix) in (0..).zip(&mut set.tile_matrices) {
        matrix.variable_matrix_widths = gnosis_coalesced_rows(z);
    }
    set
}

/// The coalesced rows of GNOSISGlobalGrid's level `z`. Each hemisphere
/// has 2^z rows; counted from its pole, row 0 coalesces by 2^z (one tile
/// per 90° of longitude) and rows 2^k..2^(k+1) − 1 by 2^(z−k−1), while that
/// is 2 or more.
fn gnosis_coalesced_rows(z: u32) -> Vec<VariableMatrixWidth> {
    let half = 1u32 << z;
    let mut north = Vec::new();
    if z > 0 {
        north.push((half, 0, 0));
    }
    for k in 0..z.saturating_sub(1) {
        north.push((1 << (z - k - 1), 1 << k, (1 << (k + 1)) - 1));
    }
    mirrored_rows(&north, 2 * half)
}

/// CDB1GlobalGrid (OGC CDB 1.x, TMS 2.0 annex): EPSG:4326 (latitude first)
/// from (90°, -180°), one tile per degree at levels -10 to 0 (tiles of 1 to
/// 1024 pixels, cells of 2^-(level+10) degrees), then quad levels 1 to 21
/// of 1024-pixel tiles; rows coalesce by latitude zone
/// ([`cdb1_coalesced_rows`]).
fn cdb1_global_grid() -> TileMatrixSet {
    let tile_matrices = (-10..=21i32)
        .map(|level| {
            let pixels = 1u32 << (level.min(0) + 10);
            let rows_per_degree = 1u32 << level.max(0);
            let cell_size = 1.0 / (1u64 << (level + 10)) as f64;
            TileMatrix {
                id: level.to_string(),
                scale_denominator: cell_size * METRES_PER_DEGREE / PIXEL_SIZE_METRES,
                cell_size,
                corner_of_origin: CornerOfOrigin::TopLeft,
                point_of_origin: [90.0, -180.0],
                tile_width: pixels,
                tile_height: pixels,
                matrix_width: 360 * rows_per_degree,
                matrix_height: 180 * rows_per_degree,
                variable_matrix_widths: cdb1_coalesced_rows(rows_per_degree),
            }
        })
        .collect();
    TileMatrixSet {
        id: "CDB1GlobalGrid".into(),
        title: Some("CDB 1 Global Grid".into()),
        uri: Some("http://www.opengis.net/def/tilematrixset/OGC/1.0/CDB1GlobalGrid".into()),
        crs: epsg(4326),
        ordered_axes: vec!["Lat".into(), "Lon".into()],
        well_known_scale_set: None,
        tile_matrices,
    }
}

/// CDB's longitude zones: from each pole, tiles span 12 degrees of
/// longitude up to 89° of latitude, 6 to 80°, 4 to 75°, 3 to 70° and 2 to
/// 50°; with `rows_per_degree` rows per degree of latitude.
fn cdb1_coalesced_rows(rows_per_degree: u32) -> Vec<VariableMatrixWidth> {
    // (coalesce, degrees from the pole where the zone starts and ends)
    const ZONES: [(u32, u32, u32); 5] = [
        (12, 0, 1),
        (6, 1, 10),
        (4, 10, 15),
        (3, 15, 20),
        (2, 20, 40),
    ];
    let north: Vec<_> = ZONES
        .iter()
        .map(|&(c, from, to)| (c, from * rows_per_degree, to * rows_per_degree - 1))
        .collect();
    mirrored_rows(&north, 180 * rows_per_degree)
}

/// Coalesced rows `(coalesce, min_tile_row, max_tile_row)` of the northern
/// hemisphere, counted from the north pole, followed by their mirror image
/// in the southern one, of a matrix `rows` high.
fn mirrored_rows(north: &[(u32, u32, u32)], rows: u32) -> Vec<VariableMatrixWidth> {
    let south = north
        .iter()
        .rev()
        .map(|&(c, min, max)| (c, rows - 1 - max, rows - 1 - min));
    north
        .iter()
        .copied()
        .chain(south)
        .map(
            |(coalesce, min_tile_row, max_tile_row)| VariableMatrixWidth {
                coalesce,
                min_tile_row,
                max_tile_row,
            },
        )
        .collect()
}

fn epsg(code: u32) -> String {
    format!("http://www.opengis.net/def/crs/EPSG/0/{code}")
}

/// Half the equatorial circumference of the WGS 84 sphere (EPSG:3857 extent).
const WEB_MERCATOR_HALF: f64 = 20_037_508.342_789_244;

/// IGN's LAMB93 set (EPSG:2154), from the `LAMB93` TileMatrixSet of IGN's
/// Géoportail WMTS capabilities: scale denominator, matrix width, height
/// for levels 0..=21; origin (0, 12 000 000), 256-pixel tiles.
const LAMB93_LEVELS: [(f64, u32, u32); 22] = [
    (373_497_230.535_335_8, 2, 2),
    (186_705_472.692_108_94, 2, 2),
    (93_341_025.280_697_87, 2, 2),
    (46_667_469.220_714_29, 2, 3),
    (23_332_959.300_405_36, 2, 5),
    (11_666_284.015_938_216, 3, 9),
    (5_833_092.873_562_144, 5, 16),
    (2_916_534.124_95, 8, 30),
    (1_458_263.980_988_571_5, 14, 59),
    (729_131.219_681_785_7, 26, 117),
    (364_565.417_082_857_16, 51, 232),
    (182_282.660_345, 100, 462),
    (91_141.318_122_500_01, 199, 922),
    (45_570.656_048_571_43, 396, 1842),
    (22_785.327_271_428_573, 791, 3682),
    (11_392.663_447_500_001, 1581, 7363),
    (5_696.331_676_785_715, 3161, 14724),
    (2_848.165_826_785_714, 6321, 29447),
    (1_424.082_910_357_143, 12641, 58892),
    (712.041_454_642_857_2, 25281, 117782),
    (356.020_727_5, 50561, 235563),
    (178.010_363_571_428_58, 101121, 471125),
];

/// CanadianNAD83_LCC (EPSG:3978) as the OGC registry defines it: scale
/// denominator, matrix width, height for levels 0..=25; origin
/// (-34 655 800, 39 310 000), 256-pixel tiles. Its cell sizes are the scale
/// denominators over 3779.52 (96 dpi, as the registry computes them), not
/// over TMS 2.0's 0.28 mm pixel.
const CANADIAN_LCC_LEVELS: [(f64, u32, u32); 26] = [
    (145_000_000.0, 5, 5),
    (85_000_000.0, 8, 8),
    (50_000_000.0, 13, 14),
    (30_000_000.0, 21, 22),
    (17_500_000.0, 36, 38),
    (10_000_000.0, 62, 66),
    (6_000_000.0, 103, 110),
    (3_500_000.0, 177, 188),
    (2_000_000.0, 309, 329),
    (1_200_000.0, 515, 548),
    (700_000.0, 882, 938),
    (420_000.0, 1470, 1563),
    (250_000.0, 2469, 2626),
    (145_000.0, 4257, 4528),
    (85_000.0, 7262, 7723),
    (50_000.0, 12344, 13130),
    (30_000.0, 20574, 21882),
    (17_500.0, 35269, 37512),
    (10_000.0, 61720, 65646),
    (6_000.0, 102866, 109409),
    (3_500.0, 176341, 187558),
    (2_000.0, 308596, 328227),
    (1_200.0, 514327, 547044),
    (700.0, 881703, 937790),
    (420.0, 1469505, 1562983),
    (250.0, 2468768, 2625811),
];

/// A set whose levels are listed, not generated: `(scale denominator,
/// matrix width, matrix height)` per level, cells `scale × metres per
/// pixel`, one top-left origin, 256-pixel tiles, east-north axes.
struct Listed {
    id: &'static str,
    title: &'static str,
    uri: Option<String>,
    epsg: u32,
    origin: [f64; 2],
    pixel_metres: f64,
    levels: &'static [(f64, u32, u32)],
}

impl Listed {
    fn build(self) -> TileMatrixSet {
        let tile_matrices = self
            .levels
            .iter()
            .enumerate()
            .map(|(z, &(scale_denominator, width, height))| {
                let cell_size = scale_denominator * self.pixel_metres;
                TileMatrix::top_left_256(
                    z,
                    scale_denominator,
                    cell_size,
                    self.origin,
                    (width, height),
                )
            })
            .collect();
        TileMatrixSet {
            id: self.id.into(),
            title: Some(self.title.into()),
            uri: self.uri,
            crs: epsg(self.epsg),
            ordered_axes: vec!["E".into(), "N".into()],
            well_known_scale_set: None,
            tile_matrices,
        }
    }
}

/// The sets every server offers: the OGC registry's WebMercatorQuad,
/// WorldCRS84Quad, WorldMercatorWGS84Quad, GNOSISGlobalGrid,
/// CDB1GlobalGrid, EuropeanETRS89_LAEAQuad, the 60 UTMnnWGS84Quad,
/// UPSArcticWGS84Quad, UPSAntarcticWGS84Quad and CanadianNAD83_LCC, plus
/// IGN's LAMB93.
pub fn registered() -> Vec<TileMatrixSet> {
    let web_mercator = Quad {
        id: "WebMercatorQuad".into(),
        title: "Google Maps Compatible for the World".into(),
        crs: epsg(3857),
        axes: ["X", "Y"],
        well_known_scale_set: Some("http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible"),
        origin: [-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF],
        first_cell: 2.0 * WEB_MERCATOR_HALF / 256.0,
        first_matrix: (1, 1),
        levels: 0..=24,
        metres_per_unit: 1.0,
    };
    // The ellipsoidal Mercator set reuses the spherical one's numbers.
    let world_mercator = Quad {
        id: "WorldMercatorWGS84Quad".into(),
        title: "World Mercator WGS84 (ellipsoid)".into(),
        crs: epsg(3395),
        axes: ["E", "N"],
        well_known_scale_set: Some("http://www.opengis.net/def/wkss/OGC/1.0/WorldMercatorWGS84"),
        ..web_mercator.clone()
    };
    let mut sets = vec![
        web_mercator.build(),
        world_mercator.build(),
        Quad {
            id: "WorldCRS84Quad".into(),
            title: "CRS84 for the World".into(),
            crs: "http://www.opengis.net/def/crs/OGC/1.3/CRS84".into(),
            axes: ["Lon", "Lat"],
            well_known_scale_set: Some("http://www.opengis.net/def/wkss/OGC/1.0/GoogleCRS84Quad"),
            origin: [-180.0, 90.0],
            first_cell: 180.0 / 256.0,
            first_matrix: (2, 1),
            levels: 0..=23,
            metres_per_unit: METRES_PER_DEGREE,
        }
        .build(),
        gnosis_global_grid(),
        cdb1_global_grid(),
        Quad {
            id: "EuropeanETRS89_LAEAQuad".into(),
            title: "Lambert Azimuthal Equal Area ETRS89 for Europe".into(),
            crs: epsg(3035),
            // EPSG:3035 is northing first: the origin is (Y, X).
            axes: ["Y", "X"],
            well_known_scale_set: None,
            origin: [5_500_000.0, 2_000_000.0],
            first_cell: 17_578.125,
            first_matrix: (1, 1),
            levels: 0..=15,
            metres_per_unit: 1.0,
        }
        .build(),
    ];
    for zone in 1..=60u32 {
        sets.push(
            Quad {
                id: format!("UTM{zone:02}WGS84Quad"),
                title: format!("Universal Transverse Mercator Zone {zone} WGS84 Quad"),
                crs: epsg(32600 + zone),
                axes: ["E", "N"],
                well_known_scale_set: None,
                origin: [-9_501_965.729_312_76, 20_003_931.458_625_5],
                first_cell: 78_140.357_260_255_9,
                first_matrix: (1, 2),
                levels: 1..=24,
                metres_per_unit: 1.0,
            }
            .build(),
        );
    }
    // Universal Polar Stereographic: the registry's origin and extent
    // (±16 440 759.350252 m around the pole's false origin of 2 000 000).
    for (id, title, code) in [
        ("UPSArcticWGS84Quad", "Arctic", 5041),
        ("UPSAntarcticWGS84Quad", "Antarctic", 5042),
    ] {
        sets.push(
            Quad {
                id: id.into(),
                title: format!("Universal Polar Stereographic WGS 84 Quad for {title}"),
                crs: epsg(code),
                axes: ["E", "N"],
                well_known_scale_set: None,
                origin: [-14_440_759.350_252, 18_440_759.350_252],
                first_cell: 32_881_518.700_504 / 256.0,
                first_matrix: (1, 1),
                levels: 0..=24,
                metres_per_unit: 1.0,
            }
            .build(),
        );
    }
    sets.push(
        Listed {
            id: "CanadianNAD83_LCC",
            title: "Lambert conformal conic NAD83 for Canada",
            uri: Some("http://www.opengis.net/def/tilematrixset/OGC/1.0/CanadianNAD83_LCC".into()),
            epsg: 3978,
            origin: [-34_655_800.0, 39_310_000.0],
            pixel_metres: 1.0 / 3779.52,
            levels: &CANADIAN_LCC_LEVELS,
        }
        .build(),
    );
    sets.push(
        Listed {
            id: "LAMB93",
            title: "Lambert-93 (RGF93 v1), IGN Géoportail grid",
            uri: None,
            epsg: 2154,
            origin: [0.0, 12_000_000.0],
            pixel_metres: PIXEL_SIZE_METRES,
            levels: &LAMB93_LEVELS,
        }
        .build(),
    );
    sets
}

/// The sets a server offers, by id: the registered ones and custom ones.
#[derive(Debug, Clone)]
pub struct TileMatrixSets {
    sets: BTreeMap<String, TileMatrixSet>,
    /// Ids of the sets that came from the configuration.
    custom: Vec<String>,
}

impl TileMatrixSets {
    /// The registered sets plus `custom` ones, which must not reuse an id.
    pub fn new(custom: Vec<TileMatrixSet>) -> Result<Self> {
        let mut sets: BTreeMap<String, TileMatrixSet> = registered()
            .into_iter()
            .map(|t| (t.id.clone(), t))
            .collect();
        let mut custom_ids = Vec::new();
        for tms in custom {
            if sets.contains_key(&tms.id) {
                return Err(Error::InvalidRequest {
                    detail: format!("tile matrix set id {:?} is already defined", tms.id),
                });
            }
            custom_ids.push(tms.id.clone());
            sets.insert(tms.id.clone(), tms);
        }
        Ok(Self {
            sets,
            custom: custom_ids,
        })
    }

    /// The set with this id.
    pub fn get(&self, id: &str) -> Option<&TileMatrixSet> {
        self.sets.get(id)
    }

    /// The sets that came from the configuration, in the order given.
    pub fn custom(&self) -> impl Iterator<Item = &TileMatrixSet> {
        self.custom.iter().filter_map(|id| self.sets.get(id))
    }

    /// Every set, in id order.
    pub fn iter(&self) -> impl Iterator<Item = &TileMatrixSet> {
        self.sets.values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Relative difference, for values the registry prints to 15 digits.
    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    fn set(id: &str) -> TileMatrixSet {
        TileMatrixSets::new(vec![])
            .unwrap()
            .get(id)
            .unwrap()
            .clone()
    }

    /// (set, matrix, scaleDenominator, cellSize, origin, width, height) as
    /// the OGC registry's JSON files (opengeospatial/2D-Tile-Matrix-Set,
    /// registry/json) and IGN's capabilities give them.
    #[test]
    #[allow(clippy::excessive_precision)] // digits as IGN publishes them
    fn registered_sets_match_the_published_definitions() {
        let published = [
            (
                "WebMercatorQuad",
                "0",
                559082264.028717,
                156543.033928041,
                [-20037508.3427892, 20037508.3427892],
                1,
                1,
            ),
            (
                "WebMercatorQuad",
                "24",
                33.3238997476528,
                0.0093306919293428,
                [-20037508.3427892, 20037508.3427892],
                16777216,
                16777216,
            ),
            (
                "WorldCRS84Quad",
                "0",
                279541132.014358,
                0.703125,
                [-180.0, 90.0],
                2,
                1,
            ),
            // GNOSISGlobalGrid's scale denominators and matrix sizes as
            // its registry definition gives them (levels 0 and 8).
            (
                "GNOSISGlobalGrid",
                "0",
                139770566.00717944,
                0.3515625,
                [90.0, -180.0],
                4,
                2,
            ),
            (
                "GNOSISGlobalGrid",
                "8",
                545978.7734655447,
                0.3515625 / 256.0,
                [90.0, -180.0],
                1024,
                512,
            ),
            (
                "WorldCRS84Quad",
                "17",
                2132.72958384978,
                0.00000536441802978515,
                [-180.0, 90.0],
                262144,
                131072,
            ),
            (
                "WorldMercatorWGS84Quad",
                "10",
                545978.773465544,
                152.874056570352,
                [-20037508.3427892, 20037508.3427892],
                1024,
                1024,
            ),
            (
                "EuropeanETRS89_LAEAQuad",
                "0",
                62779017.8571428,
                17578.125,
                [5500000.0, 2000000.0],
                1,
                1,
            ),
            (
                "EuropeanETRS89_LAEAQuad",
                "15",
                1915.86358206612,
                0.536441803,
                [5500000.0, 2000000.0],
                32768,
                32768,
            ),
            (
                "UTM31WGS84Quad",
                "1",
                279072704.500914,
                78140.3572602559,
                [-9501965.72931276, 20003931.4586255],
                1,
                2,
            ),
            (
                "UTM31WGS84Quad",
                "24",
                33.2680588365691,
                0.00931505647423934,
                [-9501965.72931276, 20003931.4586255],
                8388608,
                16777216,
            ),
            (
                "UPSArcticWGS84Quad",
                "0",
                458726544.4,
                128443.4324,
                [-14440759.350252, 18440759.350252],
                1,
                1,
            ),
            (
                "UPSAntarcticWGS84Quad",
                "10",
                447975.141,
                125.4330395,
                [-14440759.350252, 18440759.350252],
                1024,
                1024,
            ),
            (
                "CanadianNAD83_LCC",
                "0",
                145000000.0,
                38364.6600626534,
                [-34655800.0, 39310000.0],
                5,
                5,
            ),
            (
                "CanadianNAD83_LCC",
                "25",
                250.0,
                0.0661459656252645,
                [-34655800.0, 39310000.0],
                2468768,
                2625811,
            ),
            (
                "LAMB93",
                "0",
                373497230.5353357571875677,
                104579.224549894,
                [0.0, 12000000.0],
                2,
                2,
            ),
            (
                "LAMB93",
                "21",
                178.0103635714285826,
                0.0498429018,
                [0.0, 12000000.0],
                101121,
                471125,
            ),
        ];
        for (id, matrix, scale, cell, origin, width, height) in published {
            let tms = set(id);
            let m = tms
                .matrix(matrix)
                .unwrap_or_else(|| panic!("{id} {matrix}"));
            // The registry rounds to 15 significant digits (and LAEA's deep
            // cell sizes to 10): compare to 1e-9 relative.
            let near = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
            assert!(
                near(m.scale_denominator, scale),
                "{id} {matrix}: scale {}",
                m.scale_denominator
            );
            assert!(
                near(m.cell_size, cell),
                "{id} {matrix}: cell {}",
                m.cell_size
            );
            assert!(
                near(m.point_of_origin[0], origin[0]) && near(m.point_of_origin[1], origin[1]),
                "{id}"
            );
            assert_eq!(
                (m.matrix_width, m.matrix_height),
                (width, height),
                "{id} {matrix}"
            );
        }
        assert_eq!(
            set("UTM01WGS84Quad").crs,
            "http://www.opengis.net/def/crs/EPSG/0/32601"
        );
        assert_eq!(
            set("UTM60WGS84Quad").crs,
            "http://www.opengis.net/def/crs/EPSG/0/32660"
        );
        assert_eq!(set("LAMB93").tile_matrices.len(), 22);
        assert_eq!(set("CanadianNAD83_LCC").tile_matrices.len(), 26);
        assert_eq!(
            set("UPSAntarcticWGS84Quad").crs,
            "http://www.opengis.net/def/crs/EPSG/0/5042"
        );
        assert_eq!(
            TileMatrixSets::new(vec![]).unwrap().iter().count(),
            6 + 60 + 2 + 1 + 1
        );
    }

    #[test]
    fn tile_bounds_count_rows_away_from_the_origin() {
        let wmq = set("WebMercatorQuad");
        let z1 = wmq.matrix("1").unwrap();
        let h = WEB_MERCATOR_HALF;
        let bounds = z1.tile_bounds(0, 0, false).unwrap();
        let expected = [-h, 0.0, 0.0, h];
        for (got, want) in bounds.iter().zip(expected) {
            assert!((got - want).abs() < 1e-6, "{bounds:?}");
        }
        assert!(z1.tile_bounds(2, 0, false).is_none() && z1.tile_bounds(0, 2, false).is_none());
        // From a bottom-left origin, row 1 lies one tile height above it.
        let bottom_left = TileMatrix {
            corner_of_origin: CornerOfOrigin::BottomLeft,
            ..z1.clone()
        };
        let [_, s, _, n] = bottom_left.tile_bounds(0, 1, false).unwrap();
        assert!(close(s, 2.0 * h) && close(n, 3.0 * h), "{s} {n}");
        // A northing-first set: EPSG:3035's origin is (Y, X) = (5.5e6,
        // 2e6); columns still run east, bounds come easting first.
        let laea = set("EuropeanETRS89_LAEAQuad");
        assert!(laea.northing_first());
        let z1 = laea.matrix("1").unwrap();
        let half = 4_500_000.0 / 2.0;
        assert_eq!(
            z1.tile_bounds(1, 0, true),
            Some([2e6 + half, 5.5e6 - half, 2e6 + 2.0 * half, 5.5e6])
        );
    }

    /// (coalesce, minTileRow, maxTileRow) as the registry's
    /// GNOSISGlobalGrid lists them.
    #[test]
    fn gnosis_rows_coalesce_as_published() {
        let gnosis = set("GNOSISGlobalGrid");
        let rows = |id: &str| -> Vec<(u32, u32, u32)> {
            let m = gnosis.matrix(id).unwrap();
            m.variable_matrix_widths
                .iter()
                .map(|v| (v.coalesce, v.min_tile_row, v.max_tile_row))
                .collect()
        };
        assert!(rows("0").is_empty());
        assert_eq!(rows("1"), [(2, 0, 0), (2, 3, 3)]);
        assert_eq!(rows("2"), [(4, 0, 0), (2, 1, 1), (2, 6, 6), (4, 7, 7)]);
        assert_eq!(
            rows("3"),
            [
                (8, 0, 0),
                (4, 1, 1),
                (2, 2, 3),
                (2, 12, 13),
                (4, 14, 14),
                (8, 15, 15)
            ]
        );
        let deepest = rows("28");
        assert_eq!(deepest.len(), 2 * 28);
        assert_eq!(
            deepest[..3],
            [(1 << 28, 0, 0), (1 << 27, 1, 1), (1 << 26, 2, 3)]
        );
        assert_eq!(deepest[27], (2, 67_108_864, 134_217_727));
        assert_eq!(deepest[28], (2, 402_653_184, 469_762_047));
        assert_eq!(deepest[55], (1 << 28, 536_870_911, 536_870_911));
        assert_eq!(gnosis.tile_matrices.len(), 29);
    }

    #[test]
    fn a_coalesced_tile_spans_its_columns_and_each_of_them_names_it() {
        let gnosis = set("GNOSISGlobalGrid");
        let z2 = gnosis.matrix("2").unwrap();
        assert!(gnosis.northing_first());
        let bounds = |col, row| z2.tile_bounds(col, row, true);
        // 22.5° tiles, longitude first. Row 0 coalesces by 4, row 1 by 2.
        for col in 0..4 {
            assert_eq!(bounds(col, 0), Some([-180.0, 67.5, -90.0, 90.0]));
        }
        assert_eq!(bounds(5, 0), Some([-90.0, 67.5, 0.0, 90.0]));
        assert_eq!(bounds(3, 1), Some([-135.0, 45.0, -90.0, 67.5]));
        assert_eq!(bounds(3, 3), Some([-112.5, 0.0, -90.0, 22.5]));
        assert_eq!(bounds(15, 7), Some([90.0, -90.0, 180.0, -67.5]));
        assert_eq!(bounds(16, 0), None);
    }

    #[test]
    fn variable_widths_round_trip_and_bad_ones_are_rejected() {
        let gnosis = set("GNOSISGlobalGrid");
        let json = serde_json::to_string(&gnosis).unwrap();
        assert!(json.contains(
            "\"variableMatrixWidths\":[{\"coalesce\":2,\"minTileRow\":0,\"maxTileRow\":0}"
        ));
        // serde_json parses floats to within an ulp, not always exactly.
        let back = TileMatrixSet::from_json(&json, "g.json").unwrap();
        assert_eq!(back.tile_matrices.len(), gnosis.tile_matrices.len());
        for (a, b) in back.tile_matrices.iter().zip(&gnosis.tile_matrices) {
            assert_eq!(a.variable_matrix_widths, b.variable_matrix_widths);
            assert!(close(a.cell_size, b.cell_size), "{}", a.id);
        }
        let wmq = set("WebMercatorQuad");
        assert!(!serde_json::to_string(&wmq)
            .unwrap()
            .contains("variableMatrixWidths"));
        let bad = |widths: &[(u32, u32, u32)]| {
            let mut tms = gnosis.clone();
            tms.tile_matrices[2].variable_matrix_widths = widths
                .iter()
                .map(
                    |&(coalesce, min_tile_row, max_tile_row)| VariableMatrixWidth {
                        coalesce,
                        min_tile_row,
                        max_tile_row,
                    },
                )
                .collect();
            let json = serde_json::to_string(&tms).unwrap();
            TileMatrixSet::from_json(&json, "v.json")
                .unwrap_err()
                .to_string()
        };
        // Level 2 is 16 × 8 tiles.
        for (widths, says) in [
            (&[(3, 0, 0)][..], "divide"),
            (&[(1, 0, 0)][..], "2 or more"),
            (&[(2, 0, 8)][..], "not rows"),
            (&[(2, 5, 4)][..], "not rows"),
            (&[(2, 0, 3), (4, 3, 3)][..], "overlap"),
        ] {
            let err = bad(widths);
            assert!(err.contains("v.json") && err.contains(says), "{err}");
        }
    }

    #[test]
    fn json_round_trips_and_bad_sets_are_rejected_with_their_source() {
        let wmq = set("WebMercatorQuad");
        let json = serde_json::to_string(&wmq).unwrap();
        assert!(
            json.contains("\"tileMatrices\"") && json.contains("\"cornerOfOrigin\":\"topLeft\"")
        );
        assert_eq!(TileMatrixSet::from_json(&json, "wmq.json").unwrap(), wmq);

        let mut broken = wmq.clone();
        broken.tile_matrices[3].cell_size = -1.0;
        let err = TileMatrixSet::from_json(&serde_json::to_string(&broken).unwrap(), "x.json");
        let err = err.unwrap_err().to_string();
        assert!(err.contains("x.json") && err.contains("\"3\""), "{err}");
        let err = TileMatrixSet::from_json("{\"id\": \"a\"}", "y.json")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("y.json") && err.contains("missing field"),
            "{err}"
        );
        let clash = TileMatrixSets::new(vec![wmq]).unwrap_err().to_string();
        assert!(clash.contains("already defined"), "{clash}");
    }
}
