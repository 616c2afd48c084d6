/* Optimistic transactions on SQLite.
 *
 * SQLite has one writer; with group commit the writer thread's CPU becomes the limit, and
 * most of it went into JSON (parsing the documents a transaction reads, serializing the ones
 * it writes). So a request first runs its transaction callback on its own thread against a
 * read snapshot, in recording mode: reads come from the snapshot (noting each document's
 * version), writes are serialized and recorded instead of executed. The writer thread then
 * only checks that every version read is still current and applies the recorded rows. If
 * anything changed meanwhile, or the callback used an operation that cannot record, the
 * callback runs again on the writer the ordinary way: same result as if it had never been
 * tried, only slower.
 */
#include "store/sqlite/internal.h"
#include "store/doc_cache.h"
#include "core/error.h"
#include "core/json_text.h"
#include "core/mem.h"

#include <stdlib.h>
#include <string.h>

enum wtype { W_DOC, W_AUDIT, W_IDEM, W_JOB, W_LINK };

struct rec_read {
	enum ml_kind kind;
	char org_id[40];
	char id[40];
	int64_t version; /* -1: absent */
};

struct rec_write {
	enum wtype type;
	bool insert;            /* W_DOC */
	int64_t expect_version; /* W_DOC update */
	struct ml_sq_doc_row row;
	json_t *doc;            /* W_DOC: what later reads in this run see */
	/* W_AUDIT, W_IDEM, W_JOB, W_LINK */
	char *a, *b, *c, *d, *e, *f;
	int status;
	int64_t n; /* W_LINK: the generation */
	struct ml_job_new job;
};

/* An overlap check (ml_tx_booking_overlap) and the answer the run acted on. */
struct rec_range {
	char org_id[40], host_id[64], except_id[40];
	bool has_except;
	int64_t start, end;
	int found;
	char found_id[40];
};

struct sq_rec {
	bool unsupported;
	struct rec_read *reads;
	size_t nreads, capreads;
	struct rec_range *ranges;
	size_t nranges, capranges;
	struct rec_write *writes;
	size_t nwrites, capwrites;
};

static struct sq_rec *rec_of(struct ml_tx *tx)
{
	return ((struct sq_tx *)tx)->rec;
}

bool ml_sq_recording(struct ml_tx *tx)
{
	return rec_of(tx) != NULL;
}

void ml_sq_rec_unsupported(struct ml_tx *tx)
{
	rec_of(tx)->unsupported = true;
}

struct sq_rec *ml_sq_rec_new(void)
{
	return ml_calloc(1, sizeof(struct sq_rec));
}

bool ml_sq_rec_usable(const struct sq_rec *r)
{
	return !r->unsupported;
}

bool ml_sq_rec_empty(const struct sq_rec *r)
{
	return r->nwrites == 0;
}

void ml_sq_rec_free(struct sq_rec *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nwrites; i++) {
		struct rec_write *w = &r->writes[i];
		ml_sq_doc_row_clear(&w->row);
		json_decref(w->doc);
		free(w->a);
		free(w->b);
		free(w->c);
		free(w->d);
		free(w->e);
		free(w->f);
		free((char *)w->job.org_id);
		free((char *)w->job.kind);
		free((char *)w->job.group_key);
		free((char *)w->job.coalesce_key);
		free((char *)w->job.wait_key);
		free((char *)w->job.wait_reason);
	}
	free(r->reads);
	free(r->ranges);
	free(r->writes);
	free(r);
}

static struct rec_write *add_write(struct sq_rec *r, enum wtype type)
{
	r->writes = ml_grow(r->writes, r->nwrites, &r->capwrites, sizeof *r->writes, 8);
	struct rec_write *w = &r->writes[r->nwrites++];
	memset(w, 0, sizeof *w);
	w->type = type;
	return w;
}

static char *dup_or_null(const char *s)
{
	return s ? ml_strdup(s) : NULL;
}

/* The latest write of this document in the run, if any. */
static struct rec_write *find_doc_write(struct sq_rec *r, enum ml_kind kind, const char *id)
{
	for (size_t i = r->nwrites; i-- > 0;) {
		struct rec_write *w = &r->writes[i];
		if (w->type == W_DOC && w->row.kind == kind && w->row.id && strcmp(w->row.id, id) == 0)
			return w;
	}
	return NULL;
}

