package leadcycle

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"
)

// Scoring model statuses. A draft can be edited; a live model scores leads and
// is immutable (editing it makes a new draft version); a stopped model no
// longer scores.
const (
	ModelDraft   = "draft"
	ModelLive    = "live"
	ModelStopped = "stopped"
)

// Scoring model targets: contact-based leads (with a parent contact) are
// scored from that contact's actions; account-based leads (a parent account
// and no parent contact) from the actions of every contact of the account.
const (
	TargetContact = "contact"
	TargetAccount = "account"
)

// ScoringTargets lists the scoring model targets.
var ScoringTargets = []string{TargetContact, TargetAccount}

// Behavioural condition frequencies.
const (
	// FrequencyEachTime adds the rule's points once per matching interaction.
	FrequencyEachTime = "each_time"
	// FrequencyAtLeastOnce adds the points when at least one interaction matches.
	FrequencyAtLeastOnce = "at_least_once"
	// FrequencyAtLeast adds the points when at least Count interactions match.
	FrequencyAtLeast = "at_least"
	// FrequencyNone adds the points when no interaction matches.
	FrequencyNone = "none"
)

// Frequencies lists the behavioural condition frequencies.
var Frequencies = []string{FrequencyEachTime, FrequencyAtLeastOnce, FrequencyAtLeast, FrequencyNone}

// Rescore job states of a scoring model.
const (
	RescoreIdle    = "idle"
	RescoreRunning = "running"
	RescoreDone    = "done"
)

