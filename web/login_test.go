package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/password"
	"github.com/leadcycle/leadcycle/web"
)

// browser is a client with a cookie jar, as a browser is.
type browser struct {
	t    *testing.T
	ts   *testServer
	c    *http.Client
	csrf string
}

func newBrowser(t *testing.T, ts *testServer) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, ts: ts, c: &http.Client{Jar: jar}}
}

func (b *browser) do(method, path string, body any, headers map[string]string) response {
	b.t.Helper()
	var rd io.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, b.ts.URL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: out}
}

func (b *browser) login(email, pw string) response {
	b.t.Helper()
	r := b.do("POST", "/auth/login", map[string]string{"email": email, "password": pw}, nil)
	if r.status == 200 {
		b.csrf = r.json(b.t)["csrf_token"].(string)
	}
	return r
}

// mustUserWithPassword creates an active user with a password.
func mustUserWithPassword(t *testing.T, ts *testServer, email, role, pw string) leadcycle.ID {
	t.Helper()
	u := &leadcycle.User{Name: "Test " + role, Email: email, Role: role, Active: true}
	if err := ts.store.Users().Create(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	h, err := password.Hash(pw, password.Default)
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.store.Logins().SetPassword(context.Background(), u.ID, h, false); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestLoginSessionAndCSRF(t *testing.T) {
	ts := newTestServer(t)
	mustUserWithPassword(t, ts, "maria@example.gal", leadcycle.RoleMarketer, "unha frase longa de abondo")
	b := newBrowser(t, ts)

	problem(t, b.do("GET", "/api/v1/contacts", nil, nil), 401, "")
	problem(t, b.login("maria@example.gal", "wrong password here"), 401, "")
	problem(t, b.login("nobody@example.gal", "unha frase longa de abondo"), 401, "")
	problem(t, b.login("", ""), 422, "email")

	r := b.login("MARIA@example.gal", "unha frase longa de abondo")
	if r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{web.SessionCookie + "=", "HttpOnly", "SameSite=Lax", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if u := r.json(t)["user"].(map[string]any); u["email"] != "maria@example.gal" || u["password_hash"] != nil {
		t.Errorf("login answer = %s", r.body)
	}
	schemas := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)["components"].(map[string]any)["schemas"].(map[string]any)
	conforms(t, schemas, "Session", r.json(t), "POST /auth/login")
	// Reads work with the cookie alone; writes need the CSRF token.
	if r := b.do("GET", "/api/v1/contacts", nil, nil); r.status != 200 {
		t.Fatalf("list as a session: %d %s", r.status, r.body)
	}
	problem(t, b.do("POST", "/api/v1/contacts", map[string]string{"email": "a@example.gal"}, nil), 403, "")
	problem(t, b.do("POST", "/api/v1/contacts", map[string]string{"email": "a@example.gal"}, map[string]string{web.CSRFHeader: "forged"}), 403, "")
	created := b.do("POST", "/api/v1/contacts", map[string]string{"email": "a@example.gal"}, map[string]string{web.CSRFHeader: b.csrf})
	if created.status != 201 {
		t.Fatalf("create as a session: %d %s", created.status, created.body)
	}
	// The user's role applies: a marketer may not write users.
	problem(t, b.do("POST", "/api/v1/users", map[string]any{"name": "X", "email": "x@example.gal", "role": "sales"}, map[string]string{web.CSRFHeader: b.csrf}), 403, "")
	// Writes made in a session name the user.
	lead := b.do("POST", "/api/v1/leads", map[string]any{"topic": "From the browser", "contact_id": created.json(t)["id"]}, map[string]string{web.CSRFHeader: b.csrf})
	timeline := ts.do(t, "GET", "/api/v1/leads/"+lead.json(t)["id"].(string)+"/timeline", leadcycle.RoleAdmin, nil).json(t)["items"].([]any)
	if actor := timeline[len(timeline)-1].(map[string]any)["actor"].(string); !strings.Contains(actor, "maria@example.gal") {
		t.Errorf("actor = %q", actor)
	}
	if s := b.do("GET", "/auth/session", nil, nil).json(t); s["csrf_token"] != b.csrf {
		t.Errorf("session = %v", s)
	}
	problem(t, b.do("POST", "/auth/logout", nil, nil), 403, "")
	if r := b.do("POST", "/auth/logout", nil, map[string]string{web.CSRFHeader: b.csrf}); r.status != 204 {
		t.Fatalf("logout: %d %s", r.status, r.body)
	}
	problem(t, b.do("GET", "/api/v1/contacts", nil, nil), 401, "")
	problem(t, b.do("GET", "/auth/session", nil, nil), 401, "")
}

func TestLoginLockout(t *testing.T) {
	ts := newTestServer(t)
	mustUserWithPassword(t, ts, "xoan@example.gal", leadcycle.RoleSales, "outra frase longa de abondo")
	b := newBrowser(t, ts)
	for i := 1; i < leadcycle.MaxLoginFailures; i++ {
		problem(t, b.login("xoan@example.gal", "not the password"), 401, "")
	}
	problem(t, b.login("xoan@example.gal", "not the password"), 429, "")
	// Locked: even the right password is refused until the lock ends.
	problem(t, b.login("xoan@example.gal", "outra frase longa de abondo"), 429, "")
}

func TestSetPassword(t *testing.T) {
	ts := newTestServer(t)
	id := mustUserWithPassword(t, ts, "ana@example.gal", leadcycle.RoleTelesales, "a primeira frase longa")
	old := newBrowser(t, ts)
	if r := old.login("ana@example.gal", "a primeira frase longa"); r.status != 200 {
		t.Fatalf("login: %d %s", r.status, r.body)
	}
	path := "/api/v1/users/" + id.String() + "/password"
	problem(t, ts.do(t, "POST", path, leadcycle.RoleSalesManager, map[string]string{"password": "a segunda frase longa"}), 403, "")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]string{"password": "short"}), 422, "password")
	problem(t, ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]string{"password": "ana@example.gal"}), 422, "password")
	problem(t, ts.do(t, "POST", "/api/v1/users/999/password", leadcycle.RoleAdmin, map[string]string{"password": "a segunda frase longa"}), 404, "")
	if r := ts.do(t, "POST", path, leadcycle.RoleAdmin, map[string]string{"password": "a segunda frase longa"}); r.status != 204 {
		t.Fatalf("set password: %d %s", r.status, r.body)
	}
	problem(t, old.do("GET", "/api/v1/contacts", nil, nil), 401, "") // its sessions ended
	problem(t, newBrowser(t, ts).login("ana@example.gal", "a primeira frase longa"), 401, "")
	if r := newBrowser(t, ts).login("ana@example.gal", "a segunda frase longa"); r.status != 200 {
		t.Errorf("login with the new password: %d %s", r.status, r.body)
	}
}
