/* The registry of job kinds the worker runs: one handler per kind, each in its own file. */
#ifndef ML_QUEUE_KINDS_H
#define ML_QUEUE_KINDS_H

#include "queue/worker.h"

/* NULL-terminated; handed to ml_worker_start(). */
extern const struct ml_job_handler *const ml_job_handlers[];

#endif
