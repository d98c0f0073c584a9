package mapping

import (
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

func field(t *testing.T, entity, name string) Field {
	t.Helper()
	fields, err := Fields(entity, customDefs())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("no field %s.%s", entity, name)
	return Field{}
}

func TestFieldMatchAliases(t *testing.T) {
	tests := []struct {
		field, value, want string
	}{
		{"status", "Open", "open"},
		{"status", "Open - Not Contacted", "open"},
		{"status", "Working - Contacted", "open"},
		{"status", "Closed - Converted", "qualified"},
		{"status", "Closed - Not Converted", "disqualified"},
		{"status", "IN_PROGRESS", "open"},
		{"status", "UNQUALIFIED", "disqualified"},
		{"status", "Lost", "disqualified"},
		{"status", "New", "open"},
		{"status", "Cualificado", "qualified"},
		{"status", "不合格", "disqualified"},
		{"status_reason", "Cannot Contact", "cannot_contact"},
		{"status_reason", "No Longer Interested", "no_longer_interested"},
		{"status_reason", "Cancelled", "canceled"},
		{"status_reason", "Marketing Qualified", "marketing_qualified"},
		{"status_reason", "Nuevo", "new"},
		{"purchase_timeframe", "This Quarter", "this_quarter"},
		{"purchase_timeframe", "Next Quarter", "next_quarter"},
		{"purchase_timeframe", "Este año", "this_year"},
		{"purchase_timeframe", "本季", "this_quarter"},
		{"purchase_process", "Committee", "committee"},
		{"purchase_process", "Comité", "committee"},
		{"need", "Must have", "must_have"},
		{"need", "Nice to have", "good_to_have"},
	}
	for _, tc := range tests {
		got, err := field(t, Leads, tc.field).Match(tc.value, nil)
		if err != nil || got != tc.want {
			t.Errorf("%s: Match(%q) = %q, %v; want %q", tc.field, tc.value, got, err, tc.want)
		}
	}
	consent := field(t, Contacts, "consent.commercial_email")
	for value, want := range map[string]string{
		"granted": "granted", "Opted in": "granted", "yes": "granted", "Sí": "granted", "1": "granted", "✓": "granted",
		"unsubscribed": "denied", "no": "denied", "Non": "denied", "拒絕": "denied",
		"Unknown": "unknown", "descoñecido": "unknown",
	} {
		if got, err := consent.Match(value, nil); err != nil || got != want {
			t.Errorf("consent: Match(%q) = %q, %v; want %q", value, got, err, want)
		}
	}
	// The import's value map wins over the built-in aliases.
	if got, _ := consent.Match("yes", map[string]string{"yes": "unknown"}); got != "unknown" {
		t.Errorf("value map ignored: %q", got)
	}
	if _, err := field(t, Leads, "status").Match("won", nil); err == nil ||
		!strings.Contains(err.Error(), "open, qualified, disqualified") {
		t.Errorf("err = %v", err)
	}
}

func TestFieldParse(t *testing.T) {
	o := ParseOptions{DecimalComma: true, DayFirst: true, Values: map[string]string{"Grande": "b"}}
	tests := []struct {
		entity, field, in string
		want              any
	}{
		{Accounts, "revenue", "1.234,5 €", 1234.5},
		{Accounts, "employees", "1.200", int64(1200)},
		{Accounts, "custom.founded", "02/01/2006", "2006-01-02"},
		{Accounts, "name", "  Acme  ", "Acme"},
		{Accounts, "name", "   ", nil},
		{Contacts, "custom.newsletter", "sí", true},
		{Contacts, "custom.segment", "grande", "b"},
		{Contacts, "custom.segment", "A", "a"},
		{Contacts, "id", "42", leadcycle.ID(42)},
		{Contacts, "email", "Ana Pérez <ana@example.com>", "ana@example.com"},
		{Contacts, "email", "mailto:ana@example.com", "ana@example.com"},
		{Contacts, "email", "not an email", "not an email"},
		{Contacts, "phone", " +34 600 000 000 ", "+34 600 000 000"},
		{Contacts, "consent.tracking", "no", "denied"},
		{Leads, "status", "Closed - Converted", "qualified"},
	}
	for _, tc := range tests {
		got, err := field(t, tc.entity, tc.field).Parse(tc.in, o)
		if err != nil || got != tc.want {
			t.Errorf("%s.%s: Parse(%q) = %#v, %v; want %#v", tc.entity, tc.field, tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ entity, field, in, want string }{
		{Accounts, "revenue", "lots", "not a number"},
		{Accounts, "employees", "12,5", "not a whole number"},
		{Accounts, "custom.founded", "31/02/2006", "day 31 does not exist"},
		{Contacts, "custom.newsletter", "maybe", "not a yes/no value"},
		{Contacts, "custom.segment", "c", "not one of: a, b"},
		{Contacts, "id", "00Q5g00000ABCdE", "not a leadcycle id"},
		{Contacts, "account_id", "-3", "not a leadcycle id"},
	}
	for _, tc := range bad {
		got, err := field(t, tc.entity, tc.field).Parse(tc.in, o)
		if err == nil || got != nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s.%s: Parse(%q) = %#v, %v; want an error with %q", tc.entity, tc.field, tc.in, got, err, tc.want)
		}
	}
}
