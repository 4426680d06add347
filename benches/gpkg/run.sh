#!/usr/bin/env bash
# Load run: Mapbox Vector Tiles generated per request from a GeoPackage
# (benches/gpkg/make_gpkg.py: 200 000 cadastre-like polygons around Lyon,
# EPSG:3857 so nobody reprojects, R-tree index), by Tuilerie and by MapServer
# (WMS GetMap in FORMAT=application/vnd.mapbox-vector-tile, through OGR), one
# at a time, on the same shuffled tile lists: z12 (4 tiles, ~25 000 features
# each), z14 (121 tiles) and z16 (2116 tiles), every tile wholly inside the
# data. MVT extent 4096, 64-unit buffer, all six attributes, no
# simplification, for both. Clients ask for no compression (no
# Accept-Encoding header; MapServer never compresses MVT anyway): both
# servers send raw MVT.
#
# Then, where available, martin over the same parcels loaded into PostGIS
# (ogr2ogr, GiST index): martin's SQL asks PostGIS for the tile
# (ST_AsMVTGeom + ST_AsMVT), so its server CPU is martin's and
# PostgreSQL's together. Needs a martin built with its `postgres` feature
# (MARTIN_PG; `cargo install martin --version 1.14.0 --locked
# --no-default-features --features postgres,metrics --root DIR`, about 9
# minutes, gives DIR/bin/martin) and PostgreSQL 15 with
# PostGIS 3 (apt: postgresql-15-postgis-3); the database is made once in
# $OUT/gpkg-pgdata.
#
# Then GDAL's batch writer on the same zooms and area, for scale:
# ogr2ogr -f MVT, one run per zoom, tiles per second of wall and CPU time.
#
#   bash benches/gpkg/run.sh                      # DURATION=20 WARMUP=5
#   DURATION=5 WARMUP=2 SERVERS="mapserver gdal" bash benches/gpkg/run.sh
#   BUILD=0 ...                                  # use target/release as it is
#   SIMPLIFY=0 ...                               # Tuilerie without simplification
#
# Needs: wrk, python3-gdal (/usr/bin/python3, to build the GeoPackage once),
# python3 with mapbox_vector_tile (to decode a sample), MapServer (Debian
# cgi-mapserver spawn-fcgi nginx), gdal-bin. A missing peer is skipped, and
# so is a Tuilerie that does not serve the layer (it says with which status).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/target/bench
DURATION=${DURATION:-20}
WARMUP=${WARMUP:-5}
SERVERS=${SERVERS:-"tuilerie mapserver martin gdal"}
GPKG=$OUT/parcels.gpkg
ZOOMS="12 14 16"
PY=${PYTHON:-python3}   # the one with mapbox_vector_tile

source benches/load/lib.sh
source benches/load/mapserver.sh
# Tiles are generated per request: no compression asked, from either server.
export ENCODING=identity

# A z12 tile takes MapServer 0.15-0.3 s; queued behind 7 others on two
# processes it can pass wrk's default 2 s timeout, which would drop it
# from the counts. lib.sh runs `wrk` from PATH: give it a longer timeout.
mkdir -p "$OUT/gpkg-bin"
printf '#!/bin/sh\nexec %s --timeout 60s "$@"\n' "$(command -v wrk)" > "$OUT/gpkg-bin/wrk"
chmod +x "$OUT/gpkg-bin/wrk"
export PATH=$OUT/gpkg-bin:$PATH

