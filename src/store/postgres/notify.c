/* Messages out on PostgreSQL: email templates, webhook endpoints, deliveries and their
 * attempts. Every function runs inside the caller's transaction; every statement is prepared.
 * A delivery is written once by id (a fan-out run again on any node adds nothing). */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *col_time(PGresult *r, int i, int col)
{
	char buf[ML_RFC3339_MAX];
	if (ml_pg_null(r, i, col))
		return json_null();
	ml_time_format(ml_pg_i64(r, i, col) / 1000, buf);
	return json_string(buf);
}

static json_t *col_opt(PGresult *r, int i, int col)
{
	return ml_pg_null(r, i, col) ? json_null() : json_string(ml_pg_text(r, i, col));
}

static int changed(struct ml_tx *tx, const char *sql, const struct pg_args *a, int *n)
{
	PGresult *r;
	int rc = ml_pg_q(tx, sql, a, &r);
	if (rc < 0)
		return rc;
	*n = ml_pg_changes(r);
	PQclear(r);
	return 0;
}

/* --- templates --- */

int ml_pg_template_get(struct ml_tx *tx, const char *org_id, const char *name, json_t **out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, name);
	int rc = ml_pg_q(tx, "SELECT subject, text_body, html_body, updated_at "
			     "FROM email_templates WHERE org_id = $1 AND name = $2", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "subject", ml_pg_text(r, 0, 0), "text",
			      ml_pg_text(r, 0, 1), "html", ml_pg_text(r, 0, 2));
	json_object_set_new(o, "updated_at", col_time(r, 0, 3));
	PQclear(r);
	*out = o;
	return 0;
}

int ml_pg_template_put(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, name);
	ml_pg_arg(&a, json_string_value(json_object_get(tpl, "subject")));
	ml_pg_arg(&a, json_string_value(json_object_get(tpl, "text")));
	ml_pg_arg(&a, json_string_value(json_object_get(tpl, "html")));
	ml_pg_arg_i64(&a, ml_now_ms());
	return ml_pg_q(tx, "INSERT INTO email_templates(org_id, name, subject, text_body, "
			   "html_body, updated_at) VALUES ($1,$2,$3,$4,$5,$6) "
			   "ON CONFLICT (org_id, name) DO UPDATE SET subject = excluded.subject, "
			   "text_body = excluded.text_body, html_body = excluded.html_body, "
			   "updated_at = excluded.updated_at", &a, NULL);
}

int ml_pg_template_delete(struct ml_tx *tx, const char *org_id, const char *name)
{
	struct pg_args a = {0};
	int n, rc;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, name);
	if ((rc = changed(tx, "DELETE FROM email_templates WHERE org_id = $1 AND name = $2", &a,
			  &n)) < 0)
		return rc;
	return n ? 0 : ML_ENOTFOUND;
}

/* --- endpoints --- */

#define EP_COLS                                                                              \
	"seq, id, url, events, description, created_at, updated_at, secret, status, "        \
	"failing_since, disabled_at, contact_email"

static json_t *endpoint_row(PGresult *r, int i)
{
	json_t *events = json_loads(ml_pg_text(r, i, 3), 0, NULL);
	json_t *o = json_pack("{s:s, s:s, s:s, s:o}", "id", ml_pg_text(r, i, 1), "object",
			      "webhook_endpoint", "url", ml_pg_text(r, i, 2), "events",
			      events ? events : json_array());
	json_object_set_new(o, "description", col_opt(r, i, 4));
	json_object_set_new(o, "status", json_string(ml_pg_text(r, i, 8)));
	json_object_set_new(o, "failing_since", col_time(r, i, 9));
	json_object_set_new(o, "disabled_at", col_time(r, i, 10));
	json_object_set_new(o, "contact_email", col_opt(r, i, 11));
	json_object_set_new(o, "created_at", col_time(r, i, 5));
	json_object_set_new(o, "updated_at", col_time(r, i, 6));
	return o;
}

int ml_pg_endpoint_insert(struct ml_tx *tx, const char *org_id, json_t *ep, const char *secret)
{
	char *events = json_dumps(json_object_get(ep, "events"), JSON_COMPACT);
	int64_t now = ml_now_ms();
	struct pg_args a = {0};
	ml_pg_arg(&a, json_string_value(json_object_get(ep, "id")));
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, json_string_value(json_object_get(ep, "url")));
	ml_pg_arg(&a, events ? events : "[]");
	ml_pg_arg(&a, json_string_value(json_object_get(ep, "description")));
	ml_pg_arg(&a, secret);
	ml_pg_arg_i64(&a, now);
	ml_pg_arg(&a, json_string_value(json_object_get(ep, "contact_email")));
	int rc = ml_pg_q(tx, "INSERT INTO webhook_endpoints(id, org_id, url, events, description, "
			     "secret, created_at, updated_at, contact_email) "
			     "VALUES ($1,$2,$3,$4,$5,$6,$7,$7,$8)", &a, NULL);
	free(events);
	return rc;
}

