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
)

// ApplyImportBatch implements leadcycle.ImportStore. Rows are written one
// after the other through the records' own create and update paths (hooks
// included: match keys, account by domain, events, scoring), so that a row
// of the same file matches the rows written before it.
func (x imports) ApplyImportBatch(ctx context.Context, job *leadcycle.ImportJob, owner string, b *leadcycle.ImportBatch) error {
	var counts leadcycle.ImportCounts
	var ahead *lookahead // for b.Next
	err := x.s.InConnTxRetry(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
		w, err := x.newWriter(ctx, tx, job)
		if err != nil {
			return err
		}
		w.conn = conn
		if job.Options.Entity == leadcycle.ImportContacts {
			if w.ahead, err = x.takeReadAhead(ctx, tx, b, w.strategy); err != nil {
				return err
			}
			if ahead != nil {
				// A retry: the lookups began before the attempt that
				// failed, and may miss what was written since.
				b.Next.ReadAhead, ahead = nil, nil
			}
			if x.readsAhead(job, b) {
				ahead = x.startReadAhead(ctx, w.strategy, b.Next)
				b.Next.ReadAhead = ahead
			}
			w.keepChanges = ahead != nil
			if err := w.bulkContacts(ctx, b.Rows); err != nil {
				return err
			}
			if ahead != nil {
				ahead.delta = w.changes
			}
		} else {
			for i := range b.Rows {
				if err := w.row(ctx, &b.Rows[i]); err != nil {
					return err
				}
			}
		}
		w.counts.Rows += b.Failed
		w.counts.Failed += b.Failed
		errs := append(slices.Clip(b.Errors), w.errs...)
		slices.SortStableFunc(errs, func(a, b leadcycle.ImportError) int { return int(a.Line - b.Line) })
		if err := writeImportErrors(ctx, x.s.DB, tx, job.ID, errs); err != nil {
			return err
		}
		counts = w.counts
		if err := x.advance(ctx, tx, job, owner, counts, b); err != nil {
			return err
		}
		if ahead != nil {
			// The last statement of the transaction: the next batch compares.
			ahead.mark, err = markOf(ctx, tx)
		}
		return err
	})
	if err != nil {
		if ahead != nil {
			b.Next.ReadAhead = nil
		}
		return err
	}
	if ahead != nil {
		ahead.committed = true
	}
	job.Add(counts)
	job.Position, job.BytesDone = b.Position, b.BytesDone
	return nil
}

// advance adds a batch's counts to the job and moves its position, if the
// lease is still held.
func (x imports) advance(ctx context.Context, tx *sql.Tx, job *leadcycle.ImportJob, owner string, c leadcycle.ImportCounts, b *leadcycle.ImportBatch) error {
	now := x.s.Clock.Now()
	res, err := x.s.ExecQ(ctx, tx, `UPDATE imports SET rows_total = rows_total + ?, created_count = created_count + ?, updated_count = updated_count + ?,
		skipped_count = skipped_count + ?, failed_count = failed_count + ?, accounts_created = accounts_created + ?, leads_without_contact = leads_without_contact + ?,
		row_position = ?, bytes_done = ?, lease_until = ?, updated_at = ? WHERE id = ? AND lease_owner = ?`,
		c.Rows, c.Created, c.Updated, c.Skipped, c.Failed, c.AccountsCreated, c.LeadsWithoutContact,
		b.Position, b.BytesDone, micros(now.Add(importLease)), micros(now), int64(job.ID), owner)
	return leaseHeld(res, err, job.ID)
}

// importLease is how long a batch commit extends a worker's hold on a job.
const importLease = 2 * time.Minute

