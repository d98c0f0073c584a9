// Package gen generates realistic synthetic marketing data — accounts,
// contacts, leads and interactions — straight into a leadcycle database, for
// demos, load tests and benchmarks (`leadcycle generate`).
//
// The output depends only on the options and on the largest ids already in
// the tables: the same seed and sizes give the same rows, byte for byte, on
// every run and machine. All times lie before a fixed reference time
// (Reference), never the wall clock.
//
// Rows are produced as a stream and written with the store packages' bulk
// loaders (multi-row INSERTs on SQLite, COPY on PostgreSQL), bypassing the
// Repo API; memory grows with the number of contacts (about 40 bytes each)
// but not with the number of interactions.
package gen

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// Options sizes a run.
type Options struct {
	// Contacts and Interactions are the exact numbers of rows to generate.
	// Accounts (about Contacts/20) follow from Contacts.
	Contacts, Interactions int
	// Leads is the number of leads, at most Contacts (each contact has at
	// most one); zero means Contacts/4.
	Leads int
	// Seed selects the data set: the same seed and sizes give the same rows.
	Seed uint64
	// Progress, if set, is told how far each stage is: at its start (done 0),
	// every 10,000 rows and at its end (done == total). It is called from one
	// goroutine at a time, but not always the caller's.
	Progress func(stage string, done, total int)
}

// Stages, as named to Options.Progress and in Stats.
const (
	StageAccounts     = "accounts"
	StageContacts     = "contacts"
	StageLeads        = "leads"
	StageInteractions = "interactions"
)

// TableStats describes what one stage wrote.
type TableStats struct {
	Table    string
	Rows     int
	FirstID  int64 // id of the first row written; ids are FirstID … FirstID+Rows-1
	Duration time.Duration
}

// RowsPerSecond is the stage's throughput.
func (t TableStats) RowsPerSecond() float64 {
	if t.Duration <= 0 {
		return 0
	}
	return float64(t.Rows) / t.Duration.Seconds()
}

// Stats reports a run.
type Stats struct {
	Accounts, Contacts, Leads, Interactions TableStats
	// Finish is the time spent after loading: restoring SQLite's settings and
	// checkpointing, or advancing PostgreSQL's sequences and analysing.
	Finish time.Duration
	Total  time.Duration
}

// Tables returns the per-table figures in load order.
func (s Stats) Tables() []TableStats {
	return []TableStats{s.Accounts, s.Contacts, s.Leads, s.Interactions}
}

// Rows is the number of rows written to all tables.
func (s Stats) Rows() int {
	return s.Accounts.Rows + s.Contacts.Rows + s.Leads.Rows + s.Interactions.Rows
}

// String summarises the run, one line per table.
func (s Stats) String() string {
	var b strings.Builder
	for _, t := range s.Tables() {
		fmt.Fprintf(&b, "%-12s %10d rows %9.2fs %10.0f rows/s\n", t.Table, t.Rows, t.Duration.Seconds(), t.RowsPerSecond())
	}
	fmt.Fprintf(&b, "%-12s %26.2fs\n", "finish", s.Finish.Seconds())
	fmt.Fprintf(&b, "%-12s %10d rows %9.2fs %10.0f rows/s", "total", s.Rows(), s.Total.Seconds(), float64(s.Rows())/max(s.Total.Seconds(), 1e-9))
	return b.String()
}

// reference is the instant all generated data leads up to.
var reference = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Reference returns the fixed time before which every generated timestamp
// lies (2026-01-01T00:00:00Z): contacts and accounts were created during the
// three years before it, interactions occurred during the last year.
func Reference() time.Time { return reference }

// Time constants in microseconds, the unit of the database.
const (
	second = int64(1_000_000)
	minute = 60 * second
	hour   = 60 * minute
	day    = 24 * hour
	year   = 365 * day
)

// loader is the signature shared by sqlite.BulkInsert and postgres.BulkInsert.
type loader func(ctx context.Context, db *sqldb.DB, table string, cols []string, next func(row []any) bool) (int, error)

// progressEvery is how often, in rows, Options.Progress is called.
const progressEvery = 10_000

