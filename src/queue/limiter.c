/* Per-connection concurrency and rate limits of the pipeline (worker thread only): one busy
 * host cannot take every call in flight, and a provider's per-account limits (Graph: 4
 * concurrent requests per mailbox; Zoom: requests per second) are kept before the provider
 * has to refuse. A job that finds its connection busy is deferred, not failed. */
#include "queue/limiter.h"
#include "core/hash.h"
#include "core/mem.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct slot {
	char *key;
	int inflight;
	double tokens;
	int64_t last_ms;
	int64_t held_until_ms; /* a job that goes first waits for this key until then */
	struct slot *next;
};

struct ml_limiter {
	struct slot *buckets[1024];
};

struct ml_limiter *ml_limiter_new(void)
{
	return ml_calloc(1, sizeof(struct ml_limiter));
}

void ml_limiter_free(struct ml_limiter *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < sizeof l->buckets / sizeof l->buckets[0]; i++) {
		struct slot *s = l->buckets[i];
		while (s) {
			struct slot *n = s->next;
			free(s->key);
			free(s);
			s = n;
		}
	}
	free(l);
}

static struct slot *find(struct ml_limiter *l, const char *key, double burst)
{
	uint32_t h = ml_hash_str(key, 0);
	struct slot **b = &l->buckets[h % (sizeof l->buckets / sizeof l->buckets[0])];
	for (struct slot *s = *b; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			return s;
	struct slot *s = ml_calloc(1, sizeof *s);
	s->key = ml_strdup(key);
	s->tokens = burst;
	s->next = *b;
	*b = s;
	return s;
}

/* A bucket holds at most one second of calls (at least one call). */
static double burst_of(double qps)
{
	return qps < 1 ? 1 : qps;
}

/* Adds the tokens earned since the bucket was last looked at. */
static void refill(struct slot *s, double qps, int64_t now_ms)
{
	if (s->last_ms) {
		s->tokens += (double)(now_ms - s->last_ms) * qps / 1000.0;
		if (s->tokens > burst_of(qps))
			s->tokens = burst_of(qps);
	}
	s->last_ms = now_ms;
}

static int64_t take(struct ml_limiter *l, const char *key, int max_inflight, double qps,
                    int64_t now_ms, bool first, int64_t hold_ms)
{
	if (!l || !key || !*key || (max_inflight <= 0 && qps <= 0))
		return 0;
	struct slot *s = find(l, key, qps > 0 ? burst_of(qps) : 0);
	int64_t wait = 0;
	if (!first && s->held_until_ms > now_ms)
		return -1; /* kept for a job that goes first */
	if (max_inflight > 0 && s->inflight >= max_inflight) {
		wait = -1; /* busy: wait for a call to end */
	} else if (qps > 0) {
		refill(s, qps, now_ms);
		if (s->tokens < 1.0)
			wait = (int64_t)((1.0 - s->tokens) * 1000.0 / qps) + 1;
	}
	if (wait != 0) {
		if (first && s->held_until_ms < now_ms + hold_ms)
			s->held_until_ms = now_ms + hold_ms;
		return wait;
	}
	if (qps > 0)
		s->tokens -= 1.0;
	s->inflight++;
	if (first)
		s->held_until_ms = 0;
	return 0;
}

int64_t ml_limiter_take(struct ml_limiter *l, const char *key, int max_inflight, double qps,
                        int64_t now_ms)
{
	return take(l, key, max_inflight, qps, now_ms, false, 0);
}

int64_t ml_limiter_take_first(struct ml_limiter *l, const char *key, int max_inflight,
                              double qps, int64_t now_ms, int64_t hold_ms)
{
	return take(l, key, max_inflight, qps, now_ms, true, hold_ms);
}

void ml_limiter_spend(struct ml_limiter *l, const char *key, double qps, int64_t now_ms)
{
	if (!l || !key || !*key || qps <= 0)
		return;
	struct slot *s = find(l, key, burst_of(qps));
	refill(s, qps, now_ms);
	s->tokens -= 1.0; /* may go below zero: later takers wait it out */
}

void ml_limiter_give(struct ml_limiter *l, const char *key)
{
	if (!l || !key || !*key)
		return;
	struct slot *s = find(l, key, 0);
	if (s->inflight > 0)
		s->inflight--;
}
