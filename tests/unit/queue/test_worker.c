/* The worker on a real SQLite store. With a job kind that finishes at once: a backlog many
 * times the claim window drains claim after claim, without waiting for the idle poll (each
 * full claim says more is due), and every outcome commits with its callback. With a call to
 * a server that never answers (and no timeout of its own): the call is abandoned before the
 * job's lease runs out, and the job is retried. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

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

/* --- a call that outlives the lease --- */

static atomic_int hang_code = -1;
static atomic_llong hang_at;
static char hang_url[64];

static void hang_start(struct ml_job_run *run)
{
	CURL *easy = curl_easy_init();
	curl_easy_setopt(easy, CURLOPT_URL, hang_url); /* no timeout of its own */
	ml_job_run_http(run, easy);
}

static void hang_on_http(struct ml_job_run *run, const struct ml_http_result *res)
{
	atomic_store(&hang_code, (int)res->code);
	atomic_store(&hang_at, (long long)ml_mono_ms());
	ml_job_run_retry(run, 600000, res->error);
}

static const struct ml_job_handler hang = {"test.hang", hang_start, hang_on_http, NULL, NULL};
static const struct ml_job_handler *const hang_handlers[] = {&hang, NULL};

static int enq_hang_fn(struct ml_tx *tx, void *arg)
{
	(void)arg;
	json_t *p = json_object();
	struct ml_job_new j = {"org_1", "test.hang", NULL, NULL, p, 0, 3};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(p);
	return rc;
}

static int queued_fn(struct ml_tx *tx, void *arg)
{
	json_t **items = arg;
	struct ml_list_query q = {.limit = 10};
	char *next = NULL;
	int rc = ml_tx_job_list(tx, "org_1", "queued", NULL, &q, items, &next);
	free(next);
	return rc;
}

static void test_call_abandoned_before_the_lease_runs_out(void **state)
{
	struct env *e = *state;
	/* A server that accepts connections (the kernel does, from the backlog) and never
	 * answers. */
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof a;
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
	snprintf(hang_url, sizeof hang_url, "http://127.0.0.1:%d/", ntohs(a.sin_port));
	assert_int_equal(ml_store_write(e->store, enq_hang_fn, NULL), 0);

	/* A 6 s lease: the run's calls must end by 4.5 s after the claim. */
	struct ml_worker_config cfg = {.store = e->store, .handlers = hang_handlers,
				       .max_inflight = 4, .lease_ms = 6000};
	struct ml_worker *w;
	int64_t t0 = ml_mono_ms();
	assert_int_equal(ml_worker_start(&w, &cfg), 0);
	while (atomic_load(&hang_code) < 0 && ml_mono_ms() - t0 < 20000)
		usleep(10000);
	int64_t took = atomic_load(&hang_at) - t0;
	/* The outcome commits while the lease holds: the job is queued again. */
	json_t *items = NULL;
	for (int i = 0; i < 100 && json_array_size(items) == 0; i++) {
		json_decref(items);
		items = NULL;
		usleep(10000);
		assert_int_equal(ml_store_read(e->store, queued_fn, &items), 0);
	}
	ml_worker_stop(w);
	close(fd);
	assert_int_equal(atomic_load(&hang_code), CURLE_OPERATION_TIMEDOUT);
	assert_true(took >= 4000 && took < 6000); /* at its deadline, before the lease ends */
	assert_int_equal(json_array_size(items), 1);
	assert_non_null(strstr(json_string_value(json_object_get(json_array_get(items, 0),
								 "last_error")),
			       "lease"));
	json_decref(items);
}

/* --- jobs handed over at their enqueue's commit --- */

static atomic_int prep_ro, prep_rw, written_before_start, handed_started;
static atomic_llong handed_at;

/* Writes the payload only in a write transaction, as a job with something durable to record
 * before its calls must (meeting jobs without idempotency keys). */
