package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// Journeys: the journeys collection, the contacts' runs through them, and
// the entries made in the transactions that cause them (a trigger's lead,
// interaction or sales-ready event, a contact entering a segment), so that
// a contact enters once and at once.

var journeyTable = &table[leadcycle.Journey]{
	name: "journeys", collection: "journeys",
	cols: []string{"name", "description", "status", "entry_kind", "segment_id", "entry", "steps", "goal", "exit_condition", "published_at", "created_at", "updated_at"},
	values: func(j *leadcycle.Journey) []any {
		return []any{j.Name, j.Description, j.Status, j.Entry.Kind, nullID(j.Entry.SegmentID), jsonText(j.Entry), jsonText(j.Steps), j.Goal, j.ExitCondition,
			nullMicros(j.PublishedAt), micros(j.CreatedAt), micros(j.UpdatedAt)}
	},
	dests: func(j *leadcycle.Journey) []any {
		// entry_kind and segment_id are copies of fields of entry, kept as
		// columns to be queried; entry, read after them, sets both.
		return []any{idCol{&j.ID}, &j.Name, &j.Description, &j.Status, &j.Entry.Kind, nullIDCol{&j.Entry.SegmentID}, jsonCol{&j.Entry}, jsonCol{&j.Steps},
			&j.Goal, &j.ExitCondition, nullTimeCol{&j.PublishedAt}, timeCol{&j.CreatedAt}, timeCol{&j.UpdatedAt}}
	},
	id:    func(j *leadcycle.Journey) *leadcycle.ID { return &j.ID },
	clone: func(j *leadcycle.Journey) leadcycle.Journey { return j.Clone() },
	prepare: func(j *leadcycle.Journey, now time.Time, create bool) error {
		j.Normalize()
		stamp(&j.CreatedAt, &j.UpdatedAt, now, create)
		if create && j.Status != leadcycle.JourneyDraft {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "status", "a new journey is a draft; publish it to make it live")
		}
		return j.Validate()
	},
	refs: func(j *leadcycle.Journey) []ref {
		if j.Status != leadcycle.JourneyDraft {
			return nil // checked when published; a stopped journey may outlive its segment
		}
		return []ref{{"entry.segment_id", "segments", j.Entry.SegmentID}, {"entry.form_id", "forms", j.Entry.FormID}, {"entry.event_id", "events", j.Entry.EventID}}
	},
	validate: func(ctx context.Context, db *DB, tx *sql.Tx, j *leadcycle.Journey) error {
		_, err := compileJourney(ctx, db, tx, j)
		return err
	},
	beforeUpdate: func(old, j *leadcycle.Journey) error {
		if j.Status != old.Status {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "status", "is changed by publishing, pausing, resuming or stopping the journey")
		}
		if old.Status != leadcycle.JourneyDraft &&
			(jsonText(old.Entry) != jsonText(j.Entry) || jsonText(old.Steps) != jsonText(j.Steps) || old.Goal != j.Goal || old.ExitCondition != j.ExitCondition) {
			return leadcycle.FieldErrorf(leadcycle.EConflict, "steps", "a published journey's entry, steps, goal and exit condition cannot change (contacts are on their way through them); make a new journey")
		}
		return nil
	},
	beforeDelete: func(ctx context.Context, db *DB, tx *sql.Tx, j *leadcycle.Journey) error {
		if j.Status == leadcycle.JourneyLive || j.Status == leadcycle.JourneyPaused {
			return leadcycle.Errorf(leadcycle.EConflict, "journey %s is %s: stop it before deleting it", j.ID, j.Status)
		}
		return nil
	},
	afterWrite: func(ctx context.Context, db *DB, tx *sql.Tx, old, j *leadcycle.Journey) error {
		db.liveJourneys.Store(nil)
		return nil
	},
	afterDelete: func(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID) error {
		db.liveJourneys.Store(nil)
		return nil
	},
	load: loadJourneyStats,
}

