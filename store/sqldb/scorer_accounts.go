package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/leadcycle/leadcycle"
)

// An account-based lead counts the interactions of every contact of its
// account, so the accounts that have such leads are the largest histories
// the scorer reads, and the most often: a large account is touched by
// nearly every round. On a single-node database the scorer keeps these
// histories in memory (accountHistory, guarded by interactionTail.mu):
// loaded once from the database, then extended with each range of new
// interactions as it is handed out, in id order — so an entry always holds
// exactly the account's interactions up to the last range handed out, for
// the types the account models read.
//
// What changes an account's past interactions (a contact moving to another
// account, a contact, account or interaction deleted, an erasure) forgets
// the entries of the accounts it touches once its transaction commits, and
// an interaction stored with an id the tail had already passed forgets
// every entry; a load that was under way for a forgotten entry is not
// kept. Forgetting only what changed matters: a big account's history
// takes long to read again, and contacts move all the time (an import
// linking contacts to accounts moves one per row).

// maxAccountHistory bounds the interactions held; past it every entry is
// forgotten and reloaded on demand.
const maxAccountHistory = 1_000_000

// accountHistory holds the accounts' interactions.
type accountHistory struct {
	gen     uint64 // incremented when everything is forgotten
	entries map[int64]*accountEntry
	held    int
	loads   int64 // the histories read from the database
}

// accountEntry is one account's interactions of the types in since, each
// from its since on (older ones may remain; the models filter).
type accountEntry struct {
	gen    uint64
	since  map[string]time.Time
	loaded bool
	// items are the loaded interactions and then those appended; while
	// the load runs, only those appended.
	items []leadcycle.Interaction
}

// covers reports whether the entry holds what n needs.
func (e *accountEntry) covers(n needs) bool {
	for t, from := range n.since {
		have, ok := e.since[t]
		if !ok || have.After(from) {
			return false
		}
	}
	return true
}

// forgetAccountHistory makes tx forget every account history once it
// commits.
func (db *DB) forgetAccountHistory(tx *sql.Tx) {
	if !db.Dialect.SingleNode {
		return
	}
	db.onCommit(tx, func() {
		t := &db.tail
		t.mu.Lock()
		defer t.mu.Unlock()
		t.accounts.forget()
	})
}

func (h *accountHistory) forget() {
	h.gen++
	h.entries, h.held = nil, 0
}

// forgetAccounts makes tx forget the histories of the accounts once it
// commits.
func (db *DB) forgetAccounts(tx *sql.Tx, accounts []int64) {
	if !db.Dialect.SingleNode || len(accounts) == 0 {
		return
	}
	db.onCommit(tx, func() {
		t := &db.tail
		t.mu.Lock()
		defer t.mu.Unlock()
		t.accounts.forgetSome(accounts)
	})
}

// forgetSome drops the entries of the accounts; a load under way for one
// of them finds its entry gone and is not kept.
func (h *accountHistory) forgetSome(accounts []int64) {
	for _, a := range accounts {
		if e := h.entries[a]; e != nil {
			h.held = max(0, h.held-len(e.items))
			delete(h.entries, a)
		}
	}
}

// AccountHistoryLoads returns how many account histories the scorer has
// read from the database (single-node databases, which keep them in
// memory; see accountHistory).
func (s *Store) AccountHistoryLoads() int64 {
	t := &s.DB.tail
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.accounts.loads
}

// interactionAccounts returns the accounts the contact's interactions
// carry.
func interactionAccounts(ctx context.Context, db *DB, tx *sql.Tx, contact leadcycle.ID) ([]int64, error) {
	rows, err := db.QueryQ(ctx, tx, "SELECT DISTINCT account_id FROM interactions WHERE contact_id = ? AND account_id IS NOT NULL", int64(contact))
	if err != nil {
		return nil, fmt.Errorf("accounts of the contact's interactions: %w", err)
	}
	return scanAll(rows, func(r scanner) (int64, error) { var id int64; return id, r.Scan(&id) })
}

// append adds new interactions to the entries of their accounts. The
// caller holds interactionTail.mu.
func (h *accountHistory) append(items []tailItem) {
	if len(h.entries) == 0 {
		return
	}
	for _, it := range items {
		e := h.entries[it.account]
		if it.account == 0 || e == nil {
			continue
		}
		if _, kept := e.since[it.typ]; !kept {
			continue
		}
		e.items = append(e.items, leadcycle.Interaction{ID: leadcycle.ID(it.id), Type: it.typ, OccurredAt: it.occurred, ContactID: leadcycle.ID(it.contact)})
		h.held++
	}
	if h.held > maxAccountHistory {
		h.forget()
	}
}

