/* The durable job queue on PostgreSQL, shared by every node. A claim locks the jobs it takes
 * FOR UPDATE SKIP LOCKED (two nodes never get the same job, and neither waits for the other)
 * and leases them; a job whose lease ran out (its node died) is claimed again by any node.
 * A transaction that makes a job due now signals "jobs" (NOTIFY, delivered at commit), which
 * wakes the workers of every node. Every function runs inside the caller's transaction. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Job row `j` comes first of its group among unfinished jobs: a booking's jobs run strictly
 * in order. */
#define FIRST_OF_GROUP(j)                                                                      \
	"AND (" #j ".group_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs p "                   \
	"     WHERE p.group_key = " #j ".group_key AND p.seq < " #j ".seq "                   \
	"     AND p.state IN ('queued', 'running', 'waiting'))) "

int ml_pg_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40])
{
	char id[ML_ID_MAX];
	char *payload = j->payload_text ? ml_strdup(j->payload_text)
			: j->payload	? ml_json_text(j->payload)
					: ml_strdup("{}");
	int64_t now = ml_now_ms(), run_at = j->run_at_ms ? j->run_at_ms : now;
	PGresult *r;
	int rc;

	ml_id_new(id, "job");
	/* Superseded work is coalesced: a queued job with the same key takes the new payload
	 * and keeps its place in the group's order. */
	if (j->coalesce_key) {
		struct pg_args a = {0};
		ml_pg_arg(&a, payload);
		ml_pg_arg_i64(&a, run_at);
		ml_pg_arg_i64(&a, now);
		ml_pg_arg(&a, j->coalesce_key);
		rc = ml_pg_q(tx, "UPDATE jobs SET payload = $1, run_at = $2, updated_at = $3 "
				 "WHERE coalesce_key = $4 AND state = 'queued' RETURNING id", &a, &r);
		if (rc < 0) {
			free(payload);
			return rc;
		}
		if (PQntuples(r) > 0) {
			if (id_out)
				snprintf(id_out, 40, "%s", PQgetvalue(r, 0, 0));
			PQclear(r);
			free(payload);
			return run_at <= now ? ml_pg_tx_signal(tx, "jobs", NULL) : 0;
		}
		PQclear(r);
	}
	struct pg_args a = {0};
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, j->org_id);
	ml_pg_arg(&a, j->kind);
	ml_pg_arg(&a, j->group_key);
	ml_pg_arg(&a, j->coalesce_key);
	ml_pg_arg(&a, payload);
	ml_pg_arg_i64(&a, j->max_attempts > 0 ? j->max_attempts : 8);
	ml_pg_arg_i64(&a, run_at);
	ml_pg_arg_i64(&a, now);
	ml_pg_arg(&a, j->wait_key);
	ml_pg_arg(&a, j->wait_key ? j->wait_reason : NULL);
	rc = ml_pg_q(tx, "INSERT INTO jobs(id, org_id, kind, group_key, coalesce_key, state, "
			 "payload, max_attempts, run_at, created_at, updated_at, wait_key, "
			 "last_error) VALUES ($1,$2,$3,$4,$5, CASE WHEN $10::text IS NULL THEN "
			 "'queued' ELSE 'waiting' END,$6,$7,$8,$9,$9,$10,$11)", &a, NULL);
	free(payload);
	if (rc < 0)
		return rc;
	if (id_out)
		snprintf(id_out, 40, "%s", id);
	return !j->wait_key && run_at <= now ? ml_pg_tx_signal(tx, "jobs", NULL) : 0;
}

