//! A plain default style for vector layers that have no style yet: every
//! polygon filled and outlined, every line stroked, every point a circle,
//! all in one colour set. The WMS draws with it until the MapLibre style
//! renderer exists.
//!
//! Geometries are clipped in f64 to the canvas plus a margin wider than
//! any stroke before they become tiny-skia's f32 paths: a vertex at 1e12
//! pixels (a far feature at a deep zoom) would otherwise lose whole pixels
//! to f32 rounding, or be dropped by tiny-skia as too big for its math.
//! Edges the clip adds lie in the margin, out of sight.

use geo_types::{Coord, Geometry, LineString, Polygon};
use tiny_skia::{FillRule, LineCap, LineJoin, Paint, Path, PathBuilder, Stroke, Transform};

use super::Canvas;

/// Widest stroke and largest point radius drawn, in image pixels: the clip
/// margin must exceed half a stroke, and no legible map has bigger symbols.
const MAX_SYMBOL_PX: f32 = 1024.0;

/// `size`, or 0 if it is not a positive number (NaN included), at most
/// [`MAX_SYMBOL_PX`].
fn symbol_size(size: f32) -> f32 {
    if size > 0.0 {
        size.min(MAX_SYMBOL_PX)
    } else {
        0.0
    }
}

/// Colours (straight-alpha RGBA8) and sizes (pixels at scale 1) of the
/// plain style.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlainStyle {
    /// Fill of polygons and point circles.
    pub fill: [u8; 4],
    /// Outline of polygons and point circles, and the colour of lines.
    pub stroke: [u8; 4],
    /// Width of outlines and lines; 0 draws none.
    pub stroke_width: f32,
    /// Radius of a point's circle; 0 draws no points.
    pub point_radius: f32,
    /// Whether polygons are outlined. Not for polygons cut at tile edges
    /// (an MVT archive's): their cuts would be outlined as a grid.
    pub outline_polygons: bool,
}

impl Default for PlainStyle {
    /// GeoServer's default polygon (fill #AAAAAA, stroke #000000 1 px),
    /// with lines in its stroke colour and points as 6 px circles in the
    /// same colours: one style for layers that mix geometry types.
    /// (GeoServer's separate defaults draw lines blue and points as red
    /// squares; one style per layer cannot.)
    fn default() -> Self {
        PlainStyle {
            fill: [0xAA, 0xAA, 0xAA, 0xFF],
            stroke: [0x00, 0x00, 0x00, 0xFF],
            stroke_width: 1.0,
            point_radius: 3.0,
            outline_polygons: true,
        }
    }
}

/// Draws `geometries`, in pixel coordinates of the canvas (x right, y
/// down), in `style`. Polygons fill even-odd, so holes stay open whatever
/// the orientation of their rings. A geometry with a non-finite coordinate
/// is skipped whole; empty and degenerate parts draw nothing.
pub fn draw<'a>(
    canvas: &mut Canvas,
    geometries: impl IntoIterator<Item = &'a Geometry<f64>>,
    style: &PlainStyle,
) {
    let mut painter = Painter::new(canvas, style);
    for geometry in geometries {
        if all_finite(geometry) {
            painter.geometry(geometry);
        }
    }
    painter.flush();
}

/// Path points gathered before the batch is drawn: bounds the memory of a
/// batch (16 bytes a point) while keeping tiny-skia's per-path set-up
/// (a pipeline and a blitter each) rare.
const MAX_BATCH_POINTS: usize = 1 << 18;

/// Polygons and lines gathered to be drawn as one fill and one stroke.
/// With opaque paint this draws what drawing them one by one draws, but
/// for where features overlap: there, every outline shows over every fill
/// (one at a time, a later fill hides an earlier outline). Per-path set-up
/// was most of the time of a map of small polygons (200 000 parcels, a
/// 1024 × 768 map of about 10 000: tiny-skia's pipeline and blitter per
/// path), which batching removes.
#[derive(Default)]
struct Batch {
    fills: PathBuilder,
    outlines: PathBuilder,
    points: usize,
}

