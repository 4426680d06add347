#!/usr/bin/env bash
# Load run: 256-pixel WebMercatorQuad tiles rendered from a 16384² Lambert-93
# JPEG COG (benches/cog/make_cog.py), in PNG, JPEG and WebP, by Tuilerie,
# TiTiler and MapServer (WMS GetMap of each tile's bbox), one at a time, the
# same shuffled tile list (z15-z17 tiles inside the image), bilinear
# resampling for all, 200 MB of decoded-block cache for all (GDAL_CACHEMAX
# 200; Tuilerie's block_cache_mib 200, its rendered-tile cache off),
# loopback only. Then one web-optimized case: the same image warped once to
# a WebMercatorQuad-aligned COG (256-pixel JPEG blocks), asked for its own
# z17 tiles.
#
#   bash benches/cog/run.sh     # DURATION=20 WARMUP=5 by default
#
# Needs: wrk, python3-gdal (to build the COG once), TiTiler
# (pip install titiler.application "uvicorn[standard]") and MapServer
# (Debian cgi-mapserver spawn-fcgi nginx). Reports, per server,
# format and client connections: requests/s, p50/p99 latency, server CPU ms
# per tile (utime + stime of the server and its workers) and RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/bench
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
# Which servers to run, e.g. SERVERS=mapserver to redo one.
SERVERS=${SERVERS:-tuilerie mapserver titiler}
COG=$OUT/ortho_l93.tif
WEB=$OUT/ortho_web.tif

cargo build --release -q -p tuilerie-server
[ -f "$COG" ] || /usr/bin/python3 benches/cog/make_cog.py "$COG"
# The same image as a web-optimized COG: warped once by GDAL onto the
# WebMercatorQuad grid, 256-pixel JPEG blocks, overviews on the grid too.
[ -f "$WEB" ] || gdal_translate -q -of COG -co TILING_SCHEME=GoogleMapsCompatible -co BLOCKSIZE=256 \
  -co COMPRESS=JPEG -co QUALITY=85 -co RESAMPLING=BILINEAR "$COG" "$WEB"

# urls NAME COG EPSG ZOOMS: the shuffled list of tiles wholly inside the
# image (lon 4.8027..4.9055, lat 45.7293..45.8012) at ZOOMS, for each
# server and format: $OUT/NAME-urls-SERVER-EXT.txt.
urls() {
  python3 - "$OUT" "$@" <<'PY'
import math, random, sys
out, name, cog, epsg, zooms = sys.argv[1:]
HALF = 20037508.342789244
layer = cog.rsplit("/", 1)[1].rsplit(".", 1)[0]
def tile(lon, lat, z):
    n = 1 << z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
tiles = []
for z in map(int, zooms.split(",")):
    (x0, y0), (x1, y1) = tile(4.8027, 45.8012, z), tile(4.9055, 45.7293, z)
    tiles += [(z, x, y) for x in range(x0 + 1, x1) for y in range(y0 + 1, y1)]
random.Random(2154).shuffle(tiles)
for ext, mime in (("png", "image/png"), ("jpg", "image/jpeg"), ("webp", "image/webp")):
    def write(server, line):
        with open(f"{out}/{name}-urls-{server}-{ext}.txt", "w") as f:
            f.writelines(line(z, x, y) + "\n" for z, x, y in tiles)
    write("tuilerie", lambda z, x, y: f"/{layer}/{z}/{x}/{y}.{ext}")
    write("titiler", lambda z, x, y: f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.{ext}"
                                     f"?url={cog}&resampling=bilinear&reproject=bilinear")
    def wms(z, x, y):
        size = 2 * HALF / (1 << z)
        bbox = f"{-HALF + x * size},{HALF - (y + 1) * size},{-HALF + (x + 1) * size},{HALF - y * size}"
        return (f"/?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS={layer}&STYLES=&SRS=EPSG:3857"
                f"&BBOX={bbox}&WIDTH=256&HEIGHT=256&FORMAT={mime}")
    write("mapserver", wms)
print(f"{name}: {len(tiles)} tiles at z{zooms}", file=sys.stderr)
PY
  cat > "$OUT/$1.map" <<MAPFILE
MAP
  NAME "bench"
  EXTENT -20037508 -20037508 20037508 20037508
  SIZE 256 256
  PROJECTION "init=epsg:3857" END
  CONFIG "GDAL_CACHEMAX" "200"
  CONFIG "GDAL_DISABLE_READDIR_ON_OPEN" "EMPTY_DIR"
  OUTPUTFORMAT NAME "png" DRIVER "AGG/PNG" MIMETYPE "image/png" IMAGEMODE RGB EXTENSION "png" END
  OUTPUTFORMAT NAME "jpeg" DRIVER "AGG/JPEG" MIMETYPE "image/jpeg" IMAGEMODE RGB EXTENSION "jpg"
    FORMATOPTION "QUALITY=85" END
  OUTPUTFORMAT NAME "webp" DRIVER "GDAL/WEBP" MIMETYPE "image/webp" IMAGEMODE RGB EXTENSION "webp"
    FORMATOPTION "LOSSLESS=TRUE" END
  WEB METADATA "wms_enable_request" "*" "wms_srs" "EPSG:3857" "wms_title" "bench" END END
  LAYER
    NAME "$(basename "$2" .tif)" TYPE RASTER STATUS ON DATA "$2"
    PROJECTION "init=epsg:$3" END
    PROCESSING "RESAMPLE=BILINEAR"
  END
END
MAPFILE
}

