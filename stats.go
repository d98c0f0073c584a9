package leadcycle

// LeadStats are the counts the dashboards draw: the funnel, the sources,
// the statuses and the score distribution of each live model.
type LeadStats struct {
	// ByStage counts the open leads per stage key.
	ByStage []Count `json:"by_stage"`
	// BySource and ByStatus count every lead.
	BySource []Count `json:"by_source"`
	ByStatus []Count `json:"by_status"`
	// Scores holds one distribution per live scoring model.
	Scores []ScoreDistribution `json:"scores"`
	// NewThisWeek counts the leads created in the seven days before now.
	NewThisWeek int64 `json:"new_this_week"`
	// SalesReady and TelesalesReady count the open leads with the flag.
	SalesReady     int64 `json:"sales_ready"`
	TelesalesReady int64 `json:"telesales_ready"`
}

// Count is the number of records with one value.
type Count struct {
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

// ScoreDistribution is the histogram of one live model's scores: ten
// buckets of Width points from 0, the last one taking every higher score,
// and the negative scores counted apart.
type ScoreDistribution struct {
	ModelID             ID      `json:"model_id"`
	ModelKey            string  `json:"model_key"`
	ModelName           string  `json:"model_name"`
	SalesReadyThreshold *int64  `json:"sales_ready_threshold"`
	Negative            int64   `json:"negative"`
	Width               int64   `json:"width"`
	Buckets             []int64 `json:"buckets"`
	Total               int64   `json:"total"`
}
