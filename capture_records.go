package leadcycle

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Matching strategy kinds.
const (
	StrategyContact = "contact"
	StrategyLead    = "lead"
)

// StrategyFields lists, per kind, the fields a strategy may compare and the
// normalisation each gets. Lead strategies compare the email and phone of the
// lead's contact. Custom fields are written "custom.<name>".
var StrategyFields = map[string]map[string]string{
	StrategyContact: {"email": "email", "phone": "phone", "first_name": "text", "last_name": "text", "job_title": "text"},
	StrategyLead: {"email": "email", "phone": "phone", "form_id": "id", "event_id": "id", "journey_id": "id",
		"contact_id": "id", "account_id": "id", "campaign": "text", "topic": "text", "source": "text"},
}

// MatchingStrategy says which fields must all be equal, after normalisation,
// for an incoming contact or lead to be the same as an existing one.
type MatchingStrategy struct {
	ID                ID        `json:"id"`
	Name              string    `json:"name"`
	Kind              string    `json:"kind"`
	Fields            []string  `json:"fields"`
	UpdateWhenMatched bool      `json:"update_when_matched"`
	CreateWhenNone    bool      `json:"create_when_none"`
	IgnoreEmptyValues bool      `json:"ignore_empty_values"`
	PhoneRegion       string    `json:"phone_region"`
	IsDefault         bool      `json:"is_default"`
	CreatedAt         time.Time `json:"created_at"`
	UpdatedAt         time.Time `json:"updated_at"`
}

// Normalize trims and fills defaults.
func (m *MatchingStrategy) Normalize() {
	m.Name = strings.TrimSpace(m.Name)
	m.PhoneRegion = strings.ToUpper(strings.TrimSpace(m.PhoneRegion))
	if m.Fields == nil {
		m.Fields = []string{}
	}
	for i := range m.Fields {
		m.Fields[i] = strings.TrimSpace(m.Fields[i])
	}
}

// FieldKind returns the normalisation kind of a strategy field.
func (m *MatchingStrategy) FieldKind(field string) string {
	if strings.HasPrefix(field, "custom.") {
		return "text"
	}
	return StrategyFields[m.Kind][field]
}

