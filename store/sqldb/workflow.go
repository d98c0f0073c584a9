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

// workflowStore implements leadcycle.WorkflowStore.
type workflowStore struct{ s *Store }

// Workflow implements leadcycle.Store.
func (s *Store) Workflow() leadcycle.WorkflowStore { return workflowStore{s} }

// Processes implements leadcycle.Store.
func (s *Store) Processes() leadcycle.Repo[leadcycle.Process] { return s.processes }

// openLead reads a lead for change in tx and refuses a closed one.
func (x workflowStore) openLead(ctx context.Context, tx *sql.Tx, id leadcycle.ID) (*leadcycle.Lead, error) {
	l, err := x.s.leads.get(ctx, tx, id, true)
	if err != nil {
		return nil, err
	}
	if l.Status != leadcycle.LeadOpen {
		return nil, leadcycle.Errorf(leadcycle.EConflict, "lead %s is %s and read-only; reactivate it first", id, l.Status)
	}
	return l, nil
}

// reload returns the lead as Get would, scores included.
func (x workflowStore) reload(ctx context.Context, id leadcycle.ID) (*leadcycle.Lead, error) {
	return x.s.leads.Get(ctx, id)
}

// CompleteStage implements leadcycle.WorkflowStore.
func (x workflowStore) CompleteStage(ctx context.Context, leadID leadcycle.ID) (*leadcycle.Lead, error) {
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		l, err := x.openLead(ctx, tx, leadID)
		if err != nil {
			return err
		}
		lp, err := openLeadProcess(ctx, x.s.DB, tx, l)
		if err != nil {
			return err
		}
		if lp == nil {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "process_id", "lead %s is in no business process", leadID)
		}
		subj, err := lp.subject(ctx)
		if err != nil {
			return err
		}
		mv, err := lp.c.Complete(subj, x.s.Clock.Now())
		if err != nil {
			return err
		}
		actor := leadcycle.ActorOf(ctx)
		if err := moveLead(ctx, x.s.DB, tx, l, mv.To, actor, mv.Reason); err != nil {
			return err
		}
		return lp.conditions(ctx, actor)
	})
	if err != nil {
		return nil, err
	}
	return x.reload(ctx, leadID)
}

// MoveStage implements leadcycle.WorkflowStore.
func (x workflowStore) MoveStage(ctx context.Context, leadID leadcycle.ID, stage, reason string) (*leadcycle.Lead, error) {
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		l, err := x.openLead(ctx, tx, leadID)
		if err != nil {
			return err
		}
		if l.ProcessID == nil {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "process_id", "lead %s is in no business process", leadID)
		}
		c, err := x.s.compiledProcess(ctx, tx, *l.ProcessID)
		if err != nil {
			return err
		}
		if err := c.CanMove(stage); err != nil {
			return err
		}
		if stage == l.Stage {
			return nil
		}
		why := "moved by hand"
		if reason = strings.TrimSpace(reason); reason != "" {
			why += ": " + reason
		}
		return moveLead(ctx, x.s.DB, tx, l, stage, leadcycle.ActorOf(ctx), why)
	})
	if err != nil {
		return nil, err
	}
	return x.reload(ctx, leadID)
}

