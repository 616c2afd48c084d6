/* The worker on a real SQLite store, with a job kind that finishes at once: a backlog many
 * times the claim window drains claim after claim, without waiting for the idle poll (each
 * full claim says more is due), and every outcome commits with its callback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/timeutil.h"
#include "queue/worker.h"
#include "store/store.h"

#include "../tmpstore.h"

#define JOBS 96

static atomic_int started;

static int count_commit(struct ml_tx *tx, void *arg)
{
	(void)tx;
	(void)arg;
	/* May run twice for one outcome (worker.h); counted per job below. */
	return 0;
}

static void noop_start(struct ml_job_run *run)
{
	atomic_fetch_add(&started, 1);
	struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, NULL};
	ml_job_run_finish(run, &f, count_commit, run);
}

static void noop_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	(void)run;
	(void)res;
}

static const struct ml_job_handler noop = {"test.noop", noop_start, noop_on_http, NULL, NULL};
static const struct ml_job_handler *const handlers[] = {&noop, NULL};

static int enq_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	for (int i = 0; i < JOBS; i++) {
		json_t *p = json_pack("{s:i}", "n", i);
		struct ml_job_new j = {"org_1", "test.noop", NULL, NULL, p, 0, 3};
		int rc = ml_tx_job_enqueue(tx, &j, NULL);
		json_decref(p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int done_fn(struct ml_tx *tx, void *arg)
{
	int *n = arg;
	json_t *items = NULL;
	struct ml_list_query q = {.limit = 200};
	char *next = NULL;
	int rc = ml_tx_job_list(tx, "org_1", "done", NULL, &q, &items, &next);
	free(next);
	*n = (int)json_array_size(items);
	json_decref(items);
	return rc;
}

static void test_backlog_drains_without_idle_polls(void **state)
{
	struct env *e = *state;
	assert_int_equal(ml_store_write(e->store, enq_fn, NULL), 0);

	/* 4 in flight, so up to 8 held: 96 jobs take 12 claims or more. An idle poll of 3 s
	 * between any two of them would show. */
	struct ml_worker_config cfg = {.store = e->store, .handlers = handlers, .max_inflight = 4,
				       .idle_poll_ms = 3000};
	struct ml_worker *w;
	int64_t t0 = ml_mono_ms();
	assert_int_equal(ml_worker_start(&w, &cfg), 0);
	int done = 0;
	while (done < JOBS && ml_mono_ms() - t0 < 20000) {
		usleep(5000);
		assert_int_equal(ml_store_read(e->store, done_fn, &done), 0);
	}
	int64_t took = ml_mono_ms() - t0;
	ml_worker_stop(w);
	assert_int_equal(done, JOBS);
	assert_int_equal(atomic_load(&started), JOBS);
	assert_true(took < 2500); /* under one idle poll for the whole backlog */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_backlog_drains_without_idle_polls, tmpstore_setup,
					    tmpstore_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
