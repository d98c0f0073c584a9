package storetest

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// contactFields defines one custom contact field of each type.
func contactFields(t *testing.T, e *env) []leadcycle.FieldDef {
	t.Helper()
	var out []leadcycle.FieldDef
	for _, f := range []leadcycle.FieldDef{
		{Entity: "contact", Name: "nickname", Type: leadcycle.FieldText},
		{Entity: "contact", Name: "score", Type: leadcycle.FieldNumber},
		{Entity: "contact", Name: "vip", Type: leadcycle.FieldBool},
		{Entity: "contact", Name: "birthday", Type: leadcycle.FieldDate},
		{Entity: "contact", Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}},
	} {
		out = append(out, *MustCreateField(t, e.ctx, e.s, &f))
		e.clock.Advance(time.Millisecond)
	}
	return out
}

var customTests = []test{
	{"round_trip", func(t *testing.T, e *env) {
		defs := contactFields(t, e)
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber})
		custom := leadcycle.Custom{"nickname": "Countess «Ada» 愛達", "score": -1234567.125, "vip": false, "birthday": "1815-12-10", "tier": "silver"}
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", Custom: custom})
		got := MustGet(t, e.ctx, e.s.Contacts(), c.ID)
		diff(t, "custom values", leadcycle.Custom{"nickname": "Countess «Ada» 愛達", "score": -1234567.125, "vip": false,
			"birthday": "1815-12-10", "tier": "silver"}, got.Custom)
		diff(t, "fetched contact", *c, *got)

		// Only some fields set; integral numbers stay numbers.
		c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bob@example.org", Custom: leadcycle.Custom{"score": 3.0, "vip": true}})
		diff(t, "partial custom values", leadcycle.Custom{"score": 3.0, "vip": true}, MustGet(t, e.ctx, e.s.Contacts(), c2.ID).Custom)

		schema, err := e.s.Schema(e.ctx, "contact")
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "contact schema", leadcycle.Schema(defs), schema)
		schema, err = e.s.Schema(e.ctx, "account")
		if err != nil {
			t.Fatal(err)
		}
		if len(schema) != 0 {
			t.Errorf("account schema = %+v, want empty", schema)
		}
	}},
	{"wrong_values", func(t *testing.T, e *env) {
		contactFields(t, e)
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber})
		contact := func(c leadcycle.Custom) leadcycle.Contact {
			return leadcycle.Contact{Email: "ada@example.org", Custom: c}
		}
		checkCreateRejected(t, e.ctx, e.s.Contacts(), []invalidCase[leadcycle.Contact]{
			{name: "text_number", v: contact(leadcycle.Custom{"nickname": 5.0}), fields: []string{"custom.nickname"}},
			{name: "text_too_long", v: contact(leadcycle.Custom{"nickname": strings.Repeat("x", 4001)}), fields: []string{"custom.nickname"}},
			{name: "number_string", v: contact(leadcycle.Custom{"score": "5"}), fields: []string{"custom.score"}},
			{name: "number_int", v: contact(leadcycle.Custom{"score": 5}), fields: []string{"custom.score"}},
			{name: "number_inf", v: contact(leadcycle.Custom{"score": math.Inf(1)}), fields: []string{"custom.score"}},
			{name: "bool_string", v: contact(leadcycle.Custom{"vip": "yes"}), fields: []string{"custom.vip"}},
			{name: "date_invalid", v: contact(leadcycle.Custom{"birthday": "2026-13-01"}), fields: []string{"custom.birthday"}},
			{name: "date_format", v: contact(leadcycle.Custom{"birthday": "10/12/1815"}), fields: []string{"custom.birthday"}},
			{name: "choice_outside", v: contact(leadcycle.Custom{"tier": "bronze"}), fields: []string{"custom.tier"}},
			{name: "choice_case", v: contact(leadcycle.Custom{"tier": "Gold"}), fields: []string{"custom.tier"}},
			{name: "undeclared", v: contact(leadcycle.Custom{"shoe_size": 44.0}), fields: []string{"custom.shoe_size"}},
			{name: "other_entity_field", v: contact(leadcycle.Custom{"budget": 1.0}), fields: []string{"custom.budget"}},
			{name: "two_wrong", v: contact(leadcycle.Custom{"vip": 1.0, "tier": "x", "score": 1.0}), fields: []string{"custom.vip", "custom.tier"}},
		})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", Custom: leadcycle.Custom{"tier": "gold"}})
		checkUpdateRejected(t, e, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error { c.Custom["tier"] = "platinum"; return nil },
			leadcycle.EInvalid, "custom.tier")
		checkUpdateRejected(t, e, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error { c.Custom["nope"] = "x"; return nil },
			leadcycle.EInvalid, "custom.nope")
	}},
	{"null_removes", func(t *testing.T, e *env) {
		contactFields(t, e)
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", Custom: leadcycle.Custom{"nickname": "Ada", "vip": true}})
		e.clock.Advance(time.Minute)
		got := MustUpdate(t, e.ctx, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error {
			c.Custom["nickname"] = nil
			c.Custom["score"] = 2.5
			return nil
		})
		want := leadcycle.Custom{"vip": true, "score": 2.5}
		diff(t, "custom after update", want, got.Custom)
		diff(t, "fetched custom after update", want, MustGet(t, e.ctx, e.s.Contacts(), c.ID).Custom)
	}},
	{"required", func(t *testing.T, e *env) {
		old := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "old@example.org"})
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "region", Type: leadcycle.FieldText, Required: true})
		checkCreateRejected(t, e.ctx, e.s.Contacts(), []invalidCase[leadcycle.Contact]{
			{name: "missing", v: leadcycle.Contact{Email: "ada@example.org"}, fields: []string{"custom.region"}},
			{name: "null", v: leadcycle.Contact{Email: "ada@example.org", Custom: leadcycle.Custom{"region": nil}}, fields: []string{"custom.region"}},
		})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", Custom: leadcycle.Custom{"region": "north"}})
		diff(t, "custom", leadcycle.Custom{"region": "north"}, MustGet(t, e.ctx, e.s.Contacts(), c.ID).Custom)
		// A contact from before the field was required must get it on its next update.
		checkUpdateRejected(t, e, e.s.Contacts(), old.ID, func(c *leadcycle.Contact) error { c.FirstName = "Old"; return nil },
			leadcycle.EInvalid, "custom.region")
		checkUpdateRejected(t, e, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error { delete(c.Custom, "region"); return nil },
			leadcycle.EInvalid, "custom.region")
		got := MustUpdate(t, e.ctx, e.s.Contacts(), old.ID, func(c *leadcycle.Contact) error { c.Custom["region"] = "south"; return nil })
		diff(t, "custom", leadcycle.Custom{"region": "south"}, got.Custom)
	}},
	{"duplicate_name", func(t *testing.T, e *env) {
		f := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "tier", Type: leadcycle.FieldText})
		checkCreateRejected(t, e.ctx, e.s.Fields(), []invalidCase[leadcycle.FieldDef]{
			{name: "same", v: leadcycle.FieldDef{Entity: "contact", Name: "tier", Type: leadcycle.FieldText}, code: leadcycle.EConflict, fields: []string{"name"}},
			{name: "other_type", v: leadcycle.FieldDef{Entity: "contact", Name: " tier ", Type: leadcycle.FieldNumber}, code: leadcycle.EConflict, fields: []string{"name"}},
		})
		// The same name on another entity is another field.
		g := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "tier", Type: leadcycle.FieldText})
		diff(t, "fields", []leadcycle.ID{f.ID, g.ID}, ids(MustList(t, e.ctx, e.s.Fields(), leadcycle.ListQuery{})))
	}},
	{"change_type", func(t *testing.T, e *env) {
		f := MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "size", Type: leadcycle.FieldText})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", Custom: leadcycle.Custom{"size": "large"}})
		checkUpdateRejected(t, e, e.s.Fields(), f.ID, func(f *leadcycle.FieldDef) error { f.Type = leadcycle.FieldNumber; return nil },
			leadcycle.EInvalid, "type")
		checkUpdateRejected(t, e, e.s.Fields(), f.ID, func(f *leadcycle.FieldDef) error { f.Type = leadcycle.FieldBool; return nil },
			leadcycle.EInvalid, "type")
		diff(t, "contact", *c, *MustGet(t, e.ctx, e.s.Contacts(), c.ID))
	}},
	{"delete_field", func(t *testing.T, e *env) {
		defs := contactFields(t, e)
		var score leadcycle.FieldDef
		for _, d := range defs {
			if d.Name == "score" {
				score = d
			}
		}
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "score", Type: leadcycle.FieldNumber})
		c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ada@example.org", Custom: leadcycle.Custom{"score": 3.0, "nickname": "Ada"}})
		c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "bob@example.org", Custom: leadcycle.Custom{"nickname": "Bob"}})
		c3 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "cy@example.org", Custom: leadcycle.Custom{"score": 1.5}})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", Custom: leadcycle.Custom{"score": 7.0}})

		MustDelete(t, e.ctx, e.s.Fields(), score.ID)

		for _, w := range []struct {
			c    *leadcycle.Contact
			want leadcycle.Custom
		}{
			{c, leadcycle.Custom{"nickname": "Ada"}},
			{c2, leadcycle.Custom{"nickname": "Bob"}},
			{c3, leadcycle.Custom{}},
		} {
			got := MustGet(t, e.ctx, e.s.Contacts(), w.c.ID)
			diff(t, "custom of "+w.c.Email, w.want, got.Custom)
			want := *w.c
			want.Custom = w.want
			want.UpdatedAt = got.UpdatedAt
			diff(t, "contact "+w.c.Email, want, *got)
		}
		diff(t, "lead custom (another entity)", leadcycle.Custom{"score": 7.0}, MustGet(t, e.ctx, e.s.Leads(), l.ID).Custom)
		schema, err := e.s.Schema(e.ctx, "contact")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range schema {
			if d.Name == "score" {
				t.Errorf("deleted field still in the schema: %+v", d)
			}
		}
		if len(schema) != len(defs)-1 {
			t.Errorf("schema has %d fields, want %d", len(schema), len(defs)-1)
		}
		// The old values cannot be written any more; a new field of the same
		// name starts empty.
		checkUpdateRejected(t, e, e.s.Contacts(), c2.ID, func(c *leadcycle.Contact) error { c.Custom["score"] = 1.0; return nil },
			leadcycle.EInvalid, "custom.score")
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "contact", Name: "score", Type: leadcycle.FieldText})
		diff(t, "custom after re-creating the field", leadcycle.Custom{"nickname": "Ada"}, MustGet(t, e.ctx, e.s.Contacts(), c.ID).Custom)
		got := MustUpdate(t, e.ctx, e.s.Contacts(), c.ID, func(c *leadcycle.Contact) error { c.Custom["score"] = "high"; return nil })
		diff(t, "custom with the new field", leadcycle.Custom{"nickname": "Ada", "score": "high"}, got.Custom)
	}},
	{"other_entities", func(t *testing.T, e *env) {
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "account", Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"a", "b"}})
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber, Required: true})
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "opportunity", Name: "signed", Type: leadcycle.FieldDate})

		a := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme", Custom: leadcycle.Custom{"tier": "b"}})
		diff(t, "account custom", leadcycle.Custom{"tier": "b"}, MustGet(t, e.ctx, e.s.Accounts(), a.ID).Custom)
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "Demo", Custom: leadcycle.Custom{"budget": 0.0}})
		diff(t, "lead custom", leadcycle.Custom{"budget": 0.0}, MustGet(t, e.ctx, e.s.Leads(), l.ID).Custom)
		o := MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{Name: "Deal", Custom: leadcycle.Custom{"signed": "2026-05-01"}})
		diff(t, "opportunity custom", leadcycle.Custom{"signed": "2026-05-01"}, MustGet(t, e.ctx, e.s.Opportunities(), o.ID).Custom)

		checkCreateRejected(t, e.ctx, e.s.Accounts(), []invalidCase[leadcycle.Account]{
			{name: "account_choice", v: leadcycle.Account{Name: "x", Custom: leadcycle.Custom{"tier": "c"}}, fields: []string{"custom.tier"}},
			{name: "account_undeclared", v: leadcycle.Account{Name: "x", Custom: leadcycle.Custom{"budget": 1.0}}, fields: []string{"custom.budget"}},
		})
		checkCreateRejected(t, e.ctx, e.s.Leads(), []invalidCase[leadcycle.Lead]{
			{name: "lead_required", v: leadcycle.Lead{Topic: "x"}, fields: []string{"custom.budget"}},
			{name: "lead_type", v: leadcycle.Lead{Topic: "x", Custom: leadcycle.Custom{"budget": "lots"}}, fields: []string{"custom.budget"}},
		})
		checkCreateRejected(t, e.ctx, e.s.Opportunities(), []invalidCase[leadcycle.Opportunity]{
			{name: "opportunity_date", v: leadcycle.Opportunity{Name: "x", Custom: leadcycle.Custom{"signed": "May 1"}}, fields: []string{"custom.signed"}},
			{name: "opportunity_undeclared", v: leadcycle.Opportunity{Name: "x", Custom: leadcycle.Custom{"tier": "a"}}, fields: []string{"custom.tier"}},
		})
	}},
}
