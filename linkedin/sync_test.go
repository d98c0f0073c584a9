package linkedin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
	"github.com/leadcycle/leadcycle/linkedin/linkedintest"
	"github.com/leadcycle/leadcycle/store/sqldb"
	"github.com/leadcycle/leadcycle/store/sqlite"
)

// now is where the clock of every test starts; leads are submitted before.
var now = time.Date(2026, 3, 14, 9, 0, 0, 0, time.UTC)

// harness is a connector on a fresh SQLite store, a fake LinkedIn and a
// fake capturer, with a sleeper that only records how long it was asked to
// wait.
type harness struct {
	t     *testing.T
	ctx   context.Context
	clock *leadcycle.FixedClock
	store *sqldb.Store
	ls    linkedin.Store
	fake  *linkedintest.Server
	cap   *linkedintest.Capturer
	svc   *linkedin.Service

	mu     sync.Mutex
	sleeps []time.Duration
}

func newHarness(t *testing.T, edit ...func(*linkedin.Options)) *harness {
	t.Helper()
	h := &harness{t: t, ctx: t.Context(), clock: leadcycle.NewFixedClock(now), fake: linkedintest.NewServer(t), cap: linkedintest.NewCapturer()}
	s, err := sqlite.Open(h.ctx, t.TempDir(), h.clock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	h.store, h.ls = s, s.LinkedIn()
	opts := linkedin.Options{
		Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), PageSize: 10,
		Sleep: func(ctx context.Context, d time.Duration) error {
			h.mu.Lock()
			h.sleeps = append(h.sleeps, d)
			h.mu.Unlock()
			return ctx.Err()
		},
	}
	for _, e := range edit {
		e(&opts)
	}
	h.svc = linkedin.NewService(h.ls, h.cap, opts)
	h.fake.AddForm(linkedintest.StandardForm(300, "Canning line demo"))
	return h
}

func (h *harness) slept() []time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.sleeps
	h.sleeps = nil
	return s
}

// connection creates a connection to the fake with its valid access token.
func (h *harness) connection(edit func(c *linkedin.Connection, s *linkedin.Secrets)) *linkedin.Connection {
	h.t.Helper()
	c := &linkedin.Connection{
		Name: "Ads", SponsoredAccount: h.fake.SponsoredAccount, APIBaseURL: h.fake.APIBaseURL(), TokenURL: h.fake.TokenURL(),
		ClientID: h.fake.ClientID, Enabled: true,
	}
	s := linkedin.Secrets{AccessToken: h.fake.AccessToken}
	if edit != nil {
		edit(c, &s)
	}
	if err := h.svc.Create(h.ctx, c, s); err != nil {
		h.t.Fatalf("create connection: %v", err)
	}
	return c
}

func (h *harness) sync(id leadcycle.ID) *linkedin.SyncRun {
	h.t.Helper()
	run, err := h.svc.Sync(h.ctx, id, linkedin.TriggerCLI)
	if err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	return run
}

