//! Spatial reference systems of `gpkg_spatial_ref_sys` (GeoPackage 1.3,
//! clause 1.1.2) and the EPSG code each stands for, which is what the rest
//! of the engine ([`crate::crs`]) knows CRSs by.

/// One row of `gpkg_spatial_ref_sys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Srs {
    /// The GeoPackage's own id for the SRS (what tables refer to).
    pub srs_id: i64,
    /// The EPSG code, when the row names one (see [`epsg_code`]).
    pub epsg: Option<u32>,
    /// The WKT definition as stored (`undefined` for ids -1 and 0).
    pub definition: String,
}

/// The EPSG code of a `gpkg_spatial_ref_sys` row: `organization` 'EPSG'
/// (case-insensitively) and its `organization_coordsys_id`; otherwise the
/// last `AUTHORITY["EPSG","n"]` (WKT 1) or `ID["EPSG",n]` (WKT 2) of the
/// definition, which is the one of the whole CRS (inner ones name its datum,
/// ellipsoid and units). The ids -1 and 0 are the undefined Cartesian and
/// geographic SRSs of clause 1.1.2.1.2 (Requirement 11): no code.
pub fn epsg_code(
    srs_id: i64,
    organization: Option<&str>,
    organization_id: Option<i64>,
    definition: &str,
) -> Option<u32> {
    if srs_id == -1 || srs_id == 0 {
        return None;
    }
    let by_organization = organization
        .filter(|o| o.trim().eq_ignore_ascii_case("EPSG"))
        .and(organization_id)
        .and_then(|id| u32::try_from(id).ok())
        .filter(|&id| id > 0);
    by_organization.or_else(|| last_epsg_authority(definition))
}

/// The code of the last `AUTHORITY["EPSG", "n"]` or `ID["EPSG", n]` in a
/// WKT string (keywords and the authority name case-insensitive, the code
/// quoted or not).
fn last_epsg_authority(wkt: &str) -> Option<u32> {
    let upper = wkt.to_ascii_uppercase();
    let mut last = None;
    for keyword in ["AUTHORITY[", "ID["] {
        for (at, _) in upper.match_indices(keyword) {
            // `ID[` inside another word (e.g. `GRID[`) is not a keyword.
            let word_start = upper[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '_');
            if !word_start {
                continue;
            }
            let args = &upper[at + keyword.len()..];
            if let Some(code) = epsg_args(args) {
                if last.is_none_or(|(pos, _)| at > pos) {
                    last = Some((at, code));
                }
            }
        }
    }
    last.map(|(_, code)| code)
}

/// `"EPSG", "4326"` or `"EPSG",4326` at the start of `args`.
fn epsg_args(args: &str) -> Option<u32> {
    let rest = args.trim_start().strip_prefix("\"EPSG\"")?;
    let rest = rest.trim_start().strip_prefix(',')?.trim_start();
    let rest = rest.strip_prefix('"').unwrap_or(rest);
    let digits: &str = &rest[..rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len())];
    digits.parse().ok().filter(|&code| code > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UTM31: &str = r#"PROJCS["WGS 84 / UTM zone 31N",GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AUTHORITY["EPSG","4326"]],PROJECTION["Transverse_Mercator"],UNIT["metre",1,AUTHORITY["EPSG","9001"]],AUTHORITY["EPSG","32631"]]"#;

    #[test]
    fn the_organization_names_the_code_case_insensitively() {
        assert_eq!(epsg_code(4326, Some("EPSG"), Some(4326), "x"), Some(4326));
        assert_eq!(epsg_code(99, Some("epsg"), Some(3857), ""), Some(3857));
        assert_eq!(epsg_code(99, Some("NONE"), Some(3857), ""), None);
        assert_eq!(epsg_code(99, Some("EPSG"), Some(-5), ""), None);
    }

    #[test]
    fn otherwise_the_last_authority_of_the_definition() {
        assert_eq!(
            epsg_code(100_000, Some("NONE"), Some(1), UTM31),
            Some(32631)
        );
        assert_eq!(epsg_code(100_000, None, None, UTM31), Some(32631));
        let wkt2 = r#"PROJCRS["x",BASEGEOGCRS["y",ID["EPSG",4326]],CONVERSION["z",ID["EPSG",16031]],ID["EPSG",32631]]"#;
        assert_eq!(epsg_code(7, Some("ogc"), None, wkt2), Some(32631));
        let spaced = r#"GEOGCS["x", authority[ "epsg" , "4269" ]]"#;
        assert_eq!(epsg_code(7, None, None, spaced), Some(4269));
        let grid = r#"GEOGCS["x",GRID["EPSG",1]]"#;
        assert_eq!(epsg_code(7, None, None, grid), None);
        let other = r#"PROJCS["x",AUTHORITY["ESRI","102100"]]"#;
        assert_eq!(epsg_code(7, Some("ESRI"), Some(102100), other), None);
    }

    #[test]
    fn the_undefined_systems_have_no_code() {
        assert_eq!(epsg_code(-1, Some("EPSG"), Some(4326), UTM31), None);
        assert_eq!(epsg_code(0, Some("NONE"), Some(0), "undefined"), None);
    }
}
