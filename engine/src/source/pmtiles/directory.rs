//! PMTiles v3 directories: Hilbert tile ids and the columnar, varint-encoded
//! entry lists of the root and leaf directories (spec v3, "Directories").

use crate::cache::Weighed;
use crate::tile::TileCoord;

/// One directory entry: a run of `run_length` consecutive tile ids sharing
/// the same bytes, or, when `run_length == 0`, a pointer to a leaf directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub tile_id: u64,
    /// Relative to the tile data section (tiles) or leaf section (leaves).
    pub offset: u64,
    pub length: u32,
    pub run_length: u32,
}

/// A parsed directory, entries sorted by tile id.
#[derive(Debug, Default)]
pub struct Directory {
    pub entries: Vec<Entry>,
}

impl Weighed for Directory {
    fn weight(&self) -> usize {
        std::mem::size_of::<Self>() + self.entries.len() * std::mem::size_of::<Entry>()
    }
}

/// The tile id of a coordinate: the count of tiles on all shallower zooms
/// plus the position along zoom `z`'s Hilbert curve.
pub fn tile_id(coord: TileCoord) -> u64 {
    let z = u32::from(coord.z);
    // Tiles on zooms 0..z: (4^z - 1) / 3; z ≤ 30 keeps this within u64.
    let base = ((1u64 << (2 * z)) - 1) / 3;
    let (mut x, mut y) = (u64::from(coord.x), u64::from(coord.y));
    let mut d = 0u64;
    let mut s = (1u64 << z) >> 1;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant so the curve continues (Hilbert xy → d).
        if ry == 0 {
            if rx == 1 {
                x = s - 1 - (x & (s - 1));
                y = s - 1 - (y & (s - 1));
            }
            std::mem::swap(&mut x, &mut y);
        }
        s >>= 1;
    }
    base + d
}

impl Directory {
    /// Decodes a directory from its uncompressed bytes; `Err` names the
    /// first inconsistency found.
    pub fn parse(bytes: &[u8]) -> Result<Self, String> {
        let mut r = VarintReader { bytes, pos: 0 };
        let n = r.read("entry count")?;
        // Each entry takes at least four bytes (one varint per column), so a
        // count above that is a lie and must not size an allocation.
        if n > (bytes.len() / 4) as u64 {
            return Err(format!(
                "claims {n} entries in {} bytes of directory",
                bytes.len()
            ));
        }
        let n = n as usize;
        let mut entries = vec![
            Entry {
                tile_id: 0,
                offset: 0,
                length: 0,
                run_length: 0
            };
            n
        ];
        let mut last_id = 0u64;
        for (i, e) in entries.iter_mut().enumerate() {
            let delta = r.read("tile id")?;
            last_id = last_id
                .checked_add(delta)
                .ok_or("tile id overflows 64 bits")?;
            if i > 0 && delta == 0 {
                return Err(format!("tile ids not increasing at entry {i}"));
            }
            e.tile_id = last_id;
        }
        for e in entries.iter_mut() {
            e.run_length = r.read_u32("run length")?;
        }
        for e in entries.iter_mut() {
            e.length = r.read_u32("length")?;
        }
        for i in 0..n {
            let v = r.read("offset")?;
            entries[i].offset = if v == 0 && i > 0 {
                // 0 means "right after the previous entry" (clustered runs).
                let prev = entries[i - 1];
                prev.offset
                    .checked_add(u64::from(prev.length))
                    .ok_or("offset overflows 64 bits")?
            } else {
                // The first entry has no previous one to follow.
                v.checked_sub(1)
                    .ok_or("first entry has offset 0 (\"after the previous entry\")")?
            };
        }
        Ok(Directory { entries })
    }

    /// The entry covering `tile_id`: a tile run containing it, or the leaf
    /// directory whose range would contain it.
    pub fn find(&self, tile_id: u64) -> Option<&Entry> {
        let i = match self.entries.binary_search_by_key(&tile_id, |e| e.tile_id) {
            Ok(i) => return Some(&self.entries[i]),
            Err(0) => return None,
            Err(i) => i - 1,
        };
        let e = &self.entries[i];
        if e.run_length == 0 || tile_id - e.tile_id < u64::from(e.run_length) {
            Some(e)
        } else {
            None
        }
    }
}

