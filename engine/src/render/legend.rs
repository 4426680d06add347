//! Legend graphics for WMS GetLegendGraphic: a colour ramp for a raster
//! colormap, and one swatch per geometry kind for the plain vector style.
//!
//! Pictures only: there is no font stack yet (shaping and glyphs come with
//! the style renderer), so a ramp carries no value labels and a swatch no
//! rule title. A ramp therefore takes no value range: without labels the
//! range changes no pixel.

use geo_types::{coord, line_string, point, Geometry, Rect};

use super::canvas::checked_size;
use super::plain::{draw, PlainStyle};
use super::Canvas;
use crate::error::{Error, Result};
use crate::raster_style::Colormap;
use crate::warp::Rgba;

/// A `width × height` vertical ramp of `colormap`, opaque: the top row is
/// the colour of the range's maximum (`colour(1.0)`), the bottom row its
/// minimum (`colour(0.0)`).
pub fn ramp(colormap: Colormap, width: usize, height: usize) -> Result<Rgba> {
    checked_size(width, height)?;
    let mut data = Vec::with_capacity(width * height * 4);
    let last = (height - 1).max(1) as f32;
    for y in 0..height {
        let [r, g, b] = colormap.colour(1.0 - y as f32 / last);
        for _ in 0..width {
            data.extend_from_slice(&[r, g, b, 255]);
        }
    }
    Ok(Rgba {
        width,
        height,
        data,
    })
}

/// The kind of symbol a geometry is drawn with, as legends show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GeometryKind {
    Point,
    Line,
    Polygon,
}

impl GeometryKind {
    /// The kind of `geometry`; a collection has its members' kind when they
    /// all share one, and none when they differ or it is empty.
    pub fn of(geometry: &Geometry<f64>) -> Option<Self> {
        match geometry {
            Geometry::Point(_) | Geometry::MultiPoint(_) => Some(GeometryKind::Point),
            Geometry::Line(_) | Geometry::LineString(_) | Geometry::MultiLineString(_) => {
                Some(GeometryKind::Line)
            }
            Geometry::Polygon(_)
            | Geometry::MultiPolygon(_)
            | Geometry::Rect(_)
            | Geometry::Triangle(_) => Some(GeometryKind::Polygon),
            Geometry::GeometryCollection(gc) => {
                let mut kinds = gc.iter().map(GeometryKind::of);
                let first = kinds.next()??;
                kinds.all(|k| k == Some(first)).then_some(first)
            }
        }
    }
}

/// One `width × height` swatch per entry of `kinds`, stacked top to bottom
/// (GetLegendGraphic's default is 20 × 20 per rule, as GeoServer's):
/// a polygon is a filled, outlined rectangle, a line a diagonal from the
/// bottom left to the top right, a point a circle in the middle, shrunk to
/// fit the swatch if its radius does not.
pub fn swatches(
    style: &PlainStyle,
    kinds: &[GeometryKind],
    width: usize,
    height: usize,
) -> Result<Rgba> {
    let total = height
        .checked_mul(kinds.len())
        .ok_or(Error::LimitExceeded {
            path: "legend".into(),
            what: "its swatches",
            limit: super::MAX_CANVAS_BYTES,
        })?;
    let mut canvas = Canvas::new(width, total, 1.0)?;
    let (w, h) = (width as f64, height as f64);
    // Inset by half the stroke so outlines are not cut at the edges.
    let inset = (f64::from(style.stroke_width) / 2.0).clamp(0.0, w.min(h) / 4.0) + 1.0;
    let fit = (w.min(h) / 2.0 - inset).max(1.0) as f32;
    let point_style = PlainStyle {
        point_radius: style.point_radius.min(fit),
        ..*style
    };
    for (i, kind) in kinds.iter().enumerate() {
        let top = i as f64 * h;
        let geometry: Geometry<f64> = match kind {
            GeometryKind::Polygon => Rect::new(
                coord! { x: inset, y: top + inset },
                coord! { x: w - inset, y: top + h - inset },
            )
            .into(),
            GeometryKind::Line => {
                line_string![(x: inset, y: top + h - inset), (x: w - inset, y: top + inset)].into()
            }
            GeometryKind::Point => point!(x: w / 2.0, y: top + h / 2.0).into(),
        };
        let style = if *kind == GeometryKind::Point {
            &point_style
        } else {
            style
        };
        draw(&mut canvas, [&geometry], style);
    }
    Ok(canvas.into_rgba())
}

#[cfg(test)]
mod tests {
    use geo_types::{GeometryCollection, Polygon};

    use super::*;
    use crate::ErrorKind;

    fn px(img: &Rgba, x: usize, y: usize) -> [u8; 4] {
        let i = (y * img.width + x) * 4;
        [0, 1, 2, 3].map(|k| img.data[i + k])
    }

