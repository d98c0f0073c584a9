package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/email"
)

// Email: templates, the queue of sends the mailer works through, the
// suppression list, and the consent changes made from messages.

var emailTemplateTable = &table[leadcycle.EmailTemplate]{
	name: "email_templates", collection: "email-templates",
	cols: []string{"name", "subject", "html", "text", "from_name", "from_email", "reply_to", "purpose", "created_at", "updated_at"},
	values: func(t *leadcycle.EmailTemplate) []any {
		return []any{t.Name, t.Subject, t.HTML, t.Text, t.FromName, t.FromEmail, t.ReplyTo, t.Purpose, micros(t.CreatedAt), micros(t.UpdatedAt)}
	},
	dests: func(t *leadcycle.EmailTemplate) []any {
		return []any{idCol{&t.ID}, &t.Name, &t.Subject, &t.HTML, &t.Text, &t.FromName, &t.FromEmail, &t.ReplyTo, &t.Purpose, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}}
	},
	id: func(t *leadcycle.EmailTemplate) *leadcycle.ID { return &t.ID },
	prepare: func(t *leadcycle.EmailTemplate, now time.Time, create bool) error {
		t.Normalize()
		stamp(&t.CreatedAt, &t.UpdatedAt, now, create)
		return t.Validate()
	},
	validate: func(ctx context.Context, db *DB, tx *sql.Tx, t *leadcycle.EmailTemplate) error {
		fields, err := TemplateFields(ctx, db, tx)
		if err != nil {
			return err
		}
		if err := CheckTemplate(t, fields); err != nil {
			return err
		}
		// A form's double opt-in keeps its confirmation email fit for it.
		var formID int64
		var formName string
		err = db.QueryRowQ(ctx, tx, "SELECT id, name FROM forms WHERE confirmation_email_id = ? AND double_opt_in = ? ORDER BY id LIMIT 1", int64(t.ID), true).Scan(&formID, &formName)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := checkConfirmationEmail(t.Purpose, t.HTML, t.Text, fields); err != nil {
			field := "purpose"
			if t.Purpose == leadcycle.PurposeTransactional {
				field = "html"
			}
			return leadcycle.FieldErrorf(leadcycle.EInvalid, field, "form %d (%s) confirms its double opt-in with this email: %s", formID, formName, leadcycle.ErrorFields(err)[0].Message)
		}
		return nil
	},
	beforeDelete: func(ctx context.Context, db *DB, tx *sql.Tx, t *leadcycle.EmailTemplate) error {
		var formID int64
		var formName string
		err := db.QueryRowQ(ctx, tx, "SELECT id, name FROM forms WHERE confirmation_email_id = ? ORDER BY id LIMIT 1", int64(t.ID)).Scan(&formID, &formName)
		if err == nil {
			return leadcycle.Errorf(leadcycle.EConflict, "form %d (%s) uses this email as its double opt-in confirmation", formID, formName)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var n int
		if err := db.QueryRowQ(ctx, tx, "SELECT COUNT(*) FROM email_sends WHERE template_id = ?", int64(t.ID)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return leadcycle.Errorf(leadcycle.EConflict, "email template %s was sent %d times; its sends keep it (rename it instead)", t.ID, n)
		}
		rows, err := db.QueryQ(ctx, tx, "SELECT id, name, steps FROM journeys")
		if err != nil {
			return err
		}
		return eachRow(rows, func(r scanner) error {
			var id int64
			var name string
			var steps []leadcycle.JourneyStep
			if err := r.Scan(&id, &name, jsonCol{&steps}); err != nil {
				return err
			}
			for _, s := range steps {
				if s.EmailID != nil && *s.EmailID == t.ID {
					return leadcycle.Errorf(leadcycle.EConflict, "journey %d (%s) sends this email in step %s", id, name, s.ID)
				}
			}
			return nil
		})
	},
}