/* Locks and reads up to max jobs of one arm of the claim into out[*k...]. */
static int claim_arm(struct ml_tx *tx, const char *sql, int64_t now_ms, int max,
		     struct ml_job *out, int *k, struct ml_buf *seqs)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg_i64(&a, now_ms);
	ml_pg_arg_i64(&a, max - *k);
	int rc = ml_pg_q(tx, sql, &a, &r);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(r) && *k < max; i++) {
		struct ml_job *j = &out[(*k)++];
		ml_buf_printf(seqs, "%s%s", seqs->len > 1 ? "," : "", PQgetvalue(r, i, 0));
		snprintf(j->id, sizeof j->id, "%s", ml_pg_text(r, i, 1));
		snprintf(j->org_id, sizeof j->org_id, "%s", ml_pg_text(r, i, 2));
		snprintf(j->kind, sizeof j->kind, "%s", ml_pg_text(r, i, 3));
		j->group_key = ml_pg_dup(r, i, 4);
		j->payload_text = ml_strdup(ml_pg_text(r, i, 5));
		j->attempts = (int)ml_pg_i64(r, i, 6) + 1;
		j->max_attempts = (int)ml_pg_i64(r, i, 7);
		j->lease = ml_pg_i64(r, i, 8) + 1; /* (the UPDATE below takes it) */
	}
	PQclear(r);
	return 0;
}

int ml_pg_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n)
{
	/* Expired leases first (a node died with them), then what is due, each arm locking
	 * what it returns and passing over what another node is claiming right now. */
	static const char *const expired =
		"SELECT j.seq, j.id, j.org_id, j.kind, j.group_key, j.payload, j.attempts, "
		"j.max_attempts, j.lease_token FROM jobs j "
		"WHERE j.state = 'running' AND j.lease_until < $1 "
		FIRST_OF_GROUP(j) "ORDER BY j.lease_until LIMIT $2 FOR UPDATE SKIP LOCKED";
	static const char *const due =
		"SELECT j.seq, j.id, j.org_id, j.kind, j.group_key, j.payload, j.attempts, "
		"j.max_attempts, j.lease_token FROM jobs j "
		"WHERE j.state = 'queued' AND j.run_at <= $1 "
		FIRST_OF_GROUP(j) "ORDER BY j.run_at, j.seq LIMIT $2 FOR UPDATE SKIP LOCKED";
	struct ml_job *out = ml_calloc((size_t)(max > 0 ? max : 1), sizeof *out);
	struct ml_buf seqs = {0};
	int k = 0, rc = 0;
	ml_buf_puts(&seqs, "{");
	if (max > 0)
		rc = claim_arm(tx, expired, now_ms, max, out, &k, &seqs);
	if (rc == 0 && k < max)
		rc = claim_arm(tx, due, now_ms, max, out, &k, &seqs);
	ml_buf_puts(&seqs, "}");
	if (rc == 0 && k > 0) {
		struct pg_args a = {0};
		ml_pg_arg(&a, worker);
		ml_pg_arg_i64(&a, now_ms + lease_ms);
		ml_pg_arg_i64(&a, now_ms);
		ml_pg_arg(&a, seqs.data);
		rc = ml_pg_q(tx, "UPDATE jobs SET state = 'running', worker = $1, lease_until = $2, "
				 "attempts = attempts + 1, updated_at = $3, "
				 "lease_token = lease_token + 1 "
				 "WHERE seq = ANY($4::bigint[])", &a, NULL);
	}
	ml_buf_free(&seqs);
	if (rc < 0 || k == 0) {
		for (int i = 0; i < k; i++)
			ml_job_free(&out[i]);
		free(out);
		if (rc < 0)
			return rc;
		out = NULL;
	}
	*jobs = out;
	*n = k;
	return 0;
}