int ml_pg_endpoint_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **ep,
		       char **secret)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	int rc = ml_pg_q(tx, "SELECT " EP_COLS " FROM webhook_endpoints WHERE org_id = $1 "
			     "AND id = $2", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	*ep = endpoint_row(r, 0);
	if (secret)
		*secret = ml_strdup(ml_pg_text(r, 0, 7));
	PQclear(r);
	return 0;
}

int ml_pg_endpoint_list(struct ml_tx *tx, const char *org_id, const struct ml_list_query *q,
			json_t **items, char **next_cursor)
{
	int64_t after = 0;
	char idbuf[40];
	int limit = q && q->limit > 0 ? q->limit : -1;
	if (q && q->cursor) {
		int rc = ml_store_cursor_decode(q->cursor, &after, idbuf);
		if (rc < 0)
			return rc;
	}
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg_i64(&a, after);
	ml_pg_arg_i64(&a, limit < 0 ? INT32_MAX : limit + 1);
	int rc = ml_pg_q(tx, "SELECT " EP_COLS " FROM webhook_endpoints WHERE org_id = $1 "
			     "AND seq > $2 ORDER BY seq LIMIT $3", &a, &r);
	if (rc < 0)
		return rc;
	char *next = NULL;
	rc = ml_pg_page(r, limit < 0 ? INT32_MAX : limit, endpoint_row, 0, 1, items, &next);
	PQclear(r);
	if (next_cursor)
		*next_cursor = next;
	else
		free(next);
	return rc;
}

int ml_pg_endpoint_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct pg_args a = {0};
	int n, rc;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	if ((rc = changed(tx, "DELETE FROM webhook_endpoints WHERE org_id = $1 AND id = $2", &a,
			  &n)) < 0)
		return rc;
	if (n == 0)
		return ML_ENOTFOUND;
	if ((rc = ml_pg_q(tx, "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM "
			      "webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2)", &a,
			  NULL)) < 0)
		return rc;
	return ml_pg_q(tx, "DELETE FROM webhook_deliveries WHERE org_id = $1 AND endpoint_id = $2",
		       &a, NULL);
}

int ml_pg_endpoint_update(struct ml_tx *tx, const char *org_id, const char *id, json_t *patch)
{
	json_t *en = json_object_get(patch, "enabled");
	json_t *desc = json_object_get(patch, "description");
	json_t *mail = json_object_get(patch, "contact_email");
	json_t *events = json_object_get(patch, "events");
	char *ev = events ? json_dumps(events, JSON_COMPACT) : NULL;
	struct pg_args a = {0};
	int n;
	ml_pg_arg(&a, en ? (json_is_true(en) ? "t" : "f") : NULL);
	ml_pg_arg_bool(&a, desc != NULL);
	ml_pg_arg(&a, json_string_value(desc));
	ml_pg_arg_bool(&a, mail != NULL);
	ml_pg_arg(&a, json_string_value(mail));
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, ev);
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	/* Enabling starts the endpoint's failure clock afresh. */
	int rc = changed(
		tx, "UPDATE webhook_endpoints SET "
		    "status = CASE WHEN $1::boolean IS NULL THEN status WHEN $1::boolean THEN "
		    "'enabled' ELSE 'disabled' END, "
		    "failing_since = CASE WHEN $1::boolean IS NULL THEN failing_since ELSE NULL END, "
		    "disabled_at = CASE WHEN $1::boolean IS NULL THEN disabled_at WHEN $1::boolean "
		    "THEN NULL WHEN status = 'disabled' THEN disabled_at ELSE $6::bigint END, "
		    "description = CASE WHEN $2::boolean THEN $3::text ELSE description END, "
		    "contact_email = CASE WHEN $4::boolean THEN $5::text ELSE contact_email END, "
		    "events = COALESCE($7::text, events), updated_at = $6::bigint "
		    "WHERE org_id = $8 AND id = $9", &a, &n);
	free(ev);
	if (rc < 0)
		return rc;
	return n ? 0 : ML_ENOTFOUND;
}

