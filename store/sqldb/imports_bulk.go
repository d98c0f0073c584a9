package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// Contacts are imported set-wise: a batch's keys, existing records and
// account domains are read in a few statements, its new contacts, their
// keys and their events written in multi-row statements, and its updates
// written once per record with one rescoring enqueue for the batch. What
// the contact hooks do for one record (account by domain, match keys, the
// contact.created event, moving interactions, rescoring) is done here for
// many; rows that need more (a company to find or create, an owner) go
// through the hooks one by one.

// bulkChunk bounds the values of one IN list or multi-row statement.
const bulkChunk = 500

// contactPlan is one contact row of a batch and what it will do.
type contactPlan struct {
	row    *leadcycle.ImportRow
	in     *leadcycle.Contact
	key    string
	email  string             // lookupEmail of the strategy, if any
	target leadcycle.ID       // existing contact to update, 0 to create
	create *leadcycle.Contact // the new contact, shared by the rows that match it
}

// bulkContacts writes the contact rows of a batch.
func (w *importWriter) bulkContacts(ctx context.Context, rows []leadcycle.ImportRow) error {
	schema, err := loadSchema(ctx, w.s.DB, w.tx, "contact")
	if err != nil {
		return err
	}
	plans := make([]*contactPlan, 0, len(rows))
	for i := range rows {
		r := &rows[i]
		w.counts.Rows++
		in := r.Contact
		in.Origin = leadcycle.SourceImport
		in.Normalize()
		p := &contactPlan{row: r, in: in}
		if w.ahead != nil {
			p.key, p.email = w.ahead.keys[i], w.ahead.emails[i]
		} else if p.key = contactKey(w.strategy, in); p.key != "" {
			p.email = lookupEmail(w.strategy, in)
		}
		plans = append(plans, p)
	}
	found, read, err := w.lookupContacts(ctx, plans)
	if err != nil {
		return err
	}
	current, err := w.loadContacts(ctx, found, read)
	if err != nil {
		return err
	}
	old := make(map[leadcycle.ID]leadcycle.Contact, len(current))
	for id, c := range current {
		old[id] = cloneContact(*c)
	}
	var creates []*leadcycle.Contact
	for _, p := range plans {
		created, err := w.planContact(ctx, p, found, current, schema)
		if err := w.refuse(p.row, err); err != nil {
			return err
		}
		if created != nil {
			creates = append(creates, created)
		}
	}
	if err := w.insertContacts(ctx, creates); err != nil {
		return err
	}
	if err := w.updateContacts(ctx, current, old); err != nil {
		return err
	}
	if w.keepChanges {
		w.changes = w.delta(plans, found, current, old)
	}
	return nil
}

// refuse records a row's domain error in the report; other errors abort.
func (w *importWriter) refuse(r *leadcycle.ImportRow, err error) error {
	if err == nil {
		return nil
	}
	var de *leadcycle.Error
	if !errors.As(err, &de) || de.Code == leadcycle.EInternal {
		return err
	}
	w.counts.Failed++
	w.fail(r, de)
	return nil
}

// lookupContacts finds, in a few statements per chunk, the existing
// contacts that the rows' ids and keys name; ids win over keys. It also
// returns the contacts it read whole on the way.
func (w *importWriter) lookupContacts(ctx context.Context, plans []*contactPlan) (map[*contactPlan]leadcycle.ID, map[leadcycle.ID]*leadcycle.Contact, error) {
	found := map[*contactPlan]leadcycle.ID{}
	var ids []int64
	var keys, emails []string
	emailKey := map[string]string{}
	for _, p := range plans {
		if p.row.ID != nil {
			ids = append(ids, int64(*p.row.ID))
		}
		if p.key != "" && w.job.Options.OnMatch != leadcycle.OnMatchCreate {
			keys = append(keys, p.key)
			if p.email != "" && emailKey[p.email] == "" {
				emailKey[p.email] = p.key
				emails = append(emails, p.email)
			}
		}
	}
	existing, err := w.existingIDs(ctx, "contacts", ids)
	if err != nil {
		return nil, nil, err
	}
	var byKey map[string]leadcycle.ID
	var read map[leadcycle.ID]*leadcycle.Contact
	if w.ahead != nil {
		byKey, read = w.ahead.merge(w.strategy, keys)
	} else {
		hits, got, err := keyHits(ctx, w.s.DB, w.tx, w.strategy.ID, keys, emails, emailKey)
		if err != nil {
			return nil, nil, err
		}
		byKey, read = bestHits(hits), got
	}
	for _, p := range plans {
		if p.row.ID != nil && existing[int64(*p.row.ID)] {
			found[p] = *p.row.ID
		} else if id, ok := byKey[p.key]; ok && w.job.Options.OnMatch != leadcycle.OnMatchCreate {
			found[p] = id
		}
	}
	return found, read, nil
}

