package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/process"
	"github.com/leadcycle/leadcycle/scoring"
)

// The business process lives beside the lead records: every lead is in one
// process and one of its stages. Lead writes go through the hooks below,
// which keep the timeline, write the outbox events and apply the
// transitions that a change of flags or fields triggers, in the write's own
// transaction. Events that come from elsewhere (the scorer's marks) are
// applied by HandleEvents.

var processTable = &table[leadcycle.Process]{
	name: "processes", collection: "processes",
	cols: []string{"key", "name", "description", "is_default", "stages", "transitions", "created_at", "updated_at"},
	values: func(p *leadcycle.Process) []any {
		return []any{p.Key, p.Name, p.Description, p.IsDefault, jsonText(p.Stages), jsonText(p.Transitions), micros(p.CreatedAt), micros(p.UpdatedAt)}
	},
	dests: func(p *leadcycle.Process) []any {
		return []any{idCol{&p.ID}, &p.Key, &p.Name, &p.Description, &p.IsDefault, jsonCol{&p.Stages}, jsonCol{&p.Transitions}, timeCol{&p.CreatedAt}, timeCol{&p.UpdatedAt}}
	},
	id: func(p *leadcycle.Process) *leadcycle.ID { return &p.ID },
	prepare: func(p *leadcycle.Process, now time.Time, create bool) error {
		p.Normalize()
		stamp(&p.CreatedAt, &p.UpdatedAt, now, create)
		return nil
	},
	// Compiling validates the structure and type-checks every expression.
	validate: func(ctx context.Context, db *DB, tx *sql.Tx, p *leadcycle.Process) error {
		schemas, err := loadSchemas(ctx, db, tx)
		if err != nil {
			return err
		}
		_, err = process.Compile(p, schemas)
		return err
	},
	beforeUpdate: func(old, p *leadcycle.Process) error {
		if old.IsDefault && !p.IsDefault {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "is_default", "make another process the default instead; there is always one")
		}
		return nil
	},
	beforeDelete: func(ctx context.Context, db *DB, tx *sql.Tx, p *leadcycle.Process) error {
		if p.IsDefault {
			return leadcycle.Errorf(leadcycle.EConflict, "process %s is the default; make another process the default before deleting it", p.ID)
		}
		var n int64
		if err := db.QueryRowQ(ctx, tx, "SELECT COUNT(*) FROM leads WHERE process_id = ?", int64(p.ID)).Scan(&n); err != nil {
			return fmt.Errorf("leads in process: %w", err)
		}
		if n > 0 {
			return leadcycle.Errorf(leadcycle.EConflict, "process %s still has %d leads; switch them to another process first", p.ID, n)
		}
		return nil
	},
	// A new default process takes over from the old one, which is cleared
	// first: at most one row may be the default at any time.
	beforeWrite: func(ctx context.Context, db *DB, tx *sql.Tx, old, p *leadcycle.Process) error {
		if p.IsDefault {
			if _, err := db.ExecQ(ctx, tx, "UPDATE processes SET is_default = ? WHERE id <> ? AND is_default = ?", false, int64(p.ID), true); err != nil {
				return fmt.Errorf("default process: %w", err)
			}
		}
		return nil
	},
	afterWrite: func(ctx context.Context, db *DB, tx *sql.Tx, old, p *leadcycle.Process) error {
		if old == nil {
			return nil
		}
		// A stage that still holds leads cannot be removed.
		for _, st := range old.Stages {
			if p.Stage(st.Key) != nil {
				continue
			}
			var n int64
			if err := db.QueryRowQ(ctx, tx, "SELECT COUNT(*) FROM leads WHERE process_id = ? AND stage = ?", int64(p.ID), st.Key).Scan(&n); err != nil {
				return fmt.Errorf("leads in stage: %w", err)
			}
			if n > 0 {
				return leadcycle.FieldErrorf(leadcycle.EConflict, "stages", "stage %q still has %d leads; move them before removing the stage", st.Key, n)
			}
		}
		return nil
	},
}