// TemplateFields returns the placeholders email templates may use: the
// built-in fields and the custom fields of contacts, accounts and leads (as
// custom.NAME).
func TemplateFields(ctx context.Context, db *DB, q querier) (email.Fields, error) {
	fields := email.DefaultFields()
	rows, err := db.QueryQ(ctx, q, "SELECT entity, name FROM field_defs")
	if err != nil {
		return nil, fmt.Errorf("custom fields: %w", err)
	}
	err = eachRow(rows, func(r scanner) error {
		var entity, name string
		if err := r.Scan(&entity, &name); err != nil {
			return err
		}
		fields.Add(entity, "custom."+name)
		return nil
	})
	return fields, err
}

// CheckTemplate parses a template's placeholders; a problem is an EInvalid
// error on the part's field (subject, html or text) with its position.
func CheckTemplate(t *leadcycle.EmailTemplate, fields email.Fields) error {
	_, err := email.ParseWith(email.Template{Subject: t.Subject, HTML: t.HTML, Text: t.Text}, fields)
	var te *email.TemplateError
	if errors.As(err, &te) {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, te.Part, "%s", te.Error())
	}
	return err
}

// Email send failure reasons.
const (
	skipNoConsent  = "no consent to commercial email"
	skipSuppressed = "the address is on the suppression list"
	skipNoAddress  = "the contact has no email address"
	maxSendTries   = 5
)

