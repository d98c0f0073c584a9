package scoring_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

const (
	eachTime    = leadcycle.FrequencyEachTime
	atLeastOnce = leadcycle.FrequencyAtLeastOnce
	atLeast     = leadcycle.FrequencyAtLeast
	none        = leadcycle.FrequencyNone
)

func TestWindowBoundary(t *testing.T) {
	m := oneRule(t, behaviorRule(10, leadcycle.Behavior{Type: "page_view", WindowDays: ptr(7)}))
	for _, c := range []struct {
		name string
		at   time.Time
		want int64
	}{
		{"exactly 7 days old is out", ago(7 * day), 0},
		{"7 days minus 1µs old is in", ago(7*day - time.Microsecond), 10},
		{"now is in", now, 10},
		{"the future is in", now.Add(time.Hour), 10},
		{"8 days old is out", ago(8 * day), 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := scoreContact(m, ix(1, "page_view", c.at, nil)).Score; got != c.want {
				t.Errorf("score = %d, want %d", got, c.want)
			}
		})
	}
}

func TestNoneFlipsAtBoundary(t *testing.T) {
	m := oneRule(t, behaviorRule(-15, leadcycle.Behavior{Type: "page_view", Frequency: none, WindowDays: ptr(7)}))
	// An interaction 1µs short of 7 days keeps the rule off until it leaves
	// the window, 1µs from now.
	in := scoreContact(m, ix(1, "page_view", ago(7*day-time.Microsecond), nil))
	if in.Score != 0 || len(in.Rules) != 0 || !in.NextChange.Equal(now.Add(time.Microsecond)) {
		t.Errorf("inside: score %d rules %v next %v; want 0, none, now+1µs", in.Score, in.Rules, in.NextChange)
	}
	out := scoreContact(m, ix(1, "page_view", ago(7*day), nil))
	want := scoring.Result{Applies: true, Scorable: true, Score: -15,
		Rules: []leadcycle.RuleContribution{{Rule: "R", Points: -15, InteractionIDs: []leadcycle.ID{}}}}
	if d := cmp.Diff(want, out); d != "" {
		t.Errorf("outside (-want +got):\n%s", d)
	}
	// Other types do not count.
	if got := scoreContact(m, ix(1, "email_opened", now, nil)).Score; got != -15 {
		t.Errorf("other type: score %d, want -15", got)
	}
}

func TestSinceUntil(t *testing.T) {
	since, until := ago(10*day), ago(2*day)
	m := oneRule(t, behaviorRule(1, leadcycle.Behavior{Type: "page_view", Frequency: eachTime, Since: &since, Until: &until}))
	r := scoreContact(m,
		ix(1, "page_view", since, nil),                        // in: since is inclusive
		ix(2, "page_view", since.Add(-time.Microsecond), nil), // out
		ix(3, "page_view", until.Add(-time.Microsecond), nil), // in
		ix(4, "page_view", until, nil),                        // out: until is exclusive
		ix(5, "page_view", now, nil),                          // out
	)
	if r.Score != 2 || !cmp.Equal(r.Rules[0].InteractionIDs, []leadcycle.ID{3, 1}) {
		t.Errorf("score %d rules %+v; want 2 from 3 and 1", r.Score, r.Rules)
	}
	if !r.NextChange.IsZero() {
		t.Errorf("past bounds: NextChange %v, want zero", r.NextChange)
	}

	t.Run("only since, in the future", func(t *testing.T) {
		from := now.Add(3 * day)
		m := oneRule(t, behaviorRule(5, leadcycle.Behavior{Type: "page_view", Since: &from}))
		r := scoreContact(m, ix(1, "page_view", ago(day), nil))
		if r.Score != 0 || !r.NextChange.Equal(from) {
			t.Errorf("score %d next %v; want 0, %v", r.Score, r.NextChange, from)
		}
		if s, ok := m.Since(now); !ok || !s.Equal(from) {
			t.Errorf("Since = %v, %v; want %v, true", s, ok, from)
		}
	})
	t.Run("only until", func(t *testing.T) {
		to := now.Add(day)
		m := oneRule(t, behaviorRule(5, leadcycle.Behavior{Type: "page_view", Until: &to}))
		r := scoreContact(m, ix(1, "page_view", ago(400*day), nil))
		if r.Score != 5 || !r.NextChange.Equal(to) {
			t.Errorf("score %d next %v; want 5, %v", r.Score, r.NextChange, to)
		}
		if _, ok := m.Since(now); ok {
			t.Error("Since: ok with an all-time behaviour")
		}
	})
}

