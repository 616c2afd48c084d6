/* /v1/bookings: create, read, list, and the lifecycle of SPEC §3. */
#include "api/api.h"
#include "api/validate.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/booking.h"
#include "domain/meeting.h"
#include "queue/meeting.h"
#include "notify/outbox.h"

#include <string.h>

#define MAX_ATTENDEES 50
#define MAX_DURATION (7 * 24 * 3600)

static const char *const booking_fields[] = {
	"external_id", "service_id", "start",     "end",    "timezone", "title",
	"customer",    "attendees",  "status",    "metadata", NULL};
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
	bool has_end;
	int64_t start, end;
};

static int parse_create(json_t *body, struct create_in *in)
{
	const char *service_id, *tz, *title, *ext;
	json_t *customer, *attendees, *meta, *c;
	bool ext_given;
	int rc;

	if ((rc = ml_v_known(body, NULL, booking_fields)) < 0 ||
	    (rc = ml_v_string_or_null(body, "external_id", "external_id", 255, &ext, &ext_given)) < 0 ||
	    (rc = ml_v_string(body, "service_id", "service_id", true, 64, &service_id)) < 0 ||
	    (rc = ml_v_time(body, "start", "start", true, &in->start, NULL)) < 0 ||
	    (rc = ml_v_time(body, "end", "end", false, &in->end, &in->has_end)) < 0 ||
	    (rc = ml_v_string(body, "timezone", "timezone", false, 64, &tz)) < 0 ||
	    (rc = ml_v_string(body, "title", "title", false, 300, &title)) < 0 ||
	    (rc = ml_v_string(body, "status", "status", false, 16, &in->status)) < 0 ||
	    (rc = ml_v_object(body, "customer", "customer", true, &customer)) < 0 ||
	    (rc = ml_v_metadata(body, "metadata", "metadata", &meta)) < 0)
		return rc;
	if (tz && (rc = ml_v_timezone(tz, "timezone")) < 0)
		return rc;
	if (in->status && strcmp(in->status, "pending") != 0 && strcmp(in->status, "confirmed") != 0)
		return ml_error_set(ML_EINVAL, "invalid_field", "status",
				    "status must be pending or confirmed when creating a booking.");
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
				"status", "pending");
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
	in->doc = doc;
	return 0;
}

/* Loads what a lifecycle step needs: the booking, its service and host. */
struct trio {
	json_t *booking, *service, *host;
};

static void trio_free(struct trio *t)
{
	json_decref(t->booking);
	json_decref(t->service);
	json_decref(t->host);
}

int ml_api_booking_related(struct ml_tx *tx, struct ml_api_ctx *ctx, json_t *booking,
			   json_t **service, json_t **host)
{
	json_t *svc = NULL, *hst = NULL;
	/* Both are only read here: shared, not copied. */
	int rc = ml_tx_doc_peek(tx, ML_KIND_SERVICE, ctx->org_id, str(booking, "service_id"), &svc);
	if (rc == ML_ENOTFOUND) {
		svc = json_pack("{s:b, s:n, s:{}}", "is_online", 0, "platform", "settings");
		rc = 0;
	}
	if (rc < 0)
		return rc;
	rc = ml_tx_doc_peek(tx, ML_KIND_HOST, ctx->org_id, str(booking, "host_id"), &hst);
	if (rc == ML_ENOTFOUND) {
		/* The host was deleted: the booking kept who organised it. */
		json_t *org = json_object_get(booking, "organizer");
		hst = org ? json_deep_copy(org) : json_pack("{s:s, s:s}", "name", "", "email", "");
		rc = 0;
	}
	if (rc < 0) {
		json_decref(svc);
		return rc;
	}
	*service = svc;
	*host = hst;
	return 0;
}

static int load_related(struct ml_tx *tx, struct ml_api_ctx *ctx, struct trio *t)
{
	return ml_api_booking_related(tx, ctx, t->booking, &t->service, &t->host);
}

static struct ml_provider_ctx pcx(struct ml_api_ctx *ctx)
{
	struct ml_provider_ctx cx = {&ctx->app->platforms, ml_now()};
	return cx;
}

