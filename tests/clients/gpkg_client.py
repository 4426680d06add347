#!/usr/bin/python3
"""GeoPackage layers read back by GDAL against a running Tuilerie.

Vector tiles made on the fly are decoded by GDAL's MVT driver (georeferenced
by the tile's z/x/y) and compared with what GDAL's GeoPackage driver reads
from the same file, reprojected to EPSG:3857 and clipped to the tile plus
its buffer:
- every feature in the tile exists in the file, with the same attributes;
- every feature of the file that covers more than a few tile units of the
  clipped tile is in the tile;
- geometries agree within the quantisation and simplification tolerance:
  every vertex of ours within 1.5 units of the file's geometry, and the
  area between polygon outlines no more than a 1.5-unit band along them.
The same checks run on tiles of other tile matrix sets (WorldCRS84Quad, a
UTM set), whose bounds come from the server's own /tileMatrixSets JSON:
there the file's features are reprojected by GDAL into the set's CRS.
Curves (curves_and_broken.gpkg, issue 12) are linearized by GDAL at a
0.1° step, fine enough to be the true arc at the zooms asked; the features
of its `broken` table that cannot be decoded must be absent from the tiles
(GDAL reads some of them as NULL, others as rings of one or three points).
Tile pyramids on the WebMercatorQuad grid must come back byte for byte as
stored (read here with Python's sqlite3).

    /usr/bin/python3 tests/clients/gpkg_client.py http://127.0.0.1:8080 [data-samples]
"""
import hashlib
import json
import math
import re
import sqlite3
import sys
import urllib.request
from pathlib import Path

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
HALF = 20037508.342789244
EXTENT, BUFFER = 4096, 64
# Features of curves_and_broken.gpkg's `broken` table that cannot be decoded.
UNDECODABLE = {2, 3, 4, 5, 7}
# (file, table, tiles): z0 and tiles that cut the data.
CASES = [
    ("curves_and_broken.gpkg", "curves", [(10, 518, 351), (10, 518, 352), (13, 4148, 2816), (16, 33190, 22534)]),
    ("curves_and_broken.gpkg", "broken", [(10, 518, 352), (12, 2074, 1409), (12, 2075, 1409)]),
    # Issue 12: the tiles at the east edge of the world (and one west of it).
    ("ne_110m_countries.gpkg", "countries", [(1, 1, 1), (1, 1, 0), (2, 3, 2), (3, 7, 4), (1, 0, 1)]),
    ("ynp_fires_1984_2022.gpkg", "mtbs_perims", [(0, 0, 0), (8, 49, 92), (10, 197, 370)]),
    ("rivers.gpkg", "FEATURESriversds", [(0, 0, 0), (3, 2, 3)]),
    ("geometrycollection.gpkg", "test", [(0, 0, 0)]),
    ("gdal_sample_v1.2_spatial_index_extension.gpkg", "point2d", [(0, 0, 0)]),
    ("gdal_sample_v1.2_spatial_index_extension.gpkg", "linestring2d", [(0, 0, 0)]),
    ("gdal_sample_v1.2_spatial_index_extension.gpkg", "polygon3d", [(0, 0, 0)]),
]

# (file, table, tile matrix set, matrices, a point (lon, lat) in the data):
# the tiles of each matrix holding that point.
TMS_CASES = [
    ("ynp_fires_1984_2022.gpkg", "mtbs_perims", "WorldCRS84Quad", ["8", "10"], (-110.5, 44.6)),
    ("ynp_fires_1984_2022.gpkg", "mtbs_perims", "UTM12WGS84Quad", ["6", "9"], (-110.5, 44.6)),
]


def get(url):
    with urllib.request.urlopen(url) as r:
        return r.status, r.read()


def bounds(z, x, y):
    size = 2 * HALF / (1 << z)
    return (-HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size)


def box(minx, miny, maxx, maxy):
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for px, py in ((minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)):
        ring.AddPoint_2D(px, py)
    poly = ogr.Geometry(ogr.wkbPolygon)
    poly.AddGeometry(ring)
    return poly


def srs_of(epsg):
    """EPSG:`epsg`, easting (longitude) first."""
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    return srs


