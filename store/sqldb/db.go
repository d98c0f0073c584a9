// Package sqldb implements leadcycle's storage on database/sql. The SQLite and
// PostgreSQL packages open the connections and supply a Dialect; everything
// else — record mapping, reference checks, list queries, migrations — is here
// once, so both databases behave the same.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcycle/leadcycle"
)

// Dialect holds what differs between the databases.
type Dialect struct {
	// Name is "sqlite" or "postgres".
	Name string
	// Numbered placeholders ($1, $2…) instead of "?".
	Numbered bool
	// CacheStatements keeps prepared statements (for drivers that do not).
	CacheStatements bool
	// ForUpdate is appended to SELECTs that read a row about to be changed.
	ForUpdate string
	// IsRetryable reports whether err aborted a transaction that can simply
	// run again (a deadlock or serialization failure); nil when none can.
	IsRetryable func(error) bool
	// IsUniqueViolation reports whether err is a unique-constraint violation.
	IsUniqueViolation func(error) bool
	// JSONRemoveKey returns an expression that removes the key given as the one
	// placeholder from the JSON object column.
	JSONRemoveKey func(column string) string
	// JSONHasKey returns a condition true when the JSON object column has the
	// key given as the one placeholder.
	JSONHasKey func(column string) string
	// LockKey takes a transaction-scoped lock on a string key, so that two
	// transactions capturing the same identity run one after the other. Nil
	// when the database has a single writer anyway (SQLite).
	LockKey func(ctx context.Context, tx *sql.Tx, key string) error
	// InIDs returns a condition true when column is one of the ids given as
	// the one placeholder, bound with IDsArg; one statement serves any number
	// of ids.
	InIDs  func(column string) string
	IDsArg func(ids []int64) any
	// InTexts and TextsArg do the same for strings.
	InTexts  func(column string) string
	TextsArg func(values []string) any
	// Cast returns what follows a placeholder whose type the database
	// cannot infer (in a VALUES list): kind is int, text or json; "" where
	// none is needed.
	Cast func(kind string) string
	// CopyRows loads rows into a table inside the transaction open on conn
	// (COPY on PostgreSQL); nil where multi-row INSERTs are as fast.
	CopyRows func(ctx context.Context, conn *sql.Conn, table string, cols []string, rows [][]any) error
	// NextIDs reserves n new ids of a table inside tx, for rows inserted
	// with explicit ids (bulk writes).
	NextIDs func(ctx context.Context, tx *sql.Tx, table string, n int) ([]int64, error)
	// SingleNode is true when only one process uses the database (SQLite):
	// work is claimed in memory instead of with leases in rows.
	SingleNode bool
	// SkipLocked is appended to a locking SELECT whose rows another
	// transaction may take instead.
	SkipLocked string
	// JSONVerbatim is true when JSON columns give back the text written
	// (SQLite's TEXT); PostgreSQL's JSONB gives it back reformatted.
	JSONVerbatim bool
	// IndexedBy returns the clause that makes a query read a table through
	// the named index, for plans the database cannot find alone; "" where
	// none is needed.
	IndexedBy func(index string) string
	// LockMigrations serialises migrations across processes, if needed.
	LockMigrations func(ctx context.Context, tx *sql.Tx) error
	// JSONText returns an expression for the text of the key, given as the
	// one placeholder, of the JSON object column; NULL when the key is
	// missing or null.
	JSONText func(column string) string
	// ForKeyShare is appended to a SELECT whose rows must not be deleted
	// until the transaction ends (the lock a foreign key check takes), so
	// that rows read as present stay present; empty where the database has
	// a single writer.
	ForKeyShare string
	// ScoreCounts returns a query of the columns model_id, score and leads:
	// how many leads have each score under the models the condition on
	// model_id selects. SQLite keeps the counts in a table (its one writer
	// would otherwise move an index entry for every changed score);
	// PostgreSQL counts lead_scores through its index.
	ScoreCounts func(models string) string
}

