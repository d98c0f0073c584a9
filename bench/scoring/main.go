// Command scoring measures lead scoring on SQLite and PostgreSQL: the full
// rescore of every lead after a model is published, and real-time scoring
// while interactions arrive at a fixed rate with three live models — how many
// interactions per second are stored and scored, and how long a lead waits
// from the interaction to its new score. Baselines measured in the same run:
// a raw read of the rows a rescore reads, and raw inserts of the same
// interactions without scoring. Peak memory is reported per phase.
//
//	go run ./bench/scoring -contacts 1000000 -leads 1000000 -interactions 10000000
//	go run ./bench/scoring -postgres postgres://… -no-sqlite
package main

import (
	"context"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"log"
	"log/slog"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/bench/benchdb"
	"github.com/leadcycle/leadcycle/internal/gen"
	"github.com/leadcycle/leadcycle/scoring"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
)

// workersFlag and scoreBatchFlag are the number of scorer loops and the
// leads per round in the real-time phase.
var workersFlag, scoreBatchFlag int

type options struct {
	contacts, leads, interactions int
	rate, seconds, batch, writers int
	moves                         int
	only                          string
}

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	var o options
	flag.IntVar(&o.contacts, "contacts", 1_000_000, "contacts to generate")
	flag.IntVar(&o.leads, "leads", 1_000_000, "leads to generate (at most one per contact)")
	flag.IntVar(&o.interactions, "interactions", 10_000_000, "interactions to generate")
	flag.IntVar(&o.rate, "rate", 10_000, "offered interactions per second in the real-time phase")
	flag.IntVar(&o.seconds, "seconds", 30, "duration of the real-time phase")
	flag.IntVar(&o.batch, "batch", 100, "interactions per request in the real-time phase")
	flag.IntVar(&o.writers, "writers", 4, "concurrent writers (API clients) in the real-time phase")
	flag.IntVar(&o.moves, "moves", 0, "contacts moved to another account per second in the real-time phase (an import or CRM sync linking contacts)")
	flag.IntVar(&workersFlag, "workers", 3, "scorer loops in the real-time phase (the product's default)")
	flag.IntVar(&scoreBatchFlag, "score-batch", 0, "leads per scorer round in the real-time phase (0: the store's round size, as in the product)")
	flag.StringVar(&o.only, "only", "", "run one phase only: rescore, realtime, queue (the scorer alone emptying a queue of 50,000 leads) or tail (the scorer alone scoring rate × seconds interactions stored beforehand)")
	dataDir := flag.String("dir", "", "SQLite data directory to reuse between runs (generated when empty)")
	pgURL := flag.String("postgres", "", "PostgreSQL URL; empty skips PostgreSQL")
	pgSchema := flag.String("postgres-schema", "", "reuse this schema of an earlier run (kept afterwards) instead of a fresh one")
	skipSQLite := flag.Bool("no-sqlite", false, "skip SQLite")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	if !*skipSQLite {
		st, closeDB, err := benchdb.OpenSQLite(ctx, *dataDir)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "SQLite", st, o)
		closeDB()
	}
	if *pgURL != "" && *pgSchema != "" {
		sep := "?"
		if strings.Contains(*pgURL, "?") {
			sep = "&"
		}
		st, err := postgres.Open(ctx, *pgURL+sep+"search_path="+*pgSchema, nil)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "PostgreSQL", st, o)
		st.Close()
	} else if *pgURL != "" {
		st, drop, err := benchdb.OpenPostgres(ctx, *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "PostgreSQL", st, o)
		drop()
	}
}

// offsetClock runs from the generator's reference time, so that the windows
// of the models see the generated interactions of the last months.
type offsetClock struct{ offset time.Duration }

func (c offsetClock) Now() time.Time {
	return time.Now().Add(c.offset).UTC().Truncate(time.Microsecond)
}

