package leadcycle

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Journey statuses. A draft can be edited freely; publishing makes it live:
// contacts enter and move through its steps. A paused journey keeps every
// contact where it is (waits that end meanwhile run on resume); a stopped one
// ends every contact's run for good.
const (
	JourneyDraft   = "draft"
	JourneyLive    = "live"
	JourneyPaused  = "paused"
	JourneyStopped = "stopped"
)

// JourneyStatuses lists the journey statuses.
var JourneyStatuses = []string{JourneyDraft, JourneyLive, JourneyPaused, JourneyStopped}

// Journey entry kinds: the members of a segment, or the contacts a trigger
// names.
const (
	EntrySegment = "segment"
	EntryTrigger = "trigger"
)

// Segment entry modes: one-time takes the segment's members at publishing;
// ongoing also takes every contact that enters it later.
const (
	EntryOneTime = "one_time"
	EntryOngoing = "ongoing"
)

// Journey triggers.
const (
	TriggerFormSubmitted   = "form_submitted"
	TriggerLeadCreated     = "lead_created"
	TriggerLeadSalesReady  = "lead_sales_ready"
	TriggerEventRegistered = "event_registered"
	TriggerCustomEvent     = "custom_event"
)

// JourneyTriggers lists the triggers.
var JourneyTriggers = []string{TriggerFormSubmitted, TriggerLeadCreated, TriggerLeadSalesReady, TriggerEventRegistered, TriggerCustomEvent}

// Journey step types.
const (
	StepSendEmail    = "send_email"
	StepWait         = "wait"
	StepBranch       = "branch"
	StepCreateLead   = "create_lead"
	StepUpdateRecord = "update_record"
	StepCreateTask   = "create_task"
	StepWebhook      = "webhook"
	StepExit         = "exit"
)

// JourneyStepTypes lists the step types.
var JourneyStepTypes = []string{StepSendEmail, StepWait, StepBranch, StepCreateLead, StepUpdateRecord, StepCreateTask, StepWebhook, StepExit}

