/* Dispatch: routing, authentication, JSON bodies, idempotent writes, shared rendering. */
#include "api/api.h"
#include "core/form.h"
#include "core/json_in.h"
#include "core/json_text.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"
#include "meeting/waitbus.h"
#include "queue/worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct ml_route ml_api_routes[] = {
	{"GET", "/healthz", ml_api_healthz, ML_ROUTE_PUBLIC},
	{"GET", "/readyz", ml_api_readyz, ML_ROUTE_PUBLIC},
	{"GET", "/v1/openapi.json", ml_api_openapi, ML_ROUTE_PUBLIC},
	{"POST", "/v1/hosts", ml_api_hosts_create, 0},
	{"GET", "/v1/hosts", ml_api_hosts_list, 0},
	{"GET", "/v1/hosts/{id}", ml_api_hosts_get, 0},
	{"PATCH", "/v1/hosts/{id}", ml_api_hosts_update, 0},
	{"DELETE", "/v1/hosts/{id}", ml_api_hosts_delete, 0},
	{"POST", "/v1/services", ml_api_services_create, 0},
	{"GET", "/v1/services", ml_api_services_list, 0},
	{"GET", "/v1/services/{id}", ml_api_services_get, 0},
	{"PATCH", "/v1/services/{id}", ml_api_services_update, 0},
	{"DELETE", "/v1/services/{id}", ml_api_services_delete, 0},
	{"POST", "/v1/bookings", ml_api_bookings_create, 0},
	{"GET", "/v1/bookings", ml_api_bookings_list, 0},
	{"GET", "/v1/bookings/{id}", ml_api_bookings_get, 0},
	{"POST", "/v1/bookings/{id}/confirm", ml_api_bookings_confirm, 0},
	{"POST", "/v1/bookings/{id}/reschedule", ml_api_bookings_reschedule, 0},
	{"POST", "/v1/bookings/{id}/cancel", ml_api_bookings_cancel, 0},
	{"POST", "/v1/bookings/{id}/reject", ml_api_bookings_reject, 0},
	{"POST", "/v1/bookings/{id}/complete", ml_api_bookings_complete, 0},
	{"POST", "/v1/bookings/{id}/end", ml_api_bookings_end, 0},
	{"PUT", "/v1/bookings/{id}/meeting", ml_api_meeting_put, 0},
	{"POST", "/v1/bookings/{id}/meeting/retry", ml_api_meeting_retry, 0},
	{"POST", "/v1/bookings/{id}/meeting/regenerate", ml_api_meeting_regenerate, 0},
	{"GET", "/v1/bookings/{id}/invite.ics", ml_api_bookings_invite, 0},
	{"GET", "/v1/bookings/{id}/participants", ml_api_bookings_participants, 0},
	{"GET", "/v1/bookings/{id}/participants/events", ml_api_participants_stream, 0},
	{"POST", "/v1/bookings/{id}/participants", ml_api_participants_create, 0},
	{"DELETE", "/v1/bookings/{id}/participants/{participant_id}", ml_api_participants_delete, 0},
	{"GET", "/v1/bookings/{id}/events", ml_api_bookings_events, 0},
	{"GET", "/v1/jobs", ml_api_jobs_list, 0},
	{"POST", "/v1/jobs/{id}/retry", ml_api_jobs_retry, 0},
	{"POST", "/webhooks/{platform}", ml_api_webhooks_inbound, ML_ROUTE_PUBLIC | ML_ROUTE_FORM},
	{"POST", "/v1/hosts/{id}/connect-links", ml_api_connect_links_create, 0},
	{"GET", "/v1/hosts/{id}/connections", ml_api_connections_list, 0},
	{"DELETE", "/v1/hosts/{id}/connections/{platform}", ml_api_connections_delete, 0},
	{"GET", "/v1/credentials", ml_api_credentials_list, 0},
	{"GET", "/v1/credentials/{platform}", ml_api_credentials_get, 0},
	{"PUT", "/v1/credentials/{platform}", ml_api_credentials_put, 0},
	{"DELETE", "/v1/credentials/{platform}", ml_api_credentials_delete, 0},
	{"POST", "/v1/webhook-endpoints", ml_api_webhook_endpoints_create, 0},
	{"GET", "/v1/webhook-endpoints", ml_api_webhook_endpoints_list, 0},
	{"GET", "/v1/webhook-endpoints/{id}", ml_api_webhook_endpoints_get, 0},
	{"DELETE", "/v1/webhook-endpoints/{id}", ml_api_webhook_endpoints_delete, 0},
	{"PATCH", "/v1/webhook-endpoints/{id}", ml_api_webhook_endpoints_update, 0},
	{"GET", "/v1/webhook-endpoints/{id}/deliveries", ml_api_webhook_deliveries_list, 0},
	{"POST", "/v1/webhook-endpoints/{id}/deliveries/{delivery_id}/redeliver",
	 ml_api_webhook_deliveries_redeliver, 0},
	{"GET", "/v1/bookings/{id}/recordings", ml_api_booking_recordings, 0},
	{"GET", "/v1/recordings", ml_api_recordings_list, 0},
	{"GET", "/v1/recordings/{id}", ml_api_recordings_get, 0},
	{"GET", "/v1/recordings/{id}/transcript.vtt", ml_api_recordings_vtt, 0},
	{"POST", "/v1/recordings/{id}/retranscribe", ml_api_recordings_retranscribe, 0},
	{"DELETE", "/v1/recordings/{id}", ml_api_recordings_delete, 0},
	{"POST", "/v1/hosts/{id}/recording-calendars", ml_api_recording_calendars_create, 0},
	{"GET", "/v1/hosts/{id}/recording-calendars", ml_api_recording_calendars_list, 0},
	{"DELETE", "/v1/recording-calendars/{id}", ml_api_recording_calendars_delete, 0},
	{"GET", "/v1/recording-calendars/{id}/events", ml_api_recording_calendar_events, 0},
	{"PUT", "/v1/recording-calendars/{id}/events/{event_id}/recording",
	 ml_api_recording_calendar_event_record, 0},
	{"DELETE", "/v1/recording-calendars/{id}/events/{event_id}/recording",
	 ml_api_recording_calendar_event_unrecord, 0},
	{"GET", "/v1/templates", ml_api_templates_list, 0},
	{"GET", "/v1/templates/{name}", ml_api_templates_get, 0},
	{"PUT", "/v1/templates/{name}", ml_api_templates_put, 0},
	{"DELETE", "/v1/templates/{name}", ml_api_templates_delete, 0},
	{"GET", "/v1/bookings/{id}/waiting-room", ml_api_waiting_room_get, 0},
	{"POST", "/v1/bookings/{id}/waiting-room/admit-all", ml_api_waiting_room_admit_all, 0},
	{"POST", "/v1/bookings/{id}/participants/{participant_id}/admit", ml_api_participant_admit,
	 0},
	{"POST", "/v1/bookings/{id}/participants/{participant_id}/reject",
	 ml_api_participant_reject, 0},
	{"GET", "/v1/organization/settings", ml_api_org_settings_get, 0},
	{"PATCH", "/v1/organization/settings", ml_api_org_settings_update, 0},
	{NULL, NULL, NULL, 0},
};

