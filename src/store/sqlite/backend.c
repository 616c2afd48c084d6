/* The SQLite backend: WAL, synchronous=FULL, one writer thread with group commit, a pool of
 * reader connections, prepared statements cached per connection. Opening and closing the
 * store, and the tables of operations the rest of src/store/sqlite/ implements. */
#include "store/sqlite/internal.h"
#include "core/error.h"
#include "core/mem.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct ml_store_backend sqlite_backend;

static int mkdir_parent(const char *path)
{
	char *dir = ml_strdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		for (char *p = dir + 1; *p; p++) {
			if (*p != '/')
				continue;
			*p = '\0';
			mkdir(dir, 0700);
			*p = '/';
		}
		if (mkdir(dir, 0700) < 0 && errno != EEXIST)
			rc = ml_error_set(ML_ESTORE, "store_unavailable", "MEETLINK_DB",
					  "cannot create directory %s: %s", dir, strerror(errno));
	}
	free(dir);
	return rc;
}

int ml_store_sqlite_open(struct ml_store **out, const char *path)
{
	struct sq_store *s;
	int rc;

	if (!*path)
		return ml_error_set(ML_EINVAL, "invalid_config", "MEETLINK_DB",
				    "sqlite: needs a file path");
	if ((rc = mkdir_parent(path)) < 0)
		return rc;
	s = ml_calloc(1, sizeof *s);
	s->base.backend = &sqlite_backend;
	s->path = ml_strdup(path);
	if ((rc = ml_sq_conn_open(path, false, ml_sq_wal_vfs(), &s->writer)) < 0) {
		free(s->path);
		free(s);
		return rc;
	}
	s->writer->is_writer = true;
	s->db_fd = -1;
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->readers_mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_cond_init(&s->ckpt_cv, NULL);
	pthread_create(&s->thread, NULL, ml_sq_writer_main, s);
	if (ml_sq_conn_open(path, false, NULL, &s->ckpt) == 0) {
		/* The checkpointer waits for locks only briefly (ml_sq_busy_wait). */
		sqlite3_busy_handler(s->ckpt->db, ml_sq_busy_wait, s);
		sqlite3_exec(s->writer->db, "PRAGMA wal_autocheckpoint=0", NULL, NULL, NULL);
		s->db_fd = open(path, O_RDONLY | O_CLOEXEC);
		pthread_create(&s->ckpt_thread, NULL, ml_sq_checkpoint_main, s);
	}
	*out = &s->base;
	return 0;
}

static void sq_close(struct ml_store *base)
{
	struct sq_store *s = (struct sq_store *)base;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_signal(&s->work_cv);
	pthread_cond_signal(&s->ckpt_cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->thread, NULL);
	if (s->ckpt) {
		pthread_join(s->ckpt_thread, NULL);
		ml_sq_conn_close(s->ckpt);
	}
	pthread_cond_destroy(&s->ckpt_cv);
	ml_sq_conn_close(s->writer);
	while (s->free_readers) {
		struct sq_conn *c = s->free_readers;
		s->free_readers = c->next_free;
		ml_sq_conn_close(c);
	}
	if (s->db_fd >= 0)
		close(s->db_fd); /* (after every connection: see struct sq_store) */
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->readers_mu);
	pthread_cond_destroy(&s->work_cv);
	free(s->path);
	free(s);
}

static int sq_scrub(struct ml_store *base)
{
	return ml_sq_scrub(((struct sq_store *)base)->path);
}

/* Documents and idempotency: docs.c, keys.c, orgs.c, idem.c, pipeline.c. */
static const struct ml_store_docs_ops sq_docs = {
	.version = ML_STORE_DOCS_VERSION,
	.org_ensure = ml_sq_org_ensure,
	.key_insert = ml_sq_key_insert,
	.key_lookup = ml_sq_key_lookup,
	.key_count = ml_sq_key_count,
	.org_rate_set = ml_sq_org_rate_set,
	.org_rate_get = ml_sq_org_rate_get,
	.insert = ml_sq_doc_insert,
	.update = ml_sq_doc_update,
	.get = ml_sq_doc_get,
	.peek = ml_sq_doc_peek,
	.text = ml_sq_rec_doc_text,
	.remove = ml_sq_doc_delete,
	.count_ref = ml_sq_doc_count_ref,
	.list = ml_sq_doc_list,
	.idem_get = ml_sq_idem_get,
	.idem_put = ml_sq_idem_put,
	.provider_meeting_put = ml_sq_provider_meeting_put,
	.provider_meeting_find = ml_sq_provider_meeting_find,
	.inbound_event_first = ml_sq_inbound_event_first,
	.gateway_link_put = ml_sq_gateway_link_put,
	.gateway_link_find = ml_sq_gateway_link_find,
	.gateway_link_revoke = ml_sq_gateway_link_revoke,
	.org_settings_get = ml_sq_org_settings_get,
	.org_settings_put = ml_sq_org_settings_put,
	.admission_get = ml_sq_admission_get,
	.admission_put = ml_sq_admission_put,
	.admission_list = ml_sq_admission_list,
	.recording_put = ml_sq_recording_put,
	.recording_get = ml_sq_recording_get,
	.recording_list = ml_sq_recording_list,
	.recording_calendar_put = ml_sq_recording_calendar_put,
	.recording_calendar_get = ml_sq_recording_calendar_get,
	.recording_calendar_list = ml_sq_recording_calendar_list,
	.recording_calendar_delete = ml_sq_recording_calendar_delete,
	.booking_overlap = ml_sq_booking_overlap,
};