int ml_pg_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts)
{
	const char *state = "done";
	int64_t run_at = 0;
	switch (f->outcome) {
	case ML_JOB_DONE:
		break;
	case ML_JOB_RETRY:
		state = attempts >= max_attempts ? "failed" : "queued";
		run_at = f->run_at_ms;
		break;
	case ML_JOB_FAIL:
		state = "failed";
		break;
	case ML_JOB_WAIT:
		state = "waiting";
		break;
	case ML_JOB_DEFER:
		state = "queued";
		run_at = f->run_at_ms;
		break;
	}
	char *result = f->result ? ml_json_text(f->result) : NULL;
	char *payload = f->payload ? ml_json_text(f->payload) : NULL;
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, state);
	ml_pg_arg_i64(&a, run_at);
	ml_pg_arg(&a, f->outcome == ML_JOB_DONE ? NULL : f->error);
	ml_pg_arg(&a, f->outcome == ML_JOB_WAIT ? f->wait_key : NULL);
	ml_pg_arg(&a, result);
	ml_pg_arg_bool(&a, f->outcome == ML_JOB_DEFER);
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, payload);
	ml_pg_arg(&a, id);
	ml_pg_arg(&a, worker);
	ml_pg_arg_i64(&a, f->lease);
	/* Only while the lease is still this claim's: a job whose lease ran out may run
	 * elsewhere already, or again on this node under a newer claim. */
	int rc = ml_pg_q(
		tx, "UPDATE jobs SET state = $1, run_at = CASE WHEN $2::bigint > 0 THEN $2 ELSE run_at END, "
		    "lease_until = NULL, worker = NULL, last_error = $3, wait_key = $4, result = $5, "
		    "attempts = CASE WHEN $1 = 'waiting' OR $6::boolean THEN attempts - 1 "
		    "ELSE attempts END, updated_at = $7, payload = coalesce($8, payload) "
		    "WHERE id = $9 AND worker = $10 AND state = 'running' "
		    "AND ($11::bigint = 0 OR lease_token = $11) RETURNING group_key",
		&a, &r);
	free(result);
	free(payload);
	if (rc < 0)
		return rc;
	int n = PQntuples(r);
	bool grouped = n > 0 && !ml_pg_null(r, 0, 0);
	PQclear(r);
	if (n == 0)
		return ml_error_set(ML_ECONFLICT, "lease_lost", NULL,
				    "The job's lease expired and another worker took it.");
	/* The next job of its group may be due now, on whichever node claims it. */
	if (grouped && strcmp(state, "queued") != 0)
		return ml_pg_tx_signal(tx, "jobs", NULL);
	return 0;
}

int ml_pg_job_set_payload(struct ml_tx *tx, const char *id, json_t *payload)
{
	char *text = json_dumps(payload, JSON_COMPACT);
	struct pg_args a = {0};
	ml_pg_arg(&a, text);
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, id);
	int rc = ml_pg_q(tx, "UPDATE jobs SET payload = $1, updated_at = $2 WHERE id = $3", &a,
			 NULL);
	free(text);
	return rc;
}

int ml_pg_job_recover(struct ml_tx *tx)
{
	/* Shared by many nodes: a running job may be another live node's. Jobs left by a node
	 * that died are claimed again when their leases run out (ml_pg_job_claim). */
	(void)tx;
	return 0;
}

int ml_pg_job_release(struct ml_tx *tx, const char *worker)
{
	/* The attempt it was on is not counted against the job, as recover does on SQLite. */
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, worker);
	int rc = ml_pg_q(tx, "UPDATE jobs SET state = 'queued', lease_until = NULL, worker = NULL, "
			     "attempts = greatest(attempts - 1, 0), run_at = $1, updated_at = $1 "
			     "WHERE state = 'running' AND worker = $2", &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	if (n > 0 && (rc = ml_pg_tx_signal(tx, "jobs", NULL)) < 0)
		return rc;
	return n;
}

/* The holder's heartbeat. Jobs locked by another transaction are passed over (BUSY): the
 * node's own outcome writer finishing them, or a claim taking over a lease that had expired
 * (the next beat tells). The second statement tells BUSY from LOST. */
