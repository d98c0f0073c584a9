package scoring

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/leadcycle/leadcycle"
)

// Schemas are the custom field definitions expressions are checked against.
// Opportunity is read by segment queries only: scoring and processes see no
// opportunities.
type Schemas struct{ Contact, Account, Lead, Opportunity leadcycle.Schema }

// Model is a compiled scoring model, safe for concurrent use. Def is the
// definition it was compiled from; it must not be changed afterwards.
type Model struct {
	Def *leadcycle.ScoringModel

	applies *vm.Program
	rules   []rule
	types   []string
	cond    *condPlan // nil when the model has no conditions and no applies_to
	pool    sync.Pool // of *scratch
}

// rule is a compiled scoring rule.
type rule struct {
	name      string
	points    int64
	conds     []*vm.Program
	behaviors []behavior
	halfLife  float64 // days; 0 when points do not decay
	eachTime  int     // index of the each_time behaviour, or -1
}

// behavior is a compiled behavioural condition.
type behavior struct {
	typ       string
	where     *vm.Program // nil when every interaction of the type matches
	whereSets []func(*whereVars, *leadcycle.Interaction)
	freq      string
	count     int
	window    time.Duration // 0 when there is none
	since     time.Time     // zero when there is none
	until     time.Time     // zero when there is none
}

// Entities of the condition environment, in the order of its fields.
const (
	entContact = iota
	entAccount
	entLead
	entities
)

// entityNames are the names expressions use for the entities.
var entityNames = [entities]string{"contact", "account", "lead"}

// condLayout is the type of the environment of conditions and applies_to.
// The variables are a struct{contact; account; lead; now}, each entity being
// its built-in fields (embedded) and a struct of the installation's custom
// fields. Programs see them through a struct embedding a pointer to them:
// such a struct fits in an interface without copying, so running a program
// copies only the fields it reads instead of all of them.
type condLayout struct {
	typ    reflect.Type // struct{*vars}
	vars   reflect.Type
	custom [entities][]customField
	// kinds maps the printed form of each entity type and custom type to
	// what it is, to turn expr's messages into readable ones.
	kinds map[string]typeKind
	names *strings.Replacer
}

// typeKind says which entity a type printed in a message belongs to.
type typeKind struct {
	entity int
	custom bool
}

// condPlan is what a model needs to fill the condition environment: the
// layout and the fields its expressions read.
type condPlan struct {
	layout      *condLayout
	contactSets []func(*contactVars, *leadcycle.Contact)
	accountSets []func(*accountVars, *leadcycle.Account)
	leadSets    []func(*leadVars, *leadcycle.Lead)
	custom      [entities][]customField
}

// newCondLayout builds the condition environment type for the schemas.
func newCondLayout(s Schemas) *condLayout {
	l := &condLayout{kinds: map[string]typeKind{}}
	vars := [entities]reflect.Type{reflect.TypeFor[contactVars](), reflect.TypeFor[accountVars](), reflect.TypeFor[leadVars]()}
	schemas := [entities]leadcycle.Schema{s.Contact, s.Account, s.Lead}
	var fields []reflect.StructField
	var pairs []string
	for e := range entities {
		ct, cf := customType(entityNames[e], schemas[e])
		l.custom[e] = cf
		et := reflect.StructOf([]reflect.StructField{
			{Name: "Vars", Type: vars[e], Anonymous: true, Tag: `expr:"-"`},
			{Name: "Custom", Type: ct, Tag: `expr:"custom"`},
		})
		name := entityNames[e]
		fields = append(fields, reflect.StructField{Name: strings.ToUpper(name[:1]) + name[1:], Type: et, Tag: reflect.StructTag(`expr:"` + name + `"`)})
		l.kinds[et.String()] = typeKind{entity: e}
		l.kinds[ct.String()] = typeKind{entity: e, custom: true}
		pairs = append(pairs, et.String(), name, ct.String(), name+".custom", vars[e].String(), name)
	}
	fields = append(fields, reflect.StructField{Name: "Now", Type: reflect.TypeFor[time.Time](), Tag: `expr:"now"`})
	l.vars = reflect.StructOf(fields)
	l.typ = reflect.StructOf([]reflect.StructField{
		{Name: "Vars", Type: reflect.PointerTo(l.vars), Anonymous: true, Tag: `expr:"-"`},
	})
	l.names = strings.NewReplacer(pairs...)
	return l
}

