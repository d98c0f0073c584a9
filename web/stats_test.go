package web_test

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/store/storetest"
)

func TestLeadStats(t *testing.T) {
	ts := newTestServer(t)
	ctx, st := context.Background(), ts.store
	director := storetest.MustCreateContact(t, ctx, st, &leadcycle.Contact{FirstName: "Uxía", JobTitle: "Director"})
	engineer := storetest.MustCreateContact(t, ctx, st, &leadcycle.Contact{FirstName: "Bo", JobTitle: "Engineer"})
	storetest.MustCreateLead(t, ctx, st, &leadcycle.Lead{Topic: "director", ContactID: &director.ID, Source: leadcycle.SourceForm})
	storetest.MustCreateLead(t, ctx, st, &leadcycle.Lead{Topic: "engineer", ContactID: &engineer.ID, Source: leadcycle.SourceAPI,
		Stage: leadcycle.StageTelesalesAcceptance, TelesalesReady: true})
	storetest.MustCreateLead(t, ctx, st, &leadcycle.Lead{Topic: "lost", Source: leadcycle.SourceManual, Status: leadcycle.LeadDisqualified, StatusReason: "lost"})
	threshold := int64(80)
	fit := storetest.MustPublishModel(t, ctx, st, &leadcycle.ScoringModel{Name: "Fit", SalesReadyThreshold: &threshold,
		Rules: []leadcycle.ScoringRule{{Name: "Director", Points: 100, Conditions: []string{`contact.job_title == "Director"`}}}})

	r := ts.do(t, "GET", "/api/v1/lead-stats", leadcycle.RoleMarketer, nil)
	if r.status != 200 {
		t.Fatalf("lead stats: %d %s", r.status, r.body)
	}
	var got leadcycle.LeadStats
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	want := leadcycle.LeadStats{
		ByStage:  []leadcycle.Count{{Key: leadcycle.StageInquiry, Count: 1}, {Key: leadcycle.StageTelesalesAcceptance, Count: 1}},
		BySource: []leadcycle.Count{{Key: leadcycle.SourceAPI, Count: 1}, {Key: leadcycle.SourceForm, Count: 1}, {Key: leadcycle.SourceManual, Count: 1}},
		ByStatus: []leadcycle.Count{{Key: leadcycle.LeadOpen, Count: 2}, {Key: leadcycle.LeadDisqualified, Count: 1}},
		// Scores 100 and 0: the width is 10 and 100 falls in the last bucket.
		Scores: []leadcycle.ScoreDistribution{{ModelID: fit.ID, ModelKey: "fit", ModelName: "Fit", SalesReadyThreshold: &threshold,
			Width: 10, Buckets: []int64{1, 0, 0, 0, 0, 0, 0, 0, 0, 1}, Total: 2}},
		NewThisWeek: 3, SalesReady: 1, TelesalesReady: 1,
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("lead stats:\n got %s\nwant %s", r.body, mustJSON(t, want))
	}
	m := r.json(t)
	if m["new_this_week"] != 3.0 || m["scores"].([]any)[0].(map[string]any)["model_id"] != fit.ID.String() {
		t.Errorf("lead stats JSON: %s", r.body)
	}
	schemas := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)["components"].(map[string]any)["schemas"].(map[string]any)
	conforms(t, schemas, "LeadStats", m, "GET /api/v1/lead-stats")

	for _, role := range []string{leadcycle.RoleAdmin, leadcycle.RoleSalesManager, leadcycle.RoleReadonly} {
		if r := ts.do(t, "GET", "/api/v1/lead-stats", role, nil); r.status != 200 {
			t.Errorf("lead stats as %s: %d %s", role, r.status, r.body)
		}
	}
	for _, role := range []string{leadcycle.RoleTelesales, leadcycle.RoleSales} {
		problem(t, ts.do(t, "GET", "/api/v1/lead-stats", role, nil), 403, "")
	}
	problem(t, ts.do(t, "GET", "/api/v1/lead-stats", "", nil), 401, "")
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