// Run generates the data set described by opts into db, which must be open
// and migrated. Ids continue after the largest id of each table, so Run can
// add to a database that already holds data; on PostgreSQL the identity
// sequences are advanced afterwards. On error, rows already committed stay
// (in batches on SQLite, whole tables on PostgreSQL) and are consistent.
func Run(ctx context.Context, db *sqldb.DB, opts Options) (st Stats, err error) {
	begin := time.Now()
	if opts.Leads == 0 {
		opts.Leads = opts.Contacts / 4
	}
	if opts.Leads < 0 || opts.Leads > opts.Contacts {
		return st, fmt.Errorf("leads must be between 0 and the number of contacts (%d)", opts.Contacts)
	}
	if opts.Contacts < 0 || opts.Interactions < 0 {
		return st, fmt.Errorf("generate: negative sizes")
	}
	if opts.Interactions > 0 && opts.Contacts == 0 {
		return st, fmt.Errorf("generate: interactions need at least one contact")
	}
	if int64(opts.Contacts) > math.MaxInt32 {
		return st, fmt.Errorf("generate: at most %d contacts", math.MaxInt32)
	}
	var load loader
	switch db.Dialect.Name {
	case "sqlite":
		load = sqlite.BulkInsert
	case "postgres":
		load = postgres.BulkInsert
	default:
		return st, fmt.Errorf("generate: unsupported database %q", db.Dialect.Name)
	}
	g := &generator{db: db, opts: opts, load: load}
	for _, t := range []struct {
		name string
		base *int64
	}{{"accounts", &g.baseAccount}, {"contacts", &g.baseContact}, {"leads", &g.baseLead}, {"interactions", &g.baseInteraction}} {
		if err := db.W.QueryRowContext(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+t.name).Scan(t.base); err != nil {
			return st, fmt.Errorf("generate: max id of %s: %w", t.name, err)
		}
	}
	var proc int64
	if err := db.W.QueryRowContext(ctx, db.Q("SELECT id FROM processes WHERE is_default = ? ORDER BY id LIMIT 1"), true).Scan(&proc); err == nil {
		g.processID = proc
	}
	if err := g.loadExisting(ctx); err != nil {
		return st, err
	}
	if err := ensureContext(ctx, db); err != nil {
		return st, err
	}

	var finish func() error
	if db.Dialect.Name == "sqlite" {
		restore, err := sqliteFastLoad(ctx, db)
		if err != nil {
			return st, err
		}
		finish = restore
	} else {
		finish = func() error { return postgresFinish(context.WithoutCancel(ctx), db, &st) }
	}
	defer func() {
		t := time.Now()
		if ferr := finish(); ferr != nil {
			err = errors.Join(err, fmt.Errorf("generate: finish: %w", ferr))
		}
		st.Finish = time.Since(t)
		st.Total = time.Since(begin)
	}()

	if st.Accounts, err = g.stage(ctx, StageAccounts, "accounts", accountCols, g.accountCount(), g.baseAccount, g.accounts()); err != nil {
		return st, err
	}
	if st.Contacts, err = g.stage(ctx, StageContacts, "contacts", contactCols, opts.Contacts, g.baseContact, g.contacts()); err != nil {
		return st, err
	}
	if st.Leads, err = g.stage(ctx, StageLeads, "leads", leadCols, opts.Leads, g.baseLead, g.leads()); err != nil {
		return st, err
	}
	if st.Interactions, err = g.stage(ctx, StageInteractions, "interactions", interactionCols, opts.Interactions, g.baseInteraction, g.interactions()); err != nil {
		return st, err
	}
	return st, nil
}

