//! Geometry commands (MVT 2.1 §4.3): quantised points, lines and rings as
//! the `uint32` stream of a feature's `geometry` field.
//!
//! A command integer is `(id & 0x7) | (count << 3)` (§4.3.1); its
//! parameters are zigzag-encoded deltas from a cursor that starts at (0, 0)
//! and carries across every part of the feature (§4.3.2). Rings are written
//! without their closing point: `ClosePath` closes them and does not move
//! the cursor (§4.3.3.3).

use super::pbf::zigzag;
use super::tile_geometry::TilePoint;

/// `MoveTo` command id (§4.3.3.1).
const MOVE_TO: u32 = 1;
/// `LineTo` command id (§4.3.3.2).
const LINE_TO: u32 = 2;
/// `ClosePath` command id (§4.3.3.3).
const CLOSE_PATH: u32 = 7;
/// The largest count a command integer holds: 29 bits (§4.3.1).
const MAX_COUNT: usize = (1 << 29) - 1;

/// Writes commands and parameters for one feature; cleared and reused for
/// the next.
#[derive(Debug, Default, Clone)]
pub(super) struct CommandWriter {
    out: Vec<u32>,
    cursor: TilePoint,
}

impl CommandWriter {
    fn command(&mut self, id: u32, count: usize) {
        // Callers never pass more than MAX_COUNT.
        self.out
            .push((id & 0x7) | ((count.min(MAX_COUNT) as u32) << 3));
    }

    /// Appends `p` as a delta from the cursor and moves the cursor there.
    /// Tile coordinates lie within ±2³¹ of each other (checked when the
    /// tile frame is built), so each delta's zigzag fits in 32 bits.
    fn point(&mut self, p: TilePoint) {
        self.out.push(zigzag(p[0] - self.cursor[0]) as u32);
        self.out.push(zigzag(p[1] - self.cursor[1]) as u32);
        self.cursor = p;
    }

    /// Command `id` with `points` as its parameters, split into several commands
    /// in the (memory-bound, unreachable in practice) case of more than
    /// 2²⁹ − 1 points.
    fn repeated(&mut self, id: u32, points: &[TilePoint]) {
        for chunk in points.chunks(MAX_COUNT) {
            self.command(id, chunk.len());
            for &p in chunk {
                self.point(p);
            }
        }
    }

    /// A `MoveTo` to the first point and a `LineTo` through the rest.
    fn path(&mut self, points: &[TilePoint]) {
        if let Some((&first, rest)) = points.split_first() {
            self.command(MOVE_TO, 1);
            self.point(first);
            self.repeated(LINE_TO, rest);
        }
    }

    /// Empties the stream and puts the cursor back at (0, 0), for the next
    /// feature.
    pub fn clear(&mut self) {
        self.out.clear();
        self.cursor = [0, 0];
    }

    /// The commands written.
    pub fn commands(&self) -> &[u32] {
        &self.out
    }

    /// A point or multipoint: one `MoveTo` with a count per point
    /// (§4.3.4.2).
    pub fn points(&mut self, points: &[TilePoint]) {
        self.repeated(MOVE_TO, points);
    }

    /// One line of a linestring or multilinestring: `MoveTo` its first
    /// point and `LineTo` the others (§4.3.4.3). Lines have at least two
    /// points and no consecutive repeats (see `quantise`).
    pub fn line(&mut self, line: &[TilePoint]) {
        self.path(line);
    }

    /// One ring of a polygon or multipolygon: `MoveTo`, `LineTo`,
    /// `ClosePath` (§4.3.4.4); each polygon is its exterior ring then its
    /// interior rings, already oriented (see `quantise::orient`).
    pub fn ring(&mut self, ring: &[TilePoint]) {
        self.path(ring);
        self.command(CLOSE_PATH, 1);
    }
}

/// A decoder for tests: the parts (points, lines or rings) of a command
/// stream, checking the stream's structure as it goes.
#[cfg(test)]
pub(super) mod decode {
    use super::super::pbf::read::unzigzag;
    use super::*;

