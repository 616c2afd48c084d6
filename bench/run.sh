#!/usr/bin/env bash
# make bench: the main job (create + confirm Jitsi bookings, durable commits) against the real
# daemon, beside the two ceilings measured in the same run: the daemon's own /healthz rate and
# raw SQLite durable inserts on the same disk. See bench/README.md for how to read the figures.
#
#   bench/run.sh [BUILD_DIR=build]
#
# Knobs (environment): BENCH_DURATION (s, default 10), BENCH_WARMUP (s, 2), BENCH_CONNS (64),
# BENCH_THREADS (loadgen threads, 2), MEETLINK_HTTP_POOL (passed to the daemon; unset = its
# default, thread per connection). Only 127.0.0.1 is used. Every process started here is
# stopped by its PID on exit. Results: the table on stdout and BUILD_DIR/bench/results.txt.
set -euo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$BUILD/meetlink
OUT=$BUILD/bench
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
CONNS=${BENCH_CONNS:-64}
THREADS=${BENCH_THREADS:-2}
KEY=benchkey_0123456789abcdef
FLOOR=8000

[ -x "$BIN" ] || { echo "bench: $BIN not found; build first (make bench does)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: wrk is missing (scripts/bootstrap.sh bench)" >&2; exit 1; }

rm -rf "$OUT"
mkdir -p "$OUT"

PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A bounded wait for a background job; kills it (by PID) if it overstays.
wait_bounded() { # pid seconds
	local pid=$1 limit=$2 i=0
	while kill -0 "$pid" 2>/dev/null; do
		if [ $i -ge $((limit * 10)) ]; then
			echo "bench: process $pid overran ${limit}s; stopping it" >&2
			kill "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$pid" 2>/dev/null
}

# "key value" lines → value of key
val() { awk -v k="$2" '$1 == k { print $2; exit }' "$1"; }

echo "bench: building the load generator and the SQLite ceiling"
CFLAGS="-O2 -std=gnu17 -Wall -Wextra -Werror"
cc $CFLAGS -o "$OUT/loadgen" bench/loadgen.c bench/h1client.c -lpthread
cc $CFLAGS -o "$OUT/sqlite_ceiling" bench/sqlite_ceiling.c -lsqlite3

# --- ceiling 1: raw SQLite durable inserts, same disk, nothing else running ---
echo "bench: SQLite ceiling (WAL, synchronous=FULL, ~90-byte rows), 2 x 3 s"
"$OUT/sqlite_ceiling" "$OUT/ceiling.db" 3 >"$OUT/sqlite.txt" &
pid=$!
PIDS+=("$pid")
wait_bounded "$pid" 30
rm -f "$OUT"/ceiling.db*

# --- the daemon, fresh store ---
echo "bench: starting the daemon (MEETLINK_HTTP_POOL=${MEETLINK_HTTP_POOL:-unset: thread per connection})"
MEETLINK_LISTEN=127.0.0.1:0 MEETLINK_DB="sqlite:$OUT/store/meetlink.db" \
	MEETLINK_BOOTSTRAP_API_KEY=$KEY MEETLINK_LOG_LEVEL=${MEETLINK_LOG_LEVEL:-warn} \
	MEETLINK_RATE_LIMIT=${MEETLINK_RATE_LIMIT:-0} \
	"$BIN" serve >"$OUT/daemon.out" 2>"$OUT/daemon.err" &
DPID=$!
PIDS+=("$DPID")
PORT=
for _ in $(seq 100); do
	PORT=$(sed -n 's|^meetlink: listening on http://127\.0\.0\.1:\([0-9]*\).*|\1|p' "$OUT/daemon.out")
	[ -n "$PORT" ] && break
	kill -0 "$DPID" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$PORT" ]; then
	echo "bench: the daemon did not start:" >&2
	cat "$OUT/daemon.err" >&2
	exit 1
fi

# --- the main job: create + confirm pairs ---
echo "bench: create+confirm, $CONNS connections, ${WARMUP}s warm-up + ${DURATION}s measured"
"$OUT/loadgen" -p "$PORT" -k "$KEY" -c "$CONNS" -t "$THREADS" -w "$WARMUP" -d "$DURATION" \
	-m pairs >"$OUT/pairs.txt" 2>"$OUT/pairs.err" &
