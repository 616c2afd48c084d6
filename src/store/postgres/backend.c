/* The PostgreSQL backend (libpq): a store shared by any number of nodes. Opening and closing
 * it, and the tables of operations the rest of src/store/postgres/ implements. */
#include "store/postgres/internal.h"
#include "core/error.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/mem.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct ml_store_backend pg_backend;

/* MEETLINK_DB_POOL: connections per node (default 16). */
static int pool_size(void)
{
	const char *v = getenv("MEETLINK_DB_POOL");
	char *end;
	long n = v && *v ? strtol(v, &end, 10) : 16;
	if (v && *v && (*end || n < 1 || n > 500)) {
		ml_warn("MEETLINK_DB_POOL must be 1..500; using 16");
		n = 16;
	}
	return (int)n;
}

int ml_store_pg_open(struct ml_store **out, const char *url)
{
	struct pg_store *s = ml_calloc(1, sizeof *s);
	s->base.backend = &pg_backend;
	s->conninfo = ml_strdup(url);
	s->pool_max = pool_size();
	ml_id_new(s->node, "node");
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_cond_init(&s->async_cv, NULL);
	pthread_mutex_init(&s->sub_mu, NULL);
	if (pipe2(s->listen_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		free(s->conninfo);
		free(s);
		return ml_error_set(ML_ESTORE, "store_unavailable", NULL, "cannot make a pipe");
	}
	/* One connection now, so a wrong URL or an unreachable server fails the start. */
	struct pg_conn *c = ml_pg_take(s);
	if (!c) {
		char msg[512];
		snprintf(msg, sizeof msg, "%s", ml_error_message());
		close(s->listen_pipe[0]);
		close(s->listen_pipe[1]);
		free(s->conninfo);
		free(s);
		return ml_error_set(ML_ESTORE, "store_unavailable", "MEETLINK_DB", "%s", msg);
	}
	ml_pg_give(s, c);
	*out = &s->base;
	return 0;
}

static void pg_close(struct ml_store *base)
{
	struct pg_store *s = (struct pg_store *)base;
	ml_pg_listen_stop(s);
	ml_pg_async_stop(s);
	while (s->free) {
		struct pg_conn *c = s->free;
		s->free = c->next_free;
		ml_pg_conn_close(c);
	}
	close(s->listen_pipe[0]);
	close(s->listen_pipe[1]);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_cond_destroy(&s->async_cv);
	pthread_mutex_destroy(&s->sub_mu);
	free(s->conninfo);
	free(s);
}

/* Documents and idempotency: docs.c, keys.c, pipeline.c. */
static const struct ml_store_docs_ops pg_docs = {
	.version = ML_STORE_DOCS_VERSION,
	.org_ensure = ml_pg_org_ensure,
	.key_insert = ml_pg_key_insert,
	.key_lookup = ml_pg_key_lookup,
	.key_count = ml_pg_key_count,
	.org_rate_set = ml_pg_org_rate_set,
	.org_rate_get = ml_pg_org_rate_get,
	.insert = ml_pg_doc_insert,
	.update = ml_pg_doc_update,
	.get = ml_pg_doc_get,
	.remove = ml_pg_doc_delete,
	.count_ref = ml_pg_doc_count_ref,
	.list = ml_pg_doc_list,
	.idem_get = ml_pg_idem_get,
	.idem_put = ml_pg_idem_put,
	.provider_meeting_put = ml_pg_provider_meeting_put,
	.provider_meeting_find = ml_pg_provider_meeting_find,
	.inbound_event_first = ml_pg_inbound_event_first,
#if ML_STORE_DOCS_VERSION >= 2
	.gateway_link_put = ml_pg_gateway_link_put,
	.gateway_link_find = ml_pg_gateway_link_find,
	.gateway_link_revoke = ml_pg_gateway_link_revoke,
#endif
#if ML_STORE_DOCS_VERSION >= 3
	.org_settings_get = ml_pg_org_settings_get,
	.org_settings_put = ml_pg_org_settings_put,
	.admission_get = ml_pg_admission_get,
	.admission_put = ml_pg_admission_put,
	.admission_list = ml_pg_admission_list,
#endif
#if ML_STORE_DOCS_VERSION >= 4
	.recording_put = ml_pg_recording_put,
	.recording_get = ml_pg_recording_get,
	.recording_list = ml_pg_recording_list,
	.recording_calendar_put = ml_pg_recording_calendar_put,
	.recording_calendar_get = ml_pg_recording_calendar_get,
	.recording_calendar_list = ml_pg_recording_calendar_list,
	.recording_calendar_delete = ml_pg_recording_calendar_delete,
#endif
#if ML_STORE_DOCS_VERSION >= 5
	.booking_overlap = ml_pg_booking_overlap,
#endif
};

/* Jobs and leases: jobs.c (no hand-over at commit: workers are woken by NOTIFY and claim). */
static const struct ml_store_jobs_ops pg_jobs = {
	.version = ML_STORE_JOBS_VERSION,
	.enqueue = ml_pg_job_enqueue,
	.claim = ml_pg_job_claim,
	.finish = ml_pg_job_finish,
	.recover = ml_pg_job_recover,
	.set_payload = ml_pg_job_set_payload,
	.wake = ml_pg_job_wake,
	.cancel_group = ml_pg_job_cancel_group,
	.next_due = ml_pg_job_next_due,
	.list = ml_pg_job_list,
	.retry = ml_pg_job_retry,
	.release = ml_pg_job_release,
	.renew = ml_pg_job_renew,
};

/* Connections and secrets: conn.c, sealed.c. */
static const struct ml_store_conn_ops pg_conn_ops = {
	.version = ML_STORE_CONN_VERSION,
	.get = ml_pg_conn_get,
	.get_id = ml_pg_conn_get_id,
	.put = ml_pg_conn_put,
	.list = ml_pg_conn_list,
	.lease = ml_pg_conn_lease,
	.oauth_state_put = ml_pg_oauth_state_put,
	.oauth_state_take = ml_pg_oauth_state_take,
	.sealed_get = ml_pg_sealed_get,
	.sealed_list = ml_pg_sealed_list,
	.sealed_set = ml_pg_sealed_set,
	.watch_put = ml_pg_watch_put,
	.watch_get = ml_pg_watch_get,
	.watch_find = ml_pg_watch_find,
	.watch_delete = ml_pg_watch_delete,
};

/* Notifications: notify.c. */
static const struct ml_store_notify_ops pg_notify = {
	.version = ML_STORE_NOTIFY_VERSION,
	.template_get = ml_pg_template_get,
	.template_put = ml_pg_template_put,
	.template_delete = ml_pg_template_delete,
	.endpoint_insert = ml_pg_endpoint_insert,
	.endpoint_get = ml_pg_endpoint_get,
	.endpoint_list = ml_pg_endpoint_list,
	.endpoint_delete = ml_pg_endpoint_delete,
	.endpoint_update = ml_pg_endpoint_update,
	.endpoint_health = ml_pg_endpoint_health,
	.delivery_insert = ml_pg_delivery_insert,
	.delivery_get = ml_pg_delivery_get,
	.delivery_list = ml_pg_delivery_list,
	.delivery_requeue = ml_pg_delivery_requeue,
	.delivery_skip = ml_pg_delivery_skip,
	.attempt_record = ml_pg_attempt_record,
};

/* The audit trail: audit.c. */
static const struct ml_store_audit_ops pg_audit = {
	.version = ML_STORE_AUDIT_VERSION,
	.append = ml_pg_audit_append,
	.list = ml_pg_audit_list,
};

/* The core: transactions (tx.c), migrations (migrate.c), signals (listen.c). */
static const struct ml_store_backend pg_backend = {
	.version = ML_STORE_BACKEND_VERSION,
	.name = "postgres",
	.shared = true,
	.close = pg_close,
	.migrate = ml_pg_migrate,
	.ready = ml_pg_ready,
	.write = ml_pg_write,
	.read = ml_pg_read,
	.nested = ml_pg_nested,
	.write_occ = ml_pg_write_occ,
	.write_async = ml_pg_write_async,
	.writable = ml_pg_writable,
	.subscribe = ml_pg_subscribe,
	.unsubscribe = ml_pg_unsubscribe,
	.signal = ml_pg_signal,
	.tx_signal = ml_pg_tx_signal,
	.docs = &pg_docs,
	.jobs = &pg_jobs,
	.conn = &pg_conn_ops,
	.notify = &pg_notify,
	.audit = &pg_audit,
};
