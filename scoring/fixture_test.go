package scoring_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// fixtureSchemas declare custom fields of every type.
func fixtureSchemas() scoring.Schemas {
	return scoring.Schemas{
		Contact: leadcycle.Schema{
			{Entity: "contact", Name: "budget", Type: leadcycle.FieldNumber},
			{Entity: "contact", Name: "role", Type: leadcycle.FieldChoice, Choices: []string{"buyer", "user"}},
			{Entity: "contact", Name: "newsletter", Type: leadcycle.FieldBool},
			{Entity: "contact", Name: "signed_up", Type: leadcycle.FieldDate},
			{Entity: "contact", Name: "nickname", Type: leadcycle.FieldText},
		},
		Account: leadcycle.Schema{
			{Entity: "account", Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}},
			{Entity: "account", Name: "partner", Type: leadcycle.FieldBool},
			{Entity: "account", Name: "renewal", Type: leadcycle.FieldDate},
		},
		Lead: leadcycle.Schema{
			{Entity: "lead", Name: "priority", Type: leadcycle.FieldText},
		},
	}
}

// fixtureModel mixes demographic, firmographic, lead and behavioural rules.
func fixtureModel() *leadcycle.ScoringModel {
	return &leadcycle.ScoringModel{
		Name:      "Fit",
		AppliesTo: `lead.status != "disqualified"`,
		Grades:    grades(),
		Rules: []leadcycle.ScoringRule{
			{Name: "Director", Points: 20, Conditions: []string{`contact.job_title contains "Director"`}},
			{Name: "Big budget", Points: 15, Conditions: []string{`contact.custom.budget >= 10000`, `contact.custom.role == "buyer"`}},
			{Name: "Newsletter", Points: 5, Conditions: []string{`contact.custom.newsletter`}},
			{Name: "Recent signup", Points: 7, Conditions: []string{`contact.custom.signed_up > now - duration("720h")`}},
			{Name: "Nickname", Points: 2, Conditions: []string{`contact.custom.nickname != ""`}},
			{Name: "Corporate email", Points: 4, Conditions: []string{`contact.email != "" and contact.email_domain not in ["gmail.com", "yahoo.com"]`}},
			{Name: "Retail", Points: -10, Conditions: []string{`account.industry == "Retail"`}},
			{Name: "Enterprise", Points: 25, Conditions: []string{`account.employees >= 1000`, `account.custom.tier == "gold"`}},
			{Name: "Partner", Points: 3, Conditions: []string{`account.custom.partner && account.custom.renewal > now`}},
			{Name: "Pricing page", Points: 10, Behaviors: []leadcycle.Behavior{
				{Type: "page_view", Where: `url contains "/pricing"`, Frequency: leadcycle.FrequencyEachTime, WindowDays: ptr(30)}}},
			{Name: "Webinar", Points: 30, Behaviors: []leadcycle.Behavior{{Type: "event_attended", WindowDays: ptr(90)}}},
			{Name: "Opened 3", Points: 8, Behaviors: []leadcycle.Behavior{
				{Type: "email_opened", Frequency: leadcycle.FrequencyAtLeast, Count: 3, WindowDays: ptr(14)}}},
			{Name: "Dormant", Points: -15, Behaviors: []leadcycle.Behavior{
				{Type: "page_view", Frequency: leadcycle.FrequencyNone, WindowDays: ptr(60)}}},
			{Name: "Hot lead", Points: 5, Conditions: []string{`lead.custom.priority == "high"`, `lead.source == "form"`}},
		},
	}
}

// fixtureCase is one lead of the fixture with its hand-computed verdict.
type fixtureCase struct {
	name    string
	subject scoring.Subject
	want    scoring.Result
}

