// Package storetest is the conformance suite of leadcycle.Store. Every storage
// implementation runs it from its own tests, so that SQLite and PostgreSQL are
// held to exactly the same behaviour:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T, clock leadcycle.Clock) leadcycle.Store {
//			s, err := sqlite.Open(t.Context(), t.TempDir(), clock)
//			...
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// Each subtest opens its own fresh store with a leadcycle.FixedClock, so
// subtests are independent, may run in parallel, and assert timestamps exactly.
// The Must* helpers are exported for the tests of other packages.
package storetest

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
)

// Epoch is where the clock of every subtest starts. It has microseconds, the
// precision both databases keep, so that truncation bugs show.
var Epoch = time.Date(2026, 3, 14, 9, 26, 53, 589793000, time.UTC)

// env is what one subtest works with: its own store and clock.
type env struct {
	ctx   context.Context
	s     leadcycle.Store
	clock *leadcycle.FixedClock
}

// test is one conformance check.
type test struct {
	name string
	fn   func(t *testing.T, e *env)
}

// Run runs the conformance suite. open must return a fresh, empty, migrated
// store that uses clock, and register its own cleanup with t.Cleanup.
func Run(t *testing.T, open func(t *testing.T, clock leadcycle.Clock) leadcycle.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"contacts", contactTests},
		{"accounts", accountTests},
		{"leads", leadTests},
		{"opportunities", opportunityTests},
		{"interactions", interactionTests},
		{"tasks", taskTests},
		{"fields", fieldTests},
		{"records", recordTests},
		{"custom", customTests},
		{"lists", listTests},
		{"concurrency", concurrencyTests},
		{"apikeys", apiKeyTests},
		{"linkedin", linkedinTests},
		{"capture", captureTests},
		{"capture_optin", optInTests},
		{"tracking", trackingTests},
		{"scoring", scoringTests},
		{"workflow", workflowTests},
		{"webhooks", webhookStoreTests},
		{"fields_in_use", fieldInUseTests},
		{"purge", purgeTests},
		{"delivery_jobs", deliveryJobTests},
		{"personal_data", personalDataTests},
		{"imports", importTests},
		{"logins", loginTests},
		{"lead_stats", statsTests},
		{"segments", segmentTests},
		{"journeys", journeyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range g.tests {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					clock := leadcycle.NewFixedClock(Epoch)
					s := open(t, clock)
					if s == nil {
						t.Fatal("open returned a nil store")
					}
					tc.fn(t, &env{ctx: t.Context(), s: s, clock: clock})
				})
			}
		})
	}
}

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// id returns a pointer to an id, for optional references.
func id(v leadcycle.ID) *leadcycle.ID { return &v }

// diff reports a mismatch between want and got.
func diff(tb testing.TB, what string, want, got any) bool {
	tb.Helper()
	if d := gocmp.Diff(want, got); d != "" {
		tb.Errorf("%s mismatch (-want +got):\n%s", what, d)
		return false
	}
	return true
}

// wantErr checks that err is a leadcycle error with the code and, when fields
// are given, exactly those field errors (in any order).
func wantErr(tb testing.TB, err error, code string, fields ...string) {
	tb.Helper()
	if err == nil {
		tb.Errorf("got no error, want %s %v", code, fields)
		return
	}
	if got := leadcycle.ErrorCode(err); got != code {
		tb.Errorf("error code = %q, want %q (error: %v)", got, code, err)
		return
	}
	if len(fields) == 0 {
		return
	}
	var got []string
	for _, f := range leadcycle.ErrorFields(err) {
		got = append(got, f.Field)
	}
	want := slices.Clone(fields)
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		tb.Errorf("error fields = %q, want %q (error: %v)", got, want, err)
	}
}

// idOf returns the id of any record.
func idOf[T leadcycle.Record](v *T) leadcycle.ID {
	return reflect.ValueOf(v).Elem().FieldByName("ID").Interface().(leadcycle.ID)
}

// ids returns the ids of records, in order.
func ids[T leadcycle.Record](items []T) []leadcycle.ID {
	out := make([]leadcycle.ID, len(items))
	for i := range items {
		out[i] = idOf(&items[i])
	}
	return out
}