/// The paints, stroke and clip box of one `draw` call.
struct Painter<'c> {
    canvas: &'c mut Canvas,
    fill: Option<Paint<'static>>,
    stroke: Option<(Paint<'static>, Stroke)>,
    radius: f32,
    clip: Clip,
    /// Reused by each ring's clip.
    ring: Vec<Coord<f64>>,
    scratch: Vec<Coord<f64>>,
    /// Where polygons and lines go while paints are opaque; `None` draws
    /// them one by one (translucent paint must not merge overlaps).
    batch: Option<Batch>,
    outline_polygons: bool,
}

impl<'c> Painter<'c> {
    fn new(canvas: &'c mut Canvas, style: &PlainStyle) -> Self {
        let scale = canvas.scale();
        let paint = |[r, g, b, a]: [u8; 4]| {
            (a > 0).then(|| {
                let mut paint = Paint::default();
                paint.set_color_rgba8(r, g, b, a);
                paint.anti_alias = true;
                paint
            })
        };
        // A 0 width draws no stroke (tiny-skia would draw a hairline).
        let width = symbol_size(style.stroke_width * scale);
        let stroke = paint(style.stroke).filter(|_| width > 0.0).map(|p| {
            let stroke = Stroke {
                width,
                line_cap: LineCap::Butt,
                line_join: LineJoin::Round,
                ..Stroke::default()
            };
            (p, stroke)
        });
        // Past half a stroke and a pixel of anti-aliasing, with room.
        let margin = f64::from(width) + 2.0;
        let clip = Clip {
            min_x: -margin,
            min_y: -margin,
            max_x: f64::from(canvas.pixmap.width()) + margin,
            max_y: f64::from(canvas.pixmap.height()) + margin,
        };
        let opaque = style.fill[3] == 255 && style.stroke[3] == 255;
        Painter {
            canvas,
            fill: paint(style.fill),
            stroke,
            radius: symbol_size(style.point_radius * scale),
            clip,
            ring: Vec::new(),
            scratch: Vec::new(),
            batch: opaque.then(Batch::default),
            outline_polygons: style.outline_polygons,
        }
    }

    /// Draws what the batch holds: every fill (non-zero: rings are
    /// oriented, exteriors one way, holes the other), then every outline.
    fn flush(&mut self) {
        if self.batch.as_ref().is_none_or(|b| b.points == 0) {
            return;
        }
        let Some(batch) = self.batch.take() else {
            return;
        };
        let pixmap = &mut self.canvas.pixmap;
        // Under an opaque outline a pixel wide, a fill's edge is hidden: its
        // antialiasing (tiny-skia supersamples each scanline 4 times) would
        // be paid for nothing, so the fill is drawn aliased.
        let edges_hidden = self.outline_polygons
            && self
                .stroke
                .as_ref()
                .is_some_and(|(_, stroke)| stroke.width >= 1.0);
        if let (Some(path), Some(paint)) = (batch.fills.finish(), &self.fill) {
            let mut paint = paint.clone();
            paint.anti_alias = !edges_hidden;
            pixmap.fill_path(
                &path,
                &paint,
                FillRule::Winding,
                Transform::identity(),
                None,
            );
        }
        if let (Some(path), Some((paint, stroke))) = (batch.outlines.finish(), &self.stroke) {
            pixmap.stroke_path(&path, paint, stroke, Transform::identity(), None);
        }
        self.batch = Some(Batch::default());
    }

