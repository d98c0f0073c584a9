package leadcycle

import (
	"context"
	"time"
)

// Record is the constraint satisfied by every record type kept in a Repo.
type Record interface {
	Contact | Account | Lead | Opportunity | Interaction | Task | FieldDef | MatchingStrategy | Form | Event | TrackingSite | ScoringModel | Process | User | Webhook | ImportJob | ImportMapping | Segment | Journey | EmailTemplate
}

// Repo stores one kind of record.
type Repo[T Record] interface {
	// Create stores v, assigning its id and timestamps. References to other
	// records are checked; a missing one is an EInvalid error naming the field.
	Create(ctx context.Context, v *T) error
	// Get returns the record with the id, or an ENotFound error.
	Get(ctx context.Context, id ID) (*T, error)
	// Update loads the record, lets fn change it and stores the result, all in
	// one transaction; an error from fn aborts the update and is returned.
	Update(ctx context.Context, id ID, fn func(*T) error) (*T, error)
	// Delete removes the record, or returns an ENotFound error.
	Delete(ctx context.Context, id ID) error
	// List returns one page of records matching the query.
	List(ctx context.Context, q ListQuery) (Page[T], error)
}

// Page is one page of a list; NextCursor is empty on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// Filter operators.
const (
	OpEq        = "eq"           // column = value
	OpGTE       = "gte"          // column >= value
	OpLT        = "lt"           // column < value
	OpNull      = "null"         // every column IS NULL
	OpAnyNotNul = "any_not_null" // at least one column IS NOT NULL
)

// Filter restricts a list: Columns Op Value. OpNull and OpAnyNotNul ignore
// Value unless it is false, which negates them (has_parent=false).
type Filter struct {
	Columns []string
	Op      string
	Value   any
}

// ListQuery asks for one page of a list. Sort is a column from the record's
// ListSpec; the cursor comes from a previous page of the same query.
type ListQuery struct {
	Filters []Filter
	Sort    string
	Desc    bool
	Limit   int
	Cursor  string
}

// Filter value kinds, used to parse query parameters.
const (
	KindID     = "id"
	KindString = "string"
	KindBool   = "bool"
	KindTime   = "time"
)

// FilterSpec describes one list filter offered to clients.
type FilterSpec struct {
	Param   string   // query parameter name
	Column  string   // column it filters
	Op      string   // operator
	Kind    string   // how the parameter's value is parsed
	Allowed []string // for strings: the allowed values, if restricted
	Doc     string
}

// ListSpec is the allowlist of filters and sort columns of one record type.
type ListSpec struct {
	Filters []FilterSpec
	Sorts   []string // the first is the default
}

// DefaultLimit and MaxLimit bound the page size.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

func timeFilters() []FilterSpec {
	return []FilterSpec{
		{Param: "created_since", Column: "created_at", Op: OpGTE, Kind: KindTime, Doc: "created at or after this RFC 3339 time"},
		{Param: "created_before", Column: "created_at", Op: OpLT, Kind: KindTime, Doc: "created before this RFC 3339 time"},
		{Param: "updated_since", Column: "updated_at", Op: OpGTE, Kind: KindTime, Doc: "updated at or after this RFC 3339 time"},
		{Param: "updated_before", Column: "updated_at", Op: OpLT, Kind: KindTime, Doc: "updated before this RFC 3339 time"},
	}
}

func eq(param, kind string, allowed ...string) FilterSpec {
	return FilterSpec{Param: param, Column: param, Op: OpEq, Kind: kind, Allowed: allowed, Doc: "equal to"}
}

