package sqlite_test

import (
	"testing"

	"github.com/leadcycle/leadcycle"
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
