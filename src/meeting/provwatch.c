/* The watch jobs (meeting/provwatch.h): provider.watch opens, renews and stops a host's
 * Google Calendar channel or Graph subscription; provider.sync reads what changed since the
 * last sync (a listing from the sync token, or the events notifications named read back one
 * by one) and hands each event to ml_watch_apply (provsync.c).
 *
 * Both take the host's connection in their prepare (refreshing its token the way the
 * meeting jobs do), make their calls one at a time on the worker's curl multi, and write
 * everything they learnt in one commit with the job's outcome. A renewal opens a new channel
 * before the old one is stopped; the new channel's id is written before the call (prepare),
 * so its notifications are accepted from its first one, and the old one's until it is
 * stopped. A channel the provider opened for an attempt that then failed expires on its own
 * (its notifications are answered and ignored). A subscription renewed in place (ops->watch->
 * renew_req) keeps its id; one the provider lost is made again under the same channel id.
 */
#include "conn/connections.h"
#include "conn/oauth.h"
#include "core/config.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "domain/booking.h"
#include "http/outhdr.h"
#include "meeting/meeting.h"
#include "meeting/pcall.h"
#include "meeting/provwatch.h"
#include "providers/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t num(json_t *o, const char *k)
{
	return json_integer_value(json_object_get(o, k));
}

/* A channel lives this long (Google's default is a week); renewed when a quarter of its
 * life is left (a day at most). */
static int64_t ttl_s(const struct ml_watch_info *wi)
{
	const char *v = getenv("MEETLINK_WATCH_TTL_SECONDS");
	long long t = v && *v ? strtoll(v, NULL, 10) : 0;
	t = t >= 5 && t <= 30LL * 86400 ? t : 7 * 86400;
	return wi->max_ttl_s > 0 && t > wi->max_ttl_s ? wi->max_ttl_s : t;
}

static int64_t renew_at_ms(json_t *doc)
{
	int64_t exp = num(doc, "expiration_ms"), now = ml_now_ms();
	if (exp <= now)
		return now;
	int64_t lead = (exp - now) / 4;
	if (lead > 86400000)
		lead = 86400000;
	return exp - lead;
}

/* Keeps the indexed columns in step with the document. */
static int doc_put(struct ml_tx *tx, json_t *doc)
{
	const char *pending = str(doc, "pending_id"), *active = str(doc, "channel");
	json_object_set_new(doc, "channel_id", json_string(pending ? pending : active));
	json_object_set_new(doc, "prev_channel_id",
			    pending && active ? json_string(active) : json_null());
	return ml_tx_watch_put(tx, doc);
}

static int enqueue(struct ml_tx *tx, json_t *doc, const char *kind, int64_t run_at_ms)
{
	const char *id = str(doc, "id");
	bool sync = strcmp(kind, "provider.sync") == 0;
	char *group = ml_asprintf("%s:%s", sync ? "psync" : "pwatch", id);
	json_t *p = json_pack("{s:s, s:s, s:s}", "watch_id", id, "host_id", str(doc, "host_id"),
			      "platform", str(doc, "platform"));
	/* A watch outlives a provider's outage of hours (backoff is capped at an hour): its
	 * job is the channel's only renewal. */
	struct ml_job_new j = {str(doc, "org_id"), kind, group, group, p, run_at_ms, sync ? 0 : 100};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(p);
	free(group);
	return rc;
}

static const struct ml_watch_info *watch_of(const char *platform)
{
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	return ML_PROVIDER_HAS(ops, watch) ? ops->watch : NULL;
}

bool ml_watch_platform(const char *platform)
{
	return watch_of(platform) != NULL;
}

