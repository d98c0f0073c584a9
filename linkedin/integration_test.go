package linkedin_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/linkedin/linkedintest"
	"github.com/leadcycle/leadcycle/store/postgres/pgtest"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// TestSyncWithRealCapture syncs through the storage's own Capturer on each
// database and checks the contacts, leads, accounts and interactions it wrote.
func TestSyncWithRealCapture(t *testing.T) {
	type opened struct {
		recs leadcycle.Store
		ls   linkedin.Store
	}
	open := map[string]func(t *testing.T, clock leadcycle.Clock) opened{
		"sqlite": func(t *testing.T, clock leadcycle.Clock) opened {
			s, err := sqlite.Open(t.Context(), t.TempDir(), clock)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return opened{s, s.LinkedIn()}
		},
		"postgres": func(t *testing.T, clock leadcycle.Clock) opened {
			if os.Getenv(pgtest.EnvURL) == "" {
				t.Skipf("%s is not set", pgtest.EnvURL)
			}
			s := pgtest.Open(t, clock)
			return opened{s, s.LinkedIn()}
		},
	}
	for name, open := range open {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := leadcycle.NewFixedClock(now)
			o := open(t, clock)
			capturer, ok := o.recs.(leadcycle.Capturer)
			if !ok {
				t.Skipf("%T has no Capturer yet", o.recs)
			}
			checkCapture(t, clock, o.recs, o.ls, capturer)
		})
	}
}

