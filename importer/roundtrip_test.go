package importer_test

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/importer"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/store/storetest"
)

// seed fills a store with accounts, contacts (custom fields included) and
// leads, in several scripts.
func seed(t *testing.T, s *sqldb.Store) {
	ctx := t.Context()
	for _, f := range []leadcycle.FieldDef{
		{Entity: "contact", Name: "shoe_size", Type: leadcycle.FieldNumber},
		{Entity: "contact", Name: "birthday", Type: leadcycle.FieldDate},
		{Entity: "contact", Name: "vip", Type: leadcycle.FieldBool},
		{Entity: "account", Name: "tier", Type: leadcycle.FieldChoice, Choices: []string{"gold", "silver"}},
		{Entity: "lead", Name: "notes", Type: leadcycle.FieldText},
	} {
		storetest.MustCreate(t, ctx, s.Fields(), &f)
	}
	emp, rev := int64(1200), 1234567.89
	acme := storetest.MustCreateAccount(t, ctx, s, &leadcycle.Account{Name: "Sargadelos", Website: "https://sargadelos.com", Industry: "Cerámica", Employees: &emp, Revenue: &rev, Country: "ES", Custom: leadcycle.Custom{"tier": "gold"}})
	tea := storetest.MustCreateAccount(t, ctx, s, &leadcycle.Account{Name: "台灣茶業", Domain: "taiwantea.com.tw", Country: "TW"})
	xose := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{FirstName: "Xosé Manuel", LastName: "Castelao", Email: "xose@sargadelos.com", Phone: "+34981123456", JobTitle: "Director, \"artístico\"",
		Consent: leadcycle.Consent{CommercialEmail: leadcycle.ConsentGranted, Tracking: leadcycle.ConsentDenied}, Custom: leadcycle.Custom{"shoe_size": 43.5, "birthday": "1886-01-29", "vip": true}})
	chan_ := storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{FirstName: "大文", LastName: "陳", Email: "chan@gmail.com", AccountID: &tea.ID, JobTitle: "經理\n(台北)"})
	storetest.MustCreateContact(t, ctx, s, &leadcycle.Contact{FirstName: "Sen", LastName: "Correo", Phone: "+886223456789"})
	budget := 25000.5
	storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Porcelana 2027", ContactID: &xose.ID, Campaign: "Feira", BudgetAmount: &budget, PurchaseTimeframe: "this_quarter", Custom: leadcycle.Custom{"notes": "first; second"}})
	storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "烏龍茶", ContactID: &chan_.ID, Status: leadcycle.LeadDisqualified, StatusReason: "no_longer_interested"})
	storetest.MustCreateLead(t, ctx, s, &leadcycle.Lead{Topic: "Account deal", AccountID: &acme.ID})
}

// comparable strips what differs between installations: ids, times,
// references (compared through names and emails instead), origin.
func snapshot(t *testing.T, s *sqldb.Store) map[string][]string {
	ctx := t.Context()
	out := map[string][]string{}
	accounts := map[leadcycle.ID]string{}
	for _, a := range storetest.MustList(t, ctx, s.Accounts(), leadcycle.ListQuery{}) {
		accounts[a.ID] = a.Name
		a.ID, a.CreatedAt, a.UpdatedAt = 0, storetest.Epoch, storetest.Epoch
		out["accounts"] = append(out["accounts"], jsonOf(a))
	}
	emails := map[leadcycle.ID]string{}
	for _, c := range storetest.MustList(t, ctx, s.Contacts(), leadcycle.ListQuery{}) {
		emails[c.ID] = c.Email
		c.ID, c.CreatedAt, c.UpdatedAt, c.Origin = 0, storetest.Epoch, storetest.Epoch, ""
		acc := ""
		if c.AccountID != nil {
			acc = accounts[*c.AccountID]
		}
		c.AccountID = nil
		out["contacts"] = append(out["contacts"], acc+" "+jsonOf(c))
	}
	for _, l := range storetest.MustList(t, ctx, s.Leads(), leadcycle.ListQuery{}) {
		ref := ""
		if l.ContactID != nil {
			ref += emails[*l.ContactID]
		}
		if l.AccountID != nil {
			ref += "@" + accounts[*l.AccountID]
		}
		l.ID, l.ContactID, l.AccountID, l.ProcessID, l.CreatedAt, l.UpdatedAt, l.Source, l.Scores = 0, nil, nil, nil, storetest.Epoch, storetest.Epoch, "", nil
		out["leads"] = append(out["leads"], ref+" "+jsonOf(l))
	}
	for k := range out {
		sort.Strings(out[k])
	}
	return out
}

