package storetest

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
)

// importTests check import jobs: their lifecycle and leases, stored files,
// and how batches match, write and count rows.
var importTests = []test{
	{"job_lifecycle_and_file", testImportLifecycle},
	{"lease_resume_and_cancel", testImportLeases},
	{"contacts_match_update_skip_create", testImportContactModes},
	{"contacts_match_idna_emails", testImportContactIDNA},
	{"contacts_batches_read_ahead", testImportReadAhead},
	{"contacts_accounts_and_errors", testImportContactAccounts},
	{"accounts_match_domain_then_name", testImportAccounts},
	{"leads_link_contacts_and_report", testImportLeads},
	{"mappings", testImportMappings},
	{"invalid_options", testImportInvalidOptions},
}

const importOwner = "node-a"

// mustImportJob creates and claims an upload job of entity.
func mustImportJob(t *testing.T, e *env, o leadcycle.ImportOptions, cols ...string) *leadcycle.ImportJob {
	t.Helper()
	o.Entity = cmpOr(o.Entity, leadcycle.ImportContacts)
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, FileName: "f.csv", Options: o}
	for i, c := range cols {
		job.Columns = append(job.Columns, leadcycle.ImportColumn{Index: i, Header: strings.ToUpper(c), Field: c, How: "auto"})
	}
	if err := e.s.Imports().CreateImport(e.ctx, job, strings.NewReader("x\n1\n")); err != nil {
		t.Fatal(err)
	}
	claimed, err := e.s.Imports().ClaimImport(e.ctx, job.ID, importOwner, time.Minute)
	if err != nil || claimed == nil {
		t.Fatalf("claim: %v %v", claimed, err)
	}
	return claimed
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// mustApply applies a batch of rows (with their lines) and returns the job.
func mustApply(t *testing.T, e *env, job *leadcycle.ImportJob, rows ...leadcycle.ImportRow) *leadcycle.ImportJob {
	t.Helper()
	b := &leadcycle.ImportBatch{Rows: rows, Position: job.Position + int64(len(rows))}
	if err := e.s.Imports().ApplyImportBatch(e.ctx, job, importOwner, b); err != nil {
		t.Fatal(err)
	}
	got, err := e.s.Imports().GetImport(e.ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Rows != got.Created+got.Updated+got.Skipped+got.Failed {
		t.Errorf("counts do not add up: %+v", got.ImportCounts)
	}
	return got
}

func contactRow(line int64, c leadcycle.Contact, given ...string) leadcycle.ImportRow {
	return leadcycle.ImportRow{Line: line, Contact: &c, Given: given}
}

func mustErrors(t *testing.T, e *env, id leadcycle.ID) []leadcycle.ImportError {
	t.Helper()
	errs, err := e.s.Imports().ImportErrors(e.ctx, id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	for i := range errs {
		errs[i].Seq = 0
	}
	return errs
}

func testImportLifecycle(t *testing.T, e *env) {
	st := e.s.Imports()
	file := bytes.Repeat([]byte("email\nana@example.gal\n"), 300_000) // > one 4 MiB chunk
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, FileName: "c.csv", Options: leadcycle.ImportOptions{Entity: "contacts"}}
	if err := st.CreateImport(e.ctx, job, bytes.NewReader(file)); err != nil {
		t.Fatal(err)
	}
	if job.Status != leadcycle.ImportQueued || job.Size != int64(len(file)) || job.Options.OnMatch != leadcycle.OnMatchUpdate {
		t.Errorf("new job = %s size %d on_match %q", job.Status, job.Size, job.Options.OnMatch)
	}
	var back bytes.Buffer
	if err := st.ImportFile(e.ctx, job.ID, &back); err != nil || !bytes.Equal(back.Bytes(), file) {
		t.Fatalf("stored file differs (%d bytes back, %v)", back.Len(), err)
	}
	claimed, err := st.ClaimImport(e.ctx, 0, importOwner, time.Minute)
	if err != nil || claimed == nil || claimed.ID != job.ID || claimed.Status != leadcycle.ImportRunning || claimed.StartedAt == nil {
		t.Fatalf("claim = %+v, %v", claimed, err)
	}
	if again, _ := st.ClaimImport(e.ctx, 0, "node-b", time.Minute); again != nil {
		t.Errorf("a held job was claimed twice")
	}
	claimed.Format, claimed.Columns = "csv", []leadcycle.ImportColumn{{Index: 0, Header: "email", Field: "email", How: "auto"}}
	claimed.Warnings = []string{"w"}
	if err := st.StartImport(e.ctx, claimed, importOwner); err != nil {
		t.Fatal(err)
	}
	claimed.Status = leadcycle.ImportDone
	if err := st.FinishImport(e.ctx, claimed, importOwner); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetImport(e.ctx, job.ID)
	if err != nil || got.Status != leadcycle.ImportDone || got.FinishedAt == nil || got.Format != "csv" || len(got.Columns) != 1 || got.Warnings[0] != "w" {
		t.Fatalf("finished job = %+v, %v", got, err)
	}
	wantErr(t, st.ImportFile(e.ctx, job.ID, &back), leadcycle.ENotFound)
	_, err = st.CancelImport(e.ctx, job.ID)
	wantErr(t, err, leadcycle.EConflict)
	page, err := st.ListImports(e.ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"status"}, Op: leadcycle.OpEq, Value: "done"}}})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("list done = %d, %v", len(page.Items), err)
	}
}

