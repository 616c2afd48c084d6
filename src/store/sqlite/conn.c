/* Connections and OAuth states on SQLite. Every function runs inside the caller's
 * transaction; secret columns are opaque vault ciphertexts here. */
#include "store/sqlite/internal.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

#define CONN_COLS                                                                            \
	"id, org_id, host_id, platform, kind, status, account_email, scopes, config, "          \
	"access_token, refresh_token, secret, expires_at, lease_until, last_error, "            \
	"last_error_code, last_error_at, connected_at, refreshed_at, created_at, updated_at"

static char *opt_text(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	return ml_strdup((const char *)sqlite3_column_text(st, i));
}

static void copy_text(char *dst, size_t n, sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	snprintf(dst, n, "%s", s ? s : "");
}

static void read_row(sqlite3_stmt *st, struct ml_conn_row *r)
{
	memset(r, 0, sizeof *r);
	copy_text(r->id, sizeof r->id, st, 0);
	copy_text(r->org_id, sizeof r->org_id, st, 1);
	copy_text(r->host_id, sizeof r->host_id, st, 2);
	copy_text(r->platform, sizeof r->platform, st, 3);
	copy_text(r->kind, sizeof r->kind, st, 4);
	copy_text(r->status, sizeof r->status, st, 5);
	r->account_email = opt_text(st, 6);
	r->scopes = opt_text(st, 7);
	r->config = opt_text(st, 8);
	r->access_token = opt_text(st, 9);
	r->refresh_token = opt_text(st, 10);
	r->secret = opt_text(st, 11);
	r->expires_at = sqlite3_column_int64(st, 12);
	r->lease_until = sqlite3_column_int64(st, 13);
	r->last_error = opt_text(st, 14);
	r->last_error_code = opt_text(st, 15);
	r->last_error_at = sqlite3_column_int64(st, 16);
	r->connected_at = sqlite3_column_int64(st, 17);
	r->refreshed_at = sqlite3_column_int64(st, 18);
	r->created_at = sqlite3_column_int64(st, 19);
	r->updated_at = sqlite3_column_int64(st, 20);
}

static int one_row(struct sq_conn *c, sqlite3_stmt *st, struct ml_conn_row *out)
{
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		read_row(st, out);
		sqlite3_reset(st);
		return 0;
	}
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such connection.");
	return ml_sq_fail(c->db, "connection get");
}

int ml_sq_conn_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
		host_id ? ml_sq_prep(c, "SELECT " CONN_COLS " FROM connections WHERE org_id = ? "
					"AND platform = ? AND host_id = ?")
			: ml_sq_prep(c, "SELECT " CONN_COLS " FROM connections WHERE org_id = ? "
					"AND platform = ? AND host_id IS NULL");
	if (!st)
		return ml_sq_fail(c->db, "connection get");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, platform, -1, SQLITE_STATIC);
	if (host_id)
		sqlite3_bind_text(st, 3, host_id, -1, SQLITE_STATIC);
	return one_row(c, st, out);
}

int ml_sq_conn_get_id(struct ml_tx *tx, const char *id, struct ml_conn_row *out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT " CONN_COLS " FROM connections WHERE id = ?");
	if (!st)
		return ml_sq_fail(c->db, "connection get");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	return one_row(c, st, out);
}

static void bind_ms(sqlite3_stmt *st, int i, int64_t v)
{
	if (v)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

int ml_sq_conn_put(struct ml_tx *tx, const struct ml_conn_row *r)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int64_t now = ml_now_ms();
	sqlite3_stmt *st = ml_sq_prep(
		c, "INSERT INTO connections(" CONN_COLS ") VALUES "
		   "(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?20) "
		   "ON CONFLICT(id) DO UPDATE SET status = ?6, account_email = ?7, scopes = ?8, "
		   "config = ?9, access_token = ?10, refresh_token = ?11, secret = ?12, "
		   "expires_at = ?13, lease_until = ?14, last_error = ?15, last_error_code = ?16, "
		   "last_error_at = ?17, connected_at = ?18, refreshed_at = ?19, updated_at = ?20, "
		   "kind = ?5");
	if (!st)
		return ml_sq_fail(c->db, "connection put");
	sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->org_id, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 3, r->host_id[0] ? r->host_id : NULL);
	sqlite3_bind_text(st, 4, r->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->status, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 7, r->account_email);
	ml_sq_bind_opt(st, 8, r->scopes);
	ml_sq_bind_opt(st, 9, r->config);
	ml_sq_bind_opt(st, 10, r->access_token);
	ml_sq_bind_opt(st, 11, r->refresh_token);
	ml_sq_bind_opt(st, 12, r->secret);
	bind_ms(st, 13, r->expires_at);
	bind_ms(st, 14, r->lease_until);
	ml_sq_bind_opt(st, 15, r->last_error);
	ml_sq_bind_opt(st, 16, r->last_error_code);
	bind_ms(st, 17, r->last_error_at);
	bind_ms(st, 18, r->connected_at);
	bind_ms(st, 19, r->refreshed_at);
	sqlite3_bind_int64(st, 20, now);
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_CONSTRAINT)
		return ml_error_set(ML_ECONFLICT, "connection_exists", NULL,
				    "Another connection already exists for this platform.");
	if (rc != SQLITE_DONE)
		return ml_sq_fail(c->db, "connection put");
	return 0;
}