func run(ctx context.Context, name string, st *sqldb.Store, o options) {
	var n int
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM leads").Scan(&n)
	if n == 0 {
		start := time.Now()
		if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: o.contacts, Leads: o.leads, Interactions: o.interactions, Seed: 11}); err != nil {
			log.Fatal(err)
		}
		log.Printf("%s: generated %d contacts, %d leads, %d interactions in %s", name, o.contacts, o.leads, o.interactions, time.Since(start).Round(time.Second))
	}
	// The clock starts just after the last generated interaction (a few
	// follow-ups lie after gen.Reference()) and then runs in real time.
	var last int64
	st.R.QueryRowContext(ctx, "SELECT COALESCE(MAX(occurred_at), 0) FROM interactions").Scan(&last)
	start := gen.Reference()
	if t := time.UnixMicro(last).Add(time.Minute); t.After(start) {
		start = t
	}
	st.DB.Clock = offsetClock{offset: time.Until(start)}
	if (o.only == "realtime" || o.only == "tail") && liveModels(ctx, st) == 3 {
		// The models of an earlier run are live and scored.
		if o.only == "tail" {
			tailDrain(ctx, name, st, o)
		} else {
			realtime(ctx, name, st, o)
		}
		return
	}
	// Start from no models, so that reruns on a kept database measure the same.
	for _, q := range []string{"DELETE FROM lead_scores", "DELETE FROM score_ledger", "DELETE FROM score_queue", "DELETE FROM outbox", "DELETE FROM lead_timeline WHERE kind <> 'created'", "UPDATE leads SET stage = 'inquiry'", "DELETE FROM scoring_models",
		"UPDATE leads SET sales_ready = FALSE, telesales_ready = FALSE WHERE status = 'open'"} {
		if _, err := st.W.ExecContext(ctx, q); err != nil {
			log.Fatal(err)
		}
	}
	if st.Dialect.SingleNode {
		// The rescore reads every interaction; the scorer's tail need not
		// read the generated ones again.
		if _, err := st.W.ExecContext(ctx, "UPDATE score_tail SET position = (SELECT COALESCE(MAX(id), 0) FROM interactions)"); err != nil {
			log.Fatal(err)
		}
	}
	models := benchModels()
	if o.only == "" || o.only == "rescore" {
		rescore(ctx, name, st, models)
	} else {
		for _, m := range models {
			publish(ctx, st, m)
			drain(ctx, st)
		}
	}
	switch o.only {
	case "rescore":
	case "queue":
		queueDrain(ctx, name, st)
	case "tail":
		tailDrain(ctx, name, st, o)
	default:
		realtime(ctx, name, st, o)
	}
}

// benchModels are three models of the kind a marketing team runs: fit,
// engagement and account engagement.
func benchModels() []*leadcycle.ScoringModel {
	days := func(n int) *int { return &n }
	pts := func(n int64) *int64 { return &n }
	half := 14.0
	return []*leadcycle.ScoringModel{
		{Name: "Fit", Rules: []leadcycle.ScoringRule{
			{Name: "Director", Points: 20, Conditions: []string{`contact.job_title contains "Director" or contact.job_title contains "Head"`}},
			{Name: "Target industry", Points: 10, Conditions: []string{`account.industry in ["Retail", "Software", "Manufacturing"]`}},
			{Name: "Large company", Points: 10, Conditions: []string{`account.employees >= 200`}},
			{Name: "Opens", Points: 3, HalfLifeDays: &half, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: days(30)}}},
			{Name: "Pricing", Points: 15, Behaviors: []leadcycle.Behavior{{Type: "page_view", Where: `url contains "/pricing"`, Frequency: leadcycle.FrequencyAtLeastOnce, WindowDays: days(14)}}},
			{Name: "Forms", Points: 20, Behaviors: []leadcycle.Behavior{{Type: "form_submitted", Frequency: leadcycle.FrequencyAtLeast, Count: 2, WindowDays: days(90)}}},
			{Name: "Silent", Points: -10, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyNone, WindowDays: days(90)}}},
		}, Grades: []leadcycle.Grade{{Name: "A", Min: pts(60)}, {Name: "B", Min: pts(30), Max: pts(59)}, {Name: "C", Max: pts(29)}},
			SalesReadyThreshold: pts(70), TelesalesReadyThreshold: pts(45)},
		{Name: "Engagement", Rules: []leadcycle.ScoringRule{
			{Name: "Clicks", Points: 5, Behaviors: []leadcycle.Behavior{{Type: "email_clicked", Frequency: leadcycle.FrequencyEachTime, WindowDays: days(60)}}},
			{Name: "Attended", Points: 25, Behaviors: []leadcycle.Behavior{{Type: "event_attended", Frequency: leadcycle.FrequencyAtLeastOnce, WindowDays: days(180)}}},
			{Name: "Browsing", Points: 10, Behaviors: []leadcycle.Behavior{{Type: "page_view", Frequency: leadcycle.FrequencyAtLeast, Count: 5, WindowDays: days(30)}}},
		}, SalesReadyThreshold: pts(100)},
		{Name: "Account engagement", Target: leadcycle.TargetAccount, Rules: []leadcycle.ScoringRule{
			{Name: "Opens", Points: 1, Behaviors: []leadcycle.Behavior{{Type: "email_opened", Frequency: leadcycle.FrequencyEachTime, WindowDays: days(30)}}},
			{Name: "Forms", Points: 10, Behaviors: []leadcycle.Behavior{{Type: "form_submitted", Frequency: leadcycle.FrequencyAtLeastOnce, WindowDays: days(90)}}},
			{Name: "Enterprise", Points: 5, Conditions: []string{`account.employees >= 1000`}},
		}},
	}
}

