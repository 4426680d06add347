//! Block decoding: decompression, then the predictor, then samples in the
//! machine's byte order.

use std::io::Read;

use super::ifd::ByteOrder;

/// How blocks are compressed (TIFF tag 259).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Lzw,
    Deflate,
    PackBits,
    Zstd,
    Jpeg,
    Webp,
}

impl Compression {
    /// The compression of a TIFF code, or the name of an unsupported one.
    pub fn from_code(code: u64) -> Result<Self, String> {
        Ok(match code {
            1 => Compression::None,
            5 => Compression::Lzw,
            8 | 32946 => Compression::Deflate,
            32773 => Compression::PackBits,
            50000 => Compression::Zstd,
            7 => Compression::Jpeg,
            50001 => Compression::Webp,
            34887 => return Err("LERC compression is not supported".into()),
            other => return Err(format!("compression code {other}")),
        })
    }
}

/// The type of one sample (TIFF tags 258 BitsPerSample and 339 SampleFormat).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleType {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    F64,
}

impl SampleType {
    /// From BitsPerSample and SampleFormat (1 unsigned, 2 signed, 3 float).
    pub fn from_tags(bits: u64, format: u64) -> Result<Self, String> {
        Ok(match (bits, format) {
            (8, 1) => SampleType::U8,
            (8, 2) => SampleType::I8,
            (16, 1) => SampleType::U16,
            (16, 2) => SampleType::I16,
            (32, 1) => SampleType::U32,
            (32, 2) => SampleType::I32,
            (32, 3) => SampleType::F32,
            (64, 3) => SampleType::F64,
            _ => return Err(format!("{bits}-bit samples of format {format}")),
        })
    }

    /// Bytes per sample.
    pub fn size(self) -> usize {
        match self {
            SampleType::U8 | SampleType::I8 => 1,
            SampleType::U16 | SampleType::I16 => 2,
            SampleType::U32 | SampleType::I32 | SampleType::F32 => 4,
            SampleType::F64 => 8,
        }
    }

    /// `value` as one sample of this type in native byte order (saturating,
    /// as GDAL converts a nodata value to the band's type).
    pub fn to_ne_bytes(self, value: f64) -> Vec<u8> {
        match self {
            SampleType::U8 => vec![value as u8],
            SampleType::I8 => (value as i8).to_ne_bytes().to_vec(),
            SampleType::U16 => (value as u16).to_ne_bytes().to_vec(),
            SampleType::I16 => (value as i16).to_ne_bytes().to_vec(),
            SampleType::U32 => (value as u32).to_ne_bytes().to_vec(),
            SampleType::I32 => (value as i32).to_ne_bytes().to_vec(),
            SampleType::F32 => (value as f32).to_ne_bytes().to_vec(),
            SampleType::F64 => value.to_ne_bytes().to_vec(),
        }
    }

    fn is_float(self) -> bool {
        matches!(self, SampleType::F32 | SampleType::F64)
    }
}

/// What it takes to decode one block into `width × rows × samples` values.
pub struct Layout<'a> {
    pub compression: Compression,
    pub predictor: u64,
    pub sample_type: SampleType,
    pub order: ByteOrder,
    pub width: usize,
    pub rows: usize,
    /// Samples per pixel in this block (1 for band-separate planes).
    pub samples: usize,
    /// JPEG quantisation and Huffman tables shared by all blocks (tag 347).
    pub jpeg_tables: Option<&'a [u8]>,
}

impl Layout<'_> {
    fn row_bytes(&self) -> usize {
        self.width * self.samples * self.sample_type.size()
    }
}

