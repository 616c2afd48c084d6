/* /v1/bookings/{id}/meeting: manual override, retry, regenerate. The meeting room decides
 * (meeting/change.c); this parses and loads the booking of the request's organization. */
#include "api/api.h"
#include "api/validate.h"
#include "meeting/booking.h"

#include <string.h>

static int meeting_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const struct ml_meeting_change *c = w->arg;
	json_t *booking = NULL;
	struct ml_step st;
	int rc;

	if ((rc = ml_api_doc_load(tx, w->ctx, ML_KIND_BOOKING, w->req->params[0], &booking)) < 0)
		return rc;
	ml_api_step_init(w->ctx, &st);
	rc = ml_booking_meeting_change(tx, &st, booking, c);
	w->wake = st.wake;
	if (rc == 0) {
		/* A meeting left to the pipeline is answered 202. */
		if (ml_meeting_is_pending(json_object_get(booking, "meeting")))
			w->status = 202;
		w->result = json_incref(booking);
	}
	json_decref(booking);
	return rc;
}

static void run(struct ml_http_req *req, struct ml_http_resp *resp, struct ml_meeting_change *c)
{
	struct ml_api_write w = {ML_API_CTX(req), req, c, meeting_fn, 0, NULL};
	int rc;
	/* retry and regenerate take no fields (PUT validated its own). */
	if (c->op != ML_MEETING_PUT && (rc = ml_v_none(w.ctx->body)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_write_run(&w, resp);
}

void ml_api_meeting_put(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"join_url", "host_url", "passcode", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct ml_meeting_change c = {.op = ML_MEETING_PUT};
	int rc;

	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_string(ctx->body, "join_url", "join_url", true, 2048, &c.join_url)) < 0 ||
	    (rc = ml_v_url(c.join_url, "join_url")) < 0 ||
	    (rc = ml_v_string(ctx->body, "host_url", "host_url", false, 2048, &c.host_url)) < 0 ||
	    (c.host_url && (rc = ml_v_url(c.host_url, "host_url")) < 0) ||
	    (rc = ml_v_string(ctx->body, "passcode", "passcode", false, 64, &c.passcode)) < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	run(req, resp, &c);
}

void ml_api_meeting_retry(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_meeting_change c = {.op = ML_MEETING_RETRY};
	run(req, resp, &c);
}

void ml_api_meeting_regenerate(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_meeting_change c = {.op = ML_MEETING_REGENERATE};
	run(req, resp, &c);
}
