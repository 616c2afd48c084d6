#!/usr/bin/env bash
# The provider sandbox must never be the bottleneck of our benchmarks (issue 3):
#   1. zero added latency: >= 20,000 simple calls/s (GET /google/.well-known/openid-configuration,
#      which goes through the whole pipeline: fault engine, router, handler, request log);
#   2. 150 ms added latency (a fault rule): 2,000 concurrent connections held, i.e. close to
#      2000 / 0.150 = 13,333 calls/s with latencies near 150 ms.
#
#   bench/sandbox_bench.sh [BUILD_DIR=build]
#
# Knobs: SB_BENCH_DURATION (s, default 10), SB_BENCH_CONNS (zero-latency connections, 64),
# SB_BENCH_HELD (held connections with latency, 2000), SB_BENCH_LATENCY_MS (150).
# Needs wrk (scripts/bootstrap.sh bench). Only 127.0.0.1; the sandbox is stopped by PID.
# Results: stdout and BUILD_DIR/bench/sandbox.txt.
set -euo pipefail

BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BIN=$BUILD/meetlink
OUT=$BUILD/bench
DURATION=${SB_BENCH_DURATION:-10}
CONNS=${SB_BENCH_CONNS:-64}
HELD=${SB_BENCH_HELD:-2000}
LAT=${SB_BENCH_LATENCY_MS:-150}
ZERO_FLOOR=20000
PATH_Q=/google/.well-known/openid-configuration

[ -x "$BIN" ] || { echo "sandbox_bench: $BIN not found; build first" >&2; exit 1; }
command -v wrk >/dev/null || { echo "sandbox_bench: wrk is missing (scripts/bootstrap.sh bench)" >&2; exit 1; }
command -v curl >/dev/null || { echo "sandbox_bench: curl is missing" >&2; exit 1; }
mkdir -p "$OUT"
# wrk and the sandbox each need a descriptor per held connection.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SB_PID=
cleanup() {
	if [ -n "$SB_PID" ]; then
		kill "$SB_PID" 2>/dev/null || true
		wait "$SB_PID" 2>/dev/null || true
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

LOG=$OUT/sandbox.log
"$BIN" sandbox --listen 127.0.0.1:0 --log-capacity 1000 >"$OUT/sandbox.stdout" 2>"$LOG" &
SB_PID=$!
URL=
for _ in $(seq 1 100); do
	URL=$(sed -n 's/^meetlink: listening on //p' "$OUT/sandbox.stdout" | head -1)
	[ -n "$URL" ] && break
	sleep 0.1
done
[ -n "$URL" ] || { echo "sandbox_bench: the sandbox did not start" >&2; cat "$LOG" >&2; exit 1; }

# wrk's summary → "req/s avg_latency p99_latency errors"
run_wrk() { # threads conns duration timeout
	local out
	out=$(wrk -t"$1" -c"$2" -d"$3"s --timeout "$4" --latency "$URL$PATH_Q" 2>&1)
	echo "$out" >>"$OUT/sandbox-wrk.txt"
	local rps avg p99 errs non2xx
	rps=$(echo "$out" | awk '/^Requests\/sec:/ {print $2}')
	avg=$(echo "$out" | awk '/^ +Latency / {print $2; exit}')
	p99=$(echo "$out" | awk '/^ +99%/ {print $2}')
	errs=$(echo "$out" | awk -F'[ ,]+' '/Socket errors/ {s=0; for (i=1;i<=NF;i++) if ($i ~ /^[0-9]+$/) s+=$i; print s}')
	non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
	echo "${rps:-0} ${avg:-?} ${p99:-?} $(( ${errs:-0} + ${non2xx:-0} ))"
}

: >"$OUT/sandbox-wrk.txt"
curl -fsS -o /dev/null "$URL$PATH_Q"

# 1. zero added latency (a short warm-up first).
wrk -t2 -c"$CONNS" -d2s "$URL$PATH_Q" >/dev/null 2>&1 || true
read -r Z_RPS Z_AVG Z_P99 Z_ERR < <(run_wrk 2 "$CONNS" "$DURATION" 5s)

# 2. added latency, connections held.
curl -fsS -o /dev/null -X DELETE "$URL/_sandbox/requests"
curl -fsS -o /dev/null -X POST "$URL/_sandbox/faults" \
	-d "{\"provider\":\"google\",\"path\":\"$PATH_Q\",\"latency_ms\":$LAT}"
read -r L_RPS L_AVG L_P99 L_ERR < <(run_wrk 2 "$HELD" "$DURATION" 10s)
IDEAL=$(awk -v c="$HELD" -v l="$LAT" 'BEGIN {printf "%.0f", c / (l / 1000.0)}')

Z_RATIO=$(awk -v r="$Z_RPS" -v f="$ZERO_FLOOR" 'BEGIN {printf "%.2f", r / f}')
L_RATIO=$(awk -v r="$L_RPS" -v i="$IDEAL" 'BEGIN {printf "%.2f", r / i}')
{
	echo "sandbox benchmark ($(nproc) CPUs, ${DURATION}s per run, $PATH_Q)"
	printf '%-34s %12s %10s %10s %8s %s\n' run "req/s" "avg lat" "p99 lat" errors ratio
	printf '%-34s %12s %10s %10s %8s %s\n' "zero latency, $CONNS conns" "$Z_RPS" "$Z_AVG" "$Z_P99" \
		"$Z_ERR" "$Z_RATIO x the ${ZERO_FLOOR}/s floor"
	printf '%-34s %12s %10s %10s %8s %s\n' "${LAT} ms latency, $HELD conns held" "$L_RPS" "$L_AVG" \
		"$L_P99" "$L_ERR" "$L_RATIO x the ideal ${IDEAL}/s (conns / latency)"
} | tee "$OUT/sandbox.txt"

FAIL=0
awk -v r="$Z_RPS" -v f="$ZERO_FLOOR" 'BEGIN {exit !(r >= f)}' ||
	{ echo "sandbox_bench: zero-latency rate below ${ZERO_FLOOR}/s" >&2; FAIL=1; }
awk -v r="$L_RATIO" 'BEGIN {exit !(r >= 0.8)}' ||
	{ echo "sandbox_bench: held-connection rate below 80% of ideal" >&2; FAIL=1; }
[ "$L_ERR" -eq 0 ] || { echo "sandbox_bench: errors with held connections" >&2; FAIL=1; }
exit $FAIL
