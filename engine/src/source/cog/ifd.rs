//! TIFF and BigTIFF image file directories (TIFF 6.0 §2, BigTIFF design),
//! parsed once at open into plain structs.
//!
//! Written here rather than with the `tiff` crate: that crate decodes
//! through a `Read + Seek` stream and owns the chunk decoding, while a COG
//! server needs the raw tile offsets to read blocks straight from the
//! memory map, and every count and offset of a hostile file bounded before
//! anything is allocated. The parser is small; every read is checked.

use std::collections::BTreeMap;

/// Byte order of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteOrder {
    Little,
    Big,
}

/// One directory entry's value, widened: integers to u64, reals to f64.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Unsigned(Vec<u64>),
    Signed(Vec<i64>),
    Real(Vec<f64>),
    Ascii(String),
    /// UNDEFINED bytes (JPEGTables) and types this reader does not widen.
    Bytes(Vec<u8>),
}

/// A parsed directory: tag → value.
#[derive(Debug, Clone, Default)]
pub struct Ifd {
    pub entries: BTreeMap<u16, Value>,
}

/// Most directories a file may have: a COG has one per overview and mask;
/// a chain longer than this is a loop or junk.
const MAX_IFDS: usize = 256;
/// Most entries in one directory.
const MAX_ENTRIES: u64 = 1024;
/// Most values in one entry (a 16k² image in 256² tiles has 4096 offsets;
/// a strip-per-row 1M-row image has 10^6).
const MAX_VALUES: u64 = 16 << 20;

/// A reader over the file bytes that never reads out of bounds.
struct Bytes<'a> {
    data: &'a [u8],
    order: ByteOrder,
}

impl Bytes<'_> {
    fn slice(&self, at: u64, len: u64) -> Result<&[u8], String> {
        let end = at.checked_add(len).ok_or("offset overflows")?;
        if end > self.data.len() as u64 {
            return Err(format!(
                "{len} bytes at offset {at} run past the end of the {}-byte file",
                self.data.len()
            ));
        }
        Ok(&self.data[at as usize..end as usize])
    }

    fn uint(&self, at: u64, size: u64) -> Result<u64, String> {
        let b = self.slice(at, size)?;
        let mut v = 0u64;
        match self.order {
            ByteOrder::Little => b.iter().rev().for_each(|&x| v = (v << 8) | u64::from(x)),
            ByteOrder::Big => b.iter().for_each(|&x| v = (v << 8) | u64::from(x)),
        }
        Ok(v)
    }
}

/// The byte order, whether the file is BigTIFF, and every directory in
/// chain order.
pub fn parse(data: &[u8]) -> Result<(ByteOrder, bool, Vec<Ifd>), String> {
    let order = match data.get(..2) {
        Some(b"II") => ByteOrder::Little,
        Some(b"MM") => ByteOrder::Big,
        _ => return Err("not a TIFF file (no II or MM byte-order mark)".into()),
    };
    let r = Bytes { data, order };
    let (big, mut next) = match r.uint(2, 2)? {
        42 => (false, r.uint(4, 4)?),
        43 => {
            if r.uint(4, 2)? != 8 {
                return Err("BigTIFF with an offset size other than 8".into());
            }
            (true, r.uint(8, 8)?)
        }
        v => return Err(format!("not a TIFF file (version {v}, not 42 or 43)")),
    };
    let mut ifds = Vec::new();
    let mut seen = std::collections::HashSet::new();
    while next != 0 {
        if ifds.len() == MAX_IFDS || !seen.insert(next) {
            return Err(format!(
                "directory chain loops or is longer than {MAX_IFDS}"
            ));
        }
        let (ifd, following) = parse_ifd(&r, next, big)?;
        ifds.push(ifd);
        next = following;
    }
    if ifds.is_empty() {
        return Err("no image directory".into());
    }
    Ok((order, big, ifds))
}

fn parse_ifd(r: &Bytes, at: u64, big: bool) -> Result<(Ifd, u64), String> {
    let (count_size, entry_size, offset_size) = if big { (8, 20, 8) } else { (2, 12, 4) };
    let count = r.uint(at, count_size)?;
    if count > MAX_ENTRIES {
        return Err(format!("directory at {at} claims {count} entries"));
    }
    let mut ifd = Ifd::default();
    for i in 0..count {
        let e = at + count_size + i * entry_size;
        let tag = r.uint(e, 2)? as u16;
        let kind = r.uint(e + 2, 2)? as u16;
        let n = r.uint(e + 4, offset_size)?;
        let Some(size) = type_size(kind) else {
            continue; // Unknown types are skipped, as TIFF 6.0 §2 asks.
        };
        if n > MAX_VALUES {
            return Err(format!("tag {tag} claims {n} values"));
        }
        let len = n * size;
        let field = e + 4 + offset_size;
        // Values that fit the offset field are stored in it.
        let start = if len <= offset_size {
            field
        } else {
            r.uint(field, offset_size)?
        };
        ifd.entries
            .insert(tag, read_value(r, kind, start, n, size)?);
    }
    let next = r.uint(at + count_size + count * entry_size, offset_size)?;
    Ok((ifd, next))
}

/// Bytes per value of a TIFF field type; `None` for unknown types.
fn type_size(kind: u16) -> Option<u64> {
    match kind {
        1 | 2 | 6 | 7 => Some(1),              // BYTE ASCII SBYTE UNDEFINED
        3 | 8 => Some(2),                      // SHORT SSHORT
        4 | 9 | 11 | 13 => Some(4),            // LONG SLONG FLOAT IFD
        5 | 10 | 12 | 16 | 17 | 18 => Some(8), // RATIONAL SRATIONAL DOUBLE LONG8 SLONG8 IFD8
        _ => None,
    }
}

