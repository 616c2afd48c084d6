/* The join gateway's links on PostgreSQL (migration 0002): the hash of each token and the
 * participant it lets in. Inside the caller's transaction; prepared. A link recorded twice
 * (the same booking saved on two nodes) is one row: the hash is unique. */
#include "store/postgres/internal.h"

/* Built once the store has the gateway's operations (docs version 2). */
#if ML_STORE_DOCS_VERSION >= 2
#include "core/error.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <string.h>

int ml_pg_gateway_link_put(struct ml_tx *tx, const struct ml_gateway_link *l)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, l->token_hash);
	ml_pg_arg(&a, l->org_id);
	ml_pg_arg(&a, l->booking_id);
	ml_pg_arg(&a, l->participant_id);
	ml_pg_arg(&a, l->role);
	ml_pg_arg_i64(&a, l->generation);
	ml_pg_arg_i64(&a, ml_now_ms());
	return ml_pg_q(tx, "INSERT INTO gateway_links(token_hash, org_id, booking_id, "
			   "participant_id, role, generation, created_at) "
			   "VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT DO NOTHING", &a, NULL);
}

int ml_pg_gateway_link_find(struct ml_tx *tx, const char *token_hash,
			    struct ml_gateway_link *out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, token_hash);
	int rc = ml_pg_q(tx, "SELECT org_id, booking_id, participant_id, role, generation "
			     "FROM gateway_links WHERE token_hash = $1", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such link.");
	}
	struct ml_gateway_link l;
	memset(&l, 0, sizeof l);
	snprintf(l.token_hash, sizeof l.token_hash, "%s", token_hash);
	snprintf(l.org_id, sizeof l.org_id, "%s", ml_pg_text(r, 0, 0));
	snprintf(l.booking_id, sizeof l.booking_id, "%s", ml_pg_text(r, 0, 1));
	snprintf(l.participant_id, sizeof l.participant_id, "%s", ml_pg_text(r, 0, 2));
	snprintf(l.role, sizeof l.role, "%s", ml_pg_text(r, 0, 3));
	l.generation = ml_pg_i64(r, 0, 4);
	PQclear(r);
	*out = l;
	return 0;
}

int ml_pg_gateway_link_revoke(struct ml_tx *tx, const char *org_id, const char *booking_id,
			      const char *participant_id)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	if (!participant_id)
		return ml_pg_q(tx, "DELETE FROM gateway_links WHERE org_id = $1 AND booking_id = $2",
			       &a, NULL);
	ml_pg_arg(&a, participant_id);
	return ml_pg_q(tx, "DELETE FROM gateway_links WHERE org_id = $1 AND booking_id = $2 "
			   "AND participant_id = $3", &a, NULL);
}
#endif