static struct rec_read *find_read(struct sq_rec *r, enum ml_kind kind, const char *id)
{
	for (size_t i = 0; i < r->nreads; i++)
		if (r->reads[i].kind == kind && strcmp(r->reads[i].id, id) == 0)
			return &r->reads[i];
	return NULL;
}

static void add_read(struct sq_rec *r, enum ml_kind kind, const char *org_id, const char *id,
		     int64_t version)
{
	if (find_read(r, kind, id))
		return;
	r->reads = ml_grow(r->reads, r->nreads, &r->capreads, sizeof *r->reads, 8);
	struct rec_read *rd = &r->reads[r->nreads++];
	rd->kind = kind;
	snprintf(rd->org_id, sizeof rd->org_id, "%s", org_id);
	snprintf(rd->id, sizeof rd->id, "%s", id);
	rd->version = version;
}

int ml_sq_rec_doc_read(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		       bool shared, json_t **out)
{
	struct sq_rec *r = rec_of(tx);

	if (strlen(id) >= 40 || strlen(org_id) >= 40)
		return ML_ENOTFOUND; /* no id is that long */
	struct rec_write *w = find_doc_write(r, kind, id);
	if (w) {
		if (strcmp(w->row.org_id, org_id) != 0)
			return ML_ENOTFOUND;
		*out = json_deep_copy(w->doc);
		return 0;
	}
	int64_t version;
	/* A booking read for a change is as a rule rewritten next (a booking step), and the
	 * commit caches what it wrote: taken out of the cache instead of copied. If the run
	 * refuses or goes stale instead, the next reader parses the row again. */
	enum ml_cache_read how = shared                     ? ML_CACHE_SHARE
				 : kind == ML_KIND_BOOKING ? ML_CACHE_TAKE
							   : ML_CACHE_COPY;
	json_t *cached = ml_doc_cache_get(kind, org_id, id, how, &version);
	if (cached) {
		add_read(r, kind, org_id, id, version);
		*out = cached;
		return 0;
	}
	/* Not cached: the run's read transaction begins here, if nothing began it before. */
	int rc = ml_sq_doc_select(ml_sq_txc_read(tx), kind, org_id, id, how, out, &version);
	if (rc == 0 || rc == ML_ENOTFOUND)
		add_read(r, kind, org_id, id, rc == 0 ? version : -1);
	return rc;
}

int ml_sq_rec_doc_write(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc,
			bool insert)
{
	struct sq_rec *r = rec_of(tx);
	const char *id = json_string_value(json_object_get(doc, "id"));
	if (!id || strlen(id) >= 40) {
		r->unsupported = true;
		return ML_EINVAL;
	}
	struct rec_write *prev = find_doc_write(r, kind, id);
	if (!insert && !prev) {
		/* An update must rest on a version this run read; otherwise take the slow path. */
		struct rec_read *rd = find_read(r, kind, id);
		if (!rd || rd->version < 0) {
			r->unsupported = true;
			return ML_ENOTFOUND;
		}
	}
	if (prev) {
		/* Written twice in one run: the last write wins, as an insert if it began as one. */
		ml_sq_doc_row_clear(&prev->row);
		json_decref(prev->doc);
		ml_sq_doc_row_prepare(&prev->row, kind, org_id, doc);
		prev->doc = json_incref(doc);
		return 0;
	}
	struct rec_write *w = add_write(r, W_DOC);
	w->insert = insert;
	w->expect_version = insert ? -1 : find_read(r, kind, id)->version;
	ml_sq_doc_row_prepare(&w->row, kind, org_id, doc);
	/* Referenced, not copied: a transaction does not change a document after writing it
	 * (it writes it again instead, which replaces this record). */
	w->doc = json_incref(doc);
	return 0;
}

