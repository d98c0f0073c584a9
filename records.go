package leadcycle

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sources say where a contact or lead came from.
const (
	SourceManual   = "manual"
	SourceAPI      = "api"
	SourceForm     = "form"
	SourceEvent    = "event"
	SourceLinkedIn = "linkedin"
	SourceImport   = "import"
	SourceJourney  = "journey"
)

// Sources lists every valid source.
var Sources = []string{SourceManual, SourceAPI, SourceForm, SourceEvent, SourceLinkedIn, SourceImport, SourceJourney}

// Consent states for one purpose.
const (
	ConsentUnknown = "unknown"
	ConsentGranted = "granted"
	ConsentDenied  = "denied"
	// ConsentPending is a grant waiting for its double opt-in
	// confirmation: it does not count as granted.
	ConsentPending = "pending"
)

// ConsentStates lists every valid consent state.
var ConsentStates = []string{ConsentUnknown, ConsentGranted, ConsentDenied, ConsentPending}

// Consent purposes.
const (
	ConsentCommercialEmail = "commercial_email"
	ConsentTracking        = "tracking"
)

// Consent is a contact's consent per purpose.
type Consent struct {
	CommercialEmail string `json:"commercial_email"`
	Tracking        string `json:"tracking"`
}

func (c *Consent) normalize() {
	if c.CommercialEmail == "" {
		c.CommercialEmail = ConsentUnknown
	}
	if c.Tracking == "" {
		c.Tracking = ConsentUnknown
	}
}

// Custom holds the values of the custom fields declared for an entity.
type Custom map[string]any

// Text returns a custom value as text, as a file or a match key writes it:
// numbers without exponent or trailing zeros, true/false; "" when it is not
// set (values are strings, numbers or booleans, as their types allow).
func (c Custom) Text(name string) string {
	switch v := c[name].(type) {
	case string:
		return v
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	default:
		return ""
	}
}

