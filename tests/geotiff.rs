//! The GeoTIFF reader against GDAL: every sample in data-samples/cog/ must
//! give the structure and the pixels GDAL reads (tests/fixtures/cogs.json,
//! recorded by tests/fixtures/record_cogs.py with GDAL 3.6.2).

use std::sync::Arc;

use tuilerie_engine::catalog::{Catalog, LayerSpec};
use tuilerie_engine::source::cog::{Block, Cog, SampleType};
use tuilerie_engine::source::SourceContext;
use tuilerie_engine::ErrorKind;
use tuilerie_tests::{fixture, samples, sha256, XorShift};

fn gdal_type(t: SampleType) -> &'static str {
    match t {
        SampleType::U8 => "Byte",
        SampleType::I8 => "Int8",
        SampleType::U16 => "UInt16",
        SampleType::I16 => "Int16",
        SampleType::U32 => "UInt32",
        SampleType::I32 => "Int32",
        SampleType::F32 => "Float32",
        SampleType::F64 => "Float64",
    }
}

/// The `w × h` top-left window of a block, band after band, as GDAL's
/// `ReadAsArray(...).tobytes()` lays it out.
fn bands_first(block: &Block, w: usize, h: usize) -> Vec<u8> {
    let size = block.sample_type.size();
    let mut out = Vec::with_capacity(w * h * block.bands * size);
    for band in 0..block.bands {
        for row in 0..h {
            for col in 0..w {
                let at = ((row * block.width + col) * block.bands + band) * size;
                out.extend_from_slice(&block.data[at..at + size]);
            }
        }
    }
    out
}

/// Lossy LERC samples and the MAX_Z_ERROR they were written with: GDAL
/// does not record it in the file (LERC keeps it inside each blob).
const LOSSY_LERC: &[(&str, f64)] =
    &[("ign_mns_hydro_0299_L93_float32_lerc_maxz0.01_cog.tif", 0.01)];

/// How closely a sample's pixels must match GDAL's.
#[derive(Clone, Copy)]
enum Match {
    /// Bit for bit (the window's SHA-256).
    Exact,
    /// Each band's mean within `mean`, the corner pixels within `corner`.
    Within { mean: f64, corner: f64 },
}

/// One sample of `t` from its native-order bytes.
fn value(t: SampleType, b: &[u8]) -> f64 {
    match t {
        SampleType::U8 => f64::from(b[0]),
        SampleType::I8 => f64::from(b[0] as i8),
        SampleType::U16 => f64::from(u16::from_ne_bytes([b[0], b[1]])),
        SampleType::I16 => f64::from(i16::from_ne_bytes([b[0], b[1]])),
        SampleType::U32 => f64::from(u32::from_ne_bytes(b.try_into().unwrap())),
        SampleType::I32 => f64::from(i32::from_ne_bytes(b.try_into().unwrap())),
        SampleType::F32 => f64::from(f32::from_ne_bytes(b.try_into().unwrap())),
        SampleType::F64 => f64::from_ne_bytes(b.try_into().unwrap()),
    }
}

fn check_window(cog: &Cog, level: usize, record: &serde_json::Value, name: &str, how: Match) {
    let block = cog
        .read_block(level, 0, 0)
        .unwrap_or_else(|e| panic!("{name} level {level}: {e}"));
    let (w, h) = (
        record["width"].as_u64().unwrap() as usize,
        record["height"].as_u64().unwrap() as usize,
    );
    let pixels = bands_first(&block, w, h);
    let Match::Within {
        mean: mean_tolerance,
        corner: corner_tolerance,
    } = how
    else {
        assert_eq!(
            sha256(&pixels),
            record["sha256"],
            "{name} level {level}: pixels differ from GDAL's"
        );
        return;
    };
    // Lossy decoders may round differently from GDAL's.
    let size = block.sample_type.size();
    let values: Vec<f64> = pixels
        .chunks_exact(size)
        .map(|b| value(block.sample_type, b))
        .collect();
    for band in 0..block.bands {
        let plane = &values[band * w * h..(band + 1) * w * h];
        // Of the non-NaN pixels, as the record's mean.
        let valid: Vec<f64> = plane.iter().copied().filter(|v| !v.is_nan()).collect();
        let mean = valid.iter().sum::<f64>() / valid.len() as f64;
        let theirs = record["means"][band].as_f64().unwrap();
        assert!(
            (mean - theirs).abs() <= mean_tolerance,
            "{name} level {level} band {band}: mean {mean} vs GDAL {theirs}"
        );
        for row in 0..8.min(h) {
            for col in 0..8.min(w) {
                let ours = plane[row * w + col];
                let theirs = record["corners"][band][row][col].as_f64().unwrap();
                assert!(
                    (ours - theirs).abs() <= corner_tolerance,
                    "{name} level {level} band {band} ({col},{row}): {ours} vs GDAL {theirs}"
                );
            }
        }
    }
}

