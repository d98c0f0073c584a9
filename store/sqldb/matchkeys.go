package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/match"
)

const strategyCols = "id, name, kind, fields, update_when_matched, create_when_none, ignore_empty_values, phone_region, is_default, created_at, updated_at"

func loadStrategies(ctx context.Context, db *DB, q querier, kind string) ([]leadcycle.MatchingStrategy, error) {
	tx, inTx := q.(*sql.Tx)
	if inTx {
		if memo, ok := db.strategiesInTx.Load(tx); ok {
			if s, ok := memo.(map[string][]leadcycle.MatchingStrategy)[kind]; ok {
				return s, nil
			}
		}
	}
	out, err := queryStrategies(ctx, db, q, kind)
	if err == nil && inTx {
		memo, _ := db.strategiesInTx.LoadOrStore(tx, map[string][]leadcycle.MatchingStrategy{})
		memo.(map[string][]leadcycle.MatchingStrategy)[kind] = out
	}
	return out, err
}

func queryStrategies(ctx context.Context, db *DB, q querier, kind string) ([]leadcycle.MatchingStrategy, error) {
	rows, err := db.QueryQ(ctx, q, "SELECT "+strategyCols+" FROM matching_strategies WHERE kind = ? ORDER BY id", kind)
	if err != nil {
		return nil, fmt.Errorf("load strategies: %w", err)
	}
	return scanAll(rows, scanRecord(strategyTable))
}

func contactValue(c *leadcycle.Contact, field string) string {
	if name, ok := strings.CutPrefix(field, "custom."); ok {
		return c.Custom.Text(name)
	}
	switch field {
	case "email":
		return c.Email
	case "phone":
		return c.Phone
	case "first_name":
		return c.FirstName
	case "last_name":
		return c.LastName
	case "job_title":
		return c.JobTitle
	}
	return ""
}

func idText(id *leadcycle.ID) string {
	if id == nil {
		return ""
	}
	return id.String()
}

// leadValue reads a lead strategy field; email and phone come from the
// contact the lead belongs to (or is about to).
func leadValue(l *leadcycle.Lead, contact *leadcycle.Contact, field string) string {
	if name, ok := strings.CutPrefix(field, "custom."); ok {
		return l.Custom.Text(name)
	}
	switch field {
	case "email", "phone":
		if contact == nil {
			return ""
		}
		return contactValue(contact, field)
	case "form_id":
		return idText(l.FormID)
	case "event_id":
		return idText(l.EventID)
	case "journey_id":
		return idText(l.JourneyID)
	case "contact_id":
		return idText(l.ContactID)
	case "account_id":
		return idText(l.AccountID)
	case "campaign":
		return l.Campaign
	case "topic":
		return l.Topic
	case "source":
		return l.Source
	}
	return ""
}

func strategyKey(s *leadcycle.MatchingStrategy, value func(field string) string) string {
	vals := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		vals[i] = match.Normalize(s.FieldKind(f), value(f), s.PhoneRegion)
	}
	return match.Key(vals)
}

func contactKey(s *leadcycle.MatchingStrategy, c *leadcycle.Contact) string {
	return strategyKey(s, func(f string) string { return contactValue(c, f) })
}

// A contact strategy that compares the email alone keeps no match_keys row
// for a contact whose stored email is already in the strategy's normal form
// (lower case, an ASCII domain: nearly every one): the contacts (email)
// index finds it, and a second index of the same values would make every
// new contact update two random places of the database instead of one.
// Contacts whose email normalises to something else (a domain in Unicode)
// keep their row, so lookups read both.

func init() { migrationSeeds["0012_contact_email_keys"] = rebuildEmailKeys }

