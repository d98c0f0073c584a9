package process

import (
	"reflect"
	"strings"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// Entities a stage field belongs to, in the order of entityNames.
const (
	entLead = iota
	entContact
	entAccount
	entities
)

// entityNames are the prefixes of stage field paths.
var entityNames = [entities]string{"lead", "contact", "account"}

// hiddenFields are the JSON fields of the records that stages cannot offer.
var hiddenFields = []string{"id", "created_at", "updated_at", "scores", "custom"}

// fieldRef is a resolved stage field path.
type fieldRef struct {
	entity int
	custom string // the custom field's name; "" for a built-in field
	index  []int  // the built-in field's index in the record struct
}

// resolveField parses a stage field path such as "lead.purchase_timeframe"
// or "contact.custom.segment"; ok is false when no such field exists.
func resolveField(path string, schemas scoring.Schemas) (ref fieldRef, ok bool) {
	prefix, name, _ := strings.Cut(path, ".")
	ref.entity = entityIndex(prefix)
	if ref.entity < 0 || name == "" {
		return ref, false
	}
	if custom, isCustom := strings.CutPrefix(name, "custom."); isCustom {
		ref.custom = custom
		return ref, declared(entitySchema(schemas, ref.entity), custom)
	}
	ref.index, ok = builtinField(recordType(ref.entity), name)
	return ref, ok
}

// entityIndex returns the entity named by a path prefix, or -1.
func entityIndex(prefix string) int {
	for e, n := range entityNames {
		if n == prefix {
			return e
		}
	}
	return -1
}

// entitySchema returns the custom field definitions of an entity.
func entitySchema(s scoring.Schemas, entity int) leadcycle.Schema {
	switch entity {
	case entContact:
		return s.Contact
	case entAccount:
		return s.Account
	}
	return s.Lead
}

// declared reports whether the schema defines a field of that name.
func declared(schema leadcycle.Schema, name string) bool {
	for _, def := range schema {
		if def.Name == name {
			return true
		}
	}
	return false
}

// recordType returns the struct type of an entity's records.
func recordType(entity int) reflect.Type {
	switch entity {
	case entContact:
		return reflect.TypeFor[leadcycle.Contact]()
	case entAccount:
		return reflect.TypeFor[leadcycle.Account]()
	}
	return reflect.TypeFor[leadcycle.Lead]()
}

// builtinField finds the field of t whose JSON name is name, among those
// stages may offer.
func builtinField(t reflect.Type, name string) ([]int, bool) {
	for _, hidden := range hiddenFields {
		if name == hidden {
			return nil, false
		}
	}
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag == name && f.IsExported() {
			return f.Index, true
		}
	}
	return nil, false
}

// record returns the subject's record of an entity and its custom values;
// ok is false when the subject has no such record.
func record(s Subject, entity int) (rv reflect.Value, custom leadcycle.Custom, ok bool) {
	switch {
	case entity == entLead && s.Lead != nil:
		return reflect.ValueOf(s.Lead).Elem(), s.Lead.Custom, true
	case entity == entContact && s.Contact != nil:
		return reflect.ValueOf(s.Contact).Elem(), s.Contact.Custom, true
	case entity == entAccount && s.Account != nil:
		return reflect.ValueOf(s.Account).Elem(), s.Account.Custom, true
	}
	return reflect.Value{}, nil, false
}

// value returns the field's value in s; ok is false when the subject has no
// record of the field's entity or the custom value is absent.
func (f fieldRef) value(s Subject) (v any, ok bool) {
	rv, custom, ok := record(s, f.entity)
	if !ok {
		return nil, false
	}
	if f.custom != "" {
		v, ok = custom[f.custom]
		return v, ok
	}
	return rv.FieldByIndex(f.index).Interface(), true
}

// missing reports whether a required field is not set in s.
func (f fieldRef) missing(s Subject) bool {
	v, ok := f.value(s)
	return !ok || empty(reflect.ValueOf(v))
}

// empty reports whether a value counts as not set: false, blank text, nil,
// an empty list or map, or a zero struct. A number is set whatever its value
// (optional built-in numbers are pointers, nil when unset).
func empty(v reflect.Value) bool {
	if !v.IsValid() {
		return true
	}
	switch v.Kind() {
	case reflect.Bool:
		return !v.Bool()
	case reflect.String:
		return strings.TrimSpace(v.String()) == ""
	case reflect.Pointer, reflect.Interface:
		return v.IsNil()
	case reflect.Slice, reflect.Map:
		return v.Len() == 0
	case reflect.Float64, reflect.Int, reflect.Int64:
		return false
	}
	return v.IsZero()
}