// SwitchProcess implements leadcycle.WorkflowStore.
func (x workflowStore) SwitchProcess(ctx context.Context, leadID, processID leadcycle.ID, stage string) (*leadcycle.Lead, error) {
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := x.openLead(ctx, tx, leadID); err != nil {
			return err
		}
		c, err := x.s.compiledProcess(ctx, tx, processID)
		if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "process_id", "process %s does not exist", processID)
		}
		if err != nil {
			return err
		}
		if stage == "" {
			stage = c.Def.FirstStage()
		}
		if err := c.CanMove(stage); err != nil {
			return err
		}
		ctx := withReason(ctx, "stage", fmt.Sprintf("switched to process %q", c.Def.Name))
		_, err = x.s.leads.updateTx(ctx, tx, leadID, func(l *leadcycle.Lead) error {
			l.ProcessID, l.Stage = leadcycle.IDPtr(processID), stage
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return x.reload(ctx, leadID)
}

// Disqualify implements leadcycle.WorkflowStore.
func (x workflowStore) Disqualify(ctx context.Context, leadID leadcycle.ID, reason, note string) (*leadcycle.Lead, error) {
	reasons := leadcycle.LeadStatusReasons[leadcycle.LeadDisqualified]
	if !slices.Contains(reasons, reason) {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "reason", "is required: one of %s", strings.Join(reasons, ", "))
	}
	why := "disqualified: " + reason
	if note = strings.TrimSpace(note); note != "" {
		why += " — " + note
	}
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := x.openLead(ctx, tx, leadID); err != nil {
			return err
		}
		_, err := x.s.leads.updateTx(withReason(ctx, "status", why), tx, leadID, func(l *leadcycle.Lead) error {
			l.Status, l.StatusReason = leadcycle.LeadDisqualified, reason
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return x.reload(ctx, leadID)
}

// Reactivate implements leadcycle.WorkflowStore.
func (x workflowStore) Reactivate(ctx context.Context, leadID leadcycle.ID, note string) (*leadcycle.Lead, error) {
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := x.s.leads.get(ctx, tx, leadID, true)
		if err != nil {
			return err
		}
		if cur.Status == leadcycle.LeadOpen {
			return leadcycle.Errorf(leadcycle.EConflict, "lead %s is already open", leadID)
		}
		why := "reactivated"
		if note = strings.TrimSpace(note); note != "" {
			why += ": " + note
		}
		_, err = x.s.leads.updateTx(withReason(ctx, "status", why), tx, leadID, func(l *leadcycle.Lead) error {
			l.Status, l.StatusReason = leadcycle.LeadOpen, "new"
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return x.reload(ctx, leadID)
}

// Qualify implements leadcycle.WorkflowStore.
func (x workflowStore) Qualify(ctx context.Context, leadID leadcycle.ID, req leadcycle.QualifyRequest) (*leadcycle.QualifyResult, error) {
	res := &leadcycle.QualifyResult{Explanation: []string{}}
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		l, err := x.openLead(ctx, tx, leadID)
		if err != nil {
			return err
		}
		contactID, accountID := l.ContactID, l.AccountID
		if contactID == nil && req.Contact != nil {
			c, created, why, err := x.matchContact(ctx, tx, *req.Contact)
			if err != nil {
				return prefixFields(err, "contact.")
			}
			contactID, res.ContactCreated = &c.ID, created
			res.Explanation = append(res.Explanation, why)
			if accountID == nil {
				accountID = c.AccountID
			}
		}
		if accountID == nil && req.Account != nil {
			a, created, why, err := x.matchAccount(ctx, tx, *req.Account)
			if err != nil {
				return prefixFields(err, "account.")
			}
			accountID, res.AccountCreated = &a.ID, created
			res.Explanation = append(res.Explanation, why)
		}
		if contactID == nil && accountID == nil {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "contact", "lead %s has neither a contact nor an account: send contact (matched by email before one is created) or account", leadID)
		}
		opp := leadcycle.Opportunity{}
		if req.Opportunity != nil {
			opp = *req.Opportunity
		}
		opp.ID, opp.LeadID, opp.ContactID, opp.AccountID = 0, &l.ID, contactID, accountID
		if strings.TrimSpace(opp.Name) == "" {
			opp.Name = l.Topic
		}
		if opp.OwnerID == nil {
			opp.OwnerID = l.OwnerID
		}
		if err := x.s.opportunities.createTx(ctx, tx, &opp); err != nil {
			return prefixFields(err, "opportunity.")
		}
		res.Opportunity = &opp
		res.Explanation = append(res.Explanation, fmt.Sprintf("opportunity %s created from lead %s", opp.ID, leadID))
		why := fmt.Sprintf("qualified into opportunity %s", opp.ID)
		ctx := context.WithValue(withReason(ctx, "status", why), reasonKey{"opportunity"}, opp.ID)
		_, err = x.s.leads.updateTx(ctx, tx, leadID, func(l *leadcycle.Lead) error {
			l.Status, l.StatusReason = leadcycle.LeadQualified, "qualified"
			l.ContactID, l.AccountID = contactID, accountID
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	if res.Lead, err = x.reload(ctx, leadID); err != nil {
		return nil, err
	}
	return res, nil
}

// prefixFields puts a prefix before the field names of a validation error.
func prefixFields(err error, prefix string) error {
	var e *leadcycle.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return err
	}
	out := &leadcycle.Error{Code: e.Code, Fields: make([]leadcycle.FieldError, len(e.Fields))}
	for i, f := range e.Fields {
		out.Fields[i] = leadcycle.FieldError{Field: prefix + f.Field, Message: f.Message}
	}
	out.Message = out.Fields[0].Field + ": " + out.Fields[0].Message
	return out
}

// matchContact finds the contact with the default contact strategy, as a
// capture does (updating it when the strategy says so), or creates it, so
// that qualifying never makes a duplicate.
func (x workflowStore) matchContact(ctx context.Context, tx *sql.Tx, in leadcycle.Contact) (*leadcycle.Contact, bool, string, error) {
	c := &capture{s: x.s, tx: tx, in: leadcycle.CaptureInput{Source: leadcycle.SourceManual, Contact: in}, res: &leadcycle.CaptureResult{}}
	if err := c.matchContact(ctx); err != nil {
		return nil, false, "", err
	}
	why := strings.Join(c.res.Explanation, "; ")
	if c.contact == nil {
		return nil, false, "", leadcycle.FieldErrorf(leadcycle.EInvalid, "contact", "%s", why)
	}
	return c.contact, c.res.ContactCreated, why, nil
}

// matchAccount finds the account by domain, then by name, or creates it.
func (x workflowStore) matchAccount(ctx context.Context, tx *sql.Tx, in leadcycle.Account) (*leadcycle.Account, bool, string, error) {
	in.ID = 0
	in.Normalize()
	var id int64
	var err error
	by := ""
	if in.Domain != "" {
		err, by = x.s.QueryRowQ(ctx, tx, "SELECT id FROM accounts WHERE domain = ? ORDER BY updated_at DESC, id DESC LIMIT 1", in.Domain).Scan(&id), "domain "+in.Domain
	}
	if id == 0 && in.Name != "" {
		err, by = x.s.QueryRowQ(ctx, tx, "SELECT id FROM accounts WHERE LOWER(name) = LOWER(?) ORDER BY updated_at DESC, id DESC LIMIT 1", in.Name).Scan(&id), fmt.Sprintf("name %q", in.Name)
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, false, "", fmt.Errorf("match account: %w", err)
	}
	if id != 0 {
		a, err := x.s.accounts.get(ctx, tx, leadcycle.ID(id), false)
		return a, false, fmt.Sprintf("account %d matched by %s", id, by), err
	}
	if err := x.s.accounts.createTx(ctx, tx, &in); err != nil {
		return nil, false, "", err
	}
	return &in, true, fmt.Sprintf("account %s created: none matched by domain or name", in.ID), nil
}

// closeLeadTasks closes the open queue tasks of a lead that is closed.
func closeLeadTasks(ctx context.Context, db *DB, tx *sql.Tx, leadID leadcycle.ID, status string) error {
	now := micros(db.Clock.Now())
	_, err := db.ExecQ(ctx, tx, "UPDATE tasks SET status = ?, completed_at = ?, updated_at = ? WHERE lead_id = ? AND status = 'open' AND queue <> ''",
		status, now, now, int64(leadID))
	if err != nil {
		return fmt.Errorf("close tasks of lead: %w", err)
	}
	return nil
}

// Timeline implements leadcycle.WorkflowStore.
func (x workflowStore) Timeline(ctx context.Context, leadID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.TimelineEntry], error) {
	if _, err := x.s.leads.get(ctx, x.s.R, leadID, false); err != nil {
		return leadcycle.Page[leadcycle.TimelineEntry]{Items: []leadcycle.TimelineEntry{}}, err
	}
	return newestFirst(ctx, x.s.DB, q, "SELECT "+timelineCols+" FROM lead_timeline WHERE lead_id = ?",
		[]any{int64(leadID)}, scanTimelineEntry, func(e leadcycle.TimelineEntry) leadcycle.ID { return e.ID })
}

const timelineCols = "id, lead_id, kind, process_id, from_value, to_value, actor, reason, at"

// scanTimelineEntry scans a row of timelineCols.
func scanTimelineEntry(r scanner) (leadcycle.TimelineEntry, error) {
	var e leadcycle.TimelineEntry
	err := r.Scan(idCol{&e.ID}, idCol{&e.LeadID}, &e.Kind, nullIDCol{&e.ProcessID}, &e.From, &e.To, &e.Actor, &e.Reason, timeCol{&e.At})
	return e, err
}

const eventCols = "id, type, lead_id, contact_id, payload, actor, at, workflow_error"

func scanEvent(r scanner) (leadcycle.Occurrence, error) {
	var e leadcycle.Occurrence
	err := r.Scan(idCol{&e.ID}, &e.Type, nullIDCol{&e.LeadID}, nullIDCol{&e.ContactID}, jsonCol{&e.Payload}, &e.Actor, timeCol{&e.At}, &e.WorkflowError)
	return e, err
}

// Events implements leadcycle.WorkflowStore.
func (x workflowStore) Events(ctx context.Context, afterID leadcycle.ID, limit int) ([]leadcycle.Occurrence, error) {
	if limit <= 0 || limit > leadcycle.MaxLimit {
		limit = leadcycle.MaxLimit
	}
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT "+eventCols+" FROM outbox WHERE id > ? ORDER BY id LIMIT ?", int64(afterID), limit)
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	return scanAll(rows, scanEvent)
}

// HandleEvents implements leadcycle.WorkflowStore. Each batch claims its
// events with a row lock that other nodes skip, reacts to them and marks
// them handled in one transaction: a reaction happens once or not at all.
// An event whose reaction fails is set aside, so that it cannot hold up the
// events after it: the batch is redone one event at a time, and the event
// that fails alone is marked handled with its error (it stays in the event
// log) and the error is returned for the log.
func (x workflowStore) HandleEvents(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		limit = 100
	}
	n, _, err := x.handleBatch(ctx, limit)
	if err == nil || ctx.Err() != nil {
		return n, err
	}
	n = 0
	for range limit {
		done, failed, err := x.handleBatch(ctx, 1)
		n += done
		if failed != 0 {
			if serr := x.setAside(ctx, failed, err); serr != nil {
				return n, errors.Join(err, serr)
			}
			return n, err
		}
		if err != nil || done == 0 {
			return n, err
		}
	}
	return n, nil
}

// handleBatch handles up to limit pending events in one transaction. When a
// reaction fails it returns that event's id with the error.
func (x workflowStore) handleBatch(ctx context.Context, limit int) (n int, failed leadcycle.ID, err error) {
	err = x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		n, failed = 0, 0
		rows, err := x.s.QueryQ(ctx, tx, "SELECT "+eventCols+" FROM outbox WHERE workflow_pending = ? ORDER BY id LIMIT ?"+x.s.Dialect.SkipLocked, true, limit)
		if err != nil {
			return fmt.Errorf("pending events: %w", err)
		}
		evs, err := scanAll(rows, scanEvent)
		if err != nil {
			return err
		}
		ids := make([]int64, 0, len(evs))
		deferred := map[leadcycle.ID]bool{}
		for _, ev := range evs {
			later, err := x.mustWait(ctx, tx, ev, evs[0].ID, deferred)
			if err != nil {
				return err
			}
			if later {
				continue
			}
			if err := x.react(ctx, tx, ev); err != nil {
				failed = ev.ID
				return fmt.Errorf("event %s (%s): %w", ev.ID, ev.Type, err)
			}
			ids = append(ids, int64(ev.ID))
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE outbox SET workflow_pending = ? WHERE "+x.s.Dialect.InIDs("id"), false, x.s.Dialect.IDsArg(ids)); err != nil {
			return fmt.Errorf("mark events handled: %w", err)
		}
		n = len(ids)
		return nil
	})
	return n, failed, err
}

