package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/leadcycle/leadcycle"
	"github.com/leadcycle/leadcycle/web"
)

// fitModel is a valid scoring model: 5 points for a CTO, 10 for opening an
// email in the last 30 days; sales ready at 15.
func fitModel(name string) map[string]any {
	return map[string]any{
		"name": name,
		"rules": []map[string]any{
			{"name": "CTO", "points": 5, "conditions": []string{`contact.job_title == "CTO"`}},
			{"name": "Opened an email", "points": 10, "behaviors": []map[string]any{{"type": "email_opened", "frequency": "at_least_once", "window_days": 30}}},
		},
		"grades":                []map[string]any{{"name": "A", "min": 15}, {"name": "B", "min": 5, "max": 14}, {"name": "C", "max": 4}},
		"sales_ready_threshold": 15,
	}
}

// problemFields returns the fields named by a problem document with the
// status, failing otherwise.
func problemFields(t *testing.T, r response, status int) []string {
	t.Helper()
	problem(t, r, status, "")
	var p web.Problem
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func hasFieldPrefix(fields []string, prefix string) bool {
	for _, f := range fields {
		if strings.HasPrefix(f, prefix) {
			return true
		}
	}
	return false
}

// processScores runs the store's scorer until nothing is due.
func (ts *testServer) processScores(t *testing.T) {
	t.Helper()
	for range 100 {
		n, err := ts.store.Scoring().ProcessDue(context.Background(), 500)
		if err != nil {
			t.Fatalf("ProcessDue: %v", err)
		}
		if n == 0 {
			return
		}
	}
	t.Fatal("the scorer is still busy after 100 rounds")
}

func TestScoringModelValidation(t *testing.T) {
	ts := newTestServer(t)
	post := func(body any) response {
		return ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleMarketer, body)
	}
	t.Run("overlapping grades", func(t *testing.T) {
		m := fitModel("Overlap")
		m["grades"] = []map[string]any{{"name": "A", "min": 50}, {"name": "B", "min": 20, "max": 60}}
		if fields := problemFields(t, post(m), 422); !hasFieldPrefix(fields, "grades[") {
			t.Errorf("errors name %v, want grades[i]", fields)
		}
	})
	t.Run("unknown field in a condition", func(t *testing.T) {
		m := fitModel("Unknown field")
		m["rules"] = []map[string]any{
			{"name": "ok", "points": 1, "conditions": []string{`contact.job_title == "CTO"`}},
			{"name": "shoe", "points": 3, "conditions": []string{`contact.custom.shoe_size > 40`}},
		}
		if fields := problemFields(t, post(m), 422); !hasFieldPrefix(fields, "rules[1].conditions[0]") {
			t.Errorf("errors name %v, want rules[1].conditions[0]", fields)
		}
	})
	t.Run("negative window", func(t *testing.T) {
		m := fitModel("Negative window")
		m["rules"] = []map[string]any{{"name": "opened", "points": 2, "behaviors": []map[string]any{{"type": "email_opened", "window_days": -3}}}}
		problem(t, post(m), 422, "rules[0].behaviors[0].window_days")
	})
	t.Run("unknown JSON field in a behavior", func(t *testing.T) {
		m := fitModel("Unknown key")
		m["rules"] = []map[string]any{{"name": "opened", "points": 2, "behaviors": []map[string]any{{"type": "email_opened"}, {"type": "page_view", "colour": "red"}}}}
		problem(t, post(m), 400, "rules[0].behaviors[1].colour")
	})
	t.Run("wrong type deep inside", func(t *testing.T) {
		m := fitModel("Wrong type")
		m["rules"] = []map[string]any{{"name": "opened", "points": 2, "behaviors": []map[string]any{{"type": "email_opened", "count": "many"}}}}
		problem(t, post(m), 400, "rules[0].behaviors[0].count")
	})
	t.Run("condition that is not a string", func(t *testing.T) {
		m := fitModel("Not a string")
		m["rules"] = []map[string]any{{"name": "x", "points": 2, "conditions": []any{`lead.source == "form"`, 7}}}
		problem(t, post(m), 400, "rules[0].conditions[1]")
	})
	for _, f := range []string{"status", "version", "rescore", "published_at", "previous_version_id", "stopped_at", "id"} {
		t.Run("read-only "+f, func(t *testing.T) {
			m := fitModel("Read-only " + f)
			m[f] = nil
			problem(t, post(m), 400, f)
		})
	}
	if n := ts.count(t, "scoring-models"); n != 0 {
		t.Errorf("%d scoring models stored after rejected creates", n)
	}
}