// loadSchemas reads the custom field schemas expressions are checked against.
func loadSchemas(ctx context.Context, db *DB, q querier) (scoring.Schemas, error) {
	var schemas scoring.Schemas
	for _, s := range []struct {
		entity string
		dst    *leadcycle.Schema
	}{{"contact", &schemas.Contact}, {"account", &schemas.Account}, {"lead", &schemas.Lead}, {"opportunity", &schemas.Opportunity}} {
		schema, err := loadSchema(ctx, db, q, s.entity)
		if err != nil {
			return schemas, err
		}
		*s.dst = schema
	}
	return schemas, nil
}

// seedDefaultProcess inserts the shipped process and puts every existing
// lead in it; it runs once, with migration 0006.
func seedDefaultProcess(ctx context.Context, db *DB, tx *sql.Tx) error {
	p := process.Default()
	p.Normalize()
	now := db.Clock.Now()
	p.CreatedAt, p.UpdatedAt = now, now
	var id int64
	err := db.QueryRowQ(ctx, tx, "INSERT INTO processes (key, name, description, is_default, stages, transitions, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		p.Key, p.Name, p.Description, true, jsonText(p.Stages), jsonText(p.Transitions), micros(now), micros(now)).Scan(&id)
	if err != nil {
		return fmt.Errorf("seed default process: %w", err)
	}
	if _, err := db.ExecQ(ctx, tx, "UPDATE leads SET process_id = ? WHERE process_id IS NULL", id); err != nil {
		return fmt.Errorf("put leads in the default process: %w", err)
	}
	return nil
}

// processCache keeps compiled processes by id and update time.
type processCache struct {
	mu   sync.Mutex
	byID map[leadcycle.ID]*process.Compiled
}

// compiledProcess returns the process with the id, compiled.
func (db *DB) compiledProcess(ctx context.Context, q querier, id leadcycle.ID) (*process.Compiled, error) {
	// The version check reads one column; the definition is read and
	// compiled only when it changed.
	var stamp time.Time
	err := db.QueryRowQ(ctx, q, "SELECT updated_at FROM processes WHERE id = ?", int64(id)).Scan(timeCol{&stamp})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "process %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("process %s: %w", id, err)
	}
	db.procs.mu.Lock()
	c, ok := db.procs.byID[id]
	db.procs.mu.Unlock()
	if ok && c.Def.UpdatedAt.Equal(stamp) {
		return c, nil
	}
	p, err := getRow(ctx, db, q, processTable, id, false)
	if err != nil {
		return nil, err
	}
	schemas, err := loadSchemas(ctx, db, q)
	if err != nil {
		return nil, err
	}
	if c, err = process.Compile(p, schemas); err != nil {
		return nil, fmt.Errorf("compile process %s: %w", id, err)
	}
	db.procs.mu.Lock()
	if db.procs.byID == nil {
		db.procs.byID = map[leadcycle.ID]*process.Compiled{}
	}
	db.procs.byID[id] = c
	db.procs.mu.Unlock()
	return c, nil
}

// defaultProcessID returns the id of the default process.
func defaultProcessID(ctx context.Context, db *DB, q querier) (leadcycle.ID, error) {
	var id int64
	err := db.QueryRowQ(ctx, q, "SELECT id FROM processes WHERE is_default = ? ORDER BY id LIMIT 1", true).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, leadcycle.Errorf(leadcycle.EConflict, "there is no default business process")
	}
	if err != nil {
		return 0, fmt.Errorf("default process: %w", err)
	}
	return leadcycle.ID(id), nil
}

// placeNewLead puts a new lead in its process (the default one unless it
// names another) at a stage of that process (the first unless it names one).
func placeNewLead(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead) error {
	if l.ProcessID == nil {
		id, err := defaultProcessID(ctx, db, tx)
		if err != nil {
			return err
		}
		l.ProcessID = &id
	}
	c, err := db.compiledProcess(ctx, tx, *l.ProcessID)
	if leadcycle.ErrorCode(err) == leadcycle.ENotFound {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "process_id", "process %s does not exist", *l.ProcessID)
	}
	if err != nil {
		return err
	}
	if l.Stage == "" || (l.Stage == leadcycle.DefaultStage && c.Def.Stage(l.Stage) == nil) {
		l.Stage = c.Def.FirstStage()
	}
	if c.Def.Stage(l.Stage) == nil {
		return leadcycle.FieldErrorf(leadcycle.EInvalid, "stage", "process %q has no stage %q; its stages are %s", c.Def.Name, l.Stage, stageKeys(c.Def))
	}
	return nil
}

