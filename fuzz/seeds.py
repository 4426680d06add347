#!/usr/bin/python3
"""Writes the small seed inputs of the fuzz targets to tests/fuzz/<target>/
(issue 12, part 6), where tests/fuzz_regressions.rs replays them too.

TIFFs of each compression GDAL writes, 16x16 tiles; GeoPackage blobs of
each geometry type, the curves included, from GDAL's WKB writer; requests
and MVT inputs by hand. Run: /usr/bin/python3 fuzz/seeds.py
"""
import os
import struct

import sqlite3
import tempfile

import numpy
from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fuzz")


def write(target, name, data):
    os.makedirs(os.path.join(ROOT, target), exist_ok=True)
    with open(os.path.join(ROOT, target, "seed-" + name), "wb") as f:
        f.write(data)


def tiffs():
    """One 32x16 image (two 16x16 tiles) per compression and sample type."""
    cases = [
        ("none_u8", gdal.GDT_Byte, 3, ["COMPRESS=NONE"]),
        ("lzw_u16", gdal.GDT_UInt16, 1, ["COMPRESS=LZW", "PREDICTOR=2"]),
        ("deflate_f32_pred3", gdal.GDT_Float32, 1, ["COMPRESS=DEFLATE", "PREDICTOR=3"]),
        ("packbits_i16", gdal.GDT_Int16, 2, ["COMPRESS=PACKBITS", "INTERLEAVE=BAND"]),
        ("zstd_f64", gdal.GDT_Float64, 1, ["COMPRESS=ZSTD"]),
        ("jpeg_rgb", gdal.GDT_Byte, 3, ["COMPRESS=JPEG", "PHOTOMETRIC=YCBCR"]),
        ("webp_rgba", gdal.GDT_Byte, 4, ["COMPRESS=WEBP", "WEBP_LOSSLESS=YES"]),
        ("lerc_f32", gdal.GDT_Float32, 1, ["COMPRESS=LERC", "MAX_Z_ERROR=0.5"]),
        ("lerc_deflate_u8", gdal.GDT_Byte, 1, ["COMPRESS=LERC_DEFLATE"]),
        ("lerc_zstd_i32", gdal.GDT_Int32, 1, ["COMPRESS=LERC_ZSTD"]),
        ("bigtiff_u32", gdal.GDT_UInt32, 1, ["BIGTIFF=YES", "COMPRESS=DEFLATE"]),
    ]
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    mem = gdal.GetDriverByName("MEM")
    for name, kind, bands, options in cases:
        src = mem.Create("", 32, 16, bands, kind)
        src.SetGeoTransform([0, 10, 0, 160, 0, -10])
        src.SetProjection(srs.ExportToWkt())
        for b in range(bands):
            band = src.GetRasterBand(b + 1)
            band.WriteArray((numpy.indices((16, 32)).sum(axis=0) * (b + 3)) % 200)
        path = "/vsimem/seed.tif"
        gdal.Translate(path, src, options=gdal.TranslateOptions(
            creationOptions=["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"] + options))
        f = gdal.VSIFOpenL(path, "rb")
        gdal.VSIFSeekL(f, 0, 2)
        size = gdal.VSIFTellL(f)
        gdal.VSIFSeekL(f, 0, 0)
        write("tiff", name + ".tif", gdal.VSIFReadL(1, size, f))
        gdal.VSIFCloseL(f)
        gdal.Unlink(path)


def blobs():
    """GeoPackage blobs (little-endian header with an xy envelope) and bare
    ISO WKB, one of each type; the first byte is the target's box choice."""
    wkts = [
        "POINT (1 2)",
        "LINESTRING Z (0 0 1, 5 5 2, 10 0 3)",
        "POLYGON ((0 0, 10 0, 10 10, 0 10, 0 0), (2 2, 2 4, 4 4, 2 2))",
        "MULTIPOINT M ((1 1 5), (2 2 6))",
        "MULTILINESTRING ((0 0, 1 1), (2 2, 3 3))",
        "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))",
        "GEOMETRYCOLLECTION (POINT (1 1), LINESTRING (0 0, 1 1))",
        "CIRCULARSTRING (0 0, 1 1, 2 0)",
        "COMPOUNDCURVE ((0 0, 1 0), CIRCULARSTRING (1 0, 2 1, 3 0))",
        "CURVEPOLYGON (CIRCULARSTRING (0 0, 2 0, 2 2, 0 2, 0 0))",
        "MULTICURVE ((0 0, 1 1), CIRCULARSTRING (0 0, 1 1, 2 0))",
        "MULTISURFACE (CURVEPOLYGON (CIRCULARSTRING (0 0, 2 0, 0 0)))",
        "POINT EMPTY",
    ]
    for i, wkt in enumerate(wkts):
        g = ogr.CreateGeometryFromWkt(wkt)
        wkb = bytes(g.ExportToIsoWkb(ogr.wkbNDR))
        minx, maxx, miny, maxy = g.GetEnvelope() if not g.IsEmpty() else (0, 0, 0, 0)
        header = b"GP\x00\x03" + struct.pack("<i4d", 4326, minx, maxx, miny, maxy)
        name = wkt.split(" ")[0].lower()
        write("gpkg_wkb", f"{i:02}_{name}_blob", bytes([i % 3]) + header + wkb)
        write("gpkg_wkb", f"{i:02}_{name}_wkb", bytes([i % 3]) + bytes(g.ExportToWkb(ogr.wkbXDR)))


