/* Why a miss reads on a fresh snapshot: the generation must be read before the snapshot the
 * list comes from. A change commits, then bumps the generation; a list read on a snapshot
 * taken after the generation was read includes every change whose bump came before, and an
 * entry tagged with a generation a later bump replaced is never served again. The caller's
 * own transaction may have begun before the generation was read, so its list could lack a
 * change whose bump it already saw. */
#include "notify/endpoints.h"
#include "core/hash.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#define SLOTS 256 /* direct-mapped by organization; a collision replaces the older entry */
#define MAX_AGE_NS 1000000000LL

struct slot {
	char org_id[40];
	uint64_t gen;
	int64_t loaded_ns;
	json_t *list;
};

static struct slot slots[SLOTS];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint_fast64_t generation = 1;

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static unsigned slot_of(const char *org_id)
{
	return ml_hash_str(org_id, 0) % SLOTS;
}

struct load {
	const char *org_id;
	json_t *list;
};

static int load_fn(struct ml_tx *tx, void *arg)
{
	struct load *l = arg;
	return ml_tx_webhook_endpoint_list(tx, l->org_id, NULL, &l->list, NULL);
}

int ml_notify_endpoints(struct ml_store *store, const char *org_id, json_t **out)
{
	size_t n = strlen(org_id);
	struct slot *s = &slots[slot_of(org_id)];
	uint64_t gen = atomic_load(&generation);
	int64_t now = mono_ns();

	pthread_mutex_lock(&mu);
	if (s->list && s->gen == gen && now - s->loaded_ns < MAX_AGE_NS &&
	    strcmp(s->org_id, org_id) == 0) {
		*out = json_incref(s->list);
		pthread_mutex_unlock(&mu);
		return 0;
	}
	pthread_mutex_unlock(&mu);

	struct load l = {org_id, NULL};
	int rc = ml_store_read(store, load_fn, &l);
	if (rc < 0)
		return rc;
	if (n < sizeof s->org_id) {
		json_t *old = NULL;
		pthread_mutex_lock(&mu);
		/* Never replace an entry loaded under a newer generation. */
		if (!s->list || strcmp(s->org_id, org_id) != 0 || s->gen <= gen) {
			old = s->list;
			memcpy(s->org_id, org_id, n + 1);
			s->gen = gen;
			s->loaded_ns = now;
			s->list = json_incref(l.list);
		}
		pthread_mutex_unlock(&mu);
		json_decref(old);
	}
	*out = l.list;
	return 0;
}

void ml_notify_endpoints_changed(void)
{
	atomic_fetch_add(&generation, 1);
}

void ml_notify_endpoints_changed_everywhere(struct ml_store *store)
{
	ml_notify_endpoints_changed();
	ml_store_signal(store, "endpoints", NULL); /* (a failure: the others' 1 s bound holds) */
}