    /// One `MoveTo`/`LineTo`* run, and whether a `ClosePath` ended it.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Part {
        pub points: Vec<TilePoint>,
        pub closed: bool,
    }

    /// Decodes `geometry`. A `MoveTo` of count n gives n one-point parts.
    /// Panics on a zero-length `LineTo` (§4.3.3.2) or a malformed stream.
    pub fn parts(geometry: &[u32]) -> Vec<Part> {
        let mut parts: Vec<Part> = Vec::new();
        let mut cursor = [0i64; 2];
        let mut i = 0;
        while i < geometry.len() {
            let (id, count) = (geometry[i] & 7, (geometry[i] >> 3) as usize);
            i += 1;
            match id {
                MOVE_TO | LINE_TO => {
                    for _ in 0..count {
                        let dx = unzigzag(u64::from(geometry[i]));
                        let dy = unzigzag(u64::from(geometry[i + 1]));
                        i += 2;
                        cursor = [cursor[0] + dx, cursor[1] + dy];
                        if id == MOVE_TO {
                            parts.push(Part {
                                points: vec![cursor],
                                closed: false,
                            });
                        } else {
                            assert!((dx, dy) != (0, 0), "zero-length LineTo at {i}");
                            parts.last_mut().expect("LineTo first").points.push(cursor);
                        }
                    }
                }
                CLOSE_PATH => {
                    assert_eq!(count, 1);
                    parts.last_mut().expect("ClosePath first").closed = true;
                }
                other => panic!("unknown command {other}"),
            }
        }
        parts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_points(points: &[TilePoint]) -> Vec<u32> {
        let mut writer = CommandWriter::default();
        writer.points(points);
        writer.out
    }

    fn encode_lines(lines: &[Vec<TilePoint>]) -> Vec<u32> {
        let mut writer = CommandWriter::default();
        lines.iter().for_each(|l| writer.line(l));
        writer.out
    }

    fn encode_polygons(polygons: &[Vec<Vec<TilePoint>>]) -> Vec<u32> {
        let mut writer = CommandWriter::default();
        polygons.iter().flatten().for_each(|r| writer.ring(r));
        writer.out
    }

    /// The MVT 2.1 §4.3.5 examples, exact command streams.
    #[test]
    fn spec_example_point() {
        assert_eq!(encode_points(&[[25, 17]]), [9, 50, 34]);
    }

    #[test]
    fn spec_example_multipoint() {
        assert_eq!(encode_points(&[[5, 7], [3, 2]]), [17, 10, 14, 3, 9]);
    }

    #[test]
    fn spec_example_linestring() {
        assert_eq!(
            encode_lines(&[vec![[2, 2], [2, 10], [10, 10]]]),
            [9, 4, 4, 18, 0, 16, 16, 0]
        );
    }

    #[test]
    fn spec_example_multilinestring() {
        assert_eq!(
            encode_lines(&[vec![[2, 2], [2, 10], [10, 10]], vec![[1, 1], [3, 5]]]),
            [9, 4, 4, 18, 0, 16, 16, 0, 9, 17, 17, 10, 4, 8]
        );
    }

    #[test]
    fn spec_example_polygon() {
        assert_eq!(
            encode_polygons(&[vec![vec![[3, 6], [8, 12], [20, 34]]]]),
            [9, 6, 12, 18, 10, 12, 24, 44, 15]
        );
    }

    #[test]
    fn spec_example_multipolygon() {
        let polygons = [
            vec![vec![[0, 0], [10, 0], [10, 10], [0, 10]]],
            vec![
                vec![[11, 11], [20, 11], [20, 20], [11, 20]],
                vec![[13, 13], [13, 17], [17, 17], [17, 13]],
            ],
        ];
        assert_eq!(
            encode_polygons(&polygons),
            [
                9, 0, 0, 26, 20, 0, 0, 20, 19, 0, 15, 9, 22, 2, 26, 18, 0, 0, 18, 17, 0, 15, 9, 4,
                13, 26, 0, 8, 8, 0, 0, 7, 15
            ]
        );
    }

    #[test]
    fn the_test_decoder_inverts_the_encoder() {
        let lines = vec![vec![[2, 2], [2, 10], [10, 10]], vec![[1, 1], [3, 5]]];
        let parts = decode::parts(&encode_lines(&lines));
        let decoded: Vec<_> = parts.into_iter().map(|p| p.points).collect();
        assert_eq!(decoded, lines);
    }
}
