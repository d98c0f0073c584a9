package storetest

import (
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// getters reads, per column name, the value a record has in that column:
// string, bool, leadcycle.ID or time.Time, or nil for NULL.
type getters[T any] map[string]func(*T) any

func optID(v *leadcycle.ID) any {
	if v == nil {
		return nil
	}
	return *v
}

func optTime(v *time.Time) any {
	if v == nil {
		return nil
	}
	return *v
}

var contactCols = getters[leadcycle.Contact]{
	"email":      func(c *leadcycle.Contact) any { return c.Email },
	"account_id": func(c *leadcycle.Contact) any { return optID(c.AccountID) },
	"owner_id":   func(c *leadcycle.Contact) any { return optID(c.OwnerID) },
	"origin":     func(c *leadcycle.Contact) any { return c.Origin },
	"last_name":  func(c *leadcycle.Contact) any { return c.LastName },
	"created_at": func(c *leadcycle.Contact) any { return c.CreatedAt },
	"updated_at": func(c *leadcycle.Contact) any { return c.UpdatedAt },
}

var accountCols = getters[leadcycle.Account]{
	"domain":     func(a *leadcycle.Account) any { return a.Domain },
	"industry":   func(a *leadcycle.Account) any { return a.Industry },
	"country":    func(a *leadcycle.Account) any { return a.Country },
	"owner_id":   func(a *leadcycle.Account) any { return optID(a.OwnerID) },
	"name":       func(a *leadcycle.Account) any { return a.Name },
	"created_at": func(a *leadcycle.Account) any { return a.CreatedAt },
	"updated_at": func(a *leadcycle.Account) any { return a.UpdatedAt },
}

var leadCols = getters[leadcycle.Lead]{
	"status":             func(l *leadcycle.Lead) any { return l.Status },
	"status_reason":      func(l *leadcycle.Lead) any { return l.StatusReason },
	"stage":              func(l *leadcycle.Lead) any { return l.Stage },
	"source":             func(l *leadcycle.Lead) any { return l.Source },
	"campaign":           func(l *leadcycle.Lead) any { return l.Campaign },
	"contact_id":         func(l *leadcycle.Lead) any { return optID(l.ContactID) },
	"account_id":         func(l *leadcycle.Lead) any { return optID(l.AccountID) },
	"form_id":            func(l *leadcycle.Lead) any { return optID(l.FormID) },
	"event_id":           func(l *leadcycle.Lead) any { return optID(l.EventID) },
	"journey_id":         func(l *leadcycle.Lead) any { return optID(l.JourneyID) },
	"process_id":         func(l *leadcycle.Lead) any { return optID(l.ProcessID) },
	"owner_id":           func(l *leadcycle.Lead) any { return optID(l.OwnerID) },
	"telesales_ready":    func(l *leadcycle.Lead) any { return l.TelesalesReady },
	"telesales_accepted": func(l *leadcycle.Lead) any { return l.TelesalesAccepted },
	"sales_ready":        func(l *leadcycle.Lead) any { return l.SalesReady },
	"sales_accepted":     func(l *leadcycle.Lead) any { return l.SalesAccepted },
	"topic":              func(l *leadcycle.Lead) any { return l.Topic },
	"created_at":         func(l *leadcycle.Lead) any { return l.CreatedAt },
	"updated_at":         func(l *leadcycle.Lead) any { return l.UpdatedAt },
}

var opportunityCols = getters[leadcycle.Opportunity]{
	"status":     func(o *leadcycle.Opportunity) any { return o.Status },
	"lead_id":    func(o *leadcycle.Opportunity) any { return optID(o.LeadID) },
	"contact_id": func(o *leadcycle.Opportunity) any { return optID(o.ContactID) },
	"account_id": func(o *leadcycle.Opportunity) any { return optID(o.AccountID) },
	"owner_id":   func(o *leadcycle.Opportunity) any { return optID(o.OwnerID) },
	"name":       func(o *leadcycle.Opportunity) any { return o.Name },
	"created_at": func(o *leadcycle.Opportunity) any { return o.CreatedAt },
	"updated_at": func(o *leadcycle.Opportunity) any { return o.UpdatedAt },
}

var interactionCols = getters[leadcycle.Interaction]{
	"type":        func(i *leadcycle.Interaction) any { return i.Type },
	"contact_id":  func(i *leadcycle.Interaction) any { return i.ContactID },
	"lead_id":     func(i *leadcycle.Interaction) any { return optID(i.LeadID) },
	"account_id":  func(i *leadcycle.Interaction) any { return optID(i.AccountID) },
	"occurred_at": func(i *leadcycle.Interaction) any { return i.OccurredAt },
	"created_at":  func(i *leadcycle.Interaction) any { return i.CreatedAt },
}

var taskCols = getters[leadcycle.Task]{
	"status":      func(t *leadcycle.Task) any { return t.Status },
	"queue":       func(t *leadcycle.Task) any { return t.Queue },
	"kind":        func(t *leadcycle.Task) any { return t.Kind },
	"assignee_id": func(t *leadcycle.Task) any { return optID(t.AssigneeID) },
	"lead_id":     func(t *leadcycle.Task) any { return optID(t.LeadID) },
	"contact_id":  func(t *leadcycle.Task) any { return optID(t.ContactID) },
	"due_at":      func(t *leadcycle.Task) any { return optTime(t.DueAt) },
	"created_at":  func(t *leadcycle.Task) any { return t.CreatedAt },
	"updated_at":  func(t *leadcycle.Task) any { return t.UpdatedAt },
}

var fieldCols = getters[leadcycle.FieldDef]{
	"entity":     func(f *leadcycle.FieldDef) any { return f.Entity },
	"created_at": func(f *leadcycle.FieldDef) any { return f.CreatedAt },
}

// filterFor builds the filter a client asks for with the spec's parameter set
// to value, as the transport layer does.
func filterFor(spec leadcycle.FilterSpec, value any) leadcycle.Filter {
	return leadcycle.Filter{Columns: strings.Split(spec.Column, ","), Op: spec.Op, Value: value}
}

// matches reports whether a record with column values vals passes the filter.
func matches(op string, vals []any, value any) bool {
	switch op {
	case leadcycle.OpEq:
		return vals[0] != nil && compareValues(vals[0], value) == 0
	case leadcycle.OpGTE:
		return vals[0] != nil && compareValues(vals[0], value) >= 0
	case leadcycle.OpLT:
		return vals[0] != nil && compareValues(vals[0], value) < 0
	case leadcycle.OpNull:
		return !slices.ContainsFunc(vals, func(v any) bool { return v != nil })
	case leadcycle.OpAnyNotNul:
		any := slices.ContainsFunc(vals, func(v any) bool { return v != nil })
		return any == value.(bool)
	}
	panic("storetest: unknown operator " + op)
}

// filterValues picks the values to try for a filter: every value present in
// the data, plus values that match nothing.
func filterValues[T any](spec leadcycle.FilterSpec, items []T, get func(*T) any) []any {
	var present []any
	for i := range items {
		v := get(&items[i])
		if v != nil && !slices.ContainsFunc(present, func(p any) bool { return compareValues(p, v) == 0 }) {
			present = append(present, v)
		}
	}
	slices.SortFunc(present, compareValues)
	switch {
	case spec.Op == leadcycle.OpAnyNotNul || spec.Kind == leadcycle.KindBool:
		return []any{true, false}
	case spec.Kind == leadcycle.KindTime:
		if len(present) == 0 {
			return nil
		}
		first, last := present[0].(time.Time), present[len(present)-1].(time.Time)
		return []any{first.Add(-time.Microsecond), first, present[len(present)/2], last, last.Add(time.Microsecond)}
	case spec.Kind == leadcycle.KindID:
		return append(present, missingID)
	default:
		absent := "storetest-absent"
		for _, a := range spec.Allowed {
			if !slices.Contains(present, any(a)) {
				absent = a
				break
			}
		}
		return append(present, absent)
	}
}

// sortedIDs returns the ids of items in the order a list sorted on col must
// return them: by the column (NULL last), then by id; desc reverses both.
func sortedIDs[T leadcycle.Record](items []T, get func(*T) any, desc bool) []leadcycle.ID {
	s := slices.Clone(items)
	slices.SortStableFunc(s, func(a, b T) int {
		if c := compareValues(get(&a), get(&b)); c != 0 {
			return c
		}
		return compareValues(idOf(&a), idOf(&b))
	})
	if desc {
		slices.Reverse(s)
	}
	return ids(s)
}

// checkListSpec checks every filter and every sort of the collection's
// ListSpec against the records, which must be all the records of r.
func checkListSpec[T leadcycle.Record](t *testing.T, e *env, r leadcycle.Repo[T], collection string, items []T, cols getters[T]) {
	spec, ok := leadcycle.ListSpecs[collection]
	if !ok {
		t.Fatalf("no ListSpec for %s", collection)
	}
	diff(t, "all "+collection, sortedIDs(items, cols[spec.Sorts[0]], false), ids(MustList(t, e.ctx, r, leadcycle.ListQuery{Limit: 5})))

	for _, fs := range spec.Filters {
		t.Run("filter_"+fs.Param, func(t *testing.T) {
			columns := strings.Split(fs.Column, ",")
			var gets []func(*T) any
			for _, c := range columns {
				g, ok := cols[c]
				if !ok {
					t.Fatalf("the suite has no getter for %s.%s: add it to the getters", collection, c)
				}
				gets = append(gets, g)
			}
			discriminates := false
			for _, v := range filterValues(fs, items, gets[0]) {
				var want []T
				for i := range items {
					vals := make([]any, len(gets))
					for j, g := range gets {
						vals[j] = g(&items[i])
					}
					if matches(fs.Op, vals, v) {
						want = append(want, items[i])
					}
				}
				if len(want) > 0 && len(want) < len(items) {
					discriminates = true
				}
				q := leadcycle.ListQuery{Filters: []leadcycle.Filter{filterFor(fs, v)}, Limit: 3}
				got := MustList(t, e.ctx, r, q)
				diff(t, fmt.Sprintf("%s=%v", fs.Param, v), sortedIDs(want, cols[spec.Sorts[0]], false), ids(got))
			}
			if !discriminates {
				t.Errorf("the data set does not exercise filter %s: no value selects some but not all records", fs.Param)
			}
		})
	}

	for _, col := range spec.Sorts {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("sort_%s_desc_%v", col, desc), func(t *testing.T) {
				g, ok := cols[col]
				if !ok {
					t.Fatalf("the suite has no getter for %s.%s: add it to the getters", collection, col)
				}
				want := sortedIDs(items, g, desc)
				if slices.Equal(want, sortedIDs(items, cols["id"], desc)) && col != "created_at" {
					t.Errorf("the data set does not exercise sort %s: it sorts like the ids", col)
				}
				for _, limit := range []int{1, 4, leadcycle.MaxLimit} {
					got := MustList(t, e.ctx, r, leadcycle.ListQuery{Sort: col, Desc: desc, Limit: limit})
					diff(t, fmt.Sprintf("sort %s desc=%v limit %d", col, desc, limit), want, ids(got))
				}
			})
		}
	}
}