def expected_features(path, table, tile_box, target, absent=()):
    """GDAL's features of `table` but `absent`, in the CRS `target`, clipped
    to `tile_box`."""
    ds = ogr.Open(str(path))
    layer = ds.GetLayerByName(table)
    source = layer.GetSpatialRef()
    transform = None
    if source is not None:
        source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
        transform = osr.CoordinateTransformation(source, target)
    out = {}
    for f in layer:
        g = f.GetGeometryRef()
        if g is None or g.IsEmpty() or f.GetFID() in absent:
            continue
        # GEOS would linearize at GDAL's 4° step, coarser than a z16 tile.
        g = g.GetLinearGeometry(0.1) if g.HasCurveGeometry() else g.Clone()
        g.FlattenTo2D()
        if transform is not None:
            g.Transform(transform)
        clipped = clip(g, tile_box)
        if clipped is None or clipped.IsEmpty():
            continue
        out[f.GetFID()] = (clipped, {k: field(f, k) for k in f.keys()})
    return out


def clip(g, tile_box):
    """`g` ∩ `tile_box`; GEOS cannot overlay collections: member by member."""
    if g.GetGeometryType() != ogr.wkbGeometryCollection:
        # An invalid polygon (Natural Earth's Sudan touches itself) comes
        # out of GEOS's overlay empty: repaired first.
        return (g if g.IsValid() else g.MakeValid()).Intersection(tile_box)
    out = ogr.Geometry(ogr.wkbGeometryCollection)
    for i in range(g.GetGeometryCount()):
        part = clip(g.GetGeometryRef(i), tile_box)
        if part is not None and not part.IsEmpty():
            out.AddGeometry(part)
    return out


def field(feature, name):
    """A field's value; dates as (year, month, day, h, min, s), since GDAL
    prints them its own way and the file (and so the tile) holds ISO 8601."""
    i = feature.GetFieldIndex(name)
    if feature.GetFieldType(i) == ogr.OFTBinary:
        return None  # BLOB columns are not served
    if feature.IsFieldNull(i) or feature.GetFieldType(i) not in (ogr.OFTDate, ogr.OFTDateTime):
        return feature.GetField(i)
    return tuple(round(v) for v in feature.GetFieldAsDateTime(i)[:6])


def iso_date(text):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):([\d.]+))?Z?", text or "")
    return m and tuple(round(float(v or 0)) for v in m.groups())


def decoded_features(data, z, x, y, table):
    """Our tile as GDAL's MVT driver reads it: fid -> (geometry, attributes)."""
    name = f"/vsimem/{table}_{z}_{x}_{y}.pbf"
    gdal.FileFromMemBuffer(name, data)
    ds = gdal.OpenEx(name, gdal.OF_VECTOR, open_options=[f"X={x}", f"Y={y}", f"Z={z}", "CLIP=NO"])
    layer = ds.GetLayerByName(table)
    assert layer is not None, f"{table} {z}/{x}/{y}: no MVT layer named {table}"
    out = {}
    fid = None
    for f in layer:
        attrs = {k: f.GetField(k) for k in f.keys() if k != "mvt_id"}
        # The parts of a collection after its first carry no id (ids are
        # unique in a layer) and follow it: they belong to the last id.
        if "mvt_id" not in f.keys():
            fid = f.GetFID()
        elif f.GetField("mvt_id") is not None or fid is None:
            fid = f.GetField("mvt_id")
        g = f.GetGeometryRef().Clone()
        if fid in out:  # a collection split by geometry type: one feature again
            g = out[fid][0].Union(g)
        out[fid] = (g, attrs)
    gdal.Unlink(name)
    return out


def same_value(ours, theirs):
    if theirs is None:
        return ours is None
    if isinstance(theirs, tuple):
        return iso_date(ours) == theirs
    if isinstance(theirs, float):
        return isinstance(ours, (int, float)) and math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9)
    return ours == theirs


def check_xyz_tile(base, path, table, z, x, y):
    """A WebMercatorQuad tile, read by GDAL's MVT driver at its z/x/y."""
    return check_tile(
        f"{base}/{table}/{z}/{x}/{y}.pbf",
        path,
        table,
        bounds(z, x, y),
        srs_of(3857),
        lambda data: decoded_features(data, z, x, y, table),
        UNDECODABLE if table == "broken" else (),
    )


