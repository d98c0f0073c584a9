package sqldb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
)

var _ leadcycle.TrackingStore = (*Store)(nil)

var trackingSiteTable = &table[leadcycle.TrackingSite]{
	name: "tracking_sites", collection: "tracking-sites",
	cols: []string{"key", "name", "allowed_origins", "consent_implied", "created_at", "updated_at"},
	values: func(s *leadcycle.TrackingSite) []any {
		return []any{s.Key, s.Name, jsonText(s.AllowedOrigins), s.ConsentImplied, micros(s.CreatedAt), micros(s.UpdatedAt)}
	},
	dests: func(s *leadcycle.TrackingSite) []any {
		return []any{idCol{&s.ID}, &s.Key, &s.Name, jsonCol{&s.AllowedOrigins}, &s.ConsentImplied, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt}}
	},
	id: func(s *leadcycle.TrackingSite) *leadcycle.ID { return &s.ID },
	prepare: func(s *leadcycle.TrackingSite, now time.Time, create bool) error {
		s.Normalize()
		if create && s.Key == "" {
			s.Key = leadcycle.NewTrackingSiteKey()
		}
		stamp(&s.CreatedAt, &s.UpdatedAt, now, create)
		return s.Validate()
	},
	beforeInsert: func(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.TrackingSite) error {
		var one int
		err := tx.QueryRowContext(ctx, db.Q("SELECT 1 FROM tracking_sites WHERE key = ?"), s.Key).Scan(&one)
		if err == nil {
			return leadcycle.FieldErrorf(leadcycle.EConflict, "key", "another tracking site has the key %s", s.Key)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return nil
	},
}

// TrackingSites implements leadcycle.TrackingStore.
func (s *Store) TrackingSites() leadcycle.Repo[leadcycle.TrackingSite] { return s.trackingSites }

// TrackingSiteByKey implements leadcycle.TrackingStore.
func (s *Store) TrackingSiteByKey(ctx context.Context, key string) (*leadcycle.TrackingSite, error) {
	var site leadcycle.TrackingSite
	err := s.R.QueryRowContext(ctx, s.Q(s.trackingSites.selectSQL+" WHERE key = ?"), key).Scan(trackingSiteTable.dests(&site)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "no tracking site has the key %q", key)
	}
	if err != nil {
		return nil, fmt.Errorf("tracking site by key: %w", err)
	}
	return &site, nil
}

// trackingConsentOf returns the contact's tracking consent and whether the
// contact exists. With lock, the contact's row stays locked until the
// transaction ends, so that concurrent writers for one contact take turns.
func trackingConsentOf(ctx context.Context, db *DB, q querier, id leadcycle.ID, lock bool) (string, bool, error) {
	query := "SELECT consent FROM contacts WHERE id = ?"
	if lock {
		query += db.Dialect.ForUpdate
	}
	var c leadcycle.Consent
	err := q.QueryRowContext(ctx, db.Q(query), int64(id)).Scan(jsonCol{&c})
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("consent of contact %s: %w", id, err)
	}
	return c.Tracking, true, nil
}

// pageViewInteraction is the page_view interaction of a contact for a visit.
func pageViewInteraction(contactID leadcycle.ID, visitorID, url, referrer, title, device string, at time.Time) *leadcycle.Interaction {
	props := map[string]any{"url": url, "referrer": referrer, "title": title, "visitor_id": visitorID}
	if device != "" {
		props["device"] = device
	}
	return &leadcycle.Interaction{Type: leadcycle.InteractionPageView, OccurredAt: at, ContactID: contactID, Properties: props}
}