int ml_watch_ensure(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform)
{
	json_t *doc = NULL;
	if (!host_id || !ml_watch_platform(platform))
		return 0;
	int rc = ml_tx_watch_get(tx, org_id, host_id, platform, &doc);
	if (rc == 0) {
		/* A watch whose channel lapsed (its job gave up, or the host reconnected after a
		 * long while) is opened again by the host's next meeting. */
		int64_t exp = num(doc, "expiration_ms");
		if (str(doc, "channel") && exp < ml_now_ms())
			rc = enqueue(tx, doc, "provider.watch", 0);
		json_decref(doc);
		return rc;
	}
	if (rc != ML_ENOTFOUND)
		return rc;
	ml_error_clear();
	char id[ML_ID_MAX], now[ML_RFC3339_MAX];
	ml_id_new(id, "pwt");
	ml_time_format(ml_now(), now);
	doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "id", id, "org_id", org_id, "host_id",
			host_id, "platform", platform, "status", "opening", "created_at", now);
	if ((rc = doc_put(tx, doc)) == 0)
		rc = enqueue(tx, doc, "provider.watch", 0);
	json_decref(doc);
	return rc;
}

int ml_watch_forget(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform)
{
	json_t *doc = NULL;
	int rc = ml_tx_watch_get(tx, org_id, host_id, platform, &doc);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc == 0)
		rc = ml_tx_watch_delete(tx, org_id, json_string_value(json_object_get(doc, "id")));
	json_decref(doc);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		rc = 0;
	}
	return rc;
}

int ml_watch_sync_request(struct ml_tx *tx, json_t *watch)
{
	return enqueue(tx, watch, "provider.sync", 0);
}

int ml_watch_sync_request_at(struct ml_tx *tx, json_t *watch, int64_t run_at_ms)
{
	return enqueue(tx, watch, "provider.sync", run_at_ms);
}

/* --- one run --- */

enum what { W_NONE, W_OPEN, W_STOP, W_SYNC };
enum phase { PH_LIST, PH_WATCH, PH_STOP_PREV, PH_STOP, PH_RENEW, PH_READ };
enum outcome { O_NONE, O_OPENED, O_STOPPED, O_SYNCED, O_REFRESHED, O_REFRESH_FAILED, O_WAIT };

struct pw {
	const struct ml_watch_info *wi;
	const char *platform;
	enum what what;
	enum phase phase;
	enum outcome oc;
	json_t *doc;
	const char *skip;
	struct ml_conn_token tok;
	enum ml_conn_state cstate;
	int64_t busy_ms;
	struct ml_pcreds cr;
	bool refreshing, reauth;
	struct ml_oauth_tokens fresh;
	char why[300];
	struct curl_slist *headers;
	struct ml_pstep step;
	/* what the calls learnt */
	json_t *changes;
	char *sync_token, *page;
	bool full;
	int64_t listed_at; /* when the listing began (ms) */
	int restarts;
	char rid[129];
	int64_t exp_ms;
	int reported;
	/* providers read back item by item (ops->watch->read_req) */
	json_t *items;
	size_t ri;
	bool read_all;
};

