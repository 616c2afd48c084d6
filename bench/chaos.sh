#!/usr/bin/env bash
# make chaos: N bookings over the four remote platforms against the faulting sandbox while
# the daemon is SIGKILLed every 2-5 s; then counts meetings, mails and webhooks (exactly one
# of each). See bench/README.md ("Chaos") and bench/chaos.py for the knobs.
#
#   bench/chaos.sh [BUILD_DIR=build]
#
# Results: BUILD_DIR/chaos/chaos_results.json (the store and every log in a chaos-* folder
# beside it). Loopback only; every process it starts is stopped by its PID.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -x "$BUILD/meetlink" ] || { echo "chaos: $BUILD/meetlink not found; build first" >&2; exit 1; }
OUT=$BUILD/chaos
mkdir -p "$OUT"
echo "chaos: ${CHAOS_N:-20000} bookings, daemon SIGKILLed every ${CHAOS_KILL_MIN:-2}-${CHAOS_KILL_MAX:-5} s"
exec /usr/bin/python3 bench/chaos.py "$BUILD" "$OUT"
