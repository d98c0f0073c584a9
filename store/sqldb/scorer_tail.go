package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

// On a single-node database (SQLite) the scorer reads new interactions by
// id instead of a score_queue row per interaction. The one writer gives
// rowids in commit order, so "every interaction after the last one read" is
// every interaction committed since, whichever path stored it. A new
// interaction then costs its own row and nothing else, and the scorer's
// round writes no queue rows for it either: at thousands of interactions a
// second, the queue's two B-trees were a third of the pages each commit
// wrote.
//
// score_tail.position, written in the scorer's transactions, is where a
// restarted process goes on: an interaction up to it has its leads scored.
// It lags the rounds in progress, so a crash makes the next process score
// a few rounds' leads again, which changes nothing (a score is a function
// of the data; marks are written once). Rowids can be given again after
// the newest rows are deleted (an erasure), so an interaction whose id is
// not after the ranges already handed out is queued the old way.

// interactionTail hands ranges of new interactions to the scorer's loops.
// One serves every Store of a DB (siblings share it, as they share claims).
type interactionTail struct {
	// round is held while a scorer round takes its work (see tailWork);
	// turn is closed when the last round to take work has written it.
	round  sync.Mutex
	turn   chan struct{}
	mu     sync.Mutex
	loaded bool
	// next is the last interaction id handed to a round.
	next int64
	// inflight maps each round in progress (numbered by rounds) to the
	// first id before the interactions it scores: those of its range and
	// of the ranges its waiting leads came in.
	inflight map[uint64]int64
	rounds   uint64
	// waiting holds the account-based leads that wait for more
	// interactions of their account (see accountBasedDelay); held, those
	// a round in progress took from it, with the round.
	waiting map[int64]waitingLead
	held    map[int64]uint64
	// stored is the position last written to score_tail.
	stored int64
	// accounts keeps the histories of accounts (see accountHistory).
	accounts accountHistory
}

// waitingLead is an account-based lead due to be scored for interactions
// of its account. It waits in memory, not in score_queue: under load nearly
// every round touches a large account, and a queue row written and deleted
// a few times a second for each was ~5% of the bytes the process wrote
// (bench/scoring, 4,000 interactions/s).
// A restart loses nothing: the stored position stays before the range its
// first interaction came in, so the next process reads that range again.
type waitingLead struct {
	due   time.Time
	at    time.Time // when its first interaction was stored
	after int64     // the first id before the range of that interaction
	cause string
}

