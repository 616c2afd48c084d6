#!/usr/bin/env bash
# Fails when a blocking libcurl call (curl_easy_perform) appears in the daemon's C sources:
# every outbound HTTP call goes through one client path, the worker's multi loop
# (src/queue/worker.c, curl_loop.c), or waits on it (ml_worker_http_wait). Request threads
# never run a transfer themselves.
#
# Allowed, with the reason:
#   src/sandbox/   the provider emulators are a test tool, not the daemon: their webhook
#                  sender runs on its own thread, one delivery at a time.
set -u
src=${1:?usage: lint-curl-perform.sh SRC_DIR}
pat='\bcurl_easy_perform[[:space:]]*\('
if grep -rnE "$pat" --include='*.c' --include='*.h' --exclude-dir=sandbox "$src"; then
	echo "curl_easy_perform outside the worker's loop: use ml_job_run_http (jobs) or" \
	     "ml_worker_http_wait / ml_oauth_perform (request threads)" >&2
	exit 1
fi
echo "lint-curl-perform: clean"