func (h *harness) get(id leadcycle.ID) *linkedin.Connection {
	h.t.Helper()
	c, err := h.ls.Connection(h.ctx, id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func wantStats(t *testing.T, run *linkedin.SyncRun, want linkedin.SyncStats) {
	t.Helper()
	if d := cmp.Diff(want, run.Stats); d != "" {
		t.Errorf("stats (-want +got):\n%s\nrun: %+v", d, run)
	}
}

func wantStatus(t *testing.T, run *linkedin.SyncRun, status, errPart string) {
	t.Helper()
	if run.Status != status || !strings.Contains(run.Error, errPart) {
		t.Fatalf("run status %q error %q; want %q with %q", run.Status, run.Error, status, errPart)
	}
	if run.FinishedAt == nil {
		t.Error("finished run has no finished_at")
	}
}

// addLeads adds n responses, one an hour back from now, with emails
// lead0…; every third reuses the email of the one before (a returning
// contact).
func (h *harness) addLeads(n int) {
	for i := range n {
		email := fmt.Sprintf("lead%d@example.gal", i)
		if i%3 == 2 {
			email = fmt.Sprintf("lead%d@example.gal", i-1)
		}
		h.fake.AddLeads(linkedintest.StandardLead(fmt.Sprintf("resp-%02d", i), now.Add(-time.Duration(i+1)*time.Hour), 300, "Nome", fmt.Sprint(i), email))
	}
}

func TestSyncPagesAndIsIdempotent(t *testing.T) {
	h := newHarness(t)
	h.addLeads(25)
	c := h.connection(nil)

	run := h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	// 25 responses, 17 distinct emails: 8 returning contacts match.
	wantStats(t, run, linkedin.SyncStats{Fetched: 25, ContactsCreated: 17, LeadsCreated: 17, Matched: 8})
	if got := h.cap.Calls(); got != 25 {
		t.Fatalf("%d captures, want 25", got)
	}

	// Three pages of 10, with the headers LinkedIn wants.
	var starts []string
	for _, r := range h.fake.Seen() {
		if r.Path != "/rest/leadFormResponses" {
			t.Errorf("unexpected request %s %s", r.Method, r.Path)
			continue
		}
		if r.Header.Get("Authorization") != "Bearer access-1" || r.Header.Get("LinkedIn-Version") != linkedin.DefaultAPIVersion || r.Header.Get("X-Restli-Protocol-Version") != "2.0.0" {
			t.Errorf("headers %v", r.Header)
		}
		if !strings.Contains(r.RawQuery, "owner=(sponsoredAccount:urn%3Ali%3AsponsoredAccount%3A5101)") || !strings.Contains(r.RawQuery, "leadType=(leadType:SPONSORED)") {
			t.Errorf("query %s", r.RawQuery)
		}
		if strings.Contains(r.RawQuery, "submittedAtTimeRange") {
			t.Errorf("first sync asked for a time range: %s", r.RawQuery)
		}
		for _, kv := range strings.Split(r.RawQuery, "&") {
			if v, ok := strings.CutPrefix(kv, "start="); ok {
				starts = append(starts, v)
			}
			if kv != "count=10" && strings.HasPrefix(kv, "count=") {
				t.Errorf("count: %s", kv)
			}
		}
	}
	if d := cmp.Diff([]string{"0", "10", "20"}, starts); d != "" {
		t.Errorf("pages (-want +got):\n%s", d)
	}

	got := h.get(c.ID)
	newest := now.Add(-time.Hour)
	if got.Cursor == nil || !got.Cursor.Equal(newest) || got.LastSyncAt == nil || got.LastSuccessAt == nil || got.LastError != "" {
		t.Fatalf("connection after sync: cursor %v last sync %v success %v error %q", got.Cursor, got.LastSyncAt, got.LastSuccessAt, got.LastError)
	}
	wantStats(t, &linkedin.SyncRun{Stats: got.LastStats}, run.Stats)

	// Again: only the last hour before the cursor is read, and what was
	// captured is skipped without asking the capturer.
	h.clock.Advance(time.Hour)
	run = h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 2, Skipped: 2})
	seen := h.fake.Seen()
	if len(seen) != 1 || !strings.Contains(seen[0].RawQuery, fmt.Sprintf("submittedAtTimeRange=(start:%d,end:", newest.Add(-time.Hour).UnixMilli())) {
		t.Errorf("second sync requests: %+v", seen)
	}

	// Re-reading everything (cursor reset) changes nothing either.
	if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { c.Cursor = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	run = h.sync(c.ID)
	wantStats(t, run, linkedin.SyncStats{Fetched: 25, Skipped: 25})
	if h.cap.Calls() != 25 || h.cap.InteractionCount() != 25 || h.cap.Contacts() != 17 {
		t.Fatalf("after re-syncing: %d captures, %d interactions, %d contacts; want 25, 25, 17", h.cap.Calls(), h.cap.InteractionCount(), h.cap.Contacts())
	}

	// A new response is picked up.
	h.fake.AddLeads(linkedintest.StandardLead("resp-new", now.Add(30*time.Minute), 300, "Nova", "Persoa", "nova@example.gal"))
	run = h.sync(c.ID) // reads from an hour before the cursor: two known responses and the new one
	wantStats(t, run, linkedin.SyncStats{Fetched: 3, ContactsCreated: 1, LeadsCreated: 1, Skipped: 2})
	if got := h.get(c.ID); !got.Cursor.Equal(now.Add(30 * time.Minute)) {
		t.Errorf("cursor %v, want the newest submission", got.Cursor)
	}

	runs, err := h.svc.Runs(h.ctx, c.ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 || runs[0].Stats.ContactsCreated != 1 || runs[3].Stats.ContactsCreated != 17 || runs[0].Trigger != linkedin.TriggerCLI {
		t.Errorf("sync log: %+v", runs)
	}
	counts, _ := h.ls.CountSubmissions(h.ctx, c.ID)
	if counts[linkedin.SubmissionCaptured] != 26 {
		t.Errorf("submissions %v", counts)
	}
}

func TestSyncWithoutTotalStopsOnShortPage(t *testing.T) {
	h := newHarness(t)
	h.fake.OmitTotal = true
	h.addLeads(20) // exactly two full pages, then an empty one
	c := h.connection(nil)
	run := h.sync(c.ID)
	wantStats(t, run, linkedin.SyncStats{Fetched: 20, ContactsCreated: 14, LeadsCreated: 14, Matched: 6})
	if n := len(h.fake.Seen()); n != 3 {
		t.Errorf("%d requests, want 3 (two full pages and an empty one)", n)
	}
	h.fake.MaxCount = 7 // LinkedIn gives less than asked: no total, so a short page ends the read
	if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { c.Cursor = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	run = h.sync(c.ID)
	if run.Stats.Fetched != 7 {
		t.Errorf("fetched %d with a short first page, want 7", run.Stats.Fetched)
	}
}

func TestExpiredTokenIsRefreshed(t *testing.T) {
	h := newHarness(t)
	h.addLeads(3)
	c := h.connection(func(c *linkedin.Connection, s *linkedin.Secrets) {
		s.AccessToken, s.RefreshToken, s.ClientSecret = "access-old", h.fake.RefreshToken, h.fake.ClientSecret
	})
	run := h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 3, ContactsCreated: 2, LeadsCreated: 2, Matched: 1})
	seen := h.fake.Seen()
	if len(seen) != 3 || seen[0].Header.Get("Authorization") != "Bearer access-old" || seen[1].Path != "/oauth/v2/accessToken" ||
		seen[2].Header.Get("Authorization") != "Bearer access-refreshed-1" {
		t.Fatalf("requests: %+v", seen)
	}
	if f := seen[1].Form; f.Get("grant_type") != "refresh_token" || f.Get("refresh_token") != "refresh-1" || f.Get("client_id") != "client-id" || f.Get("client_secret") != "client-secret" {
		t.Errorf("token request: %v", f)
	}
	// The new token is stored (sealed) with its expiry, and used next time.
	got := h.get(c.ID)
	if got.Secrets.AccessToken == "" || strings.Contains(got.Secrets.AccessToken, "access-old") || got.TokenExpiresAt == nil ||
		!got.TokenExpiresAt.Equal(now.Add(5184000*time.Second)) {
		t.Fatalf("stored token %q expiring %v", got.Secrets.AccessToken, got.TokenExpiresAt)
	}
	h.sync(c.ID)
	if seen := h.fake.Seen(); len(seen) != 1 || seen[0].Header.Get("Authorization") != "Bearer access-refreshed-1" {
		t.Errorf("second sync requests: %+v", seen)
	}

	// A token known to have expired is refreshed before it is used.
	h.clock.Advance(5184000 * time.Second)
	h.sync(c.ID)
	if seen := h.fake.Seen(); len(seen) != 2 || seen[0].Path != "/oauth/v2/accessToken" || seen[1].Header.Get("Authorization") != "Bearer access-refreshed-2" {
		t.Errorf("sync after expiry: %+v", seen)
	}
}

func TestExpiredTokenWithoutRefreshFailsClearly(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(h *harness, c *linkedin.Connection, s *linkedin.Secrets)
	}{
		{"no refresh token", func(h *harness, c *linkedin.Connection, s *linkedin.Secrets) { s.AccessToken = "access-old" }},
		{"refresh refused", func(h *harness, c *linkedin.Connection, s *linkedin.Secrets) {
			s.AccessToken, s.RefreshToken, s.ClientSecret = "access-old", "refresh-revoked", h.fake.ClientSecret
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.addLeads(3)
			c := h.connection(func(c *linkedin.Connection, s *linkedin.Secrets) { tc.edit(h, c, s) })
			run := h.sync(c.ID)
			wantStatus(t, run, linkedin.RunFailed, "token expired: reconnect")
			if h.cap.Calls() != 0 {
				t.Errorf("%d captures", h.cap.Calls())
			}
			got := h.get(c.ID)
			if !strings.Contains(got.LastError, "token expired: reconnect") || got.LastSyncAt == nil || got.LastSuccessAt != nil || got.Cursor != nil {
				t.Errorf("connection after failure: error %q sync %v success %v cursor %v", got.LastError, got.LastSyncAt, got.LastSuccessAt, got.Cursor)
			}
			runs, _ := h.svc.Runs(h.ctx, c.ID, 5)
			if len(runs) != 1 || runs[0].Status != linkedin.RunFailed || !strings.Contains(runs[0].Error, "token expired") {
				t.Errorf("sync log: %+v", runs)
			}
			// Reconnecting (a new token) makes the next sync work.
			tok := h.fake.AccessToken
			if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{AccessToken: &tok}, nil); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")
			if got := h.get(c.ID); got.LastError != "" || got.Cursor == nil {
				t.Errorf("after reconnecting: error %q cursor %v", got.LastError, got.Cursor)
			}
		})
	}
}

