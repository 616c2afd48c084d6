#include "notify/outbox.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "domain/gateway.h"
#include "domain/meeting.h"
#include "notify/endpoints.h"
#include "notify/jobs.h"
#include "notify/webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

static atomic_bool mail_configured;

void ml_notify_set_mail_configured(bool configured)
{
	atomic_store(&mail_configured, configured);
}

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static json_t *find(json_t *events, const char *type)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e)
	{
		if (str(e, "type") && strcmp(str(e, "type"), type) == 0)
			return e;
	}
	return NULL;
}

static bool eq(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* The first invitation: an instant meeting's says to join now (issue 18 §4). */
static const char *invitation(json_t *booking)
{
	return json_is_object(json_object_get(booking, "instant")) ? "join_now" : "invitation";
}

const char *ml_notify_email_plan(json_t *booking, json_t *events)
{
	const char *status = str(booking, "status");
	json_t *m = json_object_get(booking, "meeting");
	bool online = json_is_true(json_object_get(booking, "is_online")) && str(m, "platform");
	json_t *e;

	if ((e = find(events, "booking.cancelled"))) {
		/* A booking cancelled while pending never had an invitation to withdraw. */
		const char *prev = str(json_object_get(e, "data"), "previous_status");
		return eq(prev, "pending") ? NULL : "cancellation";
	}
	if (!eq(status, "confirmed") && !eq(status, "in_progress"))
		return NULL;
	if (find(events, "booking.confirmed")) {
		/* Online: the invitation carries the link, so it waits for meeting.ready (a
		 * remote platform makes the meeting later; a failure sends nothing yet). */
		if (!online || ml_meeting_is_ready(m))
			return invitation(booking);
		return NULL;
	}
	if (find(events, "booking.rescheduled")) {
		if (!online || ml_meeting_is_ready(m) || (ml_meeting_is_pending(m) && str(m, "join_url")))
			return "update";
		return NULL;
	}
	if (find(events, "meeting.ready"))
		return find(events, "meeting.regenerated") ? "update" : invitation(booking);
	if ((e = find(events, "meeting.updated")) && ml_meeting_is_ready(m)) {
		json_t *d = json_object_get(e, "data");
		json_t *same = json_object_get(d, "same_link");
		/* A new link (manual override, a platform that could not keep it) is news. */
		if (json_is_false(same) || (!same && eq(str(d, "platform"), ML_PLATFORM_MANUAL)))
			return "update";
	}
	return NULL;
}

/* --- email --- */

struct recipient {
	const char *role, *id, *name, *email;
};

/* What a message needs of the booking, as it is now: every job of the event carries this
 * snapshot, so it is kept small (no meeting history, no metadata). Written as text directly
 * (the members in this order, then the meeting without its history): no copy of the tree. */
static char *mail_snapshot_text(json_t *booking)
{
	static const char *const keys[] = {"id",        "status",    "title",    "start",
					   "end",       "timezone",  "sequence", "is_online",
					   "duration_minutes", "cancel_reason", "customer",
					   "attendees", "host_id",   "host_participant_id", "instant",
					   NULL};
	struct ml_buf b = {0};
	bool first = true;
	ml_buf_append(&b, "{", 1);
	for (int i = 0; keys[i]; i++) {
		json_t *v = json_object_get(booking, keys[i]);
		if (!v)
			continue;
		if (!first)
			ml_buf_append(&b, ",", 1);
		first = false;
		ml_json_text_string(&b, keys[i]);
		ml_buf_append(&b, ":", 1);
		ml_json_text_append(&b, v);
	}
	json_t *m = json_object_get(booking, "meeting");
	if (m) {
		ml_buf_puts(&b, first ? "\"meeting\":" : ",\"meeting\":");
		if (json_is_object(m)) {
			bool mfirst = true;
			ml_buf_append(&b, "{", 1);
			for (void *it = json_object_iter(m); it; it = json_object_iter_next(m, it)) {
				const char *k = json_object_iter_key(it);
				if (strcmp(k, "history") == 0)
					continue;
				if (!mfirst)
					ml_buf_append(&b, ",", 1);
				mfirst = false;
				ml_json_text_string(&b, k);
				ml_buf_append(&b, ":", 1);
				ml_json_text_append(&b, json_object_iter_value(it));
			}
			ml_buf_append(&b, "}", 1);
		} else {
			ml_json_text_append(&b, m);
		}
	}
	ml_buf_append(&b, "}", 1);
	return ml_buf_steal(&b);
}

/* One job per recipient. Its payload, written as text directly (no tree to build and dump):
 * {"template","booking_id","recipient":{"role","participant_id"?,"name","email","join_url"},
 *  "host":{"name","email"},"booking":<the snapshot, the same for every recipient>} */
static int enqueue_email(struct ml_tx *tx, const struct ml_provider_ctx *cx, const char *org_id,
                         const char *tpl, json_t *booking, const char *snapshot, json_t *service,
                         json_t *host, const struct recipient *r)
{
	if (!r->email || !*r->email)
		return 0; /* a deleted host without an address: nobody to write to */
	struct ml_participant_ref ref = {r->id, r->role, r->name, r->email};
	char *url = NULL;
	/* A cancellation carries no link: the meeting is gone. */
	if (strcmp(tpl, "cancellation") != 0)
		url = ml_meeting_participant_url(cx, org_id, booking, service, host, &ref);
	/* Once the meeting has a link, each recipient is sent their own gateway link (the
	 * platform's link and any token stay behind the gateway, minted when they enter). The
	 * job carries only the link's generation: the link itself is made when the mail is
	 * written (job_email.c), so no token is kept in the store. */
	bool gateway = false;
	if (url && r->id && cx->settings && cx->settings->gateway_secret) {
		free(url);
		url = NULL;
		gateway = true;
	}
	const char *bid = str(booking, "id");
	struct ml_buf b = {0};
	ml_buf_puts(&b, "{\"template\":");
	ml_json_text_string(&b, tpl);
	ml_buf_puts(&b, ",\"booking_id\":");
	ml_json_text_string(&b, bid);
	ml_buf_puts(&b, ",\"recipient\":{\"role\":");
	ml_json_text_string(&b, r->role);
	if (r->id) {
		ml_buf_puts(&b, ",\"participant_id\":");
		ml_json_text_string(&b, r->id);
	}
	ml_buf_puts(&b, ",\"name\":");
	ml_json_text_string(&b, r->name ? r->name : "");
	ml_buf_puts(&b, ",\"email\":");
	ml_json_text_string(&b, r->email);
	ml_buf_puts(&b, ",\"join_url\":");
	ml_json_text_string(&b, url);
	if (gateway)
		ml_buf_printf(&b, ",\"gateway_link_generation\":%lld",
		              (long long)ml_gateway_generation(booking, r->id));
	ml_buf_puts(&b, "},\"host\":{\"name\":");
	ml_json_text_string(&b, str(host, "name") ? str(host, "name") : "");
	ml_buf_puts(&b, ",\"email\":");
	ml_json_text_string(&b, str(host, "email") ? str(host, "email") : "");
	ml_buf_puts(&b, "},\"booking\":");
	ml_buf_puts(&b, snapshot);
	ml_buf_puts(&b, "}");
	free(url);
	char *text = ml_buf_steal(&b);
	char *group = ml_asprintf("mail:%s:%s", bid, r->id ? r->id : r->email);
	struct ml_job_new j = {org_id, "email.send",         group, NULL, NULL,
	                       0,      ML_EMAIL_MAX_ATTEMPTS,
	                       atomic_load(&mail_configured) ? NULL : ML_NOTIFY_SMTP_WAIT_KEY,
	                       ML_NOTIFY_SMTP_WAIT_REASON, text};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	free(group);
	free(text);
	return rc;
}

static int queue_emails(struct ml_tx *tx, const struct ml_provider_ctx *cx, const char *org_id,
                        json_t *booking, json_t *service, json_t *host, const char *tpl)
{
	int rc;
	struct recipient h = {"host", str(booking, "host_participant_id"), str(host, "name"),
	                      str(host, "email")};
	char *snap = mail_snapshot_text(booking);
	rc = enqueue_email(tx, cx, org_id, tpl, booking, snap, service, host, &h);
	json_t *c = json_object_get(booking, "customer");
	struct recipient cu = {"customer", str(c, "id"), str(c, "name"), str(c, "email")};
	if (rc == 0)
		rc = enqueue_email(tx, cx, org_id, tpl, booking, snap, service, host, &cu);
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(booking, "attendees"), i, a)
	{
		struct recipient at = {"attendee", str(a, "id"), str(a, "name"), str(a, "email")};
		if (rc == 0)
			rc = enqueue_email(tx, cx, org_id, tpl, booking, snap, service, host, &at);
	}
	/* Co-hosts and further customers added through the API are written to as well;
	 * admins are not (they are not the booking's guests). */
	json_array_foreach(json_object_get(booking, "extra_participants"), i, a)
	{
		struct recipient ex = {str(a, "role"), str(a, "id"), str(a, "name"), str(a, "email")};
		if (rc == 0 && ex.role && strcmp(ex.role, "admin") != 0)
			rc = enqueue_email(tx, cx, org_id, tpl, booking, snap, service, host, &ex);
	}
	free(snap);
	return rc;
}

