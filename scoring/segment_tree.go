package scoring

import (
	"fmt"
	"slices"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/leadcycle/leadcycle"
)

// SegExpr is a node of a checked segment query, for storage to translate.
// Conditions are SegAnd, SegOr, SegNot, SegCompare, SegText, SegIn,
// SegList (any, all, none) and SegInSegment; values are SegField,
// SegLiteral, SegDaysAgo, SegScore and SegList (count).
type SegExpr interface{ segExpr() }

// SegAnd and SegOr join two conditions; SegNot negates one.
type (
	SegAnd struct{ L, R SegExpr }
	SegOr  struct{ L, R SegExpr }
	SegNot struct{ X SegExpr }
)

// SegCompare compares two values of the same kind: Op is ==, !=, <, <=, >
// or >=. A boolean value used as a condition is SegCompare{"==", v, true}.
type SegCompare struct {
	Op   string
	L, R SegExpr
}

// SegText is a text test: Op is contains, startsWith or endsWith.
type SegText struct {
	Op   string
	L, R SegExpr
}

// SegIn holds when X equals one of the literals in List.
type SegIn struct {
	X    SegExpr
	List []SegLiteral
}

// SegField is a field: Scope is contact, account, lead, interaction or
// opportunity; a custom field has Custom set. Kind is text, number, bool or time. Missing
// values (no account, a NULL column, a custom value of another type) read as
// the kind's zero: "", 0, false, the zero time.
type SegField struct {
	Scope  string
	Name   string
	Custom bool
	Kind   string
}

// SegLiteral is a constant: a string, float64, bool or time.Time.
type SegLiteral struct{ Value any }

// SegDaysAgo is the time Days×24 hours before now.
type SegDaysAgo struct{ Days int }

// SegScore is a lead's score under the newest version of model Key that
// scored it (0 when none did); it appears in lead predicates.
type SegScore struct{ Key string }

// SegList is any, all, none or count (Fn) over the contact's leads,
// interactions or opportunities (Over) of the predicate Pred, whose fields
// have the scope lead, interaction or opportunity.
// The contact's opportunities are those whose contact_id is the contact and
// those whose lead's contact_id is the contact, each once.
type SegList struct {
	Fn   string
	Over string
	Pred SegExpr
}

// SegInSegment holds when the contact is a member of the segment.
type SegInSegment struct {
	Key string
	ID  leadcycle.ID
}

func (SegAnd) segExpr()       {}
func (SegOr) segExpr()        {}
func (SegNot) segExpr()       {}
func (SegCompare) segExpr()   {}
func (SegText) segExpr()      {}
func (SegIn) segExpr()        {}
func (SegField) segExpr()     {}
func (SegLiteral) segExpr()   {}
func (SegDaysAgo) segExpr()   {}
func (SegScore) segExpr()     {}
func (SegList) segExpr()      {}
func (SegInSegment) segExpr() {}

// KindOf returns the kind of a value node: text, number, bool or time.
func KindOf(e SegExpr) string {
	switch e := e.(type) {
	case SegField:
		return e.Kind
	case SegLiteral:
		switch e.Value.(type) {
		case string:
			return "text"
		case float64:
			return "number"
		case bool:
			return "bool"
		case time.Time:
			return "time"
		}
	case SegDaysAgo:
		return "time"
	case SegScore, SegList:
		return "number"
	}
	return "bool"
}

// segBuilder turns the checked expr tree into a SegExpr tree.
type segBuilder struct {
	layout  *segLayout
	resolve SegmentResolver
	q       *SegmentQuery
	src     []rune
}

func (b *segBuilder) fail(n ast.Node, format string, args ...any) error {
	if b.src == nil {
		b.src = []rune(b.q.src)
	}
	return positioned(n, b.src, format, args...)
}

// scopes: "" is the contact; "lead", "interaction" and "opportunity" are
// the elements of a list predicate.