static int pw_prepare(struct ml_tx *tx, struct ml_job_run *run)
{
	const struct ml_env *env = run->env;
	struct pw *w = ml_calloc(1, sizeof *w);
	const char *org = run->job.org_id;
	json_t *p = run->job.payload;
	int rc;
	run->state = w;
	w->changes = json_array();
	rc = ml_tx_watch_get(tx, org, str(p, "host_id"), str(p, "platform"), &w->doc);
	if (rc == ML_ENOTFOUND || (rc == 0 && strcmp(str(w->doc, "id"), str(p, "watch_id")))) {
		ml_error_clear();
		w->skip = "the watch is gone";
		return 0;
	}
	if (rc < 0)
		return rc;
	w->platform = str(p, "platform");
	if (!(w->wi = watch_of(w->platform))) {
		w->skip = "the platform has no watch";
		return 0;
	}
	rc = ml_conn_acquire(tx, env->vault, org, str(p, "host_id"), w->platform, ml_now_ms(), 60000,
			     &w->tok, &w->cstate, &w->busy_ms);
	if (rc < 0)
		return rc;
	if (rc == 1)
		return ML_JOB_NEEDS_WRITE;
	if (strcmp(run->job.kind, "provider.sync") == 0) {
		w->what = W_SYNC;
		if (w->wi->read_req) {
			w->read_all = json_is_true(json_object_get(w->doc, "read_all"));
			return ml_watch_read_items(tx, w->doc, w->wi, &w->items);
		}
		return 0;
	}
	int live = ml_tx_doc_count_ref(tx, ML_KIND_BOOKING, org, "host_id", str(p, "host_id"),
				       ml_booking_live);
	if (live < 0)
		return live;
	if (live == 0 || w->cstate == ML_CONN_MISSING) {
		w->what = W_STOP;
		return 0;
	}
	if (str(w->doc, "channel") && renew_at_ms(w->doc) > ml_now_ms() + 1000) {
		w->what = W_NONE;
		return 0;
	}
	w->what = W_OPEN;
	if (w->cstate != ML_CONN_VALID)
		return 0;
	/* Renewed in place: the subscription keeps its id (a new one, if the provider lost
	 * it, takes the watch's channel id again). */
	if (w->wi->renew_req && str(w->doc, "channel") && str(w->doc, "resource_id"))
		return 0;
	/* The new channel's id is known before the call: its notifications are accepted. */
	if (!ml_tx_writable(tx))
		return ML_JOB_NEEDS_WRITE;
	char id[40];
	ml_watch_new_id(id);
	json_object_set_new(w->doc, "pending_id", json_string(id));
	return doc_put(tx, w->doc);
}

/* --- the commit --- */

static int commit_opened(struct ml_tx *tx, struct ml_job_run *run, struct pw *w, json_t *doc)
{
	const struct ml_env *env = run->env;
	bool renewal = str(doc, "channel") != NULL;
	const char *opened = str(w->doc, "pending_id") ? str(w->doc, "pending_id")
						       : str(w->doc, "channel");
	json_object_set_new(doc, "channel", json_string(opened));
	json_object_set_new(doc, "resource_id", json_string(w->rid));
	json_object_set_new(doc, "expiration_ms", json_integer(w->exp_ms));
	json_object_del(doc, "pending_id");
	json_object_set_new(doc, "status", json_string("active"));
	json_object_set_new(doc, "renewals", json_integer(num(doc, "renewals") + renewal));
	if (w->sync_token && !str(doc, "sync_token"))
		json_object_set_new(doc, "sync_token", json_string(w->sync_token));
	/* Read back: the sync after a renewal reads every live meeting of the host (what a
	 * lost notification, or the time without a subscription, left unread). */
	if (renewal && w->wi->read_req)
		json_object_set_new(doc, "read_all", json_true());
	int rc = doc_put(tx, doc);
	size_t i;
	json_t *c;
	bool rep;
	json_array_foreach(w->changes, i, c)
	{
		if (rc == 0 && (rc = ml_watch_apply(tx, &env->platforms, env->vault, doc, c, true,
						    &rep)) == 1)
			rc = 0; /* (a sync follows and looks again) */
	}
	if (rc == 0)
		rc = enqueue(tx, doc, "provider.watch", renew_at_ms(doc));
	/* What changed while no channel listened (between the old one and the new). */
	if (rc == 0 && renewal)
		rc = enqueue(tx, doc, "provider.sync", 0);
	return rc;
}

static int commit_synced(struct ml_tx *tx, struct ml_job_run *run, struct pw *w, json_t *doc)
{
	const struct ml_env *env = run->env;
	size_t i;
	json_t *c;
	int rc = 0;
	w->reported = 0;
	bool again = false;
	json_t *keep = json_array();
	json_array_foreach(w->changes, i, c)
	{
		bool rep = false;
		if ((rc = ml_watch_apply(tx, &env->platforms, env->vault, doc, c, w->full, &rep)) < 0) {
			json_decref(keep);
			return rc;
		}
		again |= rc == 1;
		if (rc == 1)
			json_array_append(keep, json_object_get(c, "id"));
		w->reported += rep;
	}
	if (w->wi->read_req)
		ml_watch_read_done(doc, w->items, keep, w->read_all);
	json_decref(keep);
	/* An event to look at again: the next sync starts from the same token (what it lists
	 * again is applied once: the rules depend on the booking's state). */
	if (w->sync_token && !again)
		json_object_set_new(doc, "sync_token", json_string(w->sync_token));
	json_object_set_new(doc, "synced_at_ms", json_integer(ml_now_ms()));
	return doc_put(tx, doc);
}

