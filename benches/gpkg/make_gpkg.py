#!/usr/bin/python3
"""Build the vector benchmark's GeoPackage reproducibly (seeded, nothing
downloaded): one layer `parcels` of 200 000 cadastre-like polygons over about
20 km x 20 km around Lyon (lon 4.85, lat 45.76), in EPSG:3857, so that no
server reprojects anything and the comparison is of reading, clipping and
encoding only.

The parcels are the cells of a 500 x 400 grid (about 40 m x 50 m on the
ground) whose corners are jittered and shared between neighbours, each cell
shrunk a little towards its centre (the gaps are walls and lanes), with 2 to
8 extra vertices along its edges: 6 to 12 distinct vertices per polygon,
every polygon simple and valid. Attributes:

    id INTEGER, name TEXT, area REAL (m² on the ground), kind TEXT (8 values),
    built INTEGER (a year), flag BOOLEAN (OFTInteger, subtype OFSTBoolean)

No NULLs, so that every server writes every attribute the same way. GDAL
builds the R-tree spatial index (SPATIAL_INDEX=YES, its default).

    /usr/bin/python3 benches/gpkg/make_gpkg.py [OUT]   # default target/bench/parcels.gpkg
"""
import math
import random
import struct
import sys
from pathlib import Path

from osgeo import gdal, ogr, osr

gdal.UseExceptions()
ogr.UseExceptions()

LON, LAT = 4.85, 45.76
NX, NY = 500, 400                 # columns, rows: 200 000 cells
GROUND_W, GROUND_H = 20_000.0, 20_000.0
R = 6378137.0
K = 1 / math.cos(math.radians(LAT))  # WebMercator metres per ground metre here
KINDS = [("house", 40), ("apartment", 15), ("garden", 12), ("farmland", 10),
         ("commercial", 8), ("industrial", 5), ("public", 5), ("vacant", 5)]


def main():
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[2] / "target" / "bench" / "parcels.gpkg"
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.stem + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    # A fixed timestamp in gpkg_contents: the same input gives the same content.
    gdal.SetConfigOption("OGR_CURRENT_DATE", "2026-01-01T00:00:00.000Z")

    cx = math.radians(LON) * R
    cy = math.log(math.tan(math.pi / 4 + math.radians(LAT) / 2)) * R
    w, h = GROUND_W * K, GROUND_H * K
    x0, y0 = cx - w / 2, cy - h / 2
    dx, dy = w / NX, h / NY
    rng = random.Random(3857)

    # Shared, jittered grid corners (±20 % of a cell).
    corners = [[(x0 + i * dx + (rng.uniform(-0.2, 0.2) * dx if 0 < i < NX else 0),
                 y0 + j * dy + (rng.uniform(-0.2, 0.2) * dy if 0 < j < NY else 0))
                for j in range(NY + 1)] for i in range(NX + 1)]

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(tmp))
    layer = ds.CreateLayer("parcels", srs, ogr.wkbPolygon, ["SPATIAL_INDEX=YES", "GEOMETRY_NAME=geom"])
    for name, kind in (("id", ogr.OFTInteger), ("name", ogr.OFTString), ("area", ogr.OFTReal),
                       ("kind", ogr.OFTString), ("built", ogr.OFTInteger), ("flag", ogr.OFTInteger)):
        field = ogr.FieldDefn(name, kind)
        if name == "flag":
            field.SetSubType(ogr.OFSTBoolean)
        layer.CreateField(field)
    defn = layer.GetLayerDefn()
    kinds = [k for k, _ in KINDS]
    weights = [wt for _, wt in KINDS]

    layer.StartTransaction()
    n = 0
    for j in range(NY):
        for i in range(NX):
            ring = cell_ring(rng, corners, i, j)
            feature = ogr.Feature(defn)
            feature.SetGeometryDirectly(ogr.CreateGeometryFromWkb(wkb_polygon(ring)))
            kind = rng.choices(kinds, weights)[0]
            section = chr(65 + (i // 20) % 26) + chr(65 + (j // 20) % 26)
            feature["id"] = 69_000_000 + j * NX + i
            feature["name"] = f"69{123 + i // 100:03d} {section} {(j % 20) * 20 + i % 20 + 1:04d}"
            feature["area"] = round(abs(shoelace(ring)) / (K * K), 2)
            feature["kind"] = kind
            feature["built"] = rng.randint(1850, 2024)
            feature["flag"] = 1 if rng.random() < 0.1 else 0
            layer.CreateFeature(feature)
            n += 1
            if n % 50_000 == 0:
                layer.CommitTransaction()
                layer.StartTransaction()
    layer.CommitTransaction()
    ds = None
    tmp.replace(out)
    print(f"{out}: {n} polygons, {out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)


def cell_ring(rng, corners, i, j):
    """The closed, counter-clockwise ring of cell (i, j): its four shared
    corners shrunk by 8 % towards the centre, plus 2-8 extra vertices along
    the edges, each pushed off the edge by at most 3 % of its length."""
    quad = [corners[i][j], corners[i + 1][j], corners[i + 1][j + 1], corners[i][j + 1]]
    mx = sum(p[0] for p in quad) / 4
    my = sum(p[1] for p in quad) / 4
    quad = [(mx + (x - mx) * 0.92, my + (y - my) * 0.92) for x, y in quad]
    extra = [0, 0, 0, 0]
    for _ in range(rng.randint(2, 8)):
        extra[rng.randrange(4)] += 1
    ring = []
    for e in range(4):
        (ax, ay), (bx, by) = quad[e], quad[(e + 1) % 4]
        ring.append((ax, ay))
        length = math.hypot(bx - ax, by - ay)
        nx, ny = (by - ay) / length, -(bx - ax) / length  # outward normal
        for t in sorted(rng.uniform(0.1, 0.9) for _ in range(extra[e])):
            off = rng.uniform(-0.03, 0.03) * length
            ring.append((ax + (bx - ax) * t + nx * off, ay + (by - ay) * t + ny * off))
    ring.append(ring[0])
    return ring


def shoelace(ring):
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:])) / 2


def wkb_polygon(ring):
    return struct.pack(f"<BIII{2 * len(ring)}d", 1, 3, 1, len(ring), *(c for p in ring for c in p))


if __name__ == "__main__":
    main()
