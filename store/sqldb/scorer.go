package sqldb

import (
	"context"
	"database/sql"
	"fmt"
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
	now := micros(db.Clock.Now())
	sel := "SELECT l.id, ?, ?, ?, ?, 0 FROM leads l WHERE " + where
	q := strings.Replace(enqueueSQL, "{sel}", sel, 1)
	if _, err := db.ExecQ(ctx, tx, q, append([]any{now, rand.Int64(), cause, now}, args...)...); err != nil {
		return fmt.Errorf("enqueue scoring: %w", err)
	}
	return nil
}

// scheduleLead queues one lead for rescoring at due.
func scheduleLead(ctx context.Context, db *DB, tx *sql.Tx, leadID int64, due time.Time, cause string) error {
	q := strings.Replace(enqueueSQL, "{sel}", "VALUES (?, ?, ?, ?, ?, 0)", 1)
	if _, err := db.ExecQ(ctx, tx, q, leadID, micros(due), rand.Int64(), cause, micros(due)); err != nil {
		return fmt.Errorf("schedule scoring: %w", err)
	}
	return nil
}

// Hooks that enqueue rescoring; installed in init.

func interactionEnqueues(ctx context.Context, db *DB, tx *sql.Tx, _, i *leadcycle.Interaction) error {
	cause := fmt.Sprintf("interaction %s (%s)", i.ID, i.Type)
	if err := enqueueLeads(ctx, db, tx, cause, "l.contact_id = ?", int64(i.ContactID)); err != nil {
		return err
	}
	if i.AccountID == nil {
		return nil
	}
	// Account-based leads (a parent account, no parent contact) count the
	// interactions of every contact of their account.
	return enqueueLeads(ctx, db, tx, cause, "l.account_id = ? AND l.contact_id IS NULL", int64(*i.AccountID))
}

func contactEnqueues(ctx context.Context, db *DB, tx *sql.Tx, old, c *leadcycle.Contact) error {
	if old == nil {
		return nil // a new contact has no leads yet
	}
	cause := fmt.Sprintf("contact %s updated", c.ID)
	if err := enqueueLeads(ctx, db, tx, cause, "l.contact_id = ?", int64(c.ID)); err != nil {
		return err
	}
	// Account-based leads count the contacts of their account.
	for _, a := range []*leadcycle.ID{old.AccountID, c.AccountID} {
		if a != nil && (old.AccountID == nil || c.AccountID == nil || *old.AccountID != *c.AccountID) {
			if err := enqueueLeads(ctx, db, tx, cause, "l.account_id = ? AND l.contact_id IS NULL", int64(*a)); err != nil {
				return err
			}
		}
	}
	return nil
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
	contactTable.afterWrite = afterWrites(contactTable.afterWrite, contactEnqueues)
	accountTable.afterWrite = afterWrites(accountTable.afterWrite, accountEnqueues)
	leadTable.afterWrite = afterWrites(leadTable.afterWrite, leadEnqueues)
	leadTable.load = loadLeadScores
}

// queued is a claimed queue entry.
type queued struct {
	leadID   int64
	seq      int64
	cause    string
	enqueued time.Time
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

// processQueue claims due queue entries and rescores their leads.
func (s *Store) processQueue(ctx context.Context, models []*scoring.Model, max int) (int, error) {
	now := s.Clock.Now()
	claimed, err := s.claim(ctx, now, max)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	ids := make([]int64, len(claimed))
	for i, c := range claimed {
		ids[i] = c.leadID
	}
	var b *batch
	if len(models) > 0 {
		if b, err = s.loadBatch(ctx, ids, models, now, true); err != nil {
			return 0, err
		}
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		w := &scoreWriter{db: s.DB, tx: tx, now: now}
		next := map[int64]time.Time{}
		if b != nil {
			causes := make(map[int64]string, len(claimed))
			for _, c := range claimed {
				causes[c.leadID] = c.cause
			}
			for _, l := range b.leads {
				t, err := w.writeLead(ctx, b, l, models, causes[int64(l.ID)])
				if err != nil {
					return err
				}
				next[int64(l.ID)] = t
			}
		}
		for _, c := range claimed {
			if err := w.settle(ctx, c, next[c.leadID]); err != nil {
				return err
			}
			s.observeLag(now.Sub(c.enqueued))
		}
		return nil
	})
	return len(claimed), err
}