pid=$!
PIDS+=("$pid")
wait_bounded "$pid" $((WARMUP + DURATION + 20)) || { cat "$OUT/pairs.err" >&2; exit 1; }
RSS_PEAK_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status")
RSS_NOW_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$DPID/status")
DTHREADS=$(awk '/^Threads:/ { print $2 }' "/proc/$DPID/status")

# --- ceiling 2: the daemon's own /healthz rate (after the main run, so VmHWM above is the job's) ---
echo "bench: /healthz ceiling, wrk -t2 -c64 -d10s"
wrk -t2 -c64 -d10s "http://127.0.0.1:$PORT/healthz" >"$OUT/wrk.txt" 2>&1 &
pid=$!
PIDS+=("$pid")
wait_bounded "$pid" 30
echo "bench: /healthz with the same load generator, $CONNS connections, 5 s"
"$OUT/loadgen" -p "$PORT" -c "$CONNS" -t "$THREADS" -w 1 -d 5 -m healthz \
	>"$OUT/healthz.txt" 2>"$OUT/healthz.err" &
pid=$!
PIDS+=("$pid")
wait_bounded "$pid" 20

# --- the join gateway: passes through one participant's link (a Jitsi booking starting now,
# no waiting room): each GET /j/{token}/go resolves the link, gates, records the pass (an
# audit entry: a durable write) and answers 303 into the meeting ---
GW_PATH=$(/usr/bin/python3 - "$PORT" "$KEY" <<'PY'
import json, sys, time, urllib.request
port, key = sys.argv[1], sys.argv[2]
def call(method, path, body=None):
    r = urllib.request.Request("http://127.0.0.1:%s%s" % (port, path), method=method,
                               data=json.dumps(body).encode() if body is not None else None,
                               headers={"Authorization": "Bearer " + key,
                                        "Content-Type": "application/json"})
    with urllib.request.urlopen(r, timeout=30) as resp:
        return json.loads(resp.read())
h = call("POST", "/v1/hosts", {"name": "Gate Host", "email": "gate@example.com",
                               "timezone": "UTC"})
s = call("POST", "/v1/services", {"host_id": h["id"], "name": "Gate", "is_online": True,
                                  "platform": "jitsi", "duration_minutes": 60,
                                  "settings": {"waiting_room": False}})
b = call("POST", "/v1/bookings", {"service_id": s["id"], "start": "now",
                                  "customer": {"name": "Guest", "email": "guest@example.com"}})
ps = call("GET", "/v1/bookings/%s/participants" % b["id"])["data"]
url = [p for p in ps if p["role"] == "customer"][0]["join_url"]
print(url[url.index("/j/"):] + "/go")
PY
) || GW_PATH=
if [ -n "$GW_PATH" ]; then
	echo "bench: gateway passes (GET /j/{token}/go, no waiting room), $CONNS connections, 5 s"
	"$OUT/loadgen" -p "$PORT" -c "$CONNS" -t "$THREADS" -w 1 -d 5 -m gateway -u "$GW_PATH" \
		>"$OUT/gateway.txt" 2>"$OUT/gateway.err" &
	pid=$!
	PIDS+=("$pid")
	wait_bounded "$pid" 20
else
	echo "bench: the gateway booking could not be set up; no gateway figure" >&2
fi
cleanup

# --- the table ---
num() { [ -n "${1:-}" ] && echo "$1" || echo 0; }
PAIRS=$(num "$(val "$OUT/pairs.txt" pairs_per_s)")
REQS=$(num "$(val "$OUT/pairs.txt" requests_per_s)")
WRK=$(num "$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$OUT/wrk.txt")")
LGH=$(num "$(val "$OUT/healthz.txt" requests_per_s)")
GW=$(num "$( [ -f "$OUT/gateway.txt" ] && val "$OUT/gateway.txt" requests_per_s)")
SQ1=$(num "$(val "$OUT/sqlite.txt" txn_1_per_s)")
SQ100=$(num "$(val "$OUT/sqlite.txt" rows_100_per_s)")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
floor_msg=$(awk -v p="$PAIRS" -v f=$FLOOR 'BEGIN {
	if (p >= f) printf "MET (%d >= %d)", p, f; else printf "NOT MET (%d < %d, %.0f%%)", p, f, 100 * p / f }')

