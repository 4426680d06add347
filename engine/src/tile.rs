//! Tile coordinates, tile formats and content encodings.

use bytes::Bytes;

use crate::error::{Error, Result};

/// Deepest zoom level accepted anywhere (PMTiles v3 addresses up to z=31; the
/// tile id of z=32 would not fit in 64 bits).
pub const MAX_ZOOM: u8 = 30;

/// A tile address in a quadtree tile matrix set with the origin at the top
/// left (OGC TMS 2.0 `cornerOfOrigin = topLeft`, as XYZ and WMTS): `y` grows
/// southwards. Checked on construction: `x` and `y` are below `2^z`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileCoord {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileCoord {
    /// A coordinate, or `InvalidRequest` when it lies outside the matrix.
    pub fn new(z: u8, x: u32, y: u32) -> Result<Self> {
        if z > MAX_ZOOM {
            return Err(Error::invalid(format!(
                "zoom {z} is beyond the deepest supported zoom {MAX_ZOOM}"
            )));
        }
        let n = 1u64 << z;
        if u64::from(x) >= n || u64::from(y) >= n {
            return Err(Error::invalid(format!(
                "tile {z}/{x}/{y} is outside the {n}×{n} matrix of zoom {z}"
            )));
        }
        Ok(Self { z, x, y })
    }

    /// The row counted from the bottom, as TMS 1.0 and MBTiles store it.
    pub fn tms_y(&self) -> u32 {
        // x, y < 2^z ≤ 2^30: no overflow.
        ((1u32 << self.z) - 1) - self.y
    }
}

impl std::fmt::Display for TileCoord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.z, self.x, self.y)
    }
}

/// The format of the tiles of a tileset, once decoded from any content encoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TileFormat {
    Mvt,
    Png,
    Jpeg,
    Webp,
    Avif,
    /// The archive does not say; served as `application/octet-stream`.
    Unknown,
}

impl TileFormat {
    /// The media type of a tile of this format.
    pub fn mime_type(self) -> &'static str {
        match self {
            TileFormat::Mvt => "application/vnd.mapbox-vector-tile",
            TileFormat::Png => "image/png",
            TileFormat::Jpeg => "image/jpeg",
            TileFormat::Webp => "image/webp",
            TileFormat::Avif => "image/avif",
            TileFormat::Unknown => "application/octet-stream",
        }
    }

    /// The file extension used in tile URLs, if the format has one.
    pub fn extension(self) -> Option<&'static str> {
        match self {
            TileFormat::Mvt => Some("pbf"),
            TileFormat::Png => Some("png"),
            TileFormat::Jpeg => Some("jpg"),
            TileFormat::Webp => Some("webp"),
            TileFormat::Avif => Some("avif"),
            TileFormat::Unknown => None,
        }
    }

    /// Whether a URL extension names this format (`mvt` and `pbf` are both
    /// used for vector tiles, `jpg` and `jpeg` for JPEG).
    pub fn matches_extension(self, ext: &str) -> bool {
        let ext = ext.to_ascii_lowercase();
        match self {
            TileFormat::Mvt => ext == "pbf" || ext == "mvt",
            TileFormat::Jpeg => ext == "jpg" || ext == "jpeg",
            other => other.extension() == Some(ext.as_str()),
        }
    }

    /// Vector tiles are answered differently when missing (204, not 404).
    pub fn is_vector(self) -> bool {
        self == TileFormat::Mvt
    }

    /// The format named by an MBTiles `format` metadata value.
    pub fn from_mbtiles_name(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "pbf" | "mvt" => Some(TileFormat::Mvt),
            "png" => Some(TileFormat::Png),
            "jpg" | "jpeg" => Some(TileFormat::Jpeg),
            "webp" => Some(TileFormat::Webp),
            "avif" => Some(TileFormat::Avif),
            _ => None,
        }
    }

    /// The format of a tile guessed from its first bytes (after decoding);
    /// `Unknown` when no image signature matches.
    pub fn sniff(data: &[u8]) -> Self {
        if data.starts_with(b"\x89PNG\r\n\x1a\n") {
            TileFormat::Png
        } else if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
            TileFormat::Jpeg
        } else if data.len() >= 12 && &data[..4] == b"RIFF" && &data[8..12] == b"WEBP" {
            TileFormat::Webp
        } else if data.len() >= 12 && &data[4..8] == b"ftyp" && &data[8..12] == b"avif" {
            TileFormat::Avif
        } else {
            TileFormat::Unknown
        }
    }
}

