package leadcycle

import (
	"context"
	"slices"
	"strings"
	"time"
)

// User is a person who works in leadcycle: a marketer, a telesales operator,
// a salesperson or their manager. Users own leads and are assigned tasks;
// the queues they belong to take part in round-robin assignment.
type User struct {
	ID    ID     `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
	Role  string `json:"role"`
	// Queues are the task queues (telesales, sales) whose tasks the user
	// takes; empty means the queue of the role (telesales → telesales,
	// sales → sales).
	Queues    []string  `json:"queues"`
	Active    bool      `json:"active"`
	Locale    string    `json:"locale"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Locales the interface speaks.
var Locales = []string{"", "en", "gl", "zh-Hant"}

// Normalize trims text, folds the email and fills the queues of the role.
func (u *User) Normalize() {
	u.Name = strings.TrimSpace(u.Name)
	u.Email = NormalizeEmail(u.Email)
	if u.Queues == nil {
		u.Queues = []string{}
	}
	slices.Sort(u.Queues)
	u.Queues = slices.Compact(u.Queues)
}

// Validate checks the user's fields.
func (u *User) Validate() error {
	var v validator
	v.required("name", u.Name)
	v.maxLen("name", u.Name, 200)
	v.required("email", u.Email)
	v.email("email", u.Email)
	v.oneOf("role", u.Role, Roles)
	v.oneOf("locale", u.Locale, Locales)
	for i, q := range u.Queues {
		if q == "" || !slices.Contains(TaskQueues, q) {
			v.add("queues["+itoa(i)+"]", "must be one of: telesales, sales")
		}
	}
	return v.Err()
}

// InQueue reports whether the user takes tasks of the queue.
func (u *User) InQueue(queue string) bool {
	if len(u.Queues) > 0 {
		return slices.Contains(u.Queues, queue)
	}
	return (queue == "telesales" && u.Role == RoleTelesales) || (queue == "sales" && u.Role == RoleSales)
}

// Queue assignment modes.
const (
	AssignManual     = "manual"
	AssignRoundRobin = "round_robin"
)

// Queue is a task queue's settings: telesales (calls to telesales-ready
// leads) and sales (acceptance of sales-ready leads).
type Queue struct {
	Key  string `json:"key"`
	Name string `json:"name"`
	// Assignment is manual (a manager assigns) or round_robin (each new task
	// goes to the next active member).
	Assignment     string    `json:"assignment"`
	DueHours       int       `json:"due_hours"`
	LastAssigneeID *ID       `json:"last_assignee_id"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Validate checks the queue's settings.
func (q *Queue) Validate() error {
	var v validator
	v.required("name", q.Name)
	v.maxLen("name", q.Name, 200)
	v.oneOf("assignment", q.Assignment, []string{AssignManual, AssignRoundRobin})
	if q.DueHours < 0 || q.DueHours > 24*365 {
		v.add("due_hours", "must be between 0 and 8760")
	}
	return v.Err()
}

// QualifyRequest asks to qualify a lead into an opportunity. Contact and
// Account are used only when the lead lacks them; they are matched with the
// default matching strategies (contacts by email, accounts by domain or
// name) before anything is created.
type QualifyRequest struct {
	Contact     *Contact     `json:"contact"`
	Account     *Account     `json:"account"`
	Opportunity *Opportunity `json:"opportunity"`
}

// QualifyResult is what qualifying made.
type QualifyResult struct {
	Lead           *Lead        `json:"lead"`
	Opportunity    *Opportunity `json:"opportunity"`
	ContactCreated bool         `json:"contact_created"`
	AccountCreated bool         `json:"account_created"`
	// Explanation says how the contact and account were found or made.
	Explanation []string `json:"explanation"`
}

// WorkflowStore runs the lead business process and the task queues on top
// of the records: stage changes, qualification, assignment and the reaction
// to events.
type WorkflowStore interface {
	// CompleteStage completes the lead's current stage and activates the
	// next one; missing required fields are an EInvalid error listing them.
	CompleteStage(ctx context.Context, leadID ID) (*Lead, error)
	// MoveStage moves the lead to any stage of its process by hand.
	MoveStage(ctx context.Context, leadID ID, stage, reason string) (*Lead, error)
	// SwitchProcess puts the lead in another process, at the given stage or
	// its first one.
	SwitchProcess(ctx context.Context, leadID, processID ID, stage string) (*Lead, error)
	// Qualify converts an open lead into an opportunity.
	Qualify(ctx context.Context, leadID ID, req QualifyRequest) (*QualifyResult, error)
	// Disqualify closes an open lead with one of the disqualified reasons.
	Disqualify(ctx context.Context, leadID ID, reason, note string) (*Lead, error)
	// Reactivate reopens a qualified or disqualified lead.
	Reactivate(ctx context.Context, leadID ID, note string) (*Lead, error)
	// Timeline lists a lead's changes, newest first.
	Timeline(ctx context.Context, leadID ID, q ListQuery) (Page[TimelineEntry], error)
	// Events lists outbox events after the given id, oldest first.
	Events(ctx context.Context, afterID ID, limit int) ([]Occurrence, error)
	// HandleEvents reacts to up to limit pending events (process
	// transitions, queue tasks), each exactly once even with several nodes;
	// it returns how many it handled.
	HandleEvents(ctx context.Context, limit int) (int, error)
	// AssignTask gives a task to a user, or to the next member of its queue
	// when assignee is nil.
	AssignTask(ctx context.Context, taskID ID, assignee *ID) (*Task, error)
	// PurgeEvents deletes the outbox events older than before that every
	// consumer is done with (sales and telesales ready stay: they fire once
	// per lead, ever), and the finished webhook deliveries older than
	// before; it returns how many events it deleted.
	PurgeEvents(ctx context.Context, before time.Time) (int64, error)
	// Queues lists the task queues; UpdateQueue changes one's settings.
	Queues(ctx context.Context) ([]Queue, error)
	UpdateQueue(ctx context.Context, key string, fn func(*Queue) error) (*Queue, error)
}