func (s *Store) occurred(t time.Time) time.Time {
	if t.IsZero() {
		return s.Clock.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// RecordPageView implements leadcycle.TrackingStore. The visitor row is
// upserted first: on PostgreSQL that locks it, so a page view and a stitch
// of the same visitor take turns and no visit is left behind anonymous.
func (s *Store) RecordPageView(ctx context.Context, v leadcycle.PageView) (leadcycle.PageViewResult, error) {
	var res leadcycle.PageViewResult
	if err := v.Validate(); err != nil {
		return res, err
	}
	at := s.occurred(v.OccurredAt)
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		res = leadcycle.PageViewResult{}
		var contact sql.NullInt64
		err := tx.QueryRowContext(ctx, s.Q(`INSERT INTO visitors (id, site_id, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET
				first_seen_at = CASE WHEN excluded.first_seen_at < visitors.first_seen_at THEN excluded.first_seen_at ELSE visitors.first_seen_at END,
				last_seen_at = CASE WHEN excluded.last_seen_at > visitors.last_seen_at THEN excluded.last_seen_at ELSE visitors.last_seen_at END
			RETURNING contact_id`), v.VisitorID, nullID(v.SiteID), micros(at), micros(at)).Scan(&contact)
		if err != nil {
			return fmt.Errorf("record page view: visitor: %w", err)
		}
		if !contact.Valid {
			_, err := tx.ExecContext(ctx, s.Q(`INSERT INTO page_visits (visitor_id, site_id, url, referrer, title, device, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)`),
				v.VisitorID, nullID(v.SiteID), v.URL, v.Referrer, v.Title, v.Device, micros(at))
			if err != nil {
				return fmt.Errorf("record page view: %w", err)
			}
			res.Recorded = true
			return nil
		}
		cid := leadcycle.ID(contact.Int64)
		res.ContactID = &cid
		consent, ok, err := trackingConsentOf(ctx, s.DB, tx, cid, false)
		if err != nil || !ok || consent == leadcycle.ConsentDenied {
			return err
		}
		i := pageViewInteraction(cid, v.VisitorID, v.URL, v.Referrer, v.Title, v.Device, at)
		if err := s.interactions.createTx(ctx, tx, i); err != nil {
			return err
		}
		res.Recorded = true
		res.InteractionID = &i.ID
		return nil
	})
	return res, err
}

func badVisitorID() error {
	return leadcycle.FieldErrorf(leadcycle.EInvalid, "visitor_id", "must be 32 lower-case hexadecimal characters")
}

