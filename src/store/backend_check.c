/* ml_store_backend_check(): is a backend complete? Each concern is described by a table of
 * its operations (offset, name, optional), so the check reads every function pointer without
 * naming it twice; a static assertion per concern keeps each table as long as its struct, so
 * an operation added to backend.h without a line here does not build. */
#include "store/backend.h"
#include "core/error.h"

#include <stddef.h>
#include <string.h>

typedef void (*ml_fnptr)(void);

struct op_desc {
	size_t off;
	const char *name;
	bool optional;
};

#define OP(type, field) {offsetof(struct type, field), #field, false}
#define OPT(type, field) {offsetof(struct type, field), #field, true}
/* The struct is its version, then exactly the table's function pointers. */
#define COVERS(type, first, table)                                                           \
	_Static_assert(sizeof(struct type) ==                                                  \
			   offsetof(struct type, first) + sizeof table / sizeof table[0] *     \
								  sizeof(ml_fnptr),            \
		       #type ": an operation is missing from its table in backend_check.c")

static const struct op_desc docs_ops[] = {
	OP(ml_store_docs_ops, org_ensure),
	OP(ml_store_docs_ops, key_insert),
	OP(ml_store_docs_ops, key_lookup),
	OP(ml_store_docs_ops, key_count),
	OP(ml_store_docs_ops, org_rate_set),
	OP(ml_store_docs_ops, org_rate_get),
	OP(ml_store_docs_ops, insert),
	OP(ml_store_docs_ops, update),
	OP(ml_store_docs_ops, get),
	OPT(ml_store_docs_ops, peek),
	OPT(ml_store_docs_ops, text),
	OP(ml_store_docs_ops, remove),
	OP(ml_store_docs_ops, count_ref),
	OP(ml_store_docs_ops, list),
	OP(ml_store_docs_ops, idem_get),
	OP(ml_store_docs_ops, idem_put),
	OP(ml_store_docs_ops, provider_meeting_put),
	OP(ml_store_docs_ops, provider_meeting_find),
	OP(ml_store_docs_ops, inbound_event_first),
	OP(ml_store_docs_ops, gateway_link_put),
	OP(ml_store_docs_ops, gateway_link_find),
	OP(ml_store_docs_ops, gateway_link_revoke),
	OP(ml_store_docs_ops, org_settings_get),
	OP(ml_store_docs_ops, org_settings_put),
	OP(ml_store_docs_ops, admission_get),
	OP(ml_store_docs_ops, admission_put),
	OP(ml_store_docs_ops, admission_list),
	OP(ml_store_docs_ops, recording_put),
	OP(ml_store_docs_ops, recording_get),
	OP(ml_store_docs_ops, recording_list),
	OP(ml_store_docs_ops, recording_calendar_put),
	OP(ml_store_docs_ops, recording_calendar_get),
	OP(ml_store_docs_ops, recording_calendar_list),
	OP(ml_store_docs_ops, recording_calendar_delete),
	OP(ml_store_docs_ops, booking_overlap),
};
COVERS(ml_store_docs_ops, org_ensure, docs_ops);

static const struct op_desc jobs_ops[] = {
	OP(ml_store_jobs_ops, enqueue),
	OP(ml_store_jobs_ops, claim),
	OP(ml_store_jobs_ops, finish),
	OP(ml_store_jobs_ops, recover),
	OP(ml_store_jobs_ops, set_payload),
	OP(ml_store_jobs_ops, wake),
	OP(ml_store_jobs_ops, cancel_group),
	OP(ml_store_jobs_ops, next_due),
	OP(ml_store_jobs_ops, list),
	OP(ml_store_jobs_ops, retry),
	OPT(ml_store_jobs_ops, set_taker),
	OPT(ml_store_jobs_ops, release),
	OPT(ml_store_jobs_ops, renew),
};
COVERS(ml_store_jobs_ops, enqueue, jobs_ops);

static const struct op_desc conn_ops[] = {
	OP(ml_store_conn_ops, get),
	OP(ml_store_conn_ops, get_id),
	OP(ml_store_conn_ops, put),
	OP(ml_store_conn_ops, list),
	OP(ml_store_conn_ops, lease),
	OP(ml_store_conn_ops, oauth_state_put),
	OP(ml_store_conn_ops, oauth_state_take),
	OP(ml_store_conn_ops, sealed_get),
	OP(ml_store_conn_ops, sealed_list),
	OP(ml_store_conn_ops, sealed_set),
	OP(ml_store_conn_ops, watch_put),
	OP(ml_store_conn_ops, watch_get),
	OP(ml_store_conn_ops, watch_find),
	OP(ml_store_conn_ops, watch_delete),
};
COVERS(ml_store_conn_ops, get, conn_ops);

static const struct op_desc notify_ops[] = {
	OP(ml_store_notify_ops, template_get),
	OP(ml_store_notify_ops, template_put),
	OP(ml_store_notify_ops, template_delete),
	OP(ml_store_notify_ops, endpoint_insert),
	OP(ml_store_notify_ops, endpoint_get),
	OP(ml_store_notify_ops, endpoint_list),
	OP(ml_store_notify_ops, endpoint_delete),
	OP(ml_store_notify_ops, endpoint_update),
	OP(ml_store_notify_ops, endpoint_health),
	OP(ml_store_notify_ops, delivery_insert),
	OP(ml_store_notify_ops, delivery_get),
	OP(ml_store_notify_ops, delivery_list),
	OP(ml_store_notify_ops, delivery_requeue),
	OP(ml_store_notify_ops, delivery_skip),
	OP(ml_store_notify_ops, attempt_record),
};
COVERS(ml_store_notify_ops, template_get, notify_ops);

static const struct op_desc audit_ops[] = {
	OP(ml_store_audit_ops, append),
	OP(ml_store_audit_ops, list),
};
COVERS(ml_store_audit_ops, append, audit_ops);

/* The core's operations; its name and concern pointers are checked by hand. */
static const struct op_desc core_ops[] = {
	OP(ml_store_backend, close),
	OP(ml_store_backend, migrate),
	OP(ml_store_backend, ready),
	OP(ml_store_backend, write),
	OP(ml_store_backend, read),
	OP(ml_store_backend, nested),
	OPT(ml_store_backend, write_occ),
	OPT(ml_store_backend, write_async),
	OPT(ml_store_backend, writable),
	OPT(ml_store_backend, scrub),
	OPT(ml_store_backend, subscribe),
	OPT(ml_store_backend, unsubscribe),
	OPT(ml_store_backend, signal),
	OPT(ml_store_backend, tx_signal),
};
_Static_assert(offsetof(struct ml_store_backend, docs) ==
		   offsetof(struct ml_store_backend, close) +
			   sizeof core_ops / sizeof core_ops[0] * sizeof(ml_fnptr),
	       "ml_store_backend: an operation is missing from core_ops in backend_check.c");

/* `ops` (a struct whose first member is its version) against its table. */
static int check_concern(const char *concern, const void *ops, unsigned want,
			 const struct op_desc *table, size_t n)
{
	if (!ops)
		return ml_error_set(ML_EINVAL, "invalid_backend", NULL, "%s is not set", concern);
	unsigned version;
	memcpy(&version, ops, sizeof version);
	if (version != want)
		return ml_error_set(ML_EINVAL, "invalid_backend", NULL,
				    "%s has version %u, this build knows %u", concern, version,
				    want);
	for (size_t i = 0; i < n; i++) {
		ml_fnptr fn;
		memcpy(&fn, (const char *)ops + table[i].off, sizeof fn);
		if (!fn && !table[i].optional)
			return ml_error_set(ML_EINVAL, "invalid_backend", NULL, "%s.%s is not set",
					    concern, table[i].name);
	}
	return 0;
}

#define CHECK(concern, ops, version, table)                                                  \
	check_concern(concern, ops, version, table, sizeof table / sizeof table[0])

int ml_store_backend_check(const struct ml_store_backend *b)
{
	int rc;
	if ((rc = CHECK("backend", b, ML_STORE_BACKEND_VERSION, core_ops)) < 0)
		return rc;
	if (!b->name || !*b->name)
		return ml_error_set(ML_EINVAL, "invalid_backend", NULL, "backend.name is not set");
	if ((rc = CHECK("docs", b->docs, ML_STORE_DOCS_VERSION, docs_ops)) < 0 ||
	    (rc = CHECK("jobs", b->jobs, ML_STORE_JOBS_VERSION, jobs_ops)) < 0 ||
	    (rc = CHECK("conn", b->conn, ML_STORE_CONN_VERSION, conn_ops)) < 0 ||
	    (rc = CHECK("notify", b->notify, ML_STORE_NOTIFY_VERSION, notify_ops)) < 0 ||
	    (rc = CHECK("audit", b->audit, ML_STORE_AUDIT_VERSION, audit_ops)) < 0)
		return rc;
	ml_error_clear();
	return 0;
}
