package mapping

import (
	"slices"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

func fieldsOf(m Mapping) []string {
	var out []string
	for _, c := range m.Columns {
		out = append(out, c.Field+"/"+c.How)
	}
	return out
}

func TestApply(t *testing.T) {
	headers := []string{"E-mail", "Work Email", "Notes", "Email", "Company", "Shoe size"}
	tests := []struct {
		name     string
		explicit map[string]string
		want     []string
		unmapped []string
	}{
		{"nothing", nil,
			[]string{"email/auto", "/", "/", "/", "account/auto", "custom.shoe_size/auto"},
			[]string{"Work Email", "Notes", "Email"}},
		{"explicit field takes over from auto", map[string]string{"Work Email": "email"},
			[]string{"/", "email/explicit", "/", "/", "account/auto", "custom.shoe_size/auto"},
			[]string{"E-mail", "Notes", "Email"}},
		{"skip on purpose", map[string]string{"E-mail": "", "Company": ""},
			[]string{"/explicit", "/", "/", "/", "/explicit", "custom.shoe_size/auto"},
			[]string{"Work Email", "Notes", "Email"}},
		{"normalised header", map[string]string{"notes": "custom.shoe_size", "WORK-EMAIL": "phone"},
			[]string{"email/auto", "phone/explicit", "custom.shoe_size/explicit", "/", "account/auto", "/"},
			[]string{"Email", "Shoe size"}},
		{"column number", map[string]string{"#4": "email", "#1": "mobile_phone"},
			[]string{"mobile_phone/explicit", "/", "/", "email/explicit", "account/auto", "custom.shoe_size/auto"},
			[]string{"Work Email", "Notes"}},
		{"exact header beats normalised", map[string]string{"Email": "phone"},
			[]string{"email/auto", "/", "/", "phone/explicit", "account/auto", "custom.shoe_size/auto"},
			[]string{"Work Email", "Notes"}},
	}
	auto, err := Auto(Contacts, headers, customDefs())
	if err != nil {
		t.Fatal(err)
	}
	before := fieldsOf(auto)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := auto.Apply(Contacts, tc.explicit, customDefs())
			if err != nil {
				t.Fatal(err)
			}
			if got := fieldsOf(m); !slices.Equal(got, tc.want) {
				t.Errorf("columns = %v, want %v", got, tc.want)
			}
			if got := m.Unmapped(); !slices.Equal(got, tc.unmapped) {
				t.Errorf("Unmapped = %v, want %v", got, tc.unmapped)
			}
			if !slices.Equal(fieldsOf(auto), before) {
				t.Errorf("Apply changed its receiver: %v", fieldsOf(auto))
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	auto, err := Auto(Contacts, []string{"Mail", "Phone", "Dup", "Dup", "Notes"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		entity   string
		explicit map[string]string
		want     []leadcycle.FieldError
	}{
		{"no such column", Contacts, map[string]string{"E-mail": "email"},
			[]leadcycle.FieldError{{Field: `columns["E-mail"]`, Message: "no such column in the file"}}},
		{"unknown field with a suggestion", Contacts, map[string]string{"Mail": "emial"},
			[]leadcycle.FieldError{{Field: `columns["Mail"]`, Message: `unknown field "emial" for contacts (did you mean "email"?)`}}},
		{"unknown field by label", Contacts, map[string]string{"Notes": "Job Title"},
			[]leadcycle.FieldError{{Field: `columns["Notes"]`, Message: `unknown field "Job Title" for contacts (did you mean "job_title"?)`}}},
		{"unknown field, nothing close", Contacts, map[string]string{"Notes": "favourite_colour"},
			[]leadcycle.FieldError{{Field: `columns["Notes"]`, Message: `unknown field "favourite_colour" for contacts`}}},
		{"field of another entity", Contacts, map[string]string{"Notes": "topic"},
			[]leadcycle.FieldError{{Field: `columns["Notes"]`, Message: `unknown field "topic" for contacts`}}},
		{"two columns one field", Contacts, map[string]string{"Mail": "phone", "Notes": "phone"},
			[]leadcycle.FieldError{{Field: `columns["Notes"]`, Message: `field "phone" is already imported from columns["Mail"]`}}},
		{"repeated header", Contacts, map[string]string{"Dup": "job_title"},
			[]leadcycle.FieldError{{Field: `columns["Dup"]`, Message: `2 columns have this header; name one as "#3"`}}},
		{"same column twice", Contacts, map[string]string{"Notes": "job_title", "#5": "account"},
			[]leadcycle.FieldError{{Field: `columns["Notes"]`, Message: `names the same column as columns["#5"]`}}},
		{"column number out of range", Contacts, map[string]string{"#9": "email"},
			[]leadcycle.FieldError{{Field: `columns["#9"]`, Message: "no such column in the file"}}},
		{"all problems at once", Contacts, map[string]string{"A": "email", "B": "nope", "Mail": "x"},
			[]leadcycle.FieldError{
				{Field: `columns["A"]`, Message: "no such column in the file"},
				{Field: `columns["B"]`, Message: "no such column in the file"},
				{Field: `columns["Mail"]`, Message: `unknown field "x" for contacts`},
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auto.Apply(tc.entity, tc.explicit, nil)
			if leadcycle.ErrorCode(err) != leadcycle.EInvalid {
				t.Fatalf("err = %v, want an invalid error", err)
			}
			if got := leadcycle.ErrorFields(err); !slices.Equal(got, tc.want) {
				t.Errorf("fields = %+v, want %+v", got, tc.want)
			}
			if msg := leadcycle.ErrorMessage(err); !strings.HasPrefix(msg, tc.want[0].Field+": "+tc.want[0].Message) {
				t.Errorf("message = %q", msg)
			}
		})
	}
}

func TestApplyUnknownEntity(t *testing.T) {
	if _, err := (Mapping{}).Apply("deals", nil, nil); leadcycle.ErrorCode(err) != leadcycle.EInvalid {
		t.Fatalf("err = %v", err)
	}
}

func TestApplyCustomField(t *testing.T) {
	auto, _ := Auto(Leads, []string{"Size"}, nil)
	m, err := auto.Apply(Leads, map[string]string{"Size": "custom.shoe_size"}, customDefs())
	if err != nil || m.Columns[0].Field != "custom.shoe_size" {
		t.Fatalf("m = %+v, err = %v", m, err)
	}
	if _, err := auto.Apply(Leads, map[string]string{"Size": "custom.shoe_size"}, nil); err == nil {
		t.Fatal("an undeclared custom field was accepted")
	}
}

func TestMappingIndex(t *testing.T) {
	m, _ := Auto(Contacts, []string{"Notes", "Email", "Name"}, nil)
	got := m.Index()
	if len(got) != 2 || got["email"] != 1 || got["full_name"] != 2 {
		t.Fatalf("Index = %v", got)
	}
}
