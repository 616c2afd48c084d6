/* Microsoft Graph change notifications on the host's Outlook events, sans-IO
 * (providers/watch.h).
 *
 * From microsoft-graph-docs-contrib (concepts/change-notifications-delivery-webhooks.md,
 * resources/subscription.md): POST /subscriptions {changeType, notificationUrl, resource,
 * expirationDateTime, clientState (128 characters at most)} answers 201 with the
 * subscription once Graph has checked the notificationUrl (a POST with ?validationToken=,
 * answered 200 text/plain with the decoded token within 10 seconds); Outlook events live
 * 4230 minutes at most; PATCH /subscriptions/{id} {expirationDateTime} renews (200), DELETE
 * removes (204). Notifications are POSTed as {value: [{subscriptionId,
 * subscriptionExpirationDateTime, clientState, changeType, resource, tenantId,
 * resourceData: {@odata.type, @odata.id, @odata.etag, id}}]}, several subscriptions' mixed
 * in one POST, and must be answered 2xx within 3 seconds (202 when the work is queued).
 * They carry no data meetlink trusts: a sync reads the event back (GET /me/events/{id}:
 * 404 when it was deleted).
 */
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "core/url.h"
#include "providers/remote.h"
#include "providers/watch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "Microsoft Graph"
#define ITEM_PREFIX "event:"
#define MAX_LIFE_S (4230 * 60)

static const char *base(const struct ml_pcreds *cr)
{
	return cr->api_base ? cr->api_base : "https://graph.microsoft.com";
}

static json_t *expiry(int64_t ttl_s)
{
	char t[ML_RFC3339_MAX];
	ml_time_format(ml_now() + ttl_s, t);
	return json_string(t);
}

void ml_graph_sub_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
		      const char *token, const char *address, int64_t ttl_s)
{
	char *state = ml_asprintf("%s.%s", channel_id, token);
	json_t *body = json_pack("{s:s, s:s, s:s, s:o, s:s}", "changeType", "updated,deleted",
				 "notificationUrl", address, "resource", "me/events",
				 "expirationDateTime", expiry(ttl_s), "clientState", state);
	explicit_bzero(state, strlen(state));
	free(state);
	ml_pstep_json(out, "POST", ml_asprintf("%s/v1.0/subscriptions", base(cr)), body, cr);
}

static char *sub_url(const struct ml_pcreds *cr, const char *id)
{
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s/v1.0/subscriptions/", base(cr));
	ml_url_escape(&b, id ? id : "-");
	return ml_buf_steal(&b);
}

void ml_graph_renew_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *sub_id,
			int64_t ttl_s)
{
	ml_pstep_json(out, "PATCH", sub_url(cr, sub_id),
		      json_pack("{s:o}", "expirationDateTime", expiry(ttl_s)), cr);
}

static int classify(struct ml_perr *err, const struct ml_presp *r, json_t *body)
{
	json_t *e = json_object_get(body, "error");
	const char *code = ml_pjs(e, "code"), *msg = ml_pjs(e, "message");
	if (r->transport == ML_PT_OK && r->status == 403)
		return ml_perr_set(err, ML_PERR_REAUTH, 403, "reconnect_required",
				   "The Microsoft connection may not read the host's calendar (%s): "
				   "reconnect it.",
				   code ? code : "Forbidden");
	return ml_perr_from_resp(err, r, NAME, code, msg);
}

static bool graph_time(const char *s, int64_t *out)
{
	char buf[32];
	if (!s)
		return false;
	if (ml_time_parse(s, out) == 0)
		return true;
	if (strlen(s) < 19)
		return false;
	snprintf(buf, sizeof buf, "%.19sZ", s);
	return ml_time_parse(buf, out) == 0;
}