/// Decodes one stored block into samples in native byte order, pixel-
/// interleaved, exactly `rows × width × samples` of them.
pub fn decode_block(raw: &[u8], layout: &Layout) -> Result<Vec<u8>, String> {
    let expected = layout.rows * layout.row_bytes();
    let mut data = match layout.compression {
        Compression::Jpeg => decode_jpeg(raw, layout)?,
        Compression::Webp => decode_webp(raw, layout)?,
        other => decompress(raw, other, expected)?,
    };
    if data.len() < expected {
        return Err(format!(
            "block decodes to {} bytes, {expected} expected",
            data.len()
        ));
    }
    data.truncate(expected);
    match (layout.predictor, layout.sample_type.is_float()) {
        (1, _) => to_native(&mut data, layout),
        (2, _) => {
            to_native(&mut data, layout);
            undo_horizontal_differencing(&mut data, layout);
        }
        (3, true) => data = undo_floating_point_predictor(&data, layout),
        (p, _) => {
            return Err(format!(
                "predictor {p} for {:?} samples",
                layout.sample_type
            ))
        }
    }
    Ok(data)
}

fn decompress(raw: &[u8], compression: Compression, expected: usize) -> Result<Vec<u8>, String> {
    // Never produce more than the block needs: a hostile stream cannot
    // expand past its block's size.
    let limit = expected as u64;
    let mut out = Vec::with_capacity(expected);
    match compression {
        Compression::None => out.extend_from_slice(&raw[..raw.len().min(expected)]),
        Compression::Deflate => {
            flate2::read::ZlibDecoder::new(raw)
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| format!("DEFLATE: {e}"))?;
        }
        Compression::Zstd => {
            ruzstd::decoding::StreamingDecoder::new(raw)
                .map_err(|e| format!("ZSTD: {e}"))?
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| format!("ZSTD: {e}"))?;
        }
        Compression::Lzw => {
            // TIFF LZW: MSB-first codes, 8-bit alphabet, "early change".
            let mut decoder =
                weezl::decode::Decoder::with_tiff_size_switch(weezl::BitOrder::Msb, 8);
            out.resize(expected, 0);
            let (mut read, mut written) = (0, 0);
            // The decoder returns at code-size changes and clear codes;
            // call it until the block is full or the input ends.
            while written < expected {
                let r = decoder.decode_bytes(&raw[read..], &mut out[written..]);
                if r.consumed_in == 0 && r.consumed_out == 0 && r.status.is_ok() {
                    break;
                }
                read += r.consumed_in;
                written += r.consumed_out;
                match r.status.map_err(|e| format!("LZW: {e}"))? {
                    weezl::LzwStatus::Ok => {}
                    weezl::LzwStatus::Done | weezl::LzwStatus::NoProgress => break,
                }
            }
            out.truncate(written);
        }
        Compression::PackBits => unpack_bits(raw, expected, &mut out)?,
        Compression::Jpeg | Compression::Webp => {
            return Err("image codecs decode whole blocks, not streams".into())
        }
    }
    Ok(out)
}

/// A JPEG block: the shared tables (an abbreviated stream, SOI … EOI) are
/// spliced in front of the block's own stream (TIFF Technical Note 2).
/// Three-sample blocks come out as RGB: GDAL writes them YCbCr, as the
/// JPEG default colour transform expects.
fn decode_jpeg(raw: &[u8], layout: &Layout) -> Result<Vec<u8>, String> {
    use zune_core::colorspace::ColorSpace;
    if layout.sample_type != SampleType::U8 || !matches!(layout.samples, 1 | 3) {
        return Err(format!(
            "JPEG with {} {:?} samples",
            layout.samples, layout.sample_type
        ));
    }
    let stream = jpeg_stream(raw, layout.jpeg_tables);
    let out = if layout.samples == 1 {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    };
    let options = zune_core::options::DecoderOptions::default()
        .set_max_width(layout.width)
        .set_max_height(layout.rows)
        .jpeg_set_out_colorspace(out);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(&stream),
        options,
    );
    let pixels = decoder.decode().map_err(|e| format!("JPEG: {e:?}"))?;
    match decoder.dimensions() {
        Some((w, h)) if (w, h) == (layout.width, layout.rows) => Ok(pixels),
        other => Err(format!(
            "JPEG block is {other:?}, not {}×{}",
            layout.width, layout.rows
        )),
    }
}

