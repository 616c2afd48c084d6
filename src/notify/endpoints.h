/* The organization's webhook endpoints, as every booking step fans its events out to them:
 * kept per process, so that a step need not query the store (the query was ~5% of a booking
 * request, and the only store read of a confirm whose documents are cached).
 *
 * A change of endpoints (create, delete) calls ml_notify_endpoints_changed() once committed
 * and before it is answered, so a step that starts after the answer sees the change. An entry
 * is also reloaded once it is a second old, which bounds what another process sharing the
 * store could leave stale.
 */
#ifndef ML_NOTIFY_ENDPOINTS_H
#define ML_NOTIFY_ENDPOINTS_H

#include "store/store.h"

#include <jansson.h>

/* The endpoints of org_id (as ml_tx_webhook_endpoint_list lists them all): a new reference
 * to an array shared between threads, never to be changed. On a miss they are read on a
 * fresh snapshot of `store`, not the caller's transaction (see endpoints.c): endpoints that
 * transaction itself created or deleted, not yet committed, are not seen (the API changes
 * endpoints in transactions of their own). */
int ml_notify_endpoints(struct ml_store *store, const char *org_id, json_t **out);
/* After a committed change of any organization's endpoints. */
void ml_notify_endpoints_changed(void);
/* The same, after a change committed by an API request: every other node sharing the store
 * hears of it too (the store's "endpoints" signal; app.c subscribes it to the above). */
void ml_notify_endpoints_changed_everywhere(struct ml_store *store);

#endif
