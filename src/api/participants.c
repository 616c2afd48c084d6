/* /v1/bookings/{id}/participants: the booking's participants with their personal gateway
 * links (docs/gateway.md), and adding and removing them.
 *
 *   GET    …/participants        every participant: join_url (PUBLIC_URL/j/{token}),
 *                                platform_url (the platform's own personal link), passes,
 *                                state, joined_at, left_at (meeting/presence.h); the
 *                                attendees nobody matched; presence_source
 *   POST   …/participants        {role, name, email, external_id?}: 201 with the participant
 *   DELETE …/participants/{pid}  the participant and its link go (revoked)
 */
#include "api/api.h"
#include "api/validate.h"
#include "conn/connections.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/gateway.h"
#include "domain/meeting.h"
#include "meeting/booking.h"
#include "meeting/gateway.h"
#include "meeting/presence.h"
#include "meeting/recording.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_ATTENDEES 50
#define MAX_EXTRA 50

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool open_booking(json_t *booking)
{
	const char *s = str(booking, "status");
	return s && (strcmp(s, "pending") == 0 || strcmp(s, "confirmed") == 0 ||
	             strcmp(s, "in_progress") == 0);
}

/* What a participant view needs besides the participant. */
struct pview {
	struct ml_api_ctx *ctx;
	json_t *booking, *service, *host;
	json_t *events; /* the booking's audit trail (passes), may be NULL */
	json_t *admissions; /* the waiting room's rows (with the passes), may be NULL */
	struct ml_conn_token tok;
	struct ml_pcreds cr;
	bool has_cr;
};

static void pview_free(struct pview *v)
{
	json_decref(v->booking);
	json_decref(v->service);
	json_decref(v->host);
	json_decref(v->events);
	json_decref(v->admissions);
	ml_conn_token_clear(&v->tok);
}

/* Loads the booking of the request's organization, its service and host, and the
 * organization's key where a driver mints personal links with it (Twilio). */
static int pview_load(struct ml_tx *tx, struct pview *v, const char *id, bool events)
{
	int rc = ml_api_doc_load(tx, v->ctx, ML_KIND_BOOKING, id, &v->booking);
	if (rc == 0)
		rc = ml_booking_related(tx, v->ctx->org_id, v->booking, &v->service, &v->host);
	if (rc == 0 && events)
		rc = ml_tx_audit_list(tx, v->ctx->org_id, id, &v->events);
	if (rc == 0 && events)
		rc = ml_tx_admission_list(tx, v->ctx->org_id, id, 0, &v->admissions);
	const char *platform = str(json_object_get(v->booking, "meeting"), "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	if (rc == 0 && ML_PROVIDER_HAS(ops, creds) && (ops->caps & ML_CAP_PERSONAL)) {
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

/* The participant's passes through the gateway, oldest first. */
static json_t *passes(json_t *events, const char *pid)
{
	json_t *out = json_array(), *e;
	size_t i;
	json_array_foreach(events, i, e) {
		json_t *d = json_object_get(e, "data");
		if (!str(e, "type") || strcmp(str(e, "type"), "participant.passed") != 0 ||
		    !str(d, "participant_id") || strcmp(str(d, "participant_id"), pid) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:O?, s:O?, s:O?, s:O?}", "at",
		                                     json_object_get(e, "at"), "ip",
		                                     json_object_get(e, "ip"), "destination",
		                                     json_object_get(d, "destination"), "user_agent",
		                                     json_object_get(d, "user_agent")));
	}
	return out;
}

