package process_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/process"
	"github.com/leadcycle/leadcycle/scoring"
)

var now = time.Date(2025, 6, 15, 12, 0, 0, 0, time.UTC)

const (
	inquiry = leadcycle.StageInquiry
	amq     = leadcycle.StageMarketingQualification
	ta      = leadcycle.StageTelesalesAcceptance
	tq      = leadcycle.StageTelesalesQualification
	sa      = leadcycle.StageSalesAcceptance
)

func ptr[T any](v T) *T { return &v }

func id(n int64) *leadcycle.ID { return ptr(leadcycle.ID(n)) }

// schemas declare a lead budget, a lead approval flag and a contact segment.
func schemas() scoring.Schemas {
	return scoring.Schemas{
		Lead: leadcycle.Schema{
			{Name: "budget", Type: leadcycle.FieldNumber},
			{Name: "approved", Type: leadcycle.FieldBool},
		},
		Contact: leadcycle.Schema{{Name: "segment", Type: leadcycle.FieldChoice}},
	}
}

// compile normalises and compiles def, failing the test on error.
func compile(t *testing.T, def *leadcycle.Process) *process.Compiled {
	t.Helper()
	def.Normalize()
	c, err := process.Compile(def, schemas())
	if err != nil {
		t.Fatalf("compile: %v\nfields: %+v", err, leadcycle.ErrorFields(err))
	}
	return c
}

// lead returns a lead with a contact in the stage, edited by the options.
func lead(stage string, edits ...func(*leadcycle.Lead)) process.Subject {
	l := &leadcycle.Lead{Topic: "Demo", ContactID: id(1), Stage: stage, Status: leadcycle.LeadOpen}
	for _, e := range edits {
		e(l)
	}
	return process.Subject{Lead: l, Contact: &leadcycle.Contact{ID: 1}}
}

func orphan(l *leadcycle.Lead)         { l.ContactID, l.AccountID = nil, nil }
func salesReady(l *leadcycle.Lead)     { l.SalesReady = true }
func telesalesReady(l *leadcycle.Lead) { l.TelesalesReady = true }
func accepted(l *leadcycle.Lead)       { l.TelesalesAccepted = true }
func owned(l *leadcycle.Lead)          { l.OwnerID = id(7) }
func salesAccepted(l *leadcycle.Lead)  { l.SalesAccepted = true }
func noTopic(l *leadcycle.Lead)        { l.Topic = "" }
func accountOnly(l *leadcycle.Lead)    { l.ContactID, l.AccountID = nil, id(3) }