int ml_graph_sub_parse(const struct ml_presp *r, char *rid, size_t rid_n, int64_t *exp_ms,
		       struct ml_perr *err)
{
	json_t *body = ml_presp_json(r);
	int rc;
	if (!ml_presp_ok(r)) {
		const char *code = ml_pjs(json_object_get(body, "error"), "code");
		if (ml_presp_gone(r))
			rc = ml_perr_set(err, ML_PERR_GONE, (int)r->status, "subscription_gone",
					 "%s no longer has the subscription.", NAME);
		else if (r->status == 400 && code && strcmp(code, "ValidationError") == 0)
			/* Graph could not reach the notificationUrl (the daemon restarting, the
			 * address briefly down): tried again with backoff, not given up. */
			rc = ml_perr_set(err, ML_PERR_RETRY, 400, "validation_failed",
					 "%s could not validate the notification URL (is "
					 "MEETLINK_PUBLIC_URL reachable from it?).",
					 NAME);
		else
			rc = classify(err, r, body);
		json_decref(body);
		return rc < 0 ? rc : -1;
	}
	const char *id = ml_pjs(body, "id");
	int64_t exp = 0;
	if (!id || !*id || strlen(id) >= rid_n ||
	    !graph_time(ml_pjs(body, "expirationDateTime"), &exp)) {
		json_decref(body);
		return ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "provider_error",
				   "%s answered a subscription without id or expirationDateTime.",
				   NAME);
	}
	snprintf(rid, rid_n, "%s", id);
	*exp_ms = exp * 1000;
	json_decref(body);
	return 0;
}

void ml_graph_unsub_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *channel_id,
			const char *sub_id)
{
	(void)channel_id;
	ml_pstep_http(out, "DELETE", sub_url(cr, sub_id), NULL, NULL, ml_pbearer(cr));
}

int ml_graph_unsub_parse(const struct ml_presp *r, struct ml_perr *err)
{
	if (ml_presp_ok(r) || ml_presp_gone(r))
		return 0;
	json_t *body = ml_presp_json(r);
	int rc = classify(err, r, body);
	json_decref(body);
	return rc < 0 ? rc : -1;
}

int ml_graph_read_req(struct ml_pstep *out, const struct ml_pcreds *cr, const char *item)
{
	size_t n = strlen(ITEM_PREFIX);
	if (!item || strncmp(item, ITEM_PREFIX, n) != 0 || !item[n])
		return -1;
	struct ml_buf b = {0};
	ml_buf_printf(&b, "%s/v1.0/me/events/", base(cr));
	ml_url_escape(&b, item + n);
	ml_buf_puts(&b, "?$select=id,start,end,isCancelled");
	ml_pstep_http(out, "GET", ml_buf_steal(&b), NULL, NULL, ml_pbearer(cr));
	return 0;
}

/* A dateTimeTimeZone in UTC (what Graph answers without a Prefer: outlook.timezone). */
static bool utc_time(json_t *v, int64_t *out)
{
	const char *tz = ml_pjs(v, "timeZone"), *dt = ml_pjs(v, "dateTime");
	if (!tz || !dt || (strcmp(tz, "UTC") != 0 && strcmp(tz, "Etc/UTC") != 0) ||
	    strlen(dt) < 19)
		return false;
	char buf[32];
	snprintf(buf, sizeof buf, "%.19sZ", dt);
	return ml_time_parse(buf, out) == 0;
}

int ml_graph_read_parse(const struct ml_presp *r, const char *item, json_t *changes,
			struct ml_perr *err)
{
	json_t *body = ml_presp_json(r);
	int rc = 0;
	if (ml_presp_gone(r)) {
		json_array_append_new(changes,
				      json_pack("{s:s, s:s}", "id", item, "status", "cancelled"));
	} else if (!ml_presp_ok(r)) {
		rc = classify(err, r, body);
		rc = rc < 0 ? rc : -1;
	} else if (!json_is_object(body)) {
		rc = ml_perr_set(err, ML_PERR_RETRY, (int)r->status, "provider_error",
				 "%s answered an event that is not an object.", NAME);
	} else {
		bool cancelled = json_is_true(json_object_get(body, "isCancelled"));
		json_t *c = json_pack("{s:s, s:s}", "id", item, "status",
				      cancelled ? "cancelled" : "confirmed");
		int64_t s = 0, e = 0;
		if (utc_time(json_object_get(body, "start"), &s) &&
		    utc_time(json_object_get(body, "end"), &e)) {
			json_object_set_new(c, "start", json_integer(s));
			json_object_set_new(c, "end", json_integer(e));
		}
		json_array_append_new(changes, c);
	}
	json_decref(body);
	return rc;
}

static bool chars_ok(const char *s, size_t max, const char *extra)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > max)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      (extra && c && strchr(extra, c))))
			return false;
	}
	return true;
}

static int bad(size_t i, const char *field, const char *what)
{
	char name[64];
	snprintf(name, sizeof name, "value[%zu].%s", i, field);
	return ml_error_set(ML_EINVAL, "invalid_notification", name, "%s %s.", name, what);
}

