package scoring_test

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// now is the fixed evaluation time of the tests.
var now = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// ago returns the time d before now.
func ago(d time.Duration) time.Time { return now.Add(-d) }

func ptr[T any](v T) *T { return &v }

func id(n int64) *leadcycle.ID { return ptr(leadcycle.ID(n)) }

// ix makes an interaction of contact 1.
func ix(n int64, typ string, at time.Time, props map[string]any) leadcycle.Interaction {
	if props == nil {
		props = map[string]any{}
	}
	return leadcycle.Interaction{ID: leadcycle.ID(n), Type: typ, OccurredAt: at, ContactID: 1, Properties: props}
}

// compile normalises and compiles def, failing the test on error.
func compile(t testing.TB, def *leadcycle.ScoringModel, s scoring.Schemas) *scoring.Model {
	t.Helper()
	def.Normalize()
	m, err := scoring.Compile(def, s)
	if err != nil {
		t.Fatalf("compile: %v\nfields: %+v", err, leadcycle.ErrorFields(err))
	}
	return m
}

// oneRule compiles a contact model made of one rule.
func oneRule(t testing.TB, r leadcycle.ScoringRule) *scoring.Model {
	t.Helper()
	if r.Name == "" {
		r.Name = "R"
	}
	if r.Points == 0 {
		r.Points = 10
	}
	return compile(t, &leadcycle.ScoringModel{Name: "Test", Rules: []leadcycle.ScoringRule{r}}, scoring.Schemas{})
}

// behaviorRule is a rule of one behaviour worth points.
func behaviorRule(points int64, b leadcycle.Behavior) leadcycle.ScoringRule {
	return leadcycle.ScoringRule{Name: "R", Points: points, Behaviors: []leadcycle.Behavior{b}}
}

// scoreContact scores a contact-based lead of contact 1 with the interactions.
func scoreContact(m *scoring.Model, ints ...leadcycle.Interaction) scoring.Result {
	lead := &leadcycle.Lead{ID: 1, ContactID: id(1), Status: leadcycle.LeadOpen}
	return m.Score(scoring.Subject{Lead: lead, Contact: &leadcycle.Contact{ID: 1}, Interactions: ints}, now)
}

// grades are A ≥ 80, B 40–79 and C ≤ 39.
func grades() []leadcycle.Grade {
	return []leadcycle.Grade{
		{Name: "A", Min: ptr[int64](80)},
		{Name: "B", Min: ptr[int64](40), Max: ptr[int64](79)},
		{Name: "C", Max: ptr[int64](39)},
	}
}
