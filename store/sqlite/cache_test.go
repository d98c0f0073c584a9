package sqlite_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// TestBigTransactionsKeepTheirPagesUntilCommit dirties many times the
// writer's cache of clean pages in one transaction and checks that nothing
// reached the WAL before the commit: a transaction that spills its pages
// early writes them again (see dsn).
func TestBigTransactionsKeepTheirPagesUntilCommit(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	s := mustOpen(t, dir, leadcycle.SystemClock{})
	defer s.Close()
	wal := filepath.Join(dir, sqlite.FileName+"-wal")
	walSize := func() int64 {
		st, err := os.Stat(wal)
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	const rows, rowBytes = 1500, 4000 // ~6 MB: three times the cache
	err := s.DB.WithWriter(ctx, func(conn *sql.Conn) error {
		if _, err := conn.ExecContext(ctx, "CREATE TABLE spill_probe (b BLOB)"); err != nil {
			return err
		}
		before := walSize()
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		for range rows {
			if _, err := tx.ExecContext(ctx, "INSERT INTO spill_probe (b) VALUES (randomblob(?))", rowBytes); err != nil {
				return err
			}
		}
		if grown := walSize() - before; grown > 0 {
			t.Errorf("the WAL grew by %d bytes before the commit: the transaction spilled its pages", grown)
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		if grown := walSize() - before; grown < rows*rowBytes {
			t.Errorf("the WAL grew by %d bytes at the commit, want at least %d", grown, rows*rowBytes)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
