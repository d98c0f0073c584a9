package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

const day = 24 * time.Hour

// MustDrainScoring runs the scorer until nothing is due, or fails the test.
func MustDrainScoring(tb testing.TB, ctx context.Context, s leadcycle.Store) {
	tb.Helper()
	for range 1000 {
		n, err := s.Scoring().ProcessDue(ctx, 500)
		if err != nil {
			tb.Fatalf("process scoring: %v", err)
		}
		if n == 0 {
			return
		}
	}
	tb.Fatal("the scorer still had work after 1000 rounds")
}

// scorers are scorer loops running beside a test's writers.
type scorers struct {
	// errs takes the errors of the loops, and of the test's writers.
	errs    chan error
	done    chan struct{}
	workers sync.WaitGroup
}

// scoreWhile runs n scorer loops in rounds of max leads until stop: the
// loops of one node, and the last on a second node where the store has
// siblings.
func scoreWhile(e *env, n, max int) *scorers {
	nodes := make([]leadcycle.Store, n)
	for i := range nodes {
		nodes[i] = e.s
	}
	if sib, ok := e.s.(interface{ Sibling() leadcycle.Store }); ok && n > 1 {
		nodes[n-1] = sib.Sibling()
	}
	sc := &scorers{errs: make(chan error, 20), done: make(chan struct{})}
	for _, node := range nodes {
		sc.workers.Go(func() {
			for {
				if _, err := node.Scoring().ProcessDue(e.ctx, max); err != nil {
					sc.errs <- err
					return
				}
				select {
				case <-sc.done:
					return
				default:
				}
			}
		})
	}
	return sc
}

// stop ends the loops, once the writers are done, and reports every error.
func (sc *scorers) stop(t *testing.T) {
	t.Helper()
	close(sc.done)
	sc.workers.Wait()
	close(sc.errs)
	for err := range sc.errs {
		t.Error(err)
	}
}

// MustPublishModel creates a scoring model, publishes it and runs the scorer
// until its rescore is done.
func MustPublishModel(tb testing.TB, ctx context.Context, s leadcycle.Store, m *leadcycle.ScoringModel) *leadcycle.ScoringModel {
	tb.Helper()
	MustCreate(tb, ctx, s.ScoringModels(), m)
	if _, err := s.Scoring().Publish(ctx, m.ID); err != nil {
		tb.Fatalf("publish model %s: %v", m.Name, err)
	}
	MustDrainScoring(tb, ctx, s)
	return MustGet(tb, ctx, s.ScoringModels(), m.ID)
}

// scoreOf returns a lead's score under a model, or nil when it has none.
func scoreOf(tb testing.TB, ctx context.Context, s leadcycle.Store, lead, model leadcycle.ID) *leadcycle.LeadScoreDetail {
	tb.Helper()
	scores, err := s.Scoring().LeadScores(ctx, lead)
	if err != nil {
		tb.Fatalf("lead %s scores: %v", lead, err)
	}
	for i := range scores {
		if scores[i].ModelID == model {
			return &scores[i]
		}
	}
	return nil
}

func wantScore(tb testing.TB, ctx context.Context, s leadcycle.Store, lead, model leadcycle.ID, score int64, grade string) {
	tb.Helper()
	got := scoreOf(tb, ctx, s, lead, model)
	if got == nil {
		tb.Errorf("lead %s has no score under model %s, want %d", lead, model, score)
		return
	}
	if got.Score != score || got.Grade != grade {
		tb.Errorf("lead %s model %s: score %d grade %q, want %d %q (rules %+v)", lead, model, got.Score, got.Grade, score, grade, got.Rules)
	}
}

// fitModel is a contact-based model with demographic, firmographic and
// behavioural rules:
//
//	Director +20, Retail +15, Big budget +10, each email opened in 30 days +5,
//	a pricing page view in 7 days +25, no email opened in 60 days −10.
//	Grades A ≥ 60, B 30–59, C ≤ 29; sales ready at 70.
func fitModel() *leadcycle.ScoringModel {
	return &leadcycle.ScoringModel{
		Name: "Fit", Key: "fit",
		Rules: []leadcycle.ScoringRule{
			{Name: "Director", Points: 20, Conditions: []string{`contact.job_title contains "Director"`}},
			{Name: "Retail", Points: 15, Conditions: []string{`account.industry == "Retail"`}},
			{Name: "Big budget", Points: 10, Conditions: []string{`contact.custom.budget >= 10000`}},
			{Name: "Opened emails", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}},
			{Name: "Pricing page", Points: 25, Behaviors: []leadcycle.Behavior{{Type: "page_view", Where: `url contains "/pricing"`, Frequency: leadcycle.FrequencyAtLeastOnce, WindowDays: ptr(7)}}},
			{Name: "Silent", Points: -10, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyNone, WindowDays: ptr(60)}}},
		},
		Grades:              []leadcycle.Grade{{Name: "A", Min: ptr[int64](60)}, {Name: "B", Min: ptr[int64](30), Max: ptr[int64](59)}, {Name: "C", Max: ptr[int64](29)}},
		SalesReadyThreshold: ptr[int64](70),
	}
}

