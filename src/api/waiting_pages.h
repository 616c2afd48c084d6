/* The waiting room's hosted pages (waiting_page.c) and their live event streams
 * (waiting_stream.c). Internal to src/api/. */
#ifndef ML_API_WAITING_PAGES_H
#define ML_API_WAITING_PAGES_H

#include "http/http.h"
#include "queue/env.h"

#include <stdint.h>

/* Answers resp with a text/event-stream of the booking's waiting room:
 *
 *   participant_id set (a guest's page): event `state` with that participant's row (id: the
 *   row's seq) whenever it moves;
 *   participant_id NULL (the host panel): event `participant` per row that moved (id: its
 *   seq; every row on a first connection), and event `passes` (no id) with who passed the
 *   gateway, whenever that list grows.
 *
 * Events after last_id only (Last-Event-ID; 0: from the start). Keep-alive comments while
 * quiet. The stream re-reads the store each time the booking's waiting room is signalled
 * (meeting/waitbus.h). */
void ml_api_waiting_stream(struct ml_http_resp *resp, const struct ml_env *env,
			   const char *org_id, const char *booking_id,
			   const char *participant_id, int64_t last_id);

/* Last-Event-ID as a seq (0 when absent or not a number). */
int64_t ml_api_last_event_id(const char *header);

#endif