def check_tile(url, path, table, b, target, decode, absent=()):
    """The tile at `url`, whose bounds are `b` in the CRS `target`, against
    the file's features but `absent`, which must not be in it; `decode`
    reads it as (geometry, attributes) by fid."""
    status, data = get(url)
    at = url.split("/", 3)[-1]
    unit = (b[2] - b[0]) / EXTENT
    grow = BUFFER * unit
    tile_box = box(b[0] - grow, b[1] - grow, b[2] + grow, b[3] + grow)
    expected = expected_features(path, table, tile_box, target, absent)
    if status == 204:
        assert not expected, f"{at}: 204 but GDAL finds {len(expected)} features"
        return 0
    assert status == 200, f"{at}: {status}"
    ours = decode(data)
    assert not set(ours) & set(absent), f"{at}: undecodable features {set(ours) & set(absent)} served"
    for fid, (geometry, attrs) in ours.items():
        assert fid in expected, f"{at}: feature {fid} is not in the file's tile"
        theirs_geometry, theirs_attrs = expected[fid]
        for k, v in theirs_attrs.items():
            if v is not None and not isinstance(v, (bytes, bytearray)):
                assert same_value(attrs.get(k), v), f"{table} {fid} {k}: {attrs.get(k)!r} != {v!r}"
        # Every vertex of ours lies on theirs but for rounding (0.71 unit)
        # and the clip edge's rounding; the other way, simplification moves
        # the outline by up to 1 unit, and parts under a unit or two vanish,
        # which the area check below bounds.
        distance = hausdorff(geometry, theirs_geometry, tile_box, unit)
        assert distance <= 1.5 * unit, f"{at}: feature {fid} has a vertex {distance / unit:.1f} units off"
        # Areas: what lies between the two outlines is a band along the
        # outline no wider than simplification plus rounding (1.5 units).
        if theirs_geometry.GetArea() > 100 * unit * unit:
            # Clipping leaves zero-width edges along the buffer's border,
            # which GEOS calls invalid: repair before the overlay.
            valid = geometry if geometry.IsValid() else geometry.MakeValid()
            # A collection's polygons may overlap (MVT makes them one
            # multipolygon, which an overlay would merge): compare areas.
            if theirs_geometry.GetGeometryType() == ogr.wkbGeometryCollection:
                difference = abs(geometry.GetArea() - theirs_geometry.GetArea())
            else:
                difference = valid.SymDifference(theirs_geometry).GetArea()
            band = 1.5 * unit * outline_length(theirs_geometry)
            assert difference <= band, f"{at}: feature {fid} is {difference / band:.2f} of the band apart"
    for fid, (geometry, _) in expected.items():
        big = geometry.GetArea() > 4 * unit * unit or geometry.Length() > 4 * unit
        if geometry.GetDimension() == 0 or big:
            assert fid in ours, f"{at}: feature {fid} of the file is missing"
    return len(ours)


def outline_length(g):
    """Total length of the lines and rings of `g`."""
    if g.GetGeometryCount():
        return sum(outline_length(g.GetGeometryRef(i)) for i in range(g.GetGeometryCount()))
    return g.Length() if g.GetDimension() > 0 else 0.0


def hausdorff(a, b, clip_box, unit):
    """Largest distance from a vertex of `a` to the geometry `b`, leaving out
    vertices on the border of `clip_box`: clipping a concave ring to the
    tile (Sutherland–Hodgman) joins its parts along that border, outside
    the visible tile (a documented property of the encoder)."""
    minx, maxx, miny, maxy = clip_box.GetEnvelope()
    points = []

    def walk(g):
        if g.GetGeometryCount():
            for i in range(g.GetGeometryCount()):
                walk(g.GetGeometryRef(i))
        else:
            points.extend(g.GetPoints() or [])

    walk(a)
    worst = 0.0
    for p in points:
        if min(abs(p[0] - minx), abs(p[0] - maxx), abs(p[1] - miny), abs(p[1] - maxy)) < unit:
            continue
        pt = ogr.Geometry(ogr.wkbPoint)
        pt.AddPoint_2D(p[0], p[1])
        worst = max(worst, pt.Distance(b))
    return worst


