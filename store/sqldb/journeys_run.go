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
	"github.com/leadcycle/leadcycle/scoring"
)

// Running journeys: ProcessDue claims the runs whose step is due, and moves
// each contact through its journey's steps in one transaction per run: the
// run's row is locked, every step done is recorded in journey_steps (whose
// key refuses a step done twice) with the work it did — the email queued,
// the lead, task or webhook delivery created, the record updated — so that
// a step is done once per contact across restarts and nodes.

// journeyClaim is how long a worker holds the runs it claimed.
const journeyClaim = time.Minute

// runRow is a run as the runner reads it.
type runRow struct {
	id, journeyID, contactID int64
	leadID                   *leadcycle.ID
	state, step              string
	dueAt, stepAt            time.Time
	stepsDone                int
}

// runsPerTx is how many runs share a transaction; each runs in a savepoint
// of its own, so that one that fails takes nothing of the others with it.
const runsPerTx = 50

// ProcessDue implements leadcycle.JourneyStore.
func (x journeyRunStore) ProcessDue(ctx context.Context, max int) (int, error) {
	s := x.s
	ids, err := x.claim(ctx, s.Clock.Now(), max)
	if err != nil || len(ids) == 0 {
		return 0, err
	}
	journeys := map[int64]*compiledJourney{}
	n := 0
	for chunk := range slices.Chunk(ids, runsPerTx) {
		err := s.InTxRetry(ctx, func(tx *sql.Tx) error {
			for _, id := range chunk {
				if err := x.advanceInSavepoint(ctx, tx, id, journeys); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			s.freeClaims("journey_runs", "id", chunk)
			return n, fmt.Errorf("journey runs: %w", err)
		}
		n += len(chunk)
	}
	return n, nil
}

// advanceInSavepoint advances one run in a savepoint. A step that cannot
// run (a record it writes is invalid, a reference gone) fails the contact's
// run with the reason; any other error is returned.
func (x journeyRunStore) advanceInSavepoint(ctx context.Context, tx *sql.Tx, id int64, journeys map[int64]*compiledJourney) error {
	if _, err := tx.ExecContext(ctx, "SAVEPOINT journey_run"); err != nil {
		return err
	}
	err := x.advance(ctx, tx, id, x.s.Clock.Now(), journeys)
	var le *leadcycle.Error
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, "RELEASE SAVEPOINT journey_run")
		return err
	case errors.As(err, &le) && le.Code != leadcycle.EInternal:
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT journey_run"); rerr != nil {
			return rerr
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT journey_run"); rerr != nil {
			return rerr
		}
		return x.fail(ctx, tx, id, err)
	default:
		return fmt.Errorf("run %d: %w", id, err)
	}
}

