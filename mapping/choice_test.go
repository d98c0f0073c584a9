package mapping

import (
	"strings"
	"testing"
)

func TestMatchChoice(t *testing.T) {
	choices := []string{"cannot_contact", "Ñandú", "A+", "new"}
	tests := []struct {
		value    string
		valueMap map[string]string
		want     string
	}{
		{"new", nil, "new"},
		{" new ", nil, "new"},
		{"NEW", nil, "new"},
		{"Cannot Contact", nil, "cannot_contact"},
		{"cannot-contact", nil, "cannot_contact"},
		{"nandu", nil, "Ñandú"},
		{"a+", nil, "A+"},
		{"", nil, ""},
		{"Neu", map[string]string{"Neu": "new"}, "new"},
		{"NEU", map[string]string{"neu": "new"}, "new"},
		{"new", map[string]string{"new": "cannot_contact"}, "cannot_contact"}, // the map comes first
		{"", map[string]string{"": "new"}, "new"},
	}
	for _, tc := range tests {
		got, err := MatchChoice(tc.value, choices, tc.valueMap)
		if err != nil || got != tc.want {
			t.Errorf("MatchChoice(%q, %v) = %q, %v; want %q", tc.value, tc.valueMap, got, err, tc.want)
		}
	}
}

func TestMatchChoiceErrors(t *testing.T) {
	many := []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "c11", "c12"}
	tests := []struct {
		value    string
		choices  []string
		valueMap map[string]string
		want     string
	}{
		{"old", []string{"new", "open"}, nil, `"old" is not one of: new, open`},
		{"x", many, nil, `"x" is not one of: c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 … (2 more)`},
		{"ab", []string{"a-b", "A B"}, nil, `"ab" matches several choices: a-b, A B`},
		{"Neu", []string{"new"}, map[string]string{"Neu": "newest"}, `sends "Neu" to "newest", which is not one of: new`},
		{"???", []string{"!!!"}, nil, "is not one of"},
		{"x", nil, nil, "(no choices)"},
	}
	for _, tc := range tests {
		if got, err := MatchChoice(tc.value, tc.choices, tc.valueMap); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("MatchChoice(%q) = %q, %v; want an error with %q", tc.value, got, err, tc.want)
		}
	}
}