func (w *importWriter) existingIDs(ctx context.Context, table string, ids []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	for len(ids) > 0 {
		n := min(bulkChunk, len(ids))
		rows, err := w.s.QueryQ(ctx, w.tx, "SELECT id FROM "+table+" WHERE "+w.s.Dialect.InIDs("id"), w.s.Dialect.IDsArg(ids[:n]))
		if err != nil {
			return nil, err
		}
		got, err := scanAll(rows, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		for _, id := range got {
			out[id] = true
		}
		ids = ids[n:]
	}
	return out, nil
}

// keyHit is a contact found by a key, with when it was last updated.
type keyHit struct{ id, at int64 }

// keyHits finds, per key of strategy, the contacts with it: those whose key
// is in match_keys, and those that store one of the emails (see byEmail),
// which emailKey maps to its key. The latter are read whole (and locked,
// where rows are), and returned too.
func keyHits(ctx context.Context, db *DB, q querier, strategy leadcycle.ID, keys, emails []string, emailKey map[string]string) (map[string][]keyHit, map[leadcycle.ID]*leadcycle.Contact, error) {
	hits := map[string][]keyHit{}
	for len(keys) > 0 {
		n := min(bulkChunk, len(keys))
		rows, err := db.QueryQ(ctx, q, "SELECT k.key, r.id, r.updated_at FROM match_keys k JOIN contacts r ON r.id = k.record_id WHERE k.strategy_id = ? AND "+
			db.Dialect.InTexts("k.key"), int64(strategy), db.Dialect.TextsArg(keys[:n]))
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var k string
			var h keyHit
			if err := rows.Scan(&k, &h.id, &h.at); err != nil {
				rows.Close()
				return nil, nil, err
			}
			hits[k] = append(hits[k], h)
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
		keys = keys[n:]
	}
	read := map[leadcycle.ID]*leadcycle.Contact{}
	for len(emails) > 0 {
		n := min(bulkChunk, len(emails))
		rows, err := db.QueryQ(ctx, q, contactSelectSQL+" WHERE "+db.Dialect.InTexts("email")+db.Dialect.ForUpdate, db.Dialect.TextsArg(emails[:n]))
		if err != nil {
			return nil, nil, err
		}
		got, err := scanAll(rows, scanRecord(contactTable))
		if err != nil {
			return nil, nil, err
		}
		for i := range got {
			c := &got[i]
			read[c.ID] = c
			k := emailKey[c.Email]
			hits[k] = append(hits[k], keyHit{int64(c.ID), micros(c.UpdatedAt)})
		}
		emails = emails[n:]
	}
	return hits, read, nil
}

// bestHits keeps, per key, the most recently updated contact (the largest
// id among equals).
func bestHits(hits map[string][]keyHit) map[string]leadcycle.ID {
	out := make(map[string]leadcycle.ID, len(hits))
	for k, hs := range hits {
		var b keyHit
		for _, h := range hs {
			if h.at > b.at || h.at == b.at && h.id > b.id {
				b = h
			}
		}
		if b.id != 0 {
			out[k] = leadcycle.ID(b.id)
		}
	}
	return out
}

// loadContacts reads the contacts rows will update, except those read
// already.
func (w *importWriter) loadContacts(ctx context.Context, found map[*contactPlan]leadcycle.ID, read map[leadcycle.ID]*leadcycle.Contact) (map[leadcycle.ID]*leadcycle.Contact, error) {
	out := make(map[leadcycle.ID]*leadcycle.Contact, len(found))
	seen := map[leadcycle.ID]bool{}
	var ids []int64
	for _, id := range found {
		switch c := read[id]; {
		case c != nil:
			out[id] = c
		case !seen[id]:
			seen[id] = true
			ids = append(ids, int64(id))
		}
	}
	for len(ids) > 0 {
		n := min(bulkChunk, len(ids))
		rows, err := w.s.QueryQ(ctx, w.tx, w.s.contacts.selectSQL+" WHERE "+w.s.Dialect.InIDs("id")+w.s.Dialect.ForUpdate, w.s.Dialect.IDsArg(ids[:n]))
		if err != nil {
			return nil, err
		}
		got, err := scanAll(rows, scanRecord(contactTable))
		if err != nil {
			return nil, err
		}
		for i := range got {
			out[got[i].ID] = &got[i]
		}
		ids = ids[n:]
	}
	return out, nil
}

// planContact decides one row: skip it, merge it into an existing contact
// or into a contact an earlier row of the batch creates, or create one. It
// returns the contact to create, if the row makes one.
func (w *importWriter) planContact(ctx context.Context, p *contactPlan, found map[*contactPlan]leadcycle.ID, current map[leadcycle.ID]*leadcycle.Contact, schema leadcycle.Schema) (*leadcycle.Contact, error) {
	if id, ok := found[p]; ok {
		if w.job.Options.OnMatch == leadcycle.OnMatchSkip {
			w.counts.Skipped++
			return nil, nil
		}
		cur := current[id]
		next := cloneContact(*cur)
		if err := w.linkAccount(ctx, p.row, &p.in.AccountID); err != nil {
			return nil, err
		}
		w.mergeContact(p.row, &next, p.in)
		if err := w.checkContact(ctx, &next, schema, false); err != nil {
			return nil, err
		}
		*cur = next
		w.outcome(false)
		return nil, nil
	}
	if prev := w.pendingCreate(p); prev != nil {
		if w.job.Options.OnMatch == leadcycle.OnMatchSkip {
			w.counts.Skipped++
			return nil, nil
		}
		next := cloneContact(*prev)
		if err := w.linkAccount(ctx, p.row, &p.in.AccountID); err != nil {
			return nil, err
		}
		w.mergeContact(p.row, &next, p.in)
		if err := w.checkContact(ctx, &next, schema, true); err != nil {
			return nil, err
		}
		*prev = next
		w.outcome(false)
		return nil, nil
	}
	if err := w.linkAccount(ctx, p.row, &p.in.AccountID); err != nil {
		return nil, err
	}
	c := p.in
	if err := w.checkContact(ctx, c, schema, true); err != nil {
		return nil, err
	}
	if p.key != "" && w.job.Options.OnMatch != leadcycle.OnMatchCreate {
		w.creates[p.key] = c
	}
	w.outcome(true)
	return c, nil
}

// pendingCreate returns the contact an earlier row of the batch creates
// with the same key.
func (w *importWriter) pendingCreate(p *contactPlan) *leadcycle.Contact {
	if p.key == "" || w.job.Options.OnMatch == leadcycle.OnMatchCreate {
		return nil
	}
	return w.creates[p.key]
}

// checkContact prepares and validates a contact as the repo would.
func (w *importWriter) checkContact(ctx context.Context, c *leadcycle.Contact, schema leadcycle.Schema, create bool) error {
	if err := contactTable.prepare(c, w.s.Clock.Now(), create); err != nil {
		return err
	}
	if err := schema.ValidateCustom(c.Custom); err != nil {
		return err
	}
	if c.OwnerID != nil {
		return w.mustExist(ctx, "users", "owner_id", *c.OwnerID)
	}
	return nil
}

func cloneContact(c leadcycle.Contact) leadcycle.Contact {
	out := c
	out.Custom = make(leadcycle.Custom, len(c.Custom))
	for k, v := range c.Custom {
		out.Custom[k] = v
	}
	return out
}

// insertContacts writes new contacts with reserved ids, their match keys
// and their contact.created events.
func (w *importWriter) insertContacts(ctx context.Context, cs []*leadcycle.Contact) error {
	if len(cs) == 0 {
		return nil
	}
	if err := w.accountsByDomain(ctx, cs); err != nil {
		return err
	}
	ids, err := w.s.Dialect.NextIDs(ctx, w.tx, "contacts", len(cs))
	if err != nil {
		return fmt.Errorf("reserve contact ids: %w", err)
	}
	rows := make([][]any, len(cs))
	for i, c := range cs {
		c.ID = leadcycle.ID(ids[i])
		rows[i] = append([]any{ids[i]}, contactTable.values(c)...)
	}
	// The events' payloads are encoded on another core while the contacts
	// and their keys are written; nothing changes the contacts meanwhile.
	payloads := make(chan []string, 1)
	go func() {
		out := make([]string, len(cs))
		for i, c := range cs {
			out[i] = jsonText(contactEvent{c})
		}
		payloads <- out
	}()
	err = w.copyRows(ctx, "contacts", append([]string{"id"}, contactTable.cols...), rows)
	if err == nil {
		err = w.insertContactKeys(ctx, cs)
	}
	p := <-payloads
	if err != nil {
		return err
	}
	if err := whenSegmentsRead(ctx, w.s.DB, w.tx, "any", func() error { return enqueueSegmentIDs(ctx, w.s.DB, w.tx, ids) }); err != nil {
		return err
	}
	return w.insertContactEvents(ctx, cs, p)
}

// contactEvent is the payload of a contact.created event.
type contactEvent struct {
	Contact *leadcycle.Contact `json:"contact"`
}

// accountsByDomain links new contacts without an account to the account of
// their email's domain, as accountByDomain does for one.
func (w *importWriter) accountsByDomain(ctx context.Context, cs []*leadcycle.Contact) error {
	byDomain := map[string][]*leadcycle.Contact{}
	var domains []string
	for _, c := range cs {
		at := strings.LastIndexByte(c.Email, '@')
		if c.AccountID != nil || at < 0 || w.s.IsFreeMail(c.Email[at+1:]) {
			continue
		}
		d := c.Email[at+1:]
		if byDomain[d] == nil {
			domains = append(domains, d)
		}
		byDomain[d] = append(byDomain[d], c)
	}
	for len(domains) > 0 {
		n := min(bulkChunk, len(domains))
		rows, err := w.s.QueryQ(ctx, w.tx, "SELECT domain, id FROM accounts WHERE "+w.s.Dialect.InTexts("domain")+" ORDER BY updated_at, id", w.s.Dialect.TextsArg(domains[:n]))
		if err != nil {
			return err
		}
		for rows.Next() {
			var d string
			var id int64
			if err := rows.Scan(&d, &id); err != nil {
				rows.Close()
				return err
			}
			for _, c := range byDomain[d] { // the last row is the most recently updated
				c.AccountID = leadcycle.IDPtr(leadcycle.ID(id))
			}
		}
		if err := rows.Close(); err != nil {
			return err
		}
		domains = domains[n:]
	}
	return nil
}

func (w *importWriter) insertContactKeys(ctx context.Context, cs []*leadcycle.Contact) error {
	strategies, err := loadStrategies(ctx, w.s.DB, w.tx, leadcycle.StrategyContact)
	if err != nil {
		return err
	}
	var rows [][]any
	for i := range strategies {
		for _, c := range cs {
			if key := storedKey(&strategies[i], c); key != "" {
				rows = append(rows, []any{int64(strategies[i].ID), int64(c.ID), key})
			}
		}
	}
	return w.copyRows(ctx, "match_keys", []string{"strategy_id", "record_id", "key"}, rows)
}

func (w *importWriter) insertContactEvents(ctx context.Context, cs []*leadcycle.Contact, payloads []string) error {
	actor := leadcycle.ActorOf(ctx)
	at := micros(w.s.Clock.Now())
	rows := make([][]any, len(cs))
	for i, c := range cs {
		rows[i] = []any{leadcycle.EventContactCreated, nil, int64(c.ID), payloads[i], actor, at, workflowTypes[leadcycle.EventContactCreated], true}
	}
	return w.copyRows(ctx, "outbox", []string{"type", "lead_id", "contact_id", "payload", "actor", "at", "workflow_pending", "webhooks_pending"}, rows)
}

// updateContacts writes the contacts rows changed, with what their hooks
// would do: keys, interactions that follow a new account, rescoring.
func (w *importWriter) updateContacts(ctx context.Context, current map[leadcycle.ID]*leadcycle.Contact, old map[leadcycle.ID]leadcycle.Contact) error {
	ids := make([]leadcycle.ID, 0, len(current))
	for id := range current {
		ids = append(ids, id)
	}
	slices.Sort(ids) // rows are locked in id order, as everywhere
	sets := map[string]*changeSet{}
	var order []string
	var changed []int64
	for _, id := range ids {
		c, was := current[id], old[id]
		if sameContact(&was, c) {
			continue
		}
		cols, vals := changedColumns(&was, c)
		key := strings.Join(cols, ",")
		if sets[key] == nil {
			sets[key] = &changeSet{cols: cols}
			order = append(order, key)
		}
		sets[key].add(int64(id), vals)
		if err := keepContactKeys(ctx, w.s.DB, w.tx, &was, c); err != nil {
			return err
		}
		if !sameID(was.AccountID, c.AccountID) {
			// Rare: the hooks of one contact move its interactions and
			// rescore the account-based leads of both accounts.
			if err := afterWrites(moveInteractions, contactEnqueues, contactSegmentEnqueues)(ctx, w.s.DB, w.tx, &was, c); err != nil {
				return err
			}
			continue
		}
		changed = append(changed, int64(id))
	}
	for _, key := range order {
		if err := w.writeChanges(ctx, sets[key]); err != nil {
			return err
		}
	}
	if err := whenSegmentsRead(ctx, w.s.DB, w.tx, "any", func() error { return enqueueSegmentIDs(ctx, w.s.DB, w.tx, changed) }); err != nil {
		return err
	}
	for len(changed) > 0 {
		n := min(bulkChunk, len(changed))
		if err := enqueueLeads(ctx, w.s.DB, w.tx, "contact updated by an import", w.s.Dialect.InIDs("l.contact_id"), w.s.Dialect.IDsArg(changed[:n])); err != nil {
			return err
		}
		changed = changed[n:]
	}
	return nil
}

// changeSet collects contacts whose updates change the same columns, so
// that they are written together.
type changeSet struct {
	cols []string
	rows [][]any // id, then the new values of cols
}

func (c *changeSet) add(id int64, vals []any) { c.rows = append(c.rows, append([]any{id}, vals...)) }

// changedColumns lists the columns a change touches and their new values;
// SQLite then rewrites only the index entries of those columns.
func changedColumns(was, c *leadcycle.Contact) ([]string, []any) {
	before, after := contactTable.values(was), contactTable.values(c)
	var cols []string
	var vals []any
	for i, col := range contactTable.cols {
		if !sameValue(before[i], after[i]) {
			cols = append(cols, col)
			vals = append(vals, after[i])
		}
	}
	return cols, vals
}

// sameValue compares two column values (strings, integers, NULLs, JSON
// text) without reflection where it can.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	case nil:
		return b == nil
	}
	return reflect.DeepEqual(a, b)
}

