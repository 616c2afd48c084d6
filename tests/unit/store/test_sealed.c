/* Server secrets and the other sealed values of the store: a store as 0009 left it (raw
 * server secrets, a raw webhook secret) is sealed on upgrade, once, with the same secrets,
 * and no raw byte stays in its files; rotation re-seals every value under the new key; a
 * secret that does not open is an error, never silently replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "core/embed.h"
#include "core/error.h"
#include "core/vault.h"
#include "store/store.h"

#define DIR "src/store/migrations/sqlite/"
#define K1 "k1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
#define K2 "k2:BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB="
#define K3 "k3:CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC="

static const char RAW_LINK[] = "RAW-LINK-SECRET-0123456789abcdef"; /* 32 bytes */
static const char RAW_ROOM[] = "RAW-ROOM-SECRET-0123456789abcdef"; /* 32 bytes */
static const char RAW_HOOK[] = "whsec_UkFXLVdFQkhPT0stU0VDUkVULTAxMjM0NTY3ODk=";

static void exec(sqlite3 *db, const char *sql)
{
	char *err = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
}

static long count(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	long n = (long)sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* A store as the migrations up to `upto` left it, at dir/t.db. */
static sqlite3 *old_store(char *dir, char path[96], long upto)
{
	sqlite3 *db;
	assert_non_null(mkdtemp(dir));
	snprintf(path, 96, "%s/t.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE schema_migrations (version INTEGER "
	         "PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)");
	for (const struct ml_embedded *e = ml_embedded_files; e->path; e++) {
		if (strncmp(e->path, DIR, strlen(DIR)) != 0)
			continue;
		long v = strtol(e->path + strlen(DIR), NULL, 10);
		if (v > upto)
			continue;
		exec(db, (const char *)e->data);
		char ins[160];
		snprintf(ins, sizeof ins, "INSERT INTO schema_migrations VALUES (%ld, 'x', 0)", v);
		exec(db, ins);
	}
	exec(db, "INSERT INTO orgs(id, name, created_at) VALUES ('org_1', 'Org', 0)");
	return db;
}

static void remove_dir(const char *dir)
{
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Whether `needle` occurs in the store file or its WAL. */
static bool in_files(const char *path, const void *needle, size_t n)
{
	bool found = false;
	for (int i = 0; i < 2 && !found; i++) {
		char p[128];
		snprintf(p, sizeof p, "%s%s", path, i ? "-wal" : "");
		FILE *f = fopen(p, "rb");
		if (!f)
			continue;
		fseek(f, 0, SEEK_END);
		long len = ftell(f);
		fseek(f, 0, SEEK_SET);
		char *buf = malloc(len > 0 ? (size_t)len : 1);
		size_t got = fread(buf, 1, (size_t)len, f);
		fclose(f);
		found = memmem(buf, got, needle, n) != NULL;
		free(buf);
	}
	return found;
}

struct secrets {
	uint8_t link[32], room[32];
	int sealed;
};

static int upgrade_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_sealed_upgrade(tx, &((struct secrets *)arg)->sealed);
}

static int ensure_fn(struct ml_tx *tx, void *arg)
{
	struct secrets *s = arg;
	int rc = ml_tx_secret_ensure(tx, "connect_link", s->link, sizeof s->link);
	return rc < 0 ? rc : ml_tx_secret_ensure(tx, "room_secret", s->room, sizeof s->room);
}

static int hook_fn(struct ml_tx *tx, void *arg)
{
	json_t *ep = NULL;
	int rc = ml_tx_webhook_endpoint_get(tx, "org_1", "whe_1", &ep, arg);
	json_decref(ep);
	return rc;
}

static void test_upgrade_seals_raw_secrets(void **state)
{
	(void)state;
	char dir[] = "/tmp/ml-sealed-XXXXXX", path[96], url[128];
	sqlite3 *db = old_store(dir, path, 9);
	sqlite3_stmt *st;
	assert_int_equal(
	    sqlite3_prepare_v2(db, "INSERT INTO server_secrets VALUES (?, ?, 0)", -1, &st, NULL),
	    SQLITE_OK);
	sqlite3_bind_text(st, 1, "connect_link", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, RAW_LINK, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, "room_secret", -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, RAW_ROOM, 32, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	exec(db, "INSERT INTO webhook_endpoints(id, org_id, url, events, secret, created_at, "
	         "updated_at) VALUES ('whe_1', 'org_1', 'https://example.test/h', '[\"*\"]', "
	         "'whsec_UkFXLVdFQkhPT0stU0VDUkVULTAxMjM0NTY3ODk=', 0, 0)");
	/* (db stays open, as a daemon's connection would: the raw rows stay in the WAL too) */
	assert_true(in_files(path, RAW_LINK, 32));

	struct ml_store *s;
	struct ml_vault *v;
	struct secrets got = {0};
	snprintf(url, sizeof url, "sqlite:%s", path);
	assert_int_equal(ml_store_open(&s, url), 0);
	assert_true(ml_store_migrate(s) >= 1);
	/* Without a vault nothing is sealed, and nothing is made. */
	assert_int_equal(ml_store_write(s, ensure_fn, &got), ML_EINVAL);
	assert_int_equal(ml_vault_new(&v, K1), 0);
	ml_store_set_vault(s, v);
	/* Before the upgrade the raw secrets are used as they are. */
	assert_int_equal(ml_store_read(s, ensure_fn, &got), 0);
	assert_memory_equal(got.link, RAW_LINK, 32);
	assert_int_equal(ml_store_write(s, upgrade_fn, &got), 0);
	assert_int_equal(got.sealed, 3);
	assert_int_equal(ml_store_write(s, upgrade_fn, &got), 0);
	assert_int_equal(got.sealed, 0); /* idempotent */
	memset(&got, 0, sizeof got);
	assert_int_equal(ml_store_read(s, ensure_fn, &got), 0);
	assert_memory_equal(got.link, RAW_LINK, 32); /* the same secrets, sealed */
	assert_memory_equal(got.room, RAW_ROOM, 32);
	char *sealed = NULL, *plain = NULL;
	assert_int_equal(ml_store_read(s, hook_fn, &sealed), 0);
	assert_int_equal(strncmp(sealed, "mlv1:k1:", 8), 0);
	assert_int_equal(ml_vault_decrypt(v, "whe_1/secret", sealed, &plain, NULL), 0);
	assert_string_equal(plain, RAW_HOOK);
	ml_vault_wipe_free(plain, 0);
	free(sealed);
	assert_int_equal(ml_store_scrub(s), 0);

	assert_int_equal(count(db, "SELECT count(*) FROM server_secrets WHERE legacy IS NULL AND "
	                           "value LIKE 'mlv1:k1:%'"),
	                 2);
	assert_int_equal(count(db, "SELECT count(*) FROM webhook_endpoints WHERE secret LIKE "
	                           "'mlv1:k1:%'"),
	                 1);
	/* Not a raw byte left, in the database file or the WAL. */
	assert_false(in_files(path, RAW_LINK, 32));
	assert_false(in_files(path, RAW_ROOM, 32));
	assert_false(in_files(path, RAW_HOOK + 6, strlen(RAW_HOOK) - 6));
	ml_store_close(s);
	sqlite3_close(db);
	ml_vault_free(v);
	remove_dir(dir);
}

static int make_fn(struct ml_tx *tx, void *arg)
{
	const struct ml_vault *v = arg;
	char *hook = NULL, *ver = NULL;
	uint8_t link[32];
	int rc = ml_tx_secret_ensure(tx, "connect_link", link, sizeof link);
	if (rc == 0)
		rc = ml_vault_encrypt(v, "whe_1/secret", RAW_HOOK, strlen(RAW_HOOK), &hook);
	json_t *ep = json_pack("{s:s, s:s, s:[s]}", "id", "whe_1", "url", "https://example.test/h",
	                       "events", "*");
	if (rc == 0)
		rc = ml_tx_webhook_endpoint_insert(tx, "org_1", ep, hook);
	json_decref(ep);
	char hash[65];
	memset(hash, 'a', 64);
	hash[64] = '\0';
	if (rc == 0)
		rc = ml_vault_encrypt(
		    v, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/verifier",
		    "verifier-1", 10, &ver);
	struct ml_oauth_state_row r = {{0}};
	snprintf(r.state_hash, sizeof r.state_hash, "%s", hash);
	snprintf(r.org_id, sizeof r.org_id, "org_1");
	snprintf(r.host_id, sizeof r.host_id, "hst_1");
	snprintf(r.platform, sizeof r.platform, "zoom");
	snprintf(r.cookie_hash, sizeof r.cookie_hash, "%s", hash);
	r.verifier = ver;
	r.expires_at = 1;
	if (rc == 0)
		rc = ml_tx_oauth_state_put(tx, &r);
	free(hook);
	free(ver);
	return rc;
}

static int rekey_fn(struct ml_tx *tx, void *arg)
{
	return ml_tx_sealed_rekey(tx, arg);
}

static void test_rekey_and_removed_key(void **state)
{
	(void)state;
	char dir[] = "/tmp/ml-sealed-XXXXXX", path[96], url[128];
	sqlite3 *db = old_store(dir, path, 9);
	struct ml_store *s;
	struct ml_vault *v1, *v21, *v2, *v3;
	struct secrets first = {0}, again = {0};
	snprintf(url, sizeof url, "sqlite:%s", path);
	assert_int_equal(ml_store_open(&s, url), 0);
	assert_true(ml_store_migrate(s) >= 1);
	assert_int_equal(ml_vault_new(&v1, K1), 0);
	assert_int_equal(ml_vault_new(&v21, K2 "," K1), 0);
	assert_int_equal(ml_vault_new(&v2, K2), 0);
	assert_int_equal(ml_vault_new(&v3, K3), 0);
	ml_store_set_vault(s, v1);
	assert_int_equal(ml_store_write(s, ensure_fn, &first), 0);
	assert_int_equal(ml_store_write(s, make_fn, v1), 0);

	int n = -1;
	ml_store_set_vault(s, v21);
	assert_int_equal(ml_store_write(s, rekey_fn, &n), 0);
	assert_int_equal(n, 4); /* two server secrets, a webhook secret, a verifier */
	assert_int_equal(ml_store_write(s, rekey_fn, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(count(db, "SELECT count(*) FROM server_secrets WHERE value LIKE "
	                           "'mlv1:k2:%'"),
	                 2);
	assert_int_equal(count(db, "SELECT count(*) FROM webhook_endpoints WHERE secret LIKE "
	                           "'mlv1:k2:%'"),
	                 1);
	assert_int_equal(count(db, "SELECT count(*) FROM oauth_states WHERE verifier LIKE "
	                           "'mlv1:k2:%'"),
	                 1);

	/* k1 gone from the ring: every secret still opens, with its value. */
	ml_store_set_vault(s, v2);
	assert_int_equal(ml_store_read(s, ensure_fn, &again), 0);
	assert_memory_equal(first.link, again.link, 32);
	assert_memory_equal(first.room, again.room, 32);
	char *sealed = NULL, *plain = NULL;
	assert_int_equal(ml_store_read(s, hook_fn, &sealed), 0);
	assert_int_equal(ml_vault_decrypt(v2, "whe_1/secret", sealed, &plain, NULL), 0);
	assert_string_equal(plain, RAW_HOOK);
	ml_vault_wipe_free(plain, 0);
	free(sealed);

	/* A ring without the key: an error, and the secret is not replaced by a new one. */
	ml_store_set_vault(s, v3);
	assert_int_equal(ml_store_write(s, ensure_fn, &again), ML_EAUTH);
	ml_store_set_vault(s, v2);
	memset(&again, 0, sizeof again);
	assert_int_equal(ml_store_read(s, ensure_fn, &again), 0);
	assert_memory_equal(first.link, again.link, 32);

	ml_store_close(s);
	sqlite3_close(db);
	ml_vault_free(v1);
	ml_vault_free(v21);
	ml_vault_free(v2);
	ml_vault_free(v3);
	remove_dir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_upgrade_seals_raw_secrets),
	    cmocka_unit_test(test_rekey_and_removed_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
