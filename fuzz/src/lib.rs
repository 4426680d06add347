//! The bodies of the fuzz targets, one function per family of parsers that
//! read untrusted bytes (issue 12, part 6). Each takes the fuzzer's input
//! and drives it through the engine's or the server's public entry points;
//! a panic, an endless loop or an unbounded allocation is the finding.
//!
//! Shared by `fuzz_targets/*.rs` (`cargo fuzz`, nightly, libFuzzer) and by
//! `tests/fuzz_regressions.rs` (stable, `cargo test`), which includes this
//! file and replays every saved input under `tests/fuzz/<target>/`, so a
//! crash once found stays tested without nightly.
//!
//! Where one target covers several parsers, its first byte (or the input's
//! magic number) chooses which, so that libFuzzer's mutations keep the
//! choice stable while they work on the rest.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use geo_types::{
    Coord, Geometry, GeometryCollection, LineString, MultiLineString, MultiPoint, MultiPolygon,
    Point, Polygon,
};
use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::feature::{Feature, Field, FieldType, Value};
use tuilerie_engine::mvt::{encode_tile, LayerEncoder, MvtOptions};
use tuilerie_engine::raster::RasterLayer;
use tuilerie_engine::raster_style::StyleSpec;
use tuilerie_engine::source::cog::Cog;
use tuilerie_engine::source::gpkg::{blob_geometry, GeoPackage, Stroke};
use tuilerie_engine::source::mbtiles::MbTiles;
use tuilerie_engine::source::pmtiles::{Directory, PmTiles};
use tuilerie_engine::source::{RasterSource, SourceContext, TileArchive};
use tuilerie_engine::warp::{Request, Resampling};
use tuilerie_engine::Bbox;
use tuilerie_engine::TileCoord;

/// Caches small enough that one input cannot fill memory through them, and
/// new for each input so that no run depends on the ones before it.
fn context() -> Arc<SourceContext> {
    SourceContext::with_block_cache(1 << 20, 8 << 20)
}

/// Blocks read per level of a fuzzed GeoTIFF: enough to reach the first and
/// the last (a short strip, an edge tile), few enough to keep runs fast.
const BLOCKS_PER_LEVEL: u32 = 4;

/// TIFF and BigTIFF directories, every block decoder, and the rendering
/// of the file as a layer (see [`render`]).
///
/// An input starting below 0x80 (a real file starts with `I` or `M`) is a
/// whole file. Otherwise the first bytes choose a compression, sample type,
/// predictor, layout and block size, and the rest is the one block of an
/// image this function writes around it: a decoder sees mutated streams
/// without the fuzzer first having to find a valid directory.
pub fn tiff(data: &[u8]) {
    let file = match data.first() {
        Some(&mode) if mode >= 0x80 => one_block_tiff(&data[1..]),
        _ => data.to_vec(),
    };
    let Ok(cog) = Cog::from_bytes(Path::new("fuzz.tif"), Bytes::from(file), context()) else {
        return;
    };
    for (level, shape) in cog.levels().iter().enumerate() {
        let (across, down) = shape.blocks();
        let last = u64::from(across) * u64::from(down) - 1;
        let first = (0..last.min(u64::from(BLOCKS_PER_LEVEL) - 1)).chain([last]);
        for i in first {
            let across = u64::from(across);
            let (col, row) = ((i % across) as u32, (i / across) as u32);
            let _ = cog.read_block(level, col, row);
            let _ = cog.read_mask_block(level, col, row);
            let _ = cog.stored_block(level, col, row);
        }
    }
    render(Arc::new(cog), data.last().copied().unwrap_or(0));
}

/// Side of the tiles a fuzzed GeoTIFF is rendered into, in pixels.
const RENDER_SIZE: u32 = 32;