// setAside marks an event whose reaction failed as handled, keeping why.
func (x workflowStore) setAside(ctx context.Context, id leadcycle.ID, cause error) error {
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := x.s.W.ExecContext(ctx, x.s.Q("UPDATE outbox SET workflow_pending = ?, workflow_error = ? WHERE id = ?"), false, msg, int64(id))
	if err != nil {
		return fmt.Errorf("set event %s aside: %w", id, err)
	}
	return nil
}

// mustWait reports whether an event must wait for an earlier event of its
// lead that another node holds (events before this batch's first, still
// pending), so that each lead's events are handled in order: a lead scored
// and then marked sales ready passes through marketing qualification on its
// timeline whichever node takes which event.
func (x workflowStore) mustWait(ctx context.Context, tx *sql.Tx, ev leadcycle.Occurrence, first leadcycle.ID, deferred map[leadcycle.ID]bool) (bool, error) {
	if ev.LeadID == nil || x.s.Dialect.SingleNode {
		return false, nil
	}
	if deferred[*ev.LeadID] {
		return true, nil
	}
	var one int
	err := x.s.QueryRowQ(ctx, tx, "SELECT 1 FROM outbox WHERE lead_id = ? AND workflow_pending = ? AND id < ? LIMIT 1", int64(*ev.LeadID), true, int64(first)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("earlier events of lead %s: %w", *ev.LeadID, err)
	}
	deferred[*ev.LeadID] = true
	return true, nil
}

