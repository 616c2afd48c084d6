/* Changes made at the provider (docs/provider-changes.md), the platform side, sans-IO like
 * remote_step: the requests that open, stop and read a Google Calendar push channel and its
 * incremental sync, the parsers of their answers and of a push notification's headers, and
 * the secret a channel carries. The jobs (meeting/provwatch.c) make the requests and keep
 * the state; nothing here touches the store.
 */
#ifndef ML_PROVIDERS_WATCH_H
#define ML_PROVIDERS_WATCH_H

#include "providers/provider.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

/* A channel's (or subscription's) secret: base64url of HMAC-SHA256(room secret, label,
 * id), 43 characters, so nothing secret is stored: a notification's secret is recomputed
 * from the id it names and compared in constant time. -1 without a room secret. */
#define ML_WATCH_TOKEN_LEN 43
int ml_watch_token(const struct ml_platform_settings *s, const char *label, const char *id,
		   char out[ML_WATCH_TOKEN_LEN + 1]);
/* Whether `given` is the secret of `id` (constant time). */
bool ml_watch_token_ok(const struct ml_platform_settings *s, const char *label, const char *id,
		       const char *given);

/* A fresh channel id: "mlw" + 32 lower-case hex characters. */
void ml_watch_new_id(char out[40]);

/* A notification, platform-neutral: the channel (or subscription) it names, the secret it
 * carries, the key it is handled once by, and whether it says something changed (false:
 * a channel's first message). */
struct ml_watch_note {
	char channel_id[65];
	char token[257];
	char key[120];
	bool changed;
	/* Appended, for notifications that name what changed (Graph's): the provider's id of
	 * the subscription that sent it, and the item as meetlink stores it (a meeting's
	 * external id), "" when the notification names none. */
	char subscription_id[65];
	char item[300];
};

/* What a platform's watch is made of (ops->watch). Requests and parsers as below. */
struct ml_watch_info {
	const char *path;        /* notifications arrive at PUBLIC_URL/webhooks/<path> */
	const char *label;       /* the channel secret's derivation label */
	const char *detected_by; /* on the audit entry of what a sync found */
	void (*open_req)(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
			 const char *token, const char *address, int64_t ttl_s);
	int (*open_parse)(const struct ml_presp *r, char *rid, size_t rid_n, int64_t *exp_ms,
			  struct ml_perr *err);
	void (*stop_req)(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
			 const char *resource_id);
	int (*stop_parse)(const struct ml_presp *r, struct ml_perr *err);
	void (*sync_req)(struct ml_pstep *out, const struct ml_pcreds *cr, const char *sync_token,
			 const char *page_token);
	int (*sync_parse)(const struct ml_presp *r, json_t *changes, char **next_page,
			  char **next_sync, struct ml_perr *err);
	/* The request's notification; ML_EINVAL naming the header or field when malformed. */
	int (*note_parse)(const char *(*header)(const void *arg, const char *name),
			  const void *arg, struct ml_watch_note *out);
	/* Appended: a provider whose notifications are JSON bodies, each naming the item that
	 * changed (Graph change notifications), instead of headers (note_parse NULL). Up to
	 * `max` notes out of the body; ML_EINVAL naming the field when malformed. */
	int (*notes_parse)(json_t *body, struct ml_watch_note *out, size_t max, size_t *n);
	/* The query parameter of the address check the provider makes before it opens a
	 * subscription (Graph's validationToken: answered 200 text/plain with its value), or
	 * NULL. */
	const char *handshake_param;
	/* A subscription renewed in place (Graph's PATCH of its expiration) instead of opened
	 * anew; open_parse reads the answer, ML_PERR_GONE when the provider no longer has it
	 * (a new one is opened). NULL: renewal opens a new channel, then stops the old one. */
	void (*renew_req)(struct ml_pstep *out, const struct ml_pcreds *cr, const char *resource_id,
			  int64_t ttl_s);
	/* Providers without a sync token (sync_req NULL): a sync reads back each item that
	 * notifications named (and, after a renewal, every live meeting of the host).
	 * read_req: the request for one item, -1 when `item` is not one of this platform's
	 * watched items (a meeting made some other way). read_parse: appends the item's
	 * change {id: item, status, start?, end?} (a 404 is "cancelled"); 0, or < 0 with err. */
	int (*read_req)(struct ml_pstep *out, const struct ml_pcreds *cr, const char *item);
	int (*read_parse)(const struct ml_presp *r, const char *item, json_t *changes,
			  struct ml_perr *err);
	/* The longest life the provider grants a subscription (seconds), 0: no cap. */
	int64_t max_ttl_s;
};

