package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// missingID is an id no subtest ever reaches.
const missingID = leadcycle.ID(987654321)

// errStop is returned by update functions that must abort the update.
var errStop = errors.New("storetest: stop the update")

// checkNotFound checks Get, Update and Delete of a missing id.
func checkNotFound[T leadcycle.Record](t *testing.T, ctx context.Context, r leadcycle.Repo[T]) {
	t.Helper()
	v, err := r.Get(ctx, missingID)
	wantErr(t, err, leadcycle.ENotFound)
	if v != nil {
		t.Errorf("get of a missing %T returned %+v", v, v)
	}
	called := false
	v, err = r.Update(ctx, missingID, func(*T) error { called = true; return nil })
	wantErr(t, err, leadcycle.ENotFound)
	if called {
		t.Errorf("update of a missing %T called the update function", v)
	}
	if v != nil {
		t.Errorf("update of a missing %T returned %+v", v, v)
	}
	wantErr(t, r.Delete(ctx, missingID), leadcycle.ENotFound)
}

// invalidCase is a record that Create must refuse.
type invalidCase[T any] struct {
	name   string
	v      T
	code   string // EInvalid when empty
	fields []string
}

// checkCreateRejected creates every case, expecting the error and no new row.
func checkCreateRejected[T leadcycle.Record](t *testing.T, ctx context.Context, r leadcycle.Repo[T], cases []invalidCase[T]) {
	t.Helper()
	for _, c := range cases {
		before := count(t, ctx, r)
		v := c.v
		err := r.Create(ctx, &v)
		code := c.code
		if code == "" {
			code = leadcycle.EInvalid
		}
		t.Run(c.name, func(t *testing.T) { wantErr(t, err, code, c.fields...) })
		if got := count(t, ctx, r); got != before {
			t.Errorf("%s: rejected create changed the row count from %d to %d", c.name, before, got)
		}
	}
}

// checkUpdateRejected runs an update that must fail and checks that the
// record is unchanged. The clock is advanced first so a stray write shows.
func checkUpdateRejected[T leadcycle.Record](t *testing.T, e *env, r leadcycle.Repo[T], id leadcycle.ID, fn func(*T) error, code string, fields ...string) {
	t.Helper()
	before := MustGet(t, e.ctx, r, id)
	e.clock.Advance(time.Minute)
	out, err := r.Update(e.ctx, id, fn)
	if code == "" {
		if !errors.Is(err, errStop) {
			t.Errorf("update error = %v, want the update function's error", err)
		}
	} else {
		wantErr(t, err, code, fields...)
	}
	if out != nil {
		t.Errorf("failed update returned a record: %+v", out)
	}
	diff(t, "record after a rejected update", before, MustGet(t, e.ctx, r, id))
}

var contactTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "segment", Type: leadcycle.FieldText})
		e.clock.Advance(time.Minute)
		now := e.clock.Now()
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{
			FirstName: "  Ada ", LastName: " Lovelace", Email: " Ada.Lovelace@Example.COM ", Phone: " +34 600 123 456 ",
			JobTitle: " CTO ", AccountID: id(acc.ID), OwnerID: id(42),
			Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentGranted, Tracking: leadcycle.ConsentDenied},
			Origin:  leadcycle.SourceForm, Custom: leadcycle.Custom{"segment": "enterprise"},
		})
		want := leadcycle.Contact{
			ID: c.ID, FirstName: "Ada", LastName: "Lovelace", Email: "ada.lovelace@example.com", Phone: "+34 600 123 456",
			JobTitle: "CTO", AccountID: id(acc.ID), OwnerID: id(42),
			Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentGranted, Tracking: leadcycle.ConsentDenied},
			Origin:  leadcycle.SourceForm, Custom: leadcycle.Custom{"segment": "enterprise"}, CreatedAt: now, UpdatedAt: now,
		}
		diff(t, "created contact", want, *c)
		diff(t, "fetched contact", want, *MustGet(t, e.ctx, e.s.Contacts(), c.ID))

		other := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "other@example.org"})
		if other.ID == c.ID {
			t.Errorf("two contacts got the same id %d", c.ID)
		}
	}},
	{"create_defaults", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Phone: "+886 2 1234 5678"})
		want := leadcycle.Contact{
			ID: c.ID, Phone: "+886 2 1234 5678", Origin: leadcycle.SourceAPI,
			Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentUnknown, Tracking: leadcycle.ConsentUnknown},
			Custom:  leadcycle.Custom{}, CreatedAt: Epoch, UpdatedAt: Epoch,
		}
		diff(t, "created contact", want, *c)
		diff(t, "fetched contact", want, *MustGet(t, e.ctx, e.s.Contacts(), c.ID))
	}},
	{"update", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Ada", Email: "ada@example.org", OwnerID: id(1)})
		e.clock.Advance(90 * time.Second)
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		e.clock.Advance(time.Second)
		now := e.clock.Now()
		got := MustUpdate(t, e.ctx, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error {
			c.ID = missingID // the id cannot be changed
			c.FirstName = " Grace "
			c.Email = "GRACE@Example.org"
			c.AccountID = id(acc.ID)
			c.OwnerID = nil
			c.Consent.Tracking = leadcycle.ConsentGranted
			c.Origin = leadcycle.SourceImport
			return nil
		})
		want := *c
		want.FirstName, want.Email, want.AccountID, want.OwnerID = "Grace", "grace@example.org", id(acc.ID), nil
		want.Consent.Tracking, want.Origin = leadcycle.ConsentGranted, leadcycle.SourceImport
		want.UpdatedAt = now
		diff(t, "updated contact", want, *got)
		diff(t, "fetched contact", want, *MustGet(t, e.ctx, e.s.Contacts(), c.ID))
		if n := count(t, e.ctx, e.s.Contacts()); n != 1 {
			t.Errorf("contacts after update = %d, want 1", n)
		}
		_, err := e.s.Contacts().Get(e.ctx, missingID)
		wantErr(t, err, leadcycle.ENotFound)
	}},
	{"update_rejected", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{FirstName: "Ada", Email: "ada@example.org"})
		r := e.s.Contacts()
		checkUpdateRejected(t, e, r, c.ID, func(c *leadcycle.Contact) error { c.FirstName = "Changed"; return errStop }, "")
		checkUpdateRejected(t, e, r, c.ID, func(c *leadcycle.Contact) error { c.Email = "not-an-email"; return nil }, leadcycle.EInvalid, "email")
		checkUpdateRejected(t, e, r, c.ID, func(c *leadcycle.Contact) error { c.FirstName, c.Email = "", ""; return nil }, leadcycle.EInvalid, "email")
		checkUpdateRejected(t, e, r, c.ID, func(c *leadcycle.Contact) error { c.AccountID = id(missingID); return nil }, leadcycle.EInvalid, "account_id")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Contacts()) }},
	{"invalid", func(t *testing.T, e *env) {
		checkCreateRejected(t, e.ctx, e.s.Contacts(), []invalidCase[leadcycle.Contact]{
			{name: "nothing_identifying", v: leadcycle.Contact{JobTitle: "CTO"}, fields: []string{"email"}},
			{name: "bad_email", v: leadcycle.Contact{Email: "not-an-email"}, fields: []string{"email"}},
			{name: "email_with_name", v: leadcycle.Contact{Email: "Ada <ada@example.org>"}, fields: []string{"email"}},
			{name: "email_without_dot", v: leadcycle.Contact{Email: "ada@localhost"}, fields: []string{"email"}},
			{name: "bad_phone", v: leadcycle.Contact{FirstName: "Ada", Phone: "call me"}, fields: []string{"phone"}},
			{name: "bad_origin", v: leadcycle.Contact{Email: "ada@example.org", Origin: "fax"}, fields: []string{"origin"}},
			{name: "bad_consent", v: leadcycle.Contact{Email: "ada@example.org", Consent: leadcycle.Consent{Tracking: "maybe"}}, fields: []string{"consent.tracking"}},
			{name: "long_first_name", v: leadcycle.Contact{FirstName: strings.Repeat("a", 201)}, fields: []string{"first_name"}},
			{name: "two_errors", v: leadcycle.Contact{Email: "bad", Origin: "fax"}, fields: []string{"email", "origin"}},
			// PostgreSQL cannot store NUL in text; both databases must refuse it the same way.
			{name: "nul_in_name", v: leadcycle.Contact{FirstName: "A\x00da"}, fields: []string{"first_name"}},
			{name: "invalid_utf8", v: leadcycle.Contact{LastName: "\xff\xfe"}, fields: []string{"last_name"}},
		})
	}},
}

var accountTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "account", Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}})
		e.clock.Advance(time.Minute)
		now := e.clock.Now()
		a := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{
			Name: " Acme Corp ", Website: "https://www.Acme.example/about", Industry: " Software ",
			Employees: ptr[int64](120), Revenue: ptr(1_500_000.25), Country: "es", OwnerID: id(9),
			Custom: leadcycle.Custom{"tier": "gold"},
		})
		want := leadcycle.Account{
			ID: a.ID, Name: "Acme Corp", Website: "https://www.Acme.example/about", Domain: "acme.example", Industry: "Software",
			Employees: ptr[int64](120), Revenue: ptr(1_500_000.25), Country: "ES", OwnerID: id(9),
			Custom: leadcycle.Custom{"tier": "gold"}, CreatedAt: now, UpdatedAt: now,
		}
		diff(t, "created account", want, *a)
		diff(t, "fetched account", want, *MustGet(t, e.ctx, e.s.Accounts(), a.ID))

		// Zero is not null.
		z := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Zero", Domain: "Zero.Example", Employees: ptr[int64](0), Revenue: ptr(0.0)})
		wantZ := leadcycle.Account{ID: z.ID, Name: "Zero", Domain: "zero.example", Employees: ptr[int64](0), Revenue: ptr(0.0),
			Custom: leadcycle.Custom{}, CreatedAt: now, UpdatedAt: now}
		diff(t, "fetched zero account", wantZ, *MustGet(t, e.ctx, e.s.Accounts(), z.ID))

		bare := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Bare"})
		wantBare := leadcycle.Account{ID: bare.ID, Name: "Bare", Custom: leadcycle.Custom{}, CreatedAt: now, UpdatedAt: now}
		diff(t, "fetched bare account", wantBare, *MustGet(t, e.ctx, e.s.Accounts(), bare.ID))
	}},
	{"update", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		a := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme", Website: "acme.example", Revenue: ptr(10.5), OwnerID: id(3)})
		e.clock.Advance(time.Hour)
		got := MustUpdate(t, e.ctx, e.s.Accounts(), a.ID, func(a *leadcycle.Account) error {
			a.Name = "Acme Holding"
			a.Employees = ptr[int64](5)
			a.Revenue = nil
			a.Country = "tw"
			a.OwnerID = nil
			return nil
		})
		want := *a
		want.Name, want.Employees, want.Revenue, want.Country, want.OwnerID = "Acme Holding", ptr[int64](5), nil, "TW", nil
		want.UpdatedAt = Epoch.Add(time.Hour)
		diff(t, "updated account", want, *got)
		diff(t, "fetched account", want, *MustGet(t, e.ctx, e.s.Accounts(), a.ID))
	}},
	{"update_rejected", func(t *testing.T, e *env) {
		a := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		r := e.s.Accounts()
		checkUpdateRejected(t, e, r, a.ID, func(a *leadcycle.Account) error { a.Name = "Changed"; return errStop }, "")
		checkUpdateRejected(t, e, r, a.ID, func(a *leadcycle.Account) error { a.Name = " "; return nil }, leadcycle.EInvalid, "name")
		checkUpdateRejected(t, e, r, a.ID, func(a *leadcycle.Account) error { a.Employees = ptr[int64](-1); return nil }, leadcycle.EInvalid, "employees")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Accounts()) }},
	{"invalid", func(t *testing.T, e *env) {
		checkCreateRejected(t, e.ctx, e.s.Accounts(), []invalidCase[leadcycle.Account]{
			{name: "no_name", v: leadcycle.Account{Website: "acme.example"}, fields: []string{"name"}},
			{name: "bad_country", v: leadcycle.Account{Name: "Acme", Country: "ESP"}, fields: []string{"country"}},
			{name: "negative_employees", v: leadcycle.Account{Name: "Acme", Employees: ptr[int64](-1)}, fields: []string{"employees"}},
			{name: "negative_revenue", v: leadcycle.Account{Name: "Acme", Revenue: ptr(-0.5)}, fields: []string{"revenue"}},
			{name: "bad_website", v: leadcycle.Account{Name: "Acme", Website: "http://"}, fields: []string{"website"}},
			{name: "bad_domain", v: leadcycle.Account{Name: "Acme", Domain: "acme example"}, fields: []string{"domain"}},
		})
	}},
}

var leadTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber})
		form, event := mustContext(t, e)
		proc := MustCreateProcess(t, e.ctx, e.s, "Nurture first", "inquiry", "nurture", "won")
		e.clock.Advance(time.Minute)
		now := e.clock.Now()
		budget := 12000.0
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{
			Topic: " Pricing question ", Description: "Wants a quote\nfor 20 seats", ContactID: id(con.ID), AccountID: id(acc.ID),
			PurchaseTimeframe: "this_quarter", PurchaseProcess: "committee", BudgetAmount: &budget, Need: "must_have",
			Status: leadcycle.LeadOpen, StatusReason: "contacted", Source: leadcycle.SourceForm,
			FormID: id(form), EventID: id(event), JourneyID: id(13), Campaign: " spring ", ProcessID: id(proc.ID), Stage: "nurture",
			TelesalesReady: true, TelesalesAccepted: false, SalesReady: true, SalesAccepted: true, OwnerID: id(15),
			Custom: leadcycle.Custom{"budget": 2500.5},
		})
		want := leadcycle.Lead{
			ID: l.ID, Topic: "Pricing question", Description: "Wants a quote\nfor 20 seats", ContactID: id(con.ID), AccountID: id(acc.ID),
			PurchaseTimeframe: "this_quarter", PurchaseProcess: "committee", BudgetAmount: &budget, Need: "must_have",
			Status: leadcycle.LeadOpen, StatusReason: "contacted", Source: leadcycle.SourceForm,
			FormID: id(form), EventID: id(event), JourneyID: id(13), Campaign: "spring", ProcessID: id(proc.ID), Stage: "nurture",
			TelesalesReady: true, TelesalesAccepted: false, SalesReady: true, SalesAccepted: true, OwnerID: id(15),
			Scores: []leadcycle.LeadScore{}, Custom: leadcycle.Custom{"budget": 2500.5}, CreatedAt: now, UpdatedAt: now,
		}
		diff(t, "created lead", want, *l)
		diff(t, "fetched lead", want, *MustGet(t, e.ctx, e.s.Leads(), l.ID))
	}},
	{"create_defaults", func(t *testing.T, e *env) {
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Hello"})
		want := leadcycle.Lead{ID: l.ID, Topic: "Hello", Status: leadcycle.LeadOpen, StatusReason: "new", Source: leadcycle.SourceAPI,
			ProcessID: id(DefaultProcessID(t, e.ctx, e.s)), Stage: leadcycle.DefaultStage, Scores: []leadcycle.LeadScore{}, Custom: leadcycle.Custom{}, CreatedAt: Epoch, UpdatedAt: Epoch}
		diff(t, "created lead", want, *l)
		diff(t, "fetched lead", want, *MustGet(t, e.ctx, e.s.Leads(), l.ID))

		lost := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Gone", StatusReason: "lost"})
		if lost.Status != leadcycle.LeadDisqualified || lost.StatusReason != "lost" {
			t.Errorf("lead with reason lost: status %q reason %q, want disqualified lost", lost.Status, lost.StatusReason)
		}
		diff(t, "fetched disqualified lead", *lost, *MustGet(t, e.ctx, e.s.Leads(), lost.ID))
		q := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Won", Status: leadcycle.LeadQualified})
		if q.StatusReason != "qualified" {
			t.Errorf("qualified lead: reason %q, want qualified", q.StatusReason)
		}
		diff(t, "fetched qualified lead", *q, *MustGet(t, e.ctx, e.s.Leads(), q.ID))
	}},
	{"update", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		form, _ := mustContext(t, e)
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: id(con.ID), SalesReady: true, FormID: id(form)})
		e.clock.Advance(25 * time.Hour)
		got := MustUpdate(t, e.ctx, e.s.Leads(), l.ID, func(l *leadcycle.Lead) error {
			l.Status, l.StatusReason = leadcycle.LeadDisqualified, "cannot_contact"
			l.SalesReady = false
			l.TelesalesAccepted = true
			l.ContactID = nil
			l.FormID = nil
			l.Stage = "closed"
			return nil
		})
		want := *l
		want.Status, want.StatusReason, want.SalesReady, want.TelesalesAccepted = leadcycle.LeadDisqualified, "cannot_contact", false, true
		want.ContactID, want.FormID, want.Stage = nil, nil, "closed"
		want.UpdatedAt = Epoch.Add(25 * time.Hour)
		diff(t, "updated lead", want, *got)
		diff(t, "fetched lead", want, *MustGet(t, e.ctx, e.s.Leads(), l.ID))
	}},
	{"update_rejected", func(t *testing.T, e *env) {
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo"})
		r := e.s.Leads()
		checkUpdateRejected(t, e, r, l.ID, func(l *leadcycle.Lead) error { l.Topic = "Changed"; return errStop }, "")
		checkUpdateRejected(t, e, r, l.ID, func(l *leadcycle.Lead) error {
			l.Status, l.StatusReason = leadcycle.LeadDisqualified, ""
			return nil
		}, leadcycle.EInvalid, "status_reason")
		checkUpdateRejected(t, e, r, l.ID, func(l *leadcycle.Lead) error { l.StatusReason = "lost"; return nil }, leadcycle.EInvalid, "status_reason")
		checkUpdateRejected(t, e, r, l.ID, func(l *leadcycle.Lead) error { l.ContactID = id(missingID); return nil }, leadcycle.EInvalid, "contact_id")
		checkUpdateRejected(t, e, r, l.ID, func(l *leadcycle.Lead) error { l.AccountID = id(missingID); return nil }, leadcycle.EInvalid, "account_id")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Leads()) }},
	{"invalid", func(t *testing.T, e *env) {
		checkCreateRejected(t, e.ctx, e.s.Leads(), []invalidCase[leadcycle.Lead]{
			{name: "no_topic", v: leadcycle.Lead{Topic: "  "}, fields: []string{"topic"}},
			{name: "disqualified_without_reason", v: leadcycle.Lead{Topic: "x", Status: leadcycle.LeadDisqualified}, fields: []string{"status_reason"}},
			{name: "unknown_status", v: leadcycle.Lead{Topic: "x", Status: "won"}, fields: []string{"status"}},
			{name: "reason_of_other_status", v: leadcycle.Lead{Topic: "x", Status: leadcycle.LeadOpen, StatusReason: "lost"}, fields: []string{"status_reason"}},
			{name: "unknown_reason", v: leadcycle.Lead{Topic: "x", StatusReason: "bored"}, fields: []string{"status"}},
			{name: "bad_source", v: leadcycle.Lead{Topic: "x", Source: "fax"}, fields: []string{"source"}},
			{name: "bad_stage", v: leadcycle.Lead{Topic: "x", Stage: "Bad Stage"}, fields: []string{"stage"}},
			{name: "two_errors", v: leadcycle.Lead{Source: "fax"}, fields: []string{"topic", "source"}},
		})
	}},
}

var opportunityTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo"})
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "opportunity", Name: "probability", Type: leadcycle.FieldNumber})
		e.clock.Advance(time.Minute)
		now := e.clock.Now()
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{
			Name: " Big deal ", LeadID: id(l.ID), ContactID: id(con.ID), AccountID: id(acc.ID),
			EstimatedValue: ptr(12345.67), Currency: " eur ", ExpectedCloseDate: "2026-06-30", OwnerID: id(3),
			Custom: leadcycle.Custom{"probability": 0.4},
		})
		want := leadcycle.Opportunity{
			ID: o.ID, Name: "Big deal", LeadID: id(l.ID), ContactID: id(con.ID), AccountID: id(acc.ID), Status: "open",
			EstimatedValue: ptr(12345.67), Currency: "EUR", ExpectedCloseDate: "2026-06-30", OwnerID: id(3),
			Custom: leadcycle.Custom{"probability": 0.4}, CreatedAt: now, UpdatedAt: now,
		}
		diff(t, "created opportunity", want, *o)
		diff(t, "fetched opportunity", want, *MustGet(t, e.ctx, e.s.Opportunities(), o.ID))

		won := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Won at once", Status: "won"})
		wantWon := leadcycle.Opportunity{ID: won.ID, Name: "Won at once", Status: "won", ClosedAt: ptr(now),
			Custom: leadcycle.Custom{}, CreatedAt: now, UpdatedAt: now}
		diff(t, "fetched won opportunity", wantWon, *MustGet(t, e.ctx, e.s.Opportunities(), won.ID))
	}},
	{"update_closes", func(t *testing.T, e *env) {
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal", EstimatedValue: ptr(10.0)})
		r := e.s.Opportunities()
		e.clock.Advance(time.Hour)
		t1 := e.clock.Now()
		got := MustUpdate(t, e.ctx, r, o.ID, func(o *leadcycle.Opportunity) error { o.Status = "won"; o.EstimatedValue = nil; return nil })
		want := *o
		want.Status, want.EstimatedValue, want.ClosedAt, want.UpdatedAt = "won", nil, ptr(t1), t1
		diff(t, "won opportunity", want, *got)
		diff(t, "fetched won opportunity", want, *MustGet(t, e.ctx, r, o.ID))

		e.clock.Advance(time.Hour)
		t2 := e.clock.Now()
		got = MustUpdate(t, e.ctx, r, o.ID, func(o *leadcycle.Opportunity) error { o.Name = "Deal won"; return nil })
		want.Name, want.UpdatedAt = "Deal won", t2 // closed_at stays
		diff(t, "renamed opportunity", want, *got)
		diff(t, "fetched renamed opportunity", want, *MustGet(t, e.ctx, r, o.ID))

		e.clock.Advance(time.Hour)
		t3 := e.clock.Now()
		got = MustUpdate(t, e.ctx, r, o.ID, func(o *leadcycle.Opportunity) error { o.Status = "open"; return nil })
		want.Status, want.ClosedAt, want.UpdatedAt = "open", nil, t3
		diff(t, "reopened opportunity", want, *got)
		diff(t, "fetched reopened opportunity", want, *MustGet(t, e.ctx, r, o.ID))
	}},
	{"update_rejected", func(t *testing.T, e *env) {
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal"})
		r := e.s.Opportunities()
		checkUpdateRejected(t, e, r, o.ID, func(o *leadcycle.Opportunity) error { o.Status = "won"; return errStop }, "")
		checkUpdateRejected(t, e, r, o.ID, func(o *leadcycle.Opportunity) error { o.Currency = "euro"; return nil }, leadcycle.EInvalid, "currency")
		checkUpdateRejected(t, e, r, o.ID, func(o *leadcycle.Opportunity) error { o.LeadID = id(missingID); return nil }, leadcycle.EInvalid, "lead_id")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Opportunities()) }},
	{"invalid", func(t *testing.T, e *env) {
		checkCreateRejected(t, e.ctx, e.s.Opportunities(), []invalidCase[leadcycle.Opportunity]{
			{name: "no_name", v: leadcycle.Opportunity{}, fields: []string{"name"}},
			{name: "bad_status", v: leadcycle.Opportunity{Name: "x", Status: "pending"}, fields: []string{"status"}},
			{name: "negative_value", v: leadcycle.Opportunity{Name: "x", EstimatedValue: ptr(-1.0)}, fields: []string{"estimated_value"}},
			{name: "bad_currency", v: leadcycle.Opportunity{Name: "x", Currency: "euro"}, fields: []string{"currency"}},
			{name: "bad_close_date", v: leadcycle.Opportunity{Name: "x", ExpectedCloseDate: "30/06/2026"}, fields: []string{"expected_close_date"}},
		})
	}},
}

var interactionTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		acc2 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Other"})
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", AccountID: id(acc.ID)})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: id(con.ID)})
		e.clock.Advance(time.Minute)
		now := e.clock.Now()
		occurred := time.Date(2026, 2, 1, 10, 0, 0, 123456789, time.FixedZone("CET", 3600))
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{
			Type: " page_view ", OccurredAt: occurred, ContactID: con.ID, LeadID: id(l.ID), AccountID: id(acc2.ID),
			Properties: map[string]any{"url": "https://example.org/pricing?a=1&b=ü", "duration": 12.5, "first": true, "ref": nil},
		})
		want := leadcycle.Interaction{
			ID: i.ID, Type: "page_view", OccurredAt: time.Date(2026, 2, 1, 9, 0, 0, 123456000, time.UTC),
			ContactID: con.ID, LeadID: id(l.ID), AccountID: id(acc2.ID), // an explicit account is kept
			Properties: map[string]any{"url": "https://example.org/pricing?a=1&b=ü", "duration": 12.5, "first": true, "ref": nil},
			CreatedAt:  now,
		}
		diff(t, "created interaction", want, *i)
		diff(t, "fetched interaction", want, *MustGet(t, e.ctx, e.s.Interactions(), i.ID))
	}},
	{"create_defaults", func(t *testing.T, e *env) {
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "custom:webinar_watched", ContactID: con.ID})
		want := leadcycle.Interaction{ID: i.ID, Type: "custom:webinar_watched", OccurredAt: Epoch, ContactID: con.ID,
			Properties: map[string]any{}, CreatedAt: Epoch}
		diff(t, "created interaction", want, *i)
		diff(t, "fetched interaction", want, *MustGet(t, e.ctx, e.s.Interactions(), i.ID))
	}},
	{"update", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_sent", ContactID: con.ID,
			Properties: map[string]any{"subject": "Hi"}})
		e.clock.Advance(time.Hour)
		got := MustUpdate(t, e.ctx, e.s.Interactions(), i.ID, func(i *leadcycle.Interaction) error {
			i.Type = "email_opened"
			i.Properties["opens"] = 2.0
			return nil
		})
		want := *i
		want.Type, want.Properties = "email_opened", map[string]any{"subject": "Hi", "opens": 2.0}
		diff(t, "updated interaction", want, *got)
		diff(t, "fetched interaction", want, *MustGet(t, e.ctx, e.s.Interactions(), i.ID))
		checkUpdateRejected(t, e, e.s.Interactions(), i.ID, func(i *leadcycle.Interaction) error { i.Type = "x"; return errStop }, "")
		checkUpdateRejected(t, e, e.s.Interactions(), i.ID, func(i *leadcycle.Interaction) error { i.Type = "clicked"; return nil }, leadcycle.EInvalid, "type")
		checkUpdateRejected(t, e, e.s.Interactions(), i.ID, func(i *leadcycle.Interaction) error { i.ContactID = missingID; return nil }, leadcycle.EInvalid, "contact_id")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Interactions()) }},
	{"invalid", func(t *testing.T, e *env) {
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		many := map[string]any{}
		for i := range 65 {
			many[string(rune('a'+i%26))+strings.Repeat("x", i/26)] = 1.0
		}
		checkCreateRejected(t, e.ctx, e.s.Interactions(), []invalidCase[leadcycle.Interaction]{
			{name: "bad_type", v: leadcycle.Interaction{Type: "clicked", ContactID: con.ID}, fields: []string{"type"}},
			{name: "bad_custom_type", v: leadcycle.Interaction{Type: "custom:Bad Key", ContactID: con.ID}, fields: []string{"type"}},
			{name: "no_contact", v: leadcycle.Interaction{Type: "email_sent"}, fields: []string{"contact_id"}},
			{name: "nested_property", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID,
				Properties: map[string]any{"nested": map[string]any{"a": 1.0}}}, fields: []string{"properties.nested"}},
			{name: "long_property", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID,
				Properties: map[string]any{"body": strings.Repeat("x", 2049)}}, fields: []string{"properties.body"}},
			{name: "too_many_properties", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID, Properties: many}, fields: []string{"properties"}},
			{name: "nul_in_property_key", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID,
				Properties: map[string]any{"a\x00b": "x"}}, fields: []string{"properties"}},
			{name: "nul_in_property_value", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID,
				Properties: map[string]any{"url": "x\x00y"}}, fields: []string{"properties.url"}},
		})
	}},
}

var taskTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo"})
		e.clock.Advance(time.Minute)
		now := e.clock.Now()
		due := time.Date(2026, 4, 1, 17, 30, 0, 999999999, time.FixedZone("TST", 8*3600))
		task := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{
			Title: " Call back ", Description: "Ask about seats", Kind: "call", Queue: "telesales", AssigneeID: id(5),
			LeadID: id(l.ID), ContactID: id(con.ID), DueAt: &due,
		})
		want := leadcycle.Task{
			ID: task.ID, Title: "Call back", Description: "Ask about seats", Kind: "call", Queue: "telesales", AssigneeID: id(5),
			LeadID: id(l.ID), ContactID: id(con.ID), DueAt: ptr(time.Date(2026, 4, 1, 9, 30, 0, 999999000, time.UTC)),
			Status: "open", CreatedAt: now, UpdatedAt: now,
		}
		diff(t, "created task", want, *task)
		diff(t, "fetched task", want, *MustGet(t, e.ctx, e.s.Tasks(), task.ID))

		def := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Accept", Queue: "sales"})
		wantDef := leadcycle.Task{ID: def.ID, Title: "Accept", Kind: "other", Queue: "sales", Status: "open", CreatedAt: now, UpdatedAt: now}
		diff(t, "fetched default task", wantDef, *MustGet(t, e.ctx, e.s.Tasks(), def.ID))

		done := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Done already", AssigneeID: id(6), Status: "done"})
		wantDone := leadcycle.Task{ID: done.ID, Title: "Done already", Kind: "other", AssigneeID: id(6), Status: "done",
			CompletedAt: ptr(now), CreatedAt: now, UpdatedAt: now}
		diff(t, "fetched done task", wantDone, *MustGet(t, e.ctx, e.s.Tasks(), done.ID))
	}},
	{"update_completes", func(t *testing.T, e *env) {
		task := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Call", Queue: "telesales", DueAt: ptr(Epoch.Add(time.Hour))})
		r := e.s.Tasks()
		e.clock.Advance(time.Hour)
		t1 := e.clock.Now()
		got := MustUpdate(t, e.ctx, r, task.ID, func(task *leadcycle.Task) error { task.Status = "done"; task.DueAt = nil; return nil })
		want := *task
		want.Status, want.DueAt, want.CompletedAt, want.UpdatedAt = "done", nil, ptr(t1), t1
		diff(t, "done task", want, *got)
		diff(t, "fetched done task", want, *MustGet(t, e.ctx, r, task.ID))

		e.clock.Advance(time.Hour)
		t2 := e.clock.Now()
		got = MustUpdate(t, e.ctx, r, task.ID, func(task *leadcycle.Task) error { task.Status = "canceled"; return nil })
		want.Status, want.UpdatedAt = "canceled", t2 // completed_at stays
		diff(t, "canceled task", want, *got)

		e.clock.Advance(time.Hour)
		t3 := e.clock.Now()
		got = MustUpdate(t, e.ctx, r, task.ID, func(task *leadcycle.Task) error { task.Status = "open"; return nil })
		want.Status, want.CompletedAt, want.UpdatedAt = "open", nil, t3
		diff(t, "reopened task", want, *got)
		diff(t, "fetched reopened task", want, *MustGet(t, e.ctx, r, task.ID))
	}},
	{"update_rejected", func(t *testing.T, e *env) {
		task := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Call", Queue: "telesales"})
		r := e.s.Tasks()
		checkUpdateRejected(t, e, r, task.ID, func(task *leadcycle.Task) error { task.Status = "done"; return errStop }, "")
		checkUpdateRejected(t, e, r, task.ID, func(task *leadcycle.Task) error { task.Queue = ""; return nil }, leadcycle.EInvalid, "assignee_id")
		checkUpdateRejected(t, e, r, task.ID, func(task *leadcycle.Task) error { task.LeadID = id(missingID); return nil }, leadcycle.EInvalid, "lead_id")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Tasks()) }},
	{"invalid", func(t *testing.T, e *env) {
		checkCreateRejected(t, e.ctx, e.s.Tasks(), []invalidCase[leadcycle.Task]{
			{name: "no_title", v: leadcycle.Task{Queue: "sales"}, fields: []string{"title"}},
			{name: "no_assignee_or_queue", v: leadcycle.Task{Title: "x"}, fields: []string{"assignee_id"}},
			{name: "bad_kind", v: leadcycle.Task{Title: "x", Queue: "sales", Kind: "visit"}, fields: []string{"kind"}},
			{name: "bad_queue", v: leadcycle.Task{Title: "x", Queue: "marketing"}, fields: []string{"queue"}},
			{name: "bad_status", v: leadcycle.Task{Title: "x", Queue: "sales", Status: "blocked"}, fields: []string{"status"}},
		})
	}},
}

