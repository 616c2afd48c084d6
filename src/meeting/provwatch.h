/* Changes made at the provider come back (docs/provider-changes.md).
 *
 * A host whose connection carries meetings meetlink made has a watch on the calendar
 * meetlink writes to (ops->watch, providers/watch.h: a Google Calendar events.watch channel,
 * or a Microsoft Graph subscription on the host's events). The watch's job (provider.watch)
 * opens it, renews it before it expires (a new channel, then the old one stopped; or the
 * subscription renewed in place) and stops it once the host has no booking still to come or
 * under way, or no connection. A notification (api/provider_push.c), verified and handled
 * once, queues the watch's sync job (provider.sync): an incremental events.list from the
 * stored sync token (a full one when there is none, or after 410), or each event the
 * notifications named read back (provread.c); every event meetlink made is compared with
 * its booking, and what changed is reported on the booking: deleted (meeting.status error,
 * code meeting_deleted_at_provider) or moved (meeting.moved_at_provider with the provider's
 * times), each with an audit entry and a webhook out. A watch's jobs run one at a time (one
 * group), so the sync token is never read and written by two at once.
 */
#ifndef ML_MEETING_PROVWATCH_H
#define ML_MEETING_PROVWATCH_H

#include "providers/provider.h"
#include "providers/watch.h"
#include "queue/worker.h"
#include "store/store.h"

#include <stdbool.h>

struct ml_env;

/* Whether changes made on `platform` come back through a watch (its ops->watch). */
bool ml_watch_platform(const char *platform);

/* In tx: the host's calendar on `platform` is to be watched (a meeting meetlink made there
 * became ready): makes the watch and queues its job unless it exists. Platforms without
 * watches: nothing. */
int ml_watch_ensure(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform);

/* The host's connection goes (disconnect): the watch's channel or subscription is stopped
 * at the provider now, with the connection's access token, while it still works (a failure
 * is logged: it expires on its own). The watch itself goes with the connection's erasure
 * (ml_watch_forget). Blocks on the worker's loop (ml_oauth_perform). */
void ml_watch_stop_now(const struct ml_env *env, const char *platform, json_t *watch,
		       const char *access_token);
/* In tx: the host's watch on `platform` is removed (its notifications are then answered
 * and ignored); none: nothing. */
int ml_watch_forget(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform);

/* In tx: a notification for `watch` (its document, borrowed) was verified and is new: queue
 * its sync (one queued sync per watch: a burst of notifications is one sync). */
int ml_watch_sync_request(struct ml_tx *tx, json_t *watch);
/* The same at run_at_ms (a sync that saw a booking change while it listed looks again). */
int ml_watch_sync_request_at(struct ml_tx *tx, json_t *watch, int64_t run_at_ms);

/* provsync.c: what one event of a sync says, applied to its booking (in tx, as actor
 * provider:<platform>): cancelled → deleted at the provider; other times than the
 * booking's → moved. `change` is {id, status, start?, end?, booking?, listed_at (ms: when
 * the listing that showed it began)}; `full`: the event
 * came from a full listing (its booking's provider id is recorded when it is the live
 * meeting's). *reported is set when the booking changed. Returns 0, 1 when the event is to
 * be looked at again by a later sync (queued: the sync token is not to move past it), or
 * a negative code. */
int ml_watch_apply(struct ml_tx *tx, const struct ml_platform_settings *ps,
		   const struct ml_vault *vault, json_t *watch, json_t *change, bool full,
		   bool *reported);

/* provread.c: providers whose notifications name the item that changed and that have no
 * sync token (ops->watch->read_req): a sync reads back each item named since the last one
 * (the watch's "dirty" list) and, after a renewal ("read_all"), every live meeting of the
 * host on the platform. */

/* In tx: a verified, new notification of `watch` named `item` (a meeting's external id).
 * When it is one of the organization's meetings on the platform, it is added to the
 * watch's items to read (at most 500; beyond, the next sync reads them all) and the sync
 * is queued (*queued). Items that are not meetlink's are ignored. */
int ml_watch_note_item(struct ml_tx *tx, json_t *watch, const char *item, bool *queued);
/* In tx (a sync's prepare): what the sync reads, a new array of items. */
int ml_watch_read_items(struct ml_tx *tx, json_t *watch, const struct ml_watch_info *wi,
			json_t **items);
/* On the watch's current document (a sync's commit): `items` were read, those in `keep`
 * are to be read again; read_all was taken (cleared). */
void ml_watch_read_done(json_t *watch, json_t *items, json_t *keep, bool took_all);

extern const struct ml_job_handler ml_job_provider_watch;
extern const struct ml_job_handler ml_job_provider_sync;

#endif
