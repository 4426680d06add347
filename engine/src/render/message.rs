//! Text drawn into an image: a WMS exception in the INIMAGE format (WMS
//! 1.3.0 §7.3.3.11, 1.1.1 §7.2.3.7) is the error message written into an
//! image of the size and format the client asked for, as MapServer draws
//! it: black text from the top-left corner, word-wrapped to the width,
//! cut at the height, on a transparent image or the requested background.
//!
//! Decision: glyphs come from the `font8x8` crate, the public-domain 8×8
//! bitmap font (after Daniel Hepper's), MIT-licensed as a crate, without
//! dependencies, used here without its default features (only its legacy
//! tables). Its last release is from 2021, which for a table of constant
//! bitmaps is finished rather than abandoned. It covers ASCII and Latin-1
//! (accented French and European names print); other characters print as
//! '?'. The alternative that lost: outline text with harfrust + skrifa,
//! which arrive with the style renderer; an error message needs no shaping,
//! and a bitmap font cannot fail to load. Glyphs are doubled on images 512
//! pixels wide or more, where 8 pixels would be hard to read.

use font8x8::legacy::{BASIC_LEGACY, LATIN_LEGACY};

use super::canvas::checked_size;
use crate::error::Result;
use crate::warp::Rgba;

/// The colour of the text: black, as MapServer's INIMAGE exceptions.
const INK: [u8; 4] = [0, 0, 0, 255];

/// Glyph width and height in font pixels.
const GLYPH: usize = 8;

/// Space between lines and around the text, in font pixels.
const LEADING: usize = 2;
const MARGIN: usize = 4;

/// `text` in black on a `width × height` image, transparent or filled with
/// the opaque `background`, word-wrapped and cut at the image's edges.
pub fn message(
    width: usize,
    height: usize,
    text: &str,
    background: Option<[u8; 3]>,
) -> Result<Rgba> {
    checked_size(width, height)?;
    let fill = background.map_or([0; 4], |[r, g, b]| [r, g, b, 255]);
    let mut data = Vec::with_capacity(width * height * 4);
    for _ in 0..width * height {
        data.extend_from_slice(&fill);
    }
    let mut image = Rgba {
        width,
        height,
        data,
    };

    let scale = if width >= 512 { 2 } else { 1 };
    let (cell, line_height, margin) = (GLYPH * scale, (GLYPH + LEADING) * scale, MARGIN * scale);
    let columns = (width.saturating_sub(2 * margin) / cell).max(1);
    // Lines that start inside the image; the last one may be cut.
    let max_lines = height.saturating_sub(margin).div_ceil(line_height);
    for (row, line) in wrap(text, columns, max_lines).iter().enumerate() {
        for (column, &c) in line.iter().enumerate() {
            let (x, y) = (margin + column * cell, margin + row * line_height);
            draw(&mut image, glyph(c), x, y, scale);
        }
    }
    Ok(image)
}

/// `text` as at most `max_lines` lines of at most `columns` characters:
/// broken at spaces and newlines, a word longer than a line cut where the
/// line ends. Stops reading once the lines are full, so a huge text costs
/// what fits.
fn wrap(text: &str, columns: usize, max_lines: usize) -> Vec<Vec<char>> {
    let mut lines = Vec::new();
    let mut line = Vec::new();
    for paragraph in text.split('\n') {
        for word in paragraph.split_whitespace() {
            if lines.len() >= max_lines {
                return lines;
            }
            let length = word.chars().take(columns + 1).count();
            if !line.is_empty() && line.len() + 1 + length > columns {
                lines.push(std::mem::take(&mut line));
            } else if !line.is_empty() {
                line.push(' ');
            }
            for c in word.chars() {
                if line.len() == columns {
                    lines.push(std::mem::take(&mut line));
                    if lines.len() >= max_lines {
                        return lines;
                    }
                }
                line.push(c);
            }
        }
        if lines.len() >= max_lines {
            return lines;
        }
        lines.push(std::mem::take(&mut line));
    }
    lines.truncate(max_lines);
    lines
}

/// The 8×8 bitmap of `c` (one byte per row, bit 0 leftmost): ASCII and
/// Latin-1 from the font, anything else as '?'.
fn glyph(c: char) -> [u8; 8] {
    let code = c as usize;
    match code {
        0x20..=0x7e => BASIC_LEGACY[code],
        0xa0..=0xff => LATIN_LEGACY[code - 0xa0],
        _ => BASIC_LEGACY[usize::from(b'?')],
    }
}