// wait adds the lead to waiting, or keeps the earlier of the two due times
// and the older of their ranges.
func (t *interactionTail) wait(lead int64, w waitingLead) {
	if cur, ok := t.waiting[lead]; ok {
		if cur.due.After(w.due) {
			cur.due, cur.cause = w.due, w.cause
		}
		cur.at, cur.after = minTime(cur.at, w.at), min(cur.after, w.after)
		w = cur
	}
	t.waiting[lead] = w
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// tailRange is the interactions after from up to and including to.
type tailRange struct{ from, to int64 }

// load reads the stored position once per process.
func (t *interactionTail) load(ctx context.Context, db *DB, q querier) error {
	if t.loaded {
		return nil
	}
	var pos int64
	if err := db.QueryRowQ(ctx, q, "SELECT position FROM score_tail WHERE id = 1").Scan(&pos); err != nil {
		return fmt.Errorf("scoring position: %w", err)
	}
	t.next, t.stored, t.loaded = pos, pos, true
	t.inflight, t.waiting, t.held = map[uint64]int64{}, map[int64]waitingLead{}, map[int64]uint64{}
	return nil
}

// tailCovers reports whether the interaction with id will be read by a later
// round, so that it needs no queue row. tx is the transaction that stored
// it.
func (db *DB) tailCovers(ctx context.Context, tx *sql.Tx, id leadcycle.ID) (bool, error) {
	if !db.Dialect.SingleNode {
		return false, nil
	}
	t := &db.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.load(ctx, db, tx); err != nil {
		return false, err
	}
	if int64(id) > t.next {
		return true, nil
	}
	db.forgetAccountHistory(tx) // an id given again: the histories miss it
	return false, nil
}

// position is the stored position to write: the leads of every interaction
// up to it are scored and committed.
func (t *interactionTail) position() int64 {
	pos := t.next
	for _, after := range t.inflight {
		pos = min(pos, after)
	}
	for _, w := range t.waiting {
		pos = min(pos, w.after)
	}
	return pos
}

// tailItem is what a round needs of one new interaction.
type tailItem struct {
	id, contact, account int64 // account 0: none
	typ                  string
	occurred, at         time.Time // at: when it was stored
}

// takeTail hands the next range of at most max interactions to a round.
// The caller holds t.mu.
func (s *Store) takeTail(ctx context.Context, max int) (tailRange, []tailItem, error) {
	t := &s.DB.tail
	if err := t.load(ctx, s.DB, s.P); err != nil {
		return tailRange{}, nil, err
	}
	rng := tailRange{from: t.next, to: t.next}
	rows, err := s.QueryQ(ctx, s.P, "SELECT id, contact_id, COALESCE(account_id, 0), type, occurred_at, created_at FROM interactions WHERE id > ? ORDER BY id LIMIT ?", t.next, max)
	if err != nil {
		return rng, nil, fmt.Errorf("new interactions: %w", err)
	}
	items, err := scanAll(rows, func(r scanner) (tailItem, error) {
		var it tailItem
		return it, r.Scan(&it.id, &it.contact, &it.account, &it.typ, timeCol{&it.occurred}, timeCol{&it.at})
	})
	if err != nil {
		return rng, nil, fmt.Errorf("new interactions: %w", err)
	}
	if len(items) > 0 {
		rng.to = items[len(items)-1].id
		t.next = rng.to
		t.accounts.append(items)
	}
	return rng, items, nil
}

// storeTailPosition writes the position in the round's transaction when it
// moved; the caller records it with tailStored after the commit.
func (s *Store) storeTailPosition(ctx context.Context, tx *sql.Tx) (int64, error) {
	t := &s.DB.tail
	t.mu.Lock()
	pos, stored := t.position(), t.stored
	t.mu.Unlock()
	if pos <= stored {
		return stored, nil
	}
	if _, err := s.ExecQ(ctx, tx, "UPDATE score_tail SET position = ? WHERE id = 1 AND position < ?", pos, pos); err != nil {
		return stored, fmt.Errorf("store scoring position: %w", err)
	}
	return pos, nil
}

func (s *Store) tailStored(pos int64) {
	t := &s.DB.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	t.stored = max(t.stored, pos)
}

// tailWork is the part of a round that comes from new interactions.
//
// Rounds take their work one at a time (interactionTail.round), read what
// they score only afterwards, and commit in the order they took their work.
// A later round reads at least every interaction of an earlier round's
// range, and every change queued before it took its work, so two rounds may
// score the same lead at once: the later one commits last, and it saw
// everything the earlier one was given. (What committed after a round took
// its work is a later round's.) The leads need no claim.
type tailWork struct {
	// after is closed when the round before has written its work; the
	// round closes done when it has written (or given up on) its own.
	after <-chan struct{}
	done  chan struct{}

	round uint64 // the round's key in interactionTail.inflight
	rng   tailRange
	items []tailItem // what the round needs of the range's interactions
	// waited are the account-based leads whose wait ended, taken from
	// interactionTail.waiting; claimed, the leads the round claimed from
	// the queue (scored as such).
	waited  map[int64]waitingLead
	claimed map[int64]bool
	// since holds the leads to score that the round did not claim from the
	// queue, each with when its first interaction of the range was stored.
	since map[int64]time.Time
	// accountBased are the account-based leads of the interactions'
	// accounts, with when their first interaction was stored; waits, those
	// of them that wait (see planWaits).
	accountBased map[int64]time.Time
	waits        map[int64]waitingLead
	// read holds the leads of since, read whole by resolve: the round
	// scores them without reading them again.
	read map[int64]*leadcycle.Lead
	// due holds the queue entries the account-based leads already have
	// (due_at), read to decide which of them wait.
	due map[int64]int64
}

// accountBasedDelay is how long an account-based lead waits for more
// interactions of its account before it is scored, when interactions come
// fast (a range of at least busyRange). An account-based lead counts the
// interactions of every contact of its account, so under load a large
// account is touched by nearly every round and its history is the longest
// to score; scored at most a few times a second, its score is still current
// well within a second. When interactions come slowly, it is scored in the
// next round.
const (
	accountBasedDelay = 250 * time.Millisecond
	busyRange         = 100
)

// takeTailWork takes the next range of interactions and the account-based
// leads whose wait has ended by now. The caller holds interactionTail.round.
func (s *Store) takeTailWork(ctx context.Context, now time.Time, max int) (*tailWork, error) {
	t := &s.DB.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	rng, items, err := s.takeTail(ctx, max)
	w := &tailWork{rng: rng, items: items, since: map[int64]time.Time{}, waited: map[int64]waitingLead{}}
	if err != nil {
		return w, err
	}
	t.rounds++
	w.round = t.rounds
	after := rng.from
	for id, wl := range t.waiting {
		if len(w.waited) < max && !wl.due.After(now) {
			w.waited[id] = wl
			after = min(after, wl.after)
			delete(t.waiting, id)
			t.held[id] = w.round
		}
	}
	if !w.empty() {
		t.inflight[w.round] = after
	}
	return w, nil
}

// empty reports whether the round has nothing of the tail to score.
func (w *tailWork) empty() bool { return len(w.items) == 0 && len(w.waited) == 0 }

// leads returns the leads to score that the round did not claim from the
// queue, in id order: those of the range's contacts, then the account-based
// leads whose wait ended.
func (w *tailWork) leads() []int64 {
	waited := slices.DeleteFunc(slices.Sorted(maps.Keys(w.waited)), func(id int64) bool { return w.claimed[id] })
	return append(slices.Sorted(maps.Keys(w.since)), waited...)
}

// cause says why the round scores a lead of leads().
func (w *tailWork) cause(lead int64) string {
	if wl, ok := w.waited[lead]; ok {
		return wl.cause
	}
	return fmt.Sprintf("interactions %d…%d", w.rng.from+1, w.rng.to)
}

// resolve finds the leads the range's interactions affect: those whose
// models read the interaction's type (see readTypes). claimed are the queue
// entries the round took (their leads are scored anyway). It runs after
// the round took its work, outside interactionTail.round: what it reads is
// read after that, as the round's scores are.
func (w *tailWork) resolve(ctx context.Context, s *Store, claimed []queued, types typesRead) error {
	mine := make(map[int64]bool, len(claimed))
	for _, c := range claimed {
		mine[c.leadID] = true
	}
	w.claimed = mine
	if len(w.items) > 0 {
		since, read, accountBased, err := s.tailLeads(ctx, w.items, types)
		if err != nil {
			return err
		}
		for id, at := range since {
			if !mine[id] {
				w.since[id] = at
			}
		}
		w.read, w.accountBased = read, accountBased
	}
	var err error
	w.due, err = s.queuedDue(ctx, slices.Collect(maps.Keys(w.accountBased)))
	return err
}

// typesRead are the interaction types the round's live models read, by
// target: an interaction of another type changes no score, so its leads
// are not rescored for it (an account model that counts opens and forms
// leaves its leads alone for every page view of the account's contacts).
type typesRead struct{ contact, account map[string]bool }

// readTypes collects the types the models' behaviours count.
func readTypes(models []*scoring.Model) typesRead {
	t := typesRead{contact: map[string]bool{}, account: map[string]bool{}}
	for _, cm := range models {
		into := t.contact
		if cm.Def.Target == leadcycle.TargetAccount {
			into = t.account
		}
		for _, r := range cm.Def.Rules {
			for _, b := range r.Behaviors {
				into[b.Type] = true
			}
		}
	}
	return t
}

// tailLeads returns the leads the interactions affect, each with the time
// its first interaction was stored: those of their contacts (read whole, as
// the round scores them), and apart the account-based leads of their
// accounts, for the interactions of the types their models read.
func (s *Store) tailLeads(ctx context.Context, items []tailItem, types typesRead) (byContact map[int64]time.Time, read map[int64]*leadcycle.Lead, accountBased map[int64]time.Time, err error) {
	contacts := map[int64]time.Time{}
	accounts := map[int64]time.Time{}
	for _, it := range items {
		if types.contact[it.typ] {
			earliestAt(contacts, it.contact, it.at)
		}
		if it.account != 0 && types.account[it.typ] {
			earliestAt(accounts, it.account, it.at)
		}
	}
	leads, err := selectByIDs(ctx, s, s.P, s.leads, "contact_id", slices.Collect(maps.Keys(contacts)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("leads of new interactions: %w", err)
	}
	byContact = make(map[int64]time.Time, len(leads))
	read = make(map[int64]*leadcycle.Lead, len(leads))
	for i := range leads {
		l := &leads[i]
		earliestAt(byContact, int64(l.ID), contacts[int64(*l.ContactID)])
		read[int64(l.ID)] = l
	}
	accountBased = map[int64]time.Time{}
	if len(accounts) == 0 {
		return byContact, read, accountBased, nil
	}
	pairs, err := s.idPairs(ctx, "SELECT id, account_id FROM leads"+s.Dialect.IndexedBy("leads_account_based")+" WHERE "+s.Dialect.InIDs("account_id")+" AND contact_id IS NULL", slices.Collect(maps.Keys(accounts)))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("leads of new interactions: %w", err)
	}
	for _, p := range pairs {
		earliestAt(accountBased, p[0], accounts[p[1]])
	}
	return byContact, read, accountBased, nil
}

func earliestAt(m map[int64]time.Time, k int64, at time.Time) {
	if cur, ok := m[k]; !ok || at.Before(cur) {
		m[k] = at
	}
}

// queuedDue returns the due_at of the queue entries of the leads.
func (s *Store) queuedDue(ctx context.Context, ids []int64) (map[int64]int64, error) {
	pairs, err := s.idPairs(ctx, "SELECT lead_id, due_at FROM score_queue WHERE "+s.Dialect.InIDs("lead_id"), ids)
	if err != nil {
		return nil, fmt.Errorf("queued leads: %w", err)
	}
	out := make(map[int64]int64, len(pairs))
	for _, p := range pairs {
		out[p[0]] = p[1]
	}
	return out, nil
}

// idPairs runs a query of two integer columns whose one placeholder is the
// ids (none: no rows).
func (s *Store) idPairs(ctx context.Context, query string, ids []int64) ([][2]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.QueryQ(ctx, s.P, query, s.Dialect.IDsArg(uniqueIDs(ids)))
	if err != nil {
		return nil, err
	}
	return scanAll(rows, func(r scanner) ([2]int64, error) {
		var p [2]int64
		return p, r.Scan(&p[0], &p[1])
	})
}

// releaseTail ends the round's part of the tail: committed, its
// account-based leads wait; given up, its range is handed out again and
// the leads it took from waiting wait again.
func (s *Store) releaseTail(w *tailWork, committed bool) {
	if w == nil || w.round == 0 {
		return
	}
	t := &s.DB.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.inflight, w.round)
	for id := range w.waited {
		if t.held[id] == w.round {
			delete(t.held, id)
		}
	}
	if committed {
		// A lead another round holds is not made to wait again: that
		// round took its work after this one, and it reads this range.
		for id, wl := range w.waits {
			if _, ok := t.held[id]; !ok {
				t.wait(id, wl)
			}
		}
		return
	}
	if len(w.items) > 0 {
		t.next = min(t.next, w.rng.from)
	}
	for id, wl := range w.waited {
		t.wait(id, wl)
	}
}

