/* Messages out on SQLite: email templates, webhook endpoints, deliveries and their attempts.
 * Every function runs inside the caller's transaction; every statement is prepared. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

static json_t *col_time(sqlite3_stmt *st, int i)
{
	char buf[ML_RFC3339_MAX];
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	ml_time_format(sqlite3_column_int64(st, i) / 1000, buf);
	return json_string(buf);
}

static json_t *col_opt(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null()
	                                                 : json_string(col_text(st, i));
}

/* --- templates --- */

int ml_sq_template_get(struct ml_tx *tx, const char *org_id, const char *name, json_t **out)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT subject, text_body, html_body, updated_at "
	                                 "FROM email_templates WHERE org_id = ? AND name = ?");
	if (!st)
		return ml_sq_fail(c->db, "template get");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "template get");
	}
	json_t *o = json_pack("{s:s, s:s, s:s}", "subject", col_text(st, 0), "text",
	                      col_text(st, 1), "html", col_text(st, 2));
	json_object_set_new(o, "updated_at", col_time(st, 3));
	sqlite3_reset(st);
	*out = o;
	return 0;
}

int ml_sq_template_put(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(
	    c, "INSERT INTO email_templates(org_id, name, subject, text_body, html_body, "
	       "updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT(org_id, name) DO UPDATE SET "
	       "subject = excluded.subject, text_body = excluded.text_body, "
	       "html_body = excluded.html_body, updated_at = excluded.updated_at");
	if (!st)
		return ml_sq_fail(c->db, "template put");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 3, json_string_value(json_object_get(tpl, "subject")));
	ml_sq_bind_opt(st, 4, json_string_value(json_object_get(tpl, "text")));
	ml_sq_bind_opt(st, 5, json_string_value(json_object_get(tpl, "html")));
	sqlite3_bind_int64(st, 6, ml_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "template put");
	return 0;
}

int ml_sq_template_delete(struct ml_tx *tx, const char *org_id, const char *name)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
	    ml_sq_prep(c, "DELETE FROM email_templates WHERE org_id = ? AND name = ?");
	if (!st)
		return ml_sq_fail(c->db, "template delete");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "template delete");
	return sqlite3_changes(c->db) ? 0 : ML_ENOTFOUND;
}

/* --- endpoints --- */

#define EP_COLS                                                                              \
	"seq, id, url, events, description, created_at, updated_at, secret, status, "        \
	"failing_since, disabled_at, contact_email"

static json_t *endpoint_row(sqlite3_stmt *st)
{
	json_t *events = json_loads(col_text(st, 3), 0, NULL);
	json_t *o =
	    json_pack("{s:s, s:s, s:s, s:o}", "id", col_text(st, 1), "object", "webhook_endpoint",
	              "url", col_text(st, 2), "events", events ? events : json_array());
	json_object_set_new(o, "description", col_opt(st, 4));
	json_object_set_new(o, "status", json_string(col_text(st, 8)));
	json_object_set_new(o, "failing_since", col_time(st, 9));
	json_object_set_new(o, "disabled_at", col_time(st, 10));
	json_object_set_new(o, "contact_email", col_opt(st, 11));
	json_object_set_new(o, "created_at", col_time(st, 5));
	json_object_set_new(o, "updated_at", col_time(st, 6));
	return o;
}

int ml_sq_webhook_endpoint_insert(struct ml_tx *tx, const char *org_id, json_t *ep,
                                  const char *secret)
{
	struct sq_conn *c = ml_sq_txc(tx);
	char *events = json_dumps(json_object_get(ep, "events"), JSON_COMPACT);
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO webhook_endpoints(id, org_id, url, events, "
	                                 "description, secret, created_at, updated_at, "
	                                 "contact_email) VALUES (?,?,?,?,?,?,?,?,?)");
	if (!st) {
		free(events);
		return ml_sq_fail(c->db, "endpoint insert");
	}
	int64_t now = ml_now_ms();
	sqlite3_bind_text(st, 1, json_string_value(json_object_get(ep, "id")), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, json_string_value(json_object_get(ep, "url")), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, events ? events : "[]", -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 5, json_string_value(json_object_get(ep, "description")));
	sqlite3_bind_text(st, 6, secret, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	ml_sq_bind_opt(st, 9, json_string_value(json_object_get(ep, "contact_email")));
	int r = sqlite3_step(st);
	free(events);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "endpoint insert");
	return 0;
}

int ml_sq_webhook_endpoint_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **ep,
                               char **secret)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT " EP_COLS " FROM webhook_endpoints "
	                                 "WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "endpoint get");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "endpoint get");
	}
	*ep = endpoint_row(st);
	if (secret)
		*secret = ml_strdup(col_text(st, 7));
	sqlite3_reset(st);
	return 0;
}