def tms_tiles(base, tms_id, matrices, lon_lat):
    """(matrix, col, row, bounds, CRS) of the tile of each of `matrices` of
    set `tms_id` holding `lon_lat`, from the server's TMS 2.0 JSON. The
    sets used here list easting (or longitude) first."""
    _, body = get(f"{base}/tileMatrixSets/{tms_id}")
    tms = json.loads(body)
    assert tms["orderedAxes"][0] in ("E", "Lon"), tms["orderedAxes"]
    crs = tms["crs"]
    epsg = 4326 if crs.endswith("/CRS84") else int(crs.rsplit("/", 1)[-1])
    target = srs_of(epsg)
    x, y, _ = osr.CoordinateTransformation(srs_of(4326), target).TransformPoint(*lon_lat)
    out = []
    for m in tms["tileMatrices"]:
        if m["id"] not in matrices:
            continue
        assert m["cornerOfOrigin"] == "topLeft"
        width, height = m["cellSize"] * m["tileWidth"], m["cellSize"] * m["tileHeight"]
        left, top = m["pointOfOrigin"]
        col, row = math.floor((x - left) / width), math.floor((top - y) / height)
        b = (left + col * width, top - (row + 1) * height, left + (col + 1) * width, top - row * height)
        out.append((m["id"], col, row, b, target))
    return out


def in_bounds(features, b):
    """`features` decoded as a whole-world WebMercatorQuad tile 0/0/0 (GDAL's
    MVT driver needs a z/x/y) moved to the tile bounds `b`: each point's
    position in the tile, in extent units, is what the tile encodes."""
    def move(g):
        for i in range(g.GetGeometryCount()):
            move(g.GetGeometryRef(i))
        for i in range(g.GetPointCount()):
            px, py = g.GetPoint_2D(i)
            u, v = (px + HALF) / (2 * HALF), (HALF - py) / (2 * HALF)
            g.SetPoint_2D(i, b[0] + u * (b[2] - b[0]), b[3] - v * (b[3] - b[1]))

    for geometry, _ in features.values():
        move(geometry)
    return features


def check_pyramid(base, path, table):
    """Every stored tile of a WebMercatorQuad pyramid, byte for byte."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    count = 0
    for z, x, y, data in db.execute(f'SELECT zoom_level, tile_column, tile_row, tile_data FROM "{table}"'):
        status, ours = get(f"{base}/{table}/{z}/{x}/{y}.png")
        assert status == 200, f"{table} {z}/{x}/{y}: {status}"
        assert hashlib.sha256(ours).digest() == hashlib.sha256(data).digest(), f"{table} {z}/{x}/{y} differs"
        count += 1
    return count


def main():
    base = sys.argv[1].rstrip("/")
    samples = Path(sys.argv[2] if len(sys.argv) > 2 else Path(__file__).parents[2] / "data-samples") / "gpkg"
    for file, table, tiles in CASES:
        counts = [check_xyz_tile(base, samples / file, table, *t) for t in tiles]
        print(f"{table}: {counts} features in tiles {tiles} agree with GDAL")
    for file, table, tms_id, matrices, point in TMS_CASES:
        counts = []
        tiles = tms_tiles(base, tms_id, matrices, point)
        assert [t[0] for t in tiles] == matrices, f"{tms_id} lacks some of {matrices}"
        for matrix, col, row, b, target in tiles:
            url = f"{base}/{table}/{tms_id}/{matrix}/{col}/{row}.pbf"
            decode = lambda data, b=b: in_bounds(decoded_features(data, 0, 0, 0, table), b)
            n = check_tile(url, samples / file, table, b, target, decode)
            # The point lies in the data: an empty tile would check nothing.
            assert n > 0, f"{url}: no feature"
            counts.append((f"{matrix}/{col}/{row}", n))
        print(f"{table} in {tms_id}: {counts} (tile, features) agree with GDAL")
    stored = check_pyramid(base, samples / "rivers.gpkg", "TILESosmds")
    print(f"TILESosmds: {stored} stored tiles served byte for byte")


if __name__ == "__main__":
    main()