int ml_api_booking_save(struct ml_tx *tx, struct ml_api_ctx *ctx, json_t *booking,
			json_t *service, json_t *host, json_t *events, bool insert)
{
	int rc;
	if (!insert)
		ml_api_stamp_update(booking);
	if ((rc = insert ? ml_tx_doc_insert(tx, ML_KIND_BOOKING, ctx->org_id, booking)
			 : ml_tx_doc_update(tx, ML_KIND_BOOKING, ctx->org_id, booking)) < 0)
		return rc;
	const char *id = str(booking, "id");
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) {
		if ((rc = ml_api_audit(tx, ctx, id, str(e, "type"), json_object_get(e, "data"))) < 0)
			return rc;
	}
	/* Queues the emails and webhooks of what just happened, in the step's transaction. */
	struct ml_provider_ctx cx = pcx(ctx);
	return ml_notify_events(tx, &cx, ctx->org_id, booking, service, host, events);
}

/* Confirms t->booking (already loaded, status checked by the caller): status, meeting.
 * Remote platforms are made by the pipeline: the meeting turns pending, its create job is
 * queued in this transaction, and the caller answers 202. */
static int do_confirm(struct ml_tx *tx, struct ml_api_write *w, struct trio *t, json_t *events)
{
	struct ml_api_ctx *ctx = w->ctx;
	json_t *m = json_object_get(t->booking, "meeting");
	json_object_set_new(t->booking, "status", json_string("confirmed"));
	json_array_append_new(events, json_pack("{s:s, s:{}}", "type", "booking.confirmed", "data"));
	if (!json_is_true(json_object_get(t->service, "is_online")) ||
	    !json_string_value(json_object_get(m, "platform")))
		return 0;
	/* A manual link given on the pending booking is the meeting as it stands. */
	if (strcmp(str(m, "platform"), ML_PLATFORM_MANUAL) == 0 && str(m, "join_url")) {
		json_object_set_new(m, "status", json_string("ready"));
		return 0;
	}
	if (ml_pipeline_remote(str(m, "platform"))) {
		w->wake = true;
		return ml_pipeline_plan_create(tx, &ctx->app->platforms, ctx->org_id, t->booking,
					       t->service, t->host, events);
	}
	struct ml_provider_ctx cx = pcx(ctx);
	return ml_meeting_make(&cx, ctx->org_id, t->booking, t->service, t->host, events);
}

static int confirm_status(json_t *booking)
{
	const char *ms = str(json_object_get(booking, "meeting"), "status");
	return strcmp(ms, "pending") == 0 ? 202 : 200;
}

static int create_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct create_in *in = w->arg;
	struct trio t = {in->doc, NULL, NULL};
	json_t *events = json_array();
	int rc;

	json_incref(in->doc);
	rc = ml_tx_doc_peek(tx, ML_KIND_SERVICE, w->ctx->org_id, str(in->doc, "service_id"),
			    &t.service);
	if (rc == ML_ENOTFOUND)
		rc = ml_error_set(ML_EINVAL, "service_not_found", "service_id",
				  "No service with id %s.", str(in->doc, "service_id"));
	if (rc < 0)
		goto done;
	const char *host_id = str(t.service, "host_id");
	if ((rc = ml_api_doc_peek(tx, w->ctx, ML_KIND_HOST, host_id, &t.host)) < 0)
		goto done;
	json_object_set_new(t.booking, "host_id", json_string(host_id));
	json_object_set_new(t.booking, "organizer",
			    json_pack("{s:s?, s:s?}", "name", str(t.host, "name"), "email",
				      str(t.host, "email")));
	if (!str(t.booking, "title"))
		json_object_set_new(t.booking, "title", json_string(str(t.service, "name")));
	if (!str(t.booking, "timezone")) {
		const char *tz = str(json_object_get(t.booking, "customer"), "timezone");
		json_object_set_new(t.booking, "timezone",
				    json_string(tz ? tz : str(t.host, "timezone")));
	}
	int64_t end = in->has_end
			      ? in->end
			      : in->start + 60 * json_integer_value(
						    json_object_get(t.service, "duration_minutes"));
	if (!ml_time_in_range(end)) {
		/* The service's duration takes the end past what an invitation can carry. */
		rc = ml_error_set(ML_EINVAL, "invalid_field", "start",
				  "start plus the service's duration must end %s.",
				  ML_TIME_RANGE_TEXT);
		goto done;
	}
	char sbuf[ML_RFC3339_MAX], ebuf[ML_RFC3339_MAX], hp[ML_ID_MAX];
	ml_time_format(in->start, sbuf);
	ml_time_format(end, ebuf);
	json_object_set_new(t.booking, "start", json_string(sbuf));
	json_object_set_new(t.booking, "end", json_string(ebuf));
	json_object_set_new(t.booking, "duration_minutes", json_integer((end - in->start) / 60));
	ml_id_new(hp, "prt");
	json_object_set_new(t.booking, "host_participant_id", json_string(hp));
	json_object_set_new(t.booking, "sequence", json_integer(0));
	json_object_set_new(t.booking, "cancel_reason", json_null());
	bool online = json_is_true(json_object_get(t.service, "is_online"));
	json_object_set_new(t.booking, "is_online", json_boolean(online));
	json_object_set_new(t.booking, "meeting",
			    ml_meeting_new(online ? str(t.service, "platform") : NULL));
	json_array_append_new(events, json_pack("{s:s, s:{s:s}}", "type", "booking.created",
						"data", "status", "pending"));
	w->status = 201;
	if (in->status && strcmp(in->status, "confirmed") == 0) {
		if ((rc = do_confirm(tx, w, &t, events)) < 0)
			goto done;
		if (confirm_status(t.booking) == 202)
			w->status = 202;
	}
	if ((rc = ml_api_booking_save(tx, w->ctx, t.booking, t.service, t.host, events, true)) < 0)
		goto done;
	w->result = json_incref(t.booking);
