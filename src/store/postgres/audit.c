/* The audit trail on PostgreSQL: appended in the caller's transaction, listed oldest first
 * (ids evt_<seq> increase with the order of appending). */
#include "store/postgres/internal.h"
#include "core/json_text.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>

int ml_pg_audit_append(struct ml_tx *tx, const struct ml_audit *ev)
{
	char *data = ev->data ? ml_json_text(ev->data) : NULL;
	struct pg_args a = {0};
	ml_pg_arg(&a, ev->org_id);
	ml_pg_arg(&a, ev->booking_id);
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, ev->type);
	ml_pg_arg(&a, ev->actor ? ev->actor : "system");
	ml_pg_arg(&a, ev->ip && *ev->ip ? ev->ip : NULL);
	ml_pg_arg(&a, data);
	int rc = ml_pg_q(tx, "INSERT INTO audit_events(org_id, booking_id, at, type, actor, ip, "
			     "data) VALUES ($1,$2,$3,$4,$5,$6,$7)", &a, NULL);
	free(data);
	return rc;
}

int ml_pg_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
		     json_t **items)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, booking_id);
	int rc = ml_pg_q(tx, "SELECT seq, at, type, actor, ip, data FROM audit_events "
			     "WHERE org_id = $1 AND booking_id = $2 ORDER BY seq", &a, &r);
	if (rc < 0)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		char at[ML_RFC3339_MAX], id[32];
		int64_t ms = ml_pg_i64(r, i, 1);
		ml_time_format(ms / 1000, at);
		snprintf(id, sizeof id, "evt_%lld", (long long)ml_pg_i64(r, i, 0));
		json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:I}", "id", id, "type",
				      ml_pg_text(r, i, 2), "actor", ml_pg_text(r, i, 3), "at", at,
				      "at_ms", (json_int_t)ms);
		if (!ml_pg_null(r, i, 4))
			json_object_set_new(e, "ip", json_string(ml_pg_text(r, i, 4)));
		if (!ml_pg_null(r, i, 5)) {
			json_t *d = json_loads(ml_pg_text(r, i, 5), 0, NULL);
			if (d)
				json_object_set_new(e, "data", d);
		}
		json_array_append_new(arr, e);
	}
	PQclear(r);
	*items = arr;
	return 0;
}
