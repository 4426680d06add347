#!/usr/bin/env python3
"""Build the load-run data set reproducibly (nothing random, nothing downloaded).

4096 distinct vector tiles (a 64x64 block of z14 over Florence) whose payloads
are the 108 real OSM tiles of data-samples/protomaps_vector_firenze.pmtiles,
cycled, each re-wrapped with a distinct gzip MTIME so no two tiles share bytes
(the writer would otherwise deduplicate them, which nginx's files cannot).

With MAX_BYTES, only the source tiles smaller than that are used (the
"small tiles" run, where per-request overhead dominates over copying bytes):

    python3 benches/load/make_archive.py [OUT [MAX_BYTES]]

Writes, under OUT (default target/bench):
  parcels.pmtiles        the archive, written by the reference writer (PyPI pmtiles)
  static/14/X/Y.pbf      the same gzip'd bytes as files, for nginx
  urls-*.txt             the request list for each server, one path per line
"""
import gzip
import random
import struct
import sys
from pathlib import Path

from pmtiles.reader import MmapSource, all_tiles
from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "target" / "bench"
MAX_BYTES = int(sys.argv[2]) if len(sys.argv) > 2 else None
Z, X0, Y0, SIDE = 14, 8672, 5952, 64


def rewrap(payload, stamp):
    """The same gzip stream with header MTIME = stamp (RFC 1952 §2.3)."""
    assert payload[:2] == b"\x1f\x8b"
    return payload[:4] + struct.pack("<I", stamp) + payload[8:]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with open(ROOT / "data-samples" / "protomaps_vector_firenze.pmtiles", "rb") as f:
        payloads = [data for _, data in sorted(all_tiles(MmapSource(f)))]
    if MAX_BYTES:
        payloads = [p for p in payloads if len(p) < MAX_BYTES]
    tiles = {}
    for i in range(SIDE * SIDE):
        x, y = X0 + i % SIDE, Y0 + i // SIDE
        tiles[zxy_to_tileid(Z, x, y)] = (x, y, rewrap(payloads[i % len(payloads)], i + 1))

    with open(OUT / "parcels.pmtiles", "wb") as f:
        writer = Writer(f)
        for tile_id in sorted(tiles):
            writer.write_tile(tile_id, tiles[tile_id][2])
        e7 = lambda v: int(v * 1e7)
        writer.finalize(
            {
                "tile_type": TileType.MVT,
                "tile_compression": Compression.GZIP,
                "min_zoom": Z, "max_zoom": Z,
                "min_lon_e7": e7(10.546875), "min_lat_e7": e7(43.5803908),
                "max_lon_e7": e7(12.0), "max_lat_e7": e7(44.6),
                "center_zoom": Z, "center_lon_e7": e7(11.25), "center_lat_e7": e7(43.77),
            },
            {"name": "load-run tiles", "vector_layers": []},
        )
    for x, y, data in tiles.values():
        path = OUT / "static" / str(Z) / str(x) / f"{y}.pbf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    # A fixed shuffled order, so every server sees the same request sequence.
    coords = sorted((x, y) for x, y, _ in tiles.values())
    random.Random(2154).shuffle(coords)
    lists = {
        "tuilerie": "/parcels/{z}/{x}/{y}.pbf",
        "martin": "/parcels/{z}/{x}/{y}",
        "nginx": "/{z}/{x}/{y}.pbf",
    }
    for name, template in lists.items():
        lines = [template.format(z=Z, x=x, y=y) for x, y in coords]
        (OUT / f"urls-{name}.txt").write_text("\n".join(lines) + "\n")
    total = sum(len(d) for _, _, d in tiles.values())
    print(f"{len(tiles)} tiles, {total / len(tiles) / 1024:.1f} KiB mean, in {OUT}")


if __name__ == "__main__":
    main()
