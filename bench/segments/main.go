// Command segments measures segments on SQLite (and PostgreSQL when given a
// URL): the full evaluation of dynamic segment queries over the generated
// data (an account join and an interaction count in a window), the full
// rebuild a save does (evaluation, members written), and the latency of a
// live membership update per event (one interaction stored, the contact
// evaluated in memory against every dynamic segment and its entered or
// exited event written). Baselines measured in the same run: a hand-written
// SQL query giving the same members, and the raw insert of the same
// interaction.
//
//	go run ./bench/segments -dir /tmp/lcseg1m -contacts 1000000 -interactions 10000000
//	go run ./bench/segments -no-sqlite -postgres postgres://… -contacts 100000 -interactions 1000000
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"log"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/bench/benchdb"
	"github.com/leadcycle/leadcycle/internal/gen"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

type options struct {
	contacts, interactions, events, repeat int
}

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	var o options
	flag.IntVar(&o.contacts, "contacts", 1_000_000, "contacts to generate")
	flag.IntVar(&o.interactions, "interactions", 10_000_000, "interactions to generate")
	flag.IntVar(&o.events, "events", 300, "interactions stored one at a time to measure live updates")
	flag.IntVar(&o.repeat, "repeat", 3, "runs of each evaluation (the median is reported)")
	dataDir := flag.String("dir", "", "SQLite data directory to reuse between runs (generated when empty)")
	pgURL := flag.String("postgres", "", "PostgreSQL URL; empty skips PostgreSQL")
	skipSQLite := flag.Bool("no-sqlite", false, "skip SQLite")
	flag.Parse()
	ctx := context.Background()
	if !*skipSQLite {
		st, closeDB, err := benchdb.OpenSQLite(ctx, *dataDir)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "SQLite", st, o)
		closeDB()
	}
	if *pgURL != "" {
		st, drop, err := benchdb.OpenPostgres(ctx, *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "PostgreSQL", st, o)
		drop()
	}
}

// fixedClock is the generator's reference time: the generated history is the
// year before it.
type fixedClock struct{ t time.Time }

func (c *fixedClock) Now() time.Time { return c.t }

// benchQuery is a segment query with a hand-written SQL query that gives
// the same contacts, the baseline.
type benchQuery struct {
	name, query, baseline, pgBaseline string
	args                              func(now time.Time) []any
}

var queries = []benchQuery{
	{
		name:  "account join + count of opens in 30 days",
		query: `account.industry == "Retail" and count(interactions, .type == "email_opened", 30d) >= 2`,
		baseline: `SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.industry = 'Retail' AND c.id IN
			(SELECT contact_id FROM interactions WHERE type = 'email_opened' AND occurred_at > ? GROUP BY contact_id HAVING COUNT(*) >= 2) ORDER BY c.id`,
		args: func(now time.Time) []any { return []any{now.Add(-30 * 24 * time.Hour).UnixMicro()} },
	},
	{
		name:  "account size + pricing page in 90 days + open lead",
		query: `account.employees >= 200 and any(interactions, .type == "page_view" and .url contains "/pricing", 90d) and any(leads, .status == "open")`,
		baseline: `SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.employees >= 200 AND c.id IN
			(SELECT contact_id FROM interactions WHERE type = 'page_view' AND occurred_at > ? AND instr(json_extract(properties, '$.url'), '/pricing') > 0)
			AND c.id IN (SELECT contact_id FROM leads WHERE status = 'open') ORDER BY c.id`,
		pgBaseline: `SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.employees >= 200 AND c.id IN
			(SELECT contact_id FROM interactions WHERE type = 'page_view' AND occurred_at > $1 AND strpos(properties ->> 'url', '/pricing') > 0)
			AND c.id IN (SELECT contact_id FROM leads WHERE status = 'open') ORDER BY c.id`,
		args: func(now time.Time) []any { return []any{now.Add(-90 * 24 * time.Hour).UnixMicro()} },
	},
}

