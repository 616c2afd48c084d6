/* A fresh store for one cmocka test: use tmpstore_setup and tmpstore_teardown as the test's
 * setup/teardown; *state is a struct env. SQLite in a temporary directory; with
 * ML_TEST_STORE=postgres (CTest's unit-pg/ entries) a new database on the PostgreSQL server
 * the suite started (ML_TEST_PG_STATE, tests/e2e/pgserver.py). */
#ifndef ML_TESTS_TMPSTORE_H
#define ML_TESTS_TMPSTORE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include <libpq-fe.h>
#include <string.h>
#include <unistd.h>

#include "store/store.h"

struct env {
	struct ml_store *store;
	char dir[64];
};

static inline bool tmpstore_pg(void)
{
	const char *s = getenv("ML_TEST_STORE");
	return s && strcmp(s, "postgres") == 0;
}

/* A new schema in the test server's database "ml": its URL (search_path set) in url. */
static inline void tmpstore_pg_url(char *url, size_t n)
{
	char path[512], server[256] = "", sql[96], name[40];
	const char *state = getenv("ML_TEST_PG_STATE");
	assert_non_null(state);
	snprintf(path, sizeof path, "%s/url", state);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(server, sizeof server, f));
	fclose(f);
	server[strcspn(server, "\n")] = '\0';
	snprintf(path, sizeof path, "%s/ml", server);
	PGconn *c = PQconnectdb(path);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	static unsigned seq;
	snprintf(name, sizeof name, "ml_unit_%d_%u", (int)getpid(), ++seq);
	snprintf(sql, sizeof sql, "CREATE SCHEMA %s", name);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	snprintf(url, n, "%s/ml?options=-csearch_path%%3D%s", server, name);
}

static int tmpstore_setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	char url[512];
	snprintf(e->dir, sizeof e->dir, "/tmp/ml-test-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	if (tmpstore_pg())
		tmpstore_pg_url(url, sizeof url);
	else
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