done:
	json_decref(events);
	trio_free(&t);
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

struct step {
	enum ml_booking_action action;
	int64_t start, end;
	bool has_end;
	const char *timezone;
	const char *reason;
};

static int illegal(json_t *booking, enum ml_booking_action action)
{
	const char *status = str(booking, "status");
	return ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
			    "A %s booking cannot be %s (current status: %s).", status,
			    action == ML_BK_CONFIRM      ? "confirmed"
			    : action == ML_BK_RESCHEDULE ? "rescheduled"
			    : action == ML_BK_CANCEL     ? "cancelled"
			    : action == ML_BK_REJECT     ? "rejected"
							 : "completed",
			    status);
}

static int reschedule(struct ml_tx *tx, struct ml_api_write *w, struct trio *t, struct step *s,
		      json_t *events)
{
	struct ml_api_ctx *ctx = w->ctx;
	int64_t old_start = 0, old_end = 0;
	char sbuf[ML_RFC3339_MAX], ebuf[ML_RFC3339_MAX];

	ml_time_parse(str(t->booking, "start"), &old_start);
	ml_time_parse(str(t->booking, "end"), &old_end);
	int64_t end = s->has_end ? s->end : s->start + (old_end - old_start);
	if (!ml_time_in_range(end))
		return ml_error_set(ML_EINVAL, "invalid_field", "start",
				    "start plus the booking's duration must end %s.",
				    ML_TIME_RANGE_TEXT);
	if (end <= s->start)
		return ml_error_set(ML_EINVAL, "invalid_field", "end", "end must be after start.");
	if (end - s->start > MAX_DURATION)
		return ml_error_set(ML_EINVAL, "invalid_field", "end",
				    "A booking lasts at most 7 days.");
	ml_time_format(s->start, sbuf);
	ml_time_format(end, ebuf);
	json_array_append_new(events,
			      json_pack("{s:s, s:{s:s, s:s, s:s, s:s}}", "type",
					"booking.rescheduled", "data", "from_start",
					str(t->booking, "start"), "from_end", str(t->booking, "end"),
					"start", sbuf, "end", ebuf));
	json_object_set_new(t->booking, "start", json_string(sbuf));
	json_object_set_new(t->booking, "end", json_string(ebuf));
	json_object_set_new(t->booking, "duration_minutes", json_integer((end - s->start) / 60));
	if (s->timezone)
		json_object_set_new(t->booking, "timezone", json_string(s->timezone));
	json_object_set_new(t->booking, "sequence",
			    json_integer(json_integer_value(json_object_get(t->booking, "sequence")) + 1));
	if (ml_pipeline_remote(str(json_object_get(t->booking, "meeting"), "platform"))) {
		/* Updated in place by the pipeline (same link); a queued update is replaced. */
		w->wake = true;
		return ml_pipeline_plan_update(tx, &ctx->app->platforms, ctx->org_id, t->booking,
					       events);
	}
	struct ml_provider_ctx cx = pcx(ctx);
	return ml_meeting_update(&cx, ctx->org_id, t->booking, t->service, t->host, events);
}