// react applies one event: the process transition it triggers and the queue
// task it makes.
func (x workflowStore) react(ctx context.Context, tx *sql.Tx, ev leadcycle.Occurrence) error {
	if ev.LeadID == nil {
		return nil
	}
	l, err := x.s.leads.get(ctx, tx, *ev.LeadID, true)
	if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
		return nil // deleted since
	}
	if err != nil || l.Status != leadcycle.LeadOpen {
		return err
	}
	actor := ev.Actor
	cause, _ := ev.Payload["reason"].(string)
	lp, err := openLeadProcess(ctx, x.s.DB, tx, l)
	if err != nil {
		return err
	}
	if err := lp.trigger(ctx, ev.Type, actor, cause); err != nil {
		return err
	}
	if err := lp.conditions(ctx, actor); err != nil {
		return err
	}
	switch ev.Type {
	case leadcycle.EventLeadTelesalesReady:
		if l.SalesReady {
			return nil // a sales-ready lead skips the telesales stages
		}
		return x.queueTask(ctx, tx, l, "telesales", "call", "Call "+l.Topic, "The lead is telesales ready: call to check that it meets the minimum criteria, then tick Accepted by telesales.")
	case leadcycle.EventLeadSalesReady:
		// The telesales call is over: worked when telesales accepted the
		// lead, moot when the lead skipped the telesales stages.
		status := "canceled"
		if l.TelesalesAccepted {
			status = "done"
		}
		now := micros(x.s.Clock.Now())
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE tasks SET status = ?, completed_at = ?, updated_at = ? WHERE lead_id = ? AND status = 'open' AND queue = 'telesales'",
			status, now, now, int64(l.ID)); err != nil {
			return fmt.Errorf("close telesales tasks: %w", err)
		}
		return x.queueTask(ctx, tx, l, "sales", "accept", "Accept "+l.Topic, "The lead is sales ready: check the minimum qualification criteria, assign it to a salesperson and tick Sales accepted.")
	case leadcycle.EventLeadSalesAccepted:
		now := micros(x.s.Clock.Now())
		_, err := x.s.ExecQ(ctx, tx, "UPDATE tasks SET status = 'done', completed_at = ?, updated_at = ? WHERE lead_id = ? AND status = 'open' AND queue = 'sales' AND kind = 'accept'",
			now, now, int64(l.ID))
		return err
	}
	return nil
}

