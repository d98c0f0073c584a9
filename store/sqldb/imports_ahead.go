package sqldb

import (
	"context"
	"database/sql"
	"strings"

	"github.com/leadcycle/leadcycle"
)

// Reading ahead: while a batch of contacts is written, the contacts the
// next batch's keys find are looked up on a reader connection, on the other
// core, instead of inside the next batch's transaction. The reader sees
// the database as it was when the batch being written began: the next
// batch adds what that batch changed (it keeps every contact it created or
// updated), and uses the lookups only if nothing else was written in
// between. With SQLite's one writer that is exact: the batch being written
// holds the write lock when the read begins, and the writer connection's
// total_changes() and data_version, taken when it commits and again when
// the next batch begins, show any other write (of this process or
// another). Where there are several writers (PostgreSQL) nothing is read
// ahead.

var contactSelectSQL = "SELECT id, " + strings.Join(contactTable.cols, ", ") + " FROM contacts"

// lookahead is what a batch's keys found, read while the batch before it
// was written.
type lookahead struct {
	done     chan struct{} // closed when the lookups are done
	err      error
	strategy leadcycle.ID
	keys     []string // per row: its key and lookup email, as bulkContacts computes them
	emails   []string
	hits     map[string][]keyHit
	read     map[leadcycle.ID]*leadcycle.Contact

	// Set once the batch before committed.
	committed bool
	mark      writeMark
	delta     *importDelta
}

// writeMark identifies the state of the database the writer connection
// last wrote or saw: any other commit changes it.
type writeMark struct{ changes, version int64 }

func markOf(ctx context.Context, tx *sql.Tx) (writeMark, error) {
	var m writeMark
	if err := tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&m.changes); err != nil {
		return m, err
	}
	err := tx.QueryRowContext(ctx, "PRAGMA data_version").Scan(&m.version)
	return m, err
}

// importDelta is what a batch changed that the next one's lookups need:
// the contacts it created or updated, as they are now, and under which key
// of the job's strategy.
type importDelta struct {
	contacts map[leadcycle.ID]*leadcycle.Contact
	byKey    map[string][]leadcycle.ID
}

// readsAhead reports whether a batch of the job may look up the next
// batch's rows while it is written.
func (x imports) readsAhead(job *leadcycle.ImportJob, b *leadcycle.ImportBatch) bool {
	return x.s.Dialect.SingleNode && job.Options.Entity == leadcycle.ImportContacts && job.Options.OnMatch != leadcycle.OnMatchCreate &&
		b.Next != nil && len(b.Next.Rows) > 0 && b.Next.ReadAhead == nil
}

// startReadAhead looks up the keys of next's rows on a reader connection,
// in the background. The caller's transaction must hold the write lock.
func (x imports) startReadAhead(ctx context.Context, strategy *leadcycle.MatchingStrategy, next *leadcycle.ImportBatch) *lookahead {
	la := &lookahead{done: make(chan struct{}), strategy: strategy.ID, keys: make([]string, len(next.Rows)), emails: make([]string, len(next.Rows))}
	rows := next.Rows
	go func() {
		defer close(la.done)
		var keys, emails []string
		emailKey := map[string]string{}
		for i := range rows {
			if rows[i].Contact == nil {
				continue
			}
			c := *rows[i].Contact // bulkContacts normalises the row's own later
			c.Normalize()
			if la.keys[i] = contactKey(strategy, &c); la.keys[i] == "" {
				continue
			}
			keys = append(keys, la.keys[i])
			if la.emails[i] = lookupEmail(strategy, &c); la.emails[i] != "" && emailKey[la.emails[i]] == "" {
				emailKey[la.emails[i]] = la.keys[i]
				emails = append(emails, la.emails[i])
			}
		}
		conn, err := x.s.R.Conn(ctx)
		if err != nil {
			la.err = err
			return
		}
		defer conn.Close()
		// One read transaction: every lookup sees the same snapshot.
		if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
			la.err = err
			return
		}
		la.hits, la.read, la.err = keyHits(ctx, x.s.DB, conn, strategy.ID, keys, emails, emailKey)
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil && la.err == nil {
			la.err = err
		}
	}()
	return la
}

// takeReadAhead returns the lookups made for b while the batch before was
// written, if they can stand for lookups in tx.
func (x imports) takeReadAhead(ctx context.Context, tx *sql.Tx, b *leadcycle.ImportBatch, strategy *leadcycle.MatchingStrategy) (*lookahead, error) {
	la, _ := b.ReadAhead.(*lookahead)
	b.ReadAhead = nil
	if la == nil {
		return nil, nil
	}
	<-la.done
	if la.err != nil || !la.committed || la.strategy != strategy.ID || len(la.keys) != len(b.Rows) {
		return nil, nil
	}
	m, err := markOf(ctx, tx)
	if err != nil || m != la.mark {
		return nil, err
	}
	return la, nil
}

// merge gives what the lookups in the transaction would: per key, the
// most recently updated contact, and the contacts read whole; contacts the
// batch before changed are taken as it left them.
func (la *lookahead) merge(strategy *leadcycle.MatchingStrategy, keys []string) (map[string]leadcycle.ID, map[leadcycle.ID]*leadcycle.Contact) {
	d := la.delta
	hits := make(map[string][]keyHit, len(keys))
	for _, k := range keys {
		if _, ok := hits[k]; ok {
			continue
		}
		var hs []keyHit
		for _, h := range la.hits[k] {
			if d.contacts[leadcycle.ID(h.id)] == nil {
				hs = append(hs, h)
			}
		}
		for _, id := range d.byKey[k] {
			hs = append(hs, keyHit{int64(id), micros(d.contacts[id].UpdatedAt)})
		}
		hits[k] = hs
	}
	best := bestHits(hits)
	read := make(map[leadcycle.ID]*leadcycle.Contact, len(best))
	for _, id := range best {
		if c := d.contacts[id]; c != nil {
			cc := cloneContact(*c)
			read[id] = &cc
		} else if c := la.read[id]; c != nil {
			read[id] = c
		}
	}
	return best, read
}

// delta collects what the batch changed, for the next one's lookahead.
func (w *importWriter) delta(plans []*contactPlan, found map[*contactPlan]leadcycle.ID, current map[leadcycle.ID]*leadcycle.Contact, old map[leadcycle.ID]leadcycle.Contact) *importDelta {
	d := &importDelta{contacts: make(map[leadcycle.ID]*leadcycle.Contact, len(current)+len(w.creates)), byKey: map[string][]leadcycle.ID{}}
	for k, c := range w.creates {
		d.contacts[c.ID] = c
		d.byKey[k] = append(d.byKey[k], c.ID)
	}
	// An updated contact keeps the key it was found by unless the update
	// changed the strategy's fields.
	keyOf := make(map[leadcycle.ID]string, len(current))
	for _, p := range plans {
		if id, ok := found[p]; ok && p.key != "" && p.row.ID == nil {
			keyOf[id] = p.key
		}
	}
	for id, c := range current {
		d.contacts[id] = c
		was := old[id]
		k, ok := keyOf[id]
		if !ok || !sameValues(w.strategy, &was, c) {
			k = contactKey(w.strategy, c)
		}
		if k != "" {
			d.byKey[k] = append(d.byKey[k], id)
		}
	}
	return d
}