// Validate checks the strategy.
func (m *MatchingStrategy) Validate() error {
	var v validator
	v.required("name", m.Name)
	v.maxLen("name", m.Name, 200)
	v.oneOf("kind", m.Kind, []string{StrategyContact, StrategyLead})
	if len(m.Fields) == 0 || len(m.Fields) > 6 {
		v.add("fields", "must list 1 to 6 fields")
	}
	seen := map[string]bool{}
	for _, f := range m.Fields {
		custom, isCustom := strings.CutPrefix(f, "custom.")
		known := StrategyFields[m.Kind][f] != "" || (isCustom && ValidSlug(custom))
		if !known && m.Kind != "" {
			allowed := []string{}
			for k := range StrategyFields[m.Kind] {
				allowed = append(allowed, k)
			}
			slices.Sort(allowed)
			v.add("fields", f+" cannot be matched on; use "+strings.Join(allowed, ", ")+" or custom.<name>")
		}
		if seen[f] {
			v.add("fields", f+" is listed twice")
		}
		seen[f] = true
	}
	if m.PhoneRegion != "" && (len(m.PhoneRegion) != 2 || strings.Trim(m.PhoneRegion, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		v.add("phone_region", "must be an ISO 3166-1 alpha-2 code such as ES or TW")
	}
	return v.Err()
}

// Form modes.
const (
	FormContactsAndLeads = "contacts_and_leads"
	FormLeadsOnly        = "leads_only"
	FormContactsOnly     = "contacts_only"
	FormStoreOnly        = "store_only"
)

// FormModes lists the form modes.
var FormModes = []string{FormContactsAndLeads, FormLeadsOnly, FormContactsOnly, FormStoreOnly}

// FormFieldTypes lists the input types of form fields.
var FormFieldTypes = []string{"text", "email", "phone", "number", "textarea", "choice", "checkbox", "date", "hidden"}

// FormField is one input of a marketing form and where its value goes.
type FormField struct {
	Name     string   `json:"name"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Target   string   `json:"target"` // contact.email, lead.topic, contact.custom.x, lead.custom.y, or "" to keep it only in the submission
	Required bool     `json:"required"`
	Choices  []string `json:"choices"`
}

// FormConsent is a consent checkbox for one purpose.
type FormConsent struct {
	Purpose  string `json:"purpose"` // commercial_email or tracking
	Label    string `json:"label"`
	Required bool   `json:"required"`
}

// FormTargets lists the built-in targets a form field can fill.
var FormTargets = []string{
	"contact.first_name", "contact.last_name", "contact.email", "contact.phone", "contact.job_title",
	"lead.topic", "lead.description", "lead.campaign", "account.name",
}

// Form is a marketing form: a landing page or embedded form whose submissions
// become contacts, leads and form-submitted interactions.
type Form struct {
	ID                ID            `json:"id"`
	Name              string        `json:"name"`
	Fields            []FormField   `json:"fields"`
	Consents          []FormConsent `json:"consents"`
	Mode              string        `json:"mode"`
	AlwaysCreateLead  bool          `json:"always_create_lead"`
	ContactStrategyID *ID           `json:"contact_strategy_id"`
	LeadStrategyID    *ID           `json:"lead_strategy_id"`
	LeadTopic         string        `json:"lead_topic"`
	Campaign          string        `json:"campaign"`
	SubmitLabel       string        `json:"submit_label"`
	ThankYouMessage   string        `json:"thank_you_message"`
	RedirectURL       string        `json:"redirect_url"`
	Active            bool          `json:"active"`
	// DoubleOptIn makes a ticked commercial_email box pending until the
	// submitter follows the link of ConfirmationEmailID, a transactional
	// template with {{consent.confirm_url}}.
	DoubleOptIn         bool      `json:"double_opt_in"`
	ConfirmationEmailID *ID       `json:"confirmation_email_id"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// Normalize fills defaults.
func (f *Form) Normalize() {
	f.Name = strings.TrimSpace(f.Name)
	if f.Mode == "" {
		f.Mode = FormContactsAndLeads
	}
	if f.Fields == nil {
		f.Fields = []FormField{}
	}
	if f.Consents == nil {
		f.Consents = []FormConsent{}
	}
	for i := range f.Fields {
		ff := &f.Fields[i]
		ff.Name = strings.TrimSpace(ff.Name)
		if ff.Type == "" {
			ff.Type = "text"
		}
		if ff.Label == "" {
			ff.Label = ff.Name
		}
		if ff.Choices == nil {
			ff.Choices = []string{}
		}
	}
	if f.SubmitLabel == "" {
		f.SubmitLabel = "Send"
	}
	if f.ThankYouMessage == "" {
		f.ThankYouMessage = "Thank you. We have received your details."
	}
}

// Validate checks the form.
func (f *Form) Validate() error {
	var v validator
	v.required("name", f.Name)
	v.maxLen("name", f.Name, 200)
	v.oneOf("mode", f.Mode, FormModes)
	if len(f.Fields) == 0 || len(f.Fields) > 50 {
		v.add("fields", "a form needs 1 to 50 fields")
	}
	names := map[string]bool{}
	hasEmail := false
	for i, ff := range f.Fields {
		p := "fields[" + itoa(i) + "]"
		if !ValidSlug(ff.Name) {
			v.add(p+".name", "must be a key: a lower-case letter, then letters, digits or underscores")
		}
		if names[ff.Name] {
			v.add(p+".name", "is used by two fields")
		}
		names[ff.Name] = true
		v.maxLen(p+".label", ff.Label, 300)
		v.oneOf(p+".type", ff.Type, FormFieldTypes)
		custom := strings.HasPrefix(ff.Target, "contact.custom.") || strings.HasPrefix(ff.Target, "lead.custom.")
		if ff.Target != "" && !custom && !slices.Contains(FormTargets, ff.Target) {
			v.add(p+".target", "must be one of "+strings.Join(FormTargets, ", ")+", contact.custom.<name>, lead.custom.<name>, or empty")
		}
		if ff.Type == "choice" && len(ff.Choices) == 0 {
			v.add(p+".choices", "a choice field needs choices")
		}
		if ff.Target == "contact.email" {
			hasEmail = true
		}
	}
	for i, c := range f.Consents {
		p := "consents[" + itoa(i) + "]"
		v.oneOf(p+".purpose", c.Purpose, []string{"commercial_email", "tracking"})
		v.required(p+".label", c.Label)
		v.maxLen(p+".label", c.Label, 1000)
	}
	if f.DoubleOptIn {
		if f.ConfirmationEmailID == nil {
			v.add("confirmation_email_id", "double opt-in needs a confirmation email")
		}
		if !slices.ContainsFunc(f.Consents, func(c FormConsent) bool { return c.Purpose == ConsentCommercialEmail }) {
			v.add("consents", "double opt-in needs a commercial_email consent checkbox")
		}
	}
	if !hasEmail && f.Mode != FormStoreOnly {
		v.add("fields", "a form that creates contacts or leads needs a field with target contact.email")
	}
	v.maxLen("lead_topic", f.LeadTopic, 300)
	v.maxLen("campaign", f.Campaign, 300)
	v.maxLen("thank_you_message", f.ThankYouMessage, 5000)
	if f.RedirectURL != "" {
		u, err := url.Parse(f.RedirectURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			v.add("redirect_url", "must be an absolute http or https address")
		}
	}
	return v.Err()
}

// Submission statuses.
const (
	SubmissionPending   = "pending"
	SubmissionProcessed = "processed"
	SubmissionFailed    = "failed"
	SubmissionSpam      = "spam"
)

// FormSubmission is the raw record of one submission, stored before it is
// processed so that nothing acknowledged is lost.
type FormSubmission struct {
	ID          ID                `json:"id"`
	FormID      ID                `json:"form_id"`
	Key         string            `json:"-"`
	Values      map[string]string `json:"values"`
	VisitorID   string            `json:"visitor_id"`
	IP          string            `json:"-"`
	UserAgent   string            `json:"user_agent"`
	Status      string            `json:"status"`
	Attempts    int               `json:"attempts"`
	LastError   string            `json:"last_error"`
	Result      *CaptureResult    `json:"result"`
	ReceivedAt  time.Time         `json:"received_at"`
	ProcessedAt *time.Time        `json:"processed_at"`
}

// Registration statuses.
const (
	RegistrationRegistered = "registered"
	RegistrationWaitlisted = "waitlisted"
	RegistrationCanceled   = "canceled"
	RegistrationAttended   = "attended"
)

// Event is something contacts register for and attend: a webinar, a fair, a
// demo day. Registrations create leads with the event as marketing context.
type Event struct {
	ID                ID         `json:"id"`
	Name              string     `json:"name"`
	Description       string     `json:"description"`
	Location          string     `json:"location"`
	StartsAt          *time.Time `json:"starts_at"`
	EndsAt            *time.Time `json:"ends_at"`
	Capacity          int64      `json:"capacity"` // 0 = unlimited
	Waitlist          bool       `json:"waitlist"`
	RegistrationOpen  bool       `json:"registration_open"`
	LeadTopic         string     `json:"lead_topic"`
	Campaign          string     `json:"campaign"`
	ContactStrategyID *ID        `json:"contact_strategy_id"`
	LeadStrategyID    *ID        `json:"lead_strategy_id"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Normalize trims text.
func (e *Event) Normalize() {
	e.Name = strings.TrimSpace(e.Name)
	e.Location = strings.TrimSpace(e.Location)
}

// Validate checks the event.
func (e *Event) Validate() error {
	var v validator
	v.required("name", e.Name)
	v.maxLen("name", e.Name, 300)
	v.maxLen("description", e.Description, 10000)
	v.maxLen("location", e.Location, 500)
	v.maxLen("lead_topic", e.LeadTopic, 300)
	v.maxLen("campaign", e.Campaign, 300)
	if e.Capacity < 0 {
		v.add("capacity", "must not be negative (0 means unlimited)")
	}
	if e.StartsAt != nil && e.EndsAt != nil && e.EndsAt.Before(*e.StartsAt) {
		v.add("ends_at", "must not be before starts_at")
	}
	return v.Err()
}

// Registration is a contact's place at an event.
type Registration struct {
	ID           ID         `json:"id"`
	EventID      ID         `json:"event_id"`
	ContactID    ID         `json:"contact_id"`
	LeadID       *ID        `json:"lead_id"`
	Status       string     `json:"status"`
	RegisteredAt time.Time  `json:"registered_at"`
	CheckedInAt  *time.Time `json:"checked_in_at"`
}
