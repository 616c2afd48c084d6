/* A host's "scheduled" meetings, kept up to date, paged by cursor (lock held).
 *
 * GET /users/{userId}/meetings?type=scheduled is what a client pages through to find its
 * meeting (meetlink's Zoom lookup: 300 a page, thousands of meetings per host in make chaos).
 * Building each page from the host's every meeting made a page cost the host's size, and a
 * walk its square: the sandbox saturated at 20,000 bookings. Here each host has the list of
 * its scheduled meetings (not deleted, not expired, not instant), oldest first, appended by a
 * create and shrunk by a delete; a change the list cannot follow cheaply (a type or host
 * change, a recovered meeting) drops it and the next page rebuilds it from the root. A page
 * costs its own size plus a binary search.
 *
 * Order and cursor: a meeting's place is its position in root["meetings"] (jansson keeps
 * insertion order, and meetings are never removed from it: a delete marks them), so it stays
 * the same across rebuilds. The next_page_token names the state generation, the last place
 * returned and when it was issued: pages stay consistent while meetings are created and
 * deleted between them (nothing skipped, nothing twice), and a token lives 15 minutes, as
 * Zoom's do (then 400, code 300, like a token that was never issued).
 *
 * Outside the root, like sbindex.h: GET /_sandbox/state, --state and reset see nothing of it.
 */
#include "core/mem.h"
#include "sandbox/zoom_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_TTL_S (15 * 60)

struct item {
	uint64_t place; /* position in root["meetings"] */
	json_int_t id;
};

struct host {
	char *id;
	struct item *v;
	size_t n, cap;
};

static struct {
	const json_t *root; /* compared, never dereferenced */
	uint64_t gen;
	bool built;
	struct host *hosts;
	size_t nhosts;
} L;

static void drop_all(void)
{
	for (size_t i = 0; i < L.nhosts; i++) {
		free(L.hosts[i].id);
		free(L.hosts[i].v);
	}
	free(L.hosts);
	L.hosts = NULL;
	L.nhosts = 0;
	L.built = false;
}

static struct host *host_get(const char *id, bool make)
{
	for (size_t i = 0; i < L.nhosts; i++)
		if (strcmp(L.hosts[i].id, id) == 0)
			return &L.hosts[i];
	if (!make)
		return NULL;
	L.hosts = ml_realloc(L.hosts, (L.nhosts + 1) * sizeof *L.hosts);
	L.hosts[L.nhosts] = (struct host){.id = ml_strdup(id)};
	return &L.hosts[L.nhosts++];
}

static void push(struct host *h, uint64_t place, json_int_t id)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = ml_realloc(h->v, h->cap * sizeof *h->v);
	}
	h->v[h->n++] = (struct item){place, id};
}

/* In a host's scheduled list: what type=scheduled showed when it walked every meeting. */
static bool scheduled(const json_t *rec)
{
	const json_t *m = json_object_get(rec, "object");
	return json_is_object(m) && !json_is_true(json_object_get(rec, "deleted")) &&
	       !json_is_true(json_object_get(rec, "expired")) &&
	       json_integer_value(json_object_get(m, "type")) != 1 && ml_sb_str(m, "host_id");
}

/* Rebuilds the lists when they do not describe `root` as it is now. */
static void sync(json_t *root)
{
	uint64_t gen = ml_sb_state_gen();
	if (L.built && L.root == root && L.gen == gen)
		return;
	drop_all();
	L.root = root;
	L.gen = gen;
	L.built = true;
	const char *k;
	json_t *rec;
	uint64_t place = 0;
	json_object_foreach(json_object_get(root, "meetings"), k, rec)
	{
		if (scheduled(rec)) {
			const json_t *m = json_object_get(rec, "object");
			push(host_get(ml_sb_str(m, "host_id"), true), place,
			     json_integer_value(json_object_get(m, "id")));
		}
		place++;
	}
}

static bool current(const json_t *root)
{
	return L.built && L.root == root && L.gen == ml_sb_state_gen();
}

