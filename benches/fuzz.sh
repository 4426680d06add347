#!/usr/bin/env bash
# Runs every fuzz target (fuzz/fuzz_targets/, issue 12 part 6) for a bounded
# time, one after the other, and prints per target its executions, their
# rate, the corpus size and what was found.
#
#   benches/fuzz.sh [SECONDS]        (default 30 per target)
#   TARGETS="tiff request" benches/fuzz.sh 600
#
# Needs the nightly toolchain and `cargo install cargo-fuzz --locked`.
# libFuzzer runs in fork mode with one job, so a crash, timeout or OOM is
# saved to fuzz/artifacts/<target>/ and the run goes on to the end of its
# time; `nice` leaves the machine's other users their cores. Each corpus
# (fuzz/corpus/<target>/, not committed) starts from tests/fuzz/<target>/
# (seeds and past crashes, replayed on stable by tests/fuzz_regressions.rs)
# and the small real files of data-samples/ and tests/hostile/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-30}
read -ra targets <<<"${TARGETS:-tiff pmtiles mbtiles gpkg_wkb mvt_encode request}"
# Per input: 10 s and 2 GiB (a single allocation above it counts as an OOM).
limits=(-timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=2048)

# Real files of each target's format, below 100 KB (larger ones slow every
# mutation and add little).
seeds() {
  case $1 in
    tiff) find data-samples/cog -size -100k -name '*.tif*' ;;
    pmtiles) find data-samples tests/hostile -maxdepth 1 -size -100k -name '*.pmtiles' ;;
    mbtiles) find data-samples tests/hostile -size -100k \( -name '*.mbtiles' -o -name '*.gpkg' \) ;;
  esac
}

# Release with debug assertions: overflow checks as in the stable replay.
# The runs use copies of the binaries, so that rebuilding while they run
# (to try a fix) changes neither them nor the children fork mode starts.
nice -n 10 cargo +nightly fuzz build -a
built=fuzz/target/x86_64-unknown-linux-gnu/release
runs=fuzz/target/fuzz-sh
mkdir -p "$runs"
for t in "${targets[@]}"; do cp "$built/$t" "$runs/$t"; done

report=()
for t in "${targets[@]}"; do
  corpus=fuzz/corpus/$t artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  cp -n tests/fuzz/"$t"/* "$corpus"/
  seeds "$t" | while read -r f; do cp -n "$f" "$corpus"/; done
  before=$(find "$artifacts" -type f | wc -l)
  log=fuzz/$t-${seconds}s.log
  echo "== $t: $seconds s (log in $log)"
  nice -n 10 "$runs/$t" "$corpus" \
    -max_total_time="$seconds" "${limits[@]}" \
    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -artifact_prefix="$artifacts/" >"$log" 2>&1 || true
  # Fork mode's status lines: "#EXECS: cov: … corp: N … exec/s: R
  # oom/timeout/crash: O/T/C time: Ss …"; the last one has the totals.
  last=$(grep -E '^#[0-9]+: cov:' "$log" | tail -1)
  execs=$(sed -E 's/^#([0-9]+):.*/\1/' <<<"$last")
  found=$(sed -E 's/.*oom\/timeout\/crash: ([0-9\/]+).*/\1/' <<<"$last")
  ran=$(sed -E 's/.* time: ([0-9]+)s.*/\1/' <<<"$last")
  # The line's exec/s is the last interval's; this is the whole run's.
  rate=$((${execs:-0} / (${ran:-0} > 0 ? ${ran:-0} : 1)))
  new=$(($(find "$artifacts" -type f | wc -l) - before))
  report+=("$(printf '%-11s %12s %8s %7s %6ss %17s %9s' "$t" "${execs:-?}" "${rate:-?}" \
    "$(find "$corpus" -type f | wc -l)" "${ran:-?}" "${found:-?}" "$new")")
done

printf '%-11s %12s %8s %7s %7s %17s %9s\n' target executions exec/s corpus time oom/timeout/crash artifacts
printf '%s\n' "${report[@]}"