int ml_sq_conn_list(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st;
	if (!org_id)
		st = ml_sq_prep(c, "SELECT " CONN_COLS " FROM connections ORDER BY created_at, id");
	else if (host_id)
		st = ml_sq_prep(c, "SELECT " CONN_COLS " FROM connections WHERE org_id = ? AND "
				   "host_id = ? ORDER BY created_at, id");
	else
		st = ml_sq_prep(c, "SELECT " CONN_COLS " FROM connections WHERE org_id = ? AND "
				   "host_id IS NULL ORDER BY created_at, id");
	if (!st)
		return ml_sq_fail(c->db, "connection list");
	if (org_id)
		sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	if (org_id && host_id)
		sqlite3_bind_text(st, 2, host_id, -1, SQLITE_STATIC);
	struct ml_conn_row *out = NULL;
	size_t k = 0, cap = 0;
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		out = ml_grow(out, k, &cap, sizeof *out, 8);
		read_row(st, &out[k++]);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		for (size_t i = 0; i < k; i++)
			ml_conn_row_clear(&out[i]);
		free(out);
		return ml_sq_fail(c->db, "connection list");
	}
	*rows = out;
	*n = (int)k;
	return 0;
}

int ml_sq_conn_lease(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms)
{
	struct sq_conn *c = ml_sq_txc(tx);
	/* Conditional on the lease being free, so two writers (or two nodes on a shared store)
	 * can never both take it. */
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE connections SET lease_until = ? WHERE id = ? "
					 "AND (lease_until IS NULL OR lease_until <= ?)");
	if (!st)
		return ml_sq_fail(c->db, "connection lease");
	sqlite3_bind_int64(st, 1, lease_until_ms);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "connection lease");
	return sqlite3_changes(c->db) > 0 ? 1 : 0;
}

int ml_sq_oauth_state_put(struct ml_tx *tx, const struct ml_oauth_state_row *r)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int64_t now = ml_now_ms();
	sqlite3_stmt *st = ml_sq_prep(c, "DELETE FROM oauth_states WHERE expires_at < ?");
	if (!st)
		return ml_sq_fail(c->db, "oauth state");
	/* Used or abandoned states are kept a day (a replay answers "already used"). */
	sqlite3_bind_int64(st, 1, now - 86400000);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "oauth state");
	st = ml_sq_prep(c, "INSERT INTO oauth_states(state_hash, org_id, host_id, platform, "
			   "cookie_hash, verifier, link_expires, expires_at, created_at) "
			   "VALUES (?,?,?,?,?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "oauth state");
	sqlite3_bind_text(st, 1, r->state_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->host_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->platform, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->cookie_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->verifier, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, r->link_expires);
	sqlite3_bind_int64(st, 8, r->expires_at);
	sqlite3_bind_int64(st, 9, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "oauth state");
	return 0;
}

int ml_sq_oauth_state_take(struct ml_tx *tx, const char *state_hash, const char *cookie_hash,
			   const char *platform, int64_t now_ms, struct ml_oauth_state_row *out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT org_id, host_id, platform, cookie_hash, verifier, "
					 "link_expires, expires_at, used_at FROM oauth_states "
					 "WHERE state_hash = ?");
	if (!st)
		return ml_sq_fail(c->db, "oauth state");
	sqlite3_bind_text(st, 1, state_hash, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "oauth state");
	}
	bool used = sqlite3_column_type(st, 7) != SQLITE_NULL;
	memset(out, 0, sizeof *out);
	snprintf(out->state_hash, sizeof out->state_hash, "%s", state_hash);
	copy_text(out->org_id, sizeof out->org_id, st, 0);
	copy_text(out->host_id, sizeof out->host_id, st, 1);
	copy_text(out->platform, sizeof out->platform, st, 2);
	copy_text(out->cookie_hash, sizeof out->cookie_hash, st, 3);
	out->verifier = opt_text(st, 4);
	out->link_expires = sqlite3_column_int64(st, 5);
	out->expires_at = sqlite3_column_int64(st, 6);
	sqlite3_reset(st);
	if (used) {
		free(out->verifier);
		out->verifier = NULL;
		return ML_ECONFLICT;
	}
	/* Bound to the browser that started the sign-in: checked before the state is spent,
	 * so a callback from anywhere else leaves it usable for the host. */
	bool cookie_ok = cookie_hash && ml_ct_equal(cookie_hash, strlen(cookie_hash),
						    out->cookie_hash, strlen(out->cookie_hash));
	if (!cookie_ok || !platform || strcmp(platform, out->platform) != 0) {
		free(out->verifier);
		memset(out, 0, sizeof *out);
		return ML_EAUTH;
	}
	st = ml_sq_prep(c, "UPDATE oauth_states SET used_at = ? WHERE state_hash = ? "
			   "AND used_at IS NULL");
	if (!st) {
		free(out->verifier);
		out->verifier = NULL;
		return ml_sq_fail(c->db, "oauth state");
	}
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_text(st, 2, state_hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(c->db) != 1) {
		free(out->verifier);
		out->verifier = NULL;
		return ML_ECONFLICT;
	}
	return 0;
}
