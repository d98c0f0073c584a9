package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/password"
)

// Users sign in with their email and password for a browser session: the
// session token lives in an HttpOnly cookie, and every request that changes
// something must echo the session's CSRF token in X-CSRF-Token (a page of
// another site can send the cookie, never the header). Wrong passwords in a
// row lock the account; logins are rate limited per client address.

// SessionCookie names the cookie of a browser session.
const SessionCookie = "lc_session"

// CSRFHeader carries the session's CSRF token on unsafe requests.
const CSRFHeader = "X-CSRF-Token"

func (s *Server) registerLogin() {
	s.handle("POST", "/auth/login", "", s.public.limit(s.login))
	s.handle("POST", "/auth/logout", "", s.logout)
	s.handle("GET", "/auth/session", "", s.currentSession)
	s.handle("POST", "/api/v1/users/{id}/password", leadcycle.Perm("users", "set_password"), s.setPassword)
}

// loginRequest is the body of a login.
type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// sessionView is what a client learns about its session.
type sessionView struct {
	User      *leadcycle.User `json:"user"`
	CSRFToken string          `json:"csrf_token"`
	ExpiresAt time.Time       `json:"expires_at"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	fields, err := s.readObject(w, r)
	var req loginRequest
	if err == nil {
		err = decodeFields(fields, &req, "")
	}
	if err == nil && (req.Email == "" || req.Password == "") {
		err = leadcycle.FieldErrorf(leadcycle.EInvalid, "email", "email and password are required")
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	view, token, err := s.checkLogin(r, req)
	if err != nil {
		writeError(w, r, err)
		return
	}
	http.SetCookie(w, s.sessionCookie(r, token, view.ExpiresAt))
	writeJSON(w, http.StatusOK, view)
}

// wrongLogin is the one answer to an unknown email, a wrong password and an
// account without a password: nothing tells them apart.
var wrongLogin = leadcycle.Errorf(leadcycle.EUnauthorized, "the email or the password is wrong")

// checkLogin verifies the password and opens a session.
func (s *Server) checkLogin(r *http.Request, req loginRequest) (*sessionView, string, error) {
	ctx := r.Context()
	logins := s.store.Logins()
	c, err := logins.Credentials(ctx, req.Email)
	if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
		password.Verify(req.Password, s.dummyHash)
		return nil, "", wrongLogin
	}
	if err != nil {
		return nil, "", err
	}
	now := s.clock.Now()
	if c.LockedUntil != nil && now.Before(*c.LockedUntil) {
		return nil, "", lockedError(*c.LockedUntil, now)
	}
	ok := false
	if c.PasswordHash != "" {
		if ok, err = password.Verify(req.Password, c.PasswordHash); err != nil {
			return nil, "", fmt.Errorf("verify password of user %s: %w", c.User.ID, err)
		}
	} else {
		password.Verify(req.Password, s.dummyHash)
	}
	if !ok || !c.User.Active {
		if c.PasswordHash != "" {
			if until, err := logins.LoginFailed(ctx, c.User.ID); err != nil {
				return nil, "", err
			} else if until != nil {
				return nil, "", lockedError(*until, now)
			}
		}
		return nil, "", wrongLogin
	}
	if password.NeedsRehash(c.PasswordHash, password.Default) {
		if h, err := password.Hash(req.Password, password.Default); err == nil {
			_ = logins.SetPassword(ctx, c.User.ID, h, false)
		}
	}
	token, hash := leadcycle.NewSessionToken()
	sess := &leadcycle.Session{UserID: c.User.ID, CSRFToken: leadcycle.NewCSRFToken(), UserAgent: r.UserAgent(), Address: clientIP(r)}
	if err := logins.LoginSucceeded(ctx, sess, hash); err != nil {
		return nil, "", err
	}
	return &sessionView{User: &c.User, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt}, token, nil
}

func lockedError(until, now time.Time) error {
	return &leadcycle.Error{Code: leadcycle.ERateLimited, Message: fmt.Sprintf("the account is locked after %d wrong passwords in a row; try again in %s",
		leadcycle.MaxLoginFailures, until.Sub(now).Round(time.Minute))}
}

// sessionCookie is the cookie of a session: HttpOnly, SameSite=Lax, Secure
// over TLS or when the server is told it sits behind TLS.
func (s *Server) sessionCookie(r *http.Request, token string, expires time.Time) *http.Cookie {
	return &http.Cookie{Name: SessionCookie, Value: token, Path: "/", Expires: expires, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.secureCookies}
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	sess, _, err := s.cookieSession(r)
	if err == nil {
		err = checkCSRF(r, sess)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	c, _ := r.Cookie(SessionCookie)
	if err := s.store.Logins().EndSession(r.Context(), leadcycle.HashSessionToken(c.Value)); err != nil {
		writeError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil || s.secureCookies})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) currentSession(w http.ResponseWriter, r *http.Request) {
	sess, u, err := s.cookieSession(r)
	if err != nil {
		writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sessionView{User: u, CSRFToken: sess.CSRFToken, ExpiresAt: sess.ExpiresAt})
}

// cookieSession returns the live session of the request's cookie.
func (s *Server) cookieSession(r *http.Request) (*leadcycle.Session, *leadcycle.User, error) {
	c, err := r.Cookie(SessionCookie)
	if err != nil || c.Value == "" {
		return nil, nil, leadcycle.Errorf(leadcycle.EUnauthorized, "not signed in: log in at POST /auth/login, or send Authorization: Bearer <key>")
	}
	sess, u, err := s.store.Logins().Session(r.Context(), leadcycle.HashSessionToken(c.Value))
	if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
		return nil, nil, leadcycle.Errorf(leadcycle.EUnauthorized, "the session has ended; log in again")
	}
	return sess, u, err
}

// checkCSRF requires the session's CSRF token on requests that change
// something.
func checkCSRF(r *http.Request, sess *leadcycle.Session) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRFToken)) != 1 {
		return leadcycle.Errorf(leadcycle.EForbidden, "a request that changes something must send the session's CSRF token in %s", CSRFHeader)
	}
	return nil
}

// sessionPrincipal is the caller of a session request, as the rest of the
// server sees callers: a role to check, a name for the actor.
func sessionPrincipal(u *leadcycle.User) *leadcycle.APIKey {
	return &leadcycle.APIKey{Name: u.Email, Role: u.Role}
}

type ctxKeyUser struct{}

// userOf returns the signed-in user of a session request, if any.
func userOf(ctx context.Context) *leadcycle.User {
	u, _ := ctx.Value(ctxKeyUser{}).(*leadcycle.User)
	return u
}

// passwordRequest is the body of a password change.
type passwordRequest struct {
	Password string `json:"password"`
}

// setPassword sets a user's password (admins); the user's sessions end.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var u *leadcycle.User
	if err == nil {
		u, err = s.store.Users().Get(r.Context(), id)
	}
	var req passwordRequest
	if err == nil {
		var body map[string]json.RawMessage
		if body, err = s.readObject(w, r); err == nil {
			err = decodeFields(body, &req, "")
		}
	}
	if err == nil {
		if perr := password.Check(req.Password, u.Email, u.Name); perr != nil {
			err = leadcycle.FieldErrorf(leadcycle.EInvalid, "password", "%s", perr)
		}
	}
	var hash string
	if err == nil {
		hash, err = password.Hash(req.Password, password.Default)
	}
	if err == nil {
		err = s.store.Logins().SetPassword(r.Context(), id, hash, true)
	}
	if err != nil {
		writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
