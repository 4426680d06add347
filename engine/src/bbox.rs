//! A box in a CRS, the "where" of every map question: a tile's extent, a
//! WMS GetMap's BBOX. Checked once where it is made, so that nothing
//! downstream meets NaN, infinities or inverted corners.
//!
//! Axis order is always easting (or longitude) first: protocols that speak
//! in a CRS's own axis order (WMS 1.3.0 for EPSG:4326, WMTS, TMS 2.0) swap
//! at their edge. A box that crosses the antimeridian is split by
//! [`crate::crs::Transform::bboxes`] when it is taken into another CRS,
//! never min/max'd across the world.
//!
//! The CRS rides with the box as an `Arc` from [`Crs::shared`]: a box is
//! made per request, a CRS is parsed once per process.

use std::sync::Arc;

use crate::crs::Crs;
use crate::error::{Error, Result};

/// `[min_x, min_y, max_x, max_y]` in `crs`, finite and ordered
/// (`min < max` on both axes), easting first.
#[derive(Clone)]
pub struct Bbox {
    crs: Arc<Crs>,
    coords: [f64; 4],
}

impl std::fmt::Debug for Bbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} in {:?}", self.coords, self.crs)
    }
}

impl Bbox {
    /// The box `[min_x, min_y, max_x, max_y]` in `crs`; `InvalidRequest`
    /// when a coordinate is not finite or a minimum is not below its maximum.
    pub fn new(crs: Arc<Crs>, coords: [f64; 4]) -> Result<Self> {
        let [min_x, min_y, max_x, max_y] = coords;
        if !coords.iter().all(|c| c.is_finite()) {
            return Err(Error::invalid(format!(
                "bbox {coords:?} has a coordinate that is not a finite number"
            )));
        }
        if min_x >= max_x || min_y >= max_y {
            return Err(Error::invalid(format!(
                "bbox {coords:?}: each minimum must be below its maximum \
                 (min_x {min_x} < max_x {max_x}, min_y {min_y} < max_y {max_y})"
            )));
        }
        Ok(Bbox { crs, coords })
    }

    /// The CRS of the coordinates.
    pub fn crs(&self) -> &Crs {
        &self.crs
    }

    /// The CRS, to share with a box derived from this one.
    pub fn shared_crs(&self) -> &Arc<Crs> {
        &self.crs
    }

    /// `[min_x, min_y, max_x, max_y]`, easting first.
    pub fn coords(&self) -> [f64; 4] {
        self.coords
    }

    /// Extent along x, in CRS units.
    pub fn width(&self) -> f64 {
        self.coords[2] - self.coords[0]
    }

    /// Extent along y, in CRS units.
    pub fn height(&self) -> f64 {
        self.coords[3] - self.coords[1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bbox_must_be_finite_and_ordered() {
        let crs = Crs::shared(3857).unwrap();
        assert!(Bbox::new(Arc::clone(&crs), [0.0, 0.0, 1.0, 1.0]).is_ok());
        for bad in [
            [0.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 1.0],
            [0.0, 1.0, 1.0, 0.5],
            [f64::NAN, 0.0, 1.0, 1.0],
            [0.0, 0.0, f64::INFINITY, 1.0],
        ] {
            let error = Bbox::new(Arc::clone(&crs), bad).unwrap_err();
            assert_eq!(error.kind(), crate::ErrorKind::InvalidRequest, "{bad:?}");
        }
    }

    #[test]
    fn a_shared_crs_is_parsed_once() {
        let a = Crs::shared(2154).unwrap();
        let b = Crs::shared_named("urn:ogc:def:crs:EPSG::2154").unwrap();
        assert!(Arc::ptr_eq(&a, &b));
        assert!(Crs::shared(999_999).is_err());
    }
}