// queueTask creates the task of a queue for a lead, assigned round-robin
// when the queue says so.
func (x workflowStore) queueTask(ctx context.Context, tx *sql.Tx, l *leadcycle.Lead, queue, kind, title, desc string) error {
	q, err := x.queue(ctx, tx, queue, true)
	if err != nil {
		return err
	}
	due := x.s.Clock.Now().Add(time.Duration(q.DueHours) * time.Hour)
	t := leadcycle.Task{Title: title, Description: desc, Kind: kind, Queue: queue, LeadID: &l.ID, ContactID: l.ContactID, DueAt: &due}
	if q.Assignment == leadcycle.AssignRoundRobin {
		if t.AssigneeID, err = x.nextMember(ctx, tx, q); err != nil {
			return err
		}
	}
	if err := x.s.tasks.createTx(ctx, tx, &t); err != nil {
		return err
	}
	// A salesperson given the acceptance task owns the lead, as when a
	// manager assigns it by hand.
	if queue != "sales" || t.AssigneeID == nil || l.OwnerID != nil {
		return nil
	}
	_, err = x.s.leads.updateTx(ctx, tx, l.ID, func(l *leadcycle.Lead) error { l.OwnerID = t.AssigneeID; return nil })
	return err
}

// nextMember picks the queue's next active member after the last one that
// got a task, and remembers it; nil when the queue has no member.
func (x workflowStore) nextMember(ctx context.Context, tx *sql.Tx, q *leadcycle.Queue) (*leadcycle.ID, error) {
	rows, err := x.s.QueryQ(ctx, tx, "SELECT "+userSelectCols+" FROM users WHERE active = ? ORDER BY id", true)
	if err != nil {
		return nil, fmt.Errorf("queue members: %w", err)
	}
	users, err := scanAll(rows, scanRecord(userTable))
	if err != nil {
		return nil, err
	}
	var members []leadcycle.ID
	for i := range users {
		if users[i].InQueue(q.Key) {
			members = append(members, users[i].ID)
		}
	}
	if len(members) == 0 {
		return nil, nil
	}
	next := members[0]
	if q.LastAssigneeID != nil {
		if i := slices.IndexFunc(members, func(id leadcycle.ID) bool { return id > *q.LastAssigneeID }); i >= 0 {
			next = members[i]
		}
	}
	if _, err := x.s.ExecQ(ctx, tx, "UPDATE queues SET last_assignee_id = ? WHERE key = ?", int64(next), q.Key); err != nil {
		return nil, fmt.Errorf("queue round-robin: %w", err)
	}
	q.LastAssigneeID = &next
	return &next, nil
}

