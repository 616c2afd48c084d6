/* The durable queue on a real SQLite store: order per group, coalescing, leases, retries,
 * waiting on a connection, recovery after a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/timeutil.h"
#include "store/store.h"

#include "../tmpstore.h"

struct enq {
	const char *kind, *group, *coalesce;
	const char *tag;
	int64_t run_at;
	char id[40];
};

static int enq_fn(struct ml_tx *tx, void *arg)
{
	struct enq *q = arg;
	json_t *p = json_pack("{s:s}", "tag", q->tag);
	struct ml_job_new j = {"org_1", q->kind, q->group, q->coalesce, p, q->run_at, 3};
	int rc = ml_tx_job_enqueue(tx, &j, q->id);
	json_decref(p);
	return rc;
}

static void enqueue(struct env *e, struct enq *q)
{
	assert_int_equal(ml_store_write(e->store, enq_fn, q), 0);
}

struct claim {
	const char *worker;
	int max;
	int64_t now;
	struct ml_job *jobs;
	int n;
};

static int claim_fn(struct ml_tx *tx, void *arg)
{
	struct claim *c = arg;
	return ml_tx_job_claim(tx, c->worker, c->now ? c->now : ml_now_ms(), 60000, c->max,
			       &c->jobs, &c->n);
}

static void claim(struct env *e, struct claim *c)
{
	c->jobs = NULL;
	c->n = 0;
	assert_int_equal(ml_store_write(e->store, claim_fn, c), 0);
	for (int i = 0; i < c->n; i++)
		ml_job_load(&c->jobs[i]);
}

static void claim_free(struct claim *c)
{
	for (int i = 0; i < c->n; i++)
		ml_job_free(&c->jobs[i]);
	free(c->jobs);
}

struct fin {
	struct ml_job *job;
	const char *worker;
	struct ml_job_finish f;
};

static int fin_fn(struct ml_tx *tx, void *arg)
{
	struct fin *f = arg;
	return ml_tx_job_finish(tx, f->job->id, f->worker, &f->f, f->job->attempts,
				f->job->max_attempts);
}

static int finish(struct env *e, struct ml_job *j, const char *worker, enum ml_job_outcome o,
		  int64_t run_at, const char *wait_key)
{
	struct fin f = {j, worker, {o, run_at, wait_key, "boom", NULL, NULL, j->lease}};
	return ml_store_write(e->store, fin_fn, &f);
}

static const char *tag(struct ml_job *j)
{
	return json_string_value(json_object_get(j->payload, "tag"));
}

static void test_group_order(void **state)
{
	struct env *e = *state;
	struct enq a = {"meeting.create", "bkg_1", NULL, "create"};
	struct enq b = {"meeting.delete", "bkg_1", NULL, "delete"};
	struct enq other = {"meeting.create", "bkg_2", NULL, "other"};
	enqueue(e, &a);
	enqueue(e, &b);
	enqueue(e, &other);

	struct claim c = {"w1", 10};
	claim(e, &c);
	/* The delete of bkg_1 waits for its create; bkg_2 runs alongside. */
	assert_int_equal(c.n, 2);
	assert_string_equal(tag(&c.jobs[0]), "create");
	assert_string_equal(tag(&c.jobs[1]), "other");
	struct claim c2 = {"w2", 10};
	claim(e, &c2);
	assert_int_equal(c2.n, 0);
	assert_int_equal(finish(e, &c.jobs[0], "w1", ML_JOB_DONE, 0, NULL), 0);
	claim(e, &c2);
	assert_int_equal(c2.n, 1);
	assert_string_equal(tag(&c2.jobs[0]), "delete");
	claim_free(&c);
	claim_free(&c2);
}

/* An instant meeting's create (ML_JOB_RUN_FIRST) is claimed before every job already due,
 * whatever their number (issue 18 §4). */