func TestAtLeast(t *testing.T) {
	m := oneRule(t, behaviorRule(8, leadcycle.Behavior{Type: "email_opened", Frequency: atLeast, Count: 3, WindowDays: ptr(14)}))
	two := []leadcycle.Interaction{ix(1, "email_opened", ago(day), nil), ix(2, "email_opened", ago(2*day), nil)}
	if r := scoreContact(m, two...); r.Score != 0 || !r.NextChange.IsZero() {
		t.Errorf("two opens: score %d next %v; want 0, never", r.Score, r.NextChange)
	}
	four := append(two, ix(3, "email_opened", ago(5*day), nil), ix(4, "email_opened", ago(9*day), nil))
	r := scoreContact(m, four...)
	// The third newest open (5 days old) leaves the window in 9 days.
	want := scoring.Result{Applies: true, Scorable: true, Score: 8, NextChange: now.Add(9 * day),
		Rules: []leadcycle.RuleContribution{{Rule: "R", Points: 8, Matches: 4, InteractionIDs: []leadcycle.ID{1, 2, 3, 4}}}}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("four opens (-want +got):\n%s", d)
	}
}

func TestEachTime(t *testing.T) {
	m := oneRule(t, behaviorRule(3, leadcycle.Behavior{Type: "page_view", Frequency: eachTime, WindowDays: ptr(30)}))
	if r := scoreContact(m); r.Score != 0 || r.Rules != nil {
		t.Errorf("no views: score %d rules %v; want 0, none", r.Score, r.Rules)
	}
	var ints []leadcycle.Interaction
	for i := range 25 {
		ints = append(ints, ix(int64(100+i), "page_view", ago(time.Duration(i)*time.Hour), nil))
	}
	r := scoreContact(m, ints...)
	var newest []leadcycle.ID
	for i := range 20 {
		newest = append(newest, leadcycle.ID(100+i))
	}
	// 25 views × 3 points; the oldest (24 hours) leaves the window first.
	want := scoring.Result{Applies: true, Scorable: true, Score: 75, NextChange: ago(24 * time.Hour).Add(30 * day),
		Rules: []leadcycle.RuleContribution{{Rule: "R", Points: 75, Matches: 25, InteractionIDs: newest}}}
	if d := cmp.Diff(want, r); d != "" {
		t.Errorf("25 views (-want +got):\n%s", d)
	}
}

func TestAtLeastOnceNextChange(t *testing.T) {
	m := oneRule(t, behaviorRule(30, leadcycle.Behavior{Type: "event_attended", WindowDays: ptr(90)}))
	// The newest attendance decides: 10 days old, it leaves in 80 days.
	r := scoreContact(m, ix(1, "event_attended", ago(50*day), nil), ix(2, "event_attended", ago(10*day), nil))
	if r.Score != 30 || !r.NextChange.Equal(now.Add(80*day)) {
		t.Errorf("score %d next %v; want 30, now+80d", r.Score, r.NextChange)
	}
	// A future interaction counts now and changes things when its time comes.
	r = scoreContact(m, ix(3, "event_attended", now.Add(2*time.Hour), nil))
	if r.Score != 30 || !r.NextChange.Equal(now.Add(2*time.Hour)) {
		t.Errorf("future: score %d next %v; want 30, now+2h", r.Score, r.NextChange)
	}
}

func TestSeveralBehaviors(t *testing.T) {
	// Both behaviours must hold; Matches sums them; ids merge newest first.
	m := oneRule(t, leadcycle.ScoringRule{Name: "Engaged", Points: 12, Behaviors: []leadcycle.Behavior{
		{Type: "email_opened", WindowDays: ptr(30)},
		{Type: "page_view", Frequency: atLeast, Count: 2, WindowDays: ptr(30)},
	}})
	ints := []leadcycle.Interaction{
		ix(1, "email_opened", ago(3*day), nil),
		ix(2, "page_view", ago(1*day), nil),
		ix(3, "email_opened", ago(2*day), nil),
	}
	if r := scoreContact(m, ints...); r.Score != 0 {
		t.Errorf("one view: score %d, want 0", r.Score)
	}
	ints = append(ints, ix(4, "page_view", ago(4*day), nil))
	r := scoreContact(m, ints...)
	want := []leadcycle.RuleContribution{{Rule: "Engaged", Points: 12, Matches: 4, InteractionIDs: []leadcycle.ID{2, 3, 1, 4}}}
	if d := cmp.Diff(want, r.Rules); r.Score != 12 || d != "" {
		t.Errorf("score %d, rules (-want +got):\n%s", r.Score, d)
	}
	// The newest open (2 days) leaves in 28 days, the second view (4 days)
	// in 26: the earlier wins.
	if !r.NextChange.Equal(now.Add(26 * day)) {
		t.Errorf("next %v, want now+26d", r.NextChange)
	}
}