// ListSpecs holds the list filters and sorts per collection name.
var ListSpecs = map[string]ListSpec{
	"contacts": {
		Filters: append([]FilterSpec{eq("email", KindString), eq("account_id", KindID), eq("owner_id", KindID), eq("origin", KindString, Sources...)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "last_name", "email"},
	},
	"accounts": {
		Filters: append([]FilterSpec{eq("domain", KindString), eq("industry", KindString), eq("country", KindString), eq("owner_id", KindID)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"leads": {
		Filters: append([]FilterSpec{
			eq("status", KindString, LeadStatuses...), eq("status_reason", KindString), eq("stage", KindString),
			eq("source", KindString, Sources...), eq("campaign", KindString), eq("contact_id", KindID), eq("account_id", KindID),
			eq("form_id", KindID), eq("event_id", KindID), eq("journey_id", KindID), eq("process_id", KindID), eq("owner_id", KindID),
			eq("telesales_ready", KindBool), eq("telesales_accepted", KindBool), eq("sales_ready", KindBool), eq("sales_accepted", KindBool),
			{Param: "has_parent", Column: "contact_id,account_id", Op: OpAnyNotNul, Kind: KindBool, Doc: "false lists leads with neither a parent contact nor a parent account"},
		}, timeFilters()...),
		Sorts: []string{"created_at", "updated_at", "topic"},
	},
	"opportunities": {
		Filters: append([]FilterSpec{eq("status", KindString, OpportunityStatuses...), eq("lead_id", KindID), eq("contact_id", KindID), eq("account_id", KindID), eq("owner_id", KindID)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"interactions": {
		Filters: []FilterSpec{
			eq("type", KindString), eq("contact_id", KindID), eq("lead_id", KindID), eq("account_id", KindID),
			{Param: "occurred_since", Column: "occurred_at", Op: OpGTE, Kind: KindTime, Doc: "occurred at or after this RFC 3339 time"},
			{Param: "occurred_before", Column: "occurred_at", Op: OpLT, Kind: KindTime, Doc: "occurred before this RFC 3339 time"},
		},
		Sorts: []string{"occurred_at", "created_at"},
	},
	"tasks": {
		Filters: append([]FilterSpec{eq("status", KindString, TaskStatuses...), eq("queue", KindString, TaskQueues...), eq("kind", KindString, TaskKinds...), eq("assignee_id", KindID), eq("lead_id", KindID), eq("contact_id", KindID),
			{Param: "due_before", Column: "due_at", Op: OpLT, Kind: KindTime, Doc: "due before this RFC 3339 time"}}, timeFilters()...),
		Sorts: []string{"created_at", "updated_at", "due_at"},
	},
	"fields": {
		Filters: []FilterSpec{eq("entity", KindString, CustomEntities...)},
		Sorts:   []string{"created_at"},
	},
	"matching-strategies": {
		Filters: []FilterSpec{eq("kind", KindString, StrategyContact, StrategyLead), eq("is_default", KindBool)},
		Sorts:   []string{"created_at", "name"},
	},
	"forms": {
		Filters: append([]FilterSpec{eq("mode", KindString, FormModes...), eq("active", KindBool)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"processes": {
		Filters: append([]FilterSpec{eq("key", KindString), eq("is_default", KindBool)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"users": {
		Filters: append([]FilterSpec{eq("email", KindString), eq("role", KindString, Roles...), eq("active", KindBool)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name", "email"},
	},
	"webhooks": {
		Filters: append([]FilterSpec{eq("active", KindBool)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"scoring-models": {
		Filters: append([]FilterSpec{eq("key", KindString), eq("status", KindString, ModelDraft, ModelLive, ModelStopped), eq("target", KindString, ScoringTargets...)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"imports": {
		Filters: append([]FilterSpec{eq("status", KindString, ImportStatuses...), {Param: "entity", Column: "entity", Op: OpEq, Kind: KindString, Allowed: ImportEntities, Doc: "equal to"}}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at"},
	},
	"import-mappings": {
		Filters: append([]FilterSpec{eq("entity", KindString, ImportEntities...), eq("name", KindString)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"segments": {
		Filters: append([]FilterSpec{eq("key", KindString), eq("kind", KindString, SegmentKinds...)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	},
	"events": {
		Filters: append([]FilterSpec{eq("registration_open", KindBool),
			{Param: "starts_since", Column: "starts_at", Op: OpGTE, Kind: KindTime, Doc: "starting at or after this RFC 3339 time"}}, timeFilters()...),
		Sorts: []string{"created_at", "updated_at", "name"},
	},
}

// APIKeyStore keeps API keys.
type APIKeyStore interface {
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash returns the unrevoked key with the hash, or ENotFound.
	APIKeyByHash(ctx context.Context, hash string) (*APIKey, error)
	ListAPIKeys(ctx context.Context) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, id ID) error
	TouchAPIKey(ctx context.Context, id ID, at time.Time) error
}

// SubmissionStore keeps raw form submissions.
type SubmissionStore interface {
	// SaveSubmission stores a raw submission. When one with the same form and
	// key exists it is loaded into sub instead, and created is false.
	SaveSubmission(ctx context.Context, sub *FormSubmission) (created bool, err error)
	// PendingSubmissions returns submissions still to process, oldest first,
	// received before the given time.
	PendingSubmissions(ctx context.Context, before time.Time, limit int) ([]FormSubmission, error)
	// FinishSubmission records the outcome of processing.
	FinishSubmission(ctx context.Context, id ID, status string, result *CaptureResult, errMsg string) error
	// ListSubmissions returns the latest submissions of a form, newest first.
	ListSubmissions(ctx context.Context, formID ID, limit int) ([]FormSubmission, error)
}

// RegistrationStore keeps event registrations.
type RegistrationStore interface {
	// Register gives the contact a place at the event — registered, or
	// waitlisted when the event is full and has a waitlist — and records an
	// event_registered interaction. Registering twice returns the existing
	// registration. A full event without a waitlist is an EConflict error.
	Register(ctx context.Context, eventID, contactID ID, leadID *ID) (reg Registration, created bool, err error)
	// CheckIn marks the contact as attended and records an event_attended
	// interaction; checking in twice changes nothing.
	CheckIn(ctx context.Context, eventID, contactID ID) (Registration, error)
	// Cancel cancels a registration and gives its place to the first
	// waitlisted contact.
	Cancel(ctx context.Context, eventID, contactID ID) (Registration, error)
	// Registrations lists the registrations of an event in order of arrival.
	Registrations(ctx context.Context, eventID ID) ([]Registration, error)
}

// Store is the whole storage of leadcycle.
type Store interface {
	Contacts() Repo[Contact]
	Accounts() Repo[Account]
	Leads() Repo[Lead]
	Opportunities() Repo[Opportunity]
	Interactions() Repo[Interaction]
	Tasks() Repo[Task]
	Fields() Repo[FieldDef]
	APIKeys() APIKeyStore
	Strategies() Repo[MatchingStrategy]
	Forms() Repo[Form]
	Events() Repo[Event]
	Submissions() SubmissionStore
	Registrations() RegistrationStore
	ScoringModels() Repo[ScoringModel]
	Scoring() ScoringStore
	Processes() Repo[Process]
	Users() Repo[User]
	Webhooks() Repo[Webhook]
	Workflow() WorkflowStore
	WebhookDeliveries() WebhookStore
	Imports() ImportStore
	Logins() LoginStore
	ImportMappings() Repo[ImportMapping]
	Segments() Repo[Segment]
	// SegmentMembers keeps segment membership: static lists, and dynamic
	// segments kept live as data changes.
	SegmentMembers() SegmentStore
	Journeys() Repo[Journey]
	// JourneyRuns moves contacts through live journeys.
	JourneyRuns() JourneyStore
	EmailTemplates() Repo[EmailTemplate]
	// Emails keeps the email queue, the suppression list and consent
	// changes made from messages.
	Emails() EmailStore
	// PersonalData exports and erases the personal data of contacts (GDPR)
	// and keeps the audit log of both.
	PersonalData() PersonalDataStore
	// AddInteractions stores a batch of interactions in one transaction: all
	// of them or, on the first invalid one, none (the error names it).
	AddInteractions(ctx context.Context, items []Interaction) error
	Capturer
	TrackingStore
	// Schema returns the custom field definitions of an entity.
	Schema(ctx context.Context, entity string) (Schema, error)
	// LeadStats counts the leads for the dashboards as of now.
	LeadStats(ctx context.Context, now time.Time) (*LeadStats, error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// Close releases the database.
	Close() error
}
