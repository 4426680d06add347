//! Coordinate reference systems and transforms between them.
//!
//! `proj4rs` (pure Rust, a port of proj4js) does the arithmetic, and
//! `crs-definitions` maps EPSG codes to PROJ.4 definitions: no C library
//! to build or ship, at the price of PROJ's datum grids (transforms use the
//! `+towgs84` Helmert parameters; the tests measure the difference with
//! PROJ through GDAL).
//!
//! Axis order here is always easting/longitude first, northing/latitude
//! second, in metres or degrees: protocols that speak in the CRS's own
//! axis order (WMS 1.3.0, WMTS, TMS 2.0 `orderedAxes`) swap at their edge.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use proj4rs::proj::Proj;

use crate::error::{Error, Result};

/// A CRS known by its EPSG code, parsed once.
pub struct Crs {
    pub epsg: u32,
    proj: Proj,
    /// [`Crs::world_width`], found once.
    world_width: std::sync::OnceLock<Option<f64>>,
}

impl std::fmt::Debug for Crs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "EPSG:{}", self.epsg)
    }
}

impl Crs {
    /// The CRS of an EPSG code, or `Unsupported` when no definition is known.
    pub fn from_epsg(epsg: u32) -> Result<Self> {
        let unsupported = |detail: String| Error::Unsupported {
            path: "CRS".into(),
            detail,
        };
        let def = u16::try_from(epsg)
            .ok()
            .and_then(crs_definitions::from_code)
            .ok_or_else(|| unsupported(format!("EPSG:{epsg} has no known definition")))?;
        let proj = Proj::from_proj_string(def.proj4)
            .map_err(|e| unsupported(format!("EPSG:{epsg} ({}): {e:?}", def.proj4)))?;
        Ok(Crs {
            epsg,
            proj,
            world_width: Default::default(),
        })
    }

    /// The CRS named by an OGC URI or URN, or `EPSG:n`: `…/def/crs/EPSG/0/n`,
    /// `urn:ogc:def:crs:EPSG::n`, and OGC's CRS84 (WGS 84 longitude first).
    pub fn from_name(name: &str) -> Result<Self> {
        Crs::from_epsg(epsg_of_name(name)?)
    }

    /// The CRS of an EPSG code, parsed once per process and shared (the
    /// codes that parse are a bounded set, so is this cache): requests name
    /// their CRS with every call, and parsing a definition costs more than
    /// a tile lookup.
    pub fn shared(epsg: u32) -> Result<Arc<Crs>> {
        static PARSED: OnceLock<Mutex<HashMap<u32, Arc<Crs>>>> = OnceLock::new();
        let parsed = PARSED.get_or_init(Default::default);
        let lock = || parsed.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(crs) = lock().get(&epsg) {
            return Ok(Arc::clone(crs));
        }
        let crs = Arc::new(Crs::from_epsg(epsg)?);
        Ok(Arc::clone(lock().entry(epsg).or_insert(crs)))
    }

    /// [`Crs::shared`] for a name [`Crs::from_name`] reads.
    pub fn shared_named(name: &str) -> Result<Arc<Crs>> {
        Crs::shared(epsg_of_name(name)?)
    }

    /// Whether coordinates are degrees of longitude and latitude.
    pub fn is_geographic(&self) -> bool {
        self.proj.is_latlong()
    }

    /// Whether the EPSG definition of this CRS lists northing (or latitude)
    /// before easting (or longitude): what WMS 1.3.0 (OGC 06-042 §6.7.3.3),
    /// WMTS and GML expect in their coordinates, where this crate always
    /// puts easting first.
    ///
    /// Every geographic EPSG CRS is latitude first (EPSG:4326 included;
    /// `CRS:84` is its longitude-first twin and is not an EPSG code). The
    /// PROJ.4 strings `crs-definitions` gives carry no axis order, so
    /// projected CRSs are looked up in [`NORTHING_FIRST`], a list of the
    /// common northing-first ones (from the EPSG registry's axis
    /// definitions); any other projected CRS is easting first, as nearly
    /// all are.
    pub fn northing_first(&self) -> bool {
        self.is_geographic()
            || NORTHING_FIRST
                .iter()
                .any(|range| range.contains(&self.epsg))
    }

    /// The length along x of one turn around the world, for a CRS whose x
    /// wraps at the antimeridian and is centred on Greenwich: 360 for
    /// longitude and latitude, the equator's length for a cylindrical
    /// projection (WebMercator, World Mercator, equirectangular), whose
    /// meridians are vertical lines evenly spaced. `None` for every other
    /// CRS (conic, azimuthal, transverse: a box in them does not wrap, or
    /// not along x).
    pub fn world_width(&self) -> Option<f64> {
        *self.world_width.get_or_init(|| self.find_world_width())
    }