func fixtureCases() []fixtureCase {
	acme := &leadcycle.Account{ID: 10, Name: "Acme", Industry: "Software", Employees: ptr[int64](5000),
		Custom: leadcycle.Custom{"tier": "gold", "partner": true, "renewal": "2025-12-31"}}
	retailCo := &leadcycle.Account{ID: 11, Name: "RetailCo", Industry: "Retail", Employees: ptr[int64](50),
		Custom: leadcycle.Custom{"tier": "silver", "partner": false}}
	page := func(n int64, age time.Duration, url string) leadcycle.Interaction {
		return ix(n, "page_view", ago(age), map[string]any{"url": url})
	}
	return []fixtureCase{{
		// Director 20 + Big budget 15 + Newsletter 5 + Recent signup 7 (10 days
		// ago) + Nickname 2 + Corporate email 4 + Enterprise 25 + Partner 3
		// (renewal ahead) + Pricing page 3×10 (1, 5 and 28 days; the 31-day
		// view is out) + Webinar 30 (40 days) + Hot lead 5 = 146 → A.
		// Opened 3 has 2 opens in 14 days (the 20-day one is out); Dormant
		// sees page views. NextChange: the 28-day pricing view leaves its
		// 30-day window in 2 days.
		name: "alice",
		subject: scoring.Subject{
			Lead: &leadcycle.Lead{ID: 1, ContactID: id(1), AccountID: id(10), Status: "open", Source: "form",
				Custom: leadcycle.Custom{"priority": "high"}},
			Contact: &leadcycle.Contact{ID: 1, JobTitle: "Marketing Director", Email: "alice@acme.com", AccountID: id(10),
				Custom: leadcycle.Custom{"budget": 20000.0, "role": "buyer", "newsletter": true, "signed_up": "2025-06-05", "nickname": "Al"}},
			Account: acme,
			Interactions: []leadcycle.Interaction{
				page(104, 31*day, "https://acme.example/pricing"),
				page(101, 1*day, "https://acme.example/pricing"),
				page(103, 28*day, "https://acme.example/pricing"),
				page(102, 5*day, "https://acme.example/pricing?plan=pro"),
				page(105, 2*day, "https://acme.example/blog"),
				ix(106, "event_attended", ago(40*day), map[string]any{"event_id": 7.0}),
				ix(107, "email_opened", ago(1*day), nil),
				ix(108, "email_opened", ago(3*day), nil),
				ix(109, "email_opened", ago(20*day), nil),
				ix(110, "form_submitted", ago(1*day), map[string]any{"form_id": "3"}),
			},
		},
		want: scoring.Result{Applies: true, Scorable: true, Score: 146, Grade: "A", NextChange: now.Add(2 * day),
			Rules: []leadcycle.RuleContribution{
				{Rule: "Director", Points: 20, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Big budget", Points: 15, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Newsletter", Points: 5, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Recent signup", Points: 7, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Nickname", Points: 2, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Corporate email", Points: 4, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Enterprise", Points: 25, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Partner", Points: 3, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Pricing page", Points: 30, Matches: 3, InteractionIDs: []leadcycle.ID{101, 102, 103}},
				{Rule: "Webinar", Points: 30, Matches: 1, InteractionIDs: []leadcycle.ID{106}},
				{Rule: "Hot lead", Points: 5, InteractionIDs: []leadcycle.ID{}},
			}},
	}, {
		// Retail −10 + Dormant −15 (no page view at all) = −25 → C. A gmail
		// address is not corporate, 500 is no big budget, silver is not
		// enterprise. Nothing can change with time.
		name: "bob",
		subject: scoring.Subject{
			Lead: &leadcycle.Lead{ID: 2, ContactID: id(2), Status: "open", Source: "api"},
			Contact: &leadcycle.Contact{ID: 2, JobTitle: "Engineer", Email: "bob@gmail.com", AccountID: id(11),
				Custom: leadcycle.Custom{"budget": 500.0, "role": "user"}},
			Account: retailCo,
		},
		want: scoring.Result{Applies: true, Scorable: true, Score: -25, Grade: "C",
			Rules: []leadcycle.RuleContribution{
				{Rule: "Retail", Points: -10, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Dormant", Points: -15, InteractionIDs: []leadcycle.ID{}},
			}},
	}, {
		// No account: Retail, Enterprise and Partner read zero values and
		// fail. Director 20 + Big budget 15 (exactly 10000) + Corporate email
		// 4 + Opened 3 8 (1, 6 and 13 days) + Pricing page 10 (10 days; the
		// 45-day view is out of 30 but keeps Dormant off) = 57 → B. Webinar's
		// attendance is 100 days old, out of 90; the lead's source is api so
		// no Hot lead. NextChange: the third newest open leaves its 14-day
		// window in 1 day.
		name: "carol",
		subject: scoring.Subject{
			Lead: &leadcycle.Lead{ID: 3, ContactID: id(3), Status: "open", Source: "api",
				Custom: leadcycle.Custom{"priority": "high"}},
			Contact: &leadcycle.Contact{ID: 3, JobTitle: "Sales Director", Email: "carol@initech.io",
				Custom: leadcycle.Custom{"budget": 10000.0, "role": "buyer"}},
			Interactions: []leadcycle.Interaction{
				ix(301, "email_opened", ago(1*day), nil),
				ix(302, "email_opened", ago(6*day), nil),
				ix(303, "email_opened", ago(13*day), nil),
				page(304, 10*day, "/pricing"),
				page(305, 45*day, "/pricing"),
				ix(306, "event_attended", ago(100*day), nil),
			},
		},
		want: scoring.Result{Applies: true, Scorable: true, Score: 57, Grade: "B", NextChange: now.Add(1 * day),
			Rules: []leadcycle.RuleContribution{
				{Rule: "Director", Points: 20, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Big budget", Points: 15, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Corporate email", Points: 4, InteractionIDs: []leadcycle.ID{}},
				{Rule: "Pricing page", Points: 10, Matches: 1, InteractionIDs: []leadcycle.ID{304}},
				{Rule: "Opened 3", Points: 8, Matches: 3, InteractionIDs: []leadcycle.ID{301, 302, 303}},
			}},
	}, {
		// A lead without a contact cannot be scored by a contact model.
		name: "no contact",
		subject: scoring.Subject{
			Lead: &leadcycle.Lead{ID: 4, AccountID: id(10), Status: "open"}, Account: acme},
		want: scoring.Result{Applies: true},
	}, {
		// applies_to excludes disqualified leads, whatever they did.
		name: "disqualified",
		subject: scoring.Subject{
			Lead:    &leadcycle.Lead{ID: 5, ContactID: id(1), Status: "disqualified", StatusReason: "lost"},
			Contact: &leadcycle.Contact{ID: 1, JobTitle: "Director"},
			Interactions: []leadcycle.Interaction{
				ix(501, "event_attended", ago(1*day), nil),
			},
		},
		want: scoring.Result{Scorable: true},
	}}
}

func TestFixtureScores(t *testing.T) {
	m := compile(t, fixtureModel(), fixtureSchemas())
	for _, c := range fixtureCases() {
		t.Run(c.name, func(t *testing.T) {
			got := m.Score(c.subject, now)
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("result (-want +got):\n%s", d)
			}
		})
	}
}

func TestFixtureTypesAndSince(t *testing.T) {
	m := compile(t, fixtureModel(), fixtureSchemas())
	if d := cmp.Diff([]string{"email_opened", "event_attended", "page_view"}, m.InteractionTypes()); d != "" {
		t.Errorf("types (-want +got):\n%s", d)
	}
	// The widest window is Webinar's 90 days.
	if since, ok := m.Since(now); !ok || !since.Equal(ago(90*day)) {
		t.Errorf("Since = %v, %v; want %v, true", since, ok, ago(90*day))
	}
}
