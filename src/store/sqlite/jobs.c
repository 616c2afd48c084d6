/* The durable job queue on SQLite. Every function runs inside the caller's transaction. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/json_text.h"
#include "core/mem.h"
#include "core/timeutil.h"

#include <stdlib.h>
#include <string.h>

static const char *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	return s ? s : "";
}

/* Job row `j` comes first of its group among unfinished jobs: the jobs of one booking run
 * strictly in order (the claim and the hand-over at commit both ask it). */
#define FIRST_OF_GROUP(j)                                                                      \
	"AND (" #j ".group_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs p "                   \
	"     WHERE p.group_key = " #j ".group_key AND p.seq < " #j ".seq "                   \
	"     AND p.state IN ('queued', 'running', 'waiting'))) "

static void note_handoff(struct sq_conn *c, int64_t seq, const char *id, const char *kind);
static bool noted(const struct sq_conn *c, int64_t seq);

int ml_sq_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40])
{
	char id[ML_ID_MAX];
	char *payload = j->payload_text ? ml_strdup(j->payload_text)
			: j->payload	? ml_json_text(j->payload)
					: ml_strdup("{}");
	int rc;

	ml_id_new(id, "job");
	if (ml_sq_recording(tx))
		rc = ml_sq_rec_job(tx, j, id, payload);
	else
		rc = ml_sq_job_apply(ml_sq_txc(tx), j, id, payload, id_out);
	if (rc == 0 && id_out && ml_sq_recording(tx))
		snprintf(id_out, 40, "%s", id);
	free(payload);
	return rc;
}

int ml_sq_job_apply(struct sq_conn *c, const struct ml_job_new *j, const char *id,
		    const char *payload, char id_out[40])
{
	int64_t now = ml_now_ms();
	sqlite3_stmt *st;
	int r;

	/* Superseded work is coalesced: a queued job with the same key takes the new payload
	 * and keeps its place in the group's order. */
	if (j->coalesce_key) {
		st = ml_sq_prep(c, "UPDATE jobs SET payload = ?, run_at = ?, updated_at = ? "
				   "WHERE coalesce_key = ? AND state = 'queued' RETURNING id, seq");
		if (!st)
			return ml_sq_fail(c->db, "job coalesce");
		sqlite3_bind_text(st, 1, payload, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, j->run_at_ms ? j->run_at_ms : now);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_text(st, 4, j->coalesce_key, -1, SQLITE_STATIC);
		r = sqlite3_step(st);
		if (r == SQLITE_ROW) {
			if (id_out)
				snprintf(id_out, 40, "%s", col_text(st, 0));
			if (c->note_handoffs && (!j->run_at_ms || j->run_at_ms <= now))
				note_handoff(c, sqlite3_column_int64(st, 1), col_text(st, 0), j->kind);
			while (sqlite3_step(st) == SQLITE_ROW)
				;
			sqlite3_reset(st);
			return 0;
		}
		sqlite3_reset(st);
		if (r != SQLITE_DONE)
			return ml_sq_fail(c->db, "job coalesce");
	}
	st = ml_sq_prep(c, "INSERT INTO jobs(id, org_id, kind, group_key, coalesce_key, state, "
			   "payload, max_attempts, run_at, created_at, updated_at, wait_key, "
			   "last_error) VALUES (?1,?2,?3,?4,?5,CASE WHEN ?11 IS NULL THEN 'queued' "
			   "ELSE 'waiting' END,?6,?7,?8,?9,?10,?11,?12)");
	if (!st)
		return ml_sq_fail(c->db, "job enqueue");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, j->org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, j->kind, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 4, j->group_key);
	ml_sq_bind_opt(st, 5, j->coalesce_key);
	sqlite3_bind_text(st, 6, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, j->max_attempts > 0 ? j->max_attempts : 8);
	sqlite3_bind_int64(st, 8, j->run_at_ms ? j->run_at_ms : now);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	ml_sq_bind_opt(st, 11, j->wait_key);
	ml_sq_bind_opt(st, 12, j->wait_key ? j->wait_reason : NULL);
	r = sqlite3_step(st);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "job enqueue");
	if (id_out)
		snprintf(id_out, 40, "%s", id);
	if (c->note_handoffs && !j->wait_key && (!j->run_at_ms || j->run_at_ms <= now))
		note_handoff(c, sqlite3_last_insert_rowid(c->db), id, j->kind);
	return 0;
}

/* --- handing jobs over at commit --- */

struct sq_handoff {
	int64_t seq;
	char id[40];
	char kind[48];
	struct ml_job *job; /* claimed for the taker (before COMMIT) */
};

