// Command imports measures the contact importer: a CSV of N rows, half of
// them the emails of existing contacts (matched by email and updated) and
// half new (created), imported into a database that already holds N
// contacts; then an export of every contact. The baseline, in the same run,
// inserts the same N rows raw into an empty contacts table of a fresh
// database (prepared single-row INSERTs, 2,000 rows a transaction; COPY on
// PostgreSQL). Peak Go heap and resident set are sampled during the import.
//
//	go run ./bench/imports -rows 1000000
//	go run ./bench/imports -rows 1000000 -no-sqlite -postgres postgres://…
package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"github.com/leadcycle/leadcycle/internal/gctune"
	"io"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/bench/benchdb"
	"github.com/leadcycle/leadcycle/importer"
	"github.com/leadcycle/leadcycle/internal/gen"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

func main() {
	// The collector runs as it does in the leadcycle binary.
	gctune.Apply(os.Getenv)
	n := flag.Int("rows", 1_000_000, "rows of the CSV, and existing contacts")
	existing := flag.Int("existing", 0, "existing contacts (default: -rows)")
	batch := flag.Int("batch", importer.DefaultBatchSize, "rows per transaction")
	pgURL := flag.String("postgres", "", "PostgreSQL URL; empty skips PostgreSQL")
	skipSQLite := flag.Bool("no-sqlite", false, "skip SQLite")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the import to this file")
	memProfile := flag.String("memprofile", "", "write a profile of the allocations made during the import to this file")
	dir := flag.String("dir", "", "work directory (default: a temporary one, removed)")
	pristine := flag.String("pristine", "", "SQLite only: keep the generated database here and copy it for each run (saves regenerating)")
	flag.Parse()
	if *existing == 0 {
		*existing = *n
	}
	ctx := context.Background()
	work := *dir
	if work == "" {
		d, err := os.MkdirTemp("", "leadcycle-import-bench")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		work = d
	}
	fmt.Printf("| database | existing | rows | import | rows/s | created | updated | failed | raw inserts | ratio | CPU import / raw | peak heap | peak RSS | export | export rows/s |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	if !*skipSQLite {
		dbDir := filepath.Join(work, "db")
		generated := false
		if *pristine != "" {
			generated = copyPristine(ctx, *pristine, dbDir, *existing)
		}
		st, err := sqlite.Open(ctx, dbDir, nil)
		if err != nil {
			log.Fatal(err)
		}
		base, err := sqlite.Open(ctx, filepath.Join(work, "base"), nil)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "SQLite", st, base, work, *n, *existing, *batch, profiles{*cpuProfile, *memProfile}, generated)
		st.Close()
		base.Close()
	}
	if *pgURL != "" {
		st, drop, err := benchdb.OpenPostgres(ctx, *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		base, dropBase, err := benchdb.OpenPostgres(ctx, *pgURL)
		if err != nil {
			log.Fatal(err)
		}
		run(ctx, "PostgreSQL", st, base, work, *n, *existing, *batch, pgProfiles(profiles{*cpuProfile, *memProfile}, *skipSQLite), false)
		drop()
		dropBase()
	}
}

