# Shared by the load-run scripts: start-up waits, CPU accounting, one
# measured wrk run. Source it; set OUT, WARMUP, DURATION before measure.

TICK_MS=$(awk "BEGIN { print 1000 / $(getconf CLK_TCK) }")

# Processes (one pid, or several separated by spaces) and all their
# descendants (a server's workers, the FastCGI processes and nginx a
# wrapper script started, or PostgreSQL's backends beside martin).
family() {
  local root child
  for root in $1; do
    echo "$root"
    for child in $(pgrep -P "$root" || true); do family "$child"; done
  done
}

# CPU ticks (utime + stime) of a process and its descendants.
cpu_ticks() {
  local total=0 pid
  for pid in $(family "$1"); do
    # Fields after the ")" of comm: utime and stime are the 12th and 13th.
    total=$((total + $(sed 's/.*) //' "/proc/$pid/stat" | awk '{ print $12 + $13 }')))
  done
  echo "$total"
}

# Resident memory (KiB) of a process and its descendants.
rss_kib() {
  local total=0 pid
  for pid in $(family "$1"); do
    total=$((total + $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status")))
  done
  echo "$total"
}

wait_port() {
  for _ in $(seq 300); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "server on port $1 did not start" >&2
  return 1
}

# measure NAME PID PORT URLS [CONNECTIONS]: warm up, then one timed wrk
# run; prints a table row: requests/s, p50, p99, server CPU ms/request,
# peak RSS MiB.
measure() {
  local name=$1 pid=$2 port=$3 urls=$4 connections=${5:-$CONNECTIONS}
  wait_port "$port"
  URLS=$urls wrk -t1 -c"$connections" -d"${WARMUP}s" -s benches/load/urls.lua "http://127.0.0.1:$port" >/dev/null
  local before after report
  before=$(cpu_ticks "$pid")
  report=$(URLS=$urls wrk -t1 -c"$connections" -d"${DURATION}s" --latency -s benches/load/urls.lua "http://127.0.0.1:$port")
  after=$(cpu_ticks "$pid")
  local requests rps p50 p99 errors rss
  requests=$(echo "$report" | awk '/requests in/ { print $1 }')
  rps=$(echo "$report" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
  p50=$(echo "$report" | awk '$1 == "50%" { print $2 }')
  p99=$(echo "$report" | awk '$1 == "99%" { print $2 }')
  errors=$(echo "$report" | awk '/Non-2xx|Socket errors/ { printf "%s ", $0 }')
  rss=$(( $(rss_kib "$pid") / 1024 ))
  awk -v n="$name" -v c="$connections" -v t=$((after - before)) -v ms="$TICK_MS" -v r="$requests" -v rps="$rps" \
      -v p50="$p50" -v p99="$p99" -v e="$errors" -v rss="$rss" \
    'BEGIN { printf "| %s | %s | %s | %s | %s | %.4f | %s | %s\n", n, c, rps, p50, p99, t * ms / r, rss, (e == "" ? "" : "errors: " e) }'
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