static void note_handoff(struct sq_conn *c, int64_t seq, const char *id, const char *kind)
{
	c->handoffs = ml_grow(c->handoffs, c->nhandoffs, &c->caphandoffs, sizeof *c->handoffs, 64);
	struct sq_handoff *h = &c->handoffs[c->nhandoffs++];
	h->seq = seq;
	snprintf(h->id, sizeof h->id, "%s", id);
	snprintf(h->kind, sizeof h->kind, "%s", kind);
	h->job = NULL;
}

static bool noted(const struct sq_conn *c, int64_t seq)
{
	/* Claims mostly find jobs older than the batch's first note. A job noted out of that
	 * order (woken, retried or coalesced in this batch) and claimed here anyway is simply
	 * not handed over: the hand-over's UPDATE finds it running and releases it. */
	if (!c->note_handoffs || !c->nhandoffs || seq < c->handoffs[0].seq)
		return false;
	for (size_t i = 0; i < c->nhandoffs; i++)
		if (c->handoffs[i].seq == seq)
			return true;
	return false;
}

void ml_sq_handoff_claim(struct sq_conn *c, const struct ml_job_taker *t)
{
	int64_t now = ml_now_ms();
	sqlite3_stmt *st = NULL;
	/* Still what was written (a savepoint rolled back may have dropped it, and its seq been
	 * taken by a later job: hence the id too), still queued (not cancelled since), due, and
	 * first of its group, as a claim would find it (ml_sq_job_claim). */
	if (c->nhandoffs)
		st = ml_sq_prep(c, "UPDATE jobs SET state = 'running', worker = ?1, lease_until = ?2, "
				   "attempts = attempts + 1, updated_at = ?3 "
				   "WHERE seq = ?4 AND id = ?5 AND state = 'queued' AND run_at <= ?3 "
				   FIRST_OF_GROUP(jobs)
				   "RETURNING org_id, kind, group_key, payload, attempts, max_attempts");
	for (size_t i = 0; st && i < c->nhandoffs; i++) {
		struct sq_handoff *h = &c->handoffs[i];
		if (!t->reserve(t->arg, h->kind))
			continue;
		sqlite3_bind_text(st, 1, t->worker, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now + t->lease_ms);
		sqlite3_bind_int64(st, 3, now);
		sqlite3_bind_int64(st, 4, h->seq);
		sqlite3_bind_text(st, 5, h->id, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_ROW) {
			struct ml_job *j = ml_calloc(1, sizeof *j);
			snprintf(j->id, sizeof j->id, "%s", h->id);
			snprintf(j->org_id, sizeof j->org_id, "%s", col_text(st, 0));
			snprintf(j->kind, sizeof j->kind, "%s", col_text(st, 1));
			if (sqlite3_column_type(st, 2) != SQLITE_NULL)
				j->group_key = ml_strdup(col_text(st, 2));
			j->payload_text = ml_strdup(col_text(st, 3));
			j->attempts = sqlite3_column_int(st, 4);
			j->max_attempts = sqlite3_column_int(st, 5);
			h->job = j;
			while (sqlite3_step(st) == SQLITE_ROW)
				;
		} else {
			t->release(t->arg); /* no longer eligible: the regular claim finds it */
		}
		sqlite3_reset(st);
	}
}

void ml_sq_handoff_end(struct sq_conn *c, const struct ml_job_taker *t, bool committed)
{
	for (size_t i = 0; i < c->nhandoffs; i++) {
		struct ml_job *j = c->handoffs[i].job;
		if (!j)
			continue;
		if (committed) {
			t->deliver(t->arg, j);
		} else {
			ml_job_free(j);
			free(j);
			t->release(t->arg);
		}
	}
	c->nhandoffs = 0;
}

