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

func stamp(created, updated *time.Time, now time.Time, create bool) {
	if create {
		*created = now
	}
	if updated != nil {
		*updated = now
	}
}

// accountFromContact fills a missing parent account from the contact's.
func accountFromContact(ctx context.Context, db *DB, tx *sql.Tx, contactID *leadcycle.ID, accountID **leadcycle.ID) error {
	if contactID == nil || *accountID != nil {
		return nil
	}
	var acc sql.NullInt64
	err := db.QueryRowQ(ctx, tx, "SELECT account_id FROM contacts WHERE id = ?", int64(*contactID)).Scan(&acc)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("account of contact: %w", err)
	}
	if acc.Valid {
		*accountID = leadcycle.IDPtr(leadcycle.ID(acc.Int64))
	}
	return nil
}

var contactTable = &table[leadcycle.Contact]{
	name: "contacts", collection: "contacts", customEntity: "contact",
	cols: []string{"first_name", "last_name", "email", "phone", "job_title", "account_id", "owner_id", "consent", "origin", "custom", "created_at", "updated_at"},
	values: func(c *leadcycle.Contact) []any {
		return []any{c.FirstName, c.LastName, c.Email, c.Phone, c.JobTitle, nullID(c.AccountID), nullID(c.OwnerID),
			jsonText(c.Consent), c.Origin, jsonText(c.Custom), micros(c.CreatedAt), micros(c.UpdatedAt)}
	},
	dests: func(c *leadcycle.Contact) []any {
		return []any{idCol{&c.ID}, &c.FirstName, &c.LastName, &c.Email, &c.Phone, &c.JobTitle, nullIDCol{&c.AccountID}, nullIDCol{&c.OwnerID},
			jsonCol{&c.Consent}, &c.Origin, jsonCol{&c.Custom}, timeCol{&c.CreatedAt}, timeCol{&c.UpdatedAt}}
	},
	id: func(c *leadcycle.Contact) *leadcycle.ID { return &c.ID },
	prepare: func(c *leadcycle.Contact, now time.Time, create bool) error {
		c.Normalize()
		stamp(&c.CreatedAt, &c.UpdatedAt, now, create)
		return c.Validate()
	},
	refs: func(c *leadcycle.Contact) []ref {
		return []ref{{"account_id", "accounts", c.AccountID}, {"owner_id", "users", c.OwnerID}}
	},
	custom: func(c *leadcycle.Contact) leadcycle.Custom { return c.Custom },
}

var accountTable = &table[leadcycle.Account]{
	name: "accounts", collection: "accounts", customEntity: "account",
	cols: []string{"name", "website", "domain", "industry", "employees", "revenue", "country", "owner_id", "custom", "created_at", "updated_at"},
	values: func(a *leadcycle.Account) []any {
		return []any{a.Name, a.Website, a.Domain, a.Industry, a.Employees, a.Revenue, a.Country, nullID(a.OwnerID),
			jsonText(a.Custom), micros(a.CreatedAt), micros(a.UpdatedAt)}
	},
	dests: func(a *leadcycle.Account) []any {
		return []any{idCol{&a.ID}, &a.Name, &a.Website, &a.Domain, &a.Industry, &a.Employees, &a.Revenue, &a.Country, nullIDCol{&a.OwnerID},
			jsonCol{&a.Custom}, timeCol{&a.CreatedAt}, timeCol{&a.UpdatedAt}}
	},
	id: func(a *leadcycle.Account) *leadcycle.ID { return &a.ID },
	prepare: func(a *leadcycle.Account, now time.Time, create bool) error {
		a.Normalize()
		stamp(&a.CreatedAt, &a.UpdatedAt, now, create)
		return a.Validate()
	},
	custom: func(a *leadcycle.Account) leadcycle.Custom { return a.Custom },
	refs: func(a *leadcycle.Account) []ref {
		return []ref{{"owner_id", "users", a.OwnerID}}
	},
}