func TestConditionsAndBehaviors(t *testing.T) {
	m := oneRule(t, leadcycle.ScoringRule{Name: "VP pricing", Points: 5,
		Conditions: []string{`contact.job_title startsWith "VP"`},
		Behaviors:  []leadcycle.Behavior{{Type: "page_view", Frequency: eachTime}}})
	lead := &leadcycle.Lead{ID: 1, ContactID: id(1)}
	ints := []leadcycle.Interaction{ix(1, "page_view", ago(day), nil), ix(2, "page_view", ago(500*day), nil)}
	vp := m.Score(scoring.Subject{Lead: lead, Contact: &leadcycle.Contact{ID: 1, JobTitle: "VP Sales"}, Interactions: ints}, now)
	if vp.Score != 10 {
		t.Errorf("VP: score %d, want 10", vp.Score)
	}
	other := m.Score(scoring.Subject{Lead: lead, Contact: &leadcycle.Contact{ID: 1, JobTitle: "CTO"}, Interactions: ints}, now)
	if other.Score != 0 || other.Rules != nil {
		t.Errorf("CTO: score %d rules %v, want 0, none", other.Score, other.Rules)
	}
	if _, ok := m.Since(now); ok {
		t.Error("Since: ok with an all-time behaviour")
	}
}

func TestWhere(t *testing.T) {
	cases := []struct {
		where string
		props map[string]any
		lead  *leadcycle.ID
		want  bool
	}{
		{`form_id == "12"`, map[string]any{"form_id": 12.0}, nil, true},
		{`form_id == "12"`, map[string]any{"form_id": "12"}, nil, true},
		{`form_id == "12"`, map[string]any{"form_id": 13.0}, nil, false},
		{`email_id == "7" and url endsWith "/offer"`, map[string]any{"email_id": 7.0, "url": "https://x.example/offer"}, nil, true},
		{`event_id == "3"`, map[string]any{"event_id": "3"}, nil, true},
		{`referrer contains "google"`, map[string]any{"referrer": "https://www.google.com/"}, nil, true},
		{`lead_id == "9"`, map[string]any{}, id(9), true},
		{`lead_id == "9"`, map[string]any{"lead_id": "9"}, nil, true},
		{`lead_id == ""`, map[string]any{}, nil, true},
		{`properties.device == "mobile"`, map[string]any{"device": "mobile"}, nil, true},
		{`properties.duration > 10`, map[string]any{"duration": 12.5}, nil, true},
		// A run-time error (nil > 10) counts as false.
		{`properties.duration > 10`, map[string]any{}, nil, false},
		{`type == "page_view" and occurred_at < now`, map[string]any{}, nil, true},
		{`occurred_at > now - duration("1h")`, map[string]any{}, nil, false},
		{`url matches "^https://[a-z.]+/pricing"`, map[string]any{"url": "https://x.example/pricing"}, nil, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s %v", c.where, c.props), func(t *testing.T) {
			m := oneRule(t, behaviorRule(1, leadcycle.Behavior{Type: "page_view", Where: c.where}))
			i := ix(1, "page_view", ago(day), c.props)
			i.LeadID = c.lead
			if got := scoreContact(m, i).Score == 1; got != c.want {
				t.Errorf("holds = %v, want %v", got, c.want)
			}
		})
	}
}