int ml_sq_webhook_endpoint_list(struct ml_tx *tx, const char *org_id, const struct ml_list_query *q,
                                json_t **items, char **next_cursor)
{
	/* Read without validation: every booking step fans out through this list, and an
	 * endpoint created or deleted meanwhile is no conflict (a delivery to a deleted one is
	 * skipped when it runs), so it must not push the step off the optimistic path. */
	struct sq_conn *c = ml_sq_txc_read(tx);
	int64_t after = 0;
	char idbuf[40];
	int limit = q && q->limit > 0 ? q->limit : -1;

	if (q && q->cursor) {
		int rc = ml_store_cursor_decode(q->cursor, &after, idbuf);
		if (rc < 0)
			return rc;
	}
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT " EP_COLS " FROM webhook_endpoints "
	                                 "WHERE org_id = ? AND seq > ? ORDER BY seq LIMIT ?");
	if (!st)
		return ml_sq_fail(c->db, "endpoint list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int(st, 3, limit < 0 ? -1 : limit + 1);
	json_t *arr = json_array();
	int n = 0;
	int64_t last = 0;
	char last_id[40] = "";
	if (next_cursor)
		*next_cursor = NULL;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (limit >= 0 && n == limit) {
			if (next_cursor)
				*next_cursor = ml_store_cursor_encode(last, last_id);
			break;
		}
		json_array_append_new(arr, endpoint_row(st));
		last = sqlite3_column_int64(st, 0);
		snprintf(last_id, sizeof last_id, "%s", col_text(st, 1));
		n++;
	}
	sqlite3_reset(st);
	*items = arr;
	return 0;
}

int ml_sq_webhook_endpoint_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st =
	    ml_sq_prep(c, "DELETE FROM webhook_endpoints WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "endpoint delete");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "endpoint delete");
	if (sqlite3_changes(c->db) == 0)
		return ML_ENOTFOUND;
	static const char *const cleanup[] = {
	    "DELETE FROM webhook_attempts WHERE delivery_id IN (SELECT id FROM "
	    "webhook_deliveries WHERE org_id = ? AND endpoint_id = ?)",
	    "DELETE FROM webhook_deliveries WHERE org_id = ? AND endpoint_id = ?",
	};
	for (size_t i = 0; i < sizeof cleanup / sizeof cleanup[0]; i++) {
		if (!(st = ml_sq_prep(c, cleanup[i])))
			return ml_sq_fail(c->db, "endpoint delete");
		sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return ml_sq_fail(c->db, "endpoint delete");
	}
	return 0;
}

/* --- deliveries --- */

int ml_sq_webhook_delivery_insert(struct ml_tx *tx, const struct ml_webhook_delivery_new *d)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(
	    c, "INSERT INTO webhook_deliveries(id, org_id, endpoint_id, event_type, booking_id, "
	       "body, state, created_at, updated_at) VALUES (?,?,?,?,?,?,'pending',?,?) "
	       "ON CONFLICT(id) DO NOTHING");
	if (!st)
		return ml_sq_fail(c->db, "delivery insert");
	int64_t now = ml_now_ms();
	sqlite3_bind_text(st, 1, d->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, d->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->endpoint_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, d->event_type, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 5, d->booking_id);
	sqlite3_bind_text(st, 6, d->body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "delivery insert");
	return 0;
}

#define DLV_COLS                                                                                   \
	"seq, id, endpoint_id, event_type, booking_id, body, state, attempts, last_status, "       \
	"last_error, created_at, updated_at, delivered_at"

static int attempts_of(struct sq_conn *c, const char *delivery_id, json_t **out)
{
	sqlite3_stmt *st =
	    ml_sq_prep(c, "SELECT at, status, duration_ms, error "
	                  "FROM webhook_attempts WHERE delivery_id = ? ORDER BY seq");
	if (!st)
		return ml_sq_fail(c->db, "attempts");
	sqlite3_bind_text(st, 1, delivery_id, -1, SQLITE_STATIC);
	json_t *arr = json_array();
	int r;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *a = json_object();
		json_object_set_new(a, "at", col_time(st, 0));
		json_object_set_new(a, "at_ms", json_integer(sqlite3_column_int64(st, 0)));
		json_object_set_new(a, "status",
		                    sqlite3_column_type(st, 1) == SQLITE_NULL
		                        ? json_null()
		                        : json_integer(sqlite3_column_int(st, 1)));
		json_object_set_new(a, "duration_ms", json_integer(sqlite3_column_int64(st, 2)));
		json_object_set_new(a, "error", col_opt(st, 3));
		json_array_append_new(arr, a);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_decref(arr);
		return ml_sq_fail(c->db, "attempts");
	}
	*out = arr;
	return 0;
}

