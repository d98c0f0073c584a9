package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// The business process (SPEC §5) through the store: where new leads start,
// the automatic and manual paths between the stages of the default process,
// qualification, disqualification, reactivation, the task queues and the
// outbox consumer, exactly once with two nodes.

// nodePair returns the store and a second node on the same database (the
// store itself when it has no siblings).
func nodePair(e *env) [2]leadcycle.Store {
	if sib, ok := e.s.(interface{ Sibling() leadcycle.Store }); ok {
		return [2]leadcycle.Store{e.s, sib.Sibling()}
	}
	return [2]leadcycle.Store{e.s, e.s}
}

// onTwoNodes runs work on both nodes concurrently, each in a loop until it
// returns 0, and returns the sum of what they returned.
func onTwoNodes(t *testing.T, e *env, work func(node leadcycle.Store) (int, error)) int {
	t.Helper()
	var (
		wg     sync.WaitGroup
		totals [2]int
		errs   [2]error
	)
	start := make(chan struct{})
	for i, node := range nodePair(e) {
		wg.Go(func() {
			<-start
			for range 10_000 {
				n, err := work(node)
				if err != nil {
					errs[i] = err
					return
				}
				if n == 0 {
					return
				}
				totals[i] += n
			}
			errs[i] = fmt.Errorf("node %d still had work after 10000 rounds", i)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("node %d: %v", i, err)
		}
	}
	return totals[0] + totals[1]
}

// mustHandleEvents runs the outbox consumer until nothing is pending and
// returns how many events it handled.
func mustHandleEvents(tb testing.TB, e *env) int {
	tb.Helper()
	total := 0
	for range 1000 {
		n, err := e.s.Workflow().HandleEvents(e.ctx, 100)
		if err != nil {
			tb.Fatalf("handle events: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
	tb.Fatal("HandleEvents still had work after 1000 rounds")
	return total
}

// timelineOf returns a lead's whole timeline, oldest first, following the
// cursors of pages of three.
func timelineOf(tb testing.TB, e *env, leadID leadcycle.ID) []leadcycle.TimelineEntry {
	tb.Helper()
	var all []leadcycle.TimelineEntry
	q := leadcycle.ListQuery{Limit: 3}
	for range 1000 {
		p, err := e.s.Workflow().Timeline(e.ctx, leadID, q)
		if err != nil {
			tb.Fatalf("timeline of lead %s: %v", leadID, err)
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			break
		}
		if len(p.Items) != 3 {
			tb.Fatalf("timeline page with a cursor has %d entries, want 3", len(p.Items))
		}
		q.Cursor = p.NextCursor
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			tb.Fatalf("timeline is not newest first: entry %s after %s", all[i].ID, all[i-1].ID)
		}
	}
	slices.Reverse(all)
	return all
}

// stageChange is a stage_changed timeline entry, reduced.
type stageChange struct{ From, To string }

// stageChangesOf returns the stage changes on a lead's timeline, oldest
// first, and the entries themselves.
func stageChangesOf(tb testing.TB, e *env, leadID leadcycle.ID) ([]stageChange, []leadcycle.TimelineEntry) {
	tb.Helper()
	var out []stageChange
	var entries []leadcycle.TimelineEntry
	for _, en := range timelineOf(tb, e, leadID) {
		if en.Kind == leadcycle.TimelineStageChanged {
			out = append(out, stageChange{en.From, en.To})
			entries = append(entries, en)
		}
	}
	return out, entries
}

// entriesOf returns the timeline entries of a kind, oldest first.
func entriesOf(tb testing.TB, e *env, leadID leadcycle.ID, kind string) []leadcycle.TimelineEntry {
	tb.Helper()
	var out []leadcycle.TimelineEntry
	for _, en := range timelineOf(tb, e, leadID) {
		if en.Kind == kind {
			out = append(out, en)
		}
	}
	return out
}

// tasksOf lists a lead's tasks, oldest first.
func tasksOf(tb testing.TB, e *env, leadID leadcycle.ID) []leadcycle.Task {
	tb.Helper()
	return MustList(tb, e.ctx, e.s.Tasks(), leadcycle.ListQuery{Sort: "created_at", Filters: []leadcycle.Filter{eqFilter("lead_id", leadID)}})
}

// allEvents returns the whole outbox, oldest first.
func allEvents(tb testing.TB, e *env) []leadcycle.Occurrence {
	tb.Helper()
	var all []leadcycle.Occurrence
	var after leadcycle.ID
	for range 1000 {
		evs, err := e.s.Workflow().Events(e.ctx, after, 7)
		if err != nil {
			tb.Fatalf("events: %v", err)
		}
		if len(evs) == 0 {
			return all
		}
		for _, ev := range evs {
			if ev.ID <= after {
				tb.Fatalf("events out of order: %s after %s", ev.ID, after)
			}
			after = ev.ID
		}
		all = append(all, evs...)
	}
	tb.Fatal("more than 1000 pages of events")
	return nil
}

// eventsOf returns the outbox events of the lead with the type, oldest first.
func eventsOf(tb testing.TB, e *env, leadID leadcycle.ID, typ string) []leadcycle.Occurrence {
	tb.Helper()
	var out []leadcycle.Occurrence
	for _, ev := range allEvents(tb, e) {
		if ev.Type == typ && ev.LeadID != nil && *ev.LeadID == leadID {
			out = append(out, ev)
		}
	}
	return out
}

// wantStage checks a lead's process, stage and status as Get returns them.
func wantStage(tb testing.TB, e *env, leadID, processID leadcycle.ID, stage string) *leadcycle.Lead {
	tb.Helper()
	l := MustGet(tb, e.ctx, e.s.Leads(), leadID)
	if l.ProcessID == nil || *l.ProcessID != processID || l.Stage != stage {
		tb.Errorf("lead %s is in process %v stage %q, want process %s stage %q", leadID, l.ProcessID, l.Stage, processID, stage)
	}
	return l
}

// wantReason checks that a timeline entry's reason mentions every part.
func wantReason(tb testing.TB, what string, en leadcycle.TimelineEntry, parts ...string) {
	tb.Helper()
	for _, p := range parts {
		if !strings.Contains(en.Reason, p) {
			tb.Errorf("%s: reason %q does not mention %q", what, en.Reason, p)
		}
	}
}

// mustUser creates an active user.
func mustUser(tb testing.TB, e *env, name, role string) *leadcycle.User {
	tb.Helper()
	return MustCreate(tb, e.ctx, e.s.Users(), &leadcycle.User{Name: name, Email: strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@leadcycle.example", Role: role, Active: true})
}

// markTelesalesReady ticks telesales ready by hand and checks that the lead
// reached telesales acceptance synchronously.
func markTelesalesReady(t *testing.T, e *env, l *leadcycle.Lead) {
	t.Helper()
	got := MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.TelesalesReady = true; return nil })
	if got.Stage != leadcycle.StageTelesalesAcceptance {
		t.Errorf("Update setting telesales_ready returned stage %q, want %q", got.Stage, leadcycle.StageTelesalesAcceptance)
	}
	if l := MustGet(t, e.ctx, e.s.Leads(), l.ID); l.Stage != leadcycle.StageTelesalesAcceptance || !l.TelesalesReady {
		t.Errorf("right after the update (before HandleEvents) the lead is at %q, telesales ready %v; want %q, true", l.Stage, l.TelesalesReady, leadcycle.StageTelesalesAcceptance)
	}
}

// pingModel scores 10 points for each custom:ping interaction of the lead's
// contact and marks it sales ready at 10.
func pingModel() *leadcycle.ScoringModel {
	return &leadcycle.ScoringModel{
		Name: "Pings", Key: "pings",
		Rules:               []leadcycle.ScoringRule{{Name: "Ping", Points: 10, Behaviors: []leadcycle.Behavior{{Type: "custom:ping", Frequency: leadcycle.FrequencyEachTime}}}},
		SalesReadyThreshold: ptr[int64](10),
	}
}

// wantSalesTask checks that the lead has exactly one sales task, an open,
// unassigned acceptance task due 48 hours (the sales queue's default) after
// created, and returns it.
func wantSalesTask(t *testing.T, e *env, l *leadcycle.Lead, created time.Time) *leadcycle.Task {
	t.Helper()
	var sales []leadcycle.Task
	for _, task := range tasksOf(t, e, l.ID) {
		if task.Queue == "sales" {
			sales = append(sales, task)
		}
	}
	if len(sales) != 1 {
		t.Fatalf("lead %s has %d sales tasks, want 1: %+v", l.ID, len(sales), sales)
	}
	task := sales[0]
	due := created.Add(48 * time.Hour)
	if task.Kind != "accept" || task.Status != "open" || task.AssigneeID != nil || task.DueAt == nil || !task.DueAt.Equal(due) ||
		!sameIDPtr(task.LeadID, &l.ID) || !sameIDPtr(task.ContactID, l.ContactID) {
		t.Errorf("sales task: %+v; want an open, unassigned accept task of lead %s and contact %v due %s", task, l.ID, l.ContactID, due)
	}
	return &task
}

func sameIDPtr(a, b *leadcycle.ID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func idStr(p *leadcycle.ID) string {
	if p == nil {
		return "<nil>"
	}
	return p.String()
}

// processPaths are the paths of SPEC §5 through the default process, each
// on its own store.
var processPaths = []test{
	{"path_scoring_to_sales_acceptance", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "hot@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Hot", ContactID: &c.ID})
		m := MustPublishModel(t, e.ctx, e.s, pingModel())
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 0, "")
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); got.SalesReady {
			t.Fatal("the lead is sales ready before reaching the threshold")
		}
		e.clock.Advance(time.Minute)
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "custom:ping", ContactID: c.ID})
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 10, "")
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); !got.SalesReady {
			t.Fatal("the lead reached the threshold but is not sales ready")
		}
		handledAt := e.clock.Now()
		if n := mustHandleEvents(t, e); n != 2 {
			t.Errorf("HandleEvents handled %d events, want 2 (lead.scored, lead.sales_ready)", n)
		}
		if n := mustHandleEvents(t, e); n != 0 {
			t.Errorf("a second HandleEvents handled %d events, want 0", n)
		}
		got := wantStage(t, e, l.ID, def, leadcycle.StageSalesAcceptance)
		if !got.SalesReady || got.TelesalesReady || got.TelesalesAccepted || got.SalesAccepted || got.Status != leadcycle.LeadOpen {
			t.Errorf("lead after scoring: %+v; want open and sales ready only", got)
		}
		changes, entries := stageChangesOf(t, e, l.ID)
		if !diff(t, "stage changes", []stageChange{
			{leadcycle.StageInquiry, leadcycle.StageMarketingQualification},
			{leadcycle.StageMarketingQualification, leadcycle.StageSalesAcceptance},
		}, changes) {
			return
		}
		wantReason(t, "inquiry → automated marketing qualification", entries[0], leadcycle.TriggerLeadScored, `"Scored"`)
		wantReason(t, "→ sales acceptance", entries[1], leadcycle.TriggerSalesReady, `"Sales ready"`)
		for _, en := range entries {
			if !strings.Contains(en.Actor, "scoring model pings v1") || !en.At.Equal(handledAt) || en.ProcessID == nil || *en.ProcessID != def {
				t.Errorf("stage change by the scorer: %+v; want actor the scoring model, at %s, in process %s", en, handledAt, def)
			}
		}
		wantSalesTask(t, e, l, handledAt)
		if n := len(tasksOf(t, e, l.ID)); n != 1 {
			t.Errorf("the lead has %d tasks, want only the sales one (no telesales call)", n)
		}
		for typ, want := range map[string]int{leadcycle.EventLeadScored: 1, leadcycle.EventLeadSalesReady: 1, leadcycle.EventLeadStageChanged: 2, leadcycle.EventTaskCreated: 1, leadcycle.EventLeadTelesalesReady: 0} {
			if n := len(eventsOf(t, e, l.ID, typ)); n != want {
				t.Errorf("%d %s events, want %d", n, typ, want)
			}
		}
	}},
	{"path_telesales", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		u1 := mustUser(t, e, "Tele One", leadcycle.RoleTelesales)
		MustCreate(t, e.ctx, e.s.Users(), &leadcycle.User{Name: "Tele Away", Email: "away@leadcycle.example", Role: leadcycle.RoleTelesales, Active: false})
		mustUser(t, e, "Sales One", leadcycle.RoleSales)
		u2 := mustUser(t, e, "Tele Two", leadcycle.RoleTelesales)
		var leads []*leadcycle.Lead
		for i := range 3 {
			c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: fmt.Sprintf("call%d@example.org", i)})
			leads = append(leads, MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprint("Call ", i), ContactID: &c.ID}))
		}
		e.clock.Advance(time.Minute)
		for _, l := range leads {
			markTelesalesReady(t, e, l)
		}
		changes, entries := stageChangesOf(t, e, leads[0].ID)
		if diff(t, "stage changes on telesales ready", []stageChange{{leadcycle.StageInquiry, leadcycle.StageTelesalesAcceptance}}, changes) {
			wantReason(t, "inquiry → telesales acceptance", entries[0], leadcycle.TriggerTelesalesReady)
		}
		flags := entriesOf(t, e, leads[0].ID, leadcycle.TimelineFlagChanged)
		if len(flags) != 1 || flags[0].From != "not telesales_ready" || flags[0].To != "telesales_ready" {
			t.Errorf("flag changes: %+v, want one to telesales_ready", flags)
		}
		if n := len(tasksOf(t, e, leads[0].ID)); n != 0 {
			t.Errorf("%d tasks before HandleEvents, want 0", n)
		}

		e.clock.Advance(time.Minute)
		handledAt := e.clock.Now()
		mustHandleEvents(t, e)
		wantAssignees := []leadcycle.ID{u1.ID, u2.ID, u1.ID}
		for i, l := range leads {
			tasks := tasksOf(t, e, l.ID)
			if len(tasks) != 1 {
				t.Fatalf("lead %d has %d tasks after HandleEvents, want one call: %+v", i, len(tasks), tasks)
			}
			task := tasks[0]
			due := handledAt.Add(24 * time.Hour)
			if task.Queue != "telesales" || task.Kind != "call" || task.Status != "open" || !sameIDPtr(task.AssigneeID, &wantAssignees[i]) ||
				task.DueAt == nil || !task.DueAt.Equal(due) || !sameIDPtr(task.ContactID, l.ContactID) {
				t.Errorf("lead %d task: %+v; want an open telesales call assigned to %s, due %s", i, task, wantAssignees[i], due)
			}
			wantStage(t, e, l.ID, def, leadcycle.StageTelesalesAcceptance)
		}
		queues, err := e.s.Workflow().Queues(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(queues) != 2 || queues[0].Key != "telesales" || !sameIDPtr(queues[0].LastAssigneeID, &u1.ID) {
			t.Errorf("queues after three round-robin assignments: %+v; want telesales with last assignee %s", queues, u1.ID)
		}
		if n := mustHandleEvents(t, e); n != 0 {
			t.Errorf("HandleEvents handled %d events again", n)
		}
		if n := len(tasksOf(t, e, leads[0].ID)); n != 1 {
			t.Errorf("%d tasks after a second HandleEvents, want still 1", n)
		}

		// The operator accepts the lead: on to telesales qualification.
		l := leads[0]
		got := MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.TelesalesAccepted = true; return nil })
		if got.Stage != leadcycle.StageTelesalesQualification {
			t.Errorf("after telesales accepted: stage %q, want %q", got.Stage, leadcycle.StageTelesalesQualification)
		}
		wantStage(t, e, l.ID, def, leadcycle.StageTelesalesQualification)
		// Completing the qualification needs sales ready.
		_, err = e.s.Workflow().CompleteStage(e.ctx, l.ID)
		wantErr(t, err, leadcycle.EInvalid, "lead.sales_ready")
		wantStage(t, e, l.ID, def, leadcycle.StageTelesalesQualification)
		// The operator records the call and ticks sales ready.
		got = MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error {
			l.PurchaseTimeframe, l.PurchaseProcess, l.Need = "this_quarter", "committee", "must_have"
			l.BudgetAmount, l.Description = ptr(50000.0), "Wants 40 seats"
			l.SalesReady = true
			return nil
		})
		if got.Stage != leadcycle.StageSalesAcceptance {
			t.Errorf("after sales ready: stage %q, want %q", got.Stage, leadcycle.StageSalesAcceptance)
		}
		got = wantStage(t, e, l.ID, def, leadcycle.StageSalesAcceptance)
		if got.PurchaseTimeframe != "this_quarter" || got.PurchaseProcess != "committee" || got.Need != "must_have" || got.BudgetAmount == nil || *got.BudgetAmount != 50000 || got.Description != "Wants 40 seats" {
			t.Errorf("qualification fields not kept: %+v", got)
		}
		changes, _ = stageChangesOf(t, e, l.ID)
		diff(t, "stage changes of the telesales path", []stageChange{
			{leadcycle.StageInquiry, leadcycle.StageTelesalesAcceptance},
			{leadcycle.StageTelesalesAcceptance, leadcycle.StageTelesalesQualification},
			{leadcycle.StageTelesalesQualification, leadcycle.StageSalesAcceptance},
		}, changes)
		e.clock.Advance(time.Minute)
		mustHandleEvents(t, e)
		wantSalesTask(t, e, l, e.clock.Now())
		if n := len(tasksOf(t, e, l.ID)); n != 2 {
			t.Errorf("lead has %d tasks, want the call and the sales acceptance", n)
		}
	}},
	{"path_complete_inquiry", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Orphan"})
		_, err := e.s.Workflow().CompleteStage(e.ctx, l.ID)
		wantErr(t, err, leadcycle.EInvalid, "stage")
		wantStage(t, e, l.ID, def, leadcycle.StageInquiry)
		if changes, _ := stageChangesOf(t, e, l.ID); len(changes) != 0 {
			t.Errorf("a refused completion left stage changes: %v", changes)
		}
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "parent@example.org"})
		MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.ContactID = &c.ID; return nil })
		e.clock.Advance(time.Minute)
		ctx := leadcycle.WithActor(e.ctx, "user 7 Uxía Castro")
		got, err := e.s.Workflow().CompleteStage(ctx, l.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Stage != leadcycle.StageMarketingQualification || !got.UpdatedAt.Equal(e.clock.Now()) {
			t.Errorf("CompleteStage returned stage %q updated %s, want %q at %s", got.Stage, got.UpdatedAt, leadcycle.StageMarketingQualification, e.clock.Now())
		}
		wantStage(t, e, l.ID, def, leadcycle.StageMarketingQualification)
		changes, entries := stageChangesOf(t, e, l.ID)
		if diff(t, "stage changes", []stageChange{{leadcycle.StageInquiry, leadcycle.StageMarketingQualification}}, changes) {
			wantReason(t, "inquiry completed", entries[0], `"Inquiry" completed`)
			if entries[0].Actor != "user 7 Uxía Castro" {
				t.Errorf("actor %q, want the user", entries[0].Actor)
			}
		}
		// Not sales ready: completing marketing qualification leads to
		// telesales acceptance.
		if got, err := e.s.Workflow().CompleteStage(e.ctx, l.ID); err != nil || got.Stage != leadcycle.StageTelesalesAcceptance {
			t.Errorf("completing marketing qualification: %v, stage %v; want %q", err, got, leadcycle.StageTelesalesAcceptance)
		}
		// The last stage needs its fields, and then ends the process.
		if _, err := e.s.Workflow().MoveStage(e.ctx, l.ID, leadcycle.StageSalesAcceptance, ""); err != nil {
			t.Fatal(err)
		}
		_, err = e.s.Workflow().CompleteStage(e.ctx, l.ID)
		wantErr(t, err, leadcycle.EInvalid, "lead.owner_id", "lead.sales_accepted")
		wantStage(t, e, l.ID, def, leadcycle.StageSalesAcceptance)
	}},
	{"path_sales_ready_skips_telesales", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "skip@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Skip", ContactID: &c.ID})
		if _, err := e.s.Workflow().CompleteStage(e.ctx, l.ID); err != nil {
			t.Fatal(err)
		}
		got := MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
		if got.Stage != leadcycle.StageSalesAcceptance {
			t.Errorf("sales ready in marketing qualification: stage %q, want %q", got.Stage, leadcycle.StageSalesAcceptance)
		}
		wantStage(t, e, l.ID, def, leadcycle.StageSalesAcceptance)
		changes, _ := stageChangesOf(t, e, l.ID)
		diff(t, "stage changes", []stageChange{
			{leadcycle.StageInquiry, leadcycle.StageMarketingQualification},
			{leadcycle.StageMarketingQualification, leadcycle.StageSalesAcceptance},
		}, changes)
		mustHandleEvents(t, e)
		wantSalesTask(t, e, l, e.clock.Now())
		if n := len(tasksOf(t, e, l.ID)); n != 1 {
			t.Errorf("%d tasks, want only the sales one", n)
		}
	}},
	{"path_move_by_hand", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Moved"})
		ctx := leadcycle.WithActor(e.ctx, "user 7 Uxía Castro")
		// Moves by hand go anywhere, even past an entry condition (the lead
		// has no parent).
		for _, to := range []string{leadcycle.StageTelesalesQualification, leadcycle.StageMarketingQualification, leadcycle.StageSalesAcceptance, leadcycle.StageInquiry} {
			e.clock.Advance(time.Second)
			got, err := e.s.Workflow().MoveStage(ctx, l.ID, to, "  met at the fair  ")
			if err != nil {
				t.Fatalf("move to %s: %v", to, err)
			}
			if got.Stage != to {
				t.Errorf("MoveStage returned stage %q, want %q", got.Stage, to)
			}
			wantStage(t, e, l.ID, def, to)
		}
		changes, entries := stageChangesOf(t, e, l.ID)
		if diff(t, "stage changes", []stageChange{
			{leadcycle.StageInquiry, leadcycle.StageTelesalesQualification},
			{leadcycle.StageTelesalesQualification, leadcycle.StageMarketingQualification},
			{leadcycle.StageMarketingQualification, leadcycle.StageSalesAcceptance},
			{leadcycle.StageSalesAcceptance, leadcycle.StageInquiry},
		}, changes) {
			for i, en := range entries {
				if en.Reason != "moved by hand: met at the fair" || en.Actor != "user 7 Uxía Castro" || !en.At.Equal(Epoch.Add(time.Duration(i+1)*time.Second)) {
					t.Errorf("move %d: %+v; want reason %q by the user at +%ds", i, en, "moved by hand: met at the fair", i+1)
				}
			}
		}
		if n := len(eventsOf(t, e, l.ID, leadcycle.EventLeadStageChanged)); n != 4 {
			t.Errorf("%d lead.stage_changed events, want 4", n)
		}
		before := len(timelineOf(t, e, l.ID))
		_, err := e.s.Workflow().MoveStage(ctx, l.ID, "nowhere", "")
		wantErr(t, err, leadcycle.EInvalid, "stage")
		// Moving to the stage the lead is in changes nothing.
		if _, err := e.s.Workflow().MoveStage(ctx, l.ID, leadcycle.StageInquiry, ""); err != nil {
			t.Fatal(err)
		}
		if after := len(timelineOf(t, e, l.ID)); after != before {
			t.Errorf("a refused move and a move to the same stage wrote %d timeline entries", after-before)
		}
		wantStage(t, e, l.ID, def, leadcycle.StageInquiry)
		_, err = e.s.Workflow().MoveStage(ctx, 999999, leadcycle.StageInquiry, "")
		wantErr(t, err, leadcycle.ENotFound)
	}},
	{"path_switch_process", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		custom := MustCreateProcess(t, e.ctx, e.s, "Partner referrals", "referred", "vetted", "handed_over")
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Referral"})
		e.clock.Advance(time.Minute)
		got, err := e.s.Workflow().SwitchProcess(e.ctx, l.ID, custom.ID, "")
		if err != nil {
			t.Fatal(err)
		}
		if got.ProcessID == nil || *got.ProcessID != custom.ID || got.Stage != "referred" {
			t.Errorf("SwitchProcess returned process %s stage %q, want %s %q", idStr(got.ProcessID), got.Stage, custom.ID, "referred")
		}
		wantStage(t, e, l.ID, custom.ID, "referred")
		switched := entriesOf(t, e, l.ID, leadcycle.TimelineProcessSwitched)
		if len(switched) != 1 || switched[0].From != def.String() || switched[0].To != custom.ID.String() || !switched[0].At.Equal(e.clock.Now()) ||
			switched[0].ProcessID == nil || *switched[0].ProcessID != custom.ID {
			t.Errorf("process_switched entries: %+v; want one from %s to %s", switched, def, custom.ID)
		}
		changes, entries := stageChangesOf(t, e, l.ID)
		if diff(t, "stage changes", []stageChange{{leadcycle.StageInquiry, "referred"}}, changes) {
			wantReason(t, "switch", entries[0], "Partner referrals")
		}
		// The stages are those of the new process now.
		_, err = e.s.Workflow().MoveStage(e.ctx, l.ID, leadcycle.StageSalesAcceptance, "")
		wantErr(t, err, leadcycle.EInvalid, "stage")
		if got, err := e.s.Workflow().CompleteStage(e.ctx, l.ID); err != nil || got.Stage != "vetted" {
			t.Errorf("completing the first custom stage: %v %v, want vetted", err, got)
		}
		// Back to the default process at a given stage; an unknown stage or
		// process is refused.
		_, err = e.s.Workflow().SwitchProcess(e.ctx, l.ID, def, "nowhere")
		wantErr(t, err, leadcycle.EInvalid, "stage")
		_, err = e.s.Workflow().SwitchProcess(e.ctx, l.ID, 999999, "")
		wantErr(t, err, leadcycle.EInvalid, "process_id")
		wantStage(t, e, l.ID, custom.ID, "vetted")
		if _, err := e.s.Workflow().SwitchProcess(e.ctx, l.ID, def, leadcycle.StageTelesalesAcceptance); err != nil {
			t.Fatal(err)
		}
		wantStage(t, e, l.ID, def, leadcycle.StageTelesalesAcceptance)
		if n := len(entriesOf(t, e, l.ID, leadcycle.TimelineProcessSwitched)); n != 2 {
			t.Errorf("%d process switches on the timeline, want 2", n)
		}
		// A lead created in the custom process starts at its first stage.
		other := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Direct", ProcessID: &custom.ID})
		wantStage(t, e, other.ID, custom.ID, "referred")
	}},
}

