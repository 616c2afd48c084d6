/* The sandbox's signed outbound deliveries with faults, one loop for every provider that
 * sends them (JaaS webhooks, Twilio status callbacks, Google push notifications): each
 * delivery is a record kept in the provider's root[list] (an object with an integer "id"),
 * sent through an ordered queue (outq.h), each attempt's status and answer appended to the
 * record's "attempts" when it comes back. Outbound fault rules ("direction": "out", `event`
 * given by the caller) lose a delivery (drop, its record says "lost"), send it twice
 * (duplicate) or hold it until the next delivery has gone (reorder: its id waits in
 * root[held]). The provider only builds the request: its `send` callback makes the headers
 * and body of one record and calls ml_sb_outbound_post(). Lock held for every call but the
 * answer, which takes it. */
#ifndef ML_SANDBOX_OUTBOUND_H
#define ML_SANDBOX_OUTBOUND_H

#include "sandbox/outq.h"

#include <jansson.h>

struct ml_sb_outbound {
	const char *provider; /* ml_sb_root(provider) holds the records */
	const char *list;     /* root[list]: the records, oldest first */
	const char *held;     /* root[held]: ids a reorder fault holds back */
	void (*send)(struct ml_sb_outbound *ob, json_t *root, json_t *rec);
	struct ml_sb_outq q;
};
#define ML_SB_OUTBOUND_INIT(provider, list, held, send) {provider, list, held, send, ML_SB_OUTQ_INIT}

/* The record with this id in root[list], or NULL. */
json_t *ml_sb_outbound_find(const struct ml_sb_outbound *ob, json_t *root, json_int_t id);

/* Sends one record through the faults: sent at once (and whatever was held back after it),
 * lost, sent twice or held. The record's "fault" says which, when a rule matched. */
void ml_sb_outbound_deliver(struct ml_sb_outbound *ob, json_t *root, json_t *rec,
			    const char *event);

/* From `send`: queues the request for `rec` (everything copied). */
void ml_sb_outbound_post(struct ml_sb_outbound *ob, json_t *rec, const char *url,
			 const char *const *headers, const char *body, size_t n);

#endif