/* One changeNotification into `out`. */
static int note_one(json_t *v, size_t i, struct ml_watch_note *out)
{
	const char *sub = json_string_value(json_object_get(v, "subscriptionId"));
	const char *cs = json_string_value(json_object_get(v, "clientState"));
	const char *ct = json_string_value(json_object_get(v, "changeType"));
	json_t *rd = json_object_get(v, "resourceData");
	const char *id = json_string_value(json_object_get(rd, "id"));
	const char *etag = json_string_value(json_object_get(rd, "@odata.etag"));
	memset(out, 0, sizeof *out);
	if (!json_is_object(v))
		return bad(i, "", "must be an object");
	if (!chars_ok(sub, 64, "-"))
		return bad(i, "subscriptionId", "must be 1-64 letters, digits or '-'");
	if (!cs || strlen(cs) > 128)
		return bad(i, "clientState", "is missing or longer than 128 characters");
	const char *dot = strrchr(cs, '.');
	size_t cl = dot ? (size_t)(dot - cs) : 0;
	if (!dot || cl == 0 || cl >= sizeof out->channel_id || !dot[1])
		return bad(i, "clientState", "is not one meetlink gave");
	memcpy(out->channel_id, cs, cl);
	snprintf(out->token, sizeof out->token, "%s", dot + 1);
	if (!chars_ok(out->channel_id, 64, "-_") || !chars_ok(out->token, 256, "-_")) {
		explicit_bzero(out->token, sizeof out->token);
		return bad(i, "clientState", "is not one meetlink gave");
	}
	if (!ct || (strcmp(ct, "created") && strcmp(ct, "updated") && strcmp(ct, "deleted"))) {
		explicit_bzero(out->token, sizeof out->token);
		return bad(i, "changeType", "must be created, updated or deleted");
	}
	if (!chars_ok(id, 256, "-_+/=") || (etag && strlen(etag) > 256)) {
		explicit_bzero(out->token, sizeof out->token);
		return bad(i, "resourceData.id", "must be 1-256 characters of a Graph id");
	}
	snprintf(out->subscription_id, sizeof out->subscription_id, "%s", sub);
	snprintf(out->item, sizeof out->item, ITEM_PREFIX "%s", id);
	/* Handled once by what it says: the same change of the same version of the event, sent
	 * again (Graph retries until answered 2xx), is a duplicate. */
	struct ml_buf k = {0};
	ml_buf_printf(&k, "%s\n%s\n%s\n%s", sub, ct, id, etag ? etag : "");
	char hex[65];
	ml_sha256_hex(k.data, k.len, hex);
	ml_buf_free(&k);
	snprintf(out->key, sizeof out->key, "graph:%s", hex);
	out->changed = true;
	return 0;
}

int ml_graph_notes_parse(json_t *body, struct ml_watch_note *out, size_t max, size_t *n)
{
	json_t *value = json_object_get(body, "value"), *v;
	size_t i;
	*n = 0;
	if (!json_is_object(body) || !json_is_array(value) || json_array_size(value) == 0)
		return ml_error_set(ML_EINVAL, "invalid_notification", "value",
				    "value must be a non-empty array of notifications.");
	if (json_array_size(value) > max)
		return ml_error_set(ML_EINVAL, "invalid_notification", "value",
				    "value holds more than %zu notifications.", max);
	json_array_foreach(value, i, v)
	{
		int rc = note_one(v, i, &out[i]);
		if (rc < 0) {
			for (size_t k = 0; k < i; k++)
				explicit_bzero(out[k].token, sizeof out[k].token);
			return rc;
		}
	}
	*n = json_array_size(value);
	return 0;
}

const struct ml_watch_info ml_graph_watch = {
    .path = "microsoft",
    .label = "graph-subscription",
    .detected_by = "graph_notification",
    .open_req = ml_graph_sub_req,
    .open_parse = ml_graph_sub_parse,
    .stop_req = ml_graph_unsub_req,
    .stop_parse = ml_graph_unsub_parse,
    .notes_parse = ml_graph_notes_parse,
    .handshake_param = "validationToken",
    .renew_req = ml_graph_renew_req,
    .read_req = ml_graph_read_req,
    .read_parse = ml_graph_read_parse,
    .max_ttl_s = MAX_LIFE_S,
};