static int pw_commit(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct pw *w = run->state;
	json_t *doc = NULL;
	json_t *p = run->job.payload;
	int rc;
	switch (w->oc) {
	case O_REFRESHED:
		return ml_conn_refreshed(tx, run->env->vault, w->tok.conn_id, &w->fresh);
	case O_REFRESH_FAILED:
		return ml_conn_refresh_failed(tx, w->tok.conn_id, w->reauth, w->why);
	case O_WAIT:
		return 0;
	default:
		break;
	}
	/* The watch as it is now (a sync may have written since the prepare). */
	rc = ml_tx_watch_get(tx, run->job.org_id, str(p, "host_id"), str(p, "platform"), &doc);
	if (rc == ML_ENOTFOUND || (rc == 0 && strcmp(str(doc, "id"), str(p, "watch_id")))) {
		ml_error_clear();
		json_decref(doc);
		return 0;
	}
	if (rc < 0)
		return rc;
	switch (w->oc) {
	case O_OPENED:
		rc = commit_opened(tx, run, w, doc);
		break;
	case O_STOPPED:
		rc = ml_tx_watch_delete(tx, run->job.org_id, str(doc, "id"));
		if (rc == ML_ENOTFOUND) {
			ml_error_clear();
			rc = 0;
		}
		break;
	case O_SYNCED:
		rc = commit_synced(tx, run, w, doc);
		break;
	default: /* nothing to do now: look again at renewal time */
		if (w->what == W_NONE)
			rc = enqueue(tx, doc, "provider.watch", renew_at_ms(doc));
		break;
	}
	json_decref(doc);
	return rc;
}

static void finish(struct ml_job_run *run, enum ml_job_outcome o, int64_t run_at_ms,
		   const char *error, enum outcome oc)
{
	struct pw *w = run->state;
	w->oc = oc;
	json_t *result = NULL;
	if (o == ML_JOB_DONE && w->skip)
		result = json_pack("{s:s}", "skipped", w->skip);
	else if (o == ML_JOB_DONE && oc == O_SYNCED)
		result = json_pack("{s:I, s:b}", "events", (json_int_t)json_array_size(w->changes),
				   "full", w->full);
	struct ml_job_finish f = {o, run_at_ms, o == ML_JOB_WAIT ? w->tok.conn_id : NULL, error,
				  result};
	ml_job_run_finish(run, &f, pw_commit, run);
	json_decref(result);
}

static void fail(struct ml_job_run *run, struct pw *w, const struct ml_perr *e)
{
	char why[400];
	snprintf(why, sizeof why, "%s: %s", e->code[0] ? e->code : "provider_error", e->message);
	if (e->kind == ML_PERR_REAUTH) {
		finish(run, ML_JOB_WAIT, 0, why, O_WAIT);
		return;
	}
	if (e->kind == ML_PERR_PERMANENT) {
		finish(run, ML_JOB_FAIL, 0, why, O_NONE);
		return;
	}
	ml_job_run_retry(run, e->retry_after_ms, why);
	(void)w;
}

/* --- calls --- */

