/* The public store API: dispatch to the backend chosen by the URL. */
#include "store/backend.h"
#include "core/crypto.h"
#include "core/error.h"
#include "core/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The concern of the transaction's backend an ml_tx_* call goes to. */
static const struct ml_store_docs_ops *docs_of(struct ml_tx *tx)
{
	return tx->store->backend->docs;
}

static const struct ml_store_jobs_ops *jobs_of(struct ml_tx *tx)
{
	return tx->store->backend->jobs;
}

static const struct ml_store_conn_ops *conn_of(struct ml_tx *tx)
{
	return tx->store->backend->conn;
}

static const struct ml_store_notify_ops *notify_of(struct ml_tx *tx)
{
	return tx->store->backend->notify;
}

static const struct ml_store_audit_ops *audit_of(struct ml_tx *tx)
{
	return tx->store->backend->audit;
}

int ml_store_open(struct ml_store **out, const char *url)
{
	if (strncmp(url, "sqlite:", 7) == 0)
		return ml_store_sqlite_open(out, url + 7);
	if (strncmp(url, "postgres://", 11) == 0 || strncmp(url, "postgresql://", 13) == 0)
		return ml_store_pg_open(out, url);
	return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_DB",
			    "MEETLINK_DB must be sqlite:PATH or a postgres:// URL");
}

int ml_store_import_sqlite(struct ml_store *dst, const char *path, long *rows)
{
	if (strcmp(dst->backend->name, "postgres") != 0)
		return ml_error_set(ML_EINVAL, "invalid_config", "--to",
				    "a store is moved into PostgreSQL only");
	return ml_pg_import_sqlite(dst, path, rows);
}

void ml_store_close(struct ml_store *s)
{
	if (s)
		s->backend->close(s);
}

int ml_store_migrate(struct ml_store *s)
{
	return s->backend->migrate(s);
}

int ml_store_ready(struct ml_store *s)
{
	return s->backend->ready(s);
}

int ml_store_write(struct ml_store *s, ml_tx_fn fn, void *arg)
{
	return s->backend->write(s, fn, arg);
}

int ml_store_write_occ(struct ml_store *s, ml_tx_fn fn, void *arg, void (*reset)(void *),
		       void *reset_arg)
{
	if (!s->backend->write_occ)
		return s->backend->write(s, fn, arg);
	return s->backend->write_occ(s, fn, arg, reset, reset_arg);
}

int ml_store_write_async(struct ml_store *s, ml_tx_fn fn, void *arg,
			 void (*done)(void *arg, int rc), void *done_arg)
{
	if (s->backend->write_async)
		return s->backend->write_async(s, fn, arg, done, done_arg);
	done(done_arg, s->backend->write(s, fn, arg));
	return 0;
}

int ml_store_read(struct ml_store *s, ml_tx_fn fn, void *arg)
{
	return s->backend->read(s, fn, arg);
}

struct ml_store *ml_tx_store(struct ml_tx *tx)
{
	return tx->store;
}

int ml_store_subscribe(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
		       void *arg)
{
	return s->backend->subscribe ? s->backend->subscribe(s, channel, fn, arg) : 0;
}

int ml_store_unsubscribe(struct ml_store *s, const char *channel, ml_store_signal_fn fn,
			 void *arg)
{
	return s->backend->unsubscribe ? s->backend->unsubscribe(s, channel, fn, arg) : 0;
}

int ml_store_signal(struct ml_store *s, const char *channel, const char *payload)
{
	return s->backend->signal ? s->backend->signal(s, channel, payload) : 0;
}

int ml_tx_signal(struct ml_tx *tx, const char *channel, const char *payload)
{
	const struct ml_store_backend *b = tx->store->backend;
	return b->tx_signal ? b->tx_signal(tx, channel, payload) : 0;
}

const char *ml_store_backend_name(struct ml_store *s)
{
	return s->backend->name;
}

bool ml_store_shared(struct ml_store *s)
{
	return s->backend->shared;
}

int ml_store_set_job_taker(struct ml_store *s, const struct ml_job_taker *t)
{
	return s->backend->jobs->set_taker ? s->backend->jobs->set_taker(s, t) : 1;
}

bool ml_tx_writable(struct ml_tx *tx)
{
	return !tx->store->backend->writable || tx->store->backend->writable(tx);
}

int ml_tx_nested(struct ml_tx *tx, ml_tx_fn fn, void *arg)
{
	return tx->store->backend->nested(tx, fn, arg);
}