// Contact is a person; everything in marketing centres on contacts.
type Contact struct {
	ID        ID        `json:"id"`
	FirstName string    `json:"first_name"`
	LastName  string    `json:"last_name"`
	Email     string    `json:"email"`
	Phone     string    `json:"phone"`
	JobTitle  string    `json:"job_title"`
	AccountID *ID       `json:"account_id"`
	OwnerID   *ID       `json:"owner_id"`
	Consent   Consent   `json:"consent"`
	Origin    string    `json:"origin"`
	Custom    Custom    `json:"custom"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Normalize trims text and fills defaults; it never fails.
func (c *Contact) Normalize() {
	c.FirstName = strings.TrimSpace(c.FirstName)
	c.LastName = strings.TrimSpace(c.LastName)
	c.Email = NormalizeEmail(c.Email)
	c.Phone = strings.TrimSpace(c.Phone)
	c.JobTitle = strings.TrimSpace(c.JobTitle)
	c.Consent.normalize()
	if c.Origin == "" {
		c.Origin = SourceAPI
	}
	if c.Custom == nil {
		c.Custom = Custom{}
	}
}

// Validate checks the contact's own fields (references are checked by storage).
func (c *Contact) Validate() error {
	var v validator
	if c.FirstName == "" && c.LastName == "" && c.Email == "" && c.Phone == "" {
		v.add("email", "a contact needs at least a name, an email or a phone")
	}
	v.maxLen("first_name", c.FirstName, 200)
	v.maxLen("last_name", c.LastName, 200)
	v.email("email", c.Email)
	v.text("phone", c.Phone)
	v.phone("phone", c.Phone)
	v.maxLen("job_title", c.JobTitle, 200)
	v.oneOf("consent.commercial_email", c.Consent.CommercialEmail, ConsentStates)
	v.oneOf("consent.tracking", c.Consent.Tracking, ConsentStates)
	v.oneOf("origin", c.Origin, Sources)
	return v.Err()
}

// Account is a company. Contacts belong to at most one account.
type Account struct {
	ID        ID        `json:"id"`
	Name      string    `json:"name"`
	Website   string    `json:"website"`
	Domain    string    `json:"domain"`
	Industry  string    `json:"industry"`
	Employees *int64    `json:"employees"`
	Revenue   *float64  `json:"revenue"`
	Country   string    `json:"country"`
	OwnerID   *ID       `json:"owner_id"`
	Custom    Custom    `json:"custom"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Normalize trims text, upper-cases the country and derives the domain from
// the website when none is given.
func (a *Account) Normalize() {
	a.Name = strings.TrimSpace(a.Name)
	a.Website = strings.TrimSpace(a.Website)
	a.Domain = strings.ToLower(strings.TrimSpace(a.Domain))
	a.Industry = strings.TrimSpace(a.Industry)
	a.Country = strings.ToUpper(strings.TrimSpace(a.Country))
	if a.Domain == "" && a.Website != "" {
		a.Domain = DomainOf(a.Website)
	}
	if a.Custom == nil {
		a.Custom = Custom{}
	}
}

// DomainOf returns the host of a website address without a leading "www.".
func DomainOf(website string) string {
	s := website
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

// Validate checks the account's own fields.
func (a *Account) Validate() error {
	var v validator
	v.required("name", a.Name)
	v.maxLen("name", a.Name, 300)
	v.maxLen("website", a.Website, 500)
	v.maxLen("domain", a.Domain, 253)
	v.text("country", a.Country)
	if a.Website != "" && DomainOf(a.Website) == "" {
		v.add("website", "is not a valid web address")
	}
	if a.Domain != "" && (strings.ContainsAny(a.Domain, " /:@") || !strings.Contains(a.Domain, ".")) {
		v.add("domain", "is not a valid domain name")
	}
	v.maxLen("industry", a.Industry, 200)
	if a.Employees != nil && *a.Employees < 0 {
		v.add("employees", "must not be negative")
	}
	if a.Revenue != nil && *a.Revenue < 0 {
		v.add("revenue", "must not be negative")
	}
	if a.Country != "" && (len(a.Country) != 2 || strings.Trim(a.Country, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		v.add("country", "must be an ISO 3166-1 alpha-2 code such as ES or TW")
	}
	return v.Err()
}

// Lead statuses.
const (
	LeadOpen         = "open"
	LeadQualified    = "qualified"
	LeadDisqualified = "disqualified"
)

// LeadStatusReasons maps each lead status to its reasons; the first is the
// default when only the status is given.
var LeadStatusReasons = map[string][]string{
	LeadOpen:         {"new", "contacted", "marketing_qualified"},
	LeadQualified:    {"qualified"},
	LeadDisqualified: {"lost", "cannot_contact", "no_longer_interested", "canceled"},
}

// LeadStatuses lists the lead statuses in order.
var LeadStatuses = []string{LeadOpen, LeadQualified, LeadDisqualified}

// DefaultStage is the first stage of the shipped business process.
const DefaultStage = "inquiry"

// LeadScore is a lead's score under one scoring model.
type LeadScore struct {
	ModelID ID     `json:"model_id"`
	Score   int64  `json:"score"`
	Grade   string `json:"grade"`
}

// Lead is an expression of interest by a contact and/or account in one
// marketing context (form, event, journey or campaign).
type Lead struct {
	ID                ID          `json:"id"`
	Topic             string      `json:"topic"`
	Description       string      `json:"description"`
	PurchaseTimeframe string      `json:"purchase_timeframe"`
	PurchaseProcess   string      `json:"purchase_process"`
	BudgetAmount      *float64    `json:"budget_amount"`
	Need              string      `json:"need"`
	ContactID         *ID         `json:"contact_id"`
	AccountID         *ID         `json:"account_id"`
	Status            string      `json:"status"`
	StatusReason      string      `json:"status_reason"`
	Source            string      `json:"source"`
	FormID            *ID         `json:"form_id"`
	EventID           *ID         `json:"event_id"`
	JourneyID         *ID         `json:"journey_id"`
	Campaign          string      `json:"campaign"`
	ProcessID         *ID         `json:"process_id"`
	Stage             string      `json:"stage"`
	TelesalesReady    bool        `json:"telesales_ready"`
	TelesalesAccepted bool        `json:"telesales_accepted"`
	SalesReady        bool        `json:"sales_ready"`
	SalesAccepted     bool        `json:"sales_accepted"`
	OwnerID           *ID         `json:"owner_id"`
	Scores            []LeadScore `json:"scores"`
	Custom            Custom      `json:"custom"`
	CreatedAt         time.Time   `json:"created_at"`
	UpdatedAt         time.Time   `json:"updated_at"`
}

// Normalize fills defaults: status from reason or reason from status, stage,
// source.
func (l *Lead) Normalize() {
	l.Topic = strings.TrimSpace(l.Topic)
	l.Campaign = strings.TrimSpace(l.Campaign)
	if l.Status == "" && l.StatusReason == "" {
		l.Status = LeadOpen
	}
	if l.Status == "" {
		for status, reasons := range LeadStatusReasons {
			for _, r := range reasons {
				if r == l.StatusReason {
					l.Status = status
				}
			}
		}
	}
	if l.StatusReason == "" && l.Status != LeadDisqualified {
		if reasons, ok := LeadStatusReasons[l.Status]; ok {
			l.StatusReason = reasons[0]
		}
	}
	if l.Source == "" {
		l.Source = SourceAPI
	}
	if l.Stage == "" {
		l.Stage = DefaultStage
	}
	if l.Scores == nil {
		l.Scores = []LeadScore{}
	}
	if l.Custom == nil {
		l.Custom = Custom{}
	}
}

// Validate checks the lead's own fields.
func (l *Lead) Validate() error {
	var v validator
	v.required("topic", l.Topic)
	v.maxLen("topic", l.Topic, 300)
	v.maxLen("description", l.Description, 10000)
	v.maxLen("campaign", l.Campaign, 300)
	if reasons, ok := LeadStatusReasons[l.Status]; !ok {
		v.oneOf("status", l.Status, LeadStatuses)
	} else if l.StatusReason == "" {
		v.add("status_reason", "is required when the lead is disqualified: one of "+strings.Join(reasons, ", "))
	} else {
		v.oneOf("status_reason", l.StatusReason, reasons)
	}
	v.oneOf("source", l.Source, Sources)
	v.oneOf("purchase_timeframe", l.PurchaseTimeframe, PurchaseTimeframes)
	v.oneOf("purchase_process", l.PurchaseProcess, PurchaseProcesses)
	v.oneOf("need", l.Need, Needs)
	if l.BudgetAmount != nil && *l.BudgetAmount < 0 {
		v.add("budget_amount", "must not be negative")
	}
	if !ValidSlug(l.Stage) {
		v.add("stage", "must be a stage key: lower-case letters, digits and underscores")
	}
	return v.Err()
}

// HasParent reports whether the lead is linked to a contact or an account;
// only such leads can be scored or targeted.
func (l *Lead) HasParent() bool { return l.ContactID != nil || l.AccountID != nil }

// Opportunity statuses.
var OpportunityStatuses = []string{"open", "won", "lost"}

// Opportunity is created when a lead is qualified; it keeps the lead.
type Opportunity struct {
	ID                ID         `json:"id"`
	Name              string     `json:"name"`
	LeadID            *ID        `json:"lead_id"`
	ContactID         *ID        `json:"contact_id"`
	AccountID         *ID        `json:"account_id"`
	Status            string     `json:"status"`
	EstimatedValue    *float64   `json:"estimated_value"`
	Currency          string     `json:"currency"`
	ExpectedCloseDate string     `json:"expected_close_date"`
	ClosedAt          *time.Time `json:"closed_at"`
	OwnerID           *ID        `json:"owner_id"`
	Custom            Custom     `json:"custom"`
	CreatedAt         time.Time  `json:"created_at"`
	UpdatedAt         time.Time  `json:"updated_at"`
}

// Normalize fills defaults.
func (o *Opportunity) Normalize() {
	o.Name = strings.TrimSpace(o.Name)
	o.Currency = strings.ToUpper(strings.TrimSpace(o.Currency))
	if o.Status == "" {
		o.Status = "open"
	}
	if o.Custom == nil {
		o.Custom = Custom{}
	}
}

// Validate checks the opportunity's own fields.
func (o *Opportunity) Validate() error {
	var v validator
	v.required("name", o.Name)
	v.maxLen("name", o.Name, 300)
	v.oneOf("status", o.Status, OpportunityStatuses)
	v.text("expected_close_date", o.ExpectedCloseDate)
	if o.EstimatedValue != nil && *o.EstimatedValue < 0 {
		v.add("estimated_value", "must not be negative")
	}
	if o.Currency != "" && (len(o.Currency) != 3 || strings.Trim(o.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "") {
		v.add("currency", "must be an ISO 4217 code such as EUR or TWD")
	}
	if o.ExpectedCloseDate != "" {
		if _, err := time.Parse(time.DateOnly, o.ExpectedCloseDate); err != nil {
			v.add("expected_close_date", "must be a date as YYYY-MM-DD")
		}
	}
	return v.Err()
}

// SetClosed stamps ClosedAt when the opportunity is won or lost and clears it
// when it is reopened.
func (o *Opportunity) SetClosed(now time.Time) {
	switch {
	case o.Status == "open":
		o.ClosedAt = nil
	case o.ClosedAt == nil:
		o.ClosedAt = &now
	}
}

// Interaction types.
const (
	InteractionEmailSent             = "email_sent"
	InteractionEmailDelivered        = "email_delivered"
	InteractionEmailOpened           = "email_opened"
	InteractionEmailClicked          = "email_clicked"
	InteractionFormSubmitted         = "form_submitted"
	InteractionPageView              = "page_view"
	InteractionEventRegistered       = "event_registered"
	InteractionEventAttended         = "event_attended"
	InteractionLinkedInFormSubmitted = "linkedin_form_submitted"
)

// InteractionTypes lists the built-in interaction types. Custom types are
// written "custom:" followed by a lower-case key.
var InteractionTypes = []string{
	InteractionEmailSent, InteractionEmailDelivered, InteractionEmailOpened, InteractionEmailClicked,
	InteractionFormSubmitted, InteractionPageView, InteractionEventRegistered, InteractionEventAttended,
	InteractionLinkedInFormSubmitted,
}

// Interaction is something a contact did. Interactions are append-only.
type Interaction struct {
	ID         ID             `json:"id"`
	Type       string         `json:"type"`
	OccurredAt time.Time      `json:"occurred_at"`
	ContactID  ID             `json:"contact_id"`
	LeadID     *ID            `json:"lead_id"`
	AccountID  *ID            `json:"account_id"`
	Properties map[string]any `json:"properties"`
	CreatedAt  time.Time      `json:"created_at"`
}

// Normalize fills defaults.
func (i *Interaction) Normalize() {
	i.Type = strings.TrimSpace(i.Type)
	if i.Properties == nil {
		i.Properties = map[string]any{}
	}
}

// ValidInteractionType reports whether t is a built-in type or "custom:key".
func ValidInteractionType(t string) bool {
	for _, b := range InteractionTypes {
		if t == b {
			return true
		}
	}
	key, ok := strings.CutPrefix(t, "custom:")
	return ok && ValidSlug(key)
}

// Validate checks the interaction's own fields.
func (i *Interaction) Validate() error {
	var v validator
	if !ValidInteractionType(i.Type) {
		v.add("type", "must be one of "+strings.Join(InteractionTypes, ", ")+", or custom:<key>")
	}
	if i.ContactID == 0 {
		v.add("contact_id", "is required")
	}
	if len(i.Properties) > 64 {
		v.add("properties", "must have at most 64 keys")
	}
	for k, val := range i.Properties {
		field := "properties." + k
		if k == "" || len(k) > 100 {
			v.add("properties", "keys must have 1 to 100 characters")
		}
		v.text("properties", k)
		switch x := val.(type) {
		case string:
			v.maxLen(field, x, 2048)
		case float64, bool, nil:
		default:
			v.add(field, "must be a string, number, boolean or null")
		}
	}
	return v.Err()
}

// Task statuses, kinds and queues.
var (
	TaskStatuses = []string{"open", "done", "canceled"}
	TaskKinds    = []string{"call", "accept", "follow_up", "email", "meeting", "other"}
	TaskQueues   = []string{"", "telesales", "sales"}
)

// Task is work for a person or a queue: "call this lead", "accept this lead".
type Task struct {
	ID          ID         `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Kind        string     `json:"kind"`
	Queue       string     `json:"queue"`
	AssigneeID  *ID        `json:"assignee_id"`
	LeadID      *ID        `json:"lead_id"`
	ContactID   *ID        `json:"contact_id"`
	DueAt       *time.Time `json:"due_at"`
	Status      string     `json:"status"`
	CompletedAt *time.Time `json:"completed_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
}

// Normalize fills defaults.
func (t *Task) Normalize() {
	t.Title = strings.TrimSpace(t.Title)
	if t.Kind == "" {
		t.Kind = "other"
	}
	if t.Status == "" {
		t.Status = "open"
	}
}

// Validate checks the task's own fields.
func (t *Task) Validate() error {
	var v validator
	v.required("title", t.Title)
	v.maxLen("title", t.Title, 300)
	v.maxLen("description", t.Description, 10000)
	v.oneOf("kind", t.Kind, TaskKinds)
	v.oneOf("queue", t.Queue, TaskQueues)
	v.oneOf("status", t.Status, TaskStatuses)
	if t.Queue == "" && t.AssigneeID == nil {
		v.add("assignee_id", "a task needs an assignee or a queue (telesales, sales)")
	}
	return v.Err()
}

// SetCompleted stamps CompletedAt when the task is done or canceled and clears
// it when the task is reopened.
func (t *Task) SetCompleted(now time.Time) {
	switch {
	case t.Status == "open":
		t.CompletedAt = nil
	case t.CompletedAt == nil:
		t.CompletedAt = &now
	}
}
