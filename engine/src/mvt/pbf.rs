//! The few Protocol Buffers encodings a vector tile needs, written by hand:
//! base-128 varints, zigzag for signed integers, 64-bit little-endian
//! doubles, length-delimited strings and sub-messages, and packed repeated
//! `uint32` (the wire format is documented at
//! <https://protobuf.dev/programming-guides/encoding/>); and their reader
//! ([`read`]), which decodes stored tiles (`source/mvt_archive`).
//!
//! MVT uses four fixed messages and no other protobuf feature, so this is
//! about a hundred lines against `prost`'s build-time code generation and
//! runtime: fewer dependencies, and the field numbers stay next to the spec
//! clauses that define them.

/// Protobuf wire types (encoding guide, "Message Structure").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum WireType {
    Varint = 0,
    Fixed64 = 1,
    Len = 2,
}

/// Appends `value` as a base-128 varint, least significant group first.
pub(super) fn write_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// `value` as a base-128 varint, least significant group first: the bytes
/// and how many of them are used, for a length prefix written in place.
/// [`write_varint`] keeps its own loop: going through this array made the
/// encoder about a third slower.
fn varint_bytes(mut value: u64) -> ([u8; 10], usize) {
    let mut bytes = [0; 10];
    let mut len = 0;
    while value >= 0x80 {
        bytes[len] = (value as u8 & 0x7f) | 0x80;
        value >>= 7;
        len += 1;
    }
    bytes[len] = value as u8;
    (bytes, len + 1)
}