func TestRateLimitWaitsRetryAfter(t *testing.T) {
	h := newHarness(t)
	h.addLeads(12)
	c := h.connection(nil)
	h.fake.Fail(linkedintest.Fault{Status: 429, RetryAfter: "3"}, linkedintest.Fault{Status: 429})
	run := h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 12, ContactsCreated: 8, LeadsCreated: 8, Matched: 4})
	if d := cmp.Diff([]time.Duration{3 * time.Second, 2 * time.Second}, h.slept()); d != "" {
		t.Errorf("waits (-want +got):\n%s", d)
	}

	// Asked to wait longer than a sync waits: the sync stops, says why, and
	// the next one carries on.
	h.fake.Lock()
	h.fake.Leads = nil
	h.fake.Unlock()
	h.addLeads(1)
	h.fake.Fail(linkedintest.Fault{Status: 429, RetryAfter: "86400"})
	run = h.sync(c.ID)
	wantStatus(t, run, linkedin.RunFailed, "rate limit")
	if len(h.slept()) != 0 {
		t.Error("waited a whole day")
	}
	// Rate limited on every attempt: gives up after the bounded attempts.
	h.fake.Fail(linkedintest.Fault{Status: 429, RetryAfter: "1"}, linkedintest.Fault{Status: 429, RetryAfter: "1"}, linkedintest.Fault{Status: 429, RetryAfter: "1"},
		linkedintest.Fault{Status: 429, RetryAfter: "1"}, linkedintest.Fault{Status: 429, RetryAfter: "1"})
	run = h.sync(c.ID)
	wantStatus(t, run, linkedin.RunFailed, "gave up after 5 attempts")
	if n := len(h.slept()); n != 4 {
		t.Errorf("%d waits, want 4 between 5 attempts", n)
	}
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")
}