// compiledJourney is a journey with its conditions compiled.
type compiledJourney struct {
	j          leadcycle.Journey
	goal, exit *scoring.SegmentQuery
	conditions map[string]*scoring.SegmentQuery // by step id
	reads      map[string]bool
	// segments are the ids of the segments its conditions name, by key.
	segments map[string]leadcycle.ID
	// templates caches the email templates its steps send, for one pass
	// of the runner.
	templates map[leadcycle.ID]*leadcycle.EmailTemplate
}

// compileJourney checks what a journey's validation could not without the
// database: its conditions against the field schema and the segments, and
// the records its steps name.
func compileJourney(ctx context.Context, db *DB, q querier, j *leadcycle.Journey) (*compiledJourney, error) {
	cj := &compiledJourney{j: *j, conditions: map[string]*scoring.SegmentQuery{}, reads: map[string]bool{"contact": true}, templates: map[leadcycle.ID]*leadcycle.EmailTemplate{}}
	var fields []leadcycle.FieldError
	compile := func(field, src string) *scoring.SegmentQuery {
		if src == "" {
			return nil
		}
		cq, err := compileSegment(ctx, db, q, src)
		if err != nil {
			for _, fe := range leadcycle.ErrorFields(err) {
				fields = append(fields, leadcycle.FieldError{Field: field, Message: fe.Message})
			}
			if len(leadcycle.ErrorFields(err)) == 0 {
				fields = append(fields, leadcycle.FieldError{Field: field, Message: err.Error()})
			}
			return nil
		}
		for r := range cq.Reads {
			cj.reads[r] = true
		}
		return cq
	}
	cj.goal = compile("goal", j.Goal)
	cj.exit = compile("exit_condition", j.ExitCondition)
	exists := func(field, table, col string, v any, what string) {
		var one int
		err := db.QueryRowQ(ctx, q, "SELECT 1 FROM "+table+" WHERE "+col+" = ?", v).Scan(&one)
		if err != nil {
			fields = append(fields, leadcycle.FieldError{Field: field, Message: fmt.Sprintf("no %s has the id %v", what, v)})
		}
	}
	for i, s := range j.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		switch s.Type {
		case leadcycle.StepBranch:
			if cq := compile(f+".condition", s.Condition); cq != nil {
				cj.conditions[s.ID] = cq
			}
		case leadcycle.StepSendEmail:
			exists(f+".email_id", "email_templates", "id", int64(*s.EmailID), "email template")
		case leadcycle.StepWebhook:
			exists(f+".webhook_id", "webhooks", "id", int64(*s.WebhookID), "webhook")
		case leadcycle.StepCreateTask:
			if s.AssigneeID != nil {
				exists(f+".assignee_id", "users", "id", int64(*s.AssigneeID), "user")
			}
			if !slices.Contains(leadcycle.TaskQueues, s.Queue) {
				fields = append(fields, leadcycle.FieldError{Field: f + ".queue", Message: "must be telesales or sales"})
			}
		case leadcycle.StepUpdateRecord:
			fields = append(fields, checkRecordSet(f+".set", s.Target, s.Set)...)
		}
	}
	if len(fields) > 0 {
		e := &leadcycle.Error{Code: leadcycle.EInvalid, Fields: fields}
		e.Message = "validation failed: " + fields[0].Field + ": " + fields[0].Message
		return nil, e
	}
	if cj.reads["scores"] {
		cj.reads["leads"] = true
	}
	cj.segments = map[string]leadcycle.ID{}
	for _, q := range cj.queries() {
		for k, id := range q.Segments {
			cj.segments[k] = id
		}
	}
	return cj, nil
}