int ml_pg_job_renew(struct ml_tx *tx, const char *worker, int64_t until_ms,
		    struct ml_job_lease *l, int n)
{
	struct ml_buf ids = {0}, toks = {0};
	ml_buf_puts(&ids, "{");
	ml_buf_puts(&toks, "{");
	for (int i = 0; i < n; i++) {
		l[i].state = ML_LEASE_LOST;
		/* (Job ids are the daemon's own: letters, digits and '_'.) */
		if (strpbrk(l[i].id, "\"{},") || !*l[i].id)
			continue;
		ml_buf_printf(&ids, "%s\"%s\"", ids.len > 1 ? "," : "", l[i].id);
		ml_buf_printf(&toks, "%s%lld", toks.len > 1 ? "," : "", (long long)l[i].lease);
	}
	ml_buf_puts(&ids, "}");
	ml_buf_puts(&toks, "}");
	struct pg_args a = {0};
	PGresult *r = NULL, *held = NULL;
	ml_pg_arg_i64(&a, until_ms);
	ml_pg_arg(&a, worker);
	ml_pg_arg(&a, ids.data);
	ml_pg_arg(&a, toks.data);
	int rc = ml_pg_q(tx, "WITH h AS (SELECT * FROM unnest($3::text[], $4::bigint[]) "
			     "AS h(id, tok)), l AS (SELECT j.seq FROM jobs j JOIN h "
			     "ON j.id = h.id AND j.lease_token = h.tok WHERE j.worker = $2 "
			     "AND j.state = 'running' ORDER BY j.seq FOR UPDATE OF j SKIP LOCKED) "
			     "UPDATE jobs SET lease_until = $1 FROM l WHERE jobs.seq = l.seq "
			     "RETURNING jobs.id",
			 &a, &r);
	struct pg_args b = {0};
	ml_pg_arg(&b, worker);
	ml_pg_arg(&b, ids.data);
	ml_pg_arg(&b, toks.data);
	if (rc == 0)
		rc = ml_pg_q(tx, "SELECT j.id FROM jobs j JOIN unnest($2::text[], $3::bigint[]) "
				 "AS h(id, tok) ON j.id = h.id AND j.lease_token = h.tok "
				 "WHERE j.worker = $1 AND j.state = 'running'",
			     &b, &held);
	ml_buf_free(&ids);
	ml_buf_free(&toks);
	if (rc < 0) {
		PQclear(r);
		return rc;
	}
	int renewed = 0;
	for (int i = 0; i < n; i++) {
		for (int k = 0; k < PQntuples(held); k++)
			if (strcmp(PQgetvalue(held, k, 0), l[i].id) == 0)
				l[i].state = ML_LEASE_BUSY;
		for (int k = 0; l[i].state == ML_LEASE_BUSY && k < PQntuples(r); k++)
			if (strcmp(PQgetvalue(r, k, 0), l[i].id) == 0) {
				l[i].state = ML_LEASE_RENEWED;
				renewed++;
			}
	}
	PQclear(r);
	PQclear(held);
	return renewed;
}

int ml_pg_job_wake(struct ml_tx *tx, const char *wait_key)
{
	int64_t now = ml_now_ms();
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg_i64(&a, now);
	ml_pg_arg(&a, wait_key);
	int rc = ml_pg_q(tx, "UPDATE jobs SET state = 'queued', run_at = $1, wait_key = NULL, "
			     "updated_at = $1 WHERE wait_key = $2 AND state = 'waiting'", &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	if (n > 0 && (rc = ml_pg_tx_signal(tx, "jobs", NULL)) < 0)
		return rc;
	return n;
}

int ml_pg_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg_i64(&a, ml_now_ms());
	ml_pg_arg(&a, group_key);
	ml_pg_arg(&a, kind);
	int rc = ml_pg_q(tx, "UPDATE jobs SET state = 'cancelled', updated_at = $1 "
			     "WHERE group_key = $2 AND kind = $3 AND state IN ('queued', 'waiting')",
			 &a, &r);
	if (rc < 0)
		return rc;
	int n = ml_pg_changes(r);
	PQclear(r);
	return n;
}