/// A fuzzed GeoTIFF as a layer (its georeferencing and CRS read),
/// asked for a stored tile and rendered: the warp and styling given
/// whatever geotransform, EPSG code, nodata and sample type it claims.
/// `choice` picks the box (the image's extent in its CRS, or its bounds in
/// WGS 84) and the resampling, as rendering every combination would make
/// each run eight times slower.
fn render(cog: Arc<Cog>, choice: u8) {
    let Ok(layer) = RasterLayer::new(cog.clone(), Path::new("fuzz.tif"), &StyleSpec::default())
    else {
        return;
    };
    let target = if choice & 4 == 0 {
        let Some(gt) = cog.geotransform() else {
            return;
        };
        let shape = cog.levels()[0];
        let (w, h) = (f64::from(shape.width), f64::from(shape.height));
        let (x0, y0, x1, y1) = (gt[0], gt[3], gt[0] + w * gt[1], gt[3] + h * gt[5]);
        let bbox = [x0.min(x1), y0.min(y1), x0.max(x1), y0.max(y1)];
        Crs::shared(layer.crs.epsg).map(|crs| (crs, bbox))
    } else {
        let Some(bounds) = layer.metadata().bounds else {
            return;
        };
        Crs::shared(4326).map(|crs| (crs, bounds))
    };
    // A degenerate or non-finite box (a one-pixel-wide image with a
    // huge geotransform) is a request the protocols refuse: nothing to render.
    let Ok(bbox) = target.and_then(|(crs, bbox)| Bbox::new(crs, bbox)) else {
        return;
    };
    let _ = layer.stored_tile(&bbox, RENDER_SIZE, RENDER_SIZE);
    let _ = layer.render(&Request {
        bbox: &bbox,
        width: RENDER_SIZE as usize,
        height: RENDER_SIZE as usize,
        resampling: RESAMPLINGS[usize::from(choice % 4)],
        // No deadline: a slow render is a finding (a libFuzzer timeout).
        deadline: Deadline::NONE,
    });
}

/// Every resampling of the warp.
const RESAMPLINGS: [Resampling; 4] = [
    Resampling::Nearest,
    Resampling::Bilinear,
    Resampling::Cubic,
    Resampling::Average,
];

/// Compression codes, in the order the mode bytes choose them.
const COMPRESSIONS: [u16; 8] = [1, 5, 8, 32773, 50000, 7, 50001, 34887];

/// (BitsPerSample, SampleFormat) pairs, including two unsupported ones.
const SAMPLE_TYPES: [(u16, u16); 10] = [
    (8, 1),
    (8, 2),
    (16, 1),
    (16, 2),
    (32, 1),
    (32, 2),
    (32, 3),
    (64, 3),
    (1, 1),
    (12, 1),
];