func TestServerErrorsAreRetried(t *testing.T) {
	h := newHarness(t)
	h.addLeads(5)
	c := h.connection(nil)
	h.fake.Fail(linkedintest.Fault{Status: 500}, linkedintest.Fault{Status: 502, Body: "<html>bad gateway</html>"})
	run := h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 5, ContactsCreated: 4, LeadsCreated: 4, Matched: 1})
	if d := cmp.Diff([]time.Duration{time.Second, 2 * time.Second}, h.slept()); d != "" {
		t.Errorf("backoff (-want +got):\n%s", d)
	}

	// Down for good: bounded attempts, then a failed run; nothing captured
	// twice when it comes back.
	if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { c.Cursor = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		h.fake.Fail(linkedintest.Fault{Status: 503})
	}
	run = h.sync(c.ID)
	wantStatus(t, run, linkedin.RunFailed, "503 Service Unavailable")
	if got := h.slept(); len(got) != 4 || got[3] != 8*time.Second {
		t.Errorf("backoff %v, want 1s 2s 4s 8s", got)
	}
	if got := h.get(c.ID); got.Cursor != nil || !strings.Contains(got.LastError, "503") {
		t.Errorf("after failing: cursor %v error %q", got.Cursor, got.LastError)
	}
	run = h.sync(c.ID)
	wantStats(t, run, linkedin.SyncStats{Fetched: 5, Skipped: 5})

	// A client error is not retried.
	h.fake.Fail(linkedintest.Fault{Status: 400, Body: `{"status":400,"code":"INVALID_PARAM","message":"Invalid param"}`})
	run = h.sync(c.ID)
	wantStatus(t, run, linkedin.RunFailed, "400 Bad Request (INVALID_PARAM: Invalid param)")
	if len(h.slept()) != 0 {
		t.Error("a 400 was retried")
	}
}

