/* Writes the caller does not wait for (ml_store_write_async), on a real SQLite store: done is
 * called once, after the batch is durable (a read made from inside done already sees what fn
 * wrote), with fn's result; a refusing fn's changes roll back alone, the rest of its batch
 * commits; writes still queued when the store closes are all carried out and reported. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/store.h"

#include "../tmpstore.h"

#define ORG "org_test"

struct aw {
	const char *id;
	bool refuse; /* write, then answer < 0 */
	int runs;
	int done_calls, done_rc;
	int read_on_done; /* a read made when done was called: 0 found, ML_ENOTFOUND not */
	struct ml_store *store;
	pthread_mutex_t *mu;
	pthread_cond_t *cv;
	int *pending;
};

static int aw_fn(struct ml_tx *tx, void *arg)
{
	struct aw *a = arg;
	a->runs++;
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", a->id, "status", "confirmed",
				"created_at", "2026-11-21T10:00:00Z", "updated_at",
				"2026-11-21T10:00:00Z", "start", "2026-12-01T10:00:00Z");
	int rc = ml_tx_doc_insert(tx, ML_KIND_BOOKING, ORG, doc);
	json_decref(doc);
	if (rc < 0)
		return rc;
	return a->refuse ? ml_error_set(ML_ECONFLICT, "refused", NULL, "refused") : 0;
}

static int get_fn(struct ml_tx *tx, void *arg)
{
	json_t *doc = NULL;
	int rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, ORG, arg, &doc);
	json_decref(doc);
	return rc;
}

static void aw_done(void *arg, int rc)
{
	struct aw *a = arg;
	/* (A read goes to a reader connection, never to the writer this runs on.) */
	a->read_on_done = ml_store_read(a->store, get_fn, (void *)a->id);
	pthread_mutex_lock(a->mu);
	a->done_calls++;
	a->done_rc = rc;
	(*a->pending)--;
	pthread_cond_broadcast(a->cv);
	pthread_mutex_unlock(a->mu);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int pending;

static void wait_all(void)
{
	pthread_mutex_lock(&mu);
	while (pending > 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
}

static void test_done_after_commit(void **state)
{
	struct env *e = *state;
	static const char *ids[] = {"bkg_a1", "bkg_a2", "bkg_a3", "bkg_a4"};
	struct aw a[4];
	pending = 4;
	for (int i = 0; i < 4; i++) {
		a[i] = (struct aw){.id = ids[i], .refuse = i == 2, .store = e->store, .mu = &mu,
				   .cv = &cv, .pending = &pending};
		assert_int_equal(
		    ml_store_write_async(e->store, aw_fn, &a[i], aw_done, &a[i]), 0);
	}
	wait_all();
	for (int i = 0; i < 4; i++) {
		assert_int_equal(a[i].runs, 1);
		assert_int_equal(a[i].done_calls, 1);
		if (i == 2) {
			/* refused: its own insert rolled back, the others' kept */
			assert_int_equal(a[i].done_rc, ML_ECONFLICT);
			assert_int_equal(a[i].read_on_done, ML_ENOTFOUND);
			assert_int_equal(ml_store_read(e->store, get_fn, (void *)ids[i]),
					 ML_ENOTFOUND);
		} else {
			assert_int_equal(a[i].done_rc, 0);
			assert_int_equal(a[i].read_on_done, 0); /* committed before done */
			assert_int_equal(ml_store_read(e->store, get_fn, (void *)ids[i]), 0);
		}
	}
}

/* Written with ml_store_write by another thread while async writes are queued: both kinds go
 * through the same batches. */
static void *sync_writer(void *arg)
{
	struct aw *a = arg;
	ml_store_write(a->store, aw_fn, a);
	return NULL;
}

static void test_mixed_with_waiting_writes(void **state)
{
	struct env *e = *state;
	enum { N = 64 };
	struct aw a[N], s[N];
	char ids[N][2][24];
	pthread_t th[N];
	pending = N;
	for (int i = 0; i < N; i++) {
		snprintf(ids[i][0], sizeof ids[i][0], "bkg_async_%d", i);
		snprintf(ids[i][1], sizeof ids[i][1], "bkg_sync_%d", i);
		a[i] = (struct aw){.id = ids[i][0], .store = e->store, .mu = &mu, .cv = &cv,
				   .pending = &pending};
		s[i] = (struct aw){.id = ids[i][1], .store = e->store, .mu = &mu, .cv = &cv,
				   .pending = &pending};
		assert_int_equal(pthread_create(&th[i], NULL, sync_writer, &s[i]), 0);
		ml_store_write_async(e->store, aw_fn, &a[i], aw_done, &a[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	wait_all();
	for (int i = 0; i < N; i++) {
		assert_int_equal(a[i].done_calls, 1);
		assert_int_equal(a[i].done_rc, 0);
		assert_int_equal(a[i].read_on_done, 0);
		assert_int_equal(ml_store_read(e->store, get_fn, ids[i][0]), 0);
		assert_int_equal(ml_store_read(e->store, get_fn, ids[i][1]), 0);
	}
}

/* Closing the store carries out what is queued: every write is reported, and durable. */
static void test_close_drains(void **state)
{
	(void)state;
	char dir[64] = "/tmp/ml-test-XXXXXX", url[128], cmd[128];
	assert_non_null(mkdtemp(dir));
	snprintf(url, sizeof url, "sqlite:%s/t.db", dir);
	struct ml_store *st;
	assert_int_equal(ml_store_open(&st, url), 0);
	assert_true(ml_store_migrate(st) >= 0);
	enum { N = 200 };
	static struct aw a[N];
	static char ids[N][24];
	pending = N;
	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof ids[i], "bkg_close_%d", i);
		a[i] = (struct aw){.id = ids[i], .store = st, .mu = &mu, .cv = &cv, .pending = &pending};
		ml_store_write_async(st, aw_fn, &a[i], aw_done, &a[i]);
	}
	ml_store_close(st);
	assert_int_equal(pending, 0);
	assert_int_equal(ml_store_open(&st, url), 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(a[i].done_calls, 1);
		assert_int_equal(a[i].read_on_done, 0);
		assert_int_equal(ml_store_read(st, get_fn, ids[i]), 0);
	}
	ml_store_close(st);
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_done_after_commit, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_mixed_with_waiting_writes, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test(test_close_drains),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
