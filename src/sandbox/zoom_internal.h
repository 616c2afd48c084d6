/* Shared between the Zoom emulator's files: zoom.c (REST, seed), zoom_validate.c (request
 * checks), zoom_limits.c (auth, users, rate limits), zoom_events.c (webhooks, pages),
 * zoom_sched.c (the hosts' scheduled lists) and zoom_oauth.c (authorize, token, revoke). */
#ifndef ML_SANDBOX_ZOOM_INTERNAL_H
#define ML_SANDBOX_ZOOM_INTERNAL_H

#include "sandbox/sandbox.h"

#define ZP "zoom"
#define ZOOM_ACCOUNT "SbxZoomAccount00000001"

/* Zoom's REST error body {"code": code, "message": ...} with the HTTP status. */
void ml_zoom_err(struct ml_http_resp *resp, int status, int code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A user of the sandbox by id or email (case-insensitive); borrowed or NULL. */
json_t *ml_zoom_user_find(json_t *root, const char *id_or_email);

/* zoom.c: a live (not deleted, not expired) meeting's record and public object; and the
 * members of a meeting that events carry. */
json_t *ml_zoom_find_meeting(json_t *root, const char *id, json_t **obj);
json_t *ml_zoom_event_object(const json_t *m);
/* zoom_events.c: participants joining and leaving (simulation routes). */
void ml_zoom_sim_join(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_zoom_sim_leave(struct ml_http_req *req, struct ml_http_resp *resp);

/* zoom_sched.c: each host's "scheduled" list, kept up to date (lock held). A create calls
 * created() with the new record (last in root["meetings"]); a delete or an expiry removed()
 * with the meeting; a change that moves a meeting in or out of a list (type, host, recover)
 * drop(). page() answers GET …/meetings?type=scheduled (next_page_token: a cursor, 15
 * minutes). list_item() is a meeting as a list shows it (a new reference). */
void ml_zoom_sched_created(json_t *root, const json_t *rec);
void ml_zoom_sched_removed(json_t *root, const json_t *m);
void ml_zoom_sched_drop(void);
void ml_zoom_sched_page(struct ml_http_resp *resp, json_t *root, const char *host_id, long size,
			const char *token);
json_t *ml_zoom_list_item(const json_t *m);

/* zoom_validate.c: a JSON object body, or NULL after Zoom's answer to a missing or malformed
 * one; Zoom's 400 naming a field; the body checked against a request schema's text, then
 * against the rules beyond it (start is set from start_time, read in its timezone or
 * tz_fallback). The checks return false after answering. */
json_t *ml_zoom_json_body(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_zoom_invalid_field(struct ml_http_resp *resp, const char *field);
bool ml_zoom_validate(struct ml_http_resp *resp, const char *schema_text, const json_t *b);
bool ml_zoom_check_fields(struct ml_http_resp *resp, const json_t *b, const char *tz_fallback,
			  int64_t *start);

/* zoom_limits.c: the bearer token's record, or NULL after Zoom's 401 (code 124). */
json_t *ml_zoom_auth(struct ml_http_req *req, struct ml_http_resp *resp);
/* Rate limits of `category` ("Light", "Medium", "Heavy") for the token's account, and with
 * `writer` (a host user id) the per-host daily meeting-write limit. Sets X-RateLimit-*;
 * false after answering 429. */
bool ml_zoom_rate(struct ml_http_req *req, struct ml_http_resp *resp, const json_t *tok,
		  const char *category, const char *writer);
/* The user a path's {userId} names within the token's reach, or NULL after answering. */
json_t *ml_zoom_path_user(struct ml_http_req *req, struct ml_http_resp *resp, const json_t *tok,
			  const char *uid);

/* zoom_events.c: emits an event (lock held): kept in root["events"], POSTed signed to the
 * webhook_url after the url_validation handshake. Steals `object` and `extra` (may be NULL). */
void ml_zoom_emit(json_t *root, const char *event, json_t *object, json_t *extra);
/* Sends endpoint.url_validation to `to` (lock held); the outcome lands in root["webhook"]. */
void ml_zoom_validate_url(json_t *root, const char *to);
void ml_zoom_start_page(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_zoom_join_page(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_zoom_sim_validate(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_zoom_oauth_authorize(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_zoom_oauth_token(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_zoom_oauth_revoke(struct ml_http_req *req, struct ml_http_resp *resp);

#endif