func TestMalformedResponses(t *testing.T) {
	h := newHarness(t)
	c := h.connection(nil)
	for _, tc := range []struct{ body, err string }{
		{"<html>not json</html>", "not valid JSON"},
		{`{"paging":{"start":0,"count":10}}`, "without elements"},
		{`{"elements":"nope"}`, "not valid JSON"},
		{`[1,2]`, "not valid JSON"},
	} {
		h.fake.Fail(linkedintest.Fault{Body: tc.body})
		run := h.sync(c.ID)
		wantStatus(t, run, linkedin.RunFailed, tc.err)
		if got := h.get(c.ID); got.Cursor != nil || !strings.Contains(got.LastError, tc.err) {
			t.Errorf("%s: connection error %q cursor %v", tc.body, got.LastError, got.Cursor)
		}
	}

	// Elements that cannot be read are reported one by one; the others are
	// captured.
	good := `{"id":"ok-1","submittedAt":1773300000000,"versionedLeadGenFormUrn":"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:300,1)",
		"formResponse":{"answers":[{"questionId":3,"answerDetails":{"textQuestionAnswer":{"answer":"ok@example.gal"}}}]}}`
	h.fake.Fail(linkedintest.Fault{Body: `{"elements":[` + good + `,
		{"submittedAt":1773300000000,"versionedLeadGenFormUrn":"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:300,1)"},
		{"id":"no-time","versionedLeadGenFormUrn":"urn:li:versionedLeadGenForm:(urn:li:leadGenForm:300,1)"},
		{"id":"bad-answers","submittedAt":1773300000000,"formResponse":{"answers":"x"}},
		{"id":"no-form","submittedAt":1773300000000},
		"a string"],
		"paging":{"start":0,"count":10,"total":6}}`})
	run := h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 6, ContactsCreated: 1, LeadsCreated: 1, Errors: 5})
	var ids []string
	for _, f := range run.Failures {
		ids = append(ids, f.SubmissionID)
		if f.Message == "" {
			t.Errorf("failure without message: %+v", f)
		}
	}
	if d := cmp.Diff([]string{"(element 1 of the page at 0)", "no-time", "bad-answers", "no-form", "(element 5 of the page at 0)"}, ids); d != "" {
		t.Errorf("failures (-want +got):\n%s", d)
	}
	if got := h.get(c.ID); !strings.Contains(got.LastError, "5 of 6 responses could not be captured") {
		t.Errorf("last error %q", got.LastError)
	}
}

