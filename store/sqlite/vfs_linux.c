//go:build cgo && linux

// A VFS shim over SQLite's "unix" VFS that takes most system calls out of
// reading and writing a WAL-mode database (see vfs_linux.go for why).
//
// Reads: every open of a database file or its WAL shares one read-only
// mapping of that file per process, reserved far past its end and never
// unmapped while any connection has the file open. xRead copies from it and
// xFetch hands out pointers into it, so a connection whose page cache was
// reset (every read transaction after another connection's commit) reads
// its pages again without a pread each, and without the page faults that
// SQLite's own mapping takes after unmapping itself.
//
// WAL writes: a connection writing frames keeps them in a buffer and writes
// them with one pwrite when the commit frame is complete, instead of two
// pwrites per frame. The rules that keep this safe:
//   - a commit's frames reach the file before xWrite of its commit frame
//     returns, so before SQLite publishes the commit in the wal-index, and
//     a failed write is that xWrite's error;
//   - what SQLite writes after a commit frame and before the next
//     transaction (rewritten frame checksums) goes straight to the file;
//   - a read, sync, size query, truncation or close of the WAL through the
//     same handle first writes the buffer;
//   - when the connection releases the WAL write lock, anything still
//     buffered belonged to a transaction that did not commit and is
//     dropped (SQLite would have written it where no reader looks).
//
// Only the ABI of SQLite's VFS interface is declared here: the library
// itself is the one github.com/mattn/go-sqlite3 compiles into the binary.

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs_linux.h"

typedef long long lc_int64;

typedef struct sqlite3_file sqlite3_file;
typedef struct sqlite3_io_methods sqlite3_io_methods;
typedef struct sqlite3_vfs sqlite3_vfs;
typedef void (*sqlite3_syscall_ptr)(void);

struct sqlite3_file {
	const sqlite3_io_methods *pMethods;
};

struct sqlite3_io_methods {
	int iVersion;
	int (*xClose)(sqlite3_file *);
	int (*xRead)(sqlite3_file *, void *, int, lc_int64);
	int (*xWrite)(sqlite3_file *, const void *, int, lc_int64);
	int (*xTruncate)(sqlite3_file *, lc_int64);
	int (*xSync)(sqlite3_file *, int);
	int (*xFileSize)(sqlite3_file *, lc_int64 *);
	int (*xLock)(sqlite3_file *, int);
	int (*xUnlock)(sqlite3_file *, int);
	int (*xCheckReservedLock)(sqlite3_file *, int *);
	int (*xFileControl)(sqlite3_file *, int, void *);
	int (*xSectorSize)(sqlite3_file *);
	int (*xDeviceCharacteristics)(sqlite3_file *);
	int (*xShmMap)(sqlite3_file *, int, int, int, void volatile **);
	int (*xShmLock)(sqlite3_file *, int, int, int);
	void (*xShmBarrier)(sqlite3_file *);
	int (*xShmUnmap)(sqlite3_file *, int);
	int (*xFetch)(sqlite3_file *, lc_int64, int, void **);
	int (*xUnfetch)(sqlite3_file *, lc_int64, void *);
};

struct sqlite3_vfs {
	int iVersion;
	int szOsFile;
	int mxPathname;
	sqlite3_vfs *pNext;
	const char *zName;
	void *pAppData;
	int (*xOpen)(sqlite3_vfs *, const char *, sqlite3_file *, int, int *);
	int (*xDelete)(sqlite3_vfs *, const char *, int);
	int (*xAccess)(sqlite3_vfs *, const char *, int, int *);
	int (*xFullPathname)(sqlite3_vfs *, const char *, int, char *);
	void *(*xDlOpen)(sqlite3_vfs *, const char *);
	void (*xDlError)(sqlite3_vfs *, int, char *);
	void (*(*xDlSym)(sqlite3_vfs *, void *, const char *))(void);
	void (*xDlClose)(sqlite3_vfs *, void *);
	int (*xRandomness)(sqlite3_vfs *, int, char *);
	int (*xSleep)(sqlite3_vfs *, int);
	int (*xCurrentTime)(sqlite3_vfs *, double *);
	int (*xGetLastError)(sqlite3_vfs *, int, char *);
	int (*xCurrentTimeInt64)(sqlite3_vfs *, lc_int64 *);
	int (*xSetSystemCall)(sqlite3_vfs *, const char *, sqlite3_syscall_ptr);
	sqlite3_syscall_ptr (*xGetSystemCall)(sqlite3_vfs *, const char *);
	const char *(*xNextSystemCall)(sqlite3_vfs *, const char *);
};