static json_t *participant(struct pview *v, const struct ml_participant_ref *p)
{
	struct ml_provider_ctx cx = {&v->ctx->app->platforms, ml_now(), v->has_cr ? &v->cr : NULL};
	char *url = ml_meeting_participant_url(&cx, v->ctx->org_id, v->booking, v->service,
	                                       v->host, p);
	/* A booking with a meeting to enter has gateway links from the start: the gateway says
	 * what there is to say until the meeting is ready. */
	char *gw = str(json_object_get(v->booking, "meeting"), "platform")
	               ? ml_gateway_link(&v->ctx->app->platforms, v->ctx->org_id, v->booking, p->id)
	               : NULL;
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", p->id, "object", "participant",
	                      "role", p->role, "name", p->name ? p->name : "", "email",
	                      p->email ? p->email : "");
	json_object_set_new(o, "join_url", gw ? json_string(gw) : json_null());
	json_object_set_new(o, "platform_url", url ? json_string(url) : json_null());
	json_t *ps = v->events ? passes(v->events, p->id) : json_array();
	json_object_set_new(o, "passes", ps);
	/* Where they stand: the platform's presence, else the waiting room and the gateway. */
	const char *admission = NULL;
	json_t *row;
	size_t i;
	json_array_foreach(v->admissions, i, row)
		if (str(row, "participant_id") && strcmp(str(row, "participant_id"), p->id) == 0)
			admission = str(row, "state");
	ml_presence_describe(o, v->booking, p->id, admission,
	                     str(json_array_get(ps, 0), "at"));
	free(url);
	free(gw);
	return o;
}

struct list_call {
	struct pview v;
	const char *id;
	bool missing;      /* a link of this booking is not recorded yet (a booking from before) */
	json_t *recordings; /* the booking's recordings (their bots are participants too) */
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct list_call *c = arg;
	int rc = pview_load(tx, &c->v, c->id, true);
	if (rc < 0)
		return rc;
	struct ml_recording_query q = {.limit = 50, .booking_id = c->id};
	char *next = NULL;
	json_decref(c->recordings);
	c->recordings = NULL;
	if ((rc = ml_tx_recording_list(tx, c->v.ctx->org_id, &q, &c->recordings, &next)) < 0)
		return rc;
	free(next);
	/* A booking saved before the gateway existed has no recorded links yet. */
	size_t n;
	struct ml_participant_ref *all = ml_gateway_people(c->v.booking, c->v.host, &n);
	const struct ml_platform_settings *ps = &c->v.ctx->app->platforms;
	for (size_t i = 0; i < n && !c->missing && ps->gateway_secret; i++) {
		char tok[ML_GATEWAY_TOKEN_LEN + 1], hash[65];
		struct ml_gateway_link l;
		ml_gateway_token(tok, ps->gateway_secret, ps->gateway_secret_len, c->v.ctx->org_id,
		                 c->id, all[i].id, ml_gateway_generation(c->v.booking, all[i].id));
		ml_gateway_token_hash(tok, hash);
		c->missing = ml_tx_gateway_link_find(tx, hash, &l) == ML_ENOTFOUND;
		ml_error_clear();
	}
	free(all);
	return 0;
}

static int sync_fn(struct ml_tx *tx, void *arg)
{
	struct list_call *c = arg;
	json_t *booking = NULL, *service = NULL, *host = NULL;
	int rc = ml_api_doc_peek(tx, c->v.ctx, ML_KIND_BOOKING, c->id, &booking);
	if (rc == 0)
		rc = ml_booking_related(tx, c->v.ctx->org_id, booking, &service, &host);
	if (rc == 0)
		rc = ml_gateway_links_sync(tx, &c->v.ctx->app->platforms, c->v.ctx->org_id,
		                           booking, host);
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

/* The list GET answers, from a loaded view (list_fn). A new reference. */
static json_t *list_of(struct list_call *c)
{
	json_t *list = json_array();
	size_t n;
	struct ml_participant_ref *all = ml_gateway_people(c->v.booking, c->v.host, &n);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, participant(&c->v, &all[i]));
	free(all);
	/* The recording bot of the current meeting: a known participant of its own kind. */
	const char *mid = str(json_object_get(c->v.booking, "meeting"), "id");
	json_t *rec;
	json_array_foreach(c->recordings, n, rec)
	{
		json_t *p = mid && str(rec, "meeting_id") && strcmp(str(rec, "meeting_id"), mid) == 0
		                ? ml_recording_participant(rec)
		                : NULL;
		if (p)
			json_array_append_new(list, p);
	}
	json_decref(c->recordings);
	c->recordings = NULL;
	/* Who the platform saw that meetlink could not match, and where presence comes from. */
	json_t *out = json_pack("{s:s, s:o, s:o, s:b, s:s}", "object", "list", "data", list,
	                        "unmatched", ml_presence_unmatched(c->v.booking), "has_more", 0,
	                        "presence_source", ml_presence_source(c->v.booking));
	json_object_set_new(out, "next_cursor", json_null());
	return out;
}