void ml_watch_stop_now(const struct ml_env *env, const char *platform, json_t *watch,
		       const char *access_token)
{
	const struct ml_watch_info *wi = watch_of(platform);
	if (!wi || !watch || !str(watch, "channel") || !access_token || !env->oauth)
		return;
	struct ml_pcreds cr = {ml_oauth_api_base(env->oauth, platform), access_token, NULL, NULL,
			       false};
	struct ml_pstep st = {0};
	struct curl_slist *headers = NULL;
	wi->stop_req(&st, &cr, str(watch, "channel"), str(watch, "resource_id"));
	CURL *e = ml_pcall_easy(&st.http, 10000, &headers);
	long status = 0;
	char *body = NULL;
	int rc = e ? ml_oauth_perform(env->oauth, e, &status, &body) : ML_EUNAVAIL;
	struct ml_presp r = {rc == 0 ? ML_PT_OK : ML_PT_CONNECT, status, body ? body : "",
			     body ? strlen(body) : 0, NULL, ml_now()};
	struct ml_perr err = {0};
	if (wi->stop_parse(&r, &err) < 0)
		ml_warn("watch %s: not stopped at the provider (%s); it expires on its own",
			str(watch, "id"), err.code);
	free(body);
	curl_slist_free_all(headers);
	ml_pstep_clear(&st);
}

static void send_step(struct ml_job_run *run, struct pw *w)
{
	long t = run->env->pipeline ? run->env->pipeline->timeout_ms : 30000;
	CURL *e = ml_pcall_easy(&w->step.http, t, &w->headers);
	if (!e) {
		struct ml_perr err = {0};
		ml_perr_set(&err, ML_PERR_PERMANENT, 0, "invalid_header",
			    "A request header held a control character; the call was not made.");
		fail(run, w, &err);
		return;
	}
	ml_job_run_http(run, e);
}

static void call(struct ml_job_run *run, struct pw *w, enum phase ph)
{
	char token[ML_WATCH_TOKEN_LEN + 1];
	ml_pstep_clear(&w->step);
	w->phase = ph;
	switch (ph) {
	case PH_LIST:
		w->wi->sync_req(&w->step, &w->cr, w->full ? NULL : str(w->doc, "sync_token"),
				w->page);
		break;
	case PH_WATCH: {
		const char *id = str(w->doc, "pending_id") ? str(w->doc, "pending_id")
							   : str(w->doc, "channel");
		char *address =
		    ml_asprintf("%s/webhooks/%s", run->env->platforms.public_url, w->wi->path);
		ml_watch_token(&run->env->platforms, w->wi->label, id, token);
		w->wi->open_req(&w->step, &w->cr, id, token, address, ttl_s(w->wi));
		explicit_bzero(token, sizeof token);
		free(address);
		break;
	}
	case PH_STOP_PREV:
	case PH_STOP:
		w->wi->stop_req(&w->step, &w->cr, str(w->doc, "channel"),
				str(w->doc, "resource_id"));
		break;
	case PH_RENEW:
		w->wi->renew_req(&w->step, &w->cr, str(w->doc, "resource_id"), ttl_s(w->wi));
		break;
	case PH_READ:
		w->wi->read_req(&w->step, &w->cr,
				json_string_value(json_array_get(w->items, w->ri)));
		break;
	}
	send_step(run, w);
}

/* Read back: the next item this platform reads, or the sync's end. */
static void next_read(struct ml_job_run *run, struct pw *w)
{
	for (; w->ri < json_array_size(w->items); w->ri++) {
		struct ml_pstep probe = {0};
		const char *item = json_string_value(json_array_get(w->items, w->ri));
		int ok = w->wi->read_req(&probe, &w->cr, item);
		ml_pstep_clear(&probe);
		if (ok == 0) {
			call(run, w, PH_READ);
			return;
		}
	}
	finish(run, ML_JOB_DONE, 0, NULL, O_SYNCED);
}

/* After the listing (or without one): the watch's next call, or its end. */
static void after_list(struct ml_job_run *run, struct pw *w)
{
	if (w->what == W_SYNC) {
		finish(run, ML_JOB_DONE, 0, NULL, O_SYNCED);
		return;
	}
	bool in_place = w->wi->renew_req && !str(w->doc, "pending_id") &&
			str(w->doc, "channel") && str(w->doc, "resource_id");
	call(run, w, in_place ? PH_RENEW : PH_WATCH);
}

