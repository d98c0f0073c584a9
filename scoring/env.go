package scoring

import (
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// contactVars are the built-in contact fields expressions see.
type contactVars struct {
	ID                     string    `expr:"id"`
	FirstName              string    `expr:"first_name"`
	LastName               string    `expr:"last_name"`
	Email                  string    `expr:"email"`
	EmailDomain            string    `expr:"email_domain"`
	Phone                  string    `expr:"phone"`
	JobTitle               string    `expr:"job_title"`
	AccountID              string    `expr:"account_id"`
	OwnerID                string    `expr:"owner_id"`
	Origin                 string    `expr:"origin"`
	ConsentCommercialEmail string    `expr:"consent_commercial_email"`
	ConsentTracking        string    `expr:"consent_tracking"`
	CreatedAt              time.Time `expr:"created_at"`
	UpdatedAt              time.Time `expr:"updated_at"`
}

// accountVars are the built-in account fields expressions see.
type accountVars struct {
	ID        string    `expr:"id"`
	Name      string    `expr:"name"`
	Website   string    `expr:"website"`
	Domain    string    `expr:"domain"`
	Industry  string    `expr:"industry"`
	Country   string    `expr:"country"`
	Employees int       `expr:"employees"`
	Revenue   float64   `expr:"revenue"`
	CreatedAt time.Time `expr:"created_at"`
}

// leadVars are the built-in lead fields expressions see.
type leadVars struct {
	ID                string    `expr:"id"`
	Topic             string    `expr:"topic"`
	Description       string    `expr:"description"`
	PurchaseTimeframe string    `expr:"purchase_timeframe"`
	PurchaseProcess   string    `expr:"purchase_process"`
	BudgetAmount      float64   `expr:"budget_amount"`
	Need              string    `expr:"need"`
	ContactID         string    `expr:"contact_id"`
	AccountID         string    `expr:"account_id"`
	Status            string    `expr:"status"`
	StatusReason      string    `expr:"status_reason"`
	Source            string    `expr:"source"`
	FormID            string    `expr:"form_id"`
	EventID           string    `expr:"event_id"`
	JourneyID         string    `expr:"journey_id"`
	Campaign          string    `expr:"campaign"`
	ProcessID         string    `expr:"process_id"`
	Stage             string    `expr:"stage"`
	OwnerID           string    `expr:"owner_id"`
	TelesalesReady    bool      `expr:"telesales_ready"`
	TelesalesAccepted bool      `expr:"telesales_accepted"`
	SalesReady        bool      `expr:"sales_ready"`
	SalesAccepted     bool      `expr:"sales_accepted"`
	CreatedAt         time.Time `expr:"created_at"`
}

// whereVars is the environment of a behaviour's where: one interaction,
// with the fields a segment query sees and, besides, its raw properties and
// the time.
type whereVars struct {
	segInteractionVars `expr:"-"`
	Properties         map[string]any `expr:"properties"`
	Now                time.Time      `expr:"now"`
}

// whereEnv is what where programs run with: a pointer to the variables,
// embedded so that their fields are promoted. A struct holding one pointer
// fits in an interface without copying, so evaluating where on an
// interaction allocates nothing but the few fields it reads.
type whereEnv struct {
	*whereVars `expr:"-"`
}

// setter copies one field of a record R into the variables V expressions see.
// Setters always assign their field, whatever the record holds: variables are
// reused from one call to the next without being cleared, and a field is
// either set on every call or never read.
type setter[V, R any] struct {
	name string
	set  func(v *V, r *R)
}

// contactSetters fill contactVars, one per expression field.
var contactSetters = []setter[contactVars, leadcycle.Contact]{
	{"id", func(v *contactVars, c *leadcycle.Contact) { v.ID = idText(c.ID) }},
	{"first_name", func(v *contactVars, c *leadcycle.Contact) { v.FirstName = c.FirstName }},
	{"last_name", func(v *contactVars, c *leadcycle.Contact) { v.LastName = c.LastName }},
	{"email", func(v *contactVars, c *leadcycle.Contact) { v.Email = c.Email }},
	{"email_domain", func(v *contactVars, c *leadcycle.Contact) { v.EmailDomain = emailDomain(c.Email) }},
	{"phone", func(v *contactVars, c *leadcycle.Contact) { v.Phone = c.Phone }},
	{"job_title", func(v *contactVars, c *leadcycle.Contact) { v.JobTitle = c.JobTitle }},
	{"account_id", func(v *contactVars, c *leadcycle.Contact) { v.AccountID = idPtrText(c.AccountID) }},
	{"owner_id", func(v *contactVars, c *leadcycle.Contact) { v.OwnerID = idPtrText(c.OwnerID) }},
	{"origin", func(v *contactVars, c *leadcycle.Contact) { v.Origin = c.Origin }},
	{"consent_commercial_email", func(v *contactVars, c *leadcycle.Contact) {
		v.ConsentCommercialEmail = c.Consent.CommercialEmail
	}},
	{"consent_tracking", func(v *contactVars, c *leadcycle.Contact) { v.ConsentTracking = c.Consent.Tracking }},
	{"created_at", func(v *contactVars, c *leadcycle.Contact) { v.CreatedAt = c.CreatedAt }},
	{"updated_at", func(v *contactVars, c *leadcycle.Contact) { v.UpdatedAt = c.UpdatedAt }},
}

// accountSetters fill accountVars, one per expression field.
var accountSetters = []setter[accountVars, leadcycle.Account]{
	{"id", func(v *accountVars, a *leadcycle.Account) { v.ID = idText(a.ID) }},
	{"name", func(v *accountVars, a *leadcycle.Account) { v.Name = a.Name }},
	{"website", func(v *accountVars, a *leadcycle.Account) { v.Website = a.Website }},
	{"domain", func(v *accountVars, a *leadcycle.Account) { v.Domain = a.Domain }},
	{"industry", func(v *accountVars, a *leadcycle.Account) { v.Industry = a.Industry }},
	{"country", func(v *accountVars, a *leadcycle.Account) { v.Country = a.Country }},
	{"employees", func(v *accountVars, a *leadcycle.Account) { v.Employees = int(deref(a.Employees)) }},
	{"revenue", func(v *accountVars, a *leadcycle.Account) { v.Revenue = deref(a.Revenue) }},
	{"created_at", func(v *accountVars, a *leadcycle.Account) { v.CreatedAt = a.CreatedAt }},
}

// leadSetters fill leadVars, one per expression field.
var leadSetters = []setter[leadVars, leadcycle.Lead]{
	{"id", func(v *leadVars, l *leadcycle.Lead) { v.ID = idText(l.ID) }},
	{"topic", func(v *leadVars, l *leadcycle.Lead) { v.Topic = l.Topic }},
	{"description", func(v *leadVars, l *leadcycle.Lead) { v.Description = l.Description }},
	{"purchase_timeframe", func(v *leadVars, l *leadcycle.Lead) { v.PurchaseTimeframe = l.PurchaseTimeframe }},
	{"purchase_process", func(v *leadVars, l *leadcycle.Lead) { v.PurchaseProcess = l.PurchaseProcess }},
	{"budget_amount", func(v *leadVars, l *leadcycle.Lead) { v.BudgetAmount = deref(l.BudgetAmount) }},
	{"need", func(v *leadVars, l *leadcycle.Lead) { v.Need = l.Need }},
	{"contact_id", func(v *leadVars, l *leadcycle.Lead) { v.ContactID = idPtrText(l.ContactID) }},
	{"account_id", func(v *leadVars, l *leadcycle.Lead) { v.AccountID = idPtrText(l.AccountID) }},
	{"status", func(v *leadVars, l *leadcycle.Lead) { v.Status = l.Status }},
	{"status_reason", func(v *leadVars, l *leadcycle.Lead) { v.StatusReason = l.StatusReason }},
	{"source", func(v *leadVars, l *leadcycle.Lead) { v.Source = l.Source }},
	{"form_id", func(v *leadVars, l *leadcycle.Lead) { v.FormID = idPtrText(l.FormID) }},
	{"event_id", func(v *leadVars, l *leadcycle.Lead) { v.EventID = idPtrText(l.EventID) }},
	{"journey_id", func(v *leadVars, l *leadcycle.Lead) { v.JourneyID = idPtrText(l.JourneyID) }},
	{"campaign", func(v *leadVars, l *leadcycle.Lead) { v.Campaign = l.Campaign }},
	{"process_id", func(v *leadVars, l *leadcycle.Lead) { v.ProcessID = idPtrText(l.ProcessID) }},
	{"stage", func(v *leadVars, l *leadcycle.Lead) { v.Stage = l.Stage }},
	{"owner_id", func(v *leadVars, l *leadcycle.Lead) { v.OwnerID = idPtrText(l.OwnerID) }},
	{"telesales_ready", func(v *leadVars, l *leadcycle.Lead) { v.TelesalesReady = l.TelesalesReady }},
	{"telesales_accepted", func(v *leadVars, l *leadcycle.Lead) { v.TelesalesAccepted = l.TelesalesAccepted }},
	{"sales_ready", func(v *leadVars, l *leadcycle.Lead) { v.SalesReady = l.SalesReady }},
	{"sales_accepted", func(v *leadVars, l *leadcycle.Lead) { v.SalesAccepted = l.SalesAccepted }},
	{"created_at", func(v *leadVars, l *leadcycle.Lead) { v.CreatedAt = l.CreatedAt }},
}

// whereSetters fill whereVars, one per expression field but now, which is
// always set.
var whereSetters = []setter[whereVars, leadcycle.Interaction]{
	{"type", func(v *whereVars, i *leadcycle.Interaction) { v.Type = i.Type }},
	{"occurred_at", func(v *whereVars, i *leadcycle.Interaction) { v.OccurredAt = i.OccurredAt }},
	{"lead_id", func(v *whereVars, i *leadcycle.Interaction) {
		if i.LeadID != nil {
			v.LeadID = idText(*i.LeadID)
		} else {
			v.LeadID = propertyText(i.Properties, "lead_id")
		}
	}},
	{"form_id", func(v *whereVars, i *leadcycle.Interaction) { v.FormID = propertyText(i.Properties, "form_id") }},
	{"email_id", func(v *whereVars, i *leadcycle.Interaction) { v.EmailID = propertyText(i.Properties, "email_id") }},
	{"event_id", func(v *whereVars, i *leadcycle.Interaction) { v.EventID = propertyText(i.Properties, "event_id") }},
	{"url", func(v *whereVars, i *leadcycle.Interaction) { v.URL = propertyText(i.Properties, "url") }},
	{"referrer", func(v *whereVars, i *leadcycle.Interaction) { v.Referrer = propertyText(i.Properties, "referrer") }},
	{"properties", func(v *whereVars, i *leadcycle.Interaction) { v.Properties = i.Properties }},
}

// pick returns the setters whose names are in need, or all of them when all
// is set.
func pick[V, R any](table []setter[V, R], need map[string]bool, all bool) []func(*V, *R) {
	var out []func(*V, *R)
	for _, s := range table {
		if all || need[s.name] {
			out = append(out, s.set)
		}
	}
	return out
}

// fill copies the chosen fields of r into v; a nil r makes every field zero.
func fill[V, R any](v *V, r *R, sets []func(*V, *R)) {
	if r == nil {
		var zero V
		*v = zero
		return
	}
	for _, set := range sets {
		set(v, r)
	}
}

// deref returns *p, or zero for nil.
func deref[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// idText renders an id as decimal text, "" for the zero id.
func idText(id leadcycle.ID) string {
	if id == 0 {
		return ""
	}
	return id.String()
}

// idPtrText renders an optional id as decimal text, "" when nil.
func idPtrText(id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	return idText(*id)
}

// emailDomain returns the lower-cased part of an address after its last @.
func emailDomain(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ""
	}
	return strings.ToLower(email[at+1:])
}

// propertyText reads a property as text: strings as they are, integral
// numbers in decimal (ids are stored either way), other numbers and booleans
// in their usual form, anything else as "".
func propertyText(props map[string]any, key string) string {
	switch v := props[key].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case leadcycle.ID:
		return v.String()
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	}
	return ""
}

