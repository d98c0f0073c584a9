package leadcycle

import (
	"context"
	"time"
)

// CaptureInput is one inbound expression of interest — a form submission, an
// event registration, a LinkedIn lead form response, an import row — to be
// matched against existing contacts and leads and recorded.
type CaptureInput struct {
	// Source is where it came from: form, event, linkedin, import.
	Source string
	// Contact holds the submitted contact fields; empty fields are "not given".
	Contact Contact
	// Lead holds the submitted lead fields (topic, campaign, form_id, event_id,
	// custom…); nil when no lead is wanted.
	Lead *Lead
	// ContactStrategyID and LeadStrategyID choose the matching strategies; zero
	// means the default strategy of that kind.
	ContactStrategyID ID
	LeadStrategyID    ID
	// NoContact makes a lead-only capture: an existing contact is matched and
	// linked, but no contact is created or updated.
	NoContact bool
	// AlwaysCreateLead creates a new lead even when one matches.
	AlwaysCreateLead bool
	// Interaction, when set, is recorded for the contact (and lead) — its
	// Type, OccurredAt and Properties are used.
	Interaction *Interaction
	// ExternalID identifies the submission at its origin (a LinkedIn
	// submission id, an idempotency key). The same ExternalID with the same
	// Source is captured once: a repeat returns the first result.
	ExternalID string
	// Given lists the fields the submission carried ("contact.email",
	// "contact.phone"…). With a strategy that does not ignore empty values, a
	// given empty field clears the matched record's value. Nil means every
	// non-empty field counts as given.
	Given []string
	// SubmissionID, when set, is the raw form submission this capture
	// processes; it is marked processed in the same transaction.
	SubmissionID ID
	// VisitorID is the website visitor id of the submitter, if known; its
	// anonymous visits are attributed to the contact.
	VisitorID string
	// ConfirmationEmailID, when set, makes a commercial_email grant a double
	// opt-in: the contact's consent becomes pending (unless it is already
	// granted) and this transactional email, carrying the confirmation link,
	// is queued for the contact in the same transaction.
	ConfirmationEmailID ID
}

// CaptureResult says what a capture did, and why.
type CaptureResult struct {
	ContactID      *ID       `json:"contact_id"`
	LeadID         *ID       `json:"lead_id"`
	InteractionID  *ID       `json:"interaction_id"`
	ContactCreated bool      `json:"contact_created"`
	LeadCreated    bool      `json:"lead_created"`
	Repeated       bool      `json:"repeated"` // the ExternalID was captured before; nothing new was written
	Explanation    []string  `json:"explanation"`
	CapturedAt     time.Time `json:"captured_at"`
}

// Capturer matches and records inbound contacts and leads atomically:
// concurrent captures of the same identity never create two records.
type Capturer interface {
	Capture(ctx context.Context, in CaptureInput) (CaptureResult, error)
}