func stageKeys(p *leadcycle.Process) string {
	keys := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		keys[i] = s.Key
	}
	return strings.Join(keys, ", ")
}

// checkLeadUpdate keeps closed leads read-only until they are reactivated.
func checkLeadUpdate(old, l *leadcycle.Lead) error {
	if old.Status != leadcycle.LeadOpen && l.Status != leadcycle.LeadOpen {
		return leadcycle.Errorf(leadcycle.EConflict, "lead %s is %s and read-only; reactivate it before changing it", old.ID, old.Status)
	}
	return nil
}

// leadWrites keeps the timeline and the outbox of a lead write and applies
// the process transitions the write triggers.
func leadWrites(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead) error {
	actor := leadcycle.ActorOf(ctx)
	if old == nil {
		if err := addTimeline(ctx, db, tx, l, leadcycle.TimelineCreated, "", l.Stage, actor, "lead created (source "+l.Source+")"); err != nil {
			return err
		}
		if err := writeEvent(ctx, db, tx, leadEvent(leadcycle.EventLeadCreated, l, actor, nil)); err != nil {
			return err
		}
		old = &leadcycle.Lead{Status: leadcycle.LeadOpen, Stage: l.Stage, ProcessID: l.ProcessID}
		if err := flagsChanged(ctx, db, tx, old, l, actor); err != nil {
			return err
		}
	} else {
		if err := leadChanges(ctx, db, tx, old, l, actor); err != nil {
			return err
		}
	}
	if l.Status != leadcycle.LeadOpen {
		return nil
	}
	lp, err := openLeadProcess(ctx, db, tx, l)
	if err != nil {
		return err
	}
	for _, f := range flagTriggers {
		if !f.get(old) && f.get(l) {
			if err := lp.trigger(ctx, f.trigger, actor, f.flag+" set by hand"); err != nil {
				return err
			}
		}
	}
	return lp.conditions(ctx, actor)
}

// flagTriggers are the lead flags whose setting triggers a process event.
var flagTriggers = []struct {
	flag, trigger string
	get           func(*leadcycle.Lead) bool
}{
	{"telesales_ready", leadcycle.TriggerTelesalesReady, func(l *leadcycle.Lead) bool { return l.TelesalesReady }},
	{"telesales_accepted", leadcycle.TriggerTelesalesAccepted, func(l *leadcycle.Lead) bool { return l.TelesalesAccepted }},
	{"sales_ready", leadcycle.TriggerSalesReady, func(l *leadcycle.Lead) bool { return l.SalesReady }},
	{"sales_accepted", leadcycle.TriggerSalesAccepted, func(l *leadcycle.Lead) bool { return l.SalesAccepted }},
}

// leadChanges records an update: flags, status, stage and process changes
// on the timeline, and the events they make.
func leadChanges(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead, actor string) error {
	changed := changedFields(old, l)
	if len(changed) == 0 {
		return nil
	}
	if err := flagsChanged(ctx, db, tx, old, l, actor); err != nil {
		return err
	}
	if old.Status != l.Status || old.StatusReason != l.StatusReason {
		if err := statusChanged(ctx, db, tx, old, l, actor); err != nil {
			return err
		}
	}
	if !sameID(old.ProcessID, l.ProcessID) {
		if err := addTimeline(ctx, db, tx, l, leadcycle.TimelineProcessSwitched, idText(old.ProcessID), idText(l.ProcessID), actor, stageReason(ctx, "process switched")); err != nil {
			return err
		}
	}
	if old.Stage != l.Stage {
		if err := stageChanged(ctx, db, tx, l, old.Stage, actor, stageReason(ctx, "stage set by update")); err != nil {
			return err
		}
	}
	if !sameID(old.OwnerID, l.OwnerID) {
		if err := addTimeline(ctx, db, tx, l, leadcycle.TimelineAssigned, idText(old.OwnerID), idText(l.OwnerID), actor, "owner changed"); err != nil {
			return err
		}
	}
	return writeEvent(ctx, db, tx, leadEvent(leadcycle.EventLeadUpdated, l, actor, map[string]any{"changed": changed}))
}