func testImportLeases(t *testing.T, e *env) {
	st := e.s.Imports()
	job := mustImportJob(t, e, leadcycle.ImportOptions{}, "email")
	job = mustApply(t, e, job, contactRow(2, leadcycle.Contact{Email: "a@example.gal"}, "email"))
	// The worker dies: until the lease runs out nobody else takes the job,
	// then another node resumes it at its position.
	if j, _ := st.ClaimImport(e.ctx, 0, "node-b", time.Minute); j != nil {
		t.Fatal("claimed a job under a live lease")
	}
	e.clock.Advance(3 * time.Minute)
	resumed, err := st.ClaimImport(e.ctx, 0, "node-b", time.Minute)
	if err != nil || resumed == nil || resumed.Position != 1 || resumed.Created != 1 {
		t.Fatalf("resumed = %+v, %v", resumed, err)
	}
	// The old worker wakes up: its batch is refused, nothing is written.
	b := &leadcycle.ImportBatch{Rows: []leadcycle.ImportRow{contactRow(3, leadcycle.Contact{Email: "b@example.gal"}, "email")}, Position: 2}
	wantErr(t, st.ApplyImportBatch(e.ctx, job, importOwner, b), leadcycle.EConflict)
	if n := len(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{})); n != 1 {
		t.Errorf("%d contacts after a refused batch, want 1", n)
	}
	// Release lets another worker resume at once; cancel stops it.
	if err := st.ReleaseImport(e.ctx, resumed, "node-b"); err != nil {
		t.Fatal(err)
	}
	again, err := st.ClaimImport(e.ctx, resumed.ID, "node-c", time.Minute)
	if err != nil || again == nil {
		t.Fatalf("claim after release = %v, %v", again, err)
	}
	canceled, err := st.CancelImport(e.ctx, job.ID)
	if err != nil || !canceled.CancelRequested || canceled.Status != leadcycle.ImportRunning {
		t.Fatalf("cancel running = %+v, %v", canceled, err)
	}
	queued := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, Options: leadcycle.ImportOptions{Entity: "accounts"}}
	if err := st.CreateImport(e.ctx, queued, strings.NewReader("name\n")); err != nil {
		t.Fatal(err)
	}
	c, err := st.CancelImport(e.ctx, queued.ID)
	if err != nil || c.Status != leadcycle.ImportCanceled || c.FinishedAt == nil {
		t.Fatalf("cancel queued = %+v, %v", c, err)
	}
	if j, _ := st.ClaimImport(e.ctx, queued.ID, importOwner, time.Minute); j != nil {
		t.Error("a canceled job was claimed")
	}
}

