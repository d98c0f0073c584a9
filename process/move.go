package process

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// Move is a decision to move a lead from one stage to another.
type Move struct {
	From, To string // stage keys
	// Reason says why, for the lead's timeline: `transition "Sales ready"
	// on lead.sales_ready`, `stage "Inquiry" completed`.
	Reason string
	// Transition is the name of the transition that fired, "" when the
	// stage was completed.
	Transition string
}

// OnTrigger returns the move the trigger causes for the lead in s: that of
// the first transition, in definition order, on the trigger from the lead's
// stage whose condition and whose target's entry condition hold. ok is false
// when no transition applies.
func (c *Compiled) OnTrigger(s Subject, trigger string, now time.Time) (m Move, ok bool) {
	cur := c.current(s)
	if cur < 0 {
		return Move{}, false
	}
	for i := range c.transitions {
		t := &c.transitions[i]
		if t.on != trigger || !slices.Contains(t.from, cur) || !holds(t.cond, s, now) || !holds(c.stages[t.to].entry, s, now) {
			continue
		}
		reason := fmt.Sprintf("transition %q on %s", t.name, trigger)
		if trigger == leadcycle.TriggerCondition && t.cond != nil {
			reason += " " + t.cond.Source()
		}
		return Move{From: c.key(cur), To: c.key(t.to), Reason: reason, Transition: t.name}, true
	}
	return Move{}, false
}

// OnChange returns the move that the transitions on "condition" cause after
// a change to the lead, its contact or its account; see OnTrigger.
func (c *Compiled) OnChange(s Subject, now time.Time) (Move, bool) {
	return c.OnTrigger(s, leadcycle.TriggerCondition, now)
}

// Complete completes the lead's current stage and returns the move to the
// next one. It fails with EInvalid when required fields of the stage are
// missing (one field error each), with EConflict when the stage ends the
// process (the lead is converted by qualifying it), and with EInvalid on
// the field "stage" when no branch applies or the next stage's entry
// condition does not hold.
func (c *Compiled) Complete(s Subject, now time.Time) (Move, error) {
	if s.Lead == nil {
		return Move{}, leadcycle.Errorf(leadcycle.EInvalid, "no lead to complete a stage of")
	}
	cur := c.current(s)
	if cur < 0 {
		return Move{}, c.CanMove(s.Lead.Stage)
	}
	name := c.Def.Stages[cur].Name
	if missing := c.Missing(s, c.key(cur)); len(missing) > 0 {
		return Move{}, missingError(name, missing)
	}
	if c.Def.Terminal(c.key(cur)) {
		return Move{}, leadcycle.Errorf(leadcycle.EConflict,
			"stage %q is the last stage of process %q: the lead is converted into an opportunity by qualifying it", name, c.Def.Name)
	}
	next, err := c.next(cur, s, now)
	if err != nil {
		return Move{}, err
	}
	if entry := c.stages[next].entry; !holds(entry, s, now) {
		return Move{}, leadcycle.FieldErrorf(leadcycle.EInvalid, "stage",
			"the lead cannot enter stage %q: its entry condition %s does not hold", c.Def.Stages[next].Name, entry.Source())
	}
	return Move{From: c.key(cur), To: c.key(next), Reason: fmt.Sprintf("stage %q completed", name)}, nil
}

// next returns the stage that completing stage i leads to: the first branch
// that holds, or the following stage when the stage has no branches.
func (c *Compiled) next(i int, s Subject, now time.Time) (int, error) {
	branches := c.stages[i].next
	if len(branches) == 0 {
		return i + 1, nil
	}
	var conds []string
	for _, b := range branches {
		if holds(b.when, s, now) {
			return b.to, nil
		}
		conds = append(conds, b.when.Source())
	}
	return -1, leadcycle.FieldErrorf(leadcycle.EInvalid, "stage",
		"stage %q cannot be completed: none of its next stages applies (%s)", c.Def.Stages[i].Name, strings.Join(conds, "; "))
}

// missingError reports the required fields missing to complete a stage.
func missingError(stage string, missing []leadcycle.FieldError) error {
	names := make([]string, len(missing))
	for i, f := range missing {
		names[i] = f.Field
	}
	verb := "is"
	if len(names) > 1 {
		verb = "are"
	}
	return &leadcycle.Error{
		Code:    leadcycle.EInvalid,
		Message: fmt.Sprintf("stage %q cannot be completed: %s %s required", stage, strings.Join(names, ", "), verb),
		Fields:  missing,
	}
}

// Missing lists the required fields of the stage that are not set in s, in
// stage order; nil when there are none or the process has no such stage.
func (c *Compiled) Missing(s Subject, stage string) []leadcycle.FieldError {
	i := c.Def.StageIndex(stage)
	if i < 0 {
		return nil
	}
	var out []leadcycle.FieldError
	for _, f := range c.stages[i].fields {
		if f.required && f.ref.missing(s) {
			out = append(out, leadcycle.FieldError{
				Field:   f.path,
				Message: fmt.Sprintf("is required to complete stage %q", c.Def.Stages[i].Name),
			})
		}
	}
	return out
}

// CanMove checks that a lead can be moved by hand to the stage: it must be
// a stage of the process. Moves by hand skip entry conditions.
func (c *Compiled) CanMove(to string) error {
	if c.Def.StageIndex(to) < 0 {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "stage", "no stage %q in process %q", to, c.Def.Name)
	}
	return nil
}

// current returns the index of the lead's stage, the first stage for a lead
// without one, or -1 when the lead has none or is in a stage the process
// does not have.
func (c *Compiled) current(s Subject) int {
	switch {
	case s.Lead == nil:
		return -1
	case s.Lead.Stage == "":
		return 0
	}
	return c.Def.StageIndex(s.Lead.Stage)
}

// key returns the key of the i-th stage.
func (c *Compiled) key(i int) string { return c.Def.Stages[i].Key }

// holds evaluates an optional condition; no condition always holds.
func holds(cond *scoring.Condition, s Subject, now time.Time) bool {
	return cond == nil || cond.Eval(s, now)
}