// DB is an open leadcycle database. Writes go through W (one connection on
// SQLite), reads through R (a pool; the same as W on PostgreSQL), and the
// background workers' short reads that follow writes (the scorer's, and
// the evaluation of contacts against segments) through P, a pool of its
// own on SQLite (the same as R unless set).
type DB struct {
	W, R, P *sql.DB
	Dialect Dialect
	Clock   leadcycle.Clock

	rebound sync.Map // query with ? → query with $n

	freeMail map[string]bool
	stmts    stmtCache
	// strategiesInTx memoises the matching strategies read in a transaction
	// (*sql.Tx → map[kind][]MatchingStrategy): a capture needs them several
	// times, and they cannot change under it.
	strategiesInTx sync.Map
	// afterCommit holds, per *sql.Tx, what to run once it commits (see
	// onCommit).
	afterCommit sync.Map
	// claims holds the leads being scored when claims live in memory
	// (Dialect.SingleNode): one set for every Store on this database.
	claims inflight
	// tail hands new interactions to the scorer (Dialect.SingleNode).
	tail interactionTail
	// segClaims holds the contacts being evaluated for segments when claims
	// live in memory (Dialect.SingleNode).
	segClaims inflight
	// segReads caches what dynamic segments read (see segmentReads).
	segReads atomic.Pointer[map[string]bool]
	// liveJourneys caches what live journeys need from writes (see
	// liveJourneyIndex).
	liveJourneys atomic.Pointer[journeyIndex]
	// procs keeps compiled business processes.
	procs processCache
	// turns orders this process's write transactions (see writeTurns).
	turns     writeTurns
	writerUse writerUse
	// backgroundReads is held for reading while background workers read
	// (see PauseBackgroundReads).
	backgroundReads sync.RWMutex
	// OnClose runs before the pools are closed (a database's background
	// work stops there).
	OnClose []func() error
}

// SetFreeMailDomains replaces the list of free mail domains (see
// DefaultFreeMailDomains).
func (db *DB) SetFreeMailDomains(domains []string) {
	m := make(map[string]bool, len(domains))
	for _, d := range domains {
		m[strings.ToLower(strings.TrimSpace(d))] = true
	}
	db.freeMail = m
}

// IsFreeMail reports whether domain belongs to a free mail provider.
func (db *DB) IsFreeMail(domain string) bool { return db.freeMail[strings.ToLower(domain)] }

// New wraps open connections.
func New(w, r *sql.DB, d Dialect, clock leadcycle.Clock) *DB {
	if clock == nil {
		clock = leadcycle.SystemClock{}
	}
	db := &DB{W: w, R: r, P: r, Dialect: d, Clock: clock, turns: make(writeTurns, 1)}
	db.SetFreeMailDomains(DefaultFreeMailDomains)
	return db
}

// Q rewrites a query written with "?" placeholders for the dialect.
func (db *DB) Q(query string) string {
	if !db.Dialect.Numbered {
		return query
	}
	if q, ok := db.rebound.Load(query); ok {
		return q.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	db.rebound.Store(query, b.String())
	return b.String()
}

// InTx runs fn in a write transaction, committing when fn returns nil.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	release, err := db.writeTurn(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer release()
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer db.strategiesInTx.Delete(tx)
	defer db.afterCommit.Delete(tx)
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.committed(tx)
	return nil
}

// onCommit runs fn after tx commits (not if it rolls back). Work that
// caches what transactions write uses it to forget what a transaction
// changed only once others can read the change. A transaction is used by
// one goroutine at a time, so registering needs no more than the map's own
// safety.
func (db *DB) onCommit(tx *sql.Tx, fn func()) {
	fns, _ := db.afterCommit.Load(tx)
	list, _ := fns.([]func())
	db.afterCommit.Store(tx, append(list, fn))
}

