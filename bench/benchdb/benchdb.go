// Package benchdb opens throwaway databases for the benchmark programs.
package benchdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// OpenPostgres opens a store in a fresh schema of the database at url and
// returns it with a function that closes it and drops the schema.
func OpenPostgres(ctx context.Context, url string) (*sqldb.Store, func(), error) {
	admin, err := sql.Open("pgx", url)
	if err != nil {
		return nil, nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "lc_bench_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, nil, fmt.Errorf("create schema: %w", err)
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	st, err := postgres.Open(ctx, url+sep+"search_path="+schema, nil)
	if err != nil {
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
		return nil, nil, err
	}
	return st, func() {
		st.Close()
		admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}, nil
}

// OpenSQLite opens a store in dir, or in a new temporary directory when
// dir is "", and returns it with a function that closes it (and removes the
// temporary directory).
func OpenSQLite(ctx context.Context, dir string) (*sqldb.Store, func(), error) {
	remove := func() {}
	if dir == "" {
		tmp, err := os.MkdirTemp("", "leadcycle-bench")
		if err != nil {
			return nil, nil, err
		}
		dir, remove = tmp, func() { os.RemoveAll(tmp) }
	}
	st, err := sqlite.Open(ctx, dir, nil)
	if err != nil {
		remove()
		return nil, nil, err
	}
	return st, func() { st.Close(); remove() }, nil
}