void ml_zoom_sched_created(json_t *root, const json_t *rec)
{
	/* Lists not built for this root: the next page builds them, this meeting included. */
	if (!current(root) || !scheduled(rec))
		return;
	const json_t *m = json_object_get(rec, "object");
	push(host_get(ml_sb_str(m, "host_id"), true),
	     (uint64_t)json_object_size(json_object_get(root, "meetings")) - 1,
	     json_integer_value(json_object_get(m, "id")));
}

void ml_zoom_sched_removed(json_t *root, const json_t *m)
{
	const char *host_id = ml_sb_str(m, "host_id");
	struct host *h = current(root) && host_id ? host_get(host_id, false) : NULL;
	json_int_t id = json_integer_value(json_object_get(m, "id"));
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].id == id) {
			memmove(&h->v[i], &h->v[i + 1], (h->n - i - 1) * sizeof *h->v);
			h->n--;
			return;
		}
}

void ml_zoom_sched_drop(void)
{
	drop_all();
}

json_t *ml_zoom_list_item(const json_t *m)
{
	static const char *const keys[] = {"uuid",       "id",       "host_id",  "topic",
	                                   "type",       "start_time", "duration", "timezone",
	                                   "agenda",     "created_at", "join_url", NULL};
	json_t *item = json_object();
	for (int k = 0; keys[k]; k++)
		if (json_object_get(m, keys[k]))
			json_object_set(item, keys[k], json_object_get(m, keys[k]));
	return item;
}

/* The place after which a page starts: 0 with *first when there is no token; false for a
 * token that is malformed, of another state or expired. */
static bool token_parse(const char *t, uint64_t *after, bool *first)
{
	unsigned long long gen, place, at;
	int used = 0;
	*first = !t || !*t;
	*after = 0;
	if (*first)
		return true;
	if (sscanf(t, "%llx.%llx.%llx%n", &gen, &place, &at, &used) != 3 || t[used] ||
	    gen != ml_sb_state_gen() || ml_sb_now() - (int64_t)at > TOKEN_TTL_S)
		return false;
	*after = place;
	return true;
}

/* The first index whose place is beyond `after` (places rise along a list). */
static size_t first_after(const struct host *h, uint64_t after)
{
	size_t lo = 0, hi = h->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (h->v[mid].place <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void ml_zoom_sched_page(struct ml_http_resp *resp, json_t *root, const char *host_id,
                        long size, const char *token)
{
	uint64_t after;
	bool first;
	if (!token_parse(token, &after, &first)) {
		ml_zoom_err(resp, 400, 300, "The next page token is invalid or expired.");
		return;
	}
	sync(root);
	const struct host *h = host_get(host_id, false);
	size_t n = h ? h->n : 0, i = h && !first ? first_after(h, after) : 0, from = i;
	json_t *meetings = json_object_get(root, "meetings"), *page = json_array();
	uint64_t last = 0;
	for (; i < n && json_array_size(page) < (size_t)size; i++) {
		char key[24];
		snprintf(key, sizeof key, "%" JSON_INTEGER_FORMAT, h->v[i].id);
		const json_t *rec = json_object_get(meetings, key);
		/* Checked against the stored meeting: a list only has to hold every match. */
		if (!rec || !scheduled(rec) ||
		    strcmp(ml_sb_str(json_object_get(rec, "object"), "host_id"), host_id) != 0)
			continue;
		json_array_append_new(page, ml_zoom_list_item(json_object_get(rec, "object")));
		last = h->v[i].place;
	}
	char next[80] = "";
	if (i < n)
		snprintf(next, sizeof next, "%" PRIx64 ".%" PRIx64 ".%" PRIx64, ml_sb_state_gen(),
		         last, (uint64_t)ml_sb_now());
	ml_resp_json(resp, 200,
	             json_pack("{s:I, s:I, s:I, s:I, s:s, s:o}", "page_size", (json_int_t)size,
	                       "total_records", (json_int_t)n, "page_count",
	                       (json_int_t)((n + (size_t)size - 1) / (size_t)size), "page_number",
	                       (json_int_t)(from / (size_t)size + 1), "next_page_token", next,
	                       "meetings", page));
}