/// The content encoding (compression) of stored tile bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
    Zstd,
}

impl Encoding {
    /// The `Content-Encoding` token (RFC 9110 §8.4.1), `None` for identity.
    pub fn http_token(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
            Encoding::Zstd => Some("zstd"),
        }
    }

    /// Gzip if the bytes start with the gzip magic number, identity otherwise.
    pub fn sniff_gzip(data: &[u8]) -> Self {
        if data.starts_with(&[0x1F, 0x8B]) {
            Encoding::Gzip
        } else {
            Encoding::Identity
        }
    }
}

/// A stored tile: its bytes as they are in the archive (often a zero-copy
/// slice of the memory map) and their content encoding.
#[derive(Debug, Clone)]
pub struct Tile {
    pub data: Bytes,
    pub encoding: Encoding,
    /// Identifies these bytes: tiles with equal fingerprints have equal
    /// bytes (HTTP validators are made from it). Archives derive it from
    /// where immutable bytes are stored when hashing them would cost more.
    pub fingerprint: u64,
}

impl Tile {
    /// A tile whose fingerprint is the hash of its bytes.
    pub fn hashed(data: Bytes, encoding: Encoding) -> Self {
        Tile {
            fingerprint: xxhash_rust::xxh3::xxh3_64(&data),
            data,
            encoding,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_outside_the_matrix_are_invalid_requests() {
        assert!(TileCoord::new(0, 0, 0).is_ok());
        assert!(TileCoord::new(0, 1, 0).is_err());
        assert!(TileCoord::new(3, 7, 8).is_err());
        assert!(TileCoord::new(MAX_ZOOM + 1, 0, 0).is_err());
        assert!(TileCoord::new(MAX_ZOOM, (1 << MAX_ZOOM) - 1, 0).is_ok());
    }

    #[test]
    fn tms_row_counts_from_the_bottom() {
        assert_eq!(TileCoord::new(0, 0, 0).unwrap().tms_y(), 0);
        assert_eq!(TileCoord::new(3, 1, 0).unwrap().tms_y(), 7);
        assert_eq!(TileCoord::new(3, 1, 7).unwrap().tms_y(), 0);
    }

    #[test]
    fn image_signatures_are_recognised() {
        assert_eq!(TileFormat::sniff(b"\x89PNG\r\n\x1a\n...."), TileFormat::Png);
        assert_eq!(
            TileFormat::sniff(&[0xFF, 0xD8, 0xFF, 0xE0]),
            TileFormat::Jpeg
        );
        assert_eq!(TileFormat::sniff(b"RIFF\0\0\0\0WEBPVP8 "), TileFormat::Webp);
        assert_eq!(TileFormat::sniff(b"\0\0\0\x1cftypavif"), TileFormat::Avif);
        assert_eq!(TileFormat::sniff(b"\x1a\x02"), TileFormat::Unknown);
    }

    #[test]
    fn extensions_accept_their_aliases() {
        assert!(TileFormat::Mvt.matches_extension("mvt"));
        assert!(TileFormat::Mvt.matches_extension("PBF"));
        assert!(TileFormat::Jpeg.matches_extension("jpeg"));
        assert!(!TileFormat::Png.matches_extension("jpg"));
        assert!(!TileFormat::Unknown.matches_extension("bin"));
    }
}
