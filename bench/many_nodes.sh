#!/usr/bin/env bash
# make many-nodes: three daemons on one PostgreSQL database (a server of its own), 5,000 Google
# Meet bookings confirmed through all three under sandbox faults; one node SIGKILLed a third of
# the way through (left down: its jobs are taken over when their leases run out), another
# stopped and started again at two thirds. Then counts, as make chaos does: every meeting
# ready, exactly one live event per booking at the sandbox, no job lost, every mail and
# webhook once. See bench/README.md ("Many nodes") and bench/chaos.py for the knobs.
#
#   bench/many_nodes.sh [BUILD_DIR=build]
#
# Results: BUILD_DIR/many_nodes/chaos_results.json. Loopback only; every process it starts
# (the PostgreSQL server included) is stopped by its PID.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
[ -x "$BUILD/meetlink" ] || { echo "many-nodes: $BUILD/meetlink not found; build first" >&2; exit 1; }
OUT=$BUILD/many_nodes
mkdir -p "$OUT"
export CHAOS_NODES=${CHAOS_NODES:-3} CHAOS_N=${CHAOS_N:-5000}
export CHAOS_PLATFORMS=${CHAOS_PLATFORMS:-google_meet}
echo "many-nodes: $CHAOS_N $CHAOS_PLATFORMS bookings through $CHAOS_NODES nodes on PostgreSQL"
exec /usr/bin/python3 bench/chaos.py "$BUILD" "$OUT"
