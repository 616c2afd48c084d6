/* Deferred requests (see defer.c): the pool's way to answer later without holding a thread.
 * Internal to the HTTP layer. */
#ifndef ML_HTTP_DEFER_H
#define ML_HTTP_DEFER_H

#include <stdbool.h>
#include <stdint.h>

struct MHD_Connection;
struct ml_http_defer;

/* Starts the timer thread (aborts if it cannot). */
struct ml_http_defer *ml_http_defer_start(void);
/* Suspends `conn` (from its access handler) and resumes it `ms` milliseconds later. False,
 * with the connection left as it was, once stopping has begun. */
bool ml_http_defer_add(struct ml_http_defer *d, struct MHD_Connection *conn, int64_t ms);
/* Resumes every waiting connection at once, refuses new ones, ends the thread and frees.
 * Call before MHD_stop_daemon. Accepts NULL. */
void ml_http_defer_stop(struct ml_http_defer *d);

#endif