var fieldTests = []test{
	{"create_get", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		f := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: " tier ", Type: leadcycle.FieldChoice,
			Choices: []string{" gold ", "silver"}, Required: true})
		want := leadcycle.FieldDef{ID: f.ID, Entity: "contact", Name: "tier", Label: "tier", Type: leadcycle.FieldChoice,
			Choices: []string{"gold", "silver"}, Required: true, CreatedAt: Epoch, UpdatedAt: Epoch}
		diff(t, "created field", want, *f)
		diff(t, "fetched field", want, *MustGet(t, e.ctx, e.s.Fields(), f.ID))

		e.clock.Advance(time.Second)
		g := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "notes", Label: " Sales notes ", Type: leadcycle.FieldText})
		wantG := leadcycle.FieldDef{ID: g.ID, Entity: "lead", Name: "notes", Label: "Sales notes", Type: leadcycle.FieldText,
			Choices: []string{}, CreatedAt: Epoch.Add(time.Second), UpdatedAt: Epoch.Add(time.Second)}
		diff(t, "fetched text field", wantG, *MustGet(t, e.ctx, e.s.Fields(), g.ID))
	}},
	{"update", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 42) // owners and assignees
		f := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "tier", Type: leadcycle.FieldChoice,
			Choices: []string{"gold", "silver"}, Required: true})
		e.clock.Advance(time.Hour)
		got := MustUpdate(t, e.ctx, e.s.Fields(), f.ID, func(f *leadcycle.FieldDef) error {
			f.Label = "Customer tier"
			f.Choices = append(f.Choices, "bronze")
			f.Required = false
			return nil
		})
		want := *f
		want.Label, want.Choices, want.Required, want.UpdatedAt = "Customer tier", []string{"gold", "silver", "bronze"}, false, Epoch.Add(time.Hour)
		diff(t, "updated field", want, *got)
		diff(t, "fetched field", want, *MustGet(t, e.ctx, e.s.Fields(), f.ID))
	}},
	{"update_rejected", func(t *testing.T, e *env) {
		f := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}})
		r := e.s.Fields()
		checkUpdateRejected(t, e, r, f.ID, func(f *leadcycle.FieldDef) error { f.Label = "x"; return errStop }, "")
		checkUpdateRejected(t, e, r, f.ID, func(f *leadcycle.FieldDef) error { f.Choices = []string{"gold"}; return nil }, leadcycle.EInvalid, "choices")
		checkUpdateRejected(t, e, r, f.ID, func(f *leadcycle.FieldDef) error { f.Name = "level"; return nil }, leadcycle.EInvalid, "name")
		checkUpdateRejected(t, e, r, f.ID, func(f *leadcycle.FieldDef) error { f.Entity = "lead"; return nil }, leadcycle.EInvalid, "entity")
	}},
	{"not_found", func(t *testing.T, e *env) { checkNotFound(t, e.ctx, e.s.Fields()) }},
	{"invalid", func(t *testing.T, e *env) {
		checkCreateRejected(t, e.ctx, e.s.Fields(), []invalidCase[leadcycle.FieldDef]{
			{name: "bad_entity", v: leadcycle.FieldDef{Entity: "user", Name: "x", Type: leadcycle.FieldText}, fields: []string{"entity"}},
			{name: "upper_case_name", v: leadcycle.FieldDef{Entity: "contact", Name: "Tier", Type: leadcycle.FieldText}, fields: []string{"name"}},
			{name: "digit_first_name", v: leadcycle.FieldDef{Entity: "contact", Name: "1st", Type: leadcycle.FieldText}, fields: []string{"name"}},
			{name: "bad_type", v: leadcycle.FieldDef{Entity: "contact", Name: "x", Type: "list"}, fields: []string{"type"}},
			{name: "choice_without_choices", v: leadcycle.FieldDef{Entity: "contact", Name: "x", Type: leadcycle.FieldChoice}, fields: []string{"choices"}},
			{name: "text_with_choices", v: leadcycle.FieldDef{Entity: "contact", Name: "x", Type: leadcycle.FieldText, Choices: []string{"a"}}, fields: []string{"choices"}},
			{name: "duplicate_choices", v: leadcycle.FieldDef{Entity: "contact", Name: "x", Type: leadcycle.FieldChoice, Choices: []string{"a", " a"}}, fields: []string{"choices"}},
		})
	}},
}

// mustContext creates a form and an event for leads to point at.
func mustContext(t *testing.T, e *env) (form, event leadcycle.ID) {
	t.Helper()
	f := MustCreate(t, e.ctx, e.s.Forms(), &leadcycle.Form{Name: "Contact us", Fields: []leadcycle.FormField{{Name: "email", Target: "contact.email"}}})
	ev := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Fair"})
	return f.ID, ev.ID
}
