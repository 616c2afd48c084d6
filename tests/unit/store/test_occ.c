/* Optimistic transactions on a real SQLite store: what a committed run caches, the text it
 * hands back for the answer, a refusal resting on a stale cached document, a recording
 * that fails halfway through its writes in a batch applied without savepoints, and overlap
 * checks the writer asks again. */
#include <pthread.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/error.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "core/timeutil.h"
#include "store/doc_cache.h"
#include "store/sqlite/internal.h"
#include "store/store.h"

#include "../tmpstore.h"

#define ORG "org_test"

static json_t *booking(const char *id, const char *status)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", id, "status", status, "created_at",
			 "2026-11-21T10:00:00Z", "updated_at", "2026-11-21T10:00:00Z", "start",
			 "2026-12-01T10:00:00Z");
}

/* --- a transaction like an API step: read, check, change, write --- */

struct step {
	const char *id;
	const char *from, *to; /* refuse unless status == from */
	json_t *written;       /* the document written (a reference) */
	char *text;            /* ml_tx_doc_text of it */
	int runs;
};

static int step_fn(struct ml_tx *tx, void *arg)
{
	struct step *s = arg;
	json_t *doc;
	int rc;
	s->runs++;
	if ((rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, ORG, s->id, &doc)) < 0)
		return rc;
	if (strcmp(json_string_value(json_object_get(doc, "status")), s->from) != 0) {
		json_decref(doc);
		return ML_ECONFLICT;
	}
	json_object_set_new(doc, "status", json_string(s->to));
	if ((rc = ml_tx_doc_update(tx, ML_KIND_BOOKING, ORG, doc)) == 0) {
		s->written = json_incref(doc);
		s->text = ml_tx_doc_text(tx, doc);
	}
	json_decref(doc);
	return rc;
}

static void step_reset(void *arg)
{
	struct step *s = arg;
	json_decref(s->written);
	s->written = NULL;
	free(s->text);
	s->text = NULL;
}

static int insert_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_doc_insert(tx, ML_KIND_BOOKING, ORG, arg);
}

static int plain_update_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_doc_update(tx, ML_KIND_BOOKING, ORG, arg);
}

struct get {
	const char *id;
	json_t *doc;
};

static int get_fn(struct ml_tx *tx, void *arg)
{
	struct get *g = arg;
	return ml_tx_doc_get(tx, ML_KIND_BOOKING, ORG, g->id, &g->doc);
}

static char *stored_status(struct env *e, const char *id)
{
	struct get g = {id, NULL};
	assert_int_equal(ml_store_read(e->store, get_fn, &g), 0);
	char *out = strdup(json_string_value(json_object_get(g.doc, "status")));
	json_decref(g.doc);
	return out;
}

static void test_committed_write_is_cached_and_answered_as_stored(void **state)
{
	struct env *e = *state;
	char id[ML_ID_MAX];
	ml_id_new(id, "bkg");
	json_t *doc = booking(id, "pending");
	assert_int_equal(ml_store_write(e->store, insert_fn, doc), 0);
	json_decref(doc);

	struct step s = {.id = id, .from = "pending", .to = "confirmed"};
	assert_int_equal(ml_store_write_occ(e->store, step_fn, &s, step_reset, &s), 0);
	assert_int_equal(s.runs, 1); /* the optimistic run was applied as it was */
	assert_non_null(s.text);
	char *expect = json_dumps(s.written, ML_JSON_TEXT_FLAGS);
	assert_string_equal(s.text, expect);
	free(expect);

	/* The cache holds what was written, at the version it has now (1). */
	int64_t version = -1;
	json_t *cached = ml_doc_cache_get(ML_KIND_BOOKING, ORG, id, ML_CACHE_COPY, &version);
	assert_non_null(cached);
	assert_int_equal(version, 1);
	assert_string_equal(json_string_value(json_object_get(cached, "status")), "confirmed");
	json_decref(cached);
	/* Another organization never sees it. */
	assert_null(ml_doc_cache_get(ML_KIND_BOOKING, "org_other", id, ML_CACHE_COPY, &version));
	step_reset(&s);
}

