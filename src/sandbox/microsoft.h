/* Internal to the Microsoft emulator (microsoft.c: Graph, microsoft_oauth.c: identity
 * platform v2.0). */
#ifndef ML_SANDBOX_MICROSOFT_H
#define ML_SANDBOX_MICROSOFT_H

#include "sandbox/sandbox.h"

#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

#define P "microsoft"

static inline const char *nz(const char *s)
{
	return s ? s : "";
}

/* A random GUID-shaped id (request ids, trace ids). Caller frees. */
static inline char *guid(void)
{
	char *h = ml_sb_rand("", 32, ML_SB_HEX);
	char *g = ml_asprintf("%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
	free(h);
	return g;
}

/* True when `word` is one of the space- (or '/'-) separated words of `list`. */
static inline bool has_word(const char *list, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = list; p && (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ' || p[-1] == '/') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

#define GRAPH "https://graph.microsoft.com/v1.0"

/* Graph's error envelope {"error": {code, message, innerError: {date, request-id,
 * client-request-id}}} plus the request-id header (microsoft_validate.c). */
void ml_sb_ms_gerr(struct ml_http_resp *resp, int status, const char *code, const char *message);
/* The envelope for a bare status (faults without a body) and for unknown paths. */
void ml_sb_ms_error(struct ml_http_resp *resp, int status, const char *message);
void ml_sb_ms_not_found(struct ml_http_req *req, struct ml_http_resp *resp, bool mismatch);
/* Seconds as Graph's "2026-12-01T15:00:00" (no zone). */
void ml_sb_ms_graph_time(int64_t t, char out[40]);
/* onlineMeeting and event bodies as Graph deserializes them; answer 400 on failure. `full`:
 * the whole event (start and end required), else a PATCH body. */
bool ml_sb_ms_validate_meeting(json_t *b, struct ml_http_resp *resp);
bool ml_sb_ms_validate_event(json_t *b, bool full, struct ml_http_resp *resp);

/* The delegated user of the request's token holding one of `perms` (graph_user in
 * microsoft.c); NULL after answering the error. */
const char *ml_sb_ms_user(struct ml_http_req *req, struct ml_http_resp *resp, const char *perms,
                          const char *deny_code);
/* Shared by microsoft.c and microsoft_events.c: the user's bucket of `kind` ("events",
 * "meetings"), made when missing; the request's JSON object body (NULL after answering 400);
 * a new Teams meeting (not stored); events by transactionId (find: borrowed or NULL; add:
 * after an event is stored); the onlineMeeting of the user with that joinWebUrl. */
json_t *ml_sb_ms_bucket(json_t *root, const char *kind, const char *user);
json_t *ml_sb_ms_body_object(struct ml_http_req *req, struct ml_http_resp *resp);
json_t *ml_sb_ms_new_meeting(json_t *root, const char *user, json_t *b);
json_t *ml_sb_ms_tx_find(json_t *root, const char *user, json_t *bucket, const char *tx);
void ml_sb_ms_tx_add(json_t *root, const char *user, const json_t *ev);
json_t *ml_sb_ms_meeting_by_url(json_t *root, const char *user, const char *url);

/* /me/events (microsoft_events.c). */
void ml_sb_ms_events_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_events_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_events_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_events_patch(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_events_delete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_events_cancel(struct ml_http_req *req, struct ml_http_resp *resp);

/* The host moves an event in Outlook (UTC times): the event (borrowed), NULL when none. */
json_t *ml_sb_ms_move_event(json_t *root, const char *user, const char *id, int64_t start,
                            int64_t end);
/* An event of `user` goes, and its Teams meeting with it (microsoft.c). */
void ml_sb_ms_drop_event(json_t *root, const char *user, const char *id);
/* Change notifications (microsoft_subs.c): every live subscription of `user` on its events
 * whose changeType has `change` ("created", "updated", "deleted") is told about event `id`. */
void ml_sb_ms_events_changed(json_t *root, const char *user, const char *id, const char *change);
void ml_sb_ms_subs_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_subs_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_subs_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_subs_patch(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_subs_delete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_host_change(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_host_notify(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_sb_ms_authorize(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_decision(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_sb_ms_token(struct ml_http_req *req, struct ml_http_resp *resp);

#endif
