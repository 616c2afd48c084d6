#include "store/doc_cache.h"
#include "core/hash.h"
#include "core/mem.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 8192 /* direct-mapped: a colliding entry simply replaces the older one */
#define LOCKS 64

struct slot {
	enum ml_kind kind;
	char id[40];
	char org_id[40];
	int64_t version;
	json_t *doc; /* never modified once cached */
};

static struct slot slots[SLOTS];
static pthread_mutex_t locks[LOCKS] = {[0 ... LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER};

static unsigned slot_of(enum ml_kind kind, const char *id)
{
	return ml_hash_str(id, (uint32_t)kind) % SLOTS;
}

json_t *ml_doc_cache_get(enum ml_kind kind, const char *org_id, const char *id,
			 enum ml_cache_read how, int64_t *version)
{
	unsigned i = slot_of(kind, id);
	json_t *out = NULL;
	pthread_mutex_lock(&locks[i % LOCKS]);
	struct slot *s = &slots[i];
	if (s->doc && s->kind == kind && strcmp(s->id, id) == 0 && strcmp(s->org_id, org_id) == 0) {
		*version = s->version;
		if (how == ML_CACHE_SHARE) {
			out = json_incref(s->doc);
		} else if (how == ML_CACHE_TAKE && s->doc->refcount == 1) {
			/* Nobody else holds it: handed over instead of copied. */
			out = s->doc;
			s->doc = NULL;
		} else {
			out = json_deep_copy(s->doc);
			if (how == ML_CACHE_TAKE) {
				json_decref(s->doc);
				s->doc = NULL;
			}
		}
	}
	pthread_mutex_unlock(&locks[i % LOCKS]);
	return out;
}

static void put(enum ml_kind kind, const char *org_id, const char *id, int64_t version,
		json_t *copy)
{
	json_t *old;
	if (!copy)
		return;
	if (strlen(id) >= 40 || strlen(org_id) >= 40) {
		json_decref(copy);
		return;
	}
	unsigned i = slot_of(kind, id);
	pthread_mutex_lock(&locks[i % LOCKS]);
	struct slot *s = &slots[i];
	if (s->doc && s->kind == kind && s->version > version && strcmp(s->id, id) == 0) {
		/* A newer version is there already (writers finish in any order). */
		pthread_mutex_unlock(&locks[i % LOCKS]);
		json_decref(copy);
		return;
	}
	old = s->doc;
	s->kind = kind;
	memcpy(s->id, id, strlen(id) + 1);
	memcpy(s->org_id, org_id, strlen(org_id) + 1);
	s->version = version;
	s->doc = copy;
	pthread_mutex_unlock(&locks[i % LOCKS]);
	json_decref(old);
}

void ml_doc_cache_put(enum ml_kind kind, const char *org_id, const char *id, int64_t version,
		      json_t *doc)
{
	put(kind, org_id, id, version, json_deep_copy(doc));
}

void ml_doc_cache_put_shared(enum ml_kind kind, const char *org_id, const char *id,
			     int64_t version, json_t *doc)
{
	put(kind, org_id, id, version, json_incref(doc));
}

void ml_doc_cache_drop(enum ml_kind kind, const char *id)
{
	unsigned i = slot_of(kind, id);
	json_t *old = NULL;
	pthread_mutex_lock(&locks[i % LOCKS]);
	struct slot *s = &slots[i];
	if (s->doc && s->kind == kind && strcmp(s->id, id) == 0) {
		old = s->doc;
		s->doc = NULL;
	}
	pthread_mutex_unlock(&locks[i % LOCKS]);
	json_decref(old);
}
