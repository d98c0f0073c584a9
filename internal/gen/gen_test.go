package gen_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/internal/gen"
	"github.com/leadcycle/leadcycle/store/postgres"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

const (
	testContacts     = 2000
	testInteractions = 20000
)

// dialects lists the databases to test: SQLite always, PostgreSQL when
// LEADCYCLE_TEST_POSTGRES holds a URL.
func dialects(t *testing.T) []string {
	d := []string{"sqlite"}
	if os.Getenv("LEADCYCLE_TEST_POSTGRES") != "" {
		d = append(d, "postgres")
	}
	return d
}

// open returns a fresh, migrated database of the dialect.
func open(t *testing.T, dialect string) *sqldb.Store {
	t.Helper()
	ctx := context.Background()
	if dialect == "sqlite" {
		st, err := sqlite.Open(ctx, t.TempDir(), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	base := os.Getenv("LEADCYCLE_TEST_POSTGRES")
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	schema := fmt.Sprintf("gen_test_%016x", rand.Uint64())
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := postgres.Open(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func run(t *testing.T, st *sqldb.Store, opts gen.Options) gen.Stats {
	t.Helper()
	stats, err := gen.Run(context.Background(), st.DB, opts)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	t.Logf("%s:\n%v", st.Dialect.Name, stats)
	return stats
}

var tables = []string{"accounts", "contacts", "leads", "interactions"}

// checksum hashes every row of the generated tables, in id order.
func checksum(t *testing.T, db *sqldb.DB) string {
	t.Helper()
	h := sha256.New()
	for _, table := range tables {
		rows, err := db.R.Query("SELECT * FROM " + table + " ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		n := 0
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%T:%v|", v, v)
			}
			h.Write([]byte{'\n'})
			n++
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		rows.Close()
		fmt.Fprintf(h, "%s=%d\n", table, n)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func TestDeterministic(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			opts := gen.Options{Contacts: testContacts, Interactions: testInteractions, Seed: 42}
			a, b := open(t, d), open(t, d)
			run(t, a, opts)
			run(t, b, opts)
			sa, sb := checksum(t, a.DB), checksum(t, b.DB)
			if sa != sb {
				t.Fatalf("same seed, different data: %s vs %s", sa, sb)
			}
			opts.Seed = 43
			c := open(t, d)
			run(t, c, opts)
			if sc := checksum(t, c.DB); sc == sa {
				t.Fatalf("seeds 42 and 43 gave the same data")
			}
		})
	}
}

func count(t *testing.T, db *sqldb.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(db.Q(query), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// listAll reads every record of a repo through the store's List.
func listAll[T leadcycle.Record](t *testing.T, repo leadcycle.Repo[T]) []T {
	t.Helper()
	var all []T
	q := leadcycle.ListQuery{Limit: leadcycle.MaxLimit}
	for {
		page, err := repo.List(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Items...)
		if page.NextCursor == "" {
			return all
		}
		q.Cursor = page.NextCursor
	}
}

// validated checks that a record read back is valid and already normalised.
func validated[T any, P interface {
	*T
	Normalize()
	Validate() error
}](t *testing.T, kind string, v T) {
	t.Helper()
	if err := P(&v).Validate(); err != nil {
		t.Fatalf("%s %+v: %v", kind, v, err)
	}
	n := v
	P(&n).Normalize()
	if !reflect.DeepEqual(n, v) {
		t.Fatalf("%s is not normalised:\n%+v\n%+v", kind, v, n)
	}
}

func TestGenerate(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			st := open(t, d)
			var stages []string
			opts := gen.Options{Contacts: testContacts, Interactions: testInteractions, Seed: 7, Progress: func(stage string, done, total int) {
				if done == total {
					stages = append(stages, fmt.Sprintf("%s %d", stage, total))
				}
			}}
			stats := run(t, st, opts)
			checkAll(t, st, stats, opts)
			want := []string{"accounts 100", "contacts 2000", "leads 500", "interactions 20000"}
			if !slices.Equal(stages, want) {
				t.Errorf("progress ends %q, want %q", stages, want)
			}
		})
	}
}

func checkAll(t *testing.T, st *sqldb.Store, stats gen.Stats, opts gen.Options) {
	ctx := context.Background()
	db := st.DB
	ref := gen.Reference().UnixMicro()

	// Counts.
	wantRows := map[string]int{"accounts": opts.Contacts / 20, "contacts": opts.Contacts, "leads": opts.Contacts / 4, "interactions": opts.Interactions}
	for _, table := range tables {
		if n := count(t, db, "SELECT COUNT(*) FROM "+table); n != wantRows[table] {
			t.Errorf("%s: %d rows, want %d", table, n, wantRows[table])
		}
	}
	if stats.Contacts.Rows != opts.Contacts || stats.Interactions.Rows != opts.Interactions || stats.Rows() != opts.Contacts*26/20+opts.Interactions {
		t.Errorf("stats %+v", stats)
	}

	// Referential integrity and consistency.
	for _, q := range []string{
		"SELECT COUNT(*) FROM contacts c WHERE c.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = c.account_id)",
		"SELECT COUNT(*) FROM leads l WHERE l.contact_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = l.contact_id)",
		"SELECT COUNT(*) FROM leads l WHERE l.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = l.account_id)",
		"SELECT COUNT(*) FROM interactions i WHERE NOT EXISTS (SELECT 1 FROM contacts c WHERE c.id = i.contact_id)",
		"SELECT COUNT(*) FROM interactions i WHERE i.lead_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = i.lead_id)",
		"SELECT COUNT(*) FROM interactions i WHERE i.account_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.id = i.account_id)",
		// a lead's and an interaction's account is its contact's
		"SELECT COUNT(*) FROM leads l JOIN contacts c ON c.id = l.contact_id WHERE l.account_id IS DISTINCT FROM c.account_id",
		"SELECT COUNT(*) FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.account_id IS DISTINCT FROM c.account_id",
		// an interaction's lead is its contact's and existed then
		"SELECT COUNT(*) FROM interactions i JOIN leads l ON l.id = i.lead_id WHERE l.contact_id <> i.contact_id OR l.created_at > i.occurred_at",
		// nothing happens before its parents exist or after the reference time
		"SELECT COUNT(*) FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE c.created_at < a.created_at",
		"SELECT COUNT(*) FROM leads l JOIN contacts c ON c.id = l.contact_id WHERE l.created_at < c.created_at",
		"SELECT COUNT(*) FROM interactions i JOIN contacts c ON c.id = i.contact_id WHERE i.occurred_at < c.created_at",
		"SELECT COUNT(*) FROM interactions WHERE created_at < occurred_at OR created_at >= ? OR occurred_at < ?",
		"SELECT COUNT(*) FROM accounts WHERE updated_at < created_at OR updated_at >= ?",
		"SELECT COUNT(*) FROM contacts WHERE updated_at < created_at OR updated_at >= ?",
		"SELECT COUNT(*) FROM leads WHERE updated_at < created_at OR updated_at >= ?",
	} {
		var args []any
		switch strings.Count(q, "?") {
		case 1:
			args = []any{ref}
		case 2:
			args = []any{ref, ref - 365*24*3600*1_000_000}
		}
		if n := count(t, db, q, args...); n != 0 {
			t.Errorf("%d rows break: %s", n, q)
		}
	}
	if db.Dialect.Name == "sqlite" {
		rows, err := db.R.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			t.Fatal(err)
		}
		if rows.Next() {
			t.Error("PRAGMA foreign_key_check reports violations")
		}
		rows.Close()
	}
	// Leads reference forms and events that exist, so they can be edited
	// through the API (which checks references).
	for _, q := range []string{
		"SELECT COUNT(*) FROM leads WHERE form_id IS NOT NULL AND form_id NOT IN (SELECT id FROM forms)",
		"SELECT COUNT(*) FROM leads WHERE event_id IS NOT NULL AND event_id NOT IN (SELECT id FROM events)",
	} {
		if n := count(t, db, q); n != 0 {
			t.Errorf("%s = %d", q, n)
		}
	}
	if n := count(t, db, "SELECT COUNT(*) FROM leads WHERE form_id IS NOT NULL"); n == 0 {
		t.Error("no generated lead has a form")
	}
	orphans := count(t, db, "SELECT COUNT(*) FROM leads WHERE contact_id IS NULL AND account_id IS NULL")
	if want := opts.Contacts / 4 / 100; orphans != want {
		t.Errorf("%d leads without parent, want %d", orphans, want)
	}

	// Ids follow time in interactions.
	rows, err := db.R.QueryContext(ctx, "SELECT occurred_at FROM interactions ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	prev := int64(0)
	for rows.Next() {
		var at int64
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		if at < prev {
			t.Fatalf("interactions not in time order: %d after %d", at, prev)
		}
		prev = at
	}
	rows.Close()

	// Contacts: three scripts, valid unique emails, mostly at their company.
	contacts := listAll(t, st.Contacts())
	if len(contacts) != opts.Contacts {
		t.Fatalf("listed %d contacts", len(contacts))
	}
	galician := map[string]bool{"Xoán": true, "Uxía": true, "Brais": true, "Antía": true, "Iago": true, "Noa": true, "Breixo": true, "Sabela": true, "Xiana": true, "Uxío": true}
	var han, gal, latin, withAccount, atCompany int
	emails := map[string]bool{}
	accounts := map[leadcycle.ID]leadcycle.Account{}
	for _, a := range listAll(t, st.Accounts()) {
		validated(t, "account", a)
		if a.Name == "" || a.Domain == "" || a.Country == "" || a.Industry == "" {
			t.Errorf("account lacks data: %+v", a)
		}
		accounts[a.ID] = a
	}
	for _, c := range contacts {
		validated(t, "contact", c)
		switch {
		case strings.ContainsFunc(c.FirstName, func(r rune) bool { return unicode.Is(unicode.Han, r) }):
			han++
			if !unicode.Is(unicode.Han, []rune(c.LastName)[0]) {
				t.Errorf("mixed Chinese name %q %q", c.FirstName, c.LastName)
			}
		case galician[c.FirstName]:
			gal++
		default:
			latin++
		}
		if !leadcycle.ValidEmail(c.Email) {
			t.Errorf("invalid email %q", c.Email)
		}
		if emails[c.Email] {
			t.Errorf("duplicate email %q", c.Email)
		}
		emails[c.Email] = true
		if c.AccountID != nil {
			withAccount++
			if strings.HasSuffix(c.Email, "@"+accounts[*c.AccountID].Domain) {
				atCompany++
			}
		}
		if c.Phone != "" && (!strings.HasPrefix(c.Phone, "+") || strings.ContainsAny(c.Phone, " -")) {
			t.Errorf("phone %q not in E.164", c.Phone)
		}
	}
	t.Logf("names: %d Chinese, %d distinctly Galician, %d other Latin; %d of %d contacts with an account, %d emails at the company domain",
		han, gal, latin, withAccount, len(contacts), atCompany)
	if han < opts.Contacts/10 || gal < opts.Contacts/100 || latin < opts.Contacts/3 {
		t.Errorf("scripts not all present: %d Chinese, %d Galician, %d Latin", han, gal, latin)
	}
	if share := float64(atCompany) / float64(len(contacts)); share < 0.6 || share > 0.8 {
		t.Errorf("%.2f of emails at the company domain, want about 0.7", share)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT email) FROM contacts"); n != opts.Contacts {
		t.Errorf("%d distinct emails for %d contacts", n, opts.Contacts)
	}
	if n := count(t, db, "SELECT COUNT(DISTINCT domain) FROM accounts"); n != len(accounts) {
		t.Errorf("%d distinct domains for %d accounts", n, len(accounts))
	}
	c, err := st.Contacts().Get(ctx, contacts[len(contacts)/2].ID)
	if err != nil || !reflect.DeepEqual(*c, contacts[len(contacts)/2]) {
		t.Errorf("Get = %+v, %v; want %+v", c, err, contacts[len(contacts)/2])
	}

	// Leads: valid, consistent flags, mostly open and new.
	leads := listAll(t, st.Leads())
	reasons := map[string]int{}
	for _, l := range leads {
		validated(t, "lead", l)
		reasons[l.StatusReason]++
		if l.TelesalesAccepted && !l.TelesalesReady || l.SalesAccepted && !l.SalesReady || l.SalesReady && !l.TelesalesAccepted ||
			(l.Status == leadcycle.LeadQualified) != l.SalesAccepted ||
			l.StatusReason == "new" && (l.Stage != leadcycle.DefaultStage || l.TelesalesReady) {
			t.Errorf("inconsistent lead %+v", l)
		}
	}
	t.Logf("lead reasons: %v", reasons)
	if reasons["new"] < len(leads)*4/10 {
		t.Errorf("only %d of %d leads are new", reasons["new"], len(leads))
	}

	// Interactions: valid, realistic mix, skewed activity.
	types := map[string]int{}
	perContact := map[leadcycle.ID]int{}
	withLead := 0
	for _, i := range listAll(t, st.Interactions()) {
		validated(t, "interaction", i)
		types[i.Type]++
		perContact[i.ContactID]++
		if i.LeadID != nil {
			withLead++
		}
		if len(i.Properties) == 0 {
			t.Fatalf("interaction without properties: %+v", i)
		}
	}
	t.Logf("types: %v; %d with a lead", types, withLead)
	for _, typ := range leadcycle.InteractionTypes {
		if types[typ] == 0 {
			t.Errorf("no %s interactions", typ)
		}
	}
	n := float64(opts.Interactions)
	email := types["email_sent"] + types["email_delivered"] + types["email_opened"] + types["email_clicked"]
	if pv := float64(types["page_view"]) / n; pv < 0.3 || float64(email)/n < 0.25 || float64(types["form_submitted"])/n > 0.05 {
		t.Errorf("unrealistic mix: %v", types)
	}
	if withLead == 0 {
		t.Error("no interaction has a lead")
	}
	counts := make([]int, 0, len(perContact))
	for _, k := range perContact {
		counts = append(counts, k)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(counts)))
	top := 0
	for _, k := range counts[:opts.Contacts/100] {
		top += k
	}
	t.Logf("the most active 1%% of contacts have %.1f%% of the interactions; %d contacts have none", 100*float64(top)/n, opts.Contacts-len(perContact))
	if float64(top)/n < 0.08 {
		t.Errorf("activity not skewed: top 1%% has %d of %d", top, opts.Interactions)
	}
}

