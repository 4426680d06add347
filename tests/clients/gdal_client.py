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
4. WMS: GDAL's WMS driver (a service description, one GetMap of the
   window) reads a map of one layer of each kind -- COG, GeoPackage tile
   pyramid, raster MBTiles, GeoPackage features -- in WMS 1.3.0 (EPSG:4326,
   latitude first) or 1.1.1 (EPSG:3857); each is compared with GDAL's own
   bilinear warp of the file (features: gdal.Rasterize of the table) within
   the tolerances of image_compare.py, and the same comparison must fail
   for the map of a box shifted by a few pixels and for a blank image.
   GDAL's own URL syntax (WMS:<GetMap URL>) is read the same way.

    /usr/bin/python3 tests/clients/gdal_client.py http://127.0.0.1:8080
"""
import gzip
import sqlite3
import sys
import tempfile
from pathlib import Path

import numpy
from osgeo import gdal, ogr

import image_compare as ic

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


WMS = """<GDAL_WMS>
  <Service name="WMS"><Version>{version}</Version><ServerUrl>{base}/wms?</ServerUrl>
    <{crs_key}>{crs}</{crs_key}>{order}<ImageFormat>image/png</ImageFormat><Transparent>TRUE</Transparent>
    <Layers>{layer}</Layers></Service>
  <DataWindow><UpperLeftX>{x0}</UpperLeftX><UpperLeftY>{y1}</UpperLeftY>
    <LowerRightX>{x1}</LowerRightX><LowerRightY>{y0}</LowerRightY>
    <SizeX>{w}</SizeX><SizeY>{h}</SizeY></DataWindow>
  <BlockSizeX>{w}</BlockSizeX><BlockSizeY>{h}</BlockSizeY><BandsCount>4</BandsCount>
