package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/email"
)

var strategyTable = &table[leadcycle.MatchingStrategy]{
	name: "matching_strategies", collection: "matching-strategies",
	cols: []string{"name", "kind", "fields", "update_when_matched", "create_when_none", "ignore_empty_values", "phone_region", "is_default", "created_at", "updated_at"},
	values: func(m *leadcycle.MatchingStrategy) []any {
		return []any{m.Name, m.Kind, jsonText(m.Fields), m.UpdateWhenMatched, m.CreateWhenNone, m.IgnoreEmptyValues, m.PhoneRegion, m.IsDefault, micros(m.CreatedAt), micros(m.UpdatedAt)}
	},
	dests: func(m *leadcycle.MatchingStrategy) []any {
		return []any{idCol{&m.ID}, &m.Name, &m.Kind, jsonCol{&m.Fields}, &m.UpdateWhenMatched, &m.CreateWhenNone, &m.IgnoreEmptyValues, &m.PhoneRegion, &m.IsDefault, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt}}
	},
	id: func(m *leadcycle.MatchingStrategy) *leadcycle.ID { return &m.ID },
	prepare: func(m *leadcycle.MatchingStrategy, now time.Time, create bool) error {
		m.Normalize()
		stamp(&m.CreatedAt, &m.UpdatedAt, now, create)
		return m.Validate()
	},
	beforeUpdate: func(old, m *leadcycle.MatchingStrategy) error {
		if m.Kind != old.Kind {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "kind", "cannot be changed; create a new strategy")
		}
		if old.IsDefault && !m.IsDefault {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "is_default", "make another %s strategy the default instead; there is always one", m.Kind)
		}
		return nil
	},
	beforeDelete: func(ctx context.Context, db *DB, tx *sql.Tx, m *leadcycle.MatchingStrategy) error {
		if m.IsDefault {
			return leadcycle.Errorf(leadcycle.EConflict, "strategy %s is the default %s strategy; make another one the default first", m.ID, m.Kind)
		}
		return nil
	},
	// A new default demotes the old one; changed fields rebuild the keys.
	afterWrite: func(ctx context.Context, db *DB, tx *sql.Tx, _, m *leadcycle.MatchingStrategy) error {
		db.strategiesInTx.Delete(tx)
		if m.IsDefault {
			if _, err := db.ExecQ(ctx, tx, "UPDATE matching_strategies SET is_default = ? WHERE kind = ? AND id <> ? AND is_default = ?", false, m.Kind, int64(m.ID), true); err != nil {
				return err
			}
		}
		return rebuildKeys(ctx, db, tx, m)
	},
}

var formTable = &table[leadcycle.Form]{
	name: "forms", collection: "forms",
	cols: []string{"name", "fields", "consents", "mode", "always_create_lead", "contact_strategy_id", "lead_strategy_id", "lead_topic", "campaign",
		"submit_label", "thank_you_message", "redirect_url", "active", "double_opt_in", "confirmation_email_id", "created_at", "updated_at"},
	values: func(f *leadcycle.Form) []any {
		return []any{f.Name, jsonText(f.Fields), jsonText(f.Consents), f.Mode, f.AlwaysCreateLead, nullID(f.ContactStrategyID), nullID(f.LeadStrategyID),
			f.LeadTopic, f.Campaign, f.SubmitLabel, f.ThankYouMessage, f.RedirectURL, f.Active, f.DoubleOptIn, nullID(f.ConfirmationEmailID), micros(f.CreatedAt), micros(f.UpdatedAt)}
	},
	dests: func(f *leadcycle.Form) []any {
		return []any{idCol{&f.ID}, &f.Name, jsonCol{&f.Fields}, jsonCol{&f.Consents}, &f.Mode, &f.AlwaysCreateLead, nullIDCol{&f.ContactStrategyID}, nullIDCol{&f.LeadStrategyID},
			&f.LeadTopic, &f.Campaign, &f.SubmitLabel, &f.ThankYouMessage, &f.RedirectURL, &f.Active, &f.DoubleOptIn, nullIDCol{&f.ConfirmationEmailID}, timeCol{&f.CreatedAt}, timeCol{&f.UpdatedAt}}
	},
	id: func(f *leadcycle.Form) *leadcycle.ID { return &f.ID },
	prepare: func(f *leadcycle.Form, now time.Time, create bool) error {
		f.Normalize()
		stamp(&f.CreatedAt, &f.UpdatedAt, now, create)
		return f.Validate()
	},
	refs: func(f *leadcycle.Form) []ref {
		return []ref{{"contact_strategy_id", "matching_strategies", f.ContactStrategyID}, {"lead_strategy_id", "matching_strategies", f.LeadStrategyID},
			{"confirmation_email_id", "email_templates", f.ConfirmationEmailID}}
	},
	validate: func(ctx context.Context, db *DB, tx *sql.Tx, f *leadcycle.Form) error {
		if f.ConfirmationEmailID == nil {
			return nil
		}
		var purpose, html, text string
		if err := db.QueryRowQ(ctx, tx, "SELECT purpose, html, text FROM email_templates WHERE id = ?", int64(*f.ConfirmationEmailID)).Scan(&purpose, &html, &text); err != nil {
			return fmt.Errorf("confirmation email: %w", err)
		}
		fields, err := TemplateFields(ctx, db, tx)
		if err != nil {
			return err
		}
		return checkConfirmationEmail(purpose, html, text, fields)
	},
}

