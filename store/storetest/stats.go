package storetest

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var statsTests = []test{
	{"empty", func(t *testing.T, e *env) {
		got, err := e.s.LeadStats(e.ctx, e.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		want := &leadcycle.LeadStats{ByStage: []leadcycle.Count{}, BySource: []leadcycle.Count{}, ByStatus: []leadcycle.Count{}, Scores: []leadcycle.ScoreDistribution{}}
		diff(t, "stats of an empty store", want, got)
	}},
	{"counts_and_distributions", func(t *testing.T, e *env) {
		want := newStatsFixture(t, e)
		now := e.clock.Now()
		got, err := e.s.LeadStats(e.ctx, now)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "lead stats", want, got)

		// A microsecond earlier the week holds the lead made exactly seven
		// days before now, but not the five made at now.
		got, err = e.s.LeadStats(e.ctx, now.Add(-time.Microsecond))
		if err != nil {
			t.Fatal(err)
		}
		if got.NewThisWeek != 2 {
			t.Errorf("new this week a microsecond before now = %d, want 2", got.NewThisWeek)
		}
	}},
	{"distributions_follow_score_changes", func(t *testing.T, e *env) {
		ctx, s := e.ctx, e.s
		leads := map[string]*leadcycle.Lead{}
		contacts := map[string]*leadcycle.Contact{}
		for _, c := range []struct{ name, title string }{{"a", "Director"}, {"b", "Manager"}, {"c", "Intern"}, {"d", "Manager"}} {
			contacts[c.name] = MustCreateContact(t, ctx, s, &leadcycle.Contact{FirstName: c.name, JobTitle: c.title})
			leads[c.name] = MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: c.name, ContactID: &contacts[c.name].ID, Source: leadcycle.SourceAPI})
		}
		fit := MustPublishModel(t, ctx, s, statsModel("fit", nil, map[string]int64{"Director": 100, "Manager": 30, "Intern": -5}))
		check := func(when string, negative int64, buckets []int64, total int64) {
			t.Helper()
			got, err := s.LeadStats(ctx, e.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			want := []leadcycle.ScoreDistribution{{ModelID: fit.ID, ModelKey: fit.Key, ModelName: fit.Name, Negative: negative, Width: 10, Buckets: buckets, Total: total}}
			diff(t, "score distribution "+when, want, got.Scores)
		}
		// 100, 30, −5 and 30.
		check("after publishing", 1, []int64{0, 0, 0, 2, 0, 0, 0, 0, 0, 1}, 4)

		// b becomes a director (30 → 100), c's title goes (−5 → 0), d's
		// lead is deleted with its score, and an interaction rescoring a
		// unchanged leaves its count alone.
		MustUpdate(t, ctx, s.Contacts(), contacts["b"].ID, func(c *leadcycle.Contact) error { c.JobTitle = "Director"; return nil })
		MustUpdate(t, ctx, s.Contacts(), contacts["c"].ID, func(c *leadcycle.Contact) error { c.JobTitle = ""; return nil })
		MustDelete(t, ctx, s.Leads(), leads["d"].ID)
		MustCreateInteraction(t, ctx, s, &leadcycle.Interaction{Type: "page_view", ContactID: contacts["a"].ID})
		MustDrainScoring(t, ctx, s)
		check("after the scores changed", 0, []int64{1, 0, 0, 0, 0, 0, 0, 0, 0, 2}, 3)

		// A contact's lead taken away from it is no longer scored.
		MustUpdate(t, ctx, s.Leads(), leads["a"].ID, func(l *leadcycle.Lead) error {
			l.ContactID = nil
			l.AccountID = nil
			return nil
		})
		MustDrainScoring(t, ctx, s)
		check("after a lead lost its contact", 0, []int64{1, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 2)
	}},
}

// statsModel is a contact-based model whose rules add the points when the
// contact's job title contains the word.
func statsModel(key string, threshold *int64, points map[string]int64) *leadcycle.ScoringModel {
	m := &leadcycle.ScoringModel{Name: key, Key: key, SalesReadyThreshold: threshold}
	for _, word := range []string{"Director", "Manager", "Intern"} {
		if p, ok := points[word]; ok {
			m.Rules = append(m.Rules, leadcycle.ScoringRule{Name: word, Points: p, Conditions: []string{`contact.job_title contains "` + word + `"`}})
		}
	}
	return m
}

