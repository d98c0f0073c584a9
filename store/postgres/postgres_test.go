package postgres_test

import (
	"context"
	"database/sql"
	"os"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
	"github.com/leadcycle/leadcycle/store/storetest"
)

func TestStore(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skipf("%s is not set", pgtest.EnvURL)
	}
	storetest.Run(t, func(t *testing.T, clock leadcycle.Clock) leadcycle.Store { return pgtest.Open(t, clock) })
}

// TestSchemaIsolation checks that stores opened by pgtest do not share rows
// and that their schemas are dropped afterwards.
func TestSchemaIsolation(t *testing.T) {
	base := os.Getenv(pgtest.EnvURL)
	if base == "" {
		t.Skipf("%s is not set", pgtest.EnvURL)
	}
	var schemas []string
	t.Run("stores", func(t *testing.T) {
		ctx := t.Context()
		a := pgtest.Open(t, leadcycle.NewFixedClock(storetest.Epoch))
		b := pgtest.Open(t, leadcycle.NewFixedClock(storetest.Epoch))
		storetest.MustCreateContact(t, ctx, a, &leadcycle.Contact{Email: "a@example.org"})
		for name, s := range map[string]leadcycle.Store{"a": a, "b": b} {
			p, err := s.Contacts().List(ctx, leadcycle.ListQuery{})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"a": 1, "b": 0}[name]
			if len(p.Items) != want {
				t.Errorf("store %s has %d contacts, want %d", name, len(p.Items), want)
			}
		}
		for _, s := range []interface{ Ping(context.Context) error }{a, b} {
			if err := s.Ping(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for _, db := range []*sql.DB{a.W, b.W} {
			var schema string
			if err := db.QueryRowContext(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
				t.Fatal(err)
			}
			schemas = append(schemas, schema)
		}
		if schemas[0] == schemas[1] || schemas[0] == "public" || schemas[0] == "" {
			t.Errorf("schemas %q: want two distinct fresh schemas", schemas)
		}
	})
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, s := range schemas {
		var n int
		if err := db.QueryRowContext(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", s).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("schema %s still exists after the test", s)
		}
	}
}

// TestScorerRoundsHoldFiveHundred checks the round size PostgreSQL's scorer
// asks for (see RoundSize in store/sqldb/scorer.go).
func TestScorerRoundsHoldFiveHundred(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skipf("%s is not set", pgtest.EnvURL)
	}
	s := pgtest.Open(t, leadcycle.NewFixedClock(storetest.Epoch))
	rs, ok := s.Scoring().(scoring.RoundSizer)
	if !ok || rs.RoundSize() != 500 {
		t.Fatalf("PostgreSQL's scorer suggests no rounds of 500 (%T)", s.Scoring())
	}
}

// TestWriterUseStaysZero checks that PostgreSQL, whose transactions take no
// turns, reports no writer use.
func TestWriterUseStaysZero(t *testing.T) {
	if os.Getenv(pgtest.EnvURL) == "" {
		t.Skipf("%s is not set", pgtest.EnvURL)
	}
	s := pgtest.Open(t, leadcycle.NewFixedClock(storetest.Epoch))
	storetest.MustCreateContact(t, t.Context(), s, &leadcycle.Contact{Email: "turns@example.gal"})
	if turns, waited, held := s.WriterUse(); turns != 0 || waited != 0 || held != 0 {
		t.Fatalf("WriterUse = %d, %v, %v; want zeros", turns, waited, held)
	}
}