func TestDefaultIsTheSpecProcess(t *testing.T) {
	def := process.Default()
	if def.Key != leadcycle.DefaultProcessKey || def.Name != leadcycle.DefaultProcessName || !def.IsDefault {
		t.Errorf("key %q name %q default %v", def.Key, def.Name, def.IsDefault)
	}
	var keys []string
	for _, s := range def.Stages {
		keys = append(keys, s.Key)
		if s.Description == "" || s.Name == "" {
			t.Errorf("stage %q needs a name and a description", s.Key)
		}
	}
	if want := []string{inquiry, amq, ta, tq, sa}; !slices.Equal(keys, want) {
		t.Errorf("stages %v, want %v", keys, want)
	}
	fields := map[string]string{}
	for _, s := range def.Stages {
		var fs []string
		for _, f := range s.Fields {
			fs = append(fs, f.Field+map[bool]string{true: "*"}[f.Required])
		}
		fields[s.Key] = strings.Join(fs, " ")
	}
	want := map[string]string{
		inquiry: "lead.topic* lead.contact_id lead.account_id",
		amq:     "lead.telesales_ready lead.sales_ready",
		ta:      "lead.telesales_accepted*",
		tq:      "lead.purchase_timeframe lead.purchase_process lead.budget_amount lead.need lead.description lead.sales_ready*",
		sa:      "lead.owner_id* lead.sales_accepted*",
	}
	for k, w := range want {
		if fields[k] != w {
			t.Errorf("stage %s fields %q, want %q", k, fields[k], w)
		}
	}
	if got := def.Stage(amq).EntryCondition; got != `lead.contact_id != "" or lead.account_id != ""` {
		t.Errorf("AMQ entry condition %q", got)
	}
	if got := def.Stage(amq).Next; !slices.Equal(got, []leadcycle.Branch{{When: "lead.sales_ready", To: sa}, {To: ta}}) {
		t.Errorf("AMQ next %+v", got)
	}
	var trs []string
	for _, tr := range def.Transitions {
		trs = append(trs, tr.Name+": "+tr.On+" "+strings.Join(tr.From, ",")+" -> "+tr.To)
	}
	wantTrs := []string{
		"Scored: lead.scored inquiry -> " + amq,
		"Telesales ready: lead.telesales_ready inquiry," + amq + " -> " + ta,
		"Accepted by telesales: lead.telesales_accepted inquiry," + amq + "," + ta + " -> " + tq,
		"Sales ready: lead.sales_ready inquiry," + amq + "," + ta + "," + tq + " -> " + sa,
	}
	if !slices.Equal(trs, wantTrs) {
		t.Errorf("transitions\n got %q\nwant %q", trs, wantTrs)
	}
	if err := def.Validate(); err != nil {
		t.Fatalf("the default process is invalid: %v", err)
	}
	if _, err := process.Compile(def, scoring.Schemas{}); err != nil {
		t.Fatalf("the default process does not compile: %v %+v", err, leadcycle.ErrorFields(err))
	}
}

func TestNewLeadStartsInInquiry(t *testing.T) {
	l := &leadcycle.Lead{Topic: "Demo"}
	l.Normalize()
	if first := process.Default().FirstStage(); l.Stage != first || first != inquiry {
		t.Errorf("a new lead is in %q; the default process starts in %q", l.Stage, first)
	}
}

func TestDefaultTriggers(t *testing.T) {
	c := compile(t, process.Default())
	cases := []struct {
		name    string
		subject process.Subject
		trigger string
		to      string // "" for no move
		via     string
	}{
		{"first score moves an inquiry to AMQ", lead(inquiry), leadcycle.TriggerLeadScored, amq, "Scored"},
		{"an account-based lead is scored too", lead(inquiry, accountOnly), leadcycle.TriggerLeadScored, amq, "Scored"},
		{"an orphan lead cannot enter AMQ", lead(inquiry, orphan), leadcycle.TriggerLeadScored, "", ""},
		{"scored again in AMQ: no move", lead(amq), leadcycle.TriggerLeadScored, "", ""},
		{"scored in telesales acceptance: no move", lead(ta), leadcycle.TriggerLeadScored, "", ""},
		{"scored in sales acceptance: no move", lead(sa), leadcycle.TriggerLeadScored, "", ""},
		{"sales ready in AMQ skips telesales", lead(amq, salesReady), leadcycle.TriggerSalesReady, sa, "Sales ready"},
		{"telesales ready in AMQ", lead(amq, telesalesReady), leadcycle.TriggerTelesalesReady, ta, "Telesales ready"},
		{"telesales ready in inquiry", lead(inquiry, telesalesReady), leadcycle.TriggerTelesalesReady, ta, "Telesales ready"},
		{"telesales ready in telesales qualification: no move", lead(tq), leadcycle.TriggerTelesalesReady, "", ""},
		{"accepted by telesales", lead(ta, accepted), leadcycle.TriggerTelesalesAccepted, tq, "Accepted by telesales"},
		{"accepted by telesales in AMQ", lead(amq, accepted), leadcycle.TriggerTelesalesAccepted, tq, "Accepted by telesales"},
		{"accepted again in telesales qualification: no move", lead(tq), leadcycle.TriggerTelesalesAccepted, "", ""},
		{"sales ready in telesales qualification", lead(tq, salesReady), leadcycle.TriggerSalesReady, sa, "Sales ready"},
		{"sales ready in telesales acceptance", lead(ta, salesReady), leadcycle.TriggerSalesReady, sa, "Sales ready"},
		{"sales ready in inquiry", lead(inquiry, salesReady), leadcycle.TriggerSalesReady, sa, "Sales ready"},
		{"sales ready in sales acceptance: no move", lead(sa), leadcycle.TriggerSalesReady, "", ""},
		{"sales accepted moves nothing", lead(sa, salesAccepted), leadcycle.TriggerSalesAccepted, "", ""},
		{"a stage of another process: no move", lead("nurture"), leadcycle.TriggerSalesReady, "", ""},
		{"no condition transitions in the default", lead(inquiry), leadcycle.TriggerCondition, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := c.OnTrigger(tc.subject, tc.trigger, now)
			if tc.to == "" {
				if ok {
					t.Fatalf("moved: %+v", m)
				}
				return
			}
			want := process.Move{From: tc.subject.Lead.Stage, To: tc.to, Transition: tc.via,
				Reason: `transition "` + tc.via + `" on ` + tc.trigger}
			if !ok || m != want {
				t.Fatalf("got %+v, %v; want %+v", m, ok, want)
			}
		})
	}
}

