package scoring

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	"github.com/leadcycle/leadcycle"
)

// Segment queries are expressions of the scoring language over one contact:
//
//	job_title contains "CTO" and custom.tier == "gold"
//	account.industry == "Retail" and account.employees >= 50
//	any(leads, .status == "open" and .score("fit") > 50)
//	count(interactions, .type == "email_opened" and .email_id == "x", 14d) >= 2
//	any(opportunities, .status == "won" and .estimated_value > 10000)
//	in_segment("webinar-2026") and not in_segment("customers")
//	created_at > days_ago(30)
//
// The contact's fields are written bare or as contact.<field>; its account
// as account.<field> (zero values without an account); leads, interactions
// and opportunities are lists for any, all, none and count, whose predicates
// read the element's fields (.status, .email_id, .url, .estimated_value…,
// and .custom.<name> on leads and opportunities) and, on a lead,
// .score("model_key") — the lead's score under the newest version of the
// model that scored it, 0 when none did. A window (14d) as the last argument of count, any or
// none on interactions counts only those that occurred within the last 14×24
// hours (as scoring's windows do); days_ago(n) is the time n×24 hours ago.
//
// A contact's opportunities are those whose contact_id is the contact and
// those whose lead's contact_id is the contact (an opportunity made by
// qualifying a lead keeps the lead), each counted once. An opportunity
// without an estimated value reads .estimated_value as 0, one not closed
// .closed_at as the zero time, as every missing value reads as its kind's
// zero.
//
// A query compiles twice from the same checked tree: to an expr program
// that evaluates one contact in memory, and to a SegExpr tree that storage
// turns into SQL through its field allowlist. Only what both can compute
// alike is accepted; anything else is an error naming the problem.

// segInteractionVars are the interaction fields a segment query sees.
type segInteractionVars struct {
	Type       string    `expr:"type"`
	OccurredAt time.Time `expr:"occurred_at"`
	LeadID     string    `expr:"lead_id"`
	FormID     string    `expr:"form_id"`
	EmailID    string    `expr:"email_id"`
	EventID    string    `expr:"event_id"`
	URL        string    `expr:"url"`
	Referrer   string    `expr:"referrer"`
}

// segOpportunityVars are the opportunity fields a segment query sees.
type segOpportunityVars struct {
	ID                string    `expr:"id"`
	Name              string    `expr:"name"`
	Status            string    `expr:"status"`
	EstimatedValue    float64   `expr:"estimated_value"`
	Currency          string    `expr:"currency"`
	ExpectedCloseDate string    `expr:"expected_close_date"`
	ClosedAt          time.Time `expr:"closed_at"`
	CreatedAt         time.Time `expr:"created_at"`
	LeadID            string    `expr:"lead_id"`
	OwnerID           string    `expr:"owner_id"`
}

// segLayout is the type of a segment query's environment for one set of
// custom field schemas.
type segLayout struct {
	top, contact, account, lead, opportunity reflect.Type
	custom                                   [entities][]customField
	opportunityCustom                        []customField
	// fields maps scope → field name → type ("text", "number", "bool",
	// "time") of the built-in fields, and of the custom ones under
	// scope+".custom".
	fields map[string]map[string]string
	names  *strings.Replacer
}

// Indexes of the fields of the entity structs and of the top struct.
const (
	entVars   = 0
	entCustom = 1
	entScore  = 2 // leads only

	topContact       = 0 // embedded: bare contact fields
	topContactNamed  = 1
	topAccount       = 2
	topLeads         = 3
	topInteractions  = 4
	topInSegment     = 5
	topDaysAgo       = 6
	topOpportunities = 7
)

