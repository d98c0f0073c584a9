package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// The scorer keeps scores current. Every write that can change a score
// (an interaction, a contact, account or lead change) enqueues the affected
// leads in score_queue in its own transaction; ProcessDue claims due entries,
// recomputes the leads' scores under every live model in batches and writes
// the results, the ledger, the sales-ready marks and their events in one
// transaction. An entry is removed only if nothing re-enqueued it meanwhile
// (seq), so no change is ever missed; a lead whose score will change with time
// alone (a window expiring, decay) is re-enqueued for that moment.

// claimLease is how long a claimed queue entry or rescore job stays with the
// worker that took it; a worker that dies gives it back after that.
const claimLease = time.Minute

// enqueueSQL adds the leads chosen by a SELECT of ids to the queue, or moves
// their entry earlier; {sel} is replaced by the SELECT.
const enqueueSQL = `INSERT INTO score_queue (lead_id, due_at, seq, cause, enqueued_at, claimed_until) {sel}
	ON CONFLICT (lead_id) DO UPDATE SET
		due_at = CASE WHEN excluded.due_at < score_queue.due_at THEN excluded.due_at ELSE score_queue.due_at END,
		enqueued_at = CASE WHEN excluded.enqueued_at < score_queue.enqueued_at THEN excluded.enqueued_at ELSE score_queue.enqueued_at END,
		seq = excluded.seq, cause = excluded.cause`

// enqueueLeads queues the leads matched by where (a condition on leads l with
// args) for rescoring now.
func enqueueLeads(ctx context.Context, db *DB, tx *sql.Tx, cause, where string, args ...any) error {
	return enqueueFrom(ctx, db, tx, "leads l", cause, where, args...)
}

// enqueueAccountBased queues the account-based leads of the accounts chosen
// by where (a condition on l.account_id). SQLite is told to read them from
// their partial index: without it the planner, which cannot know that few
// leads lack a contact, walks every lead without one.
func enqueueAccountBased(ctx context.Context, db *DB, tx *sql.Tx, cause, where string, args ...any) error {
	return enqueueFrom(ctx, db, tx, "leads l"+db.Dialect.IndexedBy("leads_account_based"), cause, where+" AND l.contact_id IS NULL", args...)
}

// enqueueFrom queues the leads of from (leads l, maybe with an index hint)
// matched by where.
func enqueueFrom(ctx context.Context, db *DB, tx *sql.Tx, from, cause, where string, args ...any) error {
	now := micros(db.Clock.Now())
	// Rows are locked in id order, so that two transactions queueing
	// overlapping leads on PostgreSQL wait for each other instead of
	// deadlocking.
	sel := "SELECT l.id, ?, ?, ?, ?, 0 FROM " + from + " WHERE " + where + " ORDER BY l.id"
	q := strings.Replace(enqueueSQL, "{sel}", sel, 1)
	if _, err := db.ExecQ(ctx, tx, q, append([]any{now, rand.Int64(), cause, now}, args...)...); err != nil {
		return fmt.Errorf("enqueue scoring: %w", err)
	}
	return nil
}

// enqueueLeadsOf queues the leads of the contacts and the account-based
// leads of the accounts. Where rows are locked (PostgreSQL) both kinds go in
// one statement, locked in one id order: a statement for each deadlocked
// against another transaction doing the same with other leads. SQLite, with
// one writer, keeps two statements, the second through the partial index
// its planner would not choose (see enqueueAccountBased).
func enqueueLeadsOf(ctx context.Context, db *DB, tx *sql.Tx, cause string, contacts, accounts []int64) error {
	if len(contacts) == 0 && len(accounts) == 0 {
		return nil
	}
	if len(accounts) > 0 && len(contacts) > 0 && !db.Dialect.SingleNode {
		return enqueueLeads(ctx, db, tx, cause, "("+db.Dialect.InIDs("l.contact_id")+" OR ("+db.Dialect.InIDs("l.account_id")+" AND l.contact_id IS NULL))",
			db.Dialect.IDsArg(uniqueIDs(contacts)), db.Dialect.IDsArg(uniqueIDs(accounts)))
	}
	if len(contacts) > 0 {
		if err := enqueueLeads(ctx, db, tx, cause, db.Dialect.InIDs("l.contact_id"), db.Dialect.IDsArg(uniqueIDs(contacts))); err != nil {
			return err
		}
	}
	if len(accounts) == 0 {
		return nil
	}
	return enqueueAccountBased(ctx, db, tx, cause, db.Dialect.InIDs("l.account_id"), db.Dialect.IDsArg(uniqueIDs(accounts)))
}

// idsOf returns the ids that are set.
func idsOf(ids ...*leadcycle.ID) []int64 {
	var out []int64
	for _, id := range ids {
		if id != nil {
			out = append(out, int64(*id))
		}
	}
	return out
}

// Hooks that enqueue rescoring; installed in init.

func interactionEnqueues(ctx context.Context, db *DB, tx *sql.Tx, _, i *leadcycle.Interaction) error {
	if covered, err := db.tailCovers(ctx, tx, i.ID); err != nil || covered {
		return err // the scorer reads it by id
	}
	// Account-based leads (a parent account, no parent contact) count the
	// interactions of every contact of their account.
	return enqueueLeadsOf(ctx, db, tx, fmt.Sprintf("interaction %s (%s)", i.ID, i.Type), []int64{int64(i.ContactID)}, idsOf(i.AccountID))
}

func contactEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, c *leadcycle.Contact) error {
	if old == nil {
		return nil // a new contact has no leads yet
	}
	// Account-based leads count the contacts of their account.
	var accounts []int64
	if !sameID(old.AccountID, c.AccountID) {
		accounts = idsOf(old.AccountID, c.AccountID)
	}
	return enqueueLeadsOf(ctx, db, tx, fmt.Sprintf("contact %s updated", c.ID), []int64{int64(c.ID)}, accounts)
}

func accountEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, a *leadcycle.Account) error {
	if old == nil {
		return nil
	}
	cause := fmt.Sprintf("account %s updated", a.ID)
	if err := enqueueLeads(ctx, db, tx, cause, "l.account_id = ?", int64(a.ID)); err != nil {
		return err
	}
	return enqueueLeads(ctx, db, tx, cause, "l.account_id IS NULL AND l.contact_id IN (SELECT id FROM contacts WHERE account_id = ?)", int64(a.ID))
}

func leadEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, l *leadcycle.Lead) error {
	cause := fmt.Sprintf("lead %s created", l.ID)
	if old != nil {
		cause = fmt.Sprintf("lead %s updated", l.ID)
	}
	return enqueueLeads(ctx, db, tx, cause, "l.id = ?", int64(l.ID))
}

// contactDeleteEnqueues rescores the leads that lose the contact (its own,
// and the account-based leads of its account, which lose its interactions).
func contactDeleteEnqueues(ctx context.Context, db *DB, tx *sql.Tx, c *leadcycle.Contact) error {
	if db.Dialect.SingleNode { // the account histories its interactions were in
		accounts, err := interactionAccounts(ctx, db, tx, c.ID)
		if err != nil {
			return err
		}
		db.forgetAccounts(tx, append(accounts, idsOf(c.AccountID)...))
	}
	return enqueueLeadsOf(ctx, db, tx, fmt.Sprintf("contact %s deleted", c.ID), []int64{int64(c.ID)}, idsOf(c.AccountID))
}