var workflowTests = append([]test{
	{"default_process_changes_hands", func(t *testing.T, e *env) {
		first, err := defaultProcessOf(e)
		if err != nil {
			t.Fatal(err)
		}
		b := MustCreate(t, e.ctx, e.s.Processes(), &leadcycle.Process{Name: "Partners", IsDefault: true, Stages: []leadcycle.Stage{{Key: "talk", Name: "Talk"}}})
		if got, _ := defaultProcessOf(e); got.ID != b.ID {
			t.Fatalf("a new default process: the default is %s, want %s", got.ID, b.ID)
		}
		if _, err := e.s.Processes().Update(e.ctx, first.ID, func(p *leadcycle.Process) error { p.IsDefault = true; return nil }); err != nil {
			t.Fatalf("making the first process the default again: %v", err)
		}
		if got, _ := defaultProcessOf(e); got.ID != first.ID {
			t.Fatalf("after the switch back the default is %s", got.ID)
		}
		if got, _ := e.s.Processes().Get(e.ctx, b.ID); got.IsDefault {
			t.Fatal("two processes are the default")
		}
		if l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "x"}); l.ProcessID == nil || *l.ProcessID != first.ID {
			t.Fatalf("a new lead starts in %v, want the default %s", l.ProcessID, first.ID)
		}
	}},
	{"new_lead_starts_at_inquiry", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		p := MustGet(t, e.ctx, e.s.Processes(), def)
		if p.Key != leadcycle.DefaultProcessKey || p.Name != leadcycle.DefaultProcessName || p.FirstStage() != leadcycle.StageInquiry || len(p.Stages) != 5 {
			t.Errorf("default process: key %q name %q with %d stages starting at %q", p.Key, p.Name, len(p.Stages), p.FirstStage())
		}
		e.clock.Advance(time.Minute)
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "New"})
		if l.ProcessID == nil || *l.ProcessID != def || l.Stage != leadcycle.StageInquiry {
			t.Errorf("created lead: process %s stage %q, want %s %q", idStr(l.ProcessID), l.Stage, def, leadcycle.StageInquiry)
		}
		wantStage(t, e, l.ID, def, leadcycle.StageInquiry)
		diff(t, "timeline of a new lead", []leadcycle.TimelineEntry{{
			ID: timelineOf(t, e, l.ID)[0].ID, LeadID: l.ID, Kind: leadcycle.TimelineCreated, ProcessID: &def,
			To: leadcycle.StageInquiry, Actor: "system", Reason: "lead created (source api)", At: e.clock.Now(),
		}}, timelineOf(t, e, l.ID))
		created := eventsOf(t, e, l.ID, leadcycle.EventLeadCreated)
		if len(created) != 1 || created[0].Actor != "system" || !created[0].At.Equal(e.clock.Now()) {
			t.Errorf("lead.created events: %+v, want one", created)
		}
		if n := mustHandleEvents(t, e); n != 0 {
			t.Errorf("HandleEvents handled %d events of a new lead, want 0", n)
		}
		_, err := e.s.Workflow().Timeline(e.ctx, 999999, leadcycle.ListQuery{})
		wantErr(t, err, leadcycle.ENotFound)
	}},
	{"qualify_with_contact", func(t *testing.T, e *env) {
		acme := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme", Domain: "acme.example"})
		ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Ana", Email: "ana@acme.example", AccountID: &acme.ID})
		owner := mustUser(t, e, "Sales Person", leadcycle.RoleSales)
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Forty seats", ContactID: &ana.ID, OwnerID: &owner.ID})
		MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
		mustHandleEvents(t, e)
		accept := wantSalesTask(t, e, l, e.clock.Now())
		contacts, accounts := count(t, e.ctx, e.s.Contacts()), count(t, e.ctx, e.s.Accounts())
		e.clock.Advance(time.Minute)
		res, err := e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{Opportunity: &leadcycle.Opportunity{EstimatedValue: ptr(12000.0), Currency: "eur"}})
		if err != nil {
			t.Fatal(err)
		}
		opp := res.Opportunity
		if opp == nil || opp.ID == 0 {
			t.Fatalf("no opportunity: %+v", res)
		}
		if !sameIDPtr(opp.LeadID, &l.ID) || !sameIDPtr(opp.ContactID, &ana.ID) || !sameIDPtr(opp.AccountID, &acme.ID) || !sameIDPtr(opp.OwnerID, &owner.ID) ||
			opp.Name != "Forty seats" || opp.Status != "open" || opp.Currency != "EUR" || opp.EstimatedValue == nil || *opp.EstimatedValue != 12000 {
			t.Errorf("opportunity: %+v; want lead %s, contact %s, account %s, owner %s, named after the lead", opp, l.ID, ana.ID, acme.ID, owner.ID)
		}
		diff(t, "stored opportunity", opp, MustGet(t, e.ctx, e.s.Opportunities(), opp.ID))
		if res.ContactCreated || res.AccountCreated {
			t.Errorf("qualifying a lead with a contact created a contact (%v) or an account (%v)", res.ContactCreated, res.AccountCreated)
		}
		got := MustGet(t, e.ctx, e.s.Leads(), l.ID)
		if got.Status != leadcycle.LeadQualified || got.StatusReason != "qualified" || !sameIDPtr(got.ContactID, &ana.ID) {
			t.Errorf("qualified lead: status %s/%s contact %s", got.Status, got.StatusReason, idStr(got.ContactID))
		}
		diff(t, "lead returned by Qualify", got, res.Lead)
		if c, a := count(t, e.ctx, e.s.Contacts()), count(t, e.ctx, e.s.Accounts()); c != contacts || a != accounts {
			t.Errorf("contacts %d→%d, accounts %d→%d: nothing should be created", contacts, c, accounts, a)
		}
		q := entriesOf(t, e, l.ID, leadcycle.TimelineQualified)
		if len(q) != 1 || q[0].From != "open/new" || q[0].To != "qualified/qualified" || !strings.Contains(q[0].Reason, opp.ID.String()) || !q[0].At.Equal(e.clock.Now()) {
			t.Errorf("qualified timeline entries: %+v", q)
		}
		evs := eventsOf(t, e, l.ID, leadcycle.EventLeadQualified)
		if len(evs) != 1 || fmt.Sprint(evs[0].Payload["opportunity_id"]) != opp.ID.String() {
			t.Errorf("lead.qualified events: %+v, want one naming opportunity %s", evs, opp.ID)
		}
		if n := len(eventsOf(t, e, l.ID, leadcycle.EventOpportunityCreated)); n != 1 {
			t.Errorf("%d opportunity.created events, want 1", n)
		}
		// Qualifying closes the lead's queue tasks as done.
		if done := MustGet(t, e.ctx, e.s.Tasks(), accept.ID); done.Status != "done" || done.CompletedAt == nil || !done.CompletedAt.Equal(e.clock.Now()) {
			t.Errorf("the sales task of the qualified lead: status %s completed %v, want done now", done.Status, done.CompletedAt)
		}
		opps := MustList(t, e.ctx, e.s.Opportunities(), leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("lead_id", l.ID)}})
		if len(opps) != 1 {
			t.Errorf("%d opportunities of the lead, want 1", len(opps))
		}
	}},
	{"qualify_matches_contact", func(t *testing.T, e *env) {
		bo := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Bo", Email: "bo@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "No parent"})
		contacts := count(t, e.ctx, e.s.Contacts())
		res, err := e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{Contact: &leadcycle.Contact{FirstName: "Bo", Email: " BO@Example.org "}})
		if err != nil {
			t.Fatal(err)
		}
		if res.ContactCreated || !sameIDPtr(res.Opportunity.ContactID, &bo.ID) || !sameIDPtr(res.Lead.ContactID, &bo.ID) {
			t.Errorf("qualify with a known email: created %v, opportunity contact %s, lead contact %s; want contact %s matched",
				res.ContactCreated, idStr(res.Opportunity.ContactID), idStr(res.Lead.ContactID), bo.ID)
		}
		if n := count(t, e.ctx, e.s.Contacts()); n != contacts {
			t.Errorf("contacts %d → %d: a duplicate was created", contacts, n)
		}
		if len(res.Explanation) == 0 || !strings.Contains(strings.Join(res.Explanation, "; "), "matched") {
			t.Errorf("explanation %q does not say the contact was matched", res.Explanation)
		}
	}},
	{"qualify_creates_contact", func(t *testing.T, e *env) {
		acme := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "someone@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "New person"})
		contacts, accounts := count(t, e.ctx, e.s.Contacts()), count(t, e.ctx, e.s.Accounts())
		// An invalid contact is refused, naming its field, and nothing stays.
		_, err := e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{Contact: &leadcycle.Contact{Email: "not an email"}})
		wantErr(t, err, leadcycle.EInvalid, "contact.email")
		res, err := e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{
			Contact: &leadcycle.Contact{FirstName: "Nia", Email: "Nia@New.example"},
			Account: &leadcycle.Account{Name: "ACME"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if !res.ContactCreated || res.AccountCreated {
			t.Errorf("contact created %v, account created %v; want a new contact and Acme matched by name", res.ContactCreated, res.AccountCreated)
		}
		if n := count(t, e.ctx, e.s.Contacts()); n != contacts+1 {
			t.Errorf("contacts %d → %d, want one more", contacts, n)
		}
		if n := count(t, e.ctx, e.s.Accounts()); n != accounts {
			t.Errorf("accounts %d → %d, want none created", accounts, n)
		}
		c := MustGet(t, e.ctx, e.s.Contacts(), *res.Opportunity.ContactID)
		if c.Email != "nia@new.example" || c.FirstName != "Nia" || c.Origin != leadcycle.SourceManual {
			t.Errorf("created contact: %+v", c)
		}
		if !sameIDPtr(res.Opportunity.AccountID, &acme.ID) || !sameIDPtr(res.Lead.AccountID, &acme.ID) || !sameIDPtr(res.Lead.ContactID, &c.ID) {
			t.Errorf("opportunity account %s, lead contact %s account %s; want contact %s account %s",
				idStr(res.Opportunity.AccountID), idStr(res.Lead.ContactID), idStr(res.Lead.AccountID), c.ID, acme.ID)
		}
		if n := count(t, e.ctx, e.s.Opportunities()); n != 1 {
			t.Errorf("%d opportunities, want 1 (the refused attempt made none)", n)
		}
	}},
	{"qualify_needs_a_parent", func(t *testing.T, e *env) {
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Nobody"})
		_, err := e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{})
		wantErr(t, err, leadcycle.EInvalid, "contact")
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); got.Status != leadcycle.LeadOpen {
			t.Errorf("a refused qualification left the lead %s", got.Status)
		}
		if n := count(t, e.ctx, e.s.Opportunities()); n != 0 {
			t.Errorf("%d opportunities after a refused qualification", n)
		}
		_, err = e.s.Workflow().Qualify(e.ctx, 999999, leadcycle.QualifyRequest{})
		wantErr(t, err, leadcycle.ENotFound)
	}},
	{"closed_leads_read_only", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "closed@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Closed", ContactID: &c.ID})
		if _, err := e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{}); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.Leads().Update(e.ctx, l.ID, func(l *leadcycle.Lead) error { l.Topic = "Changed"; return nil })
		wantErr(t, err, leadcycle.EConflict)
		_, err = e.s.Workflow().MoveStage(e.ctx, l.ID, leadcycle.StageSalesAcceptance, "")
		wantErr(t, err, leadcycle.EConflict)
		_, err = e.s.Workflow().CompleteStage(e.ctx, l.ID)
		wantErr(t, err, leadcycle.EConflict)
		_, err = e.s.Workflow().Qualify(e.ctx, l.ID, leadcycle.QualifyRequest{})
		wantErr(t, err, leadcycle.EConflict)
		_, err = e.s.Workflow().Disqualify(e.ctx, l.ID, "lost", "")
		wantErr(t, err, leadcycle.EConflict)
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); got.Topic != "Closed" || got.Status != leadcycle.LeadQualified {
			t.Errorf("closed lead changed: %+v", got)
		}
		e.clock.Advance(time.Minute)
		got, err := e.s.Workflow().Reactivate(e.ctx, l.ID, "deal fell through")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != leadcycle.LeadOpen || got.StatusReason != "new" {
			t.Errorf("reactivated lead: %s/%s, want open/new", got.Status, got.StatusReason)
		}
		re := entriesOf(t, e, l.ID, leadcycle.TimelineReactivated)
		if len(re) != 1 || re[0].From != "qualified/qualified" || re[0].To != "open/new" || !strings.Contains(re[0].Reason, "deal fell through") {
			t.Errorf("reactivated entries: %+v", re)
		}
		if n := len(eventsOf(t, e, l.ID, leadcycle.EventLeadReactivated)); n != 1 {
			t.Errorf("%d lead.reactivated events, want 1", n)
		}
		if got := MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.Topic = "Changed"; return nil }); got.Topic != "Changed" {
			t.Errorf("the reactivated lead was not updated: %+v", got)
		}
		_, err = e.s.Workflow().Reactivate(e.ctx, l.ID, "")
		wantErr(t, err, leadcycle.EConflict)
	}},
	{"disqualify", func(t *testing.T, e *env) {
		tele := mustUser(t, e, "Tele One", leadcycle.RoleTelesales)
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "cold@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Cold", ContactID: &c.ID})
		markTelesalesReady(t, e, l)
		mustHandleEvents(t, e)
		own := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Send brochure", LeadID: &l.ID, AssigneeID: &tele.ID})
		calls := tasksOf(t, e, l.ID)
		if len(calls) != 2 || calls[0].Queue != "telesales" || calls[0].Status != "open" {
			t.Fatalf("tasks before disqualifying: %+v; want the open call and the own task", calls)
		}
		for _, reason := range []string{"", "bored", "qualified"} {
			_, err := e.s.Workflow().Disqualify(e.ctx, l.ID, reason, "")
			wantErr(t, err, leadcycle.EInvalid, "reason")
		}
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); got.Status != leadcycle.LeadOpen {
			t.Fatalf("a refused disqualification left the lead %s", got.Status)
		}
		e.clock.Advance(time.Minute)
		got, err := e.s.Workflow().Disqualify(e.ctx, l.ID, "no_longer_interested", "  bought elsewhere ")
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != leadcycle.LeadDisqualified || got.StatusReason != "no_longer_interested" {
			t.Errorf("disqualified lead: %s/%s", got.Status, got.StatusReason)
		}
		call := MustGet(t, e.ctx, e.s.Tasks(), calls[0].ID)
		if call.Status != "canceled" || call.CompletedAt == nil || !call.CompletedAt.Equal(e.clock.Now()) {
			t.Errorf("the queue task of the disqualified lead: status %s completed %v, want canceled now", call.Status, call.CompletedAt)
		}
		if own := MustGet(t, e.ctx, e.s.Tasks(), own.ID); own.Status != "open" {
			t.Errorf("a task outside the queues was closed: %s", own.Status)
		}
		evs := eventsOf(t, e, l.ID, leadcycle.EventLeadDisqualified)
		if len(evs) != 1 || evs[0].Payload["status_reason"] != "no_longer_interested" || !evs[0].At.Equal(e.clock.Now()) {
			t.Errorf("lead.disqualified events: %+v, want one with the reason", evs)
		}
		dq := entriesOf(t, e, l.ID, leadcycle.TimelineDisqualified)
		if len(dq) != 1 || dq[0].To != "disqualified/no_longer_interested" || dq[0].Reason != "disqualified: no_longer_interested — bought elsewhere" {
			t.Errorf("disqualified entries: %+v", dq)
		}
		_, err = e.s.Leads().Update(e.ctx, l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
		wantErr(t, err, leadcycle.EConflict)
		if n := mustHandleEvents(t, e); n != 0 {
			t.Errorf("HandleEvents handled %d events after disqualifying", n)
		}
		if n := len(tasksOf(t, e, l.ID)); n != 2 {
			t.Errorf("%d tasks after disqualifying, want the same 2", n)
		}
	}},
	{"handle_events_exactly_once_two_nodes", func(t *testing.T, e *env) {
		def := DefaultProcessID(t, e.ctx, e.s)
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "many@example.org", JobTitle: "Director"})
		const n = 20
		var leads []*leadcycle.Lead
		for i := range n {
			leads = append(leads, MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprint("Lead ", i), ContactID: &c.ID}))
		}
		// Publishing scores every lead for the first time and above the
		// threshold: a lead.scored and a lead.sales_ready event each.
		MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Titles", Rules: []leadcycle.ScoringRule{{Name: "Director", Points: 50, Conditions: []string{`contact.job_title == "Director"`}}},
			SalesReadyThreshold: ptr[int64](10),
		})
		e.clock.Advance(time.Minute)
		handled := onTwoNodes(t, e, func(node leadcycle.Store) (int, error) { return node.Workflow().HandleEvents(e.ctx, 3) })
		if handled != 2*n {
			t.Errorf("the two nodes handled %d events, want %d (one lead.scored and one lead.sales_ready per lead)", handled, 2*n)
		}
		if left, err := e.s.Workflow().HandleEvents(e.ctx, 100); err != nil || left != 0 {
			t.Errorf("after both nodes stopped: %d events handled, %v", left, err)
		}
		for _, l := range leads {
			got := wantStage(t, e, l.ID, def, leadcycle.StageSalesAcceptance)
			if !got.SalesReady {
				t.Errorf("lead %s is not sales ready", l.ID)
			}
			wantSalesTask(t, e, l, e.clock.Now())
			if tasks := tasksOf(t, e, l.ID); len(tasks) != 1 {
				t.Errorf("lead %s has %d tasks, want 1", l.ID, len(tasks))
			}
			changes, _ := stageChangesOf(t, e, l.ID)
			into := 0
			for _, ch := range changes {
				if ch.To == leadcycle.StageSalesAcceptance {
					into++
				}
			}
			if into != 1 || changes[len(changes)-1].To != leadcycle.StageSalesAcceptance {
				t.Errorf("lead %s stage changes %v: want exactly one into sales acceptance, the last", l.ID, changes)
			}
		}
		sales := MustList(t, e.ctx, e.s.Tasks(), leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("queue", "sales")}})
		if len(sales) != n {
			t.Errorf("%d sales tasks, want %d", len(sales), n)
		}
	}},
	{"users", func(t *testing.T, e *env) {
		u := MustCreate(t, e.ctx, e.s.Users(), &leadcycle.User{Name: "  Uxía Castro ", Email: "Uxia@Leadcycle.Example", Role: leadcycle.RoleSalesManager, Active: true, Locale: "gl"})
		got := MustGet(t, e.ctx, e.s.Users(), u.ID)
		diff(t, "stored user", leadcycle.User{ID: u.ID, Name: "Uxía Castro", Email: "uxia@leadcycle.example", Role: leadcycle.RoleSalesManager,
			Queues: []string{}, Active: true, Locale: "gl", CreatedAt: Epoch, UpdatedAt: Epoch}, *got)
		for _, c := range []struct {
			user  leadcycle.User
			field string
		}{
			{leadcycle.User{Name: "Boss", Email: "boss@leadcycle.example", Role: "boss"}, "role"},
			{leadcycle.User{Name: "Bad", Email: "not-an-email", Role: leadcycle.RoleSales}, "email"},
			{leadcycle.User{Email: "noname@leadcycle.example", Role: leadcycle.RoleSales}, "name"},
			{leadcycle.User{Name: "Q", Email: "q@leadcycle.example", Role: leadcycle.RoleSales, Queues: []string{"support"}}, "queues[0]"},
		} {
			wantErr(t, e.s.Users().Create(e.ctx, &c.user), leadcycle.EInvalid, c.field)
		}
		wantErr(t, e.s.Users().Create(e.ctx, &leadcycle.User{Name: "Twin", Email: "UXIA@leadcycle.example", Role: leadcycle.RoleSales}), leadcycle.EConflict)
		if n := count(t, e.ctx, e.s.Users()); n != 1 {
			t.Errorf("%d users after the refused creates, want 1", n)
		}
		_, err := e.s.Users().Update(e.ctx, u.ID, func(u *leadcycle.User) error { u.Role = "boss"; return nil })
		wantErr(t, err, leadcycle.EInvalid, "role")
	}},
	{"queues", func(t *testing.T, e *env) {
		queues, err := e.s.Workflow().Queues(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		type q struct {
			Key, Name, Assignment string
			DueHours              int
		}
		reduce := func(qs []leadcycle.Queue) []q {
			var out []q
			for _, x := range qs {
				out = append(out, q{x.Key, x.Name, x.Assignment, x.DueHours})
			}
			return out
		}
		diff(t, "queues", []q{{"telesales", "Telesales", leadcycle.AssignRoundRobin, 24}, {"sales", "Sales acceptance", leadcycle.AssignManual, 48}}, reduce(queues))
		_, err = e.s.Workflow().UpdateQueue(e.ctx, "sales", func(q *leadcycle.Queue) error { q.Assignment = "sometimes"; return nil })
		wantErr(t, err, leadcycle.EInvalid, "assignment")
		_, err = e.s.Workflow().UpdateQueue(e.ctx, "sales", func(q *leadcycle.Queue) error { q.DueHours = -1; return nil })
		wantErr(t, err, leadcycle.EInvalid, "due_hours")
		_, err = e.s.Workflow().UpdateQueue(e.ctx, "support", func(q *leadcycle.Queue) error { return nil })
		wantErr(t, err, leadcycle.ENotFound)
		e.clock.Advance(time.Minute)
		up, err := e.s.Workflow().UpdateQueue(e.ctx, "sales", func(q *leadcycle.Queue) error {
			q.Key, q.Assignment, q.DueHours = "renamed", leadcycle.AssignRoundRobin, 8
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if up.Key != "sales" || up.Assignment != leadcycle.AssignRoundRobin || up.DueHours != 8 || !up.UpdatedAt.Equal(e.clock.Now()) {
			t.Errorf("updated queue: %+v", up)
		}
		queues, err = e.s.Workflow().Queues(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "queues after the update", []q{{"telesales", "Telesales", leadcycle.AssignRoundRobin, 24}, {"sales", "Sales acceptance", leadcycle.AssignRoundRobin, 8}}, reduce(queues))
	}},
	{"assign_task", func(t *testing.T, e *env) {
		manager := leadcycle.WithActor(e.ctx, "user 1 Manager")
		s1 := mustUser(t, e, "Sales One", leadcycle.RoleSales)
		gone := MustCreate(t, e.ctx, e.s.Users(), &leadcycle.User{Name: "Sales Gone", Email: "gone@leadcycle.example", Role: leadcycle.RoleSales, Active: false})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ready@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Ready", ContactID: &c.ID})
		MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesReady = true; return nil })
		mustHandleEvents(t, e)
		task := wantSalesTask(t, e, l, e.clock.Now())
		_, err := e.s.Workflow().AssignTask(manager, task.ID, &gone.ID)
		wantErr(t, err, leadcycle.EInvalid, "assignee_id")
		_, err = e.s.Workflow().AssignTask(manager, task.ID, id(999999))
		wantErr(t, err, leadcycle.EInvalid, "assignee_id")
		_, err = e.s.Workflow().AssignTask(manager, 999999, &s1.ID)
		wantErr(t, err, leadcycle.ENotFound)
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); got.OwnerID != nil {
			t.Fatalf("refused assignments set the owner %s", got.OwnerID)
		}
		e.clock.Advance(time.Minute)
		assigned, err := e.s.Workflow().AssignTask(manager, task.ID, &s1.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameIDPtr(assigned.AssigneeID, &s1.ID) || assigned.Status != "open" {
			t.Errorf("assigned task: %+v", assigned)
		}
		if got := MustGet(t, e.ctx, e.s.Tasks(), task.ID); !sameIDPtr(got.AssigneeID, &s1.ID) {
			t.Errorf("stored assignee %s, want %s", idStr(got.AssigneeID), s1.ID)
		}
		got := MustGet(t, e.ctx, e.s.Leads(), l.ID)
		if !sameIDPtr(got.OwnerID, &s1.ID) {
			t.Errorf("lead owner %s after assigning its sales task to %s", idStr(got.OwnerID), s1.ID)
		}
		owners := entriesOf(t, e, l.ID, leadcycle.TimelineAssigned)
		if len(owners) != 1 || owners[0].To != s1.ID.String() || owners[0].Actor != "user 1 Manager" || !owners[0].At.Equal(e.clock.Now()) {
			t.Errorf("assigned timeline entries: %+v", owners)
		}
		if n := len(eventsOf(t, e, l.ID, leadcycle.EventTaskAssigned)); n != 1 {
			t.Errorf("%d task.assigned events, want 1", n)
		}
		// The manager accepts: the acceptance task is done.
		MustUpdate(t, manager, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error { l.SalesAccepted = true; return nil })
		mustHandleEvents(t, e)
		if done := MustGet(t, e.ctx, e.s.Tasks(), task.ID); done.Status != "done" || done.CompletedAt == nil {
			t.Errorf("the acceptance task after sales accepted: %+v, want done", done)
		}
		_, err = e.s.Workflow().AssignTask(manager, task.ID, &s1.ID)
		wantErr(t, err, leadcycle.EConflict)
		// The accepted lead is at the end of the process: it is qualified,
		// not completed.
		_, err = e.s.Workflow().CompleteStage(e.ctx, l.ID)
		wantErr(t, err, leadcycle.EConflict)
	}},
}, processPaths...)

// defaultProcessOf returns the store's default process.
func defaultProcessOf(e *env) (*leadcycle.Process, error) {
	page, err := e.s.Processes().List(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"is_default"}, Op: leadcycle.OpEq, Value: true}}, Limit: 5})
	if err != nil {
		return nil, err
	}
	if len(page.Items) != 1 {
		return nil, fmt.Errorf("%d default processes", len(page.Items))
	}
	return &page.Items[0], nil
}