extern sqlite3_vfs *sqlite3_vfs_find(const char *);
extern int sqlite3_vfs_register(sqlite3_vfs *, int);
extern sqlite3_file *sqlite3_database_file_object(const char *);

enum {
	LC_OK = 0,
	LC_NOMEM = 7,
	LC_IOERR = 10,
	LC_NOTFOUND = 12,
	LC_IOERR_WRITE = LC_IOERR | (3 << 8),
	LC_OPEN_MAIN_DB = 0x00000100,
	LC_OPEN_WAL = 0x00080000,
	LC_SHM_UNLOCK = 1,
	LC_SHM_EXCLUSIVE = 8,
	LC_FCNTL_MMAP_SIZE = 18,
	LC_WAL_WRITE_LOCK = 0,
	LC_WAL_HDRSIZE = 32,
	LC_FRAME_HDRSIZE = 24,
};

// LC_RESERVE is the address space each mapping reserves: files grow into it
// without remapping. Nothing is read past a file's known size.
#define LC_RESERVE (1LL << 40)

// LC_BUFFER is the most a WAL handle buffers before writing.
#define LC_BUFFER (1 << 20)

// LC_WRITE_MAX is the most a flush writes with one call.
#define LC_WRITE_MAX (1 << 16)

// lc_map is one file's shared mapping.
typedef struct lc_map lc_map;
struct lc_map {
	dev_t dev;
	ino_t ino;
	int fd;            // read-only descriptor, for fstat
	const char *base;  // LC_RESERVE bytes, PROT_READ, MAP_SHARED
	lc_int64 size;     // bytes known to be in the file (atomic)
	int refs;          // under lc_maps_mu
	lc_map *next;
};

static pthread_mutex_t lc_maps_mu = PTHREAD_MUTEX_INITIALIZER;
static lc_map *lc_maps;

typedef struct lc_file lc_file;
struct lc_file {
	sqlite3_file base;
	sqlite3_file *real;  // the unix VFS's file, after this struct
	lc_map *map;         // NULL: reads and writes go to real
	int is_wal;
	lc_int64 mmap_limit; // SQLITE_FCNTL_MMAP_SIZE: how far xFetch maps
	lc_file *wal;        // main database: its WAL's handle, once open
	lc_file *main;       // WAL: the main database's handle
	// WAL write buffer.
	char *buf;
	lc_int64 buf_off;
	int buf_len;
	lc_int64 commit_data;   // offset of the pending commit frame's page, or -1
	lc_int64 committed_end; // end of the last commit frame written
};

static sqlite3_vfs *lc_unix;

// Counters for tests and benchmarks (relaxed atomics).
static long long lc_mapped_reads, lc_wal_flushes, lc_wal_buffered;

static void lc_count(long long *c) { __atomic_fetch_add(c, 1, __ATOMIC_RELAXED); }

void lc_vfs_stats(lc_vfs_counts *out) {
	out->mapped_reads = __atomic_load_n(&lc_mapped_reads, __ATOMIC_RELAXED);
	out->wal_flushes = __atomic_load_n(&lc_wal_flushes, __ATOMIC_RELAXED);
	out->wal_buffered = __atomic_load_n(&lc_wal_buffered, __ATOMIC_RELAXED);
}
static sqlite3_vfs lc_vfs;
static const sqlite3_io_methods lc_methods;

static lc_int64 lc_size(lc_map *m) { return __atomic_load_n(&m->size, __ATOMIC_ACQUIRE); }

// lc_grown records that the file holds at least end bytes.
static void lc_grown(lc_map *m, lc_int64 end) {
	lc_int64 cur = lc_size(m);
	while (end > cur && !__atomic_compare_exchange_n(&m->size, &cur, end, 0, __ATOMIC_RELEASE, __ATOMIC_ACQUIRE)) {
	}
}