// journeysUsingSegment refuses to delete a segment that a journey not
// stopped enters from or names in a condition (in_segment).
func journeysUsingSegment(ctx context.Context, db *DB, tx *sql.Tx, seg *leadcycle.Segment) error {
	rows, err := db.QueryQ(ctx, tx, newRepo(db, journeyTable).selectSQL+" WHERE status <> ? ORDER BY id", leadcycle.JourneyStopped)
	if err != nil {
		return fmt.Errorf("journeys: %w", err)
	}
	list, err := scanAll(rows, scanRecord(journeyTable))
	if err != nil {
		return err
	}
	for k := range list {
		j := &list[k]
		id := int64(j.ID)
		if j.Entry.SegmentID != nil && *j.Entry.SegmentID == seg.ID {
			return leadcycle.Errorf(leadcycle.EConflict, "journey %d (%s) takes its contacts from this segment; stop or delete it first", id, j.Name)
		}
		cj, err := compileJourney(ctx, db, tx, j)
		if err != nil {
			continue // a journey that no longer compiles names nothing usable
		}
		for _, q := range cj.queries() {
			if q.Segments[seg.Key] != 0 {
				return leadcycle.Errorf(leadcycle.EConflict, "journey %d (%s) names segment %q in a condition; change it first", id, j.Name, seg.Key)
			}
		}
	}
	return nil
}

// queries lists the journey's compiled conditions: goal, exit and branches.
func (cj *compiledJourney) queries() []*scoring.SegmentQuery {
	var qs []*scoring.SegmentQuery
	for _, q := range []*scoring.SegmentQuery{cj.goal, cj.exit} {
		if q != nil {
			qs = append(qs, q)
		}
	}
	for _, q := range cj.conditions {
		qs = append(qs, q)
	}
	return qs
}

// updatableFields are the fields an update_record step may set, per target;
// custom fields ("custom.NAME") are allowed on all three.
var updatableFields = map[string][]string{
	leadcycle.TargetContact: {"first_name", "last_name", "job_title", "phone", "owner_id"},
	leadcycle.TargetAccount: {"industry", "size", "revenue", "country", "website", "owner_id"},
	leadcycle.TargetLead:    {"topic", "description", "campaign", "owner_id", "purchase_timeframe", "purchase_process", "budget_amount", "need"},
}

// checkRecordSet checks an update_record step's fields and the types of
// their values, by applying them to an empty record.
func checkRecordSet(field, target string, set map[string]any) []leadcycle.FieldError {
	var errs []leadcycle.FieldError
	for k := range set {
		if !strings.HasPrefix(k, "custom.") && !slices.Contains(updatableFields[target], k) {
			errs = append(errs, leadcycle.FieldError{Field: field + "." + k, Message: fmt.Sprintf("a journey cannot set this field of a %s (it may set %s, or custom.NAME)", target, strings.Join(updatableFields[target], ", "))})
		}
	}
	if len(errs) > 0 {
		return errs
	}
	var err error
	switch target {
	case leadcycle.TargetContact:
		err = applySet(&leadcycle.Contact{}, set)
	case leadcycle.TargetAccount:
		err = applySet(&leadcycle.Account{}, set)
	case leadcycle.TargetLead:
		err = applySet(&leadcycle.Lead{}, set)
	}
	if err != nil {
		errs = append(errs, leadcycle.FieldError{Field: field, Message: err.Error()})
	}
	return errs
}

// applySet sets fields of a record through its JSON form: "custom.NAME"
// sets a custom field (the others are kept).
func applySet[T any](rec *T, set map[string]any) error {
	m := map[string]any{}
	for k, v := range set {
		if name, ok := strings.CutPrefix(k, "custom."); ok {
			custom, _ := m["custom"].(map[string]any)
			if custom == nil {
				custom = map[string]any{}
			}
			custom[name] = v
			m["custom"] = custom
			continue
		}
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, rec); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return fmt.Errorf("%s must be a %s, not a %s", te.Field, te.Type, te.Value)
		}
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "json: "))
	}
	return nil
}

