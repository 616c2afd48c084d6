/* A second libcurl multi loop on its own thread, for transfers during which libcurl blocks
 * the thread that drives them.
 *
 * libcurl's SMTP waits for the server's answer to the end of a message inside multi_done
 * (smtp_done → smtp_block_statemach, up to the transfer's timeout): on the worker's one event
 * loop every mail held every provider call and webhook in flight for that round trip. Under
 * a steady stream of mail the loop spent seconds at a time there: answers already received
 * waited, outcomes were written seconds late, and a crash in that time sent their webhooks
 * and mails again (bench/chaos.py: 342 webhooks of 2,000 delivered twice, 6 without mail).
 * Such transfers run here instead, and only hold each other up.
 *
 * The caller's thread adds easy handles and takes finished ones back (removed from this
 * multi, with their result); it owns them throughout and cleans them up. */
#ifndef ML_QUEUE_ASIDE_H
#define ML_QUEUE_ASIDE_H

#include <curl/curl.h>
#include <stddef.h>

struct ml_aside;

struct ml_aside_done {
	CURL *easy;
	CURLcode result;
};

/* Starts the thread. wake(arg) is called from it whenever a transfer has finished. NULL when
 * the thread or its loop cannot start. */
struct ml_aside *ml_aside_start(void (*wake)(void *), void *arg);
/* Any thread: runs `easy` on the aside loop. */
void ml_aside_add(struct ml_aside *a, CURL *easy);
/* Any thread: ends `easy` (added, not yet taken back) as a timeout, its connection shut down
 * first so that removing it sends nothing more (libcurl would end an SMTP transfer removed
 * mid-session with the end-of-data "."). It comes back through ml_aside_take. */
void ml_aside_cancel(struct ml_aside *a, CURL *easy);
/* Any thread: up to max finished transfers, removed from the aside multi. Returns how many. */
size_t ml_aside_take(struct ml_aside *a, struct ml_aside_done *out, size_t max);
/* Stops the thread; transfers still in flight are cut as by ml_aside_cancel and not taken
 * back (the caller cleans up every easy it added and did not take). Idle connections end
 * with their protocol's goodbye (SMTP QUIT). Accepts NULL. */
void ml_aside_stop(struct ml_aside *a);

#endif
