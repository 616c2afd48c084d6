/* /v1/recordings and /v1/bookings/{id}/recordings: what the recording bots made
 * (docs/recordings.md). Reads scoped by organization like every resource; retranscribe and
 * delete call the meeting room, which queues the recorder's work. */
#include "api/api.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/recording.h"

#include <stdlib.h>
#include <string.h>

static const char *const states[] = {"scheduled", "joining",    "waiting_room", "recording",
                                     "processing", "ready",     "failed",       "cancelled",
                                     "deleted",    NULL};

static int not_found(const char *id)
{
	return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No recording with id %s.",
	                    id && strlen(id) <= 64 ? id : "(too long)");
}

static int load(struct ml_tx *tx, struct ml_api_ctx *ctx, const char *id, json_t **out)
{
	int rc = ml_tx_recording_get(tx, ctx->org_id, id, out);
	return rc == ML_ENOTFOUND ? not_found(id) : rc;
}

/* --- lists --- */

struct list_call {
	struct ml_api_ctx *ctx;
	struct ml_recording_query q;
	const char *booking; /* the path's booking: must exist in the organization */
	json_t *items;
	char *next;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct list_call *c = arg;
	int rc;
	if (c->booking) {
		json_t *b = NULL;
		if ((rc = ml_api_doc_peek(tx, c->ctx, ML_KIND_BOOKING, c->booking, &b)) < 0)
			return rc;
		json_decref(b);
	}
	if ((rc = ml_tx_recording_list(tx, c->ctx->org_id, &c->q, &c->items, &c->next)) < 0)
		return rc;
	size_t i;
	json_t *r;
	json_array_foreach(c->items, i, r) json_array_set_new(c->items, i, ml_recording_view(r, true));
	return 0;
}

static int list_query(struct ml_http_req *req, struct ml_recording_query *q)
{
	memset(q, 0, sizeof *q);
	int rc = ml_api_page_query(req, &q->limit, &q->cursor);
	if (rc < 0)
		return rc;
	q->booking_id = ml_http_query(req, "booking_id");
	q->host_id = ml_http_query(req, "host_id");
	q->state = ml_http_query(req, "state");
	if (q->state) {
		bool ok = false;
		for (int i = 0; states[i]; i++)
			ok = ok || strcmp(states[i], q->state) == 0;
		if (!ok)
			return ml_error_set(ML_EINVAL, "invalid_field", "state",
			                    "state must be one of scheduled, joining, waiting_room, "
			                    "recording, processing, ready, failed, cancelled, deleted.");
	}
	const char *from = ml_http_query(req, "created_from"), *to = ml_http_query(req, "created_to");
	if (from && ml_time_parse(from, &q->created_from) < 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "created_from",
		                    "created_from must be an RFC 3339 time.");
	if (to && ml_time_parse(to, &q->created_to) < 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "created_to",
		                    "created_to must be an RFC 3339 time.");
	q->has_from = from != NULL;
	q->has_to = to != NULL;
	return 0;
}

static void list(struct ml_http_req *req, struct ml_http_resp *resp, const char *booking)
{
	struct list_call c = {ML_API_CTX(req), {0}, booking, NULL, NULL};
	int rc = list_query(req, &c.q);
	if (rc == 0 && booking)
		c.q.booking_id = booking;
	if (rc == 0)
		rc = ml_store_read(c.ctx->app->store, list_fn, &c);
	if (rc < 0) {
		json_decref(c.items);
		free(c.next);
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_send_list(resp, c.items, c.next);
}

void ml_api_recordings_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	list(req, resp, NULL);
}

void ml_api_booking_recordings(struct ml_http_req *req, struct ml_http_resp *resp)
{
	list(req, resp, req->params[0]);
}

/* --- one recording --- */

struct get_call {
	struct ml_api_ctx *ctx;
	const char *id;
	json_t *rec;
};

static int get_fn(struct ml_tx *tx, void *arg)
{
	struct get_call *c = arg;
	return load(tx, c->ctx, c->id, &c->rec);
}

static int get_one(struct ml_http_req *req, struct ml_http_resp *resp, json_t **rec)
{
	struct get_call c = {ML_API_CTX(req), req->params[0], NULL};
	int rc = ml_store_read(c.ctx->app->store, get_fn, &c);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return rc;
	}
	*rec = c.rec;
	return 0;
}

void ml_api_recordings_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *rec;
	const char *format = ml_http_query(req, "format");
	if (format && strcmp(format, "json") != 0) {
		ml_resp_error(resp, 400, "invalid_field", "format",
		              "format must be json; the WebVTT transcript is at "
		              "/v1/recordings/{id}/transcript.vtt.");
		return;
	}
	if (get_one(req, resp, &rec) < 0)
		return;
	ml_resp_json(resp, 200, ml_recording_view(rec, false));
	json_decref(rec);
}

void ml_api_recordings_vtt(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *rec;
	if (get_one(req, resp, &rec) < 0)
		return;
	const char *ts = json_string_value(json_object_get(rec, "transcript_state"));
	if (!ts || strcmp(ts, "ready") != 0) {
		ml_resp_error(resp, 409, "transcript_not_ready", NULL,
		              "The recording has no transcript yet.");
		json_decref(rec);
		return;
	}
	char *vtt = ml_recording_vtt(rec);
	json_decref(rec);
	ml_resp_body_steal(resp, 200, "text/vtt; charset=utf-8", vtt, strlen(vtt));
}

/* --- actions --- */

static int action_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *rec;
	int rc = load(tx, w->ctx, w->req->params[0], &rec);
	if (rc < 0)
		return rc;
	rc = w->arg ? ml_recording_delete(tx, w->ctx->org_id, rec, w->ctx->key_id, w->ctx->ip)
	            : ml_recording_retranscribe(tx, w->ctx->org_id, rec, w->ctx->key_id,
	                                        w->ctx->ip);
	if (rc < 0) {
		json_decref(rec);
		return rc;
	}
	w->status = w->arg ? 200 : 202;
	w->result = ml_recording_view(rec, true);
	w->wake = true;
	json_decref(rec);
	return 0;
}

void ml_api_recordings_retranscribe(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, action_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

void ml_api_recordings_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static int del = 1;
	struct ml_api_write w = {ML_API_CTX(req), req, &del, action_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
