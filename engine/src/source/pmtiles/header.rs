//! The fixed 127-byte PMTiles v3 header (spec v3, "Header").

use std::path::Path;

use crate::error::{Error, Result};
use crate::tile::{Encoding, TileFormat};

/// Size of the v3 header in bytes.
pub const HEADER_LEN: usize = 127;

/// A byte range of the archive.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub offset: u64,
    pub length: u64,
}

/// The parsed header; offsets are checked against the file length.
#[derive(Debug, Clone)]
pub struct Header {
    pub root_directory: Section,
    pub metadata: Section,
    pub leaf_directories: Section,
    pub tile_data: Section,
    /// How directories and metadata are compressed; `None` when the archive
    /// says "unknown" (0), which readers treat as an error for directories.
    pub internal_compression: Option<Encoding>,
    /// How tiles are compressed; `None` ("unknown") means sniff each tile.
    pub tile_compression: Option<Encoding>,
    pub tile_type: TileFormat,
    pub min_zoom: u8,
    pub max_zoom: u8,
    /// `[west, south, east, north]` in degrees.
    pub bounds: [f64; 4],
    /// `[lon, lat, zoom]`.
    pub center: [f64; 3],
}

impl Header {
    /// Parses and checks the header of an archive of `file_len` bytes.
    pub fn parse(bytes: &[u8], file_len: u64, path: &Path) -> Result<Self> {
        let corrupt = |detail: String| Error::Corrupt {
            path: path.to_owned(),
            format: "PMTiles archive",
            detail,
        };
        if !bytes.starts_with(b"PMTiles") {
            // v1 and v2 start with "PM" and a little-endian u16 version.
            if bytes.len() >= 4 && &bytes[..2] == b"PM" && matches!(bytes[2..4], [1, 0] | [2, 0]) {
                return Err(Error::Unsupported {
                    path: path.to_owned(),
                    detail: format!(
                        "PMTiles v{} archive; only v3 is read (convert it with `pmtiles convert`)",
                        bytes[2]
                    ),
                });
            }
            return Err(corrupt(
                "not a PMTiles archive (no \"PMTiles\" magic)".into(),
            ));
        }
        if bytes.len() < HEADER_LEN {
            return Err(corrupt(format!(
                "header truncated: {} of {HEADER_LEN} bytes",
                bytes.len()
            )));
        }
        if bytes[7] != 3 {
            return Err(Error::Unsupported {
                path: path.to_owned(),
                detail: format!("PMTiles spec version {}; only v3 is read", bytes[7]),
            });
        }
        let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let e7_at = |at: usize| {
            f64::from(i32::from_le_bytes(
                bytes[at..at + 4].try_into().expect("4 bytes"),
            )) / 1e7
        };
        let section = |at: usize, name: &str| {
            let s = Section {
                offset: u64_at(at),
                length: u64_at(at + 8),
            };
            match s.offset.checked_add(s.length) {
                Some(end) if end <= file_len => Ok(s),
                _ => Err(corrupt(format!(
                    "{name} section (offset {}, length {}) runs past the end of the {file_len}-byte file",
                    s.offset, s.length
                ))),
            }
        };
        let compression = |code: u8, what: &str| match code {
            0 => Ok(None),
            1 => Ok(Some(Encoding::Identity)),
            2 => Ok(Some(Encoding::Gzip)),
            3 => Ok(Some(Encoding::Brotli)),
            4 => Ok(Some(Encoding::Zstd)),
            other => Err(Error::Unsupported {
                path: path.to_owned(),
                detail: format!("{what} compression code {other}"),
            }),
        };
        let tile_type = match bytes[99] {
            1 => TileFormat::Mvt,
            2 => TileFormat::Png,
            3 => TileFormat::Jpeg,
            4 => TileFormat::Webp,
            5 => TileFormat::Avif,
            _ => TileFormat::Unknown,
        };
        let header = Header {
            root_directory: section(8, "root directory")?,
            metadata: section(24, "metadata")?,
            leaf_directories: section(40, "leaf directories")?,
            tile_data: section(56, "tile data")?,
            internal_compression: compression(bytes[97], "internal")?,
            tile_compression: compression(bytes[98], "tile")?,
            tile_type,
            min_zoom: bytes[100],
            max_zoom: bytes[101],
            bounds: [e7_at(102), e7_at(106), e7_at(110), e7_at(114)],
            center: [e7_at(119), e7_at(123), f64::from(bytes[118])],
        };
        if header.min_zoom > header.max_zoom {
            return Err(corrupt(format!(
                "min zoom {} is above max zoom {}",
                header.min_zoom, header.max_zoom
            )));
        }
        Ok(header)
    }
}
