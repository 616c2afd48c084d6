/* The Twilio emulator: listing rooms (GET /v1/Rooms: Status, UniqueName, DateCreatedAfter and
 * DateCreatedBefore filters, newest first) and the paging every list shares (PageSize, Page,
 * the meta block). */
#include "sandbox/twilio_internal.h"

#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Twilio paging: PageSize (1–1000, default 50), Page (0-based); meta with absolute URLs. */
bool ml_tw_paging(struct ml_http_req *req, struct ml_http_resp *resp, long *size, long *page)
{
	const char *ps = ml_http_query(req, "PageSize"), *pg = ml_http_query(req, "Page");
	*size = 50;
	*page = 0;
	if ((ps && (!ml_tw_parse_int(ps, size) || *size < 1 || *size > 1000)) ||
	    (pg && (!ml_tw_parse_int(pg, page) || *page < 0))) {
		ml_tw_err(resp, 400, 20001, "Invalid paging parameters");
		return false;
	}
	return true;
}

static json_t *meta(const char *key, const char *base, long size, long page, bool more)
{
	char *first = ml_asprintf("%s?PageSize=%ld&Page=0", base, size);
	char *self = ml_asprintf("%s?PageSize=%ld&Page=%ld", base, size, page);
	char *prev =
	    page > 0 ? ml_asprintf("%s?PageSize=%ld&Page=%ld", base, size, page - 1) : NULL;
	char *next = more ? ml_asprintf("%s?PageSize=%ld&Page=%ld", base, size, page + 1) : NULL;
	json_t *m =
	    json_pack("{s:I, s:I, s:s, s:s?, s:s, s:s?, s:s}", "page", (json_int_t)page,
	              "page_size", (json_int_t)size, "first_page_url", first, "previous_page_url",
	              prev, "url", self, "next_page_url", next, "key", key);
	free(first);
	free(self);
	free(prev);
	free(next);
	return m;
}

static int by_created_desc(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "_created"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "_created"));
	return x < y ? 1 : x > y ? -1 : 0;
}

/* Pages `items` (an array of stored objects) into {key: [...], meta}. */
void ml_tw_answer_list(struct ml_http_resp *resp, const char *key, char *base, json_t *items,
                       long size, long page)
{
	size_t n = json_array_size(items);
	json_t **v = ml_calloc(n ? n : 1, sizeof *v), *out = json_array();
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(items, i);
	qsort(v, n, sizeof *v, by_created_desc);
	size_t from = (size_t)(size * page);
	for (size_t i = from; i < n && i < from + (size_t)size; i++)
		json_array_append_new(out, ml_tw_public(v[i]));
	ml_resp_json(resp, 200,
	             json_pack("{s:o, s:o}", key, out, "meta",
	                       meta(key, base, size, page, from + (size_t)size < n)));
	free(v);
	free(base);
	json_decref(items);
}

bool ml_tw_created_in(struct ml_http_req *req, const json_t *o)
{
	const char *after = ml_http_query(req, "DateCreatedAfter"),
	           *before = ml_http_query(req, "DateCreatedBefore");
	int64_t t = json_integer_value(json_object_get(o, "_created")), lim;
	if (after && ml_time_parse(after, &lim) == 0 && t < lim)
		return false;
	if (before && ml_time_parse(before, &lim) == 0 && t > lim)
		return false;
	return true;
}

static bool list_match(struct ml_http_req *req, const json_t *acct, const char *st, const json_t *r)
{
	return !strcmp(ml_sb_str(r, "account_sid"), ml_sb_str(acct, "sid")) &&
	       (!st || !strcmp(ml_sb_str(r, "status"), st)) && ml_tw_created_in(req, r);
}

void ml_tw_list_rooms(struct ml_http_req *req, struct ml_http_resp *resp)
{
	json_t *acct = ml_tw_auth(req, resp), *r;
	const char *st = ml_http_query(req, "Status"), *un = ml_http_query(req, "UniqueName"), *k;
	long size, page;
	if (!acct || !ml_tw_paging(req, resp, &size, &page))
		return;
	ml_tw_tick(req->user);
	if (st && strcmp(st, "in-progress") && strcmp(st, "completed") && strcmp(st, "failed")) {
		ml_tw_err(resp, 400, 20001, "Invalid Status: %s", st);
		return;
	}
	json_t *items = json_array(), *rooms = json_object_get(req->user, "rooms"), *sid;
	size_t i;
	/* With a UniqueName, only the rooms of that name (the index keeps the rooms' order). */
	if (un)
		json_array_foreach(ml_tw_rooms_named(req->user, un), i,
		                   sid) if ((r = json_object_get(rooms, json_string_value(sid))) &&
		                            !strcmp(ml_sb_str(r, "unique_name"), un) &&
		                            list_match(req, acct, st, r))
		    json_array_append(items, r);
	if (!un)
		json_object_foreach(rooms, k, r) if (list_match(req, acct, st, r))
		    json_array_append(items, r);
	ml_tw_answer_list(resp, "rooms", ml_tw_api_url("/Rooms"), items, size, page);
}
