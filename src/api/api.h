/* The REST API (v1): the route table, the request context handed to every handler, and the
 * helpers handlers share (authentication, JSON input, idempotent writes, object rendering). */
#ifndef ML_API_API_H
#define ML_API_API_H

#include "core/config.h"
#include "http/http.h"
#include "http/router.h"
#include "providers/provider.h"
#include "queue/env.h"
#include "store/store.h"

#include <jansson.h>

/* Route flags. */
enum {
	ML_ROUTE_PUBLIC = 1u << 0, /* no API key */
	/* also takes an application/x-www-form-urlencoded body (at most ML_API_FORM_MAX bytes),
	 * parsed into ctx->body as an object of strings (ctx->form set) */
	ML_ROUTE_FORM = 1u << 1,
};
#define ML_API_FORM_MAX (64 * 1024)

/* The authenticated request, reachable from req->user inside handlers. */
struct ml_api_ctx {
	const struct ml_env *app; /* what the daemon hands its handlers (queue/env.h) */
	char org_id[40];
	char key_id[40];
	json_t *body; /* parsed JSON body (an object) for POST/PUT/PATCH, else NULL */
	const char *ip;
	bool form; /* body came form-encoded (ML_ROUTE_FORM) */
};

/* The API's route table (NULL-terminated); also read by the OpenAPI conformance test. */
extern const struct ml_route ml_api_routes[];

/* The daemon's dispatch function (set as ml_http_config.dispatch, app = struct ml_env *). */
void ml_api_dispatch(struct ml_http_req *req, struct ml_http_resp *resp);

/* A mutation run inside one durable transaction. `fn` sets `status` and `result` (a new
 * reference) on success, or returns a negative ML_E* with the error detail set. */
struct ml_api_write {
	struct ml_api_ctx *ctx;
	struct ml_http_req *req;
	void *arg;
	int (*fn)(struct ml_tx *tx, struct ml_api_write *w);
	int status;
	json_t *result;
	bool wake; /* fn queued background work: wake the worker once it is committed */
	/* fn changed this booking's waiting room or status: its live pages are told once it is
	 * committed (meeting/waitbus.h). */
	const char *changed_booking;
	/* When fn fails: members added to the error object of the answer (a reference owned
	 * here), e.g. the conflicting booking of a 409 booking_conflict. */
	json_t *error_extra;
};

/* Runs w->fn in a write transaction, honouring the Idempotency-Key header on POST: the same
 * key and body replay the first answer, the same key with another body answers 422. Sends
 * the result or the error. */
void ml_api_write_run(struct ml_api_write *w, struct ml_http_resp *resp);

/* Standard field metadata: sets id, created_at and updated_at on a new object. */
void ml_api_stamp_new(json_t *obj, const char *prefix);
void ml_api_stamp_update(json_t *obj);

/* Appends an audit event for the current request (actor = API key id, ip). */
int ml_api_audit(struct ml_tx *tx, struct ml_api_ctx *ctx, const char *booking_id,
		 const char *type, json_t *data);

/* A list's page: `limit` (1..200, default 50) and the opaque `cursor`; ML_EINVAL naming
 * limit. */
int ml_api_page_query(struct ml_http_req *req, int *limit, const char **cursor);
/* Parses list parameters (limit, cursor, external_id, ...) into q; ML_EINVAL naming the field. */
int ml_api_list_query(struct ml_http_req *req, struct ml_list_query *q);
/* Sends {"object":"list","data":[...],"next_cursor":...}. Steals items and frees cursor. */
void ml_api_send_list(struct ml_http_resp *resp, json_t *items, char *next_cursor);

/* Generic read handlers shared by every document resource. */
void ml_api_doc_get(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_kind kind);
void ml_api_doc_list(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_kind kind);
/* Reads the document `id` of the request's organization inside a transaction; ML_ENOTFOUND
 * carries a "not_found" error naming the kind. */
int ml_api_doc_load(struct ml_tx *tx, struct ml_api_ctx *ctx, enum ml_kind kind,
		    const char *id, json_t **out);
/* The same for a document the caller only reads (shared: never change it). */
int ml_api_doc_peek(struct ml_tx *tx, struct ml_api_ctx *ctx, enum ml_kind kind,
		    const char *id, json_t **out);

/* What a booking step of the meeting room (meeting/booking.h) needs from the request: the
 * organization, the platform settings, the API key as the audit trail's actor, the address. */
struct ml_step;
void ml_api_step_init(struct ml_api_ctx *ctx, struct ml_step *st);

