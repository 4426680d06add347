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
TICK_MS=$(awk "BEGIN { print 1000 / $(getconf CLK_TCK) }")

cargo build --release -q -p tuilerie-server
if [ ! -f "$OUT/parcels.pmtiles" ]; then
  if [ "${TILES:-all}" = small ]; then
    python3 benches/load/make_archive.py "$OUT" 8192
  else
    python3 benches/load/make_archive.py "$OUT"
  fi
fi

# CPU ticks (utime + stime) of a process and its children.
cpu_ticks() {
  local total=0 pid
  for pid in "$1" $(pgrep -P "$1" || true); do
    # Fields after the ")" of comm: utime and stime are the 12th and 13th.
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}

wait_port() {
  for _ in $(seq 100); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# measure NAME PID PORT: warm up, then one timed wrk run; prints a table row.
measure() {
  local name=$1 pid=$2 port=$3 urls="$OUT/urls-$1.txt"
  wait_port "$port"
  URLS=$urls wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s benches/load/urls.lua "http://127.0.0.1:$port" >/dev/null
  local before after report
  before=$(cpu_ticks "$pid")
  report=$(URLS=$urls wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s benches/load/urls.lua "http://127.0.0.1:$port")
  after=$(cpu_ticks "$pid")
  local requests rps p50 p99 errors
  requests=$(echo "$report" | awk '/requests in/ { print $1 }')
  rps=$(echo "$report" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  p50=$(echo "$report" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$report" | awk '$1 == "99%" { print $2 }')
  errors=$(echo "$report" | awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }')
  awk -v n="$name" -v t=$((after - before)) -v ms="$TICK_MS" -v r="$requests" -v rps="$rps" \
      -v p50="$p50" -v p99="$p99" -v e="$errors" \
    'BEGIN { printf "| %s | %s | %s | %s | %.4f | %s\n", n, rps, p50, p99, t * ms / r, (e == "" ? "" : "errors: " e) }'
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

echo "| server | requests/s | p50 | p99 | server CPU ms/request |"
echo "|---|---:|---:|---:|---:|"

"$ROOT/target/release/tuilerie" serve "$OUT/parcels.pmtiles" --bind 127.0.0.1:3100 --log-level warn &
pid=$!
measure tuilerie "$pid" 3100
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
  measure nginx "$pid" 3101
  stop "$pid"
fi

if command -v martin >/dev/null; then
  RUST_LOG=error martin "$OUT/parcels.pmtiles" --listen-addresses 127.0.0.1:3102 >/dev/null 2>&1 &
  pid=$!
  measure martin "$pid" 3102
  stop "$pid"
fi