// TestNonEmpty runs twice into one database: ids continue, emails and
// domains stay unique, and records created afterwards through the API get
// fresh ids (PostgreSQL's sequences were advanced).
func TestNonEmpty(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := open(t, d)
			manual := &leadcycle.Contact{FirstName: "Antía", LastName: "Souto", Email: "antia@example.gal"}
			if err := st.Contacts().Create(ctx, manual); err != nil {
				t.Fatal(err)
			}
			opts := gen.Options{Contacts: 400, Interactions: 1000, Seed: 1}
			s1 := run(t, st, opts)
			s2 := run(t, st, opts)
			if s1.Contacts.FirstID != int64(manual.ID)+1 || s2.Contacts.FirstID != s1.Contacts.FirstID+400 ||
				s2.Interactions.FirstID != 1001 || s2.Accounts.FirstID != 21 || s2.Leads.FirstID != 101 {
				t.Errorf("ids do not continue: %+v then %+v", s1, s2)
			}
			if n := count(t, db(st), "SELECT COUNT(DISTINCT email) FROM contacts"); n != 801 {
				t.Errorf("%d distinct emails, want 801", n)
			}
			if n := count(t, db(st), "SELECT COUNT(DISTINCT domain) FROM accounts"); n != 40 {
				t.Errorf("%d distinct domains, want 40", n)
			}
			c := &leadcycle.Contact{FirstName: "Brais", Email: "brais@example.gal"}
			if err := st.Contacts().Create(ctx, c); err != nil {
				t.Fatalf("create after generate: %v", err)
			}
			if c.ID != 802 {
				t.Errorf("new contact got id %d, want 802", c.ID)
			}
			i := &leadcycle.Interaction{Type: leadcycle.InteractionPageView, ContactID: c.ID}
			if err := st.Interactions().Create(ctx, i); err != nil || i.ID != 2001 {
				t.Errorf("create interaction after generate: id %d, %v", i.ID, err)
			}
		})
	}
}

