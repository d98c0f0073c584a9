package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
)

// LinkedInStore returns the store's LinkedIn storage or fails the test.
func LinkedInStore(tb testing.TB, s leadcycle.Store) linkedin.Store {
	tb.Helper()
	p, ok := s.(linkedin.Provider)
	if !ok {
		tb.Fatalf("%T does not keep LinkedIn connections (no LinkedIn() method)", s)
	}
	return p.LinkedIn()
}

func newConnection(name string) *linkedin.Connection {
	return &linkedin.Connection{
		Name: name, SponsoredAccount: "urn:li:sponsoredAccount:5101", Enabled: true,
		Mapping: map[string]string{"question:42": "lead.custom.budget", "COMPANY_SIZE": ""},
		Secrets: linkedin.Secrets{AccessToken: "v1:sealed-access", RefreshToken: "v1:sealed-refresh"},
	}
}

// mustConnection creates a connection or fails the test.
func mustConnection(t *testing.T, ctx context.Context, ls linkedin.Store, name string) *linkedin.Connection {
	t.Helper()
	c := newConnection(name)
	if err := ls.CreateConnection(ctx, c); err != nil {
		t.Fatalf("create LinkedIn connection: %v", err)
	}
	if c.ID <= 0 {
		t.Fatal("create LinkedIn connection: no id assigned")
	}
	return c
}

func mustGetConnection(t *testing.T, ctx context.Context, ls linkedin.Store, id leadcycle.ID) *linkedin.Connection {
	t.Helper()
	c, err := ls.Connection(ctx, id)
	if err != nil {
		t.Fatalf("get LinkedIn connection %s: %v", id, err)
	}
	return c
}