// interactionDeleteEnqueues rescores the leads that counted the
// interaction: its contact's, and the account-based leads of its account.
func interactionDeleteEnqueues(ctx context.Context, db *DB, tx *sql.Tx, i *leadcycle.Interaction) error {
	db.forgetAccounts(tx, idsOf(i.AccountID))
	return enqueueLeadsOf(ctx, db, tx, fmt.Sprintf("interaction %s deleted", i.ID), []int64{int64(i.ContactID)}, idsOf(i.AccountID))
}

// accountDeleteEnqueues rescores the leads that lose the account.
func accountDeleteEnqueues(ctx context.Context, db *DB, tx *sql.Tx, a *leadcycle.Account) error {
	db.forgetAccounts(tx, []int64{int64(a.ID)})
	cause := fmt.Sprintf("account %s deleted", a.ID)
	if err := enqueueLeads(ctx, db, tx, cause, "l.account_id = ?", int64(a.ID)); err != nil {
		return err
	}
	return enqueueLeads(ctx, db, tx, cause, "l.account_id IS NULL AND l.contact_id IN (SELECT id FROM contacts WHERE account_id = ?)", int64(a.ID))
}

// afterWrites runs hooks in order.
func afterWrites[T leadcycle.Record](hooks ...func(ctx context.Context, db *DB, tx *sql.Tx, old, v *T) error) func(ctx context.Context, db *DB, tx *sql.Tx, old, v *T) error {
	return func(ctx context.Context, db *DB, tx *sql.Tx, old, v *T) error {
		for _, h := range hooks {
			if h == nil {
				continue
			}
			if err := h(ctx, db, tx, old, v); err != nil {
				return err
			}
		}
		return nil
	}
}

func init() {
	interactionTable.afterWrite = afterWrites(interactionTable.afterWrite, interactionEnqueues)
	contactTable.afterWrite = afterWrites(contactTable.afterWrite, moveInteractions, contactEnqueues)
	accountTable.afterWrite = afterWrites(accountTable.afterWrite, accountEnqueues)
	leadTable.afterWrite = afterWrites(leadTable.afterWrite, leadEnqueues)
	leadTable.load = loadLeadScores
	if contactTable.beforeDelete != nil || accountTable.beforeDelete != nil || interactionTable.beforeDelete != nil {
		panic("sqldb: contacts, accounts and interactions have delete hooks to chain")
	}
	contactTable.beforeDelete = contactDeleteEnqueues
	accountTable.beforeDelete = accountDeleteEnqueues
	interactionTable.beforeDelete = interactionDeleteEnqueues
}

// queued is a claimed queue entry.
type queued struct {
	leadID   int64
	seq      int64
	cause    string
	enqueued time.Time
}

// RoundSize implements scoring.RoundSizer. On SQLite a round's reads and
// its commit cost about the same for more leads, and the one writer is the
// limit: rounds of 1000 instead of 500 took 155 instead of 164 µs of CPU
// per interaction at 10,000 interactions/s and kept lag max near 1 s
// instead of 2 s (bench/README.md, "Ninth round"). On PostgreSQL rounds of
// 1000 left some leads waiting 45–60 s under a load it could not keep up
// with, where rounds of 500 kept them within 4–10 s.
func (x scoringStore) RoundSize() int {
	if x.s.Dialect.SingleNode {
		return 1000
	}
	return 500
}

// ProcessDue implements leadcycle.ScoringStore.
func (x scoringStore) ProcessDue(ctx context.Context, max int) (int, error) {
	models, err := x.s.liveModels(ctx)
	if err != nil {
		return 0, err
	}
	n, err := x.s.processQueue(ctx, models, max)
	if err != nil {
		return n, err
	}
	m, err := x.s.rescoreStep(ctx, models, max)
	return n + m, err
}

// liveModels returns the compiled live models.
func (s *Store) liveModels(ctx context.Context) ([]*scoring.Model, error) {
	rows, err := s.QueryQ(ctx, s.R, s.scoringModels.selectSQL+" WHERE status = ? ORDER BY id", leadcycle.ModelLive)
	if err != nil {
		return nil, fmt.Errorf("live models: %w", err)
	}
	defs, err := scanAll(rows, scanRecord(scoringModelTable))
	if err != nil {
		return nil, err
	}
	out := make([]*scoring.Model, 0, len(defs))
	for i := range defs {
		cm, err := s.models.get(ctx, s.DB, &defs[i])
		if err != nil {
			return nil, err
		}
		out = append(out, cm)
	}
	return out, nil
}

