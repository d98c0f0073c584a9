package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/password"
)

// The administration pages, for admins only: the users (create, change the
// role, deactivate, set a password) and the API keys (create, showing the
// secret once, and revoke). Every change goes through the API.

func (s *Server) registerAdminPages() {
	users := leadcycle.Perm("users", leadcycle.ActionWrite)
	s.handlePage("GET", "/admin/users", users, s.adminUsersPage)
	s.handlePage("POST", "/admin/users", users, s.adminUserCreate)
	s.handlePage("POST", "/admin/users/{id}/active", users, s.adminUserActive)
	s.handlePage("POST", "/admin/users/{id}/role", users, s.adminUserRole)
	s.handlePage("POST", "/admin/users/{id}/password", leadcycle.Perm("users", "set_password"), s.adminUserPassword)
	keys := leadcycle.Perm("api-keys", leadcycle.ActionWrite)
	s.handlePage("GET", "/admin/api-keys", keys, s.adminKeysPage)
	s.handlePage("POST", "/admin/api-keys", keys, s.adminKeyCreate)
	s.handlePage("POST", "/admin/api-keys/{id}/revoke", keys, s.adminKeyRevoke)
}

// adminLocales are the language settings a user may have, "" following
// the browser; languages are named in their own language.
var adminLocales = []string{"", "en", "gl", "zh-Hant"}

var localeNames = map[string]string{"en": "English", "gl": "Galego", "zh-Hant": "繁體中文"}

// adminUsersData is the users page.
type adminUsersData struct {
	Users   []leadcycle.User
	Roles   []string
	Locales []string
	// MinPassword is the shortest password accepted.
	MinPassword int
	NextCursor  string
	Paged       bool
	// Row is the user whose form failed, RowField its field.
	Row, RowField, RowError string
}

// NextURL is the link of the next page of users.
func (d *adminUsersData) NextURL() string { return pageURL("/admin/users", nil, d.NextCursor) }

// LocaleName names a language setting in its own language.
func (d *adminUsersData) LocaleName(locale string) string { return localeNames[locale] }

func (s *Server) loadAdminUsers(r *http.Request, p *page) (*adminUsersData, error) {
	d := &adminUsersData{Roles: leadcycle.Roles, Locales: adminLocales, MinPassword: password.MinLength}
	q := url.Values{"sort": {"name"}, "limit": {"100"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
		d.Paged = true
	}
	var res leadcycle.Page[leadcycle.User]
	if err := s.api(r, p, "GET", "/api/v1/users?"+q.Encode(), nil, &res); err != nil {
		return nil, err
	}
	d.Users, d.NextCursor = res.Items, res.NextCursor
	p.Title, p.Nav, p.Data = p.T("admin.users.title"), "admin", d
	return d, nil
}

func (s *Server) adminUsersPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.loadAdminUsers(r, p); err != nil {
		return "", err
	}
	if p.Form.Get("role") == "" {
		p.Form.Set("role", leadcycle.RoleMarketer)
	}
	return "admin_users", nil
}

// adminProblem shows an admin page again with the problem of a form.
func adminProblem(p *page, err error, tmpl string) (string, error) {
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EConflict && code != leadcycle.ENotFound {
		return "", err
	}
	p.Error = leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		p.FieldErrors[f.Field] = f.Message
	}
	p.Status = StatusCode(code)
	return tmpl, nil
}

// adminUserCreate creates a user and sets their first password; when the
// password is refused the user is removed again, so that no account is
// left without one.
func (s *Server) adminUserCreate(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.loadAdminUsers(r, p); err != nil {
		return "", err
	}
	for _, f := range []string{"name", "email", "role", "locale"} {
		p.Form.Set(f, strings.TrimSpace(r.PostFormValue(f)))
	}
	name, email, pw := p.Form.Get("name"), p.Form.Get("email"), r.PostFormValue("password")
	body := map[string]any{"name": name, "email": email, "role": p.Form.Get("role"), "locale": p.Form.Get("locale")}
	switch {
	case pw == "":
		p.FieldErrors["password"] = p.T("admin.users.password_required")
	default:
		if err := password.Check(pw, email, name); err != nil {
			p.FieldErrors["password"] = err.Error()
		}
	}
	if len(p.FieldErrors) > 0 {
		return adminProblem(p, leadcycle.Errorf(leadcycle.EInvalid, "%s", p.T("admin.form_invalid")), "admin_users")
	}
	var u leadcycle.User
	if err := s.api(r, p, "POST", "/api/v1/users", body, &u); err != nil {
		return adminProblem(p, err, "admin_users")
	}
	if err := s.api(r, p, "POST", "/api/v1/users/"+u.ID.String()+"/password", map[string]any{"password": pw}, nil); err != nil {
		if derr := s.api(r, p, "DELETE", "/api/v1/users/"+u.ID.String(), nil, nil); derr != nil {
			return "", derr
		}
		return adminProblem(p, err, "admin_users")
	}
	s.redirect(w, r, "/admin/users", p.T("admin.users.created", "Name", u.Name))
	return "", nil
}

// adminTarget reads the user a row's form is about; an admin may not take
// away their own role or access here, so as not to lock everyone out.
func (s *Server) adminTarget(r *http.Request, p *page) (*leadcycle.User, error) {
	var u leadcycle.User
	if err := s.api(r, p, "GET", "/api/v1/users/"+url.PathEscape(r.PathValue("id")), nil, &u); err != nil {
		return nil, err
	}
	return &u, nil
}

