package sqlite_test

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// On SQLite the scorer reads new interactions by id (store/sqldb/
// scorer_tail.go). These tests cover what only that path has: a position
// that survives a restart, ids SQLite gives again, and account-based leads
// waiting for more interactions under load.

// opensModel scores each open in 30 days 5 points, for the contact or the
// account of a lead.
func opensModel(target string) *leadcycle.ScoringModel {
	days := 30
	return &leadcycle.ScoringModel{Name: "Opens " + target, Target: target, Rules: []leadcycle.ScoringRule{
		{Name: "Opens", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: &days}}},
	}}
}

func opens(contact leadcycle.ID, n int) []leadcycle.Interaction {
	out := make([]leadcycle.Interaction, n)
	for i := range out {
		out[i] = leadcycle.Interaction{Type: "email_opened", ContactID: contact}
	}
	return out
}

func mustScore(t *testing.T, s *sqldb.Store, lead, model leadcycle.ID) int64 {
	t.Helper()
	scores, err := s.Scoring().LeadScores(t.Context(), lead)
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range scores {
		if sc.ModelID == model {
			return sc.Score
		}
	}
	return -1
}

// queryInt runs a query of one integer on the reader pool.
func queryInt(t *testing.T, s *sqldb.Store, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.R.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func position(t *testing.T, s *sqldb.Store) int64 {
	t.Helper()
	return queryInt(t, s, "SELECT position FROM score_tail")
}

// newestInteraction is the largest interaction id (0: none).
func newestInteraction(t *testing.T, s *sqldb.Store) int64 {
	t.Helper()
	return queryInt(t, s, "SELECT COALESCE(MAX(id), 0) FROM interactions")
}

// mustOpen opens the store in dir on clock.
func mustOpen(t *testing.T, dir string, clock leadcycle.Clock) *sqldb.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), dir, clock)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestScoringTailGoesOnAfterRestart stores interactions, closes the store
// before the scorer reads them (as a killed process would leave them), and
// checks that the next process scores them and stores its position.
func TestScoringTailGoesOnAfterRestart(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s := mustOpen(t, dir, clock)
	m := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetContact))
	c := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "uxia@example.gal"})
	l := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Tail", ContactID: &c.ID})
	storetest.MustDrainScoring(t, ctx, s)
	if err := s.AddInteractions(ctx, opens(c.ID, 2)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 10 {
		t.Fatalf("score after two opens = %d, want 10", got)
	}
	// Three more, never read by this process.
	if err := s.AddInteractions(ctx, opens(c.ID, 3)); err != nil {
		t.Fatal(err)
	}
	if queued := queuedBy(t, s, clock.Now()); queued != 0 {
		t.Errorf("%d leads queued for interactions the scorer reads by id, want 0", queued)
	}
	if _, n, err := s.ScoringBacklog(ctx); err != nil || n != 3 {
		t.Errorf("backlog = %d interactions (%v), want 3", n, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, dir, clock)
	defer s.Close()
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 25 {
		t.Errorf("score after the restart = %d, want 25", got)
	}
	// One more round stores the position of the last one.
	if err := s.AddInteractions(ctx, opens(c.ID, 1)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	top := newestInteraction(t, s)
	if pos := position(t, s); pos < top-1 || pos > top {
		t.Errorf("stored position %d, want the newest interactions (%d) but for the last round's", pos, top)
	}
	if leads, n, err := s.ScoringBacklog(ctx); err != nil || leads != 0 || n != 0 {
		t.Errorf("backlog after draining = %d leads, %d interactions (%v), want none", leads, n, err)
	}
}

// TestScoringTailSeesIDsGivenAgain deletes the newest interactions (their
// contact is deleted), so that SQLite gives their ids again: the
// interaction stored with such an id is still scored.
func TestScoringTailSeesIDsGivenAgain(t *testing.T) {
	ctx := t.Context()
	s, err := sqlite.Open(ctx, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetContact))
	keep := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "keep@example.gal"})
	gone := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "gone@example.gal"})
	l := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Keep", ContactID: &keep.ID})
	if err := s.AddInteractions(ctx, append(opens(keep.ID, 1), opens(gone.ID, 3)...)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	before := newestInteraction(t, s)
	storetest.MustDelete(t, ctx, s.Contacts(), gone.ID)
	if err := s.AddInteractions(ctx, opens(keep.ID, 1)); err != nil {
		t.Fatal(err)
	}
	again := newestInteraction(t, s)
	if again > before {
		t.Fatalf("SQLite gave id %d after %d: this test needs an id given again", again, before)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 10 {
		t.Errorf("score with the interaction stored under an id given again = %d, want 10", got)
	}
}

// TestAccountBasedLeadsWaitUnderLoad: a range of at least a hundred
// interactions leaves an account-based lead queued a moment, so that a busy
// account is scored a few times a second rather than every round; fewer
// interactions score it in the same round.
func TestAccountBasedLeadsWaitUnderLoad(t *testing.T) {
	ctx := t.Context()
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s, err := sqlite.Open(ctx, t.TempDir(), clock)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, c, l := accountLead(t, s)
	storetest.MustDrainScoring(t, ctx, s)

	if err := s.AddInteractions(ctx, opens(c.ID, 3)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 15 {
		t.Fatalf("account score after 3 opens = %d, want 15 at once", got)
	}

	if err := s.AddInteractions(ctx, opens(c.ID, 150)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 15 {
		t.Errorf("account score right after a busy range = %d, want 15 until the wait ends", got)
	}
	if n := queuedBy(t, s, clock.Now().Add(time.Second)); n != 0 {
		t.Errorf("%d score_queue rows due within a second while the lead waits, want 0 (it waits in memory)", n)
	}
	clock.Advance(250 * time.Millisecond)
	if leads, _, err := s.ScoringBacklog(ctx); err != nil || leads != 1 {
		t.Errorf("backlog when the wait ends = %d leads (%v), want the waiting lead", leads, err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 765 {
		t.Errorf("account score after the wait = %d, want 765", got)
	}
	if leads, n, err := s.ScoringBacklog(ctx); err != nil || leads != 0 || n != 0 {
		t.Errorf("backlog after the wait = %d leads, %d interactions (%v), want none", leads, n, err)
	}
}

// accountLead publishes opensModel for accounts and creates an account
// with a contact and an account-based lead.
func accountLead(t *testing.T, s *sqldb.Store) (*leadcycle.ScoringModel, *leadcycle.Contact, *leadcycle.Lead) {
	t.Helper()
	ctx := t.Context()
	m := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetAccount))
	acme := storetest.MustCreateAccount(t, ctx, s, &leadcycle.Account{Name: "Acme"})
	c := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "ana@acme.example", AccountID: &acme.ID})
	l := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Acme", AccountID: &acme.ID})
	return m, c, l
}

// queuedBy counts the score_queue rows due by then.
func queuedBy(t *testing.T, s *sqldb.Store, then time.Time) int64 {
	t.Helper()
	return queryInt(t, s, "SELECT COUNT(*) FROM score_queue WHERE due_at <= ?", then.UnixMicro())
}

// TestWaitingLeadSurvivesRestart closes the store while an account-based
// lead waits in memory: the stored position is still before the busy
// range, so the next process reads the range again and scores the lead.
func TestWaitingLeadSurvivesRestart(t *testing.T) {
	ctx, dir := t.Context(), t.TempDir()
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s := mustOpen(t, dir, clock)
	m, ana, l := accountLead(t, s)
	own := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "breixo@example.gal"})
	ownLead := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Own", ContactID: &own.ID})
	contactModel := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetContact))
	storetest.MustDrainScoring(t, ctx, s)
	before := newestInteraction(t, s)

	if err := s.AddInteractions(ctx, append(opens(ana.ID, 150), opens(own.ID, 2)...)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, ownLead.ID, contactModel.ID); got != 10 {
		t.Fatalf("contact lead score = %d, want 10 in the same round", got)
	}
	// A later quiet range moves the tail on, but not the stored position.
	if err := s.AddInteractions(ctx, opens(own.ID, 1)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if pos := position(t, s); pos > before {
		t.Errorf("stored position %d with a lead waiting for interactions after %d, want at most %d", pos, before, before)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpen(t, dir, clock)
	defer s.Close()
	storetest.MustDrainScoring(t, ctx, s)
	clock.Advance(250 * time.Millisecond)
	storetest.MustDrainScoring(t, ctx, s)
	if got := mustScore(t, s, l.ID, m.ID); got != 750 {
		t.Errorf("account score after the restart = %d, want 750", got)
	}
	if got := mustScore(t, s, ownLead.ID, contactModel.ID); got != 15 {
		t.Errorf("contact lead score after the restart = %d, want 15", got)
	}
	top := newestInteraction(t, s)
	if err := s.AddInteractions(ctx, opens(own.ID, 1)); err != nil {
		t.Fatal(err)
	}
	storetest.MustDrainScoring(t, ctx, s)
	if pos := position(t, s); pos < top {
		t.Errorf("stored position %d after the wait ended, want at least %d", pos, top)
	}
}

// TestChangesForgetOnlyTheirAccounts: SQLite keeps account histories in
// memory; a contact moving from one account to another must make the
// scorer read again the histories of those two accounts only, and a
// deleted interaction that of its account only, while every score stays
// right.
func TestChangesForgetOnlyTheirAccounts(t *testing.T) {
	ctx := t.Context()
	s := mustOpen(t, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	defer s.Close()
	m := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetAccount))
	var contacts []*leadcycle.Contact
	var leads []*leadcycle.Lead
	for _, name := range []string{"Acme", "Brea", "Cies", "Doade"} {
		a := storetest.MustCreateAccount(t, ctx, s, &leadcycle.Account{Name: name})
		contacts = append(contacts, storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "info@" + name + ".example", AccountID: &a.ID}))
		leads = append(leads, storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: name, AccountID: &a.ID}))
	}
	openEach := func(n int) {
		t.Helper()
		var items []leadcycle.Interaction
		for _, c := range contacts {
			items = append(items, opens(c.ID, n)...)
		}
		if err := s.AddInteractions(ctx, items); err != nil {
			t.Fatal(err)
		}
		storetest.MustDrainScoring(t, ctx, s)
	}
	wantScores := func(when string, want ...int64) {
		t.Helper()
		for i, l := range leads {
			if got := mustScore(t, s, l.ID, m.ID); got != want[i] {
				t.Errorf("%s: %s scores %d, want %d", when, l.Topic, got, want[i])
			}
		}
	}
	openEach(2)
	openEach(1)
	wantScores("warm", 15, 15, 15, 15)
	warm := s.AccountHistoryLoads()
	openEach(1)
	if n := s.AccountHistoryLoads() - warm; n != 0 {
		t.Fatalf("%d account histories read again with nothing changed, want 0", n)
	}

	// Acme's contact moves to Brea with its 4 opens.
	storetest.MustUpdate(t, ctx, s.Contacts(), contacts[0].ID, func(c *leadcycle.Contact) error { c.AccountID = leads[1].AccountID; return nil })
	storetest.MustDrainScoring(t, ctx, s)
	openEach(1)
	wantScores("after the move", 0, 50, 25, 25)
	if n := s.AccountHistoryLoads() - warm; n != 2 {
		t.Errorf("%d account histories read again after a contact moved, want 2 (the accounts it left and joined)", n)
	}

	// One of Cies's opens is deleted.
	warm = s.AccountHistoryLoads()
	id := queryInt(t, s, "SELECT MAX(id) FROM interactions WHERE contact_id = ?", int64(contacts[2].ID))
	storetest.MustDelete(t, ctx, s.Interactions(), leadcycle.ID(id))
	storetest.MustDrainScoring(t, ctx, s)
	openEach(1)
	wantScores("after the delete", 0, 60, 25, 30)
	if n := s.AccountHistoryLoads() - warm; n != 1 {
		t.Errorf("%d account histories read again after an interaction was deleted, want 1", n)
	}
}

