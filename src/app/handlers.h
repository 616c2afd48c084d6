/* The job-handler table: every job kind the daemon's worker runs, one handler per kind, each
 * in the room that owns the work (notify/ for mail and webhooks, meeting/ for meetings). The
 * engine (queue/) knows no kind: the daemon's wiring hands it this table. */
#ifndef ML_APP_HANDLERS_H
#define ML_APP_HANDLERS_H

#include "queue/worker.h"

/* NULL-terminated; handed to ml_worker_start(). */
extern const struct ml_job_handler *const ml_job_handlers[];

#endif