#[test]
fn every_sample_geotiff_reads_as_gdal_reads_it() {
    let ctx = SourceContext::new(1 << 20);
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("cogs.json")).unwrap()).unwrap();
    let mut compared = 0;
    for (name, r) in reference.as_object().unwrap() {
        let path = samples().join("cog").join(name);
        let compression = r["compression"].as_str().unwrap_or("");
        let how = if compression.contains("JPEG") || compression == "WEBP" {
            // JPEG and WebP decoders may round differently from
            // libjpeg-turbo and libwebp: half a level on the mean, 3 on a pixel.
            Match::Within {
                mean: 0.5,
                corner: 3.0,
            }
        } else if let Some(&(_, max_z_error)) = LOSSY_LERC.iter().find(|(n, _)| n == name) {
            // LERC: no value further than its MAX_Z_ERROR from GDAL's (the
            // bound the format promises; today ours match bit for bit).
            Match::Within {
                mean: max_z_error,
                corner: max_z_error,
            }
        } else {
            Match::Exact
        };
        let cog = Cog::open(&path, Arc::clone(&ctx)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let size =
            |v: &serde_json::Value| (v[0].as_u64().unwrap() as u32, v[1].as_u64().unwrap() as u32);
        assert_eq!(
            (cog.levels[0].width, cog.levels[0].height),
            size(&serde_json::json!([r["width"], r["height"]])),
            "{name}"
        );
        assert_eq!(cog.bands as u64, r["bands"].as_u64().unwrap(), "{name}");
        assert_eq!(gdal_type(cog.sample_type), r["type"], "{name}");
        let block = size(&r["block"]);
        assert_eq!(
            (cog.levels[0].block_width, cog.levels[0].block_height),
            block,
            "{name}"
        );
        let overviews: Vec<(u32, u32)> = r["overviews"]
            .as_array()
            .unwrap()
            .iter()
            .map(size)
            .collect();
        let ours: Vec<(u32, u32)> = cog.levels[1..]
            .iter()
            .map(|l| (l.width, l.height))
            .collect();
        assert_eq!(ours, overviews, "{name}: overviews");
        let gt: Vec<f64> = serde_json::from_value(r["geotransform"].clone()).unwrap();
        let ours = cog
            .geotransform
            .unwrap_or_else(|| panic!("{name}: no geotransform"));
        for (a, b) in ours.iter().zip(&gt) {
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{name}: geotransform {ours:?} vs {gt:?}"
            );
        }
        assert_eq!(cog.epsg.map(u64::from), r["epsg"].as_u64(), "{name}: EPSG");
        assert_eq!(cog.nodata, r["nodata"].as_f64(), "{name}: nodata");

        check_window(&cog, 0, &r["full"], name, how);
        if let Some(mask) = r.get("mask_sha256") {
            // The whole mask, block by block, row by row.
            let l = &cog.levels[0];
            let (w, h) = (l.width as usize, l.height as usize);
            let mut full = vec![0u8; w * h];
            let (across, down) = l.blocks();
            for by in 0..down {
                for bx in 0..across {
                    let block = cog.read_mask_block(0, bx, by).unwrap().expect("a mask");
                    for y in 0..block.rows {
                        for x in 0..block.width {
                            let (gx, gy) =
                                (bx as usize * block.width + x, by as usize * block.rows + y);
                            if gx < w && gy < h {
                                full[gy * w + gx] = block.data[y * block.width + x];
                            }
                        }
                    }
                }
            }
            assert_eq!(sha256(&full), *mask, "{name}: mask differs from GDAL's");
            assert!(
                full.contains(&0) && full.contains(&255),
                "{name}: mask is uniform"
            );
        }
        if let Some(overview) = r.get("smallest_overview") {
            check_window(&cog, cog.levels.len() - 1, overview, name, how);
        }
        compared += 1;
    }
    assert_eq!(compared, 29, "files compared");
}

/// Issue 12: a JPEG variant GDAL writes that is not read (CMYK, which GDAL
/// converts to RGB on read) is refused when the file opens, by name, and
/// its layer is disabled, rather than answering 500 for every tile.
#[test]
fn jpeg_cmyk_geotiffs_are_refused_at_open_by_name_issue_12() {
    let ctx = SourceContext::new(1 << 20);
    let path = fixture("jpeg_cmyk.tif");
    let Err(error) = Cog::open(&path, Arc::clone(&ctx)) else {
        panic!("a CMYK JPEG opened");
    };
    let message = error.to_string();
    assert_eq!(error.kind(), ErrorKind::Unsupported, "{message}");
    assert!(
        message.contains("jpeg_cmyk.tif") && message.contains("CMYK"),
        "{message}"
    );
    let spec = LayerSpec {
        path,
        ..LayerSpec::default()
    };
    let (catalog, failures) = Catalog::load(vec![spec], &ctx);
    assert!(catalog.is_empty());
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].id, "jpeg_cmyk");
    assert!(failures[0].error.to_string().contains("CMYK"));
}

#[test]
fn truncated_and_bit_flipped_geotiffs_never_panic() {
    let dir = std::env::temp_dir().join(format!("tuilerie-hostile-tiff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ctx = SourceContext::new(1 << 20);
    let mut rng = XorShift(0x005E_ED0F_7155);
    for name in [
        "rgba8_cog.tiff",
        "rgba8_cog_big.tiff",
        "cog_uint8_rgb_nodata.tif",
        "web.tif",
        "cog_uint8_rgb_nodata_lerc.tif",
    ] {
        let original = std::fs::read(samples().join("cog").join(name)).unwrap();
        let path = dir.join(name);
        for round in 0..200 {
            let mut bytes = original.clone();
            if round % 3 == 0 {
                bytes.truncate(rng.next_u64() as usize % bytes.len());
            } else {
                // Most structure sits in the first kilobytes.
                for _ in 0..1 + rng.next_u64() % 4 {
                    let at = rng.next_u64() as usize % bytes.len().min(4096);
                    bytes[at] = rng.next_u64() as u8;
                }
            }
            std::fs::write(&path, &bytes).unwrap();
            // Any error is fine; a panic fails the test.
            if let Ok(cog) = Cog::open(&path, Arc::clone(&ctx)) {
                for (level, l) in cog.levels.iter().enumerate() {
                    let (across, down) = l.blocks();
                    for row in 0..down.min(2) {
                        for col in 0..across.min(2) {
                            let _ = cog.read_block(level, col, row);
                        }
                    }
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
