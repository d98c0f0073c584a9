// Command capture measures form submissions end to end — raw store, match,
// create or update contact and lead, form_submitted interaction — over HTTP
// against a database that already holds many contacts, on SQLite and
// PostgreSQL. It reports the throughput with several clients, the latency
// percentiles at a fixed arrival rate, and a baseline of raw single-row
// inserts of the interaction each submission writes.
//
//	go run ./bench/capture -contacts 1000000
//	LEADCYCLE_TEST_POSTGRES=postgres://… go run ./bench/capture -contacts 1000000
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/bench/benchdb"
	"github.com/leadcycle/leadcycle/internal/gen"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/web"
)

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	contacts := flag.Int("contacts", 1_000_000, "existing contacts to generate first")
	n := flag.Int("n", 5000, "submissions per throughput measurement")
	clients := flag.Int("c", 8, "concurrent clients for the throughput measurement")
	rate := flag.Int("rate", 500, "arrival rate (submissions/s) for the latency measurement")
	seconds := flag.Int("seconds", 10, "duration of the latency measurement")
	pgURL := flag.String("postgres", os.Getenv("LEADCYCLE_TEST_POSTGRES"), "PostgreSQL URL; empty skips PostgreSQL")
	skipSQLite := flag.Bool("no-sqlite", false, "skip SQLite")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the run to this file")
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

	fmt.Printf("| database | existing contacts | submissions/s (%d clients) | baseline raw inserts/s | ratio | p50 at %d/s | p99 at %d/s | achieved rate |\n|---|---|---|---|---|---|---|---|\n", *clients, *rate, *rate)
	if !*skipSQLite {
		st, closeDB, err := benchdb.OpenSQLite(ctx, "")
		if err != nil {
			log.Fatal(err)
		}
		measure(ctx, "SQLite", st, *contacts, *n, *clients, *rate, *seconds)
		closeDB()
	}
	if *pgURL != "" {
		st, drop := openPostgres(ctx, *pgURL)
		measure(ctx, "PostgreSQL", st, *contacts, *n, *clients, *rate, *seconds)
		drop()
	}
}

// openPostgres opens a store in a fresh schema; the func drops it.
func openPostgres(ctx context.Context, url string) (*sqldb.Store, func()) {
	st, drop, err := benchdb.OpenPostgres(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	return st, drop
}

func measure(ctx context.Context, name string, st *sqldb.Store, contacts, n, clients, rate, seconds int) {
	start := time.Now()
	if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: contacts, Interactions: contacts, Seed: 7}); err != nil {
		log.Fatal(err)
	}
	if err := st.RebuildMatchKeys(ctx); err != nil {
		log.Fatal(err)
	}
	log.Printf("%s: %d contacts loaded and keyed in %s", name, contacts, time.Since(start).Round(time.Second))

	// Half the submissions come from existing contacts (a match and an
	// update), half from new addresses (a create).
	rows, err := st.R.QueryContext(ctx, "SELECT email FROM contacts WHERE email <> '' ORDER BY id LIMIT 50000")
	if err != nil {
		log.Fatal(err)
	}
	var known []string
	for rows.Next() {
		var e string
		rows.Scan(&e)
		known = append(known, e)
	}
	rows.Close()

	form := &leadcycle.Form{Name: "Bench form", Active: true, Fields: []leadcycle.FormField{
		{Name: "email", Type: "email", Target: "contact.email", Required: true},
		{Name: "first_name", Target: "contact.first_name"},
		{Name: "message", Type: "textarea", Target: "lead.description"},
	}}
	if err := st.Forms().Create(ctx, form); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: web.NewServer(st, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PublicRate: 1e9, PublicBurst: 1e9, SpoolDir: os.TempDir()})}
	go srv.Serve(ln)
	defer srv.Close()
	url := "http://" + ln.Addr().String() + "/f/" + form.ID.String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	var seq atomic.Int64
	submit := func() time.Duration {
		i := seq.Add(1)
		email := fmt.Sprintf("bench.%d@new-domain-%d.example", i, i%1000)
		if i%2 == 0 {
			email = known[int(i/2)%len(known)]
		}
		body := fmt.Sprintf(`{"email": %q, "first_name": "Bench", "message": "submission %d"}`, email, i)
		t := time.Now()
		res, err := client.Post(url, "application/json", bytes.NewReader([]byte(body)))
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			log.Fatalf("submission: %d", res.StatusCode)
		}
		return time.Since(t)
	}

	// Throughput with a fixed number of clients.
	var wg sync.WaitGroup
	var done atomic.Int64
	t0 := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Add(1) <= int64(n) {
				submit()
			}
		}()
	}
	wg.Wait()
	throughput := float64(n) / time.Since(t0).Seconds()

	// Latency at a fixed arrival rate (open loop: arrivals do not wait for
	// earlier answers).
	total := rate * seconds
	lat := make([]time.Duration, total)
	interval := time.Second / time.Duration(rate)
	t0 = time.Now()
	var lwg sync.WaitGroup
	for i := range total {
		time.Sleep(time.Until(t0.Add(time.Duration(i) * interval)))
		lwg.Add(1)
		go func() { defer lwg.Done(); lat[i] = submit() }()
	}
	lwg.Wait()
	achieved := float64(total) / time.Since(t0).Seconds()
	slices.Sort(lat)

	// Baseline: the interaction row each submission writes, inserted raw,
	// one autocommit statement per row, with the same number of clients.
	var contactID int64
	st.R.QueryRowContext(ctx, "SELECT MIN(id) FROM contacts").Scan(&contactID)
	insert := st.Q("INSERT INTO interactions (type, occurred_at, contact_id, properties, created_at) VALUES (?, ?, ?, ?, ?)")
	done.Store(0)
	t0 = time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for done.Add(1) <= int64(n) {
				now := time.Now().UnixMicro()
				if _, err := st.W.ExecContext(ctx, insert, "form_submitted", now, contactID, `{"form_id":"1"}`, now); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	baseline := float64(n) / time.Since(t0).Seconds()
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	fmt.Printf("| %s | %d | %.0f | %.0f | %.2f | %s | %s | %.0f/s |\n", name, contacts, throughput, baseline, throughput/baseline,
		ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]), achieved)
}