func run(ctx context.Context, name string, st *sqldb.Store, o options) {
	var n int
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts").Scan(&n)
	if n == 0 {
		start := time.Now()
		if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: o.contacts, Interactions: o.interactions, Seed: 11}); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: generated %d contacts, %d interactions in %s", name, o.contacts, o.interactions, time.Since(start).Round(time.Second))
	}
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM contacts").Scan(&n)
	clock := &fixedClock{gen.Reference()}
	st.DB.Clock = clock
	// Start from no segments, so that reruns measure the same.
	for _, q := range []string{"DELETE FROM segment_refs", "DELETE FROM segment_members", "DELETE FROM segment_queue", "DELETE FROM segments", "DELETE FROM outbox"} {
		if _, err := st.W.ExecContext(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	var ints, accounts int
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM interactions").Scan(&ints)
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM accounts").Scan(&accounts)
	fmt.Printf("\n### %s: %d contacts, %d accounts, %d interactions\n\n", name, n, accounts, ints)
	fmt.Println("| query | members | SQL evaluation | baseline hand-written SQL | ratio | rebuild on save (evaluate + write members) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	for _, q := range queries {
		var ids []leadcycle.ID
		evals := measure(o.repeat, func() {
			var err error
			if ids, err = st.SegmentIDs(ctx, q.query); err != nil {
				log.Fatal(err)
			}
		})
		baselineSQL := q.baseline
		if st.Dialect.Name == "postgres" {
			baselineSQL = q.pgBaseline
			if baselineSQL == "" {
				baselineSQL = st.Q(q.baseline)
			}
		}
		var want []int64
		base := measure(o.repeat, func() { want = rawIDs(ctx, st.R, baselineSQL, q.args(clock.t)) })
		{
			if !slices.Equal(want, toInt64(ids)) {
				log.Fatalf("%s: the baseline finds %d contacts, the segment %d", q.name, len(want), len(ids))
			}
		}
		baseline := base.Round(time.Millisecond).String()
		ratio := fmt.Sprintf("%.2f", evals.Seconds()/base.Seconds())
		start := time.Now()
		seg := &leadcycle.Segment{Name: q.name, Query: q.query}
		if err := st.Segments().Create(ctx, seg); err != nil {
			log.Fatal(err)
		}
		rebuild := time.Since(start)
		fmt.Printf("| `%s` | %d | %s | %s | %s | %s |\n", q.query, len(ids), evals.Round(time.Millisecond), baseline, ratio, rebuild.Round(time.Millisecond))
	}
	// The rebuilds queued the contacts whose windows move; evaluate those
	// due now so that the live phase starts from an empty queue.
	start := time.Now()
	queued := drain(ctx, st)
	fmt.Printf("\nAfter the saves: %d queued contacts evaluated in memory in %s.\n", queued, time.Since(start).Round(time.Millisecond))
	live(ctx, name, st, o, clock)
}

// live stores interactions one at a time for random contacts and measures,
// per event, the time from its commit to the commit of the contact's
// evaluation against every dynamic segment.
func live(ctx context.Context, name string, st *sqldb.Store, o options, clock *fixedClock) {
	var maxID int64
	st.R.QueryRowContext(ctx, "SELECT MAX(id) FROM contacts").Scan(&maxID)
	r := rand.New(rand.NewPCG(7, 7))
	// Half the events go to contacts of Retail accounts, so that some enter
	// the first segment.
	retail := rawIDs(ctx, st.R, "SELECT c.id FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.industry = 'Retail' ORDER BY c.id", nil)
	var store, update []time.Duration
	entered := 0
	var lastEvent int64
	st.R.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM outbox").Scan(&lastEvent)
	for range o.events {
		c := leadcycle.ID(1 + r.Int64N(maxID))
		if len(retail) > 0 && r.IntN(2) == 0 {
			c = leadcycle.ID(retail[r.IntN(len(retail))])
		}
		it := leadcycle.Interaction{Type: "email_opened", ContactID: c, OccurredAt: clock.t.Add(-time.Minute), Properties: map[string]any{"email_id": "1"}}
		t0 := time.Now()
		if err := st.AddInteractions(ctx, []leadcycle.Interaction{it}); err != nil {
			if leadcycle.ErrorCode(err) == leadcycle.EInvalid {
				continue // a deleted contact
			}
			log.Fatal(err)
		}
		t1 := time.Now()
		drain(ctx, st)
		t2 := time.Now()
		store, update = append(store, t1.Sub(t0)), append(update, t2.Sub(t1))
	}
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM outbox WHERE id > ? AND type = 'segment.entered'", lastEvent).Scan(&entered)
	// Baseline: the same interaction inserted raw, one autocommit statement.
	var raw []time.Duration
	for range o.events {
		c := 1 + r.Int64N(maxID)
		t0 := time.Now()
		if _, err := st.W.ExecContext(ctx, st.Q("INSERT INTO interactions (type, occurred_at, contact_id, properties, created_at) SELECT ?, ?, id, ?"+st.Dialect.Cast("json")+", ? FROM contacts WHERE id = ?"),
			"email_opened", clock.t.Add(-time.Minute).UnixMicro(), `{"email_id":"1"}`, clock.t.UnixMicro(), c); err != nil {
			log.Fatal(err)
		}
		raw = append(raw, time.Since(t0))
	}
	fmt.Printf("\nLive updates, %s: %d interactions stored one at a time (random contacts), each followed by the evaluation of its contact against the %d dynamic segments; %d contacts entered a segment.\n\n",
		name, len(store), len(queries), entered)
	fmt.Println("| | p50 | p90 | p99 | max |")
	fmt.Println("|---|---:|---:|---:|---:|")
	for _, row := range []struct {
		what string
		d    []time.Duration
	}{{"store the interaction (AddInteractions, queues the contact)", store}, {"membership update after the commit (ProcessDue: load, evaluate, write)", update}, {"baseline: raw INSERT of one interaction", raw}} {
		slices.Sort(row.d)
		fmt.Printf("| %s | %s | %s | %s | %s |\n", row.what, pct(row.d, 50), pct(row.d, 90), pct(row.d, 99), pct(row.d, 100))
	}
}

func pct(d []time.Duration, p int) string {
	if len(d) == 0 {
		return "—"
	}
	i := min(len(d)-1, len(d)*p/100)
	return fmt.Sprintf("%.2f ms", float64(d[i].Microseconds())/1000)
}

func drain(ctx context.Context, st *sqldb.Store) int {
	total := 0
	for {
		n, err := st.SegmentMembers().ProcessDue(ctx, 500)
		if err != nil {
			log.Fatal(err)
		}
		total += n
		if n == 0 {
			return total
		}
	}
}

// measure runs fn n times and returns the median duration.
func measure(n int, fn func()) time.Duration {
	var ds []time.Duration
	for range max(n, 1) {
		t := time.Now()
		fn()
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func rawIDs(ctx context.Context, db *sql.DB, q string, args []any) []int64 {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			log.Fatal(err)
		}
		out = append(out, id)
	}
	return out
}

func toInt64(ids []leadcycle.ID) []int64 {
	out := make([]int64, len(ids))
	for i, id := range ids {
		out[i] = int64(id)
	}
	return out
}