func TestScoringModelLifecycle(t *testing.T) {
	ts := newTestServer(t)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Acme"})
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "cto@acme.com", "job_title": "CTO", "account_id": acc})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Demo", "contact_id": contact})
	orphan := ts.mustCreate(t, "leads", map[string]any{"topic": "Walk-in", "source": "manual"})

	r := ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleMarketer, fitModel("Fit"))
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	m := r.json(t)
	v1 := m["id"].(string)
	if m["status"] != "draft" || m["version"] != float64(1) || m["key"] != "fit" || r.header.Get("Location") != "/api/v1/scoring-models/"+v1 {
		t.Fatalf("created model: %s (Location %q)", r.body, r.header.Get("Location"))
	}

	// A draft is edited in place.
	r = ts.do(t, "PATCH", "/api/v1/scoring-models/"+v1, leadcycle.RoleMarketer, `{"description": "Fit and engagement"}`)
	if r.status != 200 || r.json(t)["id"] != v1 || r.json(t)["description"] != "Fit and engagement" || r.json(t)["version"] != float64(1) {
		t.Fatalf("patch draft: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "PATCH", "/api/v1/scoring-models/"+v1, leadcycle.RoleMarketer, `{"rules": [{"name": "x", "points": 0, "conditions": ["lead.source == \"form\""]}]}`), 422, "rules[0].points")
	problem(t, ts.do(t, "PATCH", "/api/v1/scoring-models/"+v1, leadcycle.RoleMarketer, `{"status": "live"}`), 400, "status")

	// The email is opened; the model is published; the rescore scores the lead.
	r = ts.do(t, "POST", "/api/v1/interactions/batch", leadcycle.RoleMarketer, map[string]any{"items": []map[string]any{
		{"type": "email_opened", "contact_id": contact, "lead_id": lead, "properties": map[string]any{"email_id": "7"}},
	}})
	if r.status != 201 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	opened := r.json(t)["items"].([]any)[0].(map[string]any)["id"].(string)

	r = ts.do(t, "POST", "/api/v1/scoring-models/"+v1+"/publish", leadcycle.RoleMarketer, nil)
	if r.status != 202 {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	m = r.json(t)
	if m["status"] != "live" || m["published_at"] == nil || m["rescore"].(map[string]any)["state"] != "running" {
		t.Fatalf("published model: %s", r.body)
	}
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+v1+"/publish", leadcycle.RoleMarketer, nil), 409, "")
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+v1+"/publish", leadcycle.RoleMarketer, `{"force": true}`), 400, "force")
	ts.processScores(t)

	r = ts.do(t, "GET", "/api/v1/leads/"+lead+"/scores", leadcycle.RoleSales, nil)
	if r.status != 200 {
		t.Fatalf("lead scores: %d %s", r.status, r.body)
	}
	scores := r.json(t)["items"].([]any)
	if len(scores) != 1 {
		t.Fatalf("lead scores: %s", r.body)
	}
	d := scores[0].(map[string]any)
	if d["model_id"] != v1 || d["score"] != float64(15) || d["grade"] != "A" || len(d["rules"].([]any)) != 2 {
		t.Fatalf("lead score: %s", r.body)
	}
	for _, rc := range d["rules"].([]any) {
		rc := rc.(map[string]any)
		if rc["rule"] == "Opened an email" && (rc["points"] != float64(10) || fmt.Sprint(rc["interaction_ids"]) != "["+opened+"]") {
			t.Errorf("the email rule is not explained: %v", rc)
		}
	}
	if l := ts.do(t, "GET", "/api/v1/leads/"+lead, leadcycle.RoleSales, nil).json(t); l["sales_ready"] != true || len(l["scores"].([]any)) != 1 {
		t.Errorf("lead after scoring: %v", l)
	}
	r = ts.do(t, "GET", "/api/v1/leads/"+lead+"/score-history", leadcycle.RoleReadonly, nil)
	if r.status != 200 || len(r.json(t)["items"].([]any)) == 0 {
		t.Fatalf("score history: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/api/v1/leads/"+lead+"/score-history?limit=1", leadcycle.RoleReadonly, nil); len(r.json(t)["items"].([]any)) != 1 {
		t.Errorf("score history limit=1: %s", r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/leads/"+lead+"/score-history?sort=at", leadcycle.RoleReadonly, nil), 422, "sort")
	problem(t, ts.do(t, "GET", "/api/v1/leads/"+lead+"/score-history?limit=0", leadcycle.RoleReadonly, nil), 422, "limit")
	problem(t, ts.do(t, "GET", "/api/v1/leads/987654/scores", leadcycle.RoleReadonly, nil), 404, "")
	problem(t, ts.do(t, "GET", "/api/v1/leads/987654/score-history", leadcycle.RoleReadonly, nil), 404, "")
	if r := ts.do(t, "GET", "/api/v1/leads/"+orphan+"/scores", leadcycle.RoleReadonly, nil); r.status != 200 || len(r.json(t)["items"].([]any)) != 0 {
		t.Errorf("scores of an unscored lead: %d %s", r.status, r.body)
	}

	// Salespeople see only sales-ready leads, so they may not list
	// unscorable ones (never sales ready); a sales manager may.
	problem(t, ts.do(t, "GET", "/api/v1/scoring-models/"+v1+"/unscorable-leads", leadcycle.RoleSales, nil), 403, "")
	r = ts.do(t, "GET", "/api/v1/scoring-models/"+v1+"/unscorable-leads", leadcycle.RoleSalesManager, nil)
	if r.status != 200 {
		t.Fatalf("unscorable leads: %d %s", r.status, r.body)
	}
	if items := r.json(t)["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != orphan {
		t.Errorf("unscorable leads: %s", r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/scoring-models/987654/unscorable-leads", leadcycle.RoleSalesManager, nil), 404, "")

	// Editing the live model makes version 2, a draft; version 1 stays live and unchanged.
	r = ts.do(t, "PATCH", "/api/v1/scoring-models/"+v1, leadcycle.RoleMarketer, `{"sales_ready_threshold": 30, "rules": [{"name": "CTO", "points": 40, "conditions": ["contact.job_title == \"CTO\""]}]}`)
	if r.status != 201 {
		t.Fatalf("patch live: %d %s", r.status, r.body)
	}
	m = r.json(t)
	v2 := m["id"].(string)
	if v2 == v1 || m["status"] != "draft" || m["version"] != float64(2) || m["previous_version_id"] != v1 || m["key"] != "fit" ||
		m["sales_ready_threshold"] != float64(30) || len(m["rules"].([]any)) != 1 || m["grades"] == nil || len(m["grades"].([]any)) != 3 {
		t.Fatalf("new version: %s", r.body)
	}
	if r.header.Get("Location") != "/api/v1/scoring-models/"+v2 {
		t.Errorf("Location = %q", r.header.Get("Location"))
	}
	if old := ts.do(t, "GET", "/api/v1/scoring-models/"+v1, leadcycle.RoleReadonly, nil).json(t); old["status"] != "live" || old["sales_ready_threshold"] != float64(15) || len(old["rules"].([]any)) != 2 {
		t.Fatalf("the live version changed: %v", old)
	}
	problem(t, ts.do(t, "PATCH", "/api/v1/scoring-models/"+v1, leadcycle.RoleMarketer, `{"description": "another"}`), 409, "")
	r = ts.do(t, "PATCH", "/api/v1/scoring-models/"+v2, leadcycle.RoleMarketer, `{"description": "v2"}`)
	if r.status != 200 || r.json(t)["id"] != v2 {
		t.Fatalf("patch the new draft: %d %s", r.status, r.body)
	}
	if r := ts.do(t, "GET", "/api/v1/scoring-models?key=fit&sort=-created_at", leadcycle.RoleReadonly, nil); len(r.json(t)["items"].([]any)) != 2 {
		t.Errorf("versions of fit: %s", r.body)
	}
	if r := ts.do(t, "GET", "/api/v1/scoring-models?status=draft", leadcycle.RoleReadonly, nil); len(r.json(t)["items"].([]any)) != 1 {
		t.Errorf("drafts: %s", r.body)
	}

	// A preview of the draft scores the lead without storing anything.
	r = ts.do(t, "GET", "/api/v1/scoring-models/"+v2+"/preview?lead_id="+lead, leadcycle.RoleReadonly, nil)
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	if p := r.json(t); p["score"] != float64(40) || p["model_id"] != v2 || p["model_status"] != "draft" {
		t.Errorf("preview: %s", r.body)
	}
	problem(t, ts.do(t, "GET", "/api/v1/scoring-models/"+v2+"/preview", leadcycle.RoleReadonly, nil), 422, "lead_id")
	problem(t, ts.do(t, "GET", "/api/v1/scoring-models/"+v2+"/preview?lead_id=x", leadcycle.RoleReadonly, nil), 422, "lead_id")
	problem(t, ts.do(t, "GET", "/api/v1/scoring-models/"+v2+"/preview?lead_id=1&at=now", leadcycle.RoleReadonly, nil), 422, "at")
	problem(t, ts.do(t, "GET", "/api/v1/scoring-models/"+v2+"/preview?lead_id=987654", leadcycle.RoleReadonly, nil), 404, "")
	if r := ts.do(t, "GET", "/api/v1/leads/"+lead+"/scores", leadcycle.RoleReadonly, nil); len(r.json(t)["items"].([]any)) != 1 {
		t.Errorf("the preview stored a score: %s", r.body)
	}

	// Publishing version 2 stops version 1.
	if r := ts.do(t, "POST", "/api/v1/scoring-models/"+v2+"/publish", leadcycle.RoleMarketer, "{}"); r.status != 202 {
		t.Fatalf("publish v2: %d %s", r.status, r.body)
	}
	if old := ts.do(t, "GET", "/api/v1/scoring-models/"+v1, leadcycle.RoleReadonly, nil).json(t); old["status"] != "stopped" {
		t.Errorf("v1 after publishing v2: %v", old["status"])
	}
	ts.processScores(t)
	problem(t, ts.do(t, "DELETE", "/api/v1/scoring-models/"+v2, leadcycle.RoleMarketer, nil), 409, "")
	if r := ts.do(t, "DELETE", "/api/v1/scoring-models/"+v1, leadcycle.RoleMarketer, nil); r.status != 204 {
		t.Fatalf("delete stopped v1: %d %s", r.status, r.body)
	}
}

func TestScoringModelStop(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "ana@example.gal", "job_title": "CTO"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Demo", "contact_id": contact})
	live := func(name string) string {
		id := ts.mustCreate(t, "scoring-models", fitModel(name))
		if r := ts.do(t, "POST", "/api/v1/scoring-models/"+id+"/publish", leadcycle.RoleMarketer, nil); r.status != 202 {
			t.Fatalf("publish: %d %s", r.status, r.body)
		}
		return id
	}
	keep, clear := live("Keep"), live("Clear")
	ts.processScores(t)
	scoreOf := func(model string) any {
		r := ts.do(t, "GET", "/api/v1/leads/"+lead+"/scores", leadcycle.RoleReadonly, nil)
		for _, d := range r.json(t)["items"].([]any) {
			if d := d.(map[string]any); d["model_id"] == model {
				return d["score"]
			}
		}
		return nil
	}
	if scoreOf(keep) != float64(5) || scoreOf(clear) != float64(5) {
		t.Fatalf("scores before stopping: keep %v, clear %v", scoreOf(keep), scoreOf(clear))
	}

	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+keep+"/stop", leadcycle.RoleMarketer, `{"scores": "forget"}`), 422, "scores")
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+keep+"/stop", leadcycle.RoleMarketer, `{"scores": true}`), 422, "scores")
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+keep+"/stop", leadcycle.RoleMarketer, `{"keep": true}`), 400, "keep")
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+keep+"/stop", leadcycle.RoleSales, nil), 403, "")

	// No body: the scores are kept.
	r := ts.do(t, "POST", "/api/v1/scoring-models/"+keep+"/stop", leadcycle.RoleMarketer, nil)
	if r.status != 200 || r.json(t)["status"] != "stopped" || r.json(t)["stopped_at"] == nil {
		t.Fatalf("stop: %d %s", r.status, r.body)
	}
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+keep+"/stop", leadcycle.RoleMarketer, nil), 409, "")
	r = ts.do(t, "POST", "/api/v1/scoring-models/"+clear+"/stop", leadcycle.RoleMarketer, `{"scores": "clear"}`)
	if r.status != 200 || r.json(t)["status"] != "stopped" {
		t.Fatalf("stop and clear: %d %s", r.status, r.body)
	}
	ts.processScores(t)
	if got := scoreOf(keep); got != float64(5) {
		t.Errorf("kept score = %v, want 5", got)
	}
	if got := scoreOf(clear); got != nil {
		t.Errorf("cleared score = %v, want none", got)
	}
	// A stopped model is edited into a new draft too.
	if r := ts.do(t, "PATCH", "/api/v1/scoring-models/"+keep, leadcycle.RoleMarketer, `{"name": "Keep 2"}`); r.status != 201 || r.json(t)["status"] != "draft" {
		t.Errorf("patch stopped: %d %s", r.status, r.body)
	}
}

func TestScoringRoles(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "a@b.es"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "t", "contact_id": contact})
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleSales, fitModel("Sales")), 403, "")
	problem(t, ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleReadonly, fitModel("Readonly")), 403, "")
	r := ts.do(t, "POST", "/api/v1/scoring-models", leadcycle.RoleMarketer, fitModel("Marketing"))
	if r.status != 201 {
		t.Fatalf("marketer create: %d %s", r.status, r.body)
	}
	id := r.json(t)["id"].(string)
	for _, role := range []string{leadcycle.RoleSales, leadcycle.RoleTelesales, leadcycle.RoleSalesManager, leadcycle.RoleReadonly} {
		problem(t, ts.do(t, "PATCH", "/api/v1/scoring-models/"+id, role, `{"name": "x"}`), 403, "")
		problem(t, ts.do(t, "POST", "/api/v1/scoring-models/"+id+"/publish", role, nil), 403, "")
		problem(t, ts.do(t, "DELETE", "/api/v1/scoring-models/"+id, role, nil), 403, "")
		paths := []string{"/api/v1/scoring-models/" + id, "/api/v1/scoring-models/" + id + "/preview?lead_id=" + lead}
		if role == leadcycle.RoleSales || role == leadcycle.RoleTelesales {
			// The lead is neither sales nor telesales ready.
			problem(t, ts.do(t, "GET", "/api/v1/leads/"+lead+"/scores", role, nil), 403, "")
		} else {
			paths = append(paths, "/api/v1/leads/"+lead+"/scores")
		}
		for _, path := range paths {
			if r := ts.do(t, "GET", path, role, nil); r.status != 200 {
				t.Errorf("GET %s as %s: %d %s", path, role, r.status, r.body)
			}
		}
	}
	problem(t, ts.do(t, "POST", "/api/v1/interactions/batch", leadcycle.RoleReadonly, map[string]any{"items": []map[string]any{{"type": "page_view", "contact_id": contact}}}), 403, "")
	if r := ts.do(t, "POST", "/api/v1/scoring-models/"+id+"/publish", leadcycle.RoleMarketer, nil); r.status != 202 {
		t.Fatalf("marketer publish: %d %s", r.status, r.body)
	}

	// Every scoring route is registered with its permission.
	want := map[string]leadcycle.Permission{
		"GET /api/v1/scoring-models":                       "scoring-models:read",
		"POST /api/v1/scoring-models":                      "scoring-models:write",
		"GET /api/v1/scoring-models/{id}":                  "scoring-models:read",
		"PATCH /api/v1/scoring-models/{id}":                "scoring-models:write",
		"DELETE /api/v1/scoring-models/{id}":               "scoring-models:delete",
		"POST /api/v1/scoring-models/{id}/publish":         "scoring-models:publish",
		"POST /api/v1/scoring-models/{id}/stop":            "scoring-models:publish",
		"GET /api/v1/scoring-models/{id}/unscorable-leads": "leads:read_all",
		"GET /api/v1/scoring-models/{id}/preview":          "scoring-models:read",
		"GET /api/v1/leads/{id}/scores":                    "leads:read",
		"GET /api/v1/leads/{id}/score-history":             "leads:read",
		"POST /api/v1/interactions/batch":                  "interactions:write",
	}
	for _, rt := range ts.web.Routes() {
		key := rt.Method + " " + rt.Path
		if perm, ok := want[key]; ok {
			if rt.Perm != perm {
				t.Errorf("%s needs %q, want %q", key, rt.Perm, perm)
			}
			delete(want, key)
		}
	}
	for key := range want {
		t.Errorf("route %s is not registered", key)
	}
}

func TestInteractionsBatch(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "a@b.es"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "t", "contact_id": contact})
	post := func(body any) response {
		return ts.do(t, "POST", "/api/v1/interactions/batch", leadcycle.RoleTelesales, body)
	}
	r := post(map[string]any{"items": []map[string]any{
		{"type": "email_opened", "contact_id": contact, "lead_id": lead, "properties": map[string]any{"email_id": "1"}},
		{"type": "page_view", "contact_id": contact, "occurred_at": "2026-01-02T03:04:05Z", "properties": map[string]any{"url": "https://example.com/pricing"}},
		{"type": "custom:webinar_watched", "contact_id": contact},
	}})
	if r.status != 201 {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	items := r.json(t)["items"].([]any)
	if len(items) != 3 {
		t.Fatalf("batch answered %d items: %s", len(items), r.body)
	}
	for i, it := range items {
		it := it.(map[string]any)
		id, _ := it["id"].(string)
		if id == "" || id == "0" {
			t.Fatalf("item %d has no id: %s", i, r.body)
		}
		if got := ts.do(t, "GET", "/api/v1/interactions/"+id, leadcycle.RoleReadonly, nil).json(t); got["type"] != it["type"] || got["contact_id"] != contact {
			t.Errorf("stored item %d: %v", i, got)
		}
	}
	if items[1].(map[string]any)["occurred_at"] != "2026-01-02T03:04:05Z" {
		t.Errorf("occurred_at: %v", items[1])
	}
	before := ts.count(t, "interactions")

	ok := map[string]any{"type": "page_view", "contact_id": contact}
	cases := []struct {
		name   string
		body   any
		status int
		field  string
	}{
		{"unknown field in an item", map[string]any{"items": []any{ok, map[string]any{"type": "page_view", "contact_id": contact, "colour": "red"}}}, 400, "items[1].colour"},
		{"wrong type in an item", map[string]any{"items": []any{ok, ok, ok, map[string]any{"type": 5, "contact_id": contact}}}, 400, "items[3].type"},
		{"id as a number", map[string]any{"items": []any{map[string]any{"type": "page_view", "contact_id": 12}}}, 400, "items[0].contact_id"},
		{"bad time", map[string]any{"items": []any{ok, map[string]any{"type": "page_view", "contact_id": contact, "occurred_at": "yesterday"}}}, 400, "items[1].occurred_at"},
		{"read-only id", map[string]any{"items": []any{map[string]any{"id": "4", "type": "page_view", "contact_id": contact}}}, 400, "items[0].id"},
		{"item not an object", map[string]any{"items": []any{ok, "page_view"}}, 400, "items[1]"},
		{"invalid type", map[string]any{"items": []any{ok, map[string]any{"type": "telepathy", "contact_id": contact}}}, 422, "items[1].type"},
		{"missing contact", map[string]any{"items": []any{ok, ok, map[string]any{"type": "page_view", "contact_id": "987654"}}}, 422, "items[2].contact_id"},
		{"no contact", map[string]any{"items": []any{map[string]any{"type": "page_view"}}}, 422, "items[0].contact_id"},
		{"no items", map[string]any{"items": []any{}}, 422, "items"},
		{"items missing", map[string]any{}, 422, "items"},
		{"items not an array", map[string]any{"items": ok}, 400, "items"},
		{"unknown top-level field", map[string]any{"items": []any{ok}, "atomic": true}, 400, "atomic"},
		{"too many", map[string]any{"items": func() []any {
			out := make([]any, 1001)
			for i := range out {
				out[i] = ok
			}
			return out
		}()}, 422, "items"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { problem(t, post(c.body), c.status, c.field) })
	}
	if got := ts.count(t, "interactions"); got != before {
		t.Errorf("%d interactions after rejected batches, want %d: a batch is all or nothing", got, before)
	}
}

// TestScoringSchemas checks that the OpenAPI schemas of the scoring records
// describe exactly the JSON the API returns.
func TestScoringSchemas(t *testing.T) {
	ts := newTestServer(t)
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "cto@acme.com", "job_title": "CTO"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Demo", "contact_id": contact})
	model := ts.mustCreate(t, "scoring-models", fitModel("Fit"))
	ts.do(t, "POST", "/api/v1/scoring-models/"+model+"/publish", leadcycle.RoleMarketer, nil)
	ts.processScores(t)

	doc := ts.do(t, "GET", "/api/openapi.json", "", nil).json(t)
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	props := func(name string) map[string]any {
		t.Helper()
		s, ok := schemas[name].(map[string]any)
		if !ok {
			t.Fatalf("no schema %s", name)
		}
		return s["properties"].(map[string]any)
	}
	same := func(name string, body map[string]any) {
		t.Helper()
		if got, want := keys(body), keys(props(name)); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("schema %s has properties %v; the API returns %v", name, want, got)
		}
	}
	m := ts.do(t, "GET", "/api/v1/scoring-models/"+model, leadcycle.RoleReadonly, nil).json(t)
	same("ScoringModel", m)
	same("RescoreProgress", m["rescore"].(map[string]any))
	rule := m["rules"].([]any)[1].(map[string]any)
	same("ScoringRule", rule)
	same("Behavior", rule["behaviors"].([]any)[0].(map[string]any))
	same("Grade", m["grades"].([]any)[0].(map[string]any))
	scores := ts.do(t, "GET", "/api/v1/leads/"+lead+"/scores", leadcycle.RoleReadonly, nil).json(t)["items"].([]any)
	if len(scores) != 1 {
		t.Fatalf("lead scores: %v", scores)
	}
	same("LeadScoreDetail", scores[0].(map[string]any))
	same("RuleContribution", scores[0].(map[string]any)["rules"].([]any)[0].(map[string]any))
	history := ts.do(t, "GET", "/api/v1/leads/"+lead+"/score-history", leadcycle.RoleReadonly, nil).json(t)["items"].([]any)
	if len(history) == 0 {
		t.Fatal("no score history")
	}
	same("ScoreChange", history[0].(map[string]any))

	for _, f := range []string{"id", "version", "status", "previous_version_id", "rescore", "published_at", "stopped_at", "created_at", "updated_at"} {
		if p := props("ScoringModel")[f].(map[string]any); p["readOnly"] != true && p["$ref"] == nil {
			t.Errorf("ScoringModel.%s is not read-only in the schema", f)
		}
	}
	if p := props("ScoringModel")["name"].(map[string]any); p["readOnly"] == true {
		t.Errorf("ScoringModel.name is read-only in the schema")
	}
	if p := props("Lead")["status"].(map[string]any); p["readOnly"] == true {
		t.Errorf("Lead.status became read-only")
	}
	patch := doc["paths"].(map[string]any)["/api/v1/scoring-models/{id}"].(map[string]any)["patch"].(map[string]any)
	if _, ok := patch["responses"].(map[string]any)["201"]; !ok {
		t.Errorf("PATCH of a scoring model does not document the 201 of a new version")
	}
	if r := ts.do(t, "GET", "/api/v1/scoring-models/"+model, leadcycle.RoleReadonly, nil); r.status != http.StatusOK {
		t.Fatal(r.status)
	}
}

// TestScoringInRealTime runs the workers that serve starts and checks that an
// interaction posted to the API shows up in the lead's score and marks it
// sales ready with no other step. The loop polls with a generous bound: it
// asserts that scoring happens by itself, not how fast (bench/scoring does).
func TestScoringInRealTime(t *testing.T) {
	ts := newTestServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ts.web.RunWorkers(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "cto@example.org", "job_title": "CTO"})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "Real time", "contact_id": contact})
	model := ts.mustCreate(t, "scoring-models", fitModel("Real time"))
	if r := ts.do(t, "POST", "/api/v1/scoring-models/"+model+"/publish", leadcycle.RoleMarketer, nil); r.status != http.StatusAccepted {
		t.Fatalf("publish: %d %s", r.status, r.body)
	}
	waitFor := func(what string, ok func(l leadcycle.Lead) bool) {
		t.Helper()
		var l leadcycle.Lead
		for range 200 {
			r := ts.do(t, "GET", "/api/v1/leads/"+lead, leadcycle.RoleAdmin, nil)
			if err := json.Unmarshal(r.body, &l); err != nil {
				t.Fatal(err)
			}
			if ok(l) {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: lead is %+v", what, l)
	}
	waitFor("the publish rescore gives 5 for the CTO", func(l leadcycle.Lead) bool { return len(l.Scores) == 1 && l.Scores[0].Score == 5 })
	r := ts.do(t, "POST", "/api/v1/interactions/batch", leadcycle.RoleMarketer, map[string]any{"items": []map[string]any{{"type": "email_opened", "contact_id": contact}}})
	if r.status != http.StatusCreated {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	waitFor("the open adds 10 and marks the lead sales ready", func(l leadcycle.Lead) bool {
		return len(l.Scores) == 1 && l.Scores[0].Score == 15 && l.Scores[0].Grade == "A" && l.SalesReady
	})
	metrics := string(ts.do(t, "GET", "/metrics", "", nil).body)
	for _, m := range []string{"leadcycle_scoring_leads_total ", "leadcycle_scoring_lag_p99_seconds ", "leadcycle_scoring_lag_max_seconds ",
		"leadcycle_writer_turns_total ", "leadcycle_writer_wait_seconds_total ", "leadcycle_writer_held_seconds_total "} {
		if !strings.Contains(metrics, m) {
			t.Errorf("/metrics has no %s", m)
		}
	}
	if strings.Contains(metrics, "leadcycle_scoring_leads_total 0\n") {
		t.Error("/metrics counts no rescored leads after scoring")
	}
	for _, m := range []string{"leadcycle_writer_turns_total 0\n", "leadcycle_writer_held_seconds_total 0\n"} {
		if strings.Contains(metrics, m) {
			t.Errorf("/metrics has %q after the writes of the test", strings.TrimSpace(m))
		}
	}
}