// loadJourneyStats counts the runs of journeys by state, and their emails.
func loadJourneyStats(ctx context.Context, db *DB, q querier, items []*leadcycle.Journey) error {
	if len(items) == 0 {
		return nil
	}
	byID := map[int64]*leadcycle.JourneyStats{}
	ids := make([]int64, len(items))
	for i, j := range items {
		ids[i] = int64(j.ID)
		j.Stats = leadcycle.JourneyStats{}
		byID[ids[i]] = &j.Stats
	}
	rows, err := db.QueryQ(ctx, q, "SELECT journey_id, state, COUNT(*) FROM journey_runs WHERE "+db.Dialect.InIDs("journey_id")+" GROUP BY journey_id, state", db.Dialect.IDsArg(ids))
	if err != nil {
		return fmt.Errorf("journey stats: %w", err)
	}
	err = eachRow(rows, func(r scanner) error {
		var id, n int64
		var state string
		if err := r.Scan(&id, &state, &n); err != nil {
			return err
		}
		st := byID[id]
		st.Entered += n
		switch state {
		case leadcycle.RunActive:
			st.Active += n
		case leadcycle.RunWaiting:
			st.Waiting += n
		case leadcycle.RunCompleted:
			st.Completed += n
		case leadcycle.RunGoal:
			st.GoalReached += n
		case leadcycle.RunExited:
			st.Exited += n
		case leadcycle.RunFailed:
			st.Failed += n
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Emails queued by the steps; sends skipped for consent at the step,
	// or later by the mailer (consent withdrawn meanwhile).
	stepCounts := `SELECT r.journey_id, COUNT(*) FROM journey_steps s JOIN journey_runs r ON r.id = s.run_id
		WHERE ` + db.Dialect.InIDs("r.journey_id") + ` AND s.outcome = ? GROUP BY r.journey_id`
	counts := []struct {
		query string
		args  []any
		add   func(st *leadcycle.JourneyStats, n int64)
	}{
		{stepCounts, []any{outcomeQueued}, func(st *leadcycle.JourneyStats, n int64) { st.EmailsQueued += n }},
		{stepCounts, []any{outcomeSkippedConsent}, func(st *leadcycle.JourneyStats, n int64) { st.SkippedConsent += n }},
		{"SELECT journey_id, COUNT(*) FROM email_sends WHERE " + db.Dialect.InIDs("journey_id") + " AND status = ? AND reason = ? GROUP BY journey_id",
			[]any{leadcycle.SendSkipped, skipNoConsent}, func(st *leadcycle.JourneyStats, n int64) { st.SkippedConsent += n }},
	}
	for _, c := range counts {
		rows, err := db.QueryQ(ctx, q, c.query, append([]any{db.Dialect.IDsArg(ids)}, c.args...)...)
		if err != nil {
			return fmt.Errorf("journey email stats: %w", err)
		}
		if err := eachRow(rows, func(r scanner) error {
			var id, n int64
			if err := r.Scan(&id, &n); err != nil {
				return err
			}
			c.add(byID[id], n)
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

// eachRow calls fn for every row and closes rows.
func eachRow(rows *sql.Rows, fn func(scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Step outcomes recorded in journey_steps.
const (
	outcomeQueued         = "email queued"
	outcomeSkippedConsent = "skipped: no consent to commercial email"
	outcomeSkippedBounced = "skipped: the address bounced"
	outcomeSkippedNoEmail = "skipped: the contact has no email address"
	outcomeWaited         = "waited"
	outcomeThen           = "then"
	outcomeElse           = "else"
)

// liveJourney is a live journey as the entry hooks see it.
type liveJourney struct {
	id    int64
	entry leadcycle.JourneyEntry
	first string
	// awaits are the interaction types its branches wait for.
	awaits []string
}

// journeyIndex is what the live journeys need from writes: the trigger
// journeys, the ongoing segment journeys by segment, and the interaction
// types some branch waits for.
type journeyIndex struct {
	triggers []liveJourney
	segments map[int64][]liveJourney
	awaits   map[string]bool
	loaded   time.Time
}

// sharedIndexTTL is how long a node that shares its database (PostgreSQL)
// trusts its copy of the live journeys: a journey published, paused or
// stopped on another node is seen by this node's writes within it. (This
// node's own journey writes drop the copy at once.)
const sharedIndexTTL = time.Second

// liveJourneyIndex reads the live journeys. The copy is dropped by every
// journey write and status change of this process; on a shared database it
// is also read again when older than sharedIndexTTL.
func liveJourneyIndex(ctx context.Context, db *DB, q querier) (*journeyIndex, error) {
	if x := db.liveJourneys.Load(); x != nil && (db.Dialect.SingleNode || time.Since(x.loaded) < sharedIndexTTL) {
		return x, nil
	}
	rows, err := db.QueryQ(ctx, q, "SELECT id, entry, steps FROM journeys WHERE status = ?", leadcycle.JourneyLive)
	if err != nil {
		return nil, fmt.Errorf("live journeys: %w", err)
	}
	x := &journeyIndex{segments: map[int64][]liveJourney{}, awaits: map[string]bool{}}
	err = eachRow(rows, func(r scanner) error {
		var lj liveJourney
		var steps []leadcycle.JourneyStep
		if err := r.Scan(&lj.id, jsonCol{&lj.entry}, jsonCol{&steps}); err != nil {
			return err
		}
		if len(steps) > 0 {
			lj.first = steps[0].ID
		}
		for _, s := range steps {
			if s.Interaction != nil {
				lj.awaits = append(lj.awaits, s.Interaction.Type)
				x.awaits[s.Interaction.Type] = true
			}
		}
		switch {
		case lj.entry.Kind == leadcycle.EntryTrigger:
			x.triggers = append(x.triggers, lj)
		case lj.entry.Mode == leadcycle.EntryOngoing && lj.entry.SegmentID != nil:
			x.segments[int64(*lj.entry.SegmentID)] = append(x.segments[int64(*lj.entry.SegmentID)], lj)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	x.loaded = time.Now()
	db.liveJourneys.Store(x)
	return x, nil
}

const enterSQL = "INSERT INTO journey_runs (journey_id, contact_id, lead_id, state, step, due_at, step_at, entered_at) VALUES "

// enterTriggered enters the contact into every live trigger journey whose
// trigger matches; a contact already in (or once through) a journey is not
// entered again.
func enterTriggered(ctx context.Context, db *DB, tx *sql.Tx, contactID int64, leadID *leadcycle.ID, match func(e leadcycle.JourneyEntry) bool) error {
	x, err := liveJourneyIndex(ctx, db, tx)
	if err != nil || len(x.triggers) == 0 {
		return err
	}
	now := micros(db.Clock.Now())
	var rows [][]any
	for _, lj := range x.triggers {
		if match(lj.entry) {
			rows = append(rows, []any{lj.id, contactID, nullID(leadID), leadcycle.RunActive, lj.first, now, now, now})
		}
	}
	return execRows(ctx, db, tx, enterSQL, " ON CONFLICT (journey_id, contact_id) DO NOTHING", rows)
}

// enterSegmentJourneys enters contacts that entered a segment into its
// live ongoing journeys.
func enterSegmentJourneys(ctx context.Context, db *DB, tx *sql.Tx, segmentID leadcycle.ID, contacts []int64) error {
	if len(contacts) == 0 {
		return nil
	}
	x, err := liveJourneyIndex(ctx, db, tx)
	if err != nil || len(x.segments[int64(segmentID)]) == 0 {
		return err
	}
	now := micros(db.Clock.Now())
	for _, lj := range x.segments[int64(segmentID)] {
		rows := make([][]any, len(contacts))
		for i, c := range contacts {
			rows[i] = []any{lj.id, c, nil, leadcycle.RunActive, lj.first, now, now, now}
		}
		if err := execRows(ctx, db, tx, enterSQL, " ON CONFLICT (journey_id, contact_id) DO NOTHING", rows); err != nil {
			return fmt.Errorf("enter journey %d: %w", lj.id, err)
		}
	}
	return nil
}

// interactionJourneys enters the contact of a new interaction into the
// journeys it triggers, and wakes the contact's branches waiting for it.
func interactionJourneys(ctx context.Context, db *DB, tx *sql.Tx, old, i *leadcycle.Interaction) error {
	if old != nil {
		return nil
	}
	x, err := liveJourneyIndex(ctx, db, tx)
	if err != nil {
		return err
	}
	if x.awaits[i.Type] {
		if _, err := db.ExecQ(ctx, tx, "UPDATE journey_runs SET due_at = ? WHERE contact_id = ? AND state = ? AND awaits = ? AND due_at > ?",
			micros(db.Clock.Now()), int64(i.ContactID), leadcycle.RunWaiting, i.Type, micros(db.Clock.Now())); err != nil {
			return fmt.Errorf("wake journey branches: %w", err)
		}
	}
	if len(x.triggers) == 0 {
		return nil
	}
	prop := func(k string) string {
		if v, ok := i.Properties[k]; ok && v != nil {
			return fmt.Sprint(v)
		}
		return ""
	}
	custom := !slices.Contains(leadcycle.InteractionTypes, i.Type)
	return enterTriggered(ctx, db, tx, int64(i.ContactID), i.LeadID, func(e leadcycle.JourneyEntry) bool {
		switch e.Trigger {
		case leadcycle.TriggerFormSubmitted:
			return i.Type == leadcycle.InteractionFormSubmitted && (e.FormID == nil || prop("form_id") == e.FormID.String())
		case leadcycle.TriggerEventRegistered:
			return i.Type == leadcycle.InteractionEventRegistered && (e.EventID == nil || prop("event_id") == e.EventID.String())
		case leadcycle.TriggerCustomEvent:
			return custom && e.EventType == i.Type
		}
		return false
	})
}

// leadJourneys enters the contact of a new lead into lead_created journeys.
func leadJourneys(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead) error {
	if old != nil || l.ContactID == nil {
		return nil
	}
	return enterTriggered(ctx, db, tx, int64(*l.ContactID), &l.ID, func(e leadcycle.JourneyEntry) bool { return e.Trigger == leadcycle.TriggerLeadCreated })
}

// salesReadyJourneys enters the contact of a lead that just became sales
// ready into lead_sales_ready journeys.
func salesReadyJourneys(ctx context.Context, db *DB, tx *sql.Tx, ev leadcycle.Occurrence) error {
	if ev.Type != leadcycle.EventLeadSalesReady || ev.ContactID == nil {
		return nil
	}
	return enterTriggered(ctx, db, tx, int64(*ev.ContactID), ev.LeadID, func(e leadcycle.JourneyEntry) bool { return e.Trigger == leadcycle.TriggerLeadSalesReady })
}

func init() {
	interactionTable.afterWrite = afterWrites(interactionTable.afterWrite, interactionJourneys)
	leadTable.afterWrite = afterWrites(leadTable.afterWrite, leadJourneys)
}

// journeyRunStore implements leadcycle.JourneyStore.
type journeyRunStore struct{ s *Store }

// Journeys implements leadcycle.Store.
func (s *Store) Journeys() leadcycle.Repo[leadcycle.Journey] { return s.journeys }

// JourneyRuns implements leadcycle.Store.
func (s *Store) JourneyRuns() leadcycle.JourneyStore { return journeyRunStore{s} }

// setStatus moves a journey from one of the statuses in from to to, running
// then in the same transaction.
func (x journeyRunStore) setStatus(ctx context.Context, id leadcycle.ID, from []string, to string, then func(tx *sql.Tx, j *leadcycle.Journey, now time.Time) error) (*leadcycle.Journey, error) {
	s := x.s
	err := s.InTxRetry(ctx, func(tx *sql.Tx) error {
		j, err := s.journeys.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !slices.Contains(from, j.Status) {
			return leadcycle.Errorf(leadcycle.EConflict, "journey %s is %s; it must be %s to be %s", id, j.Status, strings.Join(from, " or "), verbs[to])
		}
		now := s.Clock.Now()
		set := "status = ?, updated_at = ?"
		args := []any{to, micros(now)}
		if to == leadcycle.JourneyLive && j.PublishedAt == nil {
			set += ", published_at = ?"
			args = append(args, micros(now))
		}
		if _, err := s.ExecQ(ctx, tx, "UPDATE journeys SET "+set+" WHERE id = ?", append(args, int64(id))...); err != nil {
			return err
		}
		s.liveJourneys.Store(nil)
		if then != nil {
			return then(tx, j, now)
		}
		return nil
	})
	s.liveJourneys.Store(nil)
	if err != nil {
		return nil, err
	}
	return s.journeys.Get(ctx, id)
}

var verbs = map[string]string{leadcycle.JourneyLive: "made live", leadcycle.JourneyPaused: "paused", leadcycle.JourneyStopped: "stopped"}

// Publish implements leadcycle.JourneyStore.
func (x journeyRunStore) Publish(ctx context.Context, id leadcycle.ID) (*leadcycle.Journey, error) {
	return x.setStatus(ctx, id, []string{leadcycle.JourneyDraft}, leadcycle.JourneyLive, func(tx *sql.Tx, j *leadcycle.Journey, now time.Time) error {
		// What was valid when saved may not be now (a template deleted).
		if _, err := compileJourney(ctx, x.s.DB, tx, j); err != nil {
			return err
		}
		if j.Entry.Kind != leadcycle.EntrySegment {
			return nil
		}
		var one int
		if err := x.s.QueryRowQ(ctx, tx, "SELECT 1 FROM segments WHERE id = ?", int64(*j.Entry.SegmentID)).Scan(&one); err != nil {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "entry.segment_id", "segment %s no longer exists", j.Entry.SegmentID)
		}
		_, err := x.s.ExecQ(ctx, tx, `INSERT INTO journey_runs (journey_id, contact_id, state, step, due_at, step_at, entered_at)
			SELECT ?, contact_id, ?, ?, ?, ?, ? FROM segment_members WHERE segment_id = ? ON CONFLICT (journey_id, contact_id) DO NOTHING`,
			int64(j.ID), leadcycle.RunActive, j.Steps[0].ID, micros(now), micros(now), micros(now), int64(*j.Entry.SegmentID))
		if err != nil {
			return fmt.Errorf("enter the segment's contacts: %w", err)
		}
		return nil
	})
}

// Pause implements leadcycle.JourneyStore.
func (x journeyRunStore) Pause(ctx context.Context, id leadcycle.ID) (*leadcycle.Journey, error) {
	return x.setStatus(ctx, id, []string{leadcycle.JourneyLive}, leadcycle.JourneyPaused, nil)
}

// Resume implements leadcycle.JourneyStore.
func (x journeyRunStore) Resume(ctx context.Context, id leadcycle.ID) (*leadcycle.Journey, error) {
	return x.setStatus(ctx, id, []string{leadcycle.JourneyPaused}, leadcycle.JourneyLive, nil)
}

// Stop implements leadcycle.JourneyStore.
func (x journeyRunStore) Stop(ctx context.Context, id leadcycle.ID) (*leadcycle.Journey, error) {
	return x.setStatus(ctx, id, []string{leadcycle.JourneyLive, leadcycle.JourneyPaused}, leadcycle.JourneyStopped, func(tx *sql.Tx, j *leadcycle.Journey, now time.Time) error {
		_, err := x.s.ExecQ(ctx, tx, "UPDATE journey_runs SET state = ?, reason = ?, finished_at = ?, claimed_until = 0 WHERE journey_id = ? AND state IN (?, ?)",
			leadcycle.RunExited, "the journey was stopped", micros(now), int64(j.ID), leadcycle.RunActive, leadcycle.RunWaiting)
		return err
	})
}

// runSelect reads runs (alias r) with their contact's name and email; a
// WHERE clause follows.
const runSelect = `SELECT r.id, r.journey_id, r.contact_id, r.lead_id, r.state, r.step, r.due_at, r.reason, r.entered_at, r.finished_at,
	c.email, c.first_name, c.last_name FROM journey_runs r JOIN contacts c ON c.id = r.contact_id`

func scanRun(r scanner) (leadcycle.JourneyRun, error) {
	var run leadcycle.JourneyRun
	return run, r.Scan(idCol{&run.ID}, idCol{&run.JourneyID}, idCol{&run.ContactID}, nullIDCol{&run.LeadID}, &run.State, &run.Step, timeCol{&run.DueAt}, &run.Reason,
		timeCol{&run.EnteredAt}, nullTimeCol{&run.FinishedAt}, &run.Email, &run.FirstName, &run.LastName)
}

// Runs implements leadcycle.JourneyStore: pages by entry (id order).
func (x journeyRunStore) Runs(ctx context.Context, journeyID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.JourneyRun], error) {
	s := x.s
	if _, err := s.journeys.Get(ctx, journeyID); err != nil {
		return leadcycle.Page[leadcycle.JourneyRun]{}, err
	}
	where := []string{"r.journey_id = ?"}
	args := []any{int64(journeyID)}
	for _, f := range q.Filters {
		if f.Op != leadcycle.OpEq || len(f.Columns) != 1 || (f.Columns[0] != "state" && f.Columns[0] != "step") {
			return leadcycle.Page[leadcycle.JourneyRun]{}, leadcycle.Errorf(leadcycle.EInvalid, "unsupported filter")
		}
		where = append(where, "r."+f.Columns[0]+" = ?")
		args = append(args, f.Value)
	}
	if q.Cursor != "" {
		after, ok := leadcycle.ParseID(q.Cursor)
		if !ok {
			return leadcycle.Page[leadcycle.JourneyRun]{}, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor of this list")
		}
		where = append(where, "r.id > ?")
		args = append(args, int64(after))
	}
	limit := pageLimit(q)
	rows, err := s.QueryQ(ctx, s.R, runSelect+" WHERE "+strings.Join(where, " AND ")+" ORDER BY r.id LIMIT ?", append(args, limit+1)...)
	if err != nil {
		return leadcycle.Page[leadcycle.JourneyRun]{}, err
	}
	items, err := scanAll(rows, scanRun)
	if err != nil {
		return leadcycle.Page[leadcycle.JourneyRun]{}, err
	}
	return pageOf(items, limit, func(r leadcycle.JourneyRun) string { return r.ID.String() }), nil
}

// Run implements leadcycle.JourneyStore.
func (x journeyRunStore) Run(ctx context.Context, journeyID, contactID leadcycle.ID) (*leadcycle.JourneyRun, error) {
	s := x.s
	run, err := scanRun(s.QueryRowQ(ctx, s.R, runSelect+" WHERE r.journey_id = ? AND r.contact_id = ?", int64(journeyID), int64(contactID)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, leadcycle.Errorf(leadcycle.ENotFound, "contact %s is not in journey %s", contactID, journeyID)
	}
	if err != nil {
		return nil, err
	}
	rows, err := s.QueryQ(ctx, s.R, "SELECT step, outcome, at FROM journey_steps WHERE run_id = ? ORDER BY seq", int64(run.ID))
	if err != nil {
		return nil, err
	}
	run.History, err = scanAll(rows, func(r scanner) (leadcycle.JourneyStepDone, error) {
		var d leadcycle.JourneyStepDone
		return d, r.Scan(&d.Step, &d.Outcome, timeCol{&d.At})
	})
	if err != nil {
		return nil, err
	}
	return &run, nil
}
