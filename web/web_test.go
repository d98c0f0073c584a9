package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/sqlite"
	"github.com/leadcycle/leadcycle/web"
)

// testServer is a running API on a fresh SQLite database with one key per role.
type testServer struct {
	*httptest.Server
	store leadcycle.Store
	web   *web.Server
	keys  map[string]string // role → secret
	flaky *flakyStore
}

func newTestServer(t *testing.T) *testServer { return newTestServerWith(t, nil) }

// flakyStore refuses raw form submissions while fail is set, as a locked or
// unreachable database would.
type flakyStore struct {
	leadcycle.Store
	fail atomic.Bool
}

func (f *flakyStore) Submissions() leadcycle.SubmissionStore {
	return flakySubmissions{f.Store.Submissions(), f}
}

type flakySubmissions struct {
	leadcycle.SubmissionStore
	f *flakyStore
}

func (s flakySubmissions) SaveSubmission(ctx context.Context, sub *leadcycle.FormSubmission) (bool, error) {
	if s.f.fail.Load() {
		return false, errors.New("database is locked")
	}
	return s.SubmissionStore.SaveSubmission(ctx, sub)
}

func newFlakyServer(t *testing.T) *testServer {
	return newTestServerWith(t, func(s leadcycle.Store) *flakyStore { return &flakyStore{Store: s} })
}

func newTestServerWith(t *testing.T, wrap func(leadcycle.Store) *flakyStore) *testServer {
	t.Helper()
	ctx := context.Background()
	opened, err := sqlite.Open(ctx, t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { opened.Close() })
	var store leadcycle.Store = opened
	var flaky *flakyStore
	if wrap != nil {
		flaky = wrap(opened)
		store = flaky
	}
	ws := web.NewServer(store, web.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), KeyCacheTTL: time.Nanosecond,
		SpoolDir: t.TempDir(), PublicRate: 100, PublicBurst: 100})
	ts := &testServer{Server: httptest.NewServer(ws), store: store, web: ws, keys: map[string]string{}, flaky: flaky}
	t.Cleanup(ts.Close)
	for _, role := range leadcycle.Roles {
		ts.keys[role] = mustKey(t, store, role)
	}
	return ts
}

func mustKey(t *testing.T, store leadcycle.Store, role string) string {
	t.Helper()
	secret, prefix := leadcycle.NewAPIKeySecret()
	k := &leadcycle.APIKey{Name: role + " key", Role: role, Prefix: prefix, Hash: leadcycle.HashAPIKey(secret)}
	if err := store.APIKeys().CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return secret
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

// do sends a request; body may be nil, a string (sent as is) or a value
// (sent as JSON).
func (ts *testServer) do(t *testing.T, method, path, role string, body any) response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, ts.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if role != "" {
		req.Header.Set("Authorization", "Bearer "+ts.keys[role])
	}
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// mustCreate posts v and returns the created record's id.
func (ts *testServer) mustCreate(t *testing.T, collection string, v any) string {
	t.Helper()
	r := ts.do(t, "POST", "/api/v1/"+collection, leadcycle.RoleAdmin, v)
	if r.status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", collection, r.status, r.body)
	}
	return r.json(t)["id"].(string)
}

// problem checks that r is a problem document with the status and, when
// field is not empty, a field error naming it.
func problem(t *testing.T, r response, status int, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d: %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json", ct)
	}
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Status != status || p.Title == "" || p.Detail == "" {
		t.Fatalf("incomplete problem: %+v", p)
	}
	if field == "" {
		return
	}
	for _, e := range p.Errors {
		if e.Field == field && e.Message != "" {
			return
		}
	}
	t.Fatalf("no error for field %q in %s", field, r.body)
}

func (ts *testServer) count(t *testing.T, collection string) int {
	t.Helper()
	r := ts.do(t, "GET", "/api/v1/"+collection+"?limit=500", leadcycle.RoleAdmin, nil)
	if r.status != 200 {
		t.Fatalf("list %s: %d %s", collection, r.status, r.body)
	}
	return len(r.json(t)["items"].([]any))
}

