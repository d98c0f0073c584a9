package scoring_test

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// benchModel is a realistic model: two demographic rules, one firmographic,
// three behavioural ones with windows, one of them filtered by where.
func benchModel() *leadcycle.ScoringModel {
	return &leadcycle.ScoringModel{
		Name:   "Bench",
		Grades: grades(),
		Rules: []leadcycle.ScoringRule{
			{Name: "Decision maker", Points: 20, Conditions: []string{`contact.job_title contains "Director" or contact.job_title startsWith "VP"`}},
			{Name: "Budget", Points: 10, Conditions: []string{`contact.custom.budget >= 10000`}},
			{Name: "Target industry", Points: 15, Conditions: []string{`account.industry in ["Software", "Finance"]`, `account.employees >= 200`}},
			{Name: "Pricing page", Points: 5, Behaviors: []leadcycle.Behavior{
				{Type: "page_view", Where: `url contains "/pricing"`, Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}},
			{Name: "Opens", Points: 10, Behaviors: []leadcycle.Behavior{
				{Type: "email_opened", Frequency: leadcycle.FrequencyAtLeast, Count: 3, WindowDays: ptr(30)}}},
			{Name: "Form", Points: 25, HalfLifeDays: ptr(30.0), Behaviors: []leadcycle.Behavior{
				{Type: "form_submitted", WindowDays: ptr(90)}}},
		},
	}
}

// benchSubject is a lead with ten interactions of several types.
func benchSubject() scoring.Subject {
	var ints []leadcycle.Interaction
	pages := []string{"/pricing", "/blog/a", "/pricing?plan=pro", "/docs", "/"}
	for i := range 5 {
		ints = append(ints, ix(int64(i+1), "page_view", ago(time.Duration(i*4)*day),
			map[string]any{"url": "https://acme.example" + pages[i], "referrer": "https://www.google.com/"}))
	}
	for i := range 3 {
		ints = append(ints, ix(int64(i+10), "email_opened", ago(time.Duration(i*6+1)*day), map[string]any{"email_id": float64(40 + i)}))
	}
	ints = append(ints, ix(20, "form_submitted", ago(12*day), map[string]any{"form_id": "3"}))
	ints = append(ints, ix(21, "email_sent", ago(2*day), map[string]any{"email_id": 41.0}))
	return scoring.Subject{
		Lead:         &leadcycle.Lead{ID: 1, ContactID: id(1), AccountID: id(10), Status: "open", Source: "form"},
		Contact:      &leadcycle.Contact{ID: 1, JobTitle: "IT Director", Email: "ann@acme.example", Custom: leadcycle.Custom{"budget": 25000.0}},
		Account:      &leadcycle.Account{ID: 10, Name: "Acme", Industry: "Software", Employees: ptr[int64](800)},
		Interactions: ints,
	}
}

func benchSetup(b *testing.B) (*scoring.Model, scoring.Subject) {
	m := compile(b, benchModel(), scoring.Schemas{Contact: leadcycle.Schema{{Name: "budget", Type: leadcycle.FieldNumber}}})
	s := benchSubject()
	// 20 + 10 + 15 + 2×5 + 10 + round(25·0.5^(12/30)) = 65 + 19 = 84.
	if r := m.Score(s, now); r.Score != 84 {
		b.Fatalf("score %d, want 84: %+v", r.Score, r.Rules)
	}
	return m, s
}

func BenchmarkScore(b *testing.B) {
	m, s := benchSetup(b)
	b.ReportAllocs()
	for b.Loop() {
		m.Score(s, now)
	}
}

func BenchmarkScoreParallel(b *testing.B) {
	m, s := benchSetup(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Score(s, now)
		}
	})
}