int ml_pg_job_next_due(struct ml_tx *tx, int64_t *run_at_ms)
{
	PGresult *r;
	int rc = ml_pg_q(tx, "SELECT least((SELECT min(run_at) FROM jobs WHERE state = 'queued'), "
			     "(SELECT min(lease_until) FROM jobs WHERE state = 'running'))", NULL, &r);
	if (rc < 0)
		return rc;
	*run_at_ms = ml_pg_i64(r, 0, 0);
	PQclear(r);
	return 0;
}

static json_t *job_row(PGresult *r, int i)
{
	char created[ML_RFC3339_MAX], updated[ML_RFC3339_MAX], run_at[ML_RFC3339_MAX];
	ml_time_format(ml_pg_i64(r, i, 10) / 1000, created);
	ml_time_format(ml_pg_i64(r, i, 11) / 1000, updated);
	ml_time_format(ml_pg_i64(r, i, 7) / 1000, run_at);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "id",
			      ml_pg_text(r, i, 1), "object", "job", "kind", ml_pg_text(r, i, 2),
			      "state", ml_pg_text(r, i, 3), "attempts", (int)ml_pg_i64(r, i, 5),
			      "max_attempts", (int)ml_pg_i64(r, i, 6), "run_at", run_at,
			      "created_at", created, "updated_at", updated);
	json_object_set_new(o, "group_key", ml_pg_null(r, i, 4) ? json_null()
								: json_string(ml_pg_text(r, i, 4)));
	json_object_set_new(o, "last_error", ml_pg_null(r, i, 8) ? json_null()
								 : json_string(ml_pg_text(r, i, 8)));
	json_t *payload = json_loads(ml_pg_text(r, i, 9), 0, NULL);
	json_object_set_new(o, "payload", payload ? payload : json_object());
	return o;
}

#define JOB_COLS                                                                             \
	"seq, id, kind, state, group_key, attempts, max_attempts, run_at, last_error, payload, " \
	"created_at, updated_at"

int ml_pg_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor)
{
	int64_t after = 0;
	int limit = q->limit > 0 ? q->limit : 50;
	char idbuf[40];
	if (q->cursor) {
		int rc = ml_store_cursor_decode(q->cursor, &after, idbuf);
		if (rc < 0)
			return rc;
	}
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, state);
	ml_pg_arg(&a, group_key);
	ml_pg_arg_i64(&a, after);
	ml_pg_arg_i64(&a, limit + 1);
	int rc = ml_pg_q(tx, "SELECT " JOB_COLS " FROM jobs WHERE org_id = $1 "
			     "AND ($2::text IS NULL OR state = $2) "
			     "AND ($3::text IS NULL OR group_key = $3) AND seq > $4 "
			     "ORDER BY seq LIMIT $5", &a, &r);
	if (rc < 0)
		return rc;
	rc = ml_pg_page(r, limit, job_row, 0, 1, items, next_cursor);
	PQclear(r);
	return rc;
}

int ml_pg_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, id);
	int rc = ml_pg_q(tx, "SELECT state FROM jobs WHERE org_id = $1 AND id = $2 FOR UPDATE",
			 &a, &r);
	if (rc < 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such job.");
	}
	char state[16];
	snprintf(state, sizeof state, "%s", ml_pg_text(r, 0, 0));
	PQclear(r);
	if (strcmp(state, "failed") != 0)
		return ml_error_set(ML_ECONFLICT, "invalid_transition", "state",
				    "Only a failed job can be retried (current state: %s).", state);
	struct pg_args b = {0};
	ml_pg_arg_i64(&b, ml_now_ms());
	ml_pg_arg(&b, org_id);
	ml_pg_arg(&b, id);
	if ((rc = ml_pg_q(tx, "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, "
			      "updated_at = $1 WHERE org_id = $2 AND id = $3 RETURNING " JOB_COLS,
			  &b, &r)) < 0)
		return rc;
	if (PQntuples(r) > 0)
		*job = job_row(r, 0);
	PQclear(r);
	return ml_pg_tx_signal(tx, "jobs", NULL);
}