// contactColumnKinds are the SQL kinds of the contact columns, for casts.
var contactColumnKinds = map[string]string{"account_id": "int", "owner_id": "int", "created_at": "int", "updated_at": "int", "consent": "json", "custom": "json"}

// writeChanges updates a set of contacts in multi-row statements:
// UPDATE … FROM (VALUES …), which both databases take.
func (w *importWriter) writeChanges(ctx context.Context, set *changeSet) error {
	cast := func(col string) string {
		if k, ok := contactColumnKinds[col]; ok {
			return "?" + w.s.Dialect.Cast(k)
		}
		return "?" + w.s.Dialect.Cast("text")
	}
	marks := []string{"?" + w.s.Dialect.Cast("int")}
	assign := make([]string, len(set.cols))
	for i, col := range set.cols {
		marks = append(marks, cast(col))
		assign[i] = fmt.Sprintf("%s = v.column%d", col, i+2)
	}
	one := "(" + strings.Join(marks, ", ") + ")"
	per := max(1, min(bulkChunk/5, 30000/len(marks)))
	rows := set.rows
	for len(rows) > 0 {
		n := min(per, len(rows))
		args := make([]any, 0, n*len(marks))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		q := "UPDATE contacts SET " + strings.Join(assign, ", ") + " FROM (VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") +
			") AS v WHERE contacts.id = v.column1"
		if _, err := w.s.ExecQ(ctx, w.tx, q, args...); err != nil {
			return w.s.contacts.writeErr(err)
		}
		rows = rows[n:]
	}
	return nil
}

