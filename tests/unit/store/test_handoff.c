/* Jobs handed to a worker as the transaction that wrote them commits (store.h, struct
 * ml_job_taker), on a real SQLite store: a job due now and first of its group commits
 * claimed and is delivered after the commit, never before it nor after a rollback; a job
 * behind an unfinished one of its group, a job for later, a parked job, a job cancelled in
 * its own transaction and a job the taker has no room for stay queued for the regular claim
 * (which does not take a job its batch is handing over); a parked job woken is handed over
 * too; every reservation is delivered or released; with the taker removed nothing is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/timeutil.h"
#include "store/store.h"

#include "../tmpstore.h"

struct taker_state {
	int room;      /* reservations allowed at once */
	int reserved;  /* outstanding */
	int delivered, released;
	struct ml_job got[8];
	bool in_tx;    /* a write callback is running: nothing may be delivered yet */
	bool early;    /* something was */
};

static struct taker_state ts;

static bool t_reserve(void *arg, const char *kind)
{
	(void)arg;
	(void)kind;
	if (ts.reserved >= ts.room)
		return false;
	ts.reserved++;
	return true;
}

static void t_deliver(void *arg, struct ml_job *job)
{
	(void)arg;
	if (ts.in_tx)
		ts.early = true;
	ts.reserved--;
	if (ts.delivered < 8)
		ts.got[ts.delivered] = *job;
	else
		ml_job_free(job);
	ts.delivered++;
	free(job);
}

static void t_release(void *arg)
{
	(void)arg;
	ts.reserved--;
	ts.released++;
}

static const struct ml_job_taker taker = {t_reserve, t_deliver, t_release, NULL, "wrk_test",
					  60000};

struct enq {
	const char *group;
	int64_t run_at;
	const char *wait_key;
	bool cancel;   /* cancel the group's jobs of this kind in the same transaction */
	bool fail;     /* roll the transaction back */
	bool claim;    /* claim in the same transaction, after enqueuing */
	int claimed;
	char id[40];
};

static int enq_fn(struct ml_tx *tx, void *arg)
{
	struct enq *q = arg;
	ts.in_tx = true;
	json_t *p = json_pack("{s:s}", "booking_id", "bkg_1");
	struct ml_job_new j = {"org_1", "test.kind", q->group, NULL, p, q->run_at, 3, q->wait_key,
			       q->wait_key ? "waiting" : NULL};
	int rc = ml_tx_job_enqueue(tx, &j, q->id);
	json_decref(p);
	if (rc == 0 && q->cancel)
		rc = ml_tx_job_cancel_group(tx, q->group, "test.kind");
	if (rc >= 0 && q->claim) {
		struct ml_job *jobs = NULL;
		rc = ml_tx_job_claim(tx, "wrk_other", ml_now_ms(), 60000, 10, &jobs, &q->claimed);
		for (int i = 0; i < q->claimed; i++)
			ml_job_free(&jobs[i]);
		free(jobs);
	}
	ts.in_tx = false;
	if (rc >= 0 && q->fail)
		return ml_error_set(ML_EINVAL, "test", NULL, "rolled back on purpose");
	return rc < 0 ? rc : 0;
}

static int finish_fn(struct ml_tx *tx, void *arg)
{
	struct ml_job_finish f = {ML_JOB_DONE, 0, NULL, NULL, NULL, NULL};
	return ml_tx_job_finish(tx, arg, "wrk_test", &f, 1, 3);
}

struct row {
	const char *id;
	char state[16];
	int attempts;
};

static int row_fn(struct ml_tx *tx, void *arg)
{
	struct row *r = arg;
	json_t *items = NULL;
	struct ml_list_query q = {.limit = 100};
	char *next = NULL;
	int rc = ml_tx_job_list(tx, "org_1", NULL, NULL, &q, &items, &next);
	free(next);
	size_t i;
	json_t *it;
	r->state[0] = 0;
	json_array_foreach(items, i, it)
	{
		if (strcmp(json_string_value(json_object_get(it, "id")), r->id) != 0)
			continue;
		snprintf(r->state, sizeof r->state, "%s",
			 json_string_value(json_object_get(it, "state")));
		r->attempts = (int)json_integer_value(json_object_get(it, "attempts"));
	}
	json_decref(items);
	return rc;
}

static struct row last_row;

static const char *state_of(struct env *e, const char *id)
{
	last_row.id = id;
	assert_int_equal(ml_store_read(e->store, row_fn, &last_row), 0);
	return last_row.state;
}

static int setup(void **state)
{
	memset(&ts, 0, sizeof ts);
	ts.room = 8;
	int rc = tmpstore_setup(state);
	struct env *e = *state;
	assert_int_equal(ml_store_set_job_taker(e->store, &taker), 0);
	return rc;
}

static int teardown(void **state)
{
	for (int i = 0; i < ts.delivered && i < 8; i++)
		ml_job_free(&ts.got[i]);
	return tmpstore_teardown(state);
}