int ml_sq_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n)
{
	struct sq_conn *c = ml_sq_txc(tx);
	/* Runnable: due (or its lease expired) and first of its group among unfinished jobs,
	 * so the jobs of one booking run strictly in order. */
	/* Two arms, each walking an index in order and stopping at the limit: with an OR in
	 * one WHERE, SQLite would collect and sort every due job of a large backlog on every
	 * claim. Expired leases (rare) come first. */
	sqlite3_stmt *st = ml_sq_prep(
		c, "SELECT * FROM (SELECT j.seq, j.id, j.org_id, j.kind, j.group_key, j.payload, "
		   "j.attempts, j.max_attempts FROM jobs j INDEXED BY jobs_lease "
		   "WHERE j.state = 'running' AND j.lease_until < ?1 "
		   FIRST_OF_GROUP(j)
		   "ORDER BY j.lease_until LIMIT ?2) "
		   "UNION ALL SELECT * FROM (SELECT j.seq, j.id, j.org_id, j.kind, j.group_key, "
		   "j.payload, j.attempts, j.max_attempts FROM jobs j INDEXED BY jobs_due "
		   "WHERE j.state = 'queued' AND j.run_at <= ?1 "
		   FIRST_OF_GROUP(j)
		   "ORDER BY j.run_at, j.seq LIMIT ?2)");
	sqlite3_stmt *up;
	struct ml_job *out;
	int k = 0;

	if (!st)
		return ml_sq_fail(c->db, "job claim");
	sqlite3_bind_int64(st, 1, now_ms);
	/* Room for the rows passed over below, so that a claim still fills up when more is due. */
	sqlite3_bind_int(st, 2, max + (c->note_handoffs ? (int)c->nhandoffs : 0));
	out = ml_calloc((size_t)(max > 0 ? max : 1), sizeof *out);
	int64_t *seqs = ml_calloc((size_t)(max > 0 ? max : 1), sizeof *seqs);
	while (k < max && sqlite3_step(st) == SQLITE_ROW) {
		struct ml_job *j = &out[k];
		seqs[k] = sqlite3_column_int64(st, 0);
		if (noted(c, seqs[k]))
			continue; /* written in this batch: handed over when it commits */
		snprintf(j->id, sizeof j->id, "%s", col_text(st, 1));
		snprintf(j->org_id, sizeof j->org_id, "%s", col_text(st, 2));
		snprintf(j->kind, sizeof j->kind, "%s", col_text(st, 3));
		if (sqlite3_column_type(st, 4) != SQLITE_NULL)
			j->group_key = ml_strdup(col_text(st, 4));
		j->payload_text = ml_strdup(col_text(st, 5));
		j->attempts = sqlite3_column_int(st, 6) + 1;
		j->max_attempts = sqlite3_column_int(st, 7);
		k++;
	}
	sqlite3_reset(st);
	up = ml_sq_prep(c, "UPDATE jobs SET state = 'running', worker = ?, lease_until = ?, "
			   "attempts = attempts + 1, updated_at = ? WHERE seq = ?");
	for (int i = 0; up && i < k; i++) {
		sqlite3_bind_text(up, 1, worker, -1, SQLITE_STATIC);
		sqlite3_bind_int64(up, 2, now_ms + lease_ms);
		sqlite3_bind_int64(up, 3, now_ms);
		sqlite3_bind_int64(up, 4, seqs[i]);
		if (sqlite3_step(up) != SQLITE_DONE)
			up = NULL;
		else
			sqlite3_reset(up);
	}
	free(seqs);
	if (!up) {
		for (int i = 0; i < k; i++)
			ml_job_free(&out[i]);
		free(out);
		return ml_sq_fail(c->db, "job claim");
	}
	if (k == 0) {
		free(out);
		out = NULL;
	}
	*jobs = out;
	*n = k;
	return 0;
}

int ml_sq_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts)
{
	struct sq_conn *c = ml_sq_txc(tx);
	const char *state = "done";
	int64_t run_at = 0;
	char *result = NULL;

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
	if (f->result)
		result = ml_json_text(f->result);
	char *payload = f->payload ? ml_json_text(f->payload) : NULL;
	sqlite3_stmt *st = ml_sq_prep(
		c, "UPDATE jobs SET state = ?, run_at = CASE WHEN ? > 0 THEN ? ELSE run_at END, "
		   "lease_until = NULL, worker = NULL, last_error = ?, wait_key = ?, result = ?, "
		   "attempts = CASE WHEN ? = 'waiting' OR ? THEN attempts - 1 ELSE attempts END, "
		   "updated_at = ?, payload = coalesce(?, payload) "
		   "WHERE id = ? AND worker = ? AND state = 'running'");
	if (!st) {
		free(result);
		free(payload);
		return ml_sq_fail(c->db, "job finish");
	}
	sqlite3_bind_text(st, 1, state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, run_at);
	sqlite3_bind_int64(st, 3, run_at);
	ml_sq_bind_opt(st, 4, f->outcome == ML_JOB_DONE ? NULL : f->error);
	ml_sq_bind_opt(st, 5, f->outcome == ML_JOB_WAIT ? f->wait_key : NULL);
	ml_sq_bind_opt(st, 6, result);
	sqlite3_bind_text(st, 7, state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, f->outcome == ML_JOB_DEFER);
	sqlite3_bind_int64(st, 9, ml_now_ms());
	ml_sq_bind_opt(st, 10, payload);
	sqlite3_bind_text(st, 11, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 12, worker, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	free(result);
	free(payload);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "job finish");
	if (sqlite3_changes(c->db) == 0)
		return ml_error_set(ML_ECONFLICT, "lease_lost", NULL,
				    "The job's lease expired and another worker took it.");
	return 0;
}