int ml_tx_job_enqueue(struct ml_tx *tx, const struct ml_job_new *j, char id_out[40])
{
	return jobs_of(tx)->enqueue(tx, j, id_out);
}

int ml_tx_job_claim(struct ml_tx *tx, const char *worker, int64_t now_ms, int64_t lease_ms,
		    int max, struct ml_job **jobs, int *n)
{
	return jobs_of(tx)->claim(tx, worker, now_ms, lease_ms, max, jobs, n);
}

int ml_tx_job_finish(struct ml_tx *tx, const char *id, const char *worker,
		     const struct ml_job_finish *f, int attempts, int max_attempts)
{
	return jobs_of(tx)->finish(tx, id, worker, f, attempts, max_attempts);
}

int ml_tx_job_set_payload(struct ml_tx *tx, const char *id, json_t *payload)
{
	return jobs_of(tx)->set_payload(tx, id, payload);
}

int ml_tx_provider_meeting_put(struct ml_tx *tx, const char *platform, const char *external_id,
			       const char *org_id, const char *booking_id, const char *meeting_id)
{
	return docs_of(tx)->provider_meeting_put(tx, platform, external_id, org_id, booking_id,
	                                         meeting_id);
}

int ml_tx_provider_meeting_find(struct ml_tx *tx, const char *platform, const char *external_id,
				char org_id[40], char booking_id[40], char meeting_id[40])
{
	return docs_of(tx)->provider_meeting_find(tx, platform, external_id, org_id, booking_id,
	                                          meeting_id);
}

int ml_tx_recording_put(struct ml_tx *tx, const char *org_id, json_t *doc)
{
	return docs_of(tx)->recording_put(tx, org_id, doc);
}

int ml_tx_recording_get(struct ml_tx *tx, const char *org_id, const char *id, json_t **out)
{
	return docs_of(tx)->recording_get(tx, org_id, id, out);
}

int ml_tx_recording_list(struct ml_tx *tx, const char *org_id, const struct ml_recording_query *q,
			 json_t **items, char **next_cursor)
{
	return docs_of(tx)->recording_list(tx, org_id, q, items, next_cursor);
}

int ml_tx_recording_calendar_put(struct ml_tx *tx, const char *org_id, json_t *doc)
{
	return docs_of(tx)->recording_calendar_put(tx, org_id, doc);
}

int ml_tx_recording_calendar_get(struct ml_tx *tx, const char *org_id, const char *id,
				 json_t **out)
{
	return docs_of(tx)->recording_calendar_get(tx, org_id, id, out);
}

int ml_tx_recording_calendar_list(struct ml_tx *tx, const char *org_id, const char *host_id,
				  json_t **items)
{
	return docs_of(tx)->recording_calendar_list(tx, org_id, host_id, items);
}

int ml_tx_recording_calendar_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	return docs_of(tx)->recording_calendar_delete(tx, org_id, id);
}

int ml_tx_inbound_event_first(struct ml_tx *tx, const char *provider, const char *key,
			      int64_t now_ms, int64_t keep_ms)
{
	return docs_of(tx)->inbound_event_first(tx, provider, key, now_ms, keep_ms);
}

int ml_tx_gateway_link_put(struct ml_tx *tx, const struct ml_gateway_link *l)
{
	return docs_of(tx)->gateway_link_put(tx, l);
}

int ml_tx_gateway_link_find(struct ml_tx *tx, const char *token_hash, struct ml_gateway_link *out)
{
	return docs_of(tx)->gateway_link_find(tx, token_hash, out);
}

int ml_tx_gateway_link_revoke(struct ml_tx *tx, const char *org_id, const char *booking_id,
			      const char *participant_id)
{
	return docs_of(tx)->gateway_link_revoke(tx, org_id, booking_id, participant_id);
}

int ml_tx_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out)
{
	const struct ml_store_docs_ops *d = docs_of(tx);
	if (d->version < 5 || !d->booking_overlap)
		return ml_error_set(ML_EINTERNAL, "internal_error", NULL,
				    "The store cannot check bookings for overlaps.");
	return d->booking_overlap(tx, org_id, host_id, except_id, start, end, out);
}

int ml_tx_job_recover(struct ml_tx *tx)
{
	return jobs_of(tx)->recover(tx);
}

int ml_tx_job_release(struct ml_tx *tx, const char *worker)
{
	return jobs_of(tx)->release ? jobs_of(tx)->release(tx, worker) : 0;
}