func TestDecay(t *testing.T) {
	half := ptr(10.0)
	rule := func(points int64, bs ...leadcycle.Behavior) leadcycle.ScoringRule {
		return leadcycle.ScoringRule{Name: "R", Points: points, HalfLifeDays: half, Behaviors: bs}
	}
	pv := func(freq string, count int) leadcycle.Behavior {
		return leadcycle.Behavior{Type: "page_view", Frequency: freq, Count: count}
	}
	em := leadcycle.Behavior{Type: "email_opened"}
	views := func(ages ...float64) []leadcycle.Interaction {
		var out []leadcycle.Interaction
		for i, a := range ages {
			out = append(out, ix(int64(i+1), "page_view", ago(time.Duration(a*float64(day))), nil))
		}
		return out
	}
	step := now.Add(15 * time.Hour) // a sixteenth of 10 days
	cases := []struct {
		name string
		rule leadcycle.ScoringRule
		ints []leadcycle.Interaction
		want int64
		next time.Time
	}{
		{"one half-life halves", rule(100, pv(atLeastOnce, 0)), views(10), 50, step},
		{"two half-lives quarter", rule(100, pv(atLeastOnce, 0)), views(20), 25, step},
		{"the newest match decides", rule(100, pv(atLeastOnce, 0)), views(20, 10), 50, step},
		{"age zero is whole", rule(100, pv(atLeastOnce, 0)), views(0), 100, step},
		{"the future is age zero", rule(100, pv(atLeastOnce, 0)), views(-1), 100, now.Add(15 * time.Hour)},
		{"2.5 rounds to 3", rule(5, pv(atLeastOnce, 0)), views(10), 3, step},
		{"-2.5 rounds to -3", rule(-5, pv(atLeastOnce, 0)), views(10), -3, step},
		// 100·1 + 100·0.5 = 150.
		{"each time sums", rule(100, pv(eachTime, 0)), views(0, 10), 150, step},
		// 10·0.5^0.5 + 10·0.5^1.5 = 7.071 + 3.536 = 10.607 → 11 (rounded once).
		{"each time rounds the sum", rule(10, pv(eachTime, 0)), views(5, 15), 11, step},
		// The second newest of ages 5 and 20 is 20 days old: 100·0.25.
		{"at least N takes the N-th newest", rule(100, pv(atLeast, 2)), views(5, 20), 25, step},
		{"none does not decay", rule(100, pv(none, 0)), nil, 100, step},
		// Views are 20 days old (0.25), the open is new (1): the smaller wins.
		{"several behaviours take the smallest", rule(100, pv(atLeastOnce, 0), em),
			append(views(20), ix(9, "email_opened", now, nil)), 25, step},
		// each_time matches at 0 and 10 days, capped by the open's 0.25: 100·(0.25+0.25).
		{"each time capped by the others", rule(100, pv(eachTime, 0), em),
			append(views(0, 10), ix(9, "email_opened", ago(20*day), nil)), 50, step},
		// 1·0.5^10 ≈ 0.001 rounds to 0: the rule still shows, and stays 0.
		{"decayed to nothing", rule(1, pv(atLeastOnce, 0)), views(100), 0, time.Time{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := oneRule(t, c.rule)
			r := scoreContact(m, c.ints...)
			if r.Score != c.want || len(r.Rules) != 1 || r.Rules[0].Points != c.want {
				t.Errorf("score %d rules %+v, want %d", r.Score, r.Rules, c.want)
			}
			if !r.NextChange.Equal(c.next) {
				t.Errorf("next %v, want %v", r.NextChange, c.next)
			}
		})
	}
	t.Run("short half-lives step at least hourly", func(t *testing.T) {
		m := oneRule(t, leadcycle.ScoringRule{Name: "R", Points: 100, HalfLifeDays: ptr(0.5),
			Behaviors: []leadcycle.Behavior{pv(atLeastOnce, 0)}})
		if r := scoreContact(m, views(0.25)...); r.Score != 71 || !r.NextChange.Equal(now.Add(time.Hour)) {
			t.Errorf("score %d next %v, want 71, now+1h", r.Score, r.NextChange)
		}
	})
	t.Run("a window exit before the decay step wins", func(t *testing.T) {
		m := oneRule(t, leadcycle.ScoringRule{Name: "R", Points: 100, HalfLifeDays: half,
			Behaviors: []leadcycle.Behavior{{Type: "page_view", WindowDays: ptr(1)}}})
		r := scoreContact(m, views(23.0/24)...)
		if !r.NextChange.Equal(now.Add(time.Hour)) {
			t.Errorf("next %v, want now+1h", r.NextChange)
		}
	})
}