// cond builds a condition.
func (b *segBuilder) cond(n ast.Node, scope string) (SegExpr, error) {
	switch n := n.(type) {
	case *ast.BinaryNode:
		switch n.Operator {
		case "and", "&&", "or", "||":
			l, err := b.cond(n.Left, scope)
			if err != nil {
				return nil, err
			}
			r, err := b.cond(n.Right, scope)
			if err != nil {
				return nil, err
			}
			if n.Operator == "and" || n.Operator == "&&" {
				return SegAnd{l, r}, nil
			}
			return SegOr{l, r}, nil
		case "==", "!=", "<", "<=", ">", ">=":
			l, err := b.value(n.Left, scope)
			if err != nil {
				return nil, err
			}
			r, err := b.value(n.Right, scope)
			if err != nil {
				return nil, err
			}
			kl, kr := KindOf(l), KindOf(r)
			if kl != kr {
				return nil, b.fail(n, "cannot compare %s with %s", article(kl), article(kr))
			}
			if err := b.window(n, l, r); err != nil {
				return nil, err
			}
			if kl == "bool" && n.Operator != "==" && n.Operator != "!=" {
				return nil, b.fail(n, "true and false can only be compared with == and !=")
			}
			return SegCompare{n.Operator, l, r}, nil
		case "contains", "startsWith", "endsWith":
			l, err := b.value(n.Left, scope)
			if err != nil {
				return nil, err
			}
			r, err := b.value(n.Right, scope)
			if err != nil {
				return nil, err
			}
			if KindOf(l) != "text" || KindOf(r) != "text" {
				return nil, b.fail(n, "%s needs text on both sides", n.Operator)
			}
			return SegText{n.Operator, l, r}, nil
		case "in":
			x, err := b.value(n.Left, scope)
			if err != nil {
				return nil, err
			}
			arr, ok := n.Right.(*ast.ArrayNode)
			if !ok {
				return nil, b.fail(n, "in needs a list of values: status in [\"open\", \"new\"]")
			}
			in := SegIn{X: x}
			for _, el := range arr.Nodes {
				v, err := b.value(el, scope)
				if err != nil {
					return nil, err
				}
				lit, ok := v.(SegLiteral)
				if !ok {
					return nil, b.fail(el, "the values of a list must be constants")
				}
				if KindOf(lit) != KindOf(x) {
					return nil, b.fail(el, "a list for %s must hold %s values", article(KindOf(x)), KindOf(x))
				}
				in.List = append(in.List, lit)
			}
			if len(in.List) == 0 {
				return nil, b.fail(n, "the list is empty")
			}
			return in, nil
		}
		return nil, b.fail(n, "the operator %s cannot be used in a segment query", n.Operator)
	case *ast.UnaryNode:
		if n.Operator == "not" || n.Operator == "!" {
			x, err := b.cond(n.Node, scope)
			if err != nil {
				return nil, err
			}
			return SegNot{x}, nil
		}
	case *ast.BuiltinNode:
		switch n.Name {
		case "any", "all", "none":
			return b.list(n, scope)
		}
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok && id.Value == "in_segment" {
			if scope != "" {
				return nil, b.fail(n, "in_segment is about the contact and cannot be used inside a list's predicate")
			}
			key, ok := constString(n)
			if !ok {
				return nil, b.fail(n, "in_segment needs a segment key in quotes: in_segment(\"customers\")")
			}
			id, found := leadcycle.ID(0), false
			if b.resolve != nil {
				id, found = b.resolve(key)
			}
			if !found {
				return nil, b.fail(n, "no segment with key %q", key)
			}
			b.q.Segments[key] = id
			b.q.Reads["segments"] = true
			return SegInSegment{Key: key, ID: id}, nil
		}
	case *ast.BoolNode:
		return SegCompare{"==", SegLiteral{n.Value}, SegLiteral{true}}, nil
	}
	// A boolean value (a field) used as a condition.
	v, err := b.value(n, scope)
	if err != nil {
		return nil, err
	}
	if KindOf(v) != "bool" {
		return nil, b.fail(n, "expected a condition (true or false), not %s", article(KindOf(v)))
	}
	return SegCompare{"==", v, SegLiteral{true}}, nil
}

func article(kind string) string {
	switch kind {
	case "text":
		return "text"
	case "number":
		return "a number"
	case "bool":
		return "true/false"
	case "time":
		return "a time"
	}
	return kind
}

// window records what a comparison with days_ago compares: a time field,
// whose crossing of now minus the days can change the result.
func (b *segBuilder) window(n ast.Node, l, r SegExpr) error {
	for _, pair := range [][2]SegExpr{{l, r}, {r, l}} {
		d, ok := pair[0].(SegDaysAgo)
		if !ok {
			continue
		}
		f, ok := pair[1].(SegField)
		if !ok || f.Custom || f.Kind != "time" {
			return b.fail(n, "days_ago compares with a time field such as created_at or .occurred_at")
		}
		key := f.Scope + "." + f.Name
		if !slices.Contains(b.q.Windows[key], d.Days) {
			b.q.Windows[key] = append(b.q.Windows[key], d.Days)
		}
	}
	return nil
}