func TestCaptureFailures(t *testing.T) {
	h := newHarness(t)
	h.addLeads(4)
	h.fake.AddLeads(linkedintest.StandardLead("resp-bad", now.Add(-10*time.Minute), 300, "Sen", "Correo", "not an email"))
	c := h.connection(nil)

	// An invalid response is recorded as failed and the sync goes on.
	run := h.sync(c.ID)
	wantStatus(t, run, linkedin.RunSucceeded, "")
	wantStats(t, run, linkedin.SyncStats{Fetched: 5, ContactsCreated: 3, LeadsCreated: 3, Matched: 1, Errors: 1})
	if len(run.Failures) != 1 || run.Failures[0].SubmissionID != "resp-bad" || !strings.Contains(run.Failures[0].Message, "email") {
		t.Errorf("failures %+v", run.Failures)
	}
	counts, _ := h.ls.CountSubmissions(h.ctx, c.ID)
	if d := cmp.Diff(map[string]int{"captured": 4, "failed": 1}, counts); d != "" {
		t.Errorf("submissions (-want +got):\n%s", d)
	}
	// Failed ones are retried when read again; captured ones are not.
	h.cap.Fail = nil
	h.fake.Lock()
	h.fake.Leads[4].Answers[3] = "fixed@example.gal"
	h.fake.Unlock()
	if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { c.Cursor = nil; return nil }); err != nil {
		t.Fatal(err)
	}
	run = h.sync(c.ID)
	wantStats(t, run, linkedin.SyncStats{Fetched: 5, ContactsCreated: 1, LeadsCreated: 1, Skipped: 4})
	if h.cap.Calls() != 6 {
		t.Errorf("%d captures, want 6 (5, then the retried one)", h.cap.Calls())
	}

	// A failure that is not the response's fault stops the sync without
	// advancing the cursor; the next sync resumes.
	h.fake.AddLeads(linkedintest.StandardLead("resp-later", now.Add(time.Minute), 300, "A", "B", "later@example.gal"))
	h.cap.Fail = func(leadcycle.CaptureInput) error { return errors.New("database is locked") }
	before := h.get(c.ID).Cursor
	run = h.sync(c.ID)
	wantStatus(t, run, linkedin.RunFailed, "database is locked")
	if got := h.get(c.ID); !got.Cursor.Equal(*before) {
		t.Errorf("cursor moved on a failed sync: %v, was %v", got.Cursor, before)
	}
	h.cap.Fail = nil
	run = h.sync(c.ID) // resp-00 and resp-bad (within the hour before the cursor) and resp-later
	wantStats(t, run, linkedin.SyncStats{Fetched: 3, ContactsCreated: 1, LeadsCreated: 1, Skipped: 2})
}