static bool idem_answer(struct ml_http_req *req, struct ml_api_ctx *ctx,
			struct ml_http_resp *resp);

struct key_lookup {
	const char *hash;
	char org_id[40], key_id[40];
	struct ml_org_rate rate;
};

static int key_lookup_fn(struct ml_tx *tx, void *arg)
{
	struct key_lookup *k = arg;
	int rc = ml_tx_key_lookup(tx, k->hash, k->org_id, k->key_id);
	if (rc == 0)
		rc = ml_tx_org_rate_get(tx, k->org_id, &k->rate);
	return rc;
}

/* Recently seen keys, so a burst of requests does not look the same key up every time. A
 * cached key is trusted for KEY_TTL_MS, and its organization's rate limit with it (a limit
 * set with `meetlink keys limit` applies within that time); keys are only ever added
 * (revocation, when it comes, must clear this cache). */
#define KEY_SLOTS 1024
#define KEY_TTL_MS 30000
static struct {
	char hash[65];
	char org_id[40], key_id[40];
	struct ml_org_rate rate;
	int64_t until;
} key_cache[KEY_SLOTS];
static pthread_mutex_t key_cache_mu = PTHREAD_MUTEX_INITIALIZER;

/* The slot of a key: its hash's first 32 bits. */
static unsigned key_slot(const char *hash)
{
	return (unsigned)strtoul((char[9]){hash[0], hash[1], hash[2], hash[3], hash[4], hash[5],
					   hash[6], hash[7], 0},
				 NULL, 16) %
	       KEY_SLOTS;
}

