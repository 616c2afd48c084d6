/* Organizations, their settings and API keys on PostgreSQL, and the meeting pipeline's
 * look-ups (provider meeting ids -> bookings, inbound events already handled). Inside the
 * caller's transaction; uniqueness rests on constraints, so two nodes racing agree. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/timeutil.h"

#include <stdio.h>

int ml_pg_org_ensure(struct ml_tx *tx, const char *name, char org_id[40])
{
	char id[ML_ID_MAX];
	struct pg_args a = {0};
	PGresult *r;
	ml_id_new(id, "org");
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, name);
	ml_pg_arg_i64(&a, ml_now_ms());
	/* Created unless it exists (a node creating the same name at once waits, then finds
	 * it); either way its id. */
	int rc = ml_pg_q(tx, "INSERT INTO orgs(id, name, created_at) VALUES ($1,$2,$3) "
			     "ON CONFLICT (name) DO NOTHING", &a, NULL);
	if (rc < 0)
		return rc;
	struct pg_args b = {0};
	ml_pg_arg(&b, name);
	if ((rc = ml_pg_q(tx, "SELECT id FROM orgs WHERE name = $1", &b, &r)) < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ml_pg_fail("org", "the organization vanished");
	}
	snprintf(org_id, 40, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

int ml_pg_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id,
		     const char *hash_hex, const char *prefix)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, key_id);
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, hash_hex);
	ml_pg_arg(&a, prefix);
	ml_pg_arg_i64(&a, ml_now_ms());
	int rc = ml_pg_q(tx, "INSERT INTO api_keys(id, org_id, hash, prefix, created_at) "
			     "VALUES ($1,$2,$3,$4,$5) ON CONFLICT DO NOTHING", &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	if (n == 0)
		return ml_error_set(ML_ECONFLICT, "key_exists", NULL, "That API key already exists.");
	return 0;
}

int ml_pg_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40], char key_id[40])
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, hash_hex);
	int rc = ml_pg_q(tx, "SELECT org_id, id FROM api_keys WHERE hash = $1 AND "
			     "revoked_at IS NULL", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	snprintf(org_id, 40, "%s", PQgetvalue(r, 0, 0));
	snprintf(key_id, 40, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	return 0;
}

int ml_pg_key_count(struct ml_tx *tx)
{
	PGresult *r;
	int rc = ml_pg_q(tx, "SELECT count(*) FROM api_keys", NULL, &r);
	if (rc < 0)
		return rc;
	int n = (int)ml_pg_i64(r, 0, 0);
	PQclear(r);
	return n;
}

int ml_pg_org_rate_set(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate)
{
	struct pg_args a = {0};
	PGresult *r;
	if (rate->set) {
		ml_pg_arg_i64(&a, rate->rps);
		ml_pg_arg_i64(&a, rate->burst);
	} else {
		ml_pg_arg(&a, NULL);
		ml_pg_arg(&a, NULL);
	}
	ml_pg_arg(&a, name);
	int rc = ml_pg_q(tx, "UPDATE orgs SET rate_rps = $1, rate_burst = $2 WHERE name = $3", &a,
			 &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	if (n == 0)
		return ml_error_set(ML_ENOTFOUND, "not_found", "org",
				    "No organization is named '%s'.", name);
	return 0;
}

int ml_pg_org_rate_get(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out)
{
	struct pg_args a = {0};
	PGresult *r;
	struct ml_org_rate v = {0};
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, "SELECT rate_rps, rate_burst FROM orgs WHERE id = $1", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) > 0 && !ml_pg_null(r, 0, 0)) {
		v.set = true;
		v.rps = ml_pg_i64(r, 0, 0);
		v.burst = ml_pg_i64(r, 0, 1);
	}
	PQclear(r);
	*out = v;
	return 0;
}

/* --- the meeting pipeline's look-ups --- */

int ml_pg_provider_meeting_put(struct ml_tx *tx, const char *platform, const char *external_id,
			       const char *org_id, const char *booking_id, const char *meeting_id)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, platform);
	ml_pg_arg(&a, external_id);
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	ml_pg_arg(&a, meeting_id);
	ml_pg_arg_i64(&a, ml_now_ms());
	return ml_pg_q(tx, "INSERT INTO provider_meetings(platform, external_id, org_id, "
			   "booking_id, meeting_id, created_at) VALUES ($1,$2,$3,$4,$5,$6) "
			   "ON CONFLICT (platform, external_id) DO UPDATE SET org_id = $3, "
			   "booking_id = $4, meeting_id = $5, created_at = $6", &a, NULL);
}

int ml_pg_provider_meeting_find(struct ml_tx *tx, const char *platform, const char *external_id,
				char org_id[40], char booking_id[40], char meeting_id[40])
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, platform);
	ml_pg_arg(&a, external_id);
	int rc = ml_pg_q(tx, "SELECT org_id, booking_id, meeting_id FROM provider_meetings "
			     "WHERE platform = $1 AND external_id = $2", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such provider meeting.");
	}
	snprintf(org_id, 40, "%s", PQgetvalue(r, 0, 0));
	snprintf(booking_id, 40, "%s", PQgetvalue(r, 0, 1));
	snprintf(meeting_id, 40, "%s", PQgetvalue(r, 0, 2));
	PQclear(r);
	return 0;
}

int ml_pg_inbound_event_first(struct ml_tx *tx, const char *provider, const char *key,
			      int64_t now_ms, int64_t keep_ms)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, provider);
	ml_pg_arg(&a, key);
	ml_pg_arg_i64(&a, now_ms);
	/* The primary key decides, atomically across nodes: a delivery of the same event to
	 * another node at the same moment waits for this one and finds it taken. */
	int rc = ml_pg_q(tx, "INSERT INTO inbound_events(provider, event_key, received_at) "
			     "VALUES ($1,$2,$3) ON CONFLICT DO NOTHING", &a, &r);
	if (rc < 0)
		return rc;
	int fresh = ml_pg_changes(r) > 0;
	PQclear(r);
	/* Keys older than the replay window can never be replayed: forget them. */
	struct pg_args b = {0};
	ml_pg_arg_i64(&b, now_ms - keep_ms);
	if ((rc = ml_pg_q(tx, "DELETE FROM inbound_events WHERE received_at < $1", &b, NULL)) < 0)
		return rc;
	return fresh;
}
