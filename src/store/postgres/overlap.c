/* The overlap check of a host's bookings on PostgreSQL (ml_tx_booking_overlap, issue 18 §5).
 *
 * Transactions run at READ COMMITTED, on several nodes at once: two confirms of one host
 * could each query, find nothing (neither sees the other's uncommitted booking; row locks do
 * not lock rows that are not there yet) and both commit. So the check first takes a
 * transaction advisory lock on the host (organization and host id, held until the caller's
 * transaction ends): the checked writes of one host (create confirmed, confirm, reschedule,
 * a service's new host) take turns on every node, and the query, a statement that starts
 * once the lock is granted, sees every booking the previous holder committed.
 *
 * The query seeks the partial index bookings_busy (org_id, host_id, start_at) of confirmed
 * and in_progress bookings (migration postgresql/0005) over start_at in (start - 7 days,
 * end): a booking lasts at most 7 days, so no booking starting earlier can reach `start`.
 */
#include "store/postgres/internal.h"

#if ML_STORE_DOCS_VERSION >= 5 /* the overlap check (docs version 5) */
#include "core/error.h"

#include <stdio.h>
#include <string.h>

#define MAX_SPAN_MS (7LL * 24 * 3600 * 1000)

int ml_pg_booking_overlap(struct ml_tx *tx, const char *org_id, const char *host_id,
			  const char *except_id, int64_t start, int64_t end,
			  struct ml_booking_span *out)
{
	struct pg_args a = {0};
	PGresult *r;
	ml_pg_arg(&a, org_id);
	ml_pg_arg(&a, host_id);
	/* Seed 3: the host's turn (0: idempotency keys, 2: a booking's admissions). */
	int rc = ml_pg_q(tx, "SELECT pg_advisory_xact_lock(hashtextextended($1 || '/' || $2, 3))",
			 &a, NULL);
	if (rc < 0)
		return rc;
	ml_pg_arg_i64(&a, start * 1000);
	ml_pg_arg_i64(&a, end * 1000);
	ml_pg_arg(&a, except_id);
	ml_pg_arg_i64(&a, MAX_SPAN_MS);
	/* The status term is the index's own WHERE, so the planner can use it. */
	rc = ml_pg_q(tx,
		     "SELECT id, start_at, end_at FROM bookings "
		     "WHERE org_id = $1 AND host_id = $2 AND status IN ('confirmed', 'in_progress') "
		     "AND start_at > $3::bigint - $6::bigint AND start_at < $4::bigint "
		     "AND end_at > $3::bigint AND id IS DISTINCT FROM $5::text "
		     "ORDER BY start_at LIMIT 1",
		     &a, &r);
	if (rc < 0)
		return rc;
	int found = PQntuples(r) > 0;
	if (found) {
		memset(out, 0, sizeof *out);
		snprintf(out->id, sizeof out->id, "%s", ml_pg_text(r, 0, 0));
		out->start = ml_pg_i64(r, 0, 1) / 1000;
		out->end = ml_pg_i64(r, 0, 2) / 1000;
	}
	PQclear(r);
	return found;
}
#endif
