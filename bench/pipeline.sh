#!/usr/bin/env bash
# make bench, second part: the meeting pipeline (Google Meet through the worker, against the
# sandbox), beside a raw libcurl-multi loop on the same sandbox endpoint in the same run.
# See bench/README.md ("The meeting pipeline") for the figures.
#
#   bench/pipeline.sh [BUILD_DIR=build]
#
# Knobs: BENCH_PIPELINE_N (bookings per run, 20000), BENCH_PIPELINE_LATENCY_MS (150),
# BENCH_PIPELINE_INFLIGHT (512). Results: BUILD_DIR/bench/pipeline_results.{txt,json}.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$BUILD/bench
mkdir -p "$OUT"
[ -x "$BUILD/meetlink" ] || { echo "bench: $BUILD/meetlink not found; build first" >&2; exit 1; }
echo "bench: building the pipeline load tool"
cc -O2 -std=gnu17 -Wall -Wextra -Werror -Isrc -o "$OUT/pipeline_load" bench/pipeline_load.c \
	bench/h1client.c src/queue/curl_loop.c -lcurl
echo "bench: meeting pipeline, ${BENCH_PIPELINE_N:-20000} Google Meet bookings per run (about a minute)"
exec /usr/bin/python3 bench/pipeline_bench.py "$BUILD" "$OUT" "$OUT/pipeline_load"
