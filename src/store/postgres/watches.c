/* Provider watches on PostgreSQL (migration postgresql/0007; SQLite's 0018): the Google
 * Calendar channels through which changes made at the provider come back
 * (docs/provider-changes.md). Inside the caller's transaction; every statement prepared. A
 * watch read in a write is locked (it is read to be changed: a renewal and a sync of one
 * watch take turns). */
#include "store/postgres/internal.h"

#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

int ml_pg_watch_put(struct ml_tx *tx, json_t *doc)
{
	const char *id = jstr(doc, "id"), *org = jstr(doc, "org_id"), *host = jstr(doc, "host_id"),
		   *platform = jstr(doc, "platform");
	if (!id || !org || !host || !platform)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL, "incomplete watch");
	char *text = ml_json_text(doc);
	struct pg_args a = {0};
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, org);
	ml_pg_arg(&a, host);
	ml_pg_arg(&a, platform);
	ml_pg_arg(&a, jstr(doc, "channel_id"));
	ml_pg_arg(&a, jstr(doc, "prev_channel_id"));
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, text);
	int rc = ml_pg_q(tx, "INSERT INTO provider_watches(id, org_id, host_id, platform, "
			     "channel_id, prev_channel_id, updated_at, doc) "
			     "VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (id) DO UPDATE SET "
			     "channel_id = $5, prev_channel_id = $6, updated_at = $7, doc = $8 "
			     "WHERE provider_watches.org_id = $2", &a, NULL);
	free(text);
	return rc;
}

static int one(struct ml_tx *tx, const char *sql, struct pg_args *a, json_t **out)
{
	PGresult *r;
	int rc = ml_pg_q(tx, sql, a, &r);
	if (rc < 0)
		return rc;
	json_t *doc = PQntuples(r) > 0 ? json_loads(PQgetvalue(r, 0, 0), 0, NULL) : NULL;
	PQclear(r);
	if (!doc)
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such watch.");
	*out = doc;
	return 0;
}

int ml_pg_watch_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, json_t **out)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, host_id);
	ml_pg_arg(&a, platform);
	return one(tx, ml_pg_writable(tx)
			   ? "SELECT doc FROM provider_watches WHERE org_id = $1 AND host_id = $2 "
			     "AND platform = $3 FOR UPDATE"
			   : "SELECT doc FROM provider_watches WHERE org_id = $1 AND host_id = $2 "
			     "AND platform = $3",
		   &a, out);
}

int ml_pg_watch_find(struct ml_tx *tx, const char *platform, const char *channel_id,
		     json_t **out)
{
	struct pg_args a = {0};
	ml_pg_arg(&a, platform);
	ml_pg_arg(&a, channel_id);
	return one(tx, "SELECT doc FROM provider_watches WHERE platform = $1 AND "
		       "(channel_id = $2 OR prev_channel_id = $2) LIMIT 1",
		   &a, out);
}

int ml_pg_watch_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, org_id);
	int rc = ml_pg_q(tx, "DELETE FROM provider_watches WHERE id = $1 AND org_id = $2", &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n ? 0 : ML_ENOTFOUND;
}
