package process

import (
	"fmt"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// Subject is the lead a process moves, with its contact and account (nil
// when none); Interactions are not used.
type Subject = scoring.Subject

// Compiled is a checked process with its expressions compiled, safe for
// concurrent use. Def is the definition it was compiled from; it must not be
// changed afterwards.
type Compiled struct {
	Def *leadcycle.Process

	stages      []stage
	transitions []transition
}

// stage is a compiled stage.
type stage struct {
	entry  *scoring.Condition // nil when the stage has no entry condition
	fields []field
	next   []branch
}

// field is a compiled stage field.
type field struct {
	path     string
	ref      fieldRef
	required bool
}

// branch is a compiled branch.
type branch struct {
	when *scoring.Condition // nil when the branch always holds
	to   int
}

// transition is a compiled transition.
type transition struct {
	name, on string
	cond     *scoring.Condition // nil when there is none
	from     []int              // the stages it moves leads from
	to       int
}

// Compile checks def (which the caller has normalised) and compiles it
// against the custom field schemas. It returns a *leadcycle.Error with code
// EInvalid listing every problem: those of def.Validate, unknown stage
// fields (stages[0].fields[1].field) and faulty expressions
// (stages[1].entry_condition, stages[1].next[0].when,
// transitions[2].condition), each message naming the stage or transition.
func Compile(def *leadcycle.Process, schemas scoring.Schemas) (*Compiled, error) {
	c := &compiler{def: def, schemas: schemas}
	c.errs = append(c.errs, leadcycle.ErrorFields(def.Validate())...)
	out := &Compiled{Def: def, stages: make([]stage, len(def.Stages)), transitions: make([]transition, len(def.Transitions))}
	for i := range def.Stages {
		out.stages[i] = c.stage(i)
	}
	for i := range def.Transitions {
		out.transitions[i] = c.transition(i)
	}
	if len(c.errs) > 0 {
		e := &leadcycle.Error{Code: leadcycle.EInvalid, Fields: c.errs}
		e.Message = "validation failed: " + c.errs[0].Field + ": " + c.errs[0].Message
		return nil, e
	}
	return out, nil
}

// compiler collects the errors of one process's fields and expressions.
type compiler struct {
	def     *leadcycle.Process
	schemas scoring.Schemas
	errs    []leadcycle.FieldError
}

// stage compiles the i-th stage.
func (c *compiler) stage(i int) stage {
	s := &c.def.Stages[i]
	path, label := fmt.Sprintf("stages[%d]", i), stageLabel(c.def, i)
	out := stage{entry: c.condition(path+".entry_condition", label, s.EntryCondition)}
	for j, f := range s.Fields {
		ref, ok := resolveField(f.Field, c.schemas)
		if !ok && f.Field != "" {
			c.fail(fmt.Sprintf("%s.fields[%d].field", path, j), fmt.Sprintf("unknown field %q in %s", f.Field, label))
		}
		out.fields = append(out.fields, field{path: f.Field, ref: ref, required: f.Required})
	}
	for k, b := range s.Next {
		when := c.condition(fmt.Sprintf("%s.next[%d].when", path, k), label, b.When)
		out.next = append(out.next, branch{when: when, to: c.def.StageIndex(b.To)})
	}
	return out
}

// transition compiles the i-th transition.
func (c *compiler) transition(i int) transition {
	t := c.def.Transitions[i]
	path := fmt.Sprintf("transitions[%d]", i)
	out := transition{name: t.Name, on: t.On, to: c.def.StageIndex(t.To)}
	out.cond = c.condition(path+".condition", transitionLabel(c.def, i), t.Condition)
	for _, key := range c.def.TransitionSources(t) {
		out.from = append(out.from, c.def.StageIndex(key))
	}
	return out
}

// condition compiles one expression; it returns nil for an empty one or an
// error.
func (c *compiler) condition(path, label, src string) *scoring.Condition {
	if src == "" {
		return nil
	}
	cond, err := scoring.CompileCondition(src, c.schemas)
	if err != nil {
		c.fail(path, label+": "+leadcycle.ErrorMessage(err))
		return nil
	}
	return cond
}

func (c *compiler) fail(path, msg string) {
	c.errs = append(c.errs, leadcycle.FieldError{Field: path, Message: msg})
}

// stageLabel names the i-th stage of p in messages: by name, else by
// position.
func stageLabel(p *leadcycle.Process, i int) string {
	if name := p.Stages[i].Name; name != "" {
		return fmt.Sprintf("stage %q", name)
	}
	return fmt.Sprintf("stage %d", i+1)
}

// transitionLabel names the i-th transition of p in messages.
func transitionLabel(p *leadcycle.Process, i int) string {
	if name := p.Transitions[i].Name; name != "" {
		return fmt.Sprintf("transition %q", name)
	}
	return fmt.Sprintf("transition %d", i+1)
}