// list builds any, all, none or count.
func (b *segBuilder) list(n *ast.BuiltinNode, scope string) (SegList, error) {
	if scope != "" {
		return SegList{}, b.fail(n, "%s cannot be nested inside another list's predicate", n.Name)
	}
	if len(n.Arguments) != 2 {
		return SegList{}, b.fail(n, "%s needs a list and a predicate: %s(leads, .status == \"open\")", n.Name, n.Name)
	}
	id, ok := n.Arguments[0].(*ast.IdentifierNode)
	elem, known := "", false
	if ok {
		elem, known = listElements[id.Value]
	}
	if !known {
		return SegList{}, b.fail(n, "%s works on leads, interactions or opportunities", n.Name)
	}
	pred, ok := n.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return SegList{}, b.fail(n, "%s needs a predicate such as .status == \"open\"", n.Name)
	}
	b.q.Reads[id.Value] = true
	p, err := b.cond(pred.Node, elem)
	if err != nil {
		return SegList{}, err
	}
	return SegList{Fn: n.Name, Over: id.Value, Pred: p}, nil
}

// value builds a value.
func (b *segBuilder) value(n ast.Node, scope string) (SegExpr, error) {
	switch n := n.(type) {
	case *ast.StringNode:
		return SegLiteral{n.Value}, nil
	case *ast.IntegerNode:
		return SegLiteral{float64(n.Value)}, nil
	case *ast.FloatNode:
		return SegLiteral{n.Value}, nil
	case *ast.BoolNode:
		return SegLiteral{n.Value}, nil
	case *ast.UnaryNode:
		if n.Operator == "-" {
			switch x := n.Node.(type) {
			case *ast.IntegerNode:
				return SegLiteral{-float64(x.Value)}, nil
			case *ast.FloatNode:
				return SegLiteral{-x.Value}, nil
			}
		}
	case *ast.IdentifierNode:
		if scope != "" {
			return nil, b.fail(n, "inside a list's predicate, use the %s's fields with a dot (.%s); the contact's %s cannot be used here", scope, fieldHint(scope), n.Value)
		}
		return b.field(n, "contact", n.Value, false)
	case *ast.MemberNode:
		return b.member(n, scope)
	case *ast.BuiltinNode:
		switch n.Name {
		case "count":
			return b.list(n, scope)
		case "date":
			if len(n.Arguments) == 1 {
				if _, ok := n.Arguments[0].(*ast.StringNode); ok {
					v, err := expr.Eval("date("+quote(n.Arguments[0].(*ast.StringNode).Value)+")", nil)
					if t, ok := v.(time.Time); ok && err == nil {
						t = t.UTC()
						if !t.Equal(t.Truncate(time.Microsecond)) {
							return nil, b.fail(n, "a date is kept to the microsecond")
						}
						return SegLiteral{t}, nil
					}
				}
			}
			return nil, b.fail(n, "date needs a date in quotes: date(\"2026-01-31\")")
		}
	case *ast.CallNode:
		switch callee := n.Callee.(type) {
		case *ast.IdentifierNode:
			if callee.Value == "days_ago" {
				if len(n.Arguments) == 1 {
					if i, ok := n.Arguments[0].(*ast.IntegerNode); ok && i.Value >= 0 && i.Value <= 36500 {
						return SegDaysAgo{i.Value}, nil
					}
				}
				return nil, b.fail(n, "days_ago needs a number of days from 0 to 36500: days_ago(30)")
			}
		case *ast.MemberNode:
			if _, ok := callee.Node.(*ast.PointerNode); ok && scope == "lead" && propertyName(callee) == "score" {
				key, ok := constString(n)
				if !ok {
					return nil, b.fail(n, "score needs a scoring model key in quotes: .score(\"fit\")")
				}
				if !slices.Contains(b.q.ModelKeys, key) {
					b.q.ModelKeys = append(b.q.ModelKeys, key)
				}
				b.q.Reads["scores"] = true
				return SegScore{key}, nil
			}
		}
	}
	return nil, b.fail(n, "this cannot be used in a segment query (use fields, constants, comparisons, and, or, not, in, contains, startsWith, endsWith, any, all, none, count, in_segment, days_ago and date)")
}

// listElements maps the lists of a segment query to the scope of their
// elements.
var listElements = map[string]string{"leads": "lead", "interactions": "interaction", "opportunities": "opportunity"}

func fieldHint(scope string) string {
	if scope == "interaction" {
		return "type"
	}
	return "status"
}

// member builds a field read through a dot: account.industry,
// contact.custom.tier, .status, .custom.budget.
func (b *segBuilder) member(n *ast.MemberNode, scope string) (SegExpr, error) {
	name := propertyName(n)
	switch inner := n.Node.(type) {
	case *ast.PointerNode:
		if scope == "" {
			return nil, b.fail(n, "a field with a leading dot belongs inside a list's predicate")
		}
		return b.field(n, scope, name, false)
	case *ast.IdentifierNode:
		switch inner.Value {
		case "custom":
			if scope != "" {
				break
			}
			return b.field(n, "contact", name, true)
		case "contact", "account":
			if scope != "" {
				break
			}
			return b.field(n, inner.Value, name, false)
		}
	case *ast.MemberNode:
		if propertyName(inner) != "custom" {
			break
		}
		switch in := inner.Node.(type) {
		case *ast.PointerNode:
			if scope == "lead" || scope == "opportunity" {
				return b.field(n, scope, name, true)
			}
		case *ast.IdentifierNode:
			if scope == "" && (in.Value == "contact" || in.Value == "account") {
				return b.field(n, in.Value, name, true)
			}
		}
	}
	return nil, b.fail(n, "this field cannot be used in a segment query")
}

