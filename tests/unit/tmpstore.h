/* A fresh SQLite store in a temporary directory for one cmocka test: use tmpstore_setup and
 * tmpstore_teardown as the test's setup/teardown; *state is a struct env. */
#ifndef ML_TESTS_TMPSTORE_H
#define ML_TESTS_TMPSTORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "store/store.h"

struct env {
	struct ml_store *store;
	char dir[64];
};

static int tmpstore_setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	char url[128];
	snprintf(e->dir, sizeof e->dir, "/tmp/ml-test-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(url, sizeof url, "sqlite:%s/t.db", e->dir);
	assert_int_equal(ml_store_open(&e->store, url), 0);
	assert_true(ml_store_migrate(e->store) >= 0);
	*state = e;
	return 0;
}

static int tmpstore_teardown(void **state)
{
	struct env *e = *state;
	char cmd[128];
	ml_store_close(e->store);
	snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
	if (system(cmd) != 0)
		return -1;
	free(e);
	return 0;
}

#endif
