#!/usr/bin/env bash
# make fuzz: builds the libFuzzer harnesses (tests/fuzz) with clang into build-fuzz/ and runs
# each for FUZZ_SECONDS (default 60) on its corpus, one after the other, at the lowest CPU
# priority. See docs/fuzzing.md.
#   scripts/fuzz.sh                 every harness
#   scripts/fuzz.sh api sandbox     only these
# Environment: FUZZ_SECONDS, FUZZ_RUNS (a number of executions instead of a time),
# FUZZ_BUILD (build-fuzz), FUZZ_ARGS (more libFuzzer flags), FUZZ_OUT (new inputs and crash
# files; default build-fuzz/out/<harness>: the committed corpus is only read — minimize new
# inputs into it with `scripts/fuzz.sh --merge HARNESS`).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${FUZZ_BUILD:-build-fuzz}
seconds=${FUZZ_SECONDS:-60}
all=(api webhooks notify oauth sandbox watch)

merge=0
if [ "${1:-}" = --merge ]; then
	merge=1
	shift
fi
harnesses=("$@")
[ ${#harnesses[@]} -gt 0 ] || harnesses=("${all[@]}")

command -v clang >/dev/null || { echo "fuzz: clang is missing (scripts/bootstrap.sh fuzz)" >&2; exit 1; }
echo "== build (clang, libFuzzer + ASan + UBSan) in $build"
CC=clang cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DML_FUZZ=ON >/dev/null
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
nice -n 19 cmake --build "$build" -j"${FUZZ_JOBS:-2}" "${targets[@]}" >/dev/null

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for h in "${harnesses[@]}"; do
	corpus=tests/fuzz/corpus/$h
	dict=()
	[ -f "tests/fuzz/$h.dict" ] && dict=(-dict="tests/fuzz/$h.dict")
	if [ $merge = 1 ]; then
		# Folds what fuzzing found (build-fuzz/out/<h>) into the committed corpus, keeping
		# only inputs that reach new edges (-use_counters=0: not every new hit count, which
		# would keep thousands of files).
		out=${FUZZ_OUT:-$build/out/$h}
		echo "== merge $out into $corpus"
		mkdir -p "$out"
		nice -n 19 "$build/tests/fuzz_$h" -merge=1 -use_counters=0 -max_len=8192 \
			-timeout=20 -rss_limit_mb=4096 "${dict[@]}" "$corpus" "$out"
		continue
	fi
	out=${FUZZ_OUT:-$build/out/$h}
	mkdir -p "$out"
	limit=(-max_total_time="$seconds")
	[ -n "${FUZZ_RUNS:-}" ] && limit=(-runs="$FUZZ_RUNS")
	echo "== fuzz_$h (${FUZZ_RUNS:+$FUZZ_RUNS runs}${FUZZ_RUNS:-${seconds}s})"
	# New inputs go to $out, first in the list; the committed corpus is read as seeds.
	# -detect_leaks=0: no leak check after each input that allocated more than it freed (a
	# scan of the whole heap every time: two thirds of the api harness's time, and libFuzzer
	# stops them after its first 1,000 anyway); LeakSanitizer still checks everything the run
	# allocated when the process ends (ASAN_OPTIONS detect_leaks=1), and fails the run.
	if ! nice -n 19 "$build/tests/fuzz_$h" "${limit[@]}" -max_len=8192 -timeout=20 \
		-rss_limit_mb=4096 -print_final_stats=1 -detect_leaks=0 -artifact_prefix="$out/" "${dict[@]}" \
		${FUZZ_ARGS:-} "$out" "$corpus"; then
		echo "fuzz_$h: FAILED (crash or invariant; see $out/crash-* and the log above)" >&2
		status=1
	fi
done
exit $status
