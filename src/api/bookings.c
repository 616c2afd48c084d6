/* /v1/bookings: create, read, list, and the lifecycle of SPEC §3. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "meeting/booking.h"

#include <string.h>

#define MAX_ATTENDEES 50
#define MAX_MESSAGE 1000 /* an instant meeting's personal message, in characters */
#define MAX_DURATION ML_BOOKING_MAX_DURATION

static const char *const booking_fields[] = {
	"external_id", "service_id", "start",     "end",    "timezone", "title",
	"customer",    "attendees",  "status",    "metadata", "allow_overlap", "message", NULL};
static const char *const person_fields[] = {"name", "email", "timezone", "external_id", NULL};

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* A customer or attendee: {name, email} validated, with its own participant id. */
static int person(json_t *in, const char *path, json_t **out)
{
	char p[96];
	const char *name, *email, *tz, *ext;
	int rc;

	if (!json_is_object(in))
		return ml_error_set(ML_EINVAL, "invalid_field", path, "%s must be an object.",
				    path);
	if ((rc = ml_v_known(in, path, person_fields)) < 0)
		return rc;
	snprintf(p, sizeof p, "%s.name", path);
	if ((rc = ml_v_string(in, "name", p, false, 200, &name)) < 0)
		return rc;
	snprintf(p, sizeof p, "%s.email", path);
	if ((rc = ml_v_string(in, "email", p, true, 254, &email)) < 0 ||
	    (rc = ml_v_email(email, p)) < 0)
		return rc;
	snprintf(p, sizeof p, "%s.timezone", path);
	if ((rc = ml_v_string(in, "timezone", p, false, 64, &tz)) < 0 ||
	    (tz && (rc = ml_v_timezone(tz, p)) < 0))
		return rc;
	snprintf(p, sizeof p, "%s.external_id", path);
	if ((rc = ml_v_string(in, "external_id", p, false, 255, &ext)) < 0)
		return rc;
	char id[ML_ID_MAX];
	ml_id_new(id, "prt");
	*out = json_pack("{s:s, s:s, s:s}", "id", id, "name", name ? name : "", "email", email);
	if (tz)
		json_object_set_new(*out, "timezone", json_string(tz));
	if (ext)
		json_object_set_new(*out, "external_id", json_string(ext));
	return 0;
}

/* What the create body says, validated before the transaction. */
struct create_in {
	json_t *doc;
	const char *status;
	bool confirm; /* created confirmed (status "confirmed" asked for) */
	bool has_end;
	bool allow_overlap; /* may overlap the host's other confirmed bookings */
	bool instant;       /* "start": "now" (issue 18 §4) */
	int64_t start, end;
};

/* "start": "now": an instant meeting, starting at the server's time (whole seconds, the
 * fraction dropped), confirmed at once; its invitation says to join now, with the optional
 * personal `message`. Anything else is an RFC 3339 time. */
static int parse_start(json_t *body, struct create_in *in, const char **message)
{
	int rc;
	json_t *s = json_object_get(body, "start");
	in->instant = json_is_string(s) && strcmp(json_string_value(s), "now") == 0;
	if (!in->instant) {
		if ((rc = ml_v_time(body, "start", "start", true, &in->start, NULL)) < 0)
			return rc;
		if (json_object_get(body, "message"))
			return ml_error_set(ML_EINVAL, "invalid_field", "message",
					    "message goes with \"start\": \"now\" (an instant "
					    "meeting's invitation) only.");
		return 0;
	}
	in->start = ml_now();
	if ((rc = ml_v_text(body, "message", "message", false, MAX_MESSAGE, message)) < 0)
		return rc;
	if (in->status && strcmp(in->status, "confirmed") != 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "status",
				    "An instant meeting (\"start\": \"now\") is confirmed at once; "
				    "status must be confirmed or left out.");
	in->confirm = true;
	return 0;
}