/// A JPEG block as a whole JPEG stream: the shared JPEGTables (without
/// their EOI) spliced in front of the block's own stream (without its SOI),
/// as TIFF Technical Note 2 says a decoder should.
pub fn jpeg_stream(raw: &[u8], tables: Option<&[u8]>) -> Vec<u8> {
    match tables {
        Some(tables) if tables.len() > 4 && raw.len() > 2 => {
            let mut s = tables[..tables.len() - 2].to_vec();
            s.extend_from_slice(&raw[2..]);
            s
        }
        _ => raw.to_vec(),
    }
}

/// A WebP block (GDAL's WEBP compression): RGB, or RGBA when the block has
/// four samples.
fn decode_webp(raw: &[u8], layout: &Layout) -> Result<Vec<u8>, String> {
    if layout.sample_type != SampleType::U8 || !matches!(layout.samples, 3 | 4) {
        return Err(format!(
            "WebP with {} {:?} samples",
            layout.samples, layout.sample_type
        ));
    }
    let mut decoder = image_webp::WebPDecoder::new(std::io::Cursor::new(raw))
        .map_err(|e| format!("WebP: {e}"))?;
    let (w, h) = decoder.dimensions();
    if (w as usize, h as usize) != (layout.width, layout.rows) {
        return Err(format!(
            "WebP block is {w}×{h}, not {}×{}",
            layout.width, layout.rows
        ));
    }
    let channels = if decoder.has_alpha() { 4 } else { 3 };
    let mut pixels = vec![0u8; layout.width * layout.rows * channels];
    decoder
        .read_image(&mut pixels)
        .map_err(|e| format!("WebP: {e}"))?;
    Ok(match (channels, layout.samples) {
        (c, s) if c == s => pixels,
        // An opaque block of an RGBA image: the encoder dropped the alpha.
        (3, _) => pixels
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        // Alpha in an RGB image: dropped.
        _ => pixels
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
    })
}

/// PackBits run-length decoding (TIFF 6.0 §9).
fn unpack_bits(raw: &[u8], expected: usize, out: &mut Vec<u8>) -> Result<(), String> {
    let mut i = 0;
    while i < raw.len() && out.len() < expected {
        let n = raw[i] as i8;
        i += 1;
        if n >= 0 {
            let len = n as usize + 1;
            let literal = raw
                .get(i..i + len)
                .ok_or("PackBits literal runs past the block")?;
            out.extend_from_slice(literal);
            i += len;
        } else if n != -128 {
            let byte = *raw.get(i).ok_or("PackBits run past the block")?;
            out.extend(std::iter::repeat_n(byte, 1 + (-n) as usize));
            i += 1;
        }
    }
    out.truncate(expected);
    Ok(())
}

/// Swaps each sample to native order when the file's differs.
fn to_native(data: &mut [u8], layout: &Layout) {
    let size = layout.sample_type.size();
    let file_is_little = layout.order == ByteOrder::Little;
    if size > 1 && file_is_little != cfg!(target_endian = "little") {
        data.chunks_exact_mut(size).for_each(<[u8]>::reverse);
    }
}

/// Predictor 2: each sample was stored as the difference from the same
/// component of the previous pixel in its row (TIFF 6.0 §14), integers
/// wrapping.
fn undo_horizontal_differencing(data: &mut [u8], layout: &Layout) {
    let (spp, row_bytes) = (layout.samples, layout.row_bytes());
    macro_rules! undo {
        ($t:ty) => {{
            let size = std::mem::size_of::<$t>();
            for row in data.chunks_exact_mut(row_bytes) {
                for i in spp..layout.width * spp {
                    let prev = <$t>::from_ne_bytes(
                        row[(i - spp) * size..(i - spp + 1) * size]
                            .try_into()
                            .unwrap(),
                    );
                    let cur =
                        <$t>::from_ne_bytes(row[i * size..(i + 1) * size].try_into().unwrap());
                    row[i * size..(i + 1) * size]
                        .copy_from_slice(&cur.wrapping_add(prev).to_ne_bytes());
                }
            }
        }};
    }
    match layout.sample_type.size() {
        1 => undo!(u8),
        2 => undo!(u16),
        4 => undo!(u32),
        _ => undo!(u64),
    }
}

