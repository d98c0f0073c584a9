package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/forms"
)

var submissionSeq atomic.Int64

// submitForm captures a submission of form f the way the forms package does.
func submitForm(t *testing.T, e *env, f *leadcycle.Form, values map[string]string) leadcycle.CaptureResult {
	t.Helper()
	sub := &leadcycle.FormSubmission{ID: leadcycle.ID(submissionSeq.Add(1)), FormID: f.ID, Values: values, ReceivedAt: e.clock.Now()}
	res, err := e.s.Capture(e.ctx, forms.Capture(f, sub))
	if err != nil {
		t.Fatalf("capture %v: %v", values, err)
	}
	return res
}

func mustForm(t *testing.T, e *env, name string, mod func(*leadcycle.Form)) *leadcycle.Form {
	t.Helper()
	f := &leadcycle.Form{Name: name, Active: true, Fields: []leadcycle.FormField{
		{Name: "email", Type: "email", Target: "contact.email", Required: true},
		{Name: "first_name", Target: "contact.first_name"},
		{Name: "phone", Type: "phone", Target: "contact.phone"},
		{Name: "job", Target: "contact.job_title"},
	}}
	if mod != nil {
		mod(f)
	}
	return MustCreate(t, e.ctx, e.s.Forms(), f)
}

func mustStrategy(t *testing.T, e *env, m leadcycle.MatchingStrategy) *leadcycle.MatchingStrategy {
	t.Helper()
	return MustCreate(t, e.ctx, e.s.Strategies(), &m)
}

func countIn[T leadcycle.Record](t *testing.T, e *env, r leadcycle.Repo[T], filters ...leadcycle.Filter) int {
	t.Helper()
	return len(MustList(t, e.ctx, r, leadcycle.ListQuery{Filters: filters, Limit: leadcycle.MaxLimit}))
}

func eqFilter(col string, v any) leadcycle.Filter {
	return leadcycle.Filter{Columns: []string{col}, Op: leadcycle.OpEq, Value: v}
}

func wantCounts(t *testing.T, e *env, contacts, leads, interactions int) {
	t.Helper()
	c, l, i := countIn(t, e, e.s.Contacts()), countIn(t, e, e.s.Leads()), countIn(t, e, e.s.Interactions())
	if c != contacts || l != leads || i != interactions {
		t.Fatalf("contacts, leads, interactions = %d, %d, %d; want %d, %d, %d", c, l, i, contacts, leads, interactions)
	}
}

