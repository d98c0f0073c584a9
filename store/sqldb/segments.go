package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// Segments. Members of every segment are rows of segment_members. A dynamic
// segment's rows are rebuilt from its query, in SQL, in the transaction
// that saves it; after that they are kept live per contact: every write
// that can change what a query sees (a contact, an account, a lead, a score,
// an interaction, an opportunity, another segment's members) enqueues the
// contacts it
// touches in segment_queue in its own transaction, and ProcessDue evaluates
// each queued contact in memory against every dynamic segment, in the order
// in which they name each other, writing the changed rows and their
// segment.entered and segment.exited events in one transaction. A contact
// whose result can change with time alone (a window moving past one of its
// interactions) is queued again for that moment.

var segmentTable = &table[leadcycle.Segment]{
	name: "segments", collection: "segments",
	cols: []string{"key", "name", "description", "kind", "query", "created_at", "updated_at"},
	values: func(s *leadcycle.Segment) []any {
		return []any{s.Key, s.Name, s.Description, s.Kind, s.Query, micros(s.CreatedAt), micros(s.UpdatedAt)}
	},
	dests: func(s *leadcycle.Segment) []any {
		return []any{idCol{&s.ID}, &s.Key, &s.Name, &s.Description, &s.Kind, &s.Query, timeCol{&s.CreatedAt}, timeCol{&s.UpdatedAt}}
	},
	id: func(s *leadcycle.Segment) *leadcycle.ID { return &s.ID },
	prepare: func(s *leadcycle.Segment, now time.Time, create bool) error {
		s.Normalize()
		stamp(&s.CreatedAt, &s.UpdatedAt, now, create)
		return s.Validate()
	},
	validate: func(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.Segment) error {
		if s.Kind != leadcycle.SegmentDynamic {
			return nil
		}
		q, err := compileSegment(ctx, db, tx, s.Query)
		if err != nil {
			return err
		}
		return checkCycle(ctx, db, tx, s.ID, q)
	},
	beforeUpdate: func(old, s *leadcycle.Segment) error {
		if s.Kind != old.Kind {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "kind", "cannot be changed (make a new segment)")
		}
		return nil
	},
	afterWrite:   segmentWritten,
	beforeDelete: segmentDeleting,
	afterDelete: func(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID) error {
		db.segReads.Store(nil)
		return nil
	},
	load: loadMemberCounts,
}

// compileSegment compiles a query against the custom field schemas and the
// segments of the database as q sees them.
func compileSegment(ctx context.Context, db *DB, q querier, src string) (*scoring.SegmentQuery, error) {
	schemas, err := loadSchemas(ctx, db, q)
	if err != nil {
		return nil, err
	}
	var lookupErr error
	cq, err := scoring.CompileSegment(src, schemas, func(key string) (leadcycle.ID, bool) {
		var id int64
		err := db.QueryRowQ(ctx, q, "SELECT id FROM segments WHERE key = ?", key).Scan(&id)
		if err != nil {
			if !errors.Is(err, sql.ErrNoRows) {
				lookupErr = err
			}
			return 0, false
		}
		return leadcycle.ID(id), true
	})
	if lookupErr != nil {
		return nil, fmt.Errorf("segment keys: %w", lookupErr)
	}
	return cq, err
}

// checkCycle refuses a query that names, directly or through other
// segments, the segment it belongs to.
func checkCycle(ctx context.Context, db *DB, q querier, self leadcycle.ID, cq *scoring.SegmentQuery) error {
	if self == 0 {
		return nil // nothing names a new segment yet
	}
	seen := map[int64]bool{}
	var todo []int64
	for _, id := range cq.Segments {
		todo = append(todo, int64(id))
	}
	for len(todo) > 0 {
		id := todo[len(todo)-1]
		todo = todo[:len(todo)-1]
		if id == int64(self) {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "query", "the segment would contain itself: in_segment names it, directly or through other segments")
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		rows, err := db.QueryQ(ctx, q, "SELECT ref_id FROM segment_refs WHERE segment_id = ?", id)
		if err != nil {
			return fmt.Errorf("segment refs: %w", err)
		}
		refs, err := scanAll(rows, func(r scanner) (int64, error) {
			var v int64
			return v, r.Scan(&v)
		})
		if err != nil {
			return err
		}
		todo = append(todo, refs...)
	}
	return nil
}

// segmentWritten keeps what a saved segment's query names and reads, and
// rebuilds the members of a dynamic segment whose query is new.
func segmentWritten(ctx context.Context, db *DB, tx *sql.Tx, old, s *leadcycle.Segment) error {
	db.segReads.Store(nil)
	if old != nil && old.Key != s.Key {
		var user string
		err := db.QueryRowQ(ctx, tx, "SELECT s.key FROM segment_refs r JOIN segments s ON s.id = r.segment_id WHERE r.ref_id = ? ORDER BY s.id LIMIT 1", int64(s.ID)).Scan(&user)
		if err == nil {
			return leadcycle.FieldErrorf(leadcycle.EConflict, "key", "segment %q names this segment by its key %q; change it first", user, old.Key)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("segment refs: %w", err)
		}
	}
	if s.Kind != leadcycle.SegmentDynamic || (old != nil && old.Query == s.Query) {
		return loadMemberCounts(ctx, db, tx, []*leadcycle.Segment{s})
	}
	cq, err := compileSegment(ctx, db, tx, s.Query)
	if err != nil {
		return err
	}
	var reads []string
	for r := range cq.Reads {
		reads = append(reads, r)
	}
	slices.Sort(reads)
	if _, err := db.ExecQ(ctx, tx, "UPDATE segments SET reads = ?, model_keys = ?, version = version + 1 WHERE id = ?",
		jsonText(reads), jsonText(append([]string{}, cq.ModelKeys...)), int64(s.ID)); err != nil {
		return fmt.Errorf("segment reads: %w", err)
	}
	if _, err := db.ExecQ(ctx, tx, "DELETE FROM segment_refs WHERE segment_id = ?", int64(s.ID)); err != nil {
		return fmt.Errorf("segment refs: %w", err)
	}
	for _, id := range cq.Segments {
		if _, err := db.ExecQ(ctx, tx, "INSERT INTO segment_refs (segment_id, ref_id) VALUES (?, ?)", int64(s.ID), int64(id)); err != nil {
			return fmt.Errorf("segment refs: %w", err)
		}
	}
	reason := "segment created"
	if old != nil {
		reason = "query changed"
	}
	if err := rebuildSegment(ctx, db, tx, s, cq, old != nil, reason); err != nil {
		return err
	}
	return loadMemberCounts(ctx, db, tx, []*leadcycle.Segment{s})
}