static void test_due_job_is_delivered_claimed_after_commit(void **state)
{
	struct env *e = *state;
	struct enq q = {.group = "bkg_1"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &q), 0);
	assert_int_equal(ts.delivered, 1);
	assert_false(ts.early);
	assert_int_equal(ts.reserved, 0);
	assert_string_equal(ts.got[0].id, q.id);
	assert_string_equal(ts.got[0].kind, "test.kind");
	assert_string_equal(ts.got[0].org_id, "org_1");
	assert_string_equal(ts.got[0].group_key, "bkg_1");
	assert_int_equal(ts.got[0].attempts, 1);
	assert_int_equal(ts.got[0].max_attempts, 3);
	assert_non_null(strstr(ts.got[0].payload_text, "bkg_1"));
	/* Committed as claimed: the regular claim cannot take it a second time. */
	assert_string_equal(state_of(e, q.id), "running");
	assert_int_equal(last_row.attempts, 1);
	struct enq again = {.group = "other", .claim = true};
	assert_int_equal(ml_store_write(e->store, enq_fn, &again), 0);
	assert_int_equal(again.claimed, 0); /* neither the first job nor its own */
	assert_int_equal(ts.delivered, 2);
	assert_string_equal(ts.got[1].id, again.id);
	/* The outcome is recorded under the taker's name, as for a claim. */
	assert_int_equal(ml_store_write(e->store, finish_fn, q.id), 0);
	assert_string_equal(state_of(e, q.id), "done");
}

static void test_rolled_back_job_is_never_delivered(void **state)
{
	struct env *e = *state;
	struct enq q = {.group = "bkg_1", .fail = true};
	assert_true(ml_store_write(e->store, enq_fn, &q) < 0);
	assert_int_equal(ts.delivered, 0);
	assert_int_equal(ts.reserved, 0);
	assert_string_equal(state_of(e, q.id), ""); /* not written at all */
}

static void test_ineligible_jobs_stay_queued(void **state)
{
	struct env *e = *state;
	struct enq first = {.group = "bkg_1"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &first), 0);
	assert_int_equal(ts.delivered, 1);

	/* Behind an unfinished job of its group. */
	struct enq behind = {.group = "bkg_1"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &behind), 0);
	assert_string_equal(state_of(e, behind.id), "queued");
	/* Due later; parked; cancelled in its own transaction. */
	struct enq later = {.group = "bkg_2", .run_at = ml_now_ms() + 60000};
	assert_int_equal(ml_store_write(e->store, enq_fn, &later), 0);
	assert_string_equal(state_of(e, later.id), "queued");
	struct enq parked = {.group = "bkg_3", .wait_key = "conn_1"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &parked), 0);
	assert_string_equal(state_of(e, parked.id), "waiting");
	struct enq cancelled = {.group = "bkg_4", .cancel = true};
	assert_int_equal(ml_store_write(e->store, enq_fn, &cancelled), 0);
	assert_string_equal(state_of(e, cancelled.id), "cancelled");
	assert_int_equal(ts.delivered, 1);
	assert_int_equal(ts.reserved, 0); /* what was reserved for it went back */

	/* No room: left for the regular claim, which finds it. */
	ts.room = 0;
	struct enq full = {.group = "bkg_5"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &full), 0);
	assert_string_equal(state_of(e, full.id), "queued");
	struct enq claim = {.group = "bkg_6", .claim = true};
	assert_int_equal(ml_store_write(e->store, enq_fn, &claim), 0);
	/* bkg_5's; not its own: a claim passes over what its batch may hand over (the
	 * taker, refusing, has the worker claim again: queue/worker.c) */
	assert_int_equal(claim.claimed, 1);
	assert_string_equal(state_of(e, claim.id), "queued");
	assert_int_equal(ts.delivered, 1);
	assert_int_equal(ts.reserved, 0);
}

static int wake_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_job_wake(tx, arg) == 1 ? 0 : -1;
}

/* A parked job woken (the host reconnected) is handed over like a new one. */
static void test_woken_job_is_handed_over(void **state)
{
	struct env *e = *state;
	struct enq parked = {.group = "bkg_3", .wait_key = "conn_1"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &parked), 0);
	assert_int_equal(ts.delivered, 0);
	assert_int_equal(ml_store_write(e->store, wake_fn, "conn_1"), 0);
	assert_int_equal(ts.delivered, 1);
	assert_string_equal(ts.got[0].id, parked.id);
	assert_string_equal(state_of(e, parked.id), "running");
}

static void test_no_taker_no_handover(void **state)
{
	struct env *e = *state;
	assert_int_equal(ml_store_set_job_taker(e->store, NULL), 0);
	struct enq q = {.group = "bkg_1"};
	assert_int_equal(ml_store_write(e->store, enq_fn, &q), 0);
	assert_int_equal(ts.delivered, 0);
	assert_string_equal(state_of(e, q.id), "queued");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_due_job_is_delivered_claimed_after_commit, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_rolled_back_job_is_never_delivered, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_ineligible_jobs_stay_queued, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_woken_job_is_handed_over, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_taker_no_handover, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