// processQueue claims due queue entries (and, on a single-node database,
// the next range of new interactions) and rescores their leads: it reads
// and scores the batch, then writes the results in one transaction.
func (s *Store) processQueue(ctx context.Context, models []*scoring.Model, max int) (n int, err error) {
	readsDone := s.DB.backgroundRead()
	defer readsDone()
	now, claimed, tail, err := s.takeWork(ctx, max)
	if err != nil {
		return 0, err
	}
	if len(claimed) == 0 && (tail == nil || tail.empty()) {
		return 0, nil
	}
	committed := false
	defer func() {
		s.release(claimed)
		s.releaseTail(tail, committed)
		if err != nil {
			s.unclaim(claimed)
		}
		if tail != nil && tail.done != nil {
			close(tail.done) // the next round may write
		}
	}()
	if tail != nil {
		if err := tail.resolve(ctx, s, claimed, readTypes(models)); err != nil {
			return 0, err
		}
	}
	ids := leadIDsOf(claimed)
	causes := make(map[leadcycle.ID]string, len(claimed))
	for _, c := range claimed {
		causes[leadcycle.ID(c.leadID)] = c.cause
	}
	if tail != nil {
		leads := tail.leads()
		ids = append(ids, leads...)
		for _, id := range leads {
			causes[leadcycle.ID(id)] = tail.cause(id)
		}
	}
	p := newPlan(now)
	if len(models) > 0 && len(ids) > 0 {
		how := batchRead{scores: true, live: true}
		if tail != nil {
			how.read = tail.read
		}
		b, err := s.loadBatch(ctx, s.P, ids, models, now, how)
		if err != nil {
			return 0, err
		}
		for _, l := range b.leads {
			p.scoreLead(b, l, models, causes[l.ID])
		}
	}
	readsDone()
	if tail != nil {
		tail.planWaits(now)
		// Rounds commit in the order they took their work (see tailWork).
		select {
		case <-tail.after:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	var pos int64
	err = s.InTxRetry(ctx, func(tx *sql.Tx) error {
		if err := lockQueued(ctx, s.DB, tx, claimed); err != nil {
			return err
		}
		if err := p.write(ctx, s.DB, tx); err != nil {
			return err
		}
		if err := p.settle(ctx, s.DB, tx, claimed); err != nil {
			return err
		}
		if tail != nil {
			var err error
			pos, err = p.settleTail(ctx, s, tx, tail)
			return err
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	committed = true
	done := s.Clock.Now()
	for _, c := range claimed {
		s.observeLag(done.Sub(c.enqueued))
	}
	n = len(claimed)
	if tail != nil {
		s.tailStored(pos)
		for _, at := range tail.since {
			s.observeLag(done.Sub(at))
		}
		for _, wl := range tail.waited {
			s.observeLag(done.Sub(wl.at))
		}
		n += len(tail.items) + len(tail.waited)
	}
	return n, nil
}

// takeWork takes a round's work: the clock reading the round scores at, due
// queue entries, and on a single-node database the next range of new
// interactions, one round at a time (see tailWork).
func (s *Store) takeWork(ctx context.Context, max int) (time.Time, []queued, *tailWork, error) {
	if !s.Dialect.SingleNode {
		now := s.Clock.Now()
		claimed, err := s.claim(ctx, now, max)
		return now, claimed, nil, err
	}
	s.DB.tail.round.Lock()
	defer s.DB.tail.round.Unlock()
	now := s.Clock.Now()
	claimed, err := s.claim(ctx, now, max)
	if err != nil {
		return now, nil, nil, err
	}
	tail, err := s.takeTailWork(ctx, now, max)
	if err != nil {
		s.release(claimed)
		s.releaseTail(tail, false)
		return now, nil, nil, err
	}
	if len(claimed) > 0 || !tail.empty() {
		tail.after, tail.done = s.DB.tail.nextTurn()
	}
	return now, claimed, tail, nil
}

// claim takes up to max due queue entries for claimLease.
func (s *Store) claim(ctx context.Context, now time.Time, max int) ([]queued, error) {
	if s.Dialect.SingleNode {
		return s.claimLocal(ctx, now, max)
	}
	var out []queued
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := s.QueryQ(ctx, tx, `UPDATE score_queue SET claimed_until = ? WHERE lead_id IN (
			SELECT lead_id FROM score_queue WHERE due_at <= ? AND claimed_until < ? ORDER BY due_at LIMIT ?`+s.Dialect.SkipLocked+`)
			RETURNING lead_id, seq, cause, enqueued_at`, micros(now.Add(claimLease)), micros(now), micros(now), max)
		if err != nil {
			return fmt.Errorf("claim scoring queue: %w", err)
		}
		out, err = scanAll(rows, func(r scanner) (queued, error) {
			var q queued
			return q, r.Scan(&q.leadID, &q.seq, &q.cause, timeCol{&q.enqueued})
		})
		return err
	})
	return out, err
}

// claimLocal claims in memory: a database that serves one process needs no
// leases in its rows, and saves a write per lead.
func (s *Store) claimLocal(ctx context.Context, now time.Time, max int) ([]queued, error) {
	s.claims.mu.Lock()
	defer s.claims.mu.Unlock()
	rows, err := s.QueryQ(ctx, s.P, "SELECT lead_id, seq, cause, enqueued_at FROM score_queue WHERE due_at <= ? ORDER BY due_at LIMIT ?",
		micros(now), max+len(s.claims.ids))
	if err != nil {
		return nil, fmt.Errorf("claim scoring queue: %w", err)
	}
	all, err := scanAll(rows, func(r scanner) (queued, error) {
		var q queued
		return q, r.Scan(&q.leadID, &q.seq, &q.cause, timeCol{&q.enqueued})
	})
	if err != nil {
		return nil, fmt.Errorf("claim scoring queue: %w", err)
	}
	if s.claims.ids == nil {
		s.claims.ids = map[int64]bool{}
	}
	out := all[:0]
	for _, q := range all {
		if !s.claims.ids[q.leadID] && len(out) < max {
			s.claims.ids[q.leadID] = true
			out = append(out, q)
		}
	}
	return out, nil
}

// release ends in-memory claims.
func (s *Store) release(claimed []queued) {
	if s.Dialect.SingleNode {
		s.claims.drop(leadIDsOf(claimed))
	}
}

// unclaim gives claimed entries back at once after a failed round, instead
// of when their lease ends.
func (s *Store) unclaim(claimed []queued) {
	if !s.Dialect.SingleNode {
		s.freeClaims("score_queue", "lead_id", leadIDsOf(claimed))
	}
}

func leadIDsOf(claimed []queued) []int64 {
	ids := make([]int64, len(claimed))
	for i, q := range claimed {
		ids[i] = q.leadID
	}
	return ids
}

// rescoreStep advances one running rescore job by a batch of leads.
func (s *Store) rescoreStep(ctx context.Context, models []*scoring.Model, max int) (int, error) {
	// One loop of this process works on rescore jobs at a time; the others
	// keep the queue moving instead of reading a batch that would be stale.
	if !s.rescoring.TryLock() {
		return 0, nil
	}
	defer s.rescoring.Unlock()
	now := s.Clock.Now()
	for _, cm := range models {
		if cm.Def.Rescore.State != leadcycle.RescoreRunning {
			continue
		}
		lease := micros(now.Add(claimLease))
		mine := s.leases.Load(cm.Def.ID)
		var cursor int64
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			// Take the job if its lease expired or is ours.
			res, err := s.ExecQ(ctx, tx, "UPDATE scoring_models SET rescore_lease = ? WHERE id = ? AND rescore_state = ? AND (rescore_lease < ? OR rescore_lease = ?)",
				lease, int64(cm.Def.ID), leadcycle.RescoreRunning, micros(now), mine)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				cursor = -1
				return nil
			}
			return s.QueryRowQ(ctx, tx, "SELECT rescore_cursor FROM scoring_models WHERE id = ?", int64(cm.Def.ID)).Scan(&cursor)
		})
		if err != nil {
			return 0, fmt.Errorf("rescore: %w", err)
		}
		if cursor < 0 {
			continue
		}
		s.leases.Store(cm.Def.ID, lease)
		return s.rescorePipeline(ctx, cm, cursor, max)
	}
	return 0, nil
}

// rescoreBatches is how many batches one rescore step works through: the
// step holds the job's lease, and the worker's other loop keeps the queue
// moving meanwhile.
const rescoreBatches = 8

// rescorePipeline scores up to rescoreBatches batches of leads after cursor
// under one model. The next batch is read and scored (on the reader pool)
// while the previous one is written (on the writer), so the two cores share
// the work. It returns how many leads it looked at.
func (s *Store) rescorePipeline(ctx context.Context, cm *scoring.Model, cursor int64, max int) (int, error) {
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	ready := make(chan *rescorePlan, 1)
	go func() {
		defer close(ready)
		from := cursor
		for range rescoreBatches {
			rp := s.prepareRescore(rctx, cm, from, max)
			select {
			case ready <- rp:
			case <-rctx.Done():
				return
			}
			if rp.err != nil || rp.done {
				return
			}
			from = rp.last
		}
	}()
	total := 0
	for rp := range ready {
		if rp.err != nil {
			return total, rp.err
		}
		n, err := s.commitRescore(ctx, cm, rp)
		total += n
		if err != nil || n == 0 || rp.done {
			return total, err // n == 0: another loop did this batch
		}
	}
	return total, nil
}

// rescorePlan is one batch of a rescore job, read and scored.
type rescorePlan struct {
	cursor, last int64 // the job's cursor before and after the batch
	found        int   // leads looked at
	done         bool  // the batch reached the last lead
	p            *plan
	err          error
}