func testImportContactModes(t *testing.T, e *env) {
	old := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "xose@example.gal", FirstName: "Xosé", JobTitle: "CTO", Phone: "+34981000000"})
	rows := func() []leadcycle.ImportRow {
		return []leadcycle.ImportRow{
			contactRow(2, leadcycle.Contact{Email: "XOSE@example.gal ", LastName: "Castelao", JobTitle: ""}, "email", "last_name", "job_title"),
			contactRow(3, leadcycle.Contact{Email: "new@example.gal", FirstName: "Nova"}, "email", "first_name"),
			contactRow(4, leadcycle.Contact{Email: "New@Example.gal", FirstName: "Nova", LastName: "Segunda"}, "email", "first_name", "last_name"),
		}
	}
	for _, tc := range []struct {
		onMatch                   string
		created, updated, skipped int64
		contacts                  int
	}{
		{leadcycle.OnMatchUpdate, 1, 2, 0, 2},
		{leadcycle.OnMatchSkip, 0, 0, 3, 2},
		{leadcycle.OnMatchCreate, 3, 0, 0, 5},
	} {
		job := mustImportJob(t, e, leadcycle.ImportOptions{OnMatch: tc.onMatch}, "email", "first_name", "last_name", "job_title")
		got := mustApply(t, e, job, rows()...)
		if got.Created != tc.created || got.Updated != tc.updated || got.Skipped != tc.skipped || got.Rows != 3 || got.Position != 3 {
			t.Errorf("%s: counts %+v", tc.onMatch, got.ImportCounts)
		}
		if n := len(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{})); n != tc.contacts {
			t.Errorf("%s: %d contacts, want %d", tc.onMatch, n, tc.contacts)
		}
	}
	// The update kept what the file left empty and filled what it gave; the
	// second row of the same email updated the first one's contact.
	c := MustGet(t, e.ctx, e.s.Contacts(), old.ID)
	if c.FirstName != "Xosé" || c.LastName != "Castelao" || c.JobTitle != "CTO" || c.Phone != "+34981000000" {
		t.Errorf("updated contact = %+v", c)
	}
	page := MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"email"}, Op: leadcycle.OpEq, Value: "new@example.gal"}}, Sort: "created_at"})
	if page[0].LastName != "Segunda" || page[0].Origin != leadcycle.SourceImport {
		t.Errorf("in-file duplicate = %+v", page[0])
	}
	// ClearEmpty lets an empty cell clear; an id column updates that record.
	job := mustImportJob(t, e, leadcycle.ImportOptions{ClearEmpty: true}, "id", "job_title")
	mustApply(t, e, job, leadcycle.ImportRow{Line: 2, ID: &old.ID, Contact: &leadcycle.Contact{FirstName: "ignored"}, Given: []string{"job_title"}})
	if c := MustGet(t, e.ctx, e.s.Contacts(), old.ID); c.JobTitle != "" || c.FirstName != "Xosé" {
		t.Errorf("after clear_empty = %+v", c)
	}
}

// testImportContactIDNA matches emails whose domain is written in Unicode
// and in ASCII (IDNA) both ways, between the file and stored contacts, in a
// batch and across batches.
func testImportContactIDNA(t *testing.T, e *env) {
	uxia := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "uxia@ría.gal"})
	brais := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "brais@xn--ra-nja.gal"})
	job := mustImportJob(t, e, leadcycle.ImportOptions{}, "email", "job_title")
	got := mustApply(t, e, job,
		contactRow(2, leadcycle.Contact{Email: "Uxia@xn--ra-nja.gal", JobTitle: "CEO"}, "email", "job_title"),
		contactRow(3, leadcycle.Contact{Email: "brais@RÍA.gal", JobTitle: "CTO"}, "email", "job_title"),
		contactRow(4, leadcycle.Contact{Email: "noa@ría.gal", JobTitle: "CFO"}, "email", "job_title"),
		contactRow(5, leadcycle.Contact{Email: "noa@xn--ra-nja.gal", JobTitle: "COO"}, "email", "job_title"),
		contactRow(6, leadcycle.Contact{Email: "iago@xn--ra-nja.gal", JobTitle: "CIO"}, "email", "job_title"))
	if got.Created != 2 || got.Updated != 3 {
		t.Errorf("first batch: %+v", got.ImportCounts)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), uxia.ID); c.JobTitle != "CEO" || c.Email != "uxia@xn--ra-nja.gal" {
		t.Errorf("uxia = %+v", c)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), brais.ID); c.JobTitle != "CTO" {
		t.Errorf("brais = %+v", c)
	}
	// The next batch finds the contacts the first created, by either form.
	got = mustApply(t, e, got,
		contactRow(7, leadcycle.Contact{Email: "NOA@xn--ra-nja.gal", JobTitle: "CMO"}, "email", "job_title"),
		contactRow(8, leadcycle.Contact{Email: "iago@ría.gal", JobTitle: "CDO"}, "email", "job_title"))
	if got.Created != 2 || got.Updated != 5 {
		t.Errorf("second batch: %+v", got.ImportCounts)
	}
	if n := len(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{})); n != 4 {
		t.Errorf("%d contacts, want 4", n)
	}
	// Brais moves to another address: the old one no longer matches.
	MustUpdate(t, e.ctx, e.s.Contacts(), brais.ID, func(c *leadcycle.Contact) error { c.Email = "brais@example.gal"; return nil })
	job = mustImportJob(t, e, leadcycle.ImportOptions{}, "email", "job_title")
	got = mustApply(t, e, job,
		contactRow(2, leadcycle.Contact{Email: "brais@ría.gal", JobTitle: "Old"}, "email", "job_title"),
		contactRow(3, leadcycle.Contact{Email: "Brais@example.gal", JobTitle: "New"}, "email", "job_title"))
	if got.Created != 1 || got.Updated != 1 {
		t.Errorf("after the change of address: %+v", got.ImportCounts)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), brais.ID); c.JobTitle != "New" {
		t.Errorf("brais = %+v", c)
	}
}