// scoringFixture holds the records of the scoring tests.
type scoringFixture struct {
	acme                 *leadcycle.Account
	ana, bo, cy          *leadcycle.Contact
	anaLead, boLead      *leadcycle.Lead
	orphanLead, acmeLead *leadcycle.Lead
}

// newScoringFixture creates: account Acme (Retail); Ana, a director at Acme
// with a budget of 20000; Bo, an engineer without an account; Cy at Acme.
// Ana opened emails 1, 10 and 40 days ago, saw /pricing 2 days ago and /blog
// 1 day ago; Cy opened an email 3 days ago. Leads: Ana's, Bo's, one with no
// parent and one of Acme alone.
func newScoringFixture(t *testing.T, e *env) *scoringFixture {
	MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "budget", Type: leadcycle.FieldNumber})
	f := &scoringFixture{}
	f.acme = MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme", Industry: "Retail"})
	f.ana = MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Ana", Email: "ana@acme.example", JobTitle: "Marketing Director", AccountID: &f.acme.ID, Custom: leadcycle.Custom{"budget": 20000.0}})
	f.bo = MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Bo", Email: "bo@example.org", JobTitle: "Engineer"})
	f.cy = MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Cy", Email: "cy@acme.example", AccountID: &f.acme.ID})
	f.anaLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Ana", ContactID: &f.ana.ID})
	f.boLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Bo", ContactID: &f.bo.ID})
	f.orphanLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Nobody"})
	f.acmeLead = MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Acme", AccountID: &f.acme.ID})
	now := e.clock.Now()
	for _, i := range []leadcycle.Interaction{
		{Type: "email_opened", ContactID: f.ana.ID, OccurredAt: now.Add(-1 * day)},
		{Type: "email_opened", ContactID: f.ana.ID, OccurredAt: now.Add(-10 * day)},
		{Type: "email_opened", ContactID: f.ana.ID, OccurredAt: now.Add(-40 * day)},
		{Type: "page_view", ContactID: f.ana.ID, OccurredAt: now.Add(-2 * day), Properties: map[string]any{"url": "https://acme.example/pricing"}},
		{Type: "page_view", ContactID: f.ana.ID, OccurredAt: now.Add(-1 * day), Properties: map[string]any{"url": "https://acme.example/blog"}},
		{Type: "email_opened", ContactID: f.cy.ID, OccurredAt: now.Add(-3 * day)},
	} {
		MustCreateInteraction(t, e.ctx, e.s, &i)
	}
	return f
}

