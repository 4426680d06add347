//! 8-bit PNG: one palette of at most 256 RGBA colours (alpha in a tRNS
//! chunk), what WMS clients ask for as `image/png; mode=8bit` or
//! `image/png8` to get smaller images than RGBA PNG.
//!
//! An image of at most 256 colours gets its exact palette (the one
//! [`super::encode`] uses). A photograph is quantized: pixels fall in three
//! classes by alpha, and each class gets its own palette entries, so a fully
//! transparent pixel stays fully transparent (one entry, 0,0,0,0) and an
//! opaque pixel stays opaque (its entries have alpha 255), whatever the
//! quantizer would have averaged; partly transparent pixels (anti-aliased
//! edges, semi-transparent styles) share a part of the palette in
//! proportion to their count, between 32 and half of it. A class with few
//! enough colours keeps them exactly.
//!
//! Decision: the `color_quant` crate quantizes (NeuQuant, Dekker 1994, the
//! algorithm of pngnq and of the `image` crate's GIF encoder). It is the
//! image-rs organisation's, MIT, without dependencies and without unsafe
//! code, and was released as 2.0 with fixes to its colour search (index 0
//! was never found) and a tRNS-friendly alpha map. Its search for the
//! nearest palette entry is exact (squared RGBA distance, entries sorted by
//! green). The alternatives that lost: a median cut of our own (more code
//! to keep, and NeuQuant's errors on photographs are lower at 256 colours),
//! `imagequant` (libimagequant, better quality but GPL-3.0 or commercial)
//! and `quantette` (fast k-means, but several dependencies).
//!
//! Speed: NeuQuant trains one sample at a time against every neuron, so
//! its cost is the number of samples; the crate's `samplefac` takes one
//! pixel in `samplefac`, which grows with the image. We train instead on a
//! fixed [`TRAINING_SAMPLES`] pixels per class, spread evenly over the image
//! (`samplefac` 1 on that sample; for 1024×768 it is like `samplefac` 48):
//! the palette of a photograph does not need more, and a large image costs
//! only its mapping, done by rows in parallel through a grid of candidate
//! entries ([`Nearest`]) rather than NeuQuant's own search.

use color_quant::NeuQuant;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{palette, write_png};
use crate::error::{Error, Result};
use crate::warp::Rgba;

/// Pixels per alpha class the quantizer learns from. On the orthophoto
/// sample the mean error per channel is 2.2 levels from 8 192 samples,
/// 1.9 from 32 768 and 1.8 from all 88 856 pixels, while learning costs
/// about 0.5 µs per sample (256 neurons each): 16 384 keeps it near 8 ms
/// (measured by `png8_quantizes_an_orthophoto_closely_and_keeps_alpha_classes`
/// and benches/render.rs `encode_1024x768/png8`).
pub const TRAINING_SAMPLES: usize = 1 << 14;

/// Pixels mapped by one parallel task.
const MAPPED_PER_TASK: usize = 1 << 16;

/// `image` as an indexed PNG of at most 256 colours, exact when it has no
/// more, quantized otherwise (alpha classes kept; see the module docs).
pub fn encode_png8(image: &Rgba) -> Result<Vec<u8>> {
    let bytes = image
        .width
        .checked_mul(image.height)
        .and_then(|n| n.checked_mul(4));
    if bytes != Some(image.data.len()) {
        return Err(Error::invalid(format!(
            "{}×{} image with {} bytes of RGBA",
            image.width,
            image.height,
            image.data.len()
        )));
    }
    let (colours, indices) = match palette(&image.data) {
        Some(exact) => exact,
        None => quantize(image),
    };
    write_png(image, png::ColorType::Indexed, &colours, &indices)
}

/// Pixels by alpha: each class has its own palette entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Transparent,
    Translucent,
    Opaque,
}

impl Class {
    fn of(alpha: u8) -> Class {
        match alpha {
            0 => Class::Transparent,
            255 => Class::Opaque,
            _ => Class::Translucent,
        }
    }
}

/// The palette entries of one class and how a pixel finds its own.
enum Entries {
    /// Every colour of the class, by colour.
    Exact(FxHashMap<[u8; 4], u8>),
    /// A trained network whose entry `i` is palette entry `offset + i`
    /// (partly transparent pixels: few, searched in RGBA by the network).
    Learned(NeuQuant, u8),
    /// Opaque entries learned by a network, searched in RGB by [`Nearest`].
    Opaque(Nearest),
}