int ml_tx_job_renew(struct ml_tx *tx, const char *worker, int64_t until_ms,
		    struct ml_job_lease *l, int n)
{
	if (jobs_of(tx)->version < 3 || !jobs_of(tx)->renew) {
		for (int i = 0; i < n; i++)
			l[i].state = ML_LEASE_BUSY;
		return 0;
	}
	return jobs_of(tx)->renew(tx, worker, until_ms, l, n);
}

int ml_tx_job_wake(struct ml_tx *tx, const char *wait_key)
{
	return jobs_of(tx)->wake(tx, wait_key);
}

int ml_tx_job_cancel_group(struct ml_tx *tx, const char *group_key, const char *kind)
{
	return jobs_of(tx)->cancel_group(tx, group_key, kind);
}

int ml_tx_job_next_due(struct ml_tx *tx, int64_t *run_at_ms)
{
	return jobs_of(tx)->next_due(tx, run_at_ms);
}

int ml_tx_job_list(struct ml_tx *tx, const char *org_id, const char *state,
		   const char *group_key, const struct ml_list_query *q, json_t **items,
		   char **next_cursor)
{
	return jobs_of(tx)->list(tx, org_id, state, group_key, q, items, next_cursor);
}

int ml_tx_job_retry(struct ml_tx *tx, const char *org_id, const char *id, json_t **job)
{
	return jobs_of(tx)->retry(tx, org_id, id, job);
}

void ml_job_load(struct ml_job *j)
{
	if (j->payload)
		return;
	j->payload = j->payload_text ? json_loads(j->payload_text, 0, NULL) : NULL;
	if (!j->payload)
		j->payload = json_object();
	free(j->payload_text);
	j->payload_text = NULL;
}

void ml_job_free(struct ml_job *j)
{
	if (!j)
		return;
	free(j->group_key);
	free(j->payload_text);
	json_decref(j->payload);
}

int ml_tx_org_ensure(struct ml_tx *tx, const char *name, char org_id[40])
{
	return docs_of(tx)->org_ensure(tx, name, org_id);
}

int ml_tx_key_insert(struct ml_tx *tx, const char *key_id, const char *org_id,
		     const char *hash_hex, const char *prefix)
{
	return docs_of(tx)->key_insert(tx, key_id, org_id, hash_hex, prefix);
}

int ml_tx_key_lookup(struct ml_tx *tx, const char *hash_hex, char org_id[40], char key_id[40])
{
	return docs_of(tx)->key_lookup(tx, hash_hex, org_id, key_id);
}

int ml_tx_key_count(struct ml_tx *tx)
{
	return docs_of(tx)->key_count(tx);
}

int ml_tx_org_rate_set(struct ml_tx *tx, const char *name, const struct ml_org_rate *rate)
{
	return docs_of(tx)->org_rate_set(tx, name, rate);
}

int ml_tx_org_rate_get(struct ml_tx *tx, const char *org_id, struct ml_org_rate *out)
{
	return docs_of(tx)->org_rate_get(tx, org_id, out);
}

int ml_tx_org_settings_get(struct ml_tx *tx, const char *org_id, json_t **out)
{
	return docs_of(tx)->org_settings_get(tx, org_id, out);
}

int ml_tx_org_settings_put(struct ml_tx *tx, const char *org_id, json_t *settings)
{
	return docs_of(tx)->org_settings_put(tx, org_id, settings);
}

int ml_tx_admission_get(struct ml_tx *tx, const char *org_id, const char *booking_id,
			const char *participant_id, json_t **out)
{
	return docs_of(tx)->admission_get(tx, org_id, booking_id, participant_id, out);
}

int ml_tx_admission_put(struct ml_tx *tx, const char *org_id, const char *booking_id,
			json_t *row)
{
	return docs_of(tx)->admission_put(tx, org_id, booking_id, row);
}

int ml_tx_admission_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
			 int64_t after_seq, json_t **out)
{
	return docs_of(tx)->admission_list(tx, org_id, booking_id, after_seq, out);
}

int ml_tx_doc_insert(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return docs_of(tx)->insert(tx, kind, org_id, doc);
}

int ml_tx_doc_update(struct ml_tx *tx, enum ml_kind kind, const char *org_id, json_t *doc)
{
	return docs_of(tx)->update(tx, kind, org_id, doc);
}

char *ml_tx_doc_text(struct ml_tx *tx, const json_t *doc)
{
	return doc && docs_of(tx)->text ? docs_of(tx)->text(tx, doc) : NULL;
}