func TestDefaultComplete(t *testing.T) {
	c := compile(t, process.Default())
	entry := `the lead cannot enter stage "Automated marketing qualification": its entry condition lead.contact_id != "" or lead.account_id != "" does not hold`
	cases := []struct {
		name    string
		subject process.Subject
		to      string // the next stage, "" when refused
		code    string
		fields  []leadcycle.FieldError
	}{
		{"inquiry with a contact", lead(inquiry), amq, "", nil},
		{"inquiry with an account", lead(inquiry, accountOnly), amq, "", nil},
		{"inquiry without a parent", lead(inquiry, orphan), "", leadcycle.EInvalid,
			[]leadcycle.FieldError{{Field: "stage", Message: entry}}},
		{"inquiry without a topic", lead(inquiry, noTopic), "", leadcycle.EInvalid,
			[]leadcycle.FieldError{{Field: "lead.topic", Message: `is required to complete stage "Inquiry"`}}},
		{"AMQ when sales ready", lead(amq, salesReady), sa, "", nil},
		{"AMQ when sales and telesales ready", lead(amq, salesReady, telesalesReady), sa, "", nil},
		{"AMQ otherwise", lead(amq), ta, "", nil},
		{"telesales acceptance without the tick", lead(ta), "", leadcycle.EInvalid,
			[]leadcycle.FieldError{{Field: "lead.telesales_accepted", Message: `is required to complete stage "Telesales acceptance"`}}},
		{"telesales acceptance with the tick", lead(ta, accepted), tq, "", nil},
		{"telesales qualification when sales ready", lead(tq, salesReady), sa, "", nil},
		{"telesales qualification not sales ready", lead(tq), "", leadcycle.EInvalid,
			[]leadcycle.FieldError{{Field: "lead.sales_ready", Message: `is required to complete stage "Telesales qualification"`}}},
		{"sales acceptance without owner nor tick", lead(sa), "", leadcycle.EInvalid, []leadcycle.FieldError{
			{Field: "lead.owner_id", Message: `is required to complete stage "Sales acceptance"`},
			{Field: "lead.sales_accepted", Message: `is required to complete stage "Sales acceptance"`},
		}},
		{"sales acceptance is the last stage", lead(sa, owned, salesAccepted), "", leadcycle.EConflict, nil},
		{"a stage the process lacks", lead("nurture"), "", leadcycle.EInvalid,
			[]leadcycle.FieldError{{Field: "stage", Message: `no stage "nurture" in process "Lead to opportunity marketing sales process"`}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m, err := c.Complete(tc.subject, now)
			if tc.to != "" {
				want := process.Move{From: tc.subject.Lead.Stage, To: tc.to,
					Reason: `stage "` + c.Def.Stage(tc.subject.Lead.Stage).Name + `" completed`}
				if err != nil || m != want {
					t.Fatalf("got %+v, %v; want %+v", m, err, want)
				}
				return
			}
			if leadcycle.ErrorCode(err) != tc.code {
				t.Fatalf("got %+v, %v; want code %s", m, err, tc.code)
			}
			if got := leadcycle.ErrorFields(err); !slices.Equal(got, tc.fields) {
				t.Errorf("fields\n got %+v\nwant %+v", got, tc.fields)
			}
		})
	}
	_, err := c.Complete(lead(sa, owned, salesAccepted), now)
	if msg := leadcycle.ErrorMessage(err); !strings.Contains(msg, `stage "Sales acceptance" is the last stage`) || !strings.Contains(msg, "qualifying") {
		t.Errorf("last stage message %q", msg)
	}
	_, err = c.Complete(lead(sa), now)
	if msg := leadcycle.ErrorMessage(err); msg != `stage "Sales acceptance" cannot be completed: lead.owner_id, lead.sales_accepted are required` {
		t.Errorf("missing fields message %q", msg)
	}
}