func db(st *sqldb.Store) *sqldb.DB { return st.DB }

func TestSizes(t *testing.T) {
	st := open(t, "sqlite")
	ctx := context.Background()
	if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: 0, Interactions: 5}); err == nil {
		t.Error("interactions without contacts accepted")
	}
	if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: -1}); err == nil {
		t.Error("negative size accepted")
	}
	s, err := gen.Run(ctx, st.DB, gen.Options{})
	if err != nil || s.Rows() != 0 {
		t.Errorf("empty run: %+v, %v", s, err)
	}
	// One contact: one account, no lead, interactions all on that contact.
	s, err = gen.Run(ctx, st.DB, gen.Options{Contacts: 1, Interactions: 50, Seed: 3})
	if err != nil || s.Accounts.Rows != 1 || s.Contacts.Rows != 1 || s.Leads.Rows != 0 || s.Interactions.Rows != 50 {
		t.Errorf("tiny run: %+v, %v", s, err)
	}
}

func TestCanceled(t *testing.T) {
	st := open(t, "sqlite")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := gen.Run(ctx, st.DB, gen.Options{Contacts: 1000, Interactions: 1000}); err == nil {
		t.Fatal("canceled run succeeded")
	}
	// The database is still usable and its settings restored.
	var sync int
	if err := st.W.QueryRow("PRAGMA synchronous").Scan(&sync); err != nil || sync != 1 {
		t.Errorf("synchronous = %d, %v; want 1 (NORMAL)", sync, err)
	}
}