func TestAuthentication(t *testing.T) {
	ts := newTestServer(t)
	problem(t, ts.do(t, "GET", "/api/v1/contacts", "", nil), 401, "")
	r := ts.do(t, "GET", "/api/v1/contacts", "", nil)
	if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("401 without WWW-Authenticate: %v", r.header)
	}

	ts.keys["bogus"] = "lc_notakey"
	problem(t, ts.do(t, "GET", "/api/v1/contacts", "bogus", nil), 401, "")

	if r := ts.do(t, "GET", "/api/v1/contacts", leadcycle.RoleReadonly, nil); r.status != 200 {
		t.Fatalf("valid key: %d %s", r.status, r.body)
	}
	keys, err := ts.store.APIKeys().ListAPIKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Hash == ts.keys[k.Role] || strings.Contains(k.Hash, ts.keys[k.Role]) {
			t.Fatalf("key %s stored in clear", k.Name)
		}
		if k.Hash != leadcycle.HashAPIKey(ts.keys[k.Role]) {
			t.Fatalf("key %s: stored hash is not the SHA-256 of the secret", k.Name)
		}
		if k.Role == leadcycle.RoleReadonly && k.LastUsedAt == nil {
			t.Errorf("last_used_at not recorded")
		}
		if k.Role == leadcycle.RoleReadonly {
			if err := ts.store.APIKeys().RevokeAPIKey(context.Background(), k.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	problem(t, ts.do(t, "GET", "/api/v1/contacts", leadcycle.RoleReadonly, nil), 401, "")
}

// TestEveryRouteChecksItsRole sends every API route with every role: a role
// without the route's permission must get 403, a role with it must not.
func TestEveryRouteChecksItsRole(t *testing.T) {
	ts := newTestServer(t)
	forbiddenSeen := 0
	for _, rt := range ts.web.Routes() {
		if strings.HasPrefix(rt.Path, "/api/v1/") && rt.Perm == "" {
			t.Errorf("%s %s has no role check", rt.Method, rt.Path)
		}
		if rt.Perm == "" {
			continue
		}
		path := strings.ReplaceAll(rt.Path, "{id}", "999999")
		for _, role := range leadcycle.Roles {
			r := ts.do(t, rt.Method, path, role, "{}")
			allowed := leadcycle.Can(role, rt.Perm)
			switch {
			case !allowed && r.status != http.StatusForbidden:
				t.Errorf("%s %s as %s: status %d, want 403", rt.Method, rt.Path, role, r.status)
			case !allowed:
				forbiddenSeen++
				problem(t, r, 403, "")
			case allowed && (r.status == http.StatusForbidden || r.status == http.StatusUnauthorized):
				t.Errorf("%s %s as %s: status %d, want the role to be let through", rt.Method, rt.Path, role, r.status)
			}
		}
		writes := rt.Method != "GET"
		if writes && leadcycle.Can(leadcycle.RoleReadonly, rt.Perm) {
			t.Errorf("readonly may %s %s", rt.Method, rt.Path)
		}
	}
	if forbiddenSeen == 0 {
		t.Fatal("no route refused any role")
	}
}

func TestBadInput(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"first_name": "Uxía", "email": "uxia@example.gal"})
	cases := []struct {
		name, path, body string
		status           int
		field            string
	}{
		{"malformed JSON", "/api/v1/contacts", `{"first_name": "Ana",`, 400, ""},
		{"not an object", "/api/v1/contacts", `["a"]`, 400, ""},
		{"empty body", "/api/v1/contacts", ``, 400, ""},
		{"unknown field", "/api/v1/contacts", `{"first_name": "Ana", "shoe_size": 42}`, 400, "shoe_size"},
		{"unknown nested field", "/api/v1/contacts", `{"email": "a@b.es", "consent": {"sms": "granted"}}`, 400, "consent.sms"},
		{"wrong type", "/api/v1/contacts", `{"first_name": 42}`, 400, "first_name"},
		{"wrong nested type", "/api/v1/contacts", `{"email": "a@b.es", "consent": {"tracking": true}}`, 400, "consent.tracking"},
		{"id as number", "/api/v1/leads", `{"topic": "x", "contact_id": 12}`, 400, "contact_id"},
		{"bad time", "/api/v1/tasks", `{"title": "Call", "queue": "telesales", "due_at": "tomorrow"}`, 400, "due_at"},
		{"read-only field", "/api/v1/contacts", `{"id": "5", "email": "a@b.es"}`, 400, "id"},
		{"invalid email", "/api/v1/contacts", `{"email": "not-an-email"}`, 422, "email"},
		{"NUL character", "/api/v1/contacts", `{"first_name": "A\u0000da"}`, 422, "first_name"},
		{"invalid enum", "/api/v1/leads", `{"topic": "x", "status": "maybe"}`, 422, "status"},
		{"disqualified without reason", "/api/v1/leads", `{"topic": "x", "status": "disqualified"}`, 422, "status_reason"},
		{"missing required", "/api/v1/accounts", `{"website": "https://example.com"}`, 422, "name"},
		{"missing contact", "/api/v1/leads", `{"topic": "Demo", "contact_id": "987654"}`, 422, "contact_id"},
		{"missing account", "/api/v1/contacts", `{"email": "b@c.es", "account_id": "987654"}`, 422, "account_id"},
		{"interaction without contact", "/api/v1/interactions", `{"type": "page_view"}`, 422, "contact_id"},
		{"undeclared custom field", "/api/v1/contacts", `{"email": "c@d.es", "custom": {"tier": "gold"}}`, 422, "custom.tier"},
		{"patch wrong type", "/api/v1/contacts/" + contact, `{"phone": false}`, 400, "phone"},
		{"patch invalid email", "/api/v1/contacts/" + contact, `{"email": "x@"}`, 422, "email"},
		{"patch missing account", "/api/v1/contacts/" + contact, `{"account_id": "424242"}`, 422, "account_id"},
		{"patch read-only", "/api/v1/contacts/" + contact, `{"created_at": "2020-01-01T00:00:00Z"}`, 400, "created_at"},
	}
	before := map[string]int{}
	for _, c := range []string{"contacts", "leads", "accounts", "tasks", "interactions"} {
		before[c] = ts.count(t, c)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := "POST"
			if strings.Count(c.path, "/") == 4 {
				method = "PATCH"
			}
			problem(t, ts.do(t, method, c.path, leadcycle.RoleAdmin, c.body), c.status, c.field)
		})
	}
	for c, n := range before {
		if got := ts.count(t, c); got != n {
			t.Errorf("%s: %d records after rejected writes, want %d", c, got, n)
		}
	}
	r := ts.do(t, "GET", "/api/v1/contacts/"+contact, leadcycle.RoleAdmin, nil)
	if got := r.json(t)["email"]; got != "uxia@example.gal" {
		t.Errorf("rejected patches changed the contact: email = %v", got)
	}

	t.Run("10 MB body", func(t *testing.T) {
		big := `{"first_name": "` + strings.Repeat("a", 10<<20) + `"}`
		problem(t, ts.do(t, "POST", "/api/v1/contacts", leadcycle.RoleAdmin, big), 413, "")
		if got := ts.count(t, "contacts"); got != before["contacts"] {
			t.Errorf("oversized body wrote a contact")
		}
	})
	t.Run("wrong content type", func(t *testing.T) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/contacts", strings.NewReader("email=a@b.es"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+ts.keys[leadcycle.RoleAdmin])
		res, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 415 {
			t.Errorf("status = %d, want 415", res.StatusCode)
		}
	})
	t.Run("bad list parameters", func(t *testing.T) {
		problem(t, ts.do(t, "GET", "/api/v1/leads?status=maybe", leadcycle.RoleAdmin, nil), 422, "status")
		problem(t, ts.do(t, "GET", "/api/v1/leads?colour=red", leadcycle.RoleAdmin, nil), 422, "colour")
		problem(t, ts.do(t, "GET", "/api/v1/leads?sort=-shoe", leadcycle.RoleAdmin, nil), 422, "sort")
		problem(t, ts.do(t, "GET", "/api/v1/leads?limit=0", leadcycle.RoleAdmin, nil), 422, "limit")
		problem(t, ts.do(t, "GET", "/api/v1/leads?cursor=garbage", leadcycle.RoleAdmin, nil), 422, "cursor")
		problem(t, ts.do(t, "GET", "/api/v1/leads?updated_since=yesterday", leadcycle.RoleAdmin, nil), 422, "updated_since")
		problem(t, ts.do(t, "GET", "/api/v1/leads?contact_id=abc", leadcycle.RoleAdmin, nil), 422, "contact_id")
	})
	t.Run("unknown paths and methods", func(t *testing.T) {
		problem(t, ts.do(t, "GET", "/api/v1/nothing", leadcycle.RoleAdmin, nil), 404, "")
		problem(t, ts.do(t, "GET", "/api/v1/contacts/abc", leadcycle.RoleAdmin, nil), 404, "")
		problem(t, ts.do(t, "GET", "/api/v1/contacts/123456", leadcycle.RoleAdmin, nil), 404, "")
		r := ts.do(t, "PUT", "/api/v1/contacts/"+contact, leadcycle.RoleAdmin, "{}")
		problem(t, r, 405, "")
		if !strings.Contains(r.header.Get("Allow"), "PATCH") {
			t.Errorf("Allow = %q", r.header.Get("Allow"))
		}
		problem(t, ts.do(t, "PATCH", "/api/v1/interactions/1", leadcycle.RoleAdmin, "{}"), 405, "")
	})
}

func TestRecordsThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Conservas Rías Baixas", "website": "https://www.riasbaixas.gal", "country": "es", "employees": 40})
	r := ts.do(t, "GET", "/api/v1/accounts/"+acc, leadcycle.RoleReadonly, nil)
	a := r.json(t)
	if a["domain"] != "riasbaixas.gal" || a["country"] != "ES" || a["employees"] != float64(40) {
		t.Fatalf("account: %s", r.body)
	}

	ts.mustCreate(t, "fields", map[string]any{"entity": "contact", "name": "tier", "type": "choice", "choices": []string{"gold", "silver"}})
	ts.mustCreate(t, "fields", map[string]any{"entity": "contact", "name": "visits", "type": "number"})
	r = ts.do(t, "POST", "/api/v1/contacts", leadcycle.RoleMarketer, map[string]any{
		"first_name": "陳", "last_name": "怡君", "email": " YiJun.Chen@Example.COM.tw ", "account_id": acc,
		"consent": map[string]any{"commercial_email": "granted"}, "custom": map[string]any{"tier": "gold", "visits": 3},
	})
	if r.status != 201 {
		t.Fatalf("create contact: %d %s", r.status, r.body)
	}
	c := r.json(t)
	cid := c["id"].(string)
	if r.header.Get("Location") != "/api/v1/contacts/"+cid {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	if c["email"] != "yijun.chen@example.com.tw" || c["origin"] != "api" || c["consent"].(map[string]any)["tracking"] != "unknown" {
		t.Errorf("contact not normalised: %s", r.body)
	}
	if _, err := time.Parse(time.RFC3339, c["created_at"].(string)); err != nil {
		t.Errorf("created_at is not RFC 3339: %v", c["created_at"])
	}

	// PATCH is a merge patch: untouched fields stay, custom merges, null clears.
	r = ts.do(t, "PATCH", "/api/v1/contacts/"+cid, leadcycle.RoleSales, `{"job_title": "CTO", "custom": {"visits": 4, "tier": null}}`)
	if r.status != 200 {
		t.Fatalf("patch: %d %s", r.status, r.body)
	}
	c = r.json(t)
	if c["job_title"] != "CTO" || c["first_name"] != "陳" || c["account_id"] != acc {
		t.Errorf("patch lost fields: %s", r.body)
	}
	if custom := c["custom"].(map[string]any); custom["visits"] != float64(4) || custom["tier"] != nil || len(custom) != 1 {
		t.Errorf("custom merge: %v", custom)
	}
	r = ts.do(t, "PATCH", "/api/v1/contacts/"+cid, leadcycle.RoleSales, `{"account_id": null}`)
	if r.json(t)["account_id"] != nil {
		t.Errorf("null did not clear account_id: %s", r.body)
	}

	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Demo of the canning line", "contact_id": cid, "campaign": "Autumn fair"})
	problem(t, ts.do(t, "GET", "/api/v1/leads/"+lead, leadcycle.RoleTelesales, nil), 403, "")
	r = ts.do(t, "GET", "/api/v1/leads/"+lead, leadcycle.RoleSalesManager, nil)
	l := r.json(t)
	if l["status"] != "open" || l["status_reason"] != "new" || l["stage"] != "inquiry" || l["source"] != "api" || l["sales_ready"] != false {
		t.Errorf("lead defaults: %s", r.body)
	}
	if scores, ok := l["scores"].([]any); !ok || len(scores) != 0 {
		t.Errorf("scores = %v, want []", l["scores"])
	}
	orphan := ts.mustCreate(t, "leads", map[string]any{"topic": "Walk-in", "source": "manual"})
	r = ts.do(t, "PATCH", "/api/v1/leads/"+lead, leadcycle.RoleMarketer, map[string]any{"telesales_ready": true})
	if l := r.json(t); r.status != 200 || l["telesales_ready"] != true || l["stage"] != "telesales_acceptance" {
		t.Errorf("telesales ready: %s", r.body)
	}
	r = ts.do(t, "PATCH", "/api/v1/leads/"+lead, leadcycle.RoleTelesales, map[string]any{"status_reason": "cannot_contact"})
	if l := r.json(t); l["status"] != "disqualified" || l["status_reason"] != "cannot_contact" {
		t.Errorf("reason did not set status: %s", r.body)
	}

	ids := func(path string) []string {
		t.Helper()
		r := ts.do(t, "GET", path, leadcycle.RoleReadonly, nil)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		var out []string
		for _, it := range r.json(t)["items"].([]any) {
			out = append(out, it.(map[string]any)["id"].(string))
		}
		return out
	}
	if got := ids("/api/v1/leads?has_parent=false"); !slices.Equal(got, []string{orphan}) {
		t.Errorf("has_parent=false: %v, want [%s]", got, orphan)
	}
	if got := ids("/api/v1/leads?status=disqualified&contact_id=" + cid); !slices.Equal(got, []string{lead}) {
		t.Errorf("status+contact filter: %v", got)
	}
	if got := ids("/api/v1/leads?source=manual&sales_ready=false"); !slices.Equal(got, []string{orphan}) {
		t.Errorf("source filter: %v", got)
	}
	if got := ids("/api/v1/leads?sort=-created_at"); !slices.Equal(got, []string{orphan, lead}) {
		t.Errorf("descending sort: %v", got)
	}
	if got := ids("/api/v1/contacts?email=YIJUN.CHEN@example.com.tw"); !slices.Equal(got, []string{cid}) {
		t.Errorf("email filter: %v", got)
	}

	ts.mustCreate(t, "interactions", map[string]any{"type": "email_opened", "contact_id": cid, "lead_id": lead, "properties": map[string]any{"email_id": "42"}})
	ts.mustCreate(t, "tasks", map[string]any{"title": "Call back", "kind": "call", "queue": "telesales", "lead_id": lead, "due_at": "2026-12-01T10:00:00Z"})
	ts.mustCreate(t, "opportunities", map[string]any{"name": "Canning line", "lead_id": lead, "estimated_value": 125000.5, "currency": "eur"})

	if r := ts.do(t, "DELETE", "/api/v1/contacts/"+cid, leadcycle.RoleMarketer, nil); r.status != 204 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/contacts/"+cid, leadcycle.RoleAdmin, nil), 404, "")
	if got := ids("/api/v1/interactions?contact_id=" + cid); len(got) != 0 {
		t.Errorf("interactions of a deleted contact remain: %v", got)
	}
	if r := ts.do(t, "GET", "/api/v1/leads/"+lead, leadcycle.RoleAdmin, nil); r.json(t)["contact_id"] != nil {
		t.Errorf("lead still points at the deleted contact: %s", r.body)
	}
	problem(t, ts.do(t, "DELETE", "/api/v1/contacts/"+cid, leadcycle.RoleAdmin, nil), 404, "")
}