void ml_api_bookings_participants(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct list_call c = {{ML_API_CTX(req)}, req->params[0], false, NULL};
	int rc = ml_store_read(c.v.ctx->app->store, list_fn, &c);
	if (rc == 0 && c.missing)
		rc = ml_store_write(c.v.ctx->app->store, sync_fn, &c);
	if (rc < 0) {
		pview_free(&c.v);
		json_decref(c.recordings);
		ml_resp_errno(resp, rc);
		return;
	}
	json_t *out = list_of(&c);
	pview_free(&c.v);
	ml_resp_json(resp, 200, out);
}

int ml_api_participants_view(const struct ml_env *env, const char *org_id,
                             const char *booking_id, json_t **out)
{
	struct ml_api_ctx ctx = {0};
	ctx.app = env;
	snprintf(ctx.org_id, sizeof ctx.org_id, "%s", org_id);
	struct list_call c = {{&ctx}, booking_id, false, NULL};
	*out = NULL;
	int rc = ml_store_read(env->store, list_fn, &c);
	if (rc == 0)
		*out = list_of(&c);
	json_decref(c.recordings); /* NULL once list_of took it */
	pview_free(&c.v);
	return rc;
}

/* --- POST --- */

struct add_in {
	const char *role, *name, *email, *external_id;
};

static int add_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const struct add_in *in = w->arg;
	struct pview v = {w->ctx};
	struct ml_step st;
	char id[ML_ID_MAX];
	int rc;

	if ((rc = pview_load(tx, &v, w->req->params[0], false)) < 0)
		goto done;
	if (!open_booking(v.booking)) {
		rc = ml_error_set(ML_ECONFLICT, "invalid_transition", "status",
		                  "Participants cannot be added to a %s booking.",
		                  str(v.booking, "status"));
		goto done;
	}
	bool attendee = strcmp(in->role, "attendee") == 0;
	const char *list_name = attendee ? "attendees" : "extra_participants";
	json_t *list = json_object_get(v.booking, list_name);
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(v.booking, list_name, list);
	}
	if (json_array_size(list) >= (attendee ? MAX_ATTENDEES : MAX_EXTRA)) {
		rc = ml_error_set(ML_EINVAL, "invalid_field", "role",
		                  "This booking has as many participants of that kind as it may "
		                  "(%d).",
		                  attendee ? MAX_ATTENDEES : MAX_EXTRA);
		goto done;
	}
	ml_id_new(id, "prt");
	json_t *p = json_pack("{s:s, s:s, s:s}", "id", id, "name", in->name, "email", in->email);
	if (!attendee)
		json_object_set_new(p, "role", json_string(in->role));
	if (in->external_id)
		json_object_set_new(p, "external_id", json_string(in->external_id));
	json_array_append_new(list, p);
	json_t *events = json_pack("[{s:s, s:{s:s, s:s}}]", "type", "participant.added", "data",
	                           "participant_id", id, "role", in->role);
	ml_api_step_init(w->ctx, &st);
	rc = ml_booking_save(tx, &st, v.booking, v.service, v.host, events, false);
	json_decref(events);
	if (rc == 0) {
		struct ml_participant_ref ref = {id, in->role, in->name, in->email};
		w->status = 201;
		w->result = participant(&v, &ref);
		w->changed_booking = w->req->params[0]; /* the live lists show them */
	}
done:
	pview_free(&v);
	return rc;
}