// rebuildEmailKeys rebuilds the keys of the contact strategies of the email
// alone, which drops the rows byEmail no longer keeps.
func rebuildEmailKeys(ctx context.Context, db *DB, tx *sql.Tx) error {
	strategies, err := queryStrategies(ctx, db, tx, leadcycle.StrategyContact)
	if err != nil {
		return err
	}
	for i := range strategies {
		if byEmail(&strategies[i]) {
			if err := rebuildKeys(ctx, db, tx, &strategies[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// byEmail reports whether s is a contact strategy of the email alone.
func byEmail(s *leadcycle.MatchingStrategy) bool {
	return s.Kind == leadcycle.StrategyContact && len(s.Fields) == 1 && s.Fields[0] == "email"
}

// storedKey is the key a contact keeps in match_keys under s: its key, or
// "" when the contacts (email) index stands in for it.
func storedKey(s *leadcycle.MatchingStrategy, c *leadcycle.Contact) string {
	if byEmail(s) && c.Email != "" && match.Email(c.Email) == c.Email {
		return ""
	}
	return contactKey(s, c)
}

// lookupEmail is the email that contacts matching c under s store when no
// match_keys row holds their key, or "" when there is none to look up.
func lookupEmail(s *leadcycle.MatchingStrategy, c *leadcycle.Contact) string {
	if !byEmail(s) {
		return ""
	}
	v := match.Email(c.Email)
	if v == "" || match.Email(v) != v {
		return ""
	}
	return v
}

// findContact returns the most recently updated contact that matches c
// under s, or 0.
func findContact(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.MatchingStrategy, c *leadcycle.Contact) (leadcycle.ID, error) {
	key, email := contactKey(s, c), lookupEmail(s, c)
	if key == "" {
		return 0, nil
	}
	if email == "" {
		return findByKey(ctx, db, tx, s, key)
	}
	var id, at int64
	err := db.QueryRowQ(ctx, tx, "SELECT id, updated_at FROM contacts WHERE email = ? UNION SELECT r.id, r.updated_at FROM match_keys k JOIN contacts r ON r.id = k.record_id"+
		" WHERE k.strategy_id = ? AND k.key = ? ORDER BY 2 DESC, 1 DESC LIMIT 1", email, int64(s.ID), key).Scan(&id, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return leadcycle.ID(id), err
}

// sameValues reports whether two contacts have the same values in the
// fields of s (and so the same key, computed or not).
func sameValues(s *leadcycle.MatchingStrategy, a, b *leadcycle.Contact) bool {
	for _, f := range s.Fields {
		if contactValue(a, f) != contactValue(b, f) {
			return false
		}
	}
	return true
}

func leadKey(s *leadcycle.MatchingStrategy, l *leadcycle.Lead, c *leadcycle.Contact) string {
	return strategyKey(s, func(f string) string { return leadValue(l, c, f) })
}

func usesContactFields(s *leadcycle.MatchingStrategy) bool {
	for _, f := range s.Fields {
		if f == "email" || f == "phone" {
			return true
		}
	}
	return false
}

// putKey stores the key of a record under a strategy; an empty key removes it.
func putKey(ctx context.Context, db *DB, tx *sql.Tx, strategy, record leadcycle.ID, key string) error {
	if key == "" {
		_, err := db.ExecQ(ctx, tx, "DELETE FROM match_keys WHERE strategy_id = ? AND record_id = ?", int64(strategy), int64(record))
		return err
	}
	_, err := db.ExecQ(ctx, tx, `INSERT INTO match_keys (strategy_id, record_id, key) VALUES (?, ?, ?)
		ON CONFLICT (strategy_id, record_id) DO UPDATE SET key = excluded.key`, int64(strategy), int64(record), key)
	return err
}

// findByKey returns the most recently updated record with the key, or 0
// (contacts: see findContact).
// Lead lookups only consider open leads: a closed lead is not reopened by a
// new expression of interest.
func findByKey(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.MatchingStrategy, key string) (leadcycle.ID, error) {
	table, extra := "contacts", ""
	if s.Kind == leadcycle.StrategyLead {
		table, extra = "leads", " AND r.status = 'open'"
	}
	var id int64
	err := db.QueryRowQ(ctx, tx, "SELECT r.id FROM match_keys k JOIN "+table+" r ON r.id = k.record_id WHERE k.strategy_id = ? AND k.key = ?"+extra+
		" ORDER BY r.updated_at DESC, r.id DESC LIMIT 1", int64(s.ID), key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return leadcycle.ID(id), err
}

// keepContactKeys refreshes the keys of a contact and of its leads under
// strategies that compare the contact's email or phone. Keys that an update
// leaves as they were are not rewritten.
func keepContactKeys(ctx context.Context, db *DB, tx *sql.Tx, old, c *leadcycle.Contact) error {
	strategies, err := loadStrategies(ctx, db, tx, leadcycle.StrategyContact)
	if err != nil {
		return err
	}
	for i := range strategies {
		if old != nil && (sameValues(&strategies[i], old, c) || contactKey(&strategies[i], c) == contactKey(&strategies[i], old)) {
			continue // a row kept from before byEmail is still right
		}
		key := storedKey(&strategies[i], c)
		if old == nil && key == "" {
			continue
		}
		if err := putKey(ctx, db, tx, strategies[i].ID, c.ID, key); err != nil {
			return fmt.Errorf("contact key: %w", err)
		}
	}
	if old != nil && old.Email == c.Email && old.Phone == c.Phone {
		return nil // lead keys only read the contact's email and phone
	}
	leadStrategies, err := loadStrategies(ctx, db, tx, leadcycle.StrategyLead)
	if err != nil {
		return err
	}
	var affected []leadcycle.MatchingStrategy
	for _, s := range leadStrategies {
		if usesContactFields(&s) {
			affected = append(affected, s)
		}
	}
	if len(affected) == 0 {
		return nil
	}
	leads, err := leadsOfContact(ctx, db, tx, c.ID)
	if err != nil {
		return err
	}
	for i := range leads {
		for j := range affected {
			if err := putKey(ctx, db, tx, affected[j].ID, leads[i].ID, leadKey(&affected[j], &leads[i], c)); err != nil {
				return err
			}
		}
	}
	return nil
}

func leadsOfContact(ctx context.Context, db *DB, tx *sql.Tx, contact leadcycle.ID) ([]leadcycle.Lead, error) {
	rows, err := db.QueryQ(ctx, tx, "SELECT id, "+strings.Join(leadTable.cols, ", ")+" FROM leads WHERE contact_id = ?", int64(contact))
	if err != nil {
		return nil, err
	}
	return scanAll(rows, scanRecord(leadTable))
}

// keepLeadKeys refreshes the keys of a lead. A lead without a contact keeps
// the keys its capture gave it for strategies that compare contact fields.
func keepLeadKeys(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead) error {
	if old != nil && sameLeadKeyFields(old, l) {
		return nil
	}
	strategies, err := loadStrategies(ctx, db, tx, leadcycle.StrategyLead)
	if err != nil {
		return err
	}
	// Lead keys read only the email and phone of the lead's contact.
	var contact *leadcycle.Contact
	if l.ContactID != nil {
		contact = &leadcycle.Contact{}
		err := db.QueryRowQ(ctx, tx, "SELECT email, phone FROM contacts WHERE id = ?", int64(*l.ContactID)).Scan(&contact.Email, &contact.Phone)
		if err != nil {
			return fmt.Errorf("contact of lead: %w", err)
		}
	}
	for i := range strategies {
		if contact == nil && usesContactFields(&strategies[i]) {
			continue
		}
		if err := putKey(ctx, db, tx, strategies[i].ID, l.ID, leadKey(&strategies[i], l, contact)); err != nil {
			return fmt.Errorf("lead key: %w", err)
		}
	}
	return nil
}

func dropKeys(kind string) func(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID) error {
	return func(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID) error {
		_, err := db.ExecQ(ctx, tx, "DELETE FROM match_keys WHERE record_id = ? AND strategy_id IN (SELECT id FROM matching_strategies WHERE kind = ?)", int64(id), kind)
		return err
	}
}

// rebuildKeys recomputes every key of one strategy, in batches inside tx.
func rebuildKeys(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.MatchingStrategy) error {
	if _, err := db.ExecQ(ctx, tx, "DELETE FROM match_keys WHERE strategy_id = ?", int64(s.ID)); err != nil {
		return err
	}
	after := int64(0)
	for {
		type rec struct {
			id  leadcycle.ID
			key string
		}
		var batch []rec
		if s.Kind == leadcycle.StrategyContact {
			rows, err := db.QueryQ(ctx, tx, "SELECT id, "+strings.Join(contactTable.cols, ", ")+" FROM contacts WHERE id > ? ORDER BY id LIMIT 2000", after)
			if err != nil {
				return err
			}
			for rows.Next() {
				var c leadcycle.Contact
				if err := rows.Scan(contactTable.dests(&c)...); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, rec{c.ID, storedKey(s, &c)})
			}
			rows.Close()
		} else {
			rows, err := db.QueryQ(ctx, tx, "SELECT l.id, "+prefixCols("l.", leadTable.cols)+", COALESCE(c.email, ''), COALESCE(c.phone, '') FROM leads l LEFT JOIN contacts c ON c.id = l.contact_id WHERE l.id > ? ORDER BY l.id LIMIT 2000", after)
			if err != nil {
				return err
			}
			for rows.Next() {
				var l leadcycle.Lead
				var c leadcycle.Contact
				if err := rows.Scan(append(leadTable.dests(&l), &c.Email, &c.Phone)...); err != nil {
					rows.Close()
					return err
				}
				batch = append(batch, rec{l.ID, leadKey(s, &l, &c)})
			}
			rows.Close()
		}
		if len(batch) == 0 {
			return nil
		}
		for _, r := range batch {
			if r.key == "" {
				continue
			}
			if _, err := db.ExecQ(ctx, tx, "INSERT INTO match_keys (strategy_id, record_id, key) VALUES (?, ?, ?)", int64(s.ID), int64(r.id), r.key); err != nil {
				return err
			}
		}
		after = int64(batch[len(batch)-1].id)
	}
}

func prefixCols(p string, cols []string) string {
	out := make([]string, len(cols))
	for i, c := range cols {
		out[i] = p + c
	}
	return strings.Join(out, ", ")
}

// RebuildMatchKeys recomputes the keys of every strategy, one transaction per
// strategy. Bulk loads that bypass the repositories call it afterwards.
func (s *Store) RebuildMatchKeys(ctx context.Context) error {
	for _, kind := range []string{leadcycle.StrategyContact, leadcycle.StrategyLead} {
		strategies, err := loadStrategies(ctx, s.DB, s.R, kind)
		if err != nil {
			return err
		}
		for i := range strategies {
			if err := s.InTx(ctx, func(tx *sql.Tx) error { return rebuildKeys(ctx, s.DB, tx, &strategies[i]) }); err != nil {
				return fmt.Errorf("rebuild keys of strategy %s: %w", strategies[i].ID, err)
			}
		}
	}
	// Fresh statistics, so the planner looks keys up through the index.
	_, err := s.W.ExecContext(ctx, "ANALYZE match_keys")
	return err
}

// sameLeadKeyFields reports whether an update left every field a lead
// strategy can read as it was.
func sameLeadKeyFields(a, b *leadcycle.Lead) bool {
	eqID := func(x, y *leadcycle.ID) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	if !eqID(a.ContactID, b.ContactID) || !eqID(a.AccountID, b.AccountID) || !eqID(a.FormID, b.FormID) ||
		!eqID(a.EventID, b.EventID) || !eqID(a.JourneyID, b.JourneyID) ||
		a.Campaign != b.Campaign || a.Topic != b.Topic || a.Source != b.Source || len(a.Custom) != len(b.Custom) {
		return false
	}
	for k, v := range a.Custom {
		if b.Custom.Text(k) != (leadcycle.Custom{k: v}).Text(k) {
			return false
		}
	}
	return true
}
