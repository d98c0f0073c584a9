package web_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/web"
)

func (ts *testServer) mustForm(t *testing.T, extra map[string]any) string {
	t.Helper()
	body := map[string]any{
		"name": "Ebook: lead scoring", "active": true,
		"fields": []map[string]any{
			{"name": "email", "label": "Email", "type": "email", "target": "contact.email", "required": true},
			{"name": "first_name", "label": "First name", "target": "contact.first_name"},
			{"name": "company", "label": "Company", "target": "account.name"},
		},
		"consents": []map[string]any{{"purpose": "commercial_email", "label": "Send me news"}},
	}
	for k, v := range extra {
		body[k] = v
	}
	return ts.mustCreate(t, "forms", body)
}

// public posts to a public endpoint without a key.
func (ts *testServer) public(t *testing.T, path, contentType, body string, header map[string]string) response {
	t.Helper()
	req, _ := http.NewRequest("POST", ts.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: []byte(b.String())}
}

func TestFormSubmissionsEndToEnd(t *testing.T) {
	ts := newTestServer(t)
	formA := ts.mustForm(t, nil)
	formB := ts.mustForm(t, map[string]any{"name": "Webinar", "redirect_url": "https://example.gal/thanks"})

	r := ts.public(t, "/f/"+formA, "application/json", `{"email": "uxia@example.gal", "first_name": "Uxía", "consent_commercial_email": true}`, nil)
	if r.status != 200 || r.json(t)["status"] != "processed" {
		t.Fatalf("JSON submission: %d %s", r.status, r.body)
	}
	// The hosted page posts urlencoded and gets a thank-you page.
	r = ts.public(t, "/f/"+formA, "application/x-www-form-urlencoded", url.Values{"email": {"UXIA@example.gal"}}.Encode(), nil)
	if r.status != 200 || !strings.Contains(string(r.body), "Thank you") {
		t.Fatalf("urlencoded submission: %d %s", r.status, r.body)
	}
	r = ts.public(t, "/f/"+formB, "application/x-www-form-urlencoded", url.Values{"email": {"uxia@example.gal"}}.Encode(), nil)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "https://example.gal/thanks" {
		t.Fatalf("redirect after submission: %d %v", r.status, r.header)
	}
	if c, l, i := ts.count(t, "contacts"), ts.count(t, "leads"), ts.count(t, "interactions"); c != 1 || l != 2 || i != 3 {
		t.Fatalf("contacts, leads, interactions = %d, %d, %d; want 1, 2, 3", c, l, i)
	}
	contacts := ts.do(t, "GET", "/api/v1/contacts", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	if c := contacts[0].(map[string]any); c["consent"].(map[string]any)["commercial_email"] != "granted" || c["origin"] != "form" {
		t.Errorf("consent or origin not captured: %v", c)
	}

	// Per-field errors go back to the submitter, and nothing is stored.
	r = ts.public(t, "/f/"+formA, "application/json", `{"email": "nope", "first_name": "x"}`, nil)
	problem(t, r, 422, "email")
	r = ts.public(t, "/f/"+formA, "application/x-www-form-urlencoded", "first_name=x", nil)
	if r.status != 422 || !strings.Contains(string(r.body), "is required") || !strings.Contains(string(r.body), `value="x"`) {
		t.Errorf("hosted page does not show the error with the values kept: %d %s", r.status, r.body)
	}
	// A retry of the same submission (same idempotency key) creates nothing.
	for range 3 {
		r = ts.public(t, "/f/"+formA, "application/json", `{"email": "retry@example.gal"}`, map[string]string{"Idempotency-Key": "abc-123"})
		if r.status != 200 {
			t.Fatalf("retry: %d %s", r.status, r.body)
		}
	}
	if c, i := ts.count(t, "contacts"), ts.count(t, "interactions"); c != 2 || i != 4 {
		t.Errorf("after retries: %d contacts, %d interactions; want 2 and 4", c, i)
	}
	// Honeypot: the bot is thanked, nothing is created, the submission is kept as spam.
	r = ts.public(t, "/f/"+formA, "application/json", `{"email": "bot@spam.example", "_lc_hp": "http://spam"}`, nil)
	if r.status != 200 || ts.count(t, "contacts") != 2 {
		t.Errorf("honeypot: %d, contacts %d", r.status, ts.count(t, "contacts"))
	}
	sr := ts.do(t, "GET", "/api/v1/forms/"+formA+"/submissions", leadcycle.RoleMarketer, nil)
	if sr.status != 200 {
		t.Fatalf("submissions: %d %s", sr.status, sr.body)
	}
	subs := sr.json(t)["items"].([]any)
	statuses := map[string]int{}
	for _, s := range subs {
		statuses[s.(map[string]any)["status"].(string)]++
	}
	if statuses["spam"] != 1 || statuses["processed"] != 3 {
		t.Errorf("submission statuses: %v", statuses)
	}
	problem(t, ts.public(t, "/f/"+formA, "application/json", `{"email": "`+strings.Repeat("a", 70<<10)+`@x.es"}`, nil), 413, "")
	problem(t, ts.public(t, "/f/999", "application/json", `{"email": "a@b.es"}`, nil), 404, "")
}

func TestHostedPageAndEmbed(t *testing.T) {
	ts := newTestServer(t)
	form := ts.mustForm(t, nil)
	page := ts.do(t, "GET", "/f/"+form, "", nil)
	for _, want := range []string{`<form method="post" action="/f/` + form + `"`, `name="email"`, `name="_lc_key"`, `name="_lc_hp"`, "Send me news"} {
		if !strings.Contains(string(page.body), want) {
			t.Errorf("hosted page lacks %q", want)
		}
	}
	js := ts.do(t, "GET", "/f/"+form+"/embed.js", "", nil)
	if !strings.HasPrefix(js.header.Get("Content-Type"), "text/javascript") || !strings.Contains(string(js.body), `"/f/" + def.id`) || !strings.Contains(string(js.body), `"email"`) {
		t.Errorf("embed script: %s", js.body)
	}
	snippet := ts.do(t, "GET", "/api/v1/forms/"+form+"/embed", leadcycle.RoleReadonly, nil).json(t)
	if !strings.Contains(snippet["html"].(string), `data-leadcycle-form="`+form+`"`) || !strings.Contains(snippet["html"].(string), "/f/"+form+"/embed.js") {
		t.Errorf("snippet: %v", snippet)
	}
}

func TestConcurrentFormSubmissions(t *testing.T) {
	ts := newTestServer(t)
	form := ts.mustForm(t, nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ts.public(t, "/f/"+form, "application/json", fmt.Sprintf(`{"email": "same@example.gal", "_lc_key": "k%d"}`, i), nil)
			if r.status != 200 {
				t.Errorf("submission %d: %d %s", i, r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if c, l, i := ts.count(t, "contacts"), ts.count(t, "leads"), ts.count(t, "interactions"); c != 1 || l != 1 || i != 50 {
		t.Fatalf("contacts, leads, interactions = %d, %d, %d; want 1, 1, 50", c, l, i)
	}
}

func TestPublicEndpointsAreRateLimited(t *testing.T) {
	base := newTestServer(t)
	form := base.mustForm(t, nil)
	// The same store behind a server with the default public limits.
	ts := &testServer{Server: httptest.NewServer(web.NewServer(base.store, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))}
	t.Cleanup(ts.Close)
	first := -1
	for i := range 300 {
		if r := ts.public(t, "/f/"+form, "application/json", `{"email": "x"}`, nil); r.status == http.StatusTooManyRequests {
			problem(t, r, 429, "")
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			first = i
			break
		}
	}
	if first < 0 {
		t.Fatal("300 rapid submissions from one address were never limited")
	}
	if first < 20 {
		t.Errorf("limited after %d submissions; the burst is 20", first)
	}
}

func TestEventRegistration(t *testing.T) {
	ts := newTestServer(t)
	ev := ts.mustCreate(t, "events", map[string]any{"name": "Feira do Marisco", "capacity": 1, "waitlist": true, "registration_open": true, "campaign": "Autumn"})
	r := ts.public(t, "/e/"+ev+"/register", "application/json", `{"email": "brais@example.gal", "first_name": "Brais"}`, nil)
	if r.status != 201 || r.json(t)["status"] != "registered" {
		t.Fatalf("register: %d %s", r.status, r.body)
	}
	r = ts.public(t, "/e/"+ev+"/register", "application/x-www-form-urlencoded", "email=noa@example.gal", nil)
	if r.status != 201 || r.json(t)["status"] != "waitlisted" {
		t.Fatalf("second registration: %d %s", r.status, r.body)
	}
	problem(t, ts.public(t, "/e/"+ev+"/register", "application/json", `{"email": "bad"}`, nil), 422, "email")
	leads := ts.do(t, "GET", "/api/v1/leads?event_id="+ev, leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	if len(leads) != 2 || leads[0].(map[string]any)["source"] != "event" || leads[0].(map[string]any)["campaign"] != "Autumn" {
		t.Fatalf("event leads: %v", leads)
	}
	contact := leads[0].(map[string]any)["contact_id"].(string)
	r = ts.do(t, "POST", "/api/v1/events/"+ev+"/check-ins", leadcycle.RoleTelesales, map[string]any{"contact_id": contact})
	if r.status != 200 || r.json(t)["status"] != "attended" {
		t.Fatalf("check-in: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "POST", "/api/v1/events/"+ev+"/check-ins", leadcycle.RoleTelesales, map[string]any{"contact_id": "424242"}), 422, "contact_id")
	if n := len(ts.do(t, "GET", "/api/v1/interactions?type=event_attended", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)); n != 1 {
		t.Errorf("event_attended interactions = %d", n)
	}
	regs := ts.do(t, "GET", "/api/v1/events/"+ev+"/registrations", leadcycle.RoleReadonly, nil).json(t)["items"].([]any)
	if len(regs) != 2 {
		t.Errorf("registrations: %v", regs)
	}
}

// TestSubmissionsSurviveAnUnavailableDatabase makes the database refuse the
// raw submission: it is spooled, acknowledged as pending, and processed once
// the database is back.
func TestSubmissionsSurviveAnUnavailableDatabase(t *testing.T) {
	ts := newFlakyServer(t)
	form := ts.mustForm(t, nil)
	ts.flaky.fail.Store(true)
	r := ts.public(t, "/f/"+form, "application/json", `{"email": "kept@example.gal"}`, nil)
	if r.status != http.StatusAccepted || r.json(t)["status"] != "pending" {
		t.Fatalf("submission while the database is down: %d %s", r.status, r.body)
	}
	if ts.count(t, "contacts") != 0 {
		t.Fatal("contact created while the database refused submissions")
	}
	// A bot's submission during the outage is spooled too, and stays spam.
	if r := ts.public(t, "/f/"+form, "application/json", `{"email": "bot@spam.example", "_lc_hp": "x"}`, nil); r.status != 200 {
		t.Fatalf("honeypot during the outage: %d %s", r.status, r.body)
	}
	ts.flaky.fail.Store(false)
	if n := ts.web.RetrySubmissions(context.Background()); n != 1 {
		t.Fatalf("retry processed %d submissions, want 1: %s", n, ts.do(t, "GET", "/api/v1/forms/"+form+"/submissions", leadcycle.RoleAdmin, nil).body)
	}
	if ts.count(t, "contacts") != 1 || ts.count(t, "interactions") != 1 {
		t.Fatalf("spooled submission not processed")
	}
	if n := ts.web.RetrySubmissions(context.Background()); n != 0 || ts.count(t, "contacts") != 1 {
		t.Fatalf("second retry processed %d", n)
	}
	subs := ts.do(t, "GET", "/api/v1/forms/"+form+"/submissions", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	statuses := map[string]int{}
	for _, s := range subs {
		statuses[s.(map[string]any)["status"].(string)]++
	}
	if statuses["spam"] != 1 || statuses["processed"] != 1 || len(subs) != 2 {
		t.Errorf("after the outage: %v", statuses)
	}
}