/* The delivery row as the API shows it (attempts added by the caller). */
static json_t *delivery_row(sqlite3_stmt *st)
{
	json_t *payload = json_loads(col_text(st, 5), 0, NULL);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i}", "id", col_text(st, 1), "object",
	                      "webhook_delivery", "endpoint_id", col_text(st, 2), "event_type",
	                      col_text(st, 3), "state", col_text(st, 6), "attempt_count",
	                      sqlite3_column_int(st, 7));
	json_object_set_new(o, "booking_id", col_opt(st, 4));
	json_object_set_new(o, "last_status",
	                    sqlite3_column_type(st, 8) == SQLITE_NULL
	                        ? json_null()
	                        : json_integer(sqlite3_column_int(st, 8)));
	json_object_set_new(o, "last_error", col_opt(st, 9));
	json_object_set_new(o, "created_at", col_time(st, 10));
	json_object_set_new(o, "updated_at", col_time(st, 11));
	json_object_set_new(o, "delivered_at", col_time(st, 12));
	json_object_set_new(o, "payload", payload ? payload : json_object());
	return o;
}

int ml_sq_webhook_delivery_get(struct ml_tx *tx, const char *org_id, const char *id,
                               json_t **delivery, char **body)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT " DLV_COLS " FROM webhook_deliveries "
	                                 "WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "delivery get");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "delivery get");
	}
	json_t *o = delivery_row(st);
	char *b = body ? ml_strdup(col_text(st, 5)) : NULL;
	sqlite3_reset(st);
	json_t *attempts;
	int rc = attempts_of(c, id, &attempts);
	if (rc < 0) {
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

int ml_sq_webhook_delivery_list(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
                                const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int64_t before = INT64_MAX;
	char idbuf[40];
	int limit = q->limit > 0 ? q->limit : 50, rc;

	if (q->cursor && (rc = ml_store_cursor_decode(q->cursor, &before, idbuf)) < 0)
		return rc;
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT " DLV_COLS " FROM webhook_deliveries "
	                                 "WHERE org_id = ? AND endpoint_id = ? AND seq < ? "
	                                 "ORDER BY seq DESC LIMIT ?");
	if (!st)
		return ml_sq_fail(c->db, "delivery list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, endpoint_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, before);
	sqlite3_bind_int(st, 4, limit + 1);
	json_t *arr;
	if ((rc = ml_sq_page(c, st, limit, delivery_row, 0, 1, &arr, next_cursor)) < 0)
		return rc;
	/* Attempts after the page is read: the statement above is reset, its cache slot free. */
	size_t i;
	json_t *d;
	json_array_foreach(arr, i, d)
	{
		json_t *attempts;
		if ((rc = attempts_of(c, json_string_value(json_object_get(d, "id")), &attempts)) <
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

int ml_sq_webhook_attempt_record(struct ml_tx *tx, const struct ml_webhook_attempt *a)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "INSERT INTO webhook_attempts(delivery_id, at, status, "
	                                 "duration_ms, error) VALUES (?,?,?,?,?)");
	if (!st)
		return ml_sq_fail(c->db, "attempt insert");
	sqlite3_bind_text(st, 1, a->delivery_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, a->at_ms);
	if (a->status > 0)
		sqlite3_bind_int(st, 3, (int)a->status);
	else
		sqlite3_bind_null(st, 3);
	sqlite3_bind_int64(st, 4, a->duration_ms);
	ml_sq_bind_opt(st, 5, a->error);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "attempt insert");
	st = ml_sq_prep(c, "UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, "
	                   "last_status = ?, last_error = ?, updated_at = ?, "
	                   "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END "
	                   "WHERE id = ?");
	if (!st)
		return ml_sq_fail(c->db, "delivery update");
	int64_t now = ml_now_ms();
	sqlite3_bind_text(st, 1, a->state, -1, SQLITE_STATIC);
	if (a->status > 0)
		sqlite3_bind_int(st, 2, (int)a->status);
	else
		sqlite3_bind_null(st, 2);
	ml_sq_bind_opt(st, 3, a->error);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_text(st, 5, a->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now);
	sqlite3_bind_text(st, 7, a->delivery_id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "delivery update");
	return 0;
}

int ml_sq_webhook_delivery_requeue(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT state FROM webhook_deliveries "
	                                 "WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "delivery requeue");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? ML_ENOTFOUND : ml_sq_fail(c->db, "delivery requeue");
	}
	bool pending = strcmp(col_text(st, 0), "pending") == 0;
	sqlite3_reset(st);
	if (pending)
		return ml_error_set(ML_ECONFLICT, "invalid_transition", "state",
		                    "This delivery is still pending: its retries are queued.");
	st = ml_sq_prep(c, "UPDATE webhook_deliveries SET state = 'pending', updated_at = ? "
	                   "WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "delivery requeue");
	sqlite3_bind_int64(st, 1, ml_now_ms());
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "delivery requeue");
	return 0;
}

