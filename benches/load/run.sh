#!/usr/bin/env bash
# Load run: stored vector tiles from one PMTiles archive, served by Tuilerie,
# by nginx (the same bytes as static files: the upper bound for a stored
# tile) and by martin, one at a time, same request list, loopback only.
#
#   bash benches/load/run.sh            # DURATION=20 CONNECTIONS=32 by default
#   TILES=small bash benches/load/run.sh   # only tiles under 8 KiB
#   ENCODING=identity bash benches/load/run.sh   # clients that do not accept
#                                       # gzip: servers decompress (not nginx)
#
# Needs: wrk, nginx (Debian packages), python3 with PyPI pmtiles, and martin
# (cargo install martin --version 1.14.0 --locked --no-default-features
#  --features pmtiles,mbtiles,metrics). A missing peer is skipped.
# Reports requests/s and latency as wrk sees them, and the server's CPU time
# per request (utime + stime of all its processes, from /proc), which is
# what compares servers when the load generator shares the two cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/bench
if [ "${TILES:-all}" = small ]; then OUT=$ROOT/target/bench/small; fi
DURATION=${DURATION:-20}
CONNECTIONS=${CONNECTIONS:-32}
WARMUP=${WARMUP:-5}

cargo build --release -q -p tuilerie-server
if [ ! -f "$OUT/parcels.pmtiles" ]; then
  if [ "${TILES:-all}" = small ]; then
    python3 benches/load/make_archive.py "$OUT" 8192
  else
    python3 benches/load/make_archive.py "$OUT"
  fi
fi

source benches/load/lib.sh

echo "| server | connections | requests/s | p50 | p99 | server CPU ms/request | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"

"$ROOT/target/release/tuilerie" serve "$OUT/parcels.pmtiles" --bind 127.0.0.1:3100 --log-level warn &
pid=$!
measure tuilerie "$pid" 3100 "$OUT/urls-tuilerie.txt"
stop "$pid"

if command -v nginx >/dev/null && [ "${ENCODING:-gzip}" = gzip ]; then
  mkdir -p "$OUT/nginx"
  cat > "$OUT/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush off;
  tcp_nodelay on;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:3101;
    root $OUT/static;
    location / {
      default_type application/vnd.mapbox-vector-tile;
      add_header Content-Encoding gzip;
    }
  }
}
CONF
  nginx -c "$OUT/nginx/nginx.conf" -g "daemon off;" &
  pid=$!
  measure nginx "$pid" 3101 "$OUT/urls-nginx.txt"
  stop "$pid"
fi

if command -v martin >/dev/null; then
  RUST_LOG=error martin "$OUT/parcels.pmtiles" --listen-addresses 127.0.0.1:3102 >/dev/null 2>&1 &
  pid=$!
  measure martin "$pid" 3102 "$OUT/urls-martin.txt"
  stop "$pid"
fi