/// Predictor 3 (Adobe floating-point predictor, TIFF Technical Note 3):
/// each row's bytes were split into planes, most significant first, then
/// byte-differenced.
fn undo_floating_point_predictor(data: &[u8], layout: &Layout) -> Vec<u8> {
    let size = layout.sample_type.size();
    let count = layout.width * layout.samples;
    let mut out = vec![0u8; data.len()];
    let mut row = vec![0u8; layout.row_bytes()];
    for (src, dst) in data
        .chunks_exact(layout.row_bytes())
        .zip(out.chunks_exact_mut(layout.row_bytes()))
    {
        row.copy_from_slice(src);
        for i in layout.samples..row.len() {
            row[i] = row[i].wrapping_add(row[i - layout.samples]);
        }
        for i in 0..count {
            let mut be = [0u8; 8];
            for (b, byte) in be[..size].iter_mut().enumerate() {
                *byte = row[b * count + i];
            }
            let value = &mut dst[i * size..(i + 1) * size];
            value.copy_from_slice(&be[..size]);
            if cfg!(target_endian = "little") {
                value.reverse();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(
        compression: Compression,
        predictor: u64,
        sample_type: SampleType,
        width: usize,
    ) -> Layout<'static> {
        Layout {
            compression,
            predictor,
            sample_type,
            order: ByteOrder::Little,
            width,
            rows: 1,
            samples: 1,
            jpeg_tables: None,
        }
    }

    #[test]
    fn packbits_follows_the_tiff_example() {
        // TIFF 6.0 §9's example.
        let packed = [
            0xFE, 0xAA, 0x02, 0x80, 0x00, 0x2A, 0xFD, 0xAA, 0x03, 0x80, 0x00, 0x2A, 0x22, 0xF7,
            0xAA,
        ];
        let expected = [
            0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0xAA, 0xAA, 0xAA, 0xAA, 0x80, 0x00, 0x2A, 0x22,
            0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
        ];
        let out = decode_block(
            &packed,
            &layout(Compression::PackBits, 1, SampleType::U8, 24),
        )
        .unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn horizontal_differencing_wraps_integers() {
        let raw: Vec<u8> = [1000u16, 5, 65535]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let out = decode_block(&raw, &layout(Compression::None, 2, SampleType::U16, 3)).unwrap();
        let values: Vec<u16> = out
            .chunks(2)
            .map(|b| u16::from_ne_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(values, [1000, 1005, 1004]);
    }

    #[test]
    fn floating_point_predictor_restores_floats() {
        let values = [1.5f32, -2.25, 1e10];
        // Encode as the predictor does: big-endian byte planes, differenced.
        let mut planes = vec![0u8; 12];
        for (i, v) in values.iter().enumerate() {
            for (b, byte) in v.to_be_bytes().iter().enumerate() {
                planes[b * 3 + i] = *byte;
            }
        }
        for i in (1..planes.len()).rev() {
            planes[i] = planes[i].wrapping_sub(planes[i - 1]);
        }
        let out = decode_block(&planes, &layout(Compression::None, 3, SampleType::F32, 3)).unwrap();
        let got: Vec<f32> = out
            .chunks(4)
            .map(|b| f32::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(got, values);
    }

    #[test]
    fn short_or_corrupt_blocks_are_errors() {
        let l = layout(Compression::Deflate, 1, SampleType::U8, 16);
        assert!(decode_block(b"not zlib", &l).is_err());
        assert!(decode_block(
            &[1, 2, 3],
            &layout(Compression::None, 1, SampleType::U8, 16)
        )
        .is_err());
        assert!(decode_block(
            &[0x7F],
            &layout(Compression::PackBits, 1, SampleType::U8, 16)
        )
        .is_err());
    }
}