func TestAccountTarget(t *testing.T) {
	def := &leadcycle.ScoringModel{Name: "ABM", Target: leadcycle.TargetAccount, Rules: []leadcycle.ScoringRule{
		{Name: "Visits", Points: 2, Behaviors: []leadcycle.Behavior{{Type: "page_view", Frequency: eachTime, WindowDays: ptr(30)}}},
		{Name: "Software", Points: 10, Conditions: []string{`account.industry == "Software"`}},
	}}
	m := compile(t, def, scoring.Schemas{})
	acme := &leadcycle.Account{ID: 10, Industry: "Software"}
	var ints []leadcycle.Interaction
	for c := range int64(3) {
		for k := range int64(2) {
			i := ix(10*(c+1)+k, "page_view", ago(time.Duration(c*3+k)*day), nil)
			i.ContactID = leadcycle.ID(c + 1)
			ints = append(ints, i)
		}
	}
	// Six visits by three contacts of the account: 6×2 + 10 = 22.
	r := m.Score(scoring.Subject{Lead: &leadcycle.Lead{ID: 1, AccountID: id(10)}, Account: acme, Interactions: ints}, now)
	if r.Score != 22 || !r.Scorable || r.Rules[0].Matches != 6 {
		t.Errorf("account lead: %+v, want 22 from 6 visits", r)
	}
	// An account model needs the lead's account, even with a contact.
	r = m.Score(scoring.Subject{Lead: &leadcycle.Lead{ID: 2, ContactID: id(1)}, Contact: &leadcycle.Contact{ID: 1},
		Account: acme, Interactions: ints}, now)
	if r.Scorable || !r.Applies || r.Score != 0 || r.Rules != nil {
		t.Errorf("lead without account: %+v, want applies, not scorable, nothing", r)
	}
}

func TestMissingRecordsReadZero(t *testing.T) {
	def := &leadcycle.ScoringModel{Name: "Zero", Rules: []leadcycle.ScoringRule{
		{Name: "Retail", Points: 1, Conditions: []string{`account.industry == "Retail"`}},
		{Name: "No industry", Points: 2, Conditions: []string{`account.industry == "" and account.employees == 0 and account.revenue == 0.0`}},
		{Name: "No email", Points: 4, Conditions: []string{`contact.email == "" and contact.id == "" and contact.created_at.IsZero()`}},
		{Name: "No budget", Points: 8, Conditions: []string{`contact.custom.budget == 0 and not contact.custom.vip and contact.custom.since.IsZero()`}},
		{Name: "Lead ids", Points: 16, Conditions: []string{`lead.id == "5" and lead.form_id == "" and lead.owner_id == "7"`}},
	}}
	s := scoring.Schemas{Contact: leadcycle.Schema{
		{Name: "budget", Type: leadcycle.FieldNumber}, {Name: "vip", Type: leadcycle.FieldBool}, {Name: "since", Type: leadcycle.FieldDate}}}
	m := compile(t, def, s)
	// Lead without contact for a contact model: not scorable, but the
	// conditions still read zero values for applies_to. Give it a contact
	// id whose record is missing to score it.
	r := m.Score(scoring.Subject{Lead: &leadcycle.Lead{ID: 5, ContactID: id(1), OwnerID: id(7)}}, now)
	if r.Score != 2+4+8+16 {
		t.Errorf("score %d, want 30; rules %+v", r.Score, r.Rules)
	}
	// Values of the wrong type read as zero too.
	r = m.Score(scoring.Subject{Lead: &leadcycle.Lead{ID: 5, ContactID: id(1), OwnerID: id(7)},
		Contact: &leadcycle.Contact{Custom: leadcycle.Custom{"budget": "lots", "vip": "yes", "since": "yesterday"}}}, now)
	if r.Score != 2+4+8+16 {
		t.Errorf("wrong types: score %d, want 30; rules %+v", r.Score, r.Rules)
	}
}