static void on_answer(struct ml_job_run *run, struct pw *w, const struct ml_presp *r)
{
	struct ml_perr err = {0};
	char *np = NULL, *ns = NULL;
	switch (w->phase) {
	case PH_LIST:
		if (w->wi->sync_parse(r, w->changes, &np, &ns, &err) < 0) {
			if (err.kind == ML_PERR_GONE && w->restarts++ < 2) {
				/* 410: the token is stale; everything is listed again. */
				json_array_clear(w->changes);
				free(w->page);
				w->page = NULL;
				w->full = true;
				call(run, w, PH_LIST);
				return;
			}
			fail(run, w, &err);
			return;
		}
		free(w->page);
		w->page = np;
		size_t k;
		json_t *ch;
		json_array_foreach(w->changes, k, ch)
			if (!json_object_get(ch, "listed_at"))
				json_object_set_new(ch, "listed_at", json_integer(w->listed_at));
		if (np && json_array_size(w->changes) < 100000) {
			call(run, w, PH_LIST);
			return;
		}
		free(w->sync_token);
		w->sync_token = ns;
		after_list(run, w);
		return;
	case PH_WATCH:
		if (w->wi->open_parse(r, w->rid, sizeof w->rid, &w->exp_ms, &err) < 0) {
			fail(run, w, &err);
			return;
		}
		if (str(w->doc, "channel") && str(w->doc, "pending_id")) {
			call(run, w, PH_STOP_PREV);
			return;
		}
		finish(run, ML_JOB_DONE, 0, NULL, O_OPENED);
		return;
	case PH_RENEW:
		if (w->wi->open_parse(r, w->rid, sizeof w->rid, &w->exp_ms, &err) < 0) {
			if (err.kind == ML_PERR_GONE && w->restarts++ < 1) {
				/* Expired or removed at the provider: a new one, same channel. */
				call(run, w, PH_WATCH);
				return;
			}
			fail(run, w, &err);
			return;
		}
		finish(run, ML_JOB_DONE, 0, NULL, O_OPENED);
		return;
	case PH_READ: {
		const char *item = json_string_value(json_array_get(w->items, w->ri));
		size_t before = json_array_size(w->changes);
		if (w->wi->read_parse(r, item, w->changes, &err) < 0) {
			fail(run, w, &err);
			return;
		}
		for (size_t k = before; k < json_array_size(w->changes); k++)
			json_object_set_new(json_array_get(w->changes, k), "listed_at",
					    json_integer(w->listed_at));
		w->ri++;
		next_read(run, w);
		return;
	}
	case PH_STOP_PREV:
	case PH_STOP:
		/* A stop that fails leaves a channel that expires on its own: not worth a retry
		 * that would open yet another channel. */
		if (w->wi->stop_parse(r, &err) < 0)
			ml_warn("watch %s: channels.stop failed (%s); the channel expires on its own",
				str(w->doc, "id"), err.code);
		finish(run, ML_JOB_DONE, 0, NULL, w->phase == PH_STOP ? O_STOPPED : O_OPENED);
		return;
	}
}