// segmentDeleting refuses to delete a segment another one names.
func segmentDeleting(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.Segment) error {
	var user string
	err := db.QueryRowQ(ctx, tx, "SELECT s.key FROM segment_refs r JOIN segments s ON s.id = r.segment_id WHERE r.ref_id = ? ORDER BY s.id LIMIT 1", int64(s.ID)).Scan(&user)
	if err == nil {
		return leadcycle.Errorf(leadcycle.EConflict, "segment %q uses segment %q (in_segment); change it first", user, s.Key)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("segment refs: %w", err)
	}
	if err := journeysUsingSegment(ctx, db, tx, s); err != nil {
		return err
	}
	// Its contacts leave it: subscribers and journeys hear of it.
	rows, err := db.QueryQ(ctx, tx, "SELECT contact_id FROM segment_members WHERE segment_id = ? ORDER BY contact_id", int64(s.ID))
	if err != nil {
		return fmt.Errorf("segment members: %w", err)
	}
	members, err := scanAll(rows, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return err
	}
	if err := writeSegmentEvents(ctx, db, tx, s, nil, members, db.Clock.Now(), "segment deleted"); err != nil {
		return err
	}
	return enqueueDependents(ctx, db, tx, s.ID, members)
}

// loadMemberCounts fills the member counts of segments read.
func loadMemberCounts(ctx context.Context, db *DB, q querier, items []*leadcycle.Segment) error {
	for _, s := range items {
		if err := db.QueryRowQ(ctx, q, "SELECT COUNT(*) FROM segment_members WHERE segment_id = ?", int64(s.ID)).Scan(&s.MemberCount); err != nil {
			return fmt.Errorf("segment members: %w", err)
		}
	}
	return nil
}