static void test_run_first(void **state)
{
	struct env *e = *state;
	char groups[5][16], tags[5][16];
	for (int i = 0; i < 5; i++) {
		snprintf(groups[i], sizeof groups[i], "bkg_s%d", i);
		snprintf(tags[i], sizeof tags[i], "scheduled%d", i);
		struct enq q = {"meeting.create", groups[i], NULL, tags[i]};
		enqueue(e, &q);
	}
	struct enq now = {"meeting.create", "bkg_now", NULL, "instant", ML_JOB_RUN_FIRST};
	enqueue(e, &now);
	struct claim c = {"w1", 2};
	claim(e, &c);
	assert_int_equal(c.n, 2);
	assert_string_equal(tag(&c.jobs[0]), "instant");
	assert_string_equal(tag(&c.jobs[1]), "scheduled0");
	claim_free(&c);
}

static void test_coalesce(void **state)
{
	struct env *e = *state;
	struct enq u1 = {"meeting.update", "bkg_3", "bkg_3:update", "v1"};
	struct enq u2 = {"meeting.update", "bkg_3", "bkg_3:update", "v2"};
	enqueue(e, &u1);
	enqueue(e, &u2);
	assert_string_equal(u1.id, u2.id);
	struct claim c = {"w1", 10};
	claim(e, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(tag(&c.jobs[0]), "v2");
	/* Running jobs are not rewritten: a newer update queues behind. */
	struct enq u3 = {"meeting.update", "bkg_3", "bkg_3:update", "v3"};
	enqueue(e, &u3);
	assert_string_not_equal(u3.id, u1.id);
	claim_free(&c);
}

static void test_retry_then_failed(void **state)
{
	struct env *e = *state;
	struct enq a = {"email.send", NULL, NULL, "mail"};
	enqueue(e, &a);
	for (int attempt = 1; attempt <= 3; attempt++) {
		struct claim c = {"w1", 10};
		claim(e, &c);
		assert_int_equal(c.n, 1);
		assert_int_equal(c.jobs[0].attempts, attempt);
		assert_int_equal(finish(e, &c.jobs[0], "w1", ML_JOB_RETRY, 1, NULL), 0);
		claim_free(&c);
	}
	struct claim c = {"w1", 10};
	claim(e, &c);
	assert_int_equal(c.n, 0); /* 3 attempts used: failed, not retried */
}

static void test_lease_lost_and_expiry(void **state)
{
	struct env *e = *state;
	struct enq a = {"webhook.deliver", NULL, NULL, "hook"};
	enqueue(e, &a);
	struct claim c = {"w1", 10};
	claim(e, &c);
	assert_int_equal(c.n, 1);
	/* After the lease, another worker takes it; the first one's outcome is refused. */
	struct claim c2 = {"w2", 10, ml_now_ms() + 61000};
	claim(e, &c2);
	assert_int_equal(c2.n, 1);
	assert_int_equal(finish(e, &c.jobs[0], "w1", ML_JOB_DONE, 0, NULL) < 0, 1);
	assert_int_equal(finish(e, &c2.jobs[0], "w2", ML_JOB_DONE, 0, NULL), 0);
	claim_free(&c);
	claim_free(&c2);
}

struct renew {
	const char *worker;
	int64_t until;
	struct ml_job_lease l;
};

static int renew_fn(struct ml_tx *tx, void *arg)
{
	struct renew *r = arg;
	int n = ml_tx_job_renew(tx, r->worker, r->until, &r->l, 1);
	return n < 0 ? n : 0;
}

static enum ml_lease_state renew(struct env *e, const char *worker, struct ml_job *j,
				 int64_t until)
{
	struct renew r = {worker, until, {j->id, j->lease, ML_LEASE_BUSY}};
	assert_int_equal(ml_store_write(e->store, renew_fn, &r), 0);
	return r.l.state;
}

/* The holder's heartbeat keeps its lease past lease_ms; once it stops and the lease runs
 * out, another claim takes the job and the first holder can neither renew it nor write its
 * outcome. On a shared store the lease token also fences a claim by the same worker name. */
static void test_heartbeat(void **state)
{
	struct env *e = *state;
	struct enq a = {"email.send", NULL, NULL, "mail"};
	enqueue(e, &a);
	int64_t t0 = ml_now_ms();
	struct claim c = {"w1", 10, t0};
	claim(e, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(renew(e, "w1", &c.jobs[0], t0 + 120000), ML_LEASE_RENEWED);
	assert_int_equal(renew(e, "w2", &c.jobs[0], t0 + 120000), ML_LEASE_LOST);
	struct claim c2 = {"w2", 10, t0 + 61000};
	claim(e, &c2);
	assert_int_equal(c2.n, 0); /* renewed: not taken over at its first lease's end */
	struct claim c3 = {"w2", 10, t0 + 121000};
	claim(e, &c3);
	assert_int_equal(c3.n, 1);
	assert_int_equal(renew(e, "w1", &c.jobs[0], t0 + 180000), ML_LEASE_LOST);
	assert_int_equal(finish(e, &c.jobs[0], "w1", ML_JOB_DONE, 0, NULL) < 0, 1);
	if (ml_store_shared(e->store)) {
		/* w2's lease runs out too and w2 claims it again: its first claim is fenced. */
		struct claim c4 = {"w2", 10, t0 + 200000};
		claim(e, &c4);
		assert_int_equal(c4.n, 1);
		assert_true(c4.jobs[0].lease > c3.jobs[0].lease);
		assert_int_equal(renew(e, "w2", &c3.jobs[0], t0 + 260000), ML_LEASE_LOST);
		assert_int_equal(finish(e, &c3.jobs[0], "w2", ML_JOB_DONE, 0, NULL) < 0, 1);
		assert_int_equal(finish(e, &c4.jobs[0], "w2", ML_JOB_DONE, 0, NULL), 0);
		claim_free(&c4);
	} else {
		assert_int_equal(finish(e, &c3.jobs[0], "w2", ML_JOB_DONE, 0, NULL), 0);
	}
	claim_free(&c);
	claim_free(&c2);
	claim_free(&c3);
}

static int wake_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_job_wake(tx, arg);
}

static int recover_fn(struct ml_tx *tx, void *arg)
{
	*(int *)arg = ml_tx_job_recover(tx);
	return 0;
}

static int release_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_job_release(tx, arg);
}

