package web_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/leadcycle/leadcycle"
)

// TestOpenAPIDescribesEveryRoute fails when a route is registered without
// documentation or documented without a route, and when a record's JSON has
// fields its schema does not describe (or the reverse).
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	ts := newTestServer(t)
	r := ts.do(t, "GET", "/api/openapi.json", "", nil)
	if r.status != 200 {
		t.Fatalf("openapi.json: %d", r.status)
	}
	doc := r.json(t)
	if doc["openapi"] != "3.1.0" {
		t.Fatalf("openapi = %v", doc["openapi"])
	}
	paths := doc["paths"].(map[string]any)
	documented := map[string]bool{}
	for p, item := range paths {
		for m, op := range item.(map[string]any) {
			documented[strings.ToUpper(m)+" "+p] = true
			o := op.(map[string]any)
			if o["summary"] == "" || o["responses"] == nil || o["operationId"] == "" {
				t.Errorf("%s %s: incomplete operation", m, p)
			}
		}
	}
	registered := map[string]bool{}
	for _, rt := range ts.web.Routes() {
		key := rt.Method + " " + rt.Path
		registered[key] = true
		if !documented[key] {
			t.Errorf("route %s is not in /api/openapi.json", key)
		}
	}
	for key := range documented {
		if !registered[key] {
			t.Errorf("/api/openapi.json documents %s, which is not a route", key)
		}
	}

	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	acc := ts.mustCreate(t, "accounts", map[string]any{"name": "Acme"})
	contact := ts.mustCreate(t, "contacts", map[string]any{"email": "a@acme.com", "account_id": acc})
	lead := ts.mustCreate(t, "leads", map[string]any{"topic": "t", "contact_id": contact})
	records := map[string]string{
		"Account":     "/api/v1/accounts/" + acc,
		"Contact":     "/api/v1/contacts/" + contact,
		"Lead":        "/api/v1/leads/" + lead,
		"Opportunity": "/api/v1/opportunities/" + ts.mustCreate(t, "opportunities", map[string]any{"name": "o", "lead_id": lead}),
		"Interaction": "/api/v1/interactions/" + ts.mustCreate(t, "interactions", map[string]any{"type": "page_view", "contact_id": contact}),
		"Task":        "/api/v1/tasks/" + ts.mustCreate(t, "tasks", map[string]any{"title": "Call", "queue": "telesales"}),
		"Field":       "/api/v1/fields/" + ts.mustCreate(t, "fields", map[string]any{"entity": "lead", "name": "budget", "type": "number"}),
	}
	for name, path := range records {
		body := ts.do(t, "GET", path, leadcycle.RoleAdmin, nil).json(t)
		props := schemas[name].(map[string]any)["properties"].(map[string]any)
		if got, want := keys(body), keys(props); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("schema %s has properties %v; the API returns %v", name, want, got)
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
