package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

// logins implements leadcycle.LoginStore.
type logins struct{ s *Store }

// Logins implements leadcycle.Store.
func (s *Store) Logins() leadcycle.LoginStore { return logins{s} }

// SetPassword implements leadcycle.LoginStore.
func (x logins) SetPassword(ctx context.Context, userID leadcycle.ID, hash string, endSessions bool) error {
	return x.s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := x.s.ExecQ(ctx, tx, "UPDATE users SET password_hash = ?, failed_logins = 0, locked_until = NULL, updated_at = ? WHERE id = ?",
			hash, micros(x.s.Clock.Now()), int64(userID))
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return leadcycle.Errorf(leadcycle.ENotFound, "user %s not found", userID)
		}
		if !endSessions {
			return nil
		}
		_, err = x.s.ExecQ(ctx, tx, "DELETE FROM sessions WHERE user_id = ?", int64(userID))
		return err
	})
}

// Credentials implements leadcycle.LoginStore.
func (x logins) Credentials(ctx context.Context, email string) (*leadcycle.Credentials, error) {
	var c leadcycle.Credentials
	dests := append(userTable.dests(&c.User), &c.PasswordHash, nullTimeCol{&c.LockedUntil})
	err := x.s.QueryRowQ(ctx, x.s.R, "SELECT "+userSelectCols+", password_hash, locked_until FROM users WHERE email = ?", leadcycle.NormalizeEmail(email)).Scan(dests...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "no user has this email")
	}
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	return &c, nil
}

// LoginFailed implements leadcycle.LoginStore.
func (x logins) LoginFailed(ctx context.Context, userID leadcycle.ID) (*time.Time, error) {
	var until *time.Time
	err := x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		now := x.s.Clock.Now()
		var failed int
		err := x.s.QueryRowQ(ctx, tx, "UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins", int64(userID)).Scan(&failed)
		if err != nil {
			return fmt.Errorf("count login failure: %w", err)
		}
		if failed < leadcycle.MaxLoginFailures {
			return nil
		}
		t := now.Add(leadcycle.LoginLockout)
		until = &t
		_, err = x.s.ExecQ(ctx, tx, "UPDATE users SET failed_logins = 0, locked_until = ? WHERE id = ?", micros(t), int64(userID))
		return err
	})
	return until, err
}

// LoginSucceeded implements leadcycle.LoginStore.
func (x logins) LoginSucceeded(ctx context.Context, s *leadcycle.Session, tokenHash string) error {
	now := x.s.Clock.Now()
	s.CreatedAt, s.LastSeenAt, s.ExpiresAt = now, now, now.Add(leadcycle.SessionLifetime)
	return x.s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?", int64(s.UserID)); err != nil {
			return err
		}
		var id int64
		err := x.s.QueryRowQ(ctx, tx, `INSERT INTO sessions (token_hash, user_id, csrf_token, user_agent, address, created_at, last_seen_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, tokenHash, int64(s.UserID), s.CSRFToken, clip(s.UserAgent, 300), clip(s.Address, 100),
			micros(now), micros(now), micros(s.ExpiresAt)).Scan(&id)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		s.ID = leadcycle.ID(id)
		return nil
	})
}

// sessionTouch is how stale a session's last use may be before a request
// records it again, so that reads do not all become writes.
const sessionTouch = time.Minute

// Session implements leadcycle.LoginStore.
func (x logins) Session(ctx context.Context, tokenHash string) (*leadcycle.Session, *leadcycle.User, error) {
	var s leadcycle.Session
	var u leadcycle.User
	cols := "s.id, s.user_id, s.csrf_token, s.user_agent, s.address, s.created_at, s.last_seen_at, s.expires_at, u." + strings.ReplaceAll(userSelectCols, ", ", ", u.")
	dests := append([]any{idCol{&s.ID}, idCol{&s.UserID}, &s.CSRFToken, &s.UserAgent, &s.Address, timeCol{&s.CreatedAt}, timeCol{&s.LastSeenAt}, timeCol{&s.ExpiresAt}}, userTable.dests(&u)...)
	now := x.s.Clock.Now()
	err := x.s.QueryRowQ(ctx, x.s.R, "SELECT "+cols+" FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ? AND s.last_seen_at > ? AND u.active",
		tokenHash, micros(now), micros(now.Add(-leadcycle.SessionIdle))).Scan(dests...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, leadcycle.Errorf(leadcycle.ENotFound, "no such session")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("session: %w", err)
	}
	if now.Sub(s.LastSeenAt) > sessionTouch {
		s.LastSeenAt = now
		if _, err := x.s.ExecQ(ctx, x.s.W, "UPDATE sessions SET last_seen_at = ? WHERE id = ?", micros(now), int64(s.ID)); err != nil {
			return nil, nil, fmt.Errorf("touch session: %w", err)
		}
	}
	return &s, &u, nil
}

// EndSession implements leadcycle.LoginStore.
func (x logins) EndSession(ctx context.Context, tokenHash string) error {
	_, err := x.s.ExecQ(ctx, x.s.W, "DELETE FROM sessions WHERE token_hash = ?", tokenHash)
	return err
}

// PurgeSessions implements leadcycle.LoginStore.
func (x logins) PurgeSessions(ctx context.Context) (int, error) {
	now := x.s.Clock.Now()
	res, err := x.s.ExecQ(ctx, x.s.W, "DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?", micros(now), micros(now.Add(-leadcycle.SessionIdle)))
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
