package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/scoring"
)

var scoringModelTable = &table[leadcycle.ScoringModel]{
	name: "scoring_models", collection: "scoring-models",
	cols: []string{"key", "version", "name", "description", "status", "target", "applies_to", "rules", "grades",
		"sales_ready_threshold", "telesales_ready_threshold", "previous_version_id",
		"rescore_state", "rescore_total", "rescore_done", "rescore_scored", "rescore_unscorable", "rescore_started_at", "rescore_finished_at",
		"published_at", "stopped_at", "created_at", "updated_at"},
	values: func(m *leadcycle.ScoringModel) []any {
		r := &m.Rescore
		return []any{m.Key, m.Version, m.Name, m.Description, m.Status, m.Target, m.AppliesTo, jsonText(m.Rules), jsonText(m.Grades),
			m.SalesReadyThreshold, m.TelesalesReadyThreshold, nullID(m.PreviousVersionID),
			r.State, r.Total, r.Done, r.Scored, r.Unscorable, nullMicros(r.StartedAt), nullMicros(r.FinishedAt),
			nullMicros(m.PublishedAt), nullMicros(m.StoppedAt), micros(m.CreatedAt), micros(m.UpdatedAt)}
	},
	dests: func(m *leadcycle.ScoringModel) []any {
		r := &m.Rescore
		return []any{idCol{&m.ID}, &m.Key, &m.Version, &m.Name, &m.Description, &m.Status, &m.Target, &m.AppliesTo, jsonCol{&m.Rules}, jsonCol{&m.Grades},
			&m.SalesReadyThreshold, &m.TelesalesReadyThreshold, nullIDCol{&m.PreviousVersionID},
			&r.State, &r.Total, &r.Done, &r.Scored, &r.Unscorable, nullTimeCol{&r.StartedAt}, nullTimeCol{&r.FinishedAt},
			nullTimeCol{&m.PublishedAt}, nullTimeCol{&m.StoppedAt}, timeCol{&m.CreatedAt}, timeCol{&m.UpdatedAt}}
	},
	id: func(m *leadcycle.ScoringModel) *leadcycle.ID { return &m.ID },
	prepare: func(m *leadcycle.ScoringModel, now time.Time, create bool) error {
		m.Normalize()
		stamp(&m.CreatedAt, &m.UpdatedAt, now, create)
		return nil
	},
	// Compiling validates the model and type-checks its expressions against
	// the custom field schemas, reporting every problem at once.
	validate: func(ctx context.Context, db *DB, tx *sql.Tx, m *leadcycle.ScoringModel) error {
		_, err := compileModel(ctx, db, tx, m)
		return err
	},
	beforeUpdate: func(old, m *leadcycle.ScoringModel) error {
		if old.Status != leadcycle.ModelDraft {
			return leadcycle.Errorf(leadcycle.EConflict, "scoring model %s is %s and cannot be edited in place; edit it to make a new draft version", old.ID, old.Status)
		}
		if m.Key != old.Key && old.Version > 1 {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "key", "cannot be changed after the first version")
		}
		// The lifecycle fields change only through Publish and Stop.
		m.Status, m.Version, m.PreviousVersionID = old.Status, old.Version, old.PreviousVersionID
		m.Rescore, m.PublishedAt, m.StoppedAt = old.Rescore, old.PublishedAt, old.StoppedAt
		return nil
	},
	beforeDelete: func(ctx context.Context, db *DB, tx *sql.Tx, m *leadcycle.ScoringModel) error {
		if m.Status == leadcycle.ModelLive {
			return leadcycle.Errorf(leadcycle.EConflict, "scoring model %s is live; stop it before deleting it", m.ID)
		}
		return nil
	},
}

// compileModel compiles a model against the current custom field schemas.
func compileModel(ctx context.Context, db *DB, q querier, m *leadcycle.ScoringModel) (*scoring.Model, error) {
	schemas, err := loadSchemas(ctx, db, q)
	if err != nil {
		return nil, err
	}
	return scoring.Compile(m, schemas)
}