// planWaits readies the range's account-based leads to wait (see
// waitingLead), unless their queue entry is due by then anyway or the round
// scores them already; they join interactionTail.waiting when the round
// commits.
func (w *tailWork) planWaits(now time.Time) {
	later := now
	if len(w.items) >= busyRange {
		later = now.Add(accountBasedDelay)
	}
	w.waits = make(map[int64]waitingLead, len(w.accountBased))
	cause := fmt.Sprintf("interactions %d…%d of its account", w.rng.from+1, w.rng.to)
	for id, at := range w.accountBased {
		if due, queued := w.due[id]; queued && due <= micros(later) {
			continue // queued already: scored with this range's interactions
		}
		if _, ok := w.waited[id]; ok {
			continue // scored in this round, which read this range
		}
		w.waits[id] = waitingLead{due: later, at: at, after: w.rng.from, cause: cause}
	}
}

// settleTail writes, in the round's transaction, what the range leaves to
// do: the next change of each lead scored, where its queue entry does not
// come before it already (the upsert leaves such an entry alone: it is
// scored again then, and schedules its next change itself), and the
// position.
func (p *plan) settleTail(ctx context.Context, s *Store, tx *sql.Tx, w *tailWork) (int64, error) {
	var schedule [][]any
	for _, id := range w.leads() {
		if t, ok := p.next[id]; ok {
			schedule = append(schedule, nextChangeRow(id, t))
		}
	}
	if err := p.scheduleEarlier(ctx, s.DB, tx, schedule); err != nil {
		return 0, err
	}
	return s.storeTailPosition(ctx, tx)
}

