/* Sealed values outside the connections table, on PostgreSQL: server secrets, webhook endpoint
 * secrets and OAuth PKCE verifiers, read and replaced by row for the vault's upgrade and
 * rotation (store.h, "Sealed values"). Inside the caller's transaction; values are opaque
 * vault ciphertexts here (a store moved from SQLite may still hold a raw legacy secret). */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEALED_PREFIX "mlv1:"

static void read_sealed(PGresult *r, int i, enum ml_sealed_kind kind, struct ml_sealed *v)
{
	memset(v, 0, sizeof *v);
	snprintf(v->id, sizeof v->id, "%s", ml_pg_text(r, i, 0));
	if (kind == ML_SEALED_SERVER_SECRET && ml_pg_null(r, i, 1)) {
		size_t n = 0;
		unsigned char *raw = PQunescapeBytea((const unsigned char *)ml_pg_text(r, i, 2), &n);
		v->plain = ml_malloc(n + 1);
		if (raw)
			memcpy(v->plain, raw, n);
		v->plain[n] = '\0';
		v->plain_n = raw ? n : 0;
		PQfreemem(raw);
		return;
	}
	if (ml_pg_null(r, i, 1))
		return;
	const char *s = ml_pg_text(r, i, 1);
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
		return one ? "SELECT name, value, legacy FROM server_secrets WHERE name = $1"
			   : "SELECT name, value, legacy FROM server_secrets ORDER BY name";
	case ML_SEALED_WEBHOOK_SECRET:
		return one ? "SELECT id, secret FROM webhook_endpoints WHERE id = $1"
			   : "SELECT id, secret FROM webhook_endpoints ORDER BY id";
	case ML_SEALED_OAUTH_VERIFIER:
		return one ? "SELECT state_hash, verifier FROM oauth_states WHERE state_hash = $1"
			   : "SELECT state_hash, verifier FROM oauth_states ORDER BY state_hash";
	default:
		return NULL;
	}
}

int ml_pg_sealed_get(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     struct ml_sealed *out)
{
	const char *sql = select_sql(kind, true);
	if (!sql)
		return ml_error_set(ML_EINVAL, "invalid_kind", NULL, "no such sealed value");
	struct pg_args a = {0};
	PGresult *r;
	int rc;
	/* A server secret is made by the first node that needs it (ml_tx_secret_ensure reads,
	 * then makes one): nodes starting together take turns, so the second reads the first's
	 * (READ COMMITTED: its read comes after the first's commit) instead of replacing it. */
	if (kind == ML_SEALED_SERVER_SECRET && ml_pg_writable(tx) &&
	    (rc = ml_pg_q(tx, "SELECT pg_advisory_xact_lock(7237513602)", NULL, NULL)) < 0)
		return rc;
	ml_pg_arg(&a, id);
	if ((rc = ml_pg_q(tx, sql, &a, &r)) < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	read_sealed(r, 0, kind, out);
	PQclear(r);
	return 0;
}

int ml_pg_sealed_list(struct ml_tx *tx, enum ml_sealed_kind kind, struct ml_sealed **items,
		      int *n)
{
	const char *sql = select_sql(kind, false);
	if (!sql)
		return ml_error_set(ML_EINVAL, "invalid_kind", NULL, "no such sealed value");
	PGresult *r;
	int rc = ml_pg_q(tx, sql, NULL, &r);
	if (rc < 0)
		return rc;
	int k = PQntuples(r);
	struct ml_sealed *out = k ? ml_calloc((size_t)k, sizeof *out) : NULL;
	for (int i = 0; i < k; i++)
		read_sealed(r, i, kind, &out[i]);
	PQclear(r);
	*items = out;
	*n = k;
	return 0;
}

int ml_pg_sealed_set(struct ml_tx *tx, enum ml_sealed_kind kind, const char *id,
		     const char *value)
{
	struct pg_args a = {0};
	PGresult *r;
	const char *sql;
	switch (kind) {
	case ML_SEALED_SERVER_SECRET:
		/* Two nodes making the same secret at once: the second finds the first's. */
		sql = "INSERT INTO server_secrets(name, value, legacy, created_at) "
		      "VALUES ($1,$2,NULL,$3) ON CONFLICT (name) DO UPDATE SET value = "
		      "excluded.value, legacy = NULL";
		ml_pg_arg(&a, id);
		ml_pg_arg(&a, value);
		ml_pg_arg_i64(&a, ml_now_ms());
		break;
	case ML_SEALED_WEBHOOK_SECRET:
		sql = "UPDATE webhook_endpoints SET secret = $1 WHERE id = $2";
		ml_pg_arg(&a, value);
		ml_pg_arg(&a, id);
		break;
	case ML_SEALED_OAUTH_VERIFIER:
		sql = "UPDATE oauth_states SET verifier = $1 WHERE state_hash = $2";
		ml_pg_arg(&a, value);
		ml_pg_arg(&a, id);
		break;
	default:
		return ml_error_set(ML_EINVAL, "invalid_kind", NULL, "no such sealed value");
	}
	int rc = ml_pg_q(tx, sql, &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n > 0 ? 0 : ML_ENOTFOUND;
}