/* --- endpoint health and settings --- */

int ml_sq_webhook_endpoint_update(struct ml_tx *tx, const char *org_id, const char *id,
                                  json_t *patch)
{
	struct sq_conn *c = ml_sq_txc(tx);
	json_t *en = json_object_get(patch, "enabled");
	json_t *desc = json_object_get(patch, "description");
	json_t *mail = json_object_get(patch, "contact_email");
	json_t *events = json_object_get(patch, "events");
	char *ev = events ? json_dumps(events, JSON_COMPACT) : NULL;
	/* Enabling starts the endpoint's failure clock afresh. */
	sqlite3_stmt *st = ml_sq_prep(
	    c, "UPDATE webhook_endpoints SET "
	       "status = CASE WHEN ?1 IS NULL THEN status WHEN ?1 THEN 'enabled' ELSE 'disabled' END, "
	       "failing_since = CASE WHEN ?1 IS NULL THEN failing_since ELSE NULL END, "
	       "disabled_at = CASE WHEN ?1 IS NULL THEN disabled_at WHEN ?1 THEN NULL "
	       "  WHEN status = 'disabled' THEN disabled_at ELSE ?6 END, "
	       "description = CASE WHEN ?2 THEN ?3 ELSE description END, "
	       "contact_email = CASE WHEN ?4 THEN ?5 ELSE contact_email END, "
	       "events = COALESCE(?7, events), updated_at = ?6 "
	       "WHERE org_id = ?8 AND id = ?9");
	if (!st) {
		free(ev);
		return ml_sq_fail(c->db, "endpoint update");
	}
	if (en)
		sqlite3_bind_int(st, 1, json_is_true(en));
	sqlite3_bind_int(st, 2, desc != NULL);
	ml_sq_bind_opt(st, 3, json_string_value(desc));
	sqlite3_bind_int(st, 4, mail != NULL);
	ml_sq_bind_opt(st, 5, json_string_value(mail));
	sqlite3_bind_int64(st, 6, ml_now_ms());
	ml_sq_bind_opt(st, 7, ev);
	sqlite3_bind_text(st, 8, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	free(ev);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "endpoint update");
	return sqlite3_changes(c->db) ? 0 : ML_ENOTFOUND;
}

int ml_sq_webhook_endpoint_health(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
                                  int64_t at_ms, int64_t disable_after_ms, bool *disabled)
{
	struct sq_conn *c = ml_sq_txc(tx);
	*disabled = false;
	sqlite3_stmt *st = ml_sq_prep(
	    c, ok ? "UPDATE webhook_endpoints SET failing_since = NULL "
	            "WHERE org_id = ?1 AND id = ?2 AND failing_since IS NOT NULL"
	          : "UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?3) "
	            "WHERE org_id = ?1 AND id = ?2");
	if (!st)
		return ml_sq_fail(c->db, "endpoint health");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (!ok)
		sqlite3_bind_int64(st, 3, at_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "endpoint health");
	if (ok || disable_after_ms <= 0)
		return 0;
	st = ml_sq_prep(c, "UPDATE webhook_endpoints SET status = 'disabled', disabled_at = ?1, "
	                   "updated_at = ?1 WHERE org_id = ?2 AND id = ?3 AND status = 'enabled' "
	                   "AND failing_since IS NOT NULL AND failing_since <= ?4");
	if (!st)
		return ml_sq_fail(c->db, "endpoint health");
	sqlite3_bind_int64(st, 1, ml_now_ms());
	sqlite3_bind_text(st, 2, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, at_ms - disable_after_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "endpoint health");
	*disabled = sqlite3_changes(c->db) == 1;
	return 0;
}

int ml_sq_webhook_delivery_skip(struct ml_tx *tx, const char *id, const char *why)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE webhook_deliveries SET state = 'failed', "
	                                 "last_error = ?, updated_at = ? "
	                                 "WHERE id = ? AND state = 'pending'");
	if (!st)
		return ml_sq_fail(c->db, "delivery skip");
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ml_now_ms());
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "delivery skip");
	return 0;
}
