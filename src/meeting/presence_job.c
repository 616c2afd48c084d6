/* presence.apply: one platform presence event applied to its booking, exactly once: in the
 * transaction that finishes the job (meeting/presence.h). */
#include "meeting/presence.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/booking.h"
#include "domain/gateway.h"
#include "domain/presence.h"
#include "meeting/waitbus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The participant the platform's report names: the identity meetlink handed out (a
 * participant id), else the email, else a display name only one participant has. */
static const char *match(json_t *booking, json_t *host, const char *identity, const char *email,
                         const char *name)
{
	size_t n, i;
	struct ml_participant_ref *all = ml_gateway_people(booking, host, &n);
	const char *by_email = NULL, *by_name = NULL, *found = NULL;
	int names = 0;
	for (i = 0; i < n && !found; i++) {
		if (identity && all[i].id && strcmp(identity, all[i].id) == 0)
			found = all[i].id;
		if (email && *email && all[i].email && strcasecmp(email, all[i].email) == 0 &&
		    !by_email)
			by_email = all[i].id;
		if (name && *name && all[i].name && strcasecmp(name, all[i].name) == 0) {
			by_name = all[i].id;
			names++;
		}
	}
	if (!found)
		found = by_email ? by_email : names == 1 ? by_name : NULL;
	/* The id lives in the booking document, which outlives this array. */
	const char *id = NULL;
	if (found) {
		struct ml_participant_ref p;
		if (ml_gateway_person(booking, host, found, &p))
			id = p.id;
	}
	free(all);
	return id;
}

struct apply {
	char org[40], booking[40];
	bool changed;
};

static int apply_fn(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	struct apply *a = run->state;
	json_t *pl = run->job.payload, *booking = NULL, *service = NULL, *host = NULL;
	const char *platform = str(pl, "platform");
	int rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, run->job.org_id, str(pl, "booking_id"),
	                       &booking);
	a->changed = false;
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	json_t *m = json_object_get(booking, "meeting");
	/* An event of a meeting the booking no longer has (regenerated, replaced). */
	if (!str(m, "id") || strcmp(str(m, "id"), str(pl, "meeting_id") ? str(pl, "meeting_id")
	                                                                   : "") != 0)
		goto done;
	if ((rc = ml_booking_related(tx, run->job.org_id, booking, &service, &host)) < 0)
		goto done;
	json_t *pres = json_object_get(booking, "presence");
	if (!json_is_object(pres)) {
		pres = json_object();
		json_object_set_new(booking, "presence", pres);
	}
	json_t *list = json_object_get(pres, "stays");
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(pres, "stays", list);
	}
	const char *identity = str(pl, "identity"), *email = str(pl, "email"),
	           *name = str(pl, "name");
	struct ml_presence_fact f = {platform,
	                             str(pl, "session"),
	                             json_is_true(json_object_get(pl, "joined")),
	                             json_integer_value(json_object_get(pl, "at_ms")),
	                             match(booking, host, identity, email, name),
	                             name,
	                             identity,
	                             email};
	json_t *stay = NULL;
	enum ml_presence_change ch = ml_presence_merge(list, &f, ml_now_ms(), &stay);
	if (ch == ML_PRESENCE_NONE)
		goto done;
	json_t *events = json_array();
	if (ch == ML_PRESENCE_JOINED || ch == ML_PRESENCE_LEFT) {
		int64_t at = json_integer_value(
		    json_object_get(stay, ch == ML_PRESENCE_JOINED ? "joined_ms" : "left_ms"));
		char t[ML_RFC3339_MAX];
		ml_time_format(ml_time_in_range(at / 1000) ? at / 1000 : ml_now(), t);
		json_array_append_new(
		    events, json_pack("{s:s, s:{s:O, s:s?, s:s, s:s, s:s}}", "type",
		                      ch == ML_PRESENCE_JOINED ? "participant.joined"
		                                               : "participant.left",
		                      "data", "participant_id", json_object_get(stay, "participant_id"),
		                      "name", str(stay, "name") ? str(stay, "name") : identity,
		                      "platform", platform, "session", str(stay, "session"), "at", t));
		/* Someone is (or was) in the meeting: it has started. */
		const char *next = ml_booking_next(str(booking, "status"), ML_BK_START);
		if (next && strcmp(str(booking, "status"), "confirmed") == 0) {
			json_object_set_new(booking, "status", json_string(next));
			json_array_append_new(events,
			                      json_pack("{s:s, s:{s:s, s:s}}", "type", "meeting.started",
			                                "data", "platform", platform, "at", t));
		}
	}
	char actor[64];
	snprintf(actor, sizeof actor, "provider:%s", platform);
	struct ml_step st = {&run->env->platforms, run->job.org_id, actor, NULL, false,
	                     run->env->vault};
	rc = ml_booking_save(tx, &st, booking, service, host, events, false);
	json_decref(events);
	a->changed = rc == 0;
done:
	json_decref(booking);
	json_decref(service);
	json_decref(host);
	return rc;
}

static void pj_start(struct ml_job_run *run)
{
	struct apply *a = ml_calloc(1, sizeof *a);
	snprintf(a->org, sizeof a->org, "%s", run->job.org_id);
	snprintf(a->booking, sizeof a->booking, "%s", str(run->job.payload, "booking_id"));
	run->state = a;
	struct ml_job_finish f = {.outcome = ML_JOB_DONE};
	ml_job_run_finish(run, &f, apply_fn, run);
}

/* Durable: the live pages (the host panel) are told. */
static void pj_release(struct ml_job_run *run)
{
	struct apply *a = run->state;
	if (a && a->changed)
		ml_waiting_changed(run->env->waitbus, a->org, a->booking);
	free(a);
	run->state = NULL;
}

const struct ml_job_handler ml_job_presence_apply = {
    .kind = "presence.apply",
    .start = pj_start,
    .release = pj_release,
};
