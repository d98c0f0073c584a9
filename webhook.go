package leadcycle

import (
	"context"
	"time"
)

// Event types written to the event outbox. Webhooks subscribe to them; the
// business process and the task queues react to the lead ones.
const (
	EventLeadCreated           = "lead.created"
	EventLeadUpdated           = "lead.updated"
	EventLeadScored            = "lead.scored" // first score under a model, or a new grade
	EventLeadStageChanged      = "lead.stage_changed"
	EventLeadTelesalesAccepted = "lead.telesales_accepted"
	EventLeadSalesAccepted     = "lead.sales_accepted"
	EventLeadQualified         = "lead.qualified"
	EventLeadDisqualified      = "lead.disqualified"
	EventLeadReactivated       = "lead.reactivated"
	EventContactCreated        = "contact.created"
	EventFormSubmitted         = "form.submitted"
	EventOpportunityCreated    = "opportunity.created"
	EventTaskCreated           = "task.created"
	EventTaskAssigned          = "task.assigned"
	// EventJourneyStep is written by a journey's webhook step and delivered
	// to that step's webhook only.
	EventJourneyStep = "journey.step"
)

// EventTypes lists every event type a webhook can subscribe to.
var EventTypes = []string{
	EventLeadCreated, EventLeadUpdated, EventLeadScored, EventLeadStageChanged,
	EventLeadTelesalesReady, EventLeadTelesalesAccepted, EventLeadSalesReady, EventLeadSalesAccepted,
	EventLeadQualified, EventLeadDisqualified, EventLeadReactivated,
	EventContactCreated, EventFormSubmitted, EventOpportunityCreated, EventTaskCreated, EventTaskAssigned,
	EventSegmentEntered, EventSegmentExited,
}

// Occurrence is one entry of the event outbox: something happened, written in
// the transaction that made it happen, exactly once.
type Occurrence struct {
	ID        ID             `json:"id"`
	Type      string         `json:"type"`
	LeadID    *ID            `json:"lead_id"`
	ContactID *ID            `json:"contact_id"`
	Payload   map[string]any `json:"payload"`
	Actor     string         `json:"actor"`
	At        time.Time      `json:"at"`
	// WorkflowError says why the business process could not react to the
	// event, which was then set aside; "" when it did.
	WorkflowError string `json:"workflow_error"`
}

// Webhook is a subscription: events of the listed types are POSTed to URL,
// signed per the Standard Webhooks scheme with the subscription's secret.
type Webhook struct {
	ID          ID     `json:"id"`
	Name        string `json:"name"`
	URL         string `json:"url"`
	Description string `json:"description"`
	// Events are the event types delivered; "*" is every type.
	Events []string `json:"events"`
	Active bool     `json:"active"`
	// Secret ("whsec_" + base64) is returned only when the webhook is
	// created or its secret rotated; it is stored sealed.
	Secret    string    `json:"secret,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Webhook delivery states.
const (
	DeliveryPending   = "pending"   // waiting for its next attempt
	DeliveryDelivered = "delivered" // a 2xx answer was received
	DeliveryFailed    = "failed"    // every attempt failed; retry by hand
)

// WebhookDelivery is one event on its way to one webhook, with the outcome
// of its last attempt.
type WebhookDelivery struct {
	ID             ID         `json:"id"`
	WebhookID      ID         `json:"webhook_id"`
	EventID        ID         `json:"event_id"`
	EventType      string     `json:"event_type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"next_attempt_at"`
	LastAttemptAt  *time.Time `json:"last_attempt_at"`
	LastStatusCode int        `json:"last_status_code"`
	LastError      string     `json:"last_error"`
	DeliveredAt    *time.Time `json:"delivered_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

// DeliveryJob is a claimed delivery with what sending it needs.
type DeliveryJob struct {
	Delivery WebhookDelivery
	URL      string
	// SealedSecret is the webhook's secret as stored (see the web layer's
	// sealer).
	SealedSecret string
	Event        Occurrence
}

// DeliveryAttempt is the outcome of one attempt to send a delivery.
type DeliveryAttempt struct {
	At         time.Time
	StatusCode int    // 0 when no answer was received
	Error      string // "" on success
	Delivered  bool
	// NextAttemptAt is when to try again; nil gives up (failed) unless
	// Delivered.
	NextAttemptAt *time.Time
}

// WebhookStore keeps webhook subscriptions' deliveries.
type WebhookStore interface {
	// FanOut turns up to limit undispatched events into one delivery per
	// matching active webhook, exactly once even with several nodes; it
	// returns how many events it dispatched.
	FanOut(ctx context.Context, limit int) (int, error)
	// ClaimDeliveries leases up to limit pending deliveries that are due, so
	// that no other node sends them until the lease ends.
	ClaimDeliveries(ctx context.Context, limit int, lease time.Duration) ([]DeliveryJob, error)
	// RecordAttempt stores the outcome of an attempt and releases the lease.
	RecordAttempt(ctx context.Context, deliveryID ID, a DeliveryAttempt) error
	// Deliveries lists a webhook's deliveries, newest first.
	Deliveries(ctx context.Context, webhookID ID, q ListQuery) (Page[WebhookDelivery], error)
	// RetryDelivery makes a delivery of the webhook pending again, due now.
	RetryDelivery(ctx context.Context, webhookID, deliveryID ID) (*WebhookDelivery, error)
}