// accountInteractions passes to add what n needs of the interactions of the
// accounts, from memory where it can (see accountHistory); single-node
// databases only.
func (s *Store) accountInteractions(ctx context.Context, q querier, n needs, accounts []int64, add func(owner leadcycle.ID, i leadcycle.Interaction)) error {
	if len(n.propsSince) > 0 || len(n.since) == 0 || len(accounts) == 0 {
		return s.loadInteractions(ctx, q, n, "i.account_id", "interactions i", accounts, add)
	}
	t := &s.DB.tail
	t.mu.Lock()
	if err := t.load(ctx, s.DB, q); err != nil {
		t.mu.Unlock()
		return err
	}
	h := &t.accounts
	if h.entries == nil {
		h.entries = map[int64]*accountEntry{}
	}
	hits := map[int64][]leadcycle.Interaction{}
	mine := map[int64]*accountEntry{}
	for _, a := range uniqueIDs(accounts) {
		if e := h.entries[a]; e != nil && e.loaded && e.covers(n) {
			hits[a] = e.items // appends never touch what this slice sees
			continue
		}
		e := &accountEntry{gen: h.gen, since: maps.Clone(n.since)}
		h.entries[a] = e
		mine[a] = e
	}
	h.loads += int64(len(mine))
	upTo := t.next
	t.mu.Unlock()

	for a, items := range hits {
		for _, i := range items {
			add(leadcycle.ID(a), i)
		}
	}
	if len(mine) == 0 {
		return nil
	}
	missing := make([]int64, 0, len(mine))
	for a := range mine {
		missing = append(missing, a)
	}
	loaded, err := s.loadAccountHistory(ctx, q, n, missing, upTo)
	if err != nil {
		return err
	}
	t.mu.Lock()
	for a, e := range mine {
		if h.entries[a] == e && e.gen == h.gen {
			e.items = append(loaded[a], e.items...)
			e.loaded = true
			h.held += len(loaded[a]) // the tail's appends are counted already
		}
	}
	if h.held > maxAccountHistory {
		h.forget()
	}
	t.mu.Unlock()
	for a, items := range loaded {
		for _, i := range items {
			add(leadcycle.ID(a), i)
		}
	}
	return nil
}

// loadAccountHistory reads the accounts' interactions of the types n needs,
// each from its since, with ids up to upTo (every later one is appended
// from the tail).
func (s *Store) loadAccountHistory(ctx context.Context, q querier, n needs, accounts []int64, upTo int64) (map[int64][]leadcycle.Interaction, error) {
	idsArg := s.Dialect.IDsArg(uniqueIDs(accounts))
	var query string
	var args []any
	for _, t := range slices.Sorted(maps.Keys(n.since)) {
		if query != "" {
			query += " UNION ALL "
		}
		query += "SELECT i.account_id, i.id, i.type, i.occurred_at, i.contact_id FROM interactions i WHERE " + s.Dialect.InIDs("i.account_id") +
			" AND i.type = ? AND i.occurred_at >= ? AND i.id <= ?"
		args = append(args, idsArg, t, micros(n.since[t]), upTo)
	}
	rows, err := s.QueryQ(ctx, q, query, args...)
	if err != nil {
		return nil, fmt.Errorf("load account interactions: %w", err)
	}
	defer rows.Close()
	out := map[int64][]leadcycle.Interaction{}
	for rows.Next() {
		var a int64
		var i leadcycle.Interaction
		if err := rows.Scan(&a, idCol{&i.ID}, &i.Type, timeCol{&i.OccurredAt}, idCol{&i.ContactID}); err != nil {
			return nil, fmt.Errorf("load account interactions: %w", err)
		}
		out[a] = append(out[a], i)
	}
	// In time order, as the tail appends: the models then find each history
	// sorted (see scoring's sortInteractions).
	for _, items := range out {
		slices.SortFunc(items, func(x, y leadcycle.Interaction) int {
			return cmp.Or(x.OccurredAt.Compare(y.OccurredAt), cmp.Compare(x.ID, y.ID))
		})
	}
	return out, rows.Err()
}