{
	echo "meetlink bench — $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores, $(uname -r)"
	echo "daemon: $BIN, HTTP mode: $([ -n "${MEETLINK_HTTP_POOL:-}" ] && [ "${MEETLINK_HTTP_POOL}" != 0 ] && echo "epoll pool of $MEETLINK_HTTP_POOL" || echo "thread per connection"), store: SQLite WAL synchronous=FULL, group commit"
	echo "load: $CONNS keep-alive connections over $THREADS loadgen threads, ${WARMUP}s warm-up, ${DURATION}s measured"
	echo
	printf "%-44s %14s\n" "figure" "value"
	printf "%-44s %14s\n" "--------------------------------------------" "--------------"
	printf "%-44s %14s\n" "confirmed bookings (create+confirm pairs)/s" "$PAIRS"
	printf "%-44s %14s\n" "  API requests/s (2 per pair)" "$REQS"
	printf "%-44s %14s\n" "  pair latency p50 / p99 (ms)" "$(val "$OUT/pairs.txt" pair_p50_ms) / $(val "$OUT/pairs.txt" pair_p99_ms)"
	printf "%-44s %14s\n" "  create latency p50 / p99 (ms)" "$(val "$OUT/pairs.txt" create_p50_ms) / $(val "$OUT/pairs.txt" create_p99_ms)"
	printf "%-44s %14s\n" "  confirm latency p50 / p99 (ms)" "$(val "$OUT/pairs.txt" confirm_p50_ms) / $(val "$OUT/pairs.txt" confirm_p99_ms)"
	printf "%-44s %14s\n" "  pairs completed / errors" "$(val "$OUT/pairs.txt" pairs) / $(val "$OUT/pairs.txt" errors)"
	printf "%-44s %14s\n" "daemon peak RSS, VmHWM (MB)" "$(awk -v k="$RSS_PEAK_KB" 'BEGIN { printf "%.1f", k / 1024 }')"
	printf "%-44s %14s\n" "  RSS after the run (MB) / threads" "$(awk -v k="$RSS_NOW_KB" 'BEGIN { printf "%.1f", k / 1024 }') / $DTHREADS"
	printf "%-44s %14s\n" "ceiling: /healthz req/s (wrk -t2 -c64)" "$WRK"
	printf "%-44s %14s\n" "ceiling: /healthz req/s (same loadgen)" "$LGH"
	printf "%-44s %14s\n" "gateway passes/s (GET /j/{token}/go, 303)" "$GW"
	printf "%-44s %14s\n" "  pass latency p50 / p99 (ms)" "$( [ -f "$OUT/gateway.txt" ] && echo "$(val "$OUT/gateway.txt" gateway_p50_ms) / $(val "$OUT/gateway.txt" gateway_p99_ms)")"
	printf "%-44s %14s\n" "ceiling: SQLite 1 row/txn, FULL (txn/s)" "$SQ1"
	printf "%-44s %14s\n" "ceiling: SQLite 100 rows/txn, FULL (rows/s)" "$SQ100"
	echo
	printf "%-44s %14s\n" "ratio: pairs/s ÷ SQLite 1-row txn/s" "$(ratio "$PAIRS" "$SQ1")"
	printf "%-44s %14s\n" "ratio: requests/s ÷ healthz (wrk)" "$(ratio "$REQS" "$WRK")"
	printf "%-44s %14s\n" "ratio: requests/s ÷ healthz (same loadgen)" "$(ratio "$REQS" "$LGH")"
	printf "%-44s %14s\n" "ratio: passes/s ÷ healthz (same loadgen)" "$(ratio "$GW" "$LGH")"
	printf "%-44s %14s\n" "floor (information): >= $FLOOR pairs/s" "$floor_msg"
} | tee "$OUT/results.txt"
if [ -s "$OUT/pairs.err" ]; then
	echo
	echo "loadgen messages (first lines of $OUT/pairs.err):"
	head -5 "$OUT/pairs.err"
fi
echo
echo "raw figures: $OUT/{pairs,healthz,gateway,sqlite,wrk}.txt; results: $OUT/results.txt"
