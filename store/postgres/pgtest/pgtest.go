// Package pgtest gives tests their own PostgreSQL schema. Tests run only when
// LEADCYCLE_TEST_POSTGRES holds a database URL; each store lives in a fresh
// schema lc_test_<random hex>, dropped when the test ends, so that tests and
// parallel runs never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

// EnvURL names the environment variable holding the test database's URL.
const EnvURL = "LEADCYCLE_TEST_POSTGRES"

// URL creates a fresh schema and returns the database URL with search_path set
// to it. The schema is dropped, with everything in it, in t.Cleanup; close
// what uses the URL in a cleanup registered after calling URL. The test is
// skipped when LEADCYCLE_TEST_POSTGRES is not set.
func URL(t *testing.T) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	if base == "" {
		t.Skipf("%s is not set", EnvURL)
	}
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	schema := "lc_test_" + hex.EncodeToString(b)
	if err := exec(base, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := exec(base, "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	u, err := WithSearchPath(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// Open opens a migrated store in a fresh schema, closed and dropped in
// t.Cleanup.
func Open(t *testing.T, clock leadcycle.Clock) *sqldb.Store {
	t.Helper()
	u := URL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := postgres.Open(ctx, u, clock)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close postgres store: %v", err)
		}
	})
	return s
}

// WithSearchPath returns the connection string with search_path set to
// schema. URLs get it as a query parameter (pgx sends unknown parameters to
// the server as runtime parameters); keyword/value strings get a keyword.
func WithSearchPath(conn, schema string) (string, error) {
	if !strings.HasPrefix(conn, "postgres://") && !strings.HasPrefix(conn, "postgresql://") {
		return strings.TrimSpace(conn) + " search_path=" + schema, nil
	}
	u, err := url.Parse(conn)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// exec runs one statement on its own short-lived connection.
func exec(conn, stmt string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := sql.Open("pgx", conn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		return fmt.Errorf("%s: %w", stmt, err)
	}
	return nil
}
