/* Live presence: the platforms' events on the booking (meeting/presence.h). */
#include "meeting/presence.h"
#include "core/error.h"
#include "core/log.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/booking.h"
#include "domain/gateway.h"
#include "domain/presence.h"
#include "meeting/waiting.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* --- queueing (the inbound request's transaction) --- */

int ml_presence_enqueue(struct ml_tx *tx, const char *platform,
                        const struct ml_inbound_event *ev, bool *queued)
{
	char org[40], bkg[40], mtg[40];
	const struct ml_inbound_presence *p = &ev->presence;
	*queued = false;
	int rc = ml_tx_provider_meeting_find(tx, platform, ev->external_id, org, bkg, mtg);
	if (rc == ML_ENOTFOUND) {
		ml_error_clear();
		return 0;
	}
	if (rc < 0)
		return rc;
	json_t *payload = json_pack(
	    "{s:s, s:s, s:s, s:b, s:s, s:s?, s:s?, s:s?, s:I, s:I, s:s}", "platform", platform,
	    "booking_id", bkg, "meeting_id", mtg, "joined", p->joined, "session", p->session,
	    "identity", *p->identity ? p->identity : NULL, "name", *p->name ? p->name : NULL,
	    "email", *p->email ? p->email : NULL, "at_ms", (json_int_t)p->at_ms, "seq",
	    (json_int_t)p->seq, "event_key", ev->key);
	char group[64];
	snprintf(group, sizeof group, "presence:%s", bkg);
	struct ml_job_new j = {.org_id = org,
	                       .kind = "presence.apply",
	                       .group_key = group,
	                       .payload = payload,
	                       .max_attempts = 20};
	rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(payload);
	*queued = rc == 0;
	return rc;
}

int ml_presence_map_room(struct ml_tx *tx, const char *org_id, json_t *booking)
{
	json_t *m = json_object_get(booking, "meeting");
	const struct ml_provider_ops *ops = ml_provider_find(str(m, "platform"));
	const char *ext = str(m, "external_id");
	if (!ML_PROVIDER_HAS(ops, inbound) || !ops->inbound->presence || !ext || !*ext ||
	    !str(m, "id"))
		return 0;
	return ml_tx_provider_meeting_put(tx, ops->name, ext, org_id, str(booking, "id"),
	                                  str(m, "id"));
}

const char *ml_presence_source(json_t *booking)
{
	const struct ml_provider_ops *ops =
	    ml_provider_find(str(json_object_get(booking, "meeting"), "platform"));
	return ML_PROVIDER_HAS(ops, inbound) && ops->inbound->presence ? "platform" : "gateway";
}

/* --- views --- */

static json_t *when(int64_t ms)
{
	char t[ML_RFC3339_MAX];
	if (ms <= 0 || !ml_time_in_range(ms / 1000))
		return json_null();
	ml_time_format(ms / 1000, t);
	return json_string(t);
}

static json_t *stays(json_t *booking)
{
	return json_object_get(json_object_get(booking, "presence"), "stays");
}

void ml_presence_describe(json_t *o, json_t *booking, const char *pid, const char *admission,
                          const char *first_pass)
{
	bool platform = strcmp(ml_presence_source(booking), "platform") == 0;
	int64_t joined = 0, left = 0, open_since = 0;
	bool any = false, open = false;
	size_t i;
	json_t *s;
	json_array_foreach(stays(booking), i, s) {
		if (!eq(str(s, "participant_id"), pid))
			continue;
		int64_t j = json_integer_value(json_object_get(s, "joined_ms"));
		int64_t l = json_integer_value(json_object_get(s, "left_ms"));
		any = true;
		if (j > 0 && (joined == 0 || j < joined))
			joined = j;
		if (l > left)
			left = l;
		if (ml_presence_stay_open(s)) {
			open = true;
			if (open_since == 0 || j < open_since)
				open_since = j;
		}
	}
	const char *state = "invited";
	json_t *jt = json_null(), *lt = json_null();
	if (any) {
		state = open ? "in_meeting" : "left";
		json_decref(jt);
		jt = when(open ? open_since : joined);
		if (!open) {
			json_decref(lt);
			lt = when(left);
		}
	} else if (!platform && first_pass) {
		/* Nothing reports from inside the meeting: the gateway let them in. */
		state = "in_meeting";
		json_decref(jt);
		jt = json_string(first_pass);
	} else if (eq(admission, "waiting")) {
		state = "waiting";
	} else if (eq(admission, "admitted") || first_pass) {
		state = "admitted";
	}
	json_object_set_new(o, "state", json_string(state));
	json_object_set_new(o, "joined_at", jt);
	json_object_set_new(o, "left_at", lt);
}

json_t *ml_presence_unmatched(json_t *booking)
{
	json_t *out = json_array(), *s;
	size_t i;
	json_array_foreach(stays(booking), i, s) {
		if (!json_is_null(json_object_get(s, "participant_id")))
			continue;
		bool open = ml_presence_stay_open(s);
		json_array_append_new(
		    out, json_pack("{s:s?, s:s?, s:s?, s:s?, s:s, s:o, s:o}", "name", str(s, "name"),
		                   "identity", str(s, "identity"), "email", str(s, "email"),
		                   "platform", str(s, "platform"), "state",
		                   open ? "in_meeting" : "left", "joined_at",
		                   when(json_integer_value(json_object_get(s, "joined_ms"))),
		                   "left_at",
		                   open ? json_null()
		                        : when(json_integer_value(json_object_get(s, "left_ms")))));
	}
	return out;
}

json_t *ml_presence_now(json_t *booking)
{
	json_t *out = json_array(), *s;
	size_t i;
	json_array_foreach(stays(booking), i, s) {
		if (!ml_presence_stay_open(s))
			continue;
		struct ml_participant_ref p = {0};
		const char *pid = str(s, "participant_id");
		if (pid)
			ml_booking_participant(booking, pid, &p);
		const char *name = p.name ? p.name : str(s, "name");
		json_array_append_new(
		    out, json_pack("{s:s?, s:s?, s:s?, s:o}", "participant_id", pid, "name",
		                   name ? name : str(s, "identity"), "platform", str(s, "platform"),
		                   "joined_at",
		                   when(json_integer_value(json_object_get(s, "joined_ms")))));
	}
	return out;
}