    fn geometry(&mut self, geometry: &Geometry<f64>) {
        match geometry {
            Geometry::Point(p) => self.point(p.0),
            Geometry::MultiPoint(mp) => mp.iter().for_each(|p| self.point(p.0)),
            Geometry::Line(l) => self.line(&[l.start, l.end]),
            Geometry::LineString(ls) => self.line(&ls.0),
            Geometry::MultiLineString(mls) => mls.iter().for_each(|ls| self.line(&ls.0)),
            Geometry::Polygon(p) => self.polygon(p),
            Geometry::MultiPolygon(mp) => mp.iter().for_each(|p| self.polygon(p)),
            Geometry::Rect(r) => self.polygon(&r.to_polygon()),
            Geometry::Triangle(t) => self.polygon(&t.to_polygon()),
            Geometry::GeometryCollection(gc) => gc.iter().for_each(|g| self.geometry(g)),
        }
    }

    fn point(&mut self, c: Coord<f64>) {
        let r = f64::from(self.radius);
        let visible = c.x > self.clip.min_x - r
            && c.y > self.clip.min_y - r
            && c.x < self.clip.max_x + r
            && c.y < self.clip.max_y + r;
        if self.radius == 0.0 || !visible {
            return;
        }
        // Points are drawn one by one: what is batched goes first, under.
        self.flush();
        if let Some(path) = PathBuilder::from_circle(c.x as f32, c.y as f32, self.radius) {
            self.fill_and_outline(&path, true);
        }
    }

    fn line(&mut self, coords: &[Coord<f64>]) {
        if self.stroke.is_none() {
            return;
        }
        let mut pb = match &mut self.batch {
            Some(batch) => std::mem::take(&mut batch.outlines),
            None => PathBuilder::new(),
        };
        // Where the pen is, if the last segment's clipped end is its end.
        let mut pen: Option<Coord<f64>> = None;
        for segment in coords.windows(2) {
            let (a, b) = (segment[0], segment[1]);
            match self.clip.segment(a, b) {
                Some((ca, cb)) => {
                    if pen != Some(ca) {
                        pb.move_to(ca.x as f32, ca.y as f32);
                    }
                    pb.line_to(cb.x as f32, cb.y as f32);
                    pen = (cb == b).then_some(cb);
                }
                None => pen = None,
            }
        }
        if let Some(batch) = &mut self.batch {
            batch.points += coords.len();
            batch.outlines = pb;
            if batch.points > MAX_BATCH_POINTS {
                self.flush();
            }
            return;
        }
        if let (Some(path), Some((paint, stroke))) = (pb.finish(), &self.stroke) {
            self.canvas
                .pixmap
                .stroke_path(&path, paint, stroke, Transform::identity(), None);
        }
    }

    fn polygon(&mut self, polygon: &Polygon<f64>) {
        let Some(mut batch) = self.batch.take() else {
            let mut pb = PathBuilder::new();
            for ring in std::iter::once(polygon.exterior()).chain(polygon.interiors()) {
                self.push_ring(&mut pb, ring, None);
            }
            if let Some(path) = pb.finish() {
                self.fill_and_outline(&path, self.outline_polygons);
            }
            return;
        };
        let rings = std::iter::once((polygon.exterior(), true))
            .chain(polygon.interiors().iter().map(|r| (r, false)));
        for (ring, exterior) in rings {
            self.push_ring(&mut batch.fills, ring, Some(exterior));
            // The clipped ring, as pushed to the fills, outlined too.
            if let [first, rest @ ..] = self.ring.as_slice() {
                if rest.len() >= 2 && self.outline_polygons {
                    batch.outlines.move_to(first.x as f32, first.y as f32);
                    rest.iter()
                        .for_each(|c| batch.outlines.line_to(c.x as f32, c.y as f32));
                    batch.outlines.close();
                }
            }
            batch.points += self.ring.len();
        }
        let full = batch.points > MAX_BATCH_POINTS;
        self.batch = Some(batch);
        if full {
            self.flush();
        }
    }

