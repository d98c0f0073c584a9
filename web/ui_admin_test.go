package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// adminTryLogin posts the login form with a password and tells whether it
// opened a session.
func adminTryLogin(t *testing.T, ts *testServer, email, pw string) bool {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &browserClient{t: t, base: ts.URL, http: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	r := c.post("/login", url.Values{"email": {email}, "password": {pw}})
	return r.status == http.StatusSeeOther && c.get("/").status == http.StatusOK
}

// adminUserByEmail finds a stored user.
func adminUserByEmail(t *testing.T, ts *testServer, email string) *leadcycle.User {
	t.Helper()
	page, err := ts.store.Users().List(context.Background(), leadcycle.ListQuery{Limit: leadcycle.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range page.Items {
		if u.Email == email {
			return &u
		}
	}
	return nil
}

func TestAdminPagesAreForAdmins(t *testing.T) {
	ts := newTestServer(t)
	for _, role := range []string{leadcycle.RoleSales, leadcycle.RoleMarketer, leadcycle.RoleSalesManager} {
		mustUser(t, ts.store, role+"@example.gal", role, role)
		c := ts.login(t, role+"@example.gal")
		for _, path := range []string{"/admin/users", "/admin/api-keys"} {
			if r := c.get(path); r.status != http.StatusForbidden {
				t.Errorf("%s on %s: %d, want 403", role, path, r.status)
			}
		}
		if r := c.get("/"); strings.Contains(r.body, `href="/admin/users"`) {
			t.Errorf("the menu offers the administration to %s", role)
		}
		before := ts.count(t, "users")
		if r := c.post("/admin/users", url.Values{"name": {"Mallory"}, "email": {"m@example.gal"}, "role": {"admin"}, "password": {"a-long-enough-passphrase"}}); r.status != http.StatusForbidden {
			t.Errorf("%s creating a user: %d", role, r.status)
		}
		if ts.count(t, "users") != before {
			t.Errorf("%s created a user", role)
		}
	}
}

func TestAdminUsersPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	admin := mustUser(t, ts.store, "admin@example.gal", "Admin", leadcycle.RoleAdmin)
	evil := mustUser(t, ts.store, "evil@example.gal", "<script>alert(1)</script>", leadcycle.RoleTelesales)
	a := ts.login(t, "admin@example.gal")

	r := a.get("/admin/users")
	if r.status != 200 {
		t.Fatalf("/admin/users: %d", r.status)
	}
	checkAccessible(t, "/admin/users", r.body)
	if strings.Contains(r.body, "<script>alert") || !strings.Contains(r.body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatal("a user's name is not escaped")
	}
	for _, want := range []string{"Telesales", "Administrator", `href="/admin/api-keys"`, `aria-current="page"`, `action="/admin/users/` + evil.ID.String() + `/role"`, "As the browser"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("users page lacks %q", want)
		}
	}
	// An admin is not offered to demote or deactivate themselves.
	if strings.Contains(r.body, `action="/admin/users/`+admin.ID.String()+`/role"`) {
		t.Error("the admin is offered to change their own role")
	}

	// A weak password is refused on the form, nothing is created, and the
	// other values stay.
	r = a.post("/admin/users", url.Values{"name": {"Iria Souto"}, "email": {"iria@example.gal"}, "role": {"sales"}, "password": {"short"}})
	if r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="u-password-err"`) || !strings.Contains(r.body, `value="iria@example.gal"`) || !strings.Contains(r.body, `value="Iria Souto"`) {
		t.Fatalf("weak password: %d", r.status)
	}
	if adminUserByEmail(t, ts, "iria@example.gal") != nil {
		t.Fatal("a refused form created the user")
	}
	// A wrong email is the API's problem, named on its field.
	if r := a.post("/admin/users", url.Values{"name": {"Iria"}, "email": {"not-an-email"}, "role": {"sales"}, "password": {"rias-baixas-sardines-2026"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="u-email-err"`) {
		t.Fatalf("wrong email: %d", r.status)
	}
	if n := ts.count(t, "users"); n != 2 {
		t.Fatalf("%d users after refused forms", n)
	}

	// Creating a user through the page lets that user log in.
	const pw = "rias-baixas-sardines-2026"
	r = a.post("/admin/users", url.Values{"name": {"Iria Souto"}, "email": {"Iria@Example.gal"}, "role": {"sales"}, "locale": {"gl"}, "password": {pw}})
	if r.status != http.StatusSeeOther || r.location != "/admin/users" {
		t.Fatalf("create user: %d %s", r.status, r.body)
	}
	if r := a.get(r.location); !strings.Contains(r.body, "User Iria Souto created") || !strings.Contains(r.body, "Galego") {
		t.Error("no message after creating the user, or no language")
	}
	iria := adminUserByEmail(t, ts, "iria@example.gal")
	if iria == nil || iria.Role != leadcycle.RoleSales || !iria.Active || iria.Locale != "gl" {
		t.Fatalf("created user: %+v", iria)
	}
	if !adminTryLogin(t, ts, "iria@example.gal", pw) {
		t.Fatal("the created user cannot log in")
	}
	// The same email again is refused.
	if r := a.post("/admin/users", url.Values{"name": {"Iria 2"}, "email": {"iria@example.gal"}, "role": {"sales"}, "password": {pw}}); r.status < 400 || r.status == http.StatusInternalServerError {
		t.Fatalf("duplicate email: %d", r.status)
	}

	id := iria.ID.String()
	// Change the role.
	if r := a.post("/admin/users/"+id+"/role", url.Values{"role": {"sales_manager"}}); r.status != http.StatusSeeOther {
		t.Fatalf("change role: %d %s", r.status, r.body)
	}
	if u, _ := ts.store.Users().Get(ctx, iria.ID); u.Role != leadcycle.RoleSalesManager {
		t.Fatalf("role after change: %s", u.Role)
	}
	if r := a.post("/admin/users/"+id+"/role", url.Values{"role": {"boss"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="role-`+id+`-err"`) {
		t.Fatalf("unknown role: %d", r.status)
	}
	// Set a new password: the old one stops working.
	if r := a.post("/admin/users/"+id+"/password", url.Values{"password": {"1234"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="pw-`+id+`-err"`) {
		t.Fatalf("weak new password: %d", r.status)
	}
	const pw2 = "lighthouse-of-hercules-99"
	if r := a.post("/admin/users/"+id+"/password", url.Values{"password": {pw2}}); r.status != http.StatusSeeOther {
		t.Fatalf("set password: %d %s", r.status, r.body)
	}
	if adminTryLogin(t, ts, "iria@example.gal", pw) || !adminTryLogin(t, ts, "iria@example.gal", pw2) {
		t.Fatal("after setting a password: the old one works or the new one does not")
	}
	// Deactivate: the user can no longer log in; activate again.
	if r := a.post("/admin/users/"+id+"/active", url.Values{"active": {"false"}}); r.status != http.StatusSeeOther {
		t.Fatalf("deactivate: %d %s", r.status, r.body)
	}
	if u, _ := ts.store.Users().Get(ctx, iria.ID); u.Active {
		t.Fatal("the user is still active")
	}
	if adminTryLogin(t, ts, "iria@example.gal", pw2) {
		t.Fatal("a deactivated user logs in")
	}
	if r := a.get("/admin/users"); !strings.Contains(r.body, "Deactivated") {
		t.Error("the list does not show the deactivated user")
	}
	if r := a.post("/admin/users/"+id+"/active", url.Values{"active": {"true"}}); r.status != http.StatusSeeOther {
		t.Fatalf("activate: %d", r.status)
	}
	if !adminTryLogin(t, ts, "iria@example.gal", pw2) {
		t.Fatal("a reactivated user cannot log in")
	}
	// An admin may not deactivate or demote themselves.
	self := admin.ID.String()
	if r := a.post("/admin/users/"+self+"/active", url.Values{"active": {"false"}}); r.status != http.StatusConflict {
		t.Fatalf("deactivating oneself: %d", r.status)
	}
	if r := a.post("/admin/users/"+self+"/role", url.Values{"role": {"readonly"}}); r.status != http.StatusConflict {
		t.Fatalf("demoting oneself: %d", r.status)
	}
	if u, _ := ts.store.Users().Get(ctx, admin.ID); !u.Active || u.Role != leadcycle.RoleAdmin {
		t.Fatalf("the admin changed themselves: %+v", u)
	}
	if r := a.post("/admin/users/999999/role", url.Values{"role": {"sales"}}); r.status != http.StatusNotFound {
		t.Fatalf("unknown user: %d", r.status)
	}
}

var adminSecretPattern = regexp.MustCompile(`id="new-key-secret"[^>]*value="([^"]+)"`)

func TestAdminAPIKeysPage(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()
	mustUser(t, ts.store, "admin@example.gal", "Admin", leadcycle.RoleAdmin)
	a := ts.login(t, "admin@example.gal")

	r := a.get("/admin/api-keys")
	if r.status != 200 {
		t.Fatalf("/admin/api-keys: %d", r.status)
	}
	checkAccessible(t, "/admin/api-keys", r.body)
	if !strings.Contains(r.body, `href="/admin/users"`) {
		t.Error("no tab to the users")
	}
	// A key without a name is refused on the form.
	if r := a.post("/admin/api-keys", url.Values{"name": {""}, "role": {"marketer"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="k-name-err"`) {
		t.Fatalf("key without a name: %d", r.status)
	}
	if r := a.post("/admin/api-keys", url.Values{"name": {"x"}, "role": {"root"}}); r.status != http.StatusUnprocessableEntity || !strings.Contains(r.body, `id="k-role-err"`) || !strings.Contains(r.body, `value="x"`) {
		t.Fatalf("key with a wrong role: %d", r.status)
	}

	// Creating shows the secret once, with a copy button and a warning.
	r = a.post("/admin/api-keys", url.Values{"name": {"Website <forms>"}, "role": {"marketer"}})
	if r.status != http.StatusCreated {
		t.Fatalf("create key: %d %s", r.status, r.body)
	}
	checkAccessible(t, "new key", r.body)
	m := adminSecretPattern.FindStringSubmatch(r.body)
	if m == nil || !strings.HasPrefix(m[1], leadcycle.APIKeyPrefix) {
		t.Fatal("the page does not show the new secret")
	}
	secret := m[1]
	if !strings.Contains(r.body, `data-copy="new-key-secret"`) || !strings.Contains(r.body, "shown only this once") || !strings.Contains(r.body, "Website &lt;forms&gt;") || strings.Contains(r.body, "Website <forms>") {
		t.Fatal("no copy button, no warning, or the name is not escaped")
	}
	if r := a.get("/admin/api-keys"); strings.Contains(r.body, secret) || !strings.Contains(r.body, "Website &lt;forms&gt;") || !strings.Contains(r.body, "Never") {
		t.Fatal("the secret is shown again, or the key is not listed")
	}
	// The key works, with its role.
	call := func() int {
		req, _ := http.NewRequest("GET", ts.URL+"/api/v1/contacts", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := call(); st != 200 {
		t.Fatalf("the new key: %d", st)
	}
	keys, _ := ts.store.APIKeys().ListAPIKeys(ctx)
	var id string
	for _, k := range keys {
		if k.Name == "Website <forms>" && k.Role == leadcycle.RoleMarketer {
			id = k.ID.String()
		}
	}
	if id == "" {
		t.Fatal("the key is not stored")
	}
	// Revoking stops it at once.
	r = a.post("/admin/api-keys/"+id+"/revoke", nil)
	if r.status != http.StatusSeeOther {
		t.Fatalf("revoke: %d %s", r.status, r.body)
	}
	if st := call(); st != http.StatusUnauthorized {
		t.Fatalf("a revoked key: %d", st)
	}
	if r := a.get(r.location); !strings.Contains(r.body, "is revoked") || !strings.Contains(r.body, "Revoked ") || strings.Contains(r.body, `action="/admin/api-keys/`+id+`/revoke"`) {
		t.Fatal("the list does not show the key as revoked")
	}
	if r := a.post("/admin/api-keys/999999/revoke", nil); r.status != http.StatusNotFound {
		t.Fatalf("revoking an unknown key: %d", r.status)
	}
}