func TestTestLeadsAreSkippedUnlessIncluded(t *testing.T) {
	h := newHarness(t)
	l := linkedintest.StandardLead("test-1", now.Add(-time.Hour), 300, "Test", "Lead", "test@example.gal")
	l.Test = true
	h.fake.AddLeads(l)
	c := h.connection(nil)
	wantStats(t, h.sync(c.ID), linkedin.SyncStats{Fetched: 1, Skipped: 1})
	if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error {
		c.IncludeTestLeads, c.Cursor = true, nil
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	wantStats(t, h.sync(c.ID), linkedin.SyncStats{Fetched: 1, ContactsCreated: 1, LeadsCreated: 1})
	if h.cap.Last().Interaction.Properties["test_lead"] != true {
		t.Errorf("test lead not marked: %v", h.cap.Last().Interaction.Properties)
	}
}

func TestFormsAreReadWhenNotInline(t *testing.T) {
	h := newHarness(t)
	h.fake.InlineForms = false
	h.fake.AddForm(linkedintest.StandardForm(301, "Labelling webinar"))
	h.addLeads(3)
	h.fake.AddLeads(linkedintest.StandardLead("other-form", now.Add(-time.Minute), 301, "X", "Y", "xy@example.gal"))
	h.fake.AddLeads(linkedintest.StandardLead("gone-form", now.Add(-2*time.Minute), 999, "G", "F", "gf@example.gal"))
	c := h.connection(nil)
	run := h.sync(c.ID)
	wantStats(t, run, linkedin.SyncStats{Fetched: 5, ContactsCreated: 3, LeadsCreated: 3, Matched: 1, Errors: 1})
	if len(run.Failures) != 1 || run.Failures[0].SubmissionID != "gone-form" || !strings.Contains(run.Failures[0].Message, "read lead form 999") {
		t.Errorf("failures: %+v", run.Failures)
	}
	forms := map[string]int{}
	for _, r := range h.fake.Seen() {
		if strings.HasPrefix(r.Path, "/rest/leadForms/") {
			forms[r.Path]++
		}
	}
	if d := cmp.Diff(map[string]int{"/rest/leadForms/300": 1, "/rest/leadForms/301": 1, "/rest/leadForms/999": 1}, forms); d != "" {
		t.Errorf("form reads (-want +got):\n%s", d)
	}
	if got := h.cap.Inputs[0].Lead.Topic; got != "Labelling webinar" {
		t.Errorf("topic of the newest response = %q", got)
	}
}

func TestSyncRefusesASecondSyncOfTheSameConnection(t *testing.T) {
	h := newHarness(t)
	h.addLeads(2)
	c := h.connection(nil)
	ok, err := h.ls.AcquireLease(h.ctx, c.ID, "another-node", time.Minute)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	_, err = h.svc.Sync(h.ctx, c.ID, linkedin.TriggerAPI)
	if leadcycle.ErrorCode(err) != leadcycle.EConflict {
		t.Fatalf("sync while another runs: %v, want a conflict", err)
	}
	if runs, _ := h.svc.Runs(h.ctx, c.ID, 5); len(runs) != 0 || h.cap.Calls() != 0 {
		t.Fatalf("a refused sync did work: runs %+v, %d captures", runs, h.cap.Calls())
	}
	// Once the other node's lease runs out, this one takes over.
	h.clock.Advance(time.Minute)
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")
	// And the lease is free again after a sync.
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")

	_, err = h.svc.Sync(h.ctx, 987654, linkedin.TriggerAPI)
	if leadcycle.ErrorCode(err) != leadcycle.ENotFound {
		t.Errorf("sync of a missing connection: %v", err)
	}
	noCapture := linkedin.NewService(h.ls, nil, linkedin.Options{})
	if _, err := noCapture.Sync(h.ctx, c.ID, linkedin.TriggerAPI); leadcycle.ErrorCode(err) != leadcycle.EUnavailable {
		t.Errorf("sync without a capturer: %v", err)
	}
}

func TestConcurrentSyncsRunOnce(t *testing.T) {
	h := newHarness(t)
	h.addLeads(30)
	c := h.connection(nil)
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Go(func() { _, results[i] = h.svc.Sync(h.ctx, c.ID, linkedin.TriggerAPI) })
	}
	wg.Wait()
	ran := 0
	for _, err := range results {
		switch code := leadcycle.ErrorCode(err); {
		case err == nil:
			ran++
		case code != leadcycle.EConflict:
			t.Fatalf("concurrent sync: %v", err)
		}
	}
	if ran < 1 || h.cap.Calls() != 30 {
		t.Fatalf("%d syncs ran, %d captures; want the 30 responses captured once", ran, h.cap.Calls())
	}
}

