/* Connections and OAuth states on PostgreSQL. Every function runs inside the caller's
 * transaction; secret columns are opaque vault ciphertexts here. The refresh lease is a
 * conditional UPDATE: at READ COMMITTED a second node's UPDATE waits for the first and
 * re-checks the condition on the row it committed, so one caller among all nodes gets it. */
#include "store/postgres/internal.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONN_COLS                                                                            \
	"id, org_id, host_id, platform, kind, status, account_email, scopes, config, "          \
	"access_token, refresh_token, secret, expires_at, lease_until, last_error, "            \
	"last_error_code, last_error_at, connected_at, refreshed_at, created_at, updated_at"

static void copy_text(char *dst, size_t n, PGresult *r, int i, int col)
{
	snprintf(dst, n, "%s", ml_pg_text(r, i, col));
}

static void read_row(PGresult *r, int i, struct ml_conn_row *o)
{
	memset(o, 0, sizeof *o);
	copy_text(o->id, sizeof o->id, r, i, 0);
	copy_text(o->org_id, sizeof o->org_id, r, i, 1);
	copy_text(o->host_id, sizeof o->host_id, r, i, 2);
	copy_text(o->platform, sizeof o->platform, r, i, 3);
	copy_text(o->kind, sizeof o->kind, r, i, 4);
	copy_text(o->status, sizeof o->status, r, i, 5);
	o->account_email = ml_pg_dup(r, i, 6);
	o->scopes = ml_pg_dup(r, i, 7);
	o->config = ml_pg_dup(r, i, 8);
	o->access_token = ml_pg_dup(r, i, 9);
	o->refresh_token = ml_pg_dup(r, i, 10);
	o->secret = ml_pg_dup(r, i, 11);
	o->expires_at = ml_pg_i64(r, i, 12);
	o->lease_until = ml_pg_i64(r, i, 13);
	o->last_error = ml_pg_dup(r, i, 14);
	o->last_error_code = ml_pg_dup(r, i, 15);
	o->last_error_at = ml_pg_i64(r, i, 16);
	o->connected_at = ml_pg_i64(r, i, 17);
	o->refreshed_at = ml_pg_i64(r, i, 18);
	o->created_at = ml_pg_i64(r, i, 19);
	o->updated_at = ml_pg_i64(r, i, 20);
}

/* In a write the row is locked (FOR UPDATE, sql_lock): the refresh lease and the tokens are
 * decided on it, and at READ COMMITTED an unlocked read could see the tokens another node is
 * about to replace, and spend a refresh token already spent. */
static int one_row(struct ml_tx *tx, const char *sql, const char *sql_lock,
		   const struct pg_args *a, struct ml_conn_row *out)
{
	PGresult *r;
	int rc = ml_pg_q(tx, ml_pg_writable(tx) ? sql_lock : sql, a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such connection.");
	}
	read_row(r, 0, out);
	PQclear(r);
	return 0;
}

int ml_pg_conn_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, platform);
	if (host_id) {
		ml_pg_arg(&a, host_id);
		return one_row(tx,
			       "SELECT " CONN_COLS " FROM connections WHERE org_id = $1 "
			       "AND platform = $2 AND host_id = $3",
			       "SELECT " CONN_COLS " FROM connections WHERE org_id = $1 "
			       "AND platform = $2 AND host_id = $3 FOR UPDATE", &a, out);
	}
	return one_row(tx,
		       "SELECT " CONN_COLS " FROM connections WHERE org_id = $1 "
		       "AND platform = $2 AND host_id IS NULL",
		       "SELECT " CONN_COLS " FROM connections WHERE org_id = $1 "
		       "AND platform = $2 AND host_id IS NULL FOR UPDATE", &a, out);
}

int ml_pg_conn_get_id(struct ml_tx *tx, const char *id, struct ml_conn_row *out)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, id);
	return one_row(tx, "SELECT " CONN_COLS " FROM connections WHERE id = $1",
		       "SELECT " CONN_COLS " FROM connections WHERE id = $1 FOR UPDATE", &a, out);
}

int ml_pg_conn_put(struct ml_tx *tx, const struct ml_conn_row *r)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, r->id);
	ml_pg_arg(&a, r->org_id);
	ml_pg_arg(&a, r->host_id[0] ? r->host_id : NULL);
	ml_pg_arg(&a, r->platform);
	ml_pg_arg(&a, r->kind);
	ml_pg_arg(&a, r->status);
	ml_pg_arg(&a, r->account_email);
	ml_pg_arg(&a, r->scopes);
	ml_pg_arg(&a, r->config);
	ml_pg_arg(&a, r->access_token);
	ml_pg_arg(&a, r->refresh_token);
	ml_pg_arg(&a, r->secret);
	ml_pg_arg_ms(&a, r->expires_at);
	ml_pg_arg_ms(&a, r->lease_until);
	ml_pg_arg(&a, r->last_error);
	ml_pg_arg(&a, r->last_error_code);
	ml_pg_arg_ms(&a, r->last_error_at);
	ml_pg_arg_ms(&a, r->connected_at);
	ml_pg_arg_ms(&a, r->refreshed_at);
	ml_pg_arg_i64(&a, ml_now_ms());
	int rc = ml_pg_q(
		tx, "INSERT INTO connections(" CONN_COLS ") VALUES "
		    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$20) "
		    "ON CONFLICT (id) DO UPDATE SET status = $6, account_email = $7, scopes = $8, "
		    "config = $9, access_token = $10, refresh_token = $11, secret = $12, "
		    "expires_at = $13, lease_until = $14, last_error = $15, last_error_code = $16, "
		    "last_error_at = $17, connected_at = $18, refreshed_at = $19, updated_at = $20, "
		    "kind = $5", &a, NULL);
	if (rc == ML_ECONFLICT)
		return ml_error_set(ML_ECONFLICT, "connection_exists", NULL,
				    "Another connection already exists for this platform.");
	return rc;
}