static void test_refusal_on_a_stale_cached_document_is_checked(void **state)
{
	struct env *e = *state;
	char id[ML_ID_MAX];
	ml_id_new(id, "bkg");
	json_t *doc = booking(id, "pending");
	assert_int_equal(ml_store_write(e->store, insert_fn, doc), 0);

	/* The row moves on to "confirmed" (version 1) while the cache still holds the pending
	 * document at version 0, as a put that lost a race with the write would leave it. */
	json_t *v1 = booking(id, "confirmed");
	assert_int_equal(ml_store_write(e->store, plain_update_fn, v1), 0);
	json_decref(v1);
	ml_doc_cache_put(ML_KIND_BOOKING, ORG, id, 0, doc);
	json_decref(doc);

	/* confirmed -> completed: refused on the stale snapshot, so the refusal is checked
	 * against the database and the transaction runs again on what is really there. */
	struct step s = {.id = id, .from = "confirmed", .to = "completed"};
	assert_int_equal(ml_store_write_occ(e->store, step_fn, &s, step_reset, &s), 0);
	assert_int_equal(s.runs, 2);
	char *st = stored_status(e, id);
	assert_string_equal(st, "completed");
	free(st);
	step_reset(&s);

	/* A refusal resting on current documents stands, after one run. */
	struct step r = {.id = id, .from = "pending", .to = "confirmed"};
	assert_int_equal(ml_store_write_occ(e->store, step_fn, &r, step_reset, &r), ML_ECONFLICT);
	assert_int_equal(r.runs, 1);
	step_reset(&r);
}