// flagsChanged records the flags a write set or cleared, and writes the
// event of each flag set on an open lead: tasks and webhooks react to it.
// Sales and telesales ready fire once per lead, ever (a unique index).
func flagsChanged(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead, actor string) error {
	for _, f := range flagTriggers {
		was, is := f.get(old), f.get(l)
		if was == is {
			continue
		}
		if err := addTimeline(ctx, db, tx, l, leadcycle.TimelineFlagChanged, flagText(f.flag, was), flagText(f.flag, is), actor, "set by hand"); err != nil {
			return err
		}
		if is && l.Status == leadcycle.LeadOpen {
			if err := writeEvent(ctx, db, tx, leadEvent(f.trigger, l, actor, map[string]any{"reason": f.flag + " set by " + actor})); err != nil {
				return err
			}
		}
	}
	return nil
}

// statusChanged records a change of status: closing a lead closes its
// queue tasks, and qualifying, disqualifying and reactivating are events.
func statusChanged(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead, actor string) error {
	kind, event, tasks := leadcycle.TimelineStatusChanged, "", ""
	switch {
	case old.Status == l.Status:
	case l.Status == leadcycle.LeadDisqualified:
		kind, event, tasks = leadcycle.TimelineDisqualified, leadcycle.EventLeadDisqualified, "canceled"
	case l.Status == leadcycle.LeadQualified:
		kind, event, tasks = leadcycle.TimelineQualified, leadcycle.EventLeadQualified, "done"
	case l.Status == leadcycle.LeadOpen:
		kind, event = leadcycle.TimelineReactivated, leadcycle.EventLeadReactivated
	}
	reason := statusReason(ctx)
	if err := addTimeline(ctx, db, tx, l, kind, old.Status+"/"+old.StatusReason, l.Status+"/"+l.StatusReason, actor, reason); err != nil {
		return err
	}
	if tasks != "" {
		if err := closeLeadTasks(ctx, db, tx, l.ID, tasks); err != nil {
			return err
		}
	}
	if event == "" {
		return nil
	}
	payload := map[string]any{"from": old.Status, "status_reason": l.StatusReason, "reason": reason}
	if opp, ok := ctx.Value(reasonKey{"opportunity"}).(leadcycle.ID); ok {
		payload["opportunity_id"] = opp
	}
	return writeEvent(ctx, db, tx, leadEvent(event, l, actor, payload))
}

func flagText(flag string, v bool) string {
	if v {
		return flag
	}
	return "not " + flag
}