/// A little-endian TIFF of one tile whose layout comes from the first five
/// bytes of `spec` and whose block is the rest.
fn one_block_tiff(spec: &[u8]) -> Vec<u8> {
    let byte = |i: usize| spec.get(i).copied().unwrap_or(0);
    let (codec, kind, layout) = (byte(0), byte(1), byte(2));
    let (width, height) = (u32::from(byte(3)) + 1, u32::from(byte(4)) + 1);
    let block = spec.get(5..).unwrap_or_default();
    let (bits, format) = SAMPLE_TYPES[usize::from(kind) % SAMPLE_TYPES.len()];
    let samples = u32::from(layout % 4) + 1;
    let planar = if layout & 4 != 0 { 2 } else { 1 };
    let planes = if planar == 2 { samples } else { 1 };
    // Entries: (tag, type, values); type 3 SHORT, 4 LONG, 7 UNDEFINED.
    let mut entries: Vec<(u16, u16, Vec<u32>)> = vec![
        (256, 4, vec![width]),
        (257, 4, vec![height]),
        (258, 3, vec![u32::from(bits); samples as usize]),
        (
            259,
            3,
            vec![u32::from(COMPRESSIONS[usize::from(codec) % 8])],
        ),
        (277, 3, vec![samples]),
        (284, 3, vec![planar]),
        (317, 3, vec![u32::from(kind / 16) % 4 + 1]),
        (322, 4, vec![width]),
        (323, 4, vec![height]),
        // Every plane's block is the same bytes.
        (324, 4, vec![0; planes as usize]),
        (325, 4, vec![block.len() as u32; planes as usize]),
        (339, 3, vec![u32::from(format); samples as usize]),
    ];
    if layout & 8 != 0 {
        // The last sample is unassociated alpha (a LERC mask may hold it).
        let mut extra = vec![0; samples as usize - 1];
        extra.push(2);
        entries.push((338, 3, extra));
    }
    // LERC's additional compression: none, DEFLATE, ZSTD, or unknown.
    entries.push((50674, 4, vec![4, u32::from(codec / 8) % 4]));
    entries.sort_by_key(|e| e.0);

    // Header, then the block, then the directory, then out-of-line values.
    let block_at = 8u32;
    let ifd_at = block_at + block.len() as u32;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&ifd_at.to_le_bytes());
    out.extend_from_slice(block);
    let mut extra_at = ifd_at + 2 + 12 * entries.len() as u32 + 4;
    let mut extra = Vec::new();
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for (tag, kind, values) in &entries {
        let values: Vec<u32> = if *tag == 324 {
            values.iter().map(|_| block_at).collect()
        } else {
            values.clone()
        };
        let bytes: Vec<u8> = match kind {
            3 => values
                .iter()
                .flat_map(|v| (*v as u16).to_le_bytes())
                .collect(),
            _ => values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        };
        out.extend_from_slice(&tag.to_le_bytes());
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&(values.len() as u32).to_le_bytes());
        if bytes.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..bytes.len()].copy_from_slice(&bytes);
            out.extend_from_slice(&inline);
        } else {
            out.extend_from_slice(&extra_at.to_le_bytes());
            extra_at += bytes.len() as u32;
            extra.extend_from_slice(&bytes);
        }
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&extra);
    out
}

/// PMTiles: an input starting with `PM` is a whole archive (header, root
/// and leaf directories, metadata), read for the tiles of zooms 0–3 and
/// those under its center down to zoom 15; any other input is a
/// decompressed directory.
pub fn pmtiles(data: &[u8]) {
    if !data.starts_with(b"PM") {
        if let Ok(directory) = Directory::parse(data) {
            for id in [0, 1, 5, u64::MAX] {
                let _ = directory.find(id);
            }
        }
        return;
    }
    let path = Path::new("fuzz.pmtiles");
    let Ok(archive) = PmTiles::from_bytes(path, Bytes::copy_from_slice(data), None, context())
    else {
        return;
    };
    read_tiles(&archive);
}

/// Reads the tiles of zooms 0–3, and the tile under the archive's center
/// (or 0°, 0°) at each zoom from 4 to 15.
fn read_tiles(archive: &dyn TileArchive) {
    for z in 0..=3u8 {
        for x in 0..1u32 << z {
            for y in 0..1u32 << z {
                let _ = archive.get_tile(TileCoord { z, x, y });
            }
        }
    }
    let [lon, lat, _] = archive.metadata().center.unwrap_or([0.0; 3]);
    for z in 4..=15u8 {
        let n = f64::from(1u32 << z);
        let x = ((lon + 180.0) / 360.0 * n).clamp(0.0, n - 1.0);
        let lat = lat.clamp(-85.0, 85.0).to_radians();
        let y = ((1.0 - lat.tan().asinh() / std::f64::consts::PI) / 2.0 * n).clamp(0.0, n - 1.0);
        let _ = archive.get_tile(TileCoord {
            z,
            x: x as u32,
            y: y as u32,
        });
    }
}

/// Features read per table of a fuzzed GeoPackage.
const FEATURES_PER_TABLE: usize = 64;