// modelCache keeps compiled models by id and version time, so the scorer
// compiles each model once.
type modelCache struct {
	mu     sync.Mutex
	byID   map[leadcycle.ID]*scoring.Model
	stamps map[leadcycle.ID]time.Time
}

func (c *modelCache) get(ctx context.Context, db *DB, m *leadcycle.ScoringModel) (*scoring.Model, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID, c.stamps = map[leadcycle.ID]*scoring.Model{}, map[leadcycle.ID]time.Time{}
	}
	if cm, ok := c.byID[m.ID]; ok && c.stamps[m.ID].Equal(m.UpdatedAt) && cm.Def.Status == m.Status {
		return cm, nil
	}
	cm, err := compileModel(ctx, db, db.R, m)
	if err != nil {
		return nil, fmt.Errorf("compile scoring model %s: %w", m.ID, err)
	}
	c.byID[m.ID], c.stamps[m.ID] = cm, m.UpdatedAt
	return cm, nil
}

// scoringStore implements leadcycle.ScoringStore.
type scoringStore struct{ s *Store }

// Scoring implements leadcycle.Store.
func (s *Store) Scoring() leadcycle.ScoringStore { return scoringStore{s} }

// ScoringModels implements leadcycle.Store.
func (s *Store) ScoringModels() leadcycle.Repo[leadcycle.ScoringModel] { return s.scoringModels }

// NewVersion implements leadcycle.ScoringStore.
func (x scoringStore) NewVersion(ctx context.Context, id leadcycle.ID, fn func(*leadcycle.ScoringModel) error) (*leadcycle.ScoringModel, error) {
	var out *leadcycle.ScoringModel
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		cur, err := x.s.scoringModels.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if cur.Status == leadcycle.ModelDraft {
			return leadcycle.Errorf(leadcycle.EConflict, "scoring model %s is a draft; edit it in place", id)
		}
		var latest int
		if err := x.s.QueryRowQ(ctx, tx, "SELECT MAX(version) FROM scoring_models WHERE key = ?", cur.Key).Scan(&latest); err != nil {
			return fmt.Errorf("new version: %w", err)
		}
		next := *cur
		if err := fn(&next); err != nil {
			return err
		}
		if next.Key != cur.Key {
			return leadcycle.FieldErrorf(leadcycle.EInvalid, "key", "cannot be changed in a new version; create a new model instead")
		}
		prev := cur.ID
		next.ID, next.Key, next.Version, next.Status, next.PreviousVersionID = 0, cur.Key, latest+1, leadcycle.ModelDraft, &prev
		next.Rescore, next.PublishedAt, next.StoppedAt = leadcycle.RescoreProgress{}, nil, nil
		if err := x.s.scoringModels.createTx(ctx, tx, &next); err != nil {
			if e := (*leadcycle.Error)(nil); errors.As(err, &e) && e.Code == leadcycle.EConflict {
				return leadcycle.Errorf(leadcycle.EConflict, "scoring model %s already has a draft version; edit that one", cur.Key)
			}
			return err
		}
		out = &next
		return nil
	})
	return out, err
}