impl Entries {
    /// The palette index of pixel `p` (of this class).
    fn index(&self, p: &[u8]) -> u8 {
        match self {
            Entries::Exact(lookup) => lookup.get(&[p[0], p[1], p[2], p[3]]).copied(),
            // `index_of` is below the network's size, at most 256 - offset.
            Entries::Learned(net, offset) => Some(offset + net.index_of(p) as u8),
            Entries::Opaque(nearest) => Some(nearest.index([p[0], p[1], p[2]])),
        }
        .unwrap_or(0)
    }
}

/// Up to 256 colours and one index per pixel approaching `image`.
fn quantize(image: &Rgba) -> (Vec<[u8; 4]>, Vec<u8>) {
    let pixels = || image.data.chunks_exact(4);
    let count = |class| pixels().filter(|p| Class::of(p[3]) == class).count();
    let (transparent, translucent) = (count(Class::Transparent), count(Class::Translucent));
    let opaque = image.width * image.height - transparent - translucent;

    let mut colours: Vec<[u8; 4]> = Vec::with_capacity(256);
    if transparent > 0 {
        colours.push([0; 4]);
    }
    let slots = 256 - colours.len();
    let translucent_slots = match (translucent, opaque) {
        (0, _) => 0,
        (_, 0) => slots,
        (t, o) => (slots * t / (t + o)).clamp(32, slots / 2),
    };
    let translucent = entries(
        image,
        Class::Translucent,
        translucent,
        translucent_slots,
        &mut colours,
    );
    let opaque_slots = 256 - colours.len();
    let opaque = entries(image, Class::Opaque, opaque, opaque_slots, &mut colours);

    let mut indices = vec![0u8; image.width * image.height];
    let width = image.width.max(1);
    // Tasks of whole rows, a few per core.
    let rows = (MAPPED_PER_TASK / width).max(1);
    indices
        .par_chunks_mut(rows * width)
        .zip(image.data.par_chunks(rows * width * 4))
        .for_each(|(indices, rgba)| {
            for (index, p) in indices.iter_mut().zip(rgba.chunks_exact(4)) {
                *index = match (Class::of(p[3]), &translucent, &opaque) {
                    (Class::Translucent, Some(entries), _) | (Class::Opaque, _, Some(entries)) => {
                        entries.index(p)
                    }
                    // Transparent is entry 0 whenever the class has pixels.
                    _ => 0,
                };
            }
        });
    (colours, indices)
}

/// The palette entries of `class` (`count` pixels of `image`), at most
/// `slots` of them, appended to `colours`; `None` for an empty class.
fn entries(
    image: &Rgba,
    class: Class,
    count: usize,
    slots: usize,
    colours: &mut Vec<[u8; 4]>,
) -> Option<Entries> {
    if count == 0 || slots == 0 {
        return None;
    }
    let offset = colours.len() as u8;
    let members = || {
        image
            .data
            .chunks_exact(4)
            .filter(move |p| Class::of(p[3]) == class)
    };
    // Exact when the class has few colours (map styles: a few fills plus
    // their anti-aliased edges); a photograph gives up within a few
    // hundred pixels.
    let mut lookup = FxHashMap::default();
    let mut exact = true;
    for p in members() {
        let c = [p[0], p[1], p[2], p[3]];
        if !lookup.contains_key(&c) {
            if lookup.len() == slots {
                exact = false;
                break;
            }
            lookup.insert(c, offset + lookup.len() as u8);
            colours.push(c);
        }
    }
    if exact {
        return Some(Entries::Exact(lookup));
    }
    colours.truncate(offset as usize);

    // An odd stride, so that it does not keep falling on the same columns
    // of an image whose width is a power of two.
    let stride = (count / TRAINING_SAMPLES) | 1;
    let sample: Vec<u8> = members().step_by(stride).flatten().copied().collect();
    let net = NeuQuant::new(1, slots, &sample);
    colours.extend(net.color_map_rgba().chunks_exact(4).map(|c| {
        let alpha = match class {
            Class::Opaque => 255,
            // Learned alphas may round to 0 or 255: keep the class.
            _ => c[3].clamp(1, 254),
        };
        [c[0], c[1], c[2], alpha]
    }));
    Some(match class {
        Class::Opaque => Entries::Opaque(Nearest::new(&colours[offset as usize..], offset)),
        _ => Entries::Learned(net, offset),
    })
}

/// Bits per channel of [`Nearest`]'s grid: 32 cells per channel, about
/// 11 candidates per cell on an orthophoto (16 cells: several dozen and
/// three times slower), 32 768 cells of 24 bytes per image.
const GRID_BITS: u32 = 5;
const GRID_CELLS: usize = 1 << (3 * GRID_BITS);

