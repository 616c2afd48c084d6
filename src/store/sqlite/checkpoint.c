/* The SQLite backend's checkpoints: a thread and connection of their own copy the WAL back
 * into the database file (passive, never blocking the writer or readers), write those pages
 * out a megabyte at a time, and ask the writer to finish the copy so that the WAL restarts. */
#include "store/sqlite/internal.h"
#include "core/log.h"
#include "core/timeutil.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Past this many frames (~64 MB), the WAL is to be restarted (ml_sq_wal_catch_up). */
#define WAL_RESTART_FRAMES 16384

/* The pages checkpoints copied into the database file go to the disk a megabyte at a time,
 * each written before the next is started. Left to the kernel, or to one flush of the whole
 * file, tens of MB went at once, filled the disk's queue for 4-14 ms, and the commits' WAL
 * syncs waited behind them (three quarters of the commit syncs over 1.5 ms came within 30 ms
 * of such a flush; half as many over 1.5 ms with this). One call per MB of the file: clean
 * ranges cost next to nothing (~1 µs). With `flush`, the pages are then made durable: SQLite
 * flushes the file only when a checkpoint copies the whole WAL (the writer's, in
 * ml_sq_wal_catch_up); done here first, that flush has only the last few pages to write. (A failure
 * here shows in that flush of SQLite's, which checks it.) */
static void flush_db(struct sq_store *s, bool flush)
{
	struct stat st;
	if (s->db_fd < 0 || fstat(s->db_fd, &st) < 0)
		return;
	const off_t chunk = 1 << 20;
	for (off_t off = 0; off < st.st_size; off += chunk)
		sync_file_range(s->db_fd, off, chunk,
				SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE |
				    SYNC_FILE_RANGE_WAIT_AFTER);
	if (flush)
		fdatasync(s->db_fd);
}

/* Every 200 ms, a passive checkpoint (never blocks the writer or readers), its pages then
 * written out (flush_db). Once the WAL has grown past WAL_RESTART_FRAMES, the database file is
 * flushed and the writer asked to copy the rest itself so that it restarts the WAL
 * (ml_sq_wal_catch_up). Should that keep failing (a reader that never lets go), past four times that
 * a RESTART checkpoint bounds it, holding the writer back while it finishes (a few ms: see
 * ml_sq_busy_wait). */
void *ml_sq_checkpoint_main(void *arg)
{
	struct sq_store *s = arg;
	pthread_setname_np(pthread_self(), "ml-checkpoint");
	int asked_at = -1; /* the WAL's size when the writer was last asked to catch up */
	int last_done = 0;
	pthread_mutex_lock(&s->mu);
	while (!s->stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 200 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&s->ckpt_cv, &s->mu, &until);
		if (s->stopping)
			break;
		pthread_mutex_unlock(&s->mu);
		int log = 0, done = 0;
		int64_t t0 = ml_mono_ms();
		sqlite3_wal_checkpoint_v2(s->ckpt->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
		bool blocking = log > 4 * WAL_RESTART_FRAMES && done == log;
		bool ask = !blocking && log > WAL_RESTART_FRAMES && log != asked_at;
		if (done != last_done || ask)
			flush_db(s, ask); /* (not while nothing is copied: idle) */
		last_done = done;
		int64_t t1 = ml_mono_ms();
		int rrc = -1;
		if (blocking)
			rrc = sqlite3_wal_checkpoint_v2(s->ckpt->db, NULL, SQLITE_CHECKPOINT_RESTART,
							NULL, NULL);
		else if (ask) {
			/* (Not again while nothing was written since: an idle writer has no batch
			 * that would restart the WAL.) */
			asked_at = log;
			pthread_mutex_lock(&s->mu);
			s->catch_up = true;
			pthread_cond_signal(&s->work_cv);
			pthread_mutex_unlock(&s->mu);
		}
		if (log > 0)
			ml_debug("store: checkpoint: %d frames in the WAL, %d copied in %lld ms%s "
				 "(%lld ms)",
				 log, done, (long long)(t1 - t0),
				 rrc < 0 ? "" : rrc == SQLITE_OK ? "; WAL restarted" : "; restart refused",
				 (long long)(ml_mono_ms() - t1));
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	/* A last full checkpoint leaves a small WAL behind. */
	sqlite3_wal_checkpoint_v2(s->ckpt->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return NULL;
}

/* The WAL is only reused from its start (instead of growing) by a write transaction that
 * begins while every frame in it has been copied back (SQLite then restarts it, unless a reader
 * still reads from it: then a later try will). The checkpointer copies most frames and flushes
 * the database file without stopping anyone (ml_sq_checkpoint_main); what the writer appended
 * meanwhile, the writer copies itself, between two batches (a few hundred frames, 1-3 ms with
 * the flush of those pages), so that its next batch restarts the WAL. That used to be a
 * RESTART checkpoint, which held the writer back for 7-13 ms each time (waiting for the
 * writer's batch, copying, flushing every page the passive checkpoints had copied since the
 * last flush, then waiting for readers), every ~0.7 s at 1,500 links/s. */
void ml_sq_wal_catch_up(struct sq_store *s)
{
	int log = 0, done = 0;
	int64_t t0 = ml_mono_ms();
	int rc = sqlite3_wal_checkpoint_v2(s->writer->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log,
					   &done);
	ml_debug("store: writer's checkpoint: %d of %d frames copied in %lld ms%s", done, log,
		 (long long)(ml_mono_ms() - t0),
		 rc == SQLITE_OK && done == log ? ": the next batch restarts the WAL" : "");
}
