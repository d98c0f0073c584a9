package sqldb

import (
	"context"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
)

// inflight holds the leads this process is scoring, when claims are kept in
// memory (Dialect.SingleNode).
type inflight struct {
	mu  sync.Mutex
	ids map[int64]bool
}

// drop ends the in-memory claims of the ids.
func (f *inflight) drop(ids []int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, id := range ids {
		delete(f.ids, id)
	}
}

// freeClaims gives rows of a work table claimed in the database back at
// once (after a failed round), instead of when their lease ends.
func (db *DB) freeClaims(table, col string, ids []int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = db.ExecQ(ctx, db.W, "UPDATE "+table+" SET claimed_until = 0 WHERE "+db.Dialect.InIDs(col), db.Dialect.IDsArg(uniqueIDs(ids)))
}

// leaseMap remembers the rescore job leases this process holds.
type leaseMap struct {
	mu sync.Mutex
	m  map[leadcycle.ID]int64
}

func (l *leaseMap) Load(id leadcycle.ID) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.m[id]
}

func (l *leaseMap) Store(id leadcycle.ID, lease int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.m == nil {
		l.m = map[leadcycle.ID]int64{}
	}
	l.m[id] = lease
}

// lagBuckets are the upper bounds of the scoring lag histogram.
var lagBuckets = []time.Duration{
	time.Millisecond, 2 * time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 500 * time.Millisecond,
	750 * time.Millisecond, time.Second, 1500 * time.Millisecond, 2 * time.Second, 5 * time.Second, 10 * time.Second, time.Minute,
}

// lagStats is a histogram of the time from enqueueing a lead to writing its
// new scores.
type lagStats struct {
	mu     sync.Mutex
	counts [18]int64
	total  int64
	max    time.Duration
}

func (s *Store) observeLag(d time.Duration) {
	l := &s.lag
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(lagBuckets)
	for j, b := range lagBuckets {
		if d <= b {
			i = j
			break
		}
	}
	l.counts[i]++
	l.total++
	l.max = max(l.max, d)
}

// ScoringLag reports how long leads waited from the change that enqueued them
// to their new scores being written, since the last reset: the number of
// leads, the 50th and 99th percentiles (bucket upper bounds) and the maximum.
func (s *Store) ScoringLag(reset bool) (n int64, p50, p99, worst time.Duration) {
	l := &s.lag
	l.mu.Lock()
	defer l.mu.Unlock()
	n, worst = l.total, l.max
	p50, p99 = l.quantile(0.50), l.quantile(0.99)
	if reset {
		l.counts, l.total, l.max = [18]int64{}, 0, 0
	}
	return n, p50, p99, worst
}

func (l *lagStats) quantile(q float64) time.Duration {
	if l.total == 0 {
		return 0
	}
	want := int64(q*float64(l.total) + 0.5)
	var seen int64
	for i, c := range l.counts {
		seen += c
		if seen >= want && c > 0 {
			if i == len(lagBuckets) {
				return l.max
			}
			return lagBuckets[i]
		}
	}
	return l.max
}
