// Package sqlite opens leadcycle's embedded database: one SQLite file in WAL
// mode, written through a single connection and read through a pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "leadcycle.db"

// Dialect is SQLite's dialect.
var Dialect = sqldb.Dialect{
	Name:              "sqlite",
	CacheStatements:   true,
	IsUniqueViolation: isUniqueViolation,
	JSONRemoveKey:     func(col string) string { return "json_remove(" + col + ", '$.' || ?)" },
	JSONHasKey:        func(col string) string { return "json_type(" + col + ", '$.' || ?) IS NOT NULL" },
	InIDs:             func(col string) string { return col + " IN (SELECT value FROM json_each(?))" },
	IDsArg:            idsJSON,
	InTexts:           func(col string) string { return col + " IN (SELECT value FROM json_each(?))" },
	TextsArg: func(vs []string) any {
		b, _ := json.Marshal(vs)
		return string(b)
	},
	Cast: func(string) string { return "" },
	// Kept by triggers on lead_scores (migration 0017).
	ScoreCounts: func(models string) string { return "SELECT model_id, score, leads FROM score_counts WHERE " + models },
	// One writer: the ids after the largest are free until it commits.
	NextIDs: func(ctx context.Context, tx *sql.Tx, table string, n int) ([]int64, error) {
		var top int64
		if err := tx.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+table).Scan(&top); err != nil {
			return nil, err
		}
		ids := make([]int64, n)
		for i := range ids {
			ids[i] = top + 1 + int64(i)
		}
		return ids, nil
	},
	SingleNode:   true,
	IndexedBy:    func(index string) string { return " INDEXED BY " + index },
	JSONVerbatim: true,
	JSONText:     func(col string) string { return "json_extract(" + col + ", '$.' || ?)" },
}

// idsJSON renders ids as a JSON array for json_each.
func idsJSON(ids []int64) any {
	b := make([]byte, 0, 2+len(ids)*8)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// walSizeLimit is the size, in bytes, the WAL file is trimmed to when it
// starts again (see defaultCheckpoints).
const walSizeLimit = 256 << 20

// writerCacheKiB is the writer's cache of clean pages and writerSpillKiB
// how much a write transaction may dirty before it spills pages to the WAL
// (see dsn).
const (
	writerCacheKiB = 2 << 10
	writerSpillKiB = 256 << 10
)

// pageSize is the page size, in bytes, of a database this build creates.
// The scorer and new interactions touch rows all over their B-trees, and
// each touch writes a whole page to the WAL and later back to the file:
// with 2 KiB pages instead of SQLite's 4 KiB, bench/scoring wrote 23
// instead of 34 KiB per interaction at 10,000 interactions/s and took
// 164 instead of 175 µs of CPU for each (1 KiB pages wrote 15 KiB but
// took 171 µs: the B-trees grow a level). A database created earlier
// keeps its page size; SQLite ignores the setting once the file has pages.
const pageSize = 2048

// poolKind is what a pool of connections is for; it decides their pragmas.
type poolKind int

const (
	// writes is the one writer's pool (and the checkpointer's connection).
	writes poolKind = iota
	// reads serves the API, scans and exports: its connections map the
	// file, so that a scan reads pages without copying them.
	reads
	// pointReads serves the background workers' short reads of a few
	// rows each (the scorer and the evaluation of contacts against
	// segments), which follow the writes closely, in connections of
	// their own.
	//
	// With the shim VFS (sharedMapping) its connections map the file
	// like the others: the shim's mapping outlives every transaction.
	// Without it they do not: a read transaction that finds the database
	// changed since the last one drops the connection's mapping (and its
	// page cache), so that under a stream of writes every page a mapped
	// reader touches costs a page fault, which on a paravirtualised
	// machine is dearer than the pread that replaces it (an earlier,
	// faster machine measured the whole reader pool unmapped as slower:
	// bench/README, sixth round). Measured with bench/scoring at 10,000
	// interactions/s offered on the 100k database, without the shim, in
	// two interleaved pairs: 4,475 / 4,276 stored/s and 378 / 394 µs of
	// CPU per interaction mapped, 6,129 / 5,756 and 256 / 273 µs not;
	// with the shim, 8,116 / 8,122 stored/s and 188 µs mapped, 7,922 /
	// 7,820 and 194 / 196 µs not. Scans go the other way without the
	// shim (a 200k-contact segment query 167 → 317 ms), so they stay on
	// reads.
	pointReads
)

// busyTimeout is how long a connection waits for a lock another process
// holds (another leadcycle command on the same file).
const busyTimeout = 10 * time.Second

// pragmas are the settings of every connection, run when it opens. WAL
// lets readers run beside the writer; synchronous=NORMAL in WAL mode never
// loses a committed transaction when the process dies (only a power cut can
// undo the last commits). The writer's transactions begin IMMEDIATE (see
// openPool), taking the write lock up front so that they never fail
// half-way with BUSY.
//
// The page size comes first: it must be set before anything writes the
// file's header, which switching a new file to WAL does.
func pragmas(kind poolKind) []string {
	p := []string{fmt.Sprintf("page_size(%d)", pageSize), "journal_mode(WAL)", "wal_autocheckpoint(0)", fmt.Sprintf("journal_size_limit(%d)", walSizeLimit), fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()), "foreign_keys(1)", "synchronous(NORMAL)", "temp_store(MEMORY)"}
	if kind == pointReads && !sharedMapping {
		p = append(p, "mmap_size(0)") // see pointReads
	} else {
		p = append(p, "mmap_size(2147418112)")
	}
	if kind != writes {
		return append(p, "query_only(1)", "cache_size(-32000)")
	}
	// The writer keeps every page a transaction dirties until it
	// commits (cache_spill): spilled early, the pages of big write
	// transactions (import batches) are written again. Measured on a
	// 1M-contact import: spilling at 32 MB instead of 256 MB made the
	// import 3.4× instead of 2.4× the raw inserts of the same rows.
	//
	// Its cache of clean pages stays small (cache_size): nearly every
	// commit that splits a B-tree page makes SQLite walk the whole
	// cache (balance_nonroot renumbers pages through the lock-byte
	// page, past the end of a file under 1 GiB, and the commit then
	// truncates the cache to the file's size). With 256 MB of cached
	// pages that walk was 5% of the CPU of bench/scoring at 10,000
	// interactions/s; the writer reads its clean pages from the
	// mapped file anyway. Measured against the 256 MB cache in
	// interleaved runs: real time 6,781 → 7,178 interactions/s and
	// 240 → 228 µs of CPU each, a 300k-row import 7.3/8.2 s →
	// 7.0/6.5 s, and 400 MB less resident memory.
	return append(p, fmt.Sprintf("cache_size(-%d)", writerCacheKiB), fmt.Sprintf("cache_spill(-%d)", writerSpillKiB))
}