// MustCreate creates v in r or fails the test.
func MustCreate[T leadcycle.Record](tb testing.TB, ctx context.Context, r leadcycle.Repo[T], v *T) *T {
	tb.Helper()
	if err := r.Create(ctx, v); err != nil {
		tb.Fatalf("create %T: %v", v, err)
	}
	if idOf(v) <= 0 {
		tb.Fatalf("create %T: no id assigned", v)
	}
	return v
}

// MustGet returns the record with the id or fails the test.
func MustGet[T leadcycle.Record](tb testing.TB, ctx context.Context, r leadcycle.Repo[T], id leadcycle.ID) *T {
	tb.Helper()
	v, err := r.Get(ctx, id)
	if err != nil {
		tb.Fatalf("get %T %d: %v", v, id, err)
	}
	return v
}

// MustUpdate updates the record with the id or fails the test.
func MustUpdate[T leadcycle.Record](tb testing.TB, ctx context.Context, r leadcycle.Repo[T], id leadcycle.ID, fn func(*T) error) *T {
	tb.Helper()
	v, err := r.Update(ctx, id, fn)
	if err != nil {
		tb.Fatalf("update %T %d: %v", v, id, err)
	}
	return v
}

// MustDelete deletes the record with the id or fails the test.
func MustDelete[T leadcycle.Record](tb testing.TB, ctx context.Context, r leadcycle.Repo[T], id leadcycle.ID) {
	tb.Helper()
	if err := r.Delete(ctx, id); err != nil {
		tb.Fatalf("delete %T %d: %v", new(T), id, err)
	}
}

// MustList returns every record matching q, following cursors page by page.
// It checks that every page but the last is full and carries a cursor.
func MustList[T leadcycle.Record](tb testing.TB, ctx context.Context, r leadcycle.Repo[T], q leadcycle.ListQuery) []T {
	tb.Helper()
	limit := q.Limit
	if limit <= 0 {
		limit = leadcycle.DefaultLimit
	}
	limit = min(limit, leadcycle.MaxLimit)
	var all []T
	for pages := 0; ; pages++ {
		if pages > 10_000 {
			tb.Fatalf("list %T: more than 10000 pages; the cursor does not advance", new(T))
		}
		p, err := r.List(ctx, q)
		if err != nil {
			tb.Fatalf("list %T %+v: %v", new(T), q, err)
		}
		if p.Items == nil {
			tb.Errorf("list %T: Items is nil, want an empty slice", new(T))
		}
		all = append(all, p.Items...)
		if p.NextCursor == "" {
			if len(p.Items) > limit {
				tb.Fatalf("list %T: last page has %d items, limit %d", new(T), len(p.Items), limit)
			}
			return all
		}
		if len(p.Items) != limit {
			tb.Fatalf("list %T: page with a next cursor has %d items, want the limit %d", new(T), len(p.Items), limit)
		}
		q.Cursor = p.NextCursor
	}
}

// count returns how many records r holds.
func count[T leadcycle.Record](tb testing.TB, ctx context.Context, r leadcycle.Repo[T]) int {
	tb.Helper()
	return len(MustList(tb, ctx, r, leadcycle.ListQuery{Limit: leadcycle.MaxLimit}))
}

// MustCreateContact creates a contact or fails the test.
func MustCreateContact(tb testing.TB, ctx context.Context, s leadcycle.Store, c *leadcycle.Contact) *leadcycle.Contact {
	tb.Helper()
	return MustCreate(tb, ctx, s.Contacts(), c)
}

// MustCreateAccount creates an account or fails the test.
func MustCreateAccount(tb testing.TB, ctx context.Context, s leadcycle.Store, a *leadcycle.Account) *leadcycle.Account {
	tb.Helper()
	return MustCreate(tb, ctx, s.Accounts(), a)
}

// MustCreateLead creates a lead or fails the test.
func MustCreateLead(tb testing.TB, ctx context.Context, s leadcycle.Store, l *leadcycle.Lead) *leadcycle.Lead {
	tb.Helper()
	return MustCreate(tb, ctx, s.Leads(), l)
}