// segmentMembersSQL evaluates a compiled query in SQL and returns the
// member contact ids, sorted.
func (db *DB) segmentMembers(ctx context.Context, q querier, cq *scoring.SegmentQuery, now time.Time) ([]int64, error) {
	query, args := db.segmentSQL(cq, now)
	rows, err := db.QueryQ(ctx, q, query+" ORDER BY c.id", args...)
	if err != nil {
		return nil, fmt.Errorf("evaluate segment: %w", err)
	}
	return scanAll(rows, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// SegmentIDs evaluates a segment query in SQL now and returns the ids of
// the contacts it holds, sorted (benchmarks and tests compare it with the
// in-memory evaluation).
func (s *Store) SegmentIDs(ctx context.Context, query string) ([]leadcycle.ID, error) {
	cq, err := compileSegment(ctx, s.DB, s.R, query)
	if err != nil {
		return nil, err
	}
	ids, err := s.segmentMembers(ctx, s.R, cq, s.Clock.Now())
	if err != nil {
		return nil, err
	}
	out := make([]leadcycle.ID, len(ids))
	for i, id := range ids {
		out[i] = leadcycle.ID(id)
	}
	return out, nil
}

// rebuildSegment replaces the members of a dynamic segment with those its
// query holds now; with events set, every change writes its event. The
// contacts that entered or left are queued for the segments naming this
// one.
func rebuildSegment(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.Segment, cq *scoring.SegmentQuery, events bool, reason string) error {
	now := db.Clock.Now()
	want, err := db.segmentMembers(ctx, tx, cq, now)
	if err != nil {
		return err
	}
	rows, err := db.QueryQ(ctx, tx, "SELECT contact_id FROM segment_members WHERE segment_id = ? ORDER BY contact_id", int64(s.ID))
	if err != nil {
		return fmt.Errorf("segment members: %w", err)
	}
	have, err := scanAll(rows, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return err
	}
	var entered, exited []int64
	i, j := 0, 0
	for i < len(want) || j < len(have) {
		switch {
		case j == len(have) || (i < len(want) && want[i] < have[j]):
			entered = append(entered, want[i])
			i++
		case i == len(want) || have[j] < want[i]:
			exited = append(exited, have[j])
			j++
		default:
			i, j = i+1, j+1
		}
	}
	if err := applyMembers(ctx, db, tx, s, entered, exited, now, events, reason); err != nil {
		return err
	}
	return scheduleWindows(ctx, db, tx, s.ID, cq, now)
}

// scheduleWindows queues, for the moment it can first change, every
// contact whose result for a query with windows can change with time alone:
// when now minus a window reaches a time the query compares with it (the
// evaluation then schedules the next moment itself). A list's window only
// matters for elements its predicate can hold for: those failing a part of
// it that does not depend on time (a conjunct such as .type == "x") never
// count, so they are left out.
//
// The query's trend narrows it further: when time alone can only make
// members leave (a count of recent opens that must be high enough), only
// members are queued; when it can only make contacts join, only the others.
func scheduleWindows(ctx context.Context, db *DB, tx *sql.Tx, segID leadcycle.ID, cq *scoring.SegmentQuery, now time.Time) error {
	if len(cq.Windows) == 0 {
		return nil
	}
	members := ""
	switch cq.Trend() {
	case scoring.TrendConstant:
		return nil
	case scoring.TrendFalling:
		members = " WHERE x.cid IN (SELECT m.contact_id FROM segment_members m WHERE m.segment_id = ?)"
	case scoring.TrendRising:
		members = " WHERE x.cid NOT IN (SELECT m.contact_id FROM segment_members m WHERE m.segment_id = ?)"
	}
	cast := ""
	if db.Dialect.Cast != nil {
		cast = db.Dialect.Cast("int")
	}
	schedule := func(days int, sel string, args []any) error {
		window := time.Duration(days) * 24 * time.Hour
		q := strings.Replace(segEnqueueSQL, "{sel}", "SELECT x.cid, MIN(x.t) + ?"+cast+", ?, ?, 0 FROM ("+sel+") x"+members+" GROUP BY x.cid", 1)
		args = append([]any{window.Microseconds(), rand.Int64(), micros(now)}, args...)
		if members != "" {
			args = append(args, int64(segID))
		}
		if _, err := db.ExecQ(ctx, tx, q, args...); err != nil {
			return fmt.Errorf("schedule segment windows: %w", err)
		}
		return nil
	}
	// Lists: the elements the predicate holds for now.
	var lists []scoring.SegList
	scoring.EachSeg(cq.Tree, func(e scoring.SegExpr) {
		if l, ok := e.(scoring.SegList); ok {
			lists = append(lists, l)
		}
	})
	for _, l := range lists {
		owner, from := listSource(l.Over)
		for _, days := range segDays(l.Pred) {
			for _, t := range listTimes[l.Over] {
				if !slices.Contains(cq.Windows[t.field], days) {
					continue
				}
				b := &segSQL{pg: db.Dialect.Name == "postgres", now: now}
				pred := "1 = 1"
				for _, c := range conjuncts(l.Pred) {
					if len(segDays(c)) == 0 {
						pred += " AND " + b.cond(c)
					}
				}
				sel := "SELECT " + owner + " AS cid, " + t.col + " AS t FROM " + from + " AND " + pred + " AND " + t.col + " >= ?"
				if err := schedule(days, sel, append(b.args, micros(now.Add(-time.Duration(days)*24*time.Hour)))); err != nil {
					return err
				}
			}
		}
	}
	// The contact's and its account's own times.
	for field, sel := range map[string]string{
		"contact.created_at": "SELECT c.id AS cid, c.created_at AS t FROM contacts c WHERE c.created_at >= ?",
		"contact.updated_at": "SELECT c.id AS cid, c.updated_at AS t FROM contacts c WHERE c.updated_at >= ?",
		"account.created_at": "SELECT c.id AS cid, a.created_at AS t FROM contacts c JOIN accounts a ON a.id = c.account_id WHERE a.created_at >= ?",
	} {
		for _, days := range cq.Windows[field] {
			if err := schedule(days, sel, []any{micros(now.Add(-time.Duration(days) * 24 * time.Hour))}); err != nil {
				return err
			}
		}
	}
	return nil
}

// listTimes are the time fields of each list's elements that a predicate
// can compare with days_ago, with their columns (a NULL one, such as the
// closed_at of an open opportunity, never crosses a window).
var listTimes = map[string][]struct{ field, col string }{
	"interactions":  {{"interaction.occurred_at", "i.occurred_at"}},
	"leads":         {{"lead.created_at", "l.created_at"}},
	"opportunities": {{"opportunity.created_at", "o.created_at"}, {"opportunity.closed_at", "o.closed_at"}},
}

// conjuncts splits a condition at its top-level ands.
func conjuncts(e scoring.SegExpr) []scoring.SegExpr {
	if a, ok := e.(scoring.SegAnd); ok {
		return append(conjuncts(a.L), conjuncts(a.R)...)
	}
	return []scoring.SegExpr{e}
}

// segDays lists the days of the days_ago calls in a predicate.
func segDays(e scoring.SegExpr) []int {
	var out []int
	scoring.EachSeg(e, func(e scoring.SegExpr) {
		if d, ok := e.(scoring.SegDaysAgo); ok && !slices.Contains(out, d.Days) {
			out = append(out, d.Days)
		}
	})
	return out
}

// applyMembers adds and removes members of one segment, known to be absent
// and present, writing their events when events is set.
func applyMembers(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.Segment, entered, exited []int64, now time.Time, events bool, reason string) error {
	rows := make([][]any, len(entered))
	for k, id := range entered {
		rows[k] = []any{int64(s.ID), id, micros(now)}
	}
	if err := execRows(ctx, db, tx, "INSERT INTO segment_members (segment_id, contact_id, since) VALUES ", " ON CONFLICT DO NOTHING", rows); err != nil {
		return fmt.Errorf("add segment members: %w", err)
	}
	for ids := range slices.Chunk(exited, 1000) {
		if _, err := db.ExecQ(ctx, tx, "DELETE FROM segment_members WHERE segment_id = ? AND "+db.Dialect.InIDs("contact_id"), int64(s.ID), db.Dialect.IDsArg(ids)); err != nil {
			return fmt.Errorf("remove segment members: %w", err)
		}
	}
	if events {
		if err := writeSegmentEvents(ctx, db, tx, s, entered, exited, now, reason); err != nil {
			return err
		}
		if err := enterSegmentJourneys(ctx, db, tx, s.ID, entered); err != nil {
			return err
		}
	}
	return enqueueDependents(ctx, db, tx, s.ID, append(slices.Clone(entered), exited...))
}

// writeSegmentEvents writes one event per contact that entered or left.
func writeSegmentEvents(ctx context.Context, db *DB, tx *sql.Tx, s *leadcycle.Segment, entered, exited []int64, now time.Time, reason string) error {
	var rows [][]any
	add := func(typ string, ids []int64) {
		payload := jsonText(map[string]any{"segment_id": s.ID, "segment_key": s.Key, "segment_name": s.Name, "reason": reason})
		for _, id := range ids {
			rows = append(rows, []any{typ, id, payload, "segment " + s.Key, micros(now), workflowTypes[typ], true})
		}
	}
	add(leadcycle.EventSegmentEntered, entered)
	add(leadcycle.EventSegmentExited, exited)
	if err := execRows(ctx, db, tx, "INSERT INTO outbox (type, contact_id, payload, actor, at, workflow_pending, webhooks_pending) VALUES ", "", rows); err != nil {
		return fmt.Errorf("write segment events: %w", err)
	}
	return nil
}

// Queueing contacts for evaluation.

// segEnqueueSQL adds the contacts chosen by a SELECT to the queue, or moves
// their entry earlier; {sel} is replaced by the SELECT.
const segEnqueueSQL = `INSERT INTO segment_queue (contact_id, due_at, seq, enqueued_at, claimed_until) {sel}
	ON CONFLICT (contact_id) DO UPDATE SET
		due_at = CASE WHEN excluded.due_at < segment_queue.due_at THEN excluded.due_at ELSE segment_queue.due_at END,
		enqueued_at = CASE WHEN excluded.enqueued_at < segment_queue.enqueued_at THEN excluded.enqueued_at ELSE segment_queue.enqueued_at END,
		seq = excluded.seq`

// enqueueSegmentContacts queues the contacts matched by where (a condition
// on contacts c) for evaluation at due.
func enqueueSegmentContacts(ctx context.Context, db *DB, tx *sql.Tx, due time.Time, where string, args ...any) error {
	now := micros(db.Clock.Now())
	sel := "SELECT c.id, ?, ?, ?, 0 FROM contacts c WHERE " + where + " ORDER BY c.id"
	q := strings.Replace(segEnqueueSQL, "{sel}", sel, 1)
	if _, err := db.ExecQ(ctx, tx, q, append([]any{micros(due), rand.Int64(), now}, args...)...); err != nil {
		return fmt.Errorf("enqueue segments: %w", err)
	}
	return nil
}

// enqueueSegmentIDs queues contacts by id for evaluation now.
func enqueueSegmentIDs(ctx context.Context, db *DB, tx *sql.Tx, ids []int64) error {
	ids = uniqueIDs(slices.Clone(ids))
	for chunk := range slices.Chunk(ids, 5000) {
		if err := enqueueSegmentContacts(ctx, db, tx, db.Clock.Now(), db.Dialect.InIDs("c.id"), db.Dialect.IDsArg(chunk)); err != nil {
			return err
		}
	}
	return nil
}

// enqueueDependents queues contacts whose membership of segment id changed,
// when other segments name it.
func enqueueDependents(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID, contacts []int64) error {
	if len(contacts) == 0 {
		return nil
	}
	var one int
	err := db.QueryRowQ(ctx, tx, "SELECT 1 FROM segment_refs WHERE ref_id = ? LIMIT 1", int64(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("segment refs: %w", err)
	}
	return enqueueSegmentIDs(ctx, db, tx, contacts)
}

// segmentReads returns what the dynamic segments' queries read (see
// scoring.SegmentQuery.Reads), and "any" when there is at least one. On a
// single-node database it is kept in memory between segment writes (which
// run one at a time with every other write, so a cached value is never
// stale); elsewhere it is read in the transaction.
func segmentReads(ctx context.Context, db *DB, q querier) (map[string]bool, error) {
	if db.Dialect.SingleNode {
		if m := db.segReads.Load(); m != nil {
			return *m, nil
		}
	}
	rows, err := db.QueryQ(ctx, q, "SELECT reads FROM segments WHERE kind = ?", leadcycle.SegmentDynamic)
	if err != nil {
		return nil, fmt.Errorf("segment reads: %w", err)
	}
	all, err := scanAll(rows, func(r scanner) ([]string, error) {
		var v []string
		return v, r.Scan(jsonCol{&v})
	})
	if err != nil {
		return nil, err
	}
	m := map[string]bool{}
	for _, reads := range all {
		m["any"] = true
		for _, r := range reads {
			m[r] = true
		}
	}
	if db.Dialect.SingleNode {
		db.segReads.Store(&m)
	}
	return m, nil
}

// whenSegmentsRead runs fn when some dynamic segment reads source ("any"
// for every one).
func whenSegmentsRead(ctx context.Context, db *DB, tx *sql.Tx, source string, fn func() error) error {
	reads, err := segmentReads(ctx, db, tx)
	if err != nil {
		return err
	}
	if !reads[source] {
		return nil
	}
	return fn()
}

// Hooks that queue contacts; installed in init.

func contactSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, _, c *leadcycle.Contact) error {
	return whenSegmentsRead(ctx, db, tx, "any", func() error { return enqueueSegmentIDs(ctx, db, tx, []int64{int64(c.ID)}) })
}

func accountSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, a *leadcycle.Account) error {
	if old == nil {
		return nil // no contact has a new account yet
	}
	return whenSegmentsRead(ctx, db, tx, "account", func() error {
		return enqueueSegmentContacts(ctx, db, tx, db.Clock.Now(), "c.account_id = ?", int64(a.ID))
	})
}

func accountDeleteSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, a *leadcycle.Account) error {
	return whenSegmentsRead(ctx, db, tx, "account", func() error {
		return enqueueSegmentContacts(ctx, db, tx, db.Clock.Now(), "c.account_id = ?", int64(a.ID))
	})
}

func leadSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead) error {
	return whenSegmentsRead(ctx, db, tx, "leads", func() error {
		var ids []int64
		for _, c := range []*leadcycle.ID{l.ContactID, oldContact(old)} {
			if c != nil {
				ids = append(ids, int64(*c))
			}
		}
		return enqueueSegmentIDs(ctx, db, tx, ids)
	})
}

func oldContact(old *leadcycle.Lead) *leadcycle.ID {
	if old == nil {
		return nil
	}
	return old.ContactID
}

func leadDeleteSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead) error {
	if l.ContactID == nil {
		return nil
	}
	return whenSegmentsRead(ctx, db, tx, "leads", func() error { return enqueueSegmentIDs(ctx, db, tx, []int64{int64(*l.ContactID)}) })
}

// leadOpportunitySegmentEnqueues queues the old and the new contact of a
// lead that moves to another contact: its opportunities move with it.
func leadOpportunitySegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead) error {
	if old == nil || sameID(old.ContactID, l.ContactID) {
		return nil // a new lead has no opportunities yet
	}
	return whenSegmentsRead(ctx, db, tx, "opportunities", func() error {
		var ids []int64
		for _, c := range []*leadcycle.ID{l.ContactID, old.ContactID} {
			if c != nil {
				ids = append(ids, int64(*c))
			}
		}
		return enqueueSegmentIDs(ctx, db, tx, ids)
	})
}

// leadDeleteOpportunityEnqueues queues the contact of a lead being deleted:
// its opportunities lose the lead, and with it that contact.
func leadDeleteOpportunityEnqueues(ctx context.Context, db *DB, tx *sql.Tx, l *leadcycle.Lead) error {
	if l.ContactID == nil {
		return nil
	}
	return whenSegmentsRead(ctx, db, tx, "opportunities", func() error { return enqueueSegmentIDs(ctx, db, tx, []int64{int64(*l.ContactID)}) })
}

// opportunitySegmentEnqueues queues the contacts an opportunity belongs to,
// before and after the write: its own contact and its lead's contact.
func opportunitySegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, o *leadcycle.Opportunity) error {
	return whenSegmentsRead(ctx, db, tx, "opportunities", func() error { return enqueueOpportunityContacts(ctx, db, tx, old, o) })
}

func opportunityDeleteSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, o *leadcycle.Opportunity) error {
	return whenSegmentsRead(ctx, db, tx, "opportunities", func() error { return enqueueOpportunityContacts(ctx, db, tx, o) })
}

// enqueueOpportunityContacts queues the contacts of the opportunities (nil
// ones are skipped): their contact_id and their lead's contact_id.
func enqueueOpportunityContacts(ctx context.Context, db *DB, tx *sql.Tx, opps ...*leadcycle.Opportunity) error {
	var contacts, leads []int64
	for _, o := range opps {
		if o == nil {
			continue
		}
		if o.ContactID != nil {
			contacts = append(contacts, int64(*o.ContactID))
		}
		if o.LeadID != nil {
			leads = append(leads, int64(*o.LeadID))
		}
	}
	if err := enqueueSegmentIDs(ctx, db, tx, contacts); err != nil {
		return err
	}
	if len(leads) == 0 {
		return nil
	}
	return enqueueSegmentContacts(ctx, db, tx, db.Clock.Now(), "c.id IN (SELECT l.contact_id FROM leads l WHERE "+db.Dialect.InIDs("l.id")+")", db.Dialect.IDsArg(uniqueIDs(leads)))
}

func interactionSegmentEnqueues(ctx context.Context, db *DB, tx *sql.Tx, _, i *leadcycle.Interaction) error {
	return whenSegmentsRead(ctx, db, tx, "interactions", func() error { return enqueueSegmentIDs(ctx, db, tx, []int64{int64(i.ContactID)}) })
}

// enqueueLeadContacts queues the contacts of leads whose scores or fields
// changed outside their repository (the scorer, the business process).
func enqueueLeadContacts(ctx context.Context, db *DB, tx *sql.Tx, source string, leadIDs []int64) error {
	if len(leadIDs) == 0 {
		return nil
	}
	return whenSegmentsRead(ctx, db, tx, source, func() error {
		for chunk := range slices.Chunk(uniqueIDs(slices.Clone(leadIDs)), 5000) {
			if err := enqueueSegmentContacts(ctx, db, tx, db.Clock.Now(), "c.id IN (SELECT l.contact_id FROM leads l WHERE "+db.Dialect.InIDs("l.id")+")", db.Dialect.IDsArg(chunk)); err != nil {
				return err
			}
		}
		return nil
	})
}

// enqueueModelContacts queues the contacts of the leads a scoring model
// scored, before their scores go (a model stopped with its scores cleared,
// or deleted).
func enqueueModelContacts(ctx context.Context, db *DB, tx *sql.Tx, modelID leadcycle.ID) error {
	return whenSegmentsRead(ctx, db, tx, "scores", func() error {
		return enqueueSegmentContacts(ctx, db, tx, db.Clock.Now(), "c.id IN (SELECT l.contact_id FROM lead_scores s JOIN leads l ON l.id = s.lead_id WHERE s.model_id = ?)", int64(modelID))
	})
}