func newSegLayout(s Schemas) *segLayout {
	l := &segLayout{fields: map[string]map[string]string{}}
	schemas := [entities]leadcycle.Schema{s.Contact, s.Account, s.Lead}
	vars := [entities]reflect.Type{reflect.TypeFor[contactVars](), reflect.TypeFor[accountVars](), reflect.TypeFor[leadVars]()}
	var ents [entities]reflect.Type
	var pairs []string
	for e := range entities {
		ct, cf := customType("seg"+entityNames[e], schemas[e])
		l.custom[e] = cf
		fields := []reflect.StructField{
			{Name: "Vars", Type: vars[e], Anonymous: true, Tag: `expr:"-"`},
			{Name: "Custom", Type: ct, Tag: `expr:"custom"`},
		}
		if e == entLead {
			fields = append(fields, reflect.StructField{Name: "Score", Type: reflect.TypeFor[func(string) int](), Tag: `expr:"score"`})
		}
		ents[e] = reflect.StructOf(fields)
		name := entityNames[e]
		pairs = append(pairs, ents[e].String(), name, ct.String(), name+".custom", vars[e].String(), name)
		l.fields[name] = structFields(vars[e])
		custom := map[string]string{}
		for _, f := range cf {
			custom[f.name] = customKind(f.kind)
		}
		l.fields[name+".custom"] = custom
	}
	l.fields["interaction"] = structFields(reflect.TypeFor[segInteractionVars]())
	pairs = append(pairs, reflect.TypeFor[segInteractionVars]().String(), "interaction")
	oct, ocf := customType("segopportunity", s.Opportunity)
	l.opportunityCustom = ocf
	l.opportunity = reflect.StructOf([]reflect.StructField{
		{Name: "Vars", Type: reflect.TypeFor[segOpportunityVars](), Anonymous: true, Tag: `expr:"-"`},
		{Name: "Custom", Type: oct, Tag: `expr:"custom"`},
	})
	pairs = append(pairs, l.opportunity.String(), "opportunity", oct.String(), "opportunity.custom",
		reflect.TypeFor[segOpportunityVars]().String(), "opportunity")
	l.fields["opportunity"] = structFields(reflect.TypeFor[segOpportunityVars]())
	ocustom := map[string]string{}
	for _, f := range ocf {
		ocustom[f.name] = customKind(f.kind)
	}
	l.fields["opportunity.custom"] = ocustom
	l.contact, l.account, l.lead = ents[entContact], ents[entAccount], ents[entLead]
	l.top = reflect.StructOf([]reflect.StructField{
		{Name: "Self", Type: l.contact, Anonymous: true, Tag: `expr:"-"`},
		{Name: "Contact", Type: l.contact, Tag: `expr:"contact"`},
		{Name: "Account", Type: l.account, Tag: `expr:"account"`},
		{Name: "Leads", Type: reflect.SliceOf(l.lead), Tag: `expr:"leads"`},
		{Name: "Interactions", Type: reflect.TypeFor[[]segInteractionVars](), Tag: `expr:"interactions"`},
		{Name: "InSegment", Type: reflect.TypeFor[func(string) bool](), Tag: `expr:"in_segment"`},
		{Name: "DaysAgo", Type: reflect.TypeFor[func(int) time.Time](), Tag: `expr:"days_ago"`},
		{Name: "Opportunities", Type: reflect.SliceOf(l.opportunity), Tag: `expr:"opportunities"`},
	})
	pairs = append(pairs, l.top.String(), "contact")
	l.names = strings.NewReplacer(pairs...)
	return l
}

// structFields maps the expr names of a struct's fields to their kinds.
func structFields(t reflect.Type) map[string]string {
	out := map[string]string{}
	for i := range t.NumField() {
		f := t.Field(i)
		name := f.Tag.Get("expr")
		switch f.Type.Kind() {
		case reflect.String:
			out[name] = "text"
		case reflect.Int, reflect.Int64, reflect.Float64:
			out[name] = "number"
		case reflect.Bool:
			out[name] = "bool"
		case reflect.Struct:
			if f.Type == reflect.TypeFor[time.Time]() {
				out[name] = "time"
			}
		}
	}
	return out
}

func customKind(kind string) string {
	switch kind {
	case leadcycle.FieldNumber:
		return "number"
	case leadcycle.FieldBool:
		return "bool"
	case leadcycle.FieldDate:
		return "date"
	}
	return "text"
}

// SegmentResolver looks up the other segments a query names.
type SegmentResolver func(key string) (id leadcycle.ID, ok bool)

// SegmentQuery is a compiled segment query, safe for concurrent use.
type SegmentQuery struct {
	src     string
	program *vm.Program
	layout  *segLayout
	// Tree is the query for storage to translate into SQL.
	Tree SegExpr
	// Segments are the keys of the segments in_segment names, with their ids.
	Segments map[string]leadcycle.ID
	// ModelKeys are the scoring models .score names.
	ModelKeys []string
	// Windows are the day counts of the query's windows and days_ago calls
	// by the time field they are compared with ("contact.created_at",
	// "account.created_at", "lead.created_at", "interaction.occurred_at",
	// "opportunity.created_at", "opportunity.closed_at"):
	// the query's result can change with time alone when such a time
	// crosses now minus one of them.
	Windows map[string][]int
	// Reads says which data the query reads: "contact", "account", "leads",
	// "scores", "interactions", "opportunities", "segments".
	Reads map[string]bool
}