/* The platform whose notifications come to /webhooks/<path>, or NULL. */
const struct ml_provider_ops *ml_provider_by_watch_path(const char *path);

/* --- Google Calendar: events.watch, channels.stop, events.list with syncToken --- */

/* POST {base}/calendar/v3/calendars/primary/events/watch {id, type: web_hook, address,
 * token, params.ttl}. */
void ml_gcal_watch_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
		       const char *token, const char *address, int64_t ttl_s);
/* The Channel answer: its resourceId (into rid, 128) and expiration (ms). 0, or < 0 with
 * err classified. */
int ml_gcal_watch_parse(const struct ml_presp *r, char *rid, size_t rid_n, int64_t *exp_ms,
			struct ml_perr *err);
/* POST {base}/calendar/v3/channels/stop {id, resourceId}. */
void ml_gcal_stop_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
		      const char *resource_id);
/* 2xx, 404 (already gone): 0; else < 0 with err. */
int ml_gcal_stop_parse(const struct ml_presp *r, struct ml_perr *err);
/* GET {base}/calendar/v3/calendars/primary/events: with sync_token an incremental page,
 * without it a full one (showDeleted); page_token continues either. */
void ml_gcal_sync_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *sync_token,
		      const char *page_token);
/* One page of events.list. Appends each event to `changes` as {"id", "status", "start",
 * "end" (Unix seconds, absent for a cancelled event or an all-day one), "booking" (the
 * meetlink_booking private property, when present)}; sets *next_page or *next_sync (owned;
 * one of them on success). 410 (fullSyncRequired) is ML_PERR_GONE. At most 2500 events a
 * page are read. 0, or < 0 with err. */
int ml_gcal_sync_parse(const struct ml_presp *r, json_t *changes, char **next_page,
		       char **next_sync, struct ml_perr *err);

/* A push notification's headers (X-Goog-*), checked: the channel id (1-64 of
 * [A-Za-z0-9-_+/=]), its token (1-256 printable), the resource state (sync, exists,
 * not_exists) and the message number (decimal, 1-20 digits). ML_EINVAL (ml_error_set,
 * naming the header) otherwise. */
struct ml_gcal_push {
	char channel_id[65];
	char token[257];
	char resource_id[129];
	char state[16];
	int64_t message_number;
};
int ml_gcal_push_parse(const char *(*header)(const void *arg, const char *name), const void *arg,
		       struct ml_gcal_push *out);
/* The same as a platform-neutral note (key: "<channel>:<message number>"). */
int ml_gcal_note_parse(const char *(*header)(const void *arg, const char *name), const void *arg,
		       struct ml_watch_note *out);
extern const struct ml_watch_info ml_gcal_watch;

/* --- Microsoft Graph: change notifications on the host's events --- */

/* The subscription's clientState is "<channel id>.<secret>" (the secret as above): a
 * notification names the watch it belongs to and proves it in one field. */
/* POST {base}/v1.0/subscriptions {changeType updated,deleted, notificationUrl, resource
 * me/events, expirationDateTime now + ttl, clientState}. */
void ml_graph_sub_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
		      const char *token, const char *address, int64_t ttl_s);
/* PATCH {base}/v1.0/subscriptions/{id} {expirationDateTime}. */
void ml_graph_renew_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *sub_id,
			int64_t ttl_s);
/* A subscription answer: its id (into rid) and expirationDateTime (ms); 404 is GONE. */
int ml_graph_sub_parse(const struct ml_presp *r, char *rid, size_t rid_n, int64_t *exp_ms,
		       struct ml_perr *err);
/* DELETE {base}/v1.0/subscriptions/{id}; 2xx and 404 are done. */
void ml_graph_unsub_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
			const char *sub_id);
int ml_graph_unsub_parse(const struct ml_presp *r, struct ml_perr *err);
/* GET {base}/v1.0/me/events/{id}?$select=… for the item "event:<id>". */
int ml_graph_read_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *item);
int ml_graph_read_parse(const struct ml_presp *r, const char *item, json_t *changes,
			struct ml_perr *err);
/* A changeNotificationCollection {value: [changeNotification]}: at most 200 notes, each
 * with subscriptionId (1-64 of [A-Za-z0-9-]), clientState "<channel>.<secret>",
 * changeType (created, updated, deleted) and resourceData.id (1-256 of
 * [A-Za-z0-9-_+/=]); its key is a hash of subscription, change type, id and etag. */
int ml_graph_notes_parse(json_t *body, struct ml_watch_note *out, size_t max, size_t *n);
extern const struct ml_watch_info ml_graph_watch;

#endif