static int parse_create(json_t *body, struct create_in *in)
{
	const char *service_id, *tz, *title, *ext, *message = NULL;
	json_t *customer, *attendees, *meta, *c;
	bool ext_given;
	int rc;

	if ((rc = ml_v_known(body, NULL, booking_fields)) < 0 ||
	    (rc = ml_v_string_or_null(body, "external_id", "external_id", 255, &ext, &ext_given)) < 0 ||
	    (rc = ml_v_string(body, "service_id", "service_id", true, 64, &service_id)) < 0 ||
	    (rc = ml_v_time(body, "end", "end", false, &in->end, &in->has_end)) < 0 ||
	    (rc = ml_v_string(body, "timezone", "timezone", false, 64, &tz)) < 0 ||
	    (rc = ml_v_string(body, "title", "title", false, 300, &title)) < 0 ||
	    (rc = ml_v_string(body, "status", "status", false, 16, &in->status)) < 0 ||
	    (rc = ml_v_object(body, "customer", "customer", true, &customer)) < 0 ||
	    (rc = ml_v_bool(body, "allow_overlap", "allow_overlap", &in->allow_overlap, NULL)) < 0 ||
	    (rc = ml_v_metadata(body, "metadata", "metadata", &meta)) < 0)
		return rc;
	if (tz && (rc = ml_v_timezone(tz, "timezone")) < 0)
		return rc;
	if (in->status && !ml_booking_create_status(in->status, &in->confirm))
		return ml_error_set(ML_EINVAL, "invalid_field", "status",
				    "status must be pending or confirmed when creating a booking.");
	if ((rc = parse_start(body, in, &message)) < 0)
		return rc;
	if (in->has_end && in->end <= in->start)
		return ml_error_set(ML_EINVAL, "invalid_field", "end", "end must be after start.");
	if (in->has_end && in->end - in->start > MAX_DURATION)
		return ml_error_set(ML_EINVAL, "invalid_field", "end",
				    "A booking lasts at most 7 days.");
	attendees = json_object_get(body, "attendees");
	if (attendees && !json_is_null(attendees) && !json_is_array(attendees))
		return ml_error_set(ML_EINVAL, "invalid_field", "attendees",
				    "attendees must be an array.");
	if (json_array_size(attendees) > MAX_ATTENDEES)
		return ml_error_set(ML_EINVAL, "invalid_field", "attendees",
				    "A booking has at most %d attendees.", MAX_ATTENDEES);

	json_t *doc = json_pack("{s:s, s:s, s:s}", "object", "booking", "service_id", service_id,
				"status", ml_booking_status_new());
	json_object_set_new(doc, "external_id", ext ? json_string(ext) : json_null());
	if (title)
		json_object_set_new(doc, "title", json_string(title));
	if (tz)
		json_object_set_new(doc, "timezone", json_string(tz));
	if ((rc = person(customer, "customer", &c)) < 0) {
		json_decref(doc);
		return rc;
	}
	json_object_set_new(doc, "customer", c);
	json_t *list = json_array();
	json_object_set_new(doc, "attendees", list);
	for (size_t i = 0; i < json_array_size(attendees); i++) {
		char path[32];
		snprintf(path, sizeof path, "attendees[%zu]", i);
		if ((rc = person(json_array_get(attendees, i), path, &c)) < 0) {
			json_decref(doc);
			return rc;
		}
		json_array_append_new(list, c);
	}
	json_object_set_new(doc, "metadata", meta ? json_incref(meta) : json_object());
	if (in->instant)
		json_object_set_new(doc, "instant",
				    json_pack("{s:s?}", "message", message && *message ? message : NULL));
	in->doc = doc;
	return 0;
}

/* A refused step names the booking it conflicts with (issue 18 §5). */
static void conflict_detail(struct ml_api_write *w, const struct ml_step *st)
{
	if (st->has_conflict)
		w->error_extra = json_pack("{s:o}", "conflicting_booking",
					   ml_booking_conflict_json(st));
}

/* The answer to a confirm: 202 while the pipeline makes the meeting. */
static int confirm_status(json_t *booking)
{
	return ml_meeting_is_pending(json_object_get(booking, "meeting")) ? 202 : 200;
}

static int create_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct create_in *in = w->arg;
	json_t *service = NULL, *host = NULL;
	struct ml_step st;
	int rc;

	rc = ml_tx_doc_peek(tx, ML_KIND_SERVICE, w->ctx->org_id, str(in->doc, "service_id"),
			    &service);
	if (rc == ML_ENOTFOUND)
		rc = ml_error_set(ML_EINVAL, "service_not_found", "service_id",
				  "No service with id %s.", str(in->doc, "service_id"));
	if (rc < 0)
		goto done;
	if ((rc = ml_api_doc_peek(tx, w->ctx, ML_KIND_HOST, str(service, "host_id"), &host)) < 0)
		goto done;
	ml_api_step_init(w->ctx, &st);
	st.allow_overlap = in->allow_overlap;
	bool confirm = in->confirm;
	if ((rc = ml_booking_create(tx, &st, in->doc, service, host, in->start, in->end,
				    in->has_end, confirm)) < 0) {
		conflict_detail(w, &st);
		goto done;
	}
	w->wake = st.wake;
	w->status = confirm && confirm_status(in->doc) == 202 ? 202 : 201;
	w->result = json_incref(in->doc);
done:
	json_decref(service);
	json_decref(host);
	return rc;
}

void ml_api_bookings_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct create_in in = {0};
	int rc = parse_create(ctx->body, &in);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	ml_api_stamp_new(in.doc, "bkg");
	struct ml_api_write w = {ctx, req, &in, create_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	json_decref(in.doc);
}

void ml_api_bookings_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	const char *status = ml_http_query(req, "status");
	if (status && !ml_booking_status_valid(status)) {
		ml_resp_error(resp, 400, "invalid_field", "status",
			      "status must be one of pending, confirmed, in_progress, completed, "
			      "cancelled, rejected.");
		return;
	}
	ml_api_doc_list(req, resp, ML_KIND_BOOKING);
}