// adminRowProblem shows the users page with the problem of one row's form.
func (s *Server) adminRowProblem(r *http.Request, p *page, id leadcycle.ID, field string, err error) (string, error) {
	d, lerr := s.loadAdminUsers(r, p)
	if lerr != nil {
		return "", lerr
	}
	code := leadcycle.ErrorCode(err)
	if code != leadcycle.EInvalid && code != leadcycle.EConflict {
		return "", err
	}
	d.Row, d.RowField, d.RowError = id.String(), field, leadcycle.ErrorMessage(err)
	for _, f := range leadcycle.ErrorFields(err) {
		if f.Field == field {
			d.RowError = f.Message
		}
	}
	p.Error = leadcycle.ErrorMessage(err)
	p.Status = StatusCode(code)
	return "admin_users", nil
}

func (s *Server) adminUserActive(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	u, err := s.adminTarget(r, p)
	if err != nil {
		return "", err
	}
	active := r.PostFormValue("active") == "true"
	if u.ID == p.User.ID && !active {
		return s.adminRowProblem(r, p, u.ID, "active", leadcycle.FieldErrorf(leadcycle.EConflict, "active", "%s", p.T("admin.users.not_yourself")))
	}
	if err := s.api(r, p, "PATCH", "/api/v1/users/"+u.ID.String(), map[string]any{"active": active}, nil); err != nil {
		return s.adminRowProblem(r, p, u.ID, "active", err)
	}
	msg := "admin.users.deactivated"
	if active {
		msg = "admin.users.activated"
	}
	s.redirect(w, r, "/admin/users", p.T(msg, "Name", u.Name))
	return "", nil
}

func (s *Server) adminUserRole(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	u, err := s.adminTarget(r, p)
	if err != nil {
		return "", err
	}
	role := r.PostFormValue("role")
	if u.ID == p.User.ID && role != u.Role {
		return s.adminRowProblem(r, p, u.ID, "role", leadcycle.FieldErrorf(leadcycle.EConflict, "role", "%s", p.T("admin.users.not_yourself")))
	}
	if err := s.api(r, p, "PATCH", "/api/v1/users/"+u.ID.String(), map[string]any{"role": role}, nil); err != nil {
		return s.adminRowProblem(r, p, u.ID, "role", err)
	}
	s.redirect(w, r, "/admin/users", p.T("admin.users.role_changed", "Name", u.Name, "Role", p.T("role."+role)))
	return "", nil
}

func (s *Server) adminUserPassword(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	u, err := s.adminTarget(r, p)
	if err != nil {
		return "", err
	}
	pw := r.PostFormValue("password")
	if pw == "" {
		err = leadcycle.FieldErrorf(leadcycle.EInvalid, "password", "%s", p.T("admin.users.password_required"))
	} else {
		err = s.api(r, p, "POST", "/api/v1/users/"+u.ID.String()+"/password", map[string]any{"password": pw}, nil)
	}
	if err != nil {
		return s.adminRowProblem(r, p, u.ID, "password", err)
	}
	if u.ID == p.User.ID {
		// Setting a password ends the user's sessions, this one too.
		s.redirect(w, r, "/login", "")
		return "", nil
	}
	s.redirect(w, r, "/admin/users", p.T("admin.users.password_set", "Name", u.Name))
	return "", nil
}

// adminKeysData is the API keys page.
type adminKeysData struct {
	Keys  []leadcycle.APIKey
	Roles []string
	// New is the key just made, with its secret, shown this once.
	New *newAPIKey
}

func (s *Server) loadAdminKeys(r *http.Request, p *page) (*adminKeysData, error) {
	d := &adminKeysData{Roles: leadcycle.Roles}
	var res leadcycle.Page[leadcycle.APIKey]
	if err := s.api(r, p, "GET", apiKeysBase, nil, &res); err != nil {
		return nil, err
	}
	d.Keys = res.Items
	slices.SortStableFunc(d.Keys, func(a, b leadcycle.APIKey) int {
		if (a.RevokedAt == nil) != (b.RevokedAt == nil) {
			if a.RevokedAt == nil {
				return -1
			}
			return 1
		}
		return cmp.Compare(b.ID, a.ID)
	})
	p.Title, p.Nav, p.Data = p.T("admin.keys.title"), "admin", d
	return d, nil
}

func (s *Server) adminKeysPage(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	if _, err := s.loadAdminKeys(r, p); err != nil {
		return "", err
	}
	if p.Form.Get("role") == "" {
		p.Form.Set("role", leadcycle.RoleMarketer)
	}
	return "admin_keys", nil
}

// adminKeyCreate makes a key and answers with the page showing its secret:
// it is not stored, so it cannot be shown after a redirect.
func (s *Server) adminKeyCreate(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	body := map[string]any{"name": strings.TrimSpace(r.PostFormValue("name")), "role": r.PostFormValue("role")}
	var k newAPIKey
	err := s.api(r, p, "POST", apiKeysBase, body, &k)
	d, lerr := s.loadAdminKeys(r, p)
	if lerr != nil {
		return "", lerr
	}
	if err != nil {
		p.Form = r.PostForm
		return adminProblem(p, err, "admin_keys")
	}
	d.New = &k
	p.Form.Set("role", leadcycle.RoleMarketer)
	p.Flash = p.T("admin.keys.created", "Name", k.Name)
	p.Status = http.StatusCreated
	return "admin_keys", nil
}

func (s *Server) adminKeyRevoke(w http.ResponseWriter, r *http.Request, p *page) (string, error) {
	id := r.PathValue("id")
	d, err := s.loadAdminKeys(r, p)
	if err != nil {
		return "", err
	}
	name := "#" + id
	for _, k := range d.Keys {
		if k.ID.String() == id {
			name = k.Name
		}
	}
	if err := s.api(r, p, "DELETE", apiKeysBase+"/"+url.PathEscape(id), nil, nil); err != nil {
		return "", err
	}
	s.redirect(w, r, "/admin/api-keys", p.T("admin.keys.revoked", "Name", name))
	return "", nil
}