// MustCreateProcess creates a business process whose stages (keys) follow
// one another with no transitions, or fails the test.
func MustCreateProcess(tb testing.TB, ctx context.Context, s leadcycle.Store, name string, stages ...string) *leadcycle.Process {
	tb.Helper()
	p := &leadcycle.Process{Name: name}
	for _, k := range stages {
		p.Stages = append(p.Stages, leadcycle.Stage{Key: k, Name: strings.ToUpper(k[:1]) + k[1:]})
	}
	return MustCreate(tb, ctx, s.Processes(), p)
}

// MustCreateUsers creates n users (ids 1 to n in a fresh store) so that
// owner and assignee references resolve, or fails the test.
func MustCreateUsers(tb testing.TB, ctx context.Context, s leadcycle.Store, n int) []leadcycle.ID {
	tb.Helper()
	ids := make([]leadcycle.ID, n)
	for i := range n {
		u := MustCreate(tb, ctx, s.Users(), &leadcycle.User{Name: fmt.Sprintf("User %d", i+1), Email: fmt.Sprintf("user%d@example.org", i+1), Role: leadcycle.RoleSales, Active: true})
		ids[i] = u.ID
	}
	return ids
}

// DefaultProcessID returns the id of the default business process.
func DefaultProcessID(tb testing.TB, ctx context.Context, s leadcycle.Store) leadcycle.ID {
	tb.Helper()
	page, err := s.Processes().List(ctx, leadcycle.ListQuery{Sort: "created_at", Filters: []leadcycle.Filter{{Columns: []string{"is_default"}, Op: leadcycle.OpEq, Value: true}}})
	if err != nil || len(page.Items) != 1 {
		tb.Fatalf("default process: %v (%d found)", err, len(page.Items))
	}
	return page.Items[0].ID
}

// MustCreateOpportunity creates an opportunity or fails the test.
func MustCreateOpportunity(tb testing.TB, ctx context.Context, s leadcycle.Store, o *leadcycle.Opportunity) *leadcycle.Opportunity {
	tb.Helper()
	return MustCreate(tb, ctx, s.Opportunities(), o)
}

// MustCreateInteraction creates an interaction or fails the test.
func MustCreateInteraction(tb testing.TB, ctx context.Context, s leadcycle.Store, i *leadcycle.Interaction) *leadcycle.Interaction {
	tb.Helper()
	return MustCreate(tb, ctx, s.Interactions(), i)
}

// MustCreateTask creates a task or fails the test.
func MustCreateTask(tb testing.TB, ctx context.Context, s leadcycle.Store, task *leadcycle.Task) *leadcycle.Task {
	tb.Helper()
	return MustCreate(tb, ctx, s.Tasks(), task)
}

// MustCreateField creates a custom field definition or fails the test.
func MustCreateField(tb testing.TB, ctx context.Context, s leadcycle.Store, f *leadcycle.FieldDef) *leadcycle.FieldDef {
	tb.Helper()
	return MustCreate(tb, ctx, s.Fields(), f)
}

// MustCreateAPIKey creates an API key with a fresh secret and returns the key
// and the secret, or fails the test.
func MustCreateAPIKey(tb testing.TB, ctx context.Context, s leadcycle.Store, name, role string) (*leadcycle.APIKey, string) {
	tb.Helper()
	secret, prefix := leadcycle.NewAPIKeySecret()
	k := &leadcycle.APIKey{Name: name, Role: role, Prefix: prefix, Hash: leadcycle.HashAPIKey(secret)}
	if err := s.APIKeys().CreateAPIKey(ctx, k); err != nil {
		tb.Fatalf("create api key: %v", err)
	}
	if k.ID <= 0 {
		tb.Fatal("create api key: no id assigned")
	}
	return k, secret
}

// compareValues orders column values: strings, times, ids, numbers and bools;
// nil (SQL NULL) sorts after everything, as the stores sort nullable columns.
func compareValues(a, b any) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	switch x := a.(type) {
	case string:
		return cmp.Compare(x, b.(string))
	case time.Time:
		return x.Compare(b.(time.Time))
	case leadcycle.ID:
		return cmp.Compare(x, b.(leadcycle.ID))
	case int64:
		return cmp.Compare(x, b.(int64))
	case float64:
		return cmp.Compare(x, b.(float64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		default:
			return 1
		}
	}
	panic(fmt.Sprintf("storetest: cannot compare %T", a))
}