func init() {
	contactTable.afterWrite = afterWrites(contactTable.afterWrite, contactSegmentEnqueues)
	accountTable.afterWrite = afterWrites(accountTable.afterWrite, accountSegmentEnqueues)
	leadTable.afterWrite = afterWrites(leadTable.afterWrite, leadSegmentEnqueues)
	leadTable.afterWrite = afterWrites(leadTable.afterWrite, leadOpportunitySegmentEnqueues)
	interactionTable.afterWrite = afterWrites(interactionTable.afterWrite, interactionSegmentEnqueues)
	opportunityTable.afterWrite = afterWrites(opportunityTable.afterWrite, opportunitySegmentEnqueues)
	accountTable.beforeDelete = chainBeforeDelete(accountTable.beforeDelete, accountDeleteSegmentEnqueues)
	leadTable.beforeDelete = chainBeforeDelete(leadTable.beforeDelete, leadDeleteSegmentEnqueues, leadDeleteOpportunityEnqueues)
	opportunityTable.beforeDelete = chainBeforeDelete(opportunityTable.beforeDelete, opportunityDeleteSegmentEnqueues)
	scoringModelTable.beforeDelete = chainBeforeDelete(scoringModelTable.beforeDelete, func(ctx context.Context, db *DB, tx *sql.Tx, m *leadcycle.ScoringModel) error {
		return enqueueModelContacts(ctx, db, tx, m.ID)
	})
}

// chainBeforeDelete runs delete hooks in order.
func chainBeforeDelete[T leadcycle.Record](hooks ...func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error) func(ctx context.Context, db *DB, tx *sql.Tx, v *T) error {
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

// segmentStore implements leadcycle.SegmentStore.
type segmentStore struct{ s *Store }

// Segments implements leadcycle.Store.
func (s *Store) Segments() leadcycle.Repo[leadcycle.Segment] { return s.segments }

// SegmentMembers implements leadcycle.Store.
func (s *Store) SegmentMembers() leadcycle.SegmentStore { return segmentStore{s} }

// Members implements leadcycle.SegmentStore. Pages go by contact id.
func (x segmentStore) Members(ctx context.Context, segmentID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.SegmentMember], error) {
	var page leadcycle.Page[leadcycle.SegmentMember]
	if _, err := x.s.segments.Get(ctx, segmentID); err != nil {
		return page, err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = leadcycle.DefaultLimit
	}
	limit = min(limit, leadcycle.MaxLimit)
	after := int64(0)
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil || c.Sort != "contact_id" {
			return page, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor of this list")
		}
		after = c.ID
	}
	rows, err := x.s.QueryQ(ctx, x.s.R, `SELECT m.contact_id, c.email, c.first_name, c.last_name, m.since FROM segment_members m
		JOIN contacts c ON c.id = m.contact_id WHERE m.segment_id = ? AND m.contact_id > ? ORDER BY m.contact_id LIMIT ?`,
		int64(segmentID), after, limit+1)
	if err != nil {
		return page, fmt.Errorf("segment members: %w", err)
	}
	items, err := scanAll(rows, func(r scanner) (leadcycle.SegmentMember, error) {
		var m leadcycle.SegmentMember
		return m, r.Scan(idCol{&m.ContactID}, &m.Email, &m.FirstName, &m.LastName, timeCol{&m.Since})
	})
	if err != nil {
		return page, err
	}
	if len(items) > limit {
		items = items[:limit]
		page.NextCursor = encodeCursor(cursor{Sort: "contact_id", Value: "", ID: int64(items[limit-1].ContactID)})
	}
	page.Items = items
	return page, nil
}

// Preview implements leadcycle.SegmentStore.
func (x segmentStore) Preview(ctx context.Context, query string, sample int) (*leadcycle.SegmentPreview, error) {
	cq, err := compileSegment(ctx, x.s.DB, x.s.R, query)
	if err != nil {
		return nil, err
	}
	q, args := x.s.segmentSQL(cq, x.s.Clock.Now())
	out := &leadcycle.SegmentPreview{Sample: []leadcycle.Contact{}}
	if err := x.s.QueryRowQ(ctx, x.s.R, "SELECT COUNT(*) FROM ("+q+") n", args...).Scan(&out.Count); err != nil {
		return nil, fmt.Errorf("preview segment: %w", err)
	}
	if sample <= 0 || out.Count == 0 {
		return out, nil
	}
	rows, err := x.s.QueryQ(ctx, x.s.R, x.s.contacts.selectSQL+" WHERE id IN ("+q+" ORDER BY c.id LIMIT ?) ORDER BY id", append(args, min(sample, leadcycle.MaxLimit))...)
	if err != nil {
		return nil, fmt.Errorf("preview segment: %w", err)
	}
	out.Sample, err = scanAll(rows, scanRecord(contactTable))
	return out, err
}

// AddMembers implements leadcycle.SegmentStore.
func (x segmentStore) AddMembers(ctx context.Context, segmentID leadcycle.ID, contactIDs []leadcycle.ID, emails []string) (*leadcycle.MembersChange, error) {
	return x.change(ctx, segmentID, contactIDs, emails, true)
}

// RemoveMembers implements leadcycle.SegmentStore.
func (x segmentStore) RemoveMembers(ctx context.Context, segmentID leadcycle.ID, contactIDs []leadcycle.ID, emails []string) (*leadcycle.MembersChange, error) {
	return x.change(ctx, segmentID, contactIDs, emails, false)
}

// maxMembersChange bounds the contacts of one change of a static list.
const maxMembersChange = 100_000