// committed runs what onCommit registered for tx.
func (db *DB) committed(tx *sql.Tx) {
	if fns, ok := db.afterCommit.LoadAndDelete(tx); ok {
		for _, fn := range fns.([]func()) {
			fn()
		}
	}
}

// InConnTxRetry is InTxRetry on a connection of its own, for work that
// needs the connection itself inside the transaction (Dialect.CopyRows).
func (db *DB) InConnTxRetry(ctx context.Context, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	return db.WithWriter(ctx, func(conn *sql.Conn) error {
		return db.retry(ctx, func() error { return db.inConnTx(ctx, conn, fn) })
	})
}

func (db *DB) inConnTx(ctx context.Context, conn *sql.Conn, fn func(conn *sql.Conn, tx *sql.Tx) error) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer db.strategiesInTx.Delete(tx)
	defer db.afterCommit.Delete(tx)
	if err := fn(conn, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	db.committed(tx)
	return nil
}

// InTxRetry is InTx for work that can run again from the start: a
// transaction the database aborted to break a deadlock is retried, up to
// five times. fn must not change anything outside the transaction that a
// second run would not set again.
func (db *DB) InTxRetry(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return db.retry(ctx, func() error { return db.InTx(ctx, fn) })
}

// retry runs a transaction again, up to five times in all, while the
// database aborts it to break a deadlock.
func (db *DB) retry(ctx context.Context, run func() error) error {
	for attempt := 0; ; attempt++ {
		err := run()
		if err == nil || db.Dialect.IsRetryable == nil || !db.Dialect.IsRetryable(err) || attempt == 4 {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(1+rand.IntN(10<<attempt)) * time.Millisecond):
		}
	}
}

// Ping checks every pool.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.W.PingContext(ctx); err != nil {
		return leadcycle.Errorf(leadcycle.EUnavailable, "database unavailable")
	}
	for _, r := range db.readers() {
		if err := r.PingContext(ctx); err != nil {
			return leadcycle.Errorf(leadcycle.EUnavailable, "database unavailable")
		}
	}
	return nil
}

// Close closes every pool.
func (db *DB) Close() error {
	var err error
	for _, c := range db.OnClose {
		err = errors.Join(err, c())
	}
	err = errors.Join(err, db.W.Close())
	for _, r := range db.readers() {
		err = errors.Join(err, r.Close())
	}
	return err
}

// readers returns the read pools that are not the writer's, each once.
func (db *DB) readers() []*sql.DB {
	var out []*sql.DB
	for _, r := range []*sql.DB{db.R, db.P} {
		if r != nil && r != db.W && !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out
}

// migrationSeeds fill what a migration needs from Go (the default business
// process) in the migration's transaction, by migration version.
var migrationSeeds = map[string]func(ctx context.Context, db *DB, tx *sql.Tx) error{}

// Migrate applies, in order, every migration in dir of fsys ("0001_x.sql"…)
// that has not been applied yet, each in its own transaction.
func (db *DB) Migrate(ctx context.Context, fsys fs.FS, dir string) (applied []string, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if db.Dialect.LockMigrations != nil {
			if err := db.Dialect.LockMigrations(ctx, tx); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	for _, name := range names {
		version := strings.TrimSuffix(name, ".sql")
		body, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			return applied, err
		}
		done := false
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if db.Dialect.LockMigrations != nil {
				if err := db.Dialect.LockMigrations(ctx, tx); err != nil {
					return err
				}
			}
			var n int
			if err := tx.QueryRowContext(ctx, db.Q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if seed := migrationSeeds[version]; seed != nil {
				if err := seed(ctx, db, tx); err != nil {
					return fmt.Errorf("migration %s: %w", name, err)
				}
			}
			done = true
			_, err := tx.ExecContext(ctx, db.Q(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`), version, micros(db.Clock.Now()))
			return err
		})
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, version)
		}
	}
	return applied, nil
}