/* Serves the hosted pages under /web (embedded); false when the path is not one of them. */
bool ml_api_serve_web(struct ml_http_req *req, struct ml_http_resp *resp);
/* The join gateway's public pages (api/gateway_page.c): true when it answered. */
bool ml_api_serve_gateway(struct ml_http_req *req, struct ml_http_resp *resp);
/* meetlink's own Twilio video page and its SDK (api/video_page.c): true when it answered. */
bool ml_api_serve_video(struct ml_http_req *req, struct ml_http_resp *resp);

#define ML_API_CTX(req) ((struct ml_api_ctx *)(req)->user)

/* Handlers, one file per resource. */
void ml_api_healthz(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_readyz(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_openapi(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_api_hosts_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_hosts_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_hosts_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_hosts_update(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_hosts_delete(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_api_services_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_services_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_services_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_services_update(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_services_delete(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_api_bookings_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_confirm(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_reschedule(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_cancel(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_reject(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_complete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_end(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_meeting_put(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_meeting_retry(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_meeting_regenerate(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_invite(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_bookings_participants(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_participants_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_participants_delete(struct ml_http_req *req, struct ml_http_resp *resp);
/* GET …/participants/events: that list, live (api/presence_stream.c). */
void ml_api_participants_stream(struct ml_http_req *req, struct ml_http_resp *resp);
/* The body GET …/participants answers, for booking_id of org_id (*out, a new reference); a
 * negative ML_E* (ML_ENOTFOUND for a booking of another organization) with the error set. */
int ml_api_participants_view(const struct ml_env *env, const char *org_id,
                             const char *booking_id, json_t **out);
void ml_api_bookings_events(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_jobs_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_jobs_retry(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhooks_inbound(struct ml_http_req *req, struct ml_http_resp *resp);
/* POST /webhooks/{path} of a platform's watch notifications (provider_push.c). */
struct ml_provider_ops;
void ml_api_webhooks_watch(struct ml_http_req *req, struct ml_http_resp *resp,
                           const struct ml_provider_ops *ops);

/* Connections (connections.c, credentials.c) and the hosted connect page (connect_page.c). */
void ml_api_connect_links_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_connections_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_connections_delete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_credentials_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_credentials_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_credentials_put(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_credentials_delete(struct ml_http_req *req, struct ml_http_resp *resp);
/* Serves /connect… and /oauth/{platform}/…; false when the path is not one of them. */
bool ml_api_serve_pages(struct ml_http_req *req, struct ml_http_resp *resp);

void ml_api_webhook_endpoints_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhook_endpoints_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhook_endpoints_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhook_endpoints_delete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhook_endpoints_update(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhook_deliveries_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_webhook_deliveries_redeliver(struct ml_http_req *req, struct ml_http_resp *resp);
/* Recordings (recordings.c). */
void ml_api_booking_recordings(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recordings_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recordings_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recordings_vtt(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recordings_retranscribe(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recordings_delete(struct ml_http_req *req, struct ml_http_resp *resp);
/* Calendar recordings (recording_calendars.c). */
void ml_api_recording_calendars_create(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recording_calendars_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recording_calendars_delete(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recording_calendar_events(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recording_calendar_event_record(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_recording_calendar_event_unrecord(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_templates_list(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_templates_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_templates_put(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_templates_delete(struct ml_http_req *req, struct ml_http_resp *resp);

/* The waiting room (waiting_room.c) and the organization's settings (org_settings.c). */
void ml_api_waiting_room_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_participant_admit(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_participant_reject(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_waiting_room_admit_all(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_org_settings_get(struct ml_http_req *req, struct ml_http_resp *resp);
void ml_api_org_settings_update(struct ml_http_req *req, struct ml_http_resp *resp);
/* The waiting room's pages (/j/{token}/wait, /events, /panel…): true when it answered. */
bool ml_api_serve_waiting(struct ml_http_req *req, struct ml_http_resp *resp);
/* The gateway's hold step: true, with the answer in resp, when the participant must wait
 * (a guest not yet admitted: the waiting page) or, a host on a booking with a waiting room,
 * gets the panel instead of the meeting (go: the host's own "join", which passes). */
struct ml_gateway_who;
bool ml_api_waiting_hold(struct ml_http_req *req, struct ml_http_resp *resp,
			 const struct ml_gateway_who *w, bool go);
/* A refused waiting-room step as the API and the pages answer it: 409 with the error and the
 * participant's current row ({"error":…, "participant":…}); row borrowed. */
json_t *ml_api_waiting_conflict(json_t *row);

#endif
