package leadcycle

import (
	"context"
	"strings"
	"time"
)

// EmailTemplate is a marketing email: a subject, an HTML body and a text
// body with placeholders ({{contact.first_name | "there"}}, {{account.name}},
// {{unsubscribe_url}}). Interactions about it (sent, opened, clicked) carry
// its id as email_id.
type EmailTemplate struct {
	ID        ID     `json:"id"`
	Name      string `json:"name"`
	Subject   string `json:"subject"`
	HTML      string `json:"html"`
	Text      string `json:"text"`
	FromName  string `json:"from_name"`
	FromEmail string `json:"from_email"`
	ReplyTo   string `json:"reply_to"`
	// Consent names the purpose a recipient must have granted: commercial
	// email (the default), or "none" for transactional messages such as a
	// double opt-in confirmation.
	Purpose   string    `json:"purpose"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Email purposes.
const (
	PurposeCommercial    = "commercial"
	PurposeTransactional = "transactional"
)

// Normalize trims text and fills defaults.
func (t *EmailTemplate) Normalize() {
	t.Name = strings.TrimSpace(t.Name)
	t.Subject = strings.TrimSpace(t.Subject)
	t.FromName = strings.TrimSpace(t.FromName)
	t.FromEmail = strings.ToLower(strings.TrimSpace(t.FromEmail))
	t.ReplyTo = strings.ToLower(strings.TrimSpace(t.ReplyTo))
	if t.Purpose == "" {
		t.Purpose = PurposeCommercial
	}
}

// Validate checks the template's own fields; the placeholders are checked by
// package email against the field schema.
func (t *EmailTemplate) Validate() error {
	var v validator
	v.required("name", t.Name)
	v.maxLen("name", t.Name, 200)
	v.required("subject", t.Subject)
	v.maxLen("subject", t.Subject, 500)
	if strings.ContainsAny(t.Subject, "\r\n") {
		v.add("subject", "must be one line")
	}
	if strings.TrimSpace(t.HTML) == "" && strings.TrimSpace(t.Text) == "" {
		v.add("html", "an email needs an HTML or a text body")
	}
	if len(t.HTML) > 512<<10 {
		v.add("html", "must be at most 512 KiB")
	}
	if len(t.Text) > 256<<10 {
		v.add("text", "must be at most 256 KiB")
	}
	v.maxLen("from_name", t.FromName, 200)
	if strings.ContainsAny(t.FromName, "\r\n") {
		v.add("from_name", "must be one line")
	}
	if t.FromEmail != "" {
		v.email("from_email", t.FromEmail)
	}
	if t.ReplyTo != "" {
		v.email("reply_to", t.ReplyTo)
	}
	v.oneOf("purpose", t.Purpose, []string{PurposeCommercial, PurposeTransactional})
	return v.Err()
}

// Email send statuses.
const (
	SendQueued  = "queued"
	SendSent    = "sent"
	SendSkipped = "skipped" // no consent, or the address bounced before
	SendBounced = "bounced" // the server refused the address for good
	SendFailed  = "failed"  // gave up after retries, or could not be built
)

// EmailSend is one email to one contact: queued by a journey step (or a
// double opt-in), then sent by the mailer.
type EmailSend struct {
	ID         ID         `json:"id"`
	TemplateID ID         `json:"template_id"`
	ContactID  ID         `json:"contact_id"`
	LeadID     *ID        `json:"lead_id"`
	JourneyID  *ID        `json:"journey_id"`
	Step       string     `json:"step"`
	ToEmail    string     `json:"to_email"`
	Status     string     `json:"status"`
	Reason     string     `json:"reason"`
	Attempts   int        `json:"attempts"`
	MessageID  string     `json:"message_id"`
	CreatedAt  time.Time  `json:"created_at"`
	SentAt     *time.Time `json:"sent_at"`
	// Confirm is set for a double opt-in confirmation: the message carries
	// the link that grants the purpose.
	Confirm string `json:"confirm,omitempty"`
}

// Suppression is an address no email goes to: it bounced, or it was
// reported as a complaint.
type Suppression struct {
	Email     string    `json:"email"`
	Reason    string    `json:"reason"`
	Detail    string    `json:"detail"`
	CreatedAt time.Time `json:"created_at"`
}

// Suppression reasons.
const (
	SuppressBounce    = "bounce"
	SuppressComplaint = "complaint"
)

// EmailContext is what a send is rendered with: the template, and the
// contact with its account and lead.
type EmailContext struct {
	Send     EmailSend
	Template EmailTemplate
	Contact  Contact
	Account  *Account
	Lead     *Lead
}

// EmailStore keeps the email queue and the suppression list.
type EmailStore interface {
	// ClaimSends leases up to max queued sends that are due, for lease, and
	// returns them with what they are rendered with. A send whose contact
	// no longer consents, or whose address is suppressed, is marked skipped
	// instead and not returned.
	ClaimSends(ctx context.Context, max int, lease time.Duration) ([]EmailContext, error)
	// MarkSent records the send as sent (with an email_sent interaction).
	MarkSent(ctx context.Context, id ID, messageID string) error
	// MarkFailed records a failed attempt: permanent failures bounce (the
	// address is suppressed), others are retried after retry, up to a limit.
	MarkFailed(ctx context.Context, id ID, permanent bool, reason string, retry time.Duration) error
	// Sends lists sends, newest first.
	Sends(ctx context.Context, q ListQuery) (Page[EmailSend], error)
	// Suppress adds an address to the suppression list (bounce or
	// complaint); queued sends to it are skipped.
	Suppress(ctx context.Context, s Suppression) error
	// Suppressions lists the suppression list; Unsuppress removes one.
	Suppressions(ctx context.Context, q ListQuery) (Page[Suppression], error)
	Unsuppress(ctx context.Context, email string) error
	// Unsubscribe denies commercial email for the contact (one click from
	// a message); it reports whether the consent changed.
	Unsubscribe(ctx context.Context, contactID ID, emailID string) (bool, error)
	// ConfirmConsent grants the purpose a double opt-in asked for.
	ConfirmConsent(ctx context.Context, contactID ID, purpose string) (bool, error)
}

func init() {
	ListSpecs["email-templates"] = ListSpec{
		Filters: append([]FilterSpec{eq("purpose", KindString, PurposeCommercial, PurposeTransactional)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	}
	ListSpecs["email-sends"] = ListSpec{
		Filters: []FilterSpec{eq("status", KindString, SendQueued, SendSent, SendSkipped, SendBounced, SendFailed), eq("contact_id", KindID), eq("journey_id", KindID), eq("template_id", KindID)},
		Sorts:   []string{"created_at"},
	}
	ListSpecs["suppressions"] = ListSpec{
		Filters: []FilterSpec{eq("reason", KindString, SuppressBounce, SuppressComplaint)},
		Sorts:   []string{"created_at"},
	}
}
