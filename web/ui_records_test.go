package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/i18n"
	"golang.org/x/text/language"
)

// recordsSeed makes an account with a contact named with a script, two
// leads of the contact (one sales ready) and an interaction of each kind
// of reference.
type recordsSeed struct {
	account     *leadcycle.Account
	contact     *leadcycle.Contact
	plain, hot  *leadcycle.Lead
	interaction *leadcycle.Interaction
}

func seedRecords(t *testing.T, ts *testServer) recordsSeed {
	t.Helper()
	ctx := context.Background()
	var s recordsSeed
	if err := ts.store.Fields().Create(ctx, &leadcycle.FieldDef{Entity: "contact", Name: "segment", Label: "Segment", Type: leadcycle.FieldText}); err != nil {
		t.Fatal(err)
	}
	s.account = &leadcycle.Account{Name: "Conservas <b>Rías</b>", Website: "https://rias.example", Industry: "Canning", Country: "ES"}
	if err := ts.store.Accounts().Create(ctx, s.account); err != nil {
		t.Fatal(err)
	}
	s.contact = &leadcycle.Contact{FirstName: "<script>alert(1)</script>", LastName: "Castro", Email: "uxia@rias.example", JobTitle: "Buyer",
		AccountID: &s.account.ID, Origin: leadcycle.SourceForm, Custom: leadcycle.Custom{"segment": "Fish <i>and</i> chips"},
		Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentGranted}}
	if err := ts.store.Contacts().Create(ctx, s.contact); err != nil {
		t.Fatal(err)
	}
	s.plain = &leadcycle.Lead{Topic: "Cold enquiry", ContactID: &s.contact.ID, AccountID: &s.account.ID}
	s.hot = &leadcycle.Lead{Topic: "Hot enquiry", ContactID: &s.contact.ID, AccountID: &s.account.ID, SalesReady: true}
	for _, l := range []*leadcycle.Lead{s.plain, s.hot} {
		if err := ts.store.Leads().Create(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	s.interaction = &leadcycle.Interaction{Type: leadcycle.InteractionPageView, OccurredAt: time.Now().Add(-time.Hour), ContactID: s.contact.ID,
		AccountID: &s.account.ID, LeadID: &s.hot.ID, Properties: map[string]any{"url": "https://rias.example/<script>x</script>"}}
	if err := ts.store.Interactions().Create(ctx, s.interaction); err != nil {
		t.Fatal(err)
	}
	return s
}

// recordsNoScript fails when a page shows the seeded script unescaped.
func recordsNoScript(t *testing.T, path string, r pageResponse) {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<b>Rías") || strings.Contains(r.body, "<script>x") {
		t.Fatalf("%s shows user text unescaped", path)
	}
}

func TestContactPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	s := seedRecords(t, ts)
	other := seedLead(t, ts, "Other", "Breixo", nil)
	m := ts.login(t, "ana@example.gal")
	cid := s.contact.ID.String()

	r := m.get("/contacts")
	recordsNoScript(t, "/contacts", r)
	checkAccessible(t, "/contacts", r.body)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; Castro", "uxia@rias.example", `href="/accounts/` + s.account.ID.String() + `"`, "Buyer", `href="/contacts/` + cid + `"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("contact list lacks %q", want)
		}
	}
	// The filters are the API's: email, account and origin.
	if r := m.get("/contacts?email=UXIA@rias.example"); !strings.Contains(r.body, `/contacts/`+cid+`"`) || strings.Contains(r.body, `/contacts/`+other.ContactID.String()+`"`) {
		t.Error("the email filter does not filter")
	}
	if r := m.get("/contacts?origin=form&sort=email"); !strings.Contains(r.body, `/contacts/`+cid+`"`) || strings.Contains(r.body, `/contacts/`+other.ContactID.String()+`"`) {
		t.Error("the origin filter does not filter")
	}
	if r := m.get("/contacts?account_id=" + other.ContactID.String()); strings.Contains(r.body, `/contacts/`+cid+`"`) {
		t.Error("the account filter does not filter")
	}
	if r := m.get("/contacts?account_id=nope"); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, "must be a record id") || !strings.Contains(r.body, `value="nope"`) {
		t.Errorf("a wrong account id filter: %d", r.status)
	}

	r = m.get("/contacts/" + cid)
	recordsNoScript(t, "/contacts/"+cid, r)
	checkAccessible(t, "/contacts/"+cid, r.body)
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; Castro", "Conservas &lt;b&gt;Rías&lt;/b&gt;", "Granted", "Segment", "Fish &lt;i&gt;and&lt;/i&gt; chips",
		`href="/leads/` + s.plain.ID.String() + `"`, `href="/leads/` + s.hot.ID.String() + `"`, "Inquiry", "Sales ready", "Page viewed",
		"https://rias.example/&lt;script&gt;x&lt;/script&gt;", `action="/contacts/` + cid + `/edit"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("contact page lacks %q", want)
		}
	}
	if r := m.get("/contacts/999999"); r.status != http.StatusNotFound {
		t.Errorf("an unknown contact: %d", r.status)
	}

	// A salesperson sees only the sales-ready lead, and is told why.
	mustUser(t, ts.store, "sal@example.gal", "Sal", leadcycle.RoleSales)
	sal := ts.login(t, "sal@example.gal")
	r = sal.get("/contacts/" + cid)
	if r.status != 200 || strings.Contains(r.body, `href="/leads/`+s.plain.ID.String()+`"`) || !strings.Contains(r.body, `href="/leads/`+s.hot.ID.String()+`"`) {
		t.Fatalf("the salesperson's contact page shows a lead out of scope, or not the one in scope (%d)", r.status)
	}
	if !strings.Contains(r.body, "sees only the leads your queue works on") {
		t.Error("the salesperson is not told that leads are hidden")
	}
	// A read-only user is not offered the form and may not post it.
	mustUser(t, ts.store, "ro@example.gal", "Ro", leadcycle.RoleReadonly)
	ro := ts.login(t, "ro@example.gal")
	if r := ro.get("/contacts/" + cid); r.status != 200 || strings.Contains(r.body, "/edit\"") {
		t.Errorf("read-only contact page: %d, or it offers the form", r.status)
	}
	if r := ro.post("/contacts/"+cid+"/edit", url.Values{"job_title": {"Boss"}}); r.status != http.StatusForbidden {
		t.Errorf("read-only edit: %d", r.status)
	}
}

func TestContactEditForm(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	s := seedRecords(t, ts)
	m := ts.login(t, "ana@example.gal")
	cid := s.contact.ID.String()
	m.get("/contacts/" + cid)
	form := func(kv ...string) url.Values {
		v := url.Values{"first_name": {"Uxía"}, "last_name": {"Castro"}, "email": {"uxia@rias.example"}, "phone": {""}, "job_title": {"Buyer"},
			"account_id": {s.account.ID.String()}, "consent.commercial_email": {"granted"}, "consent.tracking": {"unknown"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}

	// An invalid email: the field's message, 422, and the typed values kept.
	r := m.post("/contacts/"+cid+"/edit", form("email", "not-an-email", "job_title", "Head of canning"))
	if r.status != http.StatusUnprocessableEntity {
		t.Fatalf("invalid email: %d %s", r.status, r.body)
	}
	if !strings.Contains(r.body, `id="e-email-err"`) || !strings.Contains(r.body, `value="not-an-email"`) || !strings.Contains(r.body, `value="Head of canning"`) || !strings.Contains(r.body, `aria-invalid="true"`) {
		t.Fatal("the form does not show the email's problem with the typed values")
	}
	checkAccessible(t, "contact form error", r.body)
	if got, _ := ts.store.Contacts().Get(ctx, s.contact.ID); got.JobTitle != "Buyer" || got.Email != "uxia@rias.example" {
		t.Fatalf("a refused form changed the contact: %+v", got)
	}
	// A wrong account number is named on its field before the API is asked.
	if r := m.post("/contacts/"+cid+"/edit", form("account_id", "abc")); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-account_id-err"`) || !strings.Contains(r.body, "is not a record number") {
		t.Fatalf("invalid account id: %d", r.status)
	}
	// An account that does not exist is the API's problem.
	if r := m.post("/contacts/"+cid+"/edit", form("account_id", "999999")); r.status != http.StatusUnprocessableEntity && r.status != http.StatusNotFound {
		t.Fatalf("unknown account: %d", r.status)
	}

	// A valid form saves through the API and redirects to the page.
	r = m.post("/contacts/"+cid+"/edit", form("first_name", "Uxía", "job_title", "Head of canning", "phone", "+34 600 000 000", "consent.tracking", "denied", "account_id", ""))
	if r.status != http.StatusSeeOther || r.location != "/contacts/"+cid {
		t.Fatalf("save: %d %q %s", r.status, r.location, r.body)
	}
	got, _ := ts.store.Contacts().Get(ctx, s.contact.ID)
	if got.FirstName != "Uxía" || got.JobTitle != "Head of canning" || got.Phone == "" || got.Consent.Tracking != "denied" || got.Consent.CommercialEmail != "granted" || got.AccountID != nil {
		t.Fatalf("after saving: %+v", got)
	}
	if r := m.get(r.location); !strings.Contains(r.body, "Contact saved.") || !strings.Contains(r.body, "Uxía Castro") {
		t.Fatal("no message after saving, or the new name is not shown")
	}
}