// ScoringModel computes a score for each lead it applies to. Models are
// versioned: every version is its own record, and versions of one model share
// a Key.
type ScoringModel struct {
	ID ID `json:"id"`
	// Key names the model across its versions (a slug, e.g. "fit"); it
	// defaults to one made from the name.
	Key         string `json:"key"`
	Version     int    `json:"version"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Status      string `json:"status"`
	Target      string `json:"target"`
	// AppliesTo is an expression over lead, contact and account fields; the
	// model scores only the leads it holds for. Empty means every lead.
	AppliesTo string        `json:"applies_to"`
	Rules     []ScoringRule `json:"rules"`
	Grades    []Grade       `json:"grades"`
	// SalesReadyThreshold marks a lead sales ready when its score reaches it.
	SalesReadyThreshold *int64 `json:"sales_ready_threshold"`
	// TelesalesReadyThreshold marks a lead telesales ready when its score
	// reaches it; it must be lower than the sales-ready threshold. Set it and
	// leave the sales-ready threshold empty to route leads through telesales
	// instead of straight to sales.
	TelesalesReadyThreshold *int64 `json:"telesales_ready_threshold"`
	// PreviousVersionID is the version this one was made from.
	PreviousVersionID *ID `json:"previous_version_id"`
	// Rescore is the progress of the rescore that publishing started.
	Rescore     RescoreProgress `json:"rescore"`
	PublishedAt *time.Time      `json:"published_at"`
	StoppedAt   *time.Time      `json:"stopped_at"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// ScoringRule adds Points to a lead's score when all its conditions hold.
type ScoringRule struct {
	Name   string `json:"name"`
	Points int64  `json:"points"`
	// Conditions are expressions over the lead, its contact and its account
	// (demographic, firmographic and lead conditions); all must hold.
	Conditions []string `json:"conditions"`
	// Behaviors are conditions on the interactions of the lead's contact (or,
	// for account-based models, of all contacts of the account); all must
	// hold. At most one may have the frequency each_time; the rule's points
	// are then multiplied by its number of matching interactions.
	Behaviors []Behavior `json:"behaviors"`
	// HalfLifeDays, when set, makes behavioural points decay: an interaction
	// that is HalfLifeDays old is worth half its points.
	HalfLifeDays *float64 `json:"half_life_days"`
}

// Behavior is a condition on interactions: of a type, optionally filtered, in
// a window, with a frequency.
type Behavior struct {
	// Type is the interaction type, e.g. email_opened or custom:webinar.
	Type string `json:"type"`
	// Where is an optional expression over the interaction (its properties),
	// e.g. url contains "/pricing" or form_id == "12".
	Where     string `json:"where"`
	Frequency string `json:"frequency"`
	// Count is the N of at_least.
	Count int `json:"count"`
	// WindowDays counts only interactions of the last N days. An interaction
	// leaves the window exactly N×24 hours after it occurred.
	WindowDays *int `json:"window_days"`
	// Since and Until count only interactions in [Since, Until); either may
	// be empty. A window and a date range cannot be combined.
	Since *time.Time `json:"since"`
	Until *time.Time `json:"until"`
}

// Grade is a named score range; Min and Max are inclusive and either may be
// empty (unbounded).
type Grade struct {
	Name string `json:"name"`
	Min  *int64 `json:"min"`
	Max  *int64 `json:"max"`
}

// RescoreProgress reports the background rescore of a published model.
type RescoreProgress struct {
	State string `json:"state"`
	// Total is the number of leads to look at; Done of them are processed.
	Total int64 `json:"total"`
	Done  int64 `json:"done"`
	// Scored leads got a score; Unscorable leads have no parent contact (or
	// account, for account-based models) and cannot be scored.
	Scored     int64      `json:"scored"`
	Unscorable int64      `json:"unscorable"`
	StartedAt  *time.Time `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// GradeOf returns the name of the grade whose range holds score, or "".
func (m *ScoringModel) GradeOf(score int64) string {
	for _, g := range m.Grades {
		if (g.Min == nil || score >= *g.Min) && (g.Max == nil || score <= *g.Max) {
			return g.Name
		}
	}
	return ""
}

// Normalize trims text and fills defaults.
func (m *ScoringModel) Normalize() {
	m.Name = strings.TrimSpace(m.Name)
	m.Key = strings.TrimSpace(m.Key)
	if m.Key == "" {
		m.Key = Slugify(m.Name)
	}
	m.AppliesTo = strings.TrimSpace(m.AppliesTo)
	if m.Status == "" {
		m.Status = ModelDraft
	}
	if m.Target == "" {
		m.Target = TargetContact
	}
	if m.Version == 0 {
		m.Version = 1
	}
	if m.Rules == nil {
		m.Rules = []ScoringRule{}
	}
	if m.Grades == nil {
		m.Grades = []Grade{}
	}
	if m.Rescore.State == "" {
		m.Rescore.State = RescoreIdle
	}
	for i := range m.Rules {
		r := &m.Rules[i]
		r.Name = strings.TrimSpace(r.Name)
		if r.Conditions == nil {
			r.Conditions = []string{}
		}
		if r.Behaviors == nil {
			r.Behaviors = []Behavior{}
		}
		for j := range r.Behaviors {
			b := &r.Behaviors[j]
			b.Type = strings.TrimSpace(b.Type)
			b.Where = strings.TrimSpace(b.Where)
			if b.Frequency == "" {
				b.Frequency = FrequencyAtLeastOnce
			}
		}
	}
	for i := range m.Grades {
		m.Grades[i].Name = strings.TrimSpace(m.Grades[i].Name)
	}
}

// Validate checks everything but the expressions, which need the field schema
// (package scoring compiles and type-checks them). Field names in errors are
// paths such as rules[2].behaviors[0].window_days.
func (m *ScoringModel) Validate() error {
	var v validator
	v.required("name", m.Name)
	v.maxLen("name", m.Name, 200)
	v.maxLen("description", m.Description, 5000)
	if !ValidSlug(m.Key) {
		v.add("key", "must be a key: a lower-case letter, then letters, digits or underscores (at most 63)")
	}
	v.oneOf("status", m.Status, []string{ModelDraft, ModelLive, ModelStopped})
	v.oneOf("target", m.Target, ScoringTargets)
	v.maxLen("applies_to", m.AppliesTo, 2000)
	if len(m.Rules) > 200 {
		v.add("rules", "a model has at most 200 rules")
	}
	names := map[string]bool{}
	for i, r := range m.Rules {
		f := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.Name == "":
			v.add(f+".name", "is required")
		case names[r.Name]:
			v.add(f+".name", fmt.Sprintf("rule name %q is used twice", r.Name))
		}
		names[r.Name] = true
		v.maxLen(f+".name", r.Name, 200)
		if r.Points == 0 {
			v.add(f+".points", fmt.Sprintf("rule %q must add or remove points (not 0)", r.Name))
		}
		if r.Points > 1_000_000 || r.Points < -1_000_000 {
			v.add(f+".points", fmt.Sprintf("rule %q: points must be between -1000000 and 1000000", r.Name))
		}
		if len(r.Conditions) == 0 && len(r.Behaviors) == 0 {
			v.add(f+".conditions", fmt.Sprintf("rule %q needs at least one condition or behavior", r.Name))
		}
		for j, c := range r.Conditions {
			if strings.TrimSpace(c) == "" {
				v.add(fmt.Sprintf("%s.conditions[%d]", f, j), fmt.Sprintf("rule %q: condition is empty", r.Name))
			}
			v.maxLen(fmt.Sprintf("%s.conditions[%d]", f, j), c, 2000)
		}
		eachTime := 0
		for j, b := range r.Behaviors {
			validateBehavior(&v, fmt.Sprintf("%s.behaviors[%d]", f, j), r.Name, b)
			if b.Frequency == FrequencyEachTime {
				eachTime++
			}
		}
		if eachTime > 1 {
			v.add(f+".behaviors", fmt.Sprintf("rule %q: at most one behavior can count each_time", r.Name))
		}
		if r.HalfLifeDays != nil && (*r.HalfLifeDays <= 0 || math.IsNaN(*r.HalfLifeDays) || *r.HalfLifeDays > 36500) {
			v.add(f+".half_life_days", fmt.Sprintf("rule %q: half-life must be a positive number of days", r.Name))
		}
		if r.HalfLifeDays != nil && len(r.Behaviors) == 0 {
			v.add(f+".half_life_days", fmt.Sprintf("rule %q: only behavioural points decay; add a behavior or remove the half-life", r.Name))
		}
	}
	validateGrades(&v, m.Grades)
	if m.SalesReadyThreshold != nil && m.TelesalesReadyThreshold != nil && *m.TelesalesReadyThreshold >= *m.SalesReadyThreshold {
		v.add("telesales_ready_threshold", "must be lower than sales_ready_threshold")
	}
	return v.Err()
}

func validateBehavior(v *validator, f, rule string, b Behavior) {
	if !ValidInteractionType(b.Type) {
		v.add(f+".type", fmt.Sprintf("rule %q: interaction type must be one of %s, or custom:<key>", rule, strings.Join(InteractionTypes, ", ")))
	}
	v.maxLen(f+".where", b.Where, 2000)
	if !slices.Contains(Frequencies, b.Frequency) {
		v.add(f+".frequency", fmt.Sprintf("rule %q: frequency must be one of %s", rule, strings.Join(Frequencies, ", ")))
	}
	switch {
	case b.Frequency == FrequencyAtLeast && b.Count < 1:
		v.add(f+".count", fmt.Sprintf("rule %q: at_least needs a count of 1 or more", rule))
	case b.Frequency != FrequencyAtLeast && b.Count != 0:
		v.add(f+".count", fmt.Sprintf("rule %q: count is only used with frequency at_least", rule))
	case b.Count > 1_000_000:
		v.add(f+".count", fmt.Sprintf("rule %q: count must be at most 1000000", rule))
	}
	if b.WindowDays != nil {
		switch {
		case *b.WindowDays < 0:
			v.add(f+".window_days", fmt.Sprintf("rule %q: window must not be negative", rule))
		case *b.WindowDays == 0:
			v.add(f+".window_days", fmt.Sprintf("rule %q: window must be at least 1 day (leave it empty for all time)", rule))
		case *b.WindowDays > 36500:
			v.add(f+".window_days", fmt.Sprintf("rule %q: window must be at most 36500 days", rule))
		}
		if b.Since != nil || b.Until != nil {
			v.add(f+".window_days", fmt.Sprintf("rule %q: use either window_days or since/until, not both", rule))
		}
	}
	if b.Since != nil && b.Until != nil && !b.Until.After(*b.Since) {
		v.add(f+".until", fmt.Sprintf("rule %q: until must be after since", rule))
	}
}

func validateGrades(v *validator, grades []Grade) {
	names := map[string]bool{}
	for i, g := range grades {
		f := fmt.Sprintf("grades[%d]", i)
		switch {
		case g.Name == "":
			v.add(f+".name", "is required")
		case names[g.Name]:
			v.add(f+".name", fmt.Sprintf("grade %q is used twice", g.Name))
		}
		names[g.Name] = true
		v.maxLen(f+".name", g.Name, 100)
		if g.Min != nil && g.Max != nil && *g.Min > *g.Max {
			v.add(f+".max", fmt.Sprintf("grade %q: max must not be lower than min", g.Name))
		}
	}
	// Sort a copy by lower bound and compare neighbours.
	idx := make([]int, len(grades))
	for i := range idx {
		idx[i] = i
	}
	lo := func(g Grade) int64 {
		if g.Min == nil {
			return math.MinInt64
		}
		return *g.Min
	}
	hi := func(g Grade) int64 {
		if g.Max == nil {
			return math.MaxInt64
		}
		return *g.Max
	}
	sort.SliceStable(idx, func(a, b int) bool { return lo(grades[idx[a]]) < lo(grades[idx[b]]) })
	for k := 1; k < len(idx); k++ {
		a, b := grades[idx[k-1]], grades[idx[k]]
		if lo(b) <= hi(a) {
			v.add(fmt.Sprintf("grades[%d]", idx[k]), fmt.Sprintf("grade %q overlaps grade %q", b.Name, a.Name))
		}
	}
}

// RuleContribution explains what one rule added to a score.
type RuleContribution struct {
	Rule string `json:"rule"`
	// Points is what the rule added (after decay, rounded).
	Points int64 `json:"points"`
	// Matches is the number of interactions that matched its behaviours.
	Matches int `json:"matches"`
	// InteractionIDs are the matching interactions, most recent first (at
	// most 20).
	InteractionIDs []ID `json:"interaction_ids"`
}

// LeadScoreDetail is one model's score of a lead, with its explanation.
type LeadScoreDetail struct {
	ModelID      ID     `json:"model_id"`
	ModelKey     string `json:"model_key"`
	ModelName    string `json:"model_name"`
	ModelVersion int    `json:"model_version"`
	ModelStatus  string `json:"model_status"`
	// Applies and Scorable are false only in previews: the model's
	// applies_to does not hold for the lead, or the lead lacks the parent
	// contact or account the model's target needs.
	Applies  bool               `json:"applies"`
	Scorable bool               `json:"scorable"`
	Score    int64              `json:"score"`
	Grade    string             `json:"grade"`
	Rules    []RuleContribution `json:"rules"`
	// SalesReadyThreshold and TelesalesReadyThreshold are the model's.
	SalesReadyThreshold     *int64    `json:"sales_ready_threshold"`
	TelesalesReadyThreshold *int64    `json:"telesales_ready_threshold"`
	ComputedAt              time.Time `json:"computed_at"`
}

// ScoreChange is one entry of the score ledger: a lead's score under one model
// changed, and why.
type ScoreChange struct {
	ID       ID     `json:"id"`
	LeadID   ID     `json:"lead_id"`
	ModelID  ID     `json:"model_id"`
	OldScore *int64 `json:"old_score"`
	NewScore *int64 `json:"new_score"`
	OldGrade string `json:"old_grade"`
	NewGrade string `json:"new_grade"`
	// Cause says what made the score change: an interaction, a record
	// change, a window expiring, a model being published or stopped.
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
}

// Lead event types written to the event outbox.
const (
	EventLeadSalesReady     = "lead.sales_ready"
	EventLeadTelesalesReady = "lead.telesales_ready"
)

// LeadEvent is an event about a lead that other parts (the business process,
// tasks, webhooks) react to. Events are written in the transaction that
// caused them, exactly once.
type LeadEvent struct {
	ID      ID             `json:"id"`
	Type    string         `json:"type"`
	LeadID  ID             `json:"lead_id"`
	Payload map[string]any `json:"payload"`
	At      time.Time      `json:"at"`
}

// ScoringStore holds what the scoring models compute and the model lifecycle
// beyond plain record editing.
type ScoringStore interface {
	// NewVersion makes a draft copy of a live or stopped model with the next
	// version number, applies fn to it and stores it.
	NewVersion(ctx context.Context, id ID, fn func(*ScoringModel) error) (*ScoringModel, error)
	// Publish makes a draft live, stops the previous live version of the same
	// key and starts rescoring every lead in the background.
	Publish(ctx context.Context, id ID) (*ScoringModel, error)
	// Stop stops a live model, keeping its scores or clearing them.
	Stop(ctx context.Context, id ID, keepScores bool) (*ScoringModel, error)
	// LeadScores returns every model's score of a lead with explanations.
	LeadScores(ctx context.Context, leadID ID) ([]LeadScoreDetail, error)
	// PreviewScore evaluates a model (of any status) for one lead now,
	// without storing anything.
	PreviewScore(ctx context.Context, modelID, leadID ID) (LeadScoreDetail, error)
	// ScoreHistory returns the ledger of a lead, newest first.
	ScoreHistory(ctx context.Context, leadID ID, q ListQuery) (Page[ScoreChange], error)
	// UnscorableLeads lists the leads a model applies to but cannot score
	// because they have no parent contact or account.
	UnscorableLeads(ctx context.Context, modelID ID, q ListQuery) (Page[Lead], error)
	// LeadEvents lists the sales-ready and telesales-ready events after the
	// given id, oldest first.
	LeadEvents(ctx context.Context, afterID ID, limit int) ([]LeadEvent, error)
	// ProcessDue rescores up to max leads that are due (after interactions,
	// record changes or window expiries) and advances running rescore jobs;
	// it returns how many leads it looked at. Safe to call from several
	// processes at once.
	ProcessDue(ctx context.Context, max int) (int, error)
}

// Slugify makes a key from a name: lower-case ASCII letters and digits with
// underscores, starting with a letter; "" when nothing usable is left.
func Slugify(name string) string {
	var b strings.Builder
	under := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			if b.Len() == 0 && r >= '0' && r <= '9' {
				b.WriteString("m")
			}
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(r)
		default:
			under = true
		}
	}
	s := b.String()
	if len(s) > 63 {
		s = s[:63]
	}
	return s
}