// importWriter writes the rows of one batch inside its transaction.
type importWriter struct {
	s        *Store
	conn     *sql.Conn // the transaction's, for CopyRows
	tx       *sql.Tx
	job      *leadcycle.ImportJob
	strategy *leadcycle.MatchingStrategy
	headers  map[string]string // field → header of its column
	counts   leadcycle.ImportCounts
	errs     []leadcycle.ImportError
	// creates holds the contacts the batch creates, by key, so that later
	// rows with the same key update them.
	creates map[string]*leadcycle.Contact
	// ahead holds the lookups of the batch's keys made while the batch
	// before was written, when they can be used; changes is what the batch
	// changed, for the next batch's (see imports_ahead.go).
	ahead       *lookahead
	keepChanges bool
	changes     *importDelta
}

func (x imports) newWriter(ctx context.Context, tx *sql.Tx, job *leadcycle.ImportJob) (*importWriter, error) {
	w := &importWriter{s: x.s, tx: tx, job: job, headers: map[string]string{}, creates: map[string]*leadcycle.Contact{}}
	for _, c := range job.Columns {
		if c.Field != "" {
			w.headers[c.Field] = c.Header
		}
	}
	kind := map[string]string{leadcycle.ImportContacts: leadcycle.StrategyContact, leadcycle.ImportLeads: leadcycle.StrategyLead}[job.Options.Entity]
	if kind == "" {
		return w, nil
	}
	strategies, err := loadStrategies(ctx, x.s.DB, tx, kind)
	if err != nil {
		return nil, err
	}
	for i := range strategies {
		s := &strategies[i]
		if (job.Options.StrategyID == nil && s.IsDefault) || (job.Options.StrategyID != nil && s.ID == *job.Options.StrategyID) {
			w.strategy = s
		}
	}
	if w.strategy == nil {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "strategy_id", "the matching strategy of this import no longer exists")
	}
	return w, nil
}

// row writes one row in a savepoint-free way: every check that can refuse a
// row runs before its first write, so a refused row leaves nothing behind.
func (w *importWriter) row(ctx context.Context, r *leadcycle.ImportRow) error {
	w.counts.Rows++
	var err error
	switch {
	case r.Account != nil:
		err = w.account(ctx, r)
	case r.Lead != nil:
		err = w.lead(ctx, r)
	default:
		err = leadcycle.Errorf(leadcycle.EInvalid, "the row has no record")
	}
	return w.refuse(r, err)
}

// fail records a refused row, one report line per field at fault.
func (w *importWriter) fail(r *leadcycle.ImportRow, e *leadcycle.Error) {
	if len(e.Fields) == 0 {
		w.errs = append(w.errs, leadcycle.ImportError{Line: r.Line, Reason: e.Message})
		return
	}
	for _, f := range e.Fields {
		col := w.column(f.Field)
		w.errs = append(w.errs, leadcycle.ImportError{Line: r.Line, Column: col, Value: r.Cells[w.fieldOf(col, f.Field)], Reason: f.Field + ": " + f.Message})
	}
}

// fieldOf is the field whose cell a report column shows.
func (w *importWriter) fieldOf(header, field string) string {
	for f, h := range w.headers {
		if h == header {
			return f
		}
	}
	return field
}

// column names the file column a field came from, or the field itself.
func (w *importWriter) column(field string) string {
	if h, ok := w.headers[field]; ok {
		return h
	}
	switch field {
	case "account_id":
		for _, f := range []string{"account", "account_domain"} {
			if h, ok := w.headers[f]; ok {
				return h
			}
		}
	case "contact_id":
		if h, ok := w.headers["email"]; ok {
			return h
		}
	}
	return field
}

func (w *importWriter) notice(line int64, column, reason string) {
	w.errs = append(w.errs, leadcycle.ImportError{Line: line, Column: column, Reason: reason, Severity: leadcycle.SeverityNotice})
}

// outcome counts a written row.
func (w *importWriter) outcome(created bool) {
	if created {
		w.counts.Created++
	} else {
		w.counts.Updated++
	}
}

