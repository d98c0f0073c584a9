// Command api measures single-record create and get over HTTP on SQLite and
// PostgreSQL, against a baseline of raw SQL inserts and selects of the same
// rows into the same database, and prints a Markdown table.
//
//	go run ./bench/api -n 5000                     # SQLite only
//	LEADCYCLE_TEST_POSTGRES=postgres://… go run ./bench/api -n 5000
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/bench/benchdb"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/web"
)

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	n := flag.Int("n", 5000, "operations per measurement")
	conc := flag.String("c", "1,8", "comma-separated client concurrency levels")
	pgURL := flag.String("postgres", os.Getenv("LEADCYCLE_TEST_POSTGRES"), "PostgreSQL URL; empty skips PostgreSQL")
	out := flag.String("out", "", "also write the Markdown table to this file")
	flag.Parse()
	levels := parseLevels(*conc)

	var report strings.Builder
	fmt.Fprintf(&report, "| database | operation | clients | API ops/s | API p50 | API p99 | raw SQL ops/s | API / raw |\n|---|---|---|---|---|---|---|---|\n")
	ctx := context.Background()

	dir, err := os.MkdirTemp("", "leadcycle-bench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, c := range levels {
		st, err := sqlite.Open(ctx, fmt.Sprintf("%s/c%d", dir, c), nil)
		if err != nil {
			log.Fatal(err)
		}
		measure(&report, "SQLite", st, *n, c)
		st.Close()
	}
	if *pgURL != "" {
		for _, c := range levels {
			st, drop := openPostgres(ctx, *pgURL)
			measure(&report, "PostgreSQL", st, *n, c)
			drop()
		}
	}
	fmt.Print(report.String())
	if *out != "" {
		if err := os.WriteFile(*out, []byte(report.String()), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

func parseLevels(s string) []int {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var c int
		if _, err := fmt.Sscan(f, &c); err != nil || c < 1 {
			log.Fatalf("-c: %q is not a positive number", f)
		}
		out = append(out, c)
	}
	return out
}

// openPostgres opens a store in a fresh schema; the func drops it.
func openPostgres(ctx context.Context, url string) (*sqldb.Store, func()) {
	st, drop, err := benchdb.OpenPostgres(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	return st, drop
}

// contactBody is the n-th contact, the same for the API and the raw inserts.
func contactBody(i int) leadcycle.Contact {
	return leadcycle.Contact{
		FirstName: "Uxía", LastName: fmt.Sprintf("Castro %d", i), Email: fmt.Sprintf("uxia.castro.%d@example.gal", i),
		Phone: "+34 981 000 000", JobTitle: "Marketing manager", Origin: "api",
		Consent: leadcycle.Consent{CommercialEmail: "granted", Tracking: "unknown"}, Custom: leadcycle.Custom{},
	}
}

func measure(report *strings.Builder, dbName string, st *sqldb.Store, n, clients int) {
	ctx := context.Background()
	secret, prefix := leadcycle.NewAPIKeySecret()
	if err := st.APIKeys().CreateAPIKey(ctx, &leadcycle.APIKey{Name: "bench", Role: "admin", Prefix: prefix, Hash: leadcycle.HashAPIKey(secret)}); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{Handler: web.NewServer(st, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients * 2}}

	bodies := make([][]byte, n)
	for i := range bodies {
		bodies[i], _ = json.Marshal(contactBody(i))
		// The API refuses read-only fields; send only what a client sends.
		var m map[string]any
		json.Unmarshal(bodies[i], &m)
		for _, k := range []string{"id", "created_at", "updated_at", "account_id", "owner_id"} {
			delete(m, k)
		}
		bodies[i], _ = json.Marshal(m)
	}
	var ids []string
	var idsMu sync.Mutex
	createRate, createLat := run(n, clients, func(i int) {
		req, _ := http.NewRequest("POST", base+"/api/v1/contacts", bytes.NewReader(bodies[i]))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		var c struct{ ID string }
		json.NewDecoder(res.Body).Decode(&c)
		res.Body.Close()
		if res.StatusCode != 201 {
			log.Fatalf("create: %d", res.StatusCode)
		}
		idsMu.Lock()
		ids = append(ids, c.ID)
		idsMu.Unlock()
	})
	getRate, getLat := run(n, clients, func(i int) {
		req, _ := http.NewRequest("GET", base+"/api/v1/contacts/"+ids[(i*7919)%len(ids)], nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		res, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			log.Fatalf("get: %d", res.StatusCode)
		}
	})

	// Baseline: the same rows inserted with raw SQL, one statement (and so one
	// transaction) per row, through the same connection pools.
	insert := st.Q("INSERT INTO contacts (first_name, last_name, email, phone, job_title, consent, origin, custom, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id")
	var rawIDs []int64
	var rawMu sync.Mutex
	rawInsertRate, _ := run(n, clients, func(i int) {
		c := contactBody(i)
		consent, _ := json.Marshal(c.Consent)
		now := time.Now().UnixMicro()
		var id int64
		if err := st.W.QueryRowContext(ctx, insert, c.FirstName, c.LastName, c.Email, c.Phone, c.JobTitle, string(consent), c.Origin, "{}", now, now).Scan(&id); err != nil {
			log.Fatal(err)
		}
		rawMu.Lock()
		rawIDs = append(rawIDs, id)
		rawMu.Unlock()
	})
	sel := st.Q("SELECT id, first_name, last_name, email, phone, job_title, account_id, owner_id, consent, origin, custom, created_at, updated_at FROM contacts WHERE id = ?")
	rawGetRate, _ := run(n, clients, func(i int) {
		var id, created, updated int64
		var fn, ln, email, phone, job, consent, origin, custom string
		var acc, owner sql.NullInt64
		if err := st.R.QueryRowContext(ctx, sel, rawIDs[(i*7919)%len(rawIDs)]).Scan(&id, &fn, &ln, &email, &phone, &job, &acc, &owner, &consent, &origin, &custom, &created, &updated); err != nil {
			log.Fatal(err)
		}
	})
	fmt.Fprintf(report, "| %s | create contact | %d | %.0f | %s | %s | %.0f | %.2f |\n", dbName, clients, createRate, pct(createLat, 50), pct(createLat, 99), rawInsertRate, createRate/rawInsertRate)
	fmt.Fprintf(report, "| %s | get contact | %d | %.0f | %s | %s | %.0f | %.2f |\n", dbName, clients, getRate, pct(getLat, 50), pct(getLat, 99), rawGetRate, getRate/rawGetRate)
}

// run calls op(0…n-1) from clients goroutines and returns operations per
// second and the latency of each call.
func run(n, clients int, op func(i int)) (float64, []time.Duration) {
	lat := make([]time.Duration, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				t := time.Now()
				op(i)
				lat[i] = time.Since(t)
			}
		}()
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds(), lat
}

func pct(lat []time.Duration, p int) string {
	s := slices.Clone(lat)
	slices.Sort(s)
	d := s[(len(s)-1)*p/100]
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
}
