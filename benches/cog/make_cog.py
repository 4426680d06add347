#!/usr/bin/python3
"""Build the raster benchmark's COG reproducibly (no download, no randomness
beyond a fixed seed): 16384 x 16384 RGB, JPEG (YCbCr, quality 85), 512-pixel
blocks, internal overviews, in Lambert-93 (EPSG:2154) at 0.5 m over
Lyon (x 840 000 .. 848 192, y 6 516 000 .. 6 524 192).

The pixels are smooth colour gradients with seeded noise and a grid of
"parcels", so JPEG blocks compress like an orthophoto's (≈ 10:1) rather
than like a flat colour.

    /usr/bin/python3 benches/cog/make_cog.py [OUT]   # default target/bench/ortho_l93.tif
"""
import sys
from pathlib import Path

import numpy
from osgeo import gdal

gdal.UseExceptions()
SIZE, BLOCK = 16384, 512
X0, Y0, RES = 840_000.0, 6_524_192.0, 0.5


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "target" / "bench" / "ortho_l93.tif"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp.tif")
    ds = gdal.GetDriverByName("GTiff").Create(str(tmp), SIZE, SIZE, 3, gdal.GDT_Byte,
                                              ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=LZW"])
    ds.SetGeoTransform([X0, RES, 0, Y0, 0, -RES])
    ds.SetProjection("EPSG:2154")
    rng = numpy.random.default_rng(2154)
    noise = rng.integers(-24, 24, size=(BLOCK, BLOCK), dtype=numpy.int16)
    for by in range(0, SIZE, BLOCK):
        for bx in range(0, SIZE, BLOCK):
            y, x = numpy.mgrid[by:by + BLOCK, bx:bx + BLOCK]
            parcels = ((x // 173 + y // 211) % 5) * 18
            for band, phase in enumerate((0, 2000, 4000)):
                v = 90 + 60 * numpy.sin((x + phase) / 1400.0) * numpy.cos((y - phase) / 1900.0) + parcels + noise
                ds.GetRasterBand(band + 1).WriteArray(numpy.clip(v, 0, 255).astype(numpy.uint8), bx, by)
    ds = None
    gdal.Translate(str(out), str(tmp), format="COG",
                   creationOptions=["COMPRESS=JPEG", "QUALITY=85", "BLOCKSIZE=512", "OVERVIEWS=AUTO",
                                    "OVERVIEW_RESAMPLING=AVERAGE"])
    tmp.unlink()
    print(out, out.stat().st_size)


if __name__ == "__main__":
    main()
