// Command gen measures the synthetic data generator (`leadcycle generate`):
// it loads a data set into a fresh SQLite database and, when a PostgreSQL URL
// is given, into a fresh schema of that database, and reports rows per second.
// As a baseline it then inserts the same contact rows once with one prepared
// single-row INSERT per row inside one transaction and once with the bulk
// loader, both from memory into fresh databases, and reports the ratio.
//
//	go run ./bench/gen -contacts 100000 -interactions 1000000 \
//	    -postgres 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle/internal/gen"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	contacts := flag.Int("contacts", 100_000, "contacts to generate")
	interactions := flag.Int("interactions", 1_000_000, "interactions to generate")
	seed := flag.Uint64("seed", 1, "seed")
	useSQLite := flag.Bool("sqlite", true, "measure SQLite")
	pgURL := flag.String("postgres", os.Getenv("LEADCYCLE_TEST_POSTGRES"), "PostgreSQL URL; empty skips PostgreSQL")
	baseline := flag.Bool("baseline", true, "also measure single-row INSERTs of the contacts against the bulk loader")
	flag.IntVar(&repeats, "repeat", 3, "baseline repetitions; the median is reported")
	dir := flag.String("dir", "", "directory for the SQLite databases (default: a temporary directory, removed afterwards)")
	flag.Parse()
	if err := run(*contacts, *interactions, *seed, *useSQLite, *pgURL, *baseline, *dir); err != nil {
		fmt.Fprintln(os.Stderr, "bench/gen:", err)
		os.Exit(1)
	}
}

