#include "domain/meeting.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void set_str(json_t *o, const char *k, const char *v)
{
	json_object_set_new(o, k, v ? json_string(v) : json_null());
}

bool ml_meeting_move(json_t *meeting, enum ml_meeting_event ev)
{
	const char *to = ml_meeting_next(str(meeting, "status"), ev);
	if (!to)
		return false;
	json_object_set_new(meeting, "status", json_string(to));
	return true;
}

json_t *ml_meeting_new(const char *platform)
{
	char id[ML_ID_MAX];
	ml_id_new(id, "mtg");
	/* Member by member, not json_pack: every booking gets one, and parsing the format
	 * string cost as much as building the object. */
	json_t *m = json_object();
	json_object_set_new_nocheck(m, "id", json_string(id));
	json_object_set_new_nocheck(m, "status", json_string_nocheck("none"));
	static const char *const unset[] = {"join_url", "host_url", "external_id", "passcode",
					    "error"};
	for (size_t i = 0; i < sizeof unset / sizeof unset[0]; i++)
		json_object_set_new_nocheck(m, unset[i], json_null());
	json_object_set_new_nocheck(m, "fallback_used", json_false());
	json_object_set_new_nocheck(m, "generation", json_integer(0));
	json_object_set_new_nocheck(m, "history", json_array());
	set_str(m, "platform", platform);
	return m;
}

void ml_meeting_req_fill(struct ml_meeting_req *req, const char *org_id, json_t *booking,
			 json_t *service, json_t *host)
{
	json_t *m = json_object_get(booking, "meeting");
	memset(req, 0, sizeof *req);
	req->org_id = org_id;
	req->booking_id = str(booking, "id");
	req->title = str(booking, "title");
	ml_time_parse(str(booking, "start"), &req->start);
	ml_time_parse(str(booking, "end"), &req->end);
	req->timezone = str(booking, "timezone");
	req->host_name = str(host, "name");
	req->host_email = str(host, "email");
	req->settings = json_object_get(service, "settings");
	req->manual_url = str(m, "manual_url");
	if (!req->manual_url)
		req->manual_url = str(req->settings, "manual_url");
	req->external_id = str(m, "external_id");
	req->join_url = str(m, "join_url");
	req->generation = (unsigned)json_integer_value(json_object_get(m, "generation"));
}

static void event(json_t *events, const char *type, json_t *data)
{
	json_array_append_new(events, json_pack("{s:s, s:o}", "type", type, "data", data));
}

static void set_ready(json_t *m, const struct ml_meeting *out)
{
	json_object_set_new(m, "status", json_string("ready"));
	set_str(m, "join_url", out->join_url);
	set_str(m, "host_url", out->host_url ? out->host_url : out->join_url);
	set_str(m, "external_id", out->external_id);
	set_str(m, "passcode", out->passcode);
	json_object_set_new(m, "error", json_null());
}

static void set_error(json_t *m, const struct ml_perr *err)
{
	json_object_set_new(m, "status", json_string("error"));
	json_object_set_new(m, "error", json_pack("{s:s, s:s}", "code",
						  err->code[0] ? err->code : "provider_error",
						  "message", err->message));
}

static int create_with(const struct ml_provider_ops *ops, const struct ml_provider_ctx *cx,
		       const struct ml_meeting_req *req, struct ml_meeting *out,
		       struct ml_perr *err)
{
	memset(out, 0, sizeof *out);
	memset(err, 0, sizeof *err);
	return ops->meeting_create(cx, req, out, err);
}

int ml_meeting_make(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		    json_t *service, json_t *host, json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	struct ml_meeting_req req;
	struct ml_meeting out;
	struct ml_perr err;

	if (!ops || !(ops->caps & ML_CAP_LOCAL))
		return ml_error_set(ML_EINVAL, "platform_unavailable", "platform",
				    "The %s platform cannot make links on this server yet.",
				    platform ? platform : "(none)");
	/* The document's strings die when it is edited below; the driver's name does not. */
	platform = ops->name;
	ml_meeting_req_fill(&req, org_id, booking, service, host);
	if (create_with(ops, cx, &req, &out, &err) == 0) {
		set_ready(m, &out);
		ml_meeting_clear(&out);
		event(events, "meeting.ready",
		      json_pack("{s:s, s:s}", "platform", platform, "meeting_id", str(m, "id")));
		return 0;
	}
	ml_meeting_clear(&out);
	return ml_meeting_fail(cx, org_id, booking, service, host, platform, &err,
			       err.kind == ML_PERR_PERMANENT, events);
}

int ml_meeting_fail(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		    json_t *service, json_t *host, const char *platform,
		    const struct ml_perr *errp, bool permanent, json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	struct ml_meeting_req req;
	struct ml_meeting out = {0};
	struct ml_perr err = *errp;

	ml_meeting_req_fill(&req, org_id, booking, service, host);
	req.meeting_id = str(m, "id");
	/* A permanent failure may fall back, visibly, to the service's fallback platform. */
	const char *fb = str(req.settings, "fallback");
	const struct ml_provider_ops *fops = fb ? ml_provider_find(fb) : NULL;
	if (permanent && fops && (fops->caps & ML_CAP_LOCAL)) {
		struct ml_perr ferr;
		if (create_with(fops, cx, &req, &out, &ferr) == 0) {
			set_ready(m, &out);
			ml_meeting_clear(&out);
			json_object_set_new(m, "fallback_used", json_true());
			set_str(m, "requested_platform", platform);
			fb = fops->name;
			set_str(m, "platform", fb);
			json_object_set_new(m, "fallback_reason",
					    json_pack("{s:s, s:s}", "code", err.code, "message",
						      err.message));
			event(events, "meeting.fallback_used",
			      json_pack("{s:s, s:s, s:s}", "requested_platform", platform,
					"platform", fb, "reason", err.code));
			event(events, "meeting.ready",
			      json_pack("{s:s, s:s}", "platform", fb, "meeting_id", str(m, "id")));
			return 0;
		}
		ml_meeting_clear(&out);
	}
	set_error(m, &err);
	event(events, "meeting.failed",
	      json_pack("{s:s, s:s, s:s}", "platform", platform, "code", err.code, "message",
			err.message));
	return 0;
}