</GDAL_WMS>"""

# layer, file GDAL reads, WMS version, CRS, box (easting first) or None for
# the layer's whole extent in that CRS. One of each kind: COG (UTM 13N,
# reprojected), GeoPackage tile pyramid (EPSG:4326), raster MBTiles
# (EPSG:3857), GeoPackage features (EPSG:4326 polygons).
WMS_RASTERS = [
    ("cog_rgb", "cog/cog_rgb.tif", "1.3.0", "EPSG:4326", None),
    ("cog_rgb", "cog/cog_rgb.tif", "1.1.1", "EPSG:26913", (519470, 4311640, 519520, 4311665)),
    ("small_world_and_byte", "GPKG:{s}/gpkg/small_world_and_byte.gpkg:small_world_and_byte",
     "1.1.1", "EPSG:3857", (-1500000, 4000000, 3500000, 9000000)),
    ("geography-class-png", "geography-class-png.mbtiles", "1.3.0", "EPSG:4326", (-20, 30, 40, 70)),
]
WMS_FEATURES = ("countries", "gpkg/ne_110m_countries.gpkg", "countries", "1.3.0", "EPSG:4326", (-30, 25, 50, 75))


def wms_map(base, layer, version, crs, bbox, width, height):
    """RGBA of one GetMap read through GDAL's WMS driver. In 1.3.0 a
    latitude-first CRS takes its BBOX latitude first: GDAL's own URL
    syntax (WMS:http://...) sets the same BBoxOrder for such a CRS."""
    lat_first = version == "1.3.0" and ic.srs(crs).EPSGTreatsAsLatLong()
    xml = WMS.format(version=version, base=base, crs_key="CRS" if version == "1.3.0" else "SRS",
                     crs=crs, order="<BBoxOrder>yxYX</BBoxOrder>" if lat_first else "",
                     layer=layer, x0=bbox[0], y0=bbox[1], x1=bbox[2], y1=bbox[3], w=width, h=height)
    ds = gdal.Open(xml)
    assert (ds.RasterXSize, ds.RasterYSize, ds.RasterCount) == (width, height, 4)
    return ds.ReadAsArray()


def extent(source, crs):
    """The extent of `source` warped to `crs`, easting first."""
    ds = gdal.Warp("", source, format="VRT", dstSRS=ic.srs(crs))
    gt = ds.GetGeoTransform()
    return (gt[0], gt[3] + gt[5] * ds.RasterYSize, gt[0] + gt[1] * ds.RasterXSize, gt[3])


def check_wms(base):
    size = 256
    lines = []
    for layer, path, version, crs, bbox in WMS_RASTERS:
        source = path.format(s=SAMPLES) if path.startswith("GPKG:") else str(SAMPLES / path)
        bbox = bbox or extent(source, crs)
        what = f"{layer} WMS {version} {crs}"
        reference = ic.warped(source, crs, bbox, size, size)
        numbers = ic.compare(wms_map(base, layer, version, crs, bbox, size, size), reference)
        why = ic.failures(numbers)
        assert not why, f"{what} {bbox}: differs from GDAL's warp of {path}: {'; '.join(why)}"
        # The comparison can fail: a box three pixels east, a blank map.
        moved = ic.compare(wms_map(base, layer, version, crs, ic.shifted(bbox, 3, size), size, size), reference)
        assert ic.failures(moved), f"{what}: a box shifted by 3 px passes too ({ic.summary(moved)})"
        assert ic.failures(ic.compare(numpy.zeros_like(reference), reference))
        lines.append(f"  {what}: {ic.summary(numbers)}; shifted 3 px: {ic.summary(moved)}")

    # GDAL's own URL syntax (WMS:<GetMap URL>): it reads the 1.3.0 BBOX of
    # EPSG:4326 latitude first, georeferences the dataset from it, asks
    # for a map at the overview level the read needs and resamples it.
    layer, path, bbox, w, h = "geography-class-png", "geography-class-png.mbtiles", (-20, 30, 40, 70), 240, 160
    reference = ic.warped(str(SAMPLES / path), "EPSG:4326", bbox, w, h)
    for shift in (0, 3):
        b = ic.shifted(bbox, shift, w)
        ds = gdal.Open(f"WMS:{base}/wms?SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layer}"
                       f"&CRS=EPSG:4326&BBOX={b[1]},{b[0]},{b[3]},{b[2]}&FORMAT=image/png&TRANSPARENT=TRUE")
        gt = ds.GetGeoTransform()
        read_box = (gt[0], gt[3] + gt[5] * ds.RasterYSize, gt[0] + gt[1] * ds.RasterXSize, gt[3])
        assert all(abs(x - y) < 1e-6 for x, y in zip(read_box, b)), f"WMS: URL: GDAL reads the BBOX as {read_box}, not {b}"
        read = ds.ReadAsArray(buf_xsize=w, buf_ysize=h, resample_alg=gdal.GRIORA_Bilinear)
        numbers = ic.compare(ic.rgba(read), reference)
        # Two resamplings (the server's map at the overview GDAL asks for,
        # then GDAL's bilinear read down to w x h): 95 % within 8 levels.
        why = ic.failures(numbers, ic.MAX_MEAN_DIFF, 0.95)
        if shift == 0:
            assert not why, f"WMS: URL {layer}: differs from GDAL's warp of {path}: {'; '.join(why)}"
            lines.append(f"  {layer} via WMS:<GetMap URL> 1.3.0 EPSG:4326 read at {w}x{h}: {ic.summary(numbers)}")
        else:
            assert why, f"WMS: URL {layer}: a box shifted by {shift} px passes too ({ic.summary(numbers)})"
            lines.append(f"    shifted {shift} px: {ic.summary(numbers)}")

    # Features at 512 px: the drawn outline widens the polygons by about a
    # pixel, which costs 3 % of agreement at 256 px over this box.
    size = 512
    layer, path, table, version, crs, bbox = WMS_FEATURES
    mask = ic.rasterized(str(SAMPLES / path), table, crs, bbox, size, size)
    served = wms_map(base, layer, version, crs, bbox, size, size)
    agree, ours, theirs = ic.coverage(served, mask)
    what = f"{layer} WMS {version} {crs} {bbox}"
    assert 0.05 < ours < 0.95, f"{what}: {ours:.1%} of the map is covered: blank or full"
    assert agree >= ic.MIN_COVERAGE_AGREEMENT, (
        f"{what}: covered/not agrees with gdal.Rasterize on {agree:.2%} < {ic.MIN_COVERAGE_AGREEMENT:.0%}"
        f" (covered: ours {ours:.1%}, GDAL {theirs:.1%})")
    moved_agree, _, _ = ic.coverage(wms_map(base, layer, version, crs, ic.shifted(bbox, 24, size), size, size), mask)
    assert moved_agree < ic.MIN_COVERAGE_AGREEMENT, f"{what}: a box shifted by 24 px agrees on {moved_agree:.2%} too"
    lines.append(f"  {layer} WMS {version} {crs}: coverage agreement with gdal.Rasterize {agree:.2%} "
                 f"(covered: ours {ours:.1%}, GDAL {theirs:.1%}); shifted 24 px: {moved_agree:.2%}")
    return "wms: GDAL's WMS driver, maps against GDAL's reading of the files\n" + "\n".join(lines)


if __name__ == "__main__":
    base = sys.argv[1].rstrip("/")
    print(check_raster(base))
    print(check_vector(base))
    print(check_wmts(base))
    print(check_wms(base))