func run(ctx context.Context, name string, st, base *sqldb.Store, work string, n, existing, batch int, prof profiles, generated bool) {
	profile, allocs := prof.cpu, prof.allocs
	if !generated {
		start := time.Now()
		load(ctx, st, existing)
		log.Printf("%s: %d contacts loaded and keyed in %s", name, existing, time.Since(start).Round(time.Second))
	}
	file := filepath.Join(work, "contacts.csv")
	rows := writeCSV(ctx, st, file, n)
	log.Printf("%s: wrote %s (%d rows)", name, file, n)

	rawCPU := cpuTime()
	raw := baseline(ctx, base, rows)
	rawCPU = cpuTime() - rawCPU
	runtime.GC()
	peak := sampleMemory()
	if profile != "" {
		f, err := os.Create(profile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}
	if allocs != "" {
		runtime.MemProfileRate = 64 << 10
	}
	t0, cpu0 := time.Now(), cpuTime()
	job := importFile(ctx, st, file, batch)
	took, cpu := time.Since(t0), cpuTime()-cpu0
	if profile != "" {
		pprof.StopCPUProfile()
	}
	if allocs != "" {
		writeAllocs(allocs)
	}
	heap, rss := peak()

	t1 := time.Now()
	e := importer.Exporter{Store: st, Entity: leadcycle.ImportContacts, Format: "csv"}
	out, err := os.Create(filepath.Join(work, "export.csv"))
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	exported, err := e.Export(ctx, bw)
	if err != nil {
		log.Fatal(err)
	}
	bw.Flush()
	out.Close()
	exportTook := time.Since(t1)

	rate := float64(job.Rows) / took.Seconds()
	fmt.Printf("| %s | %d | %d | %.1f s | %.0f | %d | %d | %d | %.1f s (%.0f rows/s) | %.2f | %.1f s / %.1f s | %d MiB | %d MiB | %.1f s (%d rows) | %.0f |\n",
		name, existing, job.Rows, took.Seconds(), rate, job.Created, job.Updated, job.Failed, raw.Seconds(), float64(n)/raw.Seconds(),
		took.Seconds()/raw.Seconds(), cpu.Seconds(), rawCPU.Seconds(), heap>>20, rss>>20, exportTook.Seconds(), exported, float64(exported)/exportTook.Seconds())
}

// load generates the existing contacts and their match keys.
func load(ctx context.Context, st *sqldb.Store, existing int) {
	if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: existing, Leads: 1, Seed: 3}); err != nil {
		log.Fatal(err)
	}
	if err := st.RebuildMatchKeys(ctx); err != nil {
		log.Fatal(err)
	}
}