func bulkFor(st *sqldb.Store) func(context.Context, *sqldb.DB, string, []string, func([]any) bool) (int, error) {
	if st.Dialect.Name == "postgres" {
		return postgres.BulkInsert
	}
	return sqlite.BulkInsert
}

// TestBulkInsert checks the loaders on row counts around their statement and
// transaction sizes, and that a panic in the row source reaches the caller
// without leaving rows or a broken connection behind.
func TestBulkInsert(t *testing.T) {
	for _, d := range dialects(t) {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st := open(t, d)
			bulk := bulkFor(st)
			cols := []string{"id", "name", "created_at", "updated_at"}
			id := int64(0)
			for _, n := range []int{0, 1, 99, 100, 101, 50_000, 50_001} {
				i := 0
				got, err := bulk(ctx, st.DB, "accounts", cols, func(row []any) bool {
					if i == n {
						return false
					}
					i++
					id++
					row[0], row[1], row[2], row[3] = id, fmt.Sprintf("Account %d", id), id, id
					return true
				})
				if err != nil || got != n {
					t.Fatalf("%d rows: inserted %d, %v", n, got, err)
				}
			}
			if n := count(t, st.DB, "SELECT COUNT(*) FROM accounts"); int64(n) != id {
				t.Fatalf("%d accounts, want %d", n, id)
			}
			func() {
				defer func() {
					if v := recover(); v != "boom" {
						t.Fatalf("recovered %v, want boom", v)
					}
				}()
				i := 0
				bulk(ctx, st.DB, "accounts", cols, func(row []any) bool {
					if i++; i == 150 {
						panic("boom")
					}
					row[0], row[1], row[2], row[3] = id+int64(i), "x", int64(1), int64(1)
					return true
				})
				t.Fatal("no panic")
			}()
			if n := count(t, st.DB, "SELECT COUNT(*) FROM accounts"); int64(n) != id {
				t.Fatalf("%d accounts after the panic, want %d", n, id)
			}
			// (explicit id: the loaders do not move PostgreSQL's sequences)
			if _, err := st.W.ExecContext(ctx, st.Q("INSERT INTO accounts (id, name, created_at, updated_at) VALUES (?, 'after', 1, 1)"), id+1); err != nil {
				t.Fatalf("writer unusable after panic: %v", err)
			}
			once := true
			if _, err := bulk(ctx, st.DB, "accounts", []string{"id", "no_such_column"}, func(row []any) bool {
				row[0], row[1] = id+2, "x"
				defer func() { once = false }()
				return once
			}); err == nil {
				t.Error("unknown column accepted")
			}
		})
	}
}
