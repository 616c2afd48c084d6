/* Subscriptions by booking in a fixed table of buckets, each with its own lock: a change to
 * one booking wakes its watchers without holding up the others. */
#include "meeting/waitbus.h"
#include "core/mem.h"
#include "store/store.h"

#include <stdio.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 256

struct ml_waitsub {
	struct ml_waitbus *bus;
	unsigned bucket;
	char key[96]; /* org_id "/" booking_id */
	void (*wake)(void *arg);
	void *arg;
	struct ml_waitsub *prev, *next;
};

struct bucket {
	pthread_mutex_t mu;
	struct ml_waitsub *head;
};

struct ml_waitbus {
	struct bucket b[BUCKETS];
	pthread_mutex_t count_mu;
	size_t count;
	struct ml_store *store; /* the other nodes hear of each change through it */
};

static unsigned hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % BUCKETS;
}

static void key_of(char key[96], const char *org_id, const char *booking_id)
{
	size_t o = strnlen(org_id, 47), b = strnlen(booking_id, 47);
	memcpy(key, org_id, o);
	key[o] = '/';
	memcpy(key + o + 1, booking_id, b);
	key[o + 1 + b] = '\0';
}

struct ml_waitbus *ml_waitbus_new(void)
{
	struct ml_waitbus *bus = ml_calloc(1, sizeof *bus);
	for (int i = 0; i < BUCKETS; i++)
		pthread_mutex_init(&bus->b[i].mu, NULL);
	pthread_mutex_init(&bus->count_mu, NULL);
	return bus;
}

void ml_waitbus_free(struct ml_waitbus *bus)
{
	if (!bus)
		return;
	for (int i = 0; i < BUCKETS; i++)
		pthread_mutex_destroy(&bus->b[i].mu);
	pthread_mutex_destroy(&bus->count_mu);
	free(bus);
}

static void wake_key(struct ml_waitbus *bus, const char *key)
{
	struct bucket *b = &bus->b[hash(key)];
	pthread_mutex_lock(&b->mu);
	for (struct ml_waitsub *s = b->head; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			s->wake(s->arg);
	pthread_mutex_unlock(&b->mu);
}

void ml_waitbus_set_store(struct ml_waitbus *bus, struct ml_store *store)
{
	bus->store = store;
}

void ml_waitbus_remote(struct ml_waitbus *bus, const char *key)
{
	if (!bus)
		return;
	if (key) {
		wake_key(bus, key);
		return;
	}
	/* What changed while the store's listener was away is unknown: every watcher looks. */
	for (int i = 0; i < BUCKETS; i++) {
		pthread_mutex_lock(&bus->b[i].mu);
		for (struct ml_waitsub *s = bus->b[i].head; s; s = s->next)
			s->wake(s->arg);
		pthread_mutex_unlock(&bus->b[i].mu);
	}
}

void ml_waiting_changed(struct ml_waitbus *bus, const char *org_id, const char *booking_id)
{
	char key[96];
	if (!bus || !org_id || !booking_id)
		return;
	key_of(key, org_id, booking_id);
	/* The watchers on the other nodes sharing the store (a no-op on SQLite). */
	if (bus->store)
		ml_store_signal(bus->store, "waiting", key);
	struct bucket *b = &bus->b[hash(key)];
	pthread_mutex_lock(&b->mu);
	for (struct ml_waitsub *s = b->head; s; s = s->next)
		if (strcmp(s->key, key) == 0)
			s->wake(s->arg);
	pthread_mutex_unlock(&b->mu);
}

struct ml_waitsub *ml_waitbus_subscribe(struct ml_waitbus *bus, const char *org_id,
                                        const char *booking_id, void (*wake)(void *arg),
                                        void *arg)
{
	struct ml_waitsub *s = ml_calloc(1, sizeof *s);
	s->bus = bus;
	key_of(s->key, org_id, booking_id);
	s->bucket = hash(s->key);
	s->wake = wake;
	s->arg = arg;
	struct bucket *b = &bus->b[s->bucket];
	pthread_mutex_lock(&b->mu);
	s->next = b->head;
	if (b->head)
		b->head->prev = s;
	b->head = s;
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_lock(&bus->count_mu);
	bus->count++;
	pthread_mutex_unlock(&bus->count_mu);
	return s;
}

void ml_waitbus_unsubscribe(struct ml_waitsub *s)
{
	if (!s)
		return;
	struct ml_waitbus *bus = s->bus;
	struct bucket *b = &bus->b[s->bucket];
	pthread_mutex_lock(&b->mu);
	if (s->prev)
		s->prev->next = s->next;
	else
		b->head = s->next;
	if (s->next)
		s->next->prev = s->prev;
	pthread_mutex_unlock(&b->mu);
	pthread_mutex_lock(&bus->count_mu);
	bus->count--;
	pthread_mutex_unlock(&bus->count_mu);
	free(s);
}

size_t ml_waitbus_count(struct ml_waitbus *bus)
{
	pthread_mutex_lock(&bus->count_mu);
	size_t n = bus->count;
	pthread_mutex_unlock(&bus->count_mu);
	return n;
}