int ml_meeting_update(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		      json_t *service, json_t *host, json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	struct ml_meeting_req req;
	struct ml_meeting out = {0};
	struct ml_perr err = {0};

	if (strcmp(str(m, "status"), "ready") != 0 || !ops || !(ops->caps & ML_CAP_LOCAL))
		return 0;
	ml_meeting_req_fill(&req, org_id, booking, service, host);
	if (!(ops->caps & ML_CAP_UPDATE) || !ops->meeting_update)
		return 0;
	if (ops->meeting_update(cx, &req, &out, &err) == 0) {
		const char *old = str(m, "join_url");
		bool same = old && out.join_url && strcmp(old, out.join_url) == 0;
		set_ready(m, &out);
		event(events, "meeting.updated",
		      json_pack("{s:s, s:b}", "platform", platform, "same_link", same));
	} else {
		set_error(m, &err);
		event(events, "meeting.failed",
		      json_pack("{s:s, s:s}", "platform", platform, "code", err.code));
	}
	ml_meeting_clear(&out);
	return 0;
}

int ml_meeting_cancel(const struct ml_provider_ctx *cx, const char *org_id, json_t *booking,
		      json_t *service, json_t *host, json_t *events)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *status = str(m, "status");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	struct ml_meeting_req req;
	struct ml_perr err = {0};

	if (strcmp(status, "none") == 0 || strcmp(status, "cancelled") == 0)
		return 0;
	if (ops && (ops->caps & ML_CAP_LOCAL) && (ops->caps & ML_CAP_DELETE) &&
	    ops->meeting_delete) {
		ml_meeting_req_fill(&req, org_id, booking, service, host);
		ops->meeting_delete(cx, &req, &err);
	}
	json_object_set_new(m, "status", json_string("cancelled"));
	event(events, "meeting.cancelled", json_pack("{s:s}", "platform", platform ? platform : ""));
	return 0;
}

void ml_meeting_archive(json_t *booking, const char *platform, const char *reason)
{
	json_t *m = json_object_get(booking, "meeting");
	json_t *history = json_incref(json_object_get(m, "history"));
	json_int_t gen = json_integer_value(json_object_get(m, "generation"));
	char now[ML_RFC3339_MAX];

	json_t *old = json_deep_copy(m);
	json_object_del(old, "history");
	ml_time_format(ml_now(), now);
	json_object_set_new(old, "replaced_at", json_string(now));
	json_object_set_new(old, "replaced_because", json_string(reason));
	if (!json_is_array(history)) {
		json_decref(history);
		history = json_array();
	}
	json_array_append_new(history, old);

	json_t *fresh = ml_meeting_new(platform);
	json_object_set_new(fresh, "generation", json_integer(gen + 1));
	json_object_set_new(fresh, "history", history);
	json_object_set_new(booking, "meeting", fresh);
}

static char *participant_url(const struct ml_provider_ctx *cx, const char *org_id,
			     json_t *booking, json_t *service, json_t *host,
			     const struct ml_participant_ref *p, int64_t ttl_s)
{
	json_t *m = json_object_get(booking, "meeting");
	const char *platform = str(m, "platform");
	const struct ml_provider_ops *ops = platform ? ml_provider_find(platform) : NULL;
	bool moderator = strcmp(p->role, "host") == 0 || strcmp(p->role, "admin") == 0;
	const char *join = str(m, "join_url"), *hosturl = str(m, "host_url");
	struct ml_meeting_req req;
	struct ml_perr err = {0};
	char *url = NULL;

	if (strcmp(str(m, "status"), "ready") != 0 || !join)
		return NULL;
	/* A meeting ended for everyone mints no more links or tokens. */
	if (json_object_get(booking, "ended"))
		return NULL;
	if (ops && ops->participant_url) {
		struct ml_meeting cur = {(char *)str(m, "external_id"), (char *)join,
					 (char *)hosturl, (char *)str(m, "passcode")};
		ml_meeting_req_fill(&req, org_id, booking, service, host);
		struct ml_platform_settings now_s;
		struct ml_provider_ctx now_cx = *cx;
		if (ttl_s > 0) {
			/* The window the drivers compute becomes [now - 60 s, now + ttl]. */
			now_s = *cx->settings;
			now_s.join_early_seconds = 60;
			now_s.join_late_seconds = ttl_s;
			now_cx.settings = &now_s;
			req.start = req.end = cx->now;
		}
		if (ops->participant_url(&now_cx, &req, &cur, p, &url, &err) == 0)
			return url;
		return NULL;
	}
	return ml_strdup(moderator && hosturl ? hosturl : join);
}

char *ml_meeting_participant_url(const struct ml_provider_ctx *cx, const char *org_id,
				 json_t *booking, json_t *service, json_t *host,
				 const struct ml_participant_ref *p)
{
	return participant_url(cx, org_id, booking, service, host, p, 0);
}

char *ml_meeting_participant_url_ttl(const struct ml_provider_ctx *cx, const char *org_id,
				     json_t *booking, json_t *service, json_t *host,
				     const struct ml_participant_ref *p, int64_t ttl_s)
{
	return participant_url(cx, org_id, booking, service, host, p, ttl_s);
}