    #[test]
    fn a_ramp_is_the_colormaps_maximum_at_the_top_and_minimum_at_the_bottom() {
        for colormap in [Colormap::Greys, Colormap::Viridis, Colormap::Terrain] {
            let img = ramp(colormap, 5, 100).unwrap();
            assert_eq!((img.width, img.height, img.data.len()), (5, 100, 2000));
            let [r, g, b] = colormap.colour(1.0);
            assert_eq!(px(&img, 0, 0), [r, g, b, 255]);
            assert_eq!(px(&img, 4, 0), [r, g, b, 255]);
            let [r, g, b] = colormap.colour(0.0);
            assert_eq!(px(&img, 2, 99), [r, g, b, 255]);
            let [r, g, b] = colormap.colour(0.5);
            assert_ne!(
                px(&img, 2, 50),
                [r, g, b, 255],
                "row 50 is just below the middle"
            );
            assert_eq!(px(&img, 2, 50)[3], 255);
        }
        assert_eq!(ramp(Colormap::Greys, 3, 1).unwrap().data, [255; 12]);
    }

    #[test]
    fn an_empty_or_oversized_legend_is_refused() {
        assert_eq!(
            ramp(Colormap::Greys, 0, 10).err().map(|e| e.kind()),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(
            ramp(Colormap::Greys, 1 << 20, 1 << 20)
                .err()
                .map(|e| e.kind()),
            Some(ErrorKind::LimitExceeded)
        );
        let style = PlainStyle::default();
        assert_eq!(
            swatches(&style, &[], 20, 20).err().map(|e| e.kind()),
            Some(ErrorKind::InvalidRequest)
        );
        let many = vec![GeometryKind::Point; 1 << 20];
        assert_eq!(
            swatches(&style, &many, 20, usize::MAX / 2)
                .err()
                .map(|e| e.kind()),
            Some(ErrorKind::LimitExceeded)
        );
    }

    #[test]
    fn swatches_stack_one_drawn_symbol_per_kind() {
        let style = PlainStyle::default();
        let kinds = [
            GeometryKind::Polygon,
            GeometryKind::Line,
            GeometryKind::Point,
        ];
        let img = swatches(&style, &kinds, 20, 20).unwrap();
        assert_eq!(
            (img.width, img.height, img.data.len()),
            (20, 60, 20 * 60 * 4)
        );
        for i in 0..3 {
            let rows = &img.data[i * 20 * 20 * 4..(i + 1) * 20 * 20 * 4];
            assert!(
                rows.chunks_exact(4).any(|p| p[3] > 0),
                "swatch {i} is empty"
            );
        }
        // Polygon: grey inside, black outline; line: through the middle;
        // point: grey centre, corners clear.
        assert_eq!(px(&img, 10, 10), [0xAA, 0xAA, 0xAA, 255]);
        assert_eq!(px(&img, 10, 1)[..3], [0, 0, 0]);
        assert_eq!(px(&img, 10, 29), [0, 0, 0, 255]);
        assert_eq!(px(&img, 2, 22)[3], 0);
        assert_eq!(px(&img, 10, 50), [0xAA, 0xAA, 0xAA, 255]);
        assert_eq!(px(&img, 1, 41)[3], 0);
    }

    #[test]
    fn a_point_too_big_for_its_swatch_is_shrunk_to_fit() {
        let style = PlainStyle {
            point_radius: 50.0,
            ..PlainStyle::default()
        };
        let img = swatches(
            &style,
            &[GeometryKind::Point, GeometryKind::Polygon],
            20,
            20,
        )
        .unwrap();
        assert_eq!(px(&img, 0, 0)[3], 0, "corner of the point swatch");
        assert_eq!(px(&img, 10, 10), [0xAA, 0xAA, 0xAA, 255]);
    }

    #[test]
    fn the_kind_of_a_geometry_is_its_symbol_and_a_mixed_collection_has_none() {
        let square: Polygon<f64> =
            Rect::new(coord! { x: 0.0, y: 0.0 }, coord! { x: 1.0, y: 1.0 }).to_polygon();
        assert_eq!(
            GeometryKind::of(&square.clone().into()),
            Some(GeometryKind::Polygon)
        );
        assert_eq!(
            GeometryKind::of(&point!(x: 0.0, y: 0.0).into()),
            Some(GeometryKind::Point)
        );
        assert_eq!(
            GeometryKind::of(&line_string![(x: 0.0, y: 0.0), (x: 1.0, y: 1.0)].into()),
            Some(GeometryKind::Line)
        );
        let polygons: Geometry<f64> = Geometry::GeometryCollection(GeometryCollection(vec![
            square.clone().into(),
            square.clone().into(),
        ]));
        assert_eq!(GeometryKind::of(&polygons), Some(GeometryKind::Polygon));
        let mixed: Geometry<f64> = Geometry::GeometryCollection(GeometryCollection(vec![
            square.into(),
            point!(x: 0.0, y: 0.0).into(),
        ]));
        assert_eq!(GeometryKind::of(&mixed), None);
        assert_eq!(
            GeometryKind::of(&Geometry::GeometryCollection(GeometryCollection(vec![]))),
            None
        );
    }
}
