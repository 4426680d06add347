#!/usr/bin/env python3
"""OWSLib (PyPI OWSLib) as a WMTS client of a running Tuilerie: it parses
the capabilities (KVP and RESTful), finds every layer and set, and its
GetTile (KVP) returns the bytes of the XYZ tile.

    python3 tests/clients/owslib_client.py http://127.0.0.1:8080
"""
import sys
import urllib.request

from owslib.wmts import WebMapTileService


def main(base):
    catalog_ids = sorted(__import__("json").loads(urllib.request.urlopen(f"{base}/catalog").read())["tiles"])
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
    print(f"owslib: {len(catalog_ids)} layers, limits and GetTile agree")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
