// Package sqlite opens leadcycle's embedded database: one SQLite file in WAL
// mode, written through a single connection and read through a pool.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqldb"
	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations/*.sql
var migrations embed.FS

// FileName is the database file inside the data directory.
const FileName = "leadcycle.db"

// Dialect is SQLite's dialect.
var Dialect = sqldb.Dialect{
	Name:            "sqlite",
	CacheStatements: true,
	IsUniqueViolation: func(err error) bool {
		var e *sqlite.Error
		return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	JSONRemoveKey: func(col string) string { return "json_remove(" + col + ", '$.' || ?)" },
	JSONHasKey:    func(col string) string { return "json_type(" + col + ", '$.' || ?) IS NOT NULL" },
	InIDs:         func(col string) string { return col + " IN (SELECT value FROM json_each(?))" },
	IDsArg:        idsJSON,
	SingleNode:    true,
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

// dsn builds a modernc.org/sqlite DSN. WAL lets readers run beside the writer;
// synchronous=NORMAL in WAL mode never loses a committed transaction when the
// process dies (only a power cut can undo the last commits); BEGIN IMMEDIATE
// takes the write lock up front so transactions never fail half-way with BUSY.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "wal_autocheckpoint(256)", "busy_timeout(10000)", "foreign_keys(1)", "synchronous(NORMAL)", "cache_size(-32000)", "mmap_size(2147418112)", "temp_store(MEMORY)"} {
		q.Add("_pragma", p)
	}
	if readOnly {
		q.Add("_pragma", "query_only(1)")
	} else {
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Open opens (creating if needed) the database in dir and migrates it.
func Open(ctx context.Context, dir string, clock leadcycle.Clock) (*sqldb.Store, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	db, err := OpenDB(filepath.Join(dir, FileName), clock)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx, migrations, "migrations"); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return sqldb.NewStore(db), nil
}

// OpenDB opens the database file without migrating it.
func OpenDB(path string, clock leadcycle.Clock) (*sqldb.DB, error) {
	w, err := sql.Open("sqlite", dsn(path, false))
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
	r, err := sql.Open("sqlite", dsn(path, true))
	if err != nil {
		w.Close()
		return nil, err
	}
	n := max(4, 2*runtime.NumCPU())
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	return sqldb.New(w, r, Dialect, clock), nil
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