fn read_value(r: &Bytes, kind: u16, start: u64, n: u64, size: u64) -> Result<Value, String> {
    let raw = r.slice(start, n * size)?;
    let at = |i: u64| start + i * size;
    Ok(match kind {
        2 => Value::Ascii(
            String::from_utf8_lossy(raw)
                .trim_end_matches('\0')
                .to_owned(),
        ),
        1 | 3 | 4 | 13 | 16 | 18 => Value::Unsigned(
            (0..n)
                .map(|i| r.uint(at(i), size))
                .collect::<Result<_, _>>()?,
        ),
        6 | 8 | 9 | 17 => Value::Signed(
            (0..n)
                .map(|i| {
                    let v = r.uint(at(i), size)?;
                    let shift = 64 - 8 * size;
                    Ok(((v << shift) as i64) >> shift)
                })
                .collect::<Result<_, String>>()?,
        ),
        11 => Value::Real(
            (0..n)
                .map(|i| Ok(f64::from(f32::from_bits(r.uint(at(i), 4)? as u32))))
                .collect::<Result<_, String>>()?,
        ),
        12 => Value::Real(
            (0..n)
                .map(|i| Ok(f64::from_bits(r.uint(at(i), 8)?)))
                .collect::<Result<_, String>>()?,
        ),
        5 | 10 => Value::Real(
            (0..n)
                .map(|i| {
                    let (num, den) = (r.uint(at(i), 4)?, r.uint(at(i) + 4, 4)?);
                    Ok(if kind == 5 {
                        num as f64 / den as f64
                    } else {
                        f64::from(num as u32 as i32) / f64::from(den as u32 as i32)
                    })
                })
                .collect::<Result<_, String>>()?,
        ),
        _ => Value::Bytes(raw.to_vec()),
    })
}

impl Ifd {
    /// All values of an integer tag.
    pub fn uints(&self, tag: u16) -> Option<&[u64]> {
        match self.entries.get(&tag) {
            Some(Value::Unsigned(v)) => Some(v),
            _ => None,
        }
    }

    /// The first value of an integer tag.
    pub fn uint(&self, tag: u16) -> Option<u64> {
        self.uints(tag).and_then(|v| v.first().copied())
    }

    /// All values of a real tag (DOUBLE, FLOAT, RATIONAL).
    pub fn reals(&self, tag: u16) -> Option<&[f64]> {
        match self.entries.get(&tag) {
            Some(Value::Real(v)) => Some(v),
            _ => None,
        }
    }

    /// An UNDEFINED tag's bytes.
    pub fn undefined(&self, tag: u16) -> Option<&[u8]> {
        match self.entries.get(&tag) {
            Some(Value::Bytes(b)) => Some(b),
            _ => None,
        }
    }

    /// An ASCII tag.
    pub fn ascii(&self, tag: u16) -> Option<&str> {
        match self.entries.get(&tag) {
            Some(Value::Ascii(s)) => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian classic TIFF with one IFD holding `entries`
    /// (tag, type, count, inline value).
    fn classic(entries: &[(u16, u16, u32, u32)], next: u32) -> Vec<u8> {
        let mut b = b"II*\0".to_vec();
        b.extend_from_slice(&8u32.to_le_bytes());
        b.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for &(tag, kind, count, value) in entries {
            b.extend_from_slice(&tag.to_le_bytes());
            b.extend_from_slice(&kind.to_le_bytes());
            b.extend_from_slice(&count.to_le_bytes());
            b.extend_from_slice(&value.to_le_bytes());
        }
        b.extend_from_slice(&next.to_le_bytes());
        b
    }

    #[test]
    fn inline_values_are_read_in_file_byte_order() {
        let (order, big, ifds) = parse(&classic(&[(256, 3, 1, 640), (257, 4, 1, 480)], 0)).unwrap();
        assert_eq!((order, big), (ByteOrder::Little, false));
        assert_eq!(ifds[0].uint(256), Some(640));
        assert_eq!(ifds[0].uint(257), Some(480));
    }

    #[test]
    fn hostile_headers_and_chains_are_errors() {
        assert!(parse(b"").is_err());
        assert!(parse(b"II*\0").is_err());
        assert!(parse(b"XX*\0\x08\0\0\0").is_err());
        // An IFD pointing at itself.
        assert!(parse(&classic(&[(256, 3, 1, 1)], 8))
            .unwrap_err()
            .contains("loops"));
        // A value array far beyond the file.
        let err = parse(&classic(&[(324, 4, 4000, 1_000_000)], 0)).unwrap_err();
        assert!(err.contains("past the end"), "{err}");
        // A count that would size a huge allocation.
        assert!(parse(&classic(&[(324, 4, u32::MAX, 8)], 0)).is_err());
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        let seed = classic(&[(256, 3, 1, 640), (273, 4, 2, 30), (33550, 12, 3, 40)], 0);
        let mut rng = crate::xorshift::XorShift(0x1234_5678_9ABC_DEF1);
        for _ in 0..20_000 {
            let state = rng.next();
            let mut b = seed.clone();
            let at = state as usize % b.len();
            b[at] = (state >> 32) as u8;
            b.truncate((state >> 40) as usize % (b.len() + 1));
            let _ = parse(&b);
        }
    }
}