/// How many bytes [`write_varint`] takes for `value`.
pub(super) fn varint_len(value: u64) -> usize {
    // One byte per started group of 7 bits, at least one.
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Zigzag-maps a signed integer so that small magnitudes of either sign
/// give small varints: 0, -1, 1, -2 … become 0, 1, 2, 3 …
pub(super) fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

/// Appends a field key: field number and wire type.
pub(super) fn write_key(out: &mut Vec<u8>, field: u32, wire: WireType) {
    write_varint(out, (u64::from(field) << 3) | wire as u64);
}

/// Appends a varint field (`uint32`, `uint64`, `bool`, `enum`).
pub(super) fn write_uint(out: &mut Vec<u8>, field: u32, value: u64) {
    write_key(out, field, WireType::Varint);
    write_varint(out, value);
}

/// Appends a `sint64` field (zigzag varint).
pub(super) fn write_sint(out: &mut Vec<u8>, field: u32, value: i64) {
    write_uint(out, field, zigzag(value));
}

/// Appends a `double` field (8 bytes, little-endian).
pub(super) fn write_double(out: &mut Vec<u8>, field: u32, value: f64) {
    write_key(out, field, WireType::Fixed64);
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a length-delimited field: a string, bytes or an encoded message.
pub(super) fn write_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    write_key(out, field, WireType::Len);
    write_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Appends a length-delimited field whose content `write` appends, with
/// no copy of it: `len_hint` (its expected length) sizes the length
/// prefix, which is resized afterwards, moving the content, only when the
/// real length takes more or fewer bytes than the hint.
pub(super) fn write_with_len(
    out: &mut Vec<u8>,
    field: u32,
    len_hint: usize,
    write: impl FnOnce(&mut Vec<u8>),
) {
    write_key(out, field, WireType::Len);
    let reserved = varint_len(len_hint as u64);
    let start = out.len();
    out.resize(start + reserved, 0);
    write(out);
    let (prefix, used) = varint_bytes((out.len() - start - reserved) as u64);
    if used == reserved {
        out[start..start + used].copy_from_slice(&prefix[..used]);
    } else {
        out.splice(start..start + reserved, prefix[..used].iter().copied());
    }
}

/// Appends a packed repeated `uint32` field; nothing when `values` is empty
/// (an empty packed field and an absent one decode the same).
pub(super) fn write_packed(out: &mut Vec<u8>, field: u32, values: &[u32]) {
    if values.is_empty() {
        return;
    }
    // Each value takes one byte or more: a sizing pass over the values is
    // spared for the usual short field.
    write_with_len(out, field, values.len(), |out| {
        for &v in values {
            write_varint(out, u64::from(v));
        }
    });
}

/// The protobuf reader: stored tiles are decoded with it
/// (`source/mvt_archive`) and the tests read encoded tiles back with it.
/// Every read is checked: malformed input is `None` or an `Err`, never a
/// panic, since stored tiles are input. The tests' shorthands, which panic
/// on malformed input as a test wants, sit on top.
pub(crate) mod read {
    /// One field's payload.
    #[derive(Debug, Clone, Copy, PartialEq)]
    pub enum Payload<'a> {
        Varint(u64),
        Fixed64(u64),
        /// A `float` or `fixed32` (MVT's `Value.float_value`).
        Fixed32(u32),
        Len(&'a [u8]),
    }

    /// Why a message could not be read.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Malformed(pub &'static str);

    impl std::fmt::Display for Malformed {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    /// Reads a varint at `*pos`, advancing it; `None` when the buffer ends
    /// inside it or it is longer than ten bytes.
    pub fn try_varint(buf: &[u8], pos: &mut usize) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *buf.get(*pos)?;
            *pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(value);
            }
        }
        None
    }

    /// The fields of a message, in order: (field number, payload); the
    /// iteration ends after the first `Err`.
    pub fn try_fields(buf: &[u8]) -> Fields<'_> {
        Fields { buf, pos: 0 }
    }

    /// Iterator of [`try_fields`].
    pub struct Fields<'a> {
        buf: &'a [u8],
        pos: usize,
    }

    impl<'a> Fields<'a> {
        fn next_field(&mut self) -> Result<(u32, Payload<'a>), Malformed> {
            let (buf, pos) = (self.buf, &mut self.pos);
            let key = try_varint(buf, pos).ok_or(TRUNCATED)?;
            let field = u32::try_from(key >> 3).map_err(|_| Malformed("field number too large"))?;
            let payload = match key & 7 {
                0 => Payload::Varint(try_varint(buf, pos).ok_or(TRUNCATED)?),
                1 => Payload::Fixed64(u64::from_le_bytes(take::<8>(buf, pos)?)),
                2 => {
                    let len = try_varint(buf, pos).ok_or(TRUNCATED)?;
                    let len = usize::try_from(len).map_err(|_| TRUNCATED)?;
                    let end = pos.checked_add(len).ok_or(TRUNCATED)?;
                    let bytes = buf.get(*pos..end).ok_or(TRUNCATED)?;
                    *pos = end;
                    Payload::Len(bytes)
                }
                5 => Payload::Fixed32(u32::from_le_bytes(take::<4>(buf, pos)?)),
                _ => return Err(Malformed("unknown wire type")),
            };
            Ok((field, payload))
        }
    }

    const TRUNCATED: Malformed = Malformed("message cut short");

    /// The `N` bytes at `*pos`, advancing it.
    fn take<const N: usize>(buf: &[u8], pos: &mut usize) -> Result<[u8; N], Malformed> {
        let bytes = buf
            .get(*pos..)
            .and_then(|rest| rest.first_chunk::<N>())
            .ok_or(TRUNCATED)?;
        *pos += N;
        Ok(*bytes)
    }

    impl<'a> Iterator for Fields<'a> {
        type Item = Result<(u32, Payload<'a>), Malformed>;

        fn next(&mut self) -> Option<Self::Item> {
            if self.pos >= self.buf.len() {
                return None;
            }
            let field = self.next_field();
            if field.is_err() {
                self.pos = self.buf.len();
            }
            Some(field)
        }
    }

    /// The varints of a packed repeated field.
    pub fn try_packed(buf: &[u8]) -> Result<Vec<u64>, Malformed> {
        let mut pos = 0;
        let mut out = Vec::with_capacity(buf.len());
        while pos < buf.len() {
            out.push(try_varint(buf, &mut pos).ok_or(Malformed("packed field cut short"))?);
        }
        Ok(out)
    }

    /// Inverse of zigzag.
    pub fn unzigzag(value: u64) -> i64 {
        (value >> 1) as i64 ^ -((value & 1) as i64)
    }

    /// Reads a varint at `*pos`, advancing it (tests: panics on malformed
    /// input).
    #[cfg(test)]
    pub fn varint(buf: &[u8], pos: &mut usize) -> u64 {
        try_varint(buf, pos).expect("a well-formed varint")
    }

    /// All fields of a message, in order (tests: panics on malformed input).
    #[cfg(test)]
    pub fn fields(buf: &[u8]) -> Vec<(u32, Payload<'_>)> {
        try_fields(buf)
            .collect::<Result<_, _>>()
            .expect("a well-formed message")
    }

    /// The varints of a packed repeated field (tests: panics on malformed
    /// input).
    #[cfg(test)]
    pub fn packed(buf: &[u8]) -> Vec<u64> {
        try_packed(buf).expect("a well-formed packed field")
    }
}

