package storetest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

var concurrencyTests = []test{
	{"update_no_lost_updates", func(t *testing.T, e *env) {
		MustCreateField(t, e.ctx, e.s, &leadcycle.FieldDef{Entity: "lead", Name: "counter", Type: leadcycle.FieldNumber})
		l := MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: "counter", Custom: leadcycle.Custom{"counter": 0.0}})
		const n = 20
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = e.s.Leads().Update(e.ctx, l.ID, func(l *leadcycle.Lead) error {
					v, ok := l.Custom["counter"].(float64)
					if !ok {
						return fmt.Errorf("counter is %T %v", l.Custom["counter"], l.Custom["counter"])
					}
					time.Sleep(2 * time.Millisecond) // widen the window between read and write
					l.Custom["counter"] = v + 1
					l.Description += "x"
					return nil
				})
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		}
		got := MustGet(t, e.ctx, e.s.Leads(), l.ID)
		diff(t, "counter after concurrent updates", leadcycle.Custom{"counter": float64(n)}, got.Custom)
		diff(t, "description after concurrent updates", strings.Repeat("x", n), got.Description)
	}},
	{"concurrent_creates", func(t *testing.T, e *env) {
		const n = 20
		var wg sync.WaitGroup
		got := make([]leadcycle.ID, n)
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				c := &leadcycle.Contact{Email: fmt.Sprintf("c%d@example.org", i)}
				errs[i] = e.s.Contacts().Create(e.ctx, c)
				got[i] = c.ID
			})
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("create %d: %v", i, err)
			}
		}
		listed := ids(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{}))
		slices.Sort(got)
		if len(slices.Compact(slices.Clone(got))) != n {
			t.Errorf("concurrent creates assigned duplicate ids: %v", got)
		}
		diff(t, "listed ids", got, listed)
	}},
}

// checkPagingUnderInserts pages through leads while another goroutine inserts
// more, with created_at values spread over the whole range being listed (the
// clock is moved back and forth by the inserter alone). Every lead that
// existed before paging started must be listed exactly once, and the listing
// must be strictly ordered.
func checkPagingUnderInserts(t *testing.T, e *env, desc bool) {
	const existing, extra, limit = 300, 200, 25
	r := e.s.Leads()
	var before []leadcycle.Lead
	for i := range existing {
		if i%3 == 0 {
			e.clock.Advance(time.Second)
		}
		before = append(before, *MustCreateLead(t, e.ctx, e.s, &leadcycle.Lead{Topic: fmt.Sprintf("before %03d", i)}))
	}
	first, last := before[0].CreatedAt, before[len(before)-1].CreatedAt

	var (
		inserted  atomic.Int64
		finished  = make(chan struct{})
		during    []leadcycle.Lead
		insertErr error
	)
	go func() {
		defer close(finished)
		rng := rand.New(rand.NewPCG(uint64(existing), uint64(extra)))
		span := int(last.Sub(first) / time.Second)
		for j := range extra {
			// Anywhere from a second before the first lead to a second after
			// the last, often at the very time of existing leads.
			at := first.Add(time.Duration(rng.IntN(span+3)-1) * time.Second)
			e.clock.Advance(at.Sub(e.clock.Now()))
			l := &leadcycle.Lead{Topic: fmt.Sprintf("during %03d", j)}
			if err := r.Create(e.ctx, l); err != nil {
				insertErr = err
				return
			}
			during = append(during, *l)
			inserted.Add(1)
		}
	}()

	var seq []leadcycle.Lead
	q := leadcycle.ListQuery{Sort: "created_at", Desc: desc, Limit: limit}
	pages := existing / limit
	for page := 1; ; page++ {
		p, err := r.List(e.ctx, q)
		if err != nil {
			t.Errorf("page %d: %v", page, err)
			break
		}
		if len(p.Items) > limit {
			t.Errorf("page %d has %d items, limit %d", page, len(p.Items), limit)
		}
		seq = append(seq, p.Items...)
		if p.NextCursor == "" {
			break
		}
		if page > 100 {
			t.Errorf("more than 100 pages: the cursor does not advance")
			break
		}
		q.Cursor = p.NextCursor
		// Let the inserter get ahead, so that inserts land between pages as
		// well as during them.
		target := int64(min(extra, page*extra/pages))
	wait:
		for inserted.Load() < target {
			select {
			case <-finished:
				break wait
			case <-time.After(time.Millisecond):
			}
		}
	}
	<-finished
	if insertErr != nil {
		t.Fatalf("concurrent insert: %v", insertErr)
	}
	if len(during) != extra {
		t.Fatalf("inserted %d leads, want %d", len(during), extra)
	}

	seen := map[leadcycle.ID]int{}
	for _, l := range seq {
		seen[l.ID]++
	}
	for lid, n := range seen {
		if n > 1 {
			t.Errorf("lead %d listed %d times", lid, n)
		}
	}
	for _, l := range before {
		if seen[l.ID] != 1 {
			t.Errorf("lead %d existed before paging and was listed %d times, want once", l.ID, seen[l.ID])
		}
	}
	for i := 1; i < len(seq); i++ {
		a, b := seq[i-1], seq[i]
		c := a.CreatedAt.Compare(b.CreatedAt)
		if c == 0 {
			c = compareValues(a.ID, b.ID)
		}
		if desc {
			c = -c
		}
		if c >= 0 {
			t.Errorf("listing out of order at %d: lead %d (%s) then lead %d (%s), desc=%v",
				i, a.ID, a.CreatedAt.Format(time.RFC3339Nano), b.ID, b.CreatedAt.Format(time.RFC3339Nano), desc)
		}
	}
	all := append(slices.Clone(before), during...)
	byID := map[leadcycle.ID]leadcycle.Lead{}
	for _, l := range all {
		byID[l.ID] = l
	}
	newSeen := 0
	for _, l := range seq {
		want, ok := byID[l.ID]
		if !ok {
			t.Errorf("listed lead %d was never created", l.ID)
			continue
		}
		if strings.HasPrefix(l.Topic, "during") {
			newSeen++
		}
		diff(t, fmt.Sprintf("listed lead %d", l.ID), want, l)
	}
	t.Logf("listed %d leads: all %d existing and %d of the %d inserted meanwhile", len(seq), existing, newSeen, extra)

	want := sortedIDs(all, leadCols["created_at"], desc)
	diff(t, "full listing after the inserts", want, ids(MustList(t, e.ctx, r, leadcycle.ListQuery{Sort: "created_at", Desc: desc, Limit: 37})))
}
