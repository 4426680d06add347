//! Warped tiles against gdalwarp's (tests/fixtures/warp/, rendered by
//! tests/fixtures/record_warps.py). Compared with a tolerance, as golden
//! images must be: the share of pixels whose transparency differs, and the
//! share of pixels opaque in both whose channels differ by more than a few
//! levels. On a mismatch the tile we rendered is written under
//! target/warp-actual/ beside the numbers.

use std::path::Path;
use std::sync::Arc;

use tuilerie_engine::crs::Crs;
use tuilerie_engine::deadline::Deadline;
use tuilerie_engine::raster_style::{Style, StyleSpec};
use tuilerie_engine::source::cog::Cog;
use tuilerie_engine::source::SourceContext;
use tuilerie_engine::warp::{warp, Request, Resampling};
use tuilerie_engine::Bbox;
use tuilerie_tests::{fixture, samples};

const HALF: f64 = 20_037_508.342_789_244;

fn read_png(path: &Path) -> Vec<u8> {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(
        (info.width, info.height, info.color_type),
        (256, 256, png::ColorType::Rgba)
    );
    buf
}

fn write_png(path: &Path, rgba: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut encoder = png::Encoder::new(std::fs::File::create(path).unwrap(), 256, 256);
    encoder.set_color(png::ColorType::Rgba);
    encoder
        .write_header()
        .unwrap()
        .write_image_data(rgba)
        .unwrap();
}

#[test]
fn tiles_match_gdalwarp() {
    let ctx = SourceContext::new(1 << 20);
    let mercator = Crs::from_epsg(3857).unwrap();
    let mut compared = 0;
    let mut paths: Vec<_> = std::fs::read_dir(fixture("warp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    paths.sort();
    let mut failures = Vec::new();
    for path in paths {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        // NAME_z_x_y_resampling
        let parts: Vec<&str> = name.rsplitn(5, '_').collect();
        let (resampling, y, x, z, source) = (parts[0], parts[1], parts[2], parts[3], parts[4]);
        let (z, x, y): (i32, f64, f64) =
            (z.parse().unwrap(), x.parse().unwrap(), y.parse().unwrap());
        let size = 2.0 * HALF / 2f64.powi(z);
        let bbox = [
            -HALF + x * size,
            HALF - (y + 1.0) * size,
            -HALF + (x + 1.0) * size,
            HALF - y * size,
        ];

        let file = samples().join("cog").join(format!("{source}.tif"));
        let cog = Cog::open(&file, Arc::clone(&ctx)).unwrap();
        let cog_crs = Crs::from_epsg(cog.epsg.unwrap()).unwrap();
        let resampling = Resampling::named(resampling).unwrap();
        let request = Request {
            bbox: &Bbox::new(Crs::shared(mercator.epsg).unwrap(), bbox).unwrap(),
            width: 256,
            height: 256,
            resampling,
            deadline: Deadline::NONE,
        };
        let style = Style::new(&cog, &file, &StyleSpec::default()).unwrap();
        let ours = style.apply(&warp(&cog, &cog_crs, &request, &style.bands).unwrap());
        let theirs = read_png(&path);

        let (mut alpha_differs, mut both, mut colour_differs) = (0usize, 0usize, 0usize);
        // Lossy JPEG blocks decode a few levels apart from libjpeg-turbo; a
        // web-optimized COG on its own grid is copied, exactly.
        let tolerance = match source {
            "cog_rgb" => 4,
            "image_web_z5_z11" => 0,
            _ => 1,
        };
        for (a, b) in ours.data.chunks_exact(4).zip(theirs.chunks_exact(4)) {
            if (a[3] == 0) != (b[3] == 0) {
                alpha_differs += 1;
            } else if a[3] > 0 {
                both += 1;
                if a.iter().zip(b).any(|(p, q)| p.abs_diff(*q) > tolerance) {
                    colour_differs += 1;
                }
            }
        }
        let alpha_share = alpha_differs as f64 / 65536.0;
        let colour_share = colour_differs as f64 / both.max(1) as f64;
        // Known gap: reducing bilinearly a source smaller than the tile
        // (z18 over a 383×232, 0.15 m image) differs from gdalwarp on ~8.5%
        // of pixels (p90 4 levels, p99 16). Not the JPEG decoding (our
        // pixels are within 4 levels of GDAL's, nearest matches at p99 2):
        // gdalwarp derives its kernel scale from the tile's size over the
        // source window clamped to the raster (GDALWarpKernel::PerformWarp,
        // dfSrcXExtraSize), so an image smaller than the tile gets a
        // wrong scale; ours is the local one. Plain 4-tap bilinear is
        // further from GDAL's (18.6%).
        let colour_bound = match name.as_str() {
            "cog_rgb_18_54777_100229_bilinear" => 0.10,
            // Mode on a source at exactly twice the output's resolution:
            // output pixel corners fall on source pixel edges, and whether
            // a window spans 2 or 3 pixels there depends on each side's
            // transform noise (gdalwarp's own corners land 1e-9 either
            // side, measured with a raster of unique values and `max`).
            // Elsewhere a window is the same and so is the vote.
            "usda_naip_256_lzw_z3_16_10677_24335_mode" => 0.10,
            _ if tolerance == 0 => 0.0,
            _ => 0.02,
        };
        let alpha_bound = if tolerance == 0 { 0.0 } else { 0.01 };
        if alpha_share > alpha_bound || colour_share > colour_bound || both == 0 {
            let actual = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join(format!("../target/warp-actual/{name}.png"));
            write_png(&actual, &ours.data);
            failures.push(format!(
                "{name}: transparency differs on {:.2}% of pixels, colour on {:.2}% of {both} opaque ones (ours: {})",
                alpha_share * 100.0,
                colour_share * 100.0,
                actual.display()
            ));
        }
        compared += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(compared, 18, "reference tiles compared");
}