// withConditions is the default process with a condition transition to
// sales acceptance for big budgets, one from every stage before telesales
// qualification for approved leads, and an entry condition on telesales
// acceptance.
func withConditions() *leadcycle.Process {
	def := process.Default()
	def.Transitions = append(def.Transitions,
		leadcycle.Transition{Name: "Big budget", On: leadcycle.TriggerCondition,
			Condition: `lead.custom.budget >= 10000`, From: []string{inquiry, amq}, To: sa},
		leadcycle.Transition{Name: "Approved", On: leadcycle.TriggerCondition, Condition: `lead.custom.approved`, To: tq},
		leadcycle.Transition{Name: "Segment", On: leadcycle.TriggerTelesalesReady,
			Condition: `contact.custom.segment == "smb"`, From: []string{tq}, To: ta},
	)
	def.Stage(ta).EntryCondition = `contact.email != ""`
	return def
}

func custom(values leadcycle.Custom) func(*leadcycle.Lead) {
	return func(l *leadcycle.Lead) { l.Custom = values }
}

func TestConditionTransitions(t *testing.T) {
	c := compile(t, withConditions())
	withSegment := lead(tq)
	withSegment.Contact.Custom = leadcycle.Custom{"segment": "smb"}
	withEmail := lead(tq)
	withEmail.Contact.Custom = leadcycle.Custom{"segment": "smb"}
	withEmail.Contact.Email = "ana@example.com"
	cases := []struct {
		name    string
		subject process.Subject
		trigger string
		to, via string
	}{
		{"big budget in AMQ", lead(amq, custom(leadcycle.Custom{"budget": 20000.0})), leadcycle.TriggerCondition, sa, "Big budget"},
		{"big budget in inquiry", lead(inquiry, custom(leadcycle.Custom{"budget": 10000.0})), leadcycle.TriggerCondition, sa, "Big budget"},
		{"small budget", lead(amq, custom(leadcycle.Custom{"budget": 9999.0})), leadcycle.TriggerCondition, "", ""},
		{"big budget outside its sources", lead(ta, custom(leadcycle.Custom{"budget": 20000.0})), leadcycle.TriggerCondition, "", ""},
		{"big budget in TA, not approved", lead(ta, custom(leadcycle.Custom{"budget": 20000.0, "approved": false})), leadcycle.TriggerCondition, "", ""},
		{"approved in inquiry (from every earlier stage)", lead(inquiry, custom(leadcycle.Custom{"approved": true})), leadcycle.TriggerCondition, tq, "Approved"},
		{"approved in telesales acceptance", lead(ta, custom(leadcycle.Custom{"approved": true})), leadcycle.TriggerCondition, tq, "Approved"},
		{"approved in sales acceptance (after the target)", lead(sa, custom(leadcycle.Custom{"approved": true})), leadcycle.TriggerCondition, "", ""},
		{"the first transition that holds wins", lead(amq, custom(leadcycle.Custom{"budget": 20000.0, "approved": true})), leadcycle.TriggerCondition, sa, "Big budget"},
		{"condition on a trigger, false", lead(tq), leadcycle.TriggerTelesalesReady, "", ""},
		{"condition on a trigger, target entry condition false", withSegment, leadcycle.TriggerTelesalesReady, "", ""},
		{"condition on a trigger, both true", withEmail, leadcycle.TriggerTelesalesReady, ta, "Segment"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m process.Move
			var ok bool
			if tc.trigger == leadcycle.TriggerCondition {
				m, ok = c.OnChange(tc.subject, now)
			} else {
				m, ok = c.OnTrigger(tc.subject, tc.trigger, now)
			}
			if tc.via == "" {
				if ok {
					t.Fatalf("moved: %+v", m)
				}
				return
			}
			reason := `transition "` + tc.via + `" on ` + tc.trigger
			if tc.trigger == leadcycle.TriggerCondition {
				reason += " " + c.Def.Transitions[slices.IndexFunc(c.Def.Transitions, func(t leadcycle.Transition) bool { return t.Name == tc.via })].Condition
			}
			want := process.Move{From: tc.subject.Lead.Stage, To: tc.to, Transition: tc.via, Reason: reason}
			if !ok || m != want {
				t.Fatalf("got %+v, %v; want %+v", m, ok, want)
			}
		})
	}
	m, _ := c.OnChange(lead(amq, custom(leadcycle.Custom{"budget": 20000.0})), now)
	if m.Reason != `transition "Big budget" on condition lead.custom.budget >= 10000` {
		t.Errorf("reason %q", m.Reason)
	}
	// Completing AMQ leads to telesales acceptance, whose entry condition
	// needs the contact's email.
	_, err := c.Complete(lead(amq), now)
	if f := leadcycle.ErrorFields(err); len(f) != 1 || f[0].Field != "stage" ||
		f[0].Message != `the lead cannot enter stage "Telesales acceptance": its entry condition contact.email != "" does not hold` {
		t.Errorf("complete AMQ without email: %v %+v", err, f)
	}
}