// StitchVisitor implements leadcycle.TrackingStore.
func (s *Store) StitchVisitor(ctx context.Context, visitorID string, contactID leadcycle.ID) (int, error) {
	if !leadcycle.ValidVisitorID(visitorID) {
		return 0, badVisitorID()
	}
	n := 0
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		n = 0
		consent, ok, err := trackingConsentOf(ctx, s.DB, tx, contactID, false)
		if err != nil {
			return err
		}
		if !ok {
			return leadcycle.Errorf(leadcycle.ENotFound, "contact %s not found", contactID)
		}
		now := micros(s.Clock.Now())
		// Linking locks the visitor's row (PostgreSQL) until the commit:
		// concurrent page views of the visitor wait, then see the contact.
		_, err = tx.ExecContext(ctx, s.Q(`INSERT INTO visitors (id, contact_id, first_seen_at, last_seen_at, identified_at) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET contact_id = excluded.contact_id,
				identified_at = CASE WHEN visitors.contact_id = excluded.contact_id THEN visitors.identified_at ELSE excluded.identified_at END`),
			visitorID, int64(contactID), now, now, now)
		if err != nil {
			return fmt.Errorf("stitch visitor: %w", err)
		}
		visits, err := s.pageVisits(ctx, tx, visitorID)
		if err != nil || len(visits) == 0 {
			return err
		}
		if consent != leadcycle.ConsentDenied {
			for _, pv := range visits {
				i := pageViewInteraction(contactID, visitorID, pv.URL, pv.Referrer, pv.Title, pv.Device, pv.OccurredAt)
				if err := s.interactions.createTx(ctx, tx, i); err != nil {
					return fmt.Errorf("stitch visitor: page visit %s: %w", pv.ID, err)
				}
			}
			n = len(visits)
		}
		last := visits[len(visits)-1].ID
		for _, pv := range visits {
			last = max(last, pv.ID)
		}
		if _, err := tx.ExecContext(ctx, s.Q("DELETE FROM page_visits WHERE visitor_id = ? AND id <= ?"), visitorID, int64(last)); err != nil {
			return fmt.Errorf("stitch visitor: %w", err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

const visitorCols = "id, site_id, contact_id, first_seen_at, last_seen_at, identified_at"

// scanVisitor scans a row of visitorCols.
func scanVisitor(r scanner) (leadcycle.Visitor, error) {
	var v leadcycle.Visitor
	err := r.Scan(&v.ID, nullIDCol{&v.SiteID}, nullIDCol{&v.ContactID}, timeCol{&v.FirstSeenAt}, timeCol{&v.LastSeenAt}, nullTimeCol{&v.IdentifiedAt})
	return v, err
}

// Visitor implements leadcycle.TrackingStore.
func (s *Store) Visitor(ctx context.Context, id string) (*leadcycle.Visitor, error) {
	v, err := scanVisitor(s.R.QueryRowContext(ctx, s.Q("SELECT "+visitorCols+" FROM visitors WHERE id = ?"), id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "visitor %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("visitor: %w", err)
	}
	return &v, nil
}

// PageVisits implements leadcycle.TrackingStore.
func (s *Store) PageVisits(ctx context.Context, visitorID string) ([]leadcycle.PageVisit, error) {
	return s.pageVisits(ctx, s.R, visitorID)
}

const pageVisitCols = "id, visitor_id, site_id, url, referrer, title, device, occurred_at"

// scanPageVisit scans a row of pageVisitCols.
func scanPageVisit(r scanner) (leadcycle.PageVisit, error) {
	var pv leadcycle.PageVisit
	err := r.Scan(idCol{&pv.ID}, &pv.VisitorID, nullIDCol{&pv.SiteID}, &pv.URL, &pv.Referrer, &pv.Title, &pv.Device, timeCol{&pv.OccurredAt})
	return pv, err
}

func (s *Store) pageVisits(ctx context.Context, q querier, visitorID string) ([]leadcycle.PageVisit, error) {
	rows, err := q.QueryContext(ctx, s.Q("SELECT "+pageVisitCols+" FROM page_visits WHERE visitor_id = ? ORDER BY occurred_at, id"), visitorID)
	if err != nil {
		return nil, fmt.Errorf("page visits: %w", err)
	}
	out, err := scanAll(rows, scanPageVisit)
	if err != nil {
		return nil, fmt.Errorf("page visits: %w", err)
	}
	return out, nil
}

// PurgeAnonymousVisits implements leadcycle.TrackingStore.
func (s *Store) PurgeAnonymousVisits(ctx context.Context, before time.Time) (visits, visitors int, err error) {
	cutoff := micros(before)
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.Q(`DELETE FROM page_visits WHERE occurred_at < ?
			AND visitor_id IN (SELECT id FROM visitors WHERE contact_id IS NULL)`), cutoff)
		if err != nil {
			return fmt.Errorf("purge page visits: %w", err)
		}
		n, _ := res.RowsAffected()
		visits = int(n)
		res, err = tx.ExecContext(ctx, s.Q("DELETE FROM visitors WHERE contact_id IS NULL AND last_seen_at < ?"), cutoff)
		if err != nil {
			return fmt.Errorf("purge visitors: %w", err)
		}
		n, _ = res.RowsAffected()
		visitors = int(n)
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	return visits, visitors, nil
}

// RecordEmailEvent implements leadcycle.TrackingStore. The contact's row is
// locked first, so two opens of one email arriving together are recorded
// once.
func (s *Store) RecordEmailEvent(ctx context.Context, e leadcycle.EmailEvent) (*leadcycle.Interaction, error) {
	var v []leadcycle.FieldError
	switch e.Type {
	case leadcycle.InteractionEmailOpened:
	case leadcycle.InteractionEmailClicked:
		if !leadcycle.ValidWebURL(e.URL) {
			v = append(v, leadcycle.FieldError{Field: "url", Message: "must be an absolute http or https address"})
		}
	default:
		v = append(v, leadcycle.FieldError{Field: "type", Message: "must be email_opened or email_clicked"})
	}
	if e.ContactID <= 0 {
		v = append(v, leadcycle.FieldError{Field: "contact_id", Message: "is required"})
	}
	if e.EmailID == "" || len(e.EmailID) > 200 {
		v = append(v, leadcycle.FieldError{Field: "email_id", Message: "must have 1 to 200 characters"})
	}
	if len(v) > 0 {
		return nil, &leadcycle.Error{Code: leadcycle.EInvalid, Message: "validation failed: " + v[0].Field + ": " + v[0].Message, Fields: v}
	}
	at := s.occurred(e.OccurredAt)
	var out *leadcycle.Interaction
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		out = nil
		consent, ok, err := trackingConsentOf(ctx, s.DB, tx, e.ContactID, true)
		if err != nil || !ok || consent == leadcycle.ConsentDenied {
			return err
		}
		if e.Type == leadcycle.InteractionEmailOpened {
			dup, err := s.openedRecently(ctx, tx, e.ContactID, e.EmailID, at)
			if err != nil || dup {
				return err
			}
		}
		props := map[string]any{"email_id": e.EmailID}
		if e.Type == leadcycle.InteractionEmailClicked {
			props["url"] = e.URL
		}
		var leadID *leadcycle.ID
		if e.LeadID != nil {
			// A lead deleted since the email was sent is left out.
			var one int
			err := tx.QueryRowContext(ctx, s.Q("SELECT 1 FROM leads WHERE id = ?"), int64(*e.LeadID)).Scan(&one)
			switch {
			case err == nil:
				leadID = e.LeadID
				props["lead_id"] = e.LeadID.String()
			case !errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("record email event: lead: %w", err)
			}
		}
		i := &leadcycle.Interaction{Type: e.Type, OccurredAt: at, ContactID: e.ContactID, LeadID: leadID, Properties: props}
		if err := s.interactions.createTx(ctx, tx, i); err != nil {
			return err
		}
		out = i
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// openedRecently reports whether the contact opened the email within
// EmailOpenDedupWindow before at.
func (s *Store) openedRecently(ctx context.Context, tx *sql.Tx, contactID leadcycle.ID, emailID string, at time.Time) (bool, error) {
	rows, err := tx.QueryContext(ctx, s.Q("SELECT properties FROM interactions WHERE contact_id = ? AND type = ? AND occurred_at >= ?"),
		int64(contactID), leadcycle.InteractionEmailOpened, micros(at.Add(-leadcycle.EmailOpenDedupWindow)))
	if err != nil {
		return false, fmt.Errorf("recent opens: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var props map[string]any
		if err := rows.Scan(jsonCol{&props}); err != nil {
			return false, fmt.Errorf("recent opens: %w", err)
		}
		if id, _ := props["email_id"].(string); id == emailID {
			return true, nil
		}
	}
	return false, rows.Err()
}

// Secret implements leadcycle.TrackingStore. The first caller generates the
// value; a concurrent first caller on another node loses the insert and reads
// the winner's value. Errors never include the value.
func (s *Store) Secret(ctx context.Context, name string, size int) ([]byte, error) {
	if name == "" || strings.IndexByte(name, 0) >= 0 || size < 16 || size > 1024 {
		return nil, fmt.Errorf("secret: invalid name or size %d", size)
	}
	read := func() ([]byte, error) {
		var v []byte
		err := s.W.QueryRowContext(ctx, s.Q("SELECT value FROM secrets WHERE name = ?"), name).Scan(&v)
		if err != nil {
			return nil, err
		}
		if len(v) != size {
			return nil, fmt.Errorf("secret %s: stored with %d bytes, asked for %d", name, len(v), size)
		}
		return v, nil
	}
	v, err := read()
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return v, err
	}
	fresh := make([]byte, size)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	if _, err := s.W.ExecContext(ctx, s.Q("INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING"),
		name, fresh, micros(s.Clock.Now())); err != nil {
		return nil, fmt.Errorf("secret %s: %w", name, err)
	}
	return read()
}