// generator holds the state shared between stages: what later tables need
// to know about earlier ones, one slice per attribute to keep memory small.
type generator struct {
	db   *sqldb.DB
	opts Options
	load loader

	baseAccount, baseContact, baseLead, baseInteraction int64
	// processID is the default business process, which every generated
	// lead is in (nil when the database has none).
	processID any

	// accounts
	accCreated []int64
	accDomain  []string
	accCountry []uint8
	accCulture []uint8
	accCumW    []float64 // cumulative weights: larger companies get more contacts
	domains    map[string]struct{}

	// contacts
	conCreated []int64
	conAccount []int32 // index into the account slices, or -1
	conCulture []uint8
	conConsent []uint8 // consentEmailDenied | consentTrackingDenied
	conLead    []int32 // index of the contact's lead, or -1
	conCumW    []float64
	emails     map[uint64]struct{} // FNV-1a hashes of the emails in use

	// leads
	leadCreated []int64
}

// rng returns the random stream of one stage: stages draw from independent
// streams, so that e.g. the contacts do not change with the interaction count.
func (g *generator) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(g.opts.Seed, 0x9e3779b97f4a7c15^stream))
}

func (g *generator) accountCount() int {
	if g.opts.Contacts == 0 {
		return 0
	}
	return max(1, g.opts.Contacts/20)
}

// stage loads one table through the dialect's bulk loader.
func (g *generator) stage(ctx context.Context, stage, table string, cols []string, total int, base int64, next func(row []any) bool) (TableStats, error) {
	ts := TableStats{Table: table, FirstID: base + 1}
	t0 := time.Now()
	report := func(done int) {
		if g.opts.Progress != nil {
			g.opts.Progress(stage, done, total)
		}
	}
	report(0)
	done := 0
	n, err := g.load(ctx, g.db, table, cols, func(row []any) bool {
		if done == total || !next(row) {
			return false
		}
		if done++; done%progressEvery == 0 && done < total {
			report(done)
		}
		return true
	})
	ts.Rows, ts.Duration = n, time.Since(t0)
	if err != nil {
		return ts, fmt.Errorf("generate %s: %w", table, err)
	}
	if err := ctx.Err(); err != nil {
		return ts, err
	}
	if n != total {
		return ts, fmt.Errorf("generate %s: wrote %d rows, want %d", table, n, total)
	}
	report(done)
	return ts, nil
}

// loadExisting remembers the emails and domains already in the database, so
// that a run on a non-empty database keeps them unique.
func (g *generator) loadExisting(ctx context.Context) error {
	g.emails = make(map[uint64]struct{}, g.opts.Contacts)
	g.domains = make(map[string]struct{}, g.accountCount())
	if g.baseContact > 0 {
		if err := scanStrings(ctx, g.db.W, "SELECT email FROM contacts WHERE email <> ''", func(s string) {
			g.emails[hashString(s)] = struct{}{}
		}); err != nil {
			return fmt.Errorf("generate: existing emails: %w", err)
		}
	}
	if g.baseAccount > 0 {
		if err := scanStrings(ctx, g.db.W, "SELECT domain FROM accounts WHERE domain <> ''", func(s string) {
			g.domains[s] = struct{}{}
		}); err != nil {
			return fmt.Errorf("generate: existing domains: %w", err)
		}
	}
	return nil
}

func scanStrings(ctx context.Context, db *sql.DB, query string, fn func(string)) error {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		fn(s)
	}
	return rows.Err()
}

// sqliteFastLoad prepares the writer connection for the load: no fsync and
// no foreign key enforcement (every reference the generator writes points
// at a row it wrote before, in an earlier transaction; the tests check the
// result with PRAGMA foreign_key_check). The writer's own settings already
// keep a load transaction's pages in memory until it commits (see the
// sqlite package's dsn); a 256 MiB cache of clean pages on top measured no
// faster (bench/gen, 100k + 1M: 15.1 / 13.2 s with it, 12.7 / 13.8 s
// without). The returned function restores the two settings and
// checkpoints the WAL under the restored synchronous setting, which syncs
// the loaded pages to disk.
func sqliteFastLoad(ctx context.Context, db *sqldb.DB) (func() error, error) {
	var sync, fk int64
	for _, p := range []struct {
		name string
		v    *int64
	}{{"synchronous", &sync}, {"foreign_keys", &fk}} {
		if err := db.W.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(p.v); err != nil {
			return nil, fmt.Errorf("generate: read %s: %w", p.name, err)
		}
	}
	// synchronous=OFF: a power cut during the load may lose it; a crash of the
	// process cannot corrupt the database.
	if _, err := db.W.ExecContext(ctx, "PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF"); err != nil {
		return nil, fmt.Errorf("generate: tune sqlite: %w", err)
	}
	return func() error {
		ctx := context.WithoutCancel(ctx)
		_, err := db.W.ExecContext(ctx, fmt.Sprintf("PRAGMA synchronous=%d; PRAGMA foreign_keys=%d", sync, fk))
		if err != nil {
			return err
		}
		var busy, logPages, checkpointed int64
		return db.W.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &logPages, &checkpointed)
	}, nil
}