void ml_api_participants_create(struct ml_http_req *req, struct ml_http_resp *resp)
{
	static const char *const fields[] = {"role", "name", "email", "external_id", NULL};
	static const char *const roles[] = {"host", "customer", "attendee", "admin", NULL};
	struct ml_api_ctx *ctx = ML_API_CTX(req);
	struct add_in in = {0};
	int rc;

	if ((rc = ml_v_known(ctx->body, NULL, fields)) < 0 ||
	    (rc = ml_v_string(ctx->body, "role", "role", true, 16, &in.role)) < 0)
		goto bad;
	bool known = false;
	for (int i = 0; roles[i]; i++)
		known = known || strcmp(roles[i], in.role) == 0;
	if (!known) {
		rc = ml_error_set(ML_EINVAL, "invalid_field", "role",
		                  "role must be one of host, customer, attendee, admin.");
		goto bad;
	}
	if ((rc = ml_v_string(ctx->body, "name", "name", true, 200, &in.name)) < 0 ||
	    (rc = ml_v_string(ctx->body, "email", "email", true, 254, &in.email)) < 0 ||
	    (rc = ml_v_email(in.email, "email")) < 0 ||
	    (rc = ml_v_string(ctx->body, "external_id", "external_id", false, 255,
	                      &in.external_id)) < 0)
		goto bad;
	struct ml_api_write w = {ctx, req, &in, add_fn, 0, NULL};
	ml_api_write_run(&w, resp);
	return;
bad:
	ml_resp_errno(resp, rc);
}

/* --- DELETE --- */

/* Removes participant pid from booking.<list>; true when it was there. */
static bool remove_from(json_t *booking, const char *list, const char *pid)
{
	json_t *a = json_object_get(booking, list), *p;
	size_t i;
	json_array_foreach(a, i, p) {
		if (str(p, "id") && strcmp(str(p, "id"), pid) == 0) {
			json_array_remove(a, i);
			return true;
		}
	}
	return false;
}

static int remove_fn(struct ml_tx *tx, struct ml_api_write *w)
{
	const char *bid = w->req->params[0], *pid = w->req->params[1];
	struct pview v = {w->ctx};
	struct ml_participant_ref p;
	struct ml_step st;
	int rc;

	if ((rc = pview_load(tx, &v, bid, false)) < 0)
		goto done;
	if (!ml_gateway_person(v.booking, v.host, pid, &p)) {
		rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such participant.");
		goto done;
	}
	if (strcmp(pid, str(v.booking, "host_participant_id") ? str(v.booking, "host_participant_id")
	                                                       : "") == 0 ||
	    strcmp(pid, str(json_object_get(v.booking, "customer"), "id")
	                    ? str(json_object_get(v.booking, "customer"), "id")
	                    : "") == 0) {
		rc = ml_error_set(ML_ECONFLICT, "participant_required", "participant_id",
		                  "The booking's own host and customer cannot be removed.");
		goto done;
	}
	char role[16];
	snprintf(role, sizeof role, "%s", p.role);
	if (!remove_from(v.booking, "attendees", pid))
		remove_from(v.booking, "extra_participants", pid);
	json_object_del(json_object_get(v.booking, "link_generations"), pid);
	if ((rc = ml_tx_gateway_link_revoke(tx, w->ctx->org_id, bid, pid)) < 0)
		goto done;
	json_t *events = json_pack("[{s:s, s:{s:s, s:s}}]", "type", "participant.removed",
	                           "data", "participant_id", pid, "role", role);
	ml_api_step_init(w->ctx, &st);
	rc = ml_booking_save(tx, &st, v.booking, v.service, v.host, events, false);
	json_decref(events);
	if (rc == 0) {
		w->result = json_pack("{s:s, s:s, s:b}", "id", pid, "object", "participant",
		                      "deleted", 1);
		w->changed_booking = w->req->params[0]; /* the live lists show it */
	}
done:
	pview_free(&v);
	return rc;
}

void ml_api_participants_delete(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_api_write w = {ML_API_CTX(req), req, NULL, remove_fn, 0, NULL};
	ml_api_write_run(&w, resp);
}