// sameContact reports whether an import left a contact as it was.
func sameContact(a, b *leadcycle.Contact) bool {
	x, y := *a, *b
	x.UpdatedAt = y.UpdatedAt
	return reflect.DeepEqual(x, y)
}

// copyRows loads new rows into a table: with COPY where the database has
// it, else with multi-row INSERTs.
func (w *importWriter) copyRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if w.s.Dialect.CopyRows != nil && w.conn != nil {
		if err := w.s.Dialect.CopyRows(ctx, w.conn, table, cols, rows); err != nil {
			return fmt.Errorf("copy into %s: %w", table, err)
		}
		return nil
	}
	return insertRows(ctx, w.s.DB, w.tx, table, cols, rows, "")
}

// insertRows writes rows in multi-row INSERT statements of at most
// bulkChunk rows (fewer when they have many columns); suffix ends each.
func insertRows(ctx context.Context, db *DB, tx *sql.Tx, table string, cols []string, rows [][]any, suffix string) error {
	per := max(1, min(bulkChunk/5, 30000/len(cols)))
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	for len(rows) > 0 {
		n := min(per, len(rows))
		args := make([]any, 0, n*len(cols))
		for _, r := range rows[:n] {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ") + suffix
		if _, err := db.ExecQ(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
		rows = rows[n:]
	}
	return nil
}