// TestExportImportRoundTrip exports every collection as CSV and as XLSX and
// imports the files into an empty database: the records come back the same.
func TestExportImportRoundTrip(t *testing.T) {
	for _, format := range []string{"csv", "xlsx"} {
		t.Run(format, func(t *testing.T) {
			stores(t, func(t *testing.T, src *sqldb.Store) {
				seed(t, src)
				dir := t.TempDir()
				files, counts := map[string]string{}, map[string]int64{}
				for _, entity := range leadcycle.ImportEntities {
					path := filepath.Join(dir, entity+"."+format)
					f, err := os.Create(path)
					if err != nil {
						t.Fatal(err)
					}
					n, err := (&importer.Exporter{Store: src, Entity: entity, Format: format}).Export(t.Context(), f)
					f.Close()
					counts[entity] = n
					if err != nil || n < 2 {
						t.Fatalf("export %s: %d records, %v", entity, n, err)
					}
					files[entity] = path
				}
				dst, err := sqlite.Open(t.Context(), t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
				if err != nil {
					t.Fatal(err)
				}
				defer dst.Close()
				for _, f := range storetest.MustList(t, t.Context(), src.Fields(), leadcycle.ListQuery{}) {
					f.ID = 0
					storetest.MustCreate(t, t.Context(), dst.Fields(), &f)
				}
				for _, entity := range []string{"accounts", "contacts", "leads"} { // parents first
					job, errs := runFile(t, dst, files[entity], leadcycle.ImportOptions{Entity: entity}, 100)
					if job.Status != leadcycle.ImportDone || job.Created != counts[entity] || job.Failed != 0 {
						t.Fatalf("import %s: %s %q %+v %+v", entity, job.Status, job.Error, job.ImportCounts, errs)
					}
				}
				if d := gocmp.Diff(snapshot(t, src), snapshot(t, dst)); d != "" {
					t.Errorf("round trip (-exported +imported):\n%s", d)
				}
			})
		})
	}
}

// TestFormulaCellsAreDefused checks that a CSV export cannot run formulas
// in a spreadsheet and that the importer reads the cells back as written.
func TestFormulaCellsAreDefused(t *testing.T) {
	s, err := sqlite.Open(t.Context(), t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	storetest.MustCreateContact(t, t.Context(), s, &leadcycle.Contact{Email: "f@example.gal", FirstName: "=HYPERLINK(\"http://evil\")", LastName: "@SUM(A1)", JobTitle: "-cmd", Phone: "+34981123456"})
	var b strings.Builder
	if _, err := (&importer.Exporter{Store: s, Entity: "contacts"}).Export(t.Context(), &b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"'=HYPERLINK(""http://evil"")"`, "'@SUM(A1)", "'-cmd", ",+34981123456,"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("export lacks %s:\n%s", want, b.String())
		}
	}
	path := filepath.Join(t.TempDir(), "c.csv")
	os.WriteFile(path, []byte(b.String()), 0o600)
	dst, err := sqlite.Open(t.Context(), t.TempDir(), leadcycle.NewFixedClock(storetest.Epoch))
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	runFile(t, dst, path, leadcycle.ImportOptions{Entity: "contacts"}, 10)
	c := contactsByEmail(t, dst)["f@example.gal"]
	if c.FirstName != "=HYPERLINK(\"http://evil\")" || c.LastName != "@SUM(A1)" || c.JobTitle != "-cmd" {
		t.Errorf("imported back = %+v", c)
	}
}