// ScoringBacklog returns the work the scorer has yet to do: the leads due in
// the queue, and on a single-node database also the account-based leads
// whose wait has ended and the interactions stored after the last range
// handed to a round.
func (s *Store) ScoringBacklog(ctx context.Context) (leads, interactions int64, err error) {
	if err := s.QueryRowQ(ctx, s.R, "SELECT COUNT(*) FROM score_queue WHERE due_at <= ?", micros(s.Clock.Now())).Scan(&leads); err != nil {
		return 0, 0, fmt.Errorf("scoring backlog: %w", err)
	}
	if !s.Dialect.SingleNode {
		return leads, 0, nil
	}
	t := &s.DB.tail
	now := s.Clock.Now()
	t.mu.Lock()
	err = t.load(ctx, s.DB, s.R)
	after := t.next
	for _, wl := range t.waiting {
		if !wl.due.After(now) {
			leads++
		}
	}
	t.mu.Unlock()
	if err != nil {
		return 0, 0, err
	}
	if err := s.QueryRowQ(ctx, s.R, "SELECT COUNT(*) FROM interactions WHERE id > ?", after).Scan(&interactions); err != nil {
		return 0, 0, fmt.Errorf("scoring backlog: %w", err)
	}
	return leads, interactions, nil
}

// nextTurn returns the turn of the round before and a new one for the
// round taking its work now. The caller holds round.
func (t *interactionTail) nextTurn() (after <-chan struct{}, done chan struct{}) {
	if t.turn == nil {
		t.turn = make(chan struct{})
		close(t.turn)
	}
	after, done = t.turn, make(chan struct{})
	t.turn = done
	return after, done
}