// prepareRescore reads and scores the leads after cursor under one model,
// writing nothing.
func (s *Store) prepareRescore(ctx context.Context, cm *scoring.Model, cursor int64, max int) *rescorePlan {
	type leadRow struct {
		id                     int64
		hasContact, hasAccount bool
	}
	now := s.Clock.Now()
	rp := &rescorePlan{cursor: cursor, last: cursor}
	rows, err := s.QueryQ(ctx, s.R, "SELECT id, contact_id IS NOT NULL, account_id IS NOT NULL FROM leads WHERE id > ? ORDER BY id LIMIT ?", cursor, max)
	if err != nil {
		rp.err = fmt.Errorf("rescore: %w", err)
		return rp
	}
	found, err := scanAll(rows, func(r scanner) (leadRow, error) {
		var l leadRow
		return l, r.Scan(&l.id, &l.hasContact, &l.hasAccount)
	})
	if err != nil {
		rp.err = err
		return rp
	}
	rp.found, rp.done = len(found), len(found) < max
	if len(found) > 0 {
		rp.last = found[len(found)-1].id
	}
	// A model without applies_to holds for every lead: the leads its target
	// cannot score are only counted, not read.
	def := cm.Def
	ids := make([]int64, 0, len(found))
	skipped := 0
	for _, l := range found {
		scorable := l.hasContact
		if def.Target == leadcycle.TargetAccount {
			scorable = l.hasAccount && !l.hasContact
		}
		if scorable || def.AppliesTo != "" {
			ids = append(ids, l.id)
		} else {
			skipped++
		}
	}
	models := []*scoring.Model{cm}
	b, err := s.loadBatch(ctx, s.R, ids, models, now, batchRead{scores: true})
	if err != nil {
		rp.err = err
		return rp
	}
	cause := fmt.Sprintf("model %s v%d published", def.Key, def.Version)
	rp.p = newPlan(now)
	rp.p.unscorable = skipped
	for _, l := range b.leads {
		rp.p.scoreLead(b, l, models, cause)
	}
	return rp
}

// commitRescore writes a prepared batch and the job's progress in one
// transaction; it returns 0 when another loop already did the batch.
func (s *Store) commitRescore(ctx context.Context, cm *scoring.Model, rp *rescorePlan) (int, error) {
	def, p := cm.Def, rp.p
	stale := false
	lease := micros(s.Clock.Now().Add(claimLease))
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		state, finished := leadcycle.RescoreRunning, any(nil)
		if rp.done {
			state, finished = leadcycle.RescoreDone, micros(p.now)
		}
		// The progress moves only from the cursor this batch started at: a
		// second loop that read the same cursor writes nothing. Each batch
		// renews the job's lease.
		res, err := s.ExecQ(ctx, tx, `UPDATE scoring_models SET rescore_cursor = ?, rescore_done = rescore_done + ?, rescore_scored = rescore_scored + ?,
			rescore_unscorable = rescore_unscorable + ?, rescore_state = ?, rescore_finished_at = ?, rescore_lease = ? WHERE id = ? AND status = ? AND rescore_cursor = ?`,
			rp.last, rp.found, p.scored, p.unscorable, state, finished, lease, int64(def.ID), leadcycle.ModelLive, rp.cursor)
		if err != nil {
			return fmt.Errorf("rescore progress: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			stale = true
			return errStale
		}
		if err := p.write(ctx, s.DB, tx); err != nil {
			return err
		}
		if err := p.scheduleAll(ctx, s.DB, tx); err != nil {
			return err
		}
		if rp.done && def.PreviousVersionID != nil {
			return clearModelScores(ctx, s.DB, tx, *def.PreviousVersionID, fmt.Sprintf("replaced by model %s v%d", def.Key, def.Version), p.now)
		}
		return nil
	})
	if stale {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	s.leases.Store(def.ID, lease)
	return rp.found, nil
}

// errStale rolls back a rescore batch that another loop already did.
var errStale = errors.New("rescore batch already done")

// storedScore is a lead's current score under one model.
type storedScore struct {
	score int64
	grade string
	rules string
}

// scoreKey identifies a lead's score under a model.
type scoreKey struct{ lead, model leadcycle.ID }

// plan is what scoring a batch decided, computed before the write
// transaction so that the single writer is held only to write.
type plan struct {
	now     time.Time
	upserts [][]any // lead_scores rows
	ledger  [][]any // score_ledger rows
	removes []scoreKey
	marks   []mark
	firsts  []first             // leads scored for the first time
	next    map[int64]time.Time // when each lead's scores change with time alone

	scored, unscorable int
}

// first is a lead's first score under any model: the business process
// reacts to it (Inquiry → Automated marketing qualification).
type first struct {
	lead  *leadcycle.Lead
	model *leadcycle.ScoringModel
	score int64
	grade string
}

// mark is a lead reaching a live model's threshold.
type mark struct {
	lead             *leadcycle.Lead
	flag, event      string
	model            *leadcycle.ScoringModel
	score, threshold int64
}

func newPlan(now time.Time) *plan { return &plan{now: now, next: map[int64]time.Time{}} }

// scoreLead scores one lead under every model and records what to write.
func (p *plan) scoreLead(b *batch, l *leadcycle.Lead, models []*scoring.Model, cause string) {
	counted := false
	for _, cm := range models {
		res := cm.Score(b.subject(l, cm), p.now)
		if t := res.NextChange; !t.IsZero() {
			if cur, ok := p.next[int64(l.ID)]; !ok || t.Before(cur) {
				p.next[int64(l.ID)] = t
			}
		}
		key := scoreKey{l.ID, cm.Def.ID}
		old, had := b.scores[key]
		if !res.Applies || !res.Scorable {
			if res.Applies && !counted {
				p.unscorable++
				counted = true
			}
			if had {
				p.removes = append(p.removes, key)
				p.ledger = append(p.ledger, []any{int64(key.lead), int64(key.model), old.score, nil, old.grade, "", cause + "; the model no longer scores this lead", micros(p.now)})
			}
			continue
		}
		if !counted {
			p.scored++
			counted = true
		}
		rules := rulesJSON(res.Rules)
		if !had || old.score != res.Score || old.grade != res.Grade || old.rules != rules {
			p.upserts = append(p.upserts, []any{int64(key.lead), int64(key.model), res.Score, res.Grade, rules, micros(p.now)})
		}
		if !had && !b.scored[l.ID] && l.Status == leadcycle.LeadOpen && cm.Def.Status == leadcycle.ModelLive {
			p.firsts = append(p.firsts, first{l, cm.Def, res.Score, res.Grade})
			b.scored[l.ID] = true
		}
		if !had || old.score != res.Score || old.grade != res.Grade {
			var oldScore any
			if had {
				oldScore = old.score
			}
			p.ledger = append(p.ledger, []any{int64(key.lead), int64(key.model), oldScore, res.Score, old.grade, res.Grade, cause, micros(p.now)})
		}
		p.qualify(l, cm.Def, res.Score)
	}
}

// qualify records that an open lead reached a live model's sales-ready (or
// telesales-ready) threshold.
func (p *plan) qualify(l *leadcycle.Lead, m *leadcycle.ScoringModel, score int64) {
	if m.Status != leadcycle.ModelLive || l.Status != leadcycle.LeadOpen {
		return
	}
	if t := m.SalesReadyThreshold; t != nil && score >= *t && !l.SalesReady {
		p.marks = append(p.marks, mark{l, "sales_ready", leadcycle.EventLeadSalesReady, m, score, *t})
		l.SalesReady = true
	}
	if t := m.TelesalesReadyThreshold; t != nil && score >= *t && !l.TelesalesReady && !l.SalesReady {
		p.marks = append(p.marks, mark{l, "telesales_ready", leadcycle.EventLeadTelesalesReady, m, score, *t})
		l.TelesalesReady = true
	}
}