/// The exact nearest opaque entry (squared RGB distance, first in palette
/// order on a tie) through a grid of RGB cells, each listing the entries
/// that can be nearest to some colour of the cell, built when a pixel
/// first falls in it. NeuQuant's own search scans the palette from the
/// pixel's green outwards, which on an orthophoto (many entries of close
/// greens) visits dozens of entries per pixel: 4 times slower.
struct Nearest {
    entries: Vec<[u8; 3]>,
    offset: u8,
    cells: Vec<std::sync::OnceLock<Box<[u8]>>>,
}

impl Nearest {
    fn new(colours: &[[u8; 4]], offset: u8) -> Nearest {
        Nearest {
            entries: colours.iter().map(|c| [c[0], c[1], c[2]]).collect(),
            offset,
            cells: (0..GRID_CELLS)
                .map(|_| std::sync::OnceLock::new())
                .collect(),
        }
    }

    /// The palette index nearest to `rgb`.
    fn index(&self, rgb: [u8; 3]) -> u8 {
        let shift = 8 - GRID_BITS;
        let cell = rgb
            .iter()
            .fold(0, |cell, &c| (cell << GRID_BITS) | usize::from(c >> shift));
        let candidates = self.cells[cell].get_or_init(|| self.candidates(rgb.map(|c| c >> shift)));
        let mut best = (u32::MAX, 0);
        for &i in candidates.iter() {
            let d = distance(self.entries[usize::from(i)], rgb);
            if d < best.0 {
                best = (d, i);
            }
        }
        self.offset + best.1
    }

    /// The entries that can be nearest to a colour of `cell`: those whose
    /// nearest point of the cell is no farther than the smallest of the
    /// entries' farthest points.
    fn candidates(&self, cell: [u8; 3]) -> Box<[u8]> {
        let size = 1i32 << (8 - GRID_BITS);
        let (low, high) = (
            cell.map(|c| i32::from(c) * size),
            cell.map(|c| i32::from(c) * size + size - 1),
        );
        let bounds = |e: &[u8; 3]| {
            let (mut near, mut far) = (0, 0);
            for c in 0..3 {
                let v = i32::from(e[c]);
                let inside = v.clamp(low[c], high[c]) - v;
                let outside = (v - low[c]).abs().max((v - high[c]).abs());
                near += (inside * inside) as u32;
                far += (outside * outside) as u32;
            }
            (near, far)
        };
        let limit = self.entries.iter().map(|e| bounds(e).1).min().unwrap_or(0);
        (0..self.entries.len())
            .filter(|&i| bounds(&self.entries[i]).0 <= limit)
            .map(|i| i as u8)
            .collect()
    }
}