func TestPaginationThroughTheAPI(t *testing.T) {
	ts := newTestServer(t)
	want := map[string]bool{}
	for i := range 23 {
		want[ts.mustCreate(t, "contacts", map[string]any{"email": fmt.Sprintf("p%d@example.com", i)})] = true
	}
	seen := map[string]bool{}
	cursor := ""
	pages := 0
	for {
		path := "/api/v1/contacts?limit=5&sort=-created_at"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := ts.do(t, "GET", path, leadcycle.RoleReadonly, nil)
		page := r.json(t)
		for _, it := range page["items"].([]any) {
			id := it.(map[string]any)["id"].(string)
			if seen[id] {
				t.Fatalf("id %s on two pages", id)
			}
			seen[id] = true
		}
		pages++
		// A record created while paging must not disturb the pages.
		if pages == 2 {
			ts.mustCreate(t, "contacts", map[string]any{"email": "late@example.com"})
		}
		cursor, _ = page["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	if pages != 5 || len(seen) != 23 {
		t.Fatalf("pages = %d, seen = %d; want 5 pages and 23 contacts", pages, len(seen))
	}
	for id := range want {
		if !seen[id] {
			t.Errorf("contact %s never listed", id)
		}
	}
	problem(t, ts.do(t, "GET", "/api/v1/contacts?limit=5&sort=created_at&cursor="+func() string {
		r := ts.do(t, "GET", "/api/v1/contacts?limit=5&sort=-created_at", leadcycle.RoleReadonly, nil)
		return r.json(t)["next_cursor"].(string)
	}(), leadcycle.RoleReadonly, nil), 422, "cursor")
}

func TestHealthMetricsAndRequestID(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(t, "GET", "/healthz", "", nil)
	if r.status != 200 || r.json(t)["status"] != "ok" {
		t.Fatalf("healthz: %d %s", r.status, r.body)
	}
	ts.do(t, "GET", "/api/v1/leads", leadcycle.RoleReadonly, nil)
	r = ts.do(t, "GET", "/metrics", "", nil)
	if !strings.Contains(string(r.body), `leadcycle_http_requests_total{code="200",route="GET /api/v1/leads"} 1`) {
		t.Errorf("request counter by route missing from metrics:\n%s", r.body)
	}
	if !strings.Contains(string(r.body), `leadcycle_http_request_duration_seconds_bucket{route="GET /api/v1/leads"`) {
		t.Errorf("latency histogram missing")
	}
	req, _ := http.NewRequest("GET", ts.URL+"/api/v1/leads", nil)
	req.Header.Set("X-Request-ID", "trace-123")
	res, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.Header.Get("X-Request-ID") != "trace-123" {
		t.Errorf("request id not echoed: %q", res.Header.Get("X-Request-ID"))
	}
	var p web.Problem
	r = ts.do(t, "GET", "/api/v1/leads", "", nil)
	json.Unmarshal(r.body, &p)
	if p.RequestID == "" || p.RequestID != r.header.Get("X-Request-ID") {
		t.Errorf("problem request_id %q, header %q", p.RequestID, r.header.Get("X-Request-ID"))
	}
}
