package scoring_test

import (
	"sync"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

func TestCompileConditionErrors(t *testing.T) {
	schemas := scoring.Schemas{Lead: leadcycle.Schema{{Name: "budget", Type: leadcycle.FieldNumber}}}
	cases := []struct{ name, src, msg string }{
		{"unknown field", `lead.topik == "x"`, `unknown field "topik" on lead (1:6)`},
		{"unknown custom field", `lead.custom.budgt > 1`, `unknown custom field "budgt" on lead (1:13)`},
		{"custom field of another entity", `contact.custom.budget > 1`, `unknown custom field "budget" on contact (1:16)`},
		{"not a condition", `lead.topic`, `expression must be true or false, not string`},
		{"type error", `lead.budget_amount == "high"`, `type mismatch: == between float64 and string (1:20)`},
		{"custom type error", `lead.custom.budget > "10"`, `type mismatch: > between float64 and string (1:20)`},
		{"syntax error", `lead.sales_ready and`, `syntax error: unexpected token EOF (1:20)`},
		{"unknown name", `person.email == ""`, `unknown name "person" (conditions can use contact, account, lead and now) (1:1)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := scoring.CompileCondition(c.src, schemas)
			if got != nil || leadcycle.ErrorCode(err) != leadcycle.EInvalid {
				t.Fatalf("CompileCondition(%q) = %v, %v; want an EInvalid error", c.src, got, err)
			}
			if msg := leadcycle.ErrorMessage(err); msg != c.msg {
				t.Errorf("message\n got %s\nwant %s", msg, c.msg)
			}
		})
	}
}

func TestConditionEval(t *testing.T) {
	schemas := scoring.Schemas{
		Lead:    leadcycle.Schema{{Name: "budget", Type: leadcycle.FieldNumber}, {Name: "approved", Type: leadcycle.FieldBool}},
		Contact: leadcycle.Schema{{Name: "segment", Type: leadcycle.FieldChoice}},
		Account: leadcycle.Schema{{Name: "founded", Type: leadcycle.FieldDate}},
	}
	lead := &leadcycle.Lead{ContactID: id(4), Topic: "Demo", Need: "must_have", BudgetAmount: ptr(5000.0),
		PurchaseTimeframe: "this_quarter", PurchaseProcess: "committee", Description: "Wants a demo",
		Custom: leadcycle.Custom{"budget": 1200.0, "approved": true}}
	contact := &leadcycle.Contact{ID: 4, Custom: leadcycle.Custom{"segment": "smb"}}
	account := &leadcycle.Account{ID: 9, Custom: leadcycle.Custom{"founded": "2001-02-03"}}
	full := scoring.Subject{Lead: lead, Contact: contact, Account: account}
	bare := scoring.Subject{Lead: &leadcycle.Lead{}}
	cases := []struct {
		src        string
		full, bare bool
	}{
		{``, true, true},
		{`lead.contact_id != "" or lead.account_id != ""`, true, false},
		{`lead.contact_id == "4" and lead.account_id == ""`, true, false},
		{`lead.custom.budget > 1000 and lead.custom.approved`, true, false},
		{`lead.custom.budget == 0 and not lead.custom.approved`, false, true},
		{`contact.custom.segment == "smb"`, true, false},
		{`account.custom.founded.Year() == 2001`, true, false},
		{`account.custom.founded < now`, true, true},
		{`lead.budget_amount >= 5000 and lead.need == "must_have"`, true, false},
		{`lead.budget_amount == 0`, false, true},
		{`lead.purchase_timeframe == "this_quarter" and lead.purchase_process == "committee"`, true, false},
		{`lead.description contains "demo"`, true, false},
	}
	for _, c := range cases {
		cond, err := scoring.CompileCondition(c.src, schemas)
		if err != nil {
			t.Fatalf("CompileCondition(%q): %v", c.src, err)
		}
		if got := cond.Eval(full, now); got != c.full {
			t.Errorf("%q on the full lead = %v, want %v", c.src, got, c.full)
		}
		if got := cond.Eval(bare, now); got != c.bare {
			t.Errorf("%q on a bare lead = %v, want %v", c.src, got, c.bare)
		}
	}
	cond, _ := scoring.CompileCondition(`lead.sales_ready`, schemas)
	if cond.Eval(scoring.Subject{}, now) {
		t.Errorf("a nil lead reads as zero values: sales_ready is false")
	}
	if cond.Source() != "lead.sales_ready" {
		t.Errorf("Source() = %q", cond.Source())
	}
}

// TestConditionConcurrent runs one condition from many goroutines (go test
// -race catches shared working memory).
func TestConditionConcurrent(t *testing.T) {
	cond, err := scoring.CompileCondition(`lead.topic == "x" + lead.need`, scoring.Schemas{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				need := []string{"a", "b"}[(g+i)%2]
				topic := "x" + []string{"a", "b"}[(g+i/3)%2]
				got := cond.Eval(scoring.Subject{Lead: &leadcycle.Lead{Topic: topic, Need: need}}, now)
				if want := topic == "x"+need; got != want {
					t.Errorf("topic %s need %s: %v", topic, need, got)
					return
				}
			}
		})
	}
	wg.Wait()
}