/// Draws `bitmap` with its top-left corner at pixel (`x`, `y`), each font
/// pixel a `scale × scale` square, cut at the image's edges.
fn draw(image: &mut Rgba, bitmap: [u8; 8], x: usize, y: usize, scale: usize) {
    for (row, bits) in bitmap.iter().enumerate() {
        for column in (0..GLYPH).filter(|c| bits >> c & 1 == 1) {
            for py in y + row * scale..(y + (row + 1) * scale).min(image.height) {
                for px in x + column * scale..(x + (column + 1) * scale).min(image.width) {
                    let at = (py * image.width + px) * 4;
                    image.data[at..at + 4].copy_from_slice(&INK);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    /// Whether a pixel of row `y` is text (opaque black).
    fn inked_row(image: &Rgba, y: usize) -> bool {
        let row = &image.data[y * image.width * 4..(y + 1) * image.width * 4];
        row.chunks_exact(4).any(|p| p == INK)
    }

    /// The rows holding text.
    fn inked_rows(image: &Rgba) -> Vec<usize> {
        (0..image.height).filter(|&y| inked_row(image, y)).collect()
    }

    #[test]
    fn a_message_is_drawn_in_its_first_line_and_nowhere_below_it() {
        let image = message(256, 256, "Layer roads: not found", None).unwrap();
        let rows = inked_rows(&image);
        assert!(!rows.is_empty());
        assert!(
            rows.iter().all(|&y| (MARGIN..MARGIN + GLYPH).contains(&y)),
            "{rows:?}"
        );
        assert!(image.data.chunks_exact(4).all(|p| p == [0; 4] || p == INK));
        // Starts at the left margin.
        let first_column = (0..256)
            .find(|&x| (0..256).any(|y| image.data[(y * 256 + x) * 4 + 3] == 255))
            .unwrap();
        assert!((MARGIN..MARGIN + GLYPH).contains(&first_column));
    }

    #[test]
    fn a_long_message_in_a_narrow_image_wraps_over_several_lines() {
        let text = "The layer roads cannot be drawn in EPSG:2154 at this scale";
        let image = message(100, 200, text, None).unwrap();
        let line = GLYPH + LEADING;
        let lines: std::collections::BTreeSet<_> = inked_rows(&image)
            .iter()
            .map(|y| (y - MARGIN) / line)
            .collect();
        assert!(lines.len() >= 5, "{lines:?}");
        // Nothing past the right margin but a word cut mid-line would be.
        let columns = (100 - 2 * MARGIN) / GLYPH;
        let right = MARGIN + columns * GLYPH;
        assert!((0..200).all(|y| (right..100).all(|x| image.data[(y * 100 + x) * 4 + 3] == 0)));
    }

    #[test]
    fn the_background_colour_fills_the_image_opaquely() {
        let image = message(64, 32, "error", Some([255, 250, 200])).unwrap();
        assert_eq!(&image.data[..4], &[255, 250, 200, 255]);
        assert!(image
            .data
            .chunks_exact(4)
            .all(|p| p == [255, 250, 200, 255] || p == INK));
        assert!(!inked_rows(&image).is_empty());
    }

    #[test]
    fn glyphs_are_doubled_on_images_512_pixels_wide() {
        let image = message(512, 64, "Error", None).unwrap();
        let rows = inked_rows(&image);
        let (top, bottom) = (rows[0], rows[rows.len() - 1]);
        assert!(
            top >= 2 * MARGIN && bottom < 2 * (MARGIN + GLYPH),
            "{rows:?}"
        );
        assert!(
            bottom - top >= GLYPH,
            "taller than one 8-pixel glyph: {rows:?}"
        );
    }

    #[test]
    fn characters_beyond_latin_1_print_as_a_question_mark() {
        let question = message(32, 16, "?", None).unwrap();
        assert_eq!(message(32, 16, "€", None).unwrap().data, question.data);
        assert_eq!(message(32, 16, "地", None).unwrap().data, question.data);
        assert_ne!(message(32, 16, "é", None).unwrap().data, question.data);
    }

    #[test]
    fn tiny_images_and_empty_text_work() {
        let one = message(1, 1, "Layer not found", Some([1, 2, 3])).unwrap();
        assert_eq!(one.data, [1, 2, 3, 255]);
        let empty = message(40, 20, "", None).unwrap();
        assert!(empty.data.iter().all(|&b| b == 0));
        let blank = message(40, 20, " \n\t \n", None).unwrap();
        assert!(blank.data.iter().all(|&b| b == 0));
    }

    #[test]
    fn a_huge_text_draws_what_fits_in_bounded_time() {
        let started = std::time::Instant::now();
        let words = "overflow ".repeat(1 << 17); // 1.2 MB
        let image = message(256, 256, &words, None).unwrap();
        let one_word = "x".repeat(1 << 20);
        let cut = message(256, 64, &one_word, None).unwrap();
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
        let last = inked_rows(&image).into_iter().max();
        assert!(
            last >= Some(256 - GLYPH),
            "lines down to the bottom: {last:?}"
        );
        assert!(inked_row(&cut, 60), "the last line is cut, not skipped");
    }

    #[test]
    fn an_empty_or_huge_image_is_refused_like_a_canvas() {
        let kind = |w, h| message(w, h, "x", None).err().map(|e| e.kind());
        assert_eq!(kind(0, 10), Some(ErrorKind::InvalidRequest));
        assert_eq!(kind(10, 0), Some(ErrorKind::InvalidRequest));
        assert_eq!(kind(1 << 20, 1 << 20), Some(ErrorKind::LimitExceeded));
    }
}