# Everything this script starts is stopped on exit, whatever happens.
STARTED=""
cleanup() {
  local pid all=""
  for pid in $STARTED; do all="$all $(family "$pid")"; done
  for pid in $all; do kill "$pid" 2>/dev/null || true; done
  sleep 1
  for pid in $all; do kill -KILL "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

has() { [[ " $SERVERS " == *" $1 "* ]]; }

if has tuilerie && [ "${BUILD:-1}" != 0 ] && ! cargo build --release -q -p tuilerie-server; then
  echo "Tuilerie does not build: left out" >&2
  SERVERS=${SERVERS/tuilerie/}
fi
[ -f "$GPKG" ] || /usr/bin/python3 benches/gpkg/make_gpkg.py "$GPKG"

# The shuffled tile lists, per zoom and server, of the tiles wholly inside
# the layer's extent: $OUT/gpkg-urls-SERVER-zZ.txt; and the union of each
# zoom's tiles and their buffer as a bbox for ogr2ogr -spat:
# $OUT/gpkg-bbox-zZ.txt.
EXTENT=$(/usr/bin/python3 -c "
from osgeo import ogr
ds = ogr.Open('$GPKG')  # kept: a layer outliving its dataset crashes
print(*ds.GetLayer('parcels').GetExtent())")
python3 - "$OUT" $EXTENT <<'PY'
import math, random, sys
out = sys.argv[1]
minx, maxx, miny, maxy = map(float, sys.argv[2:6])
HALF = 20037508.342789244
for z in (12, 14, 16):
    size = 2 * HALF / (1 << z)
    x0, x1 = math.ceil((minx + HALF) / size), math.floor((maxx + HALF) / size)
    y0, y1 = math.ceil((HALF - maxy) / size), math.floor((HALF - miny) / size)
    tiles = [(x, y) for x in range(x0, x1) for y in range(y0, y1)]
    random.Random(3857 + z).shuffle(tiles)
    def bbox(x, y):
        return -HALF + x * size, HALF - (y + 1) * size, -HALF + (x + 1) * size, HALF - y * size
    with open(f"{out}/gpkg-urls-tuilerie-z{z}.txt", "w") as f:
        f.writelines(f"/parcels/{z}/{x}/{y}.pbf\n" for x, y in tiles)
    with open(f"{out}/gpkg-urls-mapserver-z{z}.txt", "w") as f:
        f.writelines("/?SERVICE=WMS&VERSION=1.1.1&REQUEST=GetMap&LAYERS=parcels&STYLES="
                     "&SRS=EPSG:3857&BBOX={:.9f},{:.9f},{:.9f},{:.9f}".format(*bbox(x, y))
                     + "&WIDTH=256&HEIGHT=256&FORMAT=application/vnd.mapbox-vector-tile\n"
                     for x, y in tiles)
    with open(f"{out}/gpkg-urls-martin-z{z}.txt", "w") as f:
        f.writelines(f"/parcels/{z}/{x}/{y}\n" for x, y in tiles)
    with open(f"{out}/gpkg-tiles-z{z}.txt", "w") as f:
        f.writelines(f"{z} {x} {y}\n" for x, y in tiles)
    with open(f"{out}/gpkg-bbox-z{z}.txt", "w") as f:
        b = size * 64 / 4096  # the tile buffer: the edge tiles need what lies in it
        (ax, ay), (bx, by) = bbox(x0, y1 - 1)[:2], bbox(x1 - 1, y0)[2:]
        print(ax - b, ay - b, bx + b, by + b, file=f)
    print(f"z{z}: {len(tiles)} tiles", file=sys.stderr)
PY

# MapServer: the layer through OGR, every attribute with its OGR type, MVT
# extent 4096 and EDGE_BUFFER 4 (MapServer counts it in 256-pixel units:
# x16 = 64 of 4096). No CLASS: none is needed for MVT and none would be
# used. The map's and the layer's projections are the same: no reprojection.
cat > "$OUT/gpkg-parcels.map" <<MAPFILE
MAP
  NAME "bench"
  EXTENT -20037508 -20037508 20037508 20037508
  SIZE 256 256
  UNITS METERS
  PROJECTION "init=epsg:3857" END
  OUTPUTFORMAT
    NAME "mvt"
    DRIVER MVT
    MIMETYPE "application/vnd.mapbox-vector-tile"
    EXTENSION "pbf"
    FORMATOPTION "EXTENT=4096"
    FORMATOPTION "EDGE_BUFFER=4"
  END
  WEB METADATA "wms_enable_request" "*" "wms_srs" "EPSG:3857" "wms_title" "bench" END END
  LAYER
    NAME "parcels"
    TYPE POLYGON
    STATUS ON
    CONNECTIONTYPE OGR
    CONNECTION "$GPKG"
    DATA "parcels"
    PROJECTION "init=epsg:3857" END
    # Keep the GeoPackage open between requests in a FastCGI process.
    PROCESSING "CLOSE_CONNECTION=DEFER"
    METADATA
      "wms_title" "parcels"
      "gml_include_items" "all"
      "gml_types" "auto"
    END
  END
END
MAPFILE

# sample NAME PORT SERVER: fetch the first tiles of each zoom's list (all 4
# at z12, 10 at z14, 20 at z16), check they are uncompressed MVT, and
# print their mean size and feature count, and the attribute types seen.
sample() {
  local name=$1 port=$2 server=$3 z n i path dir=$OUT/gpkg-sample/$3
  rm -rf "$dir"
  for z in $ZOOMS; do
    n=$(( z == 12 ? 4 : z == 14 ? 10 : 20 ))
    mkdir -p "$dir/$z"
    i=0
    while read -r path; do
      i=$((i + 1))
      curl -sf -D "$dir/$z/$i.headers" -o "$dir/$z/$i.pbf" "http://127.0.0.1:$port$path" ||
        { echo "warning: $name failed on $path" >&2; rm -f "$dir/$z/$i.pbf"; }
    done < <(head -n "$n" "$OUT/gpkg-urls-$server-z$z.txt")
    if cat "$dir/$z"/*.headers 2>/dev/null | grep -qi '^content-encoding'; then
      echo "warning: $name sent Content-Encoding at z$z" >&2
    fi
  done
  decode "$name" "$dir" || echo "| – | $name | decoding failed | | | | |"
}

# decode NAME DIR: DIR/Z/*.pbf -> one table row per zoom.
decode() {
  "$PY" - "$@" <<'PY'
import collections, glob, os, sys
import mapbox_vector_tile
name, root = sys.argv[1:3]
for z in sorted(os.listdir(root), key=int):
    files = sorted(glob.glob(f"{root}/{z}/*.pbf"))
    if not files:
        continue
    sizes, counts, types, layers = [], [], collections.Counter(), set()
    for path in files:
        data = open(path, "rb").read()
        tile = mapbox_vector_tile.decode(data)
        layers.update(f"{k}:{v.get('extent')}" for k, v in tile.items())
        sizes.append(len(data))
        counts.append(sum(len(layer["features"]) for layer in tile.values()))
        for layer in tile.values():
            for f in layer["features"]:
                for k, v in f["properties"].items():
                    types[k, type(v).__name__] += 1
    kinds = ", ".join(f"{k} {t}" + ("" if c == sum(counts) else f" ×{c}") for (k, t), c in sorted(types.items()))
    print(f"| z{z} | {name} | {len(files)} | {sum(sizes) / len(sizes):,.0f} | {sum(counts) / len(counts):,.0f} "
          f"| {' '.join(sorted(layers))} | {kinds} |")
PY
}

SAMPLES=""
# runs NAME PID PORT SERVER: the measured runs of one server.
runs() {
  local name=$1 pid=$2 port=$3 server=$4 z
  for z in $ZOOMS; do
    # z12's list has 4 tiles: at 8 connections each would be asked for
    # twice at once, and Tuilerie's single flight would cut it once for
    # both (MapServer twice). At 2 the tiles in flight differ (unless one
    # connection gets through four requests while the other waits).
    local connections=8
    [ "$z" = 12 ] && connections=2
    measure "z$z, $name" "$pid" "$port" "$OUT/gpkg-urls-$server-z$z.txt" $connections
  done
  measure "z12, $name" "$pid" "$port" "$OUT/gpkg-urls-$server-z12.txt" 1
}

echo "uptime before: $(uptime)"
echo
echo "| case, server | connections | tiles/s | p50 | p99 | server CPU ms/tile | RSS MiB |"
echo "|---|---:|---:|---:|---:|---:|---:|"

if has tuilerie; then
  # The rendered-tile cache off: every listed tile fits in its default
  # 64 MiB, so after the warm-up it would send stored bytes, and neither
  # peer keeps generated tiles. TILE_CACHE_MIB=64 shows the cached case.
  # SIMPLIFY=0 turns simplification off, as MapServer and GDAL work here.
  cat > "$OUT/gpkg-tuilerie.toml" <<TOML
tile_cache_mib = ${TILE_CACHE_MIB:-0}

[[layers]]
id = "parcels"
path = "$GPKG"
simplify = ${SIMPLIFY:-1}
TOML
  "$ROOT/target/release/tuilerie" serve --config "$OUT/gpkg-tuilerie.toml" --bind 127.0.0.1:3120 --log-level warn &
  pid=$!
  STARTED="$STARTED $pid"
  status=000
  if wait_port 3120; then
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:3120$(head -n1 "$OUT/gpkg-urls-tuilerie-z14.txt")" || true)
  fi
  if [ "$status" = 200 ]; then
    SAMPLES+=$(sample Tuilerie 3120 tuilerie)$'\n'
    runs Tuilerie "$pid" 3120 tuilerie
  else
    echo "| Tuilerie | – | not served (HTTP $status for /parcels/z/x/y.pbf) | | | | |"
  fi
  stop "$pid"
fi

if has mapserver && [ -x /usr/lib/cgi-bin/mapserv ] && command -v spawn-fcgi >/dev/null; then
  pid=$(start_mapserver "$OUT/gpkg-parcels.map" 3122)
  STARTED="$STARTED $pid"
  wait_port 3122
  STARTED="$STARTED $(family "$pid")"
  SAMPLES+=$(sample MapServer 3122 mapserver)$'\n'
  runs MapServer "$pid" 3122 mapserver
  stop_mapserver "$pid"
fi

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
MARTIN_PG=${MARTIN_PG:-$(command -v martin || true)}
if has martin && [ -x "$PG_BIN/postgres" ] && [ -n "$MARTIN_PG" ] &&
  "$MARTIN_PG" --help 2>/dev/null | grep -q -- '--pool-size'; then
  # PostgreSQL refuses to run as root: as its own user then.
  as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
  PGDATA_DIR=$OUT/gpkg-pgdata
  if [ ! -f "$PGDATA_DIR/PG_VERSION" ]; then
    mkdir -p "$PGDATA_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PGDATA_DIR"
    as_pg "$PG_BIN/initdb" -D "$PGDATA_DIR" -A trust -U postgres >/dev/null
  fi
  # Tile serving settings: a shared cache that holds the table and its
  # index (~100 MB), no JIT (it compiles each z12 query anew, for seconds).
  as_pg "$PG_BIN/postgres" -D "$PGDATA_DIR" -p 3125 -k /tmp -c listen_addresses=127.0.0.1 \
    -c shared_buffers=256MB -c jit=off -c max_connections=40 >"$OUT/gpkg-postgres.log" 2>&1 &
  pg=$!
  STARTED="$STARTED $pg"
  until "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p 3125; do sleep 0.2; done
  PSQL=("$PG_BIN/psql" -q -h 127.0.0.1 -p 3125 -U postgres)
  if ! "${PSQL[@]}" -d parcels -c 'select 1 from parcels limit 1' >/dev/null 2>&1; then
    "${PSQL[@]}" -c 'create database parcels'
    "${PSQL[@]}" -d parcels -c 'create extension postgis'
    ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=3125 user=postgres dbname=parcels" "$GPKG" parcels \
      -nln parcels -lco GEOMETRY_NAME=geom -lco FID=fid -lco SPATIAL_INDEX=GIST
    "${PSQL[@]}" -d parcels -c 'vacuum analyze parcels'
  fi
  # The same tiles as the others: extent 4096, 64-unit buffer, clipped,
  # the GeoPackage's fid as the feature id, all six attributes; martin's
  # tile cache off, as Tuilerie's: every request makes its tile.
  cat > "$OUT/gpkg-martin.yaml" <<YAML
listen_addresses: 127.0.0.1:3124
cache_size_mb: 0
postgres:
  connection_string: postgresql://postgres@127.0.0.1:3125/parcels
  pool_size: 8
  auto_publish: false
  tables:
    parcels:
      schema: public
      table: parcels
      srid: 3857
      geometry_column: geom
      id_column: fid
      geometry_type: POLYGON
      extent: 4096
      buffer: 64
      clip_geom: true
      properties: { id: int4, name: varchar, area: float8, kind: varchar, built: int4, flag: bool }
YAML
  "$MARTIN_PG" --config "$OUT/gpkg-martin.yaml" >"$OUT/gpkg-martin.log" 2>&1 &
  pid=$!
  STARTED="$STARTED $pid"
  wait_port 3124
  SAMPLES+=$(sample "martin + PostGIS" 3124 martin)$'\n'
  runs "martin + PostGIS" "$pid $pg" 3124 martin
  stop "$pid"
  # The postmaster itself (not the shell or runuser above it): a fast
  # shutdown.
  kill -INT "$(head -n1 "$PGDATA_DIR/postmaster.pid")" 2>/dev/null || true
  wait "$pg" 2>/dev/null || true
elif has martin; then
  echo "martin + PostGIS left out: needs MARTIN_PG, a martin built with its postgres feature, and $PG_BIN/postgres with PostGIS" >&2
fi

if has gdal && command -v ogr2ogr >/dev/null; then
  # GDAL's MVT writer, one run per zoom over the same tiles' buffered bbox
  # (-spat: the features that touch it, so the tiles around get slivers).
  # MAX_SIZE and MAX_FEATURES raised from their defaults (500 kB, 200 000)
  # so that GDAL neither drops features nor lowers the precision of the
  # ~2 MB z12 tiles. The writer clips and encodes features on a pool of
  # CPLGetNumCPUs() threads (GDAL_NUM_THREADS overrides), then assembles the
  # tiles on one. Tiles/s and CPU per tile count the listed tiles only.
  echo
  echo "| ogr2ogr -f MVT | tiles written | of which listed | wall s | CPU s (user+sys) | peak threads | listed tiles/s | CPU ms/listed tile | RSS MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  for z in $ZOOMS; do
    dir=$OUT/gpkg-mvt-z$z
    rm -rf "$dir" "$dir.temp.db"
    /usr/bin/time -v -o "$OUT/gpkg-time-z$z.txt" ogr2ogr -f MVT "$dir" "$GPKG" parcels \
      -spat $(cat "$OUT/gpkg-bbox-z$z.txt") \
      -dsco MINZOOM="$z" -dsco MAXZOOM="$z" -dsco COMPRESS=NO -dsco EXTENT=4096 -dsco BUFFER=64 \
      -dsco MAX_SIZE=100000000 -dsco MAX_FEATURES=10000000 &
    tpid=$!
    STARTED="$STARTED $tpid"
    threads=1
    while kill -0 "$tpid" 2>/dev/null; do
      for p in $(pgrep -P "$tpid" || true); do
        t=$(awk '/^Threads/ { print $2 }' "/proc/$p/status" 2>/dev/null || echo 0)
        if ((t > threads)); then threads=$t; fi
      done
      sleep 0.2
    done
    wait "$tpid"
    written=$(find "$dir" -name '*.pbf' | wc -l)
    listed=0
    while read -r tz tx ty; do
      if [ -f "$dir/$tz/$tx/$ty.pbf" ]; then listed=$((listed + 1)); fi
    done < "$OUT/gpkg-tiles-z$z.txt"
    awk -v z="$z" -v w="$written" -v l="$listed" -v th="$threads" '
      /User time/ { u = $NF } /System time/ { s = $NF } /Maximum resident/ { rss = $NF }
      /Elapsed/ { n = split($NF, p, ":"); wall = (n == 3 ? p[1] * 3600 + p[2] * 60 + p[3] : p[1] * 60 + p[2]) }
      END { printf "| z%s | %d | %d | %.1f | %.1f | %d | %.1f | %.1f | %.0f |\n",
              z, w, l, wall, u + s, th, l / wall, (u + s) * 1000 / l, rss / 1024 }' "$OUT/gpkg-time-z$z.txt"
    # The same tiles as the servers' sample, from GDAL's output.
    mkdir -p "$OUT/gpkg-sample/gdal/$z"
    rm -f "$OUT/gpkg-sample/gdal/$z"/*.pbf
    n=$(( z == 12 ? 4 : z == 14 ? 10 : 20 ))
    i=0
    while read -r tz tx ty; do
      i=$((i + 1))
      cp "$dir/$tz/$tx/$ty.pbf" "$OUT/gpkg-sample/gdal/$z/$i.pbf" || echo "warning: GDAL wrote no $tz/$tx/$ty" >&2
    done < <(head -n "$n" "$OUT/gpkg-tiles-z$z.txt")
  done
  SAMPLES+=$(decode "ogr2ogr" "$OUT/gpkg-sample/gdal" || echo "| – | ogr2ogr | decoding failed | | | | |")$'\n'
fi

echo
echo "Content of a sample of the listed tiles (the first of each shuffled list):"
echo
echo "| zoom | source | tiles | mean bytes | mean features | layer:extent | attribute types (×count where not every feature) |"
echo "|---|---|---:|---:|---:|---|---|"
printf '%s' "$SAMPLES"
echo
echo "uptime after: $(uptime)"
