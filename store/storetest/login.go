package storetest

import (
	"testing"

	"github.com/leadcycle/leadcycle"
)

// loginTests check passwords, lockout and sessions.
var loginTests = []test{
	{"password_lockout_and_sessions", testLogin},
	{"sessions_end", testSessionsEnd},
}

func mustEmailUser(t *testing.T, e *env, email, role string) *leadcycle.User {
	t.Helper()
	return MustCreate(t, e.ctx, e.s.Users(), &leadcycle.User{Name: "User " + email, Email: email, Role: role, Active: true})
}

func mustSession(t *testing.T, e *env, u *leadcycle.User) (string, *leadcycle.Session) {
	t.Helper()
	token, hash := leadcycle.NewSessionToken()
	s := &leadcycle.Session{UserID: u.ID, CSRFToken: leadcycle.NewCSRFToken(), UserAgent: "test", Address: "127.0.0.1"}
	if err := e.s.Logins().LoginSucceeded(e.ctx, s, hash); err != nil {
		t.Fatal(err)
	}
	return token, s
}

func testLogin(t *testing.T, e *env) {
	l := e.s.Logins()
	u := mustEmailUser(t, e, "Uxia@Example.gal", leadcycle.RoleTelesales)
	c, err := l.Credentials(e.ctx, " UXIA@example.gal")
	if err != nil || c.User.ID != u.ID || c.PasswordHash != "" || c.LockedUntil != nil {
		t.Fatalf("credentials before a password: %+v, %v", c, err)
	}
	if err := l.SetPassword(e.ctx, u.ID, "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA", false); err != nil {
		t.Fatal(err)
	}
	wantErr(t, l.SetPassword(e.ctx, 999, "x", false), leadcycle.ENotFound)
	_, err = l.Credentials(e.ctx, "nobody@example.gal")
	wantErr(t, err, leadcycle.ENotFound)
	// Four failures do not lock; the fifth does, for LoginLockout.
	for i := 1; i < leadcycle.MaxLoginFailures; i++ {
		if until, err := l.LoginFailed(e.ctx, u.ID); err != nil || until != nil {
			t.Fatalf("failure %d: locked %v, %v", i, until, err)
		}
	}
	until, err := l.LoginFailed(e.ctx, u.ID)
	if err != nil || until == nil || !until.Equal(e.clock.Now().Add(leadcycle.LoginLockout)) {
		t.Fatalf("fifth failure: locked until %v, %v", until, err)
	}
	c, _ = l.Credentials(e.ctx, u.Email)
	if c.LockedUntil == nil || !c.LockedUntil.Equal(*until) || c.PasswordHash == "" {
		t.Errorf("locked credentials = %+v", c)
	}
	// A success clears the lock and the count, and opens a session.
	token, s := mustSession(t, e, u)
	if s.ID == 0 || !s.ExpiresAt.Equal(e.clock.Now().Add(leadcycle.SessionLifetime)) {
		t.Errorf("session = %+v", s)
	}
	if c, _ = l.Credentials(e.ctx, u.Email); c.LockedUntil != nil {
		t.Errorf("still locked after a success: %+v", c)
	}
	if until, _ := l.LoginFailed(e.ctx, u.ID); until != nil {
		t.Error("a failure after a success locked at once")
	}
	got, user, err := l.Session(e.ctx, leadcycle.HashSessionToken(token))
	if err != nil || got.ID != s.ID || got.CSRFToken != s.CSRFToken || user.ID != u.ID || user.Role != leadcycle.RoleTelesales {
		t.Fatalf("session = %+v %+v, %v", got, user, err)
	}
	_, _, err = l.Session(e.ctx, leadcycle.HashSessionToken(token+"x"))
	wantErr(t, err, leadcycle.ENotFound)
}

func testSessionsEnd(t *testing.T, e *env) {
	l := e.s.Logins()
	u := mustEmailUser(t, e, "brais@example.gal", leadcycle.RoleSales)
	idle, _ := mustSession(t, e, u)
	used, _ := mustSession(t, e, u)
	ended, _ := mustSession(t, e, u)
	if err := l.EndSession(e.ctx, leadcycle.HashSessionToken(ended)); err != nil {
		t.Fatal(err)
	}
	_, _, err := l.Session(e.ctx, leadcycle.HashSessionToken(ended))
	wantErr(t, err, leadcycle.ENotFound)
	// Used every few hours a session lives on; left alone it ends after
	// SessionIdle.
	for range 3 {
		e.clock.Advance(leadcycle.SessionIdle / 2)
		if _, _, err := l.Session(e.ctx, leadcycle.HashSessionToken(used)); err != nil {
			t.Fatalf("a session in use ended: %v", err)
		}
	}
	_, _, err = l.Session(e.ctx, leadcycle.HashSessionToken(idle))
	wantErr(t, err, leadcycle.ENotFound)
	if n, err := l.PurgeSessions(e.ctx); err != nil || n != 1 {
		t.Errorf("purged %d, %v; want the idle one", n, err)
	}
	// A deactivated user's sessions stop working; a new password ends them.
	MustUpdate(t, e.ctx, e.s.Users(), u.ID, func(x *leadcycle.User) error { x.Active = false; return nil })
	_, _, err = l.Session(e.ctx, leadcycle.HashSessionToken(used))
	wantErr(t, err, leadcycle.ENotFound)
	MustUpdate(t, e.ctx, e.s.Users(), u.ID, func(x *leadcycle.User) error { x.Active = true; return nil })
	if err := l.SetPassword(e.ctx, u.ID, "h", true); err != nil {
		t.Fatal(err)
	}
	_, _, err = l.Session(e.ctx, leadcycle.HashSessionToken(used))
	wantErr(t, err, leadcycle.ENotFound)
	// Sessions end with their lifetime even when used.
	again, _ := mustSession(t, e, u)
	for e.clock.Now().Before(Epoch.Add(leadcycle.SessionLifetime + 3*leadcycle.SessionIdle/2)) {
		e.clock.Advance(leadcycle.SessionIdle / 2)
		if _, _, err := l.Session(e.ctx, leadcycle.HashSessionToken(again)); err != nil {
			return // ended by its lifetime
		}
	}
	t.Error("a session outlived its lifetime")
}