// withCustomFields offers custom and contact fields in the telesales
// qualification stage.
func withCustomFields() *leadcycle.Process {
	def := process.Default()
	s := def.Stage(tq)
	s.Fields = append(s.Fields,
		leadcycle.StageField{Field: "lead.custom.budget", Required: true},
		leadcycle.StageField{Field: "lead.custom.approved", Required: true},
		leadcycle.StageField{Field: "contact.custom.segment", Required: true},
		leadcycle.StageField{Field: "contact.job_title", Required: true},
		leadcycle.StageField{Field: "account.industry"},
	)
	return def
}

func TestCustomStageFields(t *testing.T) {
	c := compile(t, withCustomFields())
	missing := func(s process.Subject) []string {
		var out []string
		for _, f := range c.Missing(s, tq) {
			out = append(out, f.Field)
			if f.Message != `is required to complete stage "Telesales qualification"` {
				t.Errorf("%s: message %q", f.Field, f.Message)
			}
		}
		return out
	}
	all := []string{"lead.sales_ready", "lead.custom.budget", "lead.custom.approved", "contact.custom.segment", "contact.job_title"}
	if got := missing(lead(tq)); !slices.Equal(got, all) {
		t.Errorf("nothing set: missing %v, want %v", got, all)
	}
	blank := lead(tq, salesReady, custom(leadcycle.Custom{"budget": nil, "approved": false}))
	blank.Contact.Custom = leadcycle.Custom{"segment": " "}
	blank.Contact.JobTitle = "  "
	if got := missing(blank); !slices.Equal(got, all[1:]) {
		t.Errorf("blank values: missing %v, want %v", got, all[1:])
	}
	set := lead(tq, salesReady, custom(leadcycle.Custom{"budget": 0.0, "approved": true}))
	set.Contact.Custom = leadcycle.Custom{"segment": "smb"}
	set.Contact.JobTitle = "CTO"
	if got := missing(set); got != nil {
		t.Errorf("everything set: missing %v", got)
	}
	set.Contact = nil
	if got := missing(set); !slices.Equal(got, []string{"contact.custom.segment", "contact.job_title"}) {
		t.Errorf("no contact: missing %v", got)
	}
	if got := c.Missing(lead(tq), "nurture"); got != nil {
		t.Errorf("unknown stage: %v", got)
	}
	if got := c.Missing(lead(tq), sa); !slices.Equal(got, []leadcycle.FieldError{
		{Field: "lead.owner_id", Message: `is required to complete stage "Sales acceptance"`},
		{Field: "lead.sales_accepted", Message: `is required to complete stage "Sales acceptance"`},
	}) {
		t.Errorf("sales acceptance of a lead in telesales qualification: %+v", got)
	}
	_, err := c.Complete(lead(tq, salesReady), now)
	if got := leadcycle.ErrorFields(err); len(got) != 4 || got[0].Field != "lead.custom.budget" {
		t.Errorf("complete: %v", err)
	}
}

