/* The join gateway's room (gateway.h): links kept with the booking, resolution of a token,
 * and the pass into the meeting. */
#include "meeting/gateway.h"
#include "conn/connections.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "core/utf8.h"
#include "domain/meeting.h"
#include "meeting/booking.h"
#include "meeting/meeting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static char *dup_or_null(const char *s)
{
	return s ? ml_strdup(s) : NULL;
}

void ml_gateway_who_clear(struct ml_gateway_who *w)
{
	if (!w)
		return;
	free(w->name);
	free(w->email);
	free(w->title);
	free(w->timezone);
	free(w->platform);
	memset(w, 0, sizeof *w);
}

void ml_gateway_dest_clear(struct ml_gateway_dest *d)
{
	if (!d)
		return;
	free(d->url);
	memset(d, 0, sizeof *d);
}

char *ml_gateway_link(const struct ml_platform_settings *ps, const char *org_id, json_t *booking,
                      const char *participant_id)
{
	return ml_gateway_url(ps, org_id, booking, participant_id);
}

int ml_gateway_links_sync(struct ml_tx *tx, const struct ml_platform_settings *ps,
                          const char *org_id, json_t *booking, json_t *host)
{
	size_t n;
	int rc = 0;
	if (!ps || !ps->gateway_secret)
		return 0;
	struct ml_participant_ref *all = ml_gateway_people(booking, host, &n);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char tok[ML_GATEWAY_TOKEN_LEN + 1];
		struct ml_gateway_link l;
		memset(&l, 0, sizeof l);
		l.generation = ml_gateway_generation(booking, all[i].id);
		if (ml_gateway_token(tok, ps->gateway_secret, ps->gateway_secret_len, org_id,
		                     str(booking, "id"), all[i].id, l.generation) < 0)
			break;
		ml_gateway_token_hash(tok, l.token_hash);
		memset(tok, 0, sizeof tok);
		snprintf(l.org_id, sizeof l.org_id, "%s", org_id);
		snprintf(l.booking_id, sizeof l.booking_id, "%s", str(booking, "id"));
		snprintf(l.participant_id, sizeof l.participant_id, "%s", all[i].id);
		snprintf(l.role, sizeof l.role, "%s", all[i].role);
		rc = ml_tx_gateway_link_put(tx, &l);
	}
	free(all);
	return rc;
}

/* A service setting in minutes (settings.<name>), else the default in seconds. */
static int64_t minutes_setting(json_t *service, const char *name, int64_t def_s)
{
	json_t *v = json_object_get(json_object_get(service, "settings"), name);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) * 60 : def_s;
}

struct resolve_call {
	const struct ml_env *env;
	char hash[65];
	struct ml_gateway_who *out;
};

