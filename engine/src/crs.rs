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

use proj4rs::proj::Proj;

use crate::error::{Error, Result};

/// A CRS known by its EPSG code, parsed once.
pub struct Crs {
    pub epsg: u32,
    proj: Proj,
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
        Ok(Crs { epsg, proj })
    }

    /// The CRS named by an OGC URI or URN, or `EPSG:n`: `…/def/crs/EPSG/0/n`,
    /// `urn:ogc:def:crs:EPSG::n`, and OGC's CRS84 (WGS 84 longitude first).
    pub fn from_name(name: &str) -> Result<Self> {
        let lower = name.trim().to_ascii_lowercase();
        if lower.ends_with("/ogc/1.3/crs84")
            || lower.ends_with("ogc:1.3:crs84")
            || lower == "crs:84"
        {
            return Crs::from_epsg(4326);
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
            Some(code) => Crs::from_epsg(code),
            None => Err(Error::invalid(format!(
                "{name:?} does not name a CRS by EPSG code"
            ))),
        }
    }

    /// Whether coordinates are degrees of longitude and latitude.
    pub fn is_geographic(&self) -> bool {
        self.proj.is_latlong()
    }
}

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
        for p in points.iter_mut() {
            let mut q = if self.from.is_geographic() {
                (p.0.to_radians(), p.1.to_radians(), 0.0)
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
        points
            .iter()
            .filter(|p| p.0.is_finite())
            .fold(None, |b, &(x, y)| {
                Some(match b {
                    None => [x, y, x, y],
                    Some([x0, y0, x1, y1]) => [x0.min(x), y0.min(y), x1.max(x), y1.max(y)],
                })
            })
    }

    /// The bounding box of `bbox` (`[min_x, min_y, max_x, max_y]`, easting
    /// first) once transformed, through its outline: `per_side` points on
    /// each side, the corners among them (enough for a tile's curvature).
    pub fn bbox(&self, bbox: [f64; 4], per_side: usize) -> Option<[f64; 4]> {
        let [x0, y0, x1, y1] = bbox;
        let mut outline = Vec::with_capacity(4 * per_side);
        for i in 0..per_side {
            let t = i as f64 / per_side as f64;
            let (dx, dy) = ((x1 - x0) * t, (y1 - y0) * t);
            outline.extend([(x0 + dx, y0), (x1, y0 + dy), (x1 - dx, y1), (x0, y1 - dy)]);
        }
        self.bounds(&outline)
    }
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