func (x segmentStore) change(ctx context.Context, segmentID leadcycle.ID, contactIDs []leadcycle.ID, emails []string, add bool) (*leadcycle.MembersChange, error) {
	if len(contactIDs)+len(emails) > maxMembersChange {
		return nil, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_ids", "at most %d contacts can be changed at once", maxMembersChange)
	}
	var out *leadcycle.MembersChange
	err := x.s.InTxRetry(ctx, func(tx *sql.Tx) error {
		out = &leadcycle.MembersChange{NotFound: []string{}}
		seg, err := x.s.segments.get(ctx, tx, segmentID, true)
		if err != nil {
			return err
		}
		if seg.Kind != leadcycle.SegmentStatic {
			return leadcycle.Errorf(leadcycle.EConflict, "segment %q is dynamic: its query decides its members", seg.Key)
		}
		ids, err := x.resolveContacts(ctx, tx, contactIDs, emails, out)
		if err != nil {
			return err
		}
		rows, err := x.s.QueryQ(ctx, tx, "SELECT contact_id FROM segment_members WHERE segment_id = ? AND "+x.s.Dialect.InIDs("contact_id"), int64(segmentID), x.s.Dialect.IDsArg(ids))
		if err != nil {
			return fmt.Errorf("segment members: %w", err)
		}
		present, err := scanAll(rows, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return err
		}
		in := map[int64]bool{}
		for _, id := range present {
			in[id] = true
		}
		var changed []int64
		for _, id := range ids {
			if in[id] != add {
				changed = append(changed, id)
			}
		}
		out.Changed, out.Unchanged = len(changed), len(ids)-len(changed)
		now := x.s.Clock.Now()
		if add {
			return applyMembers(ctx, x.s.DB, tx, seg, changed, nil, now, true, "added to the list")
		}
		return applyMembers(ctx, x.s.DB, tx, seg, nil, changed, now, true, "removed from the list")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveContacts returns the distinct ids of the contacts given by id or
// email, sorted, noting those that match none.
func (x segmentStore) resolveContacts(ctx context.Context, tx *sql.Tx, contactIDs []leadcycle.ID, emails []string, out *leadcycle.MembersChange) ([]int64, error) {
	want := make([]int64, len(contactIDs))
	for i, id := range contactIDs {
		want[i] = int64(id)
	}
	want = uniqueIDs(want)
	found := map[int64]bool{}
	for chunk := range slices.Chunk(want, 5000) {
		rows, err := x.s.QueryQ(ctx, tx, "SELECT id FROM contacts WHERE "+x.s.Dialect.InIDs("id"), x.s.Dialect.IDsArg(chunk))
		if err != nil {
			return nil, fmt.Errorf("contacts: %w", err)
		}
		ids, err := scanAll(rows, func(r scanner) (int64, error) {
			var id int64
			return id, r.Scan(&id)
		})
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			found[id] = true
		}
	}
	var ids []int64
	for _, id := range want {
		if found[id] {
			ids = append(ids, id)
		} else {
			out.NotFound = append(out.NotFound, leadcycle.ID(id).String())
		}
	}
	normalized := make([]string, 0, len(emails))
	for _, e := range emails {
		if n := leadcycle.NormalizeEmail(e); n != "" {
			normalized = append(normalized, n)
		}
	}
	slices.Sort(normalized)
	normalized = slices.Compact(normalized)
	byEmail := map[string]bool{}
	for chunk := range slices.Chunk(normalized, 5000) {
		rows, err := x.s.QueryQ(ctx, tx, "SELECT id, email FROM contacts WHERE "+x.s.Dialect.InTexts("email"), x.s.Dialect.TextsArg(chunk))
		if err != nil {
			return nil, fmt.Errorf("contacts by email: %w", err)
		}
		for rows.Next() {
			var id int64
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return nil, fmt.Errorf("contacts by email: %w", err)
			}
			ids = append(ids, id)
			byEmail[email] = true
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	for _, e := range normalized {
		if !byEmail[e] {
			out.NotFound = append(out.NotFound, e)
		}
	}
	return uniqueIDs(ids), nil
}

// Evaluation of queued contacts.

// liveSegment is a dynamic segment compiled for one round.
type liveSegment struct {
	seg     leadcycle.Segment
	version int64
	q       *scoring.SegmentQuery
}

// dynamicSegments returns the dynamic segments compiled, each after the
// segments it names. A segment whose query no longer compiles is left out.
func (s *Store) dynamicSegments(ctx context.Context, q querier) ([]liveSegment, error) {
	rows, err := s.QueryQ(ctx, q, "SELECT id, "+strings.Join(segmentTable.cols, ", ")+", version FROM segments WHERE kind = ? ORDER BY id", leadcycle.SegmentDynamic)
	if err != nil {
		return nil, fmt.Errorf("dynamic segments: %w", err)
	}
	segs, err := scanAll(rows, func(r scanner) (liveSegment, error) {
		var ls liveSegment
		return ls, r.Scan(append(segmentTable.dests(&ls.seg), &ls.version)...)
	})
	if err != nil {
		return nil, err
	}
	schemas, err := loadSchemas(ctx, s.DB, q)
	if err != nil {
		return nil, err
	}
	ids := map[string]leadcycle.ID{}
	krows, err := s.QueryQ(ctx, q, "SELECT key, id FROM segments")
	if err != nil {
		return nil, fmt.Errorf("segment keys: %w", err)
	}
	for krows.Next() {
		var key string
		var id int64
		if err := krows.Scan(&key, &id); err != nil {
			krows.Close()
			return nil, err
		}
		ids[key] = leadcycle.ID(id)
	}
	if err := krows.Close(); err != nil {
		return nil, err
	}
	var ok []liveSegment
	for _, ls := range segs {
		cq, err := scoring.CompileSegment(ls.seg.Query, schemas, func(key string) (leadcycle.ID, bool) { id, ok := ids[key]; return id, ok })
		if err != nil {
			continue
		}
		ls.q = cq
		ok = append(ok, ls)
	}
	// Order: a segment after those it names (the queries have no cycles).
	var out []liveSegment
	placed := map[leadcycle.ID]bool{}
	for len(ok) > 0 {
		progress := false
		rest := ok[:0:0]
		for _, ls := range ok {
			ready := true
			for _, id := range ls.q.Segments {
				if !placed[id] && slices.ContainsFunc(ok, func(o liveSegment) bool { return o.seg.ID == id }) {
					ready = false
				}
			}
			if ready {
				out = append(out, ls)
				placed[ls.seg.ID] = true
				progress = true
			} else {
				rest = append(rest, ls)
			}
		}
		if !progress {
			break // a cycle made by concurrent saves: leave those out
		}
		ok = rest
	}
	return out, nil
}

// segQueued is a claimed queue entry.
type segQueued struct {
	contactID int64
	seq       int64
	enqueued  time.Time
}

// ProcessDue implements leadcycle.SegmentStore.
func (x segmentStore) ProcessDue(ctx context.Context, max int) (n int, err error) {
	s := x.s
	now := s.Clock.Now()
	claimed, err := s.claimSegments(ctx, now, max)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	defer s.releaseSegments(claimed)
	defer func() {
		if err != nil {
			s.unclaimSegments(claimed)
		}
	}()
	segs, err := s.dynamicSegments(ctx, s.P)
	if err != nil {
		return 0, err
	}
	ids := make([]int64, len(claimed))
	for i, c := range claimed {
		ids[i] = c.contactID
	}
	p, err := s.evaluateContacts(ctx, s.P, segs, ids, now)
	if err != nil {
		return 0, err
	}
	err = s.InTxRetry(ctx, func(tx *sql.Tx) error { return p.write(ctx, s.DB, tx, segs, claimed) })
	if err != nil {
		return 0, err
	}
	return len(claimed), nil
}

// segPlan is the outcome of evaluating a batch of contacts.
type segPlan struct {
	now time.Time
	// changes per segment id: contacts that enter (true) or leave (false).
	changes map[leadcycle.ID]map[int64]bool
	// next is when a contact must be evaluated again (windows).
	next map[int64]time.Time
}

// SegmentSubjects loads what the in-memory evaluation of segment queries
// needs for the contacts with the ids, by contact id; benchmarks and tests
// use it to evaluate queries in memory.
func (s *Store) SegmentSubjects(ctx context.Context, ids []leadcycle.ID) (map[leadcycle.ID]*scoring.SegmentSubject, map[leadcycle.ID][]leadcycle.ID, error) {
	raw := make([]int64, len(ids))
	for i, id := range ids {
		raw[i] = int64(id)
	}
	subs, members, err := s.loadSubjects(ctx, s.R, raw, map[string]bool{"leads": true, "interactions": true, "opportunities": true})
	if err != nil {
		return nil, nil, err
	}
	out := map[leadcycle.ID][]leadcycle.ID{}
	for c, m := range members {
		for id := range m {
			out[leadcycle.ID(c)] = append(out[leadcycle.ID(c)], id)
		}
	}
	res := map[leadcycle.ID]*scoring.SegmentSubject{}
	for id, sub := range subs {
		res[leadcycle.ID(id)] = sub
	}
	return res, out, nil
}

// loadSubjects reads the contacts with the ids, their accounts, and — when
// reads asks for them — their leads with scores, their interactions and
// their opportunities, and their current memberships (segment ids by
// contact).
func (s *Store) loadSubjects(ctx context.Context, q querier, ids []int64, reads map[string]bool) (map[int64]*scoring.SegmentSubject, map[int64]map[leadcycle.ID]bool, error) {
	contacts, err := selectByIDs(ctx, s, q, s.contacts, "id", ids)
	if err != nil {
		return nil, nil, err
	}
	subs := make(map[int64]*scoring.SegmentSubject, len(contacts))
	var accountIDs []int64
	for i := range contacts {
		c := &contacts[i]
		subs[int64(c.ID)] = &scoring.SegmentSubject{Contact: c}
		if c.AccountID != nil {
			accountIDs = append(accountIDs, int64(*c.AccountID))
		}
	}
	accounts, err := selectByIDs(ctx, s, q, s.accounts, "id", accountIDs)
	if err != nil {
		return nil, nil, err
	}
	byID := map[leadcycle.ID]*leadcycle.Account{}
	for i := range accounts {
		byID[accounts[i].ID] = &accounts[i]
	}
	for _, sub := range subs {
		if sub.Contact.AccountID != nil {
			sub.Account = byID[*sub.Contact.AccountID]
		}
	}
	if reads["leads"] {
		leads, err := selectByIDs(ctx, s, q, s.leads, "contact_id", ids)
		if err != nil {
			return nil, nil, err
		}
		ptrs := make([]*leadcycle.Lead, len(leads))
		for i := range leads {
			ptrs[i] = &leads[i]
		}
		if err := loadLeadScores(ctx, s.DB, q, ptrs); err != nil {
			return nil, nil, err
		}
		for _, l := range leads {
			if sub := subs[int64(*l.ContactID)]; sub != nil {
				sub.Leads = append(sub.Leads, l)
			}
		}
		models, err := modelVersions(ctx, s.DB, q)
		if err != nil {
			return nil, nil, err
		}
		for _, sub := range subs {
			sub.Models = models
		}
	}
	if reads["interactions"] {
		ints, err := selectByIDs(ctx, s, q, s.interactions, "contact_id", ids)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range ints {
			if sub := subs[int64(it.ContactID)]; sub != nil {
				sub.Interactions = append(sub.Interactions, it)
			}
		}
	}
	if reads["opportunities"] {
		if err := s.loadSubjectOpportunities(ctx, q, ids, subs); err != nil {
			return nil, nil, err
		}
	}
	members := map[int64]map[leadcycle.ID]bool{}
	if len(ids) > 0 {
		rows, err := s.QueryQ(ctx, q, "SELECT contact_id, segment_id FROM segment_members WHERE "+s.Dialect.InIDs("contact_id"), s.Dialect.IDsArg(uniqueIDs(slices.Clone(ids))))
		if err != nil {
			return nil, nil, fmt.Errorf("segment members: %w", err)
		}
		for rows.Next() {
			var c, seg int64
			if err := rows.Scan(&c, &seg); err != nil {
				rows.Close()
				return nil, nil, err
			}
			if members[c] == nil {
				members[c] = map[leadcycle.ID]bool{}
			}
			members[c][leadcycle.ID(seg)] = true
		}
		if err := rows.Close(); err != nil {
			return nil, nil, err
		}
	}
	return subs, members, nil
}

// loadSubjectOpportunities gives each subject its opportunities: those
// whose contact_id is the contact and those whose lead's contact_id is the
// contact, each once.
func (s *Store) loadSubjectOpportunities(ctx context.Context, q querier, ids []int64, subs map[int64]*scoring.SegmentSubject) error {
	if len(ids) == 0 {
		return nil
	}
	ids = uniqueIDs(slices.Clone(ids))
	for chunk := range slices.Chunk(ids, 5000) {
		rows, err := s.QueryQ(ctx, q, s.opportunities.selectSQL+" WHERE "+s.Dialect.InIDs("contact_id")+
			" OR lead_id IN (SELECT l.id FROM leads l WHERE "+s.Dialect.InIDs("l.contact_id")+") ORDER BY id",
			s.Dialect.IDsArg(chunk), s.Dialect.IDsArg(chunk))
		if err != nil {
			return fmt.Errorf("load opportunities: %w", err)
		}
		opps, err := scanAll(rows, scanRecord(opportunityTable))
		if err != nil {
			return err
		}
		var leadIDs []int64
		for _, o := range opps {
			if o.LeadID != nil {
				leadIDs = append(leadIDs, int64(*o.LeadID))
			}
		}
		leadContact := map[leadcycle.ID]leadcycle.ID{}
		if len(leadIDs) > 0 {
			rows, err := s.QueryQ(ctx, q, "SELECT id, contact_id FROM leads WHERE contact_id IS NOT NULL AND "+s.Dialect.InIDs("id"), s.Dialect.IDsArg(uniqueIDs(leadIDs)))
			if err != nil {
				return fmt.Errorf("load opportunities: %w", err)
			}
			for rows.Next() {
				var l, c int64
				if err := rows.Scan(&l, &c); err != nil {
					rows.Close()
					return err
				}
				leadContact[leadcycle.ID(l)] = leadcycle.ID(c)
			}
			if err := rows.Close(); err != nil {
				return err
			}
		}
		for _, o := range opps {
			var owners []leadcycle.ID
			if o.ContactID != nil {
				owners = append(owners, *o.ContactID)
			}
			if o.LeadID != nil {
				if c, ok := leadContact[*o.LeadID]; ok && !slices.Contains(owners, c) {
					owners = append(owners, c)
				}
			}
			for _, c := range owners {
				if sub := subs[int64(c)]; sub != nil {
					sub.Opportunities = append(sub.Opportunities, o)
				}
			}
		}
	}
	return nil
}

// modelVersions maps each scoring model key to its version ids, newest
// first.
func modelVersions(ctx context.Context, db *DB, q querier) (map[string][]leadcycle.ID, error) {
	rows, err := db.QueryQ(ctx, q, "SELECT key, id FROM scoring_models ORDER BY key, version DESC")
	if err != nil {
		return nil, fmt.Errorf("scoring models: %w", err)
	}
	out := map[string][]leadcycle.ID{}
	for rows.Next() {
		var key string
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			rows.Close()
			return nil, err
		}
		out[key] = append(out[key], leadcycle.ID(id))
	}
	return out, rows.Close()
}

// evaluateContacts evaluates every dynamic segment for the contacts.
func (s *Store) evaluateContacts(ctx context.Context, q querier, segs []liveSegment, ids []int64, now time.Time) (*segPlan, error) {
	p := &segPlan{now: now, changes: map[leadcycle.ID]map[int64]bool{}, next: map[int64]time.Time{}}
	if len(segs) == 0 {
		return p, nil
	}
	reads := map[string]bool{}
	keys := map[string]leadcycle.ID{}
	for _, ls := range segs {
		for r := range ls.q.Reads {
			reads[r] = true
		}
		for k, id := range ls.q.Segments {
			keys[k] = id
		}
	}
	if reads["scores"] {
		reads["leads"] = true
	}
	subs, members, err := s.loadSubjects(ctx, q, ids, reads)
	if err != nil {
		return nil, err
	}
	for cid, sub := range subs {
		in := members[cid]
		if in == nil {
			in = map[leadcycle.ID]bool{}
		}
		sub.InSegment = func(key string) bool { return in[keys[key]] }
		for _, ls := range segs {
			match := ls.q.Matches(*sub, now)
			if match != in[ls.seg.ID] {
				if p.changes[ls.seg.ID] == nil {
					p.changes[ls.seg.ID] = map[int64]bool{}
				}
				p.changes[ls.seg.ID][cid] = match
				in[ls.seg.ID] = match
			}
			if t, ok := ls.q.NextChange(*sub, now, match); ok {
				if cur, has := p.next[cid]; !has || t.Before(cur) {
					p.next[cid] = t
				}
			}
		}
	}
	return p, nil
}

// write applies a plan: the changed members of segments whose query is
// still the one evaluated (a segment saved meanwhile was rebuilt, and its
// contacts are evaluated again), their events, the next evaluations, and
// the queue entries done.
func (p *segPlan) write(ctx context.Context, db *DB, tx *sql.Tx, segs []liveSegment, claimed []segQueued) error {
	// The segments' rows are held until the end (PostgreSQL), so that a
	// save waits for this write instead of rebuilding under it.
	share := ""
	if db.Dialect.Name == "postgres" {
		share = " FOR SHARE"
	}
	rows, err := db.QueryQ(ctx, tx, "SELECT id, version FROM segments WHERE kind = ? ORDER BY id"+share, leadcycle.SegmentDynamic)
	if err != nil {
		return fmt.Errorf("segment versions: %w", err)
	}
	versions := map[leadcycle.ID]int64{}
	for rows.Next() {
		var id, v int64
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return err
		}
		versions[leadcycle.ID(id)] = v
	}
	if err := rows.Close(); err != nil {
		return err
	}
	stale := false
	for _, ls := range segs {
		changes := p.changes[ls.seg.ID]
		if len(changes) == 0 {
			continue
		}
		if v, ok := versions[ls.seg.ID]; !ok || v != ls.version {
			stale = true
			continue
		}
		var entered, exited []int64
		for cid, in := range changes {
			if in {
				entered = append(entered, cid)
			} else {
				exited = append(exited, cid)
			}
		}
		slices.Sort(entered)
		slices.Sort(exited)
		entered, err = presentContacts(ctx, db, tx, entered)
		if err != nil {
			return err
		}
		if err := applyMembers(ctx, db, tx, &ls.seg, entered, exited, p.now, true, "data changed"); err != nil {
			return err
		}
	}
	// Settle the queue: an entry is removed only if nothing queued it again
	// meanwhile; one whose contact must be evaluated again later stays,
	// due then.
	for _, c := range claimed {
		if stale {
			if _, err := db.ExecQ(ctx, tx, "UPDATE segment_queue SET claimed_until = 0 WHERE contact_id = ?", c.contactID); err != nil {
				return fmt.Errorf("settle segment queue: %w", err)
			}
			continue
		}
		if next, ok := p.next[c.contactID]; ok {
			if _, err := db.ExecQ(ctx, tx, "UPDATE segment_queue SET due_at = ?, enqueued_at = ?, claimed_until = 0 WHERE contact_id = ? AND seq = ?",
				micros(next), micros(next), c.contactID, c.seq); err != nil {
				return fmt.Errorf("settle segment queue: %w", err)
			}
			continue
		}
		if _, err := db.ExecQ(ctx, tx, "DELETE FROM segment_queue WHERE contact_id = ? AND seq = ?", c.contactID, c.seq); err != nil {
			return fmt.Errorf("settle segment queue: %w", err)
		}
	}
	return nil
}

// presentContacts keeps the ids of contacts that still exist, locking them
// against deletion until the transaction ends.
func presentContacts(ctx context.Context, db *DB, tx *sql.Tx, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.QueryQ(ctx, tx, "SELECT id FROM contacts WHERE "+db.Dialect.InIDs("id")+" ORDER BY id"+db.Dialect.ForKeyShare, db.Dialect.IDsArg(ids))
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return scanAll(rows, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
}

// claimSegments takes up to max due queue entries for claimLease.
func (s *Store) claimSegments(ctx context.Context, now time.Time, max int) ([]segQueued, error) {
	scan := func(r scanner) (segQueued, error) {
		var q segQueued
		return q, r.Scan(&q.contactID, &q.seq, timeCol{&q.enqueued})
	}
	if s.Dialect.SingleNode {
		s.DB.segClaims.mu.Lock()
		defer s.DB.segClaims.mu.Unlock()
		rows, err := s.QueryQ(ctx, s.P, "SELECT contact_id, seq, enqueued_at FROM segment_queue WHERE due_at <= ? ORDER BY due_at LIMIT ?", micros(now), max+len(s.DB.segClaims.ids))
		if err != nil {
			return nil, fmt.Errorf("claim segment queue: %w", err)
		}
		all, err := scanAll(rows, scan)
		if err != nil {
			return nil, fmt.Errorf("claim segment queue: %w", err)
		}
		if s.DB.segClaims.ids == nil {
			s.DB.segClaims.ids = map[int64]bool{}
		}
		out := all[:0]
		for _, q := range all {
			if !s.DB.segClaims.ids[q.contactID] && len(out) < max {
				s.DB.segClaims.ids[q.contactID] = true
				out = append(out, q)
			}
		}
		return out, nil
	}
	var out []segQueued
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := s.QueryQ(ctx, tx, `UPDATE segment_queue SET claimed_until = ? WHERE contact_id IN (
			SELECT contact_id FROM segment_queue WHERE due_at <= ? AND claimed_until < ? ORDER BY due_at LIMIT ?`+s.Dialect.SkipLocked+`)
			RETURNING contact_id, seq, enqueued_at`, micros(now.Add(claimLease)), micros(now), micros(now), max)
		if err != nil {
			return fmt.Errorf("claim segment queue: %w", err)
		}
		out, err = scanAll(rows, scan)
		return err
	})
	return out, err
}

// releaseSegments ends in-memory claims.
func (s *Store) releaseSegments(claimed []segQueued) {
	if s.Dialect.SingleNode {
		s.DB.segClaims.drop(contactIDsOf(claimed))
	}
}

// unclaimSegments gives claimed entries back after a failed round.
func (s *Store) unclaimSegments(claimed []segQueued) {
	if !s.Dialect.SingleNode {
		s.freeClaims("segment_queue", "contact_id", contactIDsOf(claimed))
	}
}

func contactIDsOf(claimed []segQueued) []int64 {
	ids := make([]int64, len(claimed))
	for i, q := range claimed {
		ids[i] = q.contactID
	}
	return ids
}