// testImportReadAhead applies batches that name the one after them (Next),
// which a store may look up while it writes the first: the second batch
// must still see what the first created and changed, and what other
// writers did in between.
func testImportReadAhead(t *testing.T, e *env) {
	ana := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "ana@example.gal", FirstName: "Ana"})
	brais := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "brais@example.gal"})
	uxia := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "uxia@ría.gal"})
	job := mustImportJob(t, e, leadcycle.ImportOptions{}, "email", "last_name", "job_title")
	apply := func(b *leadcycle.ImportBatch) *leadcycle.ImportJob {
		t.Helper()
		b.Position = job.Position + int64(len(b.Rows))
		if err := e.s.Imports().ApplyImportBatch(e.ctx, job, importOwner, b); err != nil {
			t.Fatal(err)
		}
		got, err := e.s.Imports().GetImport(e.ctx, job.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	b2 := &leadcycle.ImportBatch{Rows: []leadcycle.ImportRow{
		contactRow(6, leadcycle.Contact{Email: "ANA@example.gal", JobTitle: "Two"}, "email", "job_title"),
		contactRow(7, leadcycle.Contact{Email: "new1@example.gal", JobTitle: "Two"}, "email", "job_title"),
		contactRow(8, leadcycle.Contact{Email: "noa@xn--ra-nja.gal", JobTitle: "Two"}, "email", "job_title"),
		contactRow(9, leadcycle.Contact{Email: "uxia@ría.gal", JobTitle: "Two"}, "email", "job_title"),
		contactRow(10, leadcycle.Contact{Email: "brais@example.gal", JobTitle: "Two"}, "email", "job_title"),
		contactRow(11, leadcycle.Contact{Email: "brais.new@example.gal", JobTitle: "Two"}, "email", "job_title"),
	}}
	b1 := &leadcycle.ImportBatch{Next: b2, Rows: []leadcycle.ImportRow{
		contactRow(2, leadcycle.Contact{Email: "ana@example.gal", LastName: "Uno", JobTitle: "One"}, "email", "last_name", "job_title"),
		contactRow(3, leadcycle.Contact{Email: "new1@example.gal", JobTitle: "One"}, "email", "job_title"),
		contactRow(4, leadcycle.Contact{Email: "noa@ría.gal", JobTitle: "One"}, "email", "job_title"),
		contactRow(5, leadcycle.Contact{Email: "uxia@xn--ra-nja.gal", JobTitle: "One"}, "email", "job_title"),
		{Line: 6, ID: &brais.ID, Contact: &leadcycle.Contact{Email: "brais.new@example.gal"}, Given: []string{"email"}},
	}}
	job = apply(b1)
	if job.Created != 2 || job.Updated != 3 {
		t.Fatalf("first batch: %+v", job.ImportCounts)
	}
	job = apply(b2)
	if job.Created != 3 || job.Updated != 8 {
		t.Errorf("second batch: %+v (want the first batch's contacts updated, and a new contact for brais's old address)", job.ImportCounts)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), ana.ID); c.LastName != "Uno" || c.JobTitle != "Two" || c.FirstName != "Ana" {
		t.Errorf("ana = %+v", c)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), uxia.ID); c.JobTitle != "Two" || c.Email != "uxia@ría.gal" {
		t.Errorf("uxia = %+v", c)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), brais.ID); c.JobTitle != "Two" || c.Email != "brais.new@example.gal" {
		t.Errorf("brais = %+v", c)
	}
	if n := len(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{})); n != 6 {
		t.Errorf("%d contacts, want 6", n)
	}
	// Another writer between two batches: the second finds its contact.
	b4 := &leadcycle.ImportBatch{Rows: []leadcycle.ImportRow{
		contactRow(14, leadcycle.Contact{Email: "late@example.gal", JobTitle: "Four"}, "email", "job_title"),
		contactRow(15, leadcycle.Contact{Email: "ana@example.gal", LastName: "Catro"}, "email", "last_name"),
	}}
	b3 := &leadcycle.ImportBatch{Next: b4, Rows: []leadcycle.ImportRow{
		contactRow(12, leadcycle.Contact{Email: "other@example.gal"}, "email"),
		contactRow(13, leadcycle.Contact{Email: "ana@example.gal", JobTitle: "Three"}, "email", "job_title"),
	}}
	job = apply(b3)
	late := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "late@example.gal"})
	MustUpdate(t, e.ctx, e.s.Contacts(), ana.ID, func(c *leadcycle.Contact) error { c.FirstName = "Ana María"; return nil })
	job = apply(b4)
	if job.Created != 4 || job.Updated != 11 {
		t.Errorf("after another writer: %+v", job.ImportCounts)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), late.ID); c.JobTitle != "Four" {
		t.Errorf("late = %+v", c)
	}
	if c := MustGet(t, e.ctx, e.s.Contacts(), ana.ID); c.FirstName != "Ana María" || c.LastName != "Catro" || c.JobTitle != "Three" {
		t.Errorf("ana = %+v", c)
	}
	if n := len(MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{})); n != 8 {
		t.Errorf("%d contacts, want 8", n)
	}
}