static bool key_cache_get(const char *hash, char org_id[40], char key_id[40],
			  struct ml_org_rate *rate)
{
	unsigned i = key_slot(hash);
	bool hit = false;
	pthread_mutex_lock(&key_cache_mu);
	if (key_cache[i].until > ml_mono_ms() &&
	    ml_ct_equal(key_cache[i].hash, 64, hash, 64)) {
		memcpy(org_id, key_cache[i].org_id, 40);
		memcpy(key_id, key_cache[i].key_id, 40);
		*rate = key_cache[i].rate;
		hit = true;
	}
	pthread_mutex_unlock(&key_cache_mu);
	return hit;
}

static void key_cache_put(const char *hash, const char *org_id, const char *key_id,
			  const struct ml_org_rate *rate)
{
	unsigned i = key_slot(hash);
	pthread_mutex_lock(&key_cache_mu);
	memcpy(key_cache[i].hash, hash, 65);
	memcpy(key_cache[i].org_id, org_id, 40);
	memcpy(key_cache[i].key_id, key_id, 40);
	key_cache[i].rate = *rate;
	key_cache[i].until = ml_mono_ms() + KEY_TTL_MS;
	pthread_mutex_unlock(&key_cache_mu);
}

/* Bearer API key → organization. The key is compared by its SHA-256 in the store's unique
 * index, so no secret is ever compared byte by byte in memory. */
static int authenticate(struct ml_http_req *req, struct ml_api_ctx *ctx,
			struct ml_org_rate *rate)
{
	const char *h = ml_http_header(req, "Authorization");
	struct key_lookup k;
	char hash[65];
	int rc;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0 || !h[7])
		return ml_error_set(ML_EAUTH, "unauthorized", NULL,
				    "Send your API key as 'Authorization: Bearer <key>'.");
	ml_sha256_hex(h + 7, strlen(h + 7), hash);
	if (key_cache_get(hash, ctx->org_id, ctx->key_id, rate))
		return 0;
	memset(&k, 0, sizeof k);
	k.hash = hash;
	rc = ml_store_read(ctx->app->store, key_lookup_fn, &k);
	if (rc == ML_ENOTFOUND)
		return ml_error_set(ML_EAUTH, "unauthorized", NULL, "That API key is not valid.");
	if (rc < 0)
		return rc;
	memcpy(ctx->org_id, k.org_id, sizeof ctx->org_id);
	memcpy(ctx->key_id, k.key_id, sizeof ctx->key_id);
	*rate = k.rate;
	key_cache_put(hash, k.org_id, k.key_id, &k.rate);
	return 0;
}

/* One token from the API key's bucket: the organization's own limit when it has one, else
 * MEETLINK_RATE_LIMIT / MEETLINK_RATE_BURST. True, with a 429 and Retry-After (whole seconds,
 * at least 1) in resp, when the key has none left. */
static bool rate_limited(struct ml_api_ctx *ctx, const struct ml_org_rate *org,
			 struct ml_http_resp *resp)
{
	int64_t rps = org->set ? org->rps : ctx->app->cfg->rate_limit;
	int64_t burst = org->set ? org->burst : ctx->app->cfg->rate_burst;
	int64_t wait_ms = 0, secs;
	char after[24];

	if (!ctx->app->ratelimit || rps <= 0 ||
	    ml_ratelimit_take(ctx->app->ratelimit, ctx->key_id, rps, burst, ml_mono_ms(),
			      &wait_ms))
		return false;
	secs = (wait_ms + 999) / 1000;
	snprintf(after, sizeof after, "%lld", (long long)(secs < 1 ? 1 : secs));
	ml_resp_error(resp, 429, "rate_limited", NULL,
		      "Too many requests with this API key; retry after the number of seconds "
		      "in Retry-After.");
	ml_resp_header(resp, "Retry-After", after);
	return true;
}

