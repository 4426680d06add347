//! GeoTIFF georeferencing (OGC GeoTIFF 1.1): the CRS from the GeoKey
//! directory and the affine geotransform from the model tags.

use super::ifd::Ifd;

const MODEL_PIXEL_SCALE: u16 = 33550;
const MODEL_TIEPOINT: u16 = 33922;
const MODEL_TRANSFORMATION: u16 = 34264;
const GEO_KEY_DIRECTORY: u16 = 34735;

const GT_MODEL_TYPE: u64 = 1024;
const GT_RASTER_TYPE: u64 = 1025;
const GEOGRAPHIC_TYPE: u64 = 2048;
const PROJECTED_CS_TYPE: u64 = 3072;
/// GeoTIFF's "user-defined" code: the CRS is spelled out in other keys.
const USER_DEFINED: u64 = 32767;

/// An affine pixel → CRS transform, in GDAL's order: for the top-left
/// corner of pixel (col, row), `x = gt[0] + col·gt[1] + row·gt[2]` and
/// `y = gt[3] + col·gt[4] + row·gt[5]`.
pub type GeoTransform = [f64; 6];

/// The EPSG code of the CRS, when the keys name one.
pub fn epsg(ifd: &Ifd) -> Result<Option<u32>, String> {
    let Some(keys) = ifd.uints(GEO_KEY_DIRECTORY) else {
        return Ok(None);
    };
    // Header: version, revision, minor revision, number of keys; then
    // (key id, tag location, count, value or offset) quadruples.
    let count = keys.get(3).copied().unwrap_or(0) as usize;
    let key = |id: u64| {
        keys.get(4..4 + 4 * count)?
            .chunks_exact(4)
            .find(|k| k[0] == id && k[1] == 0)
            .map(|k| k[3])
    };
    let code = match key(GT_MODEL_TYPE) {
        Some(2) => key(GEOGRAPHIC_TYPE),
        _ => key(PROJECTED_CS_TYPE).or_else(|| key(GEOGRAPHIC_TYPE)),
    };
    match code {
        Some(USER_DEFINED) => Err("user-defined CRS (no EPSG code in the GeoKeys)".into()),
        Some(code) => Ok(u32::try_from(code).ok()),
        None => Ok(None),
    }
}

/// Whether GTRasterTypeGeoKey says PixelIsPoint.
fn pixel_is_point(ifd: &Ifd) -> bool {
    let Some(keys) = ifd.uints(GEO_KEY_DIRECTORY) else {
        return false;
    };
    let count = keys.get(3).copied().unwrap_or(0) as usize;
    keys.get(4..4 + 4 * count).is_some_and(|k| {
        k.chunks_exact(4)
            .any(|k| k[0] == GT_RASTER_TYPE && k[3] == 2)
    })
}

/// The geotransform from ModelTransformation, or ModelTiepoint with
/// ModelPixelScale. PixelIsPoint rasters are shifted by half a pixel to
/// corner convention, as GDAL does.
pub fn geotransform(ifd: &Ifd) -> Result<Option<GeoTransform>, String> {
    let mut gt = if let Some(m) = ifd.reals(MODEL_TRANSFORMATION) {
        if m.len() < 16 {
            return Err("ModelTransformation has fewer than 16 values".into());
        }
        [m[3], m[0], m[1], m[7], m[4], m[5]]
    } else {
        match (ifd.reals(MODEL_TIEPOINT), ifd.reals(MODEL_PIXEL_SCALE)) {
            (Some(t), Some(s)) if t.len() >= 6 && s.len() >= 2 => {
                let (i, j, x, y) = (t[0], t[1], t[3], t[4]);
                [x - i * s[0], s[0], 0.0, y + j * s[1], 0.0, -s[1]]
            }
            (None, _) | (_, None) => return Ok(None),
            _ => return Err("ModelTiepoint or ModelPixelScale is too short".into()),
        }
    };
    if !gt.iter().all(|v| v.is_finite()) || gt[1] * gt[5] - gt[2] * gt[4] == 0.0 {
        return Err(format!("degenerate geotransform {gt:?}"));
    }
    if pixel_is_point(ifd) {
        gt[0] -= (gt[1] + gt[2]) / 2.0;
        gt[3] -= (gt[4] + gt[5]) / 2.0;
    }
    Ok(Some(gt))
}
