/* Read-only views of a booking: participants with personal links, the .ics invitation, and
 * the audit trail. */
#include "api/api.h"
#include "conn/connections.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "meeting/booking.h"
#include "notify/invite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

struct view {
	struct ml_api_ctx *ctx;
	const char *id;
	json_t *booking, *service, *host;
	json_t *events;
	/* Twilio: the organization's key, to mint participants' access tokens (only when
	 * `links`: the participants' view). */
	bool links;
	struct ml_conn_token tok;
	struct ml_pcreds cr;
	bool has_cr;
};

static int view_fn(struct ml_tx *tx, void *arg)
{
	struct view *v = arg;
	int rc = ml_api_doc_load(tx, v->ctx, ML_KIND_BOOKING, v->id, &v->booking);
	if (rc == 0)
		rc = ml_booking_related(tx, v->ctx->org_id, v->booking, &v->service, &v->host);
	const char *platform = str(json_object_get(v->booking, "meeting"), "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	if (rc == 0 && v->links && ops && (ops->caps & ML_CAP_ORG_CREDS) &&
	    (ops->caps & ML_CAP_PERSONAL)) {
		/* An organization key is used as it is: a read, no refresh. */
		enum ml_conn_state st;
		int64_t retry;
		if (ml_conn_acquire(tx, v->ctx->app->vault, v->ctx->org_id,
				    str(v->booking, "host_id"), ops->name, ml_now_ms(), 0, &v->tok,
				    &st, &retry) == 0 &&
		    st == ML_CONN_VALID) {
			v->cr.extra = v->tok.extra;
			v->cr.org_level = v->tok.org_level;
			v->has_cr = true;
		}
		ml_error_clear();
	}
	return rc;
}

static void view_free(struct view *v)
{
	json_decref(v->booking);
	json_decref(v->service);
	json_decref(v->host);
	json_decref(v->events);
	ml_conn_token_clear(&v->tok);
}

/* Reads the view with fn; on failure answers the error (and frees the view). */
static bool view_load(struct view *v, ml_tx_fn fn, struct ml_http_resp *resp)
{
	int rc = ml_store_read(v->ctx->app->store, fn, v);
	if (rc < 0) {
		view_free(v);
		ml_resp_errno(resp, rc);
	}
	return rc == 0;
}

static json_t *participant(struct view *v, const struct ml_participant_ref *p)
{
	struct ml_provider_ctx cx = {&v->ctx->app->platforms, ml_now(), v->has_cr ? &v->cr : NULL};
	char *url = ml_meeting_participant_url(&cx, v->ctx->org_id, v->booking, v->service,
					       v->host, p);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", p->id, "object", "participant",
			      "role", p->role, "name", p->name ? p->name : "", "email",
			      p->email ? p->email : "");
	json_object_set_new(o, "join_url", url ? json_string(url) : json_null());
	free(url);
	return o;
}

void ml_api_bookings_participants(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct view v = {ML_API_CTX(req), req->params[0], .links = true};
	if (!view_load(&v, view_fn, resp))
		return;
	json_t *list = json_array();
	struct ml_participant_ref host = {str(v.booking, "host_participant_id"), "host",
					  str(v.host, "name"), str(v.host, "email")};
	json_array_append_new(list, participant(&v, &host));
	json_t *c = json_object_get(v.booking, "customer");
	struct ml_participant_ref cust = {str(c, "id"), "customer", str(c, "name"), str(c, "email")};
	json_array_append_new(list, participant(&v, &cust));
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(v.booking, "attendees"), i, a) {
		struct ml_participant_ref p = {str(a, "id"), "attendee", str(a, "name"),
					       str(a, "email")};
		json_array_append_new(list, participant(&v, &p));
	}
	view_free(&v);
	ml_api_send_list(resp, list, NULL);
}

void ml_api_bookings_invite(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct view v = {ML_API_CTX(req), req->params[0]};
	if (!view_load(&v, view_fn, resp))
		return;
	const char *method = NULL;
	char *ics = NULL;
	struct ml_invite inv = {v.booking, v.host, v.ctx->app->cfg->public_url, ml_now(), false,
				NULL};
	int rc = ml_invite_build(&ics, &method, &inv);
	view_free(&v);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	char ct[64];
	snprintf(ct, sizeof ct, "text/calendar; charset=utf-8; method=%s", method);
	ml_resp_body_steal(resp, 200, ct, ics, strlen(ics));
	ml_resp_header(resp, "Content-Disposition", "attachment; filename=\"invite.ics\"");
}

static int events_fn(struct ml_tx *tx, void *arg)
{
	struct view *v = arg;
	int rc = ml_api_doc_load(tx, v->ctx, ML_KIND_BOOKING, v->id, &v->booking);
	if (rc == 0)
		rc = ml_tx_audit_list(tx, v->ctx->org_id, v->id, &v->events);
	return rc;
}

void ml_api_bookings_events(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct view v = {ML_API_CTX(req), req->params[0]};
	if (!view_load(&v, events_fn, resp))
		return;
	json_t *events = json_incref(v.events);
	view_free(&v);
	ml_api_send_list(resp, events, NULL);
}
