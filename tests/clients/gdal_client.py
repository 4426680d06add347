#!/usr/bin/python3
"""GDAL as a client of a running Tuilerie (Debian's gdal-bin and python3-gdal).

1. Raster: GDAL's WMS driver in TMS mode reads the XYZ tiles of the
   geography-class-png layer as one 512x512 image (zoom 1); its pixels must
   equal what GDAL's own MBTiles driver reads from the same archive file,
   so tile placement (XYZ rows, north first) is checked end to end.
2. Vector: GDAL's MVT driver reads tiles of the world_cities layer over
   HTTP; every layer, feature and geometry must equal what the same driver
   reads from the tile bytes taken from the MBTiles with sqlite3.
3. WMTS: GDAL's WMTS driver reads the capabilities and, at tile matrix 18
   of WebMercatorQuad, a window of a GeoTIFF layer equal to its XYZ tile:
   layer, limits, TopLeftCorner, scales and row/column order agree.

    /usr/bin/python3 tests/clients/gdal_client.py http://127.0.0.1:8080
"""
import gzip
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy
from osgeo import gdal, ogr

gdal.UseExceptions()
SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"

TMS = """<GDAL_WMS>
  <Service name="TMS"><ServerUrl>{base}/{layer}/${{z}}/${{x}}/${{y}}.png</ServerUrl></Service>
  <DataWindow>
    <UpperLeftX>-20037508.342789244</UpperLeftX><UpperLeftY>20037508.342789244</UpperLeftY>
    <LowerRightX>20037508.342789244</LowerRightX><LowerRightY>-20037508.342789244</LowerRightY>
    <TileLevel>{z}</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>
    <YOrigin>top</YOrigin>
  </DataWindow>
  <Projection>EPSG:3857</Projection>
  <BlockSizeX>256</BlockSizeX><BlockSizeY>256</BlockSizeY><BandsCount>{bands}</BandsCount>
  <ZeroBlockHttpCodes>204,404</ZeroBlockHttpCodes>
</GDAL_WMS>"""


def check_raster(base):
    reference = gdal.Open(str(SAMPLES / "geography-class-png.mbtiles"))
    bands = reference.RasterCount
    served = gdal.Open(TMS.format(base=base, layer="geography-class-png", z=1, bands=bands))
    assert (served.RasterXSize, served.RasterYSize) == (512, 512), served.RasterXSize
    ours = served.ReadAsArray(0, 0, 512, 512)
    theirs = reference.ReadAsArray(0, 0, 512, 512)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    differing = numpy.count_nonzero(ours != theirs)
    assert differing == 0, f"{differing} samples differ from GDAL's MBTiles reading"
    # And the image is not blank: the four quadrants differ.
    quads = [ours[:, y:y + 256, x:x + 256] for y in (0, 256) for x in (0, 256)]
    assert len({q.tobytes() for q in quads}) == 4
    return f"raster: GDAL TMS read of 512x512 x {bands} bands equals GDAL's MBTiles read"


def features(path):
    """Every layer of an MVT dataset: name -> sorted (geometry WKT, fields)."""
    ds = ogr.Open(path)
    out = {}
    for i in range(ds.GetLayerCount()):
        layer = ds.GetLayer(i)
        out[layer.GetName()] = sorted(
            (f.GetGeometryRef().ExportToWkt(), str(sorted(f.items().items()))) for f in layer
        )
    return out


def check_vector(base):
    db = sqlite3.connect(f"file:{SAMPLES / 'world_cities.mbtiles'}?mode=ro", uri=True)
    rows = db.execute("SELECT zoom_level, tile_column, tile_row, tile_data FROM tiles WHERE zoom_level IN (2, 4) ORDER BY 1, 2, 3").fetchall()
    total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for z, x, row, data in rows:
            y = (1 << z) - 1 - row
            # The MVT driver georeferences a tile from its z/x/y path.
            path = Path(tmp) / str(z) / str(x) / f"{y}.pbf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(gzip.decompress(data))
            reference = features(f"MVT:{path}")
            served = features(f"MVT:{base}/world_cities/{z}/{x}/{y}.pbf")
            assert served == reference, f"{z}/{x}/{y}: GDAL reads different features"
            total += sum(len(v) for v in served.values())
    assert total > 0
    return f"vector: {len(rows)} tiles, {total} features identical to the MBTiles' own tiles"


def check_wmts(base):
    import urllib.request

    half = 20037508.342789244
    z, x, y = 18, 42710, 97342
    ds = gdal.Open(f"WMTS:{base}/wmts/1.0.0/WMTSCapabilities.xml,layer=usda_naip_256_lzw_z3,"
                   f"tilematrixset=WebMercatorQuad,tilematrix={z}")
    gt = ds.GetGeoTransform()
    size = 2 * half / (1 << z)
    xoff = round((-half + x * size - gt[0]) / gt[1])
    yoff = round((half - y * size - gt[3]) / gt[5])
    wmts = ds.ReadAsArray(xoff, yoff, 256, 256)
    with urllib.request.urlopen(f"{base}/usda_naip_256_lzw_z3/{z}/{x}/{y}.png") as r:
        gdal.FileFromMemBuffer("/vsimem/xyz.png", r.read())
    xyz = gdal.Open("/vsimem/xyz.png").ReadAsArray()
    assert wmts.shape == xyz.shape, (wmts.shape, xyz.shape)
    assert numpy.array_equal(wmts, xyz), f"{numpy.count_nonzero(wmts != xyz)} samples differ"
    assert numpy.count_nonzero(xyz[3]) > 0, "the tile is empty"
    return f"wmts: GDAL's WMTS read of {z}/{x}/{y} equals the XYZ tile"


if __name__ == "__main__":
    base = sys.argv[1].rstrip("/")
    print(check_raster(base))
    print(check_vector(base))
    print(check_wmts(base))