func TestCancelledSyncIsRecorded(t *testing.T) {
	h := newHarness(t)
	h.addLeads(3)
	c := h.connection(nil)
	ctx, cancel := context.WithCancel(h.ctx)
	h.fake.Fail(linkedintest.Fault{Status: 503})
	h.svc = linkedin.NewService(h.ls, h.cap, linkedin.Options{Clock: h.clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Sleep: func(ctx context.Context, d time.Duration) error { cancel(); <-ctx.Done(); return ctx.Err() }})
	run, err := h.svc.Sync(ctx, c.ID, linkedin.TriggerSchedule)
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, run, linkedin.RunFailed, "interrupted")
	runs, _ := h.svc.Runs(h.ctx, c.ID, 5)
	if len(runs) != 1 || runs[0].Status != linkedin.RunFailed {
		t.Errorf("runs %+v", runs)
	}
	// The lease was given back.
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")
}

func TestMovingEndpointsNeedsTheTokensAgain(t *testing.T) {
	h := newHarness(t)
	c := h.connection(func(c *linkedin.Connection, s *linkedin.Secrets) {
		s.RefreshToken, s.ClientSecret = "refresh-1", "client-secret"
	})
	for _, tc := range []struct {
		field string
		edit  func(*linkedin.Connection)
	}{
		{"api_base_url", func(c *linkedin.Connection) { c.APIBaseURL = "https://attacker.example/rest" }},
		{"token_url", func(c *linkedin.Connection) { c.TokenURL = "https://attacker.example/token" }},
	} {
		_, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { tc.edit(c); return nil })
		if leadcycle.ErrorCode(err) != leadcycle.EInvalid || len(leadcycle.ErrorFields(err)) != 1 || leadcycle.ErrorFields(err)[0].Field != tc.field {
			t.Fatalf("moving %s without the tokens: %v", tc.field, err)
		}
	}
	if got := h.get(c.ID); got.APIBaseURL != h.fake.APIBaseURL() || !got.HasRefreshToken {
		t.Fatalf("a refused move changed the connection: %+v", got)
	}
	// With a new access token it moves; the secrets not sent again are dropped.
	tok := "new-token"
	got, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{AccessToken: &tok}, func(c *linkedin.Connection) error {
		c.APIBaseURL = "https://api.example.org/rest"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !got.HasToken || got.HasRefreshToken || got.HasClientSecret || got.APIBaseURL != "https://api.example.org/rest" {
		t.Errorf("moved connection: %+v", got)
	}
	// Other changes need nothing.
	if _, err := h.svc.Update(h.ctx, c.ID, linkedin.SecretsPatch{}, func(c *linkedin.Connection) error { c.Name = "renamed"; return nil }); err != nil {
		t.Fatal(err)
	}
}

// TestWaitsKeepTheLease waits out two long Retry-Afters, each longer than half
// the lease: another node must not be able to take the connection meanwhile.
func TestWaitsKeepTheLease(t *testing.T) {
	var h *harness
	var intruded []bool
	h = newHarness(t, func(o *linkedin.Options) {
		o.LeaseTTL = 3 * time.Minute
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			h.clock.Advance(d)
			ok, err := h.ls.AcquireLease(ctx, 1, "another-node", time.Minute)
			if err != nil {
				return err
			}
			intruded = append(intruded, ok)
			return nil
		}
	})
	h.addLeads(2)
	c := h.connection(nil)
	h.fake.Fail(linkedintest.Fault{Status: 429, RetryAfter: "120"}, linkedintest.Fault{Status: 429, RetryAfter: "120"})
	wantStatus(t, h.sync(c.ID), linkedin.RunSucceeded, "")
	if fmt.Sprint(intruded) != "[false false]" {
		t.Errorf("another node took the lease during the waits: %v", intruded)
	}
}
