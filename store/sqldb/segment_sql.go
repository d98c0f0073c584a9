package sqldb

import (
	"fmt"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle/scoring"
)

// Segment queries in SQL. A checked query (scoring.SegExpr) becomes one
// SELECT of contact ids over contacts c, LEFT JOIN accounts a when the query
// reads the account. Every field goes through segmentColumns, the allowlist
// of what each field is in SQL; every value is a placeholder. Each column
// reads as the in-memory evaluation sees it: NULLs and missing or
// wrongly-typed custom values as the zero of their kind, ids as decimal text,
// times as Unix microseconds. Lists become uncorrelated subqueries of contact
// ids (c.id IN / NOT IN), and a count compared with a constant becomes a
// grouped subquery, so that a segment over millions of contacts reads each
// table once. A contact's opportunities are the distinct pairs of
// segOpportunityOwners: those whose contact_id is the contact and those
// whose lead's contact_id is the contact, each once.

// segSQL renders one query.
type segSQL struct {
	pg   bool
	now  time.Time
	args []any
	// account is set when the query reads account fields.
	account bool
}

// zeroMicros is the zero time.Time in Unix microseconds, which a missing
// time reads as.
var zeroMicros = time.Time{}.UnixMicro()

// segmentSQL returns the SELECT of the contact ids the query holds for at
// now, and its arguments.
func (db *DB) segmentSQL(q *scoring.SegmentQuery, now time.Time) (string, []any) {
	b := &segSQL{pg: db.Dialect.Name == "postgres", now: now}
	where := b.cond(q.Tree)
	from := "contacts c"
	if b.account {
		from += " LEFT JOIN accounts a ON a.id = c.account_id"
	}
	return "SELECT c.id FROM " + from + " WHERE " + where, b.args
}

// arg adds a value and returns its placeholder, typed on PostgreSQL (which
// cannot always infer it).
func (b *segSQL) arg(v any) string {
	if t, ok := v.(time.Time); ok {
		v = t.UnixMicro()
	}
	b.args = append(b.args, v)
	if !b.pg {
		return "?"
	}
	switch v.(type) {
	case string:
		return "CAST(? AS TEXT)"
	case float64:
		return "CAST(? AS DOUBLE PRECISION)"
	case bool:
		return "CAST(? AS BOOLEAN)"
	case int64:
		return "CAST(? AS BIGINT)"
	}
	return "?"
}

func (b *segSQL) cond(e scoring.SegExpr) string {
	switch e := e.(type) {
	case scoring.SegAnd:
		l := b.cond(e.L)
		return "(" + l + " AND " + b.cond(e.R) + ")"
	case scoring.SegOr:
		l := b.cond(e.L)
		return "(" + l + " OR " + b.cond(e.R) + ")"
	case scoring.SegNot:
		return "(NOT " + b.cond(e.X) + ")"
	case scoring.SegCompare:
		if l, ok := e.L.(scoring.SegList); ok {
			if k, ok := e.R.(scoring.SegLiteral); ok {
				return b.countCompare(l, e.Op, k.Value.(float64))
			}
		}
		if r, ok := e.R.(scoring.SegList); ok {
			if k, ok := e.L.(scoring.SegLiteral); ok {
				return b.countCompare(r, flip[e.Op], k.Value.(float64))
			}
		}
		l := b.value(e.L)
		r := b.value(e.R)
		if b.pg && scoring.KindOf(e.L) == "text" && e.Op != "==" && e.Op != "!=" {
			r += ` COLLATE "C"`
		}
		return "(" + l + " " + sqlOps[e.Op] + " " + r + ")"
	case scoring.SegText:
		find := "instr"
		if b.pg {
			find = "strpos"
		}
		switch e.Op {
		case "contains":
			l := b.value(e.L)
			return "(" + find + "(" + l + ", " + b.value(e.R) + ") > 0)"
		case "startsWith":
			l := b.value(e.L)
			r1 := b.value(e.R)
			return "(substr(" + l + ", 1, length(" + r1 + ")) = " + b.value(e.R) + ")"
		default: // endsWith
			l1 := b.value(e.L)
			r1 := b.value(e.R)
			l2 := b.value(e.L)
			l3 := b.value(e.L)
			r2 := b.value(e.R)
			r3 := b.value(e.R)
			return "(length(" + l1 + ") >= length(" + r1 + ") AND substr(" + l2 + ", length(" + l3 + ") - length(" + r2 + ") + 1) = " + r3 + ")"
		}
	case scoring.SegIn:
		x := b.value(e.X)
		marks := make([]string, len(e.List))
		for i, v := range e.List {
			marks[i] = b.arg(v.Value)
		}
		return "(" + x + " IN (" + strings.Join(marks, ", ") + "))"
	case scoring.SegList:
		pred := b.cond(e.Pred)
		sub := b.listFrom(e.Over)
		switch e.Fn {
		case "any":
			return "c.id IN (" + sub + " AND " + pred + ")"
		case "none":
			return "c.id NOT IN (" + sub + " AND " + pred + ")"
		case "all":
			return "c.id NOT IN (" + sub + " AND NOT " + pred + ")"
		}
	case scoring.SegInSegment:
		return "c.id IN (SELECT m.contact_id FROM segment_members m WHERE m.segment_id = " + b.arg(int64(e.ID)) + ")"
	}
	panic(fmt.Sprintf("segment SQL: unexpected condition %T", e))
}