    fn find_world_width(&self) -> Option<f64> {
        if self.is_geographic() {
            return Some(360.0);
        }
        let wgs84 = Crs::from_epsg(4326).ok()?;
        let mut p = [
            (-90.0, 0.0),
            (0.0, 0.0),
            (90.0, 0.0),
            (0.0, 60.0),
            (90.0, 60.0),
        ];
        Transform::new(&wgs84, self).apply(&mut p);
        let quarter = p[2].0;
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * quarter.abs();
        let cylindrical = quarter.is_finite()
            && quarter > 0.0
            && close(p[0].0, -quarter)
            && close(p[1].0, 0.0)
            && close(p[0].1, p[1].1)
            && close(p[2].1, p[1].1)
            && close(p[3].0, 0.0)
            && close(p[4].0, quarter);
        cylindrical.then_some(4.0 * quarter)
    }
}

/// The EPSG code an OGC URI or URN, `EPSG:n` or `CRS:84` names.
fn epsg_of_name(name: &str) -> Result<u32> {
    let lower = name.trim().to_ascii_lowercase();
    if lower.ends_with("/ogc/1.3/crs84") || lower.ends_with("ogc:1.3:crs84") || lower == "crs:84" {
        return Ok(4326);
    }
    let code = lower
        .strip_prefix("epsg:")
        .or_else(|| {
            lower
                .rsplit_once("/def/crs/epsg/")
                .map(|(_, rest)| rest.rsplit('/').next().unwrap_or(""))
        })
        .or_else(|| {
            lower
                .strip_prefix("urn:ogc:def:crs:epsg:")
                .map(|rest| rest.rsplit(':').next().unwrap_or(""))
        });
    match code.and_then(|c| c.parse().ok()) {
        Some(code) => Ok(code),
        None => Err(Error::invalid(format!(
            "{name:?} does not name a CRS by EPSG code"
        ))),
    }
}

/// Whether WGS 84 `[west, south, east, north]` bounds lie within metropolitan
/// France and its waters, the area of use of RGF93 / Lambert-93
/// (EPSG:2154), widened to whole degrees.
pub fn in_lambert93_area([w, s, e, n]: [f64; 4]) -> bool {
    w > -10.0 && e < 11.0 && s > 41.0 && n < 52.0
}

/// Projected EPSG CRSs whose first axis is northing (EPSG registry):
/// ETRS89 LCC and LAEA Europe, ETRS89 / TM zones (N-E), SWEREF99,
/// ETRS-TM35FIN, RT90, KKJ, Poland CS92, Pulkovo and DHDN Gauss-Krüger
/// zones, NZGD2000 / NZTM.
const NORTHING_FIRST: &[std::ops::RangeInclusive<u32>] = &[
    3034..=3035,
    3038..=3051,
    3006..=3018,
    3067..=3067,
    3021..=3021,
    2391..=2394,
    2176..=2180,
    28402..=28432,
    31466..=31469,
    2193..=2193,
];

/// Transforms points from one CRS to another.
pub struct Transform<'a> {
    from: &'a Crs,
    to: &'a Crs,
}

impl<'a> Transform<'a> {
    pub fn new(from: &'a Crs, to: &'a Crs) -> Self {
        Transform { from, to }
    }

    /// Transforms `(x, y)` in place; a point the projection cannot reach
    /// (beyond a pole, outside a zone's domain) becomes NaN, so a warp can
    /// leave its pixel empty rather than fail the whole tile.
    pub fn apply(&self, points: &mut [(f64, f64)]) {
        if self.from.epsg == self.to.epsg {
            return;
        }
        // A pole is a point of WebMercator's infinity: a hair short of it,
        // it is a point far past the world's edge, which clipping handles
        // (Antarctica's outline runs along -90°: dropped as NaN, its ring
        // cut across the tile).
        const POLE: f64 = 90.0 - 1e-6;
        for p in points.iter_mut() {
            let mut q = if self.from.is_geographic() {
                (p.0.to_radians(), p.1.clamp(-POLE, POLE).to_radians(), 0.0)
            } else {
                (p.0, p.1, 0.0)
            };
            *p = match proj4rs::transform::transform(&self.from.proj, &self.to.proj, &mut q) {
                Ok(()) if self.to.is_geographic() => (q.0.to_degrees(), q.1.to_degrees()),
                Ok(()) => (q.0, q.1),
                Err(_) => (f64::NAN, f64::NAN),
            };
            if !(p.0.is_finite() && p.1.is_finite()) {
                *p = (f64::NAN, f64::NAN);
            }
        }
    }