// newStatsFixture creates leads of several stages, sources, statuses and
// flags, scored by three live models (plus a stopped one and a draft, which
// do not count), and returns the stats they make at the clock's time.
func newStatsFixture(t *testing.T, e *env) *leadcycle.LeadStats {
	ctx, s := e.ctx, e.s
	short := MustCreateProcess(t, ctx, s, "Short", leadcycle.StageInquiry, "won")
	// Made seven days before now: outside the week, by a microsecond.
	MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "old", Source: leadcycle.SourceManual, Stage: leadcycle.StageSalesAcceptance, SalesReady: true})
	e.clock.Advance(time.Microsecond)
	// Just under seven days before now: inside the week.
	MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "short", Source: leadcycle.SourceManual, ProcessID: &short.ID, Stage: leadcycle.StageInquiry})
	e.clock.Advance(7*day - time.Microsecond)

	contact := func(title string) *leadcycle.ID {
		c := MustCreateContact(t, ctx, s, &leadcycle.Contact{FirstName: title, JobTitle: title})
		return &c.ID
	}
	for _, l := range []leadcycle.Lead{
		{Topic: "director", ContactID: contact("Director"), Source: leadcycle.SourceForm},
		{Topic: "manager", ContactID: contact("Manager"), Source: leadcycle.SourceAPI, Stage: leadcycle.StageTelesalesAcceptance, TelesalesReady: true},
		{Topic: "intern", ContactID: contact("Intern"), Source: leadcycle.SourceImport, Status: leadcycle.LeadDisqualified, StatusReason: "lost"},
		{Topic: "engineer", ContactID: contact("Engineer"), Source: leadcycle.SourceAPI, Status: leadcycle.LeadQualified, Stage: leadcycle.StageSalesAcceptance, SalesReady: true},
		// Scores 135 under fit, over its threshold: marked sales ready.
		{Topic: "both", ContactID: contact("Director Manager"), Source: leadcycle.SourceForm},
	} {
		MustCreateLead(t, ctx, s, &l)
	}

	stopped := MustPublishModel(t, ctx, s, statsModel("old", nil, map[string]int64{"Director": 1}))
	if _, err := s.Scoring().Stop(ctx, stopped.ID, true); err != nil {
		t.Fatalf("stop model: %v", err)
	}
	MustCreate(t, ctx, s.ScoringModels(), statsModel("draft", nil, map[string]int64{"Director": 7}))
	fit := MustPublishModel(t, ctx, s, statsModel("fit", ptr[int64](120), map[string]int64{"Director": 100, "Manager": 35, "Intern": -5}))
	reach := MustPublishModel(t, ctx, s, statsModel("reach", nil, map[string]int64{"Director": 50, "Manager": 50}))
	quiet := statsModel("quiet", ptr[int64](55), map[string]int64{"Director": 1})
	quiet.AppliesTo = `lead.source == "journey"` // scores none of the leads
	quiet = MustPublishModel(t, ctx, s, quiet)

	dist := func(m *leadcycle.ScoringModel, negative, width int64, buckets []int64, total int64) leadcycle.ScoreDistribution {
		return leadcycle.ScoreDistribution{ModelID: m.ID, ModelKey: m.Key, ModelName: m.Name, SalesReadyThreshold: m.SalesReadyThreshold,
			Negative: negative, Width: width, Buckets: buckets, Total: total}
	}
	return &leadcycle.LeadStats{
		ByStage: []leadcycle.Count{{Key: leadcycle.StageInquiry, Count: 3}, {Key: leadcycle.StageSalesAcceptance, Count: 1}, {Key: leadcycle.StageTelesalesAcceptance, Count: 1}},
		BySource: []leadcycle.Count{{Key: leadcycle.SourceAPI, Count: 2}, {Key: leadcycle.SourceForm, Count: 2}, {Key: leadcycle.SourceManual, Count: 2},
			{Key: leadcycle.SourceImport, Count: 1}},
		ByStatus: []leadcycle.Count{{Key: leadcycle.LeadOpen, Count: 5}, {Key: leadcycle.LeadDisqualified, Count: 1}, {Key: leadcycle.LeadQualified, Count: 1}},
		Scores: []leadcycle.ScoreDistribution{
			// Scores 100, 35, −5, 0 and 135; the highest, 135, makes the
			// width 14 and falls in the last bucket (126–139).
			dist(fit, 1, 14, []int64{1, 0, 1, 0, 0, 0, 0, 1, 0, 1}, 5),
			// Nothing scored: the threshold 55 alone sets the width.
			dist(quiet, 0, 6, make([]int64, leadcycle.ScoreBuckets), 0),
			// Scores 50, 50, 0, 0 and 100: the width is 10 and 100, past
			// the last bucket (90–99), is counted in it.
			dist(reach, 0, 10, []int64{2, 0, 0, 0, 0, 2, 0, 0, 0, 1}, 5),
		},
		NewThisWeek:    6,
		SalesReady:     2, // "old" and "both"; "engineer" is qualified
		TelesalesReady: 1,
	}
}