// copyPristine copies the database kept in dir to dst, generating it there
// first when it is missing; it reports whether dst holds the contacts.
func copyPristine(ctx context.Context, dir, dst string, existing int) bool {
	src := filepath.Join(dir, sqlite.FileName)
	if _, err := os.Stat(src); err != nil {
		st, err := sqlite.Open(ctx, dir, nil)
		if err != nil {
			log.Fatal(err)
		}
		load(ctx, st, existing)
		st.Close()
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		log.Fatal(err)
	}
	in, err := os.Open(src)
	if err != nil {
		log.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(filepath.Join(dst, sqlite.FileName))
	if err != nil {
		log.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		log.Fatal(err)
	}
	if err := out.Close(); err != nil {
		log.Fatal(err)
	}
	return true
}

// writeCSV writes n rows: even rows are existing contacts (a new job title),
// odd rows new people. It returns the rows for the baseline.
func writeCSV(ctx context.Context, st *sqldb.Store, path string, n int) [][]string {
	q, err := st.R.QueryContext(ctx, st.Q("SELECT email, first_name, last_name FROM contacts WHERE email <> '' ORDER BY id LIMIT ?"), n/2)
	if err != nil {
		log.Fatal(err)
	}
	var known [][3]string
	for q.Next() {
		var r [3]string
		q.Scan(&r[0], &r[1], &r[2])
		known = append(known, r)
	}
	q.Close()
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	w := csv.NewWriter(bw)
	w.Write([]string{"Email", "First Name", "Last Name", "Job Title", "Phone"})
	rows := make([][]string, 0, n)
	for i := range n {
		var r []string
		if i%2 == 0 && i/2 < len(known) {
			k := known[i/2]
			r = []string{k[0], k[1], k[2], "Director " + strconv.Itoa(i%97), ""}
		} else {
			r = []string{fmt.Sprintf("new.person%d@example%d.gal", i, i%500), "Nova", "Persoa " + strconv.Itoa(i), "Analyst", ""}
		}
		w.Write(r)
		rows = append(rows, r)
	}
	w.Flush()
	bw.Flush()
	f.Close()
	return rows
}

// baseline inserts the rows raw into the contacts table of an empty
// database.
func baseline(ctx context.Context, base *sqldb.Store, rows [][]string) time.Duration {
	now := time.Now().UnixMicro()
	start := time.Now()
	if base.Dialect.Name == "postgres" {
		i := 0
		_, err := postgres.BulkInsert(ctx, base.DB, "contacts", []string{"email", "first_name", "last_name", "job_title", "phone", "origin", "created_at", "updated_at"}, func(row []any) bool {
			if i == len(rows) {
				return false
			}
			r := rows[i]
			row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7] = r[0], r[1], r[2], r[3], r[4], "import", now, now
			i++
			return true
		})
		if err != nil {
			log.Fatal(err)
		}
		return time.Since(start)
	}
	for i := 0; i < len(rows); i += 2000 {
		tx, err := base.W.BeginTx(ctx, nil)
		if err != nil {
			log.Fatal(err)
		}
		stmt, err := tx.PrepareContext(ctx, "INSERT INTO contacts (email, first_name, last_name, job_title, phone, origin, created_at, updated_at) VALUES (?, ?, ?, ?, ?, 'import', ?, ?)")
		if err != nil {
			log.Fatal(err)
		}
		for _, r := range rows[i:min(i+2000, len(rows))] {
			if _, err := stmt.ExecContext(ctx, r[0], r[1], r[2], r[3], r[4], now, now); err != nil {
				log.Fatal(err)
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			log.Fatal(err)
		}
	}
	return time.Since(start)
}

func importFile(ctx context.Context, st *sqldb.Store, path string, batch int) *leadcycle.ImportJob {
	info, err := os.Stat(path)
	if err != nil {
		log.Fatal(err)
	}
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourcePath, Path: path, FileName: filepath.Base(path), Size: info.Size(), Options: leadcycle.ImportOptions{Entity: leadcycle.ImportContacts}}
	job.Options.Normalize()
	if err := importer.Prepare(ctx, st, job, path); err != nil {
		log.Fatal(err)
	}
	if err := st.Imports().CreateImport(ctx, job, nil); err != nil {
		log.Fatal(err)
	}
	r := &importer.Runner{Store: st, Owner: "bench", BatchSize: batch}
	if _, err := r.RunNext(ctx, job.ID); err != nil {
		log.Fatal(err)
	}
	got, err := st.Imports().GetImport(ctx, job.ID)
	if err != nil {
		log.Fatal(err)
	}
	if got.Status != leadcycle.ImportDone {
		log.Fatalf("import %s: %s", got.Status, got.Error)
	}
	return got
}

// sampleMemory samples the Go heap and the resident set every 100 ms until
// the returned function is called, which gives the peaks.
func sampleMemory() func() (heap, rss uint64) {
	var peakHeap, peakRSS atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > peakHeap.Load() {
				peakHeap.Store(m.HeapAlloc)
			}
			if r := residentSet(); r > peakRSS.Load() {
				peakRSS.Store(r)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() (uint64, uint64) {
		close(stop)
		<-done
		return peakHeap.Load(), peakRSS.Load()
	}
}

// residentSet reads VmRSS from /proc (Linux), or 0.
func residentSet() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// cpuTime is the CPU time (user and system) the process has used so far:
// with other load on the machine it moves less than the wall clock.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgProfile profiles the PostgreSQL run only when SQLite is skipped (one
// profile per run).
// profiles are the files the import's CPU and allocation profiles go to
// (empty: none).
type profiles struct{ cpu, allocs string }

// pgProfiles keeps the profiles for PostgreSQL only when SQLite does not run
// (one file per profile and run).
func pgProfiles(p profiles, skipSQLite bool) profiles {
	if skipSQLite {
		return p
	}
	return profiles{}
}

// writeAllocs writes the allocation profile of what ran since
// MemProfileRate was set.
func writeAllocs(path string) {
	f, err := os.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		log.Fatal(err)
	}
}
