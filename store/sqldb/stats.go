package sqldb

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/leadcycle/leadcycle"
)

// week is the window of LeadStats.NewThisWeek.
const week = 7 * 24 * time.Hour

// LeadStats implements leadcycle.Store. Each count is exact; the queries
// run one after the other on the read pool, so counts taken while leads
// change may be a moment apart.
func (s *Store) LeadStats(ctx context.Context, now time.Time) (*leadcycle.LeadStats, error) {
	st := &leadcycle.LeadStats{}
	var err error
	if st.ByStage, err = s.counts(ctx, "SELECT stage, COUNT(*) FROM leads WHERE status = ? GROUP BY stage", leadcycle.LeadOpen); err != nil {
		return nil, fmt.Errorf("leads by stage: %w", err)
	}
	if st.BySource, err = s.counts(ctx, "SELECT source, COUNT(*) FROM leads GROUP BY source"); err != nil {
		return nil, fmt.Errorf("leads by source: %w", err)
	}
	if st.ByStatus, err = s.counts(ctx, "SELECT status, COUNT(*) FROM leads GROUP BY status"); err != nil {
		return nil, fmt.Errorf("leads by status: %w", err)
	}
	if err := s.leadTotals(ctx, now, st); err != nil {
		return nil, fmt.Errorf("lead totals: %w", err)
	}
	if st.Scores, err = s.scoreDistributions(ctx); err != nil {
		return nil, fmt.Errorf("score distributions: %w", err)
	}
	return st, nil
}

// counts runs a query of (key, count) rows and sorts them by count, highest
// first, then by key (in Go, so that both databases order keys the same).
func (s *Store) counts(ctx context.Context, query string, args ...any) ([]leadcycle.Count, error) {
	rows, err := s.QueryQ(ctx, s.R, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := scanAll(rows, func(r scanner) (leadcycle.Count, error) {
		var c leadcycle.Count
		return c, r.Scan(&c.Key, &c.Count)
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b leadcycle.Count) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	return out, nil
}

// leadTotals counts, in one pass, the leads created in the week up to now
// and the open leads marked sales ready and telesales ready.
func (s *Store) leadTotals(ctx context.Context, now time.Time, st *leadcycle.LeadStats) error {
	return s.QueryRowQ(ctx, s.R, `SELECT
		COUNT(CASE WHEN created_at > ? AND created_at <= ? THEN 1 END),
		COUNT(CASE WHEN status = ? AND sales_ready = ? THEN 1 END),
		COUNT(CASE WHEN status = ? AND telesales_ready = ? THEN 1 END)
		FROM leads`, micros(now.Add(-week)), micros(now), leadcycle.LeadOpen, true, leadcycle.LeadOpen, true,
	).Scan(&st.NewThisWeek, &st.SalesReady, &st.TelesalesReady)
}

// scoreRow is one score value of a live model and how many leads have it;
// a model without scores has one row with no score.
type scoreRow struct {
	id        leadcycle.ID
	key, name string
	threshold sql.NullInt64
	score     sql.NullInt64
	count     int64
}

// scoreDistributions reads the live models and their scores in one query,
// so that both come from the same moment, and buckets the scores.
func (s *Store) scoreDistributions(ctx context.Context) ([]leadcycle.ScoreDistribution, error) {
	// The counts are of live models only: a stopped model may keep its
	// scores, and counting them would be work for nothing.
	counts := s.Dialect.ScoreCounts("model_id IN (SELECT id FROM scoring_models WHERE status = ?)")
	rows, err := s.QueryQ(ctx, s.R, `SELECT m.id, m.key, m.name, m.sales_ready_threshold, ls.score, COALESCE(ls.leads, 0)
		FROM scoring_models m LEFT JOIN (`+counts+`) ls ON ls.model_id = m.id
		WHERE m.status = ?`, leadcycle.ModelLive, leadcycle.ModelLive)
	if err != nil {
		return nil, err
	}
	list, err := scanAll(rows, func(r scanner) (scoreRow, error) {
		var x scoreRow
		return x, r.Scan(idCol{&x.id}, &x.key, &x.name, &x.threshold, &x.score, &x.count)
	})
	if err != nil {
		return nil, err
	}
	return distributions(list), nil
}

// distributions buckets the rows per model, sorted by model key, each
// sized to cover the model's highest score and its threshold.
func distributions(list []scoreRow) []leadcycle.ScoreDistribution {
	slices.SortFunc(list, func(a, b scoreRow) int { return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.id, b.id)) })
	out := []leadcycle.ScoreDistribution{}
	for start := 0; start < len(list); {
		end := start + 1
		for end < len(list) && list[end].id == list[start].id {
			end++
		}
		out = append(out, distribution(list[start:end]))
		start = end
	}
	return out
}

// distribution buckets the rows of one model.
func distribution(rows []scoreRow) leadcycle.ScoreDistribution {
	m := rows[0]
	top := m.threshold.Int64 // 0 without a threshold
	for _, x := range rows {
		if x.score.Valid {
			top = max(top, x.score.Int64)
		}
	}
	d := leadcycle.NewScoreDistribution(top)
	d.ModelID, d.ModelKey, d.ModelName = m.id, m.key, m.name
	if m.threshold.Valid {
		d.SalesReadyThreshold = &m.threshold.Int64
	}
	for _, x := range rows {
		if x.score.Valid {
			d.Add(x.score.Int64, x.count)
		}
	}
	return d
}
