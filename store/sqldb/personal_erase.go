package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// Kinds counted by an erasure report (see personal.go for the tables).
var (
	erasedKinds = []string{"contacts", "leads", "lead_scores", "score_history", "lead_timeline", "score_queue", "tasks", "interactions",
		"form_submissions", "event_registrations", "capture_log", "visitors", "page_visits", "match_keys", "events", "webhook_deliveries"}
	unlinkedKinds = []string{"opportunities", "linkedin_submissions"}
)

// EraseContact implements leadcycle.PersonalDataStore. One transaction
// locks the contact and its leads, then removes what refers to them before
// the records themselves, which go through their repositories so that
// their delete hooks run (match keys, rescoring the account's leads). Work
// in flight elsewhere skips what is gone: the scorer leaves out vanished
// leads, the workflow ignores events of deleted leads, and a webhook
// delivery whose row is gone records its attempt on nothing.
func (x personalStore) EraseContact(ctx context.Context, contactID leadcycle.ID, reason string) (*leadcycle.ErasureReport, error) {
	if err := leadcycle.CheckErasureReason(reason, nil); err != nil {
		return nil, err
	}
	var rep *leadcycle.ErasureReport
	err := x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		var err error
		rep, err = x.eraseTx(ctx, tx, contactID, reason)
		return err
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// eraseTx erases the contact in tx and returns the report.
func (x personalStore) eraseTx(ctx context.Context, tx *sql.Tx, contactID leadcycle.ID, reason string) (*leadcycle.ErasureReport, error) {
	if err := x.lockEvents(ctx, tx, contactID); err != nil {
		return nil, err
	}
	sub, err := x.find(ctx, tx, contactID, true)
	if err != nil {
		return nil, err
	}
	if err := leadcycle.CheckErasureReason(reason, sub.contact); err != nil {
		return nil, err
	}
	e := newEraser(ctx, x, tx, sub)
	for _, step := range e.steps() {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return e.rep, e.audit(reason)
}

// lockEvents locks the outbox events about the contact and its leads
// before the records themselves, in the order the workflow takes them
// (events, then their lead): an erasure and a workflow batch on the same
// lead then wait for each other instead of deadlocking (a batch that took
// an event written meanwhile can still deadlock with the erasure; the
// database breaks it and the erasure runs again). Nothing to do where the
// database has a single writer.
func (x personalStore) lockEvents(ctx context.Context, tx *sql.Tx, contactID leadcycle.ID) error {
	if x.s.Dialect.SingleNode {
		return nil
	}
	rows, err := x.s.QueryQ(ctx, tx, "SELECT id FROM outbox WHERE contact_id = ? OR lead_id IN (SELECT id FROM leads WHERE contact_id = ?) ORDER BY id"+x.s.Dialect.ForUpdate,
		int64(contactID), int64(contactID))
	if err != nil {
		return fmt.Errorf("lock events of contact: %w", err)
	}
	_, err = scanAll(rows, scanInt64)
	return err
}

// eraser runs the steps of one erasure in its transaction.
type eraser struct {
	ctx context.Context
	x   personalStore
	tx  *sql.Tx
	sub *subject
	d   Dialect
	rep *leadcycle.ErasureReport
}

func newEraser(ctx context.Context, x personalStore, tx *sql.Tx, sub *subject) *eraser {
	rep := &leadcycle.ErasureReport{ContactID: sub.contact.ID, ErasedAt: x.s.Clock.Now().UTC(), Deleted: map[string]int64{}, Unlinked: map[string]int64{},
		OpportunityIDs: []leadcycle.ID{}}
	for _, k := range erasedKinds {
		rep.Deleted[k] = 0
	}
	for _, k := range unlinkedKinds {
		rep.Unlinked[k] = 0
	}
	return &eraser{ctx: ctx, x: x, tx: tx, sub: sub, d: x.s.Dialect, rep: rep}
}

// steps are the erasure's steps in order: events first, so that the
// deliveries a concurrent fan-out makes for them are seen; the rows that
// refer to the contact and its leads next; the leads and the contact last.
func (e *eraser) steps() []func() error {
	return []func() error{e.events, e.opportunities, e.linkedIn, e.submissions, e.captureLog, e.tracking, e.importReports, e.rescore,
		e.contactRows, e.leadRows, e.matchKeys, e.leads, e.contact}
}

// importReports blanks the cells of import reports that hold the contact's
// email or phone (a refused row of the same person); the rest of such a
// report line (line, column, reason) names no one.
func (e *eraser) importReports() error {
	c := e.sub.contact
	var conds []string
	var args []any
	if c.Email != "" {
		conds, args = append(conds, "lower(value) = ?"), append(args, strings.ToLower(c.Email))
	}
	if c.Phone != "" {
		conds, args = append(conds, "value = ?"), append(args, c.Phone)
	}
	if len(conds) == 0 {
		return nil
	}
	return e.exec(e.rep.Unlinked, "import_errors", "UPDATE import_errors SET value = '' WHERE "+strings.Join(conds, " OR "), args...)
}

func (e *eraser) contactID() int64 { return int64(e.sub.contact.ID) }

// exec runs a statement and adds the rows it changed to counts[kind].
func (e *eraser) exec(counts map[string]int64, kind, query string, args ...any) error {
	res, err := e.x.s.ExecQ(e.ctx, e.tx, query, args...)
	if err != nil {
		return fmt.Errorf("erase %s: %w", kind, err)
	}
	n, _ := res.RowsAffected()
	counts[kind] += n
	return nil
}

// ids runs a statement that returns ids (RETURNING id).
func (e *eraser) ids(kind, query string, args ...any) ([]int64, error) {
	rows, err := e.x.s.QueryQ(e.ctx, e.tx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("erase %s: %w", kind, err)
	}
	ids, err := scanAll(rows, scanInt64)
	if err != nil {
		return nil, fmt.Errorf("erase %s: %w", kind, err)
	}
	return ids, nil
}

// events deletes the outbox events about the contact or its leads, then
// their webhook deliveries.
func (e *eraser) events() error {
	cond, args := e.sub.ofContact(e.d, "contact_id", "lead_id")
	ids, err := e.ids("events", "DELETE FROM outbox WHERE "+cond+" RETURNING id", args...)
	if err != nil {
		return err
	}
	e.rep.Deleted["events"] = int64(len(ids))
	if len(ids) == 0 {
		return nil
	}
	return e.exec(e.rep.Deleted, "webhook_deliveries", "DELETE FROM webhook_deliveries WHERE "+e.d.InIDs("event_id"), e.d.IDsArg(ids))
}

// opportunities keeps the opportunities, which are the company's business
// records, without their links to the contact and its leads.
func (e *eraser) opportunities() error {
	in, arg := e.sub.inLeads(e.d, "lead_id")
	ids, err := e.ids("opportunities", "UPDATE opportunities SET contact_id = CASE WHEN contact_id = ? THEN NULL ELSE contact_id END, lead_id = CASE WHEN "+in+
		" THEN NULL ELSE lead_id END, updated_at = ? WHERE contact_id = ? OR "+in+" RETURNING id",
		e.contactID(), arg, micros(e.rep.ErasedAt), e.contactID(), arg)
	if err != nil {
		return err
	}
	for _, id := range uniqueIDs(ids) {
		e.rep.OpportunityIDs = append(e.rep.OpportunityIDs, leadcycle.ID(id))
	}
	e.rep.Unlinked["opportunities"] = int64(len(ids))
	return nil
}

// linkedIn keeps the LinkedIn responses the contact came from as bare
// response ids: a later sync then skips them instead of capturing the
// person again.
func (e *eraser) linkedIn() error {
	cond, args := e.sub.ofContact(e.d, "contact_id", "lead_id")
	return e.exec(e.rep.Unlinked, "linkedin_submissions", "UPDATE linkedin_submissions SET contact_id = NULL, lead_id = NULL, interaction_id = NULL, error = '' WHERE "+cond, args...)
}

func (e *eraser) submissions() error {
	return e.exec(e.rep.Deleted, "form_submissions", "DELETE FROM form_submissions WHERE "+e.d.InIDs("id"), e.d.IDsArg(append([]int64{}, e.sub.submissions...)))
}

func (e *eraser) captureLog() error {
	cond, args := e.sub.resultNames(e.d, "result")
	return e.exec(e.rep.Deleted, "capture_log", "DELETE FROM capture_log WHERE "+cond, args...)
}

func (e *eraser) tracking() error {
	cond, arg := e.sub.visitorsIn(e.d, "visitor_id")
	if err := e.exec(e.rep.Deleted, "page_visits", "DELETE FROM page_visits WHERE "+cond, arg); err != nil {
		return err
	}
	cond, arg = e.sub.visitorsIn(e.d, "id")
	return e.exec(e.rep.Deleted, "visitors", "DELETE FROM visitors WHERE "+cond, arg)
}

// rescore queues the account-based leads that lose the contact's
// interactions. Those of the contact's account are queued by the contact's
// delete hook; interactions recorded with another account explicitly take
// that account's leads along, queued here. The in-memory histories of the
// interactions' accounts are forgotten here too: the interactions are
// deleted before the contact, whose hook then no longer finds them.
func (e *eraser) rescore() error {
	db, d := e.x.s.DB, e.x.s.Dialect
	others, err := interactionAccounts(e.ctx, db, e.tx, e.sub.contact.ID)
	if err != nil {
		return err
	}
	db.forgetAccounts(e.tx, others)
	accounts := uniqueIDs(append(idsOf(e.sub.contact.AccountID), others...))
	if len(accounts) == 0 {
		return nil
	}
	if err := e.x.s.QueryRowQ(e.ctx, e.tx, "SELECT COUNT(*) FROM leads WHERE contact_id IS NULL AND "+d.InIDs("account_id"), d.IDsArg(accounts)).Scan(&e.rep.Rescored); err != nil {
		return fmt.Errorf("erase: leads to rescore: %w", err)
	}
	if len(others) == 0 {
		return nil
	}
	cause := fmt.Sprintf("contact %s erased", e.sub.contact.ID)
	return enqueueAccountBased(e.ctx, db, e.tx, cause, d.InIDs("l.account_id"), d.IDsArg(uniqueIDs(others)))
}

// contactRows deletes the rows of the contact besides its leads.
func (e *eraser) contactRows() error {
	if e.sub.contact.Email != "" {
		if err := e.exec(e.rep.Deleted, "email_suppressions", "DELETE FROM email_suppressions WHERE email = ?", strings.ToLower(e.sub.contact.Email)); err != nil {
			return err
		}
	}
	for _, kind := range []string{"event_registrations", "interactions", "journey_runs", "email_sends"} {
		if err := e.exec(e.rep.Deleted, kind, "DELETE FROM "+kind+" WHERE contact_id = ?", e.contactID()); err != nil {
			return err
		}
	}
	cond, args := e.sub.ofContact(e.d, "contact_id", "lead_id")
	return e.exec(e.rep.Deleted, "tasks", "DELETE FROM tasks WHERE "+cond, args...)
}

// leadRows deletes the rows of the contact's leads: scores, score history,
// timeline and queue entries.
func (e *eraser) leadRows() error {
	in, arg := e.sub.inLeads(e.d, "lead_id")
	for _, t := range []struct{ kind, table string }{
		{"lead_scores", "lead_scores"}, {"score_history", "score_ledger"}, {"lead_timeline", "lead_timeline"}, {"score_queue", "score_queue"},
	} {
		if err := e.exec(e.rep.Deleted, t.kind, "DELETE FROM "+t.table+" WHERE "+in, arg); err != nil {
			return err
		}
	}
	return nil
}

// matchKeys counts the match keys of the contact and its leads, which
// their delete hooks remove.
func (e *eraser) matchKeys() error {
	in, arg := e.sub.inLeads(e.d, "k.record_id")
	var n int64
	err := e.x.s.QueryRowQ(e.ctx, e.tx, `SELECT COUNT(*) FROM match_keys k JOIN matching_strategies m ON m.id = k.strategy_id
		WHERE (m.kind = ? AND k.record_id = ?) OR (m.kind = ? AND `+in+")",
		leadcycle.StrategyContact, e.contactID(), leadcycle.StrategyLead, arg).Scan(&n)
	if err != nil {
		return fmt.Errorf("erase match keys: %w", err)
	}
	e.rep.Deleted["match_keys"] = n
	return nil
}

// leads deletes the contact's leads through their repository.
func (e *eraser) leads() error {
	for _, id := range e.sub.leads {
		if err := e.x.s.leads.deleteTx(e.ctx, e.tx, leadcycle.ID(id)); err != nil {
			return err
		}
	}
	e.rep.Deleted["leads"] = int64(len(e.sub.leads))
	return nil
}

// contact deletes the contact through its repository.
func (e *eraser) contact() error {
	if err := e.x.s.contacts.deleteTx(e.ctx, e.tx, e.sub.contact.ID); err != nil {
		return err
	}
	e.rep.Deleted["contacts"] = 1
	return nil
}

// audit records the erasure: counts, ids and the reason, no personal data.
func (e *eraser) audit(reason string) error {
	detail := map[string]any{"reason": reason, "deleted": e.rep.Deleted, "unlinked": e.rep.Unlinked, "rescored": e.rep.Rescored,
		"opportunity_ids": e.rep.OpportunityIDs}
	id, err := e.x.audit(e.ctx, e.tx, leadcycle.AuditContactErased, e.sub.contact.ID, detail)
	e.rep.AuditEntryID = id
	return err
}