func isSuppressed(ctx context.Context, db *DB, q querier, email string) (bool, error) {
	var one int
	err := db.QueryRowQ(ctx, q, "SELECT 1 FROM email_suppressions WHERE email = ?", strings.ToLower(email)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// queueSend queues an email for the mailer.
func queueSend(ctx context.Context, db *DB, tx *sql.Tx, e leadcycle.EmailSend, now time.Time) error {
	_, err := db.ExecQ(ctx, tx, `INSERT INTO email_sends (template_id, contact_id, lead_id, journey_id, step, to_email, status, confirm, due_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(e.TemplateID), int64(e.ContactID), nullID(e.LeadID), nullID(e.JourneyID), e.Step, strings.ToLower(e.ToEmail), leadcycle.SendQueued, e.Confirm, micros(now), micros(now))
	if err != nil {
		return fmt.Errorf("queue email: %w", err)
	}
	return nil
}

// emailStore implements leadcycle.EmailStore.
type emailStore struct{ s *Store }

// EmailTemplates implements leadcycle.Store.
func (s *Store) EmailTemplates() leadcycle.Repo[leadcycle.EmailTemplate] { return s.emailTemplates }

// Emails implements leadcycle.Store.
func (s *Store) Emails() leadcycle.EmailStore { return emailStore{s} }

const sendCols = "id, template_id, contact_id, lead_id, journey_id, step, to_email, status, reason, confirm, attempts, message_id, created_at, sent_at"

func scanSend(r scanner) (leadcycle.EmailSend, error) {
	var e leadcycle.EmailSend
	return e, r.Scan(idCol{&e.ID}, idCol{&e.TemplateID}, idCol{&e.ContactID}, nullIDCol{&e.LeadID}, nullIDCol{&e.JourneyID}, &e.Step, &e.ToEmail, &e.Status, &e.Reason,
		&e.Confirm, &e.Attempts, &e.MessageID, timeCol{&e.CreatedAt}, nullTimeCol{&e.SentAt})
}

// ClaimSends implements leadcycle.EmailStore.
func (x emailStore) ClaimSends(ctx context.Context, max int, lease time.Duration) ([]leadcycle.EmailContext, error) {
	s := x.s
	var out []leadcycle.EmailContext
	err := s.InTxRetry(ctx, func(tx *sql.Tx) error {
		out = out[:0]
		now := s.Clock.Now()
		rows, err := s.QueryQ(ctx, tx, `UPDATE email_sends SET claimed_until = ? WHERE id IN (
			SELECT id FROM email_sends WHERE status = ? AND due_at <= ? AND claimed_until < ? ORDER BY due_at LIMIT ?`+s.Dialect.SkipLocked+`) RETURNING `+sendCols,
			micros(now.Add(lease)), leadcycle.SendQueued, micros(now), micros(now), max)
		if err != nil {
			return fmt.Errorf("claim emails: %w", err)
		}
		sends, err := scanAll(rows, scanSend)
		if err != nil {
			return err
		}
		for _, e := range sends {
			ec, skip, err := x.context(ctx, tx, e)
			if err != nil {
				return err
			}
			if skip != "" {
				if _, err := s.ExecQ(ctx, tx, "UPDATE email_sends SET status = ?, reason = ?, claimed_until = 0 WHERE id = ?", leadcycle.SendSkipped, skip, int64(e.ID)); err != nil {
					return err
				}
				continue
			}
			out = append(out, *ec)
		}
		return nil
	})
	return out, err
}

// context reads what a send is rendered with, or says why it is skipped.
func (x emailStore) context(ctx context.Context, tx *sql.Tx, e leadcycle.EmailSend) (*leadcycle.EmailContext, string, error) {
	s := x.s
	ec := &leadcycle.EmailContext{Send: e}
	t, err := s.emailTemplates.get(ctx, tx, e.TemplateID, false)
	if err != nil {
		return nil, "", err
	}
	ec.Template = *t
	c, err := s.contacts.get(ctx, tx, e.ContactID, false)
	if err != nil {
		return nil, "", err
	}
	ec.Contact = *c
	switch {
	case c.Email == "":
		return nil, skipNoAddress, nil
	case t.Purpose == leadcycle.PurposeCommercial && c.Consent.CommercialEmail != leadcycle.ConsentGranted:
		return nil, skipNoConsent, nil
	}
	// The contact's address now, which may have changed since queueing.
	ec.Send.ToEmail = c.Email
	suppressed, err := isSuppressed(ctx, s.DB, tx, c.Email)
	if err != nil {
		return nil, "", err
	}
	if suppressed {
		return nil, skipSuppressed, nil
	}
	if c.AccountID != nil {
		if a, err := s.accounts.get(ctx, tx, *c.AccountID, false); err == nil {
			ec.Account = a
		}
	}
	if e.LeadID != nil {
		if l, err := s.leads.get(ctx, tx, *e.LeadID, false); err == nil {
			ec.Lead = l
		}
	}
	return ec, "", nil
}

// MarkSent implements leadcycle.EmailStore.
func (x emailStore) MarkSent(ctx context.Context, id leadcycle.ID, messageID string) error {
	s := x.s
	return s.InTxRetry(ctx, func(tx *sql.Tx) error {
		e, err := scanSend(s.QueryRowQ(ctx, tx, "SELECT "+sendCols+" FROM email_sends WHERE id = ?"+s.Dialect.ForUpdate, int64(id)))
		if errors.Is(err, sql.ErrNoRows) {
			return leadcycle.Errorf(leadcycle.ENotFound, "no email send has the id %s", id)
		}
		if err != nil {
			return err
		}
		if e.Status != leadcycle.SendQueued {
			return nil
		}
		now := s.Clock.Now()
		if _, err := s.ExecQ(ctx, tx, "UPDATE email_sends SET status = ?, message_id = ?, sent_at = ?, attempts = attempts + 1, claimed_until = 0 WHERE id = ?",
			leadcycle.SendSent, messageID, micros(now), int64(id)); err != nil {
			return err
		}
		props := map[string]any{"email_id": e.TemplateID.String(), "send_id": e.ID.String()}
		if e.JourneyID != nil {
			props["journey_id"] = e.JourneyID.String()
		}
		return s.interactions.createTx(ctx, tx, &leadcycle.Interaction{Type: leadcycle.InteractionEmailSent, ContactID: e.ContactID, LeadID: e.LeadID, OccurredAt: now, Properties: props})
	})
}

// MarkFailed implements leadcycle.EmailStore.
func (x emailStore) MarkFailed(ctx context.Context, id leadcycle.ID, permanent bool, reason string, retry time.Duration) error {
	s := x.s
	return s.InTxRetry(ctx, func(tx *sql.Tx) error {
		e, err := scanSend(s.QueryRowQ(ctx, tx, "SELECT "+sendCols+" FROM email_sends WHERE id = ?"+s.Dialect.ForUpdate, int64(id)))
		if err != nil {
			return err
		}
		if e.Status != leadcycle.SendQueued {
			return nil
		}
		now := s.Clock.Now()
		reason = truncate(reason, 1000)
		switch {
		case permanent:
			if _, err := s.ExecQ(ctx, tx, "UPDATE email_sends SET status = ?, reason = ?, attempts = attempts + 1, claimed_until = 0 WHERE id = ?", leadcycle.SendBounced, reason, int64(id)); err != nil {
				return err
			}
			return suppress(ctx, s.DB, tx, leadcycle.Suppression{Email: e.ToEmail, Reason: leadcycle.SuppressBounce, Detail: reason}, now)
		case e.Attempts+1 >= maxSendTries:
			_, err := s.ExecQ(ctx, tx, "UPDATE email_sends SET status = ?, reason = ?, attempts = attempts + 1, claimed_until = 0 WHERE id = ?", leadcycle.SendFailed, reason, int64(id))
			return err
		default:
			_, err := s.ExecQ(ctx, tx, "UPDATE email_sends SET reason = ?, attempts = attempts + 1, due_at = ?, claimed_until = 0 WHERE id = ?", reason, micros(now.Add(retry)), int64(id))
			return err
		}
	})
}

// Sends implements leadcycle.EmailStore: newest first.
func (x emailStore) Sends(ctx context.Context, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.EmailSend], error) {
	where := []string{"1 = 1"}
	var args []any
	for _, f := range q.Filters {
		if f.Op != leadcycle.OpEq || len(f.Columns) != 1 {
			return leadcycle.Page[leadcycle.EmailSend]{}, leadcycle.Errorf(leadcycle.EInvalid, "unsupported filter")
		}
		switch c := f.Columns[0]; c {
		case "status":
			where, args = append(where, "status = ?"), append(args, f.Value)
		case "contact_id", "journey_id", "template_id":
			id, _ := f.Value.(leadcycle.ID)
			where, args = append(where, c+" = ?"), append(args, int64(id))
		default:
			return leadcycle.Page[leadcycle.EmailSend]{}, leadcycle.Errorf(leadcycle.EInvalid, "unsupported filter %s", c)
		}
	}
	return newestFirst(ctx, x.s.DB, q, "SELECT "+sendCols+" FROM email_sends WHERE "+strings.Join(where, " AND "), args, scanSend,
		func(e leadcycle.EmailSend) leadcycle.ID { return e.ID })
}

// pageOf makes a page of up to limit items from items read with one more
// than limit, cursorOf giving the cursor after an item.
func pageOf[T any](items []T, limit int, cursorOf func(T) string) leadcycle.Page[T] {
	page := leadcycle.Page[T]{Items: items}
	if len(items) > limit {
		page.Items = items[:limit]
		page.NextCursor = cursorOf(items[limit-1])
	}
	if page.Items == nil {
		page.Items = []T{}
	}
	return page
}

// pageLimit is the page size a query asks for.
func pageLimit(q leadcycle.ListQuery) int {
	if q.Limit <= 0 {
		return leadcycle.DefaultLimit
	}
	return min(q.Limit, leadcycle.MaxLimit)
}

func suppress(ctx context.Context, db *DB, tx *sql.Tx, sp leadcycle.Suppression, now time.Time) error {
	addr := strings.ToLower(strings.TrimSpace(sp.Email))
	if _, err := db.ExecQ(ctx, tx, "INSERT INTO email_suppressions (email, reason, detail, created_at) VALUES (?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET reason = excluded.reason, detail = excluded.detail",
		addr, sp.Reason, truncate(sp.Detail, 1000), micros(now)); err != nil {
		return fmt.Errorf("suppress address: %w", err)
	}
	_, err := db.ExecQ(ctx, tx, "UPDATE email_sends SET status = ?, reason = ?, claimed_until = 0 WHERE to_email = ? AND status = ?", leadcycle.SendSkipped, skipSuppressed, addr, leadcycle.SendQueued)
	return err
}

// Suppress implements leadcycle.EmailStore.
func (x emailStore) Suppress(ctx context.Context, sp leadcycle.Suppression) error {
	var v []leadcycle.FieldError
	if !leadcycle.ValidEmail(sp.Email) {
		v = append(v, leadcycle.FieldError{Field: "email", Message: "must be an email address"})
	}
	if sp.Reason != leadcycle.SuppressBounce && sp.Reason != leadcycle.SuppressComplaint {
		v = append(v, leadcycle.FieldError{Field: "reason", Message: `must be "bounce" or "complaint"`})
	}
	if len(v) > 0 {
		e := &leadcycle.Error{Code: leadcycle.EInvalid, Fields: v}
		e.Message = "validation failed: " + v[0].Field + ": " + v[0].Message
		return e
	}
	return x.s.InTxRetry(ctx, func(tx *sql.Tx) error { return suppress(ctx, x.s.DB, tx, sp, x.s.Clock.Now()) })
}

// Suppressions implements leadcycle.EmailStore: newest first.
func (x emailStore) Suppressions(ctx context.Context, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.Suppression], error) {
	s := x.s
	var where []string
	var args []any
	for _, f := range q.Filters {
		if f.Op != leadcycle.OpEq || len(f.Columns) != 1 || f.Columns[0] != "reason" {
			return leadcycle.Page[leadcycle.Suppression]{}, leadcycle.Errorf(leadcycle.EInvalid, "unsupported filter")
		}
		where, args = append(where, "reason = ?"), append(args, f.Value)
	}
	if q.Cursor != "" {
		where, args = append(where, "email > ?"), append(args, q.Cursor)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	limit := pageLimit(q)
	rows, err := s.QueryQ(ctx, s.R, "SELECT email, reason, detail, created_at FROM email_suppressions"+cond+" ORDER BY email LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return leadcycle.Page[leadcycle.Suppression]{}, err
	}
	items, err := scanAll(rows, func(r scanner) (leadcycle.Suppression, error) {
		var sp leadcycle.Suppression
		return sp, r.Scan(&sp.Email, &sp.Reason, &sp.Detail, timeCol{&sp.CreatedAt})
	})
	if err != nil {
		return leadcycle.Page[leadcycle.Suppression]{}, err
	}
	return pageOf(items, limit, func(sp leadcycle.Suppression) string { return sp.Email }), nil
}

// Unsuppress implements leadcycle.EmailStore.
func (x emailStore) Unsuppress(ctx context.Context, email string) error {
	res, err := x.s.ExecQ(ctx, x.s.W, "DELETE FROM email_suppressions WHERE email = ?", strings.ToLower(strings.TrimSpace(email)))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return leadcycle.Errorf(leadcycle.ENotFound, "%s is not on the suppression list", email)
	}
	return nil
}

// setConsent sets one purpose of a contact's consent when change says so.
func (x emailStore) setConsent(ctx context.Context, contactID leadcycle.ID, purpose string, change func(cur string) (string, bool)) (bool, error) {
	changed := false
	_, err := x.s.contacts.Update(ctx, contactID, func(c *leadcycle.Contact) error {
		cur := &c.Consent.CommercialEmail
		switch purpose {
		case leadcycle.ConsentCommercialEmail:
		case leadcycle.ConsentTracking:
			cur = &c.Consent.Tracking
		default:
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "purpose", "is not a consent purpose")
		}
		next, ok := change(*cur)
		if ok {
			*cur, changed = next, true
		}
		return nil
	})
	return changed, err
}

// Unsubscribe implements leadcycle.EmailStore.
func (x emailStore) Unsubscribe(ctx context.Context, contactID leadcycle.ID, emailID string) (bool, error) {
	return x.setConsent(ctx, contactID, leadcycle.ConsentCommercialEmail, func(cur string) (string, bool) {
		return leadcycle.ConsentDenied, cur != leadcycle.ConsentDenied
	})
}

// ConfirmConsent implements leadcycle.EmailStore.
func (x emailStore) ConfirmConsent(ctx context.Context, contactID leadcycle.ID, purpose string) (bool, error) {
	return x.setConsent(ctx, contactID, purpose, func(cur string) (string, bool) {
		return leadcycle.ConsentGranted, cur == leadcycle.ConsentPending
	})
}