var linkedinTests = []test{
	{"connection_lifecycle", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		if cs, err := ls.Connections(e.ctx); err != nil || cs == nil || len(cs) != 0 {
			t.Fatalf("connections of a new store = %#v, %v; want an empty slice", cs, err)
		}
		created := e.clock.Now()
		c := mustConnection(t, e.ctx, ls, "  Ads EU  ")
		want := linkedin.Connection{
			ID: c.ID, Name: "Ads EU", SponsoredAccount: "urn:li:sponsoredAccount:5101",
			APIBaseURL: linkedin.DefaultAPIBaseURL, APIVersion: linkedin.DefaultAPIVersion, TokenURL: linkedin.DefaultTokenURL,
			HasToken: true, HasRefreshToken: true,
			Mapping:                 map[string]string{"question:42": "lead.custom.budget", "COMPANY_SIZE": ""},
			CommercialEmailConsents: []int64{},
			IntervalSeconds:         int64(linkedin.DefaultInterval / time.Second), Enabled: true,
			CreatedAt: created, UpdatedAt: created,
			Secrets: linkedin.Secrets{AccessToken: "v1:sealed-access", RefreshToken: "v1:sealed-refresh"},
		}
		diff(t, "created connection", want, *c)
		diff(t, "stored connection", want, *mustGetConnection(t, e.ctx, ls, c.ID))

		// Update: fn changes settings; bookkeeping fields it touches are
		// ignored; the secrets are stored as given.
		e.clock.Advance(time.Minute)
		cursor := time.Date(2026, 3, 1, 12, 0, 0, 123000000, time.UTC)
		got, err := ls.UpdateConnection(e.ctx, c.ID, func(c *linkedin.Connection) error {
			c.Name = "Ads EU (main)"
			c.IntervalSeconds = 300
			c.ContactStrategyID = id(7)
			c.CommercialEmailConsents = []int64{3, 4}
			c.Cursor = &cursor
			c.Secrets.AccessToken = ""
			c.Secrets.ClientSecret = "v1:sealed-secret"
			c.LastError = "set by fn"
			c.LastSyncAt = &cursor
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		want.Name, want.IntervalSeconds, want.ContactStrategyID, want.CommercialEmailConsents, want.Cursor = "Ads EU (main)", 300, id(7), []int64{3, 4}, &cursor
		want.Secrets = linkedin.Secrets{RefreshToken: "v1:sealed-refresh", ClientSecret: "v1:sealed-secret"}
		want.HasToken, want.HasClientSecret = false, true
		want.UpdatedAt = e.clock.Now()
		diff(t, "updated connection", want, *got)
		diff(t, "stored updated connection", want, *mustGetConnection(t, e.ctx, ls, c.ID))

		// An invalid update or an error from fn changes nothing.
		_, err = ls.UpdateConnection(e.ctx, c.ID, func(c *linkedin.Connection) error {
			c.SponsoredAccount = "urn:li:organization:1"
			c.IntervalSeconds = 5
			return nil
		})
		wantErr(t, err, leadcycle.EInvalid, "sponsored_account", "interval_seconds")
		_, err = ls.UpdateConnection(e.ctx, c.ID, func(c *linkedin.Connection) error {
			c.Name = "changed"
			return leadcycle.Errorf(leadcycle.EConflict, "no")
		})
		wantErr(t, err, leadcycle.EConflict)
		diff(t, "connection after refused updates", want, *mustGetConnection(t, e.ctx, ls, c.ID))

		c2 := mustConnection(t, e.ctx, ls, "Ads TW")
		cs, err := ls.Connections(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) != 2 || cs[0].ID != c.ID || cs[1].ID != c2.ID {
			t.Fatalf("connections = %+v, want %s then %s", cs, c.ID, c2.ID)
		}
		diff(t, "listed connection", want, cs[0])

		if err := ls.DeleteConnection(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		_, err = ls.Connection(e.ctx, c.ID)
		wantErr(t, err, leadcycle.ENotFound)
		wantErr(t, ls.DeleteConnection(e.ctx, c.ID), leadcycle.ENotFound)
		_, err = ls.UpdateConnection(e.ctx, c.ID, func(*linkedin.Connection) error { return nil })
		wantErr(t, err, leadcycle.ENotFound)
		if cs, _ := ls.Connections(e.ctx); len(cs) != 1 {
			t.Fatalf("%d connections after delete, want 1", len(cs))
		}
	}},
	{"connection_validation", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		for _, c := range []struct {
			name   string
			edit   func(*linkedin.Connection)
			fields []string
		}{
			{"empty", func(c *linkedin.Connection) { *c = linkedin.Connection{} }, []string{"name", "sponsored_account"}},
			{"organization owner", func(c *linkedin.Connection) { c.SponsoredAccount = "urn:li:organization:5" }, []string{"sponsored_account"}},
			{"http api", func(c *linkedin.Connection) { c.APIBaseURL = "http://api.example.com/rest" }, []string{"api_base_url"}},
			{"bad token url", func(c *linkedin.Connection) { c.TokenURL = "ftp://x" }, []string{"token_url"}},
			{"bad version", func(c *linkedin.Connection) { c.APIVersion = "2024-01" }, []string{"api_version"}},
			{"bad target", func(c *linkedin.Connection) { c.Mapping = map[string]string{"EMAIL": "contact.mail"} }, []string{"mapping.EMAIL"}},
			{"bad custom", func(c *linkedin.Connection) { c.Mapping = map[string]string{"x": "lead.custom.Bad Name"} }, []string{"mapping.x"}},
			{"bad question id", func(c *linkedin.Connection) { c.Mapping = map[string]string{"question:abc": "lead.topic"} }, []string{"mapping.question:abc"}},
			{"interval", func(c *linkedin.Connection) { c.IntervalSeconds = 30 }, []string{"interval_seconds"}},
			{"strategy", func(c *linkedin.Connection) { c.LeadStrategyID = id(-1) }, []string{"lead_strategy_id"}},
		} {
			conn := newConnection("x")
			c.edit(conn)
			err := ls.CreateConnection(e.ctx, conn)
			if err == nil {
				t.Errorf("%s: accepted", c.name)
				continue
			}
			wantErr(t, err, leadcycle.EInvalid, c.fields...)
		}
		// Loopback http (a test server) and a bare account number are fine.
		conn := newConnection("local")
		conn.APIBaseURL, conn.TokenURL, conn.SponsoredAccount = "http://127.0.0.1:9999/rest/", "http://localhost:9999/token", "42"
		if err := ls.CreateConnection(e.ctx, conn); err != nil {
			t.Fatal(err)
		}
		got := mustGetConnection(t, e.ctx, ls, conn.ID)
		if got.APIBaseURL != "http://127.0.0.1:9999/rest" || got.SponsoredAccount != "urn:li:sponsoredAccount:42" {
			t.Errorf("normalised connection: %+v", got)
		}
		if cs, _ := ls.Connections(e.ctx); len(cs) != 1 {
			t.Errorf("%d connections stored, want only the valid one", len(cs))
		}
	}},
	{"lease", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		c := mustConnection(t, e.ctx, ls, "lease")
		acquire := func(owner string) bool {
			t.Helper()
			ok, err := ls.AcquireLease(e.ctx, c.ID, owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		renew := func(owner string) bool {
			t.Helper()
			ok, err := ls.RenewLease(e.ctx, c.ID, owner, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !acquire("a") {
			t.Fatal("a free lease was refused")
		}
		if acquire("b") || acquire("a") {
			t.Fatal("a held lease was granted again")
		}
		e.clock.Advance(50 * time.Second)
		if !renew("a") || renew("b") {
			t.Fatal("renew: only the holder may renew")
		}
		e.clock.Advance(50 * time.Second) // 100 s after acquiring, 50 s after renewing
		if acquire("b") {
			t.Fatal("a renewed lease was taken before it ran out")
		}
		e.clock.Advance(11 * time.Second)
		if !acquire("b") {
			t.Fatal("a lease that ran out was not taken over")
		}
		if renew("a") {
			t.Fatal("the previous holder renewed a lease taken over")
		}
		if err := ls.ReleaseLease(e.ctx, c.ID, "a"); err != nil {
			t.Fatal(err)
		}
		if acquire("c") {
			t.Fatal("release by a non-holder freed the lease")
		}
		if err := ls.ReleaseLease(e.ctx, c.ID, "b"); err != nil {
			t.Fatal(err)
		}
		if !acquire("c") {
			t.Fatal("a released lease was refused")
		}
		_, err := ls.AcquireLease(e.ctx, missingID, "x", time.Minute)
		wantErr(t, err, leadcycle.ENotFound)

		// The lease is no part of the configuration.
		if got := mustGetConnection(t, e.ctx, ls, c.ID); !got.UpdatedAt.Equal(c.UpdatedAt) {
			t.Errorf("leases changed updated_at: %v, want %v", got.UpdatedAt, c.UpdatedAt)
		}
	}},
	{"lease_concurrent", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		c := mustConnection(t, e.ctx, ls, "race")
		const n = 16
		var wg sync.WaitGroup
		got := make([]bool, n)
		errs := make([]error, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				got[i], errs[i] = ls.AcquireLease(e.ctx, c.ID, fmt.Sprintf("node-%d", i), time.Minute)
			})
		}
		close(start)
		wg.Wait()
		winners := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("acquire %d: %v", i, errs[i])
			}
			if got[i] {
				winners++
			}
		}
		if winners != 1 {
			t.Fatalf("%d of %d concurrent acquirers got the lease, want exactly 1", winners, n)
		}
	}},
	{"tokens_and_sync_record", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		c := mustConnection(t, e.ctx, ls, "tokens")
		exp := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
		if err := ls.SaveTokens(e.ctx, c.ID, "v1:new-access", "v1:new-refresh", &exp); err != nil {
			t.Fatal(err)
		}
		got := mustGetConnection(t, e.ctx, ls, c.ID)
		if got.Secrets.AccessToken != "v1:new-access" || got.Secrets.RefreshToken != "v1:new-refresh" || got.TokenExpiresAt == nil || !got.TokenExpiresAt.Equal(exp) {
			t.Errorf("after SaveTokens: %+v %v", got.Secrets, got.TokenExpiresAt)
		}
		wantErr(t, ls.SaveTokens(e.ctx, missingID, "a", "b", nil), leadcycle.ENotFound)

		e.clock.Advance(time.Hour)
		at := e.clock.Now()
		cursor := time.Date(2026, 3, 14, 8, 0, 0, 5000000, time.UTC)
		stats := linkedin.SyncStats{Fetched: 5, ContactsCreated: 2, LeadsCreated: 3, Matched: 1, Skipped: 1, Errors: 1}
		if err := ls.RecordSync(e.ctx, c.ID, at, true, &cursor, "1 of 5 failed", stats); err != nil {
			t.Fatal(err)
		}
		got = mustGetConnection(t, e.ctx, ls, c.ID)
		diff(t, "recorded success", []any{&at, &at, &cursor, "1 of 5 failed", stats, c.UpdatedAt},
			[]any{got.LastSyncAt, got.LastSuccessAt, got.Cursor, got.LastError, got.LastStats, got.UpdatedAt})

		e.clock.Advance(time.Hour)
		failedAt := e.clock.Now()
		later := cursor.Add(time.Hour)
		if err := ls.RecordSync(e.ctx, c.ID, failedAt, false, &later, "token expired", linkedin.SyncStats{Fetched: 1}); err != nil {
			t.Fatal(err)
		}
		got = mustGetConnection(t, e.ctx, ls, c.ID)
		diff(t, "recorded failure (cursor and last success kept)", []any{&failedAt, &at, &cursor, "token expired", linkedin.SyncStats{Fetched: 1}},
			[]any{got.LastSyncAt, got.LastSuccessAt, got.Cursor, got.LastError, got.LastStats})
		wantErr(t, ls.RecordSync(e.ctx, missingID, at, true, nil, "", stats), leadcycle.ENotFound)
	}},
	{"submissions", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		c := mustConnection(t, e.ctx, ls, "subs")
		other := mustConnection(t, e.ctx, ls, "other")
		at := time.Date(2026, 3, 10, 9, 0, 0, 0, time.UTC)
		save := func(conn leadcycle.ID, sid, status string) {
			t.Helper()
			s := &linkedin.Submission{ConnectionID: conn, SubmissionID: sid, Status: status, SubmittedAt: at, ProcessedAt: e.clock.Now()}
			if status == linkedin.SubmissionCaptured {
				s.ContactID, s.LeadID, s.InteractionID = id(1), id(2), id(3)
			} else {
				s.Error = "email: is not a valid email address"
			}
			if err := ls.SaveSubmission(e.ctx, s); err != nil {
				t.Fatal(err)
			}
		}
		save(c.ID, "sub-1", linkedin.SubmissionCaptured)
		save(c.ID, "sub-2", linkedin.SubmissionFailed)
		save(other.ID, "sub-3", linkedin.SubmissionCaptured)
		ids := []string{"sub-1", "sub-2", "sub-3", "sub-4"}
		got, err := ls.CapturedSubmissions(e.ctx, c.ID, ids)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "captured", map[string]bool{"sub-1": true}, got)
		counts, err := ls.CountSubmissions(e.ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "counts", map[string]int{"captured": 1, "failed": 1}, counts)

		// A failed submission captured later is replaced, not duplicated.
		save(c.ID, "sub-2", linkedin.SubmissionCaptured)
		got, _ = ls.CapturedSubmissions(e.ctx, c.ID, ids)
		diff(t, "captured after retry", map[string]bool{"sub-1": true, "sub-2": true}, got)
		counts, _ = ls.CountSubmissions(e.ctx, c.ID)
		diff(t, "counts after retry", map[string]int{"captured": 2}, counts)

		// Many ids at once.
		many := make([]string, 1200)
		for i := range many {
			many[i] = fmt.Sprintf("bulk-%d", i)
		}
		many[1100] = "sub-1"
		got, err = ls.CapturedSubmissions(e.ctx, c.ID, many)
		if err != nil {
			t.Fatal(err)
		}
		diff(t, "captured among many", map[string]bool{"sub-1": true}, got)

		if err := ls.SaveSubmission(e.ctx, &linkedin.Submission{ConnectionID: missingID, SubmissionID: "x", Status: linkedin.SubmissionCaptured}); leadcycle.ErrorCode(err) != leadcycle.ENotFound {
			t.Errorf("submission of a missing connection: %v, want not found", err)
		}
		if err := ls.SaveSubmission(e.ctx, &linkedin.Submission{ConnectionID: c.ID, SubmissionID: "x", Status: "maybe"}); err == nil {
			t.Error("submission with an unknown status was saved")
		}

		// Deleting a connection deletes its submissions.
		if err := ls.DeleteConnection(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		counts, _ = ls.CountSubmissions(e.ctx, c.ID)
		diff(t, "counts after delete", map[string]int{}, counts)
		got, _ = ls.CapturedSubmissions(e.ctx, other.ID, ids)
		diff(t, "other connection's submissions", map[string]bool{"sub-3": true}, got)
	}},
	{"sync_runs", func(t *testing.T, e *env) {
		ls := LinkedInStore(t, e.s)
		c := mustConnection(t, e.ctx, ls, "runs")
		start := e.clock.Now()
		r1 := &linkedin.SyncRun{ConnectionID: c.ID, Trigger: linkedin.TriggerSchedule, Status: linkedin.RunRunning, StartedAt: start}
		if err := ls.CreateSyncRun(e.ctx, r1); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		r2 := &linkedin.SyncRun{ConnectionID: c.ID, Trigger: linkedin.TriggerAPI, Status: linkedin.RunRunning, StartedAt: e.clock.Now()}
		if err := ls.CreateSyncRun(e.ctx, r2); err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Second)
		done := e.clock.Now()
		r2.Status, r2.FinishedAt = linkedin.RunSucceeded, &done
		r2.Stats = linkedin.SyncStats{Fetched: 3, ContactsCreated: 1, LeadsCreated: 1, Matched: 1, Skipped: 1, Errors: 1}
		r2.Failures = []linkedin.SyncFailure{{SubmissionID: "s-9", Message: "email: is not a valid email address"}}
		if err := ls.FinishSyncRun(e.ctx, r2); err != nil {
			t.Fatal(err)
		}
		runs, err := ls.SyncRuns(e.ctx, c.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		want1 := *r1
		want1.Status, want1.FinishedAt = linkedin.RunInterrupted, &r2.StartedAt
		want1.Error = runs[len(runs)-1].Error
		want1.Failures = []linkedin.SyncFailure{}
		if want1.Error == "" {
			t.Error("an interrupted run says nothing about why")
		}
		diff(t, "runs, newest first (the one left running is interrupted)", []linkedin.SyncRun{*r2, want1}, runs)
		wantErr(t, ls.CreateSyncRun(e.ctx, &linkedin.SyncRun{ConnectionID: missingID, Status: linkedin.RunRunning, StartedAt: start}), leadcycle.ENotFound)
		wantErr(t, ls.FinishSyncRun(e.ctx, &linkedin.SyncRun{ID: missingID, Status: linkedin.RunFailed}), leadcycle.ENotFound)

		// Only the latest 200 runs are kept.
		for range 205 {
			if err := ls.CreateSyncRun(e.ctx, &linkedin.SyncRun{ConnectionID: c.ID, Trigger: linkedin.TriggerCLI, Status: linkedin.RunSucceeded, StartedAt: start}); err != nil {
				t.Fatal(err)
			}
		}
		runs, err = ls.SyncRuns(e.ctx, c.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) != 200 || runs[0].ID <= runs[199].ID {
			t.Fatalf("%d runs kept (first %s, last %s), want the latest 200 newest first", len(runs), runs[0].ID, runs[len(runs)-1].ID)
		}
		if runs, _ := ls.SyncRuns(e.ctx, c.ID, 5); len(runs) != 5 {
			t.Errorf("limit 5 returned %d runs", len(runs))
		}
		if err := ls.DeleteConnection(e.ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		if runs, _ := ls.SyncRuns(e.ctx, c.ID, 0); len(runs) != 0 {
			t.Errorf("%d runs left after deleting the connection", len(runs))
		}
	}},
}
