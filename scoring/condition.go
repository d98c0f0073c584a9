package scoring

import (
	"strings"
	"time"

	"github.com/expr-lang/expr/vm"
	"github.com/leadcycle/leadcycle"
)

// Condition is a compiled standalone boolean expression over lead.*,
// contact.*, account.* and now, such as a business process's entry condition
// or transition condition. It sees the same environment as a scoring model's
// conditions and is safe for concurrent use.
type Condition struct {
	src     string
	program *vm.Program // nil for an empty expression, which always holds
	// env owns the plan of the fields the expression reads and the pool of
	// working memory; it scores nothing.
	env *Model
}

// CompileCondition type-checks src against the schemas and compiles it. An
// empty (or blank) src compiles to a condition that always holds. On failure
// it returns a *leadcycle.Error with code EInvalid whose message (see
// leadcycle.ErrorMessage) is the one a scoring model reports for the same
// expression, line:column included, to put after the path of the expression:
// `unknown field "titel" on contact (1:9)`.
func CompileCondition(src string, schemas Schemas) (*Condition, error) {
	c := &compiler{layout: newCondLayout(schemas), need: newNeeds()}
	p := c.condition("", "", src)
	if len(c.errs) > 0 {
		return nil, &leadcycle.Error{Code: leadcycle.EInvalid, Message: c.errs[0].Message}
	}
	cond := &Condition{src: strings.TrimSpace(src), program: p}
	if p == nil {
		return cond, nil
	}
	m := &Model{cond: c.need.plan(c.layout)}
	m.pool.New = func() any { return m.newScratch() }
	cond.env = m
	return cond, nil
}

// Source returns the expression, trimmed.
func (c *Condition) Source() string { return c.src }

// Eval reports whether the condition holds for s at now. A nil lead, contact
// or account reads as zero values; an expression that fails while it runs
// does not hold.
func (c *Condition) Eval(s Subject, now time.Time) bool {
	if c.program == nil {
		return true
	}
	if s.Lead == nil {
		s.Lead = &leadcycle.Lead{}
	}
	sc := c.env.pool.Get().(*scratch)
	defer c.env.pool.Put(sc)
	return sc.run(c.program, c.env.condEnv(sc, s, now))
}
