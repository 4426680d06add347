#!/usr/bin/env bash
# Load run (issue 13 part 8): WMS GetMap 1024×768, Tuilerie beside
# MapServer (FastCGI behind nginx, as PEERS.md runs it), one at a time, the
# same shuffled request lists, in EPSG:3857:
#   - ortho: JPEG maps of the 16384² Lambert-93 JPEG COG
#     (benches/cog/make_cog.py), bilinear, at 0.7, 1.4 and 2.8 m per pixel
#     (the image's own resolution and two overview levels), every map wholly
#     inside the image; 200 MB of decoded-block cache for both
#     (GDAL_CACHEMAX 200, block_cache_mib 200).
#   - parcels: PNG maps of the 200 000 polygons (benches/gpkg/make_gpkg.py)
#     at 2, 4 and 8 m per pixel (about 1 000 to 15 000 polygons a map),
#     drawn the same way by both: fill #AAAAAA, 1-pixel black outline
#     (Tuilerie's plain default style), antialiased.
#
#   bash benches/wms/run.sh        # DURATION=20 WARMUP=5 CONNECTIONS=4
#   SERVERS=tuilerie BUILD=0 bash benches/wms/run.sh
#
# Needs: wrk, python3-gdal (to build the data once), MapServer (Debian
# cgi-mapserver spawn-fcgi nginx). Prints, per case and server: maps/s,
# p50/p99 latency, server CPU ms per map and RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/bench
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
CONNECTIONS=${CONNECTIONS:-4}
SERVERS=${SERVERS:-"tuilerie mapserver"}
COG=$OUT/ortho_l93.tif
GPKG=$OUT/parcels.gpkg
mkdir -p "$OUT"

[ "${BUILD:-1}" = 0 ] || cargo build --release -q -p tuilerie-server
[ -f "$COG" ] || /usr/bin/python3 benches/cog/make_cog.py "$COG"
[ -f "$GPKG" ] || /usr/bin/python3 benches/gpkg/make_gpkg.py "$GPKG"

source benches/load/lib.sh
source benches/load/mapserver.sh
export ENCODING=identity

# The request lists: $OUT/wms-CASE-SERVER.txt (the same maps for both).
python3 - "$OUT" <<'PY'
import math, random, sys
out = sys.argv[1]
R = 6378137.0
def merc(lon, lat):
    return R * math.radians(lon), R * math.asinh(math.tan(math.radians(lat)))
cases = {
    # name: (lon/lat box the maps stay inside, resolutions m/px, layer, format)
    "ortho": ((4.8027, 45.7293, 4.9055, 45.8012), (0.7, 1.4, 2.8), "ortho_l93", "image/jpeg"),
    "parcels": ((4.75, 45.69, 4.95, 45.83), (2.0, 4.0, 8.0), "parcels", "image/png"),
}
rng = random.Random(2154)
for name, ((w, s, e, n), resolutions, layer, fmt) in cases.items():
    (x0, y0), (x1, y1) = merc(w, s), merc(e, n)
    maps = []
    for res in resolutions:
        width, height = 1024 * res, 768 * res
        for _ in range(200):
            x = rng.uniform(x0, x1 - width)
            y = rng.uniform(y0, y1 - height)
            maps.append(f"{x:.2f},{y:.2f},{x + width:.2f},{y + height:.2f}")
    rng.shuffle(maps)
    for server, path in (("tuilerie", "/wms?"), ("mapserver", "/?")):
        with open(f"{out}/wms-{name}-{server}.txt", "w") as f:
            for bbox in maps:
                f.write(f"{path}SERVICE=WMS&VERSION=1.3.0&REQUEST=GetMap&LAYERS={layer}&STYLES="
                        f"&CRS=EPSG:3857&BBOX={bbox}&WIDTH=1024&HEIGHT=768&FORMAT={fmt}\n")
PY

cat > "$OUT/wms.map" <<MAPFILE
MAP
  NAME "bench"
  EXTENT -20037508 -20037508 20037508 20037508
  SIZE 1024 768
  MAXSIZE 4096
  PROJECTION "init=epsg:3857" END
  CONFIG "GDAL_CACHEMAX" "200"
  CONFIG "GDAL_DISABLE_READDIR_ON_OPEN" "EMPTY_DIR"
  OUTPUTFORMAT NAME "png" DRIVER "AGG/PNG" MIMETYPE "image/png" IMAGEMODE RGB EXTENSION "png" END
  OUTPUTFORMAT NAME "jpeg" DRIVER "AGG/JPEG" MIMETYPE "image/jpeg" IMAGEMODE RGB EXTENSION "jpg"
    FORMATOPTION "QUALITY=85" END
  WEB METADATA "wms_enable_request" "*" "wms_srs" "EPSG:3857" "wms_title" "bench" END END
  LAYER
    NAME "ortho_l93" TYPE RASTER STATUS ON DATA "$COG"
    PROJECTION "init=epsg:2154" END
    PROCESSING "RESAMPLE=BILINEAR"
  END
  LAYER
    NAME "parcels" TYPE POLYGON STATUS ON
    CONNECTIONTYPE OGR CONNECTION "$GPKG" DATA "parcels"
    PROJECTION "init=epsg:3857" END
    CLASS STYLE COLOR 170 170 170 OUTLINECOLOR 0 0 0 WIDTH 1 END END
  END
END
MAPFILE

cat > "$OUT/wms.toml" <<TOML
block_cache_mib = 200
tile_cache_mib = 0
[[layers]]
id = "ortho_l93"
path = "$COG"
[[layers]]
id = "parcels"
path = "$GPKG"
tables = [{ name = "parcels" }]
TOML

echo "| case, server | connections | maps/s | p50 | p99 | server CPU ms/map | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
if [[ $SERVERS == *tuilerie* ]]; then
  "$ROOT/target/release/tuilerie" serve --config "$OUT/wms.toml" --bind 127.0.0.1:3120 --log-level warn &
  pid=$!
  for case in ortho parcels; do
    measure "$case, tuilerie" "$pid" 3120 "$OUT/wms-$case-tuilerie.txt"
  done
  stop "$pid"
fi
if [[ $SERVERS == *mapserver* ]] && [ -x /usr/lib/cgi-bin/mapserv ] && command -v spawn-fcgi >/dev/null; then
  pid=$(start_mapserver "$OUT/wms.map" 3122)
  for case in ortho parcels; do
    measure "$case, mapserver" "$pid" 3122 "$OUT/wms-$case-mapserver.txt"
  done
  stop_mapserver "$pid"
fi