#[cfg(test)]
mod tests {
    use super::read::*;
    use super::*;

    #[test]
    fn varints_match_the_encoding_guide_examples() {
        // The guide's example: 150 is 0x96 0x01.
        let mut out = Vec::new();
        write_varint(&mut out, 150);
        assert_eq!(out, [0x96, 0x01]);
        out.clear();
        write_varint(&mut out, 1);
        assert_eq!(out, [0x01]);
        out.clear();
        write_varint(&mut out, u64::MAX);
        assert_eq!(out.len(), 10);
        assert_eq!(varint(&out, &mut 0), u64::MAX);
    }

    #[test]
    fn varint_len_agrees_with_the_writer() {
        for v in [0, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut out = Vec::new();
            write_varint(&mut out, v);
            assert_eq!(varint_len(v), out.len(), "{v}");
        }
    }

    #[test]
    fn zigzag_interleaves_signs() {
        assert_eq!(
            [0, -1, 1, -2, 2].map(zigzag),
            [0, 1, 2, 3, 4],
            "encoding guide, signed integers"
        );
        assert_eq!(zigzag(i64::MIN), u64::MAX);
        for v in [0, 5, -5, i64::MAX, i64::MIN] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
    }

    #[test]
    fn packed_fields_are_length_prefixed_varints() {
        let mut out = Vec::new();
        write_packed(&mut out, 4, &[9, 50, 34, 300]);
        // Key (4 << 3) | 2, then 5 bytes: 300 takes two.
        assert_eq!(out[..2], [34, 5]);
        let [(4, Payload::Len(bytes))] = fields(&out)[..] else {
            panic!("{out:?}")
        };
        assert_eq!(packed(bytes), [9, 50, 34, 300]);
        // 128 one-byte and 172 two-byte values: a two-byte length (472).
        let values: Vec<u32> = (0..300).collect();
        out.clear();
        write_packed(&mut out, 4, &values);
        assert_eq!(out[..3], [34, 0xd8, 0x03]);
        let [(4, Payload::Len(bytes))] = fields(&out)[..] else {
            panic!("{out:?}")
        };
        assert_eq!(
            packed(bytes),
            values.iter().map(|&v| u64::from(v)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_length_prefix_is_right_whatever_the_hint() {
        for (hint, len) in [
            (0, 5),
            (5, 5),
            (1000, 5),
            (1, 200),
            (200, 200),
            (1 << 20, 200),
        ] {
            let mut out = vec![7];
            write_with_len(&mut out, 2, hint, |out| {
                out.extend((0..len).map(|i| i as u8))
            });
            let [(2, Payload::Len(bytes))] = fields(&out[1..])[..] else {
                panic!("hint {hint}, length {len}: {out:?}")
            };
            assert_eq!(out[0], 7);
            assert_eq!(bytes, (0..len).map(|i| i as u8).collect::<Vec<_>>());
        }
    }

    #[test]
    fn fields_round_trip_through_the_test_reader() {
        let mut out = Vec::new();
        write_uint(&mut out, 15, 2);
        write_bytes(&mut out, 1, b"roads");
        write_double(&mut out, 3, -1.5);
        write_sint(&mut out, 6, -3);
        write_packed(&mut out, 4, &[9, 50, 34]);
        write_packed(&mut out, 5, &[]);
        let fields = fields(&out);
        assert_eq!(
            fields,
            [
                (15, Payload::Varint(2)),
                (1, Payload::Len(b"roads")),
                (3, Payload::Fixed64((-1.5f64).to_bits())),
                (6, Payload::Varint(5)),
                (4, Payload::Len(&[9, 50, 34])),
            ]
        );
        // Field 15's key is (15 << 3) | 0 = 120, still one byte; the
        // string's key is (1 << 3) | 2 = 10.
        assert_eq!(&out[..2], [120, 2]);
        assert_eq!(out[2], 10);
    }
}