static void pw_start(struct ml_job_run *run)
{
	struct pw *w = run->state;
	const struct ml_env *env = run->env;
	if (run->prepare_rc < 0 || !w) {
		ml_job_run_retry(run, 0, "could not load the watch");
		return;
	}
	if (w->skip || w->what == W_NONE) {
		finish(run, ML_JOB_DONE, 0, NULL, O_NONE);
		return;
	}
	switch (w->cstate) {
	case ML_CONN_VALID:
		break;
	case ML_CONN_BUSY:
		finish(run, ML_JOB_DEFER, ml_now_ms() + (w->busy_ms > 0 ? w->busy_ms : 500),
		       "the connection is being refreshed", O_WAIT);
		return;
	case ML_CONN_REFRESH: {
		CURL *e = ml_oauth_refresh_easy(env->oauth, &w->tok);
		if (!e) {
			ml_job_run_retry(run, 0, "could not build the token refresh");
			return;
		}
		w->refreshing = true;
		ml_job_run_http(run, e);
		return;
	}
	case ML_CONN_REAUTH:
		if (w->what == W_STOP) /* nothing can be stopped: it expires on its own */
			finish(run, ML_JOB_DONE, 0, NULL, O_STOPPED);
		else
			finish(run, ML_JOB_WAIT, 0, "reconnect_required: the host must reconnect",
			       O_WAIT);
		return;
	case ML_CONN_MISSING:
		finish(run, ML_JOB_DONE, 0, NULL, w->what == W_SYNC ? O_NONE : O_STOPPED);
		return;
	}
	w->cr.api_base = env->oauth ? ml_oauth_api_base(env->oauth, w->platform) : NULL;
	w->cr.access_token = w->tok.access_token;
	w->cr.account = w->tok.account_email;
	switch (w->what) {
	case W_STOP:
		if (!str(w->doc, "channel")) {
			finish(run, ML_JOB_DONE, 0, NULL, O_STOPPED);
			return;
		}
		call(run, w, PH_STOP);
		return;
	case W_OPEN:
	case W_SYNC:
		w->listed_at = ml_now_ms();
		if (!w->wi->sync_req) {
			/* Nothing to list: a sync reads back item by item. */
			if (w->what == W_SYNC)
				next_read(run, w);
			else
				after_list(run, w);
			return;
		}
		w->full = !str(w->doc, "sync_token");
		if (w->what == W_OPEN && !w->full) {
			after_list(run, w);
			return;
		}
		call(run, w, PH_LIST);
		return;
	default:
		break;
	}
}

static void on_refresh(struct ml_job_run *run, struct pw *w, const struct ml_http_result *res)
{
	w->refreshing = false;
	int rc = res->code == CURLE_OK ? ml_oauth_parse_tokens(res->status, res->body, &w->fresh)
				       : ML_EUNAVAIL;
	if (rc == 0) {
		finish(run, ML_JOB_DEFER, ml_now_ms(), NULL, O_REFRESHED);
		return;
	}
	w->reauth = rc == ML_EAUTH;
	snprintf(w->why, sizeof w->why, "%s",
		 w->reauth ? "The provider refused the refresh token (invalid_grant)."
			   : "The token refresh failed for now.");
	if (w->reauth) {
		finish(run, ML_JOB_WAIT, 0, "reconnect_required: the refresh token was refused",
		       O_REFRESH_FAILED);
		return;
	}
	finish(run, ML_JOB_RETRY, ml_now_ms() + ml_job_run_backoff_ms(run, 0),
	       "token refresh failed", O_REFRESH_FAILED);
}

static void pw_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	struct pw *w = run->state;
	if (w->refreshing) {
		on_refresh(run, w, res);
		return;
	}
	char *ra = ml_http_result_header(res, "Retry-After");
	struct ml_presp r = {ml_pcall_transport(res->code), res->status, res->body, res->body_len, ra,
			     ml_now()};
	on_answer(run, w, &r);
	free(ra);
}

static void pw_release(struct ml_job_run *run)
{
	struct pw *w = run->state;
	if (!w)
		return;
	curl_slist_free_all(w->headers);
	ml_pstep_clear(&w->step);
	ml_conn_token_clear(&w->tok);
	ml_oauth_tokens_clear(&w->fresh);
	json_decref(w->doc);
	json_decref(w->changes);
	json_decref(w->items);
	free(w->sync_token);
	free(w->page);
	free(w);
	run->state = NULL;
}

const struct ml_job_handler ml_job_provider_watch = {
    .kind = "provider.watch",
    .start = pw_start,
    .on_http = pw_on_http,
    .release = pw_release,
    .prepare = pw_prepare,
};

const struct ml_job_handler ml_job_provider_sync = {
    .kind = "provider.sync",
    .start = pw_start,
    .on_http = pw_on_http,
    .release = pw_release,
    .prepare = pw_prepare,
};