int ml_pg_endpoint_health(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
			  int64_t at_ms, int64_t disable_after_ms, bool *disabled)
{
	struct pg_args a = {0};
	int n, rc;
	*disabled = false;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	if (!ok)
		ml_pg_arg_i64(&a, at_ms);
	rc = ml_pg_q(tx, ok ? "UPDATE webhook_endpoints SET failing_since = NULL "
			      "WHERE org_id = $1 AND id = $2 AND failing_since IS NOT NULL"
			    : "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, $3) "
			      "WHERE org_id = $1 AND id = $2", &a, NULL);
	if (rc < 0 || ok || disable_after_ms <= 0)
		return rc;
	struct pg_args b = {0};
	ml_pg_arg_i64(&b, ml_now_ms());
	ml_pg_arg(&b, org_id);
	ml_pg_arg(&b, id);
	ml_pg_arg_i64(&b, at_ms - disable_after_ms);
	/* Conditional on still being enabled: one caller, on one node, disables it. */
	if ((rc = changed(tx, "UPDATE webhook_endpoints SET status = 'disabled', disabled_at = $1, "
			      "updated_at = $1 WHERE org_id = $2 AND id = $3 AND status = 'enabled' "
			      "AND failing_since IS NOT NULL AND failing_since <= $4", &b, &n)) < 0)
		return rc;
	*disabled = n == 1;
	return 0;
}

/* --- deliveries --- */

int ml_pg_delivery_insert(struct ml_tx *tx, const struct ml_webhook_delivery_new *d)
{
	int64_t now = ml_now_ms();
	struct pg_args a = {0};
	ml_pg_arg(&a, d->id);
	ml_pg_arg(&a, d->org_id);
	ml_pg_arg(&a, d->endpoint_id);
	ml_pg_arg(&a, d->event_type);
	ml_pg_arg(&a, d->booking_id);
	ml_pg_arg(&a, d->body);
	ml_pg_arg_i64(&a, now);
	return ml_pg_q(tx, "INSERT INTO webhook_deliveries(id, org_id, endpoint_id, event_type, "
			   "booking_id, body, state, created_at, updated_at) "
			   "VALUES ($1,$2,$3,$4,$5,$6,'pending',$7,$7) ON CONFLICT (id) DO NOTHING",
		       &a, NULL);
}

#define DLV_COLS                                                                             \
	"seq, id, endpoint_id, event_type, booking_id, body, state, attempts, last_status, "  \
	"last_error, created_at, updated_at, delivered_at"

static int attempts_of(struct ml_tx *tx, const char *delivery_id, json_t **out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, delivery_id);
	int rc = ml_pg_q(tx, "SELECT at, status, duration_ms, error FROM webhook_attempts "
			     "WHERE delivery_id = $1 ORDER BY seq", &a, &r);
	if (rc < 0)
		return rc;
	json_t *arr = json_array();
	for (int i = 0; i < PQntuples(r); i++) {
		json_t *o = json_object();
		json_object_set_new(o, "at", col_time(r, i, 0));
		json_object_set_new(o, "at_ms", json_integer(ml_pg_i64(r, i, 0)));
		json_object_set_new(o, "status", ml_pg_null(r, i, 1)
							 ? json_null()
							 : json_integer(ml_pg_i64(r, i, 1)));
		json_object_set_new(o, "duration_ms", json_integer(ml_pg_i64(r, i, 2)));
		json_object_set_new(o, "error", col_opt(r, i, 3));
		json_array_append_new(arr, o);
	}
	PQclear(r);
	*out = arr;
	return 0;
}

static json_t *delivery_row(PGresult *r, int i)
{
	json_t *payload = json_loads(ml_pg_text(r, i, 5), 0, NULL);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", ml_pg_text(r, i, 1),
			      "object", "webhook_delivery", "endpoint_id", ml_pg_text(r, i, 2),
			      "event_type", ml_pg_text(r, i, 3), "state", ml_pg_text(r, i, 6),
			      "attempt_count", (int)ml_pg_i64(r, i, 7));
	json_object_set_new(o, "booking_id", col_opt(r, i, 4));
	json_object_set_new(o, "last_status", ml_pg_null(r, i, 8)
						      ? json_null()
						      : json_integer(ml_pg_i64(r, i, 8)));
	json_object_set_new(o, "last_error", col_opt(r, i, 9));
	json_object_set_new(o, "created_at", col_time(r, i, 10));
	json_object_set_new(o, "updated_at", col_time(r, i, 11));
	json_object_set_new(o, "delivered_at", col_time(r, i, 12));
	json_object_set_new(o, "payload", payload ? payload : json_object());
	return o;
}