func TestFieldsOfEveryKind(t *testing.T) {
	def := &leadcycle.ScoringModel{Name: "Fields", Rules: []leadcycle.ScoringRule{
		{Name: "Contact", Points: 1, Conditions: []string{
			`contact.id == "3" and contact.first_name == "Ann" and contact.last_name == "Lee"`,
			`contact.email == "ann@Example.com" and contact.email_domain == "example.com" and contact.phone == "+34600000000"`,
			`contact.job_title == "CEO" and contact.account_id == "10" and contact.owner_id == "" and contact.origin == "form"`,
			`contact.consent_commercial_email == "granted" and contact.consent_tracking == "denied"`,
			`contact.created_at.Year() == 2024 and contact.updated_at > contact.created_at`,
		}},
		{Name: "Account", Points: 2, Conditions: []string{
			`account.id == "10" and account.name == "Acme" and account.website == "https://acme.example"`,
			`account.domain == "acme.example" and account.industry == "Software" and account.country == "ES"`,
			`account.employees > 10 and account.revenue >= 1.5e6 and account.created_at < now`,
		}},
		{Name: "Lead", Points: 4, Conditions: []string{
			`lead.id == "1" and lead.topic == "Demo" and lead.status == "open" and lead.status_reason == "new"`,
			`lead.source == "event" and lead.form_id == "2" and lead.event_id == "3" and lead.journey_id == "4"`,
			`lead.campaign == "Q2" and lead.process_id == "5" and lead.stage == "inquiry" and lead.owner_id == "6"`,
			`lead.telesales_ready and not lead.telesales_accepted and lead.sales_ready and not lead.sales_accepted`,
			`lead.created_at == now`,
		}},
		{Name: "Whole", Points: 8, Conditions: []string{`contact["job_title"] == "CEO" and len(lead.custom.tags) == 3`}},
	}}
	s := scoring.Schemas{Lead: leadcycle.Schema{{Name: "tags", Type: leadcycle.FieldText}}}
	m := compile(t, def, s)
	created := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	subject := scoring.Subject{
		Contact: &leadcycle.Contact{ID: 3, FirstName: "Ann", LastName: "Lee", Email: "ann@Example.com", Phone: "+34600000000",
			JobTitle: "CEO", AccountID: id(10), Origin: "form",
			Consent:   leadcycle.Consent{CommercialEmail: "granted", Tracking: "denied"},
			CreatedAt: created, UpdatedAt: created.Add(day)},
		Account: &leadcycle.Account{ID: 10, Name: "Acme", Website: "https://acme.example", Domain: "acme.example",
			Industry: "Software", Country: "ES", Employees: ptr[int64](50), Revenue: ptr(2e6), CreatedAt: created},
		Lead: &leadcycle.Lead{ID: 1, Topic: "Demo", ContactID: id(3), Status: "open", StatusReason: "new", Source: "event",
			FormID: id(2), EventID: id(3), JourneyID: id(4), Campaign: "Q2", ProcessID: id(5), Stage: "inquiry", OwnerID: id(6),
			TelesalesReady: true, SalesReady: true, CreatedAt: now, Custom: leadcycle.Custom{"tags": "ab,cd"}},
	}
	if r := m.Score(subject, now); r.Score != 1+2+4 {
		t.Errorf("score %d, want 7; rules %+v", r.Score, r.Rules)
	}
	subject.Lead.Custom["tags"] = "abc"
	if r := m.Score(subject, now); r.Score != 1+2+4+8 {
		t.Errorf("score %d, want 15; rules %+v", r.Score, r.Rules)
	}
}

func TestAppliesTo(t *testing.T) {
	def := &leadcycle.ScoringModel{Name: "Spain", AppliesTo: `account.country == "ES" && now.Year() == 2025`,
		Rules: []leadcycle.ScoringRule{{Name: "Any", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "page_view"}}}}}
	m := compile(t, def, scoring.Schemas{})
	lead := &leadcycle.Lead{ID: 1, ContactID: id(1)}
	ints := []leadcycle.Interaction{ix(1, "page_view", ago(day), nil)}
	es := m.Score(scoring.Subject{Lead: lead, Account: &leadcycle.Account{Country: "ES"}, Interactions: ints}, now)
	if !es.Applies || es.Score != 5 {
		t.Errorf("ES: %+v, want applies with 5", es)
	}
	fr := m.Score(scoring.Subject{Lead: lead, Account: &leadcycle.Account{Country: "FR"}, Interactions: ints}, now)
	if d := cmp.Diff(scoring.Result{Scorable: true}, fr); d != "" {
		t.Errorf("FR (-want +got):\n%s", d)
	}
	// now is the evaluation time, not the wall clock.
	later := m.Score(scoring.Subject{Lead: lead, Account: &leadcycle.Account{Country: "ES"}, Interactions: ints}, now.AddDate(1, 0, 0))
	if later.Applies {
		t.Error("applies in 2026")
	}
	if r := m.Score(scoring.Subject{}, now); r.Applies || r.Scorable {
		t.Errorf("no lead: %+v, want nothing", r)
	}
}
