package leadcycle

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"time"
)

// Login policy: after MaxLoginFailures wrong passwords in a row an account
// is locked for LoginLockout; sessions end after SessionIdle without use and
// SessionLifetime after they began.
const (
	MaxLoginFailures = 5
	LoginLockout     = 15 * time.Minute
	SessionIdle      = 12 * time.Hour
	SessionLifetime  = 30 * 24 * time.Hour
)

// Session is a signed-in user's browser session. The token that names it is
// given to the browser once, in a cookie, and only its hash is stored; the
// CSRF token must come back with every request that changes something.
type Session struct {
	ID         ID        `json:"id"`
	UserID     ID        `json:"user_id"`
	CSRFToken  string    `json:"csrf_token"`
	CreatedAt  time.Time `json:"created_at"`
	LastSeenAt time.Time `json:"last_seen_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  string    `json:"user_agent"`
	Address    string    `json:"address"`
}

// Credentials is what a login checks: the user, its password hash (empty
// when it has none) and until when it is locked.
type Credentials struct {
	User         User
	PasswordHash string
	LockedUntil  *time.Time
}

// NewSessionToken returns a fresh random session token (256 bits) and the
// hash stored for it.
func NewSessionToken() (token, hash string) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, HashSessionToken(token)
}

// HashSessionToken returns the stored form of a session token; a plain
// SHA-256 suffices for a long random secret.
func HashSessionToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NewCSRFToken returns a fresh random CSRF token.
func NewCSRFToken() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// LoginStore keeps passwords, login failures and sessions.
type LoginStore interface {
	// SetPassword stores a user's password hash (and ends its sessions
	// when endSessions is set), or returns ENotFound.
	SetPassword(ctx context.Context, userID ID, hash string, endSessions bool) error
	// Credentials returns what a login by email checks, or ENotFound.
	Credentials(ctx context.Context, email string) (*Credentials, error)
	// LoginFailed counts a wrong password; the MaxLoginFailures-th in a row
	// locks the account for LoginLockout. It returns the lock's end, if any.
	LoginFailed(ctx context.Context, userID ID) (*time.Time, error)
	// LoginSucceeded clears the failures and creates the session, whose
	// token hash is given.
	LoginSucceeded(ctx context.Context, s *Session, tokenHash string) error
	// Session returns the live session with the token hash and its active
	// user, and records its use; ENotFound when there is none (unknown,
	// expired, idle too long, or its user inactive).
	Session(ctx context.Context, tokenHash string) (*Session, *User, error)
	// EndSession deletes a session.
	EndSession(ctx context.Context, tokenHash string) error
	// PurgeSessions deletes expired and idle sessions and returns how many.
	PurgeSessions(ctx context.Context) (int, error)
}
