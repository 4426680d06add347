#!/usr/bin/env python3
"""A TileJSON client, as web maps use one, against a running Tuilerie.

For every layer of /catalog: read its TileJSON 3.0.0, check the fields a
client relies on, expand the tile URL template at the TileJSON center, fetch
that tile and decode it with independent decoders: vector tiles with the
PyPI `mapbox-vector-tile` package (their layer names must be among the
TileJSON's vector_layers), images by signature.

    python3 tests/clients/tilejson_client.py http://127.0.0.1:8080
"""
import gzip
import json
import math
import sys
import urllib.request

import mapbox_vector_tile

SIGNATURES = {".png": b"\x89PNG", ".jpg": b"\xff\xd8\xff", ".webp": b"RIFF"}


def get(url, headers=None):
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
        return r.status, r.headers, r.read()


def tile_at(lon, lat, z):
    """XYZ tile of a WGS 84 point (WebMercatorQuad, row 0 at the north)."""
    n = 1 << z
    x = int((lon + 180) / 360 * n)
    lat = max(min(lat, 85.0511), -85.0511)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(x, n - 1), min(y, n - 1)


def check_layer(base, layer_id):
    status, headers, body = get(f"{base}/{layer_id}")
    assert status == 200 and headers["Content-Type"] == "application/json", layer_id
    tj = json.loads(body)
    assert tj["tilejson"] == "3.0.0", tj
    assert tj["tiles"] and all(t.startswith(base) for t in tj["tiles"]), tj["tiles"]
    assert 0 <= tj["minzoom"] <= tj["maxzoom"] <= 30, tj
    w, s, e, n = tj["bounds"]
    assert w < e and s < n, tj["bounds"]
    lon, lat, z = tj["center"]
    z = min(max(int(z), tj["minzoom"]), tj["maxzoom"])
    x, y = tile_at(lon, lat, z)
    url = tj["tiles"][0].replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))

    status, headers, data = get(url)
    if status == 204:
        return f"{layer_id}: {z}/{x}/{y} empty (204)"
    # Asking for gzip must give the same tile, compressed.
    _, gz_headers, gz_data = get(url, {"Accept-Encoding": "gzip"})
    if gz_headers.get("Content-Encoding") == "gzip":
        assert gzip.decompress(gz_data) == data, url
    if "vector_layers" in tj:
        declared = {layer["id"] for layer in tj["vector_layers"]}
        decoded = mapbox_vector_tile.decode(data)
        assert decoded, f"{url}: no layers"
        assert set(decoded) <= declared, f"{url}: {set(decoded) - declared} not in vector_layers"
        features = sum(len(layer["features"]) for layer in decoded.values())
        return f"{layer_id}: {z}/{x}/{y} MVT, {len(decoded)} layers, {features} features"
    for ext, magic in SIGNATURES.items():
        if url.endswith(ext):
            assert data.startswith(magic), f"{url}: not a {ext} image"
    return f"{layer_id}: {z}/{x}/{y} {headers['Content-Type']}, {len(data)} bytes"


def main():
    base = sys.argv[1].rstrip("/")
    _, _, body = get(f"{base}/catalog")
    layers = sorted(json.loads(body)["tiles"])
    assert layers, "empty catalog"
    for layer_id in layers:
        print(check_layer(base, layer_id))


if __name__ == "__main__":
    main()