int ml_tx_doc_get(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		  json_t **out)
{
	return docs_of(tx)->get(tx, kind, org_id, id, out);
}

int ml_tx_doc_peek(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id,
		   json_t **out)
{
	if (docs_of(tx)->peek)
		return docs_of(tx)->peek(tx, kind, org_id, id, out);
	return docs_of(tx)->get(tx, kind, org_id, id, out);
}

int ml_tx_doc_delete(struct ml_tx *tx, enum ml_kind kind, const char *org_id, const char *id)
{
	return docs_of(tx)->remove(tx, kind, org_id, id);
}

int ml_tx_doc_count_ref(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
			const char *column, const char *value, const char *const *statuses)
{
	return docs_of(tx)->count_ref(tx, kind, org_id, column, value, statuses);
}

int ml_tx_doc_list(struct ml_tx *tx, enum ml_kind kind, const char *org_id,
		   const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	return docs_of(tx)->list(tx, kind, org_id, q, items, next_cursor);
}

int ml_tx_audit_append(struct ml_tx *tx, const struct ml_audit *ev)
{
	return audit_of(tx)->append(tx, ev);
}

int ml_tx_audit_list(struct ml_tx *tx, const char *org_id, const char *booking_id,
		     json_t **items)
{
	return audit_of(tx)->list(tx, org_id, booking_id, items);
}

int ml_tx_idem_get(struct ml_tx *tx, const char *org_id, const char *key, struct ml_idem *out)
{
	return docs_of(tx)->idem_get(tx, org_id, key, out);
}

int ml_tx_idem_put(struct ml_tx *tx, const char *org_id, const char *key,
		   const struct ml_idem *rec)
{
	return docs_of(tx)->idem_put(tx, org_id, key, rec);
}

int ml_tx_template_get(struct ml_tx *tx, const char *org_id, const char *name, json_t **out)
{
	return notify_of(tx)->template_get(tx, org_id, name, out);
}

int ml_tx_template_put(struct ml_tx *tx, const char *org_id, const char *name, json_t *tpl)
{
	return notify_of(tx)->template_put(tx, org_id, name, tpl);
}

int ml_tx_template_delete(struct ml_tx *tx, const char *org_id, const char *name)
{
	return notify_of(tx)->template_delete(tx, org_id, name);
}

int ml_tx_webhook_endpoint_insert(struct ml_tx *tx, const char *org_id, json_t *ep,
				  const char *secret)
{
	return notify_of(tx)->endpoint_insert(tx, org_id, ep, secret);
}

int ml_tx_webhook_endpoint_get(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t **ep, char **secret)
{
	return notify_of(tx)->endpoint_get(tx, org_id, id, ep, secret);
}

int ml_tx_webhook_endpoint_list(struct ml_tx *tx, const char *org_id,
				const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	return notify_of(tx)->endpoint_list(tx, org_id, q, items, next_cursor);
}

int ml_tx_webhook_endpoint_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	return notify_of(tx)->endpoint_delete(tx, org_id, id);
}

int ml_tx_webhook_delivery_insert(struct ml_tx *tx, const struct ml_webhook_delivery_new *d)
{
	return notify_of(tx)->delivery_insert(tx, d);
}

int ml_tx_webhook_delivery_get(struct ml_tx *tx, const char *org_id, const char *id,
			       json_t **delivery, char **body)
{
	return notify_of(tx)->delivery_get(tx, org_id, id, delivery, body);
}

int ml_tx_webhook_delivery_list(struct ml_tx *tx, const char *org_id, const char *endpoint_id,
				const struct ml_list_query *q, json_t **items, char **next_cursor)
{
	return notify_of(tx)->delivery_list(tx, org_id, endpoint_id, q, items, next_cursor);
}

int ml_tx_webhook_attempt_record(struct ml_tx *tx, const struct ml_webhook_attempt *a)
{
	return notify_of(tx)->attempt_record(tx, a);
}

int ml_tx_webhook_delivery_requeue(struct ml_tx *tx, const char *org_id, const char *id)
{
	return notify_of(tx)->delivery_requeue(tx, org_id, id);
}

int ml_tx_webhook_endpoint_update(struct ml_tx *tx, const char *org_id, const char *id,
				  json_t *patch)
{
	return notify_of(tx)->endpoint_update(tx, org_id, id, patch);
}

