#!/usr/bin/env python3
"""OWSLib (PyPI OWSLib) as a WMTS and WMS client of a running Tuilerie.

WMTS: it parses the capabilities (KVP and RESTful), finds every layer and
set, and its GetTile (KVP) returns the bytes of the XYZ tile.

WMS, 1.1.1 and 1.3.0 through `WebMapService`:
- capabilities: the layers are the catalog's; CRS offered; the bounding
  boxes (OWSLib turns 1.3.0's latitude-first EPSG:4326 boxes easting
  first) equal GDAL's extent of the files, in WGS 84 and in the data's
  own CRS;
- GetMap: for one layer of each kind a PNG that decodes, of the asked
  size, not blank; the 1.3.0 map (OWSLib swaps the EPSG:4326 BBOX) is the
  1.1.1 map pixel for pixel;
- GetFeatureInfo: text/plain and application/json for `countries` at a
  pixel over France (a feature named France, and not at a pixel over the
  sea), and for the Lambert-93 DEM band values equal to GDAL's at the
  pixel's centre within 1e-3;
- GetLegendGraphic through each layer's LegendURL: a PNG of the size the
  capabilities state.

GDAL's answers come from /usr/bin/python3 (Debian's GDAL), run aside:
this Python has OWSLib, that one osgeo.

    python3 tests/clients/owslib_client.py http://127.0.0.1:8080
"""
import io
import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import numpy
from PIL import Image
from owslib.wms import WebMapService
from owslib.wmts import WebMapTileService

SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"
DEM = "ign_mns_hydro_0299_L93_float32_deflate_pred3_cog"
# One layer of each kind: COG, GeoPackage tile pyramid, GeoPackage
# features, raster MBTiles, raster PMTiles; the file GDAL reads for its
# extent (None: GDAL 3.6 has no PMTiles driver).
KINDS = {
    "cog_rgb": "cog/cog_rgb.tif",
    "small_world_and_byte": "GPKG:{s}/gpkg/small_world_and_byte.gpkg:small_world_and_byte",
    "countries": "gpkg/ne_110m_countries.gpkg",
    "geography-class-png": "geography-class-png.mbtiles",
    "stamen_toner_raster_z3": None,
    DEM: f"cog/{DEM}.tif",
}
# A box in a layer's extent for its GetMap (EPSG:4326, easting first).
MAP_BOXES = {
    "cog_rgb": (-104.7752, 38.9535, -104.7748, 38.9537),
    "small_world_and_byte": (-20.0, 30.0, 40.0, 70.0),
    "countries": (-20.0, 30.0, 40.0, 70.0),
    "geography-class-png": (-20.0, 30.0, 40.0, 70.0),
    "stamen_toner_raster_z3": (-20.0, 30.0, 40.0, 70.0),
}