func publish(ctx context.Context, st *sqldb.Store, m *leadcycle.ScoringModel) {
	if err := st.ScoringModels().Create(ctx, m); err != nil {
		log.Fatal(err)
	}
	if _, err := st.Scoring().Publish(ctx, m.ID); err != nil {
		log.Fatal(err)
	}
}

func drain(ctx context.Context, st *sqldb.Store) {
	for {
		n, err := st.Scoring().ProcessDue(ctx, 2000)
		if err != nil {
			log.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// memory samples the process's peak heap and resident set while a phase
// runs.
type memory struct {
	stop chan struct{}
	done chan struct{}
	peak atomic.Uint64
	rss  atomic.Uint64 // KiB
}

func watchMemory() *memory {
	runtime.GC()
	m := &memory{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > m.peak.Load() {
				m.peak.Store(ms.HeapInuse)
			}
			if kb := residentKiB(); kb > m.rss.Load() {
				m.rss.Store(kb)
			}
			select {
			case <-m.stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return m
}

// finish returns the peak Go heap and the peak resident set of the phase, in
// MiB. The resident set includes the database pages SQLite maps into memory.
func (m *memory) finish() (heap, rss float64) {
	close(m.stop)
	<-m.done
	return float64(m.peak.Load()) / (1 << 20), float64(m.rss.Load()) / 1024
}

// work measures the CPU time the process uses in a phase (user and
// system) and the bytes it writes to files (WAL frames and checkpoint
// copies): both count the work done, where wall-clock rates also count
// what else the machine runs.
type work struct {
	cpu     time.Duration
	written uint64
	ticks   cpuTicks
}

func startWork() work { return work{processCPU(), writtenBytes(), machineTicks()} }

func (w work) finish() (time.Duration, uint64) {
	return processCPU() - w.cpu, writtenBytes() - w.written
}

// stolen is the share of the machine's CPU time since the start that the
// hypervisor gave to other guests (steal in /proc/stat): on a shared host it
// comes and goes, and a phase that had a third of its cores taken runs
// slower for it, whatever the build.
func (w work) stolen() float64 {
	now := machineTicks()
	if total := now.total - w.ticks.total; total > 0 {
		return float64(now.steal-w.ticks.steal) / float64(total)
	}
	return 0
}

// cpuTicks is the first line of /proc/stat: all CPU time, and the part
// stolen.
type cpuTicks struct{ total, steal uint64 }

func machineTicks() cpuTicks {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuTicks{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	var t cpuTicks
	for i := 1; i < len(f); i++ {
		v, _ := strconv.ParseUint(f[i], 10, 64)
		if i <= 8 { // user … steal; guest time is counted in user already
			t.total += v
		}
		if i == 8 {
			t.steal = v
		}
	}
	return t
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// writtenBytes is what the process passed to write calls (wchar in
// /proc/self/io).
func writtenBytes() uint64 { return procField("/proc/self/io", "wchar:") }

// procField reads the number after key in a /proc file of "key: value"
// lines (0 when absent).
func procField(path, key string) uint64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			v, _ := strconv.ParseUint(f[1], 10, 64)
			return v
		}
	}
	return 0
}

// residentKiB reads VmRSS, the process's resident set now.
func residentKiB() uint64 { return procField("/proc/self/status", "VmRSS:") }

// rescore publishes each model in turn and times its full rescore. The
// baseline reads the same rows raw: every lead and the windowed interactions.
func rescore(ctx context.Context, name string, st *sqldb.Store, models []*leadcycle.ScoringModel) {
	base := rawRead(ctx, st)
	fmt.Printf("\n%s full rescore (baseline: raw read of all leads and the interactions in the models' windows: %s)\n\n", name, base.Round(time.Millisecond))
	fmt.Println("| model | leads | scored | unscorable | time | leads/s | ratio to raw read | peak heap MiB | peak RSS MiB |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, m := range models {
		mem := watchMemory()
		start := time.Now()
		publish(ctx, st, m)
		for {
			if _, err := st.Scoring().ProcessDue(ctx, 5000); err != nil {
				log.Fatal(err)
			}
			cur, err := st.ScoringModels().Get(ctx, m.ID)
			if err != nil {
				log.Fatal(err)
			}
			if cur.Rescore.State == leadcycle.RescoreDone {
				*m = *cur
				break
			}
		}
		took := time.Since(start)
		heap, rss := mem.finish()
		r := m.Rescore
		fmt.Printf("| %s | %d | %d | %d | %s | %.0f | %.1f× | %.0f | %.0f |\n", m.Name, r.Done, r.Scored, r.Unscorable, took.Round(time.Millisecond),
			float64(r.Done)/took.Seconds(), took.Seconds()/base.Seconds(), heap, rss)
	}
	drain(ctx, st)
}

func rawRead(ctx context.Context, st *sqldb.Store) time.Duration {
	start := time.Now()
	since := st.Clock.Now().Add(-180 * 24 * time.Hour).UnixMicro()
	for _, q := range []string{
		"SELECT id, contact_id, account_id, status, topic FROM leads",
		fmt.Sprintf("SELECT contact_id, type, occurred_at, properties FROM interactions WHERE occurred_at >= %d AND type IN ('email_opened', 'page_view', 'form_submitted', 'email_clicked', 'event_attended')", since),
	} {
		rows, err := st.R.QueryContext(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		for i := range vals {
			vals[i] = new(any)
		}
		for rows.Next() {
			rows.Scan(vals...)
		}
		rows.Close()
	}
	return time.Since(start)
}

// realtime offers interactions at o.rate for o.seconds with the scorer
// running, then waits for the queue to drain.
// interactionMaker returns a maker of batches of new interactions of the
// contacts, of the types the bench models read.
func interactionMaker(contacts []int64) func(r *rand.Rand, n int) []leadcycle.Interaction {
	types := []string{"email_opened", "email_opened", "page_view", "page_view", "email_clicked", "form_submitted", "event_attended"}
	return func(r *rand.Rand, n int) []leadcycle.Interaction {
		items := make([]leadcycle.Interaction, n)
		for i := range items {
			t := types[r.IntN(len(types))]
			items[i] = leadcycle.Interaction{Type: t, ContactID: leadcycle.ID(contacts[r.IntN(len(contacts))])}
			if t == "page_view" {
				items[i].Properties = map[string]any{"url": "https://example.com/pricing"}
			}
		}
		return items
	}
}

func realtime(ctx context.Context, name string, st *sqldb.Store, o options) {
	mkBatch := interactionMaker(contactsWithLeads(ctx, st))
	baseline := rawInserts(ctx, st, mkBatch, o)

	mem := watchMemory()
	work := startWork()
	wctx, stopWorker := context.WithCancel(ctx)
	workerDone := make(chan struct{})
	go func() {
		benchWorker(st).Run(wctx)
		close(workerDone)
	}()
	st.ScoringLag(true)
	turns0, waited0, held0 := st.WriterUse()
	producers := o.writers
	period := time.Duration(float64(time.Second) * float64(producers*o.batch) / float64(o.rate))
	var sent atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(time.Duration(o.seconds) * time.Second)
	for p := range producers {
		r := rand.New(rand.NewPCG(uint64(p), 99))
		wg.Go(func() {
			paced(deadline, period, func() {
				if err := st.AddInteractions(ctx, mkBatch(r, o.batch)); err != nil {
					log.Fatal(err)
				}
				sent.Add(int64(o.batch))
			})
		})
	}
	moved := moveContacts(ctx, st, o.moves, deadline, &wg)
	wg.Wait()
	offered := time.Since(start)
	// Wait until every lead the last interactions affect is scored.
	waitScored(ctx, st, 20*time.Millisecond)
	total := time.Since(start)
	stopWorker()
	<-workerDone
	heap, rss := mem.finish()
	stolen := work.stolen()
	cpu, written := work.finish()
	leads, p50, p99, worst := st.ScoringLag(true)
	turns, waited, held := st.WriterUse()
	writer := "–" // PostgreSQL: no one writer
	if turns > turns0 {
		writer = fmt.Sprintf("%.0f%%, %.1f ms", 100*(held-held0).Seconds()/total.Seconds(), float64((waited-waited0).Microseconds())/1000/float64(turns-turns0))
	}
	rate := float64(sent.Load()) / offered.Seconds()
	per := float64(sent.Load())
	fmt.Printf("\n%s real-time scoring, 3 live models, %d-interaction batches from %d writers, offered %d/s for %ds", name, o.batch, producers, o.rate, o.seconds)
	if o.moves > 0 {
		fmt.Printf(", %d contacts moved to another account (%d offered/s)", moved.Load(), o.moves)
		if st.Dialect.SingleNode {
			fmt.Printf(", %d account histories read", st.AccountHistoryLoads())
		}
	}
	fmt.Print("\n\n")
	fmt.Println("| interactions stored | stored/s | baseline raw inserts/s | ratio | scored and drained after | leads rescored | lag p50 | lag p99 | lag max | CPU µs per interaction | KiB written per interaction | peak heap MiB | peak RSS MiB | CPU stolen | writer busy, mean wait per turn |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	fmt.Printf("| %d | %.0f | %.0f | %.2f | %s | %d | %s | %s | %s | %.0f | %.1f | %.0f | %.0f | %.0f%% | %s |\n", sent.Load(), rate, baseline, rate/baseline,
		total.Round(time.Millisecond), leads, p50, p99, worst.Round(time.Millisecond), cpu.Seconds()*1e6/per, float64(written)/1024/per, heap, rss, 100*stolen, writer)
}

// moveContacts moves a random contact with an account to another account
// perSecond times a second until the deadline, on wg, and returns the
// count of moves made.
func moveContacts(ctx context.Context, st *sqldb.Store, perSecond int, deadline time.Time, wg *sync.WaitGroup) *atomic.Int64 {
	var moved atomic.Int64
	if perSecond <= 0 {
		return &moved
	}
	contacts := idColumn(ctx, st, "SELECT id FROM contacts WHERE account_id IS NOT NULL ORDER BY id LIMIT 200000")
	accounts := idColumn(ctx, st, "SELECT id FROM accounts ORDER BY id")
	r := rand.New(rand.NewPCG(7, 7))
	wg.Go(func() {
		paced(deadline, time.Second/time.Duration(perSecond), func() {
			to := leadcycle.ID(accounts[r.IntN(len(accounts))])
			_, err := st.Contacts().Update(ctx, leadcycle.ID(contacts[r.IntN(len(contacts))]), func(c *leadcycle.Contact) error { c.AccountID = &to; return nil })
			if err != nil {
				log.Fatal(err)
			}
			moved.Add(1)
		})
	})
	return &moved
}

// paced runs step once a period until the deadline, catching up after a
// step that took longer.
func paced(deadline time.Time, period time.Duration, step func()) {
	next := time.Now()
	for time.Now().Before(deadline) {
		step()
		next = next.Add(period)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
}

// idColumn returns the ids the query selects.
func idColumn(ctx context.Context, st *sqldb.Store, query string) []int64 {
	rows, err := st.R.QueryContext(ctx, query)
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
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	return out
}

func contactsWithLeads(ctx context.Context, st *sqldb.Store) []int64 {
	return idColumn(ctx, st, "SELECT contact_id FROM leads WHERE contact_id IS NOT NULL AND status = 'open' ORDER BY id LIMIT 200000")
}

// rawInserts inserts 50,000 interactions of the same shape with plain SQL in
// transactions of o.batch rows, without scoring, and returns rows/s. The rows
// are deleted afterwards.
func rawInserts(ctx context.Context, st *sqldb.Store, mk func(*rand.Rand, int) []leadcycle.Interaction, o options) float64 {
	const n = 50_000
	r := rand.New(rand.NewPCG(1, 2))
	var first int64
	st.R.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM interactions").Scan(&first)
	insert := st.Q("INSERT INTO interactions (type, occurred_at, contact_id, account_id, properties, created_at) VALUES (?, ?, ?, ?, ?, ?)")
	start := time.Now()
	for done := 0; done < n; done += o.batch {
		tx, err := st.W.BeginTx(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		for _, i := range mk(r, o.batch) {
			now := st.Clock.Now().UnixMicro()
			props := "{}"
			if i.Properties != nil {
				props = `{"url":"https://example.com/pricing"}`
			}
			if _, err := tx.ExecContext(ctx, insert, i.Type, now, int64(i.ContactID), nil, props, now); err != nil {
				log.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			log.Fatal(err)
		}
	}
	took := time.Since(start)
	if _, err := st.W.ExecContext(ctx, st.Q("DELETE FROM interactions WHERE id > ?"), first); err != nil {
		log.Fatal(err)
	}
	return n / took.Seconds()
}

// queueDrain enqueues 50,000 leads at once and times the scorer emptying the
// queue with no other writes: the scorer's own throughput.
func queueDrain(ctx context.Context, name string, st *sqldb.Store) {
	now := st.Clock.Now().UnixMicro()
	if _, err := st.W.ExecContext(ctx, "DELETE FROM score_queue"); err != nil {
		log.Fatal(err)
	}
	if _, err := st.W.ExecContext(ctx, st.Q(`INSERT INTO score_queue (lead_id, due_at, seq, cause, enqueued_at, claimed_until)
		SELECT id, ?, id, 'bench', ?, 0 FROM leads WHERE contact_id IS NOT NULL ORDER BY id LIMIT 50000`), now, now); err != nil {
		log.Fatal(err)
	}
	start := time.Now()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		(&scoring.Worker{Store: st.Scoring(), Batch: 2000, Idle: 5 * time.Millisecond}).Run(wctx)
		close(done)
	}()
	waitScored(ctx, st, 10*time.Millisecond)
	took := time.Since(start)
	stop()
	<-done
	fmt.Printf("%s: the scorer emptied a queue of 50,000 leads (3 live models) in %s: %.0f leads/s\n", name, took.Round(time.Millisecond), 50000/took.Seconds())
}

// benchWorker is the scorer of the real-time and tail phases, as the flags
// set it.
func benchWorker(st *sqldb.Store) *scoring.Worker {
	// A failed round is logged (on stderr), not only retried: a scorer
	// that fails every round would otherwise look idle.
	return &scoring.Worker{Store: st.Scoring(), Batch: scoreBatchFlag, Idle: 20 * time.Millisecond, Concurrency: workersFlag, Logger: slog.Default()}
}

// tailDrain stores rate × seconds new interactions with the scorer stopped,
// then measures the scorer alone scoring their leads: the work of the
// real-time phase without its timing, so that two builds compare on the
// same rounds.
func tailDrain(ctx context.Context, name string, st *sqldb.Store, o options) {
	mkBatch := interactionMaker(contactsWithLeads(ctx, st))
	r := rand.New(rand.NewPCG(7, 99))
	n := o.rate * o.seconds
	for stored := 0; stored < n; stored += o.batch {
		if err := st.AddInteractions(ctx, mkBatch(r, min(o.batch, n-stored))); err != nil {
			log.Fatal(err)
		}
	}
	st.ScoringLag(true)
	work := startWork()
	start := time.Now()
	wctx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		benchWorker(st).Run(wctx)
		close(done)
	}()
	waitScored(ctx, st, 10*time.Millisecond)
	took := time.Since(start)
	stop()
	<-done
	stolen := work.stolen()
	cpu, written := work.finish()
	leads, _, _, _ := st.ScoringLag(true)
	fmt.Printf("\n%s: the scorer alone scored the leads of %d new interactions (3 live models, rounds of %d, %d loops)\n\n", name, n, scoreBatchFlag, workersFlag)
	fmt.Println("| drained in | leads rescored | CPU µs per interaction | KiB written per interaction | CPU stolen |")
	fmt.Println("|---|---|---|---|---|")
	fmt.Printf("| %s | %d | %.0f | %.1f | %.0f%% |\n", took.Round(time.Millisecond), leads, cpu.Seconds()*1e6/float64(n), float64(written)/1024/float64(n), 100*stolen)
}

func liveModels(ctx context.Context, st *sqldb.Store) int {
	var n int
	st.R.QueryRowContext(ctx, "SELECT COUNT(*) FROM scoring_models WHERE status = 'live' AND rescore_state = 'done'").Scan(&n)
	return n
}

// waitScored returns when the scorer has nothing left to do.
func waitScored(ctx context.Context, st *sqldb.Store, poll time.Duration) {
	for {
		leads, interactions, err := st.ScoringBacklog(ctx)
		if err != nil {
			log.Fatal(err)
		}
		if leads == 0 && interactions == 0 {
			return
		}
		time.Sleep(poll)
	}
}
