package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// registerUI registers the pages of the browser interface.
func (s *Server) registerUI() {
	s.mux.Handle("GET /static/", s.serveStatic())
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.public.limit(s.loginSubmit))
	s.mux.HandleFunc("POST /logout", s.logoutSubmit)
	s.mux.HandleFunc("POST /language", s.languageSubmit)
	s.registerDashboards()
	s.registerLeadPages()
	s.registerRecordPages()
	s.registerAdminPages()
	s.registerConfigPages()
	s.registerScoringPages()
	s.registerImportPages()
	s.registerSegmentPages()
	s.registerJourneyPages()
	s.registerEmailTemplatePages()
	s.registerEmailSendPages()
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) {
	if _, _, err := s.cookieSession(r); err == nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	p := s.newPage(r, nil, "")
	p.Title = p.T("login.title")
	p.Form.Set("next", r.URL.Query().Get("next"))
	s.render(w, r, "login", p)
}

// loginSubmit checks a login form, opens the session and goes on to the
// page the user came for.
func (s *Server) loginSubmit(w http.ResponseWriter, r *http.Request) {
	p := s.newPage(r, nil, "")
	p.Title = p.T("login.title")
	if err := checkSameOrigin(r); err != nil {
		s.renderError(w, r, p, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, p, leadcycle.Errorf(leadcycle.EMalformed, "the form could not be read"))
		return
	}
	p.Form.Set("email", r.PostFormValue("email"))
	p.Form.Set("next", r.PostFormValue("next"))
	req := loginRequest{Email: strings.TrimSpace(r.PostFormValue("email")), Password: r.PostFormValue("password")}
	var view *sessionView
	var token string
	var err error
	if req.Email == "" || req.Password == "" {
		err = leadcycle.Errorf(leadcycle.EInvalid, "%s", p.T("login.required"))
	} else {
		view, token, err = s.checkLogin(r, req)
	}
	if err != nil {
		switch leadcycle.ErrorCode(err) {
		case leadcycle.EUnauthorized:
			p.Error = p.T("login.wrong")
		case leadcycle.ERateLimited:
			p.Error = p.T("login.locked")
		default:
			s.renderError(w, r, p, err)
			return
		}
		p.Status = StatusCode(leadcycle.ErrorCode(err))
		s.render(w, r, "login", p)
		return
	}
	http.SetCookie(w, s.sessionCookie(r, token, view.ExpiresAt))
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// checkSameOrigin refuses a form posted from another site (login CSRF):
// browsers send Origin on every POST.
func checkSameOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" && r.Header.Get("Sec-Fetch-Site") == "same-origin" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host != r.Host {
		return leadcycle.Errorf(leadcycle.EForbidden, "the form was sent from another site (%s)", origin)
	}
	return nil
}

// safeNext keeps a redirect target on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}

func (s *Server) logoutSubmit(w http.ResponseWriter, r *http.Request) {
	sess, _, err := s.cookieSession(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	if err := checkPageCSRF(r, sess); err != nil {
		s.renderError(w, r, s.newPage(r, nil, ""), err)
		return
	}
	c, _ := r.Cookie(SessionCookie)
	if err := s.store.Logins().EndSession(r.Context(), leadcycle.HashSessionToken(c.Value)); err != nil {
		s.renderError(w, r, s.newPage(r, nil, ""), err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.secureCookies})
	s.redirectTo(w, r, "/login")
}

// redirectTo redirects a plain or an htmx request.
func (s *Server) redirectTo(w http.ResponseWriter, r *http.Request, to string) {
	if r.Header.Get("HX-Request") == "true" && r.Header.Get("HX-Boosted") != "true" {
		w.Header().Set("HX-Redirect", to)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// languageSubmit changes the language: a signed-in user's setting, or a
// cookie before login.
func (s *Server) languageSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	lang := r.PostFormValue("lang")
	if !slices.Contains(leadcycle.Locales, lang) || lang == "" {
		s.renderError(w, r, s.newPage(r, nil, ""), leadcycle.FieldErrorf(leadcycle.EInvalid, "lang", "must be one of en, gl, zh-Hant"))
		return
	}
	next := safeNext(r.PostFormValue("next"))
	sess, u, err := s.cookieSession(r)
	if err != nil {
		if err := checkSameOrigin(r); err != nil {
			s.renderError(w, r, s.newPage(r, nil, ""), err)
			return
		}
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if err := checkPageCSRF(r, sess); err != nil {
		s.renderError(w, r, s.newPage(r, u, sess.CSRFToken), err)
		return
	}
	if _, err := s.store.Users().Update(r.Context(), u.ID, func(u *leadcycle.User) error { u.Locale = lang; return nil }); err != nil {
		s.renderError(w, r, s.newPage(r, u, sess.CSRFToken), err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 24 * 3600, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, next, http.StatusSeeOther)
}