// zero returns an empty environment, for compiling. Programs must run with
// an environment of the same type.
func (l *condLayout) zero() any { return reflect.Zero(l.typ).Interface() }

// Compile checks def (which the caller has normalised) and compiles every
// expression, type-checked against the schemas. It returns a
// *leadcycle.Error with code EInvalid listing every problem: those of
// def.Validate and one per faulty expression, with paths such as
// rules[1].conditions[0], rules[0].behaviors[0].where or applies_to.
func Compile(def *leadcycle.ScoringModel, schemas Schemas) (*Model, error) {
	c := &compiler{layout: newCondLayout(schemas), need: newNeeds()}
	c.errs = append(c.errs, leadcycle.ErrorFields(def.Validate())...)
	m := &Model{Def: def}
	m.applies = c.condition("applies_to", "applies_to: ", def.AppliesTo)
	m.rules = make([]rule, len(def.Rules))
	for i := range def.Rules {
		m.rules[i] = c.rule(i, &def.Rules[i])
	}
	if len(c.errs) > 0 {
		e := &leadcycle.Error{Code: leadcycle.EInvalid, Fields: c.errs}
		e.Message = "validation failed: " + c.errs[0].Field + ": " + c.errs[0].Message
		return nil, e
	}
	m.types = interactionTypes(def)
	if c.conditions > 0 {
		m.cond = c.need.plan(c.layout)
	}
	m.pool.New = func() any { return m.newScratch() }
	return m, nil
}

// compiler collects the errors and field needs of one model's expressions.
type compiler struct {
	layout     *condLayout
	need       *needs
	conditions int // number of compiled conditions, applies_to included
	errs       []leadcycle.FieldError
}

// rule compiles the i-th rule.
func (c *compiler) rule(i int, r *leadcycle.ScoringRule) rule {
	path := fmt.Sprintf("rules[%d]", i)
	prefix := fmt.Sprintf("rule %q: ", r.Name)
	if r.Name == "" {
		prefix = fmt.Sprintf("rule %d: ", i+1)
	}
	out := rule{name: r.Name, points: r.Points, eachTime: -1}
	for j, src := range r.Conditions {
		if p := c.condition(fmt.Sprintf("%s.conditions[%d]", path, j), prefix, src); p != nil {
			out.conds = append(out.conds, p)
		}
	}
	for j := range r.Behaviors {
		b := &r.Behaviors[j]
		if b.Frequency == leadcycle.FrequencyEachTime {
			out.eachTime = j
		}
		out.behaviors = append(out.behaviors, c.behavior(fmt.Sprintf("%s.behaviors[%d].where", path, j), prefix, b))
	}
	if r.HalfLifeDays != nil {
		out.halfLife = *r.HalfLifeDays
	}
	return out
}

// behavior compiles a behavioural condition.
func (c *compiler) behavior(path, prefix string, b *leadcycle.Behavior) behavior {
	out := behavior{typ: b.Type, freq: b.Frequency, count: b.Count}
	if b.WindowDays != nil {
		out.window = time.Duration(*b.WindowDays) * 24 * time.Hour
	}
	if b.Since != nil {
		out.since = *b.Since
	}
	if b.Until != nil {
		out.until = *b.Until
	}
	if strings.TrimSpace(b.Where) == "" {
		return out
	}
	out.where = c.compile(path, prefix, b.Where, whereEnv{}, whereHint)
	if out.where != nil {
		u := collectUses(out.where)
		out.whereSets = pick(whereSetters, u.idents, u.idents["$env"])
	}
	return out
}

// condition compiles a condition or applies_to; it returns nil for an empty
// expression (Validate reports empty conditions) or an error.
func (c *compiler) condition(path, prefix, src string) *vm.Program {
	if strings.TrimSpace(src) == "" {
		return nil
	}
	p := c.compile(path, prefix, src, c.layout.zero(), conditionHint)
	if p != nil {
		c.conditions++
		c.need.add(collectUses(p))
	}
	return p
}

// Hints listing the names an expression can use, added to "unknown name".
const (
	conditionHint = "conditions can use contact, account, lead and now"
	whereHint     = "a behavior's where can use type, occurred_at, lead_id, form_id, email_id, event_id, url, referrer, properties and now"
)

