/* The WAL does not grow without bound under continuous writes: the writer restarts it between
 * batches once it has passed ~64 MB (store/sqlite/checkpoint.c). Writing ~320 MB of frames
 * with the writer never idle (an idle moment lets an ordinary checkpoint copy everything, and
 * SQLite then restarts the WAL by itself), it is restarted at least twice and its file stays
 * under 160 MB; without the writer's part only the blocking RESTART checkpoint, at 256 MB,
 * restarted it (checked: one restart, a 275 MB file). What was written is all there. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <cmocka.h>

#include "store/store.h"

#include "../tmpstore.h"

#define ORG "org_test"
#define DOCS 2

/* Writes in flight: more than the writer takes in a batch (512), so that it never runs out of
 * work (an idle moment lets an ordinary checkpoint copy everything, and SQLite then restarts
 * the WAL by itself). They touch different documents: a batch holding several writes to the
 * same pages writes each page once. */
#define INFLIGHT 1024

struct rewrite {
	int round;
	char *filler; /* ~1 KB */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inflight, failed;

static void written(void *arg, int rc)
{
	free(arg);
	pthread_mutex_lock(&mu);
	inflight--;
	if (rc < 0)
		failed++;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static int rewrite_fn(struct ml_tx *tx, void *arg)
{
	struct rewrite *r = arg;
	for (int i = 0; i < DOCS; i++) {
		char id[32];
		snprintf(id, sizeof id, "bkg_wal_%d_%d", r->round % INFLIGHT, i);
		json_t *doc = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:s}", "id", id, "status",
					"confirmed", "created_at", "2026-11-21T10:00:00Z",
					"updated_at", "2026-11-21T10:00:00Z", "start",
					"2026-12-01T10:00:00Z", "round", r->round, "notes", r->filler);
		int rc = r->round < INFLIGHT ? ml_tx_doc_insert(tx, ML_KIND_BOOKING, ORG, doc)
				       : ml_tx_doc_update(tx, ML_KIND_BOOKING, ORG, doc);
		json_decref(doc);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int check_fn(struct ml_tx *tx, void *arg)
{
	struct rewrite *r = arg;
	for (int i = 0; i < DOCS; i++) {
		char id[32];
		json_t *doc = NULL;
		snprintf(id, sizeof id, "bkg_wal_%d_%d", r->round % INFLIGHT, i);
		int rc = ml_tx_doc_get(tx, ML_KIND_BOOKING, ORG, id, &doc);
		if (rc < 0)
			return rc;
		int round = (int)json_integer_value(json_object_get(doc, "round"));
		json_decref(doc);
		if (round != r->round)
			return -1;
	}
	return 0;
}

/* The number of frames in the WAL now: mxFrame in the WAL-index header (bytes 16-19 of the
 * -shm file, native byte order; read while the writer may change it: a count). */
static uint32_t wal_frames(int shm)
{
	uint32_t mx = 0;
	if (pread(shm, &mx, sizeof mx, 16) != sizeof mx)
		return 0;
	return mx;
}

static double mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_wal_restarted_under_load(void **state)
{
	struct env *e = *state;
	struct rewrite r = {0, malloc(1024 + 1)};
	memset(r.filler, 'x', 1024);
	r.filler[1024] = '\0';
	char wal[96];
	snprintf(wal, sizeof wal, "%s/t.db-wal", e->dir);
	double t0 = mono_s();
	for (; r.round < INFLIGHT; r.round++) /* the first rounds insert */
		assert_int_equal(ml_store_write(e->store, rewrite_fn, &r), 0);
	char shm_path[96];
	snprintf(shm_path, sizeof shm_path, "%s/t.db-shm", e->dir);
	int shm = open(shm_path, O_RDONLY);
	assert_true(shm >= 0);
	/* Frames appended since the start, counted across restarts (mxFrame falls back). */
	uint32_t prev = wal_frames(shm);
	double frames = 0;
	int restarts = 0;
	for (; frames < 320.0 * 1024 * 1024 / 4096; r.round++) {
		struct rewrite *one = malloc(sizeof *one);
		*one = r;
		pthread_mutex_lock(&mu);
		while (inflight >= INFLIGHT)
			pthread_cond_wait(&cv, &mu);
		inflight++;
		pthread_mutex_unlock(&mu);
		ml_store_write_async(e->store, rewrite_fn, one, written, one);
		uint32_t now = wal_frames(shm);
		if (now < prev) {
			restarts++;
			frames += now;
		} else {
			frames += now - prev;
		}
		prev = now;
		assert_true(mono_s() - t0 < 120);
	}
	pthread_mutex_lock(&mu);
	while (inflight > 0)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	assert_int_equal(failed, 0);
	close(shm);
	r.round--;
	struct stat st;
	assert_int_equal(stat(wal, &st), 0);
	print_message("%d rounds, %.0f MB of frames in %.1f s, %d restarts; WAL file %.1f MB\n",
		      r.round + 1, frames * 4120 / 1048576.0, mono_s() - t0, restarts,
		      st.st_size / 1048576.0);
	assert_true(restarts >= 2);
	assert_true(st.st_size < 160L * 1024 * 1024);
	assert_int_equal(ml_store_read(e->store, check_fn, &r), 0);
	free(r.filler);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_wal_restarted_under_load, tmpstore_setup,
					    tmpstore_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
