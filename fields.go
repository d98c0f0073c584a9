package leadcycle

import (
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Custom field types.
const (
	FieldText   = "text"
	FieldNumber = "number"
	FieldBool   = "bool"
	FieldDate   = "date"
	FieldChoice = "choice"
)

// FieldTypes lists the custom field types.
var FieldTypes = []string{FieldText, FieldNumber, FieldBool, FieldDate, FieldChoice}

// CustomEntities lists the records that carry custom fields.
var CustomEntities = []string{"contact", "account", "lead", "opportunity"}

// FieldDef declares a custom field of one entity for this installation.
type FieldDef struct {
	ID        ID        `json:"id"`
	Entity    string    `json:"entity"`
	Name      string    `json:"name"`
	Label     string    `json:"label"`
	Type      string    `json:"type"`
	Choices   []string  `json:"choices"`
	Required  bool      `json:"required"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Normalize trims text and fills defaults.
func (f *FieldDef) Normalize() {
	f.Name = strings.TrimSpace(f.Name)
	f.Label = strings.TrimSpace(f.Label)
	if f.Label == "" {
		f.Label = f.Name
	}
	if f.Choices == nil {
		f.Choices = []string{}
	}
	for i := range f.Choices {
		f.Choices[i] = strings.TrimSpace(f.Choices[i])
	}
}

// Validate checks the definition.
func (f *FieldDef) Validate() error {
	var v validator
	v.oneOf("entity", f.Entity, CustomEntities)
	if !ValidSlug(f.Name) {
		v.add("name", "must be a key: a lower-case letter, then letters, digits or underscores (at most 63)")
	}
	v.maxLen("label", f.Label, 200)
	v.oneOf("type", f.Type, FieldTypes)
	switch {
	case f.Type == FieldChoice && len(f.Choices) == 0:
		v.add("choices", "a choice field needs at least one choice")
	case f.Type != FieldChoice && len(f.Choices) > 0:
		v.add("choices", "only choice fields have choices")
	}
	seen := map[string]bool{}
	for _, c := range f.Choices {
		v.maxLen("choices", c, 200)
		if c == "" || seen[c] {
			v.add("choices", "choices must be non-empty and distinct")
			break
		}
		seen[c] = true
	}
	return v.Err()
}

// CheckChange rejects changes that would make stored values wrong: the entity,
// name and type of a field are fixed once created, and choices can be added but
// not removed.
func (f *FieldDef) CheckChange(old *FieldDef) error {
	var v validator
	if f.Entity != old.Entity {
		v.add("entity", "cannot be changed; create a new field")
	}
	if f.Name != old.Name {
		v.add("name", "cannot be changed; create a new field")
	}
	if f.Type != old.Type {
		v.add("type", "cannot be changed; create a new field")
	}
	for _, c := range old.Choices {
		if !slices.Contains(f.Choices, c) {
			v.add("choices", "choice "+c+" is in use and cannot be removed")
			break
		}
	}
	return v.Err()
}

// Schema is the set of custom field definitions of one entity.
type Schema []FieldDef

// ValidateCustom checks custom values against the schema: every key must be
// declared and every value of its declared type; required fields must be set.
// A null value removes the key. Numbers arrive as float64 from JSON.
func (s Schema) ValidateCustom(values Custom) error {
	var v validator
	byName := make(map[string]*FieldDef, len(s))
	for i := range s {
		byName[s[i].Name] = &s[i]
	}
	for k, val := range values {
		field := "custom." + k
		def, ok := byName[k]
		if !ok {
			v.add(field, "is not a declared custom field")
			continue
		}
		if val == nil {
			delete(values, k)
			continue
		}
		if msg := checkCustomValue(def, val); msg != "" {
			v.add(field, msg)
		}
	}
	for _, def := range s {
		if _, ok := values[def.Name]; def.Required && !ok {
			v.add("custom."+def.Name, "is required")
		}
	}
	return v.Err()
}

func checkCustomValue(def *FieldDef, val any) string {
	switch def.Type {
	case FieldText:
		s, ok := val.(string)
		if !ok {
			return "must be a string"
		}
		if len([]rune(s)) > 4000 {
			return "must be at most 4000 characters"
		}
		if strings.IndexByte(s, 0) >= 0 || !utf8.ValidString(s) {
			return "must be valid UTF-8 without NUL characters"
		}
	case FieldNumber:
		n, ok := val.(float64)
		if !ok || math.IsInf(n, 0) || math.IsNaN(n) {
			return "must be a number"
		}
	case FieldBool:
		if _, ok := val.(bool); !ok {
			return "must be true or false"
		}
	case FieldDate:
		s, ok := val.(string)
		if !ok {
			return "must be a date as YYYY-MM-DD"
		}
		if _, err := time.Parse(time.DateOnly, s); err != nil {
			return "must be a date as YYYY-MM-DD"
		}
	case FieldChoice:
		s, ok := val.(string)
		if !ok || !slices.Contains(def.Choices, s) {
			return "must be one of: " + strings.Join(def.Choices, ", ")
		}
	}
	return ""
}