static void test_wait_wake_and_recover(void **state)
{
	struct env *e = *state;
	struct enq a = {"meeting.create", "bkg_9", NULL, "c"};
	struct enq b = {"meeting.update", "bkg_9", NULL, "u"};
	enqueue(e, &a);
	enqueue(e, &b);
	struct claim c = {"w1", 10};
	claim(e, &c);
	assert_int_equal(c.n, 1);
	assert_int_equal(finish(e, &c.jobs[0], "w1", ML_JOB_WAIT, 0, "con_1"), 0);
	claim_free(&c);
	/* Waiting blocks the group and does not burn attempts. */
	claim(e, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(ml_store_write(e->store, wake_fn, "con_1"), 1);
	claim(e, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(tag(&c.jobs[0]), "c");
	assert_int_equal(c.jobs[0].attempts, 1);
	claim_free(&c);
	int n = 0;
	if (ml_store_shared(e->store)) {
		/* A shared store (PostgreSQL): a running job may be another live node's, so a
		 * start recovers nothing; a worker that stops cleanly releases its own. */
		assert_int_equal(ml_store_write(e->store, recover_fn, &n), 0);
		assert_int_equal(n, 0);
		claim(e, &c);
		assert_int_equal(c.n, 0);
		claim_free(&c);
		assert_int_equal(ml_store_write(e->store, release_fn, "w2"), 0);
		claim(e, &c);
		assert_int_equal(c.n, 0);
		claim_free(&c);
		assert_int_equal(ml_store_write(e->store, release_fn, "w1"), 1);
		claim(e, &c);
		assert_int_equal(c.n, 1);
		assert_string_equal(tag(&c.jobs[0]), "c");
		assert_int_equal(c.jobs[0].attempts, 1); /* the cut attempt is not counted */
		claim_free(&c);
		return;
	}
	/* The process dies with the job running: recovery makes it runnable at once. */
	assert_int_equal(ml_store_write(e->store, recover_fn, &n), 0);
	assert_int_equal(n, 1);
	claim(e, &c);
	assert_int_equal(c.n, 1);
	assert_string_equal(tag(&c.jobs[0]), "c");
	claim_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_order, tmpstore_setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_run_first, tmpstore_setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_coalesce, tmpstore_setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_retry_then_failed, tmpstore_setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_lease_lost_and_expiry, tmpstore_setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_wait_wake_and_recover, tmpstore_setup, tmpstore_teardown),
		cmocka_unit_test_setup_teardown(test_heartbeat, tmpstore_setup,
						tmpstore_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