// lc_refresh reads the file's size again (another process may have grown it).
static lc_int64 lc_refresh(lc_map *m) {
	struct stat st;
	if (fstat(m->fd, &st) != 0) return lc_size(m);
	__atomic_store_n(&m->size, (lc_int64)st.st_size, __ATOMIC_RELEASE);
	return st.st_size;
}

// lc_map_open returns the shared mapping of the file at path, or NULL when
// it cannot be mapped (the file is then read and written as usual).
static lc_map *lc_map_open(const char *path) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return NULL;
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return NULL;
	}
	pthread_mutex_lock(&lc_maps_mu);
	for (lc_map *m = lc_maps; m; m = m->next) {
		if (m->dev == st.st_dev && m->ino == st.st_ino) {
			m->refs++;
			pthread_mutex_unlock(&lc_maps_mu);
			close(fd);
			return m;
		}
	}
	void *base = mmap(NULL, LC_RESERVE, PROT_READ, MAP_SHARED | MAP_NORESERVE, fd, 0);
	lc_map *m = base == MAP_FAILED ? NULL : calloc(1, sizeof *m);
	if (!m) {
		if (base != MAP_FAILED) munmap(base, LC_RESERVE);
		pthread_mutex_unlock(&lc_maps_mu);
		close(fd);
		return NULL;
	}
	m->dev = st.st_dev;
	m->ino = st.st_ino;
	m->fd = fd;
	m->base = base;
	m->size = st.st_size;
	m->refs = 1;
	m->next = lc_maps;
	lc_maps = m;
	pthread_mutex_unlock(&lc_maps_mu);
	return m;
}

static void lc_map_close(lc_map *m) {
	pthread_mutex_lock(&lc_maps_mu);
	if (--m->refs > 0) {
		pthread_mutex_unlock(&lc_maps_mu);
		return;
	}
	for (lc_map **pp = &lc_maps; *pp; pp = &(*pp)->next) {
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	}
	pthread_mutex_unlock(&lc_maps_mu);
	munmap((void *)m->base, LC_RESERVE);
	close(m->fd);
	free(m);
}

// lc_write_through writes to the file itself.
static int lc_write_through(lc_file *p, const void *data, int amt, lc_int64 off) {
	int rc = p->real->pMethods->xWrite(p->real, data, amt, off);
	if (rc == LC_OK && p->map) lc_grown(p->map, off + amt);
	return rc;
}

// lc_flush writes the WAL buffer; on failure the buffer is kept, so that a
// later flush (or the transaction's rollback) decides its fate.
static int lc_flush(lc_file *p) {
	// The unix VFS writes at most 128 KiB - 1 bytes a call.
	for (int done = 0; done < p->buf_len; done += LC_WRITE_MAX) {
		int n = p->buf_len - done < LC_WRITE_MAX ? p->buf_len - done : LC_WRITE_MAX;
		int rc = lc_write_through(p, p->buf + done, n, p->buf_off + done);
		if (rc != LC_OK) return rc;
	}
	p->buf_len = 0;
	lc_count(&lc_wal_flushes);
	return LC_OK;
}

static int lc_overlaps_buffer(lc_file *p, int amt, lc_int64 off) {
	return p->buf_len > 0 && off < p->buf_off + p->buf_len && off + amt > p->buf_off;
}

// lc_wal_put buffers a WAL write, or writes it at once (see the top).
static int lc_wal_put(lc_file *p, const void *data, int amt, lc_int64 off) {
	lc_int64 end = p->buf_off + p->buf_len;
	if (p->buf_len > 0 && off >= p->buf_off && off + amt <= end) {
		memcpy(p->buf + (off - p->buf_off), data, amt);
		lc_count(&lc_wal_buffered);
		return LC_OK;
	}
	if (p->buf_len > 0 && off == end && p->buf_len + amt <= LC_BUFFER) {
		memcpy(p->buf + p->buf_len, data, amt);
		p->buf_len += amt;
		lc_count(&lc_wal_buffered);
		return LC_OK;
	}
	int rc = lc_flush(p);
	if (rc != LC_OK) return rc;
	if (off == 0 && amt == LC_WAL_HDRSIZE) p->committed_end = 0; // the log starts again
	if (off < p->committed_end || amt > LC_BUFFER) return lc_write_through(p, data, amt, off);
	if (!p->buf && !(p->buf = malloc(LC_BUFFER))) return lc_write_through(p, data, amt, off);
	memcpy(p->buf, data, amt);
	p->buf_off = off;
	p->buf_len = amt;
	lc_count(&lc_wal_buffered);
	return LC_OK;
}

