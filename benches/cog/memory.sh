#!/usr/bin/env bash
# Memory over a long load run: Tuilerie renders tiles of the benchmark COG
# (benches/cog/run.sh builds it and its tile list) for MINUTES minutes at 8
# connections, default caches (256 MiB blocks, 64 MiB rendered tiles);
# resident memory is sampled every 30 s. Flat means bounded caches hold.
#
#   MINUTES=10 bash benches/cog/memory.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=$PWD/target/bench
MINUTES=${MINUTES:-10}
[ -f "$OUT/cog-urls-tuilerie-png.txt" ] || { echo "run benches/cog/run.sh first" >&2; exit 1; }
cargo build --release -q -p tuilerie-server
source benches/load/lib.sh
./target/release/tuilerie serve "$OUT/ortho_l93.tif" --bind 127.0.0.1:3112 --log-level warn &
pid=$!
wait_port 3112
ENCODING=identity URLS=$OUT/cog-urls-tuilerie-png.txt wrk -t1 -c8 -d"${MINUTES}m" -s benches/load/urls.lua http://127.0.0.1:3112 > "$OUT/memory-wrk.txt" &
load=$!
echo "| minute | RSS MiB |"
echo "|---:|---:|"
for i in $(seq 0 $((MINUTES * 2))); do
  awk -v m="$i" -v r="$(( $(rss_kib "$pid") / 1024 ))" 'BEGIN { printf "| %.1f | %d |\n", m / 2, r }'
  sleep 30
done
wait "$load" || true
grep -E "requests in|Non-2xx|Socket errors" "$OUT/memory-wrk.txt" || true
stop "$pid"
