#!/usr/bin/env bash
# make check: build normally and with ASan+UBSan, run the whole CTest suite on both.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
# What the suite needs (quick when present): a tree checked without `make check` (land.sh,
# a worktree whose browser packages were not installed) gets them too.
scripts/bootstrap.sh check

echo "== build (RelWithDebInfo)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DML_E2E_PG=ON >/dev/null
cmake --build build -j"$jobs" >/dev/null
echo "== tests"
(cd build && ctest --output-on-failure -j"$jobs")

echo "== build (AddressSanitizer + UndefinedBehaviorSanitizer)"
# (The end-to-end suite runs on PostgreSQL in the normal build only: e2e-pg/ doubles the
# e2e time, and the ASan build runs the PostgreSQL backend through unit-pg/.)
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DML_SANITIZE=ON -DML_E2E_PG=OFF >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
echo "== tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
(cd build-asan && ctest --output-on-failure -j"$jobs" -E '^bench/')