// compile compiles one expression against env, recording an error at path.
func (c *compiler) compile(path, prefix, src string, env any, hint string) *vm.Program {
	if _, err := parser.Parse(src); err != nil {
		c.fail(path, prefix+"syntax error: "+c.describe(err, hint))
		return nil
	}
	p, err := expr.Compile(src, expr.Env(env), expr.AsBool(), expr.DisableBuiltin("now"))
	if err != nil {
		c.fail(path, prefix+c.describe(err, hint))
		return nil
	}
	return p
}

func (c *compiler) fail(path, msg string) {
	c.errs = append(c.errs, leadcycle.FieldError{Field: path, Message: msg})
}

// describe turns an expr error into one line a marketer can read: the
// problem in plain words and the line:column, without expr's source snippet.
func (c *compiler) describe(err error, hint string) string {
	var fe *file.Error
	if !errors.As(err, &fe) {
		return c.explain(err.Error(), hint)
	}
	msg := c.explain(fe.Message, hint)
	if fe.Line > 0 {
		msg += fmt.Sprintf(" (%d:%d)", fe.Line, fe.Column+1)
	}
	return msg
}

// explain rewrites the messages of expr that name Go types or read like a
// compiler's.
func (c *compiler) explain(msg, hint string) string {
	if typ, field, ok := cutNoField(msg); ok {
		if k, found := c.layout.kinds[typ]; found {
			if k.custom {
				return fmt.Sprintf("unknown custom field %q on %s", field, entityNames[k.entity])
			}
			return fmt.Sprintf("unknown field %q on %s", field, entityNames[k.entity])
		}
	}
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		return fmt.Sprintf("unknown name %q (%s)", name, hint)
	}
	if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
		return "expression must be true or false, not " + c.layout.names.Replace(got)
	}
	if msg == "time.Time is not callable" {
		return "a time is not a function (write now, not now())"
	}
	if op, a, b, ok := cutMismatch(msg); ok {
		return fmt.Sprintf("type mismatch: %s between %s and %s", op, a, b)
	}
	msg = strings.ReplaceAll(msg, "scoring.whereEnv", "interaction")
	return c.layout.names.Replace(msg)
}

// cutNoField parses "type T has no field F".
func cutNoField(msg string) (typ, field string, ok bool) {
	rest, ok := strings.CutPrefix(msg, "type ")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndex(rest, " has no field ")
	if i < 0 {
		return "", "", false
	}
	return rest[:i], rest[i+len(" has no field "):], true
}

// cutMismatch parses "invalid operation: OP (mismatched types A and B)".
func cutMismatch(msg string) (op, a, b string, ok bool) {
	rest, ok := strings.CutPrefix(msg, "invalid operation: ")
	if !ok {
		return "", "", "", false
	}
	op, types, ok := strings.Cut(rest, " (mismatched types ")
	if !ok {
		return "", "", "", false
	}
	a, b, ok = strings.Cut(strings.TrimSuffix(types, ")"), " and ")
	return op, a, b, ok
}

// interactionTypes returns the distinct behaviour types of def, sorted.
func interactionTypes(def *leadcycle.ScoringModel) []string {
	var out []string
	for _, r := range def.Rules {
		for _, b := range r.Behaviors {
			out = append(out, b.Type)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// InteractionTypes returns the distinct interaction types the model's
// behaviours use, sorted; Score ignores interactions of other types.
func (m *Model) InteractionTypes() []string { return slices.Clone(m.types) }

// Since returns the earliest occurred_at any behaviour can count at now:
// interactions that occurred before it cannot change the score. ok is false
// when some behaviour counts interactions of all time. A model without
// behaviours needs no interactions and returns now.
func (m *Model) Since(now time.Time) (t time.Time, ok bool) {
	for _, r := range m.rules {
		for _, b := range r.behaviors {
			var from time.Time
			switch {
			case b.window > 0:
				from = now.Add(-b.window)
			case !b.since.IsZero():
				from = b.since
			default:
				return time.Time{}, false
			}
			if t.IsZero() || from.Before(t) {
				t = from
			}
		}
	}
	if t.IsZero() {
		return now, true
	}
	return t, true
}