// withID adds an "id" getter used to tell whether a sort is exercised.
func withID[T leadcycle.Record](cols getters[T]) getters[T] {
	out := getters[T]{"id": func(v *T) any { return idOf(v) }}
	for k, g := range cols {
		out[k] = g
	}
	return out
}

// refetch returns the records as stored now, fetched one by one.
func refetch[T leadcycle.Record](t *testing.T, e *env, r leadcycle.Repo[T], items []*T) []T {
	t.Helper()
	out := make([]T, len(items))
	for i, v := range items {
		out[i] = *MustGet(t, e.ctx, r, idOf(v))
	}
	return out
}

// touch updates some records later, so that updated_at differs from
// created_at order.
func touch[T leadcycle.Record](t *testing.T, e *env, r leadcycle.Repo[T], items []*T) {
	t.Helper()
	e.clock.Advance(time.Hour)
	for i := len(items) - 1; i >= 0; i -= 3 {
		MustUpdate(t, e.ctx, r, idOf(items[i]), func(*T) error { return nil })
		if i%2 == 0 {
			e.clock.Advance(time.Minute) // some updates tie
		}
	}
}

var listTests = []test{
	{"contacts", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 10) // owners and assignees
		a1 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A1"})
		a2 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A2"})
		accs := []*leadcycle.ID{id(a1.ID), nil, id(a2.ID)}
		owners := []*leadcycle.ID{id(7), id(8), nil, id(7)}
		origins := []string{leadcycle.SourceForm, leadcycle.SourceAPI, leadcycle.SourceImport, leadcycle.SourceEvent, leadcycle.SourceForm}
		names := []string{"smith", "jones", "brown", "smith", "adams", "", "jones", "clark", "young", "baker", "smith"}
		emails := []string{"smith@a.example", "", "brown@b.example", "smith@a.example", "adams@c.example", "solo@d.example",
			"jones@a.example", "clark@b.example", "", "baker@a.example", "zed@a.example"}
		var cs []*leadcycle.Contact
		for i := range names {
			if i%2 == 0 {
				e.clock.Advance(time.Second)
			}
			cs = append(cs, MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{
				FirstName: "F", LastName: names[i], Email: emails[i], AccountID: accs[i%3], OwnerID: owners[i%4], Origin: origins[i%5],
			}))
		}
		touch(t, e, e.s.Contacts(), cs)
		checkListSpec(t, e, e.s.Contacts(), "contacts", refetch(t, e, e.s.Contacts(), cs), withID(contactCols))
	}},
	{"accounts", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 10) // owners and assignees
		type acc struct{ name, website, domain, industry, country string }
		data := []acc{
			{"globex", "https://www.globex.example", "", "energy", "es"},
			{"acme", "", "acme.example", "software", "tw"},
			{"initech", "initech.example/home", "", "software", ""},
			{"acme", "", "", "", "es"},
			{"umbrella", "", "umbrella.example", "pharma", "tw"},
			{"hooli", "https://hooli.example", "", "software", "us"},
			{"beta", "", "acme.example", "energy", "es"},
		}
		owners := []*leadcycle.ID{nil, id(3), id(4)}
		var as []*leadcycle.Account
		for i, d := range data {
			if i%3 != 1 {
				e.clock.Advance(time.Second)
			}
			as = append(as, MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{
				Name: d.name, Website: d.website, Domain: d.domain, Industry: d.industry, Country: d.country, OwnerID: owners[i%3],
			}))
		}
		touch(t, e, e.s.Accounts(), as)
		checkListSpec(t, e, e.s.Accounts(), "accounts", refetch(t, e, e.s.Accounts(), as), withID(accountCols))
	}},
	{"leads", func(t *testing.T, e *env) {
		ls := leadDataSet(t, e)
		checkListSpec(t, e, e.s.Leads(), "leads", refetch(t, e, e.s.Leads(), ls), withID(leadCols))
	}},
	{"leads_combined_filters", func(t *testing.T, e *env) {
		items := refetch(t, e, e.s.Leads(), leadDataSet(t, e))
		spec := leadcycle.ListSpecs["leads"]
		param := func(name string) leadcycle.FilterSpec {
			for _, f := range spec.Filters {
				if f.Param == name {
					return f
				}
			}
			t.Fatalf("leads have no filter %s", name)
			return leadcycle.FilterSpec{}
		}
		since := items[3].CreatedAt
		q := leadcycle.ListQuery{Filters: []leadcycle.Filter{
			filterFor(param("status"), leadcycle.LeadOpen),
			filterFor(param("telesales_ready"), true),
			filterFor(param("has_parent"), true),
			filterFor(param("created_since"), since),
		}, Sort: "topic", Desc: true, Limit: 2}
		var want []leadcycle.Lead
		for _, l := range items {
			if l.Status == leadcycle.LeadOpen && l.TelesalesReady && l.HasParent() && !l.CreatedAt.Before(since) {
				want = append(want, l)
			}
		}
		if len(want) < 2 {
			t.Fatalf("data set too small: %d leads match", len(want))
		}
		diff(t, "combined filters", sortedIDs(want, leadCols["topic"], true), ids(MustList(t, e.ctx, e.s.Leads(), q)))

		// OpNull is "every column is null", the same as has_parent=false.
		var orphans []leadcycle.Lead
		for _, l := range items {
			if !l.HasParent() {
				orphans = append(orphans, l)
			}
		}
		got := MustList(t, e.ctx, e.s.Leads(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"contact_id", "account_id"}, Op: leadcycle.OpNull}}})
		diff(t, "leads without parent", ids(orphans), ids(got))
	}},
	{"opportunities", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 10) // owners and assignees
		a := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A"})
		c1 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c1@example.org"})
		c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c2@example.org"})
		l1 := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "l1"})
		l2 := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "l2"})
		names := []string{"renewal", "expansion", "pilot", "renewal", "upsell", "expansion", "new", "pilot", "zeta", "alpha"}
		statuses := []string{"open", "won", "lost", "open"}
		leads := []*leadcycle.ID{id(l1.ID), nil, id(l2.ID)}
		contacts := []*leadcycle.ID{nil, id(c1.ID), id(c2.ID), id(c1.ID), nil}
		accounts := []*leadcycle.ID{id(a.ID), nil}
		owners := []*leadcycle.ID{id(1), nil, id(2)}
		var os []*leadcycle.Opportunity
		for i, n := range names {
			if i%2 == 1 {
				e.clock.Advance(time.Second)
			}
			os = append(os, MustCreateOpportunity(t, e.ctx, e.s, &leadcycle.Opportunity{
				Name: n, Status: statuses[i%4], LeadID: leads[i%3], ContactID: contacts[i%5], AccountID: accounts[i%2], OwnerID: owners[(i+1)%3],
			}))
		}
		touch(t, e, e.s.Opportunities(), os)
		checkListSpec(t, e, e.s.Opportunities(), "opportunities", refetch(t, e, e.s.Opportunities(), os), withID(opportunityCols))
	}},
	{"interactions", func(t *testing.T, e *env) {
		a1 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A1"})
		a2 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A2"})
		c1 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c1@example.org", AccountID: id(a1.ID)})
		c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c2@example.org"})
		c3 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c3@example.org"})
		l1 := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "l1"})
		types := []string{"email_sent", "page_view", "custom:webinar", "email_opened", "page_view"}
		contacts := []leadcycle.ID{c1.ID, c2.ID, c3.ID, c2.ID}
		leads := []*leadcycle.ID{nil, id(l1.ID)}
		accounts := []*leadcycle.ID{nil, nil, id(a2.ID)}
		var is []*leadcycle.Interaction
		for i := range 13 {
			if i%3 == 0 {
				e.clock.Advance(time.Second)
			}
			is = append(is, MustCreateInteraction(t, e.ctx, e.s, &leadcycle.Interaction{
				Type: types[i%5], ContactID: contacts[i%4], LeadID: leads[i%2], AccountID: accounts[i%3],
				OccurredAt: Epoch.Add(-time.Duration((i*7)%5) * time.Hour),
			}))
		}
		checkListSpec(t, e, e.s.Interactions(), "interactions", refetch(t, e, e.s.Interactions(), is), withID(interactionCols))
	}},
	{"tasks", func(t *testing.T, e *env) {
		MustCreateUsers(t, e.ctx, e.s, 10) // owners and assignees
		c1 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c1@example.org"})
		c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c2@example.org"})
		l1 := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "l1"})
		statuses := []string{"open", "done", "canceled", "open"}
		queues := []string{"", "telesales", "sales"}
		kinds := []string{"call", "accept", "follow_up", "email", "meeting", "other", "call"}
		assignees := []*leadcycle.ID{id(5), id(6), nil, id(5)}
		leads := []*leadcycle.ID{id(l1.ID), nil}
		contacts := []*leadcycle.ID{id(c1.ID), id(c2.ID), nil}
		var ts []*leadcycle.Task
		for i := range 14 {
			if i%2 == 0 {
				e.clock.Advance(time.Second)
			}
			var due *time.Time
			if i%4 != 3 {
				due = ptr(Epoch.Add(time.Duration((i*5)%7) * 24 * time.Hour))
			}
			assignee := assignees[i%4]
			if queues[i%3] == "" && assignee == nil {
				assignee = id(9)
			}
			ts = append(ts, MustCreateTask(t, e.ctx, e.s, &leadcycle.Task{
				Title: fmt.Sprintf("task %d", i), Status: statuses[i%4], Queue: queues[i%3], Kind: kinds[i%7], AssigneeID: assignee,
				LeadID: leads[i%2], ContactID: contacts[i%3], DueAt: due,
			}))
		}
		touch(t, e, e.s.Tasks(), ts)
		checkListSpec(t, e, e.s.Tasks(), "tasks", refetch(t, e, e.s.Tasks(), ts), withID(taskCols))
	}},
	{"fields", func(t *testing.T, e *env) {
		var fs []*leadcycle.FieldDef
		for i, ent := range []string{"contact", "lead", "contact", "account", "opportunity", "lead", "lead"} {
			if i%2 == 0 {
				e.clock.Advance(time.Second)
			}
			fs = append(fs, MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: ent, Name: fmt.Sprintf("f%d", i), Type: leadcycle.FieldText}))
		}
		checkListSpec(t, e, e.s.Fields(), "fields", refetch(t, e, e.s.Fields(), fs), withID(fieldCols))
	}},
	{"errors", func(t *testing.T, e *env) {
		for range 3 {
			MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "x"})
			MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "x@example.org"})
			e.clock.Advance(time.Second)
		}
		leads := e.s.Leads()
		list := func(q leadcycle.ListQuery) error {
			_, err := leads.List(e.ctx, q)
			return err
		}
		wantErr(t, list(leadcycle.ListQuery{Sort: "email"}), leadcycle.EInvalid, "sort")
		wantErr(t, list(leadcycle.ListQuery{Sort: "id; DROP TABLE leads"}), leadcycle.EInvalid, "sort")
		_, err := e.s.Tasks().List(e.ctx, leadcycle.ListQuery{Sort: "topic"})
		wantErr(t, err, leadcycle.EInvalid, "sort")
		_, err = e.s.Fields().List(e.ctx, leadcycle.ListQuery{Sort: "updated_at", Desc: true})
		wantErr(t, err, leadcycle.EInvalid, "sort")
		wantErr(t, list(leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"password"}, Op: leadcycle.OpEq, Value: "x"}}}), leadcycle.EInvalid, "password")

		enc := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for name, cur := range map[string]string{
			"not_base64":     "!!!not a cursor!!!",
			"not_json":       enc("hello"),
			"json_array":     enc(`[1,2,3]`),
			"bool_value":     enc(`{"s":"created_at","d":false,"v":true,"i":1}`),
			"null_value":     enc(`{"s":"created_at","d":false,"v":null,"i":1}`),
			"float_value":    enc(`{"s":"created_at","d":false,"v":1.5,"i":1}`),
			"string_for_int": enc(`{"s":"created_at","d":false,"v":"abc","i":1}`),
			"int_for_string": enc(`{"s":"topic","d":false,"v":12,"i":1}`),
			"other_sort":     enc(`{"s":"updated_at","d":false,"v":1,"i":1}`),
			"other_order":    enc(`{"s":"created_at","d":true,"v":1,"i":1}`),
			"unknown_sort":   enc(`{"s":"email","d":false,"v":"x","i":1}`),
		} {
			q := leadcycle.ListQuery{Cursor: cur}
			if strings.HasPrefix(name, "int_for_string") {
				q.Sort = "topic"
			}
			t.Run("cursor_"+name, func(t *testing.T) { wantErr(t, list(q), leadcycle.EInvalid, "cursor") })
		}
		// A real cursor of one sort order is refused by another.
		p, err := leads.List(e.ctx, leadcycle.ListQuery{Limit: 1})
		if err != nil || p.NextCursor == "" {
			t.Fatalf("first page: %v, cursor %q", err, p.NextCursor)
		}
		wantErr(t, list(leadcycle.ListQuery{Limit: 1, Cursor: p.NextCursor, Desc: true}), leadcycle.EInvalid, "cursor")
		wantErr(t, list(leadcycle.ListQuery{Limit: 1, Cursor: p.NextCursor, Sort: "topic"}), leadcycle.EInvalid, "cursor")
	}},
	{"limit", func(t *testing.T, e *env) {
		const n = leadcycle.MaxLimit + 1
		var all []leadcycle.ID
		for i := range n {
			if i%7 == 0 {
				e.clock.Advance(time.Second)
			}
			all = append(all, MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{LastName: fmt.Sprintf("c%03d", i)}).ID)
		}
		r := e.s.Contacts()
		for _, c := range []struct {
			limit, want int
		}{
			{1, 1}, {7, 7}, {0, leadcycle.DefaultLimit}, {-3, leadcycle.DefaultLimit},
			{leadcycle.MaxLimit, leadcycle.MaxLimit}, {leadcycle.MaxLimit + 1, leadcycle.MaxLimit}, {1 << 30, leadcycle.MaxLimit},
		} {
			p, err := r.List(e.ctx, leadcycle.ListQuery{Limit: c.limit})
			if err != nil {
				t.Fatalf("limit %d: %v", c.limit, err)
			}
			diff(t, fmt.Sprintf("limit %d", c.limit), all[:c.want], ids(p.Items))
			if p.NextCursor == "" {
				t.Errorf("limit %d: no next cursor with %d rows", c.limit, n)
			}
			if c.want == leadcycle.MaxLimit {
				rest, err := r.List(e.ctx, leadcycle.ListQuery{Limit: c.limit, Cursor: p.NextCursor})
				if err != nil {
					t.Fatal(err)
				}
				diff(t, "page after the capped page", all[leadcycle.MaxLimit:], ids(rest.Items))
				if rest.NextCursor != "" {
					t.Errorf("last page has a next cursor %q", rest.NextCursor)
				}
			}
		}
		// A page that ends exactly at the last row has no next cursor.
		q := leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"created_at"}, Op: leadcycle.OpLT, Value: Epoch.Add(3 * time.Second)}}, Limit: 7}
		p1, err := r.List(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		q.Cursor = p1.NextCursor
		p2, err := r.List(e.ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "two exact pages", all[:14], append(ids(p1.Items), ids(p2.Items)...))
		if p1.NextCursor == "" || p2.NextCursor != "" {
			t.Errorf("cursors of exact pages = %q, %q; want one, then none", p1.NextCursor, p2.NextCursor)
		}
		// An empty list is an empty page.
		empty, err := e.s.Leads().List(e.ctx, leadcycle.ListQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if empty.Items == nil || len(empty.Items) != 0 || empty.NextCursor != "" {
			t.Errorf("empty list = %#v, want no items and no cursor", empty)
		}
	}},
	{"pagination_concurrent_inserts_asc", func(t *testing.T, e *env) { checkPagingUnderInserts(t, e, false) }},
	{"pagination_concurrent_inserts_desc", func(t *testing.T, e *env) { checkPagingUnderInserts(t, e, true) }},
}