source benches/load/lib.sh
source benches/load/mapserver.sh
# Tiles are rendered on every request: ask for no compression, as a map
# client asking for PNG/JPEG/WebP would.
export ENCODING=identity

# runs CASE SERVER PID PORT: the measured runs of one server on one case.
runs() {
  local case=$1 name=$2 pid=$3 port=$4 list
  for ext in $FORMATS; do
    measure "$case, $name $ext" "$pid" "$port" "$OUT/$case-urls-$name-$ext.txt" 8
  done
  for connections in $EXTRA_CONNECTIONS; do
    measure "$case, $name png" "$pid" "$port" "$OUT/$case-urls-$name-png.txt" "$connections"
  done
}

# servers CASE COG: each server in turn on the case's tile lists.
servers() {
  local case=$1 cog=$2 pid
  cat > "$OUT/$case.toml" <<TOML
paths = ["$cog"]
block_cache_mib = 200
tile_cache_mib = 0
TOML
  if [[ $SERVERS == *tuilerie* ]]; then
    "$ROOT/target/release/tuilerie" serve --config "$OUT/$case.toml" --bind 127.0.0.1:3110 --log-level warn &
    pid=$!
    runs "$case" tuilerie "$pid" 3110
    stop "$pid"
  fi

  if [[ $SERVERS == *mapserver* ]] && [ -x /usr/lib/cgi-bin/mapserv ] && command -v spawn-fcgi >/dev/null; then
    pid=$(start_mapserver "$OUT/$case.map" 3112)
    runs "$case" mapserver "$pid" 3112
    stop_mapserver "$pid"
  fi

  if [[ $SERVERS == *titiler* ]] && python3 -c "import titiler.application" 2>/dev/null; then
    (cd /tmp && GDAL_CACHEMAX=200 GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR \
      exec uvicorn titiler.application.main:app --host 127.0.0.1 --port 3111 --workers 2 --log-level warning) &
    pid=$!
    runs "$case" titiler "$pid" 3111
    stop "$pid"
    pkill -f "uvicorn titiler.application.main:app --host 127.0.0.1 --port 3111" || true
  fi
}

echo "| case, server, format | connections | tiles/s | p50 | p99 | server CPU ms/tile | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"
urls ortho_l93 "$COG" 2154 15,16,17
FORMATS="png jpg webp" EXTRA_CONNECTIONS="1 32" servers ortho_l93 "$COG"
# The web-optimized COG at its own full resolution (z18) and one overview.
urls ortho_web "$WEB" 3857 17,18
FORMATS="jpg png" EXTRA_CONNECTIONS="" servers ortho_web "$WEB"