// lc_wal_write writes the buffer out once a commit frame is complete: a
// frame is a 24-byte header, whose bytes 4-7 are non-zero in a commit
// frame, then the page, each written by one xWrite.
static int lc_wal_write(lc_file *p, const void *data, int amt, lc_int64 off) {
	int rc = lc_wal_put(p, data, amt, off);
	if (rc != LC_OK) return rc;
	if (amt == LC_FRAME_HDRSIZE) {
		const unsigned char *h = data;
		p->commit_data = (h[4] | h[5] | h[6] | h[7]) != 0 ? off + LC_FRAME_HDRSIZE : -1;
	} else if (off == p->commit_data) {
		p->commit_data = -1;
		p->committed_end = off + amt;
		return lc_flush(p);
	}
	return LC_OK;
}

static int lc_close(sqlite3_file *f) {
	lc_file *p = (lc_file *)f;
	int rc = lc_flush(p);
	if (p->main && p->main->wal == p) p->main->wal = NULL;
	if (p->wal && p->wal->main == p) p->wal->main = NULL;
	int rc2 = p->real->pMethods->xClose(p->real);
	if (p->map) lc_map_close(p->map);
	free(p->buf);
	p->buf = NULL;
	p->map = NULL;
	return rc != LC_OK ? rc : rc2;
}

static int lc_read(sqlite3_file *f, void *data, int amt, lc_int64 off) {
	lc_file *p = (lc_file *)f;
	if (lc_overlaps_buffer(p, amt, off)) {
		int rc = lc_flush(p);
		if (rc != LC_OK) return rc;
	}
	if (p->map) {
		if (off + amt <= lc_size(p->map) || off + amt <= lc_refresh(p->map)) {
			memcpy(data, p->map->base + off, amt);
			lc_count(&lc_mapped_reads);
			return LC_OK;
		}
	}
	return p->real->pMethods->xRead(p->real, data, amt, off);
}

static int lc_write(sqlite3_file *f, const void *data, int amt, lc_int64 off) {
	lc_file *p = (lc_file *)f;
	if (p->is_wal) return lc_wal_write(p, data, amt, off);
	return lc_write_through(p, data, amt, off);
}

static int lc_truncate(sqlite3_file *f, lc_int64 size) {
	lc_file *p = (lc_file *)f;
	int rc = lc_flush(p);
	if (rc != LC_OK) return rc;
	rc = p->real->pMethods->xTruncate(p->real, size);
	if (p->map) lc_refresh(p->map);
	return rc;
}

static int lc_sync(sqlite3_file *f, int flags) {
	lc_file *p = (lc_file *)f;
	int rc = lc_flush(p);
	if (rc != LC_OK) return rc;
	return p->real->pMethods->xSync(p->real, flags);
}

static int lc_file_size(sqlite3_file *f, lc_int64 *size) {
	lc_file *p = (lc_file *)f;
	int rc = lc_flush(p);
	if (rc != LC_OK) return rc;
	return p->real->pMethods->xFileSize(p->real, size);
}

static int lc_lock(sqlite3_file *f, int l) { return ((lc_file *)f)->real->pMethods->xLock(((lc_file *)f)->real, l); }
static int lc_unlock(sqlite3_file *f, int l) { return ((lc_file *)f)->real->pMethods->xUnlock(((lc_file *)f)->real, l); }
static int lc_check_reserved(sqlite3_file *f, int *out) {
	return ((lc_file *)f)->real->pMethods->xCheckReservedLock(((lc_file *)f)->real, out);
}