var scoringTests = []test{
	{"model_validation", func(t *testing.T, e *env) {
		// The custom field budget is not declared yet.
		wantErr(t, e.s.ScoringModels().Create(e.ctx, fitModel()), leadcycle.EInvalid, "rules[2].conditions[0]")
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "budget", Type: leadcycle.FieldNumber})
		MustCreate(t, e.ctx, e.s.ScoringModels(), fitModel())
		bad := fitModel()
		bad.Key = "bad"
		bad.Rules[0].Conditions = []string{`contact.titel == "x"`}
		bad.Rules[3].Behaviors[0].WindowDays = ptr(-3)
		bad.Grades[1].Min = ptr[int64](50) // B 50–65 overlaps A ≥ 60
		bad.Grades[1].Max = ptr[int64](65)
		err := e.s.ScoringModels().Create(e.ctx, bad)
		wantErr(t, err, leadcycle.EInvalid, "rules[0].conditions[0]", "rules[3].behaviors[0].window_days", "grades[0]")
		typed := fitModel()
		typed.Key = "typed"
		typed.Rules[2].Conditions = []string{`contact.email > 5`}
		wantErr(t, e.s.ScoringModels().Create(e.ctx, typed), leadcycle.EInvalid, "rules[2].conditions[0]")
		// A second draft of the same key is a conflict.
		wantErr(t, e.s.ScoringModels().Create(e.ctx, fitModel()), leadcycle.EConflict)
	}},
	{"scores_reproduce_hand_computation", func(t *testing.T, e *env) {
		f := newScoringFixture(t, e)
		m := MustPublishModel(t, e.ctx, e.s, fitModel())
		if m.Status != leadcycle.ModelLive || m.Rescore.State != leadcycle.RescoreDone || m.Rescore.Done != 4 || m.Rescore.Scored != 2 || m.Rescore.Unscorable != 2 {
			t.Errorf("model after publish: status %s rescore %+v, want live, done 4, scored 2, unscorable 2", m.Status, m.Rescore)
		}
		// Ana: 20 + 15 + 10 + 2×5 (two opens in 30 days) + 25 = 80; she opened
		// emails in 60 days, so Silent does not hold.
		wantScore(t, e.ctx, e.s, f.anaLead.ID, m.ID, 80, "A")
		// Bo: only Silent holds: −10.
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, -10, "C")
		if s := scoreOf(t, e.ctx, e.s, f.orphanLead.ID, m.ID); s != nil {
			t.Errorf("a lead without parent got a score: %+v", s)
		}
		got := MustGet(t, e.ctx, e.s.Leads(), f.anaLead.ID)
		diff(t, "lead scores", []leadcycle.LeadScore{{ModelID: m.ID, Score: 80, Grade: "A"}}, got.Scores)
		if !got.SalesReady {
			t.Error("Ana's lead reached 80 ≥ 70 but is not sales ready")
		}
		detail := scoreOf(t, e.ctx, e.s, f.anaLead.ID, m.ID)
		want := map[string]int64{"Director": 20, "Retail": 15, "Big budget": 10, "Opened emails": 10, "Pricing page": 25}
		for _, r := range detail.Rules {
			if want[r.Rule] != r.Points {
				t.Errorf("rule %s added %d, want %d", r.Rule, r.Points, want[r.Rule])
			}
			if r.Rule == "Opened emails" && (r.Matches != 2 || len(r.InteractionIDs) != 2) {
				t.Errorf("Opened emails explanation: %+v, want 2 matching interactions", r)
			}
			delete(want, r.Rule)
		}
		if len(want) > 0 {
			t.Errorf("rules missing from the explanation: %v", want)
		}
		unscorable, err := e.s.Scoring().UnscorableLeads(e.ctx, m.ID, leadcycle.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "unscorable leads", []leadcycle.ID{f.orphanLead.ID, f.acmeLead.ID}, ids(unscorable.Items))
	}},
	{"realtime_and_windows", func(t *testing.T, e *env) {
		f := newScoringFixture(t, e)
		m := MustPublishModel(t, e.ctx, e.s, fitModel())
		// A new open adds 5 at once.
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.bo.ID})
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 5, "C") // −10 no longer holds: 5
		// A demographic change counts too.
		MustUpdate(t, e.ctx, e.s.Contacts(), f.bo.ID, func(c *leadcycle.Contact) error { c.JobTitle = "IT Director"; return nil })
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 25, "C")
		// Ana's pricing view (2 days old) leaves its 7-day window exactly 5
		// days from now: still in 1µs before, out at the boundary.
		e.clock.Advance(5*day - time.Microsecond)
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.anaLead.ID, m.ID, 80, "A")
		e.clock.Advance(time.Microsecond)
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.anaLead.ID, m.ID, 55, "B")
		if l := MustGet(t, e.ctx, e.s.Leads(), f.anaLead.ID); !l.SalesReady {
			t.Error("sales ready must be sticky when the score drops")
		}
		// 59 days after Bo's open (made at the epoch), Silent still does not
		// hold; at 60 days it does again.
		e.clock.Set(Epoch.Add(60*day - time.Microsecond))
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 20, "C") // Director 20; the open is out of the 30-day window
		e.clock.Set(Epoch.Add(60 * day))
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 10, "C")
		// Deleting Ana leaves her lead without a parent: its score goes.
		MustDelete(t, e.ctx, e.s.Contacts(), f.ana.ID)
		MustDrainScoring(t, e.ctx, e.s)
		if s := scoreOf(t, e.ctx, e.s, f.anaLead.ID, m.ID); s != nil {
			t.Errorf("the lead of a deleted contact keeps a score: %+v", s)
		}
		history, err := e.s.Scoring().ScoreHistory(e.ctx, f.boLead.ID, leadcycle.ListQuery{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		if len(history.Items) != 2 || history.NextCursor == "" || *history.Items[0].NewScore != 10 || *history.Items[0].OldScore != 20 {
			t.Errorf("history page: %+v", history)
		}
		rest, err := e.s.Scoring().ScoreHistory(e.ctx, f.boLead.ID, leadcycle.ListQuery{Cursor: history.NextCursor})
		if err != nil {
			t.Fatal(err)
		}
		// −10 (publish), 5, 25, 20, 10: five entries.
		if n := len(history.Items) + len(rest.Items); n != 5 {
			t.Errorf("Bo's lead has %d ledger entries, want 5: %+v %+v", n, history.Items, rest.Items)
		}
	}},
	{"account_based", func(t *testing.T, e *env) {
		f := newScoringFixture(t, e)
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Account engagement", Target: leadcycle.TargetAccount,
			Rules: []leadcycle.ScoringRule{
				{Name: "Opens", Points: 3, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}},
				{Name: "Retail", Points: 1, Conditions: []string{`account.industry == "Retail"`}},
			},
		})
		// Ana's two opens in 30 days and Cy's one: 3×3 + 1 = 10.
		wantScore(t, e.ctx, e.s, f.acmeLead.ID, m.ID, 10, "")
		// Ana's lead (Acme through Ana) is a contact-based lead: not scored.
		for _, l := range []*leadcycle.Lead{f.anaLead, f.boLead} {
			if s := scoreOf(t, e.ctx, e.s, l.ID, m.ID); s != nil {
				t.Errorf("contact-based lead %s got an account-based score: %+v", l.Topic, s)
			}
		}
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.cy.ID})
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.acmeLead.ID, m.ID, 13, "")
		// Bo joins Acme: his opens count from now on.
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.bo.ID})
		MustUpdate(t, e.ctx, e.s.Contacts(), f.bo.ID, func(c *leadcycle.Contact) error { c.AccountID = &f.acme.ID; return nil })
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.acmeLead.ID, m.ID, 16, "")
		// Cy leaves Acme: his two opens go with him.
		MustUpdate(t, e.ctx, e.s.Contacts(), f.cy.ID, func(c *leadcycle.Contact) error { c.AccountID = nil; return nil })
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.acmeLead.ID, m.ID, 10, "")
		// An interaction given another account explicitly stays with it.
		other := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Other"})
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.bo.ID, AccountID: &other.ID})
		MustUpdate(t, e.ctx, e.s.Contacts(), f.bo.ID, func(c *leadcycle.Contact) error { c.AccountID = nil; return nil })
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.acmeLead.ID, m.ID, 7, "")
		if n := len(MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{Sort: "occurred_at", Filters: []leadcycle.Filter{{Columns: []string{"account_id"}, Op: leadcycle.OpEq, Value: int64(other.ID)}}})); n != 1 {
			t.Errorf("interactions of the other account after Bo left Acme: %d, want 1", n)
		}
	}},
	{"deleted_interactions_no_longer_count", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "gone@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "gone", ContactID: &c.ID})
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Pings", Rules: []leadcycle.ScoringRule{{Name: "Ping", Points: 2, Behaviors: []leadcycle.Behavior{{Type: "custom:ping", Frequency: leadcycle.FrequencyEachTime}}}},
		})
		pings := make([]*leadcycle.Interaction, 3)
		for k := range pings {
			pings[k] = &leadcycle.Interaction{Type: "custom:ping", ContactID: c.ID}
			MustCreateInteraction(t, e.ctx, e.s, pings[k])
		}
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 6, "")
		MustDelete(t, e.ctx, e.s.Interactions(), pings[1].ID)
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 4, "")
	}},
	{"account_histories_follow_interaction_accounts", func(t *testing.T, e *env) {
		// An account-based lead counts the interactions that carry its
		// account: set from the contact, moved with it, or given
		// explicitly. Every step checks the scores, read in real time and
		// after a full rescore, against the interactions listed by account.
		f := newScoringFixture(t, e)
		other := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Other"})
		otherLead := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Other", AccountID: &other.ID})
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Account activity", Target: leadcycle.TargetAccount,
			Rules: []leadcycle.ScoringRule{
				{Name: "Opens", Points: 3, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime}}},
				{Name: "Pricing", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "page_view", Where: `url contains "pricing"`, Frequency: leadcycle.FrequencyEachTime}}},
			},
		})
		// want is 3 per open and 5 per pricing page view carrying the account.
		want := func(a leadcycle.ID) int64 {
			t.Helper()
			var n int64
			for _, i := range MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{Sort: "occurred_at", Limit: 100, Filters: []leadcycle.Filter{{Columns: []string{"account_id"}, Op: leadcycle.OpEq, Value: int64(a)}}}) {
				switch {
				case i.Type == "email_opened":
					n += 3
				case i.Type == "page_view" && strings.Contains(fmt.Sprint(i.Properties["url"]), "pricing"):
					n += 5
				}
			}
			return n
		}
		check := func(step string, acme, others int64) {
			t.Helper()
			MustDrainScoring(t, e.ctx, e.s)
			for _, c := range []struct {
				lead    *leadcycle.Lead
				account leadcycle.ID
				score   int64
			}{{f.acmeLead, f.acme.ID, acme}, {otherLead, other.ID, others}} {
				if listed := want(c.account); listed != c.score {
					t.Fatalf("%s: the interactions listed with account %s are worth %d, the test expects %d", step, c.account, listed, c.score)
				}
				if got := scoreOf(t, e.ctx, e.s, c.lead.ID, m.ID); got == nil || got.Score != c.score {
					t.Errorf("%s: lead %s scores %+v, want %d", step, c.lead.Topic, got, c.score)
				}
			}
		}
		rescored := func(step string, acme, others int64) {
			t.Helper()
			next, err := e.s.Scoring().NewVersion(e.ctx, m.ID, func(*leadcycle.ScoringModel) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			MustPublishModelID(t, e.ctx, e.s, next.ID)
			m = MustGet(t, e.ctx, e.s.ScoringModels(), next.ID)
			check(step+", after a full rescore", acme, others)
		}
		// Ana's three opens and pricing view, Cy's open.
		check("the fixture", 3*4+5, 0)
		// Ana opens an email given the other account: it counts there only.
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.ana.ID, AccountID: &other.ID})
		check("Ana's open given the other account", 3*4+5, 3)
		// Bo, in no account, views pricing given Acme: it counts for Acme.
		boView := &leadcycle.Interaction{Type: "page_view", ContactID: f.bo.ID, AccountID: &f.acme.ID, Properties: map[string]any{"url": "https://acme.example/pricing"}}
		MustCreateInteraction(t, e.ctx, e.s, boView)
		check("Bo's pricing view given Acme", 3*4+5+5, 3)
		rescored("Bo's pricing view given Acme", 3*4+5+5, 3)
		// Ana moves to the other account with her history; Bo joins it too,
		// and his view given Acme stays with Acme.
		MustUpdate(t, e.ctx, e.s.Contacts(), f.ana.ID, func(c *leadcycle.Contact) error { c.AccountID = &other.ID; return nil })
		MustUpdate(t, e.ctx, e.s.Contacts(), f.bo.ID, func(c *leadcycle.Contact) error { c.AccountID = &other.ID; return nil })
		check("Ana and Bo in the other account", 3+5, 3*4+5)
		rescored("Ana and Bo in the other account", 3+5, 3*4+5)
		// Deleting the other account takes it off every interaction.
		explicit := MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{Sort: "occurred_at", Limit: 100, Filters: []leadcycle.Filter{{Columns: []string{"account_id"}, Op: leadcycle.OpEq, Value: int64(other.ID)}}})
		MustDelete(t, e.ctx, e.s.Accounts(), other.ID)
		for _, i := range explicit {
			if got := MustGet(t, e.ctx, e.s.Interactions(), i.ID); got.AccountID != nil {
				t.Errorf("interaction %s still carries account %s after it was deleted", i.ID, *got.AccountID)
			}
		}
		if got := MustGet(t, e.ctx, e.s.Leads(), otherLead.ID); got.AccountID != nil {
			t.Errorf("the other account's lead still has account %s", *got.AccountID)
		}
		MustDrainScoring(t, e.ctx, e.s)
		if got := scoreOf(t, e.ctx, e.s, f.acmeLead.ID, m.ID); got == nil || got.Score != 3+5 {
			t.Errorf("Acme after the other account was deleted: %+v, want 8", got)
		}
		// Ana comes back to Acme with everything she did, none of it counted twice.
		MustUpdate(t, e.ctx, e.s.Contacts(), f.ana.ID, func(c *leadcycle.Contact) error { c.AccountID = &f.acme.ID; return nil })
		MustDrainScoring(t, e.ctx, e.s)
		if got, listed := scoreOf(t, e.ctx, e.s, f.acmeLead.ID, m.ID), want(f.acme.ID); got == nil || got.Score != listed || listed != 3*5+5+5 {
			t.Errorf("Acme after Ana came back: %+v, listed %d, want %d", got, listed, 3*5+5+5)
		}
		// A deleted interaction no longer counts.
		MustDelete(t, e.ctx, e.s.Interactions(), boView.ID)
		MustDrainScoring(t, e.ctx, e.s)
		if got := scoreOf(t, e.ctx, e.s, f.acmeLead.ID, m.ID); got == nil || got.Score != 3*5+5 {
			t.Errorf("Acme after Bo's view was deleted: %+v, want %d", got, 3*5+5)
		}
		// An account that does not exist is refused.
		err := e.s.Interactions().Create(e.ctx, &leadcycle.Interaction{Type: "email_opened", ContactID: f.cy.ID, AccountID: &other.ID})
		wantErr(t, err, leadcycle.EInvalid, "account_id")
		err = e.s.AddInteractions(e.ctx, []leadcycle.Interaction{{Type: "email_opened", ContactID: f.cy.ID, AccountID: &other.ID}})
		wantErr(t, err, leadcycle.EInvalid, "items[0].account_id")
	}},
	{"versions_and_stop", func(t *testing.T, e *env) {
		f := newScoringFixture(t, e)
		v1 := MustPublishModel(t, e.ctx, e.s, fitModel())
		if _, err := e.s.ScoringModels().Update(e.ctx, v1.ID, func(m *leadcycle.ScoringModel) error { m.Name = "x"; return nil }); leadcycle.ErrorCode(err) != leadcycle.EConflict {
			t.Errorf("editing a live model in place: %v, want conflict", err)
		}
		v2, err := e.s.Scoring().NewVersion(e.ctx, v1.ID, func(m *leadcycle.ScoringModel) error { m.Rules[0].Points = 30; return nil })
		if err != nil {
			t.Fatal(err)
		}
		if v2.Version != 2 || v2.Status != leadcycle.ModelDraft || v2.Key != "fit" || v2.PreviousVersionID == nil || *v2.PreviousVersionID != v1.ID {
			t.Errorf("new version: %+v", v2)
		}
		if _, err := e.s.Scoring().NewVersion(e.ctx, v1.ID, func(*leadcycle.ScoringModel) error { return nil }); leadcycle.ErrorCode(err) != leadcycle.EConflict {
			t.Errorf("a second draft of the same model: %v, want conflict", err)
		}
		if _, err := e.s.Scoring().Publish(e.ctx, v2.ID); err != nil {
			t.Fatal(err)
		}
		MustDrainScoring(t, e.ctx, e.s)
		if old := MustGet(t, e.ctx, e.s.ScoringModels(), v1.ID); old.Status != leadcycle.ModelStopped {
			t.Errorf("v1 is %s after v2 was published, want stopped", old.Status)
		}
		wantScore(t, e.ctx, e.s, f.anaLead.ID, v2.ID, 90, "A")
		diff(t, "Ana's lead scores after v2", []leadcycle.LeadScore{{ModelID: v2.ID, Score: 90, Grade: "A"}}, MustGet(t, e.ctx, e.s.Leads(), f.anaLead.ID).Scores)
		if _, err := e.s.Scoring().Stop(e.ctx, v2.ID, true); err != nil {
			t.Fatal(err)
		}
		wantScore(t, e.ctx, e.s, f.anaLead.ID, v2.ID, 90, "A")
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.ana.ID})
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.anaLead.ID, v2.ID, 90, "A") // a stopped model no longer scores
		v3, err := e.s.Scoring().NewVersion(e.ctx, v2.ID, func(*leadcycle.ScoringModel) error { return nil })
		if err != nil {
			t.Fatal(err)
		}
		MustPublishModelID(t, e.ctx, e.s, v3.ID)
		if _, err := e.s.Scoring().Stop(e.ctx, v3.ID, false); err != nil {
			t.Fatal(err)
		}
		if s := scoreOf(t, e.ctx, e.s, f.anaLead.ID, v3.ID); s != nil {
			t.Errorf("stop with clear kept a score: %+v", s)
		}
		if err := e.s.ScoringModels().Delete(e.ctx, v3.ID); err != nil {
			t.Errorf("deleting a stopped model: %v", err)
		}
	}},
	{"sales_ready_exactly_once", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "hot@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "hot", ContactID: &c.ID})
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Pings", Rules: []leadcycle.ScoringRule{{Name: "Ping", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "custom:ping", Frequency: leadcycle.FrequencyEachTime}}}},
			SalesReadyThreshold: ptr[int64](10), TelesalesReadyThreshold: ptr[int64](5),
		})
		// Two nodes score while eight writers add 40 interactions.
		var writers sync.WaitGroup
		sc := scoreWhile(e, 2, 50)
		for w := range 8 {
			writers.Go(func() {
				for i := range 5 {
					if err := e.s.Interactions().Create(e.ctx, &leadcycle.Interaction{Type: "custom:ping", ContactID: c.ID, Properties: map[string]any{"n": fmt.Sprint(w, i)}}); err != nil {
						sc.errs <- err
					}
				}
			})
		}
		writers.Wait()
		sc.stop(t)
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 40, "")
		got := MustGet(t, e.ctx, e.s.Leads(), l.ID)
		if !got.SalesReady {
			t.Error("the lead passed the threshold but is not sales ready")
		}
		events, err := e.s.Scoring().LeadEvents(e.ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, ev := range events {
			if ev.LeadID == l.ID {
				count[ev.Type]++
			}
		}
		if count[leadcycle.EventLeadTelesalesReady] > 1 || (count[leadcycle.EventLeadTelesalesReady] == 1) != got.TelesalesReady {
			t.Errorf("telesales-ready events: %d with telesales_ready %v, want at most 1 and only with the flag", count[leadcycle.EventLeadTelesalesReady], got.TelesalesReady)
		}
		if count[leadcycle.EventLeadSalesReady] != 1 {
			t.Errorf("sales-ready events: %d, want exactly 1 (%v)", count[leadcycle.EventLeadSalesReady], events)
		}
	}},
	{"scores_current_under_concurrent_batches", func(t *testing.T, e *env) {
		// Four writers store batches of opens for six contacts (two of one
		// account with an account-based lead) while three loops score in
		// small rounds; every lead ends with exactly its opens.
		days := ptr(30)
		contactModel := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Contact opens", Rules: []leadcycle.ScoringRule{
			{Name: "Opens", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: days}}}}})
		accountModel := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Account opens", Target: leadcycle.TargetAccount, Rules: []leadcycle.ScoringRule{
			{Name: "Opens", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: days}}}}})
		acme := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		var contacts []*leadcycle.Contact
		var leads []*leadcycle.Lead
		for i := range 6 {
			c := &leadcycle.Contact{Email: fmt.Sprintf("c%d@example.org", i)}
			if i < 2 {
				c.AccountID = &acme.ID
			}
			contacts = append(contacts, MustCreateContact(t, e.ctx, e.s, c))
			leads = append(leads, MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprint("lead ", i), ContactID: &contacts[i].ID}))
		}
		acmeLead := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Acme", AccountID: &acme.ID})
		MustDrainScoring(t, e.ctx, e.s)
		var writers sync.WaitGroup
		sc := scoreWhile(e, 3, 7)
		opens := make([]int, len(contacts))
		for w := range 4 {
			batches := make([][]leadcycle.Interaction, 10)
			for b := range batches {
				for i := range 12 {
					k := (w + b + i) % len(contacts)
					opens[k]++
					batches[b] = append(batches[b], leadcycle.Interaction{Type: "email_opened", ContactID: contacts[k].ID})
				}
			}
			writers.Go(func() {
				for _, batch := range batches {
					if err := e.s.AddInteractions(e.ctx, batch); err != nil {
						sc.errs <- err
					}
				}
			})
		}
		writers.Wait()
		sc.stop(t)
		// What is left (account-based leads may wait a moment under load).
		MustDrainScoring(t, e.ctx, e.s)
		e.clock.Advance(time.Second)
		MustDrainScoring(t, e.ctx, e.s)
		for i, l := range leads {
			wantScore(t, e.ctx, e.s, l.ID, contactModel.ID, int64(opens[i]), "")
		}
		wantScore(t, e.ctx, e.s, acmeLead.ID, accountModel.ID, int64(opens[0]+opens[1]), "")
	}},
	{"rescore_progress_two_nodes", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "many@example.org", JobTitle: "Director"})
		for i := range 25 {
			MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprint("lead ", i), ContactID: &c.ID})
		}
		MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "orphan"})
		MustDrainScoring(t, e.ctx, e.s)
		m := MustCreate(t, e.ctx, e.s.ScoringModels(), &leadcycle.ScoringModel{
			Name: "Titles", Rules: []leadcycle.ScoringRule{{Name: "Director", Points: 5, Conditions: []string{`contact.job_title == "Director"`}}}})
		if _, err := e.s.Scoring().Publish(e.ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		// Two loops of one node (as the worker runs) and a second node.
		nodes := []leadcycle.Store{e.s, e.s, e.s}
		if sib, ok := e.s.(interface{ Sibling() leadcycle.Store }); ok {
			nodes[2] = sib.Sibling()
		}
		var wg sync.WaitGroup
		for _, node := range nodes {
			wg.Go(func() {
				for range 200 {
					if _, err := node.Scoring().ProcessDue(e.ctx, 3); err != nil {
						t.Error(err)
						return
					}
					if cur, err := node.ScoringModels().Get(e.ctx, m.ID); err != nil || cur.Rescore.State == leadcycle.RescoreDone {
						return
					}
				}
			})
		}
		wg.Wait()
		got := MustGet(t, e.ctx, e.s.ScoringModels(), m.ID).Rescore
		if got.State != leadcycle.RescoreDone || got.Total != 26 || got.Done != 26 || got.Scored != 25 || got.Unscorable != 1 || got.FinishedAt == nil {
			t.Errorf("rescore progress after two nodes: %+v, want done 26 of 26, scored 25, unscorable 1", got)
		}
	}},
	{"where_window_shorter_than_type_window", func(t *testing.T, e *env) {
		// Page views are read for 30 days, their properties only for the 7
		// days the where filter looks at: each view must count once, and the
		// recent ones must carry their url.
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "views@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "views", ContactID: &c.ID})
		now := e.clock.Now()
		for _, v := range []struct {
			ago time.Duration
			url string
		}{{2 * day, "/pricing"}, {10 * day, "/blog"}, {20 * day, "/pricing"}, {40 * day, "/pricing"}} {
			MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "page_view", ContactID: c.ID, OccurredAt: now.Add(-v.ago), Properties: map[string]any{"url": v.url}})
		}
		// The opens and clicks put more parts without properties in the same
		// query (PostgreSQL types a UNION from the left).
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{Name: "Views", Rules: []leadcycle.ScoringRule{
			{Name: "Opens", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime}}},
			{Name: "Clicks", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "email_clicked", Frequency: leadcycle.FrequencyEachTime}}},
			{Name: "Visits", Points: 2, Behaviors: []leadcycle.Behavior{{Type: "page_view", Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}},
			{Name: "Pricing", Points: 25, Behaviors: []leadcycle.Behavior{{Type: "page_view", Where: `url == "/pricing"`, Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(7)}}},
		}})
		// Three views in 30 days (2×3) and one pricing view in 7 days (25).
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 31, "")
	}},
	{"new_interaction_brings_the_next_change_forward", func(t *testing.T, e *env) {
		// Bo's open schedules his lead's next change for the day it leaves
		// its 30-day window; a pricing view a day later leaves its 7-day
		// window sooner, on day 8, and the lead must be scored again then.
		f := newScoringFixture(t, e)
		m := MustPublishModel(t, e.ctx, e.s, fitModel())
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: f.bo.ID, OccurredAt: Epoch})
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 5, "C")
		e.clock.Set(Epoch.Add(day))
		MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "page_view", ContactID: f.bo.ID, Properties: map[string]any{"url": "https://example.org/pricing"}})
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 30, "B")
		e.clock.Set(Epoch.Add(8*day - time.Microsecond))
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 30, "B")
		e.clock.Set(Epoch.Add(8 * day))
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, f.boLead.ID, m.ID, 5, "C")
	}},
	{"telesales_ready_below_sales_ready", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "warm@example.org", JobTitle: "Director"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "warm", ContactID: &c.ID})
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Warmth", Rules: []leadcycle.ScoringRule{
				{Name: "Director", Points: 40, Conditions: []string{`contact.job_title == "Director"`}},
				{Name: "Opens", Points: 30, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime}}},
			},
			TelesalesReadyThreshold: ptr[int64](40), SalesReadyThreshold: ptr[int64](100),
		})
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 40, "")
		got := MustGet(t, e.ctx, e.s.Leads(), l.ID)
		if !got.TelesalesReady || got.SalesReady {
			t.Errorf("at 40 (telesales 40, sales 100): telesales ready %v, sales ready %v; want true, false", got.TelesalesReady, got.SalesReady)
		}
		for range 2 {
			MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_opened", ContactID: c.ID})
		}
		MustDrainScoring(t, e.ctx, e.s)
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 100, "")
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); !got.SalesReady {
			t.Error("at 100 the lead is not sales ready")
		}
		events, err := e.s.Scoring().LeadEvents(e.ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		var types []string
		for _, ev := range events {
			if ev.LeadID == l.ID {
				types = append(types, ev.Type)
			}
		}
		diff(t, "events of the lead", []string{leadcycle.EventLeadTelesalesReady, leadcycle.EventLeadSalesReady}, types)
	}},
	{"closed_leads_not_marked", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "won@example.org", JobTitle: "Director"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "won", ContactID: &c.ID, Status: leadcycle.LeadQualified})
		m := MustPublishModel(t, e.ctx, e.s, &leadcycle.ScoringModel{
			Name: "Titles", Rules: []leadcycle.ScoringRule{{Name: "Director", Points: 50, Conditions: []string{`contact.job_title == "Director"`}}},
			SalesReadyThreshold: ptr[int64](10),
		})
		wantScore(t, e.ctx, e.s, l.ID, m.ID, 50, "")
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID); got.SalesReady {
			t.Error("a qualified lead was marked sales ready")
		}
	}},
	{"add_interactions_all_or_none", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "batch@example.org"})
		items := []leadcycle.Interaction{{Type: "email_opened", ContactID: c.ID}, {Type: "nonsense", ContactID: c.ID}}
		wantErr(t, e.s.AddInteractions(e.ctx, items), leadcycle.EInvalid, "items[1].type")
		page := MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{})
		if len(page) != 0 {
			t.Errorf("a failed batch stored %d interactions", len(page))
		}
		items = []leadcycle.Interaction{{Type: "email_opened", ContactID: c.ID}, {Type: "page_view", ContactID: c.ID}}
		if err := e.s.AddInteractions(e.ctx, items); err != nil {
			t.Fatal(err)
		}
		if items[0].ID == 0 || items[1].ID == 0 {
			t.Errorf("ids not filled: %+v", items)
		}
	}},
}

// MustPublishModelID publishes an existing draft and runs the scorer.
func MustPublishModelID(tb testing.TB, ctx context.Context, s leadcycle.Store, id leadcycle.ID) {
	tb.Helper()
	if _, err := s.Scoring().Publish(ctx, id); err != nil {
		tb.Fatalf("publish model %s: %v", id, err)
	}
	MustDrainScoring(tb, ctx, s)
}
