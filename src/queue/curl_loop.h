/* The worker's libcurl multi event loop: curl's socket interface over epoll.
 *
 * curl_multi_perform + curl_multi_poll look at every transfer on each wakeup: with hundreds
 * of calls in flight and a wakeup per finished call, that scan was a third of the curl
 * thread's time. Here curl tells us which sockets to watch and when its next timeout is due;
 * a wakeup then costs only the sockets that are ready. One thread drives the loop;
 * ml_curl_loop_wake may be called from any thread. */
#pragma once

#include <curl/curl.h>
#include <stdint.h>

struct ml_curl_loop;

/* Takes over `multi`'s socket and timer callbacks. NULL when epoll or eventfd fail. */
struct ml_curl_loop *ml_curl_loop_new(CURLM *multi);
void ml_curl_loop_free(struct ml_curl_loop *l);

/* Drives every transfer that is due: sockets that are ready, curl's timeout when it is up.
 * Waits up to max_wait_ms (0: do not wait) for the first of them or a wake. Finished
 * transfers are then read with curl_multi_info_read. */
void ml_curl_loop_run(struct ml_curl_loop *l, int max_wait_ms);

/* From any thread: makes a waiting ml_curl_loop_run return now. */
void ml_curl_loop_wake(struct ml_curl_loop *l);

/* Tells fn(easy, socket, arg) which socket each transfer uses, as curl starts watching it,
 * and fn(easy, CURL_SOCKET_BAD, arg) when curl stops (curl has no public way to ask a
 * transfer in flight for its socket). The worker uses it to close the connections of the
 * transfers it abandons at stop without letting curl write to them. NULL: none. */
typedef void (*ml_curl_loop_sock_fn)(CURL *easy, curl_socket_t s, void *arg);
void ml_curl_loop_on_socket(struct ml_curl_loop *l, ml_curl_loop_sock_fn fn, void *arg);

/* Runs one transfer to its end on a loop of its own, on this thread: for tools without a
 * worker (tests/tools). The daemon's calls go through the worker (ml_worker_http_wait).
 * `easy` keeps its options and is not freed. Returns the transfer's result. */
CURLcode ml_curl_loop_perform(CURL *easy);
