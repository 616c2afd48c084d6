/* An ordered outbound queue on top of ml_sb_webhook_send(): one send in flight per queue, the
 * next starts when the previous answered. Zoom's endpoint.url_validation must reach a new
 * URL before the first event, and a receiver reading meeting.created after meeting.deleted
 * would be testing the sandbox, not the driver. */
#ifndef ML_SANDBOX_OUTQ_H
#define ML_SANDBOX_OUTQ_H

#include "sandbox/sandbox.h"

#include <pthread.h>
#include <stdbool.h>

struct ml_sb_outq_item;
struct ml_sb_outq {
	pthread_mutex_t mu;
	struct ml_sb_outq_item *head, *tail;
	bool busy;
};
#define ML_SB_OUTQ_INIT {PTHREAD_MUTEX_INITIALIZER, NULL, NULL, false}

/* Like ml_sb_webhook_send() (everything copied; `done` called on the sender thread without
 * the sandbox lock), but sent after every earlier item of the same queue has answered. */
void ml_sb_outq_post(struct ml_sb_outq *q, const char *provider, const char *url,
		     const char *const *headers, const char *body, size_t n, ml_sb_post_done done,
		     void *arg);

#endif
