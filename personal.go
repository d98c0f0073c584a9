package leadcycle

import (
	"context"
	"strings"
	"time"
)

// Personal data (GDPR): everything stored about one contact can be exported
// as one document and erased in one transaction, and both are written to an
// audit log that holds ids, counts and reasons, never the personal data.

// PersonalDataFormat and PersonalDataVersion identify the export document.
// The version changes when a section is removed or changes meaning; new
// sections may be added without a new version.
const (
	PersonalDataFormat  = "leadcycle.personal-data"
	PersonalDataVersion = 1
)

// Audit actions and subject types.
const (
	AuditPersonalDataExported = "personal_data.exported"
	AuditContactErased        = "contact.erased"
	AuditSubjectContact       = "contact"
)

// AuditActions lists every audit action.
var AuditActions = []string{AuditPersonalDataExported, AuditContactErased}

// MaxErasureReason is the longest erasure reason, in characters.
const MaxErasureReason = 1000

// PersonalDataStore exports and erases the personal data of contacts and
// keeps the audit log of both.
type PersonalDataStore interface {
	// ExportPersonalData writes everything stored about the contact to w,
	// section by section, as it reads it, and records the export in the
	// audit log before the first section. An unknown contact is an ENotFound
	// error, returned before anything is written.
	ExportPersonalData(ctx context.Context, contactID ID, w PersonalDataWriter) error
	// EraseContact deletes the contact and everything stored about it, in
	// one transaction, and records the erasure (counts and reason, no
	// personal data) in the audit log. Business records that outlive the
	// person (opportunities) are kept without their link to the contact. An
	// unknown or already erased contact is an ENotFound error.
	EraseContact(ctx context.Context, contactID ID, reason string) (*ErasureReport, error)
	// AuditLog lists audit entries, newest first. Filters: action and
	// subject_id (equality).
	AuditLog(ctx context.Context, q ListQuery) (Page[AuditEntry], error)
}

// PersonalDataWriter receives an export as the store reads it, so that an
// export of any size streams: a section holds one value, or a list of items
// given one at a time.
type PersonalDataWriter interface {
	// Begin starts the document; it is called once, before any section.
	Begin(h PersonalDataHeader) error
	// Value writes a section that holds one value (nil for none).
	Value(section string, v any) error
	// List starts a section that holds a list; the next section, or End,
	// closes it.
	List(section string) error
	// Item appends an item to the list started last.
	Item(v any) error
	// End closes the document.
	End() error
}

// PersonalDataHeader opens an export document.
type PersonalDataHeader struct {
	Format     string    `json:"format"`
	Version    int       `json:"format_version"`
	ExportedAt time.Time `json:"exported_at"`
	ContactID  ID        `json:"contact_id"`
}

// AccountRef names the account of an exported contact: the account is the
// company's record, so only its reference and name are exported.
type AccountRef struct {
	ID   ID     `json:"id"`
	Name string `json:"name"`
}

// ExportedSubmission is a raw form submission as exported: everything
// stored, the address it was sent from included.
type ExportedSubmission struct {
	ID          ID                `json:"id"`
	FormID      ID                `json:"form_id"`
	Values      map[string]string `json:"values"`
	VisitorID   string            `json:"visitor_id"`
	IP          string            `json:"ip"`
	UserAgent   string            `json:"user_agent"`
	Status      string            `json:"status"`
	Attempts    int               `json:"attempts"`
	LastError   string            `json:"last_error"`
	Result      *CaptureResult    `json:"result"`
	ReceivedAt  time.Time         `json:"received_at"`
	ProcessedAt *time.Time        `json:"processed_at"`
}

// CaptureLogEntry records that an external submission (a form submission, a
// LinkedIn response) was captured, and with which result.
type CaptureLogEntry struct {
	Source     string         `json:"source"`
	ExternalID string         `json:"external_id"`
	Result     *CaptureResult `json:"result"`
	CreatedAt  time.Time      `json:"created_at"`
}

// LinkedInRecord is a LinkedIn Lead Gen Forms response that a connection
// processed.
type LinkedInRecord struct {
	ConnectionID  ID        `json:"connection_id"`
	SubmissionID  string    `json:"submission_id"`
	Status        string    `json:"status"`
	SubmittedAt   time.Time `json:"submitted_at"`
	ContactID     *ID       `json:"contact_id"`
	LeadID        *ID       `json:"lead_id"`
	InteractionID *ID       `json:"interaction_id"`
	Error         string    `json:"error"`
	ProcessedAt   time.Time `json:"processed_at"`
}

// ErasureReport says what an erasure removed. Deleted counts the rows
// deleted per kind; Unlinked counts the rows kept without their link to the
// contact (opportunities, which are business records, and LinkedIn
// responses, kept as bare ids so that a later sync does not capture the
// person again); Rescored counts the account-based leads queued for
// rescoring because their account lost the contact's interactions.
type ErasureReport struct {
	ContactID      ID               `json:"contact_id"`
	ErasedAt       time.Time        `json:"erased_at"`
	AuditEntryID   ID               `json:"audit_entry_id"`
	Deleted        map[string]int64 `json:"deleted"`
	Unlinked       map[string]int64 `json:"unlinked"`
	Rescored       int64            `json:"rescored"`
	OpportunityIDs []ID             `json:"opportunity_ids"`
}

// AuditEntry is one line of the audit log: who did what to which subject.
// Detail holds counts, ids and reasons, never personal data.
type AuditEntry struct {
	ID          ID             `json:"id"`
	At          time.Time      `json:"at"`
	Actor       string         `json:"actor"`
	Action      string         `json:"action"`
	SubjectType string         `json:"subject_type"`
	SubjectID   ID             `json:"subject_id"`
	Detail      map[string]any `json:"detail"`
}

// AuditLogFilters are the filters of the audit log list.
var AuditLogFilters = []FilterSpec{
	{Param: "action", Column: "action", Op: OpEq, Kind: KindString, Allowed: AuditActions, Doc: "equal to"},
	{Param: "subject_id", Column: "subject_id", Op: OpEq, Kind: KindID, Doc: "the id of the contact"},
}

// CheckErasureReason validates the reason of an erasure request: required,
// at most MaxErasureReason characters, and, when the contact is given, free
// of its email, phone and full name, since the reason is kept in the audit
// log.
func CheckErasureReason(reason string, c *Contact) error {
	var v validator
	v.required("reason", reason)
	v.maxLen("reason", reason, MaxErasureReason)
	if err := v.Err(); err != nil || c == nil {
		return err
	}
	lower := strings.ToLower(reason)
	kept := []string{c.Email, c.Phone}
	if c.FirstName != "" && c.LastName != "" {
		kept = append(kept, c.FirstName+" "+c.LastName)
	}
	for _, s := range kept {
		if s != "" && strings.Contains(lower, strings.ToLower(s)) {
			return FieldErrorf(EInvalid, "reason", "must not contain the contact's email, phone or name: the reason is kept in the audit log")
		}
	}
	return nil
}
