//! Block decoding: decompression, then the predictor, then samples in the
//! machine's byte order.
//!
//! LERC blocks (TIFF compression 34887, as GDAL writes them) are decoded by
//! `lerc-reader`, a maintained pure-Rust decoder of Lerc1 and Lerc2 (through
//! v6) with checked sizes and allocations. Without its default `ndarray`
//! feature it adds two crates to the build, itself and `lerc-core` (named
//! here too, for its sample and type enums), and nothing else. The other
//! candidate, `lerc-rs` (an encoder and decoder), builds as well and decodes
//! GDAL's blobs to the same values, but adds six crates (`bitvec` and its
//! four dependencies). `lerc-writer`, from the same project as
//! `lerc-reader`, makes the blobs of the unit tests.

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
    /// JPEG, with the colour handling libtiff gives its blocks.
    Jpeg(JpegColour),
    Webp,
    /// LERC, with the compression GDAL may apply on top of each blob.
    Lerc(LercPacking),
}

/// What GDAL wraps a LERC blob in: the second value of its LercParameters
/// tag (50674), `[LERC version, additional compression]`; no tag means
/// none, as libtiff's `tif_lerc.c` defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LercPacking {
    /// The bare blob (`COMPRESS=LERC`).
    None,
    /// A zlib stream (`COMPRESS=LERC_DEFLATE`).
    Deflate,
    /// A ZSTD frame (`COMPRESS=LERC_ZSTD`).
    Zstd,
}

/// What libtiff's JPEG codec (`tif_jpeg.c`, `JPEGPreDecode`) does with a
/// block's colour components when GDAL reads it: it converts YCbCr to RGB
/// (GDAL asks for `JPEGCOLORMODE_RGB`) and leaves every other photometric
/// interpretation's components as they are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegColour {
    /// Photometric YCbCr, three samples: converted to RGB.
    YCbCrToRgb,
    /// Grey, RGB, RGB + alpha, or one plane of a band-separate image: the
    /// stored components, with no colour transform (libtiff decodes them as
    /// `JCS_UNKNOWN`; GDAL writes RGB + alpha that way, RGB with an Adobe
    /// marker saying so).
    AsStored,
}

/// TIFF PhotometricInterpretation values of CMYK and YCbCr (TIFF 6.0 §16, §21).
const PHOTOMETRIC_SEPARATED: u64 = 5;
const PHOTOMETRIC_YCBCR: u64 = 6;

impl JpegColour {
    /// The colour handling of a JPEG level, or why it is not read: each
    /// variant GDAL writes is either read as GDAL reads it or named here.
    /// `samples` are per block (1 for each plane of a band-separate image).
    pub fn of(bits: u64, samples: u64, photometric: u64) -> Result<Self, String> {
        if bits != 8 {
            // libjpeg's 12-bit mode (GDAL's `NBITS=12` UInt16 JPEG), absent
            // from Debian's GDAL and from zune-jpeg alike.
            return Err(format!("{bits}-bit JPEG (only 8-bit JPEG is read)"));
        }
        match (photometric, samples) {
            (PHOTOMETRIC_SEPARATED, _) => Err(
                "JPEG-compressed CMYK (Photometric Separated): GDAL converts it to RGB on read, \
                 which is not implemented"
                    .into(),
            ),
            (PHOTOMETRIC_YCBCR, 3) => Ok(JpegColour::YCbCrToRgb),
            (PHOTOMETRIC_YCBCR, n) => Err(format!("YCbCr JPEG with {n} samples per block")),
            (_, 1 | 3 | 4) => Ok(JpegColour::AsStored),
            (p, n) => Err(format!(
                "JPEG with {n} samples per block (Photometric {p}): 1, 3 or 4 are read"
            )),
        }
    }
}