def gdal(code, *args):
    """What a snippet run by Debian's Python with osgeo prints, as JSON."""
    out = subprocess.run(["/usr/bin/python3", "-c", "import json, sys\nfrom osgeo import gdal, ogr, osr\n"
                          "gdal.UseExceptions()\n" + code, *map(str, args)],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


EXTENTS = """
# The extent of each file, easting first: in WGS 84 (the outline densified
# by GDAL's TransformBounds) and in its own CRS.
out = {}
for name, path in json.loads(sys.argv[1]).items():
    if path.endswith(".gpkg"):
        ds = ogr.Open(path)  # kept: the layer and its SRS live in it
        layer = ds.GetLayer(0)
        x0, x1, y0, y1 = layer.GetExtent()
        srs = layer.GetSpatialRef().Clone()
        width = None
    else:
        ds = gdal.Open(path)
        gt = ds.GetGeoTransform()
        x0, y1 = gt[0], gt[3]
        x1, y0 = x0 + gt[1] * ds.RasterXSize, y1 + gt[5] * ds.RasterYSize
        srs = ds.GetSpatialRef().Clone()
        width = ds.RasterXSize
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    wgs84 = osr.SpatialReference()
    wgs84.ImportFromEPSG(4326)
    wgs84.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    ct = osr.CoordinateTransformation(srs, wgs84)
    geo = ct.TransformBounds(x0, y0, x1, y1, 21)
    code = srs.GetAuthorityCode(None)
    # A hundredth of a pixel in degrees (1e-6 degrees for features).
    tolerance = (geo[2] - geo[0]) / width / 100 if width else 1e-6
    out[name] = {"wgs84": geo, "native": [x0, y0, x1, y1], "crs": f"EPSG:{code}", "tolerance": tolerance}
print(json.dumps(out))
"""

VALUES = """
# Band 1 of a raster at points given in its own CRS, as gdallocationinfo
# reads it (the pixel containing the point).
ds = gdal.Open(sys.argv[1])
gt = ds.GetGeoTransform()
band = ds.GetRasterBand(1)
out = []
for x, y in json.loads(sys.argv[2]):
    col, row = int((x - gt[0]) / gt[1]), int((y - gt[3]) / gt[5])
    out.append(float(band.ReadAsArray(col, row, 1, 1)[0, 0]))
print(json.dumps(out))
"""


def check_wmts(base, catalog_ids):
    for url in (f"{base}/wmts", f"{base}/wmts/1.0.0/WMTSCapabilities.xml"):
        wmts = WebMapTileService(url, version="1.0.0")
        assert sorted(wmts.contents) == catalog_ids, (sorted(wmts.contents), catalog_ids)
        assert "WebMercatorQuad" in wmts.tilematrixsets
        layer = wmts.contents["usda_naip_256_lzw_z3"]
        assert "WorldCRS84Quad" in layer.tilematrixsetlinks
        limits = layer.tilematrixsetlinks["WebMercatorQuad"].tilematrixlimits["18"]
        assert (limits.mintilerow, limits.maxtilerow, limits.mintilecol, limits.maxtilecol) == (97340, 97347, 42708, 42711), limits
        z18 = wmts.tilematrixsets["WebMercatorQuad"].tilematrix["18"]
        assert z18.matrixwidth == 262144 and abs(z18.topleftcorner[0] + 20037508.342789244) < 1e-6
    tile = wmts.gettile(layer="usda_naip_256_lzw_z3", tilematrixset="WebMercatorQuad", tilematrix="18",
                        row=97342, column=42710, format="image/png").read()
    xyz = urllib.request.urlopen(f"{base}/usda_naip_256_lzw_z3/18/42710/97342.png").read()
    assert tile == xyz, "OWSLib's GetTile differs from the XYZ tile"
    return f"owslib wmts: {len(catalog_ids)} layers, limits and GetTile agree"


def close(a, b, tolerance):
    return all(abs(x - y) <= tolerance for x, y in zip(a, b))


def check_capabilities(wms, version, catalog_ids, extents):
    assert wms.identification.version == version, wms.identification.version
    assert sorted(wms.contents) == catalog_ids, set(wms.contents) ^ set(catalog_ids)
    ops = {op.name for op in wms.operations}
    assert {"GetCapabilities", "GetMap", "GetFeatureInfo"} <= ops, ops
    for name, extent in extents.items():
        layer = wms[name]
        assert layer.queryable, f"{version} {name}: not queryable"
        for crs in ("EPSG:4326", "EPSG:3857", extent["crs"]):
            assert crs in layer.crsOptions, f"{version} {name}: {crs} not offered: {layer.crsOptions}"
        if version == "1.3.0":
            assert "CRS:84" in layer.crsOptions, layer.crsOptions
        # The WGS 84 box: a raster's outline densified, to a hundredth of
        # a pixel (features: 1e-6 degrees); a pyramid's box stops at
        # WebMercator's latitude, 85.05°.
        wgs84 = extent["wgs84"]
        if name == "small_world_and_byte":
            wgs84 = [wgs84[0], max(wgs84[1], -85.0511287798066), wgs84[2], min(wgs84[3], 85.0511287798066)]
        got = layer.boundingBoxWGS84
        tolerance = extent["tolerance"]
        assert close(got, wgs84, tolerance), f"{version} {name}: WGS 84 box {got}, GDAL says {wgs84}"
        if version == "1.3.0":
            # OWSLib has turned the latitude-first EPSG:4326 box around.
            boxes = {b[4]: b[:4] for b in layer.crs_list}
            assert close(boxes["EPSG:4326"], wgs84, tolerance), f"{name}: EPSG:4326 box {boxes['EPSG:4326']} vs {wgs84}"
            assert close(boxes["CRS:84"], wgs84, tolerance), f"{name}: CRS:84 box {boxes['CRS:84']} vs {wgs84}"
            # The box in the data's own CRS is its extent, to a hundredth
            # of a pixel (not the WGS 84 box transformed back, a box around
            # a box, wider).
            if extent["crs"] not in ("EPSG:4326", "EPSG:3857"):
                native = extent["native"]
                pixel = (native[2] - native[0]) / 100
                assert close(boxes[extent["crs"]], native, pixel / 100), (
                    f"{name}: {extent['crs']} box {boxes[extent['crs']]}, GDAL's extent {native}")
    return f"{len(wms.contents)} layers, CRS and boxes of {len(extents)} layers agree with GDAL"


def png(response, what):
    data = response.read()
    kind = response.info()["Content-Type"]
    assert kind == "image/png", f"{what}: Content-Type {kind!r}: {data[:200]!r}"
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def check_getmap(maps, base):
    out = []
    w, h = 300, 200
    for name, box in MAP_BOXES.items():
        arrays = {}
        for version, wms in maps.items():
            image = png(wms.getmap(layers=[name], styles=[""], srs="EPSG:4326", bbox=box, size=(w, h),
                                   format="image/png", transparent=True), f"GetMap {version} {name}")
            assert image.size == (w, h), f"{version} {name}: {image.size} for {(w, h)}"
            rgba = numpy.asarray(image.convert("RGBA"))
            drawn = rgba[..., 3] > 0
            colours = len(numpy.unique(rgba[drawn][:, :3], axis=0))
            assert drawn.mean() > 0.05 and colours > 1, (
                f"{version} {name}: blank map ({drawn.mean():.1%} drawn, {colours} colours)")
            arrays[version] = rgba
        differ = numpy.count_nonzero(arrays["1.1.1"] != arrays["1.3.0"])
        assert differ == 0, f"{name}: the 1.3.0 map (BBOX latitude first) differs from 1.1.1's in {differ} samples"
        out.append(name)
    return f"GetMap {w}x{h} PNGs of {', '.join(out)}: decoded, sized, not blank, 1.1.1 = 1.3.0"


def feature_info(wms, version, layer, crs, bbox, size, xy, info_format):
    response = wms.getfeatureinfo(layers=[layer], styles=[""], srs=crs, bbox=bbox, size=size,
                                  format="image/png", query_layers=[layer], xy=xy,
                                  info_format=info_format, feature_count=5)
    kind = response.info()["Content-Type"]
    body = response.read().decode()
    assert kind.split(";")[0].strip() == info_format, (
        f"GetFeatureInfo {version} {layer} {info_format}: Content-Type {kind!r}: {body[:300]}")
    return json.loads(body) if info_format == "application/json" else body


def check_featureinfo(maps):
    # Countries: a 150x100 map of -5..10°E, 40..50°N; the pixel of 2.5°E,
    # 46.5°N is in France, that of -4°E, 45°N in the Bay of Biscay.
    bbox, size = (-5.0, 40.0, 10.0, 50.0), (150, 100)

    def pixel(lon, lat):
        return (int((lon - bbox[0]) / (bbox[2] - bbox[0]) * size[0]),
                int((bbox[3] - lat) / (bbox[3] - bbox[1]) * size[1]))

    for version, wms in maps.items():
        text = feature_info(wms, version, "countries", "EPSG:4326", bbox, size, pixel(2.5, 46.5), "text/plain")
        assert "France" in text, f"{version}: text/plain at 2.5°E 46.5°N names no France:\n{text}"
        found = feature_info(wms, version, "countries", "EPSG:4326", bbox, size, pixel(2.5, 46.5), "application/json")
        names = [f["properties"].get("name") for f in found["features"]]
        assert names == ["France"], f"{version}: JSON at 2.5°E 46.5°N has features {names}"
        sea = feature_info(wms, version, "countries", "EPSG:4326", bbox, size, pixel(-4.0, 45.0), "application/json")
        assert sea["features"] == [], f"{version}: JSON in the Bay of Biscay has {len(sea['features'])} features"

    # The DEM: a 200x200 map of its Lambert-93 extent (one map pixel per
    # file pixel), band 1 at a few pixels against GDAL's value there.
    extent = gdal(EXTENTS, json.dumps({DEM: str(SAMPLES / KINDS[DEM])}))[DEM]["native"]
    size = (200, 200)
    pixels = [(37, 61), (0, 0), (199, 199), (120, 15)]
    cell = ((extent[2] - extent[0]) / size[0], (extent[3] - extent[1]) / size[1])
    centres = [(extent[0] + (i + 0.5) * cell[0], extent[3] - (j + 0.5) * cell[1]) for i, j in pixels]
    theirs = gdal(VALUES, SAMPLES / KINDS[DEM], json.dumps(centres))
    worst = 0.0
    for version, wms in maps.items():
        for (i, j), value in zip(pixels, theirs):
            found = feature_info(wms, version, DEM, "EPSG:2154", tuple(extent), size, (i, j), "application/json")
            assert len(found["features"]) == 1, f"{version} DEM at {i},{j}: {found}"
            ours = float(found["features"][0]["properties"]["band_1"])
            assert abs(ours - value) <= 1e-3, f"{version} DEM pixel {i},{j}: band_1 {ours}, GDAL {value}"
            worst = max(worst, abs(ours - value))
            text = feature_info(wms, version, DEM, "EPSG:2154", tuple(extent), size, (i, j), "text/plain")
            assert "band_1" in text and f"{ours}"[:6] in text, f"{version} DEM text/plain at {i},{j}:\n{text}"
    return (f"GetFeatureInfo: France found (text/plain, JSON), none at sea; DEM band_1 at {len(pixels)} "
            f"pixels equals GDAL's, largest difference {worst:g}")


def check_legends(maps):
    count = 0
    for version, wms in maps.items():
        for name in KINDS:
            style = wms[name].styles["default"]
            url = style["legend"]
            with urllib.request.urlopen(url) as response:
                image = png(response, f"{version} {name} legend {url}")
            if "legend_width" in style:
                stated = (int(style["legend_width"]), int(style["legend_height"]))
                assert image.size == stated, f"{version} {name}: legend {image.size}, capabilities say {stated}"
            count += 1
    return f"{count} legends from LegendURL: PNGs of the stated size"


def main(base):
    catalog_ids = sorted(json.loads(urllib.request.urlopen(f"{base}/catalog").read())["tiles"])
    print(check_wmts(base, catalog_ids))

    paths = {name: (p.format(s=SAMPLES) if p.startswith("GPKG:") else str(SAMPLES / p))
             for name, p in KINDS.items() if p}
    extents = gdal(EXTENTS, json.dumps(paths))
    maps = {version: WebMapService(f"{base}/wms", version=version) for version in ("1.1.1", "1.3.0")}
    for version, wms in maps.items():
        print(f"owslib wms {version}: {check_capabilities(wms, version, catalog_ids, extents)}")
    print(f"owslib wms: {check_getmap(maps, base)}")
    print(f"owslib wms: {check_featureinfo(maps)}")
    print(f"owslib wms: {check_legends(maps)}")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