static int parse_body(struct ml_http_req *req, struct ml_api_ctx *ctx)
{
	json_error_t jerr;
	if (req->body_len == 0) {
		ctx->body = json_object();
		return 0;
	}
	const char *ct = ml_http_header(req, "Content-Type");
	if (ct && (req->route->flags & ML_ROUTE_FORM) &&
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0) {
		/* Provider callbacks (Twilio's): small forms of strings. */
		if (req->body_len > ML_API_FORM_MAX)
			return ml_error_set(ML_ETOOBIG, "body_too_large", NULL,
					    "A form body may be %d bytes at most.", ML_API_FORM_MAX);
		ctx->form = true;
		return ml_form_parse(req->body, req->body_len, &ctx->body);
	}
	if (ct && strncasecmp(ct, "application/json", 16) != 0)
		return ml_error_set(ML_EUNSUPPORTED, "unsupported_media_type", "Content-Type",
				    "Send the body as JSON with Content-Type: application/json.");
	/* Measured before jansson parses it: nothing deeper than ML_JSON_MAX_DEPTH reaches the
	 * recursive code after it (copies, serializers, the webhook payloads). */
	char key[64];
	if (ml_json_depth_check(req->body, req->body_len, ML_JSON_MAX_DEPTH, NULL, key,
				sizeof key) < 0)
		return ml_error_set(ML_EINVAL, "too_deep", *key ? key : NULL,
				    "The body nests deeper than %d levels%s%s.", ML_JSON_MAX_DEPTH,
				    *key ? " under " : "", key);
	ctx->body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!ctx->body)
		return ml_error_set(ML_EINVAL, "invalid_json", NULL,
				    "The body is not valid JSON: %s (line %d, column %d).",
				    jerr.text, jerr.line, jerr.column);
	if (!json_is_object(ctx->body)) {
		json_decref(ctx->body);
		ctx->body = NULL;
		return ml_error_set(ML_EINVAL, "invalid_json", NULL,
				    "The body must be a JSON object.");
	}
	return 0;
}