impl LercPacking {
    /// From the LercParameters tag's values; the version is not checked, as
    /// the blob carries its own (libtiff only warns when they differ).
    pub fn from_parameters(parameters: Option<&[u64]>) -> Result<Self, String> {
        match parameters {
            None => Ok(LercPacking::None),
            Some([_, 0, ..]) => Ok(LercPacking::None),
            Some([_, 1, ..]) => Ok(LercPacking::Deflate),
            Some([_, 2, ..]) => Ok(LercPacking::Zstd),
            Some([_, other, ..]) => Err(format!("LERC additional compression {other}")),
            Some(short) => Err(format!(
                "LercParameters tag with {} value(s), 2 expected",
                short.len()
            )),
        }
    }
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
            // The colour handling comes from the directory's other tags.
            7 => Compression::Jpeg(JpegColour::AsStored),
            50001 => Compression::Webp,
            // The additional compression comes from the LercParameters tag.
            34887 => Compression::Lerc(LercPacking::None),
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
    /// The file's nodata value (GDAL_NODATA): what integer samples become
    /// where a LERC blob's validity mask says a pixel is invalid.
    pub nodata: Option<f64>,
    /// The last of `samples` is unassociated alpha (ExtraSamples 2), which
    /// GDAL may store in a LERC blob as its validity mask.
    pub alpha_last: bool,
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
    if let Compression::Lerc(packing) = layout.compression {
        // LERC gives samples in native order and needs no predictor.
        if layout.predictor != 1 {
            return Err(format!("predictor {} with LERC", layout.predictor));
        }
        return decode_lerc(raw, packing, layout);
    }
    let mut data = match layout.compression {
        Compression::Jpeg(colour) => decode_jpeg(raw, colour, layout)?,
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
        Compression::Jpeg(_) | Compression::Webp | Compression::Lerc(_) => {
            return Err("image codecs decode whole blocks, not streams".into())
        }
    }
    Ok(out)
}