/// SQLite files opened as an MBTiles archive (its metadata table, then
/// tiles) and as a GeoPackage (its contents, tile matrices, feature tables
/// and their blobs). An input that starts as an SQLite file does is
/// written as it is; any other is lines of `name=value`, the rows of the
/// metadata table of an MBTiles file made for it, so that mutations reach
/// the values (bounds, zooms, the `json` document) rather than SQLite's
/// page format.
pub fn mbtiles(data: &[u8]) {
    let file = if data.starts_with(b"SQLite format 3\0") {
        TempFile::new(data)
    } else {
        TempFile::mbtiles(data)
    };
    if let Ok(archive) = MbTiles::open(&file.0) {
        read_tiles(&archive);
    }
    if let Ok(gpkg) = GeoPackage::open(&file.0) {
        for pyramid in gpkg.tile_pyramids() {
            let _ = gpkg.stored_zooms(pyramid);
            let _ = gpkg.read_tile(pyramid, 0, 0, 0);
        }
        for table in gpkg.feature_tables() {
            let all: Vec<usize> = (0..table.fields.len()).collect();
            let _ = gpkg.features(table, None, &all, None, FEATURES_PER_TABLE);
        }
    }
}

/// A file in the temporary directory holding the input, removed with the
/// files SQLite may have made beside it.
struct TempFile(PathBuf);

impl TempFile {
    fn new(data: &[u8]) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "tuilerie-fuzz-{}-{}.sqlite",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let path = std::env::temp_dir().join(name);
        std::fs::write(&path, data).expect("the temporary directory is writable");
        TempFile(path)
    }

    /// An MBTiles file whose metadata rows are the `name=value` lines of
    /// `rows`, with one tile, 0/0/0, of an empty PNG.
    fn mbtiles(rows: &[u8]) -> Self {
        let file = TempFile::new(&[]);
        let db = rusqlite::Connection::open(&file.0).expect("a new SQLite file");
        // One transaction, no journal and no fsync: a few hundred files a
        // second rather than a few dozen.
        db.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; BEGIN;
             CREATE TABLE metadata (name TEXT, value TEXT);
             CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER,
                                 tile_row INTEGER, tile_data BLOB);
             INSERT INTO tiles VALUES (0, 0, 0, X'89504E470D0A1A0A');",
        )
        .expect("the MBTiles schema");
        for row in rows.split(|&b| b == b'\n') {
            let text = String::from_utf8_lossy(row);
            let (name, value) = text.split_once('=').unwrap_or((&text, ""));
            db.execute("INSERT INTO metadata VALUES (?1, ?2)", (name, value))
                .expect("a metadata row");
        }
        db.execute_batch("COMMIT").expect("the MBTiles file");
        file
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Boxes a GeoPackage blob is read against: any, a small one, the world.
const BLOB_BOXES: [Option<[f64; 4]>; 3] = [
    None,
    Some([0.0, 0.0, 10.0, 10.0]),
    Some([-180.0, -90.0, 180.0, 90.0]),
];

/// How curves are stroked: GDAL's step, a fine tolerance (many segments,
/// up to the caps), a coarse one.
const STROKES: [Stroke; 3] = [Stroke::Gdal, Stroke::Within(1e-9), Stroke::Within(1.0)];

/// A GeoPackage geometry blob (header and WKB, the curve types included).
/// The first byte chooses the box the blob is read against and how curves
/// are stroked; an input
/// whose rest does not start with `GP` is bare WKB, given a header without
/// an envelope so that it reaches the WKB reader.
pub fn gpkg_wkb(data: &[u8]) {
    let Some((&choice, rest)) = data.split_first() else {
        return;
    };
    let bbox = BLOB_BOXES[usize::from(choice) % BLOB_BOXES.len()];
    let stroke = STROKES[usize::from(choice / 3) % STROKES.len()];
    if rest.starts_with(b"GP") {
        let _ = blob_geometry(rest, bbox, stroke);
    } else {
        // Version 1, little-endian, no envelope, srs_id 4326.
        let mut blob = vec![b'G', b'P', 0, 1, 0xE6, 0x10, 0, 0];
        blob.extend_from_slice(rest);
        let _ = blob_geometry(&blob, bbox, stroke);
    }
}

