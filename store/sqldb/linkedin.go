package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/linkedin"
)

var _ linkedin.Provider = (*Store)(nil)

// LinkedIn returns the storage of the LinkedIn connector.
func (s *Store) LinkedIn() linkedin.Store { return linkedinStore{s.DB} }

type linkedinStore struct{ db *DB }

// linkedinWriteCols are the columns a create or update writes; the sync
// bookkeeping columns are written by RecordSync, the lease by the lease
// methods.
const linkedinWriteCols = "name, sponsored_account, api_base_url, api_version, token_url, client_id, client_secret, access_token, refresh_token, " +
	"token_expires_at, mapping, commercial_email_consents, lead_topic, contact_strategy_id, lead_strategy_id, interval_seconds, enabled, " +
	"include_test_leads, cursor_at, created_at, updated_at"

const linkedinReadCols = "id, " + linkedinWriteCols + ", last_sync_at, last_success_at, last_error, last_stats"

func linkedinValues(c *linkedin.Connection) []any {
	return []any{c.Name, c.SponsoredAccount, c.APIBaseURL, c.APIVersion, c.TokenURL, c.ClientID, c.Secrets.ClientSecret, c.Secrets.AccessToken,
		c.Secrets.RefreshToken, nullMicros(c.TokenExpiresAt), jsonText(c.Mapping), jsonText(c.CommercialEmailConsents), c.LeadTopic,
		nullID(c.ContactStrategyID), nullID(c.LeadStrategyID), c.IntervalSeconds, c.Enabled, c.IncludeTestLeads, nullMicros(c.Cursor),
		micros(c.CreatedAt), micros(c.UpdatedAt)}
}

func scanLinkedIn(row interface{ Scan(...any) error }) (*linkedin.Connection, error) {
	c := &linkedin.Connection{}
	err := row.Scan(idCol{&c.ID}, &c.Name, &c.SponsoredAccount, &c.APIBaseURL, &c.APIVersion, &c.TokenURL, &c.ClientID, &c.Secrets.ClientSecret,
		&c.Secrets.AccessToken, &c.Secrets.RefreshToken, nullTimeCol{&c.TokenExpiresAt}, jsonCol{&c.Mapping}, jsonCol{&c.CommercialEmailConsents},
		&c.LeadTopic, nullIDCol{&c.ContactStrategyID}, nullIDCol{&c.LeadStrategyID}, &c.IntervalSeconds, &c.Enabled, &c.IncludeTestLeads,
		nullTimeCol{&c.Cursor}, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}, nullTimeCol{&c.LastSyncAt}, nullTimeCol{&c.LastSuccessAt},
		&c.LastError, jsonCol{&c.LastStats})
	if err != nil {
		return nil, err
	}
	c.Normalize() // fills the has_* flags from the secrets and empty collections
	return c, nil
}

func linkedinNotFound(id leadcycle.ID) error {
	return leadcycle.Errorf(leadcycle.ENotFound, "LinkedIn connection %s not found", id)
}

func (l linkedinStore) CreateConnection(ctx context.Context, c *linkedin.Connection) error {
	c.Normalize()
	if err := c.Validate(); err != nil {
		return err
	}
	now := l.db.Clock.Now()
	c.CreatedAt, c.UpdatedAt = now, now
	c.LastSyncAt, c.LastSuccessAt, c.LastError, c.LastStats = nil, nil, "", linkedin.SyncStats{}
	var id int64
	marks := strings.TrimSuffix(strings.Repeat("?, ", strings.Count(linkedinWriteCols, ",")+1), ", ")
	err := l.db.W.QueryRowContext(ctx, l.db.Q("INSERT INTO linkedin_connections ("+linkedinWriteCols+") VALUES ("+marks+") RETURNING id"), linkedinValues(c)...).Scan(&id)
	if err != nil {
		return fmt.Errorf("create LinkedIn connection: %w", err)
	}
	c.ID = leadcycle.ID(id)
	return nil
}

