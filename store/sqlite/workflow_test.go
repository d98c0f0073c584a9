package sqlite_test

import (
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// TestFailingReactionIsSetAside breaks one lead's process behind the store's
// back: its event is set aside with the error, and the events after it are
// still handled.
func TestFailingReactionIsSetAside(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	broken := storetest.MustCreateProcess(t, ctx, s, "Broken later", "inquiry", "sales_acceptance")
	c := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "a@example.gal"})
	first := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "First", ContactID: &c.ID, ProcessID: &broken.ID})
	second := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Second", ContactID: &c.ID})
	for _, l := range []*leadcycle.Lead{first, second} {
		storetest.MustUpdate(t, ctx, s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
	}
	// Drain what the updates wrote before the first sales-ready event.
	if _, err := s.W.ExecContext(ctx, "UPDATE outbox SET workflow_pending = 0 WHERE type <> 'lead.sales_ready'"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.W.ExecContext(ctx, `UPDATE processes SET stages = '[{"key": "inquiry", "name": ""}]', updated_at = updated_at + 1 WHERE id = ?`, int64(broken.ID)); err != nil {
		t.Fatal(err)
	}
	n, err := s.Workflow().HandleEvents(ctx, 100)
	if err == nil || !strings.Contains(err.Error(), "process") {
		t.Fatalf("handling the broken lead's event: %d, %v; want its error", n, err)
	}
	if n, err := s.Workflow().HandleEvents(ctx, 100); err != nil || n != 1 {
		t.Fatalf("the event after it: %d handled, %v", n, err)
	}
	tasks := storetest.MustList(t, ctx, s.Tasks(), leadcycle.ListQuery{Sort: "created_at", Filters: []leadcycle.Filter{{Columns: []string{"queue"}, Op: leadcycle.OpEq, Value: "sales"}}})
	if len(tasks) != 1 || *tasks[0].LeadID != second.ID {
		t.Errorf("sales tasks: %+v, want one for the second lead", tasks)
	}
	evs, err := s.Workflow().Events(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	setAside := 0
	for _, ev := range evs {
		if ev.WorkflowError != "" {
			setAside++
			if ev.LeadID == nil || *ev.LeadID != first.ID {
				t.Errorf("set aside: %+v", ev)
			}
		}
	}
	if setAside != 1 {
		t.Errorf("%d events set aside, want 1", setAside)
	}
	var pending int
	s.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE workflow_pending = 1").Scan(&pending)
	if pending != 0 {
		t.Errorf("%d events still pending", pending)
	}
}
