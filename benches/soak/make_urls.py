#!/usr/bin/env python3
"""The soak run's request list (benches/soak/run.sh): from a running
Tuilerie's /catalog and TileJSON, for every layer its TileJSON and tiles
around its centre from its min zoom to six zooms deeper (stored tiles of
archives, rendered tiles of GeoTIFF and pyramid layers including the low
zooms whose cost issue 12 bounded, vector tiles cut from GeoPackage tables,
in WebMercatorQuad and, for rendered layers, WorldCRS84Quad), WMTS
capabilities and GetTile (KVP and REST), the catalog, and requests that
must fail (unknown layer, malformed numbers, zoom outside, a wrong
extension). The layer whose sample has a damaged block is left out (its
tiles over that block answer 500 by design). Shuffled with a fixed seed.

    python3 benches/soak/make_urls.py http://127.0.0.1:18090 > urls.txt
"""
import json
import math
import random
import sys
import urllib.request


def get(url):
    with urllib.request.urlopen(url) as r:
        return json.load(r)


def tile(lon, lat, z):
    n = 2 ** z
    x = min(n - 1, max(0, int((lon + 180) / 360 * n)))
    lat = max(-85.0, min(85.0, lat))
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, min(n - 1, max(0, y))


def main():
    base = sys.argv[1].rstrip("/")
    catalog = get(f"{base}/catalog")["tiles"]
    urls = ["/catalog", "/health", "/wmts?SERVICE=WMTS&REQUEST=GetCapabilities",
            "/wmts/1.0.0/WMTSCapabilities.xml", "/tileMatrixSets/WebMercatorQuad"]
    for name, layer in sorted(catalog.items()):
        # The sample with a damaged block (issue 12, part 3) answers 500 for
        # the tiles that need that block, by design: not a soak error.
        if "corrupt" in name:
            continue
        tilejson = get(f"{base}/{name}")
        urls.append(f"/{name}")
        ext = {"mvt": "pbf"}.get(layer["format"], layer["format"])
        lon, lat, _ = tilejson.get("center") or [0, 0, 0]
        low = layer["minzoom"]
        for z in range(low, min(layer["maxzoom"], low + 6) + 1):
            x, y = tile(lon, lat, z)
            for dx, dy in [(0, 0), (1, 0), (0, 1), (-1, -1)]:
                n = 2 ** z
                urls.append(f"/{name}/{z}/{(x + dx) % n}/{min(n - 1, max(0, y + dy))}.{ext}")
        if layer["format"] != "mvt":
            x, y = tile(lon, lat, 10)
            urls.append(f"/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER={name}&STYLE=default"
                        f"&TILEMATRIXSET=WebMercatorQuad&TILEMATRIX={10}&TILEROW={y}&TILECOL={x}"
                        f"&FORMAT=image/{'jpeg' if ext == 'jpg' else ext}")
            urls.append(f"/wmts/1.0.0/{name}/default/WebMercatorQuad/10/{y}/{x}.{ext}")
            # Low zooms (rendered layers render them; archives answer 404
            # outside their zooms) and another tile matrix set (archives:
            # 404, WebMercatorQuad only).
            for z in range(0, 4):
                x, y = tile(lon, lat, z)
                urls.append(f"/{name}/{z}/{x}/{y}.{ext}")
            col, row = int((lon + 180) / 360 * 64), int((90 - lat) / 180 * 32)
            urls.append(f"/{name}/WorldCRS84Quad/5/{col}/{row}.{ext}")
    errors = ["/no_such_layer/0/0/0", "/catalog/extra", f"/{next(iter(catalog))}/abc/0/0",
              f"/{next(iter(catalog))}/40/0/0", f"/{next(iter(catalog))}/0/0/0.gif",
              "/wmts?SERVICE=WMTS&REQUEST=GetTile&LAYER=nope", "/tileMatrixSets/Nope"]
    urls += errors * 3
    random.Random(12).shuffle(urls)
    print("\n".join(urls))


main()
