package sqldb

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements per pool and query. SQLite parses a
// statement on every prepare, which costs more than running a small query;
// PostgreSQL's driver already caches statements per connection.
type stmtCache struct {
	mu       sync.Mutex
	stmts    map[stmtKey]*sql.Stmt
	inflight map[stmtKey]bool
}

type stmtKey struct {
	pool  *sql.DB
	query string
}

func (db *DB) prepared(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	key := stmtKey{pool, query}
	db.stmts.mu.Lock()
	st, ok := db.stmts.stmts[key]
	db.stmts.mu.Unlock()
	if ok {
		return st, nil
	}
	st, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	db.stmts.mu.Lock()
	defer db.stmts.mu.Unlock()
	if old, ok := db.stmts.stmts[key]; ok {
		st.Close()
		return old, nil
	}
	if db.stmts.stmts == nil {
		db.stmts.stmts = map[stmtKey]*sql.Stmt{}
	}
	db.stmts.stmts[key] = st
	return st, nil
}

// stmtFor returns a cached statement bound to q (a transaction of the writer
// or a pool), or nil when statements are not cached for this database.
func (db *DB) stmtFor(ctx context.Context, q querier, query string) *sql.Stmt {
	if !db.Dialect.CacheStatements {
		return nil
	}
	switch x := q.(type) {
	case *sql.Tx:
		// The transaction holds the writer's only connection, so a statement
		// seen for the first time is prepared in the background, once the
		// connection is free; later transactions reuse it.
		key := stmtKey{db.W, query}
		db.stmts.mu.Lock()
		st, ok := db.stmts.stmts[key]
		if !ok && !db.stmts.inflight[key] {
			if db.stmts.inflight == nil {
				db.stmts.inflight = map[stmtKey]bool{}
			}
			db.stmts.inflight[key] = true
			go db.prepared(context.Background(), db.W, query)
		}
		db.stmts.mu.Unlock()
		if ok {
			return x.StmtContext(ctx, st)
		}
	case *sql.DB:
		if st, err := db.prepared(ctx, x, query); err == nil {
			return st
		}
	}
	return nil
}

// QueryRowQ runs a one-row query written with "?" placeholders on q.
func (db *DB) QueryRowQ(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	query = db.Q(query)
	if st := db.stmtFor(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// QueryQ runs a query written with "?" placeholders on q.
func (db *DB) QueryQ(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	query = db.Q(query)
	if st := db.stmtFor(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

// ExecQ runs a statement written with "?" placeholders on q.
func (db *DB) ExecQ(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	query = db.Q(query)
	if st := db.stmtFor(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}