int ml_tx_webhook_endpoint_health(struct ml_tx *tx, const char *org_id, const char *id, bool ok,
				  int64_t at_ms, int64_t disable_after_ms, bool *disabled)
{
	return notify_of(tx)->endpoint_health(tx, org_id, id, ok, at_ms, disable_after_ms,
	                                      disabled);
}

int ml_tx_webhook_delivery_skip(struct ml_tx *tx, const char *id, const char *why)
{
	return notify_of(tx)->delivery_skip(tx, id, why);
}

const char *ml_store_kind_table(enum ml_kind kind)
{
	static const char *tables[] = {"hosts", "services", "bookings"};
	return tables[kind];
}

/* Cursors are opaque to clients: base64url("c1:<created_at_ms>:<id>"). */
char *ml_store_cursor_encode(int64_t created_at_ms, const char *id)
{
	char raw[96];
	int n = snprintf(raw, sizeof raw, "c1:%lld:%s", (long long)created_at_ms, id);
	return ml_base64url_encode(raw, (size_t)n);
}

int ml_store_cursor_decode(const char *cursor, int64_t *created_at_ms, char id[40])
{
	size_t n;
	uint8_t *raw = ml_base64url_decode(cursor, strlen(cursor), &n);
	char buf[96], *end;
	int rc = ml_error_set(ML_EINVAL, "invalid_cursor", "cursor",
			      "cursor is not one this API handed out");

	if (!raw)
		return rc;
	if (n >= sizeof buf || n < 4 || memcmp(raw, "c1:", 3) != 0) {
		free(raw);
		return rc;
	}
	memcpy(buf, raw, n);
	buf[n] = '\0';
	free(raw);
	long long t = strtoll(buf + 3, &end, 10);
	if (*end != ':' || strlen(end + 1) == 0 || strlen(end + 1) >= 40)
		return rc;
	*created_at_ms = t;
	memcpy(id, end + 1, strlen(end + 1) + 1);
	ml_error_clear();
	return 0;
}

int ml_tx_conn_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		   const char *platform, struct ml_conn_row *out)
{
	return conn_of(tx)->get(tx, org_id, host_id, platform, out);
}

int ml_tx_conn_get_id(struct ml_tx *tx, const char *id, struct ml_conn_row *out)
{
	return conn_of(tx)->get_id(tx, id, out);
}

int ml_tx_conn_put(struct ml_tx *tx, const struct ml_conn_row *r)
{
	return conn_of(tx)->put(tx, r);
}

int ml_tx_conn_list(struct ml_tx *tx, const char *org_id, const char *host_id,
		    struct ml_conn_row **rows, int *n)
{
	return conn_of(tx)->list(tx, org_id, host_id, rows, n);
}

int ml_tx_conn_lease(struct ml_tx *tx, const char *id, int64_t now_ms, int64_t lease_until_ms)
{
	return conn_of(tx)->lease(tx, id, now_ms, lease_until_ms);
}

int ml_tx_watch_put(struct ml_tx *tx, json_t *doc)
{
	return conn_of(tx)->watch_put(tx, doc);
}

int ml_tx_watch_get(struct ml_tx *tx, const char *org_id, const char *host_id,
		    const char *platform, json_t **out)
{
	return conn_of(tx)->watch_get(tx, org_id, host_id, platform, out);
}

int ml_tx_watch_find(struct ml_tx *tx, const char *platform, const char *channel_id,
		     json_t **out)
{
	return conn_of(tx)->watch_find(tx, platform, channel_id, out);
}

int ml_tx_watch_delete(struct ml_tx *tx, const char *org_id, const char *id)
{
	return conn_of(tx)->watch_delete(tx, org_id, id);
}

int ml_tx_oauth_state_put(struct ml_tx *tx, const struct ml_oauth_state_row *r)
{
	return conn_of(tx)->oauth_state_put(tx, r);
}

int ml_tx_oauth_state_take(struct ml_tx *tx, const char *state_hash, const char *cookie_hash,
			   const char *platform, int64_t now_ms, struct ml_oauth_state_row *out)
{
	return conn_of(tx)->oauth_state_take(tx, state_hash, cookie_hash, platform, now_ms, out);
}

void ml_conn_row_clear(struct ml_conn_row *r)
{
	if (!r)
		return;
	free(r->account_email);
	free(r->scopes);
	free(r->config);
	free(r->access_token);
	free(r->refresh_token);
	free(r->secret);
	free(r->last_error);
	free(r->last_error_code);
	memset(r, 0, sizeof *r);
}