// postgresFinish moves the identity sequences past the ids the generator
// chose, so that rows created later through the API do not collide, and
// refreshes the planner's statistics.
func postgresFinish(ctx context.Context, db *sqldb.DB, st *Stats) error {
	var loaded []string
	for _, t := range st.Tables() {
		if t.Rows == 0 {
			continue
		}
		loaded = append(loaded, t.Table)
		q := fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), (SELECT MAX(id) FROM %s))", t.Table, t.Table)
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("advance sequence of %s: %w", t.Table, err)
		}
	}
	if len(loaded) == 0 {
		return nil
	}
	_, err := db.W.ExecContext(ctx, "ANALYZE "+strings.Join(loaded, ", "))
	return err
}

// hashString is 64-bit FNV-1a: fixed, so email de-duplication (and with it
// the output) never depends on the process.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Random helpers.

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chance reports true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// choice picks an index with the given weights (which need not sum to 1).
type choice []float64 // cumulative weights

func newChoice(weights ...float64) choice {
	c := make(choice, len(weights))
	sum := 0.0
	for i, w := range weights {
		sum += w
		c[i] = sum
	}
	return c
}

func (c choice) pick(r *rand.Rand) int {
	x := r.Float64() * c[len(c)-1]
	for i, v := range c {
		if x < v {
			return i
		}
	}
	return len(c) - 1
}

// searchCum returns the first index i < n with cum[i] > x (cum ascending).
func searchCum(cum []float64, n int, x float64) int {
	lo, hi := 0, n
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return min(lo, n-1)
}

// expDelay draws an exponential delay with the given mean, capped.
func expDelay(r *rand.Rand, mean, limit int64) int64 {
	return max(min(int64(float64(-ln(1-r.Float64()))*float64(mean)), limit), 0)
}

// spread places record i of n on [start, end) along a growth curve (more
// records recently), strictly increasing with i; record 0 is at start.
func spread(r *rand.Rand, i, n int, start, end int64) int64 {
	if i == 0 {
		return start
	}
	q := (float64(i) + r.Float64()) / float64(n)
	return start + int64(float64(end-start)*pow75(q))
}

// pow75 is q^0.75, the growth curve of records over time.
func pow75(q float64) float64 {
	if q <= 0 {
		return 0
	}
	return float64(math.Sqrt(q) * math.Sqrt(math.Sqrt(q)))
}

// Portable arithmetic. The output must not depend on the platform, so the
// values that shape it are computed with operations IEEE 754 rounds exactly
// (+ − × ÷ and square root), never with math.Exp, Log or Pow, whose last bit
// differs between architectures, nor with rand's NormFloat64 and ExpFloat64,
// which call them. float64(…) around a product keeps the compiler from fusing
// it with an addition (FMA), which some architectures would do.

// ln is the natural logarithm of x > 0, to about 1e-16.
func ln(x float64) float64 {
	f, e := math.Frexp(x) // x = f·2^e, f ∈ [½, 1)
	if f < math.Sqrt2/2 {
		f *= 2
		e--
	}
	// ln f = 2·atanh(s) = 2(s + s³/3 + s⁵/5 + …) with s = (f-1)/(f+1), |s| < 0.172
	s := (f - 1) / (f + 1)
	s2 := float64(s * s)
	sum, term := 0.0, s
	for k := 1.0; k < 40; k += 2 {
		sum += float64(term / k)
		term = float64(term * s2)
	}
	return float64(2*sum) + float64(float64(e)*math.Ln2)
}