// Open opens (creating if needed) the database in dir and migrates it.
func Open(ctx context.Context, dir string, clock leadcycle.Clock) (*sqldb.Store, error) {
	return open(ctx, dir, clock, defaultCheckpoints)
}

func open(ctx context.Context, dir string, clock leadcycle.Clock, c checkpoints) (*sqldb.Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := openDB(filepath.Join(dir, FileName), clock, c)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx, migrations, "migrations"); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	s := sqldb.NewStore(db)
	// One process works on an SQLite database: what a killed one had
	// claimed is free at once, instead of when its lease runs out.
	if err := s.ReleaseClaims(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// OpenDB opens the database file without migrating it.
func OpenDB(path string, clock leadcycle.Clock) (*sqldb.DB, error) {
	return openDB(path, clock, defaultCheckpoints)
}

func openDB(path string, clock leadcycle.Clock, c checkpoints) (*sqldb.DB, error) {
	w, err := openPool(path, writes)
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.Ping(); err != nil {
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := openReaders(path, reads)
	if err != nil {
		w.Close()
		return nil, err
	}
	p, err := openReaders(path, pointReads)
	if err != nil {
		w.Close()
		r.Close()
		return nil, err
	}
	db := sqldb.New(w, r, Dialect, clock)
	db.P = p
	stop, err := startCheckpointer(path, db, c)
	if err != nil {
		db.Close()
		return nil, err
	}
	db.OnClose = append(db.OnClose, stop)
	return db, nil
}

// openReaders opens a pool of read-only connections of the kind.
func openReaders(path string, kind poolKind) (*sql.DB, error) {
	r, err := openPool(path, kind)
	if err != nil {
		return nil, err
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	return r, nil
}

// Migrate applies pending migrations to the database in dir.
func Migrate(ctx context.Context, dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := OpenDB(filepath.Join(dir, FileName), nil)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return db.Migrate(ctx, migrations, "migrations")
}