// field checks a field against the layout and records what the query reads.
func (b *segBuilder) field(n ast.Node, scope, name string, custom bool) (SegExpr, error) {
	key := scope
	if custom {
		key += ".custom"
	}
	kind, ok := b.layout.fields[key][name]
	if !ok {
		return nil, b.fail(n, "%s has no field %q that a segment query can use", key, name)
	}
	if kind == "date" {
		return nil, b.fail(n, "custom date fields cannot be used in segment queries yet")
	}
	switch scope {
	case "contact":
		b.q.Reads["contact"] = true
	case "account":
		b.q.Reads["account"] = true
	}
	return SegField{Scope: scope, Name: name, Custom: custom, Kind: kind}, nil
}

func propertyName(n *ast.MemberNode) string {
	if s, ok := n.Property.(*ast.StringNode); ok {
		return s.Value
	}
	return ""
}

// constString returns the one string argument of a call.
func constString(n *ast.CallNode) (string, bool) {
	if len(n.Arguments) != 1 {
		return "", false
	}
	s, ok := n.Arguments[0].(*ast.StringNode)
	if !ok {
		return "", false
	}
	return s.Value, true
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

// Trends of a query's result as time passes with no new data.
const (
	// TrendConstant: time alone never changes it.
	TrendConstant = iota
	// TrendFalling: it can only go from true to false (a count of recent
	// interactions that must be high enough: a member can leave, no one
	// joins).
	TrendFalling
	// TrendRising: it can only go from false to true.
	TrendRising
	// TrendMixed: either way.
	TrendMixed
)

// Trend returns how the query's result can change with time alone.
func (q *SegmentQuery) Trend() int { return trendOf(q.Tree) }

// combine is the trend of a function rising in both of two arguments.
func combine(a, b int) int {
	switch {
	case a == TrendConstant:
		return b
	case b == TrendConstant || a == b:
		return a
	}
	return TrendMixed
}

func flipTrend(t int) int {
	switch t {
	case TrendFalling:
		return TrendRising
	case TrendRising:
		return TrendFalling
	}
	return t
}

func trendOf(e SegExpr) int {
	switch e := e.(type) {
	case SegAnd:
		return combine(trendOf(e.L), trendOf(e.R))
	case SegOr:
		return combine(trendOf(e.L), trendOf(e.R))
	case SegNot:
		return flipTrend(trendOf(e.X))
	case SegList:
		t := trendOf(e.Pred)
		switch e.Fn {
		case "none":
			return flipTrend(t)
		}
		return t // any, all, and count as a number
	case SegCompare:
		l, r, op := e.L, e.R, e.Op
		if _, ok := l.(SegDaysAgo); ok {
			l, r, op = r, l, flipOp[op]
		}
		if _, ok := r.(SegDaysAgo); ok {
			// days_ago grows with time: "t > days_ago(n)" goes from true to
			// false.
			switch op {
			case ">", ">=":
				return TrendFalling
			case "<", "<=":
				return TrendRising
			}
			return TrendMixed
		}
		lt, rt := valueTrend(l), valueTrend(r)
		switch op {
		case ">", ">=":
			return combine(lt, flipTrend(rt))
		case "<", "<=":
			return combine(flipTrend(lt), rt)
		}
		if lt == TrendConstant && rt == TrendConstant {
			return TrendConstant
		}
		return TrendMixed
	}
	return TrendConstant
}

// valueTrend is the trend of a value: a count follows its predicate.
func valueTrend(e SegExpr) int {
	if l, ok := e.(SegList); ok {
		return trendOf(l.Pred)
	}
	return TrendConstant
}

var flipOp = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// EachSeg calls visit for e and every expression below it through and, or,
// not and comparisons; it does not enter the predicates of lists.
func EachSeg(e SegExpr, visit func(SegExpr)) {
	visit(e)
	switch e := e.(type) {
	case SegAnd:
		EachSeg(e.L, visit)
		EachSeg(e.R, visit)
	case SegOr:
		EachSeg(e.L, visit)
		EachSeg(e.R, visit)
	case SegNot:
		EachSeg(e.X, visit)
	case SegCompare:
		EachSeg(e.L, visit)
		EachSeg(e.R, visit)
	}
}