var captureTests = []test{
	{"default_strategies_exist", func(t *testing.T, e *env) {
		all := MustList(t, e.ctx, e.s.Strategies(), leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("is_default", true)}})
		got := map[string][]string{}
		for _, s := range all {
			got[s.Kind] = s.Fields
		}
		if !slices.Equal(got["contact"], []string{"email"}) || !slices.Equal(got["lead"], []string{"email", "form_id"}) || len(all) != 2 {
			t.Fatalf("default strategies: %+v", all)
		}
	}},
	{"seed_defaults_end_to_end", func(t *testing.T, e *env) {
		a := mustForm(t, e, "Form A", nil)
		b := mustForm(t, e, "Form B", nil)
		first := submitForm(t, e, a, map[string]string{"email": "uxia@example.gal", "first_name": "Uxía"})
		if !first.ContactCreated || !first.LeadCreated || first.InteractionID == nil {
			t.Fatalf("first submission: %+v", first)
		}
		second := submitForm(t, e, a, map[string]string{"email": " UXIA@Example.gal ", "job": "CTO"})
		if second.ContactCreated || second.LeadCreated || *second.ContactID != *first.ContactID || *second.LeadID != *first.LeadID {
			t.Fatalf("second submission of form A: %+v", second)
		}
		wantCounts(t, e, 1, 1, 2)
		c := MustGet(t, e.ctx, e.s.Contacts(), *first.ContactID)
		if c.FirstName != "Uxía" || c.JobTitle != "CTO" || c.Origin != "form" {
			t.Errorf("matched contact not updated with the new values only: %+v", c)
		}
		third := submitForm(t, e, b, map[string]string{"email": "uxia@example.gal"})
		if third.ContactCreated || !third.LeadCreated || *third.ContactID != *first.ContactID {
			t.Fatalf("form B: %+v", third)
		}
		wantCounts(t, e, 1, 2, 3)
		fourth := submitForm(t, e, a, map[string]string{"email": "brais@example.gal"})
		if !fourth.ContactCreated || !fourth.LeadCreated {
			t.Fatalf("new email: %+v", fourth)
		}
		wantCounts(t, e, 2, 3, 4)
		lead := MustGet(t, e.ctx, e.s.Leads(), *third.LeadID)
		if lead.Source != "form" || lead.FormID == nil || *lead.FormID != b.ID || lead.Topic != "Form B" {
			t.Errorf("lead of form B: %+v", lead)
		}
		if len(second.Explanation) == 0 || !contains(second.Explanation, "matched by strategy \"Contacts by email\"") {
			t.Errorf("explanation does not say why: %q", second.Explanation)
		}
	}},
	{"email_normalisation_idna", func(t *testing.T, e *env) {
		f := mustForm(t, e, "IDN", nil)
		r1 := submitForm(t, e, f, map[string]string{"email": "Uxia@Ría.gal"})
		r2 := submitForm(t, e, f, map[string]string{"email": "uxia@xn--ra-nja.gal"})
		if *r1.ContactID != *r2.ContactID || r2.ContactCreated {
			t.Fatalf("IDNA forms of one address made two contacts: %+v %+v", r1, r2)
		}
		// The other way round: the ASCII form first.
		r3 := submitForm(t, e, f, map[string]string{"email": "brais@xn--ra-nja.gal"})
		r4 := submitForm(t, e, f, map[string]string{"email": "Brais@RÍA.gal"})
		if *r3.ContactID != *r4.ContactID || r4.ContactCreated || *r3.ContactID == *r1.ContactID {
			t.Fatalf("IDNA forms of one address, ASCII first: %+v %+v", r3, r4)
		}
		// A contact whose email changes is found by the new one only.
		MustUpdate(t, e.ctx, e.s.Contacts(), *r1.ContactID, func(c *leadcycle.Contact) error { c.Email = "uxia@example.gal"; return nil })
		if r := submitForm(t, e, f, map[string]string{"email": "uxia@example.gal"}); r.ContactCreated || *r.ContactID != *r1.ContactID {
			t.Fatalf("new email of the contact: %+v", r)
		}
		if r := submitForm(t, e, f, map[string]string{"email": "uxia@xn--ra-nja.gal"}); !r.ContactCreated {
			t.Fatalf("the old email still matched: %+v", r)
		}
	}},
	{"lead_strategy_per_form", func(t *testing.T, e *env) {
		byEmail := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "Lead by email", Kind: "lead", Fields: []string{"email"}, UpdateWhenMatched: true, CreateWhenNone: true, IgnoreEmptyValues: true})
		a := mustForm(t, e, "Form A", nil)
		c := mustForm(t, e, "Form C", func(f *leadcycle.Form) { f.LeadStrategyID = &byEmail.ID })
		r1 := submitForm(t, e, a, map[string]string{"email": "noa@example.gal"})
		r2 := submitForm(t, e, c, map[string]string{"email": "noa@example.gal"})
		if r2.LeadCreated || *r2.LeadID != *r1.LeadID {
			t.Fatalf("form C with an email-only lead strategy should reuse the open lead: %+v", r2)
		}
		wantCounts(t, e, 1, 1, 2)
		// Form A keeps the default: a second form with the default creates.
		d := mustForm(t, e, "Form D", nil)
		if r3 := submitForm(t, e, d, map[string]string{"email": "noa@example.gal"}); !r3.LeadCreated {
			t.Fatalf("default strategy must give one lead per form: %+v", r3)
		}
	}},
	{"contact_strategy_per_form", func(t *testing.T, e *env) {
		byPhone := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "Phone", Kind: "contact", Fields: []string{"phone"}, PhoneRegion: "ES", UpdateWhenMatched: true, CreateWhenNone: true, IgnoreEmptyValues: true})
		a := mustForm(t, e, "A", nil)
		p := mustForm(t, e, "Phone form", func(f *leadcycle.Form) { f.ContactStrategyID = &byPhone.ID })
		r1 := submitForm(t, e, a, map[string]string{"email": "iago@example.gal", "phone": "981 123 456"})
		r2 := submitForm(t, e, p, map[string]string{"email": "iago.work@empresa.gal", "phone": "+34 981-12-34-56"})
		if r2.ContactCreated || *r2.ContactID != *r1.ContactID {
			t.Fatalf("phone strategy did not match the E.164 form of the number: %+v", r2)
		}
		if got := MustGet(t, e.ctx, e.s.Contacts(), *r1.ContactID).Email; got != "iago.work@empresa.gal" {
			t.Errorf("matched contact email = %q, want the newly submitted one", got)
		}
		// The default form with the old email no longer finds a contact
		// (the email changed), so it creates one.
		if r3 := submitForm(t, e, a, map[string]string{"email": "iago@example.gal"}); !r3.ContactCreated {
			t.Errorf("email key not refreshed after the contact's email changed: %+v", r3)
		}
	}},
	{"strategy_options", func(t *testing.T, e *env) {
		noCreate := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "Existing only", Kind: "contact", Fields: []string{"email"}, UpdateWhenMatched: false, CreateWhenNone: false})
		clearing := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "Clearing", Kind: "contact", Fields: []string{"email"}, UpdateWhenMatched: true, CreateWhenNone: true, IgnoreEmptyValues: false})
		f1 := mustForm(t, e, "No create", func(f *leadcycle.Form) { f.ContactStrategyID = &noCreate.ID; f.Mode = leadcycle.FormContactsOnly })
		f2 := mustForm(t, e, "Clearing", func(f *leadcycle.Form) { f.ContactStrategyID = &clearing.ID; f.Mode = leadcycle.FormContactsOnly })
		res := submitForm(t, e, f1, map[string]string{"email": "nobody@example.gal"})
		if res.ContactID != nil || res.InteractionID != nil || !contains(res.Explanation, "does not create") {
			t.Fatalf("create_when_none=false created something: %+v", res)
		}
		wantCounts(t, e, 0, 0, 0)
		existing := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "antia@example.gal", FirstName: "Antía", JobTitle: "CEO"})
		res = submitForm(t, e, f1, map[string]string{"email": "antia@example.gal", "first_name": "Changed"})
		if *res.ContactID != existing.ID || MustGet(t, e.ctx, e.s.Contacts(), existing.ID).FirstName != "Antía" {
			t.Fatalf("update_when_matched=false changed the contact: %+v", res)
		}
		submitForm(t, e, f2, map[string]string{"email": "antia@example.gal", "job": ""})
		if got := MustGet(t, e.ctx, e.s.Contacts(), existing.ID).JobTitle; got != "" {
			t.Errorf("ignore_empty_values=false did not clear a submitted empty field: job_title = %q", got)
		}
	}},
	{"leads_only_form", func(t *testing.T, e *env) {
		known := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "known@example.gal", FirstName: "Known"})
		f := mustForm(t, e, "Leads only", func(f *leadcycle.Form) { f.Mode = leadcycle.FormLeadsOnly })
		r := submitForm(t, e, f, map[string]string{"email": "known@example.gal", "first_name": "Changed"})
		if r.ContactCreated || r.ContactID == nil || *r.ContactID != known.ID || !r.LeadCreated || r.InteractionID == nil {
			t.Fatalf("known contact: %+v", r)
		}
		if got := MustGet(t, e.ctx, e.s.Contacts(), known.ID).FirstName; got != "Known" {
			t.Errorf("lead-only capture changed the contact: first_name %q", got)
		}
		r = submitForm(t, e, f, map[string]string{"email": "stranger@example.gal"})
		if r.ContactID != nil || !r.LeadCreated {
			t.Fatalf("unknown contact: %+v", r)
		}
		lead := MustGet(t, e.ctx, e.s.Leads(), *r.LeadID)
		if lead.HasParent() {
			t.Errorf("lead-only capture gave the lead a parent: %+v", lead)
		}
		// The same stranger submitting again reaches the same parentless lead.
		if again := submitForm(t, e, f, map[string]string{"email": "Stranger@example.gal"}); again.LeadCreated || *again.LeadID != lead.ID {
			t.Errorf("second lead-only submission: %+v", again)
		}
		wantCounts(t, e, 1, 2, 1)
	}},
	{"most_recently_updated_wins", func(t *testing.T, e *env) {
		older := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "dup@example.gal", FirstName: "Old"})
		e.clock.Advance(1e9)
		newer := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "dup@example.gal", FirstName: "New"})
		e.clock.Advance(1e9)
		MustUpdate(t, e.ctx, e.s.Contacts(), older.ID, func(c *leadcycle.Contact) error { c.JobTitle = "touched"; return nil })
		f := mustForm(t, e, "F", nil)
		if res := submitForm(t, e, f, map[string]string{"email": "dup@example.gal"}); *res.ContactID != older.ID {
			t.Fatalf("matched %s, want the most recently updated %s (not %s)", *res.ContactID, older.ID, newer.ID)
		}
	}},
	{"external_id_is_idempotent", func(t *testing.T, e *env) {
		in := leadcycle.CaptureInput{Source: "linkedin", ExternalID: "urn:li:leadFormResponse:1", Contact: leadcycle.Contact{Email: "mei@example.com.tw"},
			Lead: &leadcycle.Lead{Topic: "LinkedIn form"}, Interaction: &leadcycle.Interaction{Type: "linkedin_form_submitted"}}
		r1, err := e.s.Capture(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := e.s.Capture(e.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !r2.Repeated || *r2.ContactID != *r1.ContactID || *r2.LeadID != *r1.LeadID {
			t.Fatalf("repeat: %+v", r2)
		}
		wantCounts(t, e, 1, 1, 1)
		if l := MustGet(t, e.ctx, e.s.Leads(), *r1.LeadID); l.Source != "linkedin" {
			t.Errorf("lead source = %q", l.Source)
		}
	}},
	{"concurrent_identical_submissions", func(t *testing.T, e *env) {
		f := mustForm(t, e, "Rush", nil)
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := range 50 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				sub := &leadcycle.FormSubmission{ID: leadcycle.ID(10_000 + i), FormID: f.ID, Values: map[string]string{"email": "rush@example.gal"}}
				if _, err := e.s.Capture(e.ctx, forms.Capture(f, sub)); err != nil {
					errs <- err
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		wantCounts(t, e, 1, 1, 50)
	}},
	{"accounts_by_email_domain", func(t *testing.T, e *env) {
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Rías Baixas", Website: "https://www.riasbaixas.gal"})
		MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Google", Domain: "gmail.com"})
		f := mustForm(t, e, "F", nil)
		r := submitForm(t, e, f, map[string]string{"email": "xoan@riasbaixas.gal"})
		c := MustGet(t, e.ctx, e.s.Contacts(), *r.ContactID)
		if c.AccountID == nil || *c.AccountID != acc.ID {
			t.Fatalf("contact with a company email not linked to the account: %+v", c)
		}
		if l := MustGet(t, e.ctx, e.s.Leads(), *r.LeadID); l.AccountID == nil || *l.AccountID != acc.ID {
			t.Errorf("lead does not inherit the account: %+v", l)
		}
		free := submitForm(t, e, f, map[string]string{"email": "someone@gmail.com"})
		if c := MustGet(t, e.ctx, e.s.Contacts(), *free.ContactID); c.AccountID != nil {
			t.Errorf("free-mail contact linked to account %s", *c.AccountID)
		}
	}},
	{"strategy_rules", func(t *testing.T, e *env) {
		MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "pre@example.gal", LastName: "Souto"})
		def := MustList(t, e.ctx, e.s.Strategies(), leadcycle.ListQuery{Filters: []leadcycle.Filter{eqFilter("kind", "contact")}})[0]
		if err := e.s.Strategies().Delete(e.ctx, def.ID); leadcycle.ErrorCode(err) != leadcycle.EConflict {
			t.Errorf("deleting the default: %v", err)
		}
		byName := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "Surname", Kind: "contact", Fields: []string{"last_name"}, IsDefault: true, UpdateWhenMatched: true, CreateWhenNone: true})
		if MustGet(t, e.ctx, e.s.Strategies(), def.ID).IsDefault {
			t.Error("a new default did not demote the old one")
		}
		// Keys were built for contacts that existed before the strategy.
		f := mustForm(t, e, "F", func(f *leadcycle.Form) {
			f.Fields = append(f.Fields, leadcycle.FormField{Name: "surname", Target: "contact.last_name"})
		})
		if r := submitForm(t, e, f, map[string]string{"email": "other@example.gal", "surname": "SOUTO"}); r.ContactCreated {
			t.Errorf("strategy %s created on existing data did not match it: %+v", byName.Name, r)
		}
		bad := leadcycle.MatchingStrategy{Name: "Bad", Kind: "contact", Fields: []string{"shoe_size"}}
		if err := e.s.Strategies().Create(e.ctx, &bad); leadcycle.ErrorCode(err) != leadcycle.EInvalid {
			t.Errorf("unknown field: %v", err)
		}
	}},
	{"event_capacity_and_waitlist", func(t *testing.T, e *env) {
		ev := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Demo day", Capacity: 1, Waitlist: true, RegistrationOpen: true})
		a := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "a@example.gal"})
		b := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "b@example.gal"})
		r1, created, err := e.s.Registrations().Register(e.ctx, ev.ID, a.ID, nil)
		if err != nil || !created || r1.Status != "registered" {
			t.Fatalf("first: %+v %v %v", r1, created, err)
		}
		r2, _, err := e.s.Registrations().Register(e.ctx, ev.ID, b.ID, nil)
		if err != nil || r2.Status != "waitlisted" {
			t.Fatalf("second: %+v %v", r2, err)
		}
		if again, created, err := e.s.Registrations().Register(e.ctx, ev.ID, b.ID, nil); err != nil || created || again.ID != r2.ID {
			t.Fatalf("registering twice: %+v %v %v", again, created, err)
		}
		if _, err := e.s.Registrations().Cancel(e.ctx, ev.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		regs, _ := e.s.Registrations().Registrations(e.ctx, ev.ID)
		if len(regs) != 2 || regs[1].Status != "registered" {
			t.Fatalf("waitlisted contact not promoted: %+v", regs)
		}
		in, err := e.s.Registrations().CheckIn(e.ctx, ev.ID, b.ID)
		if err != nil || in.Status != "attended" || in.CheckedInAt == nil {
			t.Fatalf("check-in: %+v %v", in, err)
		}
		e.s.Registrations().CheckIn(e.ctx, ev.ID, b.ID)
		if n := countIn(t, e, e.s.Interactions(), eqFilter("type", "event_attended")); n != 1 {
			t.Errorf("event_attended interactions = %d, want 1", n)
		}
		if n := countIn(t, e, e.s.Interactions(), eqFilter("type", "event_registered")); n != 2 {
			t.Errorf("event_registered interactions = %d, want 2", n)
		}
		full := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Small", Capacity: 1, RegistrationOpen: true})
		e.s.Registrations().Register(e.ctx, full.ID, a.ID, nil)
		if _, _, err := e.s.Registrations().Register(e.ctx, full.ID, b.ID, nil); leadcycle.ErrorCode(err) != leadcycle.EConflict {
			t.Errorf("full event without waitlist: %v", err)
		}
	}},
	{"concurrent_registrations_respect_capacity", func(t *testing.T, e *env) {
		ev := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Tiny", Capacity: 3, Waitlist: true, RegistrationOpen: true})
		var contacts []leadcycle.ID
		for i := range 12 {
			contacts = append(contacts, MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: fmt.Sprintf("r%d@example.gal", i)}).ID)
		}
		var wg sync.WaitGroup
		for _, c := range contacts {
			wg.Add(1)
			go func() { defer wg.Done(); e.s.Registrations().Register(e.ctx, ev.ID, c, nil) }()
		}
		wg.Wait()
		regs, _ := e.s.Registrations().Registrations(e.ctx, ev.ID)
		registered := 0
		for _, r := range regs {
			if r.Status == "registered" {
				registered++
			}
		}
		if len(regs) != 12 || registered != 3 {
			t.Fatalf("%d registrations, %d registered; want 12 and 3", len(regs), registered)
		}
	}},
	{"submissions_are_kept_once_per_key", func(t *testing.T, e *env) {
		f := mustForm(t, e, "F", nil)
		sub := &leadcycle.FormSubmission{FormID: f.ID, Key: "k1", Values: map[string]string{"email": "x@example.gal"}}
		created, err := e.s.Submissions().SaveSubmission(e.ctx, sub)
		if err != nil || !created || sub.Status != "pending" {
			t.Fatalf("save: %v %v %+v", created, err, sub)
		}
		again := &leadcycle.FormSubmission{FormID: f.ID, Key: "k1", Values: map[string]string{"email": "other@example.gal"}}
		if created, err := e.s.Submissions().SaveSubmission(e.ctx, again); err != nil || created || again.ID != sub.ID || again.Values["email"] != "x@example.gal" {
			t.Fatalf("same key saved twice: %v %v %+v", created, err, again)
		}
		e.clock.Advance(1e9)
		pending, err := e.s.Submissions().PendingSubmissions(e.ctx, e.clock.Now(), 10)
		if err != nil || len(pending) != 1 {
			t.Fatalf("pending: %v %+v", err, pending)
		}
		res := leadcycle.CaptureResult{ContactID: leadcycle.IDPtr(7), Explanation: []string{"x"}}
		if err := e.s.Submissions().FinishSubmission(e.ctx, sub.ID, "processed", &res, ""); err != nil {
			t.Fatal(err)
		}
		list, _ := e.s.Submissions().ListSubmissions(e.ctx, f.ID, 10)
		if len(list) != 1 || list[0].Status != "processed" || list[0].Result == nil || *list[0].Result.ContactID != 7 || list[0].Attempts != 1 || list[0].ProcessedAt == nil {
			t.Fatalf("finished submission: %+v", list)
		}
		if pending, _ := e.s.Submissions().PendingSubmissions(e.ctx, e.clock.Now(), 10); len(pending) != 0 {
			t.Errorf("processed submission still pending")
		}
	}},
}

func contains(lines []string, part string) bool {
	for _, l := range lines {
		if strings.Contains(l, part) {
			return true
		}
	}
	return false
}