int ml_sq_job_set_payload(struct ml_tx *tx, const char *id, json_t *payload)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE jobs SET payload = ?, updated_at = ? WHERE id = ?");
	if (!st)
		return ml_sq_fail(c->db, "job payload");
	char *text = json_dumps(payload, JSON_COMPACT);
	sqlite3_bind_text(st, 1, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, ml_now_ms());
	sqlite3_bind_text(st, 3, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	free(text);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "job payload");
	return 0;
}

int ml_sq_job_recover(struct ml_tx *tx)
{
	struct sq_conn *c = ml_sq_txc(tx);
	/* One process owns a SQLite store: whatever it left running died with it. The attempt
	 * it was on is not counted against the job. */
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE jobs SET state = 'queued', lease_until = NULL, "
					 "worker = NULL, attempts = max(attempts - 1, 0), "
					 "updated_at = ? WHERE state = 'running'");
	if (!st)
		return ml_sq_fail(c->db, "job recover");
	sqlite3_bind_int64(st, 1, ml_now_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "job recover");
	return sqlite3_changes(c->db);
}

/* The holder's heartbeat. One node: nothing else holds a row lock, so a lease is renewed or
 * lost (finished, or claimed again after it expired). */
int ml_sq_job_renew(struct ml_tx *tx, const char *worker, int64_t until_ms,
		    struct ml_job_lease *l, int n)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE jobs SET lease_until = ? WHERE id = ? AND "
				      "worker = ? AND state = 'running'");
	if (!st)
		return ml_sq_fail(c->db, "job renew");
	int renewed = 0;
	for (int i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_int64(st, 1, until_ms);
		sqlite3_bind_text(st, 2, l[i].id, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, worker, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			return ml_sq_fail(c->db, "job renew");
		l[i].state = sqlite3_changes(c->db) > 0 ? ML_LEASE_RENEWED : ML_LEASE_LOST;
		renewed += l[i].state == ML_LEASE_RENEWED;
	}
	return renewed;
}

int ml_sq_job_wake(struct ml_tx *tx, const char *wait_key)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE jobs SET state = 'queued', run_at = ?, "
					 "wait_key = NULL, updated_at = ? "
					 "WHERE wait_key = ? AND state = 'waiting' "
					 "RETURNING seq, id, kind");
	if (!st)
		return ml_sq_fail(c->db, "job wake");
	int64_t now = ml_now_ms();
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, wait_key, -1, SQLITE_STATIC);
	int r, n = 0;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		if (c->note_handoffs)
			note_handoff(c, sqlite3_column_int64(st, 0), col_text(st, 1),
				     col_text(st, 2));
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "job wake");
	return n;
}

int ml_sq_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "UPDATE jobs SET state = 'cancelled', updated_at = ? "
					 "WHERE group_key = ? AND kind = ? "
					 "AND state IN ('queued', 'waiting')");
	if (!st)
		return ml_sq_fail(c->db, "job cancel");
	sqlite3_bind_int64(st, 1, ml_now_ms());
	sqlite3_bind_text(st, 2, group_key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return ml_sq_fail(c->db, "job cancel");
	return sqlite3_changes(c->db);
}

int ml_sq_job_next_due(struct ml_tx *tx, int64_t *run_at_ms)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(
		c, "SELECT min(t) FROM (SELECT min(run_at) AS t FROM jobs WHERE state = 'queued' "
		   "UNION ALL SELECT min(lease_until) FROM jobs WHERE state = 'running')");
	if (!st)
		return ml_sq_fail(c->db, "job next");
	*run_at_ms = 0;
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		*run_at_ms = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return 0;
}

