#include "queue/kinds.h"

/* Append a kind here when its handler file lands. */
const struct ml_job_handler *const ml_job_handlers[] = {
	NULL,
};