int ml_sq_rec_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
		      const char *except_id, int64_t start, int64_t end,
		      struct ml_booking_span *out)
{
	struct sq_rec *r = rec_of(tx);
	bool wrote_booking = false;
	for (size_t i = 0; i < r->nwrites; i++)
		wrote_booking |= r->writes[i].type == W_DOC && r->writes[i].row.kind == ML_KIND_BOOKING;
	/* A booking this run already wrote is not in its snapshot (a service's bookings moving
	 * to a new host one after the other): the ordinary way sees it. So do ids too long to
	 * record. */
	if (wrote_booking || strlen(org_id) >= 40 || strlen(host_id) >= 64 ||
	    (except_id && strlen(except_id) >= 40))
		return ml_sq_overlap_query(ml_sq_txc(tx), org_id, host_id, except_id, start, end,
					   out);
	int found = ml_sq_overlap_query(ml_sq_txc_read(tx), org_id, host_id, except_id, start,
					end, out);
	if (found < 0)
		return found;
	r->ranges = ml_grow(r->ranges, r->nranges, &r->capranges, sizeof *r->ranges, 2);
	struct rec_range *g = &r->ranges[r->nranges++];
	memset(g, 0, sizeof *g);
	snprintf(g->org_id, sizeof g->org_id, "%s", org_id);
	snprintf(g->host_id, sizeof g->host_id, "%s", host_id);
	g->has_except = except_id != NULL;
	if (except_id)
		snprintf(g->except_id, sizeof g->except_id, "%s", except_id);
	g->start = start;
	g->end = end;
	g->found = found;
	if (found)
		snprintf(g->found_id, sizeof g->found_id, "%s", out->id);
	return found;
}

/* The overlap checks asked again on connection c: ML_ECONFLICT when an answer changed (a
 * booking of the host confirmed, moved or cancelled since the run's snapshot, or earlier in
 * this writer transaction). Never shared between recordings: each asks on the rows as they
 * are at its turn. */
static int validate_ranges(struct sq_conn *c, struct sq_rec *r)
{
	for (size_t i = 0; i < r->nranges; i++) {
		struct rec_range *g = &r->ranges[i];
		struct ml_booking_span now;
		int found = ml_sq_overlap_query(c, g->org_id, g->host_id,
						g->has_except ? g->except_id : NULL, g->start,
						g->end, &now);
		if (found < 0)
			return found;
		if (found != g->found || (found && strcmp(now.id, g->found_id) != 0))
			return ML_ECONFLICT;
	}
	return 0;
}

char *ml_sq_rec_doc_text(struct ml_tx *tx, const json_t *doc)
{
	struct sq_rec *r = rec_of(tx);
	if (!r)
		return NULL; /* the ordinary path writes without keeping the text */
	for (size_t i = r->nwrites; i-- > 0;) {
		struct rec_write *w = &r->writes[i];
		if (w->type == W_DOC && w->doc == doc)
			return w->row.text ? ml_strdup(w->row.text) : NULL;
	}
	return NULL;
}

int ml_sq_rec_audit(struct ml_tx *tx, const struct ml_audit *ev)
{
	struct rec_write *w = add_write(rec_of(tx), W_AUDIT);
	w->a = ml_strdup(ev->org_id);
	w->b = dup_or_null(ev->booking_id);
	w->c = ml_strdup(ev->type);
	w->d = dup_or_null(ev->actor);
	w->e = dup_or_null(ev->ip);
	w->f = ev->data ? ml_json_text(ev->data) : NULL;
	return 0;
}

int ml_sq_rec_idem(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec)
{
	struct rec_write *w = add_write(rec_of(tx), W_IDEM);
	w->a = ml_strdup(org_id);
	w->b = ml_strdup(key);
	w->c = ml_strdup(rec->body_hash);
	w->status = rec->status;
	w->d = ml_strdup(rec->response ? rec->response : "");
	return 0;
}

int ml_sq_rec_job(struct ml_tx *tx, const struct ml_job_new *j, const char *id,
		  const char *payload)
{
	struct rec_write *w = add_write(rec_of(tx), W_JOB);
	w->job = *j;
	w->job.org_id = ml_strdup(j->org_id);
	w->job.kind = ml_strdup(j->kind);
	w->job.group_key = dup_or_null(j->group_key);
	w->job.coalesce_key = dup_or_null(j->coalesce_key);
	w->job.wait_key = dup_or_null(j->wait_key);
	w->job.wait_reason = dup_or_null(j->wait_reason);
	w->job.payload = NULL;
	w->job.payload_text = NULL;
	w->a = ml_strdup(id);
	w->b = ml_strdup(payload);
	return 0;
}

int ml_sq_rec_gateway_link(struct ml_tx *tx, const struct ml_gateway_link *l)
{
	struct rec_write *w = add_write(rec_of(tx), W_LINK);
	w->a = ml_strdup(l->token_hash);
	w->b = ml_strdup(l->org_id);
	w->c = ml_strdup(l->booking_id);
	w->d = ml_strdup(l->participant_id);
	w->e = ml_strdup(l->role);
	w->n = l->generation;
	return 0;
}