/* --- webhooks --- */

int ml_notify_webhook_enqueue(struct ml_tx *tx, const char *org_id, const char *delivery_id,
                              const char *ep_id, const char *type, const char *booking_id,
                              const char *body)
{
	/* One endpoint's messages about one booking arrive in order; a receiver that is down for
	 * a day holds back only its own deliveries. The delivery's log entry is written with its
	 * first attempt (the job carries the body): enqueueing is the only write here, so a
	 * booking step stays on the store's optimistic path. */
	char *group = ml_asprintf("wh:%s:%s", ep_id, booking_id ? booking_id : "org");
	json_t *payload = json_pack("{s:s, s:s, s:s, s:s?, s:s}", "delivery_id", delivery_id,
	                            "endpoint_id", ep_id, "event_type", type, "booking_id",
	                            booking_id, "body", body);
	struct ml_job_new j = {org_id, "webhook.deliver", group, NULL, payload, 0,
	                       ML_WEBHOOK_MAX_ATTEMPTS};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(payload);
	free(group);
	return rc;
}

static int fan_out(struct ml_tx *tx, const char *org_id, json_t *endpoints, const char *type,
                   const char *booking_id, json_t *data, const char *except_id)
{
	char now[ML_RFC3339_MAX];
	char *body = NULL;
	size_t i;
	json_t *ep;
	int rc = 0;

	ml_time_format(ml_now(), now);
	json_array_foreach(endpoints, i, ep)
	{
		if (!ml_webhook_filter_match(json_object_get(ep, "events"), type))
			continue;
		/* A disabled endpoint gets nothing new (endpoint_health.h). */
		if (str(ep, "status") && strcmp(str(ep, "status"), "disabled") == 0)
			continue;
		if (except_id && str(ep, "id") && strcmp(str(ep, "id"), except_id) == 0)
			continue;
		if (!body) {
			json_t *p = json_pack("{s:s, s:s, s:o}", "type", type, "timestamp", now,
			                      "data", data ? json_incref(data) : json_object());
			body = json_dumps(p, JSON_COMPACT);
			json_decref(p);
		}
		char msg_id[ML_ID_MAX];
		ml_id_new(msg_id, "msg");
		if ((rc = ml_notify_webhook_enqueue(tx, org_id, msg_id, str(ep, "id"), type,
		                                    booking_id, body)) < 0)
			break;
	}
	free(body);
	return rc;
}