func testImportContactAccounts(t *testing.T, e *env) {
	acme := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Acme Galicia", Domain: "acme.gal"})
	job := mustImportJob(t, e, leadcycle.ImportOptions{}, "email", "account", "phone")
	rows := []leadcycle.ImportRow{
		{Line: 2, Contact: &leadcycle.Contact{Email: "a@acme.gal"}, Given: []string{"email"}},                                          // by email domain
		{Line: 3, Contact: &leadcycle.Contact{Email: "b@gmail.com"}, AccountName: "acme GALICIA", Given: []string{"email", "account"}}, // by name, any case
		{Line: 4, Contact: &leadcycle.Contact{Email: "c@gmail.com"}, AccountName: "Nova SL", Given: []string{"email", "account"}},      // new account
		{Line: 5, Contact: &leadcycle.Contact{Email: "d@gmail.com"}, AccountName: "nova sl", Given: []string{"email", "account"}},      // the one just made
		{Line: 7, Contact: &leadcycle.Contact{Email: "not an email"}, Given: []string{"email"}},
		{Line: 9, Contact: &leadcycle.Contact{Email: "e@example.gal", Phone: "call me"}, Given: []string{"email", "phone"}},
	}
	b := &leadcycle.ImportBatch{Rows: rows, Position: 9, Failed: 1,
		Errors: []leadcycle.ImportError{{Line: 6, Column: "EMAIL", Value: "x", Reason: "the row has no value"}}}
	if err := e.s.Imports().ApplyImportBatch(e.ctx, job, importOwner, b); err != nil {
		t.Fatal(err)
	}
	got, _ := e.s.Imports().GetImport(e.ctx, job.ID)
	want := leadcycle.ImportCounts{Rows: 7, Created: 4, Failed: 3, AccountsCreated: 1}
	diff(t, "counts", want, got.ImportCounts)
	errs := mustErrors(t, e, job.ID)
	if len(errs) != 3 || errs[0].Line != 6 || errs[1].Line != 7 || errs[1].Column != "EMAIL" || errs[2].Line != 9 || errs[2].Column != "PHONE" {
		t.Errorf("report = %+v", errs)
	}
	for _, er := range errs {
		if er.Severity != leadcycle.SeverityError || er.Reason == "" {
			t.Errorf("report line %+v", er)
		}
	}
	byEmail := map[string]leadcycle.Contact{}
	for _, c := range MustList(t, e.ctx, e.s.Contacts(), leadcycle.ListQuery{}) {
		byEmail[c.Email] = c
	}
	if a, b := byEmail["a@acme.gal"], byEmail["b@gmail.com"]; a.AccountID == nil || *a.AccountID != acme.ID || b.AccountID == nil || *b.AccountID != acme.ID {
		t.Errorf("acme contacts = %v %v", a.AccountID, b.AccountID)
	}
	if c, d := byEmail["c@gmail.com"], byEmail["d@gmail.com"]; c.AccountID == nil || d.AccountID == nil || *c.AccountID != *d.AccountID || *c.AccountID == acme.ID {
		t.Errorf("new account contacts = %v %v", c.AccountID, d.AccountID)
	}
}

