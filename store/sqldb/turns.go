package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// A single-writer database (Dialect.SingleNode) has one connection that
// writes. database/sql hands a freed connection to a random waiter, so under
// load a writer could wait behind any number of later ones (the scorer's
// rounds waited behind batch after batch of new interactions). writeTurns
// makes the writers of this process take turns in the order they came: it
// holds one token, and goroutines blocked sending on a channel are served
// first come, first served.
type writeTurns chan struct{}

// writerUse adds up the turns taken on a single-writer database: how many,
// how long their takers waited for them and how long they held them. The
// one writer is the limit of an SQLite deployment, so its share of the
// time held is the figure that says how close to that limit a load is.
// Durations are read from the monotonic clock, not DB.Clock: they measure
// this process, not the data.
type writerUse struct {
	turns, waitedNanos, heldNanos atomic.Int64
}

// WriterUse reports the turns to write taken since the database was opened,
// the total time spent waiting for them and the total time they were held.
// A database with many writers (PostgreSQL) takes no turns and reports
// zeros.
func (db *DB) WriterUse() (turns int64, waited, held time.Duration) {
	u := &db.writerUse
	return u.turns.Load(), time.Duration(u.waitedNanos.Load()), time.Duration(u.heldNanos.Load())
}

// writeTurn waits for the caller's turn to write on a single-writer
// database, or for ctx to end; elsewhere transactions need none.
func (db *DB) writeTurn(ctx context.Context) (release func(), err error) {
	if !db.Dialect.SingleNode {
		return func() {}, nil
	}
	asked := time.Now()
	select {
	case db.turns <- struct{}{}:
		taken := time.Now()
		u := &db.writerUse
		u.turns.Add(1)
		u.waitedNanos.Add(int64(taken.Sub(asked)))
		return func() {
			u.heldNanos.Add(int64(time.Since(taken)))
			<-db.turns
		}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WithWriter runs fn on a connection of the writer pool once it is the
// caller's turn to write (see writeTurn), for work that needs the
// connection itself: a bulk load takes a turn for each of its
// transactions, so that other writers, and the checkpointer's pauses, come
// in between.
func (db *DB) WithWriter(ctx context.Context, fn func(conn *sql.Conn) error) error {
	release, err := db.writeTurn(ctx)
	if err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	defer release()
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("connection: %w", err)
	}
	defer conn.Close()
	return fn(conn)
}

// PauseWrites runs fn while no transaction of this process writes to a
// single-writer database (Dialect.SingleNode): it takes
// its turn behind the transactions already waiting and holds the writer's
// connection until fn returns. The SQLite checkpointer restarts the WAL this
// way, so that it neither waits behind a queue of writers nor races them
// for the write lock.
func (db *DB) PauseWrites(ctx context.Context, fn func() error) error {
	return db.WithWriter(ctx, func(*sql.Conn) error { return fn() })
}

// backgroundRead marks the start of a background worker's reads (a scoring
// round's); the returned function marks their end and may be called more
// than once.
func (db *DB) backgroundRead() (done func()) {
	db.backgroundReads.RLock()
	return sync.OnceFunc(db.backgroundReads.RUnlock)
}

// PauseBackgroundReads runs fn once the background workers' reads in
// progress have ended, and holds back new ones until it returns. An SQLite
// WAL can start again from its beginning only when no reader uses an older
// snapshot, and the scorer's rounds read almost all the time.
func (db *DB) PauseBackgroundReads(fn func() error) error {
	db.backgroundReads.Lock()
	defer db.backgroundReads.Unlock()
	return fn()
}
