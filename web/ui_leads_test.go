package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// seedCount numbers the seeded records.
var seedCount int

// seedLead makes a contact, an account and a lead for it.
func seedLead(t *testing.T, ts *testServer, topic, first string, mutate func(*leadcycle.Lead)) *leadcycle.Lead {
	t.Helper()
	ctx := context.Background()
	seedCount++
	a := &leadcycle.Account{Name: "Conservas " + first, Website: fmt.Sprintf("https://account%d.example", seedCount)}
	if err := ts.store.Accounts().Create(ctx, a); err != nil {
		t.Fatal(err)
	}
	c := &leadcycle.Contact{FirstName: first, LastName: "Castro", Email: fmt.Sprintf("contact%d@account%d.example", seedCount, seedCount), AccountID: &a.ID}
	if err := ts.store.Contacts().Create(ctx, c); err != nil {
		t.Fatal(err)
	}
	l := &leadcycle.Lead{Topic: topic, ContactID: &c.ID}
	if mutate != nil {
		mutate(l)
	}
	if err := ts.store.Leads().Create(ctx, l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestPagesNeedALogin(t *testing.T) {
	ts := newTestServer(t)
	c := &browserClient{t: t, base: ts.URL, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	r := c.get("/leads?view=sales")
	if r.status != http.StatusSeeOther || r.location != "/login?next="+url.QueryEscape("/leads?view=sales") {
		t.Fatalf("anonymous /leads: %d %q", r.status, r.location)
	}
	if r := c.get("/login"); r.status != 200 || !strings.Contains(r.body, `name="password"`) {
		t.Fatalf("login page: %d", r.status)
	}
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	r = c.post("/login", url.Values{"email": {"ana@example.gal"}, "password": {"wrong-password-1"}})
	if r.status != http.StatusUnauthorized || !strings.Contains(r.body, "The email or the password is wrong") || !strings.Contains(r.body, `value="ana@example.gal"`) {
		t.Fatalf("wrong password: %d %s", r.status, r.body)
	}
	for range 5 {
		r = c.post("/login", url.Values{"email": {"ana@example.gal"}, "password": {"wrong-password-1"}})
	}
	if r.status != http.StatusTooManyRequests || !strings.Contains(r.body, "locked") {
		t.Fatalf("after 6 wrong passwords: %d", r.status)
	}
	// The lock holds for the right password too.
	if r := c.post("/login", url.Values{"email": {"ana@example.gal"}, "password": {testPassword}}); r.status != http.StatusTooManyRequests {
		t.Fatalf("right password on a locked account: %d", r.status)
	}
	// A login may only send the user on within the site.
	mustUser(t, ts.store, "bea@example.gal", "Bea", leadcycle.RoleMarketer)
	for next, want := range map[string]string{"/leads/7": "/leads/7", "//evil.example/x": "/", "https://evil.example": "/", "/\\evil.example": "/"} {
		r := c.post("/login", url.Values{"email": {"bea@example.gal"}, "password": {testPassword}, "next": {next}})
		if r.status != http.StatusSeeOther || r.location != want {
			t.Errorf("next=%q: %d → %q, want %q", next, r.status, r.location, want)
		}
	}
}

func TestLogoutAndCSRF(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	l := seedLead(t, ts, "Demo", "Uxia", nil)
	c := ts.login(t, "ana@example.gal")
	// A form without the session's CSRF token is refused and changes nothing.
	r := c.post(fmt.Sprintf("/leads/%s/flag", l.ID), url.Values{"csrf_token": {"forged"}, "flag": {"telesales_ready"}, "value": {"true"}})
	if r.status != http.StatusForbidden {
		t.Fatalf("forged CSRF: %d", r.status)
	}
	if got, _ := ts.store.Leads().Get(context.Background(), l.ID); got.TelesalesReady {
		t.Fatal("a forged form changed the lead")
	}
	if r := c.post(fmt.Sprintf("/leads/%s/flag", l.ID), url.Values{"flag": {"telesales_ready"}, "value": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("flag with the token: %d %s", r.status, r.body)
	}
	if r := c.post("/logout", nil); r.status != http.StatusSeeOther || r.location != "/login" {
		t.Fatalf("logout: %d %q", r.status, r.location)
	}
	if r := c.get("/leads"); r.status != http.StatusSeeOther {
		t.Fatalf("after logout: %d", r.status)
	}
}

// TestEveryPageChecksItsRole signs in as a role without each page's
// permission and expects 403.
func TestEveryPageChecksItsRole(t *testing.T) {
	ts := newTestServer(t)
	clients := map[string]*browserClient{}
	for _, role := range leadcycle.Roles {
		mustUser(t, ts.store, role+"@example.gal", role, role)
		clients[role] = ts.login(t, role+"@example.gal")
	}
	routes := ts.web.PageRoutes()
	if len(routes) < 5 {
		t.Fatalf("only %d page routes", len(routes))
	}
	for _, rt := range routes {
		if rt.Perm == "" {
			t.Errorf("%s %s has no permission", rt.Method, rt.Path)
			continue
		}
		path := strings.NewReplacer("{id}", "1", "{$}", "", "{key}", "telesales").Replace(rt.Path)
		for _, role := range leadcycle.Roles {
			if leadcycle.Can(role, rt.Perm) {
				continue
			}
			var r pageResponse
			if rt.Method == "GET" {
				r = clients[role].get(path)
			} else {
				clients[role].get("/")
				r = clients[role].post(path, url.Values{})
			}
			if r.status != http.StatusForbidden {
				t.Errorf("%s %s as %s: %d, want 403", rt.Method, path, role, r.status)
			}
		}
	}
}

func TestLeadPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	mustUser(t, ts.store, "sal@example.gal", "Sal", leadcycle.RoleSales)
	evil := seedLead(t, ts, `<script>alert("topic")</script>`, `<script>alert(1)</script>`, nil)
	ready := seedLead(t, ts, "Smoker", "Breixo", func(l *leadcycle.Lead) { l.SalesReady = true })
	plain := seedLead(t, ts, "Canning line", "Iria", func(l *leadcycle.Lead) { l.Campaign = "Autumn fair" })

	m := ts.login(t, "ana@example.gal")
	for _, path := range []string{"/leads", "/leads/" + evil.ID.String(), "/"} {
		r := m.get(path)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		if strings.Contains(r.body, "<script>alert") {
			t.Fatalf("%s shows user text unescaped", path)
		}
		if path != "/" && !strings.Contains(r.body, "&lt;script&gt;alert(") {
			t.Fatalf("%s does not show the escaped text", path)
		}
	}
	// Filters go to the API: only the campaign's lead is listed.
	if r := m.get("/leads?view=all&campaign=Autumn+fair&sort=topic"); !strings.Contains(r.body, "/leads/"+plain.ID.String()+`"`) || strings.Contains(r.body, "/leads/"+ready.ID.String()+`"`) {
		t.Fatal("the campaign filter does not filter")
	}
	if r := m.get("/leads?view=nonsense"); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown view: %d", r.status)
	}
	page := m.get("/leads/" + evil.ID.String())
	for _, want := range []string{`aria-current="step"`, "Inquiry", "Automated marketing qualification", "Sales acceptance", "Timeline", `Created in “Inquiry”`, "Disqualify"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("lead page lacks %q", want)
		}
	}
	// The marketer may not qualify: the page does not offer it.
	if strings.Contains(page.body, `action="/leads/`+evil.ID.String()+`/qualify"`) {
		t.Error("a marketer is offered qualify")
	}

	// A salesperson opens only sales-ready leads, in lists and pages.
	s := ts.login(t, "sal@example.gal")
	if r := s.get("/leads/" + evil.ID.String()); r.status != http.StatusForbidden || !strings.Contains(r.body, "sales-ready") {
		t.Fatalf("salesperson on a lead that is not sales ready: %d", r.status)
	}
	if r := s.get("/leads/" + ready.ID.String()); r.status != 200 {
		t.Fatalf("salesperson on a sales-ready lead: %d", r.status)
	}
	if r := s.get("/leads"); strings.Contains(r.body, "/leads/"+evil.ID.String()+`"`) || !strings.Contains(r.body, "/leads/"+ready.ID.String()+`"`) {
		t.Fatal("the salesperson's list shows leads that are not sales ready, or not the sales-ready one")
	}

	// Completing the inquiry stage with its required topic emptied is
	// refused on the form, with the field named and the typed values kept.
	r := m.post("/leads/"+plain.ID.String()+"/fields", url.Values{"stage": {"inquiry"}, "present.lead.topic": {"1"}, "lead.topic": {""}, "present.lead.contact_id": {"1"}, "lead.contact_id": {plain.ContactID.String()}, "do": {"complete"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `class="field-error"`) {
		t.Fatalf("emptying a required field: %d", r.status)
	}
	if got, _ := ts.store.Leads().Get(ctx, plain.ID); got.Topic != "Canning line" || got.Stage != "inquiry" {
		t.Fatalf("a refused form changed the lead: %+v", got)
	}
	// Saving and completing moves the lead on and shows the new stage.
	r = m.post("/leads/"+plain.ID.String()+"/fields", url.Values{"stage": {"inquiry"}, "present.lead.topic": {"1"}, "lead.topic": {"Canning line, 2 units"}, "do": {"complete"}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("complete inquiry: %d %s", r.status, r.body)
	}
	got, _ := ts.store.Leads().Get(ctx, plain.ID)
	if got.Topic != "Canning line, 2 units" || got.Stage == "inquiry" {
		t.Fatalf("after completing: topic %q stage %q", got.Topic, got.Stage)
	}
	if r := m.get(r.location); !strings.Contains(r.body, "Stage completed") {
		t.Fatal("no message after completing the stage")
	}
}

func TestPagesSpeakTheUsersLanguage(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	seedLead(t, ts, "Demo", "Uxia", nil)
	c := &browserClient{t: t, base: ts.URL, http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	req, _ := http.NewRequest("GET", ts.URL+"/login", nil)
	req.Header.Set("Accept-Language", "zh-TW,zh;q=0.9,en;q=0.5")
	resp, err := c.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.read(resp); !strings.Contains(r.body, `lang="zh-Hant"`) || !strings.Contains(r.body, "密碼") {
		t.Fatalf("Accept-Language zh-TW: %s", r.body[:200])
	}
	u := ts.login(t, "ana@example.gal")
	if r := u.post("/language", url.Values{"lang": {"gl"}, "next": {"/leads"}}); r.status != http.StatusSeeOther || r.location != "/leads" {
		t.Fatalf("language: %d %q", r.status, r.location)
	}
	r := u.get("/leads")
	if !strings.Contains(r.body, `lang="gl"`) || !strings.Contains(r.body, "Clientes potenciais") {
		t.Fatal("the Galician setting is not used")
	}
	stored, _ := ts.store.Users().List(context.Background(), leadcycle.ListQuery{Limit: 10})
	for _, us := range stored.Items {
		if us.Email == "ana@example.gal" && us.Locale != "gl" {
			t.Fatalf("the setting was not stored: %q", us.Locale)
		}
	}
	if r := u.post("/language", url.Values{"lang": {"tlh"}}); r.status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown language: %d", r.status)
	}
}

func TestUnknownPagesAnswerInKind(t *testing.T) {
	ts := newTestServer(t)
	req, _ := http.NewRequest("GET", ts.URL+"/no/such/page", nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("a browser on an unknown page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	r := ts.do(t, "GET", "/api/v1/nothing", leadcycle.RoleAdmin, nil)
	if r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("an API client on an unknown path: %d %s", r.status, r.header.Get("Content-Type"))
	}
}

func TestLeadListPages(t *testing.T) {
	ts := newTestServer(t)
	mustUser(t, ts.store, "ana@example.gal", "Ana", leadcycle.RoleMarketer)
	ctx := context.Background()
	for i := range 55 {
		if err := ts.store.Leads().Create(ctx, &leadcycle.Lead{Topic: fmt.Sprintf("Lead %02d", i), Campaign: "Spring"}); err != nil {
			t.Fatal(err)
		}
	}
	c := ts.login(t, "ana@example.gal")
	first := c.get("/leads?view=unlinked&campaign=Spring&sort=topic")
	m := regexp.MustCompile(`<a href="([^"]+)" rel="next">`).FindStringSubmatch(first.body)
	if m == nil {
		t.Fatal("no next page link")
	}
	next := html.UnescapeString(m[1])
	for _, want := range []string{"view=unlinked", "campaign=Spring", "sort=topic", "cursor="} {
		if !strings.Contains(next, want) {
			t.Fatalf("the next page link %q lacks %s", next, want)
		}
	}
	second := c.get(next)
	if !strings.Contains(first.body, "Lead 00") || strings.Contains(first.body, "Lead 54") || !strings.Contains(second.body, "Lead 54") || strings.Contains(second.body, "Lead 00") {
		t.Fatal("the second page does not continue the first")
	}
}
