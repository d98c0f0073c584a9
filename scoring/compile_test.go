package scoring_test

import (
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

func TestCompileErrors(t *testing.T) {
	schemas := scoring.Schemas{Contact: leadcycle.Schema{{Name: "budget", Type: leadcycle.FieldNumber}}}
	cond := func(name, src string) func(*leadcycle.ScoringModel) {
		return func(m *leadcycle.ScoringModel) {
			m.Rules = append(m.Rules, leadcycle.ScoringRule{Name: name, Points: 5, Conditions: []string{`true`, src}})
		}
	}
	where := func(name, src string) func(*leadcycle.ScoringModel) {
		return func(m *leadcycle.ScoringModel) {
			m.Rules = append(m.Rules, leadcycle.ScoringRule{Name: name, Points: 5,
				Behaviors: []leadcycle.Behavior{{Type: "page_view", Where: src}}})
		}
	}
	cases := []struct {
		name  string
		edit  func(*leadcycle.ScoringModel)
		field string
		msg   string // the whole message
	}{
		{"unknown field", cond("Director", `contact.titel == "CEO"`),
			"rules[1].conditions[1]", `rule "Director": unknown field "titel" on contact (1:9)`},
		{"unknown account field", cond("Size", `account.size > 10`),
			"rules[1].conditions[1]", `rule "Size": unknown field "size" on account (1:9)`},
		{"unknown custom field", cond("Budget", `contact.custom.budgt > 1000`),
			"rules[1].conditions[1]", `rule "Budget": unknown custom field "budgt" on contact (1:16)`},
		{"custom field of another entity", cond("Budget", `lead.custom.budget > 1000`),
			"rules[1].conditions[1]", `rule "Budget": unknown custom field "budget" on lead (1:13)`},
		{"type error", cond("Big", `contact.email > 5`),
			"rules[1].conditions[1]", `rule "Big": type mismatch: > between string and int (1:15)`},
		{"custom type error", cond("Big", `contact.custom.budget == "high"`),
			"rules[1].conditions[1]", `rule "Big": type mismatch: == between float64 and string (1:23)`},
		{"not a condition", cond("Title", `contact.job_title`),
			"rules[1].conditions[1]", `rule "Title": expression must be true or false, not string`},
		{"syntax error", cond("Broken", `contact.email == "a" and`),
			"rules[1].conditions[1]", `rule "Broken": syntax error: unexpected token EOF (1:24)`},
		{"unknown name", cond("Who", `person.email == "a"`),
			"rules[1].conditions[1]", `rule "Who": unknown name "person" (conditions can use contact, account, lead and now) (1:1)`},
		{"builtin now is disabled", cond("When", `now() > contact.created_at`),
			"rules[1].conditions[1]", `rule "When": a time is not a function (write now, not now()) (1:1)`},
		{"bad where field", where("Pricing page", `path contains "/pricing"`),
			"rules[1].behaviors[0].where", `rule "Pricing page": unknown name "path" (a behavior's where can use type, occurred_at, lead_id, form_id, email_id, event_id, url, referrer, properties and now) (1:1)`},
		{"where cannot see the contact", where("Pricing page", `contact.email != ""`),
			"rules[1].behaviors[0].where", `rule "Pricing page": unknown name "contact" (a behavior's where can use type, occurred_at, lead_id, form_id, email_id, event_id, url, referrer, properties and now) (1:1)`},
		{"where not a condition", where("Pricing page", `url`),
			"rules[1].behaviors[0].where", `rule "Pricing page": expression must be true or false, not string`},
		{"applies_to not a condition", func(m *leadcycle.ScoringModel) { m.AppliesTo = `lead.topic` },
			"applies_to", `applies_to: expression must be true or false, not string`},
		{"applies_to type error", func(m *leadcycle.ScoringModel) { m.AppliesTo = `account.employees > "ten"` },
			"applies_to", `applies_to: type mismatch: > between int and string (1:19)`},
		{"negative window", func(m *leadcycle.ScoringModel) {
			m.Rules[0].Behaviors = []leadcycle.Behavior{{Type: "page_view", WindowDays: ptr(-1)}}
		}, "rules[0].behaviors[0].window_days", `rule "Base": window must not be negative`},
		{"overlapping grades", func(m *leadcycle.ScoringModel) {
			m.Grades = []leadcycle.Grade{{Name: "A", Min: ptr[int64](50)}, {Name: "B", Max: ptr[int64](60)}}
		}, "grades[0]", `grade "A" overlaps grade "B"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			def := &leadcycle.ScoringModel{Name: "M", Rules: []leadcycle.ScoringRule{{Name: "Base", Points: 1, Conditions: []string{`true`}}}}
			c.edit(def)
			def.Normalize()
			m, err := scoring.Compile(def, schemas)
			if m != nil || leadcycle.ErrorCode(err) != leadcycle.EInvalid {
				t.Fatalf("Compile = %v, %v; want an invalid error", m, err)
			}
			fields := leadcycle.ErrorFields(err)
			if len(fields) != 1 || fields[0].Field != c.field || fields[0].Message != c.msg {
				t.Errorf("fields = %+v\nwant [{%s %s}]", fields, c.field, c.msg)
			}
			if msg := leadcycle.ErrorMessage(err); !strings.Contains(msg, c.field) {
				t.Errorf("message %q does not name %s", msg, c.field)
			}
		})
	}
}

func TestCompileCollectsEveryError(t *testing.T) {
	def := &leadcycle.ScoringModel{Name: "M", AppliesTo: `lead.nope`, Rules: []leadcycle.ScoringRule{
		{Name: "A", Points: 1, Conditions: []string{`contact.titel == ""`, `contact.email == ""`, `1 +`}},
		{Name: "B", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "page_view", Where: `nope`, WindowDays: ptr(0)}}},
	}}
	def.Normalize()
	_, err := scoring.Compile(def, scoring.Schemas{})
	var got []string
	for _, f := range leadcycle.ErrorFields(err) {
		got = append(got, f.Field)
	}
	want := []string{"rules[1].behaviors[0].window_days", "applies_to", "rules[0].conditions[0]", "rules[0].conditions[2]", "rules[1].behaviors[0].where"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields %v, want %v", got, want)
	}
}

func TestCompileAcceptsTheDocumentedLanguage(t *testing.T) {
	schemas := scoring.Schemas{
		Contact: leadcycle.Schema{{Name: "score", Type: leadcycle.FieldNumber}, {Name: "since", Type: leadcycle.FieldDate}},
		Account: leadcycle.Schema{{Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"a"}}},
		Lead:    leadcycle.Schema{{Name: "vip", Type: leadcycle.FieldBool}, {Name: "note", Type: leadcycle.FieldText}},
	}
	for _, src := range []string{
		`contact.custom.score > 3.5 or contact.custom.since < now - duration("48h")`,
		`account.custom.tier in ["a", "b"] and account.revenue > 1e6`,
		`lead.custom.vip && lead.custom.note matches "^x"`,
		`contact.email_domain endsWith ".edu" || lower(contact.job_title) contains "cto"`,
		`contact.created_at.After(now) == false`,
	} {
		def := &leadcycle.ScoringModel{Name: "M", Rules: []leadcycle.ScoringRule{{Name: "R", Points: 1, Conditions: []string{src}}}}
		def.Normalize()
		if _, err := scoring.Compile(def, schemas); err != nil {
			t.Errorf("%s: %v %+v", src, err, leadcycle.ErrorFields(err))
		}
	}
}
