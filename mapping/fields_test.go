package mapping

import (
	"slices"
	"testing"

	"github.com/leadcycle/leadcycle"
)

func names(fields []Field) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f.Name)
	}
	return out
}

func TestFields(t *testing.T) {
	want := map[string][]string{
		Contacts: {"id", "first_name", "last_name", "full_name", "email", "phone", "mobile_phone", "job_title",
			"account", "account_id", "account_domain", "owner_id", "consent.commercial_email", "consent.tracking",
			"custom.shoe_size", "custom.segment", "custom.personal_email", "custom.newsletter"},
		Accounts: {"id", "name", "website", "domain", "industry", "employees", "revenue", "country", "owner_id",
			"custom.founded"},
		Leads: {"id", "topic", "description", "purchase_timeframe", "purchase_process", "budget_amount", "need",
			"status", "status_reason", "campaign", "contact_id", "email", "first_name", "last_name", "full_name",
			"phone", "job_title", "account", "account_id", "owner_id", "custom.shoe_size"},
	}
	for entity, w := range want {
		fields, err := Fields(entity, customDefs())
		if err != nil {
			t.Fatal(err)
		}
		if got := names(fields); !slices.Equal(got, w) {
			t.Errorf("%s: %v\nwant %v", entity, got, w)
		}
		for _, f := range fields {
			if f.Label == "" || f.Kind == "" {
				t.Errorf("%s.%s has no label or kind", entity, f.Name)
			}
			if (f.Kind == KindChoice) != (len(f.Choices) > 0) {
				t.Errorf("%s.%s: kind %s with choices %v", entity, f.Name, f.Kind, f.Choices)
			}
		}
	}
	if _, err := Fields("contact", nil); leadcycle.ErrorCode(err) != leadcycle.EInvalid {
		t.Fatalf("unknown entity: %v", err)
	}
}

func TestFieldKindsAndChoices(t *testing.T) {
	byName := func(entity string) map[string]Field {
		fields, _ := Fields(entity, customDefs())
		m := map[string]Field{}
		for _, f := range fields {
			m[f.Name] = f
		}
		return m
	}
	contacts, accounts, leads := byName(Contacts), byName(Accounts), byName(Leads)
	kinds := []struct {
		f    Field
		kind string
	}{
		{contacts["id"], KindID}, {contacts["email"], KindEmail}, {contacts["mobile_phone"], KindPhone},
		{contacts["account_id"], KindID}, {contacts["custom.shoe_size"], KindNumber},
		{contacts["custom.newsletter"], KindBool}, {contacts["custom.segment"], KindChoice},
		{accounts["employees"], KindInteger}, {accounts["revenue"], KindNumber}, {accounts["custom.founded"], KindDate},
		{leads["budget_amount"], KindNumber}, {leads["status"], KindChoice}, {leads["custom.shoe_size"], KindText},
	}
	for _, k := range kinds {
		if k.f.Kind != k.kind {
			t.Errorf("%s: kind %q, want %q", k.f.Name, k.f.Kind, k.kind)
		}
	}
	choices := map[string][]string{
		"status":             {"open", "qualified", "disqualified"},
		"status_reason":      {"new", "contacted", "marketing_qualified", "qualified", "lost", "cannot_contact", "no_longer_interested", "canceled"},
		"purchase_timeframe": {"immediate", "this_quarter", "next_quarter", "this_year", "unknown"},
		"purchase_process":   {"individual", "committee", "unknown"},
		"need":               {"must_have", "should_have", "good_to_have", "no_need"},
	}
	for name, want := range choices {
		if got := leads[name].Choices; !slices.Equal(got, want) {
			t.Errorf("%s choices = %v, want %v", name, got, want)
		}
	}
	if got := contacts["consent.tracking"].Choices; !slices.Equal(got, leadcycle.ConsentStates) {
		t.Errorf("consent choices = %v", got)
	}
	if contacts["custom.newsletter"].Label != "newsletter" || contacts["custom.shoe_size"].Label != "Shoe size" {
		t.Errorf("custom labels: %+v", contacts)
	}
}

func TestFieldsReturnsCopies(t *testing.T) {
	fields, _ := Fields(Leads, nil)
	for i := range fields {
		for j := range fields[i].Choices {
			fields[i].Choices[j] = "changed"
		}
	}
	if again, _ := Fields(Leads, nil); slices.Contains(names(again), "changed") || slices.Contains(again[7].Choices, "changed") {
		t.Fatal("Fields shares its slices")
	}
	if slices.Contains(leadcycle.LeadStatuses, "changed") {
		t.Fatal("Fields shares the domain's slices")
	}
}

// Every alias must name a real choice, not normalise like another choice
// (it would never be reached), and not be listed under two stored values.
func TestChoiceAliases(t *testing.T) {
	tables := map[string]map[string][]string{
		"consent.tracking":   consentValues,
		"status":             statusValues,
		"status_reason":      reasonValues,
		"purchase_timeframe": timeframeValues,
		"purchase_process":   processValues,
		"need":               needValues,
	}
	fields := map[string]Field{}
	for _, e := range []string{Contacts, Leads} {
		fs, _ := Fields(e, nil)
		for _, f := range fs {
			fields[f.Name] = f
		}
	}
	for name, table := range tables {
		f := fields[name]
		seen := map[string]string{}
		for stored, aliases := range table {
			if !slices.Contains(f.Choices, stored) {
				t.Errorf("%s: alias target %q is not a choice", name, stored)
			}
			for _, a := range aliases {
				k := NormalizeHeader(a)
				if prev, ok := seen[k]; ok && prev != stored {
					t.Errorf("%s: %q means %q and %q", name, a, prev, stored)
				}
				seen[k] = stored
				for _, c := range f.Choices {
					if NormalizeHeader(c) == k && c != stored {
						t.Errorf("%s: alias %q of %q normalises like choice %q", name, a, stored, c)
					}
				}
			}
		}
	}
	for word, yes := range boolWords {
		if stored, ok := aliasMap(consentValues)[word]; ok && (stored == leadcycle.ConsentGranted) != yes {
			t.Errorf("consent: %q is both a bool word and %q", word, stored)
		}
	}
}
