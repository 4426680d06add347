#!/usr/bin/env bash
# Load run: 256-pixel WebMercatorQuad tiles rendered from a 16384² Lambert-93
# JPEG COG (benches/cog/make_cog.py), in PNG, JPEG and WebP, by Tuilerie and
# TiTiler, one at a time, the same shuffled tile list (z15-z17 tiles inside
# the image), bilinear resampling for both, loopback only.
#
#   bash benches/cog/run.sh     # DURATION=20 WARMUP=5 by default
#
# Needs: wrk, python3-gdal (to build the COG once), and TiTiler
# (pip install titiler.application "uvicorn[standard]"). Reports, per server,
# format and client connections: requests/s, p50/p99 latency, server CPU ms
# per tile (utime + stime of the server and its workers) and RSS.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/bench
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
COG=$OUT/ortho_l93.tif

cargo build --release -q -p tuilerie-server
[ -f "$COG" ] || /usr/bin/python3 benches/cog/make_cog.py "$COG"

# Tiles wholly inside the image (lon 4.8027..4.9055, lat 45.7293..45.8012).
python3 - "$OUT" "$COG" <<'PY'
import math, random, sys
out, cog = sys.argv[1], sys.argv[2]
def tile(lon, lat, z):
    n = 1 << z
    return int((lon + 180) / 360 * n), int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
tiles = []
for z in (15, 16, 17):
    (x0, y0), (x1, y1) = tile(4.8027, 45.8012, z), tile(4.9055, 45.7293, z)
    tiles += [(z, x, y) for x in range(x0 + 1, x1) for y in range(y0 + 1, y1)]
random.Random(2154).shuffle(tiles)
for ext in ("png", "jpg", "webp"):
    with open(f"{out}/cog-urls-tuilerie-{ext}.txt", "w") as f:
        f.writelines(f"/ortho_l93/{z}/{x}/{y}.{ext}\n" for z, x, y in tiles)
    with open(f"{out}/cog-urls-titiler-{ext}.txt", "w") as f:
        f.writelines(f"/cog/tiles/WebMercatorQuad/{z}/{x}/{y}.{ext}?url={cog}&resampling=bilinear&reproject=bilinear\n"
                     for z, x, y in tiles)
print(f"{len(tiles)} tiles", file=sys.stderr)
PY

source benches/load/lib.sh
# Tiles are rendered on every request: ask for no compression, as a map
# client asking for PNG/JPEG/WebP would.
export ENCODING=identity

runs() {
  local name=$1 pid=$2 port=$3
  for ext in png jpg webp; do
    measure "$name $ext" "$pid" "$port" "$OUT/cog-urls-$name-$ext.txt" 8
  done
  measure "$name png" "$pid" "$port" "$OUT/cog-urls-$name-png.txt" 1
  measure "$name png" "$pid" "$port" "$OUT/cog-urls-$name-png.txt" 32
}

echo "| server, format | connections | tiles/s | p50 | p99 | server CPU ms/tile | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"

"$ROOT/target/release/tuilerie" serve "$COG" --bind 127.0.0.1:3110 --log-level warn &
pid=$!
runs tuilerie "$pid" 3110
stop "$pid"

if python3 -c "import titiler.application" 2>/dev/null; then
  (cd /tmp && GDAL_CACHEMAX=200 GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR \
    exec uvicorn titiler.application.main:app --host 127.0.0.1 --port 3111 --workers 2 --log-level warning) &
  pid=$!
  runs titiler "$pid" 3111
  stop "$pid"
  pkill -f "uvicorn titiler.application.main:app --host 127.0.0.1 --port 3111" || true
fi