void ml_api_bookings_get(struct ml_http_req *req, struct ml_http_resp *resp)
{
	ml_api_doc_get(req, resp, ML_KIND_BOOKING);
}

/* --- lifecycle --- */

/* A lifecycle step as the request asked it. */
struct step_in {
	struct ml_booking_change c;
	bool allow_overlap; /* confirm, reschedule */
};

static int step_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const struct step_in *in = w->arg;
	const struct ml_booking_change *c = &in->c;
	json_t *booking = NULL;
	struct ml_step st;
	int rc;

	if ((rc = ml_api_doc_load(tx, w->ctx, ML_KIND_BOOKING, w->req->params[0], &booking)) < 0)
		goto done;
	ml_api_step_init(w->ctx, &st);
	st.allow_overlap = in->allow_overlap;
	rc = ml_booking_apply(tx, &st, booking, c);
	w->wake = st.wake;
	w->changed_booking = w->req->params[0]; /* a closed booking closes its waiting room */
	if (rc < 0) {
		conflict_detail(w, &st);
		goto done;
	}
	if (c->action == ML_BK_CONFIRM)
		w->status = confirm_status(booking);
	w->result = json_incref(booking);
done:
	json_decref(booking);
	return rc;
}

static void step(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_booking_action a)
{
	static const char *const reschedule_fields[] = {"start", "end", "timezone",
							"allow_overlap", NULL};
	static const char *const reason_fields[] = {"reason", NULL};
	static const char *const confirm_fields[] = {"allow_overlap", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct step_in in = {.c = {.action = a}};
	struct ml_booking_change *s = &in.c;
	int rc = 0;

	if (a == ML_BK_RESCHEDULE) {
		if ((rc = ml_v_known(ctx->body, NULL, reschedule_fields)) == 0 &&
		    (rc = ml_v_time(ctx->body, "start", "start", true, &s->start, NULL)) == 0 &&
		    (rc = ml_v_time(ctx->body, "end", "end", false, &s->end, &s->has_end)) == 0 &&
		    (rc = ml_v_bool(ctx->body, "allow_overlap", "allow_overlap", &in.allow_overlap,
				    NULL)) == 0 &&
		    (rc = ml_v_string(ctx->body, "timezone", "timezone", false, 64, &s->timezone)) == 0 &&
		    s->timezone)
			rc = ml_v_timezone(s->timezone, "timezone");
	} else if (a == ML_BK_CANCEL || a == ML_BK_REJECT || a == ML_BK_COMPLETE) {
		if ((rc = ml_v_known(ctx->body, NULL, reason_fields)) == 0)
			rc = ml_v_text(ctx->body, "reason", "reason", false, 1000, &s->reason);
	} else if ((rc = ml_v_known(ctx->body, NULL, confirm_fields)) == 0) {
		rc = ml_v_bool(ctx->body, "allow_overlap", "allow_overlap", &in.allow_overlap, NULL);
	}
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	struct ml_api_write w = {ctx, req, &in, step_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}

void ml_api_bookings_confirm(struct ml_http_req *req, struct ml_http_resp *resp)
{
	step(req, resp, ML_BK_CONFIRM);
}

void ml_api_bookings_reschedule(struct ml_http_req *req, struct ml_http_resp *resp)
{
	step(req, resp, ML_BK_RESCHEDULE);
}

void ml_api_bookings_cancel(struct ml_http_req *req, struct ml_http_resp *resp)
{
	step(req, resp, ML_BK_CANCEL);
}

void ml_api_bookings_reject(struct ml_http_req *req, struct ml_http_resp *resp)
{
	step(req, resp, ML_BK_REJECT);
}

void ml_api_bookings_complete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	step(req, resp, ML_BK_COMPLETE);
}

/* --- end for all (meeting/end.c) --- */

static int end_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	json_t *booking = NULL;
	struct ml_step st;
	bool again = false;
	int rc;

	if ((rc = ml_api_doc_load(tx, w->ctx, ML_KIND_BOOKING, w->req->params[0], &booking)) < 0)
		return rc;
	ml_api_step_init(w->ctx, &st);
	if ((rc = ml_booking_end(tx, &st, booking, w->arg, &again)) == 0) {
		w->wake = st.wake;
		if (!again)
			w->changed_booking = w->req->params[0]; /* its waiting room closed */
		w->result = json_incref(booking);
	}
	json_decref(booking);
	return rc;
}

void ml_api_bookings_end(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"reason", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	const char *reason = NULL;
	int rc = ml_v_known(ctx->body, NULL, fields);
	if (rc == 0)
		rc = ml_v_text(ctx->body, "reason", "reason", false, 1000, &reason);
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	struct ml_api_write w = {ctx, req, (void *)reason, end_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