// Source returns the query as written.
func (q *SegmentQuery) Source() string { return q.src }

// CompileSegment type-checks a segment query against the schemas and the
// segments it names and compiles it. Errors are a *leadcycle.Error with code
// EInvalid on the field "query", naming the problem and its line:column.
func CompileSegment(src string, schemas Schemas, resolve SegmentResolver) (*SegmentQuery, error) {
	src = strings.TrimSpace(src)
	if src == "" {
		return nil, queryError("is required")
	}
	layout := newSegLayout(schemas)
	rewritten, windows, err := expandWindows(src)
	if err != nil {
		return nil, err
	}
	if _, err := parser.Parse(rewritten); err != nil {
		return nil, queryError("syntax error: " + layout.describe(err))
	}
	program, err := expr.Compile(rewritten, expr.Env(reflect.Zero(layout.top).Interface()), expr.AsBool(),
		expr.Optimize(false), expr.DisableBuiltin("now"), expr.Patch(windowPatch{windows}))
	if err != nil {
		return nil, queryError(layout.describe(err))
	}
	b := &segBuilder{layout: layout, resolve: resolve, q: &SegmentQuery{src: src, program: program, layout: layout,
		Segments: map[string]leadcycle.ID{}, Reads: map[string]bool{}, Windows: map[string][]int{}}}
	tree, err := b.cond(program.Node(), "")
	if err != nil {
		return nil, err
	}
	b.q.Tree = tree
	return b.q, nil
}

func queryError(msg string) error {
	return leadcycle.FieldErrorf(leadcycle.EInvalid, "query", "%s", msg)
}

// positioned is a query error at a node.
func positioned(n ast.Node, src []rune, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	loc := n.Location()
	line, col := 1, 0
	for i := 0; i < loc.From && i < len(src); i++ {
		if src[i] == '\n' {
			line, col = line+1, 0
		} else {
			col++
		}
	}
	return queryError(fmt.Sprintf("%s (%d:%d)", msg, line, col+1))
}

func (l *segLayout) describe(err error) string {
	var fe *file.Error
	msg := err.Error()
	if errors.As(err, &fe) {
		msg = fe.Message
	}
	if typ, field, ok := cutNoField(msg); ok {
		msg = fmt.Sprintf("unknown field %q on %s", field, l.names.Replace(typ))
	} else if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		msg = fmt.Sprintf("unknown name %q (%s)", name, segmentHint)
	} else if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
		msg = "the query must be true or false, not " + l.names.Replace(got)
	} else if op, a, b, ok := cutMismatch(msg); ok {
		msg = fmt.Sprintf("type mismatch: %s between %s and %s", op, l.goKind(a), l.goKind(b))
	} else {
		msg = l.names.Replace(msg)
	}
	if fe != nil && fe.Line > 0 {
		msg += fmt.Sprintf(" (%d:%d)", fe.Line, fe.Column+1)
	}
	return msg
}

// goKind names a Go type of expr's messages as queries know it.
func (l *segLayout) goKind(t string) string {
	switch t {
	case "int", "float64":
		return "a number"
	case "string":
		return "text"
	case "bool":
		return "true/false"
	case "time.Time":
		return "a time"
	}
	return l.names.Replace(t)
}

const segmentHint = "a segment query can use the contact's fields, contact, account, leads, interactions, opportunities, in_segment and days_ago"

// windowFuncs are the list functions that take a window as a third argument.
var windowFuncs = map[string]bool{"count": true, "any": true, "none": true}