var leadTable = &table[leadcycle.Lead]{
	name: "leads", collection: "leads", customEntity: "lead",
	cols: []string{"topic", "description", "purchase_timeframe", "purchase_process", "budget_amount", "need", "contact_id", "account_id", "status", "status_reason", "source", "form_id", "event_id", "journey_id",
		"campaign", "process_id", "stage", "telesales_ready", "telesales_accepted", "sales_ready", "sales_accepted", "owner_id", "custom", "created_at", "updated_at"},
	values: func(l *leadcycle.Lead) []any {
		return []any{l.Topic, l.Description, l.PurchaseTimeframe, l.PurchaseProcess, l.BudgetAmount, l.Need, nullID(l.ContactID), nullID(l.AccountID), l.Status, l.StatusReason, l.Source,
			nullID(l.FormID), nullID(l.EventID), nullID(l.JourneyID), l.Campaign, nullID(l.ProcessID), l.Stage,
			l.TelesalesReady, l.TelesalesAccepted, l.SalesReady, l.SalesAccepted, nullID(l.OwnerID), jsonText(l.Custom),
			micros(l.CreatedAt), micros(l.UpdatedAt)}
	},
	dests: func(l *leadcycle.Lead) []any {
		l.Scores = []leadcycle.LeadScore{}
		return []any{idCol{&l.ID}, &l.Topic, &l.Description, &l.PurchaseTimeframe, &l.PurchaseProcess, &l.BudgetAmount, &l.Need, nullIDCol{&l.ContactID}, nullIDCol{&l.AccountID}, &l.Status, &l.StatusReason, &l.Source,
			nullIDCol{&l.FormID}, nullIDCol{&l.EventID}, nullIDCol{&l.JourneyID}, &l.Campaign, nullIDCol{&l.ProcessID}, &l.Stage,
			&l.TelesalesReady, &l.TelesalesAccepted, &l.SalesReady, &l.SalesAccepted, nullIDCol{&l.OwnerID}, jsonCol{&l.Custom},
			timeCol{&l.CreatedAt}, timeCol{&l.UpdatedAt}}
	},
	id: func(l *leadcycle.Lead) *leadcycle.ID { return &l.ID },
	prepare: func(l *leadcycle.Lead, now time.Time, create bool) error {
		l.Normalize()
		stamp(&l.CreatedAt, &l.UpdatedAt, now, create)
		return l.Validate()
	},
	refs: func(l *leadcycle.Lead) []ref {
		return []ref{{"contact_id", "contacts", l.ContactID}, {"account_id", "accounts", l.AccountID}, {"owner_id", "users", l.OwnerID}}
	},
	custom: func(l *leadcycle.Lead) leadcycle.Custom { return l.Custom },
	beforeInsert: func(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead) error {
		return accountFromContact(ctx, db, tx, l.ContactID, &l.AccountID)
	},
}

var opportunityTable = &table[leadcycle.Opportunity]{
	name: "opportunities", collection: "opportunities", customEntity: "opportunity",
	cols: []string{"name", "lead_id", "contact_id", "account_id", "status", "estimated_value", "currency", "expected_close_date", "closed_at", "owner_id", "custom", "created_at", "updated_at"},
	values: func(o *leadcycle.Opportunity) []any {
		return []any{o.Name, nullID(o.LeadID), nullID(o.ContactID), nullID(o.AccountID), o.Status, o.EstimatedValue, o.Currency,
			o.ExpectedCloseDate, nullMicros(o.ClosedAt), nullID(o.OwnerID), jsonText(o.Custom), micros(o.CreatedAt), micros(o.UpdatedAt)}
	},
	dests: func(o *leadcycle.Opportunity) []any {
		return []any{idCol{&o.ID}, &o.Name, nullIDCol{&o.LeadID}, nullIDCol{&o.ContactID}, nullIDCol{&o.AccountID}, &o.Status, &o.EstimatedValue, &o.Currency,
			&o.ExpectedCloseDate, nullTimeCol{&o.ClosedAt}, nullIDCol{&o.OwnerID}, jsonCol{&o.Custom}, timeCol{&o.CreatedAt}, timeCol{&o.UpdatedAt}}
	},
	id: func(o *leadcycle.Opportunity) *leadcycle.ID { return &o.ID },
	prepare: func(o *leadcycle.Opportunity, now time.Time, create bool) error {
		o.Normalize()
		stamp(&o.CreatedAt, &o.UpdatedAt, now, create)
		o.SetClosed(now)
		return o.Validate()
	},
	refs: func(o *leadcycle.Opportunity) []ref {
		return []ref{{"lead_id", "leads", o.LeadID}, {"contact_id", "contacts", o.ContactID}, {"account_id", "accounts", o.AccountID}, {"owner_id", "users", o.OwnerID}}
	},
	custom: func(o *leadcycle.Opportunity) leadcycle.Custom { return o.Custom },
}