    /// Adds `ring`, clipped, as a closed subpath (and leaves it in
    /// `self.ring`); a ring of fewer than three distinct-looking vertices
    /// adds nothing. For a non-zero fill, `exterior` turns it so that its
    /// signed area is positive for `Some(true)`, negative for `Some(false)`
    /// (a hole); a ring of no area is then left out of the fill.
    fn push_ring(&mut self, pb: &mut PathBuilder, ring: &LineString<f64>, exterior: Option<bool>) {
        let coords = match ring.0.as_slice() {
            [body @ .., last] if Some(last) == body.first() => body,
            all => all,
        };
        self.ring.clear();
        if coords.len() < 3 {
            return;
        }
        self.ring.extend_from_slice(coords);
        self.clip.ring(&mut self.ring, &mut self.scratch);
        if let Some(exterior) = exterior {
            let area: f64 = self
                .ring
                .iter()
                .zip(self.ring.iter().cycle().skip(1))
                .map(|(a, b)| a.x * b.y - b.x * a.y)
                .sum();
            if area == 0.0 {
                return;
            }
            if (area > 0.0) != exterior {
                self.ring.reverse();
            }
        }
        if let [first, rest @ ..] = self.ring.as_slice() {
            if rest.len() >= 2 {
                pb.move_to(first.x as f32, first.y as f32);
                rest.iter().for_each(|c| pb.line_to(c.x as f32, c.y as f32));
                pb.close();
            }
        }
    }

    fn fill_and_outline(&mut self, path: &Path, outline: bool) {
        let pixmap = &mut self.canvas.pixmap;
        let bounds = path.bounds();
        // tiny-skia logs and skips a fill of no area; skip it quietly.
        let has_area = bounds.width() > 1.0 / 4096.0 && bounds.height() > 1.0 / 4096.0;
        if let Some(paint) = self.fill.as_ref().filter(|_| has_area) {
            pixmap.fill_path(path, paint, FillRule::EvenOdd, Transform::identity(), None);
        }
        if let Some((paint, stroke)) = self.stroke.as_ref().filter(|_| outline) {
            pixmap.stroke_path(path, paint, stroke, Transform::identity(), None);
        }
    }
}

/// Whether every coordinate of `geometry` is finite.
fn all_finite(geometry: &Geometry<f64>) -> bool {
    let finite = |c: &Coord<f64>| c.x.is_finite() && c.y.is_finite();
    let line = |ls: &LineString<f64>| ls.0.iter().all(finite);
    let polygon = |p: &Polygon<f64>| line(p.exterior()) && p.interiors().iter().all(line);
    match geometry {
        Geometry::Point(p) => finite(&p.0),
        Geometry::MultiPoint(mp) => mp.iter().all(|p| finite(&p.0)),
        Geometry::Line(l) => finite(&l.start) && finite(&l.end),
        Geometry::LineString(ls) => line(ls),
        Geometry::MultiLineString(mls) => mls.iter().all(line),
        Geometry::Polygon(p) => polygon(p),
        Geometry::MultiPolygon(mp) => mp.iter().all(polygon),
        Geometry::Rect(r) => finite(&r.min()) && finite(&r.max()),
        Geometry::Triangle(t) => [t.v1(), t.v2(), t.v3()].iter().all(finite),
        Geometry::GeometryCollection(gc) => gc.iter().all(all_finite),
    }
}

/// The box geometries are clipped to, in pixels.
struct Clip {
    min_x: f64,
    min_y: f64,
    max_x: f64,
    max_y: f64,
}