static int lc_file_control(sqlite3_file *f, int op, void *arg) {
	lc_file *p = (lc_file *)f;
	if (op == LC_FCNTL_MMAP_SIZE && p->map) {
		// The mapping is ours: the limit only says how far xFetch hands
		// out pages, and the unix VFS maps nothing of its own.
		lc_int64 *limit = arg;
		lc_int64 old = p->mmap_limit;
		if (*limit >= 0) p->mmap_limit = *limit;
		*limit = old;
		return LC_OK;
	}
	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int lc_sector_size(sqlite3_file *f) { return ((lc_file *)f)->real->pMethods->xSectorSize(((lc_file *)f)->real); }
static int lc_device_characteristics(sqlite3_file *f) {
	return ((lc_file *)f)->real->pMethods->xDeviceCharacteristics(((lc_file *)f)->real);
}

static int lc_shm_map(sqlite3_file *f, int pg, int pgsz, int extend, void volatile **pp) {
	return ((lc_file *)f)->real->pMethods->xShmMap(((lc_file *)f)->real, pg, pgsz, extend, pp);
}

static int lc_shm_lock(sqlite3_file *f, int offset, int n, int flags) {
	lc_file *p = (lc_file *)f;
	if (offset <= LC_WAL_WRITE_LOCK && offset + n > LC_WAL_WRITE_LOCK && flags == (LC_SHM_UNLOCK | LC_SHM_EXCLUSIVE) && p->wal) {
		// Every commit was written with its commit frame: what is left
		// is a transaction that rolled back.
		p->wal->buf_len = 0;
		p->wal->commit_data = -1;
	}
	return p->real->pMethods->xShmLock(p->real, offset, n, flags);
}

static void lc_shm_barrier(sqlite3_file *f) { ((lc_file *)f)->real->pMethods->xShmBarrier(((lc_file *)f)->real); }
static int lc_shm_unmap(sqlite3_file *f, int del) { return ((lc_file *)f)->real->pMethods->xShmUnmap(((lc_file *)f)->real, del); }

static int lc_fetch(sqlite3_file *f, lc_int64 off, int amt, void **pp) {
	lc_file *p = (lc_file *)f;
	*pp = NULL;
	if (p->map && !p->is_wal && off + amt <= p->mmap_limit &&
	    (off + amt <= lc_size(p->map) || off + amt <= lc_refresh(p->map))) {
		*pp = (void *)(p->map->base + off);
	}
	return LC_OK;
}

static int lc_unfetch(sqlite3_file *f, lc_int64 off, void *page) {
	(void)f;
	(void)off;
	(void)page;
	return LC_OK; // the mapping outlives every page handed out
}

static const sqlite3_io_methods lc_methods = {
	3,
	lc_close,
	lc_read,
	lc_write,
	lc_truncate,
	lc_sync,
	lc_file_size,
	lc_lock,
	lc_unlock,
	lc_check_reserved,
	lc_file_control,
	lc_sector_size,
	lc_device_characteristics,
	lc_shm_map,
	lc_shm_lock,
	lc_shm_barrier,
	lc_shm_unmap,
	lc_fetch,
	lc_unfetch,
};

static int lc_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags, int *out_flags) {
	(void)vfs;
	lc_file *p = (lc_file *)f;
	memset(p, 0, sizeof *p);
	p->real = (sqlite3_file *)(p + 1);
	p->commit_data = -1;
	int rc = lc_unix->xOpen(lc_unix, name, p->real, flags, out_flags);
	if (rc != LC_OK) {
		// The unix VFS leaves pMethods NULL when it fails: SQLite then
		// closes nothing.
		return rc;
	}
	if (name && (flags & (LC_OPEN_MAIN_DB | LC_OPEN_WAL))) {
		p->map = lc_map_open(name);
	}
	if (flags & LC_OPEN_WAL) {
		p->is_wal = 1;
		sqlite3_file *db = sqlite3_database_file_object(name);
		if (db && db->pMethods == &lc_methods) {
			p->main = (lc_file *)db;
			p->main->wal = p;
		}
	}
	f->pMethods = &lc_methods;
	return LC_OK;
}

int lc_vfs_register(void) {
	if (lc_unix) return LC_OK;
	sqlite3_vfs *dflt = sqlite3_vfs_find("unix");
	if (!dflt) return LC_NOTFOUND;
	lc_vfs = *dflt;
	lc_vfs.pNext = NULL;
	lc_vfs.zName = LC_VFS_NAME;
	lc_vfs.szOsFile = (int)sizeof(lc_file) + dflt->szOsFile;
	lc_vfs.xOpen = lc_open;
	lc_unix = dflt;
	return sqlite3_vfs_register(&lc_vfs, 0);
}
