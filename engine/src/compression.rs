//! Decoding gzip, brotli and zstd with a bound on the decoded size, so a
//! small hostile input cannot expand into unbounded memory; gzip encoding
//! for tiles made on the fly.
//!
//! Pure-Rust decoders (`flate2` on miniz_oxide, `brotli-decompressor`,
//! `ruzstd`) keep the build free of C beyond SQLite; tiles are decoded only
//! for clients that do not accept the stored encoding, which is rare.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};
use crate::tile::Encoding;

/// Largest decoded tile, 32 MiB: vector tiles are at most a few MiB (MapLibre
/// warns above 500 KiB); anything larger is a decompression bomb.
pub const MAX_DECODED_TILE_BYTES: usize = 32 << 20;

/// `data` gzip'd at level 1: most of gzip's gain on a vector tile for a
/// fraction of level 6's time, paid on every tile made on the fly.
pub fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    // Writing to a Vec cannot fail.
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .expect("gzip into memory")
}

/// Decodes `data` stored with `encoding`, failing with `LimitExceeded` if the
/// output would exceed `limit` bytes and `Corrupt` if the stream is invalid.
/// `path` and `what` name the input in errors.
pub fn decode(
    encoding: Encoding,
    data: &[u8],
    limit: usize,
    path: &Path,
    what: &'static str,
) -> Result<Vec<u8>> {
    let corrupt = |detail: String| Error::Corrupt {
        path: path.to_owned(),
        format: what,
        detail,
    };
    let reader: Box<dyn Read + '_> = match encoding {
        Encoding::Identity => {
            if data.len() > limit {
                return Err(limit_exceeded(path, what, limit));
            }
            return Ok(data.to_vec());
        }
        Encoding::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Encoding::Brotli => Box::new(brotli_decompressor::Decompressor::new(data, 4096)),
        Encoding::Zstd => Box::new(
            ruzstd::decoding::StreamingDecoder::new(data)
                .map_err(|e| corrupt(format!("zstd frame: {e}")))?,
        ),
    };
    let mut out = Vec::with_capacity(data.len().saturating_mul(3).min(limit));
    reader
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|e| corrupt(format!("{encoding:?} stream: {e}")))?;
    if out.len() > limit {
        return Err(limit_exceeded(path, what, limit));
    }
    Ok(out)
}

fn limit_exceeded(path: &Path, what: &'static str, limit: usize) -> Error {
    Error::LimitExceeded {
        path: path.to_owned(),
        what,
        limit,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    #[test]
    fn gzip_round_trips() {
        let data = b"tile bytes tile bytes tile bytes".repeat(10);
        let out = decode(
            Encoding::Gzip,
            &gzip(&data),
            1 << 20,
            Path::new("t"),
            "tile",
        )
        .unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn a_decompression_bomb_hits_the_limit() {
        let bomb = gzip(&vec![0u8; 1 << 20]);
        let err = decode(Encoding::Gzip, &bomb, 1000, Path::new("t"), "tile").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::LimitExceeded);
    }

    #[test]
    fn garbage_is_corrupt_for_every_codec() {
        for enc in [Encoding::Gzip, Encoding::Brotli, Encoding::Zstd] {
            let err = decode(enc, b"\x1f\x8b not really", 1000, Path::new("t"), "tile");
            assert_eq!(
                err.unwrap_err().kind(),
                crate::ErrorKind::Corrupt,
                "{enc:?}"
            );
        }
    }
}