func testImportAccounts(t *testing.T, e *env) {
	old := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Old name", Domain: "castro.gal", Industry: "Retail"})
	job := mustImportJob(t, e, leadcycle.ImportOptions{Entity: leadcycle.ImportAccounts}, "name", "domain", "employees", "country")
	ten := int64(10)
	got := mustApply(t, e, job,
		leadcycle.ImportRow{Line: 2, Account: &leadcycle.Account{Name: "Sargadelos Castro", Domain: "castro.gal", Employees: &ten}, Given: []string{"name", "domain", "employees"}},
		leadcycle.ImportRow{Line: 3, Account: &leadcycle.Account{Name: "陳氏貿易", Country: "TW"}, Given: []string{"name", "country"}},
		leadcycle.ImportRow{Line: 4, Account: &leadcycle.Account{Name: "陳氏貿易"}, Given: []string{"name"}},
		leadcycle.ImportRow{Line: 5, Account: &leadcycle.Account{Name: "Bad", Country: "Spain"}, Given: []string{"name", "country"}},
	)
	diff(t, "counts", leadcycle.ImportCounts{Rows: 4, Created: 1, Updated: 2, Failed: 1}, got.ImportCounts)
	a := MustGet(t, e.ctx, e.s.Accounts(), old.ID)
	if a.Name != "Sargadelos Castro" || a.Industry != "Retail" || a.Employees == nil || *a.Employees != 10 {
		t.Errorf("updated account = %+v", a)
	}
	if errs := mustErrors(t, e, job.ID); len(errs) != 1 || errs[0].Column != "COUNTRY" {
		t.Errorf("report = %+v", errs)
	}
}

func testImportLeads(t *testing.T, e *env) {
	c := MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Email: "lin@example.tw", LastName: "林"})
	acc := MustCreateAccount(t, e.ctx, e.s, &leadcycle.Account{Name: "Formosa Tea"})
	// The default lead strategy compares the form, which imported rows do
	// not have: a strategy on email and campaign updates leads instead.
	byCampaign := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "Email and campaign", Kind: leadcycle.StrategyLead, Fields: []string{"email", "campaign"}})
	job := mustImportJob(t, e, leadcycle.ImportOptions{Entity: leadcycle.ImportLeads, StrategyID: &byCampaign.ID}, "topic", "email", "account", "campaign")
	given := []string{"topic", "email", "account", "campaign"}
	lead := func(topic string) *leadcycle.Lead { return &leadcycle.Lead{Topic: topic, Campaign: "Tea 2026"} }
	got := mustApply(t, e, job,
		leadcycle.ImportRow{Line: 2, Lead: lead("Oolong"), ContactEmail: "LIN@example.tw", Given: given},
		leadcycle.ImportRow{Line: 3, Lead: lead("Oolong again"), ContactEmail: "lin@example.tw", Given: given},
		leadcycle.ImportRow{Line: 4, Lead: lead("Nobody"), ContactEmail: "ghost@example.gal", Given: given},
		leadcycle.ImportRow{Line: 5, Lead: lead("Ghost twice"), ContactEmail: "ghost@example.gal", Given: given},
		leadcycle.ImportRow{Line: 6, Lead: lead("Account lead"), AccountName: "formosa tea", Given: given},
		leadcycle.ImportRow{Line: 7, Lead: lead("Unknown account"), AccountName: "Nowhere Ltd", Given: given},
		leadcycle.ImportRow{Line: 8, Lead: lead(""), Given: given},
	)
	diff(t, "counts", leadcycle.ImportCounts{Rows: 7, Created: 3, Updated: 2, Failed: 2, LeadsWithoutContact: 2}, got.ImportCounts)
	leads := MustList(t, e.ctx, e.s.Leads(), leadcycle.ListQuery{Sort: "created_at"})
	if len(leads) != 3 {
		t.Fatalf("%d leads, want 3", len(leads))
	}
	if l := leads[0]; l.ContactID == nil || *l.ContactID != c.ID || l.Topic != "Oolong again" || l.Source != leadcycle.SourceImport {
		t.Errorf("contact lead = %+v", l)
	}
	if l := leads[1]; l.ContactID != nil || l.Topic != "Ghost twice" {
		t.Errorf("lead without contact = %+v", l)
	}
	if l := leads[2]; l.AccountID == nil || *l.AccountID != acc.ID || l.ContactID != nil {
		t.Errorf("account lead = %+v", l)
	}
	var notices, errors int
	for _, er := range mustErrors(t, e, job.ID) {
		switch er.Severity {
		case leadcycle.SeverityNotice:
			notices++
			if er.Line != 4 && er.Line != 6 || !strings.Contains(er.Reason, "without a contact") {
				t.Errorf("notice %+v", er)
			}
		default:
			errors++
			if er.Line != 7 && er.Line != 8 {
				t.Errorf("error %+v", er)
			}
		}
	}
	if notices != 2 || errors != 2 {
		t.Errorf("%d notices and %d errors, want 2 and 2", notices, errors)
	}
}