/// Squared RGB distance.
fn distance(a: [u8; 3], b: [u8; 3]) -> u32 {
    (0..3)
        .map(|c| {
            let d = i32::from(a[c]) - i32::from(b[c]);
            (d * d) as u32
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bbox::Bbox;
    use crate::crs::Crs;
    use crate::deadline::Deadline;
    use crate::encode::tests::decode;
    use crate::raster::RasterLayer;
    use crate::raster_style::StyleSpec;
    use crate::source::SourceContext;
    use crate::warp::{Request, Resampling};

    /// The orthophoto sample (JPEG, 383×232 at 15 cm) rendered near its
    /// resolution on 512×320 pixels, with a transparent margin of 32 pixels
    /// or more around it (the warp's edge is sharp: no partly transparent
    /// pixels).
    fn orthophoto() -> Rgba {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../data-samples/cog/cog_rgb.tif"
        );
        let ctx = SourceContext::new(64 << 20);
        let layer =
            RasterLayer::open(std::path::Path::new(path), ctx, &StyleSpec::default()).unwrap();
        let (x0, y1, pixel) = (519467.4957, 4311669.7657, 0.1499);
        let (x0, y1) = (x0 - 32.0 * pixel, y1 + 32.0 * pixel);
        let bbox = [x0, y1 - 320.0 * pixel, x0 + 512.0 * pixel, y1];
        layer
            .render(&Request {
                bbox: &Bbox::new(Crs::shared(26913).unwrap(), bbox).unwrap(),
                width: 512,
                height: 320,
                resampling: Resampling::Bilinear,
                deadline: Deadline::NONE,
            })
            .unwrap()
    }

    #[test]
    fn png8_quantizes_an_orthophoto_closely_and_keeps_alpha_classes() {
        let original = orthophoto();
        let classes = |c| {
            original
                .data
                .chunks_exact(4)
                .filter(|p| Class::of(p[3]) == c)
                .count()
        };
        assert!(classes(Class::Opaque) > 80_000, "the photograph");
        assert!(classes(Class::Transparent) > 40_000, "the margin");
        let started = std::time::Instant::now();
        let bytes = encode_png8(&original).unwrap();
        let took = started.elapsed();
        let (stored, entries, decoded) = decode(&bytes);
        assert_eq!(stored, png::ColorType::Indexed);
        assert!(entries <= 256);
        assert_eq!((decoded.width, decoded.height), (512, 320));

        let (mut error, mut seen) = ([0u64; 4], 0);
        for (a, b) in original
            .data
            .chunks_exact(4)
            .zip(decoded.data.chunks_exact(4))
        {
            assert_eq!(Class::of(a[3]), Class::of(b[3]), "{a:?} became {b:?}");
            if a[3] == 0 {
                continue; // the colour of a transparent pixel is not seen
            }
            seen += 1;
            for c in 0..4 {
                error[c] += u64::from(a[c].abs_diff(b[c]));
            }
        }
        let mean = error.map(|e| e as f64 / f64::from(seen));
        eprintln!(
            "png8 orthophoto: mean absolute error per channel {mean:.2?} over {seen} visible pixels, {} bytes, {took:?}",
            bytes.len()
        );
        assert!(mean.iter().all(|&e| e <= 4.0), "{mean:?}");
    }

    #[test]
    fn png8_keeps_an_image_of_few_colours_exact() {
        let image = Rgba {
            width: 16,
            height: 8,
            data: (0..128u8)
                .flat_map(|i| [i, 2 * i, 255 - i, if i < 8 { 0 } else { 100 + i }])
                .collect(),
        };
        let (stored, entries, decoded) = decode(&encode_png8(&image).unwrap());
        assert_eq!((stored, entries), (png::ColorType::Indexed, 128));
        assert_eq!(decoded.data, image.data);
    }

    #[test]
    fn png8_gives_each_alpha_class_its_own_entries_when_quantizing() {
        // 64×64 with 4096 distinct opaque colours, a transparent column
        // and a half-transparent one of many colours too.
        let data = (0..64 * 64u32)
            .flat_map(|i| {
                let (x, y) = (i % 64, i / 64);
                let alpha = match x {
                    0 => 0,
                    1 => 128,
                    _ => 255,
                };
                [(x * 4) as u8, (y * 4) as u8, ((x + y) * 2) as u8, alpha]
            })
            .collect();
        let image = Rgba {
            width: 64,
            height: 64,
            data,
        };
        let (_, entries, decoded) = decode(&encode_png8(&image).unwrap());
        assert!(entries <= 256);
        for (a, b) in image.data.chunks_exact(4).zip(decoded.data.chunks_exact(4)) {
            assert_eq!(Class::of(a[3]), Class::of(b[3]), "{a:?} became {b:?}");
        }
    }

    #[test]
    fn the_grid_search_finds_the_same_nearest_entry_as_a_full_scan() {
        let mut random = crate::xorshift::XorShift(13);
        let mut byte = || (random.next() >> 24) as u8;
        // A palette crowded in a corner, as an orthophoto's is, plus spread.
        let palette: Vec<[u8; 4]> = (0..200)
            .map(|i| match i % 4 {
                0 => [byte(), byte(), byte(), 255],
                _ => [60 + byte() / 4, 70 + byte() / 4, 50 + byte() / 4, 255],
            })
            .collect();
        let nearest = Nearest::new(&palette, 3);
        for _ in 0..20_000 {
            let rgb = [byte(), byte(), byte()];
            let full = (0..palette.len())
                .min_by_key(|&i| distance([palette[i][0], palette[i][1], palette[i][2]], rgb))
                .unwrap();
            assert_eq!(nearest.index(rgb), 3 + full as u8, "{rgb:?}");
        }
    }

    #[test]
    fn png8_refuses_an_image_whose_buffer_does_not_match_its_size() {
        let image = Rgba {
            width: 4,
            height: 4,
            data: vec![0; 60],
        };
        assert!(encode_png8(&image).is_err());
        let empty = Rgba {
            width: 0,
            height: 0,
            data: Vec::new(),
        };
        assert!(encode_png8(&empty).is_err(), "PNG has no empty image");
    }
}
