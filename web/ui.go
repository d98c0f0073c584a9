package web

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/i18n"
)

// The browser interface is served from the same binary: pages rendered on
// the server with html/template, progressively enhanced by htmx (embedded,
// no CDN). A page reads and changes data through the JSON API, called in
// process with the signed-in user's session, so that roles, lead scopes and
// validation are exactly the API's.

//go:embed ui/templates/*.html
var uiTemplateFS embed.FS

//go:embed ui/static
var uiStaticFS embed.FS

// uiRoute is one registered page or page action, for the role tests.
type uiRoute struct {
	Method, Path string
	Perm         leadcycle.Permission
}

// ui holds the parsed page templates and the catalogs.
type ui struct {
	bundle *i18n.Bundle
	pages  map[string]*template.Template
	routes []uiRoute
}

// page is what every template sees: the localizer, the user and the page's
// own data.
type page struct {
	L *i18n.Localizer
	// en is English, to tell shipped names from names users gave.
	en    *i18n.Localizer
	User  *leadcycle.User
	CSRF  string
	Title string
	// Nav is the active menu item.
	Nav  string
	Path string
	Now  time.Time
	// Flash is a message left by the previous action; Error is the
	// problem of this request, FieldErrors its fields.
	Flash       string
	Error       string
	FieldErrors map[string]string
	Form        url.Values
	Data        any
	// Status is the HTTP status the page is answered with.
	Status int
}

// T translates a message.
func (p *page) T(id string, args ...any) string { return p.L.T(id, args...) }

// N translates a message that depends on a count.
func (p *page) N(id string, count int, args ...any) string { return p.L.N(id, count, args...) }

// Can reports whether the user's role holds a permission ("leads:qualify").
func (p *page) Can(perm string) bool {
	return p.User != nil && leadcycle.Can(p.User.Role, leadcycle.Permission(perm))
}

// Value returns a submitted form value, to refill a form after an error.
func (p *page) Value(name string) string { return p.Form.Get(name) }

// FieldError returns the problem of one field, if any.
func (p *page) FieldError(name string) string { return p.FieldErrors[name] }

func newUI() *ui {
	u := &ui{bundle: i18n.MustLoad(), pages: map[string]*template.Template{}}
	base := template.Must(template.New("").Funcs(uiFuncs).ParseFS(uiTemplateFS, "ui/templates/_*.html"))
	files, err := fs.Glob(uiTemplateFS, "ui/templates/*.html")
	if err != nil {
		panic(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if strings.HasPrefix(name, "_") {
			continue
		}
		u.pages[name] = template.Must(template.Must(base.Clone()).ParseFS(uiTemplateFS, f))
	}
	return u
}

// uiFuncs are the template functions that need no request.
var uiFuncs = template.FuncMap{
	"deref": func(id *leadcycle.ID) string {
		if id == nil {
			return ""
		}
		return id.String()
	},
	"json": func(v any) (string, error) {
		b, err := json.MarshalIndent(v, "", "  ")
		return string(b), err
	},
	"add":    func(a, b int) int { return a + b },
	"fields": strings.Fields,
	"int":    func(v int64) int { return int(v) },
	"deref64": func(v *float64) float64 {
		if v == nil {
			return 0
		}
		return *v
	},
	"derefTime": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"pct": func(part, whole int) int {
		if whole <= 0 {
			return 0
		}
		return part * 100 / whole
	},
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"contains": func(list []string, s string) bool {
		for _, v := range list {
			if v == s {
				return true
			}
		}
		return false
	},
}

// pageFunc renders one page; it fills p.Data (and p.Title) and names the
// template, or returns an error shown on the error page.
type pageFunc func(w http.ResponseWriter, r *http.Request, p *page) (template string, err error)

// handlePage registers a page or a page action. Every one needs a signed-in
// user whose role holds perm; an unsafe method also needs the session's
// CSRF token, as a form field or in X-CSRF-Token.
func (s *Server) handlePage(method, pattern string, perm leadcycle.Permission, h pageFunc) {
	if perm == "" {
		panic("web: page " + pattern + " has no permission")
	}
	s.ui.routes = append(s.ui.routes, uiRoute{Method: method, Path: pattern, Perm: perm})
	s.mux.Handle(method+" "+pattern, s.signedIn(perm, h))
}

// signedIn authenticates a page request by its session cookie and checks
// the role; a visitor without a session is sent to the login page.
func (s *Server) signedIn(perm leadcycle.Permission, h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, u, err := s.cookieSession(r)
		if err != nil {
			if leadcycle.ErrorCode(err) == leadcycle.EUnauthorized {
				s.toLogin(w, r)
				return
			}
			s.renderError(w, r, s.newPage(r, nil, ""), err)
			return
		}
		p := s.newPage(r, u, sess.CSRFToken)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := checkPageCSRF(r, sess); err != nil {
				s.renderError(w, r, p, err)
				return
			}
		}
		ctx := context.WithValue(r.Context(), ctxKeyUser{}, u)
		ctx = context.WithValue(ctx, ctxAPIKey, sessionPrincipal(u))
		ctx = leadcycle.WithActor(ctx, actorOf(r.WithContext(ctx)))
		r = r.WithContext(ctx)
		if !leadcycle.Can(u.Role, perm) {
			s.renderError(w, r, p, leadcycle.Errorf(leadcycle.EForbidden, "%s", p.T("error.role_forbidden", "Role", p.T("role."+u.Role))))
			return
		}
		name, err := h(w, r, p)
		if err != nil {
			s.renderError(w, r, p, err)
			return
		}
		if name != "" {
			s.render(w, r, name, p)
		}
	})
}