static json_t *job_row(sqlite3_stmt *st)
{
	char created[ML_RFC3339_MAX], updated[ML_RFC3339_MAX], run_at[ML_RFC3339_MAX];
	ml_time_format(sqlite3_column_int64(st, 10) / 1000, created);
	ml_time_format(sqlite3_column_int64(st, 11) / 1000, updated);
	ml_time_format(sqlite3_column_int64(st, 7) / 1000, run_at);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:i, s:i, s:s, s:s, s:s}", "id",
			      col_text(st, 1), "object", "job", "kind", col_text(st, 2), "state",
			      col_text(st, 3), "attempts", sqlite3_column_int(st, 5),
			      "max_attempts", sqlite3_column_int(st, 6), "run_at", run_at,
			      "created_at", created, "updated_at", updated);
	json_object_set_new(o, "group_key", sqlite3_column_type(st, 4) == SQLITE_NULL
						    ? json_null()
						    : json_string(col_text(st, 4)));
	json_object_set_new(o, "last_error", sqlite3_column_type(st, 8) == SQLITE_NULL
						     ? json_null()
						     : json_string(col_text(st, 8)));
	json_t *payload = json_loads(col_text(st, 9), 0, NULL);
	json_object_set_new(o, "payload", payload ? payload : json_object());
	return o;
}

#define JOB_COLS                                                                             \
	"seq, id, kind, state, group_key, attempts, max_attempts, run_at, last_error, payload, " \
	"created_at, updated_at"

int ml_sq_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor)
{
	struct sq_conn *c = ml_sq_txc(tx);
	int64_t after = 0;
	int limit = q->limit > 0 ? q->limit : 50;
	char idbuf[40];

	/* Jobs page by their sequence number (the cursor's "time" part). */
	if (q->cursor) {
		int rc = ml_store_cursor_decode(q->cursor, &after, idbuf);
		if (rc < 0)
			return rc;
	}
	/* A filter named in the statement itself, so that an index walks the page in order from
	 * the cursor on: with "?2 IS NULL OR state = ?2" alone SQLite read and sorted every job
	 * of the organization for each page (the failed jobs' list among millions of done). */
	sqlite3_stmt *st = ml_sq_prep(
		c, group_key ? "SELECT " JOB_COLS " FROM jobs WHERE org_id = ?1 AND group_key = ?3 "
			       "AND (?2 IS NULL OR state = ?2) AND seq > ?4 ORDER BY seq LIMIT ?5"
		   : state ? "SELECT " JOB_COLS " FROM jobs WHERE org_id = ?1 AND state = ?2 "
			     "AND (?3 IS NULL OR group_key = ?3) AND seq > ?4 ORDER BY seq LIMIT ?5"
			   : "SELECT " JOB_COLS " FROM jobs WHERE org_id = ?1 "
			     "AND (?2 IS NULL OR state = ?2) "
			     "AND (?3 IS NULL OR group_key = ?3) AND seq > ?4 "
			     "ORDER BY seq LIMIT ?5");
	if (!st)
		return ml_sq_fail(c->db, "job list");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	ml_sq_bind_opt(st, 2, state);
	ml_sq_bind_opt(st, 3, group_key);
	sqlite3_bind_int64(st, 4, after);
	sqlite3_bind_int(st, 5, limit + 1);
	return ml_sq_page(c, st, limit, job_row, 0, 1, items, next_cursor);
}

int ml_sq_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job)
{
	struct sq_conn *c = ml_sq_txc(tx);
	sqlite3_stmt *st = ml_sq_prep(c, "SELECT state FROM jobs WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "job retry");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return ml_error_set(ML_ENOTFOUND, "not_found", NULL, "No such job.");
	}
	bool failed = strcmp(col_text(st, 0), "failed") == 0;
	char state[16];
	snprintf(state, sizeof state, "%s", col_text(st, 0));
	sqlite3_reset(st);
	if (!failed)
		return ml_error_set(ML_ECONFLICT, "invalid_transition", "state",
				    "Only a failed job can be retried (current state: %s).", state);
	int64_t now = ml_now_ms();
	st = ml_sq_prep(c, "UPDATE jobs SET state = 'queued', attempts = 0, run_at = ?, "
			   "updated_at = ? WHERE org_id = ? AND id = ? RETURNING seq, kind");
	if (!st)
		return ml_sq_fail(c->db, "job retry");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_text(st, 3, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	int r = sqlite3_step(st);
	if (r == SQLITE_ROW && c->note_handoffs)
		note_handoff(c, sqlite3_column_int64(st, 0), id, col_text(st, 1));
	while (r == SQLITE_ROW)
		r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return ml_sq_fail(c->db, "job retry");
	st = ml_sq_prep(c, "SELECT " JOB_COLS " FROM jobs WHERE org_id = ? AND id = ?");
	if (!st)
		return ml_sq_fail(c->db, "job retry");
	sqlite3_bind_text(st, 1, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		*job = job_row(st);
	sqlite3_reset(st);
	return 0;
}
