/* Sealed values outside the connections table, on SQLite: server secrets, webhook endpoint
 * secrets and OAuth PKCE verifiers, read and replaced by row for the vault's upgrade and
 * rotation (store.h, "Sealed values"). Every function but ml_sq_scrub runs inside the
 * caller's transaction; values are opaque vault ciphertexts here. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEALED_PREFIX "mlv1:"

/* One row into *v: a ciphertext, or the plaintext a store from before 0010 kept. */
static void read_sealed(sqlite3_stmt *st, enum ml_sealed_kind kind, struct ml_sealed *v)
{
	const char *id = (const char *)sqlite3_column_text(st, 0);
	memset(v, 0, sizeof *v);
	snprintf(v->id, sizeof v->id, "%s", id ? id : "");
	if (kind == ML_SEALED_SERVER_SECRET && sqlite3_column_type(st, 1) == SQLITE_NULL) {
		size_t n = (size_t)sqlite3_column_bytes(st, 2);
		v->plain = ml_malloc(n + 1);
		memcpy(v->plain, sqlite3_column_blob(st, 2), n);
		v->plain[n] = '\0';
		v->plain_n = n;
		return;
	}
	const char *s = (const char *)sqlite3_column_text(st, 1);
	if (!s)
		return;
	/* A webhook endpoint made without a vault kept its "whsec_…" as it is. */
	if (strncmp(s, SEALED_PREFIX, strlen(SEALED_PREFIX)) != 0) {
		v->plain = ml_strdup(s);
		v->plain_n = strlen(s);
		return;
	}
	v->value = ml_strdup(s);
}

static const char *select_sql(enum ml_sealed_kind kind, bool one)
{
	switch (kind) {
	case ML_SEALED_SERVER_SECRET:
		return one ? "SELECT name, value, legacy FROM server_secrets WHERE name = ?"
		           : "SELECT name, value, legacy FROM server_secrets ORDER BY name";
	case ML_SEALED_WEBHOOK_SECRET:
		return one ? "SELECT id, secret FROM webhook_endpoints WHERE id = ?"
		           : "SELECT id, secret FROM webhook_endpoints ORDER BY id";
	case ML_SEALED_OAUTH_VERIFIER:
		return one ? "SELECT state_hash, verifier FROM oauth_states WHERE state_hash = ?"
		           : "SELECT state_hash, verifier FROM oauth_states ORDER BY state_hash";
	default:
		return NULL;
	}
}

int ml_sq_sealed_get(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
                     struct ml_sealed *out)
{
	/* A server secret never changes once made: a read that needs no validation. */
	struct sq_conn *c = ml_sq_txc_read(tx);
	const char *sql = select_sql(kind, true);
	if (!sql)
		return ml_error_set(ML_EINVAL, "invalid_kind", NULL, "no such sealed value");
	sqlite3_stmt *st = ml_sq_prep(c, sql);
	if (!st)
		return ml_sq_fail(c->db, "sealed value");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "sealed value");
	}
	read_sealed(st, kind, out);
	sqlite3_reset(st);
	return 0;
}

int ml_sq_sealed_list(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items, int *n)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *sql = select_sql(kind, false);
	if (!sql)
		return ml_error_set(ML_EINVAL, "invalid_kind", NULL, "no such sealed value");
	sqlite3_stmt *st = ml_sq_prep(c, sql);
	if (!st)
		return ml_sq_fail(c->db, "sealed values");
	struct ml_sealed *out = NULL;
	size_t k = 0, cap = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (k == cap) {
			cap = cap ? 2 * cap : 8;
			out = ml_realloc(out, cap * sizeof *out);
		}
		read_sealed(st, kind, &out[k++]);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		for (size_t i = 0; i < k; i++)
			ml_sealed_clear(&out[i]);
		free(out);
		return ml_sq_fail(c->db, "sealed values");
	}
	*items = out;
	*n = (int)k;
	return 0;
}

int ml_sq_sealed_set(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id, const char *value)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *sql;
	switch (kind) {
	case ML_SEALED_SERVER_SECRET:
		sql = "INSERT INTO server_secrets(name, value, legacy, created_at) VALUES "
		      "(?,?,NULL,?) "
		      "ON CONFLICT(name) DO UPDATE SET value = excluded.value, legacy = NULL";
		break;
	case ML_SEALED_WEBHOOK_SECRET:
		sql = "UPDATE webhook_endpoints SET secret = ? WHERE id = ?";
		break;
	case ML_SEALED_OAUTH_VERIFIER:
		sql = "UPDATE oauth_states SET verifier = ? WHERE state_hash = ?";
		break;
	default:
		return ml_error_set(ML_EINVAL, "invalid_kind", NULL, "no such sealed value");
	}
	sqlite3_stmt *st = ml_sq_prep(c, sql);
	if (!st)
		return ml_sq_fail(c->db, "sealed value");
	if (kind == ML_SEALED_SERVER_SECRET) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, ml_now_ms());
	} else {
		sqlite3_bind_text(st, 1, value, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	}
	int r = sqlite3_step(st);
	int changed = sqlite3_changes(c->db);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "sealed value");
	return changed > 0 ? 0 : ML_ENOTFOUND;
}

int ml_sq_scrub(const char *path)
{
	/* Its own connection (the checkpointer's belongs to its thread). VACUUM rewrites every
	 * page of the database, so nothing replaced survives in a page's free space or on a
	 * free page; the TRUNCATE checkpoint then copies it back and empties the WAL file,
	 * whose older frames would otherwise keep the pages as they were. Rare (an upgrade that
	 * sealed something, a vault rotation): worth the rewrite. A checkpoint does nothing on
	 * a connection that has not read the database yet (the WAL is not open): VACUUM reads
	 * it first. */
	sqlite3 *db = NULL;
	int rc = 0, log = -1, done = -1, src = SQLITE_OK;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
	        SQLITE_OK ||
	    sqlite3_busy_timeout(db, 10000) != SQLITE_OK) {
		rc = ml_sq_fail(db, "scrub");
		goto done;
	}
	/* The store's own checkpointer may be checkpointing right now: a second checkpoint
	 * (and a VACUUM meeting it) answers SQLITE_BUSY at once, without the busy handler.
	 * Try again for up to ten seconds before calling it a failure. */
	for (int tries = 0; tries < 500; tries++) {
		src = sqlite3_exec(db, "VACUUM", NULL, NULL, NULL);
		if (src == SQLITE_OK) {
			src = sqlite3_wal_checkpoint_v2(db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log,
			                                &done);
			if (src == SQLITE_OK && log != 0)
				src = SQLITE_BUSY;
		}
		if ((src & 0xff) != SQLITE_BUSY && (src & 0xff) != SQLITE_LOCKED)
			break;
		struct timespec ts = {0, 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (src != SQLITE_OK)
		rc = ml_sq_fail(db, "scrub");
done:
	sqlite3_close(db);
	return rc;
}
