#!/usr/bin/env bash
# Soak run (issue 12, part 7): `tuilerie serve` on data-samples/ for
# DURATION seconds (600) under CONNECTIONS concurrent connections (1000)
# over a mixed request list (benches/soak/make_urls.py: stored, rendered and
# cut tiles, WMTS, TileJSON, the catalog and requests that must fail), on
# loopback only. Reports each status's count, socket errors, p50/p99 as
# wrk sees them, and the server's RSS every 10 s.
#
#   bash benches/soak/run.sh                 # DURATION=600 CONNECTIONS=1000
#   BUILD=0 DURATION=60 bash benches/soak/run.sh
#
# Target: no status but 200, 204, 304, 400, 404 and a designed 503 (a full
# CPU pool or a render past its deadline), no socket error, and RSS after
# warm-up within 10 % of its value at minute 2. Needs wrk (Debian).
set -euo pipefail
cd "$(dirname "$0")/../.."
DURATION=${DURATION:-600}
CONNECTIONS=${CONNECTIONS:-1000}
PORT=${PORT:-18090}
OUT=target/soak
mkdir -p "$OUT"
[ "${BUILD:-1}" = 0 ] || cargo build --release -q -p tuilerie-server
# wrk's connections and the server's sockets, with room to spare.
ulimit -n "$(ulimit -Hn)"

./target/release/tuilerie serve --bind 127.0.0.1:$PORT --log-level warn 2> "$OUT/server.log" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -s -o /dev/null "http://127.0.0.1:$PORT/health" && break
  sleep 0.1
done
python3 benches/soak/make_urls.py "http://127.0.0.1:$PORT" > "$OUT/urls.txt"
echo "$(wc -l < "$OUT/urls.txt") URLs, $CONNECTIONS connections, ${DURATION}s"

# RSS every 10 s while the load runs.
(
  start=$(date +%s)
  while kill -0 $server 2>/dev/null; do
    echo "$(( $(date +%s) - start )) $(awk '/VmRSS/ { print $2 }' /proc/$server/status)"
    sleep 10
  done
) > "$OUT/rss.txt" &
sampler=$!

URLS=$OUT/urls.txt wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --timeout 10s --latency \
  -s benches/soak/soak.lua "http://127.0.0.1:$PORT" | tee "$OUT/wrk.txt"
kill $sampler 2>/dev/null || true

echo "RSS (MiB) every 10 s:"
awk '{ printf "%s:%d ", $1, $2 / 1024 } END { print "" }' "$OUT/rss.txt"
awk 'NR == 1 { next } $1 >= 120 && !at2 { at2 = $2 } { last = $2; if ($2 > peak && $1 >= 120) peak = $2 }
  END { if (at2) printf "RSS at minute 2: %d MiB, at the end: %d MiB (%+.1f %%), peak after minute 2: %d MiB\n",
    at2 / 1024, last / 1024, (last - at2) * 100 / at2, peak / 1024 }' "$OUT/rss.txt"
echo "server log: $(wc -l < "$OUT/server.log") lines; abandoned renders: $(grep -c 'abandoned' "$OUT/server.log" || true)"
unexpected=$(awk '/^status/ { code = $2 + 0; if (code != 200 && code != 204 && code != 304 && code != 400 && code != 404 && code != 503) n += $3 } END { print n + 0 }' "$OUT/wrk.txt")
socket=$(awk '/^socket errors/ { gsub(",", ""); print $4 + $6 + $8 + $10 }' "$OUT/wrk.txt")
echo "unexpected statuses: $unexpected; socket errors: $socket"
[ "$unexpected" = 0 ] && [ "$socket" = 0 ]
