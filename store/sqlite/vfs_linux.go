//go:build cgo && linux

package sqlite

/*
#include "vfs_linux.h"
*/
import "C"

import (
	"fmt"
	"sync"
)

// The shim VFS (vfs_linux.c) serves reads of the database and its WAL from
// one read-only mapping per file and process, and writes a transaction's WAL
// frames with one pwrite at its commit. With SQLite's own I/O, every frame
// written costs two pwrites, and every commit of another connection empties
// a reader's page cache and drops its mapping, so that each page it reads
// next is a pread, or a new page fault when mapped. /proc/PID/io showed 22
// read and 18 write system calls per interaction at 5,800 interactions/s
// (bench/scoring, 100k database), each a hypervisor exit on a
// paravirtualised machine; with the shim, no reads and under 5 writes
// (bench/README, twelfth round).
var shim struct {
	once sync.Once
	err  error
}

// sharedMapping says that every connection reads the file through one
// mapping that outlives its transactions (see pointReads).
const sharedMapping = true

// vfsName registers the shim (once) and returns its name for the DSN's vfs
// parameter.
func vfsName() (string, error) {
	shim.once.Do(func() {
		if rc := C.lc_vfs_register(); rc != 0 {
			shim.err = fmt.Errorf("register the SQLite VFS: result code %d", int(rc))
		}
	})
	return C.LC_VFS_NAME, shim.err
}

// vfsCounts is what the shim has done since the process started.
type vfsCounts struct {
	// MappedReads counts reads served from a shared mapping.
	MappedReads int64
	// WALFlushes counts the writes of buffered WAL frames.
	WALFlushes int64
	// WALBuffered counts WAL writes buffered instead of written.
	WALBuffered int64
}

func vfsStats() vfsCounts {
	var c C.lc_vfs_counts
	C.lc_vfs_stats(&c)
	return vfsCounts{MappedReads: int64(c.mapped_reads), WALFlushes: int64(c.wal_flushes), WALBuffered: int64(c.wal_buffered)}
}
