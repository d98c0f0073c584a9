package web

import (
	"reflect"

	"github.com/leadcycle/leadcycle"
)

// OpenAPI of the lead statistics: the route of registerStats.

func init() {
	schemaTypes["LeadStats"] = reflect.TypeFor[leadcycle.LeadStats]()
	for k, d := range map[string]string{
		"LeadStats.by_stage":                      "Open leads per stage key, whatever their business process; highest count first, then by key.",
		"LeadStats.by_source":                     "Every lead per source; highest count first, then by key.",
		"LeadStats.by_status":                     "Every lead per status; highest count first, then by key.",
		"LeadStats.scores":                        "One distribution per live scoring model, by model key.",
		"LeadStats.new_this_week":                 "Leads created in the seven days up to now.",
		"LeadStats.sales_ready":                   "Open leads marked sales ready.",
		"LeadStats.telesales_ready":               "Open leads marked telesales ready.",
		"ScoreDistribution.negative":              "Scores below 0.",
		"ScoreDistribution.width":                 "Points per bucket (at least 1): the ten buckets cover the highest score and the sales-ready threshold.",
		"ScoreDistribution.buckets":               "Ten counts: bucket i holds the scores from i×width to (i+1)×width − 1; the last also holds every higher score.",
		"ScoreDistribution.total":                 "Every score of the model, the negative ones included, of leads of any status.",
		"ScoreDistribution.sales_ready_threshold": "The model's sales-ready threshold, if it has one.",
	} {
		fieldDescriptions[k] = d
	}
	operations = append(operations, operation{"GET", leadStatsPath, "Lead counts for dashboards: open leads per stage, leads per source and status, new this week, sales and telesales ready, and each live model's score distribution", "lead-stats", "leads"})
	operationDescribers["lead-stats"] = describeLeadStats
}

func describeLeadStats(op operation, out obj) obj {
	responses := out["responses"].(obj)
	out["operationId"] = "getLeadStats"
	responses["200"] = jsonResponse("The counts, as of now", ref("LeadStats"))
	responses["401"] = problemResponse("No valid API key")
	responses["403"] = problemResponse("The role may not read every lead (telesales and sales see only their own scope)")
	return out
}