const queueCols = "key, name, assignment, due_hours, last_assignee_id, updated_at"

func scanQueue(r scanner) (leadcycle.Queue, error) {
	var q leadcycle.Queue
	err := r.Scan(&q.Key, &q.Name, &q.Assignment, &q.DueHours, nullIDCol{&q.LastAssigneeID}, timeCol{&q.UpdatedAt})
	return q, err
}

// queue reads one queue, locked for change when lock is set.
func (x workflowStore) queue(ctx context.Context, q querier, key string, lock bool) (*leadcycle.Queue, error) {
	query := "SELECT " + queueCols + " FROM queues WHERE key = ?"
	if lock {
		query += x.s.Dialect.ForUpdate
	}
	qu, err := scanQueue(x.s.QueryRowQ(ctx, q, query, key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "queue %q not found", key)
	}
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", key, err)
	}
	return &qu, nil
}

// Queues implements leadcycle.WorkflowStore.
func (x workflowStore) Queues(ctx context.Context) ([]leadcycle.Queue, error) {
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT "+queueCols+" FROM queues ORDER BY key DESC")
	if err != nil {
		return nil, fmt.Errorf("queues: %w", err)
	}
	return scanAll(rows, scanQueue)
}

// UpdateQueue implements leadcycle.WorkflowStore.
func (x workflowStore) UpdateQueue(ctx context.Context, key string, fn func(*leadcycle.Queue) error) (*leadcycle.Queue, error) {
	var out *leadcycle.Queue
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		q, err := x.queue(ctx, tx, key, true)
		if err != nil {
			return err
		}
		if err := fn(q); err != nil {
			return err
		}
		q.Key = key
		if err := q.Validate(); err != nil {
			return err
		}
		q.UpdatedAt = x.s.Clock.Now()
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE queues SET name = ?, assignment = ?, due_hours = ?, updated_at = ? WHERE key = ?",
			q.Name, q.Assignment, q.DueHours, micros(q.UpdatedAt), key); err != nil {
			return fmt.Errorf("update queue: %w", err)
		}
		out = q
		return nil
	})
	return out, err
}