/// A JPEG block: the shared tables (an abbreviated stream, SOI … EOI) are
/// spliced in front of the block's own stream (TIFF Technical Note 2), and
/// the components come out as libtiff gives them to GDAL (`colour`).
fn decode_jpeg(raw: &[u8], colour: JpegColour, layout: &Layout) -> Result<Vec<u8>, String> {
    use zune_core::colorspace::ColorSpace;
    if layout.sample_type != SampleType::U8 || !matches!(layout.samples, 1 | 3 | 4) {
        return Err(format!(
            "JPEG with {} {:?} samples",
            layout.samples, layout.sample_type
        ));
    }
    let stream = jpeg_stream(raw, layout.jpeg_tables);
    let options = zune_core::options::DecoderOptions::default()
        .set_max_width(layout.width)
        .set_max_height(layout.rows);
    let mut decoder = zune_jpeg::JpegDecoder::new_with_options(
        zune_core::bytestream::ZCursor::new(&stream),
        options,
    );
    decoder
        .decode_headers()
        .map_err(|e| format!("JPEG: {e:?}"))?;
    // zune-jpeg guesses the stream's colour space from its markers (no
    // Adobe marker: YCbCr for three components, CMYK for four); asking for
    // that same space back is how it copies the components untransformed.
    let stored = decoder.input_colorspace().unwrap_or(ColorSpace::Unknown);
    let out = match (colour, layout.samples) {
        (_, 1) => ColorSpace::Luma,
        (JpegColour::YCbCrToRgb, _) => ColorSpace::RGB,
        (JpegColour::AsStored, 3) if stored == ColorSpace::YCbCr => ColorSpace::YCbCr,
        (JpegColour::AsStored, 3) => ColorSpace::RGB,
        // Four components: CMYK (no marker) or YCCK (an Adobe marker), each
        // copied as stored when asked for itself.
        (JpegColour::AsStored, _) => stored,
    };
    if out.num_components() != layout.samples {
        return Err(format!(
            "JPEG stream of {stored:?} components for {} samples",
            layout.samples
        ));
    }
    decoder.set_options(options.jpeg_set_out_colorspace(out));
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

/// A LERC block as GDAL's libtiff codec (`tif_lerc.c`) writes it: the
/// additional compression undone, then one Lerc2 blob whose depth is the
/// block's samples per pixel (pixel-interleaved, as the block is), or, for
/// float pixels whose samples are not all valid or all invalid together,
/// one single-depth blob per sample, concatenated.
///
/// Where LERC's validity mask marks a pixel invalid, the samples are what
/// GDAL reads there rather than the nodata value: NaN for floats (GDAL
/// writes a float mask only for NaN samples, so this gives back what it
/// encoded, and the renderer treats NaN as no data); for 8-bit chunky blocks
/// whose last sample is unassociated alpha stored as the mask (blob depth =
/// samples − 1), that alpha, 0 or 255. Integer blocks GDAL never masks
/// otherwise (libtiff does not even ask for their mask); should another
/// writer do so, their invalid samples become the file's nodata value, or 0.
fn decode_lerc(raw: &[u8], packing: LercPacking, layout: &Layout) -> Result<Vec<u8>, String> {
    let expected = layout.rows * layout.row_bytes();
    // libtiff's buffer for an unpacked blob (tif_lerc.c SetupBuffers): a
    // blob's headers and mask may outgrow the raw samples, not past this.
    let limit = 256 + expected + expected / 3;
    let unpacked;
    let blob = match packing {
        LercPacking::None => raw,
        LercPacking::Deflate | LercPacking::Zstd => {
            let outer = if packing == LercPacking::Deflate {
                Compression::Deflate
            } else {
                Compression::Zstd
            };
            unpacked = decompress(raw, outer, limit).map_err(|e| format!("LERC in {e}"))?;
            &unpacked[..]
        }
    };
    // Every blob's header is checked against the block before anything is
    // decoded, so no header can size an allocation beyond the block's.
    let (mut blobs, mut per_pixel, mut at) = (0, 0, 0);
    let inspect = lerc_reader::InspectOptions::new().with_compute_value_range(false);
    while at < blob.len() {
        let info = lerc_reader::inspect_first_with_options(&blob[at..], inspect)
            .map_err(|e| format!("LERC: {e}"))?;
        if (info.width as usize, info.height as usize) != (layout.width, layout.rows)
            || lerc_type(layout.sample_type) != info.data_type
        {
            return Err(format!(
                "LERC blob of {}×{} {} samples in a {}×{} {:?} block",
                info.width,
                info.height,
                info.data_type.name(),
                layout.width,
                layout.rows,
                layout.sample_type
            ));
        }
        blobs += 1;
        per_pixel += info.depth as usize;
        if per_pixel > layout.samples {
            return Err(format!(
                "LERC blobs hold more than the block's {} samples per pixel",
                layout.samples
            ));
        }
        at = at
            .checked_add(info.blob_size)
            .filter(|&end| info.blob_size > 0 && end <= blob.len())
            .ok_or("LERC blob runs past the end of the block")?;
    }
    let alpha = layout.alpha_last
        && layout.sample_type == SampleType::U8
        && blobs == 1
        && per_pixel + 1 == layout.samples;
    if per_pixel != layout.samples && !alpha {
        return Err(format!(
            "LERC blobs hold {per_pixel} samples per pixel, the block {}",
            layout.samples
        ));
    }
    let (_, bands, masks) = lerc_reader::decode_band_set(blob)
        .map_err(|e| format!("LERC: {e}"))?
        .into_parts();
    let pixels = layout.width * layout.rows;
    let size = layout.sample_type.size();
    if masks.iter().flatten().any(|m| m.len() != pixels) {
        return Err("LERC mask does not match the block".into());
    }
    if let ([band], [None], false) = (&bands[..], &masks[..], alpha) {
        // The usual block: every pixel valid, already interleaved.
        let out = ne_bytes(band);
        return if out.len() == expected {
            Ok(out)
        } else {
            Err("LERC band does not match the block".into())
        };
    }
    let fill = match layout.sample_type {
        SampleType::F32 => f32::NAN.to_ne_bytes().to_vec(),
        SampleType::F64 => f64::NAN.to_ne_bytes().to_vec(),
        t => t.to_ne_bytes(layout.nodata.unwrap_or(0.0)),
    };
    let stride = layout.samples * size;
    let mut out = vec![0u8; expected];
    let mut first = 0;
    for (band, mask) in bands.iter().zip(&masks) {
        let values = ne_bytes(band);
        let width = values.len() / pixels.max(1);
        if width == 0 || values.len() != pixels * width || first + width > stride {
            return Err("LERC band does not match the block".into());
        }
        for (p, src) in values.chunks_exact(width).enumerate() {
            let dst = &mut out[p * stride + first..p * stride + first + width];
            if alpha || mask.as_ref().is_none_or(|m| m[p] != 0) {
                dst.copy_from_slice(src);
            } else {
                dst.chunks_exact_mut(size)
                    .for_each(|s| s.copy_from_slice(&fill));
            }
        }
        first += width;
    }
    if alpha {
        let mask = masks.first().and_then(Option::as_ref);
        for (p, pixel) in out.chunks_exact_mut(stride).enumerate() {
            pixel[stride - 1] = if mask.is_none_or(|m| m[p] != 0) {
                255
            } else {
                0
            };
        }
    }
    Ok(out)
}

/// The LERC data type of a sample type.
fn lerc_type(t: SampleType) -> lerc_core::DataType {
    use lerc_core::DataType as D;
    match t {
        SampleType::U8 => D::U8,
        SampleType::I8 => D::I8,
        SampleType::U16 => D::U16,
        SampleType::I16 => D::I16,
        SampleType::U32 => D::U32,
        SampleType::I32 => D::I32,
        SampleType::F32 => D::F32,
        SampleType::F64 => D::F64,
    }
}

/// Decoded LERC samples as bytes in native order.
fn ne_bytes(data: &lerc_core::PixelData) -> Vec<u8> {
    use lerc_core::PixelData as P;
    macro_rules! bytes {
        ($v:expr) => {
            $v.iter().flat_map(|x| x.to_ne_bytes()).collect()
        };
    }
    match data {
        P::I8(v) => bytes!(v),
        P::U8(v) => v.clone(),
        P::I16(v) => bytes!(v),
        P::U16(v) => bytes!(v),
        P::I32(v) => bytes!(v),
        P::U32(v) => bytes!(v),
        P::F32(v) => bytes!(v),
        P::F64(v) => bytes!(v),
    }
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
            nodata: None,
            alpha_last: false,
        }
    }

    #[test]
    fn the_jpeg_variants_gdal_writes_are_read_or_refused_by_name() {
        // Grey, RGB (Photometric 2), RGB + alpha, one plane: as stored.
        for samples in [1, 3, 4] {
            assert_eq!(JpegColour::of(8, samples, 2), Ok(JpegColour::AsStored));
        }
        assert_eq!(JpegColour::of(8, 1, 1), Ok(JpegColour::AsStored));
        assert_eq!(
            JpegColour::of(8, 3, PHOTOMETRIC_YCBCR),
            Ok(JpegColour::YCbCrToRgb)
        );
        for (bits, samples, photometric, words) in [
            (12, 1, 1, "12-bit JPEG"),
            (8, 4, PHOTOMETRIC_SEPARATED, "CMYK"),
            (8, 4, PHOTOMETRIC_YCBCR, "YCbCr JPEG with 4 samples"),
            (8, 2, 1, "JPEG with 2 samples"),
        ] {
            let err = JpegColour::of(bits, samples, photometric).unwrap_err();
            assert!(err.contains(words), "{err}");
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

    /// A Lerc2 blob of `data` (`depth` samples per pixel), lossless.
    fn lerc<T: lerc_core::Sample>(
        width: u32,
        height: u32,
        depth: u32,
        data: &[T],
        mask: Option<&[u8]>,
    ) -> Vec<u8> {
        lerc_writer::encode(
            lerc_core::RasterView::new(width, height, depth, data).unwrap(),
            mask.map(|m| lerc_core::MaskView::new(width, height, m).unwrap()),
            lerc_writer::EncodeOptions::new(),
        )
        .unwrap()
    }

    /// The layout of a 4×3 LERC block of `samples` samples of `t`.
    fn lerc_layout(t: SampleType, packing: LercPacking, samples: usize) -> Layout<'static> {
        Layout {
            rows: 3,
            samples,
            ..layout(Compression::Lerc(packing), 1, t, 4)
        }
    }

    fn decode_lerc_block(blob: &[u8], layout: &Layout) -> Vec<u8> {
        decode_block(blob, layout).unwrap_or_else(|e| panic!("{:?}: {e}", layout.sample_type))
    }

    #[test]
    fn lerc_blocks_of_every_sample_type_decode_to_native_samples() {
        macro_rules! check {
            ($t:ty, $st:expr) => {{
                let values: Vec<$t> = (0..12u8).map(|i| <$t>::from(i) * 3 as $t).collect();
                let out = decode_lerc_block(
                    &lerc(4, 3, 1, &values, None),
                    &lerc_layout($st, LercPacking::None, 1),
                );
                let expected: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
                assert_eq!(out, expected, "{:?}", $st);
            }};
        }
        check!(u8, SampleType::U8);
        check!(i16, SampleType::I16);
        check!(u16, SampleType::U16);
        check!(i32, SampleType::I32);
        check!(u32, SampleType::U32);
        check!(f32, SampleType::F32);
        check!(f64, SampleType::F64);
        let values: Vec<i8> = (0..12).map(|i| i * 10 - 60).collect();
        let out = decode_lerc_block(
            &lerc(4, 3, 1, &values, None),
            &lerc_layout(SampleType::I8, LercPacking::None, 1),
        );
        assert_eq!(out, values.iter().map(|&v| v as u8).collect::<Vec<_>>());
    }

    #[test]
    fn chunky_lerc_blocks_keep_their_depth_interleaved() {
        // GDAL encodes a chunky block with LERC depth = samples per pixel.
        let values: Vec<u16> = (0..36).map(|i| i * 1000 + 7).collect();
        let blob = lerc(4, 3, 3, &values, None);
        let out = decode_lerc_block(&blob, &lerc_layout(SampleType::U16, LercPacking::None, 3));
        let expected: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        assert_eq!(out, expected);
        // Depth 3 in a one-sample (planar) block is refused.
        assert!(decode_block(&blob, &lerc_layout(SampleType::U16, LercPacking::None, 1)).is_err());
    }

    #[test]
    fn deflate_and_zstd_around_lerc_are_undone() {
        use std::io::Write;
        let values: Vec<f32> = (0..12).map(|i| i as f32 * 0.25 - 1.0).collect();
        let blob = lerc(4, 3, 1, &values, None);
        let mut zlib = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zlib.write_all(&blob).unwrap();
        let zlib = zlib.finish().unwrap();
        let zstd = ruzstd::encoding::compress_to_vec(
            &blob[..],
            ruzstd::encoding::CompressionLevel::Fastest,
        );
        let expected: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
        for (packing, raw) in [(LercPacking::Deflate, &zlib), (LercPacking::Zstd, &zstd)] {
            let out = decode_lerc_block(raw, &lerc_layout(SampleType::F32, packing, 1));
            assert_eq!(out, expected, "{packing:?}");
        }
        // The wrong wrapper is an error, not garbage.
        assert!(decode_block(&zlib, &lerc_layout(SampleType::F32, LercPacking::Zstd, 1)).is_err());
        assert!(decode_block(
            &blob,
            &lerc_layout(SampleType::F32, LercPacking::Deflate, 1)
        )
        .is_err());
    }

    #[test]
    fn lerc_parameters_give_the_additional_compression() {
        assert_eq!(LercPacking::from_parameters(None), Ok(LercPacking::None));
        assert_eq!(
            LercPacking::from_parameters(Some(&[4, 0])),
            Ok(LercPacking::None)
        );
        assert_eq!(
            LercPacking::from_parameters(Some(&[4, 1])),
            Ok(LercPacking::Deflate)
        );
        assert_eq!(
            LercPacking::from_parameters(Some(&[4, 2])),
            Ok(LercPacking::Zstd)
        );
        assert!(LercPacking::from_parameters(Some(&[4, 3])).is_err());
        assert!(LercPacking::from_parameters(Some(&[4])).is_err());
    }

    #[test]
    fn lerc_invalid_pixels_read_as_gdal_reads_them() {
        // Pixels 1 and 5 invalid.
        let mask: Vec<u8> = (0..12).map(|i| u8::from(i != 1 && i != 5)).collect();
        // Floats: NaN, as libtiff's tif_lerc.c writes there.
        let floats: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let mut l = lerc_layout(SampleType::F32, LercPacking::None, 1);
        l.nodata = Some(9999.0);
        let out = decode_lerc_block(&lerc(4, 3, 1, &floats, Some(&mask)), &l);
        let got: Vec<f32> = out
            .chunks(4)
            .map(|b| f32::from_ne_bytes(b.try_into().unwrap()))
            .collect();
        for (i, v) in got.iter().enumerate() {
            assert_eq!(v.is_nan(), mask[i] == 0, "pixel {i}: {v}");
            if mask[i] != 0 {
                assert_eq!(*v, i as f32);
            }
        }
        // Integers: the nodata value, else 0.
        let ints: Vec<i16> = (0..12).map(|i| i * 100).collect();
        let blob = lerc(4, 3, 1, &ints, Some(&mask));
        let mut l = lerc_layout(SampleType::I16, LercPacking::None, 1);
        let read = |l: &Layout| -> Vec<i16> {
            decode_lerc_block(&blob, l)
                .chunks(2)
                .map(|b| i16::from_ne_bytes([b[0], b[1]]))
                .collect()
        };
        assert_eq!(read(&l)[..6], [0, 0, 200, 300, 400, 0]);
        l.nodata = Some(-32768.0);
        assert_eq!(read(&l)[..6], [0, -32768, 200, 300, 400, -32768]);
    }

    /// A 4×3 LERC block of two f64 samples per pixel, decoded.
    fn two_f64s(blob: &[u8]) -> Vec<f64> {
        decode_lerc_block(blob, &lerc_layout(SampleType::F64, LercPacking::None, 2))
            .chunks(8)
            .map(|b| f64::from_ne_bytes(b.try_into().unwrap()))
            .collect()
    }

    #[test]
    fn float_samples_masked_one_by_one_come_from_a_lerc_band_set() {
        // GDAL writes one blob per sample when a float pixel's samples are
        // not all NaN or all valid; the block is still pixel-interleaved.
        let bands: Vec<Vec<f64>> = (0..2)
            .map(|b| (0..12).map(|i| f64::from(b * 100 + i)).collect())
            .collect();
        let masks: [Vec<u8>; 2] = [
            (0..12).map(|i| u8::from(i != 0)).collect(),
            (0..12).map(|i| u8::from(i != 11)).collect(),
        ];
        let mut blob = lerc(4, 3, 1, &bands[0], Some(&masks[0]));
        blob.extend(lerc(4, 3, 1, &bands[1], Some(&masks[1])));
        let got = two_f64s(&blob);
        assert!(got[0].is_nan() && got[23].is_nan());
        assert_eq!(got[1], 100.0);
        assert_eq!(got[2..4], [1.0, 101.0]);
        assert_eq!(got[22], 11.0);
        // A later blob whose mask is its predecessor's stores none.
        let interleaved: Vec<f64> = (0..24).map(f64::from).collect();
        let shared = lerc_writer::encode_band_set(
            lerc_core::BandSetView::new(
                4,
                3,
                1,
                2,
                lerc_core::BandLayout::Interleaved,
                &interleaved,
            )
            .unwrap(),
            Some(lerc_core::MaskView::new(4, 3, &masks[0]).unwrap()),
            lerc_writer::EncodeOptions::new(),
        )
        .unwrap();
        let got = two_f64s(&shared);
        assert!(got[0].is_nan() && got[1].is_nan());
        assert_eq!(got[2..], interleaved[2..]);
        // A third blob is more samples than the block has.
        blob.extend(lerc(4, 3, 1, &bands[1], None));
        assert!(decode_block(&blob, &lerc_layout(SampleType::F64, LercPacking::None, 2)).is_err());
    }

    #[test]
    fn an_alpha_band_stored_as_the_lerc_mask_is_restored() {
        // libtiff stores 8-bit unassociated alpha of 0s and 255s as the
        // blob's mask, with depth = samples - 1.
        let rgb: Vec<u8> = (0..36).collect();
        let mask: Vec<u8> = (0..12).map(|i| u8::from(i % 4 != 0)).collect();
        let blob = lerc(4, 3, 3, &rgb, Some(&mask));
        let mut l = lerc_layout(SampleType::U8, LercPacking::None, 4);
        assert!(
            decode_block(&blob, &l).is_err(),
            "no alpha, depth 3 of 4 samples"
        );
        l.alpha_last = true;
        let out = decode_lerc_block(&blob, &l);
        for (i, pixel) in out.chunks(4).enumerate() {
            assert_eq!(pixel[3], if i % 4 != 0 { 255 } else { 0 }, "pixel {i}");
            if i % 4 != 0 {
                assert_eq!(pixel[..3], rgb[i * 3..i * 3 + 3]);
            }
        }
    }

    #[test]
    fn lerc_blocks_of_another_shape_or_type_are_errors() {
        let values: Vec<f32> = vec![1.5; 12];
        let blob = lerc(4, 3, 1, &values, None);
        // Another type.
        assert!(decode_block(&blob, &lerc_layout(SampleType::I32, LercPacking::None, 1)).is_err());
        // Another size.
        let mut l = lerc_layout(SampleType::F32, LercPacking::None, 1);
        l.width = 8;
        let err = decode_block(&blob, &l).unwrap_err();
        assert!(err.contains("4×3"), "{err}");
        // A predictor.
        let mut l = lerc_layout(SampleType::F32, LercPacking::None, 1);
        l.predictor = 3;
        assert!(decode_block(&blob, &l).unwrap_err().contains("predictor"));
    }

    #[test]
    fn truncated_or_bit_flipped_lerc_blobs_are_errors_not_panics() {
        // A masked float blob and an 8-bit depth-3 one (Huffman coded), 16×16.
        let floats: Vec<f32> = (0..256).map(|i| (i as f32 * 0.1).sin() * 100.0).collect();
        let bytes: Vec<u8> = (0..768).map(|i| (i * 7 % 251) as u8).collect();
        let mask: Vec<u8> = (0..256).map(|i| u8::from(i % 17 != 3)).collect();
        for (blob, t, samples) in [
            (lerc(16, 16, 1, &floats, Some(&mask)), SampleType::F32, 1),
            (lerc(16, 16, 3, &bytes, None), SampleType::U8, 3),
        ] {
            let l = Layout {
                width: 16,
                rows: 16,
                ..lerc_layout(t, LercPacking::None, samples)
            };
            let size = 256 * samples * t.size();
            assert_eq!(decode_lerc_block(&blob, &l).len(), size);
            for len in 0..blob.len() {
                assert!(
                    decode_block(&blob[..len], &l).is_err(),
                    "{t:?} cut to {len}"
                );
            }
            // Every single-bit flip, as stored (the checksum catches most)
            // and re-signed (so the decoder reads the damage): any result but
            // a panic, and a decoded block has the block's size.
            for bit in 0..blob.len() * 8 {
                let mut b = blob.clone();
                b[bit / 8] ^= 1 << (bit % 8);
                let mut signed = b.clone();
                // Lerc2 v3+: Fletcher-32 of what follows bytes 10..14.
                let sum = lerc_core::fletcher32(&signed[14..]);
                signed[10..14].copy_from_slice(&sum.to_le_bytes());
                for b in [b, signed] {
                    if let Ok(out) = decode_block(&b, &l) {
                        assert_eq!(out.len(), size, "{t:?} bit {bit}");
                    }
                }
            }
        }
    }
}
