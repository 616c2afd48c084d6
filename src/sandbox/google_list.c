/* Google emulator: listing a calendar's events (events.list: time bounds, text search,
 * ordering, sync and page tokens, partial responses) and the account's calendars. */
#include "sandbox/google.h"

#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"
#include "sandbox/fields.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define P "google"

struct sortable {
	json_t *ev;
	int64_t key;
	size_t pos;
};

/* The event's start or end (`which`) in seconds: its dateTime, or midnight UTC of its date
 * (all-day events). */
static int64_t time_of(json_t *ev, const char *which)
{
	json_t *s = json_object_get(ev, which);
	int64_t t = 0;
	const char *dt = ml_sb_str(s, "dateTime"), *d = ml_sb_str(s, "date");
	if (dt && ml_time_parse(dt, &t) == 0)
		return t;
	if (d) {
		char buf[32];
		snprintf(buf, sizeof buf, "%.10sT00:00:00Z", d);
		ml_time_parse(buf, &t);
	}
	return t;
}

static int cmp_sortable(const void *a, const void *b)
{
	const struct sortable *x = a, *y = b;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static bool contains_ci(const char *hay, const char *needle)
{
	return hay && strcasestr(hay, needle);
}

/* events.list's query parameters, checked. */
struct list_query {
	const char *q, *uid, *order, *pep, *tmin, *tmax;
	int64_t min, max;
	long max_results, offset;
	bool show_deleted;
	/* syncToken: only what changed after change number `since` (-1: a plain listing); the
	 * listing's own change number, for nextSyncToken. */
	long long since, upto;
	bool syncable;
};

/* syncToken ("s" + a change number of the calendar): incompatible with the filters Google
 * refuses alongside it (400), 410 fullSyncRequired when older than the calendar's oldest
 * kept change. A page token continues a listing as of its first page's change number
 * ("p<offset>.<number>"). */
static bool sync_query(struct ml_http_req *req, struct ml_http_resp *resp, struct list_query *lq)
{
	json_t *root = req->user;
	const char *st = ml_http_query(req, "syncToken"), *pt = ml_http_query(req, "pageToken");
	const char *account = ml_sb_gcal_authorize(req, resp, false), *cal = NULL;
	static const char *const refused[] = {"iCalUID", "orderBy", "privateExtendedProperty",
					      "q", "sharedExtendedProperty", "timeMin", "timeMax",
					      "updatedMin", NULL};
	json_t *events = ml_sb_gcal_events_of(root, account, req->params[0], resp, &cal);
	if (!events)
		return false;
	json_t *c = ml_sb_gcal_changes(root, cal);
	long long seq = json_integer_value(json_object_get(c, "seq"));
	lq->since = -1;
	lq->upto = seq;
	lq->syncable = true;
	for (int i = 0; refused[i]; i++)
		if (ml_http_query(req, refused[i])) {
			lq->syncable = false;
			if (st) {
				ml_sb_gerr_param(resp, "invalid",
						 "Sync token cannot be used with this parameter.",
						 refused[i]);
				return false;
			}
		}
	const char *dot = pt ? strchr(pt, '.') : NULL;
	if (dot)
		lq->upto = strtoll(dot + 1, NULL, 10);
	if (!st)
		return true;
	char *end;
	long long n = st[0] == 's' ? strtoll(st + 1, &end, 10) : -1;
	if (st[0] != 's' || *end || n < 0 || n > seq) {
		ml_sb_gerr_param(resp, "invalid", "Invalid sync token value.", "syncToken");
		return false;
	}
	if (n < json_integer_value(json_object_get(c, "min_seq"))) {
		ml_sb_gerr_full(resp, 410, "calendar", "fullSyncRequired",
				"Sync token is no longer valid, a full sync is required.", "parameter",
				"syncToken");
		return false;
	}
	lq->since = n;
	lq->show_deleted = true;
	return true;
}

/* Reads and checks events.list's parameters; false after answering Google's 400. */
static bool list_query(struct ml_http_req *req, struct ml_http_resp *resp, struct list_query *lq)
{
	const char *pt = ml_http_query(req, "pageToken"), *mr = ml_http_query(req, "maxResults"),
	           *sd = ml_http_query(req, "showDeleted"),
	           *single = ml_http_query(req, "singleEvents");
	char *end;
	*lq = (struct list_query){.q = ml_http_query(req, "q"),
	                          .uid = ml_http_query(req, "iCalUID"),
	                          .order = ml_http_query(req, "orderBy"),
	                          .pep = ml_http_query(req, "privateExtendedProperty"),
	                          .tmin = ml_http_query(req, "timeMin"),
	                          .tmax = ml_http_query(req, "timeMax"),
	                          .max_results = 250};
	if (lq->tmin && ml_time_parse(lq->tmin, &lq->min) < 0) {
		ml_sb_gerr_param(resp, "badRequest", "Bad Request", "timeMin");
		return false;
	}
	if (lq->tmax && ml_time_parse(lq->tmax, &lq->max) < 0) {
		ml_sb_gerr_param(resp, "badRequest", "Bad Request", "timeMax");
		return false;
	}
	if (lq->tmin && lq->tmax && lq->max <= lq->min) {
		ml_sb_gerr_full(resp, 400, "calendar", "timeRangeEmpty",
		                "The specified time range is empty.", "parameter", "timeMax");
		return false;
	}
	if (mr) {
		lq->max_results = strtol(mr, &end, 10);
		if (*end || lq->max_results < 1) {
			ml_sb_gerr_param(resp, "invalid", "Invalid value for: maxResults",
			                 "maxResults");
			return false;
		}
		if (lq->max_results > 2500)
			lq->max_results = 2500;
	}
	if (pt) {
		lq->offset = strtol(pt[0] == 'p' ? pt + 1 : "x", &end, 10);
		if (*end == '.' && end[1] && strspn(end + 1, "0123456789") == strlen(end + 1))
			end += strlen(end);
		if (pt[0] != 'p' || *end || lq->offset < 0) {
			ml_sb_gerr_param(resp, "invalid", "Invalid page token.", "pageToken");
			return false;
		}
	}
	if (!sync_query(req, resp, lq))
		return false;
	const char *order = lq->order;
	if (order && strcmp(order, "startTime") != 0 && strcmp(order, "updated") != 0) {
		ml_sb_gerr_param(resp, "invalid", "Invalid value for: orderBy", "orderBy");
		return false;
	}
	if (order && strcmp(order, "startTime") == 0 && !(single && strcmp(single, "true") == 0)) {
		ml_sb_gerr(resp, 400, "badRequest",
		           "The requested ordering is not available for the particular query.");
		return false;
	}
	lq->show_deleted = lq->show_deleted || (sd && strcmp(sd, "true") == 0);
	return true;
}

/* Whether an event is in the list the query asks for. */
static bool list_match(const struct list_query *lq, json_t *ev)
{
	const char *st = ml_sb_str(ev, "status");
	if (!lq->show_deleted && st && strcmp(st, "cancelled") == 0)
		return false;
	if (lq->uid && strcmp(lq->uid, nz(ml_sb_str(ev, "iCalUID"))) != 0)
		return false;
	if (lq->tmin && time_of(ev, "end") <= lq->min)
		return false;
	if (lq->tmax && time_of(ev, "start") >= lq->max)
		return false;
	if (lq->q && !contains_ci(ml_sb_str(ev, "summary"), lq->q) &&
	    !contains_ci(ml_sb_str(ev, "description"), lq->q) &&
	    !contains_ci(ml_sb_str(ev, "location"), lq->q))
		return false;
	if (lq->pep) {
		const char *eq = strchr(lq->pep, '=');
		json_t *priv =
		    json_object_get(json_object_get(ev, "extendedProperties"), "private");
		char *name = eq ? ml_strndup(lq->pep, (size_t)(eq - lq->pep)) : ml_strdup(lq->pep);
		const char *val = ml_sb_str(priv, name);
		bool ok = eq && val && strcmp(val, eq + 1) == 0;
		free(name);
		if (!ok)
			return false;
	}
	return true;
}

/* An event as an incremental sync lists it: a deleted one is only its id and status. */
static json_t *sync_item(json_t *ev)
{
	const char *st = ml_sb_str(ev, "status");
	if (!st || strcmp(st, "cancelled") != 0)
		return json_incref(ev);
	json_t *o = json_pack("{s:s, s:s, s:s}", "kind", "calendar#event", "id",
	                      nz(ml_sb_str(ev, "id")), "status", "cancelled");
	if (ml_sb_str(ev, "etag"))
		json_object_set_new(o, "etag", json_string(ml_sb_str(ev, "etag")));
	return o;
}

static void list_answer(struct ml_http_req *req, struct ml_http_resp *resp, const char *account,
                        const struct ml_sb_fields *fields)
{
	json_t *root = req->user;
	const char *cal;
	struct list_query lq;
	json_t *events = ml_sb_gcal_events_of(root, account, req->params[0], resp, &cal);
	if (!events || !list_query(req, resp, &lq))
		return;
	json_t *changes = ml_sb_gcal_changes(root, cal);
	const char *order = lq.order;
	long max_results = lq.max_results, offset = lq.offset;
	size_t n = json_object_size(events), m = 0;
	struct sortable *v = ml_calloc(n ? n : 1, sizeof *v);
	const char *k;
	json_t *ev;
	json_object_foreach(events, k, ev)
	{
		ml_sb_gcal_settle(root, cal, ev);
		if (!list_match(&lq, ev))
			continue;
		if (lq.since >= 0 &&
		    json_integer_value(json_object_get(json_object_get(changes, "events"), k)) <=
		        lq.since)
			continue;
		v[m].ev = ev;
		v[m].pos = m;
		v[m].key = 0;
		if (order && strcmp(order, "startTime") == 0)
			v[m].key = time_of(ev, "start");
		else if (order) {
			int64_t t = 0;
			char buf[40];
			snprintf(buf, sizeof buf, "%.19sZ", nz(ml_sb_str(ev, "updated")));
			ml_time_parse(buf, &t);
			v[m].key = t;
		}
		m++;
	}
	if (order)
		qsort(v, m, sizeof *v, cmp_sortable);
	json_t *items = json_array();
	/* With a selection, the list is selected as a whole (`items(id),nextPageToken`): its
	 * items are the stored events, shared until then. */
	for (size_t i = (size_t)offset; i < m && (long)json_array_size(items) < max_results; i++)
		json_array_append_new(items, lq.since >= 0 ? sync_item(v[i].ev)
		                                           : json_incref(v[i].ev));
	json_t *out = json_pack("{s:s, s:s, s:s, s:s, s:s, s:[]}", "kind", "calendar#events",
	                        "etag", "\"p32sb\"", "summary", cal, "timeZone", "UTC",
	                        "accessRole", "owner", "defaultReminders");
	ml_sb_gcal_set_now(out, "updated");
	json_object_set_new(out, "items", items);
	if ((size_t)offset + json_array_size(items) < m) {
		char *tok = ml_asprintf("p%zu.%lld", (size_t)offset + json_array_size(items), lq.upto);
		json_object_set_new(out, "nextPageToken", json_string(tok));
		free(tok);
	} else if (lq.syncable) {
		char *tok = ml_asprintf("s%lld", lq.upto);
		json_object_set_new(out, "nextSyncToken", json_string(tok));
		free(tok);
	}
	free(v);
	ml_resp_json(resp, 200, ml_sb_gcal_select(out, fields));
}

void ml_sb_gcal_events_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_sb_fields *fields = NULL;
	const char *account = ml_sb_gcal_authorize(req, resp, false);
	if (!account || !ml_sb_gcal_fields_param(req, resp, &fields))
		return;
	list_answer(req, resp, account, fields);
	ml_sb_fields_free(fields);
}

/* GET /calendar/v3/users/me/calendarList: just the primary calendar. */
void ml_sb_gcal_calendar_list(struct ml_http_req *req, struct ml_http_resp *resp)
{
	struct ml_sb_fields *fields = NULL;
	const char *account = ml_sb_gcal_authorize(req, resp, false);
	if (!account || !ml_sb_gcal_fields_param(req, resp, &fields))
		return;
	json_t *list =
	    json_pack("{s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:b, s:s, s:{s:[s]}}]}", "kind",
	              "calendar#calendarList", "etag", "\"p32sb\"", "items", "kind",
	              "calendar#calendarListEntry", "id", account, "summary", account, "timeZone",
	              "UTC", "primary", 1, "accessRole", "owner", "conferenceProperties",
	              "allowedConferenceSolutionTypes", "hangoutsMeet");
	ml_resp_json(resp, 200, ml_sb_gcal_select(list, fields));
	ml_sb_fields_free(fields);
}
