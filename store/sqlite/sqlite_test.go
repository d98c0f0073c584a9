package sqlite_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// open returns a fresh store in its own temporary directory.
func open(t *testing.T, clock leadcycle.Clock) leadcycle.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), t.TempDir(), clock)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, open)
}

// TestLeadIndexHoldsOnlyInteractionsWithALead: most interactions name no
// lead, so interactions_lead is partial (an entry per new interaction for
// nothing cost the writer), and deleting a lead, whose foreign key clears
// the interactions' lead_id, still finds them through it instead of
// scanning every interaction.
func TestLeadIndexHoldsOnlyInteractionsWithALead(t *testing.T) {
	s := mustOpen(t, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	defer s.Close()
	if partial := queryInt(t, s, "SELECT partial FROM pragma_index_list('interactions') WHERE name = 'interactions_lead'"); partial != 1 {
		t.Errorf("interactions_lead partial = %d, want 1 (WHERE lead_id IS NOT NULL)", partial)
	}
	var id, parent, notused int64
	var plan string
	if err := s.R.QueryRowContext(t.Context(), "EXPLAIN QUERY PLAN UPDATE interactions SET lead_id = NULL WHERE lead_id = ?", 1).Scan(&id, &parent, &notused, &plan); err != nil {
		t.Fatal(err)
	}
	if plan != "SEARCH interactions USING COVERING INDEX interactions_lead (lead_id=?)" {
		t.Errorf("a lead's delete clears its interactions with plan %q, want a search of interactions_lead", plan)
	}
}

// TestConnectionsHaveTheirSettings checks the pragmas of both pools with
// whichever driver the build links (cgo or not): the writer and the readers
// each set theirs when a connection opens, and readers cannot write.
func TestConnectionsHaveTheirSettings(t *testing.T) {
	s := mustOpen(t, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	defer s.Close()
	pragma := func(db *sql.DB, name string) string {
		t.Helper()
		var v string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
			t.Fatalf("PRAGMA %s: %v", name, err)
		}
		return v
	}
	pointMmap := "0" // see pointReads in sqlite.go
	if sqlite.SharedMapping {
		pointMmap = "2147418112"
	}
	for _, c := range []struct {
		pool, name string
		db         *sql.DB
		want       string
	}{
		{"writer", "page_size", s.W, "2048"},
		{"reader", "page_size", s.R, "2048"},
		{"writer", "journal_mode", s.W, "wal"},
		{"writer", "foreign_keys", s.W, "1"},
		{"writer", "synchronous", s.W, "1"},
		{"writer", "wal_autocheckpoint", s.W, "0"},
		{"writer", "busy_timeout", s.W, "10000"},
		{"writer", "cache_size", s.W, "-2048"},
		{"writer", "query_only", s.W, "0"},
		{"reader", "foreign_keys", s.R, "1"},
		{"reader", "cache_size", s.R, "-32000"},
		{"reader", "query_only", s.R, "1"},
		{"reader", "temp_store", s.R, "2"},
		{"writer", "mmap_size", s.W, "2147418112"},
		{"reader", "mmap_size", s.R, "2147418112"},
		{"point reader", "mmap_size", s.P, pointMmap},
		{"point reader", "page_size", s.P, "2048"},
		{"point reader", "foreign_keys", s.P, "1"},
		{"point reader", "cache_size", s.P, "-32000"},
		{"point reader", "query_only", s.P, "1"},
		{"point reader", "busy_timeout", s.P, "10000"},
	} {
		if got := pragma(c.db, c.name); got != c.want {
			t.Errorf("%s %s = %s, want %s (driver %s)", c.pool, c.name, got, c.want, sqlite.Driver)
		}
	}
	for _, r := range []*sql.DB{s.R, s.P} {
		if _, err := r.ExecContext(t.Context(), "UPDATE score_tail SET position = position"); err == nil {
			t.Errorf("a reader wrote (driver %s)", sqlite.Driver)
		}
	}
	if s.P == s.R {
		t.Error("the point reads share the mapped readers' pool")
	}
}

// TestScorerRoundsHoldAThousand checks the round size SQLite's scorer asks
// for (see RoundSize in store/sqldb/scorer.go).
func TestScorerRoundsHoldAThousand(t *testing.T) {
	s := open(t, leadcycle.NewFixedClock(storetest.Epoch))
	rs, ok := s.Scoring().(scoring.RoundSizer)
	if !ok || rs.RoundSize() != 1000 {
		t.Fatalf("SQLite's scorer suggests no rounds of 1000 (%T)", s.Scoring())
	}
}

// TestWriterUseAddsUpTurns checks that the one writer counts its turns and
// how long they were held and waited for: two transactions hold it 30 ms
// each, the second asking for its turn while the first holds it.
func TestWriterUseAddsUpTurns(t *testing.T) {
	s := mustOpen(t, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	t.Cleanup(func() { s.Close() })
	turns0, waited0, held0 := s.WriterUse()
	const hold = 30 * time.Millisecond
	second := make(chan error, 1)
	err := s.InTx(t.Context(), func(*sql.Tx) error {
		go func() { second <- s.InTx(t.Context(), func(*sql.Tx) error { time.Sleep(hold); return nil }) }()
		time.Sleep(hold)
		return nil
	})
	if err := errors.Join(err, <-second); err != nil {
		t.Fatal(err)
	}
	turns, waited, held := s.WriterUse()
	if turns-turns0 != 2 {
		t.Errorf("turns grew by %d, want 2", turns-turns0)
	}
	if held-held0 < 2*hold {
		t.Errorf("held grew by %v, want at least %v", held-held0, 2*hold)
	}
	if waited <= waited0 {
		t.Errorf("waited stayed at %v after a transaction waited for its turn", waited)
	}
}