func TestAccountPages(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	s := seedRecords(t, ts)
	other := seedLead(t, ts, "Other", "Breixo", nil)
	m := ts.login(t, "ana@example.gal")
	aid := s.account.ID.String()

	r := m.get("/accounts")
	recordsNoScript(t, "/accounts", r)
	checkAccessible(t, "/accounts", r.body)
	for _, want := range []string{"Conservas &lt;b&gt;Rías&lt;/b&gt;", "rias.example", "Canning", "ES", `href="/accounts/` + aid + `"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("account list lacks %q", want)
		}
	}
	if r := m.get("/accounts?country=es&sort=name"); !strings.Contains(r.body, `/accounts/`+aid+`"`) || strings.Contains(r.body, `/accounts/`+other.AccountID.String()+`"`) {
		t.Error("the country filter does not filter")
	}
	if r := m.get("/accounts?domain=RIAS.example"); !strings.Contains(r.body, `/accounts/`+aid+`"`) || strings.Contains(r.body, "Conservas Breixo") {
		t.Error("the domain filter does not filter")
	}

	r = m.get("/accounts/" + aid)
	recordsNoScript(t, "/accounts/"+aid, r)
	checkAccessible(t, "/accounts/"+aid, r.body)
	for _, want := range []string{`href="/contacts/` + s.contact.ID.String() + `"`, `href="/leads/` + s.hot.ID.String() + `"`, "Page viewed",
		`href="https://rias.example"`, `action="/accounts/` + aid + `/edit"`} {
		if !strings.Contains(r.body, want) {
			t.Errorf("account page lacks %q", want)
		}
	}

	edit := func(kv ...string) url.Values {
		v := url.Values{"name": {"Conservas Rías"}, "website": {"https://rias.example"}, "domain": {"rias.example"}, "industry": {"Canning"}, "employees": {""}, "revenue": {""}, "country": {"ES"}}
		for i := 0; i+1 < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	// A wrong number and a wrong country are named on their fields.
	r = m.post("/accounts/"+aid+"/edit", edit("employees", "many", "industry", "Fish"))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-employees-err"`) || !strings.Contains(r.body, `value="many"`) || !strings.Contains(r.body, `value="Fish"`) {
		t.Fatalf("invalid employees: %d", r.status)
	}
	r = m.post("/accounts/"+aid+"/edit", edit("country", "Spain"))
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="e-country-err"`) || !strings.Contains(r.body, "ISO 3166-1") {
		t.Fatalf("invalid country: %d", r.status)
	}
	if got, _ := ts.store.Accounts().Get(ctx, s.account.ID); got.Industry != "Canning" || got.Country != "ES" {
		t.Fatalf("a refused form changed the account: %+v", got)
	}
	r = m.post("/accounts/"+aid+"/edit", edit("employees", "120", "revenue", "2500000,5", "country", "pt"))
	if r.status != http.StatusSeeOther {
		t.Fatalf("save account: %d %s", r.status, r.body)
	}
	got, _ := ts.store.Accounts().Get(ctx, s.account.ID)
	if got.Employees == nil || *got.Employees != 120 || got.Revenue == nil || *got.Revenue != 2500000.5 || got.Country != "PT" || got.Name != "Conservas Rías" {
		t.Fatalf("after saving: %+v", got)
	}
}

func TestRecordListsPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	for i := range 53 {
		if err := ts.store.Contacts().Create(ctx, &leadcycle.Contact{FirstName: fmt.Sprintf("Person%02d", i), Email: fmt.Sprintf("p%02d@example.gal", i)}); err != nil {
			t.Fatal(err)
		}
	}
	m := ts.login(t, "ana@example.gal")
	r := m.get("/contacts?sort=email")
	if strings.Count(r.body, `<a href="/contacts/`) != 50 || !strings.Contains(r.body, "p00@example.gal") {
		t.Fatalf("first page: %d rows", strings.Count(r.body, `<a href="/contacts/`))
	}
	i := strings.Index(r.body, `href="/contacts?cursor=`)
	if i < 0 {
		t.Fatal("no link to the next page")
	}
	next := r.body[i+len(`href="`):]
	next = strings.ReplaceAll(next[:strings.IndexByte(next, '"')], "&amp;", "&")
	if !strings.Contains(next, "sort=email") {
		t.Errorf("the next page loses the sort: %s", next)
	}
	r = m.get(next)
	if n := strings.Count(r.body, `<a href="/contacts/`); n != 3 || !strings.Contains(r.body, "p52@example.gal") || !strings.Contains(r.body, "First page") {
		t.Fatalf("second page: %d rows", n)
	}
}

// TestRecordKeysExist checks the catalog keys the record and admin pages
// build from values.
func TestRecordKeysExist(t *testing.T) {
	b := i18n.MustLoad()
	has := map[string]bool{}
	for _, id := range b.IDs(language.English) {
		has[id] = true
	}
	var keys []string
	for _, s := range []string{"-created_at", "created_at", "-updated_at", "last_name", "email"} {
		keys = append(keys, "contacts.sort."+s)
	}
	for _, s := range []string{"-created_at", "created_at", "-updated_at", "name"} {
		keys = append(keys, "accounts.sort."+s)
	}
	for _, c := range leadcycle.ConsentStates {
		keys = append(keys, "contacts.consent."+c)
	}
	for _, f := range []string{"consent.commercial_email", "consent.tracking"} {
		keys = append(keys, "contacts.field."+f)
	}
	for _, src := range leadcycle.Sources {
		keys = append(keys, "enum.source."+src)
	}
	for _, role := range leadcycle.Roles {
		keys = append(keys, "role."+role)
	}
	for _, k := range keys {
		if !has[k] {
			t.Errorf("the catalogs lack %q", k)
		}
	}
}
