//! The GeoPackage geometry blob header (GeoPackage 1.3, clause 2.1.3.1.1
//! "BLOB Format", Table 6 "GeoPackage SQL Geometry Binary Format"):
//!
//! ```text
//! 'G' 'P'  version (0 = version 1)  flags  srs_id:int32  envelope:double[0|4|6|8]  WKB
//! flags: bits 7-6 reserved, 5 X (1 = ExtendedGeoPackageBinary), 4 Y (1 = empty),
//!        3-1 E envelope contents (0 none, 1 xy, 2 xyz, 3 xym, 4 xyzm, 5-7 invalid),
//!        0 B byte order of srs_id and envelope (0 big-endian, 1 little-endian)
//! envelope: min_x, max_x, min_y, max_y [, min_z, max_z] [, min_m, max_m]
//! ```
//!
//! The reserved bits are ignored (readers must accept what a later minor
//! version may set). The header's srs_id is not kept: the geometry column's
//! (`gpkg_geometry_columns`) is the one readers use, and a blob that
//! disagrees is a writer's error its geometry survives.
//! ExtendedGeoPackageBinary (the deprecated user-defined geometry encoding
//! extension: a 4-byte extension code, then a body private to its writer) is
//! refused as unsupported.

use super::wkb::GeometryError;

/// A parsed blob header and the WKB that follows it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Blob<'a> {
    /// `[min_x, min_y, max_x, max_y]` when the header has a finite one.
    pub envelope: Option<[f64; 4]>,
    /// The empty-geometry flag (Y).
    pub empty: bool,
    pub wkb: &'a [u8],
}

/// Reads the header of a GeoPackage geometry blob.
pub(crate) fn parse(data: &[u8]) -> Result<Blob<'_>, GeometryError> {
    let corrupt = |detail: String| Err(GeometryError::Corrupt(detail));
    let Some((head, rest)) = data.split_first_chunk::<8>() else {
        return corrupt(format!("{} bytes, shorter than a blob header", data.len()));
    };
    let [g, p, version, flags, ..] = *head;
    if [g, p] != *b"GP" {
        return corrupt(format!("starts with {g:#04x} {p:#04x}, not 'GP'"));
    }
    if version != 0 {
        return Err(GeometryError::Unsupported(format!(
            "GeoPackageBinary version {} (only version 1, byte 0, is defined)",
            u16::from(version) + 1
        )));
    }
    if flags & 0x20 != 0 {
        return Err(GeometryError::Unsupported(
            "ExtendedGeoPackageBinary (a user-defined geometry encoding)".into(),
        ));
    }
    let little = flags & 1 == 1;
    let doubles = match (flags >> 1) & 7 {
        0 => 0,
        1 => 4,
        2 | 3 => 6,
        4 => 8,
        e => return corrupt(format!("envelope contents indicator {e} (5-7 are invalid)")),
    };
    let Some((envelope, wkb)) = rest.split_at_checked(doubles * 8) else {
        return corrupt(format!(
            "{} bytes, shorter than a header with a {}-byte envelope",
            data.len(),
            doubles * 8
        ));
    };
    let double = |i: usize| {
        let mut b = [0; 8];
        b.copy_from_slice(&envelope[i * 8..i * 8 + 8]);
        if little {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        }
    };
    let envelope = (doubles >= 4)
        .then(|| [double(0), double(2), double(1), double(3)])
        // Writers put NaN envelopes on empty geometries.
        .filter(|e| e.iter().all(|v| v.is_finite()));
    Ok(Blob {
        envelope,
        empty: flags & 0x10 != 0,
        wkb,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A blob header: flags, srs_id and envelope doubles in the order of
    /// the file (min_x, max_x, min_y, max_y...).
    pub(crate) fn header(flags: u8, srs_id: i32, envelope: &[f64]) -> Vec<u8> {
        let little = flags & 1 == 1;
        let mut out = vec![b'G', b'P', 0, flags];
        out.extend(if little {
            srs_id.to_le_bytes()
        } else {
            srs_id.to_be_bytes()
        });
        for v in envelope {
            out.extend(if little {
                v.to_le_bytes()
            } else {
                v.to_be_bytes()
            });
        }
        out
    }

    #[test]
    fn headers_are_read_in_both_byte_orders_with_the_envelope_reordered() {
        for order in [0, 1] {
            let mut data = header(order | 0b0010, 4326, &[1.0, 3.0, 2.0, 4.0]);
            data.extend([1, 1, 0, 0, 0]);
            let blob = parse(&data).unwrap();
            assert_eq!(blob.envelope, Some([1.0, 2.0, 3.0, 4.0]));
            assert!(!blob.empty);
            assert_eq!(blob.wkb, &[1, 1, 0, 0, 0]);
        }
    }

    #[test]
    fn every_envelope_size_is_skipped() {
        for (code, doubles) in [(0u8, 0usize), (1, 4), (2, 6), (3, 6), (4, 8)] {
            let data = header(1 | code << 1, -1, &vec![0.5; doubles]);
            let blob = parse(&data).unwrap();
            assert!(blob.wkb.is_empty(), "indicator {code}");
            assert_eq!(blob.envelope.is_some(), doubles > 0);
        }
    }

    #[test]
    fn empty_flag_and_nan_envelope_mean_no_envelope() {
        let data = header(0b1_0011, 0, &[f64::NAN; 4]);
        let blob = parse(&data).unwrap();
        assert!(blob.empty);
        assert_eq!(blob.envelope, None);
    }

    #[test]
    fn bad_headers_are_errors() {
        let corrupt = [
            b"GP".to_vec(),
            b"XY\0\x01\0\0\0\0".to_vec(),
            header(1 | 5 << 1, 0, &[]),
            header(1 | 7 << 1, 0, &[]),
            header(1 | 1 << 1, 0, &[0.0; 3]),
        ];
        for data in corrupt {
            assert!(
                matches!(parse(&data), Err(GeometryError::Corrupt(_))),
                "{data:?}"
            );
        }
        let mut v2 = header(1, 0, &[]);
        v2[2] = 1;
        assert!(matches!(parse(&v2), Err(GeometryError::Unsupported(_))));
        assert!(matches!(
            parse(&header(0x21, 0, &[])),
            Err(GeometryError::Unsupported(_))
        ));
    }
}
