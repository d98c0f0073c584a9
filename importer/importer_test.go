package importer_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/importer"
	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// stores runs fn on a fresh SQLite store and, when LEADCYCLE_TEST_POSTGRES
// is set, on a fresh PostgreSQL one.
func stores(t *testing.T, fn func(t *testing.T, s *sqldb.Store)) {
	t.Run("sqlite", func(t *testing.T) {
		s, err := sqlite.Open(t.Context(), t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		fn(t, s)
	})
	t.Run("postgres", func(t *testing.T) {
		s := pgtest.Open(t, leadcycle.NewFixedClock(storetest.Epoch))
		fn(t, s)
	})
}

// runFile imports a file as a CLI would and returns the finished job and
// its report.
func runFile(t *testing.T, s *sqldb.Store, path string, o leadcycle.ImportOptions, batch int) (*leadcycle.ImportJob, []leadcycle.ImportError) {
	t.Helper()
	ctx := t.Context()
	job := newJob(t, s, path, o)
	r := &importer.Runner{Store: s, Owner: "test", BatchSize: batch}
	if ran, err := r.RunNext(ctx, job.ID); err != nil || !ran {
		t.Fatalf("run: %v %v", ran, err)
	}
	return finished(t, s, job.ID)
}

func newJob(t *testing.T, s *sqldb.Store, path string, o leadcycle.ImportOptions) *leadcycle.ImportJob {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	o.Normalize()
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourcePath, Path: path, FileName: filepath.Base(path), Size: st.Size(), Options: o}
	if err := importer.Prepare(t.Context(), s, job, path); err != nil {
		t.Fatal(err)
	}
	if err := s.Imports().CreateImport(t.Context(), job, nil); err != nil {
		t.Fatal(err)
	}
	return job
}