// TestInteractionsOfUnreadTypesRescoreNothing: an interaction of a type no
// live model counts cannot change a score, so its contact's lead and its
// account's account-based lead are not rescored for it; one of a type a
// model counts still is, at once or after the account-based wait.
func TestInteractionsOfUnreadTypesRescoreNothing(t *testing.T) {
	ctx := t.Context()
	clock := leadcycle.NewFixedClock(storetest.Epoch)
	s := mustOpen(t, t.TempDir(), clock)
	defer s.Close()
	accountModel, ana, accountLead := accountLead(t, s)
	contactModel := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetContact))
	own := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Ana's own", ContactID: &ana.ID})
	storetest.MustDrainScoring(t, ctx, s)
	s.ScoringLag(true)

	// rescored stores the items, lets the account-based wait end and
	// returns how many leads were scored for them.
	rescored := func(items []leadcycle.Interaction) int64 {
		t.Helper()
		if err := s.AddInteractions(ctx, items); err != nil {
			t.Fatal(err)
		}
		storetest.MustDrainScoring(t, ctx, s)
		clock.Advance(time.Second)
		storetest.MustDrainScoring(t, ctx, s)
		n, _, _, _ := s.ScoringLag(true)
		return n
	}
	views := make([]leadcycle.Interaction, 150)
	for i := range views {
		views[i] = leadcycle.Interaction{Type: "page_view", ContactID: ana.ID}
	}
	if n := rescored(views); n != 0 {
		t.Errorf("%d leads rescored for page views no model counts, want 0", n)
	}
	if n := rescored(append(opens(ana.ID, 100), views[:50]...)); n != 2 {
		t.Errorf("%d leads rescored for opens, want 2 (the contact's and the account's)", n)
	}
	if got := mustScore(t, s, own.ID, contactModel.ID); got != 500 {
		t.Errorf("contact lead score = %d, want 500", got)
	}
	if got := mustScore(t, s, accountLead.ID, accountModel.ID); got != 500 {
		t.Errorf("account lead score = %d, want 500", got)
	}
}