int ml_notify_webhook(struct ml_tx *tx, const char *org_id, const char *type,
                      const char *booking_id, json_t *data)
{
	json_t *endpoints = NULL;
	if (!ml_webhook_event_known(type))
		return 0;
	int rc = ml_notify_endpoints(ml_tx_store(tx), org_id, &endpoints);
	if (rc == 0)
		rc = fan_out(tx, org_id, endpoints, type, booking_id, data, NULL);
	json_decref(endpoints);
	return rc;
}

int ml_notify_webhook_others(struct ml_tx *tx, const char *org_id, const char *type,
                             json_t *data, const char *except_id)
{
	json_t *endpoints = NULL;
	int rc = ml_notify_endpoints(ml_tx_store(tx), org_id, &endpoints);
	if (rc == 0)
		rc = fan_out(tx, org_id, endpoints, type, NULL, data, except_id);
	json_decref(endpoints);
	return rc;
}

int ml_notify_events(struct ml_tx *tx, const struct ml_provider_ctx *cx, const char *org_id,
                     json_t *booking, json_t *service, json_t *host, json_t *events)
{
	json_t *endpoints = NULL, *e;
	size_t i;
	int rc = 0;

	const char *tpl = ml_notify_email_plan(booking, events);
	if (tpl && (rc = queue_emails(tx, cx, org_id, booking, service, host, tpl)) < 0)
		return rc;

	json_array_foreach(events, i, e)
	{
		const char *type = str(e, "type");
		if (!ml_webhook_event_known(type))
			continue;
		if (!endpoints &&
		    (rc = ml_notify_endpoints(ml_tx_store(tx), org_id, &endpoints)) < 0)
			break;
		if (json_array_size(endpoints) == 0)
			break;
		json_t *details = json_object_get(e, "data");
		json_t *data = json_pack("{s:O, s:o}", "booking", booking, "details",
		                         details ? json_incref(details) : json_object());
		rc = fan_out(tx, org_id, endpoints, type, str(booking, "id"), data, NULL);
		json_decref(data);
		if (rc < 0)
			break;
	}
	json_decref(endpoints);
	return rc;
}