    /// The bounding box of `points` once transformed; points the transform
    /// cannot place are left out, and `None` when it places none.
    pub fn bounds(&self, points: &[(f64, f64)]) -> Option<[f64; 4]> {
        let mut points = points.to_vec();
        self.apply(&mut points);
        points.retain(|p| p.0.is_finite());
        bounds_of(&points)
    }

    /// The boxes covering `bbox` (`[min_x, min_y, max_x, max_y]`, easting
    /// first) once transformed, through its outline: `per_side` points on
    /// each side, the corners among them (enough for a tile's curvature).
    /// Empty when the transform places no point.
    ///
    /// One box, or two where the transformed box crosses the antimeridian
    /// of a target CRS that wraps there ([`Crs::world_width`]): a tile
    /// grown by its buffer past 180° in WebMercator reaches longitudes
    /// that the transform gives back as −180° and beyond, and a min/max of
    /// the outline would then span the whole world but for the slivers
    /// next to the antimeridian, exactly where the tile is (issue 12).
    /// The outline is followed in order and each point taken to the turn
    /// of the world nearest its predecessor, then the box is cut at the
    /// antimeridian; a box a world wide or more is the whole world.
    pub fn bboxes(&self, bbox: [f64; 4], per_side: usize) -> Vec<[f64; 4]> {
        let [x0, y0, x1, y1] = bbox;
        // Around the box in order: bottom, right, top, left.
        let mut outline = Vec::with_capacity(4 * per_side);
        for (from, to) in [
            ((x0, y0), (x1, y0)),
            ((x1, y0), (x1, y1)),
            ((x1, y1), (x0, y1)),
            ((x0, y1), (x0, y0)),
        ] {
            for i in 0..per_side {
                let t = i as f64 / per_side as f64;
                outline.push((from.0 + (to.0 - from.0) * t, from.1 + (to.1 - from.1) * t));
            }
        }
        self.apply(&mut outline);
        outline.retain(|p| p.0.is_finite());
        // The outline crosses the antimeridian where neighbours jump from
        // one side of it to the other: both within 45° of it, on opposite
        // sides. A jump elsewhere is a box sweeping round a pole (a conic
        // tile far larger than its projection's domain, sampled coarsely)
        // and keeps its min/max, as does an outline without jumps.
        let crossing = self.to.world_width().filter(|&width| {
            let near = |x: f64| x.abs() > 0.375 * width;
            self.from.epsg != self.to.epsg
                && outline
                    .windows(2)
                    .any(|p| near(p[0].0) && near(p[1].0) && p[0].0.signum() != p[1].0.signum())
        });
        let Some(width) = crossing else {
            return bounds_of(&outline).into_iter().collect();
        };
        let mut previous: Option<f64> = None;
        for p in &mut outline {
            if let Some(before) = previous {
                p.0 += ((before - p.0) / width).round() * width;
            }
            previous = Some(p.0);
        }
        let Some([min_x, min_y, max_x, max_y]) = bounds_of(&outline) else {
            return Vec::new();
        };
        let half = width / 2.0;
        if max_x - min_x >= width {
            return vec![[-half, min_y, half, max_y]];
        }
        // The turn of the world the box starts in, then cut at its end.
        let shift = ((min_x + half) / width).floor() * width;
        let (min_x, max_x) = (min_x - shift, max_x - shift);
        if max_x <= half {
            vec![[min_x, min_y, max_x, max_y]]
        } else {
            vec![
                [min_x, min_y, half, max_y],
                [-half, min_y, max_x - width, max_y],
            ]
        }
    }
}