func run(contacts, interactions int, seed uint64, useSQLite bool, pgURL string, baseline bool, dir string) error {
	ctx := context.Background()
	if dir == "" {
		d, err := os.MkdirTemp("", "leadcycle-bench-gen-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	opts := gen.Options{Contacts: contacts, Interactions: interactions, Seed: seed}
	fmt.Printf("# %d contacts, %d interactions, seed %d; %s, %d CPUs\n\n", contacts, interactions, seed, runtime.Version(), runtime.NumCPU())

	var source *sqldb.Store // a generated database to take baseline rows from
	if useSQLite {
		st, err := sqlite.Open(ctx, filepath.Join(dir, "gen"), nil)
		if err != nil {
			return err
		}
		defer st.Close()
		if err := measureRun(ctx, "SQLite", st.DB, opts); err != nil {
			return err
		}
		size := fileSize(filepath.Join(dir, "gen", sqlite.FileName))
		fmt.Printf("database file: %.0f MiB\n\n", float64(size)/(1<<20))
		source = st
	}
	if pgURL != "" {
		st, drop, err := openSchema(ctx, pgURL)
		if err != nil {
			return err
		}
		defer drop()
		defer st.Close()
		if err := measureRun(ctx, "PostgreSQL", st.DB, opts); err != nil {
			return err
		}
		if source == nil {
			source = st
		}
	}
	fmt.Printf("peak RSS: %s\n\n", peakRSS())
	if !baseline || source == nil {
		return nil
	}

	accounts, err := readRows(ctx, source.DB, "accounts", accountCols)
	if err != nil {
		return err
	}
	rows, err := readRows(ctx, source.DB, "contacts", contactCols)
	if err != nil {
		return err
	}
	fmt.Printf("## Baseline: %d contact rows from memory into a fresh database holding the accounts (median of %d)\n\n", len(rows), max(repeats, 1))
	fmt.Println("| database | single-row INSERTs, 1 transaction | bulk loader | speed-up |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	if useSQLite {
		for vi, v := range []struct{ name, pragmas string }{
			{"SQLite, default settings", ""},
			// what gen.Run sets on the writer connection during a load
			{"SQLite, load settings", "PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA foreign_keys=OFF"},
		} {
			k := 0
			single, bulk, err := compare(ctx, accounts, rows, func() (*sqldb.Store, func(), error) {
				k++
				st, err := sqlite.Open(ctx, filepath.Join(dir, fmt.Sprintf("baseline-%d-%d", vi, k)), nil)
				if err == nil && v.pragmas != "" {
					_, err = st.W.ExecContext(ctx, v.pragmas)
				}
				return st, func() { st.Close() }, err
			}, sqlite.BulkInsert)
			if err != nil {
				return err
			}
			report(v.name, len(rows), single, bulk)
		}
	}
	if pgURL != "" {
		single, bulk, err := compare(ctx, accounts, rows, func() (*sqldb.Store, func(), error) {
			st, drop, err := openSchema(ctx, pgURL)
			if err != nil {
				return nil, nil, err
			}
			return st, func() { st.Close(); drop() }, nil
		}, postgres.BulkInsert)
		if err != nil {
			return err
		}
		report("PostgreSQL (COPY)", len(rows), single, bulk)
	}
	return nil
}

func measureRun(ctx context.Context, name string, db *sqldb.DB, opts gen.Options) error {
	t0 := time.Now()
	stats, err := gen.Run(ctx, db, opts)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	wall := time.Since(t0)
	fmt.Printf("## gen.Run into %s: %s wall clock\n\n", name, wall.Round(time.Millisecond))
	fmt.Println("| table | rows | seconds | rows/s |")
	fmt.Println("| --- | ---: | ---: | ---: |")
	for _, t := range stats.Tables() {
		fmt.Printf("| %s | %d | %.2f | %.0f |\n", t.Table, t.Rows, t.Duration.Seconds(), t.RowsPerSecond())
	}
	fmt.Printf("| finish | | %.2f | |\n", stats.Finish.Seconds())
	fmt.Printf("| **total** | %d | %.2f | %.0f |\n\n", stats.Rows(), stats.Total.Seconds(), float64(stats.Rows())/stats.Total.Seconds())
	return nil
}

var (
	accountCols = []string{"id", "name", "website", "domain", "industry", "employees", "revenue", "country", "created_at", "updated_at"}
	contactCols = []string{"id", "first_name", "last_name", "email", "phone", "job_title", "account_id", "consent", "origin", "created_at", "updated_at"}
)

// readRows loads a table into memory (strings for text and JSON columns).
func readRows(ctx context.Context, db *sqldb.DB, table string, cols []string) ([][]any, error) {
	q := "SELECT " + strings.Join(cols, ", ") + " FROM " + table + " ORDER BY id"
	if db.Dialect.Name == "postgres" {
		q = strings.ReplaceAll(q, "consent", "consent::text")
	}
	rs, err := db.R.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	var out [][]any
	for rs.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := rs.Scan(ptrs...); err != nil {
			return nil, err
		}
		for i, v := range row {
			if b, ok := v.([]byte); ok {
				row[i] = string(b)
			}
		}
		out = append(out, row)
	}
	return out, rs.Err()
}

// repeats is how often each baseline is measured.
var repeats = 3

type bulkFunc func(ctx context.Context, db *sqldb.DB, table string, cols []string, next func(row []any) bool) (int, error)

// compare times the contact rows inserted one by one and in bulk, each into a
// fresh database holding the accounts, and returns the medians of repeats
// measurements.
func compare(ctx context.Context, accounts, rows [][]any, open func() (*sqldb.Store, func(), error), bulk bulkFunc) (single, bulked time.Duration, err error) {
	var singles, bulks []time.Duration
	for range max(repeats, 1) {
		s, b, err := compareOnce(ctx, accounts, rows, open, bulk)
		if err != nil {
			return 0, 0, err
		}
		singles, bulks = append(singles, s), append(bulks, b)
	}
	return median(singles), median(bulks), nil
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func compareOnce(ctx context.Context, accounts, rows [][]any, open func() (*sqldb.Store, func(), error), bulk bulkFunc) (single, bulked time.Duration, err error) {
	prepare := func() (*sqldb.Store, func(), error) {
		st, closeFn, err := open()
		if err != nil {
			return nil, nil, err
		}
		if _, err := bulk(ctx, st.DB, "accounts", accountCols, feed(accounts)); err != nil {
			closeFn()
			return nil, nil, err
		}
		return st, closeFn, nil
	}

	st, closeFn, err := prepare()
	if err != nil {
		return 0, 0, err
	}
	t0 := time.Now()
	err = st.InTx(ctx, func(tx *sql.Tx) error {
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(contactCols)), ", ")
		stmt, err := tx.PrepareContext(ctx, st.Q("INSERT INTO contacts ("+strings.Join(contactCols, ", ")+") VALUES ("+marks+")"))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, r...); err != nil {
				return err
			}
		}
		return nil
	})
	single = time.Since(t0)
	closeFn()
	if err != nil {
		return 0, 0, fmt.Errorf("single-row inserts: %w", err)
	}

	st, closeFn, err = prepare()
	if err != nil {
		return 0, 0, err
	}
	defer closeFn()
	t0 = time.Now()
	n, err := bulk(ctx, st.DB, "contacts", contactCols, feed(rows))
	bulked = time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("bulk insert: %w", err)
	}
	if n != len(rows) {
		return 0, 0, fmt.Errorf("bulk insert wrote %d rows of %d", n, len(rows))
	}
	return single, bulked, nil
}

func feed(rows [][]any) func(row []any) bool {
	i := 0
	return func(row []any) bool {
		if i == len(rows) {
			return false
		}
		copy(row, rows[i])
		i++
		return true
	}
}

func report(name string, n int, single, bulk time.Duration) {
	rate := func(d time.Duration) float64 { return float64(n) / d.Seconds() }
	fmt.Printf("| %s | %.2f s (%.0f rows/s) | %.2f s (%.0f rows/s) | %.1f× |\n",
		name, single.Seconds(), rate(single), bulk.Seconds(), rate(bulk), single.Seconds()/bulk.Seconds())
}

// openSchema opens a fresh schema of the PostgreSQL database; drop removes it.
func openSchema(ctx context.Context, base string) (*sqldb.Store, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, nil, err
	}
	schema := fmt.Sprintf("bench_gen_%016x", rand.Uint64())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		return nil, nil, err
	}
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return nil, nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(ctx, u.String(), nil)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return st, drop, nil
}

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// peakRSS reads the process's peak resident memory from /proc (Linux).
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