// Publish implements leadcycle.ScoringStore.
func (x scoringStore) Publish(ctx context.Context, id leadcycle.ID) (*leadcycle.ScoringModel, error) {
	now := x.s.Clock.Now()
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		m, err := x.s.scoringModels.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if m.Status != leadcycle.ModelDraft {
			return leadcycle.Errorf(leadcycle.EConflict, "scoring model %s is %s; only a draft can be published", id, m.Status)
		}
		if _, err := compileModel(ctx, x.s.DB, tx, m); err != nil {
			return err
		}
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE scoring_models SET status = ?, stopped_at = ?, updated_at = ? WHERE key = ? AND status = ?",
			leadcycle.ModelStopped, micros(now), micros(now), m.Key, leadcycle.ModelLive); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		var total int64
		if err := x.s.QueryRowQ(ctx, tx, "SELECT COUNT(*) FROM leads").Scan(&total); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		_, err = x.s.ExecQ(ctx, tx, `UPDATE scoring_models SET status = ?, published_at = ?, updated_at = ?,
			rescore_state = ?, rescore_total = ?, rescore_done = 0, rescore_scored = 0, rescore_unscorable = 0,
			rescore_started_at = ?, rescore_finished_at = NULL, rescore_cursor = 0, rescore_lease = 0 WHERE id = ?`,
			leadcycle.ModelLive, micros(now), micros(now), leadcycle.RescoreRunning, total, micros(now), int64(id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return x.s.scoringModels.Get(ctx, id)
}

// Stop implements leadcycle.ScoringStore.
func (x scoringStore) Stop(ctx context.Context, id leadcycle.ID, keepScores bool) (*leadcycle.ScoringModel, error) {
	now := x.s.Clock.Now()
	err := x.s.InTx(ctx, func(tx *sql.Tx) error {
		m, err := x.s.scoringModels.get(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if m.Status != leadcycle.ModelLive {
			return leadcycle.Errorf(leadcycle.EConflict, "scoring model %s is %s; only a live model can be stopped", id, m.Status)
		}
		state := m.Rescore.State
		if state == leadcycle.RescoreRunning {
			state = leadcycle.RescoreIdle
		}
		if _, err := x.s.ExecQ(ctx, tx, "UPDATE scoring_models SET status = ?, stopped_at = ?, updated_at = ?, rescore_state = ? WHERE id = ?",
			leadcycle.ModelStopped, micros(now), micros(now), state, int64(id)); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
		if keepScores {
			return nil
		}
		return clearModelScores(ctx, x.s.DB, tx, id, fmt.Sprintf("model %s v%d stopped, scores cleared", m.Key, m.Version), now)
	})
	if err != nil {
		return nil, err
	}
	return x.s.scoringModels.Get(ctx, id)
}

// clearModelScores deletes a model's scores, writing each removal to the ledger.
func clearModelScores(ctx context.Context, db *DB, tx *sql.Tx, id leadcycle.ID, cause string, now time.Time) error {
	if _, err := db.ExecQ(ctx, tx, `INSERT INTO score_ledger (lead_id, model_id, old_score, new_score, old_grade, new_grade, cause, at)
		SELECT lead_id, model_id, score, NULL, grade, '', ?, ? FROM lead_scores WHERE model_id = ?`, cause, micros(now), int64(id)); err != nil {
		return fmt.Errorf("clear scores: %w", err)
	}
	if err := enqueueModelContacts(ctx, db, tx, id); err != nil {
		return err
	}
	if _, err := db.ExecQ(ctx, tx, "DELETE FROM lead_scores WHERE model_id = ?", int64(id)); err != nil {
		return fmt.Errorf("clear scores: %w", err)
	}
	return nil
}

// LeadScores implements leadcycle.ScoringStore.
func (x scoringStore) LeadScores(ctx context.Context, leadID leadcycle.ID) ([]leadcycle.LeadScoreDetail, error) {
	if _, err := x.s.leads.get(ctx, x.s.R, leadID, false); err != nil {
		return nil, err
	}
	rows, err := x.s.QueryQ(ctx, x.s.R, `SELECT s.model_id, m.key, m.name, m.version, m.status, s.score, s.grade, s.rules,
		m.sales_ready_threshold, m.telesales_ready_threshold, s.computed_at
		FROM lead_scores s JOIN scoring_models m ON m.id = s.model_id WHERE s.lead_id = ? ORDER BY m.key, m.version`, int64(leadID))
	if err != nil {
		return nil, fmt.Errorf("lead scores: %w", err)
	}
	return scanAll(rows, func(r scanner) (leadcycle.LeadScoreDetail, error) {
		d := leadcycle.LeadScoreDetail{Applies: true, Scorable: true}
		err := r.Scan(idCol{&d.ModelID}, &d.ModelKey, &d.ModelName, &d.ModelVersion, &d.ModelStatus, &d.Score, &d.Grade, jsonCol{&d.Rules},
			&d.SalesReadyThreshold, &d.TelesalesReadyThreshold, timeCol{&d.ComputedAt})
		if d.Rules == nil {
			d.Rules = []leadcycle.RuleContribution{}
		}
		return d, err
	})
}

// PreviewScore implements leadcycle.ScoringStore.
func (x scoringStore) PreviewScore(ctx context.Context, modelID, leadID leadcycle.ID) (leadcycle.LeadScoreDetail, error) {
	var d leadcycle.LeadScoreDetail
	m, err := x.s.scoringModels.Get(ctx, modelID)
	if err != nil {
		return d, err
	}
	cm, err := compileModel(ctx, x.s.DB, x.s.R, m)
	if err != nil {
		return d, err
	}
	now := x.s.Clock.Now()
	b, err := x.s.loadBatch(ctx, x.s.R, []int64{int64(leadID)}, []*scoring.Model{cm}, now, batchRead{scores: true})
	if err != nil {
		return d, err
	}
	if len(b.leads) == 0 {
		return d, x.s.leads.notFound(leadID)
	}
	res := cm.Score(b.subject(b.leads[0], cm), now)
	d = leadcycle.LeadScoreDetail{ModelID: m.ID, ModelKey: m.Key, ModelName: m.Name, ModelVersion: m.Version, ModelStatus: m.Status,
		Applies: res.Applies, Scorable: res.Scorable, Score: res.Score, Grade: res.Grade, Rules: res.Rules,
		SalesReadyThreshold: m.SalesReadyThreshold, TelesalesReadyThreshold: m.TelesalesReadyThreshold, ComputedAt: now}
	if d.Rules == nil {
		d.Rules = []leadcycle.RuleContribution{}
	}
	return d, nil
}

// ScoreHistory implements leadcycle.ScoringStore.
func (x scoringStore) ScoreHistory(ctx context.Context, leadID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.ScoreChange], error) {
	if _, err := x.s.leads.get(ctx, x.s.R, leadID, false); err != nil {
		return leadcycle.Page[leadcycle.ScoreChange]{Items: []leadcycle.ScoreChange{}}, err
	}
	return newestFirst(ctx, x.s.DB, q, "SELECT "+scoreChangeCols+" FROM score_ledger WHERE lead_id = ?",
		[]any{int64(leadID)}, scanScoreChange, func(c leadcycle.ScoreChange) leadcycle.ID { return c.ID })
}

const scoreChangeCols = "id, lead_id, model_id, old_score, new_score, old_grade, new_grade, cause, at"

// scanScoreChange scans a row of scoreChangeCols.
func scanScoreChange(r scanner) (leadcycle.ScoreChange, error) {
	var c leadcycle.ScoreChange
	err := r.Scan(idCol{&c.ID}, idCol{&c.LeadID}, idCol{&c.ModelID}, &c.OldScore, &c.NewScore, &c.OldGrade, &c.NewGrade, &c.Cause, timeCol{&c.At})
	return c, err
}

// newestFirst reads one page of rows in descending id order below q's
// cursor: query selects from one table with a WHERE clause, args are its
// placeholders, idOf gives a row's id for the next cursor.
func newestFirst[T any](ctx context.Context, db *DB, q leadcycle.ListQuery, query string, args []any, scan func(scanner) (T, error), idOf func(T) leadcycle.ID) (leadcycle.Page[T], error) {
	page := leadcycle.Page[T]{Items: []T{}}
	before, limit, err := idCursor(q)
	if err != nil {
		return page, err
	}
	rows, err := db.QueryQ(ctx, db.R, query+" AND id < ? ORDER BY id DESC LIMIT ?", append(args, before, limit+1)...)
	if err != nil {
		return page, fmt.Errorf("list: %w", err)
	}
	items, err := scanAll(rows, scan)
	if err != nil {
		return page, err
	}
	if len(items) > limit {
		items = items[:limit]
		page.NextCursor = strconv.FormatInt(int64(idOf(items[limit-1])), 10)
	}
	if items != nil {
		page.Items = items
	}
	return page, nil
}

// idCursor reads a descending id cursor and the page size of q.
func idCursor(q leadcycle.ListQuery) (before int64, limit int, err error) {
	before = 1<<63 - 1
	if q.Cursor != "" {
		before, err = strconv.ParseInt(q.Cursor, 10, 64)
		if err != nil || before <= 0 {
			return 0, 0, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor returned by this list")
		}
	}
	limit = q.Limit
	if limit <= 0 {
		limit = leadcycle.DefaultLimit
	}
	return before, min(limit, leadcycle.MaxLimit), nil
}

// UnscorableLeads implements leadcycle.ScoringStore.
func (x scoringStore) UnscorableLeads(ctx context.Context, modelID leadcycle.ID, q leadcycle.ListQuery) (leadcycle.Page[leadcycle.Lead], error) {
	page := leadcycle.Page[leadcycle.Lead]{Items: []leadcycle.Lead{}}
	m, err := x.s.scoringModels.Get(ctx, modelID)
	if err != nil {
		return page, err
	}
	cm, err := compileModel(ctx, x.s.DB, x.s.R, m)
	if err != nil {
		return page, err
	}
	after := int64(0)
	if q.Cursor != "" {
		if after, err = strconv.ParseInt(q.Cursor, 10, 64); err != nil || after < 0 {
			return page, leadcycle.FieldErrorf(leadcycle.EInvalid, "cursor", "is not a cursor returned by this list")
		}
	}
	limit := q.Limit
	if limit <= 0 {
		limit = leadcycle.DefaultLimit
	}
	limit = min(limit, leadcycle.MaxLimit)
	parent := "contact_id"
	if m.Target == leadcycle.TargetAccount {
		parent = "account_id"
	}
	now := x.s.Clock.Now()
	for len(page.Items) <= limit {
		var ids []int64
		rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT id FROM leads WHERE "+parent+" IS NULL AND id > ? ORDER BY id LIMIT ?", after, 500)
		if err != nil {
			return page, fmt.Errorf("unscorable leads: %w", err)
		}
		if ids, err = scanAll(rows, func(r scanner) (int64, error) { var id int64; return id, r.Scan(&id) }); err != nil {
			return page, err
		}
		if len(ids) == 0 {
			break
		}
		after = ids[len(ids)-1]
		b, err := x.s.loadBatch(ctx, x.s.R, ids, nil, now, batchRead{})
		if err != nil {
			return page, err
		}
		for _, l := range b.leads {
			if res := cm.Score(b.subject(l, cm), now); res.Applies && !res.Scorable {
				page.Items = append(page.Items, *l)
			}
		}
	}
	if len(page.Items) > limit {
		page.Items = page.Items[:limit]
		page.NextCursor = strconv.FormatInt(int64(page.Items[limit-1].ID), 10)
	}
	return page, nil
}

// LeadEvents implements leadcycle.ScoringStore.
func (x scoringStore) LeadEvents(ctx context.Context, afterID leadcycle.ID, limit int) ([]leadcycle.LeadEvent, error) {
	if limit <= 0 || limit > leadcycle.MaxLimit {
		limit = leadcycle.MaxLimit
	}
	rows, err := x.s.QueryQ(ctx, x.s.R, "SELECT id, type, lead_id, payload, at FROM outbox WHERE id > ? AND type IN (?, ?) ORDER BY id LIMIT ?",
		int64(afterID), leadcycle.EventLeadSalesReady, leadcycle.EventLeadTelesalesReady, limit)
	if err != nil {
		return nil, fmt.Errorf("lead events: %w", err)
	}
	return scanAll(rows, func(r scanner) (leadcycle.LeadEvent, error) {
		var e leadcycle.LeadEvent
		err := r.Scan(idCol{&e.ID}, &e.Type, idCol{&e.LeadID}, jsonCol{&e.Payload}, timeCol{&e.At})
		return e, err
	})
}

// loadLeadScores fills the Scores of leads read by Get and List.
func loadLeadScores(ctx context.Context, db *DB, q querier, leads []*leadcycle.Lead) error {
	ids := make([]int64, len(leads))
	byID := make(map[int64]*leadcycle.Lead, len(leads))
	for i, l := range leads {
		ids[i] = int64(l.ID)
		byID[int64(l.ID)] = l
		l.Scores = []leadcycle.LeadScore{}
	}
	rows, err := db.QueryQ(ctx, q, "SELECT lead_id, model_id, score, grade FROM lead_scores WHERE "+db.Dialect.InIDs("lead_id")+" ORDER BY lead_id, model_id", db.Dialect.IDsArg(ids))
	if err != nil {
		return fmt.Errorf("lead scores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var leadID int64
		var s leadcycle.LeadScore
		if err := rows.Scan(&leadID, idCol{&s.ModelID}, &s.Score, &s.Grade); err != nil {
			return fmt.Errorf("lead scores: %w", err)
		}
		if l := byID[leadID]; l != nil {
			l.Scores = append(l.Scores, s)
		}
	}
	return rows.Err()
}

// AddInteractions implements leadcycle.Store. It reads the contacts of the
// whole batch in one query, writes the batch in multi-row statements and
// queues the affected leads for scoring in at most two, however many
// interactions the batch holds (none on SQLite, whose scorer reads new
// interactions by id).
func (s *Store) AddInteractions(ctx context.Context, items []leadcycle.Interaction) error {
	now := s.Clock.Now()
	for i := range items {
		if err := interactionTable.prepare(&items[i], now, true); err != nil {
			return itemError(i, err)
		}
	}
	if len(items) == 0 {
		return nil
	}
	return s.InTxRetry(ctx, func(tx *sql.Tx) error {
		accounts, err := s.contactAccounts(ctx, tx, items)
		if err != nil {
			return err
		}
		for i := range items {
			it := &items[i]
			acc, ok := accounts[it.ContactID]
			if !ok {
				return itemError(i, leadcycle.FieldErrorf(leadcycle.EInvalid, "contact_id", "contact %s does not exist", it.ContactID))
			}
			if it.LeadID != nil || it.AccountID != nil {
				if err := s.interactions.check(ctx, tx, it); err != nil {
					return itemError(i, err)
				}
			}
			if it.AccountID == nil && acc != 0 {
				it.AccountID = leadcycle.IDPtr(acc)
			}
		}
		if err := s.insertInteractions(ctx, tx, items); err != nil {
			return err
		}
		contactIDs := make([]int64, len(items))
		var accountIDs []int64
		for i := range items {
			it := &items[i]
			// Journeys the interaction triggers, and branches waiting for it.
			if err := interactionJourneys(ctx, s.DB, tx, nil, it); err != nil {
				return itemError(i, err)
			}
			contactIDs[i] = int64(it.ContactID)
			accountIDs = append(accountIDs, idsOf(it.AccountID)...)
		}
		if err := whenSegmentsRead(ctx, s.DB, tx, "interactions", func() error { return enqueueSegmentIDs(ctx, s.DB, tx, contactIDs) }); err != nil {
			return err
		}
		// The batch's ids follow each other: when the first is after the
		// ranges the scorer has taken, so are the others, and it will read
		// them by id (see scorer_tail.go).
		if covered, err := s.tailCovers(ctx, tx, items[0].ID); err != nil || covered {
			return err
		}
		cause := fmt.Sprintf("interaction %s (%s)", items[0].ID, items[0].Type)
		if len(items) > 1 {
			cause = fmt.Sprintf("%d interactions (%s…%s)", len(items), items[0].ID, items[len(items)-1].ID)
		}
		return enqueueLeadsOf(ctx, s.DB, tx, cause, contactIDs, accountIDs)
	})
}

// insertInteractions writes checked interactions with ids reserved for them,
// in multi-row statements.
func (s *Store) insertInteractions(ctx context.Context, tx *sql.Tx, items []leadcycle.Interaction) error {
	if len(items) == 0 {
		return nil
	}
	ids, err := s.Dialect.NextIDs(ctx, tx, "interactions", len(items))
	if err != nil {
		return fmt.Errorf("reserve interaction ids: %w", err)
	}
	rows := make([][]any, len(items))
	for i := range items {
		items[i].ID = leadcycle.ID(ids[i])
		rows[i] = append([]any{ids[i]}, interactionTable.values(&items[i])...)
	}
	prefix := "INSERT INTO interactions (id, " + strings.Join(interactionTable.cols, ", ") + ") VALUES "
	if err := execRows(ctx, s.DB, tx, prefix, "", rows); err != nil {
		return s.interactions.writeErr(err)
	}
	return nil
}

// contactAccounts returns the account (0 for none) of every contact the
// items refer to that exists.
func (s *Store) contactAccounts(ctx context.Context, tx *sql.Tx, items []leadcycle.Interaction) (map[leadcycle.ID]leadcycle.ID, error) {
	ids := make([]int64, len(items))
	for i := range items {
		ids[i] = int64(items[i].ContactID)
	}
	rows, err := s.QueryQ(ctx, tx, "SELECT id, account_id FROM contacts WHERE "+s.Dialect.InIDs("id"), s.Dialect.IDsArg(uniqueIDs(ids)))
	if err != nil {
		return nil, fmt.Errorf("contacts of interactions: %w", err)
	}
	defer rows.Close()
	out := make(map[leadcycle.ID]leadcycle.ID, len(ids))
	for rows.Next() {
		var id int64
		var acc sql.NullInt64
		if err := rows.Scan(&id, &acc); err != nil {
			return nil, fmt.Errorf("contacts of interactions: %w", err)
		}
		out[leadcycle.ID(id)] = leadcycle.ID(acc.Int64)
	}
	return out, rows.Err()
}

// uniqueIDs sorts ids and drops repeats, in place.
func uniqueIDs(ids []int64) []int64 {
	slices.Sort(ids)
	return slices.Compact(ids)
}

// itemError prefixes the fields of a validation error with items[i].
func itemError(i int, err error) error {
	var e *leadcycle.Error
	if !errors.As(err, &e) {
		return fmt.Errorf("items[%d]: %w", i, err)
	}
	out := &leadcycle.Error{Code: e.Code, Message: fmt.Sprintf("items[%d]: %s", i, e.Message)}
	for _, f := range e.Fields {
		out.Fields = append(out.Fields, leadcycle.FieldError{Field: fmt.Sprintf("items[%d].%s", i, f.Field), Message: f.Message})
	}
	if len(out.Fields) == 0 {
		out.Fields = []leadcycle.FieldError{{Field: fmt.Sprintf("items[%d]", i), Message: e.Message}}
	}
	return out
}

// rulesJSON renders a score's explanation as stored.
func rulesJSON(rules []leadcycle.RuleContribution) string {
	if len(rules) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(rules)
	return string(b)
}

// compactJSON renders a stored explanation the way rulesJSON does, so that
// PostgreSQL's reformatted JSONB compares equal.
func compactJSON(b []byte) string {
	var rules []leadcycle.RuleContribution
	if err := json.Unmarshal(b, &rules); err != nil {
		return string(b)
	}
	return rulesJSON(rules)
}