def mvt():
    """Box, options, then features: a polygon with a hole, a line, a
    collection (see GeometryReader in fuzz/src/lib.rs)."""
    def c(x, y):
        return b"\x00" + struct.pack("<h", x) + b"\x00" + struct.pack("<h", y)
    square = [(0, 0), (4000, 0), (4000, 4000), (0, 4000), (0, 0)]
    hole = [(100, 100), (100, 200), (200, 200), (100, 100)]
    polygon = b"\x02\x01" + bytes([len(square)]) + b"".join(c(*p) for p in square) \
        + bytes([len(hole)]) + b"".join(c(*p) for p in hole)
    line = b"\x01\x03" + c(-100, 50) + c(5000, 60) + c(2000, 9000)
    point = b"\x00" + c(10, 10)
    value = b"\x00\x01\x00"
    collection = b"\x06\x02" + point + line
    write("mvt_encode", "tile_4096", b"\x00\x00" + polygon + value + line + value + collection + value)
    write("mvt_encode", "mercator_specials", b"\x01\x07" + b"\x01\x02\x00\x01\x00\xf0\xf1\x00\xf3" + value)


def requests():
    lines = [
        "/health",
        "/catalog",
        "/world_cities",
        "/world_cities/0/0/0\naccept-encoding: gzip, br;q=0",
        "/protomaps_vector_firenze/14/8704/5972.pbf\nif-none-match: \"x\"",
        "/usda_naip_256_lzw_z3/WebMercatorQuad/18/42708/97342.png\nforwarded: proto=https;host=a.b",
        "/ign_mns_hydro_0299_L93_float32_lerc_zstd_cog/WorldCRS84Quad/16/67000/15500.webp",
        "/TILESosmds/WorldCRS84Quad/1/1/0.png",
        "/tileMatrixSets/WebMercatorQuad",
        "/wmts?SERVICE=WMTS&REQUEST=GetCapabilities&VERSION=1.0.0",
        "/wmts?service=WMTS&request=GetTile&version=1.0.0&layer=usda_naip_256_lzw_z3&style=default"
        "&format=image/png&TileMatrixSet=WebMercatorQuad&TileMatrix=18&TileRow=97342&TileCol=42708",
        "/wmts/1.0.0/WMTSCapabilities.xml",
        "/wmts/1.0.0/usda_naip_128_none_z2/default/WebMercatorQuad/18/97342/42708.jpg",
        "/FEATURESriversds/0/0/0.pbf\naccept: application/vnd.mapbox-vector-tile",
        "/polygon2d/0/0/0",
    ]
    for i, line in enumerate(lines):
        write("request", f"{i:02}", bytes([0 if i > 2 else i]) + line.encode())


def sqlite_files():
    """A tiny MBTiles and a tiny GeoPackage (one feature table of two
    rows): 512-byte pages keep each file a few kilobytes."""
    def make(name, sql, rows):
        path = os.path.join(tempfile.mkdtemp(), name)
        db = sqlite3.connect(path)
        db.execute("PRAGMA page_size = 512")
        db.executescript(sql)
        for statement, values in rows:
            db.execute(statement, values)
        db.commit()
        db.execute("VACUUM")
        db.close()
        with open(path, "rb") as f:
            write("mbtiles", name, f.read())
    png = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                        "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082")
    # Rows of the metadata table fuzz/src/lib.rs builds an MBTiles around.
    write("mbtiles", "metadata_rows", "\n".join([
        "name=tiny", "format=pbf", "bounds=-180,-85.05,180,85.05", "center=11.25,43.77,14",
        "minzoom=0", "maxzoom=14",
        'json={"vector_layers":[{"id":"roads","fields":{"name":"String"},"minzoom":0,"maxzoom":14}],'
        '"tilestats":{}}',
        'attribution=<a href="x">OSM</a>']).encode())
    make("tiny.mbtiles", """
        CREATE TABLE metadata (name TEXT, value TEXT);
        CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
        INSERT INTO metadata VALUES ('name', 'tiny'), ('format', 'png'), ('bounds', '-180,-85,180,85'),
            ('center', '0,0,0'), ('minzoom', '0'), ('maxzoom', '1'), ('json', '{"vector_layers": []}');
    """, [("INSERT INTO tiles VALUES (0, 0, 0, ?)", (png,))])
    point = b"GP\x00\x01" + struct.pack("<i", 4326) + bytes(ogr.CreateGeometryFromWkt("POINT (1 2)").ExportToIsoWkb(ogr.wkbNDR))
    line = b"GP\x00\x01" + struct.pack("<i", 4326) + bytes(
        ogr.CreateGeometryFromWkt("CIRCULARSTRING (0 0, 1 1, 2 0)").ExportToIsoWkb(ogr.wkbNDR))
    make("tiny.gpkg", """
        PRAGMA application_id = 1196444487;
        PRAGMA user_version = 10300;
        CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
            definition TEXT NOT NULL, description TEXT);
        INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84', 4326, 'EPSG', 4326, 'GEOGCS["WGS 84"]', NULL);
        CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT, description TEXT DEFAULT '', last_change DATETIME,
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
        INSERT INTO gpkg_contents VALUES ('places', 'features', 'places', '', NULL, 0, 0, 2, 2, 4326);
        CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL);
        INSERT INTO gpkg_geometry_columns VALUES ('places', 'geom', 'GEOMETRY', 4326, 0, 0);
        CREATE TABLE places (fid INTEGER PRIMARY KEY AUTOINCREMENT, geom BLOB, name TEXT, n INTEGER, r REAL);
    """, [("INSERT INTO places (geom, name, n, r) VALUES (?, 'a', 1, 0.5)", (point,)),
          ("INSERT INTO places (geom, name, n, r) VALUES (?, 'b', 2, NULL)", (line,))])


tiffs()
sqlite_files()
blobs()
mvt()
requests()
