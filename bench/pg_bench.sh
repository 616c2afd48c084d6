#!/usr/bin/env bash
# make bench, PostgreSQL part: the ceiling (a bare libpq insert loop), the main job with 1 and 3
# nodes, the meeting pipeline with 1 and 3 nodes, on a PostgreSQL server of its own started and
# stopped here (fsync on). Run after bench/run.sh and bench/pipeline.sh (their SQLite figures
# are quoted beside these). See bench/README.md ("PostgreSQL").
#
#   bench/pg_bench.sh [BUILD_DIR=build]
#
# Results: BUILD_DIR/bench/pg_results.{txt,json}. Loopback only; every process it starts is
# stopped by its PID.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$BUILD/bench
mkdir -p "$OUT"
[ -x "$BUILD/meetlink" ] || { echo "bench: $BUILD/meetlink not found; build first" >&2; exit 1; }
CFLAGS="-O2 -std=gnu17 -Wall -Wextra -Werror"
echo "bench: building the libpq ceiling (and the load tools if missing)"
cc $CFLAGS -I"$(pg_config --includedir)" -o "$OUT/pg_ceiling" bench/pg_ceiling.c -lpq -lpthread
[ -x "$OUT/loadgen" ] || cc $CFLAGS -o "$OUT/loadgen" bench/loadgen.c bench/h1client.c -lpthread
[ -x "$OUT/pipeline_load" ] || cc $CFLAGS -Isrc -o "$OUT/pipeline_load" bench/pipeline_load.c \
	bench/h1client.c src/queue/curl_loop.c -lcurl
exec /usr/bin/python3 bench/pg_bench.py "$BUILD" "$OUT"