func sameID(a, b *leadcycle.ID) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// changedFields lists the JSON fields that differ between two versions of a
// lead, besides updated_at and scores.
func changedFields(old, l *leadcycle.Lead) []string {
	var a, b map[string]json.RawMessage
	ja, _ := json.Marshal(old)
	jb, _ := json.Marshal(l)
	_ = json.Unmarshal(ja, &a)
	_ = json.Unmarshal(jb, &b)
	var out []string
	for k, v := range b {
		if k == "updated_at" || k == "scores" {
			continue
		}
		if string(a[k]) != string(v) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

type reasonKey struct{ kind string }

// withReason attaches why a stage or status changes to the writes of ctx.
func withReason(ctx context.Context, kind, reason string) context.Context {
	return context.WithValue(ctx, reasonKey{kind}, reason)
}

func stageReason(ctx context.Context, fallback string) string {
	if r, ok := ctx.Value(reasonKey{"stage"}).(string); ok && r != "" {
		return r
	}
	return fallback
}

func statusReason(ctx context.Context) string {
	if r, ok := ctx.Value(reasonKey{"status"}).(string); ok && r != "" {
		return r
	}
	return "status set by update"
}

// leadProcess is a lead's process during one write: compiled once, with
// what its expressions see (the lead's contact and account) read once and
// only when a transition may look at them.
type leadProcess struct {
	db     *DB
	tx     *sql.Tx
	c      *process.Compiled
	l      *leadcycle.Lead
	s      process.Subject
	loaded bool
}

// openLeadProcess returns the process of the lead; nil when it has none.
func openLeadProcess(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead) (*leadProcess, error) {
	if l.ProcessID == nil {
		return nil, nil
	}
	c, err := db.compiledProcess(ctx, tx, *l.ProcessID)
	if err != nil {
		return nil, err
	}
	return &leadProcess{db: db, tx: tx, c: c, l: l, s: process.Subject{Lead: l}}, nil
}

// subject reads the lead's contact and account the first time it is asked.
func (p *leadProcess) subject(ctx context.Context) (process.Subject, error) {
	if p.loaded {
		return p.s, nil
	}
	var err error
	if p.l.ContactID != nil {
		if p.s.Contact, err = getRow(ctx, p.db, p.tx, contactTable, *p.l.ContactID, false); err != nil {
			return p.s, err
		}
	}
	accountID := p.l.AccountID
	if accountID == nil && p.s.Contact != nil {
		accountID = p.s.Contact.AccountID
	}
	if accountID != nil {
		if p.s.Account, err = getRow(ctx, p.db, p.tx, accountTable, *accountID, false); err != nil {
			return p.s, err
		}
	}
	p.loaded = true
	return p.s, nil
}

// mayFire reports whether a transition on the trigger starts from the
// lead's stage, so that the subject is read only when one may apply.
func (p *leadProcess) mayFire(trigger string) bool {
	return slices.ContainsFunc(p.c.Def.Transitions, func(t leadcycle.Transition) bool {
		return t.On == trigger && (p.l.Stage == "" || slices.Contains(p.c.Def.TransitionSources(t), p.l.Stage))
	})
}

// trigger moves the lead as its process says for the trigger; cause, when
// set, says what fired it.
func (p *leadProcess) trigger(ctx context.Context, trigger, actor, cause string) error {
	if p == nil || !p.mayFire(trigger) {
		return nil
	}
	s, err := p.subject(ctx)
	if err != nil {
		return err
	}
	mv, ok := p.c.OnTrigger(s, trigger, p.db.Clock.Now())
	if !ok {
		return nil
	}
	reason := mv.Reason
	if cause != "" {
		reason += ": " + cause
	}
	return moveLead(ctx, p.db, p.tx, p.l, mv.To, actor, reason)
}

// conditions follows the condition transitions that hold, a few steps at
// most so that a badly written process cannot spin.
func (p *leadProcess) conditions(ctx context.Context, actor string) error {
	for range 5 {
		if p == nil || !p.mayFire(leadcycle.TriggerCondition) {
			return nil
		}
		s, err := p.subject(ctx)
		if err != nil {
			return err
		}
		mv, ok := p.c.OnChange(s, p.db.Clock.Now())
		if !ok || mv.To == p.l.Stage {
			return nil
		}
		if err := moveLead(ctx, p.db, p.tx, p.l, mv.To, actor, mv.Reason); err != nil {
			return err
		}
	}
	return nil
}

// moveLead sets the lead's stage and records the change.
func moveLead(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead, to, actor, reason string) error {
	from := l.Stage
	if from == to {
		return nil
	}
	now := db.Clock.Now()
	if _, err := db.ExecQ(ctx, tx, "UPDATE leads SET stage = ?, updated_at = ? WHERE id = ?", to, micros(now), int64(l.ID)); err != nil {
		return fmt.Errorf("move lead: %w", err)
	}
	l.Stage, l.UpdatedAt = to, now
	if err := enqueueLeadContacts(ctx, db, tx, "leads", []int64{int64(l.ID)}); err != nil {
		return err
	}
	return stageChanged(ctx, db, tx, l, from, actor, reason)
}

// stageChanged writes the timeline entry and the event of a stage change.
func stageChanged(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead, from, actor, reason string) error {
	if err := addTimeline(ctx, db, tx, l, leadcycle.TimelineStageChanged, from, l.Stage, actor, reason); err != nil {
		return err
	}
	return writeEvent(ctx, db, tx, leadEvent(leadcycle.EventLeadStageChanged, l, actor, map[string]any{"from": from, "to": l.Stage, "reason": reason}))
}

// addTimeline appends an entry to the lead's timeline.
func addTimeline(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead, kind, from, to, actor, reason string) error {
	_, err := db.ExecQ(ctx, tx, "INSERT INTO lead_timeline (lead_id, kind, process_id, from_value, to_value, actor, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
		int64(l.ID), kind, nullID(l.ProcessID), from, to, actor, reason, micros(db.Clock.Now()))
	if err != nil {
		return fmt.Errorf("write timeline: %w", err)
	}
	return nil
}

// leadEvent builds an event about a lead, with the lead as it is now.
func leadEvent(typ string, l *leadcycle.Lead, actor string, payload map[string]any) leadcycle.Occurrence {
	if payload == nil {
		payload = map[string]any{}
	}
	payload["lead"] = l
	return leadcycle.Occurrence{Type: typ, LeadID: leadcycle.IDPtr(l.ID), ContactID: l.ContactID, Payload: payload, Actor: actor}
}

// workflowTypes are the event types HandleEvents reacts to; the others are
// written already handled.
var workflowTypes = map[string]bool{
	leadcycle.EventLeadScored: true, leadcycle.EventLeadTelesalesReady: true, leadcycle.EventLeadSalesReady: true,
	leadcycle.EventLeadTelesalesAccepted: true, leadcycle.EventLeadSalesAccepted: true,
}

// writeEvent appends an event to the outbox. Sales and telesales ready are
// written once per lead; a second one is dropped.
func writeEvent(ctx context.Context, db *DB, tx *sql.Tx, ev leadcycle.Occurrence) error {
	if ev.At.IsZero() {
		ev.At = db.Clock.Now()
	}
	res, err := db.ExecQ(ctx, tx, "INSERT INTO outbox (type, lead_id, contact_id, payload, actor, at, workflow_pending, webhooks_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
		ev.Type, nullID(ev.LeadID), nullID(ev.ContactID), jsonText(ev.Payload), ev.Actor, micros(ev.At), workflowTypes[ev.Type], true)
	if err != nil {
		return fmt.Errorf("write %s event: %w", ev.Type, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return salesReadyJourneys(ctx, db, tx, ev)
	}
	return nil
}

func init() {
	leadTable.beforeInsert = chainBeforeInsert(leadTable.beforeInsert, placeNewLead)
	if leadTable.beforeUpdate != nil {
		panic("sqldb: leads have an update hook to chain")
	}
	leadTable.beforeUpdate = checkLeadUpdate
	leadTable.afterWrite = afterWrites(leadTable.afterWrite, leadWrites)
	contactTable.afterWrite = afterWrites(contactTable.afterWrite, func(ctx context.Context, db *DB, tx *sql.Tx, old, c *leadcycle.Contact) error {
		if old != nil {
			return nil
		}
		return writeEvent(ctx, db, tx, leadcycle.Occurrence{Type: leadcycle.EventContactCreated, ContactID: leadcycle.IDPtr(c.ID),
			Payload: map[string]any{"contact": c}, Actor: leadcycle.ActorOf(ctx)})
	})
	opportunityTable.afterWrite = afterWrites(opportunityTable.afterWrite, func(ctx context.Context, db *DB, tx *sql.Tx, old, o *leadcycle.Opportunity) error {
		if old != nil {
			return nil
		}
		return writeEvent(ctx, db, tx, leadcycle.Occurrence{Type: leadcycle.EventOpportunityCreated, LeadID: o.LeadID, ContactID: o.ContactID,
			Payload: map[string]any{"opportunity": o}, Actor: leadcycle.ActorOf(ctx)})
	})
	taskTable.afterWrite = afterWrites(taskTable.afterWrite, func(ctx context.Context, db *DB, tx *sql.Tx, old, t *leadcycle.Task) error {
		if old == nil {
			return writeEvent(ctx, db, tx, leadcycle.Occurrence{Type: leadcycle.EventTaskCreated, LeadID: t.LeadID, ContactID: t.ContactID,
				Payload: map[string]any{"task": t}, Actor: leadcycle.ActorOf(ctx)})
		}
		if t.AssigneeID != nil && !sameID(old.AssigneeID, t.AssigneeID) {
			return writeEvent(ctx, db, tx, leadcycle.Occurrence{Type: leadcycle.EventTaskAssigned, LeadID: t.LeadID, ContactID: t.ContactID,
				Payload: map[string]any{"task": t}, Actor: leadcycle.ActorOf(ctx)})
		}
		return nil
	})
	migrationSeeds["0006_process"] = seedDefaultProcess
	removeValues := fieldTable.beforeDelete
	fieldTable.beforeDelete = func(ctx context.Context, db *DB, tx *sql.Tx, f *leadcycle.FieldDef) error {
		if err := fieldInUse(ctx, db, tx, f); err != nil {
			return err
		}
		return removeValues(ctx, db, tx, f)
	}
}

// chainBeforeInsert runs insert hooks in order.
func chainBeforeInsert[T leadcycle.Record](hooks ...func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error) func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error {
	return func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error {
		for _, h := range hooks {
			if h == nil {
				continue
			}
			if err := h(ctx, db, tx, v); err != nil {
				return err
			}
		}
		return nil
	}
}

// fieldInUse refuses to delete a custom field that a business process, a
// live or draft scoring model or a dynamic segment still uses: their
// expressions, stage fields and queries would stop compiling, and with them
// lead writes, scoring and live membership.
func fieldInUse(ctx context.Context, db *DB, tx *sql.Tx, f *leadcycle.FieldDef) error {
	schemas, err := loadSchemas(ctx, db, tx)
	if err != nil {
		return err
	}
	without := func(s leadcycle.Schema) leadcycle.Schema {
		return slices.DeleteFunc(slices.Clone(s), func(d leadcycle.FieldDef) bool { return d.ID == f.ID })
	}
	schemas.Contact, schemas.Account, schemas.Lead = without(schemas.Contact), without(schemas.Account), without(schemas.Lead)
	schemas.Opportunity = without(schemas.Opportunity)
	rows, err := db.QueryQ(ctx, tx, "SELECT id, "+strings.Join(processTable.cols, ", ")+" FROM processes ORDER BY id")
	if err != nil {
		return fmt.Errorf("processes: %w", err)
	}
	procs, err := scanAll(rows, scanRecord(processTable))
	if err != nil {
		return err
	}
	for i := range procs {
		if _, err := process.Compile(&procs[i], schemas); err != nil {
			return leadcycle.Errorf(leadcycle.EConflict, "the %s field %s is used by business process %q (%s); change the process first", f.Entity, f.Name, procs[i].Name, leadcycle.ErrorMessage(err))
		}
	}
	rows, err = db.QueryQ(ctx, tx, "SELECT id, "+strings.Join(scoringModelTable.cols, ", ")+" FROM scoring_models WHERE status <> ? ORDER BY id", leadcycle.ModelStopped)
	if err != nil {
		return fmt.Errorf("scoring models: %w", err)
	}
	models, err := scanAll(rows, scanRecord(scoringModelTable))
	if err != nil {
		return err
	}
	for i := range models {
		if _, err := scoring.Compile(&models[i], schemas); err != nil {
			return leadcycle.Errorf(leadcycle.EConflict, "the %s field %s is used by scoring model %s v%d (%s); change or stop the model first", f.Entity, f.Name, models[i].Key, models[i].Version, leadcycle.ErrorMessage(err))
		}
	}
	rows, err = db.QueryQ(ctx, tx, "SELECT key, query FROM segments WHERE kind = ? ORDER BY id", leadcycle.SegmentDynamic)
	if err != nil {
		return fmt.Errorf("segments: %w", err)
	}
	segs, err := scanAll(rows, func(r scanner) ([2]string, error) {
		var v [2]string
		return v, r.Scan(&v[0], &v[1])
	})
	if err != nil {
		return err
	}
	for _, sg := range segs {
		if _, err := scoring.CompileSegment(sg[1], schemas, func(string) (leadcycle.ID, bool) { return 1, true }); err != nil {
			return leadcycle.Errorf(leadcycle.EConflict, "the %s field %s is used by segment %q (%s); change its query first", f.Entity, f.Name, sg[0], leadcycle.ErrorMessage(err))
		}
	}
	return nil
}
