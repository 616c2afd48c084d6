/* GET /v1/jobs pages (ml_tx_job_list): every filter combination (state, group, both,
 * neither) gives the organization's matching jobs oldest first, page after page through the
 * cursor, and never another organization's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

static const char *const states[] = {"done", "failed", "queued", "done", "waiting", "failed"};

static int fill_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	/* 30 jobs per organization, groups g0..g2 in turn; states set below */
	for (int org = 0; org < 2; org++)
		for (int i = 0; i < 30; i++) {
			char group[8];
			snprintf(group, sizeof group, "g%d", i % 3);
			json_t *p = json_pack("{s:i}", "i", i);
			struct ml_job_new j = {org ? "org_b" : "org_a", "test.kind", group, NULL, p,
					       0, 3};
			int rc = ml_tx_job_enqueue(tx, &j, NULL);
			json_decref(p);
			if (rc < 0)
				return rc;
		}
	return 0;
}

struct listing {
	const char *org, *state, *group;
	int got[64];
	int n;
};

static int list_fn(struct ml_tx *tx, void *arg)
{
	struct listing *l = arg;
	struct ml_list_query q = {.limit = 2};
	char *cursor = NULL;
	l->n = 0;
	do {
		json_t *items = NULL;
		char *next = NULL;
		q.cursor = cursor;
		int rc = ml_tx_job_list(tx, l->org, l->state, l->group, &q, &items, &next);
		free(cursor);
		if (rc < 0)
			return rc;
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it)
		{
			json_t *p = json_object_get(it, "payload");
			l->got[l->n++] = (int)json_integer_value(json_object_get(p, "i"));
		}
		json_decref(items);
		cursor = next;
	} while (cursor && l->n < 60);
	free(cursor);
	return 0;
}

static void expect(struct ml_store *s, const char *org, const char *state, const char *group)
{
	struct listing l = {org, state, group, {0}, 0};
	assert_int_equal(ml_store_read(s, list_fn, &l), 0);
	int want[64], n = 0;
	for (int i = 0; i < 30; i++) {
		char g[8];
		snprintf(g, sizeof g, "g%d", i % 3);
		if ((!state || strcmp(states[i % 6], state) == 0) && (!group || strcmp(g, group) == 0))
			want[n++] = i;
	}
	assert_int_equal(l.n, n);
	for (int i = 0; i < n; i++)
		assert_int_equal(l.got[i], want[i]);
}

static void test_filters_and_pages(void **state)
{
	(void)state;
	char dir[] = "/tmp/ml-joblist-XXXXXX", url[96], cmd[96];
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct ml_store *s;
	assert_int_equal(ml_store_open(&s, url), 0);
	assert_true(ml_store_migrate(s) >= 1);
	assert_int_equal(ml_store_write(s, fill_fn, NULL), 0);
	ml_store_close(s);

	/* The states, written directly: job i of each organization gets states[i % 6]. */
	sqlite3 *db;
	char path[96];
	snprintf(path, sizeof path, "%s/t.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "UPDATE jobs SET state = CASE json_extract(payload, '$.i') % 6 "
				      "WHEN 0 THEN 'done' WHEN 1 THEN 'failed' WHEN 2 THEN 'queued' "
				      "WHEN 3 THEN 'done' WHEN 4 THEN 'waiting' ELSE 'failed' END",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);

	assert_int_equal(ml_store_open(&s, url), 0);
	static const char *const st[] = {NULL, "failed", "done", "queued", "running"};
	static const char *const gr[] = {NULL, "g1", "g2", "g9"};
	for (size_t i = 0; i < sizeof st / sizeof *st; i++)
		for (size_t j = 0; j < sizeof gr / sizeof *gr; j++)
			for (int org = 0; org < 2; org++)
				expect(s, org ? "org_b" : "org_a", st[i], gr[j]);
	struct listing none = {"org_c", NULL, NULL, {0}, 0};
	assert_int_equal(ml_store_read(s, list_fn, &none), 0);
	assert_int_equal(none.n, 0);
	ml_store_close(s);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_filters_and_pages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