// claim takes up to max due queue entries for claimLease.
func (s *Store) claim(ctx context.Context, now time.Time, max int) ([]queued, error) {
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

// rescoreStep advances one running rescore job by a batch of leads.
func (s *Store) rescoreStep(ctx context.Context, models []*scoring.Model, max int) (int, error) {
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
		return s.rescoreBatch(ctx, cm, cursor, max, now)
	}
	return 0, nil
}

// rescoreBatch scores the leads after cursor under one model and records the
// job's progress in the same transaction.
func (s *Store) rescoreBatch(ctx context.Context, cm *scoring.Model, cursor int64, max int, now time.Time) (int, error) {
	rows, err := s.QueryQ(ctx, s.R, "SELECT id FROM leads WHERE id > ? ORDER BY id LIMIT ?", cursor, max)
	if err != nil {
		return 0, fmt.Errorf("rescore: %w", err)
	}
	ids, err := scanAll(rows, func(r scanner) (int64, error) { var id int64; return id, r.Scan(&id) })
	if err != nil {
		return 0, err
	}
	models := []*scoring.Model{cm}
	b, err := s.loadBatch(ctx, ids, models, now, true)
	if err != nil {
		return 0, err
	}
	def := cm.Def
	cause := fmt.Sprintf("model %s v%d published", def.Key, def.Version)
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		w := &scoreWriter{db: s.DB, tx: tx, now: now}
		for _, l := range b.leads {
			next, err := w.writeLead(ctx, b, l, models, cause)
			if err != nil {
				return err
			}
			if !next.IsZero() {
				if err := scheduleLead(ctx, s.DB, tx, int64(l.ID), next, "score changes with time"); err != nil {
					return err
				}
			}
		}
		done := len(ids) < max
		last := cursor
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		state, finished := leadcycle.RescoreRunning, any(nil)
		if done {
			state, finished = leadcycle.RescoreDone, micros(now)
		}
		if _, err := s.ExecQ(ctx, tx, `UPDATE scoring_models SET rescore_cursor = ?, rescore_done = rescore_done + ?, rescore_scored = rescore_scored + ?,
			rescore_unscorable = rescore_unscorable + ?, rescore_state = ?, rescore_finished_at = ? WHERE id = ? AND status = ?`,
			last, len(ids), w.scored, w.unscorable, state, finished, int64(def.ID), leadcycle.ModelLive); err != nil {
			return fmt.Errorf("rescore progress: %w", err)
		}
		if done && def.PreviousVersionID != nil {
			return clearModelScores(ctx, s.DB, tx, *def.PreviousVersionID, fmt.Sprintf("replaced by model %s v%d", def.Key, def.Version), now)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return len(ids), nil
}

// storedScore is a lead's current score under one model.
type storedScore struct {
	score int64
	grade string
	rules string
}

// scoreKey identifies a lead's score under a model.
type scoreKey struct{ lead, model leadcycle.ID }

// scoreWriter writes the results of one batch in one transaction.
type scoreWriter struct {
	db  *DB
	tx  *sql.Tx
	now time.Time

	scored, unscorable int
}

// writeLead stores one lead's results under every model and marks it sales or
// telesales ready. It returns when the lead's scores change next with time
// alone (zero: never).
func (w *scoreWriter) writeLead(ctx context.Context, b *batch, l *leadcycle.Lead, models []*scoring.Model, cause string) (time.Time, error) {
	var next time.Time
	counted := false
	for _, cm := range models {
		res := cm.Score(b.subject(l, cm), w.now)
		if !res.NextChange.IsZero() && (next.IsZero() || res.NextChange.Before(next)) {
			next = res.NextChange
		}
		key := scoreKey{l.ID, cm.Def.ID}
		old, had := b.scores[key]
		if !res.Applies || !res.Scorable {
			if res.Applies && !counted {
				w.unscorable++
				counted = true
			}
			if had {
				if err := w.remove(ctx, key, old, cause); err != nil {
					return next, err
				}
			}
			continue
		}
		if !counted {
			w.scored++
			counted = true
		}
		rules := rulesJSON(res.Rules)
		if !had || old.score != res.Score || old.grade != res.Grade || old.rules != rules {
			if err := w.upsert(ctx, key, res, rules); err != nil {
				return next, err
			}
		}
		if !had || old.score != res.Score || old.grade != res.Grade {
			var oldScore *int64
			if had {
				oldScore = &old.score
			}
			if err := w.ledger(ctx, key, oldScore, &res.Score, old.grade, res.Grade, cause); err != nil {
				return next, err
			}
		}
		if err := w.qualify(ctx, l, cm.Def, res.Score); err != nil {
			return next, err
		}
	}
	return next, nil
}

func (w *scoreWriter) upsert(ctx context.Context, k scoreKey, res scoring.Result, rules string) error {
	_, err := w.db.ExecQ(ctx, w.tx, `INSERT INTO lead_scores (lead_id, model_id, score, grade, rules, computed_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (lead_id, model_id) DO UPDATE SET score = excluded.score, grade = excluded.grade, rules = excluded.rules, computed_at = excluded.computed_at`,
		int64(k.lead), int64(k.model), res.Score, res.Grade, rules, micros(w.now))
	if err != nil {
		return fmt.Errorf("write score: %w", err)
	}
	return nil
}

func (w *scoreWriter) remove(ctx context.Context, k scoreKey, old storedScore, cause string) error {
	if _, err := w.db.ExecQ(ctx, w.tx, "DELETE FROM lead_scores WHERE lead_id = ? AND model_id = ?", int64(k.lead), int64(k.model)); err != nil {
		return fmt.Errorf("remove score: %w", err)
	}
	return w.ledger(ctx, k, &old.score, nil, old.grade, "", cause+"; the model no longer scores this lead")
}

func (w *scoreWriter) ledger(ctx context.Context, k scoreKey, oldScore, newScore *int64, oldGrade, newGrade, cause string) error {
	_, err := w.db.ExecQ(ctx, w.tx, `INSERT INTO score_ledger (lead_id, model_id, old_score, new_score, old_grade, new_grade, cause, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(k.lead), int64(k.model), oldScore, newScore, oldGrade, newGrade, cause, micros(w.now))
	if err != nil {
		return fmt.Errorf("write score ledger: %w", err)
	}
	return nil
}

// qualify marks an open lead sales ready (or telesales ready) when a live
// model's score reaches the threshold. The conditional update makes the mark
// and its event happen once even when two workers score the lead at once.
func (w *scoreWriter) qualify(ctx context.Context, l *leadcycle.Lead, m *leadcycle.ScoringModel, score int64) error {
	if m.Status != leadcycle.ModelLive || l.Status != leadcycle.LeadOpen {
		return nil
	}
	if t := m.SalesReadyThreshold; t != nil && score >= *t && !l.SalesReady {
		if err := w.mark(ctx, l, "sales_ready", leadcycle.EventLeadSalesReady, m, score, *t); err != nil {
			return err
		}
		l.SalesReady = true
	}
	if t := m.TelesalesReadyThreshold; t != nil && score >= *t && !l.TelesalesReady && !l.SalesReady {
		if err := w.mark(ctx, l, "telesales_ready", leadcycle.EventLeadTelesalesReady, m, score, *t); err != nil {
			return err
		}
		l.TelesalesReady = true
	}
	return nil
}

func (w *scoreWriter) mark(ctx context.Context, l *leadcycle.Lead, flag, event string, m *leadcycle.ScoringModel, score, threshold int64) error {
	res, err := w.db.ExecQ(ctx, w.tx, "UPDATE leads SET "+flag+" = ?, updated_at = ? WHERE id = ? AND "+flag+" = ? AND status = ?",
		true, micros(w.now), int64(l.ID), false, leadcycle.LeadOpen)
	if err != nil {
		return fmt.Errorf("mark %s: %w", flag, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // another worker marked it, or the lead was closed meanwhile
	}
	payload := map[string]any{"model_id": m.ID, "model_key": m.Key, "model_version": m.Version, "score": score, "threshold": threshold,
		"reason": fmt.Sprintf("score %d under model %s v%d reached the %s threshold %d", score, m.Key, m.Version, strings.ReplaceAll(flag, "_", "-"), threshold)}
	if _, err := w.db.ExecQ(ctx, w.tx, "INSERT INTO lead_events (type, lead_id, payload, at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		event, int64(l.ID), jsonText(payload), micros(w.now)); err != nil {
		return fmt.Errorf("write %s event: %w", event, err)
	}
	return enqueueLeads(ctx, w.db, w.tx, "lead "+l.ID.String()+" marked "+strings.ReplaceAll(flag, "_", " "), "l.id = ?", int64(l.ID))
}

// settle removes a processed queue entry unless it was re-enqueued meanwhile
// (then it is released for the next round), and schedules the next change.
func (w *scoreWriter) settle(ctx context.Context, c queued, next time.Time) error {
	res, err := w.db.ExecQ(ctx, w.tx, "DELETE FROM score_queue WHERE lead_id = ? AND seq = ?", c.leadID, c.seq)
	if err != nil {
		return fmt.Errorf("settle scoring queue: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_, err := w.db.ExecQ(ctx, w.tx, "UPDATE score_queue SET claimed_until = 0 WHERE lead_id = ?", c.leadID)
		return err
	}
	if next.IsZero() {
		return nil
	}
	return scheduleLead(ctx, w.db, w.tx, c.leadID, next, "score changes with time")
}

// batch holds everything needed to score a set of leads.
type batch struct {
	leads     []*leadcycle.Lead
	contacts  map[leadcycle.ID]*leadcycle.Contact
	accounts  map[leadcycle.ID]*leadcycle.Account
	byContact map[leadcycle.ID][]leadcycle.Interaction
	byAccount map[leadcycle.ID][]leadcycle.Interaction
	scores    map[scoreKey]storedScore
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
func (s *Store) loadBatch(ctx context.Context, ids []int64, models []*scoring.Model, now time.Time, withScores bool) (*batch, error) {
	b := &batch{contacts: map[leadcycle.ID]*leadcycle.Contact{}, accounts: map[leadcycle.ID]*leadcycle.Account{},
		byContact: map[leadcycle.ID][]leadcycle.Interaction{}, byAccount: map[leadcycle.ID][]leadcycle.Interaction{}, scores: map[scoreKey]storedScore{}}
	leads, err := selectByIDs(ctx, s, s.leads, "id", ids)
	if err != nil {
		return nil, err
	}
	b.leads = make([]*leadcycle.Lead, len(leads))
	var contactIDs, accountIDs, contactTargets, accountTargets []int64
	for i := range leads {
		l := &leads[i]
		l.Normalize()
		b.leads[i] = l
		if l.ContactID != nil {
			contactIDs = append(contactIDs, int64(*l.ContactID))
		}
		if l.AccountID != nil {
			accountIDs = append(accountIDs, int64(*l.AccountID))
		}
	}
	contacts, err := selectByIDs(ctx, s, s.contacts, "id", contactIDs)
	if err != nil {
		return nil, err
	}
	for i := range contacts {
		b.contacts[contacts[i].ID] = &contacts[i]
		if a := contacts[i].AccountID; a != nil {
			accountIDs = append(accountIDs, int64(*a))
		}
	}
	accounts, err := selectByIDs(ctx, s, s.accounts, "id", accountIDs)
	if err != nil {
		return nil, err
	}
	for i := range accounts {
		b.accounts[accounts[i].ID] = &accounts[i]
	}
	need := interactionNeeds(models, now)
	for _, cm := range models {
		if cm.Def.Target == leadcycle.TargetAccount {
			accountTargets = accountIDsOf(b.leads)
		} else {
			contactTargets = contactIDs
		}
	}
	if err := s.loadInteractions(ctx, b, need, contactTargets, accountTargets); err != nil {
		return nil, err
	}
	if withScores && len(models) > 0 {
		if err := s.loadStoredScores(ctx, b, ids); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func accountIDsOf(leads []*leadcycle.Lead) []int64 {
	var out []int64
	for _, l := range leads {
		if l.AccountID != nil {
			out = append(out, int64(*l.AccountID))
		}
	}
	return out
}

// selectByIDs reads the records of a repo whose column is one of ids.
func selectByIDs[T leadcycle.Record](ctx context.Context, s *Store, r *repo[T], col string, ids []int64) ([]T, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	rows, err := s.QueryQ(ctx, s.R, r.selectSQL+" WHERE "+s.Dialect.InIDs(col), s.Dialect.IDsArg(ids))
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", r.t.name, err)
	}
	return scanAll(rows, scanRecord(r.t))
}

// needs says which interactions a set of models looks at.
type needs struct {
	types     []string
	since     time.Time // zero: all time
	withWhere map[string]bool
}

func interactionNeeds(models []*scoring.Model, now time.Time) needs {
	n := needs{withWhere: map[string]bool{}}
	allTime := false
	first := true
	for _, cm := range models {
		n.types = append(n.types, cm.InteractionTypes()...)
		if since, ok := cm.Since(now); !ok {
			allTime = true
		} else if len(cm.InteractionTypes()) > 0 && (first || since.Before(n.since)) {
			n.since, first = since, false
		}
		for _, r := range cm.Def.Rules {
			for _, b := range r.Behaviors {
				if b.Where != "" {
					n.withWhere[b.Type] = true
				}
			}
		}
	}
	if allTime {
		n.since = time.Time{}
	}
	slices.Sort(n.types)
	n.types = slices.Compact(n.types)
	return n
}

// loadInteractions reads the interactions of the target contacts and of all
// contacts of the target accounts.
func (s *Store) loadInteractions(ctx context.Context, b *batch, n needs, contactIDs, accountIDs []int64) error {
	if len(n.types) == 0 {
		return nil
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(n.types)), ", ")
	load := func(query string, ids []int64, add func(owner leadcycle.ID, i leadcycle.Interaction)) error {
		if len(ids) == 0 {
			return nil
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		args := []any{s.Dialect.IDsArg(ids), micros(n.since)}
		for _, t := range n.types {
			args = append(args, t)
		}
		rows, err := s.QueryQ(ctx, s.R, query, args...)
		if err != nil {
			return fmt.Errorf("load interactions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var i leadcycle.Interaction
			var owner leadcycle.ID
			var props []byte
			if err := rows.Scan(idCol{&owner}, idCol{&i.ID}, &i.Type, timeCol{&i.OccurredAt}, idCol{&i.ContactID}, nullIDCol{&i.LeadID}, nullIDCol{&i.AccountID}, &props); err != nil {
				return fmt.Errorf("load interactions: %w", err)
			}
			if n.withWhere[i.Type] {
				if err := (jsonCol{&i.Properties}).Scan(props); err != nil {
					return err
				}
			}
			add(owner, i)
		}
		return rows.Err()
	}
	cols := "i.id, i.type, i.occurred_at, i.contact_id, i.lead_id, i.account_id, i.properties"
	filter := " AND i.occurred_at >= ? AND i.type IN (" + marks + ")"
	if err := load("SELECT i.contact_id, "+cols+" FROM interactions i WHERE "+s.Dialect.InIDs("i.contact_id")+filter, contactIDs,
		func(o leadcycle.ID, i leadcycle.Interaction) { b.byContact[o] = append(b.byContact[o], i) }); err != nil {
		return err
	}
	return load("SELECT c.account_id, "+cols+" FROM contacts c JOIN interactions i ON i.contact_id = c.id WHERE "+s.Dialect.InIDs("c.account_id")+filter, accountIDs,
		func(o leadcycle.ID, i leadcycle.Interaction) { b.byAccount[o] = append(b.byAccount[o], i) })
}

func (s *Store) loadStoredScores(ctx context.Context, b *batch, ids []int64) error {
	rows, err := s.QueryQ(ctx, s.R, "SELECT lead_id, model_id, score, grade, rules FROM lead_scores WHERE "+s.Dialect.InIDs("lead_id"), s.Dialect.IDsArg(ids))
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
		v.rules = compactJSON(rules)
		b.scores[k] = v
	}
	return rows.Err()
}