int ml_pg_conn_list(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n)
{
	struct pg_args a = {0};
	PGresult *r;
	const char *sql;
	if (!org_id) {
		sql = "SELECT " CONN_COLS " FROM connections ORDER BY created_at, id";
	} else if (host_id) {
		sql = "SELECT " CONN_COLS " FROM connections WHERE org_id = $1 AND host_id = $2 "
		      "ORDER BY created_at, id";
		ml_pg_arg(&a, org_id);
		ml_pg_arg(&a, host_id);
	} else {
		sql = "SELECT " CONN_COLS " FROM connections WHERE org_id = $1 AND host_id IS NULL "
		      "ORDER BY created_at, id";
		ml_pg_arg(&a, org_id);
	}
	int rc = ml_pg_q(tx, sql, &a, &r);
	if (rc < 0)
		return rc;
	int k = PQntuples(r);
	struct ml_conn_row *out = k ? ml_calloc((size_t)k, sizeof *out) : NULL;
	for (int i = 0; i < k; i++)
		read_row(r, i, &out[i]);
	PQclear(r);
	*rows = out;
	*n = k;
	return 0;
}

int ml_pg_conn_lease(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg_i64(&a, lease_until_ms);
	ml_pg_arg(&a, id);
	ml_pg_arg_i64(&a, now_ms);
	int rc = ml_pg_q(tx, "UPDATE connections SET lease_until = $1 WHERE id = $2 "
			     "AND (lease_until IS NULL OR lease_until <= $3)", &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n > 0 ? 1 : 0;
}

int ml_pg_oauth_state_put(struct ml_tx *tx, const struct ml_oauth_state_row *r)
{
	int64_t now = ml_now_ms();
	struct pg_args d = {0};
	/* Used or abandoned states are kept a day (a replay answers "already used"). */
	ml_pg_arg_i64(&d, now - 86400000);
	int rc = ml_pg_q(tx, "DELETE FROM oauth_states WHERE expires_at < $1", &d, NULL);
	if (rc < 0)
		return rc;
	struct pg_args a = {0};
	ml_pg_arg(&a, r->state_hash);
	ml_pg_arg(&a, r->org_id);
	ml_pg_arg(&a, r->host_id);
	ml_pg_arg(&a, r->platform);
	ml_pg_arg(&a, r->cookie_hash);
	ml_pg_arg(&a, r->verifier);
	ml_pg_arg_i64(&a, r->link_expires);
	ml_pg_arg_i64(&a, r->expires_at);
	ml_pg_arg_i64(&a, now);
	return ml_pg_q(tx, "INSERT INTO oauth_states(state_hash, org_id, host_id, platform, "
			   "cookie_hash, verifier, link_expires, expires_at, created_at) "
			   "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)", &a, NULL);
}

int ml_pg_oauth_state_take(struct ml_tx *tx, const char *state_hash, const char *cookie_hash,
			   const char *platform, int64_t now_ms, struct ml_oauth_state_row *out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, state_hash);
	/* Locked: two callbacks with the same state (on two nodes) are one after the other. */
	int rc = ml_pg_q(tx, "SELECT org_id, host_id, platform, cookie_hash, verifier, "
			     "link_expires, expires_at, used_at FROM oauth_states "
			     "WHERE state_hash = $1 FOR UPDATE", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	bool used = !ml_pg_null(r, 0, 7);
	memset(out, 0, sizeof *out);
	snprintf(out->state_hash, sizeof out->state_hash, "%s", state_hash);
	copy_text(out->org_id, sizeof out->org_id, r, 0, 0);
	copy_text(out->host_id, sizeof out->host_id, r, 0, 1);
	copy_text(out->platform, sizeof out->platform, r, 0, 2);
	copy_text(out->cookie_hash, sizeof out->cookie_hash, r, 0, 3);
	out->verifier = ml_pg_dup(r, 0, 4);
	out->link_expires = ml_pg_i64(r, 0, 5);
	out->expires_at = ml_pg_i64(r, 0, 6);
	PQclear(r);
	if (used) {
		free(out->verifier);
		out->verifier = NULL;
		return ML_ECONFLICT;
	}
	/* Bound to the browser that started the sign-in: checked before the state is spent. */
	bool cookie_ok = cookie_hash && ml_ct_equal(cookie_hash, strlen(cookie_hash),
						    out->cookie_hash, strlen(out->cookie_hash));
	if (!cookie_ok || !platform || strcmp(platform, out->platform) != 0) {
		free(out->verifier);
		memset(out, 0, sizeof *out);
		return ML_EAUTH;
	}
	struct pg_args b = {0};
	ml_pg_arg_i64(&b, now_ms);
	ml_pg_arg(&b, state_hash);
	rc = ml_pg_q(tx, "UPDATE oauth_states SET used_at = $1 WHERE state_hash = $2 "
			 "AND used_at IS NULL", &b, &r);
	if (rc < 0 || ml_pg_changes(r) != 1) {
		if (rc == 0)
			PQclear(r);
		free(out->verifier);
		out->verifier = NULL;
		return rc < 0 ? rc : ML_ECONFLICT;
	}
	PQclear(r);
	return 0;
}