struct VarintReader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl VarintReader<'_> {
    /// An unsigned LEB128 varint, at most 10 bytes.
    fn read(&mut self, what: &str) -> Result<u64, String> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let Some(&b) = self.bytes.get(self.pos) else {
                return Err(format!("directory ends inside a {what}"));
            };
            self.pos += 1;
            value |= u64::from(b & 0x7F) << shift;
            if b & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(format!("{what} varint is longer than 10 bytes"))
    }

    fn read_u32(&mut self, what: &str) -> Result<u32, String> {
        let v = self.read(what)?;
        u32::try_from(v).map_err(|_| format!("{what} {v} does not fit 32 bits"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(z: u8, x: u32, y: u32) -> u64 {
        tile_id(TileCoord::new(z, x, y).unwrap())
    }

    #[test]
    fn tile_ids_follow_the_hilbert_curve_of_the_spec() {
        // Values from the PMTiles v3 spec's reference implementation tests.
        assert_eq!(id(0, 0, 0), 0);
        assert_eq!(id(1, 0, 0), 1);
        assert_eq!(id(1, 0, 1), 2);
        assert_eq!(id(1, 1, 1), 3);
        assert_eq!(id(1, 1, 0), 4);
        assert_eq!(id(2, 0, 0), 5);
        assert_eq!(id(3, 0, 0), 21);
        assert_eq!(id(3, 7, 0), 84);
        assert_eq!(id(20, 0, 0), 366503875925);
    }

    #[test]
    fn tile_ids_of_a_zoom_are_a_permutation() {
        let mut ids: Vec<u64> = (0..16)
            .flat_map(|x| (0..16).map(move |y| id(4, x, y)))
            .collect();
        ids.sort_unstable();
        assert_eq!(ids, (85..85 + 256).collect::<Vec<_>>());
    }

    fn varint(mut v: u64, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7F) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }

    fn encode(entries: &[Entry]) -> Vec<u8> {
        let mut out = Vec::new();
        varint(entries.len() as u64, &mut out);
        let mut last = 0;
        for e in entries {
            varint(e.tile_id - last, &mut out);
            last = e.tile_id;
        }
        entries
            .iter()
            .for_each(|e| varint(e.run_length.into(), &mut out));
        entries
            .iter()
            .for_each(|e| varint(e.length.into(), &mut out));
        for (i, e) in entries.iter().enumerate() {
            let contiguous =
                i > 0 && e.offset == entries[i - 1].offset + u64::from(entries[i - 1].length);
            varint(if contiguous { 0 } else { e.offset + 1 }, &mut out);
        }
        out
    }

    #[test]
    fn directories_round_trip_and_find_runs_and_leaves() {
        let entries = vec![
            Entry {
                tile_id: 0,
                offset: 0,
                length: 10,
                run_length: 1,
            },
            Entry {
                tile_id: 5,
                offset: 10,
                length: 7,
                run_length: 3,
            },
            Entry {
                tile_id: 20,
                offset: 500,
                length: 40,
                run_length: 0,
            },
        ];
        let dir = Directory::parse(&encode(&entries)).unwrap();
        assert_eq!(dir.entries, entries);
        assert_eq!(dir.find(0).unwrap().length, 10);
        assert!(dir.find(1).is_none());
        assert_eq!(dir.find(7).unwrap().offset, 10); // inside the run 5..8
        assert!(dir.find(8).is_none());
        assert_eq!(dir.find(1000).unwrap().run_length, 0); // the leaf
    }

    #[test]
    fn arbitrary_bytes_never_panic_the_parser() {
        // Directories arrive decompressed, so a CRC cannot stop a hostile
        // archive from handing the parser any bytes at all.
        let mut rng = crate::xorshift::XorShift(0x2545_F491_4F6C_DD1D);
        let mut next = move || rng.next();
        let valid = encode(&[
            Entry {
                tile_id: 0,
                offset: 0,
                length: 10,
                run_length: 1,
            },
            Entry {
                tile_id: 9,
                offset: 10,
                length: 300,
                run_length: 0,
            },
            Entry {
                tile_id: 4000,
                offset: 0,
                length: 7,
                run_length: 70000,
            },
        ]);
        for round in 0..20_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                (0..next() % 64).map(|_| next() as u8).collect()
            } else {
                let mut b = valid.clone();
                let at = next() as usize % b.len();
                b[at] = next() as u8;
                b.truncate(next() as usize % (b.len() + 1));
                b
            };
            if let Ok(dir) = Directory::parse(&bytes) {
                for _ in 0..4 {
                    let _ = dir.find(next() % 100_000);
                }
            }
        }
    }

    #[test]
    fn lying_or_truncated_directories_are_errors() {
        assert!(Directory::parse(&[]).is_err());
        assert!(Directory::parse(&[0xFF; 11]).is_err());
        // 100 entries claimed in 3 bytes.
        assert!(Directory::parse(&[100, 0, 0]).is_err());
        // The first entry claiming to follow a previous one (regression:
        // this underflowed before it was an error).
        assert!(Directory::parse(&[1, 0, 1, 1, 0]).is_err());
        // Two entries with the same tile id.
        let dup = [
            Entry {
                tile_id: 3,
                offset: 0,
                length: 1,
                run_length: 1,
            },
            Entry {
                tile_id: 3,
                offset: 1,
                length: 1,
                run_length: 1,
            },
        ];
        assert!(Directory::parse(&encode(&dup)).is_err());
    }
}