/// The fields of the fuzzed MVT layer, one of each type.
fn mvt_fields() -> Vec<Field> {
    [
        ("i", FieldType::Integer),
        ("r", FieldType::Real),
        ("t", FieldType::Text),
        ("b", FieldType::Boolean),
    ]
    .into_iter()
    .map(|(name, field_type)| Field {
        name: name.into(),
        field_type,
    })
    .collect()
}

/// Tile boxes the MVT encoder is given: a 4096-unit tile, a web-mercator
/// one, a tiny one, one too large for its scale to be finite, an inverted
/// one and one with NaN.
const MVT_BOXES: [[f64; 4]; 6] = [
    [0.0, 0.0, 4096.0, 4096.0],
    [-20037508.34, -20037508.34, 20037508.34, 20037508.34],
    [1.0, 1.0, 1.0 + 1e-12, 1.0 + 1e-12],
    [-f64::MAX, -f64::MAX, f64::MAX, f64::MAX],
    [10.0, 10.0, 0.0, 0.0],
    [0.0, f64::NAN, 1.0, 1.0],
];

/// Arbitrary geometries into the MVT encoder: the first byte chooses the
/// tile box, the second the extent, buffer and tolerance, and the rest
/// are features (see [`GeometryReader`]): NaN, infinite and huge
/// coordinates, degenerate and self-crossing rings, deep collections.
pub fn mvt_encode(data: &[u8]) {
    let [b, o, rest @ ..] = data else {
        return;
    };
    let bbox = MVT_BOXES[usize::from(*b) % MVT_BOXES.len()];
    let options = MvtOptions {
        extent: [4096, 256, 1, 0, u32::MAX, 1 << 30][usize::from(o % 6)],
        buffer: [64, 0, 4096, u32::MAX][usize::from((o / 6) % 4)],
        tolerance: [1.0, 0.0, 1e9, f64::NAN, -1.0][usize::from((o / 24) % 5)],
    };
    let fields = mvt_fields();
    let mut layer = LayerEncoder::new("fuzz", &fields, &options.params(bbox));
    let mut reader = GeometryReader { data: rest, pos: 0 };
    let mut id = 0;
    while reader.pos < reader.data.len() {
        let geometry = reader.geometry(0);
        let values = vec![
            Value::Int(id),
            Value::Float(reader.coordinate(bbox[0])),
            Value::String(format!("{id}")),
            Value::Null,
        ];
        layer.add(&Feature {
            id: u64::try_from(id).ok(),
            geometry,
            values,
        });
        id += 1;
    }
    let _ = encode_tile(&[layer]);
}

/// Deepest collection [`GeometryReader`] builds.
const MAX_GEOMETRY_DEPTH: usize = 4;

