package leadcycle

import (
	"context"
	"time"
)

// Process triggers: the events that move a lead automatically from one stage
// to another (SPEC §5). TriggerCondition transitions fire whenever their
// condition holds after a change to the lead, its contact or its account.
const (
	TriggerLeadScored        = "lead.scored"             // a live model scored the lead for the first time
	TriggerTelesalesReady    = "lead.telesales_ready"    // the lead was marked telesales ready
	TriggerTelesalesAccepted = "lead.telesales_accepted" // a telesales operator accepted the lead
	TriggerSalesReady        = "lead.sales_ready"        // the lead was marked sales ready
	TriggerSalesAccepted     = "lead.sales_accepted"     // a sales manager accepted the lead
	TriggerCondition         = "condition"               // the transition's condition holds
)

// Triggers lists every process trigger.
var Triggers = []string{TriggerLeadScored, TriggerTelesalesReady, TriggerTelesalesAccepted, TriggerSalesReady, TriggerSalesAccepted, TriggerCondition}

// Stage keys of the shipped default process, "Lead to opportunity marketing
// sales process".
const (
	StageInquiry                = "inquiry"
	StageMarketingQualification = "automated_marketing_qualification"
	StageTelesalesAcceptance    = "telesales_acceptance"
	StageTelesalesQualification = "telesales_qualification"
	StageSalesAcceptance        = "sales_acceptance"
	DefaultProcessKey           = "lead_to_opportunity"
	DefaultProcessName          = "Lead to opportunity marketing sales process"
)

// Process is a business process for leads: an ordered timeline of stages
// from generation to sales acceptance, each with the fields that support it,
// and the transitions that move a lead between stages automatically.
type Process struct {
	ID          ID     `json:"id"`
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// IsDefault marks the process every new lead starts in; exactly one
	// process is the default.
	IsDefault bool `json:"is_default"`
	// Stages are in timeline order; the first is where a lead starts.
	Stages []Stage `json:"stages"`
	// Transitions move leads between stages on events or conditions.
	Transitions []Transition `json:"transitions"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// Stage is one step of a process.
type Stage struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Fields are the record fields that support the stage; a required one
	// must be set (a required flag must be true) to complete the stage.
	Fields []StageField `json:"fields"`
	// EntryCondition, when set, must hold for a lead to enter the stage by
	// completing the previous one or by an automatic transition (an
	// expression over lead.*, contact.*, account.*). Moves by hand skip it.
	EntryCondition string `json:"entry_condition"`
	// Next says where "complete stage" leads: the first branch whose
	// condition holds (an empty condition always holds). When Next is empty
	// the following stage is next, and the last stage ends the process.
	Next []Branch `json:"next"`
	// Final marks a stage that ends the process even when it is not the
	// last one; a final stage has no Next.
	Final bool `json:"final"`
}

// StageField is a field offered by a stage: "lead.purchase_timeframe",
// "lead.custom.budget", "contact.email", "account.industry".
type StageField struct {
	Field    string `json:"field"`
	Label    string `json:"label"`
	Required bool   `json:"required"`
}

// Branch is one possible next stage.
type Branch struct {
	When string `json:"when"` // an expression; "" always holds
	To   string `json:"to"`   // a stage key
}

// Transition moves a lead automatically to the stage To when its trigger
// fires while the lead is in one of the stages From (every stage before To
// in timeline order when From is empty) and its condition (if any) holds.
type Transition struct {
	Name      string   `json:"name"`
	On        string   `json:"on"` // one of Triggers
	Condition string   `json:"condition"`
	From      []string `json:"from"`
	To        string   `json:"to"`
}

// Stage returns the stage with the key, or nil.
func (p *Process) Stage(key string) *Stage {
	for i := range p.Stages {
		if p.Stages[i].Key == key {
			return &p.Stages[i]
		}
	}
	return nil
}

// StageIndex returns the position of the stage with the key, or -1.
func (p *Process) StageIndex(key string) int {
	for i := range p.Stages {
		if p.Stages[i].Key == key {
			return i
		}
	}
	return -1
}

// FirstStage returns the key of the stage a lead starts in, "" when there is
// none.
func (p *Process) FirstStage() string {
	if len(p.Stages) == 0 {
		return ""
	}
	return p.Stages[0].Key
}

// Lead qualification fields captured in the telesales qualification stage.
var (
	PurchaseTimeframes = []string{"", "immediate", "this_quarter", "next_quarter", "this_year", "unknown"}
	PurchaseProcesses  = []string{"", "individual", "committee", "unknown"}
	Needs              = []string{"", "must_have", "should_have", "good_to_have", "no_need"}
)

// Timeline entry kinds.
const (
	TimelineCreated         = "created"
	TimelineStageChanged    = "stage_changed"
	TimelineProcessSwitched = "process_switched"
	TimelineFlagChanged     = "flag_changed"
	TimelineStatusChanged   = "status_changed"
	TimelineQualified       = "qualified"
	TimelineDisqualified    = "disqualified"
	TimelineReactivated     = "reactivated"
	TimelineAssigned        = "assigned"
)

// TimelineEntry is one change on a lead's timeline: when, who or which rule,
// from what to what, and why.
type TimelineEntry struct {
	ID        ID        `json:"id"`
	LeadID    ID        `json:"lead_id"`
	Kind      string    `json:"kind"`
	ProcessID *ID       `json:"process_id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Actor     string    `json:"actor"`
	Reason    string    `json:"reason"`
	At        time.Time `json:"at"`
}

type actorKey struct{}

// WithActor returns a context that names who acts ("api key 3 \"ops\"
// (admin)", "user 7 Uxía Castro"); storage writes it on timelines.
func WithActor(ctx context.Context, actor string) context.Context {
	return context.WithValue(ctx, actorKey{}, actor)
}

// ActorOf returns the actor named by WithActor, or "system".
func ActorOf(ctx context.Context) string {
	if a, ok := ctx.Value(actorKey{}).(string); ok && a != "" {
		return a
	}
	return "system"
}
