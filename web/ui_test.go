package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/password"
)

// testPassword is the password of every user made by mustUser.
const testPassword = "correct-horse-battery-staple"

// fastHash is a cheap argon2id setting for tests; the strength of the
// real one is not under test here.
var fastHash = password.Params{Memory: 8 * 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// mustUser creates an active user with a role and testPassword.
func mustUser(t *testing.T, store leadcycle.Store, email, name, role string) *leadcycle.User {
	t.Helper()
	ctx := context.Background()
	u := &leadcycle.User{Email: email, Name: name, Role: role, Active: true}
	if err := store.Users().Create(ctx, u); err != nil {
		t.Fatal(err)
	}
	h, err := password.Hash(testPassword, fastHash)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Logins().SetPassword(ctx, u.ID, h, false); err != nil {
		t.Fatal(err)
	}
	return u
}

// browserClient is a signed-in HTTP client of the pages; it does not
// follow redirects, so tests see them.
type browserClient struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string
}

// page is one answer of a page.
type pageResponse struct {
	status   int
	location string
	body     string
}

// login signs a user in through the login form.
func (ts *testServer) login(t *testing.T, email string) *browserClient {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &browserClient{t: t, base: ts.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	r := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("login of %s: %d %s", email, r.status, r.body)
	}
	home := c.get("/")
	if home.status != http.StatusOK {
		t.Fatalf("dashboard after login: %d", home.status)
	}
	return c
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches a page and remembers its CSRF token.
func (c *browserClient) get(path string) pageResponse {
	c.t.Helper()
	resp, err := c.http.Get(c.base + path)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.read(resp)
}

// post submits a form with the session's CSRF token.
func (c *browserClient) post(path string, form url.Values) pageResponse {
	c.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if c.csrf != "" && form.Get("csrf_token") == "" {
		form.Set("csrf_token", c.csrf)
	}
	req, err := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.read(resp)
}

func (c *browserClient) read(resp *http.Response) pageResponse {
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := pageResponse{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(b)}
	if m := csrfPattern.FindStringSubmatch(r.body); m != nil {
		c.csrf = m[1]
	}
	return r
}
