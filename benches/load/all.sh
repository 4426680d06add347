#!/usr/bin/env bash
# The whole load matrix behind benches/README.md: all/small tiles at 32, 8
# and 1 connections, then clients without gzip. Takes about 10 minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."
for tiles in all small; do
  for connections in 32 8 1; do
    echo "### TILES=$tiles CONNECTIONS=$connections"
    TILES=$tiles CONNECTIONS=$connections bash benches/load/run.sh
  done
done
echo "### ENCODING=identity CONNECTIONS=32"
ENCODING=identity bash benches/load/run.sh