func (l linkedinStore) get(ctx context.Context, q querier, id leadcycle.ID, lock bool) (*linkedin.Connection, error) {
	query := "SELECT " + linkedinReadCols + " FROM linkedin_connections WHERE id = ?"
	if lock {
		query += l.db.Dialect.ForUpdate
	}
	c, err := scanLinkedIn(q.QueryRowContext(ctx, l.db.Q(query), int64(id)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, linkedinNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("get LinkedIn connection %s: %w", id, err)
	}
	return c, nil
}

func (l linkedinStore) Connection(ctx context.Context, id leadcycle.ID) (*linkedin.Connection, error) {
	return l.get(ctx, l.db.R, id, false)
}

func (l linkedinStore) Connections(ctx context.Context) ([]linkedin.Connection, error) {
	rows, err := l.db.R.QueryContext(ctx, "SELECT "+linkedinReadCols+" FROM linkedin_connections ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list LinkedIn connections: %w", err)
	}
	defer rows.Close()
	out := []linkedin.Connection{}
	for rows.Next() {
		c, err := scanLinkedIn(rows)
		if err != nil {
			return nil, fmt.Errorf("list LinkedIn connections: %w", err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

func (l linkedinStore) UpdateConnection(ctx context.Context, id leadcycle.ID, fn func(*linkedin.Connection) error) (*linkedin.Connection, error) {
	var out *linkedin.Connection
	err := l.db.InTx(ctx, func(tx *sql.Tx) error {
		c, err := l.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		created := c.CreatedAt
		if err := fn(c); err != nil {
			return err
		}
		c.ID, c.CreatedAt, c.UpdatedAt = id, created, l.db.Clock.Now()
		c.Normalize()
		if err := c.Validate(); err != nil {
			return err
		}
		sets := strings.ReplaceAll(linkedinWriteCols, ",", " = ?,") + " = ?"
		args := append(linkedinValues(c), int64(id))
		if _, err := tx.ExecContext(ctx, l.db.Q("UPDATE linkedin_connections SET "+sets+" WHERE id = ?"), args...); err != nil {
			return fmt.Errorf("update LinkedIn connection %s: %w", id, err)
		}
		out, err = l.get(ctx, tx, id, false) // the bookkeeping fields as stored, whatever fn did to them
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (l linkedinStore) DeleteConnection(ctx context.Context, id leadcycle.ID) error {
	return l.exec1(ctx, id, "delete LinkedIn connection", "DELETE FROM linkedin_connections WHERE id = ?", int64(id))
}

// exec1 runs a statement that must change the connection's row.
func (l linkedinStore) exec1(ctx context.Context, id leadcycle.ID, what, query string, args ...any) error {
	res, err := l.db.W.ExecContext(ctx, l.db.Q(query), args...)
	if err != nil {
		return fmt.Errorf("%s %s: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return linkedinNotFound(id)
	}
	return nil
}

func (l linkedinStore) exists(ctx context.Context, id leadcycle.ID) error {
	var one int
	err := l.db.W.QueryRowContext(ctx, l.db.Q("SELECT 1 FROM linkedin_connections WHERE id = ?"), int64(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return linkedinNotFound(id)
	}
	return err
}

func (l linkedinStore) AcquireLease(ctx context.Context, id leadcycle.ID, owner string, ttl time.Duration) (bool, error) {
	if owner == "" {
		return false, fmt.Errorf("acquire lease: owner is empty")
	}
	now := l.db.Clock.Now()
	res, err := l.db.W.ExecContext(ctx, l.db.Q("UPDATE linkedin_connections SET lease_owner = ?, lease_until = ? WHERE id = ? AND (lease_until IS NULL OR lease_until <= ?)"),
		owner, micros(now.Add(ttl)), int64(id), micros(now))
	if err != nil {
		return false, fmt.Errorf("acquire lease of LinkedIn connection %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	return false, l.exists(ctx, id)
}

func (l linkedinStore) RenewLease(ctx context.Context, id leadcycle.ID, owner string, ttl time.Duration) (bool, error) {
	res, err := l.db.W.ExecContext(ctx, l.db.Q("UPDATE linkedin_connections SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_until IS NOT NULL"),
		micros(l.db.Clock.Now().Add(ttl)), int64(id), owner)
	if err != nil {
		return false, fmt.Errorf("renew lease of LinkedIn connection %s: %w", id, err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (l linkedinStore) ReleaseLease(ctx context.Context, id leadcycle.ID, owner string) error {
	_, err := l.db.W.ExecContext(ctx, l.db.Q("UPDATE linkedin_connections SET lease_owner = '', lease_until = NULL WHERE id = ? AND lease_owner = ?"), int64(id), owner)
	if err != nil {
		return fmt.Errorf("release lease of LinkedIn connection %s: %w", id, err)
	}
	return nil
}

func (l linkedinStore) SaveTokens(ctx context.Context, id leadcycle.ID, accessToken, refreshToken string, expiresAt *time.Time) error {
	return l.exec1(ctx, id, "save tokens of LinkedIn connection", "UPDATE linkedin_connections SET access_token = ?, refresh_token = ?, token_expires_at = ? WHERE id = ?",
		accessToken, refreshToken, nullMicros(expiresAt), int64(id))
}

func (l linkedinStore) RecordSync(ctx context.Context, id leadcycle.ID, at time.Time, success bool, cursor *time.Time, errMsg string, stats linkedin.SyncStats) error {
	if success {
		return l.exec1(ctx, id, "record sync of LinkedIn connection",
			"UPDATE linkedin_connections SET last_sync_at = ?, last_success_at = ?, last_error = ?, last_stats = ?, cursor_at = ? WHERE id = ?",
			micros(at), micros(at), errMsg, jsonText(stats), nullMicros(cursor), int64(id))
	}
	return l.exec1(ctx, id, "record sync of LinkedIn connection",
		"UPDATE linkedin_connections SET last_sync_at = ?, last_error = ?, last_stats = ? WHERE id = ?",
		micros(at), errMsg, jsonText(stats), int64(id))
}

func (l linkedinStore) CapturedSubmissions(ctx context.Context, connectionID leadcycle.ID, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, int64(connectionID))
		for _, id := range chunk {
			args = append(args, id)
		}
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")
		rows, err := l.db.R.QueryContext(ctx, l.db.Q("SELECT submission_id FROM linkedin_submissions WHERE connection_id = ? AND status = '"+
			linkedin.SubmissionCaptured+"' AND submission_id IN ("+marks+")"), args...)
		if err != nil {
			return nil, fmt.Errorf("captured LinkedIn submissions: %w", err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (l linkedinStore) SaveSubmission(ctx context.Context, s *linkedin.Submission) error {
	if s.SubmissionID == "" || (s.Status != linkedin.SubmissionCaptured && s.Status != linkedin.SubmissionFailed) {
		return fmt.Errorf("save LinkedIn submission: needs an id and a status of captured or failed")
	}
	if err := l.exists(ctx, s.ConnectionID); err != nil {
		return err
	}
	_, err := l.db.W.ExecContext(ctx, l.db.Q(`INSERT INTO linkedin_submissions
		(connection_id, submission_id, status, submitted_at, contact_id, lead_id, interaction_id, error, processed_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (connection_id, submission_id) DO UPDATE SET status = excluded.status, submitted_at = excluded.submitted_at,
		contact_id = excluded.contact_id, lead_id = excluded.lead_id, interaction_id = excluded.interaction_id,
		error = excluded.error, processed_at = excluded.processed_at`),
		int64(s.ConnectionID), s.SubmissionID, s.Status, micros(s.SubmittedAt), nullID(s.ContactID), nullID(s.LeadID), nullID(s.InteractionID),
		s.Error, micros(s.ProcessedAt))
	if err != nil {
		return fmt.Errorf("save LinkedIn submission %s: %w", s.SubmissionID, err)
	}
	return nil
}

func (l linkedinStore) CountSubmissions(ctx context.Context, connectionID leadcycle.ID) (map[string]int, error) {
	rows, err := l.db.R.QueryContext(ctx, l.db.Q("SELECT status, COUNT(*) FROM linkedin_submissions WHERE connection_id = ? GROUP BY status"), int64(connectionID))
	if err != nil {
		return nil, fmt.Errorf("count LinkedIn submissions: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, rows.Err()
}

// keptRuns is how many runs are kept per connection.
const keptRuns = 200

func (l linkedinStore) CreateSyncRun(ctx context.Context, r *linkedin.SyncRun) error {
	if r.Failures == nil {
		r.Failures = []linkedin.SyncFailure{}
	}
	return l.db.InTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, l.db.Q("SELECT 1 FROM linkedin_connections WHERE id = ?"+l.db.Dialect.ForUpdate), int64(r.ConnectionID)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return linkedinNotFound(r.ConnectionID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, l.db.Q("UPDATE linkedin_sync_runs SET status = ?, finished_at = COALESCE(finished_at, ?), error = ? WHERE connection_id = ? AND status = ?"),
			linkedin.RunInterrupted, micros(r.StartedAt), "the sync stopped without finishing (the process ended or lost its lease)", int64(r.ConnectionID), linkedin.RunRunning); err != nil {
			return fmt.Errorf("interrupt stale LinkedIn sync runs: %w", err)
		}
		var id int64
		err = tx.QueryRowContext(ctx, l.db.Q(`INSERT INTO linkedin_sync_runs (connection_id, trigger_kind, status, started_at, finished_at,
			fetched, contacts_created, leads_created, matched, skipped, errors, error, failures)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`), l.runValues(r)...).Scan(&id)
		if err != nil {
			return fmt.Errorf("create LinkedIn sync run: %w", err)
		}
		r.ID = leadcycle.ID(id)
		_, err = tx.ExecContext(ctx, l.db.Q(`DELETE FROM linkedin_sync_runs WHERE connection_id = ? AND id <= (
			SELECT id FROM linkedin_sync_runs WHERE connection_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`),
			int64(r.ConnectionID), int64(r.ConnectionID), keptRuns)
		return err
	})
}

func (l linkedinStore) runValues(r *linkedin.SyncRun) []any {
	return []any{int64(r.ConnectionID), r.Trigger, r.Status, micros(r.StartedAt), nullMicros(r.FinishedAt),
		r.Stats.Fetched, r.Stats.ContactsCreated, r.Stats.LeadsCreated, r.Stats.Matched, r.Stats.Skipped, r.Stats.Errors,
		r.Error, jsonText(r.Failures)}
}

func (l linkedinStore) FinishSyncRun(ctx context.Context, r *linkedin.SyncRun) error {
	if r.Failures == nil {
		r.Failures = []linkedin.SyncFailure{}
	}
	res, err := l.db.W.ExecContext(ctx, l.db.Q(`UPDATE linkedin_sync_runs SET status = ?, finished_at = ?, fetched = ?, contacts_created = ?,
		leads_created = ?, matched = ?, skipped = ?, errors = ?, error = ?, failures = ? WHERE id = ?`),
		r.Status, nullMicros(r.FinishedAt), r.Stats.Fetched, r.Stats.ContactsCreated, r.Stats.LeadsCreated, r.Stats.Matched,
		r.Stats.Skipped, r.Stats.Errors, r.Error, jsonText(r.Failures), int64(r.ID))
	if err != nil {
		return fmt.Errorf("finish LinkedIn sync run %s: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadcycle.Errorf(leadcycle.ENotFound, "LinkedIn sync run %s not found", r.ID)
	}
	return nil
}

func (l linkedinStore) SyncRuns(ctx context.Context, connectionID leadcycle.ID, limit int) ([]linkedin.SyncRun, error) {
	if limit <= 0 || limit > keptRuns {
		limit = keptRuns
	}
	rows, err := l.db.R.QueryContext(ctx, l.db.Q(`SELECT id, connection_id, trigger_kind, status, started_at, finished_at, fetched, contacts_created,
		leads_created, matched, skipped, errors, error, failures FROM linkedin_sync_runs WHERE connection_id = ? ORDER BY id DESC LIMIT ?`),
		int64(connectionID), limit)
	if err != nil {
		return nil, fmt.Errorf("list LinkedIn sync runs: %w", err)
	}
	defer rows.Close()
	out := []linkedin.SyncRun{}
	for rows.Next() {
		var r linkedin.SyncRun
		if err := rows.Scan(idCol{&r.ID}, idCol{&r.ConnectionID}, &r.Trigger, &r.Status, timeCol{&r.StartedAt}, nullTimeCol{&r.FinishedAt},
			&r.Stats.Fetched, &r.Stats.ContactsCreated, &r.Stats.LeadsCreated, &r.Stats.Matched, &r.Stats.Skipped, &r.Stats.Errors,
			&r.Error, jsonCol{&r.Failures}); err != nil {
			return nil, fmt.Errorf("list LinkedIn sync runs: %w", err)
		}
		if r.Failures == nil {
			r.Failures = []linkedin.SyncFailure{}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