// leadDataSet creates leads that differ in every filtered column.
func leadDataSet(t *testing.T, e *env) []*leadcycle.Lead {
	MustCreateUsers(t, e.ctx, e.s, 10) // owners
	a1 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A1"})
	a2 := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "A2"})
	c1 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c1@example.org", AccountID: id(a1.ID)})
	c2 := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "c2@example.org"})
	type parent struct{ contact, account *leadcycle.ID }
	parents := []parent{{id(c1.ID), nil}, {id(c2.ID), nil}, {nil, id(a2.ID)}, {nil, nil}, {id(c2.ID), id(a1.ID)}}
	statuses := [][2]string{{"open", "new"}, {"open", "contacted"}, {"qualified", "qualified"}, {"disqualified", "lost"},
		{"open", "marketing_qualified"}, {"disqualified", "canceled"}}
	stages := []string{"inquiry", "nurture", "engaged"}
	sources := []string{leadcycle.SourceForm, leadcycle.SourceAPI, leadcycle.SourceEvent, leadcycle.SourceLinkedIn}
	topics := []string{"pricing", "demo", "pricing", "support", "webinar", "demo", "trial"}
	opt := func(cond bool, v leadcycle.ID) *leadcycle.ID {
		if cond {
			return id(v)
		}
		return nil
	}
	// Leads point at forms and events, which must exist.
	var formIDs []leadcycle.ID
	for i := range 2 {
		f := MustCreate(t, e.ctx, e.s.Forms(), &leadcycle.Form{Name: fmt.Sprintf("Form %d", i), Fields: []leadcycle.FormField{{Name: "email", Target: "contact.email"}}})
		formIDs = append(formIDs, f.ID)
	}
	event := MustCreate(t, e.ctx, e.s.Events(), &leadcycle.Event{Name: "Fair"})
	procs := []leadcycle.ID{MustCreateProcess(t, e.ctx, e.s, "Process A", stages...).ID, MustCreateProcess(t, e.ctx, e.s, "Process B", stages...).ID}
	var ls []*leadcycle.Lead
	for i := range 17 {
		if i%2 == 0 {
			e.clock.Advance(time.Second)
		}
		p := parents[i%5]
		ls = append(ls, MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{
			Topic: topics[i%7], ContactID: p.contact, AccountID: p.account,
			Status: statuses[i%6][0], StatusReason: statuses[i%6][1], Stage: stages[i%3*b2i(i%6 != 5)], Source: sources[i%4], Campaign: []string{"Autumn fair", "", "Webinar"}[i%3],
			FormID: opt(i%3 != 2, formIDs[i%3%2]), EventID: opt(i%4 == 0, event.ID), JourneyID: opt(i%5 < 2, leadcycle.ID(300+i%5)),
			ProcessID: opt(i%6 != 5, procs[i%2]), OwnerID: opt(i%3 != 2, leadcycle.ID(7+i%3)),
			TelesalesReady: i%2 == 0, TelesalesAccepted: i%4 == 0, SalesReady: i%3 == 0, SalesAccepted: i%6 == 0,
		}))
	}
	touch(t, e, e.s.Leads(), ls)
	return ls
}

// b2i is 1 for true and 0 for false.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