// customField is one custom field of an entity's custom struct.
type customField struct {
	name, kind string
	index      int
}

// customType builds the struct type of an entity's custom fields: a hidden
// marker naming the entity (so that the types of two entities with the same
// fields differ), then one field per definition, tagged with its name.
func customType(entity string, schema leadcycle.Schema) (reflect.Type, []customField) {
	fields := []reflect.StructField{{
		Name: strings.ToUpper(entity[:1]) + entity[1:], Type: reflect.TypeFor[struct{}](), Tag: `expr:"-"`,
	}}
	var out []customField
	seen := map[string]bool{}
	for _, def := range schema {
		t := customGoType(def.Type)
		if t == nil || def.Name == "" || seen[def.Name] {
			continue
		}
		seen[def.Name] = true
		out = append(out, customField{name: def.Name, kind: def.Type, index: len(fields)})
		fields = append(fields, reflect.StructField{
			Name: "F" + strconv.Itoa(len(out)-1),
			Type: t,
			Tag:  reflect.StructTag(`expr:` + strconv.Quote(def.Name)),
		})
	}
	return reflect.StructOf(fields), out
}

// customGoType maps a custom field type to the Go type expressions see.
func customGoType(kind string) reflect.Type {
	switch kind {
	case leadcycle.FieldText, leadcycle.FieldChoice:
		return reflect.TypeFor[string]()
	case leadcycle.FieldNumber:
		return reflect.TypeFor[float64]()
	case leadcycle.FieldBool:
		return reflect.TypeFor[bool]()
	case leadcycle.FieldDate:
		return reflect.TypeFor[time.Time]()
	}
	return nil
}