// AssignTask implements leadcycle.WorkflowStore. Assigning a sales
// acceptance task also makes the assignee the lead's owner, as a manager
// assigning a sales-ready lead to a salesperson does.
func (x workflowStore) AssignTask(ctx context.Context, taskID leadcycle.ID, assignee *leadcycle.ID) (*leadcycle.Task, error) {
	var out *leadcycle.Task
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		t, err := x.s.tasks.get(ctx, tx, taskID, true)
		if err != nil {
			return err
		}
		if t.Status != "open" {
			return leadcycle.Errorf(leadcycle.EConflict, "task %s is %s; only open tasks are assigned", taskID, t.Status)
		}
		if assignee == nil {
			if t.Queue == "" {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, "assignee_id", "is required: task %s belongs to no queue", taskID)
			}
			q, err := x.queue(ctx, tx, t.Queue, true)
			if err != nil {
				return err
			}
			if assignee, err = x.nextMember(ctx, tx, q); err != nil {
				return err
			}
			if assignee == nil {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, "assignee_id", "the %s queue has no active member to assign to", t.Queue)
			}
		} else {
			u, err := getRow(ctx, x.s.DB, tx, userTable, *assignee, false)
			if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, "assignee_id", "user %s does not exist", *assignee)
			}
			if err != nil {
				return err
			}
			if !u.Active {
				return leadcycle.FieldErrorf(leadcycle.EInvalid, "assignee_id", "user %s is not active", *assignee)
			}
		}
		if out, err = x.s.tasks.updateTx(ctx, tx, taskID, func(t *leadcycle.Task) error { t.AssigneeID = assignee; return nil }); err != nil {
			return err
		}
		if t.Queue != "sales" || t.LeadID == nil {
			return nil
		}
		l, err := x.s.leads.get(ctx, tx, *t.LeadID, true)
		if err != nil || l.Status != leadcycle.LeadOpen || sameID(l.OwnerID, assignee) {
			return err
		}
		_, err = x.s.leads.updateTx(ctx, tx, l.ID, func(l *leadcycle.Lead) error { l.OwnerID = assignee; return nil })
		return err
	})
	return out, err
}

// OutboxBacklog counts the events still to handle by the workflow and to
// dispatch to webhooks, and the deliveries that failed for good; /metrics
// exports them.
func (s *Store) OutboxBacklog(ctx context.Context) (workflow, webhooks, failed int64, err error) {
	err = s.R.QueryRowContext(ctx, s.Q(`SELECT
		(SELECT COUNT(*) FROM outbox WHERE workflow_pending = ?),
		(SELECT COUNT(*) FROM outbox WHERE webhooks_pending = ?),
		(SELECT COUNT(*) FROM webhook_deliveries WHERE status = ?)`), true, true, leadcycle.DeliveryFailed).Scan(&workflow, &webhooks, &failed)
	if err != nil {
		err = fmt.Errorf("outbox backlog: %w", err)
	}
	return workflow, webhooks, failed, err
}

// PurgeEvents implements leadcycle.WorkflowStore.
func (x workflowStore) PurgeEvents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := x.s.ExecQ(ctx, tx, "DELETE FROM webhook_deliveries WHERE status <> ? AND created_at < ?", leadcycle.DeliveryPending, micros(before)); err != nil {
			return fmt.Errorf("purge deliveries: %w", err)
		}
		// Sales and telesales ready stay: they are what makes those marks
		// fire once per lead, ever.
		res, err := x.s.ExecQ(ctx, tx, `DELETE FROM outbox WHERE at < ? AND workflow_pending = ? AND webhooks_pending = ? AND type NOT IN (?, ?)
			AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = outbox.id)`,
			micros(before), false, false, leadcycle.EventLeadSalesReady, leadcycle.EventLeadTelesalesReady)
		if err != nil {
			return fmt.Errorf("purge events: %w", err)
		}
		n, _ = res.RowsAffected()
		return nil
	})
	return n, err
}