var interactionTable = &table[leadcycle.Interaction]{
	name: "interactions", collection: "interactions",
	cols: []string{"type", "occurred_at", "contact_id", "lead_id", "account_id", "properties", "created_at"},
	values: func(i *leadcycle.Interaction) []any {
		return []any{i.Type, micros(i.OccurredAt), int64(i.ContactID), nullID(i.LeadID), nullID(i.AccountID), jsonText(i.Properties), micros(i.CreatedAt)}
	},
	dests: func(i *leadcycle.Interaction) []any {
		return []any{idCol{&i.ID}, &i.Type, timeCol{&i.OccurredAt}, idCol{&i.ContactID}, nullIDCol{&i.LeadID}, nullIDCol{&i.AccountID}, jsonCol{&i.Properties}, timeCol{&i.CreatedAt}}
	},
	id: func(i *leadcycle.Interaction) *leadcycle.ID { return &i.ID },
	prepare: func(i *leadcycle.Interaction, now time.Time, create bool) error {
		i.Normalize()
		stamp(&i.CreatedAt, nil, now, create)
		if i.OccurredAt.IsZero() {
			i.OccurredAt = now
		}
		i.OccurredAt = i.OccurredAt.UTC().Truncate(time.Microsecond)
		return i.Validate()
	},
	refs: func(i *leadcycle.Interaction) []ref {
		return []ref{{"contact_id", "contacts", &i.ContactID}, {"lead_id", "leads", i.LeadID}, {"account_id", "accounts", i.AccountID}}
	},
	beforeInsert: func(ctx context.Context, db *DB, tx *sql.Tx, i *leadcycle.Interaction) error {
		return accountFromContact(ctx, db, tx, &i.ContactID, &i.AccountID)
	},
}

var taskTable = &table[leadcycle.Task]{
	name: "tasks", collection: "tasks", nullableSorts: []string{"due_at"},
	cols: []string{"title", "description", "kind", "queue", "assignee_id", "lead_id", "contact_id", "due_at", "status", "completed_at", "created_at", "updated_at"},
	values: func(t *leadcycle.Task) []any {
		return []any{t.Title, t.Description, t.Kind, t.Queue, nullID(t.AssigneeID), nullID(t.LeadID), nullID(t.ContactID),
			nullMicros(t.DueAt), t.Status, nullMicros(t.CompletedAt), micros(t.CreatedAt), micros(t.UpdatedAt)}
	},
	dests: func(t *leadcycle.Task) []any {
		return []any{idCol{&t.ID}, &t.Title, &t.Description, &t.Kind, &t.Queue, nullIDCol{&t.AssigneeID}, nullIDCol{&t.LeadID}, nullIDCol{&t.ContactID},
			nullTimeCol{&t.DueAt}, &t.Status, nullTimeCol{&t.CompletedAt}, timeCol{&t.CreatedAt}, timeCol{&t.UpdatedAt}}
	},
	id: func(t *leadcycle.Task) *leadcycle.ID { return &t.ID },
	prepare: func(t *leadcycle.Task, now time.Time, create bool) error {
		t.Normalize()
		stamp(&t.CreatedAt, &t.UpdatedAt, now, create)
		if t.DueAt != nil {
			d := t.DueAt.UTC().Truncate(time.Microsecond)
			t.DueAt = &d
		}
		t.SetCompleted(now)
		return t.Validate()
	},
	refs: func(t *leadcycle.Task) []ref {
		return []ref{{"lead_id", "leads", t.LeadID}, {"contact_id", "contacts", t.ContactID}, {"assignee_id", "users", t.AssigneeID}}
	},
}