// confirmURLPlaceholder is the link a double opt-in confirmation must carry.
const confirmURLPlaceholder = "consent.confirm_url"

// checkConfirmationEmail says, as an error on confirmation_email_id, why a
// template cannot confirm a double opt-in: it must be transactional (it goes
// to contacts who have not consented yet) and carry the confirmation link in
// its HTML or text body.
func checkConfirmationEmail(purpose, html, text string, fields email.Fields) error {
	if purpose != leadcycle.PurposeTransactional {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "confirmation_email_id", "the confirmation email must be a transactional template: it goes to contacts who have not consented yet")
	}
	c, err := email.ParseWith(email.Template{HTML: html, Text: text}, fields)
	if err != nil {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "confirmation_email_id", "the confirmation email does not parse: %v", err)
	}
	if !slices.Contains(c.Placeholders(), confirmURLPlaceholder) {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "confirmation_email_id", "the confirmation email must contain {{%s}} in its HTML or text: the link that confirms the subscription", confirmURLPlaceholder)
	}
	return nil
}

var eventTable = &table[leadcycle.Event]{
	name: "events", collection: "events",
	cols: []string{"name", "description", "location", "starts_at", "ends_at", "capacity", "waitlist", "registration_open", "lead_topic", "campaign",
		"contact_strategy_id", "lead_strategy_id", "created_at", "updated_at"},
	values: func(e *leadcycle.Event) []any {
		return []any{e.Name, e.Description, e.Location, nullMicros(e.StartsAt), nullMicros(e.EndsAt), e.Capacity, e.Waitlist, e.RegistrationOpen, e.LeadTopic, e.Campaign,
			nullID(e.ContactStrategyID), nullID(e.LeadStrategyID), micros(e.CreatedAt), micros(e.UpdatedAt)}
	},
	dests: func(e *leadcycle.Event) []any {
		return []any{idCol{&e.ID}, &e.Name, &e.Description, &e.Location, nullTimeCol{&e.StartsAt}, nullTimeCol{&e.EndsAt}, &e.Capacity, &e.Waitlist, &e.RegistrationOpen,
			&e.LeadTopic, &e.Campaign, nullIDCol{&e.ContactStrategyID}, nullIDCol{&e.LeadStrategyID}, timeCol{&e.CreatedAt}, timeCol{&e.UpdatedAt}}
	},
	id: func(e *leadcycle.Event) *leadcycle.ID { return &e.ID },
	prepare: func(e *leadcycle.Event, now time.Time, create bool) error {
		e.Normalize()
		stamp(&e.CreatedAt, &e.UpdatedAt, now, create)
		return e.Validate()
	},
	refs: func(e *leadcycle.Event) []ref {
		return []ref{{"contact_strategy_id", "matching_strategies", e.ContactStrategyID}, {"lead_strategy_id", "matching_strategies", e.LeadStrategyID}}
	},
}

// DefaultFreeMailDomains are the email domains of free mail providers: a
// contact with such an address is never linked to an account by domain.
var DefaultFreeMailDomains = []string{
	"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "hotmail.es", "hotmail.co.uk", "live.com", "msn.com",
	"yahoo.com", "yahoo.es", "yahoo.com.tw", "yahoo.co.uk", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com",
	"gmx.com", "gmx.de", "gmx.net", "web.de", "proton.me", "protonmail.com", "zoho.com", "mail.com", "yandex.com",
	"qq.com", "163.com", "126.com", "hinet.net", "msa.hinet.net", "pchome.com.tw", "telefonica.net", "orange.fr", "free.fr",
}

// accountByDomain links a new contact with a company email to the account
// with that domain (the most recently updated one when several share it).
func accountByDomain(ctx context.Context, db *DB, tx *sql.Tx, c *leadcycle.Contact) error {
	at := strings.LastIndexByte(c.Email, '@')
	if c.AccountID != nil || at < 0 {
		return nil
	}
	domain := c.Email[at+1:]
	if db.IsFreeMail(domain) {
		return nil
	}
	id, err := accountIDByDomain(ctx, db, tx, domain)
	if err != nil || id == 0 {
		return err
	}
	c.AccountID = leadcycle.IDPtr(id)
	return nil
}

// accountIDByDomain returns the most recently updated account with the
// domain, or 0.
func accountIDByDomain(ctx context.Context, db *DB, q querier, domain string) (leadcycle.ID, error) {
	var id int64
	err := db.QueryRowQ(ctx, q, "SELECT id FROM accounts WHERE domain = ? ORDER BY updated_at DESC, id DESC LIMIT 1", domain).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return leadcycle.ID(id), err
}

func init() {
	contactTable.beforeInsert = accountByDomain
	contactTable.afterWrite = keepContactKeys
	contactTable.afterDelete = dropKeys(leadcycle.StrategyContact)
	leadTable.afterWrite = keepLeadKeys
	leadTable.afterDelete = dropKeys(leadcycle.StrategyLead)
	leadRefs := leadTable.refs
	leadTable.refs = func(l *leadcycle.Lead) []ref {
		return append(leadRefs(l), ref{"form_id", "forms", l.FormID}, ref{"event_id", "events", l.EventID})
	}
}