// TestWorkersReadThroughThePointPool checks that the scorer and the
// evaluation of contacts against segments read through the pool whose
// connections do not map the file (see pointReads in sqlite.go): with no
// idle connections kept, every use of a pool closes a connection, which its
// statistics count.
func TestWorkersReadThroughThePointPool(t *testing.T) {
	ctx := t.Context()
	s := mustOpen(t, t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	defer s.Close()
	m := storetest.MustPublishModel(t, ctx, s, opensModel(leadcycle.TargetContact))
	storetest.MustCreate(t, ctx, s.Segments(), &leadcycle.Segment{Name: "Openers", Query: `count(interactions, .type == "email_opened", 30d) >= 1`})
	c := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{Email: "brais@example.gal"})
	l := storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Pool", ContactID: &c.ID})
	storetest.MustDrainScoring(t, ctx, s)
	storetest.MustDrainSegments(t, ctx, s)
	if err := s.AddInteractions(ctx, opens(c.ID, 1)); err != nil {
		t.Fatal(err)
	}

	s.P.SetMaxIdleConns(0)
	used := func() int64 { return s.P.Stats().MaxIdleClosed }
	before := used()
	storetest.MustDrainScoring(t, ctx, s)
	if used() == before {
		t.Error("the scorer did not read through the point pool")
	}
	if got := mustScore(t, s, l.ID, m.ID); got != 5 {
		t.Errorf("score = %d, want 5", got)
	}
	before = used()
	storetest.MustDrainSegments(t, ctx, s)
	if used() == before {
		t.Error("the segment evaluation did not read through the point pool")
	}
}
