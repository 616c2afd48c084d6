/* Every concern of the SQLite backend (store/backend.h) has its version right and every
 * operation that is not optional set, checked with ml_store_backend_check() on the backend a
 * store actually opens with; and that check does catch a missing operation, a missing concern
 * and a version this build does not know. A second backend runs the same test on a store
 * of its own (test_complete's store, opened with that backend's URL). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/error.h"
#include "store/backend.h"
#include "../tmpstore.h"

/* The backend of the store under test (tmpstore.h opens "sqlite:"). */
static const struct ml_store_backend *backend_of(void **state)
{
	struct env *e = *state;
	return e->store->backend;
}

static void test_complete(void **state)
{
	const struct ml_store_backend *b = backend_of(state);
	if (ml_store_backend_check(b) < 0)
		fail_msg("%s backend: %s", b->name, ml_error_message());
	assert_string_equal(b->name, tmpstore_pg() ? "postgres" : "sqlite");
	assert_int_equal(b->docs->version, ML_STORE_DOCS_VERSION);
	assert_int_equal(b->jobs->version, ML_STORE_JOBS_VERSION);
	assert_int_equal(b->conn->version, ML_STORE_CONN_VERSION);
	assert_int_equal(b->notify->version, ML_STORE_NOTIFY_VERSION);
	assert_int_equal(b->audit->version, ML_STORE_AUDIT_VERSION);
}

/* The check refuses `b` and names what is wrong. */
static void expect_refused(const struct ml_store_backend *b, const char *detail)
{
	assert_int_equal(ml_store_backend_check(b), ML_EINVAL);
	if (!strstr(ml_error_message(), detail))
		fail_msg("expected \"%s\" in \"%s\"", detail, ml_error_message());
}

static void test_check_catches_gaps(void **state)
{
	const struct ml_store_backend *sq = backend_of(state);
	struct ml_store_backend b = *sq;
	struct ml_store_docs_ops docs = *sq->docs;
	struct ml_store_jobs_ops jobs = *sq->jobs;
	struct ml_store_notify_ops notify = *sq->notify;
	struct ml_store_audit_ops audit = ML_STORE_AUDIT_INIT;

	b.docs = &docs;
	b.jobs = &jobs;
	b.notify = &notify;
	assert_int_equal(ml_store_backend_check(&b), 0);

	/* A required operation, first or last of its struct. */
	docs.org_ensure = NULL;
	expect_refused(&b, "docs.org_ensure is not set");
	docs = *sq->docs;
	notify.attempt_record = NULL;
	expect_refused(&b, "notify.attempt_record is not set");
	notify = *sq->notify;
	/* Optional ones may be missing. */
	docs.peek = NULL;
	docs.text = NULL;
	jobs.set_taker = NULL;
	b.write_occ = NULL;
	b.write_async = NULL;
	assert_int_equal(ml_store_backend_check(&b), 0);

	/* A concern started from its INIT macro has its version and nothing else yet. */
	b.audit = &audit;
	expect_refused(&b, "audit.append is not set");
	b.audit = NULL;
	expect_refused(&b, "audit is not set");
	b.audit = sq->audit;

	/* A version this build does not know (a struct from a newer backend.h). */
	jobs.version = ML_STORE_JOBS_VERSION + 1;
	expect_refused(&b, "jobs has version");
	jobs.version = ML_STORE_JOBS_VERSION;
	b.version = 0;
	expect_refused(&b, "backend has version 0");
	b.version = ML_STORE_BACKEND_VERSION;
	b.nested = NULL;
	expect_refused(&b, "backend.nested is not set");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_complete, tmpstore_setup, tmpstore_teardown),
	    cmocka_unit_test_setup_teardown(test_check_catches_gaps, tmpstore_setup,
					    tmpstore_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