/// The bounding box of `points`, `None` when there are none; NaN
/// coordinates count only where every point has them.
pub(crate) fn bounds_of(points: &[(f64, f64)]) -> Option<[f64; 4]> {
    points.iter().fold(None, |b, &(x, y)| {
        Some(match b {
            None => [x, y, x, y],
            Some([x0, y0, x1, y1]) => [x0.min(x), y0.min(y), x1.max(x), y1.max(y)],
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_a_crs_in_every_spelling() {
        for name in [
            "EPSG:2154",
            "http://www.opengis.net/def/crs/EPSG/0/2154",
            "urn:ogc:def:crs:EPSG::2154",
            "urn:ogc:def:crs:EPSG:6.18:2154",
        ] {
            assert_eq!(Crs::from_name(name).unwrap().epsg, 2154, "{name}");
        }
        assert_eq!(
            Crs::from_name("http://www.opengis.net/def/crs/OGC/1.3/CRS84")
                .unwrap()
                .epsg,
            4326
        );
        assert!(Crs::from_name("EPSG:999999").is_err());
        assert!(Crs::from_name("not a crs").is_err());
    }

    #[test]
    fn geographic_and_listed_projected_crss_are_northing_first() {
        let first = |epsg| Crs::from_epsg(epsg).unwrap().northing_first();
        for epsg in [4326, 4258, 4171, 3035, 2193, 3006, 2180, 31467] {
            assert!(first(epsg), "EPSG:{epsg}");
        }
        for epsg in [3857, 2154, 32631, 25832, 27700, 2056] {
            assert!(!first(epsg), "EPSG:{epsg}");
        }
    }

    #[test]
    fn a_world_wraps_in_degrees_and_cylindrical_metres_only() {
        let width = |epsg| Crs::from_epsg(epsg).unwrap().world_width();
        assert_eq!(width(4326), Some(360.0));
        let equator = 2.0 * std::f64::consts::PI * 6_378_137.0;
        for epsg in [3857, 3395] {
            assert!((width(epsg).unwrap() - equator).abs() < 1e-3, "{epsg}");
        }
        for epsg in [2154, 3035, 32631, 3413] {
            assert_eq!(width(epsg), None, "EPSG:{epsg}");
        }
    }

    /// Issue 12: the buffered tile at the east edge of WebMercatorQuad
    /// reaches past 180°; its boxes in degrees keep the sliver next to the
    /// antimeridian on both sides.
    #[test]
    fn a_box_across_the_antimeridian_becomes_two_boxes() {
        let (wgs84, mercator) = (Crs::from_epsg(4326).unwrap(), Crs::from_epsg(3857).unwrap());
        const HALF: f64 = 20_037_508.342_789_244;
        // z3 x = 7, y = 4, grown by 1/16 on every side.
        let size = 2.0 * HALF / 8.0;
        let grow = size / 16.0;
        let tile = [HALF - size - grow, -size - grow, HALF + grow, grow];
        let boxes = Transform::new(&mercator, &wgs84).bboxes(tile, 8);
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        let (east, west) = (boxes[0], boxes[1]);
        assert!((east[0] - (135.0 - 45.0 / 16.0)).abs() < 1e-6, "{east:?}");
        assert_eq!(east[2], 180.0);
        assert_eq!(west[0], -180.0);
        assert!((west[2] - (-180.0 + 45.0 / 16.0)).abs() < 1e-6, "{west:?}");
        assert!(east[1] < -40.0 && east[3] > 0.0 && west[1] == east[1]);
        // The same box in degrees, back into metres: 135°…182.8° is cut too.
        let degrees = [east[0], -40.0, 180.0 + 45.0 / 16.0, 1.0];
        let boxes = Transform::new(&wgs84, &mercator).bboxes(degrees, 8);
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        assert!((boxes[0][2] - HALF).abs() < 1e-3 && (boxes[1][0] + HALF).abs() < 1e-3);
        // The whole world and more is the whole world, once.
        let world = [-HALF - grow, -HALF, HALF + grow, HALF];
        let boxes = Transform::new(&mercator, &wgs84).bboxes(world, 8);
        assert_eq!(boxes.len(), 1);
        assert_eq!((boxes[0][0], boxes[0][2]), (-180.0, 180.0));
        // An ordinary tile is one box, as a min/max gives it.
        let paris = [250_000.0, 6_240_000.0, 270_000.0, 6_260_000.0];
        let boxes = Transform::new(&mercator, &wgs84).bboxes(paris, 8);
        assert_eq!(boxes.len(), 1);
        assert!(boxes[0][0] > 2.2 && boxes[0][2] < 2.5, "{boxes:?}");
    }

    #[test]
    fn web_mercator_round_trips_and_hits_known_values() {
        let (wgs84, mercator) = (Crs::from_epsg(4326).unwrap(), Crs::from_epsg(3857).unwrap());
        let mut p = [(180.0, 0.0), (2.3522, 48.8566)];
        Transform::new(&wgs84, &mercator).apply(&mut p);
        assert!((p[0].0 - 20_037_508.342_789_244).abs() < 1e-3, "{p:?}");
        Transform::new(&mercator, &wgs84).apply(&mut p);
        assert!(
            (p[1].0 - 2.3522).abs() < 1e-9 && (p[1].1 - 48.8566).abs() < 1e-9,
            "{p:?}"
        );
    }
}