// claim leases up to max due runs of live journeys.
func (x journeyRunStore) claim(ctx context.Context, now time.Time, max int) ([]int64, error) {
	s := x.s
	var ids []int64
	err := s.InTxRetry(ctx, func(tx *sql.Tx) error {
		rows, err := s.QueryQ(ctx, tx, `UPDATE journey_runs SET claimed_until = ? WHERE id IN (
			SELECT id FROM journey_runs WHERE state IN (?, ?) AND due_at <= ? AND claimed_until < ?
			AND journey_id IN (SELECT id FROM journeys WHERE status = ?) ORDER BY due_at LIMIT ?`+s.Dialect.SkipLocked+`) RETURNING id`,
			micros(now.Add(journeyClaim)), leadcycle.RunActive, leadcycle.RunWaiting, micros(now), micros(now), leadcycle.JourneyLive, max)
		if err != nil {
			return fmt.Errorf("claim journey runs: %w", err)
		}
		ids, err = scanAll(rows, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		return err
	})
	return ids, err
}

// ReleaseClaims frees the journey runs and email sends claimed by workers,
// for a database only one process works on (SQLite), on opening it.
func (s *Store) ReleaseClaims(ctx context.Context) error {
	for _, table := range []string{"journey_runs", "email_sends"} {
		if _, err := s.ExecQ(ctx, s.W, "UPDATE "+table+" SET claimed_until = 0 WHERE claimed_until > 0"); err != nil {
			return fmt.Errorf("release %s claims: %w", table, err)
		}
	}
	return nil
}

// fail ends a run whose step cannot run.
func (x journeyRunStore) fail(ctx context.Context, tx *sql.Tx, id int64, cause error) error {
	msg := cause.Error()
	var le *leadcycle.Error
	if errors.As(cause, &le) {
		msg = le.Message
	}
	_, err := x.s.ExecQ(ctx, tx, "UPDATE journey_runs SET state = ?, reason = ?, finished_at = ?, claimed_until = 0 WHERE id = ? AND state IN (?, ?)",
		leadcycle.RunFailed, truncate(msg, 1000), micros(x.s.Clock.Now()), id, leadcycle.RunActive, leadcycle.RunWaiting)
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// compiled returns the journey compiled, once per ProcessDue call.
func (x journeyRunStore) compiled(ctx context.Context, tx *sql.Tx, id int64, cache map[int64]*compiledJourney) (*compiledJourney, error) {
	if cj, ok := cache[id]; ok {
		return cj, nil
	}
	j, err := x.s.journeys.get(ctx, tx, leadcycle.ID(id), false)
	if err != nil {
		return nil, err
	}
	cj, err := compileJourney(ctx, x.s.DB, tx, j)
	if err != nil {
		return nil, err
	}
	cache[id] = cj
	return cj, nil
}

// stepper moves one run along in one transaction.
type stepper struct {
	x   journeyRunStore
	tx  *sql.Tx
	cj  *compiledJourney
	run *runRow
	now time.Time
	sub *scoring.SegmentSubject
}

// advance runs the run's due steps, up to the next wait or the journey's end.
func (x journeyRunStore) advance(ctx context.Context, tx *sql.Tx, id int64, now time.Time, cache map[int64]*compiledJourney) error {
	s := x.s
	var run runRow
	err := s.QueryRowQ(ctx, tx, "SELECT id, journey_id, contact_id, lead_id, state, step, due_at, step_at, steps_done FROM journey_runs WHERE id = ?"+s.Dialect.ForUpdate, id).
		Scan(&run.id, &run.journeyID, &run.contactID, nullIDCol{&run.leadID}, &run.state, &run.step, timeCol{&run.dueAt}, timeCol{&run.stepAt}, &run.stepsDone)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // deleted with its contact or journey meanwhile
	}
	if err != nil {
		return err
	}
	if (run.state != leadcycle.RunActive && run.state != leadcycle.RunWaiting) || run.dueAt.After(now) {
		return nil // another worker moved it on meanwhile
	}
	cj, err := x.compiled(ctx, tx, run.journeyID, cache)
	if err != nil {
		return err
	}
	if cj.j.Status != leadcycle.JourneyLive {
		_, err := s.ExecQ(ctx, tx, "UPDATE journey_runs SET claimed_until = 0 WHERE id = ?", id)
		return err
	}
	st := &stepper{x: x, tx: tx, cj: cj, run: &run, now: now}
	for range len(cj.j.Steps) + 1 {
		if err := st.loadSubject(ctx); err != nil {
			return err
		}
		if st.sub == nil {
			return st.finish(ctx, leadcycle.RunExited, "the contact no longer exists")
		}
		if cj.goal != nil && cj.goal.Matches(*st.sub, now) {
			return st.finish(ctx, leadcycle.RunGoal, "met the goal: "+cj.j.Goal)
		}
		if cj.exit != nil && cj.exit.Matches(*st.sub, now) {
			return st.finish(ctx, leadcycle.RunExited, "met the exit condition: "+cj.j.ExitCondition)
		}
		step, ok := cj.j.Step(run.step)
		if !ok {
			return leadcycle.Errorf(leadcycle.EInvalid, "step %q is not in the journey", run.step)
		}
		res, err := st.do(ctx, step)
		if err != nil {
			return err
		}
		if res.wait {
			_, err := s.ExecQ(ctx, tx, "UPDATE journey_runs SET state = ?, step = ?, step_at = ?, due_at = ?, deadline = ?, awaits = ?, lead_id = ?, steps_done = ?, claimed_until = 0 WHERE id = ?",
				leadcycle.RunWaiting, run.step, micros(run.stepAt), micros(res.until), micros(res.until), res.awaits, nullID(run.leadID), run.stepsDone, id)
			return err
		}
		run.stepsDone++
		done, err := s.ExecQ(ctx, tx, "INSERT INTO journey_steps (run_id, step, seq, outcome, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", id, step.ID, run.stepsDone, truncate(res.outcome, 500), micros(now))
		if err != nil {
			return fmt.Errorf("record step %s: %w", step.ID, err)
		}
		if n, _ := done.RowsAffected(); n != 1 {
			// The row lock makes this impossible; refusing keeps the
			// step's work from being done twice if it ever is not.
			return fmt.Errorf("step %s of run %d was already done", step.ID, id)
		}
		if res.exit {
			return st.finish(ctx, leadcycle.RunExited, "reached exit step "+step.ID)
		}
		if res.next == "" {
			return st.finish(ctx, leadcycle.RunCompleted, "")
		}
		run.step, run.stepAt, run.state = res.next, now, leadcycle.RunActive
		if changesSubject(step, cj.reads) {
			st.sub = nil // read the contact again for the next step
		}
	}
	return fmt.Errorf("run %d did not settle", id)
}

// changesSubject reports whether a step may change what the next steps
// read of the contact: its fields, its account, or — when the journey's
// conditions read them — its leads and their scores.
func changesSubject(step *leadcycle.JourneyStep, reads map[string]bool) bool {
	switch step.Type {
	case leadcycle.StepUpdateRecord:
		return true
	case leadcycle.StepCreateLead:
		return reads["leads"] || reads["scores"]
	}
	return false
}

// finish ends the run.
func (st *stepper) finish(ctx context.Context, state, reason string) error {
	_, err := st.x.s.ExecQ(ctx, st.tx, "UPDATE journey_runs SET state = ?, step = ?, reason = ?, lead_id = ?, steps_done = ?, finished_at = ?, claimed_until = 0 WHERE id = ?",
		state, st.run.step, truncate(reason, 1000), nullID(st.run.leadID), st.run.stepsDone, micros(st.now), st.run.id)
	return err
}

// loadSubject reads the contact and what the journey's conditions read.
func (st *stepper) loadSubject(ctx context.Context) error {
	if st.sub != nil {
		return nil
	}
	subs, members, err := st.x.s.loadSubjects(ctx, st.tx, []int64{st.run.contactID}, st.cj.reads)
	if err != nil {
		return err
	}
	sub := subs[st.run.contactID]
	if sub == nil {
		return nil
	}
	in := members[st.run.contactID]
	keys := st.cj.segments
	sub.InSegment = func(key string) bool { return in[keys[key]] }
	st.sub = sub
	return nil
}

// stepResult is what a step did: go on to next (or end there), wait, or
// exit.
type stepResult struct {
	outcome string
	next    string
	wait    bool
	until   time.Time
	awaits  string
	exit    bool
}

func (st *stepper) on(outcome string, step *leadcycle.JourneyStep) (stepResult, error) {
	return stepResult{outcome: outcome, next: st.cj.j.Following(step.ID)}, nil
}

// do runs one step.
func (st *stepper) do(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	switch step.Type {
	case leadcycle.StepSendEmail:
		return st.sendEmail(ctx, step)
	case leadcycle.StepWait:
		wake := st.run.stepAt
		if step.Until != nil {
			wake = *step.Until
		} else {
			d, _ := leadcycle.ParseJourneyDuration(step.Duration)
			wake = wake.Add(d)
		}
		if st.now.Before(wake) {
			return stepResult{wait: true, until: wake}, nil
		}
		return st.on(outcomeWaited, step)
	case leadcycle.StepBranch:
		return st.branch(ctx, step)
	case leadcycle.StepCreateLead:
		return st.createLead(ctx, step)
	case leadcycle.StepUpdateRecord:
		return st.updateRecord(ctx, step)
	case leadcycle.StepCreateTask:
		return st.createTask(ctx, step)
	case leadcycle.StepWebhook:
		return st.callWebhook(ctx, step)
	case leadcycle.StepExit:
		return stepResult{outcome: "exit", exit: true}, nil
	}
	return stepResult{}, leadcycle.Errorf(leadcycle.EInvalid, "step %s has the unknown type %q", step.ID, step.Type)
}

func (st *stepper) sendEmail(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	s := st.x.s
	c := st.sub.Contact
	t, ok := st.cj.templates[*step.EmailID]
	if !ok {
		var err error
		if t, err = s.emailTemplates.get(ctx, st.tx, *step.EmailID, false); err != nil {
			return stepResult{}, err
		}
		st.cj.templates[*step.EmailID] = t
	}
	switch {
	case c.Email == "":
		return st.on(outcomeSkippedNoEmail, step)
	case t.Purpose == leadcycle.PurposeCommercial && c.Consent.CommercialEmail != leadcycle.ConsentGranted:
		return st.on(outcomeSkippedConsent, step)
	}
	suppressed, err := isSuppressed(ctx, s.DB, st.tx, c.Email)
	if err != nil {
		return stepResult{}, err
	}
	if suppressed {
		return st.on(outcomeSkippedBounced, step)
	}
	jid := leadcycle.ID(st.run.journeyID)
	if err := queueSend(ctx, s.DB, st.tx, leadcycle.EmailSend{TemplateID: t.ID, ContactID: c.ID, LeadID: st.run.leadID, JourneyID: &jid, Step: step.ID, ToEmail: c.Email}, st.now); err != nil {
		return stepResult{}, err
	}
	return st.on(outcomeQueued, step)
}

func (st *stepper) branch(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	took := func(yes bool) (stepResult, error) {
		if yes {
			return stepResult{outcome: outcomeThen, next: step.Then}, nil
		}
		return stepResult{outcome: outcomeElse, next: step.Else}, nil
	}
	if step.Interaction == nil {
		return took(st.cj.conditions[step.ID].Matches(*st.sub, st.now))
	}
	w := step.Interaction
	within, _ := leadcycle.ParseJourneyDuration(w.Within)
	since, deadline := st.run.stepAt, st.run.stepAt.Add(within)
	emailID := ""
	if w.EmailStep != "" {
		if es, ok := st.cj.j.Step(w.EmailStep); ok && es.EmailID != nil {
			emailID = es.EmailID.String()
		}
		// The email's interactions count from when it was queued.
		var at int64
		err := st.x.s.QueryRowQ(ctx, st.tx, "SELECT at FROM journey_steps WHERE run_id = ? AND step = ?", st.run.id, w.EmailStep).Scan(&at)
		if err == nil && time.UnixMicro(at).Before(since) {
			since = time.UnixMicro(at).UTC()
		}
	}
	found, err := st.interacted(ctx, w, emailID, since)
	if err != nil {
		return stepResult{}, err
	}
	if found {
		return took(true)
	}
	if !st.now.Before(deadline) {
		return took(false)
	}
	return stepResult{wait: true, until: deadline, awaits: w.Type}, nil
}

// interacted reports whether the contact had an interaction a branch waits
// for since the time.
func (st *stepper) interacted(ctx context.Context, w *leadcycle.StepInteraction, emailID string, since time.Time) (bool, error) {
	rows, err := st.x.s.QueryQ(ctx, st.tx, "SELECT properties FROM interactions WHERE contact_id = ? AND type = ? AND occurred_at >= ? ORDER BY occurred_at LIMIT 1000",
		st.run.contactID, w.Type, micros(since))
	if err != nil {
		return false, err
	}
	props, err := scanAll(rows, func(r scanner) (map[string]any, error) {
		var p map[string]any
		return p, r.Scan(jsonCol{&p})
	})
	if err != nil {
		return false, err
	}
	for _, p := range props {
		if emailID != "" && fmt.Sprint(p["email_id"]) != emailID {
			continue
		}
		if w.URLContains != "" {
			u, _ := p["url"].(string)
			if !strings.Contains(u, w.URLContains) {
				continue
			}
		}
		return true, nil
	}
	return false, nil
}

func (st *stepper) createLead(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	c := st.sub.Contact
	jid := leadcycle.ID(st.run.journeyID)
	topic := step.Topic
	if topic == "" {
		topic = st.cj.j.Name
	}
	l := leadcycle.Lead{Topic: topic, Source: leadcycle.SourceJourney, JourneyID: &jid, AccountID: c.AccountID}
	if step.Per == leadcycle.PerAccount {
		if c.AccountID == nil {
			return st.on("skipped: the contact has no account", step)
		}
	} else {
		l.ContactID = &c.ID
	}
	if err := st.x.s.leads.createTx(ctx, st.tx, &l); err != nil {
		return stepResult{}, err
	}
	st.run.leadID = &l.ID
	return st.on("created lead "+l.ID.String(), step)
}

func (st *stepper) updateRecord(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	s := st.x.s
	var err error
	switch step.Target {
	case leadcycle.TargetContact:
		_, err = s.contacts.updateTx(ctx, st.tx, st.sub.Contact.ID, func(c *leadcycle.Contact) error { return applySet(c, step.Set) })
	case leadcycle.TargetAccount:
		if st.sub.Contact.AccountID == nil {
			return st.on("skipped: the contact has no account", step)
		}
		_, err = s.accounts.updateTx(ctx, st.tx, *st.sub.Contact.AccountID, func(a *leadcycle.Account) error { return applySet(a, step.Set) })
	case leadcycle.TargetLead:
		if st.run.leadID == nil {
			return st.on("skipped: the journey has no lead for this contact", step)
		}
		_, err = s.leads.updateTx(ctx, st.tx, *st.run.leadID, func(l *leadcycle.Lead) error { return applySet(l, step.Set) })
	}
	if err != nil {
		return stepResult{}, err
	}
	return st.on("updated the "+step.Target, step)
}

func (st *stepper) createTask(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	c := st.sub.Contact.ID
	t := leadcycle.Task{Title: step.Title, Description: step.Description, Kind: "follow_up", Queue: step.Queue, AssigneeID: step.AssigneeID, LeadID: st.run.leadID, ContactID: &c}
	if step.DueHours > 0 {
		due := st.now.Add(time.Duration(step.DueHours) * time.Hour)
		t.DueAt = &due
	}
	if err := st.x.s.tasks.createTx(ctx, st.tx, &t); err != nil {
		return stepResult{}, err
	}
	return st.on("created task "+t.ID.String(), step)
}

// callWebhook writes an event for the step and a delivery of it to the
// step's webhook, which the webhook worker makes (signed, retried).
func (st *stepper) callWebhook(ctx context.Context, step *leadcycle.JourneyStep) (stepResult, error) {
	s := st.x.s
	var active bool
	if err := s.QueryRowQ(ctx, st.tx, "SELECT active FROM webhooks WHERE id = ?", int64(*step.WebhookID)).Scan(&active); err != nil {
		return stepResult{}, leadcycle.Errorf(leadcycle.EInvalid, "step %s: webhook %s no longer exists", step.ID, step.WebhookID)
	}
	if !active {
		return st.on("skipped: the webhook is inactive", step)
	}
	c := st.sub.Contact
	payload := map[string]any{"journey_id": leadcycle.ID(st.run.journeyID), "journey_name": st.cj.j.Name, "step": step.ID,
		"contact": map[string]any{"id": c.ID, "email": c.Email, "first_name": c.FirstName, "last_name": c.LastName, "account_id": c.AccountID}}
	var eventID int64
	err := s.QueryRowQ(ctx, st.tx, "INSERT INTO outbox (type, lead_id, contact_id, payload, actor, at, workflow_pending, webhooks_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
		leadcycle.EventJourneyStep, nullID(st.run.leadID), int64(c.ID), jsonText(payload), "journey "+leadcycle.ID(st.run.journeyID).String(), micros(st.now), false, false).Scan(&eventID)
	if err != nil {
		return stepResult{}, fmt.Errorf("write journey event: %w", err)
	}
	if _, err := s.ExecQ(ctx, st.tx, "INSERT INTO webhook_deliveries (webhook_id, event_id, event_type, status, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?)",
		int64(*step.WebhookID), eventID, leadcycle.EventJourneyStep, "pending", micros(st.now), micros(st.now)); err != nil {
		return stepResult{}, fmt.Errorf("queue webhook delivery: %w", err)
	}
	return st.on("webhook delivery queued", step)
}
