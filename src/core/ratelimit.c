#include "core/ratelimit.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SHARDS 64 /* a power of two */
#define SLOTS 256 /* chains per shard */
#define MILLI 1000 /* a token is 1000 milli-tokens: integer refill at any rate */

struct bucket {
	struct bucket *next;
	char key[ML_RATELIMIT_KEY_MAX];
	int64_t milli;   /* milli-tokens held */
	int64_t last_ms; /* when they were counted */
};

struct shard {
	pthread_mutex_t mu;
	struct bucket *slots[SLOTS];
	/* Pads shards apart so two cores taking different shards' locks do not share a line. */
	char pad[64];
};

struct ml_ratelimit {
	struct shard shards[SHARDS];
};

struct ml_ratelimit *ml_ratelimit_new(void)
{
	struct ml_ratelimit *rl = ml_calloc(1, sizeof *rl);
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&rl->shards[i].mu, NULL);
	return rl;
}

void ml_ratelimit_free(struct ml_ratelimit *rl)
{
	if (!rl)
		return;
	for (int i = 0; i < SHARDS; i++) {
		for (int j = 0; j < SLOTS; j++) {
			struct bucket *b = rl->shards[i].slots[j], *next;
			for (; b; b = next) {
				next = b->next;
				free(b);
			}
		}
		pthread_mutex_destroy(&rl->shards[i].mu);
	}
	free(rl);
}

static uint32_t fnv1a(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

bool ml_ratelimit_take(struct ml_ratelimit *rl, const char *key, int64_t rps, int64_t burst,
		       int64_t now_ms, int64_t *retry_ms)
{
	size_t n = strnlen(key, ML_RATELIMIT_KEY_MAX - 1);
	uint32_t h = fnv1a(key, n);
	struct shard *sh = &rl->shards[h & (SHARDS - 1)];
	struct bucket **slot = &sh->slots[(h / SHARDS) % SLOTS], *b;
	int64_t cap, wait = 0;
	bool ok;

	if (rps <= 0)
		return true;
	if (burst < 1)
		burst = 1;
	cap = burst * MILLI;
	pthread_mutex_lock(&sh->mu);
	for (b = *slot; b; b = b->next)
		if (strncmp(b->key, key, n) == 0 && b->key[n] == '\0')
			break;
	if (!b) {
		b = ml_calloc(1, sizeof *b);
		memcpy(b->key, key, n);
		b->milli = cap;
		b->last_ms = now_ms;
		b->next = *slot;
		*slot = b;
	}
	/* rps tokens a second are rps milli-tokens a millisecond. */
	if (now_ms > b->last_ms) {
		int64_t dt = now_ms - b->last_ms;
		b->milli = dt >= cap / rps + 1 ? cap : b->milli + dt * rps;
		b->last_ms = now_ms;
	}
	if (b->milli > cap)
		b->milli = cap; /* the burst was lowered */
	ok = b->milli >= MILLI;
	if (ok)
		b->milli -= MILLI;
	else
		wait = (MILLI - b->milli + rps - 1) / rps;
	pthread_mutex_unlock(&sh->mu);
	if (!ok && retry_ms)
		*retry_ms = wait;
	return ok;
}