var sqlOps = map[string]string{"==": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}

// flip turns "k op count" into "count op' k".
var flip = map[string]string{"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}

// segOpportunityOwners pairs each opportunity (oid) with the contacts it
// belongs to (cid): its own contact and its lead's contact. UNION keeps one
// pair when both are the same contact.
const segOpportunityOwners = "(SELECT o2.contact_id AS cid, o2.id AS oid FROM opportunities o2 WHERE o2.contact_id IS NOT NULL" +
	" UNION SELECT l2.contact_id, o2.id FROM opportunities o2 JOIN leads l2 ON l2.id = o2.lead_id WHERE l2.contact_id IS NOT NULL) oc"

// listSource returns, for a list, the column of the contact an element
// belongs to and the FROM clause of its elements with the start of a WHERE,
// to be followed by " AND <predicate>"; the elements have the alias of
// their scope (segAliases).
func listSource(over string) (owner, from string) {
	switch over {
	case "leads":
		return "l.contact_id", "leads l WHERE l.contact_id IS NOT NULL"
	case "opportunities":
		return "oc.cid", segOpportunityOwners + " JOIN opportunities o ON o.id = oc.oid WHERE oc.cid IS NOT NULL"
	}
	return "i.contact_id", "interactions i WHERE i.contact_id IS NOT NULL"
}

// listFrom is the start of the subquery of contact ids of a list, to be
// followed by " AND <predicate>".
func (b *segSQL) listFrom(over string) string {
	owner, from := listSource(over)
	return "SELECT " + owner + " FROM " + from
}

// countCompare renders "count(list, pred) op k": a contact with no matching
// element has the count 0, so when 0 op k is false the members are among
// the contacts a grouped subquery finds, and otherwise they are all but
// those for which it finds the opposite.
func (b *segSQL) countCompare(l scoring.SegList, op string, k float64) string {
	holds := func(n float64) bool {
		switch op {
		case "==":
			return n == k
		case "!=":
			return n != k
		case "<":
			return n < k
		case "<=":
			return n <= k
		case ">":
			return n > k
		}
		return n >= k
	}
	pred := b.cond(l.Pred)
	owner, _ := listSource(l.Over)
	having := "COUNT(*) " + sqlOps[op] + " " + b.arg(k)
	sub := b.listFrom(l.Over) + " AND " + pred + " GROUP BY " + owner
	if !holds(0) {
		return "c.id IN (" + sub + " HAVING " + having + ")"
	}
	return "c.id NOT IN (" + sub + " HAVING NOT (" + having + "))"
}

func (b *segSQL) value(e scoring.SegExpr) string {
	switch e := e.(type) {
	case scoring.SegLiteral:
		return b.arg(e.Value)
	case scoring.SegDaysAgo:
		return b.arg(scoring.DaysAgo(b.now, e.Days))
	case scoring.SegField:
		return b.field(e)
	case scoring.SegScore:
		return "COALESCE((SELECT s.score FROM lead_scores s JOIN scoring_models sm ON sm.id = s.model_id WHERE s.lead_id = l.id AND sm.key = " +
			b.arg(e.Key) + " ORDER BY sm.version DESC LIMIT 1), 0)"
	case scoring.SegList:
		// A count compared with something other than a constant: one
		// correlated count per contact.
		pred := b.cond(e.Pred)
		if e.Over == "opportunities" {
			return "(SELECT COUNT(*) FROM opportunities o WHERE (o.contact_id = c.id OR o.lead_id IN (SELECT l2.id FROM leads l2 WHERE l2.contact_id = c.id)) AND " + pred + ")"
		}
		owner, from := listSource(e.Over)
		return "(SELECT COUNT(*) FROM " + from + " AND " + owner + " = c.id AND " + pred + ")"
	}
	panic(fmt.Sprintf("segment SQL: unexpected value %T", e))
}

// alias of each field scope.
var segAliases = map[string]string{"contact": "c", "account": "a", "lead": "l", "interaction": "i", "opportunity": "o"}

// Column shapes of the allowlist.
const (
	colPlain   = iota // NOT NULL column
	colText           // nullable text
	colID             // nullable id, as decimal text
	colNum            // nullable number
	colTime           // nullable time
	colBool           // boolean
	colProp           // interaction property, as text
	colConsent        // contact consent purpose
	colDomain         // the email's domain
	colLeadRef        // the interaction's lead: its column, or its property
)

// segmentColumns is the allowlist of built-in fields by scope: the column
// and its shape.
var segmentColumns = map[string]map[string]struct {
	col   string
	shape int
}{
	"contact": {
		"id": {"id", colID}, "first_name": {"first_name", colPlain}, "last_name": {"last_name", colPlain},
		"email": {"email", colPlain}, "email_domain": {"email", colDomain}, "phone": {"phone", colPlain},
		"job_title": {"job_title", colPlain}, "account_id": {"account_id", colID}, "owner_id": {"owner_id", colID},
		"origin": {"origin", colPlain}, "consent_commercial_email": {"commercial_email", colConsent},
		"consent_tracking": {"tracking", colConsent}, "created_at": {"created_at", colPlain}, "updated_at": {"updated_at", colPlain},
	},
	"account": {
		"id": {"id", colID}, "name": {"name", colText}, "website": {"website", colText}, "domain": {"domain", colText},
		"industry": {"industry", colText}, "country": {"country", colText}, "employees": {"employees", colNum},
		"revenue": {"revenue", colNum}, "created_at": {"created_at", colTime},
	},
	"lead": {
		"id": {"id", colID}, "topic": {"topic", colPlain}, "description": {"description", colPlain},
		"purchase_timeframe": {"purchase_timeframe", colPlain}, "purchase_process": {"purchase_process", colPlain},
		"budget_amount": {"budget_amount", colNum}, "need": {"need", colPlain}, "contact_id": {"contact_id", colID},
		"account_id": {"account_id", colID}, "status": {"status", colPlain}, "status_reason": {"status_reason", colPlain},
		"source": {"source", colPlain}, "form_id": {"form_id", colID}, "event_id": {"event_id", colID},
		"journey_id": {"journey_id", colID}, "campaign": {"campaign", colPlain}, "process_id": {"process_id", colID},
		"stage": {"stage", colPlain}, "owner_id": {"owner_id", colID}, "telesales_ready": {"telesales_ready", colBool},
		"telesales_accepted": {"telesales_accepted", colBool}, "sales_ready": {"sales_ready", colBool},
		"sales_accepted": {"sales_accepted", colBool}, "created_at": {"created_at", colPlain},
	},
	"opportunity": {
		"id": {"id", colID}, "name": {"name", colPlain}, "status": {"status", colPlain}, "estimated_value": {"estimated_value", colNum},
		"currency": {"currency", colPlain}, "expected_close_date": {"expected_close_date", colPlain}, "closed_at": {"closed_at", colTime},
		"created_at": {"created_at", colPlain}, "lead_id": {"lead_id", colID}, "owner_id": {"owner_id", colID},
	},
	"interaction": {
		"type": {"type", colPlain}, "occurred_at": {"occurred_at", colPlain}, "lead_id": {"lead_id", colLeadRef},
		"form_id": {"form_id", colProp}, "email_id": {"email_id", colProp}, "event_id": {"event_id", colProp},
		"url": {"url", colProp}, "referrer": {"referrer", colProp},
	},
}

func (b *segSQL) field(f scoring.SegField) string {
	alias := segAliases[f.Scope]
	if f.Scope == "account" {
		b.account = true
	}
	if f.Custom {
		return b.custom(alias+".custom", f.Name, f.Kind)
	}
	c, ok := segmentColumns[f.Scope][f.Name]
	if !ok {
		panic(fmt.Sprintf("segment SQL: field %s.%s is not in the allowlist", f.Scope, f.Name))
	}
	col := alias + "." + c.col
	switch c.shape {
	case colText:
		return "COALESCE(" + col + ", '')"
	case colID:
		return "COALESCE(CAST(" + col + " AS TEXT), '')"
	case colNum:
		return "COALESCE(" + col + ", 0)"
	case colTime:
		return "COALESCE(" + col + ", " + b.arg(zeroMicros) + ")"
	case colBool:
		return col
	case colConsent:
		if b.pg {
			return "COALESCE(" + alias + ".consent ->> '" + c.col + "', '')"
		}
		return "COALESCE(json_extract(" + alias + ".consent, '$." + c.col + "'), '')"
	case colDomain:
		find := "instr"
		if b.pg {
			find = "strpos"
		}
		return "lower(CASE WHEN " + find + "(" + col + ", '@') > 0 THEN substr(" + col + ", " + find + "(" + col + ", '@') + 1) ELSE '' END)"
	case colProp:
		return b.property(alias, c.col)
	case colLeadRef:
		return "COALESCE(CAST(" + col + " AS TEXT), " + b.property(alias, c.col) + ")"
	}
	return col
}

// property reads an interaction property as text the way the in-memory
// evaluation does: strings as they are, integral numbers in decimal,
// booleans as true or false, anything else as "". The key is a constant of
// the allowlist.
func (b *segSQL) property(alias, key string) string {
	p := alias + ".properties"
	if b.pg {
		v := p + " -> '" + key + "'"
		return "(CASE jsonb_typeof(" + v + ") WHEN 'string' THEN " + p + " ->> '" + key + "' WHEN 'number' THEN trim_scale((" + p + " ->> '" + key + "')::numeric)::text" +
			" WHEN 'boolean' THEN " + p + " ->> '" + key + "' ELSE '' END)"
	}
	path := "'$." + key + "'"
	v := "json_extract(" + p + ", " + path + ")"
	return "(CASE json_type(" + p + ", " + path + ") WHEN 'text' THEN " + v + " WHEN 'integer' THEN CAST(" + v + " AS TEXT)" +
		" WHEN 'real' THEN CASE WHEN " + v + " = CAST(" + v + " AS INTEGER) THEN CAST(CAST(" + v + " AS INTEGER) AS TEXT) ELSE CAST(" + v + " AS TEXT) END" +
		" WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE '' END)"
}

// custom reads a custom field of kind text, number or bool, as the zero of
// its kind when it is missing or of another type. The key is a placeholder.
func (b *segSQL) custom(col, key, kind string) string {
	if b.pg {
		k := func() string { return b.arg(key) }
		switch kind {
		case "number":
			k1 := k()
			return "(CASE WHEN jsonb_typeof(" + col + " -> " + k1 + ") = 'number' THEN (" + col + " ->> " + k() + ")::double precision ELSE 0 END)"
		case "bool":
			k1 := k()
			return "(CASE WHEN jsonb_typeof(" + col + " -> " + k1 + ") = 'boolean' THEN (" + col + " ->> " + k() + ")::boolean ELSE FALSE END)"
		}
		k1 := k()
		return "(CASE WHEN jsonb_typeof(" + col + " -> " + k1 + ") = 'string' THEN " + col + " ->> " + k() + " ELSE '' END)"
	}
	path := func() string { return b.arg("$." + jsonPathKey(key)) }
	switch kind {
	case "number":
		p1 := path()
		return "(CASE WHEN json_type(" + col + ", " + p1 + ") IN ('integer', 'real') THEN json_extract(" + col + ", " + path() + ") ELSE 0 END)"
	case "bool":
		return "(CASE json_type(" + col + ", " + path() + ") WHEN 'true' THEN 1 ELSE 0 END)"
	}
	p1 := path()
	return "(CASE json_type(" + col + ", " + p1 + ") WHEN 'text' THEN json_extract(" + col + ", " + path() + ") ELSE '' END)"
}

// jsonPathKey quotes a key for an SQLite JSON path.
func jsonPathKey(key string) string { return `"` + strings.ReplaceAll(key, `"`, `\"`) + `"` }