static int write_prepare(struct ml_tx *tx, struct ml_job_run *run)
{
	if (!json_object_get(run->job.payload, "writes"))
		return 0;
	if (!ml_tx_writable(tx)) {
		atomic_fetch_add(&prep_ro, 1);
		return ML_JOB_NEEDS_WRITE;
	}
	atomic_fetch_add(&prep_rw, 1);
	json_t *p = json_pack("{s:b, s:b}", "writes", 1, "prepared", 1);
	int rc = ml_tx_job_set_payload(tx, run->job.id, p);
	json_decref(p);
	return rc;
}

static int payload_fn(struct ml_tx *tx, void *arg)
{
	struct ml_job_run *run = arg;
	json_t *items = NULL;
	struct ml_list_query q = {.limit = 10};
	char *next = NULL;
	int rc = ml_tx_job_list(tx, "org_1", "running", NULL, &q, &items, &next);
	free(next);
	size_t i;
	json_t *it;
	json_array_foreach(items, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "id")), run->job.id) == 0 &&
		    json_object_get(json_object_get(it, "payload"), "prepared"))
			atomic_fetch_add(&written_before_start, 1);
	}
	json_decref(items);
	return rc;
}

static void handed_start(struct ml_job_run *run)
{
	if (json_object_get(run->job.payload, "writes"))
		ml_store_read(run->env->store, payload_fn, run);
	atomic_store(&handed_at, (long long)ml_mono_ms());
	atomic_fetch_add(&handed_started, 1);
	struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, NULL};
	ml_job_run_finish(run, &f, NULL, NULL);
}

static const struct ml_job_handler handed = {"test.handed", handed_start, noop_on_http, NULL,
					     write_prepare};
static const struct ml_job_handler *const handed_handlers[] = {&handed, NULL};

static int enq_handed_fn(struct ml_tx *tx, void *arg)
{
	json_t *p = arg ? json_pack("{s:b}", "writes", 1) : json_object();
	struct ml_job_new j = {"org_1", "test.handed", NULL, NULL, p, 0, 3};
	int rc = ml_tx_job_enqueue(tx, &j, NULL);
	json_decref(p);
	return rc;
}

/* A job written while the worker runs starts without a claim: with no notification and an
 * idle poll of 10 s, only the hand-over can start it in time. A prepare that writes runs
 * first on a read snapshot (and says so), then in a write transaction, durable before the
 * job starts. */
static void test_job_handed_over_at_commit(void **state)
{
	struct env *e = *state;
	struct ml_env env = {.store = e->store};
	struct ml_worker_config cfg = {.store = e->store, .env = &env, .handlers = handed_handlers,
				       .max_inflight = 4, .idle_poll_ms = 10000};
	struct ml_worker *w;
	assert_int_equal(ml_worker_start(&w, &cfg), 0);
	usleep(300 * 1000); /* its first claim (nothing to claim) is over */
	for (int i = 0; i < 2; i++) {
		int before = atomic_load(&handed_started);
		int64_t t0 = ml_mono_ms();
		assert_int_equal(ml_store_write(e->store, enq_handed_fn, i ? (void *)1 : NULL), 0);
		while (atomic_load(&handed_started) == before && ml_mono_ms() - t0 < 20000)
			usleep(2000);
		assert_int_equal(atomic_load(&handed_started), before + 1);
		assert_true(atomic_load(&handed_at) - t0 < 5000); /* well under the idle poll */
	}
	int done = 0;
	for (int i = 0; i < 200 && done < 2; i++) {
		usleep(10000);
		assert_int_equal(ml_store_read(e->store, done_fn, &done), 0);
	}
	ml_worker_stop(w);
	assert_int_equal(done, 2);
	assert_int_equal(atomic_load(&prep_ro), 1);
	assert_int_equal(atomic_load(&prep_rw), 1);
	assert_int_equal(atomic_load(&written_before_start), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_backlog_drains_without_idle_polls, tmpstore_setup,
					    tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_call_abandoned_before_the_lease_runs_out,
					    tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_job_handed_over_at_commit, tmpstore_setup,
					    tmpstore_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