// customTables maps an entity with custom fields to its table.
var customTables = map[string]string{"contact": "contacts", "account": "accounts", "lead": "leads", "opportunity": "opportunities"}

var fieldTable = &table[leadcycle.FieldDef]{
	name: "field_defs", collection: "fields",
	cols: []string{"entity", "name", "label", "type", "choices", "required", "created_at", "updated_at"},
	values: func(f *leadcycle.FieldDef) []any {
		return []any{f.Entity, f.Name, f.Label, f.Type, jsonText(f.Choices), f.Required, micros(f.CreatedAt), micros(f.UpdatedAt)}
	},
	dests: func(f *leadcycle.FieldDef) []any {
		return []any{idCol{&f.ID}, &f.Entity, &f.Name, &f.Label, &f.Type, jsonCol{&f.Choices}, &f.Required, timeCol{&f.CreatedAt}, timeCol{&f.UpdatedAt}}
	},
	id: func(f *leadcycle.FieldDef) *leadcycle.ID { return &f.ID },
	prepare: func(f *leadcycle.FieldDef, now time.Time, create bool) error {
		f.Normalize()
		stamp(&f.CreatedAt, &f.UpdatedAt, now, create)
		return f.Validate()
	},
	beforeInsert: func(ctx context.Context, db *DB, tx *sql.Tx, f *leadcycle.FieldDef) error {
		var one int
		err := db.QueryRowQ(ctx, tx, "SELECT 1 FROM field_defs WHERE entity = ? AND name = ?", f.Entity, f.Name).Scan(&one)
		if err == nil {
			return leadcycle.FieldErrorf(leadcycle.EConflict, "name", "the %s field %s already exists", f.Entity, f.Name)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return nil
	},
	beforeUpdate: func(old, f *leadcycle.FieldDef) error { return f.CheckChange(old) },
	// Deleting a field removes its values so that a later field of the same
	// name starts empty.
	beforeDelete: func(ctx context.Context, db *DB, tx *sql.Tx, f *leadcycle.FieldDef) error {
		t := customTables[f.Entity]
		q := "UPDATE " + t + " SET custom = " + db.Dialect.JSONRemoveKey("custom") + " WHERE " + db.Dialect.JSONHasKey("custom")
		_, err := db.ExecQ(ctx, tx, q, f.Name, f.Name)
		return err
	},
}

func loadSchema(ctx context.Context, db *DB, q querier, entity string) (leadcycle.Schema, error) {
	rows, err := db.QueryQ(ctx, q, "SELECT id, "+strings.Join(fieldTable.cols, ", ")+" FROM field_defs WHERE entity = ? ORDER BY id", entity)
	if err != nil {
		return nil, fmt.Errorf("load schema: %w", err)
	}
	return scanAll(rows, scanRecord(fieldTable))
}

// moveInteractions keeps a contact's interactions with the contact's
// account when the contact moves: account-based leads count the history of
// the account's current contacts. Interactions given another account
// explicitly keep it.
func moveInteractions(ctx context.Context, db *DB, tx *sql.Tx, old, c *leadcycle.Contact) error {
	if old == nil || sameID(old.AccountID, c.AccountID) {
		return nil
	}
	was := "account_id IS NULL"
	args := []any{nullID(c.AccountID), int64(c.ID)}
	if old.AccountID != nil {
		was = "account_id = ?"
		args = append(args, int64(*old.AccountID))
	}
	if _, err := db.ExecQ(ctx, tx, "UPDATE interactions SET account_id = ? WHERE contact_id = ? AND "+was, args...); err != nil {
		return fmt.Errorf("move interactions with their contact: %w", err)
	}
	db.forgetAccounts(tx, idsOf(old.AccountID, c.AccountID))
	return nil
}