impl Clip {
    /// The part of segment `a`–`b` inside the box (Liang–Barsky), if any.
    fn segment(&self, a: Coord<f64>, b: Coord<f64>) -> Option<(Coord<f64>, Coord<f64>)> {
        let d = b - a;
        let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
        for (p, q) in [
            (-d.x, a.x - self.min_x),
            (d.x, self.max_x - a.x),
            (-d.y, a.y - self.min_y),
            (d.y, self.max_y - a.y),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        if t0 > t1 {
            return None;
        }
        let at = |t: f64| match t {
            0.0 => a,
            1.0 => b,
            _ => a + d * t,
        };
        Some((at(t0), at(t1)))
    }

    /// Clips the closed ring `ring` (no repeated closing vertex) to the box
    /// in place (Sutherland–Hodgman). The result's inside, within the box,
    /// is the ring's; its edges along the box lie in the margin.
    fn ring(&self, ring: &mut Vec<Coord<f64>>, scratch: &mut Vec<Coord<f64>>) {
        // How far inside each edge of the box a point is.
        let edges: [fn(&Clip, Coord<f64>) -> f64; 4] = [
            |c, p| p.x - c.min_x,
            |c, p| c.max_x - p.x,
            |c, p| p.y - c.min_y,
            |c, p| c.max_y - p.y,
        ];
        for inside in edges {
            if ring.iter().all(|&p| inside(self, p) >= 0.0) {
                continue;
            }
            scratch.clear();
            let Some(&last) = ring.last() else { return };
            let mut prev = last;
            for &cur in ring.iter() {
                let (dp, dc) = (inside(self, prev), inside(self, cur));
                if (dp >= 0.0) != (dc >= 0.0) {
                    let t = dp / (dp - dc);
                    scratch.push(prev + (cur - prev) * t);
                }
                if dc >= 0.0 {
                    scratch.push(cur);
                }
                prev = cur;
            }
            std::mem::swap(ring, scratch);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use geo_types::{line_string, point, polygon, GeometryCollection, MultiPoint};

    use super::*;
    use crate::warp::Rgba;

    const FILL: [u8; 4] = [200, 100, 50, 255];
    const STROKE: [u8; 4] = [0, 0, 255, 255];

    fn render(size: usize, scale: f32, style: &PlainStyle, geometries: &[Geometry<f64>]) -> Rgba {
        let mut canvas = Canvas::new(size, size, scale).unwrap();
        draw(&mut canvas, geometries, style);
        canvas.into_rgba()
    }

    fn px(img: &Rgba, x: usize, y: usize) -> [u8; 4] {
        let i = (y * img.width + x) * 4;
        [0, 1, 2, 3].map(|k| img.data[i + k])
    }

    fn fill_only() -> PlainStyle {
        PlainStyle {
            fill: FILL,
            stroke_width: 0.0,
            ..PlainStyle::default()
        }
    }

    fn line_only(width: f32) -> PlainStyle {
        PlainStyle {
            fill: [0; 4],
            stroke: STROKE,
            stroke_width: width,
            point_radius: 0.0,
            outline_polygons: true,
        }
    }

    fn square(min: f64, max: f64) -> Polygon<f64> {
        polygon![(x: min, y: min), (x: max, y: min), (x: max, y: max), (x: min, y: max)]
    }

    #[test]
    fn polygons_cut_at_tiles_are_filled_without_outlines_but_lines_are_stroked() {
        let style = PlainStyle {
            fill: FILL,
            stroke: STROKE,
            outline_polygons: false,
            ..PlainStyle::default()
        };
        let geometries: Vec<Geometry<f64>> = vec![
            square(4.5, 15.5).into(),
            line_string![(x: 0.0, y: 18.5), (x: 20.0, y: 18.5)].into(),
        ];
        let img = render(20, 1.0, &style, &geometries);
        // Inside the square's edges: its fill; on them (row 4, where a
        // 1-pixel outline centred on y = 4.5 would lie): half its fill.
        assert_eq!(px(&img, 10, 5), FILL);
        assert_eq!(px(&img, 5, 10), FILL);
        assert!(px(&img, 10, 4)[3] < 200, "{:?}", px(&img, 10, 4));
        assert_eq!(px(&img, 10, 18), STROKE);
        let outlined = render(
            20,
            1.0,
            &PlainStyle {
                outline_polygons: true,
                ..style
            },
            &geometries,
        );
        assert_eq!(px(&outlined, 10, 4), STROKE);
    }

    #[test]
    fn a_filled_square_is_the_fill_colour_inside_and_transparent_outside() {
        let img = render(20, 1.0, &fill_only(), &[square(5.0, 15.0).into()]);
        for y in 0..20 {
            for x in 0..20 {
                let inside = (5..15).contains(&x) && (5..15).contains(&y);
                let want = if inside { FILL } else { [0; 4] };
                assert_eq!(px(&img, x, y), want, "pixel {x},{y}");
            }
        }
    }

    #[test]
    fn the_default_style_outlines_a_polygon_in_black_around_grey() {
        let img = render(20, 1.0, &PlainStyle::default(), &[square(4.5, 15.5).into()]);
        // The 1 px outline is centred on pixel centres 4.5 and 15.5.
        assert_eq!(px(&img, 4, 10), [0, 0, 0, 255]);
        assert_eq!(px(&img, 15, 10), [0, 0, 0, 255]);
        assert_eq!(px(&img, 10, 10), [0xAA, 0xAA, 0xAA, 255]);
        assert_eq!(px(&img, 2, 10), [0; 4]);
    }

    #[test]
    fn a_polygon_with_a_hole_leaves_the_hole_transparent_whatever_the_ring_orientation() {
        let outer = square(2.0, 18.0);
        let hole = square(7.0, 13.0).exterior().clone();
        let reversed: LineString<f64> = hole.0.iter().rev().copied().collect();
        for hole in [hole, reversed] {
            let poly = Polygon::new(outer.exterior().clone(), vec![hole]);
            let img = render(20, 1.0, &fill_only(), &[poly.into()]);
            assert_eq!(px(&img, 10, 10), [0; 4]);
            assert_eq!(px(&img, 7, 12), [0; 4]);
            assert_eq!(px(&img, 4, 10), FILL);
            assert_eq!(px(&img, 10, 16), FILL);
        }
    }

    #[test]
    fn a_line_of_width_1_touches_every_pixel_it_crosses() {
        let diagonal: Geometry<f64> = line_string![(x: 0.5, y: 0.5), (x: 19.5, y: 19.5)].into();
        let row: Geometry<f64> = line_string![(x: 2.0, y: 15.5), (x: 18.0, y: 15.5)].into();
        let img = render(20, 1.0, &line_only(1.0), &[diagonal, row]);
        for i in 1..19 {
            assert!(
                px(&img, i, i)[3] > 100,
                "diagonal pixel {i}: {:?}",
                px(&img, i, i)
            );
        }
        for x in 2..18 {
            assert_eq!(px(&img, x, 15), [0, 0, 255, 255], "row pixel {x}");
        }
        for x in 2..10 {
            assert_eq!(px(&img, x, 13)[3], 0, "two rows above, pixel {x}");
        }
        assert_eq!(px(&img, 15, 2)[3], 0, "far from both lines");
    }

    #[test]
    fn a_point_is_a_circle_centred_on_its_coordinate() {
        let style = PlainStyle {
            fill: FILL,
            stroke_width: 0.0,
            point_radius: 4.0,
            ..PlainStyle::default()
        };
        let img = render(30, 1.0, &style, &[point!(x: 12.0, y: 17.5).into()]);
        let (mut sum, mut sx, mut sy) = (0.0, 0.0, 0.0);
        for y in 0..30 {
            for x in 0..30 {
                let a = f64::from(px(&img, x, y)[3]);
                sum += a;
                sx += a * (x as f64 + 0.5);
                sy += a * (y as f64 + 0.5);
            }
        }
        assert!((sx / sum - 12.0).abs() < 0.05, "centre x {}", sx / sum);
        assert!((sy / sum - 17.5).abs() < 0.05, "centre y {}", sy / sum);
        // Area π r² within anti-aliasing.
        let area = sum / 255.0;
        assert!(
            (area - std::f64::consts::PI * 16.0).abs() < 1.0,
            "area {area}"
        );
        assert_eq!(px(&img, 12, 17), FILL);
    }

    /// Sum of the alpha of column `x`, in pixels of full coverage.
    fn column_coverage(img: &Rgba, x: usize) -> f64 {
        (0..img.height)
            .map(|y| f64::from(px(img, x, y)[3]))
            .sum::<f64>()
            / 255.0
    }

    #[test]
    fn scale_2_doubles_the_stroke_width() {
        for width in [1.0, 3.0] {
            let line: Geometry<f64> = line_string![(x: 0.0, y: 15.3), (x: 30.0, y: 15.3)].into();
            let one = column_coverage(
                &render(30, 1.0, &line_only(width), std::slice::from_ref(&line)),
                15,
            );
            let two = column_coverage(&render(30, 2.0, &line_only(width), &[line]), 15);
            assert!(
                (one - f64::from(width)).abs() < 0.1,
                "width {width} at scale 1: {one}"
            );
            assert!(
                (two - 2.0 * f64::from(width)).abs() < 0.1,
                "width {width} at scale 2: {two}"
            );
        }
        // A DPI of 180 draws at about twice the OGC standard.
        let scale = 180.0 / crate::render::OGC_DPI;
        assert!((scale - 1.984).abs() < 0.001);
    }

    #[test]
    fn coordinates_of_1e12_finish_quickly_and_cover_what_they_should() {
        let start = Instant::now();
        let huge = square(-1e12, 1e12);
        let img = render(64, 1.0, &fill_only(), &[huge.into()]);
        assert!(
            img.data.chunks_exact(4).all(|p| p == FILL),
            "the whole canvas is inside"
        );

        // The lower-left half of the canvas, cut by the diagonal y = x.
        let triangle: Geometry<f64> =
            polygon![(x: -1e12, y: -1e12), (x: 1e12, y: 1e12), (x: -1e12, y: 1e12)].into();
        let img = render(64, 1.0, &fill_only(), &[triangle]);
        assert_eq!(px(&img, 5, 40), FILL);
        assert_eq!(px(&img, 40, 5), [0; 4]);

        // A line crossing far outside, stroked with round joins.
        let line: Geometry<f64> =
            line_string![(x: -1e12, y: 10.5), (x: 1e12, y: 10.5), (x: 1e12, y: 1e12)].into();
        let img = render(64, 1.0, &line_only(3.0), &[line]);
        assert!((0..64).all(|x| px(&img, x, 10) == [0, 0, 255, 255]));
        assert_eq!(px(&img, 30, 14)[3], 0);

        // A point far away draws nothing.
        let img = render(
            64,
            1.0,
            &PlainStyle::default(),
            &[point!(x: 1e12, y: -1e12).into()],
        );
        assert!(img.is_empty());
        assert!(
            start.elapsed() < Duration::from_secs(2),
            "took {:?}",
            start.elapsed()
        );
    }

    #[test]
    fn a_geometry_with_a_nan_or_infinite_coordinate_is_skipped_whole() {
        let bad_polygon: Geometry<f64> =
            polygon![(x: 2.0, y: 2.0), (x: f64::NAN, y: 2.0), (x: 10.0, y: 10.0)].into();
        let bad_collection: Geometry<f64> = Geometry::GeometryCollection(GeometryCollection(vec![
            square(0.0, 20.0).into(),
            point!(x: 5.0, y: f64::INFINITY).into(),
        ]));
        let img = render(
            20,
            1.0,
            &PlainStyle::default(),
            &[bad_polygon, bad_collection],
        );
        assert!(img.is_empty());
        // A good geometry after a bad one still draws.
        let bad: Geometry<f64> = point!(x: f64::NAN, y: 1.0).into();
        let img = render(20, 1.0, &fill_only(), &[bad, square(5.0, 15.0).into()]);
        assert_eq!(px(&img, 10, 10), FILL);
    }

    #[test]
    fn empty_and_degenerate_geometries_draw_nothing_and_do_not_panic() {
        let geometries: Vec<Geometry<f64>> = vec![
            LineString::<f64>::new(vec![]).into(),
            line_string![(x: 3.0, y: 3.0)].into(),
            Polygon::<f64>::new(LineString::new(vec![]), vec![]).into(),
            polygon![(x: 1.0, y: 1.0), (x: 5.0, y: 5.0)].into(),
            MultiPoint::<f64>::new(vec![]).into(),
            Geometry::GeometryCollection(GeometryCollection(vec![])),
        ];
        let img = render(20, 1.0, &PlainStyle::default(), &geometries);
        assert!(img.is_empty());
    }

    #[test]
    fn nan_negative_and_huge_style_sizes_draw_nothing_or_a_bounded_symbol() {
        let square: Geometry<f64> = square(5.0, 15.0).into();
        let dot: Geometry<f64> = point!(x: 10.0, y: 10.0).into();
        for size in [f32::NAN, -3.0, 0.0] {
            let style = PlainStyle {
                fill: [0; 4],
                stroke: STROKE,
                stroke_width: size,
                point_radius: size,
                outline_polygons: true,
            };
            let img = render(20, 1.0, &style, &[square.clone(), dot.clone()]);
            assert!(img.is_empty(), "size {size}");
        }
        let start = Instant::now();
        let style = PlainStyle {
            stroke: STROKE,
            stroke_width: f32::INFINITY,
            point_radius: 1e30,
            ..PlainStyle::default()
        };
        // The square's 1024 px outline covers the canvas; the point's
        // 1024 px circle then covers it in grey, its outline beyond.
        let img = render(20, 1.0, &style, std::slice::from_ref(&square));
        assert!(img.data.chunks_exact(4).all(|p| p == STROKE));
        let img = render(20, 1.0, &style, &[square, dot]);
        assert!(img
            .data
            .chunks_exact(4)
            .all(|p| p == [0xAA, 0xAA, 0xAA, 255]));
        assert!(start.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn multi_geometries_and_collections_draw_every_member() {
        let members: Vec<Geometry<f64>> = vec![
            square(1.0, 5.0).into(),
            point!(x: 15.0, y: 3.0).into(),
            line_string![(x: 0.0, y: 15.5), (x: 20.0, y: 15.5)].into(),
            geo_types::MultiPolygon::new(vec![square(10.0, 12.0), square(16.0, 19.0)]).into(),
        ];
        let img = render(
            20,
            1.0,
            &PlainStyle::default(),
            &[Geometry::GeometryCollection(GeometryCollection(members))],
        );
        for (x, y) in [(3, 3), (15, 3), (10, 15), (11, 11), (17, 17)] {
            assert!(px(&img, x, y)[3] > 0, "member at {x},{y}");
        }
        assert_eq!(px(&img, 8, 8)[3], 0);
    }

    #[test]
    fn a_ring_clipped_to_the_box_keeps_its_inside() {
        let clip = Clip {
            min_x: 0.0,
            min_y: 0.0,
            max_x: 10.0,
            max_y: 10.0,
        };
        let mut ring = vec![
            Coord { x: -5.0, y: 5.0 },
            Coord { x: 5.0, y: -5.0 },
            Coord { x: 15.0, y: 5.0 },
            Coord { x: 5.0, y: 15.0 },
        ];
        clip.ring(&mut ring, &mut Vec::new());
        assert_eq!(ring.len(), 8, "{ring:?}");
        assert!(ring
            .iter()
            .all(|c| (0.0..=10.0).contains(&c.x) && (0.0..=10.0).contains(&c.y)));
        assert_eq!(
            clip.segment(Coord { x: -5.0, y: 20.0 }, Coord { x: 20.0, y: 20.0 }),
            None
        );
    }
}
