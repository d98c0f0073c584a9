package leadcycle

// LeadStats are the counts the dashboards draw: the funnel, the sources,
// the statuses and the score distribution of each live model. Every list
// is sorted by count, highest first, then by key.
type LeadStats struct {
	// ByStage counts the open leads per stage key, whatever their process.
	ByStage []Count `json:"by_stage"`
	// BySource counts every lead per source.
	BySource []Count `json:"by_source"`
	// ByStatus counts every lead per status.
	ByStatus []Count `json:"by_status"`
	// Scores holds one distribution per live scoring model, by model key.
	Scores []ScoreDistribution `json:"scores"`
	// NewThisWeek counts the leads created in the seven days up to now.
	NewThisWeek int64 `json:"new_this_week"`
	// SalesReady counts the open leads marked sales ready.
	SalesReady int64 `json:"sales_ready"`
	// TelesalesReady counts the open leads marked telesales ready.
	TelesalesReady int64 `json:"telesales_ready"`
}

// Count is the number of records with one value of a field.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// ScoreBuckets is the number of buckets of a ScoreDistribution.
const ScoreBuckets = 10

// ScoreDistribution is the histogram of one live model's scores (of every
// lead it scores, whatever the lead's status): ScoreBuckets buckets of Width
// points from 0, with the negative scores counted apart.
type ScoreDistribution struct {
	ModelID             ID     `json:"model_id"`
	ModelKey            string `json:"model_key"`
	ModelName           string `json:"model_name"`
	SalesReadyThreshold *int64 `json:"sales_ready_threshold"`
	// Negative counts the scores below 0.
	Negative int64 `json:"negative"`
	// Width is the number of points of a bucket, at least 1; the buckets
	// cover the highest score and the sales-ready threshold.
	Width int64 `json:"width"`
	// Buckets[i] counts the scores from i×Width to (i+1)×Width − 1; the
	// last bucket also counts every higher score.
	Buckets []int64 `json:"buckets"`
	// Total counts every score, negative ones included.
	Total int64 `json:"total"`
}

// NewScoreDistribution returns an empty distribution whose buckets cover
// scores up to top: Width is top/ScoreBuckets rounded up, at least 1.
func NewScoreDistribution(top int64) ScoreDistribution {
	width := int64(1)
	if top > ScoreBuckets {
		width = (top + ScoreBuckets - 1) / ScoreBuckets
	}
	return ScoreDistribution{Width: width, Buckets: make([]int64, ScoreBuckets)}
}

// Add counts n scores of the value score.
func (d *ScoreDistribution) Add(score, n int64) {
	d.Total += n
	if score < 0 {
		d.Negative += n
		return
	}
	d.Buckets[min(score/d.Width, ScoreBuckets-1)] += n
}