// Journey is a customer journey: contacts enter it (from a segment or on a
// trigger) and move through its steps, each step running exactly once per
// contact. A contact goes through a journey at most once.
type Journey struct {
	ID          ID           `json:"id"`
	Name        string       `json:"name"`
	Description string       `json:"description"`
	Status      string       `json:"status"`
	Entry       JourneyEntry `json:"entry"`
	// Steps run from the first; a step goes on to Next (by default the
	// step after it in the list), a branch to Then or Else. A step with
	// nowhere to go completes the contact's journey.
	Steps []JourneyStep `json:"steps"`
	// Goal is a condition (the segment query language) on the contact: a
	// contact that meets it leaves the journey as having reached its goal.
	Goal string `json:"goal"`
	// ExitCondition is a condition on the contact that takes it out of the
	// journey.
	ExitCondition string `json:"exit_condition"`
	// Stats counts the journey's contacts (read-only).
	Stats       JourneyStats `json:"stats"`
	PublishedAt *time.Time   `json:"published_at"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// JourneyEntry says which contacts enter a journey.
type JourneyEntry struct {
	Kind string `json:"kind"`
	// SegmentID and Mode: for segment entry.
	SegmentID *ID    `json:"segment_id"`
	Mode      string `json:"mode"`
	// Trigger and its filters: FormID for form_submitted (any form when
	// nil), EventID for event_registered (any event when nil), EventType
	// (the custom interaction type) for custom_event.
	Trigger   string `json:"trigger"`
	FormID    *ID    `json:"form_id"`
	EventID   *ID    `json:"event_id"`
	EventType string `json:"event_type"`
}

// JourneyStep is one step of a journey. Which fields apply depends on Type.
type JourneyStep struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Name string `json:"name,omitempty"`
	Next string `json:"next,omitempty"`
	// send_email: the email template sent.
	EmailID *ID `json:"email_id,omitempty"`
	// wait: a duration ("30m", "2h", "3d", "1w") or until a time.
	Duration string     `json:"duration,omitempty"`
	Until    *time.Time `json:"until,omitempty"`
	// branch: on a condition on the contact, or on an interaction within a
	// time limit; Then when it holds (or happened), Else otherwise.
	Condition   string           `json:"condition,omitempty"`
	Interaction *StepInteraction `json:"interaction,omitempty"`
	Then        string           `json:"then,omitempty"`
	Else        string           `json:"else,omitempty"`
	// create_lead: one lead per contact (parent contact and its account)
	// or per account (parent account only); Topic names it.
	Per   string `json:"per,omitempty"`
	Topic string `json:"topic,omitempty"`
	// update_record: set fields of the contact, its account or the
	// journey's lead (Target).
	Target string         `json:"target,omitempty"`
	Set    map[string]any `json:"set,omitempty"`
	// create_task: a task for a queue or a user, about the journey's lead
	// (or the contact when there is none).
	Title       string `json:"title,omitempty"`
	Description string `json:"description,omitempty"`
	Queue       string `json:"queue,omitempty"`
	AssigneeID  *ID    `json:"assignee_id,omitempty"`
	DueHours    int    `json:"due_hours,omitempty"`
	// webhook: the webhook subscription called with the contact.
	WebhookID *ID `json:"webhook_id,omitempty"`
}

// StepInteraction is what a branch waits for: an interaction of Type by the
// contact within Within after the step starts. EmailStep (the id of a
// send_email step) narrows it to that step's email; URLContains to clicks or
// visits of matching addresses.
type StepInteraction struct {
	Type        string `json:"type"`
	EmailStep   string `json:"email_step,omitempty"`
	URLContains string `json:"url_contains,omitempty"`
	Within      string `json:"within"`
}

// Create-lead scopes, and the update target besides TargetContact and
// TargetAccount.
const (
	PerContact = "contact"
	PerAccount = "account"
	TargetLead = "lead"
)

// JourneyStats counts a journey's contacts by where they are.
type JourneyStats struct {
	Entered     int64 `json:"entered"`
	Active      int64 `json:"active"`
	Waiting     int64 `json:"waiting"`
	Completed   int64 `json:"completed"`
	GoalReached int64 `json:"goal_reached"`
	Exited      int64 `json:"exited"`
	Failed      int64 `json:"failed"`
	// EmailsQueued counts the emails the journey's steps queued;
	// SkippedConsent the sends skipped because the contact had not
	// consented to commercial email (or its address bounced).
	EmailsQueued   int64 `json:"emails_queued"`
	SkippedConsent int64 `json:"skipped_consent"`
}

// Clone returns a deep copy of the journey.
func (j *Journey) Clone() Journey {
	c := *j
	c.Steps = make([]JourneyStep, len(j.Steps))
	for i, s := range j.Steps {
		if s.Interaction != nil {
			w := *s.Interaction
			s.Interaction = &w
		}
		if s.Set != nil {
			set := make(map[string]any, len(s.Set))
			for k, v := range s.Set {
				set[k] = v
			}
			s.Set = set
		}
		c.Steps[i] = s
	}
	return c
}

// Normalize trims text and fills defaults.
func (j *Journey) Normalize() {
	j.Name = strings.TrimSpace(j.Name)
	j.Description = strings.TrimSpace(j.Description)
	j.Goal = strings.TrimSpace(j.Goal)
	j.ExitCondition = strings.TrimSpace(j.ExitCondition)
	if j.Status == "" {
		j.Status = JourneyDraft
	}
	e := &j.Entry
	e.EventType = strings.TrimSpace(e.EventType)
	if e.Trigger == TriggerCustomEvent && e.EventType != "" && !strings.HasPrefix(e.EventType, "custom:") {
		e.EventType = "custom:" + e.EventType
	}
	if e.Kind == "" && e.SegmentID != nil {
		e.Kind = EntrySegment
	}
	if e.Kind == EntrySegment && e.Mode == "" {
		e.Mode = EntryOneTime
	}
	for i := range j.Steps {
		s := &j.Steps[i]
		s.ID = strings.TrimSpace(s.ID)
		if s.ID == "" {
			s.ID = "s" + strconv.Itoa(i+1)
		}
		s.Condition = strings.TrimSpace(s.Condition)
		if s.Type == StepCreateLead && s.Per == "" {
			s.Per = PerContact
		}
	}
}

// Validate checks the journey's structure: its entry, every step's settings
// and the step graph (references exist, no step is unreachable, no loop).
// Conditions are type-checked by the store, which knows the field schema.
func (j *Journey) Validate() error {
	var v validator
	v.required("name", j.Name)
	v.maxLen("name", j.Name, 200)
	v.maxLen("description", j.Description, 5000)
	v.oneOf("status", j.Status, JourneyStatuses)
	v.maxLen("goal", j.Goal, 4000)
	v.maxLen("exit_condition", j.ExitCondition, 4000)
	j.Entry.validate(&v)
	if len(j.Steps) == 0 {
		v.add("steps", "a journey needs at least one step")
	}
	if len(j.Steps) > 200 {
		v.add("steps", "at most 200 steps")
	}
	ids := map[string]int{}
	for i, s := range j.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if _, dup := ids[s.ID]; dup {
			v.add(f+".id", fmt.Sprintf("%q is the id of an earlier step", s.ID))
		}
		ids[s.ID] = i
		if !validStepID(s.ID) {
			v.add(f+".id", "must be 1 to 40 letters, digits, underscores or hyphens")
		}
	}
	for i := range j.Steps {
		j.Steps[i].validate(&v, fmt.Sprintf("steps[%d]", i), ids, j.Steps)
	}
	if len(v.errs) == 0 {
		j.validateGraph(&v, ids)
	}
	return v.Err()
}

func validStepID(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (e *JourneyEntry) validate(v *validator) {
	switch e.Kind {
	case EntrySegment:
		if e.SegmentID == nil {
			v.add("entry.segment_id", "is required for segment entry")
		}
		v.oneOf("entry.mode", e.Mode, []string{EntryOneTime, EntryOngoing})
		if e.Trigger != "" {
			v.add("entry.trigger", "a segment entry has no trigger")
		}
	case EntryTrigger:
		v.oneOf("entry.trigger", e.Trigger, JourneyTriggers)
		if e.SegmentID != nil {
			v.add("entry.segment_id", "a trigger entry has no segment")
		}
		if e.FormID != nil && e.Trigger != TriggerFormSubmitted {
			v.add("entry.form_id", "applies to the form_submitted trigger only")
		}
		if e.EventID != nil && e.Trigger != TriggerEventRegistered {
			v.add("entry.event_id", "applies to the event_registered trigger only")
		}
		switch {
		case e.Trigger == TriggerCustomEvent && e.EventType == "":
			v.add("entry.event_type", "is required for the custom_event trigger (the custom interaction type)")
		case e.Trigger == TriggerCustomEvent && !ValidInteractionType(e.EventType):
			v.add("entry.event_type", fmt.Sprintf("%q is not a custom interaction type (custom:KEY, with a key of letters, digits, underscores and hyphens)", e.EventType))
		case e.Trigger != TriggerCustomEvent && e.EventType != "":
			v.add("entry.event_type", "applies to the custom_event trigger only")
		}
	default:
		v.add("entry.kind", `must be "segment" or "trigger"`)
	}
}

func (s *JourneyStep) validate(v *validator, f string, ids map[string]int, steps []JourneyStep) {
	v.maxLen(f+".name", s.Name, 200)
	ref := func(field, target string) {
		if target == "" {
			return
		}
		if _, ok := ids[target]; !ok {
			v.add(f+"."+field, fmt.Sprintf("no step has the id %q", target))
		}
	}
	ref("next", s.Next)
	switch s.Type {
	case StepSendEmail:
		if s.EmailID == nil {
			v.add(f+".email_id", "is required: the email template to send")
		}
	case StepWait:
		switch {
		case s.Duration == "" && s.Until == nil:
			v.add(f+".duration", "a wait needs a duration or an until time")
		case s.Duration != "" && s.Until != nil:
			v.add(f+".until", "give a duration or an until time, not both")
		case s.Duration != "":
			if _, err := ParseJourneyDuration(s.Duration); err != nil {
				v.add(f+".duration", err.Error())
			}
		}
	case StepBranch:
		switch {
		case s.Condition == "" && s.Interaction == nil:
			v.add(f+".condition", "a branch needs a condition or an interaction")
		case s.Condition != "" && s.Interaction != nil:
			v.add(f+".interaction", "give a condition or an interaction, not both")
		case s.Interaction != nil:
			s.Interaction.validate(v, f+".interaction", ids, steps)
		}
		if s.Then == "" && s.Else == "" {
			v.add(f+".then", "a branch needs a then or an else step")
		}
		ref("then", s.Then)
		ref("else", s.Else)
		if s.Next != "" {
			v.add(f+".next", "a branch goes on to then or else, not next")
		}
	case StepCreateLead:
		v.oneOf(f+".per", s.Per, []string{PerContact, PerAccount})
		v.maxLen(f+".topic", s.Topic, 500)
	case StepUpdateRecord:
		v.oneOf(f+".target", s.Target, []string{TargetContact, TargetAccount, TargetLead})
		if len(s.Set) == 0 {
			v.add(f+".set", "names the fields to set and their values")
		}
	case StepCreateTask:
		v.required(f+".title", s.Title)
		v.maxLen(f+".title", s.Title, 500)
		v.maxLen(f+".description", s.Description, 5000)
		if s.Queue == "" && s.AssigneeID == nil {
			v.add(f+".queue", "a task goes to a queue or to a user (assignee_id)")
		}
		if s.DueHours < 0 || s.DueHours > 24*365 {
			v.add(f+".due_hours", "must be between 0 and 8760")
		}
	case StepWebhook:
		if s.WebhookID == nil {
			v.add(f+".webhook_id", "is required: the webhook called")
		}
	case StepExit:
		if s.Next != "" {
			v.add(f+".next", "an exit step ends the journey")
		}
	default:
		v.add(f+".type", "must be one of "+strings.Join(JourneyStepTypes, ", "))
	}
}

func (w *StepInteraction) validate(v *validator, f string, ids map[string]int, steps []JourneyStep) {
	if strings.TrimSpace(w.Type) == "" {
		v.add(f+".type", "is required: the interaction type waited for")
	}
	if w.Within == "" {
		v.add(f+".within", "is required: how long to wait for the interaction")
	} else if _, err := ParseJourneyDuration(w.Within); err != nil {
		v.add(f+".within", err.Error())
	}
	if w.EmailStep != "" {
		i, ok := ids[w.EmailStep]
		switch {
		case !ok:
			v.add(f+".email_step", fmt.Sprintf("no step has the id %q", w.EmailStep))
		case steps[i].Type != StepSendEmail:
			v.add(f+".email_step", fmt.Sprintf("step %q does not send an email", w.EmailStep))
		}
	}
	v.maxLen(f+".url_contains", w.URLContains, 500)
}

// NextSteps returns where a step goes on to: Then and Else for a branch, Next
// (or the following step) otherwise; "" means the journey ends there.
func (j *Journey) NextSteps(i int) []string {
	s := j.Steps[i]
	switch s.Type {
	case StepExit:
		return nil
	case StepBranch:
		return []string{s.Then, s.Else}
	}
	return []string{j.following(i)}
}

// following is the step after step i: its Next, or the next in the list.
func (j *Journey) following(i int) string {
	if j.Steps[i].Next != "" {
		return j.Steps[i].Next
	}
	if i+1 < len(j.Steps) {
		return j.Steps[i+1].ID
	}
	return ""
}

// Following returns the id of the step a non-branch step goes on to, or "".
func (j *Journey) Following(stepID string) string {
	for i, s := range j.Steps {
		if s.ID == stepID {
			if s.Type == StepExit {
				return ""
			}
			return j.following(i)
		}
	}
	return ""
}

// Step returns the step with the id.
func (j *Journey) Step(id string) (*JourneyStep, bool) {
	for i := range j.Steps {
		if j.Steps[i].ID == id {
			return &j.Steps[i], true
		}
	}
	return nil, false
}

// validateGraph refuses loops (each step runs at most once per contact, so a
// loop could never be taken twice) and steps no path reaches.
func (j *Journey) validateGraph(v *validator, ids map[string]int) {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]int, len(j.Steps))
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = onPath
		for _, n := range j.NextSteps(i) {
			if n == "" {
				continue
			}
			k := ids[n]
			if state[k] == onPath {
				v.add(fmt.Sprintf("steps[%d]", i), fmt.Sprintf("going on to %q makes a loop (a step runs at most once per contact)", n))
				return false
			}
			if state[k] == unseen && !visit(k) {
				return false
			}
		}
		state[i] = done
		return true
	}
	if !visit(0) {
		return
	}
	for i, st := range state {
		if st == unseen {
			v.add(fmt.Sprintf("steps[%d]", i), fmt.Sprintf("step %q is never reached from the first step", j.Steps[i].ID))
		}
	}
}

// ParseJourneyDuration parses a wait: a number and a unit, m (minutes), h
// (hours), d (days) or w (weeks), or a Go duration ("90m", "1h30m"). It must
// be positive and at most two years.
func ParseJourneyDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var d time.Duration
	if n := len(s); n > 1 && (s[n-1] == 'd' || s[n-1] == 'w') {
		k, err := strconv.Atoi(s[:n-1])
		if err != nil {
			return 0, fmt.Errorf("%q is not a duration (write e.g. 30m, 2h, 3d or 1w)", s)
		}
		unit := 24 * time.Hour
		if s[n-1] == 'w' {
			unit *= 7
		}
		if k > 2*366 {
			return 0, fmt.Errorf("%q is longer than two years", s)
		}
		d = time.Duration(k) * unit
	} else {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			return 0, fmt.Errorf("%q is not a duration (write e.g. 30m, 2h, 3d or 1w)", s)
		}
	}
	switch {
	case d <= 0:
		return 0, fmt.Errorf("%q must be longer than zero", s)
	case d > 2*366*24*time.Hour:
		return 0, fmt.Errorf("%q is longer than two years", s)
	}
	return d, nil
}

// Run states of a contact in a journey.
const (
	RunActive    = "active"    // due to run its current step
	RunWaiting   = "waiting"   // in a wait, or a branch waiting for an interaction
	RunCompleted = "completed" // went through to the end
	RunGoal      = "goal"      // met the journey's goal
	RunExited    = "exited"    // met the exit condition, an exit step, or the journey stopped
	RunFailed    = "failed"    // a step could not run; Reason says why
)

// JourneyRun is one contact's position in a journey.
type JourneyRun struct {
	ID        ID `json:"id"`
	JourneyID ID `json:"journey_id"`
	ContactID ID `json:"contact_id"`
	// Email, FirstName and LastName are the contact's (read-only).
	Email     string `json:"email"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	LeadID    *ID    `json:"lead_id"`
	State     string `json:"state"`
	// Step is the step the contact is at (the last one, once finished).
	Step string `json:"step"`
	// DueAt is when the step runs (or its wait is checked) next.
	DueAt      time.Time  `json:"due_at"`
	Reason     string     `json:"reason"`
	EnteredAt  time.Time  `json:"entered_at"`
	FinishedAt *time.Time `json:"finished_at"`
	// History lists the steps done, oldest first (filled for one run).
	History []JourneyStepDone `json:"history,omitempty"`
}