// PageRoutes returns the registered pages and page actions with their
// permissions.
func (s *Server) PageRoutes() []Route {
	out := make([]Route, len(s.ui.routes))
	for i, r := range s.ui.routes {
		out[i] = Route(r)
	}
	return out
}

// checkPageCSRF takes the CSRF token from the form (plain HTML forms) or the
// header (htmx requests).
func checkPageCSRF(r *http.Request, sess *leadcycle.Session) error {
	if r.Header.Get(CSRFHeader) == "" {
		if err := r.ParseMultipartForm(32 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
			return leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read: %v", err)
		}
		r.Header.Set(CSRFHeader, r.PostFormValue("csrf_token"))
	}
	return checkCSRF(r, sess)
}

// newPage starts the page of a request in the user's language.
func (s *Server) newPage(r *http.Request, u *leadcycle.User, csrf string) *page {
	setting := ""
	if u != nil {
		setting = u.Locale
	}
	if c, err := r.Cookie(langCookie); err == nil && setting == "" {
		setting = c.Value
	}
	p := &page{L: s.ui.bundle.For(s.ui.bundle.Match(setting, r.Header.Get("Accept-Language"))), en: s.ui.bundle.For(i18n.Languages[0]),
		User: u, CSRF: csrf, Path: r.URL.Path, Now: s.clock.Now(), Form: url.Values{}, FieldErrors: map[string]string{}}
	if c, err := r.Cookie(flashCookie); err == nil {
		p.Flash, _ = url.QueryUnescape(c.Value)
	}
	return p
}

// Cookies of the interface: the chosen language (before login) and the
// message of the last action.
const (
	langCookie  = "lc_lang"
	flashCookie = "lc_flash"
)

// render writes a page with its layout.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, p *page) {
	t, ok := s.ui.pages[name]
	if !ok {
		panic("web: no page template " + name)
	}
	var buf bytes.Buffer
	tmpl := "layout"
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true" && t.Lookup("fragment") != nil {
		tmpl = "fragment"
	}
	if err := t.ExecuteTemplate(&buf, tmpl, p); err != nil {
		logger(r.Context()).Error("render page", slog.String("page", name), slog.String("error", err.Error()))
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	if p.Flash != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Path: "/", MaxAge: -1})
	}
	setPageHeaders(w)
	if p.Status == 0 {
		p.Status = http.StatusOK
	}
	w.WriteHeader(p.Status)
	_, _ = w.Write(buf.Bytes())
}

// setPageHeaders sets the headers of every HTML answer: no caching of
// personal data, no framing, and scripts and styles from this server only.
func setPageHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
}

// renderError shows an error on the error page with the matching status;
// a form's field problems are shown on the form by the page itself.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, p *page, err error) {
	code := leadcycle.ErrorCode(err)
	if code == leadcycle.EInternal {
		logger(r.Context()).Error("internal error", slog.String("error", err.Error()))
		p.Error = p.T("error.internal", "RequestID", requestID(r.Context()))
	} else {
		p.Error = leadcycle.ErrorMessage(err)
	}
	p.Status = StatusCode(code)
	p.Title = p.T("error.title." + strings.ToLower(fmt.Sprint(p.Status/100)) + "xx")
	if p.Status == http.StatusForbidden {
		p.Title = p.T("error.title.403")
	} else if p.Status == http.StatusNotFound {
		p.Title = p.T("error.title.404")
	}
	s.render(w, r, "error", p)
}

// redirect answers an action with a redirect to a page and a message for
// it (POST, redirect, GET).
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, to, flash string) {
	if flash != "" {
		http.SetCookie(w, &http.Cookie{Name: flashCookie, Value: url.QueryEscape(flash), Path: "/", MaxAge: 60, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// toLogin sends a visitor without a session to the login page, back here
// afterwards.
func (s *Server) toLogin(w http.ResponseWriter, r *http.Request) {
	to := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		to += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// wantsPage reports whether a request for an unknown path comes from a
// browser page rather than an API client.
func wantsPage(r *http.Request) bool {
	return r.Method == http.MethodGet && !strings.HasPrefix(r.URL.Path, "/api/") && strings.Contains(r.Header.Get("Accept"), "text/html")
}

// serveStatic serves the embedded scripts and styles, cached for a day.
func (s *Server) serveStatic() http.Handler {
	sub, err := fs.Sub(uiStaticFS, "ui/static")
	if err != nil {
		panic(err)
	}
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, ".md") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, r)
	})
}
