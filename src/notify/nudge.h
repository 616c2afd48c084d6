/* Reconnect nudges: a host whose connection turns `reauth_required` gets an email with a fresh
 * connect link at once and again after 1, 3 and 7 days while it stays broken.
 *
 * WIRING (the connections code does this):
 *   1. When a connection turns reauth_required, inside that same write transaction:
 *        ml_notify_reauth_required(tx, org_id, conn_id, host_doc, platform, why);
 *      It queues four `email.reconnect_nudge` jobs (now, +1 d, +3 d, +7 d; group
 *      "nudge:<conn_id>") and the `connection.reauth_required` webhook.
 *   2. When the host reconnects (or the connection is removed), in that transaction:
 *        ml_notify_reconnected(tx, conn_id);       -- cancels the nudges still queued
 *   3. Once at start-up (serve, before the worker starts), register how a nudge checks the
 *      connection and mints a fresh link when it runs:
 *        static const struct ml_nudge_hooks hooks = {conn_still_broken, conn_connect_url};
 *        ml_nudge_set_hooks(&hooks);
 *      Each nudge calls still_broken() first and sends nothing when the connection is fine
 *      again (a belt to step 2's braces). Without hooks a nudge assumes the connection is
 *      still broken and uses the connect_url given to ml_notify_reauth_required (if any).
 */
#ifndef ML_NOTIFY_NUDGE_H
#define ML_NOTIFY_NUDGE_H

#include "queue/worker.h"
#include "store/store.h"

#include <jansson.h>
#include <stdint.h>

#define ML_NUDGE_COUNT 4

/* When each nudge goes out, relative to the moment the connection broke. */
extern const int64_t ml_nudge_offsets_ms[ML_NUDGE_COUNT];

/* The run_at of each nudge for a connection that broke at now_ms. */
void ml_nudge_schedule(int64_t now_ms, int64_t out[ML_NUDGE_COUNT]);

struct ml_nudge_hooks {
	/* Inside a read transaction: 1 when the connection is still reauth_required, 0 when it
	 * is not (reconnected, disconnected, gone), < 0 on a store error (the nudge retries). */
	int (*still_broken)(struct ml_tx *tx, const char *org_id, const char *connection_id);
	/* A fresh signed connect link for the host and platform (caller frees), NULL if none.
	 * `env` is what the nudge's job was handed (queue/env.h). */
	char *(*connect_url)(const struct ml_env *env, const char *org_id, const char *host_id,
	                     const char *platform);
};

/* Registers the hooks (a static struct; NULL removes them). Call before the worker starts. */
void ml_nudge_set_hooks(const struct ml_nudge_hooks *hooks);

/* Queues the nudges and the connection.reauth_required webhook (see WIRING). host is the
 * host document ({"id","name","email"}); connect_url (may be NULL) is used when no hook
 * mints a fresh one; why (may be NULL) explains the break. */
int ml_notify_reauth_required(struct ml_tx *tx, const char *org_id, const char *connection_id,
                              json_t *host, const char *platform, const char *connect_url,
                              const char *why);
/* Cancels the nudges of the connection still queued; returns how many. */
int ml_notify_reconnected(struct ml_tx *tx, const char *connection_id);

/* The email.reconnect_nudge handler's start (notify/job_email.c registers the kind). */
void ml_nudge_start(struct ml_job_run *run);

#endif
