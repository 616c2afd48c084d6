#!/usr/bin/env bash
# make bench, the waiting room: 1,000 guests waiting on live event streams, the hosts admit
# everyone; time from the admit to each guest's `admitted` event, and RSS per waiting guest,
# in both threading models. See bench/README.md ("The waiting room").
#
#   bench/waiting.sh [BUILD_DIR=build]
#
# Knobs: BENCH_WAITING_GUESTS (1000), BENCH_WAITING_POOLS ("0,2": the MEETLINK_HTTP_POOL values
# to run). Results: BUILD_DIR/bench/waiting_results.json.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
OUT=$BUILD/bench
mkdir -p "$OUT"
[ -x "$BUILD/meetlink" ] || { echo "bench: $BUILD/meetlink not found; build first" >&2; exit 1; }
echo "bench: waiting room, ${BENCH_WAITING_GUESTS:-1000} guests on live streams (about a minute)"
exec /usr/bin/python3 bench/waiting_bench.py "$BUILD" "$OUT"