// match finds the record a row updates: the one its id column names, if it
// exists (an export of this or another installation), else the one with the
// strategy's key. It reports whether the row is to be skipped.
func (w *importWriter) match(ctx context.Context, r *leadcycle.ImportRow, table, key string, lookup func() (leadcycle.ID, error)) (id leadcycle.ID, skip bool, err error) {
	if r.ID != nil {
		if id, err = w.exists(ctx, table, *r.ID); err != nil {
			return 0, false, err
		}
	}
	if id == 0 && key != "" && w.job.Options.OnMatch != leadcycle.OnMatchCreate {
		if id, err = lookup(); err != nil {
			return 0, false, err
		}
	}
	if id == 0 {
		return 0, false, nil
	}
	if w.job.Options.OnMatch == leadcycle.OnMatchSkip {
		w.counts.Skipped++
		return id, true, nil
	}
	return id, false, nil
}

// given reports whether a row's value of field overwrites the record's.
func (w *importWriter) given(r *leadcycle.ImportRow, field string, empty bool) bool {
	return slices.Contains(r.Given, field) && (!empty || w.job.Options.ClearEmpty)
}

func (w *importWriter) mergeContact(r *leadcycle.ImportRow, cur, in *leadcycle.Contact) {
	text := func(field string, dst *string, v string) {
		if w.given(r, field, v == "") {
			*dst = v
		}
	}
	text("first_name", &cur.FirstName, in.FirstName)
	text("last_name", &cur.LastName, in.LastName)
	text("email", &cur.Email, in.Email)
	text("phone", &cur.Phone, in.Phone)
	text("job_title", &cur.JobTitle, in.JobTitle)
	if w.given(r, "consent.commercial_email", in.Consent.CommercialEmail == leadcycle.ConsentUnknown) {
		cur.Consent.CommercialEmail = in.Consent.CommercialEmail
	}
	if w.given(r, "consent.tracking", in.Consent.Tracking == leadcycle.ConsentUnknown) {
		cur.Consent.Tracking = in.Consent.Tracking
	}
	if in.AccountID != nil || w.given(r, "account_id", true) {
		cur.AccountID = in.AccountID
	}
	if in.OwnerID != nil || w.given(r, "owner_id", true) {
		cur.OwnerID = in.OwnerID
	}
	cur.Custom = w.mergeCustom(r, cur.Custom, in.Custom)
}

// mergeCustom copies the row's custom values; an empty cell removes the
// value only with ClearEmpty.
func (w *importWriter) mergeCustom(r *leadcycle.ImportRow, cur, in leadcycle.Custom) leadcycle.Custom {
	if cur == nil {
		cur = leadcycle.Custom{}
	}
	for _, f := range r.Given {
		name, ok := strings.CutPrefix(f, "custom.")
		if !ok {
			continue
		}
		v, has := in[name]
		switch {
		case has:
			cur[name] = v
		case w.job.Options.ClearEmpty:
			delete(cur, name)
		}
	}
	return cur
}

// linkAccount sets the account of a contact or lead from the row's account
// columns: an id, a domain, then a name. A contact whose company is not
// found gets a new account; a lead's must exist.
func (w *importWriter) linkAccount(ctx context.Context, r *leadcycle.ImportRow, dst **leadcycle.ID) error {
	if *dst != nil {
		return w.mustExist(ctx, "accounts", "account_id", **dst)
	}
	name, domain := strings.TrimSpace(r.AccountName), leadcycle.DomainOf(strings.TrimSpace(r.AccountDomain))
	if name == "" && domain == "" {
		return nil
	}
	id, err := w.findAccount(ctx, domain, name)
	if err != nil {
		return err
	}
	if id == 0 && r.Lead != nil {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "account", "no account is named %q; import the accounts first", name)
	}
	if id == 0 && name == "" {
		return nil // a domain alone does not make an account
	}
	if id == 0 {
		a := &leadcycle.Account{Name: name, Domain: domain}
		if err := w.s.accounts.createTx(ctx, w.tx, a); err != nil {
			return err
		}
		id = a.ID
		w.counts.AccountsCreated++
	}
	*dst = leadcycle.IDPtr(id)
	return nil
}