// expandWindows finds the windows written as the last argument of count,
// any or none ("…, 14d)"), which expr's grammar lacks, and blanks them out,
// keeping every other character where it was so that error positions stay
// true. It returns the days of each window by the position of its call.
func expandWindows(src string) (string, map[int]int, error) {
	rs := []rune(src)
	type frame struct {
		fn     string
		pos    int
		open   int // after the bracket
		first  string
		commas int
	}
	var stack []frame
	windows := map[int]int{}
	lastIdent, lastPos, lastEnd := "", 0, -1
	fail := func(at int, msg string) error {
		line, col := 1, 0
		for i := 0; i < at; i++ {
			if rs[i] == '\n' {
				line, col = line+1, 0
			} else {
				col++
			}
		}
		return queryError(fmt.Sprintf("%s (%d:%d)", msg, line, col+1))
	}
	isIdent := func(r rune) bool { return r == '_' || r == '$' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == '"' || r == '\'' || r == '`':
			j := i + 1
			for j < len(rs) && rs[j] != r {
				if rs[j] == '\\' && r != '`' {
					j++
				}
				j++
			}
			i = j + 1
			continue
		case r == '_' || r == '$' || unicode.IsLetter(r):
			j := i
			for j < len(rs) && isIdent(rs[j]) {
				j++
			}
			lastIdent, lastPos, lastEnd = string(rs[i:j]), i, j
			i = j
			continue
		case unicode.IsDigit(r):
			j := i
			for j < len(rs) && (isIdent(rs[j]) || rs[j] == '.' && j+1 < len(rs) && rs[j+1] != '.') {
				j++
			}
			tok := string(rs[i:j])
			if days, ok := strings.CutSuffix(tok, "d"); ok && allDigits(days) {
				n, err := strconv.Atoi(days)
				if err != nil || n < 1 || n > 36500 {
					return "", nil, fail(i, "a window must be between 1d and 36500d")
				}
				comma := i - 1
				for comma >= 0 && unicode.IsSpace(rs[comma]) {
					comma--
				}
				close := j
				for close < len(rs) && unicode.IsSpace(rs[close]) {
					close++
				}
				if len(stack) == 0 || !windowFuncs[stack[len(stack)-1].fn] || stack[len(stack)-1].commas != 2 ||
					comma < 0 || rs[comma] != ',' || close >= len(rs) || rs[close] != ')' {
					return "", nil, fail(i, fmt.Sprintf("a window such as %s can only be the last argument of count, any or none: count(interactions, .type == \"email_opened\", %s)", tok, tok))
				}
				if top := stack[len(stack)-1]; top.first != "interactions" {
					return "", nil, fail(i, fmt.Sprintf("a window counts interactions; %s(%s, …) has none", top.fn, top.first))
				}
				windows[stack[len(stack)-1].pos] = n
				for k := comma; k < j; k++ {
					if rs[k] != '\n' {
						rs[k] = ' '
					}
				}
			}
			i = j
			continue
		case r == '(' || r == '[' || r == '{':
			f := frame{open: i + 1}
			if r == '(' && lastEnd >= 0 && strings.TrimSpace(string(rs[lastEnd:i])) == "" {
				f.fn, f.pos = lastIdent, lastPos
			}
			stack = append(stack, f)
		case r == ')' || r == ']' || r == '}':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case r == ',':
			if len(stack) > 0 {
				top := &stack[len(stack)-1]
				if top.commas == 0 {
					top.first = strings.TrimSpace(string(rs[top.open:i]))
				}
				top.commas++
			}
		}
		if !unicode.IsSpace(r) {
			lastEnd = -1
		}
		i++
	}
	return string(rs), windows, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// windowPatch adds the windows found by expandWindows to the predicates of
// their calls: "count(interactions, P, 14d)" checks and runs as
// "count(interactions, (P) and .occurred_at > days_ago(14))".
type windowPatch struct{ windows map[int]int }

func (p windowPatch) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BuiltinNode)
	if !ok || len(b.Arguments) != 2 {
		return
	}
	days, ok := p.windows[b.Location().From]
	if !ok {
		return
	}
	pred, ok := b.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return
	}
	delete(p.windows, b.Location().From)
	loc := b.Location()
	mk := func(n ast.Node) ast.Node { n.SetLocation(loc); return n }
	field := mk(&ast.MemberNode{Node: mk(&ast.PointerNode{}), Property: mk(&ast.StringNode{Value: "occurred_at"})})
	call := mk(&ast.CallNode{Callee: mk(&ast.IdentifierNode{Value: "days_ago"}), Arguments: []ast.Node{mk(&ast.IntegerNode{Value: days})}})
	window := mk(&ast.BinaryNode{Operator: ">", Left: field, Right: call})
	pred.Node = mk(&ast.BinaryNode{Operator: "and", Left: pred.Node, Right: window})
}