static int step_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	struct step *s = w->arg;
	struct trio t = {0};
	json_t *events = json_array();
	const char *next;
	int rc;

	if ((rc = ml_api_doc_load(tx, w->ctx, ML_KIND_BOOKING, w->req->params[0], &t.booking)) < 0)
		goto done;
	if (!(next = ml_booking_next(str(t.booking, "status"), s->action))) {
		rc = illegal(t.booking, s->action);
		goto done;
	}
	if ((rc = load_related(tx, w->ctx, &t)) < 0)
		goto done;
	struct ml_provider_ctx cx = pcx(w->ctx);
	switch (s->action) {
	case ML_BK_CONFIRM:
		rc = do_confirm(tx, w, &t, events);
		w->status = confirm_status(t.booking);
		break;
	case ML_BK_RESCHEDULE:
		rc = reschedule(tx, w, &t, s, events);
		break;
	case ML_BK_CANCEL:
		/* previous_status: a booking cancelled while pending had no invitation to withdraw. */
		json_array_append_new(events, json_pack("{s:s, s:{s:s?, s:s}}", "type",
							"booking.cancelled", "data", "reason", s->reason,
							"previous_status", str(t.booking, "status")));
		json_object_set_new(t.booking, "status", json_string(next));
		json_object_set_new(t.booking, "cancel_reason",
				    s->reason ? json_string(s->reason) : json_null());
		json_object_set_new(t.booking, "sequence",
				    json_integer(json_integer_value(json_object_get(t.booking, "sequence")) + 1));
		/* A remote meeting is deleted by the pipeline, after whatever the booking has
		 * queued before (a create still running included). */
		w->wake = true;
		if ((rc = ml_pipeline_plan_delete(tx, w->ctx->org_id, str(t.booking, "id"),
						  json_object_get(t.booking, "meeting"),
						  str(t.booking, "host_id"))) < 0)
			break;
		rc = ml_meeting_cancel(&cx, w->ctx->org_id, t.booking, t.service, t.host, events);
		break;
	default:
		json_object_set_new(t.booking, "status", json_string(next));
		json_array_append_new(events,
				      json_pack("{s:s, s:{s:s?}}", "type",
						s->action == ML_BK_REJECT ? "booking.rejected"
									  : "booking.completed",
						"data", "reason", s->reason));
		break;
	}
	if (rc < 0)
		goto done;
	if ((rc = ml_api_booking_save(tx, w->ctx, t.booking, t.service, t.host, events, false)) < 0)
		goto done;
	w->result = json_incref(t.booking);
done:
	json_decref(events);
	trio_free(&t);
	return rc;
}

static void step(struct ml_http_req *req, struct ml_http_resp *resp, enum ml_booking_action a)
{
	static const char *const reschedule_fields[] = {"start", "end", "timezone", NULL};
	static const char *const reason_fields[] = {"reason", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct step s = {.action = a};
	int rc = 0;

	if (a == ML_BK_RESCHEDULE) {
		if ((rc = ml_v_known(ctx->body, NULL, reschedule_fields)) == 0 &&
		    (rc = ml_v_time(ctx->body, "start", "start", true, &s.start, NULL)) == 0 &&
		    (rc = ml_v_time(ctx->body, "end", "end", false, &s.end, &s.has_end)) == 0 &&
		    (rc = ml_v_string(ctx->body, "timezone", "timezone", false, 64, &s.timezone)) == 0 &&
		    s.timezone)
			rc = ml_v_timezone(s.timezone, "timezone");
	} else if (a == ML_BK_CANCEL || a == ML_BK_REJECT || a == ML_BK_COMPLETE) {
		if ((rc = ml_v_known(ctx->body, NULL, reason_fields)) == 0)
			rc = ml_v_text(ctx->body, "reason", "reason", false, 1000, &s.reason);
	} else {
		rc = ml_v_none(ctx->body);
	}
	if (rc < 0) {
		ml_resp_errno(resp, rc);
		return;
	}
	struct ml_api_write w = {ctx, req, &s, step_fn, 0, NULL};
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