// JourneyStepDone is a step a contact went through, and its outcome.
type JourneyStepDone struct {
	Step    string    `json:"step"`
	Outcome string    `json:"outcome"`
	At      time.Time `json:"at"`
}

// JourneyStore runs journeys.
type JourneyStore interface {
	// Publish makes a draft (or stopped) journey live; a segment journey
	// takes the segment's members at once.
	Publish(ctx context.Context, id ID) (*Journey, error)
	// Pause, Resume and Stop change a live journey's status.
	Pause(ctx context.Context, id ID) (*Journey, error)
	Resume(ctx context.Context, id ID) (*Journey, error)
	Stop(ctx context.Context, id ID) (*Journey, error)
	// Runs lists a journey's contacts with their positions; Run returns
	// one with its history.
	Runs(ctx context.Context, journeyID ID, q ListQuery) (Page[JourneyRun], error)
	Run(ctx context.Context, journeyID, contactID ID) (*JourneyRun, error)
	// ProcessDue runs up to max due steps of live journeys, each in its own
	// transaction, and returns how many it ran. Safe to call from several
	// processes at once: a step runs once per contact.
	ProcessDue(ctx context.Context, max int) (int, error)
}

func init() {
	ListSpecs["journeys"] = ListSpec{
		Filters: append([]FilterSpec{eq("status", KindString, JourneyStatuses...)}, timeFilters()...),
		Sorts:   []string{"created_at", "updated_at", "name"},
	}
	ListSpecs["journey-runs"] = ListSpec{
		Filters: []FilterSpec{eq("state", KindString, RunActive, RunWaiting, RunCompleted, RunGoal, RunExited, RunFailed), eq("step", KindString)},
		Sorts:   []string{"entered_at"},
	}
}
