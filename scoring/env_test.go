package scoring

import (
	"reflect"
	"slices"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// tagsOf lists the expr names of a struct's fields, those of embedded
// structs in their place.
func tagsOf(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if f := t.Field(i); f.Anonymous {
			out = append(out, tagsOf(f.Type)...)
		} else {
			out = append(out, f.Tag.Get("expr"))
		}
	}
	return out
}

func namesOf[V, R any](table []setter[V, R]) []string {
	var out []string
	for _, s := range table {
		out = append(out, s.name)
	}
	return out
}

// TestSettersCoverEveryField keeps the setter tables in step with the
// variables: a field without a setter would always read zero.
func TestSettersCoverEveryField(t *testing.T) {
	for _, c := range []struct {
		typ   reflect.Type
		names []string
	}{
		{reflect.TypeFor[contactVars](), namesOf(contactSetters)},
		{reflect.TypeFor[accountVars](), namesOf(accountSetters)},
		{reflect.TypeFor[leadVars](), namesOf(leadSetters)},
		{reflect.TypeFor[whereVars](), append(namesOf(whereSetters), "now")},
	} {
		if tags := tagsOf(c.typ); !slices.Equal(tags, c.names) {
			t.Errorf("%v: tags %v, setters %v", c.typ, tags, c.names)
		}
	}
}

// TestUsesFillOnlyWhatIsRead checks the analysis that lets Score skip
// fields: named fields are picked, whole-record uses pick everything.
func TestUsesFillOnlyWhatIsRead(t *testing.T) {
	schemas := Schemas{Contact: leadcycle.Schema{{Name: "a", Type: "text"}, {Name: "b", Type: "number"}}}
	plan := func(conds ...string) *condPlan {
		def := &leadcycle.ScoringModel{Name: "M", Rules: []leadcycle.ScoringRule{{Name: "R", Points: 1, Conditions: conds}}}
		def.Normalize()
		m, err := Compile(def, schemas)
		if err != nil {
			t.Fatal(err)
		}
		return m.cond
	}
	p := plan(`contact.email == "" and contact.custom.b > 1`, `lead.status == "open"`)
	if len(p.contactSets) != 1 || len(p.accountSets) != 0 || len(p.leadSets) != 1 {
		t.Errorf("sets: %d contact, %d account, %d lead; want 1, 0, 1", len(p.contactSets), len(p.accountSets), len(p.leadSets))
	}
	if len(p.custom[entContact]) != 1 || p.custom[entContact][0].name != "b" {
		t.Errorf("custom %+v, want b", p.custom[entContact])
	}
	p = plan(`let c = contact.custom; c.a == "x"`)
	if len(p.custom[entContact]) != 2 || len(p.contactSets) != 0 {
		t.Errorf("whole custom: %d custom, %d sets; want 2, 0", len(p.custom[entContact]), len(p.contactSets))
	}
	p = plan(`$env.contact.email == "" and account != nil`)
	if len(p.contactSets) != len(contactSetters) || len(p.accountSets) != len(accountSetters) {
		t.Errorf("$env: %d contact, %d account sets; want all", len(p.contactSets), len(p.accountSets))
	}
	if m, _ := Compile(&leadcycle.ScoringModel{Name: "M", Key: "m", Status: "draft", Target: "contact",
		Rules: []leadcycle.ScoringRule{{Name: "R", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "page_view", Frequency: "at_least_once"}}}}}, schemas); m == nil || m.cond != nil {
		t.Errorf("a model without conditions needs no environment")
	}
}