// fillCustom sets the chosen fields of the custom struct v from values;
// missing values and values of the wrong type read as zero.
func fillCustom(v reflect.Value, fields []customField, values leadcycle.Custom) {
	for _, f := range fields {
		field := v.Field(f.index)
		if !setCustom(field, f.kind, values[f.name]) {
			field.SetZero()
		}
	}
}

// setCustom stores one custom value into its field; it reports false when
// the value is missing or of the wrong type.
func setCustom(field reflect.Value, kind string, raw any) bool {
	switch kind {
	case leadcycle.FieldText, leadcycle.FieldChoice:
		s, ok := raw.(string)
		if ok {
			field.SetString(s)
		}
		return ok
	case leadcycle.FieldNumber:
		n, ok := number(raw)
		if ok {
			field.SetFloat(n)
		}
		return ok
	case leadcycle.FieldBool:
		b, ok := raw.(bool)
		if ok {
			field.SetBool(b)
		}
		return ok
	case leadcycle.FieldDate:
		t, ok := date(raw)
		if ok {
			*field.Addr().Interface().(*time.Time) = t
		}
		return ok
	}
	return false
}

// number reads a custom number, which JSON decodes as float64.
func number(raw any) (float64, bool) {
	switch n := raw.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

// date reads a custom date, stored as YYYY-MM-DD, as midnight UTC.
func date(raw any) (time.Time, bool) {
	switch d := raw.(type) {
	case string:
		t, err := time.Parse(time.DateOnly, d)
		return t, err == nil
	case time.Time:
		return d, true
	}
	return time.Time{}, false
}