/* The version of a host or service already checked in this writer transaction, if any
 * (sq_conn.checked): found 0, else -1. Ids compare with their organization (rd->org_id is
 * part of the row's key, so the same id under another organization is another row). */
static int checked_version(struct sq_conn *c, const struct rec_read *rd, int64_t *version)
{
	if (c->nchecked < 0 || rd->kind == ML_KIND_BOOKING)
		return -1;
	for (int i = 0; i < c->nchecked; i++)
		if (c->checked[i].kind == rd->kind && strcmp(c->checked[i].id, rd->id) == 0 &&
		    strcmp(c->checked[i].org_id, rd->org_id) == 0) {
			*version = c->checked[i].version;
			return 0;
		}
	return -1;
}

static void remember_version(struct sq_conn *c, const struct rec_read *rd, int64_t version)
{
	if (c->nchecked < 0 || rd->kind == ML_KIND_BOOKING ||
	    c->nchecked == (int)(sizeof c->checked / sizeof c->checked[0]))
		return;
	c->checked[c->nchecked].kind = rd->kind;
	memcpy(c->checked[c->nchecked].id, rd->id, sizeof rd->id);
	memcpy(c->checked[c->nchecked].org_id, rd->org_id, sizeof rd->org_id);
	c->checked[c->nchecked].version = version;
	c->nchecked++;
}

int ml_sq_rec_validate(struct sq_conn *c, struct sq_rec *r)
{
	static const char *const sql[] = {
	    [ML_KIND_HOST] = "SELECT version FROM hosts WHERE id = ? AND org_id = ?",
	    [ML_KIND_SERVICE] = "SELECT version FROM services WHERE id = ? AND org_id = ?",
	    [ML_KIND_BOOKING] = "SELECT version FROM bookings WHERE id = ? AND org_id = ?",
	};
	for (size_t i = 0; i < r->nreads; i++) {
		struct rec_read *rd = &r->reads[i];
		int64_t now;
		if (checked_version(c, rd, &now) < 0) {
			sqlite3_stmt *st = ml_sq_prep(c, sql[rd->kind]);
			if (!st)
				return ml_sq_fail(c->db, "occ validate");
			sqlite3_bind_text(st, 1, rd->id, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, rd->org_id, -1, SQLITE_STATIC);
			now = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
			sqlite3_reset(st);
			remember_version(c, rd, now);
		}
		if (now != rd->version) {
			ml_doc_cache_drop(rd->kind, rd->id); /* may be what was stale */
			return ML_ECONFLICT;
		}
	}
	return validate_ranges(c, r);
}

/* On the writer, once ml_sq_rec_validate passed: the recorded rows. < 0 when a write failed,
 * possibly after earlier ones succeeded (the caller rolls back). */
int ml_sq_rec_write(struct sq_conn *c, struct sq_rec *r)
{
	for (size_t i = 0; i < r->nwrites; i++) {
		struct rec_write *w = &r->writes[i];
		int rc = 0;
		switch (w->type) {
		case W_DOC:
			rc = ml_sq_doc_row_apply(c, &w->row, w->insert, w->expect_version);
			break;
		case W_AUDIT:
			rc = ml_sq_audit_apply(c, w->a, w->b, w->c, w->d, w->e, w->f);
			break;
		case W_IDEM:
			rc = ml_sq_idem_apply(c, w->a, w->b, w->c, w->status, w->d);
			break;
		case W_JOB:
			rc = ml_sq_job_apply(c, &w->job, w->a, w->b, NULL);
			break;
		case W_LINK:
			rc = ml_sq_gateway_link_apply(c, w->a, w->b, w->c, w->d, w->e, w->n);
			break;
		}
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* On the writer, inside the op's savepoint: < 0 when the snapshot went stale or a write
 * failed (the caller rolls back and runs the slow path, which reports real errors). */
int ml_sq_rec_apply(struct sq_conn *c, struct sq_rec *r)
{
	int vrc = ml_sq_rec_validate(c, r);
	return vrc < 0 ? vrc : ml_sq_rec_write(c, r);
}

void ml_sq_rec_cache_written(struct sq_rec *r)
{
	for (size_t i = 0; i < r->nwrites; i++) {
		struct rec_write *w = &r->writes[i];
		if (w->type == W_DOC && w->row.id)
			ml_doc_cache_put_shared(w->row.kind, w->row.org_id, w->row.id,
						w->insert ? 0 : w->expect_version + 1, w->doc);
	}
}