int ml_pg_delivery_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **delivery,
		       char **body)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	int rc = ml_pg_q(tx, "SELECT " DLV_COLS " FROM webhook_deliveries WHERE org_id = $1 "
			     "AND id = $2", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	json_t *o = delivery_row(r, 0);
	char *b = body ? ml_strdup(ml_pg_text(r, 0, 5)) : NULL;
	PQclear(r);
	json_t *attempts;
	if ((rc = attempts_of(tx, id, &attempts)) < 0) {
		json_decref(o);
		free(b);
		return rc;
	}
	json_object_set_new(o, "attempts", attempts);
	*delivery = o;
	if (body)
		*body = b;
	return 0;
}

int ml_pg_delivery_list(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
			const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	int64_t before = INT64_MAX;
	char idbuf[40];
	int limit = q->limit > 0 ? q->limit : 50, rc;
	if (q->cursor && (rc = ml_store_cursor_decode(q->cursor, &before, idbuf)) < 0)
		return rc;
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, endpoint_id);
	ml_pg_arg_i64(&a, before);
	ml_pg_arg_i64(&a, limit + 1);
	if ((rc = ml_pg_q(tx, "SELECT " DLV_COLS " FROM webhook_deliveries WHERE org_id = $1 "
			      "AND endpoint_id = $2 AND seq < $3 ORDER BY seq DESC LIMIT $4", &a,
			  &r)) < 0)
		return rc;
	json_t *arr;
	rc = ml_pg_page(r, limit, delivery_row, 0, 1, &arr, next_cursor);
	PQclear(r);
	size_t i;
	json_t *d;
	json_array_foreach(arr, i, d)
	{
		json_t *attempts;
		if ((rc = attempts_of(tx, json_string_value(json_object_get(d, "id")), &attempts)) <
		    0) {
			json_decref(arr);
			free(*next_cursor);
			*next_cursor = NULL;
			return rc;
		}
		json_object_set_new(d, "attempts", attempts);
	}
	*items = arr;
	return 0;
}

int ml_pg_attempt_record(struct ml_tx *tx, const struct ml_webhook_attempt *at)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, at->delivery_id);
	ml_pg_arg_i64(&a, at->at_ms);
	ml_pg_arg_ms(&a, at->status > 0 ? at->status : 0);
	ml_pg_arg_i64(&a, at->duration_ms);
	ml_pg_arg(&a, at->error);
	int rc = ml_pg_q(tx, "INSERT INTO webhook_attempts(delivery_id, at, status, duration_ms, "
			     "error) VALUES ($1,$2,$3,$4,$5)", &a, NULL);
	if (rc < 0)
		return rc;
	int64_t now = ml_now_ms();
	struct pg_args b = {0};
	ml_pg_arg(&b, at->state);
	ml_pg_arg_ms(&b, at->status > 0 ? at->status : 0);
	ml_pg_arg(&b, at->error);
	ml_pg_arg_i64(&b, now);
	ml_pg_arg(&b, at->delivery_id);
	return ml_pg_q(tx, "UPDATE webhook_deliveries SET state = $1, attempts = attempts + 1, "
			   "last_status = $2, last_error = $3, updated_at = $4, "
			   "delivered_at = CASE WHEN $1 = 'delivered' THEN $4 ELSE delivered_at END "
			   "WHERE id = $5", &b, NULL);
}

int ml_pg_delivery_requeue(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	int rc = ml_pg_q(tx, "SELECT state FROM webhook_deliveries WHERE org_id = $1 AND id = $2 "
			     "FOR UPDATE", &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ML_ENOTFOUND;
	}
	bool pending = strcmp(ml_pg_text(r, 0, 0), "pending") == 0;
	PQclear(r);
	if (pending)
		return ml_error_set(ML_ECONFLICT, "invalid_transition", "state",
				    "This delivery is still pending: its retries are queued.");
	struct pg_args b = {0};
	ml_pg_arg_i64(&b, ml_now_ms());
	ml_pg_arg(&b, org_id);
	ml_pg_arg(&b, id);
	return ml_pg_q(tx, "UPDATE webhook_deliveries SET state = 'pending', updated_at = $1 "
			   "WHERE org_id = $2 AND id = $3", &b, NULL);
}

int ml_pg_delivery_skip(struct ml_tx *tx, const char *id, const char *why)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, why);
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, id);
	return ml_pg_q(tx, "UPDATE webhook_deliveries SET state = 'failed', last_error = $1, "
			   "updated_at = $2 WHERE id = $3 AND state = 'pending'", &a, NULL);
}
