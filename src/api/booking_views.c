/* Read-only views of a booking: the .ics invitation and the audit trail (the participants
 * and their links: participants.c). */
#include "api/api.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/meeting.h"
#include "meeting/booking.h"
#include "notify/invite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct view {
	struct ml_api_ctx *ctx;
	const char *id;
	json_t *booking, *service, *host;
	json_t *events;
};

static int view_fn(struct ml_tx *tx, void *arg)
{
	struct view *v = arg;
	int rc = ml_api_doc_load(tx, v->ctx, ML_KIND_BOOKING, v->id, &v->booking);
	if (rc == 0)
		rc = ml_booking_related(tx, v->ctx->org_id, v->booking, &v->service, &v->host);
	return rc;
}

static void view_free(struct view *v)
{
	json_decref(v->booking);
	json_decref(v->service);
	json_decref(v->host);
	json_decref(v->events);
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
