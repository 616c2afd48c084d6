/* The waiting room's rows (`admissions`, migration postgresql/0003) and the organizations'
 * settings (`orgs.settings`) on PostgreSQL. An admission decides on what it read: in a write,
 * a booking's admissions are taken in turns (a transaction advisory lock on the booking), so
 * two nodes' decisions on one room are strictly ordered and its seq numbers never repeat. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/json_text.h"

#include <stdlib.h>
#include <string.h>

static json_t *parse(PGresult *r, int i, int col)
{
	json_t *o = ml_pg_null(r, i, col) ? NULL : json_loads(ml_pg_text(r, i, col), 0, NULL);
	return json_is_object(o) ? o : (json_decref(o), json_object());
}

/* In a write: this booking's waiting room is ours until commit. */
static int room_lock(struct ml_tx *tx, const char *org_id, const char *booking_id)
{
	if (!ml_pg_writable(tx))
		return 0;
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	return ml_pg_q(tx, "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 2))",
		       &a, NULL);
}

int ml_pg_org_settings_get(struct ml_tx *tx, const char *org_id, json_t **out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, ml_pg_writable(tx) ? "SELECT settings FROM orgs WHERE id = $1 FOR UPDATE"
						: "SELECT settings FROM orgs WHERE id = $1",
			 &a, &r);
	if (rc < 0)
		return rc;
	*out = PQntuples(r) > 0 ? parse(r, 0, 0) : json_object();
	PQclear(r);
	return 0;
}

int ml_pg_org_settings_put(struct ml_tx *tx, const char *org_id, json_t *settings)
{
	char *text = ml_json_text(settings);
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, text);
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, "UPDATE orgs SET settings = $1 WHERE id = $2", &a, &r);
	free(text);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n ? 0 : ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such organization.");
}

static json_t *row_of(PGresult *r, int i)
{
	json_t *o = parse(r, i, 1);
	json_object_set_new(o, "seq", json_integer(ml_pg_i64(r, i, 0)));
	return o;
}

int ml_pg_admission_get(struct ml_tx *tx, const char *org_id, const char *booking_id,
			const char *participant_id, json_t **out)
{
	int rc = room_lock(tx, org_id, booking_id);
	if (rc < 0)
		return rc;
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	ml_pg_arg(&a, participant_id);
	if ((rc = ml_pg_q(tx, "SELECT seq, body FROM admissions WHERE org_id = $1 AND "
			      "booking_id = $2 AND participant_id = $3", &a, &r)) < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ml_error_set(ML_ENOTFOUND, "not_found", "participant_id",
				    "That participant has not asked to join.");
	}
	*out = row_of(r, 0);
	PQclear(r);
	return 0;
}

int ml_pg_admission_put(struct ml_tx *tx, const char *org_id, const char *booking_id,
			json_t *row)
{
	const char *pid = json_string_value(json_object_get(row, "participant_id"));
	if (!pid)
		return ml_error_set(ML_EINVAL, "invalid_field", "participant_id",
				    "An admission names its participant.");
	int rc = room_lock(tx, org_id, booking_id);
	if (rc < 0)
		return rc;
	struct pg_args s = {0};
	PGresult *r;
	ml_pg_arg(&s, org_id);
	ml_pg_arg(&s, booking_id);
	if ((rc = ml_pg_q(tx, "SELECT COALESCE(MAX(seq), 0) + 1 FROM admissions "
			      "WHERE org_id = $1 AND booking_id = $2", &s, &r)) < 0)
		return rc;
	int64_t next = ml_pg_i64(r, 0, 0);
	PQclear(r);
	json_object_del(row, "seq"); /* a column, not part of the body */
	char *text = ml_json_text(row);
	if (!text)
		return ml_error_set(ML_EINVAL, "invalid_field", NULL, "The admission is not JSON.");
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	ml_pg_arg(&a, pid);
	ml_pg_arg_i64(&a, next);
	ml_pg_arg(&a, text);
	rc = ml_pg_q(tx, "INSERT INTO admissions (org_id, booking_id, participant_id, seq, body) "
			 "VALUES ($1,$2,$3,$4,$5) ON CONFLICT (org_id, booking_id, participant_id) "
			 "DO UPDATE SET seq = $4, body = $5", &a, NULL);
	free(text);
	if (rc < 0)
		return rc;
	json_object_set_new(row, "seq", json_integer(next));
	return 0;
}

int ml_pg_admission_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 int64_t after_seq, json_t **out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	ml_pg_arg_i64(&a, after_seq);
	int rc = ml_pg_q(tx, "SELECT seq, body FROM admissions WHERE org_id = $1 AND "
			     "booking_id = $2 AND seq > $3 ORDER BY seq", &a, &r);
	if (rc < 0)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(r); i++)
		json_array_append_new(arr, row_of(r, i));
	PQclear(r);
	*out = arr;
	return 0;
}
