#!/usr/bin/env bash
# Fails when an outbound HTTP transfer could run outside the one client path: every call goes
# through the worker's multi loop (src/queue/: worker, curl_loop.c, aside.c for mail), or
# waits on it (ml_worker_http_wait, through ml_oauth_perform for request threads). So:
#   - curl_easy_perform (a blocking transfer on the calling thread) appears nowhere;
#   - a multi handle is made and driven (curl_multi_init, curl_multi_perform,
#     curl_multi_socket_action, curl_multi_poll/wait) only in src/queue/;
#   - ml_curl_loop_perform (one transfer on a private loop, for tools without a worker) is
#     called only by ml_oauth_perform's fallback in src/conn/oauth.c, which the daemon never
#     takes: `serve` starts the worker and hands it to the OAuth config before it listens.
#
# Allowed, with the reason:
#   src/sandbox/   the provider emulators are a test tool, not the daemon: their webhook
#                  sender runs on its own thread, one delivery at a time.
set -u
src=${1:?usage: lint-curl-perform.sh SRC_DIR}
bad=0
if grep -rnE '\bcurl_easy_perform[[:space:]]*\(' --include='*.c' --include='*.h' \
	--exclude-dir=sandbox "$src"; then
	echo "curl_easy_perform outside the worker's loop: use ml_job_run_http (jobs) or" \
	     "ml_worker_http_wait / ml_oauth_perform (request threads)" >&2
	bad=1
fi
if grep -rnE '\bcurl_multi_(init|perform|socket_action|poll|wait)[[:space:]]*\(' \
	--include='*.c' --include='*.h' --exclude-dir=sandbox --exclude-dir=queue "$src"; then
	echo "a curl multi loop outside src/queue/: hand the transfer to the worker" >&2
	bad=1
fi
if grep -rnE '\bml_curl_loop_perform[[:space:]]*\(' --include='*.c' --exclude-dir=sandbox \
	--exclude-dir=queue "$src" | grep -v "^$src/conn/oauth.c:"; then
	echo "ml_curl_loop_perform is the tools' fallback (conn/oauth.c): the daemon waits on" \
	     "the worker (ml_worker_http_wait)" >&2
	bad=1
fi
[ $bad -eq 0 ] && echo "lint-curl-perform: clean"
exit $bad
