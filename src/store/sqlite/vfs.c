/* One write system call per commit for the WAL.
 *
 * SQLite appends each WAL frame with two writes (its 24-byte header, then the 4 KiB page): at
 * ~17 frames a commit, ~35 pwrite calls (now two), each taking the file's lock and walking the page
 * cache for the one or two pages it touches, all on the writer thread. This VFS, used by the
 * writer's connection only, wraps the default one and, for the WAL file alone, gathers
 * consecutive writes in a buffer written out at once: before the WAL is synced (each commit,
 * as the writer runs at synchronous=FULL), read, truncated, sized or closed, and whenever the
 * next write does not follow on. Nothing reaches the disk later than before: SQLite syncs the
 * WAL before it publishes a commit to readers (the WAL-index header), and the buffer is
 * written out first. A write that rewrites bytes still in the buffer (a frame rewritten in the
 * same transaction) changes them there. Every other file (the database, the -shm) is the
 * default VFS's own, untouched.
 */
#include "store/sqlite/internal.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define WAL_BUF (1u << 20)

struct wal_file {
	sqlite3_file base; /* pMethods = &wal_methods */
	sqlite3_file *real; /* the default VFS's file, in the memory after this struct */
	char *buf;
	sqlite3_int64 start; /* where buf[0] goes in the file */
	size_t len;
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs wal_vfs;

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct wal_file *)f)->real;
}

/* Written out in pieces of at most the largest page SQLite writes itself: the default VFS
 * takes no more in one call (it masks the length to 17 bits). */
#define WAL_PIECE 65536

static int flush(struct wal_file *f)
{
	size_t n = f->len;
	f->len = 0; /* (a failed write fails the commit; SQLite never trusts those frames) */
	for (size_t done = 0; done < n;) {
		int k = (int)(n - done < WAL_PIECE ? n - done : WAL_PIECE);
		int rc = f->real->pMethods->xWrite(f->real, f->buf + done, k,
						   f->start + (sqlite3_int64)done);
		if (rc != SQLITE_OK)
			return rc;
		done += (size_t)k;
	}
	return SQLITE_OK;
}

static int wal_write(sqlite3_file *pf, const void *p, int n, sqlite3_int64 off)
{
	struct wal_file *f = (struct wal_file *)pf;
	sqlite3_int64 end = f->start + (sqlite3_int64)f->len;
	if (f->len && off >= f->start && off + n <= end) {
		memcpy(f->buf + (off - f->start), p, (size_t)n);
		return SQLITE_OK;
	}
	if (f->len && off == end && f->len + (size_t)n <= WAL_BUF) {
		memcpy(f->buf + f->len, p, (size_t)n);
		f->len += (size_t)n;
		return SQLITE_OK;
	}
	int rc = flush(f);
	if (rc != SQLITE_OK)
		return rc;
	if ((size_t)n > WAL_PIECE || (!f->buf && !(f->buf = malloc(WAL_BUF))))
		return f->real->pMethods->xWrite(f->real, p, n, off);
	memcpy(f->buf, p, (size_t)n);
	f->start = off;
	f->len = (size_t)n;
	return SQLITE_OK;
}

static int wal_read(sqlite3_file *pf, void *p, int n, sqlite3_int64 off)
{
	struct wal_file *f = (struct wal_file *)pf;
	if (f->len && off < f->start + (sqlite3_int64)f->len && off + n > f->start) {
		int rc = flush(f);
		if (rc != SQLITE_OK)
			return rc;
	}
	return f->real->pMethods->xRead(f->real, p, n, off);
}

static int wal_sync(sqlite3_file *pf, int flags)
{
	int rc = flush((struct wal_file *)pf);
	return rc != SQLITE_OK ? rc : real_of(pf)->pMethods->xSync(real_of(pf), flags);
}

static int wal_truncate(sqlite3_file *pf, sqlite3_int64 size)
{
	int rc = flush((struct wal_file *)pf);
	return rc != SQLITE_OK ? rc : real_of(pf)->pMethods->xTruncate(real_of(pf), size);
}

static int wal_file_size(sqlite3_file *pf, sqlite3_int64 *size)
{
	int rc = flush((struct wal_file *)pf);
	return rc != SQLITE_OK ? rc : real_of(pf)->pMethods->xFileSize(real_of(pf), size);
}

static int wal_close(sqlite3_file *pf)
{
	struct wal_file *f = (struct wal_file *)pf;
	int rc = flush(f);
	int crc = f->real->pMethods->xClose(f->real);
	free(f->buf);
	f->buf = NULL;
	return rc != SQLITE_OK ? rc : crc;
}

/* The rest goes to the default VFS's file as it is. */

static int wal_lock(sqlite3_file *pf, int level)
{
	return real_of(pf)->pMethods->xLock(real_of(pf), level);
}

static int wal_unlock(sqlite3_file *pf, int level)
{
	return real_of(pf)->pMethods->xUnlock(real_of(pf), level);
}

static int wal_check_reserved(sqlite3_file *pf, int *out)
{
	return real_of(pf)->pMethods->xCheckReservedLock(real_of(pf), out);
}

static int wal_file_control(sqlite3_file *pf, int op, void *arg)
{
	return real_of(pf)->pMethods->xFileControl(real_of(pf), op, arg);
}

static int wal_sector_size(sqlite3_file *pf)
{
	return real_of(pf)->pMethods->xSectorSize(real_of(pf));
}

static int wal_device_characteristics(sqlite3_file *pf)
{
	return real_of(pf)->pMethods->xDeviceCharacteristics(real_of(pf));
}

static const sqlite3_io_methods wal_methods = {
    .iVersion = 1,
    .xClose = wal_close,
    .xRead = wal_read,
    .xWrite = wal_write,
    .xTruncate = wal_truncate,
    .xSync = wal_sync,
    .xFileSize = wal_file_size,
    .xLock = wal_lock,
    .xUnlock = wal_unlock,
    .xCheckReservedLock = wal_check_reserved,
    .xFileControl = wal_file_control,
    .xSectorSize = wal_sector_size,
    .xDeviceCharacteristics = wal_device_characteristics,
};

static int wal_vfs_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *pf, int flags,
			int *out_flags)
{
	(void)vfs;
	if (!(flags & SQLITE_OPEN_WAL))
		return base_vfs->xOpen(base_vfs, name, pf, flags, out_flags);
	struct wal_file *f = (struct wal_file *)pf;
	memset(f, 0, sizeof *f);
	f->real = (sqlite3_file *)(f + 1);
	int rc = base_vfs->xOpen(base_vfs, name, f->real, flags, out_flags);
	f->base.pMethods = rc == SQLITE_OK ? &wal_methods : NULL;
	return rc;
}

static void register_vfs(void)
{
	base_vfs = sqlite3_vfs_find(NULL);
	if (!base_vfs)
		return;
	/* Everything but opening is the default VFS's (its functions other than xOpen do not
	 * depend on which VFS object they are called through). */
	wal_vfs = *base_vfs;
	wal_vfs.pNext = NULL;
	wal_vfs.zName = ML_SQ_WAL_VFS;
	wal_vfs.szOsFile = (int)sizeof(struct wal_file) + base_vfs->szOsFile;
	wal_vfs.xOpen = wal_vfs_open;
	if (sqlite3_vfs_register(&wal_vfs, 0) != SQLITE_OK)
		base_vfs = NULL;
}

const char *ml_sq_wal_vfs(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, register_vfs);
	return base_vfs ? ML_SQ_WAL_VFS : NULL;
}