/// Geometries from bytes: a byte for the type, a byte for each count, and
/// per coordinate a byte that says how to read it (see
/// [`GeometryReader::coordinate`]). Past the end every byte reads as 0.
struct GeometryReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl GeometryReader<'_> {
    fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.byte())
    }

    /// A value near `origin`: mostly a 16-bit offset, in tile units for
    /// the 4096 box; sometimes a special value or any 64-bit float.
    fn coordinate(&mut self, origin: f64) -> f64 {
        match self.byte() {
            0xF0 => f64::NAN,
            0xF1 => f64::INFINITY,
            0xF2 => f64::NEG_INFINITY,
            0xF3 => f64::MAX,
            0xF4 => -f64::MAX,
            0xF5 => f64::MIN_POSITIVE,
            0xF6 => -0.0,
            0xF7 => f64::from_le_bytes(self.bytes()),
            0xF8..=0xFF => origin + f64::from(i16::from_le_bytes(self.bytes())) * 1e6,
            _ => origin + f64::from(i16::from_le_bytes(self.bytes())),
        }
    }

    fn coord(&mut self) -> Coord {
        Coord {
            x: self.coordinate(0.0),
            y: self.coordinate(0.0),
        }
    }

    fn line(&mut self) -> LineString {
        let n = self.byte();
        LineString((0..n).map(|_| self.coord()).collect())
    }

    fn polygon(&mut self) -> Polygon {
        let holes = self.byte() % 8;
        let exterior = self.line();
        Polygon::new(exterior, (0..holes).map(|_| self.line()).collect())
    }

    fn geometry(&mut self, depth: usize) -> Geometry {
        match self.byte() % 7 {
            0 => Geometry::Point(Point(self.coord())),
            1 => Geometry::LineString(self.line()),
            2 => Geometry::Polygon(self.polygon()),
            3 => {
                let n = self.byte();
                Geometry::MultiPoint(MultiPoint((0..n).map(|_| Point(self.coord())).collect()))
            }
            4 => {
                let n = self.byte() % 16;
                Geometry::MultiLineString(MultiLineString((0..n).map(|_| self.line()).collect()))
            }
            5 => {
                let n = self.byte() % 16;
                Geometry::MultiPolygon(MultiPolygon((0..n).map(|_| self.polygon()).collect()))
            }
            _ if depth < MAX_GEOMETRY_DEPTH => {
                let n = self.byte() % 8;
                let members = (0..n).map(|_| self.geometry(depth + 1)).collect();
                Geometry::GeometryCollection(GeometryCollection(members))
            }
            _ => Geometry::GeometryCollection(GeometryCollection(Vec::new())),
        }
    }
}

/// The server's state over `data-samples/` (its folders too: every
/// format, vector and raster), built once, and a runtime to answer requests on.
fn server() -> &'static (tuilerie_server::AppState, tokio::runtime::Runtime) {
    static SERVER: OnceLock<(tuilerie_server::AppState, tokio::runtime::Runtime)> = OnceLock::new();
    SERVER.get_or_init(|| {
        let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data-samples");
        let config = tuilerie_server::ConfigFile::default();
        let (catalog, _) = tuilerie_server::build_catalog(&config, &[samples]);
        let sets = tuilerie_engine::tms::TileMatrixSets::new(Vec::new())
            .expect("the registered tile matrix sets are valid");
        let settings = tuilerie_server::Settings::from_config(&config);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        (
            tuilerie_server::AppState::new(catalog, sets, settings),
            runtime,
        )
    })
}

/// Methods, chosen by the first byte.
const METHODS: [&str; 4] = ["GET", "HEAD", "OPTIONS", "POST"];

/// The HTTP router and every query-string and path parser behind it (XYZ,
/// TileJSON, WMTS KVP and REST, tile matrix sets, content negotiation),
/// called directly, without a socket, over the layers of `data-samples/`.
///
/// The first byte chooses the method; up to the first newline is the
/// request target (path and query), each further line a `name: value`
/// header. A target or header hyper would not accept off the wire is
/// skipped. The answer must not be a 500: every input error is the
/// client's.
pub fn request(data: &[u8]) {
    let Some((&method, rest)) = data.split_first() else {
        return;
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let target = lines.next().unwrap_or_default();
    let Ok(uri) = hyper::Uri::try_from(target) else {
        return;
    };
    let mut builder = hyper::Request::builder()
        .method(METHODS[usize::from(method) % METHODS.len()])
        .uri(uri);
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name),
            hyper::header::HeaderValue::from_bytes(value),
        ) {
            builder = builder.header(name, value);
        }
    }
    // The body is empty: a POST to /wms reads it as a form of no parameters.
    let Ok(req) = builder.body(String::new()) else {
        return;
    };
    let (state, runtime) = server();
    let local = std::net::SocketAddr::from(([127, 0, 0, 1], 8080));
    let response = runtime.block_on(tuilerie_server::handle(state, req, local));
    assert_ne!(
        response.status(),
        hyper::StatusCode::INTERNAL_SERVER_ERROR,
        "request {:?}",
        String::from_utf8_lossy(data)
    );
}