func testImportMappings(t *testing.T, e *env) {
	m := MustCreate(t, e.ctx, e.s.ImportMappings(), &leadcycle.ImportMapping{Name: "HubSpot contacts", Entity: "contacts",
		Columns: map[string]string{"Email Address": "email"}, Values: map[string]map[string]string{"consent.tracking": {"Yes": "granted"}}})
	got := MustGet(t, e.ctx, e.s.ImportMappings(), m.ID)
	diff(t, "mapping", m, got)
	wantErr(t, e.s.ImportMappings().Create(e.ctx, &leadcycle.ImportMapping{Name: "HubSpot contacts", Entity: "contacts"}), leadcycle.EConflict)
	wantErr(t, e.s.ImportMappings().Create(e.ctx, &leadcycle.ImportMapping{Name: "", Entity: "deals"}), leadcycle.EInvalid, "name", "entity")
	job := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, Options: leadcycle.ImportOptions{Entity: "leads", MappingID: &m.ID}}
	wantErr(t, e.s.Imports().CreateImport(e.ctx, job, strings.NewReader("x")), leadcycle.EInvalid, "mapping_id")
}

func testImportInvalidOptions(t *testing.T, e *env) {
	st := e.s.Imports()
	contactStrategy := mustStrategy(t, e, leadcycle.MatchingStrategy{Name: "By phone", Kind: leadcycle.StrategyContact, Fields: []string{"phone"}})
	for _, tc := range []struct {
		o      leadcycle.ImportOptions
		fields []string
	}{
		{leadcycle.ImportOptions{Entity: "deals", OnMatch: "merge"}, []string{"entity", "on_match"}},
		{leadcycle.ImportOptions{Entity: "leads", StrategyID: &contactStrategy.ID}, []string{"strategy_id"}},
		{leadcycle.ImportOptions{Entity: "accounts", StrategyID: &contactStrategy.ID}, []string{"strategy_id"}},
		{leadcycle.ImportOptions{Entity: "contacts", StrategyID: id(999)}, []string{"strategy_id"}},
		{leadcycle.ImportOptions{Entity: "contacts", Delimiter: "#", Encoding: "latin-9"}, []string{"delimiter", "encoding"}},
	} {
		job := &leadcycle.ImportJob{Source: leadcycle.ImportSourceUpload, Options: tc.o}
		wantErr(t, st.CreateImport(e.ctx, job, strings.NewReader("x")), leadcycle.EInvalid, tc.fields...)
	}
	// A strategy of the right kind is used: contacts by phone.
	MustCreateContact(t, e.ctx, e.s, &leadcycle.Contact{Phone: "+34 981 111 222", FirstName: "Rosalía"})
	job := mustImportJob(t, e, leadcycle.ImportOptions{StrategyID: &contactStrategy.ID}, "phone", "last_name")
	got := mustApply(t, e, job, contactRow(2, leadcycle.Contact{Phone: "+34981111222", LastName: "de Castro"}, "phone", "last_name"))
	if got.Updated != 1 || got.Created != 0 {
		t.Errorf("phone strategy counts = %+v", got.ImportCounts)
	}
}