func TestBudgetAmountRequired(t *testing.T) {
	def := process.Default()
	def.Stage(tq).Fields[2].Required = true // lead.budget_amount
	c := compile(t, def)
	if got := c.Missing(lead(tq, salesReady), tq); len(got) != 1 || got[0].Field != "lead.budget_amount" {
		t.Errorf("nil budget: %+v", got)
	}
	if got := c.Missing(lead(tq, salesReady, func(l *leadcycle.Lead) { l.BudgetAmount = ptr(0.0) }), tq); got != nil {
		t.Errorf("a budget of 0 is set: %+v", got)
	}
}

func TestCanMove(t *testing.T) {
	c := compile(t, process.Default())
	for _, k := range []string{inquiry, amq, ta, tq, sa} {
		if err := c.CanMove(k); err != nil {
			t.Errorf("CanMove(%s): %v", k, err)
		}
	}
	err := c.CanMove("nurture")
	if leadcycle.ErrorCode(err) != leadcycle.EInvalid || !slices.Equal(leadcycle.ErrorFields(err), []leadcycle.FieldError{
		{Field: "stage", Message: `no stage "nurture" in process "Lead to opportunity marketing sales process"`},
	}) {
		t.Errorf("CanMove(nurture) = %v %+v", err, leadcycle.ErrorFields(err))
	}
}

func TestBranchesWithoutFallback(t *testing.T) {
	def := process.Default()
	def.Stage(amq).Next = []leadcycle.Branch{{When: "lead.sales_ready", To: sa}, {When: "lead.telesales_ready", To: ta}}
	c := compile(t, def)
	if m, err := c.Complete(lead(amq, telesalesReady), now); err != nil || m.To != ta {
		t.Errorf("telesales ready: %+v %v", m, err)
	}
	_, err := c.Complete(lead(amq), now)
	want := `stage "Automated marketing qualification" cannot be completed: none of its next stages applies (lead.sales_ready; lead.telesales_ready)`
	if f := leadcycle.ErrorFields(err); len(f) != 1 || f[0].Field != "stage" || f[0].Message != want {
		t.Errorf("no branch holds: %v", err)
	}
}

func TestFinalStageBeforeTheLast(t *testing.T) {
	def := &leadcycle.Process{Name: "Short", Stages: []leadcycle.Stage{
		{Key: "new", Name: "New", Next: []leadcycle.Branch{{When: "lead.sales_ready", To: "won"}, {To: "lost"}}},
		{Key: "lost", Name: "Lost", Final: true},
		{Key: "won", Name: "Won"},
	}}
	c := compile(t, def)
	for _, s := range []string{"lost", "won"} {
		if _, err := c.Complete(lead(s), now); leadcycle.ErrorCode(err) != leadcycle.EConflict {
			t.Errorf("complete %s: %v, want a conflict", s, err)
		}
	}
	if m, err := c.Complete(lead("", salesReady), now); err != nil || m.From != "new" || m.To != "won" {
		t.Errorf("a lead without a stage is in the first: %+v %v", m, err)
	}
}