void ml_api_dispatch(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx ctx = {0};
	bool mismatch;
	const struct ml_route *r;
	int rc;

	ctx.app = req->app;
	ctx.ip = req->remote_ip;
	r = ml_router_match(ml_api_routes, req, &mismatch);
	/* The hosted connect page and its OAuth round trip: HTML and page-internal JSON, outside
	 * the REST API (no API key; signed links instead). */
	if (!r && !mismatch && ml_api_serve_pages(req, resp))
		return;
	/* The join gateway's pages (/j/{token}…, /video/{room}): public, the token is the key. */
	if (!r && !mismatch && (ml_api_serve_gateway(req, resp) || ml_api_serve_video(req, resp)))
		return;
	/* The waiting room's pages (/j/{token}/wait, /events, /panel…): the token is the key. */
	if (!r && !mismatch && ml_api_serve_waiting(req, resp))
		return;
	if (!r) {
		if (mismatch)
			ml_resp_error(resp, 405, "method_not_allowed", NULL,
				      "This path does not accept that method.");
		else if (!ml_api_serve_web(req, resp))
			ml_resp_error(resp, 404, "not_found", NULL, "No such endpoint.");
		return;
	}
	req->user = &ctx;
	if (!(r->flags & ML_ROUTE_PUBLIC)) {
		struct ml_org_rate rate = {0};
		if ((rc = authenticate(req, &ctx, &rate)) < 0) {
			ml_resp_errno(resp, rc);
			if (rc == ML_EAUTH)
				ml_resp_header(resp, "WWW-Authenticate", "Bearer");
			return;
		}
		if (rate_limited(&ctx, &rate, resp))
			return;
	}
	if (idem_answer(req, &ctx, resp))
		return;
	if ((strcmp(req->method, "POST") == 0 || strcmp(req->method, "PUT") == 0 ||
	     strcmp(req->method, "PATCH") == 0) &&
	    (rc = parse_body(req, &ctx)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	r->fn(req, resp);
	json_decref(ctx.body);
}

/* --- idempotent writes --- */

/* The key is bound to what was asked: method, path and body. */
static void idem_hash(const struct ml_http_req *req, char out[65])
{
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s %s\n", req->method, req->path);
	ml_buf_append(&b, req->body, req->body_len);
	ml_sha256_hex(b.data, b.len, out);
	ml_buf_free(&b);
}

struct idem_peek {
	const char *org_id, *key;
	struct ml_idem rec;
};

static int idem_peek_fn(struct ml_tx *tx, void *arg)
{
	struct idem_peek *p = arg;
	return ml_tx_idem_get(tx, p->org_id, p->key, &p->rec);
}

/* A POST whose Idempotency-Key was seen before is answered from the store, before any
 * validation: the same request replays its first answer, another request with the same key is
 * refused (422) even when it is itself invalid. Returns true when it answered. The write
 * transaction checks again, for two requests racing with one key. */
static bool idem_answer(struct ml_http_req *req, struct ml_api_ctx *ctx,
			struct ml_http_resp *resp)
{
	const char *key = ml_http_header(req, "Idempotency-Key");
	struct idem_peek p = {ctx->org_id, key};
	char hash[65];

	if (!key || strcmp(req->method, "POST") != 0 || !*key || strlen(key) > 255)
		return false;
	if (ml_store_read(ctx->app->store, idem_peek_fn, &p) < 0)
		return false;
	idem_hash(req, hash);
	if (strcmp(p.rec.body_hash, hash) != 0) {
		free(p.rec.response);
		ml_resp_error(resp, 422, "idempotency_key_reused", "Idempotency-Key",
			      "This Idempotency-Key was used with another request; use a new key.");
		return true;
	}
	ml_resp_body_steal(resp, p.rec.status, "application/json", p.rec.response,
			   strlen(p.rec.response));
	ml_resp_header(resp, "Idempotent-Replayed", "true");
	return true;
}

struct write_call {
	struct ml_api_write *w;
	const char *idem_key;
	char hash[65];
	bool replayed;
	int replay_status;
	char *replay_body;
	char *body; /* w->result as stored with the Idempotency-Key: sent as it is */
};

static int write_fn(struct ml_tx *tx, void *arg)
{
	struct write_call *c = arg;
	struct ml_api_write *w = c->w;
	struct ml_idem rec = {0};
	int rc;

	if (c->idem_key) {
		rc = ml_tx_idem_get(tx, w->ctx->org_id, c->idem_key, &rec);
		if (rc == 0) {
			if (strcmp(rec.body_hash, c->hash) != 0) {
				free(rec.response);
				return ml_error_set(ML_EIDEMP, "idempotency_key_reused",
						    "Idempotency-Key",
						    "This Idempotency-Key was used with another "
						    "request; use a new key.");
			}
			c->replayed = true;
			c->replay_status = rec.status;
			c->replay_body = rec.response;
			return 0;
		}
		if (rc != ML_ENOTFOUND)
			return rc;
	}
	if ((rc = w->fn(tx, w)) < 0)
		return rc;
	/* A document the transaction wrote is answered with the text it was stored as. */
	c->body = ml_tx_doc_text(tx, w->result);
	if (c->idem_key && w->status < 300) {
		struct ml_idem put = {.status = w->status};
		memcpy(put.body_hash, c->hash, sizeof put.body_hash);
		if (!c->body)
			c->body = ml_json_text(w->result);
		put.response = c->body; /* the answer too: serialized once */
		rc = ml_tx_idem_put(tx, w->ctx->org_id, c->idem_key, &put);
	}
	return rc;
}

/* Undoes what a first, optimistic run of write_fn left in the call (see store.h). */
static void write_reset(void *arg)
{
	struct write_call *c = arg;
	json_decref(c->w->result);
	c->w->result = NULL;
	json_decref(c->w->error_extra);
	c->w->error_extra = NULL;
	c->w->status = 200;
	c->replayed = false;
	free(c->replay_body);
	c->replay_body = NULL;
	free(c->body);
	c->body = NULL;
}

/* ml_resp_errno() with the members of `extra` added to the error object. */
static void resp_errno_extra(struct ml_http_resp *resp, int err, json_t *extra)
{
	const char *code = ml_error_code(), *msg = ml_error_message(), *field = ml_error_field();
	json_t *e = json_pack("{s:s, s:s}", "code", *code ? code : "error", "message",
			      *msg ? msg : "The request failed.");
	if (e && *field)
		json_object_set_new(e, "field", json_string(field));
	if (e)
		json_object_update(e, extra);
	ml_resp_json(resp, ml_error_http_status(err), e ? json_pack("{s:o}", "error", e) : NULL);
}

void ml_api_write_run(struct ml_api_write *w, struct ml_http_resp *resp)
{
	struct write_call c = {.w = w};
	int rc;

	w->status = 200;
	if (strcmp(w->req->method, "POST") == 0)
		c.idem_key = ml_http_header(w->req, "Idempotency-Key");
	if (c.idem_key) {
		size_t n = strlen(c.idem_key);
		if (n == 0 || n > 255) {
			ml_resp_error(resp, 400, "invalid_idempotency_key", "Idempotency-Key",
				      "Idempotency-Key must be 1 to 255 characters.");
			return;
		}
		idem_hash(w->req, c.hash);
	}
	rc = ml_store_write_occ(w->ctx->app->store, write_fn, &c, write_reset, &c);
	if (rc < 0) {
		json_t *extra = json_incref(w->error_extra);
		write_reset(&c);
		if (extra)
			resp_errno_extra(resp, rc, extra);
		else
			ml_resp_errno(resp, rc);
		json_decref(extra);
		return;
	}
	if (w->wake)
		ml_worker_notify(w->ctx->app->worker);
	if (w->changed_booking)
		ml_waiting_changed(w->ctx->app->waitbus, w->ctx->org_id, w->changed_booking);
	if (c.replayed) {
		json_decref(w->result);
		w->result = NULL;
		ml_resp_body_steal(resp, c.replay_status, "application/json", c.replay_body,
				   strlen(c.replay_body));
		ml_resp_header(resp, "Idempotent-Replayed", "true");
		return;
	}
	if (c.body) {
		json_decref(w->result);
		w->result = NULL;
		ml_resp_body_steal(resp, w->status, "application/json", c.body, strlen(c.body));
		return;
	}
	ml_resp_json(resp, w->status, w->result ? w->result : json_object());
	w->result = NULL;
}

/* --- shared helpers --- */

void ml_api_stamp_new(json_t *obj, const char *prefix)
{
	char id[ML_ID_MAX], now[ML_RFC3339_MAX];
	ml_id_new(id, prefix);
	ml_time_format(ml_now(), now);
	json_object_set_new(obj, "id", json_string(id));
	json_object_set_new(obj, "created_at", json_string(now));
	json_object_set_new(obj, "updated_at", json_string(now));
}

void ml_api_stamp_update(json_t *obj)
{
	char now[ML_RFC3339_MAX];
	ml_time_format(ml_now(), now);
	json_object_set_new(obj, "updated_at", json_string(now));
}

void ml_api_step_init(struct ml_api_ctx *ctx, struct ml_step *st)
{
	*st = (struct ml_step){&ctx->app->platforms, ctx->org_id, ctx->key_id, ctx->ip, false,
				 ctx->app->vault};
}

int ml_api_audit(struct ml_tx *tx, struct ml_api_ctx *ctx, const char *booking_id,
		 const char *type, json_t *data)
{
	struct ml_audit ev = {ctx->org_id, booking_id, type, ctx->key_id, ctx->ip, data};
	return ml_tx_audit_append(tx, &ev);
}

int ml_api_page_query(struct ml_http_req *req, int *limit, const char **cursor)
{
	const char *l = ml_http_query(req, "limit");
	*limit = 50;
	*cursor = ml_http_query(req, "cursor");
	if (l) {
		char *end;
		long n = strtol(l, &end, 10);
		if (*end || end == l || n < 1 || n > 200)
			return ml_error_set(ML_EINVAL, "invalid_field", "limit",
					    "limit must be an integer from 1 to 200.");
		*limit = (int)n;
	}
	return 0;
}

int ml_api_list_query(struct ml_http_req *req, struct ml_list_query *q)
{
	memset(q, 0, sizeof *q);
	int rc = ml_api_page_query(req, &q->limit, &q->cursor);
	if (rc < 0)
		return rc;
	q->external_id = ml_http_query(req, "external_id");
	q->status = ml_http_query(req, "status");
	q->host_id = ml_http_query(req, "host_id");
	q->service_id = ml_http_query(req, "service_id");
	const char *from = ml_http_query(req, "start_from"), *to = ml_http_query(req, "start_to");
	if (from && ml_time_parse(from, &q->start_from) < 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "start_from",
				    "start_from must be an RFC 3339 time.");
	if (to && ml_time_parse(to, &q->start_to) < 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "start_to",
				    "start_to must be an RFC 3339 time.");
	q->has_start_from = from != NULL;
	q->has_start_to = to != NULL;
	return 0;
}

void ml_api_send_list(struct ml_http_resp *resp, json_t *items, char *next_cursor)
{
	json_t *o = json_pack("{s:s, s:o, s:b}", "object", "list", "data", items, "has_more",
			      next_cursor != NULL);
	json_object_set_new(o, "next_cursor",
			    next_cursor ? json_string(next_cursor) : json_null());
	free(next_cursor);
	ml_resp_json(resp, 200, o);
}