// findAccount returns the most recently updated account with the domain,
// else with the name (case-insensitive), or 0.
func (w *importWriter) findAccount(ctx context.Context, domain, name string) (leadcycle.ID, error) {
	if domain != "" {
		if id, err := accountIDByDomain(ctx, w.s.DB, w.tx, domain); err != nil || id != 0 {
			return id, err
		}
	}
	if name == "" {
		return 0, nil
	}
	var id int64
	err := w.s.QueryRowQ(ctx, w.tx, "SELECT id FROM accounts WHERE lower(name) = lower(?) ORDER BY updated_at DESC, id DESC LIMIT 1", name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return leadcycle.ID(id), err
}

// exists returns id when the table has a record with it, else 0.
func (w *importWriter) exists(ctx context.Context, table string, id leadcycle.ID) (leadcycle.ID, error) {
	var one int
	err := w.s.QueryRowQ(ctx, w.tx, "SELECT 1 FROM "+table+" WHERE id = ?", int64(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// mustExist refuses a reference to a missing record.
func (w *importWriter) mustExist(ctx context.Context, table, field string, id leadcycle.ID) error {
	found, err := w.exists(ctx, table, id)
	if err == nil && found == 0 {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, field, "%s %s does not exist", strings.TrimSuffix(table, "s"), id)
	}
	return err
}

func (w *importWriter) account(ctx context.Context, r *leadcycle.ImportRow) error {
	in := r.Account
	in.Normalize()
	key := in.Domain + "\x00" + strings.ToLower(in.Name)
	id, skip, err := w.match(ctx, r, "accounts", key, func() (leadcycle.ID, error) { return w.findAccount(ctx, in.Domain, in.Name) })
	if err != nil || skip {
		return err
	}
	if id == 0 {
		if err := w.s.accounts.createTx(ctx, w.tx, in); err != nil {
			return err
		}
		w.outcome(true)
		return nil
	}
	_, err = w.s.accounts.updateTx(ctx, w.tx, id, func(cur *leadcycle.Account) error {
		w.mergeAccount(r, cur, in)
		return nil
	})
	if err == nil {
		w.outcome(false)
	}
	return err
}

func (w *importWriter) mergeAccount(r *leadcycle.ImportRow, cur, in *leadcycle.Account) {
	text := func(field string, dst *string, v string) {
		if w.given(r, field, v == "") {
			*dst = v
		}
	}
	text("name", &cur.Name, in.Name)
	text("website", &cur.Website, in.Website)
	text("domain", &cur.Domain, in.Domain)
	text("industry", &cur.Industry, in.Industry)
	text("country", &cur.Country, in.Country)
	if w.given(r, "employees", in.Employees == nil) {
		cur.Employees = in.Employees
	}
	if w.given(r, "revenue", in.Revenue == nil) {
		cur.Revenue = in.Revenue
	}
	if in.OwnerID != nil || w.given(r, "owner_id", true) {
		cur.OwnerID = in.OwnerID
	}
	cur.Custom = w.mergeCustom(r, cur.Custom, in.Custom)
}

func (w *importWriter) lead(ctx context.Context, r *leadcycle.ImportRow) error {
	in := r.Lead
	in.Source = leadcycle.SourceImport
	in.Normalize()
	keyContact, err := w.leadContact(ctx, r)
	if err != nil {
		return err
	}
	if err := w.linkAccount(ctx, r, &in.AccountID); err != nil {
		return err
	}
	key := leadKey(w.strategy, in, keyContact)
	id, skip, err := w.match(ctx, r, "leads", key, func() (leadcycle.ID, error) { return findByKey(ctx, w.s.DB, w.tx, w.strategy, key) })
	if err != nil || skip {
		return err
	}
	if id == 0 {
		return w.createLead(ctx, r, key)
	}
	_, err = w.s.leads.updateTx(ctx, w.tx, id, func(cur *leadcycle.Lead) error {
		w.mergeLead(r, cur, in)
		return nil
	})
	if err == nil {
		w.outcome(false)
	}
	return err
}

// leadContact links a lead to its contact (by id, or by the email column)
// and returns the contact whose email and phone key the lead.
func (w *importWriter) leadContact(ctx context.Context, r *leadcycle.ImportRow) (*leadcycle.Contact, error) {
	in := r.Lead
	email := leadcycle.NormalizeEmail(r.ContactEmail)
	if in.ContactID != nil {
		c, err := getRow(ctx, w.s.DB, w.tx, contactTable, *in.ContactID, false)
		if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
			return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_id", "contact %s does not exist", *in.ContactID)
		}
		return c, err
	}
	if email == "" {
		return nil, nil
	}
	c := new(leadcycle.Contact)
	err := w.s.QueryRowQ(ctx, w.tx, w.s.contacts.selectSQL+" WHERE email = ? ORDER BY updated_at DESC, id DESC LIMIT 1", email).Scan(contactTable.dests(c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return &leadcycle.Contact{Email: email}, nil // keys the lead by the email it was given
	}
	if err != nil {
		return nil, err
	}
	in.ContactID = leadcycle.IDPtr(c.ID)
	return c, nil
}

func (w *importWriter) createLead(ctx context.Context, r *leadcycle.ImportRow, key string) error {
	in := r.Lead
	if err := w.s.leads.createTx(ctx, w.tx, in); err != nil {
		return err
	}
	w.outcome(true)
	if in.ContactID != nil {
		return nil
	}
	w.counts.LeadsWithoutContact++
	reason := fmt.Sprintf("lead %s imported without a contact or an account: it cannot be scored until one is set", in.ID)
	if in.AccountID != nil {
		reason = fmt.Sprintf("lead %s imported without a contact: an account-based lead of account %s", in.ID, *in.AccountID)
	}
	if email := leadcycle.NormalizeEmail(r.ContactEmail); email != "" {
		reason = fmt.Sprintf("lead %s imported without a contact: no contact has the email %s", in.ID, email)
		// Like a capture, it keeps the key of the email so that a later row
		// or submission with that email finds it.
		if key != "" {
			if err := putKey(ctx, w.s.DB, w.tx, w.strategy.ID, in.ID, key); err != nil {
				return err
			}
		}
	}
	w.notice(r.Line, w.column("email"), reason)
	return nil
}

func (w *importWriter) mergeLead(r *leadcycle.ImportRow, cur, in *leadcycle.Lead) {
	text := func(field string, dst *string, v string) {
		if w.given(r, field, v == "") {
			*dst = v
		}
	}
	text("topic", &cur.Topic, in.Topic)
	text("description", &cur.Description, in.Description)
	text("purchase_timeframe", &cur.PurchaseTimeframe, in.PurchaseTimeframe)
	text("purchase_process", &cur.PurchaseProcess, in.PurchaseProcess)
	text("need", &cur.Need, in.Need)
	text("campaign", &cur.Campaign, in.Campaign)
	text("status", &cur.Status, in.Status)
	text("status_reason", &cur.StatusReason, in.StatusReason)
	if w.given(r, "budget_amount", in.BudgetAmount == nil) {
		cur.BudgetAmount = in.BudgetAmount
	}
	if in.ContactID != nil {
		cur.ContactID = in.ContactID
	}
	if in.AccountID != nil {
		cur.AccountID = in.AccountID
	}
	if in.OwnerID != nil || w.given(r, "owner_id", true) {
		cur.OwnerID = in.OwnerID
	}
	cur.Custom = w.mergeCustom(r, cur.Custom, in.Custom)
}