/* Jobs and leases: jobs.c, the hand-over in writer.c. */
static const struct ml_store_jobs_ops sq_jobs = {
	.version = ML_STORE_JOBS_VERSION,
	.enqueue = ml_sq_job_enqueue,
	.claim = ml_sq_job_claim,
	.finish = ml_sq_job_finish,
	.recover = ml_sq_job_recover,
	.set_payload = ml_sq_job_set_payload,
	.wake = ml_sq_job_wake,
	.cancel_group = ml_sq_job_cancel_group,
	.next_due = ml_sq_job_next_due,
	.list = ml_sq_job_list,
	.retry = ml_sq_job_retry,
	.set_taker = ml_sq_set_job_taker,
	.renew = ml_sq_job_renew,
};

/* Connections and secrets: conn.c, sealed.c. */
static const struct ml_store_conn_ops sq_conn_ops = {
	.version = ML_STORE_CONN_VERSION,
	.get = ml_sq_conn_get,
	.get_id = ml_sq_conn_get_id,
	.put = ml_sq_conn_put,
	.list = ml_sq_conn_list,
	.lease = ml_sq_conn_lease,
	.oauth_state_put = ml_sq_oauth_state_put,
	.oauth_state_take = ml_sq_oauth_state_take,
	.sealed_get = ml_sq_sealed_get,
	.sealed_list = ml_sq_sealed_list,
	.sealed_set = ml_sq_sealed_set,
	.watch_put = ml_sq_watch_put,
	.watch_get = ml_sq_watch_get,
	.watch_find = ml_sq_watch_find,
	.watch_delete = ml_sq_watch_delete,
};

/* Notifications: notify.c. */
static const struct ml_store_notify_ops sq_notify = {
	.version = ML_STORE_NOTIFY_VERSION,
	.template_get = ml_sq_template_get,
	.template_put = ml_sq_template_put,
	.template_delete = ml_sq_template_delete,
	.endpoint_insert = ml_sq_webhook_endpoint_insert,
	.endpoint_get = ml_sq_webhook_endpoint_get,
	.endpoint_list = ml_sq_webhook_endpoint_list,
	.endpoint_delete = ml_sq_webhook_endpoint_delete,
	.endpoint_update = ml_sq_webhook_endpoint_update,
	.endpoint_health = ml_sq_webhook_endpoint_health,
	.delivery_insert = ml_sq_webhook_delivery_insert,
	.delivery_get = ml_sq_webhook_delivery_get,
	.delivery_list = ml_sq_webhook_delivery_list,
	.delivery_requeue = ml_sq_webhook_delivery_requeue,
	.delivery_skip = ml_sq_webhook_delivery_skip,
	.attempt_record = ml_sq_webhook_attempt_record,
};

/* The audit trail: audit.c. */
static const struct ml_store_audit_ops sq_audit = {
	.version = ML_STORE_AUDIT_VERSION,
	.append = ml_sq_audit_append,
	.list = ml_sq_audit_list,
};

/* The core: transactions (writer.c, pool.c), migrations (migrate.c), and the concerns. */
static const struct ml_store_backend sqlite_backend = {
	.version = ML_STORE_BACKEND_VERSION,
	.name = "sqlite",
	.close = sq_close,
	.migrate = ml_sq_migrate,
	.ready = ml_sq_ready,
	.write = ml_sq_write,
	.read = ml_sq_read,
	.nested = ml_sq_nested,
	.write_occ = ml_sq_write_occ,
	.write_async = ml_sq_write_async,
	.writable = ml_sq_writable,
	.scrub = sq_scrub,
	.docs = &sq_docs,
	.jobs = &sq_jobs,
	.conn = &sq_conn_ops,
	.notify = &sq_notify,
	.audit = &sq_audit,
};