static int resolve_fn(struct ml_tx *tx, void *arg)
{
	struct resolve_call *r = arg;
	struct ml_gateway_who *w = r->out;
	struct ml_gateway_link l;
	json_t *booking = NULL, *service = NULL, *host = NULL;
	struct ml_participant_ref p;
	int rc;

	if ((rc = ml_tx_gateway_link_find(tx, r->hash, &l)) < 0)
		return rc;
	if ((rc = ml_tx_doc_peek(tx, ML_KIND_BOOKING, l.org_id, l.booking_id, &booking)) < 0)
		return rc;
	if ((rc = ml_booking_related(tx, l.org_id, booking, &service, &host)) < 0)
		goto done;
	/* A link outlives nothing: its participant must still be one, with the generation
	 * the link was made for (the row is removed on revocation; this is the second lock). */
	if (!ml_gateway_person(booking, host, l.participant_id, &p) ||
	    ml_gateway_generation(booking, l.participant_id) != l.generation) {
		rc = ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such link.");
		goto done;
	}
	const struct ml_platform_settings *ps = &r->env->platforms;
	json_t *m = json_object_get(booking, "meeting");
	memcpy(w->org_id, l.org_id, sizeof w->org_id);
	memcpy(w->booking_id, l.booking_id, sizeof w->booking_id);
	memcpy(w->participant_id, l.participant_id, sizeof w->participant_id);
	snprintf(w->role, sizeof w->role, "%s", p.role);
	w->name = dup_or_null(p.name);
	w->email = dup_or_null(p.email);
	w->title = dup_or_null(str(booking, "title"));
	w->timezone = dup_or_null(str(booking, "timezone"));
	w->platform = dup_or_null(str(m, "platform"));
	w->now = ml_now();
	ml_time_parse(str(booking, "start") ? str(booking, "start") : "", &w->start);
	ml_time_parse(str(booking, "end") ? str(booking, "end") : "", &w->end);
	int64_t window = minutes_setting(service, "join_window_minutes", ps->join_early_seconds);
	int64_t grace = minutes_setting(service, "join_grace_minutes", ps->join_late_seconds);
	w->opens_at = w->start - window;
	w->closes_at = w->end + grace;
	w->in_window = w->now >= w->opens_at && w->now <= w->closes_at;
	w->waiting_room =
	    json_is_true(json_object_get(json_object_get(service, "settings"), "waiting_room"));
	struct ml_gate_in g = {str(booking, "status"), str(m, "status"), w->role, w->start, w->end,
	                       w->now, window, grace, json_object_get(booking, "ended") != NULL};
	w->gate = ml_gate_decide(&g);
done:
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

int ml_gateway_resolve(const struct ml_env *env, const char *token, struct ml_gateway_who *out)
{
	struct ml_gateway_who w;
	memset(&w, 0, sizeof w);
	if (!ml_gateway_token_shape(token))
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such link.");
	struct resolve_call r = {env, {0}, &w};
	ml_gateway_token_hash(token, r.hash);
	int rc = ml_store_read(env->store, resolve_fn, &r);
	if (rc < 0) {
		ml_gateway_who_clear(&w);
		return rc;
	}
	*out = w;
	return 0;
}

/* --- the pass --- */

struct pass_call {
	const struct ml_env *env;
	const struct ml_gateway_who *who;
	const struct ml_gateway_visit *visit;
	struct ml_gateway_dest dest;
	bool wake; /* work was queued: wake the worker once committed */
};

/* The user agent as it is kept: at most 200 bytes, cut on a character boundary, control
 * characters replaced. */
static char *ua_cut(const char *ua)
{
	if (!ua)
		return NULL;
	size_t n = ml_utf8_cut(ua, strlen(ua), 200);
	char *s = ml_calloc(1, n + 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)ua[i];
		s[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	return s;
}

/* The organization's platform credential, for the drivers that mint with it (Twilio, JaaS). */
static bool org_creds(struct ml_tx *tx, const struct ml_env *env, const char *org_id,
                      json_t *booking, const struct ml_provider_ops *ops,
                      struct ml_conn_token *tok, struct ml_pcreds *cr)
{
	enum ml_conn_state st;
	int64_t retry;
	if (!ML_PROVIDER_HAS(ops, creds) || !(ops->caps & ML_CAP_PERSONAL))
		return false;
	bool ok = ml_conn_acquire(tx, env->vault, org_id, str(booking, "host_id"), ops->name,
	                          ml_now_ms(), 0, tok, &st, &retry) == 0 &&
	          st == ML_CONN_VALID;
	ml_error_clear();
	if (ok) {
		cr->extra = tok->extra;
		cr->org_level = tok->org_level;
	}
	return ok;
}

/* What kind of place the destination is, for the record. */
static const char *dest_kind(bool moderator, json_t *m, const char *url)
{
	if (strstr(url, "#access_token="))
		return "video_page";
	if (strstr(url, "?jwt=") || strstr(url, "&jwt="))
		return "personal_token";
	if (moderator && str(m, "host_url") && strcmp(url, str(m, "host_url")) == 0 &&
	    !(str(m, "join_url") && strcmp(url, str(m, "join_url")) == 0))
		return "host_url";
	return "platform_url";
}

static int pass_fn(struct ml_tx *tx, void *arg)
{
	struct pass_call *c = arg;
	const struct ml_gateway_who *w = c->who;
	json_t *booking = NULL, *service = NULL, *host = NULL;
	struct ml_conn_token tok;
	struct ml_pcreds cr;
	int rc;

	memset(&tok, 0, sizeof tok);
	memset(&cr, 0, sizeof cr);
	ml_gateway_dest_clear(&c->dest);
	if ((rc = ml_tx_doc_peek(tx, ML_KIND_BOOKING, w->org_id, w->booking_id, &booking)) < 0)
		return rc;
	if ((rc = ml_booking_related(tx, w->org_id, booking, &service, &host)) < 0)
		goto done;
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	if (ops && (ops->caps & ML_CAP_LAZY) && !str(m, "opened_at")) {
		/* The room is not open at the provider yet: its open job runs now, and the
		 * caller waits for it (the request is answered later, never blocked on a call). */
		c->dest.kind = "opening";
		if (!c->visit || !c->visit->again) {
			c->wake = true;
			rc = ml_pipeline_plan_open_now(tx, w->org_id, booking);
		}
		goto done;
	}
	bool has_cr = org_creds(tx, c->env, w->org_id, booking, ops, &tok, &cr);
	struct ml_provider_ctx cx = {&c->env->platforms, ml_now(), has_cr ? &cr : NULL};
	struct ml_participant_ref p = {w->participant_id, w->role, w->name, w->email};
	char *url = ml_meeting_participant_url_ttl(&cx, w->org_id, booking, service, host, &p,
	                                           ML_GATEWAY_TOKEN_TTL_S);
	if (!url) {
		rc = ml_error_set(ML_EUNAVAIL, "meeting_not_ready", NULL,
		                  "The meeting has no link yet.");
		goto done;
	}
	bool moderator = strcmp(w->role, "host") == 0 || strcmp(w->role, "admin") == 0;
	/* Twilio: the platform's own video page when the service names one; the token stays
	 * in the fragment. */
	const char *page = str(json_object_get(service, "settings"), "video_page_url");
	const char *frag = strstr(url, "#access_token=");
	if (page && frag && str(m, "external_id")) {
		struct ml_buf b = {0};
		ml_buf_puts(&b, page);
		ml_buf_puts(&b, frag);
		ml_buf_puts(&b, "&room=");
		ml_url_escape(&b, str(m, "external_id"));
		free(url);
		url = ml_buf_steal(&b);
	}
	c->dest.url = url;
	c->dest.kind = dest_kind(moderator, m, url);
	char *ua = ua_cut(c->visit ? c->visit->user_agent : NULL);
	json_t *data = json_pack("{s:s, s:s, s:s, s:s?}", "participant_id", w->participant_id,
	                         "role", w->role, "destination", c->dest.kind, "user_agent", ua);
	free(ua);
	char actor[64];
	snprintf(actor, sizeof actor, "participant:%s", w->participant_id);
	struct ml_audit a = {w->org_id, w->booking_id, "participant.passed", actor,
	                     c->visit ? c->visit->ip : NULL, data};
	rc = ml_tx_audit_append(tx, &a);
	json_decref(data);
done:
	ml_conn_token_clear(&tok);
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

int ml_gateway_pass(const struct ml_env *env, const struct ml_gateway_who *who,
                    const struct ml_gateway_visit *visit, struct ml_gateway_dest *out)
{
	struct pass_call c = {env, who, visit, {0}, false};
	int rc = ml_store_write(env->store, pass_fn, &c);
	if (rc < 0) {
		ml_gateway_dest_clear(&c.dest);
		return rc;
	}
	if (c.wake)
		ml_worker_notify(env->worker);
	*out = c.dest;
	return 0;
}
