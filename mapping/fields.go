// Package mapping maps the columns of imported files (CSV, XLSX) to leadcycle
// fields and parses their values leniently.
//
// Auto recognises the headers of common exports (HubSpot, Salesforce, Dynamics
// 365 import templates, Mautic, Odoo, Zoho, Pipedrive, hand-made lists) in
// English, Spanish, Galician, Portuguese, French, German, Italian, Catalan and
// Chinese, and leadcycle's own export headers (the field names themselves).
// Apply lets a user override it. ParseNumber, ParseInteger, ParseBool,
// ParseDate and MatchChoice read values the way spreadsheets write them, and
// Field.Parse picks the right one for a field.
package mapping

import (
	"slices"

	"github.com/leadcycle/leadcycle"
)

// Entities that can be imported.
const (
	Contacts = "contacts"
	Accounts = "accounts"
	Leads    = "leads"
)

// Kinds of field values.
const (
	KindText    = "text"
	KindEmail   = "email"
	KindPhone   = "phone"
	KindNumber  = "number"
	KindInteger = "integer"
	KindBool    = "bool"
	KindDate    = "date"
	KindChoice  = "choice"
	KindID      = "id"
)

// CustomPrefix starts the name of every custom field: "custom.shoe_size".
const CustomPrefix = "custom."

// Field is one importable field of an entity.
type Field struct {
	Name    string   // "email", "first_name", "custom.shoe_size" …
	Label   string   // English label for UIs and error messages
	Kind    string   // one of the Kind constants
	Choices []string // for KindChoice: the allowed stored values

	// aliases maps normalised values that other systems export to a stored
	// choice ("closedconverted" → "qualified"); read-only, shared.
	aliases map[string]string
}

// spec is one built-in field in the header tables: its field and the header
// synonyms that map to it.
type spec struct {
	name, label, kind string
	choices           func() []string
	synonyms          []string
}

// entityDef describes an importable entity.
type entityDef struct {
	custom   string   // FieldDef.Entity of its custom fields
	specs    []spec   // built-in fields in order
	prefixes []string // normalised header prefixes stripped when that resolves a header
	context  []contextRule
}

// contextRule maps a header key to a field only when another header of the
// same file has the key with: French "Nom" next to "Prénom" is the last name,
// Catalan "Nom" next to "Cognoms" the first name.
type contextRule struct {
	key, with, field string
}

// customKinds maps custom field types to kinds.
var customKinds = map[string]string{
	leadcycle.FieldText:   KindText,
	leadcycle.FieldNumber: KindNumber,
	leadcycle.FieldBool:   KindBool,
	leadcycle.FieldDate:   KindDate,
	leadcycle.FieldChoice: KindChoice,
}

// Fields returns the importable fields of an entity, built-in first, then one
// "custom.<name>" per custom field def of that entity (FieldDef.Entity is
// "contact", "account" or "lead"; defs of other entities are skipped). The
// result is a fresh copy the caller may modify.
func Fields(entity string, custom []leadcycle.FieldDef) ([]Field, error) {
	def, err := lookupEntity(entity)
	if err != nil {
		return nil, err
	}
	fields := make([]Field, 0, len(def.specs)+len(custom))
	for _, s := range def.specs {
		fields = append(fields, s.field())
	}
	for _, fd := range custom {
		if fd.Entity == def.custom {
			fields = append(fields, customField(fd))
		}
	}
	return fields, nil
}

// lookupEntity returns the definition of an entity or an error naming the
// valid ones.
func lookupEntity(entity string) (entityDef, error) {
	def, ok := entities[entity]
	if !ok {
		return entityDef{}, leadcycle.Errorf(leadcycle.EInvalid,
			"unknown entity %q: one of %s, %s, %s", entity, Contacts, Accounts, Leads)
	}
	return def, nil
}

// field builds the Field of a built-in spec.
func (s spec) field() Field {
	f := Field{Name: s.name, Label: s.label, Kind: s.kind, aliases: choiceAliases[s.name]}
	if s.choices != nil {
		f.Choices = s.choices()
	}
	return f
}

// customField builds the Field of a custom field definition.
func customField(fd leadcycle.FieldDef) Field {
	kind, ok := customKinds[fd.Type]
	if !ok {
		kind = KindText
	}
	label := fd.Label
	if label == "" {
		label = fd.Name
	}
	return Field{Name: CustomPrefix + fd.Name, Label: label, Kind: kind, Choices: slices.Clone(fd.Choices)}
}

// nonEmpty returns a copy of values without the empty string, which the
// domain uses for "not set".
func nonEmpty(values []string) []string {
	return slices.DeleteFunc(slices.Clone(values), func(v string) bool { return v == "" })
}

// consentChoices are the stored values of the consent fields.
func consentChoices() []string { return slices.Clone(leadcycle.ConsentStates) }

// statusChoices are the lead statuses.
func statusChoices() []string { return slices.Clone(leadcycle.LeadStatuses) }

// reasonChoices are the reasons of every lead status, in status order.
func reasonChoices() []string {
	var out []string
	for _, st := range leadcycle.LeadStatuses {
		out = append(out, leadcycle.LeadStatusReasons[st]...)
	}
	return out
}

// timeframeChoices are the purchase timeframes.
func timeframeChoices() []string { return nonEmpty(leadcycle.PurchaseTimeframes) }

// processChoices are the purchase processes.
func processChoices() []string { return nonEmpty(leadcycle.PurchaseProcesses) }

// needChoices are the lead needs.
func needChoices() []string { return nonEmpty(leadcycle.Needs) }