// checkCapture runs the connector against a fake LinkedIn with capturer,
// which must record into recs.
func checkCapture(t *testing.T, clock *leadcycle.FixedClock, recs leadcycle.Store, ls linkedin.Store, capturer leadcycle.Capturer) {
	ctx := t.Context()
	fake := linkedintest.NewServer(t)
	fake.AddForm(linkedintest.StandardForm(300, "Canning line demo"))
	emails := []string{"uxia@riasbaixas.gal", "breixo@peixes.gal", "UXIA@riasbaixas.gal", "mei@taipei.tw", "breixo@peixes.gal", "noconsent@peixes.gal"}
	for i, email := range emails {
		l := linkedintest.StandardLead(fmt.Sprintf("urn:li:leadFormResponse:%d", i), now.Add(-time.Duration(10-i)*time.Hour), 300, "Nome", fmt.Sprint(i), email)
		l.Answers[6] = "1500"
		if i == 5 {
			l.Consents = map[int64]bool{11: false}
			l.Answers[4] = "Peixes do Norte"
		}
		fake.AddLeads(l)
	}
	if err := recs.Fields().Create(ctx, &leadcycle.FieldDef{Entity: "lead", Name: "budget", Type: leadcycle.FieldNumber}); err != nil {
		t.Fatal(err)
	}
	// One lead per contact per LinkedIn campaign: the default lead strategy
	// matches on a leadcycle form, which LinkedIn leads do not have.
	byCampaign := &leadcycle.MatchingStrategy{Name: "LinkedIn: email + campaign", Kind: leadcycle.StrategyLead, Fields: []string{"email", "campaign"},
		UpdateWhenMatched: true, CreateWhenNone: true, IgnoreEmptyValues: true}
	if err := recs.Strategies().Create(ctx, byCampaign); err != nil {
		t.Fatal(err)
	}
	svc := linkedin.NewService(ls, capturer, linkedin.Options{Records: recs, Clock: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 4})
	newConn := func(name string) *linkedin.Connection {
		c := &linkedin.Connection{Name: name, SponsoredAccount: fake.SponsoredAccount, APIBaseURL: fake.APIBaseURL(), TokenURL: fake.TokenURL(),
			Enabled: true, Mapping: map[string]string{"budget": "lead.custom.budget"}, LeadStrategyID: leadcycle.IDPtr(byCampaign.ID)}
		if err := svc.Create(ctx, c, linkedin.Secrets{AccessToken: fake.AccessToken}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	conn := newConn("Ads")
	run, err := svc.Sync(ctx, conn.ID, linkedin.TriggerCLI)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 6, ContactsCreated: 4, LeadsCreated: 4, Matched: 2})

	count := func(what string, n int) {
		t.Helper()
		var got int
		switch what {
		case "contacts":
			p, err := recs.Contacts().List(ctx, leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got = len(p.Items)
		case "leads":
			p, err := recs.Leads().List(ctx, leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got = len(p.Items)
		case "interactions":
			p, err := recs.Interactions().List(ctx, leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
			if err != nil {
				t.Fatal(err)
			}
			got = len(p.Items)
		}
		if got != n {
			t.Errorf("%d %s, want %d", got, what, n)
		}
	}
	count("contacts", 4)
	count("leads", 4)
	count("interactions", 6)

	contacts, _ := recs.Contacts().List(ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"email"}, Op: leadcycle.OpEq, Value: "uxia@riasbaixas.gal"}}})
	if len(contacts.Items) != 1 {
		t.Fatalf("contacts with uxia's email: %+v", contacts.Items)
	}
	uxia := contacts.Items[0]
	if uxia.Origin != leadcycle.SourceLinkedIn || uxia.Consent.CommercialEmail != leadcycle.ConsentGranted || uxia.JobTitle != "Buyer" || uxia.AccountID == nil {
		t.Errorf("uxia: %+v", uxia)
	} else if a, err := recs.Accounts().Get(ctx, *uxia.AccountID); err != nil || a.Name != "Conservas Rías Baixas" {
		t.Errorf("uxia's account: %+v %v", a, err)
	}
	contacts, _ = recs.Contacts().List(ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"email"}, Op: leadcycle.OpEq, Value: "noconsent@peixes.gal"}}})
	if len(contacts.Items) != 1 || contacts.Items[0].Consent.CommercialEmail != leadcycle.ConsentUnknown {
		t.Errorf("contact without consent: %+v", contacts.Items)
	}
	leads, _ := recs.Leads().List(ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"contact_id"}, Op: leadcycle.OpEq, Value: uxia.ID}}})
	if len(leads.Items) != 1 {
		t.Fatalf("uxia has %d leads, want 1 (her second response matched it)", len(leads.Items))
	}
	for _, l := range leads.Items {
		if l.Source != leadcycle.SourceLinkedIn || l.Topic != "Canning line demo" || l.Campaign != "urn:li:sponsoredCampaign:777" || l.Custom["budget"] != 1500.0 {
			t.Errorf("lead %+v", l)
		}
	}
	inter, _ := recs.Interactions().List(ctx, leadcycle.ListQuery{Filters: []leadcycle.Filter{{Columns: []string{"contact_id"}, Op: leadcycle.OpEq, Value: uxia.ID}}})
	if len(inter.Items) != 2 {
		t.Fatalf("uxia's interactions: %+v", inter.Items)
	}
	for _, i := range inter.Items {
		if i.Type != leadcycle.InteractionLinkedInFormSubmitted || i.LeadID == nil || *i.LeadID != leads.Items[0].ID || i.Properties["form_id"] != "300" || i.Properties["campaign"] != "urn:li:sponsoredCampaign:777" {
			t.Errorf("interaction %+v", i)
		}
		if id := i.Properties["submission_id"]; id != "urn:li:leadFormResponse:0" && id != "urn:li:leadFormResponse:2" {
			t.Errorf("interaction of submission %v", id)
		}
	}
	if !inter.Items[0].OccurredAt.Equal(now.Add(-10*time.Hour)) && !inter.Items[1].OccurredAt.Equal(now.Add(-10*time.Hour)) {
		t.Errorf("occurred_at is not the submission time: %v %v", inter.Items[0].OccurredAt, inter.Items[1].OccurredAt)
	}

	// Syncing the same responses again changes nothing: the connector skips
	// them (cursor reset to read them all again)…
	if _, err := svc.Update(ctx, conn.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { c.Cursor = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	run, err = svc.Sync(ctx, conn.ID, linkedin.TriggerCLI)
	if err != nil {
		t.Fatal(err)
	}
	wantStats(t, run, linkedin.SyncStats{Fetched: 6, Skipped: 6})
	// …and a second connection on the same account, which has no record of
	// them, meets the Capturer's own idempotency.
	other := newConn("Ads, again")
	run, err = svc.Sync(ctx, other.ID, linkedin.TriggerCLI)
	if err != nil {
		t.Fatal(err)
	}
	wantStats(t, run, linkedin.SyncStats{Fetched: 6, Skipped: 6})
	count("contacts", 4)
	count("leads", 4)
	count("interactions", 6)
}