static void test_cache_reads_copy_share_or_take(void **state)
{
	(void)state;
	int64_t v = -1;
	json_t *doc = booking("bkg_cachemodes000000000000", "pending");
	ml_doc_cache_put_shared(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000", 4, doc);

	json_t *copy = ml_doc_cache_get(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000",
					ML_CACHE_COPY, &v);
	assert_ptr_not_equal(copy, doc);
	assert_true(json_equal(copy, doc));
	assert_int_equal(v, 4);
	json_t *shared = ml_doc_cache_get(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000",
					  ML_CACHE_SHARE, &v);
	assert_ptr_equal(shared, doc);
	json_decref(shared);
	/* An older version never replaces a newer one. */
	json_t *old = booking("bkg_cachemodes000000000000", "stale");
	ml_doc_cache_put(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000", 3, old);
	json_decref(old);
	shared = ml_doc_cache_get(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000",
				  ML_CACHE_SHARE, &v);
	assert_ptr_equal(shared, doc);
	json_decref(shared);

	/* Taken while someone else (doc) still holds it: a copy, and the entry is gone. */
	json_t *taken = ml_doc_cache_get(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000",
					 ML_CACHE_TAKE, &v);
	assert_ptr_not_equal(taken, doc);
	assert_null(ml_doc_cache_get(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000",
				     ML_CACHE_COPY, &v));
	json_decref(taken);
	/* Taken when the cache is the only holder: the document itself. */
	ml_doc_cache_put_shared(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000", 5, doc);
	json_t *keep = doc;
	json_decref(doc); /* the cache's reference is the only one now */
	taken = ml_doc_cache_get(ML_KIND_BOOKING, ORG, "bkg_cachemodes000000000000",
				 ML_CACHE_TAKE, &v);
	assert_ptr_equal(taken, keep);
	assert_int_equal(v, 5);
	json_decref(copy);
	json_decref(taken);
}

static void test_ids_sort_by_creation_time(void **state)
{
	(void)state;
	char a[ML_ID_MAX], b[ML_ID_MAX];
	ml_id_new(a, "bkg");
	/* 2 ms later at least: the time part of b is larger. */
	struct timespec ts = {0, 2000000};
	nanosleep(&ts, NULL);
	ml_id_new(b, "bkg");
	assert_true(ml_id_valid(a, "bkg"));
	assert_true(ml_id_valid(b, "bkg"));
	assert_int_equal(strlen(a), 4 + 24);
	assert_true(strcmp(a, b) < 0);
	assert_true(strncmp(a, b, 4 + 9) != 0 || strcmp(a + 13, b + 13) != 0);
	/* Ids made in the same millisecond still differ (75 random bits). */
	char c[ML_ID_MAX], d[ML_ID_MAX];
	ml_id_new(c, "bkg");
	ml_id_new(d, "bkg");
	assert_string_not_equal(c, d);
}

/* --- a recording whose writes fail halfway, in a batch with one that succeeds --- */

static atomic_int writer_held, writer_release;

static int hold_writer_fn(struct ml_tx *tx, void *arg)
{
	(void)tx;
	(void)arg;
	atomic_store(&writer_held, 1);
	while (!atomic_load(&writer_release))
		usleep(1000);
	return 0;
}

static void *hold_writer(void *arg)
{
	struct env *e = arg;
	assert_int_equal(ml_store_write(e->store, hold_writer_fn, NULL), 0);
	return NULL;
}

/* The last write queued for the writer's next batch (NULL: none). */
static const void *queue_tail(struct env *e)
{
	struct sq_store *s = (struct sq_store *)e->store;
	pthread_mutex_lock(&s->mu);
	const void *t = s->tail;
	pthread_mutex_unlock(&s->mu);
	return t;
}

/* Starts fn(arg) on *t and returns once its write is queued behind the held writer (the
 * queue's tail moved): the next one started queues after it. The order the tests below are
 * about is the queue's, which a pause between the starts did not make certain on a loaded
 * machine (the third step queued before the second: unit/store/test_occ failed so once). */
static void start_queued(struct env *e, pthread_t *t, void *(*fn)(void *), void *arg)
{
	const void *before = queue_tail(e);
	assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
	for (int waited = 0; queue_tail(e) == before; waited++) {
		if (waited > 120 * 1000)
			fail_msg("a write was not queued within 120 s");
		usleep(1000);
	}
}

struct ext_create {
	struct env *e;
	char id[ML_ID_MAX];
	int runs, rc;
	char code[48];
};

/* An audit event first, then the booking with external_id "ext-1": the audit row is already
 * written when the insert hits the unique index. */
static int ext_create_fn(struct ml_tx *tx, void *arg)
{
	struct ext_create *x = arg;
	x->runs++;
	struct ml_audit ev = {ORG, x->id, "booking.created", "test", NULL, NULL};
	int rc = ml_tx_audit_append(tx, &ev);
	if (rc < 0)
		return rc;
	json_t *doc = booking(x->id, "pending");
	json_object_set_new(doc, "external_id", json_string("ext-1"));
	rc = ml_tx_doc_insert(tx, ML_KIND_BOOKING, ORG, doc);
	json_decref(doc);
	return rc;
}

/* Nothing to undo before a run again: the callbacks below keep no state between runs. */
static void no_reset(void *arg)
{
	(void)arg;
}

static void *ext_create(void *arg)
{
	struct ext_create *x = arg;
	x->rc = ml_store_write_occ(x->e->store, ext_create_fn, x, no_reset, x);
	snprintf(x->code, sizeof x->code, "%s", x->rc < 0 ? ml_error_code() : "");
	return NULL;
}

static int audit_count_fn(struct ml_tx *tx, void *arg)
{
	json_t *items;
	int rc = ml_tx_audit_list(tx, ORG, arg, &items);
	if (rc < 0)
		return rc;
	rc = (int)json_array_size(items);
	json_decref(items);
	return rc;
}

static void test_recording_failing_halfway_leaves_nothing(void **state)
{
	struct env *e = *state;
	pthread_t holder, t[2];
	struct ext_create x[2] = {{.e = e}, {.e = e}};
	ml_id_new(x[0].id, "bkg");
	ml_id_new(x[1].id, "bkg");

	/* Keep the writer busy so that both recordings queue behind it and go to the writer
	 * in one batch: both recorded on a snapshot where "ext-1" was free. */
	atomic_store(&writer_held, 0);
	atomic_store(&writer_release, 0);
	assert_int_equal(pthread_create(&holder, NULL, hold_writer, e), 0);
	while (!atomic_load(&writer_held))
		usleep(1000);
	for (int i = 0; i < 2; i++)
		start_queued(e, &t[i], ext_create, &x[i]);
	atomic_store(&writer_release, 1);
	pthread_join(holder, NULL);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);

	/* One won; the other ran again on the writer and got the real answer. */
	int win = x[0].rc == 0 ? 0 : 1, lose = 1 - win;
	assert_int_equal(x[win].rc, 0);
	assert_int_equal(x[win].runs, 1);
	assert_int_equal(x[lose].rc, ML_ECONFLICT);
	assert_string_equal(x[lose].code, "external_id_taken");
	assert_int_equal(x[lose].runs, 2);
	/* Nothing of the loser was kept (its audit row was written before the insert failed);
	 * all of the winner was. */
	assert_int_equal(ml_store_read(e->store, audit_count_fn, x[lose].id), 0);
	assert_int_equal(ml_store_read(e->store, audit_count_fn, x[win].id), 1);
	struct get g = {x[win].id, NULL};
	assert_int_equal(ml_store_read(e->store, get_fn, &g), 0);
	json_decref(g.doc);
	g = (struct get){x[lose].id, NULL};
	assert_int_equal(ml_store_read(e->store, get_fn, &g), ML_ENOTFOUND);
}

/* --- a batch whose recordings share the check of a service, while one of them changes it --- */

struct svc_step {
	struct env *e;
	const char *svc_id;
	char booking_id[ML_ID_MAX]; /* set: insert a booking named after the service */
	const char *rename;         /* set: rename the service instead */
	int runs, rc;
};

static int svc_step_fn(struct ml_tx *tx, void *arg)
{
	struct svc_step *x = arg;
	json_t *svc;
	int rc;
	x->runs++;
	if (x->rename) {
		if ((rc = ml_tx_doc_get(tx, ML_KIND_SERVICE, ORG, x->svc_id, &svc)) < 0)
			return rc;
		json_object_set_new(svc, "name", json_string(x->rename));
		rc = ml_tx_doc_update(tx, ML_KIND_SERVICE, ORG, svc);
		json_decref(svc);
		return rc;
	}
	if ((rc = ml_tx_doc_peek(tx, ML_KIND_SERVICE, ORG, x->svc_id, &svc)) < 0)
		return rc;
	json_t *doc = booking(x->booking_id, "pending");
	json_object_set(doc, "title", json_object_get(svc, "name"));
	json_decref(svc);
	rc = ml_tx_doc_insert(tx, ML_KIND_BOOKING, ORG, doc);
	json_decref(doc);
	return rc;
}

static void *svc_step(void *arg)
{
	struct svc_step *x = arg;
	x->rc = ml_store_write_occ(x->e->store, svc_step_fn, x, no_reset, x);
	return NULL;
}

static int svc_insert_fn(struct ml_tx *tx, void *arg)
{
	json_t *svc = json_pack("{s:s, s:s, s:s, s:s}", "id", (const char *)arg, "name", "Math",
				"created_at", "2026-11-21T10:00:00Z", "updated_at",
				"2026-11-21T10:00:00Z");
	int rc = ml_tx_doc_insert(tx, ML_KIND_SERVICE, ORG, svc);
	json_decref(svc);
	return rc;
}

static void test_shared_checks_forget_a_changed_service(void **state)
{
	struct env *e = *state;
	char svc[ML_ID_MAX];
	ml_id_new(svc, "svc");
	assert_int_equal(ml_store_write(e->store, svc_insert_fn, svc), 0);
	struct svc_step a = {.e = e, .svc_id = svc}, r = {.e = e, .svc_id = svc, .rename = "Physics"},
			c = {.e = e, .svc_id = svc};
	ml_id_new(a.booking_id, "bkg");
	ml_id_new(c.booking_id, "bkg");

	/* Three recordings queue behind a busy writer, in this order: a booking step that reads
	 * the service, a rename of the service, another booking step that read the service
	 * before the rename. The first checks the service's version; the rename must make the
	 * third check it again (and run again, seeing "Physics"), not reuse the first check. */
	pthread_t holder, t[3];
	struct svc_step *steps[3] = {&a, &r, &c};
	atomic_store(&writer_held, 0);
	atomic_store(&writer_release, 0);
	assert_int_equal(pthread_create(&holder, NULL, hold_writer, e), 0);
	while (!atomic_load(&writer_held))
		usleep(1000);
	for (int i = 0; i < 3; i++)
		start_queued(e, &t[i], svc_step, steps[i]);
	atomic_store(&writer_release, 1);
	pthread_join(holder, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	assert_int_equal(a.rc, 0);
	assert_int_equal(r.rc, 0);
	assert_int_equal(c.rc, 0);
	assert_int_equal(a.runs, 1);
	assert_int_equal(r.runs, 1);
	assert_int_equal(c.runs, 2); /* stale: ran again on the writer */
	struct get g = {a.booking_id, NULL};
	assert_int_equal(ml_store_read(e->store, get_fn, &g), 0);
	assert_string_equal(json_string_value(json_object_get(g.doc, "title")), "Math");
	json_decref(g.doc);
	g = (struct get){c.booking_id, NULL};
	assert_int_equal(ml_store_read(e->store, get_fn, &g), 0);
	assert_string_equal(json_string_value(json_object_get(g.doc, "title")), "Physics");
	json_decref(g.doc);
}

/* --- overlap checks (issue 18 §5): answered on the snapshot, asked again by the writer --- */

struct busy_step {
	struct env *e;
	char id[ML_ID_MAX];
	const char *start, *end;
	int runs, rc;
	struct ml_booking_span other;
};

/* A confirm of one host's booking: refused when another overlaps, else written confirmed. */
static int busy_step_fn(struct ml_tx *tx, void *arg)
{
	struct busy_step *x = arg;
	int64_t s = 0, e = 0;
	x->runs++;
	ml_time_parse(x->start, &s);
	ml_time_parse(x->end, &e);
	int rc = ml_tx_booking_overlap(tx, ORG, "hst_busy", x->id, s, e, &x->other);
	if (rc != 0)
		return rc < 0 ? rc : ML_ECONFLICT;
	json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", x->id, "status",
				"confirmed", "host_id", "hst_busy", "start", x->start, "end", x->end,
				"created_at", "2026-11-21T10:00:00Z", "updated_at",
				"2026-11-21T10:00:00Z");
	rc = ml_tx_doc_insert(tx, ML_KIND_BOOKING, ORG, doc);
	json_decref(doc);
	return rc;
}

static void *busy_step(void *arg)
{
	struct busy_step *x = arg;
	x->rc = ml_store_write_occ(x->e->store, busy_step_fn, x, no_reset, x);
	return NULL;
}

static void test_overlap_checks_are_asked_again_by_the_writer(void **state)
{
	struct env *e = *state;
	struct busy_step a = {e, "", "2027-03-01T10:00:00Z", "2027-03-01T11:00:00Z", 0, 0, {""}},
			 b = {e, "", "2027-03-01T10:30:00Z", "2027-03-01T11:30:00Z", 0, 0, {""}},
			 c = {e, "", "2027-03-01T11:00:00Z", "2027-03-01T12:00:00Z", 0, 0, {""}};
	struct busy_step *steps[3] = {&a, &b, &c};
	ml_id_new(a.id, "bkg");
	ml_id_new(b.id, "bkg");
	ml_id_new(c.id, "bkg");

	/* Three confirms of one host queue behind a busy writer, each recorded on a snapshot
	 * where the host is free: a at 10-11, b at 10:30-11:30 (overlaps a), c at 11-12 (touches
	 * a). The writer asks each check again before applying it: a and c apply as recorded
	 * (one run each: the optimistic path), b's answer changed, so it runs again on the
	 * writer and is refused, naming a. */
	pthread_t holder, t[3];
	atomic_store(&writer_held, 0);
	atomic_store(&writer_release, 0);
	assert_int_equal(pthread_create(&holder, NULL, hold_writer, e), 0);
	while (!atomic_load(&writer_held))
		usleep(1000);
	for (int i = 0; i < 3; i++)
		start_queued(e, &t[i], busy_step, steps[i]);
	atomic_store(&writer_release, 1);
	pthread_join(holder, NULL);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);

	assert_int_equal(a.rc, 0);
	assert_int_equal(a.runs, 1);
	assert_int_equal(c.rc, 0);
	assert_int_equal(c.runs, 1);
	assert_int_equal(b.rc, ML_ECONFLICT);
	assert_int_equal(b.runs, 2);
	assert_string_equal(b.other.id, a.id);
	struct get g = {b.id, NULL};
	assert_int_equal(ml_store_read(e->store, get_fn, &g), ML_ENOTFOUND);

	/* Afterwards, on a snapshot that has a: refused at once, on the optimistic run. */
	struct busy_step d = {e, "", "2027-03-01T10:59:00Z", "2027-03-01T11:01:00Z", 0, 0, {""}};
	ml_id_new(d.id, "bkg");
	busy_step(&d);
	assert_int_equal(d.rc, ML_ECONFLICT);
	assert_int_equal(d.runs, 1);
	assert_string_equal(d.other.id, a.id); /* the earliest-starting of a and c */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_committed_write_is_cached_and_answered_as_stored,
					    tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_refusal_on_a_stale_cached_document_is_checked,
					    tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_recording_failing_halfway_leaves_nothing,
					    tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_shared_checks_forget_a_changed_service,
					    tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_overlap_checks_are_asked_again_by_the_writer,
					    tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test(test_cache_reads_copy_share_or_take),
	    cmocka_unit_test(test_ids_sort_by_creation_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