// byKey orders rows whose first columns are ids, so that rows are locked in
// the same order by every transaction.
func byKey(a, b []any) int {
	for i := 0; i < 2 && i < len(a); i++ {
		x, y := a[i].(int64), b[i].(int64)
		if x != y {
			return cmp.Compare(x, y)
		}
	}
	return 0
}

// write applies the plan in tx.
func (p *plan) write(ctx context.Context, db *DB, tx *sql.Tx) error {
	if err := p.dropVanished(ctx, db, tx); err != nil {
		return err
	}
	slices.SortFunc(p.upserts, byKey)
	slices.SortFunc(p.removes, func(a, b scoreKey) int {
		return cmp.Or(cmp.Compare(a.lead, b.lead), cmp.Compare(a.model, b.model))
	})
	// A plan never overwrites a score computed after it read its leads (a
	// rescore job racing the queue): such rows are skipped, and so are their
	// ledger entries.
	applied := map[scoreKey]bool{}
	for chunk := range chunks(p.upserts) {
		rows, err := db.QueryQ(ctx, tx, "INSERT INTO lead_scores (lead_id, model_id, score, grade, rules, computed_at) VALUES "+valueMarks(len(chunk), len(chunk[0]))+
			` ON CONFLICT (lead_id, model_id) DO UPDATE SET score = excluded.score, grade = excluded.grade, rules = excluded.rules, computed_at = excluded.computed_at
			WHERE lead_scores.computed_at <= excluded.computed_at RETURNING lead_id, model_id`, flatten(chunk)...)
		if err != nil {
			return fmt.Errorf("write scores: %w", err)
		}
		keys, err := scanAll(rows, func(r scanner) (scoreKey, error) {
			var k scoreKey
			return k, r.Scan(idCol{&k.lead}, idCol{&k.model})
		})
		if err != nil {
			return fmt.Errorf("write scores: %w", err)
		}
		for _, k := range keys {
			applied[k] = true
		}
	}
	for _, k := range p.removes {
		res, err := db.ExecQ(ctx, tx, "DELETE FROM lead_scores WHERE lead_id = ? AND model_id = ? AND computed_at <= ?", int64(k.lead), int64(k.model), micros(p.now))
		if err != nil {
			return fmt.Errorf("remove score: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			applied[k] = true
		}
	}
	ledger := p.ledger[:0:0]
	for _, row := range p.ledger {
		if applied[scoreKey{leadcycle.ID(row[0].(int64)), leadcycle.ID(row[1].(int64))}] {
			ledger = append(ledger, row)
		}
	}
	if err := execRows(ctx, db, tx, "INSERT INTO score_ledger (lead_id, model_id, old_score, new_score, old_grade, new_grade, cause, at) VALUES ", "", ledger); err != nil {
		return fmt.Errorf("write score ledger: %w", err)
	}
	// First scores are events the business process reacts to (Inquiry →
	// Automated marketing qualification), written in multi-row statements:
	// publishing a first model gives every lead one.
	var firsts [][]any
	for _, f := range p.firsts {
		if !applied[scoreKey{f.lead.ID, f.model.ID}] {
			continue
		}
		payload := map[string]any{"model_id": f.model.ID, "model_key": f.model.Key, "model_version": f.model.Version, "score": f.score, "grade": f.grade,
			"reason": fmt.Sprintf("first score %d under model %s v%d", f.score, f.model.Key, f.model.Version)}
		firsts = append(firsts, []any{leadcycle.EventLeadScored, int64(f.lead.ID), nullID(f.lead.ContactID), jsonText(payload),
			fmt.Sprintf("scoring model %s v%d", f.model.Key, f.model.Version), micros(p.now), true, true})
	}
	if err := execRows(ctx, db, tx, "INSERT INTO outbox (type, lead_id, contact_id, payload, actor, at, workflow_pending, webhooks_pending) VALUES ", "", firsts); err != nil {
		return fmt.Errorf("write first-score events: %w", err)
	}
	for _, m := range p.marks {
		if err := m.write(ctx, db, tx, p.now); err != nil {
			return err
		}
	}
	// Segments read scores and the marks: the contacts of the leads
	// changed are evaluated again.
	changed := make([]int64, 0, len(applied)+len(p.marks))
	for k := range applied {
		changed = append(changed, int64(k.lead))
	}
	for _, m := range p.marks {
		changed = append(changed, int64(m.lead.ID))
	}
	return enqueueLeadContacts(ctx, db, tx, "leads", changed)
}

// dropVanished leaves out the leads deleted since the plan read them (a
// delete, an erasure): their scores, ledger entries and events would point
// at nothing. The leads still there are locked against deletion until the
// transaction ends (PostgreSQL), so a delete that comes meanwhile waits and
// then removes what the plan wrote.
func (p *plan) dropVanished(ctx context.Context, db *DB, tx *sql.Tx) error {
	ids := p.leadIDs()
	if len(ids) == 0 {
		return nil
	}
	rows, err := db.QueryQ(ctx, tx, "SELECT id FROM leads WHERE "+db.Dialect.InIDs("id")+" ORDER BY id"+db.Dialect.ForKeyShare, db.Dialect.IDsArg(ids))
	if err != nil {
		return fmt.Errorf("leads still there: %w", err)
	}
	found, err := scanAll(rows, func(r scanner) (int64, error) { var id int64; return id, r.Scan(&id) })
	if err != nil || len(found) == len(ids) {
		return err
	}
	live := make(map[int64]bool, len(found))
	for _, id := range found {
		live[id] = true
	}
	keep := func(row []any) bool { return live[row[0].(int64)] }
	p.upserts = slices.DeleteFunc(p.upserts, func(row []any) bool { return !keep(row) })
	p.ledger = slices.DeleteFunc(p.ledger, func(row []any) bool { return !keep(row) })
	p.removes = slices.DeleteFunc(p.removes, func(k scoreKey) bool { return !live[int64(k.lead)] })
	p.firsts = slices.DeleteFunc(p.firsts, func(f first) bool { return !live[int64(f.lead.ID)] })
	p.marks = slices.DeleteFunc(p.marks, func(m mark) bool { return !live[int64(m.lead.ID)] })
	maps.DeleteFunc(p.next, func(id int64, _ time.Time) bool { return !live[id] })
	return nil
}

// leadIDs returns the leads the plan writes about or schedules, each once.
func (p *plan) leadIDs() []int64 {
	var ids []int64
	for _, rows := range [][][]any{p.upserts, p.ledger} {
		for _, row := range rows {
			ids = append(ids, row[0].(int64))
		}
	}
	for _, k := range p.removes {
		ids = append(ids, int64(k.lead))
	}
	for _, f := range p.firsts {
		ids = append(ids, int64(f.lead.ID))
	}
	for _, m := range p.marks {
		ids = append(ids, int64(m.lead.ID))
	}
	for id := range p.next {
		ids = append(ids, id)
	}
	if len(ids) == 0 {
		return nil
	}
	return uniqueIDs(ids)
}

// write marks the lead and records the event, once: the conditional update
// makes a second worker scoring the same lead at the same time do nothing.
func (m mark) write(ctx context.Context, db *DB, tx *sql.Tx, now time.Time) error {
	res, err := db.ExecQ(ctx, tx, "UPDATE leads SET "+m.flag+" = ?, updated_at = ? WHERE id = ? AND "+m.flag+" = ? AND status = ?",
		true, micros(now), int64(m.lead.ID), false, leadcycle.LeadOpen)
	if err != nil {
		return fmt.Errorf("mark %s: %w", m.flag, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another worker marked it, or the lead was closed meanwhile
	}
	what := strings.ReplaceAll(m.flag, "_", " ")
	payload := map[string]any{"model_id": m.model.ID, "model_key": m.model.Key, "model_version": m.model.Version, "score": m.score, "threshold": m.threshold,
		"reason": fmt.Sprintf("score %d under model %s v%d reached the %s threshold %d", m.score, m.model.Key, m.model.Version, what, m.threshold)}
	actor := fmt.Sprintf("scoring model %s v%d", m.model.Key, m.model.Version)
	if err := writeEvent(ctx, db, tx, leadcycle.Occurrence{Type: m.event, LeadID: leadcycle.IDPtr(m.lead.ID), ContactID: m.lead.ContactID, Payload: payload, Actor: actor, At: now}); err != nil {
		return err
	}
	return enqueueLeads(ctx, db, tx, "lead "+m.lead.ID.String()+" marked "+what, "l.id = ?", int64(m.lead.ID))
}

// lockQueued locks the queue entries of the claimed leads, in id order,
// before the round writes anything: the round's statements then change
// only rows it holds, so a writer queueing leads (which locks them in id
// order too) cannot hold one the round waits for while waiting for one the
// round holds. Single-writer databases need no row locks.
func lockQueued(ctx context.Context, db *DB, tx *sql.Tx, claimed []queued) error {
	if db.Dialect.ForUpdate == "" || len(claimed) == 0 {
		return nil
	}
	rows, err := db.QueryQ(ctx, tx, "SELECT lead_id FROM score_queue WHERE "+db.Dialect.InIDs("lead_id")+" ORDER BY lead_id"+db.Dialect.ForUpdate, db.Dialect.IDsArg(uniqueIDs(leadIDsOf(claimed))))
	if err != nil {
		return fmt.Errorf("lock scoring queue: %w", err)
	}
	_, err = scanAll(rows, func(r scanner) (int64, error) { var id int64; return id, r.Scan(&id) })
	return err
}

// settle removes the processed queue entries that nothing re-enqueued
// meanwhile (the others are released for the next round) and schedules the
// next change of each lead.
func (p *plan) settle(ctx context.Context, db *DB, tx *sql.Tx, claimed []queued) error {
	claimed = slices.Clone(claimed)
	slices.SortFunc(claimed, func(a, b queued) int { return cmp.Compare(a.leadID, b.leadID) })
	pairs := make([][]any, len(claimed))
	for i, c := range claimed {
		pairs[i] = []any{c.leadID, c.seq}
	}
	deleted := map[int64]bool{}
	for chunk := range chunks(pairs) {
		rows, err := db.QueryQ(ctx, tx, "DELETE FROM score_queue WHERE (lead_id, seq) IN (VALUES "+strings.Repeat("(CAST(? AS BIGINT), CAST(? AS BIGINT)), ", len(chunk)-1)+"(CAST(? AS BIGINT), CAST(? AS BIGINT))) RETURNING lead_id", flatten(chunk)...)
		if err != nil {
			return fmt.Errorf("settle scoring queue: %w", err)
		}
		gone, err := scanAll(rows, func(r scanner) (int64, error) { var id int64; return id, r.Scan(&id) })
		if err != nil {
			return fmt.Errorf("settle scoring queue: %w", err)
		}
		for _, id := range gone {
			deleted[id] = true
		}
	}
	var release []int64
	var schedule [][]any
	for _, c := range claimed {
		if !deleted[c.leadID] {
			release = append(release, c.leadID)
		} else if t, ok := p.next[c.leadID]; ok {
			schedule = append(schedule, nextChangeRow(c.leadID, t))
		}
	}
	// An entry re-enqueued meanwhile stays for the next round. What was
	// enqueued before this batch was read is scored now, so its wait restarts
	// at the batch's start.
	if len(release) > 0 {
		// The rows are locked in id order, as every other writer of the
		// queue locks them (on PostgreSQL an UPDATE by a list locks in the
		// order it finds the rows, and deadlocked against AddInteractions).
		if _, err := db.ExecQ(ctx, tx, "UPDATE score_queue SET claimed_until = 0, enqueued_at = CASE WHEN enqueued_at < ? THEN ? ELSE enqueued_at END WHERE lead_id IN (SELECT lead_id FROM score_queue WHERE "+
			db.Dialect.InIDs("lead_id")+" ORDER BY lead_id"+db.Dialect.ForUpdate+")", micros(p.now), micros(p.now), db.Dialect.IDsArg(release)); err != nil {
			return fmt.Errorf("release scoring queue: %w", err)
		}
	}
	return p.schedule(ctx, db, tx, schedule)
}

// scheduleAll queues every lead with a next change (for rescore jobs).
func (p *plan) scheduleAll(ctx context.Context, db *DB, tx *sql.Tx) error {
	var rows [][]any
	for id, t := range p.next {
		rows = append(rows, nextChangeRow(id, t))
	}
	slices.SortFunc(rows, byKey)
	return p.schedule(ctx, db, tx, rows)
}

// nextChangeRow is the queue row (lead, due, seq, cause, enqueued) that
// scores a lead again when its score changes with time alone, at t.
func nextChangeRow(lead int64, t time.Time) []any {
	return []any{lead, micros(t), rand.Int64(), "score changes with time", micros(t)}
}

// enqueueConflict is enqueueSQL's conflict clause.
var enqueueConflict = strings.TrimPrefix(enqueueSQL, "INSERT INTO score_queue (lead_id, due_at, seq, cause, enqueued_at, claimed_until) {sel}")

// schedule queues rows (lead, due, seq, cause, enqueued), or moves their
// entries earlier.
func (p *plan) schedule(ctx context.Context, db *DB, tx *sql.Tx, rows [][]any) error {
	return p.queueRows(ctx, db, tx, enqueueConflict, rows)
}

// scheduleEarlier is schedule that leaves an entry due no later alone: its
// sequence stays, so the round that claimed it (if one did) settles it.
func (p *plan) scheduleEarlier(ctx context.Context, db *DB, tx *sql.Tx, rows [][]any) error {
	return p.queueRows(ctx, db, tx, enqueueConflict+" WHERE excluded.due_at < score_queue.due_at", rows)
}

func (p *plan) queueRows(ctx context.Context, db *DB, tx *sql.Tx, suffix string, rows [][]any) error {
	for i := range rows {
		rows[i] = append(rows[i], 0)
	}
	if err := execRows(ctx, db, tx, "INSERT INTO score_queue (lead_id, due_at, seq, cause, enqueued_at, claimed_until) VALUES ", suffix, rows); err != nil {
		return fmt.Errorf("schedule scoring: %w", err)
	}
	return nil
}

// Multi-row statements: rows go in chunks of 64, 16, 4 or 1, so that a few
// statement shapes serve any batch and stay prepared.
var chunkSizes = []int{64, 16, 4, 1}

func chunks(rows [][]any) func(yield func([][]any) bool) {
	return func(yield func([][]any) bool) {
		for len(rows) > 0 {
			n := 1
			for _, c := range chunkSizes {
				if len(rows) >= c {
					n = c
					break
				}
			}
			if !yield(rows[:n]) {
				return
			}
			rows = rows[n:]
		}
	}
}

func valueMarks(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

func flatten(rows [][]any) []any {
	out := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		out = append(out, r...)
	}
	return out
}

// execRows runs prefix + VALUES rows + suffix in chunks.
func execRows(ctx context.Context, db *DB, tx *sql.Tx, prefix, suffix string, rows [][]any) error {
	for chunk := range chunks(rows) {
		if _, err := db.ExecQ(ctx, tx, prefix+valueMarks(len(chunk), len(chunk[0]))+suffix, flatten(chunk)...); err != nil {
			return err
		}
	}
	return nil
}

// batch holds everything needed to score a set of leads.
type batch struct {
	leads     []*leadcycle.Lead
	contacts  map[leadcycle.ID]*leadcycle.Contact
	accounts  map[leadcycle.ID]*leadcycle.Account
	byContact map[leadcycle.ID][]leadcycle.Interaction
	byAccount map[leadcycle.ID][]leadcycle.Interaction
	scores    map[scoreKey]storedScore
	// scored holds the leads with a score under any model.
	scored map[leadcycle.ID]bool
}

// subject assembles what model cm scores for lead l.
func (b *batch) subject(l *leadcycle.Lead, cm *scoring.Model) scoring.Subject {
	s := scoring.Subject{Lead: l}
	if l.ContactID != nil {
		s.Contact = b.contacts[*l.ContactID]
	}
	if l.AccountID != nil {
		s.Account = b.accounts[*l.AccountID]
	} else if s.Contact != nil && s.Contact.AccountID != nil {
		s.Account = b.accounts[*s.Contact.AccountID]
	}
	if cm == nil {
		return s
	}
	if cm.Def.Target == leadcycle.TargetAccount {
		if l.AccountID != nil {
			s.Interactions = b.byAccount[*l.AccountID]
		}
	} else if l.ContactID != nil {
		s.Interactions = b.byContact[*l.ContactID]
	}
	return s
}

// loadBatch reads the leads with ids, their contacts and accounts, their
// current scores and the interactions the models need.
// batchRead says what loadBatch reads, and how.
type batchRead struct {
	// scores reads the leads' stored scores too.
	scores bool
	// live is set by the real-time rounds, which score every live model at
	// once: on a single-node database they read each contact's whole
	// history in one range and take account histories from memory (see
	// accountHistory). A rescore job scores one model, whose few types are
	// cheaper read one range each.
	live bool
	// read holds leads of ids read already, in the same round.
	read map[int64]*leadcycle.Lead
}

func (s *Store) loadBatch(ctx context.Context, q querier, ids []int64, models []*scoring.Model, now time.Time, how batchRead) (*batch, error) {
	b := &batch{contacts: map[leadcycle.ID]*leadcycle.Contact{}, accounts: map[leadcycle.ID]*leadcycle.Account{},
		byContact: map[leadcycle.ID][]leadcycle.Interaction{}, byAccount: map[leadcycle.ID][]leadcycle.Interaction{}, scores: map[scoreKey]storedScore{},
		scored: map[leadcycle.ID]bool{}}
	var unread []int64
	for _, id := range uniqueIDs(slices.Clone(ids)) {
		if l := how.read[id]; l != nil {
			b.leads = append(b.leads, l)
		} else {
			unread = append(unread, id)
		}
	}
	leads, err := selectByIDs(ctx, s, q, s.leads, "id", unread)
	if err != nil {
		return nil, err
	}
	for i := range leads {
		b.leads = append(b.leads, &leads[i])
	}
	var contactIDs, accountIDs, contactTargets, accountTargets []int64
	for _, l := range b.leads {
		l.Normalize()
		if l.ContactID != nil {
			contactIDs = append(contactIDs, int64(*l.ContactID))
		}
		if l.AccountID != nil {
			accountIDs = append(accountIDs, int64(*l.AccountID))
		}
	}
	contacts, err := selectByIDs(ctx, s, q, s.contacts, "id", contactIDs)
	if err != nil {
		return nil, err
	}
	for i := range contacts {
		b.contacts[contacts[i].ID] = &contacts[i]
		if a := contacts[i].AccountID; a != nil {
			accountIDs = append(accountIDs, int64(*a))
		}
	}
	accounts, err := selectByIDs(ctx, s, q, s.accounts, "id", accountIDs)
	if err != nil {
		return nil, err
	}
	for i := range accounts {
		b.accounts[accounts[i].ID] = &accounts[i]
	}
	// Each target reads only what its own models look at.
	var contactModels, accountModels []*scoring.Model
	for _, cm := range models {
		if cm.Def.Target == leadcycle.TargetAccount {
			accountModels = append(accountModels, cm)
			accountTargets = accountBasedIDs(b.leads)
		} else {
			contactModels = append(contactModels, cm)
			contactTargets = contactIDs
		}
	}
	addContact := func(o leadcycle.ID, i leadcycle.Interaction) { b.byContact[o] = append(b.byContact[o], i) }
	if how.live && s.Dialect.SingleNode {
		if err := s.loadContactInteractions(ctx, q, interactionNeeds(contactModels, now), contactTargets, addContact); err != nil {
			return nil, err
		}
	} else if err := s.loadInteractions(ctx, q, interactionNeeds(contactModels, now), "i.contact_id", "interactions i", contactTargets, addContact); err != nil {
		return nil, err
	}
	// Interactions carry their contact's account (kept in step when the
	// contact moves), so an account's history is one index range per type.
	addAccount := func(o leadcycle.ID, i leadcycle.Interaction) { b.byAccount[o] = append(b.byAccount[o], i) }
	if how.live && s.Dialect.SingleNode {
		if err := s.accountInteractions(ctx, q, interactionNeeds(accountModels, now), accountTargets, addAccount); err != nil {
			return nil, err
		}
	} else if err := s.loadInteractions(ctx, q, interactionNeeds(accountModels, now), "i.account_id", "interactions i", accountTargets, addAccount); err != nil {
		return nil, err
	}
	if how.scores && len(models) > 0 {
		if err := s.loadStoredScores(ctx, q, b, ids); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// accountBasedIDs returns the accounts of the account-based leads (a parent
// account and no parent contact).
func accountBasedIDs(leads []*leadcycle.Lead) []int64 {
	var out []int64
	for _, l := range leads {
		if l.AccountID != nil && l.ContactID == nil {
			out = append(out, int64(*l.AccountID))
		}
	}
	return out
}

// selectByIDs reads the records of a repo whose column is one of ids.
func selectByIDs[T leadcycle.Record](ctx context.Context, s *Store, q querier, r *repo[T], col string, ids []int64) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	ids = uniqueIDs(ids)
	rows, err := s.QueryQ(ctx, q, r.selectSQL+" WHERE "+s.Dialect.InIDs(col), s.Dialect.IDsArg(ids))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", r.t.name, err)
	}
	return scanAll(rows, scanRecord(r.t))
}

// needs says which interactions a set of models looks at: per type, since
// when (zero: all time), and since when a where filter reads their
// properties (absent: never).
type needs struct {
	since      map[string]time.Time
	propsSince map[string]time.Time
}

func interactionNeeds(models []*scoring.Model, now time.Time) needs {
	n := needs{since: map[string]time.Time{}, propsSince: map[string]time.Time{}}
	earliest := func(m map[string]time.Time, t string, from time.Time) {
		if cur, seen := m[t]; !seen || from.Before(cur) {
			m[t] = from
		}
	}
	for _, cm := range models {
		for _, r := range cm.Def.Rules {
			for _, b := range r.Behaviors {
				from := time.Time{}
				switch {
				case b.WindowDays != nil:
					from = now.Add(-time.Duration(*b.WindowDays) * 24 * time.Hour)
				case b.Since != nil:
					from = *b.Since
				}
				earliest(n.since, b.Type, from)
				if b.Where != "" {
					earliest(n.propsSince, b.Type, from)
				}
			}
		}
	}
	return n
}

// interactionQuery reads, per needed type, the interactions in its window of
// the owners given as the first placeholder of each part; owner names the
// owner column and from the tables. Properties are read only where a where
// filter looks: older interactions of the type come from the index alone.
// The arguments after each owner placeholder are returned in order.
func (s *Store) interactionQuery(n needs, owner, from string) (string, [][]any) {
	types := make([]string, 0, len(n.since))
	for t := range n.since {
		types = append(types, t)
	}
	slices.Sort(types)
	var parts []string
	var args [][]any
	part := func(t string, props bool, since, until int64) {
		cols := "NULL, NULL, NULL"
		if props {
			cols = "i.properties, i.lead_id, i.account_id"
		}
		parts = append(parts, "SELECT "+owner+", i.id, i.type, i.occurred_at, i.contact_id, "+cols+" FROM "+from+
			" WHERE "+s.Dialect.InIDs(owner)+" AND i.type = ? AND i.occurred_at >= ? AND i.occurred_at < ?")
		args = append(args, []any{t, since, until})
	}
	// Parts that read properties go first: PostgreSQL types a UNION pairwise
	// from the left, and two leading NULL columns would become text.
	const never = int64(1<<63 - 1)
	type span struct {
		typ          string
		since, until int64
	}
	var plain []span // the parts without properties
	for _, t := range types {
		since := micros(n.since[t])
		propsFrom, where := n.propsSince[t]
		switch {
		case !where:
			plain = append(plain, span{t, since, never})
		case micros(propsFrom) <= since:
			part(t, true, since, never)
		default:
			plain = append(plain, span{t, since, micros(propsFrom)})
			part(t, true, micros(propsFrom), never)
		}
	}
	for _, p := range plain {
		part(p.typ, false, p.since, p.until)
	}
	return strings.Join(parts, " UNION ALL "), args
}

// loadInteractions reads what n needs of the interactions of the owners
// (contacts, or the contacts of accounts) with the ids, passing each to add.
func (s *Store) loadInteractions(ctx context.Context, q querier, n needs, owner, from string, ids []int64, add func(owner leadcycle.ID, i leadcycle.Interaction)) error {
	if len(n.since) == 0 || len(ids) == 0 {
		return nil
	}
	query, parts := s.interactionQuery(n, owner, from)
	idsArg := s.Dialect.IDsArg(uniqueIDs(ids))
	var args []any
	for _, p := range parts {
		args = append(append(args, idsArg), p...)
	}
	rows, err := s.QueryQ(ctx, q, query, args...)
	if err != nil {
		return fmt.Errorf("load interactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i leadcycle.Interaction
		var owner leadcycle.ID
		var props []byte
		if err := rows.Scan(idCol{&owner}, idCol{&i.ID}, &i.Type, timeCol{&i.OccurredAt}, idCol{&i.ContactID}, &props, nullIDCol{&i.LeadID}, nullIDCol{&i.AccountID}); err != nil {
			return fmt.Errorf("load interactions: %w", err)
		}
		if props != nil {
			if err := (jsonCol{&i.Properties}).Scan(props); err != nil {
				return err
			}
		}
		add(owner, i)
	}
	return rows.Err()
}

// loadContactInteractions is loadInteractions for contacts in the real-time
// rounds on SQLite: one index range per contact, every type, instead of one
// per contact and type. A contact's history is short, and one seek per
// contact costs less than one per type; the types and times the models do
// not use are dropped here. Properties (and the row's lead and account) are read from the table
// only for the rows a where filter looks at: SQLite seeks the table row only
// when a CASE needs it.
func (s *Store) loadContactInteractions(ctx context.Context, q querier, n needs, ids []int64, add func(owner leadcycle.ID, i leadcycle.Interaction)) error {
	if len(n.since) == 0 || len(ids) == 0 {
		return nil
	}
	since := make(map[string]int64, len(n.since))
	oldest := int64(1<<63 - 1)
	for t, from := range n.since {
		since[t] = micros(from)
		oldest = min(oldest, micros(from))
	}
	var conds []string
	var args []any
	for _, t := range slices.Sorted(maps.Keys(n.propsSince)) {
		conds = append(conds, "(i.type = ? AND i.occurred_at >= ?)")
		args = append(args, t, micros(n.propsSince[t]))
	}
	props := "0"
	if len(conds) > 0 {
		props = strings.Join(conds, " OR ")
	}
	var all []any
	for range 3 {
		all = append(all, args...)
	}
	all = append(all, s.Dialect.IDsArg(uniqueIDs(ids)), oldest)
	rows, err := s.QueryQ(ctx, q, "SELECT i.contact_id, i.id, i.type, i.occurred_at, CASE WHEN "+props+" THEN i.properties END, CASE WHEN "+props+" THEN i.lead_id END, CASE WHEN "+props+
		" THEN i.account_id END FROM interactions i WHERE "+s.Dialect.InIDs("i.contact_id")+" AND i.occurred_at >= ?", all...)
	if err != nil {
		return fmt.Errorf("load interactions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var i leadcycle.Interaction
		var at int64
		var props []byte
		if err := rows.Scan(idCol{&i.ContactID}, idCol{&i.ID}, &i.Type, &at, &props, nullIDCol{&i.LeadID}, nullIDCol{&i.AccountID}); err != nil {
			return fmt.Errorf("load interactions: %w", err)
		}
		if from, used := since[i.Type]; !used || at < from {
			continue
		}
		i.OccurredAt = time.UnixMicro(at).UTC()
		if props != nil {
			if err := (jsonCol{&i.Properties}).Scan(props); err != nil {
				return err
			}
		}
		add(i.ContactID, i)
	}
	return rows.Err()
}

func (s *Store) loadStoredScores(ctx context.Context, q querier, b *batch, ids []int64) error {
	rows, err := s.QueryQ(ctx, q, "SELECT lead_id, model_id, score, grade, rules FROM lead_scores WHERE "+s.Dialect.InIDs("lead_id"), s.Dialect.IDsArg(ids))
	if err != nil {
		return fmt.Errorf("load scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k scoreKey
		var v storedScore
		var rules []byte
		if err := rows.Scan(idCol{&k.lead}, idCol{&k.model}, &v.score, &v.grade, &rules); err != nil {
			return fmt.Errorf("load scores: %w", err)
		}
		v.rules = string(rules) // as rulesJSON wrote it
		if !s.Dialect.JSONVerbatim {
			v.rules = compactJSON(rules)
		}
		b.scores[k] = v
		b.scored[k.lead] = true
	}
	return rows.Err()
}
