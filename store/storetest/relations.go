package storetest

import (
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// recordTests cover what spans record types: references, the account a lead
// or interaction inherits from its contact, and what deletes do to the
// records that point at the deleted one.
var recordTests = []test{
	{"ping", func(t *testing.T, e *env) {
		if err := e.s.Ping(e.ctx); err != nil {
			t.Errorf("ping: %v", err)
		}
	}},
	{"missing_references", func(t *testing.T, e *env) {
		con := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo"})
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		m := id(missingID)
		checkCreateRejected(t, e.ctx, e.s.Contacts(), []invalidCase[leadcycle.Contact]{
			{name: "contact_account", v: leadcycle.Contact{Email: "x@example.org", AccountID: m}, fields: []string{"account_id"}},
		})
		checkCreateRejected(t, e.ctx, e.s.Leads(), []invalidCase[leadcycle.Lead]{
			{name: "lead_contact", v: leadcycle.Lead{Topic: "x", ContactID: m}, fields: []string{"contact_id"}},
			{name: "lead_account", v: leadcycle.Lead{Topic: "x", ContactID: id(con.ID), AccountID: m}, fields: []string{"account_id"}},
		})
		checkCreateRejected(t, e.ctx, e.s.Opportunities(), []invalidCase[leadcycle.Opportunity]{
			{name: "opportunity_lead", v: leadcycle.Opportunity{Name: "x", LeadID: m, ContactID: id(con.ID)}, fields: []string{"lead_id"}},
			{name: "opportunity_contact", v: leadcycle.Opportunity{Name: "x", LeadID: id(l.ID), ContactID: m}, fields: []string{"contact_id"}},
			{name: "opportunity_account", v: leadcycle.Opportunity{Name: "x", AccountID: m}, fields: []string{"account_id"}},
		})
		checkCreateRejected(t, e.ctx, e.s.Interactions(), []invalidCase[leadcycle.Interaction]{
			{name: "interaction_contact", v: leadcycle.Interaction{Type: "email_sent", ContactID: missingID}, fields: []string{"contact_id"}},
			{name: "interaction_lead", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID, LeadID: m}, fields: []string{"lead_id"}},
			{name: "interaction_account", v: leadcycle.Interaction{Type: "email_sent", ContactID: con.ID, AccountID: m}, fields: []string{"account_id"}},
		})
		checkCreateRejected(t, e.ctx, e.s.Tasks(), []invalidCase[leadcycle.Task]{
			{name: "task_lead", v: leadcycle.Task{Title: "x", Queue: "sales", LeadID: m}, fields: []string{"lead_id"}},
			{name: "task_contact", v: leadcycle.Task{Title: "x", Queue: "sales", LeadID: id(l.ID), ContactID: m}, fields: []string{"contact_id"}},
		})
		// The records that exist are still the ones created above.
		diff(t, "contacts", []leadcycle.ID{con.ID}, ids(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{})))
		diff(t, "leads", []leadcycle.ID{l.ID}, ids(MustList(t, e.ctx, e.s.Leads(), leadcycle.ListQuery{})))
		diff(t, "accounts", []leadcycle.ID{acc.ID}, ids(MustList(t, e.ctx, e.s.Accounts(), leadcycle.ListQuery{})))
	}},
	{"inherit_account", func(t *testing.T, e *env) {
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		other := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Other"})
		withAcc := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@acme.example", AccountID: id(acc.ID)})
		noAcc := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bob@example.org"})

		for _, c := range []struct {
			name      string
			contact   leadcycle.ID
			account   *leadcycle.ID
			wantAccID *leadcycle.ID
		}{
			{"from_contact", withAcc.ID, nil, id(acc.ID)},
			{"explicit_kept", withAcc.ID, id(other.ID), id(other.ID)},
			{"contact_without_account", noAcc.ID, nil, nil},
		} {
			l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: c.name, ContactID: id(c.contact), AccountID: c.account})
			diff(t, "lead "+c.name+" account_id", c.wantAccID, l.AccountID)
			diff(t, "fetched lead "+c.name+" account_id", c.wantAccID, MustGet(t, e.ctx, e.s.Leads(), l.ID).AccountID)

			i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_sent", ContactID: c.contact, AccountID: c.account})
			diff(t, "interaction "+c.name+" account_id", c.wantAccID, i.AccountID)
			diff(t, "fetched interaction "+c.name+" account_id", c.wantAccID, MustGet(t, e.ctx, e.s.Interactions(), i.ID).AccountID)
		}
		// A lead without a contact gets no account.
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "orphan"})
		if got := MustGet(t, e.ctx, e.s.Leads(), l.ID).AccountID; got != nil {
			t.Errorf("lead without contact: account_id = %d, want null", *got)
		}
	}},
	{"delete_contact", func(t *testing.T, e *env) {
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@acme.example", AccountID: id(acc.ID)})
		keep := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bob@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: id(c.ID), SalesReady: true})
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_sent", ContactID: c.ID, LeadID: id(l.ID)})
		contactTask := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Call Ada", Queue: "telesales", ContactID: id(c.ID), LeadID: id(l.ID)})
		leadTask := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Accept", Queue: "sales", LeadID: id(l.ID)})
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal", LeadID: id(l.ID), ContactID: id(c.ID), AccountID: id(acc.ID)})
		keepI := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_sent", ContactID: keep.ID})
		keepT := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Call Bob", Queue: "telesales", ContactID: id(keep.ID)})
		keepL := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Bob", ContactID: id(keep.ID)})

		e.clock.Advance(time.Hour)
		MustDelete(t, e.ctx, e.s.Contacts(), c.ID)

		_, err := e.s.Contacts().Get(e.ctx, c.ID)
		wantErr(t, err, leadcycle.ENotFound)
		wantErr(t, e.s.Contacts().Delete(e.ctx, c.ID), leadcycle.ENotFound)

		wantL := *l
		wantL.ContactID = nil // the lead stays, with its account
		diff(t, "lead of the deleted contact", wantL, *MustGet(t, e.ctx, e.s.Leads(), l.ID))
		_, err = e.s.Interactions().Get(e.ctx, i.ID)
		wantErr(t, err, leadcycle.ENotFound)
		_, err = e.s.Tasks().Get(e.ctx, contactTask.ID)
		wantErr(t, err, leadcycle.ENotFound)
		diff(t, "task of the lead", *leadTask, *MustGet(t, e.ctx, e.s.Tasks(), leadTask.ID))
		wantO := *o
		wantO.ContactID = nil
		diff(t, "opportunity of the deleted contact", wantO, *MustGet(t, e.ctx, e.s.Opportunities(), o.ID))

		diff(t, "other contact", *keep, *MustGet(t, e.ctx, e.s.Contacts(), keep.ID))
		diff(t, "other interaction", *keepI, *MustGet(t, e.ctx, e.s.Interactions(), keepI.ID))
		diff(t, "other task", *keepT, *MustGet(t, e.ctx, e.s.Tasks(), keepT.ID))
		diff(t, "other lead", *keepL, *MustGet(t, e.ctx, e.s.Leads(), keepL.ID))
		diff(t, "interactions left", []leadcycle.ID{keepI.ID}, ids(MustList(t, e.ctx, e.s.Interactions(), leadcycle.ListQuery{})))
		diff(t, "tasks left", []leadcycle.ID{leadTask.ID, keepT.ID}, ids(MustList(t, e.ctx, e.s.Tasks(), leadcycle.ListQuery{})))
	}},
	{"delete_account", func(t *testing.T, e *env) {
		acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme"})
		keepAcc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Other"})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@acme.example", AccountID: id(acc.ID)})
		keepC := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bob@other.example", AccountID: id(keepAcc.ID)})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: id(c.ID)})
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "page_view", ContactID: c.ID})
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal", AccountID: id(acc.ID), ContactID: id(c.ID)})
		if l.AccountID == nil || i.AccountID == nil {
			t.Fatalf("lead and interaction should inherit the account: %v %v", l.AccountID, i.AccountID)
		}

		e.clock.Advance(time.Hour)
		MustDelete(t, e.ctx, e.s.Accounts(), acc.ID)
		_, err := e.s.Accounts().Get(e.ctx, acc.ID)
		wantErr(t, err, leadcycle.ENotFound)

		wantC := *c
		wantC.AccountID = nil
		diff(t, "contact of the deleted account", wantC, *MustGet(t, e.ctx, e.s.Contacts(), c.ID))
		wantL := *l
		wantL.AccountID = nil
		diff(t, "lead of the deleted account", wantL, *MustGet(t, e.ctx, e.s.Leads(), l.ID))
		wantI := *i
		wantI.AccountID = nil
		diff(t, "interaction of the deleted account", wantI, *MustGet(t, e.ctx, e.s.Interactions(), i.ID))
		wantO := *o
		wantO.AccountID = nil
		diff(t, "opportunity of the deleted account", wantO, *MustGet(t, e.ctx, e.s.Opportunities(), o.ID))
		diff(t, "other contact", *keepC, *MustGet(t, e.ctx, e.s.Contacts(), keepC.ID))
	}},
	{"delete_lead", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", ContactID: id(c.ID)})
		task := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "Accept", Queue: "sales", LeadID: id(l.ID)})
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "form_submitted", ContactID: c.ID, LeadID: id(l.ID)})
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal", LeadID: id(l.ID)})

		MustDelete(t, e.ctx, e.s.Leads(), l.ID)
		_, err := e.s.Leads().Get(e.ctx, l.ID)
		wantErr(t, err, leadcycle.ENotFound)
		_, err = e.s.Tasks().Get(e.ctx, task.ID)
		wantErr(t, err, leadcycle.ENotFound)
		wantI := *i
		wantI.LeadID = nil
		diff(t, "interaction of the deleted lead", wantI, *MustGet(t, e.ctx, e.s.Interactions(), i.ID))
		wantO := *o
		wantO.LeadID = nil
		diff(t, "opportunity of the deleted lead", wantO, *MustGet(t, e.ctx, e.s.Opportunities(), o.ID))
		diff(t, "contact of the deleted lead", *c, *MustGet(t, e.ctx, e.s.Contacts(), c.ID))
	}},
	{"delete_each", func(t *testing.T, e *env) {
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org"})
		c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bob@example.org"})
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal"})
		o2 := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal 2"})
		i := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_sent", ContactID: c.ID})
		i2 := MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{Type: "email_sent", ContactID: c2.ID})
		task := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "x", Queue: "sales"})
		task2 := MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{Title: "y", Queue: "sales"})
		f := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "x", Type: leadcycle.FieldBool})
		f2 := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "y", Type: leadcycle.FieldBool})
		a := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A"})
		a2 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "B"})

		checkDelete(t, e, e.s.Opportunities(), o.ID, o2.ID)
		checkDelete(t, e, e.s.Interactions(), i.ID, i2.ID)
		checkDelete(t, e, e.s.Tasks(), task.ID, task2.ID)
		checkDelete(t, e, e.s.Fields(), f.ID, f2.ID)
		checkDelete(t, e, e.s.Accounts(), a.ID, a2.ID)
		checkDelete(t, e, e.s.Contacts(), c2.ID, c.ID)
	}},
}

// checkDelete deletes del and checks that only keep is left.
func checkDelete[T leadcycle.Record](t *testing.T, e *env, r leadcycle.Repo[T], del, keep leadcycle.ID) {
	t.Helper()
	MustDelete(t, e.ctx, r, del)
	_, err := r.Get(e.ctx, del)
	wantErr(t, err, leadcycle.ENotFound)
	wantErr(t, r.Delete(e.ctx, del), leadcycle.ENotFound)
	diff(t, "records left after delete", []leadcycle.ID{keep}, ids(MustList(t, e.ctx, r, leadcycle.ListQuery{})))
}