func finished(t *testing.T, s *sqldb.Store, id leadcycle.ID) (*leadcycle.ImportJob, []leadcycle.ImportError) {
	t.Helper()
	job, err := s.Imports().GetImport(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	errs, err := s.Imports().ImportErrors(t.Context(), id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if job.Rows != job.Created+job.Updated+job.Skipped+job.Failed {
		t.Errorf("counts do not add up: %+v", job.ImportCounts)
	}
	return job, errs
}

// lines returns "line column: reason" of each report entry, for compact
// comparisons.
func lines(errs []leadcycle.ImportError) []string {
	var out []string
	for _, e := range errs {
		out = append(out, strings.Join([]string{itoa(e.Line), e.Column, e.Severity}, " "))
	}
	return out
}

func itoa(n int64) string { return leadcycle.ID(n).String() }

func contactsByEmail(t *testing.T, s *sqldb.Store) map[string]leadcycle.Contact {
	t.Helper()
	out := map[string]leadcycle.Contact{}
	for _, c := range storetest.MustList(t, t.Context(), s.Contacts(), leadcycle.ListQuery{}) {
		out[c.Email] = c
	}
	return out
}

func TestMessyFiles(t *testing.T) {
	stores(t, func(t *testing.T, s *sqldb.Store) {
		// Windows-1252, semicolons, CRLF, a line of empty cells, the same
		// email twice in different case, a bad email and a bad phone.
		job, errs := runFile(t, s, "testdata/galician_1252_semicolon.csv", leadcycle.ImportOptions{Entity: "contacts"}, 2)
		if job.Encoding != "windows-1252" || job.Delimiter != ";" || job.Status != leadcycle.ImportDone {
			t.Errorf("detected %s %q, status %s (%s)", job.Encoding, job.Delimiter, job.Status, job.Error)
		}
		want := leadcycle.ImportCounts{Rows: 5, Created: 2, Updated: 1, Failed: 2, AccountsCreated: 1}
		if d := gocmp.Diff(want, job.ImportCounts); d != "" {
			t.Errorf("galician counts (-want +got):\n%s", d)
		}
		if d := gocmp.Diff([]string{"6 Correo electrónico error", "7 Teléfono error"}, lines(errs)); d != "" {
			t.Errorf("galician report (-want +got):\n%s", d)
		}
		got := contactsByEmail(t, s)
		xose, rosalia := got["xose@castelao.gal"], got["rosalia@castro.gal"]
		if xose.FirstName != "Xosé Manuel" || xose.AccountID == nil || rosalia.AccountID == nil || *xose.AccountID != *rosalia.AccountID {
			t.Errorf("xosé = %+v, rosalía = %+v", xose, rosalia)
		}
		if rosalia.FirstName != "Ramón" || rosalia.LastName != "Otero Pedrayo" || rosalia.JobTitle != "Poeta" || rosalia.Origin != leadcycle.SourceImport {
			t.Errorf("the second row of the same email did not update the first: %+v", rosalia)
		}

		// UTF-8 with a BOM, Chinese headers and names, a quoted newline, a
		// blank line, a duplicate in capitals, a row with extra cells and a
		// short last line without a newline.
		job, errs = runFile(t, s, "testdata/chinese_utf8_bom.csv", leadcycle.ImportOptions{Entity: "contacts"}, 1000)
		want = leadcycle.ImportCounts{Rows: 5, Created: 3, Updated: 1, Failed: 1, AccountsCreated: 1}
		if d := gocmp.Diff(want, job.ImportCounts); d != "" {
			t.Errorf("chinese counts (-want +got):\n%s", d)
		}
		if d := gocmp.Diff([]string{"7  error"}, lines(errs)); d != "" {
			t.Errorf("chinese report (-want +got):\n%s", d)
		}
		if len(job.Warnings) != 1 || !strings.Contains(job.Warnings[0], "備註") {
			t.Errorf("warnings = %q, want the unmapped 備註 column", job.Warnings)
		}
		got = contactsByEmail(t, s)
		if c := got["chan@example.tw"]; c.LastName != "王" || c.FirstName != "小明" || c.JobTitle != "工程師" {
			t.Errorf("chan = %+v", c)
		}
		if c := got["zhang@example.tw"]; c.LastName != "張" || c.FirstName != "三" {
			t.Errorf("zhang = %+v", c)
		}

		// UTF-16 with a BOM, tabs (Excel's "Unicode text"), HubSpot-style
		// headers, grouped numbers, country names.
		job, errs = runFile(t, s, "testdata/accounts_utf16le_tab.txt", leadcycle.ImportOptions{Entity: "accounts"}, 1000)
		want = leadcycle.ImportCounts{Rows: 3, Created: 1, Updated: 1, Failed: 1}
		if d := gocmp.Diff(want, job.ImportCounts); d != "" {
			t.Errorf("accounts counts (-want +got):\n%s", d)
		}
		if d := gocmp.Diff([]string{"4 Country/Region error"}, lines(errs)); d != "" {
			t.Errorf("accounts report (-want +got):\n%s", d)
		}
		accounts := storetest.MustList(t, t.Context(), s.Accounts(), leadcycle.ListQuery{Sort: "name"})
		var names []string
		for _, a := range accounts {
			names = append(names, a.Name+"/"+a.Country+"/"+a.Domain)
		}
		slices.Sort(names)
		wantNames := []string{"Sargadelos SL//", "Sargadelos/ES/sargadelos.com", "台灣茶業/TW/taiwantea.com.tw"}
		slices.Sort(wantNames)
		if d := gocmp.Diff(wantNames, names); d != "" {
			t.Errorf("accounts (-want +got):\n%s", d)
		}
		for _, a := range accounts {
			if a.Name == "Sargadelos" && (a.Employees == nil || *a.Employees != 1200 || a.Revenue == nil || *a.Revenue != 1234567.89 || a.Country != "ES") {
				t.Errorf("sargadelos = %+v", a)
			}
		}
	})
}

func TestBrokenFilesAreRefusedClearly(t *testing.T) {
	stores(t, func(t *testing.T, s *sqldb.Store) {
		dir := t.TempDir()
		for name, content := range map[string][]byte{
			"empty.csv":    {},
			"binary.csv":   {0x89, 'P', 'N', 'G', 0, 0, 0, 0x0d, 0, 1, 2, 3, 0, 0, 0},
			"nocolumn.csv": []byte("Shoe size;Colour\n42;red\n"),
			"bad.xlsx":     []byte("PK\x03\x04 not really a zip"),
		} {
			path := filepath.Join(dir, name)
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			o := leadcycle.ImportOptions{Entity: "contacts"}
			o.Normalize()
			job := &leadcycle.ImportJob{Source: leadcycle.ImportSourcePath, Path: path, Options: o}
			err := importer.Prepare(t.Context(), s, job, path)
			if leadcycle.ErrorCode(err) != leadcycle.EInvalid || len(leadcycle.ErrorFields(err)) != 1 {
				t.Errorf("%s: error %v, want one invalid field", name, err)
				continue
			}
			t.Logf("%s: %s", name, leadcycle.ErrorMessage(err))
		}
		// An explicit mapping to an unknown field names it.
		o := leadcycle.ImportOptions{Entity: "contacts", Columns: map[string]string{"Correo electrónico": "emial"}}
		o.Normalize()
		job := &leadcycle.ImportJob{Options: o}
		err := importer.Prepare(t.Context(), s, job, "testdata/galician_1252_semicolon.csv")
		if leadcycle.ErrorCode(err) != leadcycle.EInvalid || !strings.Contains(leadcycle.ErrorMessage(err), "emial") {
			t.Errorf("unknown field: %v", err)
		}
	})
}

// TestResumeAfterInterruption stops an import after its first batch, as a
// killed process would, and resumes it: every row is imported once.
func TestResumeAfterInterruption(t *testing.T) {
	stores(t, func(t *testing.T, s *sqldb.Store) {
		path := filepath.Join(t.TempDir(), "c.csv")
		var b bytes.Buffer
		b.WriteString("email,first_name\n")
		for i := range 25 {
			b.WriteString("p" + itoa(int64(i)) + "@example.gal,P\n")
		}
		b.WriteString("p3@example.gal,Again\n") // a duplicate of a row before the stop
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		job := newJob(t, s, path, leadcycle.ImportOptions{Entity: "contacts", OnMatch: leadcycle.OnMatchSkip})
		ctx, stop := context.WithCancel(t.Context())
		r := &importer.Runner{Store: s, Owner: "first", BatchSize: 10, Progress: func(*leadcycle.ImportJob) { stop() }}
		if _, err := r.RunNext(ctx, job.ID); err == nil {
			t.Fatal("an interrupted run reported no error")
		}
		mid, _ := finished(t, s, job.ID)
		if mid.Status != leadcycle.ImportRunning || mid.Position != 10 || mid.Created != 10 {
			t.Fatalf("after the stop: %s at %d, %+v", mid.Status, mid.Position, mid.ImportCounts)
		}
		r2 := &importer.Runner{Store: s, Owner: "second", BatchSize: 10}
		if ran, err := r2.RunNext(t.Context(), 0); err != nil || !ran {
			t.Fatalf("resume: %v %v", ran, err)
		}
		done, _ := finished(t, s, job.ID)
		want := leadcycle.ImportCounts{Rows: 26, Created: 25, Skipped: 1}
		if d := gocmp.Diff(want, done.ImportCounts); d != "" || done.Status != leadcycle.ImportDone {
			t.Errorf("resumed %s (-want +got):\n%s", done.Status, d)
		}
		if n := len(contactsByEmail(t, s)); n != 25 {
			t.Errorf("%d contacts, want 25", n)
		}
		// A file changed under a job is refused instead of skipping the
		// wrong rows.
		job = newJob(t, s, path, leadcycle.ImportOptions{Entity: "contacts"})
		if err := os.WriteFile(path, append(b.Bytes(), "x@example.gal,X\n"...), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := r2.RunNext(t.Context(), job.ID); err != nil {
			t.Fatal(err)
		}
		if changed, _ := finished(t, s, job.ID); changed.Status != leadcycle.ImportFailed || !strings.Contains(changed.Error, "changed") {
			t.Errorf("changed file: %s %q", changed.Status, changed.Error)
		}
	})
}

// TestCancel stops a running import after the batch in flight.
func TestCancel(t *testing.T) {
	stores(t, func(t *testing.T, s *sqldb.Store) {
		path := filepath.Join(t.TempDir(), "c.csv")
		var b bytes.Buffer
		b.WriteString("email\n")
		for i := range 30 {
			b.WriteString("c" + itoa(int64(i)) + "@example.gal\n")
		}
		os.WriteFile(path, b.Bytes(), 0o600)
		job := newJob(t, s, path, leadcycle.ImportOptions{Entity: "contacts"})
		r := &importer.Runner{Store: s, Owner: "w", BatchSize: 10, Progress: func(j *leadcycle.ImportJob) {
			if j.Position == 10 {
				if _, err := s.Imports().CancelImport(context.Background(), j.ID); err != nil {
					t.Error(err)
				}
			}
		}}
		if _, err := r.RunNext(t.Context(), job.ID); err != nil {
			t.Fatal(err)
		}
		got, _ := finished(t, s, job.ID)
		if got.Status != leadcycle.ImportCanceled || got.Rows != 10 {
			t.Errorf("canceled job: %s after %d rows", got.Status, got.Rows)
		}
	})
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
